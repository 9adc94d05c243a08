"""The eighth red-team round's kernel findings (linalg report #1, #3, #7, #9), each compared with torch
on the same input: complex -> bool casts, writes and clones of expanded tensors without elements,
einsum's broadcasting, checks, messages and dtypes, and complex exp at the C99 special values."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import tritongrad
from tests.test_hardening import agree

# ----------------------------------------------------------------------------------------------
# #1: a complex value casts to True when either part is nonzero (NaN parts too), without a warning
# ----------------------------------------------------------------------------------------------

COMPLEX_VALUES = [0j, 1j, 2 + 0j, complex("nan"), complex(0, float("nan")), complex(-0.0, -0.0), -3 - 4j]

CASTS_TO_BOOL = {
    "bool()": lambda lib, z: z.bool(),
    "to(bool)": lambda lib, z: z.to(lib.bool),
    "to(dtype=bool)": lambda lib, z: z.to(dtype=lib.bool),
    "type(bool)": lambda lib, z: z.type(lib.bool),
    "copy_": lambda lib, z: lib.zeros(len(COMPLEX_VALUES), dtype=lib.bool).copy_(z),
    "copy_ broadcast": lambda lib, z: lib.ones(2, len(COMPLEX_VALUES), dtype=lib.bool).copy_(z),
    "setitem": lambda lib, z: _setitem(lib.zeros(len(COMPLEX_VALUES), dtype=lib.bool), z),
    "strided": lambda lib, z: z[::2].bool(),
    "where": lambda lib, z: lib.where(z.bool(), 1, 0),
}


def _setitem(target, value):
    target[:] = value
    return target


@pytest.mark.parametrize("cast", sorted(CASTS_TO_BOOL))
@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_complex_to_bool_looks_at_both_parts(cast, dtype):
    # (the input is made inside: the harness's check of the inputs afterwards does not take NaN)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (torch gives no "discards the imaginary part" warning here)
        agree(f"{cast} {dtype}", lambda lib: CASTS_TO_BOOL[cast](lib, lib.tensor(COMPLEX_VALUES, dtype=dtype)), [])


def test_complex_to_real_still_keeps_the_real_part_with_the_warning():
    z = tritongrad.tensor(COMPLEX_VALUES)
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        result = z.float()
    expected = torch.tensor(COMPLEX_VALUES).real
    torch.testing.assert_close(torch.tensor(result.tolist()), expected, equal_nan=True)


# ----------------------------------------------------------------------------------------------
# #3: a tensor without elements has no internal overlap, expanded or not
# ----------------------------------------------------------------------------------------------

EMPTY_EXPANDED = {
    "zeros(0).expand(3,0)": lambda lib: lib.zeros(0).expand(3, 0),
    "eye(0).expand(2,0,0)": lambda lib: lib.eye(0).expand(2, 0, 0),
    "ones(1,3).expand(0,3)": lambda lib: lib.ones(1, 3).expand(0, 3),
}

WRITES = {
    "clone": lambda lib, x: x.clone(),
    "clone strides": lambda lib, x: x.clone().stride(),
    "contiguous": lambda lib, x: x.contiguous(),
    "add_": lambda lib, x: x.add_(1),
    "mul_": lambda lib, x: x.mul_(2),
    "exp_": lambda lib, x: x.exp_(),
    "zero_": lambda lib, x: x.zero_(),
    "copy_": lambda lib, x: x.copy_(lib.ones(x.shape)),
    "out=": lambda lib, x: lib.add(lib.ones(x.shape), 1, out=x),
    "masked_fill_": lambda lib, x: x.masked_fill_(lib.zeros(x.shape, dtype=lib.bool), 1.0),
    "index_fill_": lambda lib, x: x.index_fill_(-1, lib.tensor([], dtype=lib.long), 1.0),
}


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("make", sorted(EMPTY_EXPANDED))
def test_writes_and_clones_of_an_expanded_empty_tensor(make, write):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no "on expanded tensors is deprecated" warning either)
        agree(f"{make}.{write}", lambda lib: WRITES[write](lib, EMPTY_EXPANDED[make](lib)), [])


def test_an_expanded_tensor_with_elements_is_still_refused():
    agree("ones(2,1).expand(2,3).add_(1)", lambda lib: lib.ones(2, 1).expand(2, 3).add_(1), [])


def test_matrix_power_zero_of_an_empty_batch():
    agree("matrix_power(zeros(2,0,0), 0)", lambda lib: lib.linalg.matrix_power(lib.zeros(2, 0, 0), 0), [])


# ----------------------------------------------------------------------------------------------
# #7: einsum as torch's: size-1 broadcasting, repeated subscripts, dtypes, every message
# ----------------------------------------------------------------------------------------------

EINSUM_CASES = [
    ("i,i", [(1,), (3,)]),
    ("ij,jk->ik", [(2, 1), (3, 2)]),
    ("ij,jk->ik", [(2, 3), (4, 2)]),
    ("ij,ij->", [(1, 3), (2, 1)]),
    ("a,a", [(5,), (1,)]),
    ("i,i,i", [(3,), (1,), (4,)]),
    ("bij,bjk->bik", [(1, 2, 3), (4, 3, 2)]),
    ("bij,bjk->bik", [(2, 2, 3), (3, 3, 2)]),
    ("ii->i", [(2, 3)]),
    ("ii", [(2, 3)]),
    ("iji->j", [(3, 2, 2)]),
    ("iji->ij", [(2, 3, 2)]),
    ("iii->i", [(2, 2, 2)]),
    ("ii,i->i", [(1, 1), (3,)]),
    ("ij,jk->ii", [(2, 3), (3, 2)]),
    ("i,i->j", [(2,), (2,)]),
    ("...i,...i", [(2, 3), (4, 3)]),
    ("...i,...i", [(2, 1, 3), (4, 3)]),
    ("...ij,...jk", [(2, 1, 2, 3), (4, 3, 2)]),
    ("...i,...i->i", [(2, 3), (2, 3)]),
    ("i...,i...", [(2, 3), (1, 4)]),
    ("i,i->", [(0,), (1,)]),
    ("i,i->i", [(0,), (3,)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ij,jk,ki", [(2, 3), (3, 4), (4, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("aA,Ab->ab", [(2, 3), (3, 2)]),
    ("ba", [(2, 3)]),
    ("Ba", [(2, 3)]),
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),
    (",ij->ij", [(), (2, 3)]),
    ("", [()]),
    ("i.j", [(2, 3)]),
    ("i..,i", [(2,), (2,)]),
    ("...i...", [(2,)]),
    ("i->i.", [(2,)]),
    ("i...->...i...", [(2,)]),
    ("ij...->", [(2,)]),
    ("i", [(2, 2)]),
    ("i1", [(2, 2)]),
    ("i->1", [(2,)]),
    ("i->j->k", [(2,)]),
    ("i", [(2,), (2,)]),
    ("i,i", [(2,)]),
]


def _operands(shapes, dtype=torch.float32):
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype) for shape in shapes]


def _agree_exactly(name, function, inputs):
    """agree, with torch's whole message (einsum's messages name sizes and operands)."""
    try:
        function(torch, *inputs)
    except Exception as error:  # noqa: BLE001 - torch's error is the oracle
        ours = [tritongrad.tensor(t.tolist(), dtype=t.dtype) if isinstance(t, torch.Tensor) else t for t in inputs]
        with pytest.raises(type(error)) as raised:
            function(tritongrad, *ours)
        assert str(raised.value) == str(error), f"{name}: {str(raised.value)!r}, torch {str(error)!r}"
        return
    agree(name, function, inputs)


@pytest.mark.parametrize(("equation", "shapes"), EINSUM_CASES, ids=[f"{e!r}-{s}" for e, s in EINSUM_CASES])
def test_einsum_agrees(equation, shapes):
    _agree_exactly(equation, lambda lib, *xs: lib.einsum(equation, *xs), _operands(shapes))


EINSUM_DTYPES = [torch.int64, torch.int32, torch.float32, torch.float64, torch.bool]


@pytest.mark.parametrize("second", EINSUM_DTYPES)
@pytest.mark.parametrize("first", EINSUM_DTYPES)
@pytest.mark.parametrize("equation", ["i,j->ij", "i,i", "ij,j->j"])
def test_einsum_dtypes(equation, first, second):
    # a product without a contraction promotes (mul); one with a contraction is a bmm (one dtype)
    shapes = {"i,j->ij": [(2,), (3,)], "i,i": [(2,), (2,)], "ij,j->j": [(2, 2), (2,)]}[equation]
    a, b = (torch.ones(shape, dtype=dtype) for shape, dtype in zip(shapes, (first, second)))
    _agree_exactly(f"{equation} {first} {second}", lambda lib, a, b: lib.einsum(equation, a, b), [a, b])


@pytest.mark.parametrize(
    "dtypes", [(torch.int64, torch.float32), (torch.float32, torch.int64), (torch.bool, torch.bool)]
)
@pytest.mark.parametrize("equation", ["i,i->", "ij,jk->ik"])
def test_einsum_of_empty_operands_takes_the_second_dtype(equation, dtypes):
    shapes = {"i,i->": [(0,), (0,)], "ij,jk->ik": [(2, 0), (0, 3)]}[equation]
    a, b = (torch.zeros(shape, dtype=dtype) for shape, dtype in zip(shapes, dtypes))
    agree(f"{equation} {dtypes}", lambda lib, a, b: lib.einsum(equation, a, b), [a, b])


def test_einsum_three_operands_mixed_dtypes():
    ops = [torch.ones(2, dtype=d) for d in (torch.int64, torch.float32, torch.float64)]
    _agree_exactly("i,i,i", lambda lib, *xs: lib.einsum("i,i,i", *xs), ops)
    ops = [torch.ones(2, dtype=d) for d in (torch.int64, torch.int32, torch.float16)]
    agree("i,i,i->i", lambda lib, *xs: lib.einsum("i,i,i->i", *xs), ops)


SUBLISTS = {
    "matmul": lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 2], [0, 2]),
    "implicit A before b": lambda lib, a, b: lib.einsum(a, [0, 27]),
    "implicit 26 vs 0": lambda lib, a, b: lib.einsum(a, [26, 0]),
    "ellipsis": lambda lib, a, b: lib.einsum(a, [Ellipsis, 1], [1, Ellipsis]),
    "out of range": lambda lib, a, b: lib.einsum(a, [0, 52]),
    "list of operands": lambda lib, a, b: lib.einsum("ij,jk", [a, b]),
    "no operand": lambda lib, a, b: lib.einsum("i"),
}


@pytest.mark.parametrize("form", sorted(SUBLISTS))
def test_einsum_sublist_and_list_forms(form):
    _agree_exactly(form, SUBLISTS[form], _operands([(2, 3), (3, 4)]))


@pytest.mark.parametrize(
    ("equation", "shapes"),
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("ij,ij->", [(1, 3), (2, 3)]),
        ("ii->i", [(3, 3)]),
        ("bij,bjk", [(1, 2, 3), (2, 3, 2)]),
    ],
)
def test_einsum_gradients(equation, shapes):
    inputs = [x.requires_grad_() for x in _operands(shapes, torch.float64)]

    def run(lib, *xs):
        result = lib.einsum(equation, *xs)
        result.sum().backward()
        return result

    agree(equation, run, inputs)


# ----------------------------------------------------------------------------------------------
# #9: complex exp as C99's cexp (glibc's, which torch calls): overflow only where the product does
# ----------------------------------------------------------------------------------------------

_INF, _NAN = float("inf"), float("nan")
EXP_REALS = [0.0, -0.0, 1.0, -1.0, 88.0, 89.0, 100.0, 709.0, 710.0, 800.0, 2000.0, -800.0, _INF, -_INF, _NAN]
EXP_IMAGS = [0.0, -0.0, 1.0, -1.0, 3.0, 1e-40, 1e30, _INF, -_INF, _NAN]


def _same_part(ours: float, theirs: float, tolerance: float) -> bool:
    if math.isnan(theirs) or math.isnan(ours):
        return math.isnan(theirs) and math.isnan(ours)
    if theirs == 0 or math.isinf(theirs):
        return ours == theirs and math.copysign(1, ours) == math.copysign(1, theirs)
    return abs(ours - theirs) <= tolerance * abs(theirs)


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_complex_exp_special_values(dtype):
    values = [complex(x, y) for x in EXP_REALS for y in EXP_IMAGS]
    expected = torch.tensor(values, dtype=dtype).exp().tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (the interpreter's numpy meets inf * 0 on purpose)
        actual = tritongrad.tensor(values, dtype=dtype).exp().tolist()
    tolerance = 1e-6 if dtype == torch.complex64 else 1e-14
    wrong = [
        (value, got, want)
        for value, got, want in zip(values, actual, expected)
        if not (_same_part(got.real, want.real, tolerance) and _same_part(got.imag, want.imag, tolerance))
    ]
    assert not wrong, f"exp differs from torch's at (input, tritongrad, torch): {wrong}"
