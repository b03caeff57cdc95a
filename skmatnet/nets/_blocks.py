"""Shared building blocks for the skmatnet networks.

Everything here is plain PyTorch: a dense layer with optional Keras-like batch
normalisation, activation and dropout (:class:`DenseBlock`), a fully connected
residual unit (:class:`ResidualUnit`), Glorot initialisation, parameter counting
and the argument checks used by every network constructor.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = [
    "ACTIVATIONS",
    "KERAS_BN_EPS",
    "KERAS_BN_MOMENTUM",
    "KERAS_LEAKY_SLOPE",
    "CompositionNet",
    "DenseBlock",
    "ResidualUnit",
    "count_parameters",
    "glorot_init_",
    "keras_batch_norm",
    "make_activation",
]

#: Keras ``BatchNormalization(momentum=0.99)`` expressed in torch's convention
#: (torch weights the *new* batch statistic, Keras the old running value).
KERAS_BN_MOMENTUM = 0.01
#: Keras ``BatchNormalization`` default epsilon (torch's default is 1e-5).
KERAS_BN_EPS = 1e-3
#: Keras ``LeakyReLU`` default negative slope (torch's default is 0.01).
KERAS_LEAKY_SLOPE = 0.3

#: Activation names understood by :func:`make_activation`.
ACTIVATIONS = ("relu", "leaky_relu", "elu", "selu", "gelu", "silu", "tanh")


# --------------------------------------------------------------------------- #
# Argument checks (shared by all constructors; messages name the argument)
# --------------------------------------------------------------------------- #
def check_int(name: str, value: object, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` >= ``minimum`` or raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_widths(name: str, value: object) -> tuple[int, ...]:
    """Return a non-empty sequence of positive ints as a tuple or raise ``ValueError``.

    Array-likes (anything with ``__array__``, e.g. a 1-d numpy array) are accepted too.
    """
    if not isinstance(value, Sequence) and hasattr(value, "__array__"):
        value = list(value)  # type: ignore[call-overload]
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"{name} must be a non-empty sequence of positive ints, got {value!r}")
    if len(value) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of positive ints, got {value!r}")
    out = []
    for w in value:
        if isinstance(w, bool) or not isinstance(w, numbers.Integral) or w < 1:
            raise ValueError(
                f"{name} must be a non-empty sequence of positive ints, got {value!r} "
                f"(bad entry {w!r})"
            )
        out.append(int(w))
    return tuple(out)


def check_nested_widths(name: str, value: object) -> tuple[tuple[int, ...], ...]:
    """Return a non-empty sequence of non-empty width sequences as nested tuples."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) == 0:
        raise ValueError(
            f"{name} must be a non-empty sequence of non-empty width sequences, got {value!r}"
        )
    return tuple(check_widths(f"{name}[{i}]", stage) for i, stage in enumerate(value))


class CompositionNet(nn.Module):
    """Base of the networks: what every one of them takes, checked once.

    ``n_features`` inputs (86 element fractions), ``n_outputs`` targets, and
    ``width_multiplier``, the one size knob (see :func:`scale_widths`).
    """

    def __init__(self, n_features: int, n_outputs: int, width_multiplier: float) -> None:
        super().__init__()
        self.n_features = check_int("n_features", n_features)
        self.n_outputs = check_int("n_outputs", n_outputs)
        self.width_multiplier = check_positive_float("width_multiplier", width_multiplier)


def scale_widths(widths: Sequence[int], multiplier: float) -> tuple[int, ...]:
    """Multiply every hidden width by ``multiplier`` (rounded, at least 1).

    The one size knob of every network: ``1.0`` is the published shape, and at
    equal training time a narrower network often reaches a lower error.
    """
    if multiplier == 1.0:
        return tuple(widths)
    return tuple(max(1, round(w * multiplier)) for w in widths)


def check_rate(name: str, value: object) -> float:
    """Return a dropout rate in ``[0, 1)`` as a float or raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def check_positive_float(name: str, value: object, *, allow_zero: bool = False) -> float:
    """Return a finite float > 0 (or >= 0 with ``allow_zero``) or raise ``ValueError``."""
    bound = ">= 0" if allow_zero else "> 0"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return v


def check_bool(name: str, value: object) -> bool:
    """Return ``value`` if it is a bool, else raise ``ValueError``."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_batch_norm_args(momentum: object, eps: object) -> tuple[float, float]:
    """Validate the ``bn_momentum`` / ``bn_eps`` pair shared by the BN networks."""
    m = check_positive_float("bn_momentum", momentum)
    if m > 1.0:
        raise ValueError(f"bn_momentum must be in (0, 1], got {momentum!r}")
    return m, check_positive_float("bn_eps", eps)


