"""The fourth red team's distribution findings, compared with torch 2.13:

- MultivariateNormal sampled and scored one program per sample (sample((1000,)) took 33 s): now the
  vectors that share a scale_tril are the columns of one product / one triangular solve, checked
  by counting interpreted programs, by the values (log_prob vs torch on every batch layout, rsample
  = loc + L eps with the same eps) and by the moments of the samples;
- MultivariateNormal with a float64 covariance and float32 loc promotes as torch's;
- kl_divergence's cross-family pairs (torch's registry, e.g. (Uniform, Normal), (Normal, Laplace),
  (Exponential, Normal)), values and gradients.
"""

from __future__ import annotations

import pytest
import torch
from triton.runtime import interpreter

import tritongrad
from tests.test_hardening import agree
from tests.utils import assert_close, from_torch, to_torch
from tritongrad import runtime

F64 = torch.float64


def _tril(*batch, k: int = 3, seed: int = 0, dtype=F64) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    a = torch.randn(*batch, k, k, generator=generator, dtype=F64)
    return torch.linalg.cholesky(a @ a.mT + k * torch.eye(k, dtype=F64)).to(dtype)


def _randn(*shape, seed: int = 1, dtype=F64) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=F64).to(dtype)


# ------------------------------------------------------------------------------ MultivariateNormal

# (scale_tril batch, loc batch, value batch): L broadcast over loc's batch, the value's sample dims,
# and the other way round (L batched more than loc).
LAYOUTS = {
    "one L, many samples": ((), (), (7,)),
    "one L, batched loc": ((), (4,), (5, 4)),
    "batched L and loc": ((3,), (3,), (2, 3)),
    "L broadcast over a batch dim": ((3, 1), (3, 4), (2, 3, 4)),
    "loc broadcast over L's batch": ((2, 3), (3,), (5, 2, 3)),
    "value broadcast against the batch": ((2, 1), (2, 3), (3,)),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_multivariate_normal_log_prob_and_gradients_match_torch(name):
    tril_batch, loc_batch, value_batch = LAYOUTS[name]
    tril, loc, value = _tril(*tril_batch), _randn(*loc_batch, 3), _randn(*value_batch, 3, seed=2)

    def score(lib, tril, loc, value):
        d = lib.distributions.MultivariateNormal(loc, scale_tril=tril)
        result = d.log_prob(value)
        result.sum().backward()
        return result.detach()

    agree(name, score, [tril.requires_grad_(), loc.requires_grad_(), value.requires_grad_()])


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_multivariate_normal_rsample_is_loc_plus_l_eps(name):
    tril_batch, loc_batch, _ = LAYOUTS[name]
    tril, loc = _tril(*tril_batch), _randn(*loc_batch, 3)
    d = tritongrad.distributions.MultivariateNormal(from_torch(loc), scale_tril=from_torch(tril))
    shape = (5, *d.batch_shape, 3)
    tritongrad.manual_seed(11)
    sample = d.rsample((5,))
    tritongrad.manual_seed(11)
    eps = to_torch(tritongrad.empty(shape, dtype=F64).normal_())
    expected = loc + torch.matmul(tril, eps.unsqueeze(-1)).squeeze(-1)
    assert_close(sample, expected, what=f"rsample of {name}")


def test_multivariate_normal_rsample_gradients_match_the_reparameterization():
    """d(sum of samples)/d loc = the sample count; d/d L = sum over samples of 1 eps^T (same eps)."""
    tril, loc = _tril(2), _randn(2, 3)
    tril_ours, loc_ours = from_torch(tril, requires_grad=True), from_torch(loc, requires_grad=True)
    d = tritongrad.distributions.MultivariateNormal(loc_ours, scale_tril=tril_ours)
    tritongrad.manual_seed(5)
    d.rsample((6,)).sum().backward()
    tritongrad.manual_seed(5)
    eps = to_torch(tritongrad.empty((6, 2, 3), dtype=F64).normal_())
    assert_close(loc_ours.grad, torch.full((2, 3), 6.0, dtype=F64), what="d loc")
    assert_close(tril_ours.grad, eps.sum(0).unsqueeze(-2).expand(2, 3, 3), what="d scale_tril")


def test_multivariate_normal_samples_of_a_batch_have_its_moments():
    tril = _tril(2, seed=4)
    loc = torch.tensor([[1.0, -1.0, 0.5], [0.0, 2.0, -3.0]], dtype=F64)
    d = tritongrad.distributions.MultivariateNormal(from_torch(loc), scale_tril=from_torch(tril))
    tritongrad.manual_seed(0)
    samples = to_torch(d.sample((4000,)))
    assert samples.shape == (4000, 2, 3)
    covariance = tril @ tril.mT
    standard_error = (covariance.diagonal(dim1=-2, dim2=-1) / 4000).sqrt()
    assert_close(samples.mean(0), loc, atol=float(5 * standard_error.max()), rtol=0, what="sample mean")
    centered = samples - samples.mean(0)
    sample_covariance = torch.einsum("nbi,nbj->bij", centered, centered) / 3999
    assert_close(sample_covariance, covariance, atol=0.25, rtol=0.05, what="sample covariance")


def _programs(fn) -> int:
    """Interpreted program instances one ``fn()`` runs (every grid point of every launch)."""
    count = [0]
    builder = interpreter.interpreter_builder
    original = builder.set_grid_idx

    def counted(*args):
        count[0] += 1
        return original(*args)

    builder.set_grid_idx = counted
    try:
        fn()
    finally:
        builder.set_grid_idx = original
    return count[0]


@pytest.mark.skipif(not runtime.is_interpreter(), reason="counts the interpreter's program instances")
def test_multivariate_normal_cost_does_not_grow_a_program_per_sample():
    """Sampling and scoring 2048 vectors cost at most one more program per 32 vectors than 64 do
    (before: one register-block program per vector, 33 ms each)."""
    d = tritongrad.distributions.MultivariateNormal(
        tritongrad.tensor([1.0, -1.0]), covariance_matrix=tritongrad.tensor([[2.0, 0.8], [0.8, 1.0]])
    )
    few, many = d.sample((64,)), d.sample((2048,))
    sampling = _programs(lambda: d.sample((2048,))) - _programs(lambda: d.sample((64,)))
    scoring = _programs(lambda: d.log_prob(many)) - _programs(lambda: d.log_prob(few))
    assert sampling <= 2048 // 32 and scoring <= 2048 // 32, (sampling, scoring)


MIXED_DTYPES = {
    # torch: the parameters' dtypes meet in solve_triangular, whose result has scale_tril's dtype
    "float32 loc, float64 covariance": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), covariance_matrix=lib.eye(2, dtype=F64)
    ).log_prob(lib.tensor([0.5, -0.25])),
    "float64 loc, float32 covariance": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2, dtype=F64), covariance_matrix=lib.eye(2)
    ).log_prob(lib.tensor([0.5, -0.25], dtype=F64)),
    "float32 loc, float64 precision": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), precision_matrix=2 * lib.eye(2, dtype=F64)
    ).log_prob(lib.tensor([0.5, -0.25])),
    "float32 loc, float64 scale_tril, entropy": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), scale_tril=2 * lib.eye(2, dtype=F64)
    ).entropy(),
    # sampling meets them in a product, which refuses (RuntimeError in both)
    "sampling float64 covariance with float32 loc": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), covariance_matrix=lib.eye(2, dtype=F64)
    ).sample((3,)),
    "a 1-d covariance": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), covariance_matrix=lib.ones(2)),
    "a 1-d scale_tril": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2)),
}


