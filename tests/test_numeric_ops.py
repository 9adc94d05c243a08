"""The composed numeric ops (ops/numeric.py) against torch: values, dtypes, shapes, edge values,
gradients, non-contiguous inputs and errors."""

from __future__ import annotations

import math
from functools import partial

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, make_pair, random_values, to_torch

NAN, INF = math.nan, math.inf
GRAD_DTYPES = [torch.float32, torch.float64]


def check_grads(torch_fn, tg_fn, inputs, dtype, *, rtol=None, atol=None):
    """Compares forward values and the input gradients of sum(out * w) with torch's."""
    expected_inputs = [t.detach().clone().requires_grad_(True) for t in inputs]
    got_inputs = [from_torch(t, requires_grad=True) for t in inputs]
    expected = torch_fn(*expected_inputs)
    got = tg_fn(*got_inputs)
    assert_close(got, expected, rtol=rtol, atol=atol)
    weights = random_values(tuple(expected.shape), expected.dtype, low=0.5, high=1.5)
    (expected * weights).sum().backward()
    (got * from_torch(weights)).sum().backward()
    for got_input, expected_input in zip(got_inputs, expected_inputs):
        assert_close(got_input.grad, expected_input.grad, dtype, rtol=rtol, atol=atol, what="gradient")


def check_error(torch_fn, tg_fn):
    with pytest.raises(Exception) as expected:
        torch_fn()
    with pytest.raises(type(expected.value)):
        tg_fn()


# ------------------------------------------------------------------------------ float_power
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int32, torch.int64])
@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (3, 5)])
def test_float_power_values(dtype, shape):
    expected, got = make_pair(shape, dtype, low=0.1, high=3)
    for exponent in (2, -1.5, 0.5):
        assert_close(tritongrad.float_power(got, exponent), torch.float_power(expected, exponent))
        assert_close(got.float_power(exponent), expected.float_power(exponent))
    assert_close(tritongrad.float_power(2, got), torch.float_power(2, expected))
    other_e, other_g = make_pair(shape, torch.float32, low=-2, high=2)
    assert_close(tritongrad.float_power(got, other_g), torch.float_power(expected, other_e))


@pytest.mark.parametrize("dtype", GRAD_DTYPES)
def test_float_power_grad(dtype):
    base = random_values((4, 3), dtype, low=0.5, high=2).t()
    exponent = random_values((3, 4), dtype, low=-2, high=2)
    check_grads(torch.float_power, tritongrad.float_power, [base, exponent], dtype)


def test_float_power_inplace_and_errors():
    expected = random_values((5,), torch.float64, low=0.5, high=2)
    got = from_torch(expected)
    got.float_power_(3)
    assert_close(got, expected.clone().float_power_(3))
    check_error(lambda: torch.ones(3).float_power_(2), lambda: tritongrad.ones(3).float_power_(2))
    check_error(lambda: torch.float_power(2, 3), lambda: tritongrad.float_power(2, 3))
    edge = torch.tensor([0.0, -0.0, INF, -INF, NAN, -2.0])
    assert_close(tritongrad.float_power(from_torch(edge), 0.5), torch.float_power(edge, 0.5))
    assert_close(tritongrad.float_power(from_torch(edge), -1), torch.float_power(edge, -1))


@pytest.mark.parametrize(
    "bases,exponents",
    [
        ([5.0, 10.0, 10.0, 10.0, 2.0, 0.5, 3.0, 1.5, -1.5, -2.0], [3, 2, 22, -3, 127, 1000, 40, -7, 5, 3]),
        ([10.0, 10.0, 10.0, -3.0, 7.0], [308, -308, -320, -1025, 1100]),
        ([1.1, 1.1, 0.3, 123.456], [50, -64, 17, -9]),
    ],
    ids=["exact_powers", "range_ends", "inexact_powers"],
)
def test_float64_pow_with_tensor_exponents_is_close_to_correctly_rounded(bases, exponents):
    # exp(e * log b) in float64 lost up to ~70 ulps (10 ** 22, 5 ** 3 = 124.99999999999994); whole powers
    # of exactly representable results must now be exact, the rest within a few ulps of torch's
    base, exponent = torch.tensor(bases, dtype=torch.float64), torch.tensor(exponents, dtype=torch.float64)
    expected = torch.pow(base, exponent)
    got = tritongrad.pow(from_torch(base), from_torch(exponent))
    assert_close(got, expected, rtol=4e-15, atol=0)
    assert_close(tritongrad.float_power(from_torch(base), from_torch(exponent)), torch.float_power(base, exponent),
                 rtol=4e-15, atol=0)  # fmt: skip
    for b, e, value in zip(bases, exponents, got.tolist()):
        if float(b).is_integer() and 0 < e * math.log10(abs(b)) <= 22:  # exactly representable: exact
            assert value == b**e, f"{b} ** {e}: {value!r}"


