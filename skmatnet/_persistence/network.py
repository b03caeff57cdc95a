"""The network of a saved model, without its estimator: what fine-tuning starts from.

``init_from="model.skmatnet"`` needs the trained network, its input width and
the estimator's ``width``, not the estimator: this reader builds the network
from the file's settings exactly as the estimator would
(:func:`skmatnet._networks.network_kwargs`) and loads its weights, after the
same checks :func:`skmatnet.load_model` makes. It needs no estimator class, so
the estimators can use it while :mod:`skmatnet.persistence` uses them. From an
ensemble's file it reads one member, checked by the sha256 ``ensemble.json``
records for it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import nets
from .._networks import network_kwargs
from .._registry import NETWORK_SPECS, estimator_names
from .archive import (
    _ENSEMBLE_CONFIG,
    _fill_network,
    is_ensemble_archive,
    open_model_archive,
    saved_state,
)
from .codec import (
    _CONFIG,
    ModelFileError,
    _decode,
    _require,
    _short,
    _with_parameters_added_later,
)

__all__ = ["SavedNetwork", "read_network"]


@dataclass(frozen=True)
class SavedNetwork:
    """A saved model's network and what fine-tuning checks it against."""

    module: nn.Module
    n_features_in_: int
    width: float
    estimator: str  # the estimator class named in the file ("skmatnet.BRNetRegressor")
    #: ``(mean, scale)`` of the targets its outputs are in; ``None``: raw targets.
    target_encoding: tuple | None = None
    #: The network's own settings (the estimator's ``module__*`` parameters, unprefixed).
    module_params: dict = field(default_factory=dict)
    #: Which member of an ensemble's file it is, and of how many (0 of 1: not an ensemble).
    member: tuple[int, int] = (0, 1)


def _default_network(estimator: str) -> type:
    name = estimator.removeprefix("skmatnet.")
    for spec in NETWORK_SPECS:
        if name in spec.estimators().values():
            return nets.NETWORKS[spec.name]
    raise AssertionError(estimator)  # checked against the registry before


def read_network(path: str | os.PathLike, member: int = 0) -> SavedNetwork:
    """The network of the model saved at ``path``.

    For an ensemble's file: that of member ``member % n_members`` (so any seed picks
    one, and different seeds different ones).

    Raises
    ------
    ModelFileError, FileNotFoundError
        As :func:`skmatnet.load_model` does.
    """
    path = Path(path)
    if is_ensemble_archive(path):
        return _read_member(path, member)
    return _read_single(path)


def _read_member(path: Path, member: int) -> SavedNetwork:
    """The network of one member of the ensemble archive ``path`` (checked by its sha256)."""
    with zipfile.ZipFile(path) as archive:
        try:
            config = json.loads(archive.read(_ENSEMBLE_CONFIG).decode("utf-8"))
            entries = config["members"]
            index = member % len(entries)
            entry = entries[index]
            data = archive.read(entry["file"])
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, ZeroDivisionError):
            raise ModelFileError(path, f"{_ENSEMBLE_CONFIG} does not describe the ensemble's "
                                       "members") from None
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise ModelFileError(path, f"sha256 mismatch for {entry['file']}; the file is corrupt "
                                   "or was modified")
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / f"{index}.skmatnet"
        local.write_bytes(data)
        try:
            saved = _read_single(local)
        except ModelFileError as exc:
            raise ModelFileError(path, f"ensemble member {index}: {exc}") from None
    return dataclasses.replace(saved, member=(index, len(entries)))


def _read_single(path: Path) -> SavedNetwork:
    config, weights_name, weights = open_model_archive(path)
    spec = _require(config, "estimator", path, "", dict)
    class_name = _require(spec, "class", path, "estimator ", str)
    known = sorted(f"skmatnet.{name}" for name in estimator_names())
    if class_name not in known:
        raise ModelFileError(
            path, f"{_CONFIG} names the estimator class {class_name!r}, which is not one of "
            f"{', '.join(known)}"
        )
    params = _decode(_with_parameters_added_later(
        class_name, _require(spec, "params", path, "estimator ", dict)), path)
    fitted = _require(spec, "fitted", path, "estimator ", dict)
    n_features = _require(fitted, "n_features_in_", path, "fitted attribute ", int)
    n_outputs = _require(fitted, "n_outputs_", path, "fitted attribute ", int)
    width = params["width"]
    if width == "auto":  # the rules chose it at the fit; the file records what they chose
        settings = _decode(fitted.get("effective_params_"), path)
        width = settings.get("width") if isinstance(settings, dict) else None
        if not isinstance(width, (int, float)) or isinstance(width, bool) or width <= 0:
            raise ModelFileError(path, f"{_CONFIG}: width is 'auto', but the fitted "
                                       "effective_params_ do not give the width used")
    module = params.get("module", _default_network(class_name))
    prefix = "module__"
    module_params = {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
    # a fine-tuned model's network settings taken from its own pretrained model
    inherited = _decode(fitted.get("pretrained_module_params_", {}), path)
    module_params = {**(inherited if isinstance(inherited, dict) else {}), **module_params}
    kwargs = network_kwargs(
        module, module_params,
        n_features=n_features, n_outputs=n_outputs, width=width,
        bn_momentum=params.get("bn_momentum", 0.1))
    state = saved_state(config, weights, weights_name, path)
    # Building the network draws initial weights: keep the caller's RNG untouched.
    with torch.random.fork_rng(devices=[]):
        try:
            network = module(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ModelFileError(
                path, f"the network described in {_CONFIG} cannot be built: {_short(exc)}"
            ) from None
    _fill_network(network, state, weights_name, path)
    encoding = None
    if "target_mean_" in fitted and "target_scale_" in fitted:
        encoding = tuple(np.asarray(_decode(fitted[name], path), dtype=np.float64)
                         for name in ("target_mean_", "target_scale_"))
    return SavedNetwork(network.eval(), n_features, float(width), class_name,
                        encoding, module_params)
