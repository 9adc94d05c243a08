"""F.poisson_nll_loss, gaussian_nll_loss, multi_margin_loss, multilabel_margin_loss,
multilabel_soft_margin_loss, triplet_margin_with_distance_loss and their nn modules against torch:
values and the gradients of every differentiable input (target, var and weight too where torch gives
them), each reduction, batch shapes down to N=1 and N=0, float32 and float64, and torch's errors
(type and message) and warnings for bad arguments."""

from __future__ import annotations

import math
import re
import warnings

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, random_values
from tritongrad import nn

REDUCTIONS = ["none", "sum", "mean"]
DTYPES = [torch.float32, torch.float64]


def _ours(value, requires_grad: bool = False):
    return from_torch(value, requires_grad=requires_grad) if isinstance(value, torch.Tensor) else value


def _theirs(value, requires_grad: bool = False):
    return value.detach().clone().requires_grad_(requires_grad) if isinstance(value, torch.Tensor) else value


def _check(name, tensors, grads, tolerance_dtype=None, **kwargs):
    """F.<name>(*tensors, **kwargs) and the gradients of the tensors marked in ``grads`` against torch.

    Tensor keyword arguments (weight) are passed as they are, without gradient; a float ``var`` in
    ``tensors`` stays a number. ``tolerance_dtype``: float32 where a float64 result has float32
    intermediates (mixed dtypes: exp or log of a float32 input, rounded to float32 in both libraries,
    one ulp apart). Returns tritongrad's result.
    """
    theirs = [
        t.detach().clone().requires_grad_(g) if isinstance(t, torch.Tensor) else t for t, g in zip(tensors, grads)
    ]
    ours = [_ours(t, g) for t, g in zip(tensors, grads)]
    expected = getattr(torch.nn.functional, name)(*theirs, **kwargs)
    got = getattr(F, name)(*ours, **{k: _ours(v) for k, v in kwargs.items()})
    what = f"{name} {[tuple(t.shape) if isinstance(t, torch.Tensor) else t for t in tensors]} {kwargs}"
    assert_close(got, expected, tolerance_dtype, kind="accumulation", what=what)
    if not any(grads):
        return got
    grad = 0.5 + torch.rand(expected.shape, dtype=expected.dtype)  # never zero
    expected.backward(grad)
    got.backward(from_torch(grad))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            assert a.grad is not None, f"{what}: no gradient for input {i}"
            assert_close(a.grad, b.grad, tolerance_dtype, kind="accumulation", what=f"{what} grad of input {i}")
    return got


def _check_grads_through_weight(name, tensors, weight, **kwargs):
    """As _check, with ``weight`` (a keyword argument) requiring grad on both sides."""
    theirs = [t.detach().clone().requires_grad_(t.is_floating_point()) for t in tensors]
    ours = [_ours(t, t.is_floating_point()) for t in tensors]
    theirs_w, ours_w = weight.detach().clone().requires_grad_(True), _ours(weight, True)
    expected = getattr(torch.nn.functional, name)(*theirs, weight=theirs_w, **kwargs)
    got = getattr(F, name)(*ours, weight=ours_w, **kwargs)
    assert_close(got, expected, kind="accumulation", what=name)
    grad = 0.5 + torch.rand(expected.shape, dtype=expected.dtype)
    expected.backward(grad)
    got.backward(from_torch(grad))
    for a, b in zip([*ours, ours_w], [*theirs, theirs_w]):
        if b.requires_grad:
            assert_close(a.grad, b.grad, kind="accumulation", what=f"{name} grad {tuple(b.shape)}")


def _positive(shape, dtype, low=0.1, high=3.0):
    return random_values(shape, dtype, low=low, high=high)