# ------------------------------------------------------------------------------ logit
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
@pytest.mark.parametrize("eps", [None, 0.1, 0.0])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_logit_values(dtype, eps, layout):
    low, high = (0.02, 0.98) if dtype.is_floating_point else (-1, 2)
    expected, got = make_pair((5, 3), dtype, layout, low=low, high=high)
    assert_close(tritongrad.logit(got, eps), torch.logit(expected, eps))
    assert_close(got.logit(eps=eps), expected.logit(eps=eps))
    edge = torch.tensor([0.0, 1.0, -0.5, 1.5, NAN, 0.5, -0.0, INF], dtype=torch.float32)
    assert_close(tritongrad.logit(from_torch(edge), eps), torch.logit(edge, eps))


@pytest.mark.parametrize("dtype", GRAD_DTYPES)
@pytest.mark.parametrize("eps", [None, 0.2])
def test_logit_grad(dtype, eps):
    x = random_values((11,), dtype, low=0.05, high=0.95)
    check_grads(lambda t: torch.logit(t, eps), lambda t: tritongrad.logit(t, eps), [x], dtype, rtol=1e-5)


def test_logit_inplace_and_errors():
    expected = random_values((6,), torch.float32, low=0.1, high=0.9)
    got = from_torch(expected)
    assert got.logit_(0.25) is got
    assert_close(got, expected.clone().logit_(0.25))
    check_error(lambda: torch.tensor([1, 2]).logit_(), lambda: tritongrad.tensor([1, 2]).logit_())


# ------------------------------------------------------------------------------ signbit
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int32, torch.int64, torch.uint8, torch.bool])
def test_signbit(dtype):
    low = 0 if dtype == torch.uint8 else -5
    expected, got = make_pair((3, 7), dtype, "sliced", low=low, high=5)
    assert_close(tritongrad.signbit(got), torch.signbit(expected))
    assert_close(got.signbit(), expected.signbit())
    if dtype.is_floating_point:
        edge = torch.tensor([0.0, -0.0, INF, -INF, NAN, -1e-30, 1e-30], dtype=dtype)
        edge = torch.cat([edge, -edge])  # (-nan has its sign bit set)
        assert_close(tritongrad.signbit(-from_torch(-edge)), torch.signbit(edge))


# ------------------------------------------------------------------------------ sinc
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.bool])
@pytest.mark.parametrize("shape", [(0,), (1,), (13,), (3, 70)])
def test_sinc_values(dtype, shape):
    expected, got = make_pair(shape, dtype, "transposed", low=-4, high=4)
    assert_close(tritongrad.sinc(got), torch.sinc(expected))
    assert_close(got.sinc(), expected.sinc())
    if dtype.is_floating_point:
        edge = torch.tensor([0.0, -0.0, 1.0, -2.0, 0.5, 1e-20, INF, -INF, NAN], dtype=dtype)
        assert_close(tritongrad.sinc(from_torch(edge)), torch.sinc(edge))


@pytest.mark.parametrize("dtype", GRAD_DTYPES)
def test_sinc_grad(dtype):
    x = random_values((17,), dtype, low=-3, high=3)
    x[3] = 0.0
    x[5] = -0.0
    check_grads(torch.sinc, tritongrad.sinc, [x], dtype, rtol=1e-5, atol=1e-5)


def test_sinc_inplace_and_errors():
    expected = random_values((6,), torch.float64)
    expected[0] = 0
    got = from_torch(expected)
    got.sinc_()
    assert_close(got, expected.clone().sinc_())
    check_error(lambda: torch.tensor([1, 2]).sinc_(), lambda: tritongrad.tensor([1, 2]).sinc_())


# ------------------------------------------------------------------------------ diff
@pytest.mark.parametrize("dtype", [torch.float32, torch.int32, torch.uint8, torch.bool])
@pytest.mark.parametrize("n, dim", [(1, -1), (2, 0), (0, 1), (4, 1), (9, 0)])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_diff_values(dtype, n, dim, layout):
    expected, got = make_pair((5, 7), dtype, layout, low=0, high=9)
    assert_close(tritongrad.diff(got, n, dim), torch.diff(expected, n, dim))
    assert_close(got.diff(n=n, dim=dim), expected.diff(n=n, dim=dim))
    extra_shape = (5, 2) if dim in (-1, 1) else (3, 7)
    extra = random_values(extra_shape, dtype, low=0, high=9)
    assert_close(
        tritongrad.diff(got, n, dim, prepend=from_torch(extra), append=from_torch(extra)),
        torch.diff(expected, n, dim, prepend=extra, append=extra),
    )


