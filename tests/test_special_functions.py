"""tritongrad.special against torch.special: every function over a grid of values that reaches its
tails, poles and special values (0, +-inf, NaN), in float32 and float64 (and the half types where
torch takes them); gradients against torch.autograd (edge points included) and float64 gradcheck;
out=, Python numbers, integer promotion and torch's refusals; each red-team repro as its own case.

Where torch is the less accurate side (checked against mpmath): its gammainc/gammaincc in the
a ~ x asymptotic regime (20 < a < 200, about 1e-9 relative) and for a < 1e-5 (up to 3e-7); its
float32 incomplete gamma for large a; its erfcx below -5 (2 exp(x * x) rounds x * x). There the
comparison is with mpmath, and torch's own error bounds the comparison with torch.
"""

from __future__ import annotations

import math

import mpmath
import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, to_torch
from tritongrad.autograd import gradcheck

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

inf, nan = math.inf, math.nan
GRID = [0.0, -0.0, inf, -inf, nan, 1e-300, 1e-30, 1e-8, 0.1, 0.5, 0.9, 1.0, 1.25, 2.0, 3.0, 5.0, 7.9, 8.0, 8.1,
        10.0, 20.0, 24.9, 25.0, 25.1, 30.0, 50.0, 100.0, 700.0, 1e5, 1e10, 1e200, -1e-8, -0.5, -1.0, -2.0,
        -5.0, -8.0, -20.0, -26.0, -26.6, -27.0, -30.0, -100.0, -1e10]  # fmt: skip
PROBABILITIES = [0.0, 1.0, 0.5, 1e-300, 5e-324, 1e-100, 1e-20, 1.3e-14, 1e-5, 0.1, 0.1353, 0.14, 0.3, 0.7,
                 0.86, 0.8647, 0.9, 0.999, 1 - 1e-10, 1 - 1e-15, -0.1, 1.1, nan, inf]  # fmt: skip

# function: (values, dtypes torch takes besides float32/float64)
UNARY = {
    "erfcx": (GRID, ()),
    "log_ndtr": (GRID + [-1e3, -1e150, -1e155], ()),
    "ndtri": (PROBABILITIES, ()),
    "ndtr": (GRID, (torch.float16, torch.bfloat16)),
    "i0": (GRID + [709.0, 713.0], (torch.float16, torch.bfloat16)),
    "i0e": (GRID, (torch.float16, torch.bfloat16)),
    "i1": (GRID, (torch.float16, torch.bfloat16)),
    "i1e": (GRID, (torch.float16, torch.bfloat16)),
    "modified_bessel_i0": (GRID, ()),
    "modified_bessel_i1": (GRID, ()),
    "spherical_bessel_j0": (GRID, ()),
    "entr": (GRID, (torch.float16, torch.bfloat16)),
    "logit": (PROBABILITIES + [-0.0, -inf], (torch.float16, torch.bfloat16)),
    "erfinv": (PROBABILITIES + [-(1 - 1e-15), -1.0, 1 - 2**-53, -(1 - 2**-53)], (torch.float16, torch.bfloat16)),
}
HALF = (torch.float16, torch.bfloat16)


def special(lib, name):
    return getattr(lib.special, name)


def values(xs, dtype):
    return torch.tensor(xs, dtype=torch.float64).to(dtype)


def check_against(got, expected, dtype, what, rtol=None):
    """Relative comparison at one float64 rounding (1e-13 relative: the Cephes/fdlibm fits are good
    to a few ulp; float32 results are float64 ones rounded once)."""
    tolerances = {torch.float64: (1e-13, 1e-300), torch.float32: (1.3e-6, 1e-37)}.get(dtype)
    assert_close(got, expected, tolerances=tolerances, rtol=rtol, what=what)


