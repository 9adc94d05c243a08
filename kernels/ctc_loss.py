"""Connectionist temporal classification (CTC) loss, forward and backward (torch's F.ctc_loss).

For a batch element with input length T_b and target l (length S_b), the extended label sequence
l' = (blank, l_1, blank, l_2, ..., l_S, blank) has L = 2 S_b + 1 lanes. In log space (Graves et
al. 2006, eqs. 6-11; torch's LossCTC.cpp):

    alpha_0(s) = lp_0(l'_s) for s < 2, else -inf
    alpha_t(s) = lse(alpha_{t-1}(s), alpha_{t-1}(s-1), [alpha_{t-1}(s-2) if l'_s != l'_{s-2}]) + lp_t(l'_s)
    beta_{T_b-1}(s) = lp_{T_b-1}(l'_s) for s >= L - 2, else -inf
    beta_t(s) = lse(beta_{t+1}(s), beta_{t+1}(s+1), [beta_{t+1}(s+2) if l'_s != l'_{s+2}]) + lp_t(l'_s)
    nll = -lse(alpha_{T_b-1}(L-1), alpha_{T_b-1}(L-2))

where lse is log-sum-exp with torch's shift (the maximum, or 0 when every term is -inf). Both
alpha and beta include lp_t(l'_s), so alpha_t(s) beta_t(s) counts it twice; the probability that
a path occupies lane s at time t is gamma_t(s) = exp(alpha_t(s) + beta_t(s) + nll - lp_t(l'_s)),
in [0, 1]. The derivative of the loss with respect to the log-probabilities is
-sum_{s : l'_s = c} gamma_t(s); torch's backward returns

    grad_t(c) = exp(lp_t(c)) - sum_{s : l'_s = c} gamma_t(s)          for t < T_b, else 0

which adds exp(lp_t(c)): for log_probs = log_softmax(logits) that term vanishes in
log_softmax's backward (it sums to 1 over the classes, as the gammas do), and the result is the
familiar softmax - posterior gradient of the logits. This file returns torch's values. torch
writes the first term for every class as exp(lp) - exp(-inf + nll - lp): NaN where nll is
infinite (an impossible alignment) or lp is -inf, which is reproduced. The sum of gammas is
torch's exp(log(sum alpha beta) + nll - lp) taken in linear space, where each gamma is a
probability and the sum cannot overflow.

Programs and memory traffic. Both kernels run one program per batch element and loop over
time inside the kernel, holding a whole row of lanes (BLOCK_L >= L) in registers; the shifts
s-1, s-2 (s+1, s+2 backward) are register gathers (tl.gather), not memory round trips.

- forward: per step, gathers lp_t at the L labels (L scattered reads inside one row of C
  classes: the (T, N, C) input is never streamed) and stores the alpha row, T_b x L values,
  which the backward needs. Rows are packed per batch element when targets are concatenated
  (width 2 S_b + 1, at T (2 offset_b + b)), so the buffer is T x (2 sum(S_b) + N) however the
  lengths vary; padded targets use (N, T, 2 min(S, T) + 1). The loss (per element, or its
  per-program share of a sum or mean finished by loss_reduction) is written at the end.
- backward: walks t downwards carrying beta in registers, reads the alpha row back (T_b x L),
  and streams the gradient row (t, b, :) once: read lp, write exp(lp) * grad (zeros for
  t >= T_b), then a barrier, then overwrite the classes of the target with their sums of gamma.
  Lanes with the same label (all blanks, a repeated letter) are summed without atomics: the
  lanes are sorted by label once per program; each step a prefix sum in that order (float64)
  gives each label's total as a difference at its last lane, the only one that stores:
  deterministic. (A segmented associative_scan would be exact too, but the interpreter runs a
  custom scan element by element, ten times slower than the whole step.)
  Traffic: one read of lp and one write of the gradient, the minimum for a dense gradient.

Lengths are validated as torch validates them (its messages and exception types), on the host
for Python ints and through kernels/device_checks.py for tensors (no sync in a training step);
the kernels clamp every length and offset, so bad lengths can never make them address outside
a buffer. Target labels outside [0, C) are not checked by torch (it reads whatever memory lies
there); here they have probability 0 (an infinite loss).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import NamedTuple

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import check_floating, check_same_device, compute_dtype
from tritongrad.kernels.device_checks import check_on_device
from tritongrad.kernels.loss_reduction import BY_COUNT, SUM, accumulator_dtype, check_reduction, finish
from tritongrad.kernels.softmax import finite_or_zero
from tritongrad.runtime import is_interpreter, next_power_of_2, reduction_block

__all__ = ["CtcSaved", "ctc_lengths", "launch_ctc_loss_fwd", "launch_ctc_loss_bwd"]

# How a loss is reduced over the batch (constexpr REDUCTION).
NONE = 0
MEAN = 1  # each loss divided by its target length (at least 1), then averaged over the batch
TOTAL = 2  # "sum"
_REDUCTION_CODES = {"none": NONE, "mean": MEAN, "sum": TOTAL}

# How the backward gets the incoming gradient (constexpr GRAD_KIND).
UNIT_GRAD = 0  # the implicit 1 of loss.backward(): nothing to read
SCALAR_GRAD = 1  # one value (a reduced loss)
ELEMENT_GRAD = 2  # one value per batch element (reduction="none")

# GPU class tile of the gradient's row stream: 1024 fp32 values over 4 warps are 8 per thread.
_GPU_CLASS_BLOCK = 1024

_CHECKED = " (while checking arguments for ctc_loss_allocate_outputs)"


# --------------------------------------------------------------------------- shared device code


@triton.jit
def _lse3(a, b, c):
    """log(exp(a) + exp(b) + exp(c)) shifted by the maximum as torch shifts it (0 when all are -inf)."""
    m = finite_or_zero(tl.maximum(tl.maximum(a, b), c))
    return tl.log(tl.exp(a - m) + tl.exp(b - m) + tl.exp(c - m)) + m


@triton.jit
def _problem(
    targets_ptr, input_lengths_ptr, target_lengths_ptr, b,
    n_steps, n_targets, padded_width, target_batch_stride, target_stride, input_length_stride,
    target_length_stride, CONCAT: tl.constexpr, BLOCK_N: tl.constexpr,
):  # fmt: skip
    """Batch element ``b``'s lengths, clamped so that nothing is addressed outside a buffer:
    (input length, raw target length, usable target length, offset of its first target in the
    targets, alpha row base, alpha row width). The usable length differs from the raw one only for
    lengths torch refuses."""
    input_length = tl.load(input_lengths_ptr + b * input_length_stride).to(tl.int64)
    input_length = tl.minimum(tl.maximum(input_length, 0), n_steps)
    target_length = tl.load(target_lengths_ptr + b * target_length_stride).to(tl.int64)
    length = tl.maximum(target_length, 0)
    if CONCAT:
        # Concatenated targets start after the previous elements' (the lengths are few: one block
        # of them per iteration, a loop bound of 1 up to BLOCK_N elements).
        offset = tl.zeros([], tl.int64)
        for start in range(0, b, BLOCK_N):
            others = start + tl.arange(0, BLOCK_N)
            before = tl.load(target_lengths_ptr + others * target_length_stride, mask=others < b, other=0)
            offset += tl.sum(tl.maximum(before.to(tl.int64), 0), axis=0)
        offset = tl.minimum(offset, n_targets)
        length = tl.minimum(length, n_targets - offset)
        target_base = offset * target_stride
        # Packed rows: element b's T rows of 2 S_b + 1 lanes follow those of the elements before it.
        row_base = n_steps * (2 * offset + b)
        row_width = 2 * length + 1
    else:
        length = tl.minimum(length, n_targets)
        target_base = b.to(tl.int64) * target_batch_stride
        row_base = b.to(tl.int64) * n_steps * padded_width
        row_width = tl.zeros([], tl.int64) + padded_width
    return input_length, target_length, length, target_base, row_base, row_width


@triton.jit
def _extended_labels(targets_ptr, target_base, target_stride, length, blank, lanes):
    """l'_s for each lane (blank on even lanes) and whether l'_s differs from l'_{s-2} (the skip
    that a path may take over a blank between two different labels)."""
    odd = (lanes % 2) == 1
    position = (lanes - 1) // 2
    used = odd & (position < length)
    label = tl.load(targets_ptr + target_base + position * target_stride, mask=used, other=blank).to(tl.int64)
    label = tl.where(used, label, blank)
    before = tl.load(targets_ptr + target_base + (position - 1) * target_stride, mask=used & (lanes >= 3),
                     other=blank).to(tl.int64)  # fmt: skip
    skips = used & (lanes >= 3) & (label != before)
    return label, skips


# --------------------------------------------------------------------------- forward


# One program per batch element: alpha over time for its L lanes (a row of BLOCK_L registers),
# storing each alpha row for the backward; then nll and the element's loss (see module docstring).
#   log_probs:   (T, N, C) any strides          targets: (N, S) padded or (sum S_b,) concatenated
#   lengths:     (N,) integers                   log_alpha: packed rows (see _problem)
#   nll:         (N,) the negative log-likelihood, infinite for an impossible alignment
#   loss:        (N,) the element's loss ("none") or its share of the sum / mean
@triton.jit
def ctc_alpha_kernel(
    log_probs_ptr, targets_ptr, input_lengths_ptr, target_lengths_ptr, log_alpha_ptr, nll_ptr, loss_ptr,
    n_steps, n_classes, n_targets, padded_width, blank,
    lp_time_stride, lp_batch_stride, lp_class_stride, target_batch_stride, target_stride,
    input_length_stride, target_length_stride,
    CONCAT: tl.constexpr, REDUCTION: tl.constexpr, ZERO_INFINITY: tl.constexpr, STORE_ALPHA: tl.constexpr,
    COMPUTE: tl.constexpr, BLOCK_L: tl.constexpr, BLOCK_N: tl.constexpr,
):  # fmt: skip
    b = tl.program_id(0)
    input_length, target_length, length, target_base, row_base, row_width = _problem(
        targets_ptr, input_lengths_ptr, target_lengths_ptr, b,
        n_steps, n_targets, padded_width, target_batch_stride, target_stride, input_length_stride,
        target_length_stride, CONCAT, BLOCK_N,
    )  # fmt: skip
    # More labels than time steps cannot be aligned (the lanes would not fit either): nll = inf.
    possible = (length == target_length) & (target_length <= input_length)
    lanes = tl.arange(0, BLOCK_L)
    # (A lane count of 0 rather than `& possible`: the interpreter mishandles a vector & a scalar bool.)
    n_lanes = tl.where(possible, 2 * length + 1, 0)
    used = lanes < n_lanes
    label, skips = _extended_labels(targets_ptr, target_base, target_stride, length, blank, lanes)
    labelled = used & (label >= 0) & (label < n_classes)
    label_offsets = label * lp_class_stride
    previous = tl.maximum(lanes - 1, 0)
    second_previous = tl.maximum(lanes - 2, 0)

    batch_row = log_probs_ptr + b.to(tl.int64) * lp_batch_stride
    alpha_row = log_alpha_ptr + row_base + lanes
    lp = tl.load(batch_row + label_offsets, mask=labelled, other=float("-inf")).to(COMPUTE)
    alpha = tl.where(used & (lanes < 2), lp, float("-inf"))
    if STORE_ALPHA:
        tl.store(alpha_row, alpha.to(log_alpha_ptr.dtype.element_ty), mask=used)
    steps = tl.where(possible, input_length, 0)
    time_stride = tl.zeros([], tl.int64) + lp_time_stride  # int64 offsets past 2**31 elements
    for t in range(1, steps):
        lp = tl.load(batch_row + t * time_stride + label_offsets, mask=labelled, other=float("-inf"))
        from_previous = tl.where(lanes >= 1, tl.gather(alpha, previous, 0), float("-inf"))
        from_skip = tl.where(skips, tl.gather(alpha, second_previous, 0), float("-inf"))
        alpha = tl.where(used, _lse3(alpha, from_previous, from_skip) + lp.to(COMPUTE), float("-inf"))
        if STORE_ALPHA:
            tl.store(alpha_row + t * row_width, alpha.to(log_alpha_ptr.dtype.element_ty), mask=used)

    # The likelihood: paths ending on the last label or the final blank (the only lane when S_b = 0).
    final = used & (lanes >= n_lanes - 2)
    shift = finite_or_zero(tl.max(tl.where(final, alpha, float("-inf")), axis=0))
    log_likelihood = tl.log(tl.sum(tl.where(final, tl.exp(alpha - shift), 0.0), axis=0)) + shift
    # An empty input aligns only with an empty target.
    empty = tl.where(target_length == 0, 0.0, float("-inf")).to(COMPUTE)
    log_likelihood = tl.where(input_length == 0, empty, log_likelihood)
    log_likelihood = tl.where(possible, log_likelihood, float("-inf"))
    nll = -log_likelihood
    tl.store(nll_ptr + b, nll.to(nll_ptr.dtype.element_ty))
    loss = nll
    if ZERO_INFINITY:
        loss = tl.where(nll == float("inf"), 0.0, nll)
    if REDUCTION == 1:
        loss = loss / tl.maximum(target_length, 1).to(COMPUTE)
    tl.store(loss_ptr + b, loss.to(loss_ptr.dtype.element_ty))


# --------------------------------------------------------------------------- backward


# One program per batch element: for t = T-1 down to 0 the gradient row (t, b, :), beta carried
# in registers, alpha read back from the forward (see the module docstring).
#   grad_loss:   none (UNIT_GRAD), one value (SCALAR_GRAD) or (N,) (ELEMENT_GRAD)
#   log_alpha, nll: the forward's         grad: (T, N, C) contiguous
@triton.jit
def ctc_grad_kernel(
    grad_loss_ptr, log_probs_ptr, targets_ptr, input_lengths_ptr, target_lengths_ptr, log_alpha_ptr, nll_ptr,
    grad_ptr,
    n_steps, n_batch, n_classes, n_targets, padded_width, blank,
    lp_time_stride, lp_batch_stride, lp_class_stride, target_batch_stride, target_stride,
    input_length_stride, target_length_stride, grad_loss_stride,
    CONCAT: tl.constexpr, REDUCTION: tl.constexpr, ZERO_INFINITY: tl.constexpr, GRAD_KIND: tl.constexpr,
    COMPUTE: tl.constexpr, BLOCK_L: tl.constexpr, BLOCK_N: tl.constexpr,
    BLOCK_C: tl.constexpr,
):  # fmt: skip
    b = tl.program_id(0)
    # The incoming gradient first: a float64 division is a call on the GPU, and values alive
    # across it would be spilled.
    if GRAD_KIND == 0:
        scale = tl.full([], 1.0, COMPUTE)
    elif GRAD_KIND == 1:
        scale = tl.load(grad_loss_ptr).to(COMPUTE)
    else:
        scale = tl.load(grad_loss_ptr + b * grad_loss_stride).to(COMPUTE)
    if REDUCTION == 1:
        count = tl.load(target_lengths_ptr + b * target_length_stride).to(tl.int64)
        scale = scale / n_batch / tl.maximum(count, 1).to(COMPUTE)
    input_length, target_length, length, target_base, row_base, row_width = _problem(
        targets_ptr, input_lengths_ptr, target_lengths_ptr, b,
        n_steps, n_targets, padded_width, target_batch_stride, target_stride, input_length_stride,
        target_length_stride, CONCAT, BLOCK_N,
    )  # fmt: skip
    nll = tl.load(nll_ptr + b).to(COMPUTE)
    rows = input_length
    if ZERO_INFINITY:
        rows = tl.where(nll == float("inf"), 0, rows)  # the whole column is zero
    # The forward stored alpha for every element whose loss is finite (or NaN).
    lanes_on = nll != float("inf")
    ghost = float("-inf") + nll  # torch's empty log-sum for classes off the target: -inf, or NaN

    lanes = tl.arange(0, BLOCK_L)
    n_lanes = 2 * length + 1
    label, skips = _extended_labels(targets_ptr, target_base, target_stride, length, blank, lanes)
    # Lanes sorted by label: a segment of equal labels per class, after the unused lanes (label -1;
    # there is at least one, as BLOCK_L is even and L odd). A class's total is the prefix sum at
    # its last lane minus that at the previous segment's last lane (never the first segment, whose
    # occupancies are 0), found once here: the ranks of the segment ends, and a second sort
    # listing the ends in order. (Done before the loop's masks are made: a mask made before the
    # sorts and alive across them made ptxas spill a predicate.)
    keys = (tl.where(lanes < n_lanes, tl.minimum(tl.maximum(label, 0), n_classes), -1) + 1) * BLOCK_L + lanes
    keys = tl.sort(keys)
    order = (keys % BLOCK_L).to(tl.int32)
    sorted_label = (keys // BLOCK_L - 1).to(tl.int32)
    after = tl.gather(sorted_label, tl.minimum(lanes + 1, BLOCK_L - 1), 0)
    segment_end = (lanes == BLOCK_L - 1) | (sorted_label != after)
    last_of_class = segment_end & (sorted_label >= 0) & (sorted_label < n_classes)
    end_rank = tl.cumsum(segment_end.to(tl.int32), 0) - 1
    end_lanes = tl.sort(tl.where(segment_end, 0, BLOCK_L) + lanes)  # the ends first, in order
    previous_end = tl.gather(end_lanes, tl.maximum(end_rank - 1, 0), 0)

    used = lanes < n_lanes
    labelled = used & (label >= 0) & (label < n_classes)
    label_offsets = label * lp_class_stride
    # l'_{s+2} != l'_s: the skip of beta's recursion is alpha's, seen from the lane below.
    label_above, skips_from_above = _extended_labels(targets_ptr, target_base, target_stride, length, blank, lanes + 2)
    skips_up = skips_from_above & (lanes + 2 < n_lanes)
    following = tl.minimum(lanes + 1, BLOCK_L - 1)
    second_following = tl.minimum(lanes + 2, BLOCK_L - 1)

    classes = tl.arange(0, BLOCK_C)
    batch_row = log_probs_ptr + b.to(tl.int64) * lp_batch_stride
    beta = tl.full([BLOCK_L], float("-inf"), COMPUTE)
    for step in range(0, n_steps):
        t = tl.zeros([], tl.int64) + (n_steps - 1 - step)  # int64 offsets past 2**31 elements
        active = t < rows
        lp_row = batch_row + t * lp_time_stride
        grad_row = grad_ptr + (t * n_batch + b) * n_classes
        # Every class: exp(lp) * scale (torch's NaN where nll = inf or lp = -inf); 0 past the input.
        for start in range(0, n_classes, BLOCK_C):
            cols = start + classes
            in_row = cols < n_classes
            x = tl.load(lp_row + cols * lp_class_stride, mask=cols < tl.where(active, n_classes, 0), other=0.0)
            x = x.to(COMPUTE)
            value = (tl.exp(x) - tl.exp(ghost - x)) * scale
            tl.store(grad_row + cols, tl.where(active, value, 0.0).to(grad_ptr.dtype.element_ty), mask=in_row)
        if active & lanes_on:
            lp = tl.load(lp_row + label_offsets, mask=labelled, other=float("-inf")).to(COMPUTE)
            from_next = tl.where(lanes + 1 < n_lanes, tl.gather(beta, following, 0), float("-inf"))
            from_skip = tl.where(skips_up, tl.gather(beta, second_following, 0), float("-inf"))
            recursion = _lse3(beta, from_next, from_skip) + lp
            start_lanes = tl.where(lanes >= n_lanes - 2, lp, float("-inf"))
            beta = tl.where(used, tl.where(t == rows - 1, start_lanes, recursion), float("-inf"))
            alpha = tl.load(log_alpha_ptr + row_base + t * row_width + lanes, mask=used, other=float("-inf"))
            occupancy = tl.where(used, tl.exp(alpha.to(COMPUTE) + beta + nll - lp), 0.0)
            # The occupancies of one step sum to 1: a float64 prefix sum loses at most ~1e-16 of
            # that in a difference, where float32 could lose 1e-7 of a small class total.
            prefix = tl.cumsum(tl.gather(occupancy, order, 0).to(tl.float64), 0)
            totals = prefix - tl.gather(prefix, previous_end, 0)
            value = (tl.exp(tl.gather(lp, order, 0)) - totals.to(COMPUTE)) * scale
            # The row stream's stores above must land before these overwrite some of them.
            tl.debug_barrier()
            tl.store(grad_row + sorted_label, value.to(grad_ptr.dtype.element_ty), mask=last_of_class)


# --------------------------------------------------------------------------- launchers


class CtcSaved(NamedTuple):
    """What the forward keeps for the backward: per-element nll, the alpha rows and the lengths it
    read (device tensors)."""

    nll: torch.Tensor
    log_alpha: torch.Tensor
    input_lengths: torch.Tensor
    target_lengths: torch.Tensor


def _integers(name: str, values: Sequence) -> list[int]:
    result = []
    for value in values:
        if isinstance(value, bool):
            raise TypeError(f"ctc_loss(): {name} must be a tuple of ints, got an element of type bool")
        try:
            result.append(operator.index(value))
        except TypeError:
            raise TypeError(
                f"ctc_loss(): {name} must be a tuple of ints, got an element of type {type(value).__name__}"
            ) from None
    return result


def ctc_lengths(name: str, lengths, device: torch.device) -> tuple[torch.Tensor, list[int] | None]:
    """``lengths`` (an integer tensor, or a sequence of ints) as a 1-D tensor on ``device``, and its
    values when the host has them (a sequence). Raises torch's RuntimeError for a non-integral tensor."""
    if isinstance(lengths, torch.Tensor):
        if lengths.dtype.is_floating_point or lengths.dtype.is_complex or lengths.dtype == torch.bool:
            raise RuntimeError(f"{name} must be integral")
        if lengths.dim() != 1:
            if not lengths.is_contiguous():
                raise ValueError(f"ctc_loss: {name} of {lengths.dim()} dimensions must be contiguous")
            lengths = lengths.view(-1)
        return lengths.to(device), None
    values = _integers(name, lengths)
    return torch.tensor(values, dtype=torch.int64, device=device), values


