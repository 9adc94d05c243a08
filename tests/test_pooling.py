"""Pooling (kernels/pool.py, tritongrad/ops/pooling.py, nn pooling layers) against torch.

Each case runs torch.nn.functional and tritongrad on the same values in the same layout, then
backpropagates the same random output gradient through both. Max pooling's argmax is compared
exactly (indices), which needs values without ties: the inputs are random floats.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import tritongrad
import tritongrad.nn as tnn
import tritongrad.nn.functional as TF
from tests.utils import assert_close, from_torch, make_pair, random_values, to_torch

# (input shape, kwargs) for max_pool2d; each exercises something.
MAX_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2)),  # the common 2x2/2
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),  # odd sizes, padding
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),  # ceil_mode adds a window
    ((1, 2, 11, 13), dict(kernel_size=3, stride=1)),  # overlapping windows (stride < kernel), primes
    ((2, 2, 9, 8), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(2, 3))),  # dilation
    ((3, 5, 6), dict(kernel_size=1)),  # unbatched, kernel 1
    ((1, 1, 5, 5), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),  # ceil_mode dropping a window
    ((1, 2, 10, 11), dict(kernel_size=(2, 3), stride=(3, 4))),  # stride > kernel: inputs in no window
    ((1, 2, 3, 4), dict(kernel_size=3, stride=1)),  # fewer outputs than windows over an input (kernel / stride)
]

AVG_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),  # windows past the padding
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ((1, 2, 11, 13), dict(kernel_size=(3, 2), stride=1, padding=(1, 0), divisor_override=5)),  # overlapping
    ((3, 5, 6), dict(kernel_size=1)),  # unbatched, kernel 1
    ((1, 2, 10, 11), dict(kernel_size=2, stride=3, padding=1, count_include_pad=False)),  # gaps between windows
    ((1, 2, 7, 3), dict(kernel_size=(5, 1), stride=1)),  # 3 outputs, 5 windows' reach (local_response_norm's)
]


def run_both(tg_fn, torch_fn, shape, dtype, layout, *, grad=True, outputs=1):
    """Forward both, compare; then backward the same gradient and compare x.grad."""
    expected_x, x = make_pair(shape, dtype, layout, requires_grad=grad)
    expected = torch_fn(expected_x)
    got = tg_fn(x)
    if outputs == 2:
        assert_close(got[1], expected[1], what="indices")
        expected, got = expected[0], got[0]
    assert_close(got, expected, what="forward")
    if grad:
        assert type(got.grad_fn).__name__ == type(expected.grad_fn).__name__
        grad_out = random_values(tuple(expected.shape), dtype)
        expected.backward(grad_out)
        got.backward(from_torch(grad_out))
        assert_close(x.grad, expected_x.grad, what="grad")


@pytest.mark.parametrize("shape,kwargs", MAX_CASES)
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_max_pool2d(shape, kwargs, layout):
    dtype = torch.float64 if layout == "transposed" else torch.float32
    run_both(
        lambda t: TF.max_pool2d(t, **kwargs, return_indices=True),
        lambda t: F.max_pool2d(t, **kwargs, return_indices=True),
        shape,
        dtype,
        layout,
        outputs=2,
    )


@pytest.mark.parametrize("shape,kwargs", AVG_CASES)
@pytest.mark.parametrize("layout", ["contiguous", "sliced"])
def test_avg_pool2d(shape, kwargs, layout):
    dtype = torch.float64 if layout == "sliced" else torch.float32
    run_both(lambda t: TF.avg_pool2d(t, **kwargs), lambda t: F.avg_pool2d(t, **kwargs), shape, dtype, layout)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_forward(dtype):
    for fn, torch_fn in [
        (lambda t: TF.max_pool2d(t, 3, 2, 1), lambda t: F.max_pool2d(t, 3, 2, 1)),
        (lambda t: TF.avg_pool2d(t, 3, 2, 1), lambda t: F.avg_pool2d(t, 3, 2, 1)),
        (lambda t: TF.adaptive_avg_pool2d(t, (3, 2)), lambda t: F.adaptive_avg_pool2d(t, (3, 2))),
    ]:
        run_both(fn, torch_fn, (2, 3, 7, 9), dtype, "contiguous", grad=False)


def test_max_pool2d_integer_input():
    values = torch.randint(-50, 50, (2, 3, 5, 7))
    assert_close(TF.max_pool2d(from_torch(values), 2, 1), F.max_pool2d(values, 2, 1))


def test_max_pool2d_nan_is_the_maximum():
    values = random_values((1, 2, 6, 6), torch.float32)
    values[0, 0, 1, 1] = float("nan")
    values[0, 1, 4, 3] = float("nan")
    values[0, 1, 4, 4] = float("nan")  # two NaNs in one window: torch keeps the later
    values[0, 1, 0, :] = float("-inf")  # a window of -inf only keeps its first index
    values[0, 1, 1, 0:2] = float("-inf")
    expected, expected_indices = F.max_pool2d(values, 2, 2, return_indices=True)
    got, indices = TF.max_pool2d(from_torch(values), 2, 2, return_indices=True)
    assert_close(got, expected)
    assert_close(indices, expected_indices, what="indices")


@pytest.mark.parametrize(
    "name,args",
    [
        ("max_pool2d", (3, 2, 1)),
        ("avg_pool2d", (2,)),
        ("adaptive_avg_pool2d", ((3, 2),)),
        ("adaptive_max_pool2d", (3,)),
    ],
)
def test_channels_last_in_and_out(name, args):
    """A channels-last input gives channels-last outputs, indices and gradients, as torch's."""
    values = random_values((2, 5, 6, 4), torch.float32).permute(0, 3, 1, 2)  # (2, 4, 5, 6), channels last
    expected_x, x = values.clone().requires_grad_(), from_torch(values, requires_grad=True)
    expected, got = getattr(F, name)(expected_x, *args), getattr(TF, name)(x, *args)
    assert_close(got, expected)
    assert got.stride() == expected.stride(), f"{name}: strides {got.stride()}, torch {expected.stride()}"
    grad_out = random_values(tuple(expected.shape), torch.float32)
    expected.backward(grad_out)
    got.backward(from_torch(grad_out))
    assert_close(x.grad, expected_x.grad, what="grad")
    assert x.grad.stride() == expected_x.grad.stride()
    if name == "max_pool2d":
        _, indices = TF.max_pool2d(x, *args, return_indices=True)
        _, expected_indices = F.max_pool2d(expected_x, *args, return_indices=True)
        assert_close(indices, expected_indices)
        assert indices.stride() == expected_indices.stride()


