"""torch's ``_foreach_*`` functions: one op over a list of tensors (EMA updates, hand-written optimizers
and gradient clipping call them directly: ``torch._foreach_lerp_(ema, params, 1 - decay)``).

Each is the single-tensor op applied to every tensor of the list, so its dtype promotion, its errors
and its autograd are that op's. The second operand takes torch's overloads: a number, one number per
tensor, a list of tensors, or one 0-d tensor. An out-of-place call returns a tuple, an in-place call
the list it was given, as torch's. (torch fuses a list into few multi-tensor launches; these loop.
tritongrad's optimizers have their own multi-tensor kernels.)

Every function is made from one line of the tables below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Number

from tritongrad import ops
from tritongrad.linalg import vector_norm
from tritongrad.tensor import Tensor

# _foreach_<name>(tensors) and _foreach_<name>_(tensors): the Tensor method of that name.
UNARY = ("abs acos asin atan ceil cos cosh erf erfc exp expm1 floor frac lgamma log log10 log1p log2 neg "
         "reciprocal round rsqrt sigmoid sign sin sinh sqrt tan tanh trunc").split()  # fmt: skip

# _foreach_<name>(tensors, other): (out-of-place op, in-place op) of a tensor and one operand.
BINARY: dict[str, tuple[Callable, Callable]] = {
    "add": (Tensor.add, Tensor.add_),
    "sub": (Tensor.sub, Tensor.sub_),
    "mul": (Tensor.mul, Tensor.mul_),
    "div": (Tensor.div, Tensor.div_),
    "pow": (Tensor.pow, Tensor.pow_),
    "clamp_min": (Tensor.clamp_min, Tensor.clamp_min_),
    "clamp_max": (Tensor.clamp_max, Tensor.clamp_max_),
    # (with a number, torch's foreach maximum/minimum are clamp_min/clamp_max; a tensor has no in-place
    # maximum_, so the in-place form writes the result back)
    "maximum": (
        lambda x, y: ops.maximum(x, y) if isinstance(y, Tensor) else x.clamp_min(y),
        lambda x, y: x.copy_(ops.maximum(x, y)) if isinstance(y, Tensor) else x.clamp_min_(y),
    ),
    "minimum": (
        lambda x, y: ops.minimum(x, y) if isinstance(y, Tensor) else x.clamp_max(y),
        lambda x, y: x.copy_(ops.minimum(x, y)) if isinstance(y, Tensor) else x.clamp_max_(y),
    ),
}
# alpha= with a list of tensors, or with one tensor for add: torch's overloads that take it
_TAKES_ALPHA = {"add": (list, tuple, Tensor), "sub": (list, tuple)}

# _foreach_<name>(tensors, first, second, value): addcmul/addcdiv with one scale per tensor.
TERNARY = {"addcmul": (Tensor.addcmul, Tensor.addcmul_), "addcdiv": (Tensor.addcdiv, Tensor.addcdiv_)}


def _tensor_list(name: str, tensors) -> list:
    if not isinstance(tensors, (list, tuple)) or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"{name}(): argument 'self' must be tuple of Tensors, not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError("Tensor list must have at least one tensor.")
    return list(tensors)


def _operands(name: str, tensors: Sequence[Tensor], other) -> list:
    """``other`` spread over the list by torch's overloads: one per tensor."""
    count = len(tensors)
    if isinstance(other, Tensor):
        if other.dim() != 0:
            raise RuntimeError(
                f"scalar tensor expected to be 0 dim but it has {other.dim()} dimensions and {other.numel()} elements."
            )
        return [other] * count
    if isinstance(other, (list, tuple)):
        if other and all(isinstance(o, Tensor) for o in other):
            if len(other) != count:
                raise RuntimeError(f"Tensor lists must have the same number of tensors, got {count} and {len(other)}")
            return list(other)
        if not all(isinstance(o, Number) for o in other):
            raise TypeError(f"{name}(): expected a tuple of Tensors or a tuple of Scalars as the second argument")
        if len(other) != count:
            raise RuntimeError("Tensor list must have same number of elements as scalar list.")
        return list(other)
    if isinstance(other, Number):
        return [other] * count
    raise TypeError(
        f"{name}() received an invalid combination of arguments - got (list, {type(other).__name__}), but expected "
        "a Number, a tuple of Scalars, a tuple of Tensors or a Tensor"
    )


def _scales(tensors: Sequence[Tensor], value) -> list:
    """addcmul/addcdiv's ``value``: a number, a list of numbers, or a 1-d tensor of them (read on the host,
    as torch's scalar-list overload reads it)."""
    if isinstance(value, Tensor):
        if value.dim() != 1 or value.numel() != len(tensors):
            raise RuntimeError(
                f"Expected scalars to be a 1-d tensor of {len(tensors)} elements, got shape {list(value.shape)}"
            )
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if len(value) != len(tensors):
            raise RuntimeError("Tensor list must have same number of elements as scalar list.")
        return list(value)
    return [value] * len(tensors)


def _unary(method: str, inplace: bool) -> Callable:
    name = f"_foreach_{method}{'_' if inplace else ''}"

    def function(self):
        tensors = _tensor_list(name, self)
        if inplace:
            for tensor in tensors:
                getattr(tensor, method + "_")()
            return self
        return tuple(getattr(tensor, method)() for tensor in tensors)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{method}`` of every tensor of the list{' (in place)' if inplace else ''}."
    return function


