"""dtypes and torch's type-promotion rules.

tritongrad uses torch's dtype objects themselves (``tritongrad.float32 is
torch.float32``, exported by the package), so user code comparing dtypes
works unchanged.

Promotion follows torch's three tiers: tensors with dimensions decide the
result; 0-dim tensors matter only when they are of a higher *category*
(bool < integer < floating); Python scalars likewise, and a Python float
promotes integer tensors to the default dtype (float32).
"""

from __future__ import annotations

import math
import struct

import numpy as np
import torch

from tritongrad.kernels.common import DTYPE_WORDS, dtype_word  # noqa: F401 (dtype_word is used here and re-exported)

SUPPORTED = (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.uint8, torch.int8,
             torch.int16, torch.int32, torch.int64, torch.bool, torch.complex64, torch.complex128)  # fmt: skip

# A complex dtype and the real dtype of its parts: complex64 is two float32s (torch.view_as_real's float
# view, the one kernels read and write), complex128 two float64s.
COMPLEX_PARTS = {torch.complex64: torch.float32, torch.complex128: torch.float64}
# complex32 (two float16s) has no kernels in tritongrad, but promotion reaches it as torch's does (float16
# with a complex number): its parts' dtype lets promote_types reduce it, and ops refuse it by name.
_PARTS_OF_ANY_COMPLEX = {**COMPLEX_PARTS, torch.complex32: torch.float16}
_COMPLEX_OF = {torch.float32: torch.complex64, torch.float64: torch.complex128, torch.float16: torch.complex32,
               torch.bfloat16: torch.complex64}  # fmt: skip

_default_dtype = torch.float32

_SUPPORTED = frozenset(SUPPORTED)

# The Python types torch's argument parser reads as dtypes wherever it takes one (``x.to(float)``,
# ``arange(3, dtype=int)``, ``sum(dtype=float)``): float is float64 whatever the default dtype.
PYTHON_TYPE_DTYPES = {float: torch.float64, int: torch.int64, bool: torch.bool, complex: torch.complex128}


def as_dtype(dtype, op: str = "to") -> torch.dtype | None:
    """A ``dtype`` argument as torch's parser reads it: the one home for that (None stays None).

    A torch.dtype is itself; the Python types float, int, bool and complex stand for float64, int64,
    bool and complex128, as in torch; anything else (a numpy type, a string) is refused with torch's
    TypeError, as is a dtype tritongrad has no kernels for (complex32, the unsigned ones), named. Hot paths call it only
    when the argument is not already a torch.dtype::

        if dtype is not None and type(dtype) is not torch.dtype:
            dtype = as_dtype(dtype, "sum")
    """
    if dtype is None:
        return None
    dtype = dtype_argument(dtype, op)
    if dtype not in _SUPPORTED:
        raise TypeError(
            f"{op}(): tritongrad does not support dtype {dtype} (supported: {', '.join(map(str, SUPPORTED))})"
        )
    return dtype


def dtype_argument(value, op: str, name: str = "dtype", position: int | None = None) -> torch.dtype:
    """A torch.dtype parameter as torch's parser reads it, any dtype torch has: a dtype is itself, the
    Python types float, int, bool and complex stand for float64, int64, bool and complex128; anything
    else is torch's TypeError naming the parameter (and its position, where torch's message gives one)."""
    if type(value) is torch.dtype:
        return value
    resolved = PYTHON_TYPE_DTYPES.get(value) if type(value) is type else None
    if resolved is None:
        where = "" if position is None else f" (position {position})"
        raise TypeError(f"{op}(): argument '{name}'{where} must be torch.dtype, not {type(value).__name__}")
    return resolved


def complex_of(dtype: torch.dtype) -> torch.dtype:
    """The complex dtype whose parts are ``dtype`` (float32 -> complex64; a complex dtype is itself;
    integers and bool -> the default dtype's complex type, as torch's ``x * 1j`` for an integer x)."""
    if dtype.is_complex:
        return dtype
    return _COMPLEX_OF[dtype if dtype.is_floating_point else _default_dtype]


def real_of(dtype: torch.dtype) -> torch.dtype:
    """The dtype of a complex dtype's parts (complex64 -> float32; a real dtype is itself): what
    ``abs``, ``angle``, ``.real`` and ``view_as_real`` of a complex tensor hold; complex32 -> float16,
    which only promotion meets)."""
    return _PARTS_OF_ANY_COMPLEX.get(dtype, dtype)