@pytest.mark.parametrize("name", list(MIXED_DTYPES))
def test_multivariate_normal_dtypes_and_messages_as_torch(name):
    agree(name, MIXED_DTYPES[name], [], message=name.startswith("a 1-d"))


# ------------------------------------------------------------------------------ kl_divergence

PARAMETERS = {  # (class name, parameter names, values) of a batch of two
    "Bernoulli": (("probs",), ([0.3, 0.7],)),
    "Beta": (("concentration1", "concentration0"), ([2.0, 0.7], [3.0, 1.5])),
    "Exponential": (("rate",), ([1.5, 0.4],)),
    "Gamma": (("concentration", "rate"), ([2.5, 0.8], [1.2, 2.0])),
    "Chi2": (("df",), ([2.5, 3.0],)),
    "Laplace": (("loc", "scale"), ([0.3, -1.0], [1.2, 0.5])),
    "Normal": (("loc", "scale"), ([0.3, -1.0], [1.2, 0.5])),
    "Poisson": (("rate",), ([2.0, 0.5],)),
    "Uniform": (("low", "high"), ([0.2, -0.5], [0.7, 2.0])),
    "Binomial": (("total_count", "probs"), ([5.0, 5.0], [0.3, 0.6])),
}

# torch's registered cross-family pairs among these families (finite ones differentiated too);
# q's support covers p's for the finite ones with these parameters, except where noted
FINITE_PAIRS = [
    ("Uniform", "Normal"), ("Normal", "Laplace"), ("Laplace", "Normal"), ("Exponential", "Normal"), ("Gamma", "Normal"),
    ("Chi2", "Normal"), ("Beta", "Normal"), ("Beta", "Exponential"), ("Beta", "Gamma"), ("Bernoulli", "Poisson"),
    ("Uniform", "Exponential"), ("Uniform", "Gamma"), ("Uniform", "Beta"), ("Beta", "Uniform"),
]  # fmt: skip
INFINITE_PAIRS = [
    ("Exponential", "Beta"), ("Exponential", "Uniform"), ("Gamma", "Beta"), ("Gamma", "Uniform"), ("Laplace", "Beta"),
    ("Laplace", "Exponential"), ("Laplace", "Gamma"), ("Laplace", "Uniform"), ("Normal", "Beta"),
    ("Normal", "Exponential"), ("Normal", "Gamma"), ("Normal", "Uniform"), ("Poisson", "Bernoulli"),
    ("Poisson", "Binomial"),
]  # fmt: skip