# ------------------------------------------------------------------------------------------------
# Forward values
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_values_against_torch(name, dtype):
    xs, _ = UNARY[name]
    x = values(xs, dtype)
    expected = special(torch, name)(x)
    got = special(tritongrad, name)(from_torch(x))
    rtol = None
    if name == "erfcx":
        # torch forms 2 exp(x * x) with x * x rounded (1e-14 relative at x = -26): compared apart below
        keep = x > -5
        expected, got = expected[keep], to_torch(got)[keep]
    if name == "log_ndtr" and dtype == torch.float32:
        rtol = 3e-6  # torch's float32 erfc (in log1p(-erfc(t) / 2) for x ~ 8) is a few ulp off
    check_against(got, expected, dtype, f"special.{name} ({dtype})", rtol=rtol)


def test_erfcx_negative_arguments_against_mpmath():
    """Below -5 erfcx is 2 exp(x^2) - erfcx(-x): tritongrad forms exp(x^2) without rounding x^2, torch
    rounds it first (5e-14 relative at x = -26.6); both against mpmath."""
    xs = [-5.5, -8.3, -12.7, -20.1, -26.0, -26.6]
    got = to_torch(tritongrad.special.erfcx(from_torch(values(xs, torch.float64)))).tolist()
    with mpmath.workdps(40):
        exact = [float(mpmath.exp(mpmath.mpf(x) ** 2) * mpmath.erfc(x)) for x in xs]
    assert_close(got, exact, tolerances=(1e-15, 0.0), float64_reference=True, what="erfcx vs mpmath")
    assert_close(
        got, torch.special.erfcx(values(xs, torch.float64)), rtol=2e-13, float64_reference=True, what="erfcx vs torch"
    )


@pytest.mark.parametrize("name", [name for name, (_, extra) in UNARY.items() if extra])
def test_half_types(name):
    xs, _ = UNARY[name]
    for dtype in HALF:
        x = values([v for v in xs if abs(v) < 60000 or not math.isfinite(v)], dtype)
        expected = special(torch, name)(x)
        assert_close(special(tritongrad, name)(from_torch(x)), expected, what=f"special.{name} ({dtype})")


@pytest.mark.parametrize("name", [name for name, (_, extra) in UNARY.items() if not extra and name != "logit"])
def test_half_types_refused_like_torch(name):
    for dtype in HALF:
        x = torch.ones(3, dtype=dtype)
        with pytest.raises(NotImplementedError) as expected:
            special(torch, name)(x)
        with pytest.raises(NotImplementedError) as got:
            special(tritongrad, name)(from_torch(x))
        assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("name", ["erfcx", "i0", "i1e", "ndtri", "entr", "log_ndtr", "spherical_bessel_j0"])
def test_integer_inputs_promote_like_torch(name):
    for dtype in (torch.int64, torch.bool):
        x = torch.tensor([0, 1, 1]).to(dtype)
        expected = special(torch, name)(x)
        assert_close(special(tritongrad, name)(from_torch(x)), expected, what=f"special.{name}({dtype})")


def test_layouts_and_shapes():
    """A transposed input, an empty one and a 0-d one through a new kernel."""
    x = torch.rand(6, 5, dtype=torch.float64).t() * 10 - 5
    for name in ("erfcx", "i1", "log_ndtr"):
        assert_close(special(tritongrad, name)(from_torch(x)), special(torch, name)(x), tolerances=(1e-13, 0))
        for shape in ((0,), (), (3, 0)):
            empty = torch.rand(shape, dtype=torch.float32)
            assert_close(special(tritongrad, name)(from_torch(empty)), special(torch, name)(empty))


# ---- gammainc / gammaincc


def incomplete_gamma_grid(dtype):
    a_values = [0.0, 1e-10, 1e-3, 0.1, 0.5, 1.0, 1.5, 2.0, 5.0, 9.5, 10.0, 15.0, 30.0, 100.0, 250.0, 1e3, 1e4, inf,
                nan, -1.0]  # fmt: skip
    x_values = [0.0, 1e-300, 1e-10, 1e-3, 0.1, 0.5, 0.8, 1.0, 1.05, 1.1, 1.5, 2.0, 5.0, 9.0, 11.0, 25.0, 30.0, 90.0,
                140.0, 260.0, 700.0, 1100.0, 1.1e4, 1e6, inf, nan, -1.0]  # fmt: skip
    a = values(a_values, dtype).repeat_interleave(len(x_values))
    x = values(x_values, dtype).repeat(len(a_values))
    return a, x


