"""Featurization speed: skmatnet vs pymatgen (and matminer) on all OQMD band-gap formulas.

Run: ``python benchmarks/featurizer_speed.py [--limit N] [--repeats R]``
(``make bench-featurizer``). Prints a Markdown table and writes
``benchmarks/results/featurizer_speed.{json,csv}``.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc

import numpy as np
from _common import machine, markdown_table, ratio, save

from skmatnet import ELEMENTS, element_fractions
from skmatnet.datasets import load_dataset

INDEX = {symbol: i for i, symbol in enumerate(ELEMENTS)}


def timed(function, formulas, repeats: int) -> tuple[np.ndarray, float, float]:
    """Best wall time of ``repeats`` calls and the peak traced memory of one call."""
    best = np.inf
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = function(formulas)
        best = min(best, time.perf_counter() - start)
        del result
    gc.collect()
    tracemalloc.start()
    result = function(formulas)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, best, peak


def pymatgen_fractions(formulas) -> np.ndarray:
    from pymatgen.core import Composition

    out = np.zeros((len(formulas), len(ELEMENTS)), dtype=np.float32)
    for row, formula in enumerate(formulas):
        for symbol, amount in Composition(formula).fractional_composition.items():
            out[row, INDEX[symbol.symbol]] = amount
    return out


def matminer_fractions(formulas) -> np.ndarray:
    from matminer.featurizers.composition import ElementFraction
    from pymatgen.core import Composition

    featurizer = ElementFraction()
    featurizer.set_n_jobs(1)
    labels = featurizer.feature_labels()
    columns = [labels.index(symbol) for symbol in ELEMENTS]
    rows = [featurizer.featurize(Composition(f)) for f in formulas]
    return np.asarray(rows, dtype=np.float32)[:, columns]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N formulas")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of skmatnet")
    args = parser.parse_args()

    formulas = load_dataset("oqmd_bandgap", dedupe=None)["formula"].tolist()[: args.limit]
    n = len(formulas)
    print(f"{n:,} formulas (OQMD band gap, train+val+test), {len(set(formulas)):,} distinct")

    ours, ours_time, ours_peak = timed(element_fractions, formulas, args.repeats)
    # Each formula twice: the parse-once path (half as many distinct strings as rows).
    _, repeated_time, _ = timed(element_fractions, formulas[: n // 2] * 2, args.repeats)
    rows = [{
        "method": "skmatnet element_fractions",
        "seconds": round(ours_time, 3),
        "formulas_per_s": round(n / ours_time),
        "peak_MiB": round(ours_peak / 2**20, 1),
        "speedup_vs_pymatgen": None,
        "identical_to_pymatgen": None,
    }]
    rows.append({
        "method": "skmatnet, each of n/2 formulas twice",
        "seconds": round(repeated_time, 3),
        "formulas_per_s": round(n / repeated_time),
        "peak_MiB": None,
        "speedup_vs_pymatgen": None,
        "identical_to_pymatgen": None,
    })

    reference, pmg_time, pmg_peak = timed(pymatgen_fractions, formulas, 1)
    identical = bool(np.array_equal(ours, reference))
    rows.append({
        "method": "pymatgen Composition(f).fractional_composition",
        "seconds": round(pmg_time, 3),
        "formulas_per_s": round(n / pmg_time),
        "peak_MiB": round(pmg_peak / 2**20, 1),
        "speedup_vs_pymatgen": 1.0,
        "identical_to_pymatgen": True,
    })
    # From the unrounded times: row["seconds"] is rounded for the table.
    for row, seconds in zip(rows[:2], (ours_time, repeated_time), strict=True):
        row["speedup_vs_pymatgen"] = round(ratio(pmg_time, seconds), 1)
        row["identical_to_pymatgen"] = identical

    try:
        import matminer  # noqa: F401
    except ImportError:
        print("matminer not installed: skipped (pip install matminer)")
    else:
        mm, mm_time, mm_peak = timed(matminer_fractions, formulas, 1)
        rows.append({
            "method": "matminer ElementFraction (n_jobs=1)",
            "seconds": round(mm_time, 3),
            "formulas_per_s": round(n / mm_time),
            "peak_MiB": round(mm_peak / 2**20, 1),
            "speedup_vs_pymatgen": round(pmg_time / mm_time, 2),
            "identical_to_pymatgen": bool(np.allclose(mm, reference, rtol=1e-6, atol=0)),
        })

    print(markdown_table(rows, list(rows[0])))
    info = machine()
    print(f"\nmachine: {info['processor']}, {info['cpu_count']} cores, {info['date']}")
    paths = save("featurizer_speed", rows, {"n_formulas": n})
    print("saved", *paths)
    if not identical:
        raise SystemExit("skmatnet output differs from pymatgen")


if __name__ == "__main__":
    main()