# ------------------------------------------------------------------------------ poisson_nll_loss
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "shape, log_input, full",
    [
        ((4, 3), True, False),
        ((4, 3), False, True),
        ((1, 5), True, True),
        ((0, 3), True, False),
        ((2, 3, 2), False, False),
    ],
)
def test_poisson_nll_loss(shape, log_input, full, reduction, dtype):
    # log_input=False takes rates (positive); the target holds counts-like values, below and above 1
    # (full adds the Stirling term only where target > 1).
    input = random_values(shape, dtype) if log_input else _positive(shape, dtype)
    target = _positive(shape, dtype, low=0.05, high=4.0)
    _check("poisson_nll_loss", [input, target], [True, True], log_input=log_input, full=full, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_nll_loss_broadcast_promotion_and_eps(reduction):
    x = random_values((4, 3), torch.float32)
    _check("poisson_nll_loss", [x, _positive((3,), torch.float32)], [True, True], reduction=reduction)
    _check("poisson_nll_loss", [x, _positive((4, 3), torch.float64)], [True, True], torch.float32, reduction=reduction)
    counts = torch.randint(0, 6, (4, 3))
    _check("poisson_nll_loss", [x, counts], [True, False], full=True, reduction=reduction)
    rates = _positive((4, 3), torch.float32, low=0.001, high=0.01)
    _check("poisson_nll_loss", [rates, counts.float()], [True, True], log_input=False, eps=0.5, reduction=reduction)


def test_poisson_nll_loss_full_with_zero_targets():
    # Stirling's term is masked where target <= 1; torch's target gradient there is 0 * log(0) = NaN
    # at target 0, and the same composition gives the same NaN.
    x = random_values((2, 4), torch.float64)
    target = torch.tensor([[0.0, 1.0, 2.0, 0.5], [3.0, 0.0, 1.5, 7.0]], dtype=torch.float64)
    _check("poisson_nll_loss", [x, target], [True, True], full=True, reduction="sum")


def test_poisson_nll_loss_legacy_flags_warn():
    x, target = random_values((3, 2), torch.float32), _positive((3, 2), torch.float32)
    for flags, reduction in [({"reduce": False}, "none"), ({"size_average": False}, "sum")]:
        with pytest.warns(UserWarning, match=f"please use reduction='{reduction}' instead"):
            got = F.poisson_nll_loss(from_torch(x), from_torch(target), **flags)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = torch.nn.functional.poisson_nll_loss(x, target, **flags)
        assert_close(got, expected, kind="accumulation")


# ------------------------------------------------------------------------------ gaussian_nll_loss
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "shape, var_shape, full",
    [
        ((5, 3), (5, 3), False),  # heteroscedastic
        ((5, 3), (5,), True),  # one variance per row (unsqueezed)
        ((5, 3), (5, 1), False),  # one size-1 dim
        ((2, 3, 4), (2, 1, 4), True),
        ((1, 4), (1,), False),  # N = 1
        ((0, 3), (0, 3), True),  # N = 0
        ((6,), (6,), False),
    ],
)
def test_gaussian_nll_loss(shape, var_shape, full, reduction, dtype):
    var = _positive(var_shape, dtype, low=0.05, high=2.0)
    if var.numel():
        var.view(-1)[0] = 1e-9  # below eps: clamped, with the loss's gradient at the clamped value
    tensors = [random_values(shape, dtype), random_values(shape, dtype), var]
    _check("gaussian_nll_loss", tensors, [True, True, True], full=full, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll_loss_float_var_eps_and_promotion(reduction):
    x, target = random_values((4, 3), torch.float32), random_values((4, 3), torch.float32)
    _check("gaussian_nll_loss", [x, target, 0.7], [True, True, False], reduction=reduction)
    _check("gaussian_nll_loss", [x, target, 0.0], [True, True, False], eps=0.25, reduction=reduction)
    var = _positive((4, 3), torch.float64, low=0.01, high=0.5)
    _check("gaussian_nll_loss", [x, target, var], [True, True, True], eps=0.1, reduction=reduction)
    _check("gaussian_nll_loss", [x, target[0], _positive((4, 3), torch.float32)], [True, True, True],
           reduction=reduction)  # fmt: skip
    _check("gaussian_nll_loss", [x, torch.randint(-2, 3, (4, 3)), var[:, :1]], [True, False, True],
           reduction=reduction)  # fmt: skip


def test_gaussian_nll_loss_var_grad_ignores_the_clamp():
    var = torch.tensor([1e-12, 1e-6, 0.5, 2.0], dtype=torch.float64)
    got = _check("gaussian_nll_loss", [random_values((4,), torch.float64), random_values((4,), torch.float64), var],
                 [True, True, True], reduction="sum")  # fmt: skip
    assert got.grad_fn is not None


# ------------------------------------------------------------------------------ multi_margin_loss
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "shape, p, margin, weighted",
    [
        ((6, 4), 1, 1.0, False),
        ((6, 4), 2, 0.7, True),
        ((1, 5), 1, 2, True),
        ((5,), 2, -0.3, False),
        ((3, 1), 1, 1.0, True),
    ],
)
def test_multi_margin_loss(shape, p, margin, weighted, reduction, dtype):
    classes = shape[-1]
    rows = shape[0] if len(shape) == 2 else 1
    target = torch.randint(0, classes, (rows,) if len(shape) == 2 else ())
    weight = _positive((classes,), dtype) if weighted else None
    _check("multi_margin_loss", [random_values(shape, dtype), target], [True, False], p=p, margin=margin,
           weight=weight, reduction=reduction)  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_loss_scalar_and_one_element_targets(reduction):
    _check("multi_margin_loss", [random_values((), torch.float32), torch.tensor(0)], [True, False], reduction=reduction)
    # a 1-D input with a (1,) target, a (1, C) input with a 0-d target: 'none' keeps the target's dims
    _check("multi_margin_loss", [random_values((4,), torch.float32), torch.tensor([2])], [True, False],
           reduction=reduction)  # fmt: skip
    _check("multi_margin_loss", [random_values((1, 4), torch.float64), torch.tensor(3)], [True, False], p=2,
           reduction=reduction)  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_multi_margin_loss_half_is_refused_on_the_cpu_as_torch(dtype):
    # (torch's CPU kernel refuses the half types; its GPU kernel takes them, and so does tritongrad's there)
    x, target = random_values((5, 4), torch.float32).to(dtype), torch.randint(0, 4, (5,))
    with pytest.raises(NotImplementedError) as expected:
        torch.nn.functional.multi_margin_loss(x, target)
    with pytest.raises(NotImplementedError, match=re.escape(str(expected.value))):
        F.multi_margin_loss(from_torch(x), from_torch(target))


