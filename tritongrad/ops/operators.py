"""Python's operators on Tensor (``a + b``, ``2 * x``, ``x @ w``, ``x < 0``, ``x += 1``, ...), each the
functional op torch's operator is: ``a + b`` is ``add(a, b)``, ``1 / x`` is ``reciprocal(x) * 1``
(MulBackward0, as torch records it), ``a & b`` is ``bitwise_and(a, b)`` (integers and bools; for bools
that is the logical and), ``~x`` is ``bitwise_not(x)``.

Numpy scalars on the other side are Python numbers (``np.float64(2) * t`` reaches ``__rmul__``
because Tensor's ``__array_priority__`` is above numpy's). A numpy *array* (0-d included) is what
torch's operators decline: for ``t + a``, numpy's reflected operator then runs (torch's ``__array__``
and ``__array_wrap__``), so numpy's type rules and refusals apply, a tensor that requires grad is
refused, and ``a + t``, ``t < a`` and ``t += a`` (which falls back to ``t = t + a``) are TypeErrors or
rebindings as numpy makes them. Here numpy resolves the result dtype (its ufunc on empty operands:
no arithmetic) and tritongrad's kernel computes; ``==``/``!=`` take the array as a tensor, as torch's.

An operand that is neither a tensor, a number nor an array (a str, a list, None) is declined
(NotImplemented), as torch's operators decline what their functions refuse: ``x == "a"`` is False,
``x + "a"`` is Python's "unsupported operand type(s)" TypeError, ``[1] * x`` is the list's repeat.
"""

from __future__ import annotations

import numpy as np
import torch

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
_NUMBER_OPERANDS = (Tensor, bool, int, float, complex)


def _operand(value):
    """The other operand of an operator: numpy scalars and 0-d arrays become Python numbers, numpy
    arrays become tensors (as torch ingests them). Anything else (a str, a list, None, a Fraction)
    is NotImplemented, which the operator returns, as torch's operators decline what their functions
    refuse: Python then tries the other side's reflected operator and, failing that, raises its own
    TypeError ("unsupported operand type(s) for +") or, for ``==``/``!=``, compares identities
    (``x == "a"`` is False, so ``x in (None, "auto")`` works)."""
    if type(value) in _PLAIN_OPERANDS:
        return value
    value = as_python_scalar(value)
    if isinstance(value, np.ndarray):
        return creation.tensor(value)
    return value if isinstance(value, _NUMBER_OPERANDS) else NotImplemented


def _declining_arrays(value):
    """The other operand of a reflected or in-place operator or an ordering: ``_operand``, but a numpy
    array is declined too (numpy or Python decide, as with torch)."""
    return NotImplemented if isinstance(value, np.ndarray) else _operand(value)


# The operators numpy's reflected operator runs when torch's declines an array, as numpy's ufuncs.
_NUMPY_UFUNCS = {
    add: np.add, sub: np.subtract, mul: np.multiply, div: np.true_divide, floor_divide: np.floor_divide,
    remainder: np.remainder, pow: np.power, matmul: np.matmul, bitwise_and: np.bitwise_and,
    bitwise_or: np.bitwise_or, bitwise_xor: np.bitwise_xor, bitwise_left_shift: np.left_shift,
    bitwise_right_shift: np.right_shift,
}  # fmt: skip


def _with_array(self: Tensor, array: np.ndarray, op):
    """``self <op> array`` as torch gets it from numpy: numpy's result dtype, tritongrad's kernel."""
    if self.requires_grad:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    if self.device.type != "cpu":
        raise TypeError(
            f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host "
            "memory first."
        )
    if self.dtype == torch.bfloat16:
        raise TypeError("Got unsupported ScalarType BFloat16")
    own = np.empty(0, dtype=torch.empty(0, dtype=self.dtype).numpy().dtype)
    # (a 0-d array as it is: numpy 1 promotes it by value; an empty slice of the others)
    resolved = _NUMPY_UFUNCS[op](own, array if array.ndim == 0 else array.reshape(-1)[:0])
    result_dtype = creation.from_numpy(np.asarray(resolved)).dtype
    return op(self.to(result_dtype), creation.tensor(array, device=self.device).to(result_dtype)).to(result_dtype)


