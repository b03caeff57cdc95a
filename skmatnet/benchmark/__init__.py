"""How much better is a deep network than the best AutoML or classic model, at what cost?

:func:`run_benchmark` (and the ``skmatnet benchmark`` command) answers that on
one dataset: it splits the rows once by a published protocol (``brnet`` or
``tatis``), trains the AutoML baseline (hyperopt-sklearn), a traditional-ML
grid search and any of the six networks on exactly those rows, and writes a
table of test MAE, RMSE, R², training and prediction time, parameter count
and epochs, beside the published numbers, with charts, the fitted models and
a record of the environment.

>>> from skmatnet.benchmark import run_benchmark
>>> result = run_benchmark("jarvis_formation_energy", quick=True)  # doctest: +SKIP
>>> print(result.to_text())  # doctest: +SKIP
"""

from __future__ import annotations

from .models import (
    DEFAULT_MODELS,
    MODEL_NAMES,
    FoldEnsembleRegressor,
    count_model_parameters,
    parse_models,
)
from .protocols import (
    PROTOCOLS,
    BenchmarkData,
    BenchmarkError,
    Split,
    load_benchmark_data,
    make_split,
)
from .published import PUBLISHED, PublishedResult, published_result
from .report import TABLE_COLUMNS
from .runner import (
    FULL_SETTINGS,
    QUICK_SETTINGS,
    BenchmarkInterrupted,
    BenchmarkResult,
    run_benchmark,
)

__all__ = [
    "DEFAULT_MODELS",
    "FULL_SETTINGS",
    "MODEL_NAMES",
    "PROTOCOLS",
    "PUBLISHED",
    "QUICK_SETTINGS",
    "TABLE_COLUMNS",
    "BenchmarkData",
    "BenchmarkError",
    "BenchmarkInterrupted",
    "BenchmarkResult",
    "FoldEnsembleRegressor",
    "PublishedResult",
    "Split",
    "count_model_parameters",
    "load_benchmark_data",
    "make_split",
    "parse_models",
    "published_result",
    "run_benchmark",
]
