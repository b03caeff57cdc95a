"""Fitting one benchmark model under a split, and what its fits are worth.

Shared by both ways of running a benchmark's models (:mod:`._serial_runner`, in this
process; :mod:`._dask_runner`, as Dask tasks), so that a model's outcome is measured and
assembled the same way wherever it ran.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from .data import BenchmarkData
from .models import count_model_parameters
from .protocols import FitOutcome, Split
from .tasks import Task

__all__ = ["fit_model", "make_outcome", "measure_fit"]


def measure_fit(task: Task, model: Any, X_val: Any, y_val: Any, X_test: Any) -> dict:
    """A fitted model's validation score, test outputs, prediction time and parameter count.

    Parameters
    ----------
    task : Task
        The target's kind: how outputs are computed and the validation rows scored.
    model : object
        A fitted model.
    X_val, y_val : array-like
        The validation rows and their targets, for the validation score.
    X_test : array-like
        The test rows, whose outputs are returned (and their prediction timed).

    Returns
    -------
    dict
        ``val_score``, ``predictions`` (the test outputs), ``predict_seconds`` and
        ``n_parameters`` (:func:`~skmatnet.benchmark.models.count_model_parameters`).
    """
    val_score = task.val_score(y_val, task.outputs(model, X_val))
    t0 = time.monotonic()
    outputs = task.outputs(model, X_test)
    return {"val_score": val_score, "predictions": outputs,
            "predict_seconds": time.monotonic() - t0,
            "n_parameters": count_model_parameters(model)}


def make_outcome(runner: Any, models: list, infos: list, measures: list, details: dict,
                 train_seconds: float, search_seconds: float) -> tuple[FitOutcome, dict]:
    """The :class:`FitOutcome` and details of one model from its fits' :func:`measure_fit`.

    Parameters
    ----------
    runner : ModelRunner
        The model's runner (its ``name`` and ``task``).
    models : list
        The fitted models, one per fit of the split.
    infos : list of dict
        Per fitted model, what its fit reported (epochs, best epoch, ...).
    measures : list of dict
        Per fitted model, what :func:`measure_fit` returned.
    details : dict
        What preparing the model reported (the search's results); ``best_summary``
        becomes the outcome's summary.
    train_seconds : float
        Seconds of preparing and fitting every model, recorded as
        ``search_and_train_seconds``.
    search_seconds : float
        Seconds of preparing the model (its search), recorded as ``prepare_seconds``.

    Returns
    -------
    outcome : FitOutcome
    details : dict
        ``details`` with the timings, the fits' ``infos`` and the validation score of
        each fit added.
    """
    task = runner.task
    val_scores = [m["val_score"] for m in measures]
    outcome = FitOutcome(
        name=runner.name, models=models, infos=infos, val_scores=val_scores,
        predictions=[m["predictions"] for m in measures],
        predict_seconds=[m["predict_seconds"] for m in measures],
        n_parameters=[m["n_parameters"] for m in measures],
        train_seconds=train_seconds, summary=details.get("best_summary", ""), task=task,
    )
    details = {**details, "search_and_train_seconds": train_seconds,
               "prepare_seconds": search_seconds, "fits": infos,
               f"val_{task.val_metric}_per_fit": val_scores}
    return outcome, details


def fit_model(runner: Any, data: BenchmarkData, split: Split, *, verbose: bool,
              check: Callable[[], None]) -> tuple[FitOutcome, dict]:
    """Prepare the model on the first fit's rows, then fit it on every fit of the split.

    ``check`` is called after each step: it raises ``KeyboardInterrupt`` after Ctrl-C,
    which skorch ends a fit on quietly.

    Parameters
    ----------
    runner : ModelRunner
        Prepares and fits the model (:func:`~skmatnet.benchmark.models.get_runner`).
    data : BenchmarkData
        The rows and their features.
    split : Split
        The protocol's split: the fits' training and validation rows, and the test rows.
    verbose : bool
        Print progress lines, tagged with the model name, on stderr.
    check : callable
        Called without arguments after preparing and after each fit; raises to stop.

    Returns
    -------
    outcome : FitOutcome
    details : dict
        What :func:`make_outcome` returns.
    """
    name = runner.name

    def log(message: str) -> None:
        if verbose:
            print(f"[{name}] {message}", file=sys.stderr, flush=True)

    X, y = data.X, data.y
    fits = split.fits()
    start = time.monotonic()
    _, tr0, va0 = fits[0]
    template, details, prefitted = runner.prepare(X[tr0], y[tr0], X[va0], y[va0], log)
    check()
    search_seconds = time.monotonic() - start
    models, infos = [], []
    for i, (label, tr, va) in enumerate(fits):
        if i == 0 and prefitted is not None:
            model, info = prefitted, {}
        else:
            model, info = runner.fit(template, X[tr], y[tr], X[va], y[va], label, log,
                                     verbose)
        check()  # skorch ends training quietly on Ctrl-C: stop here instead
        models.append(model)
        infos.append(info)
    train_seconds = time.monotonic() - start
    X_test = X[split.test]
    measures = [measure_fit(runner.task, m, X[va], y[va], X_test)
                for m, (_, _, va) in zip(models, fits, strict=True)]
    return make_outcome(runner, models, infos, measures, details, train_seconds,
                        search_seconds)
