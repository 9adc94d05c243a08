"""Bit-level float work: frexp (x = mantissa * 2**exponent, 0.5 <= |mantissa| < 1), and the
neighbouring representable value nextafter(x, y) steps to (used by kernels/elementwise.py's
binary_math).

The mantissa and exponent are read from the IEEE-754 fields, exactly: the exponent field minus
the bias gives the exponent, and writing the bias (minus one) into that field gives the mantissa
with the same sign and fraction bits. A subnormal is first scaled into the normal range by a power
of two (exact). Zeros, infinities and NaN keep their value with exponent 0, as C's frexp and
torch give them. float16 and bfloat16 are decomposed in float32 (each of their values is a
float32, and the mantissa narrows back exactly); bfloat16 travels as its int16 bit pattern,
widened and narrowed by shifts (the high half of a float32), because the interpreter's bfloat16
conversion flushes subnormals.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import needs_int64_indexing
from tritongrad.runtime import cdiv, elementwise_launch_config

__all__ = ["launch_frexp", "next_representable", "next_half_representable"]


# nextafter(a, b) in a's own format (float32 or float64): the floats ordered as integers. The
# sign-magnitude bit pattern becomes a signed key (-magnitude for a set sign bit, so -0.0 and 0.0
# both map to 0) in which consecutive floats are consecutive integers; one step toward b and back.
# Zero steps to the smallest subnormal of b's sign, the largest finite value to infinity, and
# infinity to the largest finite value, as C's nextafter; equal operands give b, NaN gives NaN.
@triton.jit
def next_representable(a, b):
    if a.dtype == tl.float64:
        bits = a.to(tl.int64, bitcast=True)
        sign = (-tl.zeros_like(a)).to(tl.int64, bitcast=True)  # -0.0: only the sign bit set
    else:
        bits = a.to(tl.int32, bitcast=True)
        sign = (-tl.zeros_like(a)).to(tl.int32, bitcast=True)
    magnitude = bits & ~sign
    key = tl.where(bits < 0, -magnitude, magnitude)
    key = tl.where(b > a, key + 1, key - 1)
    stepped = tl.where(key < 0, (-key) | sign, key).to(a.dtype, bitcast=True)
    y = tl.where(a == b, b, stepped)
    return tl.where((a != a) | (b != b), a + b, y)


@triton.jit
def _power_of_two(exponent):
    """2**exponent as a float32, exactly, for integer exponents in [-149, 127] (subnormals by bits)."""
    bits = tl.where(exponent >= -126, (exponent + 127) << 23, 1 << tl.maximum(exponent + 149, 0))
    return bits.to(tl.float32, bitcast=True)


# nextafter(a, b) for a narrower format (float16, bfloat16: FRACTION_BITS 10 / 7, MIN_EXPONENT -14 /
# -126, MAX_FINITE) whose values a (float32) holds exactly. The spacing at a is
# 2**(exponent - FRACTION_BITS), the exponent not below the smallest normal one (subnormals share
# its spacing); a step toward zero from a power of two lands in the binade below, half as wide.
# Every result is exactly representable in float32, so the narrowing store is exact; a step past
# the largest finite value rounds to infinity there.
@triton.jit
def next_half_representable(a, b, FRACTION_BITS: tl.constexpr, MIN_EXPONENT: tl.constexpr, MAX_FINITE: tl.constexpr):
    magnitude = tl.abs(a)
    exponent = tl.maximum(((magnitude.to(tl.int32, bitcast=True) >> 23) & 0xFF) - 127, MIN_EXPONENT)
    spacing = _power_of_two(tl.minimum(exponent, 127) - FRACTION_BITS)
    away = (b > a) == (a > 0)  # a step that grows |a|
    binade_start = (magnitude == _power_of_two(tl.minimum(exponent, 127))) & (exponent > MIN_EXPONENT)
    step = tl.where(~away & binade_start, spacing * 0.5, spacing)
    y = tl.where(b > a, a + step, a - step)
    y = tl.where(y == 0.0, a * 0.0, y)  # the smallest subnormal steps to a zero of its own sign
    y = tl.where(magnitude == float("inf"), tl.where(a > 0, MAX_FINITE, -MAX_FINITE), y)
    y = tl.where(a == b, b, y)
    return tl.where((a != a) | (b != b), a + b, y)


# frexp_kernel: one program decomposes BLOCK consecutive elements of a contiguous x into the
# mantissa (x's dtype) and the int32 exponent. Memory: one read of x, one write of each output.
@triton.jit
def frexp_kernel(
    x_ptr,  # [numel] float16 / float32 / float64, or bfloat16 as int16 bits; contiguous
    mantissa_ptr,  # [numel] x's dtype (int16 bits for bfloat16)
    exponent_ptr,  # [numel] int32
    numel,
    IS_DOUBLE: tl.constexpr,
    BF16_BITS: tl.constexpr,
    INT64: tl.constexpr,
    BLOCK: tl.constexpr,
):
    pid = tl.program_id(0)
    if INT64:
        pid = pid.to(tl.int64)
    offsets = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < numel
    x = tl.load(x_ptr + offsets, mask=mask, other=0)
    if BF16_BITS:
        x = (x.to(tl.int32) << 16).to(tl.float32, bitcast=True)
    if IS_DOUBLE:
        subnormal = (tl.abs(x) < 2.2250738585072014e-308) & (x != 0.0)
        scaled = tl.where(subnormal, x * 18014398509481984.0, x)  # 2**54
        bits = scaled.to(tl.int64, bitcast=True)
        field = (bits >> 52) & 0x7FF
        exponent = field - 1022 - tl.where(subnormal, 54, 0)
        mantissa = (bits - (field << 52) + (1022 << 52)).to(tl.float64, bitcast=True)
        special = (field == 0x7FF) | (x == 0.0)
    else:
        x = x.to(tl.float32)
        subnormal = (tl.abs(x) < 1.1754943508222875e-38) & (x != 0.0)
        scaled = tl.where(subnormal, x * 16777216.0, x)  # 2**24
        bits = scaled.to(tl.int32, bitcast=True)
        field = (bits >> 23) & 0xFF
        exponent = field - 126 - tl.where(subnormal, 24, 0)
        mantissa = (bits - (field << 23) + (126 << 23)).to(tl.float32, bitcast=True)
        special = (field == 0xFF) | (x == 0.0)
    mantissa = tl.where(special, x, mantissa)
    exponent = tl.where(special, 0, exponent).to(tl.int32)
    if BF16_BITS:
        mantissa = (mantissa.to(tl.int32, bitcast=True) >> 16).to(tl.int16)
    tl.store(mantissa_ptr + offsets, mantissa.to(mantissa_ptr.dtype.element_ty), mask=mask)
    tl.store(exponent_ptr + offsets, exponent, mask=mask)


def launch_frexp(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mantissa, exponent) of a contiguous floating tensor: mantissa of x's dtype, exponent int32."""
    if not x.is_contiguous():
        raise ValueError("launch_frexp: x must be contiguous")
    mantissa = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    exponent = torch.empty(x.shape, dtype=torch.int32, device=x.device)
    numel = x.numel()
    if numel == 0:
        return mantissa, exponent
    block, warps = elementwise_launch_config(numel)
    # one program per BLOCK elements
    bf16 = x.dtype == torch.bfloat16
    frexp_kernel[(cdiv(numel, block),)](
        x.view(torch.int16) if bf16 else x, mantissa.view(torch.int16) if bf16 else mantissa, exponent, numel,
        IS_DOUBLE=x.dtype == torch.float64, BF16_BITS=bf16, INT64=needs_int64_indexing(x), BLOCK=block, num_warps=warps,
    )  # fmt: skip
    return mantissa, exponent
