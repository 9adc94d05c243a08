"""The elementwise op tables (ops/elementwise.py UNARY and BINARY, plus lerp) against torch.

Every test iterates the tables themselves, so a new row is tested as soon as it exists; the one
thing a row may add here is its input domain in DOMAINS. Each op is checked for: forward values
and result dtype in every dtype torch accepts (and refusal where torch refuses), every layout and
the edge shapes, NaN/inf/domain-boundary inputs, the gradient against torch.autograd (edge points
included) and float64 gradcheck, ``x.op_()``, ``out=``, aliases and torch's grad_fn name.
A row that lives only in torch.nn.functional (``functional=True``: elu, softplus, ...) is looked up
there in both libraries; a row with required arguments gets them from ARGUMENTS.
"""

from __future__ import annotations

import math

import pytest
import torch

import tritongrad
from tests.utils import ALL_DTYPES, assert_close, from_torch, make_pair, random_values, to_torch
from tritongrad.autograd import gradcheck
from tritongrad.ops.elementwise import BINARY, UNARY
from tritongrad.ops.table import INTEGRAL, INTEGRAL_OR_BOOL, INTEGRAL_OR_BOOL_EXACT

# log(0), 0/0 and the like are part of what is tested; numpy (under the interpreter) warns about them.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

REFUSALS = (RuntimeError, TypeError, NotImplementedError, ValueError)

# Input ranges where an op is defined and well conditioned (default: -3..3). Binary ops: (a, b).
DOMAINS = {
    "log": (0.05, 5), "log2": (0.05, 5), "log10": (0.05, 5), "log1p": (-0.9, 5), "sqrt": (0.05, 5),
    "rsqrt": (0.05, 5), "reciprocal": (0.1, 4), "tan": (-1.3, 1.3), "asin": (-0.95, 0.95), "acos": (-0.95, 0.95),
    "acosh": (1.05, 6), "atanh": (-0.9, 0.9), "erfinv": (-0.95, 0.95), "exp2": (-8, 8), "expm1": (-4, 4),
    "xlogy": ((-3, 3), (0.1, 4)), "hypot": ((-3, 3), (-3, 3)), "lgamma": (0.1, 6), "digamma": (0.1, 6),
    "polygamma": (0.2, 6), "zeta": ((1.5, 6), (0.2, 5)),
}  # fmt: skip

# Where torch, the oracle, is the less accurate side (checked against mpmath): its trigamma (the
# gradient of digamma) sums six terms before a short asymptotic series, about 5e-10 relative; its
# digamma near the negative integers reflects through an unreduced tan(pi x), about 1e-11.
ORACLE_TOLERANCES = {"digamma": (1e-9, 1e-12)}
# Arguments the tests pass after the input (threshold has two required ones), and before it
# (torch.polygamma(n, input); its method takes n after: x.polygamma(n)).
ARGUMENTS = {"threshold": (0.5, -2.0)}
LEADING_ARGUMENTS = {"polygamma": (2,)}

# Rows of integer-only ops (bitwise): the float inputs of the shape/layout/out tests become int32,
# and the float-only tests (special values, gradients, grad_fn names) leave them out.
INTEGER_ONLY = {
    row.name for row in (*UNARY, *BINARY) if row.dtype in (INTEGRAL, INTEGRAL_OR_BOOL, INTEGRAL_OR_BOOL_EXACT)
}


def input_dtype(op: str, dtype: torch.dtype) -> torch.dtype:
    return torch.int32 if op in INTEGER_ONLY else dtype


UNARY_ROWS = {row.name: row for row in UNARY}
BINARY_ROWS = {row.name: row for row in BINARY}
DIFFERENTIABLE_UNARY = [row.name for row in UNARY if row.gradient is not None]
DIFFERENTIABLE_BINARY = [
    row.name for row in BINARY if row.grad_input is not None and row.grad_fn is None and row.name != "zeta"
]  # (zeta: in its second operand only, tests/test_gamma_functions.py)


def domain(op: str, operand: int = 0) -> tuple[float, float]:
    bounds = DOMAINS.get(op, (-3, 3))
    return bounds[operand] if isinstance(bounds[0], tuple) else bounds


def _namespace(lib, op: str):
    if op == "zeta":  # (torch has it only in torch.special)
        return lib.special
    row = UNARY_ROWS.get(op)
    return lib.nn.functional if row is not None and row.functional else lib


def _with_arguments(function, op: str):
    if op in LEADING_ARGUMENTS:
        return lambda x, *args, **kwargs: function(*LEADING_ARGUMENTS[op], x, *args, **kwargs)
    arguments = ARGUMENTS.get(op, ())
    return (lambda x, *args, **kwargs: function(x, *arguments, *args, **kwargs)) if arguments else function


def torch_fn(op: str):
    return _with_arguments(getattr(_namespace(torch, op), op), op)


