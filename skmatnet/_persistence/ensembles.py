"""An ensemble as one archive: ``ensemble.json`` and a model file per member.

The members are written and read by the single-model functions passed in
(:func:`skmatnet.save_model` and :func:`skmatnet.load_model`).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._io import atomic_open
from ..ensemble import MatNetEnsembleRegressor
from .card import check_metadata, ensemble_card, saved_at
from .codec import (
    _ENSEMBLE_CONFIG,
    _FORMAT_NAME,
    _MAX_CONFIG_BYTES,
    FORMAT_VERSION,
    ModelFileError,
    _build,
    _decode,
    _encode,
    _estimator_params,
    _params,
    _require,
    _versions,
    _with_parameters_added_later,
)
from .single import _ESTIMATORS, _TRANSFORMERS, _split_model

__all__ = ["load_ensemble", "save_ensemble"]

_ENSEMBLE_CLASS = "skmatnet.MatNetEnsembleRegressor"


def save_ensemble(model: Any, path: Path, save_member: Callable[..., Path], *,
                  metadata: Any = None, half_precision: bool = False) -> Path:
    """An archive of ``ensemble.json`` and each member as a model file of its own.

    The card is the ensemble's; the members are saved without metadata, in half
    precision if the ensemble is.
    """
    card = check_metadata(metadata)
    check_is_fitted(model, "estimators_")
    members, digests = [], []
    with tempfile.TemporaryDirectory() as folder:
        for i, member in enumerate(model.estimators_):
            try:
                member_path = save_member(member, Path(folder) / f"{i}.skmatnet",
                                          half_precision=half_precision)
            except ValueError as exc:
                raise ValueError(f"cannot save ensemble member {i}: {exc}") from None
            members.append(member_path.read_bytes())
            digests.append(hashlib.sha256(members[-1]).hexdigest())
    template = None if model.estimator is None else _template_spec(model.estimator)
    params = _params(model, "the ensemble", skip=("estimator",))  # the template: above
    config = {
        "format": _FORMAT_NAME, "format_version": FORMAT_VERSION, "kind": "ensemble",
        "versions": _versions(), "saved_at": saved_at(), "card": card,
        "half_precision": bool(half_precision), "class": _ENSEMBLE_CLASS, "params": params,
        "estimator": template,
        "fitted": {"std_scale_": float(model.std_scale_),
                   "calibration_scores_": _scores(model),
                   "interval_scale_": _interval_scale(model),
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
    if name in _TRANSFORMERS:
        return {"class": name, "params": _params(template, type(template).__name__)}
    params, callbacks_note = _estimator_params(template, type(template).__name__)
    spec = {"class": name, "params": params}
    if callbacks_note is not None:
        spec["callbacks_not_saved"] = callbacks_note
    return spec


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
    # A template saved before some parameters existed gets the values it was trained with,
    # as its members do.
    params = _with_parameters_added_later(name, _require(spec, "params", path, "", dict))
    return _build(known[name], params, path, name)


def load_ensemble(path: Path, device: Any, load_member: Callable[..., Any]) -> Any:
    with zipfile.ZipFile(path) as archive:
        return _load_from(path, archive, device, load_member)


def _load_from(path: Path, archive: zipfile.ZipFile, device: Any,
               load_member: Callable[..., Any]) -> Any:
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
                members.append(load_member(local, device=device))
            except ModelFileError as exc:
                raise ModelFileError(path, f"ensemble member {i}: {exc}") from None
    fitted = _require(config, "fitted", path, "", dict)
    ensemble.estimators_ = members
    ensemble.std_scale_ = float(_require(fitted, "std_scale_", path, "fitted ", (int, float)))
    ensemble.calibration_scores_, ensemble.interval_scale_ = _read_intervals(fitted, path)
    ensemble.n_features_in_ = fitted.get("n_features_in_")
    ensemble.model_card_ = ensemble_card(config, [m.model_card_ for m in members], path)
    return ensemble


def _scores(model: Any) -> list[float] | None:
    """The calibration scores as JSON numbers (an ensemble fitted before 0.3 has none)."""
    scores = getattr(model, "calibration_scores_", None)
    return None if scores is None else [float(v) for v in scores]


def _interval_scale(model: Any) -> list[float] | None:
    scale = getattr(model, "interval_scale_", None)
    return None if scale is None else [float(v) for v in scale]


def _read_intervals(fitted: dict, path: Path) -> tuple[np.ndarray | None, tuple | None]:
    """The calibration scores and interval scale of a saved ensemble; ``None`` and ``None``
    in files written without them (not calibrated, or before intervals)."""
    scores, scale = fitted.get("calibration_scores_"), fitted.get("interval_scale_")
    if scores is None and scale is None:
        return None, None

    def numbers(value, length=None):
        if not isinstance(value, list) or (length is not None and len(value) != length):
            return None
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return None
        array = np.asarray(value, dtype=np.float64)
        return array if np.all(np.isfinite(array)) and np.all(array >= 0) else None

    values, pair = numbers(scores), numbers(scale, 2)
    if values is None:
        raise ModelFileError(path, f"{_ENSEMBLE_CONFIG}: fitted 'calibration_scores_' must be a "
                                   "list of non-negative numbers")
    if pair is None or not pair.any():
        raise ModelFileError(path, f"{_ENSEMBLE_CONFIG}: fitted 'interval_scale_' must be two "
                                   "non-negative numbers, not both 0")
    return values, (float(pair[0]), float(pair[1]))
