"""tritongrad.distributions against torch.distributions: the same parameters (fresh random values, given
to both libraries) must give the same log_prob, entropy, moments, cdf/icdf, KL divergences and their
gradients; samples have torch's shapes and dtypes and the right statistics; bad parameters and values
raise torch's exceptions with torch's messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, random_values, to_torch
from tritongrad.distributions import kl as tg_kl

DTYPES = [torch.float32, torch.float64]


@dataclass
class Case:
    """One distribution to compare: ``build(D, **params)`` with D either distributions module; each
    parameter (shape, low, high) is drawn fresh; ``value(dtype)`` is a torch tensor to score."""

    build: Callable
    params: dict[str, tuple]
    value: Callable
    methods: tuple[str, ...] = ()  # which of cdf, icdf, mode exist
    properties: tuple[str, ...] = ("mean", "variance", "stddev")
    entropy: bool = True


def _uniform_values(shape, low, high):
    return lambda dtype: random_values(shape, dtype, low=low, high=high)


def _binary_values(shape):
    return lambda dtype: (torch.rand(shape) > 0.5).to(dtype)


def _class_values(shape, classes):
    return lambda dtype: torch.randint(0, classes, shape)


def _one_hot_values(shape, classes):
    return lambda dtype: torch.nn.functional.one_hot(torch.randint(0, classes, shape), classes).to(dtype)


CASES = {
    # value (4, 1, 3) broadcasts against batch (2, 3); scale (3,) against loc (2, 3)
    "Normal": Case(
        lambda D, loc, scale: D.Normal(loc, scale),
        {"loc": ((2, 3), -2, 2), "scale": ((3,), 0.5, 2)},
        _uniform_values((4, 1, 3), -3, 3),
        ("cdf", "icdf", "mode"),
    ),
    # a Python float parameter takes the tensor's dtype
    "Normal(float scale)": Case(
        lambda D, loc: D.Normal(loc, 1.5), {"loc": ((3,), -2, 2)}, _uniform_values((3,), -3, 3), ("cdf", "icdf")
    ),
    "Bernoulli(probs)": Case(
        lambda D, probs: D.Bernoulli(probs=probs),
        {"probs": ((2, 3), 0.05, 0.95)},
        _binary_values((5, 2, 3)),
        ("mode",),
    ),  # fmt: skip
    "Bernoulli(logits)": Case(
        lambda D, logits: D.Bernoulli(logits=logits), {"logits": ((3,), -3, 3)}, _binary_values((3,)), ("mode",)
    ),
    # unnormalized probs; value (5, 2) against batch (2,)
    "Categorical(probs)": Case(
        lambda D, probs: D.Categorical(probs=probs),
        {"probs": ((2, 4), 0.1, 1.0)},
        _class_values((5, 2), 4),
        ("mode",),
        properties=(),
    ),  # fmt: skip
    # value (3, 1) broadcasts against batch (2,): log_prob is (3, 2)
    "Categorical(logits)": Case(
        lambda D, logits: D.Categorical(logits=logits),
        {"logits": ((2, 5), -3, 3)},
        _class_values((3, 1), 5),
        ("mode",),
        properties=(),
    ),  # fmt: skip
    "OneHotCategorical(logits)": Case(
        lambda D, logits: D.OneHotCategorical(logits=logits),
        {"logits": ((2, 4), -3, 3)},
        _one_hot_values((5, 2), 4),
        ("mode",),
    ),  # fmt: skip
    "Uniform": Case(
        lambda D, low, high: D.Uniform(low, high),
        {"low": ((3,), -2, -1), "high": ((3,), 1, 2)},
        _uniform_values((4, 3), -0.9, 0.9),
        ("cdf", "icdf"),
    ),  # fmt: skip
    "Exponential": Case(
        lambda D, rate: D.Exponential(rate),
        {"rate": ((3,), 0.5, 2)},
        _uniform_values((4, 3), 0, 3),
        ("cdf", "icdf", "mode"),
    ),  # fmt: skip
    "Laplace": Case(
        lambda D, loc, scale: D.Laplace(loc, scale),
        {"loc": ((3,), -1, 1), "scale": ((3,), 0.5, 2)},
        _uniform_values((4, 3), -3, 3),
        ("cdf", "icdf", "mode"),
    ),  # fmt: skip
    "Independent(Normal, 1)": Case(
        lambda D, loc, scale: D.Independent(D.Normal(loc, scale), 1),
        {"loc": ((2, 3), -2, 2), "scale": ((2, 3), 0.5, 2)},
        _uniform_values((4, 2, 3), -3, 3),
        ("mode",),
    ),  # fmt: skip
    "LogNormal": Case(
        lambda D, loc, scale: D.LogNormal(loc, scale),
        {"loc": ((3,), -1, 1), "scale": ((3,), 0.5, 1.5)},
        _uniform_values((4, 3), 0.1, 5),
        ("cdf", "icdf", "mode"),
    ),  # fmt: skip
    # tanh then affine: a decreasing-free chain, support (-1, 3)
    "Transformed(Normal, [Tanh, Affine])": Case(
        lambda D, loc, scale: D.TransformedDistribution(
            D.Normal(loc, scale), [D.TanhTransform(), D.AffineTransform(1.0, 2.0)]
        ),
        {"loc": ((3,), -1, 1), "scale": ((3,), 0.5, 1.5)},
        _uniform_values((4, 3), -0.9, 2.9),
        ("cdf", "icdf"),
        properties=(),
        entropy=False,
    ),  # fmt: skip
    # the logistic distribution: Uniform through the inverse sigmoid (an _InverseTransform)
    "Transformed(Uniform, Sigmoid.inv)": Case(
        lambda D, low, high: D.TransformedDistribution(D.Uniform(low, high), D.SigmoidTransform().inv),
        {"low": ((3,), 0.01, 0.1), "high": ((3,), 0.9, 0.99)},
        _uniform_values((4, 3), -2, 2),
        ("cdf", "icdf"),
        properties=(),
        entropy=False,
    ),  # fmt: skip
    # an event_dim=1 affine with a negative tensor scale: the base becomes Independent(Normal, 1), the
    # cdf is flipped (sign -1) and log |det J| sums over the event
    "Transformed(Normal, Affine event_dim=1)": Case(
        lambda D, loc, scale, shift: D.TransformedDistribution(
            D.Normal(loc, scale), D.AffineTransform(shift, -scale.detach() - 1, event_dim=1)
        ),
        {"loc": ((2, 3), -1, 1), "scale": ((2, 3), 0.5, 1.5), "shift": ((3,), -1, 1)},
        _uniform_values((4, 2, 3), -3, 3),
        properties=(),
        entropy=False,
    ),  # fmt: skip
}


def _params(case: Case, dtype: torch.dtype):
    """The case's parameters as (torch leaves, tritongrad leaves), same values, requiring grad."""
    theirs = {name: random_values(shape, dtype, low=low, high=high).requires_grad_() for name, (shape, low, high)
              in case.params.items()}  # fmt: skip
    ours = {name: from_torch(value, requires_grad=True) for name, value in theirs.items()}
    return theirs, ours


