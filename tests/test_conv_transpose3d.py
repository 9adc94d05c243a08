"""F.conv_transpose3d / nn.ConvTranspose3d (composed of conv_transpose2d) and torch.nn.grad's
conv{1,2,3}d_input / conv{1,2,3}d_weight against torch: values and the input, weight and bias
gradients over stride, padding, output_padding, dilation and groups, unbatched and non-contiguous
inputs, float32/float64, float64 gradchecks, the module's repr and output_size, and torch's errors."""

from __future__ import annotations

import pytest
import torch

import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, make_pair, random_values
from tritongrad import nn
from tritongrad.autograd import gradcheck

# (input shape, weight shape, options): each exercises one thing
CASES = [
    ((2, 4, 3, 4, 5), (4, 3, 2, 3, 2), dict()),  # non-cubic kernel, primes, batch of two
    # every argument per axis; output_padding < stride on D/W, < dilation on H
    ((1, 4, 3, 3, 4), (4, 1, 3, 2, 2),
     dict(stride=(2, 1, 3), padding=(1, 0, 1), output_padding=(1, 1, 2), groups=2, dilation=(2, 3, 1))),
    ((3, 2, 2, 3), (3, 2, 2, 1, 3), dict(stride=3, padding=(2, 0, 1))),  # unbatched; the padding crops
    ((1, 2, 2, 2, 2), (2, 3, 1, 1, 1), dict(stride=2, padding=1)),  # no input plane reaches the output
    ((1, 1, 1, 1, 1), (1, 2, 1, 1, 1), dict()),  # a single voxel
]  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("x_shape, w_shape, options", CASES, ids=[str(c[2]) + str(c[0]) for c in CASES])
def test_conv_transpose3d_matches_torch(x_shape, w_shape, options, dtype):
    layout = "transposed" if dtype == torch.float32 else "contiguous"
    expected_x, got_x = make_pair(x_shape, dtype, layout, requires_grad=True)
    expected_w, got_w = make_pair(w_shape, dtype, "sliced" if dtype == torch.float32 else "contiguous",
                                  requires_grad=True)  # fmt: skip
    out_channels = w_shape[1] * options.get("groups", 1)
    expected_b, got_b = make_pair((out_channels,), dtype, requires_grad=True)
    expected = torch.nn.functional.conv_transpose3d(expected_x, expected_w, expected_b, **options)
    got = F.conv_transpose3d(got_x, got_w, got_b, **options)
    what = f"conv_transpose3d {x_shape} {w_shape} {options} {dtype}"
    assert_close(got, expected, kind="matmul", what=what)
    assert got.is_contiguous()
    grad = random_values(expected.shape, dtype)
    expected.backward(grad)
    got.backward(from_torch(grad))
    for name, ours, theirs in (("input", got_x, expected_x), ("weight", got_w, expected_w),
                               ("bias", got_b, expected_b)):  # fmt: skip
        assert ours.grad is not None, f"{what}: no {name} gradient"
        assert_close(ours.grad, theirs.grad, kind="matmul", what=f"{what} {name} grad")


def test_conv_transpose3d_gradcheck():
    x = from_torch(random_values((1, 2, 2, 3, 2), torch.float64), requires_grad=True)
    w = from_torch(random_values((2, 2, 2, 1, 2), torch.float64), requires_grad=True)
    b = from_torch(random_values((4,), torch.float64), requires_grad=True)
    options = dict(stride=(2, 1, 2), padding=(1, 0, 0), output_padding=(1, 0, 0), groups=2)
    # (fast mode: one random projection of the Jacobian; the full one takes a backward per output element)
    assert gradcheck(lambda a, c, d: F.conv_transpose3d(a, c, d, **options), (x, w, b), fast_mode=True)
    # and the full Jacobian on a tiny one (stride, padding and output_padding along D, the composed axis)
    x = from_torch(random_values((1, 1, 2, 1, 2), torch.float64), requires_grad=True)
    w = from_torch(random_values((1, 1, 2, 1, 1), torch.float64), requires_grad=True)
    options = dict(stride=(2, 1, 1), padding=(1, 0, 0), output_padding=(1, 0, 0))
    assert gradcheck(lambda a, c: F.conv_transpose3d(a, c, **options), (x, w))


