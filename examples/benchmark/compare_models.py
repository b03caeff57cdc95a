"""
Networks against classic machine learning
=========================================

A small benchmark on one split: a classic model, a forest of extra trees, against ElemNet and
BRNet, with their test MAE, training time and size in one bubble chart, as in Figure 2 of the
BRNet paper.
"""

# %%
# Settings: the gallery uses 6,000 compositions, 100 trees and small networks of 3 seconds
# each. Full: ``python examples/benchmark/compare_models.py --full`` uses all 26,741 rows,
# 300 trees and the default-size networks for 300 s each.
import sys

FULL = "--full" in sys.argv[1:]
MAX_ROWS = None if FULL else 6000
N_TREES = 300 if FULL else 100
MAX_TIME = 300 if FULL else 3
ELEMNET = {} if FULL else {"module__widths": (256, 128, 64, 32)}
BRNET = {} if FULL else {"module__stage_widths": (128, 64, 32), "module__stage_layers": (2, 2, 1)}

# %%
# One split for every model, the BRNet protocol's 81:9:10. The networks keep the epoch that
# does best on the validation rows; the trees have nothing to pick, so they do not see them.
from skmatnet.benchmark import load_benchmark_data, make_split

data = load_benchmark_data("jarvis_formation_energy", max_rows=MAX_ROWS)
split = make_split(data, "brnet")
X_train, y_train = data.X[split.train], data.y[split.train]
X_val, y_val = data.X[split.val], data.y[split.val]
X_test, y_test = data.X[split.test], data.y[split.test]

# %%
# The models. Each network trains by the recommended recipe within its time budget; the trees
# use the benchmark grid's setting of a third of the features per split.
from sklearn.ensemble import ExtraTreesRegressor

from skmatnet import BRNetRegressor, ElemNetRegressor

models = {
    "extra trees": ExtraTreesRegressor(n_estimators=N_TREES, max_features=0.33, n_jobs=1,
                                       random_state=0),
    "elemnet": ElemNetRegressor(max_time=MAX_TIME, random_state=0, **ELEMNET),
    "brnet": BRNetRegressor(max_time=MAX_TIME, random_state=0, **BRNET),
}

# %%
# Train and score each one. The size is what the fitted model stores: weights for a network,
# tree nodes for the forest (:func:`~skmatnet.benchmark.count_model_parameters`).
import time

import pandas as pd
from sklearn.metrics import mean_absolute_error

from skmatnet.benchmark import count_model_parameters

# A process's first network fit also pays torch's one-time set-up; a one-epoch fit on a few
# rows pays it before the clocks start.
BRNetRegressor(max_epochs=1, random_state=0, **BRNET).fit(X_train[:256], y_train[:256])

rows = []
for name, model in models.items():
    start = time.perf_counter()
    if name == "extra trees":
        model.fit(X_train, y_train)
    else:
        model.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    seconds = time.perf_counter() - start
    rows.append({"model": name, "train_time_s": seconds,
                 "test_mae": mean_absolute_error(y_test, model.predict(X_test)),
                 "n_parameters": count_model_parameters(model)})
table = pd.DataFrame(rows)
print(f"{len(y_train):,} training, {len(y_val):,} validation, {len(y_test):,} test rows")
print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))

# %%
# The bubble chart: training time against test MAE, bubble area growing with the size.
# Lower is better, further left is cheaper.
import matplotlib.pyplot as plt

from skmatnet.benchmark.report import bubble_chart

fig, ax = plt.subplots(figsize=(7, 5))
bubble_chart(table, ax=ax, units="eV/atom",
             title=f"JARVIS formation energy, {len(y_train):,} training rows")
fig.tight_layout()
