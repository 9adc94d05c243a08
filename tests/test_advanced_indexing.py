"""torch's advanced indexing (reads, writes, augmented assignment) and the index/mask functions,
compared with torch: values, grad_fn names, gradients, dtypes, layouts, errors, float64 gradcheck."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import tritongrad
from tests.utils import ALL_DTYPES, FLOAT_DTYPES, assert_close, from_torch, make_pair, random_values

# ------------------------------------------------------------------------------------------------
# Keys: written once, built for both libraries
# ------------------------------------------------------------------------------------------------


class T:
    """An index tensor in a key (the same values handed to torch and to tritongrad)."""

    def __init__(self, values, dtype=torch.int64) -> None:
        self.values, self.dtype = values, dtype

    def __repr__(self) -> str:
        return f"T({self.values})"


class Mask:
    """A random bool tensor of ``shape`` in a key (about half True)."""

    def __init__(self, *shape: int) -> None:
        self.shape = shape

    def __repr__(self) -> str:
        return f"Mask{self.shape}"


def build(key):
    """(torch key, tritongrad key) from a key that may hold T and Mask entries."""
    if isinstance(key, tuple):
        pairs = [build(k) for k in key]
        return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
    if isinstance(key, list) and any(isinstance(k, (T, Mask)) for k in key):
        pairs = [build(k) for k in key]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    if isinstance(key, T):
        tensor = torch.tensor(key.values, dtype=key.dtype)
        return tensor, from_torch(tensor)
    if isinstance(key, Mask):
        tensor = torch.rand(key.shape) > 0.5
        return tensor, from_torch(tensor)
    return key, key


# Keys for a (5, 6, 7) tensor; each exercises one rule of torch's indexing.
READ_KEYS = [
    T([0, 4, -1]),  # one index tensor, a negative index
    T([3, 3, 0, 3]),  # repeats: the gradient accumulates
    [0, 2],  # a list is an index tensor
    range(1, 4),  # so is a range
    np.array([4, 1]),  # and a numpy array
    T([[0, 1], [4, 4]]),  # a 2-D index tensor
    T([], torch.int64),  # an empty index tensor
    T([1, 2], torch.int32),  # int32 indices
    (T([0, 1, 2, 3, 4]), T([5, 0, 2, 2, 1])),  # logprobs[arange(n), Y]
    (range(5), [1, 0, 2, 3, 5]),  # x[range(n), y]
    (slice(None), T([1, 5, 1])),  # x[:, idx]
    (Ellipsis, T([0, -1])),  # x[..., idx]
    (T([0, 1]), slice(None), T([2, 3])),  # separated indices: the index dims go first
    (slice(None), T([0, 1]), T([2, 3])),  # adjacent in the middle: in place
    (T([[0], [1]]), slice(None), T([0, 1, 2])),  # separated, broadcast to (2, 3)
    (T([[0], [4]]), T([0, 1, 5])),  # adjacent, broadcast
    (0, slice(None), T([1, 2])),  # an int is a select, applied first (not an advanced index)
    (T([1, 2]), 0),  # ... on either side
    (T([1, 2]), None, T([0, 3])),  # None between indices separates them
    (None, T([1, 2])),  # None before
    (slice(1, None, 2), T([0, 2])),  # a stepped slice, then an index
    (T([-5, 4]), T([5, -6]), T([6, -7])),  # every dim indexed, negatives
    Mask(5, 6, 7),  # a full mask: 1-D result
    Mask(5, 6),  # a mask over the leading dims
    (slice(None), Mask(6)),  # a mask over one inner dim
    (slice(None), Mask(6, 7)),  # a 2-D mask after a slice
    (Mask(5), 1, slice(0, 3)),  # a mask with basic indexing after it
    True,  # a bool adds a dim of size 1
    False,  # ... of size 0
    (Ellipsis, None, T([1])),  # None and ... with an index
    [[0, 1], [2, 3]],  # a short list of lists is a tuple of indices (torch's legacy rule)
    [T(1), T(3)],  # as is a list holding tensors
    (T(2), T([0, 5])),  # a 0-d index tensor selects like an int
    (T(True, torch.bool), T([0, 1])),  # a 0-d bool tensor adds a dim of size 1
    (np.int64(3), [0, 1]),  # numpy integers
]


def _grad_both(tg_out, out, tg_leaves, leaves):
    weight = random_values(tuple(out.shape), torch.float64).to(out.dtype)
    (tg_out * from_torch(weight)).sum().backward()
    (out * weight).sum().backward()
    for index, (tg_leaf, leaf) in enumerate(zip(tg_leaves, leaves)):
        if leaf.grad is None:
            assert tg_leaf.grad is None, f"input {index} got a gradient, torch's got none"
        else:
            assert_close(tg_leaf.grad, leaf.grad, what=f"grad of input {index}")


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
@pytest.mark.parametrize("key", READ_KEYS, ids=repr)
def test_read(key, layout):
    x, tg_x = make_pair((5, 6, 7), torch.float64, layout, requires_grad=True)
    torch_key, tg_key = build(key)
    expected, got = x[torch_key], tg_x[tg_key]
    assert_close(got, expected, what=f"x[{key!r}]")
    assert got.grad_fn.name() == expected.grad_fn.name()
    _grad_both(got, expected, [tg_x], [x])


@pytest.mark.parametrize("dtype", ALL_DTYPES + [torch.int16, torch.uint8], ids=str)
@pytest.mark.parametrize(
    "key", [(T([0, 2, 2]), slice(None), T([1, 0, 4])), Mask(4, 3), (slice(None), T([-1, 0]))], ids=repr
)
def test_read_every_dtype(key, dtype):
    x, tg_x = make_pair((4, 3, 5), dtype, "transposed", low=0, high=5)  # (uint8 has no negatives)
    torch_key, tg_key = build(key)
    assert_close(tg_x[tg_key], x[torch_key])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_read_gradient_every_float_dtype(dtype):
    x, tg_x = make_pair((6, 4), dtype, requires_grad=True)
    torch_key, tg_key = build((T([5, 2, 5, 5, 0]), T([1, 1, 1, 3, 0])))
    _grad_both(tg_x[tg_key], x[torch_key], [tg_x], [x])


def test_read_larger_than_one_block():
    # 70,000 rows: more than one interpreter block for the offsets, gather and scatter-add kernels
    x, tg_x = make_pair((70_000, 3), torch.float32, requires_grad=True)
    index = torch.randint(-70_000, 70_000, (90_000,))
    _grad_both(tg_x[from_torch(index), 1:], x[index, 1:], [tg_x], [x])


def test_read_expanded_base_and_empty_dims():
    x, tg_x = make_pair((4, 5), torch.float32, "expanded")
    torch_key, tg_key = build((T([3, 0]), T([[4], [2]])))
    assert_close(tg_x[tg_key], x[torch_key])
    empty, tg_empty = make_pair((0, 3), torch.float32)
    assert_close(tg_empty[from_torch(torch.tensor([], dtype=torch.int64))], empty[torch.tensor([], dtype=torch.int64)])
    assert_close(tg_empty[:, [2, 0]], empty[:, [2, 0]])


def test_read_of_a_0d_tensor():
    x, tg_x = make_pair((), torch.float32, requires_grad=True)
    for key in (True, False, None, Ellipsis):
        assert_close(tg_x[key], x[key])
    _grad_both(tg_x[True], x[True], [tg_x], [x])


# ------------------------------------------------------------------------------------------------
# Writes
# ------------------------------------------------------------------------------------------------

# Keys without repeated positions (a write to one position twice keeps an unspecified value).
WRITE_KEYS = [
    T([0, 4, -2]),
    [1, 3],
    (T([0, 1, 2, 3, 4]), T([5, 0, 2, 2, 1])),
    (range(5), [1, 0, 2, 3, 5]),
    (slice(None), T([1, 5, 0])),
    (Ellipsis, T([0, -1])),
    (T([0, 1]), slice(None), T([2, 3])),
    (T([[0], [1]]), slice(None), T([0, 1, 2])),
    (0, slice(None), T([1, 2])),
    (T([1, 2]), None, T([0, 3])),
    (slice(1, None, 2), T([0, 2])),
    Mask(5, 6, 7),
    Mask(5, 6),
    (slice(None), Mask(6)),
    (Mask(5), 1, slice(0, 3)),
    T([], torch.int64),
    True,
]


def _write_both(shape, key, make_value, layout="contiguous", dtype=torch.float64):
    x, tg_x = make_pair(shape, dtype, layout)
    torch_key, tg_key = build(key)
    value = make_value(tuple(x[torch_key].shape))
    tg_value = from_torch(value) if isinstance(value, torch.Tensor) else value
    x[torch_key] = value
    tg_x[tg_key] = tg_value
    assert_close(tg_x, x, what=f"x[{key!r}] = value")


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
@pytest.mark.parametrize("key", WRITE_KEYS, ids=repr)
def test_write_tensor_scalar_and_broadcast(key, layout):
    _write_both((5, 6, 7), key, lambda shape: random_values(shape, torch.float64), layout)
    _write_both((5, 6, 7), key, lambda shape: 2.5, layout)
    _write_both((5, 6, 7), key, lambda shape: random_values(shape[-1:], torch.float64), layout)  # broadcast row
    _write_both((5, 6, 7), key, lambda shape: random_values((1, 1) + shape, torch.float64), layout)  # leading 1s
    _write_both((5, 6, 7), key, lambda shape: torch.tensor(-1.0, dtype=torch.float64), layout)  # 0-d tensor


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_write_every_dtype(dtype):
    for key in (T([3, 0]), (slice(None), T([2, -1])), Mask(4, 5)):
        _write_both((4, 5), key, lambda shape: random_values(shape, dtype), dtype=dtype)
        _write_both((4, 5), key, lambda shape: True if dtype == torch.bool else 7, dtype=dtype)


@pytest.mark.parametrize("key", WRITE_KEYS, ids=repr)
def test_write_gradient(key):
    """base[key] = v recorded like torch: IndexPutBackward0 (CopySlices through a basic view);
    the gradient of base is zero where it was overwritten, v's is read from the written places."""
    leaf, tg_leaf = make_pair((5, 6, 7), torch.float64, requires_grad=True)
    torch_key, tg_key = build(key)
    shape = tuple(leaf.detach()[torch_key].shape)
    value, tg_value = make_pair(shape[-1:] if shape else (), torch.float64, requires_grad=True)
    base, tg_base = leaf * 1, tg_leaf * 1
    base[torch_key] = value
    tg_base[tg_key] = tg_value
    assert_close(tg_base, base)
    assert tg_base.grad_fn.name() == base.grad_fn.name()
    _grad_both(tg_base, base, [tg_leaf, tg_value], [leaf, value])


