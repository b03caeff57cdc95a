"""Parameter counts: the published numbers and analytic counts computed from the widths."""

from __future__ import annotations

import pytest

from skmatnet.nets import (
    NETWORKS,
    BNet,
    BRNet,
    ElemNet,
    FCMnR,
    FCUNet,
    IRNet,
    count_parameters,
    get_network,
)

ELEMNET_17 = (1024,) * 4 + (512,) * 3 + (256,) * 3 + (128,) * 3 + (64,) * 2 + (32,)
IRNET_24 = (1024,) * 4 + (512,) * 4 + (256,) * 4 + (128,) * 4 + (64,) * 3 + (32,) * 2 + (16,) * 2
IRNET_48 = (
    (1024,) * 4 + (1024,) * 4 + (512,) * 4 + (512,) * 4 + (256,) * 4 + (256,) * 4
    + (128,) * 4 + (128,) * 4 + (64,) * 4 + (64,) * 4 + (32,) * 4 + (16,) * 3
)  # fmt: skip
#: BRNet stage widths and unbranched stage depths
BRNET_STAGES = ((1024, 512, 256, 128, 64, 32), (4, 3, 3, 3, 2, 1))


def dense(n_in: int, n_out: int) -> int:
    """Weights and bias of a Keras Dense / torch Linear layer."""
    return n_in * n_out + n_out


def bn(width: int) -> int:
    """Trainable parameters (scale and shift) of a batch-norm layer."""
    return 2 * width


def mlp_count(n_in: int, widths, n_out: int = 1) -> int:
    total = 0
    for w in widths:
        total += dense(n_in, w)
        n_in = w
    return total + dense(n_in, n_out)


def irnet_count(n_in: int, widths, n_out: int = 1, variant: str = "additive") -> int:
    total = 0
    for w in widths:
        total += dense(n_in, w) + bn(w)
        if variant == "additive":
            total += dense(n_in, w) if n_in != w else 0
            n_in = w
        else:
            n_in += w
    return total + dense(n_in, n_out)


def brnet_count(n_in, stage_widths, stage_layers, branch_stage, branch_layers, skip, n_out=1):
    def unit(a: int, b: int) -> int:
        return dense(a, b) + (dense(a, b) if skip and a != b else 0)

    total = 0
    for s, width in enumerate(stage_widths):
        if s == branch_stage:
            for n in branch_layers:
                total += unit(n_in, width) + (n - 1) * unit(width, width)
        else:
            total += unit(n_in, width) + (stage_layers[s] - 1) * unit(width, width)
        n_in = width
    return total + dense(n_in, n_out)


def fcmnr_count(n_in, n_blocks, w, stem, entry, block, head, n_out=1) -> int:
    def tower(a: int, widths, n_bn: int) -> int:
        total = 0
        for i, width in enumerate(widths):
            total += dense(a, width) + (bn(width) if i < n_bn else 0)
            a = width
        return total + dense(a, w)  # the stream-width layer, no BN

    return (
        tower(n_in, stem, len(stem))
        + 2 * tower(w, entry, len(entry) - 1)
        + 2 * n_blocks * tower(w, block, len(block))
        + 2 * tower(w, head, len(head))
        + dense(w, n_out)
    )


def fcunet_count(n_in, encoder, decoder, n_out=1) -> int:
    total = 0
    skips = []
    for stage in encoder:
        for w in stage:
            total += dense(n_in, w) + bn(w)
            n_in = w
        skips.append(n_in)
    for j, stage in enumerate(decoder):
        n_in += skips[len(encoder) - 2 - j]
        for w in stage:
            total += dense(n_in, w) + bn(w)
            n_in = w
    return total + dense(n_in, n_out)


# --------------------------------------------------------------------------- #
# Published numbers (typed from the papers / ARCHITECTURES.md)
# --------------------------------------------------------------------------- #
def test_elemnet_published_count():
    assert mlp_count(86, ELEMNET_17) == 4_631_361
    assert count_parameters(ElemNet()) == 4_631_361


def test_irnet17_published_count():
    assert irnet_count(86, ELEMNET_17) == 5_433_697
    assert count_parameters(IRNet()) == 5_433_697
    assert count_parameters(IRNet(depth=17)) == 5_433_697


def test_brnet_published_count():
    assert brnet_count(86, *BRNET_STAGES, 0, (2, 2), True) == 4_548_385
    assert count_parameters(BRNet()) == 4_548_385


