"""nn.utils.weight_norm/remove_weight_norm (the hook-based form) and nn.utils.fuse_conv_bn_eval /
fuse_linear_bn_eval against torch: parameter names and shapes, forward values, gradients of g and
v, the warnings and errors, and the fused layers' weights and outputs."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, random_values
from tritongrad import nn


def _copy_parameters(ours, theirs) -> None:
    """Gives ``ours`` the values of ``theirs``' parameters and buffers (same names)."""
    with tritongrad.no_grad():
        for name, tensor in list(theirs.named_parameters()) + list(theirs.named_buffers()):
            getattr(ours, name).copy_(from_torch(tensor.detach()))


@pytest.mark.parametrize("make, dim, shape", [
    (lambda lib: lib.nn.Linear(5, 4), 0, (3, 5)),  # the default: one norm per output row
    (lambda lib: lib.nn.Conv2d(2, 3, (2, 3)), 1, (1, 2, 4, 5)),  # a norm per input channel
    (lambda lib: lib.nn.Linear(3, 2), None, (4, 3)),  # the whole tensor: a 0-d g
])  # fmt: skip
def test_weight_norm_matches_torch(make, dim, shape):
    theirs, ours = make(torch), make(tritongrad)
    _copy_parameters(ours, theirs)
    with pytest.warns(FutureWarning, match="torch.nn.utils.parametrizations.weight_norm"):
        torch.nn.utils.weight_norm(theirs, dim=dim)
    with pytest.warns(FutureWarning, match="torch.nn.utils.parametrizations.weight_norm"):
        assert nn.utils.weight_norm(ours, dim=dim) is ours
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name in ("weight_g", "weight_v"):
        assert isinstance(getattr(ours, name), nn.Parameter)
        assert_close(getattr(ours, name), getattr(theirs, name), kind="autograd", what=name)
    assert "weight" not in dict(ours.named_parameters())
    # a step changes g: the hook recomputes the weight before the next forward
    with torch.no_grad(), tritongrad.no_grad():
        theirs.weight_g.mul_(1.5)
        ours.weight_g.mul_(1.5)
    x = random_values(shape, torch.float32)
    got, expected = ours(from_torch(x)), theirs(x)
    assert_close(got, expected, kind="autograd", what="forward")
    grad = random_values(expected.shape, torch.float32)
    got.backward(from_torch(grad))
    expected.backward(grad)
    for name in ("weight_g", "weight_v", "bias"):
        assert_close(getattr(ours, name).grad, getattr(theirs, name).grad, kind="autograd", what=f"{name}.grad")

    torch.nn.utils.remove_weight_norm(theirs)
    assert nn.utils.remove_weight_norm(ours) is ours
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours.weight, nn.Parameter)
    assert_close(ours.weight, theirs.weight, kind="autograd", what="weight after remove_weight_norm")
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
        nn.utils.remove_weight_norm(ours)


def test_weight_norm_errors():
    module = nn.Linear(3, 2)
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(module)
    with pytest.warns(FutureWarning), pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        nn.utils.weight_norm(module)
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="can't have uninitialized parameters"):
        nn.utils.weight_norm(nn.LazyLinear(2))


def _random_batch_norm(ours, theirs) -> None:
    with torch.no_grad():
        theirs.running_mean.copy_(random_values(theirs.running_mean.shape, torch.float32))
        theirs.running_var.copy_(random_values(theirs.running_var.shape, torch.float32, low=0.5, high=2.0))
        theirs.weight.copy_(random_values(theirs.weight.shape, torch.float32))
        theirs.bias.copy_(random_values(theirs.bias.shape, torch.float32))
    _copy_parameters(ours, theirs)


@pytest.mark.parametrize("bias", [True, False])
def test_fuse_conv_bn_eval(bias):
    theirs_conv, ours_conv = torch.nn.Conv2d(2, 3, 3, bias=bias), nn.Conv2d(2, 3, 3, bias=bias)
    _copy_parameters(ours_conv, theirs_conv)
    theirs_bn, ours_bn = torch.nn.BatchNorm2d(3), nn.BatchNorm2d(3)
    _random_batch_norm(ours_bn, theirs_bn)
    for module in (theirs_conv, ours_conv, theirs_bn, ours_bn):
        module.eval()
    fused, theirs_fused = (
        nn.utils.fuse_conv_bn_eval(ours_conv, ours_bn),
        torch.nn.utils.fuse_conv_bn_eval(theirs_conv, theirs_bn),
    )
    assert fused is not ours_conv and isinstance(fused.bias, nn.Parameter)
    assert_close(fused.weight, theirs_fused.weight, kind="autograd", what="fused weight")
    assert_close(fused.bias, theirs_fused.bias, kind="autograd", what="fused bias")
    x = random_values((1, 2, 5, 4), torch.float32)
    assert_close(fused(from_torch(x)), theirs_bn(theirs_conv(x)), kind="autograd", what="fused forward")
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        nn.utils.fuse_conv_bn_eval(ours_conv.train(), ours_bn)


def test_fuse_linear_bn_eval():
    theirs_linear, ours_linear = torch.nn.Linear(4, 3), nn.Linear(4, 3)
    _copy_parameters(ours_linear, theirs_linear)
    theirs_bn, ours_bn = torch.nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    _random_batch_norm(ours_bn, theirs_bn)
    for module in (theirs_linear, ours_linear, theirs_bn, ours_bn):
        module.eval()
    fused = nn.utils.fuse_linear_bn_eval(ours_linear, ours_bn)
    x = random_values((5, 4), torch.float32)
    assert_close(fused(from_torch(x)), theirs_bn(theirs_linear(x)), kind="autograd", what="fused forward")
    with pytest.raises(AssertionError, match="linear.out_features == bn.num_features"):
        nn.utils.fuse_linear_bn_eval(nn.Linear(4, 2).eval(), ours_bn)