def tg_fn(op: str):
    return _with_arguments(getattr(_namespace(tritongrad, op), op), op)


def inplace_call(x, op: str):
    """``x.op_()``, or where torch has no such method ``torch.op_(x)`` / ``F.op_(x)`` / ``F.op(x,
    inplace=True)``, in x's library."""
    lib = torch if isinstance(x, torch.Tensor) else tritongrad
    arguments = ARGUMENTS.get(op, LEADING_ARGUMENTS.get(op, ()))
    if UNARY_ROWS[op].method:
        return getattr(x, f"{op}_")(*arguments)
    namespace = _namespace(lib, op)
    if hasattr(namespace, f"{op}_"):
        return getattr(namespace, f"{op}_")(x, *arguments)
    return getattr(namespace, op)(x, *arguments, inplace=True)


def run_both(torch_call, tg_call):
    """torch's result, and tritongrad's (which must raise whenever torch raises)."""
    try:
        expected = torch_call()
    except REFUSALS:
        with pytest.raises(REFUSALS):
            tg_call()
        return None, None
    return tg_call(), expected


# ------------------------------------------------------------------------------------------------
# Unary: forward
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("op", list(UNARY_ROWS))
def test_unary_every_dtype(op, dtype):
    low, high = domain(op)
    x, tg_x = make_pair((7, 13), dtype, low=low, high=high)  # a prime-sized matrix
    got, expected = run_both(lambda: torch_fn(op)(x), lambda: tg_fn(op)(tg_x))
    if expected is not None:
        assert_close(got, expected, what=f"{op}({dtype})")
        if UNARY_ROWS[op].method:
            assert_close(
                getattr(tg_x, op)(*ARGUMENTS.get(op, LEADING_ARGUMENTS.get(op, ()))),
                expected,
                what=f"x.{op}() ({dtype})",
            )


@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
@pytest.mark.parametrize("op", list(UNARY_ROWS))
def test_unary_layouts(op, layout):
    low, high = domain(op)
    x, tg_x = make_pair((6, 11), input_dtype(op, torch.float32), layout, low=low, high=high)
    assert_close(tg_fn(op)(tg_x), torch_fn(op)(x), what=f"{op} on a {layout} input")


@pytest.mark.parametrize("shape", [(0,), (), (1,), (3, 0, 2), (70_001,)], ids=str)  # last: > one interpreter block
@pytest.mark.parametrize("op", list(UNARY_ROWS))
def test_unary_shapes(op, shape):
    low, high = domain(op)
    x, tg_x = make_pair(shape, input_dtype(op, torch.float32), low=low, high=high)
    assert_close(tg_fn(op)(tg_x), torch_fn(op)(x), what=f"{op}{shape}")


SPECIAL = [0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1e-30, -1e-30,
           1e-8, -1e-8, 1e-3, 0.999999, -0.999999, 1.000001, 30.0, -30.0, 100.0, -100.0, 1e10, -1e10, 3e38]  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("op", [op for op in UNARY_ROWS if op not in INTEGER_ONLY])
def test_unary_special_values(op, dtype):
    """Zeros of both signs, infinities, NaN, domain boundaries (+-1, 0), tiny and huge values."""
    values = SPECIAL
    if op in ("sin", "cos", "tan") and dtype != torch.float64:
        # float32 angles are reduced in float64, exact only below ~1e15 (not a full Payne-Hanek reduction)
        values = [value for value in SPECIAL if abs(value) < 1e15 or not math.isfinite(value)]
    x = torch.tensor(values, dtype=torch.float64).to(dtype)
    with torch.no_grad():
        expected = torch_fn(op)(x)
    tolerances = ORACLE_TOLERANCES.get(op) if dtype == torch.float64 else None
    assert_close(tg_fn(op)(from_torch(x)), expected, tolerances=tolerances, what=f"{op} at special values ({dtype})")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("op", ["log1p", "expm1", "sinh", "asinh", "atanh", "atan", "asin", "erf", "tanh", "erfinv"])
def test_unary_tiny_arguments_keep_full_relative_accuracy(op, dtype):
    """The compensated forms: relative error stays at a few ulp for |x| down to 1e-30 (a naive
    log(1 + x) or exp(x) - 1 would be off by 100% there)."""
    x = (torch.rand(64, dtype=torch.float64) * 2 - 1) * torch.logspace(-30, -1, 64, dtype=torch.float64)
    x = x.to(dtype)
    assert_close(tg_fn(op)(from_torch(x)), torch_fn(op)(x), what=f"{op} of tiny values", atol=0.0)


