"""The layout of a model archive: its member names, the format version, and the error a bad
file raises.

Imports nothing heavy (no torch), so that reading a model's card
(:mod:`skmatnet._persistence.card`) stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["FORMAT_VERSION", "ModelFileError"]

#: Version of the file layout written by :func:`save_model`: 1, pre-release development files
#: (``weights.pt``); 2, skmatnet 0.1.0 (``weights.safetensors``); 3, skmatnet 0.2.0 (adds
#: ``effective_params_`` and a regressor's ``standardize_target``, ``target_mean_`` and
#: ``target_scale_``; later, the optional model card and float16 weights, which the 0.2.0
#: reader loads correctly); 4, after 0.2.0 (a classifier's ``temperature_scaling`` and
#: ``temperature_``, which the 0.2.0 reader does not know). Every earlier version is still read.
FORMAT_VERSION = 4

_CONFIG = "config.json"
_WEIGHTS = "weights.safetensors"
# Format version 1 (pre-release development files) stored the state_dict with torch.save;
# read for old files only.
_LEGACY_WEIGHTS = "weights.pt"
#: The member that marks an ensemble archive (one model file per member inside).
_ENSEMBLE_CONFIG = "ensemble.json"
_FORMAT_NAME = "skmatnet-model"
# A config is a few kB plus ~100 bytes per epoch of history; refuse decompression bombs.
_MAX_CONFIG_BYTES = 64 << 20


class ModelFileError(ValueError):
    """A model file cannot be loaded: corrupt, truncated, tampered with or not one.

    Parameters
    ----------
    path : str or path-like
        The file.
    problem : str
        What is wrong with it, shown in the message after the file's name.

    Attributes
    ----------
    path : str
        The file.
    problem : str
        What is wrong with it.
    """

    def __init__(self, path: str | os.PathLike, problem: str):
        super().__init__(f"cannot load model file {os.fspath(path)}: {problem}")
        self.path = os.fspath(path)
        self.problem = problem


def _require(mapping: Any, key: str, path: Path, where: str, kind: type | tuple = object) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise ModelFileError(path, f"{_CONFIG} has no {where}{key!r}")
    value = mapping[key]
    if not isinstance(value, kind):
        raise ModelFileError(path, f"{_CONFIG}: {where}{key!r} has the wrong type "
                                   f"({type(value).__name__})")
    return value
