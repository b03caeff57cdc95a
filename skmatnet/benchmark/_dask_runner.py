"""A benchmark's models on a Dask cluster (``--dask local:N``, ``--scheduler ADDRESS``).

What runs where
    The client (this process) loads and splits the data, scatters the rows once to
    every worker, and submits each model as tasks: a *prepare* task (the trad. ML grid
    search; a network's estimator) and one *fit* task per fit of the protocol (one for
    ``brnet``, one per fold for ``tatis``), which also scores the fitted model on its
    validation and test rows. The AutoML search itself runs in the client: an
    ask-and-tell loop over hyperopt's TPE (:class:`~skmatnet.benchmark.automl.TrialProposals`)
    keeps at most ``automl_queue`` trials in flight as tasks and proposes the next one
    whenever one ends; its final fits are tasks again. As soon as every part of a model
    is done the client writes its result, exactly the files a serial run writes.

Failures
    A task that raises marks its model failed (the traceback in ``failed/<model>.txt``)
    and the run goes on; a failed AutoML trial is a failed trial, as in the serial loop.
    A worker that dies takes its running tasks with it; the scheduler runs them again
    elsewhere, and a task that has killed ``distributed.scheduler.allowed-failures``
    workers (default 3) ends in ``KilledWorker``: that model (or trial) is failed.

The results do not depend on where a model ran: each task seeds its model as the
serial run does and the workers use the same number of threads, so the tables agree
(the tests check it). Only the AutoML search differs when several trials are in
flight: TPE then proposes a trial before the results of the running ones are known.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import operator
import sys
import threading
import time
import traceback
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._recorder import RunRecorder
from .errors import BenchmarkError
from .fitting import make_outcome, measure_fit
from .models import AutoMLRunner, get_runner

__all__ = ["DaskRun", "connect_client", "describe_cluster"]


@contextlib.contextmanager
def connect_client(config: Any) -> Iterator[Any]:
    """A client for ``config.scheduler``; a :class:`BenchmarkError` when there is none."""
    from .._dask import connect_dask

    stack = contextlib.ExitStack()
    try:
        client = stack.enter_context(connect_dask(config.scheduler, threads=config.threads or 1))
    except ImportError as exc:
        raise BenchmarkError(str(exc)) from None
    except (OSError, TimeoutError, ValueError) as exc:
        raise BenchmarkError(f"cannot reach the Dask scheduler {config.scheduler!r} "
                             f"({type(exc).__name__}: {exc})") from None
    with stack:
        yield client


def describe_cluster(client: Any) -> dict:
    """The cluster a run used, for ``environment.json``."""
    threads = client.nthreads()
    return {"scheduler": client.scheduler.address, "workers": len(threads),
            "threads": int(sum(threads.values()))}


# ---------------------------------------------------------------------------
# Tasks (run on the workers)
# ---------------------------------------------------------------------------


@dataclass
class _Rows:
    """The rows every task of a run reads: scattered to the workers once."""

    X: np.ndarray
    y: np.ndarray
    test: np.ndarray
    fits: list


def _log(name: str, verbose: bool):
    def log(message: str) -> None:
        if verbose:
            print(f"[{name}] {message}", file=sys.stderr, flush=True)

    return log


def _import_networks() -> None:
    import skmatnet.estimators  # noqa: F401


def prepare_task(runner: Any, rows: _Rows, verbose: bool) -> dict:
    """``runner.prepare`` on the first fit's rows, timed."""
    _, tr, va = rows.fits[0]
    start = time.monotonic()
    template, details, prefitted = runner.prepare(rows.X[tr], rows.y[tr], rows.X[va],
                                                  rows.y[va], _log(runner.name, verbose))
    return {"template": template, "prefitted": prefitted,
            "summary": {"details": details, "seconds": time.monotonic() - start}}


def fit_task(runner: Any, template: Any, prefitted: Any, rows: _Rows, index: int,
             verbose: bool) -> dict:
    """Fit ``template`` on fit ``index`` of the split (or take ``prefitted``) and score it."""
    label, tr, va = rows.fits[index]
    X, y = rows.X, rows.y
    start = time.monotonic()
    if prefitted is not None:  # the trad. ML search fitted the first fit's model already
        model, info = prefitted, {}
    else:
        model, info = runner.fit(template, X[tr], y[tr], X[va], y[va], label,
                                 _log(runner.name, verbose), verbose)
    seconds = time.monotonic() - start
    return {"model": model, "info": info, "seconds": seconds,
            "measure": measure_fit(runner.task, model, X[va], y[va], X[rows.test])}