def torch_is_less_accurate(a, x):
    """Where torch's float64 incomplete gamma is off by more than 1e-13 (see the module docstring)."""
    ratio = (x - a).abs() / a
    asymptotic = ((a > 20) & (a < 200) & (ratio < 0.3)) | ((a > 200) & (ratio < 4.5 / a.sqrt()))
    return asymptotic | (a < 1e-5)


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_incomplete_gamma_against_torch(name):
    a, x = incomplete_gamma_grid(torch.float64)
    got = to_torch(special(tritongrad, name)(from_torch(a), from_torch(x)))
    expected = special(torch, name)(a, x)
    loose = torch_is_less_accurate(a, x)
    # 1e-12: the factor x^a exp(-x) / Gamma(a) is an exp of an exponent up to ~1e3 in size here,
    # whose rounding (~|exponent| 2^-53) both libraries carry, each its own way
    check_against(got[~loose], expected[~loose], torch.float64, f"{name} float64", rtol=1e-12)
    assert_close(got[loose], expected[loose], tolerances=(1e-6, 1e-300), what=f"{name} where torch is looser")
    # float32: against torch's float64 values rounded (torch's float32 loses ~1e-4 for large a)
    a32, x32 = a.float(), x.float()
    got32 = special(tritongrad, name)(from_torch(a32), from_torch(x32))
    reference = special(torch, name)(a32.double(), x32.double())
    assert_close(got32, reference.float(), tolerances=(2e-6, 1e-37), what=f"{name} float32")


def test_incomplete_gamma_against_mpmath_where_torch_is_looser():
    cases = [(30.0, 25.0), (30.0, 30.0), (199.0, 140.0), (100.0, 110.0), (1e-10, 0.5), (1e-10, 1.1), (1e-3, 0.8),
             (1e4, 1.01e4), (1e4, 9.9e3)]  # fmt: skip
    a = values([case[0] for case in cases], torch.float64)
    x = values([case[1] for case in cases], torch.float64)
    lower = to_torch(tritongrad.special.gammainc(from_torch(a), from_torch(x))).tolist()
    upper = to_torch(tritongrad.special.gammaincc(from_torch(a), from_torch(x))).tolist()
    with mpmath.workdps(40):
        exact_lower = [float(mpmath.gammainc(ai, 0, xi, regularized=True)) for ai, xi in cases]
        exact_upper = [float(mpmath.gammainc(ai, xi, mpmath.inf, regularized=True)) for ai, xi in cases]
    assert_close(lower, exact_lower, tolerances=(5e-14, 0.0), float64_reference=True, what="gammainc vs mpmath")
    assert_close(upper, exact_upper, tolerances=(5e-14, 0.0), float64_reference=True, what="gammaincc vs mpmath")


def test_incomplete_gamma_dtypes_and_methods():
    a, x = torch.tensor([0.5, 2.0, 7.0]), torch.tensor([1.0, 2.5, 3.0])
    for dtype in HALF:
        got = tritongrad.special.gammainc(from_torch(a.to(dtype)), from_torch(x.to(dtype)))
        assert_close(got, torch.special.gammainc(a.to(dtype), x.to(dtype)))
    # mixed dtypes promote; integers are refused like torch's igamma kernel
    assert_close(tritongrad.igamma(from_torch(a), from_torch(x.double())), torch.igamma(a, x.double()))
    for lib, wrap in ((torch, lambda t: t), (tritongrad, from_torch)):
        with pytest.raises(NotImplementedError, match="\"igamma_cpu\" not implemented for 'Long'"):
            lib.special.gammainc(wrap(torch.tensor([1, 2])), wrap(torch.tensor([1, 2])))
        with pytest.raises(TypeError):
            lib.special.gammainc(wrap(a), 2.0)
    assert_close(from_torch(a).igammac(from_torch(x)), a.igammac(x))
    mine, theirs = from_torch(a.clone()), a.clone()
    assert mine.igamma_(from_torch(x)) is mine
    assert_close(mine, theirs.igamma_(x))


