"""F.ctc_loss / nn.CTCLoss (kernels/ctc_loss.py) against torch: losses and gradients for padded and
concatenated targets, every reduction, zero_infinity, unbatched input, the edge lengths, and
torch's errors.

The oracle is torch's CTC loss in float64 on the same log-probabilities, so float32 results are
judged against the exact answer ("row_reduction" tolerances: T steps of log-sum-exp each round).
Gradients also by float64 gradcheck, which checks the backward's formula against central
differences of the forward.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import tritongrad
import tritongrad.nn.functional as F_tg
from tests.test_hardening import agree
from tests.utils import assert_close, from_torch, to_torch
from tritongrad.autograd import gradcheck
from tritongrad.kernels import ctc_loss as ctc_kernels

# Impossible alignments are inf on purpose, and their gradients NaN (torch's): numpy warns.
pytestmark = [
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning"),
]
REDUCTIONS = ["none", "mean", "sum"]
FLOATS = [torch.float32, torch.float64]


def log_probs_of(steps: int, batch: int | None, classes: int, dtype=torch.float32) -> torch.Tensor:
    shape = (steps, classes) if batch is None else (steps, batch, classes)
    return torch.randn(shape, dtype=torch.float64).log_softmax(-1).to(dtype)


def concatenate(padded: torch.Tensor, lengths) -> torch.Tensor:
    return torch.cat([padded[i, : int(n)] for i, n in enumerate(lengths)])


def check(log_probs, targets, input_lengths, target_lengths, what: str, *, grad_seed=None, **options) -> None:
    """Loss and log_probs gradient of F.ctc_loss against torch's float64 result on the same inputs.

    ``grad_seed``: a random incoming gradient (else loss.backward()'s implicit one, or ones for "none").
    """
    dtype = log_probs.dtype
    reference_input = log_probs.detach().double().requires_grad_()
    reference = F.ctc_loss(reference_input, targets, input_lengths, target_lengths, **options)
    ours_input = from_torch(log_probs, requires_grad=True)
    ours_lengths = [from_torch(x) if isinstance(x, torch.Tensor) else x for x in (input_lengths, target_lengths)]
    loss = F_tg.ctc_loss(ours_input, from_torch(targets), *ours_lengths, **options)
    context = f"{what}: log_probs {tuple(log_probs.shape)} {dtype}, targets {tuple(targets.shape)}, {options}"
    assert_close(loss, reference, dtype, kind="row_reduction", what=f"{context} loss", check_dtype=dtype)

    if grad_seed is not None:
        grad = torch.randn(reference.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(grad_seed))
        reference.backward(grad)
        loss.backward(from_torch(grad.to(dtype)))
    elif reference.dim() == 0:
        reference.backward()
        loss.backward()
    else:
        reference.sum().backward()
        loss.sum().backward()
    assert_close(ours_input.grad, reference_input.grad, dtype, kind="row_reduction", what=f"{context} gradient",
                 check_dtype=dtype)  # fmt: skip


# ----------------------------------------------------------------------------- values and gradients


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_padded_targets_each_reduction(reduction, dtype):
    # Lengths of every kind in one batch: full, shorter input, empty target, a shorter target.
    log_probs = log_probs_of(12, 4, 5, dtype)
    targets = torch.randint(1, 5, (4, 5))
    input_lengths = torch.tensor([12, 9, 12, 7])
    target_lengths = torch.tensor([5, 3, 0, 2])
    check(log_probs, targets, input_lengths, target_lengths, "padded", reduction=reduction, grad_seed=1)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_concatenated_targets_with_tuple_lengths(reduction):
    targets = torch.randint(1, 6, (5, 4))
    target_lengths = (4, 1, 0, 3, 2)
    check(log_probs_of(9, 5, 6), concatenate(targets, target_lengths), (9, 8, 9, 5, 3), target_lengths,
          "concatenated", reduction=reduction)  # fmt: skip


def test_repeated_labels_need_a_blank_between():
    # "aabb" needs 4 labels + 2 separating blanks = 6 steps: 6 is finite, 5 is impossible (inf).
    targets = torch.tensor([[1, 1, 2, 2], [1, 1, 2, 2], [2, 2, 2, 2]])
    log_probs = log_probs_of(7, 3, 3, torch.float64)
    check(log_probs, targets, torch.tensor([6, 5, 7]), torch.tensor([4, 4, 4]), "repeats", reduction="none")
    ours = F_tg.ctc_loss(from_torch(log_probs), from_torch(targets), [6, 5, 7], [4, 4, 4], reduction="none")
    finite = torch.isfinite(to_torch(ours)).tolist()
    assert finite == [True, False, True], f"repeated labels: finite losses {finite}, expected [True, False, True]"


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_targets_longer_than_inputs(reduction, zero_infinity):
    # Element 0: target longer than its input (inf); 1: empty input with a target (inf); 2: empty
    # input and target (0); 3: a possible one. Without zero_infinity torch's gradient is NaN for
    # t < input length of an impossible element (and the reduced loss inf).
    targets = torch.randint(1, 4, (4, 3))
    check(log_probs_of(4, 4, 4), targets, torch.tensor([2, 0, 0, 4]), torch.tensor([3, 2, 0, 2]), "too short",
          reduction=reduction, zero_infinity=zero_infinity)  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("padded", [True, False])
def test_unbatched_input(reduction, padded):
    targets = torch.randint(1, 4, (1, 3) if padded else (3,))
    check(log_probs_of(6, None, 4), targets, torch.tensor(6), torch.tensor(3), "unbatched", reduction=reduction,
          grad_seed=2)  # fmt: skip


@pytest.mark.parametrize(
    "steps, classes, length",
    [
        (1, 2, 1),  # one step, one label: the only path is the label itself
        (1, 2, 0),  # one step, empty target: the blank
        (3, 2, 2),  # the smallest vocabulary, a repeat needing all three steps
        (45, 7, 20),  # S = 20: 41 lanes, a 64-lane block
    ],
)
def test_edge_sizes(steps, classes, length):
    targets = torch.full((2, max(length, 1)), 1)  # all-equal labels: the most blanks needed
    if classes > 2:
        targets = torch.randint(1, classes, (2, max(length, 1)))
    check(log_probs_of(steps, 2, classes), targets, torch.tensor([steps, steps]), torch.tensor([length, length]),
          "edge sizes")  # fmt: skip


def test_strided_inputs_and_other_integer_dtypes():
    # (N, T, C) transposed to (T, N, C), as speech models often hand it over; targets transposed
    # (stride 1 along the batch) in int32, input lengths in int32 as a (N, 1) column (torch reads
    # any shape of N values), target lengths in uint8.
    log_probs = log_probs_of(8, 3, 5).transpose(0, 1).contiguous().transpose(0, 1)
    targets = torch.randint(1, 5, (4, 3), dtype=torch.int32).t()
    input_lengths = torch.tensor([[8], [6], [7]], dtype=torch.int32)
    check(log_probs, targets, input_lengths, torch.tensor([4, 2, 3], dtype=torch.uint8), "strided", reduction="sum")


@pytest.mark.parametrize("blank", [2, 5])
def test_blank_not_zero(blank):
    # Class 0 is an ordinary label here; blank in the middle and last.
    targets = torch.tensor([[0, 1, 3], [4, 4, 0]])
    check(log_probs_of(7, 2, 6), targets, (7, 6), (3, 3), "blank", blank=blank, reduction="none")


def test_class_and_batch_tiles_smaller_than_the_row(monkeypatch):
    # Force 16-wide class tiles and batch blocks (as on a GPU for long rows): the gradient row is
    # written in three class tiles, and concatenated offsets sum over two blocks of 16 lengths.
    monkeypatch.setattr(ctc_kernels, "reduction_block", lambda length, max_block=None: 16)
    batch = 19
    target_lengths = torch.randint(0, 4, (batch,))
    targets = concatenate(torch.randint(1, 37, (batch, 3)), target_lengths)
    check(log_probs_of(5, batch, 37), targets, torch.randint(3, 6, (batch,)), target_lengths, "tiles")


def test_gradcheck_float64():
    # Through log_softmax, as torch checks its own: torch's gradient adds exp(log_probs) to the
    # derivative (-posteriors), a term log_softmax's backward removes (the comparisons with torch
    # above check it). The third target uses the blank's class (1) as a label at the last step,
    # where torch's own gradient keeps only one of the two lanes: gradcheck holds ours to the loss.
    logits = tritongrad.randn(4, 3, 3, dtype=tritongrad.float64, requires_grad=True)
    targets = tritongrad.tensor([[2, 2], [2, 0], [0, 1]])

    def loss(x):
        return F_tg.ctc_loss(x.log_softmax(2), targets, [4, 3, 4], [2, 1, 2], blank=1, reduction="mean")

    assert gradcheck(loss, (logits,))


def test_module_and_node_names():
    log_probs = from_torch(log_probs_of(6, 2, 4), requires_grad=True)
    targets, lengths = from_torch(torch.randint(1, 4, (2, 3))), ([6, 5], [3, 2])
    module = tritongrad.nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    assert module(log_probs, targets, *lengths).grad_fn.name() == "SumBackward0"
    names = {
        ("none", False): "CtcLossBackward0",
        ("none", True): "WhereBackward0",
        ("mean", False): "MeanBackward0",
    }
    for (reduction, zero_infinity), name in names.items():
        loss = F_tg.ctc_loss(log_probs, targets, *lengths, reduction=reduction, zero_infinity=zero_infinity)
        assert loss.grad_fn.name() == name, f"{reduction}, zero_infinity={zero_infinity}: {loss.grad_fn.name()}"
    unbatched = F_tg.ctc_loss(log_probs[:, 0], targets[0], [6], [3], reduction="none")
    assert unbatched.grad_fn.name() == "SqueezeBackward1"


def test_loss_without_a_recorded_gradient():
    # No alpha rows are stored when nothing can call the backward: the same losses.
    log_probs = log_probs_of(10, 3, 5)
    targets, input_lengths, target_lengths = torch.randint(1, 5, (3, 4)), [10, 8, 9], [4, 3, 0]
    expected = F.ctc_loss(log_probs.double(), targets, input_lengths, target_lengths, reduction="none")
    with tritongrad.no_grad():
        loss = F_tg.ctc_loss(from_torch(log_probs), from_torch(targets), input_lengths, target_lengths,
                             reduction="none")  # fmt: skip
    assert_close(loss, expected, torch.float32, kind="row_reduction", what="no_grad loss", check_dtype=torch.float32)


def test_labels_outside_the_classes_have_probability_zero():
    # torch reads memory outside the row for these; tritongrad gives them probability 0 (inf loss).
    log_probs = from_torch(log_probs_of(6, 3, 4))
    targets = from_torch(torch.tensor([[1, 7], [-1, 2], [1, 2]]))
    loss = to_torch(F_tg.ctc_loss(log_probs, targets, [6, 6, 6], [2, 2, 2], reduction="none"))
    assert torch.isinf(loss[:2]).all() and torch.isfinite(loss[2]), f"out-of-range labels: losses {loss.tolist()}"


def test_not_differentiable_twice():
    log_probs = log_probs_of(5, 2, 4).requires_grad_()

    def twice(lib, x):
        loss = lib.nn.functional.ctc_loss(x, lib.tensor([[1, 2], [3, 3]]), [5, 5], [2, 2])
        (grad,) = lib.autograd.grad(loss, x, create_graph=True)
        grad.sum().backward()

    agree("ctc_loss double backward", twice, [log_probs], message=False)


# ----------------------------------------------------------------------------- errors (torch's types)


def _call(lib, log_probs, targets, input_lengths, target_lengths, **options):
    def lengths(value):
        return lib.tensor(value.tolist(), dtype=value.dtype) if isinstance(value, torch.Tensor) else value

    return lib.nn.functional.ctc_loss(
        log_probs, targets, lengths(input_lengths), lengths(target_lengths), **options
    )  # fmt: skip


LP = log_probs_of(5, 2, 4)
TARGETS = torch.tensor([[1, 2, 3], [2, 2, 1]])
IL, TL = torch.tensor([5, 4]), torch.tensor([3, 2])
ERRORS = {
    "half log_probs": (LP.half(), TARGETS, IL, TL, {}),
    "integer log_probs": (LP.long(), TARGETS, IL, TL, {}),
    "empty log_probs": (LP[:0], TARGETS, IL, TL, {}),
    "4-d log_probs": (LP[None], TARGETS, IL, TL, {}),
    "1-d log_probs": (LP[:, 0, 0], TARGETS, IL, TL, {}),
    "3-d targets": (LP, TARGETS[None], IL, TL, {}),
    "0-d targets": (LP, TARGETS[0, 0], IL, TL, {}),
    "blank negative": (LP, TARGETS, IL, TL, {"blank": -1}),
    "blank too large": (LP, TARGETS, IL, TL, {"blank": 4}),
    "bad reduction": (LP, TARGETS, IL, TL, {"reduction": "average"}),
    "input_lengths size": (LP, TARGETS, IL[:1], TL, {}),
    "target_lengths size": (LP, TARGETS, IL, TL[:1], {}),
    "float input_lengths": (LP, TARGETS, IL.float(), TL, {}),
    "bool target_lengths": (LP, TARGETS, IL, TL > 0, {}),
    "negative target length": (LP, TARGETS, IL, torch.tensor([-1, 2]), {}),
    "negative input length": (LP, TARGETS, torch.tensor([5, -4]), TL, {}),
    "input length past T": (LP, TARGETS, torch.tensor([6, 4]), TL, {}),
    "target length past S": (LP, TARGETS, IL, torch.tensor([4, 2]), {}),
    "targets batch size": (LP, TARGETS[:1], IL, TL, {}),
    "concatenated size": (LP, TARGETS.flatten(), IL, TL, {}),
    "tuple negative input length": (LP, TARGETS, (5, -4), (3, 2), {}),
    "tuple target length past S": (LP, TARGETS, (5, 4), (4, 2), {}),
    "tuple concatenated size": (LP, TARGETS.flatten()[:4], (5, 4), (3, 2), {}),
    "mixed tensor and tuple lengths": (LP, TARGETS, IL, (3, 2), {}),
    "int lengths": (LP[:, :1], TARGETS[:1], 5, 3, {}),
    "bool in tuple": (LP, TARGETS, (True, 4), (3, 2), {}),
    "unbatched with two lengths": (LP[:, 0], TARGETS[0], IL, TL, {}),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_as_torch(name):
    log_probs, targets, input_lengths, target_lengths, options = ERRORS[name]
    # Type errors name torch's overloads; tritongrad's first line says the same thing otherwise.
    message = name not in ("mixed tensor and tuple lengths", "int lengths", "bool in tuple")
    agree(name, lambda lib, x, t: _call(lib, x, t, input_lengths, target_lengths, **options), [log_probs, targets],
          message=message)  # fmt: skip