def test_write_into_a_leaf_that_requires_grad_is_refused():
    tg_x = from_torch(torch.randn(3, 4), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        tg_x[from_torch(torch.tensor([0]))] = 1.0
    with tritongrad.no_grad():
        tg_x[from_torch(torch.tensor([0]))] = 1.0
    assert tg_x[0].tolist() == [1.0] * 4


def test_augmented_assignment_through_an_index():
    """``dlogits[range(n), Yb] -= 1`` (makemore's manual backprop) and friends: read, modify, write."""
    logits, tg_logits = make_pair((6, 5), torch.float32)
    targets = torch.tensor([4, 0, 2, 2, 1, 3])
    logits[range(6), targets] -= 1
    tg_logits[range(6), from_torch(targets)] -= 1
    assert_close(tg_logits, logits)
    x, tg_x = make_pair((4, 3), torch.float64)
    for key in ([0, 0, 2], (slice(None), T([2, 0])), Mask(4, 3)):
        torch_key, tg_key = build(key)
        x[torch_key] *= 3
        tg_x[tg_key] *= 3
        x[torch_key] += 0.5
        tg_x[tg_key] += 0.5
        assert_close(tg_x, x, what=f"augmented x[{key!r}]")


def test_augmented_assignment_gradient():
    leaf, tg_leaf = make_pair((4, 5), torch.float64, requires_grad=True)
    y, tg_y = leaf * 2, tg_leaf * 2
    y[[0, 3], [1, 4]] += leaf[0, :2]
    tg_y[[0, 3], [1, 4]] += tg_leaf[0, :2]
    _grad_both(tg_y, y, [tg_leaf], [leaf])


def test_int_tensor_key_assignment_issue_17():
    """``x[int_tensor] = v`` used to raise NotImplementedError."""
    x, tg_x = make_pair((5, 3), torch.float32)
    index = torch.tensor([4, 1])
    x[index] = 0.0
    tg_x[from_torch(index)] = 0.0
    assert_close(tg_x, x)
    value = torch.randn(3)
    x[index] = value
    tg_x[from_torch(index)] = from_torch(value)
    assert_close(tg_x, x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
                                   torch.int32, torch.bool], ids=str)  # fmt: skip