# ------------------------------------------------------------------------------------------------
# Gradients
# ------------------------------------------------------------------------------------------------

DIFFERENTIABLE = ["erfcx", "log_ndtr", "ndtri", "i0", "i0e", "i1", "i1e", "entr", "logit", "ndtr", "erfinv"]
GRADIENT_POINTS = {
    "ndtri": [1e-300, 1e-10, 0.1, 0.5, 0.9, 0.0, 1.0, nan],
    "logit": [0.0, 1.0, 0.5, 0.2, -0.1, 1.1, nan, -0.0],
    "erfinv": [0.0, 0.5, -0.9, 1 - 1e-10],
    "entr": [0.0, 0.5, 2.0, -1.0, inf, -inf, nan],
}
DEFAULT_POINTS = [-40.0, -30.0, -10.0, -9.0, -6.0, -1.5, -1e-20, 0.0, 0.3, 2.0, 8.5, 30.0, 800.0, inf, -inf, nan]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradient_against_torch(name, dtype):
    xs = GRADIENT_POINTS.get(name, DEFAULT_POINTS)
    x = values(xs, dtype).requires_grad_()
    tg_x = from_torch(x.detach(), requires_grad=True)
    weight = torch.linspace(0.5, 1.5, len(xs), dtype=dtype)
    result = special(torch, name)(x)
    (result * weight).sum().backward()
    tg_result = special(tritongrad, name)(tg_x)
    (tg_result * from_torch(weight)).sum().backward()
    if name != "ndtr":  # (torch's ndtr ends in a multiplication by a number, MulBackward1; tritongrad's MulBackward0)
        assert tg_result.grad_fn.name() == result.grad_fn.name()
    # float32: log_ndtr's exp(-(out + x^2 / 2)) and i0e/i1e's i1e - sgn(x) out cancel, so torch's
    # float32 result (its out a few ulp off) and tritongrad's (its out the rounded float64 value)
    # differ by a few float32 ulp of the terms, not of the difference
    rtol = 1e-12 if dtype == torch.float64 else (1e-5 if name in ("log_ndtr", "i0e", "i1e") else None)
    check_against(tg_x.grad, x.grad, dtype, f"d special.{name} ({dtype})", rtol=rtol)


@pytest.mark.parametrize("name", DIFFERENTIABLE + ["xlog1py", "gammainc", "gammaincc"])
def test_gradcheck_float64(name):
    if name in ("xlog1py", "gammainc", "gammaincc"):
        a = from_torch(torch.tensor([0.7, 1.5, 3.0], dtype=torch.float64), requires_grad=name == "xlog1py")
        b = from_torch(torch.tensor([0.4, 2.0, 2.5], dtype=torch.float64), requires_grad=True)
        assert gradcheck(special(tritongrad, name), (a, b), eps=1e-6, atol=1e-6)
        return
    x = torch.tensor([0.15, 0.4, 0.8], dtype=torch.float64)
    if name not in ("ndtri", "logit", "erfinv", "entr"):
        x = x * 6 - 2.5
    assert gradcheck(special(tritongrad, name), (from_torch(x, requires_grad=True),), eps=1e-6, atol=1e-6)


