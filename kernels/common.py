"""What every launcher shares: dtype maps, the compute-dtype rule and input checks."""

from __future__ import annotations

import functools
import os
import struct
import sys
from collections.abc import Sequence

import torch
import triton
import triton.language as tl

TORCH_TO_TRITON = {
    torch.float16: tl.float16,
    torch.bfloat16: tl.bfloat16,
    torch.float32: tl.float32,
    torch.float64: tl.float64,
    torch.int8: tl.int8,
    torch.uint8: tl.uint8,
    torch.int16: tl.int16,
    torch.int32: tl.int32,
    torch.int64: tl.int64,
    torch.bool: tl.int1,
}

FLOATING_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def triton_dtype(dtype: torch.dtype) -> tl.dtype:
    """The Triton element type for a torch dtype (raises TypeError for unsupported ones)."""
    try:
        return TORCH_TO_TRITON[dtype]
    except KeyError:
        if dtype.is_complex:  # (torch's error for an op with no complex kernel: kernels/complex.py has those)
            raise complex_refusal(entry_point(), dtype) from None
        raise TypeError(f"tritongrad kernels do not support dtype {dtype}") from None


# torch's C++ scalar-type names, used in its error messages ("expected scalar type Long").
DTYPE_WORDS = {
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
    torch.complex64: "ComplexFloat",
    torch.complex128: "ComplexDouble",
    torch.complex32: "ComplexHalf",
}


def dtype_word(dtype: torch.dtype) -> str:
    """torch's name for ``dtype`` in error messages (``Long`` for int64)."""
    return DTYPE_WORDS.get(dtype, str(dtype))


def complex_refusal(op: str, dtype: torch.dtype) -> NotImplementedError:
    """torch's dispatch error for ``op`` of a complex tensor with no complex kernel (``"sort" not
    implemented for 'ComplexFloat'``), for a launcher to raise (ops name tritongrad's own gaps
    through dtypes.refuse_complex)."""
    return NotImplementedError(f"\"{op}\" not implemented for '{DTYPE_WORDS.get(dtype, 'ComplexHalf')}'")


_KERNELS = os.path.dirname(os.path.realpath(__file__))
# tritongrad/ beside kernels/ in a checkout; kernels/ inside tritongrad/ once installed
_PACKAGE_DIRS = tuple(
    {_KERNELS + os.sep, os.path.join(os.path.dirname(_KERNELS), "tritongrad") + os.sep}
    if os.path.basename(os.path.dirname(_KERNELS)) != "tritongrad"
    else {os.path.dirname(_KERNELS) + os.sep}
)


# functions that only pass a call on (decorators' wrappers, Function.apply): not the op's name
_WRAPPER_NAMES = frozenset(
    ("with_aliases", "wrapper", "wrapped", "inner", "apply", "forward", "decorated", "call", "autocasting")
)


def entry_point() -> str:
    """The name of the tritongrad function the user called, read off the stack (for error
    messages only: ``"sin"`` for ``tritongrad.sin(x)`` failing somewhere below it). A function the
    op tables made (ops/table.py's ``function``) is named by its row."""
    frame, name = sys._getframe(1), "op"
    while frame is not None:
        if os.path.realpath(frame.f_code.co_filename).startswith(_PACKAGE_DIRS):
            row = frame.f_locals.get("row") if frame.f_code.co_name in ("function", "method") else None
            named = getattr(row, "name", None) or frame.f_code.co_name
            name = name if named in _WRAPPER_NAMES or named.startswith("_") else named
        elif name != "op":
            break
        frame = frame.f_back
    return name


def compute_dtype(dtype: torch.dtype) -> tl.dtype:
    """The type arithmetic is carried out in for values stored as ``dtype``.

    Half types are widened to float32 after loading and narrowed on store: the
    interpreter emulates bf16 arithmetic wrongly, and on a GPU fp32 math is as
    fast for memory-bound kernels and more accurate. float64 stays float64;
    integers compute in their own width; bool computes as int32.
    """
    if dtype in (torch.float16, torch.bfloat16, torch.float32):
        return tl.float32
    if dtype == torch.float64:
        return tl.float64
    if dtype == torch.bool:
        return tl.int32
    return triton_dtype(dtype)


def check_same_device(name: str, *tensors: torch.Tensor) -> None:
    """Raises RuntimeError (torch's wording) if the tensors live on different devices."""
    devices = {t.device for t in tensors if t is not None}
    if len(devices) > 1:
        listed = " and ".join(str(d) for d in sorted(devices, key=str))
        raise RuntimeError(
            f"{name}: expected all tensors to be on the same device, but found at least two devices, {listed}!"
        )


