"""The seventh red-team round's indexing findings (ops/indexing.py), each compared with torch by
``agree``: the value, or the exception type and the head of its message; where the difference was
in the message's tail, the whole message is compared too."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.test_hardening import agree


def _long(*values):
    return lambda lib: lib.tensor(list(values))


# index_copy(_): torch's meta function's order, exception types and words (IndexError for the counts).
INDEX_COPY = {
    "more source rows than indices": lambda lib: lib.zeros(3, 4).index_copy_(0, lib.tensor([0, 1]), lib.ones(3, 4)),
    "out of place, more source rows": lambda lib: lib.zeros(3, 4).index_copy(0, lib.tensor([0, 1]), lib.ones(3, 4)),
    "function form": lambda lib: lib.index_copy(lib.zeros(3, 4), 0, lib.tensor([0, 1]), lib.ones(3, 4)),
    "source of fewer dims": lambda lib: lib.zeros(3, 4).index_copy_(0, lib.tensor([1]), lib.ones(4)),
    "source of more dims": lambda lib: lib.zeros(3, 4).index_copy_(0, lib.tensor([0, 1]), lib.ones(2, 4, 3)),
    "0-d source, two indices": lambda lib: lib.zeros(3).index_copy_(0, lib.tensor([0, 1]), lib.ones(())),
    "0-d source into a matrix": lambda lib: lib.zeros(3, 4).index_copy_(0, lib.tensor([1]), lib.ones(())),
    "2-d index": lambda lib: lib.zeros(3, 4).index_copy_(0, lib.tensor([[0, 1]]), lib.ones(2, 4)),
    "slice shapes differ": lambda lib: lib.zeros(3, 4, 2).index_copy_(0, lib.tensor([0, 1]), lib.ones(2, 5, 3)),
    "slices differ before the counts": lambda lib: lib.zeros(3, 4).index_copy_(
        1, lib.tensor([0, 1, 2]), lib.ones(2, 2)
    ),
    "0-d index, three rows": lambda lib: lib.zeros(3, 4).index_copy_(0, lib.tensor(0), lib.ones(3, 4)),
    "0-d self, two values": lambda lib: lib.zeros(()).index_copy_(0, lib.tensor([0]), lib.ones(2)),
    "0-d self, one value": lambda lib: lib.zeros(()).index_copy_(0, lib.tensor([0]), lib.ones(1)),
    "0-d index, one row": lambda lib: lib.zeros(3, 4).index_copy_(0, lib.tensor(0), lib.ones(1, 4)),
    "along dim 1": lambda lib: lib.zeros(3, 4).index_copy_(1, lib.tensor([0, 3]), lib.ones(3, 2)),
    "int32 index": lambda lib: lib.zeros(3, 4).index_copy_(0, lib.tensor([0, 1], dtype=lib.int32), lib.ones(2, 4)),
}


@pytest.mark.parametrize("case", INDEX_COPY)
def test_index_copy_checks(case):
    agree(case, INDEX_COPY[case], [])


# index_add(_) and index_reduce(_): torch's index_func_meta_impl (source and self of one shape but dim).
INDEX_ADD = {
    "0-d source into a vector": lambda lib: lib.zeros(3).index_add_(0, lib.tensor([1]), lib.tensor(5.0)),
    "0-d index and source": lambda lib: lib.zeros(3).index_add_(0, lib.tensor(1), lib.tensor(5.0)),
    "out of place, 0-d source": lambda lib: lib.zeros(3).index_add(0, lib.tensor(1), lib.tensor(5.0)),
    "1-d source into a 0-d self": lambda lib: lib.tensor(0.0).index_add_(0, lib.tensor([1]), lib.tensor([5.0])),
    "0-d into 0-d": lambda lib: lib.tensor(1.0).index_add_(0, lib.tensor(0), lib.tensor(5.0)),
    "0-d index, 1-element source": lambda lib: lib.zeros(3).index_add_(0, lib.tensor(1), lib.tensor([5.0])),
    "extra source dim": lambda lib: lib.zeros(3, 4).index_add_(0, lib.tensor([1]), lib.ones(1, 4, 1)),
    "dim beyond the source": lambda lib: lib.zeros(3, 4).index_add_(1, lib.tensor([1]), lib.ones(3)),
    "0-d source, two indices": lambda lib: lib.zeros(3, 4).index_add_(0, lib.tensor([1, 2]), lib.ones(())),
    "float index": lambda lib: lib.zeros(3, 4).index_add_(0, lib.tensor([1.0]), lib.ones(1, 4)),
    "2-d index": lambda lib: lib.zeros(3, 4).index_add_(0, lib.tensor([[1]]), lib.ones(1, 4)),
    "matching, alpha": lambda lib: lib.zeros(3, 4).index_add_(1, lib.tensor([1, 1]), lib.ones(3, 2), alpha=2),
    "index_reduce, 0-d source": lambda lib: lib.zeros(3).index_reduce_(0, lib.tensor([1]), lib.tensor(2.0), "prod"),
    "index_reduce, 1-d into 0-d": lambda lib: lib.tensor(2.0).index_reduce_(0, lib.tensor([0]), lib.ones(1), "amax"),
    "index_reduce, dim beyond": lambda lib: lib.zeros(3, 4).index_reduce_(1, lib.tensor([1]), lib.ones(3), "amax"),
    "index_reduce, float index": lambda lib: lib.zeros(3, 4).index_reduce(0, lib.tensor([1.0]), lib.ones(1, 4), "prod"),
    "index_reduce, bad reduce": lambda lib: lib.zeros(3, 4).index_reduce_(0, lib.tensor([1]), lib.ones(1, 4), "sum"),
    "index_reduce, matching": lambda lib: lib.ones(3, 2).index_reduce_(
        0, lib.tensor([2, 2]), lib.ones(2, 2) * 3, "prod"
    ),
}


@pytest.mark.parametrize("case", INDEX_ADD)
def test_index_add_checks(case):
    agree(case, INDEX_ADD[case], [])


# index_fill(_): int64 index only (IndexError), "Index has to be a vector/scalar", complex values,
# and torch's as_strided refusal for an empty input.
INDEX_FILL = {
    "float index": lambda lib: lib.zeros(3, 4).index_fill_(0, lib.tensor([0.0, 1.0]), 1.0),
    "int32 index": lambda lib: lib.zeros(3, 4).index_fill_(0, lib.tensor([0, 1], dtype=lib.int32), 1.0),
    "int32 index, out of place": lambda lib: lib.zeros(3, 4).index_fill(0, lib.tensor([0], dtype=lib.int32), 1.0),
    "int32 index, function": lambda lib: lib.index_fill(lib.zeros(3, 4), 0, lib.tensor([0], dtype=lib.int32), 1.0),
    "int32 index, tensor value": lambda lib: lib.zeros(3, 4).index_fill(
        0, lib.tensor([0], dtype=lib.int32), lib.tensor(1.0)
    ),
    "2-d index": lambda lib: lib.zeros(3, 4).index_fill_(0, lib.tensor([[0, 1]]), 1.0),
    "2-d index, bad dim": lambda lib: lib.zeros(3, 4).index_fill_(5, lib.tensor([[0, 1]]), 1.0),
    "2-d index, 0-d self": lambda lib: lib.zeros(()).index_fill_(0, lib.tensor([[0]]), 1.0),
    "complex value": lambda lib: lib.zeros(3, 4).index_fill_(0, lib.tensor([0]), 1j),
    "complex value, out of place": lambda lib: lib.zeros(3, 4).index_fill(0, lib.tensor([0]), 1j),
    "complex tensor value": lambda lib: lib.zeros(3, 4).index_fill_(0, lib.tensor([0]), lib.tensor(1j)),
    "empty rows": lambda lib: lib.zeros(0, 4).index_fill_(0, lib.tensor([0]), 1.0),
    "empty rows, 0-d index": lambda lib: lib.zeros(0, 4).index_fill_(0, lib.tensor(0), 1.0),
    "empty columns": lambda lib: lib.zeros(4, 0).index_fill_(1, lib.tensor([0]), 1.0),
    "empty vector, out of place": lambda lib: lib.zeros(0).index_fill(0, lib.tensor([0]), 1.0),
    "empty, other dim": lambda lib: lib.zeros(0, 4).index_fill_(1, lib.tensor([7]), 1.0),
    "empty, empty index": lambda lib: lib.zeros(0, 4).index_fill_(0, lib.tensor([], dtype=lib.int64), 1.0),
    "empty view of a storage": lambda lib: lib.zeros(5, 4)[:0].index_fill_(0, lib.tensor([0]), 1.0),
    "0-d self": lambda lib: lib.zeros(()).index_fill_(0, lib.tensor([0]), 2.0),
    "negative index": lambda lib: lib.zeros(3, 4).index_fill_(1, lib.tensor([-1, 0]), 2.0),
}


@pytest.mark.parametrize("case", INDEX_FILL)
def test_index_fill_checks(case):
    agree(case, INDEX_FILL[case], [])


# index_select of an empty input of 2+ dims: torch's CPU path checks the indices by its own words.
INDEX_SELECT = {
    "out of range": lambda lib: lib.zeros(3, 0).index_select(0, lib.tensor([0, 5])),
    "negative": lambda lib: lib.zeros(3, 0).index_select(0, lib.tensor([0, -1])),
    "in range": lambda lib: lib.zeros(3, 0).index_select(0, lib.tensor([0, 2])),
    "empty indexed dim": lambda lib: lib.zeros(3, 0).index_select(1, lib.tensor([0, 2])),
    "empty vector": lambda lib: lib.zeros(0).index_select(0, lib.tensor([0])),
    "non-empty": lambda lib: lib.zeros(3, 2).index_select(0, lib.tensor([5])),
}


@pytest.mark.parametrize("case", INDEX_SELECT)
def test_index_select_of_empty_input(case):
    agree(case, INDEX_SELECT[case], [])


# Inputs torch refuses: take_along_dim's int32 index, index_put_'s leading 1-dims (setitem drops them).
def _index_put(value_shape, *, accumulate=False, index=(0, 1), size=5, mask=False):
    def function(lib):
        x = lib.zeros(size)
        key = lib.tensor([True, False, True, False, False]) if mask else lib.tensor(list(index))
        return x.index_put_((key,), lib.ones(value_shape), accumulate=accumulate)

    return function


def _setitem(lib):
    x = lib.zeros(5)
    x[lib.tensor([0, 1])] = lib.tensor([[1.0, 2.0]])
    return x


REFUSED = {
    "take_along_dim int32": lambda lib: lib.take_along_dim(
        lib.arange(6.0).reshape(2, 3), lib.tensor([[0], [2]], dtype=lib.int32), 1
    ),
    "take_along_dim float": lambda lib: lib.take_along_dim(lib.arange(6.0), lib.tensor([0.0]), 0),
    "index_put_ [1, 2] into [2]": _index_put((1, 2)),
    "index_put_ [1, 1] into [2]": _index_put((1, 1)),
    "index_put_ [1, 1] into [1]": _index_put((1, 1), index=(0,)),
    "index_put_ accumulate": _index_put((1, 2), accumulate=True),
    "index_put_ one value through a mask": _index_put((1, 1), mask=True),
    "index_put_ two values through a mask": _index_put((1, 2), mask=True),
    "index_put_ 0-d index": lambda lib: lib.zeros(5, 3).index_put_((lib.tensor(1),), lib.tensor(2.0)),
    "index_put_ 0-d index, [1]": lambda lib: lib.zeros(5).index_put_((lib.tensor(1),), lib.tensor([2.0])),
    "index_put_ 0-d and 1-d": lambda lib: lib.zeros(5, 3).index_put_(
        (lib.tensor(1), lib.tensor([0, 2])), lib.tensor([7.0, 8.0])
    ),
    "index_put_ 0-d out of range": lambda lib: lib.zeros(5).index_put_((lib.tensor(7),), lib.tensor(2.0)),
    "index_put_ no indices": lambda lib: lib.zeros(5).index_put_((), lib.tensor(2.0)),
    "index_put out of place": lambda lib: lib.index_put(lib.zeros(5), (lib.tensor([0, 1]),), lib.ones(1, 2)),
    "setitem drops leading ones": _setitem,
}


@pytest.mark.parametrize("case", REFUSED)
def test_refused_inputs(case):
    agree(case, REFUSED[case], [])


def _legacy_scatter(reduce, *, inplace, tensor_src=True, backward=True):
    def function(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        src = lib.tensor([5.0, 7.0], requires_grad=True) if tensor_src else 2.0
        index = lib.tensor([0, 0])
        x = (a * 1).scatter_(0, index, src, reduce=reduce) if inplace else a.scatter(0, index, src, reduce=reduce)
        if backward:
            x.sum().backward()
        return x.detach(), x.grad_fn.name()

    return function


LEGACY_SCATTER = {
    f"{reduce} {'in place' if inplace else 'out of place'} {'tensor' if tensor_src else 'value'} {step}": (
        _legacy_scatter(reduce, inplace=inplace, tensor_src=tensor_src, backward=step == "backward")
    )
    for reduce in ("add", "multiply")
    for inplace in (True, False)
    for tensor_src in (True, False)
    for step in ("forward", "backward")
}


@pytest.mark.filterwarnings("ignore:The reduce argument")
@pytest.mark.parametrize("case", LEGACY_SCATTER)
def test_scatter_reduce_argument_has_no_derivative(case):
    agree(case, LEGACY_SCATTER[case], [])


# gather/scatter with an empty index: torch checks neither its dtype nor its shape.
EMPTY_INDEX = {
    "gather [0, 5]": lambda lib: lib.zeros(3, 4).gather(0, lib.zeros(0, 5, dtype=lib.int64)).shape,
    "gather [0]": lambda lib: lib.zeros(3, 4).gather(0, lib.zeros(0, dtype=lib.int64)).shape,
    "gather [0, 5, 3]": lambda lib: lib.zeros(3, 4).gather(0, lib.zeros(0, 5, 3, dtype=lib.int64)).shape,
    "gather float": lambda lib: lib.zeros(3, 4).gather(0, lib.zeros(0, 5)).shape,
    "gather bad dim": lambda lib: lib.zeros(3, 4).gather(5, lib.zeros(0, 5, dtype=lib.int64)),
    "scatter_ src [0, 5]": lambda lib: lib.zeros(3, 4).scatter_(0, lib.zeros(0, 5, dtype=lib.int64), lib.ones(0, 5)),
    "scatter_ src [1, 2]": lambda lib: lib.zeros(3, 4).scatter_(0, lib.zeros(0, 5, dtype=lib.int64), lib.ones(1, 2)),
    "scatter_ src of 3 dims": lambda lib: lib.zeros(3, 4).scatter_(
        0, lib.zeros(0, 5, dtype=lib.int64), lib.ones(0, 5, 3)
    ),
    "scatter_ float index": lambda lib: lib.zeros(3, 4).scatter_(0, lib.zeros(0, 5), lib.ones(0, 5)),
    "scatter_ src dtype": lambda lib: lib.zeros(3, 4).scatter_(
        0, lib.zeros(0, 5, dtype=lib.int64), lib.ones(0, 5, dtype=lib.float64)
    ),
    "scatter value": lambda lib: lib.zeros(3, 4).scatter(0, lib.zeros(0, 5, dtype=lib.int64), 1.0),
    "scatter_add_": lambda lib: lib.zeros(3, 4).scatter_add_(0, lib.zeros(0, 5, 3, dtype=lib.int64), lib.ones(0, 5)),
    "scatter_reduce mean": lambda lib: lib.zeros(3, 4).scatter_reduce(
        0, lib.zeros(0, 5, 3, dtype=lib.int64), lib.ones(0, 5), "mean"
    ),
    "scatter_ reduce add": lambda lib: lib.zeros(3, 4).scatter_(0, lib.zeros(0, 5, dtype=lib.int64), 2.0, reduce="add"),
}


@pytest.mark.parametrize("case", EMPTY_INDEX)
def test_empty_index(case):
    agree(case, EMPTY_INDEX[case], [])


@pytest.mark.parametrize("op", ["gather", "scatter", "scatter_reduce"])
def test_empty_index_gradient(op):
    def function(lib):
        x = lib.ones(3, 4, requires_grad=True)
        index = lib.zeros(0, 5, dtype=lib.int64)
        if op == "gather":
            y = x.gather(0, index)
        elif op == "scatter":
            y = x.scatter(0, index, 2.0)
        else:
            y = x.scatter_reduce(0, index, lib.ones(0, 5), "amax")
        y.sum().backward()
        return y.detach(), y.grad_fn.name(), x.grad

    agree(op, function, [])


# The messages (section D) and the other exception types.
MESSAGES = {
    "gather float index": lambda lib: lib.zeros(3, 4).gather(0, lib.zeros(2, 3)),
    "scatter_ index of 3 dims": lambda lib: lib.zeros(3, 4).scatter_(0, lib.zeros(2, 3, 4, dtype=lib.int64), 1.0),
    "scatter_add_ index of 3 dims": lambda lib: lib.zeros(3, 4).scatter_add_(
        0, lib.zeros(2, 3, 4, dtype=lib.int64), lib.ones(2, 3)
    ),
    "scatter_ float index": lambda lib: lib.zeros(3, 4).scatter_(0, lib.zeros(2, 3), lib.ones(2, 3)),
    "scatter_add float index": lambda lib: lib.zeros(3, 4).scatter_add(0, lib.zeros(2, 3), lib.ones(2, 3)),
    "scatter_reduce_ float index": lambda lib: lib.zeros(3, 4).scatter_reduce_(
        0, lib.zeros(2, 3), lib.ones(2, 3), "sum"
    ),
    "scatter_ src dtype": lambda lib: lib.zeros(3, 4).scatter_(
        0, lib.zeros(2, 3, dtype=lib.int64), lib.ones(2, 3, dtype=lib.float64)
    ),
    "scatter_ src of fewer dims": lambda lib: lib.zeros(3, 4).scatter_(
        0, lib.zeros(2, 3, dtype=lib.int64), lib.ones(2)
    ),
    "scatter_ index wider than self": lambda lib: lib.zeros(3, 4).scatter_(
        0, lib.zeros(2, 5, dtype=lib.int64), lib.ones(2)
    ),
    "put_ int32 index": lambda lib: lib.zeros(3).put_(lib.tensor([0], dtype=lib.int32), lib.ones(1)),
    "take float index": lambda lib: lib.zeros(3).take(lib.tensor([0.0])),
    "put_ source dtype": lambda lib: lib.zeros(3).put_(lib.tensor([0]), lib.ones(2, dtype=lib.float64)),
    "put_ into empty": lambda lib: lib.zeros(0).put_(lib.tensor([0]), lib.ones(1)),
    "put into empty": lambda lib: lib.zeros(0).put(lib.tensor([0]), lib.ones(1)),
    "put_ nothing into empty": lambda lib: lib.zeros(0).put_(lib.tensor([], dtype=lib.int64), lib.ones(0)),
    "masked_scatter_ byte mask": lambda lib: lib.zeros(3).masked_scatter_(
        lib.tensor([1, 0, 1], dtype=lib.uint8), lib.ones(3)
    ),
    "masked_scatter float mask": lambda lib: lib.zeros(3).masked_scatter(lib.tensor([1.0, 0, 1]), lib.ones(3)),
    "masked_fill_ broadcast": lambda lib: lib.zeros(3, 4).masked_fill_(lib.tensor([True, False, True]), 1.0),
    "masked_fill broadcast": lambda lib: lib.zeros(3, 4).masked_fill(lib.tensor([True, False, True]), 1.0),
    "masked_fill_ byte mask": lambda lib: lib.zeros(3, 4).masked_fill_(lib.tensor([1, 0, 1, 0], dtype=lib.uint8), 1.0),
    "masked_fill_ short mask": lambda lib: lib.zeros(3, 4).masked_fill_(lib.tensor([1, 0, 1, 0], dtype=lib.int16), 1.0),
    "masked_fill_ float mask": lambda lib: lib.zeros(3, 4).masked_fill_(lib.tensor([1.0, 0, 1, 0]), 1.0),
}


@pytest.mark.parametrize("case", MESSAGES)
def test_messages(case):
    agree(case, MESSAGES[case], [])


COMPLEX_FILL = {
    "float": (torch.float32, 1 + 1j),
    "float, no imaginary part": (torch.float32, 1 + 0j),
    "double": (torch.float64, 1 + 1j),
    "half": (torch.float16, 1j),
    "int64": (torch.int64, 1 + 1j),
    "int32": (torch.int32, 2j),
    "uint8": (torch.uint8, 2j),
    "0-d complex tensor": (torch.float32, "tensor 1+1j"),
    "0-d complex tensor, real": (torch.float32, "tensor 2+0j"),
}


@pytest.mark.parametrize("case", COMPLEX_FILL)
def test_masked_fill_complex_value(case):
    dtype, value = COMPLEX_FILL[case]

    def function(lib):
        fill = lib.tensor(complex(value.split()[1])) if isinstance(value, str) else value
        x = lib.zeros(3, 4, dtype=getattr(lib, str(dtype).split(".")[1]))
        return x.masked_fill_(lib.tensor([True, False, True, False]), fill)

    agree(case, function, [])


# Whole messages, where the head agree() compares was already the same.
WHOLE_MESSAGES = [
    lambda lib: lib.zeros(3, 4).index_copy_(0, lib.tensor([0, 1]), lib.ones(3, 4)),
    lambda lib: lib.zeros(3, 4).index_copy_(0, lib.tensor([0, 1]), lib.ones(2, 4, 3)),
    lambda lib: lib.zeros(3, 4, 2).index_copy_(0, lib.tensor([0, 1]), lib.ones(2, 5, 3)),
    lambda lib: lib.zeros(3, 4).index_add_(0, lib.tensor([[1]]), lib.ones(1, 4)),
    lambda lib: lib.zeros(3, 4).index_add_(0, lib.tensor([1.0]), lib.ones(1, 4)),
    lambda lib: lib.zeros(0, 4).index_fill_(0, lib.tensor([0, 1]), 1.0),
    lambda lib: lib.zeros(4, 0).index_fill_(1, lib.tensor([0]), 1.0),
    lambda lib: lib.zeros(3, 0).index_select(0, lib.tensor([0, 5])),
    lambda lib: lib.zeros(3, 4).scatter_(0, lib.zeros(2, 3, dtype=lib.int64), lib.ones(2, 3, dtype=lib.float64)),
    lambda lib: lib.zeros(3).put_(lib.tensor([0]), lib.ones(1, dtype=lib.float64)),
    lambda lib: lib.zeros(3).take(lib.tensor([0], dtype=lib.int32)),
    lambda lib: lib.zeros(5).index_put_((lib.tensor([0, 1]),), lib.ones(1, 2)),
]


@pytest.mark.parametrize("number", range(len(WHOLE_MESSAGES)))
def test_whole_messages(number):
    function = WHOLE_MESSAGES[number]
    with pytest.raises(Exception) as theirs:
        function(torch)
    with pytest.raises(type(theirs.value)) as ours:
        function(tritongrad)
    assert str(ours.value) == str(theirs.value)
