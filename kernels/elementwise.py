"""Elementwise maps: unary, binary and `where`, over strided and broadcast operands.

Every kernel here reads its operands in place through ``strided_offset``
(kernels/strided.py), so transposed, sliced and expanded inputs cost no copy,
and writes its output through strides too, which is how in-place ops on views
(``x[:, 1].add_(y)``) work. Memory traffic is the minimum: each operand element
is read once per output element that uses it and each output written once.

The operation is a string constexpr (``OP="mul"``): each op compiles to its own
specialised kernel, and the ``if OP == ...`` chains cost nothing at run time.
Arithmetic happens in a compute dtype chosen by the caller (float32 for half
types, see kernels/common.compute_dtype); inputs are cast to it after loading
and the result is cast to the output dtype on store.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.activation import tanh
from tritongrad.kernels.common import check_same_device, compute_dtype, needs_int64_indexing, to_bfloat16_rne
from tritongrad.kernels.strided import (
    MAX_RANK,
    broadcast_shapes,
    broadcast_strides,
    check_writable,
    coalesce,
    split_leading_dim,
    strided_offset,
)
from tritongrad.runtime import elementwise_launch_config

UNARY_OPS = frozenset(
    {
        "copy", "neg", "abs", "sign", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh",
        "sigmoid", "relu", "reciprocal", "square", "floor", "ceil", "logical_not", "pow_int", "pow_scalar",
        "rpow_scalar", "clamp", "isnan",
    }
)  # fmt: skip
BINARY_OPS = frozenset(
    {
        "add", "sub", "mul", "div", "floor_divide", "trunc_divide", "remainder", "fmod", "pow", "maximum",
        "minimum", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
    }
)  # fmt: skip
COMPARISON_OPS = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"})


# ----------------------------------------------------------------------------------------------
# Device functions
# ----------------------------------------------------------------------------------------------


@triton.jit
def reduce_angle(x):
    """x (float32) reduced to [-pi, pi] in float64, so sin/cos/tan stay accurate for large |x|."""
    x64 = x.to(tl.float64)
    turns = tl.floor(x64 * 0.15915494309189535 + 0.5)
    return (x64 - turns * 6.283185307179586).to(tl.float32)


@triton.jit
def float_pow(base, exponent, COMPUTE: tl.constexpr):
    """base ** exponent for floats as exp(e * log|b|) in float64, with torch's sign and edge rules."""
    b = base.to(tl.float64)
    e = exponent.to(tl.float64)
    magnitude = tl.exp(e * tl.log(tl.abs(b)))
    exponent_is_integer = tl.floor(e) == e
    exponent_is_odd = exponent_is_integer & (tl.abs(e % 2.0) == 1.0)
    negative = tl.where(exponent_is_integer, tl.where(exponent_is_odd, -magnitude, magnitude), float("nan"))
    result = tl.where(b < 0, negative, magnitude)
    result = tl.where((e == 0) | (b == 1), 1.0, result)
    return result.to(COMPUTE)


@triton.jit
def integer_pow(base, exponent):
    """base ** exponent for integer tensors by repeated squaring (exponents are >= 0)."""
    result = base * 0 + 1
    remaining = exponent + base * 0
    while tl.max(remaining, axis=0) > 0:
        result = tl.where((remaining & 1) != 0, result * base, result)
        base = base * base
        remaining = remaining >> 1
    return result


@triton.jit
def splat(value, shape: tl.constexpr, COMPUTE: tl.constexpr):
    """A scalar kernel argument as a block of COMPUTE. (The interpreter hands Python floats over
    unconverted, so scalars are widened by addition rather than with ``.to``.)"""
    return (tl.zeros(shape, COMPUTE) + value).to(COMPUTE)


@triton.jit
def store_as(out_ptrs, value, mask):
    """Stores ``value`` converted to the output's element type; bool outputs mean ``value != 0``."""
    if out_ptrs.dtype.element_ty == tl.int1:
        tl.store(out_ptrs, value != 0, mask=mask)
    elif out_ptrs.dtype.element_ty == tl.bfloat16:
        tl.store(out_ptrs, to_bfloat16_rne(value.to(tl.float32)), mask=mask)
    elif out_ptrs.dtype.element_ty == tl.float16:
        tl.store(out_ptrs, value.to(tl.float32).to(tl.float16), mask=mask)
    else:
        tl.store(out_ptrs, value.to(out_ptrs.dtype.element_ty), mask=mask)


