"""Convolutions (tritongrad/ops/convolution.py, kernels/conv.py, nn.Conv*) against torch.

Forward values and the gradients of input, weight and bias from torch.autograd on the same
values, over kernel sizes 1x1 / 3x3 / 7x7, strides, padding (ints, 'same', 'valid'),
dilation, groups (depthwise included), odd and size-1 images, non-contiguous inputs and every
floating dtype; float64 gradcheck and second derivatives; transposed convolutions; the modules'
parameters, state_dict and repr; and torch's errors for bad arguments.
"""

from __future__ import annotations

import contextlib
import math

import pytest
import torch
import torch.nn as torch_nn
import torch.nn.functional as TF

import tritongrad
import tritongrad.nn as nn
import tritongrad.nn.functional as F
from tests.utils import DEVICE, assert_close, from_torch, random_values, to_torch
from tritongrad.autograd import gradcheck
from tritongrad.kernels import conv as conv_kernels

# (rtol, atol) for sums of up to a few hundred products of values in [-1, 1).
TOLERANCE = {
    torch.float64: (1e-10, 1e-10),
    torch.float32: (1e-5, 1e-4),
    torch.float16: (1e-2, 2e-2),
    torch.bfloat16: (2e-2, 5e-2),
}


def values(shape, dtype=torch.float64):
    return random_values(shape, dtype, low=-1.0, high=1.0)


def strided_layout(x: torch.Tensor, layout: str):
    """(base, view) with view(base) holding x's values in ``layout``: H and W swapped in memory, every
    other column of a wider base, or channels_last (a permuted base)."""
    if layout == "transposed":
        return x.transpose(-1, -2).contiguous(), lambda t: t.transpose(-1, -2)
    if layout == "sliced":
        wide = values((*x.shape[:-1], 2 * x.shape[-1]), x.dtype)
        wide[..., ::2] = x
        return wide, lambda t: t[..., ::2]
    if layout == "channels_last":
        return x.permute(0, 2, 3, 1).contiguous(), lambda t: t.permute(0, 3, 1, 2)
    return x, lambda t: t


def check_against_torch(tg_fn, torch_fn, input_shape, weight_shape, bias: bool, dtype=torch.float64,
                        layout: str = "contiguous", grads: bool = True) -> None:  # fmt: skip
    """tg_fn(x, w, b) vs torch_fn on the same values (torch in float64), and the three gradients."""
    base, view = strided_layout(values(input_shape, dtype), layout)
    x = view(base)
    w = values(weight_shape, dtype)
    b = values((weight_shape[0],), dtype) if bias else None
    leaves = [t for t in (x, w, b) if t is not None]
    want_leaves = [t.detach().double().requires_grad_(grads) for t in leaves]
    got_leaves = [from_torch(t, requires_grad=grads) for t in leaves]
    got_leaves[0] = tritongrad.Tensor._wrap(view(base.to(DEVICE).clone())).requires_grad_(grads)
    assert got_leaves[0].stride() == x.stride() and not (layout != "contiguous" and x.is_contiguous())
    want = torch_fn(*want_leaves, *(() if bias else (None,)))
    got = tg_fn(*got_leaves, *(() if bias else (None,)))
    tolerance = dict(zip(("rtol", "atol"), TOLERANCE[dtype]))
    what = f"{tg_fn.__name__} input {tuple(input_shape)} ({layout}) weight {tuple(weight_shape)} {dtype}"
    assert got.dtype == dtype
    assert_close(got, want.to(dtype), dtype, what=f"forward of {what}", **tolerance)
    if layout == "channels_last":  # torch answers in the input's memory format, so does tritongrad
        assert to_torch(got).is_contiguous(memory_format=torch.channels_last), got.stride()
    if not grads:
        return
    grad_out = values(want.shape, dtype)
    want.backward(grad_out.double())
    got.backward(from_torch(grad_out))
    for name, g, t in zip(("input", "weight", "bias"), got_leaves, want_leaves):
        assert_close(g.grad, t.grad.to(dtype), dtype, what=f"grad of {name} for {what}", **tolerance)


