"""The eighth red-team round's creation findings (#3-#7, #9, #14-#19, #21): tensor() of lists holding
tensors, dtype inference with another default dtype, full's fill values, factories' out= on a leaf that
requires grad, legacy constructors without arguments, eye's sizes, layout=/pin_memory=, tensor sizes and
argument forms, and numpy arrays torch refuses; each compared with torch by ``agree``: the value (dtype,
shape and exact values), or the exception type and the head of its message."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tritongrad
from tests.test_hardening import agree


def _summary(value):
    """A result as exact Python data: a tensor's dtype, shape and values (values only where they are set)."""
    if isinstance(value, (torch.Tensor, tritongrad.Tensor)):
        return [str(value.dtype), list(value.shape), value.tolist()]
    return value


def _evaluate(lib, setup: str, expression: str, *, shape_only: bool = False):
    names = {"t": lib, "np": np}
    exec(setup, names)
    value = eval(expression, names)
    if shape_only:
        return [str(value.dtype), list(value.shape)]
    return _summary(value)


def _check(setup: str, expression: str, *, shape_only: bool = False) -> None:
    agree(f"{setup}; {expression}", lambda lib: _evaluate(lib, setup, expression, shape_only=shape_only), [])


# ----------------------------------------------------------------------------------------------
# #4/#5/#3: tensor() infers from the tensors and numpy values it is given, at any depth
# ----------------------------------------------------------------------------------------------

NESTED_TENSORS = [
    "t.tensor([t.tensor(0.1, dtype=t.float64)])",
    "t.tensor([t.tensor(1., dtype=t.float64), 2.5])",
    "t.tensor([t.tensor(1, dtype=t.int8), t.tensor(2, dtype=t.int8)])",
    "t.tensor([t.tensor(1, dtype=t.int8), True])",
    "t.tensor([t.tensor(1, dtype=t.int8), 2])",
    "t.tensor([t.tensor(1, dtype=t.int8), 2.5])",
    "t.tensor([t.tensor(1, dtype=t.uint8), t.tensor(1, dtype=t.int8)])",
    "t.tensor([t.tensor(1, dtype=t.uint8)])",
    "t.tensor([t.tensor(1., dtype=t.float16), t.tensor(2., dtype=t.float16)])",
    "t.tensor([t.tensor(1., dtype=t.float16), t.tensor(1., dtype=t.bfloat16)])",
    "t.tensor([t.tensor(1.5, dtype=t.bfloat16)])",
    "t.tensor([t.tensor(1+2j, dtype=t.complex128)])",
    "t.tensor([1+2j, t.tensor(1., dtype=t.float64)])",
    "t.as_tensor([t.tensor(1, dtype=t.int8)])",
    "t.tensor([[t.tensor(0.1, dtype=t.float64)], [t.tensor(0.2, dtype=t.float64)]])",
    "t.tensor([[t.tensor(1.), 2.], [3., 4.]])",
    "t.tensor([[t.ones(1)], [t.ones(1)]])",
    "t.tensor([t.tensor([1.]), t.tensor([2.])])",
    "t.tensor([[1, 2], t.ones(2)])",
    "t.tensor([[1, 2], t.tensor([1, 2], dtype=t.int8)])",
    "t.tensor(([t.tensor(2**40 + 1)], [t.tensor(3)]))",
    "t.tensor([[], [t.tensor(1)]])",
    "t.tensor([t.tensor(0.1, dtype=t.float64)], dtype=t.float16)",
    "t.tensor([t.tensor(-3)], dtype=t.uint8)",
    # torch's refusals, in its words
    "t.tensor([t.ones(2), t.ones(2)])",
    "t.tensor([t.tensor(1.), [2.]])",
    "t.tensor([[t.tensor(1.)], t.tensor(2.)])",
    "t.tensor([t.tensor(1.5)], dtype=t.int64)",
    "t.tensor([t.tensor(300)], dtype=t.int8)",
    "t.tensor([t.tensor(1.), 'a'])",
    "t.tensor([None])",
]