@triton.jit
def linear_index(BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr):
    """The indices this program handles: BLOCK consecutive output elements."""
    if INT64_INDEX:
        start = tl.program_id(0).to(tl.int64) * BLOCK
    else:
        start = tl.program_id(0) * BLOCK
    return start + tl.arange(0, BLOCK)


@triton.jit
def unary_math(x, p0, p1, OP: tl.constexpr, COMPUTE: tl.constexpr, HAS_P0: tl.constexpr, HAS_P1: tl.constexpr):
    if OP == "copy":
        y = x
    elif OP == "neg":
        y = -x
    elif OP == "abs":
        y = tl.abs(x)
    elif OP == "sign":
        # NaN compares false both ways, so its sign is 0, as in torch.
        y = tl.where(x > 0, 1, tl.where(x < 0, -1, 0)).to(COMPUTE)
    elif OP == "exp":
        y = tl.exp(x)
    elif OP == "log":
        y = tl.log(x)
    elif OP == "sqrt":
        # sqrt_rn: correctly rounded in float32 (plain tl.sqrt is approximate on a GPU); float64
        # sqrt is always correctly rounded.
        if COMPUTE == tl.float64:
            y = tl.sqrt(x)
        else:
            y = tl.sqrt_rn(x)
    elif OP == "rsqrt":
        if COMPUTE == tl.float64:
            y = 1.0 / tl.sqrt(x)
        else:
            y = 1.0 / tl.sqrt_rn(x)
    elif OP == "sin":
        if COMPUTE == tl.float32:
            y = tl.sin(reduce_angle(x))
        else:
            y = tl.sin(x)
    elif OP == "cos":
        if COMPUTE == tl.float32:
            y = tl.cos(reduce_angle(x))
        else:
            y = tl.cos(x)
    elif OP == "tan":
        if COMPUTE == tl.float32:
            angle = reduce_angle(x)
            y = tl.sin(angle) / tl.cos(angle)
        else:
            y = tl.sin(x) / tl.cos(x)
    elif OP == "tanh":
        y = tanh(x)
    elif OP == "sigmoid":
        y = 1.0 / (1.0 + tl.exp(-x))
    elif OP == "relu":
        # `where(x < 0, 0, x)` keeps NaN as NaN, like torch.relu.
        y = tl.where(x < 0, 0, x).to(COMPUTE)
    elif OP == "reciprocal":
        y = 1.0 / x
    elif OP == "square":
        y = x * x
    elif OP == "floor":
        y = tl.floor(x)
    elif OP == "ceil":
        y = tl.ceil(x)
    elif OP == "logical_not":
        y = x == 0
    elif OP == "isnan":
        y = x != x
    elif OP == "pow_int":
        # x ** n for an integer scalar n: repeated squaring, exact for n = 2 (x * x) like torch.
        n = p0
        remaining = tl.abs(n)
        result = tl.full(x.shape, 1, COMPUTE)
        base = x
        while remaining > 0:
            if remaining % 2 == 1:
                result = result * base
            base = base * base
            remaining = remaining // 2
        if n < 0:
            result = 1.0 / result
        y = result
    elif OP == "pow_scalar":
        y = float_pow(x, splat(p0, x.shape, COMPUTE), COMPUTE)
    elif OP == "rpow_scalar":
        y = float_pow(splat(p0, x.shape, COMPUTE), x, COMPUTE)
    elif OP == "clamp":
        y = x
        if HAS_P0:
            low = splat(p0, x.shape, COMPUTE)
            y = tl.where(y < low, low, y)
        if HAS_P1:
            high = splat(p1, x.shape, COMPUTE)
            y = tl.where(y > high, high, y)
    return y