def test_index_put_accumulate_sums_repeats(dtype):
    x, tg_x = make_pair((6, 4), dtype, "transposed")
    rows, columns = torch.tensor([0, 5, 0, 0, 2]), torch.tensor([1, 3, 1, 1, 0])
    values = random_values((5,), dtype)
    expected = x.clone().index_put_((rows, columns), values, accumulate=True)
    got = tg_x.index_put_((from_torch(rows), from_torch(columns)), from_torch(values), accumulate=True)
    assert got is tg_x
    assert_close(tg_x, expected)
    # whole rows at once (fewer index tensors than dims)
    more = random_values((3, 4), dtype)
    expected.index_put_((torch.tensor([1, 1, 4]),), more, accumulate=True)
    tg_x.index_put_((from_torch(torch.tensor([1, 1, 4])),), from_torch(more), accumulate=True)
    assert_close(tg_x, expected)


def test_index_put_out_of_place_and_gradient():
    x, tg_x = make_pair((5, 3), torch.float64, requires_grad=True)
    v, tg_v = make_pair((3,), torch.float64, requires_grad=True)
    index = torch.tensor([4, 0, 4])
    for accumulate in (True, False):
        if not accumulate:
            index = torch.tensor([4, 0, 2])
        out = torch.index_put(x, (index,), v.view(3, 1).expand(3, 3) * 1, accumulate=accumulate)
        got = tritongrad.index_put(tg_x, (from_torch(index),), tg_v.view(3, 1).expand(3, 3) * 1, accumulate=accumulate)
        assert_close(got, out)
        assert got.grad_fn.name() == out.grad_fn.name()
        x.grad = v.grad = tg_x.grad = tg_v.grad = None
        _grad_both(got, out, [tg_x, tg_v], [x, v])


# ------------------------------------------------------------------------------------------------
# Functions
# ------------------------------------------------------------------------------------------------


def _index(values, dtype=torch.int64):
    index = torch.tensor(values, dtype=dtype)
    return index, from_torch(index)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_index_select(dim, layout):
    x, tg_x = make_pair((4, 5), torch.float64, layout, requires_grad=True)
    index, tg_index = _index([3, 0, 3, 1])
    got, expected = tg_x.index_select(dim, tg_index), x.index_select(dim, index)
    assert_close(got, expected)
    assert got.grad_fn.name() == expected.grad_fn.name()
    _grad_both(got, expected, [tg_x], [x])
    assert_close(tritongrad.index_select(tg_x, dim, tg_index[:1].reshape(())), torch.index_select(x, dim, index[0]))


@pytest.mark.parametrize("dim", [0, 1, 2])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
def test_gather(dim, layout):
    x, tg_x = make_pair((3, 4, 5), torch.float64, layout, requires_grad=True)
    index_shape = [2, 3, 4]
    index_shape[dim] = 6  # longer than x along dim: repeats
    index = torch.randint(0, x.shape[dim], index_shape)
    got, expected = tg_x.gather(dim, from_torch(index)), x.gather(dim, index)
    assert_close(got, expected)
    assert got.grad_fn.name() == "GatherBackward0"
    _grad_both(got, expected, [tg_x], [x])


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_gather_and_scatter_every_dtype(dtype):
    x, tg_x = make_pair((4, 6), dtype)
    index = torch.tensor([[5, 0], [1, 1], [3, 2]])
    assert_close(tritongrad.gather(tg_x, 1, from_torch(index)), torch.gather(x, 1, index))
    src = random_values((3, 2), dtype)
    assert_close(tg_x.scatter(1, from_torch(index), from_torch(src)), x.scatter(1, index, src))
    rows = index % 4
    assert_close(tg_x.scatter_add(0, from_torch(rows), from_torch(src)), x.scatter_add(0, rows, src))


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_scatter_functions(layout):
    x, tg_x = make_pair((4, 5), torch.float64, layout, requires_grad=True)
    src, tg_src = make_pair((3, 2), torch.float64, requires_grad=True)
    # no repeated target along dim 1 within a row, so scatter's result is determined
    index = torch.tensor([[4, 0], [1, 3], [2, 0]])
    cases = [
        (lambda lib, a, s: lib.scatter(a, 1, index if lib is torch else from_torch(index), s), "ScatterBackward0"),
        (lambda lib, a, s: lib.scatter(a, 1, index if lib is torch else from_torch(index), 1.5), "ScatterBackward1"),
        (lambda lib, a, s: lib.scatter_add(a, 0, index % 4 if lib is torch else from_torch(index % 4), s),
         "ScatterAddBackward0"),
    ]  # fmt: skip
    for op, name in cases:
        for leaf in (x, src, tg_x, tg_src):
            leaf.grad = None
        expected, got = op(torch, x * 1, src * 1), op(tritongrad, tg_x * 1, tg_src * 1)
        assert_close(got, expected)
        assert got.grad_fn.name() == expected.grad_fn.name() == name
        _grad_both(got, expected, [tg_x, tg_src], [x, src])
    # a src larger than index: only its index-shaped corner is read
    big = random_values((3, 6), torch.float64)
    assert_close(tg_x.scatter(1, from_torch(index), from_torch(big)), x.scatter(1, index, big))


