"""The eighth red-team round's Tensor-surface findings (creation #1, #2, #8, #13, #23, #26, #29;
linalg #12 and #23's diag name), each compared with torch by ``agree``: the value, or the exception
type and the head of its message."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest

from tests.test_hardening import agree

# numpy's warning about torch's one-argument __array_wrap__, when torch's operators hand an array to numpy
pytestmark = pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning")

# ----------------------------------------------------------------------------------------------
# #8: size(d) of a 0-d tensor has no dim d; out-of-range and non-int dims
# ----------------------------------------------------------------------------------------------

SIZES = {
    "0-d size(0)": lambda lib: lib.tensor(5.0).size(0),
    "0-d size(-1)": lambda lib: lib.tensor(5.0).size(-1),
    "0-d size(1)": lambda lib: lib.tensor(5.0).size(1),
    "0-d size(dim=0)": lambda lib: lib.tensor(5.0).size(dim=0),
    "0-d size()": lambda lib: lib.tensor(5.0).size(),
    "2-d size(2)": lambda lib: lib.ones(2, 3).size(2),
    "2-d size(-3)": lambda lib: lib.ones(2, 3).size(-3),
    "2-d size(-1)": lambda lib: lib.ones(2, 3).size(-1),
    "2-d size(float)": lambda lib: lib.ones(2, 3).size(1.0),
    "2-d size(bool)": lambda lib: lib.ones(2, 3).size(True),
    "2-d size(str)": lambda lib: lib.ones(2, 3).size("a"),
    "2-d size(np.int64)": lambda lib: lib.ones(2, 3).size(np.int64(1)),
    "2-d size(tensor)": lambda lib: lib.ones(2, 3).size(lib.tensor(1)),
    "2-d size(None)": lambda lib: lib.ones(2, 3).size(None),
}


@pytest.mark.parametrize("case", SIZES)
def test_size_of_one_dim(case):
    agree(case, SIZES[case], [])


# ----------------------------------------------------------------------------------------------
# #1: `in` is (element == x).any(), for a tensor or a number; torch's RuntimeError otherwise
# ----------------------------------------------------------------------------------------------

CONTAINS = {
    "int in 2-d": lambda lib: 2 in lib.tensor([[1, 2], [3, 4]]),
    "absent int": lambda lib: 5 in lib.tensor([[1, 2], [3, 4]]),
    "row in 2-d": lambda lib: lib.tensor([1, 2]) in lib.tensor([[1, 2], [3, 4]]),
    "partial row": lambda lib: lib.tensor([1, 3]) in lib.tensor([[1, 2], [3, 4]]),
    "0-d": lambda lib: 2 in lib.tensor(2.0),
    "numpy scalar": lambda lib: np.float64(2.5) in lib.tensor([1.0, 2.5]),
    "bool": lambda lib: True in lib.tensor([0, 1]),
    "empty": lambda lib: 1 in lib.ones(0),
    "unbroadcastable": lambda lib: lib.tensor([1, 2, 3]) in lib.tensor([[1, 2], [3, 4]]),
    "list": lambda lib: [1, 2] in lib.tensor([[1, 2], [3, 4]]),
    "str": lambda lib: "a" in lib.tensor([1, 2]),
    "None": lambda lib: None in lib.tensor([1, 2]),
    "numpy bool": lambda lib: np.bool_(True) in lib.tensor([1, 2]),
}


@pytest.mark.parametrize("case", CONTAINS)
def test_contains(case):
    agree(case, CONTAINS[case], [])


# ----------------------------------------------------------------------------------------------
# #2: operators decline what torch's decline (NotImplemented): == is False, others Python's TypeError
# ----------------------------------------------------------------------------------------------

OTHERS = {
    "str": "a",
    "list": [1.5, 2],
    "tuple": (1.5, 2),
    "dict": {},
    "object": object(),
    "None": None,
    "Size": (2,),  # (made a torch.Size of each library below)
    "np.str_": np.str_("a"),
    "Fraction": "fraction",
}


def _other(lib, name):
    if name == "Size":
        return lib.Size([2])
    if name == "Fraction":
        return Fraction(3, 2)
    return OTHERS[name]


OPERATIONS = {
    "==": lambda x, o: x == o,
    "!=": lambda x, o: x != o,
    "== reflected": lambda x, o: o == x,
    "__eq__": lambda x, o: x.__eq__(o),
    "__ne__": lambda x, o: x.__ne__(o),
    "<": lambda x, o: x < o,
    ">=": lambda x, o: x >= o,
    "+": lambda x, o: x + o,
    "- reflected": lambda x, o: o - x,
    "*": lambda x, o: x * o,
    "* reflected": lambda x, o: o * x,
    "/": lambda x, o: x / o,
    "**": lambda x, o: x**o,
    "//": lambda x, o: x // o,
    "@": lambda x, o: x @ o,
    "__add__": lambda x, o: x.__add__(o),
    "__radd__": lambda x, o: x.__radd__(o),
    "__rtruediv__": lambda x, o: x.__rtruediv__(o),
    "__lt__": lambda x, o: x.__lt__(o),
    "__iadd__": lambda x, o: x.__iadd__(o),
}


def _operate(lib, operation, other):
    x = lib.tensor([1.5, 2.0])
    result = OPERATIONS[operation](x, _other(lib, other))
    return "NotImplemented" if result is NotImplemented else result


@pytest.mark.parametrize("other", OTHERS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_operators_decline_non_numbers(operation, other):
    agree(f"{operation} {other}", lambda lib: _operate(lib, operation, other), [])


MEMBERSHIP = {
    "tensor in [str]": lambda lib: lib.tensor([1.5, 2.0]) in ["a"],
    "str in [tensor]": lambda lib: "a" in [lib.tensor([1.5, 2.0])],
    "tensor in (None, auto)": lambda lib: lib.tensor(1.0) in (None, "auto"),
    "in-place with str": lambda lib: _in_place_add(lib, "a"),
    "in-place bitwise with str": lambda lib: _in_place_or(lib, "a"),
    "int @ tensor": lambda lib: 3 @ lib.tensor([1.0, 2.0]),
    "tensor @ int": lambda lib: lib.tensor([1.0, 2.0]) @ 3,
    "bitwise and str": lambda lib: lib.tensor([1, 2]) & "a",
    "str and bitwise": lambda lib: "a" & lib.tensor([1, 2]),
    "numbers still work": lambda lib: (2 - lib.tensor([1.0, 2.0]), 2 / lib.tensor([1.0, 2.0]), 3 | lib.tensor([1, 2])),
    "numpy scalar": lambda lib: lib.tensor([1.0, 2.0]) == np.float64(2.0),
    "numpy array": lambda lib: lib.tensor([1.0, 2.0]) == np.array([1.0, 3.0]),
    "tensor @ array": lambda lib: lib.tensor([1.0, 2.0]) @ np.array([1.0, 2.0]),
}


def _in_place_add(lib, other):
    x = lib.tensor([1.5, 2.0])
    x += other
    return x


def _in_place_or(lib, other):
    x = lib.tensor([1, 2])
    x |= other
    return x


@pytest.mark.parametrize("case", MEMBERSHIP)
def test_operator_fallbacks(case):
    agree(case, MEMBERSHIP[case], [])


# ----------------------------------------------------------------------------------------------
# #13: numpy ufuncs on a tensor return tensors (__array_wrap__); np.array(x, copy=False) refused
# ----------------------------------------------------------------------------------------------

UFUNCS = {
    "sin": lambda lib: np.sin(lib.tensor([1.5, 2.0])),
    "sin float64": lambda lib: np.sin(lib.tensor([1.5, 2.0], dtype=lib.float64)),
    "sin of ints": lambda lib: np.sin(lib.tensor([1, 2])),
    "sin transposed": lambda lib: np.sin(lib.ones(2, 3).t()),
    "add 0-d": lambda lib: np.add(lib.tensor(2.5), 1),
    "isnan (uint8)": lambda lib: np.isnan(lib.tensor([1.0, float("nan")])),
    "less (uint8)": lambda lib: np.less(lib.tensor([1.5, 2.0]), 1.7),
    "maximum": lambda lib: np.maximum(lib.tensor([1.5, 2.0]), 1.8),
    "cumsum": lambda lib: np.cumsum(lib.tensor([1.5, 2.0])),
    "modf": lambda lib: np.modf(lib.tensor([1.5, 2.0])),
    "add.reduce": lambda lib: np.add.reduce(lib.tensor([1.5, 2.0])),
    "requires grad": lambda lib: np.sin(lib.tensor([1.0, 2.0], requires_grad=True)),
    "out= array": lambda lib: np.sin(lib.tensor([1.5, 2.0]), out=np.empty(2, dtype=np.float32)),
    "__array_wrap__ bool": lambda lib: lib.ones(1).__array_wrap__(np.array([True, False])),
    "__array_wrap__ float64": lambda lib: lib.ones(1).__array_wrap__(np.array([1.0, 2.0])),
    "np.array copy=False": lambda lib: np.array(lib.tensor([1.5, 2.0]), copy=False),
    "np.asarray copy=False": lambda lib: np.asarray(lib.tensor([1.5, 2.0]), copy=False),
    "np.asarray": lambda lib: np.asarray(lib.tensor([1.5, 2.0])),
}


@pytest.mark.parametrize("case", UFUNCS)
def test_numpy_ufuncs_return_tensors(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # (numpy's about torch's one-argument signatures)
        agree(case, lambda lib: _typed(UFUNCS[case](lib)), [])


def _typed(result):
    """The result with its Python type's name, so an ndarray where torch gives a Tensor disagrees."""
    if isinstance(result, tuple):
        return tuple(_typed(part) for part in result)
    return type(result).__name__, result.tolist() if isinstance(result, np.ndarray) else result


