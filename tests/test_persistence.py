"""save_model / load_model: exact round trips, and files that cannot run code or mislead."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import pickle
import re
import shutil
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import safetensors.torch
import torch
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import EpochScoring, GradientNormClipping, ProgressBar
from small_estimators import ESTIMATORS
from small_estimators import small as small_estimator

import skmatnet
from skmatnet import (
    BRNetClassifier,
    BRNetRegressor,
    ElementFractionTransformer,
    ElemNetRegressor,
    FCUNetRegressor,
    IRNetRegressor,
    MatNetEnsembleRegressor,
    ModelFileError,
    load_dataset,
    load_model,
    save_model,
)
from skmatnet import persistence as persistence_module
from skmatnet.exceptions import (
    CallbacksNotSavedWarning,
    DeviceFallbackWarning,
    VersionMismatchWarning,
)
from skmatnet.nets.elemnet import ELEMNET_DROPOUT

DATA = Path(__file__).resolve().parent / "data"
#: A pipeline saved in format version 1 (weights.pt) by the pre-release development code at
#: commit 46b14d4, whose version string already read 0.1.0 (the 0.1.0 release writes format
#: 2), with its predictions.
FORMAT1_FILE = DATA / "format1_brnet_pipeline.skmatnet"
#: Its config records skmatnet 0.1.0: loading it warns of the version from 0.2.0 on, which the
#: tests of other things about it need not hear.
OLD_VERSION_WARNING = pytest.mark.filterwarnings(
    "ignore::skmatnet.exceptions.VersionMismatchWarning")


def small(cls=BRNetRegressor, **overrides):
    return small_estimator(cls, **{"max_epochs": 2, **overrides})


@pytest.fixture(scope="module")
def jarvis():
    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    rows = np.random.default_rng(1).choice(len(y), size=400, replace=False)
    formulas, y = formulas.to_numpy(dtype=object)[rows], y[rows]
    return formulas, ElementFractionTransformer().fit_transform(formulas), y


@pytest.fixture(scope="module")
def fitted_pipeline(jarvis):
    formulas, _, y = jarvis
    return Pipeline([("ef", ElementFractionTransformer()), ("net", small())]).fit(formulas, y)


@pytest.fixture
def saved(fitted_pipeline, tmp_path):
    return save_model(fitted_pipeline, tmp_path / "model.skmatnet")


@pytest.fixture
def saved_format1(tmp_path):
    """A copy of a file written in format version 1 (weights.pt), to edit."""
    path = tmp_path / "format1.skmatnet"
    shutil.copyfile(FORMAT1_FILE, path)
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(path: Path, **changes) -> None:
    """Replace archive members (bytes, or a function of the old bytes)."""
    contents = members(path)
    for name, change in changes.items():
        if name in ("config_json", "weights_pt", "weights_safetensors"):
            name = name.replace("_", ".", 1)
        contents[name] = change(contents.get(name)) if callable(change) else change
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


def edit_config(path: Path, edit) -> None:
    def change(data):
        config = json.loads(data)
        edit(config)
        return json.dumps(config).encode()
    rewrite(path, config_json=change)


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_estimator_round_trips_exactly(cls, jarvis, tmp_path):
    _, X, y = jarvis
    net = small(cls).fit(X, y)
    path = save_model(net, tmp_path / "net.skmatnet")
    loaded = load_model(path)
    assert type(loaded) is cls
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    assert loaded.get_params(deep=False) == net.get_params(deep=False)
    for name in ("n_features_in_", "n_outputs_", "_y_is_1d_", "n_epochs_", "best_epoch_"):
        assert getattr(loaded, name) == getattr(net, name), name
    assert loaded.history_[:, "valid_loss"] == net.history_[:, "valid_loss"]
    assert not loaded.module_.training

    contents = members(path)
    assert set(contents) == {"config.json", "weights.safetensors"}
    config = json.loads(contents["config.json"])
    assert config["format_version"] == persistence_module.FORMAT_VERSION
    assert config["estimator"]["class"] == f"skmatnet.{cls.__name__}"
    assert config["weights_sha256"] == hashlib.sha256(contents["weights.safetensors"]).hexdigest()
    assert set(config["versions"]) >= {"skmatnet", "torch", "numpy", "python"}
    state = safetensors.torch.load(contents["weights.safetensors"])  # no pickle involved
    assert all(t.device.type == "cpu" for t in state.values())
    assert state.keys() == net.module_.state_dict().keys()


def test_files_of_the_previous_format_still_load():
    expected = json.loads(FORMAT1_FILE.with_suffix(".json").read_text())
    assert set(members(FORMAT1_FILE)) == {"config.json", "weights.pt"}
    with pytest.warns(VersionMismatchWarning, match=r"saved with skmatnet 0\.1\.0 "):
        loaded = load_model(FORMAT1_FILE)
    assert isinstance(loaded, Pipeline) and type(loaded[-1]) is BRNetRegressor
    # Recorded on the machine that wrote the file: another CPU's float32 kernels may differ
    # in the last bits, nothing more.
    np.testing.assert_allclose(loaded.predict(expected["formulas"]), expected["predictions"],
                               rtol=1e-5, atol=1e-6)


@OLD_VERSION_WARNING
def test_resaving_an_old_file_writes_the_current_format(tmp_path):
    loaded = load_model(FORMAT1_FILE)
    path = save_model(loaded, tmp_path / "again.skmatnet")
    assert set(members(path)) == {"config.json", "weights.safetensors"}
    formulas = json.loads(FORMAT1_FILE.with_suffix(".json").read_text())["formulas"]
    np.testing.assert_array_equal(load_model(path).predict(formulas), loaded.predict(formulas))


def test_pipeline_round_trip_with_dataframes(jarvis, tmp_path):
    formulas, _, y = jarvis
    frame = pd.DataFrame({"jid": np.arange(len(y)), "formula": formulas})
    ef = ElementFractionTransformer(formula_column="formula").set_output(transform="pandas")
    model = Pipeline([("ef", ef), ("net", small(IRNetRegressor, lr_schedule="plateau"))])
    model.fit(frame, np.column_stack([y, -y]))
    loaded = load_model(save_model(model, tmp_path / "pipe.skmatnet"))
    assert [name for name, _ in loaded.steps] == ["ef", "net"]
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    assert list(loaded["ef"].feature_names_in_) == ["jid", "formula"]
    assert list(loaded["net"].feature_names_in_) == list(skmatnet.ELEMENTS)
    assert loaded["net"].n_outputs_ == 2 and loaded["net"].lr_schedule == "plateau"
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(frame.rename(columns={"formula": "comp"}))


def test_unusual_parameter_values_round_trip(jarvis, tmp_path):
    """inf (no JSON literal), paths (written as text), dicts and nested tuples."""
    _, X, y = jarvis
    net = small(FCUNetRegressor).fit(X, y)
    net.set_params(max_time=float("inf"), checkpoint_dir=tmp_path / "ck",
                   lr_schedule={"patience": 3, "factor": 0.5})
    loaded = load_model(save_model(net, tmp_path / "net.skmatnet"))
    assert loaded.max_time == float("inf")
    assert loaded.checkpoint_dir == str(tmp_path / "ck")
    assert loaded.lr_schedule == {"patience": 3, "factor": 0.5}
    assert loaded.module__encoder_widths == ((16, 16), (8,), (4,))
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


def test_loaded_model_is_an_ordinary_estimator(saved, jarvis):
    formulas, X, y = jarvis
    loaded = load_model(saved)
    assert loaded["net"].set_params(max_epochs=1).fit(X, y).n_epochs_ == 1
    assert loaded.predict(formulas).shape == (len(y),)


def test_load_leaves_the_global_rng_alone(saved):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    load_model(saved)
    assert torch.equal(torch.rand(3), expected)


def test_cuda_saved_model_loads_on_cpu(jarvis, tmp_path, monkeypatch):
    """A model saved with device='cuda' on a GPU machine loads on one without."""
    _, X, y = jarvis
    net = small().fit(X, y)
    expected = net.predict(X)
    for requested in ("cuda", "auto"):
        net.__dict__["device"] = requested  # as trained on a GPU
        path = save_model(net, tmp_path / f"{requested}.skmatnet")
        with monkeypatch.context() as patch:
            patch.setattr(torch.cuda, "is_available", lambda: False)
            if requested == "cuda":
                with pytest.warns(DeviceFallbackWarning,
                                  match="CUDA is not available: loading on the CPU"):
                    loaded = load_model(path)
                assert loaded.get_params()["device"] == "cpu"
            else:
                loaded = load_model(path)
                assert loaded.get_params()["device"] == "auto"
            np.testing.assert_array_equal(loaded.predict(X), expected)
            assert next(loaded.module_.parameters()).device.type == "cpu"
    assert load_model(path, device="cpu").get_params()["device"] == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_model_trained_on_gpu_loads_on_cpu(jarvis, tmp_path, monkeypatch):
    _, X, y = jarvis
    net = small(device="cuda").fit(X, y)
    assert next(net.module_.parameters()).device.type == "cuda"
    on_gpu = net.predict(X)
    path = save_model(net, tmp_path / "gpu.skmatnet")
    np.testing.assert_array_equal(load_model(path).predict(X), on_gpu)
    with monkeypatch.context() as patch:
        patch.setattr(torch.cuda, "is_available", lambda: False)
        with pytest.warns(DeviceFallbackWarning, match="CUDA is not available"):
            on_cpu = load_model(path)
    assert next(on_cpu.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(on_cpu.predict(X), on_gpu, rtol=1e-4, atol=1e-5)


def test_joblib_round_trip_still_supported(fitted_pipeline, jarvis, tmp_path):
    formulas = jarvis[0]
    joblib.dump(fitted_pipeline, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict(formulas), fitted_pipeline.predict(formulas))


def test_save_is_atomic_and_overwrites(fitted_pipeline, tmp_path):
    path = tmp_path / "model.skmatnet"
    path.write_bytes(b"old")
    save_model(fitted_pipeline, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.skmatnet"]
    assert zipfile.is_zipfile(path)


# ---------------------------------------------------------------------------
# What cannot be saved safely is refused when saving
# ---------------------------------------------------------------------------


def test_save_refuses_what_json_cannot_hold(jarvis, tmp_path):
    _, X, y = jarvis
    path = tmp_path / "x.skmatnet"
    with pytest.raises(ValueError, match="unfitted BRNetRegressor"):
        save_model(small(), path)
    module = small(max_epochs=1).fit(X, y).module_
    with pytest.raises(ValueError, match="parameter module="):
        save_model(BRNetRegressor(module=module, max_epochs=1, device="cpu").fit(X, y), path)
    cached = Pipeline([("ef", ElementFractionTransformer()), ("net", small(max_epochs=1))],
                      memory=str(tmp_path / "cache"))
    cached.fit(jarvis[0], y)
    with pytest.raises(ValueError, match="memory=None"):
        save_model(cached, path)
    shutil.rmtree(tmp_path / "cache")
    scaled = Pipeline([("scale", StandardScaler()), ("net", small(max_epochs=1))]).fit(X, y)
    with pytest.raises(ValueError, match="step 'scale' \\(StandardScaler\\)"):
        save_model(scaled, path)

    class MyNet(BRNetRegressor):
        pass

    with pytest.raises(ValueError, match="cannot save a MyNet"):
        save_model(MyNet(**BRNetRegressor._get_test_params()).set_params(max_epochs=1)
                   .fit(X, y), path)
    assert not path.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("cls", [BRNetRegressor, BRNetClassifier], ids=lambda c: c.__name__)
def test_callbacks_are_left_out_with_a_note_and_a_warning(cls, jarvis, tmp_path):
    formulas, X, y = jarvis
    classifier = cls is BRNetClassifier
    y = np.where(y < -1.0, "stable", "less stable") if classifier else y
    scorer = EpochScoring("accuracy" if classifier else "r2", lower_is_better=False)
    net = small(cls, callbacks=[("clip", GradientNormClipping(1.0)), scorer, ProgressBar],
                callbacks__print_log__keys_ignored=["dur"]).fit(X, y)
    path = tmp_path / "model.skmatnet"
    with pytest.warns(CallbacksNotSavedWarning, match=(
            f"{cls.__name__}: callbacks are not saved in a model file \\(clip: "
            r"skorch\.callbacks\.regularization\.GradientNormClipping, skorch\..*"
            r"the loaded model has the default callbacks \(callbacks=None\)")):
        save_model(net, path)
    spec = json.loads(members(path)["config.json"])["estimator"]
    assert not {"callbacks", "callbacks__print_log__keys_ignored"} & set(spec["params"])
    note = spec["callbacks_not_saved"]
    assert note["parameters"] == ["callbacks", "callbacks__print_log__keys_ignored"]
    assert note["callbacks"] == [
        "clip: skorch.callbacks.regularization.GradientNormClipping",
        "skorch.callbacks.scoring.EpochScoring",
        "skorch.callbacks.logging.ProgressBar",
        "callbacks__print_log__keys_ignored: ['dur']",
    ]
    assert "not part of the fitted model" in note["note"]

    loaded = load_model(path)
    assert loaded.callbacks is None
    def params(model):
        return {k: repr(v) for k, v in model.get_params(deep=False).items()}

    assert params(loaded) == {k: v for k, v in params(net).items()
                              if not k.startswith("callbacks")} | {"callbacks": "None"}
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    if classifier:
        np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    # A pipeline and an ensemble of such estimators: the same.
    pipeline = Pipeline([("ef", ElementFractionTransformer()), ("net", net)])
    with pytest.warns(CallbacksNotSavedWarning):
        save_model(pipeline, path)
    np.testing.assert_array_equal(load_model(path).predict(formulas), net.predict(X))
    if not classifier:
        ensemble = MatNetEnsembleRegressor(net, n_estimators=2).fit(X, y)
        with pytest.warns(CallbacksNotSavedWarning):
            save_model(ensemble, path)
        template = json.loads(members(path)["ensemble.json"])["estimator"]
        assert template["callbacks_not_saved"]["parameters"] == note["parameters"]
        again = load_model(path)
        assert again.estimator.callbacks is None
        assert all(member.callbacks is None for member in again.estimators_)
        np.testing.assert_array_equal(again.predict(X), ensemble.predict(X))


# ---------------------------------------------------------------------------
# Damaged and tampered files give ModelFileError naming the file
# ---------------------------------------------------------------------------


def load_error(path: Path, match: str) -> ModelFileError:
    with pytest.raises(ModelFileError, match=match) as info:
        load_model(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError) and info.value.path == str(path)
    return info.value


def _flip(data):
    data = bytearray(data)
    data[len(data) // 2] ^= 0xFF
    return bytes(data)


def test_corrupted_weights_fail_the_checksum(saved):
    rewrite(saved, weights_safetensors=_flip)
    load_error(saved, "sha256 mismatch for weights.safetensors")


@OLD_VERSION_WARNING
def test_corrupted_weights_of_the_previous_format_fail_the_checksum(saved_format1):
    rewrite(saved_format1, weights_pt=_flip)
    load_error(saved_format1, "sha256 mismatch for weights.pt")


def test_corrupted_archive_bytes(saved):
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside weights.pt: the zip CRC or the sha256 catches it
    saved.write_bytes(bytes(data))
    load_error(saved, "corrupt|sha256 mismatch|CRC")


@pytest.mark.parametrize("keep", [0, 10, 0.5, 0.99])
def test_truncated_file(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])
    load_error(saved, "not a readable skmatnet model archive")


def test_not_a_model_file(tmp_path, fitted_pipeline):
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    load_error(other, "the archive has no config.json or weights.pt")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.skmatnet")


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda c: c.pop("weights_sha256"), "has no 'weights_sha256'"),
        (lambda c: c["estimator"]["fitted"].pop("n_outputs_"),
         "has no fitted attribute 'n_outputs_'"),
        (lambda c: c.pop("estimator"), "has no 'estimator'"),
        (lambda c: c.update(format_version=99), "format version 99, newer"),
        (lambda c: c.update(format="something-else"), "not an skmatnet model configuration"),
        (lambda c: c.update(kind="notebook"), "unknown kind 'notebook'"),
        (lambda c: c["estimator"].update({"class": "os.system"}),
         "estimator class 'os.system', which is not one of"),
        (lambda c: c["estimator"]["params"].update(criterion={"__class__": "subprocess.Popen"}),
         "class 'subprocess.Popen', which is not one of"),
        (lambda c: c["pipeline"]["steps"][0].update({"class": "sklearn.compose.ColumnTransformer"}),
         "step class 'sklearn.compose.ColumnTransformer'"),
        (lambda c: c["estimator"]["params"].update(
            module__stage_widths={"__tuple__": [32, 8, 4]}), "does not fit the network"),
        (lambda c: c["estimator"]["params"].update(module__no_such_option=3),
         "cannot be built|invalid parameters"),
        (lambda c: c["estimator"]["params"].update(not_a_parameter=1),
         "cannot be built|invalid parameters"),
        (lambda c: c["estimator"]["fitted"].update(n_features_in_=85), "does not fit the network"),
        (lambda c: c["estimator"]["fitted"].update(__class__="x"), "unknown fitted attribute"),
        (lambda c: c["pipeline"]["params"].update(memory="/tmp/evil-cache"),
         "memory must be null"),
    ],
    ids=["no-sha256", "no-fitted-attribute", "no-estimator", "future-format", "wrong-format",
         "bad-kind", "estimator-class-os.system", "param-class-Popen", "step-class",
         "widths-changed", "unknown-module-option", "unknown-parameter", "n-features-changed",
         "unknown-fitted", "pipeline-memory"],
)
def test_tampered_config(saved, edit, match):
    edit_config(saved, edit)
    load_error(saved, match)


def test_config_not_json(saved):
    rewrite(saved, config_json=b'{"format": "skmatnet-model", ')
    load_error(saved, "config.json is not valid JSON")
    rewrite(saved, config_json=b"[1, 2]")
    load_error(saved, "does not hold a JSON object")


# ---------------------------------------------------------------------------
# Pickles are never executed
# ---------------------------------------------------------------------------


class _Payload:
    """Creates a marker file when unpickled: stands in for arbitrary code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _malicious(packaging: str, marker: Path) -> bytes:
    if packaging == "plain-pickle":
        return pickle.dumps(_Payload(marker))
    buffer = io.BytesIO()
    obj = _Payload(marker) if packaging == "torch-save" else {"weight": _Payload(marker)}
    torch.save(obj, buffer)
    return buffer.getvalue()