def test_conv_transpose3d_module():
    for args, kwargs in [((4, 2, (2, 3, 1)), dict(stride=2, padding=1, output_padding=1, groups=2)),
                         ((2, 3, 2), dict(dilation=(1, 2, 1), bias=False))]:  # fmt: skip
        ours, theirs = nn.ConvTranspose3d(*args, **kwargs), torch.nn.ConvTranspose3d(*args, **kwargs)
        assert repr(ours) == repr(theirs)
        assert tuple(ours.weight.shape) == tuple(theirs.weight.shape)
        theirs.weight.data.copy_(ours.weight._data)
        if theirs.bias is not None:
            theirs.bias.data.copy_(ours.bias._data)
        x = random_values((1, args[0], 3, 2, 3), torch.float32)
        assert_close(ours(from_torch(x)), theirs(x), kind="matmul", what=repr(theirs))
    # output_size picks the output_padding (any size from the smallest up to stride - 1 more)
    ours, theirs = nn.ConvTranspose3d(2, 3, 3, stride=(3, 2, 1), padding=1), torch.nn.ConvTranspose3d(2, 3, 3)
    theirs.stride, theirs.padding = (3, 2, 1), (1, 1, 1)
    theirs.weight.data.copy_(ours.weight._data)
    theirs.bias.data.copy_(ours.bias._data)
    x = random_values((2, 2, 3, 3, 3), torch.float32)
    for size in [(7, 5, 3), (9, 6, 3), (1, 2, 8, 6, 3)]:
        assert_close(ours(from_torch(x), output_size=size), theirs(x, output_size=size), kind="matmul",
                     what=f"output_size={size}")  # fmt: skip


BAD_CALLS = {
    "output_padding >= stride": lambda f, w: f.conv_transpose3d(
        w(torch.randn(1, 2, 3, 3, 3)), w(torch.randn(2, 2, 2, 2, 2)), stride=(2, 1, 2), output_padding=(1, 1, 0)),
    "channels": lambda f, w: f.conv_transpose3d(w(torch.randn(1, 2, 3, 3, 3)), w(torch.randn(3, 2, 2, 2, 2))),
    "groups above weight size": lambda f, w: f.conv_transpose3d(
        w(torch.randn(1, 2, 3, 3, 3)), w(torch.randn(2, 2, 2, 2, 2)), groups=3),
    "groups not dividing": lambda f, w: f.conv_transpose3d(
        w(torch.randn(1, 3, 3, 3, 3)), w(torch.randn(3, 2, 2, 2, 2)), groups=2),
    "conv2d groups above weight size": lambda f, w: f.conv2d(
        w(torch.randn(1, 3, 3, 3)), w(torch.randn(2, 1, 1, 1)), groups=3),
    "3-d input": lambda f, w: f.conv_transpose3d(w(torch.randn(2, 3, 3)), w(torch.randn(2, 2, 1, 1, 1))),
    "bias size": lambda f, w: f.conv_transpose3d(
        w(torch.randn(1, 2, 3, 3, 3)), w(torch.randn(2, 2, 1, 1, 1)), w(torch.randn(3))),
    "output too small": lambda f, w: f.conv_transpose3d(
        w(torch.randn(1, 2, 3, 3, 3)), w(torch.randn(2, 2, 2, 2, 2)), padding=5),
    "negative padding": lambda f, w: f.conv_transpose3d(
        w(torch.randn(1, 2, 3, 3, 3)), w(torch.randn(2, 2, 2, 2, 2)), padding=-1),
    "stride of two values": lambda f, w: f.conv_transpose3d(
        w(torch.randn(1, 2, 3, 3, 3)), w(torch.randn(2, 2, 2, 2, 2)), stride=(1, 2)),
    "string padding": lambda f, w: f.conv_transpose3d(
        w(torch.randn(1, 2, 3, 3, 3)), w(torch.randn(2, 2, 2, 2, 2)), padding="same"),
    "dtypes": lambda f, w: f.conv_transpose3d(w(torch.randn(1, 2, 3, 3, 3)), w(torch.randn(2, 2, 2, 2, 2).double())),
}  # fmt: skip


def _outcomes(call, ours_module, theirs_module) -> list:
    outcomes = []
    for library, wrap in ((theirs_module, lambda t: t), (ours_module, from_torch)):
        try:
            call(library, wrap)
        except Exception as error:  # noqa: BLE001 (what each library raises is the point)
            outcomes.append((type(error), str(error)))
        else:
            outcomes.append(None)
    return outcomes


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_bad_arguments_raise_like_torch(name):
    theirs, ours = _outcomes(BAD_CALLS[name], F, torch.nn.functional)
    assert theirs is not None and ours is not None, (theirs, ours)
    assert ours == theirs


MODULE_ERRORS = {
    "output_size out of range": lambda nn_, w: nn_.ConvTranspose3d(2, 3, 2)(w(torch.randn(1, 2, 3, 3, 3)),
                                                                             output_size=(9, 9, 9)),
    "output_size length": lambda nn_, w: nn_.ConvTranspose3d(2, 3, 2)(w(torch.randn(1, 2, 3, 3, 3)),
                                                                       output_size=(9, 9)),
    "padding mode": lambda nn_, w: nn_.ConvTranspose3d(2, 3, 2, padding_mode="reflect"),
    "groups": lambda nn_, w: nn_.ConvTranspose3d(2, 3, 2, groups=2),
}  # fmt: skip