def test_round_half_to_even_and_decimals():
    x = torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1.25, 2.675, 15.0, 25.0, 35.0, -0.3, 1e30, 123.456])
    for dtype in (torch.float32, torch.float64):
        values, tg_values = x.to(dtype), from_torch(x.to(dtype))
        assert_close(tritongrad.round(tg_values), torch.round(values), rtol=0, atol=0)
        for decimals in (-2, -1, 0, 1, 2, 3):
            assert_close(
                tritongrad.round(tg_values, decimals=decimals),
                torch.round(values, decimals=decimals),
                what=f"round(decimals={decimals}, {dtype})",
            )
        assert_close(tg_values.round(decimals=1), values.round(decimals=1))
    n, tg_n = make_pair((5,), torch.int64)
    assert_close(tritongrad.round(tg_n), torch.round(n))
    with pytest.raises(NotImplementedError):
        tritongrad.round(tg_n, decimals=1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64], ids=str)
def test_nan_to_num_arguments(dtype):
    x = torch.tensor([math.nan, math.inf, -math.inf, 1.5, -2.0, 0.0]).to(dtype)
    tg_x = from_torch(x)
    for kwargs in ({}, {"nan": 1.0}, {"nan": -3.0, "posinf": 7.5, "neginf": -7.5}, {"posinf": 1e300}):
        assert_close(tritongrad.nan_to_num(tg_x, **kwargs), torch.nan_to_num(x, **kwargs), what=f"{kwargs}")
    assert_close(tritongrad.nan_to_num(tg_x, 2.0), torch.nan_to_num(x, 2.0))
    assert_close(tg_x.nan_to_num(posinf=0.1), x.nan_to_num(posinf=0.1))


def test_nan_to_num_float64_replacements_are_exact():
    x = torch.tensor([math.nan, math.inf, -math.inf], dtype=torch.float64)
    got = tritongrad.nan_to_num(from_torch(x), nan=0.1, posinf=1e300, neginf=-(2.0**-1074))
    assert_close(got, torch.nan_to_num(x, nan=0.1, posinf=1e300, neginf=-(2.0**-1074)), rtol=0, atol=0)


def test_unary_rejects_non_tensors_like_torch():
    with pytest.raises(TypeError, match="must be Tensor"):
        tritongrad.log1p(1.0)
    with pytest.raises(TypeError):
        tritongrad.exp(tritongrad.tensor([1.0]), 2)  # no extra arguments


# ------------------------------------------------------------------------------------------------
# Unary: gradients, grad_fn names, in-place, out=
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", [op for op in UNARY_ROWS if op not in INTEGER_ONLY])
def test_unary_grad_fn_name_matches_torch(op):
    low, high = domain(op)
    x, tg_x = make_pair((3,), torch.float32, requires_grad=True, low=low, high=high)
    expected, got = torch_fn(op)(x).grad_fn, tg_fn(op)(tg_x).grad_fn
    assert (got is None) == (expected is None), f"{op}: grad_fn {got} vs torch's {expected}"
    if expected is not None:
        assert type(got).__name__ == type(expected).__name__ == got.name() == expected.name()


def test_round_with_decimals_is_the_second_overload():
    x, tg_x = make_pair((3,), torch.float32, requires_grad=True)
    for kwargs in ({}, {"decimals": 0}, {"decimals": 2}):
        assert tg_x.round(**kwargs).grad_fn.name() == x.round(**kwargs).grad_fn.name()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("op", DIFFERENTIABLE_UNARY)
def test_unary_gradient_matches_torch(op, dtype):
    low, high = domain(op)
    x, tg_x = make_pair((4, 5), dtype, "transposed", requires_grad=True, low=low, high=high)
    weight = random_values((4, 5), dtype)
    (torch_fn(op)(x) * weight).sum().backward()
    (tg_fn(op)(tg_x) * from_torch(weight)).sum().backward()
    tolerances = ORACLE_TOLERANCES.get(op) if dtype == torch.float64 else None
    assert_close(tg_x.grad, x.grad, tolerances=tolerances, what=f"d {op}")


@pytest.mark.parametrize("op", DIFFERENTIABLE_UNARY)
def test_unary_gradcheck_float64(op):
    low, high = domain(op)
    x = random_values((5,), torch.float64, low=low, high=high)
    if op in ("floor", "ceil", "round", "trunc", "frac", "sign", "sgn"):
        x = torch.floor(x) + 0.25 + 0.5 * torch.rand(5, dtype=torch.float64)  # away from the jumps
    if op in ("abs", "relu"):
        x = torch.where(x.abs() < 0.1, x + 0.5, x)
    tg_x = from_torch(x, requires_grad=True)
    assert gradcheck(tg_fn(op), (tg_x,), eps=1e-6, atol=1e-6)


