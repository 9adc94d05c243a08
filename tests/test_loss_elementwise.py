"""The elementwise loss family against torch: kernels/loss_elementwise.py's launchers, then
tritongrad.nn.functional and tritongrad.nn on top of them.

Every row of the table (mse, l1, smooth_l1, huber, binary_cross_entropy and its logits form,
kl_div with either target kind, soft_margin) is checked forward and backward, w.r.t. input and
target where torch differentiates both, for every reduction. The oracle is torch in float64 on
the same (rounded) inputs, so half-precision results are judged against the exact answer.
"""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as TF

import tritongrad
import tritongrad.nn as nn
import tritongrad.nn.functional as F
from benchmarks.common import count_tritongrad_launches
from tests.utils import DEVICE, LAYOUTS, TOLERANCES, assert_close, from_torch, to_torch
from tritongrad.autograd import gradcheck
from tritongrad.kernels import loss_elementwise as le
from tritongrad.kernels.device_checks import deferred_checks, raise_deferred_errors

# The interpreter evaluates both sides of a tl.where, so a masked-off log(0) or 0 / 0 (kl_div's
# target gradient at t = 0 is NaN in torch too) makes numpy warn.
pytestmark = [
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning"),  # kl_div's own
]

REDUCTIONS = ["none", "mean", "sum"]
FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
ROWS = list(le.LOSSES)
PARAMETER = 0.5  # smooth_l1's beta and huber's delta: random differences fall on both sides of it

# torch's elementwise loss ("none") of same-shape float64 operands: (x, t, parameter, aux) -> loss.
TORCH_LOSSES = {
    "mse_loss": lambda x, t, p, a: TF.mse_loss(x, t, reduction="none"),
    "l1_loss": lambda x, t, p, a: TF.l1_loss(x, t, reduction="none"),
    "smooth_l1_loss": lambda x, t, p, a: TF.smooth_l1_loss(x, t, reduction="none", beta=p),
    "huber_loss": lambda x, t, p, a: TF.huber_loss(x, t, reduction="none", delta=p),
    "binary_cross_entropy": lambda x, t, p, a: TF.binary_cross_entropy(x, t, reduction="none"),
    "binary_cross_entropy_with_logits": lambda x, t, p, a: TF.binary_cross_entropy_with_logits(
        x, t, reduction="none", pos_weight=a
    ),
    "kl_div": lambda x, t, p, a: TF.kl_div(x, t, reduction="none"),
    "kl_div_log_target": lambda x, t, p, a: TF.kl_div(x, t, reduction="none", log_target=True),
    "soft_margin_loss": lambda x, t, p, a: TF.soft_margin_loss(x, t, reduction="none"),
}


