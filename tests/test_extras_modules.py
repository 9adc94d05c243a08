"""nn modules and functions added together: InstanceNorm3d, the lazy layers (LazyInstanceNorm1d/2d/3d,
LazyBatchNorm3d, LazyConv3d, LazyConvTranspose1d/2d, UninitializedBuffer), MaxUnpool3d/F.max_unpool3d,
LPPool3d/F.lp_pool3d, F.max_pool3d_with_indices, F.adaptive_max_pool3d_with_indices, nn.Buffer,
nn.DataParallel and nn.Container, each against torch's module with the same weights."""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn as nn
import tritongrad.nn.functional as F
from tests.test_hardening import agree
from tests.utils import assert_close, from_torch, to_torch


def _copy_state(ours, theirs) -> None:
    """Loads torch's module's parameters and buffers into ours."""
    ours.load_state_dict({k: from_torch(v) for k, v in theirs.state_dict().items()})


def _forward_backward(ours, theirs, x: torch.Tensor, what: str) -> None:
    tx, ox = x.detach().clone().requires_grad_(True), from_torch(x, requires_grad=True)
    expected, got = theirs(tx), ours(ox)
    assert_close(got, expected, what=f"{what} forward")
    weights = torch.randn(expected.shape, dtype=expected.dtype)
    (expected * weights).sum().backward()
    (got * from_torch(weights)).sum().backward()
    assert_close(ox.grad, tx.grad, what=f"{what} input gradient")
    for (name, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(mine.grad, reference.grad, what=f"{what} {name} gradient")


# ------------------------------------------------------------------------------------ InstanceNorm3d


@pytest.mark.parametrize("affine, track", [(False, False), (True, True)])
def test_instance_norm3d(affine, track):
    theirs = torch.nn.InstanceNorm3d(3, affine=affine, track_running_stats=track, dtype=torch.float64)
    ours = nn.InstanceNorm3d(3, affine=affine, track_running_stats=track, dtype=torch.float64)
    if affine:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            theirs.bias.uniform_(-0.5, 0.5)
    _copy_state(ours, theirs)
    _forward_backward(ours, theirs, torch.randn(2, 3, 3, 4, 5, dtype=torch.float64), "InstanceNorm3d")
    _forward_backward(ours, theirs, torch.randn(3, 2, 3, 2, dtype=torch.float64), "InstanceNorm3d unbatched")
    if track:
        assert_close(ours.running_mean, theirs.running_mean, what="running_mean")
        ours.eval(), theirs.eval()
        _forward_backward(ours, theirs, torch.randn(2, 3, 2, 2, 3, dtype=torch.float64), "InstanceNorm3d eval")
    assert repr(ours) == repr(theirs)
    agree("InstanceNorm3d 3-D input", lambda lib: lib.nn.InstanceNorm3d(3)(lib.ones(3, 4, 5)), [])


# --------------------------------------------------------------------------------------------- lazy


LAZY = {
    # name: (constructor arguments, input shape, the class it becomes)
    "LazyInstanceNorm1d": ((), (2, 3, 6), "InstanceNorm1d"),
    "LazyInstanceNorm2d": ((), (2, 3, 4, 5), "InstanceNorm2d"),
    "LazyInstanceNorm3d": ((), (2, 3, 2, 3, 4), "InstanceNorm3d"),
    "LazyBatchNorm3d": ((), (2, 3, 2, 3, 4), "BatchNorm3d"),
    "LazyConv3d": ((4, 2), (2, 3, 4, 4, 3), "Conv3d"),
    "LazyConvTranspose1d": ((4, 3), (2, 3, 5), "ConvTranspose1d"),
    "LazyConvTranspose2d": ((4, 3), (2, 3, 4, 5), "ConvTranspose2d"),
}


@pytest.mark.parametrize("name", list(LAZY))
def test_lazy_layers(name):
    arguments, shape, becomes = LAZY[name]
    theirs, ours = getattr(torch.nn, name)(*arguments), getattr(nn, name)(*arguments)
    assert ours.has_uninitialized_params() and repr(ours.weight) == repr(theirs.weight)
    x = torch.randn(shape)
    theirs(x)  # (initialises torch's; ours then gets its values)
    ours(from_torch(x))
    assert type(ours).__name__ == becomes == type(theirs).__name__
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert tuple(ours.state_dict()[key].shape) == tuple(value.shape), key
    _copy_state(ours, theirs)
    _forward_backward(ours, theirs, torch.randn(shape), name)


def test_uninitialized_buffer():
    bn = nn.LazyBatchNorm3d()
    assert isinstance(bn.running_mean, nn.UninitializedBuffer) and repr(bn.running_mean) == "<UninitializedBuffer>"
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter or buffer"):
        bn.running_mean.shape  # noqa: B018
    buffer = nn.UninitializedBuffer()
    buffer.materialize((2, 3))
    assert type(buffer) is tritongrad.Tensor and buffer.shape == (2, 3)
    assert isinstance(nn.UninitializedParameter(), nn.Parameter)


# --------------------------------------------------------------------------------- 3-d pool extras


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_max_unpool3d(dtype):
    x = torch.randn(2, 3, 4, 5, 6, dtype=dtype)
    values, indices = torch.nn.functional.max_pool3d(x, 2, return_indices=True)
    got_values, got_indices = F.max_pool3d_with_indices(from_torch(x), 2)
    assert_close(got_values, values, what="max_pool3d_with_indices values")
    assert_close(got_indices, indices, what="max_pool3d_with_indices indices")
    tv, ov = values.detach().clone().requires_grad_(True), from_torch(values, requires_grad=True)
    for output_size in ((4, 5, 6), (2, 3, 4, 5, 6)):  # (the default size would be 4 x 4 x 6)
        expected = torch.nn.functional.max_unpool3d(tv, indices, 2, output_size=output_size)
        got = F.max_unpool3d(ov, from_torch(indices), 2, output_size=output_size)
        assert_close(got, expected, what=f"max_unpool3d output_size={output_size}")
    assert got.grad_fn.name() == "MaxUnpool3DBackward0"
    weights = torch.randn(expected.shape, dtype=dtype)
    (expected * weights).sum().backward()
    (got * from_torch(weights)).sum().backward()
    assert_close(ov.grad, tv.grad, what="max_unpool3d gradient")
    # the module with its default output size, unbatched
    unbatched = torch.randn(2, 4, 6, 4, dtype=dtype)
    pooled, idx = torch.nn.MaxPool3d(2, return_indices=True)(unbatched)
    assert_close(nn.MaxUnpool3d(2)(from_torch(pooled), from_torch(idx)), torch.nn.MaxUnpool3d(2)(pooled, idx),
                 what="MaxUnpool3d unbatched")  # fmt: skip
    assert repr(nn.MaxUnpool3d(2, 1)) == repr(torch.nn.MaxUnpool3d(2, 1))


def _pooled(lib):
    return lib.nn.functional.max_pool3d(lib.arange(64.0).reshape(1, 1, 4, 4, 4), 2, return_indices=True)


def _one_invalid(lib):
    indices = _pooled(lib)[1]
    indices[0, 0, 1, 0, 1] = 999
    return indices


UNPOOL_ERRORS = {
    "int32 indices": lambda lib: lib.nn.functional.max_unpool3d(_pooled(lib)[0], _pooled(lib)[1].int(), 2),
    "3-D input": lambda lib: lib.nn.functional.max_unpool3d(_pooled(lib)[0][0, 0], _pooled(lib)[1][0, 0], 2),
    "shape mismatch": lambda lib: lib.nn.functional.max_unpool3d(_pooled(lib)[0], _pooled(lib)[1][..., :1], 2),
    "index out of range": lambda lib: lib.nn.functional.max_unpool3d(_pooled(lib)[0], _one_invalid(lib), 2),
    "integer input": lambda lib: lib.nn.functional.max_unpool3d(_pooled(lib)[0].long(), _pooled(lib)[1], 2),
    "empty channels": lambda lib: lib.nn.functional.max_unpool3d(_pooled(lib)[0][:, :0], _pooled(lib)[1][:, :0], 2),
    "bad output_size": lambda lib: lib.nn.functional.max_unpool3d(*_pooled(lib), 2, output_size=(9, 9, 9)),
}


@pytest.mark.parametrize("name", list(UNPOOL_ERRORS))
def test_max_unpool3d_errors(name):
    agree(name, UNPOOL_ERRORS[name], [])


@pytest.mark.parametrize("norm_type", [2.0, 1.5, float("inf")])
def test_lp_pool3d(norm_type):
    x = torch.rand(2, 2, 4, 5, 4, dtype=torch.float64) + 0.1
    theirs, ours = torch.nn.LPPool3d(norm_type, 2, stride=(1, 2, 2)), nn.LPPool3d(norm_type, 2, stride=(1, 2, 2))
    _forward_backward(ours, theirs, x, f"LPPool3d p={norm_type}")
    assert repr(ours) == repr(theirs)
    expected = torch.nn.functional.lp_pool3d(x, norm_type, 2, ceil_mode=True)
    assert_close(F.lp_pool3d(from_torch(x), norm_type, 2, ceil_mode=True), expected, what="lp_pool3d ceil_mode")


def test_adaptive_max_pool3d_with_indices():
    x = torch.randn(2, 3, 5, 6, 7)
    values, indices = torch.nn.functional.adaptive_max_pool3d_with_indices(x, (2, 3, 3))
    got_values, got_indices = F.adaptive_max_pool3d_with_indices(from_torch(x), (2, 3, 3))
    assert_close(got_values, values, what="values")
    assert_close(got_indices, indices, what="indices")


# ------------------------------------------------------------------------------------------- Buffer


def test_buffer_registration():
    def build(lib):
        module = lib.nn.Module()
        module.steps = lib.nn.Buffer(lib.zeros(2))
        module.scratch = lib.nn.Buffer(lib.ones(3), persistent=False)
        module.steps = lib.nn.Buffer(lib.ones(2) * 5)  # reassigned: stays a buffer
        return [list(module.state_dict()), [name for name, _ in module.named_buffers()], module.steps,
                isinstance(module.steps, lib.nn.Buffer), isinstance(lib.ones(1), lib.nn.Buffer)]  # fmt: skip

    agree("Buffer", build, [])
    source = tritongrad.ones(2, requires_grad=True)
    buffer = nn.Buffer(source)
    assert buffer.requires_grad and buffer.grad_fn is None and buffer.data_ptr() == source.data_ptr()
    assert type(buffer) is tritongrad.Tensor
    agree("Buffer on an attribute", lambda lib: setattr(_with_attribute(lib), "x", lib.nn.Buffer(lib.ones(1))), [])


def _with_attribute(lib):
    module = lib.nn.Module()
    module.x = 3
    return module


# ------------------------------------------------------------------------------------- DataParallel


def test_data_parallel_wraps_on_one_device():
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    _copy_state(model, torch_model)
    theirs, ours = torch.nn.DataParallel(torch_model), nn.DataParallel(model, device_ids=None, output_device=None)
    assert ours.module is model
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _forward_backward(ours, theirs, torch.randn(5, 3), "DataParallel")
    assert repr(ours) == repr(theirs)
    # a checkpoint of the wrapper loads into the wrapper (the "module." keys)
    fresh = nn.DataParallel(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)))
    fresh.load_state_dict(ours.state_dict())
    assert torch.equal(to_torch(fresh.module[0].weight), to_torch(model[0].weight))
    assert isinstance(nn.parallel.DataParallel(model), nn.DataParallel)


def test_container():
    theirs, ours = torch.nn.Container(a=torch.nn.ReLU(), b=torch.nn.Tanh()), nn.Container(a=nn.ReLU(), b=nn.Tanh())
    assert repr(ours) == repr(theirs) and list(ours._modules) == ["a", "b"]
