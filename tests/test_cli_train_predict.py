"""``skmatnet train`` and ``skmatnet predict``: real runs in a subprocess, on real JARVIS data.

Tiny networks for a few epochs; what is checked is the command, not the fit: the model
file predicts in the command exactly as in Python, ensembles add their spread,
classifiers their probabilities, and each bad input is one line naming the problem.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shared_data import SHARED, needs_data
from test_cli import assert_one_line_error

pytestmark = needs_data

DATASET = "jarvis_formation_energy"
TINY = ["--tiny", "--max-epochs", "3", "--threads", "1", "--device", "cpu"]


def run_cli(*args: str, input: str | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """test_cli's runner, with standard input."""
    return subprocess.run([sys.executable, "-m", "skmatnet", *args], capture_output=True,
                          text=True, input=input, timeout=180, cwd=cwd)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A regressor trained by the command on 300 rows of JARVIS formation energy."""
    path = tmp_path_factory.mktemp("models") / "brnet.skmatnet"
    result = run_cli("train", DATASET, "--max-rows", "300", *TINY, "-o", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    return path, result


@pytest.fixture(scope="module")
def compounds(tmp_path_factory):
    """A user's CSV file: real JARVIS formulas under another name, with an ID column."""
    raw = pd.read_csv(SHARED / "jarvis" / "formation_energy_test.csv", keep_default_na=False,
                      nrows=40)
    path = tmp_path_factory.mktemp("input") / "compounds.csv"
    pd.DataFrame({"id": [f"{i:04d}" for i in range(len(raw))],
                  "composition": raw["pretty_comp"]}).to_csv(path, index=False)
    return path


def run_here(*args: str, input: str, capsys, monkeypatch) -> subprocess.CompletedProcess:
    """A command run in this process (no start-up of its own), reading ``input`` as its
    standard input: for the checks of a command's output, once a subprocess has shown the
    command itself works."""
    import io

    from skmatnet.cli import main

    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(input.encode())))
    try:
        status = main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        status = exc.code
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), status, out, err)


def read_output(text: str) -> pd.DataFrame:
    from io import StringIO

    return pd.read_csv(StringIO(text), dtype={"id": str, "formula": str, "composition": str},
                       keep_default_na=False)


def test_train_reports_the_fit_and_saves_a_pipeline(trained):
    from sklearn.pipeline import Pipeline

    from skmatnet import BRNetRegressor, ElementFractionTransformer, load_model

    path, result = trained
    assert "[brnet] epoch 1/3" in result.stderr  # progress on stderr
    out = result.stdout
    assert "trained BRNetRegressor on 300 rows of jarvis_formation_energy" in out
    assert "epochs: 3 (stopped by epoch limit)" in out
    assert "validation MAE: " in out and "eV/atom" in out
    assert f"model saved to {path}" in out
    model = load_model(path)
    assert isinstance(model, Pipeline)
    assert isinstance(model[0], ElementFractionTransformer)
    assert isinstance(model[-1], BRNetRegressor) and model[-1].n_epochs_ == 3


def test_train_writes_the_model_card(trained):
    from skmatnet import describe_dataset, read_model_card

    path, result = trained
    card = read_model_card(path)
    info = describe_dataset(DATASET)
    assert card["target"] == info.target and card["units"] == "eV/atom" == info.units
    assert card["dataset"] == DATASET and card["dataset_version"] == info.source
    assert card["dataset_sha256"] == {f.path: f.sha256 for f in info.files}
    assert card["rows"] == {"train": 270, "val": 30, "test": 0}  # 10% held out
    assert card["recipe"] == "recommended" and card["epochs"] == 3 == card["n_epochs_"]
    printed = float(result.stdout.split("validation MAE: ")[1].split()[0])
    assert card["validation_metrics"]["mae"] == pytest.approx(printed, rel=1e-3)
    assert card["command"] == ("skmatnet train jarvis_formation_energy --max-rows 300 "
                               f"{' '.join(TINY)} -o {path}")
    assert card["estimator"] == "BRNetRegressor" and card["network"] == "brnet"


