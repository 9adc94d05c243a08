"""The gamma-family distributions (Gamma, Chi2, Beta, Dirichlet, StudentT, Poisson, Binomial, Geometric)
against torch.distributions: log_prob, entropy, moments and mode with their gradients on fresh random
parameters, KL divergences, sample/rsample shapes, expand, validation errors; samples statistically.
"""

from __future__ import annotations

import math

import pytest
import torch

import tritongrad
from tests.test_distributions import Case, _pair, _uniform_values
from tests.utils import assert_close, from_torch, random_values, to_torch

DTYPES = [torch.float32, torch.float64]
# Gradients through digamma reach torch's CPU trigamma, whose short asymptotic series is good to
# ~1e-9 relative in float64 (tritongrad's to ~1e-14): float64 gradients are compared at 1e-7.
GRAD_TOLERANCES = {torch.float32: (1e-5, 1e-5), torch.float64: (1e-7, 1e-9)}


def _compare_grads(theirs: dict, ours: dict, what: str, dtype) -> None:
    for name in theirs:
        expected, got = theirs[name].grad, ours[name].grad
        assert (got is None) == (expected is None), f"{what}: {name} gradient {got} vs torch's {expected}"
        if expected is not None:
            assert_close(got, expected, dtype, tolerances=GRAD_TOLERANCES[dtype], what=f"{what}: grad of {name}")


def _integer_values(shape, high):
    return lambda dtype: torch.randint(0, high + 1, shape).to(dtype)


def _simplex_values(shape):
    return lambda dtype: torch.distributions.Dirichlet(torch.ones(shape, dtype=torch.float64) * 2).sample().to(dtype)


CASES = {
    # value (4, 1, 3) against batch (2, 3); concentrations below and above 1
    "Gamma": Case(
        lambda D, concentration, rate: D.Gamma(concentration, rate),
        {"concentration": ((2, 3), 0.3, 4.0), "rate": ((3,), 0.5, 2.0)},
        _uniform_values((4, 1, 3), 0.1, 5.0),
        ("mode",),
    ),
    "Chi2": Case(lambda D, df: D.Chi2(df), {"df": ((3,), 0.5, 6.0)}, _uniform_values((4, 3), 0.1, 8.0), ("mode",)),
    "Beta": Case(
        lambda D, c1, c0: D.Beta(c1, c0),
        {"c1": ((2, 3), 0.5, 3.0), "c0": ((3,), 0.5, 3.0)},
        _uniform_values((4, 1, 3), 0.05, 0.95),
        ("mode",),
    ),  # fmt: skip
    "Dirichlet": Case(
        lambda D, concentration: D.Dirichlet(concentration),
        {"concentration": ((2, 4), 0.5, 3.0)},
        _simplex_values((5, 2, 4)),
        ("mode",),
    ),  # fmt: skip
    "StudentT": Case(
        lambda D, df, loc, scale: D.StudentT(df, loc, scale),
        {"df": ((3,), 2.5, 8.0), "loc": ((2, 3), -1.0, 1.0), "scale": ((3,), 0.5, 2.0)},
        _uniform_values((4, 1, 3), -4.0, 4.0),
        ("mode",),
    ),
    # (torch's Poisson has no entropy: its ExponentialFamily entropy needs a carrier measure)
    "Poisson": Case(
        lambda D, rate: D.Poisson(rate),
        {"rate": ((2, 3), 0.5, 8.0)},
        _integer_values((4, 2, 3), 12),
        ("mode",),
        entropy=False,
    ),
    "Binomial(probs)": Case(
        lambda D, probs: D.Binomial(6, probs), {"probs": ((2, 3), 0.1, 0.9)}, _integer_values((4, 2, 3), 6), ("mode",)
    ),
    "Binomial(logits)": Case(
        lambda D, logits: D.Binomial(torch_or_tg_counts(D), logits=logits),
        {"logits": ((3,), -2.0, 2.0)},
        _integer_values((4, 3), 4),
        ("mode",),
        entropy=False,  # (inhomogeneous counts: torch refuses too, tested below)
    ),
    "Geometric(probs)": Case(
        lambda D, probs: D.Geometric(probs), {"probs": ((2, 3), 0.1, 0.9)}, _integer_values((4, 2, 3), 7), ("mode",)
    ),
    "Geometric(logits)": Case(
        lambda D, logits: D.Geometric(logits=logits), {"logits": ((3,), -2.0, 2.0)}, _integer_values((4, 3), 7)
    ),
}