# ----------------------------------------------------------------------------------------------
# #23: Tensor dunders and small methods torch's Tensor has
# ----------------------------------------------------------------------------------------------

DUNDERS = {
    "reversed": lambda lib: reversed(lib.tensor([1.0, 2.0])),
    "reversed 0-d": lambda lib: reversed(lib.tensor(2.0)),
    "reversed 2-d": lambda lib: reversed(lib.tensor([[1.0, 2.0], [3.0, 4.0]])),
    "__reversed__": lambda lib: lib.tensor([1.0, 2.0]).__reversed__(),
    "del item": lambda lib: lib.tensor([1.0, 2.0]).__delitem__(0),
    "__long__": lambda lib: lib.tensor([1.0, 2.0])[0].__long__(),
    "__long__ many": lambda lib: lib.tensor([1.0, 2.0]).__long__(),
    "__nonzero__": lambda lib: lib.tensor([1.0, 2.0])[0].__nonzero__(),
    "__div__": lambda lib: lib.tensor([1.0, 2.0]).__div__(2),
    "__div__ str": lambda lib: lib.tensor([1.0, 2.0]).__div__("a"),
    "__rdiv__": lambda lib: lib.tensor([1.0, 2.0]).__rdiv__(2),
    "__idiv__": lambda lib: lib.tensor([1.0, 2.0]).__idiv__(2),
    "__idiv__ int": lambda lib: lib.tensor([1, 2]).__idiv__(2),
    "is_nonzero many": lambda lib: lib.tensor([1.0, 2.0]).is_nonzero(),
    "is_nonzero zero": lambda lib: lib.tensor([0.0]).is_nonzero(),
    "is_nonzero empty": lambda lib: lib.tensor([]).is_nonzero(),
    "is_nonzero nan": lambda lib: lib.tensor(float("nan")).is_nonzero(),
    "as_subclass": lambda lib: lib.tensor([1.0, 2.0]).as_subclass(lib.Tensor),
    "as_subclass not a copy": lambda lib: _as_subclass_shares(lib),
    "as_subclass int": lambda lib: lib.tensor([1.0, 2.0]).as_subclass(int),
    "as_subclass 3": lambda lib: lib.tensor([1.0, 2.0]).as_subclass(3),
    "to_dense": lambda lib: _same_object(lib.tensor([1.0, 2.0]), lambda x: x.to_dense()),
    "to_dense dtype": lambda lib: lib.tensor([1.0, 2.0]).to_dense(lib.float64),
    "to_dense bad dtype": lambda lib: lib.tensor([1.0, 2.0]).to_dense(3),
    "name": lambda lib: lib.tensor([1.0, 2.0]).name,
    "dim_order": lambda lib: lib.ones(2, 3).t().dim_order(),
    "is_set_to self": lambda lib: _same_object(lib.ones(2, 3), lambda x: x, test="is_set_to"),
    "is_set_to view": lambda lib: lib.ones(2, 3).is_set_to(lib.ones(2, 3).view(6)),
    "is_set_to int": lambda lib: lib.ones(2).is_set_to(3),
    "record_stream": lambda lib: lib.ones(2).record_stream(None),
}


