"""The published composition networks as plain :class:`torch.nn.Module` classes.

Every network takes ``n_features`` (default 86 element fractions) and
``n_outputs`` (default 1) as its first two arguments; all other settings are
keyword-only constructor arguments, and ``forward`` maps a float tensor of shape
``(batch, n_features)`` to ``(batch, n_outputs)``. Weights are Glorot-uniform
with zero biases and batch norm uses the Keras defaults, as in the authors'
Keras/TensorFlow code; :func:`element_informed_init_` restarts the layers that
read the element fractions from element properties (the estimators' default,
``input_init="elements"``). This subpackage imports only :mod:`torch`.

=========  ============================================  =======================
name       class                                         paper
=========  ============================================  =======================
elemnet    :class:`ElemNet`                              Jha et al., Sci. Rep. 2018
irnet      :class:`IRNet` (``variant="concat"``: Tatis)  Jha et al., KDD 2019
brnet      :class:`BRNet`                                Gupta et al., SDM 2022
bnet       :class:`BNet` (= ``BRNet(skip=False)``)       Gupta et al., SDM 2022
fcmnr      :class:`FCMnR`                                Tatis et al., IEEE Big Data 2021
fcunet     :class:`FCUNet`                               Tatis et al., IEEE Big Data 2021
=========  ============================================  =======================
"""

from __future__ import annotations

import importlib

from torch import nn

from .._registry import NETWORK_SPECS, get_spec
from ._blocks import (
    count_parameters,
    element_informed_init_,
    glorot_init_,
    input_layers,
    keras_batch_norm,
)
from .brnet import BNet, BRNet
from .elemnet import ElemNet
from .fcmnr import FCMnR
from .fcunet import FCUNet
from .irnet import IRNet

__all__ = [
    "NETWORKS",
    "BNet",
    "BRNet",
    "ElemNet",
    "FCMnR",
    "FCUNet",
    "IRNet",
    "count_parameters",
    "element_informed_init_",
    "get_network",
    "glorot_init_",
    "input_layers",
    "keras_batch_norm",
]

#: Lower-case network name -> class, from :data:`skmatnet._registry.NETWORK_SPECS`.
NETWORKS: dict[str, type[nn.Module]] = {
    spec.name: getattr(importlib.import_module(spec.module_path), spec.module_class)
    for spec in NETWORK_SPECS
}


def get_network(name: str) -> type[nn.Module]:
    """Return the network class registered under ``name`` (case-insensitive).

    Parameters
    ----------
    name : str
        A network name such as ``"brnet"`` (the keys of ``NETWORKS``).

    Returns
    -------
    type
        The :class:`torch.nn.Module` subclass.
    """
    return NETWORKS[get_spec(name).name]