def torch_or_tg_counts(D):
    """total counts (3, 4, 5) in the library of the distributions module D."""
    return (torch if D is torch.distributions else tritongrad).tensor([3.0, 4.0, 5.0])


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", list(CASES))
def test_log_prob_entropy_and_moments_match_torch(name, dtype):
    case = CASES[name]
    theirs, ours, expected, got = _pair(case, dtype)
    assert (got.batch_shape, got.event_shape) == (expected.batch_shape, expected.event_shape)
    value = case.value(dtype)
    results = [("log_prob", expected.log_prob(value), got.log_prob(from_torch(value)))]
    if case.entropy:
        results.append(("entropy", expected.entropy(), got.entropy()))
    results += [(prop, getattr(expected, prop), getattr(got, prop)) for prop in case.methods + case.properties]
    loss_torch, loss_tg = 0, 0
    for what, want, have in results:
        assert_close(have, want, dtype, kind="autograd", what=f"{name}.{what}")
        if want.requires_grad:
            loss_torch = loss_torch + want.nan_to_num(0.0).sum()
            loss_tg = loss_tg + have.nan_to_num(0.0).sum()
    loss_torch.backward()
    loss_tg.backward()
    _compare_grads(theirs, ours, name, dtype)


def test_studentt_moments_where_undefined_and_dirichlet_corner_mode():
    """StudentT: mean NaN for df <= 1, variance inf for 1 < df <= 2 (torch's masked writes); Dirichlet's
    mode is a one-hot corner where every concentration is below 1."""
    for lib in (torch, tritongrad):
        t = lib.distributions.StudentT(lib.tensor([0.5, 1.5, 3.0]), lib.tensor([1.0, 2.0, 3.0]))
        d = lib.distributions.Dirichlet(lib.tensor([[0.5, 0.2, 0.9], [2.0, 0.5, 3.0]]))
        lib.result = (t.mean, t.variance, d.mode)
    for have, want, what in zip(tritongrad.result, torch.result, ("mean", "variance", "mode")):
        assert torch.equal(to_torch(have).nan_to_num(-1.0), want.nan_to_num(-1.0)), f"{what}: {have} vs {want}"
    del torch.result, tritongrad.result


KL_PAIRS = {
    "Gamma": ("Gamma", "Gamma"),
    "Chi2": ("Chi2", "Chi2"),
    "Beta": ("Beta", "Beta"),
    "Dirichlet": ("Dirichlet", "Dirichlet"),
    "Poisson": ("Poisson", "Poisson"),
    "Binomial": ("Binomial(probs)", "Binomial(probs)"),
    "Geometric": ("Geometric(probs)", "Geometric(probs)"),
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
    want.sum().backward()
    have.sum().backward()
    _compare_grads(p_theirs, p_ours, f"KL({pair}) p", dtype)
    _compare_grads(q_theirs, q_ours, f"KL({pair}) q", dtype)


def test_cross_family_kl_and_binomial_count_rules_match_torch():
    rate, concentration = torch.tensor([0.5, 2.0]), torch.tensor([0.7, 3.0])
    for lib in (torch, tritongrad):
        D = lib.distributions
        exponential, gamma = D.Exponential(lib.tensor(rate.tolist())), D.Gamma(lib.tensor(concentration.tolist()), 1.5)
        more = D.Binomial(lib.tensor([5.0, 4.0]), lib.tensor([0.3, 0.6]))
        fewer = D.Binomial(lib.tensor([4.0, 4.0]), lib.tensor([0.5, 0.5]))
        lib.result = (
            D.kl_divergence(exponential, gamma),
            D.kl_divergence(gamma, exponential),
            D.kl_divergence(more, fewer),
        )
    for have, want in zip(tritongrad.result, torch.result):
        assert_close(have, want, kind="autograd", what="cross-family KL")
    del torch.result, tritongrad.result
    D = tritongrad.distributions
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        D.kl_divergence(D.Binomial(3, tritongrad.tensor([0.5])), D.Binomial(4, tritongrad.tensor([0.5])))
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count not supported by `entropy`"):
        D.Binomial(tritongrad.tensor([3.0, 4.0]), tritongrad.tensor([0.5, 0.5])).entropy()


@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3)], ids=str)
@pytest.mark.parametrize("name", list(CASES))
def test_sample_and_rsample_shapes_match_torch(name, sample_shape):
    _, _, expected, got = _pair(CASES[name], torch.float32)
    want, have = expected.sample(sample_shape), got.sample(sample_shape)
    assert (have.shape, have.dtype) == (want.shape, want.dtype), f"{name}.sample: {have.shape} {have.dtype}"
    assert not have.requires_grad, f"{name}.sample is in the graph"
    assert got.has_rsample == expected.has_rsample
    if expected.has_rsample:
        want, have = expected.rsample(sample_shape), got.rsample(sample_shape)
        assert (have.shape, have.dtype) == (want.shape, want.dtype), f"{name}.rsample: {have.shape} {have.dtype}"
        assert have.requires_grad, f"{name}.rsample is not differentiable"
    else:
        with pytest.raises(NotImplementedError):
            got.rsample(sample_shape)
    expanded_want, expanded_have = expected.expand((4,) + expected.batch_shape), got.expand((4,) + got.batch_shape)
    assert expanded_have.batch_shape == expanded_want.batch_shape and type(expanded_have).__name__ == name.split("(")[0]
    assert expanded_have.sample().shape == expanded_want.sample().shape


