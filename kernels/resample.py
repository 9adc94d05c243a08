"""Resizing the last two dims of an (N, C, H, W) tensor, torch's F.interpolate 'nearest',
'bilinear' and 'bicubic' (a 1-d resize is the H = OH = 1 case), forward and backward.

Source positions follow torch's CPU kernels exactly, per dim of input size ``I`` and output
size ``O``, with ``scale`` = I / O or 1 / scale_factor (``source_scale`` says when torch copies
instead):

- nearest:  ``i = min(floor(o * scale), I - 1)`` (scale 1/2 when O == 2 I); 'nearest-exact':
  ``min(floor(max(scale * (o + 0.5) - 0.5, 0) + 0.5), I - 1)``, no shortcuts;
- linear:   ``src = scale * o`` (align_corners; scale = (I - 1) / (O - 1)) or
  ``max(scale * (o + 0.5) - 0.5, 0)``; ``i0 = min(floor(src), I - 1)``, ``i1 = i0 + (i0 < I - 1)``,
  weights ``1 - l`` and ``l = clamp(src - i0, 0, 1)``, in fp32 (fp64 for fp64 tensors);
- cubic:    ``src = scale * o`` or ``scale * (o + 0.5) - 0.5`` (no clamp at 0), ``i0`` and ``l`` as
  linear; taps ``clamp(i0 - 1 + k, 0, I - 1)`` for k < 4 with torch's cubic convolution weights
  (A = -0.75, aten UpSample.h ``get_cubic_upsample_coefficients``).

Positions are computed in fp32 (fp64 for fp64 tensors), torch's opmath, but every ``floor`` is
torch's ``floorf``: of the position rounded to fp32, whatever the dtype. The nearest modes'
backward takes its sources as torch's backward kernels do, all in fp32 (``o * scale``,
``(o + 0.5) * scale``): for fp64 a rare output position goes to another input than the forward read.

The forward computes each output from its one (nearest), four (bilinear) or 16 (bicubic) sources. The backward
is separable (the resize is a product of 1-d resizes): one 1-d gather kernel along W, then along
H. Each input element visits the outputs that may read it (an index window derived from
1 / scale, with a margin) and recomputes their source indices and weights exactly as the forward
did, so nothing is scattered and the sums are deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import (
    FLOATING_DTYPES,
    bits_to_float,
    check_floating,
    compute_dtype,
    float_bits,
    needs_int64_indexing,
)
from tritongrad.kernels.elementwise import linear_index, store_as
from tritongrad.kernels.pool import empty_nchw, prefers_channels_last, unravel_nchw, window_launch_config
from tritongrad.runtime import cdiv

__all__ = ["source_scale", "cubic_weight", "launch_resample2d_fwd", "launch_resample2d_bwd", "launch_resample2d_uint8"]

_CUBIC_A = tl.constexpr(-0.75)  # the cubic convolution's A, torch's for bicubic interpolate and grid_sample


def source_scale(in_size: int, out_size: int, linear: bool, align_corners: bool, scale_factor: float | None,
                 shortcuts: bool = True) -> float:  # fmt: skip
    """The factor from output to input positions along one dim, as torch's CPU kernels compute it.

    ``shortcuts``: whether torch's kernel for this mode copies a dim whose size is unchanged and
    (nearest) takes ``o >> 1`` for a doubled one, whatever ``scale_factor`` says. Only the 2-d
    'nearest' and the linear family ('linear', 'bilinear', 'trilinear'; 'bicubic' with
    align_corners, where the factor is 1 anyway) have them; 1-d and 3-d 'nearest',
    'nearest-exact' and 'bicubic' without align_corners resample with ``1 / scale_factor`` even
    when the size is unchanged.
    """
    if shortcuts and in_size == out_size:
        return 1.0  # torch copies
    if shortcuts and not linear and out_size == 2 * in_size:
        return 0.5  # torch's 2-d nearest takes o >> 1 here, whatever the scale factor
    if linear and align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    if scale_factor is not None and scale_factor > 0:
        return 1.0 / scale_factor
    return in_size / out_size


@triton.jit
def _floor_as_float32(source):
    """torch's ``floorf(source)``: the source position (opmath, so float64 for float64 tensors) is
    rounded to float32 before the floor, which moves a position within a float32 ulp below an
    integer onto it."""
    return tl.floor(source.to(tl.float32))


@triton.jit
def _nearest_source(o, in_size, scale, EXACT: tl.constexpr, POSITION: tl.constexpr):
    position = o.to(POSITION)
    if EXACT:
        # 'nearest-exact': torch's area_pixel_compute_source_index (clamped at 0), then + 0.5
        source = tl.maximum(scale * (position + 0.5) - 0.5, 0.0) + 0.5
    else:
        source = scale * position
    return tl.minimum(_floor_as_float32(source).to(o.dtype), in_size - 1)


@triton.jit
def _nearest_source_of_gradient(o, in_size, scale, EXACT: tl.constexpr):
    """The source index torch's nearest backward kernels scatter to: ``nearest_idx`` /
    ``nearest_exact_idx``, in float32 whatever the dtype -- for float64 not always the forward's."""
    position = o.to(tl.float32)
    if EXACT:
        position += 0.5  # 'nearest-exact': the pixel centre
    return tl.minimum(tl.floor(position * scale).to(o.dtype), in_size - 1)


