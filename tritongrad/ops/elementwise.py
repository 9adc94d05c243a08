"""Elementwise ops: type promotion, the kernel call, and each op's backward.

Forward functions pick dtypes by torch's promotion rules and call
kernels/elementwise.py; Function classes give each differentiable op its
backward, written with tritongrad ops so that it is itself differentiable.
"""

from __future__ import annotations

import math

import torch

from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import get_default_dtype, result_type
from tritongrad.kernels import activation as activation_kernels
from tritongrad.kernels import elementwise as kernels

COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


def _data(x):
    """The torch buffer of a Tensor, or the Python scalar itself."""
    return x._data if hasattr(x, "_data") else x


def _check_scalar(op: str, value) -> None:
    if not isinstance(value, (bool, int, float)) and not hasattr(value, "_data"):
        raise TypeError(f"{op}(): expected a Tensor or a Python number, got {type(value).__name__}")


def _wrap(data: torch.Tensor):
    from tritongrad.tensor import Tensor

    return Tensor._wrap(data)


# ---------------------------------------------------------------------------------------------
# Raw (non-recording) forwards: promotion + kernel
# ---------------------------------------------------------------------------------------------


def binary_forward(op: str, a, b, *, alpha=None, out=None):
    """op(a, b) on tritongrad Tensors/scalars with torch's type promotion; returns a Tensor."""
    _check_scalar(op, a)
    _check_scalar(op, b)
    dtype = result_type(a, b)
    compute = dtype
    out_dtype = dtype
    if op in COMPARISONS or op.startswith("logical_"):
        out_dtype = torch.bool
    elif op == "div" and not dtype.is_floating_point:
        compute = out_dtype = get_default_dtype()
    elif op in ("floor_divide", "trunc_divide", "remainder", "fmod", "pow") and dtype == torch.bool:
        raise NotImplementedError(f"\"{op}\" not implemented for 'Bool'")
    if out is not None:
        _check_out_dtype(op, out_dtype, out)
    result = kernels.launch_binary(
        op, _data(a), _data(b), out_dtype=out_dtype, compute=compute, alpha=alpha,
        out=None if out is None else out._data,
    )  # fmt: skip
    return out if out is not None else _wrap(result)


def _check_out_dtype(op: str, result_dtype: torch.dtype, out) -> None:
    from tritongrad.dtypes import category

    if category(result_dtype) > category(out.dtype):
        raise RuntimeError(
            f"result type {_short(result_dtype)} can't be cast to the desired output type {_short(out.dtype)}"
        )


def _short(dtype: torch.dtype) -> str:
    names = {
        torch.float32: "Float", torch.float64: "Double", torch.float16: "Half", torch.bfloat16: "BFloat16",
        torch.int64: "Long", torch.int32: "Int", torch.bool: "Bool",
    }  # fmt: skip
    return names.get(dtype, str(dtype))


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


def reduce_grad(grad, like):
    """Sums a broadcast gradient back to ``like``'s shape and casts it to ``like``'s dtype."""
    if grad is None:
        return None
    shape = tuple(like.shape)
    if tuple(grad.shape) != shape:
        grad = grad.sum_to_size(shape)
    if grad.dtype != like.dtype:
        grad = grad.to(like.dtype)
    return grad


def _needs(ctx, index: int) -> bool:
    return index < len(ctx.needs_input_grad) and ctx.needs_input_grad[index]


# ---------------------------------------------------------------------------------------------
# Binary Functions
# ---------------------------------------------------------------------------------------------


class Add(Function):
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


class Mul(Function):
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
    @staticmethod
    def forward(ctx, a, b):
        ctx.a_meta, ctx.b_meta = _meta(a), _meta(b)
        ctx.b_scalar = None if hasattr(b, "_data") else b
        result = binary_forward("div", a, b)
        ctx.save_for_backward(b if hasattr(b, "_data") else None, result if _needs(ctx, 1) else None)
        return result

    @staticmethod
    def backward(ctx, grad):
        b, result = ctx.saved_tensors
        divisor = b if b is not None else ctx.b_scalar
        grad_a = reduce_grad(grad / divisor, ctx.a_meta) if _needs(ctx, 0) else None
        grad_b = reduce_grad(-grad * result / divisor, ctx.b_meta) if _needs(ctx, 1) else None
        return grad_a, grad_b