@pytest.mark.parametrize("expression", NESTED_TENSORS)
def test_tensor_of_lists_holding_tensors(expression):
    _check("", expression)


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True")
def test_tensor_of_elements_of_a_tensor_that_requires_grad():
    _check("x = t.tensor([1.5, -2.7], requires_grad=True)", "t.tensor([[x[0]], [x[1]]])")


DEFAULT_FLOAT64 = [
    "t.tensor(np.float32(1))",
    "t.tensor([np.float32(1)])",
    "t.as_tensor(np.float32(1))",
    "t.asarray(np.float32(1))",
    "t.tensor([np.float32(1), np.int64(2)])",
    "t.tensor([np.float32(1), 2.5])",
    "t.tensor([t.tensor(1., dtype=t.float32)])",
    "t.tensor([t.tensor(1., dtype=t.float16), 1.])",
    "t.tensor([[1, 2.5], [np.int8(3), True]])",
    "t.tensor([[], []])",
    "t.tensor([1j])",
    "t.tensor(0.1)",
    "t.tensor([np.array([1, 2], dtype=np.float32), [3, 4]])",
    "t.tensor(range(3))",
    "t.tensor([None])",
    "t.tensor({1: 2})",
]


@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy")
@pytest.mark.parametrize("expression", DEFAULT_FLOAT64)
def test_tensor_inference_under_a_float64_default(expression):
    def run(lib):
        lib.set_default_dtype(lib.float64)  # (tritongrad's alone: torch's own default stays float32 then)
        try:
            return _evaluate(lib, "", expression)
        finally:
            lib.set_default_dtype(lib.float32)

    agree(expression, run, [])


@pytest.mark.parametrize("expression", ["t.tensor([1.5, 2])", "t.tensor([[np.float32(1), 1]])", "t.tensor([[]])"])
def test_tensor_inference_is_tritongrads_default_whatever_torchs_is(expression):
    expected = _evaluate(torch, "", expression)
    torch.set_default_dtype(torch.float64)
    try:
        assert _evaluate(tritongrad, "", expression) == expected
    finally:
        torch.set_default_dtype(torch.float32)


# ----------------------------------------------------------------------------------------------
# #6/#16: full's fill value is a Number (a 0-d tensor counts), held as the dtype holds it
# ----------------------------------------------------------------------------------------------

FILLS = [
    "t.full((2,), t.tensor(2))",
    "t.full((2,), t.tensor(2, dtype=t.int8))",
    "t.full((2,), t.tensor(2., dtype=t.float64))",
    "t.full((2,), t.tensor(True))",
    "t.full((2,), t.tensor(1+2j))",
    "t.full((2,), t.tensor([2.5]))",
    "t.full((2,), t.tensor([2.5, 1]))",
    "t.full((2,), t.tensor(2.5, requires_grad=True))",
    "t.full((2,), np.float32(2.5))",
    "t.full((2,), np.bool_(True))",
    "t.full((2,), np.array(2))",
    "t.full((2,), 'a')",
    "t.full((2,), None)",
    "t.full((2,), [1])",
    "t.full((2,), 1+2j, dtype=t.float32)",
    "t.full((2,), 1+2j, dtype=t.int64)",
    "t.full((2,), 1+2j, dtype=t.float16)",
    "t.full((2,), 1+2j, dtype=t.bool)",
    "t.full((2,), 1+0j, dtype=t.float32)",
    "t.full_like(i, 1+2j)",
    "t.full_like(i, 'a')",
    "t.full_like(i, None)",
    "t.full_like(i, t.tensor(2.5))",
    "t.full_like(i, t.tensor([2.5]))",
    "t.full_like(x, 1+2j)",
    "x.new_full((2,), 'a')",
    "x.new_full((2,), t.tensor(3))",
    "x.new_full((2,), 1+2j)",
    "t.scalar_tensor([2])",
    "t.scalar_tensor('a')",
    "t.scalar_tensor(t.tensor(2))",
    "t.scalar_tensor(np.float64(2))",
    "t.scalar_tensor(1j)",
]


@pytest.mark.parametrize("expression", FILLS)
def test_full_fill_values(expression):
    _check("i = t.tensor([1, 2]); x = t.ones(2, 3)", expression)