# (input shape, weight shape, conv2d keyword arguments), each exercising something.
CONV2D_CASES = {
    "1x1": ((2, 5, 6, 7), (3, 5, 1, 1), {}),
    "3x3 padded": ((2, 3, 7, 9), (4, 3, 3, 3), {"padding": 1}),
    "7x7 stride 2 (a ResNet stem)": ((1, 3, 13, 11), (5, 3, 7, 7), {"stride": 2, "padding": 3}),
    "tuples, dilation, groups": (
        (2, 4, 11, 10),
        (6, 2, 3, 2),
        {"stride": (2, 3), "padding": (1, 0), "dilation": (2, 1), "groups": 2},
    ),  # noqa: E501
    "depthwise x2, stride 2": ((2, 4, 9, 8), (8, 1, 3, 3), {"stride": 2, "padding": 1, "groups": 4}),
    "'same', even kernel, dilation": ((1, 3, 7, 6), (2, 3, 4, 2), {"padding": "same", "dilation": (1, 2)}),
    "'valid', H = 1": ((3, 2, 1, 9), (3, 2, 1, 3), {"padding": "valid"}),
    "kernel = padded input": ((1, 2, 3, 3), (2, 2, 5, 5), {"padding": 1}),
    "> one tile of rows and channels": ((2, 20, 10, 9), (130, 20, 1, 1), {}),
    "empty batch": ((0, 3, 5, 5), (4, 3, 3, 3), {"padding": 1}),
}


# torch warns that 'same' with an even kernel may copy its input (tritongrad's kernel never does).
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("case", CONV2D_CASES)
def test_conv2d_forward_and_grads_float64(case):
    input_shape, weight_shape, kwargs = CONV2D_CASES[case]

    def conv2d(x, w, b):
        return F.conv2d(x, w, b, **kwargs)

    def torch_conv(x, w, b):
        return TF.conv2d(x, w, b, **kwargs)

    check_against_torch(conv2d, torch_conv, input_shape, weight_shape, bias=True)


@pytest.mark.parametrize("layout", ["transposed", "sliced", "channels_last"])
def test_conv2d_non_contiguous_input(layout):
    def conv2d(x, w, b):
        return F.conv2d(x, w, b, stride=2, padding=1, groups=2)

    def torch_conv(x, w, b):
        return TF.conv2d(x, w, b, stride=2, padding=1, groups=2)

    check_against_torch(conv2d, torch_conv, (2, 4, 7, 8), (6, 2, 3, 3), bias=False, layout=layout)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_conv2d_dtypes(dtype):
    """float32 forward and gradients; the half types forward and gradients with fp32 accumulation."""

    def conv2d(x, w, b):
        return F.conv2d(x, w, b, padding=1, dilation=(1, 2))

    def torch_conv(x, w, b):
        return TF.conv2d(x, w, b, padding=1, dilation=(1, 2))

    check_against_torch(conv2d, torch_conv, (2, 6, 9, 9), (5, 6, 3, 3), bias=True, dtype=dtype)


def test_conv2d_grad_fn_and_unbatched_input():
    x, w = values((3, 6, 5)), values((2, 3, 3, 3))
    want = TF.conv2d(x, w, padding=1)
    got_x = from_torch(x, requires_grad=True)
    got = F.conv2d(got_x, from_torch(w), padding=1)
    assert_close(got, want)
    assert got.shape == (2, 6, 5)
    batched = F.conv2d(from_torch(x.unsqueeze(0), requires_grad=True), from_torch(w))
    assert type(batched.grad_fn).__name__ == "ConvolutionBackward0"
    got.sum().backward()
    assert got_x.grad.shape == (3, 6, 5)
    # Only the weight requires grad: the node keeps the input alone.
    got_w, want_w = from_torch(w, requires_grad=True), w.clone().requires_grad_()
    F.conv2d(from_torch(x), got_w, stride=2).sum().backward()
    TF.conv2d(x, want_w, stride=2).sum().backward()
    assert_close(got_w.grad, want_w.grad)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize(
    "input_shape,weight_shape,kwargs",
    [
        ((2, 3, 11), (4, 3, 3), {"stride": 2, "padding": 1}),
        ((1, 4, 9), (4, 1, 4), {"padding": "same", "groups": 4}),  # depthwise, even kernel
        ((5, 7), (3, 5, 2), {"dilation": 3}),  # unbatched
    ],
)
def test_conv1d(input_shape, weight_shape, kwargs):
    def conv1d(x, w, b):
        return F.conv1d(x, w, b, **kwargs)

    def torch_conv(x, w, b):
        return TF.conv1d(x, w, b, **kwargs)

    check_against_torch(conv1d, torch_conv, input_shape, weight_shape, bias=True)


