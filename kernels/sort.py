"""Sorting along one dim (sort, argsort, topk, kthvalue, median, unique all start here), and the
gather/scatter along a dim that routes their gradients.

Keys. Every value becomes an integer key whose signed order is torch's sort order: floats
(halves widened to float32 first) by their bits with the magnitude bits of negatives flipped,
-0.0 folded into +0.0 (torch treats them as equal), every NaN the largest key (torch sorts NaN
after +inf ascending, first descending); integers and bools as themselves. Descending order
complements the key (~k reverses a signed order exactly). Keys are 32-bit for types of up to 32
bits and 64-bit for int64/float64. Each key travels with its position, and pairs compare by
(key, position): that order is strict and total, so every sort here is stable.

Rows that fit one tile (``sort_tile_kernel``) are sorted in registers by a bitonic network
written with reshape/permute/split/join on a [rows, 2**k] tile (padded with the largest key),
and the values are read back from the input at the sorted positions, so the output holds the
input's exact bits (NaN payloads, -0.0). Longer rows are cut into tiles, each sorted the same way
into a scratch buffer, then merged pairwise in log2(tiles) passes (``merge_kernel``): an element
at place i of its run lands at i + (number of elements of the partner run that precede it),
found by a binary search in the partner run; with a strict order that is a permutation, so a
pass needs no synchronisation. The last pass writes the outputs. Rows of any length work; one
launch per pass.

Example::

    x = torch.randn(4, 300)
    values, indices = launch_sort(x, dim=1, descending=True)         # like x.sort(1, descending=True)
    top3, where = launch_sort(x, dim=1, descending=True, stop=3)     # like x.topk(3, 1)
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad import runtime
from tritongrad.kernels.common import check_same_device, triton_dtype
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.elementwise import launch_unary, store_as
from tritongrad.kernels.scan import along_dim_rows, tile_shape
from tritongrad.kernels.strided import strided_offset
from tritongrad.runtime import cdiv

__all__ = [
    "launch_sort",
    "launch_gather_along_dim",
    "launch_scatter_along_dim",
    "launch_scatter_add_along_dim",
    "sort_key_dtype",
]

# What along_dim_kernel does with each element.
GATHER = tl.constexpr(0)
SCATTER_ADD = tl.constexpr(1)
SCATTER = tl.constexpr(2)

# On a GPU a tile of 2048 (key, position) pairs stays in registers at 8 warps.
_GPU_SORT_TILE = 2048


def sort_key_dtype(dtype: torch.dtype) -> torch.dtype:
    """The integer type of the sort keys of ``dtype`` values."""
    triton_dtype(dtype)
    return torch.int64 if dtype in (torch.int64, torch.float64) else torch.int32


# ------------------------------------------------------------------------------- device code


@triton.jit
def _sort_key(values, KEY: tl.constexpr, KEY_MAX: tl.constexpr, DESCENDING: tl.constexpr):
    """Integer keys ordered as torch orders ``values`` (see the module docstring)."""
    if values.dtype.is_floating():
        if values.dtype.primitive_bitwidth < 32:
            values = values.to(tl.float32)
        values = tl.where(values == 0, 0.0, values).to(values.dtype)  # -0.0 sorts as +0.0
        bits = values.to(KEY, bitcast=True)
        key = tl.where(bits < 0, bits ^ KEY_MAX, bits)
        key = tl.where(values != values, KEY_MAX, key)
    else:
        key = values.to(KEY)
    if DESCENDING:
        key = ~key
    return key


@triton.jit
def _compare_swap(key, pos, STAGE: tl.constexpr, LEVEL: tl.constexpr, ROWS: tl.constexpr, LOG_N: tl.constexpr):
    """One bitonic compare-and-swap: lanes differing in bit LOG_N - 1 - LEVEL of their position
    are paired; a pair is put in ascending order, or descending where bit STAGE of the position
    is set (the alternating halves of the merge at STAGE; none at the last stage)."""
    N: tl.constexpr = 1 << LOG_N
    INNER: tl.constexpr = N >> (LEVEL + 1)
    OUTER: tl.constexpr = ROWS << LEVEL
    key_left, key_right = tl.split(tl.permute(tl.reshape(key, [OUTER, 2, INNER]), (0, 2, 1)))
    pos_left, pos_right = tl.split(tl.permute(tl.reshape(pos, [OUTER, 2, INNER]), (0, 2, 1)))
    swap = (key_left > key_right) | ((key_left == key_right) & (pos_left > pos_right))
    if STAGE < LOG_N:
        # bit STAGE of a left lane's position is bit STAGE - (LOG_N - LEVEL) of its outer index
        outer = tl.arange(0, OUTER)[:, None]
        descending_half = ((outer % (1 << LEVEL)) >> (STAGE - LOG_N + LEVEL)) & 1
        swap = swap != (descending_half == 1)
    new_key_left = tl.where(swap, key_right, key_left)
    new_key_right = tl.where(swap, key_left, key_right)
    new_pos_left = tl.where(swap, pos_right, pos_left)
    new_pos_right = tl.where(swap, pos_left, pos_right)
    key = tl.reshape(tl.permute(tl.join(new_key_left, new_key_right), (0, 2, 1)), [ROWS, N])
    pos = tl.reshape(tl.permute(tl.join(new_pos_left, new_pos_right), (0, 2, 1)), [ROWS, N])
    return key, pos


@triton.jit
def bitonic_sort(key, pos, ROWS: tl.constexpr, LOG_N: tl.constexpr):
    """Sorts each row of a [ROWS, 2**LOG_N] tile of (key, position) pairs ascending."""
    for stage in tl.static_range(1, LOG_N + 1):
        for level in tl.static_range(LOG_N - stage, LOG_N):
            key, pos = _compare_swap(key, pos, stage, level, ROWS, LOG_N)
    return key, pos


# sort_tile_kernel: sorts tile program_id(1) of BLOCK_ROWS rows. Memory traffic: each input element
# read twice (once for its key, once as a sorted value when FINAL); FINAL writes a value and an
# index per kept place [start, stop), otherwise one key and one position per lane to scratch.
@triton.jit
def sort_tile_kernel(
    # pointers
    x_ptr,  # input rows, at x strides
    values_ptr,  # FINAL: [rows, stop - start] at out strides; else None
    indices_ptr,  # FINAL: int64, same strides as values; else None
    key_scratch_ptr,  # not FINAL: [rows, padded_length] keys; else None
    pos_scratch_ptr,  # not FINAL: [rows, padded_length] int64 positions; else None
    # sizes and strides
    n_rows,
    length,
    padded_length,
    start,
    stop,
    kept_shape,
    x_kept_strides,
    out_kept_strides,
    x_dim_stride,
    out_dim_stride,
    # meta-parameters
    KEY: tl.constexpr,
    KEY_MAX: tl.constexpr,
    DESCENDING: tl.constexpr,
    FINAL: tl.constexpr,
    RANK: tl.constexpr,
    INT64_INDEX: tl.constexpr,
    BLOCK_ROWS: tl.constexpr,
    LOG_TILE: tl.constexpr,
):
    TILE: tl.constexpr = 1 << LOG_TILE
    rows = tl.program_id(0) * BLOCK_ROWS + tl.arange(0, BLOCK_ROWS)
    place = tl.program_id(1) * TILE + tl.arange(0, TILE)
    if INT64_INDEX:
        rows = rows.to(tl.int64)
        place = place.to(tl.int64)
    row_mask = rows < n_rows
    x_row = strided_offset(rows, kept_shape, x_kept_strides, RANK)
    mask = row_mask[:, None] & (place < length)[None, :]
    values = tl.load(x_ptr + x_row[:, None] + (place * x_dim_stride)[None, :], mask=mask)
    key = tl.where(mask, _sort_key(values, KEY, KEY_MAX, DESCENDING), KEY_MAX)
    # Padding lanes carry the largest key and positions past the row, so they sort last.
    pos = tl.zeros([BLOCK_ROWS, TILE], tl.int64) + place[None, :]
    key, pos = bitonic_sort(key, pos, BLOCK_ROWS, LOG_TILE)
    if FINAL:
        out_row = strided_offset(rows, kept_shape, out_kept_strides, RANK)
        keep = row_mask[:, None] & ((place >= start) & (place < stop))[None, :]
        sorted_values = tl.load(x_ptr + x_row[:, None] + pos * x_dim_stride, mask=keep)
        out_offset = out_row[:, None] + ((place - start) * out_dim_stride)[None, :]
        store_as(values_ptr + out_offset, sorted_values, keep)
        tl.store(indices_ptr + out_offset, pos, mask=keep)
    else:
        scratch = rows[:, None] * padded_length + place[None, :]
        in_scratch = row_mask[:, None] & (place < padded_length)[None, :]
        tl.store(key_scratch_ptr + scratch, key, mask=in_scratch)
        tl.store(pos_scratch_ptr + scratch, pos, mask=in_scratch)


# merge_kernel: one pass that merges runs of run_length sorted (key, position) pairs pairwise.
# Memory traffic: each pair read once plus log2(run_length) + 1 probes into the partner run; each
# pair written once (to the next scratch, or as a value and an index inside [start, stop) when FINAL).
@triton.jit
def merge_kernel(
    # pointers
    key_in_ptr,  # [rows, padded_length]
    pos_in_ptr,  # [rows, padded_length] int64
    key_out_ptr,  # not FINAL: [rows, padded_length]; else None
    pos_out_ptr,  # not FINAL: [rows, padded_length] int64; else None
    x_ptr,  # FINAL: the input (values are read back from it)
    values_ptr,  # FINAL: [rows, stop - start] at out strides
    indices_ptr,  # FINAL: int64, same strides as values
    # sizes and strides
    n_rows,
    padded_length,
    run_length,
    search_steps,  # ceil(log2(run_length + 1))
    start,
    stop,
    kept_shape,
    x_kept_strides,
    out_kept_strides,
    x_dim_stride,
    out_dim_stride,
    # meta-parameters
    FINAL: tl.constexpr,
    RANK: tl.constexpr,
    BLOCK: tl.constexpr,
):
    row = tl.program_id(0).to(tl.int64)
    place = tl.program_id(1).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = place < padded_length  # the grid has exactly n_rows rows
    base = row * padded_length
    key = tl.load(key_in_ptr + base + place, mask=mask)
    pos = tl.load(pos_in_ptr + base + place, mask=mask)
    run = place // run_length
    partner_start = (run ^ 1) * run_length
    partner_length = tl.minimum(tl.maximum(padded_length - partner_start, 0), run_length)
    # Binary search: how many pairs of the partner run precede (key, pos)?
    low = tl.zeros([BLOCK], tl.int64)
    high = partner_length
    for _ in range(search_steps):
        active = mask & (low < high)
        middle = (low + high) // 2
        probe = base + partner_start + middle
        probe_key = tl.load(key_in_ptr + probe, mask=active)
        probe_pos = tl.load(pos_in_ptr + probe, mask=active)
        before = (probe_key < key) | ((probe_key == key) & (probe_pos < pos))
        low = tl.where(active & before, middle + 1, low)
        high = tl.where(active & ~before, middle, high)
    target = (run & ~1) * run_length + (place - run * run_length) + low
    if FINAL:
        x_row = strided_offset(row, kept_shape, x_kept_strides, RANK)
        out_row = strided_offset(row, kept_shape, out_kept_strides, RANK)
        keep = mask & (target >= start) & (target < stop)
        values = tl.load(x_ptr + x_row + pos * x_dim_stride, mask=keep)
        out_offset = out_row + (target - start) * out_dim_stride
        store_as(values_ptr + out_offset, values, keep)
        tl.store(indices_ptr + out_offset, pos, mask=keep)
    else:
        tl.store(key_out_ptr + base + target, key, mask=mask)
        tl.store(pos_out_ptr + base + target, pos, mask=mask)


# ------------------------------------------------------------------------------- launchers


def _sort_tile(length: int, max_tile: int | None) -> int:
    cap = max_tile or (runtime.INTERPRETER_MAX_BLOCK >> 2 if runtime.is_interpreter() else _GPU_SORT_TILE)
    return min(runtime.next_power_of_2(length), cap)


def launch_sort(
    x: torch.Tensor,
    dim: int,
    descending: bool = False,
    *,
    start: int = 0,
    stop: int | None = None,
    max_tile: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stable sort of ``x`` along the normalized ``dim``; keeps sorted places [start, stop).

    Returns (values, int64 indices), contiguous, shaped like x with ``stop - start`` along dim.
    NaN sorts as the largest value. ``max_tile`` caps the lanes sorted in registers (tests use it
    to reach the merge passes with short rows).
    """
    key_dtype = sort_key_dtype(x.dtype)
    length = x.shape[dim] if x.dim() else 1
    stop = length if stop is None else stop
    if not 0 <= start <= stop <= length:
        raise ValueError(f"launch_sort: places [{start}, {stop}) are not within a row of {length}")
    out_shape = list(x.shape)
    if x.dim():
        out_shape[dim] = stop - start
    values = torch.empty(out_shape, dtype=x.dtype, device=x.device)
    indices = torch.empty(out_shape, dtype=torch.int64, device=x.device)
    rows = along_dim_rows([x, values], dim)
    if rows.n_rows == 0 or values.numel() == 0:
        return values, indices
    tile = _sort_tile(length, max_tile)
    block_rows, _ = tile_shape(rows.n_rows, tile, tile)
    n_tiles = cdiv(length, tile)
    padded = n_tiles * tile
    key_max = torch.iinfo(key_dtype).max
    geometry = (rows.kept_shape, *rows.kept_strides, *rows.dim_strides)
    common = dict(RANK=len(rows.kept_shape), num_warps=4 if tile * block_rows <= 1024 else 8)
    final = n_tiles == 1
    key_scratch = pos_scratch = None
    if not final:
        key_scratch = torch.empty((rows.n_rows, padded), dtype=key_dtype, device=x.device)
        pos_scratch = torch.empty((rows.n_rows, padded), dtype=torch.int64, device=x.device)
    # Grid: program (i, t) sorts tile t of rows [i * BLOCK_ROWS, (i + 1) * BLOCK_ROWS).
    sort_tile_kernel[(cdiv(rows.n_rows, block_rows), n_tiles)](
        x, values if final else None, indices if final else None, key_scratch, pos_scratch,
        rows.n_rows, length, padded, start, stop, *geometry,
        KEY=triton_dtype(key_dtype), KEY_MAX=key_max, DESCENDING=descending, FINAL=final,
        INT64_INDEX=rows.int64_index or rows.n_rows * padded >= 2**31, BLOCK_ROWS=block_rows,
        LOG_TILE=tile.bit_length() - 1, **common,
    )  # fmt: skip
    run = tile
    while run < padded:
        last = 2 * run >= padded
        key_next = pos_next = None
        if not last:
            key_next, pos_next = torch.empty_like(key_scratch), torch.empty_like(pos_scratch)
        block = min(runtime.next_power_of_2(padded), 1024 if not runtime.is_interpreter() else 1 << 14)
        # Grid: program (r, b) places BLOCK pairs of row r in the merge of their run with its partner.
        merge_kernel[(rows.n_rows, cdiv(padded, block))](
            key_scratch, pos_scratch, key_next, pos_next, x, values, indices,
            rows.n_rows, padded, run, run.bit_length(), start, stop, *geometry,
            FINAL=last, BLOCK=block, **common,
        )  # fmt: skip
        key_scratch, pos_scratch, run = key_next, pos_next, 2 * run
    return values, indices


