"""The tenth red-team round's reduction and numeric findings (numerics2 #1, #2, #6, #12-#14, #16, #19,
#21, #22, #25, #26, #28, #32), each compared with torch by ``agree``: the value (and the gradients of
the inputs that require one), or the exception type and the head of its message."""

from __future__ import annotations

import pytest
import torch

from tests.test_hardening import agree

INF, NAN = float("inf"), float("nan")

# ----------------------------------------------------------------------------------------------
# #1: logcumsumexp reaching +inf after a large finite running maximum
# ----------------------------------------------------------------------------------------------

LOGCUMSUMEXP_ROWS = {
    "large then inf": [100.0, INF],
    "very large then inf": [1000.0, INF],
    "inf twice with finite between": [100.0, INF, 3.0, INF, -INF],
    "-inf then inf": [-INF, INF, 1.0],
    "inf then -inf": [INF, -INF],
    "-inf, large, inf, nan": [100.0, -INF, 200.0, INF, NAN],
    "nan then inf": [100.0, NAN, INF],
    "finite only": [1.0, 50.0, -3.0, 120.0],
}


@pytest.mark.parametrize("row", LOGCUMSUMEXP_ROWS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_logcumsumexp_with_infinities_after_large_values(row, dtype):
    x = torch.tensor(LOGCUMSUMEXP_ROWS[row], dtype=dtype)
    agree(f"logcumsumexp {row}", lambda lib, x: lib.logcumsumexp(x, 0), [x])


def test_logcumsumexp_along_a_dim_of_a_matrix_with_inf_and_its_gradient():
    x = torch.tensor([[100.0, 1.0], [INF, 2.0], [3.0, 300.0]])
    agree("logcumsumexp(dim=0)", lambda lib, x: lib.logcumsumexp(x, 0), [x])
    finite = torch.tensor([[100.0, 1.0], [2.0, -5.0], [3.0, 300.0]], dtype=torch.float64, requires_grad=True)
    agree("logcumsumexp gradient", lambda lib, x: lib.logcumsumexp(x, 0).sum(0).backward(), [finite])


# ----------------------------------------------------------------------------------------------
# #2 and #25: all/any over dim=() / [] reduce nothing; a uint8 out= for any input
# ----------------------------------------------------------------------------------------------

TRUTH_INPUTS = {
    "float": lambda: torch.tensor([[1.0, 0.0], [NAN, -0.0]]),
    "uint8": lambda: torch.eye(2, dtype=torch.uint8),
    "bool": lambda: torch.tensor([[True, False]]),
    "int64 0-d": lambda: torch.tensor(3),
    "empty": lambda: torch.zeros(2, 0),
}


@pytest.mark.parametrize("op", ["all", "any"])
@pytest.mark.parametrize("dim", [(), []])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("kind", TRUTH_INPUTS)
def test_all_any_over_no_dim_are_elementwise(op, dim, keepdim, kind):
    agree(f"{op} {kind}", lambda lib, x: getattr(lib, op)(x, dim=dim, keepdim=keepdim), [TRUTH_INPUTS[kind]()])


@pytest.mark.parametrize("op", ["all", "any"])
def test_all_any_method_over_no_dim(op):
    agree(f"Tensor.{op}(())", lambda lib, x: getattr(x, op)(()), [torch.eye(3)])


@pytest.mark.parametrize("op", ["all", "any"])
@pytest.mark.parametrize("kind", ["bool", "float", "int64", "uint8"])
@pytest.mark.parametrize("out_dtype", [torch.uint8, torch.bool, torch.float32, torch.int64])
@pytest.mark.parametrize("dim", [None, 0, ()])
def test_all_any_out_dtypes(op, kind, out_dtype, dim):
    x = {"bool": torch.tensor([True, False]), "float": torch.tensor([1.0, 2.0]),
         "int64": torch.tensor([0, 5]), "uint8": torch.tensor([1, 2], dtype=torch.uint8)}[kind]  # fmt: skip

    def run(lib, x):
        out = lib.empty(0, dtype=out_dtype)
        result = getattr(lib, op)(x, out=out) if dim is None else getattr(lib, op)(x, dim, out=out)
        return result, out

    agree(f"{op}({kind}, out={out_dtype})", run, [x])


# ----------------------------------------------------------------------------------------------
# #6: nansum/nanmean backward is grad * ~isnan(x)
# ----------------------------------------------------------------------------------------------

NAN_REDUCTION_CASES = {
    "nanmean all NaN": (lambda lib, x: lib.nanmean(x).backward(), [NAN, NAN]),
    "nansum NaN grad": (lambda lib, x: lib.nansum(x).backward(lib.tensor(NAN)), [NAN, 1.0]),
    "nansum inf grad": (lambda lib, x: lib.nansum(x).backward(lib.tensor(INF)), [NAN, 1.0]),
    "nanmean(dim) all-NaN row": (lambda lib, x: lib.nanmean(x.reshape(2, 2), 1).sum().backward(), [NAN, NAN, 1.0, 2.0]),
    "nansum(dim) finite grad": (lambda lib, x: lib.nansum(x.reshape(2, 2), 0).sum().backward(), [NAN, 3.0, 1.0, 2.0]),
    "nanmean finite": (lambda lib, x: lib.nanmean(x).backward(), [NAN, 3.0, 1.0]),
}


@pytest.mark.parametrize("case", NAN_REDUCTION_CASES)
def test_nan_reduction_gradients(case):
    function, values = NAN_REDUCTION_CASES[case]
    agree(case, function, [torch.tensor(values, dtype=torch.float64, requires_grad=True)])


# ----------------------------------------------------------------------------------------------
# #22: logsumexp over dim=() of a tensor with dims: torch's RuntimeError unless keepdim or empty
# ----------------------------------------------------------------------------------------------

LOGSUMEXP_INPUTS = {
    "1-D": lambda: torch.tensor([1.0, 2.0]),
    "2-D": lambda: torch.ones(2, 3),
    "(1,)": lambda: torch.ones(1),
    "0-d": lambda: torch.tensor(1.0),
    "empty": lambda: torch.ones(0),
    "empty 2-D": lambda: torch.ones(2, 0),
    "int": lambda: torch.tensor([1, 2]),
}


@pytest.mark.parametrize("kind", LOGSUMEXP_INPUTS)
@pytest.mark.parametrize("dim", [(), []])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_over_no_dim(kind, dim, keepdim):
    agree(f"logsumexp {kind}", lambda lib, x: lib.logsumexp(x, dim, keepdim=keepdim), [LOGSUMEXP_INPUTS[kind]()])


# ----------------------------------------------------------------------------------------------
# #19: trapezoid and cumulative_trapezoid refuse bool inputs (after trapezoid's empty case)
# ----------------------------------------------------------------------------------------------

BOOLS = [True, False, True]
TRAPEZOID_CASES = {
    "y bool": lambda lib, op: getattr(lib, op)(lib.tensor(BOOLS)),
    "y bool, dx": lambda lib, op: getattr(lib, op)(lib.tensor(BOOLS), dx=2.0),
    "x bool": lambda lib, op: getattr(lib, op)(lib.tensor([1.0, 2.0, 3.0]), lib.tensor(BOOLS)),
    "y bool, x float": lambda lib, op: getattr(lib, op)(lib.tensor(BOOLS), lib.tensor([1.0, 2.0, 3.0])),
    "x bool of the wrong length": lambda lib, op: getattr(lib, op)(lib.tensor(BOOLS), lib.tensor([1.0, 2.0])),
    "empty bool y": lambda lib, op: getattr(lib, op)(lib.zeros(0, dtype=lib.bool)),
    "empty bool y with x": lambda lib, op: getattr(lib, op)(lib.zeros(0, dtype=lib.bool), lib.zeros(0)),
    "bad dim": lambda lib, op: getattr(lib, op)(lib.tensor(BOOLS), dim=3),
    "0-d bool": lambda lib, op: getattr(lib, op)(lib.tensor(True)),
}


@pytest.mark.parametrize("op", ["trapezoid", "cumulative_trapezoid", "trapz"])
@pytest.mark.parametrize("case", TRAPEZOID_CASES)
def test_trapezoid_bool_inputs(op, case):
    if op == "trapz" and "dx" in case:
        pytest.skip("trapz takes dx as a positional float, another overload")
    agree(f"{op} {case}", lambda lib: TRAPEZOID_CASES[case](lib, op), [])


# ----------------------------------------------------------------------------------------------
# #26: var/std with both unbiased= and correction= is torch's parser TypeError
# ----------------------------------------------------------------------------------------------

BOTH_CORRECTIONS = {
    "var(dim)": lambda lib, x: lib.var(x, 1, unbiased=True, correction=0),
    "var(tuple)": lambda lib, x: lib.var(x, (0, 1), unbiased=False, correction=1),
    "std(dim, keepdim)": lambda lib, x: lib.std(x, 1, keepdim=True, unbiased=True, correction=0),
    "var_mean(dim)": lambda lib, x: lib.var_mean(x, 1, unbiased=True, correction=0),
    "std_mean": lambda lib, x: lib.std_mean(x, unbiased=False, correction=0),
    "var of ints": lambda lib, x: lib.var(x.long(), 1, unbiased=True, correction=0),
    "var with out": lambda lib, x: lib.var(x, 1, unbiased=True, correction=0, out=lib.empty(0)),
}


@pytest.mark.parametrize("case", BOTH_CORRECTIONS)
def test_var_std_with_unbiased_and_correction(case):
    agree(case, BOTH_CORRECTIONS[case], [torch.arange(6.0).reshape(2, 3)])


# ----------------------------------------------------------------------------------------------
# #12, #13, #21, #28: histogram's edges, search, dtype checks and range checks
# ----------------------------------------------------------------------------------------------

DATA = [0.0, 0.5, 1.0, 1.5, 2.0, 2.0, 3.0, -1.0, 4.5]


@pytest.mark.parametrize(
    "edges",
    [
        [0.0, 2.0, 1.0, 4.0],
        [2.0, 1.0, 0.0],
        [1.0, 1.0],
        [1.0, 1.0, 1.0],
        [0.0, 1.0, 1.0, 2.0],
        [0.0, NAN, 2.0],
        [0.0, INF],
        [NAN, 2.0],
        [4.0, 3.0, 2.0, 1.0, 0.0, 5.0],
        [0.0, 3.0, 1.0, 2.0, 0.5, 4.5],
        [-1.0, 0.0, 1.5, 4.5],
    ],
)
@pytest.mark.parametrize("density", [False, True])
def test_histogram_with_edges_in_any_order(edges, density):
    agree(
        f"histogram bins={edges}",
        lambda lib, x, b: tuple(lib.histogram(x, bins=b, density=density)),
        [torch.tensor(DATA, dtype=torch.float64), torch.tensor(edges, dtype=torch.float64)],
    )


def _weights(lib, dtype, count):
    return lib.arange(1.0, count + 1.0, dtype=dtype)


HISTOGRAM_CASES = {
    "empty input": lambda lib: lib.histogram(lib.zeros(0), bins=3),
    "empty input, density": lambda lib: lib.histogram(lib.zeros(0), bins=3, density=True),
    "empty input, empty range": lambda lib: lib.histogram(lib.zeros(0), bins=3, range=(2.0, 2.0)),
    "empty input, edges": lambda lib: lib.histogram(lib.zeros(0), bins=lib.tensor([0.0, 1.0])),
    "weight of another dtype": lambda lib: lib.histogram(lib.ones(3, dtype=lib.float64), 3, weight=lib.ones(3)),
    "weight of another dtype and size": lambda lib: lib.histogram(lib.ones(3).double(), 3, weight=lib.ones(2)),
    "integer weight": lambda lib: lib.histogram(lib.ones(2), 3, weight=lib.tensor([1, 2])),
    "bins of another dtype": lambda lib: lib.histogram(lib.ones(3, dtype=lib.float64), bins=lib.tensor([0.0, 1.0])),
    "integer bins": lambda lib: lib.histogram(lib.ones(3), bins=lib.tensor([0, 1])),
    "2-D bins of another dtype": lambda lib: lib.histogram(lib.ones(2, dtype=lib.float64), bins=lib.ones(1, 2)),
    "2-D bins": lambda lib: lib.histogram(lib.ones(2), bins=lib.ones(1, 2)),
    "0-d bins": lambda lib: lib.histogram(lib.ones(2), bins=lib.tensor(1.0)),
    "no bins": lambda lib: lib.histogram(lib.ones(2), bins=lib.zeros(0)),
    "one edge": lambda lib: lib.histogram(lib.ones(2), bins=lib.tensor([1.0])),
    "edges then weight of another size": lambda lib: lib.histogram(lib.ones(2), bins=lib.ones(2), weight=lib.ones(3)),
    "weight of the same count": lambda lib: lib.histogram(lib.ones(2, 2), 3, weight=_weights(lib, lib.float32, 4)),
    "weight of another count": lambda lib: lib.histogram(lib.ones(2, 2), 3, weight=_weights(lib, lib.float32, 3)),
    "0-d weight": lambda lib: lib.histogram(lib.tensor([1.0]), bins=3, weight=lib.tensor(2.0)),
    "min above max": lambda lib: lib.histogram(lib.tensor([1.0, 2.0]), bins=3, range=(3.0, 1.0)),
    "min above max, fractions": lambda lib: lib.histogram(lib.tensor([1.0, 2.0]), bins=3, range=(3.5, 1.25)),
    "min above max, large": lambda lib: lib.histogram(lib.tensor([1.0, 2.0]), bins=3, range=(1e20, 1 / 3)),
    "range before weight": lambda lib: lib.histogram(lib.ones(2), 3, range=(3.0, 1.0), weight=lib.ones(2).double()),
    "NaN range": lambda lib: lib.histogram(lib.tensor([1.0, 2.0]), bins=3, range=(NAN, 1.0)),
    "infinite range": lambda lib: lib.histogram(lib.tensor([1.0, 2.0]), bins=3, range=(0.0, INF)),
    "NaN data": lambda lib: lib.histogram(lib.tensor([1.0, NAN]), bins=3),
    "negative NaN data": lambda lib: lib.histogram(lib.tensor([1.0, -NAN]), bins=3),
    "NaN data before weight": lambda lib: lib.histogram(lib.tensor([1.0, NAN]), bins=3, weight=lib.ones(3)),
    "integer input": lambda lib: lib.histogram(lib.tensor([1, 2]), bins=3),
    "integer input with range": lambda lib: lib.histogram(lib.tensor([1, 2]), bins=3, range=(0.0, 1.0)),
    "integer input and bins": lambda lib: lib.histogram(lib.tensor([1, 2]), bins=lib.tensor([1, 2])),
    "half input": lambda lib: lib.histogram(lib.tensor([1.0, 2.0]).half(), bins=3),
    "half input and bins": lambda lib: lib.histogram(lib.tensor([1.0, 2.0]).half(), bins=lib.tensor([1.0, 2.0]).half()),
}


@pytest.mark.parametrize("case", HISTOGRAM_CASES)
def test_histogram_checks_and_edges(case):
    agree(case, lambda lib: tuple(HISTOGRAM_CASES[case](lib)), [])


# ----------------------------------------------------------------------------------------------
# #16: float32/half std whose variance overflows (torch's CPU kernel accumulates in double)
# ----------------------------------------------------------------------------------------------

VARIANCE_OPS = {
    "std": lambda lib, x: x.std(),
    "var": lambda lib, x: x.var(),
    "std_mean": lambda lib, x: lib.std_mean(x),
    "var_mean": lambda lib, x: lib.var_mean(x),
    "std(dim, correction=0)": lambda lib, x: x.reshape(1, -1).std(1, correction=0),
}


@pytest.mark.parametrize("op", VARIANCE_OPS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("values", [[0.0, 3e38], [1.0, 2.0, 4.0, 8.5]])
def test_variance_of_values_whose_square_overflows(op, dtype, values):
    agree(f"{op} {dtype} {values}", VARIANCE_OPS[op], [torch.tensor(values, dtype=dtype)])


# ----------------------------------------------------------------------------------------------
# #14: sinc's node and its second derivative at 0 (torch: NaN)
# ----------------------------------------------------------------------------------------------


def _sinc_twice(lib, x, name):
    y = (lib.special.sinc if name == "special.sinc" else lib.sinc)(x)
    (slope,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    (slope * lib.arange(1.0, 1.0 + x.numel(), dtype=x.dtype)).sum().backward()
    return y, slope, type(y.grad_fn).__name__


@pytest.mark.parametrize("name", ["sinc", "special.sinc"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sinc_first_and_second_derivatives(name, dtype):
    x = torch.tensor([0.0, 2.0, -0.3, 0.75, 5.5], dtype=dtype, requires_grad=True)
    agree(f"{name} {dtype}", lambda lib, x: _sinc_twice(lib, x, name), [x])


def test_sinc_of_integers_and_in_place():
    agree("sinc(int)", lambda lib, x: lib.sinc(x), [torch.tensor([0, 1, 2])])
    agree("sinc_", lambda lib, x: x.sinc_(), [torch.tensor([0.0, 0.5, 3.0])])


# ----------------------------------------------------------------------------------------------
# #32: message wording (var/std/norm on integers, nanquantile, aminmax and amax/amin of empty tensors)
# ----------------------------------------------------------------------------------------------

MESSAGES = {
    "var of ints": lambda lib: lib.tensor([1, 2]).var(),
    "std(dim) of ints": lambda lib: lib.tensor([1, 2]).std(0),
    "var_mean of ints": lambda lib: lib.var_mean(lib.tensor([1, 2])),
    "std_mean of bools": lambda lib: lib.std_mean(lib.tensor([True])),
    "var of ints with out": lambda lib: lib.var(lib.tensor([1, 2]), out=lib.empty(0)),
    "norm of ints": lambda lib: lib.norm(lib.tensor([1, 2])),
    "norm(1, dim) of bools": lambda lib: lib.norm(lib.tensor([True]), 1, dim=0),
    "nanquantile of empty": lambda lib: lib.zeros(0).nanquantile(0.5),
    "nanquantile(dim) of empty": lambda lib: lib.zeros(2, 0).nanquantile(0.5, dim=1),
    "nanquantile of ints": lambda lib: lib.nanquantile(lib.tensor([1, 2]), 0.5),
    "nanquantile 2-D q": lambda lib: lib.nanquantile(lib.ones(2), lib.ones(1, 1)),
    "nanquantile q dtype": lambda lib: lib.nanquantile(lib.ones(2), lib.ones(1, dtype=lib.float64)),
    "nanquantile interpolation": lambda lib: lib.nanquantile(lib.ones(2), 0.5, interpolation="foo"),
    "nanquantile q out of range": lambda lib: lib.nanquantile(lib.ones(2), 1.5),
    "nanquantile q tensor out of range": lambda lib: lib.nanquantile(lib.ones(2), lib.tensor([-1.0])),
    "nanquantile q string": lambda lib: lib.nanquantile(lib.ones(2), "a"),
    "quantile q string": lambda lib: lib.quantile(lib.ones(2), "a"),
    "aminmax(dim=1) of empty": lambda lib: lib.zeros(2, 0).aminmax(dim=1),
    "aminmax(dim=-1) of empty": lambda lib: lib.zeros(2, 0).aminmax(dim=-1),
    "aminmax(dim=0) of empty": lambda lib: lib.zeros(0).aminmax(dim=0),
    "aminmax(dim=0) of 2x0": lambda lib: lib.zeros(2, 0).aminmax(dim=0),
    "aminmax() of empty": lambda lib: lib.zeros(2, 0).aminmax(),
    "amax() of empty": lambda lib: lib.zeros(0).amax(),
    "amin() of empty": lambda lib: lib.zeros(0).amin(),
    "amax(()) of empty": lambda lib: lib.zeros(2, 0).amax(()),
    "amin([]) of empty": lambda lib: lib.zeros(2, 0).amin([]),
    "amax(1) of empty": lambda lib: lib.zeros(2, 0).amax(1),
    "amax() of empty ints": lambda lib: lib.zeros(0, dtype=lib.long).amax(),
    "max() of empty": lambda lib: lib.zeros(0).max(),
}


@pytest.mark.parametrize("case", MESSAGES)
def test_messages(case):
    agree(case, lambda lib: MESSAGES[case](lib), [])


@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_dim_none_is_torchs_type_error(keepdim):
    agree("logsumexp(x, None)", lambda lib, x: lib.logsumexp(x, None, keepdim=keepdim), [torch.ones(2, 3)])


@pytest.mark.parametrize("bounds", [(0.1, INF), (-INF, 1e20), (NAN, 1.0), (1 / 3, NAN)])
def test_histc_range_not_finite_message(bounds):
    agree(f"histc{bounds}", lambda lib, x: lib.histc(x, 3, *bounds), [torch.tensor([1.0, 2.0])])
