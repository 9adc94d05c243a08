"""The ninth red-team round's indexing findings (indexing report items 1, 4-9, 11, 12, 14-19, 22b; dtypes
report items 4, 5, 7-9, 11, 12, 16): each case compared with torch by ``agree`` (the value, or the
exception type and the head of its message)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tritongrad
from tests.test_hardening import agree


class _Index:
    """An object that is an integer to Python (``__index__``), as torch's indexing takes it."""

    def __index__(self) -> int:
        return 2


def _set(lib, x, key, value):
    x[key] = value
    return x


def _grid(lib):
    return lib.arange(12.0).reshape(3, 4)


# ----------------------------------------------------------------------------------------------
# items 1 and 8: 0-d numpy arrays, 0-d int8/int16 tensors and __index__ objects index as ints
# ----------------------------------------------------------------------------------------------

ZERO_DIM_KEYS = {
    "np.array(1)": lambda lib, x: x[np.array(1)],
    "np.array(1), np.array(2)": lambda lib, x: x[np.array(1), np.array(2)],
    ":, np.array(1)": lambda lib, x: x[:, np.array(1)],
    "[np.array(0), np.array(2)]": lambda lib, x: x[[np.array(0), np.array(2)]],
    "np.array(True)": lambda lib, x: x[np.array(True)],
    "np.array(False)": lambda lib, x: x[np.array(False)],
    "np.array(1.0)": lambda lib, x: x[np.array(1.0)],
    "np.array(1, uint8)": lambda lib, x: x[np.array(1, dtype=np.uint8)],
    "np.array(1) write": lambda lib, x: _set(lib, x, np.array(1), 0.0),
    "0-d int8": lambda lib, x: x[lib.tensor(1, dtype=lib.int8)],
    "0-d int16": lambda lib, x: x[lib.tensor(1, dtype=lib.int16)],
    "0-d int8 write": lambda lib, x: _set(lib, x, lib.tensor(1, dtype=lib.int8), 0.0),
    "0-d int8 with a list": lambda lib, x: x[lib.tensor(1, dtype=lib.int8), [0, 2]],
    "1-d int8 refused": lambda lib, x: x[lib.tensor([1], dtype=lib.int8)],
    "__index__": lambda lib, x: x[_Index()],
    ":, __index__": lambda lib, x: x[:, _Index()],
    "__index__ with a list": lambda lib, x: x[_Index(), [0, 1]],
    "index_put_ 0-d int8 refused": lambda lib, x: x.index_put_((lib.tensor(1, dtype=lib.int8),), lib.tensor(0.0)),
}


@pytest.mark.parametrize("name", ZERO_DIM_KEYS)
def test_zero_dim_and_index_keys(name):
    agree(name, lambda lib: ZERO_DIM_KEYS[name](lib, _grid(lib)), [])


# ----------------------------------------------------------------------------------------------
# items 6, 7 and 18: setitem values (numpy scalars, range checks, Python ints beyond int64)
# ----------------------------------------------------------------------------------------------

SET_VALUES = {
    "np.float64": np.float64(2.5),
    "np.int32": np.int32(7),
    "np.int8": np.int8(-3),
    "np.uint8": np.uint8(200),
    "np.uint64": np.uint64(3),
    "np.int64": np.int64(5),
    "np.float32": np.float32(1.0),
    "np.float16": np.float16(1.0),
    "np.bool_": np.bool_(True),
    "np.longdouble": np.longdouble(1.0),
    "0-d ndarray": np.array(1.0),
    "__index__ object": _Index(),
    "1e50": 1e50,
    "-1e50": -1e50,
    "inf": float("inf"),
    "2**63": 2**63,
    "2**63 - 1": 2**63 - 1,
    "2**64": 2**64,
    "-2**63 - 1": -(2**63) - 1,
    "np.complex128": np.complex128(1.0),
}
SET_KEYS = {
    "int": lambda lib, x: 1,
    "list": lambda lib, x: [1],
    "mask": lambda lib, x: x > 0,
    "slice": lambda lib, x: slice(1, None),
    "ellipsis": lambda lib, x: Ellipsis,
}


# (float16 and bfloat16 take an out-of-range float as an infinity: torch checks float32's range only)
SET_CASES = [
    (v, k, d) for v in SET_VALUES for k in SET_KEYS for d in ("float32", "int64") if k != "ellipsis" or d == "int64"
]
SET_CASES += [
    (v, k, d) for v in ("1e50", "2**64", "np.float64") for k in ("int", "mask") for d in ("float16", "bfloat16")
]


