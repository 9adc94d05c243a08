"""Class-target losses, forward and backward: cross-entropy and NLL over a class dimension.

Each row's loss is computed in fp32 (fp64 for fp64 inputs).

Cross-entropy takes one launch forward and one backward, at any vocabulary size, and
never materialises probabilities. Both target kinds are written as per-class
coefficients q (row loss = sum_c q_c * (logsumexp - x_c)):
class index t:  q_c = w_c * ((1 - eps) * [c == t] + eps / C)
probabilities:  q_c = w_c * ((1 - eps) * target_c + eps / C)
which is torch's formula with label smoothing eps and class weights w. The forward
streams each row once (online logsumexp), checks the class targets' range, and reduces
the loss in the same launch: the last of its programs to finish adds the others' partial
sums in a fixed order (deterministic, no zero-filled buffer). The gradient
grad * (sum(q) * softmax(x) - q) is recomputed in the backward from the logits and the
forward's per-row logsumexp and sum(q), also in one pass.

NLL: ``target_scan_kernel`` (one program) finds out-of-range targets and sums the class
weights of the non-ignored rows, the denominator of torch's weighted mean; reduced
losses are finished by ``loss_reduction`` (per-program partial sums, one deterministic
final sum).

Out-of-range targets are reported as torch does ("Target 7 is out of bounds.") through
kernels/device_checks.py (at once in the interpreter, at the next readback on a GPU);
kernels also mask their gathers by the range check, so a bad target can never make them
read outside the tensor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import (
    allocator,
    check_floating,
    check_same_device,
    compute_dtype,
    needs_int64_indexing,
    remember,
)
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.device_checks import check_on_device
from tritongrad.kernels.elementwise import linear_index
from tritongrad.kernels.loss_reduction import (
    BY_COUNT,
    BY_WEIGHT,
    SUM,
    accumulator_dtype,
    check_grad_loss,
    check_reduction,
    finish,
)
from tritongrad.kernels.softmax import finite_or_zero, row_launch_config, vector_width
from tritongrad.kernels.strided import contiguous_strides
from tritongrad.runtime import cdiv, elementwise_launch_config, is_interpreter, reduction_block

__all__ = [
    "cross_entropy_fwd_launcher",
    "launch_cross_entropy_fwd",
    "launch_cross_entropy_bwd",
    "launch_nll_loss_fwd",
    "launch_nll_loss_bwd",
]

# --------------------------------------------------------------------------- target checks


# Scans class targets once: bounds[0] = the largest target >= n_classes (else -1),
# bounds[1] = the smallest negative target other than ignore_index (else 0), and
# total_weight[0] = sum of weight[target] (1 without weights) over non-ignored rows.
# One program loops over all targets: they are N integers, tiny next to N x C logits.
@triton.jit
def target_scan_kernel(
    target_ptr, weight_ptr, total_weight_ptr, bounds_ptr,
    n_rows, n_classes, ignore_index, target_stride, weight_stride,
    HAS_WEIGHT: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    too_large = tl.full([BLOCK], -1, tl.int64)
    too_small = tl.zeros([BLOCK], tl.int64)
    total_weight = tl.zeros([BLOCK], COMPUTE)
    for start in range(0, n_rows, BLOCK):
        rows = start + tl.arange(0, BLOCK).to(tl.int64)
        in_rows = rows < n_rows
        target = tl.load(target_ptr + rows * target_stride, mask=in_rows, other=ignore_index).to(tl.int64)
        counted = in_rows & (target != ignore_index)
        in_range = counted & (target >= 0) & (target < n_classes)
        too_large = tl.maximum(too_large, tl.where(counted & (target >= n_classes), target, -1))
        too_small = tl.minimum(too_small, tl.where(counted & (target < 0), target, 0))
        if HAS_WEIGHT:
            weight = tl.load(weight_ptr + target * weight_stride, mask=in_range, other=0.0).to(COMPUTE)
        else:
            weight = tl.where(in_range, 1.0, 0.0).to(COMPUTE)
        total_weight += weight
    tl.store(bounds_ptr, tl.max(too_large, axis=0))
    tl.store(bounds_ptr + 1, tl.min(too_small, axis=0))
    tl.store(total_weight_ptr, tl.sum(total_weight, axis=0))


def _check_bounds(found: list, n_classes: int) -> None:
    too_large, too_small = found
    if too_large >= 0 or too_small < 0:
        raise IndexError(f"Target {too_large if too_large >= 0 else too_small} is out of bounds.")


def _scan_targets(target, weight, n_classes: int, ignore_index: int, dtype: torch.dtype, validate: bool):
    """The total weight of the non-ignored rows (1-element tensor); a target out of range raises IndexError
    (kernels/device_checks.py says when)."""
    total_weight = torch.empty(1, dtype=accumulator_dtype(dtype), device=target.device)
    bounds = torch.empty(2, dtype=torch.int64, device=target.device)
    target_scan_kernel[(1,)](
        target, target if weight is None else weight, total_weight, bounds,
        target.numel(), n_classes, ignore_index, target.stride(0), 0 if weight is None else weight.stride(0),
        HAS_WEIGHT=weight is not None, COMPUTE=compute_dtype(dtype), BLOCK=reduction_block(target.numel()),
    )  # fmt: skip
    if validate:
        check_on_device(bounds, lambda found: _check_bounds(found, n_classes))
    return total_weight


def _check_class_problem(name: str, scores: torch.Tensor, target: torch.Tensor, weight, ignore_index: int):
    """Validates (N, C) scores with (N,) int64 or (N, C) probability targets; returns 2-D views.

    1-D scores (C,) with a 0-d target are one row. Returns (scores, target, is_probability_target).
    """
    check_floating(name, scores)
    check_same_device(name, scores, target, weight)
    if scores.dim() == 1:
        scores = scores.unsqueeze(0)
        target = target.unsqueeze(0)
    if scores.dim() != 2:
        raise ValueError(
            f"{name}: expected input of shape (N, C) or (C,), got {tuple(scores.shape)} "
            "(flatten extra dims to rows first)"
        )
    probabilities = target.shape == scores.shape and target.dtype.is_floating_point
    if probabilities:
        check_floating(name + " (target)", target)
        if ignore_index >= 0:
            raise ValueError(f"{name}: ignore_index is not supported for floating point target")
    else:
        if target.dtype != torch.int64:
            raise TypeError(f"{name}: expected class indices of dtype torch.int64, got target of dtype {target.dtype}")
        if target.shape != scores.shape[:1]:
            raise ValueError(
                f"{name}: expected target of shape ({scores.shape[0]},) for input of shape "
                f"{tuple(scores.shape)}, got {tuple(target.shape)}"
            )
    if weight is not None:
        check_floating(name + " (weight)", weight)
        if weight.shape != scores.shape[1:]:
            raise ValueError(
                f"{name}: weight tensor should be defined either for all {scores.shape[1]} classes or no "
                f"classes but got weight tensor of shape: {tuple(weight.shape)}"
            )
    return scores, target, probabilities


# --------------------------------------------------------------------------- cross-entropy

# How the backward gets the incoming gradient.
UNIT_GRAD = 0  # the implicit 1 of loss.backward(): nothing to read
SCALAR_GRAD = 1  # one value (a reduced loss)
ROW_GRAD = 2  # one value per row (reduction="none")

# Partial sums the finishing program adds at once (a loop covers more programs).
_FINISH_BLOCK = 1024

# A cross-entropy program keeps about six [ROWS, BLOCK] tiles alive (logits, coefficients,
# exponentials, ...): 8 KiB of them per 8 warps, i.e. 8 fp32 values per thread, leave room in
# registers, where row_launch_config's 4096-element tile spills in fp64.
_GPU_TILE_BYTES = 8192

# The forward's last program is the one that draws the last ticket from a counter that every
# program increments and that program resets to 0, ready for the next launch: one int32 per
# device and CUDA stream (launches on two streams may overlap; in the interpreter, per thread),
# zeroed by a fill kernel, not copied from the host: a CUDA-graph capture runs on a stream of its
# own, so its first launch makes a counter there, and a capture may not copy unpinned host memory.
_TICKETS: dict = {}


def _tickets(device: torch.device) -> tuple[object, torch.Tensor]:
    """(key, counter) of the ticket counter for launches on ``device`` (and its current stream)."""
    if device.type == "cuda":
        key = (device, torch.cuda.current_stream(device).cuda_stream)
    else:
        key = (device, threading.get_ident())
    tickets = _TICKETS.get(key)
    if tickets is None:
        tickets = _TICKETS[key] = launch_fill_(torch.empty(1, dtype=torch.int32, device=device), 0)
    return key, tickets


@triton.jit
def _add_and_min(a_sum, a_min, b_sum, b_min):
    return a_sum + b_sum, tl.minimum(a_min, b_min)


@triton.jit
def _class_coefficients(
    target_ptr, weight_ptr, rows, cols, mask, valid, class_target,
    n_classes, target_row_stride, target_col_stride, weight_stride,
    PROBABILITIES: tl.constexpr, HAS_WEIGHT: tl.constexpr, SMOOTHING: tl.constexpr, COMPUTE: tl.constexpr,
    VEC: tl.constexpr,
):  # fmt: skip
    """q[r, c] of the module docstring for a [ROWS, BLOCK] tile; 0 on masked or ignored entries."""
    if PROBABILITIES:
        target_offsets = rows[:, None] * target_row_stride * VEC + cols[None, :] * target_col_stride
        q = tl.load(target_ptr + target_offsets, mask=mask, other=0.0).to(COMPUTE)
    else:
        q = (cols[None, :] == class_target[:, None]).to(COMPUTE)
    if SMOOTHING > 0:
        # SMOOTHING is a compile-time constant (each distinct value compiles once on a GPU)
        # materialised in COMPUTE: a float kernel argument or constant would be rounded to fp32.
        smoothing = tl.full((), SMOOTHING, COMPUTE)
        q = q * (1.0 - smoothing) + smoothing / n_classes
    if HAS_WEIGHT:
        weight = tl.load(weight_ptr + cols * weight_stride, mask=cols < n_classes, other=0.0).to(COMPUTE)
        q = q * weight[None, :]
    return tl.where(mask & valid[:, None], q, 0.0)


@triton.jit
def _cross_entropy_rows(
    target_ptr, pid, n_rows, n_classes, ignore_index, target_row_stride,
    PROBABILITIES: tl.constexpr, ROWS: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    """This program's rows, which of them count (in range, not ignored), and their class targets."""
    rows = pid * ROWS + tl.arange(0, ROWS)
    if INDEX_64:
        rows = rows.to(tl.int64)
    in_rows = rows < n_rows
    # One return after both branches: the compiler (unlike the interpreter) would go on past a
    # return inside a constexpr branch and type the class-index code with a float target.
    if PROBABILITIES:
        valid = in_rows
        class_target = rows.to(tl.int64)
    else:
        class_target = tl.load(target_ptr + rows * target_row_stride, mask=in_rows, other=ignore_index)
        valid = in_rows & (class_target != ignore_index) & (class_target >= 0) & (class_target < n_classes)
    return rows, valid, class_target


