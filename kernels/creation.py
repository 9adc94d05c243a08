"""Tensors made from nothing: fill (zeros/ones/full/fill_), arange, linspace, eye.

Each kernel only writes: one store per output element, no loads (except the
fill value of a float64 fill, read once per program from a 1-element tensor,
because Triton passes Python floats to kernels as fp32).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import needs_int64_indexing, remember
from tritongrad.kernels.elementwise import linear_index, store_as
from tritongrad.kernels.strided import MAX_RANK, coalesce, split_leading_dim, strided_offset
from tritongrad.runtime import cdiv, elementwise_launch_config


# out[...] = value: one program writes BLOCK consecutive elements of a possibly strided out.
@triton.jit(do_not_specialize=["value"])
def fill_kernel(
    out_ptr, value_ptr,
    value,
    numel, shape, out_strides,
    VALUE_FROM_POINTER: tl.constexpr, RANK: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INT64_INDEX)
    mask = index < numel
    # Broadcast by adding -0.0, the one addend that leaves every value (-0.0 and NaN included) as it is.
    if VALUE_FROM_POINTER:
        filled = tl.full([BLOCK], -0.0, value_ptr.dtype.element_ty) + tl.load(value_ptr)
    else:
        filled = tl.full([BLOCK], -0.0, tl.float32) + value
    store_as(out_ptr + strided_offset(index, shape, out_strides, RANK), filled, mask)


def launch_fill_(out: torch.Tensor, value: bool | int | float | complex) -> torch.Tensor:
    """Fills ``out`` (any strides, expanded views included, as torch's fill_) with ``value`` in place;
    returns ``out``. A complex ``out`` takes a complex value (or a real one: imaginary part 0)."""
    key = (out.dtype, out.shape, out.stride(), out.device)
    launch = _FILL_LAUNCHERS.get(key)
    if launch and (value == 0 or value == 1 or _exact_in_float32(value)):
        launch(out, float(value))
        return out
    if out.numel() == 0:
        return out
    if out.dtype.is_complex:  # (the real part and the imaginary part, each a fill of the float view)
        value, pairs = complex(value), torch.view_as_real(out)
        launch_fill_(pairs.select(-1, 0), value.real)
        launch_fill_(pairs.select(-1, 1), value.imag)
        return out
    # An expanded dim repeats one memory location: every element there gets the same value, so it is
    # written once (size 1), and no two program instances race for it.
    unique = out.as_strided([1 if stride == 0 else size for size, stride in zip(out.shape, out.stride())], out.stride())
    _fill_unique(unique, value)
    if launch is None:
        remember(_FILL_LAUNCHERS, key, _fill_launcher(unique) or False)
    return out


# launch_fill_'s launchers per (dtype, layout, device) of ``out``: for values fp32 holds exactly
# in a tensor other than float64 (zeros, ones, most fills), one launch with its arguments ready.
_FILL_LAUNCHERS: dict[tuple, Callable | bool] = {}


def _fill_launcher(unique: torch.Tensor) -> Callable | None:
    """A function ``launch(out, value)`` filling tensors laid out as ``unique`` (``out`` with its
    expanded dims cut to size 1, which shares its address); None where the general path is needed."""
    shape, (strides,) = coalesce(tuple(unique.shape), [list(unique.stride())])
    if len(shape) > MAX_RANK or unique.dtype == torch.float64:
        return None
    numel = unique.numel()
    block, num_warps = elementwise_launch_config(numel)
    grid, arguments = (cdiv(numel, block),), (numel, tuple(shape), tuple(strides))
    options = dict(
        VALUE_FROM_POINTER=False, RANK=len(shape), BLOCK=block, INT64_INDEX=needs_int64_indexing(unique),
        num_warps=num_warps,
    )  # fmt: skip

    def launch(out: torch.Tensor, value: float) -> None:
        fill_kernel[grid](out, out, value, *arguments, **options)

    return launch


def _fill_unique(out: torch.Tensor, value: bool | int | float) -> None:
    shape, (strides,) = coalesce(tuple(out.shape), [list(out.stride())])
    if len(shape) > MAX_RANK:
        for (sliced,) in split_leading_dim([out], tuple(out.shape)):
            _fill_unique(sliced, value)
        return
    # Exact values that fp32 cannot hold (float64 fills, large int64) travel through memory.
    if _exact_in_float32(value) and out.dtype != torch.float64:
        value_pointer, value_argument, from_pointer = out, float(value), False
    else:
        holder_dtype = torch.float64 if out.dtype.is_floating_point else torch.int64
        value_pointer = torch.tensor([value], dtype=holder_dtype, device=out.device)
        value_argument, from_pointer = 0.0, True
    block, num_warps = elementwise_launch_config(out.numel())
    fill_kernel[(cdiv(out.numel(), block),)](
        out, value_pointer, value_argument, out.numel(), tuple(shape), tuple(strides),
        VALUE_FROM_POINTER=from_pointer, RANK=len(shape), BLOCK=block,
        INT64_INDEX=needs_int64_indexing(out), num_warps=num_warps,
    )  # fmt: skip


def _exact_in_float32(value: bool | int | float) -> bool:
    try:
        return struct.unpack("f", struct.pack("f", value))[0] == value
    except OverflowError:
        return False


# out[i] = start + i * step, in float64 for floating outputs (as torch accumulates) and int64 otherwise.
@triton.jit
def arange_kernel(out_ptr, start_ptr, numel, IS_FLOAT: tl.constexpr, BLOCK: tl.constexpr):
    index = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = index < numel
    start = tl.load(start_ptr)
    step = tl.load(start_ptr + 1)
    if IS_FLOAT:
        values = start + index.to(tl.float64) * step
    else:
        values = start + index * step
    store_as(out_ptr + index, values, mask)


def _arange_count(start: float, end: float, step: float, dtype: torch.dtype) -> int:
    """How many values torch's arange makes. int64: from the bounds and step truncated to integers,
    ``(end - start + step - sign(step)) / step`` in C's integer division; every other dtype: the
    ceiling of the quotient of the bounds as given (the values are start + i * step, with start and
    step truncated for integer dtypes, by the kernel's int64 holder)."""
    if dtype != torch.int64:
        return math.ceil((end - start) / step)
    start, end, step = int(start), int(end), int(step)
    numerator = end - start + step - (1 if step > 0 else -1)
    quotient = abs(numerator) // abs(step)  # (C's division truncates toward zero)
    return quotient if (numerator >= 0) == (step > 0) else -quotient


def launch_arange(start: float, end: float, step: float, *, dtype: torch.dtype, device) -> torch.Tensor:
    """torch.arange: values start, start + step, ... < end (> end for negative steps)."""
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0 and end != start:
        raise RuntimeError(
            f"upper bound and larger bound inconsistent with step sign (start={start}, end={end}, step={step})"
        )
    numel = max(_arange_count(start, end, step, dtype), 0)
    out = torch.empty(numel, dtype=dtype, device=device)
    if numel == 0:
        return out
    holder_dtype = torch.float64 if dtype.is_floating_point else torch.int64
    start_and_step = torch.tensor([start, step], dtype=holder_dtype, device=device)
    block, num_warps = elementwise_launch_config(numel)
    arange_kernel[(cdiv(numel, block),)](
        out, start_and_step, numel, IS_FLOAT=dtype.is_floating_point, BLOCK=block, num_warps=num_warps
    )
    return out


# torch.linspace as its CPU kernel computes it, so that the rounding errors are torch's too: the
# bounds and the step in the output dtype, step = (end - start) / (steps - 1); the first half
# counts up from start (start + step * i), the second half down from end (end - step * (steps-1-i)),
# so both endpoints are exact. Each operation rounds to the output dtype as c10's scalar arithmetic
# does: float32/float64 in one fused multiply-add (the compiler contracts torch's expression), half
# and bfloat16 after every operation (c10::Half/BFloat16 compute in float and round back). Integer
# outputs use a float64 step from the truncated bounds and truncate the fused result.
@triton.jit
def _round_to(x, OUT_TYPE: tl.constexpr, COMPUTE: tl.constexpr):
    """x rounded to the output dtype and back (a no-op where that is the computing type)."""
    if OUT_TYPE == tl.float16:
        return x.to(tl.float16).to(COMPUTE)
    elif OUT_TYPE == tl.bfloat16:
        return x.to(tl.bfloat16).to(COMPUTE)
    elif OUT_TYPE == tl.float32:
        return x.to(tl.float32).to(COMPUTE)
    else:
        return x


@triton.jit
def linspace_kernel(out_ptr, bounds_ptr, numel, COMPUTE: tl.constexpr, IS_INT: tl.constexpr, BLOCK: tl.constexpr):
    OUT_TYPE: tl.constexpr = out_ptr.dtype.element_ty
    index = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = index < numel
    if IS_INT:  # (the bounds in the output type first: -1 is 255 for uint8, as c10 converts it)
        start = tl.load(bounds_ptr).to(tl.int64).to(OUT_TYPE).to(tl.float64)
        end = tl.load(bounds_ptr + 1).to(tl.int64).to(OUT_TYPE).to(tl.float64)
    else:  # (a double bound becomes a half through float, as c10's conversion goes)
        start = _round_to(tl.load(bounds_ptr).to(COMPUTE), OUT_TYPE, COMPUTE)
        end = _round_to(tl.load(bounds_ptr + 1).to(COMPUTE), OUT_TYPE, COMPUTE)
    intervals = _round_to((numel - 1).to(COMPUTE), OUT_TYPE, COMPUTE)
    step = _round_to(_round_to(end - start, OUT_TYPE, COMPUTE) / intervals, OUT_TYPE, COMPUTE)
    halfway = numel // 2
    counting_up = index < halfway
    # the multiple of step: i from start, steps - 1 - i from end (in the output dtype, as C++ converts it)
    multiple = _round_to(tl.where(counting_up, index, numel - 1 - index).to(COMPUTE), OUT_TYPE, COMPUTE)
    base = tl.where(counting_up, start, end)
    signed_step = tl.where(counting_up, step, -step)
    if OUT_TYPE == tl.float16 or OUT_TYPE == tl.bfloat16:
        values = _round_to(base + _round_to(signed_step * multiple, OUT_TYPE, COMPUTE), OUT_TYPE, COMPUTE)
    else:
        values = tl.fma(signed_step, multiple, base)
    if numel == 1:  # (torch fills the single value with start)
        values = tl.where(index == 0, start, values)
    store_as(out_ptr + index, values, mask)


def launch_linspace(start: float, end: float, steps: int, *, dtype: torch.dtype, device) -> torch.Tensor:
    """torch.linspace(start, end, steps)."""
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    out = torch.empty(steps, dtype=dtype, device=device)
    if steps == 0:
        return out
    bounds = torch.tensor([start, end], dtype=torch.float64, device=device)
    compute = tl.float64 if dtype == torch.float64 or not dtype.is_floating_point else tl.float32
    block, num_warps = elementwise_launch_config(steps)
    linspace_kernel[(cdiv(steps, block),)](
        out, bounds, steps, COMPUTE=compute, IS_INT=not dtype.is_floating_point, BLOCK=block, num_warps=num_warps
    )
    return out


# out[i, j] = (i == j) for an (n, m) contiguous matrix: one program writes BLOCK elements.
@triton.jit
def eye_kernel(out_ptr, numel, columns, BLOCK: tl.constexpr):
    index = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = index < numel
    diagonal = (index // columns) == (index % columns)
    store_as(out_ptr + index, diagonal.to(tl.int32), mask)


def launch_eye(n: int, m: int, *, dtype: torch.dtype, device) -> torch.Tensor:
    """torch.eye(n, m)."""
    if n < 0 or m < 0:
        raise RuntimeError(f"n and m must be greater or equal to 0, got n={n}, m={m}")
    out = torch.empty((n, m), dtype=dtype, device=device)
    if out.numel() == 0:
        return out
    block, num_warps = elementwise_launch_config(out.numel())
    eye_kernel[(cdiv(out.numel(), block),)](out, out.numel(), m, BLOCK=block, num_warps=num_warps)
    return out
