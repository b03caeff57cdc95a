"""The models a benchmark compares, behind one small interface.

=========  ==============================================================
name       model
=========  ==============================================================
automl     hyperopt-sklearn search (:mod:`skmatnet.benchmark.automl`)
tradml     grid search over classic regressors or classifiers (:mod:`.tradml`)
elemnet    :class:`skmatnet.ElemNetRegressor` / ``ElemNetClassifier``
irnet      :class:`skmatnet.IRNetRegressor` / ``IRNetClassifier``
bnet       :class:`skmatnet.BNetRegressor` / ``BNetClassifier``
brnet      :class:`skmatnet.BRNetRegressor` / ``BRNetClassifier``
fcmnr      :class:`skmatnet.FCMnRRegressor` / ``FCMnRClassifier``
fcunet     :class:`skmatnet.FCUNetRegressor` / ``FCUNetClassifier``
=========  ==============================================================

Which of the two a runner fits is its :class:`~skmatnet.benchmark.tasks.Task`'s
choice: regressors for a numeric target, classifiers for labels.

Each runner first *prepares* a model on one training/validation pair (the
baselines search their hyperparameters there; a network has nothing to
search), then *fits* it on every training/validation pair of the protocol:
once for ``brnet``, once per fold for ``tatis``. A network uses the
validation rows for early stopping; a baseline only for its search.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

from .._registry import NETWORK_SPECS, get_spec

# The fold ensembles are public estimators of skmatnet.ensemble; imported from here too.
from ..ensemble import FoldEnsembleClassifier, FoldEnsembleRegressor
from .errors import BenchmarkError
from .tasks import RegressionTask, Task

__all__ = [
    "BASELINE_NAMES",
    "DEFAULT_MODELS",
    "MODEL_NAMES",
    "NETWORK_ESTIMATORS",
    "FoldEnsembleClassifier",
    "FoldEnsembleRegressor",
    "ModelSettings",
    "count_model_parameters",
    "get_runner",
    "parse_models",
]

#: The baselines, run before the networks.
BASELINE_NAMES = ("automl", "tradml")
#: Network name -> estimator class name in :mod:`skmatnet` (from the registry).
NETWORK_ESTIMATORS = {spec.name: spec.regressor for spec in NETWORK_SPECS if spec.regressor}
#: Every model name, in the order a benchmark runs them.
MODEL_NAMES = (*BASELINE_NAMES, *NETWORK_ESTIMATORS)
#: The BRNet paper's comparison: the default ``models``.
DEFAULT_MODELS = (*BASELINE_NAMES,
                  *(spec.name for spec in NETWORK_SPECS if spec.in_default_benchmark))


def parse_models(models: Any) -> list[str]:
    """Normalise a model selection to known names, in run order.

    Parameters
    ----------
    models : None, str or iterable of str
        ``None`` or ``"default"``: :data:`DEFAULT_MODELS`; ``"all"``: every
        model; otherwise names, as a list or one comma-separated string.

    Returns
    -------
    list of str

    Raises
    ------
    BenchmarkError
        For an unknown name or an empty selection.
    """
    if models is None:
        return list(DEFAULT_MODELS)
    if isinstance(models, str):
        models = [models]
    names: list[str] = []
    for item in models:
        for name in str(item).replace(" ", ",").split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name == "all":
                names.extend(MODEL_NAMES)
            elif name == "default":
                names.extend(DEFAULT_MODELS)
            elif name in MODEL_NAMES:
                names.append(name)
            else:
                raise BenchmarkError(
                    f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)} "
                    "(or 'all', 'default')"
                )
    if not names:
        raise BenchmarkError("no model selected")
    return [name for name in MODEL_NAMES if name in names]


@dataclass(frozen=True)
class ModelSettings:
    """The settings that decide how the models are trained (see :func:`run_benchmark`).

    :meth:`BenchmarkConfig.create <skmatnet.benchmark.BenchmarkConfig.create>` builds it
    from :func:`run_benchmark`'s keyword arguments, with the ``quick`` or full defaults
    applied and the values checked.

    Attributes
    ----------
    seed : int, default=1234567
        Seed of the networks (``random_state``), the searches and the trad. ML models.
    device : str, default="auto"
        Device of the networks: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``.
    recipe : {"recommended", "paper"}, default="recommended"
        The networks' training recipe (``MatNetRegressor.from_recipe``).
    max_epochs : int or None, default=None
        Overrides the recipe's ``max_epochs`` of the networks (None: the recipe's).
    max_time : float or None, default=None
        Wall-clock seconds per network training (per fold for ``tatis``); None: no limit.
    patience : int or None, default=None
        Overrides the recipe's early-stopping ``patience`` (None: the recipe's).
    batch_size : int or None, default=None
        Overrides the recipe's ``batch_size`` (None: the recipe's).
    lr : float or None, default=None
        Overrides the recipe's learning rate (None: the recipe's).
    tiny : bool, default=False
        Tiny networks (each estimator's test settings), for tests.
    automl_evals : int, default=100
        AutoML budget: the number of trials.
    automl_time : float or None, default=None
        AutoML budget: seconds for the whole search (None: no limit).
    automl_trial_timeout : float or None, default=300.0
        AutoML budget: seconds per trial (None: no limit).
    automl_space : {"any", "all"}, default="any"
        hpsklearn's ``any_regressor`` x ``any_preprocessing``, or every regressor.
    tradml_grid : {"quick", "default", "full"}, default="default"
        The trad. ML grid (see :func:`skmatnet.benchmark.tradml.tradml_param_grid`).
    n_jobs : int, default=1
        Processes/threads of the forests, kNN, gradient boosting and AutoML models.
    """

    seed: int = 1234567
    device: str = "auto"
    recipe: str = "recommended"
    max_epochs: int | None = None
    max_time: float | None = None
    patience: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    tiny: bool = False
    automl_evals: int = 100
    automl_time: float | None = None
    automl_trial_timeout: float | None = 300.0
    automl_space: str = "any"
    tradml_grid: str = "default"
    n_jobs: int = 1

    def as_dict(self) -> dict:
        """The settings as a plain ``dict``: field name -> value.

        Returns
        -------
        dict
        """
        return asdict(self)


# ---------------------------------------------------------------------------
# Parameter counts
# ---------------------------------------------------------------------------


def count_model_parameters(model: Any) -> int | None:
    """Number of trained values a fitted model stores.

    For a network the trainable parameters
    (:func:`skmatnet.nets.count_parameters`); for scikit-learn models the
    fitted numbers: coefficients, support vectors and dual coefficients, tree
    nodes, the stored training rows of kNN, scaler and PCA statistics. Pipelines
    and ensembles add up their parts. ``None`` when unknown.

    Parameters
    ----------
    model : fitted estimator

    Returns
    -------
    int or None
    """
    from sklearn.pipeline import Pipeline

    if isinstance(model, (FoldEnsembleRegressor, FoldEnsembleClassifier)):
        parts = [count_model_parameters(m) for m in model.estimators]
        return None if any(p is None for p in parts) else int(sum(parts))
    if isinstance(model, Pipeline):
        parts = [count_model_parameters(step) for _, step in model.steps
                 if step is not None and step != "passthrough"]
        return None if any(p is None for p in parts) else int(sum(parts))
    if hasattr(model, "module_"):
        from ..nets import count_parameters

        return int(count_parameters(model.module_))
    if hasattr(model, "tree_"):
        return int(model.tree_.node_count)
    if hasattr(model, "_predictors"):  # HistGradientBoosting
        return int(sum(len(p.nodes) for stage in model._predictors for p in stage))
    if hasattr(model, "estimators_"):
        members = np.ravel(np.asarray(model.estimators_, dtype=object))
        parts = [count_model_parameters(m) for m in members]
        return None if any(p is None for p in parts) else int(sum(parts))
    if hasattr(model, "_fit_X"):  # nearest neighbours keep the training rows
        return int(np.size(model._fit_X) + np.size(getattr(model, "_y", ())))
    if hasattr(model, "support_vectors_"):
        return int(model.support_vectors_.size + model.dual_coef_.size
                   + np.size(model.intercept_))
    total = 0
    for key, value in vars(model).items():
        if not key.endswith("_") or key.startswith("_") or key == "n_features_in_":
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            total += value.size
        elif isinstance(value, (float, np.floating)):
            total += 1
    return int(total)


# ---------------------------------------------------------------------------
# Runners
# ---------------------------------------------------------------------------

Log = Callable[[str], None]


def _thread_limit(n_jobs: int):
    """Cap OpenMP/BLAS threads (gradient boosting) at ``n_jobs``, like the other regressors.

    Unbounded OpenMP pools spin on a shared machine and slow everything down.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=max(1, int(n_jobs)))