TRANSPOSED_CASES = {
    "3x3 stride 2, output_padding": ((2, 4, 5, 6), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    "tuples, groups, dilation": (
        (2, 4, 4, 5),
        (4, 3, 3, 2),
        {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2), "groups": 2, "dilation": (1, 2)},
    ),  # noqa: E501
    "1x1": ((1, 6, 3, 3), (6, 2, 1, 1), {}),
    "unbatched, stride 3 > kernel": ((2, 3, 4), (2, 2, 2, 2), {"stride": 3}),
}


@pytest.mark.parametrize("case", TRANSPOSED_CASES)
def test_conv_transpose2d(case):
    input_shape, weight_shape, kwargs = TRANSPOSED_CASES[case]
    groups = kwargs.get("groups", 1)

    def conv_transpose2d(x, w, b):
        return F.conv_transpose2d(x, w, b, **kwargs)

    def torch_conv_transpose(x, w, b):
        return TF.conv_transpose2d(x, w, b, **kwargs)

    x = values(input_shape)
    w = values(weight_shape)
    b = values((weight_shape[1] * groups,))
    leaves = [t.clone().requires_grad_() for t in (x, w, b)]
    got_leaves = [from_torch(t, requires_grad=True) for t in (x, w, b)]
    want = torch_conv_transpose(*leaves)
    got = conv_transpose2d(*got_leaves)
    assert_close(got, want, what=f"conv_transpose2d {case}")
    assert got.shape == want.shape
    grad_out = values(want.shape)
    want.backward(grad_out)
    got.backward(from_torch(grad_out))
    for name, g, t in zip(("input", "weight", "bias"), got_leaves, leaves):
        assert_close(g.grad, t.grad, what=f"grad of {name}, conv_transpose2d {case}")


def test_conv_transpose1d():
    x, w, b = values((2, 3, 6)), values((3, 2, 3)), values((2,))
    kwargs = {"stride": 2, "padding": 1, "output_padding": 1, "dilation": 2}
    leaves = [t.clone().requires_grad_() for t in (x, w, b)]
    got_leaves = [from_torch(t, requires_grad=True) for t in (x, w, b)]
    want = TF.conv_transpose1d(*leaves, **kwargs)
    got = F.conv_transpose1d(*got_leaves, **kwargs)
    assert_close(got, want)
    want.sum().backward()
    got.sum().backward()
    for g, t in zip(got_leaves, leaves):
        assert_close(g.grad, t.grad)


def test_gradcheck_float64():
    x = from_torch(values((1, 2, 3, 3)), requires_grad=True)
    w = from_torch(values((2, 1, 2, 2)), requires_grad=True)
    b = from_torch(values((2,)), requires_grad=True)
    assert gradcheck(lambda *a: F.conv2d(*a, stride=(2, 1), padding=1, dilation=(1, 2), groups=2), (x, w, b))
    # The transposed convolution's output is larger than its input: projected (fast) mode keeps the
    # number of backward passes at one instead of one per output element.
    wt = from_torch(values((2, 1, 2, 2)), requires_grad=True)
    assert gradcheck(lambda *a: F.conv_transpose2d(*a, stride=2, padding=(0, 1), output_padding=1, groups=2),
                     (x, wt, b), fast_mode=True)  # fmt: skip


def test_double_backward_matches_torch():
    """create_graph=True: the backward is made of convolutions that are themselves differentiable."""
    x, w = values((1, 2, 6, 5)), values((3, 2, 3, 3))
    tx, tw = x.clone().requires_grad_(), w.clone().requires_grad_()
    gx, gw = from_torch(x, requires_grad=True), from_torch(w, requires_grad=True)
    want_y = TF.conv2d(tx, tw, stride=2, padding=1)
    got_y = F.conv2d(gx, gw, stride=2, padding=1)
    want_gx, want_gw = torch.autograd.grad((want_y**2).sum(), (tx, tw), create_graph=True)
    got_gx, got_gw = tritongrad.autograd.grad((got_y**2).sum(), (gx, gw), create_graph=True)
    want = torch.autograd.grad((want_gx**2).sum() + (want_gw**2).sum(), (tx, tw))
    got = tritongrad.autograd.grad((got_gx**2).sum() + (got_gw**2).sum(), (gx, gw))
    for name, g, t in zip(("input", "weight"), got, want):
        assert_close(g, t, rtol=1e-9, atol=1e-9, what=f"second derivative w.r.t. {name}")