def _pair(case: Case, dtype: torch.dtype):
    theirs, ours = _params(case, dtype)
    return theirs, ours, case.build(torch.distributions, **theirs), case.build(tritongrad.distributions, **ours)


def _compare_grads(theirs: dict, ours: dict, what: str, dtype) -> None:
    for name in theirs:
        expected, got = theirs[name].grad, ours[name].grad
        if expected is None:
            assert got is None, f"{what}: {name} has a gradient, torch's has none"
            continue
        assert got is not None, f"{what}: {name} has no gradient, torch's is {expected}"
        assert_close(got, expected, dtype, kind="autograd", what=f"{what}: grad of {name}")


# ------------------------------------------------------------------------------------------------
# values and gradients
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", list(CASES))
def test_log_prob_entropy_and_moments_match_torch(name, dtype):
    case = CASES[name]
    theirs, ours, expected, got = _pair(case, dtype)
    assert got.batch_shape == expected.batch_shape and got.event_shape == expected.event_shape
    value = case.value(dtype)
    value_tg = from_torch(value)
    loss_torch, loss_tg = 0, 0
    results = [("log_prob", expected.log_prob(value), got.log_prob(value_tg))]
    if case.entropy:
        results.append(("entropy", expected.entropy(), got.entropy()))
    for method in case.methods:
        if method == "cdf":
            results.append(("cdf", expected.cdf(value), got.cdf(value_tg)))
        elif method == "icdf":
            q = random_values((3,), dtype, low=0.05, high=0.95)
            results.append(("icdf", expected.icdf(q), got.icdf(from_torch(q))))
        else:
            results.append((method, getattr(expected, method), getattr(got, method)))
    results += [(prop, getattr(expected, prop), getattr(got, prop)) for prop in case.properties]
    for what, want, have in results:
        assert_close(have, want, dtype, kind="autograd", what=f"{name}.{what}")
        if want.requires_grad:
            loss_torch = loss_torch + want.sum()
            loss_tg = loss_tg + have.sum()
    loss_torch.backward()
    loss_tg.backward()
    _compare_grads(theirs, ours, name, dtype)


@pytest.mark.parametrize("name", ["Normal", "Bernoulli(probs)", "Exponential"])
def test_exponential_family_entropy_by_bregman_divergence(name):
    """ExponentialFamily's generic entropy (autograd.grad of the log normalizer with create_graph, on
    detached natural parameters, as torch's) equals the closed form."""
    dtype = torch.float64
    _, _, expected, got = _pair(CASES[name], dtype)
    have = tritongrad.distributions.ExponentialFamily.entropy(got)
    assert_close(have, expected.entropy(), dtype, kind="autograd", what=f"{name} Bregman entropy")
    want = torch.distributions.ExponentialFamily.entropy(expected)
    assert_close(have, want, dtype, kind="autograd", what=f"{name} Bregman entropy against torch's")