@pytest.mark.parametrize("dtype", GRAD_DTYPES)
def test_diff_grad(dtype):
    x, before = random_values((4, 9), dtype), random_values((4, 2), dtype)
    check_grads(
        lambda t, p: torch.diff(t, 2, prepend=p), lambda t, p: tritongrad.diff(t, 2, prepend=p), [x, before], dtype
    )


def test_diff_errors_and_promotion():
    x = torch.arange(6.0)
    got = from_torch(x)
    assert_close(tritongrad.diff(got, prepend=tritongrad.tensor([4, 2])), torch.diff(x, prepend=torch.tensor([4, 2])))
    check_error(lambda: torch.diff(torch.tensor(1.0)), lambda: tritongrad.diff(tritongrad.tensor(1.0)))
    check_error(lambda: torch.diff(x, n=-1), lambda: tritongrad.diff(got, n=-1))
    check_error(lambda: torch.diff(x, dim=1), lambda: tritongrad.diff(got, dim=1))
    check_error(lambda: torch.diff(x, prepend=1.0), lambda: tritongrad.diff(got, prepend=1.0))
    check_error(
        lambda: torch.diff(x, prepend=torch.ones(1, 1)), lambda: tritongrad.diff(got, prepend=tritongrad.ones(1, 1))
    )


# ------------------------------------------------------------------------------ dist
@pytest.mark.parametrize("dtype", GRAD_DTYPES)
@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 0, INF, -INF])
def test_dist(dtype, p):
    a = random_values((3, 5), dtype)
    b = random_values((5,), dtype)
    a[0, 0] = b[0] + 2
    if p == 0:
        b_e, b_g = torch.tensor([0.5, 1.0], dtype=dtype), from_torch(torch.tensor([0.5, 1.0], dtype=dtype))
        assert_close(tritongrad.dist(from_torch(a[:, :2]), b_g, p), torch.dist(a[:, :2], b_e, p))
    if p == 0:  # (torch's own backward of the 0-norm fails: values only)
        assert_close(tritongrad.dist(from_torch(a), from_torch(b), p), torch.dist(a, b, p))
    else:
        check_grads(lambda x, y: torch.dist(x, y, p), lambda x, y: tritongrad.dist(x, y, p), [a, b], dtype, rtol=1e-5)
    assert_close(from_torch(a).dist(from_torch(b), p), a.dist(b, p), rtol=1e-5)


def test_dist_errors():
    i = torch.tensor([1, 2])
    check_error(lambda: torch.dist(i, i), lambda: tritongrad.dist(from_torch(i), from_torch(i)))
    check_error(
        lambda: torch.dist(torch.ones(2), torch.ones(3)),
        lambda: tritongrad.dist(tritongrad.ones(2), tritongrad.ones(3)),
    )


# ------------------------------------------------------------------------------ gcd / lcm
@pytest.mark.parametrize("op", ["gcd", "lcm"])
@pytest.mark.parametrize("dtypes", [(torch.int64, torch.int64), (torch.int16, torch.int32)])
@pytest.mark.parametrize("shape", [(0,), (1,), (5, 9)])
def test_gcd_lcm_values(op, dtypes, shape):
    a = random_values(shape, dtypes[0], low=-60, high=60)
    b = random_values(shape[-1:], dtypes[1], low=-60, high=60)
    if a.numel():
        a.view(-1)[0], b[0] = 0, 0
    a_view = a.t() if a.dim() == 2 else a
    b_view = b if a.dim() < 2 else b[:5]  # (broadcast along the rows)
    expected = getattr(torch, op)(a_view, b_view)
    assert_close(getattr(tritongrad, op)(from_torch(a_view), from_torch(b_view)), expected)
    assert_close(getattr(from_torch(a_view), op)(from_torch(b_view)), expected)
    inplace = from_torch(a_view.clone())
    getattr(inplace, op + "_")(from_torch(b_view))
    assert_close(inplace, getattr(a_view.clone(), op + "_")(b_view))


@pytest.mark.parametrize("op", ["gcd", "lcm"])
def test_gcd_lcm_errors(op):
    f, b, i = torch.ones(2), torch.ones(2, dtype=torch.bool), torch.tensor([4, 6])
    for x in (f, b):
        check_error(partial(getattr(torch, op), x, x), partial(getattr(tritongrad, op), from_torch(x), from_torch(x)))
    check_error(lambda: getattr(torch, op)(i, 2), lambda: getattr(tritongrad, op)(from_torch(i), 2))
    check_error(lambda: getattr(torch, op)(i, f), lambda: getattr(tritongrad, op)(from_torch(i), from_torch(f)))


