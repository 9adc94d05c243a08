"""Random numbers: uniform, normal, exponential, randint and bernoulli fills, and dropout.

Every kernel here draws from Philox4x32-10 (Salmon et al., "Parallel random
numbers: as easy as 1, 2, 3", SC 2011), a counter-based generator: the random
bits are a pure function of (key, counter), so a kernel needs no state, any
element can be regenerated later, and two launches with disjoint counters draw
independent streams. The rounds are Triton's own ``tl.randint4x`` (the
long-standing public API, in triton 2.x through 3.9, and it runs in the
interpreter); tests/test_random.py checks its output bit for bit against a
plain-Python Philox4x32-10 and the Random123 known-answer vector.

Counter layout, shared by every kernel in this file (it is what
``tritongrad.random.philox_seed_and_offset`` reserves): the key is the 64-bit
``seed``; random 32-bit number ``k`` of the stream is lane ``k % 4`` of the
Philox call at counter ``k // 4``; element ``i`` of a launch with ``offset``
uses number ``offset + i``. One Philox call thus feeds four consecutive
elements (a quarter of the integer work of one call per element, which keeps
dropout memory-bound on a GPU), and a launch consumes exactly ``numel``
numbers. The only exceptions are the draws that need 64 random bits per element
(a wide ``randint`` with a range above 2**32, and every float64 draw, which has
53 random bits like torch's): their upper 32 bits come from the same counter
with bit 62 set, a part of counter space the generator never reserves.

The launchers take ``(seed, offset)`` explicitly; the autograd layer reserves
them with ``philox_seed_and_offset(numel)``. Same (seed, offset) gives the same
numbers; tritongrad's numbers differ from torch's for the same seed.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import (
    FLOATING_DTYPES,
    bits_to_float,
    check_floating,
    check_same_device,
    compute_dtype,
    float_bits,
)
from tritongrad.runtime import cdiv, elementwise_launch_config

__all__ = [
    "launch_uniform_",
    "launch_normal_",
    "launch_exponential_",
    "launch_randint_",
    "launch_bernoulli_",
    "launch_dropout_fwd",
    "launch_dropout_bwd",
    "launch_count_outside",
]

# Counters at or above this are never handed out by the generator (it would take 2**64 numbers
# to reach them); wide randint draws its upper 32 bits there. (constexpr: kernels read it.)
HIGH_STREAM = tl.constexpr(1 << 62)

# Random mantissa bits per output float type: as many as the type holds, so that low + (high - low) * u
# rarely rounds up to ``high``. float64 takes 53 bits from two 32-bit numbers (see HIGH_STREAM).
_UNIFORM_BITS = {torch.float16: 11, torch.bfloat16: 8, torch.float32: 24, torch.float64: 53}

_INTEGER_BOUNDS = {
    torch.bool: (0, 2),
    torch.uint8: (0, 2**8),
    torch.int8: (-(2**7), 2**7),
    torch.int16: (-(2**15), 2**15),
    torch.int32: (-(2**31), 2**31),
    torch.int64: (-(2**63), 2**63),
}


# ----------------------------------------------------------------------------------------------
# Device functions
# ----------------------------------------------------------------------------------------------


@triton.jit
def philox_tile(first_call, shift, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr):
    """This program's Philox counters (BLOCK // 4,) and the element index of each lane (BLOCK // 4, 4).

    The program covers stream numbers [4 * first_call + pid * BLOCK, ... + BLOCK), ``shift`` (the
    launch offset modulo 4) numbers before element 0; indices outside [0, numel) are masked by the caller.
    """
    pid = tl.program_id(0)
    call = tl.arange(0, BLOCK // 4)
    lane = tl.arange(0, 4)
    if INT64_INDEX:
        start = pid.to(tl.int64) * BLOCK
    else:
        start = pid * BLOCK
    index = start + call[:, None] * 4 + lane[None, :] - shift
    counters = first_call + (pid.to(tl.int64) * (BLOCK // 4) + call)
    return counters, index


@triton.jit
def by_lane(lane0, lane1, lane2, lane3):
    """Four (C,) blocks interleaved into one (C, 4) block: row c is (lane0[c], ..., lane3[c])."""
    lane = tl.arange(0, 4)[None, :]
    return tl.where(
        lane == 0,
        lane0[:, None],
        tl.where(lane == 1, lane1[:, None], tl.where(lane == 2, lane2[:, None], lane3[:, None])),
    )


@triton.jit
def unit_interval(bits, MANTISSA: tl.constexpr):
    """Random uint32 bits -> float32 on the grid {k / 2**MANTISSA} of [0, 1), from the top bits."""
    return (bits >> (32 - MANTISSA)).to(tl.float32) * (1.0 / (1 << MANTISSA))


@triton.jit
def random_words(seed, counters):
    """The four 32-bit numbers of each Philox call at ``counters``, as a (C, 4) uint32 block."""
    bits0, bits1, bits2, bits3 = tl.randint4x(seed, counters)
    return by_lane(bits0, bits1, bits2, bits3)


@triton.jit
def unit_interval_53(low_words, high_words):
    """Two random uint32 blocks -> float64 on the grid {k / 2**53} of [0, 1): 32 bits of
    ``high_words`` above the top 21 bits of ``low_words`` (full float64 resolution)."""
    bits = (high_words.to(tl.uint64) << 21) | (low_words.to(tl.uint64) >> 11)
    return bits.to(tl.float64) * (1.0 / (1 << 53))


@triton.jit
def uniform_tile(seed, counters, MANTISSA: tl.constexpr):
    """A (C, 4) block of uniforms on [0, 1) for the lanes of ``counters``: float32 with MANTISSA
    random bits, or float64 with 53 (the upper bits from the HIGH_STREAM counters)."""
    words = random_words(seed, counters)
    if MANTISSA == 53:
        return unit_interval_53(words, random_words(seed, counters + HIGH_STREAM))
    else:
        return unit_interval(words, MANTISSA)


@triton.jit
def box_muller(bits_a, bits_b):
    """Two independent standard normals (float32) from two random uint32 blocks."""
    # u_a in (0, 1] keeps the log finite: |z| <= sqrt(2 * 24 * ln 2) ~ 5.77.
    u_a = ((bits_a >> 8) + 1).to(tl.float32) * (1.0 / (1 << 24))
    sine, cosine = sin_cos_of_turns(unit_interval(bits_b, 24))
    radius = tl.sqrt(-2.0 * tl.log(u_a))
    return radius * cosine, radius * sine


@triton.jit
def sin_cos_of_turns(turns):
    """sin(2 pi t) and cos(2 pi t) for t in [0, 1) on the 2**-24 grid, without tl.sin/tl.cos.

    A GPU's sin/cos carry a slow argument-reduction path for huge angles that spills registers
    (the AOT report saw 8 bytes on sm_90) though Box-Muller never needs it: here the reduction to
    the nearest quarter turn is exact (4 t - k has no rounding error), leaving r in [-pi/4, pi/4]
    where Taylor polynomials of degree 9 and 10 are accurate to ~2e-9, below float32's resolution.
    """
    quarter = tl.floor(turns * 4.0 + 0.5)
    r = (turns * 4.0 - quarter) * 1.5707963267948966
    r2 = r * r
    sin_r = r * (1.0 + r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0)))))
    cos_r = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0)))))
    k = quarter.to(tl.int32) % 4
    return quarter_turn(sin_r, cos_r, k)


@triton.jit
def quarter_turn(sin_r, cos_r, k):
    """sin and cos of r + k quarter turns from those of r."""
    sine = tl.where(k == 0, sin_r, tl.where(k == 1, cos_r, tl.where(k == 2, -sin_r, -cos_r)))
    cosine = tl.where(k == 0, cos_r, tl.where(k == 1, -sin_r, tl.where(k == 2, -cos_r, sin_r)))
    return sine, cosine


@triton.jit
def box_muller_53(u_a, u_b):
    """Two independent standard normals (float64) from two float64 uniforms on [0, 1) with 53 bits.

    1 - u_a is in (0, 1], so the log is finite (|z| <= sqrt(2 * 53 * ln 2) ~ 8.57); the angle's
    sine and cosine come from degree-17/18 Taylor polynomials on [-pi/4, pi/4] (error ~5e-17).
    """
    radius = tl.sqrt(-2.0 * tl.log(1.0 - u_a))
    quarter = tl.floor(u_b * 4.0 + 0.5)
    r = (u_b * 4.0 - quarter) * 1.5707963267948966
    r2 = r * r
    sin_r = 1.0 / 6227020800.0 + r2 * (-1.0 / 1307674368000.0 + r2 * (1.0 / 355687428096000.0))
    sin_r = -1.0 / 5040.0 + r2 * (1.0 / 362880.0 + r2 * (-1.0 / 39916800.0 + r2 * sin_r))
    sin_r = r * (1.0 + r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * sin_r)))
    cos_r = -1.0 / 87178291200.0 + r2 * (1.0 / 20922789888000.0 + r2 * (-1.0 / 6402373705728000.0))
    cos_r = 1.0 / 40320.0 + r2 * (-1.0 / 3628800.0 + r2 * (1.0 / 479001600.0 + r2 * cos_r))
    cos_r = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * cos_r)))
    sine, cosine = quarter_turn(sin_r, cos_r, quarter.to(tl.int32) % 4)
    return radius * cosine, radius * sine


@triton.jit
def store_converted(out_ptrs, value, mask):
    """Stores integer ``value`` as the output's type: bool means != 0, and half types go through
    float32 (the interpreter converts integers to bfloat16 wrongly)."""
    element_type = out_ptrs.dtype.element_ty
    if element_type == tl.int1:
        tl.store(out_ptrs, value != 0, mask=mask)
    elif element_type == tl.float16 or element_type == tl.bfloat16:
        tl.store(out_ptrs, value.to(tl.float32).to(element_type), mask=mask)
    else:
        tl.store(out_ptrs, value.to(element_type), mask=mask)


# ----------------------------------------------------------------------------------------------
# Fills
# ----------------------------------------------------------------------------------------------


# out = low + (high - low) * u in place. Traffic: one store per element, no loads.
# Grid: one program fills BLOCK consecutive stream numbers (BLOCK // 4 Philox calls).
@triton.jit(do_not_specialize=["seed", "first_call", "shift", "low_bits", "high_bits"])
def uniform_kernel(
    out_ptr,
    numel, seed, first_call, shift,
    low_bits, high_bits,
    COMPUTE: tl.constexpr, MANTISSA: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    counters, index = philox_tile(first_call, shift, BLOCK, INT64_INDEX)
    mask = (index >= 0) & (index < numel)
    u = uniform_tile(seed, counters, MANTISSA)
    low = bits_to_float(low_bits).to(COMPUTE)
    high = bits_to_float(high_bits).to(COMPUTE)
    value = (low + (high - low) * u.to(COMPUTE)).to(out_ptr.dtype.element_ty)
    # Rounding to the output type may land on `high`; the range is half-open, so fold it to `low`
    # (torch does the same).
    value = tl.where(value.to(COMPUTE) < high, value, low.to(out_ptr.dtype.element_ty))
    tl.store(out_ptr + index, value, mask=mask)


# out = mean + std * z, z standard normal by Box-Muller: the four lanes of one Philox call give
# two (cos, sin) pairs, i.e. four normals (in float64, from four 53-bit uniforms: the lanes of the
# call and of its HIGH_STREAM twin). Traffic: one store per element.
# Grid: one program fills BLOCK consecutive stream numbers.
@triton.jit(do_not_specialize=["seed", "first_call", "shift", "mean_bits", "std_bits"])
def normal_kernel(
    out_ptr,
    numel, seed, first_call, shift,
    mean_bits, std_bits,
    COMPUTE: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    counters, index = philox_tile(first_call, shift, BLOCK, INT64_INDEX)
    mask = (index >= 0) & (index < numel)
    bits0, bits1, bits2, bits3 = tl.randint4x(seed, counters)
    if WIDE:
        high0, high1, high2, high3 = tl.randint4x(seed, counters + HIGH_STREAM)
        z0, z1 = box_muller_53(unit_interval_53(bits0, high0), unit_interval_53(bits1, high1))
        z2, z3 = box_muller_53(unit_interval_53(bits2, high2), unit_interval_53(bits3, high3))
    else:
        z0, z1 = box_muller(bits0, bits1)
        z2, z3 = box_muller(bits2, bits3)
    z = by_lane(z0, z1, z2, z3).to(COMPUTE)
    mean = bits_to_float(mean_bits).to(COMPUTE)
    std = bits_to_float(std_bits).to(COMPUTE)
    tl.store(out_ptr + index, (mean + std * z).to(out_ptr.dtype.element_ty), mask=mask)


# out = -log(u) / rate with u uniform on (0, 1) (never 0 or 1: the grid is shifted by half a step), so
# values are positive and finite (0 for an infinite rate). Traffic: one store per element.
# Grid: one program fills BLOCK consecutive stream numbers.
@triton.jit(do_not_specialize=["seed", "first_call", "shift", "rate_bits"])
def exponential_kernel(
    out_ptr,
    numel, seed, first_call, shift,
    rate_bits,
    COMPUTE: tl.constexpr, MANTISSA: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    counters, index = philox_tile(first_call, shift, BLOCK, INT64_INDEX)
    mask = (index >= 0) & (index < numel)
    u = uniform_tile(seed, counters, MANTISSA)
    u = u + 0.5 / (1 << MANTISSA)
    rate = bits_to_float(rate_bits).to(COMPUTE)
    value = -tl.log(u.to(COMPUTE)) / rate
    tl.store(out_ptr + index, value.to(out_ptr.dtype.element_ty), mask=mask)


# out = low + r with r uniform on [0, span). Traffic: one store per element.
# SPAN_KIND picks the reduction of the random bits to [0, span):
#   "narrow" (span <= 2**32): r = (x * span) >> 32 for one 32-bit x (multiply-shift: each value
#            gets floor or ceil of 2**32 / span of the 2**32 inputs, a relative bias <= span / 2**32);
#   "wide"   (2**32 < span < 2**64): r = x64 % span for a 64-bit x64 (bias <= span / 2**64 relative,
#            torch's method for wide ranges too);
#   "full"   (span == 2**64, int64's whole range): r = x64.
# Grid: one program fills BLOCK consecutive stream numbers.
@triton.jit(do_not_specialize=["seed", "first_call", "shift", "low", "span"])
def randint_kernel(
    out_ptr,
    numel, seed, first_call, shift,
    low, span,
    SPAN_KIND: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    counters, index = philox_tile(first_call, shift, BLOCK, INT64_INDEX)
    mask = (index >= 0) & (index < numel)
    bits0, bits1, bits2, bits3 = tl.randint4x(seed, counters)
    low_bits = by_lane(bits0, bits1, bits2, bits3).to(tl.uint64)
    if SPAN_KIND == "narrow":
        offset_in_range = (low_bits * span.to(tl.uint64)) >> 32
    else:
        high0, high1, high2, high3 = tl.randint4x(seed, counters + HIGH_STREAM)
        wide_bits = (by_lane(high0, high1, high2, high3).to(tl.uint64) << 32) | low_bits
        if SPAN_KIND == "wide":
            offset_in_range = wide_bits % span.to(tl.uint64)
        else:
            offset_in_range = wide_bits
    # Two's-complement addition in uint64 covers every int64 `low` without overflow checks.
    value = (low.to(tl.int64).to(tl.uint64, bitcast=True) + offset_in_range).to(tl.int64, bitcast=True)
    store_converted(out_ptr + index, value, mask)


# out = 1 where u < p else 0, p a scalar or an element-aligned tensor of probabilities.
# Traffic: one store per element (+ one load of p per element when P_FROM_TENSOR).
# Grid: one program fills BLOCK consecutive stream numbers.
@triton.jit(do_not_specialize=["seed", "first_call", "shift"])
def bernoulli_kernel(
    out_ptr, p_ptr,
    numel, seed, first_call, shift,
    p,
    P_FROM_TENSOR: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    counters, index = philox_tile(first_call, shift, BLOCK, INT64_INDEX)
    mask = (index >= 0) & (index < numel)
    if P_FROM_TENSOR:
        probability = tl.load(p_ptr + index, mask=mask, other=0.0)
        if probability.dtype == tl.float64:
            # float64 probabilities resolve to 2**-53, like float64 draws.
            hit = uniform_tile(seed, counters, 53) < probability
        else:
            hit = uniform_tile(seed, counters, 24) < probability.to(tl.float32)
    else:
        hit = uniform_tile(seed, counters, 24) < p
    store_converted(out_ptr + index, tl.where(hit, 1, 0), mask)


# count += number of x outside [low, high] or NaN: the range check of probabilities and standard
# deviations before sampling. Traffic: one load per element, one atomic add per program.
# Grid: one program checks BLOCK consecutive elements.
@triton.jit
def count_outside_kernel(x_ptr, count_ptr, numel, low, high, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr):
    if INT64_INDEX:
        index = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    else:
        index = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = index < numel
    x = tl.load(x_ptr + index, mask=mask, other=low)
    if x.dtype != tl.float64:
        x = x.to(tl.float32)
    outside = mask & ((x < low) | (x > high) | (x != x))
    tl.atomic_add(count_ptr, tl.sum(outside.to(tl.int64)))


# ----------------------------------------------------------------------------------------------
# Dropout
# ----------------------------------------------------------------------------------------------


# out = x * (keep ? 1 / (1 - p) : 0) with keep = (u >= p), u regenerated from (seed, counter):
# the forward and the backward run this same kernel with the same (seed, offset), so the backward
# sees exactly the forward's mask without a mask tensor ever being stored.
# Traffic: one load and one store per element. Dropped NaN/inf inputs give NaN (x * 0), like torch.
# Grid: one program handles BLOCK consecutive elements (stream numbers).
@triton.jit(do_not_specialize=["seed", "first_call", "shift", "scale_bits"])
def dropout_kernel(
    out_ptr, x_ptr,
    numel, seed, first_call, shift,
    p, scale_bits,
    COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    counters, index = philox_tile(first_call, shift, BLOCK, INT64_INDEX)
    mask = (index >= 0) & (index < numel)
    bits0, bits1, bits2, bits3 = tl.randint4x(seed, counters)
    keep = unit_interval(by_lane(bits0, bits1, bits2, bits3), 24) >= p
    x = tl.load(x_ptr + index, mask=mask, other=0.0).to(COMPUTE)
    scale = bits_to_float(scale_bits).to(COMPUTE)
    out = x * tl.where(keep, scale, 0.0)
    tl.store(out_ptr + index, out.to(out_ptr.dtype.element_ty), mask=mask)


# ----------------------------------------------------------------------------------------------
# Launchers
# ----------------------------------------------------------------------------------------------


def _check_stream(name: str, seed: int, offset: int) -> None:
    if not 0 <= int(seed) < 2**64:
        raise ValueError(f"{name}: seed must be in [0, 2**64), got {seed}")
    if not 0 <= int(offset) < HIGH_STREAM.value:
        raise ValueError(f"{name}: Philox offset must be in [0, 2**62), got {offset}")


def _check_contiguous(name: str, tensor: torch.Tensor, what: str) -> None:
    if not tensor.is_contiguous():
        raise ValueError(
            f"{name}: {what} must be contiguous (shape {tuple(tensor.shape)}, strides {tensor.stride()}); "
            "the caller makes it contiguous first"
        )


def _launch(kernel, out: torch.Tensor, tensors: tuple, scalars: tuple, seed: int, offset: int, **meta) -> None:
    """Launches a Philox kernel over out.numel() elements drawing stream numbers offset, offset + 1, ..."""
    numel = out.numel()
    block, num_warps = elementwise_launch_config(numel)
    shift = int(offset) % 4
    # Indices run up to a block past numel + shift: widen to int64 before they could wrap.
    int64_index = numel + shift + block >= 2**31
    # One program instance per BLOCK stream numbers, the first starting `shift` numbers before element 0.
    grid = (cdiv(numel + shift, block),)
    kernel[grid](
        out, *tensors, numel, int(seed), int(offset) // 4, shift, *scalars,
        BLOCK=block, INT64_INDEX=int64_index, num_warps=num_warps, **meta,
    )  # fmt: skip


def launch_uniform_(out: torch.Tensor, low: float, high: float, seed: int, offset: int) -> torch.Tensor:
    """Fills contiguous floating ``out`` in place with U[low, high); returns ``out``.

    Numbers are drawn with as many random mantissa bits as ``out``'s type holds (53 for float64,
    from two 32-bit numbers); ``low`` and ``high`` are used at full float64 precision.
    Consumes ``out.numel()`` stream numbers from ``offset``.
    """
    name = "uniform_"
    check_floating(name, out)
    _check_contiguous(name, out, "out")
    _check_stream(name, seed, offset)
    low, high = float(low), float(high)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"{name}: expects finite bounds, got from={low} and to={high}")
    if low > high:
        raise ValueError(f"{name}: expects to return a [from, to) range, but found from={low} > to={high}")
    if high - low > torch.finfo(out.dtype).max:
        raise ValueError(f"{name}: to - from = {high - low} does not fit in {out.dtype}")
    if out.numel() == 0:
        return out
    _launch(
        uniform_kernel, out, (), (float_bits(low), float_bits(high)), seed, offset,
        COMPUTE=compute_dtype(out.dtype), MANTISSA=_UNIFORM_BITS[out.dtype],
    )  # fmt: skip
    return out


def launch_normal_(out: torch.Tensor, mean: float, std: float, seed: int, offset: int) -> torch.Tensor:
    """Fills contiguous floating ``out`` in place with N(mean, std**2) samples; returns ``out``.

    Box-Muller in float32 (in float64 from 53-bit uniforms for float64 outputs).
    Consumes ``out.numel()`` stream numbers from ``offset``.
    """
    name = "normal_"
    check_floating(name, out)
    _check_contiguous(name, out, "out")
    _check_stream(name, seed, offset)
    mean, std = float(mean), float(std)
    if not std >= 0.0:
        raise ValueError(f"{name}: expects std >= 0.0, but found std {std}")
    if out.numel() == 0:
        return out
    _launch(
        normal_kernel, out, (), (float_bits(mean), float_bits(std)), seed, offset,
        COMPUTE=compute_dtype(out.dtype), WIDE=out.dtype == torch.float64,
    )  # fmt: skip
    return out


def launch_exponential_(out: torch.Tensor, rate: float, seed: int, offset: int) -> torch.Tensor:
    """Fills contiguous floating ``out`` in place with Exponential(rate) samples (density
    rate * exp(-rate * x)); returns ``out``. Values are positive and finite (all 0 for an infinite
    rate): -log(u) / rate for u uniform on (0, 1) with 24 random bits (53 for float64), computed in
    float32 (float64) before rounding to ``out``'s type. Consumes ``out.numel()`` stream numbers
    from ``offset``.
    """
    name = "exponential_"
    check_floating(name, out)
    _check_contiguous(name, out, "out")
    _check_stream(name, seed, offset)
    rate = float(rate)
    if not rate > 0.0:  # (an infinite rate is allowed: every sample is then 0, as torch's)
        raise ValueError(f"{name} expects lambda > 0.0, but found lambda={rate}")
    if out.numel() == 0:
        return out
    _launch(
        exponential_kernel, out, (), (float_bits(rate),), seed, offset,
        COMPUTE=compute_dtype(out.dtype), MANTISSA=53 if out.dtype == torch.float64 else 24,
    )  # fmt: skip
    return out


def launch_randint_(out: torch.Tensor, low: int, high: int, seed: int, offset: int) -> torch.Tensor:
    """Fills contiguous ``out`` in place with integers uniform on [low, high); returns ``out``.

    ``out`` may be bool, uint8, int8, int16, int32, int64 or floating (then the int64 draws are rounded
    to the type, so beyond the integers it holds exactly, e.g. 2**24 for float32, some values repeat).
    Ranges up to 2**32 use one 32-bit number per element by multiply-shift (relative bias <= range /
    2**32); wider int64 ranges use a 64-bit number modulo the range (relative bias <= range / 2**64).
    Consumes ``out.numel()`` stream numbers from ``offset`` (wide ranges also read the never-reserved
    counters above 2**62).
    """
    name = "random_"
    _check_contiguous(name, out, "out")
    _check_stream(name, seed, offset)
    low, high = int(low), int(high)
    if out.dtype in _INTEGER_BOUNDS:
        lowest, past_highest = _INTEGER_BOUNDS[out.dtype]
    elif out.dtype in FLOATING_DTYPES:
        # integers drawn in int64 and rounded to the type as torch's casts round them: within the type's
        # finite range (beyond 2**mantissa not every integer is exact; the caller warns, as torch does)
        largest = int(torch.finfo(out.dtype).max)
        lowest, past_highest = max(-(2**63), -largest), min(2**63, largest + 1)
    else:
        raise TypeError(f"{name}: unsupported output dtype {out.dtype}")
    if low >= high:
        raise ValueError(f"{name}: expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if low < lowest or high > past_highest:
        raise ValueError(
            f"{name}: [from, to) = [{low}, {high}) is out of bounds for {out.dtype} "
            f"(allowed [{lowest}, {past_highest}))"
        )
    if out.numel() == 0:
        return out
    span = high - low
    span_kind = "narrow" if span <= 2**32 else ("wide" if span < 2**64 else "full")
    _launch(
        randint_kernel, out, (), (low, span % 2**64), seed, offset, SPAN_KIND=span_kind,
    )  # fmt: skip
    return out


def launch_bernoulli_(out: torch.Tensor, p: float | torch.Tensor, seed: int, offset: int) -> torch.Tensor:
    """Fills contiguous ``out`` in place with 1 (probability ``p``) or 0; returns ``out``.

    ``p`` is a float in [0, 1] or a contiguous floating tensor with ``out``'s number of elements
    (element i of ``out`` uses probability p[i]; values outside [0, 1] act as clamped, unchecked
    because checking would need a reduction). ``out`` may be floating, integer or bool. The
    comparison u < p uses a 24-bit uniform u, so probabilities resolve to 2**-24 (2**-53 for a
    float64 tensor ``p``, whose u has 53 bits).
    Consumes ``out.numel()`` stream numbers from ``offset``.
    """
    name = "bernoulli_"
    _check_contiguous(name, out, "out")
    _check_stream(name, seed, offset)
    if out.dtype not in FLOATING_DTYPES and out.dtype not in _INTEGER_BOUNDS:
        raise TypeError(f"{name}: unsupported output dtype {out.dtype}")
    if isinstance(p, torch.Tensor):
        check_floating(name, p)
        check_same_device(name, out, p)
        _check_contiguous(name, p, "p")
        if p.numel() != out.numel():
            raise ValueError(
                f"{name}: p has {p.numel()} elements (shape {tuple(p.shape)}) but out has {out.numel()} "
                f"(shape {tuple(out.shape)})"
            )
        p_tensor, p_scalar = p, 0.0
    else:
        p_scalar = float(p)
        if not 0.0 <= p_scalar <= 1.0:
            raise ValueError(f"{name}: expects p to be in [0, 1], but got p={p_scalar}")
        p_tensor = out
    if out.numel() == 0:
        return out
    _launch(
        bernoulli_kernel, out, (p_tensor,), (p_scalar,), seed, offset,
        P_FROM_TENSOR=isinstance(p, torch.Tensor),
    )  # fmt: skip
    return out


def launch_count_outside(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """The number of entries of the contiguous floating ``x`` below ``low``, above ``high`` or NaN,
    as an int64 tensor of shape () on ``x``'s device (read it back to raise an error)."""
    name = "count_outside"
    check_floating(name, x)
    _check_contiguous(name, x, "x")
    count = torch.empty((), dtype=torch.int64, device=x.device)
    block, num_warps = elementwise_launch_config(x.numel())
    # The count starts at zero: the first launch over no elements would leave it unset.
    _zero_count_kernel[(1,)](count)
    if x.numel():
        grid = (cdiv(x.numel(), block),)
        count_outside_kernel[grid](
            x, count, x.numel(), float(low), float(high),
            BLOCK=block, INT64_INDEX=x.numel() + block >= 2**31, num_warps=num_warps,
        )  # fmt: skip
    return count