def test_empty_batch():
    empty = random_values((0, 3, 4, 4), torch.float32)
    assert_close(TF.max_pool2d(from_torch(empty), 2), F.max_pool2d(empty, 2))
    assert_close(TF.adaptive_avg_pool2d(from_torch(empty), 3), F.adaptive_avg_pool2d(empty, 3))
    # An empty output (adaptive pooling to 0) uses no input: a zero gradient (torch's backward
    # refuses an empty grad_output instead; a deliberate difference).
    x = from_torch(random_values((2, 3, 4, 5), torch.float32), requires_grad=True)
    TF.adaptive_max_pool2d(x, (0, 2)).sum().backward()
    assert_close(x.grad, torch.zeros(2, 3, 4, 5))


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("max_pool1d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        ("max_pool1d", dict(kernel_size=2, dilation=2)),
        ("avg_pool1d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
        ("avg_pool1d", dict(kernel_size=4, stride=1, padding=2, ceil_mode=True)),
    ],
)
@pytest.mark.parametrize("shape", [(2, 3, 11), (4, 9)])
def test_pool1d(name, kwargs, shape):
    run_both(
        lambda t: getattr(TF, name)(t, **kwargs),
        lambda t: getattr(F, name)(t, **kwargs),
        shape,
        torch.float64,
        "sliced",
    )


def test_max_pool1d_indices():
    run_both(
        lambda t: TF.max_pool1d(t, 3, 2, return_indices=True),
        lambda t: F.max_pool1d(t, 3, 2, return_indices=True),
        (2, 3, 10),
        torch.float32,
        "contiguous",
        outputs=2,
    )


@pytest.mark.parametrize(
    "shape,output_size",
    [
        ((2, 3, 7, 9), (3, 4)),  # overlapping uneven windows
        ((2, 3, 5, 4), (7, 9)),  # more outputs than inputs
        ((3, 6, 8), 1),  # unbatched, global pooling
        ((2, 3, 6, 5), (None, 2)),  # None keeps the input's size
    ],
)
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pool2d(shape, output_size, kind):
    dtype = torch.float64 if kind == "avg" else torch.float32
    name = f"adaptive_{kind}_pool2d"
    run_both(
        lambda t: getattr(TF, name)(t, output_size),
        lambda t: getattr(F, name)(t, output_size),
        shape,
        dtype,
        "transposed",
    )


def test_adaptive_max_pool2d_indices_and_1d():
    run_both(
        lambda t: TF.adaptive_max_pool2d(t, (2, 3), return_indices=True),
        lambda t: F.adaptive_max_pool2d(t, (2, 3), return_indices=True),
        (2, 2, 7, 8),
        torch.float32,
        "contiguous",
        outputs=2,
    )
    for ours, theirs in (
        (TF.adaptive_avg_pool1d, F.adaptive_avg_pool1d),
        (TF.adaptive_max_pool1d, F.adaptive_max_pool1d),
    ):
        run_both(lambda t, f=ours: f(t, 4), lambda t, f=theirs: f(t, 4), (2, 3, 9), torch.float64, "sliced")


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: TF.max_pool2d(t, 3, 2, 1, ceil_mode=True),
        lambda t: TF.avg_pool2d(t, 3, 1, 1, count_include_pad=False),
        lambda t: TF.adaptive_avg_pool2d(t, (3, 2)),
        lambda t: TF.adaptive_max_pool2d(t, (2, 3)),
    ],
    ids=["max", "avg", "adaptive_avg", "adaptive_max"],
)
def test_gradcheck_float64(fn):
    x = from_torch(random_values((1, 1, 4, 5), torch.float64), requires_grad=True)
    assert tritongrad.autograd.gradcheck(fn, (x,), fast_mode=True)