SAMPLES = 4000


@pytest.mark.parametrize("name", list(CASES))
def test_sample_means_and_support(name):
    """The mean of 4000 samples is within 5 standard errors of the mean (StudentT: df > 2 keeps the
    variance finite); every sample lies in the support."""
    _, _, expected, got = _pair(CASES[name], torch.float64)
    samples = to_torch(got.sample((SAMPLES,)))
    mean, variance = expected.mean.detach(), expected.variance.detach()
    bound = 5 * (variance / SAMPLES).sqrt() + 1e-9
    error = (samples.mean(0) - mean).abs()
    assert bool((error <= bound).all()), f"{name}: sample mean off by {error.max():.3g} (bound {bound.min():.3g})"
    assert bool(expected.support.check(samples).all()), f"{name}: a sample is outside {expected.support}"


def test_rsample_gradients_are_unbiased():
    """The pathwise gradient averages to the gradient of the mean: d/dalpha E[x] = 1 / rate for Gamma,
    d/dalpha_i E[x_j] = (delta_ij - alpha_j / alpha_0) / alpha_0 for Dirichlet (per-sample gradients
    differ from torch's for Dirichlet and Beta: see tritongrad/distributions/dirichlet.py)."""
    concentration = tritongrad.tensor([0.4, 1.5, 6.0], dtype=torch.float64, requires_grad=True)
    rate = 2.0
    samples = tritongrad.distributions.Gamma(concentration, rate).rsample((SAMPLES,))
    per_sample = []
    for j in range(3):  # the gradient of sum over samples of x_j, one column at a time
        (grad,) = tritongrad.autograd.grad(samples[:, j].sum(), concentration, retain_graph=True)
        per_sample.append(to_torch(grad)[j] / SAMPLES)
    assert_close(torch.tensor(per_sample), torch.full((3,), 1 / rate, dtype=torch.float64), rtol=0.1, atol=0,
                 what="mean d x / d alpha of Gamma.rsample")  # fmt: skip
    alpha = torch.tensor([0.6, 2.0, 3.4], dtype=torch.float64)
    leaf = from_torch(alpha, requires_grad=True)
    weights = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    x = tritongrad.distributions.Dirichlet(leaf).rsample((SAMPLES,))
    (x * from_torch(weights)).sum().backward()
    total = alpha.sum()
    jacobian = (torch.eye(3, dtype=torch.float64) - (alpha / total)[None, :]) / total  # [i, j] = d E[x_j] / d alpha_i
    assert_close(to_torch(leaf.grad) / SAMPLES, jacobian @ weights, rtol=0.15, atol=0.02,
                 what="mean gradient of Dirichlet.rsample")  # fmt: skip


