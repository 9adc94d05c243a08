"""Elementwise ops (kernels/elementwise.py through tritongrad/ops) against torch.

Every comparison also checks the result dtype, so torch's type promotion is tested
alongside the values. Where torch refuses an op/dtype combination, tritongrad must
refuse it too (with a Python exception, not a wrong answer).
"""

from __future__ import annotations

import operator

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tritongrad
from tests.utils import ALL_DTYPES, DEVICE, FLOAT_DTYPES, assert_close, from_torch, make_pair, random_values
from tritongrad import dtypes
from tritongrad.kernels.strided import MAX_RANK, coalesce
from tritongrad.ops.elementwise import binary_forward

# Division by zero, log of 0 and the like are part of what is tested; numpy (under the interpreter)
# warns about them.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

REFUSALS = (RuntimeError, TypeError, NotImplementedError, ValueError)


def run_both(torch_fn, tg_fn, torch_args, tg_args):
    """torch's result, and tritongrad's (which must raise whenever torch raises)."""
    try:
        expected = torch_fn(*torch_args)
    except REFUSALS:
        with pytest.raises(REFUSALS):
            tg_fn(*tg_args)
        return None, None
    return tg_fn(*tg_args), expected


# ------------------------------------------------------------------------------------------------
# Binary ops: every op x every dtype, through the function, the operator and the method
# ------------------------------------------------------------------------------------------------

# Ops whose result is the exactly rounded value (half types: computed in float32, rounded once, as
# torch does on the CPU): compared bit for bit. (Not sqrt: tritongrad's is correctly rounded, torch's
# vectorised CPU sqrt is not always.)
CORRECTLY_ROUNDED = {
    "add", "sub", "mul", "div", "remainder", "maximum", "minimum", "gt", "lt", "ge", "le", "eq", "ne",
    "logical_and", "logical_or", "logical_xor", "neg", "abs", "relu", "sign", "floor", "ceil",
}  # fmt: skip

# name: (torch function, tritongrad function, operator or None, value range for (a, b))
BINARY_OPS = {
    "add": (torch.add, tritongrad.add, operator.add, {}),
    "sub": (torch.sub, tritongrad.sub, operator.sub, {}),
    "mul": (torch.mul, tritongrad.mul, operator.mul, {}),
    "div": (torch.div, tritongrad.div, operator.truediv, {}),
    "floor_divide": (torch.floor_divide, tritongrad.floor_divide, operator.floordiv, {}),
    "remainder": (torch.remainder, tritongrad.remainder, operator.mod, {}),
    "pow": (torch.pow, tritongrad.pow, operator.pow, {"a": (0.25, 2.5), "b": (-2.0, 3.0)}),
    "maximum": (torch.maximum, tritongrad.maximum, None, {}),
    "minimum": (torch.minimum, tritongrad.minimum, None, {}),
    "gt": (torch.gt, tritongrad.gt, operator.gt, {}),
    "lt": (torch.lt, tritongrad.lt, operator.lt, {}),
    "ge": (torch.ge, tritongrad.ge, operator.ge, {}),
    "le": (torch.le, tritongrad.le, operator.le, {}),
    "eq": (torch.eq, tritongrad.eq, operator.eq, {}),
    "ne": (torch.ne, tritongrad.ne, operator.ne, {}),
    "logical_and": (torch.logical_and, tritongrad.logical_and, None, {}),
    "logical_or": (torch.logical_or, tritongrad.logical_or, None, {}),
    "logical_xor": (torch.logical_xor, tritongrad.logical_xor, None, {}),
}


def binary_inputs(op: str, shape_a, shape_b, dtype, layout_a="contiguous", layout_b="contiguous"):
    """(torch a, torch b), (tritongrad a, tritongrad b): random, with some equal elements (ties for
    eq/maximum/...) and divisors/exponents kept where the op is well-conditioned."""
    ranges = BINARY_OPS[op][3]
    low_a, high_a = ranges.get("a", (-3.0, 3.0))
    low_b, high_b = ranges.get("b", (-3.0, 3.0))
    if op == "pow" and not dtype.is_floating_point:
        low_a, high_a, low_b, high_b = -3, 3, 0, 4
    a, tg_a = make_pair(shape_a, dtype, layout_a, low=low_a, high=high_a)
    b, tg_b = make_pair(shape_b, dtype, layout_b, low=low_b, high=high_b)
    if op != "pow" and tuple(shape_a) == tuple(shape_b) and layout_b == "contiguous":
        # Copy ~30% of a into b so that eq/le/maximum see ties.
        ties = torch.rand(shape_a) < 0.3
        b = torch.where(ties, a, b)
        tg_b = from_torch(b)
    return (a, b), (tg_a, tg_b)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("op", list(BINARY_OPS))
def test_binary_op_every_dtype(op, dtype):
    torch_fn, tg_fn, _, _ = BINARY_OPS[op]
    (a, b), (tg_a, tg_b) = binary_inputs(op, (13, 17), (13, 17), dtype)  # a prime-sized matrix
    got, expected = run_both(torch_fn, tg_fn, (a, b), (tg_a, tg_b))
    if expected is not None:
        exact = {"rtol": 0, "atol": 0} if op in CORRECTLY_ROUNDED else {}
        assert_close(got, expected, what=f"{op}({dtype})", **exact)