# ------------------------------------------------------------------------------ isin
@pytest.mark.parametrize(
    "dtypes", [(torch.int64, torch.int64), (torch.int32, torch.float32), (torch.float64, torch.int64)]
)
@pytest.mark.parametrize("shapes", [((0,), (5,)), ((7,), (0,)), ((3, 11), (13,)), ((1,), (2, 3))])
@pytest.mark.parametrize("invert", [False, True])
def test_isin(dtypes, shapes, invert):
    elements = random_values(shapes[0], dtypes[0], low=-8, high=8).round()
    tests = random_values(shapes[1], dtypes[1], low=-8, high=8).round()
    expected = torch.isin(elements, tests, invert=invert)
    assert_close(tritongrad.isin(from_torch(elements), from_torch(tests), invert=invert), expected)
    assert_close(tritongrad.isin(from_torch(elements), 3, invert=invert), torch.isin(elements, 3, invert=invert))
    assert_close(tritongrad.isin(3, from_torch(tests)), torch.isin(3, tests))


def test_isin_edges_and_errors():
    elements = torch.tensor([NAN, 0.0, -0.0, INF, -INF, 1.5])
    tests = torch.tensor([NAN, -0.0, INF, 2.0])
    assert_close(tritongrad.isin(from_torch(elements), from_torch(tests)), torch.isin(elements, tests))
    assert_close(
        tritongrad.isin(from_torch(elements.t()), from_torch(tests), assume_unique=True),
        torch.isin(elements, tests, assume_unique=True),
    )
    b = torch.ones(2, dtype=torch.bool)
    check_error(lambda: torch.isin(b, b), lambda: tritongrad.isin(from_torch(b), from_torch(b)))
    check_error(lambda: torch.isin(3, 4), lambda: tritongrad.isin(3, 4))


# ------------------------------------------------------------------------------ bucketize / searchsorted
@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("out_int32", [False, True])
@pytest.mark.parametrize(
    "dtypes", [(torch.float32, torch.float32), (torch.int64, torch.float64), (torch.float32, torch.int32)]
)
@pytest.mark.parametrize("shape", [(0,), (1,), (5, 3)])
def test_bucketize(right, out_int32, dtypes, shape):
    values = random_values(shape, dtypes[0], low=-6, high=6)
    boundaries = torch.sort(random_values((7,), dtypes[1], low=-5, high=5)).values
    if values.numel():
        values.view(-1)[0] = boundaries[2]  # a tie
    expected = torch.bucketize(values, boundaries, out_int32=out_int32, right=right)
    assert_close(tritongrad.bucketize(from_torch(values), from_torch(boundaries), out_int32=out_int32, right=right),
                 expected)  # fmt: skip
    assert_close(
        tritongrad.bucketize(2, from_torch(boundaries), right=right), torch.bucketize(2, boundaries, right=right)
    )
    assert_close(
        tritongrad.bucketize(from_torch(values), from_torch(boundaries[:0])), torch.bucketize(values, boundaries[:0])
    )


def test_bucketize_edges_and_errors():
    values = torch.tensor([NAN, INF, -INF, 0.0, -0.0, 1.0])
    boundaries = torch.tensor([-INF, -1.0, 0.0, 1.0, 1.0, INF])
    for right in (False, True):
        assert_close(
            tritongrad.bucketize(from_torch(values), from_torch(boundaries), right=right),
            torch.bucketize(values, boundaries, right=right),
        )
    for bad in (torch.ones(2, 2), torch.tensor(1.0)):
        check_error(
            partial(torch.bucketize, values, bad), partial(tritongrad.bucketize, from_torch(values), from_torch(bad))
        )


@pytest.mark.parametrize("side", [None, "left", "right"])
@pytest.mark.parametrize("shapes", [((9,), (4, 5)), ((3, 8), (3, 5)), ((2, 3, 6), (2, 3, 1)), ((1,), (0,))])
@pytest.mark.parametrize("with_sorter", [False, True])
def test_searchsorted(side, shapes, with_sorter):
    sequence = random_values(shapes[0], torch.float32)
    values = random_values(shapes[1], torch.float32, low=-4, high=4)
    if values.numel():
        values.view(-1)[0] = sequence.view(-1)[0]
    sorter = torch.argsort(sequence, dim=-1) if with_sorter else None
    sorted_sequence = sequence if with_sorter else torch.sort(sequence).values
    expected = torch.searchsorted(sorted_sequence, values, side=side, sorter=sorter)
    got = tritongrad.searchsorted(
        from_torch(sorted_sequence),
        from_torch(values),
        side=side,
        sorter=None if sorter is None else from_torch(sorter),
    )
    assert_close(got, expected)
    if len(shapes[0]) == 1:
        assert_close(
            tritongrad.searchsorted(from_torch(sorted_sequence.sort().values), 0.5, right=True, out_int32=True),
            torch.searchsorted(sorted_sequence.sort().values, 0.5, right=True, out_int32=True),
        )


