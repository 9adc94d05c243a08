"""nn.utils.clip_grad_norm_ / clip_grad_value_ / get_total_norm against torch.nn.utils, and their launch counts.

Each case gives the same fresh gradients to torch parameters and to tritongrad parameters, clips
both, and compares the returned total norm (value and dtype) and every clipped gradient.
"""

from __future__ import annotations

import math

import pytest
import torch

import tritongrad
from benchmarks.common import count_tritongrad_launches
from tests.utils import assert_close, from_torch, random_values

# Gradients of odd sizes: one element, none, a matrix, a prime length, a 3-d block, and one
# larger than an interpreter block (2**16 elements) that splits into two chunks.
SHAPES = [(1,), (0,), (13, 7), (101,), (3, 5, 2), (70_001,)]

# Totals and clipped gradients. float32: torch's CPU p-norms are off by up to ~4e-6 at 70K elements
# (ours are closer to the exact value); bfloat16: the sums behind a norm are ordered differently,
# so a total that lands near a rounding boundary, and with it the coefficient and the gradients,
# may be an ulp (2**-8 relative) apart.
TOLERANCE = {torch.float32: (1e-5, 1e-6), torch.float64: (1e-12, 1e-14), torch.bfloat16: (1.6e-2, 1e-5)}

NORM_TYPES = [2.0, 1.0, math.inf, 3.0]


def parameter_pairs(shapes, dtypes, *, scale: float = 1.0):
    """Torch parameters and tritongrad parameters holding the same fresh gradients."""
    theirs, ours = [], []
    for shape, dtype in zip(shapes, dtypes):
        grad = (random_values(shape, torch.float64) * scale).to(dtype)
        reference = torch.nn.Parameter(torch.zeros(shape, dtype=dtype))
        reference.grad = grad.clone()
        mine = tritongrad.nn.Parameter(from_torch(torch.zeros(shape, dtype=dtype)))
        mine.grad = from_torch(grad)
        theirs.append(reference)
        ours.append(mine)
    return theirs, ours


def assert_grads_close(ours, theirs, tolerance, what: str) -> None:
    for index, (mine, reference) in enumerate(zip(ours, theirs)):
        if reference.grad is None:
            assert mine.grad is None, f"{what}: parameter {index} got a gradient"
            continue
        rtol, atol = tolerance[reference.grad.dtype]
        assert_close(mine.grad, reference.grad, rtol=rtol, atol=atol,
                     what=f"{what}: grad {index} {tuple(reference.shape)}")  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("norm_type", NORM_TYPES)
@pytest.mark.parametrize("max_norm", [0.5, 1e4], ids=["clipping", "not_clipping"])
def test_clip_grad_norm_matches_torch(dtype, norm_type, max_norm):
    # torch refuses the infinity norm of an empty gradient (checked below), so inf leaves it out.
    shapes = [s for s in SHAPES if not (math.isinf(norm_type) and math.prod(s) == 0)]
    theirs, ours = parameter_pairs(shapes, [dtype] * len(shapes))
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    total = tritongrad.nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    what = f"{dtype} norm {norm_type} max_norm {max_norm}"
    assert total.shape == () and total.dtype == expected.dtype, f"{what}: {total.shape} {total.dtype}"
    rtol, atol = TOLERANCE[dtype]
    assert_close(total, expected, rtol=rtol, atol=atol, what=f"{what}: total norm")
    assert_grads_close(ours, theirs, TOLERANCE, what)


@pytest.mark.parametrize("norm_type", [2.0, 0.5, -math.inf])
def test_other_norm_types_match_torch(norm_type):
    shapes = [(4, 3), (17,), (1,)]
    theirs, ours = parameter_pairs(shapes, [torch.float64] * 3)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 2.0, norm_type)
    assert_close(tritongrad.nn.utils.clip_grad_norm_(ours, 2.0, norm_type), expected, what=f"norm {norm_type}")
    assert_grads_close(ours, theirs, TOLERANCE, f"norm {norm_type}")


