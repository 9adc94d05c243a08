"""Data movement, selection and predicates of complex tensors, by their parts.

tritongrad's kernels for moving, selecting and masking elements (flip, roll, gather, where,
masked_fill, index writes, ...) and its predicates (isnan, eq, nonzero, ...) are written for real
dtypes and refuse a complex tensor with NotImplementedError. Each of these ops is linear in the values
it moves, or reads them only through a test of each part, so on a complex tensor it is the op on the
real part and on the imaginary part, recombined (``complex(f(z.real), f(z.imag))``), or the test of
the two parts (``isnan(z) = isnan(z.real) | isnan(z.imag)``). Gradients flow through the parts' views
and ``complex()``, as any composition of tritongrad's differentiable ops.

``install`` wraps the functions and Tensor methods named in ``RULES`` once tritongrad has finished
importing (as numpy_aliases does): the wrapper calls the op, and only when it refuses a complex tensor
with NotImplementedError (or a Python complex number with TypeError) does it answer by parts, so real
tensors pay one Python call and nothing else. The logical ops (and, or, xor) read a complex operand
through its test for non-zero, and eq_/ne_ write the comparison by parts into self. An ``out=`` is
held back from the rule and receives its result under torch's rules for that op (``_OUT_RULES``).
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Iterable
from types import ModuleType

import torch

from tritongrad import creation, ops
from tritongrad.dtypes import dtype_word, type_meta_name
from tritongrad.ops.out_argument import check_no_grad, check_out_tensor, write_out
from tritongrad.tensor import Tensor

__all__ = ["install", "RULES"]


def _is_complex(value) -> bool:
    return (isinstance(value, Tensor) and value.dtype.is_complex) or isinstance(value, complex)


def _parts(value):
    """(real part, imaginary part) of a value operand: a complex tensor's views, a real floating
    tensor and zeros, a number and 0."""
    if isinstance(value, Tensor):
        if value.dtype.is_complex:
            return value.real, value.imag
        return value, creation.zeros_like(value)
    if isinstance(value, bool):  # True is 1 + 0j: the bool is the real part, False the imaginary one
        return value, False
    if isinstance(value, numbers.Number):
        value = complex(value)
        return value.real, value.imag
    return value, value


def _combine(real, imag):
    """The complex tensor of two parts. bfloat16 parts (a bfloat16 tensor with a complex number, which
    torch promotes to complex64) are widened to float32 first; float16 ones are refused by complex()
    by name (torch's complex32)."""
    if real.dtype == torch.bfloat16:
        real, imag = real.float(), imag.float()
    return ops.complex(real, imag)


def _each(function: Callable, self, *args, **kwargs):
    """An op that moves or selects elements of its one complex input."""
    return _combine(function(self.real, *args, **kwargs), function(self.imag, *args, **kwargs))


def _cumsum(function: Callable, self, *args, dtype=None, **kwargs):
    """cumsum by parts; with ``dtype=`` the input is cast to it first, as torch's (complex to real keeps
    the real part, with torch's warning; real to complex is then summed by parts)."""
    if dtype is not None:
        self = self.to(dtype)
    if not self.dtype.is_complex:
        return function(self, *args, **kwargs)
    return _each(function, self, *args, **kwargs)


def _values_at(positions: tuple[int, ...]) -> Callable:
    """An op whose arguments at ``positions`` are values (where's two branches, masked_fill's input and
    fill); the others (conditions, masks) are passed to both halves as they are."""

    def by_parts(function: Callable, *args, **kwargs):
        split = [(*_parts(a),) if i in positions else (a, a) for i, a in enumerate(args)]
        if "value" in kwargs:
            kwargs_real, kwargs_imag = dict(kwargs), dict(kwargs)
            kwargs_real["value"], kwargs_imag["value"] = _parts(kwargs["value"])
        else:
            kwargs_real = kwargs_imag = kwargs
        real = function(*[s[0] for s in split], **kwargs_real)
        imag = function(*[s[1] for s in split], **kwargs_imag)
        return _combine(real, imag)

    return by_parts


def _into_parts(function: Callable, self, *args, **kwargs):
    """An in-place op whose value (the last positional argument or ``value``) is written into each
    part of ``self`` through its views; returns ``self``."""
    if "value" in kwargs:
        real_value, imag_value = _parts(kwargs.pop("value"))
        options_real, options_imag = {**kwargs, "value": real_value}, {**kwargs, "value": imag_value}
        head_real = head_imag = args
    else:
        real_value, imag_value = _parts(args[-1])
        head_real, head_imag = (*args[:-1], real_value), (*args[:-1], imag_value)
        options_real = options_imag = kwargs
    function(self.real, *head_real, **options_real)
    function(self.imag, *head_imag, **options_imag)
    return self


def _truth(function: Callable, self, *args, **kwargs):
    """An op that reads only whether each element is non-zero (nonzero, any, all, logical_not, ...)."""
    return function((self.real != 0) | (self.imag != 0), *args, **kwargs)


def _test(combine: str) -> Callable:
    """A predicate of each element: the test of both parts, joined by ``|`` or ``&``."""

    def by_parts(function: Callable, self, *args, **kwargs):
        real, imag = function(self.real, *args, **kwargs), function(self.imag, *args, **kwargs)
        return real | imag if combine == "or" else real & imag

    return by_parts


def _equal_parts(a, b):
    (a_real, a_imag), (b_real, b_imag) = _parts(a), _parts(b)
    return (a_real == b_real) & (a_imag == b_imag)


def _eq(function: Callable, a, b):
    return _equal_parts(a, b)


def _ne(function: Callable, a, b):
    return ~_equal_parts(a, b)


def _compare_into(negate: bool) -> Callable:
    """eq_/ne_: the comparison by parts, written into ``self`` (0 or 1 in self's dtype)."""

    def by_parts(function: Callable, self, other):
        equal = _equal_parts(self, other)
        return self.copy_(~equal if negate else equal)

    return by_parts


def _nonzero(value):
    """A complex tensor as the bool test torch's logical ops read from it; anything else as it is."""
    if isinstance(value, Tensor) and value.dtype.is_complex:
        return (value.real != 0) | (value.imag != 0)
    return value


def _logical(function: Callable, a, b, *, out=None):
    """logical_and/or/xor, which read each operand only through whether it is non-zero; a complex
    ``out`` (which the real op's kernel cannot write) receives the bool result cast."""
    if isinstance(out, Tensor) and out.dtype.is_complex:
        result = function(_nonzero(a), _nonzero(b))
        return write_out(function.__name__, out, result, rule="castable", differentiable=False)
    if out is None:  # (the method form, which takes no out=, is one of the functions wrapped)
        return function(_nonzero(a), _nonzero(b))
    return function(_nonzero(a), _nonzero(b), out=out)


def _logical_into(function: Callable, self, other):
    """logical_and_/or_/xor_: on a complex ``self`` the op runs on its truths, then is written back."""
    if not self.dtype.is_complex:
        return function(self, _nonzero(other))
    truths = _nonzero(self)
    function(truths, _nonzero(other))
    return self.copy_(truths)


def _equal(function: Callable, a, b):
    return tuple(a.shape) == tuple(b.shape) and bool(_equal_parts(a, b).all())


def _isclose(function: Callable, a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """torch's closeness of complex values: equal, or both finite with |a - b| <= atol + rtol * |b|; with
    equal_nan, two values that each hold a NaN."""
    close = _equal_parts(a, b)
    b_tensor = b if isinstance(b, Tensor) else creation.full_like(a, b)
    finite = _finite(a) & _finite(b_tensor)
    close = close | (finite & ((a - b_tensor).abs() <= atol + rtol * b_tensor.abs()))
    if equal_nan:
        close = close | (_nan(a) & _nan(b_tensor))
    return close


def _allclose(function: Callable, a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    return bool(_isclose(None, a, b, rtol, atol, equal_nan).all())


def _finite(z):
    return z.real.isfinite() & z.imag.isfinite() if z.dtype.is_complex else z.isfinite()


def _nan(z):
    return z.real.isnan() | z.imag.isnan() if z.dtype.is_complex else z.isnan()


# name -> how the op is answered by parts (the name is wrapped where it is a tritongrad function and
# where it is a Tensor method)
RULES: dict[str, Callable] = {
    **dict.fromkeys(
        ["flip", "fliplr", "flipud", "roll", "rot90", "tril", "triu", "gather", "index_select", "take",
         "take_along_dim", "masked_select", "repeat_interleave", "__getitem__"],
        _each,
    ),
    "cumsum": _cumsum,
    "where": _values_at((1, 2)),
    "masked_fill": _values_at((0, 2)),
    **dict.fromkeys(["masked_fill_", "index_fill_", "__setitem__"], _into_parts),
    **dict.fromkeys(["nonzero", "argwhere", "count_nonzero", "any", "all", "logical_not"], _truth),
    "isnan": _test("or"),
    "isinf": _test("or"),
    "isfinite": _test("and"),
    "eq": _eq,
    "__eq__": _eq,
    "ne": _ne,
    "not_equal": _ne,
    "__ne__": _ne,
    "eq_": _compare_into(negate=False),
    **dict.fromkeys(["ne_", "not_equal_"], _compare_into(negate=True)),
    **dict.fromkeys(["logical_and", "logical_or", "logical_xor"], _logical),
    **dict.fromkeys(["logical_and_", "logical_or_", "logical_xor_"], _logical_into),
    "equal": _equal,
    "isclose": _isclose,
    "allclose": _allclose,
}  # fmt: skip


# The ops of RULES that take ``out=``: how torch checks out's dtype (write_out's rule: "exact", or
# "castable" for the comparisons, whose bool result may go into out of any dtype; "any" for cumsum,
# which computes in out's dtype) and whether autograd refuses out= (not for comparisons). The rules
# compute a new result and know nothing of out; ``_write_result`` then applies torch's rules to it.
_OUT_RULES: dict[str, tuple[str, bool]] = {
    **dict.fromkeys(["eq", "ne", "not_equal"], ("castable", False)),
    **dict.fromkeys(
        ["tril", "triu", "gather", "index_select", "take", "take_along_dim", "masked_select", "where"], ("exact", True)
    ),
    "cumsum": ("any", True),
}


def _dtype_mismatch_message(name: str, result: torch.dtype, out: torch.dtype) -> str:
    """torch's words for an out= of another dtype than an "exact" op's result, op by op."""
    if name in ("index_select", "masked_select"):
        return f"{name}(): self and result must have the same scalar type"
    if name == "take":
        return (
            f"take(): self and out expected to have the same dtype, but got self.dtype = {dtype_word(result)} "
            f"and out.dtype = {dtype_word(out)}"
        )
    if name == "where":
        return f"Expected out type to be {dtype_word(result)} but got {dtype_word(out)}"
    return f"Expected out tensor to have dtype {type_meta_name(result)}, but got {type_meta_name(out)} instead"


def _write_result(name: str, out, result: Tensor, inputs: tuple) -> Tensor:
    """``result`` (computed by parts) written into the caller's ``out`` under torch's rules for ``name``."""
    rule, differentiable = _OUT_RULES[name]
    check_out_tensor(name, out)
    if rule == "exact" and out.dtype != result.dtype:
        raise RuntimeError(_dtype_mismatch_message(name, result.dtype, out.dtype))
    tensors = [a for a in inputs if isinstance(a, Tensor)]
    return write_out(name, out, result.detach(), *tensors, rule=rule, differentiable=differentiable)


def answering_by_parts(function: Callable, rule: Callable, name: str) -> Callable:
    """``function``, answered by ``rule`` where it refuses a complex argument; an ``out=`` the rule
    cannot take is held back from it and receives the rule's result (``_write_result``)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except NotImplementedError:
            complex_dtype = isinstance(kwargs.get("dtype"), torch.dtype) and kwargs["dtype"].is_complex
            if not (complex_dtype or any(_is_complex(a) for a in (*args, *kwargs.values()))):
                raise
        except TypeError:  # (a real-only op given a Python complex number: where(mask, 1j, z))
            if not any(isinstance(a, complex) for a in (*args, *kwargs.values())):
                raise
        out = kwargs.pop("out", None) if name in _OUT_RULES else None
        if out is None:
            return rule(function, *args, **kwargs)
        if name == "cumsum" and kwargs.get("dtype") not in (None, out.dtype):
            raise RuntimeError(_dtype_mismatch_message(name, kwargs["dtype"], out.dtype))
        if _OUT_RULES[name][1]:  # (refused before any work, as torch's out= ops do)
            check_no_grad(name, out, *args, *kwargs.values())
        return _write_result(name, out, rule(function, *args, **kwargs), (*args, *kwargs.values()))

    wrapper.__complex_parts__ = True
    return wrapper


def install(namespaces: Iterable[type | ModuleType]) -> None:
    """Wraps each name of ``RULES`` in each namespace (a module, or the Tensor class); a function
    reachable under several names gets one wrapper, so the names stay one object."""
    wrapped: dict[int, Callable] = {}
    for namespace in namespaces:
        for name, rule in RULES.items():
            function = vars(namespace).get(name)
            if function is None or getattr(function, "__complex_parts__", False):
                continue
            if id(function) not in wrapped:
                wrapped[id(function)] = answering_by_parts(function, rule, name)
            setattr(namespace, name, wrapped[id(function)])
