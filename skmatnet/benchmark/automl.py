"""The AutoML baseline: a hyperopt-sklearn search, hardened for long unattended runs.

The search is hyperopt-sklearn's :class:`hpsklearn.HyperoptEstimator`: its
search space (``any_regressor`` x ``any_preprocessing`` by default;
``any_classifier`` for labels), its trial evaluation (``_cost_fn``: fit
preprocessing and regressor on the training part, score the MAE on the
validation part) and TPE from hyperopt. A classification trial is scored by
its validation ROC-AUC instead (:func:`_classifier_cost`), which
hyperopt-sklearn cannot do for its whole space: its probability-based losses
need ``predict_proba``, which its SVC and hinge-loss SGD lack, and its
default loss, 1 - accuracy, ignores how the classes are ranked. Only the loop that runs
the trials is replaced, because hyperopt-sklearn 1.1.1's own loop

- forks each trial from the calling process, which hangs after OpenMP code
  ran there and breaks once CUDA is initialised;
- aborts the whole search when one trial raises an unexpected error;
- has no overall time budget (only a per-trial timeout), and shows no
  progress.

Here each trial runs in a fresh process of a ``forkserver`` (a clean process
without OpenMP threads or CUDA) with its thread pools limited to one thread;
any error, crash or timeout marks that trial failed and the search goes on;
the search stops at ``max_evals`` trials or after ``time_budget`` seconds,
whichever comes first; and a callback reports every trial. The best
configuration is returned as an unfitted scikit-learn :class:`Pipeline`
(preprocessing steps, then the regressor), so the fitted model can be used
and loaded without hyperopt-sklearn.

hyperopt-sklearn 1.1.1 pins an old stack; install it without its pins::

    pip install "skmatnet[automl]"
    pip install --no-deps hyperopt-sklearn==1.1.1
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.metrics import mean_absolute_error
from sklearn.pipeline import Pipeline

# The trial machinery and the ask-and-tell proposals live in their own modules; the
# names that only the Dask runner and the tests use are re-exported here ("as").
from ._proposals import TrialProposals as TrialProposals
from ._proposals import _never_called as _never_called
from ._trials import _PRELOAD as _PRELOAD
from ._trials import _classifier_cost, _context, _quiet, _run_trial
from ._trials import _trial_main as _trial_main
from .errors import BenchmarkError
from .tasks import RegressionTask, SearchScores, Task

__all__ = ["AUTOML_SPACES", "INSTALL_HINT", "AutoMLSearchResult", "check_hpsklearn",
           "hyperopt_search"]

#: How to install the AutoML dependencies on the current scientific Python stack.
INSTALL_HINT = (
    "pip install 'skmatnet[automl]' && pip install --no-deps hyperopt-sklearn==1.1.1"
)

#: The search spaces: hpsklearn any_regressor x any_preprocessing, or all regressors.
AUTOML_SPACES = ("any", "all")


def check_hpsklearn() -> str:
    """Check that hyperopt-sklearn and hyperopt import; return hpsklearn's version.

    Raises
    ------
    BenchmarkError
        With the install command, when either is missing or broken.
    """
    try:
        import hpsklearn  # noqa: F401
        import hyperopt  # noqa: F401
    except Exception as exc:  # ImportError, or hyperopt 0.2.7's missing pkg_resources
        raise BenchmarkError(
            f"the AutoML baseline needs hyperopt-sklearn, which cannot be imported ({exc}); "
            f"install it with: {INSTALL_HINT} (or leave 'automl' out of the models)"
        ) from None
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hyperopt-sklearn")
    except PackageNotFoundError:  # pragma: no cover - imported from a source tree
        return "unknown"


@dataclass
class AutoMLSearchResult(SearchScores):
    """Outcome of :func:`hyperopt_search`.

    Attributes
    ----------
    best_pipeline : sklearn.pipeline.Pipeline
        The best configuration, unfitted: preprocessing steps then ``model``.
    best_loss : float
        Its validation loss: the MAE, or 1 - ROC-AUC for a classification task.
    task : Task
        The task searched (regression or classification): it turns the loss
        into ``best_score``.
    estimator : hpsklearn.HyperoptEstimator
        The estimator whose space was searched, holding the hyperopt
        ``trials`` and the best learner and preprocessing found.
    trials : list of dict
        One entry per trial: number, status, validation metric (``valid_mae``
        or ``valid_roc_auc``), model, preprocessing, seconds, failure reason.
    seconds : float
        Wall-clock time of the search.
    stopped : str
        Why the search ended: ``"max_evals"`` or ``"time_budget"``.
    """

    best_pipeline: Pipeline
    best_loss: float
    estimator: Any
    trials: list = field(default_factory=list)
    seconds: float = 0.0
    stopped: str = "max_evals"
    task: Task = field(default_factory=RegressionTask)

    @property
    def n_ok(self) -> int:
        """int : Number of trials that finished."""
        return sum(t["status"] == "ok" for t in self.trials)

    @property
    def n_failed(self) -> int:
        """int : Number of trials that failed or timed out."""
        return len(self.trials) - self.n_ok


def _describe(learner: Any, preprocs: Any) -> tuple[str, str]:
    steps = [type(p).__name__ for p in (preprocs or ())]
    return type(learner).__name__, "+".join(steps) or "none"



class _TrialSearch:
    """What the serial and the Dask trial loops share: the space, the cost function, the records.

    Built from the arguments of :func:`hyperopt_search` (checked here); a loop asks
    :meth:`limit` how long the next trial may run, runs it, and hands the outcome to
    :meth:`record`, which returns the result to give hyperopt; :meth:`result` ends it.
    """

    def __init__(self, X_train, y_train, X_val, y_val, *, max_evals, time_budget,
                 trial_timeout, seed, space, n_jobs, progress, task):
        check_hpsklearn()
        import hyperopt
        from hpsklearn import (
            HyperoptEstimator,
            all_classifiers,
            all_regressors,
            any_classifier,
            any_preprocessing,
            any_regressor,
        )
        from hpsklearn.estimator._cost_fn import _cost_fn

        task = task if task is not None else RegressionTask()
        self.task = task
        self.classify = classify = task.name == "classification"
        if space not in AUTOML_SPACES:
            raise BenchmarkError(f"AutoML space must be one of {AUTOML_SPACES}, got {space!r}")
        if isinstance(max_evals, bool) or not isinstance(max_evals, (int, np.integer)) \
                or max_evals < 1:
            raise BenchmarkError(f"AutoML max_evals must be a positive int, got {max_evals!r}")
        for name, value in (("time_budget", time_budget), ("trial_timeout", trial_timeout)):
            if value is not None and not value > 0:
                raise BenchmarkError(f"AutoML {name} must be positive seconds or None, "
                                     f"got {value!r}")
        self.max_evals, self.time_budget, self.trial_timeout = int(max_evals), time_budget, \
            trial_timeout
        self.say = progress or (lambda line: None)

        if classify:
            model_space = {"classifier": (any_classifier if space == "any"
                                          else all_classifiers)("classifier")}
        else:
            model_space = {"regressor": (any_regressor if space == "any"
                                         else all_regressors)("regressor")}
        estimator = HyperoptEstimator(
            **model_space,
            preprocessing=any_preprocessing("preprocessing"),
            algo=hyperopt.tpe.suggest,
            max_evals=int(max_evals),
            loss_fn=mean_absolute_error,
            trial_timeout=trial_timeout,
            seed=int(seed),
            refit=False,
            n_jobs=int(n_jobs),
        )
        estimator._init()  # builds the search space and the seeded random state
        estimator.trials = hyperopt.Trials()
        self.estimator = estimator

        # The training rows first, then the validation rows: with shuffle=False
        # hpsklearn scores each trial on the last `valid_size` of the rows, and a
        # valid_size of (n_val - 0.5) / n makes that exactly the n_val validation rows.
        n_val = len(y_val)
        if n_val < 1 or len(y_train) < 2:
            raise BenchmarkError("the AutoML search needs training and validation rows")
        if classify:
            self.fn = partial(_classifier_cost, X_train=np.asarray(X_train),
                              y_train=np.asarray(y_train), X_val=np.asarray(X_val),
                              y_val=np.asarray(y_val), task=task, n_jobs=int(n_jobs))
        else:
            X = np.concatenate([np.asarray(X_train), np.asarray(X_val)])
            y = np.concatenate([np.asarray(y_train, dtype=np.float64),
                                np.asarray(y_val, dtype=np.float64)])
            self.fn = partial(
                _cost_fn, X=X, y=y, EX_list=None, valid_size=(n_val - 0.5) / len(y),
                n_folds=None, kfolds_group=None, shuffle=False, random_state=int(seed),
                use_partial_fit=False, info=_quiet, timeout=trial_timeout,
                loss_fn=mean_absolute_error, continuous_loss_fn=False, n_jobs=int(n_jobs),
            )
        self.metric = f"valid_{task.val_metric}"
        self.records: list[dict] = []
        self.best_loss = float("inf")
        self.start = time.monotonic()

    def budget_spent(self) -> bool:
        """Whether the search's time budget is used up (no new trial may start)."""
        return self.time_budget is not None and \
            time.monotonic() - self.start >= self.time_budget

    def limit(self) -> float:
        """Seconds the next trial may run: its timeout, at most the budget left (min 1 s)."""
        limit = self.trial_timeout if self.trial_timeout is not None else float("inf")
        if self.time_budget is not None:
            limit = min(limit, max(1.0, self.time_budget - (time.monotonic() - self.start)))
        return limit

    def record(self, number: int, argd: dict, rtype: str, rval: Any, seconds: float) -> dict:
        """Keep trial ``number``'s record and the best configuration; return hyperopt's result."""
        import hyperopt

        task, metric = self.task, self.metric
        if rtype == "raise" or not isinstance(rval, dict):
            rval = {"status": hyperopt.STATUS_FAIL,
                    "failure": f"{type(rval).__name__}: {rval}"[:300]}
        learner_name, pre_name = _describe(
            argd.get("classifier" if self.classify else "regressor"), argd.get("preprocessing"))
        record = {"trial": number, "status": "failed", metric: None,
                  "classifier" if self.classify else "regressor": learner_name,
                  "preprocessing": pre_name,
                  "seconds": round(seconds, 2), "failure": None}
        loss = rval.get("loss")
        if rval.get("status") == hyperopt.STATUS_OK and loss is not None \
                and np.isfinite(float(loss)):
            loss = float(loss)
            learner, preprocs = rval.pop("learner"), rval.pop("preprocs")
            record.update({"status": "ok", metric: task.score_of(loss)})
            if loss < self.best_loss:
                estimator = self.estimator
                self.best_loss = loss
                estimator._best_loss = loss
                estimator._best_learner = learner
                estimator._best_preprocs = preprocs
                estimator._best_ex_preprocs = ()
            result = {"status": hyperopt.STATUS_OK, "loss": loss}
        else:
            reason = str(rval.get("failure") or "non-finite loss")
            record["failure"] = reason
            result = {"status": hyperopt.STATUS_FAIL, "failure": reason}
        self.records.append(record)
        if record["status"] == "ok":
            what = f"ok {learner_name} ({pre_name}) valid {task.val_label} {record[metric]:.4f}"
        else:
            what = f"failed {learner_name} ({pre_name}): {record['failure'][:80]}"
        best = task.score_of(self.best_loss)
        best_text = f"best {best:.4f}" if np.isfinite(best) else "no success yet"
        self.say(f"trial {number}/{self.max_evals} {what}; {best_text} "
                 f"({time.monotonic() - self.start:.0f} s)")
        return result

    def result(self, stopped: str) -> AutoMLSearchResult:
        """The best configuration as an unfitted pipeline, with every trial's record.

        Raises
        ------
        BenchmarkError
            No trial succeeded.
        """
        estimator, records = self.estimator, sorted(self.records, key=lambda r: r["trial"])
        seconds = time.monotonic() - self.start
        if estimator._best_learner is None:
            reasons = sorted({r["failure"] for r in records if r["failure"]})[:3]
            raise BenchmarkError(
                f"all {len(records)} AutoML trials failed or timed out ({'; '.join(reasons)}); "
                "give the trials more time (--automl-trial-timeout) or the search more "
                "evaluations"
            )
        steps = [(f"pre{i}_{type(p).__name__.lower()}", clone(p))
                 for i, p in enumerate(estimator._best_preprocs or ())]
        steps.append(("model", clone(estimator._best_learner)))
        return AutoMLSearchResult(
            best_pipeline=Pipeline(steps), best_loss=float(estimator._best_loss),
            estimator=estimator, trials=records, seconds=seconds, stopped=stopped,
            task=self.task,
        )