@pytest.mark.parametrize("api", ["operator", "method"])
@pytest.mark.parametrize("op", [op for op, spec in BINARY_OPS.items() if spec[2] is not None or op != "div"])
def test_binary_op_through_operator_and_method(op, api):
    torch_fn, _, python_operator, _ = BINARY_OPS[op]
    (a, b), (tg_a, tg_b) = binary_inputs(op, (4, 7), (4, 7), torch.float32)
    if api == "operator":
        if python_operator is None:
            pytest.skip(f"{op} has no Python operator")
        got = python_operator(tg_a, tg_b)
    else:
        got = getattr(tg_a, op)(tg_b)
    assert_close(got, torch_fn(a, b), what=f"{op} via {api}")


@pytest.mark.parametrize("op", ["logical_and", "logical_or", "logical_xor"])
def test_bool_operators(op):
    python_operator = {"logical_and": operator.and_, "logical_or": operator.or_, "logical_xor": operator.xor}[op]
    (a, b), (tg_a, tg_b) = binary_inputs(op, (5, 6), (5, 6), torch.bool)
    assert_close(python_operator(tg_a, tg_b), python_operator(a, b))
    assert_close(~tg_a, ~a)
    assert_close(tritongrad.logical_not(tg_a), torch.logical_not(a))


BITWISE = {
    "bitwise_and": operator.and_,
    "bitwise_or": operator.or_,
    "bitwise_xor": operator.xor,
    "bitwise_left_shift": operator.lshift,
    "bitwise_right_shift": operator.rshift,
}
INTEGER_AND_BOOL = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool]


def _outcome(function, *args):
    try:
        return function(*args)
    except (RuntimeError, TypeError, NotImplementedError) as error:
        return type(error)


@pytest.mark.parametrize("dtype", [*INTEGER_AND_BOOL, torch.float32], ids=str)
@pytest.mark.parametrize("op", list(BITWISE))
def test_bitwise_ops_and_their_operators_match_torch(op, dtype):
    """``&``, ``|``, ``^``, ``<<``, ``>>`` are the bitwise ops (they once were the logical ones, so an
    integer ``a & b`` came back as bools): values, dtypes, refusals; shifts by negative amounts and
    by the width or more included (torch's rule: 0, or the sign fill for a right shift)."""
    low = 0 if dtype == torch.uint8 else -100
    a = random_values((5, 7), dtype, low=low, high=100)
    b = (
        random_values((5, 7), dtype, low=max(low, -3), high=70)
        if "shift" in op
        else random_values((5, 7), dtype, low=low, high=100)
    )
    tg_a, tg_b = from_torch(a), from_torch(b)
    for name, ours, theirs in (
        ("function", lambda: getattr(tritongrad, op)(tg_a, tg_b), lambda: getattr(torch, op)(a, b)),
        ("method", lambda: getattr(tg_a, op)(tg_b), lambda: getattr(a, op)(b)),
        ("operator", lambda: BITWISE[op](tg_a, tg_b), lambda: BITWISE[op](a, b)),
        ("number right", lambda: BITWISE[op](tg_a, 3), lambda: BITWISE[op](a, 3)),
        ("number left", lambda: BITWISE[op](6, tg_b), lambda: BITWISE[op](6, b)),
        ("transposed", lambda: BITWISE[op](tg_a.t(), tg_b.t()), lambda: BITWISE[op](a.t(), b.t())),
    ):
        expected, got = _outcome(theirs), _outcome(ours)
        if isinstance(expected, type):
            assert got is expected, f"{op} {name} {dtype}: torch raised {expected.__name__}, tritongrad gave {got}"
        else:
            assert_close(got, expected, rtol=0, atol=0, what=f"{op} {name} {dtype}")


@pytest.mark.parametrize("dtype", INTEGER_AND_BOOL, ids=str)
def test_bitwise_not_and_inplace_operators_match_torch(dtype):
    a = random_values((4, 6), dtype, low=0 if dtype == torch.uint8 else -100, high=100)
    tg_a = from_torch(a)
    assert_close(~tg_a, ~a, rtol=0, atol=0, what=f"~ {dtype}")
    assert_close(tritongrad.bitwise_not(tg_a), torch.bitwise_not(a), rtol=0, atol=0, what=f"bitwise_not {dtype}")
    for name in ("__iand__", "__ior__", "__ixor__"):
        expected, got = a.clone(), tg_a.clone()
        returned = getattr(got, name)(from_torch(a.flip(0)))
        getattr(expected, name)(a.flip(0))
        assert returned is got
        assert_close(got, expected, rtol=0, atol=0, what=f"{name} {dtype}")
    with pytest.raises(TypeError, match="integer and Boolean"):
        ~tritongrad.ones(2)


def test_bool_subtraction_and_negation_are_refused():
    tg_a = from_torch(random_values((3,), torch.bool))
    with pytest.raises(RuntimeError, match="bool tensors is not supported"):
        tritongrad.sub(tg_a, tg_a)
    with pytest.raises(RuntimeError, match="on a bool tensor is not supported"):
        tritongrad.neg(tg_a)


# ------------------------------------------------------------------------------------------------
# Shapes: empty, one element, primes, more than one interpreter block, broadcasting, 0-dim
# ------------------------------------------------------------------------------------------------

SHAPE_PAIRS = [
    ((0,), (0,)),  # empty
    ((1,), (1,)),  # one element
    ((7,), (7,)),  # prime, smaller than any block
    ((70_000,), (70_000,)),  # more than one interpreter block (max 2**16): a masked tail block
    ((3, 0, 4), (3, 0, 4)),  # empty in a middle dim
    ((3, 1), (1, 4)),  # both operands broadcast
    ((5,), (2, 3, 5)),  # rank extension
    ((), (4, 3)),  # 0-dim with a matrix
    ((4, 3), ()),  # matrix with a 0-dim
    ((), ()),  # two 0-dim tensors
    ((2, 1, 5), (3, 1)),  # broadcast in the middle
    ((0, 3), (1, 3)),  # empty broadcast with a non-empty
]


