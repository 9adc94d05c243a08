"""The functional, torch-shaped op API (``tritongrad.add``, ``tritongrad.exp``, ...).

Each function validates its arguments and applies the Function that records it
on the tape. Names in TENSOR_METHODS also become Tensor methods, so ``x.exp()``
and ``tritongrad.exp(x)`` are the same call.
"""

from __future__ import annotations

import torch

from tritongrad import creation
from tritongrad.dtypes import as_python_scalar, get_default_dtype, result_type
from tritongrad.kernels.strided import broadcast_shapes
from tritongrad.ops import elementwise, indexing, linalg, ordering, reduction, return_types, shape, views  # noqa: F401
from tritongrad.ops import random as random  # noqa: PLC0414
from tritongrad.ops.counting import bincount, histc, histogram  # noqa: F401 (public API)
from tritongrad.ops.elementwise import binary_forward
from tritongrad.ops.indexing import (  # noqa: F401 (public API)
    argwhere,
    gather,
    index_add,
    index_add_,
    index_copy,
    index_copy_,
    index_fill,
    index_fill_,
    index_put,
    index_put_,
    index_select,
    masked_fill,
    masked_fill_,
    masked_scatter,
    masked_scatter_,
    masked_select,
    nonzero,
    put_,
    scatter,
    scatter_,
    scatter_add,
    scatter_add_,
    take,
    take_along_dim,
)
from tritongrad.ops.linalg import bmm, dot, ger, matmul, mm, mv, outer  # noqa: F401 (public API)
from tritongrad.ops.ordering import *  # noqa: F401,F403 (public API: cumsum, sort, topk, median, unique, ...)
from tritongrad.ops.reduction import (  # noqa: F401 (public API)
    all,
    amax,
    amin,
    aminmax,
    any,
    argmax,
    argmin,
    count_nonzero,
    logsumexp,
    max,
    mean,
    min,
    nanmean,
    nansum,
    norm,
    prod,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from tritongrad.ops.shape import *  # noqa: F401,F403 (public API: flip, roll, repeat, diag, einsum, ...)
from tritongrad.ops.table import check_out, finish_out
from tritongrad.tensor import Tensor


def _as_tensor_operand(name: str, value):
    if isinstance(value, Tensor) or isinstance(value, (bool, int, float)):
        return value
    raise TypeError(f"{name}(): argument must be a Tensor or a number, got {type(value).__name__}")


def _operands(name: str, input, other):
    """A binary function's operands as torch takes them: numpy scalars are numbers, and when both are
    numbers the first becomes a 0-d tensor (``torch.add(1.0, 2)`` is ``tensor(3.)``)."""
    input, other = as_python_scalar(input), as_python_scalar(other)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = creation.tensor(_as_tensor_operand(name, input))
    return input, _as_tensor_operand(name, other)


def _binary_out(op: str, input, other, out, *, alpha=None):
    """``op(input, other, out=out)``: torch's out= checks (no autograd, castable dtype, resize), then
    the kernel writes straight into ``out``."""
    shape = broadcast_shapes(*[tuple(t.shape) for t in (input, other) if isinstance(t, Tensor)])
    dtype = result_type(input, other)
    if op == "div" and not dtype.is_floating_point:
        dtype = get_default_dtype()
    check_out(op, out, dtype, shape, input, other)
    return finish_out(binary_forward(op, input, other, alpha=alpha, out=out))


# ------------------------------------------------------------------------------ arithmetic
def add(input, other, *, alpha=None, out=None):
    """input + alpha * other, broadcasting, with torch's type promotion."""
    input, other = _operands("add", input, other)
    if out is not None:
        return _binary_out("add", input, other, out, alpha=alpha)
    if not isinstance(input, Tensor):
        input, other = other, input
        if alpha not in (None, 1):
            return elementwise.Add.apply(input * alpha, other)
    return elementwise.Add.apply(input, other, alpha)


def sub(input, other, *, alpha=None, out=None):
    """input - alpha * other."""
    input, other = _operands("sub", input, other)
    if not isinstance(input, Tensor):
        return rsub(other, input)
    if input.dtype == torch.bool and getattr(other, "dtype", None) == torch.bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if out is not None:
        return _binary_out("sub", input, other, out, alpha=alpha)
    return elementwise.Sub.apply(input, other, alpha)


subtract = sub


def rsub(input, other):
    """other - input (for ``number - tensor``)."""
    return elementwise.Rsub.apply(input, _as_tensor_operand("rsub", other))


def mul(input, other, *, out=None):
    """input * other."""
    input, other = _operands("mul", input, other)
    if out is not None:
        return _binary_out("mul", input, other, out)
    if not isinstance(input, Tensor):
        input, other = other, input
    return elementwise.Mul.apply(input, other)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """True division (``rounding_mode='floor'`` or ``'trunc'`` for rounded quotients)."""
    input, other = _operands("div", input, other)
    if out is not None and rounding_mode is None:
        return _binary_out("div", input, other, out)
    if out is not None:
        raise NotImplementedError("div(..., rounding_mode=..., out=...) is not supported by tritongrad")
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        return binary_forward("trunc_divide", input, other)
    if rounding_mode is not None:
        raise ValueError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
        )
    return elementwise.Div.apply(input, other)