@triton.jit
def binary_math(a, b, OP: tl.constexpr, COMPUTE: tl.constexpr):
    if OP == "add":
        y = a + b
    elif OP == "sub":
        y = a - b
    elif OP == "mul":
        y = a * b
    elif OP == "div":
        if COMPUTE == tl.float32:
            y = tl.div_rn(a, b)
        else:
            y = a / b
    elif OP == "floor_divide":
        if COMPUTE == tl.float32 or COMPUTE == tl.float64:
            # torch's floor division: fmod-based so it agrees with `remainder` exactly.
            modulo = a % b
            quotient = (a - modulo) / b
            quotient = tl.where((modulo != 0) & ((b < 0) != (modulo < 0)), quotient - 1.0, quotient)
            floored = tl.floor(quotient)
            floored = tl.where(quotient - floored > 0.5, floored + 1.0, floored)
            y = tl.where(modulo == modulo, floored, a / b)
            y = tl.where(b == 0, a / b, y)
        else:
            truncated = a // b
            y = tl.where(((a % b) != 0) & ((a < 0) != (b < 0)), truncated - 1, truncated)
    elif OP == "trunc_divide":
        if COMPUTE == tl.float32 or COMPUTE == tl.float64:
            if COMPUTE == tl.float32:
                quotient = tl.div_rn(a, b)
            else:
                quotient = a / b
            y = tl.where(quotient < 0, tl.ceil(quotient), tl.floor(quotient))
        else:
            # integer `//` in Triton is C division, which truncates
            y = a // b
    elif OP == "fmod":
        # `%` is C's fmod for floats and C's remainder for integers: the sign of a
        y = a % b
    elif OP == "remainder":
        modulo = a % b
        y = tl.where((modulo != 0) & ((modulo < 0) != (b < 0)), modulo + b, modulo)
    elif OP == "pow":
        if COMPUTE == tl.float32 or COMPUTE == tl.float64:
            y = float_pow(a, b, COMPUTE)
        else:
            y = integer_pow(a, b)
    elif OP == "maximum":
        y = tl.where((a > b) | (a != a), a, b)
    elif OP == "minimum":
        y = tl.where((a < b) | (a != a), a, b)
    elif OP == "eq":
        y = a == b
    elif OP == "ne":
        y = a != b
    elif OP == "lt":
        y = a < b
    elif OP == "le":
        y = a <= b
    elif OP == "gt":
        y = a > b
    elif OP == "ge":
        y = a >= b
    elif OP == "logical_and":
        y = (a != 0) & (b != 0)
    elif OP == "logical_or":
        y = (a != 0) | (b != 0)
    elif OP == "logical_xor":
        y = (a != 0) != (b != 0)
    return y


# ----------------------------------------------------------------------------------------------
# Kernels
# ----------------------------------------------------------------------------------------------


# out = OP(x): one program maps BLOCK consecutive output elements; p0/p1 are the op's scalar
# parameters (exponent, clamp bounds).
@triton.jit(do_not_specialize=["p0", "p1"])
def unary_kernel(
    x_ptr, out_ptr,
    p0, p1,
    numel, shape, x_strides, out_strides,
    OP: tl.constexpr, COMPUTE: tl.constexpr, HAS_P0: tl.constexpr, HAS_P1: tl.constexpr,
    RANK: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INT64_INDEX)
    mask = index < numel
    x = tl.load(x_ptr + strided_offset(index, shape, x_strides, RANK), mask=mask)
    if OP != "copy":
        x = x.to(COMPUTE)
    y = unary_math(x, p0, p1, OP, COMPUTE, HAS_P0, HAS_P1)
    store_as(out_ptr + strided_offset(index, shape, out_strides, RANK), y, mask)


# out = OP(a, b) (+ alpha * b for add/sub): one program maps BLOCK consecutive output elements.
# A Python-scalar operand arrives as a kernel argument (A_IS_SCALAR / B_IS_SCALAR), not a tensor.
@triton.jit(do_not_specialize=["a_scalar", "b_scalar", "alpha"])
def binary_kernel(
    a_ptr, b_ptr, out_ptr,
    a_scalar, b_scalar, alpha,
    numel, shape, a_strides, b_strides, out_strides,
    OP: tl.constexpr, COMPUTE: tl.constexpr,
    A_IS_SCALAR: tl.constexpr, B_IS_SCALAR: tl.constexpr, HAS_ALPHA: tl.constexpr,
    RANK: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INT64_INDEX)
    mask = index < numel
    if A_IS_SCALAR:
        a = splat(a_scalar, [BLOCK], COMPUTE)
    else:
        a = tl.load(a_ptr + strided_offset(index, shape, a_strides, RANK), mask=mask).to(COMPUTE)
    if B_IS_SCALAR:
        b = splat(b_scalar, [BLOCK], COMPUTE)
    else:
        b = tl.load(b_ptr + strided_offset(index, shape, b_strides, RANK), mask=mask, other=1).to(COMPUTE)
    if HAS_ALPHA:
        b = b * splat(alpha, [BLOCK], COMPUTE)
    y = binary_math(a, b, OP, COMPUTE)
    store_as(out_ptr + strided_offset(index, shape, out_strides, RANK), y, mask)


