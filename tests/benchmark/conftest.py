"""Fixtures of the benchmark tests: the real JARVIS rows, loaded once."""

from __future__ import annotations

import pytest
from bench_settings import DATASET

from skmatnet.benchmark import load_benchmark_data


@pytest.fixture(scope="module")
def jarvis():
    return load_benchmark_data(DATASET)
