"""How an estimator's parameters become the keyword arguments of its network.

Used where a network is built from an estimator's settings: by the estimator in
``fit`` (:meth:`skmatnet._base.MatNetBase.initialize_module`) and by the reader
of a saved model's network (:mod:`skmatnet._persistence.network`), so both
build exactly the same network.
"""

from __future__ import annotations

import inspect

__all__ = ["network_kwargs"]


def network_kwargs(module, module_params: dict, *, n_features: int, n_outputs: int,
                   width: float, bn_momentum: float) -> dict:
    """The ``module__*`` settings plus the input and output widths, ``width`` and
    ``bn_momentum`` where the network takes them; explicit settings win."""
    kwargs = dict(module_params)
    kwargs.setdefault("n_features", n_features)
    kwargs.setdefault("n_outputs", n_outputs)
    if width != 1.0:
        kwargs.setdefault("width_multiplier", width)
    if "bn_momentum" in inspect.signature(module).parameters:
        kwargs.setdefault("bn_momentum", bn_momentum)  # networks with batch norm
    return kwargs