# ------------------------------------------------------------------------------------------------
# kl_divergence
# ------------------------------------------------------------------------------------------------
KL_PAIRS = {
    "Normal": ("Normal", "Normal"),
    "Bernoulli": ("Bernoulli(probs)", "Bernoulli(probs)"),
    "Categorical": ("Categorical(logits)", "Categorical(logits)"),
    "OneHotCategorical": ("OneHotCategorical(logits)", "OneHotCategorical(logits)"),
    "Uniform": ("Uniform", "Uniform"),
    "Exponential": ("Exponential", "Exponential"),
    "Laplace": ("Laplace", "Laplace"),
    "Independent": ("Independent(Normal, 1)", "Independent(Normal, 1)"),
    "LogNormal": ("LogNormal", "LogNormal"),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("pair", list(KL_PAIRS))
def test_kl_divergence_and_its_gradients_match_torch(pair, dtype):
    p_case, q_case = (CASES[name] for name in KL_PAIRS[pair])
    p_theirs, p_ours, p_expected, p_got = _pair(p_case, dtype)
    q_theirs, q_ours, q_expected, q_got = _pair(q_case, dtype)
    want = torch.distributions.kl_divergence(p_expected, q_expected)
    have = tritongrad.distributions.kl_divergence(p_got, q_got)
    assert_close(have, want, dtype, kind="autograd", what=f"KL({pair})")
    finite = torch.isfinite(want)
    (want * finite).nan_to_num(0.0).sum().backward()
    (have * from_torch(finite.to(dtype))).nan_to_num(0.0).sum().backward()
    _compare_grads(p_theirs, p_ours, f"KL({pair}) p", dtype)
    _compare_grads(q_theirs, q_ours, f"KL({pair}) q", dtype)


def test_kl_broadcasts_batch_shapes():
    """KL between batch shapes (2, 3) and (3,) broadcasts and equals torch's KL against q expanded to p's
    batch shape (torch's own Bernoulli KL writes inf/0 through masks of one operand's shape and raises
    IndexError on unexpanded shapes; tritongrad's uses where)."""
    for p_name, q_name in (("Bernoulli(probs)", "Bernoulli(logits)"), ("Normal", "Normal(float scale)")):
        _, _, p_expected, p_got = _pair(CASES[p_name], torch.float64)
        _, _, q_expected, q_got = _pair(CASES[q_name], torch.float64)
        want = torch.distributions.kl_divergence(p_expected, q_expected.expand(p_expected.batch_shape))
        have = tritongrad.distributions.kl_divergence(p_got, q_got)
        assert_close(have, want, kind="autograd", what=f"KL({p_name} || {q_name})")


def test_kl_uniform_outside_support_and_zero_probabilities_are_torchs():
    """inf where q's support does not cover p's, 0 where p puts no mass (torch's masked writes)."""
    lows, highs = torch.tensor([0.0, -1.0]), torch.tensor([1.0, 2.0])
    for lib in (torch, tritongrad):
        lib.result = lib.distributions.kl_divergence(
            lib.distributions.Uniform(lib.tensor([0.0, 0.0]), lib.tensor([1.0, 1.0])),
            lib.distributions.Uniform(lib.tensor(lows.tolist()), lib.tensor(highs.tolist()) - 0.5),
        )
    assert_close(tritongrad.result, torch.result, what="KL(Uniform || narrower Uniform)")
    probs_p, probs_q = [[0.0, 0.5, 0.5], [0.2, 0.8, 0.0]], [[0.1, 0.1, 0.8], [0.0, 0.5, 0.5]]
    want = torch.distributions.kl_divergence(
        torch.distributions.Categorical(torch.tensor(probs_p)), torch.distributions.Categorical(torch.tensor(probs_q))
    )
    have = tritongrad.distributions.kl_divergence(
        tritongrad.distributions.Categorical(tritongrad.tensor(probs_p)),
        tritongrad.distributions.Categorical(tritongrad.tensor(probs_q)),
    )
    assert_close(have, want, what="KL(Categorical) with zero probabilities")
    del torch.result, tritongrad.result


def test_kl_registry_dispatch_and_errors():
    D = tritongrad.distributions
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Laplace and q type"):
        D.kl_divergence(D.Laplace(0.0, 1.0), D.Poisson(1.0))  # (torch has no such pair either)

    class Wide(D.Normal):
        pass

    # a subclass pair falls back to the base registration until it registers its own
    assert float(D.kl_divergence(Wide(0.0, 1.0), D.Normal(1.0, 1.0))) == pytest.approx(0.5)
    calls = []

    @D.register_kl(Wide, D.Normal)
    def _kl_wide_normal(p, q):
        calls.append(1)
        return p.loc * 0

    try:
        assert float(D.kl_divergence(Wide(0.0, 1.0), D.Normal(1.0, 1.0))) == 0.0 and calls == [1]
    finally:
        del tg_kl._KL_REGISTRY[Wide, D.Normal]
        tg_kl._KL_MEMOIZE.clear()
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)
    # two exponential families of different types without a registered pair: the Bregman fallback
    # refuses, as torch's ((Normal, Exponential) has its own, infinite, pair)
    with pytest.raises(NotImplementedError, match="different exponential families"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Poisson(1.0))