def test_bnet_published_count():
    assert brnet_count(86, *BRNET_STAGES, 0, (2, 2), False) == 3_670_849
    assert count_parameters(BNet()) == 3_670_849
    assert count_parameters(BRNet(skip=False)) == 3_670_849


# --------------------------------------------------------------------------- #
# Analytic counts from the widths
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(("depth", "widths"), [(24, IRNET_24), (48, IRNET_48)])
def test_irnet_deeper_presets(depth, widths):
    assert len(widths) + 1 == depth
    net = IRNet(depth=depth)
    assert net.widths == widths
    assert count_parameters(net) == irnet_count(86, widths)


def test_irnet_concat_count():
    assert count_parameters(IRNet(variant="concat")) == irnet_count(
        86, ELEMNET_17, variant="concat"
    )


@pytest.mark.parametrize(
    ("location", "stage", "branch_layers"),
    [
        ("top", 0, (3, 1)),
        ("top", 0, (1, 1, 1, 1)),
        ("middle1", 1, (2, 1)),
        ("middle2", 2, (1, 1, 1)),
        ("middle3", 3, (1, 1)),
    ],
)
@pytest.mark.parametrize("skip", [True, False])
def test_brnet_branch_configs(location, stage, branch_layers, skip):
    net = BRNet(skip=skip, branch_location=location, branch_layers=branch_layers)
    expected = brnet_count(86, *BRNET_STAGES, stage, branch_layers, skip)
    assert count_parameters(net) == expected


@pytest.mark.parametrize("stream_width", [1, 64])
def test_fcmnr_default_count(stream_width):
    net = FCMnR(stream_width=stream_width)
    expected = fcmnr_count(86, 5, stream_width, (1024, 1024), (512, 128), (1024, 512), (512, 256))
    assert count_parameters(net) == expected
    # plausible size: a few million parameters, dominated by the 10 branches
    assert 5_000_000 < expected < 10_000_000


def test_fcmnr_block_count_scaling():
    small = count_parameters(FCMnR(n_blocks=2, stream_width=1))
    big = count_parameters(FCMnR(n_blocks=4, stream_width=1))
    per_block = 2 * (dense(1, 1024) + bn(1024) + dense(1024, 512) + bn(512) + dense(512, 1))
    assert big - small == 2 * per_block


def test_fcunet_default_count():
    encoder = ((1024,) * 4, (512,) * 3, (256,) * 3, (128,) * 3, (64,) * 3)
    decoder = ((128,) * 3, (256,) * 3, (256, 256, 128), (64, 32, 16))
    expected = fcunet_count(86, encoder, decoder)
    assert count_parameters(FCUNet()) == expected
    assert 4_000_000 < expected < 7_000_000


def test_tiny_counts(make_tiny):
    assert count_parameters(make_tiny("elemnet")) == mlp_count(86, (16, 16, 8, 4))
    assert count_parameters(make_tiny("irnet")) == irnet_count(86, (16, 16, 8, 8, 4))
    assert count_parameters(make_tiny("irnet_concat")) == irnet_count(
        86, (16, 8, 4), variant="concat"
    )
    assert count_parameters(make_tiny("brnet_middle")) == brnet_count(
        86, (16, 8, 4), (2, 2, 1), 1, (1, 1, 1), True
    )
    assert count_parameters(make_tiny("fcmnr", n_features=10, n_outputs=3)) == fcmnr_count(
        10, 2, 4, (16,), (8, 4), (16, 8), (8,), n_out=3
    )
    assert count_parameters(make_tiny("fcunet", n_outputs=2)) == fcunet_count(
        86, ((16, 16), (8,), (4,)), ((8,), (6, 4)), n_out=2
    )


def test_count_parameters_ignores_frozen():
    net = ElemNet(widths=(4,), dropout=())
    assert count_parameters(net) == dense(86, 4) + dense(4, 1)
    net.output.weight.requires_grad_(False)
    assert count_parameters(net) == dense(86, 4) + 1  # only the output bias is left


def test_registry():
    assert set(NETWORKS) == {"elemnet", "irnet", "bnet", "brnet", "fcmnr", "fcunet"}
    assert get_network("BRNet") is BRNet
    assert get_network("bnet") is BNet
    with pytest.raises(ValueError, match="name"):
        get_network("resnet")
