"""Arithmetic and comparison with torch's calling conventions: ``add``, ``sub``, ``mul``, ``div``,
``pow``, ``remainder``, ``where``, ``clamp``, ``eq``/``lt``/..., ``allclose``.

These take Python and numpy numbers on either side (``_operands``), torch's ``alpha=``,
``rounding_mode=`` and ``out=`` arguments, and name their graph nodes as torch does for a number
or a tensor operand; the elementwise kernels and their backwards are the op tables' (ops/table.py).
"""

from __future__ import annotations

import warnings

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import (
    as_python_scalar,
    complex_scalar_as,
    dtype_word,
    fill_scalar_as,
    get_default_dtype,
    python_type_name,
    result_type,
)
from tritongrad.kernels import creation as creation_kernels
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels.strided import broadcast_shapes, check_no_partial_overlap, check_writable
from tritongrad.ops import elementwise, indexing
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.elementwise import alpha_as, binary_forward
from tritongrad.ops.inplace import apply_inplace, apply_untracked, check_inplace
from tritongrad.ops.out_argument import check_no_grad, check_out, finish_out, write_out
from tritongrad.ops.table import torch_node_name
from tritongrad.tensor import Tensor, attach_methods

__all__ = [
    "add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "fmod", "pow", "where", "clamp", "clip", "clamp_min", "clamp_max", "clamp_min_", "clamp_max_",
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "equal", "isclose", "allclose",
]  # fmt: skip

isnan = elementwise.FUNCTIONS["isnan"]


_NUMBER_TYPES = (int, float, bool)


def _as_tensor_operand(name: str, value):
    if isinstance(value, Tensor) or isinstance(value, (bool, int, float, complex)):
        return value
    raise TypeError(f"{name}(): argument must be a Tensor or a number, got {type(value).__name__}")


# The functions torch declares with a Tensor first only (no ``(Number self, Tensor other)`` overload):
# ``torch.eq(5, x)`` is its TypeError; and remainder takes a number first only before a tensor.
_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")  # (greater, less, ... are these functions under other names)
_TENSOR_FIRST = frozenset(("fmod", *_COMPARISONS))
_NUMBER_FIRST_BEFORE_A_TENSOR = frozenset(("remainder",))


def _operands(name: str, input, other):
    """A binary function's operands as torch takes them: numpy scalars are numbers, and when both are
    numbers the first becomes a 0-d tensor (``torch.add(1.0, 2)`` is ``tensor(3.)``)."""
    if isinstance(input, Tensor) and (isinstance(other, Tensor) or type(other) in _NUMBER_TYPES):
        return input, other  # the common case, decided without converting anything
    input, other = as_python_scalar(input), as_python_scalar(other)
    if not isinstance(input, Tensor) and (
        name in _TENSOR_FIRST or (name in _NUMBER_FIRST_BEFORE_A_TENSOR and not isinstance(other, Tensor))
    ):
        given = ", ".join(python_type_name(value) for value in (input, other))
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({given}), but expected one of:")
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
    elif op in _BOOLEAN_RESULTS:
        dtype = torch.bool  # (castable into any out: torch.lt(x, 2, out=float_tensor) writes 1.0 and 0.0)
    check_out(op, out, dtype, shape, input, other, differentiable=op not in _BOOLEAN_RESULTS)
    return finish_out(binary_forward(op, input, other, alpha=alpha, out=out))


def _records(input: Tensor, other) -> bool:
    """True when autograd records an op on these operands; otherwise the op is its raw forward
    (the same kernel call its Function's forward makes, without building a node)."""
    return is_grad_enabled() and (input.requires_grad or (isinstance(other, Tensor) and other.requires_grad))


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
    if not _records(input, other):
        return binary_forward("add", input, other, alpha=alpha)
    return elementwise.Add.apply(input, other, alpha)


def _is_bool(value) -> bool:
    return value.dtype == torch.bool if isinstance(value, Tensor) else isinstance(value, bool)