# out = where(condition, a, b): one program selects BLOCK consecutive output elements.
@triton.jit(do_not_specialize=["a_scalar", "b_scalar"])
def where_kernel(
    condition_ptr, a_ptr, b_ptr, out_ptr,
    a_scalar, b_scalar,
    numel, shape, condition_strides, a_strides, b_strides, out_strides,
    COMPUTE: tl.constexpr, A_IS_SCALAR: tl.constexpr, B_IS_SCALAR: tl.constexpr,
    RANK: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INT64_INDEX)
    mask = index < numel
    condition = tl.load(condition_ptr + strided_offset(index, shape, condition_strides, RANK), mask=mask)
    if A_IS_SCALAR:
        a = splat(a_scalar, [BLOCK], COMPUTE)
    else:
        a = tl.load(a_ptr + strided_offset(index, shape, a_strides, RANK), mask=mask).to(COMPUTE)
    if B_IS_SCALAR:
        b = splat(b_scalar, [BLOCK], COMPUTE)
    else:
        b = tl.load(b_ptr + strided_offset(index, shape, b_strides, RANK), mask=mask).to(COMPUTE)
    store_as(out_ptr + strided_offset(index, shape, out_strides, RANK), tl.where(condition != 0, a, b), mask)


# ----------------------------------------------------------------------------------------------
# Launchers
# ----------------------------------------------------------------------------------------------

Scalar = bool | int | float


def _prepare_output(shape, out, out_dtype, device) -> torch.Tensor:
    if out is None:
        return torch.empty(shape, dtype=out_dtype, device=device)
    if tuple(out.shape) != tuple(shape):
        raise RuntimeError(f"output with shape {list(out.shape)} doesn't match the broadcast shape {list(shape)}")
    check_writable(out)
    return out


def _scalar_as_operand(value: Scalar, compute: torch.dtype, device) -> Scalar | torch.Tensor:
    """Python scalars travel as kernel arguments, which Triton types as fp32/i32/i64; a float64
    computation gets its scalar as a 1-element float64 tensor instead so no precision is lost."""
    if compute == torch.float64 and not isinstance(value, bool):
        return torch.tensor(float(value), dtype=torch.float64, device=device)
    return value


def _launch_strided(kernel, operands, out, scalars, constexprs) -> torch.Tensor:
    """Coalesces ``operands`` (tensors or None for scalars) with ``out`` and launches ``kernel``."""
    shape = tuple(out.shape)
    strides = [broadcast_strides(t, shape) if t is not None else [0] * len(shape) for t in operands]
    strides.append(list(out.stride()))
    coalesced_shape, coalesced_strides = coalesce(shape, strides)
    if len(coalesced_shape) > MAX_RANK:
        for sliced in split_leading_dim(list(operands) + [out], shape):
            _launch_strided(kernel, sliced[:-1], sliced[-1], scalars, constexprs)
        return out
    numel = out.numel()
    block, num_warps = elementwise_launch_config(numel)
    tensors = [t if t is not None else out for t in operands]
    # A Python bool would be an int1 argument, which triton 3.6's interpreter stores in an int32
    # array and rejects; as an int it is an i32 that the kernel casts to COMPUTE like any scalar.
    scalars = [int(s) if isinstance(s, bool) else s for s in scalars]
    kernel[(triton.cdiv(numel, block),)](
        *tensors, out, *scalars, numel, tuple(coalesced_shape), *[tuple(s) for s in coalesced_strides],
        **constexprs, RANK=len(coalesced_shape), BLOCK=block,
        INT64_INDEX=needs_int64_indexing(out, *[t for t in operands if t is not None]), num_warps=num_warps,
    )  # fmt: skip
    return out