@pytest.mark.parametrize(
    "name,args",
    [("max_pool2d", (3, 2, 1)), ("avg_pool2d", (3, 2, 1)), ("adaptive_max_pool2d", ((2, 3),)), ("max_pool1d", (2,))],
)
def test_double_backward(name, args):
    """The backward is linear in the output gradient: its gradient w.r.t. it (a gather at the argmax,
    or the average pooling again) matches torch's double backward."""
    shape = (2, 3, 9) if name.endswith("1d") else (1, 2, 5, 6)
    expected_x, x = make_pair(shape, torch.float64, "contiguous", requires_grad=True)
    expected, got = getattr(F, name)(expected_x, *args), getattr(TF, name)(x, *args)
    expected_g, g = make_pair(tuple(expected.shape), torch.float64, "contiguous", requires_grad=True)
    weights = random_values(shape, torch.float64)
    (expected_gx,) = torch.autograd.grad(expected, expected_x, expected_g, create_graph=True)
    (gx,) = tritongrad.autograd.grad(got, x, g, create_graph=True)
    assert_close(gx, expected_gx, what="first-order grad")
    (expected_gg,) = torch.autograd.grad((expected_gx * weights).sum(), expected_g)
    (gg,) = tritongrad.autograd.grad((gx * from_torch(weights)).sum(), g)
    assert_close(gg, expected_gg, what="grad of the backward")


ERROR_CASES = [
    ("max_pool2d", (2, 3, 7, 8), dict(kernel_size=3, padding=2)),
    ("max_pool2d", (2, 3, 7, 8), dict(kernel_size=2, padding=2, dilation=3)),
    ("max_pool2d", (2, 3, 7, 8), dict(kernel_size=0, stride=1)),
    ("max_pool2d", (2, 3, 7, 8), dict(kernel_size=2, stride=0)),
    ("max_pool2d", (2, 3, 7, 8), dict(kernel_size=2, dilation=0)),
    ("max_pool2d", (2, 3, 7, 8), dict(kernel_size=2, padding=-1)),
    ("max_pool2d", (2, 3, 7, 8), dict(kernel_size=(2, 2, 2))),
    ("max_pool2d", (7, 8), dict(kernel_size=2)),
    ("max_pool2d", (2, 0, 4, 4), dict(kernel_size=2)),
    ("max_pool2d", (2, 3, 7, 8), dict(kernel_size=8)),
    ("avg_pool2d", (2, 3, 7, 8), dict(kernel_size=3, padding=2)),
    ("avg_pool2d", (2, 3, 7, 8), dict(kernel_size=2, divisor_override=0)),
    ("avg_pool2d", (1, 2, 3, 7, 8), dict(kernel_size=2)),
    ("avg_pool1d", (2, 3, 7, 8), dict(kernel_size=2)),
    ("adaptive_avg_pool2d", (7, 8), dict(output_size=2)),
    ("adaptive_avg_pool2d", (2, 3, 7, 8), dict(output_size=(2, 2, 2))),
    ("adaptive_max_pool2d", (2, 0, 3, 3), dict(output_size=2)),
]


@pytest.mark.parametrize("name,shape,kwargs", ERROR_CASES)
def test_errors_like_torch(name, shape, kwargs):
    values = random_values(shape, torch.float32)
    with pytest.raises(Exception) as expected:
        getattr(F, name)(values, **kwargs)
    with pytest.raises(type(expected.value)):
        getattr(TF, name)(from_torch(values), **kwargs)


MODULES = [
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("MaxPool1d", (2,), {}),
    ("AvgPool2d", ((3, 2),), dict(stride=1, count_include_pad=False)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1)),
    ("AdaptiveAvgPool2d", ((2, 3),), {}),
    ("AdaptiveAvgPool1d", (3,), {}),
    ("AdaptiveMaxPool2d", (2,), dict(return_indices=False)),
    ("AdaptiveMaxPool1d", (3,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES)
def test_modules(name, args, kwargs):
    ours, theirs = getattr(tnn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict().keys()) == list(theirs.state_dict().keys()) == []
    shape = (2, 3, 7, 9) if name.endswith("2d") else (2, 3, 9)
    values = random_values(shape, torch.float32)
    assert_close(ours(from_torch(values)), theirs(values))
    assert to_torch(ours(from_torch(values))).shape == theirs(values).shape
