"""Device functions of the gamma family: log|Gamma|, digamma, trigamma and Hurwitz's zeta.

Each takes float64 lanes and returns float64 (the elementwise kernels call them after casting, and
cast the result back): the recurrences and series below subtract terms of similar size, and float64
keeps float32 results correctly rounded where a float32 evaluation would lose the last digits.
The methods are the classical ones (Abramowitz & Stegun ch. 6 and 23; Lanczos 1964 for log-gamma),
with torch's values at the poles: lgamma is +inf at 0 and the negative integers, digamma is -inf at
+0, +inf at -0 and NaN at the negative integers, zeta(x, q) is +inf at x = 1 and at q = 0, -1, ...
"""

from __future__ import annotations

import triton
import triton.language as tl

EPSILON = tl.constexpr(1.1102230246251565e-16)  # 2^-53: a term below it times the sum ends the sum
MAX_TERMS = tl.constexpr(1048576.0)  # zeta's direct sum for a negative q: at most this many terms


@triton.jit
def sin_pi(x):
    """sin(pi x), x first reduced to [-1, 1] and folded to [-1/2, 1/2] by exact subtractions
    (sin(pi r) = sin(pi (1 - r))), so it keeps its relative accuracy near every integer, where it
    vanishes, and for large |x|."""
    reduced = x - 2.0 * tl.floor(x * 0.5 + 0.5)
    folded = tl.where(reduced > 0.5, 1.0 - reduced, tl.where(reduced < -0.5, -1.0 - reduced, reduced))
    return tl.sin(folded * 3.141592653589793)  # (pi, pi^2, log pi, log(2 pi) / 2 are written out)


@triton.jit
def tan_pi(x):
    """tan(pi x), x reduced to [-1/2, 1/2] first (tan has period 1)."""
    reduced = x - tl.floor(x + 0.5)
    return tl.sin(reduced * 3.141592653589793) / tl.cos(reduced * 3.141592653589793)


@triton.jit
def lanczos_log_gamma(x):
    """log Gamma(x) for x >= 1/2: Lanczos' series with g = 7 and nine terms (relative error
    about 1e-15 away from the zeros at 1 and 2, absolute error about 1e-15 near them)."""
    z = x - 1.0
    series = 0.99999999999980993 + 676.5203681218851 / (z + 1.0)
    series += -1259.1392167224028 / (z + 2.0)
    series += 771.32342877765313 / (z + 3.0)
    series += -176.61502916214059 / (z + 4.0)
    series += 12.507343278686905 / (z + 5.0)
    series += -0.13857109526572012 / (z + 6.0)
    series += 9.9843695780195716e-6 / (z + 7.0)
    series += 1.5056327351493116e-7 / (z + 8.0)
    t = z + 7.5
    return 0.9189385332046727 + (z + 0.5) * tl.log(t) - t + tl.log(series)


@triton.jit
def log_gamma_near_two(z):
    """log Gamma(2 + z) for |z| <= 1/2 from its Taylor series at 2, (1 - gamma) z + sum over k >= 2
    of (-1)^k (zeta(k) - 1) / k z^k (Abramowitz & Stegun 6.1.33 with log(1 + z) taken out): its
    terms fall as 4^-k, so 29 of them reach float64's rounding, and the result keeps its relative
    accuracy next to the zero at 2 (Lanczos' sum has only an absolute one there)."""
    p = -6.4229645638381e-11
    p = p * z + 1.330476437424449e-10
    p = p * z + -2.7595228851242334e-10
    p = p * z + 5.731367241678862e-10
    p = p * z + -1.1921401405860912e-09
    p = p * z + 2.4836745438024785e-09
    p = p * z + -5.183475041970047e-09
    p = p * z + 1.0838659214896955e-08
    p = p * z + -2.2711094608943164e-08
    p = p * z + 4.7698101693639804e-08
    p = p * z + -1.0043224823968099e-07
    p = p * z + 2.1207184805554665e-07
    p = p * z + -4.492469198764566e-07
    p = p * z + 9.55141213040742e-07
    p = p * z + -2.039215753801366e-06
    p = p * z + 4.374866789907488e-06
    p = p * z + -9.439488275268397e-06
    p = p * z + 2.050721277567069e-05
    p = p * z + -4.492623673813314e-05
    p = p * z + 9.945751278180853e-05
    p = p * z + -0.00022315475845357939
    p = p * z + 0.0005096695247430425
    p = p * z + -0.001192753911703261
    p = p * z + 0.0028905103307415234
    p = p * z + -0.007385551028673986
    p = p * z + 0.020580808427784546
    p = p * z + -0.0673523010531981
    p = p * z + 0.3224670334241132
    return z * (0.42278433509846713 + z * p)