def test_scatter_reduce_add_and_in_place_forms():
    x, tg_x = make_pair((3, 4), torch.float32)
    index = torch.tensor([[0, 0, 2], [1, 1, 1]])
    src = random_values((2, 3), torch.float32)
    assert_close(tg_x.scatter(0, from_torch(index), from_torch(src), reduce="add"),
                 x.scatter(0, index, src, reduce="add"))  # fmt: skip
    assert tg_x.scatter_add_(0, from_torch(index), from_torch(src)) is tg_x
    x.scatter_add_(0, index, src)
    assert_close(tg_x, x)
    unique = torch.tensor([[2, 0, 1]])
    tg_x.scatter_(0, from_torch(unique), from_torch(src[:1]))
    x.scatter_(0, unique, src[:1])
    assert_close(tg_x, x)
    tg_x.scatter_(1, from_torch(unique), value=-4.0)
    x.scatter_(1, unique, value=-4.0)
    assert_close(tg_x, x)


@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.int64], ids=str)
def test_index_add_copy_fill(dim, dtype):
    x, tg_x = make_pair((4, 5), dtype, "transposed")
    index, tg_index = _index([3, 0, 3] if dim == 0 else [4, 0, 4])
    unique, tg_unique = _index([3, 0, 1])
    source = random_values((3, 5) if dim == 0 else (4, 3), dtype)
    alpha = 2 if dtype == torch.int64 else 0.5
    assert_close(tg_x.index_add(dim, tg_index, from_torch(source), alpha=alpha),
                 x.index_add(dim, index, source, alpha=alpha))  # fmt: skip
    assert_close(tg_x.index_copy(dim, tg_unique, from_torch(source)), x.index_copy(dim, unique, source))
    assert_close(
        tg_x.index_fill(dim, from_torch(torch.tensor([-1, 0])), 3), x.index_fill(dim, torch.tensor([-1, 0]), 3)
    )
    for method in ("index_add_", "index_copy_"):
        getattr(tg_x, method)(dim, tg_unique, from_torch(source))
        getattr(x, method)(dim, unique, source)
        assert_close(tg_x, x, what=method)
    tg_x.index_fill_(dim, tg_index, 0)
    x.index_fill_(dim, index, 0)
    assert_close(tg_x, x)


def test_index_add_copy_fill_gradients():
    x, tg_x = make_pair((4, 5), torch.float64, requires_grad=True)
    source, tg_source = make_pair((3, 5), torch.float64, requires_grad=True)
    value, tg_value = make_pair((), torch.float64, requires_grad=True)
    index, tg_index = _index([3, 0, 3])
    unique, tg_unique = _index([3, 0, 1])
    cases = [
        (lambda a, s, v: a.index_add(0, index, s, alpha=2.0), lambda a, s, v: a.index_add(0, tg_index, s, alpha=2.0)),
        (lambda a, s, v: a.index_copy(0, unique, s), lambda a, s, v: a.index_copy(0, tg_unique, s)),
        (lambda a, s, v: a.index_fill(1, index, v), lambda a, s, v: a.index_fill(1, tg_index, v)),
        (lambda a, s, v: a.index_fill(1, index, 2.0), lambda a, s, v: a.index_fill(1, tg_index, 2.0)),
    ]
    for torch_op, tg_op in cases:
        for leaf in (x, source, value, tg_x, tg_source, tg_value):
            leaf.grad = None
        expected, got = torch_op(x * 1, source * 1, value * 1), tg_op(tg_x * 1, tg_source * 1, tg_value * 1)
        assert_close(got, expected)
        assert got.grad_fn.name() == expected.grad_fn.name()
        weight = random_values(tuple(expected.shape), torch.float64)
        (got * from_torch(weight)).sum().backward()
        (expected * weight).sum().backward()
        for tg_leaf, leaf in ((tg_x, x), (tg_source, source), (tg_value, value)):
            if leaf.grad is not None:
                assert_close(tg_leaf.grad, leaf.grad)


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_take_and_take_along_dim(layout):
    x, tg_x = make_pair((4, 5), torch.float64, layout, requires_grad=True)
    index = torch.tensor([[19, 0], [-1, 7], [7, 7]])
    got, expected = tritongrad.take(tg_x, from_torch(index)), torch.take(x, index)
    assert_close(got, expected)
    assert got.grad_fn.name() == expected.grad_fn.name()
    _grad_both(got, expected, [tg_x], [x])
    x.grad = tg_x.grad = None
    along = torch.tensor([[4, 0, -1]])  # broadcast over dim 0, negative counts from the end
    got, expected = tritongrad.take_along_dim(tg_x, from_torch(along), 1), torch.take_along_dim(x, along, 1)
    assert_close(got, expected)
    _grad_both(got, expected, [tg_x], [x])
    flat = torch.tensor([0, 19, 3])
    # (torch's own take_along_dim without dim views a transposed input as 1-D and fails; take is the same)
    assert_close(tritongrad.take_along_dim(tg_x, from_torch(flat)), torch.take(x, flat))


def test_put_():
    x, tg_x = make_pair((3, 4), torch.float32)
    index, source = torch.tensor([[0, -1], [5, 5]]), random_values((2, 2), torch.float32)
    x.put_(index, source, accumulate=True)
    tg_x.put_(from_torch(index), from_torch(source), accumulate=True)
    assert_close(tg_x, x)