def test_searchsorted_errors():
    f = torch.tensor([1.0, 2.0])
    g = from_torch(f)
    cases = [
        ((torch.ones(2, 2), 3), (tritongrad.ones(2, 2), 3), {}),
        ((torch.ones(2, 3), torch.ones(3, 3)), (tritongrad.ones(2, 3), tritongrad.ones(3, 3)), {}),
        ((torch.ones(2, 3), torch.ones(2)), (tritongrad.ones(2, 3), tritongrad.ones(2)), {}),
        ((torch.tensor(1.0), f), (tritongrad.tensor(1.0), g), {}),
        ((f, f), (g, g), {"side": "left", "right": True}),
        ((f, f), (g, g), {"side": "middle"}),
        ((torch.ones(2, dtype=torch.bool), True), (tritongrad.ones(2, dtype=torch.bool), True), {}),
        ((torch.ones(2, dtype=torch.bool), f > 1), (tritongrad.ones(2, dtype=torch.bool), g > 1), {}),
    ]
    for torch_args, tg_args, kwargs in cases:
        check_error(
            partial(torch.searchsorted, *torch_args, **kwargs), partial(tritongrad.searchsorted, *tg_args, **kwargs)
        )
    for sorter in (torch.tensor([0, 1], dtype=torch.int32), torch.tensor([0, 1, 2]), torch.tensor([0, 5])):
        check_error(
            partial(torch.searchsorted, f, f, sorter=sorter),
            partial(tritongrad.searchsorted, g, g, sorter=from_torch(sorter)),
        )


# ------------------------------------------------------------------------------ logcumsumexp
@pytest.mark.parametrize("dtype", GRAD_DTYPES)
@pytest.mark.parametrize("shape, dim", [((0,), 0), ((1,), 0), ((37,), -1), ((6, 11), 0), ((5, 300), 1)])
def test_logcumsumexp_values(dtype, shape, dim):
    expected, got = make_pair(shape, dtype, "sliced", low=-40, high=40)
    assert_close(tritongrad.logcumsumexp(got, dim), torch.logcumsumexp(expected, dim), rtol=1e-5)
    assert_close(got.logcumsumexp(dim), expected.logcumsumexp(dim), rtol=1e-5)


@pytest.mark.parametrize("dtype", GRAD_DTYPES)
def test_logcumsumexp_edges(dtype):
    rows = torch.tensor(
        [
            [-INF, -INF, 0.0, -INF, 3.0],
            [1.0, INF, 2.0, -INF, 5.0],
            [-1000.0, 0.0, -2000.0, 80.0, 100.0],
            [1.0, NAN, 2.0, 3.0, 4.0],
            [-INF, -INF, -INF, -INF, -INF],
            [INF, -INF, INF, 1.0, 2.0],
            [-INF, -100.0, -INF, -200.0, 500.0],
        ],
        dtype=dtype,
    )
    assert_close(tritongrad.logcumsumexp(from_torch(rows), 1), torch.logcumsumexp(rows, 1))
    assert_close(tritongrad.logcumsumexp(from_torch(torch.tensor(2.5, dtype=dtype)), 0), torch.tensor(2.5, dtype=dtype))


@pytest.mark.parametrize("dtype", GRAD_DTYPES)
def test_logcumsumexp_grad(dtype):
    x = random_values((4, 9), dtype, low=-5, high=5).t()
    check_grads(lambda t: torch.logcumsumexp(t, 0), lambda t: tritongrad.logcumsumexp(t, 0), [x], dtype, rtol=1e-5)


def test_logcumsumexp_errors():
    for bad in (torch.tensor([1, 2]), torch.tensor([True])):
        check_error(partial(torch.logcumsumexp, bad, 0), partial(tritongrad.logcumsumexp, from_torch(bad), 0))
    check_error(lambda: torch.logcumsumexp(torch.ones(2), 1), lambda: tritongrad.logcumsumexp(tritongrad.ones(2), 1))


