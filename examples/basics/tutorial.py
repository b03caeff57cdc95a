"""
Tutorial: from formulas to a saved model
========================================

The whole job in ten minutes of reading: a table of formulas and a measured property, the
featurizer, a split like the papers', a classic baseline, BRNet trained with early stopping
on a validation set, its test error and parity plot, and the model saved, reloaded and used
on new formulas.
"""

# %%
# Settings: the gallery trains a smaller BRNet for 8 epochs and a 20-tree forest. Full:
# ``python examples/basics/tutorial.py --full`` gives the default BRNet five minutes, over
# which its learning-rate schedule anneals, and the forest 200 trees.
import sys

FULL = "--full" in sys.argv[1:]
NET = {"max_time": 300} if FULL else {
    "max_epochs": 8, "module__stage_widths": (256, 128, 64), "module__stage_layers": (2, 2, 1)}
TREES = 200 if FULL else 20

# %%
# 1. The data
# -----------
# What skmatnet needs is a formula per row and a number per row. Here they come from a
# bundled loader (JARVIS-DFT formation energies, downloaded once and checked against their
# sha256); your own data would come from ``pd.read_csv`` just the same.
from skmatnet import load_dataset

data = load_dataset("jarvis_formation_energy")
print(data.head())
print(f"{len(data):,} compositions")

# %%
# 2. Formulas become features
# ---------------------------
# :class:`~skmatnet.ElementFractionTransformer` turns each formula into the fractions of the
# 86 elements the networks know. It is exact (``"Fe2O3"`` is 0.4 iron and 0.6 oxygen) and
# a bad formula is an error that names its row, never a silent zero.
from skmatnet import ElementFractionTransformer, FormulaError

featurizer = ElementFractionTransformer()
X = featurizer.fit_transform(["Fe2O3", "Ca(OH)2", "Li0.5CoO2"])
names = featurizer.get_feature_names_out()
for row in X:
    print({name: round(float(v), 3) for name, v in zip(names, row, strict=True) if v})
try:
    featurizer.transform(["NaCl", "Xx3O"])
except FormulaError as error:
    print(error)

# %%
# 3. A split like the papers'
# ---------------------------
# The BRNet paper's seeded 81:9:10 split: training, validation (which picks the best
# epoch) and test (touched once, at the end).
from skmatnet import train_val_test_split

formulas, y = data["formula"].to_numpy(), data["target"].to_numpy()
f_train, f_val, f_test, y_train, y_val, y_test = train_val_test_split(formulas, y)
print(f"{len(f_train):,} / {len(f_val):,} / {len(f_test):,}")

# %%
# 4. A baseline first
# -------------------
# Any scikit-learn regressor works on the fractions; a network has to beat it to be worth
# its cost.
import time

from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error
from sklearn.pipeline import make_pipeline

start = time.perf_counter()
forest = make_pipeline(ElementFractionTransformer(),
                       RandomForestRegressor(n_estimators=TREES, n_jobs=-1, random_state=0))
forest.fit(f_train, y_train)
print(f"random forest: test MAE {mean_absolute_error(y_test, forest.predict(f_test)):.3f} "
      f"eV/atom ({time.perf_counter() - start:.1f} s)")

# %%
# 5. BRNet
# --------
# BRNet, the residual network of the BRNet paper, as the last step of a pipeline. Its
# budget is ``max_epochs`` or ``max_time`` (seconds); the validation set, featurized like
# the training rows, chooses the epoch whose weights are kept.
from sklearn.pipeline import Pipeline

from skmatnet import BRNetRegressor

model = Pipeline([("ef", ElementFractionTransformer()),
                  ("net", BRNetRegressor(random_state=0, **NET))])
start = time.perf_counter()
model.fit(f_train, y_train, net__X_val=model["ef"].transform(f_val), net__y_val=y_val)
net = model["net"]
print(f"{net.n_epochs_} epochs in {time.perf_counter() - start:.1f} s, best epoch "
      f"{net.best_epoch_}")

# %%
# 6. How good is it?
# ------------------
# The test error, and the parity plot: every test compound's prediction against its DFT
# value.
import matplotlib.pyplot as plt

from skmatnet.benchmark.report import parity_plot

predicted = model.predict(f_test)
mae = mean_absolute_error(y_test, predicted)
print(f"BRNet: test MAE {mae:.3f} eV/atom")
fig, ax = plt.subplots(figsize=(5, 5))
parity_plot(y_test, predicted, ax=ax, units="eV/atom", title=f"BRNet, test MAE {mae:.3f}")

# %%
# 7. Save, reload, predict
# ------------------------
# :func:`~skmatnet.save_model` writes the fitted pipeline without pickles; the file loads
# on any machine, GPU or not, and predicts the same numbers.
import tempfile
from pathlib import Path

import numpy as np

from skmatnet import load_model, save_model

path = save_model(model, Path(tempfile.mkdtemp()) / "formation_energy.skmatnet")
reloaded = load_model(path)
new = ["LiFePO4", "MgAl2O4", "GaN"]
print("identical:", np.array_equal(reloaded.predict(f_test), predicted))
for formula, energy in zip(new, reloaded.predict(new), strict=True):
    print(f"{formula:>8}: {energy:+.3f} eV/atom")

# %%
# Where next
# ----------
# Tune it (:ref:`sphx_glr_auto_examples_training_grid_search.py`), give it error bars
# (:ref:`sphx_glr_auto_examples_uncertainty_ensemble_calibration.py`), or compare it with
# AutoML and classic machine learning with ``skmatnet benchmark`` (:doc:`/benchmark`).