@pytest.mark.parametrize(("value", "key", "dtype"), SET_CASES)
def test_setitem_values(value, key, dtype):
    def run(lib):
        x = lib.arange(3).to(getattr(lib, dtype))
        x[SET_KEYS[key](lib, x)] = SET_VALUES[value]
        return x

    agree(f"x[{key}] = {value} ({dtype})", run, [])


# ----------------------------------------------------------------------------------------------
# item 6 and dtypes items 4, 9: a 0-d tensor fill value is read as a number (range, truth)
# ----------------------------------------------------------------------------------------------

FILL_CASES = {
    "float64 1e50 into float32": ("float32", lambda lib: lib.tensor(1e50, dtype=lib.float64)),
    "float64 inf into float32": ("float32", lambda lib: lib.tensor(float("inf"), dtype=lib.float64)),
    "float64 nan into float32": ("float32", lambda lib: lib.tensor(float("nan"), dtype=lib.float64)),
    "1e10 into float16": ("float16", lambda lib: lib.tensor(1e10)),
    "1000 into int8": ("int8", lambda lib: lib.tensor(1000)),
    "-300 into int8": ("int8", lambda lib: lib.tensor(-300)),
    "2.5e10 into int8": ("int8", lambda lib: lib.tensor(2.5e10)),
    "2.7 into int32": ("int32", lambda lib: lib.tensor(2.7)),
    "-1 into uint8": ("uint8", lambda lib: lib.tensor(-1)),
    "nan into int64": ("int64", lambda lib: lib.tensor(float("nan"))),
    "0.5 into bool": ("bool", lambda lib: lib.tensor(0.5)),
    "-1j into bool": ("bool", lambda lib: lib.tensor(-1j)),
    "half 0.5 into bool": ("bool", lambda lib: lib.tensor(0.5, dtype=lib.float16)),
    "0. into bool": ("bool", lambda lib: lib.tensor(0.0)),
    "1j into float32": ("float32", lambda lib: lib.tensor(1j)),
    "2+0j into float32": ("float32", lambda lib: lib.tensor(2 + 0j)),
    "int8 into int64": ("int64", lambda lib: lib.tensor(-5, dtype=lib.int8)),
}
FILL_OPS = {
    "masked_fill": lambda lib, x, v: x.masked_fill(lib.tensor([True, False, True]), v),
    "masked_fill_": lambda lib, x, v: x.masked_fill_(lib.tensor([True, False, True]), v),
    "index_fill": lambda lib, x, v: x.index_fill(0, lib.tensor([0]), v),
    "index_fill_": lambda lib, x, v: x.index_fill_(0, lib.tensor([0]), v),
    "x[mask] = v": lambda lib, x, v: _set(lib, x, lib.tensor([True, False, True]), v),
}


@pytest.mark.parametrize("case", FILL_CASES)
@pytest.mark.parametrize("op", FILL_OPS)
def test_zero_dim_fill_values(case, op):
    dtype, value = FILL_CASES[case]
    agree(f"{op} {case}", lambda lib: FILL_OPS[op](lib, lib.zeros(3, dtype=getattr(lib, dtype)), value(lib)), [])


def test_masked_fill_with_a_tensor_value_keeps_its_gradient():
    def run(lib):
        value = lib.tensor(2.0, requires_grad=True)
        out = lib.zeros(3, dtype=lib.float64).masked_fill(lib.tensor([True, False, True]), value)
        out.sum().backward()
        return out, value.grad

    agree("masked_fill gradient", run, [])


# ----------------------------------------------------------------------------------------------
# item 18: Python ints beyond int64 for masked_fill / index_fill / scatter; complex scatter values
# ----------------------------------------------------------------------------------------------

BIG_INTS = {"2**63 - 1": 2**63 - 1, "2**63": 2**63, "2**64": 2**64, "2**70": 2**70, "-2**63 - 1": -(2**63) - 1}
NUMBER_OPS = {
    "masked_fill": lambda lib, x, v: x.masked_fill(x > 0, v),
    "index_fill": lambda lib, x, v: x.index_fill(0, lib.tensor([0]), v),
    "scatter": lambda lib, x, v: x.scatter(0, lib.tensor([0]), v),
    "scatter_ add": lambda lib, x, v: x.scatter_(0, lib.tensor([0]), v, reduce="add"),
    "float masked_fill": lambda lib, x, v: x.float().masked_fill(x > 0, v),
}