@pytest.mark.parametrize("op", ["add", "mul", "gt", "pow", "minimum"])
@pytest.mark.parametrize("shape_a, shape_b", SHAPE_PAIRS, ids=str)
def test_binary_shapes(op, shape_a, shape_b):
    torch_fn, tg_fn, _, _ = BINARY_OPS[op]
    (a, b), (tg_a, tg_b) = binary_inputs(op, shape_a, shape_b, torch.float32)
    assert_close(tg_fn(tg_a, tg_b), torch_fn(a, b), what=f"{op}{shape_a}{shape_b}")


def test_shapes_that_do_not_broadcast_name_the_sizes():
    tg_a, tg_b = from_torch(torch.randn(3, 4)), from_torch(torch.randn(5, 4))
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(5\)"):
        tg_a + tg_b


# ------------------------------------------------------------------------------------------------
# Non-contiguous operands, and ranks that cannot be coalesced
# ------------------------------------------------------------------------------------------------

LAYOUT_PAIRS = [
    ("transposed", "contiguous"),
    ("contiguous", "transposed"),
    ("transposed", "transposed"),
    ("sliced", "transposed"),
    ("expanded", "sliced"),
    ("sliced", "expanded"),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int64], ids=str)
@pytest.mark.parametrize("layout_a, layout_b", LAYOUT_PAIRS)
@pytest.mark.parametrize("op", ["sub", "div", "maximum", "le"])
def test_binary_non_contiguous(op, layout_a, layout_b, dtype):
    torch_fn, tg_fn, _, _ = BINARY_OPS[op]
    (a, b), (tg_a, tg_b) = binary_inputs(op, (6, 11), (6, 11), dtype, layout_a, layout_b)
    assert not (tg_a.is_contiguous() and tg_b.is_contiguous())
    assert_close(tg_fn(tg_a, tg_b), torch_fn(a, b), what=f"{op} {layout_a}/{layout_b}")


def seven_dim_pair(dtype=torch.float32):
    """A permuted 7-D tensor of sizes 2/3: no two dims can merge, so the kernel's rank-6 limit
    forces the launcher to split the leading dim (split_leading_dim)."""
    base = random_values((2, 3, 2, 3, 2, 3, 2), dtype)
    order = (6, 4, 2, 0, 5, 3, 1)  # no two originally neighbouring dims stay neighbours
    x = base.permute(order)
    coalesced_shape, _ = coalesce(tuple(x.shape), [list(x.stride())])
    assert len(coalesced_shape) == 7 > MAX_RANK
    return x, from_torch(base).permute(order)


def test_seven_dim_permuted_binary_and_unary():
    a, tg_a = seven_dim_pair()
    b, tg_b = seven_dim_pair()
    assert_close(tg_a * tg_b, a * b)
    assert_close(tg_a + tg_b.contiguous(), a + b.contiguous())
    assert_close(tg_a.exp(), a.exp())
    assert_close(tg_a.contiguous(), a.contiguous())
    assert_close(tritongrad.where(tg_a > 0, tg_a, tg_b), torch.where(a > 0, a, b))
    # broadcast along a leading dim of size 1
    c, tg_c = a[:1], tg_a[:1]
    assert_close(tg_c - tg_b, c - b)


def test_eight_dim_permuted_with_a_lower_rank_operand():
    """Two leading dims to split (the launcher recurses), plus an operand of rank 2 broadcast over
    the other six."""
    base = random_values((2, 3, 2, 3, 2, 3, 2, 3), torch.float32)
    order = (7, 5, 3, 1, 6, 4, 2, 0)
    x, tg_x = base.permute(order), from_torch(base).permute(order)
    row, tg_row = make_pair(x.shape[-2:], torch.float32, "transposed")
    assert_close(tg_x - tg_row, x - row)
    assert_close(tritongrad.maximum(tg_row, tg_x), torch.maximum(row, x))


def test_seven_dim_permuted_in_place():
    a, tg_a = seven_dim_pair()
    b, tg_b = seven_dim_pair()
    a.add_(b, alpha=2.0)
    tg_a.add_(tg_b, alpha=2.0)
    assert_close(tg_a, a)
    tg_a.fill_(1.5)
    a.fill_(1.5)
    assert_close(tg_a, a)


# ------------------------------------------------------------------------------------------------
# Python scalars on either side, and type promotion with scalars and 0-dim tensors
# ------------------------------------------------------------------------------------------------

SCALAR_EXPRESSIONS = {
    "2 ** x": lambda x: 2**x,
    "x ** 2": lambda x: x**2,
    "x ** 0.5": lambda x: x**0.5,
    "x ** -1": lambda x: x**-1,
    "1 - x": lambda x: 1 - x,
    "x - 1.5": lambda x: x - 1.5,
    "x / 3": lambda x: x / 3,
    "3 / x": lambda x: 3 / x,
    "x // 2": lambda x: x // 2,
    "7 // x": lambda x: 7 // x,
    "x % 2": lambda x: x % 2,
    "7 % x": lambda x: 7 % x,
    "x + 2.5": lambda x: x + 2.5,
    "2 * x": lambda x: 2 * x,
    "x * True": lambda x: x * True,
    "x > 1": lambda x: x > 1,
    "0.5 <= x": lambda x: 0.5 <= x,
    "x == 2": lambda x: x == 2,
    "x + 0.1 (float64 scalar precision)": lambda x: x + 0.1,
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64, torch.int32, torch.int64], ids=str)
@pytest.mark.parametrize("expression", list(SCALAR_EXPRESSIONS))
def test_python_scalars(expression, dtype):
    fn = SCALAR_EXPRESSIONS[expression]
    x, tg_x = make_pair((5, 7), dtype, low=0.5 if dtype.is_floating_point else 1, high=4)
    got, expected = run_both(fn, fn, (x,), (tg_x,))
    if expected is not None:
        assert_close(got, expected, what=f"{expression} on {dtype}")


