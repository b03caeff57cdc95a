"""Structure of the networks: branches, shortcuts, concatenation, skips, init, BN/activation."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from skmatnet.nets import BNet, BRNet, ElemNet, FCMnR, FCUNet, IRNet
from skmatnet.nets._blocks import DenseBlock, ResidualUnit


# --------------------------------------------------------------------------- #
# BRNet / BNet
# --------------------------------------------------------------------------- #
def test_brnet_default_layout():
    net = BRNet()
    assert len(net.pre) == 0
    assert len(net.branches) == 2
    for branch in net.branches:
        assert [u.out_features for u in branch] == [1024, 1024]
        assert branch[0].in_features == 86
    assert [u.out_features for u in net.post] == [512] * 3 + [256] * 3 + [128] * 3 + [64] * 2 + [32]
    assert net.output.in_features == 32
    # independent weights
    assert (
        net.branches[0][0].body[0].weight.data_ptr() != net.branches[1][0].body[0].weight.data_ptr()
    )


def test_brnet_branches_get_raw_input_and_merge_by_addition(make_tiny):
    net = make_tiny("brnet").eval()
    x = torch.rand(5, 86)
    seen = []
    hooks = [b.register_forward_hook(lambda m, inp, out: seen.append(inp[0])) for b in net.branches]
    out = net(x)
    for h in hooks:
        h.remove()
    assert len(seen) == 2
    for inp in seen:
        assert torch.equal(inp, x)  # the raw input, untouched
    merged = net.branches[0](x) + net.branches[1](x)
    assert torch.allclose(out, net.output(net.post(merged)))


def test_brnet_middle_branches_get_previous_stage_output(make_tiny):
    net = make_tiny("brnet_middle").eval()
    assert net.branch_stage == 1
    assert [u.out_features for u in net.pre] == [16, 16]
    assert len(net.branches) == 3
    assert all(len(b) == 1 and b[0].in_features == 16 for b in net.branches)
    x = torch.rand(4, 86)
    h = net.pre(x)
    merged = sum(b(h) for b in net.branches)
    assert torch.allclose(net(x), net.output(net.post(merged)))


def test_brnet_int_branch_location():
    a = BRNet(stage_widths=(8, 4, 2), stage_layers=(1, 1, 1), branch_location=2)
    assert a.branch_stage == 2
    assert len(a.post) == 0 and len(a.pre) == 2


def _units(net: nn.Module) -> list[ResidualUnit]:
    return [m for m in net.modules() if isinstance(m, ResidualUnit)]


def test_brnet_shortcut_types_and_values(make_tiny):
    net = make_tiny("brnet")
    units = _units(net)
    assert units
    h_by_width = {}
    for unit in units:
        if unit.in_features == unit.out_features:
            assert isinstance(unit.shortcut, nn.Identity)
        else:
            assert isinstance(unit.shortcut, nn.Linear)
            assert unit.shortcut.in_features == unit.in_features
            assert unit.shortcut.out_features == unit.out_features
        h = h_by_width.setdefault(unit.in_features, torch.randn(3, unit.in_features))
        body = nn.functional.leaky_relu(unit.body[0](h), 0.3)
        skip = h if unit.in_features == unit.out_features else unit.shortcut(h)
        assert torch.allclose(unit(h), body + skip, atol=1e-6)
    # one projection per width change: in the branches (86->16) and 16->8, 8->4
    n_proj = sum(isinstance(u.shortcut, nn.Linear) for u in units)
    assert n_proj == len(net.branches) + 2


def test_bnet_has_no_shortcuts(make_tiny):
    net = make_tiny("bnet")
    assert isinstance(net, BRNet) and net.skip is False
    for unit in _units(net):
        assert unit.shortcut is None
        h = torch.randn(3, unit.in_features)
        assert torch.allclose(unit(h), nn.functional.leaky_relu(unit.body[0](h), 0.3))
    assert BNet(skip=True, stage_widths=(4,), stage_layers=(1,)).skip is True


def test_brnet_leaky_slope_and_no_bn():
    net = BRNet()
    acts = [m for m in net.modules() if isinstance(m, (nn.ReLU, nn.LeakyReLU))]
    assert acts and all(isinstance(a, nn.LeakyReLU) and a.negative_slope == 0.3 for a in acts)
    assert not any(isinstance(m, (nn.BatchNorm1d, nn.Dropout)) for m in net.modules())
    custom = BRNet(stage_widths=(4,), stage_layers=(1,), negative_slope=0.1)
    assert all(m.negative_slope == 0.1 for m in custom.modules() if isinstance(m, nn.LeakyReLU))


# --------------------------------------------------------------------------- #
# IRNet
# --------------------------------------------------------------------------- #
def test_irnet_additive_layout():
    net = IRNet()
    first = net.hidden[0]
    assert isinstance(first.shortcut, nn.Linear)
    assert (first.shortcut.in_features, first.shortcut.out_features) == (86, 1024)
    assert isinstance(net.hidden[1].shortcut, nn.Identity)
    for unit in net.hidden:
        # Linear -> BN -> ReLU, no activation after the add
        assert [type(m) for m in unit.body] == [nn.Linear, nn.BatchNorm1d, nn.ReLU]
    assert net.output.in_features == 32


def test_irnet_additive_unit_value(make_tiny):
    net = make_tiny("irnet").eval()
    for unit in net.hidden:
        h = torch.randn(4, unit.in_features)
        skip = h if unit.in_features == unit.out_features else unit.shortcut(h)
        expected = torch.relu(unit.body[1](unit.body[0](h))) + skip
        assert torch.allclose(unit(h), expected, atol=1e-6)


def test_irnet_concat_feature_growth(make_tiny):
    widths = (16, 8, 4)
    net = make_tiny("irnet_concat")
    assert [layer[0].in_features for layer in net.hidden] == [86, 86 + 16, 86 + 16 + 8]
    assert net.output.in_features == 86 + sum(widths)
    sizes = []
    hooks = [
        layer.register_forward_hook(
            lambda m, inp, out: sizes.append((inp[0].shape[1], out.shape[1]))
        )
        for layer in net.hidden
    ]
    net.eval()
    x = torch.rand(3, 86)
    out = net(x)
    for h in hooks:
        h.remove()
    assert sizes == [(86, 16), (102, 8), (110, 4)]
    # the concatenation keeps the raw input at the front
    m = x
    for layer in net.hidden:
        m = torch.cat([m, layer(m)], dim=1)
    assert torch.allclose(out, net.output(m))
    default = IRNet(variant="concat")
    assert default.hidden[0][0].in_features == 86
    assert default.output.in_features == 86 + 6944


# --------------------------------------------------------------------------- #
# ElemNet
# --------------------------------------------------------------------------- #
def test_elemnet_dropout_placement():
    net = ElemNet()
    rates = [(i, m.p) for i, blk in enumerate(net.hidden) for m in blk if isinstance(m, nn.Dropout)]
    # after the last 1024 (layer 3), 512 (6), 256 (9) and 128 (12) layers
    assert rates == [(3, 0.2), (6, 0.1), (9, 0.3), (12, 0.2)]
    assert not any(isinstance(m, nn.BatchNorm1d) for m in net.modules())
    assert all(isinstance(blk[1], nn.ReLU) for blk in net.hidden)

    tiny = ElemNet(widths=(8, 8, 4), dropout=0.5)
    assert [type(blk[-1]) for blk in tiny.hidden] == [nn.ReLU, nn.Dropout, nn.Dropout]
    none = ElemNet(widths=(8, 8, 4), dropout=(0.0,))
    assert not any(isinstance(m, nn.Dropout) for m in none.modules())


# --------------------------------------------------------------------------- #
# FCMnR / FCUNet
# --------------------------------------------------------------------------- #
def test_fcmnr_merge_and_run_values(make_tiny):
    net = make_tiny("fcmnr").eval()
    x = torch.rand(6, 86)
    s = net.stem(x)
    assert s.shape == (6, 4)
    a, b = net.entries[0](s) + 2 * s, net.entries[1](s) + 2 * s
    for branch_a, branch_b in net.blocks:
        avg = (a + b) / 2
        a, b = branch_a(a) + avg, branch_b(b) + avg
    y = net.heads[0](a) + net.heads[1](b) + (a + b) / 2
    assert torch.allclose(net(x), net.output(y), atol=1e-6)


def test_fcmnr_published_form_layout():
    net = FCMnR(stream_width=1, n_blocks=3)
    assert len(net.blocks) == 3 and all(len(pair) == 2 for pair in net.blocks)
    assert [blk[0].out_features for blk in net.stem] == [1024, 1024, 1]
    entry = net.entries[0]
    assert [blk[0].out_features for blk in entry] == [512, 128, 1]
    # BN on the 512 layer only, as in the published code
    assert [any(isinstance(m, nn.BatchNorm1d) for m in blk) for blk in entry] == [
        True,
        False,
        False,
    ]
    assert [blk[0].out_features for blk in net.blocks[0][0]] == [1024, 512, 1]
    assert [blk[0].out_features for blk in net.heads[1]] == [512, 256, 1]
    assert net.output.in_features == 1
    assert not any(
        isinstance(m, nn.BatchNorm1d) for m in FCMnR(batch_norm=False, n_blocks=1).modules()
    )


def test_fcunet_skips_are_concatenations():
    net = FCUNet()
    assert [len(s) for s in net.encoder] == [4, 3, 3, 3, 3]
    # decoder input widths: e128+e64, e256+128, e512+256, e1024+128
    assert [s[0][0].in_features for s in net.decoder] == [
        128 + 64,
        256 + 128,
        512 + 256,
        1024 + 128,
    ]
    assert [[blk[0].out_features for blk in s] for s in net.decoder] == [
        [128, 128, 128],
        [256, 256, 256],
        [256, 256, 128],
        [64, 32, 16],
    ]
    assert net.output.in_features == 16
    for stage in (*net.encoder, *net.decoder):
        for blk in stage:
            assert [type(m) for m in blk] == [nn.Linear, nn.BatchNorm1d, nn.ReLU]


def test_fcunet_forward_matches_manual(make_tiny):
    net = make_tiny("fcunet").eval()
    x = torch.rand(3, 86)
    e0 = net.encoder[0](x)
    e1 = net.encoder[1](e0)
    e2 = net.encoder[2](e1)
    d0 = net.decoder[0](torch.cat([e1, e2], dim=1))
    d1 = net.decoder[1](torch.cat([e0, d0], dim=1))
    assert torch.allclose(net(x), net.output(d1), atol=1e-6)


# --------------------------------------------------------------------------- #
# Keras-like initialisation and batch norm
# --------------------------------------------------------------------------- #
def test_glorot_uniform_init_and_zero_bias(tiny_name, make_tiny):
    net = make_tiny(tiny_name)
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert linears
    for lin in linears:
        bound = math.sqrt(6.0 / (lin.in_features + lin.out_features))
        assert lin.weight.abs().max().item() <= bound + 1e-7
        assert torch.count_nonzero(lin.bias) == 0


@pytest.mark.parametrize("cls", [ElemNet, IRNet, BRNet])
def test_glorot_not_torch_default(cls):
    # on a large square layer the Glorot bound (sqrt(6/2048) = 0.054) exceeds torch's
    # default kaiming bound (1/32 = 0.031): the spread tells the two apart
    net = cls()
    big = [
        m for m in net.modules()
        if isinstance(m, nn.Linear) and m.in_features == m.out_features == 1024
    ]  # fmt: skip
    assert big
    w = big[0].weight
    bound = math.sqrt(6.0 / 2048)
    assert w.abs().max().item() <= bound
    assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.02)


@pytest.mark.parametrize("cls", [IRNet, FCMnR, FCUNet])
def test_keras_batch_norm_defaults(cls):
    bns = [m for m in cls().modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert bns
    for bn in bns:
        assert isinstance(bn, nn.BatchNorm1d)
        assert bn.momentum == 0.01 and bn.eps == 1e-3
        assert bn.affine and bn.track_running_stats
        assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)


def test_batch_norm_settings_are_configurable():
    net = IRNet(widths=(8, 4), bn_momentum=0.1, bn_eps=1e-5)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm1d)]
    assert [(b.momentum, b.eps) for b in bns] == [(0.1, 1e-5)] * 2
    assert not any(
        isinstance(m, nn.BatchNorm1d) for m in IRNet(widths=(8, 4), batch_norm=False).modules()
    )


def test_relu_in_elemnet_and_irnet():
    for net in (ElemNet(widths=(8, 4)), IRNet(widths=(8, 4))):
        acts = [m for m in net.modules() if isinstance(m, (nn.ReLU, nn.LeakyReLU))]
        assert len(acts) == 2 and all(type(a) is nn.ReLU for a in acts)


def test_dense_block_order():
    blk = DenseBlock(4, 3, activation="leaky_relu", batch_norm=True, dropout=0.1)
    assert [type(m) for m in blk] == [nn.Linear, nn.BatchNorm1d, nn.LeakyReLU, nn.Dropout]
    assert blk[2].negative_slope == 0.3
