"""Indexing kernels: gather and scatter through index tensors, and mask compaction.

Every tensor-indexing op (``x[idx1, :, idx2]``, ``index_select``, ``gather``, ``scatter``,
``index_put_``, ``take``...) is described the same way. Its result (or, for a write, the region
written) has a shape ``shape``; element ``o`` of it corresponds to the element of ``src`` at

    Σ_d o_d · src_strides[d]  +  offsets[o]

where ``src_strides`` gives, per result dim, the source stride that dim walks along (0 for a
dim that comes from the index tensors) and ``offsets`` is an int64 tensor holding
Σ_k wrap(index_k) · stride(dim_k) over the indexed dims, broadcast over the result with its own
strides (``offsets_strides``). So three kernels cover them all:

1. ``index_offsets_kernel`` turns index tensors into ``offsets`` (one pass per index tensor,
   adding into the same buffer) and records the first out-of-range index it meets;
2. ``gather_kernel`` reads ``out[o] = src[...]``;
3. ``scatter_kernel`` writes ``dst[...] = values[o]`` (or adds atomically, because an index may
   repeat and every copy must contribute: ``x.index_put_(..., accumulate=True)`` and the
   gradient of every gather).

Masks (``nonzero``, ``masked_select``, ``masked_scatter``) need each kept element's rank among
the kept ones: a per-block count, an exclusive scan of the counts in one program, then a
block-local ``cumsum`` gives every element its output slot.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import check_same_device, compute_dtype, needs_int64_indexing
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.device_checks import check_on_device
from tritongrad.kernels.elementwise import linear_index, store_as
from tritongrad.kernels.strided import (
    broadcast_strides,
    check_writable,
    coalesce,
    contiguous_strides,
    strided_offset,
)
from tritongrad.runtime import cdiv, elementwise_launch_config, reduction_block

INDEX_DTYPES = (torch.int64, torch.int32)
# Element types every GPU adds atomically; other dtypes accumulate in a widened copy.
ATOMIC_DTYPES = (torch.float32, torch.float64, torch.int32, torch.int64)


def accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype an accumulating scatter into ``dtype`` adds in: itself when atomics support it,
    else float32 (half types) or int64 (bool, 8/16-bit integers; bool sums read back as ``!= 0``)."""
    if dtype in ATOMIC_DTYPES:
        return dtype
    return torch.float32 if dtype.is_floating_point else torch.int64


# ----------------------------------------------------------------------------------------------
# Index tensors -> element offsets
# ----------------------------------------------------------------------------------------------