def test_second_derivatives():
    x = torch.tensor([-3.0, 0.4, 2.0], dtype=torch.float64, requires_grad=True)
    tg_x = from_torch(x.detach(), requires_grad=True)
    for name in ("erfcx", "log_ndtr", "i1"):
        (first,) = torch.autograd.grad(special(torch, name)(x).sum(), x, create_graph=True)
        (tg_first,) = tritongrad.autograd.grad(special(tritongrad, name)(tg_x).sum(), tg_x, create_graph=True)
        (second,) = torch.autograd.grad(first.sum(), x)
        (tg_second,) = tritongrad.autograd.grad(tg_first.sum(), tg_x)
        assert_close(tg_second, second, tolerances=(1e-12, 1e-14), what=f"d2 {name}")


def test_no_gradient_where_torch_has_none():
    for name in ("modified_bessel_i0", "modified_bessel_i1", "spherical_bessel_j0"):
        x = from_torch(torch.tensor([0.5, 1.5]), requires_grad=True)
        result = special(tritongrad, name)(x)
        assert result.grad_fn is None and not result.requires_grad
    a = from_torch(torch.tensor([1.0, 2.0]), requires_grad=True)
    b = from_torch(torch.tensor([1.0, 3.0]), requires_grad=True)
    for name, node in (("gammainc", "igamma"), ("gammaincc", "igammac")):
        with pytest.raises(NotImplementedError, match=f"the derivative for '{node}: input' is not implemented"):
            special(tritongrad, name)(a, b).sum().backward()


# ------------------------------------------------------------------------------------------------
# xlog1py, logit's eps, out=, and the red team's repros
# ------------------------------------------------------------------------------------------------


def test_xlog1py_values_scalars_and_gradients():
    xs = [0.0, 0.0, 0.0, 1.0, 2.0, -3.0, 0.0, 1.5]
    ys = [-1.0, nan, -2.0, -1.0, -1.0, 0.5, 3.0, inf]
    for dtype in (torch.float64, torch.float32):
        x = values(xs, dtype).requires_grad_()
        y = values(ys, dtype).requires_grad_()
        tg_x, tg_y = from_torch(x.detach(), requires_grad=True), from_torch(y.detach(), requires_grad=True)
        result, tg_result = torch.special.xlog1py(x, y), tritongrad.special.xlog1py(tg_x, tg_y)
        check_against(tg_result, result, dtype, f"xlog1py ({dtype})")
        result.sum().backward()
        tg_result.sum().backward()
        check_against(tg_x.grad, x.grad, dtype, "d xlog1py / dx")
        check_against(tg_y.grad, y.grad, dtype, "d xlog1py / dy")
    tensor = torch.tensor([1.0, -0.5], requires_grad=True)
    tg_tensor = from_torch(tensor.detach(), requires_grad=True)
    for args, tg_args in (
        ((tensor, 2.0), (tg_tensor, 2.0)),
        ((2.0, tensor), (2.0, tg_tensor)),
        ((tensor, 2), (tg_tensor, 2)),
    ):
        expected, got = torch.special.xlog1py(*args), tritongrad.special.xlog1py(*tg_args)
        assert_close(got, expected)
        assert got.grad_fn.name() == expected.grad_fn.name()
    for dtype in HALF + (torch.int64,):
        a, b = torch.tensor([1, 2]).to(dtype), torch.tensor([3, 0]).to(dtype)
        assert_close(tritongrad.special.xlog1py(from_torch(a), from_torch(b)), torch.special.xlog1py(a, b))
    with pytest.raises(TypeError):
        tritongrad.special.xlog1py(2.0, 3.0)


