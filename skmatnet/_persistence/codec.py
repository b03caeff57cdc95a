"""The JSON side of a model file: parameters, fitted attributes and history as plain JSON.

Classes appear in a file only as names from the fixed table :data:`_PARAM_CLASSES`
(the networks, standard losses and optimizers, skorch's data loading); decoding
looks names up there and never imports what a file names.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from skorch.dataset import Dataset

from .. import nets
from .._registry import NETWORK_SPECS
from ..exceptions import CallbacksNotSavedWarning
from .layout import (  # noqa: F401  (the modules of the format import them from here)
    _CONFIG,
    _ENSEMBLE_CONFIG,
    _FORMAT_NAME,
    _LEGACY_WEIGHTS,
    _MAX_CONFIG_BYTES,
    _WEIGHTS,
    FORMAT_VERSION,
    ModelFileError,
    _require,
)

__all__ = ["FORMAT_VERSION", "ModelFileError"]

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
_PARAMETERS_ADDED_LATER = {"width": 1.0, "warmup": 0.0, "bn_momentum": 0.01,
                           "input_init": "glorot", "average_weights": None}
#: A regressor's parameters added later, likewise (older regressors learnt raw targets).
_REGRESSOR_PARAMETERS_ADDED_LATER = {"standardize_target": False}
_CLASS_NAMES = {cls: name for name, cls in _PARAM_CLASSES.items()}


class _NotJSON(Exception):
    pass


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


#: A network's recommended-recipe parameters added later, as saved (encoded): older
#: ElemNet models trained with the published dropout rates.
_NETWORK_PARAMETERS_ADDED_LATER = {
    "elemnet": {"module__dropout": _encode(nets.elemnet.ELEMNET_DROPOUT)},
}


def _with_parameters_added_later(class_name: str, params: dict) -> dict:
    """An estimator's saved (encoded) ``params``, completed with the values of the parameters
    added after it was saved that reproduce how it was trained.

    Every place that rebuilds an estimator or its network from a file uses this: the model
    itself, an ensemble's template, and the network that ``init_from`` starts from.
    ``class_name``: as the file names it (``"skmatnet.ElemNetRegressor"``).
    """
    name = class_name.rpartition(".")[2]
    spec = next((s for s in NETWORK_SPECS if name in (s.regressor, s.classifier)), None)
    if spec is None:
        return params
    defaults = dict(_PARAMETERS_ADDED_LATER)
    if name == spec.regressor:
        defaults.update(_REGRESSOR_PARAMETERS_ADDED_LATER)
    defaults.update(_NETWORK_PARAMETERS_ADDED_LATER.get(spec.name, {}))
    return {**defaults, **params}


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


def _estimator_params(net: Any, what: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The JSON form of an estimator's parameters, callbacks left out, and a note of those.

    Callbacks (``callbacks`` and the ``callbacks__*`` settings) act while the
    estimator trains; they are not part of the fitted model, and loading them
    would mean running code. They are dropped with a
    :class:`~skmatnet.exceptions.CallbacksNotSavedWarning`, and the note
    (``None`` where there were none) records which.
    """
    dropped = {name: value for name, value in net.get_params(deep=False).items()
               if name.startswith("callbacks__")
               or (name == "callbacks" and not _same(value, None) and not _same(value, []))}
    params = _params(net, what, skip=("steps", *dropped))
    if not dropped:
        return params, None
    callbacks = [_describe_callback(entry) for name, value in dropped.items()
                 for entry in (value if name == "callbacks" and isinstance(value, (list, tuple))
                               else [(name, value)])]
    warnings.warn(
        f"{what}: callbacks are not saved in a model file ({', '.join(callbacks)}); they act "
        "during training and are not part of the fitted model. The file records which were "
        "left out; the loaded model has the default callbacks (callbacks=None).",
        CallbacksNotSavedWarning, stacklevel=4,
    )
    return params, {
        "note": "callbacks act during training and are not part of the fitted model: these "
                "parameters were left out, and the model loads with the default callbacks",
        "parameters": sorted(dropped),
        "callbacks": callbacks,
    }


def _describe_callback(entry: Any) -> str:
    """``name: module.Class`` of an entry of ``callbacks`` (a callback, a class or a
    ``(name, callback)`` pair), or of a ``callbacks__name`` setting."""
    name, callback = entry if isinstance(entry, tuple) and len(entry) == 2 else (None, entry)
    cls = callback if isinstance(callback, type) else type(callback)
    plain = (str, int, float, bool, list, tuple, dict, type(None))  # a setting, not a callback
    text = repr(callback) if isinstance(callback, plain) else f"{cls.__module__}.{cls.__qualname__}"
    return text if name is None else f"{name}: {text}"


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

    from .. import __version__

    return {
        "skmatnet": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "skorch": skorch.__version__,
        "python": platform.python_version(),
    }


def _build(cls: type, params: Any, path: Path, what: str) -> Any:
    if not isinstance(params, dict):
        raise ModelFileError(path, f"{_CONFIG}: the parameters of {what} are not an object")
    params = _decode(params, path)
    try:
        obj = cls(**params)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(path, f"{_CONFIG}: invalid parameters for {what}: {exc}") from None
    return obj


def _short(exc: Exception, n_lines: int = 3) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    more = f" ... ({len(lines) - n_lines} more lines)" if len(lines) > n_lines else ""
    return " ".join(lines[:n_lines]) + more
