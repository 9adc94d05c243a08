"""Bit-level float decomposition: frexp (x = mantissa * 2**exponent, 0.5 <= |mantissa| < 1).

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

__all__ = ["launch_frexp"]


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
