"""Scans (cumsum, cumprod, cummax, cummin) against torch: values, indices, dtypes, layouts, NaN,
rows longer than one tile, and gradients (cumprod's with zeros) including float64 gradcheck.

Sums and products of floating inputs are compared with torch's float64 result on the same
values (rounded to the tested dtype); cummax/cummin values and indices must match exactly.
"""

from __future__ import annotations

import math

import pytest
import torch

import tritongrad
from tests.utils import FLOAT_DTYPES, assert_close, from_torch, make_pair, random_values
from tritongrad.autograd import gradcheck, gradgradcheck
from tritongrad.kernels import scan as kernels

# (shape, dim): each exercises one thing.
CASES = [
    ((0,), 0),  # empty
    ((1,), 0),  # one element
    ((13,), -1),  # prime, negative dim
    ((4, 0), 1),  # empty rows
    ((5, 7), 0),  # column scans: the scanned dim is strided
    ((5, 7), 1),  # row scans
    ((2, 3, 11), 1),  # middle dim
    ((), 0),  # 0-dim
]


def case_id(case) -> str:
    shape, dim = case
    return f"{'x'.join(map(str, shape)) or 'scalar'}-dim{dim}"


def torch_oracle(name: str, x: torch.Tensor, dim: int, dtype=None):
    if name in ("cumsum", "cumprod") and x.dtype.is_floating_point:
        return getattr(torch, name)(x.double(), dim).to(x.dtype)
    return getattr(torch, name)(x, dim, dtype=dtype) if dtype else getattr(torch, name)(x, dim)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [torch.int32, torch.int64, torch.bool], ids=str)
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumsum_cumprod(name, case, dtype):
    shape, dim = case
    # products of up to 13 factors in [0.5, 1.5] stay far from overflow in every dtype
    expected_in, got_in = make_pair(
        shape, dtype, low=0.5 if name == "cumprod" else -3, high=1.5 if name == "cumprod" else 3
    )
    got = getattr(tritongrad, name)(got_in, dim)
    assert_close(got, torch_oracle(name, expected_in, dim), what=f"{name}({tuple(shape)}, dim={dim}) {dtype}")


@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin"])
def test_strided_inputs(name, dim, layout):
    expected_in, got_in = make_pair((6, 9), torch.float32, layout, low=0.5, high=1.5)
    got, expected = getattr(tritongrad, name)(got_in, dim), torch_oracle(name, expected_in, dim)
    if name in ("cummax", "cummin"):
        assert_close(got.values, expected.values, what=f"{name} {layout} values")
        assert_close(got.indices, expected.indices, what=f"{name} {layout} indices")
    else:
        assert_close(got, expected, what=f"{name} {layout}")


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.int32], ids=str)
def test_dtype_argument(dtype):
    expected_in, got_in = make_pair((3, 5), torch.int32)
    assert_close(tritongrad.cumsum(got_in, 1, dtype=dtype), torch.cumsum(expected_in, 1, dtype=dtype))
    assert_close(tritongrad.cumprod(got_in, 0, dtype=dtype), torch.cumprod(expected_in, 0, dtype=dtype))


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int64, torch.bool], ids=str)
@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin(name, case, dtype):
    shape, dim = case
    if not shape:
        pytest.skip(reason="torch's cummax of a 0-dim tensor is covered by test_zero_dim")
    base = random_values(shape, dtype)
    # few distinct values: ties, where torch reports the latest index
    expected_in = base.round() if dtype.is_floating_point else base
    got = getattr(tritongrad, name)(from_torch(expected_in), dim)
    expected = getattr(torch, name)(expected_in, dim)
    assert type(got).__name__ == name and got.values is got[0]
    assert_close(got.values, expected.values, what=f"{name} values {tuple(shape)} {dtype}")
    assert_close(got.indices, expected.indices, what=f"{name} indices {tuple(shape)} {dtype}")


def test_zero_dim():
    x = torch.tensor(2.5)
    assert_close(tritongrad.cumsum(from_torch(x), 0), torch.cumsum(x, 0))
    got, expected = tritongrad.cummax(from_torch(x), 0), torch.cummax(x, 0)
    assert_close(got.values, expected.values)
    assert_close(got.indices, expected.indices)


def test_nan_propagates_with_torch_indices():
    x = torch.tensor([[1.0, 1.0, math.nan, 5.0, 5.0, math.nan, -1.0], [3.0, math.nan, 2.0, 0.0, math.nan, 1, 1]])
    for name in ("cummax", "cummin"):
        got, expected = getattr(tritongrad, name)(from_torch(x), 1), getattr(torch, name)(x, 1)
        assert_close(got.values, expected.values, what=f"{name} values")
        assert_close(got.indices, expected.indices, what=f"{name} indices")
    assert_close(tritongrad.cumsum(from_torch(x), 1), torch.cumsum(x, 1))
    assert_close(tritongrad.cumprod(from_torch(x), 1), torch.cumprod(x, 1))