def _check_bool_subtraction(input, other) -> None:
    """torch refuses a subtraction with a bool operand (tensor or Python bool) on either side."""
    if _is_bool(input) and _is_bool(other):
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if _is_bool(input) or _is_bool(other):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def sub(input, other, *, alpha=None, out=None):
    """input - alpha * other."""
    input, other = _operands("sub", input, other)
    _check_bool_subtraction(input, other)
    if not isinstance(input, Tensor):
        return rsub(other, input)
    if out is not None:
        return _binary_out("sub", input, other, out, alpha=alpha)
    if not _records(input, other):
        return binary_forward("sub", input, other, alpha=alpha)
    return elementwise.Sub.apply(input, other, alpha)


subtract = sub


def rsub(input, other, *, alpha=1):
    """other - alpha * input (``number - tensor`` is rsub(tensor, number))."""
    if not isinstance(input, Tensor):  # (torch has no number-first rsub)
        given = ", ".join(python_type_name(value) for value in (input, other))
        raise TypeError(f"rsub() received an invalid combination of arguments - got ({given}), but expected one of:")
    _check_bool_subtraction(input, other)
    if not (type(alpha) is int and alpha == 1):  # (checked as add's alpha, for the result's dtype)
        input = mul(input, alpha_as(alpha, result_type(input, other)))
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        return elementwise.RsubTensors.apply(input, other)
    return elementwise.Rsub.apply(input, _as_tensor_operand("rsub", other))


def mul(input, other, *, out=None):
    """input * other."""
    input, other = _operands("mul", input, other)
    if out is not None:
        return _binary_out("mul", input, other, out)
    if not isinstance(input, Tensor):
        input, other = other, input
    if not _records(input, other):
        return binary_forward("mul", input, other)
    return elementwise.Mul.apply(input, other)


multiply = mul


_ROUNDED_DIVISIONS = {None: "div", "floor": "floor_divide", "trunc": "trunc_divide"}


def _division_op(rounding_mode) -> str:
    """The kernel op of ``div(..., rounding_mode=...)``."""
    if rounding_mode not in _ROUNDED_DIVISIONS:
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
        )
    return _ROUNDED_DIVISIONS[rounding_mode]


def div(input, other, *, rounding_mode=None, out=None):
    """True division (``rounding_mode='floor'`` or ``'trunc'`` for rounded quotients)."""
    input, other = _operands("div", input, other)
    op = _division_op(rounding_mode)
    if out is not None:
        return _binary_out(op, input, other, out)
    if rounding_mode is not None and _any_records(input, other):
        return RoundedDivision.apply(input, other, op)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        return binary_forward("trunc_divide", input, other)
    if isinstance(input, Tensor) and not _records(input, other):
        return binary_forward("div", input, other)
    return elementwise.Div.apply(input, other)


divide = true_divide = div


def floor_divide(input, other, *, out=None):
    """Floor of the quotient (not differentiable, like torch)."""
    input, other = _operands("floor_divide", input, other)
    if out is not None:
        return _binary_out("floor_divide", input, other, out)
    if _any_records(input, other):
        return FloorDivide.apply(input, other)
    return binary_forward("floor_divide", input, other)


def _any_records(input, other) -> bool:
    """_records for operands of which either may be a number."""
    return is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad for t in (input, other))


class RoundedDivision(Function):
    """div(..., rounding_mode='floor' or 'trunc') of operands that require grad: a step function of
    both, so their gradients are zeros, as torch's (DivBackward2)."""

    _backward_name = "DivBackward2"
    _number_operands = (0, 1)  # (a number operand is an input, as torch's wrapped number)

    @staticmethod
    def forward(ctx, input, other, op):
        ctx.layouts = [
            (tuple(t.shape), t.dtype, t.device) if isinstance(t, Tensor) and t.requires_grad else None
            for t in (input, other)
        ]
        return binary_forward(op, input, other)

    @staticmethod
    def backward(ctx, grad):
        grad_input, grad_other = (
            None if layout is None else creation.zeros(layout[0], dtype=layout[1], device=layout[2])
            for layout in ctx.layouts
        )
        return grad_input, grad_other, None


class FloorDivide(Function):
    """floor_divide (and ``//``) of operands that require grad: the result requires grad, but
    torch has no derivative for it, so backward raises torch's error."""

    _backward_name = "NotImplemented"

    @staticmethod
    def forward(ctx, input, other):
        return binary_forward("floor_divide", input, other)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


