"""Views and basic indexing (tritongrad/ops/views.py): values, shared memory, version counters,
writes through views, gradients, and ``__setitem__``."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, make_pair

# Each entry works on a (3, 4, 5) tensor with torch's and tritongrad's identical API; multi-output
# views (unbind/chunk/split) pick one piece.
VIEW_OPS = {
    "view": lambda x: x.view(4, 15),
    "view -1": lambda x: x.view(-1, 5),
    "view_as": lambda x: x.view_as(x[0].new_empty(60)),
    "reshape (viewable)": lambda x: x.reshape(12, 5),
    "permute": lambda x: x.permute(2, 0, 1),
    "permute negative": lambda x: x.permute(-1, 0, -2),
    "transpose": lambda x: x.transpose(0, 2),
    "swapaxes": lambda x: x.swapaxes(1, -1),
    "t": lambda x: x[1].t(),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "unsqueeze -1": lambda x: x.unsqueeze(-1),
    "squeeze all": lambda x: x[:, :1, None].squeeze(),
    "squeeze dim": lambda x: x[:, :1].squeeze(1),
    "squeeze non-1 dim": lambda x: x.squeeze(0),
    "flatten": lambda x: x.flatten(),
    "flatten 1": lambda x: x.flatten(1),
    "unflatten": lambda x: x.unflatten(2, (5, 1)),
    "expand": lambda x: x[:, :1].expand(2, 3, 6, 5),
    "expand -1": lambda x: x[:1].expand(4, -1, -1),
    "expand_as": lambda x: x[:, :, :1].expand_as(x),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "narrow negative dim": lambda x: x.narrow(-1, 2, 3),
    "select": lambda x: x.select(2, -1),
    "int": lambda x: x[1],
    "negative ints": lambda x: x[-1, -2],
    "all ints (0-dim)": lambda x: x[2, 3, 4],
    "slices": lambda x: x[1:, ::2, -3:],
    "slice with step and stop": lambda x: x[::2, 1:4:2],
    "empty slice": lambda x: x[:, 3:1],
    "None": lambda x: x[None, :, None],
    "Ellipsis": lambda x: x[..., 1],
    "Ellipsis and None": lambda x: x[1, ..., None],
    "mixed": lambda x: x[-1, None, 1:3, ...],
    "unbind": lambda x: x.unbind(1)[2],
    "chunk": lambda x: x.chunk(2, 2)[1],
    "chunk uneven": lambda x: x.chunk(3, 1)[-1],
    "split": lambda x: x.split(2, 1)[1],
    "split sizes": lambda x: x.split([1, 4], -1)[1],
}

WRITABLE = [name for name in VIEW_OPS if not name.startswith("expand")]


def storage_pointer(tensor) -> int:
    return tensor._data.untyped_storage().data_ptr()


@pytest.mark.parametrize("name", list(VIEW_OPS))
def test_view_values_and_shared_memory(name):
    fn = VIEW_OPS[name]
    x, tg_x = make_pair((3, 4, 5), torch.float32)
    view, expected = fn(tg_x), fn(x)
    assert_close(view, expected, what=name)
    assert view.stride() == expected.stride(), f"{name}: strides {view.stride()} != torch's {expected.stride()}"
    assert storage_pointer(view) == storage_pointer(tg_x), f"{name} must not copy"
    assert view._version_counter is tg_x._version_counter, f"{name} must share the version counter"


@pytest.mark.parametrize("name", WRITABLE)
def test_writes_through_views_reach_the_base(name):
    fn = VIEW_OPS[name]
    x, tg_x = make_pair((3, 4, 5), torch.float32)
    version = tg_x._version
    fn(tg_x).mul_(-2.0).add_(1.0)
    fn(x).mul_(-2.0).add_(1.0)
    assert_close(tg_x, x, what=f"base after writing through {name}")
    assert tg_x._version == version + 2, "in-place ops on a view bump the base's version"
    # and the other way round: a write to the base is seen by the view
    tg_x.fill_(0.5)
    x.fill_(0.5)
    assert_close(fn(tg_x), fn(x))


@pytest.mark.parametrize("name", list(VIEW_OPS))
def test_view_gradients(name):
    fn = VIEW_OPS[name]
    x, tg_x = make_pair((3, 4, 5), torch.float64, requires_grad=True)
    expected = fn(x)
    weight = torch.randn(expected.shape, dtype=torch.float64)
    (fn(tg_x) * from_torch(weight)).sum().backward()
    (expected * weight).sum().backward()
    assert_close(tg_x.grad, x.grad, what=f"grad through {name}")


def test_grad_fn_names_match_torch():
    x, tg_x = make_pair((3, 4), torch.float32, requires_grad=True)
    cases = {
        "view": lambda t: t.view(12),
        "permute": lambda t: t.permute(1, 0),
        "transpose": lambda t: t.transpose(0, 1),
        "t": lambda t: t.t(),
        "unsqueeze": lambda t: t.unsqueeze(0),
        "expand": lambda t: t[:1].expand(5, 4),
        "select": lambda t: t[1],
        "slice": lambda t: t[1:],
    }
    for name, fn in cases.items():
        assert fn(tg_x).grad_fn.name() == fn(x).grad_fn.name(), name


def test_reshape_of_a_non_viewable_layout_copies():
    x, tg_x = make_pair((4, 6), torch.float32, "transposed")
    flat = tg_x.reshape(-1)
    assert_close(flat, x.reshape(-1))
    assert storage_pointer(flat) != storage_pointer(tg_x)
    assert_close(tg_x.flatten(), x.flatten())
    with pytest.raises(RuntimeError, match=r"view.*reshape"):
        tg_x.view(-1)


def test_view_errors():
    tg_x = from_torch(torch.randn(3, 4))
    with pytest.raises(RuntimeError, match="invalid"):
        tg_x.view(5, 3)
    with pytest.raises(IndexError, match="out of bounds|out of range"):
        tg_x[3]
    with pytest.raises(IndexError, match="too many indices"):
        tg_x[0, 0, 0]
    with pytest.raises(RuntimeError, match="expanded size"):
        tg_x.expand(2, 5, 4)
    with pytest.raises(RuntimeError, match="split_with_sizes"):
        tg_x.split([1, 1], 0)
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        tg_x.flatten(1, 0)
    with pytest.raises(RuntimeError, match="dims"):
        tg_x.permute(0, 0)


def test_chunk_and_split_cover_everything():
    x, tg_x = make_pair((7, 3), torch.float32)
    for tg_parts, parts in [
        (tg_x.chunk(3), x.chunk(3)),
        (tg_x.chunk(4, 0), x.chunk(4, 0)),
        (tg_x.split(3), x.split(3)),
        (tg_x.split([2, 0, 5]), x.split([2, 0, 5])),
        (tg_x.unbind(1), x.unbind(1)),
    ]:
        assert len(tg_parts) == len(parts)
        for got, expected in zip(tg_parts, parts):
            assert_close(got, expected)


# ------------------------------------------------------------------------------------------------
# __setitem__
# ------------------------------------------------------------------------------------------------

SETITEM_CASES = {
    "int = scalar": (lambda x: 1, lambda shape, dtype: 2.5),
    "negative int = scalar": (lambda x: -1, lambda shape, dtype: -7),
    "element = scalar": (lambda x: (0, 2), lambda shape, dtype: 9.0),
    "slice = tensor": (lambda x: (slice(None), slice(1, 3)), lambda shape, dtype: torch.randn(4, 2)),
    "step slice = broadcast row": (
        lambda x: (Ellipsis, slice(None, None, 2)),
        lambda shape, dtype: torch.randn(3),
    ),
    "row = float64 tensor": (lambda x: 2, lambda shape, dtype: torch.randn(5, dtype=torch.float64)),
    "element = 0-dim tensor": (lambda x: (3, 4), lambda shape, dtype: torch.tensor(-1.5)),
    "None and Ellipsis = scalar": (lambda x: (None, Ellipsis, 0), lambda shape, dtype: 0.25),
    "all = int tensor": (lambda x: slice(None), lambda shape, dtype: torch.arange(5)),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64], ids=str)
@pytest.mark.parametrize("name", list(SETITEM_CASES))
def test_setitem(name, dtype):
    key_of, value_of = SETITEM_CASES[name]
    x, tg_x = make_pair((4, 5), dtype)
    key = key_of(x)
    value = value_of(x.shape, dtype)
    tg_value = from_torch(value) if isinstance(value, torch.Tensor) else value
    version = tg_x._version
    tg_x[key] = tg_value
    x[key] = value
    assert_close(tg_x, x, what=f"x[{key!r}] = ...")
    assert tg_x._version > version


def test_setitem_on_a_view_writes_the_base():
    x, tg_x = make_pair((4, 6), torch.float32)
    tg_view, view = tg_x.t(), x.t()
    tg_view[1:5:2] = from_torch(torch.ones(4))
    view[1:5:2] = torch.ones(4)
    assert_close(tg_x, x)


@pytest.mark.parametrize("value", [0.0, -3, "tensor"])
def test_setitem_with_a_bool_mask(value):
    x, tg_x = make_pair((5, 4), torch.float32)
    mask = x > 0.5
    torch_value = torch.tensor(2.5) if value == "tensor" else value
    tg_value = from_torch(torch_value) if value == "tensor" else value
    tg_x[from_torch(mask)] = tg_value
    x[mask] = torch_value
    assert_close(tg_x, x)


def test_setitem_shape_mismatch_is_refused():
    tg_x = from_torch(torch.randn(4, 5))
    with pytest.raises(RuntimeError):
        tg_x[0] = from_torch(torch.randn(4))


def test_setitem_on_a_leaf_requiring_grad_is_refused():
    leaf = tritongrad.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf[0] = 1.0
    with tritongrad.no_grad():
        leaf[0] = 1.0
    assert leaf.tolist() == [1.0, 0.0, 0.0]


# torch applies one view op per key entry; x[key]'s node is named after the last one.
NAMED_KEYS = [
    (slice(None),), (Ellipsis,), (slice(None), slice(None)), (slice(0, 2),), (slice(0, 3), 1), (1, slice(None)),
    (None, slice(None)), (slice(None), None), (slice(1, None), None, slice(None)), (Ellipsis, 1), (Ellipsis, None),
    (None,), (1, None, slice(None)), 1, -1, (-1, None), (slice(0, 2, 2),), (Ellipsis, slice(1, 3)),
    (0, Ellipsis, None), slice(None), slice(0, 2), Ellipsis, None, (slice(0, 5),), (slice(-2, None),),
    (slice(None, -1),), (slice(None, 9),), (slice(None, 1),),
]  # fmt: skip


@pytest.mark.parametrize("key", NAMED_KEYS, ids=repr)
def test_basic_index_node_name_matches_torch(key):
    values = torch.randn(2, 3, 4)
    want = values.clone().requires_grad_()[key].grad_fn.name()
    got = tritongrad.tensor(values.tolist(), requires_grad=True)[key].grad_fn.name()
    assert got == want, f"x[{key!r}] of a (2, 3, 4) tensor: tritongrad {got}, torch {want}"
