"""
Tune BRNet with GridSearchCV
============================

A grid over BRNet's learning rate and width, scored by cross-validation that keeps the share
of binaries, ternaries and so on equal in every fold
(:class:`~skmatnet.ElementCountStratifiedKFold`). The featurized folds are cached, so each
is computed once for all candidates.
"""

# %%
# Settings: the gallery searches on 2,000 compositions with 3 epochs per fit. Full:
# ``python examples/training/grid_search.py --full`` uses all compositions and 50 epochs.
import sys

FULL = "--full" in sys.argv[1:]
ROWS, EPOCHS = (None, 50) if FULL else (2000, 3)

# %%
# The search. ``Pipeline(memory=...)`` caches the featurizer's output per training fold.
import tempfile

from joblib import Memory
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skmatnet import (
    BRNetRegressor,
    ElementCountStratifiedKFold,
    ElementFractionTransformer,
    load_dataset,
)

data = load_dataset("jarvis_formation_energy")
if ROWS:
    data = data.sample(ROWS, random_state=0)
net = BRNetRegressor(max_epochs=EPOCHS, batch_size=128, random_state=0,
                     module__stage_layers=(2, 2, 1))
grid = {"net__lr": [1e-3, 3e-3],
        "net__module__stage_widths": [(64, 32, 16), (128, 64, 32)]}
with tempfile.TemporaryDirectory() as cache:
    model = Pipeline([("ef", ElementFractionTransformer()), ("net", net)],
                     memory=Memory(cache, verbose=0))
    search = GridSearchCV(model, grid, cv=ElementCountStratifiedKFold(n_splits=3, random_state=0),
                          scoring="neg_mean_absolute_error")
    search.fit(data["formula"], data["target"])

# %%
# The results, best first. ``search.best_estimator_`` is refitted on all the rows.
import matplotlib.pyplot as plt
import pandas as pd

results = pd.DataFrame(search.cv_results_)
results["MAE"] = -results["mean_test_score"]
results["widths"] = results["param_net__module__stage_widths"].astype(str)
print(results[["param_net__lr", "widths", "MAE", "std_test_score", "mean_fit_time"]]
      .sort_values("MAE").to_string(index=False, float_format=lambda v: f"{v:.4g}"))
print("best:", search.best_params_)

fig, ax = plt.subplots(figsize=(6, 3.5))
for i, (widths, rows) in enumerate(results.groupby("widths", sort=False)):
    ax.bar([f"lr {lr:g}\n{widths}" for lr in rows["param_net__lr"]], rows["MAE"],
           yerr=rows["std_test_score"], color=f"C{i}", capsize=3)
ax.set_ylabel("cross-validated MAE (eV/atom)")
fig.tight_layout()