def test_kl_between_exponential_families_by_bregman_divergence():
    """The generic same-family KL (Bregman divergence of the log normalizer) agrees with the closed form."""
    dtype = torch.float64
    p_theirs, p_ours, p_expected, p_got = _pair(CASES["Normal"], dtype)
    q_theirs, q_ours, q_expected, q_got = _pair(CASES["Normal"], dtype)
    want = torch.distributions.kl_divergence(p_expected, q_expected)
    have = tg_kl._kl_expfamily_expfamily(p_got, q_got)
    assert_close(have, want, dtype, kind="autograd", what="Bregman KL(Normal || Normal)")
    want.sum().backward()
    have.sum().backward()
    _compare_grads(q_theirs, q_ours, "Bregman KL q", dtype)


# ------------------------------------------------------------------------------------------------
# sampling: shapes, graph, statistics
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3)], ids=str)
@pytest.mark.parametrize("name", list(CASES))
def test_sample_and_rsample_shapes_and_dtypes_match_torch(name, sample_shape):
    case = CASES[name]
    dtype = torch.float64 if name == "Normal" else torch.float32  # float64 parameters keep float64 samples
    _, _, expected, got = _pair(case, dtype)
    want = expected.sample(sample_shape)
    have = got.sample(sample_shape)
    assert have.shape == want.shape and have.dtype == want.dtype, f"{name}.sample: {have.shape} {have.dtype}"
    assert not have.requires_grad and have.grad_fn is None, f"{name}.sample is in the graph"
    assert got.has_rsample == expected.has_rsample
    if expected.has_rsample:
        want, have = expected.rsample(sample_shape), got.rsample(sample_shape)
        assert have.shape == want.shape and have.dtype == want.dtype, f"{name}.rsample: {have.shape} {have.dtype}"
        assert have.requires_grad, f"{name}.rsample is not differentiable"
    else:
        with pytest.raises(NotImplementedError):
            got.rsample(sample_shape)


SAMPLES = 2000


@pytest.mark.parametrize("name", ["Normal", "Bernoulli(probs)", "Categorical(logits)", "OneHotCategorical(logits)",
                                  "Uniform", "Exponential", "Laplace"])  # fmt: skip
def test_sample_statistics(name):
    """The mean of 2000 samples is within 5 standard errors of the distribution's mean (class frequencies
    for Categorical); the variance within 25%."""
    _, _, expected, got = _pair(CASES[name], torch.float32)
    samples = to_torch(got.sample((SAMPLES,))).double()
    if name.startswith("Categorical"):
        samples = torch.nn.functional.one_hot(samples.long(), expected.param_shape[-1]).double()
        mean, variance = expected.probs.detach().double(), None
    else:
        mean, variance = expected.mean.detach().double(), expected.variance.detach().double()
    spread = (mean * (1 - mean)) if variance is None else variance
    bound = 5 * (spread / SAMPLES).sqrt() + 1e-3
    error = (samples.mean(0) - mean).abs()
    assert bool((error <= bound).all()), f"{name}: sample mean off by {error.max():.3g} (bound {bound.min():.3g})"
    if variance is not None and "Bernoulli" not in name and "OneHot" not in name:
        ratio = samples.var(0) / variance
        assert bool(((ratio - 1).abs() < 0.25).all()), f"{name}: sample variance / variance = {ratio}"
    support = expected.support
    assert bool(support.check(samples.to(torch.float32)).all()), f"{name}: a sample is outside {support}"


@pytest.mark.parametrize("name", ["Normal", "Laplace", "Exponential", "Uniform"])
def test_rsample_gradients_are_the_reparameterization(name):
    """rsample is a differentiable function of the parameters: x = loc + eps * scale (Normal, Laplace),
    eps / rate (Exponential), low + u * (high - low) (Uniform); its gradient is that function's."""
    theirs, ours = _params(CASES[name], torch.float64)
    got = CASES[name].build(tritongrad.distributions, **ours)
    x = got.rsample((7,))
    x.sum().backward()
    x = to_torch(x).double()
    grads = {key: to_torch(value.grad) for key, value in ours.items()}
    p = {key: value.detach() for key, value in theirs.items()}

    def summed(partial, param):  # d(sum x)/d(param): the partials summed over the dims param was broadcast along
        return partial.reshape(-1, *p[param].shape).sum(0)

    if name in ("Normal", "Laplace"):
        eps = (x - p["loc"]) / p["scale"]
        expected = {"loc": summed(torch.ones_like(x), "loc"), "scale": summed(eps, "scale")}
    elif name == "Exponential":
        expected = {"rate": summed(-x / p["rate"], "rate")}
    else:
        u = (x - p["low"]) / (p["high"] - p["low"])
        expected = {"low": summed(1 - u, "low"), "high": summed(u, "high")}
    for key, want in expected.items():
        assert_close(grads[key], want, kind="autograd", what=f"{name}.rsample: d/d{key}")