class PowScalarExponent(Function):
    """tensor ** number."""

    _backward_name = "PowBackward0"

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
        ctx.save_for_backward(result)
        ctx.base = base
        return result

    @staticmethod
    def backward(ctx, grad):
        (result,) = ctx.saved_tensors
        if ctx.base == 0:
            return None, grad * 0
        return None, grad * result * math.log(ctx.base)


def pow_forward(x, exponent):
    """x ** number, choosing exact repeated multiplication for integral exponents."""
    if isinstance(exponent, bool):
        exponent = int(exponent)
    integral = float(exponent).is_integer() and abs(exponent) <= 2**31 - 1
    if not x.dtype.is_floating_point and not (isinstance(exponent, int)):
        return binary_forward("pow", x, exponent)
    if not x.dtype.is_floating_point and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if integral:
        return unary_forward("pow_int", x, p0=int(exponent), floating=False)
    if x.dtype == torch.float64:
        return binary_forward("pow", x, float(exponent))
    return unary_forward("pow_scalar", x, p0=float(exponent))


def rpow_forward(base, x):
    """number ** x."""
    if x.dtype == torch.float64 or not x.dtype.is_floating_point:
        return binary_forward("pow", base, x)
    return unary_forward("rpow_scalar", x, p0=float(base))


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return binary_forward("maximum", a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _select_grads(ctx, grad, a, b, a > b, a == b)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return binary_forward("minimum", a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _select_grads(ctx, grad, a, b, a < b, a == b)


def _select_grads(ctx, grad, a, b, a_wins, tie):
    """Gradient of maximum/minimum: to the winner, split evenly on ties (torch's rule)."""
    share = a_wins.to(grad.dtype) + tie.to(grad.dtype) * 0.5
    grad_a = reduce_grad(grad * share, a) if _needs(ctx, 0) else None
    grad_b = reduce_grad(grad * (1 - share), b) if _needs(ctx, 1) else None
    return grad_a, grad_b


class Remainder(Function):
    """Python-style modulus; d/da = 1, d/db = -floor(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if hasattr(a, "_data") else None, b if hasattr(b, "_data") else None)
        ctx.a_meta, ctx.b_meta = _meta(a), _meta(b)
        return binary_forward("remainder", a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = reduce_grad(grad, ctx.a_meta) if _needs(ctx, 0) else None
        grad_b = None
        if _needs(ctx, 1):
            grad_b = reduce_grad(-grad * (a / b).floor(), ctx.b_meta)
        return grad_a, grad_b


class Fmod(Function):
    """C-style remainder; d/da = 1, d/db = -trunc(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if hasattr(a, "_data") else None, b if hasattr(b, "_data") else None)
        ctx.a_meta, ctx.b_meta = _meta(a), _meta(b)
        return binary_forward("fmod", a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = reduce_grad(grad, ctx.a_meta) if _needs(ctx, 0) else None
        grad_b = None
        if _needs(ctx, 1):
            grad_b = reduce_grad(-grad * binary_forward("trunc_divide", a.detach(), b.detach()), ctx.b_meta)
        return grad_a, grad_b


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        ctx.a_meta, ctx.b_meta = _meta(a), _meta(b)
        dtype = result_type(a, b)
        result = kernels.launch_where(condition._data, _data(a), _data(b), out_dtype=dtype)
        return _wrap(result)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        grad_a = reduce_grad(grad.where(condition, 0.0), ctx.a_meta) if _needs(ctx, 1) else None
        grad_b = reduce_grad(grad.where(~condition, 0.0), ctx.b_meta) if _needs(ctx, 2) else None
        return None, grad_a, grad_b


class _Meta:
    """Shape and dtype of an operand, kept instead of the operand when only those are needed."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype) -> None:
        self.shape, self.dtype = shape, dtype


def _meta(x):
    if hasattr(x, "_data"):
        return _Meta(tuple(x.shape), x.dtype)
    return None


# ---------------------------------------------------------------------------------------------
# Unary Functions
# ---------------------------------------------------------------------------------------------


def _unary_function(name: str, op: str, backward, saves: str):
    """Builds a Function for a unary op whose backward needs its input ("input") or output ("output")."""

    def forward(ctx, x):
        result = unary_forward(op, x)
        ctx.save_for_backward(x if saves == "input" else result)
        return result

    def backward_method(ctx, grad):
        (saved,) = ctx.saved_tensors
        return backward(grad, saved)

    return type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward_method)})


Exp = _unary_function("Exp", "exp", lambda grad, out: grad * out, "output")
Log = _unary_function("Log", "log", lambda grad, x: grad / x, "input")
Sqrt = _unary_function("Sqrt", "sqrt", lambda grad, out: grad / (2 * out), "output")
Rsqrt = _unary_function("Rsqrt", "rsqrt", lambda grad, out: grad * (-0.5 * out**3), "output")
Sin = _unary_function("Sin", "sin", lambda grad, x: grad * x.cos(), "input")
Cos = _unary_function("Cos", "cos", lambda grad, x: grad * -x.sin(), "input")
Tan = _unary_function("Tan", "tan", lambda grad, out: grad * (1 + out * out), "output")
Tanh = _unary_function("Tanh", "tanh", lambda grad, out: grad * (1 - out * out), "output")
Sigmoid = _unary_function("Sigmoid", "sigmoid", lambda grad, out: grad * (out * (1 - out)), "output")
Reciprocal = _unary_function("Reciprocal", "reciprocal", lambda grad, out: grad * -(out * out), "output")
Abs = _unary_function("Abs", "abs", lambda grad, x: grad * x.sign(), "input")


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return unary_forward("neg", x, floating=False)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class PiecewiseConstant(Function):
    """sign, floor, ceil: differentiable with a zero gradient, as in torch (SignBackward0, ...)."""

    @staticmethod
    def forward(ctx, x, op):
        return unary_forward(op, x, floating=False)

    @staticmethod
    def backward(ctx, grad):
        from tritongrad import creation

        return creation.zeros_like(grad), None  # zeros, not grad * 0: an infinite grad gives 0, not NaN


def _piecewise_constant(name: str) -> type[PiecewiseConstant]:
    return type(f"{name.capitalize()}_", (PiecewiseConstant,), {"_backward_name": f"{name.capitalize()}Backward0"})


SIGN, FLOOR, CEIL = (_piecewise_constant(name) for name in ("sign", "floor", "ceil"))


class Relu(Function):
    @staticmethod
    def forward(ctx, x):
        result = unary_forward("relu", x, floating=False)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        (result,) = ctx.saved_tensors
        fusable = grad.is_contiguous() and result.is_contiguous() and grad.dtype == result.dtype
        if is_grad_enabled() or not fusable:
            return grad.where(result > 0, 0.0)  # differentiable (create_graph) or strided: composed
        # One launch instead of a comparison and a select: grad where the saved output is > 0.
        return _wrap(activation_kernels.launch_relu_bwd(grad._data, result._data))


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
    bounds = [v for v in (low, high) if v is not None]
    dtype = result_type(x, *bounds)
    tensor_bound = any(hasattr(v, "_data") for v in bounds)
    inexact_float64 = dtype == torch.float64 and any(isinstance(v, float) and not _exact_float32(v) for v in bounds)
    if tensor_bound or inexact_float64:
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


def _exact_float32(value: float) -> bool:
    import struct

    try:
        return struct.unpack("f", struct.pack("f", value))[0] == value
    except OverflowError:
        return False
