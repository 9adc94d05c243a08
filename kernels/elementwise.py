"""Elementwise maps: unary, binary and `where`, over strided and broadcast operands.

Every kernel here reads its operands in place through ``strided_offset``
(kernels/strided.py), so transposed, sliced and expanded inputs cost no copy,
and writes its output through strides too, which is how in-place ops on views
(``x[:, 1].add_(y)``) work. Memory traffic is the minimum: each operand element
is read once per output element that uses it and each output written once.

The operation is a string constexpr (``OP="mul"``): each op compiles to its own
specialised kernel, and the ``if OP == ...`` chains cost nothing at run time. A
branch of ``unary_math``/``binary_math`` is an op's whole kernel side: the op
tables in tritongrad/ops/elementwise.py name it and derive everything else
(docs/adding-an-op.md).
Arithmetic happens in a compute dtype chosen by the caller (float32 for half
types, see kernels/common.compute_dtype); inputs are cast to it after loading
and the result is cast to the output dtype on store.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from math import copysign, prod

import torch
import triton
import triton.language as tl

from tritongrad.kernels.activation import erf, erf_pair_of_magnitude, erfc, tanh
from tritongrad.kernels.angle_reduction import cos_of_float32, sin_of_float32, tan_of_float32
from tritongrad.kernels.common import (
    bits_to_float,
    check_same_device,
    complex_refusal,
    compute_dtype,
    needs_int64_indexing,
    remember,
    to_bfloat16_rne,
)
from tritongrad.kernels.float_bits import next_half_representable, next_representable
from tritongrad.kernels.gamma_functions import digamma, hurwitz_zeta, log_gamma, trigamma
from tritongrad.kernels.special_functions import (
    bessel_i,
    erfcx,
    incomplete_gamma,
    log_ndtr,
    ndtri,
    spherical_bessel_j0,
)
from tritongrad.kernels.strided import (
    MAX_RANK,
    broadcast_shapes,
    broadcast_strides,
    check_no_partial_overlap,
    check_writable,
    coalesce,
    elementwise_output_strides,
    overlap_check,
    split_leading_dim,
    strided_offset,
)
from tritongrad.runtime import cdiv, elementwise_launch_config

# ----------------------------------------------------------------------------------------------
# Device functions
# ----------------------------------------------------------------------------------------------


@triton.jit
def float_pow(base, exponent, COMPUTE: tl.constexpr):
    """base ** exponent for floats as exp(e * log|b|) in float64, with torch's sign and edge rules.

    In float64 that formula loses about |e * log|b|| ulps (10.0 ** 22 came out 1.000000000000003e+22),
    so there an integer power up to 64 in size (up to 1024 for a whole-number base or the reciprocal
    of one: 10, 0.5) is taken by repeated squaring instead: exact wherever the powers are (125.0, 1e22,
    1.5 ** 5, 2.0 ** 127), a negative power the correctly rounded reciprocal of the positive one
    (0.001). Where the powers are not exact squaring loses up to about e / 2 ulps, which is why the
    bound is lower for other bases; a positive power that overflows leaves its reciprocal (1e-320) to
    the formula."""
    b = base.to(tl.float64)
    e = exponent.to(tl.float64)
    magnitude = tl.exp(e * tl.log(tl.abs(b)))
    exponent_is_integer = tl.floor(e) == e
    if COMPUTE == tl.float64:
        size = tl.abs(b)
        whole = (tl.floor(size) == size) | (tl.floor(1.0 / size) == 1.0 / size)
        bound = tl.where(whole, 1024.0, 64.0)
        squared = exponent_is_integer & (tl.abs(e) <= bound) & (size > 0) & (size < float("inf"))
        remaining = tl.where(squared, tl.abs(e), 0.0).to(tl.int32)
        power = tl.where(squared, size, 1.0)
        product = tl.zeros_like(power) + 1.0
        while tl.max(remaining, axis=0) > 0:
            product = tl.where((remaining & 1) != 0, product * power, product)
            power = power * power
            remaining = remaining >> 1
        squared = squared & (product < float("inf"))
        magnitude = tl.where(squared, tl.where(e < 0, 1.0 / product, product), magnitude)
    exponent_is_odd = exponent_is_integer & (tl.abs(e % 2.0) == 1.0)
    negative = tl.where(exponent_is_integer, tl.where(exponent_is_odd, -magnitude, magnitude), float("nan"))
    result = tl.where(b < 0, negative, magnitude)
    # C's pow: -0.0 to an odd power keeps its sign (-0.0 ** -1 is -inf); (-1) ** +-inf is 1.
    result = tl.where((b == 0) & sign_bit(b) & exponent_is_odd, -magnitude, result)
    result = tl.where((tl.abs(b) == 1) & (tl.abs(e) == float("inf")), 1.0, result)
    # -inf to a power that is not an integer is +inf or +0 (C's pow), not the NaN of other negative bases
    result = tl.where((b == float("-inf")) & ~exponent_is_integer, magnitude, result)
    result = tl.where((e == 0) | (b == 1), 1.0, result)
    return result.to(COMPUTE)


@triton.jit
def integer_pow(base, exponent):
    """base ** exponent for integer tensors by repeated squaring; a negative exponent gives torch's
    powi answer (1 for base 1, +-1 for base -1, else 0)."""
    one = base * 0 + 1
    result = one
    remaining = exponent + base * 0
    negative = remaining < 0
    odd = (remaining & 1) != 0
    zero = one * 0
    minus_one = zero - one  # (a tensor: unsigned types refuse the literal -1; they have no negative powers)
    inverse = tl.where(base == one, one, tl.where(base == minus_one, tl.where(odd, minus_one, one), zero))
    remaining = tl.where(negative, remaining * 0, remaining)
    power = base
    while tl.max(remaining, axis=0) > 0:
        result = tl.where((remaining & 1) != 0, result * power, result)
        power = power * power
        remaining = remaining >> 1
    return tl.where(negative, inverse, result)


@triton.jit
def splat(value, shape: tl.constexpr, COMPUTE: tl.constexpr):
    """A scalar kernel argument as a block of COMPUTE. (The interpreter hands Python floats over
    unconverted, so scalars are widened by addition rather than with ``.to``. The addition makes a
    -0.0 scalar +0.0: launch_binary and launch_ternary carry -0.0 as a tensor instead.)"""
    return (tl.zeros(shape, COMPUTE) + value).to(COMPUTE)


@triton.jit
def store_as(out_ptrs, value, mask):
    """Stores ``value`` converted to the output's element type; bool outputs mean ``value != 0``."""
    if out_ptrs.dtype.element_ty == tl.int1:
        tl.store(out_ptrs, value != 0, mask=mask)
    elif out_ptrs.dtype.element_ty == tl.bfloat16:
        tl.store(out_ptrs, to_bfloat16_rne(value.to(tl.float32)), mask=mask)
    elif out_ptrs.dtype.element_ty == tl.float16:
        tl.store(out_ptrs, value.to(tl.float32).to(tl.float16), mask=mask)
    else:
        tl.store(out_ptrs, value.to(out_ptrs.dtype.element_ty), mask=mask)


@triton.jit
def linear_index(BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr):
    """The indices this program handles: BLOCK consecutive output elements."""
    if INT64_INDEX:
        start = tl.program_id(0).to(tl.int64) * BLOCK
    else:
        start = tl.program_id(0) * BLOCK
    return start + tl.arange(0, BLOCK)


@triton.jit
def sign_bit(x):
    """True where x (float32 or float64) has its sign bit set: negative numbers, -0.0, -NaN."""
    if x.dtype == tl.float64:
        negative = x.to(tl.int64, bitcast=True) < 0
    else:
        negative = x.to(tl.int32, bitcast=True) < 0
    return negative


@triton.jit
def constant_like(x, value):
    """A block of ``value`` in x's float type. (``tl.where(c, 0.1, 0.2)`` would make float32
    constants; adding to a float64 block keeps every digit.)"""
    return tl.zeros_like(x) + value


@triton.jit
def log1p(x):
    """log(1 + x), accurate for tiny |x|: with u = 1 + x rounded, log(u) * x / (u - 1) cancels the
    rounding error of u (Goldberg 1991, theorem 4). u == 1 means |x| < ulp(1)/2, where log1p(x) = x."""
    u = 1.0 + x
    compensated = tl.log(u) * (x / (u - 1.0))
    return tl.where(u == 1.0, x, tl.where(u == float("inf"), u, compensated))


@triton.jit
def expm1(x):
    """exp(x) - 1, accurate for tiny |x| (Kahan): with u = exp(x) rounded, (u - 1) * x / log(u)."""
    u = tl.exp(x)
    shifted = u - 1.0
    compensated = shifted * (x / tl.log(u))
    result = tl.where(shifted == -1.0, shifted, compensated)  # exp(x) < ulp(1)/2: exactly -1
    result = tl.where(u == float("inf"), u, result)
    return tl.where((u == 1.0) | (x != x), x, result)


