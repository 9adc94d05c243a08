"""Integer division, floor division, remainder and fmod by zero raise torch's CPU error
(RuntimeError: ZeroDivisionError); without a zero divisor they match torch."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch

OPS = {
    "floor_divide": lambda lib, a, b: lib.floor_divide(a, b),
    "//": lambda lib, a, b: a // b,
    "div floor": lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
    "div trunc": lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
    "remainder": lambda lib, a, b: lib.remainder(a, b),
    "%": lambda lib, a, b: a % b,
    "fmod": lambda lib, a, b: lib.fmod(a, b),
}


def _operands(dtype, zero_at):
    generator = torch.Generator().manual_seed(0)
    a = torch.randint(-50, 50, (4, 7), generator=generator, dtype=dtype)
    b = torch.randint(1, 9, (7,), generator=generator, dtype=dtype) * torch.where(
        torch.rand(7, generator=generator) > 0.5, 1, -1
    ).to(dtype)
    if zero_at is not None:
        b[zero_at] = 0
    return a, b


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", [torch.int32, torch.int64])
def test_no_zero_divisor_matches_torch(op, dtype):
    a, b = _operands(dtype, None)
    expected = OPS[op](torch, a, b)
    assert_close(OPS[op](tritongrad, from_torch(a), from_torch(b)), expected)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("zero_at", [0, 6])
def test_zero_in_a_tensor_divisor_raises(op, zero_at):
    a, b = _operands(torch.int64, zero_at)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        OPS[op](torch, a, b)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        OPS[op](tritongrad, from_torch(a), from_torch(b))


@pytest.mark.parametrize("op", OPS)
def test_zero_number_divisor_raises(op):
    a, _ = _operands(torch.int32, None)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        OPS[op](tritongrad, from_torch(a), 0)


def test_number_divided_by_a_tensor_with_a_zero_raises():
    _, b = _operands(torch.int64, 3)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        5 // from_torch(b)


@pytest.mark.parametrize("op", OPS)
def test_floating_division_by_zero_is_not_an_error(op):
    a, b = _operands(torch.int64, 2)
    expected = OPS[op](torch, a.double(), b.double())
    assert_close(OPS[op](tritongrad, from_torch(a.double()), from_torch(b.double())), expected)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize(
    "dividend, divisor",
    [
        (torch.empty(0, dtype=torch.int64), torch.empty(0, dtype=torch.int64)),
        (torch.empty(0, dtype=torch.int64), 0),
        (torch.empty(0, dtype=torch.int32), torch.zeros(1, dtype=torch.int32)),
        (torch.empty(3, 0, dtype=torch.int64), torch.zeros(3, 1, dtype=torch.int64)),
        (torch.tensor(5), torch.zeros(0, dtype=torch.int64)),
    ],
    ids=["both empty", "empty by number 0", "empty by [0]", "(3, 0) by (3, 1) zeros", "scalar by empty"],
)
def test_an_empty_result_divides_nothing(op, dividend, divisor):
    """torch divides nothing when the broadcast result is empty, so a zero divisor is no error."""
    ours = from_torch(divisor) if isinstance(divisor, torch.Tensor) else divisor
    assert_close(OPS[op](tritongrad, from_torch(dividend), ours), OPS[op](torch, dividend, divisor))


# Every integer dtype and every form: functions, operators, methods in place, out=, a number divisor.
INTEGER_DTYPES = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]
FORMS = {
    **OPS,
    "//=": lambda lib, a, b: a.__ifloordiv__(b),
    "%=": lambda lib, a, b: a.__imod__(b),
    "div_ floor": lambda lib, a, b: a.div_(b, rounding_mode="floor"),
    "div_ trunc": lambda lib, a, b: a.div_(b, rounding_mode="trunc"),
    "floor_divide_": lambda lib, a, b: a.floor_divide_(b),
    "remainder_": lambda lib, a, b: a.remainder_(b),
    "fmod_": lambda lib, a, b: a.fmod_(b),
    "floor_divide out": lambda lib, a, b: lib.floor_divide(a, b, out=lib.empty(a.shape, dtype=a.dtype)),
    "remainder out": lambda lib, a, b: lib.remainder(a, b, out=lib.empty(a.shape, dtype=a.dtype)),
    "fmod out": lambda lib, a, b: lib.fmod(a, b, out=lib.empty(a.shape, dtype=a.dtype)),
    "div floor out": lambda lib, a, b: lib.div(a, b, rounding_mode="floor", out=lib.empty(a.shape, dtype=a.dtype)),
    "div trunc out": lambda lib, a, b: lib.div(a, b, rounding_mode="trunc", out=lib.empty(a.shape, dtype=a.dtype)),
    "// a 0-d zero": lambda lib, a, b: a // lib.zeros((), dtype=a.dtype),
    "// an expanded zero": lambda lib, a, b: a // b[..., 1:2].expand(b.shape),
    "// 0": lambda lib, a, b: a // 0,
    "% 0": lambda lib, a, b: a % 0,
    "fmod(a, 0)": lambda lib, a, b: lib.fmod(a, 0),
    "remainder(a, 0)": lambda lib, a, b: lib.remainder(a, 0),
    "5 // b": lambda lib, a, b: 5 // b,
    "5 % b": lambda lib, a, b: 5 % b,
}


def _signed_operands(dtype, zero: bool):
    generator = torch.Generator().manual_seed(1)
    low = 0 if dtype == torch.uint8 else -50
    a = torch.randint(low, 50, (3, 5), generator=generator).to(dtype)
    b = torch.randint(1, 9, (5,), generator=generator).to(dtype)
    if dtype != torch.uint8:
        b = b * torch.tensor([1, -1, 1, -1, -1], dtype=dtype)
    if zero:
        b[1] = 0
    return a, b


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("dtype", INTEGER_DTYPES, ids=str)
@pytest.mark.parametrize("zero", [False, True], ids=["nonzero", "zero"])
def test_every_form_and_dtype_matches_torch(form, dtype, zero):
    """torch raises RuntimeError("ZeroDivisionError") for any zero integer divisor; otherwise the
    values (and, in place, the written tensor) agree."""
    a, b = _signed_operands(dtype, zero)
    expected_a = a.clone()
    try:
        expected = FORMS[form](torch, expected_a, b)
    except RuntimeError as error:
        ours_a = from_torch(a)
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            FORMS[form](tritongrad, ours_a, from_torch(b))
        assert "ZeroDivisionError" in str(error)
        assert_close(ours_a, a, what=f"{form}: a refused division leaves the tensor untouched")
        return
    ours_a = from_torch(a)
    assert_close(FORMS[form](tritongrad, ours_a, from_torch(b)), expected, what=form)
    assert_close(ours_a, expected_a, what=f"{form}: the dividend afterwards")


def test_floor_division_assignment_writes_through_views():
    """``x //= y`` is in place: a view of x sees the quotient (Python would otherwise rebind x)."""
    base = from_torch(torch.tensor([7, -7, 9, 4]))
    view = base[1:]
    view //= 2
    view %= 3
    assert base.tolist() == [7, (-7 // 2) % 3, (9 // 2) % 3, (4 // 2) % 3]