@pytest.mark.parametrize(
    "shape, mask_shape", [((4, 5), (4, 5)), ((4, 5), (5,)), ((5,), (3, 5)), ((2, 1, 3), (4, 1)), ((0, 3), (0, 3))]
)
def test_masked_select(shape, mask_shape):
    x, tg_x = make_pair(shape, torch.float64, requires_grad=True)
    mask = torch.rand(mask_shape) > 0.5
    got, expected = tg_x.masked_select(from_torch(mask)), x.masked_select(mask)
    assert_close(got, expected)
    if expected.numel():
        assert got.grad_fn.name() == expected.grad_fn.name()
        _grad_both(got, expected, [tg_x], [x])


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_masked_fill_and_scatter_every_dtype(dtype):
    x, tg_x = make_pair((3, 4), dtype, "transposed")
    mask = torch.rand(3, 4) > 0.5
    fill = True if dtype == torch.bool else 2
    assert_close(tg_x.masked_fill(from_torch(mask), fill), x.masked_fill(mask, fill))
    source = random_values((13,), dtype)
    assert_close(tg_x.masked_scatter(from_torch(mask), from_torch(source)), x.masked_scatter(mask, source))
    assert_close(tritongrad.masked_select(tg_x, from_torch(mask)), torch.masked_select(x, mask))


def test_masked_fill_forms_and_gradients():
    x, tg_x = make_pair((3, 4), torch.float64, requires_grad=True)
    value, tg_value = make_pair((), torch.float64, requires_grad=True)
    mask = torch.rand(4) > 0.5  # broadcast over rows
    for fill, tg_fill in ((-1.5, -1.5), (value, tg_value)):
        for leaf in (x, value, tg_x, tg_value):
            leaf.grad = None
        expected, got = x.masked_fill(mask, fill), tg_x.masked_fill(from_torch(mask), tg_fill)
        assert_close(got, expected)
        assert got.grad_fn.name() == expected.grad_fn.name()
        _grad_both(
            got, expected, [tg_x] + ([tg_value] if fill is value else []), [x] + ([value] if fill is value else [])
        )
    y, tg_y = make_pair((3, 4), torch.float32)
    y.masked_fill_(mask, 7.0)
    assert tg_y.masked_fill_(from_torch(mask), 7.0) is tg_y
    assert_close(tg_y, y)


def test_masked_scatter_gradient_and_in_place():
    x, tg_x = make_pair((3, 4), torch.float64, requires_grad=True)
    source, tg_source = make_pair((2, 7), torch.float64, requires_grad=True)
    mask = torch.rand(3, 4) > 0.5
    got, expected = tg_x.masked_scatter(from_torch(mask), tg_source), x.masked_scatter(mask, source)
    assert_close(got, expected)
    assert got.grad_fn.name() == expected.grad_fn.name()
    _grad_both(got, expected, [tg_x, tg_source], [x, source])
    y, tg_y = make_pair((3, 4), torch.float32, "transposed")
    src = random_values((12,), torch.float32)
    y.masked_scatter_(mask, src)
    tg_y.masked_scatter_(from_torch(mask), from_torch(src))
    assert_close(tg_y, y)


@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 4), (0, 2), (70_001,)], ids=str)
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_nonzero_argwhere_where(shape, layout):
    x, tg_x = make_pair(shape, torch.float32, layout)
    x, tg_x = x * (x > 0), tg_x * (tg_x > 0)  # about half zeros
    assert_close(tritongrad.nonzero(tg_x), torch.nonzero(x))
    assert_close(tg_x.argwhere(), x.argwhere())
    for got, expected in zip(tg_x.nonzero(as_tuple=True), x.nonzero(as_tuple=True), strict=True):
        assert_close(got, expected)
    for got, expected in zip(tritongrad.where(tg_x > 0), torch.where(x > 0), strict=True):
        assert_close(got, expected)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_nonzero_every_dtype(dtype):
    x, tg_x = make_pair((5, 3), dtype, "sliced")
    assert_close(tg_x.nonzero(), x.nonzero())


# ------------------------------------------------------------------------------------------------
# gradcheck (float64)
# ------------------------------------------------------------------------------------------------


def test_gradcheck():
    gradcheck = tritongrad.autograd.gradcheck
    x = from_torch(torch.randn(4, 5, dtype=torch.float64), requires_grad=True)
    v = from_torch(torch.randn(3, dtype=torch.float64), requires_grad=True)
    rows, columns = from_torch(torch.tensor([3, 0, 3])), from_torch(torch.tensor([1, 4, 1]))
    index = from_torch(torch.tensor([[0, 3, 3], [1, 1, 0]]))
    src = from_torch(torch.randn(2, 3, dtype=torch.float64), requires_grad=True)
    mask = from_torch(torch.rand(4, 5) > 0.5)
    assert gradcheck(lambda a: a[rows, columns], (x,))
    assert gradcheck(lambda a: a[:, [4, 0, 4]][mask[:, :3]], (x,))
    assert gradcheck(lambda a: a.gather(0, index), (x,))
    assert gradcheck(lambda a, s: a.scatter_add(0, index, s), (x, src))
    assert gradcheck(lambda a, b: a.index_put((rows, columns), b, accumulate=True), (x, v))
    assert gradcheck(lambda a, b: a.index_put((from_torch(torch.tensor([3, 0, 1])), columns), b), (x, v))
    assert gradcheck(lambda a, b: a.index_add(1, rows, b.view(1, 3).expand(4, 3) * 1), (x, v))
    assert gradcheck(lambda a: a.masked_select(mask), (x,))
    assert gradcheck(lambda a: a.take(index), (x,))


