"""Ordering ops against torch: sort, argsort, msort, topk, kthvalue, median, mode, unique.

Values must match torch exactly (sorting moves elements, it does not compute). Indices are
compared with torch's ``stable=True`` sort, which fixes the order of ties; tritongrad's sort is
always stable. Where torch's index choice among ties is unspecified (topk, kthvalue, median), the
test compares the value at the returned index instead. Rows longer than one register tile go
through the merge passes (forced on short rows with ``max_tile``).
"""

from __future__ import annotations

import math

import pytest
import torch

import tritongrad
from tests.utils import FLOAT_DTYPES, assert_close, from_torch, make_pair, random_values
from tritongrad.autograd import gradcheck
from tritongrad.kernels import sort as kernels

ALL_SORTABLE = FLOAT_DTYPES + [torch.int32, torch.int64, torch.bool, torch.uint8]

# (shape, dim)
CASES = [
    ((0,), 0),  # empty
    ((1,), 0),  # one element
    ((13,), -1),  # prime
    ((3, 0), 1),  # empty rows
    ((5, 7), 0),  # sort along a strided dim
    ((5, 7), 1),
    ((2, 3, 11), 1),  # middle dim
    ((2, 100), -1),  # > one 64-lane tile of rows per program
    ((), 0),  # 0-dim
]


def case_id(case) -> str:
    shape, dim = case
    return f"{'x'.join(map(str, shape)) or 'scalar'}-dim{dim}"


def with_ties_and_specials(shape, dtype) -> torch.Tensor:
    """Random values with many ties; floats also get NaN, +-inf and -0.0 when there is room."""
    values = random_values(shape, dtype, low=0 if dtype == torch.uint8 else -3)
    if dtype.is_floating_point:
        values = values.round()
        flat = values.view(-1)
        for position, special in zip((1, 3, 5, 8), (math.nan, -0.0, math.inf, -math.inf)):
            if position < flat.numel():
                flat[position] = special
    return values


def assert_same_sort(got, expected, what: str) -> None:
    values, indices = got
    assert_close(values, expected.values, what=f"{what} values")
    assert_close(indices, expected.indices, what=f"{what} indices")


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", ALL_SORTABLE, ids=str)
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_sort_matches_stable_torch(case, dtype, descending):
    shape, dim = case
    x = with_ties_and_specials(shape, dtype)
    got = tritongrad.sort(from_torch(x), dim, descending=descending)
    assert type(got).__name__ == "sort" and got.values is got[0]
    expected = torch.sort(x, dim=dim, descending=descending, stable=True)
    assert_same_sort(got, expected, f"sort {tuple(shape)} dim {dim} {dtype}")
    assert_close(tritongrad.argsort(from_torch(x), dim, descending), expected.indices, what="argsort")


def test_negative_zero_keeps_its_bits_and_place():
    x = torch.tensor([0.0, -0.0, 1.0, -0.0, 0.0])
    got = tritongrad.sort(from_torch(x)).values
    expected = torch.sort(x, stable=True).values
    assert torch.equal(torch.signbit(got._data), torch.signbit(expected))


@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
@pytest.mark.parametrize("dim", [0, 1])
def test_sort_strided_inputs(layout, dim):
    expected_in, got_in = make_pair((6, 9), torch.float32, layout)
    got = tritongrad.sort(got_in, dim, descending=True)
    assert_same_sort(got, torch.sort(expected_in, dim=dim, descending=True, stable=True), f"sort {layout}")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.float16], ids=str)
@pytest.mark.parametrize("max_tile", [1, 2, 8])
@pytest.mark.parametrize("length", [5, 8, 37])
def test_merge_passes(length, max_tile, dtype):
    # tiles of max_tile lanes sorted in registers, then merged pairwise (odd run counts included)
    x = with_ties_and_specials((3, length), dtype)
    for descending in (False, True):
        got = kernels.launch_sort(x, 1, descending, max_tile=max_tile)
        expected = torch.sort(x, dim=1, descending=descending, stable=True)
        assert_same_sort(got, expected, f"merged sort of {length} in tiles of {max_tile}")
        window = kernels.launch_sort(x, 1, descending, start=1, stop=4, max_tile=max_tile)
        assert_same_sort(window, type(expected)((expected.values[:, 1:4], expected.indices[:, 1:4])), "window")