def _check_target_lengths(values: list, targets_shape: tuple, batch: int) -> None:
    """torch's checks of the target lengths against the targets, in its order."""
    for value in values:
        if value < 0:
            raise RuntimeError(f"Expected target_lengths to have value at least 0, but got value {value}{_CHECKED}")
    if len(targets_shape) == 1:
        if targets_shape[0] != sum(values):
            raise RuntimeError(
                f"Expected tensor to have size {sum(values)} at dimension 0, but got size {targets_shape[0]} "
                f"for argument #2 'targets'{_CHECKED}"
            )
    elif values and max(values) > targets_shape[1]:
        raise RuntimeError(
            f"Expected tensor to have size at least {max(values)} at dimension 1, but got size {targets_shape[1]} "
            f"for argument #2 'targets'{_CHECKED}"
        )


def _check_input_lengths(values: list, n_steps: int) -> None:
    for value in values:
        if value < 0:
            raise RuntimeError(f"Expected input_lengths to have value at least 0, but got value {value}{_CHECKED}")
        if value > n_steps:
            raise RuntimeError(
                f"Expected input_lengths to have value at most {n_steps}, but got value {value}{_CHECKED}"
            )


def _check_problem(log_probs: torch.Tensor, targets: torch.Tensor, blank: int) -> torch.Tensor:
    """Shape checks of torch's ctc_loss; returns log_probs as (T, N, C)."""
    check_floating("ctc_loss", log_probs, (torch.float32, torch.float64))
    if log_probs.numel() == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    if log_probs.dim() != 3:
        batched = log_probs.dim() + 1 if log_probs.dim() != 2 else 3
        if batched != 3:
            raise RuntimeError(
                f"Expected 3-dimensional tensor, but got {batched}-dimensional tensor for argument #1 "
                f"'log_probs'{_CHECKED}"
            )
        log_probs = log_probs.unsqueeze(1)
    if targets.dim() not in (1, 2):
        raise RuntimeError(
            f"Expected 1 to 2 dimensions, but got {targets.dim()}-dimensional tensor for argument #2 "
            f"'targets'{_CHECKED}"
        )
    if not 0 <= blank < log_probs.shape[2]:
        raise RuntimeError("blank must be in label range")
    return log_probs