def test_double_backward_of_index():
    x = from_torch(torch.randn(4, 3, dtype=torch.float64), requires_grad=True)
    index = from_torch(torch.tensor([1, 1, 3]))
    (grad,) = tritongrad.autograd.grad((x[index] ** 2).sum(), x, create_graph=True)
    grad.sum().backward()
    expected_x = x.detach()._data.clone().requires_grad_()
    (expected,) = torch.autograd.grad((expected_x[torch.tensor([1, 1, 3])] ** 2).sum(), expected_x, create_graph=True)
    expected.sum().backward()
    assert_close(grad, expected)
    assert_close(x.grad, expected_x.grad)


# ------------------------------------------------------------------------------------------------
# Errors: torch's exception types and messages
# ------------------------------------------------------------------------------------------------


def _error_cases(lib):
    wrap = (lambda t: t) if lib is torch else from_torch
    x = wrap(torch.arange(12.0).reshape(3, 4))
    i = lambda *values: wrap(torch.tensor(values))  # noqa: E731
    return [
        ("read out of range", IndexError, "index 5 is out of bounds for dimension 0 with size 3", lambda: x[i(5)]),
        ("read negative out of range", IndexError, "index -4 is out of bounds", lambda: x[i(0, -4)]),
        ("read out of range in a later dim", IndexError, "index 4 is out of bounds", lambda: x[:, i(1, 4)]),
        ("list out of range", IndexError, "index 7 is out of bounds", lambda: x[[0, 7]]),
        ("broadcast", IndexError, "shape mismatch: indexing tensors could not be broadcast together",
         lambda: x[[0, 1], [0, 1, 2]]),
        ("float index", IndexError, "tensors used as indices must be long, int, byte or bool",
         lambda: x[wrap(torch.tensor([0.0]))]),
        ("too many", IndexError, "too many indices for tensor of dimension 2", lambda: x[[0], [0], [0]]),
        ("mask shape", IndexError, "The shape of the mask \\[4\\] at index 0 does not match",
         lambda: x[wrap(torch.ones(4, dtype=torch.bool))]),
        ("write out of range", IndexError, "index 3 is out of bounds", lambda: x.clone().__setitem__(i(3), 1.0)),
        ("write shape", RuntimeError, "shape mismatch: value tensor of shape \\[3, 4\\] cannot be broadcast",
         lambda: x.clone().__setitem__(i(1, 2), wrap(torch.randn(3, 4)))),
        ("write dtype", RuntimeError, "Index put requires the source and destination dtypes match",
         lambda: x.clone().__setitem__(i(1, 2), wrap(torch.randn(4, dtype=torch.float64)))),
        ("accumulate out of range", IndexError, "index 3 is out of bounds",
         lambda: x.clone().index_put_((i(3),), wrap(torch.tensor(1.0)), accumulate=True)),
        ("gather out of range", RuntimeError, "index 4 is out of bounds for dimension 1 with size 4",
         lambda: x.gather(1, i([4]))),
        ("gather negative", RuntimeError, "index -1 is out of bounds", lambda: x.gather(1, i([-1]))),
        ("gather rank", RuntimeError, "Index tensor must have the same number of dimensions",
         lambda: x.gather(1, i(1))),
        ("gather size", RuntimeError, "Size does not match at dimension 0",
         lambda: x.gather(1, wrap(torch.zeros(4, 1, dtype=torch.int64)))),
        ("index_select out of range", IndexError, "index out of range in self", lambda: x.index_select(0, i(3))),
        ("index_select 2-D", IndexError, "Index is supposed to be a vector", lambda: x.index_select(0, i([1]))),
        ("index_select float", RuntimeError, "Expected dtype int32 or int64 for index",
         lambda: x.index_select(0, wrap(torch.tensor([1.0])))),
        ("scatter out of range", RuntimeError, "index 4 is out of bounds", lambda: x.scatter(1, i([4]), 1.0)),
        ("scatter_add out of range", RuntimeError, "index 4 is out of bounds", lambda: x.scatter_add(1, i([4]), x)),
        ("scatter src too small", RuntimeError, "to be no larger",
         lambda: x.scatter(1, wrap(torch.zeros(3, 4, dtype=torch.int64)), wrap(torch.randn(2, 2)))),
        ("take out of range", IndexError, "out of range: tried to access index 12 on a tensor of 12 elements",
         lambda: x.take(i(12))),
        ("index_add out of range", RuntimeError, "index 3 is out of bounds",
         lambda: x.index_add(0, i(3), wrap(torch.randn(1, 4)))),
        ("index_add shape", RuntimeError, "Number of indices \\(1\\) should be equal to source.size\\(dim\\)",
         lambda: x.index_add(0, i(1), wrap(torch.randn(2, 4)))),
        ("index_copy out of range", IndexError, "index_copy_\\(\\): index 3 is out of bounds",
         lambda: x.index_copy(0, i(3), wrap(torch.randn(1, 4)))),
        ("index_fill out of range", IndexError, "index 3 is out of bounds", lambda: x.index_fill(0, i(3), 1.0)),
        ("masked_select dtype", RuntimeError, "expected BoolTensor for mask",
         lambda: x.masked_select(wrap(torch.ones(4, dtype=torch.int64)))),
        ("masked_fill dtype", RuntimeError, "only supports boolean masks",
         lambda: x.masked_fill(wrap(torch.ones(4, dtype=torch.int64)), 1.0)),
        ("masked_fill value", RuntimeError, "only supports a 0-dimensional value tensor",
         lambda: x.masked_fill(wrap(torch.ones(4, dtype=torch.bool)), wrap(torch.ones(2)))),
        ("masked_fill_ broadcast", RuntimeError, "doesn't match the broadcast shape",
         lambda: x[0].clone().masked_fill_(wrap(torch.ones(2, 4, dtype=torch.bool)), 1.0)),
        ("masked_scatter too small", RuntimeError, "Number of elements of source < number of ones in mask",
         lambda: x.masked_scatter(wrap(torch.ones(4, dtype=torch.bool)), wrap(torch.ones(2)))),
        ("narrow past the end", RuntimeError, "start \\(2\\) \\+ length \\(2\\) exceeds dimension size \\(3\\)",
         lambda: x.narrow(0, 2, 2)),
        ("narrow negative start", RuntimeError, "exceeds dimension size", lambda: x.narrow(0, -1, 2)),
        ("select out of range", IndexError, "index 3 (out of range|is out of bounds)",
         lambda: x.select(0, 3)),
        ("int out of range", IndexError, "index 3 is out of bounds for dimension 0 with size 3", lambda: x[3]),
        ("0-d tensor out of range", IndexError, "index 5 is out of bounds", lambda: x[wrap(torch.tensor(5))]),
        ("index a 0-d tensor", IndexError, "too many indices for tensor of dimension 0",
         lambda: wrap(torch.tensor(1.0))[i(0)]),
        ("float key", IndexError, "only integers, slices", lambda: x[1.5]),
    ]  # fmt: skip