PROMOTION_CASES = [
    # (dtype of a (4,)-shaped tensor, other operand) -- other: a dtype means a 0-dim tensor
    (torch.int32, 2.5),  # int tensor + float scalar -> default float
    (torch.int32, 2),  # int scalar keeps int32
    (torch.bool, 1),  # bool + int scalar -> int64
    (torch.bool, 1.5),
    (torch.float16, 2.5),  # float scalar keeps float16
    (torch.bfloat16, 3),
    (torch.int64, True),
    (torch.float32, torch.float64),  # 0-dim of the same category does not win
    (torch.int32, torch.float64),  # 0-dim of a higher category does (its own dtype)
    (torch.int32, torch.int64),
    (torch.bool, torch.int32),
    (torch.float16, torch.float32),
]


@pytest.mark.parametrize("op", ["add", "mul", "div"])
@pytest.mark.parametrize("dtype, other", PROMOTION_CASES, ids=str)
def test_promotion_with_scalars_and_zero_dim(dtype, other, op):
    torch_fn, tg_fn, _, _ = BINARY_OPS[op]
    x, tg_x = make_pair((4,), dtype, low=1, high=5)
    if isinstance(other, torch.dtype):
        other, tg_other = make_pair((), other, low=1, high=5)
    else:
        tg_other = other
    assert_close(tg_fn(tg_x, tg_other), torch_fn(x, other), what=f"{op}({dtype}, {other!r})")
    assert_close(tg_fn(tg_other, tg_x), torch_fn(other, x), what=f"{op}({other!r}, {dtype})")


@pytest.mark.parametrize("dtype_a", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("dtype_b", ALL_DTYPES, ids=str)
def test_mixed_dtype_tensors(dtype_a, dtype_b):
    (a, _), (tg_a, _) = binary_inputs("add", (3, 5), (3, 5), dtype_a)
    b, tg_b = make_pair((3, 5), dtype_b)
    for name in ("add", "mul", "maximum", "lt"):
        torch_fn, tg_fn, _, _ = BINARY_OPS[name]
        got, expected = run_both(torch_fn, tg_fn, (a, b), (tg_a, tg_b))
        if expected is not None:
            tolerance_dtype = expected.dtype if expected.dtype.is_floating_point else None
            assert_close(got, expected, dtype=tolerance_dtype, what=f"{name}({dtype_a}, {dtype_b})")


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64, torch.int64], ids=str)
def test_alpha(dtype):
    a, tg_a = make_pair((4, 6), dtype)
    b, tg_b = make_pair((6,), dtype, "sliced")
    alpha = 3 if not dtype.is_floating_point else -0.75
    assert_close(tritongrad.add(tg_a, tg_b, alpha=alpha), torch.add(a, b, alpha=alpha))
    assert_close(tritongrad.sub(tg_a, tg_b, alpha=alpha), torch.sub(a, b, alpha=alpha))
    assert_close(tg_a.add(2, alpha=alpha), a.add(2, alpha=alpha))
    if dtype == torch.float64:
        x, tg_x = make_pair((3, 2), dtype, requires_grad=True)
        y, tg_y = make_pair((2,), dtype, requires_grad=True)
        tritongrad.sub(tg_x, tg_y, alpha=alpha).sum().backward()
        torch.sub(x, y, alpha=alpha).sum().backward()
        assert_close(tg_x.grad, x.grad)
        assert_close(tg_y.grad, y.grad)


# ------------------------------------------------------------------------------------------------
# Integer division, remainder and pow edge cases
# ------------------------------------------------------------------------------------------------


def signed_division_operands(dtype):
    """Every sign combination, with exact and inexact quotients."""
    values = [-7, -6, -5, -1, 1, 5, 6, 7, 13, -13]
    a = torch.tensor(values, dtype=dtype).repeat_interleave(4)
    b = torch.tensor([3, -3, 2, -2], dtype=dtype).repeat(len(values))
    return (a, b), (from_torch(a), from_torch(b))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.float32, torch.float64], ids=str)
