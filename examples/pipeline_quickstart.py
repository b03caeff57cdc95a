"""Quick start: formulas in, formation energy out, with BRNet under the BRNet protocol.

Run: ``python examples/pipeline_quickstart.py [--quick]``. ``--quick`` trains a small BRNet
for a few epochs (seconds); without it the full-size BRNet trains up to 100 epochs.
"""

from __future__ import annotations

import argparse
import time

from sklearn.metrics import mean_absolute_error
from sklearn.pipeline import Pipeline

from skmatnet import (
    BRNetRegressor,
    ElementFractionTransformer,
    load_dataset,
    train_val_test_split,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small network, few epochs")
    args = parser.parse_args()

    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)  # lowest per comp.
    f_train, f_val, f_test, y_train, y_val, y_test = train_val_test_split(formulas, y)
    small = {"module__stage_widths": (128, 64, 32), "module__stage_layers": (2, 2, 1),
             "lr": 1e-3, "batch_size": 128}
    net = BRNetRegressor(max_epochs=5 if args.quick else 100, random_state=0, verbose=1,
                         **(small if args.quick else {}))
    model = Pipeline([("ef", ElementFractionTransformer()), ("net", net)])

    # The fixed 9% validation split drives early stopping; it must be featurized too.
    X_val = model.named_steps["ef"].transform(f_val)
    start = time.perf_counter()
    model.fit(f_train, y_train, net__X_val=X_val, net__y_val=y_val)
    print(f"trained {net.n_epochs_} epochs in {time.perf_counter() - start:.1f} s "
          f"(best epoch {net.best_epoch_})")
    print(f"test MAE: {mean_absolute_error(y_test, model.predict(f_test)):.3f} eV/atom "
          f"on {len(y_test):,} compounds")
    probe = ["Fe2O3", "NaCl", "Al2O3"]
    print("predictions (eV/atom):",
          {f: round(float(v), 3) for f, v in zip(probe, model.predict(probe), strict=False)})


if __name__ == "__main__":
    main()
