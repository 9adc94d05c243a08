"""addcmul / addcdiv (ops/pointwise_compound.py) against torch: values with broadcasting and type
promotion, every float dtype, strided operands, gradients (torch.autograd and float64 gradcheck), the
in-place forms, grad_fn names and torch's refusals."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import FLOAT_DTYPES, assert_close, from_torch, make_pair, random_values
from tritongrad.autograd import gradcheck

OPS = ["addcmul", "addcdiv"]
SHAPES = {
    "same": ((3, 5), (3, 5), (3, 5)),
    "broadcast_all": ((3, 1), (1, 5), (3, 5)),  # each operand broadcast somewhere: gradients sum back
    "scalar_input": ((), (2, 7), (7,)),
    "empty": ((0, 3), (0, 3), (1, 3)),
    "one": ((1,), (1,), (1,)),
}


def _pairs(shapes, dtype, layout="contiguous", requires_grad=False):
    pairs = []
    for index, shape in enumerate(shapes):
        # (a divisor kept away from 0; 2-D operands in the layout under test)
        low = 0.5 if index == 2 else -3.0
        pairs.append(
            make_pair(shape, dtype, layout if len(shape) >= 2 else "contiguous", requires_grad, low=low, high=3.0)
        )
    return [p[0] for p in pairs], [p[1] for p in pairs]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("shapes", list(SHAPES))
@pytest.mark.parametrize("op", OPS)
def test_values_and_gradients_match_torch(op, shapes, dtype):
    want_inputs, got_inputs = _pairs(SHAPES[shapes], dtype, requires_grad=True)
    want = getattr(torch, op)(*want_inputs, value=-0.5)
    got = getattr(tritongrad, op)(*got_inputs, value=-0.5)
    assert_close(got, want, what=f"{op} {shapes}")
    assert got.grad_fn.name() == want.grad_fn.name()
    upstream = random_values(tuple(want.shape), dtype)
    want.backward(upstream)
    got.backward(from_torch(upstream))
    for index, (g, w) in enumerate(zip(got_inputs, want_inputs)):
        assert_close(g.grad, w.grad, what=f"{op} {shapes} grad {index}", kind="autograd")


@pytest.mark.parametrize("op", OPS)
def test_strided_operands_and_promotion(op):
    want_inputs, got_inputs = _pairs(((4, 3), (4, 3), (4, 3)), torch.float32, "transposed")
    assert_close(getattr(tritongrad, op)(*got_inputs), getattr(torch, op)(*want_inputs))
    mixed = [random_values((5,), torch.float16), random_values((5,), torch.float64), random_values((5,), torch.float32)]
    got = getattr(tritongrad, op)(*[from_torch(t) for t in mixed], value=3)
    assert_close(got, getattr(torch, op)(*mixed, value=3))  # promoted to float64


def test_integer_addcmul_and_refusals_match_torch():
    ints = [random_values((6,), torch.int64) for _ in range(3)]
    got = tritongrad.addcmul(*[from_torch(t) for t in ints], value=2)
    assert got.dtype == torch.int64 and got.tolist() == torch.addcmul(*ints, value=2).tolist()
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
        tritongrad.addcdiv(from_torch(random_values((6,), torch.float32)), *[from_torch(t) for t in ints[:2]])
    bools = [from_torch(random_values((3,), torch.bool)) for _ in range(3)]
    with pytest.raises(NotImplementedError, match="addcmul_cpu_out"):
        tritongrad.addcmul(*bools)
    with pytest.raises(RuntimeError, match="must match the size"):
        tritongrad.addcmul(*[from_torch(random_values((n,), torch.float32)) for n in (2, 3, 3)])


@pytest.mark.parametrize("op", OPS)
def test_in_place_forms(op):
    want_inputs, got_inputs = _pairs(((3, 4), (1, 4), (3, 4)), torch.float64, requires_grad=True)
    want = getattr(want_inputs[0] * 1, op + "_")(want_inputs[1], want_inputs[2], value=1.5)
    got = getattr(got_inputs[0] * 1, op + "_")(got_inputs[1], got_inputs[2], value=1.5)
    assert_close(got, want)
    assert got.grad_fn.name() == want.grad_fn.name()
    want.sum().backward()
    got.sum().backward()
    for g, w in zip(got_inputs, want_inputs):
        assert_close(g.grad, w.grad, kind="autograd")
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):  # self cannot grow
        getattr(tritongrad.ones(4), op + "_")(tritongrad.ones(2, 4), tritongrad.ones(4))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        getattr(tritongrad.ones(4, dtype=torch.int64), op + "_")(tritongrad.ones(4), tritongrad.ones(4))
    values = random_values((4,), torch.float32)
    plain = from_torch(values)  # nothing recorded: written straight in
    result = getattr(plain, op + "_")(tritongrad.ones(4), tritongrad.full((4,), 2.0), value=2)
    assert result is plain
    assert_close(plain, getattr(torch, op)(values, torch.ones(4), torch.full((4,), 2.0), value=2))


@pytest.mark.parametrize("op", OPS)
def test_gradcheck_float64(op):
    inputs = [from_torch(random_values(s, torch.float64, low=0.5), requires_grad=True) for s in ((2, 1), (3,), (2, 3))]
    assert gradcheck(lambda *t: getattr(tritongrad, op)(*t, value=0.7), inputs)