def test_long_rows():
    x = torch.randn(2, 5000)
    x[0, ::7] = 0.5  # ties across tiles
    assert_same_sort(tritongrad.sort(from_torch(x), 1), torch.sort(x, dim=1, stable=True), "sort of 5000")
    got = kernels.launch_sort(x, 1, True, max_tile=512)
    assert_same_sort(got, torch.sort(x, dim=1, descending=True, stable=True), "merged sort of 5000")


def test_msort():
    x = random_values((7, 3), torch.float32)
    assert_close(tritongrad.msort(from_torch(x)), torch.msort(x))


# ----------------------------------------------------------------------------------- topk


@pytest.mark.parametrize("k", [0, 1, 3, 7])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int32, torch.int64], ids=str)
def test_topk(k, largest, dtype):
    x = with_ties_and_specials((4, 7), dtype)
    got = tritongrad.topk(from_torch(x), k, largest=largest)
    expected = torch.topk(x, k, largest=largest)
    assert type(got).__name__ == "topk"
    assert_close(got.values, expected.values, what=f"topk({k}, largest={largest}) values")
    # torch leaves the order of tied indices open; the indices must point at the values
    assert_close(x.gather(1, got.indices._data), expected.values, what="values at the topk indices")
    stable = torch.sort(x, dim=1, descending=largest, stable=True).indices[:, :k]
    assert_close(got.indices, stable, what="topk indices (stable order)")


def test_topk_along_dim0_and_errors():
    x = random_values((6, 4), torch.float32)
    got, expected = tritongrad.topk(from_torch(x), 2, dim=0), torch.topk(x, 2, dim=0)
    assert_close(got.values, expected.values)
    with pytest.raises(RuntimeError, match="k out of range"):
        tritongrad.topk(from_torch(x), 5)


# ----------------------------------------------------------------------------------- kthvalue, median, mode


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_kthvalue(dim, keepdim):
    x = with_ties_and_specials((5, 6), torch.float32)
    for k in (1, 3, 5):
        got = tritongrad.kthvalue(from_torch(x), k, dim, keepdim=keepdim)
        expected = torch.kthvalue(x, k, dim, keepdim=keepdim)
        assert_close(got.values, expected.values, what=f"kthvalue({k}, dim={dim})")
        picked = x.gather(dim % 2, got.indices._data if keepdim else got.indices._data.unsqueeze(dim))
        assert_close(picked if keepdim else picked.squeeze(dim), expected.values, what="value at the index")
    with pytest.raises(RuntimeError):
        tritongrad.kthvalue(from_torch(x), 7, 1)


@pytest.mark.parametrize("shape", [(1,), (7,), (6,), (4, 5), (3, 4, 2)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.bfloat16], ids=str)
def test_median(shape, dtype):
    x = random_values(shape, dtype)  # distinct-ish values: torch's median index is then unique
    got_all = tritongrad.median(from_torch(x))
    assert_close(got_all, torch.median(x), what=f"median() {shape}")
    for dim in range(len(shape)):
        for keepdim in (False, True):
            got = tritongrad.median(from_torch(x), dim, keepdim=keepdim)
            expected = torch.median(x, dim, keepdim=keepdim)
            assert type(got).__name__ == "median"
            assert_close(got.values, expected.values, what=f"median(dim={dim}) values")
            index = got.indices._data if keepdim else got.indices._data.unsqueeze(dim)
            values_at = x.gather(dim, index)
            assert_close(values_at if keepdim else values_at.squeeze(dim), expected.values, what="value at index")


def test_median_with_nan():
    x = torch.tensor([[1.0, math.nan, 2.0, math.nan], [3.0, 1.0, 2.0, 0.0], [math.nan, 5.0, 1.0, 1.0]])
    got, expected = tritongrad.median(from_torch(x), 1), torch.median(x, 1)
    assert_close(got.values, expected.values, what="median with NaN rows")
    assert_close(got.indices, expected.indices, what="index of the first NaN")
    assert_close(tritongrad.median(from_torch(x)), torch.median(x))
    assert_close(tritongrad.median(from_torch(torch.tensor([]))), torch.median(torch.tensor([])))


