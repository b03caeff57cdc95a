"""Save and load fitted models in a format that cannot run code when loaded.

``joblib`` and ``pickle`` files can execute arbitrary code when they are loaded.
:func:`save_model` writes a fitted skmatnet estimator, or a pipeline of
:class:`~skmatnet.ElementFractionTransformer` steps ending in one, as a zip
archive of two members:

``config.json``
    The format version; the class of every step, as a name from a fixed list
    of skmatnet classes (never an arbitrary import path); their parameters as
    plain JSON; the fitted attributes (``n_features_in_``, ``n_outputs_``,
    ...); the training history; the versions of skmatnet, torch, numpy,
    scikit-learn, skorch and Python that wrote the file; and the sha256 of
    ``weights.safetensors``.
``weights.safetensors``
    The network's ``state_dict`` (CPU tensors) in the `safetensors
    <https://huggingface.co/docs/safetensors>`_ format: a JSON header and raw
    tensor bytes, read without any unpickling.

:func:`load_model` rebuilds the model from those two members alone. Files of
format version 1 (skmatnet 0.1.0) hold ``weights.pt`` instead, written by
``torch.save``; they still load, through ``torch.load(..., weights_only=True)``,
which unpickles tensors and plain containers only.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import platform
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_is_fitted
from skorch.dataset import Dataset

from . import classifiers, estimators, nets
from ._io import atomic_open
from ._registry import estimator_names
from .featurizer import ElementFractionTransformer

__all__ = ["FORMAT_VERSION", "ModelFileError", "load_model", "save_model"]

#: Version of the file layout written by :func:`save_model`.
FORMAT_VERSION = 2

_CONFIG = "config.json"
_WEIGHTS = "weights.safetensors"
# Format version 1 stored the state_dict with torch.save; read for old files only.
_LEGACY_WEIGHTS = "weights.pt"
_FORMAT_NAME = "skmatnet-model"
# A config is a few kB plus ~100 bytes per epoch of history; refuse decompression bombs.
_MAX_CONFIG_BYTES = 64 << 20

#: The only classes a file may name, by the name written in it. Loading looks
#: names up here and never imports anything a file names.
_ESTIMATORS: dict[str, type] = {
    **{f"skmatnet.{name}": getattr(estimators, name) for name in estimator_names("regressor")},
    **{f"skmatnet.{name}": getattr(classifiers, name)
       for name in estimator_names("classifier")},
}
_TRANSFORMERS: dict[str, type] = {
    "skmatnet.ElementFractionTransformer": ElementFractionTransformer,
}
#: Classes that may appear as parameter values (network, loss, optimizer, data loading).
_PARAM_CLASSES: dict[str, type] = {
    **{f"skmatnet.nets.{cls.__name__}": cls for cls in nets.NETWORKS.values()},
    **{f"torch.nn.{name}": getattr(torch.nn, name) for name in (
        "L1Loss", "MSELoss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss")},
    **{f"torch.optim.{name}": getattr(torch.optim, name) for name in (
        "Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "NAdam", "RAdam")},
    "torch.utils.data.DataLoader": torch.utils.data.DataLoader,
    "skorch.dataset.Dataset": Dataset,
}
#: Estimator parameters added after the first file format, with the values that
#: reproduce how older files were trained.
_PARAMETERS_ADDED_LATER = {"width": 1.0, "warmup": 0.0, "bn_momentum": 0.01}
_CLASS_NAMES = {cls: name for name, cls in _PARAM_CLASSES.items()}

#: Fitted attributes of an estimator: required, then written when present.
_FITTED_REQUIRED = ("n_features_in_", "n_outputs_", "_y_is_1d_", "n_epochs_", "best_epoch_")
_FITTED_OPTIONAL = ("feature_names_in_", "stop_reason_", "kept_epoch_")
#: A classifier's: its labels instead of the target shape, and its class weights.
_CLASSIFIER_REQUIRED = ("n_features_in_", "n_outputs_", "classes_", "n_epochs_", "best_epoch_")
_CLASSIFIER_OPTIONAL = (*_FITTED_OPTIONAL, "_class_weights_")


def _fitted_names(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (required, optional) fitted attributes of estimator class ``cls``."""
    if issubclass(cls, classifiers.MatNetClassifier):
        return _CLASSIFIER_REQUIRED, _CLASSIFIER_OPTIONAL
    return _FITTED_REQUIRED, _FITTED_OPTIONAL


