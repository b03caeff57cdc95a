"""
Screen every Li-Mn-O composition
================================

An ensemble of three BRNets trained on Materials Project formation energies ranks every
composition of Li-Mn-O and its binaries with at most 12 atoms per formula unit, with error
bars; the most stable are compared with Materials Project where it has them, and the whole
screen is drawn on the composition triangle.
"""

# %%
# Settings: the gallery trains on 90% of 3,000 rows for 3 epochs, a few seconds, which makes a
# crude ranking: the full run's is in :ref:`the scaling guide <screening-example>`. Full:
# ``python examples/screening/screen_li_mn_o.py --full`` trains on 90% of Materials Project
# for the 20-epoch recommended schedule; ``--scheduler local:2`` (or a scheduler's address)
# runs the screen on Dask.
import sys

FULL = "--full" in sys.argv[1:]
ROWS, EPOCHS = (None, 20) if FULL else (3000, 3)
SCHEDULER = sys.argv[sys.argv.index("--scheduler") + 1] if "--scheduler" in sys.argv else None

# %%
# Train the ensemble; 10% of the rows calibrate its spread.
import numpy as np

from skmatnet import BRNetRegressor, MatNetEnsembleRegressor
from skmatnet.benchmark import load_benchmark_data

mp = load_benchmark_data("mp_formation_energy", max_rows=ROWS)
held_out = np.random.default_rng(0).random(len(mp.y)) < 0.1
ensemble = MatNetEnsembleRegressor(BRNetRegressor(max_epochs=EPOCHS), n_estimators=3,
                                   calibrate=True, random_state=0)
ensemble.fit(mp.X[~held_out], mp.y[~held_out], X_val=mp.X[held_out], y_val=mp.y[held_out])
print(f"trained 3 BRNets on {(~held_out).sum():,} Materials Project rows; spread "
      f"calibrated on {held_out.sum():,} others (factor {ensemble.std_scale_:.1f})")

# %%
# The candidates are listed, featurized and predicted chunk by chunk; only the 15 lowest are
# kept.
from skmatnet.screening import CompositionSpace, screen

space = CompositionSpace(systems=["Li-Mn-O"], max_atoms=12, include_subsystems=True)
result = screen(ensemble, space, bottom=15, scheduler=SCHEDULER)
print(f"screened {result.n_candidates:,} candidates of {space.n_systems} systems in "
      f"{result.seconds:.1f} s")

# %%
# The 15 most stable, beside the DFT value where Materials Project has the composition (its
# rows are deduplicated to the lowest value per composition).
from skmatnet import element_fractions

known = {row.tobytes(): value for row, value in zip(mp.X, mp.y, strict=True)}
unseen = {row.tobytes() for row in mp.X[held_out]}
top = result.frame
top["mp_eV_per_atom"] = [known.get(row.tobytes(), np.nan)
                         for row in element_fractions(top["formula"].tolist())]
print(top[["formula", "system", "prediction", "std", "mp_eV_per_atom"]]
      .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
in_mp = top["mp_eV_per_atom"].notna()
gap = np.abs(top["prediction"] - top["mp_eV_per_atom"])[in_mp]
print(f"{in_mp.sum()} of the 15 are in Materials Project"
      + (f"; mean |prediction - MP| over them: {gap.mean():.3f} eV/atom" if in_mp.any() else ""))

# %%
# Every candidate, and how far the ensemble is from Materials Project on those it has.
everything = screen(ensemble, space).frame
fractions = element_fractions(everything["formula"].tolist())
dft = np.array([known.get(row.tobytes(), np.nan) for row in fractions])
listed = ~np.isnan(dft)
error = np.abs(everything["prediction"].to_numpy() - dft)[listed]
n_unseen = sum(row.tobytes() in unseen for row in fractions[listed])
print(f"{listed.sum()} of the {len(everything)} candidates are in Materials Project "
      f"({n_unseen} of them held out from training): mean |prediction - MP| "
      f"{error.mean():.3f} eV/atom")

# %%
# The screen on the composition triangle: each point a candidate, coloured by its predicted
# formation energy; rings mark the 15 most stable.
import matplotlib.pyplot as plt

from skmatnet import ELEMENTS

li, mn, o = (fractions[:, ELEMENTS.index(name)] for name in ("Li", "Mn", "O"))
x, y = mn + o / 2, o * np.sqrt(3) / 2  # Li at (0, 0), Mn at (1, 0), O at the top
fig, ax = plt.subplots(figsize=(6.5, 5.5))
points = ax.scatter(x, y, c=everything["prediction"], cmap="viridis", s=18)
best = everything["formula"].isin(top["formula"]).to_numpy()
ax.scatter(x[best], y[best], s=70, facecolors="none", edgecolors="red", linewidths=1.2,
           label="15 most stable")
ax.plot([0, 1, 0.5, 0], [0, 0, np.sqrt(3) / 2, 0], color="black", linewidth=0.8)
for name, (px, py) in {"Li": (-0.04, -0.04), "Mn": (1.01, -0.04),
                       "O": (0.48, np.sqrt(3) / 2 + 0.02)}.items():
    ax.annotate(name, (px, py), fontsize=11)
ax.set_aspect("equal")
ax.axis("off")
ax.legend(loc="upper right", fontsize=8)
fig.colorbar(points, ax=ax, shrink=0.8, label="predicted formation energy (eV/atom)")
fig.tight_layout()