# (op, inputs): torch's gradient at points where the derivative is infinite, undefined or one-sided.
EDGE_GRADIENTS = [
    ("log1p", [-1.0, -0.5, 0.0]),
    ("rsqrt", [0.0, 1.0]),
    ("sqrt", [0.0, 4.0]),
    ("log", [0.0, 1.0]),
    ("log2", [0.0, 2.0]),
    ("asin", [1.0, -1.0, 0.0]),
    ("acos", [1.0, -1.0]),
    ("acosh", [1.0, 2.0]),
    ("atanh", [1.0, -1.0, 0.0]),
    ("reciprocal", [0.0, -0.0]),
    ("abs", [0.0, -0.0, 1.0]),
    ("relu", [0.0, -1.0, 1.0]),
    ("nan_to_num", [math.nan, math.inf, -math.inf, 1.0]),
    ("erfinv", [1.0, -1.0, 0.0]),
    ("round", [0.5, 1.5, -2.5]),
    ("expm1", [-math.inf, 0.0]),
    # the activations' breakpoints (NaN and the rest: tests/test_activation.py, against torch's scalar kernels)
    ("elu", [0.0, -0.0, -math.inf]),
    ("selu", [0.0, -math.inf, math.inf]),
    ("hardtanh", [-1.0, 1.0, 0.5]),
    ("threshold", [0.5, 0.25, 1.0]),
    ("softplus", [20.0, 21.0, -math.inf]),
    ("hardsigmoid", [-3.0, 3.0, 0.0]),
    ("hardswish", [-3.0, 3.0, 0.0]),
    ("logsigmoid", [-math.inf, math.inf, 0.0]),
    ("softshrink", [0.5, -0.5, 0.0]),
    ("hardshrink", [0.5, -0.5, 0.0]),
]


@pytest.mark.parametrize("op, values", EDGE_GRADIENTS, ids=[op for op, _ in EDGE_GRADIENTS])
def test_unary_gradient_at_edge_points(op, values):
    for dtype in (torch.float32, torch.float64):
        x = torch.tensor(values, dtype=dtype, requires_grad=True)
        tg_x = from_torch(x, requires_grad=True)
        torch_fn(op)(x).sum().backward()
        tg_fn(op)(tg_x).sum().backward()
        assert_close(tg_x.grad, x.grad, what=f"d {op} at {values}")


@pytest.mark.parametrize("op", ["log1p", "atan", "erf", "asinh", "sin", "celu", "softplus", "mish", "logsigmoid"])
def test_unary_double_backward(op):
    x = random_values((4,), torch.float64, low=0.1, high=0.8).requires_grad_(True)
    tg_x = from_torch(x, requires_grad=True)
    (first,) = torch.autograd.grad(torch_fn(op)(x).sum(), x, create_graph=True)
    (tg_first,) = tritongrad.autograd.grad(tg_fn(op)(tg_x).sum(), tg_x, create_graph=True)
    first.sum().backward()
    tg_first.sum().backward()
    assert_close(tg_x.grad, x.grad, what=f"d2 {op}")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int64, torch.bool], ids=str)
@pytest.mark.parametrize("op", [row.name for row in UNARY if row.inplace])
def test_unary_in_place(op, dtype):
    low, high = domain(op)
    x, tg_x = make_pair((5, 6), dtype, "transposed", low=low, high=high)
    pointer, version = tg_x.data_ptr(), tg_x._version
    got, expected = run_both(lambda: inplace_call(x, op), lambda: inplace_call(tg_x, op))
    if expected is None:
        return
    assert got is tg_x and tg_x.data_ptr() == pointer and tg_x._version == version + 1, f"{op}_ must write into self"
    assert_close(tg_x, x, what=f"{op}_ ({dtype})")


@pytest.mark.parametrize("op", [row.name for row in UNARY if row.inplace and row.gradient is not None])
def test_unary_in_place_is_recorded(op):
    low, high = domain(op)
    x, tg_x = make_pair((3, 4), torch.float64, requires_grad=True, low=low, high=high)
    try:
        inplace_call(x * 1, op).sum().backward()
    except NotImplementedError:
        pytest.skip(f"torch has no derivative for {op}_ (tritongrad records it like {op})")
    x.grad = None
    names = []
    for leaf in (x, tg_x):
        result = inplace_call(leaf * 1, op)
        names.append(type(result.grad_fn).__name__)  # (elu_: EluBackward1, from the output)
        (result * result).sum().backward()
    assert names[1] == names[0], f"{op}_ records {names[1]}, torch {names[0]}"
    assert_close(tg_x.grad, x.grad, tolerances=ORACLE_TOLERANCES.get(op), what=f"gradient through {op}_")


def test_unary_in_place_refusals():
    for lib in (torch, tritongrad):
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
            lib.tensor([1, 2]).log1p_()
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            lib.tensor([1.0, 2.0], requires_grad=True).sin_()
    for row in UNARY:
        for lib in (torch, tritongrad):
            assert hasattr(lib.Tensor, f"{row.name}_") == (row.inplace and row.method), f"{lib.__name__} {row.name}_"
            assert hasattr(lib.Tensor, row.name) == row.method, f"{lib.__name__}.Tensor.{row.name}"
            assert hasattr(lib, row.name) != row.functional, f"{lib.__name__}.{row.name}"
            assert hasattr(lib.nn.functional, row.name) or not row.functional


