"""The per-network estimators (from the registry) and their small test configurations."""

from __future__ import annotations

import skmatnet
from skmatnet._registry import estimator_names

#: The regressors (most tests are about them) and the classifiers.
ESTIMATORS = [getattr(skmatnet, name) for name in estimator_names("regressor")]
CLASSIFIERS = [getattr(skmatnet, name) for name in estimator_names("classifier")]


def small(cls, **overrides):
    """``cls`` with its ``_get_test_params()`` (tiny network, few epochs), then ``overrides``."""
    return cls(**{**cls._get_test_params(), **overrides})


#: sklearn checks every skmatnet estimator is expected to fail, with the reason.
EXPECTED_FAILURES = {
    "check_no_attributes_set_in_init": (
        "skorch stores prefixed parameters (module__*, iterator_*) and its bookkeeping "
        "(history_, initialized_, virtual_params_) in __init__ by design; get_params, "
        "set_params and clone still work (tested in test_estimators.py, test_classifiers.py)"
    ),
    "check_methods_subset_invariance": (
        "float32 matrix products differ in the last bit (~1e-7 relative) between batch "
        "sizes because the BLAS picks different kernels; the check demands rtol=1e-7"
    ),
}
