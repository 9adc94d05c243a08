"""kernels/loss_classes.py against torch.nn.functional: cross_entropy and nll_loss, forward and
backward (torch autograd), every reduction. (The elementwise losses: test_loss_elementwise.py.)

The oracle is torch in float64 on the same (rounded) inputs, so half-precision results
are judged against the exact answer rather than against torch's own rounding.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import tritongrad.nn.functional as F_tg
from tests.utils import assert_close, from_torch
from tritongrad import runtime
from tritongrad.autograd import gradcheck
from tritongrad.kernels import loss_classes as kl

DEVICE = runtime.device()
FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
# Empty and all-ignored means are 0 / 0 = NaN, as in torch, and a few inputs are -inf on
# purpose; numpy (the interpreter) warns about those. The tests compare NaN positions with torch.
pytestmark = [
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning"),
]
REDUCTIONS = ["none", "mean", "sum"]


def oracle_leaf(x: torch.Tensor) -> torch.Tensor:
    """A float64 copy of ``x`` that torch differentiates."""
    return x.detach().to(torch.float64, copy=True).requires_grad_()


def double(x):
    return None if x is None else x.double()


def random_targets(n_rows: int, n_classes: int, ignore_index: int = -100) -> torch.Tensor:
    """Class indices with every third row, from the second, ignored."""
    target = torch.randint(0, n_classes, (n_rows,))
    target[1::3] = ignore_index
    return target.to(DEVICE)


# ----------------------------------------------------------------------------- cross-entropy


def check_cross_entropy(logits, target, dtype, what, weight=None, grad_tolerance=None, **options) -> None:
    """Forward and logits gradient of launch_cross_entropy_* against F.cross_entropy in float64."""
    reference_logits = oracle_leaf(logits)
    reference_target = target.double() if target.dtype.is_floating_point else target
    reference = F.cross_entropy(reference_logits, reference_target, weight=double(weight), **options)
    loss, logsumexp = kl.launch_cross_entropy_fwd(logits, target, weight=weight, **options)
    assert_close(loss, reference, dtype, kind="row_reduction", what=f"{what} loss", check_dtype=dtype)

    grad_loss = torch.randn(reference.shape, dtype=torch.float64, device=DEVICE)
    reference.backward(grad_loss)
    grad_logits = kl.launch_cross_entropy_bwd(grad_loss.to(dtype), logits, target, logsumexp, weight=weight, **options)
    assert_close(
        grad_logits,
        reference_logits.grad,
        dtype,
        kind="row_reduction",
        tolerances=grad_tolerance,
        what=f"{what} grad",
        check_dtype=dtype,
    )


# (rows, classes): one row of one class; a prime class count; a 1000-class row (one
# block) over several rows; no rows at all.
CROSS_ENTROPY_SHAPES = [(1, 1), (6, 7), (5, 1000), (0, 4)]


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", CROSS_ENTROPY_SHAPES, ids=str)
def test_cross_entropy_class_targets(shape, reduction, weighted, label_smoothing):
    dtype = torch.float64
    n_rows, n_classes = shape
    logits = (2 * torch.randn(shape, dtype=torch.float64)).to(dtype).to(DEVICE)
    weight = (torch.rand(n_classes, dtype=torch.float64) + 0.5).to(dtype).to(DEVICE) if weighted else None
    check_cross_entropy(
        logits, random_targets(n_rows, n_classes), dtype, f"{shape}", weight=weight,
        reduction=reduction, label_smoothing=label_smoothing,
    )  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_dtypes(reduction, dtype):
    logits = (2 * torch.randn(9, 13, dtype=torch.float64)).to(dtype).to(DEVICE)
    weight = (torch.rand(13) + 0.5).to(dtype).to(DEVICE)
    check_cross_entropy(
        logits,
        random_targets(9, 13),
        dtype,
        "dtypes",
        weight=weight,
        reduction=reduction,
        label_smoothing=0.2,
    )


def test_cross_entropy_100k_classes():
    # > one block on a GPU and >= 64K in the interpreter: the classes are streamed.
    logits = (3 * torch.randn(2, 100_000, dtype=torch.float64)).to(torch.float32).to(DEVICE)
    weight = (torch.rand(100_000) + 0.5).to(DEVICE)
    check_cross_entropy(
        logits, torch.tensor([5, 99_999], device=DEVICE), torch.float32, "100k classes",
        weight=weight, label_smoothing=0.1, reduction="mean",
    )  # fmt: skip


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Forces 2 rows x 16 classes per program, so rows of more than 16 classes span blocks."""
    monkeypatch.setattr(kl, "row_launch_config", lambda n_rows, n_classes: (2, 16, 4, n_classes > 16))


