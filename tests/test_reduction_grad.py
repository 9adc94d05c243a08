"""Reduction gradients (sum, mean, prod, amax/amin, max/min, var/std, norm) against torch.autograd.

The reference is torch run in float64 on the same values and rounded to the tested
dtype, so low-precision dtypes are held to their own rounding, not to torch's
low-precision kernels. Edge cases follow torch's conventions: ties share the
gradient (amax, max()) or go to the returned index (max(dim)); zeros in prod;
NaN inputs; zero variance and zero norms (zero subgradients); dtype= arguments.
"""

from __future__ import annotations

import math

import pytest
import torch

import tritongrad
from tests.autograd_utils import TOLERANCES, assert_close, to_tg

INF = float("inf")

REDUCTIONS = {
    "sum_all": lambda x: x.sum(),
    "sum_last_dim": lambda x: x.sum(-1),
    "sum_first_dim_keepdim": lambda x: x.sum(0, keepdim=True),
    "mean_all": lambda x: x.mean(),
    "mean_last_dim": lambda x: x.mean(-1),
    "prod_all": lambda x: x.prod(),
    "prod_last_dim": lambda x: x.prod(-1),
    "amax_last_dim": lambda x: x.amax(-1),
    "amin_first_dim": lambda x: x.amin(0),
    "max_all": lambda x: x.max(),
    "min_all": lambda x: x.min(),
    "max_dim_values": lambda x: x.max(-1).values,
    "min_dim_keepdim_values": lambda x: x.min(0, keepdim=True).values,
    "var_last_dim": lambda x: x.var(-1),
    "var_all_biased": lambda x: x.var(unbiased=False),
    "std_all": lambda x: x.std(),
    "std_first_dim": lambda x: x.std(0),
    "norm_2_all": lambda x: x.norm(),
    "norm_1_last_dim": lambda x: x.norm(1, -1),
    "norm_inf_first_dim": lambda x: x.norm(INF, 0),
    "norm_3_all": lambda x: x.norm(3),
    "logsumexp_last_dim": lambda x: x.logsumexp(-1),
    "logsumexp_all_keepdim": lambda x: _lib(x).logsumexp(x, tuple(range(x.dim())), keepdim=True),
    "nansum_first_dim": lambda x: x.nansum(0),
    "nanmean_all": lambda x: _lib(x).nanmean(x),
    "var_correction0_keepdims": lambda x: x.var(-1, correction=0, keepdims=True),
    "std_correction_half_all": lambda x: x.std(correction=0.5),
    "var_mean_last_dim": lambda x: _sum_pair(_lib(x).var_mean(x, -1)),
    "std_mean_all_unbiased": lambda x: _sum_pair(_lib(x).std_mean(x, unbiased=False)),
    "aminmax_first_dim": lambda x: _sum_pair(_lib(x).aminmax(x, dim=0)),
    "sum_dims_list_axis": lambda x: x.sum(axis=list(range(x.dim()))),
}


def _lib(x):
    """The library whose tensor x is (the table's lambdas run on torch and on tritongrad)."""
    return tritongrad if isinstance(x, tritongrad.Tensor) else torch


def _sum_pair(pair):
    first, second = pair
    return first + second


# Reductions that need at least two elements per group to be finite (var/std with correction 1).
NEEDS_TWO = {"var_last_dim", "std_all", "std_first_dim", "var_mean_last_dim"}


SHAPES = {
    # shape of the leaf, and the view of it the reduction sees
    "size1": ((1,), lambda t: t),
    "prime": ((7,), lambda t: t),
    "2d": ((3, 5), lambda t: t),
    "3d": ((2, 3, 4), lambda t: t),
    "transposed": ((5, 3), lambda t: t.t()),  # non-contiguous
    "sliced": ((3, 10), lambda t: t[:, ::2]),  # non-contiguous, stride 2
    "expanded": ((1, 5), lambda t: t.expand(3, 5)),  # zero stride: gradients sum over the expanded dim
}


def reference_grads(fn, values: torch.Tensor, view, upstream_seed: int = 3):
    """torch's output and input gradient, computed in float64 and rounded to values.dtype."""
    leaf = values.double().requires_grad_()
    out = fn(view(leaf))
    upstream = torch.randn(
        tuple(out.shape), dtype=torch.float64, generator=torch.Generator().manual_seed(upstream_seed)
    )
    out.backward(upstream)
    return out.detach().to(values.dtype), leaf.grad.to(values.dtype), upstream


