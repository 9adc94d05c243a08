"""Per-channel normalization of an (N, C, *spatial) tensor: batch norm forward and backward.

A channel's values are the N * S elements x[n, c, s] (S = prod(spatial)); the kernels see the
input as a [M = N * S, C] matrix whose row index walks the reduced dims (N, *spatial) row-major
through ``strided_offset`` (coalesced, so a contiguous input has rank 2 there and a
channels-last one rank 1) and whose column index steps by the channel stride. Nothing is
copied, whatever the layout. A program owns a [BLOCK_R, BLOCK_C] tile: along the reduced axis
for NCHW inputs, across channels when the channel stride is 1 ((N, C) and channels-last).

Statistics come in two levels, so a few channels over many rows still fill a GPU:

1. ``channel_stats_kernel``: grid (chunks, channel blocks); a chunk of rows is folded tile by
   tile into (count, mean, M2) with Chan's parallel merge, each tile's own M2 taken about the
   tile's mean and every sum taken of x minus a pivot (the chunk's first value). No
   E[x^2] - E[x]^2: inputs with a mean of 1e4 and unit variance keep all their digits.
2. ``channel_normalize_kernel``: every program merges the few chunk partials of its channels
   (mean = sum n_k mean_k / M about the first chunk's mean, M2 = sum M2_k + sum n_k
   (mean_k - mean)^2), normalizes its tile
   and applies the affine map; the programs of the first row block also write the saved
   mean/invstd and update the running statistics (momentum, or the cumulative average
   1 / num_batches_tracked read on the device; the unbiased variance, as torch).

Backward mirrors it: ``channel_grad_sums_kernel`` takes per-chunk sums of grad and grad * xhat,
``channel_grad_input_kernel`` merges them, writes grad_weight/grad_bias (first row block) and
the input gradient. Group norm reuses the sums for its weight gradient (GROUPED: statistics
per (sample, group) instead of per channel), and instance norm's running statistics come from
``instance_running_stats_kernel``.

SyncBatchNorm: ``launch_channel_moments`` writes one rank's (count, mean, M2) per channel, the
caller all-reduces every rank's slot of a zeroed buffer, ``merge_moments_kernel`` merges them
into the global statistics, and the normalize kernel applies them (STATS_GIVEN); backward takes
the local sums (``sums_out``), all-reduced, back into ``channel_grad_input_kernel``.

Statistics and arithmetic are fp32 (fp64 for fp64 inputs); outputs have the input's dtype.
"""

from __future__ import annotations

import functools

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import bits_to_float, check_floating, compute_dtype, float_bits, needs_int64_indexing
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.strided import MAX_RANK, coalesce, strided_offset
from tritongrad.runtime import INTERPRETER_MAX_BLOCK, cdiv, is_interpreter, next_power_of_2

__all__ = [
    "launch_batch_norm_fwd",
    "launch_batch_norm_bwd",
    "launch_channel_grad_sums",
    "launch_instance_running_stats",
    "launch_channel_moments",
    "launch_merge_moments",
    "stats_dtype",
    "rsqrt_rounded",
]

# Elements of one program's tile: the interpreter amortises its per-op cost over big tiles; on a
# GPU 4K fp32 values stay in registers over 8 warps.
_GPU_TILE = 4096
# At most this many row chunks per channel block: every normalize program re-merges them.
_GPU_MAX_CHUNKS = 256
_INTERPRETER_MAX_CHUNKS = 16
# Enough programs in the statistics pass to keep every SM of a large GPU busy.
_GPU_TARGET_PROGRAMS = 1024


def stats_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype statistics are kept in for inputs of ``dtype``: float64 for float64, else float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


@triton.jit
def rsqrt_rounded(x):
    """1 / sqrt(x) with a correctly rounded square root (tl.sqrt is approximate for fp32 on a GPU)."""
    if x.dtype == tl.float64:
        root = tl.sqrt(x)
    else:
        root = tl.sqrt_rn(x)
    return 1.0 / root


@triton.jit
def _program_id(axis: tl.constexpr, INDEX_64: tl.constexpr):
    pid = tl.program_id(axis)
    if INDEX_64:
        pid = pid.to(tl.int64)
    return pid


@triton.jit
def _channel_block(pid, C, BLOCK_C: tl.constexpr, INDEX_64: tl.constexpr):
    channels = pid * BLOCK_C + tl.arange(0, BLOCK_C)
    if INDEX_64:
        channels = channels.to(tl.int64)
    return channels, channels < C


@triton.jit
def _row_block(first, BLOCK_R: tl.constexpr, INDEX_64: tl.constexpr):
    rows = tl.arange(0, BLOCK_R)
    if INDEX_64:
        rows = rows.to(tl.int64)
    return first + rows


@triton.jit
def _merged_partials(partial_ptr, second_partial_ptr, channels, in_channels, C, n_chunks,
                     CHUNKS: tl.constexpr):  # fmt: skip
    """The [CHUNKS, BLOCK_C] per-chunk partials of two quantities, zero past the last chunk."""
    chunks = tl.arange(0, CHUNKS)
    mask = (chunks < n_chunks)[:, None] & in_channels[None, :]
    offsets = chunks[:, None] * C + channels[None, :]
    first = tl.load(partial_ptr + offsets, mask=mask, other=0.0)
    second = tl.load(second_partial_ptr + offsets, mask=mask, other=0.0)
    return first, second, mask