def remainder(input, other, *, out=None):
    """Python-style modulus: the result has the sign of ``other``."""
    input, other = _operands("remainder", input, other)
    if out is not None:
        return _binary_out("remainder", input, other, out)
    return _with_operand_name(elementwise.Remainder, other).apply(input, other)


def fmod(input, other, *, out=None):
    """C-style modulus: the result has the sign of ``input`` (integer inputs stay integers)."""
    input, other = _operands("fmod", input, other)
    if out is not None:
        return _binary_out("fmod", input, other, out)
    return _with_operand_name(elementwise.Fmod, other).apply(input, other)


_NAMED_BY_OPERAND: dict = {}


def _with_operand_name(function, other):
    """``function`` named as torch names it for a number (``...Backward0``) or a tensor (``...Backward1``) operand."""
    overload = 1 if isinstance(other, Tensor) else 0
    key = (function, overload)
    if key not in _NAMED_BY_OPERAND:
        name = f"{function.__name__}Backward{overload}"
        _NAMED_BY_OPERAND[key] = type(f"{function.__name__}_{overload}", (function,), {"_backward_name": name})
    return _NAMED_BY_OPERAND[key]


@autocast_op("pow")
def pow(input, exponent, *, out=None):
    """input ** exponent for tensors and numbers on either side. ``out=``: any dtype the result casts to."""
    input, exponent = as_python_scalar(input), as_python_scalar(exponent)
    if out is not None:
        tensors = [t for t in (input, exponent) if isinstance(t, Tensor)]
        check_no_grad("pow", out, *tensors)
        return write_out("pow", out, pow(input, exponent), *tensors, rule="castable", overlap=True)
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
    if condition.dtype == torch.uint8:  # (torch still takes a byte mask, with a warning)
        warnings.warn(
            "where received a uint8 condition tensor. This behavior is deprecated and will be removed in a future "
            "version of PyTorch. Use a boolean condition instead.",
            UserWarning,
            stacklevel=2,
        )
        condition = condition.to(torch.bool)
    if condition.dtype != torch.bool:
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype {condition.dtype}"
        )
    input, other = as_python_scalar(input), as_python_scalar(other)
    if out is not None:
        # torch's overload with out= takes tensors only (a number is for the out-of-place forms).
        for position, (name, value) in enumerate((("input", input), ("other", other)), start=2):
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"where(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__}"
                )
        shape = broadcast_shapes(*[tuple(t.shape) for t in (condition, input, other) if isinstance(t, Tensor)])
        check_out("where", out, result_type(input, other), shape, condition, input, other)
        return finish_out(elementwise.where_forward(condition, input, other, out=out))
    return elementwise.Where.apply(condition, input, other)


def clamp(input, min=None, max=None, *, out=None):  # noqa: F811 (torch's argument names)
    """Limits values to [min, max]; bounds may be numbers or tensors; ``out=`` writes into a tensor."""
    min, max = as_python_scalar(min), as_python_scalar(max)
    if isinstance(input, Tensor):
        elementwise.refuse_complex_clamp(input, min, max)
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


def clamp_min(input, min, *, out=None):  # noqa: F811
    if isinstance(input, Tensor):
        elementwise.refuse_complex_clamp(input, as_python_scalar(min), None, single_bound=True)
    if out is not None:
        return elementwise.clamp_out(input, as_python_scalar(min), None, out, op="clamp_min")
    return clamp(input, min=min)


def clamp_max(input, max, *, out=None):  # noqa: F811
    if isinstance(input, Tensor):
        elementwise.refuse_complex_clamp(input, None, as_python_scalar(max), single_bound=True)
    if out is not None:
        return elementwise.clamp_out(input, None, as_python_scalar(max), out, op="clamp_max")
    return clamp(input, max=max)


def clamp_min_(input, min):  # noqa: F811
    elementwise.refuse_complex_clamp(input, as_python_scalar(min), None, single_bound=True)
    return input.clamp_(min=min)


