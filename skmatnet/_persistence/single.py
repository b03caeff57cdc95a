"""Saving and loading one estimator, or a pipeline of featurizer steps ending in one.

The estimator classes a file may name are the per-network estimators of
:mod:`skmatnet.estimators` and :mod:`skmatnet.classifiers`, by the name written in
the file; loading looks them up in :data:`_ESTIMATORS` and never imports
anything a file names.
"""

from __future__ import annotations

import hashlib
import json
import os
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

from .. import classifiers, estimators
from .._io import atomic_open
from .._registry import estimator_names
from ..exceptions import DeviceFallbackWarning
from ..featurizer import ElementFractionTransformer
from .archive import _fill_network, half_precision_state, open_model_archive, saved_state
from .card import check_metadata, model_card, saved_at
from .codec import (
    _CONFIG,
    _FORMAT_NAME,
    _WEIGHTS,
    FORMAT_VERSION,
    ModelFileError,
    _build,
    _decode,
    _estimator_params,
    _fitted,
    _history,
    _params,
    _require,
    _short,
    _versions,
    _with_parameters_added_later,
)

__all__ = ["load_single", "save_single"]

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
#: Fitted attributes of an estimator: required, then written when present.
_FITTED_REQUIRED = ("n_features_in_", "n_outputs_", "_y_is_1d_", "n_epochs_", "best_epoch_")
_FITTED_OPTIONAL = ("feature_names_in_", "stop_reason_", "kept_epoch_", "effective_params_",
                    "pretrained_module_params_")
#: A regressor's: the scale its network learnt the targets in (absent: raw targets).
_REGRESSOR_OPTIONAL = (*_FITTED_OPTIONAL, "target_mean_", "target_scale_")
#: A classifier's: its labels instead of the target shape, its class weights and the
#: temperature of its probabilities (absent: 1, as before format version 4).
_CLASSIFIER_REQUIRED = ("n_features_in_", "n_outputs_", "classes_", "n_epochs_", "best_epoch_")
_CLASSIFIER_OPTIONAL = (*_FITTED_OPTIONAL, "_class_weights_", "temperature_")



def _fitted_names(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (required, optional) fitted attributes of estimator class ``cls``."""
    if issubclass(cls, classifiers.MatNetClassifier):
        return _CLASSIFIER_REQUIRED, _CLASSIFIER_OPTIONAL
    return _FITTED_REQUIRED, _REGRESSOR_OPTIONAL


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


def save_single(model: Any, path: str | os.PathLike, *, metadata: Any = None,
                half_precision: bool = False) -> Path:
    """:func:`skmatnet.save_model` of an estimator or a pipeline ending in one."""
    card = check_metadata(metadata)  # before any work: a bad key costs nothing
    head, (net_name, net) = _split_model(model)
    class_name = _check_estimator(net)
    state = _state_dict(net)
    weights = safetensors.torch.save(half_precision_state(state) if half_precision else state)

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
    params, callbacks_note = _estimator_params(net, type(net).__name__)
    estimator = {
        "name": net_name,
        "class": class_name,
        "params": params,
        "fitted": _fitted(net, *_fitted_names(type(net))),
        "history": _history(net),
    }
    if callbacks_note is not None:
        estimator["callbacks_not_saved"] = callbacks_note
    config = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "kind": "pipeline" if isinstance(model, Pipeline) else "estimator",
        "versions": _versions(),
        "saved_at": saved_at(),
        "card": card,
        "half_precision": bool(half_precision),
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




def load_single(path: Path, device: Any = None) -> Any:
    """:func:`skmatnet.load_model` of a file that holds an estimator or a pipeline."""
    config, weights_name, weights = open_model_archive(path)
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
    # A file without some parameters was trained before they existed (every network at its
    # published width, no warm-up, ...): it gets the values it was trained with.
    params = _with_parameters_added_later(
        class_name, _require(spec, "params", path, "estimator ", dict))
    net = _build(_ESTIMATORS[class_name], params, path, class_name)
    if device is not None:
        net.set_params(device=device)
    elif str(net.device).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"{path} was saved with device={net.get_params()['device']!r}, but CUDA is not "
            "available: loading on the CPU.", DeviceFallbackWarning, stacklevel=2,
        )
        net.set_params(device="cpu")
    _set_fitted(net, _require(spec, "fitted", path, "estimator "), path,
                *_fitted_names(type(net)))
    state = saved_state(config, weights, weights_name, path)
    card = model_card(config, path)
    # Building the network draws initial weights: keep the caller's RNG untouched.
    with torch.random.fork_rng(devices=[]):
        try:
            net.initialize()
        except (TypeError, ValueError) as exc:  # bad module__* or unknown parameters
            raise ModelFileError(
                path, f"the network described in {_CONFIG} cannot be built: {_short(exc)}"
            ) from None
    module = getattr(net.module_, "_orig_mod", net.module_)
    _fill_network(module, state, weights_name, path)
    module.eval()
    history = spec.get("history")
    if isinstance(history, list):
        from skorch.history import History

        net.history_ = History(_decode(history, path))

    if kind == "estimator":
        net.model_card_ = card
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
        pipeline = Pipeline(steps, **pipeline_params)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(path, f"{_CONFIG}: invalid pipeline: {exc}") from None
    pipeline.model_card_ = card
    return pipeline



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
        if name in ("target_mean_", "target_scale_"):
            value = _float_array(value, name, path)
        if name == "effective_params_" and not isinstance(value, dict):
            raise ModelFileError(path, f"{_CONFIG}: fitted attribute {name} is not an object")
        if name == "temperature_":
            value = _positive_number(value, name, path)
        if name == "classes_":
            # JSON keeps str, int, float and bool labels, so the array gets its dtype back.
            encoder = LabelEncoder()
            encoder.classes_ = np.asarray(value)
            name, value = "_label_encoder_", encoder
        setattr(obj, name, value)


def _positive_number(value: Any, name: str, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not np.isfinite(value) or value <= 0:
        raise ModelFileError(path, f"{_CONFIG}: fitted attribute {name} is {value!r}, not a "
                                   "positive finite number")
    return float(value)


def _float_array(value: Any, name: str, path: Path) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != 1 or not np.isfinite(array).all():
        raise ModelFileError(path, f"{_CONFIG}: fitted attribute {name} is not a list of "
                                   "finite numbers")
    return array


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
