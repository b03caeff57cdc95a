"""
A discovery loop on Li-Mn-O, with the convex hull drawn
=======================================================

Every Materials Project composition of Li-Mn-O (its binaries Li-O, Mn-O and Li-Mn included)
is hidden, and an ensemble of three BRNets learns formation energies from the rest. Then, in
rounds, the ensemble chooses five of the hidden compositions to "compute" by the lower
confidence bound of their energy above the hull, spread out with
:func:`~skmatnet.screening.select_batch`; their Materials Project energies are revealed and
join the known compounds, which moves the hull. The stable compounds found (on the hull of all
of Materials Project) are counted against picking at random, and the campaign is drawn on the
phase diagram.
"""

# %%
# Settings: the gallery trains a smaller BRNet for 4 epochs (about 15 s on one core) and runs 6
# rounds of 5. Full: ``python examples/screening/discovery_loop.py --full`` trains the default
# BRNet for the 20-epoch recommended schedule and runs 8 rounds of 5.
import sys

FULL = "--full" in sys.argv[1:]
EPOCHS, ROUNDS, BATCH = (20, 8, 5) if FULL else (4, 6, 5)
NETWORK = {} if FULL else {"module__stage_widths": (256, 128, 64),
                           "module__stage_layers": (2, 2, 1)}
SYSTEM = ["Li", "Mn", "O"]

# %%
# The truth: a composition is stable when its energy above the hull of *all* of Materials
# Project is at most zero. The hull of Li-Mn-O depends on its own compositions and its
# subsystems' only, so those rows (and the elements) are all it needs.
import numpy as np

from skmatnet import ELEMENTS, element_fractions, load_dataset
from skmatnet.screening import HullReference

mp = load_dataset("mp_formation_energy").rename(columns={"target": "energy"})
X = element_fractions(mp["formula"].tolist())
inside = ~X[:, [ELEMENTS.index(e) for e in ELEMENTS if e not in SYSTEM]].any(axis=1)
system = mp[inside].reset_index(drop=True)
system["system"] = ["-".join(ELEMENTS[j] for j in np.flatnonzero(row))
                    for row in X[inside] > 0]
truth = HullReference(system[["formula", "energy"]])
system["stable"] = truth.e_above_hull(system["formula"].tolist(), system["energy"]) <= 1e-6
pool = system[system["system"].str.contains("-")].reset_index(drop=True)  # not the elements
X_pool = element_fractions(pool["formula"].tolist())
print(f"Li-Mn-O in Materials Project: {len(pool)} compositions of 2 or 3 elements, "
      f"{pool['stable'].sum()} of them on the hull ({pool['stable'].mean():.0%})")

# %%
# Train on everything else; 10% of those rows calibrate the ensemble's spread.
from skmatnet import BRNetRegressor, MatNetEnsembleRegressor

X_rest, y_rest = X[~inside], mp["energy"].to_numpy(np.float32)[~inside]
val = np.random.default_rng(0).random(len(y_rest)) < 0.1
ensemble = MatNetEnsembleRegressor(BRNetRegressor(max_epochs=EPOCHS, random_state=0, **NETWORK),
                                   n_estimators=3, calibrate=True, random_state=0)
ensemble.fit(X_rest[~val], y_rest[~val], X_val=X_rest[val], y_val=y_rest[val])
mean, std = ensemble.predict(X_pool, return_std=True)
print(f"trained on {(~val).sum():,} rows; on the hidden Li-Mn-O compositions: MAE "
      f"{np.mean(np.abs(mean - pool['energy'])):.3f} eV/atom, mean std {std.mean():.3f}")


# %%
# The loop. Each round scores the compositions not yet computed by the lower confidence bound
# ``e - std`` of their energy above the hull of what is known (at first the elements only, so
# the deepest predicted formation energies come first), picks five best first with none
# closer than 0.05 (the share of atoms that differ) to an earlier pick, and reveals their
# energies. One system's batch has no second system to spread over, so ``max_per_system`` is
# off. (:func:`~skmatnet.screening.suggest` does the same for a
# :class:`~skmatnet.screening.CompositionSpace` of candidates in one call; here the candidates
# are Materials Project's own, whose answers are known.) The ensemble is not retrained
# between rounds: fine-tuning its members on the computed compounds, as
# ``benchmarks/discovery.py`` does, changed little here.
from math import gcd

from skmatnet import parse_formula
from skmatnet.screening import lower_confidence_bound, select_batch


def reduced(formula):
    amounts = {e: round(a) for e, a in parse_formula(formula).items()}
    divisor = gcd(*amounts.values())
    return "".join(f"{e}{a // divisor if a != divisor else ''}" for e, a in amounts.items())


