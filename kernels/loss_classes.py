"""Class-target losses, forward and backward: cross-entropy and NLL over a class dimension.

Each row's loss is computed in fp32 (fp64 for fp64 inputs). With
``reduction="none"`` those values are the result; reduced losses are finished
by ``loss_reduction`` (per-program partial sums, one deterministic final sum).

Class targets are checked before any loss kernel reads with them:
``target_scan_kernel`` (one program) finds out-of-range targets, which the host
reads back and reports as torch does ("Target 7 is out of bounds."), and sums
the class weights of the non-ignored rows, the denominator of torch's weighted
mean. Kernels also mask their gathers by the range check, so a bad target can
never make them read outside the tensor.

Cross-entropy never materialises probabilities. Both target kinds are written
as per-class coefficients q (row loss = sum_c q_c * (logsumexp - x_c)):
class index t:  q_c = w_c * ((1 - eps) * [c == t] + eps / C)
probabilities:  q_c = w_c * ((1 - eps) * target_c + eps / C)
which is torch's formula with label smoothing eps and class weights w. The
gradient is then grad * (sum(q) * softmax(x) - q), recomputed in the backward
from the logits and the forward's per-row logsumexp.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import check_floating, check_same_device, compute_dtype, needs_int64_indexing
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
from tritongrad.kernels.softmax import finite_or_zero, row_launch_config
from tritongrad.runtime import elementwise_launch_config, reduction_block

__all__ = [
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
        raise IndexError(f"Target {too_large if too_large >= 0 else too_small} is out of bounds. "
                         f"(there are {n_classes} classes)")  # fmt: skip


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


@triton.jit
def _class_coefficients(
    target_ptr, weight_ptr, rows, cols, mask, valid, class_target,
    n_classes, target_row_stride, target_col_stride, weight_stride,
    PROBABILITIES: tl.constexpr, HAS_WEIGHT: tl.constexpr, SMOOTHING: tl.constexpr, COMPUTE: tl.constexpr,
):  # fmt: skip
    """q[r, c] of the module docstring for a [ROWS, BLOCK] tile; 0 on masked or ignored entries."""
    if PROBABILITIES:
        target_offsets = rows[:, None] * target_row_stride + cols[None, :] * target_col_stride
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
    if PROBABILITIES:
        return rows, in_rows, rows
    class_target = tl.load(target_ptr + rows * target_row_stride, mask=in_rows, other=ignore_index)
    valid = in_rows & (class_target != ignore_index) & (class_target >= 0) & (class_target < n_classes)
    return rows, valid, class_target


# Per row: logsumexp(x) and loss = sum_c q_c * (logsumexp - x_c), streamed over
# the classes in blocks with a running max, a rescaled sum of exponentials and a
# running sum_c q_c * (x_c - max) shifted with the max. One program handles ROWS
# rows. Memory: one read of the logits (+ the probability targets), a write of
# ROWS logsumexps and of ROWS losses or of one partial sum.
@triton.jit
def cross_entropy_fwd_kernel(
    logits_ptr, target_ptr, weight_ptr, loss_ptr, logsumexp_ptr,
    n_rows, n_classes, ignore_index,
    logits_row_stride, logits_col_stride, target_row_stride, target_col_stride, weight_stride,
    PROBABILITIES: tl.constexpr, HAS_WEIGHT: tl.constexpr, SMOOTHING: tl.constexpr, REDUCE: tl.constexpr,
    COMPUTE: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    rows, valid, class_target = _cross_entropy_rows(
        target_ptr, pid, n_rows, n_classes, ignore_index, target_row_stride, PROBABILITIES, ROWS, INDEX_64
    )
    in_rows = rows < n_rows
    # Rows past the end read the last row (never stored): a row of pure -inf padding would compute 0 / 0.
    address_rows = tl.minimum(rows, n_rows - 1)
    row_max = tl.full([ROWS], float("-inf"), COMPUTE)
    exp_sum = tl.zeros([ROWS], COMPUTE)
    q_sum = tl.zeros([ROWS], COMPUTE)
    q_dot = tl.zeros([ROWS], COMPUTE)  # sum_c q_c * (x_c - shift), shift = max so far (0 while -inf)
    for start in range(0, n_classes, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        if INDEX_64:
            cols = cols.to(tl.int64)
        mask = in_rows[:, None] & (cols < n_classes)[None, :]
        logits_offsets = address_rows[:, None] * logits_row_stride + cols[None, :] * logits_col_stride
        x = tl.load(logits_ptr + logits_offsets, mask=(cols < n_classes)[None, :], other=float("-inf"))
        x = x.to(COMPUTE)
        q = _class_coefficients(
            target_ptr, weight_ptr, rows, cols, mask, valid, class_target,
            n_classes, target_row_stride, target_col_stride, weight_stride,
            PROBABILITIES, HAS_WEIGHT, SMOOTHING, COMPUTE,
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
    tl.store(logsumexp_ptr + rows, finite_or_zero(row_max) + log_exp_sum, mask=in_rows)
    loss = tl.where(valid, q_sum * log_exp_sum - q_dot, 0.0)
    if REDUCE:
        tl.store(loss_ptr + pid, tl.sum(loss, axis=0))
    else:
        tl.store(loss_ptr + rows, loss.to(loss_ptr.dtype.element_ty), mask=in_rows)


# grad_logits = scale * (sum(q) * softmax(x) - q) per row, softmax from the saved
# logsumexp; scale = the incoming gradient (per row or one scalar) / the mean's
# denominator. One program handles ROWS rows. Memory: one read of the logits
# (+ targets) and one write of the gradient; when a row spans several blocks and
# sum(q) is not known up front, a first pass reads the weights/targets for it.
@triton.jit
def cross_entropy_bwd_kernel(
    grad_loss_ptr, logits_ptr, target_ptr, weight_ptr, logsumexp_ptr, denominator_ptr, grad_logits_ptr,
    n_rows, n_classes, ignore_index, count,
    grad_loss_stride, logits_row_stride, logits_col_stride, target_row_stride, target_col_stride,
    weight_stride, grad_row_stride, grad_col_stride,
    PROBABILITIES: tl.constexpr, HAS_WEIGHT: tl.constexpr, SMOOTHING: tl.constexpr,
    GRAD_PER_ROW: tl.constexpr, NORMALIZE: tl.constexpr, LOOPED: tl.constexpr,
    COMPUTE: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    rows, valid, class_target = _cross_entropy_rows(
        target_ptr, pid, n_rows, n_classes, ignore_index, target_row_stride, PROBABILITIES, ROWS, INDEX_64
    )
    in_rows = rows < n_rows
    if GRAD_PER_ROW:
        scale = tl.load(grad_loss_ptr + rows * grad_loss_stride, mask=in_rows, other=0.0).to(COMPUTE)
    else:
        scale = tl.zeros([ROWS], COMPUTE) + tl.load(grad_loss_ptr).to(COMPUTE)
    if NORMALIZE == 1:
        scale = scale / count
    if NORMALIZE == 2:
        scale = scale / tl.load(denominator_ptr).to(COMPUTE)
    logsumexp = tl.load(logsumexp_ptr + rows, mask=in_rows, other=0.0).to(COMPUTE)

    q_sum = tl.zeros([ROWS], COMPUTE)
    if LOOPED:
        for start in range(0, n_classes, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            if INDEX_64:
                cols = cols.to(tl.int64)
            mask = in_rows[:, None] & (cols < n_classes)[None, :]
            q_sum += tl.sum(
                _class_coefficients(
                    target_ptr, weight_ptr, rows, cols, mask, valid, class_target,
                    n_classes, target_row_stride, target_col_stride, weight_stride,
                    PROBABILITIES, HAS_WEIGHT, SMOOTHING, COMPUTE,
                ),
                axis=1,
            )  # fmt: skip

    for start in range(0, n_classes, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        if INDEX_64:
            cols = cols.to(tl.int64)
        mask = in_rows[:, None] & (cols < n_classes)[None, :]
        logits_offsets = rows[:, None] * logits_row_stride + cols[None, :] * logits_col_stride
        x = tl.load(logits_ptr + logits_offsets, mask=mask, other=float("-inf")).to(COMPUTE)
        q = _class_coefficients(
            target_ptr, weight_ptr, rows, cols, mask, valid, class_target,
            n_classes, target_row_stride, target_col_stride, weight_stride,
            PROBABILITIES, HAS_WEIGHT, SMOOTHING, COMPUTE,
        )  # fmt: skip
        if not LOOPED:
            q_sum = tl.sum(q, axis=1)
        probabilities = tl.exp(x - logsumexp[:, None])
        grad = scale[:, None] * (q_sum[:, None] * probabilities - q)
        grad = tl.where(valid[:, None], grad, 0.0)
        grad_offsets = rows[:, None] * grad_row_stride + cols[None, :] * grad_col_stride
        tl.store(grad_logits_ptr + grad_offsets, grad.to(grad_logits_ptr.dtype.element_ty), mask=mask)


def _check_label_smoothing(name: str, label_smoothing: float) -> float:
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    return float(label_smoothing)


def launch_cross_entropy_fwd(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> tuple[torch.Tensor, torch.Tensor]:
    """torch.nn.functional.cross_entropy of ``logits`` (N, C) and ``target``; returns (loss, logsumexp).

    ``target`` holds class indices (N,) of dtype int64, or class probabilities
    (N, C) of a floating dtype. ``logits`` (or (C,) with a 0-d target) may have any
    strides. ``loss`` has the logits' dtype: (N,) for ``reduction="none"``, else
    0-d; ``logsumexp`` (N,) is fp32 (fp64 for fp64 logits), kept for the backward.
    Raises IndexError for a class target outside [0, C) other than ignore_index.
    """
    check_reduction("cross_entropy", reduction)
    label_smoothing = _check_label_smoothing("cross_entropy", label_smoothing)
    logits_2d, target_2d, probabilities = _check_class_problem("cross_entropy", logits, target, weight, ignore_index)
    n_rows, n_classes = logits_2d.shape
    accumulate = accumulator_dtype(logits.dtype)
    total_weight = None
    if not probabilities:
        total_weight = _scan_targets(target_2d, weight, n_classes, ignore_index, logits.dtype, validate=True)
    logsumexp = torch.empty(n_rows, dtype=accumulate, device=logits.device)
    rows, block, num_warps, _ = row_launch_config(n_rows, n_classes)
    # One program instance computes the loss of ROWS rows.
    grid = (triton.cdiv(n_rows, rows),)
    if reduction == "none":
        loss = torch.empty(n_rows, dtype=logits.dtype, device=logits.device)
    else:
        loss = torch.empty(grid[0], dtype=accumulate, device=logits.device)
    if grid[0] > 0:
        cross_entropy_fwd_kernel[grid](
            logits_2d, target_2d, logits_2d if weight is None else weight, loss, logsumexp,
            n_rows, n_classes, ignore_index,
            *logits_2d.stride(), target_2d.stride(0), target_2d.stride(-1) if probabilities else 0,
            0 if weight is None else weight.stride(0),
            PROBABILITIES=probabilities, HAS_WEIGHT=weight is not None, SMOOTHING=label_smoothing,
            REDUCE=reduction != "none", COMPUTE=compute_dtype(logits.dtype),
            ROWS=rows, BLOCK=block, INDEX_64=needs_int64_indexing(logits_2d, target_2d), num_warps=num_warps,
        )  # fmt: skip
    if reduction == "none":
        return (loss.view(()) if logits.dim() == 1 else loss), logsumexp
    if reduction == "sum":
        return finish(loss, logits.dtype, SUM), logsumexp
    if probabilities:
        return finish(loss, logits.dtype, BY_COUNT, count=n_rows), logsumexp
    return finish(loss, logits.dtype, BY_WEIGHT, denominator=total_weight), logsumexp


def launch_cross_entropy_bwd(
    grad_loss: torch.Tensor,
    logits: torch.Tensor,
    target: torch.Tensor,
    logsumexp: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Gradient of cross_entropy w.r.t. ``logits``, from the forward's per-row ``logsumexp``.

    ``grad_loss`` has the loss's shape ((N,) for "none", else 0-d). Returns a new
    contiguous tensor of the logits' shape and dtype. (No gradient is computed
    for probability targets.)
    """
    check_reduction("cross_entropy_backward", reduction)
    label_smoothing = _check_label_smoothing("cross_entropy_backward", label_smoothing)
    logits_2d, target_2d, probabilities = _check_class_problem(
        "cross_entropy_backward", logits, target, weight, ignore_index
    )
    check_same_device("cross_entropy_backward", logits, grad_loss, logsumexp)
    n_rows, n_classes = logits_2d.shape
    check_grad_loss("cross_entropy_backward", grad_loss, reduction, (n_rows,) if logits.dim() == 2 else ())
    if logsumexp.shape != (n_rows,):
        raise ValueError(f"cross_entropy_backward: logsumexp has shape {tuple(logsumexp.shape)}, expected ({n_rows},)")
    grad_logits = torch.empty(logits.shape, dtype=logits.dtype, device=logits.device)
    if grad_logits.numel() == 0:
        return grad_logits
    grad_logits_2d = grad_logits.view(n_rows, n_classes)
    normalize, denominator = SUM, None
    if reduction == "mean":
        normalize = BY_COUNT if probabilities else BY_WEIGHT
        if not probabilities:
            denominator = _scan_targets(target_2d, weight, n_classes, ignore_index, logits.dtype, validate=False)
    grad_per_row = reduction == "none"
    rows, block, num_warps, looped = row_launch_config(n_rows, n_classes)
    # One program instance writes the gradient of ROWS rows.
    cross_entropy_bwd_kernel[(triton.cdiv(n_rows, rows),)](
        grad_loss, logits_2d, target_2d, logits_2d if weight is None else weight, logsumexp,
        logsumexp if denominator is None else denominator, grad_logits_2d,
        n_rows, n_classes, ignore_index, n_rows,
        grad_loss.view(-1).stride(0) if grad_per_row else 0, *logits_2d.stride(),
        target_2d.stride(0), target_2d.stride(-1) if probabilities else 0,
        0 if weight is None else weight.stride(0), *grad_logits_2d.stride(),
        PROBABILITIES=probabilities, HAS_WEIGHT=weight is not None, SMOOTHING=label_smoothing,
        GRAD_PER_ROW=grad_per_row, NORMALIZE=normalize, LOOPED=looped, COMPUTE=compute_dtype(logits.dtype),
        ROWS=rows, BLOCK=block, INDEX_64=needs_int64_indexing(logits_2d, target_2d), num_warps=num_warps,
    )  # fmt: skip
    return grad_logits


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
    grid = (triton.cdiv(n_rows, block),)
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
    nll_loss_bwd_kernel[(triton.cdiv(n_rows, rows),)](
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