@pytest.mark.parametrize("name", list(MODULE_ERRORS))
def test_module_errors_like_torch(name):
    theirs, ours = _outcomes(MODULE_ERRORS[name], nn, torch.nn)
    assert theirs is not None and ours is not None, (theirs, ours)
    assert ours[0] is theirs[0], (theirs, ours)
    # (the message names the input's torch.Size; ours prints the same)
    assert ours[1] == theirs[1], (theirs, ours)


# torch.nn.grad: (dims, input shape, weight shape, options)
GRAD_CASES = [
    (1, (2, 4, 9), (6, 2, 3), dict(stride=2, padding=1, dilation=2, groups=2)),
    (2, (2, 3, 6, 5), (4, 3, 3, 2), dict(stride=(2, 1), padding=(1, 0))),
    (2, (1, 2, 6, 6), (2, 1, 2, 2), dict(stride=2, groups=2)),  # input rows the convolution never reads
    (3, (2, 2, 5, 4, 4), (4, 2, 2, 3, 2), dict(stride=(2, 1, 2), padding=(1, 1, 0), dilation=(2, 1, 1))),
    (3, (1, 4, 3, 3, 3), (2, 2, 3, 1, 2), dict(padding=1, groups=2)),
]


@pytest.mark.parametrize("dims, x_shape, w_shape, options", GRAD_CASES, ids=[str(c[:3]) for c in GRAD_CASES])
def test_nn_grad_matches_torch(dims, x_shape, w_shape, options):
    dtype = torch.float64
    x, w = random_values(x_shape, dtype), random_values(w_shape, dtype)
    conv = getattr(torch.nn.functional, f"conv{dims}d")
    grad_output = random_values(conv(x, w, **options).shape, dtype)
    ours_input = getattr(nn.grad, f"conv{dims}d_input")(x.shape, from_torch(w), from_torch(grad_output), **options)
    ours_weight = getattr(nn.grad, f"conv{dims}d_weight")(from_torch(x), w.shape, from_torch(grad_output), **options)
    theirs_input = getattr(torch.nn.grad, f"conv{dims}d_input")(x.shape, w, grad_output, **options)
    theirs_weight = getattr(torch.nn.grad, f"conv{dims}d_weight")(x, w.shape, grad_output, **options)
    what = f"conv{dims}d {x_shape} {w_shape} {options}"
    assert_close(ours_input, theirs_input, kind="matmul", what=f"{what} input grad")
    assert_close(ours_weight, theirs_weight, kind="matmul", what=f"{what} weight grad")


def test_nn_grad_3d_gradcheck():
    """conv3d_input / conv3d_weight are differentiable in both tensor operands (the 3-D ones are composed)."""
    x = from_torch(random_values((1, 2, 3, 2, 3), torch.float64), requires_grad=True)
    w = from_torch(random_values((2, 1, 2, 2, 1), torch.float64), requires_grad=True)
    g = from_torch(random_values((1, 2, 2, 1, 3), torch.float64), requires_grad=True)
    options = dict(stride=(1, 1, 2), padding=(0, 0, 1), groups=2)
    assert gradcheck(lambda c, d: nn.grad.conv3d_input(x.shape, c, d, **options), (w, g), fast_mode=True)
    assert gradcheck(lambda a, d: nn.grad.conv3d_weight(a, w.shape, d, **options), (x, g), fast_mode=True)


def test_nn_grad_errors():
    x, w = torch.randn(2, 3, 7, 7), torch.randn(4, 3, 3, 3)
    grad_output = torch.randn(2, 4, 5, 5)
    # A grad_output that is not the convolution's output size: torch's (oneDNN's) message differs.
    for call in (lambda g, W: g.conv2d_input((2, 3, 8, 8), W(w), W(grad_output), stride=2, padding=1),
                 lambda g, W: g.conv2d_weight(W(torch.randn(2, 3, 8, 8)), (4, 3, 3, 3), W(grad_output))):  # fmt: skip
        theirs, ours = _outcomes(call, nn.grad, torch.nn.grad)
        assert theirs is not None and ours is not None and ours[0] is theirs[0] is RuntimeError, (theirs, ours)
        assert "is not the size of the convolution's output" in ours[1]
    same = [
        lambda g, W: g.conv2d_input((2, 3, 7), W(w), W(grad_output)),
        lambda g, W: g.conv2d_weight(W(x), (4, 3, 3, 3), W(grad_output), stride=(1, 2, 3)),
        lambda g, W: g.conv2d_weight(W(x), (4, 1, 3, 3), W(grad_output), groups=3),
    ]
    for call in same:
        theirs, ours = _outcomes(call, nn.grad, torch.nn.grad)
        assert theirs is not None and ours == theirs, (theirs, ours)