@contextlib.contextmanager
def _recording_weight_grad_grids(splits: list):
    """Records the split count (grid axis 2) of each weight-gradient launch."""
    kernel = conv_kernels.conv2d_weight_grad_kernel
    owner = type(kernel)
    own = owner.__dict__.get("__getitem__")  # (usually inherited from Triton's KernelInterface)
    original = owner.__getitem__

    def getitem(self, grid):
        if self is kernel:
            splits.append(grid[2])
        return original(self, grid)

    owner.__getitem__ = getitem
    try:
        yield
    finally:
        # Put back exactly what was there: an inherited __getitem__ must not become the class's own,
        # or it would shadow the launch wrapper tritongrad installs later on the base (runtime.py).
        if own is None:
            del owner.__getitem__
        else:
            owner.__getitem__ = own


# (stride, padding, dilation, groups): the transposed kernel's live taps of a phase are
# stride / gcd(stride, dilation) apart: 3 and 1 here, 2 (stride 4, dilation 2), all or none (2, 2).
KERNEL_ORDER_GEOMETRIES = [((2, 3), (1, 1), (1, 2), 3), ((4, 2), (2, 0), (2, 2), 1)]


@pytest.mark.parametrize("geometry", KERNEL_ORDER_GEOMETRIES, ids=["stride 2x3 groups 3", "stride 4x2 dilation 2"])
@pytest.mark.parametrize("flat_k", [False, True], ids=["taps", "flat"])
def test_kernel_orders_and_split_reduction(flat_k, geometry):
    """Both K-loop orders of the GPU path (the interpreter defaults to "flat"), the transposed kernel's
    phase skipping and a weight-gradient reduction split over programs, at the launcher level."""
    stride, padding, dilation, groups = geometry
    x, w, b = values((2, 18, 9, 7)), values((21, 18 // groups, 3, 2)), values((21,))
    y = conv_kernels.launch_conv2d(x.to(DEVICE), w.to(DEVICE), b.to(DEVICE), stride, padding, dilation, groups,
                                   flat_k=flat_k)  # fmt: skip
    tx, tw = x.clone().requires_grad_(), w.clone().requires_grad_()
    want = TF.conv2d(tx, tw, b, stride, padding, dilation, groups)
    assert_close(y, want)
    grad_out = values(want.shape)
    want.backward(grad_out)
    grad_x = conv_kernels.launch_conv2d_input_grad(grad_out.to(DEVICE), w.to(DEVICE), (9, 7), stride, padding,
                                                   dilation, groups, flat_k=flat_k)  # fmt: skip
    assert_close(grad_x, tx.grad, what="input gradient")
    grad_w = conv_kernels.launch_conv2d_weight_grad(grad_out.to(DEVICE), x.to(DEVICE), (3, 2), stride, padding,
                                                    dilation, groups, split_k=3)  # fmt: skip
    assert_close(grad_w, tw.grad, what="weight gradient, reduction split")
    launches = []
    with _recording_weight_grad_grids(launches):
        conv_kernels.launch_conv2d_weight_grad(grad_out, x, (3, 2), stride, padding, dilation, groups, split_k=3)
    # 3 requested; each split's share is rounded up to a whole K step of >= 16, so 2 or 3 happen.
    assert len(launches) == 1 and launches[0] >= 2, f"weight-gradient launches over {launches} splits"


def test_int64_offsets(monkeypatch):
    """The INDEX_64 kernels (taken when an operand spans 2**31 elements or more, too large to test)
    compute the same results: every kernel, both K orders."""
    monkeypatch.setattr(conv_kernels, "needs_int64_indexing", lambda *tensors: True)

    def conv2d(x, w, b):
        return F.conv2d(x, w, b, stride=2, padding=1, groups=2)

    def torch_conv(x, w, b):
        return TF.conv2d(x, w, b, stride=2, padding=1, groups=2)

    check_against_torch(conv2d, torch_conv, (2, 4, 7, 8), (6, 2, 3, 3), bias=True)
    x, w = values((1, 16, 5, 6)).to(DEVICE), values((16, 16, 3, 3)).to(DEVICE)
    want = TF.conv_transpose2d(x, w, stride=2, padding=1)
    assert_close(conv_kernels.launch_conv2d(x, w, None, (1, 1), (1, 1), (1, 1), 1, flat_k=False),
                 TF.conv2d(x, w, padding=1))  # fmt: skip
    got = conv_kernels.launch_conv2d_input_grad(x, w, tuple(want.shape[2:]), (2, 2), (1, 1), (1, 1), 1, flat_k=False)
    assert_close(got, want)


# ---------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------

MODULES = [
    ("Conv2d", (3, 4, 3), {}),
    ("Conv2d", (4, 6, (3, 5)), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2, "bias": False}),
    ("Conv2d", (4, 4, 3), {"padding": "same", "groups": 4}),
    ("Conv1d", (3, 4, 3), {"padding": "valid"}),
    ("ConvTranspose2d", (3, 4, 3), {"stride": 2, "output_padding": 1}),
    ("ConvTranspose2d", (4, 6, 2), {"groups": 2, "dilation": 2, "bias": False}),
    ("ConvTranspose1d", (2, 3, 4), {"stride": 3, "padding": 1}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES)
def test_module_matches_torch(name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch_nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert tuple(ours.state_dict()[key].shape) == tuple(value.shape), key
    # torch's initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for both (kaiming_uniform_, a=sqrt(5)).
    fan_in = ours.weight.shape[1] * math.prod(ours.weight.shape[2:])
    for parameter in ours.parameters():
        data = to_torch(parameter)
        assert data.abs().max() <= 1 / math.sqrt(fan_in) and data.std() > 0.1 / math.sqrt(fan_in)
    # The same parameters give the same output and gradients.
    theirs.load_state_dict({k: to_torch(v) for k, v in ours.state_dict().items()})
    dims = ours.weight.dim() - 2
    x = values((2, args[0]) + (7,) * dims, torch.float32)
    got_x, want_x = from_torch(x, requires_grad=True), x.clone().requires_grad_()
    got, want = ours(got_x), theirs(want_x)
    assert_close(got, want, rtol=1e-5, atol=1e-5)
    want.sum().backward()
    got.sum().backward()
    assert_close(got_x.grad, want_x.grad, rtol=1e-5, atol=1e-5)
    assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-5, atol=1e-4)


def test_conv_transpose2d_output_size():
    ours = nn.ConvTranspose2d(3, 2, 3, stride=2)
    theirs = torch_nn.ConvTranspose2d(3, 2, 3, stride=2)
    theirs.load_state_dict({k: to_torch(v) for k, v in ours.state_dict().items()})
    x = values((1, 3, 5, 5), torch.float32)
    for size in ([11, 11], [12, 11], [1, 3, 12, 12]):
        assert_close(ours(from_torch(x), output_size=size), theirs(x, output_size=size), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"valid sizes range from \[11, 11\] to \[12, 12\]"):
        ours(from_torch(x), output_size=[14, 14])


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"groups": 2}, ValueError, "in_channels must be divisible by groups"),
        ({"groups": 0}, ValueError, "groups must be a positive integer"),
        ({"padding": "full"}, ValueError, "Invalid padding string 'full'"),
        ({"padding": "same", "stride": 2}, ValueError, "not supported for strided convolutions"),
        ({"padding_mode": "mirror"}, ValueError, "padding_mode must be one of"),
    ],
)
def test_module_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        torch_nn.Conv2d(3, 4, 3, **kwargs)
    with pytest.raises(error, match=match):
        nn.Conv2d(3, 4, 3, **kwargs)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("name,padding", [("Conv2d", (1, 2)), ("Conv2d", "same"), ("Conv1d", 2)])