def _layout(log_probs: torch.Tensor, targets: torch.Tensor) -> dict:
    """The launch's sizes and blocks: lanes for 2 min(S, T) + 1 labels (longer targets cannot be
    aligned), the class tile of the backward's row stream, and the warps."""
    n_steps, n_batch, n_classes = log_probs.shape
    concat = targets.dim() == 1
    longest = min(targets.shape[-1], n_steps)
    block_l = max(next_power_of_2(2 * longest + 1), 16)
    class_cap = None if is_interpreter() else _GPU_CLASS_BLOCK
    # The backward keeps about a dozen lane vectors alive: 4 warps up to 256 32-bit words a lane
    # vector, 8 up to 512, then 16. Measured with the kernel report (sm_80/sm_90): no spills up to
    # 1024 words (2048 float32 lanes with triton 3.9; triton 3.6 spills 56-92 B there, and 32 warps'
    # 64 registers spill more: the report lists it as the design's limit, see REGISTER_ROW_KERNELS).
    words = block_l * log_probs.element_size() // 4
    num_warps = 4 if is_interpreter() or words <= 256 else (8 if words <= 512 else 16)
    return dict(
        n_steps=n_steps, n_batch=n_batch, n_classes=n_classes, concat=concat,
        n_targets=targets.shape[0] if concat else targets.shape[1],
        target_batch_stride=0 if concat else targets.stride(0), target_stride=targets.stride(-1),
        row_width=0 if concat else 2 * longest + 1,
        BLOCK_L=block_l, BLOCK_N=reduction_block(n_batch, 1024), BLOCK_C=reduction_block(n_classes, class_cap),
        num_warps=num_warps,
    )  # fmt: skip


