"""The Tensor class (tritongrad/tensor.py): metadata, readback, casts, copies, repr and error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import tritongrad
from tests.utils import ALL_DTYPES, DEVICE, assert_close, from_torch, make_pair, random_values

# ------------------------------------------------------------------------------------------------
# Metadata
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 5), (2, 3, 4, 5)], ids=str)
def test_metadata_matches_torch(shape):
    x, tg_x = make_pair(shape, torch.float16)
    assert tg_x.shape == x.shape and isinstance(tg_x.shape, torch.Size)
    assert tg_x.size() == x.size()
    for dim in range(-x.dim(), x.dim()):
        assert tg_x.size(dim) == x.size(dim)
    assert tg_x.ndim == tg_x.dim() == x.dim() == tg_x.ndimension()
    assert tg_x.numel() == tg_x.nelement() == x.numel()
    assert tg_x.dtype == x.dtype == tritongrad.float16 == tritongrad.half
    assert tg_x.device == DEVICE and tg_x.is_cuda == (DEVICE.type == "cuda")
    assert tg_x.stride() == x.stride() and tg_x.element_size() == 2
    assert tg_x.is_floating_point() and tg_x.is_contiguous()
    if x.dim():
        assert len(tg_x) == len(x)
    else:
        with pytest.raises(TypeError, match="0-d"):
            len(tg_x)


def test_transpose_properties():
    x, tg_x = make_pair((3, 5), torch.float32)
    assert_close(tg_x.T, x.T)
    assert_close(tg_x.mT, x.mT)
    assert tg_x.T.data_ptr() == tg_x.data_ptr()
    y, tg_y = make_pair((2, 3, 4), torch.float32)
    assert_close(tg_y.mT, y.mT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_close(tg_y.T, y.permute(2, 1, 0))
    with pytest.raises(RuntimeError, match="mT"):
        _ = from_torch(torch.randn(4)).mT


# ------------------------------------------------------------------------------------------------
# Readback: item, tolist, numpy, Python conversions
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_item_tolist_numpy(dtype):
    x, tg_x = make_pair((2, 3), dtype)
    assert tg_x.tolist() == x.tolist()
    assert tg_x[1, 2].item() == x[1, 2].item()
    assert type(tg_x[0, 0].item()) is type(x[0, 0].item())
    if dtype != torch.bfloat16:  # numpy has no bfloat16
        array = tg_x.cpu().numpy()
        np.testing.assert_array_equal(array, x.numpy())
        if DEVICE.type == "cpu":
            assert array.ctypes.data == tg_x.data_ptr(), "numpy() shares memory on the CPU, like torch"
    with pytest.raises(RuntimeError, match="a Tensor with 6 elements cannot be converted to Scalar"):
        tg_x.item()


def test_python_number_conversions():
    tg_x = tritongrad.tensor([2.75])
    assert float(tg_x) == 2.75 and int(tg_x) == 2 and bool(tg_x)
    assert list(range(tritongrad.tensor(3))) == [0, 1, 2], "__index__ lets an int tensor be a range bound"
    with pytest.raises(TypeError):
        range(tritongrad.tensor(3.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tritongrad.tensor([1.0, 2.0]))
    assert np.asarray(tritongrad.tensor([1.0, 2.0])).tolist() == [1.0, 2.0]


def test_numpy_of_a_tensor_requiring_grad_is_refused():
    leaf = tritongrad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        leaf.numpy()
    assert leaf.detach().numpy().tolist() == [1.0]


def test_iteration_unbinds_dim_0():
    x, tg_x = make_pair((3, 2), torch.float32)
    rows = list(tg_x)
    assert len(rows) == 3
    for got, expected in zip(rows, x):
        assert_close(got, expected)


# ------------------------------------------------------------------------------------------------
# Casts, device moves, contiguous, clone
# ------------------------------------------------------------------------------------------------

CAST_METHODS = {
    "float": torch.float32,
    "half": torch.float16,
    "double": torch.float64,
    "bfloat16": torch.bfloat16,
    "int": torch.int32,
    "long": torch.int64,
    "bool": torch.bool,
}


@pytest.mark.parametrize("source", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("method", list(CAST_METHODS))
def test_cast_methods(method, source):
    # floats in (-40, 40) with fractions: casts to int truncate toward zero, like torch
    x, tg_x = make_pair((4, 9), source, "transposed", low=-40, high=40)
    got = getattr(tg_x, method)()
    expected = getattr(x, method)()
    # a cast rounds once, as torch does: bit-exact
    assert_close(got, expected, rtol=0, atol=0, what=f"{source}.{method}()")
    assert_close(tg_x.to(CAST_METHODS[method]), expected, rtol=0, atol=0, what=f"to({CAST_METHODS[method]})")
    if CAST_METHODS[method] == source:
        assert got is tg_x, "a cast to the same dtype returns self, like torch"
    else:
        # a transposed source gives a transposed copy, as torch's casts keep a dense layout
        assert got.stride() == expected.stride(), (
            f"{source}.{method}(): strides {got.stride()}, torch {expected.stride()}"
        )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns about casting inf/nan
def test_cast_rounding_and_special_values():
    # ties of bfloat16 (1 + 2**-8, 1 + 3 * 2**-8) and float16 (1 + 2**-11) round to even
    ties = [1.0 + 2**-8, 1.0 + 3 * 2**-8, -(1.0 + 2**-8), 1.0 + 2**-11, 1.0 + 3 * 2**-11, 3.0e38]
    x = torch.tensor([1e-8, 65504.0, 70000.0, -1e30, float("inf"), float("nan"), 0.1, 1.0 + 2**-9, -0.0] + ties)
    tg_x = from_torch(x)
    for dtype in (torch.float16, torch.bfloat16, torch.float64):
        assert_close(tg_x.to(dtype), x.to(dtype), dtype=torch.float64, rtol=0, atol=0, what=f"to({dtype})")
    assert_close(tg_x.bool(), x.bool())


def test_to_variants():
    x, tg_x = make_pair((3,), torch.float32)
    assert tg_x.to(DEVICE) is tg_x and tg_x.to(str(DEVICE)) is tg_x
    assert tg_x.to(torch.float32) is tg_x
    copied = tg_x.to(torch.float32, copy=True)
    assert copied is not tg_x and copied.data_ptr() != tg_x.data_ptr()
    assert_close(copied, x)
    other = from_torch(torch.ones(2, dtype=torch.float64))
    assert_close(tg_x.to(other), x.to(other.dtype))
    assert_close(tg_x.to(dtype=torch.int64), x.to(dtype=torch.int64))
    assert_close(tg_x.type(torch.float16), x.type(torch.float16))
    assert_close(tg_x.type_as(other), x.type_as(torch.ones(1, dtype=torch.float64)))
    assert tg_x.type() == x.type()
    assert tg_x.cpu().device.type == "cpu"
    with pytest.raises(TypeError):
        tg_x.to(3.5)


def test_to_another_device_is_a_copy():
    x, tg_x = make_pair((2, 3), torch.float32)
    moved = tg_x.to("meta") if DEVICE.type == "cpu" else tg_x.cpu()
    assert moved.device != tg_x.device and moved.shape == tg_x.shape and moved.dtype == tg_x.dtype


def test_cast_is_differentiable():
    x, tg_x = make_pair((5,), torch.float32, requires_grad=True)
    y = tg_x.double() * 3
    assert y.dtype == torch.float64 and y.grad_fn is not None
    y.sum().backward()
    (x.double() * 3).sum().backward()
    assert_close(tg_x.grad, x.grad)


def test_contiguous_and_clone():
    x, tg_x = make_pair((4, 6), torch.float32, "transposed", requires_grad=True)
    assert not tg_x.is_contiguous()
    made = tg_x.contiguous()
    assert made.is_contiguous() and made.data_ptr() != tg_x.data_ptr()
    assert made.grad_fn.name() == x.contiguous().grad_fn.name()
    assert_close(made, x.contiguous())
    assert made.contiguous() is made, "contiguous() of a contiguous tensor is the tensor itself"
    cloned = made.clone()
    assert cloned.data_ptr() != made.data_ptr() and cloned.grad_fn.name() == "CloneBackward0"
    (cloned * from_torch(torch.arange(24.0).reshape(6, 4).t())).sum().backward()
    (x.contiguous().clone() * torch.arange(24.0).reshape(6, 4).t()).sum().backward()
    assert_close(tg_x.grad, x.grad)


def test_clone_keeps_dtype_and_values_of_every_layout():
    for layout in ("contiguous", "transposed", "sliced", "expanded"):
        x, tg_x = make_pair((3, 5), torch.bfloat16, layout)
        cloned = tg_x.clone()
        expected = x.clone()
        assert_close(cloned, expected, what=f"clone of {layout}")
        assert cloned.stride() == expected.stride(), (layout, cloned.stride(), expected.stride())  # preserve_format


# ------------------------------------------------------------------------------------------------
# repr / format
# ------------------------------------------------------------------------------------------------


def repr_cases(lib):
    leaf = lib.tensor([[1.0, -2.5, 3.0], [4.0, 5.0, 6.25]], requires_grad=True)
    return [
        leaf,
        leaf * 2,
        (leaf * 2).sum(),
        lib.tensor([1, 2, 3]),
        lib.tensor(3.5),
        lib.tensor([True, False]),
        lib.tensor([1.5, 2.0], dtype=lib.float64),
        lib.tensor([1e10, 1.0]),
        lib.tensor([], dtype=lib.float32),
    ]


def test_repr_matches_torch():
    for got, expected in zip(repr_cases(tritongrad), repr_cases(torch)):
        assert repr(got) == repr(expected)
        assert str(got) == str(expected)


def test_format_of_zero_dim_tensors_is_the_number():
    assert f"{tritongrad.tensor(2.5)}" == f"{torch.tensor(2.5)}" == "2.5"
    assert f"{tritongrad.tensor(2.5):.3f}" == "2.500"
    assert f"{tritongrad.tensor(7):>4}" == "   7"
    assert f"loss {tritongrad.tensor([1.0, 2.0]).sum():.2f}" == "loss 3.00"


# ------------------------------------------------------------------------------------------------
# Error messages
# ------------------------------------------------------------------------------------------------


def test_shapes_that_do_not_broadcast():
    tg_a, tg_b = from_torch(torch.randn(2, 3)), from_torch(torch.randn(4))
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(4\)"):
        tg_a * tg_b


def test_device_mismatch():
    """A tensor on another device (a "meta" tensor stands in for a GPU one on a CPU-only machine)."""
    other_device = "meta" if DEVICE.type == "cpu" else "cpu"
    tg_a = tritongrad.Tensor._wrap(torch.empty(3, device=other_device))
    tg_b = from_torch(torch.randn(3))
    with pytest.raises(RuntimeError, match="expected all tensors to be on the same device"):
        tg_a + tg_b
    with pytest.raises(RuntimeError, match="expected all tensors to be on the same device"):
        tritongrad.where(from_torch(torch.rand(3) > 0.5), tg_a, tg_b)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.transpose(0, 3),
        lambda x: x.unsqueeze(4),
        lambda x: x.size(-4),
        lambda x: x.squeeze(3),
        lambda x: x.select(3, 0),
        lambda x: x.permute(0, 1, 3),
        lambda x: x.flatten(0, 5),
        lambda x: x.narrow(-5, 0, 1),
    ],
)
def test_invalid_dims(call):
    tg_x = from_torch(torch.randn(2, 3, 4))
    with pytest.raises(IndexError, match="Dimension out of range"):
        call(tg_x)


def test_view_of_a_non_viewable_layout():
    x = torch.randn(3, 4)
    tg_x = from_torch(x).t()
    with pytest.raises(RuntimeError, match=r"view.*reshape"):
        tg_x.view(12)
    assert_close(tg_x.reshape(12), x.t().reshape(12))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.bool], ids=str)
def test_requires_grad_on_integer_tensors(dtype):
    tg_x = from_torch(random_values((3,), dtype))
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        tg_x.requires_grad_()
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype can require gradients"):
        tg_x.requires_grad = True


def test_requires_grad_of_non_leaf():
    tg_y = from_torch(torch.randn(3), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        tg_y.requires_grad = False


def test_bad_operand_types():
    tg_x = from_torch(torch.randn(3))
    with pytest.raises(TypeError):
        tg_x + "a"
    with pytest.raises(TypeError):
        tritongrad.add("a", 2)
    # Two numbers are fine, as in torch: the first becomes a 0-d tensor.
    for a, b in ((1, 2), (1.5, 2), (True, 3)):
        ours, theirs = tritongrad.add(a, b), torch.add(a, b)
        assert ours.dtype == theirs.dtype and ours.item() == theirs.item()