# fdlibm's s_atan.c (Sun Microsystems, 1993): |x| is reduced to |t| <= 7/16 around one of the
# breakpoints 0, 1/2, 1, 3/2 and inf, where atan(x) = atan(c) + atan(t); atan(t) is an odd
# polynomial of degree 23 (error < 2**-57). atan(c) is kept as hi + lo, a float64 pair.
@triton.jit
def atan(x):
    """Arc tangent (float32 or float64), within 1 ulp; NaN stays NaN, atan(-0.0) is -0.0."""
    a = tl.abs(x)
    t = tl.where(
        a < 0.4375,
        a,
        tl.where(
            a < 0.6875,
            (2.0 * a - 1.0) / (2.0 + a),
            tl.where(a < 1.1875, (a - 1.0) / (a + 1.0), tl.where(a < 2.4375, (a - 1.5) / (1.0 + 1.5 * a), -1.0 / a)),
        ),
    )
    zero = tl.zeros_like(a)
    hi = tl.where(
        a < 0.4375,
        zero,
        tl.where(
            a < 0.6875,
            zero + 4.63647609000806093515e-01,
            tl.where(
                a < 1.1875,
                zero + 7.85398163397448278999e-01,
                tl.where(a < 2.4375, zero + 9.82793723247329054082e-01, zero + 1.57079632679489655800e00),
            ),
        ),
    )
    lo = tl.where(
        a < 0.4375,
        zero,
        tl.where(
            a < 0.6875,
            zero + 2.26987774529616870924e-17,
            tl.where(
                a < 1.1875,
                zero + 3.06161699786838301793e-17,
                tl.where(a < 2.4375, zero + 1.39033110312309984516e-17, zero + 6.12323399573676603587e-17),
            ),
        ),
    )
    z = t * t
    w = z * z
    odd = w * 1.62858201153657823623e-02 + 4.97687799461593236017e-02
    odd = odd * w + 6.66107313738753120669e-02
    odd = odd * w + 9.09088713343650656196e-02
    odd = odd * w + 1.42857142725034663711e-01
    odd = odd * w + 3.33333333333329318027e-01
    even = w * -3.65315727442169155270e-02 - 5.83357013379057348645e-02
    even = even * w - 7.69187620504482999495e-02
    even = even * w - 1.11111104054623557880e-01
    even = even * w - 1.99999999998764832476e-01
    series = z * odd + w * even
    magnitude = hi - ((t * series - lo) - t)
    return tl.where(sign_bit(x), -magnitude, magnitude)


@triton.jit
def atan2(y, x):
    """The angle of the point (x, y) in [-pi, pi], with C's rules for zeros, infinities and NaN."""
    ay = tl.abs(y)
    ax = tl.abs(x)
    # atan of the smaller over the larger magnitude keeps the reduced argument in [0, 1].
    steep = ay > ax
    base = atan(tl.where(steep, ax / ay, ay / ax))
    angle = tl.where(steep, constant_like(base, 1.5707963267948966) - base, base)
    angle = tl.where((ax == float("inf")) & (ay == float("inf")), constant_like(base, 0.7853981633974483), angle)
    angle = tl.where((ax == 0.0) & (ay == 0.0), tl.zeros_like(base), angle)
    angle = tl.where(sign_bit(x), constant_like(base, 3.141592653589793) - angle, angle)
    angle = tl.where(sign_bit(y), -angle, angle)
    return tl.where((x != x) | (y != y), x + y, angle)


@triton.jit
def exact_sqrt(x):
    """sqrt correctly rounded in float32 too (plain tl.sqrt is approximate there on a GPU)."""
    if x.dtype == tl.float64:
        root = tl.sqrt(x)
    else:
        root = tl.sqrt_rn(x)
    return root


@triton.jit
def asin(x):
    """asin(x) = atan2(x, sqrt((1 - x)(1 + x))): both factors are exact near |x| = 1."""
    return atan2(x, exact_sqrt((1.0 - x) * (1.0 + x)))


@triton.jit
def acos(x):
    """acos(x) = 2 atan2(sqrt(1 - x), sqrt(1 + x)): no cancellation near x = +-1."""
    return 2.0 * atan2(exact_sqrt(1.0 - x), exact_sqrt(1.0 + x))


# Above this magnitude exp(-|x|) no longer shows in sinh/cosh (e^-40 < 2**-57), and asinh/acosh
# equal log(2|x|) to the last bit (their next term is 1/(4x^2) relative).
_HYPERBOLIC_FAR = tl.constexpr(20.0)
_INVERSE_HYPERBOLIC_FAR = tl.constexpr(268435456.0)  # 2**28
_LN2 = tl.constexpr(0.6931471805599453)


@triton.jit
def sinh(x):
    """(e^|x| - e^-|x|) / 2 as (t + t / (t + 1)) / 2 with t = expm1(|x|): no cancellation near 0;
    far out, (e^(|x|/2) / 2) * e^(|x|/2) overflows only where sinh does."""
    a = tl.abs(x)
    t = expm1(tl.minimum(a, _HYPERBOLIC_FAR))
    near = 0.5 * (t + t / (t + 1.0))
    half = tl.exp(0.5 * a)
    magnitude = tl.where(a < _HYPERBOLIC_FAR, near, (0.5 * half) * half)
    return tl.where(sign_bit(x), -magnitude, magnitude)


@triton.jit
def cosh(x):
    """(e^|x| + e^-|x|) / 2, far out as (e^(|x|/2) / 2) * e^(|x|/2) so it overflows only where cosh does."""
    a = tl.abs(x)
    grown = tl.exp(tl.minimum(a, _HYPERBOLIC_FAR))
    half = tl.exp(0.5 * a)
    return tl.where(a < _HYPERBOLIC_FAR, 0.5 * grown + 0.5 / grown, (0.5 * half) * half)


@triton.jit
def asinh(x):
    """log(|x| + sqrt(x^2 + 1)) written as log1p(|x| + x^2 / (1 + sqrt(1 + x^2))) (no cancellation
    near 0), and log(|x|) + log 2 where x^2 would lose the 1 (or overflow)."""
    a = tl.abs(x)
    near_a = tl.minimum(a, _INVERSE_HYPERBOLIC_FAR)
    square = near_a * near_a
    near = log1p(near_a + square / (1.0 + exact_sqrt(1.0 + square)))
    magnitude = tl.where(a < _INVERSE_HYPERBOLIC_FAR, near, tl.log(a) + _LN2)
    return tl.where(sign_bit(x), -magnitude, magnitude)


@triton.jit
def acosh(x):
    """log(x + sqrt(x^2 - 1)) as log1p(t + sqrt(t (t + 2))) with t = x - 1 (exact near 1); NaN below 1."""
    t = tl.minimum(x, _INVERSE_HYPERBOLIC_FAR) - 1.0
    near = log1p(t + exact_sqrt(t * (t + 2.0)))
    result = tl.where(x < _INVERSE_HYPERBOLIC_FAR, near, tl.log(x) + _LN2)
    return tl.where(x < 1.0, tl.full(x.shape, float("nan"), x.dtype), result)


@triton.jit
def atanh(x):
    """log((1 + |x|) / (1 - |x|)) / 2 as log1p(2|x| / (1 - |x|)) / 2 (fdlibm's split at 1/2)."""
    a = tl.abs(x)
    twice = a + a
    inner = tl.where(a < 0.5, twice + twice * a / (1.0 - a), twice / (1.0 - a))
    magnitude = 0.5 * log1p(inner)
    return tl.where(sign_bit(x), -magnitude, magnitude)


@triton.jit
def round_half_even(x, COMPUTE: tl.constexpr):
    """The integer nearest to x, ties to even (C's nearbyint, torch.round); keeps -0.0, inf, NaN."""
    low = tl.floor(x)
    above = x - low  # exact
    odd = (low - 2.0 * tl.floor(low * 0.5)) != 0.0
    rounded = tl.where((above > 0.5) | ((above == 0.5) & odd), low + 1.0, low)
    # From 2**52 (float64) / 2**23 (float32) on every float is an integer; inf and NaN pass through.
    if COMPUTE == tl.float64:
        whole = 4503599627370496.0
    else:
        whole = 8388608.0
    rounded = tl.where(tl.abs(x) < whole, rounded, x)
    return tl.where(rounded == 0.0, x * 0.0, rounded)  # round(-0.3) is -0.0


@triton.jit
def truncate(x):
    """Rounds toward zero (keeps -0.0: trunc(-0.5) is -0.0)."""
    return tl.where(x < 0, tl.ceil(x), tl.floor(x))


@triton.jit
def _erfinv_newton_step(root, a):
    """One Newton step on erf(root) = a; the residual erf(root) - a is formed as (1 - a) - erfc(root)
    in the upper half, where 1 - a is exact and erf(root) would have lost the digits that matter."""
    erf_root, erfc_root = erf_pair_of_magnitude(root)  # root >= 0: it approximates erfinv(|y|)
    residual = tl.where(a < 0.5, erf_root - a, (1.0 - a) - erfc_root)
    slope = 1.1283791670955126 * tl.exp(-root * root)  # d/dr erf(r) = 2 / sqrt(pi) * exp(-r^2)
    return root - residual / slope