@pytest.mark.parametrize("op", list(UNARY_ROWS))
def test_unary_out(op):
    low, high = domain(op)
    x, tg_x = make_pair((4, 5), input_dtype(op, torch.float32), low=low, high=high)
    result_dtype = torch_fn(op)(x).dtype
    # the result dtype, a wider one and a lower category: torch casts some results, refuses others
    for dtype in dict.fromkeys((result_dtype, torch.float64, torch.int64)):
        target = torch.empty(5, 4, dtype=dtype).t()  # a strided out=
        tg_target = from_torch(target)
        got, expected = run_both(lambda: torch_fn(op)(x, out=target), lambda: tg_fn(op)(tg_x, out=tg_target))  # noqa: B023
        if expected is None:
            continue
        assert got is tg_target and tg_target._version == 1, f"{op}(out=) must return out, written once"
        assert_close(
            tg_target, expected, dtype=result_dtype if dtype.is_floating_point else None, what=f"{op}(out={dtype})"
        )
    if result_dtype.is_floating_point and UNARY_ROWS[op].out:
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            tg_fn(op)(from_torch(x, requires_grad=True), out=from_torch(torch.empty(4, 5)))


def test_out_of_another_shape_is_resized_like_torch():
    x, tg_x = make_pair((2, 3), torch.float32)
    empty = from_torch(torch.empty(0))
    assert_close(tritongrad.sin(tg_x, out=empty), torch.sin(x))
    with pytest.warns(UserWarning, match="was resized"):
        tritongrad.sin(tg_x, out=from_torch(torch.empty(4)))


@pytest.mark.parametrize("op", [name for row in UNARY for name in row.aliases])
def test_unary_aliases(op):
    low, high = domain({"arcsin": "asin", "arccos": "acos", "arccosh": "acosh", "arctanh": "atanh"}.get(op, op))
    x, tg_x = make_pair((3, 4), torch.float32, requires_grad=True, low=low, high=high)
    expected, got = torch_fn(op)(x), tg_fn(op)(tg_x)
    assert_close(got, expected, what=op)
    assert_close(getattr(tg_x, op)(), expected, what=f"x.{op}()")
    assert got.grad_fn.name() == expected.grad_fn.name()


# ------------------------------------------------------------------------------------------------
# Binary
# ------------------------------------------------------------------------------------------------


def binary_pair(op, shape_a, shape_b, dtype, layout_a="contiguous", layout_b="contiguous", requires_grad=False):
    (low_a, high_a), (low_b, high_b) = domain(op, 0), domain(op, 1)
    a, tg_a = make_pair(shape_a, dtype, layout_a, requires_grad=requires_grad, low=low_a, high=high_a)
    b, tg_b = make_pair(shape_b, dtype, layout_b, requires_grad=requires_grad, low=low_b, high=high_b)
    return (a, b), (tg_a, tg_b)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("op", list(BINARY_ROWS))
def test_binary_every_dtype(op, dtype):
    (a, b), (tg_a, tg_b) = binary_pair(op, (5, 7), (5, 7), dtype)
    ties = torch.rand(5, 7) < 0.3  # equal operands: maximum/fmax ties, atan2/hypot on the diagonal
    b, tg_b = torch.where(ties, a, b), from_torch(torch.where(ties, a, b))
    got, expected = run_both(lambda: torch_fn(op)(a, b), lambda: tg_fn(op)(tg_a, tg_b))
    if expected is not None:
        assert_close(got, expected, what=f"{op}({dtype})")
        if hasattr(torch.Tensor, op):
            assert_close(getattr(tg_a, op)(tg_b), expected, what=f"a.{op}(b) ({dtype})")


@pytest.mark.parametrize("dtypes", [(torch.int64, torch.float32), (torch.float16, torch.float64),
                                    (torch.bool, torch.bfloat16), (torch.int32, torch.int64)], ids=str)  # fmt: skip
@pytest.mark.parametrize("op", list(BINARY_ROWS))
def test_binary_promotion(op, dtypes):
    (a, _), (tg_a, _) = binary_pair(op, (6,), (6,), dtypes[0])
    (_, b), (_, tg_b) = binary_pair(op, (6,), (6,), dtypes[1])
    got, expected = run_both(lambda: torch_fn(op)(a, b), lambda: tg_fn(op)(tg_a, tg_b))
    if expected is not None:
        assert_close(got, expected, what=f"{op}{dtypes}")


SHAPE_PAIRS = [((0,), (0,)), ((1,), (1,)), ((3, 1), (1, 4)), ((), (2, 3)), ((5,), (2, 3, 5)), ((70_001,), ())]


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("op", list(BINARY_ROWS))
def test_binary_shapes_and_broadcasting(op, shapes):
    (a, b), (tg_a, tg_b) = binary_pair(op, *shapes, input_dtype(op, torch.float32))
    assert_close(tg_fn(op)(tg_a, tg_b), torch_fn(op)(a, b), what=f"{op}{shapes}")