@pytest.mark.parametrize("nan_fraction", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("shape", [(1,), (7,), (4, 6), (3, 5, 2)])
def test_nanmedian(shape, nan_fraction):
    x = random_values(shape, torch.float32)
    x[torch.rand(shape) < nan_fraction] = math.nan
    assert_close(tritongrad.nanmedian(from_torch(x)), torch.nanmedian(x), what=f"nanmedian() {shape}")
    for dim in range(len(shape)):
        got, expected = tritongrad.nanmedian(from_torch(x), dim), torch.nanmedian(x, dim)
        assert type(got).__name__ == "nanmedian"
        assert_close(got.values, expected.values, what=f"nanmedian(dim={dim}) values")
        values_at = x.gather(dim, got.indices._data.unsqueeze(dim)).squeeze(dim)
        assert_close(values_at, expected.values, what="value at the nanmedian index")


def test_nanmedian_gradients():
    values = torch.tensor([[1.0, math.nan, 3.0, 2.0], [4.0, 1.0, math.nan, 0.0], [5.0, 6.0, 7.0, 8.0]])
    for fn in (lambda x, lib: x.nanmedian(), lambda x, lib: lib.nanmedian(x, 1).values):
        got, grad, want, want_grad = run_both(fn, values)
        assert_close(got, want, what="nanmedian forward")
        assert_close(grad, want_grad, what="nanmedian grad")
    assert got.grad_fn.name() == "NanmedianBackward1"


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.int32, torch.bool], ids=str)
def test_mode(dim, dtype):
    x = (
        random_values((6, 9), dtype, low=-2, high=2).round()
        if dtype.is_floating_point
        else random_values((6, 9), dtype, low=-2, high=2)
    )
    got, expected = tritongrad.mode(from_torch(x), dim), torch.mode(x, dim)
    assert type(got).__name__ == "mode"
    assert_close(got.values, expected.values, what=f"mode(dim={dim}) values")
    assert_close(got.indices, expected.indices, what=f"mode(dim={dim}) indices (last occurrence)")
    got, expected = tritongrad.mode(from_torch(x), dim, keepdim=True), torch.mode(x, dim, keepdim=True)
    assert_close(got.values, expected.values, what="mode keepdim")


def test_mode_of_one_element_and_scalar():
    for x in (torch.tensor([3.0]), torch.tensor(2.0)):
        got, expected = tritongrad.mode(from_torch(x)), torch.mode(x)
        assert_close(got.values, expected.values)
        assert_close(got.indices, expected.indices)


# ----------------------------------------------------------------------------------- unique


@pytest.mark.parametrize("shape", [(0,), (1,), (13,), (4, 6), (2, 3, 5)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int64, torch.int32, torch.bool], ids=str)
def test_unique(shape, dtype):
    x = with_ties_and_specials(shape, dtype)
    got = tritongrad.unique(from_torch(x), return_inverse=True, return_counts=True)
    expected = torch.unique(x, return_inverse=True, return_counts=True)
    for part, g, e in zip(("values", "inverse", "counts"), got, expected):
        assert_close(g, e, what=f"unique {part} of {tuple(shape)} {dtype}")
    assert_close(tritongrad.unique(from_torch(x)), torch.unique(x), what="unique values only")
    assert_close(from_torch(x).unique(sorted=False), torch.unique(x, sorted=True), what="sorted=False is sorted")


# (shape, dim, layout): rows of few distinct values so slices repeat; each exercises one thing.
UNIQUE_DIM_CASES = [
    ((7, 3), 0, "contiguous"),  # rows
    ((4, 9), 1, "contiguous"),  # columns: the slices are strided
    ((3, 5, 2), 1, "contiguous"),  # middle dim: slices of 6 elements
    ((6, 4), 0, "transposed"),  # a non-contiguous input
    ((11,), 0, "contiguous"),  # 1-D: the slices are single elements
    ((0, 2), 0, "contiguous"),  # no slices
    ((1, 3), 0, "contiguous"),  # one slice
]


@pytest.mark.parametrize("shape, dim, layout", UNIQUE_DIM_CASES, ids=str)
@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.bool], ids=str)
def test_unique_along_a_dim(shape, dim, layout, dtype):
    base = torch.randint(0, 2, shape if layout == "contiguous" else shape[::-1]).to(dtype)
    x = base if layout == "contiguous" else base.t()
    got = tritongrad.unique(from_torch(x), dim=dim, return_inverse=True, return_counts=True)
    expected = torch.unique(x, dim=dim, return_inverse=True, return_counts=True)
    for part, g, e in zip(("values", "inverse", "counts"), got, expected):
        assert_close(g, e, what=f"unique(dim={dim}) {part} of {tuple(shape)} {dtype} {layout}")
    assert_close(from_torch(x).unique(dim=dim), torch.unique(x, dim=dim), what="unique(dim) values only")