# ------------------------------------------------------------------------------------------------
# parameters: broadcasting, dtypes, lazy probs/logits, expand, repr
# ------------------------------------------------------------------------------------------------
BUILDS = {
    "Normal(zeros(3), 1.0)": lambda lib: lib.distributions.Normal(lib.zeros(3), 1.0),
    "Normal(0.0, 1.0)": lambda lib: lib.distributions.Normal(0.0, 1.0),
    "Normal float64 (2,1) x (3,)": lambda lib: lib.distributions.Normal(
        lib.zeros(2, 1, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
    ),
    "Laplace float64, int scale": lambda lib: lib.distributions.Laplace(lib.zeros(3, dtype=lib.float64), 2),
    "Uniform(0.0, ones(2))": lambda lib: lib.distributions.Uniform(0.0, lib.ones(2)),
    "Exponential(2.0)": lambda lib: lib.distributions.Exponential(2.0),
    "Bernoulli(0.25)": lambda lib: lib.distributions.Bernoulli(0.25),
    "Bernoulli(logits float64)": lambda lib: lib.distributions.Bernoulli(logits=lib.zeros(2, 3, dtype=lib.float64)),
    "Categorical(ones(4))": lambda lib: lib.distributions.Categorical(lib.ones(4)),
    "Categorical(logits (2, 3))": lambda lib: lib.distributions.Categorical(logits=lib.zeros(2, 3)),
    "OneHotCategorical": lambda lib: lib.distributions.OneHotCategorical(lib.ones(2, 3)),
    "Independent(Normal, 2)": lambda lib: lib.distributions.Independent(
        lib.distributions.Normal(lib.zeros(2, 3), 1.0), 2
    ),
    "Normal.expand": lambda lib: lib.distributions.Normal(lib.zeros(3), 1.0).expand((4, 3)),
    "Categorical.expand": lambda lib: lib.distributions.Categorical(logits=lib.zeros(3)).expand((2,)),
    "LogNormal(zeros(2), 1.0)": lambda lib: lib.distributions.LogNormal(lib.zeros(2), 1.0),
    "LogNormal.expand": lambda lib: lib.distributions.LogNormal(lib.zeros(2), 1.0).expand((3, 2)),
    "Independent.expand": lambda lib: lib.distributions.Independent(
        lib.distributions.Normal(lib.zeros(3), 1.0), 1
    ).expand((2,)),
}


@pytest.mark.parametrize("name", list(BUILDS))
def test_shapes_dtypes_and_repr_match_torch(name):
    expected, got = BUILDS[name](torch), BUILDS[name](tritongrad)
    assert repr(got) == repr(expected)
    assert (got.batch_shape, got.event_shape) == (expected.batch_shape, expected.event_shape)
    want, have = expected.sample((2,)), got.sample((2,))
    assert (have.shape, have.dtype) == (want.shape, want.dtype)
    assert_close(got.entropy(), expected.entropy(), kind="autograd", what=f"{name}.entropy")
    assert_close(got.log_prob(from_torch(want)), expected.log_prob(want), kind="autograd", what=f"{name}.log_prob")
    for key in ("loc", "scale", "low", "high", "rate", "probs", "logits"):
        if hasattr(expected, key):
            assert_close(getattr(got, key), getattr(expected, key), kind="autograd", what=f"{name}.{key}")


def test_probs_and_logits_are_derived_lazily_as_torchs():
    probs = torch.tensor([0.0, 1e-9, 0.3, 1.0])
    expected, got = torch.distributions.Bernoulli(probs), tritongrad.distributions.Bernoulli(from_torch(probs))
    assert "logits" not in got.__dict__
    assert_close(got.logits, expected.logits, what="Bernoulli logits of clamped probs")
    assert "logits" in got.__dict__
    unnormalized = torch.tensor([[1.0, 3.0], [2.0, 2.0]])
    for key in ("probs", "logits"):
        expected = torch.distributions.Categorical(**{key: unnormalized})
        got = tritongrad.distributions.Categorical(**{key: from_torch(unnormalized)})
        assert_close(got.probs, expected.probs, kind="autograd", what=f"Categorical({key}=).probs")
        assert_close(got.logits, expected.logits, kind="autograd", what=f"Categorical({key}=).logits")


def test_enumerate_support_matches_torch():
    for build in (
        lambda lib: lib.distributions.Bernoulli(lib.tensor([0.2, 0.4])),
        lambda lib: lib.distributions.Categorical(lib.ones(2, 3)),
        lambda lib: lib.distributions.OneHotCategorical(lib.ones(2, 3)),
    ):
        for expand in (True, False):
            assert_close(build(tritongrad).enumerate_support(expand), build(torch).enumerate_support(expand))


def test_straight_through_rsample_passes_the_probs_gradient():
    logits = torch.tensor([0.5, -1.0, 2.0])
    weights = torch.tensor([1.0, 2.0, 3.0])
    ours = from_torch(logits, requires_grad=True)
    sample = tritongrad.distributions.OneHotCategoricalStraightThrough(logits=ours).rsample()
    (sample * from_torch(weights)).sum().backward()
    theirs = logits.clone().requires_grad_()
    (torch.softmax(theirs, -1) * weights).sum().backward()
    assert_close(ours.grad, theirs.grad, kind="autograd", what="straight-through gradient")
    assert sorted(to_torch(sample.detach()).tolist()) == [0.0, 0.0, 1.0]


TRANSFORMS = {
    "Exp": (lambda D: D.ExpTransform(), (-2, 2)),
    "Exp.inv": (lambda D: D.ExpTransform().inv, (0.1, 5)),
    "Sigmoid": (lambda D: D.SigmoidTransform(), (-4, 4)),
    "Softplus": (lambda D: D.SoftplusTransform(), (-4, 4)),
    "Tanh": (lambda D: D.TanhTransform(), (-3, 3)),
    "Affine(0.5, -2.0)": (lambda D: D.AffineTransform(0.5, -2.0), (-3, 3)),
    "Affine(tensor, event_dim=1)": (
        lambda D: D.AffineTransform(_LOC[D], _SCALE[D], event_dim=1),
        (-3, 3),
    ),  # fmt: skip
    "Compose[Tanh, Affine]": (lambda D: D.ComposeTransform([D.TanhTransform(), D.AffineTransform(1.0, 3.0)]), (-3, 3)),
}
_LOC = {
    torch.distributions: torch.tensor([0.1, -0.2, 0.3]),
    tritongrad.distributions: tritongrad.tensor([0.1, -0.2, 0.3]),
}
_SCALE = {
    torch.distributions: torch.tensor([1.5, -0.5, 2.0]),
    tritongrad.distributions: tritongrad.tensor([1.5, -0.5, 2.0]),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transforms_match_torch(name):
    build, (low, high) = TRANSFORMS[name]
    expected, got = build(torch.distributions), build(tritongrad.distributions)
    x = random_values((2, 3), torch.float64, low=low, high=high).requires_grad_()
    x_tg = from_torch(x, requires_grad=True)
    y, y_tg = expected(x), got(x_tg)
    assert_close(y_tg, y, kind="autograd", what=f"{name}(x)")
    assert_close(got.inv(y_tg), expected.inv(y), kind="autograd", what=f"{name}.inv(y)")
    jacobian, jacobian_tg = expected.log_abs_det_jacobian(x, y), got.log_abs_det_jacobian(x_tg, y_tg)
    assert_close(jacobian_tg, jacobian, kind="autograd", what=f"{name}.log_abs_det_jacobian")
    assert jacobian_tg.requires_grad == jacobian.requires_grad
    if jacobian.requires_grad:  # (an affine map's is constant)
        jacobian.sum().backward()
        jacobian_tg.sum().backward()
        assert_close(x_tg.grad, x.grad, kind="autograd", what=f"{name}: grad of log_abs_det_jacobian")
    assert repr(got) == repr(expected)
    assert (got.domain.event_dim, got.codomain.event_dim) == (expected.domain.event_dim, expected.codomain.event_dim)
    assert got.inv.inv is got and got.bijective == expected.bijective


def test_transform_cache_returns_the_cached_input():
    t = tritongrad.distributions.TanhTransform(cache_size=1)
    x = tritongrad.tensor([10.0, -0.5])
    y = t(x)
    assert t.inv(y) is x  # atanh(1.0) would be inf: the cache is what makes tanh samples invertible
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        tritongrad.distributions.ExpTransform(cache_size=2)
    assert tritongrad.distributions.ExpTransform() == tritongrad.distributions.ExpTransform()
    assert tritongrad.distributions.AffineTransform(0.0, 1.0) != tritongrad.distributions.ExpTransform()


# ------------------------------------------------------------------------------------------------
# validation: torch's exception types and messages
# ------------------------------------------------------------------------------------------------
BAD_ARGUMENTS = {
    "Normal scale <= 0": lambda lib: lib.distributions.Normal(lib.zeros(2), lib.tensor([1.0, -1.0])),
    "Normal loc NaN": lambda lib: lib.distributions.Normal(lib.tensor([math.nan]), 1.0),
    "Bernoulli probs > 1": lambda lib: lib.distributions.Bernoulli(lib.tensor([0.5, 1.5])),
    "Categorical probs < 0": lambda lib: lib.distributions.Categorical(lib.tensor([0.5, -0.5, 1.0])),
    "Uniform low >= high": lambda lib: lib.distributions.Uniform(lib.tensor([0.0, 2.0]), lib.tensor([1.0, 1.0])),
    "Exponential rate 0": lambda lib: lib.distributions.Exponential(lib.tensor([0.0])),
    "Laplace scale < 0": lambda lib: lib.distributions.Laplace(0.0, -1.0),
    "both probs and logits": lambda lib: lib.distributions.Bernoulli(lib.tensor(0.5), lib.tensor(0.0)),
    "neither probs nor logits": lambda lib: lib.distributions.Categorical(),
    "0-d Categorical probs": lambda lib: lib.distributions.Categorical(lib.tensor(1.0)),
    "Independent too many dims": lambda lib: lib.distributions.Independent(lib.distributions.Normal(0.0, 1.0), 1),
    "Normal log_prob of NaN": lambda lib: lib.distributions.Normal(0.0, 1.0).log_prob(lib.tensor([math.nan])),
    "Exponential log_prob < 0": lambda lib: lib.distributions.Exponential(1.0).log_prob(lib.tensor([-1.0])),
    "Bernoulli log_prob 0.5": lambda lib: lib.distributions.Bernoulli(0.3).log_prob(lib.tensor([0.5])),
    "Categorical log_prob out of range": lambda lib: lib.distributions.Categorical(lib.ones(3)).log_prob(
        lib.tensor([3])
    ),
    "Uniform cdf outside": lambda lib: lib.distributions.Uniform(0.0, 1.0).cdf(lib.tensor([2.0])),
    "log_prob of a list": lambda lib: lib.distributions.Normal(0.0, 1.0).log_prob([0.0]),
    "log_prob shape mismatch": lambda lib: lib.distributions.Normal(lib.zeros(3), 1.0).log_prob(lib.zeros(2)),
    "OneHot log_prob wrong event": lambda lib: lib.distributions.OneHotCategorical(lib.ones(3)).log_prob(lib.zeros(4)),
}


@pytest.mark.parametrize("name", list(BAD_ARGUMENTS))
def test_bad_arguments_raise_torchs_error(name):
    with pytest.raises(Exception) as expected:
        BAD_ARGUMENTS[name](torch)
    with pytest.raises(type(expected.value)) as got:
        BAD_ARGUMENTS[name](tritongrad)
    assert str(got.value) == str(expected.value), f"{name}: {got.value}\n  torch: {expected.value}"


def test_validation_can_be_switched_off():
    D = tritongrad.distributions
    normal = D.Normal(0.0, -1.0, validate_args=False)
    assert not normal._validate_args
    assert math.isnan(float(normal.log_prob(tritongrad.tensor(0.0))))
    D.Distribution.set_default_validate_args(False)
    try:
        D.Exponential(tritongrad.tensor([-1.0]))
        assert float(D.Exponential(1.0).log_prob(tritongrad.tensor(-1.0))) == 1.0
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Exponential(tritongrad.tensor([-1.0]))
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_constraints_repr_and_check_match_torch():
    value = torch.tensor([[-1.0, 0.0, 0.5], [1.0, 2.0, math.nan]])
    for name in ("real", "positive", "nonnegative", "unit_interval", "boolean", "simplex", "real_vector",
                 "nonnegative_integer", "one_hot"):  # fmt: skip
        want, have = getattr(torch.distributions.constraints, name), getattr(tritongrad.distributions.constraints, name)
        assert repr(have) == repr(want)
        assert_close(have.check(from_torch(value)), want.check(value), what=f"constraints.{name}.check")
    for name, args in (("interval", (0.0, 1.0)), ("half_open_interval", (0.0, 1.0)), ("greater_than", (0.5,)),
                       ("less_than", (0.5,)), ("integer_interval", (0, 1)), ("greater_than_eq", (0.5,))):  # fmt: skip
        want = getattr(torch.distributions.constraints, name)(*args)
        have = getattr(tritongrad.distributions.constraints, name)(*args)
        assert repr(have) == repr(want)
        assert_close(have.check(from_torch(value)), want.check(value), what=f"constraints.{name}.check")
    assert tritongrad.distributions.constraints.is_dependent(tritongrad.distributions.Categorical.support)
    with pytest.raises(ValueError, match="dependent"):
        tritongrad.distributions.constraints.dependent.check(tritongrad.zeros(1))


# ------------------------------------------------------------------------------------------------
# tutorial usage under ``import tritongrad as torch``
# ------------------------------------------------------------------------------------------------
def test_vae_and_reinforce_steps_run_as_in_the_tutorials():
    lib = tritongrad
    lib.manual_seed(0)
    encoder = lib.nn.Linear(4, 2 * 2)
    optimizer = lib.optim.Adam(encoder.parameters(), lr=1e-2)
    x = lib.randn(8, 4)
    for _ in range(2):  # VAE: reparameterized posterior, analytic KL to the prior
        mu, log_var = encoder(x).chunk(2, dim=-1)
        q = lib.distributions.Normal(mu, (0.5 * log_var).exp())
        z = q.rsample()
        prior = lib.distributions.Normal(lib.zeros_like(mu), lib.ones_like(mu))
        loss = (z**2).sum(-1).mean() + lib.distributions.kl_divergence(q, prior).sum(-1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert all(p.grad is not None for p in encoder.parameters())
    policy = lib.nn.Linear(4, 3)
    optimizer = lib.optim.SGD(policy.parameters(), lr=0.1)
    for _ in range(2):  # REINFORCE: score-function gradient of a Categorical policy
        m = lib.distributions.Categorical(logits=policy(x))
        action = m.sample()
        reward = (action == 1).float()
        loss = -(m.log_prob(action) * reward).mean() - 0.01 * m.entropy().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert action.shape == (8,) and action.dtype == lib.int64


# ------------------------------------------------------------------------------ MultivariateNormal
_MVN_COVARIANCE = [[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]]


def _mvn_pair(parameterisation: str, dtype, batched: bool = False):
    covariance = torch.tensor(_MVN_COVARIANCE, dtype=dtype)
    argument = {
        "covariance_matrix": covariance,
        "precision_matrix": torch.linalg.inv(covariance),
        "scale_tril": torch.linalg.cholesky(covariance),
    }[parameterisation]
    loc = torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.3, -0.4]] if batched else [0.5, -1.0, 2.0], dtype=dtype)
    theirs = torch.distributions.MultivariateNormal(loc, **{parameterisation: argument})
    ours = tritongrad.distributions.MultivariateNormal(
        from_torch(loc), **{parameterisation: from_torch(argument)}
    )  # fmt: skip
    return theirs, ours