def launch_ctc_loss_fwd(
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    input_lengths,
    target_lengths,
    *,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
    keep_alpha: bool = True,
) -> tuple[torch.Tensor, CtcSaved]:
    """torch.nn.functional.ctc_loss of ``log_probs`` (T, N, C) or (T, C) in float32/float64.

    ``targets``: (N, S) padded or 1-D concatenated labels, any integer (or castable) dtype.
    ``input_lengths``/``target_lengths``: integer tensors of N values or sequences of ints.
    Returns (loss, saved): the loss in log_probs' dtype ((N,) for "none", 0-d for an unbatched
    input or a reduced loss) and the buffers the backward reads (without ``keep_alpha`` the alpha
    rows are not stored: no backward can follow). Bad shapes, lengths and blanks
    raise torch's RuntimeError (lengths held in device tensors: see kernels/device_checks.py).
    """
    check_reduction("ctc_loss", reduction)
    batched = log_probs.dim() == 3
    log_probs = _check_problem(log_probs, targets, blank)
    targets = targets.to(log_probs.device)  # as torch does
    n_steps, n_batch, _ = log_probs.shape
    device = log_probs.device
    input_lengths, input_values = ctc_lengths("input_lengths", input_lengths, device)
    target_lengths, target_values = ctc_lengths("target_lengths", target_lengths, device)
    if input_lengths.numel() != n_batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if target_lengths.numel() != n_batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    if targets.dim() == 2 and targets.shape[0] != n_batch:
        raise RuntimeError(
            f"Expected tensor to have size {n_batch} at dimension 0, but got size {targets.shape[0]} for argument "
            f"#2 'targets'{_CHECKED}"
        )
    shape = tuple(targets.shape)
    if target_values is None:
        check_on_device(target_lengths, lambda found: _check_target_lengths(found, shape, n_batch))
    else:
        _check_target_lengths(target_values, shape, n_batch)
    if input_values is None:
        check_on_device(input_lengths, lambda found: _check_input_lengths(found, n_steps))
    else:
        _check_input_lengths(input_values, n_steps)

    layout = _layout(log_probs, targets)
    if layout["concat"]:
        alpha_size = n_steps * (2 * layout["n_targets"] + n_batch)
    else:
        alpha_size = n_batch * n_steps * layout["row_width"]
    log_alpha = torch.empty(alpha_size if keep_alpha else 0, dtype=log_probs.dtype, device=device)
    nll = torch.empty(n_batch, dtype=log_probs.dtype, device=device)
    code = _REDUCTION_CODES[reduction]
    loss = torch.empty(n_batch, dtype=log_probs.dtype if code == NONE else accumulator_dtype(log_probs.dtype),
                       device=device)  # fmt: skip
    # One program per batch element (see ctc_alpha_kernel); its time loop is a recurrence, nothing
    # for software pipelining to overlap (num_stages=1).
    ctc_alpha_kernel[(n_batch,)](
        log_probs, targets, input_lengths, target_lengths, log_alpha, nll, loss,
        n_steps, layout["n_classes"], layout["n_targets"], layout["row_width"], blank,
        *log_probs.stride(), layout["target_batch_stride"], layout["target_stride"],
        input_lengths.stride(0), target_lengths.stride(0),
        CONCAT=layout["concat"], REDUCTION=code, ZERO_INFINITY=bool(zero_infinity), STORE_ALPHA=keep_alpha,
        COMPUTE=compute_dtype(log_probs.dtype),
        BLOCK_L=layout["BLOCK_L"], BLOCK_N=layout["BLOCK_N"], num_warps=layout["num_warps"], num_stages=1,
    )  # fmt: skip
    saved = CtcSaved(nll, log_alpha, input_lengths, target_lengths)
    if code == MEAN:
        return finish(loss, log_probs.dtype, BY_COUNT, count=n_batch), saved
    if code == TOTAL:
        return finish(loss, log_probs.dtype, SUM), saved
    return (loss if batched else loss.view(())), saved


