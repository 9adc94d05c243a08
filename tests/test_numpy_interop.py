"""numpy interop as torch's: numpy scalars are Python numbers in arithmetic, arrays convert both ways.

torch treats a numpy scalar operand like the Python number it holds (``t * np.float32(2)``
keeps ``t``'s float32 and its graph), on either side of the operator; tritongrad does the same,
and also for 0-d arrays (torch refuses those beside a tensor that requires grad; tritongrad
treats them as the scalars they are). Every expected value, dtype and gradient comes from torch.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tests.utils import assert_close, from_torch, random_values, to_torch

NUMPY_SCALARS = {
    "float64": lambda: np.float64(1.75),
    "float32": lambda: np.float32(-0.5),
    "float16": lambda: np.float16(2.5),
    "int64": lambda: np.int64(3),
    "int32": lambda: np.int32(-2),
    "uint8": lambda: np.uint8(5),
    "bool": lambda: np.bool_(True),
}

OPERATORS = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "pow": operator.pow,
    "lt": operator.lt,
    "ge": operator.ge,
    "eq": operator.eq,
}


@pytest.mark.parametrize("op_name", list(OPERATORS))
@pytest.mark.parametrize("scalar_name", list(NUMPY_SCALARS))
@pytest.mark.parametrize("tensor_dtype", [torch.float32, torch.float64, torch.int64])
@pytest.mark.parametrize("scalar_first", [False, True], ids=["tensor_op_scalar", "scalar_op_tensor"])
def test_numpy_scalar_operand_matches_torch(op_name, scalar_name, tensor_dtype, scalar_first):
    op, scalar = OPERATORS[op_name], NUMPY_SCALARS[scalar_name]()
    values = random_values((5,), tensor_dtype, low=0.5, high=3.0)
    differentiable = tensor_dtype.is_floating_point and op_name not in ("lt", "ge", "eq")
    expected_input = values.clone().requires_grad_(differentiable)
    ours_input = from_torch(values, requires_grad=differentiable)

    def apply(x):
        return op(scalar, x) if scalar_first else op(x, scalar)

    try:
        expected = apply(expected_input)
    except Exception as error:  # torch refuses the pair: so must tritongrad, with the same kind of error
        with pytest.raises(type(error)):
            apply(ours_input)
        return
    result = apply(ours_input)
    assert isinstance(result, tritongrad.Tensor), f"{op_name} with {scalar_name} gave a {type(result).__name__}"
    assert_close(result, expected)
    if differentiable:
        assert type(result.grad_fn).__name__ == type(expected.grad_fn).__name__ or (
            result.grad_fn.name() == expected.grad_fn.name()
        ), f"grad_fn {result.grad_fn.name()} != {expected.grad_fn.name()}"
        weights = random_values(tuple(expected.shape), expected.dtype)
        (expected * weights).sum().backward()
        (result * from_torch(weights)).sum().backward()
        assert_close(ours_input.grad, expected_input.grad)


# A numpy array beside a tensor in an operator: torch's operator declines it and numpy's reflected
# one runs (numpy's dtype rules, 0-d arrays included; a tensor requiring grad refused); an array on
# the left, an ordering comparison or a bfloat16 tensor is a TypeError; == takes it as a tensor.
ARRAY_OPERANDS = {
    "x + array": lambda lib: lib.tensor([1.0, 2.0, 3.0]) + np.array([0.5, 1.5, 2.5]),
    "x * 0-d float64 array": lambda lib: lib.tensor([1.0, 2.0, 3.0]) * np.array(2.5),
    "int8 * 0-d int64 array": lambda lib: lib.tensor([1, 2], dtype=torch.int8) * np.array(2),
    "float32 - 0-d int array": lambda lib: lib.ones(2) - np.array(1),
    "int64 / 0-d int array": lambda lib: lib.tensor([1, 3]) / np.array(2),
    "x ** 0-d array": lambda lib: lib.tensor([1.0, 2.0]) ** np.array(2.0),
    "x // array": lambda lib: lib.tensor([3.0, -3.0, 5.0]) // np.array(2.0),
    "x % array": lambda lib: lib.tensor([3.0, -3.0, 5.0]) % np.array([2.0, 2.0, 3.0]),
    "x @ array": lambda lib: lib.ones(2, 3) @ np.ones((3, 2), dtype=np.float32),
    "int32 & 0-d array": lambda lib: lib.tensor([1, 3], dtype=torch.int32) & np.array(1),
    "float & array (numpy refuses)": lambda lib: lib.ones(2) & np.array(1),
    "requires grad * array": lambda lib: lib.ones(2, requires_grad=True) * np.array(1.5),
    "bfloat16 * array": lambda lib: lib.ones(2, dtype=torch.bfloat16) * np.array(1.5),
    "array * x": lambda lib: np.array([1.5]) * lib.ones(2),
    "0-d array + x": lambda lib: np.array(1.5) + lib.ones(2),
    "x > array": lambda lib: lib.ones(2) > np.array([1.0, 2.0]),
    "x == 0-d array": lambda lib: lib.ones(2) == np.array(1.0),
    "x += array rebinds": lambda lib: (lambda x: (x.__iadd__(np.array([1.0, 2.0])) is NotImplemented, x))(lib.ones(2)),
}


@pytest.mark.parametrize("case", list(ARRAY_OPERANDS))
def test_array_operands_as_torch(case):
    agree(case, ARRAY_OPERANDS[case], [])


def test_functions_take_numpy_scalars():
    x = from_torch(torch.tensor([1.0, -2.0, 3.0]))
    assert_close(x.add(np.float64(1.0)), torch.tensor([2.0, -1.0, 4.0]))
    assert_close(x.mul(np.int64(2)), torch.tensor([2.0, -4.0, 6.0]))
    assert_close(tritongrad.full((2,), np.float32(1.5)), torch.full((2,), np.float32(1.5)))
    assert tritongrad.zeros(np.int64(3), np.int32(2)).shape == (3, 2)


NUMPY_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.uint8, np.int16, np.int32, np.int64, np.bool_]


@pytest.mark.parametrize("numpy_dtype", NUMPY_DTYPES, ids=lambda d: np.dtype(d).name)
def test_dtype_mapping_both_ways(numpy_dtype):
    array = (np.arange(-3, 4) % 2 == 0) if numpy_dtype is np.bool_ else np.arange(-3, 4).astype(numpy_dtype)
    for make in ("tensor", "from_numpy", "as_tensor"):
        ours, theirs = getattr(tritongrad, make)(array), getattr(torch, make)(array)
        assert ours.dtype == theirs.dtype, f"{make}: {ours.dtype} != {theirs.dtype}"
        assert ours.tolist() == theirs.tolist()
        back = ours.numpy()
        assert back.dtype == array.dtype and np.array_equal(back, array)
        assert np.asarray(ours).dtype == array.dtype


def test_from_numpy_shares_memory_and_numpy_round_trips():
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = tritongrad.from_numpy(array)
    if x.device.type == "cpu":
        array[0, 0] = 10.0
        assert x[0, 0].item() == 10.0, "from_numpy must share memory with the array on the CPU"
        assert np.shares_memory(x.numpy(), array)
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    y = tritongrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        y.numpy()
    assert np.array_equal(y.detach().numpy(), np.array([1.0, 2.0], dtype=np.float32))


def test_tensor_of_numpy_scalars_keeps_their_dtype():
    for value in (np.float64(2.0), np.float32(2.0), np.int32(2), np.bool_(False)):
        assert tritongrad.tensor(value).dtype == torch.tensor(value).dtype
    assert tritongrad.tensor([np.float32(1.0), np.float32(2.0)]).dtype == torch.float32
    assert_close(to_torch(tritongrad.tensor(np.array(3.0))), torch.tensor(np.array(3.0)))
