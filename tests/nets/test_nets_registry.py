"""Every registered network has a tiny test configuration under its own name."""

from __future__ import annotations

import pytest

from skmatnet.nets import NETWORKS


@pytest.mark.parametrize("name", list(NETWORKS))
def test_every_network_has_a_tiny_configuration(name, make_tiny):
    assert isinstance(make_tiny(name), NETWORKS[name])
