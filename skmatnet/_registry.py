"""The one list of skmatnet's networks: each named once, with everything derived from it.

``skmatnet.nets.NETWORKS``, the lazy estimator exports of :mod:`skmatnet`, the
classes :func:`skmatnet.save_model` may write, the benchmark's model names, the
command-line help and the test parametrisation all read this table, so adding
a network (or one more estimator kind per network) is one entry here.

Everything is a string, so this module imports nothing: the featurizer,
datasets, benchmark configuration and command line stay torch-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "ESTIMATOR_KINDS",
    "ESTIMATOR_MODULES",
    "NETWORK_SPECS",
    "NetworkSpec",
    "estimator_module",
    "estimator_names",
    "get_spec",
    "network_names",
]

#: The estimator kinds a network may have, each a field of :class:`NetworkSpec` naming the
#: class in :mod:`skmatnet` (``None`` where a network lacks that kind).
ESTIMATOR_KINDS = ("regressor", "classifier")
#: The submodule of :mod:`skmatnet` that defines the estimators of each kind.
ESTIMATOR_MODULES = {"regressor": "estimators", "classifier": "classifiers"}


@dataclass(frozen=True)
class NetworkSpec:
    """One published network.

    Attributes
    ----------
    name : str
        Lower-case name used everywhere (``"brnet"``): ``nets.get_network``,
        ``skmatnet benchmark --models``, result tables.
    module : str
        The :class:`torch.nn.Module` as ``"package.module:Class"``.
    regressor : str or None
        Name of the scikit-learn regressor in :mod:`skmatnet`.
    classifier : str or None
        Name of the scikit-learn classifier in :mod:`skmatnet`.
    n_parameters : int or None
        Trainable parameters of the default network with 86 inputs and one
        output, as published (``None`` where the paper gives none).
    paper : str
        Short citation.
    in_default_benchmark : bool
        Part of the BRNet paper's comparison, the benchmark's default models.
    parameter_note : str
        Qualifies ``n_parameters`` (e.g. a differing number in the paper's table).
    summary : str
        What the network is, in one phrase, for the estimators' docstrings.
    details : str
        Further docstring text on the network's settings (``module__*``).
    paper_patience : int
        The paper's early-stopping patience (``from_recipe("paper")``).
    recipe_overrides : Mapping
        Recipe name (``skmatnet._recipes.RECIPES``) -> estimator parameters this
        network trains with instead of the recipe's shared ones; empty: none.
        The ``"recommended"`` ones are the defaults of its estimators (shown by
        ``get_params``; explicit values win), so ``"paper"`` must undo any the
        papers did not have.
    rate_falls_on_large_sets : bool
        Whether the recommended recipe lowers its peak rate on sets above
        16,384 rows (``skmatnet._adaptive``); ``False`` where that was measured
        to hurt the network.
    rate_falls_on_small_sets : bool
        Whether the recommended recipe lowers a regressor's peak rate on sets
        whose schedule runs more than 100 epochs (fewer than about 320 rows);
        ``False`` where that was measured to hurt the network.
    tiny_params : Mapping
        ``module__*`` settings of a tiny network with the published structure:
        the test suite's estimators (``_get_test_params``), ``--tiny`` runs and the
        network tests (``tests/nets/conftest.py``) all build it.
    """

    name: str
    module: str
    regressor: str | None
    classifier: str | None
    n_parameters: int | None
    paper: str
    in_default_benchmark: bool = False
    parameter_note: str = ""
    summary: str = ""
    details: str = ""
    paper_patience: int = 100
    # Mappings are not hashable: left out of the spec's hash, kept in its equality.
    recipe_overrides: Mapping[str, Mapping] = field(default_factory=dict, hash=False)
    rate_falls_on_large_sets: bool = True
    rate_falls_on_small_sets: bool = True
    tiny_params: Mapping = field(default_factory=dict, hash=False)

    @property
    def module_path(self) -> str:
        """str : The module defining the network class (``"skmatnet.nets.brnet"``)."""
        return self.module.partition(":")[0]

    @property
    def module_class(self) -> str:
        """str : The network class name (``"BRNet"``)."""
        return self.module.partition(":")[2]

    def estimators(self) -> dict[str, str]:
        """Estimator kind -> class name in :mod:`skmatnet`, for the kinds this network has."""
        return {kind: getattr(self, kind) for kind in ESTIMATOR_KINDS
                if getattr(self, kind) is not None}


#: Every network, in the order tables and benchmarks list them.
NETWORK_SPECS: tuple[NetworkSpec, ...] = (
    NetworkSpec(
        "elemnet", "skmatnet.nets.elemnet:ElemNet", regressor="ElemNetRegressor",
        classifier="ElemNetClassifier", n_parameters=4_631_361,
        paper="Jha et al., Sci. Rep. 2018", in_default_benchmark=True,
        summary="a 17-layer fully connected network", paper_patience=200,
        # Its dropout is what spoilt it under the shared recipe: with the published rates
        # the validation loss was lowest at epoch 15 of 100 and jumped between epochs
        # (JARVIS formation energy 0.1761 eV/atom, MP 0.1765), without dropout it fell to
        # the end (0.1324, MP 0.0840). AdamW's decay at 0.1 was measured with dropout
        # (0.1761 against 0.1845 at 0.01). The papers' recipe keeps the published rates
        # (ELEMNET_DROPOUT).
        recipe_overrides={"recommended": {"optimizer__weight_decay": 0.1,
                                          "module__dropout": 0.0},
                          "paper": {"optimizer__weight_decay": 0.0,
                                    "module__dropout": (0.2, 0.1, 0.3, 0.2)}},
        # Lower peak rates hurt it (with its dropout): 1e-3 instead of 3.7e-3 on JARVIS
        # formation energy 0.2155 against 0.1845; on MP the falling rate (1.9e-3) 0.2020.
        rate_falls_on_large_sets=False,
        tiny_params=dict(widths=(16, 16, 8, 4), dropout=(0.2, 0.1)),
    ),
    NetworkSpec(
        "irnet", "skmatnet.nets.irnet:IRNet", regressor="IRNetRegressor",
        classifier="IRNetClassifier", n_parameters=5_433_697, paper="Jha et al., KDD 2019",
        in_default_benchmark=True, parameter_note="paper table: 5,461,473",
        summary="ElemNet's layers with BatchNorm and residual shortcuts",
        details="``module__depth`` picks 17 (default), 24 or 48 layers; "
                "``module__variant=\"concat\"`` gives Tatis et al.'s concatenating form.",
        paper_patience=200,
        # It has batch norm: on 100 rows the lower rate of a long schedule hurt it (JARVIS band
        # gap, eight draws: 0.623 eV at 1e-3, 0.706 at 3.5e-4), as it helped the networks without.
        rate_falls_on_small_sets=False,
        tiny_params=dict(widths=(16, 16, 8, 4)),
    ),
    NetworkSpec(
        "bnet", "skmatnet.nets.brnet:BNet", regressor="BNetRegressor",
        classifier="BNetClassifier", n_parameters=3_670_849, paper="Gupta et al., SDM 2022",
        in_default_benchmark=True, summary="BRNet without its residual shortcuts",
        tiny_params=dict(stage_widths=(16, 8, 4), stage_layers=(2, 2, 1), branch_layers=(2, 2)),
    ),
    NetworkSpec(
        "brnet", "skmatnet.nets.brnet:BRNet", regressor="BRNetRegressor",
        classifier="BRNetClassifier", n_parameters=4_548_385, paper="Gupta et al., SDM 2022",
        in_default_benchmark=True,
        summary="branched residual network, the best of the papers",
        details="Two branches read the raw input and merge by addition "
                "(1,227,665 parameters at the default ``width=0.5``).",
        tiny_params=dict(stage_widths=(16, 8, 4), stage_layers=(2, 2, 1), branch_layers=(2, 2)),
    ),
    NetworkSpec(
        "fcmnr", "skmatnet.nets.fcmnr:FCMnR", regressor="FCMnRRegressor",
        classifier="FCMnRClassifier", n_parameters=None,
        paper="Tatis et al., IEEE Big Data 2021",
        summary="fully connected merge-and-run network",
        details="``module__stream_width`` sets the width of its two streams.",
        paper_patience=200,
        # It has batch norm: on 100 rows the lower rate of a long schedule hurt it (JARVIS band
        # gap, eight draws: 0.678 eV at 1e-3, 0.715 at 3.5e-4), as it helped the networks without.
        rate_falls_on_small_sets=False,
        # One merge-and-run block and one layer per tower: every part still runs, and the
        # suite's fits cost half as much (the layouts are tested in tests/nets).
        tiny_params=dict(n_blocks=1, stream_width=8, stem_widths=(16,), entry_widths=(8,),
                         block_widths=(16,), head_widths=(8,)),
    ),
    NetworkSpec(
        "fcunet", "skmatnet.nets.fcunet:FCUNet", regressor="FCUNetRegressor",
        classifier="FCUNetClassifier", n_parameters=None,
        paper="Tatis et al., IEEE Big Data 2021",
        summary="fully connected U-Net with concatenating skips", paper_patience=200,
        # It has batch norm: on 100 rows the lower rate of a long schedule hurt it (JARVIS band
        # gap, eight draws: 0.565 eV at 1e-3, 0.607 at 3.5e-4), as it helped the networks without.
        rate_falls_on_small_sets=False,
        tiny_params=dict(encoder_widths=((16, 16), (8,), (4,)), decoder_widths=((8,), (8, 4))),
    ),
)


def network_names() -> tuple[str, ...]:
    """The network names, in table order."""
    return tuple(spec.name for spec in NETWORK_SPECS)


def estimator_names(kind: str | None = None) -> tuple[str, ...]:
    """Names of the per-network estimator classes in :mod:`skmatnet`, in table order.

    Parameters
    ----------
    kind : str or None
        One of :data:`ESTIMATOR_KINDS`; ``None``: every kind.
    """
    kinds = ESTIMATOR_KINDS if kind is None else (kind,)
    return tuple(name for spec in NETWORK_SPECS for k, name in spec.estimators().items()
                 if k in kinds)


def estimator_module(name: str) -> str:
    """The submodule of :mod:`skmatnet` defining estimator class ``name``."""
    for spec in NETWORK_SPECS:
        for kind, class_name in spec.estimators().items():
            if class_name == name:
                return ESTIMATOR_MODULES[kind]
    raise ValueError(f"{name!r} is not a per-network estimator")


def get_spec(name: str) -> NetworkSpec:
    """The entry of network ``name`` (case-insensitive).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    key = name.lower() if isinstance(name, str) else name
    for spec in NETWORK_SPECS:
        if spec.name == key:
            return spec
    raise ValueError(f"name must be one of {sorted(network_names())}, got {name!r}")
