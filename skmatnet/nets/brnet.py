"""BRNet (branched residual network) and BNet (the same without skip connections)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from torch import Tensor, nn

from ._blocks import (
    KERAS_LEAKY_SLOPE,
    CompositionNet,
    ResidualUnit,
    check_bool,
    check_positive_float,
    check_widths,
    glorot_init_,
    scale_widths,
)

__all__ = [
    "BRANCH_LOCATIONS",
    "BRNET_STAGE_LAYERS",
    "BRNET_STAGE_WIDTHS",
    "BNet",
    "BRNet",
]

#: Width of each stage of the trunk.
BRNET_STAGE_WIDTHS: tuple[int, ...] = (1024, 512, 256, 128, 64, 32)
#: Layers of each stage when the stage is *not* the branched one.
BRNET_STAGE_LAYERS: tuple[int, ...] = (4, 3, 3, 3, 2, 1)
#: Named branching locations of the BRNet paper (Table 2) -> stage index.
BRANCH_LOCATIONS: dict[str, int] = {"top": 0, "middle1": 1, "middle2": 2, "middle3": 3}


def _as_stage_index(location: object, n_stages: int) -> int:
    if isinstance(location, str):
        if location not in BRANCH_LOCATIONS:
            raise ValueError(
                f"branch_location must be one of {list(BRANCH_LOCATIONS)} or a stage index, "
                f"got {location!r}"
            )
        index = BRANCH_LOCATIONS[location]
    elif isinstance(location, numbers.Integral) and not isinstance(location, bool):
        index = int(location)
    else:
        raise ValueError(
            f"branch_location must be one of {list(BRANCH_LOCATIONS)} or a stage index, "
            f"got {location!r}"
        )
    if not 0 <= index < n_stages:
        raise ValueError(
            f"branch_location {location!r} points at stage {index}, but there are only "
            f"{n_stages} stages (stage_widths)"
        )
    return index


class BRNet(CompositionNet):
    """BRNet (Gupta et al., 2022): branched residual network.

    Residual unit: ``out = LeakyReLU(Linear(h)) + s(h)`` with ``s`` the identity
    when the width is unchanged and a learned linear projection (``Linear`` with
    bias, no activation) when it changes; no activation after the addition.
    With ``skip=False`` there is no shortcut at all (``out = LeakyReLU(Linear(h))``),
    which is BNet (see :class:`BNet`).

    The trunk is a sequence of width *stages* (``stage_widths``, ``stage_layers``
    units each). One stage, chosen by ``branch_location``, is *branched*: it is
    replaced by ``len(branch_layers)`` parallel branches with independent weights,
    branch ``i`` made of ``branch_layers[i]`` residual units of that stage's width.
    All branches are fed the same tensor (the raw input for ``"top"``, else the
    output of the previous stage) and their outputs are merged by element-wise
    addition. The remaining stages run sequentially, then a linear
    ``Linear(stage_widths[-1], n_outputs)`` gives the output.

    Parameters
    ----------
    n_features : int, default=86
        Input width.
    n_outputs : int, default=1
        Number of regression targets.
    width_multiplier : float, default=1.0
        Multiplies every hidden width (rounded, at least 1); 1.0 is the
        published network.
    skip : bool, default=True
        Residual shortcuts on (BRNet) or off (BNet).
    stage_widths : sequence of int, default=(1024, 512, 256, 128, 64, 32)
        Width of each trunk stage.
    stage_layers : sequence of int, default=(4, 3, 3, 3, 2, 1)
        Residual units in each stage *when it is not branched*; same length as
        ``stage_widths``. The entry of the branched stage is not used, its depth
        comes from ``branch_layers`` (the default 4 for the 1024 stage is
        ElemNet's and equals ``sum((2, 2))``).
    branch_location : {"top", "middle1", "middle2", "middle3"} or int, default="top"
        Which stage is branched: ``"top"`` = stage 0 (1024), ``"middle1"`` /
        ``"middle2"`` / ``"middle3"`` = stages 1 / 2 / 3 (512 / 256 / 128 by
        default). An int selects any stage index.
    branch_layers : sequence of int, default=(2, 2)
        Residual units per branch, one entry per branch. The paper's Table 2 uses
        (2, 2), (3, 1), (2, 1, 1), (1, 1, 1, 1), (2, 1), (1, 1, 1) and (1, 1).
    negative_slope : float, default=0.3
        LeakyReLU negative slope (Keras default; torch's default would be 0.01).

    Attributes
    ----------
    pre : torch.nn.Sequential
        Residual units of the stages before the branched one (empty for "top").
    branches : torch.nn.ModuleList
        One :class:`torch.nn.Sequential` of residual units per branch.
    post : torch.nn.Sequential
        Residual units of the stages after the branched one.
    output : torch.nn.Linear

    Notes
    -----
    Reference: V. Gupta, W. Liao, A. Choudhary, A. Agrawal, "BRNet: Branched
    Residual Network for Fast and Accurate Predictive Modeling of Materials
    Properties", *SIAM International Conference on Data Mining (SDM) 2022*.

    Interpretation of the paper's Table 2 (branching location): the branched
    stage *replaces* one width stage of the trunk. ``"top"`` branches the 1024
    stage right on the raw input (the published network); ``"middle1/2/3"``
    branch the 512 / 256 / 128 stage, the earlier stages then running as plain
    sequential residual stages with ``stage_layers`` units (1024×4 by default).

    Defaults: Glorot-uniform weights and zero biases, LeakyReLU(0.3), no batch
    norm, no dropout. The default network (two branches of 1024×2 on the raw
    input, trunk 512×3, 256×3, 128×3, 64×2, 32×1) has **4,548,385** trainable
    parameters for 86 inputs and one output; with ``skip=False`` (BNet)
    **3,670,849**, as in the paper's Table 1.
    """

    def __init__(
        self,
        n_features: int = 86,
        n_outputs: int = 1,
        *,
        skip: bool = True,
        stage_widths: Sequence[int] = BRNET_STAGE_WIDTHS,
        stage_layers: Sequence[int] = BRNET_STAGE_LAYERS,
        branch_location: str | int = "top",
        branch_layers: Sequence[int] = (2, 2),
        negative_slope: float = KERAS_LEAKY_SLOPE,
        width_multiplier: float = 1.0,
    ) -> None:
        super().__init__(n_features, n_outputs, width_multiplier)
        self.skip = check_bool("skip", skip)
        self.stage_widths = scale_widths(
            check_widths("stage_widths", stage_widths), self.width_multiplier)
        self.stage_layers = check_widths("stage_layers", stage_layers)
        if len(self.stage_layers) != len(self.stage_widths):
            raise ValueError(
                f"stage_layers must have one entry per stage_widths entry "
                f"({len(self.stage_widths)}), got {stage_layers!r}"
            )
        self.branch_location = branch_location
        self.branch_stage = _as_stage_index(branch_location, len(self.stage_widths))
        self.branch_layers = check_widths("branch_layers", branch_layers)
        self.negative_slope = check_positive_float(
            "negative_slope", negative_slope, allow_zero=True
        )
        unit_kwargs = dict(skip=skip, activation="leaky_relu", negative_slope=negative_slope)

        def stage_units(in_features: int, width: int, n_layers: int) -> list[nn.Module]:
            units: list[nn.Module] = []
            for _ in range(n_layers):
                units.append(ResidualUnit(in_features, width, **unit_kwargs))
                in_features = width
            return units

        b = self.branch_stage
        pre: list[nn.Module] = []
        in_features = self.n_features
        for width, n_layers in zip(self.stage_widths[:b], self.stage_layers[:b], strict=True):
            pre += stage_units(in_features, width, n_layers)
            in_features = width
        self.pre = nn.Sequential(*pre)

        branch_width = self.stage_widths[b]
        self.branches = nn.ModuleList(
            nn.Sequential(*stage_units(in_features, branch_width, n)) for n in self.branch_layers
        )
        in_features = branch_width

        post: list[nn.Module] = []
        for width, n_layers in zip(
            self.stage_widths[b + 1 :], self.stage_layers[b + 1 :], strict=True
        ):
            post += stage_units(in_features, width, n_layers)
            in_features = width
        self.post = nn.Sequential(*post)
        self.output = nn.Linear(in_features, self.n_outputs)
        glorot_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        """Map ``x`` of shape ``(batch, n_features)`` to ``(batch, n_outputs)``.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_features)
            Element fractions, one row per composition.

        Returns
        -------
        torch.Tensor of shape (batch, n_outputs)
        """
        h = self.pre(x)
        merged = self.branches[0](h)
        for branch in self.branches[1:]:
            merged = merged + branch(h)
        return self.output(self.post(merged))


class BNet(BRNet):
    """BNet (Gupta et al., 2022): :class:`BRNet` without skip connections.

    Identical to :class:`BRNet` except that ``skip`` defaults to ``False``, so every
    unit is ``LeakyReLU(Linear(h))`` with no shortcut.

    Parameters
    ----------
    n_features : int, default=86
        Input width.
    n_outputs : int, default=1
        Number of regression targets.
    skip : bool, default=False
        Residual shortcuts off (BNet); ``True`` gives :class:`BRNet`.
    **kwargs
        Any other parameter of :class:`BRNet`.

    Notes
    -----
    No public code exists for BNet; it is built as BRNet with the skips off. The
    default network has **3,670,849** trainable parameters for 86 inputs and one
    output (paper Table 1).
    """

    def __init__(
        self, n_features: int = 86, n_outputs: int = 1, *, skip: bool = False, **kwargs: object
    ) -> None:
        super().__init__(n_features, n_outputs, skip=skip, **kwargs)  # type: ignore[arg-type]
