"""The benchmark (skmatnet.benchmark): protocols, artifacts, resume, AutoML, on real JARVIS data.

The end-to-end runs use a random subset of the real JARVIS formation-energy
data, tiny networks and small search budgets; synthetic data appear only in
checks of pure logic (deduplication rules, CSV errors).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from shared_data import needs_data

from skmatnet.benchmark import (
    DEFAULT_MODELS,
    MODEL_NAMES,
    TABLE_COLUMNS,
    BenchmarkError,
    FoldEnsembleRegressor,
    count_model_parameters,
    load_benchmark_data,
    make_split,
    parse_models,
    published_result,
    run_benchmark,
)
from skmatnet.benchmark import automl as automl_module
from skmatnet.benchmark import models as models_module
from skmatnet.benchmark.protocols import _dedupe
from skmatnet.model_selection import n_elements

pytestmark = needs_data

DATASET = "jarvis_formation_energy"
TINY = {"tiny": True, "max_epochs": 4, "device": "cpu", "verbose": False}


# ---------------------------------------------------------------------------
# Data and protocols
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jarvis():
    return load_benchmark_data(DATASET)


def _shares(labels: np.ndarray) -> np.ndarray:
    return np.bincount(labels, minlength=10) / len(labels)


def test_data_is_deduplicated_and_featurized(jarvis):
    assert len(jarvis) == 26_741  # the BRNet rule: lowest value per composition
    assert jarvis.X.shape == (26_741, 86) and jarvis.X.dtype == np.float32
    np.testing.assert_allclose(jarvis.X.sum(axis=1), 1.0, atol=1e-5)
    assert jarvis.units == "eV/atom"
    assert jarvis.source["n_rows_read"] == 28_108
    # one row per composition
    keys = {row.tobytes() for row in jarvis.X}
    assert len(keys) == len(jarvis)


def test_brnet_split_parts_are_disjoint_stratified_and_seeded(jarvis):
    split = make_split(jarvis, "brnet")
    parts = [split.train, split.val, split.test]
    assert sum(map(len, parts)) == len(jarvis)
    assert len(np.unique(np.concatenate(parts))) == len(jarvis)  # no row in two parts
    n = len(jarvis)
    for part, share in zip(parts, (0.81, 0.09, 0.10), strict=True):
        assert abs(len(part) / n - share) < 0.002
    counts = n_elements(jarvis.X)
    whole = _shares(counts)
    for part in parts:
        assert np.abs(_shares(counts[part]) - whole).max() < 0.005
    again = make_split(jarvis, "brnet")
    np.testing.assert_array_equal(again.test, split.test)
    other = make_split(jarvis, "brnet", seed=1)
    assert not np.array_equal(other.test, split.test)
    (label, train, val), = split.fits()
    assert label == "" and train is split.train and val is split.val


def test_tatis_split_folds_partition_the_training_part(jarvis):
    split = make_split(jarvis, "tatis", n_folds=10)
    n = len(jarvis)
    assert len(np.intersect1d(split.train, split.test)) == 0
    assert len(split.train) + len(split.test) == n
    assert abs(len(split.test) / n - 0.10) < 0.002
    assert len(split.val) == 0 and split.n_folds == 10
    validation = np.concatenate([va for _, va in split.folds])
    assert len(validation) == len(split.train)
    np.testing.assert_array_equal(np.sort(validation), split.train)  # disjoint, cover the 90 %
    counts = n_elements(jarvis.X)
    whole = _shares(counts[split.train])
    for train, val in split.folds:
        assert len(np.intersect1d(train, val)) == 0
        np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), split.train)
        assert np.abs(_shares(counts[val]) - whole).max() < 0.01
        assert len(np.intersect1d(val, split.test)) == 0


def test_subsampling_happens_before_splitting(jarvis):
    small = load_benchmark_data(DATASET, max_rows=500)
    assert len(small) == 500
    assert set(small.formulas) <= set(jarvis.formulas)
    again = load_benchmark_data(DATASET, max_rows=500)
    np.testing.assert_array_equal(small.formulas, again.formulas)
    split = make_split(small, "brnet")
    assert len(split.train) + len(split.val) + len(split.test) == 500


def test_csv_input_dedupes_like_the_brnet_protocol(tmp_path):
    # Pure logic: the lowest value per composition; Fe2O3 and Fe4O6 are one composition.
    path = tmp_path / "tiny.csv"
    pd.DataFrame({
        "composition": ["Fe2O3", "Fe4O6", "NaCl", "NaN"] * 6,
        "E": [1.0, -1.0, 0.5, 2.0] * 6,
    }).to_csv(path, index=False)
    # 3 compositions: too few rows for a benchmark, but the rule shows in the error.
    with pytest.raises(BenchmarkError, match="only 3 usable rows"):
        load_benchmark_data(path, formula_column="composition", target_column="E")
    data = load_benchmark_data(path, formula_column="composition", target_column="E",
                               dedupe=None)
    assert len(data) == 24 and "NaN" in set(data.formulas)  # sodium nitride, not missing
    f, y, _ = _dedupe(data.formulas, data.y, data.X, "min")
    assert dict(zip(f, y, strict=True)) == {"Fe4O6": -1.0, "NaCl": 0.5, "NaN": 2.0}


@pytest.mark.parametrize("kwargs, message", [
    ({"data": "no_such_dataset"}, "unknown dataset"),
    ({"data": "missing.csv"}, "neither a dataset name"),
    ({"data": DATASET, "models": "resnet"}, "unknown model 'resnet'"),
    ({"data": DATASET, "protocol": "kfold"}, "unknown protocol"),
    ({"data": DATASET, "max_time": -1}, "max_time must be"),
    ({"data": DATASET, "tradml_grid": "huge"}, "tradml_grid must be"),
])
def test_bad_arguments_are_named(tmp_path, kwargs, message):
    with pytest.raises(BenchmarkError, match=message):
        run_benchmark(**kwargs, output_dir=tmp_path / "out", verbose=False)


def test_quick_settings_and_explicit_overrides():
    from skmatnet.benchmark.runner import FULL_SETTINGS, QUICK_SETTINGS, _resolve_settings

    quick = _resolve_settings(True, {"max_time": None, "automl_evals": 30})
    assert quick == {**QUICK_SETTINGS, "automl_evals": 30}
    assert _resolve_settings(False, {}) == FULL_SETTINGS
    assert QUICK_SETTINGS["tradml_grid"] == "quick" and QUICK_SETTINGS["max_time"] <= 30


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda(tmp_path):
    with pytest.raises(BenchmarkError, match="CUDA is not available"):
        run_benchmark(DATASET, models="brnet", device="cuda", output_dir=tmp_path,
                      verbose=False)
    assert not (tmp_path / "split.csv").exists()  # checked before anything is written


def test_csv_without_the_named_columns(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame({"formula": ["Fe2O3"] * 30, "y": range(30)}).to_csv(path, index=False)
    with pytest.raises(BenchmarkError, match=r"no column 'target'.*--target-column"):
        run_benchmark(path, models="tradml", output_dir=tmp_path / "out", verbose=False)


def test_missing_hpsklearn_gives_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "hpsklearn", None)
    with pytest.raises(BenchmarkError, match=r"pip install --no-deps hyperopt-sklearn==1\.1\.1"):
        automl_module.check_hpsklearn()
    with pytest.raises(BenchmarkError, match="hyperopt-sklearn"):
        run_benchmark(DATASET, models="automl,brnet", verbose=False)


def test_model_selection_names():
    assert parse_models(None) == list(DEFAULT_MODELS)
    assert parse_models("brnet, automl") == ["automl", "brnet"]  # run order
    assert parse_models(["all"]) == list(MODEL_NAMES)
    with pytest.raises(BenchmarkError, match="unknown model"):
        parse_models(["brnet", "xgb"])


def test_published_numbers():
    assert published_result(DATASET, "brnet", "brnet").mae == 0.070
    assert published_result(DATASET, "automl", "brnet").mae == 0.129
    assert published_result(DATASET, "elemnet", "brnet").train_time_s == 2036
    assert published_result(DATASET, "brnet-ensemble", "brnet").mae == 0.070
    assert published_result(DATASET, "brnet", "tatis") is None
    assert published_result("oqmd_formation_enthalpy", "fcmnr", "tatis").mae == 0.0511


def test_parameter_counts_of_classic_models(jarvis):
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import Ridge
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = jarvis.X[:300], jarvis.y[:300]
    ridge = Ridge().fit(X, y)
    assert count_model_parameters(ridge) == 87
    assert count_model_parameters(make_pipeline(StandardScaler(), Ridge()).fit(X, y)) \
        == 87 + 3 * 86 + 1  # + mean_, var_, scale_ and n_samples_seen_
    knn = KNeighborsRegressor().fit(X, y)
    assert count_model_parameters(knn) == 300 * 86 + 300
    forest = RandomForestRegressor(n_estimators=3, random_state=0).fit(X, y)
    assert count_model_parameters(forest) == sum(t.tree_.node_count for t in forest.estimators_)


# ---------------------------------------------------------------------------
# AutoML robustness
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# End to end: brnet protocol
# ---------------------------------------------------------------------------

E2E_MODELS = ["automl", "tradml", "elemnet", "brnet"]


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "jarvis"
    result = run_benchmark(
        DATASET, models=E2E_MODELS, output_dir=out, max_rows=400, tradml_grid="quick",
        automl_evals=24, automl_trial_timeout=10.0, **TINY,
    )
    return result


def test_e2e_table_rows_and_csv_columns(e2e):
    table = pd.read_csv(e2e.output_dir / "results.csv")
    assert list(table.columns) == TABLE_COLUMNS
    assert table["model"].tolist() == E2E_MODELS
    assert (table["test_mae"] > 0).all() and np.isfinite(table["test_rmse"]).all()
    assert table["paper_mae"].tolist() == [0.129, 0.135, 0.083, 0.070]
    nets = table.set_index("model").loc[["elemnet", "brnet"]]
    assert (nets["epochs"] == 4).all() and (nets["n_parameters"] > 0).all()
    assert table.set_index("model").loc["automl", "n_parameters"] > 0
    assert (table["n_test"] == len(e2e.split.test)).all()
    markdown = (e2e.output_dir / "results.md").read_text()
    for model in E2E_MODELS:
        assert f"| {model} | " in markdown
    assert "Command: `run_benchmark(" in markdown
    text = e2e.to_text()
    assert text.splitlines()[0].startswith("model") and len(text.splitlines()) == 2 + 4


def test_e2e_charts_are_written(e2e):
    for name in ["bubble.png"] + [f"parity_{m}.png" for m in E2E_MODELS]:
        path = e2e.output_dir / name
        assert path.stat().st_size > 1000
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_e2e_environment_record(e2e):
    env = json.loads((e2e.output_dir / "environment.json").read_text())
    for key in ("python", "cpu", "cpu_count", "device", "seed", "command", "git", "date",
                "split_sha256", "settings", "status"):
        assert key in env, key
    for package in ("numpy", "scikit-learn", "torch", "skorch", "hyperopt-sklearn", "skmatnet"):
        assert env["versions"][package]
    assert env["seed"] == 1234567 and env["device"] == "cpu" and env["status"] == "finished"
    shas = {f["sha256"] for f in env["data"]["files"]}
    assert "d0fb3731aab4db0c4467cd2bc3e857400c96442c3db51920ebd2c4df66fb0823" in shas


def test_e2e_every_model_saw_the_same_rows(e2e):
    split = pd.read_csv(e2e.output_dir / "split.csv")
    assert len(split) == 400
    test_rows = np.sort(split.loc[split["part"] == "test", "row"].to_numpy())
    np.testing.assert_array_equal(test_rows, e2e.split.test)
    for model in E2E_MODELS:
        predictions = pd.read_csv(e2e.output_dir / "predictions" / f"{model}.csv")
        np.testing.assert_array_equal(np.sort(predictions["row"].to_numpy()), test_rows)
        merged = predictions.merge(split, on="row")
        np.testing.assert_array_equal(merged["formula_x"], merged["formula_y"])
        np.testing.assert_allclose(merged["y_true"], merged["target"])
        record = json.loads((e2e.output_dir / "done" / f"{model}.json").read_text())
        assert record["fingerprint"]["split_sha256"] == e2e.environment["split_sha256"]
        assert record["rows"][0]["n_train"] == len(e2e.split.train)
        assert record["rows"][0]["n_val"] == len(e2e.split.val)


def test_e2e_saved_models_predict_formulas(e2e):
    table = e2e.table.set_index("model")
    frame = pd.read_csv(e2e.output_dir / "predictions" / "brnet.csv")
    for model in E2E_MODELS:
        fitted = joblib.load(e2e.output_dir / "models" / f"{model}.joblib")
        predicted = fitted.predict(frame["formula"].tolist())
        saved = pd.read_csv(e2e.output_dir / "predictions" / f"{model}.csv")
        np.testing.assert_allclose(predicted, saved["y_pred"], rtol=1e-5, atol=1e-5)
        assert np.mean(np.abs(predicted - frame["y_true"])) == pytest.approx(
            table.loc[model, "test_mae"], rel=1e-5)


def test_e2e_automl_went_past_twenty_trials_into_tpe(e2e):
    record = json.loads((e2e.output_dir / "done" / "automl.json").read_text())
    trials = record["details"]["trials"]
    assert len(trials) == 24
    ok = [t for t in trials if t["status"] == "ok"]
    # TPE proposes trials once 20 have succeeded: trials after that ran and were scored.
    assert len(ok) >= 21, [t["failure"] for t in trials if t["failure"]]
    assert record["details"]["trials_ok"] == len(ok)


def test_resume_skips_finished_models_and_reruns_changed_ones(e2e, tmp_path):
    out = tmp_path / "resumed"
    shutil.copytree(e2e.output_dir, out)
    before = {p.name: p.stat().st_mtime_ns for p in (out / "done").iterdir()}
    result = run_benchmark(
        DATASET, models=E2E_MODELS, output_dir=out, max_rows=400, tradml_grid="quick",
        automl_evals=24, automl_trial_timeout=10.0, resume=True, **TINY,
    )
    assert result.resumed == E2E_MODELS
    assert {p.name: p.stat().st_mtime_ns for p in (out / "done").iterdir()} == before
    env = json.loads((out / "environment.json").read_text())
    assert [run["status"] for run in env["previous_runs"]] == ["finished"]  # kept, not lost
    pd.testing.assert_frame_equal(result.table, e2e.table, check_dtype=False)
    # A changed network setting runs that network again; the baselines stay done.
    changed = run_benchmark(
        DATASET, models=["tradml", "brnet"], output_dir=out, max_rows=400,
        tradml_grid="quick", resume=True, **{**TINY, "max_epochs": 3},
    )
    assert changed.resumed == ["tradml"]
    assert changed.table.set_index("model").loc["brnet", "epochs"] == 3
    # Without resume, earlier results are cleared.
    fresh = run_benchmark(DATASET, models=["tradml"], output_dir=out, max_rows=400,
                          tradml_grid="quick", plots=False, **{**TINY, "max_epochs": 3})
    assert fresh.resumed == []
    assert sorted(p.name for p in (out / "done").iterdir()) == ["tradml.json"]
    assert not list(out.glob("parity_*.png"))


def test_a_failing_model_keeps_the_others(monkeypatch, tmp_path):
    def broken(self, *args, **kwargs):
        raise RuntimeError("grid search exploded")

    monkeypatch.setattr(models_module.TradMLRunner, "prepare", broken)
    with pytest.raises(BenchmarkError, match=r"1 of 2 models failed.*grid search exploded") as info:
        run_benchmark(DATASET, models=["tradml", "bnet"], output_dir=tmp_path, max_rows=300,
                      plots=False, **TINY)
    result = info.value.result
    assert result.finished == ["bnet"] and "tradml" in result.failed
    assert "grid search exploded" in (tmp_path / "failed" / "tradml.txt").read_text()
    assert pd.read_csv(tmp_path / "results.csv")["model"].tolist() == ["bnet"]
    monkeypatch.undo()
    again = run_benchmark(DATASET, models=["tradml", "bnet"], output_dir=tmp_path, max_rows=300,
                          plots=False, resume=True, tradml_grid="quick", **TINY)
    assert again.resumed == ["bnet"] and again.finished == ["tradml", "bnet"]
    assert not (tmp_path / "failed" / "tradml.txt").exists()


# ---------------------------------------------------------------------------
# End to end: tatis protocol
# ---------------------------------------------------------------------------


def test_tatis_protocol_end_to_end(tmp_path):
    result = run_benchmark(
        DATASET, models=["tradml", "irnet"], protocol="tatis", n_folds=3, output_dir=tmp_path,
        max_rows=300, tradml_grid="quick", **TINY,
    )
    table = result.table.set_index("model")
    assert list(table.index) == ["tradml", "tradml-ensemble", "irnet", "irnet-ensemble"]
    assert table.loc["irnet-ensemble", "epochs"] == 3 * 4
    assert table.loc["irnet-ensemble", "ensemble_std"] > 0
    assert table.loc["irnet-ensemble", "n_parameters"] == 3 * table.loc["irnet", "n_parameters"]
    split = pd.read_csv(tmp_path / "split.csv")
    assert set(split["part"]) == {"train", "test"}
    assert sorted(split.loc[split["part"] == "train", "fold"].unique()) == [0, 1, 2]
    assert (split.loc[split["part"] == "test", "fold"] == -1).all()
    predictions = pd.read_csv(tmp_path / "predictions" / "irnet.csv")
    np.testing.assert_array_equal(np.sort(predictions["row"]), result.split.test)
    folds = predictions[[f"y_pred_fold{i}" for i in (1, 2, 3)]].to_numpy()
    np.testing.assert_allclose(predictions["y_pred_ensemble"], folds.mean(axis=1))
    record = json.loads((tmp_path / "done" / "irnet.json").read_text())
    chosen = record["details"]["selected_fold"]
    val = record["details"]["val_mae_per_fit"]
    assert chosen == int(np.argmin(val)) + 1  # chosen by validation fold, never by test
    np.testing.assert_allclose(predictions["y_pred"], predictions[f"y_pred_fold{chosen}"])
    ensemble = joblib.load(tmp_path / "models" / "irnet.joblib")
    assert isinstance(ensemble, FoldEnsembleRegressor) and len(ensemble.estimators) == 3
    mean, std = ensemble.predict(predictions["formula"].tolist(), return_std=True)
    np.testing.assert_allclose(mean, predictions["y_pred_ensemble"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(std, predictions["y_std_ensemble"], rtol=1e-4, atol=1e-5)
    assert (tmp_path / "parity_irnet-ensemble.png").stat().st_size > 1000
    assert "selection on the test data" in (tmp_path / "results.md").read_text()


def test_default_output_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_benchmark(DATASET, models="tradml", max_rows=200, tradml_grid="quick",
                           plots=False, verbose=False)
    assert result.output_dir == Path("skmatnet-results") / f"{DATASET}_brnet"
    assert (tmp_path / result.output_dir / "results.md").is_file()
