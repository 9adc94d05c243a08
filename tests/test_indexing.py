"""Tensor indexing (x[int_tensor], x[bool_mask]) and joining (cat, stack) against torch, with gradients."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import ALL_DTYPES, FLOAT_DTYPES, assert_close, from_torch, make_pair, random_values, to_torch
from tritongrad.autograd import gradcheck


def backward_both(tg_out, out, tg_leaves, leaves):
    """Backpropagates the same random weighting of the output through both graphs; compares grads."""
    weight = torch.randn(out.shape, dtype=torch.float64).to(out.dtype)
    (tg_out * from_torch(weight)).sum().backward()
    (out * weight).sum().backward()
    for index, (tg_leaf, leaf) in enumerate(zip(tg_leaves, leaves)):
        assert_close(tg_leaf.grad, leaf.grad, what=f"grad of input {index}")


# ------------------------------------------------------------------------------------------------
# x[int_tensor]
# ------------------------------------------------------------------------------------------------

INDEX_CASES = [
    ((7,), [3, 0, 6]),  # 1-D source
    ((7, 5), [4, -1, 4, 0, 4]),  # repeats and a negative index: the gradient accumulates
    ((6, 3, 2), [5, 2]),  # rows of a 3-D tensor
    ((7, 5), [[0, 1], [6, 6]]),  # a 2-D index tensor
    ((7, 5), []),  # no rows
    ((1,), [0, 0, 0]),  # one row picked three times
    ((70_000, 2), [69_999, 0, 35_000]),  # a source larger than one interpreter block
]


@pytest.mark.parametrize("index_dtype", [torch.int64, torch.int32], ids=str)
@pytest.mark.parametrize("shape, indices", INDEX_CASES, ids=str)
def test_integer_tensor_index(shape, indices, index_dtype):
    x, tg_x = make_pair(shape, torch.float32, requires_grad=shape[0] < 1000)
    index = torch.tensor(indices, dtype=index_dtype)
    got, expected = tg_x[from_torch(index)], x[index]
    assert_close(got, expected)
    if x.requires_grad:
        assert got.grad_fn.name() == expected.grad_fn.name()
        backward_both(got, expected, [tg_x], [x])


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_integer_tensor_index_every_dtype(dtype):
    x, tg_x = make_pair((9, 4), dtype, "transposed" if dtype != torch.bool else "contiguous")
    index = torch.tensor([8, 1, -9, 1])
    assert_close(tg_x[from_torch(index)], x[index])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_integer_tensor_index_gradient_every_float_dtype(dtype):
    x, tg_x = make_pair((6, 3), dtype, requires_grad=True)
    index = torch.tensor([5, 2, 5, 5, 0])
    backward_both(tg_x[from_torch(index)], x[index], [tg_x], [x])


def test_zero_dim_integer_tensor_indexes_like_an_int():
    x, tg_x = make_pair((4, 3), torch.float32, requires_grad=True)
    got, expected = tg_x[from_torch(torch.tensor(2))], x[torch.tensor(2)]
    assert_close(got, expected)
    assert got.grad_fn.name() == expected.grad_fn.name()


def test_non_contiguous_index_tensor():
    x, tg_x = make_pair((6, 2), torch.float64, requires_grad=True)
    index = torch.tensor([[5, 0, 1], [2, 2, 4]]).t()
    backward_both(tg_x[from_torch(index)], x[index], [tg_x], [x])


def test_integer_tensor_index_of_a_non_contiguous_tensor():
    x, tg_x = make_pair((5, 8), torch.float64, "sliced", requires_grad=True)
    index = torch.tensor([4, 0, 2])
    backward_both(tg_x[from_torch(index)], x[index], [tg_x], [x])
    y, tg_y = make_pair((5, 8), torch.float32, "transposed")
    assert_close(tg_y[from_torch(index)], y[index])


def test_out_of_range_index_is_refused():
    tg_x = from_torch(torch.randn(4, 2))
    for bad in ([4], [-5], [0, 7]):
        with pytest.raises(IndexError, match="out of bounds"):
            tg_x[from_torch(torch.tensor(bad))]
    with pytest.raises(IndexError):
        tg_x[from_torch(torch.tensor([0.0, 1.0]))]


# ------------------------------------------------------------------------------------------------
# x[bool_mask]
# ------------------------------------------------------------------------------------------------

MASK_CASES = [
    ((4, 6), (4, 6)),  # a full-shape mask: a 1-D result
    ((4, 6), (4,)),  # a mask over rows
    ((2, 3, 4), (2, 3)),  # a mask over the two leading dims
    ((13,), (13,)),  # prime length
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
@pytest.mark.parametrize("shape, mask_shape", MASK_CASES, ids=str)
def test_bool_mask_index(shape, mask_shape, dtype):
    x, tg_x = make_pair(shape, dtype, requires_grad=True)
    mask = torch.rand(mask_shape) > 0.4
    got, expected = tg_x[from_torch(mask)], x[mask]
    assert_close(got, expected)
    backward_both(got, expected, [tg_x], [x])


@pytest.mark.parametrize("fill", [True, False])
def test_bool_mask_all_or_nothing(fill):
    x, tg_x = make_pair((3, 4), torch.float32)
    mask = torch.full((3, 4), fill)
    assert_close(tg_x[from_torch(mask)], x[mask])


def test_bool_mask_from_a_comparison():
    x, tg_x = make_pair((5, 5), torch.float32, "transposed")
    assert_close(tg_x[tg_x > 0], x[x > 0])


def test_bool_mask_shape_mismatch_is_refused():
    tg_x = from_torch(torch.randn(3, 4))
    with pytest.raises(IndexError, match="shape of the mask"):
        tg_x[from_torch(torch.ones(4, dtype=torch.bool))]


# ------------------------------------------------------------------------------------------------
# cat / stack
# ------------------------------------------------------------------------------------------------

CAT_CASES = [
    ([(2, 3), (4, 3)], 0),
    ([(2, 3), (2, 1), (2, 5)], 1),
    ([(2, 3, 4), (2, 3, 1)], -1),
    ([(3, 2), (0, 2), (1, 2)], 0),  # an empty piece
    ([(5,)], 0),  # a single tensor
    ([(1,), (70_000,)], 0),  # larger than one interpreter block
]


@pytest.mark.parametrize("shapes, dim", CAT_CASES, ids=str)
def test_cat(shapes, dim):
    pairs = [make_pair(shape, torch.float64, requires_grad=True) for shape in shapes]
    inputs, tg_inputs = [p[0] for p in pairs], [p[1] for p in pairs]
    got, expected = tritongrad.cat(tg_inputs, dim), torch.cat(inputs, dim)
    assert_close(got, expected)
    assert got.grad_fn.name() == expected.grad_fn.name()
    backward_both(got, expected, tg_inputs, inputs)


def test_cat_non_contiguous_and_promotion():
    a, tg_a = make_pair((3, 4), torch.float32, "transposed")
    b, tg_b = make_pair((3, 2), torch.int64)
    c, tg_c = make_pair((3, 1), torch.float16, "expanded")
    assert_close(tritongrad.cat([tg_a, tg_b, tg_c], 1), torch.cat([a, b, c], 1))
    assert_close(tritongrad.concat((tg_a, tg_a), dim=0), torch.concat((a, a), dim=0))
    # the legacy rule: 1-D empty tensors are skipped whatever the other shapes
    empty = torch.empty(0)
    assert_close(tritongrad.cat([tg_a, from_torch(empty)]), torch.cat([a, empty]))


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_cat_every_dtype(dtype):
    a, tg_a = make_pair((2, 5), dtype)
    b, tg_b = make_pair((3, 5), dtype, "sliced")
    assert_close(tritongrad.cat([tg_a, tg_b]), torch.cat([a, b]))


def test_cat_errors():
    tg_a, tg_b = from_torch(torch.randn(2, 3)), from_torch(torch.randn(2, 4))
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0"):
        tritongrad.cat([tg_a, tg_b], 0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        tritongrad.cat([tg_a, from_torch(torch.randn(2, 3, 1))], 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        tritongrad.cat([tg_a, tg_a], 2)
    with pytest.raises(ValueError, match=r"torch.cat\(\): expected a non-empty list of Tensors"):  # torch's type
        tritongrad.cat([], 0)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    pairs = [make_pair((3, 4), torch.float64, requires_grad=True) for _ in range(3)]
    inputs, tg_inputs = [p[0] for p in pairs], [p[1] for p in pairs]
    got, expected = tritongrad.stack(tg_inputs, dim), torch.stack(inputs, dim)
    assert_close(got, expected)
    backward_both(got, expected, tg_inputs, inputs)


def test_stack_errors_and_mixed_layouts():
    a, tg_a = make_pair((2, 3), torch.float32, "transposed")
    b, tg_b = make_pair((2, 3), torch.float32, "expanded")
    assert_close(tritongrad.stack([tg_a, tg_b]), torch.stack([a, b]))
    with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):  # (torch's type: RuntimeError)
        tritongrad.stack([])
    with pytest.raises(RuntimeError):
        tritongrad.stack([tg_a, from_torch(random_values((3, 2), torch.float32))])


# ------------------------------------------------------------------------------------------------
# GPU
# ------------------------------------------------------------------------------------------------


@pytest.mark.gpu
def test_gpu_gather_and_cat():
    x = torch.randn(100_000, 64, device="cuda")
    index = torch.randint(0, 100_000, (50_000,), device="cuda")
    tg_x = tritongrad.Tensor._wrap(x.clone()).requires_grad_()
    got = tg_x[tritongrad.Tensor._wrap(index)]
    assert_close(got, x[index])
    got.sum().backward()
    reference = torch.zeros_like(x).index_add_(0, index, torch.ones(50_000, 64, device="cuda"))
    assert_close(tg_x.grad, reference)
    assert_close(tritongrad.cat([tg_x.detach(), tg_x.detach()], 1), torch.cat([x, x], 1))


# ------------------------------------------------------------------------------------------------
# scatter(reduce='multiply'), and which writes may read their own target
# ------------------------------------------------------------------------------------------------

# (target shape, dim, index): each index names some targets several times (every factor lands,
# in index order) and leaves others alone.
MULTIPLY_CASES = [
    ((5,), 0, [0, 3, 0, 0, 4]),  # 1-D, one target named three times
    ((4, 6), 0, [[3, 0, 3, 1, 3, 3], [3, 3, 0, 2, 1, 3]]),  # along dim 0: every column its own line
    ((4, 6), 1, [[5, 5, 0], [1, 2, 2], [0, 0, 0], [4, 1, 5]]),  # along dim 1
    ((2, 3, 4), 2, [[[1, 1]], [[3, 0]]]),  # 3-D, an index smaller than the target
    ((3, 4), 1, [[]] * 3),  # empty index: nothing changes
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.int64, torch.int8, torch.bool],
                         ids=str)  # fmt: skip
@pytest.mark.parametrize("shape, dim, index", MULTIPLY_CASES, ids=str)
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_multiply(shape, dim, index, dtype, layout):
    x, tg_x = make_pair(shape, dtype, layout if len(shape) > 1 else "contiguous")
    index = torch.tensor(index, dtype=torch.int64)
    src = random_values(index.shape, dtype, low=-2, high=2)
    what = f"scatter({dim}, reduce='multiply') {tuple(shape)} {dtype} {layout}"
    expected = x.scatter(dim, index, src, reduce="multiply")
    assert_close(tg_x.scatter(dim, from_torch(index), from_torch(src), reduce="multiply"), expected, what=what)
    assert_close(tg_x, x, what="the input of the out-of-place scatter")
    assert tg_x.scatter_(dim, from_torch(index), from_torch(src), reduce="multiply") is tg_x
    x.scatter_(dim, index, src, reduce="multiply")
    assert_close(tg_x, x, what=what + " in place")
    value = True if dtype == torch.bool else 3
    expected = x.scatter(dim, index, value, reduce="multiply")
    assert_close(tritongrad.scatter(tg_x, dim, from_torch(index), value=value, reduce="multiply"), expected,
                 what=what + " with a value")  # fmt: skip


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_multiply_rounds_after_every_factor_and_wraps_integers():
    index = torch.zeros(12, dtype=torch.int64)
    src = torch.full((12,), 1.1, dtype=torch.float16)
    x = torch.ones(2, dtype=torch.float16)
    assert_close(from_torch(x).scatter(0, from_torch(index), from_torch(src), reduce="multiply"),
                 x.scatter(0, index, src, reduce="multiply"))  # fmt: skip
    small = torch.tensor([2, 3], dtype=torch.int8)
    factors = torch.tensor([100, 100, 7], dtype=torch.int8)
    index = torch.tensor([0, 0, 0])
    assert_close(from_torch(small).scatter(0, from_torch(index), from_torch(factors), reduce="multiply"),
                 small.scatter(0, index, factors, reduce="multiply"))  # fmt: skip


def test_scatter_multiply_has_no_derivative_and_bad_reduce_is_refused():
    x = from_torch(torch.randn(3, 4), requires_grad=True)
    index, src = from_torch(torch.tensor([[0, 1, 0, 2]])), from_torch(torch.randn(1, 4))
    out = x.scatter(0, index, src, reduce="multiply")
    with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
        out.sum().backward()
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply"):
        x.detach().scatter(0, index, src, reduce="mul")
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply"):
        torch.randn(3, 4).scatter(0, torch.tensor([[0, 1, 0, 2]]), torch.randn(1, 4), reduce="mul")


def _overlap_cases():
    """(name, write): each write into x (a float64 vector of 4) reads memory of x itself."""
    i = [0, 1, 2, 3]
    return [
        ("index_put_ of itself", lambda lib, x: x.index_put_((lib.tensor(i),), x)),
        ("index_put_ accumulate of itself", lambda lib, x: x.index_put_((lib.tensor(i),), x, accumulate=True)),
        ("x[i] = x", lambda lib, x: x.__setitem__(lib.tensor(i), x)),
        ("x[i] = x[:]", lambda lib, x: x.__setitem__(lib.tensor(i), x[:])),
        ("x[i[:2]] = x[1:3]", lambda lib, x: x.__setitem__(lib.tensor(i[:2]), x[1:3])),
        ("scatter_ of itself", lambda lib, x: x.scatter_(0, lib.tensor(i), x)),
        ("scatter_add_ of itself", lambda lib, x: x.scatter_add_(0, lib.tensor(i), x)),
        ("scatter_ multiply of itself", lambda lib, x: x.scatter_(0, lib.tensor(i), x, reduce="multiply")),
        ("index_add_ of itself", lambda lib, x: x.index_add_(0, lib.tensor(i), x)),
        ("index_copy_ of itself", lambda lib, x: x.index_copy_(0, lib.tensor(i), x)),
        ("put_ of itself", lambda lib, x: x.put_(lib.tensor(i), x)),
        # allowed: basic keys copy (full aliasing is fine), one value is read before a masked fill
        ("x[:] = x", lambda lib, x: x.__setitem__(slice(None), x)),
        ("x[0:2] = x[1:3]", lambda lib, x: x.__setitem__(slice(0, 2), x[1:3])),
        ("x[0] = x[:1]", lambda lib, x: x.__setitem__(0, x[:1])),
        ("x[x > 0] = x[:1]", lambda lib, x: x.__setitem__(x > 0, x[:1])),
        ("x[i] = x[i.flip]", lambda lib, x: x.__setitem__(lib.tensor(i), x[lib.tensor(i[::-1])])),
        ("masked_scatter_ of itself", lambda lib, x: x.masked_scatter_(x > 0, x)),
    ]


@pytest.mark.parametrize("name, write", _overlap_cases(), ids=[name for name, _ in _overlap_cases()])
def test_writes_that_read_their_own_target_match_torch(name, write):
    x = random_values((4,), torch.float64)
    ours = from_torch(x)
    try:
        write(torch, x)
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match="refer to a single memory location"):
            write(tritongrad, ours)
        assert "refer to a single memory location" in str(error)
        return
    write(tritongrad, ours)
    assert_close(ours, x, what=name)


def test_setitem_drops_leading_ones_of_the_value():
    x, tg_x = make_pair((3, 4), torch.float32)
    value = random_values((1, 1, 4), torch.float32)
    x[1] = value
    tg_x[1] = from_torch(value)
    assert_close(tg_x, x)
    with pytest.raises(RuntimeError):
        tg_x[1] = from_torch(random_values((2, 4), torch.float32))


# ------------------------------------------------------------------------------------------------
# scatter_reduce
# ------------------------------------------------------------------------------------------------
SCATTER_REDUCES = ["sum", "prod", "mean", "amax", "amin"]


def _scatter_reduce_case(dtype, layout="contiguous", self_shape=(3, 7), index_shape=(3, 5), src_shape=(4, 6)):
    """self, index (repeats along dim 1, smaller than self), src (larger than index: only its corner
    is read); values in [-3, 3] with a zero and a tie planted for prod's and amax's special cases."""
    x, tg_x = make_pair(self_shape, dtype, layout)
    src = random_values(src_shape, dtype)
    if dtype.is_floating_point:
        src[0, 1] = 0
        src[1, 0] = src[1, 1]
    index = torch.randint(0, self_shape[1], index_shape)
    index[1, 1] = index[1, 0]  # a tie aimed at one position
    return x, tg_x, index, src


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", SCATTER_REDUCES)
# (the interpreter evaluates masked-off lanes of the mean's division too: numpy warns about 0 / 0 there)
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [torch.int64, torch.int32], ids=str)
def test_scatter_reduce_matches_torch(dtype, reduce, include_self):
    x, tg_x, index, src = _scatter_reduce_case(dtype, "transposed")
    want = x.scatter_reduce(1, index, src, reduce, include_self=include_self)
    got = tg_x.scatter_reduce(1, from_torch(index), from_torch(src), reduce, include_self=include_self)
    assert_close(got, want, what=f"scatter_reduce {reduce} include_self={include_self}")


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", SCATTER_REDUCES)
def test_scatter_reduce_gradients_match_torch(reduce, include_self):
    # (src of index's shape: torch's backward fails for a larger src, "invalid gradient at index 1")
    x, _, index, src = _scatter_reduce_case(torch.float64, src_shape=(3, 5))
    x[2, 3] = 0  # a zero in self too (prod's masked product)
    leaves = [x.clone().requires_grad_(), src.clone().requires_grad_()]
    mine = [from_torch(x, requires_grad=True), from_torch(src, requires_grad=True)]
    want = leaves[0].scatter_reduce(1, index, leaves[1], reduce, include_self=include_self)
    got = tritongrad.scatter_reduce(mine[0], 1, from_torch(index), mine[1], reduce, include_self=include_self)
    assert got.grad_fn.name() == want.grad_fn.name()
    upstream = random_values(tuple(want.shape), torch.float64)
    want.backward(upstream)
    got.backward(from_torch(upstream))
    for name, g, w in zip(("self", "src"), mine, leaves):
        assert_close(g.grad, w.grad, what=f"scatter_reduce {reduce} grad of {name}")


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "prod"])
def test_scatter_reduce_gradcheck_float64(reduce):
    x = from_torch(random_values((2, 3), torch.float64, low=0.5), requires_grad=True)
    src = from_torch(random_values((2, 2), torch.float64, low=0.5), requires_grad=True)
    index = tritongrad.tensor([[0, 2], [1, 1]])
    assert gradcheck(lambda a, b: a.scatter_reduce(1, index, b, reduce, include_self=reduce != "mean"), (x, src))


def test_scatter_reduce_in_place_edges_and_errors():
    x, tg_x, index, src = _scatter_reduce_case(torch.float32)
    result = tg_x.scatter_reduce_(1, from_torch(index), from_torch(src), "amax", include_self=False)
    assert result is tg_x
    assert_close(tg_x, x.scatter_reduce(1, index, src, "amax", include_self=False))
    leaf = from_torch(random_values((3, 7), torch.float64), requires_grad=True)
    out = (leaf * 1).scatter_reduce_(1, from_torch(index), from_torch(src.double()), "mean")
    assert out.grad_fn.name() == "ScatterReduceBackward0"
    out.sum().backward()
    torch_leaf = to_torch(leaf.detach()).requires_grad_()
    (torch_leaf * 1).scatter_reduce_(1, index, src.double(), "mean").sum().backward()
    assert_close(leaf.grad, torch_leaf.grad)
    # a 0-d self, and an empty index (nothing changes)
    scalar = torch.tensor(2.0)
    got = from_torch(scalar).scatter_reduce(0, tritongrad.tensor(0), tritongrad.tensor(5.0), "prod")
    assert_close(got, scalar.scatter_reduce(0, torch.tensor(0), torch.tensor(5.0), "prod"))
    empty = torch.empty((3, 0), dtype=torch.int64)
    assert_close(tg_x.scatter_reduce(1, from_torch(empty), from_torch(src), "sum"), to_torch(tg_x))
    with pytest.raises(RuntimeError, match="reduce argument must be either sum, prod, mean, amax or amin, got max2"):
        tg_x.scatter_reduce(1, from_torch(index), from_torch(src), "max2")
    with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
        tg_x.scatter_reduce(1, from_torch(index), from_torch(src.double()), "sum")
    with pytest.raises(RuntimeError, match="index 9 is out of bounds"):
        tg_x.scatter_reduce(1, tritongrad.tensor([[9]]), from_torch(src), "sum")