def row_values(name: str, shape, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Fresh (input, target) in the loss's domain, on the CPU: probabilities for BCE, log-probabilities
    and positive targets for kl_div, +-1 targets for soft_margin, anything for the others."""
    x = 6 * torch.rand(shape, dtype=torch.float64) - 3
    t = 6 * torch.rand(shape, dtype=torch.float64) - 3
    if name == "binary_cross_entropy":
        x, t = 0.02 + 0.96 * torch.rand(shape, dtype=torch.float64), torch.rand(shape, dtype=torch.float64)
    elif name == "binary_cross_entropy_with_logits":
        t = torch.rand(shape, dtype=torch.float64)
    elif name == "kl_div":
        x, t = -3 * torch.rand(shape, dtype=torch.float64), 0.05 + torch.rand(shape, dtype=torch.float64)
    elif name == "soft_margin_loss":
        t = torch.where(torch.rand(shape) < 0.5, -1.0, 1.0).to(torch.float64)
    return x.to(dtype), t.to(dtype)


def reduce_like_torch(loss: torch.Tensor, reduction: str, count: int | None = None) -> torch.Tensor:
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / (loss.numel() if count is None else count)
    return loss


def oracle_leaf(x: torch.Tensor, requires_grad: bool = True) -> torch.Tensor:
    """A float64 copy of ``x`` that torch differentiates."""
    return x.detach().to(torch.float64, copy=True).requires_grad_(requires_grad)


# ============================================================================== the kernels


def layout_case(name: str, case: str, dtype: torch.dtype):
    """(input, target, weight) for the kernel tests; each case exercises one layout or size."""
    shapes = {"empty": (0, 3), "single": (1,), "prime": (1031,), "transposed": (5, 7, 3), "sliced": (6, 9),
              "expanded": (4, 6)}  # fmt: skip
    x, t = row_values(name, shapes[case], dtype)
    weight = None
    if case == "transposed":
        x, t = x.transpose(0, 2), t.transpose(0, 2)
    elif case == "sliced":
        x, t = x[::2, 1:], t.t().contiguous().t()[::2, 1:]
    elif case == "expanded":
        # the target is one row broadcast (stride 0) over the rows; a per-column weight too
        t = t[:1].expand(4, 6)
        weight = (torch.rand(1, 6, dtype=torch.float64) + 0.5).to(dtype).to(DEVICE)
    return x.to(DEVICE), t.to(DEVICE), weight


def check_kernels(name, x, t, reduction, dtype, weight=None, aux=None, tolerance=None):
    """launch_elementwise_loss_fwd/bwd against torch autograd in float64, both gradients."""
    row = le.LOSSES[name]
    rtol, atol = tolerance or TOLERANCES[dtype]
    reference_x, reference_t = oracle_leaf(x), oracle_leaf(t, row.target_grad)
    aux64 = None if aux is None else aux.double()
    reference = TORCH_LOSSES[name](reference_x, reference_t, PARAMETER, aux64)
    if weight is not None:
        reference = reference * weight.double()
    reference = reduce_like_torch(reference, reduction)
    options = {"weight": weight, "aux": aux, "parameter": PARAMETER, "reduction": reduction}
    what = f"{name} {tuple(x.shape)} {dtype} {reduction}"
    loss = le.launch_elementwise_loss_fwd(name, x, t, **options)
    assert loss.dtype == dtype, f"{what}: loss dtype {loss.dtype}"
    assert_close(loss, reference, dtype, rtol=rtol, atol=atol, what=f"{what} loss", check_dtype=False)
    grad_loss = torch.randn(reference.shape, dtype=torch.float64).to(dtype).to(DEVICE)
    reference.backward(grad_loss.double())
    needs = (True, row.target_grad)
    grad_input, grad_target = le.launch_elementwise_loss_bwd(name, grad_loss, x, t, needs=needs, **options)
    assert_close(
        grad_input, reference_x.grad, dtype, rtol=rtol, atol=atol, what=f"{what} grad_input", check_dtype=False
    )
    if row.target_grad:
        assert_close(grad_target, reference_t.grad, dtype, rtol=rtol, atol=atol, what=f"{what} grad_target",
                     check_dtype=False)  # fmt: skip
    else:
        assert grad_target is None


LAYOUT_CASES = ["empty", "single", "prime", "transposed", "sliced", "expanded"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", LAYOUT_CASES)
@pytest.mark.parametrize("name", ROWS)
def test_kernels_every_row_and_layout(name, case, reduction):
    x, t, weight = layout_case(name, case, torch.float64)
    aux = None
    if name == "binary_cross_entropy_with_logits" and case in ("prime", "expanded"):
        aux = (3 * torch.rand(x.shape[-1], dtype=torch.float64)).to(DEVICE)  # pos_weight per column
    check_kernels(name, x, t, reduction, torch.float64, weight=weight, aux=aux)


# Half-precision results are rounded once from fp32 math; inputs are rounded the same for both sides.
LOW_PRECISION_TOLERANCE = {torch.float32: (1e-5, 1e-6), torch.float16: (1e-2, 2e-3), torch.bfloat16: (2e-2, 1e-2)}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ROWS)
def test_kernels_low_precision(name, reduction, dtype):
    x, t, _ = layout_case(name, "sliced", dtype)
    check_kernels(name, x, t, reduction, dtype, tolerance=LOW_PRECISION_TOLERANCE[dtype])


@pytest.mark.parametrize("numel", [1031, 70_001], ids=lambda n: f"numel={n}")
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", ROWS)
def test_forward_writes_the_unit_gradients(name, reduction, numel):
    # 70,001 elements exceed one block everywhere (65,536 in the interpreter, 4,096 on a GPU):
    # partial sums and loss_sum_kernel; 1031 elements are finished by the loss kernel alone.
    row = le.LOSSES[name]
    x, t = (v.to(torch.float32).to(DEVICE) for v in row_values(name, (numel,)))
    options = {"parameter": PARAMETER, "reduction": reduction}
    loss, grad_input, grad_target = le.launch_elementwise_loss_fwd(
        name, x, t, unit_grads=(True, row.target_grad), **options
    )
    assert_close(loss, le.launch_elementwise_loss_fwd(name, x, t, **options), what=f"{name} loss with gradients")
    # The same bits as the backward kernel given a gradient of 1.
    one = torch.ones((), device=DEVICE)
    from_backward = le.launch_elementwise_loss_bwd(name, one, x, t, needs=(True, row.target_grad), **options)
    assert torch.equal(grad_input, from_backward[0]), f"{name}: forward's unit gradient differs from the backward's"
    if row.target_grad:
        assert torch.equal(grad_target, from_backward[1]), f"{name}: forward's unit target gradient differs"
    else:
        assert grad_target is None
    reference_x = oracle_leaf(x)
    reference = reduce_like_torch(TORCH_LOSSES[name](reference_x, t.double(), PARAMETER, None), reduction)
    reference.backward()
    assert_close(loss, reference, torch.float32, what=f"{name} {reduction} of {numel}", check_dtype=False)
    assert_close(grad_input, reference_x.grad, torch.float32, what=f"{name} unit grad of {numel}", check_dtype=False)


def test_more_dims_than_the_kernel_addresses():
    # 8 reversed (non-mergeable) dims: the launcher splits the leading dim; partial sums still add up.
    x = torch.randn(2, 3, 2, 3, 2, 3, 2, 3, dtype=torch.float64, device=DEVICE).permute(7, 6, 5, 4, 3, 2, 1, 0)
    target = torch.rand(x.shape, dtype=torch.float64, device=DEVICE)
    for reduction in ("none", "mean", "sum"):
        check_kernels("huber_loss", x, target, reduction, torch.float64)
    loss, grad_input, _ = le.launch_elementwise_loss_fwd("l1_loss", x, target, unit_grads=(True, False))
    assert_close(loss, TF.l1_loss(x, target), what="8-d l1 with unit gradient")
    assert_close(grad_input, (x - target).sign() / x.numel(), what="8-d l1 unit gradient")


def test_bce_with_logits_is_stable_for_large_logits():
    x = torch.tensor([-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4], dtype=torch.float32, device=DEVICE)
    target = torch.tensor([0.0, 1.0, 0.5, 1.0, 0.0, 0.3, 1.0], device=DEVICE)
    pos_weight = torch.full((7,), 2.0, device=DEVICE)
    for aux in (None, pos_weight):
        name = "binary_cross_entropy_with_logits"
        loss = le.launch_elementwise_loss_fwd(name, x, target, aux=aux, reduction="none")
        reference = TF.binary_cross_entropy_with_logits(
            x.double(), target.double(), reduction="none", pos_weight=None if aux is None else aux.double()
        )
        assert bool(loss.isfinite().all()), f"non-finite BCE for large logits: {loss}"
        assert_close(loss, reference, torch.float32, what="bce large logits", check_dtype=False)
        grads = le.launch_elementwise_loss_bwd(name, torch.ones((), device=DEVICE), x, target, aux=aux, reduction="sum")
        assert all(bool(g.isfinite().all()) for g in grads), f"non-finite BCE gradients for large logits: {grads}"


def test_kernel_bad_arguments():
    x = torch.randn(3, 4, device=DEVICE)
    with pytest.raises(ValueError, match="broadcast before"):
        le.launch_elementwise_loss_fwd("mse_loss", x, torch.randn(4, device=DEVICE))
    with pytest.raises(TypeError, match="float64"):
        le.launch_elementwise_loss_fwd("mse_loss", x, x.double())
    with pytest.raises(ValueError, match="reduction"):
        le.launch_elementwise_loss_fwd("l1_loss", x, x, reduction="avg")
    with pytest.raises(ValueError, match="unknown elementwise loss 'l2_loss'"):
        le.launch_elementwise_loss_fwd("l2_loss", x, x)
    with pytest.raises(ValueError, match="unit_grads needs a scalar loss"):
        le.launch_elementwise_loss_fwd("mse_loss", x, x, reduction="none", unit_grads=(True, False))
    with pytest.raises(ValueError, match=r"grad_loss has shape \(3,\)"):
        le.launch_elementwise_loss_bwd("mse_loss", torch.randn(3, device=DEVICE), x, x, reduction="none")
    with pytest.raises(ValueError, match="pos_weight of shape"):
        le.launch_elementwise_loss_fwd("binary_cross_entropy_with_logits", x, x, aux=torch.ones(5, device=DEVICE))
    with pytest.raises(ValueError, match="takes no auxiliary operand"):
        le.launch_elementwise_loss_fwd("l1_loss", x, x, aux=torch.ones(4, device=DEVICE))
    with pytest.raises(ValueError, match="not differentiable with respect to its target"):
        le.launch_elementwise_loss_bwd("soft_margin_loss", torch.ones((), device=DEVICE), x, x)


# ============================================================================== nn.functional

# The functional form of each row, as (tritongrad, torch) callables taking (input, target, **options).
FUNCTIONAL = {
    "mse_loss": (F.mse_loss, TF.mse_loss, {}),
    "l1_loss": (F.l1_loss, TF.l1_loss, {}),
    "smooth_l1_loss": (F.smooth_l1_loss, TF.smooth_l1_loss, {"beta": PARAMETER}),
    "huber_loss": (F.huber_loss, TF.huber_loss, {"delta": PARAMETER}),
    "binary_cross_entropy": (F.binary_cross_entropy, TF.binary_cross_entropy, {}),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, {}),
    "kl_div": (F.kl_div, TF.kl_div, {}),
    "kl_div_log_target": (F.kl_div, TF.kl_div, {"log_target": True}),
    "soft_margin_loss": (F.soft_margin_loss, TF.soft_margin_loss, {}),
}


def check_functional(name, t_input, t_target, g_input, g_target, reduction, dtype, tolerance=None, **extra):
    """The functional loss and its gradients (w.r.t. the leaves behind the given operands) vs torch.

    ``t_*`` are torch tensors whose float64 copies feed the oracle; ``g_*`` the tritongrad leaves
    with the same values. Returns the tritongrad loss.
    """
    tg_fn, torch_fn, options = FUNCTIONAL[name]
    options = {**options, **extra}
    target_grad = le.LOSSES[name].target_grad
    rtol, atol = tolerance or LOW_PRECISION_TOLERANCE.get(dtype, TOLERANCES[dtype])
    reference_input, reference_target = oracle_leaf(t_input), oracle_leaf(t_target, target_grad)
    torch_options = {k: to_torch(v).double() if isinstance(v, tritongrad.Tensor) else v for k, v in options.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # broadcasting and kl_div's "mean"
        want = torch_fn(reference_input, reference_target, reduction=reduction, **torch_options)
        got = tg_fn(g_input, g_target, reduction=reduction, **options)
    what = f"{name} {tuple(t_input.shape)}/{tuple(t_target.shape)} {dtype} {reduction}"
    assert got.dtype == dtype, f"{what}: loss dtype {got.dtype}, expected {dtype}"
    assert_close(got, want, dtype, rtol=rtol, atol=atol, what=f"{what} loss", check_dtype=False)
    grad = torch.randn(want.shape, dtype=torch.float64).to(dtype)
    want.backward(grad.double())
    got.backward(from_torch(grad))
    leaves = [(g_input, reference_input, "input"), (g_target, reference_target, "target")]
    for leaf, reference, label in leaves if target_grad else leaves[:1]:
        assert_close(leaf.grad, reference.grad, dtype, rtol=rtol, atol=atol, what=f"{what} grad {label}",
                     check_dtype=False)  # fmt: skip
    return got


def tg_leaves(x: torch.Tensor, t: torch.Tensor, target_grad: bool):
    return from_torch(x, requires_grad=True), from_torch(t, requires_grad=target_grad)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ROWS)
def test_functional_matches_torch(name, reduction, dtype):
    x, t = row_values(name, (6, 7), dtype)  # 42 elements, both dims prime-ish
    g_x, g_t = tg_leaves(x, t, le.LOSSES[name].target_grad)
    check_functional(name, x, t, g_x, g_t, reduction, dtype)


@pytest.mark.parametrize("shape", [(0,), (1,), (37,), (70_001,)], ids=lambda s: f"numel={s[0]}")
@pytest.mark.parametrize("name", ROWS)
def test_functional_sizes(name, shape):
    # empty (mean is 0 / 0 = NaN, as in torch), one element, a prime, more than one block
    x, t = row_values(name, shape, torch.float32)
    for reduction in ("mean", "sum") if shape[0] > 1000 else REDUCTIONS:
        g_x, g_t = tg_leaves(x, t, le.LOSSES[name].target_grad)
        check_functional(name, x, t, g_x, g_t, reduction, torch.float32)


def strided_leaf(values: torch.Tensor, layout: str):
    """``values`` laid out as a ``layout`` view (tests/utils.LAYOUTS): the torch view and a tritongrad
    leaf over a private copy of its base with the same strides."""
    base_shape_of, view = LAYOUTS[layout]
    if layout == "expanded":
        base, view = values[:1].clone(), lambda b: b.expand(values.shape)  # rows repeat: stride 0
    else:
        base = torch.randn(base_shape_of(tuple(values.shape)), dtype=values.dtype)
        view(base).copy_(values)
    leaf = tritongrad.Tensor._wrap(view(base.to(DEVICE).clone()))
    assert leaf.stride() == view(base).stride()
    return view(base), leaf.requires_grad_()


@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
@pytest.mark.parametrize("name", ROWS)
def test_functional_non_contiguous(name, layout):
    # The loss reads strided and stride-0 operands in place; the target is transposed throughout.
    for reduction in REDUCTIONS:
        x, t = row_values(name, (5, 3))
        t_x, g_x = strided_leaf(x, layout)
        t_t, g_t = strided_leaf(t, "transposed")
        g_t.requires_grad_(le.LOSSES[name].target_grad)
        check_functional(name, t_x, t_t, g_x, g_t, reduction, torch.float64)


@pytest.mark.parametrize(
    "input_shape, target_shape", [((4, 5), (5,)), ((4, 1), (5,)), ((3,), (2, 1))], ids=str
)  # fmt: skip
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div"])
def test_functional_broadcasting(name, input_shape, target_shape):
    # torch broadcasts input and target (warning for all but kl_div); gradients reduce back.
    x, _ = row_values(name, input_shape)
    _, t = row_values(name, target_shape)
    for reduction in REDUCTIONS:
        g_x, g_t = tg_leaves(x, t, True)
        check_functional(name, x, t, g_x, g_t, reduction, torch.float64)
    g_x, g_t = tg_leaves(x, t, True)
    tg_fn, _, options = FUNCTIONAL[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tg_fn(g_x, g_t, **options)
    warned = any("different to the input size" in str(w.message) for w in caught)
    assert warned == (name != "kl_div"), f"{name}: size-mismatch warning {'missing' if not warned else 'unexpected'}"


@pytest.mark.parametrize("name", ROWS)
def test_gradcheck(name):
    target_grad = le.LOSSES[name].target_grad
    tg_fn, _, options = FUNCTIONAL[name]
    x, t = row_values(name, (2, 3))
    g_x, g_t = tg_leaves(x, t, target_grad)
    for reduction in REDUCTIONS:
        if target_grad:
            assert gradcheck(lambda a, b, r=reduction: tg_fn(a, b, reduction=r, **options), (g_x, g_t))
        else:
            assert gradcheck(lambda a, r=reduction: tg_fn(a, g_t, reduction=r, **options), (g_x,))


@pytest.mark.parametrize("name", ROWS)
def test_double_backward(name):
    # The backward under create_graph=True is composed from recorded ops; compare both orders with torch.
    target_grad = le.LOSSES[name].target_grad
    tg_fn, torch_fn, options = FUNCTIONAL[name]
    x, t = row_values(name, (3, 4))
    t_leaves = [x.clone().requires_grad_(), t.clone().requires_grad_(target_grad)]
    g_leaves = list(tg_leaves(x, t, target_grad))
    wrt = 2 if target_grad else 1
    for reduction in ("mean", "none"):
        want, got = (
            torch_fn(*t_leaves, reduction=reduction, **options),
            tg_fn(*g_leaves, reduction=reduction, **options),
        )
        grad = torch.randn(want.shape, dtype=torch.float64)
        want_grads = torch.autograd.grad(want, t_leaves[:wrt], grad, create_graph=True)
        got_grads = tritongrad.autograd.grad(got, g_leaves[:wrt], from_torch(grad), create_graph=True)
        for index, (g, w) in enumerate(zip(got_grads, want_grads)):
            assert g.requires_grad, f"{name}: first derivative {index} was not recorded"
            assert_close(g, w, what=f"{name} {reduction} first derivative {index}")
        grad_grads = [torch.randn(w.shape, dtype=torch.float64) for w in want_grads]
        want_second = torch.autograd.grad(
            want_grads, t_leaves[:wrt], grad_grads, allow_unused=True, materialize_grads=True
        )
        got_second = tritongrad.autograd.grad(
            got_grads, g_leaves[:wrt], [from_torch(g) for g in grad_grads], allow_unused=True, materialize_grads=True
        )
        for index, (g, w) in enumerate(zip(got_second, want_second)):
            assert_close(g, w, rtol=1e-9, what=f"{name} {reduction} second derivative {index}")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", ROWS)
def test_implicit_backward_launches_nothing(name, reduction):
    # backward() with the implicit seed of 1 uses the gradients the forward's one launch wrote.
    target_grad = le.LOSSES[name].target_grad
    tg_fn, torch_fn, options = FUNCTIONAL[name]
    x, t = row_values(name, (7, 5), torch.float32)
    g_x, g_t = tg_leaves(x, t, target_grad)
    t_x, t_t = x.clone().requires_grad_(), t.clone().requires_grad_(target_grad)
    forward = count_tritongrad_launches(lambda: tg_fn(g_x.detach(), g_t.detach(), reduction=reduction, **options))
    assert sum(forward.values()) == 1, f"{name}: a one-block loss forward is one launch: {forward}"
    got = tg_fn(g_x, g_t, reduction=reduction, **options)
    backward = count_tritongrad_launches(got.backward)
    assert not backward, f"{name}: backward() of a one-block loss launches nothing: {backward}"
    torch_fn(t_x, t_t, reduction=reduction, **options).backward()
    assert_close(g_x.grad, t_x.grad, what=f"{name} grad input")
    if target_grad:
        assert_close(g_t.grad, t_t.grad, what=f"{name} grad target")


def test_prepared_gradients_give_way_to_other_seeds():
    """An explicit seed, a retained graph and a loss used twice all give torch's gradients."""
    x, t = row_values("huber_loss", (4, 3))
    t_x, g_x = x.clone().requires_grad_(), from_torch(x, requires_grad=True)
    want = TF.huber_loss(t_x, t, delta=PARAMETER)
    got = F.huber_loss(g_x, from_torch(t), delta=PARAMETER)
    three = torch.tensor(3.0, dtype=torch.float64)
    want.backward(three, retain_graph=True)
    got.backward(from_torch(three), retain_graph=True)  # the backward kernel
    for _ in range(2):  # the forward's unit gradient, then (handed out once) the kernel again
        want.backward(retain_graph=True)
        got.backward(retain_graph=True)
    assert_close(g_x.grad, t_x.grad, what="huber grads after three backwards")
    (want * 2 + want).sum().backward()
    (got * 2 + got).sum().backward()
    assert_close(g_x.grad, t_x.grad, what="huber grads through a node used twice")


# ------------------------------------------------------------------------------ semantics of single losses


def test_binary_cross_entropy_clamps_its_logs_like_torch():
    # x = 0 or 1 with the opposite target: log(0) is clamped to -100, so the loss is 100.
    x = torch.tensor([0.0, 1.0, 0.0, 1.0, 1e-30, 0.5], dtype=torch.float64)
    t = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.3, 0.5], dtype=torch.float64)
    g_x, g_t = tg_leaves(x, t, True)
    for reduction in REDUCTIONS:
        g_x.grad = g_t.grad = None
        check_functional("binary_cross_entropy", x, t, g_x, g_t, reduction, torch.float64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "x, t",
    [
        ([0.5, 1.5, 0.3], [0.5, 0.5, 0.5]),  # input above 1
        ([0.5, -0.1, 0.3], [0.5, 2.0, 0.5]),  # input below 0 (reported before the bad target)
        ([float("nan"), 0.5], [0.5, 0.5]),  # NaN input
        ([0.5, 0.2], [0.5, -1e-3]),  # target below 0
        ([0.5, 0.2], [float("nan"), 0.5]),  # NaN target
    ],
)
def test_binary_cross_entropy_outside_unit_interval_raises_like_torch(x, t, reduction):
    with pytest.raises(RuntimeError) as want:
        TF.binary_cross_entropy(torch.tensor(x), torch.tensor(t), reduction=reduction)
    with pytest.raises(RuntimeError, match=str(want.value)):
        F.binary_cross_entropy(from_torch(torch.tensor(x), requires_grad=True), from_torch(torch.tensor(t)),
                               reduction=reduction)  # fmt: skip
    with pytest.raises(RuntimeError, match=str(want.value)):
        nn.BCELoss(reduction=reduction)(from_torch(torch.tensor(x)), from_torch(torch.tensor(t)))


