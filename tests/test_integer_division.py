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


def test_empty_divisor_is_fine():
    empty = torch.empty(0, dtype=torch.int64)
    assert_close(from_torch(empty) // from_torch(empty), empty // empty)