def test_unique_along_a_dim_keeps_nan_slices_apart_and_checks_dims():
    x = torch.tensor([[1.0, float("nan")], [1.0, float("nan")], [0.0, 2.0], [0.0, 2.0]])
    got = tritongrad.unique(from_torch(x), dim=0, return_counts=True)
    expected = torch.unique(x, dim=0, return_counts=True)
    assert_close(got[0], expected[0])
    assert_close(got[1], expected[1])
    for bad, dim, error in ((torch.ones(2, 2), 2, IndexError), (torch.tensor(1.0), 0, IndexError),
                            (torch.ones(3, 0), 0, RuntimeError)):  # fmt: skip
        with pytest.raises(error):
            torch.unique(bad, dim=dim)
        with pytest.raises(error):
            tritongrad.unique(from_torch(bad), dim=dim)


# ----------------------------------------------------------------------------------- gradients


def run_both(fn, values: torch.Tensor):
    leaf = values.double().requires_grad_()
    out = fn(leaf, torch)
    upstream = torch.randn(tuple(out.shape), dtype=torch.float64)
    out.backward(upstream)
    mine = from_torch(values, requires_grad=True)
    got = fn(mine, tritongrad)
    got.backward(from_torch(upstream.to(values.dtype)))
    return got, mine.grad, out.detach().to(values.dtype), leaf.grad.to(values.dtype)


GRADS = {
    "sort": (lambda x, lib: lib.sort(x, 1, descending=True).values, "SortBackward0"),
    "sort_dim0": (lambda x, lib: x.sort(0)[0], "SortBackward0"),
    "topk": (lambda x, lib: lib.topk(x, 3, dim=1).values, "TopkBackward0"),
    "topk_smallest_dim0": (lambda x, lib: x.topk(2, 0, largest=False).values, "TopkBackward0"),
    "kthvalue": (lambda x, lib: lib.kthvalue(x, 2, 1).values, "KthvalueBackward0"),
    "kthvalue_keepdim": (lambda x, lib: x.kthvalue(3, 0, keepdim=True).values, "KthvalueBackward0"),
    "median_dim": (lambda x, lib: lib.median(x, 1).values, "MedianBackward1"),
    "median_all": (lambda x, lib: x.median(), "MedianBackward0"),
    "mode": (lambda x, lib: lib.mode(x, 1).values, "ModeBackward0"),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", list(GRADS))
def test_gradients(name, dtype):
    values = random_values((4, 7), dtype)
    fn, node = GRADS[name]
    got, grad, want, want_grad = run_both(fn, values)
    if node:
        assert got.grad_fn.name() == node
    assert_close(got, want, what=f"{name} forward")
    assert_close(grad, want_grad, what=f"{name} grad")


def test_mode_gradient_goes_to_the_last_occurrence():
    values = torch.tensor([[1.0, 2.0, 1.0, 2.0, 3.0], [4.0, 4.0, 4.0, 0.0, 0.0]])
    got, grad, want, want_grad = run_both(GRADS["mode"][0], values)
    assert_close(got, want, what="mode with ties")
    assert_close(grad, want_grad, what="mode gradient")


def test_median_all_shares_gradient_among_ties():
    values = torch.tensor([[1.0, 2.0, 2.0], [3.0, 2.0, 0.0]])
    got, grad, want, want_grad = run_both(GRADS["median_all"][0], values)
    assert_close(grad, want_grad, what="median() gradient shared among ties")


@pytest.mark.parametrize("name", ["sort", "topk", "kthvalue", "median_dim"])
def test_gradcheck_float64(name):
    values = torch.randn(3, 5, dtype=torch.float64)
    x = from_torch(values, requires_grad=True)
    assert gradcheck(lambda t: GRADS[name][0](t, tritongrad), (x,))


def test_sort_second_derivative():
    values = torch.randn(2, 5, dtype=torch.float64)
    x = from_torch(values, requires_grad=True)
    (first,) = tritongrad.autograd.grad((x.sort(1).values ** 3).sum(), x, create_graph=True)
    (second,) = tritongrad.autograd.grad(first.sum(), x)
    t = values.clone().requires_grad_()
    (want_first,) = torch.autograd.grad((t.sort(1).values ** 3).sum(), t, create_graph=True)
    (want_second,) = torch.autograd.grad(want_first.sum(), t)
    assert_close(second, want_second, what="second derivative through sort")
