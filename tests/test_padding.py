"""F.pad (kernels/pad.py, tritongrad/ops/padding.py) and the padding layers against torch.

Forward values must be identical (padding copies); gradients of reflect, replicate and circular
padding sum several copies of an element and are compared with torch's autograd.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import tritongrad
import tritongrad.nn as tnn
import tritongrad.nn.functional as TF
from tests.utils import assert_close, from_torch, make_pair, random_values

# (input shape, pad, mode); each exercises something.
CASES = [
    ((2, 3, 7, 8), (1, 2), "constant"),  # last dim only
    ((2, 3, 5, 7), (1, 2, -1, 3), "constant"),  # negative padding crops
    ((2, 3, 4, 5), (1, 0, 2, 1, 0, 2, 1, 1), "constant"),  # four dims: two launches
    ((2, 3, 5, 6), (2, 1, 3, 2), "reflect"),
    ((3, 7), (2, 3), "reflect"),  # unbatched 1-d
    ((1, 2, 4, 5, 6), (1, 2, 3, 0, 2, 1), "reflect"),  # 3-d
    ((2, 3, 5, 6), (-1, 2, 3, -2), "reflect"),  # cropping on one side
    ((2, 3, 5, 6), (4, 1, 0, 3), "replicate"),  # pads wider than half the input
    ((2, 1, 3), (5, 6), "replicate"),
    ((2, 2, 3, 4, 5), (1, 2, 3, 0, 2, 1), "replicate"),
    ((1, 2, 1, 1), (2, 2, 3, 3), "replicate"),  # a single pixel fills everything
    ((2, 3, 5, 6), (2, 1, 3, 5), "circular"),  # pad equal to the size: one full wrap
    ((2, 3, 5, 6), (-1, 2, 3, -2), "circular"),  # torch wraps around the cropped input
]


@pytest.mark.parametrize("shape,pad,mode", CASES)
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_pad(shape, pad, mode, layout):
    dtype = torch.float64 if layout == "transposed" else torch.float32
    expected_x, x = make_pair(shape, dtype, layout, requires_grad=True)
    value = {"value": 1.5} if mode == "constant" else {}
    expected = F.pad(expected_x, pad, mode=mode, **value)
    got = TF.pad(x, pad, mode=mode, **value)
    assert_close(got, expected, rtol=0, atol=0, what=f"pad {pad} {mode}")
    assert type(got.grad_fn).__name__ == type(expected.grad_fn).__name__
    grad_out = random_values(tuple(expected.shape), dtype)
    expected.backward(grad_out)
    got.backward(from_torch(grad_out))
    assert_close(x.grad, expected_x.grad, what=f"pad {pad} {mode} grad")


@pytest.mark.parametrize(
    "pad,mode",
    [((1, 2, 3, 0), "constant"), ((2, 1), "constant"), ((2, 1, 1, 3), "reflect"), ((1, 2, 0, 3), "replicate")],
)
def test_channels_last_in_and_out(pad, mode):
    """A channels-last input gives a channels-last output and gradient, as torch's."""
    values = random_values((2, 5, 6, 4), torch.float32).permute(0, 3, 1, 2)  # (2, 4, 5, 6), channels last
    expected_x, x = values.clone().requires_grad_(), from_torch(values, requires_grad=True)
    expected, got = F.pad(expected_x, pad, mode=mode), TF.pad(x, pad, mode=mode)
    assert_close(got, expected, rtol=0, atol=0)
    assert got.stride() == expected.stride(), f"strides {got.stride()}, torch {expected.stride()}"
    grad_out = random_values(tuple(expected.shape), torch.float32)
    expected.backward(grad_out)
    got.backward(from_torch(grad_out))
    assert_close(x.grad, expected_x.grad, what="grad")
    assert x.grad.stride() == expected_x.grad.stride()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.int64, torch.bool])
def test_pad_other_dtypes(dtype):
    values = random_values((2, 3, 4), dtype)
    for mode, value in (("constant", 2), ("reflect", None), ("replicate", None)):
        if dtype == torch.bool and mode != "constant":
            continue  # torch has no reflect/replicate kernels for bool
        expected = F.pad(values, (2, 1), mode=mode, value=value)
        assert_close(TF.pad(from_torch(values), (2, 1), mode=mode, value=value), expected, rtol=0, atol=0)


