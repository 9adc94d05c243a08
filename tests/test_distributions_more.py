"""The rest of torch.distributions that tutorials use (MixtureSameFamily, Multinomial, Cauchy,
HalfNormal, HalfCauchy, Gumbel, Weibull, Pareto, Kumaraswamy, LogisticNormal, the relaxed
Bernoulli/categorical, ContinuousBernoulli, NegativeBinomial, FisherSnedecor, InverseGamma,
LowRankMultivariateNormal, VonMises) and their transforms, against torch.distributions: values and
gradients on fresh random parameters, rsample's reparameterization on noise shared with torch, sample
shapes and statistics, validation errors, and a mixture-density-network training step.
"""

from __future__ import annotations

import math

import pytest
import torch

import tritongrad
from tests.test_distributions import CASES as FIRST_CASES
from tests.test_distributions import Case, _uniform_values
from tests.test_distributions_gamma import CASES as GAMMA_CASES
from tests.utils import assert_close, from_torch, random_values, to_torch

DTYPES = [torch.float32, torch.float64]
# lgamma/digamma gradients reach torch's CPU trigamma (~1e-9 relative in float64, see
# test_distributions_gamma.py); Bessel and capacitance-matrix paths add a few more roundings.
GRAD_TOLERANCES = {torch.float32: (2e-5, 2e-5), torch.float64: (1e-7, 1e-9)}


def _integer_values(shape, high):
    return lambda dtype: torch.randint(0, high + 1, shape).to(dtype)


def _simplex_values(shape):
    return lambda dtype: torch.distributions.Dirichlet(torch.full(shape, 2.0, dtype=torch.float64)).sample().to(dtype)


def _count_values(shape, total, classes):
    return lambda dtype: torch.distributions.Multinomial(total, torch.ones(classes)).sample(shape).to(dtype)


def _lower_cholesky(D, tril, diag):
    """A lower Cholesky factor from a square parameter and a positive diagonal (either library)."""
    return tril.tril(-1) + diag.diag_embed()


