"""Type promotion (tritongrad/dtypes.py) against torch.promote_types / torch.result_type.

No kernels run here: promotion is pure Python over dtypes, so every pair is checked.
"""

from __future__ import annotations

import itertools

import pytest
import torch

import tritongrad
from tritongrad import dtypes


class Operand:
    """What result_type looks at: a dtype and a number of dims (no memory needed)."""

    def __init__(self, dtype: torch.dtype, ndim: int) -> None:
        self.dtype, self.ndim = dtype, ndim


def torch_operand(dtype: torch.dtype, ndim: int) -> torch.Tensor:
    return torch.ones((2,) * ndim, dtype=dtype)


PAIRS = list(itertools.product(dtypes.SUPPORTED, repeat=2))


@pytest.mark.parametrize("a, b", PAIRS, ids=str)
def test_promote_types_every_pair(a, b):
    assert tritongrad.promote_types(a, b) == torch.promote_types(a, b)


@pytest.mark.parametrize("ndims", [(1, 1), (0, 1), (1, 0), (0, 0)], ids=str)
def test_result_type_of_two_tensors(ndims):
    for a, b in PAIRS:
        expected = torch.result_type(torch_operand(a, ndims[0]), torch_operand(b, ndims[1]))
        got = dtypes.result_type(Operand(a, ndims[0]), Operand(b, ndims[1]))
        assert got == expected, f"result_type({a} {ndims[0]}-d, {b} {ndims[1]}-d): {got} != torch's {expected}"


@pytest.mark.parametrize("scalar", [True, 3, -2, 2.5], ids=repr)
@pytest.mark.parametrize("ndim", [0, 1])
def test_result_type_with_a_python_scalar(scalar, ndim):
    for dtype in dtypes.SUPPORTED:
        expected = torch.result_type(torch_operand(dtype, ndim), scalar)
        assert dtypes.result_type(Operand(dtype, ndim), scalar) == expected, (dtype, ndim, scalar)
        assert dtypes.result_type(scalar, Operand(dtype, ndim)) == expected, (scalar, dtype, ndim)


def test_result_type_of_three_tiers():
    """Tensors with dims decide unless a 0-dim tensor or scalar is of a higher category."""
    cases = [
        ((torch.int32, 1), (torch.float64, 0), 2.5),
        ((torch.int32, 1), (torch.int64, 0), 2.5),
        ((torch.bool, 1), (torch.int32, 0), True),
        ((torch.bool, 1), (torch.float16, 0), 3),
        ((torch.uint8, 1), (torch.int8, 0), 1),
        ((torch.float16, 1), (torch.bfloat16, 0), 1.0),
    ]
    for (dtype_a, ndim_a), (dtype_b, ndim_b), scalar in cases:
        expected = (torch_operand(dtype_a, ndim_a) + torch_operand(dtype_b, ndim_b) + scalar).dtype
        got = dtypes.result_type(Operand(dtype_a, ndim_a), Operand(dtype_b, ndim_b), scalar)
        assert got == expected, (dtype_a, dtype_b, scalar)


def test_default_dtype_decides_python_floats():
    previous = tritongrad.get_default_dtype()
    try:
        tritongrad.set_default_dtype(torch.float64)
        assert dtypes.result_type(Operand(torch.int32, 1), 2.5) == torch.float64
        assert dtypes.result_type(Operand(torch.float16, 1), 2.5) == torch.float16
        assert tritongrad.result_type(2.5, 1) == torch.float64
    finally:
        tritongrad.set_default_dtype(previous)
    assert tritongrad.get_default_dtype() == torch.float32


def test_scalar_and_category_helpers():
    assert dtypes.scalar_dtype(True) == torch.bool
    assert dtypes.scalar_dtype(7) == torch.int64
    assert dtypes.scalar_dtype(0.5) == torch.float32
    with pytest.raises(TypeError, match="str"):
        dtypes.scalar_dtype("1")
    assert [dtypes.category(d) for d in (torch.bool, torch.int8, torch.bfloat16)] == [0, 1, 2]


def test_dtype_aliases_are_torch_dtypes():
    aliases = {
        "float": torch.float32, "float32": torch.float32, "half": torch.float16, "float16": torch.float16,
        "bfloat16": torch.bfloat16, "double": torch.float64, "float64": torch.float64, "int": torch.int32,
        "int32": torch.int32, "long": torch.int64, "int64": torch.int64, "short": torch.int16,
        "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool,
    }  # fmt: skip
    for name, dtype in aliases.items():
        assert getattr(tritongrad, name) is dtype, name
