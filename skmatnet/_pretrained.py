"""Fine-tuning: start a fit from the weights of a pretrained model.

A mixin for :class:`skmatnet._base.MatNetBase`. With ``init_from`` set, every
fit builds its network as usual, then copies the pretrained network's weights
into it: the same network class, input width and layer shapes are required
(and checked, with errors naming what differs); the output layer is copied only
where its shape matches and ``reset_output`` is off, so a new property, a
different number of targets or a classifier's class count get a fresh output
layer. ``freeze_layers`` then stops training of the first layers.

``init_from`` is a fitted estimator (or a pipeline ending in one), the path of
a saved model, or the name of a bundled pretrained model
(:mod:`skmatnet.pretrained`; a string that is no existing file). A file is read
by :func:`skmatnet._persistence.network.read_network`, which rebuilds the saved
network alone: this mixin never needs the estimator classes (or
:mod:`skmatnet.persistence`, which needs them). Unless set, the estimator's
``width`` and ``module__*`` settings are the pretrained network's, so its layers
have the same shapes.

An ensemble (its file or a fitted :class:`~skmatnet.MatNetEnsembleRegressor`) is
a choice of networks: a fit starts from member ``random_state % n_members``
(member 0 without a seed). An ensemble of such estimators gives its members
different seeds, so each member fine-tunes from another pretrained member.

The output layer is kept only from a model of the same kind (a regressor's for a
regressor): a classifier's class scores are no regression outputs, whatever
their shape.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod

import numpy as np
import torch
from torch import nn

from ._persistence.network import SavedNetwork, read_network
from ._registry import ESTIMATOR_KINDS, NETWORK_SPECS
from .pretrained._zoo import resolve_model

__all__ = ["PretrainedMixin", "freeze_leading_layers", "layer_groups"]

#: The output layer of every network (``CompositionNet`` subclasses name it so).
_OUTPUT = "output"


def layer_groups(module: nn.Module) -> list[list[nn.Module]]:
    """The network's layers in order, output layer excluded: each Linear with what follows it.

    A group starts at each ``nn.Linear`` (in registration order, which is the
    forward order of the trunk) and takes the parameterised modules registered
    after it until the next one, such as its batch normalisation.
    """
    groups: list[list[nn.Module]] = []
    for name, child in module.named_modules():
        if name == _OUTPUT or name.startswith(_OUTPUT + "."):
            continue
        if not any(True for _ in child.parameters(recurse=False)):
            continue
        if isinstance(child, nn.Linear) or not groups:
            groups.append([child])
        else:
            groups[-1].append(child)
    return groups


def freeze_leading_layers(module: nn.Module, n_layers: int) -> None:
    """Stop gradients through the first ``n_layers`` layer groups (:func:`layer_groups`).

    Their batch normalisations keep their running statistics (momentum 0), so a
    frozen layer computes what it computed in the pretrained network.

    Raises
    ------
    ValueError
        If the network has fewer layers.
    """
    groups = layer_groups(module)
    if n_layers > len(groups):
        raise ValueError(f"freeze_layers={n_layers}, but the {type(module).__name__} network "
                         f"has {len(groups)} layers before its output layer")
    for group in groups[:n_layers]:
        for layer in group:
            for parameter in layer.parameters(recurse=False):
                parameter.requires_grad_(False)
            if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                layer.momentum = 0.0


class PretrainedMixin(ABC):
    """``init_from``, ``freeze_layers`` and ``reset_output``; see the module docstring."""

    @abstractmethod
    def __sklearn_is_fitted__(self) -> bool:
        """Hook: whether the estimator (here: an in-memory ``init_from``) is fitted."""

    @abstractmethod
    def _recorded_loss(self, y_pred, y_true):
        """Hook: the loss of outputs ``y_pred`` against learnt targets ``y_true`` as the
        history records it (a regressor's in the units of its targets)."""

    def _pretrained_network(self) -> SavedNetwork:
        """The network ``init_from`` names: read from its file for a path or a bundled name."""
        source = self.init_from
        member = self._pretrained_member()
        if isinstance(source, (str, os.PathLike)):
            return read_network(resolve_model(source), member)
        source, source_name = _final_estimator(source)
        members = getattr(source, "estimators_", None)
        if not isinstance(source, PretrainedMixin) and isinstance(members, list) and members:
            # a fitted ensemble: one of its members, as from its file
            source, source_name = _final_estimator(members[member % len(members)])
        if not isinstance(source, PretrainedMixin):
            raise TypeError(
                f"init_from must be the path of a saved skmatnet model, the name of a bundled "
                f"pretrained model, or a fitted skmatnet estimator or Pipeline ending in one; "
                f"got {source_name}"
            )
        if not source.__sklearn_is_fitted__():
            raise ValueError(
                f"init_from is an unfitted {type(source).__name__}. scikit-learn's clone() "
                "(GridSearchCV, cross_val_score) resets estimator parameters to unfitted "
                "copies: save the pretrained model with save_model and pass its path"
            )
        encoding = None
        if getattr(source, "target_mean_", None) is not None:
            encoding = (source.target_mean_.copy(), source.target_scale_.copy())
        prefix = "module__"
        module_params = {**getattr(source, "pretrained_module_params_", {}),
                         **{key[len(prefix):]: value
                            for key, value in source.get_params(deep=False).items()
                            if key.startswith(prefix)}}
        return SavedNetwork(getattr(source.module_, "_orig_mod", source.module_),
                            source.n_features_in_, source._setting("width"), type(source).__name__,
                            encoding, module_params)

    def _pretrained_member(self) -> int:
        """Which member of a pretrained ensemble this fit starts from (before ``% n_members``)."""
        seed = getattr(self, "random_state", None)
        return 0 if seed is None else int(seed)

    def _pretrained_module_params(self) -> dict:
        """The pretrained network's own settings (``module__*``), where it is this estimator's
        network: the defaults of this fit's network, so its layers have the same shapes.
        Another network gets none (the shape check then names the estimator to use)."""
        if self.init_from is None:
            return {}
        source = self._pretrained_network()
        if not isinstance(self.module, type) or type(source.module) is not self.module:
            return {}
        return dict(source.module_params)

    def _own_kind(self) -> str:
        """``"regressor"`` or ``"classifier"``: what this estimator is."""
        return "classifier" if getattr(self, "_task", None) == "classification" else "regressor"

    def _matching_estimator(self, network: nn.Module, fallback: str) -> str:
        """The estimator of this kind that builds ``network`` (``fallback``: none known)."""
        kind = self._own_kind()
        for spec in NETWORK_SPECS:
            if spec.module_class == type(network).__name__ and spec.estimators().get(kind):
                return spec.estimators()[kind]
        return fallback.removeprefix("skmatnet.")

    def starting_loss(self, X, y) -> float | None:
        """The training loss of the pretrained weights on ``(X, y)``, before any update.

        What :class:`~skmatnet.callbacks.DivergenceGuard` measures an explosion
        against in a fine-tuning fit; ``None`` without ``init_from``.

        Parameters
        ----------
        X : array-like or tensor
            The training inputs, as the network's ``forward`` takes them (what skorch
            passes to the callbacks' ``on_train_begin``).
        y : array-like or tensor
            Their targets, as the loss takes them.

        Returns
        -------
        float or None
        """
        if self.init_from is None:
            return None
        with torch.no_grad():
            y_pred = self.forward(X, training=False, device=self.device)
        return float(self._recorded_loss(y_pred, y))

    def _load_pretrained(self) -> None:
        """Copy the pretrained weights into the freshly built ``module_``; freeze layers."""
        source = self._pretrained_network()
        pretrained = source.module
        mine = self.module_
        if type(pretrained) is not type(mine):
            raise ValueError(
                f"init_from holds a {type(pretrained).__name__} network, but "
                f"{type(self).__name__} builds {type(mine).__name__}: fine-tune with "
                f"{self._matching_estimator(pretrained, source.estimator)}"
            )
        if source.n_features_in_ != self.n_features_in_:
            raise ValueError(
                f"init_from was trained on {source.n_features_in_} input features, but X has "
                f"{self.n_features_in_}: the inputs must be the same featurization"
            )
        weights = pretrained.state_dict()
        own = mine.state_dict()
        # A classifier's class scores are no regression outputs (nor the reverse), whatever
        # their shape: another kind's output layer is trained afresh.
        same_kind = _kind_of(source.estimator) in (None, self._own_kind())
        output_matches = same_kind and all(
            weights[key].shape == own[key].shape for key in own if key.startswith(_OUTPUT + ".")
        )
        keep = {}
        for key, value in own.items():
            if key.startswith(_OUTPUT + "."):
                if output_matches and not self.reset_output:
                    keep[key] = weights[key]
                continue
            if key not in weights or weights[key].shape != value.shape:
                shape = tuple(weights[key].shape) if key in weights else "missing"
                raise ValueError(
                    f"init_from's {type(pretrained).__name__} has another shape: layer {key} is "
                    f"{shape} there and {tuple(value.shape)} here; set width and the module__ "
                    f"settings to the pretrained model's (width={source.width})"
                )
            keep[key] = weights[key]
        with torch.no_grad():
            mine.load_state_dict(keep, strict=False)
        if output_matches and not self.reset_output:
            # The kept output layer predicts in its source's units: keep its target encoding
            # (the identity where the source learnt raw targets).
            self._inherited_target_encoding = source.target_encoding or (
                np.zeros(self.n_outputs_), np.ones(self.n_outputs_))
        if self.freeze_layers:
            freeze_leading_layers(mine, self.freeze_layers)


def _final_estimator(model) -> tuple:
    """The estimator at the end of ``model`` (a pipeline's last step), and its class name."""
    steps = getattr(model, "steps", None)
    if steps:
        model = steps[-1][1]
    return model, type(model).__name__


def _kind_of(estimator: str) -> str | None:
    """``"regressor"`` or ``"classifier"`` for a registry estimator's class name (also as
    ``"skmatnet.BRNetRegressor"``); ``None`` for any other class."""
    name = estimator.removeprefix("skmatnet.")
    for spec in NETWORK_SPECS:
        for kind in ESTIMATOR_KINDS:
            if spec.estimators().get(kind) == name:
                return kind
    return None