divide = true_divide = div


def floor_divide(input, other):
    """Floor of the quotient (not differentiable, like torch)."""
    input, other = _operands("floor_divide", input, other)
    return binary_forward("floor_divide", input, other)


def remainder(input, other):
    """Python-style modulus: the result has the sign of ``other``."""
    input, other = _operands("remainder", input, other)
    return _with_operand_name(elementwise.Remainder, other).apply(input, other)


def fmod(input, other):
    """C-style modulus: the result has the sign of ``input`` (integer inputs stay integers)."""
    input, other = _operands("fmod", input, other)
    return _with_operand_name(elementwise.Fmod, other).apply(input, other)


_NAMED_BY_OPERAND: dict = {}


def _with_operand_name(function, other):
    """``function`` named as torch names it for a number (``...Backward0``) or a tensor (``...Backward1``) operand."""
    from tritongrad.tensor import Tensor

    overload = 1 if isinstance(other, Tensor) else 0
    key = (function, overload)
    if key not in _NAMED_BY_OPERAND:
        name = f"{function.__name__}Backward{overload}"
        _NAMED_BY_OPERAND[key] = type(f"{function.__name__}_{overload}", (function,), {"_backward_name": name})
    return _NAMED_BY_OPERAND[key]


def pow(input, exponent):
    """input ** exponent for tensors and numbers on either side."""
    from tritongrad.tensor import Tensor

    if isinstance(input, Tensor) and isinstance(exponent, Tensor):
        return elementwise.PowTensor.apply(input, exponent)
    if isinstance(input, Tensor):
        _as_tensor_operand("pow", exponent)
        return elementwise.PowScalarExponent.apply(input, exponent)
    if isinstance(exponent, Tensor):
        _as_tensor_operand("pow", input)
        return elementwise.PowScalarBase.apply(input, exponent)
    raise TypeError("pow(): expected at least one Tensor operand")


def where(condition, input=None, other=None, *, out=None):
    """input where condition else other (broadcasting; numbers allowed for input/other)."""
    if input is None and other is None:
        return indexing.nonzero(condition, as_tuple=True)  # torch's one-argument form
    if condition.dtype != torch.bool:
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype {condition.dtype}"
        )
    input, other = as_python_scalar(input), as_python_scalar(other)
    if out is not None:
        shape = broadcast_shapes(*[tuple(t.shape) for t in (condition, input, other) if isinstance(t, Tensor)])
        check_out("where", out, result_type(input, other), shape, condition, input, other)
        return finish_out(elementwise.where_forward(condition, input, other, out=out))
    return elementwise.Where.apply(condition, input, other)


def clamp(input, min=None, max=None, *, out=None):  # noqa: F811 (torch's argument names)
    """Limits values to [min, max]; bounds may be numbers or tensors; ``out=`` writes into a tensor."""
    from tritongrad.tensor import Tensor

    if out is not None:
        return elementwise.clamp_out(input, min, max, out)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        # torch takes both bounds as tensors here; a number beside a tensor bound becomes one.
        min, max = (v if v is None or isinstance(v, Tensor) else _full_like(input, v) for v in (min, max))
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        return elementwise.ClampTensor.apply(input, min, max)
    return elementwise.Clamp.apply(input, min, max)


clip = clamp


def clamp_min(input, min):  # noqa: F811
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: F811
    return clamp(input, max=max)