# Ops torch computes on complex tensors that tritongrad's complex kernels (kernels/complex.py) do
# not: asked of a complex tensor, they raise "not implemented" naming tritongrad, where an op torch
# itself refuses gets torch's own words. (tests/test_complex.py checks that torch computes each.)
TORCH_COMPLEX_ONLY = frozenset((
    "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "asin", "acos",
    "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "square", "nan_to_num", "logical_not",
    "isnan", "isinf", "isfinite", "logaddexp", "pow", "eq", "ne", "norm", "var", "std", "var_mean", "std_mean",
    "logsumexp", "cov", "sinc", "ldexp", "float_power",
))  # fmt: skip


# Ops torch refuses for complex inputs with a RuntimeError of its own words (a check before any kernel),
# where the others get the dispatcher's NotImplementedError.
TORCH_COMPLEX_RUNTIME_ERRORS = {
    **{op: f"{op} not implemented for complex tensors." for op in ("maximum", "minimum", "fmax", "fmin")},
    **{op: f"{op}(): does not support complex input" for op in ("argmax", "argmin", "max", "min")},
    **{op: f"{op} does not support complex inputs." for op in ("isneginf", "isposinf")},
    **{op: f"{op} is not supported for complex tensors." for op in ("deg2rad", "rad2deg")},
    "nansum": "nansum on CPU does not support complex inputs",
}


def refuse_complex(op: str, dtype: torch.dtype) -> Exception:
    """The error for ``op`` asked of a complex ``dtype`` that tritongrad has no kernel for: torch's
    RuntimeError for the ops it checks itself (``TORCH_COMPLEX_RUNTIME_ERRORS``: "maximum not
    implemented for complex tensors."), its NotImplementedError, worded as torch's dispatch words it
    (``"floor_cpu" not implemented for 'ComplexFloat'``), for the other ops it refuses, and naming
    tritongrad where torch would compute it. Returned, for the caller to raise."""
    if op in TORCH_COMPLEX_RUNTIME_ERRORS:
        return RuntimeError(TORCH_COMPLEX_RUNTIME_ERRORS[op])
    if op in TORCH_COMPLEX_ONLY:
        return NotImplementedError(f"tritongrad: {op} of complex tensors is not implemented ({dtype_word(dtype)})")
    return NotImplementedError(f"\"{op}\" not implemented for '{dtype_word(dtype)}'")


def refuse_complex32(op: str) -> NotImplementedError:
    """The error for ``op`` whose result torch would make complex32 (float16 with a complex number, or
    ``complex()`` of float16 parts): tritongrad has no complex32 tensors. Worded as kernels/complex.py
    words it for the arithmetic that reaches its launchers. Returned, for the caller to raise."""
    return NotImplementedError(f"tritongrad: {op} in torch.complex32 is not implemented (complex64 and complex128 are)")


# The dtypes ATen's C++ type names (at::toString, in its autograd and map_ messages) give a legacy Python
# name; the others (bfloat16, the complex dtypes) it names as backend + scalar type: CPUBFloat16Type.
_ATEN_LEGACY_NAMED = frozenset({
    torch.float32, torch.float64, torch.float16, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
    torch.bool,
})  # fmt: skip


def tensor_type_name(dtype: torch.dtype, device: torch.device, *, aten: bool = False) -> str:
    """torch's legacy tensor type name, as ``Tensor.type()`` returns it: ``torch.FloatTensor``,
    ``torch.cuda.LongTensor``. ``aten=True``: as torch's C++ messages name the type (the version-counter
    error, a hook's type change, map_), which is the same but for bfloat16 and complex: ``CPUBFloat16Type``."""
    if aten and dtype not in _ATEN_LEGACY_NAMED:
        return f"{'CUDA' if device.type == 'cuda' else 'CPU'}{dtype_word(dtype)}Type"
    prefix = "torch.cuda." if device.type == "cuda" else "torch."
    return f"{prefix}{dtype_word(dtype)}Tensor"


def dtype_from_type_name(name: str) -> torch.dtype:
    """The dtype of a legacy type name such as ``torch.DoubleTensor`` (``Tensor.type(name)``)."""
    word = name.rsplit(".", 1)[-1].removesuffix("Tensor")
    for dtype, known in DTYPE_WORDS.items():
        if known == word:
            return dtype
    raise ValueError(f"invalid type: '{name}'")


def get_default_dtype() -> torch.dtype:
    """The dtype of floating tensors made from Python floats (float32)."""
    return _default_dtype


def set_default_dtype(dtype: torch.dtype) -> None:
    """Sets the default floating dtype (float32 or float64)."""
    global _default_dtype
    if dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        raise TypeError(f"only floating-point types are supported as the default type, got {dtype}")
    _default_dtype = dtype