@triton.jit
def _erfinv_tail_step(root, a):
    """One Newton step on log(erfc(root)) = log(1 - a), for a >= 1/2: near 1 erf is flat and erfc
    falls like exp(-root^2), so Newton on erf (or erfc) converges slowly from Giles' tail fit, which
    is extrapolated past 1 - a ~ 1e-7; log(erfc) is nearly a parabola, where Newton is quick. The
    residual log(erfc(root) / (1 - a)) is exact to rounding (1 - a is exact, erfc relative)."""
    _, erfc_root = erf_pair_of_magnitude(root)
    residual = tl.log(erfc_root / (1.0 - a))
    # d/dr log(erfc(r)) = -2 / sqrt(pi) * exp(-r^2) / erfc(r)
    slope = -1.1283791670955126 * tl.exp(-root * root) / erfc_root
    return root - residual / slope


@triton.jit
def erfinv(y):
    """Inverse error function: Giles' single-precision approximation ("Approximating the erfinv
    function", GPU Computing Gems, 2011; < 4e-7 relative), then Newton steps, on erf below |y| = 1/2
    and on log(erfc) above (_erfinv_tail_step): one for float32, four for float64 (each step about
    squares the relative error; extrapolated to 1 - |y| ~ 1e-16, the tail fit starts 12% off)."""
    a = tl.abs(y)
    w = -tl.log((1.0 - a) * (1.0 + a))
    central = w - 2.5
    p = central * 2.81022636e-08 + 3.43273939e-07
    p = p * central - 3.5233877e-06
    p = p * central - 4.39150654e-06
    p = p * central + 0.00021858087
    p = p * central - 0.00125372503
    p = p * central - 0.00417768164
    p = p * central + 0.246640727
    p = p * central + 1.50140941
    tail = exact_sqrt(tl.maximum(w, 5.0)) - 3.0
    q = tail * -0.000200214257 + 0.000100950558
    q = q * tail + 0.00134934322
    q = q * tail - 0.00367342844
    q = q * tail + 0.00573950773
    q = q * tail - 0.0076224613
    q = q * tail + 0.00943887047
    q = q * tail + 1.00167406
    q = q * tail + 2.83297682
    root = tl.where(w < 5.0, p, q) * a
    central = a < 0.5
    root = tl.where(central, _erfinv_newton_step(root, a), _erfinv_tail_step(root, a))
    if y.dtype == tl.float64:
        for _ in tl.static_range(3):
            root = tl.where(central, _erfinv_newton_step(root, a), _erfinv_tail_step(root, a))
    root = tl.where(a == 1.0, constant_like(root, float("inf")), root)
    root = tl.where(a > 1.0, constant_like(root, float("nan")), root)
    return tl.where(sign_bit(y), -root, root)


