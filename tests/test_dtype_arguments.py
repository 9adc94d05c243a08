"""A ``dtype`` argument as torch's parser reads it (tritongrad.dtypes.as_dtype), at every entry point.

torch takes the Python types float, int and bool (and complex) wherever it takes a dtype:
``x.to(float)`` is float64, ``arange(3, dtype=int)`` int64. Each row runs the same call through
torch and tritongrad and compares the result's dtype (and its values where they are deterministic);
numpy types, which torch refuses, must be refused with the same exception type. Inputs are tiny:
every row launches at most a few kernels.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch

import tritongrad
import tritongrad.nn.functional as tg_functional
from tests.utils import assert_close, to_torch

TORCH = types.SimpleNamespace(t=torch, F=torch.nn.functional)
TRITONGRAD = types.SimpleNamespace(t=tritongrad, F=tg_functional)
VALUES = [[1.5, 2.5, -1.0], [0.25, -3.5, 4.0]]

# id -> (call(lib, x), whether values are compared: False for random or freshly initialised results)
CALLS = {
    "to(float)": (lambda L, x: x.to(float), True),
    "to(int)": (lambda L, x: x.to(int), True),
    "to(bool)": (lambda L, x: x.to(bool), True),
    "to(dtype=int)": (lambda L, x: x.to(dtype=int), True),
    "to(device, float)": (lambda L, x: x.to("cpu", float), True),
    "to(device, dtype=int)": (lambda L, x: x.to(x.device, dtype=int), True),
    "tensor(1.5).to(int)": (lambda L, x: L.t.tensor(1.5).to(int), True),
    "view(int)": (lambda L, x: L.t.tensor([1.5, 2.5]).view(int), False),  # (the bits: compared below)
    "tensor(dtype=float)": (lambda L, x: L.t.tensor([1, 2], dtype=float), True),
    "as_tensor(dtype=float)": (lambda L, x: L.t.as_tensor([1, 2], dtype=float), True),
    "scalar_tensor(dtype=int)": (lambda L, x: L.t.scalar_tensor(3, dtype=int), True),
    "zeros(dtype=float)": (lambda L, x: L.t.zeros(2, dtype=float), True),
    "ones(dtype=bool)": (lambda L, x: L.t.ones(2, dtype=bool), True),
    "full(dtype=float)": (lambda L, x: L.t.full((2,), 1, dtype=float), True),
    "empty(dtype=int).shape": (lambda L, x: L.t.empty(2, dtype=int), False),
    "arange(dtype=float)": (lambda L, x: L.t.arange(3, dtype=float), True),
    "arange(dtype=int)": (lambda L, x: L.t.arange(0.0, 3.0, dtype=int), True),
    "linspace(dtype=float)": (lambda L, x: L.t.linspace(0, 1, 3, dtype=float), True),
    "logspace(dtype=float)": (lambda L, x: L.t.logspace(0, 1, 3, dtype=float), True),
    "eye(dtype=int)": (lambda L, x: L.t.eye(2, dtype=int), True),
    "tril_indices(dtype=int)": (lambda L, x: L.t.tril_indices(3, 3, dtype=int), True),
    "full_like(dtype=int)": (lambda L, x: L.t.full_like(x, 2, dtype=int), True),
    "zeros_like(dtype=float)": (lambda L, x: L.t.zeros_like(x, dtype=float), True),
    "new_zeros(dtype=int)": (lambda L, x: x.new_zeros(2, dtype=int), True),
    "new_tensor(dtype=int)": (lambda L, x: x.new_tensor([1], dtype=int), True),
    "randn(dtype=float)": (lambda L, x: L.t.randn(2, dtype=float), False),
    "rand_like(dtype=float)": (lambda L, x: L.t.rand_like(x, dtype=float), False),
    "randint(dtype=float)": (lambda L, x: L.t.randint(0, 3, (2,), dtype=float), False),
    "normal(dtype=float)": (lambda L, x: L.t.normal(0.0, 1.0, (2,), dtype=float), False),
    "sum(dtype=float)": (lambda L, x: x.sum(dtype=float), True),
    "torch.sum(x, 0, dtype=int)": (lambda L, x: L.t.sum(x, 0, dtype=int), True),
    "mean(dtype=float)": (lambda L, x: x.mean(dtype=float), True),
    "prod(dtype=float)": (lambda L, x: x.prod(dtype=float), True),
    "prod(0, dtype=int)": (lambda L, x: x.prod(0, dtype=int), True),
    "nansum(dtype=float)": (lambda L, x: x.nansum(dtype=float), True),
    "nanmean(dtype=float)": (lambda L, x: x.nanmean(dtype=float), True),
    "norm(dtype=float)": (lambda L, x: x.norm(dtype=float), True),
    "cumsum(0, dtype=int)": (lambda L, x: x.cumsum(0, dtype=int), True),
    "cumprod(1, dtype=float)": (lambda L, x: L.t.cumprod(x, 1, dtype=float), True),
    "softmax(0, dtype=float)": (lambda L, x: x.softmax(0, dtype=float), True),
    "log_softmax(1, dtype=float)": (lambda L, x: x.log_softmax(1, dtype=float), True),
    "torch.softmax(dtype=float)": (lambda L, x: L.t.softmax(x, 0, dtype=float), True),
    "F.softmax(dtype=float)": (lambda L, x: L.F.softmax(x, 0, dtype=float), True),
    "F.log_softmax(dtype=float)": (lambda L, x: L.F.log_softmax(x, 0, dtype=float), True),
    "F.softmin(dtype=float)": (lambda L, x: L.F.softmin(x, 0, dtype=float), True),
    "Linear.to(float)": (lambda L, x: L.t.nn.Linear(2, 2).to(float).weight, False),
    "Linear.to(device, float)": (lambda L, x: L.t.nn.Linear(2, 2).to("cpu", float).bias, False),
    "Linear(dtype=float)": (lambda L, x: L.t.nn.Linear(2, 2, dtype=float).weight, False),
    "promote_types(float, int)": (lambda L, x: L.t.zeros(1, dtype=L.t.promote_types(int, float)), True),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_python_type_as_dtype_matches_torch(name):
    call, compare_values = CALLS[name]
    expected = call(TORCH, torch.tensor(VALUES))
    got = call(TRITONGRAD, tritongrad.tensor(VALUES))
    assert got.dtype == expected.dtype, f"{name}: {got.dtype} != torch's {expected.dtype}"
    assert tuple(got.shape) == tuple(expected.shape)
    if compare_values:
        assert_close(got, expected.detach())
    elif name == "view(int)":
        assert to_torch(got).tolist() == expected.tolist()


# Calls torch refuses (numpy types are no dtype to its parser; Tensor.type reads a type by its name,
# so x.type(float) is a ValueError, not float64; nn.Module.to takes no integer dtype).
REFUSED = {
    "to(np.float32)": lambda L, x: x.to(np.float32),
    "to(np.dtype)": lambda L, x: x.to(np.dtype("float32")),
    "to(dtype=np.float32)": lambda L, x: x.to(dtype=np.float32),
    "zeros(dtype=np.float32)": lambda L, x: L.t.zeros(2, dtype=np.float32),
    "arange(dtype=np.float32)": lambda L, x: L.t.arange(3, dtype=np.float32),
    "zeros(dtype='float32')": lambda L, x: L.t.zeros(2, dtype="float32"),
    "sum(dtype=np.float64)": lambda L, x: x.sum(dtype=np.float64),
    "cumsum(dtype=np.float64)": lambda L, x: L.t.cumsum(x, 0, dtype=np.float64),
    "softmax(dtype=np.float64)": lambda L, x: x.softmax(0, dtype=np.float64),
    "type(float)": lambda L, x: x.type(float),
    "type(int)": lambda L, x: x.type(int),
    "type(np.float32)": lambda L, x: x.type(np.float32),
    "type(3)": lambda L, x: x.type(3),
    "Linear.type(float)": lambda L, x: L.t.nn.Linear(2, 2).type(float),
    "Linear.to(int)": lambda L, x: L.t.nn.Linear(2, 2).to(int),
    "Linear.to(dtype=np.float32)": lambda L, x: L.t.nn.Linear(2, 2).to(dtype=np.float32),
    "mean(dtype=int)": lambda L, x: x.mean(dtype=int),
    "set_default_dtype(float)": lambda L, x: L.t.set_default_dtype(float),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_like_torch(name):
    call = REFUSED[name]
    with pytest.raises(Exception) as expected:
        call(TORCH, torch.tensor(VALUES))
    with pytest.raises(Exception) as got:
        call(TRITONGRAD, tritongrad.tensor(VALUES))
    assert got.type is expected.type, f"{name}: {got.value!r} where torch raises {expected.value!r}"
    if expected.type is ValueError or name == "mean(dtype=int)":
        assert str(got.value) == str(expected.value)


def test_type_by_name_or_legacy_class():
    x = tritongrad.tensor(VALUES)
    assert x.type(torch.DoubleTensor).dtype == torch.float64
    assert x.type(tritongrad.LongTensor).dtype == torch.int64
    assert x.type("torch.IntTensor").dtype == torch.int32
    model = tritongrad.nn.Linear(2, 2).type(torch.float64)
    assert model.weight.dtype == torch.float64


# The Python type complex is complex128 wherever a dtype is taken, as in torch (tests/test_complex.py has
# the complex dtypes' ops); what tritongrad has no complex kernel for is refused naming the dtype.
COMPLEX = {
    "zeros(dtype=complex)": lambda lib: lib.zeros(2, dtype=complex),
    "zeros(dtype=complex64)": lambda lib: lib.zeros(2, dtype=torch.complex64),
    "tensor(dtype=complex)": lambda lib: lib.tensor([1.0], dtype=complex),
    "to(complex)": lambda lib: lib.tensor([1.0]).to(complex),
    "sum(dtype=complex)": lambda lib: lib.tensor([1.0]).sum(dtype=complex),
}
COMPLEX_REFUSED = {
    "eye(dtype=complex)": lambda: tritongrad.eye(2, dtype=complex),
}


@pytest.mark.parametrize("name", list(COMPLEX))
def test_complex_as_a_dtype_is_complex128(name):
    ours, theirs = COMPLEX[name](tritongrad), COMPLEX[name](torch)
    assert ours.dtype == theirs.dtype, f"{name}: {ours.dtype} vs {theirs.dtype}"
    assert ours.tolist() == theirs.tolist(), f"{name}: {ours.tolist()} vs {theirs.tolist()}"


@pytest.mark.parametrize("name", list(COMPLEX_REFUSED))
def test_complex_without_a_kernel_is_refused_by_name(name):
    with pytest.raises(NotImplementedError, match="Complex"):
        COMPLEX_REFUSED[name]()


def test_float_is_float64_whatever_the_default_dtype():
    tritongrad.set_default_dtype(torch.float64)
    try:
        assert tritongrad.zeros(1, dtype=float).dtype == torch.float64
    finally:
        tritongrad.set_default_dtype(torch.float32)
    assert tritongrad.tensor([1.0]).to(float).dtype == torch.float64


def test_gradient_flows_through_to_python_type():
    x = tritongrad.tensor([1.5, -2.0], requires_grad=True)
    x.to(float).sum(dtype=float).backward()
    assert x.grad.dtype == torch.float32
    assert to_torch(x.grad).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("dtype", [torch.float16, torch.int64], ids=str)
def test_norm_dtype_is_a_widening(dtype):
    with pytest.raises(RuntimeError) as expected:
        torch.tensor(VALUES).norm(dtype=dtype)
    with pytest.raises(RuntimeError) as got:
        tritongrad.tensor(VALUES).norm(dtype=dtype)
    assert str(got.value) == str(expected.value)
