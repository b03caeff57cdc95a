"""Connecting to Dask: ``local:N`` clusters, scheduler addresses, one thread pool per worker.

Dask is an optional extra (``pip install "skmatnet[dask]"``); nothing here is imported
by ``import skmatnet``. Tuning (``joblib.parallel_backend("dask")``), the benchmark's
``--dask``/``--scheduler`` and :mod:`skmatnet.screening` all get their client here, so
that every worker runs its torch, OpenMP and BLAS code on the same number of threads.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from typing import Any

__all__ = ["DASK_HINT", "WorkerThreads", "connect_dask", "import_distributed",
           "parse_scheduler"]

#: How to install what the Dask features need.
DASK_HINT = "pip install 'skmatnet[dask]'"

try:  # the plugin base class, where distributed is installed (this module is only imported
    # by the Dask features, which need it)
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover - without the extra; connect_dask() explains
    _WorkerPlugin = object

_LOCAL = re.compile(r"^local(?::(\d+))?$")
# Environment of every worker process a local cluster starts: read once, when OpenMP and
# BLAS start, so it must be set before the worker imports torch or numpy.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def import_distributed() -> Any:
    """Return the ``distributed`` module, or raise ImportError with the install command."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(f"the Dask features need dask and distributed ({exc}); install them "
                          f"with: {DASK_HINT}") from None
    return distributed


def parse_scheduler(spec: str) -> tuple[str, int | None]:
    """Split a scheduler spec into ``("local", n_workers)`` or ``("address", None)``.

    ``"local"`` means one worker per CPU core; ``"local:N"`` N workers; anything else is
    the address of a running scheduler (``tcp://host:8786``, ``host:8786``, a scheduler
    file path ending in ``.json``).

    Raises
    ------
    ValueError
        ``local:0``, or an empty spec.
    """
    text = str(spec).strip()
    if not text:
        raise ValueError("empty Dask scheduler: give 'local:N' or a scheduler address")
    match = _LOCAL.match(text)
    if match is None:
        return text, None
    n = int(match.group(1)) if match.group(1) else (os.cpu_count() or 1)
    if n < 1:
        raise ValueError(f"a local Dask cluster needs at least one worker, got {spec!r}")
    return "local", n


class WorkerThreads(_WorkerPlugin):
    """A Dask worker plugin that sets torch's and the BLAS/OpenMP pools to ``threads`` threads.

    Each worker runs one task at a time per worker thread; with ``threads`` torch threads
    per task and one task per worker, ``n_workers * threads`` should not exceed the cores
    (oversubscribed OpenMP is many times slower, docs/performance.md).

    Parameters
    ----------
    threads : int, default=1
    """

    name = "skmatnet-worker-threads"
    idempotent = True

    def __init__(self, threads: int = 1):
        self.threads = int(threads)

    def setup(self, worker: Any = None) -> None:
        for variable in _THREAD_VARIABLES:
            os.environ[variable] = str(self.threads)
        with contextlib.suppress(Exception):  # threadpoolctl ships with scikit-learn
            from threadpoolctl import threadpool_limits

            threadpool_limits(self.threads)
        with contextlib.suppress(ImportError):
            import torch

            torch.set_num_threads(self.threads)
            with contextlib.suppress(RuntimeError):  # only settable before the first use
                torch.set_num_interop_threads(1)



@contextlib.contextmanager
def connect_dask(scheduler: Any, *, threads: int = 1, quiet: bool = True,
            timeout: str | float | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for ``scheduler``, with worker threads limited; closed on exit.

    Parameters
    ----------
    scheduler : str or distributed.Client
        ``"local"``, ``"local:N"`` (a :class:`distributed.LocalCluster` of N worker
        processes, one thread each, started here and shut down on exit), a scheduler
        address, or a client (used as is, not closed).
    threads : int, default=1
        torch/BLAS threads per worker (:class:`WorkerThreads`).
    quiet : bool, default=True
        No dashboard and quieter logs for a local cluster.
    timeout : str, float or None, default=None
        How long to try to reach a scheduler address (``"20s"``, seconds); ``None``:
        Dask's ``distributed.comm.timeouts.connect`` (30 s unless configured).

    Yields
    ------
    distributed.Client

    Notes
    -----
    The workers of a local cluster are started as non-daemonic processes
    (``distributed.worker.daemon: False`` while the cluster lives), so that a task
    may start processes of its own: the benchmark runs each AutoML trial in a child
    process of its worker, to stop it at its timeout. They are also started without
    Dask's ``MALLOC_TRIM_THRESHOLD_=65536``, which slows torch down by a third; for a
    cluster you start yourself, set ``distributed.nanny.pre-spawn-environ.
    MALLOC_TRIM_THRESHOLD_: null`` in its Dask configuration (docs/scaling.md).
    """
    distributed = import_distributed()
    if isinstance(scheduler, distributed.Client):
        scheduler.register_plugin(WorkerThreads(threads))
        yield scheduler
        return
    kind, n_workers = parse_scheduler(scheduler)
    with contextlib.ExitStack() as stack:
        if kind == "local":
            import dask

            # Read by the nannies (in this process) whenever they start or restart a worker.
            stack.enter_context(dask.config.set({
                "distributed.worker.daemon": False,
                # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which returns freed
                # memory to the OS at once; glibc then maps and faults in every large tensor
                # of every batch again: torch inference runs 30-35% slower
                # (benchmarks/screening_speed.py). Unset, glibc's adaptive default applies.
                "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
            }))
            env = {variable: str(threads) for variable in _THREAD_VARIABLES}
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, env=env,
                dashboard_address=None if quiet else ":8787",
                silence_logs=50 if quiet else 30,
            ))
            client = stack.enter_context(distributed.Client(cluster))
        else:
            # Without a timeout the client's own default applies (None would wait forever).
            waiting = {} if timeout is None else {"timeout": timeout}
            if str(scheduler).endswith(".json"):
                client = stack.enter_context(distributed.Client(scheduler_file=scheduler,
                                                                **waiting))
            else:
                client = stack.enter_context(distributed.Client(scheduler, **waiting))
        client.register_plugin(WorkerThreads(threads))
        yield client