PACKAGINGS = ["plain-pickle", "torch-save", "state-dict-value"]


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # torch, on the plain pickle
@OLD_VERSION_WARNING
@pytest.mark.parametrize("packaging", PACKAGINGS)
def test_malicious_weights_are_not_executed(saved_format1, tmp_path, packaging):
    # Format 1's weights.pt goes through torch's restricted unpickler.
    saved = saved_format1
    marker = tmp_path / "pwned"
    payload = _malicious(packaging, marker)
    # A careful attacker also updates the checksum.
    rewrite(saved, weights_pt=payload)
    edit_config(saved, lambda c: c.update(weights_sha256=hashlib.sha256(payload).hexdigest()))
    error = load_error(saved, "weights.pt is not a safe tensor file")
    assert "UnpicklingError" in str(error) and "weights_only=False" not in str(error)
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("packaging", PACKAGINGS)
def test_pickles_in_place_of_safetensors_are_never_unpickled(saved, tmp_path, packaging):
    marker = tmp_path / "pwned"
    payload = _malicious(packaging, marker)
    rewrite(saved, weights_safetensors=payload)
    edit_config(saved, lambda c: c.update(weights_sha256=hashlib.sha256(payload).hexdigest()))
    load_error(saved, "weights.safetensors is not a safe tensor file")
    # Nor may a current-format file fall back to a weights.pt beside or instead of it.
    with zipfile.ZipFile(saved, "w") as archive:
        config = json.loads(members(FORMAT1_FILE)["config.json"])
        config.update(format_version=persistence_module.FORMAT_VERSION,
                      weights_sha256=hashlib.sha256(payload).hexdigest())
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("weights.pt", payload)
    load_error(saved, "holds weights.safetensors, this one weights.pt")
    assert not marker.exists()