def test_division_and_remainder_with_negative_numbers(dtype):
    (a, b), (tg_a, tg_b) = signed_division_operands(dtype)
    assert_close(tg_a // tg_b, a // b, what="floor_divide")
    assert_close(tg_a % tg_b, a % b, what="remainder")
    assert_close(tg_a / tg_b, a / b, what="true division")
    assert_close(tritongrad.div(tg_a, tg_b, rounding_mode="floor"), torch.div(a, b, rounding_mode="floor"))
    # the kernels behind div(rounding_mode="trunc") and fmod
    assert_close(binary_forward("trunc_divide", tg_a, tg_b), torch.div(a, b, rounding_mode="trunc"))
    assert_close(binary_forward("fmod", tg_a, tg_b), torch.fmod(a, b))
    assert_close(binary_forward("fmod", tg_a, 4), torch.fmod(a, 4))


@pytest.mark.parametrize(
    "dtype",
    [torch.int32, torch.int64] + [torch.float32, torch.float64],
    ids=str,
)
def test_trunc_division_and_fmod(dtype):
    (a, b), (tg_a, tg_b) = signed_division_operands(dtype)
    assert_close(tritongrad.div(tg_a, tg_b, rounding_mode="trunc"), torch.div(a, b, rounding_mode="trunc"))
    assert_close(tritongrad.fmod(tg_a, tg_b), torch.fmod(a, b), what="fmod")


def test_float_division_by_zero_and_signed_zero():
    a = torch.tensor([1.0, -1.0, 0.0, 5.5, -5.5, 3.0])
    b = torch.tensor([0.0, 0.0, 0.0, 2.0, 2.0, -0.0])
    tg_a, tg_b = from_torch(a), from_torch(b)
    assert_close(tg_a / tg_b, a / b)
    assert_close(tg_a // tg_b, a // b)
    assert_close(tg_a % tg_b, a % b)


def test_pow_edge_cases():
    base = torch.tensor([-2.0, -2.0, -2.0, 0.0, 0.0, 0.0, -0.5, 2.0, -8.0, 1.0, -1.0])
    exponent = torch.tensor([2.0, 3.0, -1.0, 0.0, 2.0, -1.0, 0.5, -2.0, 1.0 / 3.0, float("nan"), 0.0])
    for dtype in (torch.float32, torch.float64):
        b, e = base.to(dtype), exponent.to(dtype)
        assert_close(from_torch(b) ** from_torch(e), b**e, what=f"tensor ** tensor ({dtype})")
    # integer exponents on negative bases stay exact and signed; fractional ones give nan
    x = torch.tensor([-3.0, -2.0, -1.5, 0.0, 2.0])
    tg_x = from_torch(x)
    for exponent in (0, 1, 2, 3, -1, -2, 0.5, 2.5, -0.5):
        assert_close(tg_x**exponent, x**exponent, what=f"x ** {exponent}")
    for base_value in (0.0, 2.0, 0.5):
        assert_close(base_value**tg_x, base_value**x, what=f"{base_value} ** x")


def test_integer_pow():
    a = torch.tensor([-3, -2, -1, 0, 1, 2, 3, 5], dtype=torch.int64)
    e = torch.tensor([0, 1, 2, 3, 4, 5, 0, 3], dtype=torch.int64)
    assert_close(from_torch(a) ** from_torch(e), a**e)
    assert_close(from_torch(a) ** 3, a**3)
    assert_close(2 ** from_torch(e), 2**e)
    with pytest.raises(RuntimeError, match="negative integer powers"):
        from_torch(a) ** -1


# ------------------------------------------------------------------------------------------------
# where, clamp
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_where(dtype):
    condition = torch.rand(6, 9) > 0.5
    a, tg_a = make_pair((6, 9), dtype, "transposed")
    b, tg_b = make_pair((9,), dtype)  # broadcast along rows
    tg_condition = from_torch(condition)
    assert_close(tritongrad.where(tg_condition, tg_a, tg_b), torch.where(condition, a, b))
    assert_close(tg_a.where(tg_condition, tg_b), a.where(condition, b))


def test_where_with_scalars_and_promotion():
    condition = torch.rand(4, 5) > 0.5
    x, tg_x = make_pair((4, 5), torch.float16)
    n, tg_n = make_pair((4, 5), torch.int32)
    tg_condition = from_torch(condition)
    assert_close(tritongrad.where(tg_condition, tg_x, 0.0), torch.where(condition, x, 0.0))
    assert_close(tritongrad.where(tg_condition, 1.5, tg_x), torch.where(condition, 1.5, x))
    assert_close(tritongrad.where(tg_condition, tg_n, tg_x), torch.where(condition, n, x))
    assert_close(tritongrad.where(tg_condition, tg_n, 2.5), torch.where(condition, n, 2.5))
    with pytest.raises(RuntimeError, match="boolean"):
        tritongrad.where(tg_n, tg_x, tg_x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.int64],
                         ids=str)  # fmt: skip
def test_clamp_scalar_bounds(dtype):
    x, tg_x = make_pair((7, 13), dtype, "transposed")
    for low, high in ((-1, 1), (-0.5, None), (None, 0.25), (1.5, -1.5), (-1.1, 2.7)):
        if not dtype.is_floating_point and any(isinstance(v, float) for v in (low, high)):
            low = None if low is None else int(low)
            high = None if high is None else int(high)
        assert_close(tritongrad.clamp(tg_x, low, high), torch.clamp(x, low, high), what=f"clamp({low}, {high})")
    assert_close(tg_x.clamp(min=-1), x.clamp(min=-1))
    assert_close(tg_x.clip(max=2), x.clip(max=2))
    with pytest.raises(RuntimeError, match="At least one"):
        tg_x.clamp()


def test_clamp_float_bounds_on_int_tensor_promote():
    x, tg_x = make_pair((9,), torch.int64)
    assert_close(tg_x.clamp(-1.5, 2.5), x.clamp(-1.5, 2.5))


def test_clamp_float64_bound_keeps_precision():
    x = torch.full((5,), 0.1, dtype=torch.float64) + torch.arange(-2, 3, dtype=torch.float64) * 1e-17
    assert_close(from_torch(x).clamp(min=0.1), x.clamp(min=0.1), rtol=0, atol=0)
    tg_x = from_torch(x)
    tg_x.clamp_(max=0.1)
    assert_close(tg_x, x.clamp_(max=0.1), rtol=0, atol=0)


def test_clamp_in_place_with_tensor_bounds():
    x, tg_x = make_pair((4, 5), torch.float32, "transposed")
    low, tg_low = make_pair((5,), torch.float32, low=-1, high=0)
    high, tg_high = make_pair((4, 1), torch.float64, low=0, high=1)
    tg_x.clamp_(tg_low, tg_high)
    x.clamp_(low, high)
    assert_close(tg_x, x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64], ids=str)
