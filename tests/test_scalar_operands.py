"""Python numbers meeting tensors, against torch's CPU answers and errors.

torch converts a number to the operation's dtype before its kernel runs: beside a float16 tensor
``x == 0.3`` compares with float16(0.3) and ``x - 0.3`` subtracts it, while ``mul``, ``div`` and
``floor_divide`` read a number on the right in float32 (their kernels' opmath). Some conversions are
checked (``fill_``, clamp's bounds, add/sub's ``alpha``, pow's exponent, addcmul's ``value``, lerp's
weight, a ``where`` number outside the half types) and raise "value cannot be converted to type
c10::Half without overflow"; integers wrap into narrower integer tensors as C casts wrap them.
tritongrad does each conversion in one place (tritongrad/dtypes.py ``scalar_as``), and these tests
sweep the ops over dtypes and numbers chosen to expose rounding, overflow, -0.0, infinities and NaN.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils._python_dispatch import _disable_current_modes

import tritongrad
from tests.utils import assert_close, from_torch, to_torch

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int8, torch.int32, torch.int64, torch.bool]
NUMBERS = (0.3, 1 / 3, 1e-4, 65504.0, 70000.0, -0.0, math.inf, -math.inf, math.nan, 2**31, True, 3, -1, 300, 1e-8,
           3.5e38)  # fmt: skip


def _numbers_for(dtype: torch.dtype, numbers: tuple) -> tuple:
    """The numbers that tell a dtype's conversions apart: all of them for the half types; for the other
    dtypes the ones that round, overflow or change category there (keeping the sweep fast)."""
    if dtype in (torch.float16, torch.bfloat16):
        return numbers
    keep = (0.3, 1 / 3, -0.0, math.inf, math.nan, 2**31, True, -1, 3.5e38, 1e-8, 2.5)
    if not dtype.is_floating_point:
        keep = (0.3, -0.0, math.inf, math.nan, 2**31, True, -1, 300, 3, 3.5e38)
    return tuple(number for number in numbers if any(_identical(number, kept) for kept in keep))


def _identical(a, b) -> bool:
    return type(a) is type(b) and (a == b or (a != a and b != b)) and math.copysign(1, a) == math.copysign(1, b)


def _values(dtype: torch.dtype) -> torch.Tensor:
    """Elements next to the numbers (0.3 and 1/3 as the dtype holds them, -0.0, 65504, a float16
    subnormal), so that the number's rounding decides comparisons and differences."""
    if dtype == torch.bool:
        return torch.tensor([True, False, True, False, True])
    if dtype.is_floating_point:
        values = [0.3, 1 / 3, 1e-4, 65504.0, -0.0, 2.0, 3.0, -1.5, 0.1, 1e-8, 5.960464477539063e-08]
        return torch.tensor(values, dtype=torch.float64).to(dtype)
    return torch.tensor([1, 0, 3, -1, 100, 2, 127, 44], dtype=torch.int64).to(dtype)


def _strided(values: torch.Tensor) -> torch.Tensor:
    """``values`` as a non-contiguous view (every other element of a longer tensor)."""
    return torch.stack([values, values.flip(0)], dim=-1)[:, 0]


def _same(actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    """Bit-for-bit agreement: dtype, shape, values, NaN positions and the sign of zero."""
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype}, torch {expected.dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)}, torch {tuple(expected.shape)}"
    if expected.dtype.is_floating_point:
        got, want = actual.double(), expected.double()
        same = (got == want) | (got.isnan() & want.isnan())
        same &= (got.signbit() == want.signbit()) | want.isnan()
    else:
        same = actual == expected
    assert bool(same.all()), f"{what}: got {actual.tolist()}, torch {expected.tolist()}"