def test_joblib_file_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.joblib"
    joblib.dump(_Payload(marker), path)
    load_error(path, "not a readable skmatnet model archive")
    assert not marker.exists()


# ---------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------


def test_version_mismatch_warns_with_both_versions(saved, monkeypatch, fitted_pipeline, jarvis):
    written_by = skmatnet.__version__  # the version that wrote `saved`
    monkeypatch.setattr(skmatnet, "__version__", "9.3.0")
    with pytest.warns(VersionMismatchWarning,
                      match=rf"saved with skmatnet {re.escape(written_by)} .* loaded with "
                            r"skmatnet 9\.3\.0"):
        loaded = load_model(saved)
    np.testing.assert_array_equal(loaded.predict(jarvis[0]), fitted_pipeline.predict(jarvis[0]))

    major, minor = written_by.split(".")[:2]
    monkeypatch.setattr(skmatnet, "__version__", f"{major}.{minor}.7")  # same major.minor: silent
    edit_config(saved, lambda c: c["versions"].update(torch="1.13.1"))
    current = re.escape(torch.__version__)
    with pytest.warns(VersionMismatchWarning, match=rf"torch 1\.13\.1 .* torch {current}"):
        load_model(saved)


def test_same_versions_load_silently(saved, recwarn):
    load_model(saved)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


