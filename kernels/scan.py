"""Scans along one dim: cumsum, cumprod, cummax/cummin (with indices) and the reverse affine
recurrence behind cumprod's gradient.

Every scan is ``scan_kernel``: one program owns BLOCK_ROWS rows and walks each row in tiles of
TILE lanes (the whole row when it fits), scanning a tile in registers and carrying the running
value from tile to tile. The in-tile scan is a hypercube scan (``tile_scan``): for each level l,
the tile is viewed as [outer, 2, 2**l] and every right half is combined with the last element of
its left half. That needs only reshape/permute/split/join, so it runs as a few dozen numpy calls in
the interpreter (where ``tl.associative_scan`` with a custom combine runs a Python loop per
element) and compiles unchanged on a GPU.

A scan combines an (earlier, later) pair of (value, aux) states:

- SUM / PROD: value + value, value * value (aux unused);
- MAX / MIN: the later pair if its value is >= (<=) the earlier one or NaN, else the earlier pair;
  aux is the position, so ties and NaNs report the latest index, as torch's cummax/cummin do;
- AFFINE: states are maps s -> value + aux * s applied in order, so (v1, a1) then (v2, a2) is
  (v2 + a2 * v1, a1 * a2). Scanned from the end with value = grad[k] and aux = x[k + 1], it gives
  S[k] = sum_{j >= k} grad[j] * prod_{k < i <= j} x[i], which makes cumprod's gradient exact
  with zeros in x, with no division; scanned from the start with aux = x[k], its transpose
  (the next derivative of cumprod).

REVERSE walks each row from its end (tile lanes map to positions n-1, n-2, ...); SHIFT reads the
value at position k - 1 (k + 1 when reversed) for position k, with the identity past the end, which
turns the inclusive scan into an exclusive one (and feeds AFFINE its x[k + 1]).

The rows: the scanned dim is moved last on the host (strides only, no copy) and the other dims
are coalesced jointly over all operands (``along_dim_rows``), so any strided input is read in
place and outputs are written contiguous in the input's shape.

Example::

    x = torch.randn(4, 5)
    launch_scan(x, 1, "sum")              # like x.cumsum(1)
    values, indices = launch_scan(x, 0, "max", with_indices=True)   # like x.cummax(0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import triton
import triton.language as tl

from tritongrad import runtime
from tritongrad.kernels.common import needs_int64_indexing, triton_dtype
from tritongrad.kernels.elementwise import store_as
from tritongrad.kernels.strided import coalesce, strided_offset
from tritongrad.runtime import cdiv

__all__ = ["launch_scan", "launch_affine_scan", "launch_affine_reverse_scan", "along_dim_rows", "Rows"]

OP_SUM = tl.constexpr(0)
OP_PROD = tl.constexpr(1)
OP_MAX = tl.constexpr(2)
OP_MIN = tl.constexpr(3)
OP_AFFINE = tl.constexpr(4)

_OPS = {"sum": OP_SUM, "prod": OP_PROD, "max": OP_MAX, "min": OP_MIN, "affine": OP_AFFINE}

# Lanes of one tile: the interpreter wants few, large tiles; on a GPU 1024 lanes of (value, aux)
# pairs stay in registers at 4 warps.
_GPU_TILE = 1024
_INTERPRETER_TILE = 1 << 14


# ------------------------------------------------------------------------------ geometry


@dataclass(frozen=True)
class Rows:
    """Tensors of one shape seen as rows along ``dim``: ``n_rows`` rows of ``length`` elements.

    ``kept_shape`` is the coalesced shape of the other dims (shared by all operands),
    ``kept_strides[i]``/``dim_strides[i]`` the strides of operand i.
    """

    n_rows: int
    length: int
    kept_shape: tuple[int, ...]
    kept_strides: tuple[tuple[int, ...], ...]
    dim_strides: tuple[int, ...]
    int64_index: bool


def along_dim_rows(tensors: list[torch.Tensor], dim: int) -> Rows:
    """The row geometry of same-shaped ``tensors`` (a 0-dim tensor is one row of one element)."""
    shape = tuple(tensors[0].shape)
    if not shape:
        return Rows(1, 1, (1,), tuple((0,) for _ in tensors), tuple(0 for _ in tensors), False)
    kept_dims = [d for d in range(len(shape)) if d != dim]
    kept_shape, kept_strides = coalesce(
        [shape[d] for d in kept_dims], [[t.stride(d) for d in kept_dims] for t in tensors]
    )
    return Rows(
        n_rows=math.prod(shape[d] for d in kept_dims),
        length=shape[dim],
        kept_shape=tuple(kept_shape),
        kept_strides=tuple(tuple(s) for s in kept_strides),
        dim_strides=tuple(t.stride(dim) for t in tensors),
        int64_index=needs_int64_indexing(*tensors),
    )


def tile_shape(n_rows: int, length: int, max_tile: int | None = None) -> tuple[int, int]:
    """(BLOCK_ROWS, TILE): lanes along a row (a power of two) and rows per program."""
    budget = _INTERPRETER_TILE if runtime.is_interpreter() else _GPU_TILE
    tile = min(runtime.next_power_of_2(length), max_tile or budget)
    block_rows = min(runtime.next_power_of_2(n_rows), max(1, budget // tile))
    return block_rows, tile


# ------------------------------------------------------------------------------- device code


@triton.jit
def _combine(v1, a1, v2, a2, OP: tl.constexpr):
    """State (v1, a1) followed by (v2, a2); see the module docstring."""
    if OP == OP_SUM:
        v, a = v1 + v2, a2
    elif OP == OP_PROD:
        v, a = v1 * v2, a2
    elif OP == OP_MAX:
        later = (v2 >= v1) | (v2 != v2)
        v, a = tl.where(later, v2, v1), tl.where(later, a2, a1)
    elif OP == OP_MIN:
        later = (v2 <= v1) | (v2 != v2)
        v, a = tl.where(later, v2, v1), tl.where(later, a2, a1)
    else:
        v, a = v2 + a2 * v1, a1 * a2
    return v, a


@triton.jit
def _last_column(t, INNER: tl.constexpr):
    """t[:, INNER - 1] as a [outer, 1] column (one lane selected, the rest summed as zeros)."""
    column = tl.arange(0, INNER)[None, :]
    return tl.sum(tl.where(column == INNER - 1, t, tl.zeros_like(t)), axis=1)[:, None]


@triton.jit
def _scan_level(value, aux, OP: tl.constexpr, ROWS: tl.constexpr, LOG_TILE: tl.constexpr, LEVEL: tl.constexpr):
    """Blocks of 2**(LEVEL + 1) lanes, whose halves are scanned, become scanned blocks."""
    TILE: tl.constexpr = 1 << LOG_TILE
    INNER: tl.constexpr = 1 << LEVEL
    OUTER: tl.constexpr = ROWS * (TILE >> (LEVEL + 1))
    v_left, v_right = tl.split(tl.permute(tl.reshape(value, [OUTER, 2, INNER]), (0, 2, 1)))
    a_left, a_right = tl.split(tl.permute(tl.reshape(aux, [OUTER, 2, INNER]), (0, 2, 1)))
    v_right, a_right = _combine(_last_column(v_left, INNER), _last_column(a_left, INNER), v_right, a_right, OP)
    value = tl.reshape(tl.permute(tl.join(v_left, v_right), (0, 2, 1)), [ROWS, TILE])
    aux = tl.reshape(tl.permute(tl.join(a_left, a_right), (0, 2, 1)), [ROWS, TILE])
    return value, aux


@triton.jit
def tile_scan(value, aux, OP: tl.constexpr, ROWS: tl.constexpr, LOG_TILE: tl.constexpr):
    """Inclusive scan of each row of a [ROWS, 2**LOG_TILE] tile of (value, aux) states."""
    for level in tl.static_range(LOG_TILE):
        value, aux = _scan_level(value, aux, OP, ROWS, LOG_TILE, level)
    return value, aux


# scan_kernel: out[r, k] = fold over positions up to k (from k to the end when REVERSE) of row r.
# Memory traffic: each input element read once (twice for AFFINE: grad and x), each output
# written once. One program owns BLOCK_ROWS rows and walks them tile by tile, carrying the state.
@triton.jit
def scan_kernel(
    # pointers
    x_ptr,  # input rows (values; the gradient for AFFINE)
    aux_ptr,  # AFFINE: the multiplier rows (x of cumprod); else None
    out_ptr,  # [rows, length] values, written at out strides
    index_out_ptr,  # MAX/MIN: int64 positions, same strides as out; else None
    # sizes and strides
    n_rows,
    length,
    kept_shape,
    x_kept_strides,
    aux_kept_strides,
    out_kept_strides,
    x_dim_stride,
    aux_dim_stride,
    out_dim_stride,
    # meta-parameters
    OP: tl.constexpr,
    ACC: tl.constexpr,  # dtype the scan runs in
    IDENTITY: tl.constexpr,  # the value part of the identity state
    REVERSE: tl.constexpr,
    SHIFT: tl.constexpr,
    RANK: tl.constexpr,
    INT64_INDEX: tl.constexpr,
    BLOCK_ROWS: tl.constexpr,
    LOG_TILE: tl.constexpr,
):
    TILE: tl.constexpr = 1 << LOG_TILE
    rows = tl.program_id(0) * BLOCK_ROWS + tl.arange(0, BLOCK_ROWS)
    if INT64_INDEX:
        rows = rows.to(tl.int64)
    row_mask = rows < n_rows
    x_row = strided_offset(rows, kept_shape, x_kept_strides, RANK)
    aux_row = strided_offset(rows, kept_shape, aux_kept_strides, RANK)
    out_row = strided_offset(rows, kept_shape, out_kept_strides, RANK)
    lanes = tl.arange(0, TILE)

    carry_value = tl.full([BLOCK_ROWS, 1], IDENTITY, ACC)
    if OP == OP_AFFINE:
        carry_aux = tl.full([BLOCK_ROWS, 1], 1, ACC)
    else:
        carry_aux = tl.zeros([BLOCK_ROWS, 1], tl.int64)
    for start in range(0, length, TILE):
        step = start + lanes  # how far along the walk (from the end when REVERSE)
        if INT64_INDEX:
            step = step.to(tl.int64)
        if REVERSE:
            position = length - 1 - step
        else:
            position = step
        mask = row_mask[:, None] & (step < length)[None, :]
        if SHIFT:
            read = position + 1 if REVERSE else position - 1
            read_mask = mask & ((read >= 0) & (read < length))[None, :]
        else:
            read = position
            read_mask = mask
        if OP == OP_AFFINE:
            # value: grad[k]; aux: x[k + 1] (SHIFT), the identity multiplier 1 past the end
            value = tl.load(x_ptr + x_row[:, None] + (position * x_dim_stride)[None, :], mask=mask, other=0)
            value = value.to(ACC)
            aux = tl.load(aux_ptr + aux_row[:, None] + (read * aux_dim_stride)[None, :], mask=read_mask, other=1)
            aux = aux.to(ACC)
        else:
            value = tl.load(x_ptr + x_row[:, None] + (read * x_dim_stride)[None, :], mask=read_mask, other=0)
            value = tl.where(read_mask, value.to(ACC), IDENTITY)
            aux = tl.zeros([BLOCK_ROWS, TILE], tl.int64) + position[None, :]
        value, aux = tile_scan(value, aux, OP, BLOCK_ROWS, LOG_TILE)
        value, aux = _combine(carry_value, carry_aux, value, aux, OP)
        out_offset = out_row[:, None] + (position * out_dim_stride)[None, :]
        store_as(out_ptr + out_offset, value, mask)
        if index_out_ptr is not None:
            tl.store(index_out_ptr + out_offset, aux, mask=mask)
        carry_value, carry_aux = _last_column(value, TILE), _last_column(aux, TILE)


# ------------------------------------------------------------------------------- launchers


def _scan_accumulator(dtype: torch.dtype, op: str) -> torch.dtype:
    """Where the scan runs: sums/products of halves in float32, of integers and bools in int64;
    max/min in the compare type (halves widened, bool as int32)."""
    triton_dtype(dtype)
    if op in ("sum", "prod", "affine"):
        if dtype in (torch.float16, torch.bfloat16, torch.float32):
            return torch.float32
        return torch.float64 if dtype == torch.float64 else torch.int64
    return {torch.float16: torch.float32, torch.bfloat16: torch.float32, torch.bool: torch.int32}.get(dtype, dtype)


def _identity(op: str, acc: torch.dtype) -> int | float:
    if op in ("sum", "affine"):
        return 0
    if op == "prod":
        return 1
    if acc.is_floating_point:
        return -math.inf if op == "max" else math.inf
    info = torch.iinfo(acc)
    return info.min if op == "max" else info.max


def _launch(op: str, x: torch.Tensor, aux: torch.Tensor | None, out: torch.Tensor, index_out, dim: int, *,
            acc: torch.dtype, reverse: bool, shift: bool, max_tile: int | None) -> None:  # fmt: skip
    operands = [x, aux if aux is not None else x, out]
    rows = along_dim_rows(operands, dim)
    if rows.n_rows == 0 or rows.length == 0:
        return
    block_rows, tile = tile_shape(rows.n_rows, rows.length, max_tile)
    # Grid: program i scans rows [i * BLOCK_ROWS, (i + 1) * BLOCK_ROWS), each from start to end.
    scan_kernel[(cdiv(rows.n_rows, block_rows),)](
        x, aux, out, index_out,
        rows.n_rows, rows.length, rows.kept_shape, *rows.kept_strides, *rows.dim_strides,
        OP=_OPS[op], ACC=triton_dtype(acc), IDENTITY=_identity(op, acc), REVERSE=reverse, SHIFT=shift,
        RANK=len(rows.kept_shape), INT64_INDEX=rows.int64_index, BLOCK_ROWS=block_rows,
        LOG_TILE=tile.bit_length() - 1, num_warps=4,
    )  # fmt: skip


def launch_scan(
    x: torch.Tensor,
    dim: int,
    op: str,
    *,
    out_dtype: torch.dtype | None = None,
    with_indices: bool = False,
    reverse: bool = False,
    exclusive: bool = False,
    max_tile: int | None = None,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Inclusive scan of ``x`` along the normalized ``dim``: op is "sum", "prod", "max" or "min".

    Returns a contiguous tensor of x's shape in ``out_dtype`` (default x's dtype), and with
    ``with_indices`` (max/min) also the int64 positions of the running extreme. ``reverse`` scans
    from the end, ``exclusive`` leaves each position's own element out. ``max_tile`` caps the
    lanes per tile (tests use it to cross tiles on small rows).
    """
    if op not in ("sum", "prod", "max", "min"):
        raise ValueError(f"launch_scan: unknown op {op!r}")
    out_dtype = out_dtype or x.dtype
    acc = _scan_accumulator(out_dtype if op in ("sum", "prod") else x.dtype, op)
    out = torch.empty(tuple(x.shape), dtype=out_dtype, device=x.device)
    indices = torch.empty(tuple(x.shape), dtype=torch.int64, device=x.device) if with_indices else None
    _launch(op, x, None, out, indices, dim, acc=acc, reverse=reverse, shift=exclusive, max_tile=max_tile)
    return (out, indices) if with_indices else out


