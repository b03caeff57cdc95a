"""
Fine-tune a pretrained network on a few hundred rows
====================================================

BRNet is pretrained on the Materials Project formation energies (leaving out the JARVIS test
compositions), saved, then fine-tuned on 300 JARVIS rows with ``init_from=<the file>`` at a
twentieth of the default learning rate. It is compared with the same network trained on
those rows from scratch and with ExtraTrees, and five fine-tuned copies make an ensemble
whose spread is calibrated into error bars.
"""

# %%
# Settings: the gallery pretrains a smaller BRNet on 8,000 rows for 4 epochs, fine-tunes for 30
# and builds an ensemble of three. Full: ``python examples/training/fine_tune.py --full``
# pretrains the default BRNet on all of Materials Project for the 20-epoch schedule (a few
# minutes on 2 cores), fine-tunes with the default schedule and builds an ensemble of five.
import sys

FULL = "--full" in sys.argv[1:]
PRETRAIN_ROWS, PRETRAIN_EPOCHS = (None, 20) if FULL else (8000, 4)
NETWORK = {} if FULL else {"module__stage_widths": (256, 128, 64),
                           "module__stage_layers": (2, 2, 1)}
TUNE = {} if FULL else {"max_epochs": 30}
MEMBERS = 5 if FULL else 3

# %%
# Pretrain on Materials Project without the compositions of the JARVIS test set, and save.
import tempfile
from pathlib import Path

import numpy as np

from skmatnet import BRNetRegressor, save_model
from skmatnet.benchmark import load_benchmark_data, make_split

jarvis = load_benchmark_data("jarvis_formation_energy")
split = make_split(jarvis, "brnet")
test = {row.tobytes() for row in jarvis.X[split.test]}
mp = load_benchmark_data("mp_formation_energy", max_rows=PRETRAIN_ROWS)
keep = np.array([row.tobytes() not in test for row in mp.X])

pretrained = BRNetRegressor(max_epochs=PRETRAIN_EPOCHS, random_state=0, **NETWORK)
pretrained.fit(mp.X[keep], mp.y[keep])
path = save_model(pretrained, Path(tempfile.mkdtemp()) / "brnet_mp.skmatnet")
print(f"pretrained on {keep.sum():,} Materials Project rows, saved to {path.name}")

# %%
# 300 JARVIS rows to learn from, 100 more to validate on. The same validation rows pick the
# best epoch of both networks.
rng = np.random.default_rng(0)
rows = rng.choice(split.train, size=300, replace=False)
held = np.random.default_rng(1).choice(np.setdiff1d(split.train, rows), size=100,
                                       replace=False)
X, y, X_val, y_val = jarvis.X[rows], jarvis.y[rows], jarvis.X[held], jarvis.y[held]
X_test, y_test = jarvis.X[split.test], jarvis.y[split.test]

from sklearn.ensemble import ExtraTreesRegressor

models = {
    "fine-tuned BRNet": BRNetRegressor(init_from=str(path), lr=2e-4, random_state=0,
                                       **NETWORK, **TUNE),
    "BRNet from scratch": BRNetRegressor(random_state=0, **NETWORK, **TUNE),
    "ExtraTrees": ExtraTreesRegressor(n_estimators=300, random_state=0),
}
for name, model in models.items():
    if name == "ExtraTrees":
        model.fit(X, y)
    else:
        model.fit(X, y, X_val=X_val, y_val=y_val)
    mae = np.mean(np.abs(model.predict(X_test) - y_test))
    print(f"{name:>20}: test MAE {mae:.4f} eV/atom on {len(y_test):,} JARVIS test rows")

# %%
# Learning curves: the pretrained network starts where the one from scratch takes many
# epochs to get, on the training rows and on the validation rows.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 4))
for i, name in enumerate(["fine-tuned BRNet", "BRNet from scratch"]):
    history = models[name].history
    epochs = history[:, "epoch"]
    ax.plot(epochs, history[:, "train_loss"], color=f"C{i}", linestyle="--",
            label=f"{name}, training")
    ax.plot(epochs, history[:, "valid_loss"], color=f"C{i}", label=f"{name}, validation")
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("loss (L1, eV/atom)")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# An ensemble of fine-tuned copies, its spread calibrated on the 100 validation rows.
from skmatnet import MatNetEnsembleRegressor, metrics

ensemble = MatNetEnsembleRegressor(models["fine-tuned BRNet"], n_estimators=MEMBERS,
                                   calibrate=True, random_state=0)
ensemble.fit(X, y, X_val=X_val, y_val=y_val)
mean, std = ensemble.predict(X_test, return_std=True)
print(f"ensemble of {MEMBERS}: test MAE {np.mean(np.abs(mean - y_test)):.4f}; 95% intervals "
      f"hold for {metrics.interval_coverage(y_test, mean, std):.1%} of the test rows "
      f"(spread x {ensemble.std_scale_:.2f} after calibration)")
