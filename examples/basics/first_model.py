"""
A first model in five lines
===========================

Formulas in, formation energy out: a pipeline of the element-fraction featurizer and BRNet,
trained on the JARVIS-DFT formation energies (one row per composition, the lowest energy).
"""

# %%
# Settings: the gallery trains for 5 seconds. Full:
# ``python examples/basics/first_model.py --full`` gives BRNet five minutes, over which its
# learning-rate schedule anneals.
import sys

MAX_TIME = 300 if "--full" in sys.argv[1:] else 5

# %%
# The five lines: load, build, fit, predict.
from sklearn.pipeline import make_pipeline

from skmatnet import BRNetRegressor, ElementFractionTransformer, load_dataset

formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
model = make_pipeline(ElementFractionTransformer(), BRNetRegressor(max_time=MAX_TIME))
model.fit(formulas, y)
probe = ["Fe2O3", "NaCl", "GaAs"]
for formula, energy in zip(probe, model.predict(probe), strict=True):
    print(f"{formula:>6}: {energy:+.3f} eV/atom")

# %%
# ``max_time`` is a budget in seconds; the schedule of the learning rate is stretched over it,
# so a short budget still ends annealed. The fitted network records what it did:
from skmatnet.nets import count_parameters

net = model[-1]
print(f"trained on {len(formulas):,} compositions: {net.n_epochs_} epochs, "
      f"{count_parameters(net.module_):,} weights")