CASES = {
    # a 1-d Gaussian mixture: batch (2,) of 3 components; value (4, 2)
    "MixtureSameFamily(Normal)": Case(
        lambda D, logits, loc, scale: D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(loc, scale)),
        {"logits": ((2, 3), -2, 2), "loc": ((2, 3), -2, 2), "scale": ((2, 3), 0.5, 2)},
        _uniform_values((4, 2), -3, 3),
        ("cdf",),
        entropy=False,
    ),
    # a 2-d diagonal GMM whose mixing weights (3,) broadcast over the batch (2,)
    "MixtureSameFamily(Independent Normal)": Case(
        lambda D, probs, loc, scale: D.MixtureSameFamily(
            D.Categorical(probs=probs), D.Independent(D.Normal(loc, scale), 1)
        ),
        {"probs": ((3,), 0.2, 1.0), "loc": ((2, 3, 2), -2, 2), "scale": ((2, 3, 2), 0.5, 2)},
        _uniform_values((4, 2, 2), -3, 3),
        entropy=False,
    ),
    # a full-covariance GMM: 3 bivariate components with Cholesky factors
    "MixtureSameFamily(MultivariateNormal)": Case(
        lambda D, logits, loc, tril, diag: D.MixtureSameFamily(
            D.Categorical(logits=logits), D.MultivariateNormal(loc, scale_tril=_lower_cholesky(D, tril, diag))
        ),
        {"logits": ((3,), -2, 2), "loc": ((3, 2), -2, 2), "tril": ((3, 2, 2), -1, 1), "diag": ((3, 2), 0.5, 2)},
        _uniform_values((5, 2), -3, 3),
        entropy=False,
    ),
    "Multinomial(probs)": Case(
        lambda D, probs: D.Multinomial(5, probs=probs),
        {"probs": ((2, 3), 0.1, 1.0)},
        _count_values((4, 2), 5, 3),
    ),
    "Multinomial(logits)": Case(
        lambda D, logits: D.Multinomial(4, logits=logits), {"logits": ((4,), -2, 2)}, _count_values((3,), 4, 4)
    ),
    "Cauchy": Case(
        lambda D, loc, scale: D.Cauchy(loc, scale),
        {"loc": ((2, 3), -2, 2), "scale": ((3,), 0.5, 2)},
        _uniform_values((4, 1, 3), -5, 5),
        ("cdf", "icdf", "mode"),
    ),
    "HalfNormal": Case(
        lambda D, scale: D.HalfNormal(scale),
        {"scale": ((2, 3), 0.5, 2)},
        _uniform_values((4, 2, 3), 0.05, 4),
        ("cdf", "icdf", "mode"),
    ),  # fmt: skip
    "HalfCauchy": Case(
        lambda D, scale: D.HalfCauchy(scale),
        {"scale": ((3,), 0.5, 2)},
        _uniform_values((4, 3), 0.05, 6),
        ("cdf", "icdf", "mode"),
    ),  # fmt: skip
    "Gumbel": Case(
        lambda D, loc, scale: D.Gumbel(loc, scale),
        {"loc": ((2, 3), -1, 1), "scale": ((3,), 0.5, 2)},
        _uniform_values((4, 1, 3), -2, 4),
        ("cdf", "icdf", "mode"),
    ),
    "Weibull": Case(
        lambda D, scale, concentration: D.Weibull(scale, concentration),
        {"scale": ((3,), 0.5, 2), "concentration": ((2, 3), 0.6, 3)},
        _uniform_values((4, 2, 3), 0.05, 4),
        ("cdf", "icdf", "mode"),
    ),
    # alpha below 1 and 2 too: the mean's and variance's clamped formulas
    "Pareto": Case(
        lambda D, scale, alpha: D.Pareto(scale, alpha),
        {"scale": ((3,), 0.5, 1), "alpha": ((2, 3), 0.5, 4)},
        _uniform_values((4, 2, 3), 1.05, 5),
        ("cdf", "icdf", "mode"),
    ),
    "Kumaraswamy": Case(
        lambda D, c1, c0: D.Kumaraswamy(c1, c0),
        {"c1": ((2, 3), 0.5, 3), "c0": ((3,), 0.5, 3)},
        _uniform_values((4, 2, 3), 0.05, 0.95),
        ("cdf", "icdf"),
    ),
    # a (2, 3)-batch over R^3 onto the 4-simplex
    "LogisticNormal": Case(
        lambda D, loc, scale: D.LogisticNormal(loc, scale),
        {"loc": ((2, 3), -1, 1), "scale": ((2, 3), 0.5, 1.5)},
        _simplex_values((5, 2, 4)),
        properties=(),
        entropy=False,
    ),
    "RelaxedBernoulli(probs)": Case(
        lambda D, temperature, probs: D.RelaxedBernoulli(temperature, probs=probs),
        {"temperature": ((), 0.3, 2), "probs": ((2, 3), 0.1, 0.9)},
        _uniform_values((4, 2, 3), 0.05, 0.95),
        properties=(),
        entropy=False,
    ),
    "RelaxedBernoulli(logits)": Case(
        lambda D, temperature, logits: D.RelaxedBernoulli(temperature, logits=logits),
        {"temperature": ((3,), 0.3, 2), "logits": ((3,), -2, 2)},
        _uniform_values((4, 3), 0.05, 0.95),
        properties=(),
        entropy=False,
    ),
    "RelaxedOneHotCategorical": Case(
        lambda D, temperature, logits: D.RelaxedOneHotCategorical(temperature, logits=logits),
        {"temperature": ((), 0.3, 2), "logits": ((2, 4), -2, 2)},
        _simplex_values((3, 2, 4)),
        properties=(),
        entropy=False,
    ),
    # probabilities away from 1/2 (the exact formulas cancel there: float32 gradients of torch's and
    # tritongrad's differ by ~1e-4 relative at p = 0.48, each as far from the float64 value)
    "ContinuousBernoulli(probs)": Case(
        lambda D, probs: D.ContinuousBernoulli(probs=probs),
        {"probs": ((2, 3), 0.05, 0.4)},
        _uniform_values((4, 2, 3), 0.02, 0.98),
        ("cdf", "icdf"),
    ),
    "ContinuousBernoulli(logits)": Case(
        lambda D, logits: D.ContinuousBernoulli(logits=logits),
        {"logits": ((3,), 0.5, 3)},
        _uniform_values((4, 3), 0.02, 0.98),
        ("cdf", "icdf"),
    ),
    # logits in (-0.004, 0.004): probabilities inside (0.499, 0.501), the Taylor branches
    "ContinuousBernoulli(near 1/2)": Case(
        lambda D, logits: D.ContinuousBernoulli(logits=logits),
        {"logits": ((3,), -0.004, 0.004)},
        _uniform_values((4, 3), 0.02, 0.98),
        ("cdf", "icdf"),
    ),
    "NegativeBinomial(probs)": Case(
        lambda D, total_count, probs: D.NegativeBinomial(total_count, probs=probs),
        {"total_count": ((3,), 0.5, 5), "probs": ((2, 3), 0.1, 0.9)},
        _integer_values((4, 2, 3), 10),
        ("mode",),
        entropy=False,
    ),
    "NegativeBinomial(logits)": Case(
        lambda D, logits: D.NegativeBinomial(3.0, logits=logits),
        {"logits": ((3,), -2, 2)},
        _integer_values((4, 3), 10),
        ("mode",),
        entropy=False,
    ),
    # df2 above 4 (finite mean and variance) and df1 above 2 (a mode)
    "FisherSnedecor": Case(
        lambda D, df1, df2: D.FisherSnedecor(df1, df2),
        {"df1": ((3,), 2.5, 8), "df2": ((2, 3), 4.5, 10)},
        _uniform_values((4, 2, 3), 0.05, 4),
        ("mode",),
        entropy=False,
    ),
    "InverseGamma": Case(
        lambda D, concentration, rate: D.InverseGamma(concentration, rate),
        {"concentration": ((2, 3), 2.5, 5), "rate": ((3,), 0.5, 2)},
        _uniform_values((4, 2, 3), 0.05, 3),
        ("mode",),
    ),
    "LowRankMultivariateNormal": Case(
        lambda D, loc, cov_factor, cov_diag: D.LowRankMultivariateNormal(loc, cov_factor, cov_diag),
        {"loc": ((2, 3), -1, 1), "cov_factor": ((3, 2), -1, 1), "cov_diag": ((2, 3), 0.5, 2)},
        _uniform_values((4, 2, 3), -3, 3),
        ("mode",),
        properties=("mean", "variance", "stddev", "covariance_matrix", "precision_matrix", "scale_tril"),
    ),
    # concentrations on both sides of 3.75, where the Bessel approximations switch
    "VonMises": Case(
        lambda D, loc, concentration: D.VonMises(loc, concentration),
        {"loc": ((2, 3), -1, 1), "concentration": ((3,), 0.5, 8)},
        _uniform_values((4, 2, 3), -math.pi, math.pi),
        ("mode",),
        entropy=False,
    ),
    # dim 3 (and the dim-2 edge below); concentrations below and above 1
    "LKJCholesky": Case(
        lambda D, concentration: D.LKJCholesky(3, concentration),
        {"concentration": ((2,), 0.5, 3)},
        lambda dtype: (
            torch.distributions.LKJCholesky(3, torch.tensor(1.5, dtype=torch.float64)).sample((4, 2)).to(dtype)
        ),
        properties=(),
        entropy=False,
    ),
    "LKJCholesky(dim 2)": Case(
        lambda D, concentration: D.LKJCholesky(2, concentration),
        {"concentration": ((), 0.5, 3)},
        lambda dtype: torch.distributions.LKJCholesky(2, torch.tensor(1.5, dtype=torch.float64)).sample((3,)).to(dtype),
        properties=(),
        entropy=False,
    ),
    # a batch of 2 dfs over one 3 x 3 covariance
    "Wishart": Case(
        lambda D, df, a, diag: D.Wishart(df, covariance_matrix=a @ a.mT + diag.diag_embed()),
        {"df": ((2,), 3.5, 7), "a": ((3, 3), -1, 1), "diag": ((3,), 0.5, 1.5)},
        lambda dtype: (
            torch.distributions.Wishart(torch.tensor(5.0, dtype=torch.float64), torch.eye(3, dtype=torch.float64))
            .sample((4, 2))
            .to(dtype)
        ),
        ("mode",),
        properties=("mean", "variance", "stddev", "covariance_matrix", "precision_matrix", "scale_tril"),
    ),
}