def test_padding_modes(mode, name, padding):
    ours = getattr(nn, name)(2, 3, 3, padding=padding, padding_mode=mode, dilation=1 if padding != "same" else 2)
    theirs = getattr(torch_nn, name)(2, 3, 3, padding=padding, padding_mode=mode, dilation=ours.dilation)
    assert repr(ours) == repr(theirs)
    assert ours._reversed_padding_repeated_twice == list(theirs._reversed_padding_repeated_twice)
    theirs.load_state_dict({k: to_torch(v) for k, v in ours.state_dict().items()})
    x = values((2, 2, 6, 5) if name == "Conv2d" else (2, 2, 7), torch.float32)
    got_x, want_x = from_torch(x, requires_grad=True), x.clone().requires_grad_()
    got, want = ours(got_x), theirs(want_x)
    assert_close(got, want, rtol=1e-5, atol=1e-5)
    want.sum().backward()
    got.sum().backward()
    assert_close(got_x.grad, want_x.grad, rtol=1e-5, atol=1e-5)


def test_transposed_padding_mode_error():
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        torch_nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")


# ---------------------------------------------------------------------------------------------
# Errors: the same exception type as torch and its message
# ---------------------------------------------------------------------------------------------


def _f(x_shape, w_shape, b_shape=None, x_dtype=torch.float32, w_dtype=torch.float32, function="conv2d", **kw):
    return (function, x_shape, w_shape, b_shape, x_dtype, w_dtype, kw)