# ---------------------------------------------------------------------------
# Model cards
# ---------------------------------------------------------------------------


METADATA = {
    "target": "formation_energy_peratom", "units": "eV/atom",
    "dataset": "jarvis_formation_energy", "rows": {"train": 360, "val": 40, "test": 0},
    "test_metrics": {"mae": 0.25, "r2": 0.5}, "tags": ["jarvis", None, True, 3],
    "description": "a test model",
}


@pytest.fixture(scope="module")
def fitted_ensemble(jarvis):
    formulas, _, y = jarvis
    member = Pipeline([("ef", ElementFractionTransformer()), ("net", small())])
    return MatNetEnsembleRegressor(member, n_estimators=2).fit(formulas, y)


@pytest.mark.parametrize("kind", ["estimator", "pipeline", "ensemble"])
def test_metadata_round_trips_as_the_model_card(kind, jarvis, fitted_pipeline, fitted_ensemble,
                                                 tmp_path):
    _, X, y = jarvis
    model = {"estimator": lambda: small(BRNetClassifier).fit(X, y > -1.0),
             "pipeline": lambda: fitted_pipeline, "ensemble": lambda: fitted_ensemble}[kind]()
    path = save_model(model, tmp_path / "model.skmatnet", metadata=METADATA)
    card = skmatnet.read_model_card(path)
    assert {key: card[key] for key in METADATA} == METADATA
    assert load_model(path).model_card_ == card
    # skmatnet's keys, from the model and the versions the config records
    config = json.loads(members(path)["ensemble.json" if kind == "ensemble" else "config.json"])
    assert card["skmatnet_version"] == config["versions"]["skmatnet"] == skmatnet.__version__
    assert card["torch_version"] == config["versions"]["torch"]
    assert card["saved_at"] == config["saved_at"] and card["saved_at"].endswith("+00:00")
    assert card["kind"] == kind and card["network"] == "brnet" and not card["half_precision"]
    if kind == "ensemble":
        assert card["estimator"] == "MatNetEnsembleRegressor" and card["n_estimators"] == 2
        assert card["member_estimator"] == "BRNetRegressor"
        assert card["steps"] == ["ElementFractionTransformer", "BRNetRegressor"]
        nets = [member[-1] for member in model.estimators_]
        assert card["n_epochs_"] == [net.n_epochs_ for net in nets]
        assert card["best_epoch_"] == [net.best_epoch_ for net in nets]
        return
    net = model[-1] if kind == "pipeline" else model
    assert card["estimator"] == type(net).__name__ and card["n_features_in_"] == 86
    assert card["effective_params_"] == net.effective_params_
    assert (card["n_epochs_"], card["best_epoch_"]) == (net.n_epochs_, net.best_epoch_)
    if kind == "pipeline":
        assert card["steps"] == ["ElementFractionTransformer", "BRNetRegressor"]
    else:
        assert card["classes_"] == [False, True]