def launch_affine_scan(
    values: torch.Tensor, coefficients: torch.Tensor, dim: int, *, reverse: bool, max_tile: int | None = None
) -> torch.Tensor:
    """The affine recurrence along ``dim`` (same shapes; the result in the coefficients' dtype):

    reverse: S[k] = values[k] + coefficients[k + 1] * S[k + 1], i.e.
             S[k] = sum_{j >= k} values[j] * prod_{k < i <= j} coefficients[i];
    forward: S[k] = values[k] + coefficients[k] * S[k - 1].

    Either way the coefficient between neighbours sits at the later position, so each direction
    is the other's transpose (the gradient of one runs the other).
    """
    if tuple(values.shape) != tuple(coefficients.shape):
        raise ValueError(f"launch_affine_scan: shapes {tuple(values.shape)} and {tuple(coefficients.shape)} differ")
    acc = _scan_accumulator(coefficients.dtype, "affine")
    out = torch.empty(tuple(values.shape), dtype=coefficients.dtype, device=coefficients.device)
    _launch("affine", values, coefficients, out, None, dim, acc=acc, reverse=reverse, shift=reverse,
            max_tile=max_tile)  # fmt: skip
    return out


def launch_affine_reverse_scan(
    grad: torch.Tensor, x: torch.Tensor, dim: int, *, max_tile: int | None = None
) -> torch.Tensor:
    """S[k] = sum_{j >= k} grad[j] * prod_{k < i <= j} x[i] along ``dim`` (same shapes; x's dtype).

    cumprod's gradient is exclusive_cumprod(x) * S, exact where x has zeros.
    """
    return launch_affine_scan(grad, x, dim, reverse=True, max_tile=max_tile)