def test_clamp_tensor_bounds(dtype):
    x, tg_x = make_pair((5, 8), dtype)
    low, tg_low = make_pair((8,), dtype, low=-2, high=0)
    high, tg_high = make_pair((5, 1), dtype, low=0, high=2)
    assert_close(tritongrad.clamp(tg_x, tg_low, tg_high), torch.clamp(x, low, high))
    assert_close(tg_x.clamp(min=tg_low), x.clamp(min=low))
    assert_close(tg_x.clamp(max=tg_high), x.clamp(max=high))
    assert_close(tg_x.clamp(tg_low, 1.0), x.clamp(low, torch.tensor(1.0, dtype=dtype)))


def test_maximum_minimum_propagate_nan():
    a = torch.tensor([1.0, float("nan"), 3.0, float("nan")])
    b = torch.tensor([float("nan"), 2.0, 1.0, float("nan")])
    tg_a, tg_b = from_torch(a), from_torch(b)
    assert_close(tritongrad.maximum(tg_a, tg_b), torch.maximum(a, b))
    assert_close(tritongrad.minimum(tg_a, tg_b), torch.minimum(a, b))
    assert_close(tg_a.clamp(0.0, 2.0), a.clamp(0.0, 2.0))
    assert_close(tg_a.relu(), a.relu())


# ------------------------------------------------------------------------------------------------
# Unary ops
# ------------------------------------------------------------------------------------------------

# name: (value range, whether integer inputs make sense)
UNARY_OPS = {
    "neg": ((-3, 3), True),
    "abs": ((-3, 3), True),
    "exp": ((-4, 4), True),
    "log": ((0.05, 5), True),
    "sqrt": ((0.05, 5), True),
    "rsqrt": ((0.05, 5), True),
    "sin": ((-10, 10), True),
    "cos": ((-10, 10), True),
    "tan": ((-1.3, 1.3), True),
    "tanh": ((-5, 5), True),
    "sigmoid": ((-8, 8), True),
    "relu": ((-3, 3), True),
    "reciprocal": ((0.1, 4), True),
    "sign": ((-3, 3), True),
    "floor": ((-6, 6), True),
    "ceil": ((-6, 6), True),
}


@pytest.mark.parametrize(
    "op, dtype",
    [(op, dtype) for op in UNARY_OPS for dtype in ALL_DTYPES],
    ids=str,
)
def test_unary_op_every_dtype(op, dtype):
    (low, high), _ = UNARY_OPS[op]
    x, tg_x = make_pair((13, 17), dtype, low=low, high=high)
    got, expected = run_both(getattr(torch, op), getattr(tritongrad, op), (x,), (tg_x,))
    if expected is not None:
        exact = {"rtol": 0, "atol": 0} if op in CORRECTLY_ROUNDED else {}
        assert_close(got, expected, what=f"{op}({dtype})", **exact)
        assert_close(getattr(tg_x, op)(), expected, what=f"x.{op}()", **exact)


@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
@pytest.mark.parametrize("op", list(UNARY_OPS))
def test_unary_op_non_contiguous(op, layout):
    (low, high), _ = UNARY_OPS[op]
    x, tg_x = make_pair((6, 11), torch.float32, layout, low=low, high=high)
    assert_close(getattr(tg_x, op)(), getattr(x, op)(), what=f"{op} on {layout}")


@pytest.mark.parametrize("shape", [(0,), (1,), (), (70_000,), (2, 0, 3)], ids=str)
@pytest.mark.parametrize("op", ["exp", "sin", "tanh", "sigmoid", "abs"])
def test_unary_op_shapes(op, shape):
    x, tg_x = make_pair(shape, torch.float32, low=-4, high=4)
    assert_close(getattr(tritongrad, op)(tg_x), getattr(torch, op)(x))


def test_unary_operators():
    x, tg_x = make_pair((3, 4), torch.float32)
    assert_close(-tg_x, -x)
    assert_close(abs(tg_x), abs(x))
    assert_close(+tg_x, +x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_unary_special_values(dtype):
    x = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-30, -1e-30, 88.0, -88.0,
                      1e4, -1e4, 30.0, -30.0], dtype=dtype)  # fmt: skip
    tg_x = from_torch(x)
    for op in ("exp", "tanh", "sigmoid", "abs", "sign", "relu", "floor", "ceil", "neg", "sin", "cos"):
        with torch.no_grad():
            expected = getattr(torch, op)(x)
        rtol = 2e-6 if op in ("sin", "cos") and dtype == torch.float32 else None
        assert_close(getattr(tg_x, op)(), expected, what=f"{op} at special values", rtol=rtol)
    positive = torch.tensor([0.0, float("inf"), 1e-30, 1e30, float("nan")], dtype=dtype)
    tg_positive = from_torch(positive)
    for op in ("log", "sqrt", "rsqrt", "reciprocal"):
        assert_close(getattr(tg_positive, op)(), getattr(torch, op)(positive), what=f"{op} at special values")


def test_floor_of_an_integer_tensor_is_a_new_tensor():
    n, tg_n = make_pair((4,), torch.int64)
    floored = tg_n.floor()
    floored.add_(1)
    assert_close(tg_n, n)


