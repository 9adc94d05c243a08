"""The ninth red-team round's dtype findings (/work/scratch/rt9/dtypes/REPORT.md items 1, 2, 3, 13, 19,
20, 24 and part of 26), each compared with torch by ``agree``: the value, or the exception type and
the head of its message. Each case is an expression of ``t`` (torch or tritongrad) and ``F``."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
from tests.test_hardening import agree


def _run(expression: str):
    """``expression`` as a function of the library: its statements (the lines before the last) run,
    then its last line is the value."""
    *statements, value = expression.split("\n")

    def function(lib):
        scope = {"t": lib, "F": lib.nn.functional}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (complex-to-real cast warnings; not what is compared)
            for statement in statements:
                exec(statement, scope)
            return eval(value, scope)

    return function


def _agree(expression: str) -> None:
    agree(expression, _run(expression), [])


# ----------------------------------------------------------------------------------------------
# item 1: softmax / log_softmax / softmin with a non-floating dtype= are refused, not uninitialised
# ----------------------------------------------------------------------------------------------

SOFTMAX = [
    "t.softmax(t.tensor([1., 2.]), 0, dtype=t.int64)",
    "t.softmax(t.tensor([1, 2]), 0, dtype=t.int64)",
    "t.log_softmax(t.tensor([1., 2.]), 0, dtype=t.int16)",
    "F.log_softmax(t.tensor([1., 2.]), 0, dtype=t.uint8)",
    "F.softmin(t.tensor([1., 2.]), 0, dtype=t.int64)",
    "F.softmax(t.tensor([1., 2.]), 0, dtype=t.bool)",
    "t.tensor([1., 2.]).softmax(0, dtype=t.complex64)",
    "t.tensor([1., 2.]).log_softmax(0, dtype=t.int8)",
    "t.special.softmax(t.tensor([1., 2.]), 0, dtype=t.int64)",
    "t.special.log_softmax(t.tensor([1., 2.]), 0, dtype=t.int32)",
    "t.softmax(t.tensor([1j]), 0)",
    "t.softmax(t.tensor([]), 0, dtype=t.int64)",
    "t.softmax(t.tensor([1, 2]), 0, dtype=t.float64)",
]


@pytest.mark.parametrize("expression", SOFTMAX)
def test_softmax_with_a_non_floating_dtype(expression):
    _agree(expression)


# ----------------------------------------------------------------------------------------------
# item 2 (and the other by-parts ops): complex ops answered by parts honour out=
# ----------------------------------------------------------------------------------------------

OUT_BY_PARTS = [
    "o = t.zeros(1, dtype=t.bool); r = t.eq(t.tensor([1j]), t.tensor([1j]), out=o)\n(r is o, o)",
    "o = t.zeros(1, dtype=t.float32); r = t.ne(t.tensor([1j]), 1j, out=o)\n(r is o, o)",
    "o = t.zeros(1, dtype=t.complex64); r = t.not_equal(t.tensor([1j]), 1, out=o)\n(r is o, o)",
    "o = t.zeros(3, dtype=t.int64); r = t.eq(t.tensor([1j]), 1j, out=o)\n(r is o, o)",
    "o = t.zeros(1, dtype=t.complex64); r = t.gather(t.tensor([1j]), 0, t.tensor([0]), out=o)\n(r is o, o)",
    "o = t.zeros(1, dtype=t.complex128)\nt.gather(t.tensor([1j]), 0, t.tensor([0]), out=o)",
    "o = t.zeros(1, dtype=t.float32)\nt.index_select(t.tensor([1j]), 0, t.tensor([0]), out=o)",
    "o = t.zeros(0, dtype=t.complex64); r = t.index_select(t.tensor([1j, 2]), 0, t.tensor([1]), out=o)\n(r is o, o)",
    "o = t.zeros(1, dtype=t.float64)\nt.take(t.tensor([1j]), t.tensor([0]), out=o)",
    "o = t.zeros(0, dtype=t.complex64); r = t.take(t.tensor([1j]), t.tensor([0]), out=o)\n(r is o, o)",
    "o = t.zeros(0, dtype=t.complex64)\nt.masked_select(t.tensor([1j, 2]), t.tensor([True, False]), out=o)",
    "o = t.zeros(0, dtype=t.complex64)\nt.tril(t.tensor([[1j, 2]]), out=o)",
    "o = t.zeros(0, dtype=t.complex64)\nt.triu(t.tensor([[1j, 2]]), out=o)",
    "o = t.zeros(0, dtype=t.complex64)\nt.take_along_dim(t.tensor([1j, 2]), t.tensor([1]), out=o)",
    "o = t.zeros(0, dtype=t.complex128)\nt.cumsum(t.tensor([1j, 2]), 0, out=o)",
    "o = t.zeros(0, dtype=t.float32)\nt.cumsum(t.tensor([1j, 2]), 0, out=o)",
    "o = t.zeros(0, dtype=t.complex64)\nt.where(t.tensor([True, False]), t.tensor([1j, 2]), t.tensor(0.), out=o)",
    "o = t.zeros(0, dtype=t.complex128)\nt.where(t.tensor([True, False]), t.tensor([1j, 2]), t.tensor(0.), out=o)",
    "x = t.zeros(1, requires_grad=True)\nt.gather(x * 1j, 0, t.tensor([0]), out=t.zeros(0, dtype=t.complex64))",
]


@pytest.mark.parametrize("expression", OUT_BY_PARTS)
def test_complex_by_parts_ops_write_out(expression):
    _agree(expression)


# ----------------------------------------------------------------------------------------------
# item 3: a Python bool written into a complex tensor is b + 0j
# ----------------------------------------------------------------------------------------------

BOOL_INTO_COMPLEX = [
    "t.tensor([1j, 2]).masked_fill(t.tensor([True, False]), True)",
    "t.tensor([1j, 2]).masked_fill(t.tensor([True, False]), False)",
    "x = t.tensor([1j, 2]); x.index_fill_(0, t.tensor([0]), True)\nx",
    "x = t.tensor([1j, 2]); x.masked_fill_(t.tensor([False, True]), True)\nx",
    "x = t.tensor([1j, 2]); x[0] = True\nx",
    "t.where(t.tensor([True, False]), t.tensor([1j, 2]), True)",
    "t.where(t.tensor([True, False]), True, t.tensor([1j, 2]))",
]


@pytest.mark.parametrize("expression", BOOL_INTO_COMPLEX)
def test_a_bool_into_a_complex_tensor(expression):
    _agree(expression)


# ----------------------------------------------------------------------------------------------
# item 19: logical ops and eq_/ne_ with complex operands
# ----------------------------------------------------------------------------------------------

LOGICAL_COMPLEX = [
    "t.logical_and(t.tensor([1j, 0]), t.tensor([1, 1]))",
    "t.logical_or(t.tensor([0j, 0]), t.tensor([1., 0.]))",
    "t.logical_xor(t.tensor([1, 0]), t.tensor([1j, 1j]))",
    "t.logical_and(t.tensor([1j, 0]), t.tensor([1j, 1j], dtype=t.complex128))",
    "t.logical_xor(t.tensor([1, 2, 0]), t.tensor([0j, 1j, 1]), out=t.zeros(3, dtype=t.complex64))",
    "t.logical_and(t.tensor([1, 2, 0]), t.tensor([0j, 1j, 1]), out=t.zeros(3))",
    "x = t.tensor([1, 2, 0]); x.logical_xor_(t.tensor([1j, 0, 1]))\nx",
    "x = t.tensor([1., 2, 0]); x.logical_and_(t.tensor([0j, 1, 1]))\nx",
    "x = t.tensor([1j, 2]); x.logical_or_(t.tensor([0j, 0]))\nx",
    "x = t.tensor([1j, 0]); x.logical_xor_(t.tensor([1, 1]))\nx",
    "t.tensor([1j, 0]).logical_and(True)",
    "x = t.tensor([1, 2, 3]); x.eq_(1j)\nx",
    "x = t.tensor([1, 2, 3]); x.ne_(1j)\nx",
    "x = t.tensor([1, 2, 3]); x.eq_(t.tensor([1 + 0j, 2, 3j]))\nx",
    "x = t.tensor([1j, 2]); x.eq_(2)\nx",
    "x = t.tensor([1j, 2]); x.ne_(t.tensor([1j, 1j]))\nx",
]


@pytest.mark.parametrize("expression", LOGICAL_COMPLEX)
def test_logical_ops_and_in_place_comparisons_of_complex(expression):
    _agree(expression)


# ----------------------------------------------------------------------------------------------
# items 13 and 20: promotion reaching complex32 answers as torch's; ops that would make complex32
# tensors are refused by name (tritongrad has none)
# ----------------------------------------------------------------------------------------------

PROMOTES_TO_COMPLEX32 = [
    (torch.int64, torch.complex32),
    (torch.complex32, torch.int64),
    (torch.float16, torch.complex32),
    (torch.bfloat16, torch.complex32),
    (torch.complex32, torch.complex64),
    (torch.float32, torch.complex32),
    (torch.complex32, torch.complex32),
    (torch.bool, torch.complex32),
    (torch.float64, torch.complex32),
]


@pytest.mark.parametrize("pair", PROMOTES_TO_COMPLEX32, ids=str)
def test_promote_types_with_complex32(pair):
    assert tritongrad.promote_types(*pair) == torch.promote_types(*pair)


def test_result_type_reaching_complex32():
    for lib in (torch, tritongrad):
        assert lib.result_type(lib.tensor([1.0], dtype=lib.float16), 1j) == torch.complex32
        assert lib.result_type(lib.tensor([1.0], dtype=lib.float16), lib.tensor(1j)) == torch.complex32


MAKES_COMPLEX32 = [
    "t.tensor([1.], dtype=t.float16) * 1j",
    "t.tensor([1.], dtype=t.float16) + t.tensor(1j)",
    "t.tensor([1.], dtype=t.float16).sub(1j)",
    "t.complex(t.tensor([1.], dtype=t.float16), t.tensor([0.], dtype=t.float16))",
    "t.where(t.tensor([True]), t.tensor([1.], dtype=t.float16), 1j)",
    "t.where(t.tensor([True]), t.tensor([1.], dtype=t.float16), t.tensor(1j))",
]


@pytest.mark.parametrize("expression", MAKES_COMPLEX32)
def test_ops_making_complex32_are_refused_by_name(expression):
    assert _run(expression)(torch).dtype == torch.complex32
    with pytest.raises(NotImplementedError, match="complex32"):
        _run(expression)(tritongrad)


def test_promotion_to_complex32_under_a_float16_default_does_not_recurse():
    previous = tritongrad.get_default_dtype()
    tritongrad.set_default_dtype(tritongrad.float16)
    try:
        with pytest.raises(NotImplementedError, match="complex32"):
            tritongrad.tensor([1]) + 1j
    finally:
        tritongrad.set_default_dtype(previous)


AROUND_COMPLEX32 = [
    "t.complex(t.tensor([1.], dtype=t.bfloat16), t.tensor([0.], dtype=t.bfloat16))",
    "t.polar(t.tensor([1.], dtype=t.float16), t.tensor([0.], dtype=t.float16))",
    "t.where(t.tensor([True, False]), t.tensor([1., 2.], dtype=t.bfloat16), 1j)",
    "t.tensor([1.], dtype=t.float16).add_(1j)",
    "t.tensor([1., 2.], dtype=t.float16).masked_fill(t.tensor([True, False]), 1j)",
]


@pytest.mark.parametrize("expression", AROUND_COMPLEX32)
def test_neighbours_of_complex32(expression):
    _agree(expression)


# ----------------------------------------------------------------------------------------------
# item 24: a one-element float16/bfloat16 fill takes an out-of-range number as an infinity
# ----------------------------------------------------------------------------------------------

FILLS = [
    "t.full((1,), 70000., dtype=t.float16)",
    "t.full((2,), 70000., dtype=t.float16)",
    "t.full((), 70000, dtype=t.float16)",
    "t.full((1,), 65519., dtype=t.float16)",
    "t.full((1,), 65520., dtype=t.float16)",
    "t.full((1,), -1e6, dtype=t.float16)",
    "t.full((1, 1), 1e6, dtype=t.float16)",
    "t.full((1,), 4e38, dtype=t.bfloat16)",
    "t.full((1,), 3.3961e38, dtype=t.bfloat16)",
    "t.full((2,), 4e38, dtype=t.bfloat16)",
    "t.full((1,), 1e39, dtype=t.float32)",
    "t.full((1,), 1000, dtype=t.int8)",
    "t.zeros(1, dtype=t.float16).fill_(1e10)",
    "t.tensor(0., dtype=t.float16).fill_(1e6)",
    "t.zeros(2, dtype=t.float16).fill_(1e6)",
    "t.zeros(1, dtype=t.bfloat16).fill_(-1e39)",
    "t.full_like(t.tensor([1.], dtype=t.float16), 1e6)",
    "t.full_like(t.tensor([1., 2.], dtype=t.float16), 1e6)",
    "t.tensor([1.], dtype=t.float16).new_full((1,), 1e6)",
    "t.tensor([1.], dtype=t.float16).new_full((2,), 1e6)",
    "t.zeros(1, dtype=t.float16).expand(3).fill_(1e6)",
    "t.zeros(2, dtype=t.float16)[:1].fill_(1e6)",
    "t.full((1,), 1e6, out=t.empty(3, dtype=t.float16))",
    "t.full((3,), 1e6, out=t.empty(1, dtype=t.float16))",
    "t.full((2,), 2**64, dtype=t.float32)",
    "t.full((2,), -2**63 - 1, dtype=t.float32)",
    "t.full((2,), 2**63, dtype=t.float32)",
    "t.zeros(1, dtype=t.float64).fill_(2**64 - 1)",
    "t.zeros(1, dtype=t.float16).fill_(2**64)",
]


@pytest.mark.parametrize("expression", FILLS)
def test_one_element_half_fills(expression):
    _agree(expression)


# ----------------------------------------------------------------------------------------------
# item 26 (part): torch's exception types for complex operands, and its cast check first in place
# ----------------------------------------------------------------------------------------------

EXCEPTIONS = [
    "t.maximum(t.tensor([1j]), t.tensor([1j]))",
    "t.minimum(t.tensor([1j]), t.tensor([1.]))",
    "t.fmax(t.tensor([1.]), t.tensor([1j]))",
    "t.fmin(t.tensor([1j]), t.tensor([1j]))",
    "t.maximum(t.tensor([1j]), t.tensor([1j]), out=t.empty(1, dtype=t.complex64))",
    "t.argmax(t.tensor([1j]))",
    "t.argmin(t.tensor([1j]), 0)",
    "t.tensor([[1j]]).max(0)",
    "t.tensor([[1j]]).min(1)",
    "t.max(t.tensor([[1j]]), 0)",
    "t.tensor([1j]).max()",
    "t.tensor([1j]).amax()",
    "t.tensor([1j]).amin(0)",
    "t.aminmax(t.tensor([1j]))",
    "t.isneginf(t.tensor([1j]))",
    "t.isposinf(t.tensor([1j]))",
    "t.deg2rad(t.tensor([1j]))",
    "t.rad2deg(t.tensor([1j]))",
    "t.nansum(t.tensor([1j]))",
    "t.nansum(t.tensor([1j]), 0)",
    "t.tensor([1, 2]).floor_divide_(1j)",
    "t.tensor([1, 2]).remainder_(1j)",
    "t.tensor([1, 2]).fmod_(1j)",
    "t.tensor([1, 2]).pow_(1j)",
    "t.tensor([1, 2]).atan2_(t.tensor([1j]))",
    "t.tensor([1, 2]).hypot_(t.tensor([1j]))",
    "t.tensor([1, 2], dtype=t.int8).bitwise_and_(t.tensor([1.5]))",
    "t.tensor([1, 2], dtype=t.int8).bitwise_xor_(t.tensor([1.5]))",
    "t.tensor([1, 2], dtype=t.int8).bitwise_left_shift_(t.tensor([1.5]))",
    "t.tensor([1, 2]).bitwise_or_(2.5)",
    "t.tensor([True]).bitwise_and_(t.tensor([1.5], dtype=t.float16))",
    "x = t.tensor([1, 2], dtype=t.uint8); x &= t.tensor([1.5])\nx",
    "x = t.tensor([1, 2], dtype=t.uint8); x >>= t.tensor([1.5])\nx",
    "x = t.tensor([1, 2], dtype=t.uint8); x ^= 2.5\nx",
    "t.tensor([True]).hypot_(t.tensor([1]))",
    "t.tensor([1, 2]).atan2_(t.tensor([1]))",
    "t.tensor([1, 2]).clamp_min_(1j)",
    "t.tensor([1.]).clamp_min_(1j)",
    "t.tensor([1.]).clamp_max_(1j)",
    "t.tensor([1.]).clamp_(1j)",
    "t.tensor([1.]).clamp_(max=1j)",
    "t.tensor([1.]).clip_(1j)",
    "t.clamp(t.tensor([1.]), min=1j)",
    "t.clamp(t.tensor([1]), min=1j)",
    "t.clamp(t.tensor([1]), max=1j)",
    "t.clamp(t.tensor([1.]), 1j, 2)",
    "t.clamp(t.tensor([1.]), min=1j, out=t.empty(1))",
    "t.clamp_min(t.tensor([1.]), 1j)",
    "t.tensor([1j]).clamp(0)",
    "t.tensor([1.]).clamp_max_(t.tensor([1j]))",
    "t.lerp(t.tensor([1.]), t.tensor([2.]), 1j)",
    "t.lerp(t.tensor([1.], dtype=t.float64), t.tensor([2.], dtype=t.float64), 1j)",
    "t.lerp(t.tensor([1.]), t.tensor([2.]), 0.5 + 0j)",
    "t.tensor([1.]).lerp_(t.tensor([2.]), 1j)",
    "t.tensor([1.]).lerp_(t.tensor([2.]), 0.25 + 0j)",
    "t.lerp(t.tensor([1]), t.tensor([2]), 1j)",
    "t.add(t.tensor([1.]), t.tensor([1.]), alpha=1j)",
    "t.sub(t.tensor([1, 2]), t.tensor([1, 2]), alpha=1j)",
    "t.tensor([1.]).add_(t.tensor([1.]), alpha=1j)",
    "t.add(t.tensor([True]), t.tensor([True]), alpha=1j)",
    "t.add(t.tensor([1j]), t.tensor([1j]), alpha=1j)",
]


@pytest.mark.parametrize("expression", EXCEPTIONS)
def test_torch_exception_types_for_complex_operands(expression):
    _agree(expression)


# ----------------------------------------------------------------------------------------------
# items 8 and 22: reductions and cumsum with a dtype= across complex (torch casts the input first)
# ----------------------------------------------------------------------------------------------

ACROSS_COMPLEX = [
    "t.sum(t.tensor([1 + 1j]), dtype=t.float32)",
    "t.sum(t.tensor([1.5]), dtype=t.complex64)",
    "t.tensor([1, 2]).sum(dtype=t.complex64)",
    "t.tensor([True, False]).sum(dtype=t.complex128)",
    "t.tensor([[1j, 2]]).sum(1, dtype=t.float64)",
    "t.tensor([[1j, 2]]).sum(1, dtype=t.int64)",
    "t.sum(t.tensor([[1., 2]]), 1, dtype=t.complex64, out=t.empty(1, dtype=t.complex64))",
    "t.tensor([1, 2]).mean(dtype=t.complex64)",
    "t.tensor([1., 2]).mean(dtype=t.complex64)",
    "t.tensor([1j, 2]).mean(dtype=t.float32)",
    "t.tensor([1j, 2]).cumsum(0, dtype=t.float32)",
    "t.tensor([1., 2]).cumsum(0, dtype=t.complex64)",
    "t.tensor([1, 2]).cumsum(0, dtype=t.complex128)",
    "t.cumsum(t.tensor([1j, 2]), 0, dtype=t.complex128)",
    "t.cumsum(t.tensor([1j, 2]), 0, dtype=t.int64)",
    "t.cumsum(t.tensor([1j, 2]), 0, dtype=t.float64, out=t.empty(0, dtype=t.float64))",
    "t.cumsum(t.tensor([1j, 2]), 0, dtype=t.complex128, out=t.empty(0, dtype=t.complex64))",
]


@pytest.mark.parametrize("expression", ACROSS_COMPLEX)
def test_reductions_with_a_dtype_across_complex(expression):
    _agree(expression)


def test_gradient_through_a_complex_sum_into_a_real_dtype():
    def run(lib):
        z = lib.tensor([1j, 2.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (z.sum(dtype=lib.float32) * 3).backward()
        return z.grad

    agree("sum(dtype=float32) of complex, backward", run, [])


# The dtypes torch's CPU kernels lack (max_pool1d without indices: no integers; avg_pool3d: no half
# types; reflection/replication pads: no bool), and Tensor.to's three signatures
CPU_KERNEL_DTYPES = {
    f"{name}-{dtype}": (call, dtype)
    for name, call in {
        "max_pool1d": lambda lib, x: lib.nn.functional.max_pool1d(x[0], 2),
        "max_pool1d_indices": lambda lib, x: lib.nn.functional.max_pool1d(x[0], 2, return_indices=True)[1],
        "max_pool2d": lambda lib, x: lib.nn.functional.max_pool2d(x[1], 2),
        "avg_pool3d": lambda lib, x: lib.nn.functional.avg_pool3d(x[2], 2),
        "reflect_1d": lambda lib, x: lib.nn.functional.pad(x[0], (1, 1), mode="reflect"),
        "reflect_2d": lambda lib, x: lib.nn.functional.pad(x[1], (1, 1, 1, 1), mode="reflect"),
        "replicate_3d": lambda lib, x: lib.nn.functional.pad(x[2], (1, 1, 1, 1, 1, 1), mode="replicate"),
        "circular_1d": lambda lib, x: lib.nn.functional.pad(x[0], (1, 1), mode="circular"),
    }.items()
    for dtype in ("int64", "int32", "uint8", "bool", "float16", "bfloat16")
}


@pytest.mark.parametrize("case", CPU_KERNEL_DTYPES, ids=list(CPU_KERNEL_DTYPES))
def test_cpu_kernel_dtype_refusals(case):
    call, dtype = CPU_KERNEL_DTYPES[case]

    def run(lib):
        kind = getattr(lib, dtype)
        inputs = [lib.arange(n, dtype=lib.int64).reshape(shape).to(kind) for n, shape in
                  ((4, (1, 1, 4)), (16, (1, 1, 4, 4)), (64, (1, 1, 4, 4, 4)))]  # fmt: skip
        return call(lib, inputs)

    agree(case, run, [])


TO_CALLS = {
    "two_dtypes": lambda lib, x: x.to(lib.float64, lib.float32),
    "dtype_then_device": lambda lib, x: x.to(lib.float16, "cpu"),
    "device_dtype_flags": lambda lib, x: x.to("cpu", lib.float16, True, True),
    "dtype_non_blocking": lambda lib, x: x.to(lib.float64, True),
    "tensor_flags": lambda lib, x: x.to(lib.ones(1, dtype=lib.int64), False, True),
    "python_type": lambda lib, x: x.to(float),
    "device_python_type": lambda lib, x: x.to("cpu", float),
    "too_many_flags": lambda lib, x: x.to(lib.float64, True, True, True),
    "none": lambda lib, x: x.to(None),
}


@pytest.mark.parametrize("case", TO_CALLS, ids=list(TO_CALLS))
def test_tensor_to_signatures(case):
    agree(case, lambda lib, x: TO_CALLS[case](lib, x), [torch.tensor([1.5, -2.0])])


SMALL_DTYPE_CASES = {
    "angle_float16": lambda lib: lib.angle(lib.tensor([-1.0, 1.0, float("nan"), -0.0], dtype=lib.float16)),
    "angle_bfloat16": lambda lib: lib.angle(lib.tensor([-1.0, 3.0], dtype=lib.bfloat16)),
    "add_alpha_0d_tensor": lambda lib: lib.tensor([1.0]).add(lib.tensor([2.0]), alpha=lib.tensor(2.0)),
    "add_alpha_int_0d_tensor": lambda lib: lib.tensor([1]).add(lib.tensor([2]), alpha=lib.tensor(2)),
    "sub_alpha_1d_tensor": lambda lib: lib.tensor([1.0]).sub(lib.tensor([2.0]), alpha=lib.tensor([3.0])),
}


@pytest.mark.parametrize("case", SMALL_DTYPE_CASES, ids=list(SMALL_DTYPE_CASES))
def test_small_dtype_cases(case):
    agree(case, SMALL_DTYPE_CASES[case], [])


def test_angle_of_half_gradient():
    agree("angle_half_grad", lambda lib, x: lib.angle(x).sum(), [torch.tensor([-1.0, 2.0]).half().requires_grad_()])
