"""Reductions: sum, mean, prod, amax/amin, max/min with indices, argmax/argmin, var/std, norm.

Every op here is one of two kernels driven by the same plan:

- ``reduce_kernel`` folds values with +, *, max or min after an optional per-element
  map (|x|, x², |x|^p, x != 0, (x - mean)²) and finishes with an optional divide,
  square root or p-th root. sum/mean/prod/amax/amin/var/std/norm are settings of it.
- ``arg_reduce_kernel`` carries (value, index) pairs for max/min(dim) and argmax/argmin.

The plan (``_plan``) never copies the input. It looks at the input's dims as two
groups, the kept dims (in their original order, so the contiguous output is laid
out like torch's) and the reduced dims, and coalesces each group: size-1 dims are
dropped and neighbours whose strides chain (``stride[i] == stride[i+1] * size[i+1]``)
merge into one. A contiguous row reduction thus becomes one kept dim and one reduced
dim, while any strided view (transposed, sliced with a step, expanded with stride 0)
is still read in place: the kernels receive each group's shape and strides as tuples
and turn a linear index into an address with one div/mod per remaining dim. For value
reductions the reduced dims are also sorted by stride first (their order does not
change the result), so e.g. a full sum of a transposed matrix still walks memory
contiguously; arg reductions keep the original order because the index they return is
the row-major position within the reduced dims.

One program instance owns BLOCK_OUT outputs and walks their reduced extent in tiles of
BLOCK_RED, keeping a [BLOCK_OUT, BLOCK_RED] accumulator that is folded once at the end.
When few outputs would leave a GPU mostly idle (a full reduction of a large tensor),
the reduced extent is split into chunks: stage 1 writes one partial per (output,
chunk) in the accumulator dtype, stage 2 reduces the partials with the same kernel.

Accumulators: float32 for float16/bfloat16/float32, float64 for float64, int64 for
integers and bool (sum/prod); max/min compare in the input's own type (halves widened).

Example::

    x = torch.randn(4, 5)
    launch_sum(x, (1,), keepdim=False)       # like x.sum(1)
    launch_var(x, (), correction=1, keepdim=False)   # like x.var()
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
import triton
import triton.language as tl

from tritongrad import runtime
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels.common import (
    FLOATING_DTYPES,
    needs_int64_indexing,
    remember,
    to_bfloat16_rne,
    triton_dtype,
)
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.strided import coalesce, contiguous_strides
from tritongrad.runtime import cdiv

__all__ = [
    "launch_sum",
    "launch_mean",
    "launch_prod",
    "launch_amax",
    "launch_amin",
    "launch_max_with_indices",
    "launch_min_with_indices",
    "launch_argmax",
    "launch_argmin",
    "launch_var",
    "launch_std",
    "launch_norm",
    "launch_logsumexp",
    "launch_nansum",
]

# How values are folded (OP), transformed before folding (MAP), and finished (FINAL).
OP_SUM = tl.constexpr(0)
OP_PROD = tl.constexpr(1)
OP_MAX = tl.constexpr(2)
OP_MIN = tl.constexpr(3)

MAP_NONE = tl.constexpr(0)
MAP_ABS = tl.constexpr(1)
MAP_SQUARE = tl.constexpr(2)
MAP_POW_ABS = tl.constexpr(3)  # |x| ** p
MAP_NONZERO = tl.constexpr(4)  # 1 where x != 0 (the "0-norm" counts them)
MAP_SQUARED_DEVIATION = tl.constexpr(5)  # (x - center) ** 2, center one value per output
MAP_EXP_DEVIATION = tl.constexpr(6)  # exp(x - center), center the finite max of the output's group
MAP_NAN_TO_ZERO = tl.constexpr(7)  # NaN counts as 0 (nansum)

FINAL_NONE = tl.constexpr(0)
FINAL_DIVIDE = tl.constexpr(1)
FINAL_SQRT_OF_DIVIDE = tl.constexpr(2)
FINAL_ROOT = tl.constexpr(3)  # r ** (1 / p)
FINAL_LOG_ADD_CENTER = tl.constexpr(4)  # log(r) + center (logsumexp)

INT64_MAX = tl.constexpr(2**63 - 1)

# On a GPU one tile holds at most this many elements (16 fp32 registers per thread at
# 8 warps); a column-oriented tile spans this many outputs so a warp's loads along the
# contiguous kept axis coalesce.
_GPU_TILE = 4096
_GPU_COLUMN_BLOCK = 128

_FLOAT32_MAX = 3.4028234663852886e38


# ----------------------------------------------------------------------------- helpers


@triton.jit
def _strided_offset(linear, shape, strides):
    """Address offset of row-major position ``linear`` in a view of ``shape``/``strides``."""
    if len(shape) == 1:  # (one dim, the common case: one multiply, no running sum)
        return linear * strides[0]
    offset = linear * 0
    for d in tl.static_range(len(shape) - 1, -1, -1):
        if d > 0:
            coord = linear % shape[d]
            linear = linear // shape[d]
        else:
            coord = linear  # the outermost dim needs no modulo
        offset += coord * strides[d]
    return offset


@triton.jit
def _join_float(hi, lo, DTYPE: tl.constexpr):
    # Triton passes Python floats as float32: the launcher splits a float64 scalar into
    # hi + lo float32 parts so float64 reductions see (almost) the exact value.
    return tl.cast(hi, DTYPE) + tl.cast(lo, DTYPE)


@triton.jit
def _sqrt_rounded(x):
    # tl.sqrt is an approximation for float32 on a GPU; sqrt_rn is float32-only and
    # float64's tl.sqrt is already correctly rounded.
    if x.dtype == tl.float64:
        return tl.sqrt(x)
    else:
        return tl.sqrt_rn(x)


@triton.jit
def _pow_nonnegative(a, e):
    """a ** e for a >= 0 (or NaN) by exp/log, with 0 ** e = 0 (e > 0) or inf (e < 0)."""
    is_zero = a == 0
    powered = tl.exp(e * tl.log(tl.where(is_zero, 1.0, a)))
    zero_power = tl.where(e > 0, 0.0, float("inf")).to(a.dtype)
    return tl.where(is_zero, zero_power, powered)


# The final folds across a tile's lanes use only tl.sum/tl.max/tl.min: the interpreter
# runs those as one numpy call, but a custom tl.reduce combine as a Python loop per element.


@triton.jit
def _row_nan(acc):
    """Per row: NaN if the row holds a NaN, else 0 (always 0 for integers)."""
    return tl.sum(tl.where(acc != acc, acc, 0), axis=1)


@triton.jit
def _prod_rows(acc, BLOCK_OUT: tl.constexpr, BLOCK_RED: tl.constexpr):
    """Product along axis 1 as a tree: multiply the two halves until one lane is left."""
    for step in tl.static_range(16):  # BLOCK_RED <= 2**16
        if (BLOCK_RED >> step) > 1:
            left, right = tl.split(tl.reshape(acc, [BLOCK_OUT, BLOCK_RED >> (step + 1), 2]))
            acc = left * right
    return tl.reshape(acc, [BLOCK_OUT])


@triton.jit
def _fold(acc, values, OP: tl.constexpr):
    """Elementwise step of OP; max/min let a NaN in, and never out."""
    if OP == OP_SUM:
        acc = acc + values
    elif OP == OP_PROD:
        acc = acc * values
    elif OP == OP_MAX:
        acc = tl.where((values > acc) | (values != values), values, acc)
    else:
        acc = tl.where((values < acc) | (values != values), values, acc)
    return acc


@triton.jit
def _fold_rows(acc, OP: tl.constexpr, BLOCK_OUT: tl.constexpr, BLOCK_RED: tl.constexpr):
    if OP == OP_SUM:
        result = tl.sum(acc, axis=1)
    elif OP == OP_PROD:
        result = _prod_rows(acc, BLOCK_OUT, BLOCK_RED)
    else:
        if OP == OP_MAX:
            result = tl.max(acc, axis=1)
        else:
            result = tl.min(acc, axis=1)
        nan = _row_nan(acc)  # tl.max/tl.min may skip NaNs; torch propagates them
        result = tl.where(nan != nan, nan, result)
    return result


@triton.jit
def _apply_map(values, center, p, MAP: tl.constexpr):
    if MAP == MAP_ABS:
        values = tl.abs(values)
    elif MAP == MAP_SQUARE:
        values = values * values
    elif MAP == MAP_POW_ABS:
        values = _pow_nonnegative(tl.abs(values), p)
    elif MAP == MAP_NONZERO:
        values = (values != 0).to(values.dtype)
    elif MAP == MAP_SQUARED_DEVIATION:
        deviation = values - center[:, None]
        values = deviation * deviation
    elif MAP == MAP_EXP_DEVIATION:
        values = tl.exp(values - center[:, None])
    elif MAP == MAP_NAN_TO_ZERO:
        values = tl.where(values != values, 0, values)
    return values


# ------------------------------------------------------------------------------ kernels


# reduce_kernel: out[o] = FINAL(fold_OP over r of MAP(x[o, r])), o over kept positions,
# r over the reduced positions of this program's chunk. Memory traffic: every input
# element is read once (in BLOCK_OUT x BLOCK_RED tiles at its real strides), each output
# (or each (output, chunk) partial) is written once; a variance's mean is read once per
# output. With n_splits > 1 the result is a partial stored at out[o * n_splits + chunk].
@triton.jit
def reduce_kernel(
    # pointers
    x_ptr,  # input view, addressed through kept_/red_ shape and strides
    center_ptr,  # [n_out] per-output center for MAP_SQUARED_DEVIATION, else None
    out_ptr,  # [n_out, n_splits] contiguous
    # sizes
    n_out,
    n_red,
    red_chunk,  # reduced positions per chunk (program_id(1))
    n_splits,
    kept_shape,
    kept_strides,
    red_shape,
    red_strides,
    # scalars, each a float32 hi/lo pair (see _join_float)
    divisor_hi,
    divisor_lo,
    p_hi,
    p_lo,
    scale_hi,
    scale_lo,
    # meta-parameters
    OP: tl.constexpr,
    MAP: tl.constexpr,
    FINAL: tl.constexpr,
    SCALED: tl.constexpr,  # multiply the fold by scale before FINAL (elements folded away by _plan)
    ACC: tl.constexpr,  # accumulator dtype
    IDENTITY: tl.constexpr,  # neutral element of OP, fills masked-off lanes
    INT64_INDEX: tl.constexpr,
    BLOCK_OUT: tl.constexpr,
    BLOCK_RED: tl.constexpr,
):
    pid_out = tl.program_id(0)
    chunk = tl.program_id(1)
    out_index = pid_out * BLOCK_OUT + tl.arange(0, BLOCK_OUT)
    red_begin = chunk * red_chunk
    if INT64_INDEX:
        out_index = out_index.to(tl.int64)
        red_begin = chunk.to(tl.int64) * red_chunk
    out_mask = out_index < n_out
    red_end = tl.minimum(red_begin + red_chunk, n_red)
    row_offset = _strided_offset(out_index, kept_shape, kept_strides)

    if MAP == MAP_SQUARED_DEVIATION or MAP == MAP_EXP_DEVIATION or FINAL == FINAL_LOG_ADD_CENTER:
        center = tl.load(center_ptr + out_index, mask=out_mask, other=0).to(ACC)
        if MAP == MAP_EXP_DEVIATION or FINAL == FINAL_LOG_ADD_CENTER:
            # An infinite max would make x - max NaN; shifting by 0 instead gives torch's +-inf.
            center = tl.where(tl.abs(center) == float("inf"), 0.0, center).to(ACC)
    else:
        center = tl.zeros([BLOCK_OUT], ACC)
    if MAP == MAP_POW_ABS or FINAL == FINAL_ROOT:
        p = _join_float(p_hi, p_lo, ACC)
    else:
        p = 0.0  # (unread: each op costs a program instance dozens of microseconds in the interpreter)

    identity = tl.full([BLOCK_OUT, BLOCK_RED], IDENTITY, ACC)
    acc = identity
    for start in range(red_begin, red_end, BLOCK_RED):
        red_index = start + tl.arange(0, BLOCK_RED)
        if INT64_INDEX:
            # The interpreter hands the loop variable over as a Python int, so the sum above is
            # int32 whatever red_begin's type: widen it, or coord * stride wraps past 2**31.
            red_index = red_index.to(tl.int64)
        mask = out_mask[:, None] & (red_index < red_end)[None, :]
        offset = row_offset[:, None] + _strided_offset(red_index, red_shape, red_strides)[None, :]
        values = tl.load(x_ptr + offset, mask=mask, other=0).to(ACC)
        values = _apply_map(values, center, p, MAP)
        acc = _fold(acc, tl.where(mask, values, identity), OP)
    result = _fold_rows(acc, OP, BLOCK_OUT, BLOCK_RED)
    if SCALED:
        result = result * _join_float(scale_hi, scale_lo, ACC)

    if FINAL == FINAL_DIVIDE:
        result = result / _join_float(divisor_hi, divisor_lo, ACC)
    elif FINAL == FINAL_SQRT_OF_DIVIDE:
        result = _sqrt_rounded(result / _join_float(divisor_hi, divisor_lo, ACC))
    elif FINAL == FINAL_ROOT:
        result = _pow_nonnegative(result, 1.0 / p)
    elif FINAL == FINAL_LOG_ADD_CENTER:
        result = tl.log(result) + center
    if out_ptr.dtype.element_ty == tl.bfloat16:  # (the interpreter's own cast truncates; torch rounds)
        tl.store(out_ptr + out_index * n_splits + chunk, to_bfloat16_rne(result.to(tl.float32)), mask=out_mask)
    else:
        tl.store(out_ptr + out_index * n_splits + chunk, result.to(out_ptr.dtype.element_ty), mask=out_mask)


# arg_reduce_kernel: for each kept position o, the extreme value over the reduced
# positions and the first position holding it. Memory traffic: each input element read
# once (plus, in stage 2, one int64 index per partial); one value and one index written
# per output (or per (output, chunk) partial when n_splits > 1).
#
# Each accumulator lane starts at (IDENTITY, red_begin). A lane is replaced only by a
# strictly better value, and positions reach a lane in increasing order, so every lane
# keeps the first occurrence of its best value; the final fold breaks ties by index. If
# every value equals IDENTITY (the type's lowest value for max), no lane ever changes and
# red_begin is the right answer, since that position holds IDENTITY too. The lanes are
# then folded to the best value and the smallest index among the lanes that hold it.
@triton.jit
def arg_reduce_kernel(
    # pointers
    x_ptr,  # input view (stage 1) or partial values [n_out, splits] (stage 2)
    index_in_ptr,  # None in stage 1 (positions are computed); partial indices in stage 2
    value_out_ptr,  # [n_out, n_splits] contiguous, or None when only indices are wanted
    index_out_ptr,  # [n_out, n_splits] contiguous int64
    # sizes
    n_out,
    n_red,
    red_chunk,
    n_splits,
    kept_shape,
    kept_strides,
    red_shape,
    red_strides,
    red_positions,  # with REMAP: row-major position multipliers of the reduced dims (see _Geometry)
    # meta-parameters
    IS_MAX: tl.constexpr,
    ACC: tl.constexpr,
    IDENTITY: tl.constexpr,
    REMAP: tl.constexpr,
    INT64_INDEX: tl.constexpr,
    BLOCK_OUT: tl.constexpr,
    BLOCK_RED: tl.constexpr,
):
    pid_out = tl.program_id(0)
    chunk = tl.program_id(1)
    out_index = pid_out * BLOCK_OUT + tl.arange(0, BLOCK_OUT)
    red_begin = chunk * red_chunk
    if INT64_INDEX:
        out_index = out_index.to(tl.int64)
        red_begin = chunk.to(tl.int64) * red_chunk
    out_mask = out_index < n_out
    red_end = tl.minimum(red_begin + red_chunk, n_red)
    row_offset = _strided_offset(out_index, kept_shape, kept_strides)

    best = tl.full([BLOCK_OUT, BLOCK_RED], IDENTITY, ACC)
    best_index = tl.zeros([BLOCK_OUT, BLOCK_RED], tl.int64) + red_begin
    for start in range(red_begin, red_end, BLOCK_RED):
        red_index = start + tl.arange(0, BLOCK_RED)
        if INT64_INDEX:
            # The interpreter hands the loop variable over as a Python int, so the sum above is
            # int32 whatever red_begin's type: widen it, or coord * stride wraps past 2**31.
            red_index = red_index.to(tl.int64)
        mask = out_mask[:, None] & (red_index < red_end)[None, :]
        offset = row_offset[:, None] + _strided_offset(red_index, red_shape, red_strides)[None, :]
        values = tl.load(x_ptr + offset, mask=mask, other=0).to(ACC)
        if index_in_ptr is None:
            if REMAP:
                position = _strided_offset(red_index, red_shape, red_positions)
            else:
                position = red_index
            index = tl.zeros([BLOCK_OUT, BLOCK_RED], tl.int64) + position[None, :]
        else:
            index = tl.load(index_in_ptr + offset, mask=mask, other=0)
        if IS_MAX:
            better = values > best
        else:
            better = values < best
        better = mask & (better | ((values != values) & (best == best)))
        best = tl.where(better, values, best)
        best_index = tl.where(better, index, best_index)
    # Fold the lanes: the best value (NaN first), then the smallest index holding it.
    if IS_MAX:
        value = tl.max(best, axis=1)
    else:
        value = tl.min(best, axis=1)
    nan = _row_nan(best)
    value = tl.where(nan != nan, nan, value)
    holds_best = (best == value[:, None]) | ((best != best) & (value != value)[:, None])
    index = tl.min(tl.where(holds_best, best_index, INT64_MAX), axis=1)

    out_offset = out_index * n_splits + chunk
    if value_out_ptr is not None:
        tl.store(value_out_ptr + out_offset, value.to(value_out_ptr.dtype.element_ty), mask=out_mask)
    tl.store(index_out_ptr + out_offset, index, mask=out_mask)


# ------------------------------------------------------------------------------- plan


class _Geometry(NamedTuple):
    """What a kernel needs to address its input: coalesced kept and reduced dims.

    (Named tuples, as _Plan: a cached plan is re-aimed at each call's input with ``_replace``,
    which costs a tuple, not a dataclass's per-field setattr.)"""

    source: torch.Tensor
    n_out: int
    n_red: int
    kept_shape: tuple[int, ...]
    kept_strides: tuple[int, ...]
    red_shape: tuple[int, ...]
    red_strides: tuple[int, ...]
    int64_index: bool
    # Arg reductions whose plan folded stride-0 dims away: the row-major position multipliers of
    # the remaining reduced dims among all of them (None: positions are the linear index itself).
    red_positions: tuple[int, ...] | None = None


class _Plan(NamedTuple):
    geometry: _Geometry
    out_shape: tuple[int, ...]
    reduced_dims: tuple[int, ...]
    reduces_all: bool  # dims was (): every dim, the "no dim given" case of torch
    # Reduced dims with stride 0 (expanded) repeat the same values; when the plan folds them
    # away, each value stands for ``repeats`` elements (see _plan's fold_repeats).
    repeats: int = 1

    @property
    def count(self) -> int:
        """How many input elements each output reduces (a mean's divisor)."""
        return self.geometry.n_red * self.repeats


def _coalesce(sizes_and_strides: list[tuple[int, int]]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Drops size-1 dims and merges neighbours whose strides chain; never returns an empty
    tuple (kernels index shape[0]), and a group with a size-0 dim is never addressed."""
    merged: list[list[int]] = []
    for size, stride in sizes_and_strides:
        if size == 1:
            continue
        if merged and merged[-1][1] == stride * size:
            merged[-1] = [merged[-1][0] * size, stride]
        else:
            merged.append([size, stride])
    if not merged or any(size == 0 for size, _ in merged):
        return (1,), (0,)
    return tuple(s for s, _ in merged), tuple(st for _, st in merged)


def _check_dims(name: str, x: torch.Tensor, dims: Sequence[int]) -> tuple[int, ...]:
    rank = max(x.dim(), 1)  # a 0-dim tensor accepts dim 0, like torch
    dims = tuple(int(d) for d in dims)
    for d in dims:
        if not 0 <= d < rank:
            raise IndexError(
                f"{name}(): dim {d} is out of range for a tensor of shape {tuple(x.shape)} "
                f"(expected a normalized dim in [0, {rank - 1}])"
            )
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{name}(): dims {dims} repeat a dim")
    return dims


# Plans keyed by the input's layout and the reduction's arguments: a plan is computed once per
# distinct (shape, strides, dims, ...) and reused with the new input as its source.
_PLANS: dict[tuple, _Plan] = {}


def _plan(
    name: str, x: torch.Tensor, dims: Sequence[int], keepdim: bool, sort_reduced: bool, fold_repeats: bool = False
) -> _Plan:
    """``_compute_plan``, cached per layout (shape and strides decide the offsets' width too)."""
    key = (name, x.shape, x.stride(), tuple(dims), keepdim, sort_reduced, fold_repeats)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _compute_plan(name, x, dims, keepdim, sort_reduced, fold_repeats)
        remember(_PLANS, key, plan)
        return plan
    if plan.geometry.source is x:
        return plan
    return plan._replace(geometry=plan.geometry._replace(source=x))


def _compute_plan(
    name: str, x: torch.Tensor, dims: Sequence[int], keepdim: bool, sort_reduced: bool, fold_repeats: bool = False
) -> _Plan:
    """Splits x's dims into kept and reduced groups (``dims == ()`` reduces all of them).

    With ``fold_repeats`` (sum-like and max/min-like folds), reduced dims of stride 0 are dropped
    and counted in ``repeats``: a sum over them is the sum over the rest times ``repeats`` and a
    max ignores them, so ``ones(()).expand(2**31 + 5).sum()`` reads one element, not 2**31.
    """
    dims = _check_dims(name, x, dims)
    if x.dim() == 0:
        # A scalar reduces over one position; the output is 0-dim either way.
        geometry = _Geometry(x, 1, 1, (1,), (0,), (1,), (0,), False)
        return _Plan(geometry, (), (0,) if dims else (), not dims)
    reduced = set(dims) if dims else set(range(x.dim()))
    shape, strides = tuple(x.shape), x.stride()
    kept = [(shape[d], strides[d]) for d in range(x.dim()) if d not in reduced]
    red = [(shape[d], strides[d]) for d in sorted(reduced)]
    repeats, positions = 1, None
    if fold_repeats and all(size > 0 for size, _ in red):
        repeats = math.prod(size for size, stride in red if stride == 0)
        if repeats > 1 and not sort_reduced:
            # An arg reduction reports row-major positions over all reduced dims; the first
            # occurrence has coordinate 0 in a repeated dim, so the others keep their multipliers.
            multipliers = [math.prod(size for size, _ in red[i + 1 :]) for i in range(len(red))]
            positions = [m for (size, stride), m in zip(red, multipliers) if stride != 0]
        red = [(size, stride) for size, stride in red if stride != 0]
    if sort_reduced:
        red.sort(key=lambda size_stride: -size_stride[1])
    if keepdim:
        out_shape = tuple(1 if d in reduced else shape[d] for d in range(x.dim()))
    else:
        out_shape = tuple(shape[d] for d in range(x.dim()) if d not in reduced)
    kept_shape, kept_strides = _coalesce(kept)
    red_shape, red_strides = _coalesce(red)
    if positions is not None:
        merged_shape, (merged_strides, merged_positions) = coalesce(
            [size for size, _ in red], [[stride for _, stride in red], positions]
        )
        red_shape, red_strides, positions = tuple(merged_shape), tuple(merged_strides), tuple(merged_positions)
    geometry = _Geometry(
        source=x,
        n_out=math.prod(size for size, _ in kept),
        n_red=math.prod(size for size, _ in red),
        kept_shape=kept_shape,
        kept_strides=kept_strides,
        red_shape=red_shape,
        red_strides=red_strides,
        int64_index=needs_int64_indexing(x),
        red_positions=positions,
    )
    return _Plan(geometry, out_shape, tuple(sorted(reduced)), not dims, repeats)


def _partials_geometry(partials: torch.Tensor) -> _Geometry:
    """Stage 2 reads the [n_out, n_splits] partials as rows to reduce."""
    n_out, n_splits = partials.shape
    return _Geometry(partials, n_out, n_splits, (n_out,), (n_splits,), (n_splits,), (1,), False)


def _require_nonempty(name: str, x: torch.Tensor, plan: _Plan, error: type[Exception]) -> None:
    """max/min-like ops have no identity: refuse a reduction over no elements, like torch."""
    if plan.geometry.n_red != 0:
        return
    if plan.reduces_all:
        raise error(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
    empty_dim = next(d for d in plan.reduced_dims if x.shape[d] == 0)
    raise IndexError(f"{name}(): Expected reduction dim {empty_dim} to have non-zero size.")


# ------------------------------------------------------------------------------ launch policy


@functools.cache
def _programs_wanted() -> int:
    """Program instances that keep the device busy. The interpreter runs them one after
    another, so there a split only adds a launch: one program is all it wants."""
    if runtime.is_interpreter():
        return 1
    return 4 * torch.cuda.get_device_properties(runtime.device()).multi_processor_count


def _tile_config(geometry: _Geometry) -> tuple[int, int, int]:
    """(BLOCK_OUT, BLOCK_RED, num_warps) for one program's tile."""
    return _tile_config_for(geometry.n_out, geometry.n_red, geometry.kept_strides[-1], geometry.red_strides[-1])


@functools.lru_cache(maxsize=4096)
def _tile_config_for(n_out: int, n_red: int, kept_inner: int, red_inner: int) -> tuple[int, int, int]:
    budget = runtime.INTERPRETER_MAX_BLOCK if runtime.is_interpreter() else _GPU_TILE
    if n_out > 1 and n_red > 1 and 0 < kept_inner < red_inner:
        # Column reduction: neighbouring outputs are neighbours in memory, so the tile
        # is wide along the kept axis and short along the reduced one.
        column_cap = budget if runtime.is_interpreter() else _GPU_COLUMN_BLOCK
        block_out = min(runtime.next_power_of_2(n_out), column_cap)
        block_red = min(runtime.next_power_of_2(n_red), budget // block_out)
    else:
        block_red = runtime.reduction_block(n_red, max_block=budget)
        block_out = min(runtime.next_power_of_2(n_out), max(1, budget // block_red))
    num_warps = max(1, min(8, block_out * block_red // 512))
    return block_out, block_red, num_warps


@functools.lru_cache(maxsize=4096)
def _split_count(n_out_programs: int, n_red: int, block_red: int) -> tuple[int, int]:
    """(n_splits, red_chunk): how many chunks the reduced extent is cut into, and their length."""
    tiles = cdiv(n_red, block_red)
    wanted = _programs_wanted()
    if tiles <= 1 or 2 * n_out_programs > wanted:
        return 1, max(n_red, 1)
    splits = min(tiles, cdiv(wanted, n_out_programs))
    tiles_per_chunk = cdiv(tiles, splits)
    return cdiv(tiles, tiles_per_chunk), tiles_per_chunk * block_red


@functools.lru_cache(maxsize=256)
def _split_float(value: float) -> tuple[float, float]:
    """value as float32 hi + lo (see _join_float); values beyond float32's range go as they are."""
    value = float(value)
    if not math.isfinite(value) or abs(value) > _FLOAT32_MAX:
        return value, 0.0
    hi = struct.unpack("f", struct.pack("f", value))[0]
    return hi, value - hi


def _launch_reduce(
    geometry: _Geometry,
    out: torch.Tensor,
    n_splits: int,
    red_chunk: int,
    config: tuple[int, int, int],
    *,
    op,
    map_,
    final,
    acc: torch.dtype,
    identity,
    center: torch.Tensor | None = None,
    divisor: float = 1.0,
    p: float = 1.0,
    scale: int = 1,
) -> None:
    block_out, block_red, num_warps = config
    # Grid: program (i, c) reduces outputs [i * BLOCK_OUT, (i + 1) * BLOCK_OUT) over chunk c.
    grid = (cdiv(geometry.n_out, block_out), n_splits)
    reduce_kernel[grid](
        geometry.source,
        center,
        out,
        geometry.n_out,
        geometry.n_red,
        red_chunk,
        n_splits,
        geometry.kept_shape,
        geometry.kept_strides,
        geometry.red_shape,
        geometry.red_strides,
        *_split_float(divisor),
        *_split_float(p),
        *_split_float(scale),
        OP=op,
        MAP=map_,
        FINAL=final,
        SCALED=scale != 1,
        ACC=triton_dtype(acc),
        IDENTITY=identity,
        INT64_INDEX=geometry.int64_index,
        BLOCK_OUT=block_out,
        BLOCK_RED=block_red,
        num_warps=num_warps,
    )


# Launchers of sum and mean, keyed by (name, dtype, layout, device, dims, keepdim, dtype argument):
# a function of the input that allocates and launches with the plan's arguments precomputed.
_LAUNCHERS: dict[tuple, Callable[[torch.Tensor], torch.Tensor]] = {}


def _reduction_launcher(
    plan: _Plan, out_dtype: torch.dtype, acc: torch.dtype, op, *, final=FINAL_NONE, divisor: float = 1.0
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``_value_reduction(plan, ...)`` (no map, no center) as a function of a source laid out as
    the plan's; a reduction split in two stages keeps the general path."""
    geometry = plan.geometry
    config = _tile_config(geometry) if geometry.n_out else None
    n_splits, red_chunk = _split_count(cdiv(geometry.n_out, config[0]), geometry.n_red, config[1]) if config else (1, 1)
    if geometry.n_out == 0 or n_splits != 1:
        return lambda x: _value_reduction(
            plan._replace(geometry=geometry._replace(source=x)), out_dtype, acc, op, final=final, divisor=divisor
        )
    block_out, block_red, num_warps = config
    grid = (cdiv(geometry.n_out, block_out), 1)
    out_shape, device = plan.out_shape, geometry.source.device
    out_strides = contiguous_strides(out_shape)
    scale = plan.repeats if op is OP_SUM else 1
    arguments = (
        geometry.n_out, geometry.n_red, red_chunk, 1, geometry.kept_shape, geometry.kept_strides,
        geometry.red_shape, geometry.red_strides, *_split_float(divisor), *_split_float(1.0), *_split_float(scale),
    )  # fmt: skip
    options = dict(
        OP=op, MAP=MAP_NONE, FINAL=final, SCALED=scale != 1, ACC=triton_dtype(acc), IDENTITY=_identity(op, acc),
        INT64_INDEX=geometry.int64_index, BLOCK_OUT=block_out, BLOCK_RED=block_red, num_warps=num_warps,
    )  # fmt: skip

    def launch(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_strided(out_shape, out_strides, dtype=out_dtype, device=device)
        reduce_kernel[grid](x, None, out, *arguments, **options)
        return out

    return launch


def _value_reduction(
    plan: _Plan,
    out_dtype: torch.dtype,
    acc: torch.dtype,
    op,
    *,
    map_=MAP_NONE,
    final=FINAL_NONE,
    center: torch.Tensor | None = None,
    divisor: float = 1.0,
    p: float = 1.0,
) -> torch.Tensor:
    """Runs reduce_kernel for a plan, in one stage or two; returns the shaped output.

    A split reduction applies MAP in stage 1 and FINAL (with the same center) in stage 2. A sum
    is scaled by the plan's ``repeats`` (stride-0 elements folded away) before FINAL.
    """
    geometry = plan.geometry
    x = geometry.source
    identity = _identity(op, acc)
    # Allocated in its final shape: contiguous, so the kernel writes it as a flat run of n_out.
    out = torch.empty(plan.out_shape, dtype=out_dtype, device=x.device)
    if geometry.n_out == 0:
        return out
    config = _tile_config(geometry)
    n_splits, red_chunk = _split_count(cdiv(geometry.n_out, config[0]), geometry.n_red, config[1])
    scalars = {"op": op, "acc": acc, "identity": identity, "divisor": divisor, "p": p}
    scale = plan.repeats if op is OP_SUM else 1  # max/min of repeated values is unchanged
    if n_splits == 1:
        _launch_reduce(
            geometry, out, 1, red_chunk, config, map_=map_, final=final, center=center, scale=scale, **scalars
        )
        return out
    partials = torch.empty((geometry.n_out, n_splits), dtype=acc, device=x.device)
    _launch_reduce(
        geometry, partials, n_splits, red_chunk, config, map_=map_, final=FINAL_NONE, center=center, **scalars
    )
    stage2 = _partials_geometry(partials)
    _launch_reduce(
        stage2, out, 1, n_splits, _tile_config(stage2), map_=MAP_NONE, final=final, center=center, scale=scale,
        **scalars,
    )  # fmt: skip
    return out


def _arg_reduction(
    name: str, x: torch.Tensor, plan: _Plan, is_max: bool, want_values: bool
) -> tuple[torch.Tensor | None, torch.Tensor]:
    """Runs arg_reduce_kernel (one or two stages); returns (values or None, indices)."""
    _require_nonempty(name, x, plan, IndexError)
    geometry = plan.geometry
    acc = _compare_dtype(x.dtype)
    identity = _identity(OP_MAX if is_max else OP_MIN, acc)
    values = torch.empty(geometry.n_out, dtype=x.dtype, device=x.device) if want_values else None
    indices = torch.empty(geometry.n_out, dtype=torch.int64, device=x.device)

    def shaped(flat: torch.Tensor | None) -> torch.Tensor | None:
        return None if flat is None else flat.view(plan.out_shape)

    if geometry.n_out == 0:
        return shaped(values), shaped(indices)
    config = _tile_config(geometry)
    n_splits, red_chunk = _split_count(cdiv(geometry.n_out, config[0]), geometry.n_red, config[1])
    meta = {"IS_MAX": is_max, "ACC": triton_dtype(acc), "IDENTITY": identity}

    def launch(geometry, index_in, value_out, index_out, n_splits, red_chunk, config):
        block_out, block_red, num_warps = config
        # Grid: program (i, c) finds the best of outputs [i * BLOCK_OUT, (i + 1) * BLOCK_OUT) in chunk c.
        grid = (cdiv(geometry.n_out, block_out), n_splits)
        arg_reduce_kernel[grid](
            geometry.source,
            index_in,
            value_out,
            index_out,
            geometry.n_out,
            geometry.n_red,
            red_chunk,
            n_splits,
            geometry.kept_shape,
            geometry.kept_strides,
            geometry.red_shape,
            geometry.red_strides,
            geometry.red_positions or geometry.red_strides,
            REMAP=geometry.red_positions is not None,
            INT64_INDEX=geometry.int64_index,
            BLOCK_OUT=block_out,
            BLOCK_RED=block_red,
            num_warps=num_warps,
            **meta,
        )

    if n_splits == 1:
        launch(geometry, None, values, indices, 1, red_chunk, config)
        return shaped(values), shaped(indices)
    partial_values = torch.empty((geometry.n_out, n_splits), dtype=acc, device=x.device)
    partial_indices = torch.empty((geometry.n_out, n_splits), dtype=torch.int64, device=x.device)
    launch(geometry, None, partial_values, partial_indices, n_splits, red_chunk, config)
    stage2 = _partials_geometry(partial_values)
    launch(stage2, partial_indices, values, indices, 1, n_splits, _tile_config(stage2))
    return shaped(values), shaped(indices)


# ------------------------------------------------------------------------------ dtypes

_TORCH_DTYPE_NAMES = {
    torch.bool: "Bool",
    torch.uint8: "Byte",
    torch.int8: "Char",
    torch.int16: "Short",
    torch.int32: "Int",
    torch.int64: "Long",
}


def _accumulator_dtype(dtype: torch.dtype) -> torch.dtype:
    """Where sums and products of values stored as ``dtype`` are accumulated."""
    if dtype in (torch.float16, torch.bfloat16, torch.float32):
        return torch.float32
    if dtype == torch.float64:
        return torch.float64
    triton_dtype(dtype)  # raises TypeError for dtypes the kernels cannot load
    return torch.int64


def _compare_dtype(dtype: torch.dtype) -> torch.dtype:
    """Where max/min compare: halves widened to float32, bool as int32, else the dtype itself."""
    triton_dtype(dtype)
    if dtype in (torch.float16, torch.bfloat16):
        return torch.float32
    return torch.int32 if dtype == torch.bool else dtype


def _identity(op: tl.constexpr, dtype: torch.dtype) -> int | float:
    """The neutral element of ``op`` in ``dtype``."""
    op = op.value
    if op == OP_SUM.value:
        return 0
    if op == OP_PROD.value:
        return 1
    if dtype.is_floating_point:
        return -math.inf if op == OP_MAX.value else math.inf
    info = torch.iinfo(dtype)
    return info.min if op == OP_MAX.value else info.max


def _sum_out_dtype(dtype: torch.dtype, out_dtype: torch.dtype | None) -> torch.dtype:
    if out_dtype is not None:
        triton_dtype(out_dtype)
        return out_dtype
    return dtype if dtype in FLOATING_DTYPES else torch.int64


def _require_floating(name: str, dtype: torch.dtype) -> None:
    if dtype not in FLOATING_DTYPES:
        raise TypeError(f"{name}: expected a tensor of dtype {', '.join(map(str, FLOATING_DTYPES))}, got {dtype}")


# ---------------------------------------------------------------------------- launchers


def launch_sum(
    x: torch.Tensor, dims: Sequence[int], keepdim: bool, out_dtype: torch.dtype | None = None
) -> torch.Tensor:
    """x.sum(dims, keepdim, dtype=out_dtype); dims normalized, () = all. Bool/int give int64."""
    key = ("sum", x.dtype, x.shape, x.stride(), x.device, tuple(dims), keepdim, out_dtype)
    launch = _LAUNCHERS.get(key)
    if launch is None:
        if x.dtype.is_complex:
            return _over_parts(launch_sum, x, dims, keepdim, out_dtype)
        out_dtype = _sum_out_dtype(x.dtype, out_dtype)
        plan = _plan("sum", x, dims, keepdim, sort_reduced=True, fold_repeats=True)
        launch = _reduction_launcher(plan, out_dtype, _accumulator_dtype(out_dtype), OP_SUM)
        remember(_LAUNCHERS, key, launch)
    return launch(x)


def _over_parts(launch: Callable, x: torch.Tensor, dims: Sequence[int], keepdim: bool, out_dtype) -> torch.Tensor:
    """A sum or mean of a complex tensor: the real reduction of its float view (``view_as_real``,
    a last dim of 2 that is never reduced) over the same dims, read back as complex."""
    parts_dtype = {torch.complex64: torch.float32, torch.complex128: torch.float64}.get(out_dtype or x.dtype)
    if parts_dtype is None:
        raise RuntimeError(f"tritongrad: a reduction of a {x.dtype} tensor into {out_dtype} is not implemented")
    pairs = torch.view_as_real(x)
    if x.dim() == 0:  # (nothing to reduce: the value itself, copied)
        out = torch.empty(pairs.shape, dtype=parts_dtype, device=x.device)
        elementwise_kernels.launch_unary("copy", pairs, out=out)
        return torch.view_as_complex(out)
    dims = tuple(dims) or tuple(range(x.dim()))
    return torch.view_as_complex(launch(pairs, dims, keepdim, out_dtype=parts_dtype))


def launch_mean(
    x: torch.Tensor, dims: Sequence[int], keepdim: bool, out_dtype: torch.dtype | None = None
) -> torch.Tensor:
    """x.mean(dims, keepdim, dtype=out_dtype); floating results only. Empty reductions give NaN."""
    out_dtype = x.dtype if out_dtype is None else out_dtype
    if out_dtype not in FLOATING_DTYPES:
        if x.dtype.is_complex and out_dtype.is_complex:
            return _over_parts(launch_mean, x, dims, keepdim, out_dtype)
        raise TypeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {_TORCH_DTYPE_NAMES.get(out_dtype, out_dtype)}"
        )
    key = ("mean", x.dtype, x.shape, x.stride(), x.device, tuple(dims), keepdim, out_dtype)
    launch = _LAUNCHERS.get(key)
    if launch is None:
        plan = _plan("mean", x, dims, keepdim, sort_reduced=True, fold_repeats=True)
        acc = _accumulator_dtype(out_dtype)
        launch = _reduction_launcher(plan, out_dtype, acc, OP_SUM, final=FINAL_DIVIDE, divisor=plan.count)
        remember(_LAUNCHERS, key, launch)
    return launch(x)


def launch_prod(
    x: torch.Tensor, dims: Sequence[int], keepdim: bool, out_dtype: torch.dtype | None = None
) -> torch.Tensor:
    """x.prod over dims (torch's prod takes one dim; this takes any set). Bool/int give int64."""
    out_dtype = _sum_out_dtype(x.dtype, out_dtype)
    plan = _plan("prod", x, dims, keepdim, sort_reduced=True, fold_repeats=True)
    out = _value_reduction(plan, out_dtype, _accumulator_dtype(out_dtype), OP_PROD)
    if plan.repeats > 1 and out.numel():
        # Stride-0 (expanded) dims repeat each product ``repeats`` times: one power, not 2**31 products.
        # (float64 for every float: a float32 exponent past 2**24 would lose its parity, so (-1)**n its sign)
        compute = torch.float64 if out_dtype.is_floating_point else torch.int64
        elementwise_kernels.launch_binary("pow", out, plan.repeats, out_dtype=out_dtype, compute=compute, out=out)
    return out


def _extreme(name: str, x: torch.Tensor, dims: Sequence[int], keepdim: bool, op) -> torch.Tensor:
    plan = _plan(name, x, dims, keepdim, sort_reduced=True, fold_repeats=True)
    _require_nonempty(name, x, plan, RuntimeError)
    return _value_reduction(plan, x.dtype, _compare_dtype(x.dtype), op)


def launch_amax(x: torch.Tensor, dims: Sequence[int], keepdim: bool) -> torch.Tensor:
    """x.amax(dims, keepdim); NaN wins. Raises IndexError/RuntimeError for an empty reduction."""
    return _extreme("amax", x, dims, keepdim, OP_MAX)


def launch_amin(x: torch.Tensor, dims: Sequence[int], keepdim: bool) -> torch.Tensor:
    """x.amin(dims, keepdim); NaN wins. Raises IndexError/RuntimeError for an empty reduction."""
    return _extreme("amin", x, dims, keepdim, OP_MIN)


def launch_max_with_indices(x: torch.Tensor, dim: int, keepdim: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """x.max(dim, keepdim) -> (values, int64 indices of the first maximum; NaN counts as max)."""
    plan = _plan("max", x, (dim,), keepdim, sort_reduced=False, fold_repeats=True)
    return _arg_reduction("max", x, plan, is_max=True, want_values=True)


def launch_min_with_indices(x: torch.Tensor, dim: int, keepdim: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """x.min(dim, keepdim) -> (values, int64 indices of the first minimum; NaN counts as min)."""
    plan = _plan("min", x, (dim,), keepdim, sort_reduced=False, fold_repeats=True)
    return _arg_reduction("min", x, plan, is_max=False, want_values=True)


def _arg(name: str, x: torch.Tensor, dim: int | None, keepdim: bool, is_max: bool) -> torch.Tensor:
    # dim=None: positions in the flattened (row-major) tensor, i.e. all dims in order.
    plan = _plan(name, x, () if dim is None else (dim,), keepdim, sort_reduced=False, fold_repeats=True)
    return _arg_reduction(name, x, plan, is_max=is_max, want_values=False)[1]


def launch_argmax(x: torch.Tensor, dim: int | None, keepdim: bool) -> torch.Tensor:
    """x.argmax(dim, keepdim); dim None = index into the flattened tensor."""
    return _arg("argmax", x, dim, keepdim, is_max=True)


def launch_argmin(x: torch.Tensor, dim: int | None, keepdim: bool) -> torch.Tensor:
    """x.argmin(dim, keepdim); dim None = index into the flattened tensor."""
    return _arg("argmin", x, dim, keepdim, is_max=False)


def _variance(name: str, x: torch.Tensor, dims, correction: float, keepdim: bool, final) -> torch.Tensor:
    if x.dtype not in FLOATING_DTYPES:
        raise TypeError(f"{name}(): std and var only support floating point dtypes, got {x.dtype}")
    plan = _plan(name, x, dims, keepdim, sort_reduced=True, fold_repeats=True)
    # torch's CPU kernel accumulates float32 and half moments in double (so a float32 std whose
    # variance overflows float32 is still finite); its CUDA kernel in float32, as here on a GPU.
    acc = torch.float64 if x.device.type == "cpu" else _accumulator_dtype(x.dtype)
    n_red = plan.count
    # Two passes over x: the mean (kept in the accumulator dtype), then the sum of squared
    # deviations from it, which avoids the cancellation of E[x^2] - E[x]^2.
    mean = _value_reduction(plan, acc, acc, OP_SUM, final=FINAL_DIVIDE, divisor=n_red)
    return _value_reduction(
        plan,
        x.dtype,
        acc,
        OP_SUM,
        map_=MAP_SQUARED_DEVIATION,
        final=final,
        center=mean.view(-1),
        divisor=max(0.0, n_red - correction),  # torch: <= 0 degrees of freedom give inf/nan
    )


def launch_var(x: torch.Tensor, dims: Sequence[int], correction: float, keepdim: bool) -> torch.Tensor:
    """x.var(dims, correction=correction, keepdim=keepdim), two-pass in fp64 (fp32/fp64 on a GPU)."""
    return _variance("var", x, dims, correction, keepdim, FINAL_DIVIDE)


def launch_std(x: torch.Tensor, dims: Sequence[int], correction: float, keepdim: bool) -> torch.Tensor:
    """x.std(dims, correction=correction, keepdim=keepdim), two-pass in fp64 (fp32/fp64 on a GPU)."""
    return _variance("std", x, dims, correction, keepdim, FINAL_SQRT_OF_DIVIDE)


def launch_norm(x: torch.Tensor, p: float, dims: Sequence[int], keepdim: bool) -> torch.Tensor:
    """torch.linalg.vector_norm(x, p, dims, keepdim) for p in {0, 1, 2, inf, -inf} or any float.

    p=2 is sqrt of a plain sum of squares in the fp32/fp64 accumulator (no rescaling);
    other finite p use |x|**p = exp(p * log|x|).
    """
    _require_floating("norm", x.dtype)
    p = float(p)
    plan = _plan("norm", x, dims, keepdim, sort_reduced=True, fold_repeats=True)
    acc = _accumulator_dtype(x.dtype)
    if plan.count == 0 and (p < 0 or p == math.inf):
        where = "an empty tensor" if plan.reduces_all else "an empty dim"
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {p} norm on {where} because the operation does not have an identity"
        )
    if p == math.inf or p == -math.inf:
        op = OP_MAX if p > 0 else OP_MIN
        return _value_reduction(plan, x.dtype, acc, op, map_=MAP_ABS)
    if p == 0:
        return _value_reduction(plan, x.dtype, acc, OP_SUM, map_=MAP_NONZERO)
    if p == 1:
        return _value_reduction(plan, x.dtype, acc, OP_SUM, map_=MAP_ABS)
    if p == 2:
        return _value_reduction(plan, x.dtype, acc, OP_SUM, map_=MAP_SQUARE, final=FINAL_SQRT_OF_DIVIDE)
    return _value_reduction(plan, x.dtype, acc, OP_SUM, map_=MAP_POW_ABS, final=FINAL_ROOT, p=p)


def launch_nansum(
    x: torch.Tensor, dims: Sequence[int], keepdim: bool, out_dtype: torch.dtype | None = None
) -> torch.Tensor:
    """torch.nansum(x, dims, keepdim, dtype=out_dtype): NaNs count as zero."""
    out_dtype = _sum_out_dtype(x.dtype, out_dtype)
    plan = _plan("nansum", x, dims, keepdim, sort_reduced=True, fold_repeats=True)
    return _value_reduction(plan, out_dtype, _accumulator_dtype(out_dtype), OP_SUM, map_=MAP_NAN_TO_ZERO)


def launch_logsumexp(x: torch.Tensor, dims: Sequence[int], keepdim: bool) -> torch.Tensor:
    """log(sum(exp(x))) over dims, as max + log(sum(exp(x - max))) (two passes over x).

    Floating x only. An empty reduction gives -inf; an infinite max gives +-inf as in torch.
    """
    _require_floating("logsumexp", x.dtype)
    plan = _plan("logsumexp", x, dims, keepdim, sort_reduced=True, fold_repeats=True)
    acc = _accumulator_dtype(x.dtype)
    if plan.geometry.n_red == 0:
        center = launch_fill_(torch.empty(plan.geometry.n_out, dtype=acc, device=x.device), 0)
    else:
        center = _value_reduction(plan, acc, _compare_dtype(x.dtype), OP_MAX).view(-1)
    return _value_reduction(plan, x.dtype, acc, OP_SUM, map_=MAP_EXP_DEVIATION, final=FINAL_LOG_ADD_CENTER,
                            center=center)  # fmt: skip