@pytest.mark.parametrize("value", BIG_INTS)
@pytest.mark.parametrize("op", NUMBER_OPS)
def test_python_ints_beyond_int64(value, op):
    agree(f"{op} {value}", lambda lib: NUMBER_OPS[op](lib, lib.arange(3), BIG_INTS[value]), [])


INDEX_OVERFLOWS = {
    "[[10**20]]": lambda lib, x: x[[10**20]],
    "[[2**63]]": lambda lib, x: x[[2**63]],
    "[[0, 10**20]]": lambda lib, x: x[[0, 10**20]],
    "[[2**63 - 1]]": lambda lib, x: x[[2**63 - 1]],
    "[10**20, [0]]": lambda lib, x: x[10**20, [0]],
    "scatter 1+2j": lambda lib, x: lib.ones(3).scatter(0, lib.tensor([0]), 1 + 2j),
    "scatter 2+0j": lambda lib, x: lib.ones(3).scatter(0, lib.tensor([0]), 2 + 0j),
}


@pytest.mark.parametrize("name", INDEX_OVERFLOWS)
def test_index_and_scatter_overflows(name):
    agree(name, lambda lib: INDEX_OVERFLOWS[name](lib, _grid(lib)), [])


# ----------------------------------------------------------------------------------------------
# item 4 and dtypes item 5: index_add's alpha is converted to the input's dtype first
# ----------------------------------------------------------------------------------------------

ALPHAS = {
    "long 2.5": ("int64", [1, 2], 2.5),
    "long -1.5": ("int64", [1, 2], -1.5),
    "long 0.9": ("int64", [1, 2], 0.9),
    "long 1+1j": ("int64", [1, 2], 1 + 1j),
    "int8 300": ("int8", [1, 2], 300),
    "half 1e5": ("float16", [1.0, 3.0], 1e5),
    "float 1j": ("float32", [1.0, 3.0], 1j),
    "float 2+0j": ("float32", [1.0, 3.0], 2 + 0j),
    "float True": ("float32", [1.0, 3.0], True),
    "float 2.5": ("float32", [1.0, 3.0], 2.5),
}


@pytest.mark.parametrize("case", ALPHAS)
@pytest.mark.parametrize("inplace", [True, False])
def test_index_add_alpha(case, inplace):
    dtype, source, alpha = ALPHAS[case]

    def run(lib):
        x = lib.zeros(3, dtype=getattr(lib, dtype))
        s = lib.tensor(source, dtype=getattr(lib, dtype))
        index = lib.tensor([0, 0]) if inplace else lib.tensor([0, 1])
        return x.index_add_(0, index, s, alpha=alpha) if inplace else lib.index_add(x, 0, index, s, alpha=alpha)

    agree(f"index_add {case}", run, [])


