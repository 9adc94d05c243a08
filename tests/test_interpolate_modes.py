"""F.interpolate's 'bicubic' (4-d) and 5-d modes ('trilinear', 'nearest', 'nearest-exact') and
nn.Upsample with them, against torch: values, gradients, grad_fn names, strided and half inputs,
float64 gradcheck and double backward, torch's errors."""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, make_pair, random_values
from tritongrad import nn
from tritongrad.autograd import gradcheck

# (input shape, interpolate keywords): each exercises one thing
CASES = [
    ((2, 3, 5, 4), dict(size=(9, 7), mode="bicubic")),  # upsampling, primes
    ((1, 2, 9, 8), dict(size=(4, 3), mode="bicubic", align_corners=True)),  # downsampling
    ((1, 1, 6, 7), dict(scale_factor=1.7, mode="bicubic")),  # a scale factor's sources
    ((1, 2, 1, 3), dict(size=(1, 8), mode="bicubic", align_corners=True)),  # a unit dim: clamped taps
    ((1, 1, 4, 4), dict(size=(4, 4), mode="bicubic")),  # same size: a copy
    ((2, 2, 3, 4, 5), dict(size=(5, 3, 7), mode="trilinear")),  # up in D and W, down in H
    ((1, 2, 4, 3, 2), dict(scale_factor=(1.5, 2, 0.5), mode="trilinear", align_corners=True)),
    ((1, 1, 1, 2, 3), dict(size=(3, 2, 3), mode="trilinear")),  # D = 1, H and W unchanged
    ((2, 2, 3, 4, 5), dict(size=(5, 3, 7), mode="nearest")),
    ((1, 2, 2, 3, 2), dict(scale_factor=2, mode="nearest")),  # torch's o >> 1 shortcut
    ((2, 1, 3, 4, 5), dict(size=(2, 6, 3), mode="nearest-exact")),
]


def _ids(cases):
    return [f"{shape}-{'-'.join(f'{k}={v}' for k, v in options.items())}" for shape, options in cases]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape, options", CASES, ids=_ids(CASES))
def test_interpolate_matches_torch(shape, options, dtype):
    layout = "transposed" if dtype == torch.float32 else "contiguous"  # non-contiguous in float32
    expected_x, got_x = make_pair(shape, dtype, layout, requires_grad=True)
    expected = torch.nn.functional.interpolate(expected_x, **options)
    got = F.interpolate(got_x, **options)
    what = f"interpolate {shape} {options}"
    assert_close(got, expected, kind="accumulation", what=what)
    assert got.grad_fn.name() == expected.grad_fn.name()
    grad = random_values(expected.shape, dtype)
    expected.backward(grad)
    got.backward(from_torch(grad))
    assert_close(got_x.grad, expected_x.grad, kind="accumulation", what=f"{what} grad")


def test_half_forward():
    for shape, options in [((1, 2, 3, 5), dict(size=(6, 4), mode="bicubic")),
                           ((1, 1, 2, 3, 2), dict(scale_factor=2, mode="nearest"))]:  # fmt: skip
        x = random_values(shape, torch.float16)
        expected = torch.nn.functional.interpolate(x, **options)
        assert_close(F.interpolate(from_torch(x), **options), expected, what=f"float16 {options}")


def test_gradcheck_and_double_backward():
    x = from_torch(random_values((1, 1, 3, 4), torch.float64), requires_grad=True)
    assert gradcheck(lambda a: F.interpolate(a, size=(5, 3), mode="bicubic", align_corners=False), (x,))
    v = from_torch(random_values((1, 1, 2, 3, 2), torch.float64), requires_grad=True)
    assert gradcheck(lambda a: F.interpolate(a, size=(3, 2, 3), mode="trilinear", align_corners=True), (v,))
    # gradient of a gradient: the resize is linear, so d/dx <grad_x(g), x> = grad_x(g)
    y = F.interpolate(x, size=(5, 6), mode="bicubic", align_corners=True)
    g = from_torch(random_values(tuple(y.shape), torch.float64), requires_grad=True)
    (grad_x,) = tritongrad.autograd.grad((y * g).sum(), x, create_graph=True)
    (grad_g,) = tritongrad.autograd.grad((grad_x * x).sum(), g)
    assert_close(grad_g, y.detach()._data, what="second order")


def test_upsample_modules():
    for kwargs in [dict(scale_factor=2, mode="bicubic", align_corners=False), dict(size=(2, 3, 4), mode="trilinear"),
                   dict(scale_factor=(1, 2, 2), mode="nearest")]:  # fmt: skip
        ours, theirs = nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs)
        assert repr(ours) == repr(theirs)
        shape = (1, 2, 3, 3) if kwargs["mode"] == "bicubic" else (1, 2, 2, 3, 2)
        x = random_values(shape, torch.float32)
        assert_close(ours(from_torch(x)), theirs(x), kind="accumulation", what=repr(theirs))


BAD_CALLS = {
    "bicubic on 3-d": lambda f, w: f.interpolate(w(torch.randn(1, 2, 3)), size=4, mode="bicubic"),
    "bicubic on 5-d": lambda f, w: f.interpolate(w(torch.randn(1, 2, 3, 3, 3)), size=4, mode="bicubic"),
    "trilinear on 4-d": lambda f, w: f.interpolate(w(torch.randn(1, 2, 3, 3)), size=4, mode="trilinear"),
    "unknown mode": lambda f, w: f.interpolate(w(torch.randn(1, 2, 3, 3)), size=4, mode="cubic"),
    "nearest with align_corners": lambda f, w: f.interpolate(w(torch.randn(1, 2, 3, 3, 3)), size=4, mode="nearest",
                                                             align_corners=True),
    "5-d size of 2": lambda f, w: f.interpolate(w(torch.randn(1, 2, 3, 3, 3)), size=(4, 4), mode="trilinear"),
    "5-d output size 0": lambda f, w: f.interpolate(w(torch.randn(1, 2, 3, 3, 3)), size=(4, 0, 2), mode="nearest"),
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
