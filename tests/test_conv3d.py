"""F.conv3d / nn.Conv3d (composed of conv2d) against torch: values and the input, weight and bias
gradients over stride, padding ('same', 'valid'), dilation and groups, unbatched and
non-contiguous inputs, float32/float64, a float64 gradcheck, module reprs and torch's errors."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, make_pair, random_values
from tritongrad import nn
from tritongrad.autograd import gradcheck

# (input shape, weight shape, options): each exercises one thing
CASES = [
    ((2, 3, 5, 4, 6), (4, 3, 3, 2, 3), dict()),  # non-cubic kernel, primes
    ((1, 4, 5, 5, 5), (4, 2, 2, 3, 2), dict(stride=(2, 1, 2), padding=(1, 0, 1), dilation=(2, 1, 1), groups=2)),
    ((1, 2, 4, 3, 5), (3, 2, 2, 2, 3), dict(padding="same")),  # even kernel: the odd padding after the end
    ((4, 4, 3, 3), (2, 2, 1, 3, 1), dict(padding="valid", groups=2)),  # unbatched
    ((1, 1, 1, 1, 1), (2, 1, 1, 1, 1), dict()),  # a single voxel
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("x_shape, w_shape, options", CASES, ids=[str(c[2]) + str(c[0]) for c in CASES])
def test_conv3d_matches_torch(x_shape, w_shape, options, dtype):
    layout = "transposed" if dtype == torch.float32 else "contiguous"
    expected_x, got_x = make_pair(x_shape, dtype, layout, requires_grad=True)
    expected_w, got_w = make_pair(w_shape, dtype, requires_grad=True)
    expected_b, got_b = make_pair((w_shape[0],), dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's 'same' with an even kernel copy warning
        expected = torch.nn.functional.conv3d(expected_x, expected_w, expected_b, **options)
    got = F.conv3d(got_x, got_w, got_b, **options)
    what = f"conv3d {x_shape} {w_shape} {options}"
    assert_close(got, expected, kind="matmul", what=what)
    assert got.is_contiguous()
    grad = random_values(expected.shape, dtype)
    expected.backward(grad)
    got.backward(from_torch(grad))
    for name, ours, theirs in (("input", got_x, expected_x), ("weight", got_w, expected_w),
                               ("bias", got_b, expected_b)):  # fmt: skip
        assert_close(ours.grad, theirs.grad, kind="matmul", what=f"{what} {name} grad")


def test_conv3d_gradcheck():
    x = from_torch(random_values((1, 2, 3, 3, 2), torch.float64), requires_grad=True)
    w = from_torch(random_values((2, 1, 2, 2, 1), torch.float64), requires_grad=True)
    b = from_torch(random_values((2,), torch.float64), requires_grad=True)
    assert gradcheck(lambda a, c, d: F.conv3d(a, c, d, padding=(1, 0, 0), groups=2), (x, w, b))


def test_conv3d_module():
    for args, kwargs in [((2, 3, (2, 3, 1)), dict(stride=2, padding=1)), ((2, 4, 3), dict(groups=2, bias=False)),
                         ((1, 2, 3), dict(padding="same", padding_mode="replicate", dilation=(1, 2, 1)))]:  # fmt: skip
        ours, theirs = nn.Conv3d(*args, **kwargs), torch.nn.Conv3d(*args, **kwargs)
        assert repr(ours) == repr(theirs)
        assert tuple(ours.weight.shape) == tuple(theirs.weight.shape)
        theirs.weight.data.copy_(ours.weight._data)
        if theirs.bias is not None:
            theirs.bias.data.copy_(ours.bias._data)
        x = random_values((1, args[0], 4, 5, 4), torch.float32)
        assert_close(ours(from_torch(x)), theirs(x), kind="matmul", what=repr(theirs))


BAD_CALLS = {
    "3-d input": lambda f, w: f.conv3d(w(torch.randn(2, 3, 3)), w(torch.randn(2, 2, 1, 1, 1))),
    "channels": lambda f, w: f.conv3d(w(torch.randn(1, 3, 3, 3, 3)), w(torch.randn(2, 2, 1, 1, 1))),
    "kernel too large": lambda f, w: f.conv3d(w(torch.randn(1, 2, 2, 3, 3)), w(torch.randn(2, 2, 3, 1, 1))),
    "strided same": lambda f, w: f.conv3d(w(torch.randn(1, 2, 3, 3, 3)), w(torch.randn(2, 2, 1, 1, 1)), stride=2,
                                          padding="same"),
    "bias size": lambda f, w: f.conv3d(w(torch.randn(1, 2, 3, 3, 3)), w(torch.randn(2, 2, 1, 1, 1)),
                                       w(torch.randn(3))),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_bad_arguments_raise_like_torch(name):
    outcomes = []
    for library, wrap in ((torch.nn.functional, lambda t: t), (F, from_torch)):
        try:
            BAD_CALLS[name](library, wrap)
        except Exception as error:  # noqa: BLE001 (what each library raises is the point)
            outcomes.append((type(error), str(error)))
        else:
            outcomes.append(None)
    theirs, ours = outcomes
    assert theirs is not None and ours is not None, outcomes
    assert ours[0] is theirs[0], outcomes
    assert ours[1] == theirs[1], outcomes