def _params(case: Case, dtype: torch.dtype):
    """The case's parameters as (torch leaves, tritongrad leaves): the same fresh values, requiring grad."""
    theirs = {name: random_values(shape, dtype, low=low, high=high).requires_grad_() for name, (shape, low, high)
              in case.params.items()}  # fmt: skip
    return theirs, {name: from_torch(value, requires_grad=True) for name, value in theirs.items()}


def _pair(name: str, dtype: torch.dtype):
    case = CASES[name]
    theirs, ours = _params(case, dtype)
    return theirs, ours, case.build(torch.distributions, **theirs), case.build(tritongrad.distributions, **ours)


def _compare_grads(theirs: dict, ours: dict, what: str, dtype) -> None:
    for name in theirs:
        expected, got = theirs[name].grad, ours[name].grad
        assert (got is None) == (expected is None), f"{what}: {name} gradient {got} vs torch's {expected}"
        if expected is not None:
            assert_close(got, expected, dtype, tolerances=GRAD_TOLERANCES[dtype], what=f"{what}: grad of {name}")


# ------------------------------------------------------------------------------------------------
# values and gradients
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(name, dtype):
    """log_prob (of a value broadcast against the batch), cdf, icdf, entropy, mode and moments equal
    torch's; in float64 so do the gradients of their (finite) sum with respect to every parameter."""
    case = CASES[name]
    theirs, ours, expected, got = _pair(name, dtype)
    assert (got.batch_shape, got.event_shape) == (expected.batch_shape, expected.event_shape), name
    value = case.value(dtype)
    results = [("log_prob", expected.log_prob(value), got.log_prob(from_torch(value)))]
    if case.entropy:
        results.append(("entropy", expected.entropy(), got.entropy()))
    for method in case.methods:
        if method == "cdf":
            results.append(("cdf", expected.cdf(value), got.cdf(from_torch(value))))
        elif method == "icdf":
            q = random_values(expected.batch_shape, dtype, low=0.05, high=0.95)
            results.append(("icdf", expected.icdf(q), got.icdf(from_torch(q))))
        else:
            results.append((method, getattr(expected, method), getattr(got, method)))
    results += [(prop, getattr(expected, prop), getattr(got, prop)) for prop in case.properties]
    loss_torch, loss_tg = 0, 0
    # (gradients in float64 only: float32 runs the same backward code, and the interpreter's time
    # is better spent on the cases)
    with_grads = dtype == torch.float64
    for what, want, have in results:
        # torch's Multinomial entropy takes lgamma(total_count + 1) of an int64 tensor, in float32
        # (tritongrad's in Python's double): float64 entropies differ by ~2e-8 relative
        tolerances = (1e-7, 1e-7) if name.startswith("Multinomial") and what == "entropy" else None
        assert_close(have, want, dtype, kind="autograd", tolerances=tolerances, what=f"{name}.{what}")
        if want.requires_grad and with_grads:
            finite = torch.isfinite(want.detach())
            loss_torch = loss_torch + want[finite].sum()
            loss_tg = loss_tg + (have * from_torch(finite.to(dtype))).nan_to_num(0.0).sum()
    if with_grads:
        loss_torch.backward()
        loss_tg.backward()
        _compare_grads(theirs, ours, name, dtype)


@pytest.mark.slow  # (~12 s: the mixture's log_prob gradients are also compared with torch's above)
def test_mixture_log_prob_gradients_by_gradcheck():
    """float64 gradcheck of a two-component 1-d GMM's log_prob with respect to the mixing logits, the
    means and the scales (finite differences, independent of torch)."""
    D = tritongrad.distributions
    logits, loc, scale = (from_torch(random_values((2,), torch.float64, low=low, high=high), requires_grad=True)
                          for low, high in ((-1, 1), (-1, 1), (0.5, 1.5)))  # fmt: skip
    x = from_torch(random_values((3, 1), torch.float64))

    def log_prob(logits, loc, scale):
        return D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(loc, scale)).log_prob(x)

    assert tritongrad.autograd.gradcheck(log_prob, (logits, loc, scale))