ERROR_CASES = [
    (
        _f((2, 3), (4, 3, 3, 3)),
        r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[2, 3\]",
    ),  # noqa: E501
    (
        _f((1, 5, 8, 8), (4, 3, 3, 3)),
        r"Given groups=1, weight of size \[4, 3, 3, 3\], expected input\[1, 5, 8, 8\] to have 3 channels, "
        "but got 5 channels instead",
    ),  # noqa: E501
    (_f((5, 8, 8), (4, 3, 3, 3)), r"expected input\[1, 5, 8, 8\] to have 3 channels"),
    (_f((1, 6, 8, 8), (3, 2, 3, 3), groups=2), "expected weight to be divisible by 2 at dimension 0"),
    (_f((1, 3, 8, 8), (4, 3, 3, 3), stride=0), "non-positive stride is not supported"),
    (_f((1, 3, 8, 8), (4, 3, 3, 3), padding=-1), "negative padding is not supported"),
    (_f((1, 3, 8, 8), (4, 3, 3, 3), dilation=0), "dilation should be greater than zero"),
    (_f((1, 3, 8, 8), (4, 3, 3, 3), groups=0), "non-positive groups is not supported"),
    (_f((1, 3, 2, 2), (4, 3, 3, 3)), r"Calculated padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\)"),
    (_f((1, 3, 8, 8), (4, 3, 3, 3), padding="same", stride=2), "padding='same' is not supported for strided"),
    (_f((1, 3, 8, 8), (4, 3, 3, 3), padding="foo"), "Invalid padding string"),
    (
        _f((1, 3, 8, 8), (4, 3, 3, 3), (5,)),
        r"expected bias to be 1-dimensional with 4 elements, but got bias of size \[5\]",
    ),  # noqa: E501
    (_f((1, 3, 8, 8), (4, 3, 3, 3), x_dtype=torch.float64), "expected scalar type Double but found Float"),
    (_f((1, 3, 8, 8), (4, 3, 3, 3), stride=(1, 2, 3)), "a list of 2 values to match the convolution dimensions"),
    (_f((1, 5, 8), (4, 3, 3), function="conv1d"), r"expected input\[1, 5, 8\] to have 3 channels"),
    (
        _f((1, 3, 5, 5), (3, 2, 3, 3), function="conv_transpose2d", stride=2, output_padding=2),
        "output padding must be smaller than either stride or dilation",
    ),  # noqa: E501
    (
        _f((1, 4, 5, 5), (3, 2, 3, 3), function="conv_transpose2d"),
        r"Given transposed=1, weight of size \[3, 2, 3, 3\], expected input\[1, 4, 5, 5\] to have 3 channels",
    ),  # noqa: E501
    (
        _f((1, 3, 1, 1), (3, 2, 3, 3), function="conv_transpose2d", padding=3),
        r"Calculated output size per channel: \(-3 x -3\). Output size is too small",
    ),  # noqa: E501
    (
        _f((1, 4, 5, 5), (4, 2, 3, 3), (3,), function="conv_transpose2d", groups=2),
        r"Given transposed=1, weight of size \[4, 2, 3, 3\], expected bias to be 1-dimensional with 4 elements",
    ),  # noqa: E501
]


@pytest.mark.parametrize("case,match", ERROR_CASES)
def test_errors_match_torch(case, match):
    function, x_shape, w_shape, b_shape, x_dtype, w_dtype, kwargs = case
    x, w = values(x_shape, x_dtype), values(w_shape, w_dtype)
    b = None if b_shape is None else values(b_shape, torch.float32)
    with pytest.raises(RuntimeError, match=match):
        getattr(TF, function)(x, w, b, **kwargs)
    with pytest.raises(RuntimeError, match=match):
        getattr(F, function)(from_torch(x), from_torch(w), None if b is None else from_torch(b), **kwargs)


def test_padding_string_for_transposed_is_a_type_error():
    x, w = values((1, 3, 5, 5), torch.float32), values((3, 2, 3, 3), torch.float32)
    with pytest.raises(TypeError, match="argument 'padding' must be tuple of ints, not str"):
        TF.conv_transpose2d(x, w, padding="same")
    with pytest.raises(TypeError, match="argument 'padding' must be tuple of ints, not str"):
        F.conv_transpose2d(from_torch(x), from_torch(w), padding="same")