# ----------------------------------------------------------------------------------------------
# #7: a factory's out= refuses a leaf that requires grad (under grad mode)
# ----------------------------------------------------------------------------------------------

OUT_REQUIRING_GRAD = [
    "t.ones(3, out=o)",
    "t.zeros(3, out=o)",
    "t.ones(2, out=o)",
    "t.full((3,), 1., out=o)",
    "t.arange(3., out=o)",
    "t.linspace(0, 1, 3, out=o)",
    "t.logspace(0, 1, 3, out=o)",
    "t.empty(3, out=o)",
    "t.empty(2, out=o)",
    "t.eye(3, out=t.empty(3, 3, requires_grad=True))",
    "t.rand(3, out=o)",
    "t.randn(3, out=o)",
    "t.randint(3, (3,), out=o)",
]


@pytest.mark.parametrize("expression", OUT_REQUIRING_GRAD)
def test_factory_out_that_requires_grad(expression):
    def run(lib):
        o = lib.empty(3, requires_grad=True)
        names = {"t": lib, "o": o}
        try:
            eval(expression, names)
        finally:
            assert o.requires_grad and tuple(o.shape) == (3,)

    agree(expression, run, [])


def test_factory_out_that_requires_grad_under_no_grad():
    def run(lib):
        o = lib.empty(3, requires_grad=True)
        with lib.no_grad():
            lib.ones(3, out=o)
        return _summary(o.detach())

    agree("no_grad ones(out=o)", run, [])


# ----------------------------------------------------------------------------------------------
# #9: legacy constructors without arguments; #15: eye's sizes; #21: numpy arrays torch refuses
# ----------------------------------------------------------------------------------------------

OTHERS = [
    "t.LongTensor()",
    "t.FloatTensor()",
    "t.IntTensor()",
    "t.DoubleTensor()",
    "t.BoolTensor()",
    "t.LongTensor(device='cpu')",
    "t.eye(t.tensor(2))",
    "t.eye(t.tensor([2]))",
    "t.eye(np.int64(2))",
    "t.eye(2, t.tensor(3))",
    "t.eye(2.0)",
    "t.eye(t.tensor(2.))",
    "t.eye(True)",
    "t.eye('a')",
    "t.eye(-1)",
    "t.eye(2, -1)",
    "t.eye(n=2)",
    "t.tensor(a.astype('>f4'))",
    "t.tensor(a.astype('>i8'), dtype=t.float32)",
    "t.tensor(a[:, ::-1])",
    "t.tensor(np.zeros((1, 3))[::-1])",
    "t.tensor(np.zeros((2, 0))[:, ::-1])",
    "t.tensor(a[:, ::2])",
    "t.tensor(a.astype('>i1'))",
]


@pytest.mark.parametrize("expression", OTHERS)
def test_legacy_eye_and_numpy(expression):
    _check("a = np.arange(6).reshape(2, 3)", expression)


# ----------------------------------------------------------------------------------------------
# #14/#17: layout=torch.strided and pin_memory=False everywhere; pin_memory=True and unknown keywords refused
# ----------------------------------------------------------------------------------------------

LAYOUTS = [
    "t.zeros(2, layout=t.strided)",
    "t.ones(2, layout=t.strided, pin_memory=False)",
    "t.zeros(2, layout=None, pin_memory=None)",
    "t.full((2,), 1., layout=t.strided)",
    "t.arange(3, layout=t.strided)",
    "t.linspace(0, 1, 3, layout=t.strided)",
    "t.eye(2, layout=t.strided, pin_memory=False)",
    "t.tensor([1], pin_memory=False)",
    "t.scalar_tensor(1, layout=t.strided, pin_memory=False)",
    "t.zeros_like(x, layout=t.strided)",
    "t.ones_like(x, pin_memory=False)",
    "t.full_like(x, 2, layout=t.strided)",
    "x.new_zeros(2, pin_memory=False)",
    "x.new_ones(2, layout=t.strided)",
    "x.new_full((2,), 1, layout=t.strided)",
    "t.zeros(2, layout=1)",
    "t.zeros(2, pin_memory=1)",
    "t.zeros_like(x, layout='strided')",
    "t.empty(2, foo=1)",
    "t.empty(2, names=None)",
    "t.tensor([1], layout=t.strided)",
    "t.as_tensor([1], layout=t.strided)",
]