def test_pad_float64_value_is_exact_and_empty_shapes():
    values = random_values((2, 3), torch.float64)
    assert_close(TF.pad(from_torch(values), (1, 1), value=0.1), F.pad(values, (1, 1), value=0.1), rtol=0, atol=0)
    empty = random_values((0, 3, 4), torch.float32)
    assert_close(TF.pad(from_torch(empty), (1, 1), mode="reflect"), F.pad(empty, (1, 1), mode="reflect"))
    assert_close(TF.pad(from_torch(values), (-2, -1)), F.pad(values, (-2, -1)))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck_and_double_backward(mode):
    x = from_torch(random_values((1, 2, 3, 4), torch.float64), requires_grad=True)
    fn = lambda t: TF.pad(t, (2, 1, 1, 2), mode=mode)  # noqa: E731
    assert tritongrad.autograd.gradcheck(fn, (x,), fast_mode=True)
    # Padding is linear: its backward is differentiable (its gradient pads again).
    grad_out = from_torch(random_values((1, 2, 6, 7), torch.float64), requires_grad=True)
    (grad_x,) = tritongrad.autograd.grad(fn(x), x, grad_out, create_graph=True)
    (grad_grad,) = tritongrad.autograd.grad((grad_x * x).sum(), grad_out)
    expected = F.pad(torch.tensor(x.tolist(), dtype=torch.float64), (2, 1, 1, 2), mode=mode)
    assert_close(grad_grad, expected, what="double backward")


ERROR_CASES = [
    ((2, 3, 7, 8), dict(pad=(1, 2, 3))),
    ((2, 3), dict(pad=(1, 1, 1, 1, 1, 1))),
    ((2, 3, 7, 8), dict(pad=(1, 1), mode="foo")),
    ((2, 3, 7, 8), dict(pad=(8, 1, 0, 0), mode="reflect")),
    ((2, 3, 7, 8), dict(pad=(9, 1, 0, 0), mode="circular")),
    ((2, 3, 7, 8), dict(pad=(1, 1), mode="reflect")),  # non-constant modes need 1 or 2 more dims
    ((3,), dict(pad=(1, 1), mode="replicate")),
    ((2, 0, 3), dict(pad=(1, 1), mode="replicate")),
    ((2, 3, 7, 8), dict(pad=(1, 1, 0, 0), mode="reflect", value=1.0)),
    ((2, 3, 7, 8), dict(pad=(-4, -5))),
]


@pytest.mark.parametrize("shape,kwargs", ERROR_CASES)
def test_pad_errors_like_torch(shape, kwargs):
    values = random_values(shape, torch.float32)
    with pytest.raises(Exception) as expected:
        F.pad(values, **kwargs)
    with pytest.raises(type(expected.value)):
        TF.pad(from_torch(values), **kwargs)


MODULES = [
    ("ZeroPad2d", (1,)),
    ("ZeroPad1d", ((2, 1),)),
    ("ConstantPad2d", ((1, 2, 0, 3), 2.5)),
    ("ConstantPad1d", (2, -1.0)),
    ("ReflectionPad2d", ((1, 2, 2, 1),)),
    ("ReflectionPad1d", (2,)),
    ("ReplicationPad2d", (3,)),
    ("ReplicationPad1d", ((1, 4),)),
    ("ZeroPad3d", ((1, 0, 2, 1, 0, 1),)),
    ("ConstantPad3d", (1, 0.5)),
    ("ReflectionPad3d", ((1, 2, 1, 1, 0, 1),)),
    ("ReplicationPad3d", (2,)),
    ("CircularPad1d", (3,)),
    ("CircularPad2d", ((1, 2, 3, 0),)),
    ("CircularPad3d", (1,)),
]


@pytest.mark.parametrize("name,args", MODULES)
def test_padding_modules(name, args):
    ours, theirs = getattr(tnn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert ours.padding == theirs.padding
    assert list(ours.state_dict().keys()) == list(theirs.state_dict().keys()) == []
    shapes = {"1d": (2, 3, 6), "2d": (2, 3, 5, 6), "3d": (2, 3, 4, 5, 6)}
    values = random_values(shapes[name[-2:]], torch.float32)
    assert_close(ours(from_torch(values)), theirs(values), rtol=0, atol=0)