def _binary(op, self, other):
    """``self <op> other``: an array goes the numpy way (see the module docstring); NotImplemented
    for an operand torch's operator declines (``_operand``)."""
    if isinstance(other, np.ndarray):
        return _with_array(self, other, op)
    other = _operand(other)
    return NotImplemented if other is NotImplemented else op(self, other)


class OperatorMethods:
    """The operators (attached to Tensor below). Each returns NotImplemented for an operand torch's
    declines (``_operand``, ``_declining_arrays``)."""

    def __add__(self, other):
        return _binary(add, self, other)

    def __radd__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else add(self, other)

    def __sub__(self, other):
        return _binary(sub, self, other)

    def __rsub__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else rsub(self, other)

    def __mul__(self, other):
        return _binary(mul, self, other)

    def __rmul__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else mul(self, other)

    def __truediv__(self, other):
        return _binary(div, self, other)

    def __rtruediv__(self, other):
        other = _declining_arrays(other)
        # torch computes number / tensor as tensor.reciprocal() * number (MulBackward0).
        return NotImplemented if other is NotImplemented else mul(reciprocal(self), other)

    def __floordiv__(self, other):
        return _binary(floor_divide, self, other)

    def __rfloordiv__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else floor_divide(other, self)

    def __mod__(self, other):
        return _binary(remainder, self, other)

    def __rmod__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else remainder(other, self)

    def __pow__(self, other):
        return _binary(pow, self, other)

    def __rpow__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else pow(other, self)

    def __matmul__(self, other):
        if not isinstance(other, (Tensor, np.ndarray)):  # (torch's matmul takes no numbers either)
            return NotImplemented
        return _binary(matmul, self, other)

    def __rmatmul__(self, other):
        # (a number or an array on the left: declined, as with torch; a tensor there has run __matmul__)
        return matmul(other, self) if isinstance(other, Tensor) else NotImplemented

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
        return _binary(bitwise_and, self, other)

    def __or__(self, other):
        return _binary(bitwise_or, self, other)

    def __xor__(self, other):
        return _binary(bitwise_xor, self, other)

    def __rand__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else bitwise_and(self, other)

    def __ror__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else bitwise_or(self, other)

    def __rxor__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else bitwise_xor(self, other)

    def __lshift__(self, other):
        return _binary(bitwise_left_shift, self, other)

    def __rshift__(self, other):
        return _binary(bitwise_right_shift, self, other)

    def __rlshift__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else bitwise_left_shift(other, self)

    def __rrshift__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else bitwise_right_shift(other, self)

    def __iand__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else self.bitwise_and_(other)

    def __ior__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else self.bitwise_or_(other)

    def __ixor__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else self.bitwise_xor_(other)

    def __ilshift__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else self.bitwise_left_shift_(other)

    def __irshift__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else self.bitwise_right_shift_(other)

    def __eq__(self, other):
        other = _operand(other)  # (an array is a tensor here, as torch's)
        return NotImplemented if other is NotImplemented else eq(self, other)

    def __ne__(self, other):
        other = _operand(other)
        return NotImplemented if other is NotImplemented else ne(self, other)

    def __lt__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else lt(self, other)

    def __le__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else le(self, other)

    def __gt__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else gt(self, other)

    def __ge__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else ge(self, other)

    def __iadd__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else self.add_(other)

    def __isub__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else self.sub_(other)

    def __imul__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else self.mul_(other)

    def __itruediv__(self, other):
        other = _declining_arrays(other)
        return NotImplemented if other is NotImplemented else self.div_(other)

    # Python 2's names for division, which torch's Tensor still answers to
    __div__ = __truediv__
    __rdiv__ = __rtruediv__
    __idiv__ = __itruediv__


attach_methods(OperatorMethods)
