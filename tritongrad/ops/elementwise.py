"""Elementwise ops: type promotion, the kernel call, and each op's backward.

Most ops are rows of the two tables at the end of this file, ``UNARY`` and ``BINARY``
(ops/table.py derives each row's function, method, in-place variant, out= and grad_fn
name; docs/adding-an-op.md). The arithmetic operators with their own calling
conventions (add's alpha, number - tensor, pow by operand kind, remainder/fmod),
where, clamp and lerp are Function classes written out by hand; every backward is
written with tritongrad ops so that it is itself differentiable.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import (
    REDUCED_FLOATS,
    as_python_scalar,
    category,
    complex_scalar_as,
    dtype_word,
    float32,
    get_default_dtype,
    refuse_complex,
    refuse_complex32,
    result_type,
    round_float,
    scalar_as,
    typeid_name,
)
from tritongrad.kernels import complex as complex_kernels
from tritongrad.kernels import elementwise as kernels
from tritongrad.kernels import reduce as reduce_kernels
from tritongrad.kernels.common import float_bits, remember
from tritongrad.kernels.device_checks import check_on_device
from tritongrad.kernels.strided import broadcast_shapes
from tritongrad.ops.inplace import apply_inplace
from tritongrad.ops.out_argument import cast_into_out, check_castable, check_out, finish_out
from tritongrad.ops.table import (
    FLOAT_ONLY,
    INTEGRAL,
    INTEGRAL_OR_BOOL,
    INTEGRAL_OR_BOOL_EXACT,
    LOGICAL,
    PREDICATE,
    PROMOTE_FLOAT,
    PROMOTE_FLOAT_ONLY,
    SAME,
    SAME_DTYPES,
    SAME_NOT_BOOL,
    SAME_NOT_BOOL_CASTING,
    Binary,
    DtypeRule,
    Unary,
    _Meta,
    derive,
    reduce_grad,
)
from tritongrad.shapes import as_int
from tritongrad.tensor import Tensor, attach_methods

COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


def _data(x):
    """The torch buffer of a Tensor, or the Python scalar itself."""
    return x._data if hasattr(x, "_data") else x


def _check_scalar(op: str, value) -> None:
    if not isinstance(value, (bool, int, float)) and not isinstance(value, complex) and not hasattr(value, "_data"):
        raise TypeError(f"{op}(): expected a Tensor or a Python number, got {type(value).__name__}")


def _wrap(data: torch.Tensor) -> Tensor:
    return Tensor._wrap(data)


# ---------------------------------------------------------------------------------------------
# Raw (non-recording) forwards: promotion + kernel
# ---------------------------------------------------------------------------------------------


# binary_forward's launchers (kernels.binary_launcher), keyed by the op, both operands' dtypes and
# layouts (a number's type) and the default dtype: promotion and checks run once per key. Only
# operands whose rules involve no per-call check have one (not integer divisions: zero divisors).
_BINARY_LAUNCHERS: dict[tuple, Callable] = {}


def _binary_key(op: str, a: torch.Tensor, b) -> tuple:
    if type(b) is torch.Tensor:
        return (op, a.dtype, a.shape, a.stride(), a.device, b.dtype, b.shape, b.stride(), b.device, get_default_dtype())
    return (op, a.dtype, a.shape, a.stride(), a.device, type(b), get_default_dtype())


# Ops whose CPU kernels read a number on the right in float32 (at::opmath_type), unrounded, for a
# half-precision tensor; every other op first converts the number to the tensor's dtype.
_OPMATH_SCALAR_OPS = frozenset(("mul", "div", "floor_divide", "trunc_divide"))
_NUMBERS = (int, float, bool)
_PLAIN_OPERANDS = (Tensor, int, float, bool)


def _as_operand(op: str, a, b):
    """(a, b) with a Python number on either side as torch's CPU kernels see it beside a float16 or
    bfloat16 tensor: rounded to that dtype first (``x == 0.3`` compares with float16(0.3)), except on
    the right of ``_OPMATH_SCALAR_OPS``; likewise a 0-dim tensor of another dtype, which torch casts to
    the result dtype (one 1-element cast kernel)."""
    if type(a) is Tensor:
        dtype = a._data.dtype
        if op == "pow" and type(b) in _NUMBERS:
            return a, pow_exponent(a, b)
        if dtype in REDUCED_FLOATS and op not in _OPMATH_SCALAR_OPS:
            if type(b) in _NUMBERS:
                return a, round_float(float(b), dtype)
            if type(b) is Tensor and b._data.dim() == 0 and b._data.dtype != dtype and result_type(a, b) == dtype:
                return a, cast(b, dtype)
        if type(b) is not Tensor or b._data.dtype not in REDUCED_FLOATS or a._data.dim() != 0:
            return a, b
    if type(b) is Tensor and b._data.dtype in REDUCED_FLOATS:
        dtype = b._data.dtype  # a number or a 0-dim tensor on the left: cast for every op
        if type(a) in _NUMBERS:
            return round_float(float(a), dtype), b
        if type(a) is Tensor and a._data.dtype != dtype and result_type(a, b) == dtype:
            return cast(a, dtype), b
    return a, b


def binary_forward(op: str, a, b, *, alpha=None, out=None):
    """op(a, b) on tritongrad Tensors/scalars with torch's type promotion; returns a Tensor."""
    a, b = _as_operand(op, a, b)
    key = None
    if out is None and alpha is None and type(a) is Tensor and not kernels.negative_zero(b):
        a_data, b_data = a._data, _data(b)
        key = _binary_key(op, a_data, b_data)
        launch = _BINARY_LAUNCHERS.get(key)
        if launch is not None:
            return Tensor._wrap(launch(a_data, b_data))
    if type(a) not in _PLAIN_OPERANDS or type(b) not in _PLAIN_OPERANDS:
        # (numpy scalars are numbers, as in torch: converted here, off the launcher-cache path above)
        a, b = _as_operand(op, as_python_scalar(a), as_python_scalar(b))
    if type(a) is not Tensor:
        _check_scalar(op, a)
    if type(b) is not Tensor:
        _check_scalar(op, b)
    dtype = result_type(a, b)
    if dtype.is_complex:
        return _complex_binary_forward(op, a, b, dtype, alpha, out)
    compute = dtype
    out_dtype = dtype
    if op in COMPARISONS or op.startswith("logical_"):
        out_dtype = torch.bool
    elif op == "div" and not dtype.is_floating_point:
        compute = out_dtype = get_default_dtype()
    elif op in ("floor_divide", "trunc_divide", "remainder", "fmod", "pow") and dtype == torch.bool:
        raise NotImplementedError(f"\"{_CPU_KERNEL_NAMES.get(op, op)}\" not implemented for 'Bool'")
    if out is not None:
        check_castable(out_dtype, out.dtype)
        if out.dtype != out_dtype:
            operands = (t._data for t in (a, b) if isinstance(t, Tensor))
            cast_into_out(lambda: binary_forward(op, a, b, alpha=alpha)._data, out._data, *operands)
            return out
    if op in INTEGER_DIVISIONS and not dtype.is_floating_point and not (type(a) is Tensor and a.numel() == 0):
        # (an empty operand makes the broadcast result empty: nothing is divided, torch returns it)
        _check_integer_divisor(b if type(b) is Tensor else scalar_as(b, dtype))
    if alpha is not None:
        alpha = alpha_as(alpha, dtype, negated=op == "sub")
        if kernels.negative_zero(alpha) and type(b) is not Tensor:
            b, alpha = b * alpha, None  # (a -0.0 argument reaches triton 3.6's interpreter as +0.0)
    result = kernels.launch_binary(
        op, _data(a), _data(b), out_dtype=out_dtype, compute=compute, alpha=alpha,
        out=None if out is None else out._data,
    )  # fmt: skip
    if (
        key is not None
        and type(b) in (Tensor, int, float)
        and not (op in INTEGER_DIVISIONS and not dtype.is_floating_point)
    ):
        launch = kernels.binary_launcher(op, a_data, b_data, out_dtype=out_dtype, compute=compute)
        if launch is not None:
            remember(_BINARY_LAUNCHERS, key, launch)
    return out if out is not None else _wrap(result)


# The binary ops with complex kernels (kernels/complex.py); any other op of a complex operand is
# refused with torch's NotImplementedError (dtypes.refuse_complex).
_COMPLEX_BINARY_OPS = frozenset(("add", "sub", "mul", "div"))


def _complex_binary_forward(op: str, a, b, dtype: torch.dtype, alpha, out):
    """binary_forward for a complex result: ``alpha`` scales b first (a complex alpha too, as torch's)."""
    if out is not None:  # (torch's cast check comes first: int.floor_divide_(1j) is that error)
        check_castable(torch.bool if op in COMPARISONS or op.startswith("logical_") else dtype, out.dtype)
    if op not in _COMPLEX_BINARY_OPS:
        raise refuse_complex(op, dtype)
    if alpha is not None and alpha != 1:
        b = binary_forward("mul", b, alpha) if type(b) is Tensor else b * as_python_scalar(alpha)
    result = complex_kernels.launch_complex(op, _data(a), _data(b), dtype=dtype, out=None if out is None else out._data)
    return out if out is not None else _wrap(result)