computed, found = [], []
for round_ in range(1, ROUNDS + 1):
    known = HullReference(pool.loc[computed, ["formula", "energy"]])
    left = np.setdiff1d(np.arange(len(pool)), computed)
    e = mean[left] - known.hull_energy(pool.loc[left, "formula"].tolist())
    candidates = pool.loc[left, ["formula", "system"]].assign(
        id=left, e_above_hull=e, lower_confidence_bound=lower_confidence_bound(e, std[left]))
    batch = select_batch(candidates, BATCH, score="lower_confidence_bound",
                         max_per_system=None, min_distance=0.05)
    computed += batch["id"].tolist()
    found.append(int(pool.loc[computed, "stable"].sum()))
    print(f"round {round_}: computed {', '.join(map(reduced, batch['formula']))}; "
          f"stable found so far: {found[-1]} of {len(computed)} computed (at random "
          f"{len(computed) * pool['stable'].mean():.1f} expected)")
stable = pool["stable"].to_numpy()
print(f"after {len(computed)} of {len(pool)} computed: {found[-1]} of the {stable.sum()} "
      f"stable compounds found, {found[-1] / (len(computed) * stable.mean()):.1f} times random")

# %%
# Left, the hull of all of Materials Project on the composition triangle: its tie lines join
# the stable compounds (black), the other compositions are grey, and the loop's picks are
# coloured by round. Right, the stable compounds found against those computed, beside picking
# at random (the mean and the 10-90% range of the hypergeometric draw).
import matplotlib.pyplot as plt
from scipy.spatial import ConvexHull
from scipy.stats import hypergeom

fractions = element_fractions(system["formula"].tolist())
li, mn, o = (fractions[:, ELEMENTS.index(name)] for name in SYSTEM)
xy = np.column_stack([mn + o / 2, o * np.sqrt(3) / 2])  # Li at (0, 0), Mn at (1, 0), O on top
on_hull = np.flatnonzero(system["stable"])
points = np.vstack([np.column_stack([xy[on_hull], system.loc[on_hull, "energy"]]),
                    [[0, 0, 0], [1, 0, 0], [0.5, np.sqrt(3) / 2, 0]]])  # the elements
hull = ConvexHull(points)
fig, (ax, curve) = plt.subplots(1, 2, figsize=(11, 4.8), width_ratios=[1.15, 1])
for facet, normal in zip(hull.simplices, hull.equations, strict=True):
    if normal[2] < -1e-9:  # a lower facet, drawn as its edges
        corners = points[np.append(facet, facet[0]), :2]
        ax.plot(corners[:, 0], corners[:, 1], color="black", linewidth=0.6, zorder=1)
in_pool = system["system"].str.contains("-").to_numpy()
ax.scatter(*xy[in_pool & ~system["stable"]].T, s=12, color="0.7", label="above the hull")
ax.scatter(*xy[system["stable"]].T, s=28, color="black", label="on the hull", zorder=2)
pool_xy = element_fractions(pool["formula"].tolist())
pool_xy = np.column_stack([pool_xy[:, ELEMENTS.index("Mn")] + pool_xy[:, ELEMENTS.index("O")] / 2,
                           pool_xy[:, ELEMENTS.index("O")] * np.sqrt(3) / 2])
rounds = np.repeat(np.arange(1, ROUNDS + 1), BATCH)[:len(computed)]
colours = plt.get_cmap("plasma", ROUNDS)
ax.scatter(*pool_xy[computed].T, s=90, facecolors="none", edgecolors=colours(rounds - 1),
           linewidths=1.6, zorder=3)
ax.scatter([], [], s=90, facecolors="none", edgecolors=colours(0), label="computed (by round)")
for name, (px, py) in {"Li": (-0.05, -0.05), "Mn": (1.01, -0.05),
                       "O": (0.48, np.sqrt(3) / 2 + 0.02)}.items():
    ax.annotate(name, (px, py), fontsize=11)
ax.set_aspect("equal")
ax.axis("off")
ax.legend(loc="upper left", fontsize=8)
fig.colorbar(plt.cm.ScalarMappable(plt.Normalize(0.5, ROUNDS + 0.5), colours), ax=ax,
             shrink=0.7, label="round", ticks=range(1, ROUNDS + 1))

n = np.arange(1, len(computed) + 1)
draw = hypergeom(len(pool), stable.sum(), n)
curve.plot(BATCH * np.arange(1, ROUNDS + 1), found, "o-", label="lower confidence bound")
curve.plot(n, n * stable.mean(), "--", color="gray", label="random")
curve.fill_between(n, draw.ppf(0.1), draw.ppf(0.9), color="gray", alpha=0.2, step="mid")
curve.set_xlabel("compositions computed")
curve.set_ylabel("stable compounds found")
curve.legend()
fig.tight_layout()