@pytest.mark.parametrize("probabilities", [False, True], ids=["class targets", "probability targets"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_rows_spanning_many_blocks(tiny_blocks, reduction, probabilities):
    # 37 classes in 16-class blocks; row 0 starts with a block of -inf logits, whose running
    # maximum must be rescaled when the finite blocks arrive. (A zero probability on a -inf
    # logit gives NaN in torch; test_cross_entropy_probability_targets_on_infinite_logits.)
    logits = torch.randn(5, 37, dtype=torch.float64, device=DEVICE)
    logits[0, :20] = float("-inf")
    if probabilities:
        target = torch.softmax(torch.randn(5, 37, dtype=torch.float64), 1).to(DEVICE)
    else:
        target = torch.tensor([30, 3, -100, 36, 0], device=DEVICE)
    weight = (torch.rand(37, dtype=torch.float64) + 0.5).to(DEVICE)
    check_cross_entropy(logits, target, torch.float64, "16-class blocks", weight=weight, reduction=reduction)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets(reduction, weighted, label_smoothing):
    logits = torch.randn(6, 11, dtype=torch.float64, device=DEVICE)
    target = torch.softmax(3 * torch.randn(6, 11, dtype=torch.float64), 1).to(DEVICE)
    weight = (torch.rand(11, dtype=torch.float64) + 0.5).to(DEVICE) if weighted else None
    check_cross_entropy(
        logits, target, torch.float64, "probabilities", weight=weight,
        reduction=reduction, label_smoothing=label_smoothing,
    )  # fmt: skip


def test_cross_entropy_probability_targets_on_infinite_logits():
    # torch: 0 * log(0) is NaN in the loss; the gradient stays finite.
    logits = torch.tensor([[0.0, float("-inf"), 1.0], [2.0, 0.5, -1.0]], dtype=torch.float64, device=DEVICE)
    target = torch.tensor([[0.3, 0.0, 0.7], [0.2, 0.2, 0.6]], dtype=torch.float64, device=DEVICE)
    for reduction in REDUCTIONS:
        check_cross_entropy(logits, target, torch.float64, "zero probability on -inf", reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_all_rows_ignored(reduction):
    # torch: mean over zero weight is NaN, sum is 0, every gradient is 0.
    logits = torch.randn(4, 5, dtype=torch.float64, device=DEVICE)
    target = torch.full((4,), 2, device=DEVICE)
    check_cross_entropy(logits, target, torch.float64, "all ignored", ignore_index=2, reduction=reduction)
    check_cross_entropy(
        logits, target, torch.float64, "all ignored, smoothed", ignore_index=2, reduction=reduction,
        label_smoothing=0.1,
    )  # fmt: skip


def test_cross_entropy_non_contiguous_and_single_row():
    base = torch.randn(9, 6, dtype=torch.float64, device=DEVICE)
    target = random_targets(6, 9)
    check_cross_entropy(base.t(), target, torch.float64, "transposed logits", reduction="mean")
    check_cross_entropy(base[::2, 1:], random_targets(5, 5), torch.float64, "sliced logits", reduction="none")
    # (C,) logits with a 0-d target: one row.
    check_cross_entropy(base[0], torch.tensor(3, device=DEVICE), torch.float64, "1-d logits", reduction="none")


def test_cross_entropy_large_and_infinite_logits():
    logits = torch.tensor(
        [[1e4, -1e4, 0.0, 5e3], [-1e4, -1e4, -1e4, -1e4], [0.0, float("-inf"), 1.0, float("-inf")]],
        dtype=torch.float32,
        device=DEVICE,
    )
    # The backward recomputes p = exp(x - logsumexp) from an fp32 logsumexp near -1e4 (rounded
    # by ~5e-4), so gradients of such rows are good to ~1e-3 relative, not 1e-5.
    for reduction in REDUCTIONS:
        check_cross_entropy(
            logits, torch.tensor([1, 2, 0], device=DEVICE), torch.float32, "large",
            grad_tolerance=(2e-3, 1e-6), reduction=reduction,
        )  # fmt: skip
    loss, _ = kl.launch_cross_entropy_fwd(logits, torch.tensor([0, 2, 2], device=DEVICE), reduction="none")
    assert bool(loss.isfinite().all()), f"finite logits and targets must give a finite loss: {loss}"


def test_cross_entropy_out_of_range_targets_raise():
    logits = torch.randn(3, 5, device=DEVICE)
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        kl.launch_cross_entropy_fwd(logits, torch.tensor([0, 7, 1], device=DEVICE))
    with pytest.raises(IndexError, match="Target -2 is out of bounds"):
        kl.launch_cross_entropy_fwd(logits, torch.tensor([0, -2, 1], device=DEVICE))
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        kl.launch_cross_entropy_fwd(logits, torch.tensor([5, -100, 1], device=DEVICE), ignore_index=1)
    # A custom ignore_index outside [0, C) is not an error.
    kl.launch_cross_entropy_fwd(logits, torch.tensor([0, 9, 1], device=DEVICE), ignore_index=9)


def test_cross_entropy_bad_arguments():
    logits = torch.randn(3, 5, device=DEVICE)
    target = torch.tensor([0, 1, 2], device=DEVICE)
    with pytest.raises(ValueError, match="reduction"):
        kl.launch_cross_entropy_fwd(logits, target, reduction="average")
    with pytest.raises(TypeError, match="int32"):
        kl.launch_cross_entropy_fwd(logits, target.int())
    with pytest.raises(ValueError, match=r"\(3, 5\)"):
        kl.launch_cross_entropy_fwd(logits, target[:2])
    with pytest.raises(ValueError, match="weight"):
        kl.launch_cross_entropy_fwd(logits, target, weight=torch.ones(4, device=DEVICE))
    with pytest.raises(ValueError, match="label_smoothing"):
        kl.launch_cross_entropy_fwd(logits, target, label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"flatten"):
        kl.launch_cross_entropy_fwd(logits.view(3, 5, 1), target.view(3, 1))


# Class counts of 1 and 7 (one block), 4097 and 10000 (past a GPU's 4096-class block: streamed
# there). Three rows keep the interpreter's cost small.
@pytest.mark.parametrize("probabilities", [False, True], ids=["class targets", "probability targets"])
@pytest.mark.parametrize("n_classes", [1, 7, 4097, 10_000])
def test_cross_entropy_vocabulary_sizes(n_classes, probabilities):
    logits = (3 * torch.randn(3, n_classes, dtype=torch.float64)).to(torch.float32).to(DEVICE)
    if probabilities:
        target = torch.softmax(torch.randn(3, n_classes, dtype=torch.float64), 1).to(torch.float32).to(DEVICE)
    else:
        target = torch.tensor([n_classes - 1, -100, 0], device=DEVICE)
    weight = (torch.rand(n_classes) + 0.5).to(DEVICE)
    for reduction in REDUCTIONS:
        check_cross_entropy(
            logits, target, torch.float32, f"{n_classes} classes", weight=weight, label_smoothing=0.1,
            reduction=reduction,
        )  # fmt: skip


@pytest.fixture
def many_programs(monkeypatch, tiny_blocks):
    """2 rows per program (tiny_blocks), and a finishing loop over 4 partial sums at a time."""
    monkeypatch.setattr(kl, "_FINISH_BLOCK", 4)


@pytest.mark.parametrize("probabilities", [False, True], ids=["class targets", "probability targets"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_reduced_by_the_last_program(many_programs, reduction, probabilities):
    # 37 rows: 19 programs, whose partial sums the last one to finish adds in 5 steps of 4.
    logits = torch.randn(37, 23, dtype=torch.float64, device=DEVICE)
    if probabilities:
        target = torch.softmax(torch.randn(37, 23, dtype=torch.float64), 1).to(DEVICE)
    else:
        target = random_targets(37, 23)
    weight = (torch.rand(23, dtype=torch.float64) + 0.5).to(DEVICE)
    options = dict(weight=weight, label_smoothing=0.1, reduction=reduction)
    check_cross_entropy(logits, target, torch.float64, "19 programs", **options)
    first, _ = kl.launch_cross_entropy_fwd(logits, target, **options)
    second, _ = kl.launch_cross_entropy_fwd(logits, target, **options)
    assert torch.equal(first, second), f"the reduction order is fixed: {first} != {second}"
    assert all(t.tolist() == [0] for t in kl._TICKETS.values()), "the last program resets the ticket counter"
    bad = random_targets(37, 23)
    bad[36] = 23  # in the last program, whose bounds the finishing program must see
    with pytest.raises(IndexError, match="Target 23 is out of bounds"):
        kl.launch_cross_entropy_fwd(logits, bad, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_unit_gradient(reduction):
    # grad_loss=None stands for the implicit 1 of loss.backward(): the same gradient as ones.
    logits = torch.randn(5, 11, dtype=torch.float64, device=DEVICE)
    target = random_targets(5, 11)
    weight = (torch.rand(11, dtype=torch.float64) + 0.5).to(DEVICE)
    options = dict(weight=weight, reduction=reduction, label_smoothing=0.2)
    _, saved = kl.launch_cross_entropy_fwd(logits, target, **options)
    ones = torch.ones(5 if reduction == "none" else (), dtype=torch.float64, device=DEVICE)
    implicit = kl.launch_cross_entropy_bwd(None, logits, target, saved, **options)
    explicit = kl.launch_cross_entropy_bwd(ones, logits, target, saved, **options)
    assert_close(
        implicit,
        explicit,
        torch.float64,
        kind="row_reduction",
        what=f"unit gradient, {reduction}",
        check_dtype=torch.float64,
    )


def test_cross_entropy_gradcheck_through_autograd(tiny_blocks):
    # float64 gradcheck of tritongrad's F.cross_entropy, 19-class rows streamed in 16-class blocks.
    logits = from_torch(torch.randn(2, 19, dtype=torch.float64), requires_grad=True)
    target = from_torch(torch.tensor([18, 3]))
    weight = from_torch(torch.rand(19, dtype=torch.float64) + 0.5)
    assert gradcheck(lambda x: F_tg.cross_entropy(x, target, weight=weight, label_smoothing=0.1), (logits,))


@pytest.mark.gpu
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_last_program_reduction_on_a_gpu(reduction):
    # Thousands of programs finishing concurrently: the last one must see every partial sum
    # (release/acquire around the ticket), the result must not vary, and the counter must be
    # reset for the next launch. (4096, 1000) is the shape, (64, 50000) a streamed one.
    for n_rows, n_classes in [(4096, 1000), (64, 50_000)]:
        logits = torch.randn(n_rows, n_classes, device=DEVICE)
        target = random_targets(n_rows, n_classes)
        weight = torch.rand(n_classes, device=DEVICE) + 0.5
        options = dict(weight=weight, label_smoothing=0.1, reduction=reduction)
        check_cross_entropy(logits, target, torch.float32, f"({n_rows}, {n_classes}) on a GPU", **options)
        first, _ = kl.launch_cross_entropy_fwd(logits, target, **options)
        for _ in range(20):
            again, _ = kl.launch_cross_entropy_fwd(logits, target, **options)
            assert torch.equal(first, again), f"({n_rows}, {n_classes}): {first.item()} then {again.item()}"


# ----------------------------------------------------------------------------- NLL


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction, weighted, dtype):
    # 9 rows x 13 classes (primes), every third row ignored.
    log_probs = torch.log_softmax(torch.randn(9, 13, dtype=torch.float64), 1).to(dtype).to(DEVICE)
    target = random_targets(9, 13)
    weight = (torch.rand(13, dtype=torch.float64) + 0.5).to(dtype).to(DEVICE) if weighted else None
    reference_input = oracle_leaf(log_probs)
    reference = F.nll_loss(reference_input, target, weight=double(weight), reduction=reduction)
    loss = kl.launch_nll_loss_fwd(log_probs, target, weight=weight, reduction=reduction)
    assert_close(loss, reference, dtype, kind="row_reduction", what="nll_loss", check_dtype=dtype)
    grad_loss = torch.randn(reference.shape, dtype=torch.float64, device=DEVICE)
    reference.backward(grad_loss)
    grad = kl.launch_nll_loss_bwd(grad_loss.to(dtype), log_probs, target, weight=weight, reduction=reduction)
    assert_close(grad, reference_input.grad, dtype, kind="row_reduction", what="nll_loss grad", check_dtype=dtype)


def test_nll_loss_edge_cases():
    # Transposed input, all rows ignored (mean is NaN), no rows, out-of-range target.
    log_probs = torch.randn(7, 4, dtype=torch.float64, device=DEVICE).t()
    target = torch.tensor([1, 6, 0, 3], device=DEVICE)
    for tgt, options in [(target, {}), (torch.full((4,), -100, device=DEVICE), {"reduction": "mean"})]:
        reference_input = oracle_leaf(log_probs)
        reference = F.nll_loss(reference_input, tgt, **options)
        assert_close(
            kl.launch_nll_loss_fwd(log_probs, tgt, **options),
            reference,
            torch.float64,
            kind="row_reduction",
            what="nll edge",
            check_dtype=torch.float64,
        )
        reference.backward()
        grad = kl.launch_nll_loss_bwd(torch.ones((), dtype=torch.float64, device=DEVICE), log_probs, tgt, **options)
        assert_close(
            grad,
            reference_input.grad,
            torch.float64,
            kind="row_reduction",
            what="nll edge grad",
            check_dtype=torch.float64,
        )
    empty = kl.launch_nll_loss_fwd(log_probs[:0], target[:0], reduction="sum")
    assert empty.item() == 0.0
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        kl.launch_nll_loss_fwd(log_probs, torch.tensor([1, 7, 0, 3], device=DEVICE))