@triton.jit
def unary_math(
    x, p0, p1, p2,
    OP: tl.constexpr, COMPUTE: tl.constexpr, HAS_P0: tl.constexpr, HAS_P1: tl.constexpr,
):  # fmt: skip
    """y = OP(x) in COMPUTE; p0..p2 are the op's scalars (HAS_P0/HAS_P1 say which are given)."""
    if OP == "copy":
        y = x
    elif OP == "neg":
        y = -x
    elif OP == "abs":
        y = tl.abs(x)
    elif OP == "sign":
        # NaN compares false both ways, so its sign is 0, as in torch.
        y = tl.where(x > 0, 1, tl.where(x < 0, -1, 0)).to(COMPUTE)
    elif OP == "exp":
        y = tl.exp(x)
    elif OP == "exp2":
        y = tl.exp2(x)
    elif OP == "expm1":
        y = expm1(x)
    elif OP == "log":
        y = tl.log(x)
    elif OP == "log2":
        y = tl.log2(x)
    elif OP == "log10":
        y = tl.log(x) * 0.4342944819032518  # 1 / ln 10
    elif OP == "log1p":
        y = log1p(x)
    elif OP == "sqrt":
        y = exact_sqrt(x)
    elif OP == "rsqrt":
        y = 1.0 / exact_sqrt(x)
    elif OP == "sin":
        if COMPUTE == tl.float32:
            y = sin_of_float32(x).to(tl.float32)
        else:
            y = tl.sin(x)
    elif OP == "cos":
        if COMPUTE == tl.float32:
            y = cos_of_float32(x).to(tl.float32)
        else:
            y = tl.cos(x)
    elif OP == "tan":
        if COMPUTE == tl.float32:
            y = tan_of_float32(x).to(tl.float32)
        else:
            y = tl.sin(x) / tl.cos(x)
    elif OP == "asin":
        y = asin(x)
    elif OP == "acos":
        y = acos(x)
    elif OP == "atan":
        y = atan(x)
    elif OP == "sinh":
        y = sinh(x)
    elif OP == "cosh":
        y = cosh(x)
    elif OP == "tanh":
        y = tanh(x)
    elif OP == "asinh":
        y = asinh(x)
    elif OP == "acosh":
        y = acosh(x)
    elif OP == "atanh":
        y = atanh(x)
    elif OP == "erf":
        y = erf(x)
    elif OP == "erfc":
        y = erfc(x)
    elif OP == "erfinv":
        y = erfinv(x)
    elif OP == "lgamma":
        y = log_gamma(x.to(tl.float64)).to(COMPUTE)
    # torch.special's functions (kernels/special_functions.py), computed in float64 and rounded
    elif OP == "erfcx":
        y = erfcx(x.to(tl.float64)).to(COMPUTE)
    elif OP == "log_ndtr":
        y = log_ndtr(x.to(tl.float64)).to(COMPUTE)
    elif OP == "ndtri":
        y = ndtri(x.to(tl.float64)).to(COMPUTE)
    elif OP == "i0":
        y = bessel_i(x.to(tl.float64), 0, False).to(COMPUTE)
    elif OP == "modified_bessel_i0":
        y = bessel_i(x.to(tl.float64), 0, False).to(COMPUTE)
    elif OP == "i0e":
        y = bessel_i(x.to(tl.float64), 0, True).to(COMPUTE)
    elif OP == "i1":
        y = bessel_i(x.to(tl.float64), 1, False).to(COMPUTE)
    elif OP == "modified_bessel_i1":
        y = bessel_i(x.to(tl.float64), 1, False).to(COMPUTE)
    elif OP == "i1e":
        y = bessel_i(x.to(tl.float64), 1, True).to(COMPUTE)
    elif OP == "spherical_bessel_j0":
        y = spherical_bessel_j0(x.to(tl.float64)).to(COMPUTE)
    elif OP == "entr":
        # -x log x for x > 0, 0 at 0, -inf below (-inf included); NaN stays NaN (torch's order)
        y = tl.where(x > 0, -x * tl.log(x), tl.where(x == 0, tl.zeros_like(x), constant_like(x, -float("inf"))))
        y = tl.where(x != x, x, y)
    elif OP == "logit":
        # log(x / (1 - x)) as torch computes it; with eps (p0: float64 bits) x first becomes
        # x < eps ? eps : (x > 1 - eps ? 1 - eps : x), torch's order (eps > 1/2 included)
        if HAS_P0:
            low = bits_to_float(p0).to(COMPUTE)
            high = 1.0 - low
            x = tl.where(x < low, low, tl.where(x > high, high, x))
        if COMPUTE == tl.float32:
            ratio = tl.div_rn(x, 1.0 - x)
        else:
            ratio = x / (1.0 - x)
        y = tl.where(x == 1.0, constant_like(x, float("inf")), tl.log(ratio))
    elif OP == "polygamma":
        # the n-th derivative of digamma: no scalars for n = 0, p0 alone for n = 1; from n = 2 on
        # (-1)^(n+1) n! zeta(n + 1, x), with n + 1 and the factor as float64 bits in p0 and p1
        x64 = x.to(tl.float64)
        if HAS_P1:
            order = tl.zeros_like(x64) + bits_to_float(p0)
            y = (bits_to_float(p1) * hurwitz_zeta(order, x64)).to(COMPUTE)
        elif HAS_P0:
            # (torch's trigamma reflects -inf through sin(pi x) = NaN: NaN, where the series gives inf)
            y = tl.where(x64 == -float("inf"), float("nan"), trigamma(x64)).to(COMPUTE)
        else:
            y = digamma(x64).to(COMPUTE)
    elif OP == "sigmoid":
        y = 1.0 / (1.0 + tl.exp(-x))
    elif OP == "relu":
        # `where(x < 0, 0, x)` keeps NaN as NaN, like torch.relu.
        y = tl.where(x < 0, 0, x).to(COMPUTE)
    elif OP == "reciprocal":
        y = 1.0 / x
    elif OP == "square":
        y = x * x
    elif OP == "deg2rad":
        y = x * 0.017453292519943295  # pi / 180
    elif OP == "rad2deg":
        y = x * 57.29577951308232  # 180 / pi
    elif OP == "floor":
        if x.dtype.is_floating():
            y = tl.floor(x)
        else:
            y = x  # integers are whole already
    elif OP == "ceil":
        if x.dtype.is_floating():
            y = tl.ceil(x)
        else:
            y = x
    elif OP == "trunc":
        if x.dtype.is_floating():
            y = truncate(x)
        else:
            y = x
    elif OP == "frac":
        y = x - truncate(x)
    elif OP == "round":
        if x.dtype.is_floating():
            if HAS_P0:
                # round(x, decimals=d), as torch: nearbyint(x * 10^d) / 10^d, or for d < 0 (HAS_P1)
                # nearbyint(x / 10^-d) * 10^-d; p0 holds the float64 bits of 10^|d|.
                scale = bits_to_float(p0).to(COMPUTE)
                if HAS_P1:
                    y = round_half_even(x / scale, COMPUTE) * scale
                else:
                    y = round_half_even(x * scale, COMPUTE) / scale
            else:
                y = round_half_even(x, COMPUTE)
        else:
            y = x
    elif OP == "logical_not":
        y = x == 0
    elif OP == "bitwise_not":
        if HAS_P0:
            y = x == 0  # a bool (computed as int32: ~1 would still be true); p0 marks it
        else:
            y = ~x
    elif OP == "isnan":
        y = x != x
    elif OP == "isinf":
        if x.dtype.is_floating():
            y = tl.abs(x) == float("inf")
        else:
            y = x != x  # integers are never infinite
    elif OP == "isposinf":
        if x.dtype.is_floating():
            y = x == float("inf")
        else:
            y = x != x
    elif OP == "isneginf":
        if x.dtype.is_floating():
            y = x == -float("inf")
        else:
            y = x != x
    elif OP == "isfinite":
        if x.dtype.is_floating():
            y = tl.abs(x) < float("inf")  # false for inf and NaN
        else:
            y = x == x
    elif OP == "nan_to_num":
        # p0, p1, p2: float64 bits of the replacements for NaN, +inf and -inf.
        if x.dtype.is_floating():
            y = tl.where(x != x, bits_to_float(p0).to(COMPUTE), x)
            y = tl.where(x == float("inf"), bits_to_float(p1).to(COMPUTE), y)
            y = tl.where(x == -float("inf"), bits_to_float(p2).to(COMPUTE), y)
        else:
            y = x
    elif OP == "pow_int":
        # x ** n for an integer scalar n: repeated squaring, exact for n = 2 (x * x) like torch.
        n = p0
        remaining = tl.abs(n)
        result = tl.full(x.shape, 1, COMPUTE)
        base = x
        while remaining > 0:
            if remaining % 2 == 1:
                result = result * base
            base = base * base
            remaining = remaining // 2
        if n < 0:
            result = 1.0 / result
        y = result
    elif OP == "pow_scalar":
        y = float_pow(x, splat(p0, x.shape, COMPUTE), COMPUTE)
    elif OP == "rpow_scalar":
        y = float_pow(splat(p0, x.shape, COMPUTE), x, COMPUTE)
    elif OP == "clamp":
        y = x
        if HAS_P0:
            low = splat(p0, x.shape, COMPUTE)
            y = tl.where((y < low) | (low != low), low, y)  # a NaN bound gives NaN, as torch's
        if HAS_P1:
            high = splat(p1, x.shape, COMPUTE)
            y = tl.where((y > high) | (high != high), high, y)
    # The activations' scalars (p0..p2) arrive as float64 bits (float_bits) and are converted to
    # COMPUTE here, as torch converts a Scalar to the tensor's type (integers truncate: hardtanh's
    # and threshold's limits on integer tensors). NaN follows torch's scalar CPU kernels (and its
    # CUDA ones): comparisons with NaN are false, so NaN takes the branch the C expression gives it.
    elif OP == "elu":
        # elu, selu and celu (torch's elu with scale and input_scale): p0 = alpha * scale,
        # p1 = scale, p2 = input_scale; x <= 0 ? expm1(x * input_scale) * alpha * scale : x * scale.
        negative = expm1(x * bits_to_float(p2).to(COMPUTE)) * bits_to_float(p0).to(COMPUTE)
        y = tl.where(x <= 0, negative, x * bits_to_float(p1).to(COMPUTE))
    elif OP == "hardtanh":
        # clamp to [p0, p1]; NaN stays NaN, -0.0 stays -0.0, a NaN limit gives NaN (torch's clamp)
        low = bits_to_float(p0).to(COMPUTE)
        high = bits_to_float(p1).to(COMPUTE)
        zero = tl.zeros_like(x)  # (NaN tests on blocks: a -0.0 limit itself must not pass through +0.0)
        y = tl.where((x < low) | (zero + low != zero + low), low, x)
        y = tl.where((y > high) | (zero + high != zero + high), high, y)
    elif OP == "threshold":
        # x <= threshold (p0) ? value (p1) : x
        y = tl.where(x <= bits_to_float(p0).to(COMPUTE), bits_to_float(p1).to(COMPUTE), x)
    elif OP == "softplus":
        # log1p(exp(beta x)) / beta, or x where beta x > threshold (p0 = beta, p1 = threshold).
        # Written as max(z, 0) + log1p(exp(-|z|)): torch's log1p(exp(z)) overflows float32 for
        # z > 88 (inf where a threshold above 88 asks for the function), this form never does.
        beta = bits_to_float(p0).to(COMPUTE)
        z = x * beta
        smooth = (tl.where(z > 0, z, 0.0) + log1p(tl.exp(-tl.abs(z)))) / beta
        y = tl.where(z > bits_to_float(p1).to(COMPUTE), x, smooth)
    elif OP == "mish":
        # x tanh(softplus(x)), softplus in the overflow-free form above
        y = x * tanh(tl.where(x > 0, x, 0.0) + log1p(tl.exp(-tl.abs(x))))
    elif OP == "log_sigmoid":
        # min(x, 0) - log1p(exp(-|x|)), as torch (no overflow, no cancellation)
        y = tl.where(x < 0, x, 0.0) - log1p(tl.exp(-tl.abs(x)))
    elif OP == "hardsigmoid":
        # min(max(x + 3, 0), 6) / 6 (the division as torch's, not a multiplication by 1/6)
        shifted = x + 3.0
        y = tl.where(shifted > 6.0, 6.0, tl.where(shifted < 0.0, 0.0, shifted)) / 6.0
    elif OP == "hardswish":
        # x * min(max(x + 3, 0), 6) / 6, in torch's order: -inf gives -inf * 0 = NaN as torch's
        shifted = x + 3.0
        y = x * tl.where(shifted > 6.0, 6.0, tl.where(shifted < 0.0, 0.0, shifted)) / 6.0
    elif OP == "softshrink":
        # x -+ lambd outside [-lambd, lambd] (p0), x * 0 inside (so -0.5 gives -0.0, NaN gives NaN)
        lambd = bits_to_float(p0).to(COMPUTE)
        y = tl.where(x > lambd, x - lambd, tl.where(x < -lambd, x + lambd, x * 0.0))
    elif OP == "hardshrink":
        # 0 (+0.0) inside [-lambd, lambd] (p0), x outside (NaN included)
        lambd = bits_to_float(p0).to(COMPUTE)
        y = tl.where((x >= -lambd) & (x <= lambd), tl.zeros_like(x), x)
    else:
        tl.static_assert(False, "unknown unary op")
    return y