# ------------------------------------------------------------------------------------------------
# rsample: the reparameterization on noise shared with torch
# ------------------------------------------------------------------------------------------------
class _SharedNoise:
    """Each base-noise draw torch's rsample makes is recorded and replayed, in the same order, to
    tritongrad's, so both push the same noise through their reparameterizations. Uniform noise
    replaces torch.rand and tritongrad's uniform_ (torch's cauchy_ gets tan(pi (u - 1/2)) of it),
    exponential noise both exponential_, normal noise both standard-normal helpers."""

    def __init__(self, monkeypatch) -> None:
        self.drawn: list[torch.Tensor] = []
        self.replayed = 0
        patch = monkeypatch.setattr
        patch(torch, "rand", lambda *size, dtype=None, device=None: self._draw(size, dtype, "uniform"))
        patch(torch.Tensor, "cauchy_", lambda t: t.copy_(torch.tan(math.pi * (self._draw(t.shape, t.dtype) - 0.5))))
        patch(torch.Tensor, "exponential_", lambda t: t.copy_(self._draw(t.shape, t.dtype, "exponential")))
        normal = lambda shape, dtype, device: self._draw(shape, dtype, "normal")  # noqa: E731
        patch(torch.distributions.normal, "_standard_normal", normal)
        patch(torch.distributions.lowrank_multivariate_normal, "_standard_normal", normal)
        patch(tritongrad.Tensor, "uniform_", lambda t, *args, **kwargs: self._replay(t.shape, t.dtype))
        patch(tritongrad.Tensor, "exponential_", lambda t, *args, **kwargs: self._replay(t.shape, t.dtype))
        replay = lambda shape, dtype, device: self._replay(shape, dtype)  # noqa: E731
        patch(tritongrad.distributions.normal, "standard_normal", replay)
        patch(tritongrad.distributions.lowrank_multivariate_normal, "standard_normal", replay)

    def _draw(self, size, dtype, kind: str = "uniform") -> torch.Tensor:
        shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else tuple(size)
        generator = torch.Generator().manual_seed(len(self.drawn))
        if kind == "uniform":
            noise = torch.empty(shape, dtype=torch.float64).uniform_(generator=generator)
        elif kind == "exponential":
            noise = -torch.empty(shape, dtype=torch.float64).uniform_(generator=generator).log()
        else:
            noise = torch.empty(shape, dtype=torch.float64).normal_(generator=generator)
        self.drawn.append(noise.to(dtype or torch.get_default_dtype()))
        return self.drawn[-1]

    def _replay(self, shape, dtype) -> tritongrad.Tensor:
        noise = self.drawn[self.replayed]
        self.replayed += 1
        assert tuple(noise.shape) == tuple(shape), f"noise draw {self.replayed}: shape {shape} vs torch's {noise.shape}"
        return from_torch(noise.to(dtype))


# (FisherSnedecor's, InverseGamma's and Wishart's rsample go through the gamma sampler's implicit gradient:
# their shapes and statistics are checked below)
RSAMPLED = [name for name in CASES if name not in ("FisherSnedecor", "InverseGamma", "Wishart")]


@pytest.mark.parametrize("name", RSAMPLED)
def test_rsample_is_torchs_reparameterization_on_the_same_noise(name, monkeypatch):
    """rsample((5,)) on shared base noise gives torch's samples, and the gradient of their weighted sum
    with respect to every parameter is torch's (distributions without rsample raise as torch's)."""
    dtype = torch.float64
    theirs, ours, expected, got = _pair(name, dtype)
    assert got.has_rsample == expected.has_rsample, f"{name}.has_rsample"
    if not expected.has_rsample:
        with pytest.raises(NotImplementedError):
            got.rsample((5,))
        return
    noise = _SharedNoise(monkeypatch)
    want = expected.rsample((5,))
    have = got.rsample((5,))
    assert noise.replayed == len(noise.drawn) > 0, f"{name}: {noise.replayed} of {len(noise.drawn)} draws replayed"
    assert_close(have, want, dtype, kind="autograd", what=f"{name}.rsample")
    weights = random_values(want.shape, dtype, low=0.5, high=1.5)
    (want * weights).sum().backward()
    (have * from_torch(weights)).sum().backward()
    _compare_grads(theirs, ours, f"{name}.rsample", dtype)


# ------------------------------------------------------------------------------------------------
# sampling: shapes, dtypes, statistics
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CASES))
def test_sample_shapes_dtypes_and_expand_match_torch(name):
    """repr, support and argument constraints are torch's; sample((2, 3)) (and the expanded
    distribution's sample()) have torch's shapes (sample + batch + event) and dtypes, outside the
    graph; expand((4,) + batch) gives torch's shapes and torch's log_prob of torch's samples. (torch's
    MixtureSameFamily cannot sample mixing weights broadcast over the batch: only the shape is
    compared there.)"""
    dtype = torch.float32
    _, _, expected, got = _pair(name, dtype)
    assert repr(got) == repr(expected) and repr(got.support) == repr(expected.support), name
    assert sorted(got.arg_constraints) == sorted(expected.arg_constraints), name
    assert got.has_enumerate_support == expected.has_enumerate_support, name
    for sample_shape in [(2, 3)]:
        have = got.sample(sample_shape)
        assert have.shape == expected._extended_shape(sample_shape), f"{name}.sample{sample_shape}: {have.shape}"
        want_dtype = dtype if "Independent" in name else expected.sample().dtype
        assert have.dtype == want_dtype, f"{name}.sample: {have.dtype} vs torch's {want_dtype}"
        assert not have.requires_grad, f"{name}.sample is in the graph"
    wider = (4,) + tuple(expected.batch_shape)
    want, have = expected.expand(wider), got.expand(wider)
    assert (type(have).__name__, have.batch_shape, have.event_shape) == (
        type(want).__name__,
        want.batch_shape,
        want.event_shape,
    ), name
    assert have.sample().shape == want.sample().shape, f"{name}.expand(...).sample()"
    value = want.sample()
    assert_close(have.log_prob(from_torch(value)), want.log_prob(value), dtype, kind="autograd",
                 what=f"{name}.expand(...).log_prob")  # fmt: skip


