"""The gamma-family samplers (kernels/random_gamma.py, tritongrad/ops/random_gamma.py) against exact
moments, torch's own samplers and torch's gradient.

Samplers are random, so they are checked statistically: the mean and the variance of 4096 samples
per setting within 5 standard errors of the exact moments (the variance's standard error from the
exact fourth central moment), and a two-sample Kolmogorov-Smirnov statistic against 4096 of torch's
samples below its 0.1% critical value. Everything deterministic (edge values, the reparameterization
gradient, dtypes, shapes, errors) is compared with torch exactly or with an independent oracle.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tests.utils import assert_close, from_torch, to_torch

SAMPLES = 4096
ALPHAS = [0.1, 1.0, 2.5, 40.0]
RATES = [0.5, 5.0, 100.0]
BINOMIALS = [(1.0, 0.3), (20.0, 0.4), (500.0, 0.3), (500.0, 0.97)]  # the last: count - sample for 1 - p
# Two-sample KS: reject at level 1e-3 above c(1e-3) sqrt((n + m) / (n m)), c = sqrt(-ln(5e-4) / 2).
KS_BOUND = math.sqrt(-math.log(5e-4) / 2) * math.sqrt(2.0 / SAMPLES)


def _rows(values, dtype=torch.float64) -> tritongrad.Tensor:
    """A (len(values), SAMPLES) parameter tensor, one setting per row (one launch samples them all)."""
    return tritongrad.tensor([[v] * SAMPLES for v in values], dtype=dtype)


def _check_moments(samples: torch.Tensor, settings, mean, variance, fourth, what: str) -> None:
    """Row i's sample mean and variance within 5 standard errors of mean[i] and variance[i]
    (``fourth``: the fourth central moment)."""
    samples = samples.double()
    for row, setting in enumerate(settings):
        m, v, m4 = mean[row], variance[row], fourth[row]
        got_mean, got_variance = samples[row].mean().item(), samples[row].var().item()
        mean_bound = 5 * math.sqrt(v / SAMPLES)
        variance_bound = 5 * math.sqrt((m4 - v * v) / SAMPLES)
        assert abs(got_mean - m) <= mean_bound, f"{what} {setting}: mean {got_mean} vs {m} (bound {mean_bound})"
        assert abs(got_variance - v) <= variance_bound, (
            f"{what} {setting}: variance {got_variance} vs {v} (bound {variance_bound})"
        )


def _ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """sup |F_a - F_b| over the pooled values (ties: both empirical CDFs taken right-continuous)."""
    a, b = np.sort(a), np.sort(b)
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / a.size
    cdf_b = np.searchsorted(b, points, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def _check_ks(ours: torch.Tensor, theirs: torch.Tensor, settings, what: str) -> None:
    for row, setting in enumerate(settings):
        statistic = _ks_statistic(ours[row].double().numpy(), theirs[row].double().numpy())
        assert statistic <= KS_BOUND, f"{what} {setting}: KS statistic {statistic:.4f} > {KS_BOUND:.4f} vs torch"


def test_ks_statistic_detects_a_shifted_sample():
    """The hand-written statistic: 0 for identical samples, past the bound for a shift of 0.2 sd."""
    values = torch.randn(SAMPLES, dtype=torch.float64).numpy()
    assert _ks_statistic(values, values) == 0.0
    assert _ks_statistic(values, values + 0.2) > KS_BOUND


# ------------------------------------------------------------------------------------------------
# standard gamma
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_standard_gamma_moments_and_distribution(dtype):
    tritongrad.manual_seed(11)
    ours = to_torch(tritongrad._standard_gamma(_rows(ALPHAS, dtype)))
    assert ours.dtype == dtype and ours.shape == (len(ALPHAS), SAMPLES)
    assert bool((ours > 0).all()), "a gamma sample is not positive"
    fourth = [3 * a * a + 6 * a for a in ALPHAS]  # Gamma(a, 1): central moments a, a, 3a^2 + 6a
    _check_moments(ours, ALPHAS, ALPHAS, ALPHAS, fourth, f"_standard_gamma {dtype}")
    generator = torch.Generator().manual_seed(11)
    theirs = torch._standard_gamma(torch.tensor(ALPHAS, dtype=dtype)[:, None].expand(-1, SAMPLES), generator=generator)
    _check_ks(ours, theirs, ALPHAS, f"_standard_gamma {dtype}")


def test_poisson_moments_and_distribution():
    tritongrad.manual_seed(12)
    ours = to_torch(tritongrad.poisson(_rows(RATES, torch.float32)))
    assert ours.dtype == torch.float32
    assert bool((ours == ours.floor()).all() and (ours >= 0).all()), "a Poisson sample is not a count"
    _check_moments(ours, RATES, RATES, RATES, [r * (1 + 3 * r) for r in RATES], "poisson")
    generator = torch.Generator().manual_seed(12)
    theirs = torch.poisson(torch.tensor(RATES)[:, None].expand(-1, SAMPLES).contiguous(), generator=generator)
    _check_ks(ours, theirs, RATES, "poisson")


def test_binomial_moments_and_distribution():
    tritongrad.manual_seed(13)
    counts, probs = [n for n, _ in BINOMIALS], [p for _, p in BINOMIALS]
    ours = to_torch(tritongrad.binomial(_rows(counts), _rows(probs)))
    assert bool((ours == ours.floor()).all() and (ours >= 0).all()), "a binomial sample is not a count"
    assert bool((ours <= torch.tensor(counts, dtype=torch.float64)[:, None]).all()), "a sample exceeds its count"
    mean = [n * p for n, p in BINOMIALS]
    variance = [n * p * (1 - p) for n, p in BINOMIALS]
    fourth = [v * (1 + 3 * (n - 2) * p * (1 - p)) for (n, p), v in zip(BINOMIALS, variance)]
    _check_moments(ours, BINOMIALS, mean, variance, fourth, "binomial")
    generator = torch.Generator().manual_seed(13)
    expand = lambda values: torch.tensor(values, dtype=torch.float64)[:, None].expand(-1, SAMPLES).contiguous()  # noqa: E731
    theirs = torch.binomial(expand(counts), expand(probs), generator=generator)
    _check_ks(ours, theirs, BINOMIALS, "binomial")


def test_dirichlet_samples_lie_on_the_simplex_with_the_right_moments():
    alpha = [0.5, 2.0, 7.5]
    tritongrad.manual_seed(14)
    ours = to_torch(tritongrad._sample_dirichlet(tritongrad.tensor([alpha] * SAMPLES, dtype=torch.float64)))
    assert ours.shape == (SAMPLES, 3)
    assert_close(ours.sum(-1), torch.ones(SAMPLES, dtype=torch.float64), what="Dirichlet rows sum")
    total = sum(alpha)
    mean = [a / total for a in alpha]
    variance = [a * (total - a) / (total * total * (total + 1)) for a in alpha]
    # each coordinate is Beta(a, total - a): bound its variance by the fourth raw moment about the mean
    beta_fourth = [_beta_fourth_central(a, total - a) for a in alpha]
    _check_moments(ours.t(), alpha, mean, variance, beta_fourth, "_sample_dirichlet")


def _beta_fourth_central(a: float, b: float) -> float:
    """E[(X - mean)^4] for X ~ Beta(a, b), from the raw moments E[X^k] = prod_{i<k} (a + i) / (a + b + i)."""
    raw = [1.0]
    for i in range(4):
        raw.append(raw[-1] * (a + i) / (a + b + i))
    m = raw[1]
    return raw[4] - 4 * m * raw[3] + 6 * m * m * raw[2] - 3 * m**4


# ------------------------------------------------------------------------------------------------
# seeding
# ------------------------------------------------------------------------------------------------
SAMPLERS = {
    "_standard_gamma": lambda g: tritongrad._standard_gamma(tritongrad.tensor([0.3, 1.0, 5.0, 50.0]), generator=g),
    "poisson": lambda g: tritongrad.poisson(tritongrad.tensor([0.5, 3.0, 20.0, 400.0]), generator=g),
    "binomial": lambda g: tritongrad.binomial(
        tritongrad.tensor([5.0, 40.0, 300.0]), tritongrad.tensor([0.5, 0.5, 0.8]), generator=g
    ),
    "_sample_dirichlet": lambda g: tritongrad._sample_dirichlet(tritongrad.ones(3, 4), generator=g),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_seeds_reproduce_and_differ(name):
    draw = SAMPLERS[name]
    generator = tritongrad.Generator()
    first = to_torch(draw(generator.manual_seed(5)))
    again = to_torch(draw(generator.manual_seed(5)))
    assert torch.equal(first, again), f"{name}: the same seed gave other samples"
    following = to_torch(draw(generator))
    other_seed = to_torch(draw(generator.manual_seed(6)))
    assert not torch.equal(first, other_seed), f"{name}: seeds 5 and 6 gave the same samples"
    assert not torch.equal(first, following), f"{name}: the generator did not advance"
    tritongrad.manual_seed(5)
    assert torch.equal(to_torch(draw(None)), first), f"{name}: the default generator seeded 5 differs"


def test_samples_do_not_depend_on_the_block_they_fall_in():
    """Element i's sample is a function of (seed, offset, i, parameter): the first 5 of a longer launch
    are the 5 of a short one."""
    alpha = tritongrad.tensor([0.2, 1.5, 3.0, 9.0, 60.0] + [2.0] * 40)
    generator = tritongrad.Generator()
    long = to_torch(tritongrad._standard_gamma(alpha, generator=generator.manual_seed(3)))
    short = to_torch(tritongrad._standard_gamma(alpha[:5], generator=generator.manual_seed(3)))
    assert torch.equal(long[:5], short)


# ------------------------------------------------------------------------------------------------
# the reparameterization gradient
# ------------------------------------------------------------------------------------------------
# (alpha, x) pairs spanning both methods: the series (x < alpha + 1) and the continued fraction,
# tiny and huge x, concentrations from 1e-3 to 400.
GRAD_ALPHAS = [1e-3, 0.1, 0.1, 0.5, 0.5, 1.0, 1.0, 1.0, 2.5, 2.5, 5.0, 20.0, 40.0, 40.0, 100.0, 400.0, 400.0]
GRAD_XS = [1e-30, 1e-5, 3.0, 0.01, 1.0, 1e-8, 0.7, 12.0, 2.0, 9.0, 5.0, 22.0, 30.0, 60.0, 90.0, 380.0, 460.0]


def _gamma_grad_oracle(alpha: float, x: float) -> float:
    """dx/dalpha = -(1 / f(x)) int_0^x (log t - psi(alpha)) f(t) dt = (1 / f(x)) int_x^inf (same) dt,
    f the Gamma(alpha) density, by numpy quadrature in float64 (torch's gammainc is only good to
    ~1e-5 near alpha = 20, too coarse to check a derivative against). Below alpha: t = x u^(1/alpha),
    u = v^4 (which tames the log singularity at 0) and 400-point Gauss-Legendre, for alpha < 5 (for
    larger alpha u^(1/alpha) varies on scales this grid cannot see); otherwise the trapezoid rule on
    t in [x, x + 400] with step 1e-4 (the density ratio has decayed below 1e-30 there; near the mode,
    where it is used below alpha, the two integrals are of one size and nothing cancels)."""
    psi = torch.digamma(torch.tensor(alpha, dtype=torch.float64)).item()
    if x < alpha < 5:
        nodes, weights = np.polynomial.legendre.leggauss(400)
        v = (nodes + 1) / 2
        u = v**4
        integrand = (math.log(x) + np.log(u) / alpha - psi) * np.exp(x - x * u ** (1 / alpha)) * 4 * v**3
        return -(x / alpha) * float(np.sum(weights * integrand) / 2)
    t = np.linspace(x, x + 400.0, 4_000_001)
    ratio = np.exp((alpha - 1) * np.log(t / x) - (t - x))
    values = (np.log(t) - psi) * ratio
    return float(np.sum(values[1:] + values[:-1]) * (t[1] - t[0]) / 2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_standard_gamma_grad_against_an_oracle_and_torch(dtype):
    alpha = torch.tensor(GRAD_ALPHAS, dtype=torch.float64)
    x = torch.tensor(GRAD_XS, dtype=torch.float64)
    got = to_torch(tritongrad._standard_gamma_grad(from_torch(alpha.to(dtype)), from_torch(x.to(dtype))))
    assert got.dtype == dtype
    # (the oracle at the inputs as rounded to dtype)
    pairs = zip(alpha.to(dtype).double().tolist(), x.to(dtype).double().tolist())
    oracle = torch.tensor([_gamma_grad_oracle(a, value) for a, value in pairs], dtype=torch.float64)
    assert_close(got.double(), oracle, rtol=1e-6 if dtype == torch.float32 else 1e-8, atol=0,
                 what=f"_standard_gamma_grad {dtype} vs quadrature")  # fmt: skip
    # torch's CPU kernel approximates (a 6-term series, a saddle point, a rational fit): about 1%
    torch_value = torch._standard_gamma_grad(alpha.to(dtype), x.to(dtype))
    assert_close(got, torch_value, rtol=1e-2, atol=0, what=f"_standard_gamma_grad {dtype} vs torch")


def test_standard_gamma_grad_edge_values_match_torch():
    alpha = torch.tensor([1.0, 2.0, 0.0, -1.0, 1.0, math.nan, 1.0, math.inf])
    x = torch.tensor([0.0, -1.0, 1.0, 1.0, math.inf, 1.0, math.nan, 1.0])
    got = tritongrad._standard_gamma_grad(from_torch(alpha), from_torch(x))
    expected = torch._standard_gamma_grad(alpha, x)
    assert torch.equal(to_torch(got).isnan(), expected.isnan()), f"NaNs: {to_torch(got)} vs {expected}"
    assert torch.equal(to_torch(got).nan_to_num(), expected.nan_to_num()), f"{to_torch(got)} vs {expected}"


def test_standard_gamma_is_reparameterized():
    """The gradient of a sample is _standard_gamma_grad(alpha, sample) (torch's StandardGammaBackward0)."""
    alpha = from_torch(torch.tensor([[0.3, 1.0, 4.0], [10.0, 0.05, 2.0]], dtype=torch.float64), requires_grad=True)
    sample = tritongrad._standard_gamma(alpha)
    assert type(sample.grad_fn).__name__ == "StandardGammaBackward0"
    weights = tritongrad.tensor([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]], dtype=torch.float64)
    (sample * weights).sum().backward()
    expected = to_torch(weights) * torch._standard_gamma_grad(to_torch(alpha.detach()), to_torch(sample.detach()))
    assert_close(alpha.grad, expected, rtol=1e-2, atol=1e-12, what="d sample / d alpha vs torch's formula")
    exact = to_torch(weights) * to_torch(tritongrad._standard_gamma_grad(alpha.detach(), sample.detach()))
    assert_close(alpha.grad, exact, what="d sample / d alpha")


