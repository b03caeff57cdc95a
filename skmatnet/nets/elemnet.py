"""ElemNet: a plain deep fully connected network on element fractions."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from torch import Tensor, nn

from ._blocks import (
    ACTIVATIONS,
    CompositionNet,
    DenseBlock,
    check_choice,
    check_rate,
    check_widths,
    glorot_init_,
    scale_widths,
    width_runs,
)

__all__ = ["ELEMNET_DROPOUT", "ELEMNET_WIDTHS", "ElemNet"]

#: The 17-layer ElemNet widths (16 hidden layers; the output layer is the 17th).
ELEMNET_WIDTHS: tuple[int, ...] = (
    (1024,) * 4 + (512,) * 3 + (256,) * 3 + (128,) * 3 + (64,) * 2 + (32,)
)
#: Drop rates after the 1024, 512, 256 and 128 blocks (TF keep-probs 0.8/0.9/0.7/0.8).
ELEMNET_DROPOUT: tuple[float, ...] = (0.2, 0.1, 0.3, 0.2)


class ElemNet(CompositionNet):
    """ElemNet (Jha et al., 2018): deep plain MLP with block-wise dropout.

    Every hidden layer is ``Linear -> activation``; a dropout layer follows the
    last layer of the first few *blocks* (maximal runs of equal consecutive widths);
    a linear ``Linear(widths[-1], n_outputs)`` gives the output.

    Parameters
    ----------
    n_features : int, default=86
        Input width (86 element fractions in the ElemNet order).
    n_outputs : int, default=1
        Number of regression targets.
    width_multiplier : float, default=1.0
        Multiplies every hidden width (rounded, at least 1); 1.0 is the
        published network.
    widths : sequence of int, default=(1024,)*4 + (512,)*3 + (256,)*3 + (128,)*3 + (64,)*2 + (32,)
        Width of each hidden layer, in order.
    dropout : float or sequence of float, default=(0.2, 0.1, 0.3, 0.2)
        Drop rate applied after the last layer of block ``i`` (``dropout[i]``).
        Blocks beyond ``len(dropout)`` get no dropout; entries beyond the number of
        blocks are not used (so the default also works for a custom two-block
        ``widths``). A single float applies the same rate after every block.
        A rate of 0 adds no dropout layer. Rates must lie in ``[0, 1)``.
    activation : str, default="relu"
        Hidden activation, one of ``"relu", "leaky_relu", "elu", "selu", "gelu",
        "silu", "tanh"``.

    Attributes
    ----------
    hidden : torch.nn.Sequential
        The hidden :class:`~skmatnet.nets._blocks.DenseBlock` layers.
    output : torch.nn.Linear
        The linear output layer.

    Notes
    -----
    Reference: D. Jha, L. Ward, A. Paul, W. Liao, A. Choudhary, C. Wolverton,
    A. Agrawal, "ElemNet: Deep Learning the Chemistry of Materials From Only
    Elemental Composition", *Scientific Reports* 8, 17593 (2018).

    Defaults follow the authors' TensorFlow code: Glorot(Xavier)-uniform weights
    and zero biases, ReLU, no batch normalisation, no skip connections, dropout
    rates 0.2/0.1/0.3/0.2 (the code stores keep-probabilities 0.8/0.9/0.7/0.8).
    The default network has **4,631,361** trainable parameters for 86 inputs and
    one output.

    Deviation from the original code: there dropout stayed active at evaluation
    time; here dropout is a standard :class:`torch.nn.Dropout`, so ``eval()``
    disables it and predictions are deterministic.
    """

    def __init__(
        self,
        n_features: int = 86,
        n_outputs: int = 1,
        *,
        widths: Sequence[int] = ELEMNET_WIDTHS,
        dropout: float | Sequence[float] = ELEMNET_DROPOUT,
        activation: str = "relu",
        width_multiplier: float = 1.0,
    ) -> None:
        super().__init__(n_features, n_outputs, width_multiplier)
        widths = check_widths("widths", widths)
        # Dropout follows the published blocks, so the runs come from the unscaled widths.
        runs = width_runs(widths)
        self.widths = scale_widths(widths, self.width_multiplier)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        if isinstance(dropout, numbers.Real) and not isinstance(dropout, bool):
            rates = (check_rate("dropout", dropout),) * len(runs)
        elif isinstance(dropout, Sequence) and not isinstance(dropout, (str, bytes)):
            rates = tuple(check_rate(f"dropout[{i}]", r) for i, r in enumerate(dropout))
        else:
            raise ValueError(
                f"dropout must be a float or a sequence of floats in [0, 1), got {dropout!r}"
            )
        self.dropout = rates

        # per-layer rate: dropout after the last layer of block i
        layer_rates = [0.0] * len(self.widths)
        for (_, stop), rate in zip(runs, rates, strict=False):
            layer_rates[stop - 1] = rate

        layers = []
        in_features = self.n_features
        for width, rate in zip(self.widths, layer_rates, strict=True):
            layers.append(DenseBlock(in_features, width, activation=activation, dropout=rate))
            in_features = width
        self.hidden = nn.Sequential(*layers)
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
        return self.output(self.hidden(x))