def test_index_add_alpha_gradient():
    def run(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        lib.index_add(lib.zeros(3), 0, lib.tensor([0, 1]), w, alpha=2.5).sum().backward()
        return w.grad

    agree("index_add alpha gradient", run, [])


# ----------------------------------------------------------------------------------------------
# items 5 and 14: topk of a 0-d tensor, argument types (k, bool-only arguments, flip's dims)
# ----------------------------------------------------------------------------------------------

ORDERING = {
    "topk 0-d k=0": lambda lib, x: lib.topk(lib.tensor(5.0), 0),
    "topk 0-d k=1": lambda lib, x: lib.topk(lib.tensor(5.0), 1),
    "topk 0-d k=2": lambda lib, x: lib.topk(lib.tensor(5.0), 2),
    "topk k=np.int64": lambda lib, x: lib.topk(x, np.int64(2)),
    "topk k=0-d tensor": lambda lib, x: lib.topk(x, lib.tensor(2)),
    "flip method int": lambda lib, x: x.flip(0),
    "flip tuple": lambda lib, x: lib.flip(x, (0,)),
    "flip list": lambda lib, x: lib.flip(x, [0]),
    "flip method ints": lambda lib, x: x.reshape(1, 3).flip(0, 1),
}
# torch's parser words these with the argument's position; the type is what is compared
ORDERING_TYPE_ERRORS = {
    "topk k float": lambda lib, x: lib.topk(x, 2.0),
    "topk method k float": lambda lib, x: x.topk(2.0),
    "topk k= float": lambda lib, x: lib.topk(x, k=2.0),
    "topk k bool": lambda lib, x: lib.topk(x, True),
    "kthvalue k float": lambda lib, x: lib.kthvalue(x, 2.0),
    "kthvalue method k bool": lambda lib, x: x.kthvalue(True),
    "flip int": lambda lib, x: lib.flip(x, 0),
    "flip dims= int": lambda lib, x: lib.flip(x, dims=0),
    "flip out of range int": lambda lib, x: lib.flip(x, 2),
    "sort descending None": lambda lib, x: lib.sort(x, descending=None),
    "sort descending 1": lambda lib, x: lib.sort(x, descending=1),
    "sort stable 1": lambda lib, x: lib.sort(x, stable=1),
    "argsort descending 1": lambda lib, x: lib.argsort(x, descending=1),
    "topk largest 0": lambda lib, x: lib.topk(x, 2, largest=0),
    "topk sorted None": lambda lib, x: lib.topk(x, 2, sorted=None),
    "index_put_ accumulate 1": lambda lib, x: x.index_put_((lib.tensor([0]),), lib.tensor([1.0]), accumulate=1),
    "index_put_ accumulate str": lambda lib, x: x.index_put_((lib.tensor([0]),), lib.tensor([1.0]), accumulate="y"),
    "index_put accumulate None": lambda lib, x: x.index_put((lib.tensor([0]),), lib.tensor([1.0]), accumulate=None),
    "index_put_ accumulate np.bool_": lambda lib, x: x.index_put_(
        (lib.tensor([0]),), lib.tensor([1.0]), accumulate=np.bool_(True)
    ),
    "put_ accumulate 1": lambda lib, x: x.put_(lib.tensor([0]), lib.tensor([1.0]), accumulate=1),
    "scatter_reduce include_self 1": lambda lib, x: x.scatter_reduce(
        0, lib.tensor([0]), lib.tensor([1.0]), "sum", include_self=1
    ),
    "scatter_reduce_ include_self None": lambda lib, x: x.scatter_reduce_(
        0, lib.tensor([0]), lib.tensor([1.0]), "sum", include_self=None
    ),
    "index_reduce include_self 0": lambda lib, x: x.index_reduce(
        0, lib.tensor([0]), lib.tensor([1.0]), "prod", include_self=0
    ),
}


@pytest.mark.parametrize("name", ORDERING)
def test_ordering_values(name):
    agree(name, lambda lib: ORDERING[name](lib, lib.tensor([3.0, 1.0, 2.0])), [])


@pytest.mark.parametrize("name", ORDERING_TYPE_ERRORS)
def test_argument_types(name):
    agree(name, lambda lib: ORDERING_TYPE_ERRORS[name](lib, lib.tensor([3.0, 1.0, 2.0])), [], message=False)


# ----------------------------------------------------------------------------------------------
# item 11 / dtypes item 12: bincount's weights dtype; item 15: histc's range and bins
# ----------------------------------------------------------------------------------------------

WEIGHT_DTYPES = ["float16", "bfloat16", "float32", "float64", "int64", "int8", "uint8", "bool"]


@pytest.mark.parametrize("dtype", WEIGHT_DTYPES)
def test_bincount_weights_dtype(dtype):
    agree(
        f"bincount weights {dtype}",
        lambda lib: lib.tensor([1, 1, 2]).bincount(weights=lib.tensor([1, 0, 1]).to(getattr(lib, dtype))),
        [],
    )


def test_bincount_complex_weights():
    agree("bincount complex weights", lambda lib: lib.bincount(lib.tensor([1, 2, 2]), lib.tensor([1j, 1, 2])), [])


HISTC = {
    "max inf": dict(bins=2, min=0, max=float("inf")),
    "min -inf": dict(bins=2, min=float("-inf"), max=0),
    "min nan": dict(bins=2, min=float("nan"), max=1),
    "max nan": dict(bins=2, min=0, max=float("nan")),
    "bins 0": dict(bins=0),
    "bins -1": dict(bins=-1),
    "bins 2.5": dict(bins=2.5),
    "min > max": dict(bins=2, min=1, max=0),
    "plain": dict(bins=3, min=0, max=3),
}


@pytest.mark.parametrize("case", HISTC)
def test_histc_arguments(case):
    agree(f"histc {case}", lambda lib: lib.histc(lib.tensor([1.0, 2.0]), **HISTC[case]), [])


# ----------------------------------------------------------------------------------------------
# item 12: repeat_interleave's errors and output_size
# ----------------------------------------------------------------------------------------------

REPEAT_INTERLEAVE = {
    "negative counts": lambda lib, x: lib.repeat_interleave(lib.tensor([2, -1, 3])),
    "float counts": lambda lib, x: lib.repeat_interleave(lib.tensor([2.0, 3.0])),
    "bool counts": lambda lib, x: lib.repeat_interleave(lib.tensor([True, False])),
    "int8 counts": lambda lib, x: lib.repeat_interleave(lib.tensor([2, 0, 3], dtype=lib.int8)),
    "int32 counts": lambda lib, x: lib.repeat_interleave(lib.tensor([2, 0, 3], dtype=lib.int32)),
    "counts, output_size wrong": lambda lib, x: lib.repeat_interleave(lib.tensor([2, 0, 3]), output_size=4),
    "counts, output_size right": lambda lib, x: lib.repeat_interleave(lib.tensor([2, 0, 3]), output_size=5),
    "counts, output_size -1": lambda lib, x: lib.repeat_interleave(lib.tensor([2, 0, 3]), output_size=-1),
    "2-d counts": lambda lib, x: lib.repeat_interleave(lib.tensor([[2, 3]])),
    "0-d counts": lambda lib, x: lib.repeat_interleave(lib.tensor(2)),
    "empty counts": lambda lib, x: lib.repeat_interleave(lib.tensor([], dtype=lib.int64)),
    "tensor, output_size wrong": lambda lib, x: x.repeat_interleave(lib.tensor([1, 2, 1]), dim=0, output_size=3),
    "tensor, output_size right": lambda lib, x: x.repeat_interleave(lib.tensor([1, 2, 1]), dim=0, output_size=4),
    "int, output_size wrong": lambda lib, x: x.repeat_interleave(2, dim=0, output_size=5),
    "int, output_size right": lambda lib, x: x.repeat_interleave(2, dim=0, output_size=6),
    "int, flat output_size wrong": lambda lib, x: x.repeat_interleave(2, output_size=23),
    "int, output_size -1": lambda lib, x: x.repeat_interleave(2, dim=0, output_size=-1),
    "0-d input, dim 0": lambda lib, x: lib.tensor(3.0).repeat_interleave(2, dim=0),
    "0-d input, dim -1": lambda lib, x: lib.tensor(3.0).repeat_interleave(2, dim=-1),
    "0-d input, no dim": lambda lib, x: lib.tensor(3.0).repeat_interleave(2),
    "0-d input, tensor repeats": lambda lib, x: lib.tensor(3.0).repeat_interleave(lib.tensor([2]), dim=0),
    "repeats float": lambda lib, x: x.repeat_interleave(2.0),
    "repeats bool": lambda lib, x: x.repeat_interleave(True),
    "output_size float": lambda lib, x: x.repeat_interleave(2, output_size=24.0),
    "repeats np.int64": lambda lib, x: x.repeat_interleave(np.int64(2)),
    "repeats -1": lambda lib, x: x.repeat_interleave(-1),
    "tensor repeats negative": lambda lib, x: x.repeat_interleave(lib.tensor([-1, 1, 1]), dim=0),
    "tensor repeats float": lambda lib, x: x.repeat_interleave(lib.tensor([1.0, 1.0, 1.0]), dim=0),
    "tensor repeats 2-d": lambda lib, x: x.repeat_interleave(lib.tensor([[1, 1, 1]]), dim=0),
    "tensor repeats wrong length": lambda lib, x: x.repeat_interleave(lib.tensor([1, 1]), dim=0),
    "tensor repeats 0-d": lambda lib, x: x.repeat_interleave(lib.tensor(2), dim=0),
    "tensor repeats one": lambda lib, x: x.repeat_interleave(lib.tensor([2], dtype=lib.int32), dim=1),
}


@pytest.mark.parametrize("name", REPEAT_INTERLEAVE)
def test_repeat_interleave(name):
    agree(name, lambda lib: REPEAT_INTERLEAVE[name](lib, _grid(lib)), [])


def test_repeat_interleave_gradient():
    def run(lib):
        x = lib.arange(6.0, requires_grad=True)
        (
            x.reshape(2, 3).repeat_interleave(lib.tensor([1, 3]), dim=0, output_size=4) * lib.arange(12.0).reshape(4, 3)
        ).sum().backward()
        return x.grad

    agree("repeat_interleave gradient", run, [])


# ----------------------------------------------------------------------------------------------
# item 9: take_along_dim with dim wraps indices modulo the size; without dim it is gather
# ----------------------------------------------------------------------------------------------

TAKE_ALONG_DIM = {
    "dim 1, 5": lambda lib, x: lib.take_along_dim(x, lib.tensor([[5]]), dim=1),
    "dim 1, -5": lambda lib, x: lib.take_along_dim(x, lib.tensor([[-5]]), dim=1),
    "dim 1, 100": lambda lib, x: lib.take_along_dim(x, lib.tensor([[100]]), dim=1),
    "dim 0, -9": lambda lib, x: lib.take_along_dim(x, lib.tensor([[-9]]), dim=0),
    "dim 1, two columns": lambda lib, x: lib.take_along_dim(x, lib.tensor([[0, 3]]), dim=1),
    "dim 1, int32 refused": lambda lib, x: lib.take_along_dim(x, lib.tensor([[0]], dtype=lib.int32), dim=1),
    "dim 1, float refused": lambda lib, x: lib.take_along_dim(x, lib.tensor([[0.0]]), 1),
    "no dim, int32": lambda lib, x: lib.take_along_dim(x, lib.tensor([[0]], dtype=lib.int32)),
    "no dim, int32 out of range": lambda lib, x: lib.take_along_dim(x, lib.tensor([0, 13], dtype=lib.int32)),
    "no dim, 13": lambda lib, x: lib.take_along_dim(x, lib.tensor([0, 13])),
    "no dim, -12": lambda lib, x: lib.take_along_dim(x, lib.tensor([0, -12])),
    "no dim, int16": lambda lib, x: lib.take_along_dim(x, lib.tensor([[0]], dtype=lib.int16)),
    "empty dim": lambda lib, x: lib.take_along_dim(lib.zeros(3, 0), lib.tensor([[1]]), 1),
    "0-d with dim": lambda lib, x: lib.take_along_dim(lib.tensor(3.0), lib.tensor(0), 0),
    "0-d without dim": lambda lib, x: lib.take_along_dim(lib.tensor(3.0), lib.tensor(0)),
}


@pytest.mark.parametrize("name", TAKE_ALONG_DIM)
def test_take_along_dim(name):
    agree(name, lambda lib: TAKE_ALONG_DIM[name](lib, _grid(lib)), [])


def test_take_along_dim_wrapped_gradient():
    def run(lib):
        w = lib.arange(4.0, requires_grad=True)
        r = lib.take_along_dim(w.reshape(2, 2), lib.tensor([[5], [2]]), dim=1)
        r.sum().backward()
        return r, type(r.grad_fn).__name__, w.grad

    agree("take_along_dim gradient", run, [])


# ----------------------------------------------------------------------------------------------
# items 16, 17, 19, 22b: meshgrid/cartesian_prod edges, 0-d scatter src, byte mask shape, bool reduce
# ----------------------------------------------------------------------------------------------

EDGES = {
    "meshgrid()": lambda lib: lib.meshgrid(indexing="ij"),
    "meshgrid([])": lambda lib: lib.meshgrid([], indexing="ij"),
    "cartesian_prod 0-d": lambda lib: lib.cartesian_prod(lib.tensor(1), lib.tensor(1)),
    "cartesian_prod()": lambda lib: lib.cartesian_prod(),
    "cartesian_prod 2-d": lambda lib: lib.cartesian_prod(lib.ones(2, 2), lib.ones(2, 2)),
    "cartesian_prod one 0-d": lambda lib: lib.cartesian_prod(lib.tensor(1)),
    "cartesian_prod one 1-d": lambda lib: lib.cartesian_prod(lib.tensor([1, 2])),
    "cartesian_prod dtypes": lambda lib: lib.cartesian_prod(lib.ones(2), lib.ones(2, dtype=lib.int64)),
    "scatter_ 0-d src": lambda lib: lib.zeros(3, 4).scatter_(0, lib.zeros(2, 2, dtype=lib.long), lib.tensor(1.0)),
    "scatter_add_ 0-d src": lambda lib: lib.zeros(3, 4).scatter_add_(
        0, lib.zeros(2, 2, dtype=lib.long), lib.tensor(1.0)
    ),
    "scatter_reduce_ 0-d src": lambda lib: lib.zeros(3, 4).scatter_reduce_(
        0, lib.zeros(2, 2, dtype=lib.long), lib.tensor(1.0), "sum"
    ),
    "scatter_ 1-d src": lambda lib: lib.zeros(3, 4).scatter_(0, lib.zeros(2, 2, dtype=lib.long), lib.ones(2)),
    "scatter_ 0-d src, 1-d input": lambda lib: lib.zeros(3).scatter_(0, lib.zeros(2, dtype=lib.long), lib.tensor(1.0)),
    "byte mask wrong shape": lambda lib: _grid(lib).index_put_(
        (lib.tensor([0, 1], dtype=lib.uint8),), lib.tensor(-1.0)
    ),
    "byte mask right shape": lambda lib: _grid(lib).index_put_(
        (lib.tensor([0, 1, 1], dtype=lib.uint8),), lib.tensor(-1.0)
    ),
    "bool index_reduce_ amax": lambda lib: lib.zeros(3, dtype=lib.bool).index_reduce_(
        0, lib.tensor([0, 0]), lib.tensor([True, False]), "amax"
    ),
    "bool index_reduce prod": lambda lib: lib.zeros(3, dtype=lib.bool).index_reduce(
        0, lib.tensor([0, 0]), lib.tensor([True, False]), "prod"
    ),
    "bool index_reduce mean, no self": lambda lib: lib.zeros(3, dtype=lib.bool).index_reduce(
        0, lib.tensor([0, 0]), lib.tensor([True, False]), "mean", include_self=False
    ),
    "bool index_reduce, bad source dtype": lambda lib: lib.zeros(3, dtype=lib.bool).index_reduce(
        0, lib.tensor([0, 0]), lib.tensor([1, 2]), "prod"
    ),
    "bool scatter_reduce_ mean": lambda lib: lib.zeros(3, dtype=lib.bool).scatter_reduce_(
        0, lib.tensor([0, 0]), lib.tensor([True, False]), "mean"
    ),
    "bool scatter_reduce sum": lambda lib: lib.zeros(3, dtype=lib.bool).scatter_reduce(
        0, lib.tensor([0, 0]), lib.tensor([True, False]), "sum"
    ),
}


@pytest.mark.parametrize("name", EDGES)
def test_edges(name):
    with np.errstate(all="ignore"):
        agree(name, EDGES[name], [])


# ----------------------------------------------------------------------------------------------
# dtypes items 7, 8, 11, 16: complex factors of the addmm family, cumsum's dtype, bilinear on ints
# ----------------------------------------------------------------------------------------------

DTYPE_CASES = {
    "baddbmm alpha 1j": lambda lib: lib.baddbmm(lib.ones(1, 1, 1), lib.ones(1, 1, 1), lib.ones(1, 1, 1), alpha=1j),
    "addmm alpha 1j": lambda lib: lib.addmm(lib.ones(1, 1), lib.ones(1, 1), lib.ones(1, 1), alpha=1j),
    "addmv beta 1j": lambda lib: lib.addmv(lib.ones(1), lib.ones(1, 1), lib.ones(1), beta=1j),
    "addbmm alpha 1j": lambda lib: lib.addbmm(lib.ones(1, 1), lib.ones(1, 1, 1), lib.ones(1, 1, 1), alpha=1j),
    "addmm alpha 2+0j": lambda lib: lib.addmm(lib.ones(1, 1), lib.ones(1, 1), lib.ones(1, 1), alpha=2 + 0j),
    "addmm_ beta 1j": lambda lib: lib.ones(1, 1).addmm_(lib.ones(1, 1), lib.ones(1, 1), beta=1j),
    "int addmm alpha 1j": lambda lib: lib.addmm(*[lib.tensor([[1]])] * 3, alpha=1j),
    "int addmm alpha 2.5": lambda lib: lib.addmm(*[lib.tensor([[1]])] * 3, alpha=2.5),
    "complex addmm alpha 1j": lambda lib: lib.addmm(*[lib.tensor([[1 + 0j]])] * 3, alpha=1j),
    "cumsum complex to float32": lambda lib: lib.tensor([1j, 2]).cumsum(0, dtype=lib.float32),
    "cumsum complex to int64": lambda lib: lib.tensor([1j, 2]).cumsum(0, dtype=lib.int64),
    "cumsum complex": lambda lib: lib.tensor([1j, 2]).cumsum(0),
    "cumsum to bool": lambda lib: lib.tensor([1, 2]).cumsum(0, dtype=lib.bool),
    "cumprod to bool": lambda lib: lib.tensor([1, 2]).cumprod(0, dtype=lib.bool),
    "cumsum int to half": lambda lib: lib.tensor([1, 2]).cumsum(0, dtype=lib.float16),
}
for _dtype in ("int8", "uint8", "int16", "int32", "int64"):
    DTYPE_CASES[f"bilinear {_dtype}"] = lambda lib, d=_dtype: lib.nn.functional.bilinear(
        lib.ones(1, 2, dtype=getattr(lib, d)) * 100, lib.ones(1, 2, dtype=getattr(lib, d)),
        lib.ones(1, 2, 2, dtype=getattr(lib, d)), lib.ones(1, dtype=getattr(lib, d)),
    )  # fmt: skip


@pytest.mark.parametrize("name", DTYPE_CASES)
def test_dtype_cases(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the complex-to-real cast's warning: test_cumsum_complex_to_real_warns)
        agree(name, DTYPE_CASES[name], [])


def test_cumsum_complex_to_real_warns():
    with pytest.warns(UserWarning, match="Casting complex values to real discards the imaginary part"):
        tritongrad.tensor([1j, 2]).cumsum(0, dtype=tritongrad.float32)


# ----------------------------------------------------------------------------------------------
# item 10 (part): scatter_reduce sums and averages float16/bfloat16 in float32 (index_reduce does not);
# index_add of a vector adds them one by one in their own type, of more dims in float32
# ----------------------------------------------------------------------------------------------

HALF_VALUES = {"float16": [60000.0, 60000.0, -60000.0], "bfloat16": [256.0] + [1.0] * 8}
HALF_REDUCTIONS = {
    "scatter_reduce sum": lambda lib, x, i, v: x.scatter_reduce(0, i, v, "sum"),
    "scatter_reduce mean": lambda lib, x, i, v: x.scatter_reduce(0, i, v, "mean"),
    "scatter_reduce_ sum, no self": lambda lib, x, i, v: x.scatter_reduce_(0, i, v, "sum", include_self=False),
    "scatter_reduce_ mean, no self": lambda lib, x, i, v: x.scatter_reduce_(0, i, v, "mean", include_self=False),
    "index_reduce mean": lambda lib, x, i, v: x.index_reduce(0, i, v, "mean"),
    "scatter_add": lambda lib, x, i, v: x.scatter_add(0, i, v),
    "index_add (in the dtype, in order)": lambda lib, x, i, v: x.index_add(0, i, v),
    "index_add_ (in the dtype, in order)": lambda lib, x, i, v: x.index_add_(0, i, v),
    "index_add 2-d (in float32)": lambda lib, x, i, v: x.reshape(1, 1).index_add(0, i, v.reshape(-1, 1)),
    "index_add 2-d dim 1 (in float32)": lambda lib, x, i, v: x.reshape(1, 1).index_add(1, i, v.reshape(1, -1)),
}


@pytest.mark.parametrize("dtype", HALF_VALUES)
@pytest.mark.parametrize("op", HALF_REDUCTIONS)
def test_half_scatter_reduce_accumulates_in_float32(dtype, op):
    def run(lib):
        values = lib.tensor(HALF_VALUES[dtype], dtype=getattr(lib, dtype))
        index = lib.zeros(len(HALF_VALUES[dtype]), dtype=lib.int64)
        return HALF_REDUCTIONS[op](lib, lib.zeros(1, dtype=getattr(lib, dtype)), index, values)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (index_reduce is in beta)
        agree(f"{op} {dtype}", run, [])


def test_half_scatter_reduce_gradient():
    def run(lib):
        values = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float16, requires_grad=True)
        x = lib.ones(2, dtype=lib.float16, requires_grad=True)
        out = x.scatter_reduce(0, lib.tensor([0, 0, 1]), values, "mean")
        (out * lib.tensor([1.0, 2.0], dtype=lib.float16)).sum().backward()
        return out, x.grad, values.grad

    agree("half scatter_reduce mean gradient", run, [])