def test_reparameterized_gradient_is_unbiased():
    """d/dalpha E[X] = 1 for X ~ Gamma(alpha): the mean pathwise gradient over 4096 samples is 1
    within 5 standard errors, for small and large alpha."""
    for a in (0.2, 3.0):
        alpha = tritongrad.tensor([a] * SAMPLES, dtype=torch.float64, requires_grad=True)
        tritongrad.manual_seed(21)
        tritongrad._standard_gamma(alpha).sum().backward()
        grads = to_torch(alpha.grad)
        bound = 5 * grads.std().item() / math.sqrt(SAMPLES)
        assert abs(grads.mean().item() - 1.0) <= bound, f"alpha {a}: mean gradient {grads.mean().item()}"


# ------------------------------------------------------------------------------------------------
# deterministic values, dtypes, shapes, graphs
# ------------------------------------------------------------------------------------------------
def test_edge_values_match_torch():
    alpha = torch.tensor([0.0, -1.0, math.inf])
    assert torch.equal(to_torch(tritongrad._standard_gamma(from_torch(alpha))), torch._standard_gamma(alpha))
    rate = torch.tensor([0.0, 0.0], dtype=torch.float64)
    assert torch.equal(to_torch(tritongrad.poisson(from_torch(rate))), torch.poisson(rate))
    count = torch.tensor([0.0, -3.0, 10.0, 10.0, 7.5, 4.0])
    prob = torch.tensor([0.5, 0.5, 0.0, 1.0, 1.0, math.nan])
    expected = torch.binomial(count, prob)
    got = to_torch(tritongrad.binomial(from_torch(count), from_torch(prob)))
    assert torch.equal(got.nan_to_num(-1), expected.nan_to_num(-1)), f"{got} vs {expected}"
    # 0-d Dirichlet: one coordinate, always 1
    assert to_torch(tritongrad._sample_dirichlet(tritongrad.tensor(2.0))).item() == 1.0


