"""Tune BRNet's learning rate and width with GridSearchCV and the element-count stratified CV.

Run: ``python examples/grid_search.py [--quick]``. The featurizer output is cached with
``Pipeline(memory=...)``, so each training fold is featurized once for all candidates.
"""

from __future__ import annotations

import argparse
import tempfile

import pandas as pd
from joblib import Memory
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skmatnet import (
    BRNetRegressor,
    ElementCountStratifiedKFold,
    ElementFractionTransformer,
    load_dataset,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 rows, 3 epochs")
    args = parser.parse_args()

    data = load_dataset("jarvis_formation_energy")
    if args.quick:
        data = data.sample(2000, random_state=0)
    net = BRNetRegressor(max_epochs=3 if args.quick else 50, batch_size=128, random_state=0,
                         module__stage_layers=(2, 2, 1))
    with tempfile.TemporaryDirectory() as cache:
        model = Pipeline([("ef", ElementFractionTransformer()), ("net", net)],
                         memory=Memory(cache, verbose=0))
        search = GridSearchCV(
            model,
            {"net__lr": [1e-3, 3e-3],
             "net__module__stage_widths": [(64, 32, 16), (128, 64, 32)]},
            cv=ElementCountStratifiedKFold(n_splits=3, random_state=0),
            scoring="neg_mean_absolute_error",
        )
        search.fit(data["formula"], data["target"])
    results = pd.DataFrame(search.cv_results_)[["params", "mean_test_score", "mean_fit_time"]]
    results["mean_test_MAE"] = -results.pop("mean_test_score")
    print(results.sort_values("mean_test_MAE").to_string(index=False))
    print("best:", search.best_params_)


if __name__ == "__main__":
    main()