def check_floating(name: str, tensor: torch.Tensor, allowed: Sequence[torch.dtype] = FLOATING_DTYPES) -> None:
    """Raises torch's NotImplementedError for a kernel without this dtype (``"gelu" not implemented
    for 'Long'``, what torch's dispatch raises) if ``tensor`` is not one of ``allowed``."""
    if tensor.dtype not in allowed:
        if tensor.dtype.is_complex:
            raise complex_refusal(name, tensor.dtype)
        names = ", ".join(str(d) for d in allowed)
        raise NotImplementedError(
            f"\"{name}\" not implemented for '{dtype_word(tensor.dtype)}' (tritongrad's kernel takes {names})"
        )


PLAN_CACHE_SIZE = 4096


def remember(cache: dict, key: tuple, value) -> None:
    """Stores a launch plan (or launcher) in a bounded cache, emptying it first when full: layouts
    seen once should not pile up, and the ones in use come back on their next call."""
    if len(cache) >= PLAN_CACHE_SIZE:
        cache.clear()
    cache[key] = value


def allocator(shape: Sequence[int], strides: Sequence[int], dtype: torch.dtype, device: torch.device):
    """A function of no arguments returning a new uninitialised tensor of this layout, for launchers
    that allocate the same layout on every call. It calls ``new_empty_strided`` on an empty template
    tensor of the dtype and device with the shape and strides as positional arguments, which torch's
    argument parser takes on its fast path: about 0.4 µs less per call than ``torch.empty`` with
    ``dtype=`` and ``device=`` keywords (measured on the CPU, torch 2.13)."""
    template = torch.empty(0, dtype=dtype, device=device)
    return functools.partial(template.new_empty_strided, tuple(shape), tuple(strides))


def needs_int64_indexing(*tensors: torch.Tensor) -> bool:
    """True when some offset in these tensors may not fit in int32.

    Every offset a kernel reaches from a tensor's data pointer stays inside its storage, so a
    storage of fewer than 2**31 elements (the common case, answered without looking at strides)
    needs only int32 offsets; the linear element index needs int64 from 2**31 elements on.
    """
    for t in tensors:
        if t is None:
            continue
        numel = t.numel()
        if numel >= 2**31:
            return True
        if t.untyped_storage().nbytes() < 2**31 * t.element_size():
            continue
        span = sum((size - 1) * abs(stride) for size, stride in zip(t.shape, t.stride()) if size > 0)
        if span + 1 >= 2**31:
            return True
    return False


# ----------------------------------------------------------------------------------------------
# Device helpers shared by several kernel families
# ----------------------------------------------------------------------------------------------


@triton.jit
def to_bfloat16_rne(value):
    """float32 -> bfloat16, rounding to nearest even like torch and the GPU's cvt.rn (the
    interpreter's own cast truncates): add half an ulp (minus one when the kept bit is even, so
    ties go to even) and keep the upper 16 bits; NaN stays a quiet NaN."""
    bits = value.to(tl.uint32, bitcast=True)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    quiet_nan = (bits >> 16) | 0x40
    kept = tl.where(value != value, quiet_nan, rounded)
    return kept.to(tl.uint16).to(tl.bfloat16, bitcast=True)


def float_bits(value: float) -> int:
    """The IEEE float64 bit pattern of ``value`` as a signed int, for ``bits_to_float`` in a kernel.

    Triton hands Python floats to kernels as fp32, which would round a float64 scalar (a
    leaky-ReLU slope, a dropout scale) to 7 digits; an int64 argument carries all 64 bits. Kernels
    taking such an argument list it in ``do_not_specialize`` (an int equal to 1 would otherwise
    become a compile-time constant).
    """
    return struct.unpack("<q", struct.pack("<d", float(value)))[0]


@triton.jit
def bits_to_float(bits):
    """The float64 whose bit pattern ``float_bits`` produced (a scalar)."""
    return bits.to(tl.int64).to(tl.float64, bitcast=True)


def register_block_warps(block_elements: int, element_size: int = 4) -> int:
    """Warps for a program holding a whole matrix block (kernels/linalg_*.py): about 8 (32-bit)
    registers of the block per thread, so the step's temporaries fit beside it. Measured with the
    kernel report at sm_80/sm_90: 16 registers a thread spilled at 32 x 32 in float64, and triton 3.6
    spilled 4 B of a float32 32 x 36 triangular solve at 4 warps (36 a thread)."""
    words = block_elements * max(element_size // 4, 1)
    return 16 if words >= 4096 else 8 if words >= 1024 else 4
