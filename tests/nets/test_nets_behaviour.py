"""Forward shapes, train/eval behaviour and gradient flow."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from skmatnet.nets import NETWORKS, ElemNet, IRNet

ACTIVATION_NETS = {"elemnet", "irnet", "irnet_concat", "fcmnr", "fcunet"}


@pytest.mark.parametrize("n_features", [86, 10])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_tiny_output_shapes(tiny_name, make_tiny, n_features, n_outputs):
    net = make_tiny(tiny_name, n_features=n_features, n_outputs=n_outputs)
    for mode in (net.train, net.eval):
        mode()
        out = net(torch.rand(7, n_features))
        assert out.shape == (7, n_outputs)
        assert out.dtype == torch.float32
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_default_networks_forward(name):
    net = NETWORKS[name](86, 3).eval()
    with torch.no_grad():
        out = net(torch.rand(2, 86))
    assert out.shape == (2, 3)


def test_default_network_other_n_features():
    net = IRNet(40, 2).eval()
    assert net.hidden[0].body[0].in_features == 40
    assert net(torch.rand(3, 40)).shape == (3, 2)


def _warm_up(net: nn.Module, n_features: int) -> None:
    """A few train-mode passes so batch-norm running statistics move off their init."""
    net.train()
    with torch.no_grad():
        for _ in range(5):
            net(torch.rand(16, n_features) * 3)


def test_eval_is_deterministic_and_batch_independent(tiny_name, make_tiny):
    net = make_tiny(tiny_name)
    _warm_up(net, 86)
    net.eval()
    x = torch.rand(9, 86)
    with torch.no_grad():
        a, b = net(x), net(x)
        single = net(x[:1])  # batch of one works in eval (running BN statistics)
        rows = torch.cat([net(x[i : i + 1]) for i in range(len(x))])
        shuffled = net(x.flip(0)).flip(0)
    assert torch.equal(a, b)
    assert single.shape == (1, 1)
    assert torch.allclose(rows, a, atol=1e-6)
    assert torch.allclose(shuffled, a, atol=1e-6)


def test_eval_uses_running_statistics():
    net = IRNet(widths=(8, 4))
    _warm_up(net, 86)
    bn = net.hidden[0].body[1]
    assert not torch.allclose(bn.running_mean, torch.zeros(8))
    net.eval()
    h = torch.rand(5, 86)
    z = net.hidden[0].body[0](h)
    expected = (z - bn.running_mean) / torch.sqrt(bn.running_var + 1e-3) * bn.weight + bn.bias
    assert torch.allclose(net.hidden[0].body[1](z), expected, atol=1e-5)


def test_dropout_active_in_train_off_in_eval():
    net = ElemNet(widths=(64, 64), dropout=(0.5,))
    x = torch.rand(4, 86)
    net.train()
    assert not torch.equal(net(x), net(x))
    net.eval()
    assert torch.equal(net(x), net(x))


def test_batch_statistics_in_train_mode():
    # train mode uses batch statistics: a row's output depends on the rest of the batch
    net = IRNet(widths=(8,)).train()
    x = torch.rand(6, 86)
    with torch.no_grad():
        full = net(x)
        part = net(x[:3])
    assert not torch.allclose(full[:3], part)


def test_gradients_reach_every_parameter(tiny_name, make_tiny):
    overrides = {"activation": "elu"} if tiny_name in ACTIVATION_NETS else {}
    if tiny_name == "elemnet":
        overrides["dropout"] = 0.0
    net = make_tiny(tiny_name, n_outputs=2, **overrides).train()
    x = torch.rand(8, 86)
    loss = ((net(x) - torch.randn(8, 2)) ** 2).mean()
    loss.backward()
    for name, p in net.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert torch.count_nonzero(p.grad) > 0, name


def test_gradients_with_default_activation(tiny_name, make_tiny):
    net = make_tiny(tiny_name).train()
    loss = net(torch.rand(8, 86)).abs().mean()
    loss.backward()
    assert all(p.grad is not None for p in net.parameters())


def test_state_dict_round_trip(tiny_name, make_tiny):
    a = make_tiny(tiny_name).eval()
    torch.manual_seed(123)
    b = make_tiny(tiny_name).eval()
    x = torch.rand(4, 86)
    b.load_state_dict(a.state_dict())
    assert torch.equal(a(x), b(x))