def test_a_model_saved_without_metadata_has_the_automatic_card(saved, fitted_pipeline):
    card = skmatnet.read_model_card(saved)
    assert set(card) == {"saved_at", "format_version", "skmatnet_version", "torch_version",
                         "kind", "half_precision", "estimator", "steps", "network",
                         "n_features_in_", "n_outputs_", "effective_params_", "n_epochs_",
                         "best_epoch_"}
    assert card["n_epochs_"] == fitted_pipeline[-1].n_epochs_
    assert load_model(saved).model_card_ == card


@OLD_VERSION_WARNING
def test_files_written_before_cards_have_a_card_without_a_date():
    card = skmatnet.read_model_card(FORMAT1_FILE)
    assert card["format_version"] == 1 and card["skmatnet_version"] == "0.1.0"
    assert card["estimator"] == "BRNetRegressor" and card["network"] == "brnet"
    assert "saved_at" not in card and card["half_precision"] is False
    assert load_model(FORMAT1_FILE).model_card_ == card


def test_an_elemnet_saved_before_it_dropped_dropout_loads_with_the_published_rates(
        jarvis, tmp_path):
    # ElemNet's defaults lost their dropout later: a file without module__dropout was
    # trained with the published rates, and keeps them (predictions and further training)
    _, X, y = jarvis
    net = ElemNetRegressor(max_epochs=1, batch_size=64, module__widths=(16, 8, 8),
                           random_state=0).fit(X[:200], y[:200])
    path = save_model(net, tmp_path / "elemnet.skmatnet")
    assert load_model(path).get_params()["module__dropout"] == 0.0
    edit_config(path, lambda config: config["estimator"]["params"].pop("module__dropout"))
    loaded = load_model(path)
    assert loaded.get_params()["module__dropout"] == ELEMNET_DROPOUT
    assert [m.p for m in loaded.module_.modules() if isinstance(m, torch.nn.Dropout)] == [
        0.2, 0.1]
    np.testing.assert_array_equal(loaded.predict(X[:50]), net.predict(X[:50]))