# ------------------------------------------------------------------------------ multilabel_margin_loss
def _multilabel_targets(rows: int, classes: int) -> torch.Tensor:
    """Rows of distinct class indices, then -1, then arbitrary in-range values (ignored), and one row
    with a repeated index (torch counts it twice) when there are enough rows."""
    target = torch.empty(rows, classes, dtype=torch.int64)
    for r in range(rows):
        count = int(torch.randint(0, classes + 1, ()))
        target[r] = torch.randint(-1, classes, (classes,))
        target[r, :count] = torch.randperm(classes)[:count]
        if count < classes:
            target[r, count] = -1
    if rows >= 3 and classes >= 3:
        target[2, :3] = torch.tensor([1, 1, -1])
    return target


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 5), (1, 4), (7,), ()])
def test_multilabel_margin_loss(shape, reduction, dtype):
    if len(shape) == 2:
        target = _multilabel_targets(*shape)
    else:
        classes = shape[0] if shape else 1
        target = _multilabel_targets(1, classes).reshape(classes) if shape else torch.tensor(0)
    _check("multilabel_margin_loss", [random_values(shape, dtype), target], [True, False], reduction=reduction)


def test_multilabel_margin_loss_targets_padded_and_repeated():
    x = random_values((4, 4), torch.float64)
    target = torch.tensor([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 1, 2, 3], [2, 2, -1, 3]])
    got = _check("multilabel_margin_loss", [x, target], [True, False], reduction="none")
    assert got[1].item() == 0.0 and got[2].item() == 0.0  # every class a target; no target