def test_logit_eps_clamps_in_torchs_order():
    x = torch.rand(40, dtype=torch.float64) * 1.4 - 0.2
    # (no NaN here: with eps, torch's vectorized backward gives NaN a 0 gradient, its scalar tail NaN)
    x[:4] = torch.tensor([0.0, 1.0, 0.2, 0.5])
    for eps in (None, 0.0, 0.2, 0.5, 0.7, -0.1, 1.5):
        for dtype in (torch.float64, torch.float32):
            data = x.to(dtype).clone().requires_grad_()
            tg_data = from_torch(data.detach(), requires_grad=True)
            expected, got = torch.logit(data, eps), tritongrad.logit(tg_data, eps)
            check_against(got, expected, dtype, f"logit(eps={eps}, {dtype})")
            expected.sum().backward()
            got.sum().backward()
            check_against(tg_data.grad, data.grad, dtype, f"d logit(eps={eps}, {dtype})")
    tg_x = from_torch(x.clone())
    assert_close(tg_x.logit(0.2), x.logit(0.2))
    assert tg_x.logit_(eps=0.3) is tg_x
    assert_close(tg_x, x.clone().logit_(eps=0.3))


OUT_CASES = {
    "erfcx": ((0.3,), {}), "log_ndtr": ((0.3,), {}), "ndtri": ((0.3,), {}), "ndtr": ((0.3,), {}),
    "i0": ((0.3,), {}), "i0e": ((0.3,), {}), "i1": ((0.3,), {}), "i1e": ((0.3,), {}), "entr": ((0.3,), {}),
    "logit": ((0.3,), {"eps": 0.1}), "expit": ((0.3,), {}), "erf": ((0.3,), {}), "erfc": ((0.3,), {}),
    "erfinv": ((0.3,), {}), "exp2": ((0.3,), {}), "expm1": ((0.3,), {}), "log1p": ((0.3,), {}),
    "sinc": ((0.3,), {}), "round": ((0.3,), {}), "gammaln": ((0.3,), {}), "digamma": ((0.3,), {}),
    "psi": ((0.3,), {}), "multigammaln": ((2.3, 2), {}), "xlogy": ((0.3, 0.4), {}), "xlog1py": ((0.3, 0.4), {}),
    "zeta": ((2.3, 0.4), {}), "gammainc": ((0.3, 0.4), {}), "gammaincc": ((0.3, 0.4), {}),
    "modified_bessel_i0": ((0.3,), {}), "modified_bessel_i1": ((0.3,), {}), "spherical_bessel_j0": ((0.3,), {}),
}  # fmt: skip


@pytest.mark.parametrize("name", list(OUT_CASES))
def test_out_argument(name):
    """out= as torch takes it on every function that has it: written in place, returned, cast to a
    wider float dtype."""
    args, kwargs = OUT_CASES[name]
    tensors = [torch.full((3,), value) if isinstance(value, float) else value for value in args]
    tg_args = [from_torch(t) if isinstance(t, torch.Tensor) else t for t in tensors]
    for dtype in (torch.float32, torch.float64):
        target = torch.empty(3, dtype=dtype)
        try:
            expected = special(torch, name)(*tensors, out=target, **kwargs)
        except RuntimeError:  # (round: out= of its own dtype only)
            with pytest.raises(RuntimeError):
                special(tritongrad, name)(*tg_args, out=from_torch(torch.empty(3, dtype=dtype)), **kwargs)
            continue
        out = from_torch(torch.empty(3, dtype=dtype))
        result = special(tritongrad, name)(*tg_args, out=out, **kwargs)
        assert result is out, f"special.{name}(out=) must return out"
        # (a float32 result cast into a float64 out: float32's tolerance)
        assert_close(out, expected, dtype=torch.float32, what=f"special.{name}(out={dtype})")


def test_softmax_needs_dim_like_torch():
    x = torch.rand(2, 3)
    for name in ("softmax", "log_softmax"):
        with pytest.raises(TypeError) as expected:
            special(torch, name)(x, None)
        with pytest.raises(TypeError) as got:
            special(tritongrad, name)(from_torch(x), None)
        assert str(got.value) == str(expected.value)
        assert_close(special(tritongrad, name)(from_torch(x), 1), special(torch, name)(x, 1))
    assert_close(
        tritongrad.special.softmax(from_torch(x), 0, dtype=torch.float64),
        torch.special.softmax(x, 0, dtype=torch.float64),
    )