def alpha_as(alpha, dtype: torch.dtype, negated: bool = False):
    """add/sub's ``alpha`` as torch's alpha_check and kernels take it: a bool only for bool results, no
    float for integer results, then converted to the result dtype with torch's overflow check (of
    ``-alpha`` for sub, which torch computes as add with the negated alpha: 2**31 fits int32 there)."""
    alpha = as_python_scalar(alpha)
    if isinstance(alpha, Tensor) and alpha.dim() == 0:  # (torch takes a 0-d tensor as its number)
        alpha = alpha.item()
    if isinstance(alpha, bool) and dtype != torch.bool:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if isinstance(alpha, (float, complex)) and not dtype.is_floating_point:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if isinstance(alpha, complex):  # (a complex result takes it: _complex_binary_forward)
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex number.")
    if not isinstance(alpha, (bool, int, float)):
        raise TypeError(f"{'sub' if negated else 'add'}(): argument 'alpha' must be Number, not {type(alpha).__name__}")
    if negated and not isinstance(alpha, bool):
        negative = scalar_as(-alpha, dtype, checked=True)
        return -negative if dtype.is_floating_point else scalar_as(alpha, dtype)
    return scalar_as(alpha, dtype, checked=True)


INTEGER_DIVISIONS = ("floor_divide", "trunc_divide", "remainder", "fmod")
# torch's CPU kernel names, which its dtype refusals quote ("div_floor_cpu" not implemented for 'Bool').
_CPU_KERNEL_NAMES = {"floor_divide": "div_floor_cpu", "trunc_divide": "div_trunc_cpu", "remainder": "remainder_cpu",
                     "fmod": "fmod_cpu"}  # fmt: skip


def _raise_if_zero_divisor(found) -> None:
    if found:
        raise RuntimeError("ZeroDivisionError")


def _check_integer_divisor(divisor) -> None:
    """Integer division by zero raises torch's CPU error (RuntimeError: ZeroDivisionError): at once for
    a number; for a tensor, a zero among its elements is found on the device and reported as
    kernels/device_checks.py says (at once in the interpreter, at the next readback on a GPU)."""
    if not isinstance(divisor, Tensor):
        _raise_if_zero_divisor(divisor == 0)
        return
    if divisor.numel() == 0:
        return
    zeros = kernels.launch_binary("eq", divisor._data, 0, out_dtype=torch.bool, compute=divisor.dtype)
    check_on_device(reduce_kernels.launch_amax(zeros, (), False), _raise_if_zero_divisor)


def unary_forward(op: str, x, *, p0=None, p1=None, out=None, floating: bool = True):
    """op(x); integer inputs of floating ops compute in the default float dtype like torch."""
    dtype = x.dtype
    if dtype == torch.bool and op in ("abs", "floor", "ceil"):
        raise NotImplementedError(f"\"{op}\" not implemented for 'Bool'")
    if dtype == torch.bool and op == "relu":
        raise RuntimeError("Boolean inputs not supported for relu")
    if floating and not dtype.is_floating_point:
        dtype = get_default_dtype()
    result = kernels.launch_unary(
        op, x._data, out_dtype=dtype, compute=dtype, p0=p0, p1=p1, out=None if out is None else out._data
    )
    return out if out is not None else _wrap(result)


def cast(x, dtype: torch.dtype):
    """A copy of x converted to ``dtype`` (a kernel, never torch's .to)."""
    return _wrap(kernels.launch_unary("copy", x._data, out_dtype=dtype))


# ---------------------------------------------------------------------------------------------
# Gradient helpers
# ---------------------------------------------------------------------------------------------


def _needs(ctx, index: int) -> bool:
    return index < len(ctx.needs_input_grad) and ctx.needs_input_grad[index]


# ---------------------------------------------------------------------------------------------
# Binary Functions
# ---------------------------------------------------------------------------------------------


class Add(Function):
    _number_operands = (0, 1)  # x + 2: two inputs, as torch's wrapped number

    @staticmethod
    def forward(ctx, a, b, alpha=None):
        ctx.a_meta, ctx.b_meta, ctx.alpha = _meta(a), _meta(b), alpha
        return binary_forward("add", a, b, alpha=alpha)

    @staticmethod
    def backward(ctx, grad):
        grad_b = None
        if _needs(ctx, 1):
            grad_b = reduce_grad(grad if ctx.alpha in (None, 1) else grad * ctx.alpha, ctx.b_meta)
        return reduce_grad(grad, ctx.a_meta) if _needs(ctx, 0) else None, grad_b, None


class Sub(Function):
    _number_operands = (0, 1)  # x - 2: two inputs, as torch's wrapped number

    @staticmethod
    def forward(ctx, a, b, alpha=None):
        ctx.a_meta, ctx.b_meta, ctx.alpha = _meta(a), _meta(b), alpha
        return binary_forward("sub", a, b, alpha=alpha)

    @staticmethod
    def backward(ctx, grad):
        grad_b = None
        if _needs(ctx, 1):
            grad_b = reduce_grad(-grad if ctx.alpha in (None, 1) else grad * (-ctx.alpha), ctx.b_meta)
        return reduce_grad(grad, ctx.a_meta) if _needs(ctx, 0) else None, grad_b, None


class Rsub(Function):
    """scalar - tensor (torch names its node RsubBackward1)."""

    _backward_name = "RsubBackward1"

    @staticmethod
    def forward(ctx, tensor, scalar):
        return binary_forward("sub", scalar, tensor)

    @staticmethod
    def backward(ctx, grad):
        return -grad, None


class RsubTensors(Function):
    """torch.rsub(input, other) of two tensors: other - input, broadcast (torch's RsubBackward0)."""

    _backward_name = "RsubBackward0"

    @staticmethod
    def forward(ctx, input, other):
        ctx.input_meta, ctx.other_meta = _meta(input), _meta(other)
        return binary_forward("sub", other, input)

    @staticmethod
    def backward(ctx, grad):
        input, other = ctx.input_meta, ctx.other_meta
        grad_input = reduce_grad(-grad, input) if ctx.needs_input_grad[0] else None
        grad_other = reduce_grad(grad, other) if ctx.needs_input_grad[1] else None
        return grad_input, grad_other


