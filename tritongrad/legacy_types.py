"""torch's legacy typed constructors: ``FloatTensor([1, 2])``, ``LongTensor(3, 4)``, ``isinstance(x, FloatTensor)``.

Each name builds a tensor of its dtype, from data (a copy, like ``tensor(data, dtype=...)``) or
from sizes (uninitialised, like ``empty``), and ``isinstance`` checks the dtype, as torch's do.
"""

from __future__ import annotations

import numpy as np
import torch

from tritongrad import creation
from tritongrad.ops.out_argument import out_dtype_word
from tritongrad.tensor import Tensor

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]  # fmt: skip


class _LegacyTensorType(type):
    dtype: torch.dtype

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and instance.dtype == cls.dtype

    def __call__(cls, *args, device=None) -> Tensor:
        if len(args) == 1 and isinstance(args[0], torch.Size):
            return creation.empty(*args[0], dtype=cls.dtype, device=device)
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype != cls.dtype:
                raise TypeError(f"expected {_options(cls.dtype, device)} (got {_options(args[0].dtype, device)})")
            return Tensor(args[0])  # (torch's shares the memory)
        if len(args) == 1 and isinstance(args[0], (list, tuple, range, np.ndarray)):
            return creation.tensor(args[0], dtype=cls.dtype, device=device)
        if all(isinstance(size, int) for size in args):
            return creation.empty(*args, dtype=cls.dtype, device=device)
        raise TypeError(f"{cls.__name__}(): expected a sequence of numbers or integer sizes, got {args!r}")


def _options(dtype: torch.dtype, device) -> str:
    """torch's words for a legacy constructor's tensor options, in its refusal of another dtype."""
    return (
        f"TensorOptions(dtype={out_dtype_word(dtype)}, device={device or 'cpu'}, layout=Strided, requires_grad=false "
        "(default), pinned_memory=false (default), memory_format=(nullopt))"
    )


def _legacy(name: str, dtype: torch.dtype) -> type:
    return _LegacyTensorType(name, (), {"dtype": dtype, "__doc__": f"torch.{name}: tensors of dtype {dtype}."})


FloatTensor = _legacy("FloatTensor", torch.float32)
DoubleTensor = _legacy("DoubleTensor", torch.float64)
HalfTensor = _legacy("HalfTensor", torch.float16)
BFloat16Tensor = _legacy("BFloat16Tensor", torch.bfloat16)
LongTensor = _legacy("LongTensor", torch.int64)
IntTensor = _legacy("IntTensor", torch.int32)
ShortTensor = _legacy("ShortTensor", torch.int16)
CharTensor = _legacy("CharTensor", torch.int8)
ByteTensor = _legacy("ByteTensor", torch.uint8)
BoolTensor = _legacy("BoolTensor", torch.bool)
