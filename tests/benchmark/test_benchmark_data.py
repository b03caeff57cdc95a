"""The benchmark's rows (skmatnet.benchmark.data): deduplicated, featurized, subsampled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bench_settings import DATASET
from shared_data import needs_data

from skmatnet.benchmark import (
    BenchmarkError,
    load_benchmark_data,
    make_split,
)
from skmatnet.benchmark.data import _dedupe

pytestmark = needs_data


def test_data_is_deduplicated_and_featurized(jarvis):
    assert len(jarvis) == 26_741  # the BRNet rule: lowest value per composition
    assert jarvis.X.shape == (26_741, 86) and jarvis.X.dtype == np.float32
    np.testing.assert_allclose(jarvis.X.sum(axis=1), 1.0, atol=1e-5)
    assert jarvis.units == "eV/atom"
    assert jarvis.source["n_rows_read"] == 28_108
    # one row per composition
    keys = {row.tobytes() for row in jarvis.X}
    assert len(keys) == len(jarvis)


def test_subsampling_happens_before_splitting(jarvis):
    small = load_benchmark_data(DATASET, max_rows=500)
    assert len(small) == 500
    assert set(small.formulas) <= set(jarvis.formulas)
    again = load_benchmark_data(DATASET, max_rows=500)
    np.testing.assert_array_equal(small.formulas, again.formulas)
    split = make_split(small, "brnet")
    assert len(split.train) + len(split.val) + len(split.test) == 500


def test_csv_input_dedupes_like_the_brnet_protocol(tmp_path):
    # Pure logic: the lowest value per composition; Fe2O3 and Fe4O6 are one composition.
    path = tmp_path / "tiny.csv"
    pd.DataFrame({
        "composition": ["Fe2O3", "Fe4O6", "NaCl", "NaN"] * 6,
        "E": [1.0, -1.0, 0.5, 2.0] * 6,
    }).to_csv(path, index=False)
    # 3 compositions: too few rows for a benchmark, but the rule shows in the error.
    with pytest.raises(BenchmarkError, match="only 3 usable rows"):
        load_benchmark_data(path, formula_column="composition", target_column="E")
    data = load_benchmark_data(path, formula_column="composition", target_column="E",
                               dedupe=None)
    assert len(data) == 24 and "NaN" in set(data.formulas)  # sodium nitride, not missing
    f, y, _ = _dedupe(data.formulas, data.y, data.X, "min")
    assert dict(zip(f, y, strict=True)) == {"Fe4O6": -1.0, "NaCl": 0.5, "NaN": 2.0}
