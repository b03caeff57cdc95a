"""Run a benchmark: split once, train every model, write the results as they finish."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ._dask_runner import DaskRun
from ._recorder import RunRecorder
from ._serial_runner import SerialRun
from .config import FULL_SETTINGS, QUICK_SETTINGS, BenchmarkConfig
from .data import BenchmarkData, load_benchmark_data
from .environment import environment_record
from .errors import BenchmarkError, BenchmarkInterrupted
from .output import OutputDir
from .protocols import Split, get_protocol
from .results import write_results
from .tables import baseline_verdict, format_text_table
from .tasks import RegressionTask, Task, make_task

__all__ = [
    "FULL_SETTINGS",
    "QUICK_SETTINGS",
    "Benchmark",
    "BenchmarkInterrupted",
    "BenchmarkResult",
    "run_benchmark",
]


@dataclass
class BenchmarkResult:
    """The outcome of :func:`run_benchmark`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per reported model (columns: the task's
        :attr:`~skmatnet.benchmark.tasks.Task.table_columns`, for regression
        :data:`report.TABLE_COLUMNS`), the content of ``results.csv``.
    output_dir : pathlib.Path
        Where everything was written.
    models : list of str
        The models asked for, in run order.
    finished : list of str
        Models with a result (run now or taken from an earlier run).
    resumed : list of str
        Models whose earlier result was reused (``resume=True``).
    failed : dict of str to str
        Models that raised an error, with the message.
    interrupted : bool
        Whether Ctrl-C stopped the run.
    data : BenchmarkData
        The rows the models ran on.
    split : Split
        How they were split.
    environment : dict
        The content of ``environment.json``.
    task : Task
        What was predicted: :class:`~skmatnet.benchmark.tasks.RegressionTask`
        or :class:`~skmatnet.benchmark.tasks.ClassificationTask`.
    """

    table: pd.DataFrame
    output_dir: Path
    models: list
    finished: list = field(default_factory=list)
    resumed: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)
    interrupted: bool = False
    data: BenchmarkData | None = None
    split: Split | None = None
    environment: dict = field(default_factory=dict)
    task: Task = field(default_factory=RegressionTask)

    def to_text(self) -> str:
        """The results table as aligned text, and whether the networks beat the baselines."""
        verdict = baseline_verdict(self.table, task=self.task)
        return format_text_table(self.table, task=self.task) + \
            (f"\n\n{verdict}" if verdict else "")

    def __str__(self) -> str:
        return self.to_text()


#: How a run's models are run, by kind: one after the other in this process (no
#: ``scheduler``), or as tasks on a Dask cluster. Each connects (a context manager giving
#: the client, or ``None``), describes its cluster for ``environment.json`` and runs the
#: models, reporting them to a :class:`~skmatnet.benchmark._recorder.RunRecorder`.
EXECUTORS = {"serial": SerialRun, "dask": DaskRun}


class _InterruptGuard:
    """Remember Ctrl-C even where skorch swallows the KeyboardInterrupt it raises."""

    def __init__(self):
        self.interrupted = False
        self._previous = None

    def _handler(self, signum, frame):
        self.interrupted = True
        raise KeyboardInterrupt

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is not signal.SIG_IGN:  # a background job ignores Ctrl-C: keep it so
                self._previous = previous
                signal.signal(signal.SIGINT, self._handler)
        return self

    def check(self) -> None:
        if self.interrupted:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def _check_plots() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise BenchmarkError(
            "matplotlib is needed for the charts: pip install 'skmatnet[plot]' (or turn the "
            "charts off with --no-plots / plots=False)"
        ) from None


class Benchmark:
    """One benchmark run of a :class:`BenchmarkConfig`: :meth:`run` does it all.

    Parameters
    ----------
    config : BenchmarkConfig
    """

    def __init__(self, config: BenchmarkConfig):
        self.config = config
        self.protocol = get_protocol(config.protocol)

    def say(self, message: str) -> None:
        """Print a progress line on stderr where the config is ``verbose``.

        Parameters
        ----------
        message : str
            The line.
        """
        if self.config.verbose:
            print(message, file=sys.stderr, flush=True)

    def _check_environment(self) -> None:
        """Fail before anything is written when a dependency or the device is missing."""
        config = self.config
        if "automl" in config.models:
            from .automl import check_hpsklearn

            check_hpsklearn()
        if config.plots:
            _check_plots()
        if config.uses_torch:
            import torch

            device = config.settings.device
            if str(device).startswith("cuda") and not torch.cuda.is_available():
                raise BenchmarkError(f"device {device!r} was asked for but CUDA is not "
                                     "available; use --device auto or cpu")
            if config.threads is not None:
                torch.set_num_threads(int(config.threads))

    def run(self) -> BenchmarkResult:
        """Load, split, train and report; see :func:`run_benchmark`."""
        self._check_environment()
        executor = EXECUTORS["serial" if self.config.scheduler is None else "dask"]
        with executor.connect(self.config) as client:
            return self._run(executor, client)

    def _run(self, executor: Any, client: Any) -> BenchmarkResult:
        """:meth:`run`, its models run by ``executor`` (on ``client``'s cluster, if any)."""
        config = self.config
        data = load_benchmark_data(
            config.data, formula_column=config.formula_column,
            target_column=config.target_column, dedupe=config.dedupe,
            max_rows=config.max_rows, seed=config.seed, task=config.task,
            threshold=config.threshold, target=config.target,
        )
        split = self.protocol.split(data, seed=config.seed, n_folds=config.n_folds)
        task = make_task(data.task, data.y, data.threshold)
        for _, train, _ in split.fits():
            task.check_split(data.y, train, split.test)
        split_sha = split.sha256(data)
        output = OutputDir(config.output_path(data.name))
        previous_runs = output.start(resume=config.resume)
        output.write("split.csv", split.to_frame(data).to_csv(index=False))
        environment = self._environment(data, split, split_sha, previous_runs)
        cluster = executor.describe(client)
        if cluster is not None:
            environment["dask"] = cluster
        output.write_environment(environment)
        names = list(config.models)
        self.say(f"[benchmark] {data.name}: {len(data):,} rows; protocol {split.protocol}: "
                 f"train {len(split.train):,}, val {len(split.val):,}, test "
                 f"{len(split.test):,}" + (f", {split.n_folds} folds" if split.n_folds else "")
                 + f"; models {', '.join(names)}; output {output.path}")
        recorder = RunRecorder(config, self.protocol, output, data, split, split_sha, task,
                               environment, names)
        records, failed = recorder.records, recorder.failed
        interrupted = False
        started = time.monotonic()
        with _InterruptGuard() as guard:
            try:
                executor(recorder, client, guard.check, started).run()
            except KeyboardInterrupt:
                interrupted = True
        status = "interrupted" if interrupted else ("finished with failures" if failed
                                                     else "finished")
        environment.update(status=status, seconds=round(time.monotonic() - started, 1),
                           finished_models=[n for n in names if n in records], failed=failed)
        output.write_environment(environment)
        table = write_results(output, data, split, records, names, environment,
                              plots=config.plots, status=status, task=task)
        result = BenchmarkResult(
            table=table, output_dir=output.path, models=names,
            finished=[n for n in names if n in records], resumed=recorder.resumed,
            failed=failed, interrupted=interrupted, data=data, split=split,
            environment=environment, task=task,
        )
        if interrupted:
            raise BenchmarkInterrupted(result)
        if failed:
            listing = "; ".join(f"{k}: {v}" for k, v in failed.items())
            raise BenchmarkError(
                f"{len(failed)} of {len(names)} models failed ({listing}); the other results "
                f"are in {output.path} (tracebacks in {output.path / 'failed'})", result=result,
            )
        return result

    def _environment(self, data: BenchmarkData, split: Split, split_sha: str,
                     previous_runs: list) -> dict:
        config = self.config
        environment = environment_record(uses_torch=config.uses_torch,
                                         device=config.settings.device)
        environment.update(
            command=config.command_line(), seed=config.seed, protocol=split.protocol,
            models=list(config.models), quick=config.quick, settings=config.settings.as_dict(),
            n_folds=split.n_folds, data=data.source, split_sha256=split_sha,
            n_train=len(split.train), n_val=len(split.val), n_test=len(split.test),
            status="running", previous_runs=previous_runs,
        )
        return environment


def run(config: BenchmarkConfig) -> BenchmarkResult:
    """Run the benchmark ``config`` describes (see :func:`run_benchmark`).

    Parameters
    ----------
    config : BenchmarkConfig
        The run's settings (:meth:`BenchmarkConfig.create`).

    Returns
    -------
    BenchmarkResult
    """
    return Benchmark(config).run()


def run_benchmark(data: str | os.PathLike, **options: Any) -> BenchmarkResult:
    """Compare deep networks with AutoML and classic models on one dataset.

    Loads the rows (deduplicated per composition), featurizes them into the
    86 element fractions, splits them once by ``protocol``, trains every model
    on exactly those rows, and writes to ``output_dir``: ``results.md``,
    ``results.csv``, ``bubble.png``, ``parity_<model>.png``,
    ``models/<model>.skmatnet`` (networks; ``.joblib`` for the baselines),
    ``predictions/<model>.csv``, ``split.csv`` and ``environment.json``
    (:func:`~skmatnet.benchmark.load_fitted_model` reads a saved model back).
    Each model's result is saved (``done/<model>.json``) as soon as it
    finishes, so an interrupted run keeps what finished and ``resume=True``
    continues it.

    The keyword arguments build a :class:`~skmatnet.benchmark.BenchmarkConfig`
    (:meth:`~skmatnet.benchmark.BenchmarkConfig.create`); :func:`run` runs one.

    Parameters
    ----------
    data : str or path-like
        A dataset name (:func:`skmatnet.datasets.list_datasets`) or a CSV file
        with a formula column and a numeric target column.
    models : str, list of str or None, default=None
        Some of ``automl``, ``tradml``, ``elemnet``, ``irnet``, ``bnet``,
        ``brnet``, ``fcmnr``, ``fcunet`` (a list or a comma-separated
        string), or ``"all"``. ``None``: the BRNet paper's comparison,
        ``automl, tradml, elemnet, irnet, bnet, brnet``.
    protocol : {"brnet", "tatis", "published"}, default="brnet"
        ``published``: the dataset's own train/validation/test split (where
        it has no validation part, 10 % of its training part). ``brnet``:
        81:9:10 split stratified on the element count; networks
        early-stop on the 9 %, baselines select hyperparameters on it; test MAE
        on the 10 %. ``tatis``: 90:10 split, then ``n_folds``-fold CV on the
        90 %: one model per fold (trained on the other folds, early-stopped on
        its fold); reported are the fold model with the lowest validation-fold
        MAE (``<model>``) and the mean of all fold models
        (``<model>-ensemble``, with the fold spread as uncertainty). The
        baselines search their hyperparameters on the first fold.
    output_dir : path-like or None
        Default ``skmatnet-results/<data name>_<protocol>`` (ignored by git),
        with ``_quick`` appended for ``quick=True``, so that a quick run never
        replaces a full one.
    quick : bool, default=False
        A real but small run: see :data:`QUICK_SETTINGS` (networks 40 s each,
        AutoML 25 trials within 60 s, the quick trad. ML grid, 3 folds).
        Explicit arguments override these.
    resume : bool, default=False
        Reuse the results of models that finished in an earlier run into the
        same ``output_dir`` with the same data, split and settings; others
        run again. Without it earlier results there are deleted first.
    seed : int, default=1234567
        Seed of the split, the subsampling, the networks and the searches.
    n_folds : int or None
        Folds of the ``tatis`` protocol (default 10; 3 with ``quick``).
    max_rows : int or None
        Use a random subset of this many rows, drawn before splitting (for
        tests and trials; not comparable with published numbers).
    formula_column, target_column : str, default="formula", "target"
        Columns of a CSV file.
    task : {"auto", "regression", "classification"}, default="auto"
        ``auto``: labels (a boolean target, or a CSV column without a number
        in it) make a classification benchmark, numbers a regression one.
        Classification trains the networks' classifiers (``BRNetClassifier``
        ...), hyperopt-sklearn's ``any_classifier`` and a classifier grid
        (random forest, extra trees, gradient boosting, kNN, logistic
        regression, SVC), selects by validation ROC-AUC, and reports ROC-AUC,
        accuracy, F1 and log-loss with a ROC-curve plot (``roc.png``); the
        ``tatis`` ensemble averages probabilities.
    threshold : float or None
        Turn a numeric target into labels ``target > threshold``
        (classification): e.g. ``0`` on a band gap, ``True`` for the rows with
        a gap.
    target : str or None
        A dataset's alternative target, e.g. ``"is_metal"`` for the band-gap
        datasets (:func:`skmatnet.load_dataset`).
    dedupe : {"min", "mean"} or None, default="min"
        One row per composition (the lowest target: the BRNet protocol).
    device : str, default="auto"
        Device of the networks: ``"auto"`` (CUDA when available), ``"cpu"``,
        ``"cuda"``.
    recipe : {"recommended", "paper"}, default="recommended"
        The networks' training recipe (``MatNetRegressor.from_recipe``).
    max_epochs, patience, batch_size, lr : optional
        Override the recipe's training settings.
    max_time : float or None
        Wall-clock seconds per network training (per fold for ``tatis``);
        training stops at the end of the epoch that passes it and keeps the
        best epoch's weights.
    tiny : bool, default=False
        Tiny networks (each estimator's test settings), for tests.
    automl_evals, automl_time, automl_trial_timeout : optional
        AutoML budget: trials (default 100), seconds for the whole search
        (default none) and seconds per trial (default 300).
    automl_space : {"any", "all"}, default="any"
        hpsklearn's ``any_regressor`` x ``any_preprocessing``, or every regressor.
    tradml_grid : {"quick", "default", "full"} or None
        The trad. ML grid (see :func:`skmatnet.benchmark.tradml.tradml_param_grid`).
    n_jobs : int, default=1
        Processes/threads of the forests, kNN, gradient boosting and AutoML
        regressors.
    threads : int or None, default=1
        CPU threads of torch for the networks (``torch.set_num_threads``);
        ``None`` keeps torch's default, one per core. One thread, like every
        AutoML trial and trad. ML model, so that each model gets one core and a
        busy machine does not slow the networks down many times over (OpenMP
        threads wait for each other when another process holds a core).
    scheduler : str, distributed.Client or None, default=None
        ``None``: every model in this process, one after the other. Otherwise
        the models, their folds and the AutoML trials run as Dask tasks:
        ``"local:N"`` on a local cluster of N worker processes (one thread
        each, ``threads`` torch threads), an address (``tcp://host:8786``) or
        scheduler file on a running cluster, or a client. Needs
        ``pip install 'skmatnet[dask]'``. The results are those of a serial
        run, except AutoML's proposals after its 20 random start-up trials
        (TPE proposes some before the running trials report), and the
        scheduler is no part of a result's fingerprint: ``resume`` works
        across both (docs/scaling.md).
    automl_queue : int or None, default=None
        With a ``scheduler``: AutoML trials in flight at once (default one
        per worker thread; 1 gives the serial search's trials).
    plots : bool, default=True
        Draw ``bubble.png`` and the parity plots (needs matplotlib).
    verbose : bool, default=True
        Progress lines on stderr (model, epoch or trial, elapsed time).
    command : str or None
        The command line to record in ``environment.json``.

    Returns
    -------
    BenchmarkResult

    Raises
    ------
    BenchmarkError
        Bad arguments, unknown dataset or model, unreadable CSV, missing
        hyperopt-sklearn or matplotlib; or, after writing the other results,
        a model that failed (``error.result`` holds them).
    BenchmarkInterrupted
        Ctrl-C; the finished models' results are written (``.result``).
    skmatnet.datasets.DatasetError, skmatnet.FormulaError
        Corrupt or unavailable dataset files, unparsable formulas.

    Notes
    -----
    The AutoML trials run in separate processes (a ``forkserver``), and
    ``scheduler="local:N"`` starts worker processes: a script that calls this
    function with either must guard its entry point with
    ``if __name__ == "__main__":``.
    """
    return run(BenchmarkConfig.create(data, **options))
