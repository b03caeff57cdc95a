"""The six estimators and their small test configurations, shared by the estimator tests."""

from __future__ import annotations

from skmatnet import (
    BNetRegressor,
    BRNetRegressor,
    ElemNetRegressor,
    FCMnRRegressor,
    FCUNetRegressor,
    IRNetRegressor,
)

ESTIMATORS = [ElemNetRegressor, IRNetRegressor, BNetRegressor, BRNetRegressor,
              FCMnRRegressor, FCUNetRegressor]


def small(cls, **overrides):
    """``cls`` with its ``_get_test_params()`` (tiny network, few epochs), then ``overrides``."""
    return cls(**{**cls._get_test_params(), **overrides})