SAMPLES = 2000
# (name, statistic): "moments" compares the sample mean (5 standard errors) and variance (25%) with
# torch's; "cdf" checks that torch's cdf of the samples is uniform: mean 1/2 and variance 1/12
STATISTICS = {
    "MixtureSameFamily(Normal)": "moments",
    "MixtureSameFamily(Independent Normal)": "moments",
    "MixtureSameFamily(MultivariateNormal)": "moments",
    "Multinomial(probs)": "moments",
    "Cauchy": "cdf",
    "HalfNormal": "moments",
    "HalfCauchy": "cdf",
    "Gumbel": "moments",
    "Weibull": "cdf",
    "Pareto": "cdf",
    "Kumaraswamy": "cdf",
    "LogisticNormal": "support",
    "RelaxedBernoulli(probs)": "support",
    "RelaxedOneHotCategorical": "support",
    "ContinuousBernoulli(probs)": "moments",
    "NegativeBinomial(probs)": "moments",
    "FisherSnedecor": "moments",
    "InverseGamma": "cdf",
    "LowRankMultivariateNormal": "moments",
    "VonMises": "circular",
    "LKJCholesky": "lkj",
    "Wishart": "moments",
}


@pytest.mark.parametrize(
    "name",
    # (Wishart's 300 draws check positive-definiteness with one Cholesky program per matrix: ~14 s)
    [pytest.param(name, marks=pytest.mark.slow) if name == "Wishart" else name for name in STATISTICS],
)
def test_samples_have_the_distributions_statistics(name):
    _, _, expected, got = _pair(name, torch.float32)
    # (Wishart's rsample checks every draw with a Cholesky factorization, a program per matrix)
    count = 300 if name == "Wishart" else SAMPLES
    samples = to_torch(got.sample((count,))).double()
    assert bool(expected.support.check(samples.float()).all()), f"{name}: a sample outside {expected.support}"
    kind = STATISTICS[name]
    if kind == "support":  # (no closed-form moments: the log-density of the samples is finite)
        assert bool(torch.isfinite(expected.log_prob(samples.float().clamp(1e-6, 1 - 1e-6))).all()), name
        return
    if kind == "lkj":  # each correlation of L L^T is 2 Beta(b, b) - 1, b = concentration - 1 + dim / 2
        b = expected.concentration.detach().double() - 1 + 3 / 2
        samples = (samples @ samples.mT)[..., 1, 0]
        mean, variance = torch.zeros_like(b), 1 / (2 * b + 1)
    elif kind == "circular":  # E[cos(x - loc)] = I1(k) / I0(k) = 1 - circular variance
        samples = torch.cos(samples - expected.loc.detach().double())
        mean, variance = 1 - expected.variance.detach().double(), None
    elif kind.startswith("cdf"):
        samples = expected.cdf(samples.to(torch.float32)).detach().double()
        mean, variance = torch.full(expected.batch_shape, 0.5, dtype=torch.float64), torch.tensor(1 / 12)
    else:
        mean, variance = expected.mean.detach().double(), expected.variance.detach().double()
    spread = samples.var(0) if variance is None else variance
    bound = 5 * (spread / count).sqrt() + 1e-3
    error = (samples.mean(0) - mean).abs()
    assert bool((error <= bound).all()), f"{name}: sample mean off by {error.max():.3g} (bound {bound.min():.3g})"
    if variance is not None and kind != "moments" or name in ("HalfNormal", "Gumbel", "LowRankMultivariateNormal"):
        # (the moments kind checks the variance where the fourth moment is small enough for 2000 draws)
        ratio = samples.var(0) / variance
        assert bool(((ratio - 1).abs() < 0.25).all()), f"{name}: sample variance / variance = {ratio}"


def test_multinomial_samples_count_total_count_draws():
    counts = tritongrad.distributions.Multinomial(7, tritongrad.tensor([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])).sample((6,))
    counts = to_torch(counts)
    assert counts.shape == (6, 2, 3) and counts.dtype == torch.float32
    assert bool((counts.sum(-1) == 7).all()) and bool((counts[:, 1, 0] == 7).all())


def test_mixture_sample_picks_the_chosen_component():
    """Components far apart (means -100, 0, 100, tiny scales) with weights (0.2, 0, 0.8): every sample is
    near -100 or 100, about 20% of them near -100."""
    D = tritongrad.distributions
    mix = D.MixtureSameFamily(
        D.Categorical(tritongrad.tensor([0.2, 0.0, 0.8])),
        D.Independent(D.Normal(tritongrad.tensor([[-100.0] * 2, [0.0] * 2, [100.0] * 2]), 0.01), 1),
    )
    samples = to_torch(mix.sample((2000,)))
    assert samples.shape == (2000, 2)
    assert bool(((samples.abs() - 100).abs() < 1).all()), "a sample is not near a component with weight"
    assert bool((samples[:, 0] == samples[:, 0]).all()) and bool(((samples[:, 0] < 0) == (samples[:, 1] < 0)).all())
    low = float((samples[:, 0] < 0).double().mean())
    assert abs(low - 0.2) < 5 * math.sqrt(0.2 * 0.8 / 2000), f"{low:.3f} of the samples from the 0.2 component"