@pytest.mark.parametrize("expression", LAYOUTS)
def test_layout_and_pin_memory(expression):
    _check("x = t.ones(2, 3)", expression)


UNINITIALISED = [
    "t.empty(2, layout=t.strided, pin_memory=False)",
    "t.rand(2, layout=t.strided)",
    "t.randn(2, pin_memory=False)",
    "t.randint(3, (2,), layout=t.strided)",
    "t.empty_like(x, layout=t.strided)",
    "t.rand_like(x, layout=t.strided)",
    "t.randn_like(x, pin_memory=False)",
    "t.randint_like(x, 3, layout=t.strided)",
    "x.new_empty(2, layout=t.strided, pin_memory=False)",
]


@pytest.mark.parametrize("expression", UNINITIALISED)
def test_layout_and_pin_memory_of_uninitialised_factories(expression):
    _check("x = t.ones(2, 3)", expression, shape_only=True)


PINNED = ["t.empty(2, pin_memory=True)", "t.ones(2, pin_memory=True)", "t.tensor([1], pin_memory=True)",
          "t.zeros_like(x, pin_memory=True)", "t.linspace(0, 1, 3, pin_memory=True)", "t.rand(2, pin_memory=True)",
          "x.new_zeros(2, pin_memory=True)"]  # fmt: skip


@pytest.mark.skipif(torch.cuda.is_available(), reason="torch pins memory where an accelerator exists")
@pytest.mark.parametrize("expression", PINNED)
def test_pin_memory_without_an_accelerator(expression):
    _check("x = t.ones(2, 3)", expression)


@pytest.mark.parametrize("factory", ["t.zeros(2, layout=L)", "t.ones_like(x, layout=L)", "t.eye(2, layout=L)"])
def test_another_layout_is_refused(factory):
    with pytest.raises(NotImplementedError, match="strided"):
        eval(factory, {"t": tritongrad, "x": tritongrad.ones(2), "L": torch.sparse_coo})


# ----------------------------------------------------------------------------------------------
# #18/#19: sizes given as integer tensors; argument forms torch takes or refuses
# ----------------------------------------------------------------------------------------------

SIZES = [
    "t.zeros(t.tensor(3))",
    "t.ones(t.tensor([3]))",
    "t.zeros(t.tensor([[3]]))",
    "t.zeros((2, t.tensor(3)))",
    "t.zeros((2, t.tensor([3])))",
    "x.new_zeros(t.tensor(3))",
    "t.full((t.tensor(2),), 1.)",
    "t.zeros(np.int64(2))",
    "t.zeros(t.tensor(3.))",
    "t.zeros(t.tensor([2, 3]))",
    "t.zeros(2.0)",
    "t.zeros()",
    "t.empty()",
    "x.new_ones()",
    "t.zeros(size=2)",
    "t.empty(size=2)",
    "x.new_ones(size=2)",
    "t.zeros(size=(2,))",
    "t.ones(size=())",
    "x.new_zeros(size=(2,))",
    "t.arange(end=3)",
    "t.arange(start=1, end=3)",
    "t.arange(1, end=3)",
    "t.linspace(t.tensor([0.]), 1, 3)",
    "t.linspace(0, t.tensor([[1.]]), 3)",
    "t.linspace(t.tensor(0.), t.tensor(1.), 3)",
]


@pytest.mark.parametrize("expression", SIZES)
def test_sizes_and_argument_forms(expression):
    _check("x = t.ones(2, 3)", expression)


@pytest.mark.parametrize(
    "expression",
    ["t.empty(t.tensor(3))", "t.rand(t.tensor(3))", "t.randn(t.tensor(2), t.tensor(3))", "t.randint(5, (t.tensor(2),))",
     "x.new_empty(size=(2,))"],
)  # fmt: skip
def test_tensor_sizes_of_uninitialised_factories(expression):
    _check("x = t.ones(2, 3)", expression, shape_only=True)
