"""How much better is a deep network than the best AutoML or classic model, at what cost?

:func:`run_benchmark` (and the ``skmatnet benchmark`` command) answers that on
one dataset: it splits the rows once by a published protocol (``brnet`` or
``tatis``), trains the AutoML baseline (hyperopt-sklearn), a traditional-ML
grid search and any of the six networks on exactly those rows, and writes a
table of test MAE, RMSE, R², training and prediction time, parameter count
and epochs, beside the published numbers, with charts, the fitted models and
a record of the environment. For a label target (classification) the table
has ROC-AUC, accuracy, F1 and log-loss, with a ROC-curve plot.

>>> from skmatnet.benchmark import run_benchmark
>>> result = run_benchmark("jarvis_formation_energy", quick=True)  # doctest: +SKIP
>>> print(result.to_text())  # doctest: +SKIP

The pieces, one concern per module: :mod:`.config` (the frozen
:class:`BenchmarkConfig`), :mod:`.data` (rows and features), :mod:`.protocols`
(splits and result rows), :mod:`.tasks` (regression or classification: the
metrics and outputs), :mod:`.models` (the model runners), :mod:`.fitting`
(fitting and measuring one model), :mod:`.runner` (the run, its models run
in this process or on Dask by an executor from ``runner.EXECUTORS``),
:mod:`.output` (files and resume), :mod:`.results` (the results page),
:mod:`.tables`, :mod:`.charts` and :mod:`.environment` (re-exported by
:mod:`.report`).
"""

from __future__ import annotations

from .config import FULL_SETTINGS, QUICK_SETTINGS, BenchmarkConfig
from .data import BenchmarkData, load_benchmark_data
from .errors import BenchmarkError, BenchmarkInterrupted
from .models import (
    DEFAULT_MODELS,
    MODEL_NAMES,
    FoldEnsembleClassifier,
    FoldEnsembleRegressor,
    count_model_parameters,
    parse_models,
)
from .output import load_fitted_model
from .protocols import PROTOCOLS, BRNetProtocol, Split, TatisProtocol, get_protocol, make_split
from .published import PUBLISHED, PublishedResult, published_result
from .runner import Benchmark, BenchmarkResult, run, run_benchmark
from .tables import TABLE_COLUMNS
from .tasks import ClassificationTask, RegressionTask, Task

__all__ = [
    "DEFAULT_MODELS",
    "FULL_SETTINGS",
    "MODEL_NAMES",
    "PROTOCOLS",
    "PUBLISHED",
    "QUICK_SETTINGS",
    "TABLE_COLUMNS",
    "BRNetProtocol",
    "Benchmark",
    "BenchmarkConfig",
    "BenchmarkData",
    "BenchmarkError",
    "BenchmarkInterrupted",
    "BenchmarkResult",
    "ClassificationTask",
    "FoldEnsembleClassifier",
    "FoldEnsembleRegressor",
    "PublishedResult",
    "RegressionTask",
    "Split",
    "Task",
    "TatisProtocol",
    "count_model_parameters",
    "get_protocol",
    "load_benchmark_data",
    "load_fitted_model",
    "make_split",
    "parse_models",
    "published_result",
    "run",
    "run_benchmark",
]