_CATEGORIES = {dtype: 0 if dtype == torch.bool else 2 if dtype.is_floating_point else 3 if dtype.is_complex else 1
               for dtype in (*SUPPORTED, torch.complex32)}  # fmt: skip


def category(dtype: torch.dtype) -> int:
    """0 for bool, 1 for integers, 2 for floating types, 3 for complex ones."""
    try:
        return _CATEGORIES[dtype]
    except KeyError:  # (a dtype tritongrad has no kernels for, met in a refusal's promotion)
        return 2 if dtype.is_floating_point else 3 if dtype.is_complex else 0 if dtype == torch.bool else 1


_INTEGER_ORDER = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]


def can_cast(from_: torch.dtype, to: torch.dtype) -> bool:
    """torch.can_cast: whether type promotion lets a ``from_`` result be written into ``to`` (an in-place
    op's or an ``out=``'s rule): never floating or complex to integral, complex to real, or non-bool to bool.

    >>> can_cast(torch.int32, torch.float16), can_cast(torch.float32, torch.int32)
    (True, False)
    """
    from_, to = dtype_argument(from_, "can_cast", "from_", 1), dtype_argument(to, "can_cast", "to", 2)
    if from_.is_complex and not to.is_complex:
        return False
    if (from_.is_floating_point or from_.is_complex) and not (to.is_floating_point or to.is_complex):
        return False
    return not (from_ != torch.bool and to == torch.bool)


def promote_types(a: torch.dtype, b: torch.dtype) -> torch.dtype:
    """torch.promote_types for the dtypes tritongrad supports (Python types read as ``as_dtype`` does)."""
    if type(a) is not torch.dtype or type(b) is not torch.dtype:
        a, b = dtype_argument(a, "promote_types", "type1", 1), dtype_argument(b, "promote_types", "type2", 2)
    if a == b:
        return a
    if a == torch.bool:
        return b
    if b == torch.bool:
        return a
    if a.is_complex or b.is_complex:
        # complex64 with float64 is complex128: the wider of the two parts' dtypes, as complex
        return complex_of(promote_types(real_of(a), real_of(b)))
    if a.is_floating_point and b.is_floating_point:
        if {a, b} == {torch.float16, torch.bfloat16}:
            return torch.float32
        order = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
        return max(a, b, key=order.index)
    if a.is_floating_point:
        return a
    if b.is_floating_point:
        return b
    if {a, b} == {torch.uint8, torch.int8}:
        return torch.int16
    return max(a, b, key=_INTEGER_ORDER.index)


def python_type_name(value) -> str:
    """A value's type as torch's argument errors spell it (CPython's tp_name): the bare name for builtins
    and classes written in Python (``str``, ``NoneType``, ``Tensor``), module-qualified for extension
    types (``numpy.ndarray``, ``numpy.float64``)."""
    kind = type(value)
    if kind.__flags__ & (1 << 9) or kind.__module__ == "builtins":  # (Py_TPFLAGS_HEAPTYPE: a Python class)
        return kind.__name__
    return f"{kind.__module__}.{kind.__qualname__}"


def as_python_scalar(value):
    """A numpy scalar or 0-d array as the Python number it holds; anything else unchanged.

    torch treats numpy scalars as Python numbers in arithmetic (``t * np.float32(2)`` keeps
    ``t``'s float32, as ``t * 2.0`` does); this is the one place tritongrad does that. A numpy
    bool counts as a float there, as in torch (``int_tensor + np.bool_(True)`` is float32).
    """
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        value = value.item()
        return float(value) if isinstance(value, bool) else value
    return value


def scalar_dtype(value) -> torch.dtype:
    """The dtype a Python scalar stands for in promotion."""
    if isinstance(value, bool):
        return torch.bool
    if isinstance(value, int):
        return torch.int64
    if isinstance(value, float):
        return _default_dtype
    if isinstance(value, complex):
        return complex_of(_default_dtype)
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def result_type(*operands) -> torch.dtype:
    """torch.result_type over tensors (anything with ``.dtype`` and ``.ndim``) and Python scalars."""
    if len(operands) == 2:  # the common cases, answered without the general walk below
        first, second = (getattr(operand, "dtype", None) for operand in operands)
        if first is not None and first is second:
            return first
        if first is not None and second is None and type(operands[1]) is float and first.is_floating_point:
            return first
    dim_result = zero_dim_result = scalar_result = None
    for operand in operands:
        if isinstance(operand, (np.generic, np.ndarray)) and operand.ndim == 0:
            operand = as_python_scalar(operand)  # (a numpy scalar has a dtype, but promotes as a number)
        if hasattr(operand, "dtype"):
            if operand.ndim > 0:
                dim_result = operand.dtype if dim_result is None else promote_types(dim_result, operand.dtype)
            else:
                zero_dim_result = (
                    operand.dtype if zero_dim_result is None else promote_types(zero_dim_result, operand.dtype)
                )
        else:
            dtype = scalar_dtype(operand)
            scalar_result = dtype if scalar_result is None else promote_types(scalar_result, dtype)
    return _combine(dim_result, _combine(zero_dim_result, scalar_result))