def test_red_team_repros():
    # 1. log_ndtr's far tail and its gradient stay finite
    x = torch.tensor([-15.0, -20.0, -30.0])
    assert_close(tritongrad.special.log_ndtr(from_torch(x)), torch.special.log_ndtr(x))
    assert_close(
        tritongrad.special.log_ndtr(from_torch(x.double() * 0 - 40)), [-804.6084420137539] * 3, float64_reference=True
    )
    for dtype, points in ((torch.float32, [-6.0]), (torch.float64, [-9.0, -10.0, -30.0, -40.0])):
        tg_x = from_torch(torch.tensor(points, dtype=dtype), requires_grad=True)
        tritongrad.special.log_ndtr(tg_x).sum().backward()
        reference = torch.tensor(points, dtype=dtype, requires_grad=True)
        torch.special.log_ndtr(reference).sum().backward()
        assert bool(torch.isfinite(to_torch(tg_x.grad)).all())
        assert_close(tg_x.grad, reference.grad)
    # 2. gradients at the edges: logit at 0 and 1, entr at 0, xlog1py in x at (0, -1)
    tg_x = from_torch(torch.tensor([0.0, 1.0]), requires_grad=True)
    tritongrad.special.logit(tg_x).sum().backward()
    assert to_torch(tg_x.grad).tolist() == [inf, inf]
    tg_x = from_torch(torch.tensor([0.0]), requires_grad=True)
    tritongrad.special.entr(tg_x).sum().backward()
    assert to_torch(tg_x.grad).tolist() == [inf]
    tg_x = from_torch(torch.tensor([0.0]), requires_grad=True)
    tritongrad.special.xlog1py(tg_x, from_torch(torch.tensor([-1.0]))).sum().backward()
    assert to_torch(tg_x.grad).tolist() == [0.0]
    # 3. values: entr(-inf), polygamma(1, -inf), logit with eps > 1/2, erfinv near +-1 in float64
    assert to_torch(tritongrad.special.entr(from_torch(torch.tensor([-inf])))).tolist() == [-inf]
    assert math.isnan(to_torch(tritongrad.special.polygamma(1, from_torch(torch.tensor([-inf])))).item())
    assert_close(tritongrad.special.logit(from_torch(torch.tensor([0.1, 0.9])), eps=0.7), [0.8473, -0.8473], atol=1e-4)
    y = torch.tensor([1 - 1e-15, 1 - 1e-14, -(1 - 1e-15)], dtype=torch.float64)
    assert_close(tritongrad.special.erfinv(from_torch(y)), torch.special.erfinv(y), tolerances=(4e-16, 0.0))
    # 4. numbers and out= where torch takes them
    assert_close(
        tritongrad.special.xlog1py(from_torch(torch.tensor([1.0])), 2.0),
        torch.special.xlog1py(torch.tensor([1.0]), 2.0),
    )
    assert_close(
        tritongrad.special.xlog1py(2.0, from_torch(torch.tensor([1.0]))),
        torch.special.xlog1py(2.0, torch.tensor([1.0])),
    )
    # 5. what was missing: torch.i0 and Tensor.i0 / i0_ at the top level
    x = torch.tensor([0.5, -2.0, 9.0])
    assert_close(tritongrad.i0(from_torch(x)), torch.i0(x))
    assert_close(from_torch(x).i0(), x.i0())
    tg_x = from_torch(x.clone())
    assert tg_x.i0_() is tg_x
    assert_close(tg_x, x.clone().i0_())


def test_names_match_torch_special():
    exported = set(tritongrad.special.__all__)
    missing_on_purpose = {"airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0",
                          "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1"}  # fmt: skip
    public = {
        name for name in dir(torch.special) if not name.startswith("_") and callable(getattr(torch.special, name))
    }
    public = {name for name in public if "polynomial" not in name and name not in ("Tensor",)}
    assert public - exported - missing_on_purpose == set()
    assert all(hasattr(tritongrad.special, name) for name in exported)
