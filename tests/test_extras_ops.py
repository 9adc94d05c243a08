"""pdist, renorm, log_normal_, apply_/map_, frexp, ldexp, can_cast, i0 (and special.i0e/i1/i1e: their
forward and gradients are also covered by tests/test_unary_ops.py through the unary table), and the
deprecated F.upsample_nearest/bilinear, each against torch."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.test_hardening import agree
from tests.utils import assert_close, from_torch, to_torch

FLOATS = [torch.float32, torch.float64]


def _leaf(t: torch.Tensor):
    return t.detach().clone().requires_grad_(True), from_torch(t, requires_grad=True)


# ------------------------------------------------------------------------------------------- pdist


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, 3.5, math.inf])
def test_pdist_values_and_gradient(dtype, p):
    # 7 rows (a prime), 5 columns; a repeated row gives a zero distance (its gradient is 0 in torch)
    x = torch.randn(7, 5, dtype=dtype)
    x[4] = x[1]
    theirs, ours = _leaf(x)
    expected, got = torch.pdist(theirs, p), tritongrad.pdist(ours, p)
    assert_close(got, expected, what=f"pdist p={p}")
    if p not in (0.0,):
        weights = torch.randn(expected.shape, dtype=dtype)
        (expected * weights).sum().backward()
        (got * from_torch(weights)).sum().backward()
        assert_close(ours.grad, theirs.grad, what=f"pdist p={p} gradient")


def test_pdist_edges_and_functional():
    for rows in (0, 1, 2):
        x = torch.randn(rows, 3)
        assert_close(F.pdist(from_torch(x)), torch.pdist(x), what=f"pdist of {rows} rows")
    x = torch.randn(6, 4, dtype=torch.float64)[:, ::2]  # non-contiguous
    assert_close(tritongrad.pdist(from_torch(x)), torch.pdist(x), what="pdist strided")
    assert tritongrad.autograd.gradcheck(tritongrad.pdist, (from_torch(torch.randn(4, 3, dtype=torch.float64),
                                                                         requires_grad=True),))  # fmt: skip


PDIST_ERRORS = {
    "1-D": lambda lib: lib.pdist(lib.ones(3)),
    "negative p": lambda lib: lib.pdist(lib.ones(3, 2), p=-1.0),
    "integer": lambda lib: lib.pdist(lib.tensor([[1, 2], [3, 4]])),
    "half": lambda lib: lib.pdist(lib.ones(3, 2, dtype=lib.float16)),
}


@pytest.mark.parametrize("name", list(PDIST_ERRORS))
def test_pdist_errors(name):
    agree(name, PDIST_ERRORS[name], [])


# ------------------------------------------------------------------------------------------ renorm


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p, dim, maxnorm", [(2, 0, 1.0), (1, 1, 0.5), (3.0, -1, 2.0), (2, 1, 100.0)])
def test_renorm_values_and_gradient(dtype, p, dim, maxnorm):
    x = torch.randn(4, 3, 5, dtype=dtype)
    theirs, ours = _leaf(x)
    expected, got = torch.renorm(theirs, p, dim, maxnorm), tritongrad.renorm(ours, p, dim, maxnorm)
    assert_close(got, expected, what="renorm")
    assert_close(ours.renorm(p, dim, maxnorm), theirs.renorm(p, dim, maxnorm), what="Tensor.renorm")
    weights = torch.randn(x.shape, dtype=dtype)
    (expected * weights).sum().backward()
    (got * from_torch(weights)).sum().backward()
    assert_close(ours.grad, theirs.grad, what="renorm gradient")


def test_renorm_inplace_half_and_strided():
    x = torch.randn(5, 4)
    mine = from_torch(x)
    assert mine.renorm_(2, 0, 1.0) is mine
    assert_close(mine, x.clone().renorm_(2, 0, 1.0), what="renorm_")
    half = torch.randn(3, 4).half()
    assert_close(tritongrad.renorm(from_torch(half), 2, 1, 1.0), torch.renorm(half, 2, 1, 1.0), what="renorm half")
    strided = torch.randn(6, 8)[::2, 1::2]
    assert_close(tritongrad.renorm(from_torch(strided), 1, 1, 0.3), torch.renorm(strided, 1, 1, 0.3), what="strided")
    # in place on a leaf that requires grad is refused, as torch's
    agree("renorm_ leaf", lambda lib, t: t.renorm_(2, 0, 1.0), [torch.randn(3, 2, requires_grad=True)])
    # in place on a non-leaf records a gradient
    x = torch.randn(3, 4, dtype=torch.float64)
    theirs, ours = _leaf(x)
    (theirs * 2).renorm_(2, 0, 1.5).sum().backward()
    (ours * 2).renorm_(2, 0, 1.5).sum().backward()
    assert_close(ours.grad, theirs.grad, what="renorm_ gradient")


RENORM_ERRORS = {
    "p zero": lambda lib: lib.renorm(lib.ones(3, 2), 0, 0, 1.0),
    "negative maxnorm": lambda lib: lib.renorm(lib.ones(3, 2), 2, 0, -1.0),
    "1-D": lambda lib: lib.renorm(lib.ones(3), 2, 0, 1.0),
    "dim out of range": lambda lib: lib.renorm(lib.ones(3, 2), 2, 2, 1.0),
}


@pytest.mark.parametrize("name", list(RENORM_ERRORS))
def test_renorm_errors(name):
    agree(name, RENORM_ERRORS[name], [])


# ------------------------------------------------------------------------------------- log_normal_


def test_log_normal_distribution():
    x = tritongrad.empty(20000, dtype=tritongrad.float64)
    assert x.log_normal_(0.5, 0.25) is x
    logs = torch.log(to_torch(x))
    assert bool((to_torch(x) > 0).all())
    assert abs(logs.mean().item() - 0.5) < 0.02 and abs(logs.std().item() - 0.25) < 0.02
    assert tritongrad.empty(4, dtype=tritongrad.float16).log_normal_().dtype == torch.float16
    generator = tritongrad.Generator().manual_seed(3)
    first = to_torch(tritongrad.empty(5).log_normal_(generator=generator))
    again = to_torch(tritongrad.empty(5).log_normal_(generator=tritongrad.Generator().manual_seed(3)))
    assert torch.equal(first, again)


@pytest.mark.parametrize("case", ["std zero", "std negative", "integer"])
def test_log_normal_errors(case):
    cases = {
        "std zero": lambda lib: lib.ones(3).log_normal_(1, 0),
        "std negative": lambda lib: lib.ones(3).log_normal_(1, -1.5),
        "integer": lambda lib: lib.ones(3, dtype=lib.int64).log_normal_(),
    }
    agree(case, cases[case], [])


# ------------------------------------------------------------------------------------- apply_, map_


def test_apply_and_map():
    agree("apply_", lambda lib, t: t.apply_(lambda v: v * v - 1), [torch.randn(3, 4)])
    agree("apply_ strided", lambda lib, t: t[:, ::2].apply_(lambda v: -v), [torch.randn(3, 4, dtype=torch.float64)])
    agree("apply_ int truncates", lambda lib: lib.tensor([1, 2, 3]).apply_(lambda v: v * 1.7), [])
    agree("apply_ empty", lambda lib: lib.ones(0, 3).apply_(lambda v: v + 1), [])
    agree("map_ broadcast", lambda lib, a, b: a.map_(b, lambda x, y: x * 10 + y), [torch.randn(2, 3), torch.randn(3)])
    agree("map_ int", lambda lib: lib.tensor([1, 2]).map_(lib.tensor([5, 7]), lambda x, y: x * y), [])


APPLY_ERRORS = {
    "requires grad": lambda lib: lib.ones(2, requires_grad=True).apply_(lambda v: v),
    "non-number": lambda lib: lib.ones(2).apply_(lambda v: "a"),
    "map_ dtype": lambda lib: lib.ones(2, 3).map_(lib.arange(3), lambda a, b: a + b),
    "map_ shape": lambda lib: lib.ones(2).map_(lib.ones(3), lambda a, b: a + b),
}


@pytest.mark.parametrize("name", list(APPLY_ERRORS))
def test_apply_errors(name):
    agree(name, APPLY_ERRORS[name], [])


# ------------------------------------------------------------------------------------------- frexp


SPECIALS = [0.0, -0.0, 1.0, -3.5, 0.75, math.inf, -math.inf, math.nan, 1e-40, 6e-39, 3.4e38, -1e-45, 2.0**-1074]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_frexp_exact(dtype):
    # random magnitudes over most of the exponent range (subnormals included), then the special values
    spread = {torch.float64: 300.0, torch.float32: 40.0}.get(dtype, 4.0)
    values = torch.randn(1000, dtype=torch.float64) * torch.exp(torch.randn(1000, dtype=torch.float64) * spread)
    x = torch.cat([values, torch.tensor(SPECIALS, dtype=torch.float64)]).to(dtype)
    mantissa, exponent = tritongrad.frexp(from_torch(x))
    expected = torch.frexp(x)
    assert mantissa.dtype == dtype and exponent.dtype == torch.int32
    assert torch.equal(to_torch(exponent), expected.exponent), f"frexp exponent {dtype}"
    same = (to_torch(mantissa) == expected.mantissa) | (expected.mantissa.isnan() & to_torch(mantissa).isnan())
    assert bool(same.all()), f"frexp mantissa {dtype}: {x[~same][:5]}"
    # (a NaN's sign bit is not meaningful: torch's bfloat16 frexp returns its NaN negated)
    signs = (torch.signbit(to_torch(mantissa)) == torch.signbit(expected.mantissa)) | expected.mantissa.isnan()
    assert bool(signs.all()), f"frexp keeps the sign ({dtype}): {x[~signs]} {to_torch(mantissa)[~signs]}"


def test_frexp_method_shapes_out_and_gradient():
    x = torch.randn(3, 4, dtype=torch.float64)[:, 1::2] * 100  # non-contiguous
    result = from_torch(x).frexp()
    assert type(result).__name__ == "frexp" and result.mantissa.shape == (3, 2)
    assert_close(result.mantissa, torch.frexp(x).mantissa, what="Tensor.frexp")
    for shape in [(0,), (), (1,)]:
        t = torch.randn(shape)
        assert_close(tritongrad.frexp(from_torch(t))[0], torch.frexp(t)[0], what=f"frexp shape {shape}")
    theirs, ours = _leaf(torch.randn(5, dtype=torch.float64) * 30)
    torch.frexp(theirs).mantissa.sum().backward()
    got = tritongrad.frexp(ours)
    assert got.mantissa.grad_fn.name() == "FrexpBackward0" and not got.exponent.requires_grad
    got.mantissa.sum().backward()
    assert_close(ours.grad, theirs.grad, what="frexp gradient")
    agree(
        "frexp out",
        lambda lib: lib.frexp(lib.tensor([6.0, 0.1]), out=(lib.empty(2), lib.empty(2, dtype=lib.int32))),
        [],
    )


FREXP_ERRORS = {
    "integer": lambda lib: lib.frexp(lib.tensor([1, 2])),
    "out mantissa dtype": lambda lib: lib.frexp(lib.ones(2), out=(lib.empty(2, dtype=lib.float64),
                                                                  lib.empty(2, dtype=lib.int32))),
    "out exponent dtype": lambda lib: lib.frexp(lib.ones(2), out=(lib.empty(2), lib.empty(2, dtype=lib.int64))),
}  # fmt: skip


@pytest.mark.parametrize("name", list(FREXP_ERRORS))
def test_frexp_errors(name):
    agree(name, FREXP_ERRORS[name], [])


# ------------------------------------------------------------------------------------------- ldexp


LDEXP = {
    "float by int": lambda lib, a: lib.ldexp(a, lib.tensor([1, -2, 3, 0])),
    "int by int": lambda lib, a: lib.ldexp(lib.tensor([1, 2, 3, 4]), lib.tensor([3, 4, -1, 0])),
    "float64 by int": lambda lib, a: lib.ldexp(a.double(), lib.tensor([1, 2, 3, 4])),
    "half by int": lambda lib, a: lib.ldexp(a.half(), lib.tensor([1, 2, 3, 4])),
    "bfloat16 by half": lambda lib, a: lib.ldexp(a.bfloat16(), lib.tensor([1.0, 2.0, 3.0, 4.0]).half()),
    "int by half": lambda lib, a: lib.ldexp(lib.tensor([1, 2, 3, 4]), lib.tensor([1.0, 2.0, 3.0, 4.0]).half()),
    "half by float64": lambda lib, a: lib.ldexp(a.half(), lib.tensor([1.0, 2.0, 3.0, 4.0]).double()),
    "broadcast": lambda lib, a: lib.ldexp(a.reshape(4, 1), lib.tensor([1, 2, 3])),
    "float exponent": lambda lib, a: lib.ldexp(a, lib.tensor([1.5, 2.0, -0.5, 0.0])),
    "method": lambda lib, a: a.ldexp(lib.tensor([2, 2, 2, 2])),
    "in place": lambda lib, a: a.detach().clone().ldexp_(lib.tensor([1, 2, 3, 4])),
    "function in place": lambda lib, a: lib.ldexp_(a.detach().clone(), lib.tensor([1, 2, 3, 4])),
    "int in place refused": lambda lib, a: lib.tensor([1, 2]).ldexp_(lib.tensor([1, 2])),
    "out": lambda lib, a: lib.ldexp(a.detach(), lib.tensor([1, 1, 1, 1]), out=lib.empty(4)),
}


@pytest.mark.parametrize("name", list(LDEXP))
def test_ldexp(name):
    agree(name, lambda lib, a: LDEXP[name](lib, a), [torch.randn(4)])


def test_ldexp_gradient():
    a, b = torch.randn(4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    (ta, oa), (tb, ob) = _leaf(a), _leaf(b)
    torch.ldexp(ta, tb).sum().backward()
    tritongrad.ldexp(oa, ob).sum().backward()
    assert_close(oa.grad, ta.grad, what="ldexp d/dinput")
    assert_close(ob.grad, tb.grad, what="ldexp d/dother")


# ----------------------------------------------------------------------------------------- can_cast


DTYPES = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.float16, torch.bfloat16,
          torch.float32, torch.float64, torch.complex64]  # fmt: skip


def test_can_cast_every_pair():
    for source in DTYPES:
        for target in DTYPES:
            assert tritongrad.can_cast(source, target) == torch.can_cast(source, target), f"{source} -> {target}"
    agree("can_cast int", lambda lib: lib.can_cast(lib.float32, 3), [])


# ------------------------------------------------------------------------------------------------ i0


@pytest.mark.parametrize("dtype", FLOATS)
def test_i0_family(dtype):
    # both ranges of the approximation (|x| <= 8 and beyond), negative arguments, 0
    x = torch.cat([torch.linspace(-20, 20, 41, dtype=dtype), torch.tensor([0.0, 7.99, 8.01, -1e-20], dtype=dtype)])
    for name, theirs, ours in [
        ("i0", torch.i0, tritongrad.i0),
        ("special.i0", torch.special.i0, tritongrad.special.i0),
        ("i0e", torch.special.i0e, tritongrad.special.i0e),
        ("i1", torch.special.i1, tritongrad.special.i1),
        ("i1e", torch.special.i1e, tritongrad.special.i1e),
    ]:
        assert_close(ours(from_torch(x)), theirs(x), what=name)
    assert_close(from_torch(x).i0(), x.i0(), what="Tensor.i0")
    assert_close(tritongrad.i0(tritongrad.tensor([1, 2])), torch.i0(torch.tensor([1, 2])), what="i0 of int64")


def test_i0_gradients():
    x = torch.tensor([-9.0, -2.5, 0.0, 1e-20, 0.7, 3.0, 12.0], dtype=torch.float64)
    pairs = [(torch.i0, tritongrad.i0), (torch.special.i0e, tritongrad.special.i0e),
             (torch.special.i1, tritongrad.special.i1), (torch.special.i1e, tritongrad.special.i1e)]  # fmt: skip
    for theirs, ours in pairs:
        t, o = _leaf(x)
        theirs(t).sum().backward()
        result = ours(o)
        assert result.grad_fn.name() == theirs(t).grad_fn.name()
        result.sum().backward()
        assert_close(o.grad, t.grad, what=f"{theirs.__name__} gradient")


# ----------------------------------------------------------------------------------- upsample_*


@pytest.mark.parametrize("name, size, scale", [("upsample_nearest", None, 2), ("upsample_bilinear", (5, 7), None)])
def test_deprecated_upsample(name, size, scale):
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    theirs, ours = _leaf(x)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = getattr(F, name)(ours, size, scale)
    assert any(f"`nn.functional.{name}` is deprecated" in str(w.message) for w in caught)
    assert caught[0].filename == __file__, "the warning names the caller's line"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(torch.nn.functional, name)(theirs, size, scale)
    assert_close(got, expected, what=name)
    expected.sum().backward()
    got.sum().backward()
    assert_close(ours.grad, theirs.grad, what=f"{name} gradient")