@triton.jit
def _zero_count_kernel(count_ptr):
    tl.store(count_ptr, tl.zeros((), tl.int64))


def _launch_dropout(name: str, source: torch.Tensor, p: float, seed: int, offset: int) -> torch.Tensor:
    check_floating(name, source)
    _check_contiguous(name, source, "input")
    _check_stream(name, seed, offset)
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    out = torch.empty_like(source)
    if source.numel() == 0:
        return out
    # p == 1 keeps nothing, so the scale is never applied; 0 avoids dividing by zero.
    scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0
    _launch(
        dropout_kernel, out, (source,), (p, float_bits(scale)), seed, offset,
        COMPUTE=compute_dtype(source.dtype),
    )  # fmt: skip
    return out


def launch_dropout_fwd(x: torch.Tensor, p: float, seed: int, offset: int) -> torch.Tensor:
    """Dropout's forward: ``x * keep / (1 - p)`` with keep ~ Bernoulli(1 - p) per element.

    ``x`` is contiguous (any floating dtype). The mask is a function of (seed, offset + element
    index) and is not stored: pass the same (seed, offset) to ``launch_dropout_bwd``. p = 0
    returns a copy of ``x``, p = 1 zeros (NaN where x is NaN or inf, as torch's x * 0).
    """
    return _launch_dropout("dropout", x, p, seed, offset)


def launch_dropout_bwd(grad_out: torch.Tensor, p: float, seed: int, offset: int) -> torch.Tensor:
    """Dropout's backward: ``grad_out * keep / (1 - p)`` with the forward's mask regenerated from
    the same (seed, offset)."""
    return _launch_dropout("dropout_backward", grad_out, p, seed, offset)