@triton.jit
def _linear_source(o, in_size, scale, ALIGN: tl.constexpr, COMPUTE: tl.constexpr):
    """(i0, i1, weight of i1) of output ``o``; i0 gets 1 - weight."""
    position = o.to(COMPUTE)
    if ALIGN:
        source = scale * position
    else:
        source = tl.maximum(scale * (position + 0.5) - 0.5, 0.0)
    i0 = tl.minimum(_floor_as_float32(source).to(o.dtype), in_size - 1)
    weight = tl.minimum(tl.maximum(source - i0.to(COMPUTE), 0.0), 1.0)
    i1 = i0 + (i0 < in_size - 1).to(o.dtype)
    return i0, i1, weight


@triton.jit
def cubic_weight(t, TAP: tl.constexpr):
    """Weight of tap TAP (at offset TAP - 1 from the floor) for the fraction t: torch's
    get_cubic_upsample_coefficients, in its order of operations."""
    A: tl.constexpr = _CUBIC_A
    if TAP == 0:
        x = t + 1.0
        return ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A
    elif TAP == 1:
        return ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0
    elif TAP == 2:
        x = 1.0 - t
        return ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    else:
        x = (1.0 - t) + 1.0
        return ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A


@triton.jit
def _cubic_source(o, in_size, scale, ALIGN: tl.constexpr, COMPUTE: tl.constexpr):
    """(i0, fraction) of output ``o``: taps clamp(i0 - 1 + k) for k < 4."""
    position = o.to(COMPUTE)
    if ALIGN:
        source = scale * position
    else:
        source = scale * (position + 0.5) - 0.5
    i0 = tl.minimum(_floor_as_float32(source).to(o.dtype), in_size - 1)
    return i0, tl.minimum(tl.maximum(source - i0.to(COMPUTE), 0.0), 1.0)


@triton.jit
def _cubic_tap(i0, TAP: tl.constexpr, in_size):
    return tl.minimum(tl.maximum(i0 + (TAP - 1), 0), in_size - 1)