class ModelFileError(ValueError):
    """A model file cannot be loaded: corrupt, truncated, tampered with or not one.

    Attributes
    ----------
    path : str
        The file.
    """

    def __init__(self, path: str | os.PathLike, problem: str):
        super().__init__(f"cannot load model file {os.fspath(path)}: {problem}")
        self.path = os.fspath(path)


class _NotJSON(Exception):
    pass


# ---------------------------------------------------------------------------
# Parameters <-> JSON
# ---------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    """A JSON value for ``value``; tuples and allowed classes are tagged to round-trip."""
    if value is None or isinstance(value, (bool, np.bool_, str)):
        return value.item() if isinstance(value, np.bool_) else value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        # JSON has no inf or NaN (e.g. max_time=float("inf")): tagged as text.
        return float(value) if math.isfinite(value) else {"__float__": repr(float(value))}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) and not k.startswith("__") for k in value):
            raise _NotJSON
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (torch.device, os.PathLike)):
        return str(value) if isinstance(value, torch.device) else os.fspath(value)
    if isinstance(value, type) and value in _CLASS_NAMES:
        return {"__class__": _CLASS_NAMES[value]}
    raise _NotJSON


def _decode(value: Any, path: Path) -> Any:
    if isinstance(value, list):
        return [_decode(v, path) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_decode(v, path) for v in value["__tuple__"])
        if set(value) == {"__float__"}:
            if value["__float__"] not in ("inf", "-inf", "nan"):
                raise ModelFileError(path, f"{_CONFIG}: bad float {value['__float__']!r}")
            return float(value["__float__"])
        if set(value) == {"__class__"}:
            name = value["__class__"]
            if name not in _PARAM_CLASSES:
                raise ModelFileError(
                    path, f"{_CONFIG} names the class {name!r}, which is not one of the classes "
                    f"a model file may use: {', '.join(sorted(_PARAM_CLASSES))}"
                )
            return _PARAM_CLASSES[name]
        return {k: _decode(v, path) for k, v in value.items()}
    return value


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # e.g. arrays, objects with odd __eq__
        return False


def _params(obj: Any, what: str, skip: tuple[str, ...] = ("steps",)) -> dict[str, Any]:
    """The JSON form of ``obj``'s parameters but ``skip`` (stored on their own); non-JSON
    ones must equal the class default."""
    try:
        defaults = type(obj)().get_params(deep=False)
    except TypeError:  # Pipeline needs steps; its other parameters are plain values
        defaults = {}
    params = {}
    for name, value in obj.get_params(deep=False).items():
        if name in skip:
            continue
        try:
            params[name] = _encode(value)
        except _NotJSON:
            if name == "init_from":
                # An in-memory pretrained model only decided where training started; its
                # weights are now this model's. The file records that there was one.
                params[name] = None
                continue
            if name in defaults and _same(value, defaults[name]):
                continue  # the class default is restored on loading
            raise ValueError(
                f"cannot save {what}: parameter {name}={value!r} is not a plain value (number, "
                "string, bool, None, or a list, tuple or dict of those, or a standard loss, "
                "optimizer or skmatnet network class). save_model stores parameters as JSON so "
                "that loading never runs code; reset it with set_params before saving (it only "
                "matters for training), or use joblib, whose files run code when loaded"
            ) from None
    return params