@triton.jit
def log_gamma(x):
    """log|Gamma(x)|; below 1/2 by the reflection Gamma(x) Gamma(1 - x) = pi / sin(pi x). Between
    1/2 and 7/2, around the zeros at 1 and 2 and up to where Lanczos' error is relative again, by
    the series at 2 (shifted by log Gamma(x + 1) = log Gamma(x) + log x below 3/2 and above 5/2;
    x - 1, x - 2 and x - 3 are exact there)."""
    reflected = x < 0.5
    direct = lanczos_log_gamma(tl.where(reflected, 1.0 - x, x))
    below = x < 1.5
    above = x > 2.5
    near_zeros = log_gamma_near_two(tl.where(below, x - 1.0, tl.where(above, x - 3.0, x - 2.0)))
    near_zeros = tl.where(below, near_zeros - tl.log(x), tl.where(above, near_zeros + tl.log(x - 1.0), near_zeros))
    direct = tl.where((x >= 0.5) & (x <= 3.5), near_zeros, direct)
    y = tl.where(reflected, 1.1447298858494002 - tl.log(tl.abs(sin_pi(x))) - direct, direct)
    pole = (x <= 0.0) & (x == tl.floor(x))  # 0, -1, -2, ... and -inf
    return tl.where(pole | (x == float("inf")), float("inf"), y)


@triton.jit
def digamma(x):
    """psi(x) = Gamma'(x) / Gamma(x): for x < 0 the reflection psi(x) = psi(1 - x) - pi / tan(pi x);
    then psi(z) = psi(z + 1) - 1 / z until z >= 10, where the asymptotic series (Bernoulli numbers
    up to B12) is accurate to double precision."""
    reflected = x < 0.0
    z = tl.where(reflected, 1.0 - x, x)
    shift = tl.zeros_like(z)
    for _ in tl.static_range(10):
        small = z < 10.0
        shift += tl.where(small, 1.0 / z, 0.0)
        z = tl.where(small, z + 1.0, z)
    w = 1.0 / (z * z)
    tail = w * (1.0 / 12 - w * (1.0 / 120 - w * (1.0 / 252 - w * (1.0 / 240 - w * (1.0 / 132 - w * (691.0 / 32760))))))
    y = tl.log(z) - 0.5 / z - tail - shift
    y = tl.where(reflected, y - 3.141592653589793 / tan_pi(x), y)
    y = tl.where((x < 0.0) & (x == tl.floor(x)), float("nan"), y)  # negative integers, -inf
    y = tl.where(x == 0.0, tl.where(1.0 / x < 0.0, float("inf"), -float("inf")), y)  # -0.0 gives +inf
    return tl.where(x == float("inf"), x, y)


@triton.jit
def trigamma(x):
    """psi'(x): below 1/2 the reflection psi'(x) = pi^2 / sin^2(pi x) - psi'(1 - x); then
    psi'(z) = psi'(z + 1) + 1 / z^2 until z >= 10 and the asymptotic series."""
    reflected = x < 0.5
    z = tl.where(reflected, 1.0 - x, x)
    shift = tl.zeros_like(z)
    for _ in tl.static_range(10):
        small = z < 10.0
        shift += tl.where(small, 1.0 / (z * z), 0.0)
        z = tl.where(small, z + 1.0, z)
    w = 1.0 / (z * z)
    series = 1.0 + w * (1.0 / 6 - w * (1.0 / 30 - w * (1.0 / 42 - w * (1.0 / 30 - w * (5.0 / 66)))))
    y = shift + (series + 0.5 / z) / z
    sine = sin_pi(x)
    y = tl.where(reflected, 9.869604401089358 / (sine * sine) - y, y)
    y = tl.where((x <= 0.0) & (x == tl.floor(x)), float("inf"), y)
    return tl.where(x == float("inf"), 0.0, y)


