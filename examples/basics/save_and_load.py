"""
Save a model, load it on a machine without a GPU
================================================

Two ways to keep a trained pipeline: :func:`skmatnet.save_model`, a file that loads without
running any code from it, and joblib, which pickles anything. Both load on a CPU-only
machine, whatever device the model was trained on.
"""

# %%
# Settings: the gallery trains a small BRNet for 3 epochs. Full:
# ``python examples/basics/save_and_load.py --full`` trains the default BRNet's full recipe.
import sys

FULL = "--full" in sys.argv[1:]
SETTINGS = {} if FULL else {
    "max_epochs": 3, "batch_size": 128, "lr": 1e-3,
    "module__stage_widths": (64, 32, 16), "module__stage_layers": (2, 2, 1)}

# %%
# Train. ``device="auto"`` (the default) uses a GPU when there is one.
from sklearn.pipeline import Pipeline

from skmatnet import BRNetRegressor, ElementFractionTransformer, load_dataset

formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
model = Pipeline([("ef", ElementFractionTransformer()),
                  ("net", BRNetRegressor(random_state=0, **SETTINGS))])
model.fit(formulas, y)
probe = ["Fe2O3", "NaCl", "Li0.5CoO2"]
device = next(model["net"].module_.parameters()).device
print(f"trained on {device}; predictions:", model.predict(probe).round(3))

# %%
# The safe format: a zip of a JSON description and the weights in safetensors. Loading looks
# classes up in a fixed list of skmatnet's, so a file from someone else cannot run code.
# ``device="cpu"`` is what a machine without a GPU does anyway (with a warning if the model
# was saved on ``"cuda"``).
import tempfile
from pathlib import Path

import numpy as np

from skmatnet import load_model, save_model

folder = Path(tempfile.mkdtemp())
path = save_model(model, folder / "brnet.skmatnet")
loaded = load_model(path, device="cpu")
print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB; identical predictions:",
      np.array_equal(loaded.predict(probe), model.predict(probe)))

# %%
# joblib, as for any scikit-learn model. A pickle runs code when loaded: only load files
# you trust.
import joblib

joblib.dump(model, folder / "brnet.joblib")
again = joblib.load(folder / "brnet.joblib")
print(f"brnet.joblib: {(folder / 'brnet.joblib').stat().st_size / 1e6:.2f} MB; identical "
      "predictions:", np.array_equal(again.predict(probe), model.predict(probe)))