class _Connection:
    """The ``send`` end of a pipe, for a trial evaluated in a thread of its worker."""

    def __init__(self):
        self.message = None

    def send(self, message: Any) -> None:
        self.message = message

    def close(self) -> None:
        pass


def _trial_in_thread(fn: Any, argd: dict, best_loss: float, limit: float) -> tuple[str, Any]:
    """A trial on a daemonic worker, which may not start processes: run it in a thread.

    The timeout holds for the search (the trial counts as failed after ``limit``
    seconds) but a thread cannot be stopped: it runs on until it ends, beside the
    worker's next task.
    """
    import hyperopt

    connection = _Connection()

    def run() -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # hpsklearn's deprecated arguments
                fn(argd, _conn=connection, best_loss=best_loss)
        except BaseException as exc:  # a trial's error is its result
            connection.send(("return", {"status": hyperopt.STATUS_FAIL,
                                        "failure": f"{type(exc).__name__}: {exc}"[:300]}))

    thread = threading.Thread(target=run, name="skmatnet-automl-trial", daemon=True)
    thread.start()
    thread.join(None if limit == float("inf") else limit)
    if thread.is_alive():
        return "return", {"status": hyperopt.STATUS_FAIL,
                          "failure": f"TimeOut after {limit:.0f} s"}
    if connection.message is None:
        return "return", {"status": hyperopt.STATUS_FAIL, "failure": "trial sent no result"}
    return connection.message


def trial_task(fn: Any, argd: dict, best_loss: float, limit: float) -> tuple[str, Any, float]:
    """One AutoML trial: in a child process of the worker, as the serial loop runs it.

    Returns hpsklearn's ``(rtype, rval)`` and the seconds the trial took.
    """
    from .automl import _context, _run_trial

    start = time.monotonic()
    if multiprocessing.current_process().daemon:
        rtype, rval = _trial_in_thread(fn, argd, best_loss, limit)
    else:
        rtype, rval = _run_trial(_context("forkserver"), fn, argd, best_loss, limit)
    return rtype, rval, time.monotonic() - start


# ---------------------------------------------------------------------------
# The client's side
# ---------------------------------------------------------------------------