def _combine(higher: torch.dtype | None, lower: torch.dtype | None) -> torch.dtype | None:
    """A lower-priority tier changes the result only when it is of a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if category(lower) > category(higher):
        if lower.is_complex and higher.is_floating_point:
            return complex_of(higher)  # (a float32 tensor times 1j, or a complex128 0-dim: complex64)
        return promote_types(higher, lower)
    return higher


# ---------------------------------------------------------------------------------------------
# Python numbers as a tensor's dtype holds them
# ---------------------------------------------------------------------------------------------

# The C++ type names torch's checked conversions name in their overflow errors.
_C_TYPE_NAMES = {
    torch.float16: "c10::Half",
    torch.bfloat16: "c10::BFloat16",
    torch.float32: "float",
    torch.float64: "double",
    torch.uint8: "uint8_t",
    torch.int8: "int8_t",
    torch.int16: "int16_t",
    torch.int32: "int",
    torch.int64: "int64_t",
    torch.bool: "bool",
    torch.complex64: "c10::complex<float>",
    torch.complex128: "c10::complex<double>",
}


def c_type_name(dtype: torch.dtype) -> str:
    """The C++ type name torch's conversion errors give ``dtype`` ("c10::Half", "int64_t")."""
    return _C_TYPE_NAMES[dtype]


# torch's TypeMeta names of the dtypes: how its messages print a tensor's C++ type ("long int", "signed
# char"; out= and mask dtype errors, mm's dtype mismatch, the grad setter, window options)
_TYPE_META_NAMES = {
    torch.float32: "float", torch.float64: "double", torch.float16: "c10::Half", torch.bfloat16: "c10::BFloat16",
    torch.int64: "long int", torch.int32: "int", torch.int16: "short int", torch.int8: "signed char",
    torch.uint8: "unsigned char", torch.bool: "bool", torch.complex64: "c10::complex<float>",
    torch.complex128: "c10::complex<double>",
}  # fmt: skip


def type_meta_name(dtype: torch.dtype) -> str:
    """torch's TypeMeta name of ``dtype`` ("long int"; other dtypes as str(dtype))."""
    return _TYPE_META_NAMES.get(dtype, str(dtype))


# The names C++'s typeid gives the element types, which some of torch's messages print
# (clamp_'s cast check, lerp's dtype check: "expected dtype float for `end` but got dtype long int").
_TYPEID_NAMES = {
    torch.float16: "c10::Half",
    torch.bfloat16: "c10::BFloat16",
    torch.float32: "float",
    torch.float64: "double",
    torch.uint8: "unsigned char",
    torch.int8: "signed char",
    torch.int16: "short int",
    torch.int32: "int",
    torch.int64: "long int",
    torch.bool: "bool",
    torch.complex64: "c10::complex<float>",
    torch.complex128: "c10::complex<double>",
}


def typeid_name(dtype: torch.dtype) -> str:
    """C++'s name for ``dtype``'s element type, as some of torch's messages print it (``long int``)."""
    return _TYPEID_NAMES.get(dtype, str(dtype))


# (lowest, max) of each dtype but bool, as torch's overflow checks compare them.
_LIMITS = {
    torch.float16: (-65504.0, 65504.0),
    torch.bfloat16: (-3.3895313892515355e38, 3.3895313892515355e38),
    torch.float32: (-3.4028234663852886e38, 3.4028234663852886e38),
    torch.float64: (-math.inf, math.inf),
    torch.uint8: (0, 255),
    torch.int8: (-128, 127),
    torch.int16: (-(2**15), 2**15 - 1),
    torch.int32: (-(2**31), 2**31 - 1),
    torch.int64: (-(2**63), 2**63 - 1),
    # (a real number for a complex dtype: checked as its parts' dtype would check it)
    torch.complex64: (-3.4028234663852886e38, 3.4028234663852886e38),
    torch.complex128: (-math.inf, math.inf),
}

REDUCED_FLOATS = frozenset((torch.float16, torch.bfloat16))


def float32(value: float) -> float:
    """``value`` rounded to float32 (round to nearest even; beyond float32's range, an infinity)."""
    if abs(value) > 3.4028235677973366e38:  # (not NaN) rounds past float32's largest value
        return math.copysign(math.inf, value)
    return float(np.float32(value))


