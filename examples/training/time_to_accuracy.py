"""
Accuracy against training time
==============================

How good a BRNet a few seconds buy: the recommended recipe stretches its learning-rate schedule
over whatever time budget it is given, so every budget ends with an annealed model; the papers'
recipe, a constant rate, is drawn beside it for the longest budget.
"""

# %%
# Settings: the gallery trains a small BRNet on 6,000 compositions for 1, 2 and 3 seconds.
# Full: ``python examples/training/time_to_accuracy.py --full`` uses all 26,741 rows, the
# default-size network and budgets of 60, 180 and 600 s.
import sys

FULL = "--full" in sys.argv[1:]
MAX_ROWS = None if FULL else 6000
BUDGETS = (60, 180, 600) if FULL else (1, 2, 3)
NETWORK = {} if FULL else {"module__stage_widths": (128, 64, 32),
                           "module__stage_layers": (2, 2, 1)}

# %%
# The rows: JARVIS formation energies, one per composition, split 81:9:10 by the BRNet
# protocol. The validation part picks the epoch each fit keeps; the test part scores it.
from skmatnet.benchmark import load_benchmark_data, make_split

data = load_benchmark_data("jarvis_formation_energy", max_rows=MAX_ROWS)
split = make_split(data, "brnet")
X_train, y_train = data.X[split.train], data.y[split.train]
X_val, y_val = data.X[split.val], data.y[split.val]
X_test, y_test = data.X[split.test], data.y[split.test]
print(f"{len(y_train):,} training, {len(y_val):,} validation, {len(y_test):,} test rows")

# %%
# One fit per budget with the recommended recipe (the estimator's defaults), and one with the
# papers' recipe (Adam at a constant 1e-4, batch 32, the published width) at the longest
# budget. ``from_recipe`` keeps any parameter given explicitly, here the budget and, in the
# gallery, the smaller stages.
from skmatnet import BRNetRegressor

runs = {f"recommended, {budget} s": BRNetRegressor(max_time=budget, random_state=0, **NETWORK)
        for budget in BUDGETS}
runs[f"paper, {BUDGETS[-1]} s"] = BRNetRegressor.from_recipe(
    "paper", max_time=BUDGETS[-1], random_state=0, **NETWORK)
for net in runs.values():
    net.fit(X_train, y_train, X_val=X_val, y_val=y_val)

# %%
# What each fit did. The history has one row per epoch: ``dur`` is its wall-clock seconds
# (validation included) and ``valid_loss`` its validation MAE, since the loss is L1.
import numpy as np
from sklearn.metrics import mean_absolute_error

from skmatnet.nets import count_parameters

print(f"{'run':<18} {'weights':>8} {'epochs':>6} {'seconds':>7} {'val MAE':>8} {'test MAE':>8}")
for name, net in runs.items():
    seconds = float(np.sum(net.history[:, "dur"]))
    best_val = float(np.min(net.history[:, "valid_loss"]))
    test_mae = mean_absolute_error(y_test, net.predict(X_test))
    print(f"{name:<18} {count_parameters(net.module_):>8,} {net.n_epochs_:>6} {seconds:>7.1f} "
          f"{best_val:>8.4f} {test_mae:>8.4f}")

# %%
# The time-to-accuracy curves: the best validation MAE so far (the weights a fit would keep
# if it stopped there) against the seconds spent; a dot marks where each fit ended. A budget
# is wall-clock time, so the epochs it buys depend on the machine and on what else runs there.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 4.5))
for name, net in runs.items():
    seconds = np.cumsum(net.history[:, "dur"])
    best_so_far = np.minimum.accumulate(net.history[:, "valid_loss"])
    style = "--" if name.startswith("paper") else "-"
    (line,) = ax.plot(seconds, best_so_far, style, label=name)
    ax.plot(seconds[-1], best_so_far[-1], "o", color=line.get_color())
ax.set_xlabel("training time (s)")
ax.set_ylabel("best validation MAE so far (eV/atom)")
ax.set_title(f"BRNet on {len(y_train):,} JARVIS formation energies")
ax.grid(True, alpha=0.3)
ax.legend()
fig.tight_layout()