class ModelRunner:
    """Prepare and fit one kind of model; see the module docstring."""

    name: str = ""
    is_network = False

    def __init__(self, name: str, settings: ModelSettings, task: Task | None = None):
        self.name = name
        self.settings = settings
        self.task = task if task is not None else RegressionTask()

    def _with_task(self, config: dict) -> dict:
        # Regression fingerprints stay what they were before there were tasks.
        return config if self.task.name == "regression" else {**config, **self.task.config()}

    def config(self) -> dict:
        """The settings that decide this model's result (part of the resume check)."""
        raise NotImplementedError

    def prepare(self, X_tr, y_tr, X_va, y_va, log: Log) -> tuple[Any, dict, Any]:
        """Return (unfitted template, search details, template already fitted on these rows)."""
        raise NotImplementedError

    def fit(self, template, X_tr, y_tr, X_va, y_va, label: str, log: Log,
            verbose: bool) -> tuple[Any, dict]:
        """Fit a copy of ``template``; return it and details (epochs, ...)."""
        raise NotImplementedError


class AutoMLRunner(ModelRunner):
    def config(self) -> dict:
        s = self.settings
        return self._with_task({
            "max_evals": s.automl_evals, "time_budget": s.automl_time,
            "trial_timeout": s.automl_trial_timeout, "space": s.automl_space,
            "seed": s.seed, "n_jobs": s.n_jobs})

    def search_options(self) -> dict:
        """The keyword arguments of the hyperopt search (serial or on Dask)."""
        s = self.settings
        return {"max_evals": s.automl_evals, "time_budget": s.automl_time,
                "trial_timeout": s.automl_trial_timeout, "seed": s.seed,
                "space": s.automl_space, "n_jobs": s.n_jobs, "task": self.task}

    def prepare(self, X_tr, y_tr, X_va, y_va, log):
        from .automl import hyperopt_search

        result = hyperopt_search(X_tr, y_tr, X_va, y_va, progress=log, **self.search_options())
        return self.prepared(result, log)

    def prepared(self, result: Any, log: Log) -> tuple[Any, dict, Any]:
        """What :meth:`prepare` returns, from a finished search's result."""
        steps = " -> ".join(type(step).__name__ for _, step in result.best_pipeline.steps)
        log(f"search done: {result.n_ok} trials ok, {result.n_failed} failed "
            f"({result.stopped}); best {steps}, valid {result.loss_name} {result.best_score:.4f}")
        details = {
            "best": repr(result.best_pipeline).replace("\n", " "),
            "best_summary": steps,
            f"search_valid_{self.task.val_metric}": result.best_score,
            "search_seconds": result.seconds,
            "trials_ok": result.n_ok,
            "trials_failed": result.n_failed,
            "stopped": result.stopped,
            "trials": result.trials,
        }
        return result.best_pipeline, details, None

    def fit(self, template, X_tr, y_tr, X_va, y_va, label, log, verbose):
        model = clone(template)
        with warnings.catch_warnings(), _thread_limit(self.settings.n_jobs):
            warnings.simplefilter("ignore", category=FutureWarning)
            warnings.simplefilter("ignore", category=DeprecationWarning)
            model.fit(X_tr, y_tr)
        return model, {}


