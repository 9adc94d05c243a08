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

import numpy as np
import torch

SUPPORTED = (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.uint8, torch.int8,
             torch.int16, torch.int32, torch.int64, torch.bool)  # fmt: skip

_default_dtype = torch.float32


# torch's C++ scalar-type names, used in its error messages ("expected scalar type Long").
_DTYPE_WORDS = {
    torch.float32: "Float",
    torch.float64: "Double",
    torch.float16: "Half",
    torch.bfloat16: "BFloat16",
    torch.int64: "Long",
    torch.int32: "Int",
    torch.int16: "Short",
    torch.int8: "Char",
    torch.uint8: "Byte",
    torch.bool: "Bool",
}


def dtype_word(dtype: torch.dtype) -> str:
    """torch's name for ``dtype`` in error messages (``Long`` for int64)."""
    return _DTYPE_WORDS.get(dtype, str(dtype))


def tensor_type_name(dtype: torch.dtype, device: torch.device) -> str:
    """torch's legacy tensor type name, as ``Tensor.type()`` returns it: ``torch.FloatTensor``,
    ``torch.cuda.LongTensor``."""
    prefix = "torch.cuda." if device.type == "cuda" else "torch."
    return f"{prefix}{dtype_word(dtype)}Tensor"


def dtype_from_type_name(name: str) -> torch.dtype:
    """The dtype of a legacy type name such as ``torch.DoubleTensor`` (``Tensor.type(name)``)."""
    word = name.rsplit(".", 1)[-1].removesuffix("Tensor")
    for dtype, known in _DTYPE_WORDS.items():
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


def category(dtype: torch.dtype) -> int:
    """0 for bool, 1 for integers, 2 for floating types."""
    if dtype == torch.bool:
        return 0
    return 2 if dtype.is_floating_point else 1


_INTEGER_ORDER = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]


def promote_types(a: torch.dtype, b: torch.dtype) -> torch.dtype:
    """torch.promote_types for the dtypes tritongrad supports."""
    if a == b:
        return a
    if a == torch.bool:
        return b
    if b == torch.bool:
        return a
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
        return promote_types(higher, lower)
    return higher