def test_mixed_dtypes_group_like_torch_and_the_total_is_promoted():
    shapes = [(5, 3), (7,), (11,), (2, 2), (9,)]
    dtypes = [torch.bfloat16, torch.float32, torch.float64, torch.bfloat16, torch.float32]
    theirs, ours = parameter_pairs(shapes, dtypes)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    total = tritongrad.nn.utils.clip_grad_norm_(ours, 1.0)
    assert total.dtype == expected.dtype == torch.float64
    # Each bfloat16 gradient's norm is rounded to bfloat16 before the norms are combined, as torch
    # does: the float64 total, and so every float32/float64 gradient, agrees to float32 accuracy.
    assert_close(total, expected, rtol=1e-5, atol=1e-6, what="mixed-dtype total")
    assert_grads_close(ours, theirs, TOLERANCE, "mixed dtypes")


def test_half_only_total_keeps_the_half_dtype():
    theirs, ours = parameter_pairs([(6, 4), (3,)], [torch.bfloat16] * 2)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.25, 2.0)
    total = tritongrad.nn.utils.clip_grad_norm_(ours, 0.25, 2.0)
    assert total.dtype == expected.dtype == torch.bfloat16
    assert_close(total, expected, rtol=1.6e-2, atol=1e-5)


def test_gradients_that_are_none_are_skipped_and_a_single_tensor_is_accepted():
    theirs, ours = parameter_pairs([(4, 4), (6,), (3,)], [torch.float32] * 3)
    theirs[1].grad = ours[1].grad = None
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.3, foreach=True)
    assert_close(tritongrad.nn.utils.clip_grad_norm_(ours, 0.3, foreach=True), expected)
    assert_grads_close(ours, theirs, TOLERANCE, "None skipped")
    expected = torch.nn.utils.clip_grad_norm_(theirs[0], 0.1, foreach=False)
    assert_close(tritongrad.nn.utils.clip_grad_norm_(ours[0], 0.1, foreach=False), expected)
    assert_grads_close(ours[:1], theirs[:1], TOLERANCE, "single tensor")


def test_no_gradients_gives_a_zero_total():
    parameter = tritongrad.nn.Parameter(tritongrad.randn(3))
    total = tritongrad.nn.utils.clip_grad_norm_([parameter], 1.0)
    assert total.shape == () and total.item() == 0.0 and parameter.grad is None


@pytest.mark.parametrize("layout", ["transposed", "strided_view"])
def test_non_contiguous_gradients(layout):
    base = random_values((6, 8), torch.float32)
    grad = base.t() if layout == "transposed" else base[:, 1::3]
    theirs, ours = parameter_pairs([(5,)], [torch.float32])
    theirs.append(torch.nn.Parameter(torch.zeros(grad.shape)))
    theirs[-1].grad = grad.clone()
    ours.append(tritongrad.nn.Parameter(from_torch(torch.zeros(grad.shape))))
    ours[-1].grad = from_torch(grad)
    assert not ours[-1].grad.is_contiguous()
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    assert_close(tritongrad.nn.utils.clip_grad_norm_(ours, 0.5), expected, what=layout)
    assert_grads_close(ours, theirs, TOLERANCE, layout)
    assert ours[-1].grad._data.stride() == grad.stride(), "clipped in place: the gradient keeps its layout"


def test_non_finite_norm_raises_only_when_asked():
    theirs, ours = parameter_pairs([(4,), (3,)], [torch.float32] * 2)
    theirs[0].grad[1] = ours[0].grad._data[1] = float("nan")
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        tritongrad.nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    total = tritongrad.nn.utils.clip_grad_norm_(ours, 1.0)
    assert math.isnan(total.item()) and math.isnan(expected.item())
    assert_grads_close(ours, theirs, TOLERANCE, "NaN total")


def test_infinity_norm_of_an_empty_gradient_raises_like_torch():
    theirs, ours = parameter_pairs([(3,), (0,)], [torch.float32] * 2)
    with pytest.raises(RuntimeError, match="on an empty tensor because the operation does not have an identity"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, math.inf)
    with pytest.raises(RuntimeError, match="on an empty tensor because the operation does not have an identity"):
        tritongrad.nn.utils.clip_grad_norm_(ours, 1.0, math.inf)


