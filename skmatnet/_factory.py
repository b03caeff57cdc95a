"""The per-network estimator classes, made from the registry.

A concrete estimator (``BRNetRegressor``, ``BRNetClassifier``, ...) differs from
its kind's base class only by what its :class:`~skmatnet._registry.NetworkSpec`
holds: the default ``module``, the docstring (paper, parameter count, paper
recipe), the paper's patience, recipe adjustments and the tiny test settings.
:func:`define_estimators` makes one class per registry entry and kind, so a new
network needs no class written by hand.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, MutableMapping

from . import _registry
from ._registry import NetworkSpec

__all__ = ["define_estimators", "describe", "make_estimator"]


def _fill(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=76)


def _adjustments(spec: NetworkSpec) -> str:
    adjusted = spec.recipe_overrides.get("recommended", {})
    if not adjusted:
        return ""
    settings = ", ".join(f"``{k}={v!r}``" for k, v in adjusted.items())
    return (f" Its defaults differ from the shared recommended recipe by {settings} "
            "(measured in ``docs/defaults.md``).")


def describe(spec: NetworkSpec, kind: str) -> str:
    """The docstring of the ``kind`` estimator of ``spec`` (before the shared sections)."""
    name = getattr(spec, kind)
    network = spec.module_class
    patience = f"early stopping patience {spec.paper_patience}"
    if kind == "regressor":
        count = ""
        if spec.n_parameters:
            note = f" ({spec.parameter_note})" if spec.parameter_note else ""
            count = f"{spec.n_parameters:,} parameters at ``width=1.0`` with 86 inputs{note}."
        head = f"{network} ({spec.paper}): {spec.summary}."
        body = (f"{spec.details} {count}{_adjustments(spec)} Paper recipe "
                f"(``from_recipe(\"paper\")``): Adam 1e-4, batch 32, {patience}. Network "
                f"settings go in ``module__*`` (see :class:`skmatnet.nets.{network}`).")
        example = (f">>> model = make_pipeline(ElementFractionTransformer(),\n"
                   f"...                       {name}(max_time=120))\n"
                   f">>> paper = make_pipeline(ElementFractionTransformer(),\n"
                   f"...                       {name}.from_recipe(\"paper\"))")
    else:
        head = (f"{network} ({spec.paper}) as a classifier: a softmax over one output per "
                "class and cross-entropy.")
        see = (f":class:`{spec.regressor}`" if spec.regressor
               else f":class:`skmatnet.nets.{network}`")
        body = f"The network is {spec.summary}; see {see} for it and its paper recipe ({patience})."
        example = (f">>> model = make_pipeline(ElementFractionTransformer(),\n"
                   f"...                       {name}(max_time=120, class_weight=\"balanced\"))")
    return (f"{head}\n\n{_fill(body)}\n\nExamples\n--------\n"
            f">>> from sklearn.pipeline import make_pipeline\n"
            f">>> from skmatnet import ElementFractionTransformer, {name}\n{example}\n")


def make_estimator(spec: NetworkSpec, kind: str, base: type, network: type) -> type:
    """The ``kind`` estimator of network ``spec``: a subclass of ``base`` wrapping ``network``.

    The class belongs to ``base``'s module under the name the registry gives it;
    that module must bind it to that name (as :func:`define_estimators` does) for
    pickle to find it.
    """
    name = getattr(spec, kind)
    cls = None
    # The recommended recipe's adjustments for this network are its defaults (explicit
    # values win); get_params shows them, so clone and a grid search keep them.
    defaults = dict(spec.recipe_overrides.get("recommended", {}))

    # ``module=<network>`` in the signature: get_params, clone and sklearn's checks see
    # the network as the default, as they would for a hand-written subclass.
    def __init__(self, module=network, **kwargs):
        super(cls, self).__init__(module, **{**defaults, **kwargs})

    __init__.__qualname__ = f"{name}.__init__"
    __init__.__module__ = base.__module__
    namespace = {
        "__module__": base.__module__,
        "__qualname__": name,
        "__doc__": describe(spec, kind),
        "__init__": __init__,
        "_network_spec": spec,
        "_paper_patience": spec.paper_patience,
        "_recipe_overrides": {k: dict(v) for k, v in spec.recipe_overrides.items()},
        "_rate_falls_on_large_sets": spec.rate_falls_on_large_sets,
        "_rate_falls_on_small_sets": spec.rate_falls_on_small_sets,
        "_test_module_params": dict(spec.tiny_params),
    }
    cls = type(base)(name, (base,), namespace)
    return cls


def define_estimators(kind: str, base: type, networks: Mapping[str, type],
                      namespace: MutableMapping) -> list[str]:
    """Bind the ``kind`` estimator of every registered network in ``namespace`` (a module's
    globals); ``networks`` maps network names to classes (:data:`skmatnet.nets.NETWORKS`).
    Returns their names, in registry order."""
    names = []
    for spec in _registry.NETWORK_SPECS:
        name = getattr(spec, kind)
        if name is not None:
            namespace[name] = make_estimator(spec, kind, base, networks[spec.name])
            names.append(name)
    return names