# ------------------------------------------------------------------------------ trapezoid
@pytest.mark.parametrize(
    "name, dtype",
    [
        ("trapezoid", torch.float32),
        ("trapz", torch.float64),
        ("trapezoid", torch.int64),
        ("cumulative_trapezoid", torch.float32),
        ("cumulative_trapezoid", torch.int64),
    ],
)
@pytest.mark.parametrize("shape, dim", [((1,), 0), ((7,), -1), ((4, 6), 0), ((3, 5), 1), ((3, 0), 1), ((0, 4), 1)])
def test_trapezoid_values(name, dtype, shape, dim):
    y = random_values(shape, dtype, low=-5, high=5)
    expected_fn, got_fn = getattr(torch, name), getattr(tritongrad, name)
    assert_close(got_fn(from_torch(y), dim=dim), expected_fn(y, dim=dim), rtol=1e-5)
    assert_close(got_fn(from_torch(y), dx=0.25, dim=dim), expected_fn(y, dx=0.25, dim=dim), rtol=1e-5)
    x1 = torch.sort(random_values((shape[dim],), dtype, low=-5, high=5)).values
    assert_close(got_fn(from_torch(y), from_torch(x1), dim=dim), expected_fn(y, x1, dim=dim), rtol=1e-5)
    xn = random_values(shape, torch.float32)
    assert_close(got_fn(from_torch(y), from_torch(xn), dim=dim), expected_fn(y, xn, dim=dim), rtol=1e-5)


@pytest.mark.parametrize("name", ["trapezoid", "cumulative_trapezoid"])
@pytest.mark.parametrize("dtype", GRAD_DTYPES)
def test_trapezoid_grad(name, dtype):
    expected_fn, got_fn = getattr(torch, name), getattr(tritongrad, name)
    y, x = random_values((5, 4), dtype).t(), random_values((5,), dtype)
    check_grads(lambda a, b: expected_fn(a, b, dim=1), lambda a, b: got_fn(a, b, dim=1), [y, x], dtype)
    check_grads(lambda a: expected_fn(a, dx=0.5), lambda a: got_fn(a, dx=0.5), [y], dtype)


@pytest.mark.parametrize("name", ["trapezoid", "cumulative_trapezoid"])
def test_trapezoid_errors(name):
    expected_fn, got_fn = getattr(torch, name), getattr(tritongrad, name)
    y = torch.ones(2, 3)
    g = tritongrad.ones(2, 3)
    check_error(lambda: expected_fn(torch.tensor(1.0)), lambda: got_fn(tritongrad.tensor(1.0)))
    check_error(lambda: expected_fn(y, 2.0), lambda: got_fn(g, 2.0))
    check_error(lambda: expected_fn(y, torch.ones(3), dx=2), lambda: got_fn(g, tritongrad.ones(3), dx=2))
    check_error(lambda: expected_fn(y, torch.ones(2)), lambda: got_fn(g, tritongrad.ones(2)))
    check_error(lambda: expected_fn(y, dim=2), lambda: got_fn(g, dim=2))


# ------------------------------------------------------------------------------ vander
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int32, torch.int64, torch.bool])
@pytest.mark.parametrize("n", [None, 0, 1, 5])
@pytest.mark.parametrize("increasing", [False, True])
def test_vander_values(dtype, n, increasing):
    x = random_values((7,), dtype, low=-3, high=3)[::2]
    assert_close(tritongrad.vander(from_torch(x), n, increasing), torch.vander(x, n, increasing))
    assert_close(tritongrad.vander(from_torch(x[:0]), n), torch.vander(x[:0], n))


@pytest.mark.parametrize("dtype", GRAD_DTYPES)
def test_vander_grad(dtype):
    x = random_values((6,), dtype, low=-2, high=2)
    x[2] = 0.0

    def reference(t):  # torch.vander's own backward fails (it writes its cumprod in place): the same formula
        powers = torch.cumprod(t.unsqueeze(1).expand(t.shape[0], 3), 1)
        return torch.cat([torch.ones(t.shape[0], 1, dtype=t.dtype), powers], 1).flip(1)

    assert_close(reference(x), torch.vander(x, 4))
    check_grads(reference, lambda t: tritongrad.vander(t, 4), [x], dtype, rtol=1e-5)


def test_vander_errors():
    check_error(lambda: torch.vander(torch.ones(2), -1), lambda: tritongrad.vander(tritongrad.ones(2), -1))
    for shape in ((2, 2), ()):
        check_error(partial(torch.vander, torch.ones(shape)), partial(tritongrad.vander, tritongrad.ones(shape)))