@triton.jit
def binary_math(a, b, OP: tl.constexpr, COMPUTE: tl.constexpr):
    if OP == "add":
        y = a + b
    elif OP == "threshold_backward":
        # ReLU's gradient from its output b, as torch's threshold_backward: 0 where b <= 0, so a NaN
        # output passes the gradient a through.
        y = tl.where(b <= 0, tl.zeros_like(a), a)
    elif OP == "tanh_backward":
        y = a * (1 - b * b)  # from the output b = tanh(x)
    elif OP == "sigmoid_backward":
        y = a * (b * (1 - b))  # from the output b = sigmoid(x)
    elif OP == "sub":
        y = a - b
    elif OP == "mul":
        y = a * b
    elif OP == "div":
        if COMPUTE == tl.float32:
            y = tl.div_rn(a, b)
        else:
            y = a / b
    elif OP == "floor_divide":
        if COMPUTE == tl.float32 or COMPUTE == tl.float64:
            # torch's floor division (div_floor_floating): fmod-based so it agrees with `remainder`
            # exactly; an infinite a gives NaN (its fmod is NaN), a zero quotient the sign of a / b.
            modulo = a % b
            quotient = (a - modulo) / b
            quotient = tl.where((modulo != 0) & ((b < 0) != (modulo < 0)), quotient - 1.0, quotient)
            floored = tl.floor(quotient)
            floored = tl.where(quotient - floored > 0.5, floored + 1.0, floored)
            zero = tl.zeros_like(quotient)
            y = tl.where(quotient != 0, floored, tl.where(sign_bit(a / b), zero * -1.0, zero))
            y = tl.where(b == 0, a / b, y)
        else:
            truncated = a // b
            y = tl.where(((a % b) != 0) & ((a < 0) != (b < 0)), truncated - 1, truncated)
    elif OP == "trunc_divide":
        if COMPUTE == tl.float32 or COMPUTE == tl.float64:
            if COMPUTE == tl.float32:
                quotient = tl.div_rn(a, b)
            else:
                quotient = a / b
            y = tl.where(quotient < 0, tl.ceil(quotient), tl.floor(quotient))
        else:
            # integer `//` in Triton is C division, which truncates
            y = a // b
    elif OP == "fmod":
        # `%` is C's fmod for floats and C's remainder for integers: the sign of a
        y = a % b
    elif OP == "remainder":
        modulo = a % b
        y = tl.where((modulo != 0) & ((modulo < 0) != (b < 0)), modulo + b, modulo)
    elif OP == "pow":
        if COMPUTE == tl.float32 or COMPUTE == tl.float64:
            y = float_pow(a, b, COMPUTE)
        else:
            y = integer_pow(a, b)
    elif OP == "maximum":
        # std::max(a, b) (a on a tie: maximum(0.0, -0.0) is 0.0), NaN from either side
        y = tl.where(b != b, b, tl.where(a < b, b, a))
    elif OP == "minimum":
        y = tl.where(b != b, b, tl.where(b < a, b, a))
    elif OP == "eq":
        y = a == b
    elif OP == "ne":
        y = a != b
    elif OP == "lt":
        y = a < b
    elif OP == "le":
        y = a <= b
    elif OP == "gt":
        y = a > b
    elif OP == "ge":
        y = a >= b
    elif OP == "logical_and":
        y = (a != 0) & (b != 0)
    elif OP == "logical_or":
        y = (a != 0) | (b != 0)
    elif OP == "logical_xor":
        y = (a != 0) != (b != 0)
    elif OP == "bitwise_and":
        y = a & b
    elif OP == "bitwise_or":
        y = a | b
    elif OP == "bitwise_xor":
        y = a ^ b
    elif OP == "bitwise_left_shift":
        # torch's rule (C leaves it undefined): a shift by a negative amount or by the width or more
        # gives 0. (The shift amount is replaced where it is outside, so no lane shifts that far.)
        WIDTH: tl.constexpr = COMPUTE.primitive_bitwidth
        outside = (b < 0) | (b >= WIDTH)
        y = tl.where(outside, tl.zeros_like(a), a << tl.where(outside, tl.zeros_like(b), b))
    elif OP == "bitwise_right_shift":
        # ... and a right shift that far gives the sign fill: a >> (width - 1) signed, 0 unsigned
        WIDTH: tl.constexpr = COMPUTE.primitive_bitwidth
        if COMPUTE.is_int_signed():
            outside = (b < 0) | (b >= WIDTH - 1)
            y = a >> tl.where(outside, tl.zeros_like(b) + (WIDTH - 1), b)
        else:
            outside = (b < 0) | (b >= WIDTH)
            y = tl.where(outside, tl.zeros_like(a), a >> tl.where(outside, tl.zeros_like(b), b))
    elif OP == "fmax":
        y = tl.where((a > b) | (b != b), a, b)  # a NaN loses to a number
    elif OP == "fmin":
        y = tl.where((a < b) | (b != b), a, b)
    elif OP == "atan2":
        y = atan2(a, b)
    elif OP == "hypot":
        # max * sqrt(1 + (min/max)^2): no overflow or underflow in the squares; hypot(inf, NaN) = inf
        # as in C. (A NaN fails both comparisons and lands in `larger` or the ratio, giving NaN.)
        magnitude_a = tl.abs(a)
        magnitude_b = tl.abs(b)
        larger = tl.where(magnitude_a > magnitude_b, magnitude_a, magnitude_b)
        smaller = tl.where(magnitude_a > magnitude_b, magnitude_b, magnitude_a)
        ratio = smaller / larger
        y = tl.where(larger == 0.0, larger + smaller, larger * exact_sqrt(1.0 + ratio * ratio))  # 0/0 ratio
        y = tl.where((magnitude_a == float("inf")) | (magnitude_b == float("inf")), magnitude_a + magnitude_b, y)
        y = tl.where((magnitude_a == float("inf")) & (b != b), magnitude_a, y)
        y = tl.where((magnitude_b == float("inf")) & (a != a), magnitude_b, y)
    elif OP == "logaddexp":
        # max + log1p(exp(-|a - b|)): never overflows; equal infinities are returned as they are
        # (their difference would be NaN).
        larger = tl.where((a > b) | (a != a), a, b)
        y = larger + log1p(tl.exp(-tl.abs(a - b)))
        y = tl.where((a == b) & (tl.abs(a) == float("inf")), a, y)
    elif OP == "logaddexp2":
        larger = tl.where((a > b) | (a != a), a, b)
        y = larger + log1p(tl.exp2(-tl.abs(a - b))) * 1.4426950408889634  # log2(1 + 2^-d) = log1p(..) / ln 2
        y = tl.where((a == b) & (tl.abs(a) == float("inf")), a, y)
    elif OP == "nextafter":  # float32 / float64 (the half formats' below)
        y = next_representable(a, b)
    elif OP == "nextafter_fp16":
        y = next_half_representable(a, b, 10, -14, 65504.0)
    elif OP == "nextafter_bf16":
        y = next_half_representable(a, b, 7, -126, 3.3895313892515355e38)
    elif OP == "copysign":
        magnitude = tl.abs(a)
        y = tl.where(sign_bit(b), -magnitude, magnitude)
    elif OP == "xlogy":
        # 0 * log(y) is 0 even where log(y) is -inf or NaN, unless y itself is NaN (torch's rule).
        y = tl.where(b != b, b, tl.where(a == 0, tl.zeros_like(a), a * tl.log(b)))
    elif OP == "zeta":
        y = hurwitz_zeta(a.to(tl.float64), b.to(tl.float64)).to(COMPUTE)
    elif OP == "xlog1py":
        # 0 * log1p(y) is 0 even where log1p(y) is -inf or NaN, unless y itself is NaN (torch's rule)
        y = tl.where(b != b, b, tl.where(a == 0, tl.zeros_like(a), a * log1p(b)))
    elif OP == "igamma":
        y = incomplete_gamma(a.to(tl.float64), b.to(tl.float64), False).to(COMPUTE)
    elif OP == "igammac":
        y = incomplete_gamma(a.to(tl.float64), b.to(tl.float64), True).to(COMPUTE)
    elif OP == "heaviside":
        y = tl.where(a == 0, b, (a > 0).to(COMPUTE))
    else:
        tl.static_assert(False, "unknown binary op")
    return y


@triton.jit
def ternary_math(p, q, r, OP: tl.constexpr):
    """where(p, q, r), or lerp(p, q, weight=r) in torch's form, exact at both ends (weight 0 gives
    p, weight 1 gives q) and monotone in the weight."""
    if OP == "where":
        y = tl.where(p != 0, q, r)
    elif OP == "lerp":
        difference = q - p
        y = tl.where(tl.abs(r) < 0.5, p + r * difference, q - difference * (1.0 - r))
    else:
        tl.static_assert(False, "unknown ternary op")
    return y


# ----------------------------------------------------------------------------------------------
# Kernels
# ----------------------------------------------------------------------------------------------


# out = OP(x): one program maps BLOCK consecutive output elements; p0..p2 are the op's scalar
# parameters (exponent, clamp bounds, float64 bits of nan_to_num's replacements, ...).
@triton.jit(do_not_specialize=["p0", "p1", "p2"])
def unary_kernel(
    x_ptr, out_ptr,
    p0, p1, p2,
    numel, shape, x_strides, out_strides,
    OP: tl.constexpr, COMPUTE: tl.constexpr, HAS_P0: tl.constexpr, HAS_P1: tl.constexpr,
    RANK: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INT64_INDEX)
    mask = index < numel
    x = tl.load(x_ptr + strided_offset(index, shape, x_strides, RANK), mask=mask)
    if OP != "copy":
        x = x.to(COMPUTE)
    y = unary_math(x, p0, p1, p2, OP, COMPUTE, HAS_P0, HAS_P1)
    store_as(out_ptr + strided_offset(index, shape, out_strides, RANK), y, mask)


# out = OP(a, b) (+ alpha * b for add/sub): one program maps BLOCK consecutive output elements.
# A Python-scalar operand arrives as a kernel argument (A_IS_SCALAR / B_IS_SCALAR), not a tensor.
@triton.jit(do_not_specialize=["a_scalar", "b_scalar", "alpha"])
def binary_kernel(
    a_ptr, b_ptr, out_ptr,
    a_scalar, b_scalar, alpha,
    numel, shape, a_strides, b_strides, out_strides,
    OP: tl.constexpr, COMPUTE: tl.constexpr,
    A_IS_SCALAR: tl.constexpr, B_IS_SCALAR: tl.constexpr, HAS_ALPHA: tl.constexpr,
    RANK: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INT64_INDEX)
    mask = index < numel
    if A_IS_SCALAR:
        a = splat(a_scalar, [BLOCK], COMPUTE)
    else:
        a = tl.load(a_ptr + strided_offset(index, shape, a_strides, RANK), mask=mask).to(COMPUTE)
    if B_IS_SCALAR:
        b = splat(b_scalar, [BLOCK], COMPUTE)
    else:
        b = tl.load(b_ptr + strided_offset(index, shape, b_strides, RANK), mask=mask, other=1).to(COMPUTE)
    if HAS_ALPHA:
        b = b * splat(alpha, [BLOCK], COMPUTE)
    y = binary_math(a, b, OP, COMPUTE)
    store_as(out_ptr + strided_offset(index, shape, out_strides, RANK), y, mask)