# out[n, c, oh, ow] = x at the nearest source, or the bilinear (bicubic) blend of its 2 x 2 (4 x 4)
# neighbours. One program computes BLOCK outputs. Memory: 1, 4 or 16 reads (mostly cached) and
# one write each.
@triton.jit(do_not_specialize=["scale_h_bits", "scale_w_bits"])
def resample2d_fwd_kernel(
    x_ptr, out_ptr,
    total, C, H, W, OH, OW,
    x_stride_n, x_stride_c, x_stride_h, x_stride_w,
    scale_h_bits, scale_w_bits,
    LINEAR: tl.constexpr, CUBIC: tl.constexpr, ALIGN: tl.constexpr, EXACT: tl.constexpr, CHANNELS_LAST: tl.constexpr,
    COMPUTE: tl.constexpr, POSITION: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < total
    n, c, oh, ow = unravel_nchw(index, C, OH, OW, CHANNELS_LAST)
    x_base = x_ptr + n * x_stride_n + c * x_stride_c
    if CUBIC:
        h0, th = _cubic_source(oh, H, bits_to_float(scale_h_bits).to(COMPUTE), ALIGN, COMPUTE)
        w0, tw = _cubic_source(ow, W, bits_to_float(scale_w_bits).to(COMPUTE), ALIGN, COMPUTE)
        value = tl.zeros([BLOCK], COMPUTE)
        for j in tl.static_range(4):
            row_base = x_base + _cubic_tap(h0, j, H) * x_stride_h
            row = tl.zeros([BLOCK], COMPUTE)
            for i in tl.static_range(4):
                tap = tl.load(row_base + _cubic_tap(w0, i, W) * x_stride_w, mask=mask, other=0).to(COMPUTE)
                row += tap * cubic_weight(tw, i)
            value += row * cubic_weight(th, j)
    elif LINEAR:
        scale_h = bits_to_float(scale_h_bits).to(COMPUTE)
        scale_w = bits_to_float(scale_w_bits).to(COMPUTE)
        h0, h1, lh = _linear_source(oh, H, scale_h, ALIGN, COMPUTE)
        w0, w1, lw = _linear_source(ow, W, scale_w, ALIGN, COMPUTE)
        x00 = tl.load(x_base + h0 * x_stride_h + w0 * x_stride_w, mask=mask, other=0).to(COMPUTE)
        x01 = tl.load(x_base + h0 * x_stride_h + w1 * x_stride_w, mask=mask, other=0).to(COMPUTE)
        x10 = tl.load(x_base + h1 * x_stride_h + w0 * x_stride_w, mask=mask, other=0).to(COMPUTE)
        x11 = tl.load(x_base + h1 * x_stride_h + w1 * x_stride_w, mask=mask, other=0).to(COMPUTE)
        top = (1.0 - lw) * x00 + lw * x01
        bottom = (1.0 - lw) * x10 + lw * x11
        value = (1.0 - lh) * top + lh * bottom
    else:
        ih = _nearest_source(oh, H, bits_to_float(scale_h_bits).to(POSITION), EXACT, POSITION)
        iw = _nearest_source(ow, W, bits_to_float(scale_w_bits).to(POSITION), EXACT, POSITION)
        value = tl.load(x_base + ih * x_stride_h + iw * x_stride_w, mask=mask, other=0).to(COMPUTE)
    store_as(out_ptr + index, value, mask)


# The 1-d resize's gradient along dim 2 (ALONG_H) or 3 of grad (N, C, P, Q): grad_x[n, c, p, q] sums
# grad[..., o, ...] times the weight with which output o read input p (or q). One program computes
# BLOCK of them, each visiting COUNT candidate outputs from ``first``. One write each.
@triton.jit(do_not_specialize=["scale_bits"])
def resample_bwd_kernel(
    grad_ptr, grad_x_ptr,
    total, C, P, Q, OUT,
    g_stride_n, g_stride_c, g_stride_p, g_stride_q,
    scale_bits, inverse_scale, COUNT,
    ALONG_H: tl.constexpr, LINEAR: tl.constexpr, CUBIC: tl.constexpr, ALIGN: tl.constexpr, EXACT: tl.constexpr,
    CHANNELS_LAST: tl.constexpr,
    COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < total
    n, c, p, q = unravel_nchw(index, C, P, Q, CHANNELS_LAST)
    g_base = grad_ptr + n * g_stride_n + c * g_stride_c
    if ALONG_H:
        i = p
        in_size = P
        g_base += q * g_stride_q
        g_step = g_stride_p
    else:
        i = q
        in_size = Q
        g_base += p * g_stride_p
        g_step = g_stride_q
    # The first output that may read i, one early for rounding (it is checked exactly below):
    # a linear tap reads sources within one of i, a cubic one within two.
    if CUBIC:
        shift = 0.0 if ALIGN else 0.5
        first = tl.floor((i.to(tl.float32) - 2.0 + shift) * inverse_scale - shift).to(i.dtype) - 1
    elif LINEAR:
        shift = 0.0 if ALIGN else 0.5
        first = tl.floor((i.to(tl.float32) - 1.0 + shift) * inverse_scale - shift).to(i.dtype) - 1
    else:
        first = tl.floor(i.to(tl.float32) * inverse_scale).to(i.dtype) - 2
    first = tl.maximum(first, 0)
    acc = tl.zeros([BLOCK], COMPUTE)
    for j in range(COUNT):
        o = first + j
        ok = mask & (o < OUT)
        if CUBIC:
            i0, t = _cubic_source(o, in_size, bits_to_float(scale_bits).to(COMPUTE), ALIGN, COMPUTE)
            w = tl.zeros([BLOCK], COMPUTE)
            hit = o < 0
            for k in tl.static_range(4):  # clamped taps may repeat i: all their weights add up
                tap = _cubic_tap(i0, k, in_size)
                w += tl.where(tap == i, cubic_weight(t, k), 0.0)
                hit = hit | (tap == i)
            ok = ok & hit
        elif LINEAR:
            i0, i1, weight = _linear_source(o, in_size, bits_to_float(scale_bits).to(COMPUTE), ALIGN, COMPUTE)
            # Both weights when i0 == i1 == i (the last row), as torch's scatter adds both.
            w = tl.where(i0 == i, 1.0 - weight, 0.0) + tl.where(i1 == i, weight, 0.0)
            ok = ok & ((i0 == i) | (i1 == i))
        else:
            source = _nearest_source_of_gradient(o, in_size, bits_to_float(scale_bits).to(tl.float32), EXACT)
            w = tl.full([BLOCK], 1.0, COMPUTE)
            ok = ok & (source == i)
        grad = tl.load(g_base + o * g_step, mask=ok, other=0).to(COMPUTE)
        acc += tl.where(ok, grad * w, 0.0)
    store_as(grad_x_ptr + index, acc, mask)


def launch_resample2d_fwd(x: torch.Tensor, output_size: tuple[int, int], scales: tuple[float, float], *,
                          linear: bool, align_corners: bool = False, exact: bool = False,
                          cubic: bool = False) -> torch.Tensor:  # fmt: skip
    """``x`` (N, C, H, W), any strides, resized to ``output_size`` with source factors ``scales``
    (from ``source_scale``): nearest (floating types and uint8), bilinear or (``cubic``) bicubic
    (floating types; uint8 takes ``launch_resample2d_uint8``). Returns a tensor of x's dtype,
    channels-last for a channels-last x (as torch's), else contiguous."""
    if x.dim() != 4:
        raise ValueError(f"resample kernels take an (N, C, H, W) tensor, got shape {list(x.shape)}")
    check_floating("interpolate", x, FLOATING_DTYPES if linear or cubic else (*FLOATING_DTYPES, torch.uint8))
    n, c, h, w = x.shape
    channels_last = prefers_channels_last(x)
    out = empty_nchw((n, c, *output_size), x.dtype, x.device, channels_last)
    if out.numel() == 0:
        return out
    block, num_warps = window_launch_config(out.numel())
    # One program instance computes BLOCK outputs.
    resample2d_fwd_kernel[(cdiv(out.numel(), block),)](
        x, out,
        out.numel(), c, h, w, *output_size,
        *x.stride(),
        float_bits(scales[0]), float_bits(scales[1]),
        LINEAR=linear, CUBIC=cubic, ALIGN=align_corners, EXACT=exact, CHANNELS_LAST=channels_last,
        COMPUTE=compute_dtype(x.dtype),
        # (source positions in torch's opmath: fp64 for fp64 tensors, else fp32, uint8's nearest too)
        POSITION=tl.float64 if x.dtype == torch.float64 else tl.float32,
        BLOCK=block, INDEX_64=needs_int64_indexing(x, out), num_warps=num_warps,
    )  # fmt: skip
    return out


def _resample_bwd_1d(grad: torch.Tensor, dim: int, in_size: int, scale: float, linear: bool,
                     align_corners: bool, exact: bool, channels_last: bool, cubic: bool) -> torch.Tensor:  # fmt: skip
    shape = list(grad.shape)
    out_len = shape[dim]
    shape[dim] = in_size
    grad_x = empty_nchw(shape, grad.dtype, grad.device, channels_last)
    if grad_x.numel() == 0:
        return grad_x
    if grad.numel() == 0:
        raise ValueError("interpolate backward: an empty output cannot come from a non-empty input")
    inverse = 1.0 / scale if scale > 0 else 0.0
    # Outputs reading one input: those whose source lies within one (nearest: half-open unit; cubic:
    # two) of it.
    reach = 4.0 if cubic else 2.0 if linear else 1.0
    count = math.ceil(reach * inverse) + 5 if scale > 0 else out_len
    block, num_warps = window_launch_config(grad_x.numel())
    # One program instance computes BLOCK input gradients.
    resample_bwd_kernel[(cdiv(grad_x.numel(), block),)](
        grad, grad_x,
        grad_x.numel(), shape[1], shape[2], shape[3], out_len,
        *grad.stride(),
        float_bits(scale), inverse, min(count, out_len + 1),
        ALONG_H=dim == 2, LINEAR=linear, CUBIC=cubic, ALIGN=align_corners, EXACT=exact, CHANNELS_LAST=channels_last,
        COMPUTE=compute_dtype(grad.dtype),
        BLOCK=block, INDEX_64=needs_int64_indexing(grad, grad_x), num_warps=num_warps,
    )  # fmt: skip
    return grad_x


def launch_resample2d_bwd(grad: torch.Tensor, input_size: tuple[int, int], scales: tuple[float, float], *,
                          linear: bool, align_corners: bool = False, exact: bool = False,
                          channels_last: bool = False, cubic: bool = False) -> torch.Tensor:  # fmt: skip
    """Gradient of ``launch_resample2d_fwd`` w.r.t. x from grad (N, C, OH, OW, any strides): an
    (N, C, H, W) tensor (channels-last if asked), computed along W and then along H."""
    if grad.dim() != 4:
        raise ValueError(f"resample backward takes an (N, C, OH, OW) gradient, got shape {list(grad.shape)}")
    check_floating("interpolate backward", grad, FLOATING_DTYPES)
    h, w = input_size
    along_w = _resample_bwd_1d(grad, 3, w, scales[1], linear, align_corners, exact, channels_last, cubic)
    if grad.shape[2] == h and scales[0] == 1.0:
        return along_w  # a 1-d resize (or an unchanged height): the H pass would copy
    return _resample_bwd_1d(along_w, 2, h, scales[0], linear, align_corners, exact, channels_last, cubic)


# ----------------------------------------------------------------------------------------------
# uint8 'bilinear' / 'bicubic': torch's CPU int16 fixed-point separable path
# ----------------------------------------------------------------------------------------------
#
# torch resizes uint8 images one dim at a time (W, then H; a dim whose size is unchanged is
# skipped), each output a sum of at most 2 (4) taps with int16 weights and a rounding offset:
#     out = clamp(((1 << (p - 1)) + sum_k w16[o, k] * x[first[o] + k]) >> p, 0, 255)
# The weights come from the same source positions as the float kernels (computed on the host in
# float64, as torch's tables), taps outside the input folded onto the edge, scaled by 2^p for the
# largest p that keeps the largest weight within int16 (aten UpSampleKernel.cpp,
# _compute_index_ranges_int16_weights). The intermediate is rounded to uint8, as torch's.

_TAPS = {False: 2, True: 4}


def _cubic_filter(x: float) -> float:
    """torch's cubic convolution (A = -0.75, the non-antialiased uint8 path) at distance x."""
    a = -0.75
    x = abs(x)
    if x < 1.0:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    if x < 2.0:
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return 0.0


def _uint8_pass_tables(in_size: int, out_size: int, align_corners: bool, scale_factor: float | None,
                       cubic: bool) -> tuple[list[int], list[int], list[int], int]:  # fmt: skip
    """(first tap, tap count, int16 weights (out_size * taps), precision) of one 1-d pass, as torch's
    _compute_indices_min_size_weights + _compute_index_ranges_int16_weights compute them."""
    taps = _TAPS[cubic]
    if align_corners:
        scale = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        scale = 1.0 / scale_factor if scale_factor is not None and scale_factor > 0 else in_size / out_size
    support = taps // 2
    firsts, counts, weights, largest = [], [], [], 0.0
    for o in range(out_size):
        if align_corners:
            source = scale * o
        else:
            source = scale * (o + 0.5) - 0.5
            if not cubic and source < 0:
                source = 0.0
        index = min(math.floor(float(np.float32(source))), in_size - 1)  # torch's floorf
        fraction = min(max(source - index, 0.0), 1.0)
        unbound_first = index - support + 1
        first = max(unbound_first, 0)
        count = min(max(min(index + support + 1, in_size) - first, 0), taps)
        row = [0.0] * taps
        slot = 0
        for k in range(taps):
            w = (
                (1.0 - abs(float(k + 1 - support) - fraction))
                if not cubic
                else _cubic_filter(k + 1 - support - fraction)
            )
            w = max(w, 0.0) if not cubic else w
            if unbound_first + k <= 0:
                slot = 0
            elif unbound_first + k >= in_size - 1:
                slot = count - 1
            row[slot] += w
            largest = max(largest, row[slot])
            slot += 1
        firsts.append(first)
        counts.append(count)
        weights.extend(row)
    precision = 0
    while precision < 22 and int(0.5 + largest * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    fixed = [int(-0.5 + w * (1 << precision)) if w * (1 << precision) < 0 else int(0.5 + w * (1 << precision))
             for w in weights]  # fmt: skip
    return firsts, counts, fixed, precision


# One 1-d pass of the uint8 resize along dim 2 (ALONG_H) or 3 of x (N, C, P, Q): out[.., o, ..] =
# the rounded fixed-point sum above. One program computes BLOCK outputs; TAPS reads each.
@triton.jit
def resample_uint8_pass_kernel(
    x_ptr, first_ptr, count_ptr, weight_ptr, out_ptr,
    total, C, OP, OQ,
    x_stride_n, x_stride_c, x_stride_p, x_stride_q, rounding, precision,
    ALONG_H: tl.constexpr, TAPS: tl.constexpr, CHANNELS_LAST: tl.constexpr, BLOCK: tl.constexpr,
    INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < total
    n, c, p, q = unravel_nchw(index, C, OP, OQ, CHANNELS_LAST)
    if ALONG_H:
        o = p
        base = x_ptr + n * x_stride_n + c * x_stride_c + q * x_stride_q
        step = x_stride_p
    else:
        o = q
        base = x_ptr + n * x_stride_n + c * x_stride_c + p * x_stride_p
        step = x_stride_q
    first = tl.load(first_ptr + o, mask=mask, other=0)
    count = tl.load(count_ptr + o, mask=mask, other=0)
    acc = tl.zeros([BLOCK], tl.int32) + rounding  # 1 << (precision - 1): the +0.5 of rounding
    for k in tl.static_range(TAPS):
        inside = mask & (k < count)
        tap = tl.load(base + (first + k) * step, mask=inside, other=0).to(tl.int32)
        weight = tl.load(weight_ptr + o * TAPS + k, mask=inside, other=0)
        acc += tap * weight
    store_as(out_ptr + index, tl.minimum(tl.maximum(acc >> precision, 0), 255), mask)


def launch_resample2d_uint8(x: torch.Tensor, output_size: tuple[int, int],
                            scale_factors: tuple[float | None, float | None], *, align_corners: bool,
                            cubic: bool) -> torch.Tensor:  # fmt: skip
    """uint8 ``x`` (N, C, H, W), any strides, resized bilinearly (``cubic``: bicubically) to
    ``output_size`` as torch's CPU does (the section comment above); ``scale_factors`` per dim (None:
    from the sizes). A new tensor, channels-last for a channels-last x, else contiguous."""
    if x.dim() != 4 or x.dtype != torch.uint8:
        raise ValueError(f"launch_resample2d_uint8 takes a uint8 (N, C, H, W) tensor, got {x.dtype} {list(x.shape)}")
    channels_last = prefers_channels_last(x)
    current = x
    for dim in (3, 2):  # W first, as torch
        in_size, out_size = current.shape[dim], output_size[dim - 2]
        if in_size == out_size:
            continue  # torch skips the pass
        shape = list(current.shape)
        shape[dim] = out_size
        out = empty_nchw(shape, torch.uint8, x.device, channels_last)
        if out.numel():
            firsts, counts, weights, precision = _uint8_pass_tables(
                in_size, out_size, align_corners, scale_factors[dim - 2], cubic
            )
            tables = [torch.tensor(values, dtype=torch.int32).to(x.device) for values in (firsts, counts, weights)]
            block, num_warps = window_launch_config(out.numel())
            # One program instance computes BLOCK outputs.
            resample_uint8_pass_kernel[(cdiv(out.numel(), block),)](
                current, *tables, out,
                out.numel(), shape[1], shape[2], shape[3],
                *current.stride(), 1 << (precision - 1), precision,
                ALONG_H=dim == 2, TAPS=_TAPS[cubic], CHANNELS_LAST=channels_last,
                BLOCK=block, INDEX_64=needs_int64_indexing(current, out), num_warps=num_warps,
            )  # fmt: skip
        current = out
    if current is x:  # nothing resized: a copy, as torch returns a new tensor
        return launch_resample2d_fwd(x, output_size, (1.0, 1.0), linear=False)
    return current
