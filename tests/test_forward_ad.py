"""torch.autograd.forward_ad: tangents through ops, views, in-place writes, modules and custom Functions,
each compared with torch's forward-mode AD on the same inputs (tritongrad/autograd/forward_ad.py)."""

from __future__ import annotations

import re

import pytest
import torch
import torch.autograd.forward_ad as torch_fwad

import tritongrad
import tritongrad.autograd.forward_ad as fwad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, to_torch
from tritongrad.autograd.gradcheck import GradcheckError

# (name, function of (library, functional module, x, y) with x dual and y a plain tensor, shapes of x and y)
CASES = [
    ("sin_mul", lambda lib, fn, x, y: x.sin() * 2 + y, (3, 4), (3, 4)),
    ("pow_exp", lambda lib, fn, x, y: x**3 - lib.exp(x) / (1 + y**2), (5,), (5,)),
    ("broadcast", lambda lib, fn, x, y: x * y, (3, 1), (1, 4)),
    ("matmul", lambda lib, fn, x, y: x @ y, (2, 3), (3, 4)),
    ("linear_relu", lambda lib, fn, x, y: fn.relu(fn.linear(x, y)), (4, 3), (5, 3)),
    ("softmax", lambda lib, fn, x, y: fn.softmax(x, dim=1), (3, 7), (1,)),
    ("log_softmax_sum", lambda lib, fn, x, y: fn.log_softmax(x, dim=0).sum(1), (4, 3), (1,)),
    ("var_mean", lambda lib, fn, x, y: x.var(1) + x.mean(), (3, 5), (1,)),
    ("cross_entropy", lambda lib, fn, x, y: fn.cross_entropy(x, lib.tensor([0, 2, 1])), (3, 4), (1,)),
    ("mse", lambda lib, fn, x, y: fn.mse_loss(x, y), (6,), (6,)),
    ("views", lambda lib, fn, x, y: x.t()[1:, ::2].reshape(-1) * 3, (4, 5), (1,)),
    ("cat_stack", lambda lib, fn, x, y: lib.stack([lib.cat([x, y]), lib.cat([y, x])]), (2, 3), (2, 3)),
    ("where", lambda lib, fn, x, y: lib.where(y > 0, x, x * x), (7,), (7,)),
    ("max_dim", lambda lib, fn, x, y: x.max(dim=1).values, (3, 4), (1,)),
    ("conv2d", lambda lib, fn, x, y: fn.conv2d(x, y, padding=1), (1, 2, 4, 4), (3, 2, 3, 3)),
]


@pytest.mark.parametrize("name,function,x_shape,y_shape", CASES, ids=[c[0] for c in CASES])
def test_tangent_matches_torch(name, function, x_shape, y_shape):
    x, t, y = torch.randn(x_shape, dtype=torch.float64), torch.randn(x_shape, dtype=torch.float64), torch.randn(y_shape)
    y = y.double()
    with torch_fwad.dual_level():
        expected_out = function(torch, torch.nn.functional, torch_fwad.make_dual(x, t), y)
        expected = torch_fwad.unpack_dual(expected_out)
    with fwad.dual_level():
        out = function(tritongrad, F, fwad.make_dual(from_torch(x), from_torch(t)), from_torch(y))
        actual = fwad.unpack_dual(out)
        assert actual.tangent is not None, f"{name}: no tangent"
        assert_close(actual.primal, expected.primal, rtol=1e-10, atol=1e-10, what=f"{name}: primal")
        assert_close(actual.tangent, expected.tangent, rtol=1e-9, atol=1e-9, what=f"{name}: tangent")


def test_module_parameters_as_duals_as_in_torchs_tutorial():
    torch_model, model = torch.nn.Linear(5, 3).double(), tritongrad.nn.Linear(5, 3).double()
    with tritongrad.no_grad():
        for ours, theirs in zip(model.parameters(), torch_model.parameters(), strict=True):
            ours.copy_(from_torch(theirs))
    inputs = torch.randn(4, 5, dtype=torch.float64)
    tangents = {name: torch.randn_like(p) for name, p in torch_model.named_parameters()}
    with torch_fwad.dual_level():
        for name, p in dict(torch_model.named_parameters()).items():
            delattr(torch_model, name)
            setattr(torch_model, name, torch_fwad.make_dual(p, tangents[name]))
        expected = torch_fwad.unpack_dual(torch_model(inputs)).tangent
    with fwad.dual_level():
        for name, p in dict(model.named_parameters()).items():
            delattr(model, name)
            setattr(model, name, fwad.make_dual(p, from_torch(tangents[name])))
        actual = fwad.unpack_dual(model(from_torch(inputs))).tangent
    assert_close(actual, expected, rtol=1e-10, atol=1e-10)