@pytest.mark.parametrize("case", range(len(_error_cases(torch))), ids=[c[0] for c in _error_cases(torch)])
def test_errors_match_torch(case):
    name, error, message, torch_call = _error_cases(torch)[case]
    with pytest.raises(error, match=message.split(" for dimension")[0] if "dimension 1" in message else None):
        torch_call()
    tg_call = _error_cases(tritongrad)[case][3]
    with pytest.raises(error, match=message):
        tg_call()


def test_bad_index_leaves_the_target_unchanged():
    x, tg_x = make_pair((4, 3), torch.float32)
    with pytest.raises(IndexError):
        tg_x[from_torch(torch.tensor([0, 9]))] = 5.0
    assert_close(tg_x, x)


def test_masked_write_of_one_value_gradient():
    """``x[mask] = v`` with a one-element v is a masked fill (no read-back of the mask): both gradients."""
    leaf, tg_leaf = make_pair((4, 5), torch.float64, requires_grad=True)
    value, tg_value = make_pair((), torch.float64, requires_grad=True)
    mask = torch.rand(4) > 0.5
    base, tg_base = leaf * 1, tg_leaf * 1
    base[:, 1:][mask] = value
    tg_base[:, 1:][from_torch(mask)] = tg_value
    assert_close(tg_base, base)
    _grad_both(tg_base, base, [tg_leaf, tg_value], [leaf, value])


def test_offsets_past_two_to_the_31():
    """Index kernels address past 2**31 elements: a sparse view of a large (untouched) allocation."""
    big = torch.empty(2**31 + 16, dtype=torch.uint8)
    view = big[:: 2**30]  # 3 elements, the last at offset 2**31
    tg_view = tritongrad.Tensor._wrap(view)
    index = torch.tensor([2, 0, 2])
    assert_close(tg_view[from_torch(index)], view[index])
    tg_view[from_torch(torch.tensor([2]))] = 7
    assert big[2**31].item() == 7
    tg_view.index_put_((from_torch(torch.tensor([2, 2])),), from_torch(torch.tensor([1, 2], dtype=torch.uint8)),
                       accumulate=True)  # fmt: skip
    assert big[2**31].item() == 10
    assert_close(tg_view.nonzero(), view.nonzero())
    assert_close(tg_view.masked_select(tg_view > 5), view.masked_select(view > 5))


def _makemore_manual_backprop(lib):
    """makemore-style code (an embedding lookup, cross-entropy by picking log-probs, the manual
    gradient with ``dlogits[range(n), Yb] -= 1``, the embedding gradient by a loop of ``dC[ix] +=``)."""
    generator = np.random.default_rng(0)
    n, vocab, width, block = 8, 27, 4, 3
    C = lib.tensor(generator.standard_normal((vocab, width)), dtype=lib.float32, requires_grad=True)
    W = lib.tensor(generator.standard_normal((block * width, vocab)) * 0.1, dtype=lib.float32, requires_grad=True)
    Xb = lib.tensor(generator.integers(0, vocab, (n, block)))
    Yb = lib.tensor(generator.integers(0, vocab, (n,)))
    emb = C[Xb]
    logits = emb.view(emb.shape[0], -1) @ W
    probs = (logits - logits.max(1, keepdim=True).values).exp()
    probs = probs / probs.sum(1, keepdim=True)
    loss = -probs.log()[range(n), Yb].mean()
    loss.backward()
    dlogits = probs.detach().clone()
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    demb = (dlogits @ W.detach().T).view(n, block, width)
    dC = lib.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[k, j]] += demb[k, j]
    onehot = lib.zeros(n, vocab)
    onehot[lib.arange(n), Yb] = 1
    return [
        loss,
        C.grad,
        W.grad,
        dlogits,
        dC,
        lib.zeros_like(C).index_add_(0, Xb.view(-1), demb.view(-1, width)),
        onehot,
    ]


