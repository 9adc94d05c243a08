"""Red-team probes kept as tests: bad inputs and edge cases, each compared with torch's answer or error
(through test_hardening's harness: same exception type and message head, or the same values, inputs
written in place and gradients)."""

from __future__ import annotations

import pytest

import tritongrad
from tests.test_hardening import agree


def _matrix(lib):
    return lib.tensor([[float((i * 7 + j * 3) % 11) - 5.0 for j in range(4)] for i in range(3)])


def _empty(lib, dtype=None, n: int = 0):
    return lib.empty(n, dtype=dtype or lib.float32)


def _into(function, dtype: str = "float32", n: int = 0):
    """function(lib, out) with a fresh out of ``dtype`` and ``n`` elements; returns the op's result and out."""
    return lambda lib: (lambda out: [function(lib, out), out])(_empty(lib, getattr(lib, dtype), n))


def _into_pair(function, dtype: str = "float32", n: int = 0):
    """function(lib, (values, indices)): the result's type name (torch's ``<op>_out``), both outs, identity."""

    def run(lib):
        values, indices = _empty(lib, getattr(lib, dtype), n), _empty(lib, lib.int64, n)
        result = function(lib, (values, indices))
        return [type(result).__name__, list(result), values, indices, result[0] is values and result[1] is indices]

    return run


# ----------------------------------------------------------------------------------------------
# out= of reductions and selections: a wrong shape is resized (torch's warning), dtypes as torch's
# ----------------------------------------------------------------------------------------------

SINGLE_OUT = {
    "mean(dim)": lambda lib, o: lib.mean(_matrix(lib), 1, out=o),
    "mean()": lambda lib, o: lib.mean(_matrix(lib), out=o),
    "prod(dim)": lambda lib, o: lib.prod(_matrix(lib), 1, out=o),
    "prod() (no out= overload)": lambda lib, o: lib.prod(_matrix(lib), out=o),
    "amax(dim)": lambda lib, o: lib.amax(_matrix(lib), 1, out=o),
    "amin()": lambda lib, o: lib.amin(_matrix(lib), out=o),
    "max()": lambda lib, o: lib.max(_matrix(lib), out=o),
    "max(other)": lambda lib, o: lib.max(_matrix(lib), _matrix(lib).t().reshape(3, 4), out=o),
    "argmax(dim)": lambda lib, o: lib.argmax(_matrix(lib), 1, out=o),
    "argmin()": lambda lib, o: lib.argmin(_matrix(lib), out=o),
    "logsumexp(dim)": lambda lib, o: lib.logsumexp(_matrix(lib), 1, out=o),
    "median() (no out= overload)": lambda lib, o: lib.median(_matrix(lib), out=o),
    "sum(dim)": lambda lib, o: lib.sum(_matrix(lib), 0, out=o),
}
SINGLE_OUT_CASES = {
    f"{name} into {dtype}[{n}]": _into(function, dtype, n)
    for name, function in SINGLE_OUT.items()
    for dtype, n in [("float32", 0), ("float32", 7), ("float64", 0), ("int64", 0)]
}
# torch's messages for a wrong out dtype differ from op to op; tritongrad's name both dtypes
SINGLE_OUT_OWN_MESSAGE = {"mean() into int64[0]", "max() into int64[0]", "logsumexp(dim) into int64[0]"}


@pytest.mark.parametrize("name", list(SINGLE_OUT_CASES))
def test_out_of_reductions_matches_torch(name):
    agree(name, SINGLE_OUT_CASES[name], [], message=name not in SINGLE_OUT_OWN_MESSAGE)


PAIR_OUT = {
    "max(dim)": lambda lib, o: lib.max(_matrix(lib), 1, out=o),
    "min(dim, keepdim)": lambda lib, o: lib.min(_matrix(lib), 0, True, out=o),
    "sort": lambda lib, o: lib.sort(_matrix(lib), 1, out=o),
    "topk": lambda lib, o: lib.topk(_matrix(lib), 2, out=o),
    "kthvalue": lambda lib, o: lib.kthvalue(_matrix(lib), 2, 1, out=o),
    "median(dim)": lambda lib, o: lib.median(_matrix(lib), 1, out=o),
    "mode": lambda lib, o: lib.mode(_matrix(lib), 1, out=o),
    "cummax": lambda lib, o: lib.cummax(_matrix(lib), 1, out=o),
    "cummin": lambda lib, o: lib.cummin(_matrix(lib), 0, out=o),
}
PAIR_OUT_CASES = {
    f"{name} into {dtype}[{n}]": _into_pair(function, dtype, n)
    for name, function in PAIR_OUT.items()
    for dtype, n in [("float32", 0), ("float32", 5), ("float64", 0)]
}


# torch's wrong-dtype messages for these are each op's own wording; tritongrad's name both dtypes
PAIR_OUT_OWN_MESSAGE = {f"{name} into float64[0]" for name in ("kthvalue", "median(dim)", "mode", "cummax", "cummin")}


@pytest.mark.parametrize("name", list(PAIR_OUT_CASES))
def test_out_pairs_are_torchs_out_types(name):
    agree(name, PAIR_OUT_CASES[name], [], message=name not in PAIR_OUT_OWN_MESSAGE)


OUT_MISUSE = {
    "topk into one tensor": lambda lib: lib.topk(_matrix(lib), 2, out=_empty(lib)),
    "topk into three tensors": lambda lib: lib.topk(_matrix(lib), 2, out=(_empty(lib), _empty(lib), _empty(lib))),
    "sort of a tensor that requires grad": lambda lib: lib.sort(
        _matrix(lib).requires_grad_(), 1, out=(_empty(lib), _empty(lib, lib.int64))
    ),
    "amax into float64": lambda lib: lib.amax(_matrix(lib), 1, out=_empty(lib, lib.float64)),
    # a resized out keeps its storage: the base it views, and views of it, see the result
    "sort into a view of a larger tensor": lambda lib: (
        lambda base, indices: [lib.sort(_matrix(lib)[0], out=(base[2:4], indices)), base, indices]
    )(lib.zeros(8), _empty(lib, lib.int64)),
    "sum into a tensor that a view shares": lambda lib: (
        lambda x: (lambda v: [lib.sum(_matrix(lib), 1, out=x), v, x])(x[:2])
    )(lib.zeros(5)),
    "sum into a tensor with too little storage": lambda lib: (lambda x: [lib.sum(_matrix(lib), 0, out=x), x])(
        lib.zeros(2)
    ),
    "mean into a transposed view of the right shape": lambda lib: (
        lambda x: [lib.mean(_matrix(lib).view(3, 4, 1), 2, out=x.t()), x]
    )(lib.zeros(4, 3)),
    "mean into a transposed view of another shape": lambda lib: (
        lambda x: [lib.mean(_matrix(lib), 1, out=x.t()), x, list(x.t().stride())]
    )(lib.zeros(2, 3)),
    "amax into a tensor of the same numel": lambda lib: (
        lambda x: [lib.amax(_matrix(lib).view(3, 2, 2), 2, out=x), x, list(x.stride())]
    )(lib.zeros(2, 3)),
    "mm into a view of another shape": lambda lib: (lambda b: [lib.mm(_matrix(lib), _matrix(lib).t(), out=b[0:2]), b])(
        lib.zeros(10)
    ),
}


@pytest.mark.parametrize("name", list(OUT_MISUSE))
def test_out_misuse_matches_torch(name):
    agree(name, OUT_MISUSE[name], [])


def test_resizing_an_out_with_elements_warns_as_torch():
    with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
        tritongrad.amax(tritongrad.ones(3, 4), 1, out=tritongrad.empty(5))