@pytest.mark.parametrize("name", ["multi_margin_loss", "multilabel_margin_loss"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_margin_losses_empty_batch(name, dtype):
    x = random_values((0, 3), dtype)
    target = torch.zeros((0,) if name == "multi_margin_loss" else (0, 3), dtype=torch.int64)
    _check(name, [x, target], [True, False], reduction="none")
    _check(name, [x.long(), target], [False, False], reduction="none")  # (no dtype check without rows)
    # torch's CPU kernels leave the 'sum' and 'mean' of no rows uninitialised: tritongrad gives 0 and NaN.
    ours = from_torch(x, requires_grad=True)
    total = getattr(F, name)(ours, from_torch(target), reduction="sum")
    assert_close(total, torch.zeros((), dtype=dtype))
    assert_close(getattr(F, name)(ours, from_torch(target)), torch.full((), math.nan, dtype=dtype))
    total.backward()
    assert ours.grad is not None and tuple(ours.grad.shape) == (0, 3)


# ------------------------------------------------------------------------------ multilabel_soft_margin_loss
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "shape, weighted",
    [
        ((5, 4), None),
        ((5, 4), "per class"),
        ((1, 4), "per row"),
        ((0, 4), "per class"),
        ((4,), None),
        ((2, 5, 4), "per row"),
    ],
)
def test_multilabel_soft_margin_loss(shape, weighted, reduction, dtype):
    x = random_values(shape, dtype)
    target = torch.rand(shape, dtype=dtype)  # probabilities: the target gets a gradient too
    if weighted is None:
        _check("multilabel_soft_margin_loss", [x, target], [True, True], reduction=reduction)
        return
    weight_shape = shape[-1:] if weighted == "per class" else shape[:-1] + (1,)
    _check_grads_through_weight("multilabel_soft_margin_loss", [x, target], _positive(weight_shape, dtype),
                                reduction=reduction)  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_soft_margin_loss_integer_target_and_promotion(reduction):
    x = random_values((3, 4), torch.float32)
    _check("multilabel_soft_margin_loss", [x, torch.randint(0, 2, (3, 4))], [True, False], reduction=reduction)
    _check("multilabel_soft_margin_loss", [x, torch.rand(3, 4, dtype=torch.float64)], [True, True], torch.float32,
           weight=_positive((4,), torch.float32), reduction=reduction)  # fmt: skip


# ------------------------------------------------------------------------------ triplet_margin_with_distance_loss
def _cosine_distance(library):
    return lambda a, b: 1.0 - library.cosine_similarity(a, b, dim=-1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "shape, swap", [((5, 4), False), ((5, 4), True), ((1, 3), True), ((0, 3), False), ((6,), True), ((2, 3, 4), False)]
)
def test_triplet_margin_with_distance_loss(shape, swap, reduction, dtype):
    tensors = [random_values(shape, dtype) for _ in range(3)]
    _check("triplet_margin_with_distance_loss", tensors, [True] * 3, swap=swap, margin=1.3, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_with_custom_distance(reduction):
    tensors = [random_values((6, 5), torch.float64) for _ in range(3)]
    theirs = [t.detach().clone().requires_grad_() for t in tensors]
    ours = [from_torch(t, requires_grad=True) for t in tensors]
    expected = torch.nn.functional.triplet_margin_with_distance_loss(
        *theirs, distance_function=_cosine_distance(torch.nn.functional), margin=0.4, swap=True, reduction=reduction
    )
    got = F.triplet_margin_with_distance_loss(
        *ours, distance_function=_cosine_distance(F), margin=0.4, swap=True, reduction=reduction
    )
    assert_close(got, expected, kind="accumulation")
    grad = 0.5 + torch.rand(expected.shape, dtype=expected.dtype)
    expected.backward(grad)
    got.backward(from_torch(grad))
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad, kind="accumulation")


# ------------------------------------------------------------------------------ modules
def _module_cases():
    x, y = random_values((5, 4), torch.float32), _positive((5, 4), torch.float32)
    classes, labels = torch.randint(0, 4, (5,)), _multilabel_targets(5, 4)
    weight = _positive((4,), torch.float32)
    a, p, n = (random_values((5, 4), torch.float32) for _ in range(3))
    return [
        ("PoissonNLLLoss", {"log_input": False, "full": True, "eps": 1e-3}, (y, y.flip(0))),
        ("PoissonNLLLoss", {"reduction": "none"}, (x, y)),
        ("GaussianNLLLoss", {"full": True, "eps": 1e-3, "reduction": "sum"}, (x, y, y[:, 0])),
        ("MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": weight}, (x, classes)),
        ("MultiMarginLoss", {"reduction": "none"}, (x, classes)),
        ("MultiLabelMarginLoss", {"reduction": "sum"}, (x, labels)),
        ("MultiLabelSoftMarginLoss", {"weight": weight, "reduction": "none"}, (x, y / 3)),
        ("TripletMarginWithDistanceLoss", {"margin": 0.5, "swap": True}, (a, p, n)),
    ]