class TradMLRunner(ModelRunner):
    def config(self) -> dict:
        s = self.settings
        return self._with_task({"grid": s.tradml_grid, "seed": s.seed, "n_jobs": s.n_jobs})

    def prepare(self, X_tr, y_tr, X_va, y_va, log):
        from .tradml import holdout_grid_search, tradml_param_grid

        s = self.settings
        grid = tradml_param_grid(s.tradml_grid, seed=s.seed, n_jobs=s.n_jobs,
                                 task=self.task.name)
        with _thread_limit(s.n_jobs):
            result = holdout_grid_search(grid, X_tr, y_tr, X_va, y_va, progress=log,
                                         task=self.task)
        log(f"search done: best {result.description}, valid {result.loss_name} "
            f"{result.best_score:.4f}")
        details = {
            "best": result.description,
            "best_summary": result.description,
            f"search_valid_{self.task.val_metric}": result.best_score,
            "search_seconds": result.seconds,
            "candidates": result.candidates,
        }
        template = clone(result.best_estimator)
        return template, details, result.best_estimator

    def fit(self, template, X_tr, y_tr, X_va, y_va, label, log, verbose):
        model = clone(template)
        with _thread_limit(self.settings.n_jobs):
            model.fit(X_tr, y_tr)
        return model, {}