# ------------------------------------------------------------------------------ quantile / nanquantile
INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("q, dim, keepdim", [(0.37, None, True), ("tensor", 1, False), ("scalar_tensor", 0, True)])
def test_quantile_values(name, interpolation, q, dim, keepdim):
    x = random_values((5, 7), torch.float64).t()
    x[1, 2] = NAN
    x[3] = NAN
    x[4, 0] = x[4, 1]
    q_values = {
        0.37: (0.37, 0.37),
        "tensor": (torch.tensor([0.0, 0.25, 0.5, 0.9, 1.0], dtype=torch.float64),) * 2,
        "scalar_tensor": (torch.tensor(0.5, dtype=torch.float64),) * 2,
    }[q]
    expected = getattr(torch, name)(x, q_values[0], dim, keepdim, interpolation=interpolation)
    q_got = from_torch(q_values[1]) if isinstance(q_values[1], torch.Tensor) else q_values[1]
    got = getattr(tritongrad, name)(from_torch(x), q_got, dim, keepdim, interpolation=interpolation)
    assert_close(got, expected)
    assert_close(getattr(from_torch(x), name)(q_got, dim=dim, keepdim=keepdim, interpolation=interpolation), expected)


@pytest.mark.parametrize("shape", [(), (1,), (2, 1, 3)])
def test_quantile_shapes(shape):
    x = random_values(shape, torch.float32)
    q = torch.tensor([0.2, 0.8])
    for dim in [None, 0, -1] if shape else [None, 0]:
        for keepdim in (False, True):
            assert_close(
                tritongrad.quantile(from_torch(x), from_torch(q), dim, keepdim), torch.quantile(x, q, dim, keepdim)
            )


@pytest.mark.parametrize("dtype", GRAD_DTYPES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_quantile_grad(dtype, interpolation):
    x = random_values((4, 6), dtype)
    q = torch.tensor([0.1, 0.5, 0.75], dtype=dtype)
    check_grads(
        lambda t: torch.quantile(t, q, 1, interpolation=interpolation),
        lambda t: tritongrad.quantile(t, from_torch(q), 1, interpolation=interpolation),
        [x],
        dtype,
    )
    x[0, 2] = NAN
    check_grads(
        lambda t: torch.nanquantile(t, 0.3, interpolation=interpolation),
        lambda t: tritongrad.nanquantile(t, 0.3, interpolation=interpolation),
        [x],
        dtype,
    )


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_errors(name):
    f = torch.tensor([1.0, 2.0])
    cases = [
        (torch.tensor([1, 2]), 0.5, {}),
        (f.half(), 0.5, {}),
        (f, 1.5, {}),
        (f, -0.1, {}),
        (f, torch.tensor([0.5, 2.0]), {}),
        (f, torch.ones(2, 2) * 0.5, {}),
        (f, torch.tensor([0.5], dtype=torch.float64), {}),
        (f, 0.5, {"interpolation": "foo"}),
        (torch.ones(0), 0.5, {}),
        (torch.ones(2, 0), 0.5, {"dim": 0}),
        (f, 0.5, {"dim": 3}),
        (f, [0.5], {}),
    ]
    for x, q, kwargs in cases:
        q_got = from_torch(q) if isinstance(q, torch.Tensor) else q
        check_error(
            partial(getattr(torch, name), x, q, **kwargs),
            partial(getattr(tritongrad, name), from_torch(x), q_got, **kwargs),
        )


# ------------------------------------------------------------------------------ logspace
@pytest.mark.parametrize("dtype", [None, torch.float32, torch.float64])
@pytest.mark.parametrize("start, end, steps, base", [(0, 2, 3, 10.0), (-2.5, 3.0, 11, 10.0), (1, -1, 7, 2.0),
                                                     (3, 3, 1, 10.0), (0, 1, 0, 10.0), (-1, 4, 101, 1.5)])  # fmt: skip
def test_logspace(dtype, start, end, steps, base):
    expected = torch.logspace(start, end, steps, base, dtype=dtype)
    assert_close(tritongrad.logspace(start, end, steps, base, dtype=dtype), expected, rtol=4e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.int64])
@pytest.mark.parametrize("start, end, steps, base", [(-4, -1, 10, 10.0), (0, 3, 1, 10.0), (2, 0, 5, 2.0),
                                                     (-2.5, 3.7, 33, 10.0), (0, 2, 3, 3.0)])  # fmt: skip
