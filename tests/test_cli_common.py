"""What every ``skmatnet`` command shares: options declared once, one error format, checks first.

In this process (``main([...])``): a subprocess would pay a torch import per call.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from shared_data import needs_data
from test_cli import assert_one_line_error

from skmatnet.cli import build_parser, main

DATASET = "jarvis_formation_energy"

#: The fewest arguments each command parses with.
MINIMAL = {
    "benchmark": ["benchmark", DATASET],
    "train": ["train", DATASET],
    "predict": ["predict", "model.skmatnet", "formulas.txt"],
    "screen": ["screen", "model.skmatnet", "--elements", "Li,O", "--max-atoms", "4"],
}


def run_main(args, capsys) -> tuple[int, str]:
    """``main(args)``'s exit status (argparse's too) and its stderr, checked to be one line."""
    try:
        status = main([str(arg) for arg in args])
    except SystemExit as exc:  # argparse's usage errors
        status = exc.code
    err = capsys.readouterr().err
    assert_one_line_error(subprocess.CompletedProcess([], status, "", err))
    return status, err


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A tiny BRNet pipeline on 200 real rows, saved as the commands' model file."""
    from sklearn.pipeline import make_pipeline

    from skmatnet import BRNetRegressor, ElementFractionTransformer, load_dataset, save_model

    formulas, y = load_dataset(DATASET, return_X_y=True)
    model = make_pipeline(ElementFractionTransformer(), BRNetRegressor(
        **{**BRNetRegressor._get_test_params(), "max_epochs": 1, "device": "cpu"}))
    model.fit(list(formulas[:200]), np.asarray(y[:200], dtype=np.float32))
    return save_model(model, tmp_path_factory.mktemp("model") / "brnet.skmatnet")


@pytest.mark.parametrize("command", sorted(MINIMAL))
def test_every_command_rejects_abbreviated_options(command, capsys):
    # --formula-colum for the commands that read formulas, --max-atom for screen.
    short = "--max-atom" if command == "screen" else "--formula-colum"
    status, err = run_main([*MINIMAL[command], short, "3"], capsys)
    assert status == 2
    assert f"unrecognized arguments: {short}" in err


def test_shared_options_have_the_same_defaults_everywhere():
    from skmatnet.cli._options import DEFAULT_SEED, DEFAULT_THREADS

    parser = build_parser()
    parsed = {name: parser.parse_args(argv) for name, argv in MINIMAL.items()}
    assert {args.threads for args in parsed.values()} == {DEFAULT_THREADS}
    assert {name: args.quiet for name, args in parsed.items()} == dict.fromkeys(MINIMAL, False)
    assert parsed["benchmark"].seed == parsed["train"].seed == DEFAULT_SEED
    # The commands that train default to auto; those that load a model to its saved device.
    assert parsed["benchmark"].device == parsed["train"].device == "auto"
    assert parsed["predict"].device is parsed["screen"].device is None
    for name, argv in MINIMAL.items():
        args = parser.parse_args([*argv, "--device", "cpu", "--threads", "2", "--quiet"])
        assert (args.device, args.threads, args.quiet) == ("cpu", 2, True), name


def test_train_takes_the_network_options_of_benchmark():
    parser = build_parser()
    options = ["--recipe", "paper", "--lr", "0.001", "--batch-size", "64", "--patience", "5",
               "--max-epochs", "7", "--max-time", "9", "--tiny"]
    train = vars(parser.parse_args([*MINIMAL["train"], *options]))
    bench = vars(parser.parse_args([*MINIMAL["benchmark"], *options]))
    for key in ("recipe", "lr", "batch_size", "patience", "max_epochs", "max_time", "tiny"):
        assert train[key] == bench[key], key
    assert (train["recipe"], train["lr"], train["batch_size"]) == ("paper", 1e-3, 64)