# out = OP(p, q, r) (where(condition, a, b), lerp(input, end, weight)): one program maps BLOCK
# consecutive output elements; q and r may be Python scalars (A_IS_SCALAR / B_IS_SCALAR).
@triton.jit(do_not_specialize=["a_scalar", "b_scalar"])
def ternary_kernel(
    condition_ptr, a_ptr, b_ptr, out_ptr,
    a_scalar, b_scalar,
    numel, shape, condition_strides, a_strides, b_strides, out_strides,
    OP: tl.constexpr, COMPUTE: tl.constexpr, A_IS_SCALAR: tl.constexpr, B_IS_SCALAR: tl.constexpr,
    RANK: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INT64_INDEX)
    mask = index < numel
    # (The first operand is where's condition, read as stored, or lerp's input.)
    condition = tl.load(condition_ptr + strided_offset(index, shape, condition_strides, RANK), mask=mask)
    if OP != "where":
        condition = condition.to(COMPUTE)
    if A_IS_SCALAR:
        a = splat(a_scalar, [BLOCK], COMPUTE)
    else:
        a = tl.load(a_ptr + strided_offset(index, shape, a_strides, RANK), mask=mask).to(COMPUTE)
    if B_IS_SCALAR:
        b = splat(b_scalar, [BLOCK], COMPUTE)
    else:
        b = tl.load(b_ptr + strided_offset(index, shape, b_strides, RANK), mask=mask).to(COMPUTE)
    store_as(out_ptr + strided_offset(index, shape, out_strides, RANK), ternary_math(condition, a, b, OP), mask)


# ----------------------------------------------------------------------------------------------
# Launchers
# ----------------------------------------------------------------------------------------------

Scalar = bool | int | float


def _prepare_output(shape, out, out_dtype, device, inputs) -> torch.Tensor:
    """A new output, or the caller's ``out`` once it is checked: right shape, no two elements in one
    place, no partial overlap with the ``inputs`` it will be computed from."""
    if out is None:
        strides = elementwise_output_strides(shape, [t for t in inputs if isinstance(t, torch.Tensor)])
        if strides is None:
            return torch.empty(shape, dtype=out_dtype, device=device)
        return torch.empty_strided(shape, strides, dtype=out_dtype, device=device)
    if tuple(out.shape) != tuple(shape):
        raise RuntimeError(f"output with shape {list(out.shape)} doesn't match the broadcast shape {list(shape)}")
    check_writable(out)
    check_no_partial_overlap(out, *[t for t in inputs if isinstance(t, torch.Tensor)])
    return out


def _scalar_as_operand(value: Scalar, compute: torch.dtype, device) -> Scalar | torch.Tensor:
    """Python scalars travel as kernel arguments, which Triton types as fp32/i32/i64; a float64
    computation gets its scalar as a 1-element float64 tensor instead so no precision is lost, and so
    does -0.0 (triton 3.6's interpreter hands it to the kernel as +0.0)."""
    if compute == torch.float64 and not isinstance(value, bool):
        return torch.tensor(float(value), dtype=torch.float64, device=device)
    if negative_zero(value):
        return torch.tensor(value, dtype=torch.float32, device=device)
    return value


def negative_zero(value) -> bool:
    """Whether ``value`` is the Python float -0.0 (which compares equal to 0.0)."""
    return type(value) is float and value == 0.0 and copysign(1.0, value) < 0.0


# Launch plans of _launch_strided, keyed by the kernel and every operand's shape and strides: the
# grid, block, coalesced iteration space and offset width are computed once per layout seen.
_PLANS: dict[tuple, tuple] = {}


# Ops whose kernel branch evaluates a long float64 series per element (kernels/gamma_functions.py,
# kernels/special_functions.py): fewer elements per thread, or they spill (log_ndtr at the large
# elementwise block: 255 registers and 1 KB of spills at sm_90). Also the ops that evaluate a sine
# and a cosine per element (tan, and kernels/complex.py's polar and its magnitude gradient): 4-12 B
# of spills at the large block in float32, sm_80/sm_90.
SERIES_OPS = frozenset({
    "lgamma", "polygamma", "zeta", "igamma", "igammac", "erfcx", "log_ndtr", "ndtri", "i0", "i0e", "i1", "i1e",
    "modified_bessel_i0", "modified_bessel_i1", "polar", "polar_backward_abs", "tan",
})  # fmt: skip


def _launch_plan(operands, out, series: bool) -> tuple | None:
    """(grid, coalesced shape, coalesced strides per operand and out, block, num_warps, int64) for
    ``out`` computed from ``operands``; None when the coalesced rank exceeds MAX_RANK."""
    shape = tuple(out.shape)
    strides = [broadcast_strides(t, shape) if t is not None else [0] * len(shape) for t in operands]
    strides.append(list(out.stride()))
    coalesced_shape, coalesced_strides = coalesce(shape, strides)
    if len(coalesced_shape) > MAX_RANK:
        return None
    numel = out.numel()
    block, num_warps = elementwise_launch_config(numel, series)
    int64 = needs_int64_indexing(out, *[t for t in operands if t is not None])
    return ((cdiv(numel, block),), tuple(coalesced_shape), [tuple(s) for s in coalesced_strides], block,
            num_warps, int64)  # fmt: skip


def _layout_key(tensor: torch.Tensor) -> tuple:
    # Shape and strides decide everything a plan holds, the offsets' width included: a span past
    # 2**31 elements is a function of them (a storage that large only lets it happen).
    return tensor.shape, tensor.stride()


def _launch_strided(kernel, operands, out, scalars, constexprs) -> torch.Tensor:
    """Coalesces ``operands`` (tensors or None for scalars) with ``out`` and launches ``kernel``."""
    series = constexprs.get("OP") in SERIES_OPS
    key = (kernel, series, _layout_key(out), *[_layout_key(t) if t is not None else None for t in operands])
    plan = _PLANS.get(key)
    if plan is None:
        plan = _launch_plan(operands, out, series)
        if plan is None:
            for sliced in split_leading_dim(list(operands) + [out], tuple(out.shape)):
                _launch_strided(kernel, sliced[:-1], sliced[-1], scalars, constexprs)
            return out
        remember(_PLANS, key, plan)
    grid, coalesced_shape, coalesced_strides, block, num_warps, int64 = plan
    tensors = [t if t is not None else out for t in operands]
    # A Python bool would be an int1 argument, which triton 3.6's interpreter stores in an int32
    # array and rejects; as an int it is an i32 that the kernel casts to COMPUTE like any scalar.
    scalars = [int(s) if isinstance(s, bool) else s for s in scalars]
    kernel[grid](
        *tensors, out, *scalars, out.numel(), coalesced_shape, *coalesced_strides,
        **constexprs, RANK=len(coalesced_shape), BLOCK=block, INT64_INDEX=int64, num_warps=num_warps,
    )  # fmt: skip
    return out


def launch_unary(
    op: str,
    x: torch.Tensor,
    *,
    out: torch.Tensor | None = None,
    out_dtype: torch.dtype | None = None,
    compute: torch.dtype | None = None,
    p0: Scalar | None = None,
    p1: Scalar | None = None,
    p2: Scalar | None = None,
) -> torch.Tensor:
    """out = op(x) elementwise; ``out`` (any strides, shape of x) enables in-place use.

    ``op`` names a branch of ``unary_math``. ``compute`` is the dtype arithmetic happens in
    (default: from the output dtype); ``p0``..``p2`` are the op's scalars (exponent for pow ops,
    min/max for clamp, float64 bits for round's scale and nan_to_num's replacements).
    """
    if out is None and p0 is None and p1 is None and p2 is None:
        # A new output without scalars, the common case: one launcher per (op, dtypes, layout).
        out_dtype = out_dtype or x.dtype
        key = (op, out_dtype, compute, x.dtype, x.shape, x.stride(), x.device)
        launch = _UNARY_LAUNCHERS.get(key)
        if launch is None:
            launch = unary_launcher(op, x, out_dtype=out_dtype, compute=compute) or False
            remember(_UNARY_LAUNCHERS, key, launch)
        if launch:
            return launch(x)
        return _launch_unary(op, x, None, out_dtype, compute, p0, p1, p2)
    if out is not None:
        check_same_device(op, x, out)
    out_dtype = out.dtype if out is not None else (out_dtype or x.dtype)
    return _launch_unary(op, x, out, out_dtype, compute, p0, p1, p2)


# Launchers: for one (op, dtypes, layouts), a function of the operands that allocates the result
# and launches, everything else (output strides, grid, coalesced strides, offset width, constexprs)
# computed once by the general path's own rules.
_UNARY_LAUNCHERS: dict[tuple, Callable | bool] = {}
_BINARY_LAUNCHERS: dict[tuple, Callable | bool] = {}
_BINARY_INTO_LAUNCHERS: dict[tuple, Callable | bool] = {}