def clamp_max_(input, max):  # noqa: F811
    elementwise.refuse_complex_clamp(input, None, as_python_scalar(max), single_bound=True)
    return input.clamp_(max=max)


def _full_like(x, value):
    return creation.full((), value, dtype=x.dtype, device=x.device)


def _comparison(op):
    def compare(input, other, *, out=None):
        if out is not None:
            return _binary_out(op, *_operands(op, input, other), out)
        return binary_forward(op, *_operands(op, input, other))

    compare.__name__ = op
    compare.__doc__ = f"Elementwise ``{op}`` comparison; a bool tensor (``out=``: any dtype, as 1 and 0)."
    return compare


_BOOLEAN_RESULTS = frozenset((*_COMPARISONS, "logical_and", "logical_or", "logical_xor"))


eq, ne, lt, le, gt, ge = (_comparison(op) for op in _COMPARISONS)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_and = _comparison("logical_and")
logical_or = _comparison("logical_or")
logical_xor = _comparison("logical_xor")


def equal(input, other) -> bool:
    """True if both tensors have the same shape and elements."""
    return tuple(input.shape) == tuple(other.shape) and bool(eq(input, other).all())


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Where ``input == other`` (equal infinities too), or ``|input - other|`` is finite and at most
    ``atol + rtol * |other|`` (integers compared in the default float dtype), as torch's."""
    if input.dtype != other.dtype:
        raise RuntimeError(f"{dtype_word(input.dtype)} did not match {dtype_word(other.dtype)}")
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {value}")
    close = eq(input, other)
    if equal_nan and input.dtype.is_floating_point:
        close = logical_or(close, logical_and(isnan(input), isnan(other)))
    if (rtol == 0 and atol == 0) or input.dtype == torch.bool:
        return close
    if not input.dtype.is_floating_point:
        input, other = input.to(get_default_dtype()), other.to(get_default_dtype())
    actual = (input - other).abs()
    within = logical_and(actual.isfinite(), actual <= atol + (rtol * other).abs())
    return logical_or(close, within)


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """``isclose`` everywhere."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def _nowhere(like: Tensor) -> Tensor:
    """An all-False mask shaped like ``like``: where(_nowhere(s), s, v) records "replaced by v"."""
    return creation.zeros(tuple(like.shape), dtype=torch.bool, device=like.device)


class Fill(Function):
    """self replaced by a number: no gradient reaches self (torch's FillBackward2)."""

    _backward_name = "FillBackward2"

    @staticmethod
    def forward(ctx, input, value):
        out = torch.empty_like(input._data)
        if isinstance(value, Tensor):  # (broadcast from its one element by a copy kernel: no host read)
            elementwise_kernels.launch_unary("copy", value._data.expand(out.shape), out=out)
        else:
            creation_kernels.launch_fill_(out, value)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        return creation.zeros_like(grad), None


class Zero(Fill):
    _backward_name = "ZeroBackward0"


class FillTensor(Fill):
    """self replaced by a 0-d tensor's value, which takes the sum of the gradient (FillBackward3)."""

    _backward_name = "FillBackward3"

    @staticmethod
    def backward(ctx, grad):
        return creation.zeros_like(grad), grad.sum()


def _fill_(self, value, node: type[Fill]) -> Tensor:
    """fill_ and zero_: ``value`` checked and converted as torch's, then written (recorded as ``node``)."""
    value_requires_grad = False
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} dimensions."
            )
        value_requires_grad = value.requires_grad
        check_writable(self._data)  # (a number fills an expanded tensor; a tensor value is refused there)
    check_inplace(self)
    if not isinstance(value, Tensor):
        value = as_python_scalar(value)
        if not isinstance(value, _NUMBER_TYPES):
            if not isinstance(value, complex):
                raise TypeError(f"fill_(): argument 'value' must be Number, not {type(value).__name__}")
            value = complex_scalar_as(value, self.dtype)
        else:
            value = fill_scalar_as(value, self.dtype, self.numel())  # (torch's Scalar.to<T>())
    if is_grad_enabled() and (self.requires_grad or value_requires_grad):
        # (recorded as torch's node: a zero gradient to s, none of its infs or NaNs in the result)
        fill = value.to(self.dtype) if isinstance(value, Tensor) else value
        return apply_inplace(self, lambda s: node.apply(s, fill), lambda: None, value)
    if isinstance(value, Tensor):  # (converted as a copy converts: no overflow check, as torch's)
        value = value.to(self.dtype).item()
    creation_kernels.launch_fill_(self._data, value)
    self._version_counter.bump()
    return self


