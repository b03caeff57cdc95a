"""
Load a dataset and featurize it
===============================

Load JARVIS-DFT formation energies, turn every formula into its 86 element fractions, and
look at what the data hold: the most common elements, how many elements a compound has, and
the spread of the target.
"""

# %%
# Settings: this one is the same in the gallery and from the command line (a second or two);
# ``python examples/basics/featurize_dataset.py mp_formation_energy`` summarizes another
# dataset. The files are found through ``SKMATNET_DATA`` or downloaded once into the cache.
import sys

NAME = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "jarvis_formation_energy")

# %%
# What the dataset is, where it comes from, and how it is deduplicated: the papers keep the
# lowest value per composition, which is the loaders' default (``dedupe="min"``).
import time

from skmatnet import describe_dataset, load_dataset

info = describe_dataset(NAME)
print(info.summary())

start = time.perf_counter()
raw = load_dataset(NAME, dedupe=None)
data = load_dataset(NAME)
print(f"\nrows as published: {len(raw):,}; distinct formulas: {raw['formula'].nunique():,}; "
      f"distinct compositions: {len(data):,} (loaded and checked in "
      f"{time.perf_counter() - start:.2f} s)")

# %%
# Featurize: each formula becomes the fractions of the 86 elements the networks know, in
# float32. The featurizer parses nested groups and fractional amounts exactly.
from skmatnet import ELEMENTS, ElementFractionTransformer

start = time.perf_counter()
X = ElementFractionTransformer().fit_transform(data["formula"])
seconds = time.perf_counter() - start
print(f"featurized {X.shape[0]:,} x {X.shape[1]} {X.dtype} in {seconds:.3f} s "
      f"({1e6 * seconds / len(X):.1f} µs per formula)")

# %%
# The most common elements, and the number of elements per compound.
import matplotlib.pyplot as plt
import numpy as np

present = X > 0
per_element = present.sum(axis=0)
for i in np.argsort(per_element)[::-1][:8]:
    print(f"{ELEMENTS[i]:>2}: in {per_element[i]:6,} compounds ({per_element[i] / len(X):.1%})")

counts = np.bincount(present.sum(axis=1))
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
left.bar(np.arange(len(counts))[1:], counts[1:], color="C0")
left.set_xlabel("elements in the compound")
left.set_ylabel("compounds")
y = data["target"].to_numpy()
right.hist(y, bins=60, color="C1")
right.set_xlabel(f"{info.target} ({info.units})")
right.set_ylabel("compounds")
fig.tight_layout()

median = np.median(y)
print(f"target mean {y.mean():.3f}, std {y.std():.3f} {info.units}; "
      f"predicting the median everywhere gives MAE {np.abs(y - median).mean():.3f}")
