"""torch's legacy typed constructors: ``FloatTensor([1, 2])``, ``LongTensor(3, 4)``, ``isinstance(x, FloatTensor)``.

Each name builds a tensor of its dtype, from data (a copy, like ``tensor(data, dtype=...)``) or
from sizes (uninitialised, like ``empty``; no arguments at all: an empty 1-D tensor), and ``isinstance``
checks the dtype, as torch's do.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from tritongrad import creation, runtime
from tritongrad.dtypes import set_default_dtype, type_meta_name
from tritongrad.tensor import Tensor

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor", "set_default_tensor_type"]  # fmt: skip


class _LegacyTensorType(type):
    dtype: torch.dtype

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and instance.dtype == cls.dtype

    def __call__(cls, *args, device=None) -> Tensor:
        if not args:  # (torch's: an empty 1-D tensor, not a 0-d one)
            return creation.empty(0, dtype=cls.dtype, device=device)
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
        f"TensorOptions(dtype={type_meta_name(dtype)}, device={device or 'cpu'}, layout=Strided, requires_grad=false "
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

_BY_NAME = {f"torch.{legacy.__name__}": legacy for legacy in (
    FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor,
    BoolTensor)}  # fmt: skip


def set_default_tensor_type(t) -> None:
    """torch's deprecated ``set_default_tensor_type``: a floating type name (``"torch.DoubleTensor"``,
    ``"torch.cuda.FloatTensor"``) or class sets the default dtype, and a ``torch.cuda`` one the
    default device too (tritongrad's own device is left as it is for the CPU names: with a GPU it
    computes there)."""
    warnings.warn(
        "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use torch.set_default_dtype() and "
        "torch.set_default_device() as alternatives.",
        UserWarning,
        stacklevel=2,
    )
    if isinstance(t, _LegacyTensorType):
        name = f"torch.{t.__name__}"
    elif isinstance(t, str):
        name = t
    else:
        raise TypeError("invalid type object: only floating-point types are supported as the default type")
    on_cuda = name.startswith("torch.cuda.")
    legacy = _BY_NAME.get(name.replace("torch.cuda.", "torch.", 1))
    if legacy is None:  # (torch looks the name up as an attribute of its module)
        module, _, attribute = name.rpartition(".")
        raise AttributeError(f"module '{module or 'torch'}' has no attribute '{attribute}'")
    if on_cuda and runtime.device_type() != "cuda":
        raise TypeError(f"type {name} not available. Torch not compiled with CUDA enabled.")
    if not legacy.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    set_default_dtype(legacy.dtype)
    if on_cuda:
        creation.set_default_device("cuda")