def test_an_ensemble_template_saved_before_parameters_existed_gets_the_values_it_trained_with(
        jarvis, tmp_path):
    # The template refits and fine-tunes the ensemble: like its members, it gets the values
    # the file was trained with for parameters added after it was saved, not today's defaults.
    formulas, _, y = jarvis
    member = Pipeline([("ef", ElementFractionTransformer()),
                       ("net", ElemNetRegressor(max_epochs=1, batch_size=64,
                                                module__widths=(16, 8, 8), random_state=0))])
    ensemble = MatNetEnsembleRegressor(member, n_estimators=2).fit(formulas[:200], y[:200])
    path = save_model(ensemble, tmp_path / "ensemble.skmatnet")
    later = ("module__dropout", "average_weights", "standardize_target", "input_init")

    def forget(data):
        config = json.loads(data)
        net = config["estimator"]["steps"][-1]
        assert net["class"] == "skmatnet.ElemNetRegressor"
        for name in later:
            net["params"].pop(name)
        return json.dumps(config).encode()

    rewrite(path, **{"ensemble.json": forget})
    template = load_model(path).estimator.named_steps["net"].get_params()
    assert template["module__dropout"] == ELEMNET_DROPOUT
    assert template["average_weights"] is None
    assert template["standardize_target"] is False
    assert template["input_init"] == "glorot"
    untouched = load_model(save_model(ensemble, tmp_path / "today.skmatnet"))
    assert untouched.estimator.named_steps["net"].get_params()["module__dropout"] == 0.0


