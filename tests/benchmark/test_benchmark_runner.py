"""Benchmark runs end to end (skmatnet.benchmark.runner, .output, .results) on real JARVIS rows.

A random subset of the real JARVIS formation-energy data, tiny networks and
small search budgets.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bench_settings import DATASET, TINY
from shared_data import needs_data
from sklearn.pipeline import Pipeline

from skmatnet import BRNetRegressor, load_model
from skmatnet.benchmark import (
    TABLE_COLUMNS,
    BenchmarkError,
    FoldEnsembleRegressor,
    load_fitted_model,
    run_benchmark,
)
from skmatnet.benchmark import models as models_module
from skmatnet.benchmark.report import baseline_verdict

pytestmark = needs_data

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
    lines = e2e.to_text().splitlines()
    assert lines[0].startswith("model") and len(lines) == 2 + 4 + 2 and lines[6] == ""
    # the last line says which networks beat the best baseline, with the table's numbers
    best = table[table["model"].isin(["automl", "tradml"])].nsmallest(1, "test_mae").iloc[0]
    assert lines[-1].startswith(f"Best baseline: {best['model']} {best['test_mae']:.4f}.")
    assert lines[-1] in markdown


def test_baseline_verdict_names_networks_on_both_sides():
    table = pd.DataFrame({"model": ["automl", "tradml", "elemnet", "brnet", "brnet"],
                          "test_mae": [0.28, 0.21, 0.25, 0.14, 0.12]})
    assert baseline_verdict(table) == ("Best baseline: tradml 0.2100. Networks below it: "
                                       "brnet 0.1200; not below it: elemnet 0.2500.")
    assert baseline_verdict(table[table["model"] == "brnet"]) == ""  # no baseline ran


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
        fitted = load_fitted_model(e2e.output_dir, model)
        predicted = fitted.predict(frame["formula"].tolist())
        saved = pd.read_csv(e2e.output_dir / "predictions" / f"{model}.csv")
        np.testing.assert_allclose(predicted, saved["y_pred"], rtol=1e-5, atol=1e-5)
        assert np.mean(np.abs(predicted - frame["y_true"])) == pytest.approx(
            table.loc[model, "test_mae"], rel=1e-5)


def test_e2e_networks_are_saved_in_the_safe_format(e2e):
    models = e2e.output_dir / "models"
    assert sorted(p.name for p in models.iterdir()) == [
        "automl.joblib", "brnet.skmatnet", "elemnet.skmatnet", "tradml.joblib"]
    loaded = load_model(models / "brnet.skmatnet")  # runs no code from the file
    assert isinstance(loaded, Pipeline) and type(loaded[-1]) is BRNetRegressor
    with zipfile.ZipFile(models / "brnet.skmatnet") as archive:
        params = json.loads(archive.read("config.json"))["estimator"]["params"]
    assert params["callbacks"] is None  # the benchmark's progress printer is not kept


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
    ensemble = load_fitted_model(tmp_path, "irnet")
    # One safe .skmatnet file per fold network; the baseline's ensemble stays a joblib file.
    assert sorted(p.name for p in (tmp_path / "models" / "irnet").iterdir()) == [
        "ensemble.json", "fold1.skmatnet", "fold2.skmatnet", "fold3.skmatnet"]
    assert (tmp_path / "models" / "tradml.joblib").is_file()
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