class InplaceMethods:
    """Tensor's in-place arithmetic and writes (attached to Tensor below), through apply_inplace."""

    def add_(self, other, *, alpha=None) -> Tensor:
        return apply_inplace(
            self,
            lambda s: add(s, other, alpha=alpha),
            lambda: elementwise.binary_forward("add", self, other, alpha=alpha, out=self),
            other,
        )

    def sub_(self, other, *, alpha=None) -> Tensor:
        _check_bool_subtraction(self, other)
        return apply_inplace(
            self,
            lambda s: sub(s, other, alpha=alpha),
            lambda: elementwise.binary_forward("sub", self, other, alpha=alpha, out=self),
            other,
        )

    def mul_(self, other) -> Tensor:
        return apply_inplace(
            self, lambda s: mul(s, other), lambda: elementwise.binary_forward("mul", self, other, out=self), other
        )

    def div_(self, other, *, rounding_mode=None) -> Tensor:
        op = _division_op(rounding_mode)
        return apply_inplace(
            self,
            lambda s: div(s, other, rounding_mode=rounding_mode),
            lambda: elementwise.binary_forward(op, self, other, out=self),
            other,
        )

    def floor_divide_(self, other) -> Tensor:
        return apply_inplace(
            self,
            lambda s: floor_divide(s, other),
            lambda: elementwise.binary_forward("floor_divide", self, other, out=self),
            other,
        )

    def remainder_(self, other) -> Tensor:
        return apply_inplace(
            self,
            lambda s: remainder(s, other),
            lambda: elementwise.binary_forward("remainder", self, other, out=self),
            other,
        )

    def fmod_(self, other) -> Tensor:
        return apply_inplace(
            self, lambda s: fmod(s, other), lambda: elementwise.binary_forward("fmod", self, other, out=self), other
        )

    multiply_ = mul_
    subtract_ = sub_
    divide_ = true_divide_ = div_

    # ``x //= y``, ``x %= y`` and ``x **= y`` write into x, as torch's (without these Python would
    # rebind x to a new tensor, and views of x would not see the result).
    __ifloordiv__ = floor_divide_
    __imod__ = remainder_

    def pow_(self, exponent) -> Tensor:
        return apply_inplace(
            self,
            lambda s: pow(s, exponent),
            lambda: (
                elementwise.binary_forward("pow", self, exponent, out=self)
                if isinstance(exponent, Tensor)
                else elementwise.pow_forward(self, as_python_scalar(exponent), out=self)
            ),
            exponent,
        )

    def clamp_(self, min=None, max=None) -> Tensor:
        min, max = as_python_scalar(min), as_python_scalar(max)
        elementwise.refuse_complex_clamp(self, min, max)
        elementwise.check_clamp_inplace(self, min, max)
        return apply_inplace(
            self, lambda s: clamp(s, min, max), lambda: elementwise.clamp_forward(self, min, max, out=self)
        )

    clip_ = clamp_

    def __ipow__(self, exponent) -> Tensor:
        return self.pow_(exponent)

    def zero_(self) -> Tensor:
        """Fills with zeros in place."""
        return _fill_(self, 0, Zero)

    def fill_(self, value) -> Tensor:
        """Fills with ``value`` (a number or a 0-dim tensor, whose gradient is the sum of self's) in place."""
        return _fill_(self, value, FillTensor if isinstance(value, Tensor) else Fill)

    def copy_(self, source: Tensor, non_blocking: bool = False) -> Tensor:
        """Copies ``source`` (broadcast to self's shape, converted to self's dtype) into self; a number
        is copied as the 0-d tensor torch makes of it. ``non_blocking`` is accepted as torch's (a copy
        within one device is ordered on its stream either way)."""
        number = as_python_scalar(source)
        if isinstance(number, (bool, int, float, complex)):
            source = creation.tensor(number, device=self.device)
        if not isinstance(source, Tensor):
            raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(source).__name__}")
        data = source._data
        if data.device != self.device:
            data = data.to(self.device)
        elif _same_memory(self._data, data) and not (is_grad_enabled() and source.requires_grad):
            self._version_counter.bump()  # (torch returns at once when source is self's very memory)
            return self
        else:  # (before the broadcast: an expanded source is not checked, x.copy_(x[0]) would pass)
            check_no_partial_overlap(self._data, data)
        expanded = data.expand(self.shape) if tuple(data.shape) != tuple(self.shape) else data
        # As torch's: a copy into an integer or bool tensor is not differentiable, so a source that
        # requires grad does not make self require grad (other in-place writes do; see apply_inplace).
        return apply_inplace(
            self,
            lambda s: where(_nowhere(s), s, source.to(self.dtype).expand(self.shape)),
            lambda: elementwise_kernels.launch_unary("copy", expanded, out=self._data),
            source if self.dtype.is_floating_point else None,
        )


