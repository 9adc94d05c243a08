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


def _operand(value):
    """The other operand of an operator: numpy scalars and 0-d arrays become Python numbers, numpy
    arrays become tensors (as torch ingests them); anything else is left to the op to check."""
    if type(value) in _PLAIN_OPERANDS:
        return value
    value = as_python_scalar(value)
    if isinstance(value, np.ndarray):
        return creation.tensor(value)
    return value


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
    """``self <op> other``: an array goes the numpy way (see the module docstring)."""
    if isinstance(other, np.ndarray):
        return _with_array(self, other, op)
    return op(self, _operand(other))


class OperatorMethods:
    """The operators (attached to Tensor below)."""

    def __add__(self, other):
        return _binary(add, self, other)

    def __radd__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return add(self, other)

    def __sub__(self, other):
        return _binary(sub, self, other)

    def __rsub__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return rsub(self, other)

    def __mul__(self, other):
        return _binary(mul, self, other)

    def __rmul__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return mul(self, other)

    def __truediv__(self, other):
        return _binary(div, self, other)

    def __rtruediv__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        # torch computes number / tensor as tensor.reciprocal() * number (MulBackward0).
        return mul(reciprocal(self), other)

    def __floordiv__(self, other):
        return _binary(floor_divide, self, other)

    def __rfloordiv__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return floor_divide(other, self)

    def __mod__(self, other):
        return _binary(remainder, self, other)

    def __rmod__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return remainder(other, self)

    def __pow__(self, other):
        return _binary(pow, self, other)

    def __rpow__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return pow(other, self)

    def __matmul__(self, other):
        return _binary(matmul, self, other)

    def __rmatmul__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
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
        return _binary(bitwise_and, self, other)

    def __or__(self, other):
        return _binary(bitwise_or, self, other)

    def __xor__(self, other):
        return _binary(bitwise_xor, self, other)

    def __rand__(self, other):
        if isinstance(other, np.ndarray):
            return NotImplemented
        return bitwise_and(self, _operand(other))

    def __ror__(self, other):
        if isinstance(other, np.ndarray):
            return NotImplemented
        return bitwise_or(self, _operand(other))

    def __rxor__(self, other):
        if isinstance(other, np.ndarray):
            return NotImplemented
        return bitwise_xor(self, _operand(other))

    def __lshift__(self, other):
        return _binary(bitwise_left_shift, self, other)

    def __rshift__(self, other):
        return _binary(bitwise_right_shift, self, other)

    def __rlshift__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        return bitwise_left_shift(_operand(other), self)

    def __rrshift__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        return bitwise_right_shift(_operand(other), self)

    def __iand__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        return self.bitwise_and_(_operand(other))

    def __ior__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        return self.bitwise_or_(_operand(other))

    def __ixor__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        return self.bitwise_xor_(_operand(other))

    def __ilshift__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        return self.bitwise_left_shift_(_operand(other))

    def __irshift__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
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
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return lt(self, other)

    def __le__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return le(self, other)

    def __gt__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return gt(self, other)

    def __ge__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return ge(self, other)

    def __iadd__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return self.add_(other)

    def __isub__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return self.sub_(other)

    def __imul__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return self.mul_(other)

    def __itruediv__(self, other):
        if isinstance(other, np.ndarray):  # (declined: numpy or Python decide, as with torch)
            return NotImplemented
        other = _operand(other)
        return self.div_(other)


attach_methods(OperatorMethods)