def _inputs(name: str, grad: bool, shift: float = 0.0) -> list:
    names, values = PARAMETERS[name]
    tensors = []
    for parameter, value in zip(names, values):
        tensor = torch.tensor(value, dtype=F64)
        if name == "Uniform" and shift:
            tensor = tensor * 0.5 + 0.3 if parameter == "low" else tensor * 0.2 + 0.5  # inside (0, 1)
        tensors.append(tensor.requires_grad_(grad and parameter != "total_count"))
    return tensors


def _build(lib, name: str, tensors):
    return getattr(lib.distributions, name)(**dict(zip(PARAMETERS[name][0], tensors)))


@pytest.mark.parametrize("pair", FINITE_PAIRS, ids="-".join)
def test_cross_family_kl_and_its_gradients_match_torch(pair):
    p_name, q_name = pair
    # Uniform -> Beta needs p inside (0, 1); the others use the table's values
    p_inputs = _inputs(p_name, True, shift=1.0 if q_name == "Beta" else 0.0)
    q_inputs = _inputs(q_name, True)
    count = len(p_inputs)

    def kl(lib, *tensors):
        result = lib.distributions.kl_divergence(
            _build(lib, p_name, tensors[:count]), _build(lib, q_name, tensors[count:])
        )
        result.sum().backward()
        return result.detach()

    agree(f"KL({p_name} || {q_name})", kl, [*p_inputs, *q_inputs])


@pytest.mark.parametrize("pair", INFINITE_PAIRS, ids="-".join)
def test_cross_family_kl_outside_the_support_is_infinite_as_torchs(pair):
    p_name, q_name = pair

    def kl(lib, *tensors):
        count = len(PARAMETERS[p_name][0])
        return lib.distributions.kl_divergence(
            _build(lib, p_name, tensors[:count]), _build(lib, q_name, tensors[count:])
        )

    agree(f"KL({p_name} || {q_name})", kl, [*_inputs(p_name, False), *_inputs(q_name, False)])


SUPPORT_EDGES = {
    # a Uniform reaching below 0 against supports on [0, inf) or [0, 1]; a Beta against a narrow Uniform
    "Uniform below 0 vs Exponential": lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Uniform(lib.tensor([-0.5, 0.5]), lib.tensor([1.0, 1.0])), lib.distributions.Exponential(2.0)
    ),
    "Uniform below 0 vs Gamma": lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Uniform(lib.tensor([-0.5, 0.5]), lib.tensor([1.0, 1.0])), lib.distributions.Gamma(2.0, 1.0)
    ),
    "Uniform above 1 vs Beta": lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Uniform(lib.tensor([0.2, 0.5]), lib.tensor([0.9, 1.5])), lib.distributions.Beta(2.0, 3.0)
    ),
    "Beta vs a narrow Uniform": lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Beta(lib.tensor([2.0, 2.0]), lib.tensor([3.0, 3.0])),
        lib.distributions.Uniform(lib.tensor([0.0, 0.1]), lib.tensor([1.0, 1.0])),
    ),
    # float32 and broadcasting of a scalar q against a batched p
    "Normal vs Laplace, float32, broadcast": lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Normal(lib.tensor([[0.0], [1.0]]), lib.tensor([0.5, 2.0])),
        lib.distributions.Laplace(0.3, 1.5),
    ),
    "Uniform vs Normal, float32": lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Uniform(lib.tensor([0.0, -1.0]), lib.tensor([1.0, 3.0])), lib.distributions.Normal(0.5, 1.2)
    ),
    "Exponential vs Normal, float32": lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Exponential(lib.tensor([0.5, 3.0])), lib.distributions.Normal(-0.5, 2.0)
    ),
    # still no pair in torch: the errors are its own
    "Laplace vs Poisson": lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Laplace(0.0, 1.0), lib.distributions.Poisson(1.0)
    ),
    "Normal vs Poisson (Bregman refuses)": lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Normal(0.0, 1.0), lib.distributions.Poisson(1.0)
    ),
}


@pytest.mark.parametrize("name", list(SUPPORT_EDGES))
def test_cross_family_kl_edges_as_torch(name):
    agree(name, SUPPORT_EDGES[name], [], message=not name.startswith("Normal vs Poisson"))