SHAPED = {
    "_standard_gamma": lambda lib, t: lib._standard_gamma(t + 0.5),
    "poisson": lambda lib, t: lib.poisson(t * 3),
    "binomial": lambda lib, t: lib.binomial(t * 0 + 7, t * 0.2),
    "_sample_dirichlet": lambda lib, t: lib._sample_dirichlet(t + 1),
}


@pytest.mark.parametrize("name", list(SHAPED))
@pytest.mark.parametrize(
    "make",
    [lambda: torch.rand(0, 3), lambda: torch.rand(()), lambda: torch.rand(3, 5).t(), lambda: torch.rand(4, 1)[:, 0]],
    ids=["empty", "0-d", "transposed", "strided"],
)
def test_shapes_and_dtypes_match_torch(name, make):
    values = make().double()
    expected = SHAPED[name](torch, values)
    got = SHAPED[name](tritongrad, from_torch(values))
    assert (got.shape, got.dtype) == (expected.shape, expected.dtype), f"{name}: {got.shape} {got.dtype}"


def test_graph_nodes_and_missing_derivatives_match_torch():
    rate = from_torch(torch.tensor([1.0, 4.0]), requires_grad=True)
    sample = tritongrad.poisson(rate)
    assert type(sample.grad_fn).__name__ == "PoissonBackward0"
    sample.sum().backward()
    assert to_torch(rate.grad).tolist() == [0.0, 0.0]
    agree("binomial backward", lambda lib, c, p: lib.binomial(c, p).sum().backward(),
          [torch.tensor([10.0, 3.0], requires_grad=True), torch.tensor([0.2, 0.5], requires_grad=True)])  # fmt: skip
    agree("_sample_dirichlet backward", lambda lib, a: lib._sample_dirichlet(a).sum().backward(),
          [torch.tensor([1.0, 3.0], requires_grad=True)])  # fmt: skip
    agree("_standard_gamma_grad backward",
          lambda lib, a, x: lib._standard_gamma_grad(a, x).sum().backward(),
          [torch.tensor([1.0, 3.0], requires_grad=True), torch.tensor([0.5, 2.0])])  # fmt: skip