def test_info_prints_the_card_as_lines_or_json(trained):
    import json

    from skmatnet import read_model_card

    path, _ = trained
    result = run_cli("info", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "units: eV/atom" in lines and "network: brnet" in lines
    assert "steps: ElementFractionTransformer, BRNetRegressor" in lines
    rows = lines.index("rows:")  # a dict: its entries below it, indented
    assert lines[rows + 1: rows + 4] == ["  train: 270", "  val: 30", "  test: 0"]
    assert any(line.startswith("command: skmatnet train jarvis_formation_energy")
               for line in lines)
    as_json = run_cli("info", str(path), "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == read_model_card(path)


def test_info_of_a_bad_model_file_is_one_line(trained, tmp_path):
    truncated = tmp_path / "truncated.skmatnet"
    truncated.write_bytes(trained[0].read_bytes()[:2000])
    result = run_cli("info", str(truncated))
    assert_one_line_error(result, f"cannot load model file {truncated}", "corrupt or truncated")
    assert result.returncode == 1 and result.stdout == ""
    missing = run_cli("info", str(tmp_path / "none.skmatnet"))
    assert_one_line_error(missing, "none.skmatnet: no such model file")
    assert missing.returncode == 1


def test_predict_csv_keeps_the_columns_and_matches_python(trained, compounds, tmp_path):
    from skmatnet import load_model

    model_path, _ = trained
    output = tmp_path / "predictions.csv"
    result = run_cli("predict", str(model_path), str(compounds), "--formula-column",
                     "composition", "-o", str(output))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    table = read_output(output.read_text())
    given = read_output(compounds.read_text())
    # The card's units name the column.
    assert list(table.columns) == ["id", "composition", "prediction (eV/atom)"]
    pd.testing.assert_frame_equal(table[["id", "composition"]], given)  # "0001" stays text
    expected = load_model(model_path).predict(given["composition"].tolist())
    np.testing.assert_allclose(table["prediction (eV/atom)"], expected, rtol=1e-6)


def test_ensemble_predicts_a_spread(tmp_path, capsys, monkeypatch):
    from skmatnet import MatNetEnsembleRegressor, load_model

    path = tmp_path / "ensemble.skmatnet"
    result = run_cli("train", DATASET, "--max-rows", "200", "--ensemble", "2", "--quiet",
                     "--units", "eV per atom", *TINY, "-o", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""  # --quiet
    assert "trained an ensemble of 2 BRNetRegressors" in result.stdout
    model = load_model(path)
    assert isinstance(model, MatNetEnsembleRegressor) and len(model.estimators_) == 2
    predicted = run_cli("predict", str(path), "-", input="formula\nFe2O3\nSrTiO3\n")
    assert predicted.returncode == 0, predicted.stderr
    table = read_output(predicted.stdout)
    # --units replaces the dataset's, in the card and so in the columns' names.
    assert model.model_card_["units"] == "eV per atom"
    assert model.model_card_["validation_metrics"]["mae"] == [
        pytest.approx(float(score), rel=1e-3) for score in
        result.stdout.split("validation MAE: ")[1].split(" eV per atom")[0].split(", ")]
    assert list(table.columns) == ["formula", "prediction (eV per atom)", "std (eV per atom)"]
    mean, std = model.predict(["Fe2O3", "SrTiO3"], return_std=True)
    np.testing.assert_allclose(table["prediction (eV per atom)"], mean, rtol=1e-6)
    np.testing.assert_allclose(table["std (eV per atom)"], std, rtol=1e-5)
    assert (table["std (eV per atom)"] > 0).all()
    # --interval: this ensemble was not calibrated, so Gaussian bounds, with a note saying so
    bounded = run_here("predict", str(path), "-", "--interval", "0.9", input="Fe2O3\nSrTiO3\n",
                       capsys=capsys, monkeypatch=monkeypatch)
    assert bounded.returncode == 0, bounded.stderr
    assert "was not calibrated (calibrate=True)" in bounded.stderr
    table = read_output(bounded.stdout)
    assert list(table.columns)[-2:] == ["lower (eV per atom)", "upper (eV per atom)"]
    np.testing.assert_allclose(table["upper (eV per atom)"], mean + 1.6448536 * std, rtol=1e-5)


def test_predict_interval_of_a_calibrated_ensemble_and_bad_uses(trained, tmp_path, capsys,
                                                                monkeypatch):
    from sklearn.pipeline import Pipeline

    from skmatnet import (
        BRNetRegressor,
        ElementFractionTransformer,
        MatNetEnsembleRegressor,
        load_dataset,
        save_model,
    )

    formulas, y = load_dataset(DATASET, return_X_y=True)
    member = Pipeline([("ef", ElementFractionTransformer()),
                       ("net", BRNetRegressor(width=0.125, max_epochs=3, device="cpu"))])
    model = MatNetEnsembleRegressor(member, n_estimators=2, calibrate=True, random_state=0)
    model.fit(formulas[:200], y[:200], X_val=formulas[200:240], y_val=y[200:240])
    path = save_model(model, tmp_path / "calibrated.skmatnet")
    result = run_cli("predict", str(path), "-", "--interval", "0.9", input="Fe2O3\nNaCl\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    table = read_output(result.stdout)
    np.testing.assert_allclose(table[["lower", "upper"]],
                               model.predict_interval(["Fe2O3", "NaCl"], coverage=0.9), rtol=1e-5)

    def here(*args, input="Fe2O3\n"):
        return run_here(*args, input=input, capsys=capsys, monkeypatch=monkeypatch)

    too_few = here("predict", str(path), "-", "--interval", "0.99")
    assert too_few.returncode == 0 and "40 held-out rows are too few for 99%" in too_few.stderr
    assert read_output(too_few.stdout)["upper"].tolist() == [np.inf]
    single = here("predict", str(trained[0]), "-", "--interval", "0.9")
    assert single.returncode == 1 and "--interval needs an ensemble" in single.stderr
    for bad in ("95", "1", "0", "x", "nan"):
        wrong = here("predict", str(path), "-", "--interval", bad)
        assert wrong.returncode == 2 and "expected a share between 0 and 1" in wrong.stderr


def test_label_target_trains_a_classifier_with_probabilities(tmp_path):
    from skmatnet import BRNetClassifier, load_model

    path = tmp_path / "is_metal.skmatnet"
    result = run_cli("train", "jarvis_optb88vdw_bandgap", "--target", "is_metal",
                     "--max-rows", "300", *TINY, "-o", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "trained BRNetClassifier on 300 rows" in result.stdout
    assert "validation log-loss: " in result.stdout
    model = load_model(path)
    assert isinstance(model[-1], BRNetClassifier)
    assert "units" not in model.model_card_  # labels have none
    assert model.model_card_["classes_"] == [False, True]
    # One formula a line on stdin, CSV on stdout; blank lines skipped, NaN is sodium nitride.
    predicted = run_cli("predict", str(path), "-", input="Fe2O3\n\nCu\nNaN\n")
    assert predicted.returncode == 0, predicted.stderr
    table = read_output(predicted.stdout)
    assert list(table.columns) == ["formula", "prediction", "probability_False",
                                   "probability_True"]
    assert table["formula"].tolist() == ["Fe2O3", "Cu", "NaN"]
    formulas = ["Fe2O3", "Cu", "NaN"]
    assert table["prediction"].tolist() == model.predict(formulas).tolist()
    np.testing.assert_allclose(table[["probability_False", "probability_True"]],
                               model.predict_proba(formulas), rtol=1e-6)


def test_predict_featurizes_for_a_bare_network_with_two_outputs(tmp_path, capsys):
    # A model saved from Python without the featurizer, for two targets; run in-process.
    from skmatnet import BRNetRegressor, element_fractions, load_model, save_model
    from skmatnet.cli import main
    from skmatnet.datasets import load_dataset

    formulas, y = load_dataset(DATASET, return_X_y=True)
    formulas, y = formulas[:200], np.column_stack([y[:200], -y[:200]])
    params = {**BRNetRegressor._get_test_params(), "max_epochs": 1}
    path = save_model(BRNetRegressor(**params).fit(element_fractions(formulas), y),
                      tmp_path / "bare.skmatnet")
    given = tmp_path / "formulas.txt"
    given.write_text("Fe2O3\nNaCl\n")
    assert main(["predict", str(path), str(given)]) == 0
    table = read_output(capsys.readouterr().out)
    assert list(table.columns) == ["formula", "prediction_0", "prediction_1"]
    expected = load_model(path).predict(element_fractions(["Fe2O3", "NaCl"]))
    np.testing.assert_allclose(table[["prediction_0", "prediction_1"]], expected, rtol=1e-6)


def test_ctrl_c_saves_the_best_epoch_so_far(tmp_path):
    from skmatnet import load_model

    path = tmp_path / "interrupted.skmatnet"
    command = [sys.executable, "-m", "skmatnet", "train", DATASET, "--max-rows", "300",
               "--tiny", "--max-epochs", "100000", "--threads", "1", "--device", "cpu",
               "-o", str(path)]
    # A suite run in the background ignores Ctrl-C, which the child would inherit.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for line in process.stderr:
            if line.startswith("[brnet] epoch 1/"):
                break
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().startswith("skmatnet: interrupted after ")
    assert f"was saved to {path}" in stderr
    model = load_model(path)
    assert model[-1].stop_reason_ == "interrupted"
    assert model.model_card_["units"] == "eV/atom" and "--max-epochs 100000" in \
        model.model_card_["command"]


@pytest.mark.parametrize("name, content, fragments", [
    ("named.csv", "composition,x\nFe2O3,1\n",
     ["named.csv has no column 'formula'", "its columns: composition, x", "--formula-column"]),
    ("bad.csv", "formula,id\nFe2O3,a\nFe2Xx3,b\nNaCl,c\nFe((O,d\n",
     ["2 of 4 formulas cannot be read", "row 2: 'Fe2Xx3': unknown element symbol 'Xx'",
      "row 4: 'Fe((O'"]),
    ("bad.txt", "Fe2O3\n\nQq\n", ["line 3: 'Qq': unknown element symbol 'Qq'"]),
    ("empty.txt", "", ["empty.txt is empty"]),
])
def test_bad_formula_file_is_one_line(trained, tmp_path, name, content, fragments):
    path = tmp_path / name
    path.write_text(content)
    result = run_cli("predict", str(trained[0]), str(path))
    assert_one_line_error(result, *fragments)
    assert result.returncode == 1 and result.stdout == ""


def test_bad_model_file_is_one_line(trained, tmp_path):
    truncated = tmp_path / "truncated.skmatnet"
    truncated.write_bytes(trained[0].read_bytes()[:2000])
    result = run_cli("predict", str(truncated), "-", input="Fe2O3\n")
    assert_one_line_error(result, f"cannot load model file {truncated}", "corrupt or truncated")
    assert result.returncode == 1
    missing = run_cli("predict", str(tmp_path / "none.skmatnet"), "-", input="Fe2O3\n")
    assert_one_line_error(missing, "none.skmatnet: no such model file")


@pytest.mark.parametrize("args, status, fragments", [
    (["train", "jarvis_optb88vdw_bandgap", "--target", "is_metal", "--ensemble", "2"], 1,
     ["--ensemble averages regressors", "classification"]),
    (["train", DATASET, "-o", "no_such_dir/model.skmatnet"], 1,
     ["directory no_such_dir does not exist"]),
    (["train", DATASET, "--model", "resnet"], 2, ["invalid choice: 'resnet'"]),
    (["predict", "model.skmatnet"], 2, ["FORMULAS"]),
])
def test_bad_command_line_is_one_line(tmp_path, args, status, fragments):
    result = run_cli(*args, cwd=tmp_path)
    assert_one_line_error(result, *fragments)
    assert result.returncode == status
    assert not list(tmp_path.iterdir())  # nothing written
