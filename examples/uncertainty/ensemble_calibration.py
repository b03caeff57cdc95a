"""
Error bars that hold: a calibrated ensemble
===========================================

Five BRNets that differ only by seed give each prediction a spread. The raw spread is not an
error bar; one factor fitted on held-out rows makes it one, which the calibration curve shows.
"""

# %%
# Settings: the gallery trains five small BRNets for 1.5 seconds each on 6,000 compositions.
# Full: ``python examples/uncertainty/ensemble_calibration.py --full`` uses all 26,741 rows and
# five default-size BRNets of 120 s each.
import sys

FULL = "--full" in sys.argv[1:]
MAX_ROWS = None if FULL else 6000
MEMBER = {"max_time": 120} if FULL else {
    "max_time": 1.5, "module__stage_widths": (128, 64, 32), "module__stage_layers": (2, 2, 1)}

# %%
# The rows: JARVIS formation energies under the BRNet protocol's 81:9:10 split. The
# validation rows do two jobs: each member keeps its best epoch on them, and the ensemble
# fits its spread factor on them. The test rows judge the result.
from skmatnet.benchmark import load_benchmark_data, make_split

data = load_benchmark_data("jarvis_formation_energy", max_rows=MAX_ROWS)
split = make_split(data, "brnet")
X_train, y_train = data.X[split.train], data.y[split.train]
X_val, y_val = data.X[split.val], data.y[split.val]
X_test, y_test = data.X[split.test], data.y[split.test]

# %%
# The ensemble: ``calibrate=True`` multiplies the members' standard deviation by the factor
# ``std_scale_`` that brings the validation rows' calibration curve closest to the diagonal.
from sklearn.metrics import mean_absolute_error

from skmatnet import BRNetRegressor, MatNetEnsembleRegressor

ensemble = MatNetEnsembleRegressor(BRNetRegressor(**MEMBER), n_estimators=5, calibrate=True,
                                   random_state=0)
ensemble.fit(X_train, y_train, X_val=X_val, y_val=y_val)
mean, std = ensemble.predict(X_test, return_std=True)
raw_std = std / ensemble.std_scale_
for i, member in enumerate(ensemble.estimators_, 1):
    print(f"member {i}: test MAE {mean_absolute_error(y_test, member.predict(X_test)):.4f} "
          f"eV/atom after {member.n_epochs_} epochs")
print(f"ensemble: test MAE {mean_absolute_error(y_test, mean):.4f} eV/atom")
print(f"spread factor fitted on {len(y_val):,} validation rows: {ensemble.std_scale_:.2f}")

# %%
# Does the stated uncertainty hold on the test rows? A Gaussian interval at level p is
# ``mean ± z · std``; its coverage is the share of rows inside it, ideally p. The
# miscalibration area sums the gaps over all levels (0 is perfect).
from skmatnet.metrics import interval_coverage, miscalibration_area

print(f"{'spread':<11} {'68% coverage':>12} {'95% coverage':>12} {'area':>6}")
for name, spread in (("raw", raw_std), ("calibrated", std)):
    print(f"{name:<11} {interval_coverage(y_test, mean, spread, 0.68):>12.3f} "
          f"{interval_coverage(y_test, mean, spread, 0.95):>12.3f} "
          f"{miscalibration_area(y_test, mean, spread):>6.3f}")

# %%
# The calibration curves of the test rows: observed against expected coverage for every level.
# A curve below the diagonal means intervals too narrow, above it too wide.
import matplotlib.pyplot as plt

from skmatnet.metrics import plot_calibration

fig, ax = plt.subplots(figsize=(5, 5))
plot_calibration(y_test, mean, raw_std, ax=ax, label="raw spread")
plot_calibration(y_test, mean, std, ax=ax, label=f"calibrated (x {ensemble.std_scale_:.2f})")
ax.set_title(f"Ensemble of five BRNets, {len(y_test):,} test compositions")
fig.tight_layout()

# %%
# One factor cannot make every level hold when the errors have heavier tails than a
# Gaussian. ``predict_interval`` asks for the interval itself: its half-width is the spread
# times a quantile of the validation rows' ``|error| / std`` (split conformal prediction), so
# the interval holds for the asked share of rows drawn like the validation rows.
print(f"{'asked':>6} {'Gaussian interval holds':>24} {'predict_interval holds':>23}")
for coverage in (0.8, 0.9, 0.95):
    lower, upper = ensemble.predict_interval(X_test, coverage=coverage).T
    held = ((lower <= y_test) & (y_test <= upper)).mean()
    print(f"{coverage:>6.0%} {interval_coverage(y_test, mean, std, coverage):>24.3f} "
          f"{held:>23.3f}")