def launch_unary(
    op: str,
    x: torch.Tensor,
    *,
    out: torch.Tensor | None = None,
    out_dtype: torch.dtype | None = None,
    compute: torch.dtype | None = None,
    p0: Scalar | None = None,
    p1: Scalar | None = None,
) -> torch.Tensor:
    """out = op(x) elementwise; ``out`` (any strides, shape of x) enables in-place use.

    ``compute`` is the dtype arithmetic happens in (default: from the output dtype);
    ``p0``/``p1`` are the op's scalars (exponent for pow ops, min/max for clamp).
    """
    if op not in UNARY_OPS:
        raise ValueError(f"unknown unary op {op!r}")
    if out is not None:
        check_same_device(op, x, out)
    out_dtype = out.dtype if out is not None else (out_dtype or x.dtype)
    out = _prepare_output(tuple(x.shape), out, out_dtype, x.device)
    if out.numel() == 0:
        return out
    # Half types compute in float32 (compute_dtype): the interpreter's bf16 arithmetic is wrong
    # and tl.exp and friends reject fp16.
    compute_type = compute_dtype(compute if compute is not None and op != "copy" else out_dtype)
    # Triton passes Python floats as fp32: float64 callers route pow/clamp with non-fp32-exact
    # scalars through launch_binary, which carries them as float64 tensors.
    scalars = (p0 if p0 is not None else 0, p1 if p1 is not None else 0)
    constexprs = dict(OP=op, COMPUTE=compute_type, HAS_P0=p0 is not None, HAS_P1=p1 is not None)
    return _launch_strided(unary_kernel, [x], out, scalars, constexprs)


def launch_binary(
    op: str,
    a: torch.Tensor | Scalar,
    b: torch.Tensor | Scalar,
    *,
    out_dtype: torch.dtype,
    compute: torch.dtype,
    out: torch.Tensor | None = None,
    alpha: Scalar | None = None,
) -> torch.Tensor:
    """out = op(a, b) with broadcasting; either operand may be a Python scalar.

    ``compute`` is the promoted dtype the arithmetic happens in (half types compute in
    float32); ``out_dtype`` is the result's (bool for comparisons). ``alpha`` scales b
    (``torch.add(a, b, alpha=2)``).
    """
    if op not in BINARY_OPS:
        raise ValueError(f"unknown binary op {op!r}")
    tensors = [t for t in (a, b) if isinstance(t, torch.Tensor)]
    if not tensors:
        raise TypeError(f"{op}: at least one operand must be a tensor")
    check_same_device(op, *tensors, *([out] if out is not None else []))
    device = tensors[0].device
    a = a if isinstance(a, torch.Tensor) else _scalar_as_operand(a, compute, device)
    b = b if isinstance(b, torch.Tensor) else _scalar_as_operand(b, compute, device)
    shape = broadcast_shapes(*[tuple(t.shape) for t in (a, b) if isinstance(t, torch.Tensor)])
    out = _prepare_output(shape, out, out_dtype if out is None else out.dtype, device)
    if out.numel() == 0:
        return out
    compute_type = compute_dtype(compute) if compute != torch.bool else tl.int32
    a_is_scalar = not isinstance(a, torch.Tensor)
    b_is_scalar = not isinstance(b, torch.Tensor)
    scalars = (a if a_is_scalar else 0, b if b_is_scalar else 0, alpha if alpha is not None else 1)
    constexprs = dict(
        OP=op,
        COMPUTE=compute_type,
        A_IS_SCALAR=a_is_scalar,
        B_IS_SCALAR=b_is_scalar,
        HAS_ALPHA=alpha is not None,
    )
    operands = [None if a_is_scalar else a, None if b_is_scalar else b]
    return _launch_strided(binary_kernel, operands, out, scalars, constexprs)


def launch_where(
    condition: torch.Tensor,
    a: torch.Tensor | Scalar,
    b: torch.Tensor | Scalar,
    *,
    out_dtype: torch.dtype,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """out = a where condition else b, broadcasting all three; a or b may be Python scalars."""
    tensors = [t for t in (condition, a, b) if isinstance(t, torch.Tensor)]
    check_same_device("where", *tensors)
    device = condition.device
    a = a if isinstance(a, torch.Tensor) else _scalar_as_operand(a, out_dtype, device)
    b = b if isinstance(b, torch.Tensor) else _scalar_as_operand(b, out_dtype, device)
    shape = broadcast_shapes(*[tuple(t.shape) for t in (condition, a, b) if isinstance(t, torch.Tensor)])
    out = _prepare_output(shape, out, out_dtype, device)
    if out.numel() == 0:
        return out
    compute_type = compute_dtype(out_dtype)
    a_is_scalar = not isinstance(a, torch.Tensor)
    b_is_scalar = not isinstance(b, torch.Tensor)
    scalars = (a if a_is_scalar else 0, b if b_is_scalar else 0)
    constexprs = dict(COMPUTE=compute_type, A_IS_SCALAR=a_is_scalar, B_IS_SCALAR=b_is_scalar)
    operands = [condition, None if a_is_scalar else a, None if b_is_scalar else b]
    return _launch_strided(where_kernel, operands, out, scalars, constexprs)