@pytest.mark.parametrize("metadata, error, match", [
    ({"rows": (1, 2)}, TypeError, r"metadata\['rows'\]=\(1, 2\).* not tuple; use a list"),
    ({"test_metrics": {"mae": np.float32(0.1)}}, TypeError,
     r"metadata\['test_metrics'\]\['mae'\]=.* not float32; convert it with \.item\(\)"),
    ({"test_metrics": {"mae": np.array([0.1])}}, TypeError, r"\['mae'\].* not ndarray"),
    ({"trained": datetime.date(2026, 1, 2)}, TypeError, r"metadata\['trained'\]=.* not date"),
    ({"data": [1, {"path": Path("x.csv")}]}, TypeError, r"metadata\['data'\]\[1\]\['path'\]"),
    ({"rows": {1: 2}}, TypeError, r"metadata\['rows'\]: its key 1 is of type int"),
    ({"test_metrics": {"mae": float("nan")}}, ValueError, r"\['mae'\]=nan: JSON has no NaN"),
    ({"n_epochs_": 3}, ValueError, "metadata key 'n_epochs_' is set by skmatnet"),
    ({"network": "mine"}, ValueError, "metadata key 'network' is set by skmatnet"),
    ([("units", "eV")], TypeError, "metadata must be a dict, got list"),
])
def test_metadata_that_is_not_plain_json_is_refused_naming_the_key(
        metadata, error, match, fitted_pipeline, fitted_ensemble, tmp_path):
    for model in (fitted_pipeline, fitted_ensemble):
        with pytest.raises(error, match=match):
            save_model(model, tmp_path / "model.skmatnet", metadata=metadata)
    assert list(tmp_path.iterdir()) == []


def test_an_edited_card_keeps_the_facts_and_a_bad_one_is_refused(saved):
    edit_config(saved, lambda c: c.update(card={"units": "eV", "network": "resnet"}))
    card = skmatnet.read_model_card(saved)
    assert card["units"] == "eV" and card["network"] == "brnet"  # what the file builds
    edit_config(saved, lambda c: c.update(card=["units"]))
    with pytest.raises(ModelFileError, match=r"the model card .* is not an object"):
        skmatnet.read_model_card(saved)
    load_error(saved, r"the model card .* is not an object")