class Mul(Function):
    _number_operands = (0, 1)  # x * 2: two inputs, as torch's wrapped number
    saved_names = ("self", "other")  # (grad_fn._saved_self / _saved_other, each saved only when needed)
    saved_numbers = {"self": "a_scalar", "other": "b_scalar"}  # (x * 3: torch saves tensor(3))

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_meta, ctx.b_meta = _meta(a), _meta(b)
        ctx.save_for_backward(a if _needs(ctx, 1) and hasattr(a, "_data") else None,
                              b if _needs(ctx, 0) and hasattr(b, "_data") else None)  # fmt: skip
        ctx.a_scalar = None if hasattr(a, "_data") else a
        ctx.b_scalar = None if hasattr(b, "_data") else b
        return binary_forward("mul", a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad_b = None
        if _needs(ctx, 0):
            grad_a = reduce_grad(grad * (b if b is not None else ctx.b_scalar), ctx.a_meta)
        if _needs(ctx, 1):
            grad_b = reduce_grad(grad * (a if a is not None else ctx.a_scalar), ctx.b_meta)
        return grad_a, grad_b


class Div(Function):
    _number_operands = (0, 1)  # x / 2: two inputs, as torch's wrapped number
    saved_names = ("other", "self")  # (in save_for_backward's order)
    saved_numbers = {"self": "a_scalar", "other": "b_scalar"}  # (x * 3: torch saves tensor(3))

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_meta, ctx.b_meta = _meta(a), _meta(b)
        ctx.b_scalar = None if hasattr(b, "_data") else b
        ctx.a_scalar = None if hasattr(a, "_data") else a
        result = binary_forward("div", a, b)
        # b's gradient reads a, not the result, as torch's (-grad * (a / b) / b): a div_ followed by
        # another in-place op on its result (fast.ai's (x - m).div_(s).mul_(w)) leaves a intact.
        saved_a = a if _needs(ctx, 1) and hasattr(a, "_data") else None
        ctx.save_for_backward(b if hasattr(b, "_data") else None, saved_a)
        return result

    @staticmethod
    def backward(ctx, grad):
        b, a = ctx.saved_tensors
        divisor = b if b is not None else ctx.b_scalar
        grad_a = reduce_grad(grad / divisor, ctx.a_meta) if _needs(ctx, 0) else None
        if _needs(ctx, 1):
            dividend = a if a is not None else ctx.a_scalar
            grad_b = reduce_grad(-grad * (dividend / divisor / divisor), ctx.b_meta)
        else:
            grad_b = None
        return grad_a, grad_b


class PowScalarExponent(Function):
    """tensor ** number."""

    _backward_name = "PowBackward0"
    saved_names = ("self",)

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        return pow_forward(x, exponent)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        exponent = ctx.exponent
        if exponent == 0:
            return grad * 0, None
        return grad * (exponent * x ** (exponent - 1)), None


class PowTensor(Function):
    """tensor ** tensor."""

    _backward_name = "PowBackward1"
    saved_names = ("self", "exponent", "result")

    @staticmethod
    def forward(ctx, base, exponent):
        result = binary_forward("pow", base, exponent)
        ctx.save_for_backward(base, exponent, result)
        ctx.base_meta, ctx.exponent_meta = _meta(base), _meta(exponent)
        return result

    @staticmethod
    def backward(ctx, grad):
        base, exponent, result = ctx.saved_tensors
        grad_base = grad_exponent = None
        if _needs(ctx, 0):
            zero_exponent = exponent == 0
            grad_base = (grad * exponent * base ** (exponent - 1)).where(~zero_exponent, 0.0)
            grad_base = reduce_grad(grad_base, ctx.base_meta)
        if _needs(ctx, 1):
            log_base = base.log()
            grad_exponent = (grad * result * log_base).where(~((base == 0) & (exponent >= 0)), 0.0)
            grad_exponent = reduce_grad(grad_exponent, ctx.exponent_meta)
        return grad_base, grad_exponent


class PowScalarBase(Function):
    """number ** tensor."""

    _backward_name = "PowBackward2"

    @staticmethod
    def forward(ctx, base, exponent):
        result = rpow_forward(base, exponent)
        ctx.save_for_backward(result, exponent if base == 0 else None)
        ctx.base = base
        return result

    @staticmethod
    def backward(ctx, grad):
        result, exponent = ctx.saved_tensors
        if ctx.base == 0:
            # torch's rule: 0 where the exponent is >= 0, else result * log(0) = inf * -inf = -inf
            return None, (grad * result * -math.inf).where(exponent < 0, 0.0)
        # log of a negative base is NaN (torch's gradient there), not Python's math domain error.
        return None, grad * result * (math.log(ctx.base) if ctx.base > 0 else math.nan)


def pow_exponent(x, exponent):
    """A number exponent of ``x ** exponent`` as torch's pow takes it: converted to x's half or integer
    dtype with its overflow check (float16 ** 70000.0 raises; float16 ** 0.3 uses float16(0.3)), and no
    negative integer power of an integer tensor."""
    if isinstance(exponent, bool) or (isinstance(exponent, float) and not x.dtype.is_floating_point):
        return exponent  # (an integer tensor to a float power computes in float, unchecked)
    dtype = result_type(x, exponent)
    if not dtype.is_floating_point:
        if dtype.is_complex:
            raise refuse_complex("pow", dtype)
        if exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    if dtype in (torch.float32, torch.float64):
        return exponent  # (read as a double: float32 ** 1e39 is not refused)
    return scalar_as(exponent, dtype, checked=True)


def pow_forward(x, exponent, out=None):
    """x ** number, choosing exact repeated multiplication for integral exponents; into ``out`` (a
    Tensor of a dtype the result casts to) for ``pow_``. torch refuses an integer's negative power
    before its cast check, but a complex result only after it (int.pow_(1j) is the cast error)."""
    if out is not None and isinstance(exponent, complex):
        check_castable(result_type(x, exponent), out.dtype)
    exponent = pow_exponent(x, exponent)
    if out is not None:
        check_castable(torch.bool if x.dtype == torch.bool and isinstance(exponent, bool) else
                       result_type(x, exponent), out.dtype)  # fmt: skip
    bool_exponent = isinstance(exponent, bool)
    if bool_exponent:
        exponent = int(exponent)
    integral = float(exponent).is_integer() and abs(exponent) <= 2**31 - 1
    if not x.dtype.is_floating_point and not (isinstance(exponent, int)):
        return binary_forward("pow", x, exponent, out=out)
    if not x.dtype.is_floating_point and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if x.dtype == torch.bool and not bool_exponent:
        x = cast(x, torch.int64)  # a bool tensor and an int promote to int64 (torch: True ** 3 is 1)
    if not integral and not x.dtype.is_floating_point:
        return binary_forward("pow", x, exponent, out=out)  # an int64 exponent: the integer kernel's squarings
    if integral:
        return unary_forward("pow_int", x, p0=int(exponent), floating=False, out=out)
    if exponent in (0.5, -0.5):  # torch's pow takes sqrt / rsqrt for these (correctly rounded; -inf gives NaN)
        return unary_forward("sqrt" if exponent > 0 else "rsqrt", x, out=out)
    if x.dtype == torch.float64:
        return binary_forward("pow", x, float(exponent), out=out)
    return unary_forward("pow_scalar", x, p0=float(exponent), out=out)


def rpow_forward(base, x):
    """number ** x."""
    if x.dtype == torch.float64 or not x.dtype.is_floating_point or kernels.negative_zero(base):
        return binary_forward("pow", base, x)
    return unary_forward("rpow_scalar", x, p0=round_float(float(base), x.dtype))


def _save_for_divisor(ctx, a, b) -> None:
    """remainder/fmod save their operands only for the divisor's gradient, as torch's: the dividend's
    is grad itself, so a write into either operand, or a second backward, is an error only then."""
    if _needs(ctx, 1):
        ctx.save_for_backward(a if hasattr(a, "_data") else None, b)


def _dividend_for_divisor_grad(ctx, op: str):
    """The saved (dividend, divisor); a number dividend has no derivative in torch (remainder(5, x)
    records torch's NotImplemented node), so its backward raises torch's error."""
    a, b = ctx.saved_tensors
    if a is None:
        raise RuntimeError(f"derivative for aten::{op} is not implemented")
    return a, b


class Remainder(Function):
    """Python-style modulus; d/da = 1, d/db = -floor(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        _save_for_divisor(ctx, a, b)
        ctx.a_meta, ctx.b_meta = _meta(a), _meta(b)
        return binary_forward("remainder", a, b)

    @staticmethod
    def backward(ctx, grad):
        grad_a = reduce_grad(grad, ctx.a_meta) if _needs(ctx, 0) else None
        grad_b = None
        if _needs(ctx, 1):
            a, b = _dividend_for_divisor_grad(ctx, "remainder")
            grad_b = reduce_grad(-grad * (a / b).floor(), ctx.b_meta)
        return grad_a, grad_b


class Fmod(Function):
    """C-style remainder; d/da = 1, d/db = -trunc(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        _save_for_divisor(ctx, a, b)
        ctx.a_meta, ctx.b_meta = _meta(a), _meta(b)
        return binary_forward("fmod", a, b)

    @staticmethod
    def backward(ctx, grad):
        grad_a = reduce_grad(grad, ctx.a_meta) if _needs(ctx, 0) else None
        grad_b = None
        if _needs(ctx, 1):
            a, b = _dividend_for_divisor_grad(ctx, "fmod")
            grad_b = reduce_grad(-grad * binary_forward("trunc_divide", a.detach(), b.detach()), ctx.b_meta)
        return grad_a, grad_b


def where_forward(condition, a, b, *, out=None):
    """a where condition else b with torch's promotion of a and b; ``out`` (a Tensor) receives it. A
    number operand is converted to the result dtype as torch's scalar tensor is made: with its overflow
    check, except for the half types (where float16's 70000.0 is inf)."""
    dtype = result_type(a, b)
    if dtype == torch.complex32:  # (float16 with a complex number)
        raise refuse_complex32("where")
    checked = dtype not in REDUCED_FLOATS
    if not hasattr(a, "_data"):
        a = scalar_as(a, dtype, checked=checked)
    if not hasattr(b, "_data"):
        b = scalar_as(b, dtype, checked=checked)
    if out is not None:
        check_castable(dtype, out.dtype)
    result = kernels.launch_where(condition._data, _data(a), _data(b), out_dtype=dtype if out is None else out.dtype,
                                  out=None if out is None else out._data)  # fmt: skip
    return out if out is not None else _wrap(result)


class Where(Function):
    _tensor_options = (0,)  # the condition
    _number_operands = (1, 2)  # where(c, x, 2.): two inputs, as torch's wrapped number

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        ctx.a_meta, ctx.b_meta = _meta(a), _meta(b)
        return where_forward(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        grad_a = reduce_grad(grad.where(condition, 0.0), ctx.a_meta) if _needs(ctx, 1) else None
        grad_b = reduce_grad(grad.where(~condition, 0.0), ctx.b_meta) if _needs(ctx, 2) else None
        return None, grad_a, grad_b


def _meta(x):
    return _Meta.of(x)


# ---------------------------------------------------------------------------------------------
# clamp (numbers or tensors as bounds)
# ---------------------------------------------------------------------------------------------


class Clamp(Function):
    _backward_name = "ClampBackward1"  # torch's name for clamp with number bounds

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return clamp_forward(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        inside = None
        if ctx.low is not None:
            inside = x >= ctx.low
        if ctx.high is not None:
            below = x <= ctx.high
            inside = below if inside is None else inside & below
        return grad.where(inside, 0.0), None, None


class ClampTensor(Function):
    """clamp with tensor bounds (either may be None), differentiable in the bounds too.

    torch's rules: the input gets the gradient where low <= x <= high (ties included),
    low where x < low < high, high where x > high or high < low (an empty range is high).
    """

    _backward_name = "ClampBackward0"

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x, low, high)
        ctx.metas = (_meta(x), _meta(low) if low is not None else None, _meta(high) if high is not None else None)
        return clamp_forward(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        x, low, high = ctx.saved_tensors
        x_meta, low_meta, high_meta = ctx.metas
        grad_low = grad_high = None
        if low is not None and high is not None:
            inside = (x >= low) & (x <= high)
            if _needs(ctx, 1):
                grad_low = reduce_grad(grad.where((x < low) & (low < high), 0.0), low_meta)
            if _needs(ctx, 2):
                grad_high = reduce_grad(grad.where((x > high) | (high < low), 0.0), high_meta)
        elif low is not None:
            inside = x >= low
            if _needs(ctx, 1):
                grad_low = reduce_grad(grad.where(x < low, 0.0), low_meta)
        else:
            inside = x <= high
            if _needs(ctx, 2):
                grad_high = reduce_grad(grad.where(x > high, 0.0), high_meta)
        grad_x = reduce_grad(grad.where(inside, 0.0), x_meta) if _needs(ctx, 0) else None
        return grad_x, grad_low, grad_high


def clamp_forward(x, low, high, out=None):
    """clamp(x, low, high), into ``out`` when given (``clamp_``).

    Number bounds are arguments of one fused kernel; tensor bounds, and float64 bounds that
    float32 cannot hold (Triton passes Python floats as float32), go through maximum then
    minimum, which read them from memory.
    """
    if low is None and high is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    low, high = clamp_bounds(x, low, high)
    bounds = [v for v in (low, high) if v is not None]
    dtype = result_type(x, *bounds)
    tensor_bound = any(hasattr(v, "_data") for v in bounds)
    inexact_float64 = dtype == torch.float64 and any(isinstance(v, float) and not _exact_float32(v) for v in bounds)
    # (-0.0 too: read from memory, it keeps its sign in every interpreter; kernels.negative_zero)
    if tensor_bound or inexact_float64 or any(kernels.negative_zero(v) for v in bounds):
        result = x
        if low is not None:
            result = binary_forward("maximum", result, low, out=out)
        if high is not None:
            result = binary_forward("minimum", result, high, out=out)
        return result
    result = kernels.launch_unary(
        "clamp",
        x._data,
        out_dtype=dtype,
        compute=dtype,
        p0=low,
        p1=high,
        out=None if out is None else out._data,
    )
    return out if out is not None else _wrap(result)


def clamp_bounds(x, low, high) -> tuple:
    """clamp's number bounds as torch's clamp_scalar kernels take them: converted to the result dtype
    with torch's overflow check (float16 clamp(min=70000.0) raises; min=0.3 is float16(0.3)), and
    refused for a bool result. Tensor bounds are returned as they are."""
    if hasattr(low, "_data") or hasattr(high, "_data") or (low is None and high is None):
        return low, high
    dtype = result_type(x, *(v for v in (low, high) if v is not None))
    if dtype == torch.bool:
        kernel = "clamp_scalar_cpu" if low is not None and high is not None else (
            "clamp_min_scalar_cpu" if low is not None else "clamp_max_scalar_cpu")  # fmt: skip
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    return tuple(None if v is None else scalar_as(v, dtype, checked=True) for v in (low, high))


def refuse_complex_clamp(x, low, high, *, single_bound: bool = False) -> None:
    """torch's refusals of clamp on complex values: a complex tensor, or a complex number bound.
    clamp(x, min, max) of a floating x reads its number bounds as doubles first ("value cannot be
    converted to type double without overflow"); clamp_min/clamp_max (``single_bound``) and integer
    or bool tensors get the complex check's NotImplementedError."""
    complex_bound = any(isinstance(v, complex) for v in (low, high))
    if not (complex_bound or x.dtype.is_complex):
        return
    if complex_bound and not single_bound and x.dtype.is_floating_point:
        raise RuntimeError("value cannot be converted to type double without overflow")
    raise NotImplementedError("clamp is not supported for complex types")


def check_clamp_inplace(x, low, high) -> None:
    """clamp_'s refusal of a result that x's dtype cannot hold (an integer tensor, float bounds), in
    the words of torch's clamp_scalar (tensor bounds: the out= check names dtypes as usual)."""
    bounds = [v for v in (low, high) if v is not None]
    if not bounds or any(hasattr(v, "_data") for v in bounds):
        return
    dtype = result_type(x, *bounds)
    if category(dtype) > category(x.dtype):
        raise RuntimeError(
            f"result type {dtype_word(dtype)} can't be cast to the desired output type {typeid_name(x.dtype)}"
        )


def clamp_out(x, low, high, out, op: str = "clamp"):
    """clamp(x, low, high, out=out) (and clamp_min/clamp_max): out= validated like torch's, then
    written by clamp_forward."""
    bounds = [v for v in (low, high) if v is not None]
    if not bounds:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    shape = broadcast_shapes(*(tuple(t.shape) for t in (x, *bounds) if isinstance(t, Tensor)))
    # torch: number bounds need out of the result's own dtype; tensor bounds, any dtype it casts to
    exact = not any(isinstance(bound, Tensor) for bound in bounds)
    check_out(op, out, result_type(x, *bounds), shape, x, *bounds, exact=exact)
    clamp_forward(x, low, high, out=out)
    return finish_out(out)


def _exact_float32(value: float) -> bool:
    return float32(value) == value


# ---------------------------------------------------------------------------------------------
# The unary and binary op tables (tritongrad/ops/table.py derives the functions, methods,
# in-place variants, out= and grad_fn names; docs/adding-an-op.md)
# ---------------------------------------------------------------------------------------------

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _polygamma_scalars(dtype: torch.dtype, n: int) -> dict:
    """The kernel's scalars for the n-th polygamma: none for n = 0 (digamma), p0 alone for n = 1
    (trigamma), from n = 2 on n + 1 and (-1)^(n+1) n! as float64 bits (the Hurwitz zeta form)."""
    n = as_int(n, "polygamma(): argument 'n' must be int, not {}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return {}
    if n == 1:
        return {"p0": 1}
    factorial = math.inf if n > 170 else float(math.factorial(n))
    return {"p0": float_bits(n + 1.0), "p1": float_bits(factorial if n % 2 else -factorial)}


def _zero_gradient(grad):
    """Piecewise-constant ops (sign, floor, round, ...): zeros, not grad * 0, which is NaN where grad is infinite."""
    return creation.zeros_like(grad)


def _from_output(kernel_op: str, composed: Callable) -> Callable:
    """The gradient of an op from its output: one fused kernel (``binary_math``'s ``kernel_op``) in
    a first-order backward, ``composed`` of differentiable ops under create_graph."""

    def gradient(grad, out):
        if is_grad_enabled():
            return composed(grad, out)
        return _wrap(kernels.launch_binary(kernel_op, grad._data, out._data, out_dtype=grad.dtype, compute=grad.dtype))

    return gradient


class _PiecewiseLinearBackward(Function):
    """The masked gradient of a piecewise-linear op (relu, threshold, hardtanh, the shrinks) with a
    graph edge to the op's input or output whose own derivative is zero. torch's backward of these
    ops reads x (threshold_backward(grad, x)), so under create_graph its result requires grad
    whenever x does and a second derivative is zeros (a gradient penalty through a ReLU critic),
    where the mask alone carried no graph and the second ``autograd.grad`` raised."""

    @staticmethod
    def forward(ctx, masked_grad, source):
        ctx.source = (tuple(source.shape), source.dtype, source.device)
        return masked_grad

    @staticmethod
    def backward(ctx, grad):
        shape, dtype, device = ctx.source
        return grad, creation.zeros(shape, dtype=dtype, device=device)


def _masked_gradient(grad, zeroed, source):
    """``grad`` with the ``zeroed`` positions set to 0, linked to ``source`` under create_graph (see
    _PiecewiseLinearBackward)."""
    masked = grad.masked_fill(zeroed, 0.0)
    if is_grad_enabled() and source.requires_grad:
        return _PiecewiseLinearBackward.apply(masked, source)
    return masked


# Zeroed where out <= 0, not kept where out > 0: a NaN output passes its gradient through, as
# torch's threshold_backward does.
_relu_gradient = _from_output("threshold_backward", lambda grad, out: _masked_gradient(grad, out <= 0, out))


def _refuse_bool_neg(x) -> None:
    if x.dtype == torch.bool:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def _refuse_bool_relu(x) -> None:
    if x.dtype == torch.bool:
        raise RuntimeError("Boolean inputs not supported for relu")


def _round_scalars(dtype: torch.dtype, *, decimals: int | None = None) -> dict:
    """round(x, decimals=d): the kernel gets 10^|d| as float64 bits and whether to divide first. An
    integer tensor is its own rounding without ``decimals``; with it (0 included) torch's decimals
    overload has no integer kernel."""
    if decimals is None:
        return {}
    if isinstance(decimals, np.integer):
        decimals = int(decimals)
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise TypeError(f"round(): argument 'decimals' must be int, not {type(decimals).__name__}")
    if decimals == 0:
        if not dtype.is_floating_point:
            raise NotImplementedError(f"\"round_vml_cpu\" not implemented for '{dtype_word(dtype)}'")
        return {}
    if not dtype.is_floating_point:
        raise NotImplementedError(f"\"round_cpu\" not implemented for '{dtype_word(dtype)}'")
    return {"p0": float_bits(10.0 ** abs(decimals)), "p1": 1 if decimals < 0 else None}


def _nan_to_num_scalars(dtype: torch.dtype, nan: float | None = 0.0, posinf=None, neginf=None) -> dict:
    """The replacements as float64 bits; infinities default to the dtype's largest finite values."""
    if not dtype.is_floating_point:
        return {}  # integers have no NaN or infinity: the kernel copies
    finfo = torch.finfo(dtype)
    replacements = (0.0 if nan is None else nan, finfo.max if posinf is None else posinf,
                    finfo.min if neginf is None else neginf)  # fmt: skip
    return dict(zip(("p0", "p1", "p2"), (float_bits(float(value)) for value in replacements), strict=True))


def _square_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.int64 if dtype == torch.bool else dtype  # torch.square is pow(x, 2): bool ** 2 is int64


def _winner_gradient(grad, tie, loses):
    """maximum/minimum: the whole gradient to the winner, half to each on a tie (torch's rule; NaN
    wins both ways)."""
    return grad.where(~tie, grad / 2).where(~loses, 0.0)


def _inverse_square_norm(a, b):
    """1 / (a^2 + b^2) for atan2's gradient, 0 where that is 0 (torch's choice at the origin)."""
    square_norm = a * a + b * b
    return square_norm.reciprocal().where(square_norm != 0, 0.0)


def _xlogy_input_gradient(grad, a, b):
    # torch: xlogy(grad, b), and 0 where a == 0 and b <= 0 (where log b is -inf or NaN)
    gradient = FUNCTIONS["xlogy"](grad, b)
    zero_times_log = (a == 0) & (b <= 0) if isinstance(b, Tensor) else (a == 0) & bool(b <= 0)
    return gradient.where(~zero_times_log, 0.0)


def _not_implemented(error: type[Exception], message: str):
    """A gradient torch has no formula for: raises torch's error when the backward reaches it."""

    def gradient(grad):
        raise error(message)

    return gradient


# ---- activations: torch.nn.functional's (and torch.selu, torch.celu, torch.threshold, x.hardshrink)
# Their scalars reach the kernel as float64 bits (exact in float64); each gradient is torch's
# derivatives.yaml formula, with NaN where torch's scalar kernels put it (ops/activation.py adds the
# F functions' inplace= forms, relu6, softsign, tanhshrink, glu and rrelu).

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _number(op: str, argument: str, value, position: int) -> float:
    value = as_python_scalar(value)
    if not isinstance(value, (bool, int, float)):
        raise TypeError(
            f"{op}(): argument '{argument}' (position {position}) must be Number, not {type(value).__name__}"
        )
    return float(value)


def _elu_bits(negative_coefficient: float, positive_coefficient: float, input_scale: float) -> dict:
    """torch's elu(x, alpha, scale, input_scale): p0 = alpha * scale, p1 = scale, p2 = input_scale."""
    return {"p0": float_bits(negative_coefficient), "p1": float_bits(positive_coefficient),
            "p2": float_bits(input_scale)}  # fmt: skip


def _elu_scalars(dtype: torch.dtype, alpha=1.0) -> dict:
    return _elu_bits(_number("elu", "alpha", alpha, 2), 1.0, 1.0)


def _selu_scalars(dtype: torch.dtype) -> dict:
    return _elu_bits(_SELU_ALPHA * _SELU_SCALE, _SELU_SCALE, 1.0)


def _celu_scalars(dtype: torch.dtype, alpha=1.0) -> dict:
    alpha = _number("celu", "alpha", alpha, 2)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _elu_bits(alpha, 1.0, 1.0 / alpha)


def _float32(value: float) -> float:
    """``value`` rounded to float32 (torch's celu gradient reads alpha as a float: 1 / alpha.toFloat())."""
    return float32(value)


def _scalar_as(value: float, dtype: torch.dtype) -> float:
    """``value`` as torch's ``Scalar.to<scalar_t>()`` gives it for a tensor of ``dtype`` (double ->
    float -> half types, round to nearest even): where torch's kernel compares in the tensor's own
    type (hardshrink; the shrinks' gradients), a half-precision x equal to the rounded limit is inside."""
    if not dtype.is_floating_point:
        return value
    return round_float(value, dtype)


def _elu_backward(grad, x, negative_coefficient: float, positive_coefficient: float, input_scale: float):
    """torch's elu_backward from the input: x <= 0 ? grad * input_scale * negative_coefficient *
    exp(x * input_scale) : grad * positive_coefficient (NaN takes the second branch). The exponential
    reads x only where x < 0 (0 elsewhere), so its own derivative is torch's double backward: zero at
    0, and no 0 * inf = NaN from the unused branch at x = inf or NaN."""
    negative_x = x.where(x < 0, 0.0)
    negative = (negative_x * input_scale).exp() * (input_scale * negative_coefficient)
    return grad * negative.where(x <= 0, positive_coefficient)


def _elu_backward_from_output(grad, out, negative_coefficient: float, positive_coefficient: float, input_scale):
    """torch's elu_backward of the in-place variants (is_result), from the output: out <= 0 ?
    grad * input_scale * (out + negative_coefficient) : grad * positive_coefficient. torch refuses it
    for a negative alpha, where out <= 0 no longer says which branch x was on."""
    if negative_coefficient < 0:
        raise RuntimeError(
            "In-place elu backward calculation is triggered with a negative slope which is not supported. This is "
            "caused by calling in-place forward function with a negative slope, please call out-of-place version "
            "instead."
        )
    negative_out = out.where(out < 0, 0.0)  # (as above: torch's double backward is zero at 0)
    return grad * ((negative_out + negative_coefficient) * input_scale).where(out <= 0, positive_coefficient)


def _unsigned(dtype: torch.dtype) -> bool:
    return not dtype.is_floating_point and not dtype.is_signed and dtype != torch.bool


def _refuse_bool_hardtanh(x) -> None:
    if x.dtype == torch.bool:
        raise RuntimeError("Bool inputs not supported for hardtanh")


def _hardtanh_scalars(dtype: torch.dtype, min_val=-1.0, max_val=1.0) -> dict:
    limits = (min_val, max_val)
    for position, (argument, limit) in enumerate(zip(("min_val", "max_val"), limits, strict=True), start=2):
        _number("hardtanh", argument, limit, position)
    # torch's conversions with their overflow checks: an integer tensor's limits go through int64
    # (truncated: -0.3 is 0), are refused when negative for uint8, then converted to its own type
    if not dtype.is_floating_point:
        limits = tuple(scalar_as(limit, torch.int64, checked=True) for limit in limits)
    if _unsigned(dtype) and (limits[0] < 0 or limits[1] < 0):
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    for limit in limits:
        scalar_as(limit, dtype, checked=True)
    return {"p0": float_bits(float(limits[0])), "p1": float_bits(float(limits[1]))}


def _threshold_scalars(dtype: torch.dtype, threshold, value) -> dict:
    _number("threshold", "threshold", threshold, 2), _number("threshold", "value", value, 3)
    # torch's checked conversions: the threshold to the compute type (float32 for the half types),
    # the value to the tensor's
    scalar_as(threshold, torch.float32 if dtype in REDUCED_FLOATS else dtype, checked=True)
    scalar_as(value, dtype, checked=True)
    return {"p0": float_bits(float(threshold)), "p1": float_bits(float(value))}


def _threshold_gradient(grad, x, threshold, value):
    # torch's threshold_backward: 0 where x <= threshold, so NaN passes its gradient
    return _masked_gradient(grad, x <= threshold, x)


def _softplus_scalars(dtype: torch.dtype, beta=1.0, threshold=20.0) -> dict:
    beta, threshold = _number("softplus", "beta", beta, 2), _number("softplus", "threshold", threshold, 3)
    return {"p0": float_bits(beta), "p1": float_bits(threshold)}


def _softplus_gradient(grad, x, beta, threshold):
    # torch: beta x > threshold ? grad : grad * z / (z + 1) with z = exp(beta x), i.e. sigmoid(beta x)
    # (which does not overflow where z does)
    scaled = x * beta
    return grad.where(scaled > threshold, grad * scaled.sigmoid())


def _mish_gradient(grad, x):
    # torch: t = tanh(softplus(x)); grad * (t + x * sigmoid(x) * (1 - t^2)) (NaN at +-inf, as torch)
    t = FUNCTIONAL["softplus"](x).tanh()
    return grad * (t + x * x.sigmoid() * (1 - t * t))


def _hardswish_gradient(grad, x):
    # torch: x <= -3 ? 0 : x < 3 ? grad * (x / 3 + 0.5) : grad (NaN takes the last branch)
    return (grad * (x / 3 + 0.5)).where(x < 3, grad).masked_fill(x <= -3, 0.0)


def _shrink_scalars(op: str):
    def scalars(dtype: torch.dtype, lambd=0.5) -> dict:
        lambd = _number(op, "lambd", lambd, 2)
        if op == "softshrink" and lambd < 0:
            largest = f"{torch.finfo(dtype).max:g}" if dtype.is_floating_point else "inf"
            raise RuntimeError(
                f"lambda must be in range [0, {largest}] for input dtype {dtype_word(dtype)}, but found {lambd:g}"
            )
        # (torch's softshrink compares in float, its hardshrink in the tensor's type)
        return {"p0": float_bits(lambd if op == "softshrink" else _scalar_as(lambd, dtype))}

    return scalars


def _shrink_gradient(grad, x, lambd):
    # torch's shrink_backward: 0 inside [-lambd, lambd] (lambd in x's type), so NaN passes its gradient
    lambd = _scalar_as(float(lambd), x.dtype)
    return _masked_gradient(grad, (x >= -lambd) & (x <= lambd), x)


UNARY = [
    Unary("exp", lambda grad, out: grad * out),
    Unary("exp2", lambda grad, out: grad * out * _LN2),
    Unary("expm1", lambda grad, out: grad * (out + 1)),
    Unary("log", lambda grad, x: grad / x),
    Unary("log2", lambda grad, x: grad / (x * _LN2)),
    Unary("log10", lambda grad, x: grad / (x * _LN10)),
    Unary("log1p", lambda grad, x: grad / (x + 1)),
    Unary("sqrt", lambda grad, out: grad / (2 * out)),
    Unary("rsqrt", lambda grad, out: grad * (-0.5 * out**3)),
    Unary("sin", lambda grad, x: grad * x.cos()),
    Unary("cos", lambda grad, x: grad * -x.sin()),
    Unary("tan", lambda grad, out: grad * (1 + out * out)),
    Unary("asin", lambda grad, x: grad * (1 - x * x).rsqrt(), aliases=("arcsin",)),
    Unary("acos", lambda grad, x: grad * -((1 - x * x).rsqrt()), aliases=("arccos",)),
    Unary("atan", lambda grad, x: grad / (x * x + 1), aliases=("arctan",)),
    Unary("sinh", lambda grad, x: grad * x.cosh()),
    Unary("cosh", lambda grad, x: grad * x.sinh()),
    Unary("tanh", _from_output("tanh_backward", lambda grad, out: grad * (1 - out * out))),
    Unary("asinh", lambda grad, x: grad * (x * x + 1).rsqrt(), aliases=("arcsinh",)),
    Unary("acosh", lambda grad, x: grad * (x * x - 1).rsqrt(), aliases=("arccosh",)),
    Unary("atanh", lambda grad, x: grad / (1 - x * x), aliases=("arctanh",)),
    Unary("erf", lambda grad, x: grad * (_TWO_OVER_SQRT_PI * (-(x * x)).exp())),
    Unary("erfc", lambda grad, x: grad * (-_TWO_OVER_SQRT_PI * (-(x * x)).exp())),
    # (from the input, as torch's, which saves self: an in-place write to the output is then no error)
    Unary("erfinv", lambda grad, x: grad * (0.5 * math.sqrt(math.pi) * x.erfinv().square().exp())),
    Unary("lgamma", lambda grad, x: grad * x.digamma()),
    Unary("i0", lambda grad, x: grad * SPECIAL["i1"](x)),  # (kernels/special_functions.py)
    Unary("digamma", lambda grad, x: grad * x.polygamma(1), kernel="polygamma"),
    Unary(
        "polygamma",
        lambda grad, x, n: grad * x.polygamma(n + 1),
        kernel="polygamma",
        scalars=_polygamma_scalars,
        inplace_gradient=lambda grad, x, n: grad * x.polygamma(n + 1),  # (torch's PolygammaBackward1)
        doc="polygamma(n, input, *, out=None): the n-th derivative of digamma (torch.polygamma).",
    ),
    Unary("sigmoid", _from_output("sigmoid_backward", lambda grad, out: grad * (out * (1 - out)))),
    Unary("reciprocal", lambda grad, out: grad * -(out * out)),
    Unary("deg2rad", lambda grad: grad * (math.pi / 180.0)),
    Unary("rad2deg", lambda grad: grad * (180.0 / math.pi)),
    Unary(
        "square",
        lambda grad, x: grad * (2 * x),
        dtype=DtypeRule(_square_dtype, exact_out=False),
        grad_fn="PowBackward0",
    ),
    Unary("abs", lambda grad, x: grad * x.sgn(), dtype=SAME_NOT_BOOL, aliases=("absolute",)),  # (complex: z/|z|)
    Unary("neg", lambda grad: -grad, dtype=SAME, aliases=("negative",), check=_refuse_bool_neg),
    Unary("relu", _relu_gradient, dtype=SAME, check=_refuse_bool_relu, out=False),
    Unary("sign", _zero_gradient, dtype=SAME),
    Unary("sgn", _zero_gradient, dtype=SAME, kernel="sign"),  # (real tensors: the sign)
    Unary("floor", _zero_gradient, dtype=SAME_NOT_BOOL),
    Unary("ceil", _zero_gradient, dtype=SAME_NOT_BOOL),
    Unary("trunc", _zero_gradient, dtype=SAME_NOT_BOOL, aliases=("fix",)),
    Unary(
        "round",
        _zero_gradient,
        dtype=SAME_NOT_BOOL,
        scalars=_round_scalars,
        overload=lambda **kwargs: int("decimals" in kwargs),
    ),  # fmt: skip
    Unary("frac", lambda grad: grad, dtype=FLOAT_ONLY),
    Unary("nan_to_num", lambda grad, x: grad * x.isfinite(), dtype=SAME, scalars=_nan_to_num_scalars),
    Unary("logical_not", None, dtype=LOGICAL),
    Unary(
        "bitwise_not",
        None,
        dtype=INTEGRAL_OR_BOOL_EXACT,
        scalars=lambda dtype: {"p0": 1} if dtype == torch.bool else {},
    ),
    Unary("isnan", None, dtype=PREDICATE, inplace=False, out=False),
    Unary("isinf", None, dtype=PREDICATE, inplace=False, out=False),
    Unary("isposinf", None, dtype=PREDICATE, inplace=False),
    Unary("isneginf", None, dtype=PREDICATE, inplace=False),
    Unary("isfinite", None, dtype=PREDICATE, inplace=False, out=False),
    # activations (see above); functional=True: torch has them only in torch.nn.functional
    Unary(
        "elu",
        lambda grad, x, alpha: _elu_backward(grad, x, alpha, 1.0, 1.0),
        dtype=FLOAT_ONLY,
        scalars=_elu_scalars,
        inplace_gradient=lambda grad, out, alpha: _elu_backward_from_output(grad, out, alpha, 1.0, 1.0),
        method=False,
        functional=True,
        out=False,
    ),
    Unary(
        "selu",
        lambda grad, x: _elu_backward(grad, x, _SELU_ALPHA * _SELU_SCALE, _SELU_SCALE, 1.0),
        dtype=FLOAT_ONLY,
        kernel="elu",
        scalars=_selu_scalars,
        grad_fn="EluBackward0",
        inplace_gradient=lambda grad, out: _elu_backward_from_output(
            grad, out, _SELU_ALPHA * _SELU_SCALE, _SELU_SCALE, 1.0
        ),
        method=False,
        out=False,
    ),
    Unary(
        "celu",
        lambda grad, x, alpha: _elu_backward(grad, x, alpha, 1.0, 1.0 / _float32(alpha)),
        dtype=FLOAT_ONLY,
        kernel="elu",
        scalars=_celu_scalars,
        inplace_gradient=lambda grad, out, alpha: _elu_backward_from_output(
            grad, out, alpha, 1.0, 1.0 / _float32(alpha)
        ),
        method=False,
        out=False,
    ),
    Unary(
        "hardtanh",
        lambda grad, x, min_val, max_val: _masked_gradient(grad, (x <= min_val) | (x >= max_val), x),
        dtype=SAME,
        scalars=_hardtanh_scalars,
        check=_refuse_bool_hardtanh,
        method=False,
        functional=True,
        out=False,
    ),
    Unary(
        "threshold",
        _threshold_gradient,
        dtype=SAME_NOT_BOOL_CASTING,
        scalars=_threshold_scalars,
        inplace_gradient=_threshold_gradient,
        method=False,
    ),
    Unary(
        "softplus",
        _softplus_gradient,
        dtype=FLOAT_ONLY,
        scalars=_softplus_scalars,
        inplace=False,
        method=False,
        functional=True,
        doc="softplus(input, beta=1, threshold=20, *, out=None): log(1 + exp(beta x)) / beta, x where beta x > "
        "threshold (torch.nn.functional.softplus).",
    ),
    Unary("mish", _mish_gradient, dtype=FLOAT_ONLY, method=False, functional=True, out=False),
    Unary(
        "logsigmoid",
        lambda grad, x: grad * (-x).sigmoid(),  # torch's log_sigmoid_backward, both branches
        dtype=FLOAT_ONLY,
        kernel="log_sigmoid",
        grad_fn="LogSigmoidBackward0",
        inplace=False,
        method=False,
        functional=True,
        doc="logsigmoid(input, *, out=None): log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)) "
        "(torch.nn.functional.logsigmoid).",
    ),
    Unary(
        "hardsigmoid",
        # torch multiplies by 1.0f / 6.0f, a float32 constant, in every dtype
        lambda grad, x: (grad * _float32(1.0 / 6.0)).where((x > -3) & (x < 3), 0.0),
        dtype=FLOAT_ONLY,
        method=False,
        functional=True,
        out=False,
    ),
    Unary("hardswish", _hardswish_gradient, dtype=FLOAT_ONLY, method=False, functional=True, out=False),
    Unary(
        "softshrink",
        _shrink_gradient,
        dtype=FLOAT_ONLY,
        scalars=_shrink_scalars("softshrink"),
        inplace=False,
        method=False,
        functional=True,
        doc="softshrink(input, lambd=0.5, *, out=None): x - lambd above lambd, x + lambd below -lambd, else 0 "
        "(torch.nn.functional.softshrink).",
    ),
    Unary(
        "hardshrink",
        _shrink_gradient,
        dtype=FLOAT_ONLY,
        scalars=_shrink_scalars("hardshrink"),
        inplace=False,
        doc="hardshrink(input, lambd=0.5, *, out=None): x outside [-lambd, lambd], else 0 (torch.hardshrink).",
    ),
]


class _RealOnly(DtypeRule):
    """A binary op's promoted dtype, refusing a complex one with torch's own RuntimeError first
    ("maximum not implemented for complex tensors.", dtypes.refuse_complex) rather than a kernel's."""

    def resolve(self, op: str, dtype: torch.dtype) -> torch.dtype:
        if dtype.is_complex:
            raise refuse_complex(op, dtype)
        return super().resolve(op, dtype)


REAL_PROMOTE = _RealOnly(lambda dtype: dtype, exact_out=False)  # maximum, fmax

BINARY = [
    Binary(
        "maximum",
        lambda grad, a, b: _winner_gradient(grad, a == b, a < b),
        lambda grad, a, b: _winner_gradient(grad, a == b, a > b),
        inplace=False,
        dtype=REAL_PROMOTE,
    ),  # fmt: skip
    Binary(
        "minimum",
        lambda grad, a, b: _winner_gradient(grad, a == b, a > b),
        lambda grad, a, b: _winner_gradient(grad, a == b, a < b),
        inplace=False,
        dtype=REAL_PROMOTE,
    ),  # fmt: skip
    Binary(
        "fmax",
        lambda grad, a, b: grad.where((a >= b) | b.isnan(), 0.0),
        lambda grad, a, b: grad.where(~((a >= b) | b.isnan()), 0.0),
        inplace=False,
        dtype=REAL_PROMOTE,
    ),  # fmt: skip
    Binary(
        "fmin",
        lambda grad, a, b: grad.where((a <= b) | b.isnan(), 0.0),
        lambda grad, a, b: grad.where(~((a <= b) | b.isnan()), 0.0),
        inplace=False,
        dtype=REAL_PROMOTE,
    ),  # fmt: skip
    Binary(
        "atan2",
        lambda grad, a, b: grad * b * _inverse_square_norm(a, b),
        lambda grad, a, b: grad * -a * _inverse_square_norm(a, b),
        dtype=PROMOTE_FLOAT,
        aliases=("arctan2",),
    ),  # fmt: skip
    Binary(
        "hypot", lambda grad, a, out: grad * a / out, lambda grad, b, out: grad * b / out, dtype=PROMOTE_FLOAT_ONLY
    ),  # fmt: skip
    Binary(
        "logaddexp",
        lambda grad, a, b: grad / (1 + (b - a).exp()),
        lambda grad, a, b: grad / (1 + (a - b).exp()),
        dtype=PROMOTE_FLOAT_ONLY,
        inplace=False,
    ),  # fmt: skip
    Binary(
        "logaddexp2",
        lambda grad, a, b: grad / (1 + (b - a).exp2()),
        lambda grad, a, b: grad / (1 + (a - b).exp2()),
        dtype=PROMOTE_FLOAT_ONLY,
        inplace=False,
    ),
    Binary(
        "copysign",
        lambda grad, a, out: grad * (out / a).where(a != 0, 0.0),
        lambda grad, b: creation.zeros_like(b),
        dtype=PROMOTE_FLOAT,
        scalar_other=1,
    ),  # fmt: skip
    # the next representable value after a toward b; torch's gradient: grad for a, zeros for b
    Binary("nextafter", lambda grad: grad, lambda grad, b: creation.zeros_like(b), dtype=PROMOTE_FLOAT_ONLY),
    Binary(
        "xlogy",
        _xlogy_input_gradient,
        lambda grad, a, b: grad * a / b,
        dtype=PROMOTE_FLOAT,
        scalar_input=1,
        scalar_other=2,
    ),  # fmt: skip
    # bitwise ops: integers and bools (``&``, ``|``, ``^``, ``<<``, ``>>`` are these), no gradient
    Binary("bitwise_and", None, None, dtype=INTEGRAL_OR_BOOL, scalar_other=1, scalar_input=1),
    Binary("bitwise_or", None, None, dtype=INTEGRAL_OR_BOOL, scalar_other=1, scalar_input=1),
    Binary("bitwise_xor", None, None, dtype=INTEGRAL_OR_BOOL, scalar_other=1, scalar_input=1),
    Binary("bitwise_left_shift", None, None, dtype=INTEGRAL, scalar_other=1, scalar_input=1),
    Binary("bitwise_right_shift", None, None, dtype=INTEGRAL, scalar_other=1, scalar_input=1),
    # torch.special.zeta(x, q), Hurwitz's: differentiable in q only, as torch's
    Binary(
        "zeta",
        _not_implemented(NotImplementedError, "the derivative for 'zeta' is not implemented."),
        lambda grad, a, b: grad * -a * special_zeta(a + 1, b),
        dtype=DtypeRule(PROMOTE_FLOAT.result, refuses=lambda dtype: dtype in (torch.float16, torch.bfloat16)),
        inplace=False,
        scalar_input=1,
        scalar_other=2,
        node_prefix="special_",
    ),  # fmt: skip
    Binary(
        "heaviside",
        _not_implemented(RuntimeError, "derivative for aten::heaviside is not implemented"),
        _not_implemented(RuntimeError, "derivative for aten::heaviside is not implemented"),
        dtype=SAME_DTYPES,
        same_dtypes=True,
        grad_fn="torch::autograd::NotImplemented",
    ),  # fmt: skip
]


# ---- torch.special's functions without a torch.* twin (special_ node names), logit, igamma/igammac.
# Each is computed in float64 (kernels/special_functions.py); the gradients are torch's
# derivatives.yaml formulas, evaluated at the same edge points (logit at 0 and 1, entr at 0, the
# i1/i1e limits at 0). The Bessel functions torch does not differentiate have no gradient row.

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _refuses_half(dtype: torch.dtype) -> bool:
    return dtype in (torch.float16, torch.bfloat16)


FLOAT_NOT_HALF = DtypeRule(PROMOTE_FLOAT.result, refuses=_refuses_half, exact_out=False)  # erfcx, ndtri, ...


def _logit_scalars(dtype: torch.dtype, eps=None) -> dict:
    """eps as float64 bits; None (or NaN, or a negative eps, which clamps nothing in [0, 1]) clamps nothing."""
    if eps is None:
        return {}
    eps = _number("logit", "eps", eps, 2)
    return {"p0": float_bits(round_float(eps, dtype) if dtype in REDUCED_FLOATS else eps)}  # (torch: scalar_t(eps))


def _logit_gradient(grad, x, eps=None):
    """torch's logit_backward: grad / (x (1 - x)), grad * inf at x = 0 and 1 (so -0.0 gives +inf too);
    without eps NaN outside [0, 1], with eps 0 outside [eps, 1 - eps]. The denominator's absolute
    value gives the +inf at -0.0 (only [0, 1] reads it); a separate ``grad * inf`` branch would put
    0 * inf = NaN into every second derivative."""
    inside = grad / (x * (1 - x)).abs()
    if eps is None or float(eps) < 0:
        return inside.where((x >= 0) & (x <= 1) | x.isnan(), math.nan)
    low = round_float(float(eps), x.dtype) if x.dtype in REDUCED_FLOATS else float(eps)
    return inside.where(~((x < low) | (x > 1 - low)), 0.0)


def _i1_gradient(grad, x, out, scaled: bool):
    """torch's i1_backward / i1e_backward: i0(x) - i1(x) / x (i0e(x) - i1e(x) (sgn x + 1 / x)), and
    the limit 1/2 where |x| <= eps (NaN included: it fails |x| > eps)."""
    tiny = torch.finfo(x.dtype).eps
    not_tiny = x.abs() > tiny
    safe = x.where(not_tiny, tiny)
    if scaled:
        slope = SPECIAL["i0e"](safe) - out * (safe.sign() + safe.reciprocal())
    else:
        slope = safe.i0() - out * safe.reciprocal()
    return grad * slope.where(not_tiny, 0.5)


def _xlog1py_input_gradient(grad, a, b):
    # torch: xlog1py(grad, b), and 0 where a == 0 and b <= -1 (where log1p b is -inf or NaN)
    gradient = SPECIAL["xlog1py"](grad, b)
    zero_times_log = (a == 0) & (b <= -1) if isinstance(b, Tensor) else (a == 0) & bool(b <= -1)
    return gradient.where(~zero_times_log, 0.0)


def _incomplete_gamma_gradient(sign: float):
    """d/dx of P(a, x) (sign 1) or Q(a, x) (sign -1): x^(a - 1) exp(-x) / Gamma(a), torch's formula."""

    def gradient(grad, a, b):
        return grad * ((a - 1) * b.log() - b - a.lgamma()).exp() * sign

    return gradient


SPECIAL_UNARY = [
    Unary(
        "logit",
        _logit_gradient,
        scalars=_logit_scalars,
        doc="logit(input, eps=None, *, out=None): log(x / (1 - x)), x first clamped as torch does, "
        "x < eps ? eps : (x > 1 - eps ? 1 - eps : x), when eps is given (torch.logit).",
    ),
    Unary(
        "erfcx",
        lambda grad, x, out: grad * (2.0 * x * out - _TWO_OVER_SQRT_PI),
        dtype=FLOAT_NOT_HALF,
        grad_fn="SpecialErfcxBackward0",
        inplace=False,
        method=False,
    ),
    Unary(
        "log_ndtr",
        lambda grad, x, out: grad / _SQRT_2PI * (-(out + x * x / 2)).exp(),
        dtype=FLOAT_NOT_HALF,
        grad_fn="SpecialLogNdtrBackward0",
        inplace=False,
        method=False,
    ),
    Unary(
        "ndtri",
        lambda grad, out: grad * _SQRT_2PI * (out * out / 2).exp(),
        dtype=FLOAT_NOT_HALF,
        grad_fn="SpecialNdtriBackward0",
        inplace=False,
        method=False,
    ),
    Unary(
        "i0e",
        lambda grad, x, out: grad * (SPECIAL["i1e"](x) - x.sgn() * out),
        grad_fn="SpecialI0EBackward0",
        inplace=False,
        method=False,
    ),
    Unary(
        "i1",
        lambda grad, x, out: _i1_gradient(grad, x, out, scaled=False),
        grad_fn="SpecialI1Backward0",
        inplace=False,
        method=False,
    ),
    Unary(
        "i1e",
        lambda grad, x, out: _i1_gradient(grad, x, out, scaled=True),
        grad_fn="SpecialI1EBackward0",
        inplace=False,
        method=False,
    ),
    Unary(
        "entr",
        lambda grad, x: grad * -(1 + x.log()),
        grad_fn="SpecialEntrBackward0",
        inplace=False,
        method=False,
    ),
    # not differentiable in torch (no grad_fn), refused for the half types like torch's kernels
    Unary("modified_bessel_i0", None, dtype=FLOAT_NOT_HALF, inplace=False, method=False),
    Unary("modified_bessel_i1", None, dtype=FLOAT_NOT_HALF, inplace=False, method=False),
    Unary("spherical_bessel_j0", None, dtype=FLOAT_NOT_HALF, inplace=False, method=False),
]

SPECIAL_BINARY = [
    Binary(
        "xlog1py",
        _xlog1py_input_gradient,
        lambda grad, a, b: grad * a / (b + 1),
        dtype=PROMOTE_FLOAT,
        inplace=False,
        scalar_input=1,
        scalar_other=2,
        node_prefix="special_",
    ),  # fmt: skip
    Binary(
        "igamma",
        _not_implemented(NotImplementedError, "the derivative for 'igamma: input' is not implemented."),
        _incomplete_gamma_gradient(1.0),
        dtype=PROMOTE_FLOAT_ONLY,
        doc="igamma(input, other, *, out=None): the regularized lower incomplete gamma function P(input, other) "
        "(torch.igamma, torch.special.gammainc).",
    ),  # fmt: skip
    Binary(
        "igammac",
        _not_implemented(NotImplementedError, "the derivative for 'igammac: input' is not implemented."),
        _incomplete_gamma_gradient(-1.0),
        dtype=PROMOTE_FLOAT_ONLY,
        doc="igammac(input, other, *, out=None): the regularized upper incomplete gamma function Q(input, other) "
        "(torch.igammac, torch.special.gammaincc).",
    ),  # fmt: skip
]


class _Lerp(Function):
    """lerp(input, end, weight) = input + weight * (end - input), broadcasting all three."""

    @staticmethod
    def forward(ctx, input, end, weight):
        ctx.metas = (_meta(input), _meta(end), _meta(weight))
        ctx.weight = weight
        if isinstance(weight, Tensor):
            ctx.weight = None
            ctx.save_for_backward(input, end, weight)
        return _wrap(_launch_lerp(input, end, weight))

    @staticmethod
    def backward(ctx, grad):
        input, end, weight = ctx.saved_tensors if ctx.weight is None else (None, None, ctx.weight)
        input_meta, end_meta, weight_meta = ctx.metas
        grad_input = reduce_grad(grad * (1 - weight), input_meta) if _needs(ctx, 0) else None
        grad_end = reduce_grad(grad * weight, end_meta) if _needs(ctx, 1) else None
        grad_weight = reduce_grad(grad * (end - input), weight_meta) if _needs(ctx, 2) else None
        return grad_input, grad_end, grad_weight


class LerpScalarWeight(_Lerp):
    _backward_name = "LerpBackward0"


class LerpTensorWeight(_Lerp):
    _backward_name = "LerpBackward1"


def _check_lerp(input, end, weight):
    """torch's checks of lerp's operands; returns the weight as the kernel takes it (a complex number
    weight of a real lerp is its real part once torch's overflow check of its imaginary part passed)."""
    for position, (argument, value) in enumerate((("input", input), ("end", end)), start=1):
        if not isinstance(value, Tensor):
            raise TypeError(
                f"lerp(): argument '{argument}' (position {position}) must be Tensor, not {type(value).__name__}"
            )
    if not isinstance(weight, (Tensor, bool, int, float, complex)):
        raise TypeError(f"lerp(): argument 'weight' must be Tensor or Number, not {type(weight).__name__}")
    for argument, value in (("end", end), ("weight", weight)):
        if argument == "weight" and isinstance(value, Tensor) and value.dim() == 0:
            continue  # (a 0-d weight of any dtype is read in the input's, as torch's)
        if isinstance(value, Tensor) and value.dtype != input.dtype:
            raise RuntimeError(
                f"expected dtype {typeid_name(input.dtype)} for `{argument}` but got dtype {typeid_name(value.dtype)}"
            )
    if not input.dtype.is_floating_point:
        kind = "tensor" if isinstance(weight, Tensor) else "scalar"
        raise NotImplementedError(f"\"lerp_kernel_{kind}\" not implemented for '{dtype_word(input.dtype)}'")
    if not isinstance(weight, Tensor):  # a number weight is read as float32 (float64 for float64), checked
        opmath = torch.float64 if input.dtype == torch.float64 else torch.float32
        if isinstance(weight, complex):
            return complex_scalar_as(weight, opmath)
        scalar_as(weight, opmath, checked=True)
    return weight


def _launch_lerp(input, end, weight, out: torch.Tensor | None = None) -> torch.Tensor:
    return kernels.launch_ternary("lerp", input._data, end._data, _data(weight), out_dtype=input.dtype, out=out)


def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input), in torch's form that is exact at weight 0 and 1; ``weight`` is a
    number or a tensor, and input, end and a tensor weight broadcast together (same floating dtype)."""
    weight = _check_lerp(input, end, as_python_scalar(weight))
    if isinstance(weight, Tensor) and weight.dtype != input.dtype:  # (a 0-d weight, checked above)
        weight = weight.to(input.dtype)
    if out is not None:
        shape = broadcast_shapes(*(tuple(t.shape) for t in (input, end, weight) if isinstance(t, Tensor)))
        _launch_lerp(input, end, weight, out=check_out("lerp", out, input.dtype, shape, input, end, weight))
        return finish_out(out)
    if not (is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad for t in (input, end, weight))):
        return _wrap(_launch_lerp(input, end, weight))
    return (LerpTensorWeight if isinstance(weight, Tensor) else LerpScalarWeight).apply(input, end, weight)


def _lerp_(self, end, weight):
    """``lerp`` in place; returns self."""
    weight = _check_lerp(self, end, as_python_scalar(weight))
    if isinstance(weight, Tensor) and weight.dtype != self.dtype:
        weight = weight.to(self.dtype)
    other = weight if isinstance(weight, Tensor) and weight.requires_grad else end
    return apply_inplace(
        self,
        lambda snapshot: lerp(snapshot, end, weight),
        lambda: _launch_lerp(self, end, weight, out=self._data),
        other,
    )


# FUNCTIONS: torch's namespace (tritongrad.exp, tritongrad.selu_); METHODS: Tensor's (x.exp(),
# x.exp_()); FUNCTIONAL: the activations torch has only in torch.nn.functional (F.elu, F.elu_),
# which tritongrad/ops/activation.py wraps with their inplace= arguments.
FUNCTIONS, METHODS, FUNCTIONAL = derive(UNARY + BINARY)
FUNCTIONS["lerp"] = METHODS["lerp"] = lerp
METHODS["lerp_"] = _lerp_
_polygamma_method = FUNCTIONS["polygamma"]  # (input, n): the order of x.polygamma(n)


def polygamma(n: int, input, *, out=None):
    """The n-th derivative of digamma at ``input`` (torch.polygamma's order: n first)."""
    return _polygamma_method(input, n, out=out)


FUNCTIONS["polygamma"] = polygamma
special_zeta = FUNCTIONS.pop("zeta")  # torch has it only as torch.special.zeta
del METHODS["zeta"]
FUNCTIONS["relu_"] = METHODS["relu_"]  # torch.relu_, the one in-place function nn code calls by name

# SPECIAL: tritongrad.special's kernels by torch.special's names (tritongrad/special.py); logit,
# igamma and igammac are torch functions and Tensor methods too.
SPECIAL, _SPECIAL_METHODS, _ = derive(SPECIAL_UNARY + SPECIAL_BINARY)
FUNCTIONS.update({name: SPECIAL[name] for name in ("logit", "logit_", "igamma", "igammac")})
METHODS.update(
    {name: _SPECIAL_METHODS[name] for name in ("logit", "logit_", "igamma", "igamma_", "igammac", "igammac_")}
)

attach_methods(METHODS)