def launch_ctc_loss_bwd(
    grad_loss: torch.Tensor | None,
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    saved: CtcSaved,
    *,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> torch.Tensor:
    """The gradient of ctc_loss with respect to ``log_probs`` (a new contiguous tensor of its shape).

    ``grad_loss``: the loss's gradient ((N,) for "none" on a batch, one value otherwise), or None
    for the implicit 1 of ``loss.backward()``; ``saved``: the forward's.
    """
    check_reduction("ctc_loss_backward", reduction)
    shape = tuple(log_probs.shape)
    log_probs = _check_problem(log_probs, targets, blank)
    n_steps, n_batch, n_classes = log_probs.shape
    if grad_loss is None:
        kind, grad_loss, grad_stride = UNIT_GRAD, log_probs, 0
    elif reduction == "none" and grad_loss.numel() == n_batch and grad_loss.dim() == (1 if len(shape) == 3 else 0):
        kind, grad_stride = ELEMENT_GRAD, (grad_loss.stride(0) if grad_loss.dim() else 0)
    elif reduction != "none" and grad_loss.numel() == 1:
        kind, grad_stride = SCALAR_GRAD, 0
    else:
        raise ValueError(f"ctc_loss_backward: grad_loss has shape {tuple(grad_loss.shape)}, not the loss's")
    check_same_device("ctc_loss_backward", log_probs, grad_loss)
    targets = targets.to(log_probs.device)
    layout = _layout(log_probs, targets)
    grad = torch.empty((n_steps, n_batch, n_classes), dtype=log_probs.dtype, device=log_probs.device)
    # One program per batch element (see ctc_grad_kernel), num_stages=1 as the forward.
    ctc_grad_kernel[(n_batch,)](
        grad_loss, log_probs, targets, saved.input_lengths, saved.target_lengths, saved.log_alpha, saved.nll, grad,
        n_steps, n_batch, n_classes, layout["n_targets"], layout["row_width"], blank,
        *log_probs.stride(), layout["target_batch_stride"], layout["target_stride"],
        saved.input_lengths.stride(0), saved.target_lengths.stride(0), grad_stride,
        CONCAT=layout["concat"], REDUCTION=_REDUCTION_CODES[reduction], ZERO_INFINITY=bool(zero_infinity),
        GRAD_KIND=kind, COMPUTE=compute_dtype(log_probs.dtype),
        BLOCK_L=layout["BLOCK_L"], BLOCK_N=layout["BLOCK_N"], BLOCK_C=layout["BLOCK_C"],
        num_warps=layout["num_warps"], num_stages=1,
    )  # fmt: skip
    return grad.view(shape)