ERRORS = {
    "_standard_gamma Long": lambda lib: lib._standard_gamma(lib.tensor([1, 2])),
    "_standard_gamma Half": lambda lib: lib._standard_gamma(lib.tensor([1.0], dtype=lib.float16)),
    "_standard_gamma list": lambda lib: lib._standard_gamma([1.0]),
    "poisson Long": lambda lib: lib.poisson(lib.tensor([1, 2])),
    "poisson negative": lambda lib: lib.poisson(lib.tensor([1.0, -1.0])),
    "poisson NaN": lambda lib: lib.poisson(lib.tensor([math.nan])),
    "binomial Long count": lambda lib: lib.binomial(lib.tensor([10, 10]), lib.tensor([0, 1])),
    "binomial mixed dtypes": lambda lib: lib.binomial(lib.tensor([10.0]), lib.tensor([0.5], dtype=lib.float64)),
    "binomial Half": lambda lib: lib.binomial(*[lib.tensor([1.0], dtype=lib.float16)] * 2),
    "binomial shapes": lambda lib: lib.binomial(lib.ones(2, 3), lib.ones(4) * 0.5),
    "_sample_dirichlet Long": lambda lib: lib._sample_dirichlet(lib.tensor([1, 2])),
    "_standard_gamma_grad Long": lambda lib: lib._standard_gamma_grad(lib.tensor([1, 2]), lib.tensor([1, 3])),
    "_standard_gamma_grad Half": lambda lib: lib._standard_gamma_grad(
        lib.tensor([1.0], dtype=lib.float16), lib.tensor([1.0], dtype=lib.float16)
    ),
    "_standard_gamma_grad mixed dtypes": lambda lib: lib._standard_gamma_grad(
        lib.tensor([1.0]), lib.tensor([1.0], dtype=lib.float64)
    ),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    agree(name, ERRORS[name], [])


def test_generator_argument_is_checked():
    for sample in (
        lambda g: tritongrad._standard_gamma(tritongrad.ones(2), generator=g),
        lambda g: tritongrad.poisson(tritongrad.ones(2), g),
        lambda g: tritongrad.binomial(tritongrad.ones(2), tritongrad.ones(2) * 0.5, g),
    ):
        with pytest.raises(TypeError, match="argument 'generator' must be tritongrad.Generator, not int"):
            sample(3)
        with pytest.raises(TypeError, match="must be tritongrad.Generator, not Generator"):
            sample(torch.Generator())
