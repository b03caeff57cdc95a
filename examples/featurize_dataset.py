"""Load a dataset, featurize it into element fractions and summarize it.

Run from anywhere; the data are found through ``SKMATNET_DATA`` (a directory
holding the files, e.g. a copy of ``shared/data``) or downloaded into the cache::

    SKMATNET_DATA=../shared/data python examples/featurize_dataset.py
    python examples/featurize_dataset.py mp_formation_energy

It takes a second or two for the JARVIS data.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from skmatnet import ELEMENTS, ElementFractionTransformer
from skmatnet.datasets import describe_dataset, load_dataset


def main(name: str = "jarvis_formation_energy") -> None:
    info = describe_dataset(name)
    print(info.summary())
    print()

    start = time.perf_counter()
    raw = load_dataset(name, dedupe=None)
    data = load_dataset(name)  # BRNet protocol: lowest value per composition
    load_time = time.perf_counter() - start
    print(f"rows as published:      {len(raw):,}")
    print(f"distinct formulas:      {raw['formula'].nunique():,}")
    print(f"distinct compositions:  {len(data):,}  (dedupe='min', kept below)")
    if "split" in data:
        parts = ", ".join(f"{k} {v:,}" for k, v in data["split"].value_counts(sort=False).items())
        print(f"published split after dedupe: {parts}")
    print(f"loading (both, checksums included): {load_time:.2f} s")

    start = time.perf_counter()
    X = ElementFractionTransformer().fit_transform(data["formula"])
    featurize_time = time.perf_counter() - start
    print(
        f"featurized: {X.shape[0]:,} x {X.shape[1]} {X.dtype} in {featurize_time:.3f} s "
        f"({1e6 * featurize_time / len(X):.1f} µs per formula)"
    )

    present = X > 0
    per_element = present.sum(axis=0)
    top = np.argsort(per_element)[::-1][:10]
    print("\nmost common elements (compounds containing them):")
    for i in top:
        print(f"  {ELEMENTS[i]:>2}  {per_element[i]:7,}  {per_element[i] / len(X):6.1%}")

    counts = np.bincount(present.sum(axis=1))
    width = 50 / counts.max()
    print("\nnumber of elements per compound:")
    for k, c in enumerate(counts):
        if c:
            print(f"  {k}  {c:7,}  {'#' * max(1, round(c * width))}")

    y = data["target"].to_numpy()
    q = np.percentile(y, [5, 25, 50, 75, 95])
    print(f"\ntarget: {info.target} [{info.units}]")
    print(f"  mean {y.mean():.3f}  std {y.std():.3f}  min {y.min():.3f}  max {y.max():.3f}")
    print("  percentiles 5/25/50/75/95: " + " / ".join(f"{v:.3f}" for v in q))
    print(f"  MAE of predicting the median: {np.abs(y - q[2]).mean():.3f} {info.units}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
