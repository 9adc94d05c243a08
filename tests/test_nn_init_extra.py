"""nn.init's trunc_normal_, orthogonal_, eye_, dirac_ and sparse_ against torch.nn.init.

The random initialisers draw from tritongrad's Philox stream, not torch's, so they are compared by
what the result must satisfy (bounds, moments, orthogonality, zero counts) and, for orthogonal_, by
reproducing its normal draw and factoring it with torch as the oracle; the deterministic ones
(eye_, dirac_) must equal torch's exactly. Errors must agree in type and message.
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, to_torch
from tritongrad.nn import init


def _raised(call):
    try:
        call()
    except Exception as error:  # the error itself is what is compared
        return error
    return None


# (function, shape, keyword arguments): inputs both libraries reject.
BAD_INPUTS = [
    ("orthogonal_", (3,), {}),
    ("orthogonal_", (), {}),
    ("eye_", (3,), {}),
    ("eye_", (2, 2, 2), {}),
    ("dirac_", (3, 3), {}),
    ("dirac_", (1, 1, 1, 1, 1, 1), {}),
    ("dirac_", (3, 2, 3), {"groups": 2}),
    ("dirac_", (3, 2, 3), {"groups": 0}),
    ("sparse_", (3,), {"sparsity": 0.1}),
    ("sparse_", (2, 2, 2), {"sparsity": 0.1}),
    ("trunc_normal_", (3,), {"std": 0.0}),
    ("trunc_normal_", (3,), {"a": 1.0, "b": -1.0}),
]


@pytest.mark.parametrize("name, shape, kwargs", BAD_INPUTS)
def test_errors_match_torch(name, shape, kwargs):
    expected = _raised(lambda: getattr(torch.nn.init, name)(torch.zeros(shape), **kwargs))
    got = _raised(lambda: getattr(init, name)(tritongrad.zeros(shape), **kwargs))
    assert expected is not None, "torch accepted the input: the case is wrong"
    assert got is not None, f"tritongrad accepted what torch rejects with {expected!r}"
    assert type(got) is type(expected), f"got {got!r}, torch {expected!r}"
    # Torch prints float bounds as C++ does ("from=1"), Python as "from=1.0": compare up to the values.
    head = str(expected).split(" but found")[0]
    assert str(got).startswith(head), f"got {str(got)!r}, torch {str(expected)!r}"


# ---------------------------------------------------------------------------------------------
# trunc_normal_


def _truncated_normal_moments(mean, std, a, b):
    """The exact mean and std of N(mean, std**2) truncated to [a, b]."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    shift = (pdf(alpha) - pdf(beta)) / z
    variance = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - shift**2
    return mean + std * shift, std * math.sqrt(variance)


# (mean, std, a, b): wide intervals take the redraw-from-the-normal path, narrow or one-sided
# ones (mass <= 0.3) the uniform-proposal path.
TRUNC_CASES = [
    (0.0, 1.0, -2.0, 2.0),
    (1.0, 0.5, 0.0, 1.5),
    (0.0, 1.0, 1.0, 3.0),
    (0.0, 2.0, -0.5, 0.5),
    (-0.5, 1.0, 0.0, 3.0),
]


@pytest.mark.parametrize("mean, std, a, b", TRUNC_CASES)
def test_trunc_normal_distribution(mean, std, a, b):
    n = 4000
    expected = torch.nn.init.trunc_normal_(torch.empty(n, dtype=torch.float64), mean, std, a, b)
    got = tritongrad.empty(n, dtype=torch.float64)
    assert init.trunc_normal_(got, mean, std, a, b) is got
    values = to_torch(got)
    assert bool(((values >= a) & (values <= b)).all()), f"values outside [{a}, {b}]: {values.min()}, {values.max()}"
    # A clamped normal would pile mass on the bounds; a truncated one has none there.
    assert int(((values == a) | (values == b)).sum()) == 0
    true_mean, true_std = _truncated_normal_moments(mean, std, a, b)
    # 5 standard errors of the sample mean / std: fails for a wrong distribution, not by chance.
    mean_tol, std_tol = 5 * true_std / math.sqrt(n), 5 * true_std / math.sqrt(2 * n)
    for sample in (values, expected):
        assert abs(sample.mean().item() - true_mean) < mean_tol, (sample.mean().item(), true_mean)
        assert abs(sample.std().item() - true_std) < 1.5 * std_tol, (sample.std().item(), true_std)
    assert abs(values.mean().item() - expected.mean().item()) < 1.5 * mean_tol


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_trunc_normal_dtype_and_bounds(dtype):
    a, b = -0.3, 0.7  # not representable in the half types: the rounded bounds still hold
    got = tritongrad.empty(20, 30, dtype=dtype)
    init.trunc_normal_(got, 0.1, 1.0, a, b)
    values = to_torch(got)
    assert values.dtype == dtype
    lo, hi = torch.tensor(a, dtype=dtype).item(), torch.tensor(b, dtype=dtype).item()
    assert bool(((values >= lo) & (values <= hi)).all())
    assert values.unique().numel() > 30  # really random, not a constant


