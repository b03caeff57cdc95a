"""
Train, measure and draw the parity plot
=======================================

Formation energy from formulas with BRNet on the BRNet paper's protocol: the fixed 81:9:10
split, the 9% validation part choosing the best epoch, the test MAE on the last 10%, and
the parity plot of the test predictions.
"""

# %%
# Settings: the gallery trains a small BRNet for 5 epochs. Full:
# ``python examples/basics/pipeline_quickstart.py --full`` trains the default BRNet for up to
# 100 epochs.
import sys

FULL = "--full" in sys.argv[1:]
SMALL = {"module__stage_widths": (128, 64, 32), "module__stage_layers": (2, 2, 1),
         "lr": 1e-3, "batch_size": 128}
SETTINGS = {"max_epochs": 100} if FULL else {"max_epochs": 5, **SMALL}

# %%
# The data and the split. ``train_val_test_split`` is the papers' seeded 81:9:10 split.
from skmatnet import load_dataset, train_val_test_split

formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
f_train, f_val, f_test, y_train, y_val, y_test = train_val_test_split(formulas, y)
print(f"{len(f_train):,} training, {len(f_val):,} validation, {len(f_test):,} test compounds")

# %%
# The pipeline. The validation formulas must be featurized too; here by hand, with
# ``net__X_val`` (:ref:`sphx_glr_auto_examples_basics_validation_set.py` lets the pipeline do
# it through metadata routing).
import time

from sklearn.pipeline import Pipeline

from skmatnet import BRNetRegressor, ElementFractionTransformer

net = BRNetRegressor(random_state=0, **SETTINGS)
model = Pipeline([("ef", ElementFractionTransformer()), ("net", net)])
start = time.perf_counter()
model.fit(f_train, y_train, net__X_val=model["ef"].transform(f_val), net__y_val=y_val)
print(f"trained {net.n_epochs_} epochs in {time.perf_counter() - start:.1f} s; "
      f"the best validation epoch was {net.best_epoch_}")

# %%
# Test error and the parity plot: predicted against DFT formation energy of the test
# compounds.
import matplotlib.pyplot as plt
from sklearn.metrics import mean_absolute_error

from skmatnet.benchmark.report import parity_plot

predicted = model.predict(f_test)
mae = mean_absolute_error(y_test, predicted)
print(f"test MAE {mae:.3f} eV/atom on {len(y_test):,} compounds")
fig, ax = plt.subplots(figsize=(5, 5))
parity_plot(y_test, predicted, ax=ax, units="eV/atom", title=f"BRNet, test MAE {mae:.3f} eV/atom")

# %%
# A fitted pipeline takes formulas directly.
probe = ["Fe2O3", "NaCl", "Al2O3"]
for formula, energy in zip(probe, model.predict(probe), strict=True):
    print(f"{formula:>6}: {energy:+.3f} eV/atom")