# Per row: logsumexp(x), sum(q) and loss = sum_c q_c * (logsumexp - x_c), streamed over the
# classes in blocks with a running max, a rescaled sum of exponentials and a running
# sum_c q_c * (x_c - max) shifted with the max. One program handles ROWS rows and writes their
# partial sums (loss, class weight, out-of-range targets); the last program to finish adds all
# programs' partials in program order (deterministic) into the reduced loss, the mean's total
# weight and the target bounds. Memory: one read of the logits (+ the probability targets).
#   saved: [0, N) logsumexp | [N, 2N) sum(q) | [2N] total weight | P loss partials | P weight partials
#   found: P first rows with an out-of-range target (else N) | the first over all | its target
@triton.jit
def cross_entropy_fwd_kernel(
    logits_ptr, target_ptr, weight_ptr, loss_ptr, saved_ptr, found_ptr, tickets_ptr,
    n_rows, class_vectors, ignore_index,
    logits_row_stride, logits_col_stride, target_row_stride, target_col_stride, weight_stride,
    PROBABILITIES: tl.constexpr, HAS_WEIGHT: tl.constexpr, SMOOTHING: tl.constexpr, REDUCE: tl.constexpr,
    NORMALIZE: tl.constexpr, COMPUTE: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr, VEC: tl.constexpr,
    FINISH_BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    n_programs = tl.num_programs(0)
    # class_vectors and the row strides count VEC-element vectors (kernels/softmax.py, vector_width).
    n_classes = class_vectors * VEC
    rows, valid, class_target = _cross_entropy_rows(
        target_ptr, pid, n_rows, n_classes, ignore_index, target_row_stride, PROBABILITIES, ROWS, INDEX_64
    )
    in_rows = rows < n_rows
    # Rows past the end read the last row (never stored): a row of pure -inf padding would compute
    # 0 / 0. An empty batch (one program, to write the empty sum or mean) reads nothing.
    address_rows = tl.maximum(tl.minimum(rows, n_rows - 1), 0)
    row_exists = (address_rows < n_rows)[:, None]
    # The targets' partials are reduced first and stored after the loop over the classes: only
    # two scalars live through it (comparisons, or the predicate of the stores, would spill a
    # predicate register on sm_80/sm_90 with triton 3.6).
    if not PROBABILITIES:
        if HAS_WEIGHT:
            row_weight = tl.load(weight_ptr + class_target * weight_stride, mask=valid, other=0.0).to(COMPUTE)
        else:
            row_weight = valid.to(COMPUTE)
        # With the first row whose target is out of range (n_rows if none), in one reduction.
        bad = in_rows & (class_target != ignore_index) & ((class_target >= n_classes) | (class_target < 0))
        weight_sum, program_first_bad = tl.reduce((row_weight, tl.where(bad, rows, n_rows)), 0, _add_and_min)

    logits_base = address_rows[:, None] * logits_row_stride * VEC
    row_max = tl.full([ROWS], float("-inf"), COMPUTE)
    exp_sum = tl.zeros([ROWS], COMPUTE)
    q_sum = tl.zeros([ROWS], COMPUTE)
    q_dot = tl.zeros([ROWS], COMPUTE)  # sum_c q_c * (x_c - shift), shift = max so far (0 while -inf)
    for start in range(0, n_classes, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        if INDEX_64:
            cols = cols.to(tl.int64)
        in_class = (cols < n_classes)[None, :]
        mask = in_rows[:, None] & in_class
        x = tl.load(logits_ptr + logits_base + cols[None, :] * logits_col_stride, mask=row_exists & in_class,
                    other=float("-inf"))  # fmt: skip
        x = x.to(COMPUTE)
        q = _class_coefficients(
            target_ptr, weight_ptr, rows, cols, mask, valid, class_target,
            n_classes, target_row_stride, target_col_stride, weight_stride,
            PROBABILITIES, HAS_WEIGHT, SMOOTHING, COMPUTE, VEC,
        )  # fmt: skip
        new_max = tl.maximum(row_max, tl.max(x, axis=1))
        old_shift = finite_or_zero(row_max)
        new_shift = finite_or_zero(new_max)
        shifted = x - new_shift[:, None]
        # Rescaled by exp(old max - new shift): 0 while the row had no finite logit yet.
        exp_sum = exp_sum * tl.exp(row_max - new_shift) + tl.sum(tl.exp(shifted), axis=1)
        if PROBABILITIES:
            # As in torch, a zero probability on a -inf logit gives 0 * -inf = NaN.
            weighted = q * tl.where(mask, shifted, 0.0)
        else:
            # Only the classes a row weighs count: torch gathers -log p[target], so a -inf
            # logit elsewhere adds 0, not 0 * -inf.
            weighted = q * tl.where(q != 0, shifted, 0.0)
        q_dot = q_dot + q_sum * (old_shift - new_shift) + tl.sum(weighted, axis=1)
        q_sum += tl.sum(q, axis=1)
        row_max = new_max
    log_exp_sum = tl.log(exp_sum)
    tl.store(saved_ptr + rows, finite_or_zero(row_max) + log_exp_sum, mask=in_rows)
    tl.store(saved_ptr + n_rows + rows, q_sum, mask=in_rows)
    loss = tl.where(valid, q_sum * log_exp_sum - q_dot, 0.0)
    partials_ptr = saved_ptr + 2 * n_rows + 1
    if not PROBABILITIES:
        tl.store(partials_ptr + n_programs + pid, weight_sum)
        tl.store(found_ptr + pid, program_first_bad)
    if REDUCE:
        tl.store(partials_ptr + pid, tl.sum(loss, axis=0))
    else:
        tl.store(loss_ptr + rows, loss.to(loss_ptr.dtype.element_ty), mask=in_rows)
    # Every thread's partials are written before the ticket is drawn (release); the last program
    # reads them after it (acquire), bypassing L1 (.cg), which may hold stale lines.
    tl.debug_barrier()
    ticket = tl.atomic_add(tickets_ptr, 1, sem="acq_rel")
    if ticket == n_programs - 1:
        loss_total = tl.zeros([FINISH_BLOCK], COMPUTE)
        weight_total = tl.zeros([FINISH_BLOCK], COMPUTE)
        first_bad = tl.full([FINISH_BLOCK], n_rows, tl.int64)
        for first in range(0, n_programs, FINISH_BLOCK):
            index = first + tl.arange(0, FINISH_BLOCK)
            listed = index < n_programs
            if REDUCE:
                loss_total += tl.load(partials_ptr + index, mask=listed, other=0.0, cache_modifier=".cg")
            if not PROBABILITIES:
                weight_total += tl.load(partials_ptr + n_programs + index, mask=listed, other=0.0,
                                        cache_modifier=".cg")  # fmt: skip
                first_bad = tl.minimum(
                    first_bad, tl.load(found_ptr + index, mask=listed, other=n_rows, cache_modifier=".cg")
                )
        total_weight = tl.sum(weight_total, axis=0)
        if not PROBABILITIES:
            tl.store(saved_ptr + 2 * n_rows, total_weight)
            bad_row = tl.min(first_bad, axis=0)
            tl.store(found_ptr + n_programs, bad_row)
            tl.store(
                found_ptr + n_programs + 1, tl.load(target_ptr + bad_row * target_row_stride, mask=bad_row < n_rows)
            )
        if REDUCE:
            result = tl.sum(loss_total, axis=0)
            if NORMALIZE == 1:  # BY_COUNT; an empty mean is 0 / 0 = NaN, as in torch
                result = result / n_rows
            if NORMALIZE == 2:  # BY_WEIGHT
                result = result / total_weight
                if SMOOTHING > 0:
                    # torch divides its NLL and smoothing terms by the total weight separately: with
                    # no weight at all the NLL term is 0 / 0 = NaN, so the sum is NaN, not (0 + s) / 0.
                    result = tl.where(total_weight == 0, float("nan"), result)
            tl.store(loss_ptr, result.to(loss_ptr.dtype.element_ty))
        tl.atomic_xchg(tickets_ptr, 0)


# grad_logits = scale * (sum(q) * softmax(x) - q) per row, softmax from the saved logsumexp
# and sum(q) from the forward; scale = the incoming gradient (1, one scalar, or per row) / the
# mean's denominator. One program handles ROWS rows. Memory: one read of the logits
# (+ probability targets) and one write of the gradient, however long the rows.
@triton.jit
def cross_entropy_bwd_kernel(
    grad_loss_ptr, logits_ptr, target_ptr, weight_ptr, saved_ptr, grad_logits_ptr,
    n_rows, class_vectors, ignore_index,
    grad_loss_stride, logits_row_stride, logits_col_stride, target_row_stride, target_col_stride,
    weight_stride, grad_row_stride, grad_col_stride,
    PROBABILITIES: tl.constexpr, HAS_WEIGHT: tl.constexpr, SMOOTHING: tl.constexpr,
    GRAD: tl.constexpr, NORMALIZE: tl.constexpr,
    COMPUTE: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr, VEC: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    # class_vectors and the row strides count VEC-element vectors (kernels/softmax.py, vector_width).
    n_classes = class_vectors * VEC
    rows, valid, class_target = _cross_entropy_rows(
        target_ptr, pid, n_rows, n_classes, ignore_index, target_row_stride, PROBABILITIES, ROWS, INDEX_64
    )
    in_rows = rows < n_rows
    if GRAD == 0:  # UNIT_GRAD
        scale = tl.full([ROWS], 1.0, COMPUTE)
    elif GRAD == 1:  # SCALAR_GRAD
        scale = tl.zeros([ROWS], COMPUTE) + tl.load(grad_loss_ptr).to(COMPUTE)
    else:
        scale = tl.load(grad_loss_ptr + rows * grad_loss_stride, mask=in_rows, other=0.0).to(COMPUTE)
    if NORMALIZE == 1:  # BY_COUNT
        scale = scale / n_rows
    if NORMALIZE == 2:  # BY_WEIGHT
        total_weight = tl.load(saved_ptr + 2 * n_rows).to(COMPUTE)
        scale = scale / total_weight
        if SMOOTHING > 0:
            # The NLL term's 0 / 0 (see the forward) makes torch's whole row gradient NaN.
            scale = tl.where(total_weight == 0, float("nan"), scale)
    logsumexp = tl.load(saved_ptr + rows, mask=in_rows, other=0.0).to(COMPUTE)
    q_sum = tl.load(saved_ptr + n_rows + rows, mask=in_rows, other=0.0).to(COMPUTE)
    # torch differentiates log_softmax, whose row is all NaN when the row's logsumexp is not
    # finite (a NaN, a +inf or only -inf logits), and multiplies it by the row's incoming
    # gradient, 0 for an ignored row: such a row's gradient is all NaN, ignored or not, whatever
    # the scale; any other ignored row's is 0. Decided once per row: the loop's select stays one.
    finite_row = tl.abs(logsumexp) < float("inf")
    use_formula = valid & finite_row
    row_fill = tl.where(finite_row, 0.0, float("nan")).to(COMPUTE)
    logits_base = rows[:, None] * logits_row_stride * VEC
    grad_base = rows[:, None] * grad_row_stride * VEC
    for start in range(0, n_classes, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        if INDEX_64:
            cols = cols.to(tl.int64)
        mask = in_rows[:, None] & (cols < n_classes)[None, :]
        x = tl.load(logits_ptr + logits_base + cols[None, :] * logits_col_stride, mask=mask, other=float("-inf"))
        q = _class_coefficients(
            target_ptr, weight_ptr, rows, cols, mask, valid, class_target,
            n_classes, target_row_stride, target_col_stride, weight_stride,
            PROBABILITIES, HAS_WEIGHT, SMOOTHING, COMPUTE, VEC,
        )  # fmt: skip
        probabilities = tl.exp(x.to(COMPUTE) - logsumexp[:, None])
        grad = scale[:, None] * (q_sum[:, None] * probabilities - q)
        grad = tl.where(use_formula[:, None], grad, row_fill[:, None])
        grad_ptrs = grad_logits_ptr + grad_base + cols[None, :] * grad_col_stride
        tl.store(grad_ptrs, grad.to(grad_logits_ptr.dtype.element_ty), mask=mask)


def _check_first_bad_target(first_bad: list, n_rows: int, n_classes: int) -> None:
    """Raises torch's IndexError for the first out-of-range target, [row, target] (row N: none)."""
    row, target = first_bad
    if row < n_rows:
        raise IndexError(f"Target {target} is out of bounds.")


def _check_label_smoothing(name: str, label_smoothing: float) -> float:
    """torch checks the upper end only: a negative smoothing goes through the same formula."""
    if label_smoothing > 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    return float(label_smoothing)


def _cross_entropy_config(n_rows: int, n_classes: int, compute: tl.dtype) -> tuple[int, int, int]:
    """(ROWS, BLOCK, num_warps): row_launch_config's, with a GPU tile of at most _GPU_TILE_BYTES."""
    rows, block, num_warps, _ = row_launch_config(n_rows, n_classes)
    if not is_interpreter():
        tile = _GPU_TILE_BYTES // (compute.primitive_bitwidth // 8)
        while rows * block > tile:
            rows, block = (rows // 2, block) if rows > 1 else (rows, block // 2)
    return rows, block, num_warps


def _class_vector_width(logits_2d: torch.Tensor, target_2d: torch.Tensor, probabilities: bool, *more) -> int:
    """VEC for the (N, C) logits, probability targets and the (N, C) tensors whose (row, column)
    strides are ``more`` (kernels/softmax.py)."""
    strides = [logits_2d.stride(), *more] + ([target_2d.stride()] if probabilities else [])
    return vector_width(logits_2d.element_size(), logits_2d.shape[1], [s[0] for s in strides], [s[1] for s in strides])


def _normalization(reduction: str, probabilities: bool) -> int:
    if reduction != "mean":
        return SUM
    return BY_COUNT if probabilities else BY_WEIGHT


def _weight_layout(weight: torch.Tensor | None) -> tuple | None:
    return None if weight is None else (weight.dtype, weight.shape, weight.stride(), weight.device)


# Launchers of the forward and backward per (layouts, dtypes, devices, options): a function of the
# tensors that allocates and launches once (kernels/common.remember). Everything checked or derived
# from those keys (shapes, the config, VEC, int64 offsets) is done when the launcher is built.
_FWD_LAUNCHERS: dict[tuple, Callable] = {}
_BWD_LAUNCHERS: dict[tuple, Callable] = {}
# The backward's launchers keyed by the forward's launcher and grad_loss's layout (see forward=).
_PAIRED_BWD_LAUNCHERS: dict[tuple, Callable] = {}


def launch_cross_entropy_fwd(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> tuple[torch.Tensor, torch.Tensor]:
    """torch.nn.functional.cross_entropy of ``logits`` (N, C) and ``target``; returns (loss, saved).

    ``target`` holds class indices (N,) of dtype int64, or class probabilities
    (N, C) of a floating dtype. ``logits`` (or (C,) with a 0-d target) may have any
    strides. ``loss`` has the logits' dtype: (N,) for ``reduction="none"``, else
    0-d; ``saved`` (fp32, fp64 for fp64 logits) holds what the backward needs (per-row
    logsumexp and sum of class coefficients, the mean's total weight: its first 2N + 1
    values) and the per-program partial sums of the reduction after them. One launch.
    Raises IndexError for a class target outside [0, C) other than ignore_index
    (kernels/device_checks.py says when).
    """
    return cross_entropy_fwd_launcher(logits, target, weight, ignore_index, label_smoothing, reduction)(
        logits, target, weight
    )


def cross_entropy_fwd_launcher(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None,
    ignore_index: int,
    label_smoothing: float,
    reduction: str,
) -> Callable:
    """``launch(logits, target, weight) -> (loss, saved)`` for operands laid out as these and these
    options (made and checked on first use): what ``launch_cross_entropy_fwd`` calls.

    An op that holds it can hand it to ``launch_cross_entropy_bwd`` as ``forward``: it stands for
    the layouts of the logits, target, weight and saved buffer, and for the options.
    """
    key = (
        logits.dtype, logits.shape, logits.stride(), logits.device, target.dtype, target.shape, target.stride(),
        target.device, None if weight is None else _weight_layout(weight), ignore_index, label_smoothing, reduction,
    )  # fmt: skip
    launch = _FWD_LAUNCHERS.get(key)
    if launch is None:
        launch = _cross_entropy_fwd_launcher(logits, target, weight, ignore_index, label_smoothing, reduction)
        remember(_FWD_LAUNCHERS, key, launch)
    return launch


def _cross_entropy_fwd_launcher(logits, target, weight, ignore_index: int, label_smoothing: float, reduction: str):
    """Checks the problem and returns launch(logits, target, weight) -> (loss, saved) for its layout."""
    check_reduction("cross_entropy", reduction)
    label_smoothing = _check_label_smoothing("cross_entropy", label_smoothing)
    logits_2d, target_2d, probabilities = _check_class_problem("cross_entropy", logits, target, weight, ignore_index)
    one_row = logits.dim() == 1
    n_rows, n_classes = logits_2d.shape
    device, dtype = logits.device, logits.dtype
    compute = compute_dtype(dtype)
    rows, block, num_warps = _cross_entropy_config(n_rows, n_classes, compute)
    # One program instance computes the loss of ROWS rows; an empty batch still takes one
    # program, which writes the empty sum or mean.
    programs = max(cdiv(n_rows, rows), 1)
    saved_size, accumulator = 2 * n_rows + 1 + 2 * programs, accumulator_dtype(dtype)
    loss_shape = (n_rows,) if reduction == "none" and not one_row else ()
    vec = _class_vector_width(logits_2d, target_2d, probabilities)
    arguments = (
        n_rows, n_classes // vec, ignore_index,
        logits_2d.stride(0) // vec, logits_2d.stride(1),
        target_2d.stride(0) // vec if probabilities else target_2d.stride(0),
        target_2d.stride(1) if probabilities else 0, 0 if weight is None else weight.stride(0),
    )  # fmt: skip
    options = dict(
        PROBABILITIES=probabilities, HAS_WEIGHT=weight is not None, SMOOTHING=label_smoothing,
        REDUCE=reduction != "none", NORMALIZE=_normalization(reduction, probabilities),
        COMPUTE=compute, ROWS=rows, BLOCK=block, VEC=vec, FINISH_BLOCK=_FINISH_BLOCK,
        INDEX_64=needs_int64_indexing(logits_2d, target_2d), num_warps=num_warps,
    )  # fmt: skip
    grid = (programs,)

    def check_targets(found: list) -> None:
        _check_first_bad_target(found[programs:], n_rows, n_classes)

    new_saved = allocator((saved_size,), (1,), accumulator, device)
    new_found = allocator((programs + 2,), (1,), torch.int64, device)
    new_loss = allocator(loss_shape, (1,) * len(loss_shape), dtype, device)

    def launch(logits, target, weight):
        if one_row:
            logits, target = logits.unsqueeze(0), target.unsqueeze(0)
        saved, found, loss = new_saved(), new_found(), new_loss()
        ticket_key, tickets = _tickets(device)
        try:
            cross_entropy_fwd_kernel[grid](
                logits, target, logits if weight is None else weight, loss, saved, found, tickets, *arguments, **options
            )
        except BaseException:
            _TICKETS.pop(ticket_key, None)  # a launch stopped part-way may leave the counter above 0
            raise
        if not probabilities:
            check_on_device(found, check_targets)
        return loss, saved  # (the per-program partials stay at its end: slicing them off costs a view)

    return launch


def launch_cross_entropy_bwd(
    grad_loss: torch.Tensor | None,
    logits: torch.Tensor,
    target: torch.Tensor,
    saved: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    forward: Callable | None = None,
) -> torch.Tensor:
    """Gradient of cross_entropy w.r.t. ``logits``, from what the forward ``saved``. One launch.

    ``grad_loss`` has the loss's shape ((N,) for "none", else 0-d), or is None for the
    implicit gradient 1 of ``loss.backward()``. Returns a new contiguous tensor of the
    logits' shape and dtype. (No gradient is computed for probability targets.) ``forward``:
    the ``cross_entropy_fwd_launcher`` that made ``saved`` from this very logits, target and
    weight with these options, or None; it stands for all their layouts, so the backward's
    launcher is found from it and ``grad_loss``'s layout alone.
    """
    paired_key = None
    if forward is not None:
        paired_key = (
            forward,
            None if grad_loss is None else (grad_loss.dtype, grad_loss.shape, grad_loss.stride(), grad_loss.device),
        )
        launch = _PAIRED_BWD_LAUNCHERS.get(paired_key)
        if launch is not None:
            return launch(grad_loss, logits, target, saved, weight)
    key = (
        None if grad_loss is None else (grad_loss.dtype, grad_loss.shape, grad_loss.stride(), grad_loss.device),
        logits.dtype, logits.shape, logits.stride(), logits.device, target.dtype, target.shape, target.stride(),
        target.device, saved.dtype, saved.shape, saved.stride(), saved.device, _weight_layout(weight),
        ignore_index, label_smoothing, reduction,
    )  # fmt: skip
    launch = _BWD_LAUNCHERS.get(key)
    if launch is None:
        launch = _cross_entropy_bwd_launcher(
            grad_loss, logits, target, saved, weight, ignore_index, label_smoothing, reduction
        )
        remember(_BWD_LAUNCHERS, key, launch)
    if paired_key is not None:
        remember(_PAIRED_BWD_LAUNCHERS, paired_key, launch)
    return launch(grad_loss, logits, target, saved, weight)


def _cross_entropy_bwd_launcher(
    grad_loss, logits, target, saved, weight, ignore_index: int, label_smoothing: float, reduction: str
):  # fmt: skip
    """Checks the problem and returns launch(grad_loss, logits, target, saved, weight) -> grad_logits."""
    check_reduction("cross_entropy_backward", reduction)
    label_smoothing = _check_label_smoothing("cross_entropy_backward", label_smoothing)
    logits_2d, target_2d, probabilities = _check_class_problem(
        "cross_entropy_backward", logits, target, weight, ignore_index
    )
    check_same_device("cross_entropy_backward", logits, grad_loss, saved)
    n_rows, n_classes = logits_2d.shape
    if grad_loss is not None:
        check_grad_loss("cross_entropy_backward", grad_loss, reduction, (n_rows,) if logits.dim() == 2 else ())
    if saved.dim() != 1 or saved.shape[0] < 2 * n_rows + 1:
        raise ValueError(
            f"cross_entropy_backward: saved has shape {tuple(saved.shape)}, expected at least "
            f"({2 * n_rows + 1},) (the second result of launch_cross_entropy_fwd)"
        )
    shape, dtype, device = logits.shape, logits.dtype, logits.device
    if logits.numel() == 0:
        return lambda *tensors: torch.empty(shape, dtype=dtype, device=device)
    one_row = logits.dim() == 1
    if grad_loss is None:
        grad_kind, grad_stride = UNIT_GRAD, 0
    elif reduction == "none":
        grad_kind, grad_stride = ROW_GRAD, grad_loss.view(-1).stride(0)
    else:
        grad_kind, grad_stride = SCALAR_GRAD, 0
    compute = compute_dtype(dtype)
    rows, block, num_warps = _cross_entropy_config(n_rows, n_classes, compute)
    grad_row_stride = n_classes  # of the new contiguous (N, C) gradient
    vec = _class_vector_width(logits_2d, target_2d, probabilities, (grad_row_stride, 1))
    arguments = (
        n_rows, n_classes // vec, ignore_index,
        grad_stride, logits_2d.stride(0) // vec, logits_2d.stride(1),
        target_2d.stride(0) // vec if probabilities else target_2d.stride(0),
        target_2d.stride(1) if probabilities else 0,
        0 if weight is None else weight.stride(0), grad_row_stride // vec, 1,
    )  # fmt: skip
    options = dict(
        PROBABILITIES=probabilities, HAS_WEIGHT=weight is not None, SMOOTHING=label_smoothing,
        GRAD=grad_kind, NORMALIZE=_normalization(reduction, probabilities), COMPUTE=compute,
        ROWS=rows, BLOCK=block, VEC=vec, INDEX_64=needs_int64_indexing(logits_2d, target_2d), num_warps=num_warps,
    )  # fmt: skip
    # One program instance writes the gradient of ROWS rows.
    grid = (cdiv(n_rows, rows),)

    new_grad_logits = allocator(shape, contiguous_strides(shape), dtype, device)

    def launch(grad_loss, logits, target, saved, weight):
        if one_row:
            logits, target = logits.unsqueeze(0), target.unsqueeze(0)
        grad_logits = new_grad_logits()
        cross_entropy_bwd_kernel[grid](
            saved if grad_loss is None else grad_loss, logits, target, logits if weight is None else weight,
            saved, grad_logits, *arguments, **options,
        )  # fmt: skip
        return grad_logits

    return launch


# --------------------------------------------------------------------------- NLL


# loss[r] = -weight[t] * log_probs[r, t] for t = target[r] (0 for ignored rows):
# a gather, so one program reads BLOCK targets and BLOCK log-probabilities, and
# writes BLOCK losses or one partial sum.
@triton.jit
def nll_loss_fwd_kernel(
    log_probs_ptr, target_ptr, weight_ptr, loss_ptr,
    n_rows, n_classes, ignore_index,
    log_probs_row_stride, log_probs_col_stride, target_stride, weight_stride,
    HAS_WEIGHT: tl.constexpr, REDUCE: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr,
    INDEX_64: tl.constexpr,
):  # fmt: skip
    rows = linear_index(BLOCK, INDEX_64)
    in_rows = rows < n_rows
    target = tl.load(target_ptr + rows * target_stride, mask=in_rows, other=ignore_index)
    valid = in_rows & (target != ignore_index) & (target >= 0) & (target < n_classes)
    picked = tl.load(
        log_probs_ptr + rows * log_probs_row_stride + target * log_probs_col_stride, mask=valid, other=0.0
    ).to(COMPUTE)
    if HAS_WEIGHT:
        picked = picked * tl.load(weight_ptr + target * weight_stride, mask=valid, other=0.0).to(COMPUTE)
    loss = tl.where(valid, -picked, 0.0)
    if REDUCE:
        tl.store(loss_ptr + tl.program_id(0), tl.sum(loss, axis=0))
    else:
        tl.store(loss_ptr + rows, loss.to(loss_ptr.dtype.element_ty), mask=in_rows)


# grad[r, c] = -scale[r] * weight[t] if c == target[r] (and not ignored) else 0.
# One program writes ROWS full rows, BLOCK columns at a time; it only reads targets.
@triton.jit
def nll_loss_bwd_kernel(
    grad_loss_ptr, target_ptr, weight_ptr, denominator_ptr, grad_ptr,
    n_rows, n_classes, ignore_index,
    grad_loss_stride, target_stride, weight_stride, grad_row_stride, grad_col_stride,
    HAS_WEIGHT: tl.constexpr, GRAD_PER_ROW: tl.constexpr, NORMALIZE: tl.constexpr, COMPUTE: tl.constexpr,
    ROWS: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    rows = pid * ROWS + tl.arange(0, ROWS)
    if INDEX_64:
        rows = rows.to(tl.int64)
    in_rows = rows < n_rows
    target = tl.load(target_ptr + rows * target_stride, mask=in_rows, other=ignore_index)
    valid = in_rows & (target != ignore_index) & (target >= 0) & (target < n_classes)
    if GRAD_PER_ROW:
        scale = tl.load(grad_loss_ptr + rows * grad_loss_stride, mask=in_rows, other=0.0).to(COMPUTE)
    else:
        scale = tl.zeros([ROWS], COMPUTE) + tl.load(grad_loss_ptr).to(COMPUTE)
    if NORMALIZE == 2:
        scale = scale / tl.load(denominator_ptr).to(COMPUTE)
    if HAS_WEIGHT:
        scale = scale * tl.load(weight_ptr + target * weight_stride, mask=valid, other=0.0).to(COMPUTE)
    for start in range(0, n_classes, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        if INDEX_64:
            cols = cols.to(tl.int64)
        mask = in_rows[:, None] & (cols < n_classes)[None, :]
        hit = valid[:, None] & (cols[None, :] == target[:, None])
        grad = tl.where(hit, -scale[:, None], 0.0)
        grad_offsets = rows[:, None] * grad_row_stride + cols[None, :] * grad_col_stride
        tl.store(grad_ptr + grad_offsets, grad.to(grad_ptr.dtype.element_ty), mask=mask)


def launch_nll_loss_fwd(
    log_probs: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    """torch.nn.functional.nll_loss of ``log_probs`` (N, C) (or (C,)) and int64 class ``target`` (N,).

    Returns the loss in the input's dtype: (N,) for "none", else 0-d. Raises
    IndexError for a target outside [0, C) other than ignore_index.
    """
    check_reduction("nll_loss", reduction)
    log_probs_2d, target_1d, probabilities = _check_class_problem("nll_loss", log_probs, target, weight, ignore_index)
    if probabilities:
        raise TypeError("nll_loss: expected class indices of dtype torch.int64, got a floating point target")
    n_rows, n_classes = log_probs_2d.shape
    total_weight = _scan_targets(target_1d, weight, n_classes, ignore_index, log_probs.dtype, validate=True)
    block, num_warps = elementwise_launch_config(n_rows)
    # One program instance computes the loss of BLOCK rows.
    grid = (cdiv(n_rows, block),)
    if reduction == "none":
        loss = torch.empty(n_rows, dtype=log_probs.dtype, device=log_probs.device)
    else:
        loss = torch.empty(grid[0], dtype=accumulator_dtype(log_probs.dtype), device=log_probs.device)
    if grid[0] > 0:
        nll_loss_fwd_kernel[grid](
            log_probs_2d, target_1d, log_probs_2d if weight is None else weight, loss,
            n_rows, n_classes, ignore_index,
            *log_probs_2d.stride(), target_1d.stride(0), 0 if weight is None else weight.stride(0),
            HAS_WEIGHT=weight is not None, REDUCE=reduction != "none", COMPUTE=compute_dtype(log_probs.dtype),
            BLOCK=block, INDEX_64=needs_int64_indexing(log_probs_2d, target_1d), num_warps=num_warps,
        )  # fmt: skip
    if reduction == "none":
        return loss.view(()) if log_probs.dim() == 1 else loss
    if reduction == "sum":
        return finish(loss, log_probs.dtype, SUM)
    return finish(loss, log_probs.dtype, BY_WEIGHT, denominator=total_weight)


def launch_nll_loss_bwd(
    grad_loss: torch.Tensor,
    log_probs: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    """Gradient of nll_loss w.r.t. ``log_probs``: a new contiguous tensor of its shape and dtype."""
    check_reduction("nll_loss_backward", reduction)
    log_probs_2d, target_1d, probabilities = _check_class_problem(
        "nll_loss_backward", log_probs, target, weight, ignore_index
    )
    if probabilities:
        raise TypeError("nll_loss_backward: expected class indices of dtype torch.int64, got a floating point target")
    check_same_device("nll_loss_backward", log_probs, grad_loss)
    n_rows, n_classes = log_probs_2d.shape
    check_grad_loss("nll_loss_backward", grad_loss, reduction, (n_rows,) if log_probs.dim() == 2 else ())
    grad = torch.empty(log_probs.shape, dtype=log_probs.dtype, device=log_probs.device)
    if grad.numel() == 0:
        return grad
    grad_2d = grad.view(n_rows, n_classes)
    denominator = None
    if reduction == "mean":
        denominator = _scan_targets(target_1d, weight, n_classes, ignore_index, log_probs.dtype, validate=False)
    grad_per_row = reduction == "none"
    rows, block, num_warps, _ = row_launch_config(n_rows, n_classes)
    # One program instance writes ROWS rows of the gradient.
    nll_loss_bwd_kernel[(cdiv(n_rows, rows),)](
        grad_loss, target_1d, grad if weight is None else weight,
        grad if denominator is None else denominator, grad_2d,
        n_rows, n_classes, ignore_index,
        grad_loss.view(-1).stride(0) if grad_per_row else 0, target_1d.stride(0),
        0 if weight is None else weight.stride(0), *grad_2d.stride(),
        HAS_WEIGHT=weight is not None, GRAD_PER_ROW=grad_per_row,
        NORMALIZE=BY_WEIGHT if reduction == "mean" else SUM, COMPUTE=compute_dtype(log_probs.dtype),
        ROWS=rows, BLOCK=block, INDEX_64=needs_int64_indexing(grad_2d, target_1d), num_warps=num_warps,
    )  # fmt: skip
    return grad
