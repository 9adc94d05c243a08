"""The seventh red-team round's numerics findings (norm, cumprod, mode, var_mean/std_mean, var's
backward, sin/cos/tan of huge float32, lgamma near its zeros), each compared with torch: values,
gradients, or the exception type and the head of its message (``agree``), and for the precision
cases the bits themselves (ulps or a relative error)."""

from __future__ import annotations

import math
import random

import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tests.utils import to_torch

INF, NAN = math.inf, math.nan


def _gradient(lib, function, x):
    """d function(x).sum() / dx (allow_unused: an input the result does not use gives None)."""
    return lib.autograd.grad(function(x).sum(), x, allow_unused=True)[0]


# ---------------------------------------------------------------------------------------------
# norm's backward: sign(x) |x|^(p-1), 0 at zero entries; p = 0 has no gradient at all
# ---------------------------------------------------------------------------------------------

NORM_INPUTS = {
    "zero entry": [0.0, 4.0, -3.0],
    "all zero": [0.0, 0.0, 0.0],
    "nan and inf": [NAN, INF, 1.0],
    "negative zero": [-0.0, 2.0, 0.5],
}


@pytest.mark.parametrize("p", [0.5, 1.5, -1.5, 3.0, 2.0, 1.0])
@pytest.mark.parametrize("values", list(NORM_INPUTS.values()), ids=list(NORM_INPUTS))
def test_norm_gradient_at_zero_entries(values, p):
    x = torch.tensor(values, requires_grad=True)
    agree(f"norm(p={p})", lambda lib, x: _gradient(lib, lambda y: y.norm(p=p), x), [x])
    agree(f"vector_norm(ord={p}, dim)", lambda lib, x: _gradient(
        lib, lambda y: lib.linalg.vector_norm(y.view(1, 3), ord=p, dim=1), x), [x])  # fmt: skip


def test_normalize_gradient_at_zero_entries():
    x = torch.tensor([[0.0, 4.0, -3.0]], requires_grad=True)
    agree("normalize(p=1.5)", lambda lib, x: _gradient(lib, lambda y: lib.nn.functional.normalize(y, p=1.5), x), [x])


P_ZERO_CASES = {
    "grad": lambda lib, x: lib.autograd.grad(x.norm(p=0), x),
    "grad allow_unused": lambda lib, x: lib.autograd.grad(x.norm(p=0), x, allow_unused=True),
    "backward leaves grad None": lambda lib, x: (x.norm(p=0).backward(), x.grad is None),
    "used elsewhere too": lambda lib, x: lib.autograd.grad(x.norm(p=0) + (x * x).sum(), x),
    "vector_norm over a dim": lambda lib, x: lib.autograd.grad(
        lib.linalg.vector_norm(x.view(1, 3), ord=0, dim=1).sum(), x, allow_unused=True
    ),
}


@pytest.mark.parametrize("case", list(P_ZERO_CASES.values()), ids=list(P_ZERO_CASES))
def test_norm_p0_has_no_gradient(case):
    agree("norm(p=0)", case, [torch.tensor([2.0, -2.0, 0.0], requires_grad=True)])


# ---------------------------------------------------------------------------------------------
# cumprod's backward: torch's three cases (no zeros, zeros, zeros under create_graph)
# ---------------------------------------------------------------------------------------------

CUMPROD_ROWS = {
    "inf": [2.0, INF, 3.0],
    "overflow": [2.0, 1e30, 1e30, 0.0],
    "nan": [2.0, NAN, 3.0],
    "two zeros": [2.0, 0.0, 3.0, 0.0, 5.0],
    "zero first": [0.0, 2.0, 3.0],
    "inf then zero": [INF, 0.0, 2.0],
    "plain": [1.0, 2.0, 3.0, 4.0],
    "everything": [3.0, INF, 0.0, 2.0, NAN, 0.0, 1.0],
}
WEIGHTS = [1.0, -2.0, 3.0, 0.5, 2.0, 1.0, 1.0]


def _cumprod_gradient(lib, x, create_graph: bool):
    weights = lib.tensor(WEIGHTS[: x.shape[-1]], dtype=x.dtype)
    grad = lib.autograd.grad((x.cumprod(-1) * weights).sum(), x, create_graph=create_graph)[0]
    return grad.detach()


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("row", list(CUMPROD_ROWS.values()), ids=list(CUMPROD_ROWS))
def test_cumprod_gradient_with_nonfinite_values(row, create_graph):
    x = torch.tensor(row, requires_grad=True)
    agree("cumprod backward", lambda lib, x: _cumprod_gradient(lib, x, create_graph), [x])