def _new_output_plan(shape: tuple, out_dtype: torch.dtype, operands: list, series: bool) -> tuple | None:
    """(output strides, launch plan) of a new output of ``shape`` computed from ``operands`` (None
    for a number), or None where only the general path launches (empty, too many dims)."""
    tensors = [t for t in operands if t is not None]
    probe = _prepare_output(shape, None, out_dtype, tensors[0].device, tensors)
    if probe.numel() == 0:
        return None
    plan = _launch_plan(operands, probe, series)
    return None if plan is None else (probe.stride(), plan)


def unary_launcher(
    op: str, x: torch.Tensor, *, out_dtype: torch.dtype, compute: torch.dtype | None = None
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """``launch_unary(op, x', out_dtype=..., compute=...)`` as a function of ``x'``, valid for any x'
    with ``x``'s dtype, shape, strides and device; None where there is no one-launch plan (and for
    complex dtypes, which the general path reads as their float views)."""
    if x.dtype.is_complex or out_dtype.is_complex:
        return None
    shape = tuple(x.shape)
    planned = _new_output_plan(shape, out_dtype, [x], op in SERIES_OPS)
    if planned is None:
        return None
    strides, (grid, coalesced_shape, coalesced_strides, block, num_warps, int64) = planned
    device, arguments = x.device, (0, 0, 0, prod(shape), coalesced_shape, *coalesced_strides)
    options = dict(
        _unary_constexprs(op, out_dtype, compute, None, None),
        RANK=len(coalesced_shape), BLOCK=block, INT64_INDEX=int64, num_warps=num_warps,
    )  # fmt: skip

    def launch(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_strided(shape, strides, dtype=out_dtype, device=device)
        unary_kernel[grid](x, out, *arguments, **options)
        return out

    return launch


def _unary_constexprs(op: str, out_dtype: torch.dtype, compute: torch.dtype | None, p0, p1) -> dict:
    # Half types compute in float32 (compute_dtype): the interpreter's bf16 arithmetic is wrong
    # and tl.exp and friends reject fp16.
    compute_type = compute_dtype(compute if compute is not None and op != "copy" else out_dtype)
    return dict(OP=op, COMPUTE=compute_type, HAS_P0=p0 is not None, HAS_P1=p1 is not None)


def _launch_unary(op, x, out, out_dtype, compute, p0, p1, p2) -> torch.Tensor:
    """launch_unary's general path: scalars, a caller's ``out``."""
    out = _prepare_output(tuple(x.shape), out, out_dtype, x.device, (x,))
    if out.numel() == 0:
        return out
    if out.dtype.is_complex or x.dtype.is_complex:  # (the same op on the float views)
        if op == "copy" and out.dtype.is_complex != x.dtype.is_complex:
            return _copy_across_complex(x, out)
        x, parts = _complex_as_floats(op, x, out)
        _launch_unary(op, x, parts, parts.dtype, parts.dtype, p0, p1, p2)
        return out
    # Triton passes Python floats as fp32: float64 callers route pow/clamp with non-fp32-exact
    # scalars through launch_binary, which carries them as float64 tensors.
    scalars = (p0 if p0 is not None else 0, p1 if p1 is not None else 0, p2 if p2 is not None else 0)
    return _launch_strided(unary_kernel, [x], out, scalars, _unary_constexprs(op, out_dtype, compute, p0, p1))


_HALF_NEXTAFTER = {torch.float16: "nextafter_fp16", torch.bfloat16: "nextafter_bf16"}


def launch_binary(
    op: str,
    a: torch.Tensor | Scalar,
    b: torch.Tensor | Scalar,
    *,
    out_dtype: torch.dtype,
    compute: torch.dtype,
    out: torch.Tensor | None = None,
    alpha: Scalar | None = None,
) -> torch.Tensor:
    """out = op(a, b) with broadcasting; either operand may be a Python scalar.

    ``op`` names a branch of ``binary_math``. ``compute`` is the promoted dtype the arithmetic
    happens in (half types compute in float32); ``out_dtype`` is the result's (bool for
    comparisons). ``alpha`` scales b (``torch.add(a, b, alpha=2)``).
    """
    if op == "nextafter" and compute in _HALF_NEXTAFTER:  # computed in float32, stepped in the half format
        op = _HALF_NEXTAFTER[compute]
    if negative_zero(b):  # (carried as a tensor: _scalar_as_operand)
        return _launch_binary(op, a, b, out_dtype=out_dtype, compute=compute, out=out, alpha=alpha)
    if out is None and type(a) is torch.Tensor and not isinstance(alpha, bool):
        # A tensor and a tensor or a number into a new output, the common case: one launcher per
        # (op, dtypes, layouts); other numbers (float64 computations, bools) take the general path.
        if type(b) is torch.Tensor:
            key = (op, out_dtype, compute, alpha is None, a.dtype, a.shape, a.stride(), a.device,
                   b.dtype, b.shape, b.stride(), b.device)  # fmt: skip
        else:
            key = (op, out_dtype, compute, alpha is None, a.dtype, a.shape, a.stride(), a.device, type(b))
        launch = _BINARY_LAUNCHERS.get(key)
        if launch is None:
            launch = binary_launcher(op, a, b, out_dtype=out_dtype, compute=compute, alpha=alpha is not None) or False
            remember(_BINARY_LAUNCHERS, key, launch)
        if launch:
            return launch(a, b, 1 if alpha is None else alpha)
    elif type(a) is torch.Tensor and not isinstance(alpha, bool):
        # Into a caller's tensor (in-place ops, gradient accumulation): the general path checks
        # and launches the first time; then a launcher for these layouts checks overlap and launches.
        if type(b) is torch.Tensor:
            key = (op, compute, alpha is None, a.dtype, a.shape, a.stride(), a.device, b.dtype, b.shape, b.stride(),
                   b.device, out.dtype, out.shape, out.stride(), out.device)  # fmt: skip
        else:
            key = (op, compute, alpha is None, a.dtype, a.shape, a.stride(), a.device, type(b), out.dtype, out.shape,
                   out.stride(), out.device)  # fmt: skip
        launch = _BINARY_INTO_LAUNCHERS.get(key)
        if launch:
            return launch(a, b, out, 1 if alpha is None else alpha)
        result = _launch_binary(op, a, b, out_dtype=out_dtype, compute=compute, out=out, alpha=alpha)
        if launch is None:
            launch = binary_into_launcher(op, a, b, out, compute=compute, alpha=alpha is not None) or False
            remember(_BINARY_INTO_LAUNCHERS, key, launch)
        return result
    return _launch_binary(op, a, b, out_dtype=out_dtype, compute=compute, out=out, alpha=alpha)


def _number_as_argument(value, compute: torch.dtype) -> bool:
    """Whether a launcher may pass the number ``value`` as a kernel argument as it is: a plain int or
    float outside float64 computations (those carry it as a float64 tensor, _scalar_as_operand;
    bools become ints on the general path)."""
    return type(value) in (int, float) and compute != torch.float64


def binary_into_launcher(
    op: str, a: torch.Tensor, b: torch.Tensor | Scalar, out: torch.Tensor, *, compute: torch.dtype,
    alpha: bool = False,
) -> Callable[..., torch.Tensor] | None:  # fmt: skip
    """``launch_binary(op, a', b', out=out', compute=..., alpha=alpha')`` as ``launch(a', b', out',
    alpha'=1)`` for operands laid out as these, once the general path has accepted them (same
    devices, out's shape, no internal overlap): only the partial-overlap check stays per call.
    None where there is no one-launch plan (as ``binary_launcher``)."""
    b_is_scalar = type(b) is not torch.Tensor
    if (b_is_scalar and not _number_as_argument(b, compute)) or out.dtype.is_complex:
        return None
    operands = [a, None if b_is_scalar else b]
    plan = _launch_plan(operands, out, op in SERIES_OPS) if out.numel() else None
    if plan is None:
        return None
    grid, coalesced_shape, coalesced_strides, block, num_warps, int64 = plan
    arguments = (out.numel(), coalesced_shape, *coalesced_strides)
    options = dict(
        _binary_constexprs(op, compute, False, b_is_scalar, True if alpha else None),
        RANK=len(coalesced_shape), BLOCK=block, INT64_INDEX=int64, num_warps=num_warps,
    )  # fmt: skip
    check = overlap_check(out, operands)
    if b_is_scalar:

        def launch(a: torch.Tensor, b: Scalar, out: torch.Tensor, alpha: Scalar = 1) -> torch.Tensor:
            if check is not None:
                check(out, a, None)
            binary_kernel[grid](a, out, out, 0, b, alpha, *arguments, **options)
            return out

        return launch

    def launch(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor, alpha: Scalar = 1) -> torch.Tensor:
        if check is not None:
            check(out, a, b)
        binary_kernel[grid](a, b, out, 0, 0, alpha, *arguments, **options)
        return out

    return launch


def binary_launcher(
    op: str, a: torch.Tensor, b: torch.Tensor | Scalar, *, out_dtype: torch.dtype, compute: torch.dtype,
    alpha: bool = False,
) -> Callable[..., torch.Tensor] | None:  # fmt: skip
    """``launch_binary(op, a', b', out_dtype=..., compute=..., alpha=alpha')`` as a function
    ``launch(a', b', alpha'=1)``, valid for any a' (b') with a's (b's) dtype, shape, strides and
    device, or any Python number of b's type; None where there is no one-launch plan (float64
    numbers travel as tensors, devices differ, empty, too many dims). ``alpha``: b is scaled."""
    b_is_scalar = type(b) is not torch.Tensor
    if (b_is_scalar and not _number_as_argument(b, compute)) or out_dtype.is_complex:
        return None
    if not b_is_scalar and a.device != b.device:
        return None
    shape = tuple(a.shape) if b_is_scalar else broadcast_shapes(tuple(a.shape), tuple(b.shape))
    planned = _new_output_plan(shape, out_dtype, [a, None if b_is_scalar else b], op in SERIES_OPS)
    if planned is None:
        return None
    strides, (grid, coalesced_shape, coalesced_strides, block, num_warps, int64) = planned
    device, arguments = a.device, (prod(shape), coalesced_shape, *coalesced_strides)
    options = dict(
        _binary_constexprs(op, compute, False, b_is_scalar, True if alpha else None),
        RANK=len(coalesced_shape), BLOCK=block, INT64_INDEX=int64, num_warps=num_warps,
    )  # fmt: skip
    if b_is_scalar:

        def launch(a: torch.Tensor, b: Scalar, alpha: Scalar = 1) -> torch.Tensor:
            out = torch.empty_strided(shape, strides, dtype=out_dtype, device=device)
            binary_kernel[grid](a, out, out, 0, b, alpha, *arguments, **options)
            return out

        return launch

    def launch(a: torch.Tensor, b: torch.Tensor, alpha: Scalar = 1) -> torch.Tensor:
        out = torch.empty_strided(shape, strides, dtype=out_dtype, device=device)
        binary_kernel[grid](a, b, out, 0, 0, alpha, *arguments, **options)
        return out

    return launch


def _binary_constexprs(op: str, compute: torch.dtype, a_is_scalar: bool, b_is_scalar: bool, alpha) -> dict:
    return dict(
        OP=op,
        COMPUTE=compute_dtype(compute) if compute != torch.bool else tl.int32,
        A_IS_SCALAR=a_is_scalar,
        B_IS_SCALAR=b_is_scalar,
        HAS_ALPHA=alpha is not None,
    )


# Complex ops that are real ops on the float view (``torch.view_as_real``, a last dim of 2): a copy
# or cast between complex dtypes, a negation, a sum or difference of two complex tensors, a complex
# tensor scaled by a real number. kernels/complex.py has the ones that mix the parts.
_FLOAT_VIEW_OPS = frozenset(("copy", "neg", "add", "sub", "mul", "div"))


def _copy_across_complex(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """A copy between a real and a complex tensor (copy_, a cast): a real value is the real part
    and 0 the imaginary part; a complex value's real part is what a real tensor keeps, with the
    warning torch's copy kernel gives. A bool keeps whether either part is nonzero (``1j`` is True,
    NaN parts too), as torch's cast does, and without the warning: nothing is discarded."""
    if x.dtype.is_complex and out.dtype == torch.bool:
        pairs = torch.view_as_real(x)
        return _launch_binary(
            "logical_or", pairs.select(-1, 0), pairs.select(-1, 1),
            out_dtype=torch.bool, compute=pairs.dtype, out=out, alpha=None,
        )  # fmt: skip
    if x.dtype.is_complex:
        warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=2)
        return _launch_unary("copy", torch.view_as_real(x).select(-1, 0), out, out.dtype, None, None, None, None)
    pairs = torch.view_as_real(out)
    _launch_unary("copy", x, pairs.select(-1, 0), pairs.dtype, None, None, None, None)
    zero = torch.tensor(0.0, dtype=pairs.dtype, device=out.device).expand(tuple(out.shape))
    _launch_unary("copy", zero, pairs.select(-1, 1), pairs.dtype, None, None, None, None)
    return out


def _complex_as_floats(op: str, inputs, out: torch.Tensor):
    """(inputs, out) as their float views for a complex ``out``, when ``op`` on the views is the
    complex op: every tensor input complex, and a number only as the scale of mul or div (added,
    it would go to both parts); else torch's refusal naming the op and the dtype."""
    single = isinstance(inputs, torch.Tensor)
    operands = (inputs,) if single else inputs
    tensors = [t for t in operands if isinstance(t, torch.Tensor)]
    numbers = [t for t in operands if not isinstance(t, torch.Tensor)]
    scaling = op in ("mul", "div") and len(tensors) == 1 and operands[0] is tensors[0]
    numbers_fit = all(type(n) in (int, float) for n in numbers) and (scaling or not numbers)
    real_tensor = any(not tensor.dtype.is_complex for tensor in tensors)
    if op not in _FLOAT_VIEW_OPS or not numbers_fit or (op in ("mul", "div") and not scaling) or real_tensor:
        raise complex_refusal(op, out.dtype)
    views = tuple(torch.view_as_real(t) if isinstance(t, torch.Tensor) else t for t in operands)
    return (views[0] if single else views), torch.view_as_real(out)


def _launch_binary(op, a, b, *, out_dtype, compute, out, alpha) -> torch.Tensor:
    """launch_binary's general path: scalars, broadcasting, a caller's ``out``."""
    tensors = [t for t in (a, b) if isinstance(t, torch.Tensor)]
    if not tensors:
        raise TypeError(f"{op}: at least one operand must be a tensor")
    check_same_device(op, *tensors, *([out] if out is not None else []))
    device = tensors[0].device
    a = a if isinstance(a, torch.Tensor) else _scalar_as_operand(a, compute, device)
    b = b if isinstance(b, torch.Tensor) else _scalar_as_operand(b, compute, device)
    shape = broadcast_shapes(*[tuple(t.shape) for t in (a, b) if isinstance(t, torch.Tensor)])
    out = _prepare_output(shape, out, out_dtype if out is None else out.dtype, device, (a, b))
    if out.numel() == 0:
        return out
    if out.dtype.is_complex:  # (the same op on the float views; a float64 part's scale as a tensor)
        (a, b), parts = _complex_as_floats(op, (a, b), out)
        _launch_binary(op, a, b, out_dtype=parts.dtype, compute=parts.dtype, out=parts, alpha=alpha)
        return out
    a_is_scalar = not isinstance(a, torch.Tensor)
    b_is_scalar = not isinstance(b, torch.Tensor)
    scalars = (a if a_is_scalar else 0, b if b_is_scalar else 0, alpha if alpha is not None else 1)
    constexprs = _binary_constexprs(op, compute, a_is_scalar, b_is_scalar, alpha)
    operands = [None if a_is_scalar else a, None if b_is_scalar else b]
    return _launch_strided(binary_kernel, operands, out, scalars, constexprs)


def launch_where(
    condition: torch.Tensor,
    a: torch.Tensor | Scalar,
    b: torch.Tensor | Scalar,
    *,
    out_dtype: torch.dtype,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """out = a where condition else b, broadcasting all three; a or b may be Python scalars."""
    return launch_ternary("where", condition, a, b, out_dtype=out_dtype, out=out)


def launch_ternary(
    op: str,
    condition: torch.Tensor,
    a: torch.Tensor | Scalar,
    b: torch.Tensor | Scalar,
    *,
    out_dtype: torch.dtype,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """out = op(condition, a, b) (``ternary_math``: where, lerp), broadcasting all three; a or b may
    be Python scalars. Arithmetic happens in ``out_dtype`` (half types in float32)."""
    tensors = [t for t in (condition, a, b) if isinstance(t, torch.Tensor)]
    check_same_device(op, *tensors, *([out] if out is not None else []))
    device = condition.device
    a = a if isinstance(a, torch.Tensor) else _scalar_as_operand(a, out_dtype, device)
    b = b if isinstance(b, torch.Tensor) else _scalar_as_operand(b, out_dtype, device)
    shape = broadcast_shapes(*[tuple(t.shape) for t in (condition, a, b) if isinstance(t, torch.Tensor)])
    out = _prepare_output(shape, out, out_dtype, device, (condition, a, b))
    if out.numel() == 0:
        return out
    compute_type = compute_dtype(out_dtype)
    a_is_scalar = not isinstance(a, torch.Tensor)
    b_is_scalar = not isinstance(b, torch.Tensor)
    scalars = (a if a_is_scalar else 0, b if b_is_scalar else 0)
    constexprs = dict(OP=op, COMPUTE=compute_type, A_IS_SCALAR=a_is_scalar, B_IS_SCALAR=b_is_scalar)
    operands = [condition, None if a_is_scalar else a, None if b_is_scalar else b]
    return _launch_strided(ternary_kernel, operands, out, scalars, constexprs)