def _bfloat16(single: float) -> float:
    """A float32 value rounded to bfloat16 (round to nearest even on its bits, as c10::BFloat16)."""
    if math.isnan(single):
        return single
    bits = struct.unpack("<I", struct.pack("<f", single))[0]
    bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def round_float(value: float, dtype: torch.dtype) -> float:
    """The float ``value`` rounded to a floating ``dtype`` as torch converts a double: to float32 first,
    then to the half type (c10::Half and c10::BFloat16 are built from a float)."""
    if dtype == torch.float64:
        return value
    single = float32(value)
    if dtype == torch.float16:
        with np.errstate(over="ignore"):
            return float(np.float16(single))
    if dtype == torch.bfloat16:
        return _bfloat16(single)
    return single


def complex_scalar_as(value: complex, dtype: torch.dtype) -> complex | float:
    """A Python complex number as a tensor of ``dtype`` holds it (fill_, setitem): itself for a complex
    dtype, its truth for bool; for a real one its real part when its imaginary part is 0, else torch's
    overflow error."""
    if dtype.is_complex:
        return value
    if dtype == torch.bool:  # (a complex number is true when either part is)
        return value != 0
    if value.imag != 0:
        raise RuntimeError(f"value cannot be converted to type {_C_TYPE_NAMES[dtype]} without overflow")
    return scalar_as(value.real, dtype, checked=True)


def fill_scalar_as(value, dtype: torch.dtype, numel: int):
    """A real number as ``fill_`` (and full, full_like, new_full) writes it into a tensor of ``dtype``
    with ``numel`` elements: checked as ``scalar_as`` checks, except that torch fills a one-element
    float16 or bfloat16 tensor through its single-element path, which converts without the range check
    (70000.0 is inf in float16, 65519.0 rounds to 65504). A Python int that no int64 or uint64 holds is
    refused first with the OverflowError torch's argument parser raises for it."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value >= 2**64:
            raise OverflowError("int too big to convert")
        if value < -(2**63):
            raise OverflowError("can't convert negative int to unsigned")
    checked = not (numel == 1 and dtype in REDUCED_FLOATS)
    return scalar_as(value, dtype, checked=checked)


def scalar_as(value, dtype: torch.dtype, *, checked: bool = False):
    """The Python number ``value`` as a tensor of ``dtype`` holds it: the one place a number meets
    a dtype before it becomes a kernel argument (ops/elementwise.py says which op converts how).

    Unchecked (``checked=False``), as torch casts a wrapped number to an operation's dtype (``x + 0.3``
    and ``x == 0.3`` for a float16 x use float16(0.3)): floats are rounded to a floating dtype (out
    of range: an infinity); integers wrap into a narrower integer dtype as C's casts wrap them (300
    is 44 in int8); bools, and floats for an integer dtype, are returned as they are.

    Checked, as torch's ``Scalar.to<T>()`` (fill_, clamp bounds, alpha, pow's exponent): a value
    outside ``dtype``'s range raises torch's RuntimeError ("value cannot be converted to type
    c10::Half without overflow"; an infinity fits a floating dtype, NaN no integer one; negative
    integers wrap into uint8 as in torch); floats are truncated toward zero for integer dtypes.
    Returns a Python float, int or bool. A complex ``value`` is the caller's (``complex_scalar_as``).
    """
    if dtype == torch.bool:
        return bool(value) if checked else value
    if checked and not isinstance(value, bool):
        lowest, highest = _LIMITS[dtype]
        if isinstance(value, int) and dtype == torch.uint8:
            overflows = value > highest or (value < 0 and -value > highest)
        elif math.isinf(value):
            overflows = not (dtype.is_floating_point or dtype.is_complex)
        elif math.isnan(value):
            overflows = not (dtype.is_floating_point or dtype.is_complex)
        else:
            overflows = value < lowest or value > highest
        if overflows:
            raise RuntimeError(f"value cannot be converted to type {_C_TYPE_NAMES[dtype]} without overflow")
    if dtype.is_floating_point:
        return round_float(float(value), dtype) if not isinstance(value, bool) else float(value)
    if isinstance(value, float):
        if dtype.is_complex:
            return value
        return int(value) if checked else value  # C's float-to-integer conversion truncates toward zero
    if dtype != torch.int64 and not isinstance(value, bool):
        bits = dtype.itemsize * 8  # an integer wraps into a narrower integer type as C's casts wrap it
        value &= (1 << bits) - 1
        if dtype != torch.uint8 and value >= 1 << (bits - 1):
            value -= 1 << bits
    return value