def test_trunc_normal_warns_like_torch():
    with pytest.warns(UserWarning) as expected:
        torch.nn.init.trunc_normal_(torch.empty(10), mean=5.0, std=1.0, a=-1.0, b=1.0)
    with pytest.warns(UserWarning) as got:
        values = init.trunc_normal_(tritongrad.empty(10), mean=5.0, std=1.0, a=-1.0, b=1.0)
    assert [str(w.message) for w in got] == [str(w.message) for w in expected]
    assert bool(((to_torch(values) >= -1.0) & (to_torch(values) <= 1.0)).all())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.trunc_normal_(tritongrad.empty(10), mean=0.5, std=1.0, a=-1.0, b=1.0)


def test_trunc_normal_degenerate_interval():
    got = init.trunc_normal_(tritongrad.empty(3, 4), a=0.5, b=0.5)
    assert_close(got, torch.nn.init.trunc_normal_(torch.empty(3, 4), a=0.5, b=0.5))


# ---------------------------------------------------------------------------------------------
# orthogonal_


def _gram_error(weight: torch.Tensor, gain: float) -> float:
    """max |W W^T - gain^2 I| (rows <= cols) or |W^T W - gain^2 I|, W the 2-D flattening."""
    w = weight.reshape(weight.shape[0], -1).double()
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    return (gram - gain**2 * torch.eye(gram.shape[0], dtype=torch.float64)).abs().max().item()


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (2, 3, 4), (1, 6), (6, 1)])
def test_orthogonal(shape):
    expected = torch.nn.init.orthogonal_(torch.empty(shape))
    got = tritongrad.empty(shape)
    assert init.orthogonal_(got) is got
    assert tuple(got.shape) == shape and got.dtype == torch.float32
    assert _gram_error(expected, 1.0) < 1e-5  # the property holds for torch's result too
    assert _gram_error(to_torch(got), 1.0) < 1e-5


@pytest.mark.parametrize("gain", [0.5, 3.0])
def test_orthogonal_gain(gain):
    got = init.orthogonal_(tritongrad.empty(4, 6), gain=gain)
    assert _gram_error(to_torch(got), gain) < 1e-5 * gain**2
    assert _gram_error(to_torch(got), 1.0) > 0.1


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 2, 3)])
def test_orthogonal_is_torchs_qr_of_the_same_draw(shape):
    """Given the normal matrix orthogonal_ draws, the result is torch's sign-corrected QR factor."""
    rows = shape[0]
    cols = math.prod(shape) // rows
    tritongrad.manual_seed(1234)
    draw = to_torch(tritongrad.empty(rows, cols, dtype=torch.float64).normal_(0, 1)).clone()
    tritongrad.manual_seed(1234)
    got = init.orthogonal_(tritongrad.empty(shape, dtype=torch.float64), gain=2.0)
    matrix = draw.T if rows < cols else draw
    q, r = torch.linalg.qr(matrix)
    q = q * torch.diag(r).sign()
    expected = 2.0 * (q.T if rows < cols else q)
    assert_close(got, expected.reshape(shape), rtol=1e-10, atol=1e-10)


def test_orthogonal_generator_and_layout():
    base = tritongrad.empty(3, 5)
    view = base.t()  # (5, 3), strided
    init.orthogonal_(view, generator=tritongrad.Generator().manual_seed(7))
    again = init.orthogonal_(tritongrad.empty(5, 3), generator=tritongrad.Generator().manual_seed(7))
    assert torch.equal(to_torch(view), to_torch(again))
    assert _gram_error(to_torch(base).T, 1.0) < 1e-5
    other = init.orthogonal_(tritongrad.empty(5, 3), generator=tritongrad.Generator().manual_seed(8))
    assert not torch.equal(to_torch(other), to_torch(again))