def test_square_and_isnan():
    x = torch.tensor([1.5, float("nan"), -2.0])
    tg_x = from_torch(x)
    assert_close(tg_x.square(), x.square())
    assert_close(tritongrad.isnan(tg_x), torch.isnan(x))


# ------------------------------------------------------------------------------------------------
# In-place ops
# ------------------------------------------------------------------------------------------------

IN_PLACE = {
    "add_": lambda x, y: x.add_(y),
    "add_ alpha": lambda x, y: x.add_(y, alpha=-0.5),
    "sub_": lambda x, y: x.sub_(y),
    "sub_ alpha": lambda x, y: x.sub_(y, alpha=2),
    "mul_": lambda x, y: x.mul_(y),
    "div_": lambda x, y: x.div_(y),
    "add_ scalar": lambda x, y: x.add_(1.5),
    "mul_ scalar": lambda x, y: x.mul_(-3),
    "+=": lambda x, y: x.__iadd__(y),
    "-=": lambda x, y: x.__isub__(y),
    "*=": lambda x, y: x.__imul__(y),
    "/=": lambda x, y: x.__itruediv__(y),
    "zero_": lambda x, y: x.zero_(),
    "fill_": lambda x, y: x.fill_(0.75),
    "copy_": lambda x, y: x.copy_(y),
    "clamp_": lambda x, y: x.clamp_(-0.5, 0.5),
    "pow_": lambda x, y: x.pow_(2),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64], ids=str)
@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_contiguous(name, dtype):
    fn = IN_PLACE[name]
    x, tg_x = make_pair((6, 7), dtype, low=0.5, high=2)
    y, tg_y = make_pair((6, 7), dtype, low=0.5, high=2)
    pointer, version = tg_x.data_ptr(), tg_x._version
    result = fn(tg_x, tg_y)
    fn(x, y)
    assert result is tg_x, f"{name} must return self"
    assert tg_x.data_ptr() == pointer and tg_x._version == version + 1
    assert_close(tg_x, x, what=name)


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_on_strided_views(name):
    fn = IN_PLACE[name]
    base, tg_base = make_pair((5, 6), torch.float32, low=0.5, high=2)
    y, tg_y = make_pair((5,), torch.float32, low=0.5, high=2)
    # a column: stride 6
    fn(base[:, 1], y)
    fn(tg_base[:, 1], tg_y)
    assert_close(tg_base, base, what=f"{name} on x[:, 1]")
    # a transposed view with a step, written with a broadcast operand
    z, tg_z = make_pair((5,), torch.float32, low=0.5, high=2)
    fn(base.t()[::2], z)
    fn(tg_base.t()[::2], tg_z)
    assert_close(tg_base, base, what=f"{name} on x.t()[::2]")


def test_in_place_version_counter_shared_with_views():
    base, tg_base = make_pair((4, 4), torch.float32)
    view = tg_base[1:, ::2]
    before = tg_base._version
    view.add_(from_torch(torch.ones(3, 2)))
    base[1:, ::2].add_(torch.ones(3, 2))
    assert tg_base._version == view._version == before + 1
    assert_close(tg_base, base)


def test_in_place_with_broadcast_other_and_promotion():
    x, tg_x = make_pair((4, 5), torch.float32)
    n, tg_n = make_pair((5,), torch.int64)
    x.add_(n)
    tg_x.add_(tg_n)
    assert_close(tg_x, x)
    x.mul_(2.5)
    tg_x.mul_(2.5)
    assert_close(tg_x, x)