@pytest.mark.parametrize("layouts", [("transposed", "sliced"), ("expanded", "transposed"), ("sliced", "expanded")],
                         ids=str)  # fmt: skip
@pytest.mark.parametrize("op", list(BINARY_ROWS))
def test_binary_layouts(op, layouts):
    (a, b), (tg_a, tg_b) = binary_pair(op, (6, 11), (6, 11), input_dtype(op, torch.float64), *layouts)
    assert_close(tg_fn(op)(tg_a, tg_b), torch_fn(op)(a, b), what=f"{op} {layouts}")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("op", [op for op in BINARY_ROWS if op not in INTEGER_ONLY])
def test_binary_special_values(op, dtype):
    values = torch.tensor([0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, 2.5, 1e-30, -1e30], dtype=dtype)
    a, b = values.repeat_interleave(len(values)), values.repeat(len(values))  # every pair
    assert_close(tg_fn(op)(from_torch(a), from_torch(b)), torch_fn(op)(a, b), what=f"{op} at special values")


@pytest.mark.parametrize("op", list(BINARY_ROWS))
def test_binary_python_numbers_where_torch_takes_them(op):
    (a, _), (tg_a, _) = binary_pair(op, (4,), (4,), torch.float32, requires_grad=True)
    for number in (2.5, -2, True, 0.0):
        for args, tg_args in (((a, number), (tg_a, number)), ((number, a), (number, tg_a))):
            got, expected = run_both(lambda: torch_fn(op)(*args), lambda: tg_fn(op)(*tg_args))  # noqa: B023
            if expected is not None:
                assert_close(got, expected, what=f"{op}{args}")
                assert got.grad_fn.name() == expected.grad_fn.name()


@pytest.mark.parametrize("op", [op for op in BINARY_ROWS if op not in INTEGER_ONLY])
def test_binary_grad_fn_name_matches_torch(op):
    (a, b), (tg_a, tg_b) = binary_pair(op, (3,), (3,), torch.float32, requires_grad=True)
    assert tg_fn(op)(tg_a, tg_b).grad_fn.name() == torch_fn(op)(a, b).grad_fn.name()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("op", DIFFERENTIABLE_BINARY)
def test_binary_gradient_matches_torch(op, dtype):
    (a, b), (tg_a, tg_b) = binary_pair(op, (4, 5), (5,), dtype, "transposed", requires_grad=True)  # b broadcast
    if op in ("maximum", "minimum", "fmax", "fmin"):
        with torch.no_grad():  # ties: the gradient is split (maximum) or goes to one side (fmax)
            a[:, :2] = b[:2]
            tg_a.detach().copy_(from_torch(a.detach()))
    weight = random_values((4, 5), dtype)
    (torch_fn(op)(a, b) * weight).sum().backward()
    (tg_fn(op)(tg_a, tg_b) * from_torch(weight)).sum().backward()
    assert_close(tg_a.grad, a.grad, what=f"d {op}/da")
    assert_close(tg_b.grad, b.grad, what=f"d {op}/db")


@pytest.mark.parametrize("op", DIFFERENTIABLE_BINARY)
def test_binary_gradcheck_float64(op):
    (a, b), _ = binary_pair(op, (3, 2), (2,), torch.float64)
    inputs = (from_torch(a, requires_grad=True), from_torch(b, requires_grad=True))
    assert gradcheck(tg_fn(op), inputs, eps=1e-6, atol=1e-6)


EDGE_BINARY = [
    ("atan2", [0.0, -0.0, 1.0], [0.0, 0.0, 0.0]),
    ("hypot", [0.0, 3.0], [0.0, 4.0]),
    ("xlogy", [0.0, 0.0, 2.0], [0.0, -1.0, 0.0]),
    ("copysign", [0.0, -2.0, 3.0], [-1.0, 1.0, -0.0]),
    ("maximum", [1.0, math.nan, 2.0], [1.0, 1.0, math.nan]),
    ("fmax", [1.0, math.nan, 2.0], [1.0, 1.0, math.nan]),
    ("fmin", [1.0, math.nan, 2.0], [1.0, 1.0, math.nan]),
    ("logaddexp", [math.inf, -math.inf, 1.0], [math.inf, -math.inf, 1.0]),
]


