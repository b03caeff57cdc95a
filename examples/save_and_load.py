"""Save a trained pipeline with joblib and load it elsewhere (a GPU-trained model loads on CPU).

Run: ``python examples/save_and_load.py [--quick] [--path brnet.joblib]``.
joblib/pickle files run code when loaded: only load files you trust.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import joblib
import numpy as np
from sklearn.pipeline import Pipeline

from skmatnet import BRNetRegressor, ElementFractionTransformer, load_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small network, 3 epochs")
    parser.add_argument("--path", type=Path, default=None, help="where to save the model")
    args = parser.parse_args()

    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    params = {"max_epochs": 3, "batch_size": 128, "lr": 1e-3,
              "module__stage_widths": (64, 32, 16), "module__stage_layers": (2, 2, 1)}
    model = Pipeline([("ef", ElementFractionTransformer()),
                      ("net", BRNetRegressor(random_state=0, **(params if args.quick else {})))])
    model.fit(formulas, y)

    with tempfile.TemporaryDirectory() as folder:
        path = args.path or Path(folder) / "brnet.joblib"
        joblib.dump(model, path)
        print(f"saved {path} ({path.stat().st_size / 1e6:.1f} MB)")
        loaded = joblib.load(path)  # device="auto": maps to the CPU where there is no GPU
    probe = ["Fe2O3", "NaCl", "Li0.5CoO2"]
    same = np.array_equal(loaded.predict(probe), model.predict(probe))
    print("loaded model predicts", loaded.predict(probe).round(3), "identical:", same)


if __name__ == "__main__":
    main()