def test_tangent_is_kept_as_given_and_dropped_when_the_level_closes():
    primal, tangent = tritongrad.randn(3, 4), tritongrad.randn(3, 4)
    with fwad.dual_level() as level:
        assert level == 0
        dual = fwad.make_dual(primal, tangent)
        assert fwad.unpack_dual(dual).tangent is tangent
        other = fwad.make_dual(primal, tangent.t().contiguous().t())  # laid out otherwise: copied, as torch's
        assert fwad.unpack_dual(other).tangent is not tangent
        assert_close(fwad.unpack_dual(other).tangent, to_torch(tangent))
        output = dual * 2
        assert "tangent=" in repr(output)
    assert fwad.unpack_dual(output).tangent is None
    assert fwad.unpack_dual(output).primal is output
    assert "tangent=" not in repr(output)


def test_in_place_write_updates_the_same_tangent():
    x, t = torch.randn(4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    with torch_fwad.dual_level():
        dual = torch_fwad.make_dual(x.clone(), t.clone())
        dual.mul_(3).sin_()
        expected = torch_fwad.unpack_dual(dual).tangent
        base = torch.zeros(6, dtype=torch.float64)
        base[1:5].copy_(dual)
        expected_base = torch_fwad.unpack_dual(base).tangent
    ours_tangent = from_torch(t.clone())
    with fwad.dual_level():
        dual = fwad.make_dual(from_torch(x.clone()), ours_tangent)
        dual.mul_(3).sin_()
        assert fwad.unpack_dual(dual).tangent is ours_tangent
        assert_close(ours_tangent, expected, rtol=1e-10, atol=1e-10)
        base = tritongrad.zeros(6, dtype=tritongrad.float64)
        base[1:5].copy_(dual)
        assert_close(fwad.unpack_dual(base).tangent, expected_base, rtol=1e-10, atol=1e-10)


def test_view_tangent_is_a_view_of_the_tangent():
    with fwad.dual_level():
        tangent = tritongrad.randn(3, 4)
        view = fwad.make_dual(tritongrad.randn(3, 4), tangent)[1:].t()
        view_tangent = fwad.unpack_dual(view).tangent
        assert view_tangent._base is tangent
        assert_close(view_tangent, to_torch(tangent)[1:].t())


def test_outputs_without_tangent():
    with fwad.dual_level():
        dual = fwad.make_dual(tritongrad.randn(5), tritongrad.randn(5))
        assert fwad.unpack_dual(dual.argmax()).tangent is None
        assert fwad.unpack_dual(dual.long()).tangent is None
        assert fwad.unpack_dual(dual.detach()).tangent is None
        assert fwad.unpack_dual(tritongrad.randn(5) * 2).tangent is None
        zero = fwad.unpack_dual(dual.floor()).tangent  # (torch's: a zero tangent, not none)
        assert zero is not None and not zero.any()


def test_dropout_tangent_uses_the_same_mask():
    with fwad.dual_level():
        primal, tangent = tritongrad.rand(200) + 1, tritongrad.randn(200)
        out = F.dropout(fwad.make_dual(primal, tangent), p=0.5, training=True)
        out_tangent = fwad.unpack_dual(out).tangent
    kept = out != 0
    assert 0 < int(kept.sum()) < 200
    assert_close(out_tangent, to_torch(tangent * kept * 2))


class _TorchExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        result = torch.exp(x)
        ctx.result = result
        return result

    @staticmethod
    def jvp(ctx, grad_input):
        return grad_input * ctx.result


class _OursExp(tritongrad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        result = tritongrad.exp(x)
        ctx.result = result
        return result

    @staticmethod
    def jvp(ctx, grad_input):
        return grad_input * ctx.result


class _OursScaled(tritongrad.autograd.Function):
    @staticmethod
    def forward(ctx, x, other, factor):
        ctx.save_for_forward(x, other)
        ctx.factor = factor
        return x * other * factor

    @staticmethod
    def jvp(ctx, x_tangent, other_tangent, factor_tangent):
        x, other = ctx.saved_tensors
        assert factor_tangent is None and not other_tangent.any()  # (torch's: zeros for a tensor, None otherwise)
        return x_tangent * other * ctx.factor


class _OursNoJvp(tritongrad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_custom_function_jvp():
    x, t = torch.randn(3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    with torch_fwad.dual_level():
        expected = torch_fwad.unpack_dual(_TorchExp.apply(torch_fwad.make_dual(x, t))).tangent
    with fwad.dual_level():
        dual = fwad.make_dual(from_torch(x), from_torch(t))
        assert_close(fwad.unpack_dual(_OursExp.apply(dual)).tangent, expected, rtol=1e-12, atol=1e-12)
        other = tritongrad.randn(3, dtype=tritongrad.float64)
        scaled = fwad.unpack_dual(_OursScaled.apply(dual, other, 3.0)).tangent
        assert_close(scaled, t * to_torch(other) * 3)
        with pytest.raises(NotImplementedError, match="You must implement the jvp function"):
            _OursNoJvp.apply(dual)
        assert fwad.unpack_dual(_OursNoJvp.apply(from_torch(x))).tangent is None


def test_backward_through_a_dual_reaches_the_primal():
    x = torch.randn(3, dtype=torch.float64)
    with torch_fwad.dual_level():
        leaf = x.clone().requires_grad_()
        (torch_fwad.make_dual(leaf, torch.ones(3, dtype=torch.float64)) ** 2).sum().backward()
    with fwad.dual_level():
        ours = from_torch(x.clone(), requires_grad=True)
        (fwad.make_dual(ours, tritongrad.ones(3, dtype=tritongrad.float64)) ** 2).sum().backward()
    assert_close(ours.grad, leaf.grad)


def _outcome(module, statement: str):
    primal, tangent = module["randn"](3), module["randn"](3)
    try:
        eval(statement, {**module, "primal": primal, "tangent": tangent})
    except Exception as error:  # noqa: BLE001 (the error is what is compared)
        return type(error), str(error)
    return None


STATEMENTS = [
    "make_dual(primal, tangent)",
    "make_dual(primal, randn(4))",
    "make_dual(arange(3), tangent)",
    "make_dual(primal, arange(3))",
    "make_dual(make_dual(primal, tangent), tangent)",
    "make_dual(primal, tangent, level=5)",
    "make_dual(arange(3), tangent, level=5)",
    "unpack_dual(primal, level=5)",
    "unpack_dual(make_dual(primal, tangent), level=5)",
]


@pytest.mark.parametrize("statement", STATEMENTS)
@pytest.mark.parametrize("inside", [False, True], ids=["no_level", "in_level"])
def test_errors_match_torch(statement, inside):
    outcomes = []
    for lib, ad in ((torch, torch_fwad), (tritongrad, fwad)):
        names = {"randn": lib.randn, "arange": lib.arange, **{n: getattr(ad, n) for n in ad.__all__}}
        if inside:
            with ad.dual_level():
                outcomes.append(_outcome(names, statement))
        else:
            outcomes.append(_outcome(names, statement))
    _same_outcome(statement, *outcomes)


def _same_outcome(statement, expected, actual):
    if expected is None:
        assert actual is None, f"{statement}: torch returns, tritongrad raises {actual}"
    else:
        assert actual is not None, f"{statement}: torch raises {expected}, tritongrad returns"
        assert actual[0] is expected[0], f"{statement}: {actual} vs torch's {expected}"
        assert re.sub(r"\s+", " ", actual[1]) == re.sub(r"\s+", " ", expected[1])


@pytest.mark.parametrize("ad", [torch_fwad, fwad], ids=["torch", "tritongrad"])
def test_levels_do_not_nest_and_exit_in_order(ad):
    # (each library on its own: a refused exit leaves torch's level open, and this closes it)
    level = ad.enter_dual_level()
    try:
        with pytest.raises(RuntimeError, match="^Nested forward mode AD is not supported at the moment$"):
            ad.enter_dual_level()
        with pytest.raises(RuntimeError, match="^Trying to exit a forward AD level that was not the last one"):
            ad.exit_dual_level(level=level + 3)
    finally:
        ad.exit_dual_level(level=level)
    assert ad.unpack_dual(torch.ones(1) if ad is torch_fwad else tritongrad.ones(1)).tangent is None


def test_gradcheck_checks_forward_mode():
    x = tritongrad.randn(2, 3, dtype=tritongrad.float64, requires_grad=True)
    assert tritongrad.autograd.gradcheck(_OursExp.apply, (x,), check_forward_ad=True, check_backward_ad=False)
    assert tritongrad.autograd.gradcheck(lambda t: (t.sin() * t).sum(1), (x,), check_forward_ad=True)

    class WrongJvp(_OursExp):
        @staticmethod
        def jvp(ctx, grad_input):
            return grad_input * ctx.result * 2

    with pytest.raises(GradcheckError, match="computed with forward mode"):
        tritongrad.autograd.gradcheck(WrongJvp.apply, (x,), check_forward_ad=True, check_backward_ad=False)