def test_zero_norm_type_counts_the_gradients_with_a_non_zero_element_as_torch():
    theirs, ours = parameter_pairs([(3,), (4, 2), (5,)], [torch.float32] * 3)
    for reference, parameter in zip(theirs[1:2], ours[1:2]):  # one gradient all zeros
        reference.grad.zero_()
        parameter.grad.zero_()
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0, 0)
    total = tritongrad.nn.utils.clip_grad_norm_(ours, 1.0, 0)
    assert_close(total, expected, what="order-0 total norm")
    for reference, parameter in zip(theirs, ours):
        assert_close(parameter.grad, reference.grad, what="gradient after order-0 clipping")


def test_get_total_norm_and_clip_grads_with_norm_match_torch():
    theirs, ours = parameter_pairs([(7, 3), (5,)], [torch.float32] * 2)
    expected = torch.nn.utils.get_total_norm([p.grad for p in theirs], 3.0)
    total = tritongrad.nn.utils.clip_grad.get_total_norm([p.grad for p in ours], 3.0)
    assert_close(total, expected, what="get_total_norm")
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.7, expected)
    tritongrad.nn.utils.clip_grad.clip_grads_with_norm_(ours, 0.7, total)
    assert_grads_close(ours, theirs, TOLERANCE, "clip_grads_with_norm_")
    with pytest.raises(TypeError, match="total_norm must be a Tensor"):
        tritongrad.nn.utils.clip_grad.clip_grads_with_norm_(ours, 0.7, 1.5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("clip_value", [0.5, 2.9])
def test_clip_grad_value_matches_torch(dtype, clip_value):
    theirs, ours = parameter_pairs(SHAPES, [dtype] * len(SHAPES))
    theirs[2].grad = ours[2].grad = None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    tritongrad.nn.utils.clip_grad_value_(ours, clip_value)
    assert_grads_close(ours, theirs, {dtype: (0.0, 0.0)}, f"clip_grad_value_ {dtype} {clip_value}")


def test_clip_grad_value_keeps_nan_and_takes_a_single_tensor():
    theirs, ours = parameter_pairs([(5,)], [torch.float32])
    theirs[0].grad[2] = ours[0].grad._data[2] = float("nan")
    torch.nn.utils.clip_grad_value_(theirs[0], 0.1, foreach=True)
    tritongrad.nn.utils.clip_grad_value_(ours[0], 0.1, foreach=True)
    assert_grads_close(ours, theirs, {torch.float32: (0.0, 0.0)}, "NaN clamp")


# ----------------------------------------------------------------------------------------------
# Multi-tensor: the launches do not grow with the number of parameters
# ----------------------------------------------------------------------------------------------


def launches_for(count: int, function) -> dict:
    _, ours = parameter_pairs([(i % 4 + 1, 3) for i in range(count)], [torch.float32] * count)
    function(ours)  # tables and compiled kernels are made on the first call
    return dict(count_tritongrad_launches(lambda: function(ours)))


@pytest.mark.parametrize(
    "function",
    [
        lambda p: tritongrad.nn.utils.clip_grad_norm_(p, 0.5),
        lambda p: tritongrad.nn.utils.clip_grad_norm_(p, 0.5, math.inf),
        lambda p: tritongrad.nn.utils.clip_grad_value_(p, 0.5),
    ],
    ids=["norm", "inf_norm", "value"],
)
def test_launch_count_does_not_depend_on_the_number_of_parameters(function):
    few, many = launches_for(2, function), launches_for(12, function)
    assert few == many, f"2 parameters launch {few}, 12 launch {many}"
    assert sum(many.values()) <= 3, f"expected partials + finish + scale (or one clamp), got {many}"


def test_clip_grad_norm_is_three_launches_and_reads_nothing_back(monkeypatch):
    _, ours = parameter_pairs([(4, 3), (9,), (2,)], [torch.float32] * 3)
    monkeypatch.setattr(tritongrad.Tensor, "item", lambda self: pytest.fail("clip_grad_norm_ read back a value"))
    counts = count_tritongrad_launches(lambda: tritongrad.nn.utils.clip_grad_norm_(ours, 0.5))
    assert counts == {"norm_partials_kernel": 1, "norm_finish_kernel": 1, "scale_by_clip_coef_kernel": 1}, counts
