"""Loss functions, forward and backward: cross-entropy, NLL, MSE, BCE with logits.

Every loss is computed per row (cross-entropy, NLL) or per element (MSE, BCE)
in fp32 (fp64 for fp64 inputs). With ``reduction="none"`` those values are the
result. With ``"sum"``/``"mean"`` each program instead writes the sum of its own
values to a small ``partials`` buffer, and ``loss_sum_kernel`` (one program)
adds the partials in a fixed order and divides by the mean's denominator: the
result is deterministic, and no atomics or zero-filled buffers are needed.

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
from tritongrad.kernels.elementwise import linear_index
from tritongrad.kernels.softmax import finite_or_zero, row_launch_config
from tritongrad.kernels.strided import MAX_RANK, coalesce, strided_offset
from tritongrad.runtime import elementwise_launch_config, reduction_block

__all__ = [
    "launch_cross_entropy_fwd",
    "launch_cross_entropy_bwd",
    "launch_nll_loss_fwd",
    "launch_nll_loss_bwd",
    "launch_mse_loss_fwd",
    "launch_mse_loss_bwd",
    "launch_bce_with_logits_fwd",
    "launch_bce_with_logits_bwd",
]

REDUCTIONS = ("none", "mean", "sum")

# How a reduced loss (or its incoming gradient) is normalised.
_SUM = 0  # "sum": not at all
_BY_COUNT = 1  # "mean" over elements (or rows, for probability targets): an integer count
_BY_WEIGHT = 2  # "mean" over class targets: the total class weight of the non-ignored rows


# --------------------------------------------------------------------------- shared pieces


def _torch_compute_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction (use 'none', 'mean' or 'sum')")


# out[0] = sum(partials) (divided by count or by denominator[0] for a mean).
# One program streams the partials (one per program of the loss kernel, so few).
@triton.jit
def loss_sum_kernel(
    partials_ptr, denominator_ptr, out_ptr,
    n_partials, count,
    NORMALIZE: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    total = tl.zeros([BLOCK], COMPUTE)
    for start in range(0, n_partials, BLOCK):
        index = start + tl.arange(0, BLOCK)
        total += tl.load(partials_ptr + index, mask=index < n_partials, other=0.0).to(COMPUTE)
    result = tl.sum(total, axis=0)
    if NORMALIZE == 1:
        result = result / count  # an empty mean is 0 / 0 = NaN, as in torch
    if NORMALIZE == 2:
        result = result / tl.load(denominator_ptr).to(COMPUTE)
    tl.store(out_ptr, result.to(out_ptr.dtype.element_ty))


def _finish(partials: torch.Tensor, dtype: torch.dtype, normalize: int, count: int = 0, denominator=None):
    """The 0-d loss of ``dtype`` from the partial sums (see loss_sum_kernel)."""
    out = torch.empty((), dtype=dtype, device=partials.device)
    loss_sum_kernel[(1,)](
        partials, partials if denominator is None else denominator, out,
        partials.numel(), count,
        NORMALIZE=normalize, COMPUTE=compute_dtype(dtype), BLOCK=reduction_block(partials.numel()),
    )  # fmt: skip
    return out


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


def _scan_targets(target, weight, n_classes: int, ignore_index: int, dtype: torch.dtype, validate: bool):
    """The total weight of the non-ignored rows (1-element tensor); raises IndexError on bad targets."""
    total_weight = torch.empty(1, dtype=_torch_compute_dtype(dtype), device=target.device)
    bounds = torch.empty(2, dtype=torch.int64, device=target.device)
    target_scan_kernel[(1,)](
        target, target if weight is None else weight, total_weight, bounds,
        target.numel(), n_classes, ignore_index, target.stride(0), 0 if weight is None else weight.stride(0),
        HAS_WEIGHT=weight is not None, COMPUTE=compute_dtype(dtype), BLOCK=reduction_block(target.numel()),
    )  # fmt: skip
    # Reading the bounds back syncs with the host, which a CUDA-graph capture forbids; a captured
    # step skips the check (every gather is masked by the range test, so nothing reads out of bounds).
    capturing = target.is_cuda and torch.cuda.is_current_stream_capturing()
    if validate and not capturing:
        too_large, too_small = bounds.tolist()
        if too_large >= 0 or too_small < 0:
            bad = too_large if too_large >= 0 else too_small
            raise IndexError(f"Target {bad} is out of bounds. (there are {n_classes} classes)")
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


def _check_grad_loss(name: str, grad_loss: torch.Tensor, reduction: str, loss_shape) -> None:
    expected = tuple(loss_shape) if reduction == "none" else ()
    fits = tuple(grad_loss.shape) == expected if reduction == "none" else grad_loss.numel() == 1
    if not fits:
        raise ValueError(
            f"{name}: grad_loss has shape {tuple(grad_loss.shape)}, expected {expected} for reduction={reduction!r}"
        )


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
    _check_reduction("cross_entropy", reduction)
    label_smoothing = _check_label_smoothing("cross_entropy", label_smoothing)
    logits_2d, target_2d, probabilities = _check_class_problem("cross_entropy", logits, target, weight, ignore_index)
    n_rows, n_classes = logits_2d.shape
    accumulate = _torch_compute_dtype(logits.dtype)
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
        return _finish(loss, logits.dtype, _SUM), logsumexp
    if probabilities:
        return _finish(loss, logits.dtype, _BY_COUNT, count=n_rows), logsumexp
    return _finish(loss, logits.dtype, _BY_WEIGHT, denominator=total_weight), logsumexp


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
    _check_reduction("cross_entropy_backward", reduction)
    label_smoothing = _check_label_smoothing("cross_entropy_backward", label_smoothing)
    logits_2d, target_2d, probabilities = _check_class_problem(
        "cross_entropy_backward", logits, target, weight, ignore_index
    )
    check_same_device("cross_entropy_backward", logits, grad_loss, logsumexp)
    n_rows, n_classes = logits_2d.shape
    _check_grad_loss("cross_entropy_backward", grad_loss, reduction, (n_rows,) if logits.dim() == 2 else ())
    if logsumexp.shape != (n_rows,):
        raise ValueError(f"cross_entropy_backward: logsumexp has shape {tuple(logsumexp.shape)}, expected ({n_rows},)")
    grad_logits = torch.empty(logits.shape, dtype=logits.dtype, device=logits.device)
    if grad_logits.numel() == 0:
        return grad_logits
    grad_logits_2d = grad_logits.view(n_rows, n_classes)
    normalize, denominator = _SUM, None
    if reduction == "mean":
        normalize = _BY_COUNT if probabilities else _BY_WEIGHT
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
    _check_reduction("nll_loss", reduction)
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
        loss = torch.empty(grid[0], dtype=_torch_compute_dtype(log_probs.dtype), device=log_probs.device)
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
        return _finish(loss, log_probs.dtype, _SUM)
    return _finish(loss, log_probs.dtype, _BY_WEIGHT, denominator=total_weight)


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
    _check_reduction("nll_loss_backward", reduction)
    log_probs_2d, target_1d, probabilities = _check_class_problem(
        "nll_loss_backward", log_probs, target, weight, ignore_index
    )
    if probabilities:
        raise TypeError("nll_loss_backward: expected class indices of dtype torch.int64, got a floating point target")
    check_same_device("nll_loss_backward", log_probs, grad_loss)
    n_rows, n_classes = log_probs_2d.shape
    _check_grad_loss("nll_loss_backward", grad_loss, reduction, (n_rows,) if log_probs.dim() == 2 else ())
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
        NORMALIZE=_BY_WEIGHT if reduction == "mean" else _SUM, COMPUTE=compute_dtype(log_probs.dtype),
        ROWS=rows, BLOCK=block, INDEX_64=needs_int64_indexing(grad_2d, target_1d), num_warps=num_warps,
    )  # fmt: skip
    return grad


# --------------------------------------------------------------------------- elementwise losses


def _elementwise_groups(tensors: list[torch.Tensor]):
    """Yields (tensors, shape, strides per tensor) with at most MAX_RANK coalesced dims.

    All tensors have the same shape (broadcast operands are expanded views with
    stride 0). In the rare case of more than MAX_RANK dims after coalescing, the
    leading dim is split off by a host loop.
    """
    shape, strides = coalesce(tuple(tensors[0].shape), [list(t.stride()) for t in tensors])
    if len(shape) <= MAX_RANK:
        yield tensors, shape, strides
        return
    for i in range(tensors[0].shape[0]):
        yield from _elementwise_groups([t.select(0, i) for t in tensors])


def _launch_elementwise(kernel, operands, partials, reduce: bool, constexprs: dict, single: bool = False) -> None:
    """Launches ``kernel`` over the elements of ``operands`` (same shape), group by group.

    When reducing, each program writes one partial sum; groups take consecutive
    slices of ``partials`` (sized by ``_partials_count``). With ``single`` one
    program covers all elements (see ``_fits_one_program``) and ``partials`` is
    the 0-d loss it finishes.
    """
    numel = operands[0].numel()
    block, num_warps = _single_program_config(numel) if single else elementwise_launch_config(numel)
    offset = 0
    for group, shape, strides in _elementwise_groups(operands):
        group_numel = group[0].numel()
        # One program instance handles BLOCK consecutive elements of the group.
        grid = (triton.cdiv(group_numel, block),)
        kernel[grid](
            *group, partials[offset:] if partials.dim() else partials,
            group_numel, tuple(shape), *(tuple(s) for s in strides), numel,
            REDUCE=reduce, RANK=len(shape), BLOCK=block,
            INDEX_64=needs_int64_indexing(*group), num_warps=num_warps, **constexprs,
        )  # fmt: skip
        offset += grid[0]


def _partials_count(operands) -> int:
    block, _ = elementwise_launch_config(operands[0].numel())
    return sum(triton.cdiv(group[0].numel(), block) for group, _, _ in _elementwise_groups(operands))


def _fits_one_program(operands) -> bool:
    """True when one program can reduce all elements in one block: then the loss kernel finishes the
    sum itself and ``loss_sum_kernel`` is not launched (losses of a batch's outputs are small)."""
    numel = operands[0].numel()
    return 0 < numel <= reduction_block(numel) and len(list(_elementwise_groups(operands))) == 1


def _single_program_config(numel: int) -> tuple[int, int]:
    block = reduction_block(numel)
    return block, (4 if block <= 1024 else 8)


@triton.jit
def _store_partial_sum(partials_ptr, losses, count, DIVIDE_BY_COUNT: tl.constexpr):
    """Writes this program's sum of ``losses``; the only program of a one-block loss writes the
    finished loss instead: the sum, divided by ``count`` for a mean (as loss_sum_kernel would)."""
    total = tl.sum(losses, axis=0)
    if DIVIDE_BY_COUNT:
        total = total / count
    tl.store(partials_ptr + tl.program_id(0), total.to(partials_ptr.dtype.element_ty))


def _check_pair(name: str, input: torch.Tensor, target: torch.Tensor) -> None:
    check_floating(name, input)
    check_same_device(name, input, target)
    if target.shape != input.shape:
        raise ValueError(
            f"{name}: target shape {tuple(target.shape)} must equal input shape {tuple(input.shape)} "
            "(broadcast before calling)"
        )
    if target.dtype != input.dtype:
        raise TypeError(f"{name}: target has dtype {target.dtype} but input has dtype {input.dtype}")


def _reduced_output(kernel, operands, out_dtype, reduction, constexprs):
    """Runs an elementwise loss kernel and returns the loss for ``reduction``.

    The last operand is an output the kernel may write besides the loss (MSE's
    gradient); ``out`` follows the operands in the kernel's signature.
    """
    input = operands[0]
    if reduction == "none":
        out = torch.empty(input.shape, dtype=out_dtype, device=input.device)
        if input.numel() > 0:
            _launch_elementwise(kernel, [*operands, out], out, False, {**constexprs, "DIVIDE_BY_COUNT": False})
        return out
    # The unused ``out`` operand slot gets the input, which is never written.
    if _fits_one_program(operands):
        out = torch.empty((), dtype=out_dtype, device=input.device)
        constexprs = {**constexprs, "DIVIDE_BY_COUNT": reduction == "mean"}
        _launch_elementwise(kernel, [*operands, input], out, True, constexprs, single=True)
        return out
    n_partials = _partials_count(operands) if input.numel() > 0 else 0
    partials = torch.empty(n_partials, dtype=_torch_compute_dtype(out_dtype), device=input.device)
    if input.numel() > 0:
        _launch_elementwise(kernel, [*operands, input], partials, True, {**constexprs, "DIVIDE_BY_COUNT": False})
    normalize = _BY_COUNT if reduction == "mean" else _SUM
    return _finish(partials, out_dtype, normalize, count=input.numel())


@triton.jit
def _scalar_loss_gradient(grad_loss, count, MEAN: tl.constexpr):
    """What each element gets of a reduced loss's gradient: all of it for "sum", / count for "mean"."""
    if MEAN:
        grad_loss = grad_loss / count
    return grad_loss


# loss = (input - target)^2 per element; one program reads BLOCK elements of
# each operand and writes BLOCK losses or one partial sum (or, alone, the loss).
# With WRITE_GRAD it also writes the gradient the loss will get from an implicit
# backward() (grad_loss = 1): 2 (input - target), / count for the mean. The
# backward then needs no launch of its own (see MseLoss in tritongrad/ops).
@triton.jit
def mse_loss_fwd_kernel(
    input_ptr, target_ptr, grad_input_ptr, out_ptr, partials_ptr,
    numel, shape, input_strides, target_strides, grad_input_strides, out_strides, count,
    REDUCE: tl.constexpr, DIVIDE_BY_COUNT: tl.constexpr, WRITE_GRAD: tl.constexpr, MEAN: tl.constexpr,
    RANK: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < numel
    x = tl.load(input_ptr + strided_offset(index, shape, input_strides, RANK), mask=mask, other=0.0)
    t = tl.load(target_ptr + strided_offset(index, shape, target_strides, RANK), mask=mask, other=0.0)
    difference = x.to(COMPUTE) - t.to(COMPUTE)
    loss = difference * difference
    if WRITE_GRAD:
        # The same operations as mse_loss_bwd_kernel with grad_loss = 1, so the same bits.
        unit = _scalar_loss_gradient(tl.full((), 1.0, COMPUTE), count, MEAN)
        grad_offsets = strided_offset(index, shape, grad_input_strides, RANK)
        grad = 2.0 * difference * unit
        tl.store(grad_input_ptr + grad_offsets, grad.to(grad_input_ptr.dtype.element_ty), mask=mask)
    if REDUCE:
        _store_partial_sum(partials_ptr, loss, count, DIVIDE_BY_COUNT)
    else:
        out_offsets = strided_offset(index, shape, out_strides, RANK)
        tl.store(out_ptr + out_offsets, loss.to(out_ptr.dtype.element_ty), mask=mask)


def launch_mse_loss_fwd(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", *, unit_grad: bool = False
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """torch.nn.functional.mse_loss of same-shape, same-dtype ``input`` and ``target`` (any strides).

    With ``unit_grad=True`` (reduction "mean" or "sum") it returns ``(loss, grad_input)``:
    grad_input is the gradient of the loss w.r.t. input for a backward seeded with 1,
    written by the same launch. A loss that fits one block is one launch in all.
    """
    _check_reduction("mse_loss", reduction)
    _check_pair("mse_loss", input, target)
    if unit_grad and reduction == "none":
        raise ValueError("mse_loss: unit_grad needs a scalar loss (reduction 'mean' or 'sum'), got 'none'")
    grad_input = torch.empty(input.shape, dtype=input.dtype, device=input.device) if unit_grad else input
    constexprs = {"COMPUTE": compute_dtype(input.dtype), "WRITE_GRAD": unit_grad, "MEAN": reduction == "mean"}
    loss = _reduced_output(mse_loss_fwd_kernel, [input, target, grad_input], input.dtype, reduction, constexprs)
    return (loss, grad_input) if unit_grad else loss


@triton.jit
def _incoming_gradient(grad_loss_ptr, index, mask, shape, grad_loss_strides, count, RANK, PER_ELEMENT, MEAN, COMPUTE):
    """The loss's gradient at each element: its own entry for "none", the scalar (/ count for "mean")."""
    if PER_ELEMENT:
        grad = tl.load(grad_loss_ptr + strided_offset(index, shape, grad_loss_strides, RANK), mask=mask, other=0.0)
        return grad.to(COMPUTE)
    return _scalar_loss_gradient(tl.load(grad_loss_ptr).to(COMPUTE), count, MEAN)


# grad_input = 2 * (input - target) * grad, grad_target = -grad_input. One
# program reads BLOCK elements of input, target (and grad for "none") and
# writes BLOCK elements of both gradients.
@triton.jit
def mse_loss_bwd_kernel(
    input_ptr, target_ptr, grad_loss_ptr, grad_input_ptr, grad_target_ptr,
    numel, shape, input_strides, target_strides, grad_loss_strides, grad_input_strides, grad_target_strides,
    count,
    PER_ELEMENT: tl.constexpr, MEAN: tl.constexpr,
    RANK: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < numel
    x = tl.load(input_ptr + strided_offset(index, shape, input_strides, RANK), mask=mask, other=0.0)
    t = tl.load(target_ptr + strided_offset(index, shape, target_strides, RANK), mask=mask, other=0.0)
    grad = _incoming_gradient(
        grad_loss_ptr, index, mask, shape, grad_loss_strides, count, RANK, PER_ELEMENT, MEAN, COMPUTE
    )
    grad_input = 2.0 * (x.to(COMPUTE) - t.to(COMPUTE)) * grad
    grad_input_offsets = strided_offset(index, shape, grad_input_strides, RANK)
    tl.store(grad_input_ptr + grad_input_offsets, grad_input.to(grad_input_ptr.dtype.element_ty), mask=mask)
    grad_target_offsets = strided_offset(index, shape, grad_target_strides, RANK)
    tl.store(grad_target_ptr + grad_target_offsets, (-grad_input).to(grad_target_ptr.dtype.element_ty), mask=mask)


def _grad_loss_operand(name: str, grad_loss: torch.Tensor, input: torch.Tensor, reduction: str) -> torch.Tensor:
    """Checks the incoming gradient: the input's shape for "none", one element otherwise."""
    _check_grad_loss(name, grad_loss, reduction, input.shape)
    check_same_device(name, input, grad_loss)
    return grad_loss


def launch_mse_loss_bwd(
    grad_loss: torch.Tensor, input: torch.Tensor, target: torch.Tensor, reduction: str = "mean"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients of mse_loss w.r.t. ``input`` and ``target``: new contiguous tensors of their shape."""
    _check_reduction("mse_loss_backward", reduction)
    _check_pair("mse_loss_backward", input, target)
    grad_loss = _grad_loss_operand("mse_loss_backward", grad_loss, input, reduction)
    grad_input = torch.empty(input.shape, dtype=input.dtype, device=input.device)
    grad_target = torch.empty(input.shape, dtype=input.dtype, device=input.device)
    if input.numel() == 0:
        return grad_input, grad_target
    _launch_grad_kernel(mse_loss_bwd_kernel, [input, target], grad_loss, [grad_input, grad_target], reduction, {})
    return grad_input, grad_target


def _launch_grad_kernel(kernel, operands, grad_loss, outputs, reduction, constexprs) -> None:
    """Launches an elementwise loss-gradient kernel over (operands, grad_loss, outputs), group by group."""
    input = operands[0]
    per_element = reduction == "none"
    # A 0-d grad_loss is not part of the iteration space: the input stands in for its strides.
    grad_slot = grad_loss if per_element else input
    tensors = [*operands, grad_slot, *outputs]
    grad_index = len(operands)
    block, num_warps = elementwise_launch_config(input.numel())
    for group, shape, strides in _elementwise_groups(tensors):
        group_numel = group[0].numel()
        pointers = list(group)
        if not per_element:
            pointers[grad_index] = grad_loss
        # One program instance handles BLOCK consecutive elements of the group.
        kernel[(triton.cdiv(group_numel, block),)](
            *pointers,
            group_numel, tuple(shape), *(tuple(s) for s in strides), input.numel(),
            PER_ELEMENT=per_element, MEAN=reduction == "mean",
            RANK=len(shape), COMPUTE=compute_dtype(input.dtype), BLOCK=block,
            INDEX_64=needs_int64_indexing(*group), num_warps=num_warps, **constexprs,
        )  # fmt: skip


# --------------------------------------------------------------------------- BCE with logits


@triton.jit
def _softplus_of_negative(x):
    """log(1 + exp(-x)) without overflow: max(-x, 0) + log(1 + exp(-|x|))."""
    return tl.maximum(-x, 0.0) + tl.log(1.0 + tl.exp(-tl.abs(x)))


# loss = weight * ((1 - t) * x + (1 + (pos_weight - 1) * t) * log(1 + exp(-x))),
# torch's binary_cross_entropy_with_logits; one program reads BLOCK elements of
# each operand (weights may be broadcast, stride 0) and writes BLOCK losses or
# one partial sum.
@triton.jit
def bce_with_logits_fwd_kernel(
    input_ptr, target_ptr, weight_ptr, pos_weight_ptr, out_ptr, partials_ptr,
    numel, shape, input_strides, target_strides, weight_strides, pos_weight_strides, out_strides, count,
    HAS_WEIGHT: tl.constexpr, HAS_POS_WEIGHT: tl.constexpr,
    REDUCE: tl.constexpr, DIVIDE_BY_COUNT: tl.constexpr, RANK: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr,
    INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < numel
    x = tl.load(input_ptr + strided_offset(index, shape, input_strides, RANK), mask=mask, other=0.0).to(COMPUTE)
    t = tl.load(target_ptr + strided_offset(index, shape, target_strides, RANK), mask=mask, other=0.0).to(COMPUTE)
    softplus = _softplus_of_negative(x)
    if HAS_POS_WEIGHT:
        pos_weight_offsets = strided_offset(index, shape, pos_weight_strides, RANK)
        pos_weight = tl.load(pos_weight_ptr + pos_weight_offsets, mask=mask, other=1.0).to(COMPUTE)
        softplus = softplus * (1.0 + (pos_weight - 1.0) * t)
    loss = (1.0 - t) * x + softplus
    if HAS_WEIGHT:
        weight = tl.load(weight_ptr + strided_offset(index, shape, weight_strides, RANK), mask=mask, other=0.0)
        loss = loss * weight.to(COMPUTE)
    if REDUCE:
        _store_partial_sum(partials_ptr, tl.where(mask, loss, 0.0), count, DIVIDE_BY_COUNT)
    else:
        out_offsets = strided_offset(index, shape, out_strides, RANK)
        tl.store(out_ptr + out_offsets, loss.to(out_ptr.dtype.element_ty), mask=mask)


# grad_input  = grad * weight * ((1 - t) - (1 + (pos_weight - 1) * t) * sigmoid(-x))
# grad_target = grad * weight * (-x + (pos_weight - 1) * log(1 + exp(-x)))   (if asked for)
# One program reads BLOCK elements of each operand and writes BLOCK of each gradient.
@triton.jit
def bce_with_logits_bwd_kernel(
    input_ptr, target_ptr, weight_ptr, pos_weight_ptr, grad_loss_ptr, grad_input_ptr, grad_target_ptr,
    numel, shape, input_strides, target_strides, weight_strides, pos_weight_strides, grad_loss_strides,
    grad_input_strides, grad_target_strides,
    count,
    PER_ELEMENT: tl.constexpr, MEAN: tl.constexpr, HAS_WEIGHT: tl.constexpr, HAS_POS_WEIGHT: tl.constexpr,
    TARGET_GRAD: tl.constexpr, RANK: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr,
    INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < numel
    x = tl.load(input_ptr + strided_offset(index, shape, input_strides, RANK), mask=mask, other=0.0).to(COMPUTE)
    t = tl.load(target_ptr + strided_offset(index, shape, target_strides, RANK), mask=mask, other=0.0).to(COMPUTE)
    grad = _incoming_gradient(
        grad_loss_ptr, index, mask, shape, grad_loss_strides, count, RANK, PER_ELEMENT, MEAN, COMPUTE
    )
    if HAS_WEIGHT:
        weight = tl.load(weight_ptr + strided_offset(index, shape, weight_strides, RANK), mask=mask, other=0.0)
        grad = grad * weight.to(COMPUTE)
    # sigmoid(-x) from exp(-|x|), which cannot overflow.
    decay = tl.exp(-tl.abs(x))
    sigmoid_of_negative = tl.where(x >= 0, decay, 1.0) / (1.0 + decay)
    if HAS_POS_WEIGHT:
        pos_weight_offsets = strided_offset(index, shape, pos_weight_strides, RANK)
        pos_weight = tl.load(pos_weight_ptr + pos_weight_offsets, mask=mask, other=1.0).to(COMPUTE)
        grad_input = (1.0 - t) - (1.0 + (pos_weight - 1.0) * t) * sigmoid_of_negative
    else:
        grad_input = (1.0 - t) - sigmoid_of_negative
    grad_input = grad_input * grad
    grad_input_offsets = strided_offset(index, shape, grad_input_strides, RANK)
    tl.store(grad_input_ptr + grad_input_offsets, grad_input.to(grad_input_ptr.dtype.element_ty), mask=mask)
    if TARGET_GRAD:
        grad_target = -x
        if HAS_POS_WEIGHT:
            grad_target += (pos_weight - 1.0) * _softplus_of_negative(x)
        grad_target = grad_target * grad
        grad_target_offsets = strided_offset(index, shape, grad_target_strides, RANK)
        tl.store(grad_target_ptr + grad_target_offsets, grad_target.to(grad_target_ptr.dtype.element_ty), mask=mask)


def _bce_operands(name, input, target, weight, pos_weight) -> list[torch.Tensor]:
    """[input, target, weight, pos_weight] of one shape; absent weights are the input (never read)."""
    _check_pair(name, input, target)
    operands = [input, target]
    for label, extra in (("weight", weight), ("pos_weight", pos_weight)):
        if extra is None:
            operands.append(input)
            continue
        check_floating(f"{name} ({label})", extra)
        check_same_device(name, input, extra)
        try:
            operands.append(extra.expand(input.shape))
        except RuntimeError:
            raise ValueError(
                f"{name}: {label} of shape {tuple(extra.shape)} does not broadcast to input shape {tuple(input.shape)}"
            ) from None
    return operands


def launch_bce_with_logits_fwd(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    pos_weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """torch.nn.functional.binary_cross_entropy_with_logits; numerically stable for any logits.

    ``target`` has the input's shape and dtype; ``weight`` and ``pos_weight``
    broadcast to the input's shape (pos_weight typically (C,), the last dim).
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    operands = _bce_operands("binary_cross_entropy_with_logits", input, target, weight, pos_weight)
    constexprs = {
        "HAS_WEIGHT": weight is not None,
        "HAS_POS_WEIGHT": pos_weight is not None,
        "COMPUTE": compute_dtype(input.dtype),
    }
    return _reduced_output(bce_with_logits_fwd_kernel, operands, input.dtype, reduction, constexprs)


def launch_bce_with_logits_bwd(
    grad_loss: torch.Tensor,
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    pos_weight: torch.Tensor | None = None,
    reduction: str = "mean",
    needs_target_grad: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Gradients of binary_cross_entropy_with_logits: (grad_input, grad_target or None).

    grad_target is computed only with ``needs_target_grad=True``. Both are new
    contiguous tensors of the input's shape and dtype.
    """
    name = "binary_cross_entropy_with_logits_backward"
    _check_reduction(name, reduction)
    operands = _bce_operands(name, input, target, weight, pos_weight)
    grad_loss = _grad_loss_operand(name, grad_loss, input, reduction)
    grad_input = torch.empty(input.shape, dtype=input.dtype, device=input.device)
    grad_target = torch.empty(input.shape, dtype=input.dtype, device=input.device) if needs_target_grad else None
    if input.numel() == 0:
        return grad_input, grad_target
    constexprs = {
        "HAS_WEIGHT": weight is not None,
        "HAS_POS_WEIGHT": pos_weight is not None,
        "TARGET_GRAD": needs_target_grad,
    }
    outputs = [grad_input, grad_input if grad_target is None else grad_target]
    _launch_grad_kernel(bce_with_logits_bwd_kernel, operands, grad_loss, outputs, reduction, constexprs)
    return grad_input, grad_target