def test_makemore_style_replay():
    for got, expected in zip(_makemore_manual_backprop(tritongrad), _makemore_manual_backprop(torch), strict=True):
        assert_close(got.detach(), expected.detach(), rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
def test_gpu_indexing():
    """The kernels at GPU sizes: many repeats in atomic adds, several blocks in the mask scan."""
    x = torch.randn(4096, 257, device="cuda", dtype=torch.float64)
    rows, columns = (
        torch.randint(0, 4096, (100_000,), device="cuda"),
        torch.randint(-257, 257, (100_000,), device="cuda"),
    )
    tg_x = tritongrad.Tensor._wrap(x.clone()).requires_grad_()
    got = tg_x[tritongrad.Tensor._wrap(rows), tritongrad.Tensor._wrap(columns)]
    assert_close(got, x[rows, columns])
    got.sum().backward()
    expected = torch.zeros_like(x).index_put_((rows, columns), torch.ones(100_000, device="cuda", dtype=x.dtype), True)
    assert_close(tg_x.grad, expected)
    mask = x > 0.3
    assert_close(tritongrad.Tensor._wrap(mask).nonzero(), mask.nonzero())
    assert_close(tg_x.detach().masked_select(tritongrad.Tensor._wrap(mask)), x.masked_select(mask))
    with pytest.raises(IndexError, match="index 4096 is out of bounds"):
        # checked on the device, reported at the next readback (as torch's device-side assert)
        tg_x[tritongrad.Tensor._wrap(torch.tensor([4096], device="cuda"))].tolist()


def test_values_overlapping_the_target_are_refused():
    """As in torch: writing x through an index while reading the values from x itself."""
    x = from_torch(torch.arange(12.0).reshape(3, 4))
    rows = from_torch(torch.tensor([1, 2]))
    writes = [
        lambda: x.__setitem__(rows, x[0]),
        lambda: x.index_put_((rows,), x[0]),
        lambda: x.scatter_(0, from_torch(torch.tensor([[1, 2]])), x[:1, :2]),
        lambda: x.index_add_(0, from_torch(torch.tensor([1])), x[:1]),
        lambda: x.index_copy_(0, from_torch(torch.tensor([1])), x[:1]),
    ]
    for write in writes:
        with pytest.raises(RuntimeError, match="refer to a single memory location"):
            write()
    x[rows] = x[0].clone()
    assert x.tolist()[2] == [0.0, 1.0, 2.0, 3.0]


def test_bounds_read_back_only_for_device_indices(monkeypatch):
    """Indices from host data (lists, ranges, numpy arrays, bools, masks) are known to be in range
    before any launch; only index tensors need the device check and its one read-back."""
    from tritongrad.kernels import indexing as indexing_kernels

    checks = []
    original = indexing_kernels.launch_index_offsets

    def spy(*args, **kwargs):
        checks.append(kwargs.get("check", True))
        return original(*args, **kwargs)

    monkeypatch.setattr(indexing_kernels, "launch_index_offsets", spy)
    x, tg_x = make_pair((3, 4), torch.float32)
    assert_close(tg_x[range(3), [0, -1, 2]], x[range(3), [0, -1, 2]])
    assert_close(tg_x[np.array([2, 0]), True], x[np.array([2, 0]), True])
    assert checks == [False, False]
    tg_x[from_torch(torch.tensor([1, 2]))]
    assert checks == [False, False, True]
    with pytest.raises(IndexError, match="index -5 is out of bounds for dimension 1 with size 4"):
        tg_x[[0, 1], [2, -5]]
    assert len(checks) == 3  # refused before any launch


# ------------------------------------------------------------------------------------------------
# index_put_ / x[indices] = v into an expanded tensor: allowed by torch with a deprecation warning
# ------------------------------------------------------------------------------------------------
EXPANDED_WRITES = {
    "index_put_ one position": lambda lib, e: e.index_put_((lib.tensor([2]),), lib.tensor(9, dtype=e.dtype)),
    "index_put_ aliased positions": lambda lib, e: e.index_put_((lib.tensor([0, 2]),), lib.tensor(9, dtype=e.dtype)),
    "index_put_ accumulate": lambda lib, e: e.index_put_(
        (lib.tensor([0, 2, 2]),), lib.tensor(3, dtype=e.dtype), accumulate=True
    ),
    "setitem int tensor": lambda lib, e: e.__setitem__(lib.tensor([1, 3]), 5),
    "setitem list": lambda lib, e: e.__setitem__([0, 3], 5),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int64], ids=str)
@pytest.mark.parametrize("name", list(EXPANDED_WRITES))
def test_index_put_into_expanded_tensor_warns_and_writes_as_torch(name, dtype):
    values = random_values((2, 1), dtype)
    results = []
    for lib in (torch, tritongrad):
        base = values.clone() if lib is torch else from_torch(values)
        expanded = base.expand(2, 4)[1]  # four elements, one memory location
        with pytest.warns(UserWarning, match="Use of index_put_ on expanded tensors is deprecated"):
            EXPANDED_WRITES[name](lib, expanded)
        results.append(base)
    assert_close(results[1], results[0], what=f"{name} {dtype}")


def test_other_scattering_writes_into_expanded_tensors_are_refused_as_torch():
    for call in (
        lambda lib, e: e.index_add_(0, lib.tensor([0]), lib.tensor([1.0])),
        lambda lib, e: e.scatter_(0, lib.tensor([0]), lib.tensor([1.0])),
        lambda lib, e: e.__setitem__(slice(0, 2), 1.0),
    ):
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor") as want:
            call(torch, torch.ones(1).expand(4))
        with pytest.raises(RuntimeError, match=re.escape(str(want.value))):
            call(tritongrad, tritongrad.ones(1).expand(4))


@pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8:UserWarning")  # (the refused writes warn too)
def test_byte_masks_warn_and_one_value_through_them_is_refused_as_torch():
    values = random_values((5,), torch.float32)
    mask = torch.tensor([1, 0, 1, 0, 0], dtype=torch.uint8)
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        assert_close(from_torch(values)[from_torch(mask)], values[mask.bool()])
    x = from_torch(values)
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        x[from_torch(mask)] = tritongrad.tensor([7.0, 8.0])  # several values: an index_put_, as torch
    assert x.tolist()[:3] == [7.0, values[1].item(), 8.0]
    for write in (
        lambda lib, t, m: t.__setitem__(m, 1.0),
        lambda lib, t, m: t.index_put_((m,), lib.tensor(1.0)),
    ):
        with pytest.raises(RuntimeError, match="masked_fill_ only supports boolean masks") as want:
            write(torch, values.clone(), mask)
        with pytest.raises(RuntimeError, match=re.escape(str(want.value))):
            write(tritongrad, from_torch(values), from_torch(mask))
