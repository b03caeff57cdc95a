"""A benchmark run's settings, validated and resolved once into a frozen object.

:func:`skmatnet.benchmark.run_benchmark` and the ``skmatnet benchmark``
command both build a :class:`BenchmarkConfig` (with
:meth:`BenchmarkConfig.create`); everything after that reads it, nothing
passes the settings on one by one.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BenchmarkError
from .models import ModelSettings, get_runner, parse_models
from .protocols import get_protocol

__all__ = ["FULL_SETTINGS", "QUICK_SETTINGS", "BenchmarkConfig"]

#: What ``quick=True`` changes (explicit arguments still win).
QUICK_SETTINGS = {
    "n_folds": 3,
    "max_epochs": None,
    # the recommended recipe anneals its rate over this budget
    "max_time": 40.0,
    "automl_evals": 25,
    "automl_time": 60.0,
    "automl_trial_timeout": 15.0,
    "tradml_grid": "quick",
}
#: The defaults of a full run.
FULL_SETTINGS = {
    "n_folds": 10,
    "max_epochs": None,
    "max_time": None,
    "automl_evals": 100,
    "automl_time": None,
    "automl_trial_timeout": 300.0,
    "tradml_grid": "default",
}

_SETTING_NAMES = frozenset(f.name for f in dataclasses.fields(ModelSettings))


def _resolve_settings(quick: bool, given: dict) -> dict:
    base = dict(QUICK_SETTINGS if quick else FULL_SETTINGS)
    base.update({k: v for k, v in given.items() if v is not None})
    return base


def _check_number(name: str, value: Any, *, integer: bool = False, minimum: float = 0) -> None:
    if value is None:
        return
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > minimum:
        kind = "an int" if integer else "a number"
        raise BenchmarkError(f"{name} must be {kind} greater than {minimum}, got {value!r}")


def _check_values(n_folds: Any, resolved: dict, settings: dict, threads: Any) -> None:
    """Raise :class:`BenchmarkError` for a number out of range or an unknown grid or space."""
    _check_number("n_folds", n_folds, integer=True)
    for key in ("max_epochs", "automl_evals"):
        _check_number(key, resolved[key], integer=True)
    for key in ("max_time", "automl_time", "automl_trial_timeout"):
        _check_number(key, resolved[key])
    _check_number("lr", settings.get("lr"))
    for key in ("patience", "batch_size", "n_jobs"):
        _check_number(key, settings.get(key), integer=True)
    _check_number("threads", threads, integer=True)
    from .._recipe_names import RECIPES
    from .automl import AUTOML_SPACES
    from .tradml import TRADML_GRIDS

    if resolved["tradml_grid"] not in TRADML_GRIDS:
        raise BenchmarkError(f"tradml_grid must be one of {TRADML_GRIDS}, "
                             f"got {resolved['tradml_grid']!r}")
    recipe = settings.get("recipe", "recommended")
    if recipe not in RECIPES:
        raise BenchmarkError(f"recipe must be 'recommended' or 'paper', got {recipe!r}")
    space = settings.get("automl_space", "any")
    if space not in AUTOML_SPACES:
        raise BenchmarkError(f"automl_space must be 'any' or 'all', got {space!r}")


@dataclass(frozen=True)
class BenchmarkConfig:
    """Everything that decides a benchmark run (see :func:`run_benchmark` for each setting).

    Build it with :meth:`create`, which applies the ``quick`` or full defaults
    and checks every value; the fields then hold the resolved values.

    Attributes
    ----------
    data : str or path-like
        The dataset name or CSV file.
    models : tuple of str
        The models to run, in order.
    settings : ModelSettings
        How the models are trained (seed, device, epochs, budgets, grids).
    protocol : str
        The split protocol (``"brnet"``, ``"tatis"``, ``"published"``).
    output_dir : str, path-like or None
        Where the results go (None: :meth:`output_path`'s default).
    quick : bool
        Whether the quick settings were applied.
    resume : bool
        Reuse the finished models of an earlier run in ``output_dir``.
    n_folds : int
        Cross-validation folds (Tatis protocol).
    max_rows : int or None
        Subsample of the rows (None: all).
    formula_column, target_column : str
        The columns of a CSV file.
    task : str
        ``"auto"``, ``"regression"`` or ``"classification"``.
    threshold : float or None
        Labels a numeric target as ``target > threshold``.
    target : str or None
        A named target of the dataset (e.g. ``is_metal``).
    dedupe : str or None
        How rows of one composition are merged (``"min"``, ``"mean"``; None: kept).
    threads : int or None
        Threads per model fit.
    scheduler : str, distributed.Client or None
        Where the models run: None in this process, ``"local:N"``, a scheduler
        address or a Dask client (not part of any result's fingerprint).
    automl_queue : int or None
        AutoML trials queued at once on Dask.
    plots : bool
        Draw the charts.
    verbose : bool
        Print progress.
    command : str or None
        The command line to record (None: the equivalent Python call).
    """

    data: str | os.PathLike
    models: tuple[str, ...]
    settings: ModelSettings = field(default_factory=ModelSettings)
    protocol: str = "brnet"
    output_dir: str | os.PathLike | None = None
    quick: bool = False
    resume: bool = False
    n_folds: int = 10
    max_rows: int | None = None
    formula_column: str = "formula"
    target_column: str = "target"
    task: str = "auto"
    threshold: float | None = None
    target: str | None = None
    dedupe: str | None = "min"
    threads: int | None = 1
    # Where the models run: None in this process; "local:N", an address or a
    # distributed.Client on Dask (not part of any result's fingerprint).
    scheduler: Any = None
    automl_queue: int | None = None
    plots: bool = True
    verbose: bool = True
    command: str | None = None

    @classmethod
    def create(cls, data: str | os.PathLike, *, models: Any = None, quick: bool = False,
               seed: int = 1234567, **options: Any) -> BenchmarkConfig:
        """Check and resolve the keyword arguments of :func:`run_benchmark`.

        Parameters
        ----------
        data : str or path-like
            A dataset name or a CSV file.
        models : str, list of str or None, default=None
            The models (:func:`parse_models`); None: the default comparison.
        quick : bool, default=False
            Start from :data:`QUICK_SETTINGS` instead of :data:`FULL_SETTINGS`
            (explicit values still win).
        seed : int, default=1234567
            Seed of the split, the subsampling, the networks and the searches.
        **options
            Any other keyword of :func:`run_benchmark`: a field of this class or
            of :class:`ModelSettings`.

        Returns
        -------
        BenchmarkConfig

        Raises
        ------
        BenchmarkError
            An unknown model, protocol or grid, or a number out of range.
        TypeError
            An unknown keyword.
        """
        names = tuple(parse_models(models))
        resolved = _resolve_settings(quick, {k: options.pop(k, None) for k in QUICK_SETTINGS})
        n_folds = resolved.pop("n_folds")
        settings = {k: options.pop(k) for k in list(options) if k in _SETTING_NAMES}
        unknown = set(options) - _RUN_OPTIONS
        if unknown:
            raise TypeError(f"run_benchmark() got unexpected keyword arguments: "
                            f"{', '.join(sorted(unknown))}")
        config = {"protocol": "brnet", **options}
        get_protocol(config["protocol"])  # an unknown protocol is named before the numbers
        _check_values(n_folds, resolved, settings, config.get("threads"))
        _check_number("automl_queue", config.get("automl_queue"), integer=True)
        if isinstance(config.get("scheduler"), str):
            from .._dask import parse_scheduler

            try:
                parse_scheduler(config["scheduler"])
            except ValueError as exc:
                raise BenchmarkError(str(exc)) from None
        training = ModelSettings(
            **{**settings, **resolved, "seed": int(seed), "tiny": bool(settings.get("tiny")),
               "automl_evals": int(resolved["automl_evals"]),
               "n_jobs": int(settings.get("n_jobs", 1))},
        )
        return cls(data=data, models=names, settings=training, quick=bool(quick),
                   n_folds=int(n_folds), **config)

    @property
    def seed(self) -> int:
        """int : Seed of the split, the subsampling, the networks and the searches."""
        return self.settings.seed

    @property
    def uses_torch(self) -> bool:
        """bool : Whether a network is among the models."""
        return any(get_runner(name, self.settings).is_network for name in self.models)

    def output_path(self, data_name: str) -> Path:
        """The output directory: as given, or ``skmatnet-results/<data>_<protocol>[_quick]``.

        Parameters
        ----------
        data_name : str
            The dataset's name, used in the default directory.

        Returns
        -------
        pathlib.Path
        """
        if self.output_dir is not None:
            return Path(self.output_dir)
        return Path("skmatnet-results") / \
            f"{data_name}_{self.protocol}{'_quick' if self.quick else ''}"

    def command_line(self) -> str:
        """The command to record: as given, or the equivalent Python call."""
        return self.command or (
            f"run_benchmark({os.fspath(self.data)!r}, models={list(self.models)!r}, "
            f"protocol={self.protocol!r}, quick={self.quick!r})"
        )


# The run-level keywords of BenchmarkConfig.create (the others are set by it).
_RUN_OPTIONS = frozenset(f.name for f in dataclasses.fields(BenchmarkConfig)) - {
    "data", "models", "settings", "quick", "n_folds"}
