"""
Start from a bundled pretrained model: 200 rows, under a minute
===============================================================

skmatnet ships networks trained on large DFT sets (:doc:`/pretrained`). One of them predicts
formation energies straight away, and fine-tuned on 200 rows of another database it beats a
network trained from scratch and ExtraTrees on the same rows. Here the bundled
``mp_formation_energy`` model (Materials Project, PBE) meets JARVIS-DFT formation energies
(OptB88vdW): another functional and another set of structures.

Only the JARVIS test compositions that the bundled model never saw (neither in its training
nor in its validation rows) are scored, so no answer was learnt in advance.
"""

# %%
# Settings: none to shorten. The gallery runs what a user runs, every model at its defaults on
# 200 rows (about 20 s per network on one core).

# %%
# The JARVIS rows, and the test compositions unseen by the Materials Project model.
import time

import numpy as np

from skmatnet.benchmark import load_benchmark_data, make_split

jarvis = load_benchmark_data("jarvis_formation_energy")
split = make_split(jarvis, "brnet")
mp = load_benchmark_data("mp_formation_energy")
mp_split = make_split(mp, "brnet")
seen = {row.tobytes() for row in mp.X[np.concatenate([mp_split.train, mp_split.val])]}
test = np.array([i for i in split.test if jarvis.X[i].tobytes() not in seen])
print(f"{len(test):,} of {len(split.test):,} JARVIS test compositions are unseen by the MP model")
formulas, y = jarvis.formulas, jarvis.y

# %%
# Zero-shot: the bundled model as it is, on formulas.
from skmatnet.pretrained import load_pretrained, model_path

pretrained = load_pretrained("mp_formation_energy")
zero_shot = np.mean(np.abs(pretrained.predict(formulas[test]) - y[test]))
print(f"zero-shot: test MAE {zero_shot:.3f} eV/atom")

# %%
# 200 JARVIS rows to learn from. ``init_from="mp_formation_energy"`` starts the network from
# the bundled weights (here from its first member); everything else is at its defaults.
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.pipeline import make_pipeline

from skmatnet import BRNetRegressor, ElementFractionTransformer

rows = np.random.default_rng(0).choice(split.train, size=200, replace=False)
models = {
    "fine-tuned from mp_formation_energy": BRNetRegressor(init_from="mp_formation_energy",
                                                          random_state=0),
    "BRNet from scratch": BRNetRegressor(random_state=0),
    "ExtraTrees": ExtraTreesRegressor(n_estimators=300, random_state=0),
}
errors = {"zero-shot (no fitting)": zero_shot}
for name, model in models.items():
    pipe = make_pipeline(ElementFractionTransformer(), model)
    start = time.perf_counter()
    pipe.fit(formulas[rows], y[rows])
    seconds = time.perf_counter() - start
    errors[name] = np.mean(np.abs(pipe.predict(formulas[test]) - y[test]))
    print(f"{name:>36}: test MAE {errors[name]:.3f} eV/atom, fitted in {seconds:.0f} s")

# %%
# The same model file works from the command line (``skmatnet predict mp_formation_energy
# formulas.txt``); its card tells what it was trained on.
from skmatnet import read_model_card

card = read_model_card(model_path("mp_formation_energy"))
print(card["target"], "|", card["units"], "|", card["split"])
print("test metrics on its own split:", card["test_metrics"])

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(errors), list(errors.values()), color=["gray", "C0", "C1", "C2"])
ax.set_xlabel("test MAE on unseen JARVIS compositions (eV/atom)")
ax.invert_yaxis()
fig.tight_layout()