@pytest.mark.parametrize("damage, match", [
    (lambda data: data[:10], "not a readable skmatnet model archive"),
    (lambda data: data[: len(data) // 2], "not a readable skmatnet model archive"),
    (lambda data: b"not a zip file at all", "not a readable skmatnet model archive"),
])
def test_read_model_card_of_a_damaged_file(saved, damage, match):
    saved.write_bytes(damage(saved.read_bytes()))
    with pytest.raises(ModelFileError, match=match) as info:
        skmatnet.read_model_card(saved)
    assert info.value.path == str(saved) and "corrupt or truncated" in str(info.value)


def test_read_model_card_checks_the_config(saved, tmp_path):
    original = saved.read_bytes()
    rewrite(saved, config_json=b'{"format": "skmatnet-model", ')
    with pytest.raises(ModelFileError, match=r"config\.json is not valid JSON"):
        skmatnet.read_model_card(saved)
    saved.write_bytes(original)
    edit_config(saved, lambda c: c.update(format="something-else"))
    with pytest.raises(ModelFileError, match="not an skmatnet model configuration"):
        skmatnet.read_model_card(saved)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match=r"the archive has no config\.json"):
        skmatnet.read_model_card(other)
    with pytest.raises(FileNotFoundError):
        skmatnet.read_model_card(tmp_path / "missing.skmatnet")


def test_read_model_card_reads_the_config_alone_without_torch(fitted_ensemble, tmp_path):
    import subprocess
    import sys

    path = save_model(fitted_ensemble, tmp_path / "ensemble.skmatnet", metadata={"units": "eV"})
    # Weights that would not load: the card does not read them.
    code = ("import sys, json; from skmatnet._persistence.card import read_model_card; "
            f"card = read_model_card({str(path)!r}); "
            "assert 'torch' not in sys.modules, 'torch was imported'; "
            "print(json.dumps(card))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == skmatnet.read_model_card(path)


# ---------------------------------------------------------------------------
# Half precision
# ---------------------------------------------------------------------------


def test_half_precision_halves_the_weights_and_predicts_almost_alike(jarvis, tmp_path):
    _, X, y = jarvis
    net = small(IRNetRegressor).fit(X, y)  # with BatchNorm: an integer buffer, kept as it is
    full = save_model(net, tmp_path / "full.skmatnet")
    half = save_model(net, tmp_path / "half.skmatnet", half_precision=True)
    weights = {name: members(path)["weights.safetensors"] for name, path in
               (("full", full), ("half", half))}
    state = safetensors.torch.load(weights["half"])
    tracked = [key for key in state if key.endswith("num_batches_tracked")]
    # The tensor bytes after safetensors' JSON header: the floats' are halved.
    payload = {name: len(data) - 8 - int.from_bytes(data[:8], "little")
               for name, data in weights.items()}
    assert payload["half"] == (payload["full"] - 8 * len(tracked)) // 2 + 8 * len(tracked)
    assert half.stat().st_size < full.stat().st_size
    assert tracked and all(state[key].dtype == torch.int64 for key in tracked)
    assert {state[key].dtype for key in state if key not in tracked} == {torch.float16}
    assert json.loads(members(half)["config.json"])["half_precision"] is True

    loaded = load_model(half)
    assert loaded.model_card_["half_precision"] is True
    assert all(p.dtype == torch.float32 for p in loaded.module_.parameters())
    # Measured: the largest difference is ~1e-3 of the targets' spread (float16 keeps 11
    # significant bits); 1e-2 leaves room for other CPUs.
    difference = np.abs(loaded.predict(X) - net.predict(X))
    assert difference.max() < 1e-2 * y.std()
    assert difference.max() > 0  # the weights were rounded


def test_half_precision_ensemble(fitted_ensemble, jarvis, tmp_path):
    formulas, _, y = jarvis
    path = save_model(fitted_ensemble, tmp_path / "ensemble.skmatnet", half_precision=True)
    loaded = load_model(path)
    assert loaded.model_card_["half_precision"] is True
    for member in members(path).values():
        if member[:2] == b"PK":  # the member files
            state = safetensors.torch.load(members_of(member)["weights.safetensors"])
            assert {tensor.dtype for tensor in state.values()} == {torch.float16}
    mean, std = loaded.predict(formulas, return_std=True)
    expected_mean, expected_std = fitted_ensemble.predict(formulas, return_std=True)
    assert np.abs(mean - expected_mean).max() < 1e-2 * y.std()
    assert np.abs(std - expected_std).max() < 1e-2 * y.std()


def members_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_fine_tuning_starts_from_a_half_precision_file(jarvis, tmp_path):
    _, X, y = jarvis
    pretrained = small().fit(X, y)
    path = save_model(pretrained, tmp_path / "half.skmatnet", half_precision=True)
    # A rate of 1e-12: one epoch leaves the weights where the file put them.
    tuned = small(max_epochs=1, lr=1e-12, init_from=str(path)).fit(X, y)
    loaded = load_model(path)
    for (name, tuned_weight), loaded_weight in zip(tuned.module_.state_dict().items(),
                                                   loaded.module_.state_dict().values(),
                                                   strict=True):
        assert tuned_weight.dtype == loaded_weight.dtype, name
    np.testing.assert_allclose(tuned.predict(X), loaded.predict(X), rtol=1e-4, atol=1e-4)


def test_weights_beyond_float16_are_refused(jarvis, tmp_path):
    _, X, y = jarvis
    net = small().fit(X, y)
    with torch.no_grad():
        next(net.module_.parameters())[0, 0] = 1e6
    with pytest.raises(ValueError, match="beyond float16's range"):
        save_model(net, tmp_path / "half.skmatnet", half_precision=True)
    assert not (tmp_path / "half.skmatnet").exists()


def _edit_ensemble_config(path: Path, edit) -> None:
    def change(data):
        config = json.loads(data)
        edit(config)
        return json.dumps(config).encode()
    rewrite(path, **{"ensemble.json": change})


def test_ensemble_calibration_scores_load_and_are_checked(fitted_ensemble, jarvis, tmp_path):
    formulas, _, _ = jarvis
    path = save_model(fitted_ensemble, tmp_path / "ensemble.skmatnet")
    fitted = json.loads(members(path)["ensemble.json"])["fitted"]
    assert fitted["calibration_scores_"] is None and fitted["interval_scale_"] is None
    # A file written before intervals (no such keys) loads as not calibrated.
    _edit_ensemble_config(path, lambda config: [config["fitted"].pop(key) for key in (
        "calibration_scores_", "interval_scale_")])
    loaded = load_model(path)
    assert loaded.calibration_scores_ is None and loaded.interval_scale_ is None
    _edit_ensemble_config(path, lambda config: config["fitted"].update(
        calibration_scores_=[0.1, 0.5, 2.0], interval_scale_=[1.0, 0.25]))
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.calibration_scores_, [0.1, 0.5, 2.0])
    assert loaded.interval_scale_ == (1.0, 0.25)
    mean, std = loaded.predict(formulas[:3], return_std=True)
    np.testing.assert_allclose(loaded.predict_interval(formulas[:3], coverage=0.5)[:, 1],
                               mean + 0.5 * (std + 0.25), rtol=1e-6)  # rank ceil(4 * 0.5) = 2
    for key, bad, message in (
            ("calibration_scores_", [0.1, -1.0], "'calibration_scores_' must be a list of"),
            ("calibration_scores_", "0.5", "'calibration_scores_' must be a list of"),
            ("calibration_scores_", [[0.1]], "'calibration_scores_' must be a list of"),
            ("interval_scale_", [0.0, 0.0], "'interval_scale_' must be two non-negative"),
            ("interval_scale_", [1.0], "'interval_scale_' must be two non-negative"),
            ("interval_scale_", None, "'interval_scale_' must be two non-negative")):
        _edit_ensemble_config(path, lambda config, key=key, bad=bad: config["fitted"].update(
            calibration_scores_=[0.1, 0.5, 2.0], interval_scale_=[1.0, 0.25]) or
            config["fitted"].update({key: bad}))
        load_error(path, message)
