"""Learn from a few hundred rows: pretrain on Materials Project, save, fine-tune on JARVIS.

Run: ``python examples/fine_tune.py [--quick]``. BRNet is pretrained on the
Materials Project formation energies (leaving out the JARVIS test
compositions), saved with ``save_model``, then fine-tuned on 300 JARVIS rows
with ``init_from=<the file>`` at a twentieth of the default rate, and compared with the same
network trained on those rows from scratch and with ExtraTrees, on the test
part of JARVIS's BRNet-protocol split. The full run pretrains for the 20-epoch
schedule (a few minutes on 2 cores); ``--quick`` pretrains on 8,000 rows for
4 epochs and builds an ensemble of three.

Afterwards, an ensemble of five fine-tuned networks gives each prediction a
spread, calibrated on held-out rows.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from sklearn.ensemble import ExtraTreesRegressor

from skmatnet import BRNetRegressor, MatNetEnsembleRegressor, metrics, save_model
from skmatnet.benchmark import load_benchmark_data, make_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short pretraining")
    args = parser.parse_args()

    jarvis = load_benchmark_data("jarvis_formation_energy")
    split = make_split(jarvis, "brnet")
    test = {row.tobytes() for row in jarvis.X[split.test]}
    mp = load_benchmark_data("mp_formation_energy", max_rows=8000 if args.quick else None)
    keep = np.array([row.tobytes() not in test for row in mp.X])

    pretrained = BRNetRegressor(max_epochs=4 if args.quick else 20, random_state=0)
    pretrained.fit(mp.X[keep], mp.y[keep])
    folder = Path(tempfile.mkdtemp())
    path = save_model(pretrained, folder / "brnet_mp.skmatnet")
    print(f"pretrained on {keep.sum():,} MP rows, saved to {path}")

    rows = np.random.default_rng(0).choice(split.train, size=300, replace=False)
    X, y = jarvis.X[rows], jarvis.y[rows]
    X_test, y_test = jarvis.X[split.test], jarvis.y[split.test]
    epochs = {"max_epochs": 30} if args.quick else {}
    models = {
        "fine-tuned BRNet": BRNetRegressor(init_from=str(path), lr=2e-4, random_state=0,
                                           **epochs),
        "BRNet from scratch": BRNetRegressor(random_state=0, **epochs),
        "ExtraTrees": ExtraTreesRegressor(n_estimators=300, random_state=0),
    }
    print(f"300 JARVIS training rows; test MAE on {len(y_test):,} rows (eV/atom):")
    for name, model in models.items():
        model.fit(X, y)
        print(f"{name:>20}: test MAE {np.mean(np.abs(model.predict(X_test) - y_test)):.4f}")

    # Fine-tuned members (five; three with --quick), their spread calibrated on 100 more rows.
    held = np.random.default_rng(1).choice(np.setdiff1d(split.train, rows), size=100,
                                           replace=False)
    members = 3 if args.quick else 5
    ensemble = MatNetEnsembleRegressor(models["fine-tuned BRNet"], n_estimators=members,
                                       calibrate=True, random_state=0)
    ensemble.fit(X, y, X_val=jarvis.X[held], y_val=jarvis.y[held])
    mean, std = ensemble.predict(X_test, return_std=True)
    print(f"{f'ensemble of {members}':>20}: test MAE {np.mean(np.abs(mean - y_test)):.4f}; 95% "
          f"intervals hold for {metrics.interval_coverage(y_test, mean, std):.1%} of the "
          f"test rows (spread x {ensemble.std_scale_:.2f} after calibration)")


if __name__ == "__main__":
    main()