# offsets[p] (+)= wrap(index[p]) * stride for BLOCK consecutive positions p of the broadcast index
# shape; an index outside [-size, size) (or [0, size) without WRAP) reads as 0 so no access
# strays, and the smallest such position is kept in first_bad for the host's error message.
@triton.jit
def index_offsets_kernel(
    index_ptr, offsets_ptr, first_bad_ptr,
    numel, size, stride, shape, index_strides,
    ACCUMULATE: tl.constexpr, WRAP: tl.constexpr, RANK: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    position = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    in_range = position < numel
    index = tl.load(index_ptr + strided_offset(position, shape, index_strides, RANK), mask=in_range, other=0)
    index = index.to(tl.int64)
    if WRAP:
        bad = in_range & ((index < -size) | (index >= size))
        index = tl.where(index < 0, index + size, index)
    else:
        bad = in_range & ((index < 0) | (index >= size))
    offsets = tl.where(bad, 0, index) * stride
    if ACCUMULATE:
        offsets += tl.load(offsets_ptr + position, mask=in_range, other=0)
    tl.store(offsets_ptr + position, offsets, mask=in_range)
    tl.atomic_min(first_bad_ptr, tl.min(tl.where(bad, position, numel), axis=0))


def launch_index_offsets(
    indices: Sequence[torch.Tensor],
    sizes: Sequence[int],
    strides: Sequence[int],
    *,
    wrap: bool = True,
    check: bool = True,
    on_bad: Callable[[int, int], Exception] | None = None,
) -> tuple[torch.Tensor, tuple[int, int] | None]:
    """offsets = Σ_k wrap(indices[k]) · strides[k], an int64 tensor of the indices' common shape.

    indices: integer tensors all of one shape B (broadcast views with zero strides are fine);
    index k addresses a dim of size ``sizes[k]``; ``wrap`` lets negative indices count from the
    end (torch's indexing) or refuses them (``gather``/``scatter``).
    Returns (offsets, bad): with ``check``, ``bad`` is ``(k, value)`` for the first index out of
    range, found with one read-back of k integers for the whole call; None when all are valid
    (always None without ``check``). Out-of-range indices read as 0, so nothing faults either way.
    With ``on_bad`` (``(k, value) -> the exception to raise``) the check is made on the device
    instead (kernels/device_checks.py: at once in the interpreter, at the next readback on a GPU,
    so a training step that indexes with a tensor does not wait for the host) and ``bad`` is None.
    """
    shape = tuple(indices[0].shape)
    for index in indices:
        if index.dtype not in INDEX_DTYPES:
            raise IndexError(f"tensors used as indices must be long or int tensors, got {index.dtype}")
        if tuple(index.shape) != shape:
            raise ValueError(f"launch_index_offsets: index shapes differ: {shape} and {tuple(index.shape)}")
    check_same_device("index", *indices)
    device = indices[0].device
    offsets = torch.empty(shape, dtype=torch.int64, device=device)
    numel = offsets.numel()
    if numel == 0:
        return offsets, None
    first_bad = torch.empty(len(indices), dtype=torch.int64, device=device)
    launch_fill_(first_bad, numel)  # numel: "no bad index"
    block, num_warps = elementwise_launch_config(numel)
    for k, (index, size, stride) in enumerate(zip(indices, sizes, strides)):
        coalesced, (index_strides, _) = coalesce(shape, [list(index.stride()), contiguous_strides(shape)])
        index_offsets_kernel[(cdiv(numel, block),)](
            index, offsets, first_bad[k:],
            numel, size, stride, tuple(coalesced), tuple(index_strides),
            ACCUMULATE=k > 0, WRAP=wrap, RANK=len(coalesced), BLOCK=block, num_warps=num_warps,
        )  # fmt: skip
    if not check:
        return offsets, None
    if on_bad is not None:

        def raise_bad(positions: list[int]) -> None:
            bad = _first_bad(indices, shape, positions)
            if bad is not None:
                raise on_bad(*bad)

        check_on_device(first_bad, raise_bad)
        return offsets, None
    return offsets, _first_bad(indices, shape, first_bad.tolist())  # raising IndexError needs the host to know


def _first_bad(indices: Sequence[torch.Tensor], shape: tuple, positions: list[int]) -> tuple[int, int] | None:
    """(k, value) of the first out-of-range index, from each index's first bad position (numel: none)."""
    numel = math.prod(shape)
    for k, position in enumerate(positions):
        if position < numel:
            coords = []
            for size in reversed(shape):
                coords.append(position % size)
                position //= size
            return k, int(indices[k][tuple(reversed(coords))].item())
    return None


# ----------------------------------------------------------------------------------------------
# Gather and scatter
# ----------------------------------------------------------------------------------------------


# out[o] = src[Σ o_d·src_strides[d] + offsets[o]]: one program copies BLOCK consecutive elements of
# the result (all operands strided, coalesced by the host).
@triton.jit
def gather_kernel(
    src_ptr, offsets_ptr, out_ptr,
    numel, shape, src_strides, offsets_strides, out_strides,
    RANK: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    position = linear_index(BLOCK, INT64_INDEX)
    in_range = position < numel
    offsets = tl.load(offsets_ptr + strided_offset(position, shape, offsets_strides, RANK), mask=in_range, other=0)
    source = strided_offset(position, shape, src_strides, RANK) + offsets
    values = tl.load(src_ptr + source, mask=in_range)
    tl.store(out_ptr + strided_offset(position, shape, out_strides, RANK), values, mask=in_range)


# dst[Σ o_d·dst_strides[d] + offsets[o]] = values[o] (or += atomically with ACCUMULATE): one
# program writes BLOCK consecutive elements of the indexed region.
@triton.jit
def scatter_kernel(
    dst_ptr, offsets_ptr, values_ptr,
    numel, shape, dst_strides, offsets_strides, values_strides,
    ACCUMULATE: tl.constexpr, RANK: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    position = linear_index(BLOCK, INT64_INDEX)
    in_range = position < numel
    offsets = tl.load(offsets_ptr + strided_offset(position, shape, offsets_strides, RANK), mask=in_range, other=0)
    targets = dst_ptr + strided_offset(position, shape, dst_strides, RANK) + offsets
    values = tl.load(values_ptr + strided_offset(position, shape, values_strides, RANK), mask=in_range)
    if ACCUMULATE:
        tl.atomic_add(targets, values.to(dst_ptr.dtype.element_ty), mask=in_range)
    else:
        store_as(targets, values, in_range)


def _strided_operands(shape: Sequence[int], *strides: Sequence[int]) -> tuple[tuple, list[tuple]]:
    coalesced, coalesced_strides = coalesce(tuple(shape), [list(s) for s in strides])
    return tuple(coalesced), [tuple(s) for s in coalesced_strides]


def _numel(shape: Sequence[int]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def launch_gather(
    src: torch.Tensor,
    src_strides: Sequence[int],
    offsets: torch.Tensor,
    offsets_strides: Sequence[int],
    shape: Sequence[int],
    *,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """out[o] = src at Σ o_d·src_strides[d] + offsets[o] (see the module docstring).

    src: any tensor (its data pointer is the base address); src_strides, offsets_strides: one
    stride per result dim, in elements; offsets: int64 from ``launch_index_offsets``; out: a new
    contiguous tensor of ``shape`` and src's dtype, or a given one (any strides).
    """
    check_same_device("index", src, offsets)
    shape = tuple(shape)
    if out is None:
        out = torch.empty(shape, dtype=src.dtype, device=src.device)
    numel = _numel(shape)
    if numel == 0:
        return out
    coalesced, strides = _strided_operands(shape, src_strides, offsets_strides, out.stride())
    block, num_warps = elementwise_launch_config(numel)
    gather_kernel[(cdiv(numel, block),)](
        src, offsets, out, numel, coalesced, *strides,
        RANK=len(coalesced), BLOCK=block, INT64_INDEX=needs_int64_indexing(out, src), num_warps=num_warps,
    )  # fmt: skip
    return out


def launch_scatter_(
    dst: torch.Tensor,
    dst_strides: Sequence[int],
    offsets: torch.Tensor,
    offsets_strides: Sequence[int],
    values: torch.Tensor,
    shape: Sequence[int],
    *,
    accumulate: bool = False,
    allow_overlap: bool = False,
) -> torch.Tensor:
    """dst at Σ o_d·dst_strides[d] + offsets[o] gets values[o] (broadcast to ``shape``); returns dst.

    Without ``accumulate`` a position written twice keeps one of the values (which one is
    unspecified, as in torch); with it every value is added (atomically), so dst's dtype must
    be its own ``accumulation_dtype`` (callers widen half types, bool and small integers).
    ``allow_overlap``: dst may have elements sharing memory (an expanded tensor, which torch's
    index_put_ writes into with a deprecation warning); else that is refused.
    """
    check_same_device("index_put_", dst, offsets, values)
    if not allow_overlap:
        check_writable(dst)
    shape = tuple(shape)
    numel = _numel(shape)
    if numel == 0:
        return dst
    if accumulate and dst.dtype not in ATOMIC_DTYPES:
        raise TypeError(f"an accumulating scatter adds atomically in {ATOMIC_DTYPES}, not in {dst.dtype}")
    coalesced, strides = _strided_operands(shape, dst_strides, offsets_strides, broadcast_strides(values, shape))
    block, num_warps = elementwise_launch_config(numel)
    scatter_kernel[(cdiv(numel, block),)](
        dst, offsets, values, numel, coalesced, *strides,
        ACCUMULATE=accumulate, RANK=len(coalesced), BLOCK=block,
        INT64_INDEX=needs_int64_indexing(dst, values) or numel >= 2**31, num_warps=num_warps,
    )  # fmt: skip
    return dst


# dst[Σ o_d·dst_strides[d] + offsets[o]] = OP(that element, values[o]) over a region whose last dim
# is the scattered one: one program owns BLOCK lines (positions of the other dims) and walks them
# along the scattered dim in order. Index elements on different lines never name the same target
# (the other coordinates differ), so no two lanes write one element and every value lands, in index
# order as on torch's CPU (there is no atomic multiply, and half types round after every step as
# torch's do). OP: "prod", "sum", "amax" or "amin" (NaN wins in the last two, as in torch).
@triton.jit
def scatter_reduce_kernel(
    dst_ptr, offsets_ptr, values_ptr,
    n_lines, length, line_shape, dst_line_strides, offsets_line_strides, values_line_strides,
    dst_step, offsets_step, values_step,
    OP: tl.constexpr, RANK: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr, COMPUTE: tl.constexpr,
):  # fmt: skip
    line = linear_index(BLOCK, INT64_INDEX)
    in_range = line < n_lines
    dst_line = strided_offset(line, line_shape, dst_line_strides, RANK)
    offsets_line = strided_offset(line, line_shape, offsets_line_strides, RANK)
    values_line = strided_offset(line, line_shape, values_line_strides, RANK)
    for k in range(length):
        along = line * 0 + k  # line's dtype: int64 with INT64_INDEX (k alone is a 32-bit int)
        offsets = tl.load(offsets_ptr + offsets_line + along * offsets_step, mask=in_range, other=0)
        targets = dst_ptr + dst_line + along * dst_step + offsets
        value = tl.load(values_ptr + values_line + along * values_step, mask=in_range, other=1).to(COMPUTE)
        current = tl.load(targets, mask=in_range, other=1).to(COMPUTE)
        if OP == "prod":
            result = current * value
        elif OP == "sum":
            result = current + value
        elif OP == "amax":
            result = tl.where((value > current) | (value != value), value, current)
            result = tl.where(current != current, current, result)
        else:
            result = tl.where((value < current) | (value != value), value, current)
            result = tl.where(current != current, current, result)
        store_as(targets, result, in_range)


SCATTER_REDUCTIONS = ("prod", "sum", "amax", "amin")


def launch_scatter_reduce_(
    dst: torch.Tensor,
    dst_strides: Sequence[int],
    offsets: torch.Tensor,
    offsets_strides: Sequence[int],
    values: torch.Tensor,
    shape: Sequence[int],
    dim: int,
    op: str,
) -> torch.Tensor:
    """dst at Σ o_d·dst_strides[d] + offsets[o] becomes op(itself, values[o]) (values broadcast to
    ``shape``) for every o, in order along ``dim`` (the only dim along which two elements may name one
    target: ``scatter_reduce`` and ``scatter_(..., reduce='multiply')``); returns dst. op is one of
    SCATTER_REDUCTIONS. Integers combine in int64 and wrap to dst's dtype as torch's do, half types in
    float32 (rounded after every value)."""
    if op not in SCATTER_REDUCTIONS:
        raise ValueError(f"scatter reduction {op!r} is not one of {SCATTER_REDUCTIONS}")
    check_same_device("scatter_reduce_", dst, offsets, values)
    check_writable(dst)
    shape = tuple(shape)
    numel = _numel(shape)
    if numel == 0:
        return dst
    strides = [tuple(dst_strides), tuple(offsets_strides), broadcast_strides(values, shape)]
    others = [d for d in range(len(shape)) if d != dim]
    line_shape = tuple(shape[d] for d in others) or (1,)
    line_strides = [tuple(s[d] for d in others) or (0,) for s in strides]
    n_lines = _numel(line_shape)
    block, num_warps = elementwise_launch_config(n_lines)
    # One program instance walks BLOCK lines along the scattered dim.
    scatter_reduce_kernel[(cdiv(n_lines, block),)](
        dst, offsets, values, n_lines, shape[dim], line_shape, *line_strides, *(s[dim] for s in strides),
        OP=op, RANK=len(line_shape), BLOCK=block,
        INT64_INDEX=needs_int64_indexing(dst, values) or numel >= 2**31,
        COMPUTE=compute_dtype(dst.dtype) if dst.dtype.is_floating_point else tl.int64, num_warps=num_warps,
    )  # fmt: skip
    return dst


def launch_scatter_multiply_(
    dst: torch.Tensor,
    dst_strides: Sequence[int],
    offsets: torch.Tensor,
    offsets_strides: Sequence[int],
    values: torch.Tensor,
    shape: Sequence[int],
    dim: int,
) -> torch.Tensor:
    """``scatter_(dim, index, src, reduce='multiply')``: launch_scatter_reduce_ with op "prod"."""
    return launch_scatter_reduce_(dst, dst_strides, offsets, offsets_strides, values, shape, dim, "prod")


def launch_gather_rows(x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """x[indices] along dim 0 for 1-D integer indices (negative allowed): (len(indices), *x.shape[1:])."""

    def out_of_bounds(k: int, value: int) -> IndexError:
        return IndexError(f"index {value} is out of bounds for dimension 0 with size {x.shape[0]}")

    offsets, _ = launch_index_offsets([indices], [x.shape[0]], [x.stride(0)], on_bad=out_of_bounds)
    shape = (indices.shape[0],) + tuple(x.shape[1:])
    return launch_gather(x, (0,) + tuple(x.stride()[1:]), offsets, (1,) + (0,) * (x.dim() - 1), shape)


def launch_scatter_add_rows(grad_out: torch.Tensor, indices: torch.Tensor, rows: int) -> torch.Tensor:
    """The gradient of ``launch_gather_rows``: a (rows, ...) tensor with grad_out's rows added at indices."""
    grad_x = torch.empty((rows,) + tuple(grad_out.shape[1:]), dtype=grad_out.dtype, device=grad_out.device)
    launch_fill_(grad_x, 0)
    offsets, _ = launch_index_offsets([indices], [rows], [grad_x.stride(0)], check=False)
    dst_strides = (0,) + tuple(grad_x.stride()[1:])
    offsets_strides = (1,) + (0,) * (grad_x.dim() - 1)
    return launch_scatter_(grad_x, dst_strides, offsets, offsets_strides, grad_out, grad_out.shape, accumulate=True)


# ----------------------------------------------------------------------------------------------
# Masks: kept elements in row-major order
# ----------------------------------------------------------------------------------------------


# counts[program] = how many of this program's BLOCK mask elements are nonzero.
@triton.jit
def mask_count_kernel(mask_ptr, counts_ptr, numel, shape, mask_strides, RANK: tl.constexpr, BLOCK: tl.constexpr):
    position = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    in_range = position < numel
    keep = tl.load(mask_ptr + strided_offset(position, shape, mask_strides, RANK), mask=in_range, other=0) != 0
    tl.store(counts_ptr + tl.program_id(0), tl.sum(keep.to(tl.int64), axis=0))


# starts[b] = counts[0] + ... + counts[b - 1], starts[n] = the total: one program walks the counts
# in chunks of BLOCK, carrying the running total.
@triton.jit
def exclusive_scan_kernel(counts_ptr, starts_ptr, n, BLOCK: tl.constexpr):
    total = tl.sum(tl.zeros([BLOCK], tl.int64), axis=0)
    for start in range(0, n, BLOCK):
        position = start + tl.arange(0, BLOCK)
        counts = tl.load(counts_ptr + position, mask=position < n, other=0)
        tl.store(starts_ptr + position, total + tl.cumsum(counts, axis=0) - counts, mask=position < n)
        total += tl.sum(counts, axis=0)
    tl.store(starts_ptr + n, total)


@triton.jit
def kept_slots(mask_ptr, starts_ptr, position, in_range, shape, mask_strides, RANK: tl.constexpr):
    """(keep, slot): whether each position's mask element is nonzero, and its rank among the kept."""
    keep = tl.load(mask_ptr + strided_offset(position, shape, mask_strides, RANK), mask=in_range, other=0) != 0
    kept = keep.to(tl.int64)
    slot = tl.load(starts_ptr + tl.program_id(0)) + tl.cumsum(kept, axis=0) - kept
    return keep & in_range, slot


# out[slot, d] = coordinate d of each kept element: one program handles BLOCK mask elements.
@triton.jit
def nonzero_kernel(
    mask_ptr, starts_ptr, out_ptr,
    numel, shape, mask_strides, out_row_stride, out_column_stride,
    RANK: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    position = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    keep, slot = kept_slots(mask_ptr, starts_ptr, position, position < numel, shape, mask_strides, RANK)
    remaining = position
    for d in tl.static_range(RANK - 1, -1, -1):
        tl.store(out_ptr + slot * out_row_stride + d * out_column_stride, remaining % shape[d], mask=keep)
        remaining = remaining // shape[d]


# out[slot] = src[p] for each kept position p: one program handles BLOCK mask elements.
@triton.jit
def compact_kernel(
    mask_ptr, src_ptr, starts_ptr, out_ptr,
    numel, shape, mask_strides, src_strides,
    RANK: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    position = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    keep, slot = kept_slots(mask_ptr, starts_ptr, position, position < numel, shape, mask_strides, RANK)
    values = tl.load(src_ptr + strided_offset(position, shape, src_strides, RANK), mask=keep)
    tl.store(out_ptr + slot, values, mask=keep)


# out[p] = source[slot] where kept, else base[p] (0 without a base): the inverse of compact_kernel.
@triton.jit
def expand_kernel(
    mask_ptr, source_ptr, base_ptr, starts_ptr, out_ptr,
    numel, shape, mask_strides, base_strides, out_strides,
    HAS_BASE: tl.constexpr, RANK: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    position = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    in_range = position < numel
    keep, slot = kept_slots(mask_ptr, starts_ptr, position, in_range, shape, mask_strides, RANK)
    values = tl.load(source_ptr + slot, mask=keep)
    if HAS_BASE:
        base = tl.load(base_ptr + strided_offset(position, shape, base_strides, RANK), mask=in_range)
    else:
        base = tl.zeros([BLOCK], values.dtype)
    tl.store(out_ptr + strided_offset(position, shape, out_strides, RANK), tl.where(keep, values, base), mask=in_range)


class MaskScan:
    """Where each kept element of a mask goes: ``starts`` (int64, one per program, then the total),
    the block size the slots were counted with, and the mask's coalesced geometry.

    ``total`` is read back lazily (the one host sync of nonzero/masked_select).
    """

    def __init__(self, mask: torch.Tensor, *others: torch.Tensor) -> None:
        self.numel = mask.numel()
        strides = [list(mask.stride())] + [broadcast_strides(t, tuple(mask.shape)) for t in others]
        coalesced, coalesced_strides = coalesce(tuple(mask.shape), strides)
        self.shape, self.strides = tuple(coalesced), [tuple(s) for s in coalesced_strides]
        # (a block's cumsum and coordinates stay in registers: the elementwise block policy, not a reduction's)
        self.block, self.num_warps = elementwise_launch_config(self.numel)
        self.programs = cdiv(self.numel, self.block)
        counts = torch.empty(self.programs, dtype=torch.int64, device=mask.device)
        self.starts = torch.empty(self.programs + 1, dtype=torch.int64, device=mask.device)
        self._total: int | None = None
        if self.numel == 0:
            self._total = 0
            return
        mask_count_kernel[(self.programs,)](
            mask,
            counts,
            self.numel,
            self.shape,
            self.strides[0],
            RANK=len(self.shape),
            BLOCK=self.block,
            num_warps=self.num_warps,
        )
        exclusive_scan_kernel[(1,)](counts, self.starts, self.programs, BLOCK=reduction_block(self.programs))

    @property
    def total(self) -> int:
        if self._total is None:
            if self.starts.is_meta:  # (torch's words: a count of unknown values has no meta result)
                raise NotImplementedError(
                    "The register_meta function for torch.nonzero() raises unimplemented by default, as a correct "
                    "data-independent implementation does not exist."
                )
            self._total = int(self.starts[self.programs].item())
        return self._total


def launch_nonzero(x: torch.Tensor, *, transposed: bool = False) -> torch.Tensor:
    """torch.nonzero: the (count, x.dim()) int64 coordinates of x's nonzero elements in row-major
    order; ``transposed`` gives the (x.dim(), count) layout (rows ready to use as index tensors).
    One read-back (the count)."""
    scan = MaskScan(x.reshape(1) if x.dim() == 0 else x)
    total = scan.total
    out = torch.empty((x.dim(), total) if transposed else (total, x.dim()), dtype=torch.int64, device=x.device)
    if total == 0 or x.dim() == 0:
        return out
    row_stride, column_stride = (1, total) if transposed else (x.dim(), 1)
    nonzero_kernel[(scan.programs,)](
        x, scan.starts, out, scan.numel, tuple(x.shape), tuple(x.stride()), row_stride, column_stride,
        RANK=x.dim(), BLOCK=scan.block, num_warps=scan.num_warps,
    )  # fmt: skip
    return out


def launch_masked_select(src: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """src's elements where mask is nonzero, in row-major order (a 1-D tensor); src and mask of one
    shape (broadcast views are fine). One read-back (the count)."""
    check_same_device("masked_select", src, mask)
    scan = MaskScan(mask, src)
    out = torch.empty(scan.total, dtype=src.dtype, device=src.device)
    if scan.total == 0:
        return out
    compact_kernel[(scan.programs,)](
        mask, src, scan.starts, out, scan.numel, scan.shape, scan.strides[0], scan.strides[1],
        RANK=len(scan.shape), BLOCK=scan.block, num_warps=scan.num_warps,
    )  # fmt: skip
    return out


def launch_masked_scatter(
    mask: torch.Tensor, source: torch.Tensor, base: torch.Tensor | None, out: torch.Tensor, *, check: bool = True
) -> torch.Tensor:
    """out = base with its kept positions (mask nonzero) replaced, in row-major order, by source's
    first elements (source contiguous); zeros where not kept when ``base`` is None. mask, base and
    out have one shape (broadcast views are fine for mask and base). With ``check``, one read-back
    (the count) makes sure source has enough elements; without, nothing is read back (the caller
    knows source matches the mask, as in the backward of masked_select)."""
    check_same_device("masked_scatter", mask, source, out)
    check_writable(out)
    if out.numel() == 0:
        return out
    scan = MaskScan(mask, base if base is not None else out, out)
    if check and scan.total > source.numel():
        raise RuntimeError("masked_scatter: Number of elements of source < number of ones in mask")
    expand_kernel[(scan.programs,)](
        mask, source, base if base is not None else out, scan.starts, out,
        scan.numel, scan.shape, scan.strides[0], scan.strides[1], scan.strides[2],
        HAS_BASE=base is not None, RANK=len(scan.shape), BLOCK=scan.block, num_warps=scan.num_warps,
    )  # fmt: skip
    return out