@pytest.mark.parametrize("case", range(8))
def test_modules_match_torch(case):
    name, kwargs, inputs = _module_cases()[case]
    theirs = getattr(torch.nn, name)(**kwargs)
    ours = getattr(nn, name)(**{k: _ours(v) for k, v in kwargs.items()})
    assert repr(ours) == repr(theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    assert ours.reduction == theirs.reduction
    theirs_inputs = [t.detach().clone().requires_grad_(t.is_floating_point()) for t in inputs]
    ours_inputs = [_ours(t, t.is_floating_point()) for t in inputs]
    expected, got = theirs(*theirs_inputs), ours(*ours_inputs)
    assert_close(got, expected, kind="accumulation", what=name)
    grad = 0.5 + torch.rand(expected.shape)
    expected.backward(grad)
    got.backward(from_torch(grad))
    for a, b in zip(ours_inputs, theirs_inputs):
        if b.requires_grad:
            assert_close(a.grad, b.grad, kind="accumulation", what=f"{name} grad")


def test_triplet_module_with_custom_distance_and_weight_buffers():
    ours = nn.TripletMarginWithDistanceLoss(distance_function=_cosine_distance(F), margin=0.3)
    theirs = torch.nn.TripletMarginWithDistanceLoss(distance_function=_cosine_distance(torch.nn.functional), margin=0.3)
    tensors = [random_values((4, 3), torch.float32) for _ in range(3)]
    assert_close(ours(*(from_torch(t) for t in tensors)), theirs(*tensors), kind="accumulation")
    weight = _positive((4,), torch.float64)
    module = nn.MultiMarginLoss(weight=from_torch(weight)).to(tritongrad.float32)
    assert module.weight.dtype == torch.float32 and "weight" in module.state_dict()
    x, target = random_values((3, 4), torch.float32), torch.randint(0, 4, (3,))
    expected = torch.nn.MultiMarginLoss(weight=weight).to(torch.float32)(x, target)
    assert_close(module(from_torch(x), from_torch(target)), expected, kind="accumulation")


@pytest.mark.parametrize("name", ["MultiMarginLoss", "MultiLabelMarginLoss"])
def test_elementwise_mean_is_accepted_with_a_warning(name):
    x = random_values((3, 4), torch.float32)
    target = torch.randint(0, 4, (3,)) if name == "MultiMarginLoss" else _multilabel_targets(3, 4)
    module = getattr(nn, name)(reduction="elementwise_mean")
    with pytest.warns(UserWarning, match="reduction='elementwise_mean' is deprecated"):
        got = module(from_torch(x), from_torch(target))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(torch.nn, name)(reduction="elementwise_mean")(x, target)
    assert_close(got, expected, kind="accumulation")


# ------------------------------------------------------------------------------ errors
def _x(*shape, dtype=torch.float32):
    return random_values(shape, dtype)


# Each case: (call, arguments); call(F, *arguments) runs in torch (F = torch.nn.functional, torch
# tensors) and in tritongrad (F = tritongrad.nn.functional, the tensors copied); both must raise the
# same exception type with the same first line of message.
ERROR_CASES = {
    # poisson_nll_loss
    "poisson bad reduction": (lambda F, x, t: F.poisson_nll_loss(x, t, reduction="avg"), (_x(3), _x(3))),
    "poisson elementwise_mean": (
        lambda F, x, t: F.poisson_nll_loss(x, t, reduction="elementwise_mean"),
        (_x(3), _x(3)),
    ),
    "poisson shapes": (lambda F, x, t: F.poisson_nll_loss(x, t), (_x(4, 3), _x(4, 2))),
    # gaussian_nll_loss
    "gaussian negative var": (lambda F, x, t, v: F.gaussian_nll_loss(x, t, v), (_x(4, 3), _x(4, 3), -_x(4, 3).abs())),
    "gaussian one negative var": (
        lambda F, x, t, v: F.gaussian_nll_loss(x, t, v),
        (_x(4, 3), _x(4, 3), torch.tensor([0.5, 1.0, -1e-3, 2.0])),
    ),
    "gaussian negative float var": (lambda F, x, t: F.gaussian_nll_loss(x, t, -0.5), (_x(4, 3), _x(4, 3))),
    "gaussian negative var before reduction": (
        lambda F, x, t, v: F.gaussian_nll_loss(x, t, v, reduction="bad"),
        (_x(2), _x(2), torch.tensor([-1.0, 1.0])),
    ),
    "gaussian int var": (lambda F, x, t: F.gaussian_nll_loss(x, t, 1), (_x(4, 3), _x(4, 3))),
    "gaussian list var": (lambda F, x, t: F.gaussian_nll_loss(x, t, [1.0]), (_x(4, 3), _x(4, 3))),
    "gaussian var size": (lambda F, x, t, v: F.gaussian_nll_loss(x, t, v), (_x(4, 3), _x(4, 3), _x(2, 3).abs())),
    "gaussian var (1, 1)": (lambda F, x, t, v: F.gaussian_nll_loss(x, t, v), (_x(4, 3), _x(4, 3), _x(1, 1).abs())),
    "gaussian var (3,)": (lambda F, x, t, v: F.gaussian_nll_loss(x, t, v), (_x(4, 3), _x(4, 3), _x(3).abs())),
    "gaussian var 3-D": (lambda F, x, t, v: F.gaussian_nll_loss(x, t, v), (_x(4, 3), _x(4, 3), _x(1, 4, 3).abs())),
    "gaussian bad reduction": (
        lambda F, x, t, v: F.gaussian_nll_loss(x, t, v, reduction="avg"),
        (_x(4, 3), _x(4, 3), _x(4, 3).abs()),
    ),
    "gaussian int var tensor": (
        lambda F, x, t, v: F.gaussian_nll_loss(x, t, v),
        (_x(4, 3), _x(4, 3), torch.ones(4, 3, dtype=torch.int64)),
    ),
    # multi_margin_loss
    "multi_margin bad p": (lambda F, x, t: F.multi_margin_loss(x, t, p=3), (_x(3, 4), torch.tensor([0, 1, 3]))),
    "multi_margin bad reduction": (
        lambda F, x, t: F.multi_margin_loss(x, t, p=3, reduction="avg"),
        (_x(3, 4), torch.tensor([0, 1, 3])),
    ),
    "multi_margin 2-D weight": (
        lambda F, x, t, w: F.multi_margin_loss(x, t, weight=w),
        (_x(3, 4), torch.tensor([0, 1, 3]), _x(1, 4)),
    ),
    "multi_margin weight size": (
        lambda F, x, t, w: F.multi_margin_loss(x, t, weight=w),
        (_x(3, 4), torch.tensor([0, 1, 3]), _x(3)),
    ),
    "multi_margin weight dtype": (
        lambda F, x, t, w: F.multi_margin_loss(x, t, weight=w),
        (_x(3, 4), torch.tensor([0, 1, 3]), _x(4, dtype=torch.float64)),
    ),
    "multi_margin weight requires grad": (
        lambda F, x, t, w: F.multi_margin_loss(x, t[:2], weight=w.requires_grad_()),
        (_x(3, 4), torch.tensor([0, 1, 3]), _x(4)),
    ),
    "multi_margin 3-D input": (lambda F, x, t: F.multi_margin_loss(x, t), (_x(2, 3, 4), torch.tensor([0, 1]))),
    "multi_margin no classes": (lambda F, x, t: F.multi_margin_loss(x, t), (_x(3, 0), torch.tensor([0, 1, 3]))),
    "multi_margin target size": (lambda F, x, t: F.multi_margin_loss(x, t), (_x(3, 4), torch.tensor([0, 1]))),
    "multi_margin 2-D target": (lambda F, x, t: F.multi_margin_loss(x, t), (_x(3, 4), torch.tensor([[0], [1], [3]]))),
    "multi_margin 1-D input target size": (lambda F, x, t: F.multi_margin_loss(x, t), (_x(4), torch.tensor([0, 1]))),
    "multi_margin target too large": (lambda F, x, t: F.multi_margin_loss(x, t), (_x(3, 4), torch.tensor([0, 4, 1]))),
    "multi_margin negative target": (lambda F, x, t: F.multi_margin_loss(x, t), (_x(3, 4), torch.tensor([0, -1, 1]))),
    "multi_margin int32 target": (
        lambda F, x, t: F.multi_margin_loss(x, t),
        (_x(3, 4), torch.tensor([0, 7, 1], dtype=torch.int32)),
    ),
    "multi_margin float target": (lambda F, x, t: F.multi_margin_loss(x, t), (_x(3, 4), torch.tensor([0.0, 1, 2]))),
    "multi_margin int input": (
        lambda F, x, t: F.multi_margin_loss(x, t),
        (torch.tensor([[1, 2], [3, 4]]), torch.tensor([0, 1])),
    ),
    "multi_margin list input": (lambda F, t: F.multi_margin_loss([1.0, 2.0], t), (torch.tensor([0]),)),
    # multilabel_margin_loss
    "multilabel_margin bad reduction": (
        lambda F, x, t: F.multilabel_margin_loss(x, t, reduction="avg"),
        (_x(2, 3), torch.tensor([[0, -1, 0], [1, 2, -1]])),
    ),
    "multilabel_margin target shape": (
        lambda F, x, t: F.multilabel_margin_loss(x, t),
        (_x(3, 3), torch.tensor([[0, -1, 0], [1, 2, -1]])),
    ),
    "multilabel_margin 1-D target shape": (
        lambda F, x, t: F.multilabel_margin_loss(x, t),
        (_x(3), torch.tensor([[0, -1, 0]])),
    ),
    "multilabel_margin 3-D input": (
        lambda F, x, t: F.multilabel_margin_loss(x, t),
        (_x(1, 2, 3), torch.tensor([[0, -1, 0], [1, 2, -1]])),
    ),
    "multilabel_margin target too large": (
        lambda F, x, t: F.multilabel_margin_loss(x, t),
        (_x(2, 3), torch.tensor([[0, -1, 0], [1, 2, 3]])),
    ),
    "multilabel_margin target -2": (
        lambda F, x, t: F.multilabel_margin_loss(x, t),
        (_x(2, 3), torch.tensor([[0, -2, 0], [1, 2, -1]])),
    ),
    "multilabel_margin int32 target": (
        lambda F, x, t: F.multilabel_margin_loss(x, t),
        (_x(2, 3), torch.tensor([[0, -1, 0], [1, 2, -1]], dtype=torch.int32)),
    ),
    "multilabel_margin int32 target out of range": (
        lambda F, x, t: F.multilabel_margin_loss(x, t),
        (_x(2, 3), torch.tensor([[0, -1, 0], [1, 2, 5]], dtype=torch.int32)),
    ),
    "multilabel_margin int input": (
        lambda F, x, t: F.multilabel_margin_loss(x, t),
        (torch.tensor([[1, 2, 3]]), torch.tensor([[0, -1, 0]])),
    ),
    # multilabel_soft_margin_loss
    "multilabel_soft_margin bad reduction": (
        lambda F, x, t: F.multilabel_soft_margin_loss(x, t, reduction="avg"),
        (_x(2, 3), _x(2, 3)),
    ),
    "multilabel_soft_margin shapes": (lambda F, x, t: F.multilabel_soft_margin_loss(x, t), (_x(2, 3), _x(2, 2))),
    "multilabel_soft_margin scalar": (lambda F, x, t: F.multilabel_soft_margin_loss(x, t), (_x(), _x())),
    "multilabel_soft_margin bool target": (
        lambda F, x, t: F.multilabel_soft_margin_loss(x, t),
        (_x(2, 3), torch.tensor([[True, False, True], [False, False, True]])),
    ),
    # triplet_margin_with_distance_loss
    "triplet bad reduction": (
        lambda F, a, p, n: F.triplet_margin_with_distance_loss(a, p, n, reduction="avg", margin=-1.0),
        (_x(2, 3), _x(2, 3), _x(2, 3)),
    ),
    "triplet margin 0": (
        lambda F, a, p, n: F.triplet_margin_with_distance_loss(a, p, n, margin=0),
        (_x(2, 3), _x(2, 3), _x(2, 3)),
    ),
    "triplet negative margin": (
        lambda F, a, p, n: F.triplet_margin_with_distance_loss(a, p, n, margin=-0.5),
        (_x(2, 3), _x(2, 3), _x(2, 3)),
    ),
    "triplet dims": (lambda F, a, p, n: F.triplet_margin_with_distance_loss(a, p, n), (_x(2, 3), _x(3), _x(2, 3))),
    "triplet positional margin": (
        lambda F, a, p, n: F.triplet_margin_with_distance_loss(a, p, n, None, 1.0),
        (_x(2, 3), _x(2, 3), _x(2, 3)),
    ),  # fmt: skip
    # modules
    "MultiMarginLoss bad p": (lambda F, w: _nn(F).MultiMarginLoss(p=0, weight=w), (_x(1, 4),)),
    "MultiMarginLoss 2-D weight": (lambda F, w: _nn(F).MultiMarginLoss(weight=w), (_x(1, 4),)),
    "TripletMarginWithDistanceLoss margin": (lambda F: _nn(F).TripletMarginWithDistanceLoss(margin=0.0), ()),
    "TripletMarginWithDistanceLoss reduction": (
        lambda F, a: _nn(F).TripletMarginWithDistanceLoss(reduction="avg")(a, a, a),
        (_x(2, 3),),
    ),
    "PoissonNLLLoss reduction": (lambda F, a: _nn(F).PoissonNLLLoss(reduction="avg")(a, a), (_x(2, 3),)),
    "MultiLabelMarginLoss reduction": (
        lambda F, a, t: _nn(F).MultiLabelMarginLoss(reduction="avg")(a, t),
        (_x(1, 3), torch.tensor([[0, -1, 0]])),
    ),
}


def _nn(functional):
    return torch.nn if functional is torch.nn.functional else nn


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors_match_torch(case):
    call, arguments = ERROR_CASES[case]
    with pytest.raises(Exception) as theirs, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call(torch.nn.functional, *(t.clone() for t in arguments))
    expected_type, expected_head = type(theirs.value), str(theirs.value).split("\n")[0]
    with pytest.raises(Exception) as ours, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call(F, *(from_torch(t) for t in arguments))
    assert type(ours.value) is expected_type, f"{case}: {ours.value!r}, torch raised {theirs.value!r}"
    got_head = str(ours.value).split("\n")[0]
    assert got_head == expected_head, f"{case}: {got_head!r}, torch {expected_head!r}"


def test_no_host_readback_before_the_kernels():
    """The checks of values (negative var, targets out of range) are queued as device checks, not
    read back on the spot: under a deferring scope the call returns and the error comes later."""
    from tritongrad.kernels.device_checks import deferred_checks, raise_deferred_errors

    x = from_torch(random_values((3, 4), torch.float32))
    with deferred_checks():
        F.multi_margin_loss(x, from_torch(torch.tensor([0, 9, 1])))
        with pytest.raises(RuntimeError, match="target out of range"):
            raise_deferred_errors()
        F.gaussian_nll_loss(x, x, from_torch(torch.full((3, 4), -1.0)))
        with pytest.raises(ValueError, match="var has negative entry/entries"):
            raise_deferred_errors()
        F.multilabel_margin_loss(x, from_torch(torch.full((3, 4), 4)))
        with pytest.raises(RuntimeError, match="argument #2 'target' is out of range"):
            raise_deferred_errors()
