"""nn.LazyLinear, nn.LazyConv1d and nn.LazyConv2d against torch: repr before and after the first
forward, the inferred sizes and parameter shapes, the class they become, default initialisation
bounds, outputs and gradients once their weights are copied into torch's layer, and the D2L flow
(dry run, ``net.apply(init)``, optimizer, a training step)."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, random_values, to_torch
from tritongrad import nn


def _compare_with_torch(ours, theirs, x):
    """Copies our materialised parameters into torch's layer, then compares output and gradients."""
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(to_torch(getattr(ours, name)))
    got_x = from_torch(x, requires_grad=True)
    expected_x = x.detach().requires_grad_(True)
    got, expected = ours(got_x), theirs(expected_x)
    assert_close(got, expected, kind="accumulation", what=f"{type(theirs).__name__} {tuple(x.shape)}")
    grad = random_values(expected.shape, x.dtype)
    got.backward(from_torch(grad))
    expected.backward(grad)
    assert_close(got_x.grad, expected_x.grad, kind="accumulation", what="grad input")
    for name, p in theirs.named_parameters():
        assert_close(getattr(ours, name).grad, p.grad, kind="accumulation", what=f"grad {name}")


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 7), (2, 3, 1), (4,)])  # batched, 3-D, a single vector
def test_lazy_linear(shape, bias):
    ours, theirs = nn.LazyLinear(3, bias=bias), torch.nn.LazyLinear(3, bias=bias)
    assert repr(ours) == repr(theirs)
    assert repr(ours.weight) == "<UninitializedParameter>"
    x = random_values(shape, torch.float32)
    ours(from_torch(x))
    theirs(x)
    assert type(ours) is nn.Linear and repr(ours) == repr(theirs)
    assert ours.in_features == shape[-1] and tuple(ours.weight.shape) == (3, shape[-1])
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    bound = 1 / math.sqrt(shape[-1])  # kaiming_uniform_(a=sqrt(5)), as nn.Linear
    assert ours.weight.abs().max().item() <= bound
    _compare_with_torch(ours, torch.nn.Linear(shape[-1], 3, bias=bias), x)


@pytest.mark.parametrize(
    "ours_cls, theirs_cls, shape, options",
    [
        (nn.LazyConv2d, torch.nn.Conv2d, (2, 3, 7, 6), {"kernel_size": 3}),
        (nn.LazyConv2d, torch.nn.Conv2d, (3, 5, 5), {"kernel_size": 5, "padding": 2}),  # unbatched
        (nn.LazyConv2d, torch.nn.Conv2d, (1, 4, 6, 6), {"kernel_size": 2, "stride": 2, "groups": 2, "bias": False}),
        (nn.LazyConv1d, torch.nn.Conv1d, (2, 3, 11), {"kernel_size": 3, "padding": 1}),
    ],
)
def test_lazy_conv(ours_cls, theirs_cls, shape, options):
    lazy_theirs = getattr(torch.nn, ours_cls.__name__)(4, **options)
    ours = ours_cls(4, **options)
    assert repr(ours) == repr(lazy_theirs)
    x = random_values(shape, torch.float32)
    ours(from_torch(x))
    lazy_theirs(x)
    assert type(ours) is getattr(nn, theirs_cls.__name__) and repr(ours) == repr(lazy_theirs)
    assert tuple(ours.weight.shape) == tuple(lazy_theirs.weight.shape)
    in_channels = shape[1] if len(shape) == ours.weight.dim() else shape[0]
    _compare_with_torch(ours, theirs_cls(in_channels, 4, **options), x)


def test_construction_warns_nothing_and_shape_is_refused_until_the_first_forward():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no zero-element initialisation warning
        layer = nn.LazyLinear(2)
        conv = nn.LazyConv2d(2, 3)
    assert layer.has_uninitialized_params() and conv.has_uninitialized_params()
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        _ = layer.weight.shape
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv2d(4, 3, groups=2)(tritongrad.randn(1, 3, 5, 5))


def test_d2l_flow_dry_run_apply_init_and_train():
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
    x = from_torch(random_values((6, 4), torch.float32))
    net(x)  # the dry run

    def init_constant(module):
        if type(module) is nn.Linear:
            nn.init.constant_(module.weight, 0.5)
            nn.init.zeros_(module.bias)

    net.apply(init_constant)
    assert net[2].weight.tolist() == [[0.5] * 8]
    optimizer = tritongrad.optim.SGD(net.parameters(), lr=0.1)
    before = net[0].weight.detach().clone()
    loss = net(x).square().mean()
    loss.backward()
    optimizer.step()
    assert not tritongrad.equal(before, net[0].weight)
    assert sorted(net.state_dict()) == ["0.bias", "0.weight", "2.bias", "2.weight"]
