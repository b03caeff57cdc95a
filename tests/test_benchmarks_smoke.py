"""The benchmark scripts still run: each one with ``--smoke`` (tiny sizes, a few seconds).

They run in this process (one import of torch for all of them) and write their
result files to a temporary directory, never over real results.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path

import pytest
from shared_data import needs_data

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = ["training_speed", "prediction_speed", "fit_memory", "training_options",
           "time_to_accuracy", "featurize_once", "recipe_search", "threads",
           "batchnorm_momentum", "ensembles", "default_recipe", "discovery", "adam_kernel"]


@pytest.fixture
def bench(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    common = importlib.import_module("_common")
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    import torch

    threads = torch.get_num_threads()
    yield tmp_path
    torch.set_num_threads(threads)


@needs_data
@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_runs(script, bench, capsys, monkeypatch):
    module = importlib.import_module(script)
    monkeypatch.setattr(sys, "argv", [f"benchmarks/{script}.py", "--smoke"])
    module.main(["--smoke", "--threads", "1", "--device", "cpu"])
    out = capsys.readouterr().out
    assert "|---|" in out  # a Markdown table was printed
    [path] = bench.glob(f"{script}*_smoke.json")  # e.g. fit_memory_small_smoke.json
    saved = json.loads(path.read_text())
    assert saved["rows"] and saved["machine"]["torch_threads"] == 1
    if script == "discovery":  # the classify part saved its predictions for the thresholds
        assert "Calling stable below other thresholds" in out
        assert {row.get("stable if e <=") for row in saved["rows"]} >= {"+0.00", "-0.05"}
        campaign = [row for row in saved["rows"] if row["table"] == "campaign"]
        # every strategy against random on each seed; random against itself is 1
        assert campaign and all(row["per seed"] for row in campaign)
        assert {row["model"]: row["per seed"] for row in campaign}["random"] == "1.00"
    if script == "default_recipe":  # the csv part: five folds of a user's file per model
        folds = {row["model"]: row["folds"] for row in saved["rows"] if row.get("folds")}
        assert folds == {"BRNet, defaults": 5, "BRNet, Glorot inputs": 5,
                         "BRNet, previous defaults": 5, "IRNet, defaults": 5,
                         "ExtraTrees": 5, "HistGradientBoosting": 5}
    assert saved["setup"]["smoke"] is True


def test_threads_speed_up_comes_from_unrounded_times(bench):
    # a smoke-sized epoch rounds to 0.00 s: the speed-up must not divide the rounded times
    threads = importlib.import_module("threads")
    row = threads.thread_row("brnet", "paper", {1: 0.004, 16: 0.003})
    assert row["s/epoch, 1 thread"] == row["s/epoch, 16 threads"] == 0.0
    assert row["speed-up"] == 1.33


def test_threads_speed_up_of_an_epoch_measured_at_zero_seconds_is_nan(bench):
    threads = importlib.import_module("threads")
    assert math.isnan(threads.thread_row("brnet", "paper", {1: 0.01, 16: 0.0})["speed-up"])
    assert math.isnan(threads.thread_row("brnet", "paper", {1: 0.0, 16: 0.0})["speed-up"])
    common = importlib.import_module("_common")
    assert common.ratio(3.0, 2.0) == 1.5 and math.isnan(common.ratio(1.0, 0.0))


@needs_data
def test_fine_tuning_benchmark_runs(bench, capsys, tmp_path):
    module = importlib.import_module("fine_tuning")
    models = ["--model-dir", str(tmp_path / "models"), "--smoke", "--threads", "1"]
    module.main(["--step", "pretrain", *models])
    module.main(["--step", "curves", *models])
    module.main(["--report", "--smoke"])
    out = capsys.readouterr().out
    assert "|---|" in out and "fine-tuned BRNet" in out
    curves = json.loads((bench / "fine_tuning_mp_to_jarvis_curves_smoke.json").read_text())
    assert {r["model"] for r in curves["rows"]} == set(module.MODELS)
    assert all(r["test_mae"] > 0 for r in curves["rows"])
    assert (bench / "fine_tuning_smoke.png").read_bytes().startswith(b"\x89PNG")


@needs_data
def test_screening_speed_benchmark_runs(bench, capsys):
    """One process and a 2-worker LocalCluster find the same best candidate."""
    module = importlib.import_module("screening_speed")
    module.main(["--smoke", "--threads", "1", "--workers", "2"])
    assert "|---|" in capsys.readouterr().out
    saved = json.loads((bench / "screening_speed_smoke.json").read_text())
    rows = {row["mode"]: row for row in saved["rows"]}
    assert set(rows) == {"process", "dask"}
    assert rows["process"]["candidates"] == rows["dask"]["candidates"] > 10_000
    assert rows["process"]["best"] == rows["dask"]["best"]
    assert saved["matmul_bound"]["bound_per_min"] > 0


def test_default_recipe_params_change_every_network_at_its_defaults_only(bench):
    # --params/--label of the curves and csv parts: each network at its defaults takes them
    # (so `--models irnet --params ...` tries IRNet), the comparison rows do not
    module = importlib.import_module("default_recipe")
    args = module.argparse.Namespace(
        part="csv", models=["defaults", "irnet", "previous", "glorot", "extratrees"],
        params={"batch_size": 128}, label="batch 128", smoke=True)
    models = dict(module._models(args, seed=0))
    assert list(models) == ["BRNet, batch 128", "IRNet, batch 128", "BRNet, previous defaults",
                            "BRNet, Glorot inputs", "ExtraTrees"]
    assert models["BRNet, batch 128"].batch_size == models["IRNet, batch 128"].batch_size == 128
    assert models["BRNet, previous defaults"].batch_size == 256
    assert models["BRNet, Glorot inputs"].batch_size == "auto"


def test_default_recipe_members_average_every_network_and_leave_the_trees_single(bench):
    # --members N turns each network row into a deep ensemble of N seeds, named so;
    # ExtraTrees stays one model, and --members 1 leaves every row as it was
    from skmatnet import IRNetRegressor, MatNetEnsembleRegressor

    module = importlib.import_module("default_recipe")
    args = module.argparse.Namespace(
        part="csv", models=["irnet", "glorot", "extratrees"], params={"batch_size": 128},
        label="batch 128", members=3, smoke=True)
    models = dict(module._models(args, seed=4))
    assert list(models) == ["IRNet, batch 128, mean of 3 seeds",
                            "BRNet, Glorot inputs, mean of 3 seeds", "ExtraTrees"]
    ensemble = models["IRNet, batch 128, mean of 3 seeds"]
    assert isinstance(ensemble, MatNetEnsembleRegressor)
    assert ensemble.n_estimators == 3 and ensemble.random_state == 4
    assert isinstance(ensemble.estimator, IRNetRegressor)
    assert ensemble.estimator.batch_size == 128
    assert models["BRNet, Glorot inputs, mean of 3 seeds"].estimator.input_init == "glorot"
    assert not isinstance(models["ExtraTrees"], MatNetEnsembleRegressor)
    single = dict(module._models(module.argparse.Namespace(**{**vars(args), "members": 1}), 4))
    assert list(single) == ["IRNet, batch 128", "BRNet, Glorot inputs", "ExtraTrees"]


@needs_data
def test_default_recipe_csv_part_scores_an_ensemble_row(bench, tmp_path, monkeypatch):
    # an ensemble row trains, predicts and is written like any other row (real fits,
    # smoke-sized, on 150 JARVIS rows as a user's CSV file)
    module = importlib.import_module("default_recipe")
    monkeypatch.setattr(module, "_results_file", lambda smoke: tmp_path / "rows.jsonl")
    module.run(module.argparse.Namespace(
        part="csv", datasets=[module._smoke_csv()], models=["irnet"], params={}, label=None,
        members=2, smoke=True))
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert [r["model"] for r in rows] == ["IRNet, defaults, mean of 2 seeds"] * 5
    assert all(math.isfinite(r["test_mae"]) and r["test_mae"] > 0 for r in rows)
    assert "epochs" not in rows[0]  # an ensemble has no single history