@pytest.mark.parametrize("parameterisation", ["covariance_matrix", "precision_matrix", "scale_tril"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_multivariate_normal_matches_torch(parameterisation, dtype):
    theirs, ours = _mvn_pair(parameterisation, dtype, batched=True)
    value = torch.tensor([[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]], dtype=dtype)
    assert_close(ours.log_prob(from_torch(value)), theirs.log_prob(value), what="log_prob")
    assert_close(ours.entropy(), theirs.entropy(), what="entropy")
    for name in ("mean", "variance", "covariance_matrix", "precision_matrix", "scale_tril"):
        assert_close(getattr(ours, name), getattr(theirs, name), what=name)
    assert tuple(ours.rsample((4,)).shape) == tuple(theirs.rsample((4,)).shape) == (4, 2, 3)
    assert repr(ours) == repr(theirs)


def test_multivariate_normal_gradients_and_kl_match_torch():
    results = []
    for lib, convert in ((torch, lambda t: t.clone()), (tritongrad, from_torch)):
        tril = convert(torch.linalg.cholesky(torch.tensor(_MVN_COVARIANCE, dtype=torch.float64))).requires_grad_(True)
        loc = convert(torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)).requires_grad_(True)
        p = lib.distributions.MultivariateNormal(loc, scale_tril=tril)
        q = lib.distributions.MultivariateNormal(loc.detach() * 0, covariance_matrix=convert(torch.eye(3).double() * 2))
        value = convert(torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64))
        (p.log_prob(value) + lib.distributions.kl_divergence(p, q)).backward()
        results.append((lib.distributions.kl_divergence(p, q), loc.grad, tril.grad))
    for got, want, what in zip(results[1], results[0], ("kl", "d loc", "d scale_tril")):
        assert_close(got, want, what=what)


def test_multivariate_normal_samples_have_its_moments():
    _, ours = _mvn_pair("covariance_matrix", torch.float64)
    tritongrad.manual_seed(3)
    samples = ours.sample((4000,))
    assert_close(samples.mean(0), torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64), atol=0.1, rtol=0)
    centered = samples - samples.mean(0)
    assert_close(centered.t() @ centered / 3999, torch.tensor(_MVN_COVARIANCE, dtype=torch.float64), atol=0.15, rtol=0)


def test_multivariate_normal_refuses_what_torch_refuses():
    covariance = torch.tensor(_MVN_COVARIANCE)
    for lib, convert in ((torch, lambda t: t), (tritongrad, from_torch)):
        with pytest.raises(ValueError, match="Expected parameter covariance_matrix"):
            lib.distributions.MultivariateNormal(convert(torch.zeros(3)), convert(-covariance))
        with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
            lib.distributions.MultivariateNormal(convert(torch.zeros(3)))