@triton.jit
def hurwitz_zeta(x, q):
    """zeta(x, q) = sum over k >= 0 of (q + k)^-x, for x > 1: the first terms summed directly until
    q + k > 9 (at least nine), then the Euler-Maclaurin tail with twelve Bernoulli terms. A lane
    stops adding once its next term no longer changes the sum (what keeps large x from turning
    the tail's products into inf * 0); the stopping tests are torch's (cephes'), so the infinities
    and zeros of its arguments give torch's results."""
    # terms summed directly: nine, or up to q + k > 9 for a negative q (one loop bound per block,
    # at most 2^20: past that a lane gives NaN rather than a sum that stopped short)
    integer_q = q == tl.floor(q)  # (infinities included)
    summable = (q < 0.0) & ~integer_q & (x == tl.floor(x))  # other negative q: a pole or NaN
    reach = tl.where(summable, tl.minimum(tl.ceil(9.0 - q), MAX_TERMS), 9.0)
    head = tl.max(reach, axis=0).to(tl.int32)
    total = _power(q, -x)
    a = q
    term = total
    done = total != total  # (all False)
    for _ in range(head):
        a += 1.0
        term = _power(a, -x)
        total = tl.where(done, total, total + term)
        # converged: the term is inside (-eps, eps) times the sum (never while the sum is 0, as torch's)
        done = done | ((-EPSILON * total < term) & (term < EPSILON * total))
    total = tl.where(done, total, total + term * a / (x - 1.0) - 0.5 * term)
    factor = tl.full(x.shape, 1.0, tl.float64)
    k = tl.zeros_like(x)
    for i in tl.static_range(12):
        factor *= x + k
        term /= a
        correction = factor * term / _bernoulli_denominator(i)
        total = tl.where(done, total, total + correction)
        done = done | (tl.abs(correction / total) < EPSILON)
        k += 1.0
        factor *= x + k
        term /= a
        k += 1.0
    # what torch checks before summing, its first check applied last: x = 1 is a pole, x < 1 NaN,
    # q = 0, -1, ... poles, other q <= 0 NaN unless x is an integer (q^-x is not real)
    total = tl.where(q == float("inf"), float("nan"), total)  # (torch's tail has 0 * inf there)
    total = tl.where(~integer_q & (9.0 - q > MAX_TERMS), float("nan"), total)
    total = tl.where((q <= 0.0) & ~integer_q & (x != tl.floor(x)), float("nan"), total)
    total = tl.where((q <= 0.0) & integer_q, float("inf"), total)
    total = tl.where(x < 1.0, float("nan"), total)
    return tl.where(x == 1.0, float("inf"), total)


@triton.jit
def _power(base, exponent):
    """base ** exponent for an integral exponent wherever base < 0 (zeta's terms); 1 ** inf is 1."""
    magnitude = tl.where(base == 1.0, 1.0, tl.exp(exponent * tl.log(tl.abs(base))))
    return tl.where((base < 0.0) & (exponent % 2.0 != 0.0), -magnitude, magnitude)


@triton.jit
def _bernoulli_denominator(i: tl.constexpr):
    """(2k)! / B_2k for k = i + 1, the Euler-Maclaurin tail's divisors."""
    if i == 0:
        d = 12.0
    elif i == 1:
        d = -720.0
    elif i == 2:
        d = 30240.0
    elif i == 3:
        d = -1209600.0
    elif i == 4:
        d = 47900160.0
    elif i == 5:
        d = -1.8924375803183791606e9
    elif i == 6:
        d = 7.47242496e10
    elif i == 7:
        d = -2.950130727918164224e12
    elif i == 8:
        d = 1.1646782814350067249e14
    elif i == 9:
        d = -4.5979787224074726105e15
    elif i == 10:
        d = 1.8152105401943546773e17
    else:
        d = -7.1661652561756670113e18
    return d