BAD_ARGUMENTS = {
    "Gamma concentration <= 0": lambda lib: lib.distributions.Gamma(lib.tensor([1.0, 0.0]), 1.0),
    "Gamma rate < 0": lambda lib: lib.distributions.Gamma(1.0, lib.tensor([-1.0])),
    "Chi2 df < 0": lambda lib: lib.distributions.Chi2(lib.tensor([-1.0])),
    "Beta concentration0 <= 0": lambda lib: lib.distributions.Beta(lib.tensor([1.0]), lib.tensor([0.0])),
    "Dirichlet 0-d": lambda lib: lib.distributions.Dirichlet(lib.tensor(1.0)),
    "Dirichlet negative": lambda lib: lib.distributions.Dirichlet(lib.tensor([1.0, -1.0])),
    "StudentT df <= 0": lambda lib: lib.distributions.StudentT(lib.tensor([0.0])),
    "Poisson rate < 0": lambda lib: lib.distributions.Poisson(lib.tensor([-1.0])),
    "Binomial probs > 1": lambda lib: lib.distributions.Binomial(3, lib.tensor([1.5])),
    "Binomial count not integer": lambda lib: lib.distributions.Binomial(lib.tensor([2.5]), lib.tensor([0.5])),
    "Binomial both": lambda lib: lib.distributions.Binomial(3, lib.tensor([0.5]), lib.tensor([0.0])),
    "Geometric probs 0": lambda lib: lib.distributions.Geometric(lib.tensor([0.0, 0.5])),
    "Gamma log_prob < 0": lambda lib: lib.distributions.Gamma(1.0, 1.0).log_prob(lib.tensor([-1.0])),
    "Beta log_prob > 1": lambda lib: lib.distributions.Beta(1.0, 1.0).log_prob(lib.tensor([1.5])),
    "Dirichlet log_prob off simplex": lambda lib: lib.distributions.Dirichlet(lib.ones(3)).log_prob(lib.ones(3)),
    "Poisson log_prob 0.5": lambda lib: lib.distributions.Poisson(lib.tensor([1.0])).log_prob(lib.tensor([0.5])),
    "Binomial log_prob > count": lambda lib: lib.distributions.Binomial(3, lib.tensor([0.5])).log_prob(
        lib.tensor([4.0])
    ),
}


@pytest.mark.parametrize("name", list(BAD_ARGUMENTS))
def test_bad_arguments_raise_torchs_error(name):
    with pytest.raises(Exception) as expected:
        BAD_ARGUMENTS[name](torch)
    with pytest.raises(type(expected.value)) as got:
        BAD_ARGUMENTS[name](tritongrad)
    assert str(got.value) == str(expected.value), f"{name}: {got.value}\n  torch: {expected.value}"


def test_reprs_and_derived_parameters_match_torch():
    for build in (
        lambda lib: lib.distributions.Gamma(lib.tensor([2.0, 3.0]), 1.0),
        lambda lib: lib.distributions.Chi2(lib.tensor([2.0])),
        lambda lib: lib.distributions.Beta(0.5, 1.5),
        lambda lib: lib.distributions.Poisson(4.0),
        lambda lib: lib.distributions.Binomial(5, logits=lib.tensor([0.3])),
        lambda lib: lib.distributions.Geometric(logits=lib.tensor([0.3, -1.0])),
        lambda lib: lib.distributions.StudentT(3.0),
    ):
        expected, got = build(torch), build(tritongrad)
        assert repr(got) == repr(expected)
        for key in ("df", "concentration1", "concentration0", "probs", "logits", "total_count"):
            if hasattr(expected, key):
                assert_close(getattr(got, key), getattr(expected, key), kind="autograd", what=f"{expected!r}.{key}")
    values = random_values((3,), torch.float64, low=0.5, high=2.0)
    assert_close(tritongrad.distributions.Chi2(from_torch(values)).df, values, what="Chi2.df")
    assert_close(
        tritongrad.distributions.Binomial(4, tritongrad.tensor([0.2, 0.7])).enumerate_support(),
        torch.distributions.Binomial(4, torch.tensor([0.2, 0.7])).enumerate_support(),
        what="Binomial.enumerate_support",
    )
    assert math.isfinite(
        float(tritongrad.distributions.Geometric(tritongrad.tensor(1.0)).log_prob(tritongrad.tensor(0.0)))
    )


def test_rsample_backward_reaches_every_parameter():
    """Gamma's rate and StudentT's loc/scale/df, Beta's two concentrations: rsample's graph reaches them
    all (the clamp to the type's tiny stays outside the graph)."""
    D = tritongrad.distributions
    leaves = [tritongrad.tensor([1.5, 0.7], requires_grad=True) for _ in range(6)]
    total = (
        D.Gamma(leaves[0], leaves[1]).rsample((3,)).sum()
        + D.Beta(leaves[2], leaves[3]).rsample((3,)).sum()
        + D.StudentT(leaves[4] + 2, 0.0, leaves[5]).rsample((3,)).sum()
    )
    total.backward()
    for number, leaf in enumerate(leaves):
        assert leaf.grad is not None and bool(to_torch(leaf.grad).isfinite().all()), f"parameter {number}: {leaf.grad}"