def _as_subclass_shares(lib):
    x = lib.tensor([1.0, 2.0])
    alias = x.as_subclass(lib.Tensor)
    alias.add_(1)
    return alias is x, x, x._version


def _same_object(x, make, test: str = "is"):
    made = make(x)
    return made is x if test == "is" else x.is_set_to(made)


@pytest.mark.parametrize("case", DUNDERS)
def test_dunders_and_small_methods(case):
    agree(case, DUNDERS[case], [])


def test_volatile_warns_and_is_false():
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = lib.ones(2).volatile
        return value, [str(w.message) for w in caught]

    agree("volatile", run, [])


def test_as_subclass_keeps_the_graph():
    def run(lib):
        w = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        alias = w.as_subclass(lib.Tensor)
        (alias * 2).sum().backward()
        return alias.grad_fn.name(), alias.requires_grad, w.grad

    agree("as_subclass graph", run, [])


# ----------------------------------------------------------------------------------------------
# #26 / linalg #23: one node for roll without dims (RollBackward0) and diag of a matrix
# ----------------------------------------------------------------------------------------------

NODES = {
    "roll": lambda x: x.roll(1),
    "roll transposed": lambda x: x.t().roll(-3),
    "roll empty dims": lambda x: x.roll((1,), ()),
    "diag": lambda x: x.diag(),
    "diag 1": lambda x: x.diag(1),
    "diag -1": lambda x: x.diag(-1),
    "diag 5": lambda x: x.diag(5),
}