def test_orthogonal_half_and_empty():
    got = init.orthogonal_(tritongrad.empty(4, 4, dtype=torch.float16))
    assert got.dtype == torch.float16 and _gram_error(to_torch(got), 1.0) < 1e-2
    empty = tritongrad.empty(0, 3)
    assert init.orthogonal_(empty) is empty
    assert tuple(torch.nn.init.orthogonal_(torch.empty(0, 3)).shape) == tuple(empty.shape)


# ---------------------------------------------------------------------------------------------
# eye_ and dirac_


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (1, 1), (0, 3)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.int64])
def test_eye(shape, dtype):
    source = torch.full(shape, 7, dtype=dtype)  # leftover values must be overwritten
    got = from_torch(source)
    assert init.eye_(got) is got
    assert_close(got, torch.nn.init.eye_(source.clone()))


def test_eye_strided():
    base = tritongrad.full((5, 3), 2.0)
    init.eye_(base.t())
    assert_close(base, torch.eye(3, 5).T)


DIRAC_CASES = [
    ((4, 2, 3), 1),
    ((2, 4, 5), 1),
    ((6, 3, 3, 3), 2),
    ((4, 4, 2, 4), 4),
    ((4, 2, 3, 3, 3), 1),
    ((6, 1, 2, 3, 1), 3),
]


@pytest.mark.parametrize("shape, groups", DIRAC_CASES)
def test_dirac(shape, groups):
    source = torch.full(shape, 5.0)
    got = from_torch(source)
    assert init.dirac_(got, groups) is got
    expected = torch.nn.init.dirac_(source.clone(), groups)
    assert int(expected.sum()) > 0
    assert_close(got, expected)


# ---------------------------------------------------------------------------------------------
# sparse_


@pytest.mark.parametrize("shape", [(10, 6), (7, 5), (1, 4)])
@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.9, 1.0, 1.5, -0.3])
def test_sparse_zero_counts(shape, sparsity):
    expected = torch.nn.init.sparse_(torch.empty(shape), sparsity)
    got = tritongrad.empty(shape)
    assert init.sparse_(got, sparsity) is got
    zeros = (to_torch(got) == 0).sum(0)
    assert zeros.tolist() == (expected == 0).sum(0).tolist()


def test_sparse_values_and_randomness():
    std = 2.0
    got = init.sparse_(tritongrad.empty(60, 50), 0.3, std=std)
    values = to_torch(got)
    assert (values == 0).sum(0).tolist() == [math.ceil(0.3 * 60)] * 50
    nonzero = values[values != 0]
    assert abs(nonzero.std().item() - std) < 0.1 * std and abs(nonzero.mean().item()) < 0.1 * std
    # the zeroed rows differ between columns (a permutation per column, not one shared)
    patterns = {tuple((values[:, c] == 0).tolist()) for c in range(50)}
    assert len(patterns) > 40


# ---------------------------------------------------------------------------------------------
# all: on a Parameter that requires grad, no autograd recorded


INITIALISERS = {
    "trunc_normal_": ((6, 4), lambda w: init.trunc_normal_(w, std=0.5)),
    "orthogonal_": ((6, 4), lambda w: init.orthogonal_(w)),
    "eye_": ((6, 4), lambda w: init.eye_(w)),
    "dirac_": ((4, 2, 3), lambda w: init.dirac_(w)),
    "sparse_": ((6, 4), lambda w: init.sparse_(w, 0.5)),
}


@pytest.mark.parametrize("name", list(INITIALISERS))
def test_parameter_requiring_grad(name):
    shape, fill = INITIALISERS[name]
    weight = tritongrad.nn.Parameter(tritongrad.zeros(shape))
    before = weight._version if hasattr(weight, "_version") else None
    assert fill(weight) is weight
    assert weight.requires_grad and weight.is_leaf and weight.grad_fn is None
    if before is not None:
        assert weight._version != before
    assert bool((to_torch(weight) != 0).any())
    (weight * weight).sum().backward()
    assert_close(weight.grad, 2 * to_torch(weight))