class NetworkRunner(ModelRunner):
    is_network = True

    def estimator_class(self):
        import skmatnet

        return getattr(skmatnet, self.estimator_name())

    def estimator_name(self) -> str:
        """The estimator class of this network for the task (``BRNetClassifier``)."""
        return getattr(get_spec(self.name), self.task.estimator_kind)

    def estimator_params(self) -> dict:
        s = self.settings
        cls = self.estimator_class()
        params: dict[str, Any] = cls._get_test_params() if s.tiny else {}
        params.update(random_state=s.seed, device=s.device, verbose=0)
        if s.recipe != "recommended":
            params["recipe"] = s.recipe
        for key in ("max_epochs", "patience", "batch_size", "lr"):
            value = getattr(s, key)
            if value is not None:
                params[key] = value
        return params

    def config(self) -> dict:
        s = self.settings
        params = {k: v for k, v in self.estimator_params().items() if k != "verbose"}
        return self._with_task({
            "estimator": self.estimator_name(),
            "params": {k: (list(v) if isinstance(v, tuple) else v)
                       for k, v in sorted(params.items())},
            "max_time": s.max_time})

    def prepare(self, X_tr, y_tr, X_va, y_va, log):
        params = self.estimator_params()
        estimator = self.estimator_class().from_recipe(params.pop("recipe", "recommended"),
                                                       **params)
        return estimator, {}, None

    def fit(self, template, X_tr, y_tr, X_va, y_va, label, log, verbose):
        from ..callbacks.progress import STOP_REASONS, EpochPrinter

        model = clone(template)
        tag = self.name + (f" {label}" if label else "")
        epochs = model.max_epochs  # None: the printer shows the schedule the fit chooses
        model.set_params(
            callbacks=[("benchmark_progress", EpochPrinter(tag, epochs, enabled=verbose))],
            max_time=self.settings.max_time,
        )
        start = time.monotonic()
        with warnings.catch_warnings():
            # On Ctrl-C the benchmark stops and discards this model: no "model is usable" note.
            warnings.filterwarnings("ignore", message=r".*was interrupted \(KeyboardInterrupt\)")
            model.fit(X_tr, y_tr, X_val=X_va, y_val=y_va)
        seconds = time.monotonic() - start
        # The progress printer only matters while fitting; without it the fitted model holds
        # plain parameters only and saves with save_model.
        model.set_params(callbacks=template.callbacks)
        stopped = STOP_REASONS.get(getattr(model, "stop_reason_", None), "unknown")
        details = {"epochs": int(model.n_epochs_),
                   "best_epoch": None if model.best_epoch_ is None else int(model.best_epoch_),
                   "stopped": stopped, "seconds": seconds}
        log(f"{label + ': ' if label else ''}{model.n_epochs_} epochs (stopped by {stopped}), "
            f"best epoch {model.best_epoch_} ({seconds:.0f} s)")
        return model, details


def get_runner(name: str, settings: ModelSettings, task: Task | None = None) -> ModelRunner:
    """The runner for a model name (see :data:`MODEL_NAMES`) and task (default regression).

    Parameters
    ----------
    name : str
        A model name: ``"automl"``, ``"tradml"`` or a network (:data:`NETWORK_ESTIMATORS`).
    settings : ModelSettings
        How the model is trained.
    task : Task or None, default=None
        The target's kind, which picks regressors or classifiers; None: regression.

    Returns
    -------
    ModelRunner

    Raises
    ------
    BenchmarkError
        For an unknown model name.
    """
    if name == "automl":
        return AutoMLRunner(name, settings, task)
    if name == "tradml":
        return TradMLRunner(name, settings, task)
    if name in NETWORK_ESTIMATORS:
        return NetworkRunner(name, settings, task)
    raise BenchmarkError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")
