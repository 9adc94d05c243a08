"""Tensor factories (tritongrad/creation.py, kernels/creation.py) against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tritongrad
from tests.utils import ALL_DTYPES, DEVICE, FLOAT_DTYPES, assert_close, from_torch, make_pair, to_torch

# ------------------------------------------------------------------------------------------------
# tensor / as_tensor / from_numpy
# ------------------------------------------------------------------------------------------------

INFERENCE_CASES = [
    [1, 2, 3],  # ints -> int64
    [1.5, -2.0],  # floats -> float32
    [1, 2.5],  # mixed -> float32
    [True, False],  # bools -> bool
    [[1, 2], [3, 4]],  # nested ints
    [[True, 1], [0, 2]],  # bools and ints -> int64
    3,  # a Python int -> 0-dim int64
    2.5,  # a Python float -> 0-dim float32
    False,
    [],  # empty -> float32, shape (0,)
    [[], []],  # shape (2, 0)
]


@pytest.mark.parametrize("data", INFERENCE_CASES, ids=repr)
def test_tensor_infers_dtype_like_torch(data):
    got, expected = tritongrad.tensor(data), torch.tensor(data)
    assert_close(got, expected)
    assert got.device == DEVICE and not got.requires_grad and got.is_leaf


@pytest.mark.parametrize("array_dtype", [np.float64, np.float32, np.int32, np.int64, np.bool_, np.float16])
def test_tensor_from_numpy_keeps_dtype_and_copies(array_dtype):
    array = (np.arange(6).reshape(2, 3) - 2).astype(array_dtype)
    got, expected = tritongrad.tensor(array), torch.tensor(array)
    assert_close(got, expected)
    array[0, 0] = 1
    assert_close(got, expected, what="tensor() copies its input")


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_tensor_with_dtype_and_requires_grad(dtype):
    data = [[0.5, -1.25, 3.0], [2.0, 0.0, -7.5]]
    assert_close(tritongrad.tensor(data, dtype=dtype), torch.tensor(data, dtype=dtype))
    if dtype.is_floating_point:
        leaf = tritongrad.tensor(data, dtype=dtype, requires_grad=True)
        assert leaf.requires_grad and leaf.is_leaf and leaf.grad is None
    else:
        with pytest.raises(RuntimeError, match="floating point"):
            tritongrad.tensor(data, dtype=dtype, requires_grad=True)


def test_tensor_from_tensors_copies():
    source = tritongrad.tensor([1.0, 2.0, 3.0])
    copy = tritongrad.tensor(source)
    assert copy.data_ptr() != source.data_ptr()
    source.fill_(0.5)
    assert copy.tolist() == [1.0, 2.0, 3.0]
    assert_close(tritongrad.tensor(source, dtype=torch.float64), torch.full((3,), 0.5, dtype=torch.float64))
    # a list of 0-dim tensors, as in tutorials building a tensor from a loop
    items = [tritongrad.tensor(1.5), tritongrad.tensor(-2.0)]
    assert_close(tritongrad.tensor(items), torch.tensor([1.5, -2.0]))


def test_default_dtype_controls_inferred_floats():
    previous = tritongrad.get_default_dtype()
    try:
        tritongrad.set_default_dtype(torch.float64)
        assert tritongrad.tensor([1.5]).dtype == torch.float64
        assert tritongrad.zeros(2).dtype == torch.float64
        assert tritongrad.arange(0.0, 1.0, 0.5).dtype == torch.float64
        assert tritongrad.tensor([1]).dtype == torch.int64
        assert (tritongrad.tensor([1, 2]) / 2).dtype == torch.float64
    finally:
        tritongrad.set_default_dtype(previous)
    assert tritongrad.tensor([1.5]).dtype == torch.float32
    with pytest.raises(TypeError, match="floating"):
        tritongrad.set_default_dtype(torch.int64)


def test_from_numpy_shares_memory():
    array = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    shared = tritongrad.from_numpy(array)
    assert shared.dtype == torch.float32 and tuple(shared.shape) == (3, 4)
    assert shared.data_ptr() == array.ctypes.data
    array[1, 2] = 42.0
    assert shared[1, 2].item() == 42.0
    if DEVICE.type == "cpu":  # kernels run on the tensors' device: here the CPU
        shared.fill_(3.0)
        assert (array == 3.0).all()
    # a transposed (non-contiguous) array keeps its strides
    transposed = tritongrad.from_numpy(array.T)
    assert tuple(transposed.shape) == (4, 3) and not transposed.is_contiguous()


def test_as_tensor():
    x = tritongrad.tensor([1.0, 2.0])
    assert tritongrad.as_tensor(x) is x
    assert_close(tritongrad.as_tensor(x, dtype=torch.float64), torch.tensor([1.0, 2.0], dtype=torch.float64))
    array = np.ones(3, dtype=np.float64)
    shared = tritongrad.as_tensor(array)
    assert shared.dtype == torch.float64
    if DEVICE.type == "cpu":
        array[0] = 5.0
        assert shared[0].item() == 5.0, "as_tensor on a CPU numpy array shares memory, like torch"
    assert_close(tritongrad.as_tensor([1, 2]), torch.as_tensor([1, 2]))


# ------------------------------------------------------------------------------------------------
# empty / zeros / ones / full and the *_like forms
# ------------------------------------------------------------------------------------------------

FILL_SHAPES = [
    (),  # 0-dim
    (0,),  # empty
    (1,),  # one element
    (13, 17),  # primes
    (70_000,),  # more than one interpreter block
    (2, 0, 3),  # empty middle dim
]


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("shape", FILL_SHAPES, ids=str)
def test_zeros_ones(shape, dtype):
    assert_close(tritongrad.zeros(shape, dtype=dtype), torch.zeros(shape, dtype=dtype))
    assert_close(tritongrad.ones(shape, dtype=dtype), torch.ones(shape, dtype=dtype))
    if shape:
        assert_close(tritongrad.ones(*shape, dtype=dtype), torch.ones(*shape, dtype=dtype))


FULL_VALUES = [2.5, -7, True, 1e-3, 2**40 + 1, 0.1, float("inf"), float("nan")]


@pytest.mark.parametrize("value", FULL_VALUES, ids=repr)
def test_full_infers_dtype(value):
    assert_close(tritongrad.full((3, 4), value), torch.full((3, 4), value))


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_full_with_dtype(dtype):
    value = True if dtype == torch.bool else (5 if not dtype.is_floating_point else -1.375)
    assert_close(tritongrad.full((7, 3), value, dtype=dtype), torch.full((7, 3), value, dtype=dtype))
    assert_close(tritongrad.full((), value, dtype=dtype), torch.full((), value, dtype=dtype))


def test_full_float64_keeps_every_bit():
    assert_close(tritongrad.full((5,), 0.1, dtype=torch.float64), torch.full((5,), 0.1, dtype=torch.float64))
    big = 2**62 + 3
    assert_close(tritongrad.full((4,), big), torch.full((4,), big))


def test_empty_and_size_arguments():
    for args in [(2, 3), ((2, 3),), (torch.Size([2, 3]),), ([2, 3],)]:
        x = tritongrad.empty(*args)
        assert tuple(x.shape) == (2, 3) and x.dtype == torch.float32 and x.device == DEVICE
    assert tritongrad.empty(4, dtype=torch.int32).dtype == torch.int32
    assert tritongrad.empty(0).numel() == 0
    with pytest.raises(RuntimeError, match="negative dimension"):
        tritongrad.zeros(2, -1)
    with pytest.raises(TypeError):
        tritongrad.ones(2.5)
    assert tritongrad.zeros(3, requires_grad=True).requires_grad


@pytest.mark.parametrize("dtype", [torch.float16, torch.int32, torch.bool], ids=str)
def test_like_factories(dtype):
    x, tg_x = make_pair((4, 6), dtype, "transposed")
    for name in ("zeros_like", "ones_like"):
        got, expected = getattr(tritongrad, name)(tg_x), getattr(torch, name)(x)
        assert_close(got, expected, what=name)
        assert got.stride() == expected.stride(), (name, got.stride(), expected.stride())  # torch's preserve_format
    assert_close(tritongrad.full_like(tg_x, 1), torch.full_like(x, 1))
    assert_close(tritongrad.zeros_like(tg_x, dtype=torch.float64), torch.zeros_like(x, dtype=torch.float64))
    empty = tritongrad.empty_like(tg_x)
    assert empty.shape == x.shape and empty.dtype == dtype and empty.device == tg_x.device
    assert empty.stride() == torch.empty_like(x).stride()
    contiguous = tritongrad.zeros_like(tg_x, memory_format=tritongrad.contiguous_format)
    assert contiguous.is_contiguous()
    assert tg_x.new_zeros(2).dtype == dtype and tg_x.new_ones((1, 2)).shape == (1, 2)
    assert_close(tg_x.new_full((2,), 1), torch.ones(2, dtype=dtype))
    assert_close(tg_x.new_tensor([1, 0]), torch.tensor([1, 0], dtype=dtype))


def test_fill_kernels_write_only_inside_strided_views():
    base = torch.randn(6, 8)
    tg_base = from_torch(base)
    tg_base[1:5:2, ::3].fill_(9.0)
    base[1:5:2, ::3].fill_(9.0)
    assert_close(tg_base, base)
    tg_base.t()[2].zero_()
    base.t()[2].zero_()
    assert_close(tg_base, base)


# ------------------------------------------------------------------------------------------------
# arange / linspace / eye
# ------------------------------------------------------------------------------------------------

ARANGE_CASES = [
    (5,),
    (0,),
    (2, 9),
    (9, 2, -2),
    (-3, 3, 0.5),
    (0, 1, 0.1),  # the count comes from ceil((end - start) / step): 10 elements
    (1.0, 2.0, 0.3),
    (0, 70_001),  # more than one interpreter block
    (-5.5, 5),
    (10, 0, -3),
]


@pytest.mark.parametrize("args", ARANGE_CASES, ids=str)
def test_arange(args):
    assert_close(tritongrad.arange(*args), torch.arange(*args))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.int32, torch.bfloat16], ids=str)
def test_arange_with_dtype(dtype):
    assert_close(tritongrad.arange(-4, 11, 3, dtype=dtype), torch.arange(-4, 11, 3, dtype=dtype))
    assert_close(tritongrad.arange(7, dtype=dtype, requires_grad=dtype.is_floating_point),
                 torch.arange(7, dtype=dtype))  # fmt: skip


def test_arange_errors():
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        tritongrad.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        tritongrad.arange(0, 5, -1)


@pytest.mark.parametrize("steps", [0, 1, 2, 7, 100, 70_001])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_linspace(steps, dtype):
    for start, end in ((0.0, 1.0), (-3, 17.5), (5, -5)):
        expected = torch.linspace(start, end, steps, dtype=dtype)
        got = tritongrad.linspace(start, end, steps, dtype=dtype)
        assert_close(got, expected, what=f"linspace({start}, {end}, {steps})")
        if steps > 1:
            assert got[0].item() == expected[0].item() and got[-1].item() == expected[-1].item()


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.bool, torch.bfloat16], ids=str)
@pytest.mark.parametrize("n, m", [(1, None), (4, None), (3, 5), (5, 2), (0, 3)])
def test_eye(n, m, dtype):
    expected = torch.eye(n, dtype=dtype) if m is None else torch.eye(n, m, dtype=dtype)
    got = tritongrad.eye(n, dtype=dtype) if m is None else tritongrad.eye(n, m, dtype=dtype)
    assert_close(got, expected)


# ------------------------------------------------------------------------------------------------
# Random tensors
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_rand_range_shape_dtype(dtype):
    x = tritongrad.rand(100, 70, dtype=dtype)
    assert tuple(x.shape) == (100, 70) and x.dtype == dtype and x.device == DEVICE
    values = to_torch(x).double()
    assert float(values.min()) >= 0.0 and float(values.max()) <= 1.0
    assert float(values.max()) < 1.0 or dtype in (torch.float16, torch.bfloat16)  # [0, 1) before rounding
    assert abs(float(values.mean()) - 0.5) < 0.02
    assert len(torch.unique(values)) > (100 if dtype == torch.bfloat16 else 1000)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_randn_moments(dtype):
    values = to_torch(tritongrad.randn(20_000, dtype=dtype)).double()
    assert abs(float(values.mean())) < 0.05
    assert abs(float(values.std()) - 1.0) < 0.05
    assert float(values.abs().max()) < 6.5


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.float32], ids=str)
def test_randint(dtype):
    x = tritongrad.randint(-3, 5, (40, 50), dtype=dtype)
    assert tuple(x.shape) == (40, 50) and x.dtype == dtype
    values = to_torch(x)
    assert int(values.min()) == -3 and int(values.max()) == 4, "every value in [low, high) appears, none outside"
    default = tritongrad.randint(7, (300,))
    assert default.dtype == torch.int64
    assert set(to_torch(default).tolist()) == set(range(7))
    with pytest.raises(RuntimeError, match="less than"):
        tritongrad.randint(5, 5, (3,))


def test_random_reproducible_with_manual_seed():
    tritongrad.manual_seed(1234)
    first = [
        to_torch(tritongrad.rand(5, 7)),
        to_torch(tritongrad.randn(33)),
        to_torch(tritongrad.randint(0, 99, (9,))),
    ]
    tritongrad.manual_seed(1234)
    second = [
        to_torch(tritongrad.rand(5, 7)),
        to_torch(tritongrad.randn(33)),
        to_torch(tritongrad.randint(0, 99, (9,))),
    ]
    for a, b in zip(first, second):
        assert torch.equal(a, b), "the same seed must give the same numbers"
    third = to_torch(tritongrad.rand(5, 7))
    assert not torch.equal(third, first[0]), "consecutive draws must differ"
    tritongrad.manual_seed(4321)
    assert not torch.equal(to_torch(tritongrad.rand(5, 7)), first[0]), "a different seed must give other numbers"


def test_random_like_and_requires_grad():
    x, tg_x = make_pair((3, 4), torch.float64)
    for name in ("rand_like", "randn_like"):
        result = getattr(tritongrad, name)(tg_x)
        assert result.shape == x.shape and result.dtype == torch.float64
    assert tritongrad.randint_like(tg_x, 10).dtype == torch.float64
    leaf = tritongrad.randn(3, requires_grad=True)
    assert leaf.requires_grad and leaf.is_leaf
    assert tritongrad.rand(0).numel() == 0


def test_random_fills_strided_views_in_place():
    base = tritongrad.zeros(6, 8)
    column = base[:, 3]
    column.uniform_(2.0, 3.0)
    values = to_torch(base)
    assert bool(((values[:, 3] >= 2.0) & (values[:, 3] < 3.0)).all())
    values[:, 3] = 0
    assert bool((values == 0).all()), "only the view was written"


# ------------------------------------------------------------------------------------------------
# GPU
# ------------------------------------------------------------------------------------------------


@pytest.mark.gpu
def test_gpu_factories():
    assert_close(tritongrad.zeros(1000, 1001, device="cuda"), torch.zeros(1000, 1001, device="cuda"))
    assert_close(tritongrad.arange(1 << 20, device="cuda"), torch.arange(1 << 20, device="cuda"))
    assert_close(tritongrad.eye(300, device="cuda"), torch.eye(300, device="cuda"))
    x = tritongrad.randn(1 << 20, device="cuda")
    assert x.device.type == "cuda" and abs(x.mean().item()) < 0.01
