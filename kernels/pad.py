"""Padding of the last one to three dims of a strided tensor (torch's F.pad), forward and backward.

Modes, for an output position ``o`` along a padded dim of input size ``S`` padded by ``before``
(negative: cropped) and ``after``, with ``i = o - before``:

- constant:  x[i] where 0 <= i < S, else ``value``;
- reflect:   x[-i] left of the input, x[2 (S - 1) - i] right of it (the edge is not repeated);
- replicate: x[clamp(i, 0, S - 1)];
- circular:  x[i mod S] (|pads| <= S, so one wrap).

The tensor is seen as (lead..., D, H, W) with size-1 dims standing in for unpadded ones; the lead
dims are coalesced and addressed with ``strided_offset``, so any input layout is read in place.

The backward is a gather: each input element sums the output gradients whose source it is. Per
padded dim an element is the source of at most three outputs (itself and two mirror or wrap
images) or, for replicate, of the whole pad region at its edge; the kernel visits those candidates
(``_pad_candidate``) in a fixed order, so the accumulation is deterministic and needs no atomics.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import bits_to_float, compute_dtype, float_bits, needs_int64_indexing, triton_dtype
from tritongrad.kernels.elementwise import linear_index, store_as
from tritongrad.kernels.pool import empty_nchw, prefers_channels_last, window_launch_config
from tritongrad.kernels.strided import MAX_RANK, coalesce, strided_offset
from tritongrad.runtime import cdiv

__all__ = ["PAD_MODES", "launch_pad_fwd", "launch_pad_bwd"]

PAD_MODES = {"constant": 0, "reflect": 1, "replicate": 2, "circular": 3}
# constexpr globals: a compiled (non-interpreted) kernel may only read globals of this kind.
_REFLECT = tl.constexpr(PAD_MODES["reflect"])
_REPLICATE = tl.constexpr(PAD_MODES["replicate"])
_CIRCULAR = tl.constexpr(PAD_MODES["circular"])
_CONSTANT = tl.constexpr(PAD_MODES["constant"])


@triton.jit
def _pad_source(o, size, before, MODE: tl.constexpr):
    """The input index output ``o`` copies along one dim, and whether it copies one at all."""
    i = o - before
    if MODE == _REFLECT:
        i = tl.where(i < 0, -i, i)
        i = tl.where(i >= size, 2 * (size - 1) - i, i)
    elif MODE == _REPLICATE:
        i = tl.minimum(tl.maximum(i, 0), size - 1)
    elif MODE == _CIRCULAR:
        i = tl.where(i < 0, i + size, tl.where(i >= size, i - size, i))
    return i, (i >= 0) & (i < size)


@triton.jit
def _pad_candidate(i, j, size, before, out_size, MODE: tl.constexpr):
    """The ``j``-th output index along one dim that copies input index ``i``, and whether it does."""
    direct = i + before
    if MODE == _REFLECT:
        # j = 1: the left mirror image, j = 2: the right one; the edges have no image.
        o = tl.where(j == 0, direct, tl.where(j == 1, before - i, before + 2 * (size - 1) - i))
        ok = (j == 0) | ((j == 1) & (i > 0)) | ((j == 2) & (i < size - 1))
    elif MODE == _REPLICATE:
        # j = 1 .. left: the left pad region (copies of i = 0); beyond: the right one (of i = S - 1).
        left = tl.maximum(before, 0)
        k = j - 1
        o = tl.where(j == 0, direct, tl.where(k < left, k, before + size + k - left))
        ok = (j == 0) | ((k < left) & (i == 0)) | ((k >= left) & (i == size - 1))
    elif MODE == _CIRCULAR:
        o = direct + tl.where(j == 1, -size, tl.where(j == 2, size, 0))
        ok = i >= 0
    else:
        o = direct
        ok = (i >= 0) & (j == 0)
    return o, ok & (o >= 0) & (o < out_size)


# out[lead, od, oh, ow] = x[lead, source(od), source(oh), source(ow)] or the constant value.
# One program fills BLOCK outputs. Memory: one read (none in constant padding) and one write each.
@triton.jit(do_not_specialize=["value_bits"])
def pad_fwd_kernel(
    x_ptr, out_ptr,
    total, lead_shape, x_lead_strides,
    D, H, W, OD, OH, OW,
    x_stride_d, x_stride_h, x_stride_w,
    before_d, before_h, before_w, value_bits,
    MODE: tl.constexpr, RANK: tl.constexpr, COMPUTE: tl.constexpr,
    BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < total
    ow = index % OW
    rest = index // OW
    oh = rest % OH
    rest = rest // OH
    od = rest % OD
    lead = rest // OD
    i_d, ok_d = _pad_source(od, D, before_d, MODE)
    i_h, ok_h = _pad_source(oh, H, before_h, MODE)
    i_w, ok_w = _pad_source(ow, W, before_w, MODE)
    inside = mask & ok_d & ok_h & ok_w
    offset = strided_offset(lead, lead_shape, x_lead_strides, RANK) + i_d * x_stride_d + i_h * x_stride_h
    value = tl.load(x_ptr + offset + i_w * x_stride_w, mask=inside, other=0).to(COMPUTE)
    if MODE == _CONSTANT:
        value = tl.where(inside, value, bits_to_float(value_bits).to(COMPUTE))
    store_as(out_ptr + index, value, mask)


# grad_x[lead, id, ih, iw] = sum of grad_out over the outputs that copied x[lead, id, ih, iw].
# One program computes BLOCK input gradients, visiting CD * CH * CW candidate outputs each
# (1 for constant padding); the loads are masked to the real ones. One write each.
@triton.jit
def pad_bwd_kernel(
    grad_out_ptr, grad_x_ptr,
    total, lead_shape, g_lead_strides,
    D, H, W, OD, OH, OW,
    g_stride_d, g_stride_h, g_stride_w,
    before_d, before_h, before_w, CD, CH, CW,
    MODE: tl.constexpr, RANK: tl.constexpr, COMPUTE: tl.constexpr,
    BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < total
    i_w = index % W
    rest = index // W
    i_h = rest % H
    rest = rest // H
    i_d = rest % D
    lead = rest // D
    g_base = grad_out_ptr + strided_offset(lead, lead_shape, g_lead_strides, RANK)
    acc = tl.zeros([BLOCK], COMPUTE)
    for jd in range(CD):
        od, ok_d = _pad_candidate(i_d, jd, D, before_d, OD, MODE)
        for jh in range(CH):
            oh, ok_h = _pad_candidate(i_h, jh, H, before_h, OH, MODE)
            for jw in range(CW):
                ow, ok_w = _pad_candidate(i_w, jw, W, before_w, OW, MODE)
                ok = mask & ok_d & ok_h & ok_w
                offset = od * g_stride_d + oh * g_stride_h + ow * g_stride_w
                acc += tl.load(g_base + offset, mask=ok, other=0).to(COMPUTE)
    store_as(grad_x_ptr + index, acc, mask)


def _with_three_padded_dims(t: torch.Tensor, padded: int) -> torch.Tensor:
    """``t`` viewed with exactly three trailing (padded) dims: size-1 dims fill in unpadded ones."""
    for _ in range(3 - padded):
        t = t.unsqueeze(t.dim() - padded)
    return t


def _lead_layout(t: torch.Tensor) -> tuple[tuple[int, ...], tuple[int, ...]]:
    shape, (strides,) = coalesce(tuple(t.shape[:-3]), [list(t.stride()[:-3])])
    if len(shape) > MAX_RANK:
        raise ValueError(f"pad: at most {MAX_RANK} non-mergeable leading dims are supported, got shape {list(t.shape)}")
    return tuple(shape), tuple(strides)


def _candidate_counts(pads, mode: str) -> list[int]:
    """Outputs per padded dim that may copy one input element (the backward's loop lengths)."""
    if mode == "constant":
        return [1] * len(pads)
    if mode == "replicate":
        return [1 + max(before, 0) + max(after, 0) for before, after in pads]
    return [1 if (before, after) == (0, 0) else 3 for before, after in pads]


def _padded_pairs(pads) -> list[tuple[int, int]]:
    return [(0, 0)] * (3 - len(pads)) + [tuple(p) for p in pads]


def _channels_last_plan(shape, pads, channels_last: bool):
    """For a channels-last (N, C, H, W) tensor: the permutation to its memory order (N, H, W, C) and
    the pads of those three trailing dims (C gets (0, 0) unless padded), so that the kernels walk
    both tensors in memory order. None when the tensor is not channels-last (or pads N)."""
    if not channels_last or len(shape) != 4 or len(pads) > 3:
        return None
    full = [(0, 0)] * (4 - len(pads)) + [tuple(p) for p in pads]
    return (0, 2, 3, 1), [full[2], full[3], full[1]]


def launch_pad_fwd(x: torch.Tensor, pads, mode: str = "constant", value: float = 0.0) -> torch.Tensor:
    """``x`` padded along its last ``len(pads)`` (1 to 3) dims; ``pads[k] = (before, after)`` for dim
    ``x.dim() - len(pads) + k`` (natural order, not torch's last-dim-first tuple). Any strides; the
    result has x's dtype and is channels-last for a channels-last x (as torch's), else contiguous.
    The caller has checked the pads against the mode."""
    if mode not in PAD_MODES:
        raise ValueError(f"pad mode must be one of {sorted(PAD_MODES)}, got {mode!r}")
    if not 1 <= len(pads) <= 3 or len(pads) > x.dim():
        raise ValueError(f"pad kernels pad 1 to 3 trailing dims, got {len(pads)} for shape {list(x.shape)}")
    triton_dtype(x.dtype)
    k = len(pads)
    out_shape = tuple(x.shape[:-k]) + tuple(s + b + a for s, (b, a) in zip(x.shape[-k:], pads))
    plan = _channels_last_plan(x.shape, pads, prefers_channels_last(x))
    out = (
        empty_nchw(out_shape, x.dtype, x.device, True)
        if plan
        else torch.empty(out_shape, dtype=x.dtype, device=x.device)
    )
    if out.numel() == 0:
        return out
    if plan:
        order, pads = plan
        x, out, k = x.permute(order), out.permute(order), 3
    x5, out5 = _with_three_padded_dims(x, k), _with_three_padded_dims(out, k)
    lead_shape, lead_strides = _lead_layout(x5)
    befores = [b for b, _ in _padded_pairs(pads)]
    block, num_warps = window_launch_config(out.numel())
    # One program instance fills BLOCK outputs (in the output's memory order).
    pad_fwd_kernel[(cdiv(out.numel(), block),)](
        x5, out5,
        out.numel(), lead_shape, lead_strides,
        *x5.shape[-3:], *out5.shape[-3:],
        *x5.stride()[-3:],
        *befores, float_bits(value),
        MODE=PAD_MODES[mode], RANK=len(lead_shape), COMPUTE=compute_dtype(x.dtype),
        BLOCK=block, INDEX_64=needs_int64_indexing(x, out), num_warps=num_warps,
    )  # fmt: skip
    return out.permute(_inverse(plan[0])) if plan else out


def _inverse(order) -> list[int]:
    inverse = [0] * len(order)
    for position, dim in enumerate(order):
        inverse[dim] = position
    return inverse


def launch_pad_bwd(grad_out: torch.Tensor, input_shape, pads, mode: str = "constant",
                   channels_last: bool = False) -> torch.Tensor:  # fmt: skip
    """Gradient of ``launch_pad_fwd`` w.r.t. x from grad_out (any strides): a tensor of
    ``input_shape`` (channels-last if asked and 4-d, else contiguous); reflect, replicate and
    circular padding sum the copies of each element."""
    if mode not in PAD_MODES:
        raise ValueError(f"pad mode must be one of {sorted(PAD_MODES)}, got {mode!r}")
    k = len(pads)
    expected = tuple(input_shape[:-k]) + tuple(s + b + a for s, (b, a) in zip(input_shape[-k:], pads))
    if tuple(grad_out.shape) != expected:
        raise ValueError(f"pad backward: grad_out shape {list(grad_out.shape)}, expected {list(expected)}")
    plan = _channels_last_plan(tuple(input_shape), pads, channels_last)
    if plan:
        grad_x = empty_nchw(input_shape, grad_out.dtype, grad_out.device, True)
    else:
        grad_x = torch.empty(tuple(input_shape), dtype=grad_out.dtype, device=grad_out.device)
    if grad_x.numel() == 0:
        return grad_x
    result = grad_x
    if plan:
        order, pads = plan
        grad_out, grad_x, k = grad_out.permute(order), grad_x.permute(order), 3
    g5, gx5 = _with_three_padded_dims(grad_out, k), _with_three_padded_dims(grad_x, k)
    lead_shape, lead_strides = _lead_layout(g5)
    befores = [b for b, _ in _padded_pairs(pads)]
    counts = [1] * (3 - k) + _candidate_counts(pads, mode)
    block, num_warps = window_launch_config(grad_x.numel())
    # One program instance computes BLOCK input gradients (in their memory order).
    pad_bwd_kernel[(cdiv(grad_x.numel(), block),)](
        g5, gx5,
        grad_x.numel(), lead_shape, lead_strides,
        *gx5.shape[-3:], *g5.shape[-3:],
        *g5.stride()[-3:],
        *befores, *counts,
        MODE=PAD_MODES[mode], RANK=len(lead_shape), COMPUTE=compute_dtype(grad_out.dtype),
        BLOCK=block, INDEX_64=needs_int64_indexing(grad_out, grad_x), num_warps=num_warps,
    )  # fmt: skip
    return result