def test_logspace_equals_torchs_kernel_bit_for_bit(dtype, start, end, steps, base):
    # (torch's CPU kernel: start, end and their difference in the dtype, exponents in float64; one step
    # is base ** start, which tritongrad once gave as base ** end)
    expected = torch.logspace(start, end, steps, base, dtype=dtype)
    got = tritongrad.logspace(start, end, steps, base, dtype=dtype)
    assert torch.equal(to_torch(got), expected), (to_torch(got).tolist(), expected.tolist())


def test_logspace_int_grad_and_errors():
    assert_close(tritongrad.logspace(0, 3, 4, dtype=torch.int64), torch.logspace(0, 3, 4, dtype=torch.int64))
    assert_close(tritongrad.logspace(0, 4, 5, 2, dtype=torch.int32), torch.logspace(0, 4, 5, 2, dtype=torch.int32))
    result = tritongrad.logspace(tritongrad.tensor(0.0), 2, 3, requires_grad=True)
    assert result.requires_grad and result.is_leaf
    assert_close(result, torch.logspace(0, 2, 3))
    check_error(lambda: torch.logspace(0, 2, -1), lambda: tritongrad.logspace(0, 2, -1))
    check_error(lambda: torch.logspace(0, 2, 2.5), lambda: tritongrad.logspace(0, 2, 2.5))
    check_error(
        lambda: torch.logspace(0, 2, 3, dtype=torch.int64, requires_grad=True),
        lambda: tritongrad.logspace(0, 2, 3, dtype=torch.int64, requires_grad=True),
    )


def test_names_are_torch_functions_and_methods():
    for name in ("float_power", "logit", "signbit", "sinc", "diff", "dist", "gcd", "lcm", "logcumsumexp", "quantile",
                 "nanquantile", "float_power_", "logit_", "sinc_", "gcd_", "lcm_"):  # fmt: skip
        assert hasattr(tritongrad.Tensor, name) and hasattr(torch.Tensor, name)
    for name in ("isin", "bucketize", "searchsorted", "trapezoid", "trapz", "vander", "logspace", "logit_", "sinc_"):
        assert hasattr(tritongrad, name) and hasattr(torch, name)
    assert to_torch(tritongrad.trapz(tritongrad.ones(3))).item() == 2.0


SPECIAL = ["expit", "erf", "erfc", "erfinv", "expm1", "exp2", "log1p", "logit", "sinc", "ndtr", "log_ndtr", "entr"]


@pytest.mark.parametrize("name", SPECIAL)
def test_special_namespace_matches_torch(name):
    """tritongrad.special: torch.special's names, values and gradients (NaN, 0 and the tails included)."""
    values = torch.tensor([-8.0, -3.0, -0.5, 0.0, 0.3, 0.7, 2.0, float("nan")], dtype=torch.float64)
    if name in ("erfinv", "logit"):
        values = torch.tensor([0.0, 0.1, 0.5, 0.9, 0.99, float("nan")], dtype=torch.float64)
    reference = values.clone().requires_grad_()
    ours = tritongrad.tensor(values.tolist(), dtype=torch.float64, requires_grad=True)
    expected = getattr(torch.special, name)(reference)
    got = getattr(tritongrad.special, name)(ours)
    assert torch.allclose(torch.tensor(got.tolist(), dtype=torch.float64), expected.detach(), rtol=1e-9,
                          atol=1e-12, equal_nan=True), (name, got.tolist(), expected.tolist())  # fmt: skip
    finite = torch.isfinite(expected).tolist()
    weights = [1.0 if keep else 0.0 for keep in finite]
    (expected * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    (got * tritongrad.tensor(weights, dtype=torch.float64)).sum().backward()
    got_grad, expected_grad = torch.tensor(ours.grad.tolist(), dtype=torch.float64), reference.grad
    if name == "entr":  # (its gradient is compared where entr is smooth: torch's formula runs on at x <= 0)
        got_grad, expected_grad = got_grad[values > 0], expected_grad[values > 0]
    assert torch.allclose(got_grad, expected_grad, rtol=1e-9, atol=1e-12, equal_nan=True), (
        name,
        got_grad.tolist(),
        expected_grad.tolist(),
    )


def test_special_xlog1py_matches_torch():
    x = torch.tensor([0.0, 0.0, 1.5, -2.0, 3.0], dtype=torch.float64)
    y = torch.tensor([float("nan"), 2.0, 0.5, 1.0, -0.5], dtype=torch.float64)
    got = tritongrad.special.xlog1py(tritongrad.tensor(x.tolist(), dtype=torch.float64),
                                      tritongrad.tensor(y.tolist(), dtype=torch.float64))  # fmt: skip
    assert torch.allclose(torch.tensor(got.tolist(), dtype=torch.float64), torch.special.xlog1py(x, y),
                          equal_nan=True)  # fmt: skip