@pytest.mark.parametrize("op, a_values, b_values", EDGE_BINARY, ids=[case[0] for case in EDGE_BINARY])
def test_binary_gradient_at_edge_points(op, a_values, b_values):
    a = torch.tensor(a_values, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(b_values, dtype=torch.float64, requires_grad=True)
    tg_a, tg_b = from_torch(a, requires_grad=True), from_torch(b, requires_grad=True)
    torch_fn(op)(a, b).sum().backward()
    tg_fn(op)(tg_a, tg_b).sum().backward()
    assert_close(tg_a.grad, a.grad, what=f"d {op}/da at {a_values}, {b_values}")
    assert_close(tg_b.grad, b.grad, what=f"d {op}/db at {a_values}, {b_values}")


def test_heaviside_is_not_differentiable_like_torch():
    x, tg_x = make_pair((4,), torch.float32, requires_grad=True)
    values, tg_values = make_pair((4,), torch.float32)
    result = tritongrad.heaviside(tg_x, tg_values)
    assert result.grad_fn.name() == torch.heaviside(x, values).grad_fn.name()
    with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not implemented"):
        result.sum().backward()


@pytest.mark.parametrize("op", list(BINARY_ROWS))
def test_binary_in_place_and_out(op):
    row = BINARY_ROWS[op]
    assert hasattr(torch.Tensor, f"{op}_") == row.inplace and hasattr(tritongrad.Tensor, f"{op}_") == row.inplace
    (a, b), (tg_a, tg_b) = binary_pair(op, (4, 5), (5,), input_dtype(op, torch.float32), "transposed")
    expected = torch_fn(op)(a, b)
    target = from_torch(torch.empty(4, 5, dtype=expected.dtype))
    assert tg_fn(op)(tg_a, tg_b, out=target) is target
    assert_close(target, expected, what=f"{op}(out=)")
    if row.inplace:
        pointer = tg_a.data_ptr()
        assert getattr(tg_a, f"{op}_")(tg_b) is tg_a and tg_a.data_ptr() == pointer
        assert_close(tg_a, getattr(a, f"{op}_")(b), what=f"{op}_")
        if op not in DIFFERENTIABLE_BINARY:
            return
        # recorded on a non-leaf: the gradient flows through like torch's
        (x, y), (tg_x, tg_y) = binary_pair(op, (3, 4), (4,), torch.float64, requires_grad=True)
        for left, right in ((x, y), (tg_x, tg_y)):
            getattr(left * 1, f"{op}_")(right).pow(2).sum().backward()
        assert_close(tg_x.grad, x.grad, what=f"d {op}_/da")
        assert_close(tg_y.grad, y.grad, what=f"d {op}_/db")


def test_binary_aliases():
    (a, b), (tg_a, tg_b) = binary_pair("atan2", (3,), (3,), torch.float32, requires_grad=True)
    got = tritongrad.arctan2(tg_a, tg_b)
    assert_close(got, torch.arctan2(a, b))
    assert got.grad_fn.name() == "Atan2Backward0"
    assert_close(tg_a.detach().arctan2(tg_b.detach()), a.detach().arctan2(b.detach()))


# ------------------------------------------------------------------------------------------------
# lerp: a number or a tensor as weight
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("weight_kind", ["number", "tensor"])
def test_lerp_forward(weight_kind, dtype):
    start, tg_start = make_pair((4, 6), dtype, "transposed")
    end, tg_end = make_pair((6,), dtype)
    if weight_kind == "number":
        weight = tg_weight = 0.3
    else:
        weight, tg_weight = make_pair((4, 1), dtype, low=-0.5, high=1.5)  # both sides of 0.5, and outside [0, 1]
    got, expected = run_both(
        lambda: torch.lerp(start, end, weight), lambda: tritongrad.lerp(tg_start, tg_end, tg_weight)
    )
    if expected is not None:
        assert_close(got, expected, what=f"lerp({dtype}, {weight_kind} weight)")
        assert_close(tg_start.lerp(tg_end, tg_weight), expected)


def test_lerp_exact_at_the_ends_and_errors():
    start, end = torch.randn(5, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
    tg_start, tg_end = from_torch(start), from_torch(end)
    for weight in (0.0, 1.0):
        assert_close(tritongrad.lerp(tg_start, tg_end, weight), torch.lerp(start, end, weight), rtol=0, atol=0)
    for weight in (0.5, 0.1, -2.0):  # (torch's CPU kernel uses an FMA: an ulp apart at most)
        assert_close(tritongrad.lerp(tg_start, tg_end, weight), torch.lerp(start, end, weight))
    with pytest.raises(RuntimeError, match="expected dtype"):
        tritongrad.lerp(from_torch(start.float()), tg_end, 0.5)
    with pytest.raises(TypeError):
        tritongrad.lerp(tg_start, 1.0, 0.5)


@pytest.mark.parametrize("weight_kind", ["number", "tensor"])
def test_lerp_gradients_names_in_place_and_out(weight_kind):
    start, tg_start = make_pair((3, 4), torch.float64, requires_grad=True)
    end, tg_end = make_pair((4,), torch.float64, requires_grad=True)
    if weight_kind == "number":
        weight = tg_weight = 0.75
    else:
        weight, tg_weight = make_pair((3, 1), torch.float64, requires_grad=True, low=0, high=1)
    result, tg_result = torch.lerp(start, end, weight), tritongrad.lerp(tg_start, tg_end, tg_weight)
    assert tg_result.grad_fn.name() == result.grad_fn.name()
    result.pow(2).sum().backward()
    tg_result.pow(2).sum().backward()
    assert_close(tg_start.grad, start.grad, what="d lerp/d input")
    assert_close(tg_end.grad, end.grad, what="d lerp/d end")
    if weight_kind == "tensor":
        assert_close(tg_weight.grad, weight.grad, what="d lerp/d weight")
        assert gradcheck(tritongrad.lerp, (tg_start, tg_end, tg_weight), eps=1e-6, atol=1e-6)
    detached = tg_weight.detach() if weight_kind == "tensor" else tg_weight
    target = from_torch(torch.empty(3, 4, dtype=torch.float64))
    tritongrad.lerp(tg_start.detach(), tg_end.detach(), detached, out=target)
    assert_close(
        target, torch.lerp(start.detach(), end.detach(), weight.detach() if weight_kind == "tensor" else weight)
    )
    copy, tg_copy = start.detach().clone(), from_torch(start.detach())
    copy.lerp_(end.detach(), weight.detach() if weight_kind == "tensor" else weight)
    assert tg_copy.lerp_(tg_end.detach(), detached) is tg_copy
    assert_close(tg_copy, copy)


# ------------------------------------------------------------------------------------------------
# clamp / clip: numbers or tensors as bounds, out=
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["clamp", "clip"])
def test_clamp_out_with_number_and_tensor_bounds(op):
    x, tg_x = make_pair((4, 5), torch.float32, "transposed")
    low, tg_low = make_pair((5,), torch.float32, low=-2, high=0)
    for bounds, tg_bounds in (((-1.0, 0.5), (-1.0, 0.5)), ((low, None), (tg_low, None)), ((low, 1.0), (tg_low, 1.0))):
        if isinstance(bounds[0], torch.Tensor) and bounds[1] is not None:
            bounds = (bounds[0], torch.tensor(bounds[1]))  # torch takes both bounds as tensors here
        target, tg_target = torch.empty(4, 5), from_torch(torch.empty(4, 5))
        assert tg_fn(op)(tg_x, *tg_bounds, out=tg_target) is tg_target
        assert_close(tg_target, torch_fn(op)(x, *bounds, out=target), what=f"{op}(out=) with {bounds}")
    with pytest.raises(RuntimeError, match="Found dtype Long but expected Float"):
        tg_fn(op)(tg_x, -1.0, 1.0, out=from_torch(torch.empty(4, 5, dtype=torch.int64)))
    with pytest.raises(RuntimeError, match="At least one"):
        tg_fn(op)(tg_x, out=from_torch(torch.empty(4, 5)))


@pytest.mark.parametrize("reduce", ["sum", "mul"], ids=["expanded_grad", "contiguous_grad"])
def test_relu_gradient_at_nan_passes_through_like_torch(reduce):
    """torch zeroes the gradient where the output is <= 0; a NaN output is not, so its gradient passes."""
    grads = []
    for lib in (torch, tritongrad):
        x = lib.tensor([float("nan"), 1.0, -1.0, 0.0, float("inf"), -float("inf")], requires_grad=True)
        y = x.relu()
        (y.sum() if reduce == "sum" else (y * lib.ones(6)).sum()).backward()
        grads.append(x.grad.tolist())
    assert grads[1] == grads[0]


# nextafter steps in the result's own format: float16/bfloat16 are computed in float32 (see
# kernels/float_bits.py), so their spacing, subnormals, signed zeros and overflow are checked here
# against torch on every pair of these values.
NEXTAFTER_VALUES = [0.0, -0.0, 1.0, -1.0, 0.5, 3.0, -0.75, 1e-40, -1e-40, 6e-8, -6e-8, 2**-14, 2**-126, 2**-133,
                    -(2**-133), 65504.0, -65504.0, 1e38, 3.38e38, math.inf, -math.inf, math.nan]  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64], ids=str)
def test_nextafter_every_pair_of_special_values(dtype):
    values = torch.tensor(NEXTAFTER_VALUES, dtype=dtype)
    a, b = values.repeat_interleave(len(values)), values.repeat(len(values))
    expected = torch.nextafter(a, b)
    got = tritongrad.nextafter(from_torch(a), from_torch(b))
    got_bits, expected_bits = to_torch(got).view(-1), expected.view(-1)
    same = (got_bits == expected_bits) & (got_bits.signbit() == expected_bits.signbit())
    same |= got_bits.isnan() & expected_bits.isnan()
    wrong = (~same).nonzero().view(-1).tolist()
    assert not wrong, f"nextafter {dtype}: " + ", ".join(
        f"({a[i].item()!r}, {b[i].item()!r}) -> {got_bits[i].item()!r}, torch {expected_bits[i].item()!r}"
        for i in wrong[:5]
    )