def check_against_torch(name: str, values: torch.Tensor, view, what: str, tolerances=None) -> None:
    fn = REDUCTIONS[name]
    want_out, want_grad, upstream = reference_grads(fn, values, view)
    leaf = to_tg(values, requires_grad=True)
    out = fn(view(leaf))
    assert out.dtype == values.dtype, f"{what}: output dtype {out.dtype}"
    out.backward(to_tg(upstream.to(out.dtype)))
    tolerances = tolerances or TOLERANCES[values.dtype]
    assert_close(out, want_out, f"{what} forward", tolerances=tolerances)
    assert leaf.grad is not None and leaf.grad.dtype == values.dtype, f"{what}: grad dtype"
    assert_close(leaf.grad, want_grad, f"{what} grad", tolerances=tolerances)


@pytest.mark.parametrize("layout", list(SHAPES))
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_grad_float32_layouts(name, layout):
    shape, view = SHAPES[layout]
    if name in NEEDS_TWO and layout == "size1":
        pytest.skip("var/std with correction 1 of one element is NaN (tested separately)")
    values = torch.randn(shape)
    # float32 reductions sum in a different order than torch's float64 reference.
    check_against_torch(name, values, view, f"{name} {layout} {tuple(shape)}", tolerances=(2e-5, 2e-5))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_grad_dtypes(name, dtype):
    values = (0.5 + torch.rand(3, 5)).to(dtype)  # in [0.5, 1.5): a product of 5 stays representable
    values = values * torch.where(torch.rand(3, 5) < 0.3, -1.0, 1.0).to(dtype)
    check_against_torch(name, values, lambda t: t, f"{name} {dtype}")


def test_sum_over_more_than_one_interpreter_block():
    values = torch.randn(2, 70_001)  # longer than the interpreter's 65,536-element block
    check_against_torch("sum_last_dim", values, lambda t: t, "sum (2, 70001)", tolerances=(1e-4, 1e-4))
    check_against_torch("mean_all", values, lambda t: t, "mean (2, 70001)", tolerances=(1e-4, 1e-4))


# ----------------------------------------------------------------------------- torch's tie rules, zeros, NaN


def run_both_grads(fn, values, dtype=torch.float32):
    """fn's output and input gradient for torch and tritongrad on the same values (upstream all ones)."""
    results = []
    for lib in (torch, tritongrad):
        x = lib.tensor(values, dtype=dtype, requires_grad=True)
        out = fn(x)
        out.backward(lib.ones(tuple(out.shape), dtype=out.dtype))
        results.append((out, x.grad))
    (out, grad), (want_out, want_grad) = results[1], results[0]
    return out, grad, want_out.detach(), want_grad


TIES = {
    "amax_shares_ties": lambda x: x.amax(1),
    "amin_shares_ties_all": lambda x: x.amin(),
    "max_all_shares_ties": lambda x: x.max(),
    "max_dim_first_index": lambda x: x.max(1).values,
    "min_dim_first_index": lambda x: x.min(0)[0],
    "norm_inf_shares_ties": lambda x: x.norm(INF, 1),
}


@pytest.mark.parametrize("name", list(TIES))
def test_ties_follow_torch(name):
    values = [[2.0, -3.0, 3.0, 3.0], [1.0, 1.0, -1.0, 1.0], [0.5, 0.5, 0.5, 0.5]]
    out, grad, want_out, want_grad = run_both_grads(TIES[name], values)
    assert_close(out, want_out, f"{name} forward")
    assert_close(grad, want_grad, f"{name} grad")


