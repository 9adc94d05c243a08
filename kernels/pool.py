"""2-d pooling over the last two dims of an (N, C, H, W) tensor: max and average, with fixed or
adaptive windows, forward and backward.

Windows. A fixed window of output row ``oh`` covers input rows ``oh * stride - padding + k *
dilation`` for ``k < kernel``; rows outside [0, H) are padding. An adaptive window (torch's
adaptive pooling) covers rows ``floor(oh * H / OH) <= ih < ceil((oh + 1) * H / OH)``; the kernels
loop over the longest such window and mask the rest. Columns are the same with W.

Forward: one program computes BLOCK outputs (consecutive in memory: N, C, OH, OW order, or N,
OH, OW, C for a channels-last tensor, whose outputs are channels-last too) by looping over the
window. Max pooling keeps torch's rule, ``take if value > best or value is NaN``, so a NaN in the
window is the maximum (the last NaN wins the index), and records the argmax as torch's flat
``ih * W + iw`` int64 index. Average pooling divides by torch's divisor (``divisor_override``,
else the window clipped to the padded input, else the count of real elements).

Backward is a gather, not a scatter: one program computes BLOCK input gradients, each by
visiting the outputs whose window may contain it (fixed windows: the ceil(kernel / stride)
nearest, or with dilation one candidate per kernel tap; adaptive: the few that straddle it).
Overlapping windows thus accumulate in registers in a fixed order: deterministic, no atomics,
no zero-filled buffer.

Arithmetic is fp32 (fp64 for fp64 tensors, integers in their own type for max pooling); results
have the input's dtype.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import FLOATING_DTYPES, check_floating, compute_dtype, needs_int64_indexing
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.elementwise import linear_index, store_as
from tritongrad.runtime import cdiv, elementwise_launch_config, is_interpreter

__all__ = [
    "PoolWindow",
    "launch_pool2d_fwd",
    "launch_pool2d_bwd",
    "launch_pool2d_gather",
    "prefers_channels_last",
    "empty_nchw",
    "unravel_nchw",
    "window_launch_config",
]

# torch's CPU averages int64 too (each window's sum divided with truncation), no other integer type.
AVG_POOL_DTYPES = (*FLOATING_DTYPES, torch.int64)
MAX_POOL_DTYPES = (
    torch.float16,
    torch.bfloat16,
    torch.float32,
    torch.float64,
    torch.int8,
    torch.uint8,
    torch.int16,
    torch.int32,
    torch.int64,
)


# On a GPU a program of the window kernels (pooling, padding, resizing) gives each thread 2
# outputs: every output keeps its window position, running value and index live across the
# window loop, and at 4-8 per thread ptxas spills a few registers in some variants (fp64, int64
# indices, 3-d padding; measured with the AOT kernel report for sm_80/sm_90). Their loads are
# per-element gathers anyway, so fewer outputs per thread costs no access width.
_GPU_WINDOW_CONFIG = (256, 4)


def window_launch_config(numel: int) -> tuple[int, int]:
    """(BLOCK, num_warps) for a kernel in which one program computes BLOCK outputs by visiting a
    window or candidate list per output: the elementwise policy in the interpreter."""
    return elementwise_launch_config(numel) if is_interpreter() else _GPU_WINDOW_CONFIG


def prefers_channels_last(t: torch.Tensor) -> bool:
    """torch's memory-format rule for a 4-d result: channels-last when ``t`` is laid out so
    (dense channels-last, and not also plain contiguous)."""
    return t.dim() == 4 and not t.is_contiguous() and t.is_contiguous(memory_format=torch.channels_last)


def empty_nchw(shape, dtype: torch.dtype, device, channels_last: bool) -> torch.Tensor:
    """An uninitialised (N, C, H, W) tensor, contiguous or channels-last."""
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return torch.empty(tuple(shape), dtype=dtype, device=device, memory_format=memory_format)


class PoolWindow:
    """The geometry of a pooling: output size, and either fixed windows or adaptive ones.

    ``kernel``, ``stride``, ``padding`` and ``dilation`` are (h, w) pairs; they are ignored when
    ``adaptive`` is set (the windows then follow from input and output sizes).
    """

    __slots__ = ("output_size", "kernel", "stride", "padding", "dilation", "adaptive")

    def __init__(self, output_size, kernel=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1), adaptive=False):
        self.output_size = tuple(output_size)
        self.kernel, self.stride = tuple(kernel), tuple(stride)
        self.padding, self.dilation = tuple(padding), tuple(dilation)
        self.adaptive = adaptive

    def taps(self, input_size: tuple[int, int]) -> tuple[int, int]:
        """Window positions a forward program loops over, per dim (the longest adaptive window)."""
        if not self.adaptive:
            return self.kernel
        return tuple(min(size, -(-size // out) + 1) for size, out in zip(input_size, self.output_size))

    def candidates(self, input_size: tuple[int, int]) -> tuple[int, int]:
        """Outputs per dim whose window may contain a given input (the backward's loop lengths)."""
        if not self.adaptive:
            if self.unit_dilation:
                # Consecutive windows: at most ceil(kernel / stride) of them overlap any input.
                return tuple(min(-(-k // s), out) for k, s, out in zip(self.kernel, self.stride, self.output_size))
            return self.kernel
        return tuple(min(out, math.ceil(out / size) + 1) for size, out in zip(input_size, self.output_size))

    @property
    def unit_dilation(self) -> bool:
        return not self.adaptive and self.dilation == (1, 1)

    def arguments(self) -> tuple[int, ...]:
        return (*self.stride, *self.padding, *self.dilation)


@triton.jit
def unravel_nchw(index, C, H, W, CHANNELS_LAST: tl.constexpr):
    """(n, c, h, w) of a linear index into an (N, C, H, W) tensor stored contiguously or channels-last."""
    if CHANNELS_LAST:
        c = index % C
        rest = index // C
        w = rest % W
        rest = rest // W
        h = rest % H
        n = rest // H
    else:
        w = index % W
        rest = index // W
        h = rest % H
        rest = rest // H
        c = rest % C
        n = rest // C
    return n, c, h, w


@triton.jit
def _fixed_or_adaptive_start(o, in_size, out_size, stride, padding, ADAPTIVE: tl.constexpr):
    """First input row (or column) of output ``o``'s window, and the window's end (exclusive)."""
    if ADAPTIVE:
        start = (o * in_size) // out_size
        end = ((o + 1) * in_size + out_size - 1) // out_size
    else:
        start = o * stride - padding
        end = start  # unused: a fixed window ends after its taps
    return start, end


@triton.jit
def _avg_divisor(oh, ow, H, W, OH, OW, KH, KW, SH, SW, PH, PW, divisor_override,
                 ADAPTIVE: tl.constexpr, COUNT_INCLUDE_PAD: tl.constexpr):  # fmt: skip
    """torch's divisor of output (oh, ow) of an average pooling."""
    h_start, h_end = _fixed_or_adaptive_start(oh, H, OH, SH, PH, ADAPTIVE)
    w_start, w_end = _fixed_or_adaptive_start(ow, W, OW, SW, PW, ADAPTIVE)
    if ADAPTIVE:
        divisor = (h_end - h_start) * (w_end - w_start)
    else:
        # The window clipped to the padded input (ceil_mode may run past it), then to the input.
        h_end = tl.minimum(h_start + KH, H + PH)
        w_end = tl.minimum(w_start + KW, W + PW)
        pool_size = (h_end - h_start) * (w_end - w_start)
        inside = (tl.minimum(h_end, H) - tl.maximum(h_start, 0)) * (tl.minimum(w_end, W) - tl.maximum(w_start, 0))
        if COUNT_INCLUDE_PAD:
            divisor = pool_size
        else:
            divisor = inside
        divisor = tl.where(divisor_override != 0, divisor_override + 0 * divisor, divisor)
    return divisor


# out[n, c, oh, ow] = max or mean of x over the window of (oh, ow); indices = flat argmax.
# One program computes BLOCK outputs. Memory: each output reads its window (KH * KW loads, shared
# with neighbouring windows through the cache) and writes once (plus one int64 index for max).
@triton.jit
def pool2d_fwd_kernel(
    x_ptr, out_ptr, indices_ptr,
    total, C, H, W, OH, OW,
    x_stride_n, x_stride_c, x_stride_h, x_stride_w,
    KH, KW, SH, SW, PH, PW, DH, DW, divisor_override,
    MAX: tl.constexpr, ADAPTIVE: tl.constexpr, COUNT_INCLUDE_PAD: tl.constexpr, CHANNELS_LAST: tl.constexpr,
    INTEGER: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < total
    n, c, oh, ow = unravel_nchw(index, C, OH, OW, CHANNELS_LAST)
    x_base = x_ptr + n * x_stride_n + c * x_stride_c
    h_start, h_end = _fixed_or_adaptive_start(oh, H, OH, SH, PH, ADAPTIVE)
    w_start, w_end = _fixed_or_adaptive_start(ow, W, OW, SW, PW, ADAPTIVE)

    best = tl.zeros([BLOCK], COMPUTE)
    best_index = tl.full([BLOCK], -1, tl.int64)
    total_sum = tl.zeros([BLOCK], COMPUTE)
    for kh in range(KH):
        ih = h_start + kh * DH
        h_ok = (ih >= 0) & (ih < H)
        if ADAPTIVE:
            h_ok = h_ok & (ih < h_end)
        for kw in range(KW):
            iw = w_start + kw * DW
            ok = mask & h_ok & (iw >= 0) & (iw < W)
            if ADAPTIVE:
                ok = ok & (iw < w_end)
            value = tl.load(x_base + ih * x_stride_h + iw * x_stride_w, mask=ok, other=0).to(COMPUTE)
            if MAX:
                # torch's rule: the first real element, then anything larger, then any NaN.
                take = ok & ((best_index < 0) | (value > best) | (value != value))
                best = tl.where(take, value, best)
                best_index = tl.where(take, (ih * W + iw).to(tl.int64), best_index)
            else:
                total_sum += tl.where(ok, value, 0)
    if MAX:
        store_as(out_ptr + index, best, mask)
        tl.store(indices_ptr + index, best_index, mask=mask)
    else:
        divisor = _avg_divisor(
            oh, ow, H, W, OH, OW, KH, KW, SH, SW, PH, PW, divisor_override, ADAPTIVE, COUNT_INCLUDE_PAD
        )
        if INTEGER:  # int64: torch's C++ division, truncating toward zero
            divisor = divisor.to(COMPUTE)
            magnitude = tl.where(total_sum < 0, -total_sum, total_sum) // divisor
            store_as(out_ptr + index, tl.where(total_sum < 0, -magnitude, magnitude), mask)
        else:
            store_as(out_ptr + index, total_sum / divisor.to(COMPUTE), mask)


@triton.jit
def _candidate(i, j, in_size, out_size, stride, padding, dilation, kernel,
               ADAPTIVE: tl.constexpr, UNIT_DILATION: tl.constexpr):  # fmt: skip
    """The ``j``-th output row whose window may hold input row ``i``, and whether it exists."""
    if ADAPTIVE:
        first = (i * out_size) // in_size
        last = ((i + 1) * out_size + in_size - 1) // in_size  # exclusive
        o = first + j
        ok = o < last
    elif UNIT_DILATION:
        # Windows [o * stride - padding, + kernel): the last one starting at or before i (capped at
        # the last output: a later start exists only past it), and back.
        o = tl.minimum((i + padding) // stride, out_size - 1) - j
        ok = (o >= 0) & (o < out_size) & (o * stride - padding + kernel > i)
    else:
        # Tap j of output o sits at o * stride - padding + j * dilation == i.
        shifted = i + padding - j * dilation
        safe = tl.where(shifted >= 0, shifted, 0)
        o = safe // stride
        ok = (shifted >= 0) & (o * stride == safe) & (o < out_size)
    return o, ok


# grad_x[n, c, ih, iw] = sum of grad_out over the outputs whose window holds (ih, iw) (max: only
# those whose argmax it is; average: each divided by its divisor). One program computes BLOCK
# input gradients. Memory: per input, CH * CW candidate loads of grad_out (+ indices for max),
# almost all from cache, and one write; no atomics.
@triton.jit
def pool2d_bwd_kernel(
    grad_out_ptr, indices_ptr, grad_x_ptr,
    total, C, H, W, OH, OW,
    g_stride_n, g_stride_c, g_stride_h, g_stride_w,
    i_stride_n, i_stride_c, i_stride_h, i_stride_w,
    CH, CW, KH, KW, SH, SW, PH, PW, DH, DW, divisor_override,
    MAX: tl.constexpr, ADAPTIVE: tl.constexpr, COUNT_INCLUDE_PAD: tl.constexpr, CHANNELS_LAST: tl.constexpr,
    UNIT_DILATION: tl.constexpr,
    COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < total
    n, c, ih, iw = unravel_nchw(index, C, H, W, CHANNELS_LAST)
    g_base = grad_out_ptr + n * g_stride_n + c * g_stride_c
    i_base = indices_ptr + n * i_stride_n + c * i_stride_c
    flat = (ih * W + iw).to(tl.int64)

    acc = tl.zeros([BLOCK], COMPUTE)
    for jh in range(CH):
        oh, h_ok = _candidate(ih, jh, H, OH, SH, PH, DH, KH, ADAPTIVE, UNIT_DILATION)
        for jw in range(CW):
            ow, w_ok = _candidate(iw, jw, W, OW, SW, PW, DW, KW, ADAPTIVE, UNIT_DILATION)
            ok = mask & h_ok & w_ok
            grad = tl.load(g_base + oh * g_stride_h + ow * g_stride_w, mask=ok, other=0).to(COMPUTE)
            if MAX:
                argmax = tl.load(i_base + oh * i_stride_h + ow * i_stride_w, mask=ok, other=-1)
                acc += tl.where(ok & (argmax == flat), grad, 0)
            else:
                divisor = _avg_divisor(
                    oh, ow, H, W, OH, OW, KH, KW, SH, SW, PH, PW, divisor_override, ADAPTIVE, COUNT_INCLUDE_PAD
                )
                # (A candidate that is no output may have divisor 0: divide by 1 there instead.)
                acc += tl.where(ok, grad / tl.where(ok, divisor, 1).to(COMPUTE), 0)
    store_as(grad_x_ptr + index, acc, mask)


# out[n, c, o] = x[n, c, indices[n, c, o] // W, indices[n, c, o] % W]: values at a max pooling's
# argmax (the gradient of its backward w.r.t. grad_out). One program gathers BLOCK outputs.
# Memory: one index read, one gathered read and one write each.
@triton.jit
def pool2d_gather_kernel(
    x_ptr, indices_ptr, out_ptr,
    total, C, W, OH, OW,
    x_stride_n, x_stride_c, x_stride_h, x_stride_w,
    CHANNELS_LAST: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < total
    n, c, _, _ = unravel_nchw(index, C, OH, OW, CHANNELS_LAST)
    flat = tl.load(indices_ptr + index, mask=mask, other=0)
    x_offset = n * x_stride_n + c * x_stride_c + (flat // W) * x_stride_h + (flat % W) * x_stride_w
    value = tl.load(x_ptr + x_offset, mask=mask, other=0).to(COMPUTE)
    store_as(out_ptr + index, value, mask)


def launch_pool2d_fwd(
    x: torch.Tensor,
    window: PoolWindow,
    *,
    kind: str,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Max (``kind='max'``) or average (``kind='avg'``) pooling of ``x`` (N, C, H, W), any strides.

    Returns (out, indices): out is a new (N, C, OH, OW) tensor of x's dtype, contiguous or, for a
    channels-last x, channels-last as torch's; indices
    (int64, same shape, flat ``ih * W + iw``) for max pooling, else None. The caller has checked
    the geometry (torch's errors live in tritongrad/ops/pooling.py).
    """
    if kind not in ("max", "avg"):
        raise ValueError(f"pooling kind must be 'max' or 'avg', got {kind!r}")
    if x.dim() != 4:
        raise ValueError(f"pool2d kernels take an (N, C, H, W) tensor, got shape {list(x.shape)}")
    check_floating(f"{kind}_pool2d", x, MAX_POOL_DTYPES if kind == "max" else AVG_POOL_DTYPES)
    n, c, h, w = x.shape
    oh, ow = window.output_size
    channels_last = prefers_channels_last(x)
    out = empty_nchw((n, c, oh, ow), x.dtype, x.device, channels_last)
    indices = empty_nchw((n, c, oh, ow), torch.int64, x.device, channels_last) if kind == "max" else None
    if out.numel() == 0:
        return out, indices
    kh, kw = window.taps((h, w))
    block, num_warps = window_launch_config(out.numel())
    if window.adaptive and not is_interpreter():
        # Adaptive windows add their per-output bounds to what stays live: at 2 outputs a thread
        # triton 3.6's ptxas spilled (fp32, sm_80); one a thread.
        block = 32 * num_warps
    # One program instance computes BLOCK outputs.
    pool2d_fwd_kernel[(cdiv(out.numel(), block),)](
        x, out, out if indices is None else indices,
        out.numel(), c, h, w, oh, ow,
        *x.stride(),
        kh, kw, *window.arguments(), divisor_override or 0,
        MAX=kind == "max", ADAPTIVE=window.adaptive, COUNT_INCLUDE_PAD=count_include_pad,
        CHANNELS_LAST=channels_last, INTEGER=not x.dtype.is_floating_point, COMPUTE=compute_dtype(x.dtype),
        BLOCK=block, INDEX_64=needs_int64_indexing(x, out), num_warps=num_warps,
    )  # fmt: skip
    return out, indices


def launch_pool2d_bwd(
    grad_out: torch.Tensor,
    indices: torch.Tensor | None,
    input_size: tuple[int, int],
    window: PoolWindow,
    *,
    kind: str,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    channels_last: bool = False,
) -> torch.Tensor:
    """Gradient of ``launch_pool2d_fwd`` w.r.t. x, from grad_out (N, C, OH, OW, any strides) and,
    for max pooling, the forward's indices. Returns an (N, C, H, W) tensor, channels-last if asked."""
    if grad_out.dim() != 4 or tuple(grad_out.shape[2:]) != window.output_size:
        raise ValueError(f"pool2d backward: grad_out shape {list(grad_out.shape)} does not match the pooling")
    if kind == "max" and (indices is None or indices.dtype != torch.int64 or indices.shape != grad_out.shape):
        raise ValueError("max_pool2d backward needs the forward's int64 indices of grad_out's shape")
    check_floating(f"{kind}_pool2d backward", grad_out)
    n, c, _, _ = grad_out.shape
    h, w = input_size
    grad_x = empty_nchw((n, c, h, w), grad_out.dtype, grad_out.device, channels_last)
    if grad_x.numel() == 0:
        return grad_x
    if grad_out.numel() == 0:
        return launch_fill_(grad_x, 0)  # adaptive pooling to a 0 x 0 output: no input is used
    ch, cw = window.candidates((h, w))
    kh, kw = window.taps((h, w))
    block, num_warps = window_launch_config(grad_x.numel())
    # One program instance computes BLOCK input gradients.
    pool2d_bwd_kernel[(cdiv(grad_x.numel(), block),)](
        grad_out, grad_x if indices is None else indices, grad_x,
        grad_x.numel(), c, h, w, *window.output_size,
        *grad_out.stride(),
        *(grad_x if indices is None else indices).stride(),
        ch, cw, kh, kw, *window.arguments(), divisor_override or 0,
        MAX=kind == "max", ADAPTIVE=window.adaptive, UNIT_DILATION=window.unit_dilation,
        COUNT_INCLUDE_PAD=count_include_pad,
        CHANNELS_LAST=channels_last, COMPUTE=compute_dtype(grad_out.dtype), BLOCK=block,
        INDEX_64=needs_int64_indexing(grad_out, grad_x, indices), num_warps=num_warps,
    )  # fmt: skip
    return grad_x


def launch_pool2d_gather(x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """``x`` (N, C, H, W, any strides) read at a max pooling's ``indices`` (N, C, OH, OW, contiguous
    or channels-last): a tensor of the indices' shape and layout and x's dtype."""
    if x.dim() != 4 or indices.dim() != 4 or tuple(x.shape[:2]) != tuple(indices.shape[:2]):
        raise ValueError(f"pool2d gather: x {list(x.shape)} and indices {list(indices.shape)} do not match")
    channels_last = prefers_channels_last(indices)
    if indices.dtype != torch.int64 or not (indices.is_contiguous() or channels_last):
        raise ValueError("pool2d gather needs the forward's int64 indices (contiguous or channels-last)")
    check_floating("max_pool2d double backward", x)
    out = empty_nchw(indices.shape, x.dtype, x.device, channels_last)
    if out.numel() == 0:
        return out
    block, num_warps = window_launch_config(out.numel())
    # One program instance gathers BLOCK outputs.
    pool2d_gather_kernel[(cdiv(out.numel(), block),)](
        x, indices, out,
        out.numel(), x.shape[1], x.shape[3], indices.shape[2], indices.shape[3],
        *x.stride(),
        CHANNELS_LAST=channels_last, COMPUTE=compute_dtype(x.dtype), BLOCK=block,
        INDEX_64=needs_int64_indexing(x, out), num_warps=num_warps,
    )  # fmt: skip
    return out
