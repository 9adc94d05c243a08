"""The gamma family (kernels/gamma_functions.py) against torch beyond the table tests of
tests/test_unary_ops.py: lgamma, digamma and polygamma over negative arguments and the poles,
polygamma of every small order, Hurwitz's zeta with negative q, scalar operands and its one-sided
gradient, mvlgamma, and the torch.special names."""

from __future__ import annotations

import math

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, random_values
from tritongrad.autograd import gradcheck

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# Non-integers on both sides of every pole from -6 to 0, large and tiny magnitudes, and the poles.
WIDE = [-5.5, -4.25, -3.999, -3.001, -2.5, -1.75, -1.0001, -0.9999, -0.5, -1e-7, 1e-7, 0.5, 0.9999, 1.0001,
        1.5, 1.9999, 2.0001, 3.3, 7.0, 12.5, 99.9, 1e5, 1e12, -1e12 - 0.5, 0.0, -0.0, -1.0, -2.0, -6.0,
        math.inf, -math.inf, math.nan]  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("op", ["lgamma", "digamma"])
def test_values_across_the_poles(op, dtype):
    x = torch.tensor(WIDE, dtype=dtype)
    # torch's digamma near the negative integers is the less accurate side (see test_unary_ops)
    tolerances = (1e-9, 1e-12) if (op, dtype) == ("digamma", torch.float64) else None
    assert_close(getattr(tritongrad, op)(from_torch(x)), getattr(torch, op)(x), tolerances=tolerances, what=op)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_polygamma_orders(n):
    x = torch.cat([random_values((23,), torch.float64, low=0.05, high=9.0), torch.tensor([-2.5, -0.75, -3.25])])
    if n == 1:  # torch's trigamma: about 5e-10 relative (mpmath), tritongrad's about 1e-15
        tolerances = (1e-9, 1e-12)
    else:
        tolerances = None
    got = tritongrad.polygamma(n, from_torch(x))
    assert_close(got, torch.polygamma(n, x), tolerances=tolerances, what=f"polygamma({n})")
    assert_close(from_torch(x).polygamma(n), torch.polygamma(n, x), tolerances=tolerances, what=f"x.polygamma({n})")
    assert_close(tritongrad.special.polygamma(n, from_torch(x)), torch.polygamma(n, x), tolerances=tolerances)


def test_polygamma_zero_is_digamma_and_arguments_are_checked():
    x = random_values((6,), torch.float32, low=0.1, high=4.0)
    assert_close(tritongrad.polygamma(0, from_torch(x)), torch.polygamma(0, x), what="polygamma(0)")
    for lib, tensor in ((torch, x), (tritongrad, from_torch(x))):
        with pytest.raises(RuntimeError, match="negative n"):
            lib.polygamma(-1, tensor)
        with pytest.raises(TypeError):
            lib.polygamma(1.5, tensor)


def test_polygamma_in_place_and_out():
    x = random_values((3, 4), torch.float64, low=0.2, high=5.0)
    tg_x = from_torch(x)
    assert tg_x.polygamma_(2) is tg_x
    assert_close(tg_x, x.clone().polygamma_(2), what="polygamma_")
    target = from_torch(torch.empty(3, 4, dtype=torch.float64))
    assert tritongrad.polygamma(3, from_torch(x), out=target) is target
    assert_close(target, torch.polygamma(3, x), what="polygamma(out=)")
    integers = torch.arange(1, 5)
    assert_close(tritongrad.lgamma(from_torch(integers)), torch.lgamma(integers), what="lgamma of int64")
    for tensor in (integers.clone(), from_torch(integers)):
        with pytest.raises(RuntimeError):
            tensor.lgamma_()  # a float result cannot go into an integer tensor


@pytest.mark.parametrize("op, n", [("lgamma", None), ("digamma", None), ("polygamma", 2)])
def test_gradients_gradcheck(op, n):
    x = random_values((5,), torch.float64, low=0.2, high=6.0)
    x = torch.cat([x, torch.tensor([-1.5, -2.3], dtype=torch.float64)])
    function = (lambda t: t.polygamma(n)) if n is not None else getattr(tritongrad, op)
    assert gradcheck(function, (from_torch(x, requires_grad=True),), eps=1e-6, atol=1e-5, rtol=1e-4)


def test_lgamma_double_backward():
    x = random_values((4,), torch.float64, low=0.5, high=4.0).requires_grad_(True)
    tg_x = from_torch(x, requires_grad=True)
    (first,) = torch.autograd.grad(torch.lgamma(x).sum(), x, create_graph=True)
    (tg_first,) = tritongrad.autograd.grad(tritongrad.lgamma(tg_x).sum(), tg_x, create_graph=True)
    first.sum().backward()
    tg_first.sum().backward()
    assert_close(tg_first, first, what="digamma as lgamma's gradient")
    assert_close(tg_x.grad, x.grad, tolerances=(1e-9, 1e-12), what="trigamma as its second derivative")


# ---------------------------------------------------------------------------------------------- zeta

