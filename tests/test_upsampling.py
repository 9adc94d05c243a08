"""F.interpolate / nn.Upsample (kernels/resample.py, tritongrad/ops/upsampling.py) against torch.

Source indices follow torch's CPU kernels exactly, so nearest is compared bit for bit; the
backward (two 1-d gathers) is compared with torch's scatter-based autograd.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import tritongrad
import tritongrad.nn as tnn
import tritongrad.nn.functional as TF
from tests.utils import assert_close, from_torch, make_pair, random_values

# (input shape, kwargs); each exercises something.
CASES = [
    ((2, 3, 5, 7), dict(scale_factor=2)),  # nearest x2: the o >> 1 rule
    ((2, 3, 5, 7), dict(size=(3, 11))),  # nearest down in H, up by a non-integer ratio in W
    ((2, 3, 5, 7), dict(scale_factor=(0.6, 2.5))),  # sources from 1 / scale_factor
    ((2, 3, 5, 7), dict(size=(10, 14), mode="bilinear")),
    ((2, 3, 5, 7), dict(size=(10, 13), mode="bilinear", align_corners=True)),
    ((2, 3, 5, 7), dict(size=(3, 4), mode="bilinear")),  # downsampling: windows skip inputs
    ((1, 2, 6, 5), dict(scale_factor=1.7, mode="bilinear")),
    ((1, 2, 6, 5), dict(scale_factor=0.45, mode="bilinear", align_corners=True)),
    ((1, 2, 4, 4), dict(scale_factor=1.2, mode="bilinear")),  # output == input: torch copies
    ((1, 2, 4, 5), dict(size=1, mode="bilinear", align_corners=True)),  # one output: scale 0
    ((1, 2, 4, 5), dict(scale_factor=2.5, mode="bilinear", recompute_scale_factor=True)),
    ((2, 3, 5, 7), dict(scale_factor=2.1)),  # output twice the input: torch's nearest takes o >> 1
    ((2, 3, 5, 7), dict(size=(3, 11), mode="nearest-exact")),
    ((2, 3, 5, 7), dict(scale_factor=(1.0, 2.0), mode="nearest-exact")),  # no shortcut for equal sizes
    ((2, 3, 5, 7), dict(size=(3, 4), mode="area")),  # adaptive average pooling
    ((2, 3, 7), dict(scale_factor=3)),  # 1-d nearest
    ((2, 3, 7), dict(size=4, mode="area")),
    ((2, 3, 7), dict(size=12, mode="linear")),
    ((2, 3, 7), dict(size=4, mode="linear", align_corners=True)),
]


@pytest.mark.parametrize("shape,kwargs", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_interpolate(shape, kwargs, dtype):
    layout = "transposed" if dtype == torch.float64 else "sliced"
    expected_x, x = make_pair(shape, dtype, layout, requires_grad=True)
    expected = F.interpolate(expected_x, **kwargs)
    got = TF.interpolate(x, **kwargs)
    exact = kwargs.get("mode", "nearest").startswith("nearest")
    assert_close(got, expected, rtol=0 if exact else None, atol=0 if exact else None, what=f"interpolate {kwargs}")
    assert type(got.grad_fn).__name__ == type(expected.grad_fn).__name__
    grad_out = random_values(tuple(expected.shape), dtype)
    expected.backward(grad_out)
    got.backward(from_torch(grad_out))
    assert_close(x.grad, expected_x.grad, what=f"interpolate {kwargs} grad")


@pytest.mark.parametrize("kwargs", [dict(scale_factor=2), dict(size=(7, 3), mode="bilinear")])
def test_channels_last_in_and_out(kwargs):
    """A channels-last input gives a channels-last output and gradient, as torch's."""
    values = random_values((2, 5, 6, 4), torch.float32).permute(0, 3, 1, 2)  # (2, 4, 5, 6), channels last
    expected_x, x = values.clone().requires_grad_(), from_torch(values, requires_grad=True)
    expected, got = F.interpolate(expected_x, **kwargs), TF.interpolate(x, **kwargs)
    assert_close(got, expected)
    assert got.stride() == expected.stride(), f"strides {got.stride()}, torch {expected.stride()}"
    grad_out = random_values(tuple(expected.shape), torch.float32)
    expected.backward(grad_out)
    got.backward(from_torch(grad_out))
    assert_close(x.grad, expected_x.grad, what="grad")
    assert x.grad.stride() == expected_x.grad.stride()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_interpolate_half_forward(dtype):
    values = random_values((2, 3, 5, 6), dtype)
    for kwargs in (dict(scale_factor=2), dict(size=(7, 9), mode="bilinear")):
        assert_close(TF.interpolate(from_torch(values), **kwargs), F.interpolate(values, **kwargs))


def test_interpolate_gradcheck_and_double_backward():
    x = from_torch(random_values((1, 1, 3, 4), torch.float64), requires_grad=True)
    for kwargs in (dict(size=(5, 3), mode="bilinear"), dict(scale_factor=2, mode="nearest")):
        assert tritongrad.autograd.gradcheck(lambda t, k=kwargs: TF.interpolate(t, **k), (x,), fast_mode=True)
    # The resize is linear: the gradient of its backward w.r.t. the output gradient is the resize.
    grad_out = from_torch(random_values((1, 1, 6, 7), torch.float64), requires_grad=True)
    (grad_x,) = tritongrad.autograd.grad(
        TF.interpolate(x, size=(6, 7), mode="bilinear"), x, grad_out, create_graph=True
    )
    (grad_grad,) = tritongrad.autograd.grad((grad_x * x).sum(), grad_out)
    expected = F.interpolate(torch.tensor(x.tolist(), dtype=torch.float64), size=(6, 7), mode="bilinear")
    assert_close(grad_grad, expected, what="double backward")


ERROR_CASES = [
    ((2, 3, 7, 8), dict(size=3, scale_factor=2)),
    ((2, 3, 7, 8), dict()),
    ((2, 3, 7, 8), dict(size=3, mode="foo")),
    ((3, 7, 8), dict(size=3, mode="bilinear")),
    ((2, 3, 7, 8), dict(size=3, mode="linear")),
    ((2, 3, 7, 8), dict(size=3, align_corners=True)),
    ((2, 3, 7, 8), dict(size=(3, 3, 3))),
    ((2, 3, 7, 8), dict(scale_factor=(2, 2, 2))),
    ((2, 3, 7, 8), dict(size=0)),
]


@pytest.mark.parametrize("shape,kwargs", ERROR_CASES)
def test_interpolate_errors_like_torch(shape, kwargs):
    values = random_values(shape, torch.float32)
    with pytest.raises(Exception) as expected:
        F.interpolate(values, **kwargs)
    with pytest.raises(type(expected.value)):
        TF.interpolate(from_torch(values), **kwargs)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("Upsample", dict(scale_factor=2)),
        ("Upsample", dict(size=(4, 9), mode="bilinear", align_corners=False)),
        ("UpsamplingNearest2d", dict(scale_factor=3)),
        ("UpsamplingBilinear2d", dict(size=(6, 6))),
    ],
)
def test_upsample_modules(name, kwargs):
    ours, theirs = getattr(tnn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict().keys()) == list(theirs.state_dict().keys()) == []
    values = random_values((2, 3, 4, 5), torch.float32)
    assert_close(ours(from_torch(values)), theirs(values))