def _fitted(obj: Any, required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for name in (*required, *optional):
        if not hasattr(obj, name):
            continue
        value = getattr(obj, name)
        if isinstance(value, np.ndarray):
            value = value.tolist()
        try:
            out[name] = _encode(value)
        except _NotJSON:
            raise ValueError(f"cannot save fitted attribute {name}={value!r}") from None
    return out


def _history(net: Any) -> list[dict[str, Any]]:
    """Per-epoch scalars of skorch's history (per-batch records are left out)."""
    rows = []
    for epoch in getattr(net, "history_", []) or []:
        row = {}
        for key, value in epoch.items():
            if key == "batches":
                continue
            if isinstance(value, (float, np.floating)) and not math.isfinite(value):
                value = None  # JSON has no NaN: a diverged epoch's loss is written as null
            with contextlib.suppress(_NotJSON):
                row[key] = _encode(value)
        rows.append(row)
    return rows


def _versions() -> dict[str, str]:
    import sklearn
    import skorch

    from . import __version__

    return {
        "skmatnet": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "skorch": skorch.__version__,
        "python": platform.python_version(),
    }


# ---------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------


def _split_model(model: Any) -> tuple[list[tuple[str, Any]], tuple[str, Any]]:
    if isinstance(model, Pipeline):
        if model.memory is not None:
            raise ValueError(
                "cannot save a Pipeline with memory set: its cache holds joblib pickles; set "
                "memory=None before saving"
            )
        *head, last = model.steps
        for name, step in head:
            if type(step) not in _TRANSFORMERS.values():
                raise ValueError(
                    f"cannot save pipeline step {name!r} ({type(step).__name__}): save_model "
                    "supports ElementFractionTransformer steps followed by an skmatnet estimator"
                )
        return head, last
    return [], (None, model)


def _check_estimator(net: Any) -> str:
    for name, cls in _ESTIMATORS.items():
        if type(net) is cls:
            try:
                check_is_fitted(net)  # skorch: the network is built
                check_is_fitted(net, "n_outputs_")  # skmatnet: fit has seen the targets
            except NotFittedError:
                raise ValueError(f"cannot save an unfitted {cls.__name__}; call fit first") \
                    from None
            return name
    raise ValueError(
        f"cannot save a {type(net).__name__}: save_model supports the skmatnet estimators "
        f"({', '.join(c.__name__ for c in _ESTIMATORS.values())}), alone or at the end of a "
        "Pipeline"
    )


def _state_dict(net: Any) -> dict[str, torch.Tensor]:
    module = getattr(net.module_, "_orig_mod", net.module_)  # unwrap torch.compile
    # CPU copies: a model trained on a GPU loads on a machine without one.
    # Contiguous copies: safetensors stores raw, unshared tensor bytes.
    return {k: v.detach().to("cpu", copy=True).contiguous()
            for k, v in module.state_dict().items()}


def save_model(model: Any, path: str | os.PathLike) -> Path:
    """Save a fitted model to a file that cannot run code when loaded.

    Parameters
    ----------
    model : MatNetRegressor, MatNetClassifier, Pipeline or MatNetEnsembleRegressor
        A fitted skmatnet estimator (:class:`~skmatnet.BRNetRegressor`, ...),
        or a fitted :class:`~sklearn.pipeline.Pipeline` of
        :class:`~skmatnet.ElementFractionTransformer` steps ending in one,
        or a fitted :class:`~skmatnet.MatNetEnsembleRegressor` of those
        (``ensemble.json`` and one member file each in the archive).
    path : str or path-like
        File to write (by convention ``*.skmatnet``). Written to a temporary
        file first and renamed, so an interrupted save never leaves a
        half-written file under ``path``.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If the model is not fitted, is not a supported kind, or has a
        parameter that cannot be stored as JSON (e.g. custom callbacks or a
        module instance): the message names it.

    See Also
    --------
    load_model : read the file back.

    Notes
    -----
    The file is a zip archive holding ``config.json`` (classes, parameters,
    fitted attributes, history, library versions, sha256 of the weights) and
    ``weights.safetensors`` (the network's ``state_dict``). The optimizer state is not
    saved: the file is for predicting, and ``fit`` after loading starts over.
    """
    from .ensemble import MatNetEnsembleRegressor

    if type(model) is MatNetEnsembleRegressor:
        return _save_ensemble(model, Path(path))
    head, (net_name, net) = _split_model(model)
    class_name = _check_estimator(net)
    weights = safetensors.torch.save(_state_dict(net))

    steps = []
    for name, step in head:
        entry = {
            "name": name,
            "class": next(k for k, v in _TRANSFORMERS.items() if type(step) is v),
            "params": _params(step, f"step {name!r}"),
            "fitted": _fitted(step, (), ("n_features_in_", "feature_names_in_")),
        }
        output = getattr(step, "_sklearn_output_config", {}).get("transform")
        if output is not None:
            entry["output"] = output
        steps.append(entry)
    estimator = {
        "name": net_name,
        "class": class_name,
        "params": _params(net, type(net).__name__),
        "fitted": _fitted(net, *_fitted_names(type(net))),
        "history": _history(net),
    }
    config = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "kind": "pipeline" if isinstance(model, Pipeline) else "estimator",
        "versions": _versions(),
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "estimator": estimator,
    }
    if isinstance(model, Pipeline):
        config["pipeline"] = {"params": _params(model, "the pipeline"), "steps": steps}
    text = json.dumps(config, indent=2, allow_nan=False)

    path = Path(path)
    # Like open(): a missing directory is an error, not created.
    with atomic_open(path, parents=False, suffix=".part") as handle, \
            zipfile.ZipFile(handle, "w") as archive:
        archive.writestr(_CONFIG, text, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(_WEIGHTS, weights, compress_type=zipfile.ZIP_STORED)
    return path


_ENSEMBLE_CONFIG = "ensemble.json"
_ENSEMBLE_CLASS = "skmatnet.MatNetEnsembleRegressor"


def _save_ensemble(model: Any, path: Path) -> Path:
    """An archive of ``ensemble.json`` and each member as a model file of its own."""
    import tempfile

    check_is_fitted(model, "estimators_")
    members, digests = [], []
    with tempfile.TemporaryDirectory() as folder:
        for i, member in enumerate(model.estimators_):
            try:
                member_path = save_model(member, Path(folder) / f"{i}.skmatnet")
            except ValueError as exc:
                raise ValueError(f"cannot save ensemble member {i}: {exc}") from None
            members.append(member_path.read_bytes())
            digests.append(hashlib.sha256(members[-1]).hexdigest())
    template = None if model.estimator is None else _template_spec(model.estimator)
    params = _params(model, "the ensemble", skip=("estimator",))  # the template: above
    config = {
        "format": _FORMAT_NAME, "format_version": FORMAT_VERSION, "kind": "ensemble",
        "versions": _versions(), "class": _ENSEMBLE_CLASS, "params": params,
        "estimator": template,
        "fitted": {"std_scale_": float(model.std_scale_),
                   "n_features_in_": _encode(getattr(model, "n_features_in_", None))},
        "members": [{"file": f"members/{i}.skmatnet", "sha256": d}
                    for i, d in enumerate(digests)],
    }
    with atomic_open(path, parents=False, suffix=".part") as handle, \
            zipfile.ZipFile(handle, "w") as archive:
        archive.writestr(_ENSEMBLE_CONFIG, json.dumps(config, indent=2, allow_nan=False),
                         compress_type=zipfile.ZIP_DEFLATED)
        for entry, data in zip(config["members"], members, strict=True):
            archive.writestr(entry["file"], data, compress_type=zipfile.ZIP_STORED)
    return path


def _template_spec(template: Any) -> dict:
    """The unfitted member of an ensemble as JSON: an estimator, or a pipeline ending in one."""
    if isinstance(template, Pipeline):
        head, (name, last) = _split_model(template)
        return {"class": "pipeline", "params": _params(template, "the member pipeline"),
                "steps": [_template_spec(step) | {"name": step_name}
                          for step_name, step in head] + [_template_spec(last) | {"name": name}]}
    known = {**_ESTIMATORS, **_TRANSFORMERS}
    name = next((key for key, cls in known.items() if type(template) is cls), None)
    if name is None:
        raise ValueError(
            f"cannot save an ensemble of {type(template).__name__}: save_model stores "
            "ensembles of skmatnet estimators (or pipelines ending in one); use joblib for "
            "others (its files run code when loaded)"
        )
    return {"class": name, "params": _params(template, type(template).__name__)}


def _template_from(spec: Any, path: Path) -> Any:
    name = _require(spec, "class", path, "ensemble estimator ", str)
    if name == "pipeline":
        steps = [(_require(step, "name", path, "member step ", str), _template_from(step, path))
                 for step in _require(spec, "steps", path, "member pipeline ", list)]
        params = _decode(_require(spec, "params", path, "member pipeline ", dict), path)
        if params.pop("memory", None) is not None:
            raise ModelFileError(path, f"{_ENSEMBLE_CONFIG}: the pipeline's memory must be null")
        return Pipeline(steps, **params)
    known = {**_ESTIMATORS, **_TRANSFORMERS}
    if name not in known:
        raise ModelFileError(path, f"{_ENSEMBLE_CONFIG} names the class {name!r}, which is not "
                                   "an skmatnet estimator or transformer")
    return _build(known[name], _require(spec, "params", path, "", dict), path, name)


def _load_ensemble(path: Path, archive: zipfile.ZipFile, device: Any) -> Any:
    import tempfile

    from .ensemble import MatNetEnsembleRegressor

    if archive.getinfo(_ENSEMBLE_CONFIG).file_size > _MAX_CONFIG_BYTES:
        raise ModelFileError(path, f"{_ENSEMBLE_CONFIG} is implausibly large; not loaded")
    try:
        config = json.loads(archive.read(_ENSEMBLE_CONFIG).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(path, f"{_ENSEMBLE_CONFIG} is not valid JSON: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != _FORMAT_NAME \
            or config.get("class") != _ENSEMBLE_CLASS:
        raise ModelFileError(path, f"{_ENSEMBLE_CONFIG} is not an skmatnet ensemble")
    template = config.get("estimator")
    if template is not None:
        template = _template_from(template, path)
    params = _decode(_require(config, "params", path, "", dict), path)
    params.pop("estimator", None)
    ensemble = _build(MatNetEnsembleRegressor, params, path, "the ensemble")
    ensemble.set_params(estimator=template)
    members = []
    with tempfile.TemporaryDirectory() as folder:
        for i, entry in enumerate(_require(config, "members", path, "", list)):
            member_file = _require(entry, "file", path, f"member {i} ", str)
            try:
                data = archive.read(member_file)
            except KeyError:
                raise ModelFileError(path, f"the archive has no {member_file}") from None
            if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
                raise ModelFileError(path, f"sha256 mismatch for {member_file}; the file is "
                                           "corrupt or was modified")
            local = Path(folder) / f"{i}.skmatnet"
            local.write_bytes(data)
            try:
                members.append(load_model(local, device=device))
            except ModelFileError as exc:
                raise ModelFileError(path, f"ensemble member {i}: {exc}") from None
    fitted = _require(config, "fitted", path, "", dict)
    ensemble.estimators_ = members
    ensemble.std_scale_ = float(_require(fitted, "std_scale_", path, "fitted ", (int, float)))
    ensemble.n_features_in_ = fitted.get("n_features_in_")
    return ensemble


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def _read_archive(path: Path) -> tuple[dict[str, Any], str, bytes]:
    """The config, the name of the weights member and its bytes."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            weights_name = next((m for m in (_WEIGHTS, _LEGACY_WEIGHTS) if m in names), None)
            missing = [_CONFIG] if _CONFIG not in names else []
            if weights_name is None:
                missing.append(f"{_LEGACY_WEIGHTS} or {_WEIGHTS}")
            if missing:
                raise ModelFileError(path, f"the archive has no {' or '.join(missing)}; it was "
                                           "not written by skmatnet.save_model")
            if archive.getinfo(_CONFIG).file_size > _MAX_CONFIG_BYTES:
                raise ModelFileError(path, f"{_CONFIG} is implausibly large; not loaded")
            config_bytes = archive.read(_CONFIG)
            weights = archive.read(weights_name)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(
            path, f"not a readable skmatnet model archive (corrupt or truncated?): {exc}"
        ) from None
    try:
        config = json.loads(config_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(path, f"{_CONFIG} is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise ModelFileError(path, f"{_CONFIG} does not hold a JSON object")
    return config, weights_name, weights


def _require(mapping: Any, key: str, path: Path, where: str, kind: type | tuple = object) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise ModelFileError(path, f"{_CONFIG} has no {where}{key!r}")
    value = mapping[key]
    if not isinstance(value, kind):
        raise ModelFileError(path, f"{_CONFIG}: {where}{key!r} has the wrong type "
                                   f"({type(value).__name__})")
    return value


def _major_minor(version: str) -> tuple[int, ...] | None:
    match = re.match(r"(\d+)\.(\d+)", str(version))
    return tuple(int(x) for x in match.groups()) if match else None


def _check_versions(saved: Any, path: Path) -> None:
    if not isinstance(saved, dict):
        raise ModelFileError(path, f"{_CONFIG}: 'versions' is not an object")
    current = _versions()
    differ = [
        name for name in ("skmatnet", "torch")
        if _major_minor(saved.get(name, "")) != _major_minor(current[name])
    ]
    if differ:
        then = ", ".join(f"{name} {saved.get(name, 'unknown')}" for name in differ)
        now = ", ".join(f"{name} {current[name]}" for name in differ)
        warnings.warn(
            f"{path} was saved with {then} and is loaded with {now}; predictions may differ. "
            "Check them on known data, or save the model again with the current versions.",
            UserWarning, stacklevel=3,
        )


def _load_weights(weights: bytes, name: str, path: Path) -> dict[str, torch.Tensor]:
    if name == _WEIGHTS:
        try:
            # A header and raw bytes: nothing in the file is executed or unpickled.
            state = safetensors.torch.load(weights)
        except Exception as exc:  # SafetensorError, and OSError/ValueError on bad headers
            raise ModelFileError(
                path, f"{_WEIGHTS} is not a safe tensor file and was not loaded "
                f"({type(exc).__name__}: {_short(exc, 1)})"
            ) from None
        return _check_state(state, name, path)
    try:
        # weights_only=True: the unpickler rebuilds tensors and plain containers only
        # and refuses everything else, so a doctored file cannot run code.
        state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError (zip), EOFError, ...
        raise ModelFileError(
            path, f"{name} is not a safe tensor file and was not loaded "
            f"({type(exc).__name__}: {_torch_reason(exc)})"
        ) from None
    return _check_state(state, name, path)


def _check_state(state: Any, name: str, path: Path) -> dict[str, torch.Tensor]:
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ModelFileError(path, f"{name} does not hold a state_dict of tensors")
    return state


def _torch_reason(exc: Exception) -> str:
    """The gist of torch.load's error, without its advice to retry with weights_only=False."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # ANSI colours
    refused = re.search(r"WeightsUnpickler error:\s*([^\n]*)", text)
    if refused:
        # Up to the first period: torch goes on to explain how to allow the global.
        reason = refused.group(1).split(". ")[0].strip().rstrip(".")
        return f"torch.load(weights_only=True) refused it: {reason}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no detail"


def _short(exc: Exception, n_lines: int = 3) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    more = f" ... ({len(lines) - n_lines} more lines)" if len(lines) > n_lines else ""
    return " ".join(lines[:n_lines]) + more


def _set_fitted(obj: Any, fitted: Any, path: Path, required: tuple[str, ...],
                optional: tuple[str, ...] = _FITTED_OPTIONAL) -> None:
    if not isinstance(fitted, dict):
        raise ModelFileError(path, f"{_CONFIG}: 'fitted' is not an object")
    for name in required:
        _require(fitted, name, path, "fitted attribute ")
    for name, value in fitted.items():
        if name not in (*required, *optional, "n_features_in_"):
            raise ModelFileError(path, f"{_CONFIG}: unknown fitted attribute {name!r}")
        value = _decode(value, path)
        if name == "feature_names_in_":
            value = np.asarray(value, dtype=object)
        if name == "classes_":
            # JSON keeps str, int, float and bool labels, so the array gets its dtype back.
            encoder = LabelEncoder()
            encoder.classes_ = np.asarray(value)
            name, value = "_label_encoder_", encoder
        setattr(obj, name, value)


def _build(cls: type, params: Any, path: Path, what: str) -> Any:
    if not isinstance(params, dict):
        raise ModelFileError(path, f"{_CONFIG}: the parameters of {what} are not an object")
    params = _decode(params, path)
    try:
        obj = cls(**params)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(path, f"{_CONFIG}: invalid parameters for {what}: {exc}") from None
    return obj


def load_model(path: str | os.PathLike, *, device: Any = None) -> Any:
    """Load a model written by :func:`save_model`, without running code from the file.

    Parameters
    ----------
    path : str or path-like
        The file.
    device : str or torch.device, optional
        Device to predict on. By default the saved ``device`` parameter;
        a model saved with ``device="cuda"`` is loaded on the CPU, with a
        warning, when no GPU is available.

    Returns
    -------
    MatNetRegressor or Pipeline
        The fitted model, predicting exactly as the saved one.

    Raises
    ------
    ModelFileError
        A ``ValueError`` naming the file and the problem: not a zip archive,
        truncated, a member missing, ``config.json`` not valid JSON or lacking
        a key, a class not in skmatnet's fixed list, the weights not
        matching their sha256, not a safetensors file (``weights.pt`` of a
        format-1 file: not loadable with ``weights_only=True``), or not
        fitting the network the config describes.
    FileNotFoundError
        If ``path`` does not exist.

    Warns
    -----
    UserWarning
        If the file was written by a different major.minor version of
        skmatnet or torch; the message names both versions.

    Notes
    -----
    Classes are looked up by name in a fixed list of skmatnet estimators, the
    six networks and standard torch losses and optimizers; the file cannot
    make the loader import anything else. The weights are read with
    :func:`safetensors.torch.load`; those of format-1 files (``weights.pt``)
    with ``torch.load(..., weights_only=True)``.
    """
    path = Path(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if _ENSEMBLE_CONFIG in archive.namelist():
                return _load_ensemble(path, archive, device)
    config, weights_name, weights = _read_archive(path)
    if config.get("format") != _FORMAT_NAME:
        raise ModelFileError(path, f"{_CONFIG} is not an skmatnet model configuration")
    version = _require(config, "format_version", path, "", int)
    if version > FORMAT_VERSION:
        raise ModelFileError(
            path, f"written in format version {version}, newer than this skmatnet reads "
            f"({FORMAT_VERSION}); upgrade skmatnet"
        )
    expected_name = _WEIGHTS if version >= 2 else _LEGACY_WEIGHTS
    if weights_name != expected_name:
        # Never let a pickle stand in for the safetensors member of a new file.
        raise ModelFileError(path, f"a format version {version} file holds {expected_name}, "
                                   f"this one {weights_name}")
    _check_versions(_require(config, "versions", path, ""), path)
    expected = _require(config, "weights_sha256", path, "", str)
    actual = hashlib.sha256(weights).hexdigest()
    if actual != expected:
        raise ModelFileError(
            path, f"sha256 mismatch for {weights_name}: {_CONFIG} records {expected}, the file "
            f"holds {actual}; the file is corrupt or was modified"
        )
    kind = _require(config, "kind", path, "", str)
    if kind not in ("estimator", "pipeline"):
        raise ModelFileError(path, f"{_CONFIG}: unknown kind {kind!r}")

    spec = _require(config, "estimator", path, "", dict)
    class_name = _require(spec, "class", path, "estimator ", str)
    if class_name not in _ESTIMATORS:
        raise ModelFileError(
            path, f"{_CONFIG} names the estimator class {class_name!r}, which is not one of "
            f"{', '.join(sorted(_ESTIMATORS))}"
        )
    params = _require(spec, "params", path, "estimator ", dict)
    # A file without these parameters was trained before they existed, when every
    # network had its published width and the rate no warm-up.
    params = {**_PARAMETERS_ADDED_LATER, **params}
    net = _build(_ESTIMATORS[class_name], params, path, class_name)
    if device is not None:
        net.set_params(device=device)
    elif str(net.device).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"{path} was saved with device={net.get_params()['device']!r}, but CUDA is not "
            "available: loading on the CPU.", UserWarning, stacklevel=2,
        )
        net.set_params(device="cpu")
    _set_fitted(net, _require(spec, "fitted", path, "estimator "), path,
                *_fitted_names(type(net)))
    state = _load_weights(weights, weights_name, path)
    # Building the network draws initial weights: keep the caller's RNG untouched.
    with torch.random.fork_rng(devices=[]):
        try:
            net.initialize()
        except (TypeError, ValueError) as exc:  # bad module__* or unknown parameters
            raise ModelFileError(
                path, f"the network described in {_CONFIG} cannot be built: {_short(exc)}"
            ) from None
    module = getattr(net.module_, "_orig_mod", net.module_)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(
            path, f"{weights_name} does not fit the network described in {_CONFIG}: "
            f"{_short(exc)}"
        ) from None
    module.eval()
    history = spec.get("history")
    if isinstance(history, list):
        from skorch.history import History

        net.history_ = History(_decode(history, path))

    if kind == "estimator":
        return net

    pipe_spec = _require(config, "pipeline", path, "", dict)
    steps = []
    for i, step in enumerate(_require(pipe_spec, "steps", path, "pipeline ", list)):
        where = f"pipeline step {i} "
        name = _require(step, "name", path, where, str)
        step_class = _require(step, "class", path, where, str)
        if step_class not in _TRANSFORMERS:
            raise ModelFileError(
                path, f"{_CONFIG} names the step class {step_class!r}, which is not one of "
                f"{', '.join(sorted(_TRANSFORMERS))}"
            )
        transformer = _build(_TRANSFORMERS[step_class], _require(step, "params", path, where),
                             path, step_class)
        _set_fitted_transformer(transformer, step.get("fitted", {}), path)
        if step.get("output") is not None:
            try:
                transformer.set_output(transform=step["output"])
            except ValueError as exc:
                raise ModelFileError(path, f"{_CONFIG}: {where}output: {exc}") from None
        steps.append((name, transformer))
    steps.append((_require(spec, "name", path, "estimator ", str), net))
    pipeline_params = _decode(pipe_spec.get("params", {}), path)
    if not isinstance(pipeline_params, dict) or pipeline_params.pop("memory", None) is not None:
        # A cache directory is read with joblib (pickle) on the next fit: never from a file.
        raise ModelFileError(path, f"{_CONFIG}: the pipeline's memory must be null")
    try:
        return Pipeline(steps, **pipeline_params)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(path, f"{_CONFIG}: invalid pipeline: {exc}") from None


def _set_fitted_transformer(transformer: Any, fitted: Any, path: Path) -> None:
    if not isinstance(fitted, dict):
        raise ModelFileError(path, f"{_CONFIG}: a step's 'fitted' is not an object")
    for name, value in fitted.items():
        if name not in ("n_features_in_", "feature_names_in_"):
            raise ModelFileError(path, f"{_CONFIG}: unknown fitted attribute {name!r}")
        value = _decode(value, path)
        if name == "feature_names_in_":
            value = np.asarray(value, dtype=object)
        setattr(transformer, name, value)
