"""Reading a model archive: its members, its format and versions, the sha256 of its weights.

What :func:`skmatnet.load_model` and the fine-tuning reader of
:mod:`skmatnet._persistence.network` check before they build anything; weights
are read as safetensors (``torch.load(..., weights_only=True)`` for format-1 files).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import safetensors.torch
import torch

from ..exceptions import VersionMismatchWarning
from .codec import (
    _CONFIG,
    _ENSEMBLE_CONFIG,
    _FORMAT_NAME,
    _LEGACY_WEIGHTS,
    _MAX_CONFIG_BYTES,
    _WEIGHTS,
    FORMAT_VERSION,
    ModelFileError,
    _require,
    _short,
    _versions,
)

__all__ = ["half_precision_state", "is_ensemble_archive", "open_model_archive", "saved_state"]



def is_ensemble_archive(path: Path) -> bool:
    """Whether ``path`` is an ensemble's archive (``ensemble.json`` and member files)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return _ENSEMBLE_CONFIG in archive.namelist()


def open_model_archive(path: Path) -> tuple[dict[str, Any], str, bytes]:
    """The config, the name of the weights member and its bytes, once every check of the
    archive passed: its members, format and version, and the sha256 of the weights.

    Warns (``UserWarning``) when another major.minor skmatnet or torch wrote it.
    """
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
    return config, weights_name, weights


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
            VersionMismatchWarning, stacklevel=4,
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


def saved_state(config: dict[str, Any], weights: bytes, name: str,
                path: Path) -> dict[str, torch.Tensor]:
    """The weights of an archive opened by :func:`open_model_archive`, in float32 where the
    file stores them in half precision (``half_precision`` in the config)."""
    state = _load_weights(weights, name, path)
    half = config.get("half_precision", False)
    if not isinstance(half, bool):
        raise ModelFileError(path, f"{_CONFIG}: 'half_precision' is not true or false")
    if half:
        # Stored in float16 to halve the file; the network computes in float32.
        state = {key: value.to(torch.float32) if value.dtype == torch.float16 else value
                 for key, value in state.items()}
    return state


def half_precision_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with its floating tensors in float16 (integer buffers, such as BatchNorm's
    ``num_batches_tracked``, untouched); a value beyond float16's range is an error."""
    half = {}
    for key, value in state.items():
        if not value.is_floating_point():
            half[key] = value
            continue
        half[key] = value.to(torch.float16)
        if bool(torch.isfinite(value).all()) and not bool(torch.isfinite(half[key]).all()):
            raise ValueError(
                f"cannot save in half precision: {key} holds values beyond float16's range "
                "(about 65504 in magnitude); save with half_precision=False"
            )
    return half


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


def _fill_network(module: torch.nn.Module, state: dict, name: str, path: Path) -> None:
    """Put the saved weights ``state`` (from ``name``) into ``module``, a network built from the
    file's settings; a mismatch is a :class:`ModelFileError`, not torch's error."""
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(
            path, f"{name} does not fit the network described in {_CONFIG}: {_short(exc)}"
        ) from None