def _one_node(lib, make, second_order: bool):
    w = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    result = make(w)
    names = (result.grad_fn.name(), [type(node).__name__ for node, _ in result.grad_fn.next_functions])
    weights = lib.arange(float(result.numel())).reshape(result.shape)
    if not second_order:
        (result * weights).sum().backward()
        return result, names, w.grad
    (grad,) = lib.autograd.grad((result * result * weights).sum(), w, create_graph=True)
    (second,) = lib.autograd.grad(grad.sum(), w)
    return result, names, grad.detach(), second


@pytest.mark.parametrize("second_order", [False, True])
@pytest.mark.parametrize("case", NODES)
def test_roll_and_diag_are_one_node(case, second_order):
    agree(case, lambda lib: _one_node(lib, NODES[case], second_order), [])


def test_roll_of_a_0_d_and_an_empty_tensor():
    def run(lib):
        scalar = lib.tensor(2.0, requires_grad=True).roll(1)
        empty = lib.ones(0, 3, requires_grad=True).roll(2)
        return scalar, scalar.grad_fn.name(), empty, empty.grad_fn.name()

    agree("roll 0-d and empty", run, [])


# ----------------------------------------------------------------------------------------------
# linalg #12 (and roll/diag/trace's argument family): int arguments, trace of bool and complex
# ----------------------------------------------------------------------------------------------

ARGUMENTS = {
    "triu float": lambda lib, x: lib.triu(x, 1.5),
    "tril float": lambda lib, x: lib.tril(x, 1.5),
    "triu bool": lambda lib, x: lib.triu(x, True),
    "triu None": lambda lib, x: lib.triu(x, None),
    "triu str": lambda lib, x: lib.triu(x, "a"),
    "triu np.int64": lambda lib, x: lib.triu(x, np.int64(1)),
    "triu tensor": lambda lib, x: lib.triu(x, lib.tensor(1)),
    "tril_ float": lambda lib, x: x.clone().tril_(1.5),
    "triu_ int": lambda lib, x: x.clone().triu_(-1),
    "diag float": lambda lib, x: lib.diag(x, 1.5),
    "diag 1-d float": lambda lib, x: lib.diag(x[0], 1.5),
    "diag bool": lambda lib, x: lib.diag(x, True),
    "roll float": lambda lib, x: lib.roll(x, 1.5),
    "roll float in tuple": lambda lib, x: lib.roll(x, (1.5,), 0),
    "roll float dims": lambda lib, x: lib.roll(x, 1, 0.5),
    "roll str": lambda lib, x: lib.roll(x, "a"),
    "roll two shifts no dims": lambda lib, x: lib.roll(x, [1, 2]),
    "roll no shifts": lambda lib, x: lib.roll(x, []),
    "roll misaligned": lambda lib, x: lib.roll(x, (1, 2), (0,)),
    "roll tensor shift": lambda lib, x: lib.roll(x, lib.tensor(1)),
    "roll two dims": lambda lib, x: lib.roll(x, (1, -1), (0, 1)),
    "trace bool": lambda lib, x: lib.trace(x > 2),
    "trace int": lambda lib, x: lib.trace(x.long()),
    "trace complex": lambda lib, x: lib.trace(lib.complex(x, x)),
}


@pytest.mark.parametrize("case", ARGUMENTS)
def test_int_arguments_and_trace_dtypes(case):
    agree(case, lambda lib: ARGUMENTS[case](lib, lib.arange(9.0).reshape(3, 3)), [])


# ----------------------------------------------------------------------------------------------
# #29: a non-tensor where torch takes one is torch's TypeError
# ----------------------------------------------------------------------------------------------

NOT_TENSORS = {
    "type_as": lambda lib: lib.ones(2).type_as(3),
    "type_as tensor": lambda lib: lib.ones(2).type_as(lib.ones(1, dtype=lib.int64)),
    "type_as keyword": lambda lib: lib.ones(2).type_as(other=lib.ones(1, dtype=lib.float64)),
    "is_floating_point": lambda lib: lib.is_floating_point(3.0),
    "numel": lambda lib: lib.numel(3),
    "is_complex": lambda lib: lib.is_complex(3),
    "is_nonzero": lambda lib: lib.is_nonzero(3),
    "is_inference": lambda lib: lib.is_inference(3),
    "numel tensor": lambda lib: lib.numel(lib.ones(2, 3)),
    "is_floating_point keyword": lambda lib: lib.is_floating_point(input=lib.ones(2)),
}


@pytest.mark.parametrize("case", NOT_TENSORS)
def test_non_tensor_arguments(case):
    agree(case, NOT_TENSORS[case], [])
