"""One AutoML trial in a child process with a time limit: the machinery under the search.

A trial is hpsklearn's ``_cost_fn`` (or :func:`_classifier_cost` for labels) run by
:func:`_trial_main` in a fresh process of a ``forkserver`` (or ``spawn``) context from
:func:`_context`; :func:`_run_trial` starts it, waits at most the trial's limit and turns
any error, crash or timeout into a failed trial. The search loops
(:func:`skmatnet.benchmark.automl.hyperopt_search`, and the Dask runner's trial tasks)
call these. Everything a child process runs is defined here, at module level, so that
the child can import it by its module path; the forkserver preloads this module.
"""

from __future__ import annotations

import copy
import multiprocessing
import signal
import time
import warnings
from typing import Any

# Modules the forkserver imports once, so that each trial starts in milliseconds: this
# module (the trial's entry point and cost functions), the search's (the tasks a
# classification trial unpickles) and the libraries every trial uses.
_PRELOAD = ["skmatnet.benchmark._trials", "skmatnet.benchmark.automl", "hpsklearn",
            "hyperopt", "sklearn.ensemble", "sklearn.svm", "sklearn.neighbors",
            "sklearn.linear_model"]


def _quiet(*args: Any) -> None:
    """hpsklearn's ``info`` callback, silenced (and picklable for the trial processes)."""


def _trial_main(conn, fn, argd, best_loss) -> None:
    """Run one hpsklearn trial in a child process and send its result back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    # hpsklearn 1.1.1 passes arguments that scikit-learn deprecates: keep the log readable.
    warnings.simplefilter("ignore")
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except Exception:  # pragma: no cover - threadpoolctl ships with scikit-learn
        pass
    try:
        fn(argd, _conn=conn, best_loss=best_loss)
    except BaseException as exc:
        import hyperopt

        try:
            conn.send(("return", {"status": hyperopt.STATUS_FAIL,
                                  "failure": f"{type(exc).__name__}: {exc}"[:300]}))
        except Exception:
            pass
    finally:
        conn.close()


def _classifier_cost(argd, *, X_train, y_train, X_val, y_val, task, n_jobs, _conn,
                     best_loss=None) -> None:
    """One classification trial: fit preprocessing and classifier, send 1 - validation ROC-AUC.

    Speaks the protocol of hpsklearn's ``_cost_fn`` (a ``("return", result)``
    message on ``_conn``), so that
    :func:`~skmatnet.benchmark.automl.hyperopt_search` runs it the same way.
    """
    import hyperopt

    learner, preprocs = argd["classifier"], list(argd.get("preprocessing") or ())
    if hasattr(learner, "n_jobs"):
        learner.n_jobs = n_jobs
    untrained = copy.deepcopy(learner)
    start = time.monotonic()
    Xfit, Xval = X_train, X_val
    for step in preprocs:
        step.fit(Xfit)
        Xfit, Xval = step.transform(Xfit), step.transform(Xval)
    learner.fit(Xfit, y_train)
    loss = task.loss(learner, Xval, y_val)
    _conn.send(("return", {"status": hyperopt.STATUS_OK, "loss": float(loss),
                           "learner": untrained, "preprocs": tuple(argd.get("preprocessing")
                                                                   or ()),
                           "duration": time.monotonic() - start}))



def _context(start_method: str):
    if start_method not in multiprocessing.get_all_start_methods():
        start_method = "spawn"
    ctx = multiprocessing.get_context(start_method)
    if start_method == "forkserver":
        ctx.set_forkserver_preload(_PRELOAD)
    return ctx



def _run_trial(ctx, fn, argd, best_loss: float, limit: float) -> tuple[str, Any]:
    """Run one trial in a fresh process of ``ctx``; ``(rtype, rval)`` as hpsklearn sends them.

    A trial that outlives ``limit`` seconds is terminated, one whose process dies is
    failed: either way the search goes on.
    """
    import hyperopt

    reader, writer = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_trial_main, args=(writer, fn, argd, best_loss))
    try:
        process.start()
        writer.close()
        if reader.poll(None if limit == float("inf") else limit):
            try:
                return reader.recv()
            except (EOFError, OSError):
                process.join(5)
                return "return", {"status": hyperopt.STATUS_FAIL,
                                  "failure": f"trial process died (exit code {process.exitcode})"}
        return "return", {"status": hyperopt.STATUS_FAIL,
                          "failure": f"TimeOut after {limit:.0f} s"}
    finally:
        if process.is_alive():
            process.terminate()
            process.join(5)
            if process.is_alive():  # pragma: no cover - ignores SIGTERM
                process.kill()
                process.join()
        reader.close()