# along_dim_kernel: GATHER out[.., j, ..] = x[.., index[.., j, ..], ..]; its adjoint SCATTER_ADD
# grad_x[.., index[.., j, ..], ..] += grad[.., j, ..] (atomic: an index may repeat, as in cummax);
# SCATTER dst[.., index[.., j, ..], ..] = src[.., j, ..] (callers guarantee that repeated targets
# receive equal values). One program handles BLOCK_ROWS rows x TILE places; each element moves once.
@triton.jit
def along_dim_kernel(
    src_ptr,  # GATHER: x (indexed along dim); else the values to place (same shape as index)
    index_ptr,  # int64, the shape of the gathered result
    dst_ptr,  # GATHER: the result (index's shape); SCATTER_ADD: the zeroed float32/float64 gradient
    n_rows,
    length,  # index length along dim
    kept_shape,
    src_kept_strides,
    index_kept_strides,
    dst_kept_strides,
    src_dim_stride,
    index_dim_stride,
    dst_dim_stride,
    MODE: tl.constexpr,
    RANK: tl.constexpr,
    BLOCK_ROWS: tl.constexpr,
    TILE: tl.constexpr,
):
    rows = tl.program_id(0).to(tl.int64) * BLOCK_ROWS + tl.arange(0, BLOCK_ROWS)
    places = tl.program_id(1).to(tl.int64) * TILE + tl.arange(0, TILE)
    mask = (rows < n_rows)[:, None] & (places < length)[None, :]
    src_row = strided_offset(rows, kept_shape, src_kept_strides, RANK)[:, None]
    index_row = strided_offset(rows, kept_shape, index_kept_strides, RANK)[:, None]
    dst_row = strided_offset(rows, kept_shape, dst_kept_strides, RANK)[:, None]
    index = tl.load(index_ptr + index_row + (places * index_dim_stride)[None, :], mask=mask, other=0)
    if MODE == SCATTER_ADD:
        grad = tl.load(src_ptr + src_row + (places * src_dim_stride)[None, :], mask=mask, other=0)
        tl.atomic_add(dst_ptr + dst_row + index * dst_dim_stride, grad.to(dst_ptr.dtype.element_ty), mask=mask)
    elif MODE == SCATTER:
        values = tl.load(src_ptr + src_row + (places * src_dim_stride)[None, :], mask=mask)
        tl.store(dst_ptr + dst_row + index * dst_dim_stride, values, mask=mask)
    else:
        values = tl.load(src_ptr + src_row + index * src_dim_stride, mask=mask)
        store_as(dst_ptr + dst_row + (places * dst_dim_stride)[None, :], values, mask)