# Per (chunk, channel): count, mean and M2 of the chunk's rows, folded tile by tile with Chan's
# merge. One program handles one chunk (tiles_per_chunk tiles of BLOCK_R rows) of BLOCK_C
# channels. Memory: one read of x; 2 * chunks * C partials written.
@triton.jit
def channel_stats_kernel(
    x_ptr, mean_partial_ptr, m2_partial_ptr,
    M, C, tiles_per_chunk,
    red_shape, x_red_strides, x_channel_stride,
    RANK: tl.constexpr, COMPUTE: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr,
    INDEX_64: tl.constexpr,
):  # fmt: skip
    chunk = _program_id(0, INDEX_64)
    channels, in_channels = _channel_block(tl.program_id(1), C, BLOCK_C, INDEX_64)
    channel_offsets = (channels * x_channel_stride)[None, :]
    first = chunk * tiles_per_chunk * BLOCK_R
    # Sums are taken of x - pivot, the chunk's first value per channel: with a large mean (1e4 with
    # unit spread) a plain fp32 sum of x would round away the digits the variance lives in.
    pivot_offsets = (
        strided_offset(_row_block(first, 1, INDEX_64), red_shape, x_red_strides, RANK)[:, None] + channel_offsets
    )
    pivot = tl.load(x_ptr + pivot_offsets, mask=in_channels[None, :], other=0.0).to(COMPUTE)
    count = tl.zeros([BLOCK_C], COMPUTE)
    mean = tl.zeros([BLOCK_C], COMPUTE)  # of x - pivot
    m2 = tl.zeros([BLOCK_C], COMPUTE)
    for tile in range(0, tiles_per_chunk):
        rows = _row_block(first + tile * BLOCK_R, BLOCK_R, INDEX_64)
        in_rows = rows < M
        mask = in_rows[:, None] & in_channels[None, :]
        offsets = strided_offset(rows, red_shape, x_red_strides, RANK)[:, None] + channel_offsets
        x = tl.where(mask, tl.load(x_ptr + offsets, mask=mask, other=0.0).to(COMPUTE) - pivot, 0.0)
        tile_count = tl.sum(in_rows.to(COMPUTE), axis=0)
        tile_mean = tl.sum(x, axis=0) / tl.maximum(tile_count, 1.0)
        deviation = tl.where(mask, x - tile_mean[None, :], 0.0)
        tile_m2 = tl.sum(deviation * deviation, axis=0)
        # Chan et al.: the merged M2 gains the spread between the two means, weighted n_a n_b / n.
        total = count + tile_count
        share = tile_count / tl.maximum(total, 1.0)
        delta = tile_mean - mean
        mean += delta * share
        m2 += tile_m2 + delta * delta * count * share
        count = total
    partial_offsets = chunk * C + channels
    tl.store(mean_partial_ptr + partial_offsets, tl.sum(pivot, axis=0) + mean, mask=in_channels)
    tl.store(m2_partial_ptr + partial_offsets, m2, mask=in_channels)


# Where the normalize kernel takes mean and invstd from.
STATS_BATCH = tl.constexpr(0)  # the merged chunk partials of this batch
STATS_RUNNING = tl.constexpr(1)  # the running statistics (eval)
STATS_GIVEN = tl.constexpr(2)  # save_mean/save_invstd, already computed (SyncBatchNorm)
STATS_TILE = tl.constexpr(3)  # this batch, all of whose rows are in the program's tile


@triton.jit
def _update_running(running_mean_ptr, running_var_ptr, batches_ptr, channels, in_channels, mean, unbiased_var,
                    momentum_bits, CUMULATIVE: tl.constexpr, COMPUTE: tl.constexpr):  # fmt: skip
    """running = factor * batch + (1 - factor) * running, factor = momentum or 1 / num_batches_tracked."""
    if CUMULATIVE:
        factor = 1.0 / tl.load(batches_ptr).to(COMPUTE)
    else:
        factor = bits_to_float(momentum_bits).to(COMPUTE)
    running_mean = tl.load(running_mean_ptr + channels, mask=in_channels, other=0.0).to(COMPUTE)
    running_var = tl.load(running_var_ptr + channels, mask=in_channels, other=0.0).to(COMPUTE)
    new_mean = factor * mean + (1.0 - factor) * running_mean
    new_var = factor * unbiased_var + (1.0 - factor) * running_var
    tl.store(running_mean_ptr + channels, new_mean.to(running_mean_ptr.dtype.element_ty), mask=in_channels)
    tl.store(running_var_ptr + channels, new_var.to(running_var_ptr.dtype.element_ty), mask=in_channels)