PROD_ZEROS = {
    "one_zero_all": ([[1.5, 0.0, -2.0], [0.5, 3.0, 1.25]], lambda x: x.prod()),
    "two_zeros_all": ([[1.5, 0.0, -2.0], [0.5, 0.0, 1.25]], lambda x: x.prod()),
    "one_zero_per_row": ([[1.5, 0.0, -2.0], [0.0, 3.0, 1.25]], lambda x: x.prod(1)),
    "zeros_in_one_column": ([[1.5, 0.0, -2.0], [0.5, 0.0, 1.25]], lambda x: x.prod(0, keepdim=True)),
    "two_zeros_one_row": ([[0.0, 0.0, -2.0], [0.5, 2.0, 1.25]], lambda x: x.prod(-1)),
    "all_zero_3d": ([[[0.0, 0.0], [1.0, 2.0]], [[3.0, 0.5], [0.0, 4.0]]], lambda x: x.prod(1)),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name", list(PROD_ZEROS))
def test_prod_with_zeros(name, dtype):
    values, fn = PROD_ZEROS[name]
    out, grad, want_out, want_grad = run_both_grads(fn, values, dtype)
    assert_close(out, want_out, f"prod {name} forward")
    assert_close(grad, want_grad, f"prod {name} grad")


NAN_CASES = {
    "max_all": lambda x: x.max(),
    "min_all": lambda x: x.min(),
    "amax": lambda x: x.amax(),
    "max_dim": lambda x: x.max(0).values,
    "norm_inf": lambda x: x.norm(INF),
    "norm_1": lambda x: x.norm(1),
    "sum": lambda x: x.sum(),
}


@pytest.mark.parametrize("name", list(NAN_CASES))
def test_nan_inputs_follow_torch(name):
    out, grad, want_out, want_grad = run_both_grads(NAN_CASES[name], [1.0, math.nan, 2.0])
    assert_close(out, want_out, f"{name} forward with NaN")
    assert_close(grad, want_grad, f"{name} grad with NaN")


DEGENERATE = {
    "var_of_one_element": ([1.5], lambda x: x.var()),
    "std_of_constant": ([2.0, 2.0, 2.0], lambda x: x.std()),
    "std_of_constant_rows": ([[2.0, 2.0], [1.0, 3.0]], lambda x: x.std(1)),
    "norm_2_of_zeros": ([0.0, 0.0], lambda x: x.norm()),
    "norm_3_of_zeros": ([0.0, 0.0], lambda x: x.norm(3)),
    "norm_rows_one_zero": ([[0.0, 0.0], [3.0, 4.0]], lambda x: x.norm(dim=1)),
    "var_of_scalar": (1.5, lambda x: x.var(correction=0)),
    "sum_of_scalar": (1.5, lambda x: x.sum()),
    "max_of_scalar": (1.5, lambda x: x.max()),
    "max_dim_of_scalar": (1.5, lambda x: x.max(0).values),
    "prod_of_scalar": (1.5, lambda x: x.prod()),
    "mean_dtype_float64": ([1.0, 2.0, 4.0], lambda x: x.mean(dtype=torch.float64)),
    "sum_dtype_float64": ([1.0, 2.0, 4.0], lambda x: x.sum(dtype=torch.float64)),
    "prod_dtype_float64": ([1.0, 2.0, 4.0], lambda x: x.prod(dtype=torch.float64)),
    "sum_tuple_dims_keepdim": ([[[1.0, 2.0], [3.0, 4.0]]], lambda x: x.sum((0, 2), keepdim=True)),
}


@pytest.mark.parametrize("name", list(DEGENERATE))
def test_degenerate_cases_follow_torch(name):
    values, fn = DEGENERATE[name]
    out, grad, want_out, want_grad = run_both_grads(fn, values)
    assert out.dtype == want_out.dtype, f"{name}: output dtype {out.dtype} != torch's {want_out.dtype}"
    assert_close(out, want_out, f"{name} forward")
    assert_close(grad, want_grad, f"{name} grad")


@pytest.mark.parametrize(
    "fn",
    [lambda lib, x: x.sum(0), lambda lib, x: x.mean(1), lambda lib, x: x.sum(), lambda lib, x: x.amax(1)],
    ids=["sum_dim0", "mean_dim1", "sum_all", "amax_dim1"],
)
def test_empty_inputs(fn):
    # size 0: gradients are empty tensors of the input's shape
    results = []
    for lib in (torch, tritongrad):
        x = lib.zeros(0, 3, requires_grad=True) if lib is torch else tritongrad.zeros(0, 3, requires_grad=True)
        out = fn(lib, x)
        out.backward(lib.ones(tuple(out.shape)))
        results.append((tuple(out.shape), tuple(x.grad.shape)))
    assert results[1] == results[0]


def test_integer_reductions_do_not_require_grad():
    x = tritongrad.tensor([[1, 2], [3, 4]])
    assert not x.sum().requires_grad and x.sum().grad_fn is None


# ----------------------------------------------------------------------------- second derivatives


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.var(1),
        lambda x: x.std(),
        lambda x: x.norm(),
        lambda x: x.norm(3, dim=0),
        lambda x: x.prod(1),
        lambda x: x.mean(0) * x.sum(1, keepdim=True),
        lambda x: x.amax(1) * x.max(),
    ],
    ids=["var", "std", "norm2", "norm3_dim", "prod", "mean_times_sum", "amax_times_max"],
)
def test_reduction_second_derivatives(fn):
    values = torch.tensor([[0.7, -1.3, 0.4], [1.1, 0.2, -0.6]], dtype=torch.float64)
    x = to_tg(values, requires_grad=True)
    assert tritongrad.autograd.gradgradcheck(fn, (x,), fast_mode=True)


