"""Resizing the last two dims of an (N, C, H, W) tensor, torch's F.interpolate 'nearest',
'bilinear' and 'bicubic' (a 1-d resize is the H = OH = 1 case), forward and backward.

Source positions follow torch's CPU kernels exactly, per dim of input size ``I`` and output
size ``O``, with ``scale`` = I / O or 1 / scale_factor (the caller passes 1 when I == O, where
torch copies):

- nearest:  ``i = min(floor(o * scale), I - 1)`` in float32 (torch's ``nearest_idx``; scale 1/2
  when O == 2 I); 'nearest-exact': ``min(floor((o + 0.5) * scale), I - 1)``, no shortcuts;
- linear:   ``src = scale * o`` (align_corners; scale = (I - 1) / (O - 1)) or
  ``max(scale * (o + 0.5) - 0.5, 0)``; ``i0 = min(floor(src), I - 1)``, ``i1 = i0 + (i0 < I - 1)``,
  weights ``1 - l`` and ``l = clamp(src - i0, 0, 1)``, in fp32 (fp64 for fp64 tensors);
- cubic:    ``src = scale * o`` or ``scale * (o + 0.5) - 0.5`` (no clamp at 0), ``i0`` and ``l`` as
  linear; taps ``clamp(i0 - 1 + k, 0, I - 1)`` for k < 4 with torch's cubic convolution weights
  (A = -0.75, aten UpSample.h ``get_cubic_upsample_coefficients``).

The forward computes each output from its one (nearest), four (bilinear) or 16 (bicubic) sources. The backward
is separable (the resize is a product of 1-d resizes): one 1-d gather kernel along W, then along
H. Each input element visits the outputs that may read it (an index window derived from
1 / scale, with a margin) and recomputes their source indices and weights exactly as the forward
did, so nothing is scattered and the sums are deterministic.
"""

from __future__ import annotations

import math

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

__all__ = ["source_scale", "cubic_weight", "launch_resample2d_fwd", "launch_resample2d_bwd"]

_CUBIC_A = tl.constexpr(-0.75)  # the cubic convolution's A, torch's for bicubic interpolate and grid_sample


def source_scale(in_size: int, out_size: int, linear: bool, align_corners: bool, scale_factor: float | None,
                 exact: bool = False) -> float:  # fmt: skip
    """The factor from output to input positions along one dim, as torch's CPU kernels compute it
    (``exact``: 'nearest-exact', which has none of the shortcuts below)."""
    if exact:
        return 1.0 / scale_factor if scale_factor is not None and scale_factor > 0 else in_size / out_size
    if in_size == out_size:
        return 1.0  # torch copies
    if not linear and out_size == 2 * in_size:
        return 0.5  # torch's nearest takes o >> 1 here, whatever the scale factor
    if linear and align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    if scale_factor is not None and scale_factor > 0:
        return 1.0 / scale_factor
    return in_size / out_size


@triton.jit
def _nearest_source(o, in_size, scale, EXACT: tl.constexpr):
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
    i0 = tl.minimum(tl.floor(source).to(o.dtype), in_size - 1)
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
    i0 = tl.minimum(tl.floor(source).to(o.dtype), in_size - 1)
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
    COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
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
        ih = _nearest_source(oh, H, bits_to_float(scale_h_bits).to(tl.float32), EXACT)
        iw = _nearest_source(ow, W, bits_to_float(scale_w_bits).to(tl.float32), EXACT)
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
            source = _nearest_source(o, in_size, bits_to_float(scale_bits).to(tl.float32), EXACT)
            w = tl.full([BLOCK], 1.0, COMPUTE)
            ok = ok & (source == i)
        grad = tl.load(g_base + o * g_step, mask=ok, other=0).to(COMPUTE)
        acc += tl.where(ok, grad * w, 0.0)
    store_as(grad_x_ptr + index, acc, mask)


def launch_resample2d_fwd(x: torch.Tensor, output_size: tuple[int, int], scales: tuple[float, float], *,
                          linear: bool, align_corners: bool = False, exact: bool = False,
                          cubic: bool = False) -> torch.Tensor:  # fmt: skip
    """``x`` (N, C, H, W), any strides, resized to ``output_size`` with source factors ``scales``
    (from ``source_scale``): nearest, bilinear or (``cubic``) bicubic. Returns a tensor of x's dtype,
    channels-last for a channels-last x (as torch's), else contiguous."""
    if x.dim() != 4:
        raise ValueError(f"resample kernels take an (N, C, H, W) tensor, got shape {list(x.shape)}")
    check_floating("interpolate", x, FLOATING_DTYPES)
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