# y = (x - mean) * invstd * weight + bias per channel, mean/invstd as STATS says: from the merged
# chunk partials or, when the tile holds every row, from the tile itself (then the first row block
# also saves them and updates the running statistics), from the running statistics, or given. One
# program handles a [BLOCK_R, BLOCK_C] tile. Memory: one read of x, one write of y, plus chunks *
# BLOCK_C partials per program (STATS_BATCH).
@triton.jit(do_not_specialize=["eps_bits", "momentum_bits"])
def channel_normalize_kernel(
    x_ptr, out_ptr, weight_ptr, bias_ptr,
    mean_partial_ptr, m2_partial_ptr, running_mean_ptr, running_var_ptr, batches_ptr,
    save_mean_ptr, save_invstd_ptr,
    M, C, n_chunks, chunk_rows, eps_bits, momentum_bits,
    red_shape, x_red_strides, out_red_strides, x_channel_stride, out_channel_stride,
    STATS: tl.constexpr, UPDATE_RUNNING: tl.constexpr, CUMULATIVE: tl.constexpr,
    HAS_WEIGHT: tl.constexpr, HAS_BIAS: tl.constexpr, RANK: tl.constexpr, COMPUTE: tl.constexpr,
    CHUNKS: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    row_block = _program_id(0, INDEX_64)
    channels, in_channels = _channel_block(tl.program_id(1), C, BLOCK_C, INDEX_64)
    rows = _row_block(row_block * BLOCK_R, BLOCK_R, INDEX_64)
    mask = (rows < M)[:, None] & in_channels[None, :]
    x_offsets = strided_offset(rows, red_shape, x_red_strides, RANK)[:, None] + (channels * x_channel_stride)[None, :]
    x = tl.load(x_ptr + x_offsets, mask=mask, other=0.0).to(COMPUTE)
    eps = bits_to_float(eps_bits).to(COMPUTE)
    if STATS == STATS_BATCH or STATS == STATS_TILE:
        if STATS == STATS_TILE:
            # Two passes over the registers, about the first row's value (see channel_stats_kernel).
            count = M * 1.0
            pivot = tl.sum(tl.where((rows == 0)[:, None], x, 0.0), axis=0)
            mean = pivot + tl.sum(tl.where(mask, x - pivot[None, :], 0.0), axis=0) / count
            deviation = tl.where(mask, x - mean[None, :], 0.0)
            m2 = tl.sum(deviation * deviation, axis=0)
        else:
            chunk_mean, chunk_m2, partial_mask = _merged_partials(
                mean_partial_ptr, m2_partial_ptr, channels, in_channels, C, n_chunks, CHUNKS
            )
            chunk_start = tl.arange(0, CHUNKS)[:, None] * chunk_rows
            chunk_count = tl.minimum(tl.maximum(M - chunk_start, 0), chunk_rows).to(COMPUTE)
            count = tl.sum(chunk_count + tl.zeros([CHUNKS, BLOCK_C], COMPUTE), axis=0)
            # Averaged about the first chunk's mean, for the same reason the chunks used a pivot.
            reference = tl.sum(tl.where(chunk_start == 0, chunk_mean, 0.0), axis=0)
            shifted = tl.where(partial_mask, chunk_mean - reference[None, :], 0.0)
            mean = reference + tl.sum(chunk_count * shifted, axis=0) / count
            spread = tl.where(partial_mask, chunk_mean - mean[None, :], 0.0)
            m2 = tl.sum(chunk_m2, axis=0) + tl.sum(chunk_count * spread * spread, axis=0)
        invstd = rsqrt_rounded(m2 / count + eps)
        if row_block == 0:
            tl.store(save_mean_ptr + channels, mean, mask=in_channels)
            tl.store(save_invstd_ptr + channels, invstd, mask=in_channels)
            if UPDATE_RUNNING:
                _update_running(running_mean_ptr, running_var_ptr, batches_ptr, channels, in_channels, mean,
                                m2 / (count - 1.0), momentum_bits, CUMULATIVE, COMPUTE)  # fmt: skip
    elif STATS == STATS_GIVEN:
        mean = tl.load(save_mean_ptr + channels, mask=in_channels, other=0.0)
        invstd = tl.load(save_invstd_ptr + channels, mask=in_channels, other=0.0)
    else:
        mean = tl.load(running_mean_ptr + channels, mask=in_channels, other=0.0).to(COMPUTE)
        invstd = rsqrt_rounded(tl.load(running_var_ptr + channels, mask=in_channels, other=1.0).to(COMPUTE) + eps)
        if row_block == 0:
            tl.store(save_mean_ptr + channels, mean, mask=in_channels)
            tl.store(save_invstd_ptr + channels, invstd, mask=in_channels)
    scale = invstd
    if HAS_WEIGHT:
        scale = scale * tl.load(weight_ptr + channels, mask=in_channels, other=0.0).to(COMPUTE)
    shift = tl.zeros([BLOCK_C], COMPUTE)
    if HAS_BIAS:
        shift = tl.load(bias_ptr + channels, mask=in_channels, other=0.0).to(COMPUTE)
    y = (x - mean[None, :]) * scale[None, :] + shift[None, :]
    out_offsets = (
        strided_offset(rows, red_shape, out_red_strides, RANK)[:, None] + (channels * out_channel_stride)[None, :]
    )
    tl.store(out_ptr + out_offsets, y.to(out_ptr.dtype.element_ty), mask=mask)


# Per (chunk, channel): sum of grad and of grad * xhat over the chunk's rows, xhat = (x - mean) *
# invstd with statistics per channel, or per (sample, group) when GROUPED (group norm: sample
# n = row // spatial, group = channel // channels_per_group). One program handles one chunk of
# BLOCK_C channels. Memory: one read of grad and x; 2 * chunks * C partials written.
@triton.jit
def channel_grad_sums_kernel(
    grad_ptr, x_ptr, mean_ptr, invstd_ptr, grad_partial_ptr, dot_partial_ptr,
    M, C, tiles_per_chunk, spatial, groups, channels_per_group,
    red_shape, grad_red_strides, x_red_strides, grad_channel_stride, x_channel_stride,
    GROUPED: tl.constexpr, RANK: tl.constexpr, COMPUTE: tl.constexpr,
    BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    chunk = _program_id(0, INDEX_64)
    channels, in_channels = _channel_block(tl.program_id(1), C, BLOCK_C, INDEX_64)
    if not GROUPED:
        channel_mean = tl.load(mean_ptr + channels, mask=in_channels, other=0.0)[None, :]
        channel_invstd = tl.load(invstd_ptr + channels, mask=in_channels, other=0.0)[None, :]
    sum_grad = tl.zeros([BLOCK_C], COMPUTE)
    sum_dot = tl.zeros([BLOCK_C], COMPUTE)
    first = chunk * tiles_per_chunk * BLOCK_R
    for tile in range(0, tiles_per_chunk):
        rows = _row_block(first + tile * BLOCK_R, BLOCK_R, INDEX_64)
        mask = (rows < M)[:, None] & in_channels[None, :]
        grad_offsets = (
            strided_offset(rows, red_shape, grad_red_strides, RANK)[:, None] + (channels * grad_channel_stride)[None, :]
        )
        x_offsets = (
            strided_offset(rows, red_shape, x_red_strides, RANK)[:, None] + (channels * x_channel_stride)[None, :]
        )
        g = tl.load(grad_ptr + grad_offsets, mask=mask, other=0.0).to(COMPUTE)
        x = tl.load(x_ptr + x_offsets, mask=mask, other=0.0).to(COMPUTE)
        if GROUPED:
            stat = (rows // spatial)[:, None] * groups + (channels // channels_per_group)[None, :]
            mean = tl.load(mean_ptr + stat, mask=mask, other=0.0)
            invstd = tl.load(invstd_ptr + stat, mask=mask, other=0.0)
        else:
            mean = channel_mean
            invstd = channel_invstd
        x_hat = (x - mean) * invstd
        sum_grad += tl.sum(g, axis=0)
        sum_dot += tl.sum(tl.where(mask, g * x_hat, 0.0), axis=0)
    partial_offsets = chunk * C + channels
    tl.store(grad_partial_ptr + partial_offsets, sum_grad, mask=in_channels)
    tl.store(dot_partial_ptr + partial_offsets, sum_dot, mask=in_channels)


# Per channel, the sums (sum_g, sum_gx) merged from the chunk partials (HAS_SUMS) or, when the
# tile holds every row, taken from the tile itself (SUMS_FROM_TILE); then grad_weight = sum_gx and
# grad_bias = sum_g (first row block), and grad_input = weight * invstd * (g - (sum_g + xhat *
# sum_gx) / count) in training (g * weight * invstd in eval) for a [BLOCK_R, BLOCK_C] tile.
# Memory: one read of grad and x (training; grad only in eval), one write of grad_input.
@triton.jit
def channel_grad_input_kernel(
    grad_ptr, x_ptr, grad_input_ptr, weight_ptr, mean_ptr, invstd_ptr,
    grad_partial_ptr, dot_partial_ptr, grad_weight_ptr, grad_bias_ptr, count_ptr,
    M, C, n_chunks, count,
    red_shape, grad_red_strides, x_red_strides, grad_input_red_strides,
    grad_channel_stride, x_channel_stride, grad_input_channel_stride,
    TRAINING: tl.constexpr, HAS_SUMS: tl.constexpr, SUMS_FROM_TILE: tl.constexpr, HAS_WEIGHT: tl.constexpr,
    NEED_INPUT: tl.constexpr, NEED_WEIGHT: tl.constexpr, NEED_BIAS: tl.constexpr,
    COUNT_FROM_POINTER: tl.constexpr, RANK: tl.constexpr, COMPUTE: tl.constexpr,
    CHUNKS: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    row_block = _program_id(0, INDEX_64)
    channels, in_channels = _channel_block(tl.program_id(1), C, BLOCK_C, INDEX_64)
    rows = _row_block(row_block * BLOCK_R, BLOCK_R, INDEX_64)
    mask = (rows < M)[:, None] & in_channels[None, :]
    if NEED_INPUT or SUMS_FROM_TILE:
        # (Not for group norm's weight gradients, whose statistics are per (sample, group).)
        mean = tl.load(mean_ptr + channels, mask=in_channels, other=0.0)
        invstd = tl.load(invstd_ptr + channels, mask=in_channels, other=0.0)
        grad_offsets = (
            strided_offset(rows, red_shape, grad_red_strides, RANK)[:, None] + (channels * grad_channel_stride)[None, :]
        )
        g = tl.load(grad_ptr + grad_offsets, mask=mask, other=0.0).to(COMPUTE)
        if TRAINING or SUMS_FROM_TILE:
            x_offsets = (
                strided_offset(rows, red_shape, x_red_strides, RANK)[:, None] + (channels * x_channel_stride)[None, :]
            )
            x = tl.load(x_ptr + x_offsets, mask=mask, other=0.0).to(COMPUTE)
            x_hat = tl.where(mask, (x - mean[None, :]) * invstd[None, :], 0.0)
    if HAS_SUMS or SUMS_FROM_TILE:
        if SUMS_FROM_TILE:
            sum_grad = tl.sum(g, axis=0)
            sum_dot = tl.sum(g * x_hat, axis=0)
        else:
            chunk_grad, chunk_dot, _ = _merged_partials(
                grad_partial_ptr, dot_partial_ptr, channels, in_channels, C, n_chunks, CHUNKS
            )
            sum_grad = tl.sum(chunk_grad, axis=0)
            sum_dot = tl.sum(chunk_dot, axis=0)
        if row_block == 0:
            if NEED_WEIGHT:
                tl.store(grad_weight_ptr + channels, sum_dot.to(grad_weight_ptr.dtype.element_ty), mask=in_channels)
            if NEED_BIAS:
                tl.store(grad_bias_ptr + channels, sum_grad.to(grad_bias_ptr.dtype.element_ty), mask=in_channels)
    if NEED_INPUT:
        scale = invstd
        if HAS_WEIGHT:
            scale = scale * tl.load(weight_ptr + channels, mask=in_channels, other=0.0).to(COMPUTE)
        if TRAINING:
            if COUNT_FROM_POINTER:  # SyncBatchNorm: the global count, on the device
                count = tl.load(count_ptr + channels, mask=in_channels, other=1.0)[None, :]
            grad_input = (g - (sum_grad[None, :] + x_hat * sum_dot[None, :]) / count) * scale[None, :]
        else:
            grad_input = g * scale[None, :]
        grad_input_offsets = (
            strided_offset(rows, red_shape, grad_input_red_strides, RANK)[:, None]
            + (channels * grad_input_channel_stride)[None, :]
        )
        tl.store(grad_input_ptr + grad_input_offsets, grad_input.to(grad_input_ptr.dtype.element_ty), mask=mask)


# Instance norm's running statistics: the batch mean over samples of each (sample, channel)'s
# mean and unbiased variance, folded into the running buffers with ``momentum`` (torch's rule).
# One program handles BLOCK_C channels, looping over samples. Memory: 2 * N * C statistics read.
@triton.jit(do_not_specialize=["unbias_bits", "momentum_bits"])
def instance_running_stats_kernel(
    mean_ptr, var_ptr, running_mean_ptr, running_var_ptr,
    N, C, unbias_bits, momentum_bits,
    COMPUTE: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_C: tl.constexpr,
):  # fmt: skip
    channels, in_channels = _channel_block(tl.program_id(0), C, BLOCK_C, False)
    sum_mean = tl.zeros([BLOCK_N, BLOCK_C], COMPUTE)
    sum_var = tl.zeros([BLOCK_N, BLOCK_C], COMPUTE)
    for start in range(0, N, BLOCK_N):
        samples = start + tl.arange(0, BLOCK_N)
        mask = (samples < N)[:, None] & in_channels[None, :]
        offsets = samples[:, None] * C + channels[None, :]
        sum_mean += tl.load(mean_ptr + offsets, mask=mask, other=0.0)
        sum_var += tl.load(var_ptr + offsets, mask=mask, other=0.0)
    factor = bits_to_float(momentum_bits).to(COMPUTE)
    batch_mean = tl.sum(sum_mean, axis=0) / N
    batch_var = tl.sum(sum_var, axis=0) / N * bits_to_float(unbias_bits).to(COMPUTE)
    running_mean = tl.load(running_mean_ptr + channels, mask=in_channels, other=0.0).to(COMPUTE)
    running_var = tl.load(running_var_ptr + channels, mask=in_channels, other=0.0).to(COMPUTE)
    new_mean = factor * batch_mean + (1.0 - factor) * running_mean
    new_var = factor * batch_var + (1.0 - factor) * running_var
    tl.store(running_mean_ptr + channels, new_mean.to(running_mean_ptr.dtype.element_ty), mask=in_channels)
    tl.store(running_var_ptr + channels, new_var.to(running_var_ptr.dtype.element_ty), mask=in_channels)


# SyncBatchNorm: every rank's (count, mean, M2) per channel, gathered as [R, 3, C], merged with
# Chan's formula (about the first rank's mean) into the global mean and invstd; the running
# statistics get the global unbiased variance. One program handles BLOCK_C channels.
@triton.jit(do_not_specialize=["eps_bits", "momentum_bits"])
def merge_moments_kernel(
    moments_ptr, save_mean_ptr, save_invstd_ptr, count_ptr, running_mean_ptr, running_var_ptr, batches_ptr,
    R, C, eps_bits, momentum_bits,
    UPDATE_RUNNING: tl.constexpr, CUMULATIVE: tl.constexpr, COMPUTE: tl.constexpr,
    SOURCES: tl.constexpr, BLOCK_C: tl.constexpr,
):  # fmt: skip
    channels, in_channels = _channel_block(tl.program_id(0), C, BLOCK_C, False)
    sources = tl.arange(0, SOURCES)
    mask = (sources < R)[:, None] & in_channels[None, :]
    offsets = sources[:, None] * (3 * C) + channels[None, :]
    count = tl.load(moments_ptr + offsets, mask=mask, other=0.0)
    source_mean = tl.load(moments_ptr + C + offsets, mask=mask, other=0.0)
    source_m2 = tl.load(moments_ptr + 2 * C + offsets, mask=mask, other=0.0)
    total = tl.sum(count, axis=0)
    reference = tl.sum(tl.where((sources == 0)[:, None], source_mean, 0.0), axis=0)
    mean = reference + tl.sum(count * tl.where(mask, source_mean - reference[None, :], 0.0), axis=0) / total
    spread = tl.where(mask, source_mean - mean[None, :], 0.0)
    m2 = tl.sum(source_m2, axis=0) + tl.sum(count * spread * spread, axis=0)
    invstd = rsqrt_rounded(m2 / total + bits_to_float(eps_bits).to(COMPUTE))
    tl.store(save_mean_ptr + channels, mean, mask=in_channels)
    tl.store(save_invstd_ptr + channels, invstd, mask=in_channels)
    tl.store(count_ptr + channels, total, mask=in_channels)
    if UPDATE_RUNNING:
        _update_running(running_mean_ptr, running_var_ptr, batches_ptr, channels, in_channels, mean,
                        m2 / (total - 1.0), momentum_bits, CUMULATIVE, COMPUTE)  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Launchers
# ----------------------------------------------------------------------------------------------


def _plan(tensors: list[torch.Tensor], tile: int | None = None, single_chunk: bool = False) -> _Plan:
    """The launch plan of these (N, C, *spatial) tensors, made once per distinct shape, strides and
    dtype (a training step repeats the same few)."""
    x = tensors[0]
    strides = tuple(t.stride() for t in tensors)
    return _cached_plan(tuple(x.shape), strides, x.dtype, needs_int64_indexing(*tensors), tile, single_chunk)


@functools.lru_cache(maxsize=1024)
def _cached_plan(shape, strides, dtype, index_64, tile, single_chunk) -> _Plan:
    return _Plan(shape, strides, dtype, index_64, tile, single_chunk)


class _Plan:
    """How a launch walks an (N, C, *spatial) tensor: the coalesced reduced dims, tiles and chunks.

    Shared between launches (cached): read-only once made."""

    def __init__(self, shape: tuple[int, ...], strides: tuple[tuple[int, ...], ...], dtype: torch.dtype,
                 index_64: bool, tile: int | None, single_chunk: bool) -> None:  # fmt: skip
        self.C = shape[1]
        numel = 1
        for size in shape:
            numel *= size
        self.M = numel // self.C if self.C else 0
        reduced = [d for d in range(len(shape)) if d != 1]
        red_shape, red_strides = coalesce([shape[d] for d in reduced], [[s[d] for d in reduced] for s in strides])
        if len(red_shape) > MAX_RANK:
            raise NotImplementedError(
                f"batch norm: an input of shape {list(shape)} has more than {MAX_RANK} non-mergeable reduced dims"
            )
        self.red_shape = tuple(red_shape)
        self.red_strides = tuple(tuple(s) for s in red_strides)
        self.channel_strides = tuple(s[1] for s in strides)
        self.rank = len(red_shape)
        self.index_64 = index_64
        self.compute = compute_dtype(dtype)
        M, C = max(self.M, 1), max(self.C, 1)
        if is_interpreter():
            tile = tile or INTERPRETER_MAX_BLOCK
            self.block_r = min(next_power_of_2(M), tile)
            self.block_c = min(next_power_of_2(C), max(1, tile // self.block_r))
            max_chunks = _INTERPRETER_MAX_CHUNKS
        else:
            tile = tile or _GPU_TILE
            # Channels side by side when they are adjacent in memory, else a column of rows.
            self.block_c = min(next_power_of_2(C), 64) if strides[0][1] == 1 else 1
            self.block_r = min(next_power_of_2(M), max(1, tile // self.block_c))
            max_chunks = _GPU_MAX_CHUNKS
        self.channel_blocks = cdiv(C, self.block_c)
        self.row_blocks = cdiv(M, self.block_r)
        wanted = 1 if single_chunk else max(1, min(max_chunks, cdiv(_GPU_TARGET_PROGRAMS, self.channel_blocks)))
        self.tiles_per_chunk = cdiv(self.row_blocks, min(self.row_blocks, wanted))
        self.chunks = cdiv(self.row_blocks, self.tiles_per_chunk)
        self.chunk_rows = self.tiles_per_chunk * self.block_r
        self.num_warps = 8 if self.block_r * self.block_c >= 4096 else 4

    def partials(self, device) -> tuple[torch.Tensor, torch.Tensor]:
        buffer = torch.empty((2, self.chunks, self.C), dtype=_torch_compute(self.compute), device=device)
        return buffer[0], buffer[1]


def _torch_compute(compute: tl.dtype) -> torch.dtype:
    return torch.float64 if compute == tl.float64 else torch.float32


def _check_channels(name: str, x: torch.Tensor) -> None:
    check_floating(name, x)
    if x.dim() < 2:
        raise ValueError(f"{name}: expected an input of shape (N, C, *), got shape {list(x.shape)}")


def launch_batch_norm_fwd(
    x: torch.Tensor,
    weight: torch.Tensor | None,
    bias: torch.Tensor | None,
    running_mean: torch.Tensor | None,
    running_var: torch.Tensor | None,
    training: bool,
    momentum: float | None,
    eps: float,
    num_batches_tracked: torch.Tensor | None = None,
    tile: int | None = None,
    stats: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch norm of ``x`` (N, C, *spatial), any strides: returns (out, save_mean, save_invstd).

    ``weight``/``bias``/``running_*`` are (C,) contiguous or None. ``training`` normalizes with
    the batch statistics and, if ``running_mean``/``running_var`` are given, updates them in
    place: ``momentum`` a float for an exponential average, or None for the cumulative average
    1 / ``num_batches_tracked`` (a 0-d int64 tensor read on the device, already incremented).
    Otherwise the running statistics are used. ``save_mean``/``save_invstd`` are (C,) in float32
    (float64 for float64 ``x``). ``out`` has ``x``'s dtype and layout when ``x`` is dense.
    ``tile`` caps the elements of one program's tile (tests use it to force several chunks).
    ``stats``: (mean, invstd) computed elsewhere (SyncBatchNorm's global statistics), returned
    as the saved ones; the running statistics are then left alone.
    """
    _check_channels("batch_norm", x)
    out = torch.empty_like(x)
    C = x.shape[1]
    if stats is None:
        save_mean = torch.empty((C,), dtype=stats_dtype(x.dtype), device=x.device)
        save_invstd = torch.empty((C,), dtype=stats_dtype(x.dtype), device=x.device)
        mode = STATS_BATCH.value if training else STATS_RUNNING.value
    else:
        (save_mean, save_invstd), mode = stats, STATS_GIVEN.value
    if x.numel() == 0:
        return out, save_mean, save_invstd
    plan = _plan([x, out], tile)
    if mode == STATS_BATCH.value and plan.row_blocks == 1:
        mode = STATS_TILE.value  # one program per channel block sees every row: one launch, one read
    mean_partial, m2_partial = plan.partials(x.device)
    if mode == STATS_BATCH.value:
        # One program folds one chunk of rows of BLOCK_C channels.
        channel_stats_kernel[(plan.chunks, plan.channel_blocks)](
            x, mean_partial, m2_partial,
            plan.M, plan.C, plan.tiles_per_chunk,
            plan.red_shape, plan.red_strides[0], plan.channel_strides[0],
            RANK=plan.rank, COMPUTE=plan.compute, BLOCK_R=plan.block_r, BLOCK_C=plan.block_c,
            INDEX_64=plan.index_64, num_warps=plan.num_warps,
        )  # fmt: skip
    update = mode in (STATS_BATCH.value, STATS_TILE.value) and running_mean is not None
    dummy = save_mean
    # One program normalizes a [BLOCK_R, BLOCK_C] tile.
    channel_normalize_kernel[(plan.row_blocks, plan.channel_blocks)](
        x, out, dummy if weight is None else weight, dummy if bias is None else bias,
        mean_partial, m2_partial,
        dummy if running_mean is None else running_mean, dummy if running_var is None else running_var,
        dummy if num_batches_tracked is None else num_batches_tracked,
        save_mean, save_invstd,
        plan.M, plan.C, plan.chunks, plan.chunk_rows, float_bits(eps), float_bits(momentum or 0.0),
        plan.red_shape, *plan.red_strides, *plan.channel_strides,
        STATS=mode, UPDATE_RUNNING=update, CUMULATIVE=momentum is None,
        HAS_WEIGHT=weight is not None, HAS_BIAS=bias is not None, RANK=plan.rank, COMPUTE=plan.compute,
        CHUNKS=next_power_of_2(plan.chunks), BLOCK_R=plan.block_r, BLOCK_C=plan.block_c,
        INDEX_64=plan.index_64, num_warps=plan.num_warps,
    )  # fmt: skip
    return out, save_mean, save_invstd


def launch_channel_grad_sums(
    grad: torch.Tensor,
    x: torch.Tensor,
    mean: torch.Tensor,
    invstd: torch.Tensor,
    groups: int = 0,
    tile: int | None = None,
) -> tuple[_Plan, torch.Tensor, torch.Tensor]:
    """Per-chunk sums of ``grad`` and ``grad * xhat`` per channel of (N, C, *spatial) tensors.

    ``mean``/``invstd`` are (C,), or (N * groups,) per (sample, group) when ``groups`` > 0 (group
    norm). Returns the plan and the two (chunks, C) partial-sum buffers that
    ``launch_batch_norm_bwd`` merges.
    """
    plan = _plan([grad, x], tile)
    grad_partial, dot_partial = plan.partials(x.device)
    spatial = plan.M // max(x.shape[0], 1)
    # One program sums one chunk of rows of BLOCK_C channels.
    channel_grad_sums_kernel[(plan.chunks, plan.channel_blocks)](
        grad, x, mean, invstd, grad_partial, dot_partial,
        plan.M, plan.C, plan.tiles_per_chunk, max(spatial, 1), groups, plan.C // max(groups, 1),
        plan.red_shape, *plan.red_strides, *plan.channel_strides,
        GROUPED=groups > 0, RANK=plan.rank, COMPUTE=plan.compute, BLOCK_R=plan.block_r, BLOCK_C=plan.block_c,
        INDEX_64=plan.index_64, num_warps=plan.num_warps,
    )  # fmt: skip
    return plan, grad_partial, dot_partial


def launch_batch_norm_bwd(
    grad: torch.Tensor,
    x: torch.Tensor,
    weight: torch.Tensor | None,
    mean: torch.Tensor,
    invstd: torch.Tensor,
    training: bool,
    needs_input_grad: tuple[bool, bool, bool],
    groups: int = 0,
    weight_dtype: torch.dtype | None = None,
    tile: int | None = None,
    sums_out: torch.Tensor | None = None,
    sums: tuple[torch.Tensor, torch.Tensor] | None = None,
    count: int | torch.Tensor | None = None,
) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
    """(grad_input, grad_weight, grad_bias) of batch norm, each None unless asked for.

    ``grad`` and ``x`` are (N, C, *spatial), any strides; ``mean``/``invstd`` what the forward
    saved. With ``groups`` > 0 only grad_weight/grad_bias are computed, from statistics per
    (sample, group) (group norm's affine gradients). They have ``weight_dtype`` (default: the
    weight's, else the input's).

    SyncBatchNorm's two halves: ``sums_out`` (2, C) receives the per-channel sums (grad * xhat,
    grad) in the statistics dtype in place of grad_weight/grad_bias; ``sums`` gives those sums
    (all-reduced over ranks) and ``count`` the number of values per channel they cover (an int,
    or a (C,) tensor in the statistics dtype).
    """
    need_input, need_weight, need_bias = needs_input_grad
    need_input = need_input and groups == 0
    C = x.shape[1]
    param_dtype = weight_dtype or (weight.dtype if weight is not None else x.dtype)
    grad_input = torch.empty_like(x) if need_input else None
    if sums_out is not None:
        grad_weight, grad_bias = (sums_out[0] if need_weight else None), (sums_out[1] if need_bias else None)
    else:
        grad_weight = torch.empty((C,), dtype=param_dtype, device=x.device) if need_weight else None
        grad_bias = torch.empty((C,), dtype=param_dtype, device=x.device) if need_bias else None
    if x.numel() == 0:
        for buffer in (grad_weight, grad_bias):
            if buffer is not None:
                launch_fill_(buffer, 0)
        return grad_input, grad_weight, grad_bias
    plan = _plan([grad, x, grad if grad_input is None else grad_input], tile)
    has_sums = need_weight or need_bias or (need_input and training)
    # Every row in one tile: the program takes the sums from the tile it loads (one launch).
    sums_from_tile = has_sums and sums is None and groups == 0 and plan.row_blocks == 1
    chunks = 1
    grad_partial = dot_partial = mean
    if sums is not None:
        (dot_partial, grad_partial), has_sums = sums, True
    elif has_sums and not sums_from_tile:
        sums_plan, grad_partial, dot_partial = launch_channel_grad_sums(grad, x, mean, invstd, groups, tile)
        chunks = sums_plan.chunks
    else:
        has_sums = False
    dummy = mean
    # One program computes a [BLOCK_R, BLOCK_C] tile of grad_input; without it, one program per
    # channel block only merges the sums into grad_weight/grad_bias.
    grid = (plan.row_blocks if need_input else 1, plan.channel_blocks)
    channel_grad_input_kernel[grid](
        grad, x, dummy if grad_input is None else grad_input, dummy if weight is None else weight, mean, invstd,
        grad_partial, dot_partial,
        dummy if grad_weight is None else grad_weight, dummy if grad_bias is None else grad_bias,
        count if isinstance(count, torch.Tensor) else dummy,
        plan.M, plan.C, chunks, count if isinstance(count, int) else plan.M,
        plan.red_shape, *plan.red_strides, *plan.channel_strides,
        TRAINING=training, HAS_SUMS=has_sums, SUMS_FROM_TILE=sums_from_tile, HAS_WEIGHT=weight is not None,
        NEED_INPUT=need_input,
        NEED_WEIGHT=need_weight, NEED_BIAS=need_bias, COUNT_FROM_POINTER=isinstance(count, torch.Tensor),
        RANK=plan.rank, COMPUTE=plan.compute,
        CHUNKS=next_power_of_2(chunks), BLOCK_R=plan.block_r, BLOCK_C=plan.block_c,
        INDEX_64=plan.index_64, num_warps=plan.num_warps,
    )  # fmt: skip
    return grad_input, grad_weight, grad_bias


def launch_instance_running_stats(
    mean: torch.Tensor,
    var: torch.Tensor,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    spatial: int,
    momentum: float,
) -> None:
    """Updates ``running_mean``/``running_var`` (C,) in place from per-(sample, channel) ``mean`` and
    biased ``var`` (N * C,): the sample average of each, the variance made unbiased over
    ``spatial`` elements, folded in with ``momentum``."""
    C = running_mean.numel()
    N = mean.numel() // max(C, 1)
    if N == 0 or C == 0:
        return
    block_c = min(next_power_of_2(C), 64)
    block_n = min(next_power_of_2(N), max(1, (INTERPRETER_MAX_BLOCK if is_interpreter() else _GPU_TILE) // block_c))
    # One program updates BLOCK_C channels.
    instance_running_stats_kernel[(cdiv(C, block_c),)](
        mean, var, running_mean, running_var,
        N, C, float_bits(spatial / (spatial - 1)), float_bits(momentum),
        COMPUTE=compute_dtype(mean.dtype), BLOCK_N=block_n, BLOCK_C=block_c,
    )  # fmt: skip


def launch_channel_moments(x: torch.Tensor, out: torch.Tensor) -> None:
    """Writes (count, mean, M2) per channel of ``x`` (N, C, *spatial) into ``out`` (3, C), contiguous
    rows in the statistics dtype: one rank's share of SyncBatchNorm's statistics."""
    _check_channels("sync_batch_norm", x)
    plan = _plan([x], single_chunk=True)
    launch_fill_(out[0], plan.M)
    if x.numel() == 0:
        launch_fill_(out[1:], 0)
        return
    # One program folds all rows of BLOCK_C channels (a single chunk: the result is final).
    channel_stats_kernel[(1, plan.channel_blocks)](
        x, out[1], out[2],
        plan.M, plan.C, plan.tiles_per_chunk,
        plan.red_shape, plan.red_strides[0], plan.channel_strides[0],
        RANK=plan.rank, COMPUTE=plan.compute, BLOCK_R=plan.block_r, BLOCK_C=plan.block_c,
        INDEX_64=plan.index_64, num_warps=plan.num_warps,
    )  # fmt: skip


def launch_merge_moments(
    moments: torch.Tensor,
    running_mean: torch.Tensor | None,
    running_var: torch.Tensor | None,
    momentum: float | None,
    eps: float,
    num_batches_tracked: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mean, invstd, count) per channel of the union of R sets, from their (count, mean, M2) in
    ``moments`` (R, 3, C) contiguous; updates the running statistics in place as the batch norm
    forward does (``momentum=None``: 1 / ``num_batches_tracked``)."""
    R, _, C = moments.shape
    merged = torch.empty((3, C), dtype=moments.dtype, device=moments.device)
    mean, invstd, count = merged[0], merged[1], merged[2]
    block_c = min(next_power_of_2(C), 128)
    # One program merges the R ranks' moments of BLOCK_C channels.
    merge_moments_kernel[(cdiv(C, block_c),)](
        moments, mean, invstd, count,
        mean if running_mean is None else running_mean, mean if running_var is None else running_var,
        mean if num_batches_tracked is None else num_batches_tracked,
        R, C, float_bits(eps), float_bits(momentum or 0.0),
        UPDATE_RUNNING=running_mean is not None, CUMULATIVE=momentum is None,
        COMPUTE=compute_dtype(moments.dtype), SOURCES=next_power_of_2(R), BLOCK_C=block_c,
    )  # fmt: skip
    return mean, invstd, count
