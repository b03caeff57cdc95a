"""IRNet: individual residual network (additive) and Tatis' concatenating variant."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ._blocks import (
    ACTIVATIONS,
    KERAS_BN_EPS,
    KERAS_BN_MOMENTUM,
    CompositionNet,
    DenseBlock,
    ResidualUnit,
    check_batch_norm_args,
    check_bool,
    check_choice,
    check_widths,
    glorot_init_,
    scale_widths,
)

__all__ = ["IRNET_VARIANTS", "IRNET_WIDTHS", "IRNet"]

#: Hidden widths of the published IRNet depths (the output layer adds one).
IRNET_WIDTHS: dict[int, tuple[int, ...]] = {
    17: (1024,) * 4 + (512,) * 3 + (256,) * 3 + (128,) * 3 + (64,) * 2 + (32,),
    24: (1024,) * 4 + (512,) * 4 + (256,) * 4 + (128,) * 4 + (64,) * 3 + (32,) * 2 + (16,) * 2,
    48: ((1024,) * 8 + (512,) * 8 + (256,) * 8 + (128,) * 8 + (64,) * 8 + (32,) * 4 + (16,) * 3),
}
IRNET_VARIANTS = ("additive", "concat")


class IRNet(CompositionNet):
    """IRNet (Jha et al., 2019): a residual connection around every layer.

    ``variant="additive"`` (the published IRNet): every hidden layer is
    ``h <- ReLU(BN(Linear(h))) + s(h)`` with ``s`` the identity when the width is
    unchanged and a learned linear projection (``Linear`` with bias, no BN, no
    activation) when it changes, including the first layer ``n_features -> 1024``.
    There is no activation after the addition.

    ``variant="concat"`` (the "IRNet" of Tatis et al., DenseNet-style): with
    ``m_0 = x``, layer ``k`` computes ``m_k = concat(m_{k-1}, ReLU(BN(Linear_k(m_{k-1}))))``,
    so layer ``k`` reads ``n_features + sum(widths[:k-1])`` features and the
    output layer reads ``n_features + sum(widths)``.

    Both variants end in a linear ``Linear(., n_outputs)``.

    Parameters
    ----------
    n_features : int, default=86
        Input width.
    n_outputs : int, default=1
        Number of regression targets.
    width_multiplier : float, default=1.0
        Multiplies every hidden width (rounded, at least 1); 1.0 is the
        published network.
    depth : {17, 24, 48} or None, default=None
        Published preset (counting the output layer): IRNet-17 =
        1024×4, 512×3, 256×3, 128×3, 64×2, 32; IRNet-24 = 1024×4, 512×4, 256×4,
        128×4, 64×3, 32×2, 16×2; IRNet-48 = 1024×8, 512×8, 256×8, 128×8, 64×8,
        32×4, 16×3. ``None`` means 17 unless ``widths`` is given. Give ``depth``
        or ``widths``, not both.
    widths : sequence of int or None, default=None
        Explicit hidden widths (overrides the preset).
    variant : {"additive", "concat"}, default="additive"
        Additive residual (Jha et al.) or concatenating (Tatis et al.) form.
    batch_norm : bool, default=True
        Batch normalisation after every hidden ``Linear``.
    bn_momentum : float, default=0.01
        Torch momentum of the running statistics (Keras momentum 0.99).
    bn_eps : float, default=1e-3
        Batch-norm epsilon (Keras default).
    activation : str, default="relu"
        Hidden activation (see :data:`skmatnet.nets._blocks.ACTIVATIONS`).

    Attributes
    ----------
    hidden : torch.nn.ModuleList
        :class:`~skmatnet.nets._blocks.ResidualUnit` (additive) or
        :class:`~skmatnet.nets._blocks.DenseBlock` (concat) layers.
    output : torch.nn.Linear

    Notes
    -----
    References: D. Jha, L. Ward, Z. Yang, C. Wolverton, I. Foster, W. Liao,
    A. Choudhary, A. Agrawal, "IRNet: A General Purpose Deep Residual Regression
    Framework for Materials Discovery", *KDD 2019*. The concatenating variant is
    from D. Tatis, H. Sierra, E. Arzuaga, "Residual Neural Network Architectures to
    Improve Prediction Accuracy of Properties of Materials", *IEEE Big Data 2021*.

    Defaults: Glorot-uniform weights and zero biases on every ``Linear``,
    ``BatchNorm1d(momentum=0.01, eps=1e-3)`` (Keras defaults), ReLU. The default
    IRNet-17 (additive) has **5,433,697** trainable parameters for 86 inputs and
    one output (the BRNet paper's table quotes 5,461,473).

    Deviation from the original code: there batch normalisation used batch
    statistics at evaluation time; here ``eval()`` uses the running statistics,
    so a prediction does not depend on the other rows of its batch.
    """

    def __init__(
        self,
        n_features: int = 86,
        n_outputs: int = 1,
        *,
        depth: int | None = None,
        widths: Sequence[int] | None = None,
        variant: str = "additive",
        batch_norm: bool = True,
        bn_momentum: float = KERAS_BN_MOMENTUM,
        bn_eps: float = KERAS_BN_EPS,
        activation: str = "relu",
        width_multiplier: float = 1.0,
    ) -> None:
        super().__init__(n_features, n_outputs, width_multiplier)
        if depth is not None and widths is not None:
            raise ValueError(
                f"give either depth or widths, not both (got depth={depth!r}, widths={widths!r})"
            )
        if widths is None:
            d = 17 if depth is None else depth
            if isinstance(d, bool) or d not in IRNET_WIDTHS:
                raise ValueError(f"depth must be one of {sorted(IRNET_WIDTHS)}, got {depth!r}")
            self.widths = IRNET_WIDTHS[d]
        else:
            self.widths = check_widths("widths", widths)
        self.widths = scale_widths(self.widths, self.width_multiplier)
        self.depth = depth
        self.variant = check_choice("variant", variant, IRNET_VARIANTS)
        self.batch_norm = check_bool("batch_norm", batch_norm)
        bn_momentum, bn_eps = check_batch_norm_args(bn_momentum, bn_eps)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        block_kwargs = dict(
            activation=activation,
            batch_norm=batch_norm,
            bn_momentum=bn_momentum,
            bn_eps=bn_eps,
        )

        layers: list[nn.Module] = []
        in_features = self.n_features
        for width in self.widths:
            if self.variant == "additive":
                layers.append(ResidualUnit(in_features, width, **block_kwargs))
                in_features = width
            else:
                layers.append(DenseBlock(in_features, width, **block_kwargs))
                in_features += width
        self.hidden = nn.ModuleList(layers)
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
        h = x
        if self.variant == "additive":
            for layer in self.hidden:
                h = layer(h)
        else:
            for layer in self.hidden:
                h = torch.cat([h, layer(h)], dim=1)
        return self.output(h)