def test_binary_cross_entropy_check_beyond_one_program_and_deferred_as_on_a_gpu():
    x = torch.rand(5000, dtype=torch.float64)  # more programs than one (each flags its own block)
    x[4321] = 1.25
    t = torch.rand(5000, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(from_torch(x), from_torch(t), reduction="sum")
    with deferred_checks(True):  # a GPU's path: no readback at the call, the error at the next sync
        loss = F.binary_cross_entropy(from_torch(x), from_torch(t), reduction="none")
        with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
            raise_deferred_errors()
    assert bool(to_torch(loss)[4321].isnan())  # until then, the bad element's loss is NaN
    x[4321] = 1.0
    assert_close(F.binary_cross_entropy(from_torch(x), from_torch(t)), TF.binary_cross_entropy(x, t))


def test_l1_loss_gradient_at_nan_is_zero_like_torch():
    values = [float("nan"), 1.0, float("nan"), 2.0]
    target = [0.0, float("nan"), float("nan"), 3.0]
    for reduction in REDUCTIONS:
        want_x = torch.tensor(values, requires_grad=True)
        got_x = from_torch(torch.tensor(values), requires_grad=True)
        want = TF.l1_loss(want_x, torch.tensor(target), reduction=reduction)
        got = F.l1_loss(got_x, from_torch(torch.tensor(target)), reduction=reduction)
        want.backward(torch.ones_like(want))
        got.backward(tritongrad.ones(tuple(got.shape)))
        assert_close(got_x.grad, want_x.grad, what=f"l1_loss grad at NaN ({reduction})")


def test_kl_div_zero_target_and_batchmean():
    # t = 0 adds 0 to the loss; torch's target gradient there is 0 / 0 = NaN, and so is ours.
    x, t = row_values("kl_div", (3, 4))
    t[0, 1] = 0.0
    for reduction in ["none", "sum", "batchmean"]:
        g_x, g_t = tg_leaves(x, t, True)
        check_functional("kl_div", x, t, g_x, g_t, reduction, torch.float64)
    # batchmean divides by the first dim: of a 1-D input its length, of a 0-d input nothing.
    for shape in [(5,), (), (2, 3, 2), (0, 3)]:
        x, t = row_values("kl_div", shape)
        g_x, g_t = tg_leaves(x, t, True)
        check_functional("kl_div", x, t, g_x, g_t, "batchmean", torch.float64)
        g_x, g_t = tg_leaves(x, t, True)
        check_functional("kl_div_log_target", x, t, g_x, g_t, "batchmean", torch.float64)


def test_kl_div_mean_warns_like_torch():
    x, t = (from_torch(v) for v in row_values("kl_div", (2, 3)))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(x, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(x, t, reduction="batchmean")
        F.kl_div(x, t, reduction="sum")


def test_smooth_l1_with_zero_beta_is_l1():
    x, t = row_values("l1_loss", (5, 4))
    for reduction in REDUCTIONS:
        g_x, g_t = tg_leaves(x, t, True)
        check_functional("smooth_l1_loss", x, t, g_x, g_t, reduction, torch.float64, beta=0.0)
    g_x, g_t = tg_leaves(x, t, True)
    assert gradcheck(lambda a, b: F.smooth_l1_loss(a, b, beta=0.0), (g_x, g_t))


DTYPE_PAIRS = [
    (torch.float32, torch.float64),
    (torch.float64, torch.float32),
    (torch.float16, torch.float32),
    (torch.float64, torch.int64),
    (torch.int64, torch.float32),
]


@pytest.mark.parametrize("input_dtype, target_dtype", DTYPE_PAIRS, ids=str)
@pytest.mark.parametrize("name", [n for n in ROWS if n != "binary_cross_entropy"])
def test_functional_dtype_rules(name, input_dtype, target_dtype):
    # torch's rules differ by loss: promote (mse, l1, smooth_l1, kl_div, which refuses integers),
    # the input's dtype (huber, soft_margin), the target's (binary_cross_entropy_with_logits).
    x, t = row_values(name, (3, 4))
    x = (3 * x).to(input_dtype)
    t = (3 * t).to(target_dtype) if name != "binary_cross_entropy_with_logits" else t.to(target_dtype)
    tg_fn, torch_fn, options = FUNCTIONAL[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            want = torch_fn(x, t, **options)
        except (RuntimeError, NotImplementedError) as error:
            with pytest.raises(type(error)):
                tg_fn(from_torch(x), from_torch(t), **options)
            return
        got = tg_fn(from_torch(x), from_torch(t), **options)
        # torch computes parts in the operands' own (lower) precision; tritongrad in the result's:
        # values are judged against float64 with the tolerance of the least precise dtype involved.
        exact = torch_fn(x.double(), t.double(), **options)
    assert got.dtype == want.dtype, f"{name} of {input_dtype} and {target_dtype}: {got.dtype} != {want.dtype}"
    floats = [d for d in (input_dtype, target_dtype, want.dtype) if d.is_floating_point]
    coarsest = max(floats, key=lambda d: TOLERANCES[d][0])
    assert_close(got, exact.to(want.dtype), coarsest, what=f"{name} of {input_dtype} and {target_dtype}")


def test_binary_cross_entropy_does_not_promote():
    x, t = torch.rand(3, 4), torch.rand(3, 4, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
        F.binary_cross_entropy(from_torch(x), from_torch(t))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_elementwise_weight(name, reduction):
    # torch's weighted "mean": sum / sum(weight) for mse and l1, / numel for huber.
    x, t = row_values(name, (4, 5))
    weight = torch.rand(4, 5, dtype=torch.float64) + 0.5
    g_x, g_t = tg_leaves(x, t, True)
    check_functional(name, x, t, g_x, g_t, reduction, torch.float64, weight=from_torch(weight))
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        FUNCTIONAL[name][0](g_x, g_t, weight=from_torch(weight[:1]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_weight_broadcasts(reduction):
    x, t = row_values("binary_cross_entropy", (4, 5))
    weight = torch.rand(5, dtype=torch.float64) + 0.5
    t_x, t_t = x.clone().requires_grad_(), t.clone().requires_grad_()
    g_x, g_t = tg_leaves(x, t, True)
    want = TF.binary_cross_entropy(t_x, t_t, weight=weight, reduction=reduction)
    got = F.binary_cross_entropy(g_x, g_t, weight=from_torch(weight), reduction=reduction)
    assert_close(got, want, what="weighted bce")
    grad = torch.randn(want.shape, dtype=torch.float64)
    want.backward(grad)
    got.backward(from_torch(grad))
    assert_close(g_x.grad, t_x.grad, what="weighted bce grad input")
    assert_close(g_t.grad, t_t.grad, what="weighted bce grad target")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_weight_and_pos_weight(reduction):
    x, t = row_values("binary_cross_entropy_with_logits", (2, 3, 5))
    weight, pos_weight = torch.rand(3, 1, dtype=torch.float64) + 0.5, 3 * torch.rand(5, dtype=torch.float64)
    for options in ({"weight": weight}, {"pos_weight": pos_weight}, {"weight": weight, "pos_weight": pos_weight}):
        t_x, t_t = x.clone().requires_grad_(), t.clone().requires_grad_()
        g_x, g_t = tg_leaves(x, t, True)
        want = TF.binary_cross_entropy_with_logits(t_x, t_t, reduction=reduction, **options)
        got = F.binary_cross_entropy_with_logits(
            g_x, g_t, reduction=reduction, **{k: from_torch(v) for k, v in options.items()}
        )
        assert_close(got, want, what=f"bce with logits {sorted(options)}")
        grad = torch.randn(want.shape, dtype=torch.float64)
        want.backward(grad)
        got.backward(from_torch(grad))
        assert_close(g_x.grad, t_x.grad, what=f"bce with logits {sorted(options)} grad input")
        assert_close(g_t.grad, t_t.grad, what=f"bce with logits {sorted(options)} grad target")


def test_grad_fn_names_match_torch():
    for name in ROWS:
        tg_fn, torch_fn, options = FUNCTIONAL[name]
        x, t = row_values(name, (2, 3))
        reductions = [*REDUCTIONS, "batchmean"] if name.startswith("kl_div") else REDUCTIONS
        for reduction in reductions:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                want = torch_fn(x.clone().requires_grad_(), t, reduction=reduction, **options)
                got = tg_fn(from_torch(x, requires_grad=True), from_torch(t), reduction=reduction, **options)
            assert got.grad_fn.name() == type(want.grad_fn).__name__, f"{name} {reduction}"


def test_functional_errors_like_torch():
    x, t = from_torch(torch.rand(3, 4)), from_torch(torch.rand(3, 4))
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(4\) must match the size of tensor b \(5\)"):
        with pytest.warns(UserWarning):
            F.l1_loss(x, from_torch(torch.rand(5)))
    with pytest.raises(ValueError, match=r"Using a target size .* is deprecated"):
        F.binary_cross_entropy(x, from_torch(torch.rand(3, 1)))
    with pytest.raises(ValueError, match=r"Target size .* must be the same as input size"):
        F.binary_cross_entropy_with_logits(x, from_torch(torch.rand(4)))
    with pytest.raises(RuntimeError, match="does not support negative values for beta"):
        F.smooth_l1_loss(x, t, beta=-1.0)
    with pytest.raises(RuntimeError, match="does not support non-positive values for delta"):
        F.huber_loss(x, t, delta=0.0)
    for function in (F.l1_loss, F.smooth_l1_loss, F.binary_cross_entropy, F.kl_div, F.soft_margin_loss):
        with pytest.raises(ValueError, match="is not a valid value for reduction"):
            function(x, t, reduction="average")
    with pytest.raises(ValueError, match="batchmean is not a valid value for reduction"):
        F.l1_loss(x, t, reduction="batchmean")
    with pytest.raises(TypeError, match="argument 'target' must be Tensor"):
        F.l1_loss(x, 1.0)
    with pytest.raises(NotImplementedError, match="\"mse_loss\" not implemented for 'Long'"):
        F.mse_loss(from_torch(torch.arange(3)), from_torch(torch.arange(3)))
    leaf_weight = from_torch(torch.rand(4), requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        F.binary_cross_entropy(x, t, weight=leaf_weight)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'pos_weight'"):
        F.binary_cross_entropy_with_logits(x, t, pos_weight=leaf_weight)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'target'"):
        F.soft_margin_loss(x, from_torch(torch.ones(3, 4), requires_grad=True))
    with pytest.raises(RuntimeError, match="does not broadcast to the input shape"):
        F.binary_cross_entropy(x, t, weight=from_torch(torch.rand(2, 3, 4)))


def test_legacy_size_average_and_reduce():
    x, t = row_values("l1_loss", (3, 4))
    for size_average, reduce, reduction in [(False, None, "sum"), (None, False, "none"), (True, True, "mean")]:
        with pytest.warns(UserWarning, match=f"reduction='{reduction}'"):
            got = F.l1_loss(from_torch(x), from_torch(t), size_average=size_average, reduce=reduce)
        assert_close(got, TF.l1_loss(x, t, reduction=reduction), what=f"legacy flags -> {reduction}")
        with pytest.warns(UserWarning):
            module = nn.SmoothL1Loss(size_average=size_average, reduce=reduce)
        assert module.reduction == reduction


# ============================================================================== nn modules

MODULES = [
    ("L1Loss", {}, "l1_loss"),
    ("MSELoss", {"reduction": "sum"}, "mse_loss"),
    ("SmoothL1Loss", {"beta": 0.5}, "smooth_l1_loss"),
    ("HuberLoss", {"delta": 0.7, "reduction": "none"}, "huber_loss"),
    ("BCELoss", {}, "binary_cross_entropy"),
    ("BCEWithLogitsLoss", {"reduction": "sum"}, "binary_cross_entropy_with_logits"),
    ("KLDivLoss", {"reduction": "batchmean"}, "kl_div"),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}, "kl_div_log_target"),
    ("SoftMarginLoss", {}, "soft_margin_loss"),
]


@pytest.mark.parametrize("module_name, options, row", MODULES, ids=[f"{m[0]}-{m[1]}" for m in MODULES])
def test_modules_match_torch(module_name, options, row):
    target_grad = le.LOSSES[row].target_grad
    x, t = row_values(row, (4, 3))
    t_x, t_t = x.clone().requires_grad_(), t.clone().requires_grad_(target_grad)
    g_x, g_t = tg_leaves(x, t, target_grad)
    want = getattr(torch.nn, module_name)(**options)(t_x, t_t)
    got = getattr(nn, module_name)(**options)(g_x, g_t)
    assert_close(got, want, what=module_name)
    grad = torch.randn(want.shape, dtype=torch.float64)
    want.backward(grad)
    got.backward(from_torch(grad))
    assert_close(g_x.grad, t_x.grad, what=f"{module_name} grad input")
    if target_grad:
        assert_close(g_t.grad, t_t.grad, what=f"{module_name} grad target")


def test_module_weights_are_buffers():
    weight, pos_weight = torch.rand(3, dtype=torch.float64) + 0.5, torch.rand(3, dtype=torch.float64) * 2
    x, t = row_values("binary_cross_entropy", (4, 3))
    bce = nn.BCELoss(weight=from_torch(weight))
    assert list(bce.state_dict()) == ["weight"]
    assert_close(bce(from_torch(x), from_torch(t)), torch.nn.BCELoss(weight=weight)(x, t), what="BCELoss weight")
    logits = nn.BCEWithLogitsLoss(weight=from_torch(weight), pos_weight=from_torch(pos_weight))
    assert sorted(logits.state_dict()) == ["pos_weight", "weight"]
    want = torch.nn.BCEWithLogitsLoss(weight=weight, pos_weight=pos_weight)(x, t)
    assert_close(logits(from_torch(x), from_torch(t)), want, what="BCEWithLogitsLoss weights")


# ============================================================================== NLL over extra dims


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_over_extra_dims_with_weight_and_ignore_index(reduction):
    # (N, C, d1, d2) like torch's: C is the class dim, every other dim indexes rows.
    log_probs = torch.log_softmax(torch.randn(2, 5, 3, 4, dtype=torch.float64), 1)
    target = torch.randint(0, 5, (2, 3, 4))
    target[0, 1] = 2  # ignored
    weight = torch.rand(5, dtype=torch.float64) + 0.5
    t_x, g_x = log_probs.clone().requires_grad_(), from_torch(log_probs, requires_grad=True)
    want = TF.nll_loss(t_x, target, weight=weight, ignore_index=2, reduction=reduction)
    got = F.nll_loss(g_x, from_torch(target), weight=from_torch(weight), ignore_index=2, reduction=reduction)
    assert_close(got, want, what=f"nll_loss 4-d {reduction}")
    grad = torch.randn(want.shape, dtype=torch.float64)
    want.backward(grad)
    got.backward(from_torch(grad))
    assert_close(g_x.grad, t_x.grad, what=f"nll_loss 4-d {reduction} grad")
    module = nn.NLLLoss(weight=from_torch(weight), ignore_index=2, reduction=reduction)
    assert_close(module(from_torch(log_probs), from_torch(target)), want, what="NLLLoss 4-d")
