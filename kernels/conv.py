"""2-D convolution as an implicit GEMM: forward, input gradient (= transposed convolution) and weight gradient.

A convolution is a matrix product whose operands are never built. With
``Cg = C / groups`` and ``OCg = OC / groups``, one group of the forward is

    out[(n, oh, ow), oc] = sum over k = (c, kh, kw) of  A[(n, oh, ow), k] * B[k, oc]
    A[(n, oh, ow), (c, kh, kw)] = x[n, c, oh * sh - ph + kh * dh, ow * sw - pw + kw * dw]  (0 outside)
    B[(c, kh, kw), oc]          = w[oc, c, kh, kw]

so M = N * OH * OW, N = OCg and K = Cg * KH * KW. The kernels below tile that
product exactly as kernels/matmul.py tiles a matmul (one BLOCK_M x BLOCK_N
tile of the result per program, an fp32 -- fp64 for fp64 -- accumulator in
registers, ``tl.dot`` on BLOCK_M x BLOCK_K and BLOCK_K x BLOCK_N tiles), but
the A tile is gathered from the input through its four strides, the
(n, oh, ow) x (c, kh, kw) tile indices turned into addresses and padding
turned into masks. No im2col buffer is ever written: x is read in place
(any strides: NCHW, channels_last, a transposed or sliced view) and the
extra traffic of the reuse (each input element belongs to up to KH * KW
rows of A) is absorbed by L1/L2, the tile of x a program reads being a
small window of the input.

The three kernels
-----------------
* ``conv2d_forward_kernel``: the product above, bias added in the epilogue.
* ``conv2d_input_grad_kernel``: grad_x = the transposed convolution of grad_out,
  the same product with grad_out as the gathered operand: for an input
  position (h, w), t = h + ph - kh * dh must be a multiple of sh and t / sh a
  valid output row. It is also ConvTranspose2d's forward.
* ``conv2d_weight_grad_kernel``: grad_w[oc, (c, kh, kw)] = sum over (n, oh, ow)
  of grad_out[n, oc, oh, ow] * A[(n, oh, ow), (c, kh, kw)]: a product whose
  long reduction (N * OH * OW) can be split over programs (``split_k``) that
  write fp32 partial sums, added by one reduction launch.

Two orders of the K loop
------------------------
* "taps" (GPU default): one loop over (kernel tap, BLOCK_K channel block)
  pairs, the tap outer. The tap is a scalar per step, so the input position
  and its padding mask are computed once per row, not per element, and a
  tile of A is BLOCK_K channels of BLOCK_M pixels. One flat loop of
  KH * KW * ceil(Cg / BLOCK_K) steps is what the software pipeliner can
  prefetch. The transposed kernel visits only the taps that reach its rows
  (see "phases").
* "flat": one loop over k = (c, kh, kw), each element decoding its own tap.
  Fewer, fuller iterations when Cg is small (a first layer with 3 channels,
  depthwise groups) and always in the interpreter, where each loop iteration
  costs ~20 numpy calls whatever the tile size.

Phases of the transposed convolution
------------------------------------
With stride s, input row h receives contributions only from taps kh with
(h + ph - kh * dh) % s == 0, which depends on h % s alone. The input-gradient
kernel therefore gives each program rows of one phase (h % sh, w % sw), grid
axis 1 running over groups x phases; in "taps" order a program visits only
its live taps (every s / gcd(s, dh) from the first), so the masked-out
1 - 1/(sh*sw) of the work is never done, and each quotient is the row's index
within the phase plus one scalar.

Layouts
-------
Every operand is read through its strides, so any layout works; the fast one
on a GPU is channels_last (NHWC). There a tile's BLOCK_K channels are
contiguous in memory for x, grad_out and w (when they are channels_last too),
giving 128-bit loads that the pipeliner stages with cp.async, and the result,
allocated channels_last like torch's, is stored 128 bits at a time (AOT
report: no spills, 64-124 registers). NCHW tiles are gathered element by
element (16-bit loads for half types, no cp.async), correct but slower.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import triton
import triton.language as tl

from tritongrad import runtime
from tritongrad.kernels.common import check_floating, check_same_device, compute_dtype, needs_int64_indexing
from tritongrad.kernels.reduce import launch_sum
from tritongrad.runtime import cdiv

__all__ = [
    "conv2d_output_size",
    "launch_conv2d",
    "launch_conv2d_input_grad",
    "launch_conv2d_weight_grad",
]

Pair = tuple[int, int]

# GPU tiles: 64x64 output tiles over 4 warps (one wgmma warp group on Hopper, 2x2 mma.sync warps
# on Ampere) with 32-deep K steps in 3 pipeline stages: 24 KiB of shared memory for fp16, so several
# programs share an SM. Convolutions rarely have the M and N of a large matmul in every layer,
# and a fixed modest tile keeps enough programs in flight for the 7x7 / 14x14 late layers.
_GPU_BLOCK_M, _GPU_BLOCK_N, _GPU_BLOCK_K = 64, 64, 32
_GPU_NUM_WARPS, _GPU_NUM_STAGES = 4, 3
# The interpreter pays ~50-100 us per tl op and program whatever the tile size, so its tiles are as
# large as numpy handles well: 128 along the channel dims and, along the long dim (pixels, or the
# weight gradient's reduction), as many as keep a tile within INTERPRETER_MAX_BLOCK elements.
_INTERPRETER_BLOCK = 128
# tl.dot needs every tile dim >= 16.
_MIN_DOT_BLOCK = 16
# A split of the weight gradient's reduction gets at least this many K steps, so the partial sums
# (an fp32 write and read per split) stay small next to the product.
_MIN_STEPS_PER_SPLIT = 8


class _Tiles(NamedTuple):
    block_m: int
    block_n: int
    block_k: int
    num_warps: int
    num_stages: int


def _clamp_block(size: int, cap: int) -> int:
    return min(max(runtime.next_power_of_2(size), _MIN_DOT_BLOCK), cap)


def _tiles(
    rows: int, cols: int, depth: int, dtype: torch.dtype, allow_tf32: bool, long_depth: bool = False, flat: bool = False
) -> _Tiles:
    """Tile sizes for an (rows x depth) @ (depth x cols) implicit GEMM, from the runtime's policy.

    ``long_depth``: the reduction, not the rows, is the long dim (the weight gradient).
    ``flat``: the K loop runs in "flat" order (see the module docstring)."""
    if runtime.is_interpreter():
        block_n = _clamp_block(cols, _INTERPRETER_BLOCK)
        if long_depth:
            block_m = _clamp_block(rows, _INTERPRETER_BLOCK)
            block_k = _clamp_block(depth, runtime.INTERPRETER_MAX_BLOCK // max(block_m, block_n))
        else:
            block_k = _clamp_block(depth, _INTERPRETER_BLOCK)
            block_m = _clamp_block(rows, runtime.INTERPRETER_MAX_BLOCK // max(block_k, block_n))
        return _Tiles(block_m, block_n, block_k, 4, 1)
    # 32- and 64-bit products hold the accumulator in registers: 8 warps halve each thread's share.
    # The FMA paths (exact fp32, fp64) also take half the K step and no pipelining: their operand
    # tiles go through registers, and 4 warps, K = 32 or prefetched stages spill (AOT report). They
    # are bound by FMA throughput, not by load latency, so the lost prefetch costs little.
    # The FMA path in "flat" order also halves the rows: its per-element tap decoding next to a
    # register-held operand tile spills 4 B on sm_90 (triton 3.9, the fp32 stem) at 64 rows.
    # The half-precision weight gradient also takes 16-deep K steps: its K tile is gathered per
    # element (pixel x tap), and 32 of them spill 4-8 B on sm_80 with one triton or the other.
    wide = dtype.itemsize >= 4
    fma = dtype == torch.float64 or (dtype == torch.float32 and not allow_tf32)
    return _Tiles(
        _GPU_BLOCK_M // 2 if fma and flat else _GPU_BLOCK_M,
        _clamp_block(cols, _GPU_BLOCK_N),
        _clamp_block(depth, _GPU_BLOCK_K // 2 if fma or (long_depth and not wide) else _GPU_BLOCK_K),
        2 * _GPU_NUM_WARPS if wide else _GPU_NUM_WARPS,
        1 if fma else _GPU_NUM_STAGES,
    )


# ----------------------------------------------------------------------------------------------
# Device helpers
# ----------------------------------------------------------------------------------------------


@triton.jit
def _source_position(pos, tap, stride, pad, dilation, size, TRANSPOSED: tl.constexpr):
    """The position of the gathered operand that output position ``pos`` reads at kernel tap ``tap``,
    and whether it exists (is inside the operand, not padding). ``pos``/``tap`` broadcast.

    Forward: pos * stride - pad + tap * dilation. Transposed: (pos + pad - tap * dilation) / stride,
    which exists only when the division is exact (tested with % == 0 and >= 0, so C's and Python's
    remainders agree).
    """
    if TRANSPOSED:
        t = pos + pad - tap * dilation
        src = t // stride
        ok = (t % stride == 0) & (t >= 0) & (src < size)
    else:
        src = pos * stride - pad + tap * dilation
        ok = (src >= 0) & (src < size)
    return src, ok


@triton.jit
def _first_live_tap(base, dilation, stride, K: tl.constexpr):
    """The smallest tap k < K with (base - k * dilation) % stride == 0, or K if none: the first kernel
    tap that reaches the rows of one phase of a transposed convolution (base = phase + pad). The
    next live taps follow every stride / gcd(stride, dilation)."""
    first = K
    for k in tl.static_range(K - 1, -1, -1):
        first = tl.where((base - k * dilation) % stride == 0, k, first)
    return first


@triton.jit
def _implicit_gemm_tile(
    src_ptr, w_ptr, out_ptr, bias_ptr,
    batch, src_h, src_w, out_h, out_w, red_c, out_c,
    stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, tap_step_h, tap_step_w,
    src_sn, src_sc, src_sh, src_sw,
    w_group_stride, w_red_stride, w_col_stride, w_skh, w_skw,
    out_sn, out_sc, out_sh, out_sw, bias_stride,
    KH: tl.constexpr, KW: tl.constexpr, TRANSPOSED: tl.constexpr, FLAT_K: tl.constexpr,
    HAS_BIAS: tl.constexpr, ACC_DTYPE: tl.constexpr, DOT_PRECISION: tl.constexpr, WIDEN: tl.constexpr,
    INDEX_64: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
):  # fmt: skip
    """One BLOCK_M x BLOCK_N tile of out[(n, oh, ow), j] = sum_k src_gathered[(n, oh, ow), k] * w[k, j].

    ``red_c`` channels of the gathered operand (per group) are reduced with the kernel taps;
    ``out_c`` is the output's channels per group. Weight element (k = (r, kh, kw), j) of group g is
    at w_ptr + g * w_group_stride + r * w_red_stride + j * w_col_stride + kh * w_skh + kw * w_skw.
    """
    pid = tl.program_id(0)
    num_pid_n = tl.cdiv(out_c, BLOCK_N)
    pid_m = pid // num_pid_n
    pid_n = pid % num_pid_n
    # Axis 1: group-major, then the phase (h % sh, w % sw) of the rows (one phase when not TRANSPOSED).
    if TRANSPOSED:
        phases = stride_h * stride_w
    else:
        phases = 1
    group = tl.program_id(1) // phases
    phase = tl.program_id(1) % phases
    if TRANSPOSED:
        phase_h = phase // stride_w
        phase_w = phase % stride_w
        step_h = stride_h
        step_w = stride_w
    else:
        phase_h = 0
        phase_w = 0
        step_h = 1
        step_w = 1
    rows_h = (out_h - phase_h + step_h - 1) // step_h
    rows_w = (out_w - phase_w + step_w - 1) // step_w
    rows = batch * rows_h * rows_w
    rows_w = tl.maximum(rows_w, 1)  # a divisor below; an empty phase has rows == 0 and stores nothing
    plane = tl.maximum(rows_h * rows_w, 1)

    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    if INDEX_64:
        offs_m = offs_m.to(tl.int64)
        offs_n = offs_n.to(tl.int64)
        offs_k = offs_k.to(tl.int64)
        group = group.to(tl.int64)
    row_ok = offs_m < rows
    col_ok = offs_n < out_c
    n = offs_m // plane
    i_h = (offs_m % plane) // rows_w  # the row's index within its phase
    i_w = offs_m % rows_w
    pos_h = phase_h + i_h * step_h
    pos_w = phase_w + i_w * step_w

    src_rows = src_ptr + n * src_sn + group * red_c * src_sc  # [BLOCK_M] pointers
    w_cols = w_ptr + group * w_group_stride + offs_n * w_col_stride  # [BLOCK_N] pointers
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC_DTYPE)
    if FLAT_K:
        taps: tl.constexpr = KH * KW
        for k0 in range(0, red_c * taps, BLOCK_K):
            ks = k0 + offs_k
            chan = ks // taps
            kh = (ks % taps) // KW
            kw = ks % KW
            chan_ok = chan < red_c  # same as ks < red_c * taps
            ih, ok_h = _source_position(pos_h[:, None], kh[None, :], stride_h, pad_h, dil_h, src_h, TRANSPOSED)
            iw, ok_w = _source_position(pos_w[:, None], kw[None, :], stride_w, pad_w, dil_w, src_w, TRANSPOSED)
            a_ptrs = src_rows[:, None] + chan[None, :] * src_sc + ih * src_sh + iw * src_sw
            a = tl.load(a_ptrs, mask=row_ok[:, None] & chan_ok[None, :] & ok_h & ok_w, other=0.0)
            b_ptrs = w_cols[None, :] + chan[:, None] * w_red_stride + kh[:, None] * w_skh + kw[:, None] * w_skw
            b = tl.load(b_ptrs, mask=chan_ok[:, None] & col_ok[None, :], other=0.0)
            if WIDEN:
                a = a.to(tl.float32)
                b = b.to(tl.float32)
            acc = tl.dot(a, b, acc, input_precision=DOT_PRECISION, out_dtype=ACC_DTYPE)
    else:
        # One loop over (kernel tap, channel block) pairs, so the pipeliner sees KH*KW*ceil(red_c /
        # BLOCK_K) iterations rather than a short inner loop per tap. The tap is a scalar: each row's
        # source pixel and padding mask cost one [BLOCK_M] computation per step, not one per element.
        if TRANSPOSED:
            # Every row of this program has the same phase, so a tap reaches all of them (the
            # division is exact) or none: only the live ones, tap_step apart, are visited.
            kh0 = _first_live_tap(phase_h + pad_h, dil_h, stride_h, KH)
            kw0 = _first_live_tap(phase_w + pad_w, dil_w, stride_w, KW)
            taps_h = (KH - kh0 + tap_step_h - 1) // tap_step_h
            taps_w = (KW - kw0 + tap_step_w - 1) // tap_step_w
        else:
            kh0 = 0
            kw0 = 0
            taps_h = KH
            taps_w = KW
        # A row's source position is a loop-invariant [BLOCK_M] base plus the tap's scalar shift, so
        # the loop adds scalars to hoisted vectors (fewer live registers: no spill on sm_80; AOT report).
        if TRANSPOSED:
            # pos = phase + i * stride and the tap is live: the quotient is i plus an exact scalar.
            base_h = i_h
            base_w = i_w
        else:
            base_h = pos_h * stride_h - pad_h
            base_w = pos_w * stride_w - pad_w
        base_rows = src_rows + base_h * src_sh + base_w * src_sw  # [BLOCK_M] pointers
        c_blocks = tl.cdiv(red_c, BLOCK_K)
        taps_w_divisor = tl.maximum(taps_w, 1)
        c_blocks_divisor = tl.maximum(c_blocks, 1)
        for step in range(0, taps_h * taps_w * c_blocks):
            tap = step // c_blocks_divisor
            kh = kh0 + (tap // taps_w_divisor) * tap_step_h
            kw = kw0 + (tap % taps_w_divisor) * tap_step_w
            chan = (step % c_blocks_divisor) * BLOCK_K + offs_k
            chan_ok = chan < red_c
            if TRANSPOSED:
                shift_h = (phase_h + pad_h - kh * dil_h) // stride_h
                shift_w = (phase_w + pad_w - kw * dil_w) // stride_w
            else:
                shift_h = kh * dil_h
                shift_w = kw * dil_w
            ih = base_h + shift_h
            iw = base_w + shift_w
            pixel_ok = row_ok & (ih >= 0) & (ih < src_h) & (iw >= 0) & (iw < src_w)
            a_ptrs = base_rows[:, None] + (shift_h * src_sh + shift_w * src_sw) + chan[None, :] * src_sc
            a = tl.load(a_ptrs, mask=pixel_ok[:, None] & chan_ok[None, :], other=0.0)
            b_ptrs = w_cols[None, :] + (kh * w_skh + kw * w_skw) + chan[:, None] * w_red_stride
            b = tl.load(b_ptrs, mask=chan_ok[:, None] & col_ok[None, :], other=0.0)
            if WIDEN:
                a = a.to(tl.float32)
                b = b.to(tl.float32)
            acc = tl.dot(a, b, acc, input_precision=DOT_PRECISION, out_dtype=ACC_DTYPE)

    out_chan = group * out_c + offs_n
    if HAS_BIAS:
        bias = tl.load(bias_ptr + out_chan * bias_stride, mask=col_ok, other=0.0)
        acc += bias.to(ACC_DTYPE)[None, :]
    out_ptrs = out_ptr + (n * out_sn + pos_h * out_sh + pos_w * out_sw)[:, None] + out_chan[None, :] * out_sc
    tl.store(out_ptrs, acc.to(out_ptr.dtype.element_ty), mask=row_ok[:, None] & col_ok[None, :])


# Forward convolution: out[n, g*OCg + oc, oh, ow] = bias + sum over (c, kh, kw) of
# x[n, g*Cg + c, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw] * w[g*OCg + oc, c, kh, kw].
# Grid: (row tiles x OC tiles, groups); one program owns BLOCK_M output pixels x BLOCK_N output
# channels of one group. Memory traffic: x is gathered in place, each element of x read by every
# program whose pixels' receptive fields cover it (at most KH*KW row tiles, from L2 after the
# first) times ceil(OCg / BLOCK_N) channel tiles; w is re-read once per row tile (small, L2
# resident); out is written once, with the bias, in the epilogue.
@triton.jit
def conv2d_forward_kernel(
    x_ptr, w_ptr, out_ptr, bias_ptr,
    batch, in_h, in_w, out_h, out_w, in_c_per_group, out_c_per_group,
    stride_h, stride_w, pad_h, pad_w, dil_h, dil_w,
    x_sn, x_sc, x_sh, x_sw,
    w_so, w_sc, w_skh, w_skw,
    out_sn, out_sc, out_sh, out_sw, bias_stride,
    KH: tl.constexpr, KW: tl.constexpr, FLAT_K: tl.constexpr, HAS_BIAS: tl.constexpr,
    ACC_DTYPE: tl.constexpr, DOT_PRECISION: tl.constexpr, WIDEN: tl.constexpr, INDEX_64: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
):  # fmt: skip
    _implicit_gemm_tile(
        x_ptr, w_ptr, out_ptr, bias_ptr,
        batch, in_h, in_w, out_h, out_w, in_c_per_group, out_c_per_group,
        stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, 1, 1,
        x_sn, x_sc, x_sh, x_sw,
        out_c_per_group * w_so, w_sc, w_so, w_skh, w_skw,
        out_sn, out_sc, out_sh, out_sw, bias_stride,
        KH, KW, False, FLAT_K, HAS_BIAS, ACC_DTYPE, DOT_PRECISION, WIDEN, INDEX_64, BLOCK_M, BLOCK_N, BLOCK_K,
    )  # fmt: skip


# Input gradient (transposed convolution): grad_x[n, g*Cg + c, h, w] = sum over (oc, kh, kw) of
# grad_out[n, g*OCg + oc, (h + ph - kh*dh) / sh, (w + pw - kw*dw) / sw] * w[g*OCg + oc, c, kh, kw],
# the quotients exact and in range. Grid: (row tiles x Cg tiles, groups x sh*sw phases); one program
# owns BLOCK_M input pixels of one phase x BLOCK_N input channels. Memory traffic: grad_out is
# gathered in place (read about ceil(KH/sh)*ceil(KW/sw) times per channel tile, mostly from
# L2), w once per row tile, grad_x written once (with ConvTranspose2d's bias, when given, added in
# the epilogue). Taps that miss a program's phase are never loaded.
@triton.jit
def conv2d_input_grad_kernel(
    grad_out_ptr, w_ptr, grad_x_ptr, bias_ptr,
    batch, out_h, out_w, in_h, in_w, out_c_per_group, in_c_per_group,
    stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, tap_step_h, tap_step_w,
    g_sn, g_sc, g_sh, g_sw,
    w_so, w_sc, w_skh, w_skw,
    gx_sn, gx_sc, gx_sh, gx_sw, bias_stride,
    KH: tl.constexpr, KW: tl.constexpr, FLAT_K: tl.constexpr, HAS_BIAS: tl.constexpr,
    ACC_DTYPE: tl.constexpr, DOT_PRECISION: tl.constexpr, WIDEN: tl.constexpr, INDEX_64: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
):  # fmt: skip
    _implicit_gemm_tile(
        grad_out_ptr, w_ptr, grad_x_ptr, bias_ptr,
        batch, out_h, out_w, in_h, in_w, out_c_per_group, in_c_per_group,
        stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, tap_step_h, tap_step_w,
        g_sn, g_sc, g_sh, g_sw,
        out_c_per_group * w_so, w_so, w_sc, w_skh, w_skw,
        gx_sn, gx_sc, gx_sh, gx_sw, bias_stride,
        KH, KW, True, FLAT_K, HAS_BIAS, ACC_DTYPE, DOT_PRECISION, WIDEN, INDEX_64, BLOCK_M, BLOCK_N, BLOCK_K,
    )  # fmt: skip


# Weight gradient: grad_w[g*OCg + oc, c, kh, kw] = sum over (n, oh, ow) of grad_out[n, g*OCg + oc, oh, ow]
# * x[n, g*Cg + c, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw]. A GEMM with M = OCg, N = Cg*KH*KW and
# the reduction K = N*OH*OW. Grid: (OCg tiles x (Cg*KH*KW) tiles, groups, splits); split s reduces
# its own contiguous range of (n, oh, ow) and writes its partial tile to out[s] (fp32/fp64), or
# the final dtype when there is one split. Memory traffic: grad_out read once per column tile,
# x gathered once per row tile (few: OCg / BLOCK_M), the result written once per split.
@triton.jit
def conv2d_weight_grad_kernel(
    grad_out_ptr, x_ptr, out_ptr,
    batch, in_h, in_w, out_h, out_w, out_c_per_group, in_c_per_group, chunk,
    stride_h, stride_w, pad_h, pad_w, dil_h, dil_w,
    g_sn, g_sc, g_sh, g_sw,
    x_sn, x_sc, x_sh, x_sw,
    out_ss, out_so, out_sk,
    KH: tl.constexpr, KW: tl.constexpr,
    ACC_DTYPE: tl.constexpr, DOT_PRECISION: tl.constexpr, WIDEN: tl.constexpr, INDEX_64: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
):  # fmt: skip
    taps: tl.constexpr = KH * KW
    cols = in_c_per_group * taps
    pid = tl.program_id(0)
    num_pid_n = tl.cdiv(cols, BLOCK_N)
    pid_m = pid // num_pid_n
    pid_n = pid % num_pid_n
    group = tl.program_id(1)
    split = tl.program_id(2)

    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    if INDEX_64:
        offs_m = offs_m.to(tl.int64)
        offs_n = offs_n.to(tl.int64)
        offs_k = offs_k.to(tl.int64)
        group = group.to(tl.int64)
        split = split.to(tl.int64)
    m_ok = offs_m < out_c_per_group
    n_ok = offs_n < cols
    chan = offs_n // taps
    kh = (offs_n % taps) // KW
    kw = offs_n % KW

    plane = out_h * out_w
    total = batch * plane
    start = split * chunk
    stop = tl.minimum(start + chunk, total)
    g_rows = grad_out_ptr + (group * out_c_per_group + offs_m) * g_sc  # [BLOCK_M]
    # The input position oh * sh - ph + kh * dh is a pixel part plus a column part: the address of
    # x's element is a [BLOCK_K] vector plus a [BLOCK_N] one, and only the bounds test is per element
    # (fewer live registers than per-element positions, which spill on sm_80; AOT report).
    tap_h = kh * dil_h - pad_h  # [BLOCK_N]
    tap_w = kw * dil_w - pad_w
    x_cols = x_ptr + (group * in_c_per_group + chan) * x_sc + tap_h * x_sh + tap_w * x_sw  # [BLOCK_N]
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC_DTYPE)
    for p0 in range(start, stop, BLOCK_K):
        ps = p0 + offs_k
        p_ok = ps < stop
        n = ps // plane
        oh = (ps % plane) // out_w
        ow = ps % out_w
        a = tl.load(
            g_rows[:, None] + (n * g_sn + oh * g_sh + ow * g_sw)[None, :], mask=m_ok[:, None] & p_ok[None, :], other=0.0
        )
        base_h = oh * stride_h  # [BLOCK_K]
        base_w = ow * stride_w
        ih = base_h[:, None] + tap_h[None, :]
        iw = base_w[:, None] + tap_w[None, :]
        # One unsigned compare per dim: a negative position wraps to a large one.
        if INDEX_64:
            inside = (ih.to(tl.uint64, bitcast=True) < in_h) & (iw.to(tl.uint64, bitcast=True) < in_w)
        else:
            inside = (ih.to(tl.uint32, bitcast=True) < in_h) & (iw.to(tl.uint32, bitcast=True) < in_w)
        b_ptrs = x_cols[None, :] + (n * x_sn + base_h * x_sh + base_w * x_sw)[:, None]
        b = tl.load(b_ptrs, mask=p_ok[:, None] & n_ok[None, :] & inside, other=0.0)
        if WIDEN:
            a = a.to(tl.float32)
            b = b.to(tl.float32)
        acc = tl.dot(a, b, acc, input_precision=DOT_PRECISION, out_dtype=ACC_DTYPE)

    out_ptrs = (
        out_ptr + split * out_ss + (group * out_c_per_group + offs_m)[:, None] * out_so + offs_n[None, :] * out_sk
    )
    tl.store(out_ptrs, acc.to(out_ptr.dtype.element_ty), mask=m_ok[:, None] & n_ok[None, :])


# ----------------------------------------------------------------------------------------------
# Launchers
# ----------------------------------------------------------------------------------------------


def conv2d_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """torch's output length of a convolution along one dim (symmetric ``padding`` on both sides)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _check_operands(name: str, x: torch.Tensor, w: torch.Tensor, groups: int) -> None:
    if x.dim() != 4 or w.dim() != 4:
        raise ValueError(f"{name}: expected 4-D input and weight, got {tuple(x.shape)} and {tuple(w.shape)}")
    check_same_device(name, x, w)
    check_floating(name, x)
    if x.dtype != w.dtype:
        raise RuntimeError(f"{name}: input and weight dtypes differ ({x.dtype} and {w.dtype})")
    if groups < 1 or w.shape[0] % groups:
        raise ValueError(f"{name}: groups={groups} must be positive and divide weight.shape[0]={w.shape[0]}")