def _check(op, function, dtype: torch.dtype, numbers=NUMBERS, *, exact: bool = True, layout=None,
           every_number: bool = False) -> None:  # fmt: skip
    """``function(lib, tensor, number)`` on torch and tritongrad for each number (those that matter for
    ``dtype``, or ``every_number``): the same result (bit for bit when ``exact``, else within the
    dtype's tolerance) or the same error type and message."""
    values = _values(dtype)
    if layout is not None:
        values = layout(values)
    for number in numbers if every_number else _numbers_for(dtype, numbers):
        what = f"{op} on {dtype} with {number!r}"
        try:
            with _disable_current_modes():
                expected = function(torch, values.clone() if layout is None else layout(_values(dtype)), number)
        except Exception as error:  # noqa: BLE001 - torch's error is the oracle
            with pytest.raises(type(error)) as raised:
                function(tritongrad, from_torch(values), number)
            head = str(error).splitlines()[0][:70]
            assert head in str(raised.value), f"{what}: message {str(raised.value)!r}, torch {str(error)!r}"
            continue
        try:
            actual = to_torch(function(tritongrad, from_torch(values), number))
        except Exception as error:  # noqa: BLE001 - reported with the case
            raise AssertionError(f"{what}: raised {type(error).__name__}: {error}; torch returns {expected}") from None
        if exact:
            _same(actual, expected, what)
        else:
            assert_close(actual, expected, what=what)


# Ops whose result must equal torch's bit for bit. A torch-only spelling (torch.rsub) is given by
# the same name in tritongrad.
EXACT = {
    "add": lambda lib, t, v: t + v,
    "radd": lambda lib, t, v: v + t,
    "sub": lambda lib, t, v: t - v,
    "rsub": lambda lib, t, v: v - t,
    "torch.rsub": lambda lib, t, v: lib.rsub(t, v),
    "mul": lambda lib, t, v: t * v,
    "div": lambda lib, t, v: t / v,
    "rdiv": lambda lib, t, v: v / t,
    "floor_divide": lambda lib, t, v: t // v,
    "div_trunc": lambda lib, t, v: lib.div(t, v, rounding_mode="trunc"),
    "remainder": lambda lib, t, v: t % v,
    "rremainder": lambda lib, t, v: v % t,
    "fmod": lambda lib, t, v: lib.fmod(t, v),
    "eq": lambda lib, t, v: t == v,
    "ne": lambda lib, t, v: t != v,
    "lt": lambda lib, t, v: t < v,
    "le": lambda lib, t, v: lib.le(t, v),
    "gt": lambda lib, t, v: t > v,
    "ge": lambda lib, t, v: lib.ge(t, v),
    "add_alpha": lambda lib, t, v: lib.add(t, 2, alpha=v),
    "sub_alpha": lambda lib, t, v: lib.sub(t, 2, alpha=v),
    "clamp_min": lambda lib, t, v: lib.clamp(t, min=v),
    "clamp_max": lambda lib, t, v: t.clamp(max=v),
    "clamp": lambda lib, t, v: lib.clamp(t, min=v, max=v),
    "where_input": lambda lib, t, v: lib.where(t != t[0], v, t),
    "where_other": lambda lib, t, v: lib.where(t != t[0], t, v),
    "fill_": lambda lib, t, v: t.fill_(v),
    # in-place forms
    "add_": lambda lib, t, v: t.add_(v),
    "iadd": lambda lib, t, v: t.__iadd__(v),
    "sub_": lambda lib, t, v: t.sub_(v),
    "mul_": lambda lib, t, v: t.mul_(v),
    "div_": lambda lib, t, v: t.div_(v),
    "floor_divide_": lambda lib, t, v: t.floor_divide_(v),
    "remainder_": lambda lib, t, v: t.remainder_(v),
    "fmod_": lambda lib, t, v: t.fmod_(v),
    "clamp_": lambda lib, t, v: t.clamp_(min=v),
}


# torch's scalar loop (tensors shorter than two vectors) rounds alpha * other to the half type before
# adding it, its vectorized loop does not: alpha = 65504 on float16 is inf or finite by position.
NUMBERS_OF = {"add_alpha": tuple(v for v in NUMBERS if v != 65504.0)}
NUMBERS_OF["sub_alpha"] = NUMBERS_OF["add_alpha"]
# Spellings that reach the same conversion as another row (v + t is add, ne is eq's path, x += v is
# add_): a few numbers each, to keep the sweep's time down.
SHORT = (0.3, 1 / 3, -0.0, 70000.0, math.nan, 2**31, True, 300)
NUMBERS_OF.update(dict.fromkeys(("radd", "torch.rsub", "ne", "ge", "iadd", "mul_", "floor_divide_", "fmod_"), SHORT))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("op", list(EXACT))
def test_number_operand_matches_torch_exactly(op, dtype):
    _check(op, EXACT[op], dtype, NUMBERS_OF.get(op, NUMBERS))