def test_in_place_errors_like_torch():
    n, tg_n = make_pair((4,), torch.int64)
    with pytest.raises(RuntimeError, match="can't be cast"):
        tg_n.add_(1.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        tg_n.div_(2)
    x, tg_x = make_pair((4,), torch.float32)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        tg_x.add_(from_torch(torch.ones(3, 4)))
    expanded = from_torch(torch.ones(1, 4)).expand(3, 4)
    with pytest.raises(RuntimeError, match="more than one element"):
        expanded.add_(1.0)
    leaf = from_torch(torch.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.add_(1.0)


@pytest.mark.parametrize("method", ["fill_", "copy_"])
def test_recorded_fill_and_copy_over_infinities(method):
    x, tg_x = make_pair((3,), torch.float32, requires_grad=True)
    y, tg_y = x * float("inf"), tg_x * float("inf")
    if method == "fill_":
        y.fill_(2.0)
        tg_y.fill_(2.0)
    else:
        source = torch.tensor([1.0, -2.0, 3.0])
        y.copy_(source)
        tg_y.copy_(from_torch(source))
    assert_close(tg_y, y)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_fill_zero_copy_every_dtype(dtype):
    x, tg_x = make_pair((3, 5), dtype, "transposed")
    y, tg_y = make_pair((3, 5), torch.float64, low=-4, high=4)
    x.copy_(y)
    tg_x.copy_(tg_y)
    assert_close(tg_x, x, what="copy_ with a dtype conversion")
    value = True if dtype == torch.bool else (7 if not dtype.is_floating_point else -2.25)
    x.fill_(value)
    tg_x.fill_(value)
    assert_close(tg_x, x, what="fill_")
    x.zero_()
    tg_x.zero_()
    assert_close(tg_x, x, what="zero_")
    # copy_ broadcasts the source
    row, tg_row = make_pair((5,), dtype)
    x.copy_(row)
    tg_x.copy_(tg_row)
    assert_close(tg_x, x, what="copy_ broadcast")


def test_fill_exact_values_that_float32_cannot_hold():
    x = torch.empty(4, dtype=torch.float64)
    n = torch.empty(4, dtype=torch.int64)
    tg_x, tg_n = from_torch(x), from_torch(n)
    tg_x.fill_(0.1)
    tg_n.fill_(2**53 + 1)
    assert_close(tg_x, x.fill_(0.1))
    assert_close(tg_n, n.fill_(2**53 + 1))


# ------------------------------------------------------------------------------------------------
# Property tests: broadcasting and result_type
# ------------------------------------------------------------------------------------------------


@st.composite
def broadcastable_shapes(draw):
    """Two shapes (up to 4-D, sizes 0-5) that broadcast: each dim of each is the common size or 1,
    and either may have fewer dims."""
    rank = draw(st.integers(0, 4))
    common = draw(st.lists(st.integers(0, 5), min_size=rank, max_size=rank))

    def one_side():
        dims = [size if draw(st.booleans()) else 1 for size in common]
        return tuple(dims[draw(st.integers(0, rank)) :])

    return one_side(), one_side()


@settings(max_examples=30, deadline=None)
@given(shapes=broadcastable_shapes(), op=st.sampled_from(["add", "mul", "gt"]))
def test_property_broadcasting(shapes, op):
    shape_a, shape_b = shapes
    torch_fn, tg_fn, _, _ = BINARY_OPS[op]
    a, tg_a = make_pair(shape_a, torch.float32)
    b, tg_b = make_pair(shape_b, torch.float32)
    assert_close(tg_fn(tg_a, tg_b), torch_fn(a, b), what=f"{op}{shape_a}{shape_b}")


@settings(max_examples=40, deadline=None)
@given(
    dtype_a=st.sampled_from(ALL_DTYPES),
    dtype_b=st.sampled_from(ALL_DTYPES),
    ndim_a=st.integers(0, 1),
    ndim_b=st.integers(0, 1),
    scalar=st.sampled_from([None, True, 3, 2.5]),
)
def test_property_result_type(dtype_a, dtype_b, ndim_a, ndim_b, scalar):
    a = torch.ones((2,) * ndim_a, dtype=dtype_a)
    b = torch.ones((2,) * ndim_b, dtype=dtype_b)
    # torch.result_type takes two operands; a sum's dtype is the result type of all three (the internal
    # rule, dtypes.result_type, takes any number).
    expected = torch.result_type(a, b) if scalar is None else (a + b + scalar).dtype
    tg_operands = [from_torch(a), from_torch(b)] + ([] if scalar is None else [scalar])
    assert dtypes.result_type(*tg_operands) == expected
    if scalar is None:
        assert tritongrad.result_type(*tg_operands) == expected
    assert tritongrad.promote_types(dtype_a, dtype_b) == torch.promote_types(dtype_a, dtype_b)


# ------------------------------------------------------------------------------------------------
# GPU: larger shapes on the device (skipped on the CPU interpreter)
# ------------------------------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(1 << 20,), (1000, 1537), (4096, 257)], ids=str)
def test_gpu_large_elementwise(shape, dtype):
    a = random_values(shape, dtype).cuda()
    b = random_values(shape, dtype).cuda()
    tg_a, tg_b = tritongrad.Tensor._wrap(a.clone()), tritongrad.Tensor._wrap(b.clone())
    assert_close(tg_a * tg_b + 1.5, a * b + 1.5)
    # tl.exp is ex2.approx on the GPU: a few ulp more than torch's expf
    assert_close(tg_a.exp(), a.exp(), rtol=1e-5 if dtype == torch.float32 else None)
    assert_close(tritongrad.maximum(tg_a, tg_b), torch.maximum(a, b))
    if len(shape) == 2:
        assert_close(tg_a.t() - tg_b.t(), a.t() - b.t())
    tg_a.add_(tg_b, alpha=2)
    a.add_(b, alpha=2)
    assert_close(tg_a, a)


@pytest.mark.gpu
def test_gpu_device_of_results():
    tg_x = tritongrad.randn(1000, 33, device="cuda")
    assert (tg_x + 1).device.type == "cuda"
    assert tg_x.sigmoid().shape == (1000, 33)
    assert DEVICE.type == "cuda"


# ----------------------------------------------------------------------------- in-place unary methods
INPLACE_UNARY = ["exp", "log", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sigmoid", "reciprocal",
                 "abs", "neg", "square", "sign", "floor", "ceil", "relu"]  # fmt: skip


@pytest.mark.parametrize("name", INPLACE_UNARY)
def test_unary_in_place_methods_match_torch(name):
    values = random_values((3, 5), torch.float32, low=0.2, high=2.0) * torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0])
    want = getattr(values.clone(), f"{name}_")()
    tensor = from_torch(values.clone())
    got = getattr(tensor, f"{name}_")()
    assert got is tensor, f"{name}_ must return self"
    assert_close(tensor, want, torch.float32, what=f"{name}_")
    # Recorded on a non-leaf: the gradient flows through the in-place op like torch's.
    leaf_torch, leaf_ours = values.clone().requires_grad_(), from_torch(values, requires_grad=True)
    for leaf in (leaf_torch, leaf_ours):
        result = getattr(leaf * 1.5, f"{name}_")()
        (result * result).sum().backward()
    assert_close(leaf_ours.grad, leaf_torch.grad, torch.float32, what=f"gradient through {name}_")


def test_floating_unary_in_place_on_integers_raises_like_torch():
    for lib in (torch, tritongrad):
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
            lib.tensor([1, 2]).exp_()