# ------------------------------------------------------------------------------------------------
# transforms
# ------------------------------------------------------------------------------------------------
TRANSFORMS = {
    "PowerTransform": (lambda lib: lib.distributions.PowerTransform(lib.tensor([0.5, 2.0, -1.5])), (0.2, 3)),
    "StickBreakingTransform": (lambda lib: lib.distributions.StickBreakingTransform(), (-2, 2)),
    "IndependentTransform(Exp, 1)": (
        lambda lib: lib.distributions.IndependentTransform(lib.distributions.ExpTransform(), 1),
        (-2, 2),
    ),
    "ReshapeTransform": (lambda lib: lib.distributions.ReshapeTransform((3,), (3, 1)), (-2, 2)),
    "CumulativeDistributionTransform(Normal)": (
        lambda lib: lib.distributions.CumulativeDistributionTransform(
            lib.distributions.Normal(lib.tensor([0.5, -0.5, 1.0]), lib.tensor([1.0, 2.0, 0.5]))
        ),
        (-2, 2),
    ),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transforms_match_torch(name):
    """y, its inverse, log |det J| and the gradient of log |det J| equal torch's on a (2, 3) input."""
    build, (low, high) = TRANSFORMS[name]
    expected, got = build(torch), build(tritongrad)
    x = random_values((2, 3), torch.float64, low=low, high=high).requires_grad_()
    x_tg = from_torch(x, requires_grad=True)
    y, y_tg = expected(x), got(x_tg)
    assert_close(y_tg, y, kind="autograd", what=f"{name}(x)")
    assert_close(got.inv(y_tg), expected.inv(y), kind="autograd", what=f"{name}.inv(y)")
    jacobian, jacobian_tg = expected.log_abs_det_jacobian(x, y), got.log_abs_det_jacobian(x_tg, y_tg)
    assert_close(jacobian_tg, jacobian, kind="autograd", what=f"{name}.log_abs_det_jacobian")
    if jacobian.requires_grad:
        jacobian.sum().backward()
        jacobian_tg.sum().backward()
        assert_close(x_tg.grad, x.grad, kind="autograd", what=f"{name}: grad of log_abs_det_jacobian")
    assert (got.domain.event_dim, got.codomain.event_dim) == (expected.domain.event_dim, expected.codomain.event_dim)
    assert got.bijective == expected.bijective
    assert got.forward_shape((2, 3)) == expected.forward_shape((2, 3)), name
    assert got.inverse_shape(tuple(y.shape)) == expected.inverse_shape(tuple(y.shape)), name


@pytest.mark.parametrize("name", ["AbsTransform", "SoftmaxTransform", "LowerCholeskyTransform"])
def test_non_bijective_transforms_match_torch(name):
    """The forward maps, their right inverses and (none) log |det J| of the pseudo-invertible ones."""
    expected, got = getattr(torch.distributions.transforms, name)(), getattr(tritongrad.distributions, name)()
    x = random_values((2, 3, 3), torch.float64).requires_grad_()
    x_tg = from_torch(x, requires_grad=True)
    y, y_tg = expected(x), got(x_tg)
    assert_close(y_tg, y, kind="autograd", what=f"{name}(x)")
    assert_close(got.inv(y_tg), expected.inv(y), kind="autograd", what=f"{name}.inv(y)")
    y.sum().backward()
    y_tg.sum().backward()
    assert_close(x_tg.grad, x.grad, kind="autograd", what=f"{name}: grad")
    assert not got.bijective and got.codomain.event_dim == expected.codomain.event_dim
    assert got == getattr(tritongrad.distributions, name)() and repr(got) == repr(expected)


def test_stick_breaking_round_trip_and_simplex():
    t = tritongrad.distributions.StickBreakingTransform()
    x = from_torch(random_values((5, 4), torch.float64, low=-3, high=3))
    y = t(x)
    assert tuple(y.shape) == (5, 5) and bool(tritongrad.distributions.constraints.simplex.check(y).all())
    assert_close(t.inv(y), to_torch(x), kind="autograd", what="StickBreaking inv(y)")
    with pytest.raises(ValueError, match="in_shape, out_shape have different numbers of elements"):
        tritongrad.distributions.ReshapeTransform((2, 3), (5,))


# ------------------------------------------------------------------------------------------------
# validation, repr
# ------------------------------------------------------------------------------------------------
BAD = {
    "Cauchy scale <= 0": lambda lib: lib.distributions.Cauchy(lib.zeros(2), lib.tensor([1.0, -1.0])),
    "HalfNormal scale 0": lambda lib: lib.distributions.HalfNormal(lib.tensor([0.0])),
    "HalfNormal log_prob < 0": lambda lib: lib.distributions.HalfNormal(lib.tensor([1.0])).log_prob(lib.tensor([-1.0])),
    "HalfCauchy scale < 0": lambda lib: lib.distributions.HalfCauchy(lib.tensor([-1.0])),
    "Gumbel scale < 0": lambda lib: lib.distributions.Gumbel(lib.tensor([0.0]), lib.tensor([-1.0])),
    "Weibull concentration < 0": lambda lib: lib.distributions.Weibull(lib.tensor([1.0]), lib.tensor([-1.0])),
    "Weibull log_prob < 0": lambda lib: lib.distributions.Weibull(lib.tensor([1.0]), lib.tensor([2.0])).log_prob(
        lib.tensor([-1.0])
    ),
    "Pareto log_prob below scale": lambda lib: lib.distributions.Pareto(lib.tensor([2.0]), lib.tensor([1.0])).log_prob(
        lib.tensor([1.0])
    ),
    "Kumaraswamy log_prob > 1": lambda lib: lib.distributions.Kumaraswamy(
        lib.tensor([2.0]), lib.tensor([2.0])
    ).log_prob(lib.tensor([1.5])),
    "Multinomial probs < 0": lambda lib: lib.distributions.Multinomial(3, lib.tensor([0.5, -0.5, 1.0])),
    "Multinomial float total_count": lambda lib: lib.distributions.Multinomial(3.0, lib.tensor([0.5, 0.5])),
    "Multinomial log_prob too many": lambda lib: lib.distributions.Multinomial(3, lib.tensor([0.5, 0.5])).log_prob(
        lib.tensor([3.0, 2.0])
    ),
    "NegativeBinomial probs 1": lambda lib: lib.distributions.NegativeBinomial(2.0, lib.tensor([1.0])),
    "NegativeBinomial both": lambda lib: lib.distributions.NegativeBinomial(2.0, lib.tensor([0.5]), lib.tensor([0.0])),
    "NegativeBinomial log_prob 1.5": lambda lib: lib.distributions.NegativeBinomial(2.0, lib.tensor([0.5])).log_prob(
        lib.tensor([1.5])
    ),
    # (torch checks probs only when validate_args is given: it clamps them before the usual check)
    "ContinuousBernoulli probs > 1": lambda lib: lib.distributions.ContinuousBernoulli(
        lib.tensor([1.5]), validate_args=True
    ),
    "FisherSnedecor df1 0": lambda lib: lib.distributions.FisherSnedecor(lib.tensor([0.0]), lib.tensor([1.0])),
    "InverseGamma rate < 0": lambda lib: lib.distributions.InverseGamma(lib.tensor([1.0]), lib.tensor([-1.0])),
    "VonMises concentration 0": lambda lib: lib.distributions.VonMises(lib.tensor([0.0]), lib.tensor([0.0])),
    "LowRank cov_diag < 0": lambda lib: lib.distributions.LowRankMultivariateNormal(
        lib.zeros(2), lib.ones(2, 1), lib.tensor([1.0, -1.0])
    ),
    "LowRank cov_factor rows": lambda lib: lib.distributions.LowRankMultivariateNormal(
        lib.zeros(2), lib.ones(3, 1), lib.ones(2)
    ),
    "RelaxedBernoulli probs > 1": lambda lib: lib.distributions.RelaxedBernoulli(lib.tensor(0.5), lib.tensor([1.5])),
    "RelaxedOneHotCategorical log_prob off the simplex": lambda lib: lib.distributions.RelaxedOneHotCategorical(
        lib.tensor(0.5), lib.ones(3)
    ).log_prob(lib.tensor([0.5, 0.6, 0.1])),
    "LogisticNormal log_prob off the simplex": lambda lib: lib.distributions.LogisticNormal(
        lib.zeros(2), lib.ones(2)
    ).log_prob(lib.tensor([0.5, 0.6, -0.1])),
    "LKJCholesky dim 1": lambda lib: lib.distributions.LKJCholesky(1, 1.0),
    "LKJCholesky concentration 0": lambda lib: lib.distributions.LKJCholesky(3, lib.tensor([0.0])),
    "LKJCholesky log_prob of a non-correlation factor": lambda lib: lib.distributions.LKJCholesky(2, 1.0).log_prob(
        lib.tensor([[1.0, 0.0], [0.5, 0.5]])
    ),
    "Wishart df too small": lambda lib: lib.distributions.Wishart(lib.tensor([1.5]), lib.eye(3)),
    "Wishart two parameters": lambda lib: lib.distributions.Wishart(3.0, lib.eye(2), scale_tril=lib.eye(2)),
    "Wishart not positive definite": lambda lib: lib.distributions.Wishart(3.0, lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "Mixture not Categorical": lambda lib: lib.distributions.MixtureSameFamily(
        lib.distributions.Normal(lib.zeros(3), 1.0), lib.distributions.Normal(lib.zeros(3), 1.0)
    ),
    "Mixture k mismatch": lambda lib: lib.distributions.MixtureSameFamily(
        lib.distributions.Categorical(lib.ones(2)), lib.distributions.Normal(lib.zeros(3), 1.0)
    ),
    "Mixture batch mismatch": lambda lib: lib.distributions.MixtureSameFamily(
        lib.distributions.Categorical(lib.ones(4, 3)), lib.distributions.Normal(lib.zeros(2, 3), 1.0)
    ),
    "Mixture log_prob outside support": lambda lib: lib.distributions.MixtureSameFamily(
        lib.distributions.Categorical(lib.ones(2)), lib.distributions.HalfNormal(lib.ones(2))
    ).log_prob(lib.tensor([-1.0])),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_arguments_raise_torchs_error(name):
    with pytest.raises(Exception) as expected:
        BAD[name](torch)
    with pytest.raises(type(expected.value)) as got:
        BAD[name](tritongrad)
    assert str(got.value) == str(expected.value), f"{name}: {got.value}\n  torch: {expected.value}"


# ------------------------------------------------------------------------------------------------
# kl_divergence
# ------------------------------------------------------------------------------------------------
KL_CASES = {
    **{name: FIRST_CASES[name] for name in ("Normal", "Exponential", "Laplace")},
    **{name: GAMMA_CASES[name] for name in ("Gamma", "Beta")},
    **CASES,
    # inside (0, 1): finite against ContinuousBernoulli and Gumbel
    "Uniform(unit)": Case(
        lambda D, low, high: D.Uniform(low, high), {"low": ((3,), 0.1, 0.3), "high": ((3,), 0.6, 0.9)}, None
    ),
    # above Pareto's scale: finite against Pareto
    "Uniform(above 1)": Case(
        lambda D, low, high: D.Uniform(low, high), {"low": ((3,), 1.1, 1.5), "high": ((3,), 2, 3)}, None
    ),
    "MultivariateNormal": Case(
        lambda D, loc, tril, diag: D.MultivariateNormal(loc, scale_tril=_lower_cholesky(D, tril, diag)),
        {"loc": ((2, 3), -1, 1), "tril": ((3, 3), -1, 1), "diag": ((3,), 0.5, 2)},
        None,
    ),
}
KL_PAIRS = [
    # same family
    ("Cauchy", "Cauchy"), ("ContinuousBernoulli(probs)", "ContinuousBernoulli(logits)"), ("Gumbel", "Gumbel"),
    ("HalfNormal", "HalfNormal"), ("LowRankMultivariateNormal", "LowRankMultivariateNormal"), ("Pareto", "Pareto"),
    # across families, finite
    ("Beta", "ContinuousBernoulli(probs)"), ("ContinuousBernoulli(probs)", "Exponential"),
    ("ContinuousBernoulli(logits)", "Normal"), ("Exponential", "Gumbel"), ("Gamma", "Gumbel"), ("Gumbel", "Normal"),
    ("Normal", "Gumbel"), ("Pareto", "Exponential"), ("Pareto", "Gamma"), ("Pareto", "Normal"),
    ("Uniform(unit)", "ContinuousBernoulli(probs)"), ("Uniform(unit)", "Gumbel"), ("Uniform(above 1)", "Pareto"),
    ("MultivariateNormal", "LowRankMultivariateNormal"), ("LowRankMultivariateNormal", "MultivariateNormal"),
    ("ContinuousBernoulli(probs)", "Uniform(unit)"),
    # p's support reaches outside q's: infinite
    ("Gumbel", "Beta"), ("Normal", "Pareto"), ("Exponential", "ContinuousBernoulli(probs)"),
    ("Pareto", "Uniform(unit)"), ("Beta", "Pareto"), ("ContinuousBernoulli(probs)", "Pareto"), ("Gamma", "Pareto"),
    ("Laplace", "ContinuousBernoulli(probs)"),
]  # fmt: skip


def _kl_pair(name: str, dtype: torch.dtype):
    case = KL_CASES[name]
    theirs, ours = _params(case, dtype)
    return theirs, ours, case.build(torch.distributions, **theirs), case.build(tritongrad.distributions, **ours)


# every pair in float64, the same-family ones in float32 too (the cross-family formulas are the same
# code in either dtype; the interpreter's time goes to the pairs that differ)
KL_RUNS = [(pair, torch.float64) for pair in KL_PAIRS] + [(pair, torch.float32) for pair in KL_PAIRS[:6]]


@pytest.mark.parametrize(("pair", "dtype"), KL_RUNS, ids=lambda x: " || ".join(x) if isinstance(x, tuple) else str(x))
def test_kl_divergence_and_its_gradients_match_torch(pair, dtype):
    """kl_divergence(p, q) dispatches to torch's formula for the pair: the values (inf where torch's
    are) and the gradients of their finite sum with respect to both sides' parameters."""
    p_theirs, p_ours, p_expected, p_got = _kl_pair(pair[0], dtype)
    q_theirs, q_ours, q_expected, q_got = _kl_pair(pair[1], dtype)
    if pair == ("LowRankMultivariateNormal", "MultivariateNormal"):
        # torch's own pair fails on a cov_diag with batch dims (it leaves them out of the expanded
        # shape): torch's full-covariance KL of the same p is the oracle
        p_expected = torch.distributions.MultivariateNormal(p_expected.loc, p_expected.covariance_matrix)
    want = torch.distributions.kl_divergence(p_expected, q_expected)
    have = tritongrad.distributions.kl_divergence(p_got, q_got)
    assert_close(have, want, dtype, kind="autograd", what=f"KL({pair[0]} || {pair[1]})")
    if want.requires_grad:
        finite = torch.isfinite(want.detach())
        want[finite].sum().backward()
        (have * from_torch(finite.to(dtype))).nan_to_num(0.0).sum().backward()
        _compare_grads(p_theirs, p_ours, f"KL({pair[0]} || {pair[1]}) p", dtype)
        _compare_grads(q_theirs, q_ours, f"KL({pair[0]} || {pair[1]}) q", dtype)


def test_kl_pairs_torch_lacks_are_refused():
    """(Laplace, Gumbel) and (MixtureSameFamily, MixtureSameFamily) have no closed form in torch either."""
    D = tritongrad.distributions
    mixture = D.MixtureSameFamily(D.Categorical(tritongrad.ones(2)), D.Normal(tritongrad.zeros(2), 1.0))
    for p, q in ((D.Laplace(0.0, 1.0), D.Gumbel(0.0, 1.0)), (mixture, mixture)):
        with pytest.raises(NotImplementedError, match="No KL"):
            D.kl_divergence(p, q)


# ------------------------------------------------------------------------------------------------
# a mixture density network training step
# ------------------------------------------------------------------------------------------------
def test_mixture_density_network_adam_step_matches_torch():
    """A linear layer maps x (16, 3) to the logits, means and log-scales of a 4-component 1-d Gaussian
    mixture; one Adam step on -log_prob(y).mean() leaves torch's weights and loss."""
    k = 4
    torch.manual_seed(1234)
    reference = torch.nn.Linear(3, 3 * k)
    mine = tritongrad.nn.Linear(3, 3 * k)
    mine.load_state_dict({name: from_torch(value) for name, value in reference.state_dict().items()})
    x, y = torch.randn(16, 3), torch.randn(16) * 2

    def step(lib, model, x, y):
        optimizer = lib.optim.Adam(model.parameters(), lr=0.05)
        losses = []
        for _ in range(2):
            logits, loc, log_scale = model(x).split(k, dim=-1)
            D = lib.distributions
            mixture = D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(loc, log_scale.exp()))
            loss = -mixture.log_prob(y).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    want = step(torch, reference, x, y)
    have = step(tritongrad, mine, from_torch(x), from_torch(y))
    assert have == pytest.approx(want, rel=1e-5), f"losses {have} vs torch's {want}"
    for name, value in reference.state_dict().items():
        assert_close(mine.state_dict()[name], value, kind="optim", what=f"MDN {name} after two Adam steps")
