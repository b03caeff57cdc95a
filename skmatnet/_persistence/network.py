"""The network of a saved model, without its estimator: what fine-tuning starts from.

``init_from="model.skmatnet"`` needs the trained network, its input width and
the estimator's ``width``, not the estimator: this reader builds the network
from the file's settings exactly as the estimator would
(:func:`skmatnet._networks.network_kwargs`) and loads its weights, after the
same checks :func:`skmatnet.load_model` makes. It needs no estimator class, so
the estimators can use it while :mod:`skmatnet.persistence` uses them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import nets
from .._networks import network_kwargs
from .._registry import NETWORK_SPECS, estimator_names
from .archive import _fill_network, is_ensemble_archive, open_model_archive, saved_state
from .codec import _CONFIG, _PARAMETERS_ADDED_LATER, ModelFileError, _decode, _require, _short

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


def _default_network(estimator: str) -> type:
    name = estimator.removeprefix("skmatnet.")
    for spec in NETWORK_SPECS:
        if name in spec.estimators().values():
            return nets.NETWORKS[spec.name]
    raise AssertionError(estimator)  # checked against the registry before


def read_network(path: str | os.PathLike) -> SavedNetwork | None:
    """The network of the model saved at ``path``; ``None`` for an ensemble's file.

    Raises
    ------
    ModelFileError, FileNotFoundError
        As :func:`skmatnet.load_model` does.
    """
    path = Path(path)
    if is_ensemble_archive(path):
        return None
    config, weights_name, weights = open_model_archive(path)
    spec = _require(config, "estimator", path, "", dict)
    class_name = _require(spec, "class", path, "estimator ", str)
    known = sorted(f"skmatnet.{name}" for name in estimator_names())
    if class_name not in known:
        raise ModelFileError(
            path, f"{_CONFIG} names the estimator class {class_name!r}, which is not one of "
            f"{', '.join(known)}"
        )
    params = _decode({**_PARAMETERS_ADDED_LATER, **_require(spec, "params", path, "estimator ",
                                                            dict)}, path)
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
    kwargs = network_kwargs(
        module, {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)},
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
                        encoding)
