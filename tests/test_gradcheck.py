"""Every differentiable op: gradcheck in float64, and gradients equal to torch.autograd's.

Each case is one expression ``fn(lib, *inputs)`` written once and run with
``lib=torch`` and ``lib=tritongrad``. Two checks per case:

* ``gradcheck`` (central differences vs the tape) on tiny float64 inputs (numel <= 6:
  it launches kernels per element), contiguous;
* float32 forward values and leaf gradients against torch for a random upstream
  gradient, with the inputs contiguous and non-contiguous (each input is then a
  transposed view, or a strided slice for 1-D inputs, of a contiguous leaf).

Inputs are drawn from each case's domain: away from kinks (relu, abs, max ties) and
discontinuities (remainder), positive where the function needs it (log, sqrt, pow).
The gradcheck function itself is tested at the end (it must catch a wrong backward).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import torch

import tritongrad
from tests.autograd_utils import TOLERANCES, assert_close, to_tg
from tritongrad.autograd.gradcheck import GradcheckError


@dataclass
class Domain:
    """Uniform in [low, high]; with ``signed``, the magnitude is drawn there and the sign at random."""

    low: float = -1.5
    high: float = 1.5
    signed: bool = False

    def sample(self, shape: tuple) -> torch.Tensor:
        values = self.low + (self.high - self.low) * torch.rand(shape, dtype=torch.float64)
        if self.signed:
            values = values * torch.where(torch.rand(shape) < 0.5, -1.0, 1.0).double()
        return values


ANY = Domain()
POSITIVE = Domain(0.5, 2.0)
AWAY_FROM_ZERO = Domain(0.2, 1.5, signed=True)


@dataclass
class Case:
    name: str
    fn: Callable
    shapes: tuple
    domains: tuple = ()
    # Entries forced to a value after sampling: {input index: [(flat index, value), ...]}.
    fixed: dict = field(default_factory=dict)
    # view() needs compatible strides (torch refuses a transposed input too).
    contiguous_only: bool = False
    # gradcheck by random projections (torch's fast_mode): for ops whose launches are slow here.
    fast: bool = False

    def sample(self) -> list[torch.Tensor]:
        values = []
        for index, shape in enumerate(self.shapes):
            domain = self.domains[index] if index < len(self.domains) else ANY
            value = domain.sample(shape)
            for flat, fixed in self.fixed.get(index, ()):
                value.view(-1)[flat] = fixed
            values.append(value)
        return values


def case(name, fn, *shapes, domains=(), fixed=None, contiguous_only=False, fast=False):
    return Case(name, fn, shapes, domains, fixed or {}, contiguous_only, fast)


ELEMENTWISE = [
    case("add_broadcast", lambda lib, a, b: a + b, (2, 3), (3,)),
    case("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=2.5), (2, 3), (2, 1)),
    case("add_scalar", lambda lib, a: 1.5 + a, (2, 3)),
    case("sub_broadcast", lambda lib, a, b: a - b, (2, 3), (2, 1)),
    case("sub_alpha", lambda lib, a, b: lib.sub(a, b, alpha=0.5), (3,), (2, 3)),
    case("rsub_scalar", lambda lib, a: 2.0 - a, (2, 3)),
    case("mul_broadcast", lambda lib, a, b: a * b, (2, 3), (3,)),
    case("mul_scalar", lambda lib, a: a * -2.5, (2, 3)),
    case("div_broadcast", lambda lib, a, b: a / b, (2, 3), (3,), domains=(ANY, AWAY_FROM_ZERO)),
    case("rdiv_scalar", lambda lib, a: 1.5 / a, (2, 3), domains=(AWAY_FROM_ZERO,)),
    case("pow_tensor_tensor", lambda lib, a, b: a**b, (2, 3), (3,), domains=(POSITIVE, ANY)),
    case("pow_scalar_exponent_int", lambda lib, a: a**3, (2, 3)),
    case("pow_scalar_exponent_fraction", lambda lib, a: a**2.5, (2, 3), domains=(POSITIVE,)),
    case("pow_scalar_exponent_negative", lambda lib, a: a**-1.5, (2, 3), domains=(POSITIVE,)),
    case("pow_scalar_base", lambda lib, a: 2.0**a, (2, 3)),
    case("pow_function", lambda lib, a, b: lib.pow(a, b), (3,), (2, 3), domains=(POSITIVE, ANY)),
    case("neg", lambda lib, a: -a, (2, 3)),
    case("exp", lambda lib, a: lib.exp(a), (2, 3)),
    case("log", lambda lib, a: lib.log(a), (2, 3), domains=(POSITIVE,)),
    case("sqrt", lambda lib, a: lib.sqrt(a), (2, 3), domains=(POSITIVE,)),
    case("rsqrt", lambda lib, a: lib.rsqrt(a), (2, 3), domains=(POSITIVE,)),
    case("sin", lambda lib, a: lib.sin(a), (2, 3)),
    case("cos", lambda lib, a: lib.cos(a), (2, 3)),
    case("tan", lambda lib, a: lib.tan(a), (2, 3), domains=(Domain(-1.2, 1.2),)),
    case("tanh", lambda lib, a: lib.tanh(a), (2, 3)),
    case("sigmoid", lambda lib, a: lib.sigmoid(a), (2, 3)),
    case("relu", lambda lib, a: lib.relu(a), (2, 3), domains=(AWAY_FROM_ZERO,)),
    case("reciprocal", lambda lib, a: lib.reciprocal(a), (2, 3), domains=(AWAY_FROM_ZERO,)),
    case("abs", lambda lib, a: lib.abs(a), (2, 3), domains=(AWAY_FROM_ZERO,)),
    case("clamp_numbers", lambda lib, a: lib.clamp(a, min=-0.5, max=0.5), (2, 3)),
    case("clamp_min_only", lambda lib, a: a.clamp(min=0.1), (2, 3)),
    case("clamp_tensor_bounds", lambda lib, a, b: lib.clamp(a, min=b), (2, 3), (3,)),
    case("maximum", lambda lib, a, b: lib.maximum(a, b), (2, 3), (3,)),
    case("minimum", lambda lib, a, b: lib.minimum(a, b), (2, 3), (2, 1)),
    case("where", lambda lib, a, b: lib.where(a > 0, a, b), (2, 3), (3,), domains=(AWAY_FROM_ZERO, ANY)),
    case("where_scalar", lambda lib, a: lib.where(a > 0, a * 2, 0.5), (2, 3), domains=(AWAY_FROM_ZERO,)),
    # a / b stays in (2.09, 3): floor(a / b) = 2, away from the jumps.
    case(
        "remainder",
        lambda lib, a, b: lib.remainder(a, b),
        (2, 3),
        (3,),
        domains=(Domain(2.2, 2.9), Domain(1.0, 1.05)),
    ),
]

REDUCTIONS = [
    case("sum_all", lambda lib, a: a.sum(), (2, 3)),
    case("sum_dim", lambda lib, a: a.sum(1), (2, 3)),
    case("sum_dims_keepdim", lambda lib, a: a.sum((0, 2), keepdim=True), (1, 2, 3)),
    case("sum_negative_dim", lambda lib, a: lib.sum(a, dim=-2), (2, 3)),
    case("mean_all", lambda lib, a: a.mean(), (2, 3)),
    case("mean_dim_keepdim", lambda lib, a: a.mean(0, keepdim=True), (2, 3)),
    case("prod_all", lambda lib, a: a.prod(), (2, 3)),
    case("prod_dim", lambda lib, a: a.prod(1), (2, 3)),
    case("prod_dim_one_zero", lambda lib, a: a.prod(1), (2, 3), fixed={0: [(1, 0.0)]}),
    case("prod_all_two_zeros", lambda lib, a: a.prod(), (2, 3), fixed={0: [(1, 0.0), (4, 0.0)]}),
    case(
        "prod_dim_zeros_keepdim",
        lambda lib, a: a.prod(0, keepdim=True),
        (2, 3),
        fixed={0: [(0, 0.0), (3, 0.0)]},
    ),
    case("amax_dim", lambda lib, a: a.amax(1), (2, 3)),
    case("amin_dims", lambda lib, a: lib.amin(a, dim=(0, 1)), (2, 3)),
    case("amax_all", lambda lib, a: a.amax(), (2, 3)),
    case("max_all", lambda lib, a: a.max(), (2, 3)),
    case("min_all", lambda lib, a: lib.min(a), (2, 3)),
    case("max_dim_values", lambda lib, a: a.max(dim=0).values, (2, 3)),
    case("min_dim_keepdim", lambda lib, a: a.min(1, keepdim=True)[0], (2, 3)),
    case("var_dim", lambda lib, a: a.var(1), (2, 3)),
    case("var_all_biased", lambda lib, a: a.var(unbiased=False), (2, 3)),
    case("var_correction_keepdim", lambda lib, a: a.var(0, correction=0, keepdim=True), (3, 2)),
    case("std_dim", lambda lib, a: a.std(0), (3, 2)),
    case("std_all", lambda lib, a: lib.std(a), (2, 3)),
    case("norm_2_all", lambda lib, a: a.norm(), (2, 3)),
    case("norm_1_dim", lambda lib, a: a.norm(p=1, dim=1), (2, 3), domains=(AWAY_FROM_ZERO,)),
    case("norm_inf_dim", lambda lib, a: a.norm(p=float("inf"), dim=0), (3, 2)),
    case("norm_3_all", lambda lib, a: lib.norm(a, p=3), (2, 3), domains=(AWAY_FROM_ZERO,)),
    case("norm_2_keepdim", lambda lib, a: a.norm(2, dim=1, keepdim=True), (2, 3)),
]

VIEWS = [
    case(
        "view",
        lambda lib, a: a.view(3, 2) * lib.arange(1.0, 3.0, dtype=a.dtype),
        (2, 3),
        contiguous_only=True,
    ),
    case("view_minus_one", lambda lib, a: a.view(-1), (2, 3), contiguous_only=True),
    case("reshape_of_transposed", lambda lib, a: a.t().reshape(6) * lib.arange(6, dtype=a.dtype), (2, 3)),
    case("permute", lambda lib, a: a.permute(2, 0, 1).exp(), (1, 2, 3)),
    case("transpose", lambda lib, a: a.transpose(0, 2) * a.transpose(0, 2), (3, 1, 2)),
    case("t", lambda lib, a: a.t() * 2, (2, 3)),
    case("unsqueeze", lambda lib, a: a.unsqueeze(1) * a.unsqueeze(0), (3,)),
    case("squeeze_all", lambda lib, a: a.squeeze(), (2, 1, 3)),
    case("squeeze_dim", lambda lib, a: a.squeeze(1).exp(), (2, 1, 3)),
    case("expand", lambda lib, a: a.expand(3, 2) * lib.arange(6.0, dtype=a.dtype).view(3, 2), (3, 1)),
    case("expand_new_dims", lambda lib, a: a.expand(2, 3).sin(), (3,)),
    case("index_int", lambda lib, a: a[1], (2, 3)),
    case("index_slices", lambda lib, a: a[:, 1:] * 2, (2, 3)),
    case("index_step_ellipsis", lambda lib, a: a[..., ::2], (2, 3)),
    case("index_negative_none", lambda lib, a: a[-1, None], (2, 3)),
    case("index_int_tensor_repeats", lambda lib, a: a[lib.tensor([2, 0, 2])], (3, 2)),
    case("index_bool_mask", lambda lib, a: a[a > 0], (2, 3), domains=(AWAY_FROM_ZERO,)),
    case("narrow", lambda lib, a: a.narrow(1, 1, 2), (2, 3)),
    case("select", lambda lib, a: a.select(1, -1), (2, 3)),
    case(
        "split_chunk_unbind",
        lambda lib, a: a.split(2, 1)[0] * 3 + a.chunk(3, 1)[2] - a.unbind(1)[1].unsqueeze(1),
        (2, 3),
    ),  # noqa: E501
    case("flatten", lambda lib, a: a.flatten().cos(), (1, 2, 3)),
    case("contiguous_of_transposed", lambda lib, a: a.t().contiguous() * 2, (2, 3)),
    case("clone", lambda lib, a: a.clone() * a, (2, 3)),
    case("to_same_dtype", lambda lib, a: a.to(a.dtype) * a.double(), (2, 3)),
]

# The interpreter's matmul launches are slow (large fixed tiles): gradcheck them by projections.
LINALG = [
    case("matmul_1d_2d", lambda lib, a, b: a @ b, (3,), (3, 2), fast=True),
    case("matmul_2d_1d", lambda lib, a, b: lib.matmul(a, b), (2, 3), (3,), fast=True),
    case("matmul_2d_2d", lambda lib, a, b: a.matmul(b), (2, 3), (3, 2), fast=True),
    case("matmul_batched_broadcast", lambda lib, a, b: a @ b, (2, 1, 3), (3, 2), fast=True),
    case("matmul_batched_both_broadcast", lambda lib, a, b: a @ b, (2, 1, 1, 3), (1, 2, 3, 1), fast=True),
    case("matmul_1d_3d", lambda lib, a, b: a @ b, (2,), (3, 2, 1), fast=True),
    case("matmul_3d_1d", lambda lib, a, b: a @ b, (1, 2, 3), (3,), fast=True),
    case("dot", lambda lib, a, b: lib.dot(a, b), (3,), (3,)),
    case("mm", lambda lib, a, b: lib.mm(a, b), (2, 3), (3, 2), fast=True),
    case("bmm", lambda lib, a, b: lib.bmm(a, b), (2, 1, 3), (2, 3, 1), fast=True),
    case("mv", lambda lib, a, b: lib.mv(a, b), (2, 3), (3,), fast=True),
]

JOINS = [
    case("cat_dim1", lambda lib, a, b: lib.cat([a, b], dim=1), (2, 1), (2, 2)),
    case("cat_dim0_three", lambda lib, a, b: lib.cat([a, b * 2, a], 0), (1, 2), (2, 2)),
    case("stack", lambda lib, a, b: lib.stack([a, b], dim=1), (3,), (3,)),
    case("stack_negative_dim", lambda lib, a, b: lib.stack((a, b, a), dim=-1), (2,), (2,)),
]

ALL_CASES = ELEMENTWISE + REDUCTIONS + VIEWS + LINALG + JOINS


@pytest.mark.parametrize("spec", ALL_CASES, ids=lambda spec: spec.name)
def test_gradcheck_float64(spec):
    values = spec.sample()
    assert all(v.numel() <= 6 for v in values), "keep gradcheck inputs tiny"
    leaves = [to_tg(v, requires_grad=True) for v in values]
    assert tritongrad.autograd.gradcheck(lambda *inputs: spec.fn(tritongrad, *inputs), leaves, fast_mode=spec.fast)


def noncontiguous_leaf(value: torch.Tensor, lib):
    """A contiguous leaf and a non-contiguous view of it holding ``value``'s entries: the transpose
    of the last two dims, or (when that is still contiguous, e.g. for 1-D inputs) every other
    element of a leaf twice as long."""
    if value.dim() >= 2 and not value.transpose(-1, -2).contiguous().transpose(-1, -2).is_contiguous():
        storage, make_view = value.transpose(-1, -2).contiguous(), lambda t: t.transpose(-1, -2)
    elif value.dim() >= 1 and value.numel() > 1:
        storage, make_view = torch.stack([value, torch.full_like(value, 7.0)], dim=-1), lambda t: t[..., 0]
    else:
        storage, make_view = value, lambda t: t
    leaf = storage.clone().requires_grad_() if lib is torch else to_tg(storage, requires_grad=True)
    return leaf, make_view(leaf)


@pytest.mark.parametrize("layout", ["contiguous", "noncontiguous"])
@pytest.mark.parametrize("spec", ALL_CASES, ids=lambda spec: spec.name)
def test_gradients_match_torch_float32(spec, layout):
    if layout == "noncontiguous" and spec.contiguous_only:
        pytest.skip("view() of a non-contiguous input is an error in torch too")
    values = [v.float() for v in spec.sample()]
    results = {}
    for lib in (torch, tritongrad):
        if layout == "contiguous":
            leaves = [v.clone().requires_grad_() if lib is torch else to_tg(v, True) for v in values]
            inputs = leaves
        else:
            pairs = [noncontiguous_leaf(v, lib) for v in values]
            leaves, inputs = [p[0] for p in pairs], [p[1] for p in pairs]
            if lib is tritongrad:
                assert all(not t.is_contiguous() for t in inputs if t.numel() > 1)
        out = spec.fn(lib, *inputs)
        upstream = torch.randn(tuple(out.shape), generator=torch.Generator().manual_seed(5))
        out.backward(upstream if lib is torch else to_tg(upstream))
        results[lib.__name__] = (out, [leaf.grad for leaf in leaves])
    (out, grads), (want_out, want_grads) = results["tritongrad"], results["torch"]
    assert out.dtype == want_out.dtype, f"{spec.name}: output dtype {out.dtype} != torch's {want_out.dtype}"
    assert_close(out, want_out.detach(), f"{spec.name} forward ({layout})")
    for index, (grad, want) in enumerate(zip(grads, want_grads)):
        assert grad is not None, f"{spec.name}: input {index} got no gradient"
        assert_close(grad, want, f"{spec.name} grad of input {index} ({layout})", tolerances=(2e-5, 2e-5))


# grad_fn names of ops in ops/elementwise.py, ops/views.py, ops/indexing.py that differ from
# torch's (reported to their owner); strict, so a fix shows up as XPASS and the entry can go.
KNOWN_NAME_MISMATCHES: dict[str, str] = {}  # case name -> why tritongrad's node name differs (none left)


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(spec, marks=pytest.mark.xfail(strict=True, reason=KNOWN_NAME_MISMATCHES[spec.name]))
        if spec.name in KNOWN_NAME_MISMATCHES
        else spec
        for spec in ALL_CASES
    ],
    ids=lambda spec: spec.name,
)
def test_grad_fn_name_matches_torch(spec):
    values = [v.float() for v in spec.sample()]
    names = []
    for lib in (torch, tritongrad):
        leaves = [v.clone().requires_grad_() if lib is torch else to_tg(v, True) for v in values]
        node = spec.fn(lib, *leaves).grad_fn
        assert node.name() == type(node).__name__, f"{spec.name} ({lib.__name__}): {node.name()} is a {type(node)}"
        names.append(type(node).__name__)
    assert names[1] == names[0], f"{spec.name}: tritongrad's grad_fn is {names[1]}, torch's {names[0]}"


# ----------------------------------------------------------------------------- gradcheck itself


class WrongSquare(tritongrad.autograd.Function):
    """x**2 with a backward that is off by a factor of 1.5."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x * 3


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
def test_gradcheck_catches_a_wrong_backward(fast_mode):
    x = tritongrad.tensor([0.5, -1.0], dtype=tritongrad.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        tritongrad.autograd.gradcheck(WrongSquare.apply, (x,), fast_mode=fast_mode)
    assert tritongrad.autograd.gradcheck(WrongSquare.apply, (x,), raise_exception=False, fast_mode=fast_mode) is False


def test_a_gradient_of_another_dtype_is_cast_to_the_inputs_dtype():
    class Float32Backward(tritongrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return (grad * 2).to(tritongrad.float32)

    x = tritongrad.tensor([0.5, -1.0], dtype=tritongrad.float64, requires_grad=True)
    Float32Backward.apply(x).sum().backward()
    assert x.grad.dtype == tritongrad.float64 and x.grad.tolist() == [2.0, 2.0]
    assert tritongrad.autograd.gradcheck(Float32Backward.apply, (x,))


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
def test_gradcheck_handles_noncontiguous_inputs_and_several_outputs(fast_mode):
    base = tritongrad.tensor([[0.3, -0.7, 1.1], [0.9, 0.2, -0.4]], dtype=tritongrad.float64)
    y = tritongrad.tensor([0.5, 1.5], dtype=tritongrad.float64, requires_grad=True)
    transposed = base.t().requires_grad_()
    assert not transposed.is_contiguous()
    function = lambda a, b: (a.exp() * b, a.sum())
    assert tritongrad.autograd.gradcheck(function, (transposed, y), fast_mode=fast_mode)
    assert transposed.tolist() == base.t().tolist(), "gradcheck must restore the inputs it perturbs"


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        tritongrad.autograd.gradcheck(lambda a: a * 2, (tritongrad.tensor([1.0], dtype=tritongrad.float64),))


def test_gradcheck_warns_for_float32_inputs():
    x = tritongrad.tensor([0.5], requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        tritongrad.autograd.gradcheck(lambda a: a * 2, (x,), eps=1e-3, atol=1e-2)


def test_gradgradcheck_checks_second_derivatives():
    x = tritongrad.tensor([0.5, -1.0, 0.25], dtype=tritongrad.float64, requires_grad=True)
    assert tritongrad.autograd.gradgradcheck(lambda a: (a.sin() * a**3).sum(), (x,))
    with pytest.raises(GradcheckError):
        tritongrad.autograd.gradgradcheck(lambda a: WrongSquare.apply(a).sum() * a.sum(), (x,))


# ----------------------------------------------------------------------------- casts


def test_cast_round_trip_gradcheck():
    # float64 -> float32 -> float64: float32 rounding needs a larger finite-difference step
    x = tritongrad.tensor([0.3, -1.2, 2.5], dtype=tritongrad.float64, requires_grad=True)
    function = lambda a: (a.float() * a.float()).to(tritongrad.float64) * 3  # noqa: E731
    assert tritongrad.autograd.gradcheck(function, (x,), eps=1e-3, atol=1e-4, rtol=1e-3)


# (input dtype, the cast, the narrowest dtype the values pass through: the tolerance)
CASTS = {
    "f32_to_f64": (torch.float32, lambda a: a.to(torch.float64), torch.float32),
    "f32_f64_f32": (torch.float32, lambda a: a.double().float(), torch.float32),
    "f32_f16_f32": (torch.float32, lambda a: a.half().float(), torch.float16),
    "f32_bf16_f32": (torch.float32, lambda a: a.bfloat16().to(torch.float32), torch.bfloat16),
    "f64_to_f32": (torch.float64, lambda a: a.to(torch.float32), torch.float32),
    "f16_to_f32": (torch.float16, lambda a: a.float(), torch.float16),
    "bf16_to_f64": (torch.bfloat16, lambda a: a.to(dtype=torch.float64), torch.bfloat16),
}


@pytest.mark.parametrize("name", list(CASTS))
def test_cast_gradients_come_back_in_the_input_dtype(name):
    dtype, cast, narrowest = CASTS[name]
    values = torch.randn(2, 3).to(dtype)
    results = []
    for lib in (torch, tritongrad):
        x = values.clone().requires_grad_() if lib is torch else to_tg(values, requires_grad=True)
        y = cast(x)
        (y * y.detach().exp()).sum().backward()
        results.append((y, x.grad))
    (y, grad), (want_y, want_grad) = results[1], results[0]
    assert y.dtype == want_y.dtype and grad.dtype == dtype
    assert y.grad_fn.name() == want_y.grad_fn.name()
    assert_close(y, want_y.detach(), f"{name} forward", tolerances=TOLERANCES[narrowest])
    assert_close(grad, want_grad, f"{name} grad", tolerances=TOLERANCES[narrowest])


def test_clamp_with_tensor_bounds_splits_gradients_like_torch():
    """Ties go to the input, an empty range (low > high) to high: torch's ClampBackward0 rules, exactly."""
    x = torch.tensor([0.5, 1.0, -2.0, 3.0, 0.0, 2.0])
    low = torch.tensor([0.0, 1.0, -1.0, 0.0, 0.0, 2.5])
    high = torch.tensor([1.0, 2.0, 0.0, 2.0, 0.0, 1.0])
    grad = torch.arange(1.0, 7.0)
    for bounds in ((low, high), (low, None), (None, high)):
        results = []
        for lib in (torch, tritongrad):
            leaf = (lambda t: t.clone().requires_grad_()) if lib is torch else (lambda t: to_tg(t, True))
            leaves = [leaf(t) if t is not None else None for t in (x, *bounds)]
            out = lib.clamp(*leaves)
            out.backward(grad if lib is torch else to_tg(grad))
            results.append([out.tolist()] + [t.grad.tolist() for t in leaves if t is not None])
        present = [b is not None for b in bounds]
        assert results[1] == results[0], f"bounds present {present}: {results[1]} != {results[0]}"
