"""The ``skmatnet`` command: one-line errors, an end-to-end run on a CSV file, Ctrl-C and --resume.

Every test runs the real command in a subprocess, on real JARVIS data.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from shared_data import SHARED, needs_data

pytestmark = needs_data

DATASET = "jarvis_formation_energy"
SMALL = ["--max-rows", "300", "--tiny", "--max-epochs", "3", "--threads", "1",
         "--device", "cpu"]


def run_cli(*args: str, env: dict | None = None, timeout: float = 180,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "skmatnet", *args], capture_output=True, text=True,
        timeout=timeout, env={**os.environ, **(env or {})}, cwd=cwd,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("skmatnet: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_console_script_and_help():
    script = Path(sys.executable).with_name("skmatnet")
    assert script.is_file(), "the skmatnet console script is installed with the package"
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True,
                             timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("skmatnet ")
    result = run_cli("benchmark", "--help")
    assert result.returncode == 0
    for option in ("--models", "--protocol", "--quick", "--resume", "--max-time", "--max-rows",
                   "--automl-evals", "--output"):
        assert option in result.stdout


@pytest.mark.parametrize("args, fragments", [
    (["benchmark", "no_such_dataset"], ["unknown dataset 'no_such_dataset'",
                                        "jarvis_formation_energy"]),
    (["benchmark", "missing_file.csv"], ["'missing_file.csv' is neither a dataset name"]),
    (["benchmark", DATASET, "--models", "brnet", "resnet"], ["unknown model 'resnet'"]),
    (["benchmark", DATASET, "--max-time", "-5"], ["--max-time", "positive number"]),
    (["benchmark", DATASET, "--protocol", "kfold"], ["invalid choice: 'kfold'"]),
    (["benchmark"], ["DATA"]),
])
def test_bad_input_is_one_line_on_stderr(args, fragments):
    assert_one_line_error(run_cli(*args), *fragments)


def test_csv_without_the_named_columns(tmp_path):
    path = tmp_path / "compounds.csv"
    pd.DataFrame({"composition": ["Fe2O3", "NaCl"] * 20, "Ef": [0.1] * 40}).to_csv(path)
    result = run_cli("benchmark", str(path), "--models", "tradml", "--output",
                     str(tmp_path / "out"))
    assert_one_line_error(result, "has no column 'formula' or 'target'", "--formula-column")


def test_corrupt_data_file(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SHARED / "jarvis", data / "jarvis")
    target = data / "jarvis" / "formation_energy_test.csv"
    payload = bytearray(target.read_bytes())
    payload[100] = ord("7") if payload[100] != ord("7") else ord("8")
    target.write_bytes(bytes(payload))
    result = run_cli("benchmark", DATASET, "--models", "tradml", "--output",
                     str(tmp_path / "out"),
                     env={"SKMATNET_DATA": str(data), "SKMATNET_CACHE": str(tmp_path / "cache")})
    assert_one_line_error(result, "checksum mismatch", "formation_energy_test.csv")
    assert result.returncode == 1


def test_missing_hpsklearn_is_one_line_with_the_install_command(tmp_path):
    # A sitecustomize-free way to hide a package: a module that fails to import, first on
    # the path.
    fake = tmp_path / "fake"
    (fake / "hpsklearn").mkdir(parents=True)
    (fake / "hpsklearn" / "__init__.py").write_text("raise ImportError('hidden for a test')\n")
    result = run_cli("benchmark", DATASET, "--models", "automl", "--output",
                     str(tmp_path / "out"),
                     env={"PYTHONPATH": os.pathsep.join([str(fake),
                                                         os.environ.get("PYTHONPATH", "")])})
    assert_one_line_error(result, "pip install --no-deps hyperopt-sklearn==1.1.1")


def test_benchmark_on_a_csv_file(tmp_path):
    # Real JARVIS rows, renamed columns, as a user's own file.
    raw = pd.read_csv(SHARED / "jarvis" / "formation_energy_test.csv", keep_default_na=False)
    path = tmp_path / "my_compounds.csv"
    raw.rename(columns={"pretty_comp": "composition", "formation_energy_peratom": "Ef"})[
        ["composition", "Ef"]].to_csv(path, index=False)
    out = tmp_path / "results"
    result = run_cli("benchmark", str(path), "--formula-column", "composition",
                     "--target-column", "Ef", "--models", "tradml,elemnet", "--tradml-grid",
                     "quick", "--output", str(out), *SMALL, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["model", "test", "MAE"]
    assert [line.split()[0] for line in lines[2:4]] == ["tradml", "elemnet"]
    assert "[elemnet] epoch 1/3" in result.stderr  # progress: model, epoch, elapsed time
    assert "[tradml] candidate 1/5" in result.stderr
    table = pd.read_csv(out / "results.csv")
    assert table["model"].tolist() == ["tradml", "elemnet"]
    assert table["paper_mae"].isna().all()  # no published numbers for a user's file
    env = json.loads((out / "environment.json").read_text())
    assert env["command"].startswith("skmatnet benchmark ")
    assert env["data"]["csv"] == str(path.resolve())
    assert env["torch_threads"] == 1
    for name in ("bubble.png", "parity_tradml.png", "parity_elemnet.png"):
        assert (out / name).stat().st_size > 1000


def test_ctrl_c_keeps_finished_models_and_resume_skips_them(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "skmatnet", "benchmark", DATASET, "--models",
               "tradml,bnet", "--tradml-grid", "quick", "--output", str(out), "--no-plots",
               "--max-rows", "300", "--tiny", "--max-epochs", "100000", "--patience", "100000",
               "--threads", "1", "--device", "cpu"]
    # A suite started in the background (`make test &`) runs with Ctrl-C ignored, which a
    # child inherits; the benchmark must see a real Ctrl-C here.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    deadline = time.monotonic() + 120
    try:
        for line in process.stderr:
            seen.append(line)
            if line.startswith("[bnet] epoch"):
                break
            assert time.monotonic() < deadline, "".join(seen)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith(
        "skmatnet: interrupted: 1 of 2 models finished")
    assert pd.read_csv(out / "results.csv")["model"].tolist() == ["tradml"]
    assert (out / "done" / "tradml.json").is_file() and not (out / "done" / "bnet.json").exists()
    assert stdout.splitlines()[2].startswith("tradml")
    # --resume runs only what is missing.
    resumed = run_cli("benchmark", DATASET, "--models", "tradml,bnet", "--tradml-grid", "quick",
                      "--output", str(out), "--no-plots", "--resume", *SMALL)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "[tradml] done in an earlier run" in resumed.stderr
    assert "[tradml] candidate" not in resumed.stderr
    assert "[bnet] epoch 1/3" in resumed.stderr
    assert pd.read_csv(out / "results.csv")["model"].tolist() == ["tradml", "bnet"]


def test_recipe_option_trains_with_the_papers_recipe(tmp_path):
    import torch

    from skmatnet.benchmark import load_fitted_model

    runs = {}
    for recipe in ("paper", "recommended"):
        out = tmp_path / recipe
        result = run_cli("benchmark", DATASET, "--models", "brnet", "--recipe", recipe,
                         "--output", str(out), "--no-plots", "--max-rows", "300",
                         "--max-epochs", "1", "--threads", "1", "--device", "cpu")
        assert result.returncode == 0, result.stderr[-2000:]
        runs[recipe] = load_fitted_model(out, "brnet")[-1]  # the pipeline's network
    paper, recommended = runs["paper"], runs["recommended"]
    assert (paper.lr, paper.batch_size, paper.width, paper.lr_schedule) == (1e-4, 32, 1.0, None)
    assert paper.optimizer is torch.optim.Adam and paper.patience == 100
    assert (recommended.lr, recommended.width, recommended.lr_schedule) == ("auto", "auto",
                                                                            "cosine")
