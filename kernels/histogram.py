"""Counting kernels: ``histc``/``histogram`` (values into equal-width bins) and ``bincount``.

One program reads BLOCK elements of the input (any strides, through ``strided_offset``), finds
each element's bin and adds its weight (1 without weights) into the output with an atomic add:
the input is read once, the (small) output is written only by atomics, and no sort is needed.
A bin's total is the same set of additions in any order; float sums of weights may round in
another order than torch's loop (integers, and counts below 2**24, are exact).

Bins, as torch computes them:
- ``histc``: equal-width bins over [low, high], position ``(x - low) * bins / (high - low)``,
  the top edge in the last bin, anything outside (and NaN) ignored;
- ``histogram``: bins given by their ``edges`` (bins + 1 values, from an int ``bins`` or given),
  found by torch's binary search (``std::upper_bound``) over the edges, so an element on an edge
  lands where the edges say, the last edge in the last bin, and edges out of order place values as
  torch's search does; an element below the first edge or above the last is not counted;
- ``bincount``: the element's value is its bin.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import check_same_device, needs_int64_indexing
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.elementwise import launch_unary
from tritongrad.kernels.strided import MAX_RANK, coalesce, strided_offset
from tritongrad.runtime import cdiv, elementwise_launch_config


@triton.jit
def histogram_kernel(
    x_ptr, weight_ptr, edges_ptr, range_ptr, out_ptr,
    numel, shape, x_strides, weight_strides,
    BINS: tl.constexpr, HAS_WEIGHT: tl.constexpr, HAS_EDGES: tl.constexpr, SEARCH_STEPS: tl.constexpr,
    RANK: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    index = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    if INT64_INDEX:
        index = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = index < numel
    # In the range's dtype (the input's, float32 for half types): torch bins in the input's precision.
    low = tl.load(range_ptr)
    high = tl.load(range_ptr + 1)
    x = tl.load(x_ptr + strided_offset(index, shape, x_strides, RANK), mask=mask, other=0.0).to(low.dtype)
    inside = mask & (x >= low) & (x <= high)  # NaN compares false: ignored, as in torch
    if HAS_EDGES:
        # std::upper_bound over the BINS + 1 edges, probe for probe as torch's CPU kernel runs it
        # (so edges that are not increasing place values where torch's places them): [first,
        # first + count) holds the answer; each step halves count, SEARCH_STEPS steps empty it.
        first = tl.zeros([BLOCK], tl.int32)
        count = tl.full([BLOCK], BINS + 1, tl.int32)
        for _ in tl.static_range(SEARCH_STEPS):
            step = count // 2
            probe = first + step
            searching = inside & (count > 0)
            edge = tl.load(edges_ptr + probe, mask=searching, other=0.0).to(low.dtype)
            right = searching & ~(x < edge)
            first = tl.where(right, probe + 1, first)
            count = tl.where(right, count - step - 1, tl.where(searching, step, count))
        position = tl.minimum(tl.maximum(first - 1, 0), BINS - 1)  # (the last edge is in the last bin)
    else:
        position = ((x - low) * BINS / (high - low)).to(tl.int32)
        position = tl.minimum(tl.maximum(position, 0), BINS - 1)
    if HAS_WEIGHT:
        weight = tl.load(weight_ptr + strided_offset(index, shape, weight_strides, RANK), mask=inside, other=0)
    else:
        weight = tl.full([BLOCK], 1, out_ptr.dtype.element_ty)
    tl.atomic_add(out_ptr + position, weight.to(out_ptr.dtype.element_ty), mask=inside)


@triton.jit
def bincount_kernel(
    x_ptr, weight_ptr, out_ptr, numel, x_stride, weight_stride,
    HAS_WEIGHT: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    index = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = index < numel
    bins = tl.load(x_ptr + index * x_stride, mask=mask, other=0).to(tl.int64)
    if HAS_WEIGHT:
        weight = tl.load(weight_ptr + index * weight_stride, mask=mask, other=0)
    else:
        weight = tl.full([BLOCK], 1, out_ptr.dtype.element_ty)
    tl.atomic_add(out_ptr + bins, weight.to(out_ptr.dtype.element_ty), mask=mask)


def _zeros(size: int, dtype: torch.dtype, device) -> torch.Tensor:
    return launch_fill_(torch.empty(size, dtype=dtype, device=device), 0)


def launch_histogram(
    x: torch.Tensor,
    bins: int,
    low: float,
    high: float,
    *,
    weight: torch.Tensor | None = None,
    edges: torch.Tensor | None = None,
    out_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Counts (or sums of ``weight``) of ``x``'s elements in ``bins`` equal bins over [low, high].

    Args:
        x: any shape and strides, floating.
        low, high: the range (low < high without ``edges``; its first and last edges with them);
            elements outside it are not counted.
        weight: optional, x's shape; its values are added instead of 1.
        edges: optional (bins + 1,) contiguous bin edges from low to high (increasing, or in any
            order torch's search takes): the bins are then found by searching them (``histogram``)
            instead of by equal widths (``histc``).
        out_dtype: the result's dtype (default: x's).

    Returns a new (bins,) tensor.
    """
    check_same_device("histogram", x, weight, edges)
    if not x.dtype.is_floating_point:
        raise TypeError(f"histogram: input must be floating point, got {x.dtype}")
    if bins <= 0:
        raise RuntimeError(f"histogram: bins must be > 0, but got {bins}")
    if weight is not None and tuple(weight.shape) != tuple(x.shape):
        raise RuntimeError(f"histogram: weight {tuple(weight.shape)} must have the input's shape {tuple(x.shape)}")
    if edges is None and not low < high:  # (edges may be in any order, as torch's search takes them)
        raise RuntimeError(f"histogram: expected low < high, got [{low}, {high}]")
    out_dtype = out_dtype or x.dtype
    # Not every GPU adds half types atomically: half results are summed in float32, then cast.
    out = _zeros(bins, torch.float32 if out_dtype in (torch.float16, torch.bfloat16) else out_dtype, x.device)
    if x.numel() == 0:
        return out if out.dtype == out_dtype else launch_unary("copy", out, out_dtype=out_dtype)
    operands = [list(x.stride())] + ([list(weight.stride())] if weight is not None else [])
    shape, strides = coalesce(tuple(x.shape), operands)
    if len(shape) > MAX_RANK:
        raise NotImplementedError(f"histogram: input {tuple(x.shape)} with strides {x.stride()} has too many dims")
    weight_strides = strides[1] if weight is not None else strides[0]
    block, num_warps = elementwise_launch_config(x.numel())
    range_dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    value_range = torch.tensor([low, high], dtype=range_dtype, device=x.device)
    histogram_kernel[(cdiv(x.numel(), block),)](
        x, weight if weight is not None else x, edges if edges is not None else x, value_range, out,
        x.numel(), tuple(shape), tuple(strides[0]), tuple(weight_strides),
        BINS=bins, HAS_WEIGHT=weight is not None, HAS_EDGES=edges is not None,
        SEARCH_STEPS=(bins + 1).bit_length(), RANK=len(shape), BLOCK=block,
        INT64_INDEX=needs_int64_indexing(x), num_warps=num_warps,
    )  # fmt: skip
    return out if out.dtype == out_dtype else launch_unary("copy", out, out_dtype=out_dtype)


def launch_bincount(x: torch.Tensor, length: int, weight: torch.Tensor | None = None) -> torch.Tensor:
    """out[v] = number of elements of the 1-D non-negative integer ``x`` equal to v (or the sum of
    their ``weight``), for v < ``length`` (the caller makes length > max(x))."""
    check_same_device("bincount", x, weight)
    # torch's result types: int64 counts; weights keep a floating dtype, integer weights sum as float64.
    dtype = torch.int64 if weight is None else (weight.dtype if weight.dtype.is_floating_point else torch.float64)
    out = _zeros(length, dtype, x.device)
    if x.numel() == 0:
        return out
    block, num_warps = elementwise_launch_config(x.numel())
    bincount_kernel[(cdiv(x.numel(), block),)](
        x, weight if weight is not None else x, out, x.numel(), x.stride(0),
        weight.stride(0) if weight is not None else 0,
        HAS_WEIGHT=weight is not None, BLOCK=block, num_warps=num_warps,
    )  # fmt: skip
    return out