def _same_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether two buffers are one layout of the same memory (torch's ``is_same`` test in copy_)."""
    return (
        a.data_ptr() == b.data_ptr()
        and a.dtype == b.dtype
        and tuple(a.shape) == tuple(b.shape)
        and tuple(a.stride()) == tuple(b.stride())
    )


TENSOR_METHODS = [name for name in __all__ if name not in ("rsub", "where")]
attach_methods({name: globals()[name] for name in TENSOR_METHODS})
attach_methods(InplaceMethods)


def _where_method(self, condition, other):
    """``x.where(condition, y)`` is ``where(condition, x, y)``."""
    return where(condition, self, other)


attach_methods({"where": _where_method})


class _ComparedInPlace(Function):
    """``x.lt_(y)`` recorded (x requires grad): the comparison's result as x's dtype, whose gradient
    is zero for x and for a tensor y (torch's formula for the in-place comparisons). A subclass per
    op and overload carries torch's node name (``LtBackward0`` for a number y, ``...1`` for a tensor)."""

    @staticmethod
    def forward(ctx, x, other, op):
        ctx.other_needs_grad = isinstance(other, Tensor) and other.requires_grad
        return globals()[op](x, other).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        zeros = creation.zeros_like(grad)
        return zeros, (zeros if ctx.other_needs_grad else None), None


_COMPARED_IN_PLACE: dict[tuple[str, int], type[_ComparedInPlace]] = {}


def _compared_in_place(op: str, x: Tensor, other) -> Tensor:
    overload = int(isinstance(other, Tensor))
    node = _COMPARED_IN_PLACE.get((op, overload))
    if node is None:
        name = torch_node_name(op, overload)
        node = _COMPARED_IN_PLACE[(op, overload)] = type(name, (_ComparedInPlace,), {"_backward_name": name})
    return node.apply(x, other, op)


def _comparison_inplace(op: str):
    """``x.lt_(y)`` and the other in-place comparisons and logical ops: the bool result written into x
    as x's dtype (1 or 0), as torch's. A comparison is recorded with a zero gradient; a logical op is
    not seen by autograd at all (torch has no autograd kernel for them)."""

    def method(self, other) -> Tensor:
        if op.startswith("logical_"):
            return apply_untracked(self, lambda: elementwise.binary_forward(op, self, other, out=self))
        return apply_inplace(
            self,
            lambda s: _compared_in_place(op, s, other),
            lambda: elementwise.binary_forward(op, self, other, out=self),
            other,
        )

    method.__name__ = method.__qualname__ = f"{op}_"
    return method


INPLACE_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor")
attach_methods({f"{op}_": _comparison_inplace(op) for op in INPLACE_COMPARISONS})
attach_methods({"greater_": _comparison_inplace("gt"), "greater_equal_": _comparison_inplace("ge"),
                "less_": _comparison_inplace("lt"), "less_equal_": _comparison_inplace("le"),
                "not_equal_": _comparison_inplace("ne")})  # fmt: skip
