"""Tuning and benchmarks on a real Dask cluster (skmatnet._dask, skmatnet.benchmark._dask_runner).

One ``distributed.LocalCluster`` of 2 worker processes (one thread each) serves the
whole module. On it, scikit-learn's searches under ``joblib.parallel_backend("dask")``
and benchmark runs must give exactly what the same calls give in this process, and a
worker that dies must not lose the run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import dask_runners
import joblib
import numpy as np
import pandas as pd
import pytest
from shared_data import needs_data
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV, cross_val_score
from sklearn.pipeline import Pipeline

from skmatnet import BRNetRegressor, ElementFractionTransformer, load_dataset
from skmatnet._dask import connect_dask, parse_scheduler
from skmatnet.benchmark import BenchmarkError, _dask_runner, load_fitted_model, run_benchmark

distributed = pytest.importorskip("distributed")
pytestmark = needs_data

DATASET = "jarvis_formation_energy"

#: A small benchmark: 300 rows, tiny networks, 3 epochs, the quick trad. ML grid.
SMALL = {"max_rows": 300, "tiny": True, "max_epochs": 3, "tradml_grid": "quick",
         "device": "cpu", "plots": False, "verbose": False}
MODELS = ["tradml", "elemnet", "brnet"]
#: What must agree between runs (not the timings).
COMPARED = ["model", "variant", "test_mae", "test_rmse", "test_r2", "val_mae", "n_parameters",
            "epochs", "best_epoch", "n_train", "n_val", "n_test"]


@pytest.fixture(scope="module")
def client():
    with connect_dask("local:2") as client:
        yield client


@pytest.fixture(autouse=True)
def one_torch_thread():
    # The workers run torch on one thread each; so does the serial run they are compared with.
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def rows():
    X, y = load_dataset(DATASET, return_X_y=True)
    return X[:160], y[:160]


def small_pipeline():
    params = {**BRNetRegressor._get_test_params(), "max_epochs": 3}
    return Pipeline([("features", ElementFractionTransformer()),
                     ("model", BRNetRegressor(**params))])


def on_dask(function):
    with joblib.parallel_backend("dask"):
        return function()


# ---------------------------------------------------------------------------
# Tuning: scikit-learn's searches under the dask joblib backend
# ---------------------------------------------------------------------------


def test_workers_use_one_torch_thread_and_are_not_daemons(client):
    def probe():
        import multiprocessing

        import torch

        return torch.get_num_threads(), os.environ["OMP_NUM_THREADS"], \
            multiprocessing.current_process().daemon

    assert set(client.run(probe).values()) == {(1, "1", False)}
    assert len(client.nthreads()) == 2 and set(client.nthreads().values()) == {1}


def test_grid_search_on_dask_equals_serial(client, rows):
    X, y = rows
    grid = {"model__lr": [1e-3, 3e-3], "model__batch_size": [16, 32]}
    search = lambda: GridSearchCV(small_pipeline(), grid, cv=2, n_jobs=-1,  # noqa: E731
                                  scoring="neg_mean_absolute_error").fit(X, y)
    serial = GridSearchCV(small_pipeline(), grid, cv=2, n_jobs=1,
                          scoring="neg_mean_absolute_error").fit(X, y)
    parallel = on_dask(search)
    for key in ("mean_test_score", "std_test_score", "rank_test_score",
                "split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(parallel.cv_results_[key], serial.cv_results_[key])
    assert parallel.best_params_ == serial.best_params_
    np.testing.assert_array_equal(parallel.predict(X[:20]), serial.predict(X[:20]))


def test_cross_val_score_on_dask_equals_serial(client, rows):
    X, y = rows
    cv = KFold(3, shuffle=True, random_state=0)
    serial = cross_val_score(small_pipeline(), X, y, cv=cv, n_jobs=1)
    parallel = on_dask(lambda: cross_val_score(small_pipeline(), X, y, cv=cv, n_jobs=-1))
    np.testing.assert_array_equal(parallel, serial)


def test_randomized_search_on_dask_equals_serial(client, rows):
    X, y = rows
    space = {"model__lr": [1e-3, 2e-3, 3e-3, 5e-3], "model__batch_size": [16, 32]}

    def search(n_jobs):
        return RandomizedSearchCV(small_pipeline(), space, n_iter=3, cv=2, random_state=0,
                                  n_jobs=n_jobs).fit(X, y)

    serial = search(1)
    parallel = on_dask(lambda: search(-1))
    assert parallel.cv_results_["params"] == serial.cv_results_["params"]
    np.testing.assert_array_equal(parallel.cv_results_["mean_test_score"],
                                  serial.cv_results_["mean_test_score"])


def test_parse_scheduler():
    assert parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler("tcp://10.0.0.1:8786") == ("tcp://10.0.0.1:8786", None)
    with pytest.raises(ValueError):
        parse_scheduler("local:0")


# ---------------------------------------------------------------------------
# Benchmarks: models and folds as tasks
# ---------------------------------------------------------------------------


def compared(table):
    return table[[c for c in COMPARED if c in table]].reset_index(drop=True)


@pytest.fixture(scope="module", params=["brnet", "tatis"])
def serial_and_dask(request, client, tmp_path_factory):
    protocol = request.param
    out = tmp_path_factory.mktemp(f"bench_{protocol}")
    options = {**SMALL, "models": MODELS, "protocol": protocol, "n_folds": 2}
    serial = run_benchmark(DATASET, output_dir=out / "serial", **options)
    parallel = run_benchmark(DATASET, output_dir=out / "dask", scheduler=client, **options)
    return protocol, options, serial, parallel


def test_benchmark_on_dask_equals_serial(serial_and_dask):
    protocol, _, serial, parallel = serial_and_dask
    expected = compared(serial.table)
    got = compared(parallel.table)
    assert len(got) == (3 if protocol == "brnet" else 6)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, atol=1e-6, rtol=0)
    for name in MODELS:
        a = pd.read_csv(serial.output_dir / "predictions" / f"{name}.csv")
        b = pd.read_csv(parallel.output_dir / "predictions" / f"{name}.csv")
        pd.testing.assert_frame_equal(b, a, check_exact=False, atol=1e-6, rtol=0)
    environment = json.loads((parallel.output_dir / "environment.json").read_text())
    assert environment["dask"]["workers"] == 2 and environment["status"] == "finished"
    assert "dask" not in json.loads((serial.output_dir / "environment.json").read_text())


def test_resume_after_a_dask_run_reuses_its_results_serially(serial_and_dask):
    _, options, _, parallel = serial_and_dask
    again = run_benchmark(DATASET, output_dir=parallel.output_dir, resume=True, **options)
    assert again.resumed == MODELS
    pd.testing.assert_frame_equal(compared(again.table), compared(parallel.table))
    fitted = load_fitted_model(parallel.output_dir, "brnet")
    assert np.isfinite(fitted.predict(["Fe2O3", "NaCl"])).all()


def test_resume_on_dask_after_a_serial_run(client, tmp_path):
    options = {**SMALL, "models": ["tradml", "brnet"]}
    first = run_benchmark(DATASET, output_dir=tmp_path, models=["tradml"],
                          **{k: v for k, v in options.items() if k != "models"})
    again = run_benchmark(DATASET, output_dir=tmp_path, resume=True, scheduler=client,
                          **options)
    assert again.resumed == ["tradml"] and again.finished == ["tradml", "brnet"]
    assert again.table.set_index("model").loc["tradml", "test_mae"] == \
        first.table.set_index("model").loc["tradml", "test_mae"]


def test_a_failing_model_on_dask_keeps_the_others(client, tmp_path, monkeypatch):
    real = _dask_runner.get_runner

    def runners(name, settings, task=None):
        if name == "tradml":
            return dask_runners.BrokenRunner(name, settings, task)
        return real(name, settings, task)

    monkeypatch.setattr(_dask_runner, "get_runner", runners)
    with pytest.raises(BenchmarkError, match=r"1 of 2 models failed.*grid search explod"):
        run_benchmark(DATASET, output_dir=tmp_path, models=["tradml", "brnet"],
                      scheduler=client, **SMALL)
    trace = (tmp_path / "failed" / "tradml.txt").read_text()
    assert "RuntimeError: grid search exploded" in trace and "dask_runners.py" in trace
    assert pd.read_csv(tmp_path / "results.csv")["model"].tolist() == ["brnet"]


def test_a_worker_killed_mid_fit_does_not_lose_the_run(client, tmp_path, monkeypatch):
    marker = tmp_path / "died"
    real = _dask_runner.get_runner

    def runners(name, settings, task=None):
        if name == "elemnet":
            return dask_runners.DiesOnceRunner(name, settings, task, marker=marker)
        return real(name, settings, task)

    monkeypatch.setattr(_dask_runner, "get_runner", runners)
    pids = set(client.run(os.getpid).values())
    options = {**SMALL, "models": ["tradml", "elemnet"]}
    result = run_benchmark(DATASET, output_dir=tmp_path / "dask", scheduler=client,
                           **options)
    assert int(marker.read_text()) in pids  # a worker did die, mid-fit
    assert result.finished == ["tradml", "elemnet"] and not result.failed
    monkeypatch.undo()
    serial = run_benchmark(DATASET, output_dir=tmp_path / "serial", **options)
    pd.testing.assert_frame_equal(compared(result.table), compared(serial.table),
                                  check_exact=False, atol=1e-6, rtol=0)
    client.wait_for_workers(2, timeout=60)


def test_a_task_that_kills_every_worker_is_recorded_failed(client, tmp_path, monkeypatch):
    real = _dask_runner.get_runner

    def runners(name, settings, task=None):
        if name == "elemnet":
            return dask_runners.AlwaysDiesRunner(name, settings, task)
        return real(name, settings, task)

    monkeypatch.setattr(_dask_runner, "get_runner", runners)
    # distributed.scheduler.allowed-failures, lowered from 3 to keep the test short
    before = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
    client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler,
                                                           "allowed_failures", 0))
    try:
        with pytest.raises(BenchmarkError, match="elemnet: KilledWorker") as info:
            run_benchmark(DATASET, output_dir=tmp_path, models=["tradml", "elemnet"],
                          scheduler=client, **SMALL)
    finally:
        client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler,
                                                               "allowed_failures", before))
        client.wait_for_workers(2, timeout=60)
    assert info.value.result.finished == ["tradml"]
    assert "allowed-failures" in (tmp_path / "failed" / "elemnet.txt").read_text()


# ---------------------------------------------------------------------------
# AutoML: trials as tasks
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hpsklearn():
    try:
        from skmatnet.benchmark.automl import check_hpsklearn

        check_hpsklearn()
    except Exception as exc:
        pytest.skip(f"hyperopt-sklearn is not importable: {exc}")


def trial_records(output_dir):
    return json.loads((output_dir / "done" / "automl.json").read_text())["details"]["trials"]


def test_automl_trials_run_as_tasks(client, hpsklearn, tmp_path):
    options = {**SMALL, "models": ["automl"], "automl_evals": 6, "automl_trial_timeout": 20.0}
    parallel = run_benchmark(DATASET, output_dir=tmp_path / "dask", scheduler=client,
                             **options)
    trials = trial_records(parallel.output_dir)
    assert [t["trial"] for t in trials] == [1, 2, 3, 4, 5, 6]
    assert {t["status"] for t in trials} <= {"ok", "failed"}
    assert any(t["status"] == "ok" and t["valid_mae"] > 0 for t in trials)
    fitted = load_fitted_model(parallel.output_dir, "automl")
    assert np.isfinite(fitted.predict(["Fe2O3", "NaCl"])).all()
    # TPE's first 20 proposals are random draws, independent of the results: with 6
    # trials the parallel search tries, and finds, what the serial one does.
    serial = run_benchmark(DATASET, output_dir=tmp_path / "serial", **options)
    keys = ["trial", "status", "regressor", "preprocessing", "valid_mae"]
    assert [{k: t[k] for k in keys} for t in trials] == \
        [{k: t[k] for k in keys} for t in trial_records(serial.output_dir)]
    pd.testing.assert_frame_equal(compared(parallel.table), compared(serial.table),
                                  check_exact=False, atol=1e-6, rtol=0)


def test_trial_queue_keeps_at_most_queue_trials_in_flight(client, hpsklearn, rows):
    from skmatnet.benchmark.models import ModelSettings, get_runner

    X = ElementFractionTransformer().fit_transform(rows[0])
    y = rows[1]
    runner = get_runner("automl", ModelSettings(automl_evals=5, automl_trial_timeout=20.0))
    rows_ = _dask_runner._Rows(X, y, np.arange(140, 160),
                               [("", np.arange(0, 120), np.arange(120, 140))])
    lines = []
    search = _dask_runner._DaskSearch(client, runner, rows_, queue=2, log=lines.append)
    pending = distributed.as_completed(search.submit())
    most = len(search.running)
    for future in pending:
        pending.update(search.done(future))
        most = max(most, len(search.running))
    assert most == 2 and search.finished
    result = search.search.result(search.stopped)
    assert len(result.trials) == 5 and result.stopped == "max_evals"
    assert len(lines) == 5 and lines[-1].startswith("trial ")


def test_a_trial_in_a_worker_thread_fails_cleanly():
    def slow(argd, _conn, best_loss):
        time.sleep(3)

    def broken(argd, _conn, best_loss):
        raise ValueError("bad trial")

    _, rval = _dask_runner._trial_in_thread(slow, {}, np.inf, 0.2)
    assert rval["status"] == "fail" and rval["failure"] == "TimeOut after 0 s"
    _, rval = _dask_runner._trial_in_thread(broken, {}, np.inf, 5)
    assert rval == {"status": "fail", "failure": "ValueError: bad trial"}


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def test_command_line_on_a_local_cluster_and_ctrl_c(client, tmp_path):
    # One real `--dask local:2` run, interrupted once the trad. ML model is saved: Ctrl-C
    # cancels the network's tasks and keeps what finished, as a serial run does. The network
    # must not end first, whatever the load: its schedule is days long and its early stopping
    # is off (the protocol's patience of 100 stopped the tiny net after 9 s, about the time the
    # trad. ML grid took on a loaded machine).
    # Its progress goes to a file the test reads: Ctrl-C comes once every model is submitted
    # (the client then waits on the tasks) and the trad. ML model is saved.
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "skmatnet", "benchmark", DATASET, "--models", "tradml,brnet",
             "--dask", "local:2", "--max-rows", "300", "--tiny", "--max-epochs", "10000000",
             "--patience", "10000000",
             "--tradml-grid", "quick", "--device", "cpu", "--no-plots", "--output",
             str(tmp_path)],
            stdout=subprocess.DEVNULL, stderr=stderr_file, text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            # A suite started in the background runs with Ctrl-C ignored, which a child
            # inherits (and the benchmark then rightly keeps): it must see a real Ctrl-C here.
            # Without this the run once ignored the signal and never ended.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 180
        while not ((tmp_path / "done" / "tradml.json").exists()
                   and "model 2/2 submitted" in log.read_text()) \
                and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # the table and environment.json are rewritten just after
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
    stderr = log.read_text()
    assert process.returncode == 130, stderr
    assert "interrupted: 1 of 2 models finished" in stderr and "--resume" in stderr
    environment = json.loads((tmp_path / "environment.json").read_text())
    assert environment["status"] == "interrupted" and environment["finished_models"] == ["tradml"]
    assert environment["dask"]["workers"] == 2 and "--dask local:2" in environment["command"]
    assert pd.read_csv(tmp_path / "results.csv")["model"].tolist() == ["tradml"]
    # --resume continues it (here on the module's cluster, with a short network)
    again = run_benchmark(DATASET, output_dir=tmp_path, resume=True, scheduler=client,
                          models=["tradml", "brnet"], **SMALL)
    assert again.resumed == ["tradml"] and again.finished == ["tradml", "brnet"]


def test_command_line_errors_are_one_line(tmp_path, capsys):
    import dask

    from skmatnet.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["benchmark", DATASET, "--dask", "local:2", "--scheduler", "tcp://127.0.0.1:8786"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not allowed with argument --dask" in err
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        status = main(["benchmark", DATASET, "--models", "tradml", "--scheduler",
                       "tcp://127.0.0.1:9", "--output", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1
    assert err.startswith("skmatnet: error: cannot reach the Dask scheduler 'tcp://127.0.0.1:9'")
    assert not (tmp_path / "environment.json").exists()
    code = ("import sys; sys.modules['distributed'] = None; from skmatnet.cli import main; "
            f"sys.exit(main(['benchmark', {DATASET!r}, '--models', 'tradml', '--dask', "
            "'local:2']))")
    missing = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
    assert "pip install 'skmatnet[dask]'" in missing.stderr


def test_core_imports_stay_free_of_dask():
    code = ("import sys, skmatnet, skmatnet.benchmark, skmatnet.cli; "
            "skmatnet.cli.build_parser(); "
            "loaded = [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]; "
            "assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True)
