"""Samplers of the gamma family (standard gamma, Poisson, binomial) and the reparameterization
gradient of the standard gamma sample with respect to its concentration.

Every sampler is a rejection (or search) loop per element. A lane draws round after round of fresh
Philox numbers until it accepts; the block keeps looping while any lane is still pending, up to a
bound per method chosen so that a lane still pending there has probability below 1e-30.

Counter layout (kernels/random.py's Philox4x32-10 through ``tl.randint4x``): element ``i`` of a
launch whose stream starts at Philox call ``first_call`` draws round ``r`` from the call at counter
``first_call + i * ROUNDS + r`` (four 32-bit numbers; 53-bit uniforms take their upper 32 bits from
that counter's HIGH_STREAM twin, as every float64 draw of kernels/random.py). A launch therefore
consumes ``4 * ROUNDS * numel`` stream numbers, whatever the number of rounds it actually ran, so
the generator reserves them up front (``stream_numbers``) and a sample is a pure function of
(seed, offset, element index, parameter): the same seed gives the same samples on any block size.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import check_floating, check_same_device
from tritongrad.kernels.gamma_functions import digamma, log_gamma
from tritongrad.kernels.random import HIGH_STREAM, box_muller, box_muller_53, unit_interval, unit_interval_53
from tritongrad.runtime import cdiv, elementwise_launch_config

__all__ = [
    "GAMMA_ROUNDS",
    "POISSON_ROUNDS",
    "BINOMIAL_ROUNDS",
    "stream_numbers",
    "launch_standard_gamma",
    "launch_poisson",
    "launch_binomial",
    "launch_standard_gamma_grad",
]

# Rounds (Philox calls) reserved per element. Marsaglia-Tsang rejects at most ~5% of proposals
# (alpha = 1 after the boost, the worst case) and about 0.7% of normals fall where 1 + c z <= 0:
# 24 rounds leave a lane pending with probability < 0.06**24 ~ 5e-30.
GAMMA_ROUNDS = 24
# PTRS and BTRS accept at least ~76% of their proposals (BTRS with n p = 10, its worst case) with
# the k-range check: 48 rounds leave a lane pending with probability < 0.24**48 ~ 1e-30.
POISSON_ROUNDS = 48
BINOMIAL_ROUNDS = 48
# Inversion by sequential search (Poisson with rate < 10, binomial with n min(p, 1 - p) < 10):
# the search steps at most this many times; the tail beyond 160 has mass < 1e-60 there.
SEARCH_STEPS = 160
# Where inversion stops and transformed rejection takes over (both methods' usual switch point).
INVERSION_LIMIT = 10.0
# Terms of the series / continued fraction of the gamma gradient before a lane gives up (a lane
# with concentration a needs about 9 sqrt(a) of them: this covers a up to ~5e7).
MAX_GRAD_TERMS = 65536
# Stopping tolerance of those sums: float64's resolution for float64, far below float32's otherwise.
_GRAD_EPSILON = {torch.float32: 1e-10, torch.float64: 1.1102230246251565e-16}
_TINY = {torch.float32: float(torch.finfo(torch.float32).tiny), torch.float64: float(torch.finfo(torch.float64).tiny)}


def stream_numbers(numel: int, rounds: int) -> int:
    """How many Philox numbers a launch over ``numel`` elements with ``rounds`` rounds consumes."""
    return 4 * rounds * numel


# ----------------------------------------------------------------------------------------------
# Device functions
# ----------------------------------------------------------------------------------------------


@triton.jit
def _round_uniforms(seed, counters, WIDE: tl.constexpr):
    """Four uniforms on [0, 1) per lane from one Philox call: float64 with 53 bits (WIDE), else
    float32 with 24 bits."""
    bits0, bits1, bits2, bits3 = tl.randint4x(seed, counters)
    if WIDE:
        high0, high1, high2, high3 = tl.randint4x(seed, counters + HIGH_STREAM)
        u0 = unit_interval_53(bits0, high0)
        u1 = unit_interval_53(bits1, high1)
        u2 = unit_interval_53(bits2, high2)
        u3 = unit_interval_53(bits3, high3)
    else:
        u0 = unit_interval(bits0, 24)
        u1 = unit_interval(bits1, 24)
        u2 = unit_interval(bits2, 24)
        u3 = unit_interval(bits3, 24)
    return u0, u1, u2, u3


@triton.jit
def _log1p(x):
    """log(1 + x) without the cancellation of log(1 + x) for small x (Goldberg's correction: the
    rounding of 1 + x is divided back out)."""
    y = 1.0 + x
    return tl.where(y == 1.0, x, tl.log(y) * (x / (y - 1.0)))


@triton.jit
def _lanes(BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr):
    if INT64_INDEX:
        return tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    else:
        return tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)


@triton.jit
def _any(flags):
    return tl.max(flags.to(tl.int32), axis=0) > 0


# ----------------------------------------------------------------------------------------------
# Standard gamma
# ----------------------------------------------------------------------------------------------


# out[i] ~ Gamma(alpha[i], 1). Marsaglia & Tsang (2000): with d = a - 1/3, c = 1 / sqrt(9 d), a
# normal z and v = (1 + c z)^3, accept d v when 1 + c z > 0 and u < 1 - 0.0331 z^4 (the squeeze) or
# log u < z^2 / 2 + d (1 - v + log v). alpha < 1 samples Gamma(alpha + 1) and multiplies by
# U^(1 / alpha) (computed as exp(log U / alpha), U in (0, 1]). Each round: one Philox call, whose
# four numbers are the Box-Muller pair, the acceptance uniform and (round 0) the boost uniform.
# Results are clamped to the type's smallest normal number (torch's convention: a sample is > 0);
# alpha <= 0 or NaN gives that smallest number, alpha = inf gives inf (torch's values).
# Traffic: one load and one store per element. Grid: one program per BLOCK elements.
@triton.jit(do_not_specialize=["seed", "first_call"])
def standard_gamma_kernel(
    out_ptr, alpha_ptr,
    numel, seed, first_call,
    TINY: tl.constexpr, WIDE: tl.constexpr, ROUNDS: tl.constexpr, BLOCK: tl.constexpr,
    INT64_INDEX: tl.constexpr,
):  # fmt: skip
    index = _lanes(BLOCK, INT64_INDEX)
    mask = index < numel
    if WIDE:
        alpha = tl.load(alpha_ptr + index, mask=mask, other=1.0).to(tl.float64)
    else:
        alpha = tl.load(alpha_ptr + index, mask=mask, other=1.0).to(tl.float32)
    boosted = alpha < 1.0
    a = tl.where(boosted, alpha + 1.0, alpha)
    a = tl.where(alpha > 0.0, a, 1.0)  # (invalid lanes sample nothing; keep their arithmetic finite)
    d = a - 1.0 / 3.0
    c = 1.0 / tl.sqrt(9.0 * d)
    pending = mask & (alpha > 0.0) & (alpha < float("inf"))
    result = d  # (what a lane still pending after ROUNDS rounds keeps: probability < 1e-29)
    boost = tl.zeros_like(d)
    stream = first_call + index.to(tl.int64) * ROUNDS
    step = 0
    while (step < ROUNDS) & _any(pending):
        if WIDE:
            u0, u1, u2, u3 = _round_uniforms(seed, stream + step, True)
            z, _ = box_muller_53(u0, u1)
        else:
            bits0, bits1, bits2, bits3 = tl.randint4x(seed, stream + step)
            z, _ = box_muller(bits0, bits1)
            u2 = unit_interval(bits2, 24)
            u3 = unit_interval(bits3, 24)
        boost = tl.where(step == 0, 1.0 - u3, boost)
        y = 1.0 + c * z
        v = y * y * y
        u = 1.0 - u2  # in (0, 1]
        z2 = z * z
        squeeze = u < 1.0 - 0.0331 * z2 * z2
        full = tl.log(u) < 0.5 * z2 + d * (1.0 - v + tl.log(tl.where(y > 0.0, v, 1.0)))
        accepted = pending & (y > 0.0) & (squeeze | full)
        result = tl.where(accepted, d * v, result)
        pending = pending & ~accepted
        step += 1
    result = tl.where(boosted, result * tl.exp(tl.log(boost) / alpha), result)
    result = tl.maximum(result, TINY)
    result = tl.where(alpha == float("inf"), alpha, result)
    result = tl.where((alpha > 0.0) | (alpha == float("inf")), result, TINY)  # alpha <= 0, NaN
    tl.store(out_ptr + index, result.to(out_ptr.dtype.element_ty), mask=mask)


# ----------------------------------------------------------------------------------------------
# Poisson
# ----------------------------------------------------------------------------------------------


# out[i] ~ Poisson(rate[i]), computed in float64 from 53-bit uniforms whatever the type.
# Two exact methods, chosen per lane:
#   rate < 10: inversion by sequential search (one uniform: step k up while u > P(X <= k)); its
#       expected cost is rate + 1 steps, cheaper than any rejection method for small rates, and the
#       search is exact up to float64 rounding of the CDF.
#   rate >= 10: Hormann's PTRS (transformed rejection with squeeze, "The transformed rejection
#       method for generating Poisson random variables", 1993): two uniforms per proposal, at
#       least ~88% accepted, O(1) cost for any rate; the exact acceptance test compares with
#       k log(rate) - rate - log k! (log_gamma). Its float64 rounding grows as rate log(rate)
#       2**-52, below 1e-4 in the log-ratio up to rate ~ 1e10.
# rate 0 gives 0 and rate inf gives inf (the checks for negative and NaN rates are the caller's).
# Traffic: one load and one store per element. Grid: one program per BLOCK elements.
@triton.jit(do_not_specialize=["seed", "first_call"])
def poisson_kernel(
    out_ptr, rate_ptr,
    numel, seed, first_call,
    ROUNDS: tl.constexpr, SEARCH: tl.constexpr, LIMIT: tl.constexpr, BLOCK: tl.constexpr,
    INT64_INDEX: tl.constexpr,
):  # fmt: skip
    index = _lanes(BLOCK, INT64_INDEX)
    mask = index < numel
    rate = tl.load(rate_ptr + index, mask=mask, other=0.0).to(tl.float64)
    stream = first_call + index.to(tl.int64) * ROUNDS
    small = rate < LIMIT
    # -- inversion (round 0's first uniform)
    u, _, _, _ = _round_uniforms(seed, stream, True)
    probability = tl.exp(-tl.where(small, rate, 0.0))
    cdf = probability
    k = tl.zeros_like(rate)
    searching = mask & small & (u > cdf)
    step = 0
    while (step < SEARCH) & _any(searching):
        k = tl.where(searching, k + 1.0, k)
        probability = tl.where(searching, probability * rate / k, probability)
        cdf = tl.where(searching, cdf + probability, cdf)
        # stop where P(X <= k) passes u, or once the remaining tail is below float64's resolution
        # of the CDF (a u within rounding of 1)
        searching = searching & (u > cdf) & ((k < rate) | (probability > 1e-17 * cdf))
        step += 1
    result = k
    # -- PTRS (rounds 1, 2, ...)
    large_rate = tl.where(small, LIMIT, rate)
    square_root = tl.sqrt(large_rate)
    log_rate = tl.log(large_rate)
    b = 0.931 + 2.53 * square_root
    a = -0.059 + 0.02483 * b
    log_inverse_alpha = tl.log(1.1239 + 1.1328 / (b - 3.4))
    v_r = 0.9277 - 3.6224 / (b - 2.0)
    pending = mask & ~small & (rate < float("inf"))
    step = 1
    while (step < ROUNDS) & _any(pending):
        u0, u1, _, _ = _round_uniforms(seed, stream + step, True)
        shifted = u0 - 0.5
        v = 1.0 - u1  # in (0, 1]: log v is finite
        us = 0.5 - tl.abs(shifted)
        candidate = tl.floor((2.0 * a / us + b) * shifted + large_rate + 0.43)
        quick = (us >= 0.07) & (v <= v_r)
        refused = (candidate < 0.0) | ((us < 0.013) & (v > us))
        safe = tl.where(refused | (candidate != candidate), 0.0, candidate)
        bound = -large_rate + safe * log_rate - log_gamma(safe + 1.0)
        exact = tl.log(v) + log_inverse_alpha - tl.log(a / (us * us) + b) <= bound
        accepted = pending & (quick | (~refused & exact))
        result = tl.where(accepted, candidate, result)
        pending = pending & ~accepted
        step += 1
    result = tl.where(mask & ~small & (rate < float("inf")) & pending, tl.floor(rate), result)
    result = tl.where(rate == float("inf"), rate, result)
    tl.store(out_ptr + index, result.to(out_ptr.dtype.element_ty), mask=mask)


# ----------------------------------------------------------------------------------------------
# Binomial
# ----------------------------------------------------------------------------------------------


# out[i] ~ Binomial(count[i], prob[i]) in float64 from 53-bit uniforms. With p' = min(p, 1 - p)
# (a sample for 1 - p is count minus one for p) and n = floor(count):
#   n p' < 10: inversion by sequential search from P(X = 0) = (1 - p')^n (one uniform, ~n p' + 1
#       steps), exact up to float64 rounding of the CDF;
#   n p' >= 10: Hormann's BTRS ("The generation of binomial random variables", 1993), transformed
#       rejection with the exact acceptance test on log k! + log (n - k)! (log_gamma), two
#       uniforms per proposal, O(1) expected cost.
# torch's edge values: count <= 0 or prob <= 0 give 0, prob >= 1 gives count, a NaN gives NaN; a
# non-integer count acts as its floor elsewhere (as torch's inversion branch does).
# Traffic: two loads and one store per element. Grid: one program per BLOCK elements.
@triton.jit(do_not_specialize=["seed", "first_call"])
def binomial_kernel(
    out_ptr, count_ptr, prob_ptr,
    numel, seed, first_call,
    ROUNDS: tl.constexpr, SEARCH: tl.constexpr, LIMIT: tl.constexpr, BLOCK: tl.constexpr,
    INT64_INDEX: tl.constexpr,
):  # fmt: skip
    index = _lanes(BLOCK, INT64_INDEX)
    mask = index < numel
    count = tl.load(count_ptr + index, mask=mask, other=0.0).to(tl.float64)
    prob = tl.load(prob_ptr + index, mask=mask, other=0.0).to(tl.float64)
    n = tl.floor(count)
    flipped = prob > 0.5
    p = tl.where(flipped, 1.0 - prob, prob)
    trivial = (count <= 0.0) | (prob <= 0.0) | (prob >= 1.0) | (count != count) | (prob != prob)
    trivial = trivial | (count == float("inf"))
    p = tl.where(trivial, 0.25, p)
    n = tl.where(trivial, 0.0, n)
    mean = n * p
    small = mean < LIMIT
    stream = first_call + index.to(tl.int64) * ROUNDS
    odds = p / (1.0 - p)
    # -- inversion
    u, _, _, _ = _round_uniforms(seed, stream, True)
    probability = tl.exp(n * _log1p(-p))
    k = tl.zeros_like(n)
    searching = mask & ~trivial & small & (u > probability)
    step = 0
    while (step < SEARCH) & _any(searching):
        u = tl.where(searching, u - probability, u)
        k = tl.where(searching, k + 1.0, k)
        probability = tl.where(searching, probability * ((n - k + 1.0) / k) * odds, probability)
        searching = searching & (u > probability) & (k < n) & ((k < mean) | (probability > 1e-17))
        step += 1
    result = k
    # -- BTRS
    q = 1.0 - p
    spq = tl.sqrt(tl.where(small, LIMIT, mean * q))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = mean + 0.5
    v_r = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    log_odds = tl.log(odds)
    mode = tl.floor((n + 1.0) * p)
    h = log_gamma(mode + 1.0) + log_gamma(n - mode + 1.0)
    pending = mask & ~trivial & ~small
    step = 1
    while (step < ROUNDS) & _any(pending):
        u0, u1, _, _ = _round_uniforms(seed, stream + step, True)
        shifted = u0 - 0.5
        v = 1.0 - u1
        us = 0.5 - tl.abs(shifted)
        candidate = tl.floor((2.0 * a / us + b) * shifted + c)
        in_range = (candidate >= 0.0) & (candidate <= n)
        quick = (us >= 0.07) & (v <= v_r)
        safe = tl.where(in_range, candidate, 0.0)
        bound = h - log_gamma(safe + 1.0) - log_gamma(n - safe + 1.0) + (safe - mode) * log_odds
        exact = tl.log(v * alpha / (a / (us * us) + b)) <= bound
        accepted = pending & in_range & (quick | exact)
        result = tl.where(accepted, candidate, result)
        pending = pending & ~accepted
        step += 1
    result = tl.where(mask & ~trivial & ~small & pending, tl.floor(mean), result)
    result = tl.where(flipped, n - result, result)
    result = tl.where((count <= 0.0) | (prob <= 0.0), 0.0, tl.where(prob >= 1.0, count, result))
    undefined = (count != count) | (prob != prob) | ((count == float("inf")) & (prob > 0.0))
    result = tl.where(undefined, float("nan"), result)
    tl.store(out_ptr + index, result.to(out_ptr.dtype.element_ty), mask=mask)


# ----------------------------------------------------------------------------------------------
# Reparameterization gradient of the standard gamma
# ----------------------------------------------------------------------------------------------


# out = dx/dalpha of x ~ Gamma(alpha) at a fixed CDF value: by the implicit function theorem on
# P(alpha, x) = const, dx/dalpha = -(dP/dalpha) / f(x) with f the density, P the regularized lower
# incomplete gamma. Both sums below are divided by f term by term, so no Gamma function or
# exponential of a large argument is ever formed. In float64, whatever the type:
#   x < alpha + 1, the series P = sum_n e^-x x^(alpha+n) / Gamma(alpha+n+1):
#       dx/dalpha = sum_n r_n (psi(alpha+n+1) - log x),  r_0 = x / alpha, r_n = r_{n-1} x / (alpha+n)
#       (every term positive up to x ~ alpha + 1/2: no cancellation);
#   x >= alpha + 1, Legendre's continued fraction Q = e^-x x^alpha h / Gamma(alpha) (Lentz), with
#       the derivative h' = dh/dalpha carried through the recurrence (forward mode):
#       dx/dalpha = dQ/dalpha / f = x h (log x - psi(alpha)) + x h'  (both terms positive).
# Each lane stops when its next term changes the sum by less than EPSILON relative; the block loops
# while any lane is running (about 9 sqrt(alpha) terms near x = alpha, a few far from it).
# Edge values: x <= 0 gives 0 (torch's value at 0); alpha <= 0, alpha = inf, x = inf or a NaN give NaN.
# Traffic: two loads and one store per element. Grid: one program per BLOCK elements.
@triton.jit
def standard_gamma_grad_kernel(
    out_ptr, alpha_ptr, x_ptr,
    numel,
    EPSILON: tl.constexpr, MAX_TERMS: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    index = _lanes(BLOCK, INT64_INDEX)
    mask = index < numel
    alpha = tl.load(alpha_ptr + index, mask=mask, other=1.0).to(tl.float64)
    x = tl.load(x_ptr + index, mask=mask, other=1.0).to(tl.float64)
    valid = (alpha > 0.0) & (alpha < float("inf")) & (x > 0.0) & (x < float("inf"))
    a = tl.where(valid, alpha, 1.0)
    xs = tl.where(valid, x, 1.0)
    log_x = tl.log(xs)
    use_series = xs < a + 1.0
    # -- series state
    term = xs / a
    psi = digamma(a + 1.0)
    series = term * (psi - log_x)
    # -- continued fraction state (value and d/dalpha of each Lentz quantity)
    fpmin = 1e-300
    bb = xs + 1.0 - a
    d = 1.0 / bb
    d_da = d * d  # d(1 / b) / dalpha with db / dalpha = -1
    cc = tl.full(xs.shape, 1e300, tl.float64)
    cc_da = tl.zeros_like(xs)
    h = d
    h_da = d_da
    running = mask & valid
    i = 1
    while (i < MAX_TERMS) & _any(running):
        fi = i * 1.0
        # series: r_n = r_{n-1} x / (a + n), psi(a + n + 1) = psi(a + n) + 1 / (a + n)
        term = term * xs / (a + fi)
        psi = psi + 1.0 / (a + fi)
        contribution = term * (psi - log_x)
        series = tl.where(running & use_series, series + contribution, series)
        # continued fraction: an = -i (i - a), b += 2
        an = -fi * (fi - a)
        an_da = fi
        bb = bb + 2.0
        d_new = an * d + bb
        d_new_da = an_da * d + an * d_da - 1.0
        d_new = tl.where(tl.abs(d_new) < fpmin, fpmin, d_new)
        c_new = bb + an / cc
        c_new_da = -1.0 + an_da / cc - an * cc_da / (cc * cc)
        c_new = tl.where(tl.abs(c_new) < fpmin, fpmin, c_new)
        d_inv = 1.0 / d_new
        d_inv_da = -d_new_da * d_inv * d_inv
        delta = d_inv * c_new
        delta_da = d_inv_da * c_new + d_inv * c_new_da
        fraction = running & ~use_series
        h_next = h * delta
        h_da_next = h_da * delta + h * delta_da
        h_change = tl.abs(h_da_next - h_da)
        h = tl.where(fraction, h_next, h)
        h_da = tl.where(fraction, h_da_next, h_da)
        d = d_inv
        d_da = d_inv_da
        cc = c_new
        cc_da = c_new_da
        # (the size of the term, not of the contribution, which passes through 0 where
        # psi(a + n + 1) = log x)
        series_done = term * (tl.abs(psi - log_x) + 1.0) <= EPSILON * tl.abs(series)
        fraction_done = (tl.abs(delta - 1.0) <= EPSILON) & (h_change <= EPSILON * tl.abs(h_da))
        running = running & tl.where(use_series, ~series_done, ~fraction_done)
        i += 1
    fraction_result = xs * h * (log_x - digamma(a)) + xs * h_da
    result = tl.where(use_series, series, fraction_result)
    result = tl.where(valid, result, float("nan"))
    zero = (x <= 0.0) & (alpha > 0.0) & (alpha < float("inf"))
    result = tl.where(zero, 0.0, result)
    tl.store(out_ptr + index, result.to(out_ptr.dtype.element_ty), mask=mask)


# ----------------------------------------------------------------------------------------------
# Launchers
# ----------------------------------------------------------------------------------------------


def _check_stream(name: str, seed: int, offset: int, numbers: int) -> None:
    if not 0 <= int(seed) < 2**64:
        raise ValueError(f"{name}: seed must be in [0, 2**64), got {seed}")
    if int(offset) % 4:
        raise ValueError(f"{name}: the Philox offset must be a multiple of 4 (whole Philox calls), got {offset}")
    if not 0 <= int(offset) + numbers <= HIGH_STREAM.value:
        raise ValueError(f"{name}: Philox offset {offset} plus {numbers} numbers passes 2**62")


def _check_contiguous(name: str, *tensors: torch.Tensor) -> None:
    for tensor in tensors:
        if not tensor.is_contiguous():
            raise ValueError(
                f"{name}: inputs must be contiguous (shape {tuple(tensor.shape)}, strides {tensor.stride()}); "
                "the caller makes them contiguous first"
            )


def _check_same_shape(name: str, first: torch.Tensor, second: torch.Tensor) -> None:
    if first.shape != second.shape or first.dtype != second.dtype:
        raise ValueError(
            f"{name}: expects two tensors of one shape and dtype (the caller broadcasts), got "
            f"{tuple(first.shape)} {first.dtype} and {tuple(second.shape)} {second.dtype}"
        )


def _grid_and_meta(numel: int, series: bool = True) -> tuple[tuple[int], dict]:
    block, num_warps = elementwise_launch_config(numel, series=series)
    # one program instance per BLOCK elements
    return (cdiv(numel, block),), {"BLOCK": block, "INT64_INDEX": numel + block >= 2**31, "num_warps": num_warps}


def launch_standard_gamma(alpha: torch.Tensor, seed: int, offset: int) -> torch.Tensor:
    """Gamma(alpha, 1) samples for the contiguous float32/float64 concentrations ``alpha`` (any
    shape): a new contiguous tensor of alpha's shape and dtype. float32 draws 24-bit uniforms and
    computes in float32, float64 53-bit uniforms in float64. Consumes
    ``stream_numbers(alpha.numel(), GAMMA_ROUNDS)`` numbers from ``offset`` (a multiple of 4).
    """
    name = "standard_gamma"
    check_floating(name, alpha, (torch.float32, torch.float64))
    _check_contiguous(name, alpha)
    _check_stream(name, seed, offset, stream_numbers(alpha.numel(), GAMMA_ROUNDS))
    out = torch.empty_like(alpha)
    if alpha.numel() == 0:
        return out
    grid, meta = _grid_and_meta(alpha.numel())
    standard_gamma_kernel[grid](
        out, alpha, alpha.numel(), int(seed), int(offset) // 4,
        TINY=_TINY[alpha.dtype], WIDE=alpha.dtype == torch.float64, ROUNDS=GAMMA_ROUNDS, **meta,
    )  # fmt: skip
    return out


def launch_poisson(rate: torch.Tensor, seed: int, offset: int) -> torch.Tensor:
    """Poisson(rate) samples for the contiguous floating ``rate`` (any floating dtype; the caller
    has checked that no rate is negative or NaN): a new contiguous tensor of rate's shape and dtype.
    Consumes ``stream_numbers(rate.numel(), POISSON_ROUNDS)`` numbers from ``offset``.
    """
    name = "poisson"
    check_floating(name, rate)
    _check_contiguous(name, rate)
    _check_stream(name, seed, offset, stream_numbers(rate.numel(), POISSON_ROUNDS))
    out = torch.empty_like(rate)
    if rate.numel() == 0:
        return out
    grid, meta = _grid_and_meta(rate.numel())
    poisson_kernel[grid](
        out, rate, rate.numel(), int(seed), int(offset) // 4,
        ROUNDS=POISSON_ROUNDS, SEARCH=SEARCH_STEPS, LIMIT=INVERSION_LIMIT, **meta,
    )  # fmt: skip
    return out


def launch_binomial(count: torch.Tensor, prob: torch.Tensor, seed: int, offset: int) -> torch.Tensor:
    """Binomial(count, prob) samples for contiguous float32/float64 ``count`` and ``prob`` of one
    shape and dtype (the caller broadcasts): a new contiguous tensor of that shape and dtype.
    Consumes ``stream_numbers(count.numel(), BINOMIAL_ROUNDS)`` numbers from ``offset``.
    """
    name = "binomial"
    check_floating(name, count, (torch.float32, torch.float64))
    _check_same_shape(name, count, prob)
    check_same_device(name, count, prob)
    _check_contiguous(name, count, prob)
    _check_stream(name, seed, offset, stream_numbers(count.numel(), BINOMIAL_ROUNDS))
    out = torch.empty_like(count)
    if count.numel() == 0:
        return out
    grid, meta = _grid_and_meta(count.numel())
    # Two elements per thread (eight warps for the GPU's 512-element series block), not four: BTRS
    # keeps ~20 float64 values live across its loop, which spilled at four per thread.
    meta["num_warps"] = min(8, max(meta["num_warps"], meta["BLOCK"] // 64))
    binomial_kernel[grid](
        out, count, prob, count.numel(), int(seed), int(offset) // 4,
        ROUNDS=BINOMIAL_ROUNDS, SEARCH=SEARCH_STEPS, LIMIT=INVERSION_LIMIT, **meta,
    )  # fmt: skip
    return out


def launch_standard_gamma_grad(alpha: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """dx/dalpha of standard gamma samples ``x`` at fixed CDF (the reparameterization gradient,
    torch._standard_gamma_grad's value) for contiguous float32/float64 ``alpha`` and ``x`` of one
    shape and dtype: a new contiguous tensor. Accurate to float64 rounding (a few ulps of float32
    for float32) wherever the sums converge within MAX_GRAD_TERMS terms (alpha below ~5e7).
    """
    name = "standard_gamma_grad"
    check_floating(name, alpha, (torch.float32, torch.float64))
    _check_same_shape(name, alpha, x)
    check_same_device(name, alpha, x)
    _check_contiguous(name, alpha, x)
    out = torch.empty_like(alpha)
    if alpha.numel() == 0:
        return out
    grid, meta = _grid_and_meta(alpha.numel())
    standard_gamma_grad_kernel[grid](
        out, alpha, x, alpha.numel(),
        EPSILON=_GRAD_EPSILON[alpha.dtype], MAX_TERMS=MAX_GRAD_TERMS, **meta,
    )  # fmt: skip
    return out
