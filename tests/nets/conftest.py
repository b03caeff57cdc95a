"""Shared fixtures for the network tests: tiny configurations of every network."""

from __future__ import annotations

import pytest
import torch

from skmatnet._registry import NETWORK_SPECS
from skmatnet.nets import get_network

#: Where these tests pin another tiny shape than the registry's (parameter counts, stream
#: widths): the estimators' tests need the registry's, e.g. a tiny FCMnR with 4-wide
#: streams fails scikit-learn's check that a regressor learns its training data.
PINNED = {
    "irnet": dict(widths=(16, 16, 8, 8, 4)),
    "fcmnr": dict(n_blocks=2, stream_width=4, stem_widths=(16,), entry_widths=(8, 4),
                  block_widths=(16, 8), head_widths=(8,)),
    "fcunet": dict(decoder_widths=((8,), (6, 4))),
}

#: name -> (registered network, kwargs) of a tiny but structurally complete configuration:
#: each network's from the registry (``tiny_params``, which the estimators' tests train)
#: but for PINNED, and two variants of its structure.
TINY = {
    **{spec.name: (spec.name, {**spec.tiny_params, **PINNED.get(spec.name, {})})
       for spec in NETWORK_SPECS},
    "irnet_concat": ("irnet", dict(widths=(16, 8, 4), variant="concat")),
    "brnet_middle": (
        "brnet",
        dict(
            stage_widths=(16, 8, 4),
            stage_layers=(2, 2, 1),
            branch_location="middle1",
            branch_layers=(1, 1, 1),
        ),
    ),
}


def build_tiny(name: str, n_features: int = 86, n_outputs: int = 1, **overrides):
    network, kwargs = TINY[name]
    return get_network(network)(n_features, n_outputs, **{**kwargs, **overrides})


@pytest.fixture
def make_tiny():
    """The :func:`build_tiny` factory, as a fixture (test modules do not import conftest)."""
    return build_tiny


@pytest.fixture(params=sorted(TINY))
def tiny_name(request) -> str:
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
