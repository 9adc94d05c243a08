"""Fused linear + cross-entropy: cross_entropy(x @ W.T + b, target) without the (N, V) logits.

The rows are processed in chunks of C. For each chunk:

1. ``launch_linear`` (the matmul kernel) writes the chunk's logits, a (C, V) buffer;
2. ``linear_ce_rows_kernel`` streams each row twice: an online max / sum of exponentials gives
   the row's logsumexp and loss, then the row is overwritten in place with the gradient of the
   loss w.r.t. the logits, coef * (softmax - onehot(target));
3. ``matmul_accumulate_kernel`` turns that gradient into grad_x[chunk] = G @ W (written straight
   into grad_x's rows) and grad_W += G.T @ x[chunk], grad_b += G.T @ 1 (accumulated in place,
   fp32 for half types).

Peak extra memory is one (C, V) logits chunk plus the (V, H) weight-gradient accumulator, instead of
torch's (N, V) logits, their softmax and their gradient. The gradients are produced in the forward
(the usual case, a scalar loss whose backward follows: the backward only scales them); a per-row
gradient (reduction="none") reruns the pass with each row's coefficient.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad import runtime
from tritongrad.kernels.common import check_floating, check_same_device, compute_dtype, needs_int64_indexing
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.elementwise import launch_unary
from tritongrad.kernels.loss_classes import _scan_targets  # the shared target check and mean denominator
from tritongrad.kernels.loss_reduction import BY_WEIGHT, SUM, accumulator_dtype, check_reduction, finish
from tritongrad.kernels.matmul import launch_linear
from tritongrad.kernels.softmax import row_launch_config
from tritongrad.runtime import cdiv

__all__ = ["launch_linear_cross_entropy", "default_chunk_size"]


# Per row r of a (C, V) logits chunk with target t: loss[r] = logsumexp(x_r) - x_r[t] (0 when t is
# ignore_index), then with GRAD the row is overwritten by coef_r * (softmax(x_r) - onehot(t)),
# coef_r = scale[r] (per-row scale, or 1) / denominator[0] (the mean's count, or 1). One program
# handles ROWS rows; memory: the logits are read twice and written once, ROWS losses written.
@triton.jit
def linear_ce_rows_kernel(
    # logits (C, V), overwritten by their gradient with GRAD; target (C,) int64; loss (C,) fp32/fp64;
    # scale (C,) with GRAD_PER_ROW; denominator (1,) with NORMALIZE.
    logits_ptr, target_ptr, loss_ptr, scale_ptr, denominator_ptr,
    n_rows, n_classes, ignore_index,
    logits_row_stride, target_stride, scale_stride,
    GRAD: tl.constexpr, GRAD_PER_ROW: tl.constexpr, NORMALIZE: tl.constexpr, COMPUTE: tl.constexpr,
    ROWS: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    if INDEX_64:
        rows = rows.to(tl.int64)
    in_rows = rows < n_rows
    # Rows past the end read the last row (never stored): all -inf padding would give NaN noise.
    address_rows = tl.minimum(rows, n_rows - 1)
    target = tl.load(target_ptr + rows * target_stride, mask=in_rows, other=ignore_index).to(tl.int64)
    valid = in_rows & (target != ignore_index) & (target >= 0) & (target < n_classes)
    row_max = tl.full([ROWS], float("-inf"), COMPUTE)
    exp_sum = tl.zeros([ROWS], COMPUTE)
    target_logit = tl.zeros([ROWS], COMPUTE)
    for start in range(0, n_classes, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        in_cols = cols < n_classes
        offsets = address_rows[:, None] * logits_row_stride + cols[None, :]
        x = tl.load(logits_ptr + offsets, mask=in_cols[None, :], other=float("-inf")).to(COMPUTE)
        new_max = tl.maximum(row_max, tl.max(x, axis=1))
        exp_sum = exp_sum * tl.exp(row_max - new_max) + tl.sum(tl.exp(x - new_max[:, None]), axis=1)
        row_max = new_max
        target_logit += tl.sum(tl.where(cols[None, :] == target[:, None], x, 0.0), axis=1)
    logsumexp = row_max + tl.log(exp_sum)
    tl.store(loss_ptr + rows, tl.where(valid, logsumexp - target_logit, 0.0), mask=in_rows)
    if GRAD:
        if GRAD_PER_ROW:
            coef = tl.load(scale_ptr + rows * scale_stride, mask=in_rows, other=0.0).to(COMPUTE)
        else:
            coef = tl.full([ROWS], 1.0, COMPUTE)
        if NORMALIZE:
            # 0 only when every row is ignored: then no coefficient is used (and no 0 / 0 is computed).
            denominator = tl.load(denominator_ptr).to(COMPUTE)
            coef = coef / tl.where(denominator == 0, 1.0, denominator)
        coef = tl.where(valid, coef, 0.0)
        for start in range(0, n_classes, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            mask = in_rows[:, None] & (cols < n_classes)[None, :]
            offsets = rows[:, None] * logits_row_stride + cols[None, :]
            x = tl.load(logits_ptr + offsets, mask=mask, other=0.0).to(COMPUTE)
            grad = tl.exp(x - logsumexp[:, None]) - (cols[None, :] == target[:, None]).to(COMPUTE)
            grad = coef[:, None] * grad
            tl.store(logits_ptr + offsets, grad.to(logits_ptr.dtype.element_ty), mask=mask)


# C (M, N) = A @ B, or C += A @ B with ACCUMULATE; with ROW_SUM also row_sum (M,) (+)= A @ 1, summed
# by the first column of tiles from the A tiles it loads anyway (PRODUCT=False: row sums only).
# One program per BLOCK_M x BLOCK_N tile of C; A and B are read in place through their strides.
@triton.jit
def matmul_accumulate_kernel(
    a_ptr, b_ptr, c_ptr, row_sum_ptr,
    M, N, K,
    stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn, stride_row_sum,
    PRODUCT: tl.constexpr, ACCUMULATE: tl.constexpr, ROW_SUM: tl.constexpr,
    ACC_DTYPE: tl.constexpr, DOT_PRECISION: tl.constexpr, WIDEN: tl.constexpr, INDEX_64: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
):  # fmt: skip
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    if INDEX_64:
        offs_m = offs_m.to(tl.int64)
        offs_n = offs_n.to(tl.int64)
        offs_k = offs_k.to(tl.int64)
    mask_m = offs_m < M
    mask_n = offs_n < N
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC_DTYPE)
    row_sum = tl.zeros((BLOCK_M,), dtype=ACC_DTYPE)
    for k in range(0, K, BLOCK_K):
        ks = k + offs_k
        a = tl.load(a_ptr + offs_m[:, None] * stride_am + ks[None, :] * stride_ak,
                    mask=mask_m[:, None] & (ks < K)[None, :], other=0.0)  # fmt: skip
        if ROW_SUM:
            if pid_n == 0:
                row_sum += tl.sum(a.to(ACC_DTYPE), axis=1)
        if PRODUCT:
            b = tl.load(b_ptr + ks[:, None] * stride_bk + offs_n[None, :] * stride_bn,
                        mask=(ks < K)[:, None] & mask_n[None, :], other=0.0)  # fmt: skip
            if WIDEN:  # the interpreter's bf16 arithmetic is wrong: multiply in fp32 (exact)
                a = a.to(tl.float32)
                b = b.to(tl.float32)
            acc = tl.dot(a, b, acc, input_precision=DOT_PRECISION, out_dtype=ACC_DTYPE)
    if PRODUCT:
        c_ptrs = c_ptr + offs_m[:, None] * stride_cm + offs_n[None, :] * stride_cn
        c_mask = mask_m[:, None] & mask_n[None, :]
        if ACCUMULATE:
            acc += tl.load(c_ptrs, mask=c_mask, other=0.0).to(ACC_DTYPE)
        tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=c_mask)
    if ROW_SUM:
        if pid_n == 0:
            if ACCUMULATE:
                row_sum += tl.load(row_sum_ptr + offs_m * stride_row_sum, mask=mask_m, other=0.0).to(ACC_DTYPE)
            tl.store(row_sum_ptr + offs_m * stride_row_sum, row_sum.to(row_sum_ptr.dtype.element_ty), mask=mask_m)


def _matmul_blocks(M: int, N: int, K: int, dtype: torch.dtype) -> tuple[int, int, int, int]:
    """(BLOCK_M, BLOCK_N, BLOCK_K, num_warps); tl.dot needs every tile dim >= 16."""
    if runtime.is_interpreter():  # few, large programs: the interpreter pays per op, not per element
        fit = lambda n, cap: max(16, min(runtime.next_power_of_2(n), cap))  # noqa: E731
        return fit(M, 128), fit(N, 128), fit(K, 128), 4
    if dtype == torch.float64:
        return 32, 32, 16, 4
    # fp32 without tf32 is an FMA loop: 8 warps keep a 64x64 tile's accumulators from spilling on sm_80.
    return 64, 64, 32, 8 if dtype == torch.float32 else 4


def _launch_matmul_accumulate(
    a: torch.Tensor,
    b: torch.Tensor | None,
    c: torch.Tensor | None,
    *,
    accumulate: bool,
    row_sum: torch.Tensor | None = None,
    allow_tf32: bool = False,
) -> None:
    """c (=|+=) a @ b and row_sum (=|+=) a.sum(1) for 2-D a (M, K), b (K, N), c (M, N), any strides."""
    M, K = a.shape
    N = 1 if c is None else c.shape[1]
    block_m, block_n, block_k, num_warps = _matmul_blocks(M, N, K, a.dtype)
    product = c is not None
    if not product:
        block_n = 16
    grid = (cdiv(M, block_m), 1 if not product else cdiv(N, block_n))
    matmul_accumulate_kernel[grid](
        a, b if product else a, c if product else a, row_sum if row_sum is not None else a,
        M, N, K,
        *a.stride(), *(b.stride() if product else (0, 0)), *(c.stride() if product else (0, 0)),
        row_sum.stride(0) if row_sum is not None else 0,
        PRODUCT=product, ACCUMULATE=accumulate, ROW_SUM=row_sum is not None,
        ACC_DTYPE=compute_dtype(a.dtype), DOT_PRECISION="tf32" if (a.dtype == torch.float32 and allow_tf32) else "ieee",
        WIDEN=runtime.is_interpreter() and a.dtype == torch.bfloat16,
        INDEX_64=needs_int64_indexing(a, *(t for t in (b, c) if t is not None)),
        BLOCK_M=block_m, BLOCK_N=block_n, BLOCK_K=block_k, num_warps=num_warps,
    )  # fmt: skip


def default_chunk_size(n_rows: int, in_features: int, n_classes: int) -> int:
    """Rows per chunk so that a chunk's logits are about as large as the input (Liger-Kernel's rule):
    the next power of two of n_rows / ceil(V / H)."""
    ratio = max(1, -(-n_classes // max(in_features, 1)))
    return runtime.next_power_of_2(max(1, -(-n_rows // ratio)))


def launch_linear_cross_entropy(
    x: torch.Tensor,
    weight: torch.Tensor,
    target: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    chunk_size: int | None = None,
    grad_scale: torch.Tensor | None = None,
    needs: tuple[bool, bool, bool] = (False, False, False),
    allow_tf32: bool = False,
    block: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
    """cross_entropy(x @ weight.T + bias, target) chunk by chunk, with the gradients in the same pass.

    Args:
        x: (N, H) floating, any strides. weight: (V, H), bias: (V,) or None, same dtype.
        target: (N,) int64 class indices in [0, V) or ``ignore_index`` (IndexError otherwise).
        reduction: "mean" (over the non-ignored rows), "sum" or "none".
        chunk_size: rows per chunk (default ``default_chunk_size``).
        grad_scale: None for the gradient of the reduced loss itself (d loss = 1), or the (N,)
            gradient of the per-row losses (reduction "none").
        needs: which of (grad_x, grad_weight, grad_bias) to compute; none: the loss only.
        block: classes per step of the row kernel (default: the row policy's; tests force rows
            longer than one block to exercise the online logsumexp).

    Returns:
        (loss, grad_x, grad_weight, grad_bias): loss is 0-d (or (N,) for "none") of x's dtype;
        the gradients have the operands' shapes and dtype, or are None when not needed.
    """
    check_reduction("linear_cross_entropy", reduction)
    check_floating("linear_cross_entropy", x)
    check_same_device("linear_cross_entropy", x, weight, target, bias, grad_scale)
    if x.dim() != 2 or weight.dim() != 2 or x.shape[1] != weight.shape[1]:
        raise RuntimeError(
            f"linear_cross_entropy: expected input (N, H) and weight (V, H), got {tuple(x.shape)} and "
            f"{tuple(weight.shape)}"
        )
    if weight.dtype != x.dtype or (bias is not None and bias.dtype != x.dtype):
        raise RuntimeError(
            f"linear_cross_entropy: input, weight and bias must share one dtype, got {x.dtype}, {weight.dtype}"
            + ("" if bias is None else f" and {bias.dtype}")
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"linear_cross_entropy: bias must be ({weight.shape[0]},), got {tuple(bias.shape)}")
    if target.dtype != torch.int64:
        raise RuntimeError(f"linear_cross_entropy: expected int64 class indices, got target of dtype {target.dtype}")
    if tuple(target.shape) != (x.shape[0],):
        raise ValueError(
            f"linear_cross_entropy: expected target of shape ({x.shape[0]},) for input {tuple(x.shape)}, "
            f"got {tuple(target.shape)}"
        )
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"linear_cross_entropy: chunk_size must be positive, got {chunk_size}")
    n_rows, in_features = x.shape
    n_classes = weight.shape[0]
    dtype, device = x.dtype, x.device
    accumulate_dtype = accumulator_dtype(dtype)
    total = _scan_targets(target, None, n_classes, ignore_index, dtype, validate=True)
    row_loss = torch.empty(n_rows, dtype=accumulate_dtype, device=device)
    need_x, need_weight, need_bias = needs
    grad = any(needs)
    grad_x = torch.empty((n_rows, in_features), dtype=dtype, device=device) if need_x else None
    # Accumulators: fp32 for half types (one rounding at the end, not one per chunk).
    grad_weight = torch.empty(weight.shape, dtype=accumulate_dtype, device=device) if need_weight else None
    grad_bias = torch.empty((n_classes,), dtype=accumulate_dtype, device=device) if need_bias else None
    for buffer in (grad_weight, grad_bias):
        if buffer is not None and n_rows == 0:
            launch_fill_(buffer, 0)
    chunk = chunk_size or default_chunk_size(n_rows, in_features, n_classes)
    rows, policy_block, num_warps, _ = row_launch_config(min(chunk, max(n_rows, 1)), n_classes)
    block = block or policy_block
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        x_chunk = x[start:stop]
        logits = launch_linear(x_chunk, weight, bias, allow_tf32=allow_tf32)  # (C, V), contiguous
        scale = None if grad_scale is None else grad_scale[start:stop]
        # One program: the loss (and logits gradient) of ROWS rows of the chunk.
        linear_ce_rows_kernel[(cdiv(stop - start, rows),)](
            logits, target[start:stop], row_loss[start:], scale if scale is not None else row_loss, total,
            stop - start, n_classes, ignore_index,
            logits.stride(0), target.stride(0), 0 if scale is None else scale.stride(0),
            GRAD=grad, GRAD_PER_ROW=scale is not None, NORMALIZE=reduction == "mean",
            COMPUTE=compute_dtype(dtype), ROWS=rows, BLOCK=block,
            INDEX_64=needs_int64_indexing(logits), num_warps=num_warps,
        )  # fmt: skip
        if need_x:
            _launch_matmul_accumulate(logits, weight, grad_x[start:stop], accumulate=False, allow_tf32=allow_tf32)
        if need_weight or need_bias:
            _launch_matmul_accumulate(
                logits.t(), x_chunk, grad_weight, accumulate=start > 0, row_sum=grad_bias, allow_tf32=allow_tf32
            )
    if reduction == "none":
        loss = launch_unary("copy", row_loss, out=torch.empty(n_rows, dtype=dtype, device=device))
    else:
        loss = finish(row_loss, dtype, BY_WEIGHT if reduction == "mean" else SUM, denominator=total)
    if grad_weight is not None and grad_weight.dtype != dtype:
        grad_weight = launch_unary("copy", grad_weight, out=torch.empty(weight.shape, dtype=dtype, device=device))
    if grad_bias is not None and grad_bias.dtype != dtype:
        grad_bias = launch_unary("copy", grad_bias, out=torch.empty((n_classes,), dtype=dtype, device=device))
    return loss, grad_x, grad_weight, grad_bias