@pytest.mark.parametrize("op", ["sum", "prod", "max", "min"])
@pytest.mark.parametrize("max_tile", [1, 4, 8])
def test_rows_longer_than_one_tile(op, max_tile):
    # 37 = several tiles of 4 or 8 lanes plus a partial one: the carry crosses tile boundaries
    x = (torch.randn(3, 37) / 4 + 1).round(decimals=1)
    reference = {"sum": torch.cumsum, "prod": torch.cumprod, "max": torch.cummax, "min": torch.cummin}[op]
    for dim in (0, 1):
        got = kernels.launch_scan(x, dim, op, with_indices=op in ("max", "min"), max_tile=max_tile)
        expected = reference(x.double() if op in ("sum", "prod") else x, dim)
        if op in ("max", "min"):
            assert torch.equal(got[0], expected.values) and torch.equal(got[1], expected.indices), (op, dim, max_tile)
        else:
            assert_close(got, expected.float(), what=f"{op} over tiles of {max_tile}", rtol=1e-5)


@pytest.mark.parametrize("max_tile", [None, 4])
def test_reverse_and_exclusive_scans(max_tile):
    x = torch.randn(4, 10)
    reverse = kernels.launch_scan(x, 1, "sum", reverse=True, max_tile=max_tile)
    assert_close(reverse, x.double().flip(1).cumsum(1).flip(1).float(), rtol=1e-5)
    exclusive = kernels.launch_scan(x, 0, "prod", exclusive=True, max_tile=max_tile)
    expected = torch.cat([torch.ones(1, 10), x.double().cumprod(0)[:-1].float()])
    assert_close(exclusive, expected, rtol=1e-5)


# ----------------------------------------------------------------------------------- gradients


def run_both(fn, values: torch.Tensor, upstream: torch.Tensor | None = None):
    """fn's output and input gradient in torch (float64, rounded back) and in tritongrad."""
    leaf = values.double().requires_grad_()
    out = fn(leaf, torch)
    upstream = torch.randn(tuple(out.shape), dtype=torch.float64) if upstream is None else upstream
    out.backward(upstream)
    mine = from_torch(values, requires_grad=True)
    got = fn(mine, tritongrad)
    got.backward(from_torch(upstream.to(values.dtype)))
    return got, mine.grad, out.detach().to(values.dtype), leaf.grad.to(values.dtype)


GRADS = {
    "cumsum": lambda x, lib: lib.cumsum(x, 1),
    "cumsum_dim0": lambda x, lib: x.cumsum(0),
    "cumprod": lambda x, lib: lib.cumprod(x, 1),
    "cumprod_dim0": lambda x, lib: x.cumprod(-2),
    "cummax": lambda x, lib: lib.cummax(x, 1).values,
    "cummin_dim0": lambda x, lib: x.cummin(0)[0],
}


NODE_NAMES = {"cumsum": "CumsumBackward0", "cumprod": "CumprodBackward0", "cummax": "CummaxBackward0",
              "cummin": "CumminBackward0"}  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", list(GRADS))
def test_gradients(name, dtype):
    values = (torch.rand(4, 7) + 0.5).to(dtype)
    got, grad, want, want_grad = run_both(GRADS[name], values)
    assert got.grad_fn.name() == NODE_NAMES[name.split("_")[0]]
    tolerance = {torch.float32: 1e-5, torch.float64: 1e-10, torch.bfloat16: 3e-2}[dtype]
    assert_close(got, want, dtype, rtol=tolerance, atol=tolerance, what=f"{name} forward")
    assert_close(grad, want_grad, dtype, rtol=tolerance, atol=tolerance, what=f"{name} grad")


@pytest.mark.parametrize("zeros", [[2], [0], [6], [2, 4], [0, 1, 6]], ids=lambda z: "zeros at " + ",".join(map(str, z)))
def test_cumprod_gradient_with_zeros(zeros):
    values = torch.rand(3, 7) + 0.5
    values[:, zeros] = 0.0
    got, grad, want, want_grad = run_both(GRADS["cumprod"], values)
    assert_close(got, want, what="cumprod with zeros")
    assert_close(grad, want_grad, what=f"cumprod grad with zeros at {zeros}")


def test_cummax_gradient_accumulates_on_repeated_indices():
    values = torch.tensor([[1.0, 3.0, 2.0, 3.0, 0.0], [5.0, 4.0, 3.0, 2.0, 1.0]])
    got, grad, want, want_grad = run_both(GRADS["cummax"], values)
    assert_close(grad, want_grad, what="cummax grad")


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cumsum_dim0"])
def test_gradcheck_float64(name):
    x = tritongrad.tensor((torch.rand(3, 5, dtype=torch.float64) + 0.5).tolist(), dtype=torch.float64,
                          requires_grad=True)  # fmt: skip
    assert gradcheck(lambda t: GRADS[name](t, tritongrad), (x,))


