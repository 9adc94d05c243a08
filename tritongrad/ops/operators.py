"""Python's operators on Tensor (``a + b``, ``2 * x``, ``x @ w``, ``x < 0``, ``x += 1``, ...), each the
functional op torch's operator is: ``a + b`` is ``add(a, b)``, ``1 / x`` is ``reciprocal(x) * 1``
(MulBackward0, as torch records it), ``a & b`` is ``bitwise_and(a, b)`` (integers and bools; for bools
that is the logical and), ``~x`` is ``bitwise_not(x)``.

Numpy scalars and 0-d arrays on the other side are Python numbers, and numpy arrays are tensors,
as torch ingests them (``np.float64(2) * t`` reaches ``__rmul__`` because Tensor's
``__array_priority__`` is above numpy's).
"""

from __future__ import annotations

import numpy as np

from tritongrad import creation
from tritongrad.dtypes import as_python_scalar
from tritongrad.ops.arithmetic import (
    add,
    div,
    eq,
    floor_divide,
    ge,
    gt,
    le,
    lt,
    mul,
    ne,
    pow,
    remainder,
    rsub,
    sub,
)
from tritongrad.ops.elementwise import FUNCTIONS as ELEMENTWISE
from tritongrad.ops.linalg import matmul
from tritongrad.tensor import Tensor, attach_methods

__all__ = ["OperatorMethods"]

absolute, neg, reciprocal = (ELEMENTWISE[name] for name in ("abs", "neg", "reciprocal"))
bitwise_and, bitwise_or, bitwise_xor, bitwise_not, bitwise_left_shift, bitwise_right_shift = (
    ELEMENTWISE[f"bitwise_{name}"] for name in ("and", "or", "xor", "not", "left_shift", "right_shift")
)


_PLAIN_OPERANDS = (Tensor, int, float, bool)


def _operand(value):
    """The other operand of an operator: numpy scalars and 0-d arrays become Python numbers, numpy
    arrays become tensors (as torch ingests them); anything else is left to the op to check."""
    if type(value) in _PLAIN_OPERANDS:
        return value
    value = as_python_scalar(value)
    if isinstance(value, np.ndarray):
        return creation.tensor(value)
    return value


class OperatorMethods:
    """The operators (attached to Tensor below)."""

    def __add__(self, other):
        other = _operand(other)
        return add(self, other)

    def __radd__(self, other):
        other = _operand(other)
        return add(self, other)

    def __sub__(self, other):
        other = _operand(other)
        return sub(self, other)

    def __rsub__(self, other):
        other = _operand(other)
        return rsub(self, other)

    def __mul__(self, other):
        other = _operand(other)
        return mul(self, other)

    def __rmul__(self, other):
        other = _operand(other)
        return mul(self, other)

    def __truediv__(self, other):
        other = _operand(other)
        return div(self, other)

    def __rtruediv__(self, other):
        other = _operand(other)
        # torch computes number / tensor as tensor.reciprocal() * number (MulBackward0).
        return mul(reciprocal(self), other)

    def __floordiv__(self, other):
        other = _operand(other)
        return floor_divide(self, other)

    def __rfloordiv__(self, other):
        other = _operand(other)
        return floor_divide(other, self)

    def __mod__(self, other):
        other = _operand(other)
        return remainder(self, other)

    def __rmod__(self, other):
        other = _operand(other)
        return remainder(other, self)

    def __pow__(self, other):
        other = _operand(other)
        return pow(self, other)

    def __rpow__(self, other):
        other = _operand(other)
        return pow(other, self)

    def __matmul__(self, other):
        other = _operand(other)
        return matmul(self, other)

    def __rmatmul__(self, other):
        other = _operand(other)
        return matmul(other, self)

    def __neg__(self):
        return neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return absolute(self)

    def __invert__(self):
        if self.dtype.is_floating_point:
            raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
        return bitwise_not(self)

    def __and__(self, other):
        return bitwise_and(self, _operand(other))

    def __or__(self, other):
        return bitwise_or(self, _operand(other))

    def __xor__(self, other):
        return bitwise_xor(self, _operand(other))

    __rand__ = __and__
    __ror__ = __or__
    __rxor__ = __xor__

    def __lshift__(self, other):
        return bitwise_left_shift(self, _operand(other))

    def __rshift__(self, other):
        return bitwise_right_shift(self, _operand(other))

    def __rlshift__(self, other):
        return bitwise_left_shift(_operand(other), self)

    def __rrshift__(self, other):
        return bitwise_right_shift(_operand(other), self)

    def __iand__(self, other):
        return self.bitwise_and_(_operand(other))

    def __ior__(self, other):
        return self.bitwise_or_(_operand(other))

    def __ixor__(self, other):
        return self.bitwise_xor_(_operand(other))

    def __ilshift__(self, other):
        return self.bitwise_left_shift_(_operand(other))

    def __irshift__(self, other):
        return self.bitwise_right_shift_(_operand(other))

    def __eq__(self, other):
        if other is None:  # (torch's: ``mask == None`` is False, a Python bool)
            return False
        other = _operand(other)
        return eq(self, other)

    def __ne__(self, other):
        if other is None:
            return True
        other = _operand(other)
        return ne(self, other)

    def __lt__(self, other):
        other = _operand(other)
        return lt(self, other)

    def __le__(self, other):
        other = _operand(other)
        return le(self, other)

    def __gt__(self, other):
        other = _operand(other)
        return gt(self, other)

    def __ge__(self, other):
        other = _operand(other)
        return ge(self, other)

    def __iadd__(self, other):
        other = _operand(other)
        return self.add_(other)

    def __isub__(self, other):
        other = _operand(other)
        return self.sub_(other)

    def __imul__(self, other):
        other = _operand(other)
        return self.mul_(other)

    def __itruediv__(self, other):
        other = _operand(other)
        return self.div_(other)


attach_methods(OperatorMethods)
