"""
A validation set through the pipeline
=====================================

The estimators' ``fit(X, y, X_val=None, y_val=None)`` takes a fixed validation set that picks
the best epoch. Inside a pipeline the validation formulas must be featurized as well: with
scikit-learn's metadata routing the pipeline does that itself.
"""

# %%
# Settings: the gallery trains a small BRNet for 15 epochs on 5,000 training formulas, at a
# constant learning rate, under which the validation loss wanders and the best epoch need
# not be the last. Full: ``python examples/basics/validation_set.py --full`` trains the
# default BRNet (its cosine schedule) for 100 epochs on the whole 81 % training split.
import sys

FULL = "--full" in sys.argv[1:]
N_TRAIN = None if FULL else 5000
MAX_EPOCHS = 100 if FULL else 15
SMALL = {} if FULL else {"module__stage_widths": (128, 64, 32),
                         "module__stage_layers": (2, 2, 1), "batch_size": 128, "lr": 1e-3,
                         "lr_schedule": None}

# %%
# The BRNet protocol's 81:9:10 split, stratified on the number of elements. The validation
# part stays whole; only the training part is cut down in quick mode.
from skmatnet import load_dataset, train_val_test_split

formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
f_train, f_val, f_test, y_train, y_val, y_test = train_val_test_split(formulas, y)
f_train, y_train = f_train[:N_TRAIN], y_train[:N_TRAIN]
print(f"train {len(f_train):,}, validation {len(f_val):,}, test {len(f_test):,} formulas")

# %%
# The net asks for ``X_val`` and ``y_val`` (``set_fit_request``), and the pipeline is told
# that ``X_val`` is input data (``transform_input``): it passes ``X_val`` through the
# featurizer, fitted on the training formulas, before handing it to the net. Routing is a
# global setting; ``config_context`` keeps it to this fit, so later code is unaffected. Such a
# pipeline must be fitted (and refitted) with routing on; predicting needs no routing.
import sklearn
from sklearn.pipeline import Pipeline

from skmatnet import BRNetRegressor, ElementFractionTransformer

net = BRNetRegressor(max_epochs=MAX_EPOCHS, random_state=0, **SMALL)
with sklearn.config_context(enable_metadata_routing=True):
    net.set_fit_request(X_val=True, y_val=True)
    model = Pipeline([("ef", ElementFractionTransformer()), ("net", net)],
                     transform_input=["X_val"])
    model.fit(f_train, y_train, X_val=f_val, y_val=y_val)

# %%
# Without routing (scikit-learn's default), the pipeline passes ``net__``-prefixed fit
# parameters on unchanged, so the formulas must be featurized by hand, as in
# the tutorial (:ref:`sphx_glr_auto_examples_basics_tutorial.py`):
# ``model.fit(f_train, y_train, net__X_val=model[0].transform(f_val), net__y_val=y_val)``.
# Both give the same network; the two forms do not mix: with routing on, the pipeline refuses
# ``net__`` parameters, and with it off, ``transform_input`` is an error.
#
# With a validation set the net records ``valid_loss`` (MAE, eV/atom) in its history at
# every epoch, and ends on the weights of its best epoch: predicting the validation set again
# gives that epoch's loss, not the last one's.
from sklearn.metrics import mean_absolute_error

print("history columns:", list(net.history[-1].keys()))
valid = net.history[:, "valid_loss"]
print(f"best epoch {net.best_epoch_} of {net.n_epochs_}: validation MAE "
      f"{min(valid):.3f} eV/atom (last epoch {valid[-1]:.3f})")
print(f"validation MAE of the fitted model: "
      f"{mean_absolute_error(y_val, model.predict(f_val)):.3f} eV/atom")
print(f"test MAE: {mean_absolute_error(y_test, model.predict(f_test)):.3f} eV/atom")

# %%
# The learning curve. The training loss is the mean over the batches of an epoch, taken
# while the weights change (and in training mode); the validation loss is measured after
# the epoch.
import matplotlib.pyplot as plt

epochs = net.history[:, "epoch"]
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(epochs, net.history[:, "train_loss"], marker="o", label="train")
ax.plot(epochs, valid, marker="o", label="validation")
ax.axvline(net.best_epoch_, color="grey", linestyle="--", label="best epoch")
ax.set_xlabel("epoch")
ax.set_ylabel("MAE (eV/atom)")
ax.set_title("BRNet on JARVIS formation energy")
ax.legend()
fig.tight_layout()