def test_second_derivative_of_variance_matches_torch():
    values = torch.tensor([0.5, -1.0, 2.0, 0.25], dtype=torch.float64)
    results = []
    for lib in (torch, tritongrad):
        x = values.clone().requires_grad_() if lib is torch else to_tg(values, requires_grad=True)
        (first,) = lib.autograd.grad(x.var() * x.sum(), x, create_graph=True)
        (second,) = lib.autograd.grad((first * first).sum(), x)
        results.append(second)
    assert_close(results[1], results[0], "d/dx |d var(x) sum(x) / dx|^2")


def test_variance_without_degrees_of_freedom_warns_like_torch():
    for lib in (torch, tritongrad):
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
            value = lib.tensor([1.5]).var()
        assert math.isnan(value.item())


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "amax", "amin", "var", "std", "all", "any"])
def test_reductions_accept_numpy_axis(name):
    values = torch.randn(3, 4, dtype=torch.float64) + 2
    want = getattr(values, name)(axis=1)
    assert_close(getattr(to_tg(values), name)(axis=1), want, f"{name}(axis=1)")
    axis = (0, 1) if name == "sum" else 0
    got = getattr(tritongrad, name)(to_tg(values), axis=axis)
    assert_close(got, getattr(torch, name)(values, axis=axis), f"tritongrad.{name}(x, axis={axis})")
    for lib_values in (values, to_tg(values)):  # both spellings at once: a TypeError naming the function
        with pytest.raises(TypeError, match=f"^{name}\\(\\) "):
            getattr(lib_values, name)(dim=0, axis=1)


def test_return_types_unpack_and_name_like_torch():
    values = torch.randn(3, 4)
    got, want = to_tg(values).max(1), values.max(1)
    assert type(got).__name__ == "max" and isinstance(got, tuple) and len(got) == 2
    got_values, got_indices = got
    assert got_values is got.values and got_indices is got.indices
    assert_close(got.indices, want.indices, "max(1).indices")
    assert repr(got).startswith("torch.return_types.max(\nvalues=tensor(")
    low_high = tritongrad.aminmax(to_tg(values))
    assert type(low_high).__name__ == "aminmax" and low_high.min.item() == values.min().item()


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "var", "std", "logsumexp", "nansum", "any", "all"])
def test_keepdims_alias(name):
    values = torch.randn(3, 4, dtype=torch.float64) + 2
    want = getattr(values, name)(1, keepdim=True)
    assert_close(getattr(to_tg(values), name)(1, keepdims=True), want, f"{name}(1, keepdims=True)")
    for lib_values in (values, to_tg(values)):  # both spellings at once: a TypeError naming the function
        with pytest.raises(TypeError, match=f"^{name}\\(\\) "):
            getattr(lib_values, name)(1, keepdim=True, keepdims=True)


def test_max_of_two_tensors_and_numbers():
    a, b = torch.randn(3, 4), torch.randn(3, 4)
    assert_close(tritongrad.max(to_tg(a), to_tg(b)), torch.max(a, b), "max(a, b)")
    assert_close(tritongrad.min(to_tg(a), to_tg(b)), torch.min(a, b), "min(a, b)")
    got, want = tritongrad.max(to_tg(a), 0), torch.max(a, 0)
    assert_close(got.values, want.values, "max(a, 0)")


def test_nan_rows_in_max_and_argmax():
    values = torch.tensor([[1.0, math.nan, 3.0, math.nan], [2.0, 5.0, 5.0, 1.0]])
    for name in ("max", "min"):
        got, want = getattr(to_tg(values), name)(1), getattr(values, name)(1)
        assert_close(got.values, want.values, f"{name}(1) values with NaN")
        assert_close(got.indices, want.indices, f"{name}(1) indices with NaN")
    assert_close(to_tg(values).argmax(1), values.argmax(1), "argmax with NaN")
    assert_close(to_tg(values).argmin(), values.argmin(), "argmin() with NaN")
    assert_close(to_tg(values).max(), values.max(), "max() with NaN")


def test_count_nonzero_dims():
    values = torch.tensor([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    for dim in (None, 0, 1, (0, 1), -1):
        assert_close(tritongrad.count_nonzero(to_tg(values), dim), torch.count_nonzero(values, dim), f"dim {dim}")