def _memory_format(x: torch.Tensor) -> torch.memory_format:
    """channels_last for a channels_last input (as torch's convolutions answer), else contiguous NCHW.

    With channels_last operands a tile's channels are contiguous: 128-bit loads and stores."""
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        return torch.channels_last
    return torch.contiguous_format


def _check_bias(name: str, x: torch.Tensor, bias: torch.Tensor | None, channels: int) -> None:
    if bias is None:
        return
    check_same_device(name, x, bias)
    if bias.shape != (channels,) or bias.dtype != x.dtype:
        raise RuntimeError(f"{name}: bias must be ({channels},) {x.dtype}, got {tuple(bias.shape)} {bias.dtype}")


def _dot_settings(dtype: torch.dtype, allow_tf32: bool) -> dict:
    return {
        "ACC_DTYPE": compute_dtype(dtype),
        "DOT_PRECISION": "tf32" if (dtype == torch.float32 and allow_tf32) else "ieee",
        # The interpreter's tl.dot on half types is not an fp32-accumulated product: widen the tiles.
        "WIDEN": runtime.is_interpreter() and dtype in (torch.float16, torch.bfloat16),
    }


def _use_flat_k(reduced_channels: int, flat_k: bool | None) -> bool:
    if flat_k is not None:
        return flat_k
    return runtime.is_interpreter() or reduced_channels < _MIN_DOT_BLOCK