def test_cumsum_second_derivative():
    values = torch.rand(2, 5, dtype=torch.float64)
    x = from_torch(values, requires_grad=True)
    (first,) = tritongrad.autograd.grad((x.cumsum(1) ** 2).sum(), x, create_graph=True)
    (second,) = tritongrad.autograd.grad(first.sum(), x)
    t = values.clone().requires_grad_()
    (want_first,) = torch.autograd.grad((t.cumsum(1) ** 2).sum(), t, create_graph=True)
    (want_second,) = torch.autograd.grad(want_first.sum(), t)
    assert_close(first, want_first.detach())
    assert_close(second, want_second)


# (shape, dim, positions set to zero along dim): second derivatives are exact with zeros too
CUMPROD_SECOND_CASES = [
    ((2, 5), 1, []),
    ((4, 3), 0, []),
    ((3, 6), 1, [2]),  # one zero: the products after it vanish, their derivatives do not
    ((3, 6), 1, [0, 4]),  # two zeros
    ((7,), 0, [6]),  # a zero at the end
    ((1, 1), 1, []),  # one element: the gradient is the output gradient, independent of x
    ((2, 0), 1, []),  # empty rows
    ((3, 1), 1, []),  # rows of one
]


@pytest.mark.parametrize("shape, dim, zeros", CUMPROD_SECOND_CASES, ids=str)
def test_cumprod_second_derivative(shape, dim, zeros):
    values = torch.rand(shape, dtype=torch.float64) + 0.5
    if zeros:
        values.index_fill_(dim, torch.tensor(zeros), 0.0)
    weight = torch.randn(shape, dtype=torch.float64)
    x = from_torch(values, requires_grad=True)
    (first,) = tritongrad.autograd.grad((x.cumprod(dim) * from_torch(weight)).sum(), x, create_graph=True)
    t = values.clone().requires_grad_()
    (want_first,) = torch.autograd.grad((t.cumprod(dim) * weight).sum(), t, create_graph=True)
    assert_close(first, want_first.detach(), what=f"cumprod first derivative {shape} zeros at {zeros}")
    if shape[dim] <= 1:  # the first derivative does not depend on x: torch refuses a second one
        with pytest.raises(RuntimeError):
            torch.autograd.grad((want_first**2).sum(), t)
        with pytest.raises(RuntimeError):
            tritongrad.autograd.grad((first**2).sum(), x)
        return
    (second,) = tritongrad.autograd.grad((first**2).sum(), x)
    (want_second,) = torch.autograd.grad((want_first**2).sum(), t)
    assert_close(
        second, want_second, rtol=1e-10, atol=1e-10, what=f"cumprod second derivative {shape} zeros at {zeros}"
    )


@pytest.mark.parametrize("dim", [0, 1])
def test_cumprod_gradgradcheck_float64(dim):
    values = torch.rand(3, 4, dtype=torch.float64) + 0.5
    values[1, 2] = 0.0  # a zero inside: the derivative torch's division-free formula must keep exact
    x = from_torch(values, requires_grad=True)
    assert gradgradcheck(lambda t: t.cumprod(dim), (x,))
    third_order = from_torch(values, requires_grad=True)
    (first,) = tritongrad.autograd.grad(third_order.cumprod(dim).sum(), third_order, create_graph=True)
    (second,) = tritongrad.autograd.grad(first.sum(), third_order, create_graph=True)
    (third,) = tritongrad.autograd.grad(second.sum(), third_order)
    t = values.clone().requires_grad_()
    (want_first,) = torch.autograd.grad(t.cumprod(dim).sum(), t, create_graph=True)
    (want_second,) = torch.autograd.grad(want_first.sum(), t, create_graph=True)
    (want_third,) = torch.autograd.grad(want_second.sum(), t)
    assert_close(third, want_third, what="cumprod third derivative")


@pytest.mark.parametrize("reverse", [True, False])
@pytest.mark.parametrize("dim", [0, 1])
def test_affine_scan_both_directions(reverse, dim):
    values, coefficients = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64)
    got = kernels.launch_affine_scan(values, coefficients, dim, reverse=reverse, max_tile=2)
    v, c = values.movedim(dim, -1), coefficients.movedim(dim, -1)
    want = torch.empty_like(v)
    n = v.shape[-1]
    for k in range(n - 1, -1, -1) if reverse else range(n):
        neighbour = k + 1 if reverse else k - 1
        carried = c[..., max(k, neighbour)] * want[..., neighbour] if 0 <= neighbour < n else 0
        want[..., k] = v[..., k] + carried
    assert_close(got, want.movedim(-1, dim), what=f"affine scan reverse={reverse} dim={dim}")


def test_bad_dims():
    x = from_torch(torch.randn(2, 3))
    with pytest.raises(IndexError):
        tritongrad.cumsum(x, 2)
    with pytest.raises(IndexError):
        tritongrad.cummax(x, -3)