@needs_data
def test_train_options_reach_the_estimator(tmp_path, capsys):
    import torch

    from skmatnet import load_model

    path = tmp_path / "paper.skmatnet"
    status = main(["train", DATASET, "--max-rows", "200", "--tiny", "--max-epochs", "1",
                   "--device", "cpu", "--quiet", "--recipe", "paper", "--lr", "1e-3",
                   "--batch-size", "64", "-o", str(path)])
    assert status == 0, capsys.readouterr().err
    net = load_model(path)[-1]
    assert (net.lr, net.batch_size, net.max_epochs) == (1e-3, 64, 1)
    assert net.optimizer is torch.optim.Adam and net.lr_schedule is None  # the paper recipe


@needs_data
def test_predict_takes_device_and_threads(model_file, tmp_path, capsys):
    from skmatnet import load_model

    formulas = tmp_path / "formulas.txt"
    formulas.write_text("Fe2O3\nNaCl\n")
    output = tmp_path / "out.csv"
    assert main(["predict", str(model_file), str(formulas), "--device", "cpu", "--threads",
                 "1", "-o", str(output)]) == 0
    assert "2 predictions written" in capsys.readouterr().err
    expected = load_model(model_file).predict(["Fe2O3", "NaCl"])
    np.testing.assert_allclose(np.loadtxt(output, delimiter=",", skiprows=1, usecols=1),
                               expected, rtol=1e-6)
    assert main(["predict", str(model_file), str(formulas), "--quiet", "-o", str(output)]) == 0
    assert capsys.readouterr().err == ""


@needs_data
@pytest.mark.parametrize("command", ["predict", "screen"])
def test_output_is_checked_before_the_model_is_loaded(command, model_file, tmp_path, capsys,
                                                      monkeypatch):
    import importlib

    module = importlib.import_module(f"skmatnet.cli.{command}")

    def load_model_file(*args, **kwargs):
        raise AssertionError("the model was loaded before -o was checked")

    monkeypatch.setattr(module, "load_model_file", load_model_file)
    formulas = tmp_path / "formulas.txt"
    formulas.write_text("Fe2O3\n")
    argv = ([command, model_file, formulas] if command == "predict" else
            [command, model_file, "--elements", "Li,O", "--max-atoms", "4"])
    status, err = run_main([*argv, "-o", "/no/such/dir/out.csv"], capsys)
    assert status == 1 and "-o /no/such/dir/out.csv: directory /no/such/dir does not exist" in err
    status, err = run_main([*argv, "-o", tmp_path], capsys)
    assert status == 1 and "is a directory" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["formulas.txt"]  # nothing written


@pytest.mark.parametrize("command", ["predict", "screen", "info"])
def test_model_path_mistakes_are_one_line_with_a_hint(command, tmp_path, capsys):
    formulas = tmp_path / "formulas.txt"
    formulas.write_text("Fe2O3\n")

    def run(model):
        argv = {"predict": [command, model, formulas], "info": [command, model]}.get(
            command, [command, model, "--elements", "Li,O", "--max-atoms", "4"])
        status, err = run_main(argv, capsys)
        assert status == 1
        assert "Errno" not in err and "Error:" not in err
        return err

    assert f"{tmp_path / 'none.skmatnet'}: no such model file" in run(tmp_path / "none.skmatnet")
    # A benchmark's output directory: point at the networks inside it.
    (tmp_path / "run" / "models").mkdir(parents=True)
    (tmp_path / "run" / "models" / "brnet.skmatnet").write_bytes(b"")
    err = run(tmp_path / "run")
    assert "is a directory; give a model file, e.g." in err
    assert str(tmp_path / "run" / "models" / "brnet.skmatnet") in err
    (tmp_path / "empty").mkdir()
    assert ".skmatnet file written by 'skmatnet train'" in run(tmp_path / "empty")
    (tmp_path / "tradml.joblib").write_bytes(b"")
    err = run(tmp_path / "tradml.joblib")
    assert "is not a skmatnet model file" in err and "joblib.load" in err


def test_a_missing_file_error_names_the_file_not_the_errno(tmp_path, capsys):
    from skmatnet.cli._common import guarded

    class Args:
        traceback = False

    def action():
        (tmp_path / "absent.csv").read_text()

    assert guarded(action, Args()) == 1
    err = capsys.readouterr().err
    assert err == f"skmatnet: error: {tmp_path / 'absent.csv'}: No such file or directory\n"
