"""
Extra inputs beside the formula
===============================

A composition model often needs more than the composition: a temperature, a pressure, a
processing condition, or a property that is cheaper to get than the target. scikit-learn's
:class:`~sklearn.compose.ColumnTransformer` puts them beside the 86 element fractions:
:class:`~skmatnet.ElementFractionTransformer` on the formula column, a
:class:`~sklearn.preprocessing.StandardScaler` on the others, and a network on the 87
columns that come out.

The data here is real: the JARVIS-DFT optB88vdW band gap of each composition, with its
JARVIS-DFT formation energy (eV/atom) as the extra input. The two files hold 25,381
compositions that appear exactly once in each (so both numbers are of one structure). The same
network is trained on the formula alone and on the formula with the formation energy, and
scikit-learn's :class:`~sklearn.metrics.PredictionErrorDisplay` draws both parity charts.
"""

# %%
# Settings: the gallery trains each network on 2,000 rows for 20 epochs of the default
# schedule. Full: ``python examples/training/extra_inputs.py --full`` trains on every
# training composition with the default schedule (100 epochs, a few minutes each on 2 cores).
import sys

FULL = "--full" in sys.argv[1:]
TRAIN_ROWS = None if FULL else 2000
SETTINGS = {} if FULL else {"max_epochs": 20}

# %%
# One row per composition: its formula, its formation energy and its band gap. The test rows
# are those of the band-gap file's own test part.
from skmatnet import load_dataset


def single_rows(name):
    """The rows of the compositions that appear once in the dataset (one structure each)."""
    frame = load_dataset(name, dedupe=None)
    return frame[~frame["formula"].duplicated(keep=False)]


gap = single_rows("jarvis_optb88vdw_bandgap")
energy = single_rows("jarvis_formation_energy")
data = gap.merge(energy[["formula", "target"]], on="formula", suffixes=("", "_energy"))
data = data.rename(columns={"target": "band_gap", "target_energy": "formation_energy"})
print(f"{len(data):,} compositions with a band gap and a formation energy")
train, test = data[data["split"] == "train"], data[data["split"] == "test"]
if TRAIN_ROWS is not None:
    train = train.sample(TRAIN_ROWS, random_state=0)
print(f"train on {len(train):,}, test on {len(test):,}")

# %%
# The two models. The ColumnTransformer's output is a float64 array of 86 + 1 columns; the
# network casts it to float32 and records ``n_features_in_ = 87``.
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skmatnet import BRNetRegressor, ElementFractionTransformer


def model(extra_columns):
    columns = [("composition", ElementFractionTransformer(), "formula")]
    if extra_columns:
        columns.append(("extra", StandardScaler(), extra_columns))
    return Pipeline([("features", ColumnTransformer(columns)),
                     ("net", BRNetRegressor(random_state=0, **SETTINGS))])


formula_only = model([]).fit(train, train["band_gap"])
with_energy = model(["formation_energy"]).fit(train, train["band_gap"])
print(f"inputs: {formula_only['net'].n_features_in_} and {with_energy['net'].n_features_in_}")

# %%
# Test MAE, and the parity charts drawn by scikit-learn from the fitted pipelines.
import matplotlib.pyplot as plt
from sklearn.metrics import PredictionErrorDisplay, mean_absolute_error

fig, axes = plt.subplots(1, 2, figsize=(10, 5), sharey=True)
for ax, (name, fitted) in zip(axes, (("formula only", formula_only),
                                     ("formula + formation energy", with_energy)),
                              strict=True):
    mae = mean_absolute_error(test["band_gap"], fitted.predict(test))
    print(f"{name:>27}: test MAE {mae:.3f} eV")
    PredictionErrorDisplay.from_estimator(fitted, test, test["band_gap"], ax=ax,
                                          kind="actual_vs_predicted", subsample=None,
                                          scatter_kwargs={"s": 4, "alpha": 0.4})
    ax.set_title(f"{name}: MAE {mae:.3f} eV", fontsize=10)
fig.tight_layout()

# %%
# What it means for pretrained models and model files
# ----------------------------------------------------
# A network trained on the formula alone has 86 inputs; with an extra column it has 87, so
# it cannot start from the formula-only weights: ``init_from`` checks the input width and
# says so before training.
import warnings

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model(["formation_energy"]).set_params(net__init_from=formula_only).fit(
            train, train["band_gap"])
except ValueError as error:
    print(f"init_from: {error}")

# %%
# :func:`~skmatnet.save_model` saves pipelines of ``ElementFractionTransformer`` steps and a
# network only; it saves the fitted network of such a pipeline, ``save_model(with_energy["net"],
# path)``, whose inputs are then the 87 columns of the ColumnTransformer (the scaler's mean
# and scale are not in the file). ``joblib.dump`` saves the whole pipeline, as a pickle.