def launch_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
    groups: int = 1,
    *,
    output_size: Pair | None = None,
    allow_tf32: bool = False,
    flat_k: bool | None = None,
) -> torch.Tensor:
    """torch.nn.functional.conv2d on 4-D buffers, in one launch.

    Args:
        x: (N, C, H, W), any strides.
        weight: (OC, C / groups, KH, KW), same dtype and device, any strides.
        bias: optional (OC,).
        stride, padding, dilation: (h, w) pairs; ``padding`` is the padding before the first row/column.
        groups: OC and C split into this many independent convolutions.
        output_size: (OH, OW); default torch's size for symmetric padding. Passing it allows
            asymmetric padding ('same' with an even kernel: the extra row is implied after the end).
        allow_tf32: fp32 products may use tf32 tensor cores (GPU only).
        flat_k: force the K loop order ("flat" or "taps", see the module docstring); None chooses.

    Returns:
        A new (N, OC, OH, OW) tensor of x's dtype: channels_last if x is, else contiguous.
    """
    _check_operands("conv2d", x, weight, groups)
    batch, channels, in_h, in_w = x.shape
    out_channels, in_c_per_group, kh, kw = weight.shape
    if channels != in_c_per_group * groups:
        raise RuntimeError(f"conv2d: input has {channels} channels, weight expects {in_c_per_group * groups}")
    if bias is not None:
        check_same_device("conv2d", x, bias)
        if bias.shape != (out_channels,) or bias.dtype != x.dtype:
            raise RuntimeError(
                f"conv2d: bias must be ({out_channels},) {x.dtype}, got {tuple(bias.shape)} {bias.dtype}"
            )
    if output_size is None:
        output_size = tuple(
            conv2d_output_size(size, k, s, p, d)
            for size, k, s, p, d in zip((in_h, in_w), (kh, kw), stride, padding, dilation)
        )
    out_h, out_w = output_size
    out = torch.empty(
        (batch, out_channels, out_h, out_w), dtype=x.dtype, device=x.device, memory_format=_memory_format(x)
    )
    if out.numel() == 0:
        return out
    out_c_per_group = out_channels // groups
    rows = batch * out_h * out_w
    flat = _use_flat_k(in_c_per_group, flat_k)
    tiles = _tiles(rows, out_c_per_group, in_c_per_group * kh * kw, x.dtype, allow_tf32, flat=flat)
    grid = (cdiv(rows, tiles.block_m) * cdiv(out_c_per_group, tiles.block_n), groups)
    conv2d_forward_kernel[grid](
        x, weight, out, bias,
        batch, in_h, in_w, out_h, out_w, in_c_per_group, out_c_per_group,
        *stride, *padding, *dilation,
        *x.stride(), *weight.stride(), *out.stride(), 0 if bias is None else bias.stride(0),
        KH=kh, KW=kw, FLAT_K=flat, HAS_BIAS=bias is not None,
        INDEX_64=needs_int64_indexing(x, weight, out), **_dot_settings(x.dtype, allow_tf32),
        BLOCK_M=tiles.block_m, BLOCK_N=tiles.block_n, BLOCK_K=tiles.block_k,
        num_warps=tiles.num_warps, num_stages=tiles.num_stages,
    )  # fmt: skip
    return out