@pytest.mark.parametrize("seed", range(4))
def test_cumprod_gradient_on_random_integer_matrices(seed):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randint(-2, 3, (3, 5), generator=generator).double()
    x[0, 1] = INF if seed % 2 else x[0, 1]
    weights = torch.randn(3, 5, generator=generator, dtype=torch.float64)
    for dim in (0, 1):
        for create_graph in (False, True):
            theirs = x.clone().requires_grad_()
            expected = torch.autograd.grad((theirs.cumprod(dim) * weights).sum(), theirs, create_graph=create_graph)[0]
            ours = tritongrad.tensor(x.tolist(), dtype=tritongrad.float64, requires_grad=True)
            product = ours.cumprod(dim) * tritongrad.tensor(weights.tolist(), dtype=tritongrad.float64)
            actual = tritongrad.autograd.grad(product.sum(), ours, create_graph=create_graph)[0]
            torch.testing.assert_close(to_torch(actual.detach()), expected.detach(), equal_nan=True, rtol=1e-12, atol=0)


def test_cumprod_second_derivative_with_zeros():
    x = torch.tensor([2.0, 0.0, 3.0, 0.0, 5.0], dtype=torch.float64, requires_grad=True)

    def second(lib, x):
        weights = lib.tensor(WEIGHTS[:5], dtype=lib.float64)
        (grad,) = lib.autograd.grad((x.cumprod(0) * weights).sum(), x, create_graph=True)
        return lib.autograd.grad((grad * grad).sum(), x)[0]

    agree("cumprod double backward", second, [x])


# ---------------------------------------------------------------------------------------------
# mode with NaN: torch's std::sort with `<` (an insertion sort for rows up to 16) leaves NaNs in
# place; each NaN is a run of its own and splits the runs of the numbers around it
# ---------------------------------------------------------------------------------------------

MODE_CASES = {
    "two nans": ([NAN, NAN, 1.0], -1),
    "nan between equal": ([1.0, NAN, 1.0], -1),
    "nan first": ([NAN, 2.0, 1.0], -1),
    "jump to front": ([2.0, 1.0, NAN, 1.0, 2.0], -1),
    "ties after nan": ([1.0, 1.0, NAN, NAN, NAN], -1),
    "columns": ([[1.0, NAN, 3.0, -INF], [2.0, 2.0, INF, 0.0], [5.0, 1.0, 1.0, 5.0]], 0),
    "rows": ([[1.0, NAN, 3.0, -INF], [2.0, 2.0, INF, 0.0], [5.0, 1.0, 1.0, 5.0]], 1),
    "0-d nan": (NAN, 0),
}


@pytest.mark.parametrize("values, dim", list(MODE_CASES.values()), ids=list(MODE_CASES))
def test_mode_with_nan(values, dim):
    agree("mode", lambda lib, x: tuple(x.mode(dim)), [torch.tensor(values)])


def test_mode_with_nan_on_random_short_rows():
    rng = random.Random(0)
    rows = [[rng.choice([NAN, 1.0, 2.0, 3.0, -1.0, INF]) for _ in range(16)] for _ in range(40)]
    x = torch.tensor(rows)
    x[::3, 8:] = NAN  # (rows of 16, some ending in NaNs; the sort is std::sort's insertion sort)
    lengths = [rng.randint(1, 16) for _ in rows]
    for length in sorted(set(lengths)):
        expected = x[:, :length].mode(1)
        actual = to_torch_pair(tritongrad.tensor(x[:, :length].tolist()).mode(1))
        torch.testing.assert_close(actual[0], expected.values, equal_nan=True)
        assert torch.equal(actual[1], expected.indices), length


def to_torch_pair(result):
    return to_torch(result[0]), to_torch(result[1])


# ---------------------------------------------------------------------------------------------
# var_mean / std_mean: their mean is Welford's, NaN after an infinity that is not last
# ---------------------------------------------------------------------------------------------

WELFORD_CASES = {
    "inf inside": lambda lib, x: lib.var_mean(x[0]),
    "inf last": lambda lib, x: lib.var_mean(x[1]),
    "two infs": lambda lib, x: lib.std_mean(x[2]),
    "columns": lambda lib, x: lib.std_mean(x, 0),
    "rows keepdim": lambda lib, x: lib.var_mean(x, 1, keepdim=True),
    "all": lambda lib, x: lib.var_mean(x),
    "two dims": lambda lib, x: lib.std_mean(x, (0, 1)),
    "transposed": lambda lib, x: lib.var_mean(x.t(), 1),
    "plain mean stays inf": lambda lib, x: x.mean(1),
}


@pytest.mark.parametrize("case", list(WELFORD_CASES.values()), ids=list(WELFORD_CASES))
def test_var_mean_mean_is_welfords(case):
    x = torch.tensor([[2.0, 2.0, INF, 0.0], [1.0, 2.0, 3.0, -INF], [INF, INF, 1.0, 1.0]])
    agree("var_mean/std_mean", case, [x])


@pytest.mark.parametrize("function", ["var_mean", "std_mean"])
def test_gradient_of_the_mean_alone_ignores_the_unused_variance(function):
    x = torch.tensor([[1.0, INF], [-INF, 2.0], [3.0, 4.0]], requires_grad=True)
    agree(f"{function} mean only", lambda lib, x: lib.autograd.grad(getattr(lib, function)(x, 0)[1].sum(), x), [x])