# Ops whose values differ from torch's by rounding alone (pow's kernel, lerp's and add(alpha=)'s
# fused multiply-adds in torch's vectorized loops): their errors and overflow checks must still match.
CLOSE = {
    "pow": lambda lib, t, v: t**v,
    "rpow": lambda lib, t, v: v**t,
    "add_alpha_3": lambda lib, t, v: lib.add(t, v, alpha=3),
    "addcmul": lambda lib, t, v: lib.addcmul(t, t, t, value=v),
    "addcdiv": lambda lib, t, v: lib.addcdiv(t, t, t * 0 + 4, value=v),
    "lerp": lambda lib, t, v: lib.lerp(t, t * 2, v),
    "lerp_": lambda lib, t, v: t.lerp_(t * 2, v),
}

# Numbers that keep CLOSE's results finite and comparable at a relative tolerance (pow of 70000 or
# 1e-8 amplifies a one-ulp difference in the base), plus the ones that overflow a conversion.
CLOSE_NUMBERS = (0.3, -0.0, True, -1, 2.5, 65520.0, 2**31, 3.5e38)


@pytest.mark.parametrize("dtype", [dtype for dtype in DTYPES if dtype != torch.int32], ids=str)
@pytest.mark.parametrize("op", list(CLOSE))
def test_number_operand_matches_torch_within_rounding(op, dtype):
    _check(op, CLOSE[op], dtype, CLOSE_NUMBERS, exact=False)


@pytest.mark.parametrize("op", ["add", "sub", "eq", "lt", "clamp", "where_other", "fill_", "add_", "clamp_", "div_"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.int8], ids=str)
def test_number_operand_on_strided_input(op, dtype):
    _check(op, EXACT[op], dtype, (0.3, 1 / 3, -0.0, 70000.0, 300, math.nan), layout=_strided, every_number=True)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int16, torch.int8, torch.int32], ids=str)
def test_integer_numbers_overflowing_small_integer_tensors(dtype):
    """Checked conversions raise torch's overflow error; unchecked ones wrap as C casts (uint8 takes
    -1 as 255, an int8 divisor of 256 is zero)."""
    numbers = (-1, 255, 256, 300, -129, 2**15, 2**31, 2**31 - 1, -(2**31), 2**40)
    for op in ("add", "sub", "eq", "add_alpha", "clamp", "where_other", "fill_", "remainder", "floor_divide"):
        _check(op, EXACT[op], dtype, numbers, every_number=True)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64], ids=str)
def test_gradients_treat_the_number_as_a_constant(dtype):
    """The number's rounding changes the forward value, never the gradient formula (grad * number for
    mul, the clamp mask from the rounded bound, pow's exponent as given)."""
    values = torch.tensor([0.3, 1 / 3, 0.7, 1.5, 2.0], dtype=torch.float64).to(dtype)
    functions = {
        "add": lambda t: t + 0.3,
        "rsub": lambda t: 0.3 - t,
        "mul": lambda t: t * (1 / 3),
        "div": lambda t: t / 0.3,
        "clamp": lambda t: t.clamp(min=0.3, max=1 / 3 + 1),
        "pow": lambda t: t**0.3,
        "where": lambda t: t.where(t > 0.5, 0.3),
        "add_alpha": lambda t: t.add(t, alpha=0.3),
    }
    for name, function in functions.items():
        theirs = values.clone().requires_grad_()
        with _disable_current_modes():
            function(theirs).sum().backward()
        ours = from_torch(values, requires_grad=True)
        function(ours).sum().backward()
        assert_close(ours.grad, theirs.grad, what=f"{name}: gradient on {dtype}")


def test_zero_dim_tensor_of_another_dtype_is_cast_first():
    """A 0-dim float32 tensor beside a float16 tensor is cast to float16 before add and ==, as
    torch's TensorIterator does (mul reads it in float32)."""
    values = _values(torch.float16)
    for function in (lambda lib, t, s: t + s, lambda lib, t, s: t == s, lambda lib, t, s: t * s):
        for number in (0.3, 1 / 3, 70000.0):
            with _disable_current_modes():
                expected = function(torch, values, torch.tensor(number))
            actual = function(tritongrad, from_torch(values), tritongrad.tensor(number))
            _same(to_torch(actual), expected, f"float16 with tensor({number})")