def _launch_along_dim(src, index, dst, dim: int, mode) -> None:
    if index.numel() == 0:
        return
    # The kept geometry follows the index/gradient shape; the indexed tensor shares it except on dim.
    shaped = [t if t.shape == index.shape else t.narrow(dim, 0, 1).expand(index.shape) for t in (src, index, dst)]
    rows = along_dim_rows(shaped, dim)
    if rows.n_rows == 0 or rows.length == 0:
        return
    strides = [t.stride(dim) for t in (src, index, dst)]
    block_rows, tile = tile_shape(rows.n_rows, rows.length)
    # Grid: program (i, t) moves places [t * TILE, (t + 1) * TILE) of rows [i * BLOCK_ROWS, ...).
    along_dim_kernel[(cdiv(rows.n_rows, block_rows), cdiv(rows.length, tile))](
        src, index, dst, rows.n_rows, rows.length, rows.kept_shape, *rows.kept_strides, *strides,
        MODE=mode, RANK=len(rows.kept_shape), BLOCK_ROWS=block_rows, TILE=tile,
    )  # fmt: skip


def launch_gather_along_dim(x: torch.Tensor, index: torch.Tensor, dim: int) -> torch.Tensor:
    """x gathered along ``dim`` at int64 ``index`` (torch.gather for an index shaped like x except
    along dim, with in-range entries: the callers produce them)."""
    check_same_device("gather", x, index)
    out = torch.empty(tuple(index.shape), dtype=x.dtype, device=x.device)
    if x.dim() == 0:
        return launch_gather_along_dim(x.view(1), index.view(1), 0).view(())
    _launch_along_dim(x, index, out, dim, GATHER)
    return out


