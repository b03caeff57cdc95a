"""The traditional machine-learning baseline: a grid search over classic regressors or classifiers.

Random forest, extra trees, histogram gradient boosting, k-nearest neighbours,
ridge regression and (in the ``full`` grid) a support-vector regressor, on the
86 element fractions; for labels the same forests, boosting and kNN as
classifiers, logistic regression and (``default`` and ``full`` grids) an RBF
support-vector classifier. Every candidate is fitted on the training part and
scored on the validation part (MAE for numbers, ROC-AUC for labels), which is what
``GridSearchCV(cv=PredefinedSplit(...), refit=False)`` does on the training
and validation rows; the loop is written out so that the best candidate,
already fitted on the training part, is kept instead of fitted again, a
failing candidate is skipped, and progress is reported.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.linalg import LinAlgWarning
from sklearn.base import clone
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import ParameterGrid
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC, SVR

from .errors import BenchmarkError
from .tasks import RegressionTask, SearchScores, Task

__all__ = ["TRADML_GRIDS", "TradMLSearchResult", "holdout_grid_search", "tradml_param_grid"]

#: Names of the predefined grids, smallest first.
TRADML_GRIDS = ("quick", "default", "full")


def tradml_param_grid(grid: str = "default", *, seed: int = 1234567,
                      n_jobs: int = 1, task: str = "regression") -> list[dict]:
    """The candidates of a predefined grid, as a ``param_grid`` over ``Pipeline([("model", ...)])``.

    Parameters
    ----------
    grid : {"quick", "default", "full"}, default="default"
        ``quick``: one setting per regressor, a minute or so on 20k rows.
        ``default``: a modest grid (random forest and extra trees with 300
        trees and two ``max_features``, gradient boosting with 1000
        iterations, three k for kNN, three ridge penalties), several minutes.
        ``full``: adds an RBF support-vector regressor, whose fit grows with
        the square of the rows (about 10 minutes on 20k rows, one core).
    seed : int, default=1234567
        ``random_state`` of the randomized regressors.
    n_jobs : int, default=1
        ``n_jobs`` of the forests and kNN.
    task : {"regression", "classification"}, default="regression"
        Regressors, or the classifiers of :func:`_classifier_grid`.

    Returns
    -------
    list of dict
        A ``param_grid`` for :class:`sklearn.model_selection.ParameterGrid`
        or ``GridSearchCV`` over a pipeline with one step named ``model``.
    """
    if grid not in TRADML_GRIDS:
        raise BenchmarkError(f"tradml grid must be one of {TRADML_GRIDS}, got {grid!r}")
    if task == "classification":
        return _classifier_grid(grid, seed=seed, n_jobs=n_jobs)
    rf = RandomForestRegressor(random_state=seed, n_jobs=n_jobs)
    et = ExtraTreesRegressor(random_state=seed, n_jobs=n_jobs)
    hgb = HistGradientBoostingRegressor(random_state=seed, early_stopping=False)
    knn = KNeighborsRegressor(weights="distance", n_jobs=n_jobs)
    if grid == "quick":
        return [
            {"model": [rf], "model__n_estimators": [100], "model__max_features": [0.33]},
            {"model": [et], "model__n_estimators": [100], "model__max_features": [0.33]},
            {"model": [hgb], "model__max_iter": [200]},
            {"model": [knn], "model__n_neighbors": [5]},
            {"model": [Ridge()], "model__alpha": [1e-3]},
        ]
    param_grid = [
        {"model": [rf], "model__n_estimators": [300], "model__max_features": [0.33, 1.0]},
        {"model": [et], "model__n_estimators": [300], "model__max_features": [0.33, 1.0]},
        {"model": [hgb], "model__max_iter": [1000], "model__learning_rate": [0.1],
         "model__max_leaf_nodes": [63]},
        {"model": [knn], "model__n_neighbors": [3, 5, 10]},
        {"model": [Ridge()], "model__alpha": [1e-4, 1e-2, 1.0]},
    ]
    if grid == "full":
        param_grid.append({"model": [SVR()], "model__C": [10.0], "model__epsilon": [0.01]})
    return param_grid


def _classifier_grid(grid: str, *, seed: int, n_jobs: int) -> list[dict]:
    """The classifiers of each grid: the regressors' counterparts, logistic regression, an SVC.

    ``quick``: one setting each, no SVC. ``default``: the regression grid's
    settings, logistic regression at three penalties and an RBF SVC (ranked
    by its decision function: no probabilities, so no log-loss; its fit grows
    with the square of the rows, a few minutes on 20k rows). ``full`` adds a
    second SVC penalty.
    """
    rf = RandomForestClassifier(random_state=seed, n_jobs=n_jobs)
    et = ExtraTreesClassifier(random_state=seed, n_jobs=n_jobs)
    hgb = HistGradientBoostingClassifier(random_state=seed, early_stopping=False)
    knn = KNeighborsClassifier(weights="distance", n_jobs=n_jobs)
    logistic = LogisticRegression(max_iter=2000)
    if grid == "quick":
        return [
            {"model": [rf], "model__n_estimators": [100], "model__max_features": ["sqrt"]},
            {"model": [et], "model__n_estimators": [100], "model__max_features": ["sqrt"]},
            {"model": [hgb], "model__max_iter": [200]},
            {"model": [knn], "model__n_neighbors": [10]},
            {"model": [logistic], "model__C": [10.0]},
        ]
    return [
        {"model": [rf], "model__n_estimators": [300], "model__max_features": ["sqrt", 0.33]},
        {"model": [et], "model__n_estimators": [300], "model__max_features": ["sqrt", 0.33]},
        {"model": [hgb], "model__max_iter": [1000], "model__learning_rate": [0.1],
         "model__max_leaf_nodes": [63]},
        {"model": [knn], "model__n_neighbors": [5, 10, 20]},
        {"model": [logistic], "model__C": [1.0, 10.0, 100.0]},
        {"model": [SVC(random_state=seed)], "model__C": [10.0] if grid == "default"
         else [1.0, 10.0]},
    ]


def _describe(params: dict) -> str:
    model = params["model"]
    settings = ", ".join(
        f"{key.split('__', 1)[1]}={value!r}" for key, value in params.items() if key != "model"
    )
    return f"{type(model).__name__}({settings})"


@dataclass
class TradMLSearchResult(SearchScores):
    """Outcome of :func:`holdout_grid_search`.

    Attributes
    ----------
    best_estimator : sklearn.pipeline.Pipeline
        The best candidate, fitted on the training rows.
    best_params : dict
        Its parameters.
    best_loss : float
        Its validation loss: the MAE, or 1 - ROC-AUC for a classification task.
    task : Task
        The task searched (regression or classification): it turns the loss
        into ``best_score``.
    candidates : list of dict
        Every candidate: description, validation metric (``valid_mae`` or
        ``valid_roc_auc``; None when it failed), fit seconds, failure reason.
    seconds : float
        Wall-clock time of the search.
    """

    best_estimator: Pipeline
    best_params: dict
    best_loss: float
    candidates: list = field(default_factory=list)
    seconds: float = 0.0
    task: Task = field(default_factory=RegressionTask)

    @property
    def description(self) -> str:
        """str : The best candidate, e.g. ``ExtraTreesRegressor(max_features=0.33)``."""
        return _describe(self.best_params)


def holdout_grid_search(
    param_grid: list[dict] | dict,
    X_train: Any,
    y_train: Any,
    X_val: Any,
    y_val: Any,
    *,
    progress: Callable[[str], None] | None = None,
    task: Task | None = None,
) -> TradMLSearchResult:
    """Fit every candidate on the training rows and keep the one with the best validation score.

    Parameters
    ----------
    param_grid : dict or list of dict
        As for ``GridSearchCV`` over ``Pipeline([("model", ...)])`` (see
        :func:`tradml_param_grid`).
    X_train, y_train, X_val, y_val : array-like
        The training and validation parts.
    progress : callable or None
        Called with one line of text after every candidate.
    task : Task or None, default=None
        What is scored: the MAE (``None``: regression), or the ROC-AUC of a
        :class:`~skmatnet.benchmark.tasks.ClassificationTask`.

    Returns
    -------
    TradMLSearchResult

    Raises
    ------
    BenchmarkError
        If every candidate failed.
    """
    say = progress or (lambda line: None)
    task = task if task is not None else RegressionTask()
    metric, name = f"valid_{task.val_metric}", task.val_label
    grid = list(ParameterGrid(param_grid))
    template = Pipeline([("model", Ridge())])
    start = time.monotonic()
    best = None
    candidates = []
    for number, params in enumerate(grid, 1):
        description = _describe(params)
        estimator = clone(template).set_params(**{
            k: clone(v) if k == "model" else v for k, v in params.items()
        })
        t0 = time.monotonic()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=UserWarning)
                # e.g. ridge with a tiny penalty on the collinear fractions (they sum to 1)
                warnings.simplefilter("ignore", category=LinAlgWarning)
                estimator.fit(X_train, y_train)
                loss = task.loss(estimator, X_val, y_val)
            if not np.isfinite(loss):
                raise ValueError(f"non-finite validation {name}")
            failure = None
        except (ValueError, ArithmeticError, MemoryError, np.linalg.LinAlgError) as exc:
            loss, failure = None, f"{type(exc).__name__}: {exc}"[:300]
        seconds = time.monotonic() - t0
        score = None if loss is None else task.score_of(loss)
        candidates.append({"candidate": description, metric: score,
                           "seconds": round(seconds, 2), "failure": failure})
        if loss is not None and (best is None or loss < best[0]):
            best = (loss, estimator, params, score)
        shown = f"valid {name} {score:.4f}" if loss is not None else f"failed: {failure[:80]}"
        best_text = f"best {best[3]:.4f}" if best else "no success yet"
        say(f"candidate {number}/{len(grid)} {description} {shown}; {best_text} "
            f"({time.monotonic() - start:.0f} s)")
    if best is None:
        raise BenchmarkError(
            f"all {len(grid)} trad. ML candidates failed: {candidates[0]['failure']}"
        )
    loss, estimator, params, _ = best
    return TradMLSearchResult(best_estimator=estimator, best_params=params, best_loss=loss,
                              candidates=candidates, seconds=time.monotonic() - start,
                              task=task)