def launch_conv2d_input_grad(
    grad_out: torch.Tensor,
    weight: torch.Tensor,
    input_size: Pair,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
    groups: int = 1,
    *,
    bias: torch.Tensor | None = None,
    allow_tf32: bool = False,
    flat_k: bool | None = None,
) -> torch.Tensor:
    """The gradient of conv2d with respect to its input, i.e. the transposed convolution of ``grad_out``.

    Args:
        grad_out: (N, OC, OH, OW), any strides (a stride-0 expanded gradient is read in place).
        weight: (OC, C / groups, KH, KW), the convolution's weight.
        input_size: (H, W) of the convolution's input, i.e. of the result (for ConvTranspose2d: the
            output size, output_padding included).
        stride, padding, dilation, groups: the convolution's.
        bias: optional (C,), added to every pixel (ConvTranspose2d's bias).

    Returns:
        A new (N, C, H, W) tensor: channels_last if grad_out is, else contiguous.
    """
    _check_operands("conv2d_input_grad", grad_out, weight, groups)
    batch, out_channels, out_h, out_w = grad_out.shape
    if out_channels != weight.shape[0]:
        raise RuntimeError(
            f"conv2d_input_grad: grad_out has {out_channels} channels, "
            f"weight {tuple(weight.shape)} has {weight.shape[0]}"
        )
    _, in_c_per_group, kh, kw = weight.shape
    in_h, in_w = input_size
    _check_bias("conv2d_input_grad", grad_out, bias, in_c_per_group * groups)
    grad_x = torch.empty(
        (batch, in_c_per_group * groups, in_h, in_w),
        dtype=grad_out.dtype,
        device=grad_out.device,
        memory_format=_memory_format(grad_out),
    )
    if grad_x.numel() == 0:
        return grad_x
    out_c_per_group = out_channels // groups
    # Rows of one phase: the largest phase (0, 0) sizes the grid; smaller ones mask their tail.
    rows = batch * cdiv(in_h, stride[0]) * cdiv(in_w, stride[1])
    flat = _use_flat_k(out_c_per_group, flat_k)
    tiles = _tiles(rows, in_c_per_group, out_c_per_group * kh * kw, grad_out.dtype, allow_tf32, flat=flat)
    grid = (
        cdiv(rows, tiles.block_m) * cdiv(in_c_per_group, tiles.block_n),
        groups * stride[0] * stride[1],
    )
    conv2d_input_grad_kernel[grid](
        grad_out, weight, grad_x, bias,
        batch, out_h, out_w, in_h, in_w, out_c_per_group, in_c_per_group,
        *stride, *padding, *dilation, *(s // math.gcd(s, d) for s, d in zip(stride, dilation)),
        *grad_out.stride(), *weight.stride(), *grad_x.stride(), 0 if bias is None else bias.stride(0),
        KH=kh, KW=kw, FLAT_K=flat, HAS_BIAS=bias is not None,
        INDEX_64=needs_int64_indexing(grad_out, weight, grad_x), **_dot_settings(grad_out.dtype, allow_tf32),
        BLOCK_M=tiles.block_m, BLOCK_N=tiles.block_n, BLOCK_K=tiles.block_k,
        num_warps=tiles.num_warps, num_stages=tiles.num_stages,
    )  # fmt: skip
    return grad_x


def _weight_grad_splits(tile_count: int, reduction: int, block_k: int, device: torch.device) -> int:
    """How many programs share one tile's reduction: enough tiles in flight to fill the GPU."""
    if runtime.is_interpreter():
        return 1
    wanted = 2 * torch.cuda.get_device_properties(device).multi_processor_count
    most = max(1, reduction // (block_k * _MIN_STEPS_PER_SPLIT))
    return max(1, min(cdiv(wanted, tile_count), most))


def launch_conv2d_weight_grad(
    grad_out: torch.Tensor,
    x: torch.Tensor,
    kernel_size: Pair,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
    groups: int = 1,
    *,
    allow_tf32: bool = False,
    split_k: int | None = None,
) -> torch.Tensor:
    """The gradient of conv2d with respect to its weight.

    Args:
        grad_out: (N, OC, OH, OW), any strides.
        x: (N, C, H, W), the convolution's input, any strides.
        kernel_size: (KH, KW).
        stride, padding, dilation, groups: the convolution's.
        split_k: programs sharing each tile's reduction over N*OH*OW (None: as many as fill the GPU,
            1 in the interpreter); more than one adds an fp32 partial buffer and a reduction launch.

    Returns:
        A new contiguous (OC, C / groups, KH, KW) tensor.
    """
    if grad_out.dim() != 4 or x.dim() != 4:
        raise ValueError(
            f"conv2d_weight_grad: expected 4-D grad_out and input, got {tuple(grad_out.shape)} and {tuple(x.shape)}"
        )
    check_same_device("conv2d_weight_grad", grad_out, x)
    check_floating("conv2d_weight_grad", x)
    if grad_out.dtype != x.dtype or grad_out.shape[0] != x.shape[0]:
        raise RuntimeError(
            f"conv2d_weight_grad: grad_out {tuple(grad_out.shape)} {grad_out.dtype} does not match input "
            f"{tuple(x.shape)} {x.dtype}"
        )
    batch, channels, in_h, in_w = x.shape
    _, out_channels, out_h, out_w = grad_out.shape
    if groups < 1 or channels % groups or out_channels % groups:
        raise ValueError(f"conv2d_weight_grad: groups={groups} must divide {channels} and {out_channels} channels")
    kh, kw = kernel_size
    in_c_per_group, out_c_per_group = channels // groups, out_channels // groups
    grad_w = torch.empty((out_channels, in_c_per_group, kh, kw), dtype=x.dtype, device=x.device)
    if grad_w.numel() == 0:
        return grad_w
    cols = in_c_per_group * kh * kw
    reduction = batch * out_h * out_w
    tiles = _tiles(out_c_per_group, cols, reduction, x.dtype, allow_tf32, long_depth=True)
    tile_count = cdiv(out_c_per_group, tiles.block_m) * cdiv(cols, tiles.block_n)
    splits = split_k or _weight_grad_splits(tile_count * groups, reduction, tiles.block_k, x.device)
    # A K step no longer than one split's share (the interpreter's steps may cover the whole reduction).
    tiles = tiles._replace(block_k=min(tiles.block_k, _clamp_block(cdiv(reduction, splits), tiles.block_k)))
    chunk = max(cdiv(cdiv(reduction, splits), tiles.block_k), 1) * tiles.block_k
    splits = max(1, cdiv(reduction, chunk))
    if splits == 1:
        target = grad_w.view(1, out_channels, cols)
    else:
        partial_dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
        target = torch.empty((splits, out_channels, cols), dtype=partial_dtype, device=x.device)
    conv2d_weight_grad_kernel[(tile_count, groups, splits)](
        grad_out, x, target,
        batch, in_h, in_w, out_h, out_w, out_c_per_group, in_c_per_group, chunk,
        *stride, *padding, *dilation,
        *grad_out.stride(), *x.stride(), *target.stride(),
        KH=kh, KW=kw, INDEX_64=needs_int64_indexing(grad_out, x, target), **_dot_settings(x.dtype, allow_tf32),
        BLOCK_M=tiles.block_m, BLOCK_N=tiles.block_n, BLOCK_K=tiles.block_k,
        num_warps=tiles.num_warps, num_stages=tiles.num_stages,
    )  # fmt: skip
    if splits == 1:
        return grad_w
    return launch_sum(target, [0], False, out_dtype=x.dtype).view(out_channels, in_c_per_group, kh, kw)