def _binary(method: str, op: Callable, inplace: bool) -> Callable:
    name = f"_foreach_{method}{'_' if inplace else ''}"

    def function(self, other, **options):
        tensors = _tensor_list(name, self)
        if options and (set(options) != {"alpha"} or not isinstance(other, _TAKES_ALPHA.get(method, ()))):
            raise TypeError(
                f"{name}() received an invalid combination of arguments - got (list, {type(other).__name__}, "
                + ", ".join(f"{k}={type(v).__name__}" for k, v in options.items())
                + ")"
            )
        results = [op(x, y, **options) for x, y in zip(tensors, _operands(name, tensors, other))]
        return self if inplace else tuple(results)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{method}`` of every tensor of the list and its operand{' (in place)' if inplace else ''}."
    return function


def _ternary(method: str, op: Callable, inplace: bool) -> Callable:
    name = f"_foreach_{method}{'_' if inplace else ''}"

    def function(self, tensor1, tensor2, value=1):
        tensors = _tensor_list(name, self)
        firsts, seconds = _operands(name, tensors, list(tensor1)), _operands(name, tensors, list(tensor2))
        results = [op(x, a, b, value=v) for x, a, b, v in zip(tensors, firsts, seconds, _scales(tensors, value))]
        return self if inplace else tuple(results)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{method}`` over the three lists, one scale per tensor{' (in place)' if inplace else ''}."
    return function


def _foreach_lerp(self, tensors1, weight):
    """``lerp`` of every tensor toward its end, by a number, one number per tensor, or one tensor each."""
    tensors = _tensor_list("_foreach_lerp", self)
    ends, weights = _operands("_foreach_lerp", tensors, list(tensors1)), _operands("_foreach_lerp", tensors, weight)
    return tuple(x.lerp(end, w) for x, end, w in zip(tensors, ends, weights))


def _foreach_lerp_(self, tensors1, weight):
    """In-place ``_foreach_lerp``."""
    tensors = _tensor_list("_foreach_lerp_", self)
    ends, weights = _operands("_foreach_lerp_", tensors, list(tensors1)), _operands("_foreach_lerp_", tensors, weight)
    for x, end, w in zip(tensors, ends, weights):
        x.lerp_(end, w)
    return self


def _foreach_norm(self, ord=2, dtype=None):  # noqa: A002 (torch's argument name)
    """The vector norm of every tensor of the list (0-d tensors)."""
    return tuple(vector_norm(x, ord, dtype=dtype) for x in _tensor_list("_foreach_norm", self))


def _foreach_max(self):
    """The largest element of every tensor of the list (0-d tensors)."""
    tensors = _tensor_list("_foreach_max", self)
    if any(x.numel() == 0 for x in tensors):
        raise RuntimeError(
            "_foreach_max cannot compute the maximum of an empty tensor; max over zero elements is undefined."
        )
    return tuple(x.max() for x in tensors)


def _foreach_powsum(self, ord=2, dtype=None):  # noqa: A002 (torch's argument name)
    """``sum(|x| ** ord)`` of every tensor of the list (0-d tensors)."""
    return tuple(x.abs().pow(ord).sum(dtype=dtype) for x in _tensor_list("_foreach_powsum", self))


def _foreach_clone(self):
    """A copy of every tensor of the list."""
    return tuple(x.clone() for x in _tensor_list("_foreach_clone", self))


def _foreach_copy_(self, src, non_blocking: bool = False):
    """Copies each source tensor into its tensor of the list."""
    tensors = _tensor_list("_foreach_copy_", self)
    for x, source in zip(tensors, _operands("_foreach_copy_", tensors, list(src))):
        x.copy_(source, non_blocking=non_blocking)
    return self


def _foreach_zero_(self):
    """Fills every tensor of the list with zeros."""
    for x in _tensor_list("_foreach_zero_", self):
        x.zero_()
    return self


def _foreach_mm(self, mat2):
    """The matrix product of every matrix of the list with its partner."""
    tensors = _tensor_list("_foreach_mm", self)
    return tuple(x.mm(y) for x, y in zip(tensors, _operands("_foreach_mm", tensors, list(mat2))))


def _made_from_tables() -> dict[str, Callable]:
    made = {}
    for method in UNARY:
        for inplace in (False, True):
            function = _unary(method, inplace)
            made[function.__name__] = function
    for table, maker in ((BINARY, _binary), (TERNARY, _ternary)):
        for method, pair in table.items():
            for inplace, op in zip((False, True), pair):
                function = maker(method, op, inplace)
                made[function.__name__] = function
    return made


_MADE = _made_from_tables()
_binary_pow = _MADE.pop("_foreach_pow")


def _foreach_pow(self, exponent):
    """``pow`` of every tensor of the list by its exponent, or of a number by every tensor of the list."""
    if isinstance(self, Number):
        return tuple(ops.pow(self, x) for x in _tensor_list("_foreach_pow", exponent))
    return _binary_pow(self, exponent)


globals().update(_MADE)

__all__ = sorted(
    [*_MADE, "_foreach_pow", "_foreach_lerp", "_foreach_lerp_", "_foreach_norm", "_foreach_max", "_foreach_powsum",
     "_foreach_clone", "_foreach_copy_", "_foreach_zero_", "_foreach_mm"]
)  # fmt: skip