def width_runs(widths: Sequence[int]) -> list[tuple[int, int]]:
    """Split a per-layer width list into runs of equal consecutive widths.

    Returns ``(start, stop)`` index pairs, e.g. ``(8, 8, 4)`` -> ``[(0, 2), (2, 3)]``.
    """
    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(widths) + 1):
        if i == len(widths) or widths[i] != widths[start]:
            runs.append((start, i))
            start = i
    return runs


# --------------------------------------------------------------------------- #
# Factories and helpers
# --------------------------------------------------------------------------- #
def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters (``requires_grad``) of ``module``.

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    int
    """
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def glorot_init_(module: nn.Module) -> nn.Module:
    """Keras-default initialisation, in place: Glorot-uniform weights, zero biases.

    Applied to every :class:`torch.nn.Linear` inside ``module``. Batch-norm layers
    keep torch's defaults (scale 1, shift 0), which equal the Keras defaults.

    Parameters
    ----------
    module : torch.nn.Module
        Initialised in place.

    Returns
    -------
    torch.nn.Module
        ``module``, for chaining.
    """
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


def input_layers(module: nn.Module, n_features: int) -> list[nn.Linear]:
    """The :class:`torch.nn.Linear` layers of ``module`` that read its input directly.

    Found by running ``module`` once, in evaluation mode and without gradients,
    on two rows of zeros and recording the linear layers called on that very
    tensor (in a residual network: the first layer and its projection shortcut).

    Parameters
    ----------
    module : torch.nn.Module
        A network taking ``(batch, n_features)``.
    n_features : int
        Its number of inputs.

    Returns
    -------
    list of torch.nn.Linear
        In the order they were called; empty when no linear layer reads the input.
    """
    parameter = next(module.parameters(), None)
    x = torch.zeros(2, n_features, device=None if parameter is None else parameter.device)
    found: list[nn.Linear] = []

    def record(layer, args):
        if args and args[0] is x and layer not in found:
            found.append(layer)

    hooks = [m.register_forward_pre_hook(record) for m in module.modules()
             if isinstance(m, nn.Linear)]
    training = module.training
    try:
        module.eval()
        with torch.no_grad():
            module(x)
    finally:
        for hook in hooks:
            hook.remove()
        module.train(training)
    return found


def element_informed_init_(
    module: nn.Module, descriptors: Tensor, share: float = 0.85
) -> nn.Module:
    """Start the input layers partly from element properties, in place.

    Each layer reading the element fractions keeps the spread of its current
    (Glorot) weights ``G`` and becomes ``share * P + sqrt(1 - share**2) * G``,
    both parts scaled to that spread, where ``P = A @ descriptors.T`` with ``A``
    drawn from a standard normal (torch's global random state). An input unit
    then starts mostly as a random mix of composition-weighted mean properties,
    so chemically similar elements start with similar weights and an element
    rare or absent in the training rows starts like its neighbours in the
    periodic table; the random part keeps neighbours apart, so a small
    substitution (chromium for iron in a steel) still moves every unit.
    Biases are left as they are.

    Parameters
    ----------
    module : torch.nn.Module
        A network taking ``(batch, n_elements)`` element fractions.
    descriptors : torch.Tensor of shape (n_elements, n_properties)
        Standardised properties of each input element, in input order.
    share : float, default=0.85
        Weight of the property part, in [0, 1]: 0 leaves the weights as they are, 1
        starts from the properties alone.

    Returns
    -------
    torch.nn.Module
        ``module``, for chaining.
    """
    share = check_positive_float("share", share, allow_zero=True)
    if share > 1:
        raise ValueError(f"share must be in [0, 1], got {share!r}")
    n_elements = descriptors.shape[0]
    for layer in input_layers(module, n_elements):
        weight = layer.weight
        current = weight.detach().cpu().float()
        spread = current.std()
        properties = torch.randn(weight.shape[0], descriptors.shape[1]) @ (
            descriptors.to(torch.float32).cpu().T)
        start = (share * properties / properties.std()
                 + math.sqrt(1 - share * share) * current / spread) * spread
        with torch.no_grad():
            weight.copy_((start * (spread / start.std())).to(weight.device, weight.dtype))
    return module


def keras_batch_norm(
    num_features: int, momentum: float = KERAS_BN_MOMENTUM, eps: float = KERAS_BN_EPS
) -> nn.BatchNorm1d:
    """``BatchNorm1d`` with the Keras defaults (Keras momentum 0.99 == torch 0.01, eps 1e-3).

    Parameters
    ----------
    num_features : int
        Width of the layer normalised.
    momentum : float, default=KERAS_BN_MOMENTUM
        Momentum of the running statistics, in torch's convention (0.01).
    eps : float, default=KERAS_BN_EPS
        Added to the variance (1e-3).

    Returns
    -------
    torch.nn.BatchNorm1d
    """
    return nn.BatchNorm1d(num_features, momentum=momentum, eps=eps)


def make_activation(name: str, negative_slope: float = KERAS_LEAKY_SLOPE) -> nn.Module:
    """Build an activation module by name (see :data:`ACTIVATIONS`).

    ``negative_slope`` is used by ``"leaky_relu"`` only.
    """
    check_choice("activation", name, ACTIVATIONS)
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    if name == "elu":
        return nn.ELU()
    if name == "selu":
        return nn.SELU()
    if name == "gelu":
        return nn.GELU()
    if name == "silu":
        return nn.SiLU()
    return nn.Tanh()


# --------------------------------------------------------------------------- #
# Layers
# --------------------------------------------------------------------------- #
class DenseBlock(nn.Sequential):
    """``Linear -> [BatchNorm1d] -> activation -> [Dropout]``.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the linear layer (which always has a bias, as Keras ``Dense``).
    activation : str or None, default="relu"
        Activation name (see :data:`ACTIVATIONS`); ``None`` for a linear layer.
    negative_slope : float, default=0.3
        Slope of ``"leaky_relu"``.
    batch_norm : bool, default=False
        Insert a Keras-like ``BatchNorm1d`` between the linear layer and the activation.
    bn_momentum, bn_eps : float
        Batch-norm settings in torch's convention (Keras defaults 0.01 and 1e-3).
    dropout : float, default=0.0
        Dropout rate after the activation (no dropout layer when 0).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        activation: str | None = "relu",
        negative_slope: float = KERAS_LEAKY_SLOPE,
        batch_norm: bool = False,
        bn_momentum: float = KERAS_BN_MOMENTUM,
        bn_eps: float = KERAS_BN_EPS,
        dropout: float = 0.0,
    ) -> None:
        layers: list[nn.Module] = [nn.Linear(in_features, out_features)]
        if batch_norm:
            layers.append(keras_batch_norm(out_features, bn_momentum, bn_eps))
        if activation is not None:
            layers.append(make_activation(activation, negative_slope))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        super().__init__(*layers)
        self.in_features = in_features
        self.out_features = out_features


