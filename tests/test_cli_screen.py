"""``skmatnet screen`` through subprocess: results equal to screen(), files, Dask, one-line errors.

The model is a small BRNet fitted on real JARVIS rows and saved with save_model.
"""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pandas as pd
import pytest
from shared_data import needs_data
from small_estimators import small
from test_cli import assert_one_line_error, run_cli

from skmatnet import BRNetRegressor, element_fractions, load_dataset, save_model
from skmatnet.screening import CompositionSpace, screen

pytestmark = needs_data


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    rows = np.random.default_rng(1).choice(len(formulas), 500, replace=False)
    model = small(BRNetRegressor, max_epochs=2, random_state=0, device="cpu")
    model.fit(element_fractions(list(np.asarray(formulas)[rows])),
              np.asarray(y, dtype=np.float32)[rows])
    path = tmp_path_factory.mktemp("model") / "brnet.skmatnet"
    save_model(model, path)
    return path, model


def test_bottom_k_on_stdout_equals_screen(model_file):
    path, model = model_file
    result = run_cli("screen", str(path), "--systems", "Li-Mn-O,Na-Mn-O", "--subsystems",
                     "--max-atoms", "8", "--bottom", "12")
    assert result.returncode == 0, result.stderr
    printed = pd.read_csv(io.StringIO(result.stdout))
    space = CompositionSpace(systems=["Li-Mn-O", "Na-Mn-O"], max_atoms=8,
                             include_subsystems=True)
    expected = screen(model, space, bottom=12).frame
    assert printed["formula"].tolist() == expected["formula"].tolist()
    assert np.allclose(printed["prediction"], expected["prediction"], atol=1e-5)
    assert f"{len(space):,} candidates in 7 systems" in result.stderr
    assert "kept 12" in result.stderr


def test_threshold_to_parquet_and_csv_on_dask(model_file, tmp_path):
    path, model = model_file
    common = ["screen", str(path), "--elements", "Li,Fe,Mn,O", "--components", "2-3",
              "--grid", "8", "--below", "-0.3", "--chunk-size", "50", "--quiet"]
    local = run_cli(*common, "-o", str(tmp_path / "local.parquet"))
    assert local.returncode == 0, local.stderr
    assert local.stderr == "" and local.stdout == ""
    on_dask = run_cli(*common, "-o", str(tmp_path / "dask.csv"), "--dask", "local:2",
                      timeout=240)
    assert on_dask.returncode == 0, on_dask.stderr
    a, b = pd.read_parquet(tmp_path / "local.parquet"), pd.read_csv(tmp_path / "dask.csv")
    space = CompositionSpace("Li,Fe,Mn,O", n_components=(2, 3), grid=8)
    expected = screen(model, space, below=-0.3).frame
    assert len(a) == len(b) == len(expected) > 0
    assert a["formula"].tolist() == b["formula"].tolist() == expected["formula"].tolist()
    assert np.allclose(a["prediction"], b["prediction"], atol=1e-5)


@pytest.mark.parametrize("args, status, fragments", [
    (["--elements", "Li,Xx,O", "--max-atoms", "4"], 1, ["'Xx' is not an element symbol"]),
    (["--elements", "Li,He", "--max-atoms", "4"], 1, ["'He' is not one of the 86 elements"]),
    (["--elements", "Li,O", "--max-atoms", "4", "--subsystems"], 1,
     ["--subsystems goes with --systems"]),
    (["--elements", "Li,O", "--max-atoms", "4", "-o", "top.xlsx"], 1,
     ["must end in .parquet, .pq or .csv"]),
    (["--elements", "Li,O", "--max-atoms", "4", "--top", "3", "--bottom", "3"], 2,
     ["not allowed with argument"]),
    (["--elements", "Li,O"], 2, ["one of the arguments --max-atoms --grid is required"]),
    (["--elements", "Li,O", "--grid", "4", "--components", "3-2"], 2,
     ["expected N or MIN-MAX"]),
    (["--elements", "Li,O", "--grid", "4", "--dask", "remote"], 2,
     ["expected local or local:N"]),
])
def test_bad_arguments_are_one_line_errors(model_file, args, status, fragments, capsys):
    # In this process (the subprocess runs above and below cover the console entry point):
    # each would otherwise pay a torch import.
    from skmatnet.cli import main

    path, _ = model_file
    try:
        returned = main(["screen", str(path), *args])
    except SystemExit as exc:  # argparse's usage errors
        returned = exc.code
    assert returned == status
    stderr = capsys.readouterr().err
    assert_one_line_error(subprocess.CompletedProcess([], returned, "", stderr), *fragments)