def hyperopt_search(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    *,
    max_evals: int = 50,
    time_budget: float | None = None,
    trial_timeout: float | None = 300.0,
    seed: int = 1234567,
    space: str = "any",
    n_jobs: int = 1,
    start_method: str = "forkserver",
    progress: Callable[[str], None] | None = None,
    task: Task | None = None,
) -> AutoMLSearchResult:
    """Search preprocessing + regressor (or classifier) with hyperopt-sklearn and TPE.

    Each trial fits its pipeline on ``(X_train, y_train)`` and is scored by its
    MAE on ``(X_val, y_val)``, or for labels by its ROC-AUC.

    Parameters
    ----------
    X_train, y_train : array-like
        Rows to fit each trial on.
    X_val, y_val : array-like
        Rows each trial is scored on (the protocol's validation part).
    max_evals : int, default=50
        Number of trials. TPE proposes the trials after the first 20
        successful ones; the earlier ones are random.
    time_budget : float or None, default=None
        Seconds after which no new trial starts; a running trial is given at
        most the time left. ``None``: no limit.
    trial_timeout : float or None, default=300
        Seconds after which a trial is stopped and counted as failed.
    seed : int, default=1234567
        Seed of hyperopt's search.
    space : {"any", "all"}, default="any"
        ``"any"``: hpsklearn's ``any_regressor`` (SVR, kNN, random forest,
        extra trees, AdaBoost, gradient boosting, SGD; xgboost when
        installed) or ``any_classifier`` (the same as classifiers) with
        ``any_preprocessing`` (PCA, standard, min-max or normalizer
        scaling). ``"all"``: every regressor (classifier) of hpsklearn.
    n_jobs : int, default=1
        Threads or processes a trial's regressor may use.
    start_method : str, default="forkserver"
        How trial processes are started (``"spawn"`` where forkserver does
        not exist). With ``forkserver`` or ``spawn`` a script calling this
        must guard its entry point with ``if __name__ == "__main__":``.
    progress : callable or None
        Called with one line of text after every trial.
    task : Task or None, default=None
        ``None`` or a regression task: regressors scored by MAE. A
        :class:`~skmatnet.benchmark.tasks.ClassificationTask`: classifiers
        scored by ROC-AUC.

    Returns
    -------
    AutoMLSearchResult

    Raises
    ------
    BenchmarkError
        hyperopt-sklearn missing, bad settings, or no trial succeeded.
    """
    search = _TrialSearch(X_train, y_train, X_val, y_val, max_evals=max_evals,
                          time_budget=time_budget, trial_timeout=trial_timeout, seed=seed,
                          space=space, n_jobs=n_jobs, progress=progress, task=task)
    import hyperopt
    import hyperopt.exceptions

    estimator = search.estimator
    ctx = _context(start_method)

    def objective(argd):
        number, limit = len(search.records) + 1, search.limit()
        t0 = time.monotonic()
        rtype, rval = _run_trial(ctx, search.fn, argd, search.best_loss, limit)
        return search.record(number, argd, rtype, rval, time.monotonic() - t0)

    stopped = "max_evals"
    with warnings.catch_warnings():
        # Building hpsklearn's estimators passes arguments scikit-learn deprecates.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        while len(estimator.trials.trials) < search.max_evals:
            if search.budget_spent():
                stopped = "time_budget"
                break
            try:
                hyperopt.fmin(
                    objective, space=estimator.space, algo=estimator.algo,
                    trials=estimator.trials, max_evals=len(estimator.trials.trials) + 1,
                    rstate=estimator.rstate, catch_eval_exceptions=False, return_argmin=False,
                    show_progressbar=False,
                )
            except hyperopt.exceptions.AllTrialsFailed:
                pass  # fmin looks up the best trial after each call; none succeeded yet
    return search.result(stopped)
