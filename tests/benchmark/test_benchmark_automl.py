"""The AutoML baseline (skmatnet.benchmark.automl): failed trials, time budgets."""

from __future__ import annotations

import sys

import pytest
from bench_settings import DATASET
from shared_data import needs_data

from skmatnet.benchmark import (
    BenchmarkError,
    load_benchmark_data,
    make_split,
    run_benchmark,
)
from skmatnet.benchmark import automl as automl_module

pytestmark = needs_data


def test_missing_hpsklearn_gives_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "hpsklearn", None)
    with pytest.raises(BenchmarkError, match=r"pip install --no-deps hyperopt-sklearn==1\.1\.1"):
        automl_module.check_hpsklearn()
    with pytest.raises(BenchmarkError, match="hyperopt-sklearn"):
        run_benchmark(DATASET, models="automl,brnet", verbose=False)


def test_automl_trial_that_raises_is_a_failed_trial_not_a_crash():
    import multiprocessing

    def boom(argd, _conn, best_loss):
        raise RuntimeError("unexpected in a trial")

    reader, writer = multiprocessing.Pipe(duplex=False)
    import signal

    previous = signal.getsignal(signal.SIGINT)
    try:
        automl_module._trial_main(writer, boom, {}, float("inf"))
    finally:
        signal.signal(signal.SIGINT, previous)
    rtype, rval = reader.recv()
    assert rtype == "return" and rval["status"] == "fail"
    assert "RuntimeError: unexpected in a trial" in rval["failure"]


def test_automl_all_trials_timing_out_is_a_clear_error():
    small = load_benchmark_data(DATASET, max_rows=300)
    split = make_split(small, "brnet")
    with pytest.raises(BenchmarkError, match="all 2 AutoML trials failed or timed out"):
        automl_module.hyperopt_search(
            small.X[split.train], small.y[split.train], small.X[split.val], small.y[split.val],
            max_evals=2, trial_timeout=0.001,
        )


def test_automl_respects_its_time_budget():
    small = load_benchmark_data(DATASET, max_rows=300)
    split = make_split(small, "brnet")
    lines = []
    result = automl_module.hyperopt_search(
        small.X[split.train], small.y[split.train], small.X[split.val], small.y[split.val],
        max_evals=1000, time_budget=2.0, trial_timeout=2.0, progress=lines.append,
    )
    assert result.stopped == "time_budget"
    assert result.seconds < 2.0 + 2.0 + 3.0  # the budget, one capped trial, process slack
    assert len(lines) == len(result.trials) < 1000
    assert lines[0].startswith("trial 1/1000 ")