def test_missing_and_corrupt_model_files(tmp_path):
    result = run_cli("screen", str(tmp_path / "none.skmatnet"), "--elements", "Li,O",
                     "--max-atoms", "4")
    assert_one_line_error(result, "none.skmatnet")
    corrupt = tmp_path / "corrupt.skmatnet"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip file")
    result = run_cli("screen", str(corrupt), "--elements", "Li,O", "--max-atoms", "4")
    assert_one_line_error(result, "corrupt.skmatnet")


# ---------------------------------------------------------------------------
# Energy above the hull and suggest
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ensemble_file(tmp_path_factory):
    from skmatnet import MatNetEnsembleRegressor

    formulas, y = load_dataset("mp_formation_energy", return_X_y=True)
    rows = np.random.default_rng(2).choice(len(formulas), 600, replace=False)
    model = MatNetEnsembleRegressor(small(BRNetRegressor, max_epochs=2, device="cpu"),
                                    n_estimators=2, random_state=0)
    model.fit(element_fractions(list(np.asarray(formulas)[rows])),
              np.asarray(y, dtype=np.float32)[rows])
    path = tmp_path_factory.mktemp("ensemble") / "ensemble.skmatnet"
    save_model(model, path)
    return path, model


def test_the_cli_choices_are_the_library_names():
    from skmatnet.cli import screen as screen_command
    from skmatnet.cli import suggest as suggest_command
    from skmatnet.screening import ACQUISITIONS, RANK_BY

    assert screen_command.RANK_BY == RANK_BY
    assert suggest_command.ACQUISITIONS == tuple(ACQUISITIONS)


def test_hull_reference_ranks_by_energy_above_the_hull(ensemble_file, tmp_path):
    from skmatnet.screening import HullReference

    path, model = ensemble_file
    known = tmp_path / "known.csv"
    load_dataset("mp_formation_energy").rename(columns={"target": "energy"}).to_csv(
        known, index=False)
    result = run_cli("screen", str(path), "--systems", "Li-Mn-O,Ba-Ti-O", "--subsystems",
                     "--max-atoms", "8", "--hull-reference", str(known), "--rank-by",
                     "e_above_hull", "--bottom", "10")
    assert result.returncode == 0, result.stderr
    printed = pd.read_csv(io.StringIO(result.stdout))
    space = CompositionSpace(systems=["Li-Mn-O", "Ba-Ti-O"], max_atoms=8,
                             include_subsystems=True)
    expected = screen(model, space, references=HullReference("mp_formation_energy"),
                      rank_by="e_above_hull", bottom=10).frame
    assert list(printed.columns) == list(expected.columns)
    assert printed["formula"].tolist() == expected["formula"].tolist()
    assert np.allclose(printed["e_above_hull"], expected["e_above_hull"], atol=1e-5)
    assert "keeping the 10 lowest by e_above_hull" in result.stderr
    assert "kept 10" in result.stderr


def test_suggest_writes_a_spread_batch(ensemble_file, tmp_path):
    from skmatnet.screening import suggest

    path, model = ensemble_file
    out = tmp_path / "next.csv"
    result = run_cli("suggest", str(path), "--systems", "Li-Mn-O,Li-Fe-O,Ba-Ti-O",
                     "--subsystems", "--max-atoms", "8", "--hull-reference",
                     "mp_formation_energy", "--n", "6", "-o", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    written = pd.read_csv(out)
    space = CompositionSpace(systems=["Li-Mn-O", "Li-Fe-O", "Ba-Ti-O"], max_atoms=8,
                             include_subsystems=True)
    expected = suggest(model, space, "mp_formation_energy", n=6).frame
    assert written["formula"].tolist() == expected["formula"].tolist()
    assert written["pick"].tolist() == list(range(1, 7))


@pytest.mark.parametrize("args, fragments", [
    (["screen", "--rank-by", "e_above_hull", "--bottom", "3"],
     ["--rank-by e_above_hull needs --hull-reference"]),
    (["screen", "--hull-reference", "nowhere.csv"],
     ["--hull-reference: references 'nowhere.csv': neither a file nor a dataset name"]),
    (["suggest", "--hull-reference", "mp_formation_energy"],
     ["suggest needs an ensemble", "gives no standard deviation"]),
])
def test_hull_errors_are_one_line(model_file, args, fragments, capsys):
    from skmatnet.cli import main

    path, _ = model_file
    command, *rest = args
    returned = main([command, str(path), "--systems", "Li-O", "--max-atoms", "4", *rest])
    assert returned == 1
    stderr = capsys.readouterr().err
    assert_one_line_error(subprocess.CompletedProcess([], returned, "", stderr), *fragments)