ZETA_CASES = [
    # (x, q): the direct sum and the tail, q < 0 with integer x (longer direct sums), the poles
    (2.0, 1.0), (3.5, 0.25), (1.0001, 2.0), (50.0, 1.5), (400.0, 10.0), (4.0, 1e-8), (2.0, 1e8),
    (3.0, -2.5), (4.0, -30.25), (2.0, -100.5), (2.5, -2.5), (2.0, -3.0), (0.5, 2.0), (1.0, 3.0),
    (math.inf, 0.5), (math.inf, 1.0), (math.inf, 2.5), (2.0, math.inf), (math.nan, 0.0), (2.0, math.nan),
]  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_zeta_values(dtype):
    x = torch.tensor([case[0] for case in ZETA_CASES], dtype=dtype)
    q = torch.tensor([case[1] for case in ZETA_CASES], dtype=dtype)
    assert_close(tritongrad.special.zeta(from_torch(x), from_torch(q)), torch.special.zeta(x, q), what="zeta")


def test_zeta_scalars_dtypes_and_refusals():
    q = random_values((5,), torch.float32, low=0.2, high=4.0)
    assert_close(tritongrad.special.zeta(2.0, from_torch(q)), torch.special.zeta(2.0, q), what="zeta(2.0, q)")
    assert_close(tritongrad.special.zeta(from_torch(q + 2), 3), torch.special.zeta(q + 2, 3), what="zeta(x, 3)")
    integers = torch.arange(2, 6)
    assert_close(
        tritongrad.special.zeta(from_torch(integers), from_torch(integers)), torch.special.zeta(integers, integers)
    )
    half = q.half()
    with pytest.raises(NotImplementedError):
        torch.special.zeta(half, half)
    with pytest.raises(NotImplementedError):
        tritongrad.special.zeta(from_torch(half), from_torch(half))
    assert not hasattr(tritongrad.Tensor, "zeta") and not hasattr(tritongrad, "zeta")  # (as torch: special only)


def test_zeta_gradient_in_q_only():
    x = random_values((4,), torch.float64, low=1.5, high=5.0)
    q = random_values((4,), torch.float64, low=0.3, high=4.0)
    tg_q = from_torch(q, requires_grad=True)
    assert gradcheck(lambda t: tritongrad.special.zeta(from_torch(x), t), (tg_q,), eps=1e-6, atol=1e-6)
    torch_q = q.clone().requires_grad_(True)
    torch_result = torch.special.zeta(x, torch_q)
    result = tritongrad.special.zeta(from_torch(x), tg_q)
    assert result.grad_fn.name() == torch_result.grad_fn.name()
    torch_result.sum().backward()
    result.sum().backward()
    assert_close(tg_q.grad, torch_q.grad, what="d zeta / dq")
    tg_x = from_torch(x, requires_grad=True)
    with pytest.raises(NotImplementedError, match="derivative for 'zeta' is not implemented"):
        tritongrad.special.zeta(tg_x, from_torch(q)).sum().backward()


# ------------------------------------------------------------------------------------------ mvlgamma


@pytest.mark.parametrize("p", [1, 2, 5])
def test_mvlgamma(p):
    x = random_values((3, 4), torch.float64, low=(p - 1) / 2 + 0.05, high=6.0)
    assert_close(tritongrad.mvlgamma(from_torch(x), p), torch.mvlgamma(x, p), what=f"mvlgamma(p={p})")
    assert_close(from_torch(x).mvlgamma(p=p), x.mvlgamma(p=p), what="x.mvlgamma")
    assert_close(tritongrad.special.multigammaln(from_torch(x), p), torch.special.multigammaln(x, p))
    tg_x = from_torch(x)
    assert tg_x.mvlgamma_(p) is tg_x
    assert_close(tg_x, x.clone().mvlgamma_(p), what="mvlgamma_")
    assert gradcheck(lambda t: tritongrad.mvlgamma(t, p), (from_torch(x, requires_grad=True),), eps=1e-6, atol=1e-6)


def test_mvlgamma_at_and_below_its_domain_and_refusals():
    x = torch.tensor([0.2, 0.5, 1.0, 3.0], dtype=torch.float64)  # torch 2.13 computes these (no domain check)
    assert_close(tritongrad.mvlgamma(from_torch(x), 2), torch.mvlgamma(x, 2), what="mvlgamma below (p-1)/2")
    integers = torch.tensor([2, 3])
    assert_close(tritongrad.mvlgamma(from_torch(integers), 2), torch.mvlgamma(integers, 2), what="mvlgamma of int64")
    for lib, tensor in ((torch, x), (tritongrad, from_torch(x))):
        with pytest.raises(RuntimeError, match="greater than or equal to 1"):
            lib.mvlgamma(tensor, 0)


def test_special_names():
    x = random_values((5,), torch.float32, low=0.1, high=5.0)
    for name in ("gammaln", "digamma", "psi"):
        assert_close(getattr(tritongrad.special, name)(from_torch(x)), getattr(torch.special, name)(x), what=name)