class _DaskSearch:
    """An AutoML search whose trials are Dask tasks, at most ``queue`` of them at a time."""

    def __init__(self, client: Any, runner: Any, rows: _Rows, queue: int, log: Any):
        from .automl import TrialProposals, _TrialSearch

        _, tr, va = rows.fits[0]
        self.client, self.queue = client, max(1, int(queue))
        self.search = _TrialSearch(rows.X[tr], rows.y[tr], rows.X[va], rows.y[va],
                                   progress=log, **runner.search_options())
        self.proposals = TrialProposals(self.search)
        # The cost function holds the rows: on every worker once, not in every trial.
        self.fn = client.scatter(self.search.fn, broadcast=True, hash=False)
        self.running: dict[Any, tuple[int, dict]] = {}
        self.stopped = "max_evals"

    def submit(self) -> list:
        """Fill the queue with new proposals; return the new trial futures."""
        search, new = self.search, []
        while len(self.running) < self.queue and self.proposals.n_asked < search.max_evals:
            if search.budget_spent():
                self.stopped = "time_budget"
                break
            with warnings.catch_warnings():
                # Building hpsklearn's estimators passes arguments scikit-learn deprecates.
                warnings.simplefilter("ignore", FutureWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                number, argd = self.proposals.ask()
            future = self.client.submit(trial_task, self.fn, argd, search.best_loss,
                                        search.limit(), pure=False,
                                        key=f"automl-trial-{number}-{uuid.uuid4().hex[:8]}")
            self.running[future] = (number, argd)
            new.append(future)
        return new

    def done(self, future: Any) -> list:
        """Tell hyperopt how a trial ended; return the trials submitted in its place."""
        import hyperopt

        number, argd = self.running.pop(future)
        if future.status == "finished":
            rtype, rval, seconds = future.result()
        else:  # the task itself failed: a lost worker (KilledWorker), a cancelled task
            exc = _exception(future)
            rtype, rval, seconds = "return", {
                "status": hyperopt.STATUS_FAIL,
                "failure": f"{type(exc).__name__}: {exc}"[:300]}, 0.0
        self.proposals.tell(number, argd, rtype, rval, seconds)
        return self.submit()

    @property
    def finished(self) -> bool:
        return not self.running

    def futures(self) -> list:
        return [*self.running, self.fn]


def _exception(future: Any) -> BaseException:
    """Why a future that did not finish did not: its task's error, or its state."""
    if future.status == "error":
        return future.exception()
    from concurrent.futures import CancelledError

    return CancelledError(f"task {future.key} was {future.status}")


@dataclass(eq=False)
class _Job:
    """One model on the cluster: its parts, and what has come back."""

    number: int
    runner: Any
    expected: dict
    n_fits: int
    held: list = field(default_factory=list)  # futures kept alive for the parts
    summary: dict | None = None
    fits: dict = field(default_factory=dict)
    search: _DaskSearch | None = None
    over: bool = False

    @property
    def name(self) -> str:
        return self.runner.name

    @property
    def complete(self) -> bool:
        return self.summary is not None and len(self.fits) == self.n_fits


class DaskRun:
    """The models of one :class:`~skmatnet.benchmark.runner.Benchmark` run as Dask tasks.

    The interface of :class:`~skmatnet.benchmark._serial_runner.SerialRun`: :meth:`run`
    reports every model to the same :class:`~skmatnet.benchmark._recorder.RunRecorder`
    as the serial loop does; on Ctrl-C it cancels what still runs.
    """

    connect = staticmethod(connect_client)
    describe = staticmethod(describe_cluster)

    def __init__(self, recorder: RunRecorder, client: Any, check: Any, started: float):
        # check: Ctrl-C interrupts the client's wait directly; nothing to poll here.
        self.recorder, self.client, self.started = recorder, client, started
        self.output, self.config = recorder.output, recorder.config
        self.data, self.split, self.task = recorder.data, recorder.split, recorder.task
        self.owner: dict[Any, tuple[_Job, Any]] = {}

    def run(self) -> None:
        from distributed import as_completed

        recorder, config, names = self.recorder, self.config, self.recorder.names
        jobs = []
        for number, name in enumerate(names, 1):
            runner = get_runner(name, config.settings, self.task)
            expected = recorder.expected(runner)
            if recorder.reuse(name, expected):
                continue
            self.output.forget(name)
            jobs.append(_Job(number, runner, expected, len(self.split.fits())))
        if not jobs:
            return
        if any(job.runner.is_network for job in jobs):
            # torch's import (seconds) on every worker now, not in the first network's time
            self.client.run(_import_networks)
        self.rows = _Rows(self.data.X, self.data.y, self.split.test, self.split.fits())
        # broadcast: a copy on every worker, so that a lost worker loses no rows
        self.rows_future = self.client.scatter(self.rows, broadcast=True, hash=False)
        pending = as_completed()
        try:
            for job in jobs:
                pending.update(self._start(job))
                recorder.say(f"[{job.name}] model {job.number}/{len(names)} submitted "
                          f"({time.monotonic() - self.started:.0f} s into the run)")
            for future in pending:
                pending.update(self._handle(future))
        except BaseException:  # Ctrl-C (or a bug): stop what still runs
            self.client.cancel([*self.owner, *(f for job in jobs for f in job.held)])
            raise
        finally:
            self.owner.clear()
            for job in jobs:
                job.held.clear()
            del self.rows_future

    # -- submitting

    def _submit(self, job: _Job, part: Any, function: Any, *args: Any) -> Any:
        key = f"{job.name}-{part}-{uuid.uuid4().hex[:8]}"
        return self.client.submit(function, *args, pure=False, key=key)

    def _own(self, job: _Job, part: Any, futures: list) -> list:
        for future in futures:
            self.owner[future] = (job, part)
        return futures

    def _start(self, job: _Job) -> list:
        """Submit a model's first tasks; return the futures to wait for."""
        verbose = self.config.verbose
        if isinstance(job.runner, AutoMLRunner):  # its search runs here, its trials there
            try:
                job.search = _DaskSearch(self.client, job.runner, self.rows, self._queue(),
                                         _log(job.name, verbose))
            except Exception as exc:  # hyperopt-sklearn missing, bad settings
                self._fail(job, exc, exc.__traceback__)
                return []
            job.held.append(job.search.fn)
            return self._own(job, "trial", job.search.submit())
        prepare = self._submit(job, "prepare", prepare_task, job.runner, self.rows_future,
                               verbose)
        summary, template, prefitted = (
            self._submit(job, part, operator.getitem, prepare, part)
            for part in ("summary", "template", "prefitted"))
        job.held += [prepare, template, prefitted]
        return self._own(job, "summary", [summary]) + self._submit_fits(job, template,
                                                                         prefitted)

    def _submit_fits(self, job: _Job, template: Any, prefitted: Any) -> list:
        futures = []
        for i in range(job.n_fits):
            future = self._submit(job, f"fit{i}", fit_task, job.runner, template,
                                  prefitted if i == 0 else None, self.rows_future, i,
                                  self.config.verbose)
            futures += self._own(job, i, [future])
        return futures

    def _queue(self) -> int:
        """AutoML trials in flight: ``automl_queue``, or one per worker thread."""
        if self.config.automl_queue is not None:
            return int(self.config.automl_queue)
        return max(1, int(sum(self.client.nthreads().values())))

    # -- collecting

    def _handle(self, future: Any) -> list:
        """Take in one finished future; return the futures it made necessary."""
        job, part = self.owner.pop(future, (None, None))
        if job is None or job.over:  # a part of a model that failed (or finished) already
            return []
        if part == "trial":
            return self._trial_done(job, future)
        if future.status != "finished":
            exc = _exception(future)
            self._fail(job, exc, future.traceback() if future.status == "error" else None)
            return []
        value = future.result()
        if part == "summary":
            job.summary = value
        else:
            job.fits[part] = value
        if job.complete:
            self._save(job)
        return []

    def _trial_done(self, job: _Job, future: Any) -> list:
        search = job.search
        try:
            new = self._own(job, "trial", search.done(future))
            if not search.finished:
                return new
            result = search.search.result(search.stopped)
        except Exception as exc:  # every trial failed, or hyperopt could not go on
            self._fail(job, exc, exc.__traceback__)
            return []
        template, details, _ = job.runner.prepared(result, _log(job.name,
                                                                 self.config.verbose))
        job.summary = {"details": details, "seconds": result.seconds}
        job.held.remove(search.fn)
        job.search = None
        return self._submit_fits(job, template, None)

    def _fail(self, job: _Job, exc: BaseException, tb: Any) -> None:
        job.over = True
        trace = "".join(traceback.format_exception(type(exc), exc, tb))
        if type(exc).__name__ == "KilledWorker":
            trace += ("\nThe task was running on every worker that died while it ran "
                      "(distributed.scheduler.allowed-failures).\n")
        self.recorder.failure(job.name, f"{type(exc).__name__}: {exc}", trace)
        self._release(job)

    def _release(self, job: _Job) -> None:
        mine = [f for f, (owner, _) in self.owner.items() if owner is job]
        for future in mine:
            del self.owner[future]
        if job.search is not None:
            mine += job.search.futures()
        self.client.cancel(mine + job.held)
        job.held.clear()

    def _save(self, job: _Job) -> None:
        """Assemble a model's fits as the serial run does and write its result."""
        job.over = True
        fits = [job.fits[i] for i in range(job.n_fits)]
        prepare_seconds = job.summary["seconds"]
        # Compute time, as the serial run measures it: the search, then every fit.
        train_seconds = prepare_seconds + sum(f["seconds"] for f in fits)
        outcome, details = make_outcome(
            job.runner, [f["model"] for f in fits], [f["info"] for f in fits],
            [f["measure"] for f in fits], job.summary["details"], train_seconds,
            prepare_seconds)
        self._release(job)
        record = self.recorder.save(job.runner, outcome, details, job.expected)
        if record is not None:
            self.recorder.finished(record)