# ---------------------------------------------------------------------------------------------
# var/std backward without degrees of freedom: over all elements +inf (NaN at the mean)
# ---------------------------------------------------------------------------------------------

DOF_CASES = {
    "var correction=n": lambda lib, y: y.var(correction=3),
    "var correction>n": lambda lib, y: y.var(correction=4),
    "var dim correction=n": lambda lib, y: y.var(0, correction=3),
    "var dim correction>n": lambda lib, y: y.var(0, correction=4),
    "std correction=n": lambda lib, y: y.std(correction=3),
    "var_mean correction=n": lambda lib, y: lib.var_mean(y, correction=3)[0],
    "std_mean correction>n": lambda lib, y: lib.std_mean(y, correction=5)[0],
    "one element": lambda lib, y: y[:1].var(),
    "0-d": lambda lib, y: y[0].std(),
    "equal to the mean": lambda lib, y: lib.stack([y[0], y[0] * 2 - y[0]]).var(correction=2),
}


@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@pytest.mark.parametrize("case", list(DOF_CASES.values()), ids=list(DOF_CASES))
def test_variance_gradient_without_degrees_of_freedom(case):
    y = torch.tensor([1.0, 2.0, 4.0], requires_grad=True)
    agree("var backward", lambda lib, y: _gradient(lib, lambda x: case(lib, x), y), [y])


# ---------------------------------------------------------------------------------------------
# float32 sin/cos/tan: an exact argument reduction up to 3.4e38 (correctly rounded results, so
# within one float32 ulp of torch's sinf/cosf/tanf)
# ---------------------------------------------------------------------------------------------


def _ulps(actual: torch.Tensor, expected: torch.Tensor) -> int:
    same = (actual == expected) | (actual.isnan() & expected.isnan())
    distance = (actual.view(torch.int32).long() - expected.view(torch.int32).long()).abs()
    distance[same] = 0
    return int(distance.max())


def _huge_and_tiny_float32() -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    exponents = torch.arange(-149, 128, 2, dtype=torch.float64)
    mantissas = torch.rand(len(exponents), 2, generator=generator, dtype=torch.float64) * 2 - 1
    values = (mantissas * (2.0**exponents).unsqueeze(1)).flatten().float()
    special = torch.tensor([3.4e38, -3.4e38, 1e30, -1e30, 1e20, 1e15, 0.0, -0.0, 1e-45, INF, -INF, NAN, 102943.0])
    return torch.cat([values, special])


@pytest.mark.parametrize("op", ["sin", "cos", "tan"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_trigonometry_of_huge_float32(op, dtype):
    x = _huge_and_tiny_float32().to(dtype)
    expected = getattr(torch, op)(x).float()
    ours = tritongrad.tensor(x.float().tolist()).to(getattr(tritongrad, str(dtype)[6:]))
    actual = to_torch(getattr(tritongrad, op)(ours))
    assert _ulps(actual.float(), expected) <= 1
    signed_zeros = (expected == 0) & ~expected.isnan()
    assert torch.equal(actual.float()[signed_zeros].signbit(), expected[signed_zeros].signbit())


def test_trigonometry_repro():
    agree("sin/cos/tan of 1e30", lambda lib, x: (x.sin(), x.cos(), x.tan()), [torch.tensor([1e30, -1e30, 1e20])])


# ---------------------------------------------------------------------------------------------
# lgamma near its zeros at 1 and 2: relative accuracy (a series at 2)
# ---------------------------------------------------------------------------------------------

# the report's points, the zeros and their neighbours, the window's ends, the minimum of Gamma
LGAMMA_POINTS = [1.9999999999, 2.0000001, 0.9999999, 1.0, 2.0, 1.0 + 2**-40, 2.0 - 2**-45]
LGAMMA_POINTS += [0.5, 1.5, 2.5, 3.5, 1.4616321449683622]


def _lgamma_points() -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    spread = torch.rand(60, generator=generator, dtype=torch.float64) * 3.2 + 0.4
    near = torch.cat([1 + torch.randn(20, generator=generator, dtype=torch.float64) * 1e-6,
                      2 + torch.randn(20, generator=generator, dtype=torch.float64) * 1e-9])  # fmt: skip
    return torch.cat([torch.tensor(LGAMMA_POINTS, dtype=torch.float64), spread, near])


def test_lgamma_float64_keeps_relative_accuracy_near_its_zeros():
    x = _lgamma_points()
    expected = torch.lgamma(x)
    actual = to_torch(tritongrad.lgamma(tritongrad.tensor(x.tolist(), dtype=tritongrad.float64)))
    relative = ((actual - expected).abs() / expected.abs().clamp_min(1e-300)).masked_fill(actual == expected, 0)
    assert float(relative.max()) < 4e-15


def test_lgamma_float32_near_its_zeros():
    x = _lgamma_points().float()
    expected = torch.lgamma(x)
    actual = to_torch(tritongrad.lgamma(tritongrad.tensor(x.tolist(), dtype=tritongrad.float32)))
    assert _ulps(actual, expected) <= 1