def launch_scatter_along_dim(src: torch.Tensor, index: torch.Tensor, dim: int, out: torch.Tensor) -> torch.Tensor:
    """out[.., index[.., j, ..], ..] = src[.., j, ..] along ``dim`` (same dtypes; where an index
    repeats, the values written there must be equal); returns ``out``."""
    check_same_device("scatter", src, index, out)
    if src.dtype != out.dtype:
        raise TypeError(f"scatter: src dtype {src.dtype} differs from out dtype {out.dtype}")
    _launch_along_dim(src, index, out, dim, SCATTER)
    return out


def launch_scatter_add_along_dim(grad: torch.Tensor, index: torch.Tensor, dim: int, shape) -> torch.Tensor:
    """A zero tensor of ``shape`` with ``grad`` added at ``index`` along ``dim`` (the gradient of a
    gather). Accumulates in float32 (float64 for float64) and returns grad's dtype."""
    check_same_device("scatter_add", grad, index)
    wide = torch.float64 if grad.dtype == torch.float64 else torch.float32
    out = torch.empty(tuple(shape), dtype=wide, device=grad.device)
    launch_fill_(out, 0)
    if grad.dim() == 0:
        _launch_along_dim(grad.view(1), index.view(1), out.view(1), 0, SCATTER_ADD)
    else:
        _launch_along_dim(grad, index, out, dim, SCATTER_ADD)
    return out if grad.dtype == wide else launch_unary("copy", out, out_dtype=grad.dtype)
