"""Bundled pretrained models (skmatnet.pretrained): the manifest, the checks of their files,
load_pretrained, init_from by name, and the command line with a name.

The zoo is pointed at a temporary folder (the private hook ``_zoo._models_dir``) holding
tiny models fitted on real JARVIS rows: a BRNet regressor and an ensemble of two.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
from shared_data import needs_data
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from small_estimators import small

from skmatnet import (
    BRNetClassifier,
    BRNetRegressor,
    ElementFractionTransformer,
    ElemNetClassifier,
    ElemNetRegressor,
    MatNetEnsembleRegressor,
    ModelFileError,
    element_fractions,
    load_dataset,
    load_model,
    save_model,
)
from skmatnet._pretrained import layer_groups
from skmatnet.cli import main
from skmatnet.pretrained import (
    _manifest_entry,
    _write_manifest,
    _zoo,
    list_models,
    load_pretrained,
    model_path,
)

pytestmark = needs_data

TINY = "tiny_formation_energy"
ENSEMBLE = "tiny_ensemble"


@pytest.fixture(scope="module")
def rows():
    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    picked = np.random.default_rng(0).choice(len(y), size=300, replace=False)
    formulas = np.asarray(formulas, dtype=object)[picked]
    return formulas, element_fractions(formulas), np.asarray(y, dtype=np.float64)[picked]


@pytest.fixture(scope="module")
def model_files(rows, tmp_path_factory):
    """The two model files, and the fitted models they hold."""
    _, X, y = rows
    folder = tmp_path_factory.mktemp("fitted")
    single = small(BRNetRegressor, max_epochs=2).fit(X, y)
    ensemble = MatNetEnsembleRegressor(small(BRNetRegressor, max_epochs=2), n_estimators=2,
                                       random_state=0).fit(X, y)
    return {TINY: (save_model(single, folder / f"{TINY}.skmatnet"), single),
            ENSEMBLE: (save_model(ensemble, folder / f"{ENSEMBLE}.skmatnet"), ensemble)}


@pytest.fixture
def zoo(model_files, tmp_path, monkeypatch):
    """A models folder with both files and their manifest, as the zoo."""
    folder = tmp_path / "models"
    folder.mkdir()
    entries = []
    for path, _ in model_files.values():
        shutil.copy(path, folder / path.name)
        entries.append(_manifest_entry(
            folder / path.name, target="formation energy per atom (JARVIS)", units="eV/atom",
            dataset="jarvis_formation_energy", split="300 rows", test_metrics={"mae": 0.5},
            description="A tiny test model."))
    _write_manifest(entries, folder)
    monkeypatch.setattr(_zoo, "_models_dir", lambda: folder)
    return folder


# -- the manifest and the files


def test_the_shipped_manifest_is_valid_and_its_files_match():
    # the real models folder: empty today, the bundled models later
    for name in _zoo.model_names():
        assert model_path(name).is_file()
    table = list_models()
    assert list(table.columns[:6]) == ["name", "target", "units", "estimator", "kind", "members"]
    assert len(table) == len(_zoo.model_names())


def test_an_empty_manifest_lists_nothing_and_says_so(tmp_path, monkeypatch):
    (tmp_path / "manifest.json").write_text('{"format": 1, "models": []}\n')
    monkeypatch.setattr(_zoo, "_models_dir", lambda: tmp_path)
    table = list_models()
    assert table.empty and "size_mb" in table.columns
    with pytest.raises(ValueError, match="bundles no pretrained models"):
        load_pretrained("mp_formation_energy")


def test_manifest_entries_and_list_models(zoo, model_files):
    entry = json.loads((zoo / "manifest.json").read_text())["models"][0]
    path = model_files[TINY][0]
    assert entry["name"] == TINY and entry["file"] == path.name
    assert entry["bytes"] == path.stat().st_size and len(entry["sha256"]) == 64
    assert (entry["estimator"], entry["kind"], entry["members"]) == \
        ("BRNetRegressor", "regressor", 1)
    table = list_models()
    assert list(table["name"]) == [TINY, ENSEMBLE]
    assert list(table["members"]) == [1, 2]
    assert list(table.columns) == ["name", "target", "units", "estimator", "kind", "members",
                                   "test_mae", "dataset", "split", "size_mb", "description"]
    assert table["test_mae"].tolist() == [0.5, 0.5]
    assert (table["size_mb"] > 0).all()


def test_load_pretrained_predicts_from_formulas_as_the_file_does(zoo, rows):
    formulas, X, _ = rows
    model = load_pretrained(TINY)
    assert isinstance(model, Pipeline)
    assert isinstance(model[0], ElementFractionTransformer)
    direct = load_model(zoo / f"{TINY}.skmatnet")
    np.testing.assert_array_equal(model.predict(formulas[:30]), direct.predict(X[:30]))
    ensemble = load_pretrained(ENSEMBLE)
    mean, std = ensemble[-1].predict(X[:30], return_std=True)
    np.testing.assert_array_equal(ensemble.predict(formulas[:30]), mean)
    assert (std > 0).all()
    start = time.perf_counter()
    load_pretrained(TINY)  # checked once per process: a second load is quick
    assert time.perf_counter() - start < 1.0


def test_a_pipeline_file_is_returned_as_it_is(zoo, rows, monkeypatch):
    formulas, _, y = rows
    pipe = Pipeline([("ef", ElementFractionTransformer()),
                     ("net", small(BRNetRegressor, max_epochs=1))]).fit(formulas[:100], y[:100])
    path = save_model(pipe, zoo / "pipe.skmatnet")
    _write_manifest([_manifest_entry(path)], zoo)
    loaded = load_pretrained("pipe")
    assert [name for name, _ in loaded.steps] == ["ef", "net"]
    np.testing.assert_array_equal(loaded.predict(formulas[:10]), pipe.predict(formulas[:10]))


def test_a_missing_file_names_it_and_suggests_reinstalling(zoo):
    (zoo / f"{TINY}.skmatnet").unlink()
    with pytest.raises(FileNotFoundError, match=rf"{TINY}\.skmatnet is missing; reinstall"):
        load_pretrained(TINY)


def test_a_truncated_file_is_refused(zoo):
    path = zoo / f"{TINY}.skmatnet"
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match=rf"'{TINY}': the manifest gives {size} bytes, the "
                                             rf"file has {size - 100}"):
        load_pretrained(TINY)


def test_a_tampered_byte_is_refused_even_after_a_good_load(zoo):
    path = zoo / f"{TINY}.skmatnet"
    expected = _zoo.model_entry(TINY)["sha256"]
    model_path(TINY)  # verified and cached
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a new mtime for sure
    with pytest.raises(ModelFileError, match=rf"sha256 mismatch: the manifest gives {expected}, "
                                             r"the file has [0-9a-f]{64}"):
        load_pretrained(TINY)


def test_an_unknown_name_lists_the_names(zoo):
    with pytest.raises(ValueError, match=rf"no pretrained model is named 'tiny_formation'; did "
                                         rf"you mean '{TINY}'\? \(bundled: {TINY}, {ENSEMBLE}"):
        load_pretrained("tiny_formation")


def test_import_skmatnet_reads_no_zoo_file():
    code = (
        "import sys\n"
        "opened = []\n"
        "sys.addaudithook(lambda event, args: opened.append(str(args[0]))"
        " if event == 'open' and args and 'pretrained' in str(args[0]) else None)\n"
        "import skmatnet\n"
        "print(sorted(m for m in sys.modules if m.startswith('skmatnet.pretrained')), opened)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip() == "[] []", result.stdout


# -- init_from by name


def test_init_from_a_name_in_grid_search_takes_the_pretrained_settings(zoo, rows, model_files,
                                                                       tmp_path):
    formulas, _, y = rows
    source = model_files[TINY][1]
    # no module__* and no width here: the pretrained network's are used
    net = BRNetRegressor(max_epochs=2, batch_size=32, random_state=0, device="cpu",
                         init_from=TINY, freeze_layers=1)
    pipe = Pipeline([("ef", ElementFractionTransformer()), ("net", net)])
    search = GridSearchCV(pipe, {"net__lr": [1e-4, 1e-3]}, cv=KFold(2),
                          scoring="neg_mean_absolute_error").fit(formulas[:200], y[:200])
    best = search.best_estimator_.named_steps["net"]
    assert best.init_from == TINY
    assert best.effective_params_["width"] == 1.0
    shapes = {k: v.shape for k, v in best.module_.state_dict().items()}
    assert shapes == {k: v.shape for k, v in source.module_.state_dict().items()}
    first, = [p for layer in layer_groups(best.module_)[0] for p in layer.parameters()][:1]
    assert torch.equal(first, next(layer_groups(source.module_)[0][0].parameters()))
    # the inherited settings are the fitted model's: it saves, loads and fine-tunes further
    assert best.pretrained_module_params_["stage_widths"] == (16, 8, 4)
    path = save_model(search.best_estimator_, tmp_path / "tuned.skmatnet")
    np.testing.assert_allclose(load_model(path).predict(formulas[:20]),
                               search.best_estimator_.predict(formulas[:20]), rtol=1e-6)
    again = BRNetRegressor(max_epochs=1, device="cpu", init_from=str(path), freeze_layers=1)
    again.fit(element_fractions(formulas[:50]), y[:50])
    assert torch.equal(_first_layer(again), _first_layer(best))
    # explicit settings win, and a mismatch names the layer
    with pytest.raises(ValueError, match="another shape"):
        BRNetRegressor(max_epochs=1, device="cpu", init_from=TINY,
                       module__stage_widths=(32, 8, 4)).fit(element_fractions(formulas[:50]),
                                                            y[:50])


def test_another_network_names_the_estimator_to_use(zoo, rows):
    _, X, y = rows
    with pytest.raises(ValueError, match="ElemNetRegressor builds ElemNet: fine-tune with "
                                         "BRNetRegressor"):
        ElemNetRegressor(max_epochs=1, device="cpu", init_from=TINY).fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="fine-tune with BRNetClassifier"):
        ElemNetClassifier(max_epochs=1, device="cpu", init_from=TINY).fit(X[:50], y[:50] < 0)


def test_neither_a_file_nor_a_name(zoo, rows):
    _, X, y = rows
    with pytest.raises(ValueError, match=r"'tiny' is neither a model file nor the name of a "
                                         r"bundled pretrained model; did you mean"):
        BRNetRegressor(max_epochs=1, device="cpu", init_from="tiny").fit(X[:50], y[:50])
    with pytest.raises(FileNotFoundError, match=r"nowhere/tiny\.skmatnet: no such model file"):
        BRNetRegressor(max_epochs=1, device="cpu",
                       init_from="nowhere/tiny.skmatnet").fit(X[:50], y[:50])


def test_another_kind_gets_a_fresh_output_layer(zoo, rows, model_files, tmp_path):
    _, X, y = rows
    source = model_files[TINY][1]
    classifier = BRNetClassifier(max_epochs=1, lr=1e-12, random_state=0, device="cpu",
                                 init_from=TINY).fit(X[:100], y[:100] < 0)
    assert classifier.module_.output.out_features == 2
    trunk = layer_groups(classifier.module_)[0][0].weight
    assert torch.allclose(trunk, layer_groups(source.module_)[0][0].weight, atol=1e-6)
    # a two-target regressor from the two-class classifier: same shape, another kind
    path = save_model(classifier, tmp_path / "classifier.skmatnet")
    # (another seed: a fresh output layer is not the classifier's fresh one of seed 0)
    two = BRNetRegressor(max_epochs=1, lr=1e-12, random_state=1, device="cpu",
                         init_from=str(path)).fit(X[:100], np.column_stack([y[:100], y[:100]]))
    assert not torch.allclose(two.module_.output.weight, classifier.module_.output.weight)


def _first_layer(net):
    return layer_groups(net.module_)[0][0].weight


def test_an_ensemble_fine_tunes_from_the_member_its_seed_picks(zoo, rows, model_files):
    _, X, y = rows
    members = model_files[ENSEMBLE][1].estimators_
    for seed in (0, 1, 2, 3, None):
        net = BRNetRegressor(max_epochs=1, batch_size=64, random_state=seed, device="cpu",
                             init_from=ENSEMBLE, freeze_layers=1).fit(X[:100], y[:100])
        picked = members[(seed or 0) % 2]
        assert torch.equal(_first_layer(net), _first_layer(picked)), seed
    # an ensemble of fine-tuned members: each from the pretrained member of its seed
    template = BRNetRegressor(max_epochs=1, batch_size=64, device="cpu", init_from=ENSEMBLE,
                              freeze_layers=1)
    tuned = MatNetEnsembleRegressor(template, n_estimators=3, random_state=5).fit(X, y)
    for member in tuned.estimators_:
        assert torch.equal(_first_layer(member),
                           _first_layer(members[member.random_state % 2]))
    # a fitted ensemble in memory, as from its file
    net = BRNetRegressor(max_epochs=1, batch_size=64, random_state=1, device="cpu",
                         init_from=model_files[ENSEMBLE][1], freeze_layers=1).fit(X, y)
    assert torch.equal(_first_layer(net), _first_layer(members[1]))


# -- the command line (in this process: the zoo is the test's folder)


def test_models_command_prints_the_table(zoo, capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert TINY in out and ENSEMBLE in out and "test_mae" in out
    assert main(["models", "--csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(table["name"]) == [TINY, ENSEMBLE]


def test_models_command_without_models(tmp_path, monkeypatch, capsys):
    (tmp_path / "manifest.json").write_text('{"format": 1, "models": []}\n')
    monkeypatch.setattr(_zoo, "_models_dir", lambda: tmp_path)
    assert main(["models"]) == 0
    assert "no pretrained models are bundled" in capsys.readouterr().out


def test_predict_and_screen_take_a_name(zoo, tmp_path, capsys):
    given = tmp_path / "formulas.txt"
    given.write_text("Fe2O3\nNaCl\n")
    assert main(["predict", TINY, str(given)]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    np.testing.assert_allclose(table["prediction"], load_pretrained(TINY).predict(
        ["Fe2O3", "NaCl"]), rtol=1e-6)
    assert main(["screen", ENSEMBLE, "--elements", "Li,O", "--max-atoms", "4",
                 "--bottom", "3", "--quiet"]) == 0
    screened = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(screened) == 3 and "std" in screened.columns
    assert main(["predict", "tiny_formaton_energy", str(given)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("skmatnet: error: ") and len(err.splitlines()) == 1
    assert f"did you mean '{TINY}'" in err


def test_train_fine_tunes_from_a_name(zoo, tmp_path, capsys, model_files):
    output = tmp_path / "tuned.skmatnet"
    assert main(["train", "jarvis_formation_energy", "--init-from", TINY, "--max-rows", "200",
                 "--max-epochs", "2", "--threads", "1", "--device", "cpu", "--quiet",
                 "--tiny", "-o", str(output)]) == 0
    assert f"model saved to {output}" in capsys.readouterr().out
    net = load_model(output)[-1]
    assert isinstance(net, BRNetRegressor) and net.init_from == TINY
    # --model is that of --init-from; an unknown name is one line listing the names
    assert main(["train", "jarvis_formation_energy", "--init-from", "nothing", "--quiet"]) == 1
    assert "bundled: " in capsys.readouterr().err


def test_train_reset_output_for_a_target_in_other_units(zoo, tmp_path, capsys, model_files):
    # formation energies in meV/atom from a model that predicts eV/atom: the command says so
    # in one line, and --reset-output trains a fresh output layer in the new units
    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    data = tmp_path / "mev.csv"
    pd.DataFrame({"formula": formulas[:200], "target": np.asarray(y[:200]) * 1000}).to_csv(
        data, index=False)
    common = ["train", str(data), "--init-from", TINY, "--max-epochs", "1", "--threads", "1",
              "--device", "cpu", "--quiet", "--tiny"]
    assert main([*common, "-o", str(tmp_path / "kept.skmatnet")]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warned) == 1 and "--reset-output" in warned[0] and "spread" in warned[0]
    assert main([*common, "--reset-output", "-o", str(tmp_path / "fresh.skmatnet")]) == 0
    assert "warning" not in capsys.readouterr().err
    net = load_model(tmp_path / "fresh.skmatnet")[-1]
    assert net.reset_output is True
    assert net.target_scale_[0] == pytest.approx(np.std(np.asarray(y[:200]) * 1000), rel=1e-3)
    # without a pretrained model the option means nothing: one line saying what is missing
    assert main(["train", str(data), "--reset-output", "--quiet"]) == 1
    assert "give the model with --init-from" in capsys.readouterr().err