def _full_like(x, value):
    from tritongrad import creation

    return creation.full((), value, dtype=x.dtype, device=x.device)


# ------------------------------------------------------------------------------ the elementwise op tables
# exp, log1p, sin, round, isnan, ..., maximum, atan2, xlogy, lerp: one row each in ops/elementwise.py
# (UNARY, BINARY), from which ops/table.py derives the functions, methods and in-place variants.
globals().update(elementwise.FUNCTIONS)
INPLACE_METHODS = elementwise.INPLACE_METHODS  # x.exp_(), x.log1p_(), ...: installed on Tensor
isnan = elementwise.FUNCTIONS["isnan"]  # (named here for allclose below)


def _comparison(op):
    def compare(input, other):
        return binary_forward(op, *_operands(op, input, other))

    compare.__name__ = op
    compare.__doc__ = f"Elementwise ``{op}`` comparison; a bool tensor."
    return compare


eq, ne, lt, le, gt, ge = (_comparison(op) for op in ("eq", "ne", "lt", "le", "gt", "ge"))
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_and = _comparison("logical_and")
logical_or = _comparison("logical_or")
logical_xor = _comparison("logical_xor")


def equal(input, other) -> bool:
    """True if both tensors have the same shape and elements."""
    return tuple(input.shape) == tuple(other.shape) and bool(eq(input, other).all())


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """|input - other| <= atol + rtol * |other| everywhere."""
    close = (input - other).abs() <= atol + rtol * other.abs()
    if equal_nan:
        close = close | (isnan(input) & isnan(other))
    return bool(close.all())


# ------------------------------------------------------------------------------ indexing
def is_tensor(obj) -> bool:
    """True if ``obj`` is a tritongrad Tensor."""
    from tritongrad.tensor import Tensor

    return isinstance(obj, Tensor)


index = indexing.getitem  # x[key]


def cat(tensors, dim: int = 0):
    """Concatenates tensors along ``dim`` (each copied into its slice of the result by a kernel)."""
    return indexing.cat(tensors, dim)


concat = concatenate = cat


def stack(tensors, dim: int = 0):
    """Stacks same-shaped tensors along a new ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    dim = views.normalize_dim(dim, tensors[0].dim() + 1)
    return indexing.cat([t.unsqueeze(dim) for t in tensors], dim, stacking=True)


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    return input.flatten(start_dim, end_dim)


def reshape(input, shape):
    return input.reshape(shape)


def transpose(input, dim0: int, dim1: int):
    return input.transpose(dim0, dim1)


def permute(input, dims):
    return input.permute(dims)


def squeeze(input, dim=None):
    return input.squeeze(dim)


def unsqueeze(input, dim: int):
    return input.unsqueeze(dim)


def t(input):
    return input.t()


def clone(input):
    return input.clone()


def numel(input) -> int:
    return input.numel()


def softmax(input, dim: int, dtype=None):
    from tritongrad.nn import functional

    return functional.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim: int, dtype=None):
    from tritongrad.nn import functional

    return functional.log_softmax(input, dim, dtype=dtype)


TENSOR_METHODS = (
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide", "remainder",
    "fmod", "pow", "clamp", "clip", "clamp_min", "clamp_max", "eq", "ne", "lt", "le", "gt", "ge", "greater",
    "greater_equal", "less", "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor", "equal",
    "allclose", "masked_fill", "sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "var",
    "std", "norm", "all", "any", "count_nonzero", "matmul", "mm", "bmm", "mv", "dot", "outer", "ger", "softmax",
    "log_softmax",
)  # fmt: skip
TENSOR_METHODS += tuple(elementwise.FUNCTIONS)  # every row of the op tables, aliases included
TENSOR_METHODS += indexing.TENSOR_METHODS  # x.gather(...), x.index_add_(...), x.masked_fill_(...), ...
TENSOR_METHODS += ("logsumexp", "nansum", "nanmean", "aminmax") + tuple(ordering.TENSOR_METHODS)
TENSOR_METHODS += shape.TENSOR_METHODS  # x.flip(0), x.repeat(2, 3), x.diagonal(), ...
TENSOR_METHODS += ("histc", "histogram", "bincount")


def _where_method(self, condition, other):
    """``x.where(condition, y)`` is ``where(condition, x, y)``."""
    return where(condition, self, other)
