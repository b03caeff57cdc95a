"""The per-network estimators (from the registry) and their small test configurations."""

from __future__ import annotations

import skmatnet
from skmatnet._registry import estimator_names

ESTIMATORS = [getattr(skmatnet, name) for name in estimator_names()]


def small(cls, **overrides):
    """``cls`` with its ``_get_test_params()`` (tiny network, few epochs), then ``overrides``."""
    return cls(**{**cls._get_test_params(), **overrides})