class ResidualUnit(nn.Module):
    """Fully connected residual unit ``out = body(h) + shortcut(h)``.

    ``body`` is a :class:`DenseBlock`. The shortcut is the identity when the width
    is unchanged and a learned linear projection (``Linear`` with bias, no
    activation, no batch norm) when it changes. With ``skip=False`` there is no
    shortcut and ``out = body(h)``. There is no activation after the addition.

    Parameters
    ----------
    in_features, out_features : int
        Input and output widths.
    skip : bool, default=True
        Whether to add the shortcut.
    **block_kwargs
        Passed to :class:`DenseBlock` (activation, negative_slope, batch_norm, ...).

    Attributes
    ----------
    body : DenseBlock
    shortcut : torch.nn.Identity, torch.nn.Linear or None
    """

    def __init__(
        self, in_features: int, out_features: int, *, skip: bool = True, **block_kwargs: object
    ) -> None:
        super().__init__()
        self.body = DenseBlock(in_features, out_features, **block_kwargs)  # type: ignore[arg-type]
        self.shortcut: nn.Module | None
        if not skip:
            self.shortcut = None
        elif in_features == out_features:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Linear(in_features, out_features)
        self.in_features = in_features
        self.out_features = out_features

    def forward(self, h: Tensor) -> Tensor:
        out = self.body(h)
        if self.shortcut is not None:
            out = out + self.shortcut(h)
        return out
