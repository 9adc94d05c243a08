"""Complex tensors (complex64, complex128) against torch: storage and printing, type promotion, the ops
with complex kernels (values and gradients), the LLaMA rotary-embedding snippet trained one step, and a
sweep of every public function and Tensor method given a complex tensor (torch's answer, or an error of
an allowed type; the ops torch computes and tritongrad refuses are listed in ``KNOWN_GAPS``)."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, to_torch
from tritongrad import runtime
from tritongrad.dtypes import TORCH_COMPLEX_ONLY

COMPLEX_DTYPES = [torch.complex64, torch.complex128]
PARTS = {torch.complex64: torch.float32, torch.complex128: torch.float64}


def random_complex(shape, dtype, *, seed: int = 0, low: float = -2.0, high: float = 2.0) -> torch.Tensor:
    """Fresh random complex values (both parts uniform in [low, high), never exactly zero)."""
    generator = torch.Generator().manual_seed(seed)
    parts = low + (high - low) * torch.rand((*shape, 2), generator=generator, dtype=torch.float64)
    parts = torch.where(parts == 0, torch.full_like(parts, 0.5), parts)
    return torch.view_as_complex(parts).to(dtype)


def random_real(shape, dtype=torch.float32, *, seed: int = 1, low: float = -2.0, high: float = 2.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (low + (high - low) * torch.rand(shape, generator=generator, dtype=torch.float64)).to(dtype)


def assert_same(ours, theirs: torch.Tensor, what: str, kind: str = "default", **bounds) -> None:
    """Dtype, shape and values (a complex result part by part, with its parts' tolerances)."""
    got = to_torch(ours) if isinstance(ours, tritongrad.Tensor) else ours
    assert got.dtype == theirs.dtype, f"{what}: dtype {got.dtype}, torch {theirs.dtype}"
    assert tuple(got.shape) == tuple(theirs.shape), f"{what}: shape {tuple(got.shape)}, torch {tuple(theirs.shape)}"
    if theirs.dtype.is_complex:
        got, theirs = torch.view_as_real(got.resolve_conj()), torch.view_as_real(theirs.resolve_conj().detach())
    assert_close(got, theirs.detach(), kind=kind, what=what, **bounds)


# Each shape exercises something: empty, one element, a prime length, a matrix with a broadcast dim.
SHAPES = [(0,), (1,), (7,), (3, 5)]


# ----------------------------------------------------------------------------------------------
# Storage: dtypes, construction, readback, printing, views, copies, serialization
# ----------------------------------------------------------------------------------------------


def test_dtype_names_and_attributes():
    assert tritongrad.cfloat is tritongrad.complex64 is torch.complex64
    assert tritongrad.cdouble is tritongrad.complex128 is torch.complex128
    x = tritongrad.tensor([1 + 2j])
    assert x.dtype == torch.complex64 and x.is_complex() and x.dtype.is_complex and tritongrad.is_complex(x)
    assert not x.is_floating_point() and not tritongrad.tensor([1.0]).is_complex()
    assert tritongrad.tensor([1 + 2j], dtype=torch.complex128).element_size() == 16


@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_construction_matches_torch(dtype):
    cases = {
        "tensor(list)": lambda lib: lib.tensor([1 + 2j, 3 - 1j, -0.5j], dtype=dtype),
        "tensor(real list, dtype)": lambda lib: lib.tensor([[1.5, -2.0]], dtype=dtype),
        "zeros": lambda lib: lib.zeros(2, 3, dtype=dtype),
        "ones": lambda lib: lib.ones(5, dtype=dtype),
        "full(complex)": lambda lib: lib.full((2, 2), 1.5 - 2.5j, dtype=dtype),
        "full(real)": lambda lib: lib.full((3,), 2.0, dtype=dtype),
        "zeros_like": lambda lib: lib.zeros_like(lib.tensor([1j, 2.0], dtype=dtype)),
        "ones_like": lambda lib: lib.ones_like(lib.tensor([[1j], [2.0]], dtype=dtype)),
        "full_like": lambda lib: lib.full_like(lib.tensor([1j, 2.0], dtype=dtype), 3j),
        "empty": lambda lib: lib.empty(0, dtype=dtype),
    }
    for name, make in cases.items():
        assert_same(make(tritongrad), make(torch), name)
    # full infers the default complex dtype from a complex value, as torch does
    assert tritongrad.full((2,), 1j).dtype == torch.full((2,), 1j).dtype == torch.complex64
    assert tritongrad.empty(2, 3, dtype=dtype).shape == (2, 3)


@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_readback(dtype):
    values = [1.5 + 2j, -3 - 0.25j]
    x = tritongrad.tensor(values, dtype=dtype)
    assert x.tolist() == torch.tensor(values, dtype=dtype).tolist()
    assert x[1].item() == torch.tensor(values, dtype=dtype)[1].item() and isinstance(x[1].item(), complex)
    array = x.numpy()
    assert array.dtype == (np.complex64 if dtype == torch.complex64 else np.complex128)
    np.testing.assert_array_equal(array, np.array(values, dtype=array.dtype))


PRINTED = {
    "two elements": lambda: torch.tensor([1 + 2j, 3 - 1j]),
    "fixed point": lambda: torch.tensor([1.5 + 2j, -3.25 - 1j]),
    "0-dim": lambda: torch.tensor(1 + 2j),
    "scientific": lambda: torch.tensor([[1e10 + 1j, 2]]),
    "empty": lambda: torch.zeros(0, dtype=torch.complex64),
    "complex128": lambda: torch.tensor([1 + 2j], dtype=torch.complex128),
    "random matrix": lambda: random_complex((3, 4), torch.complex64),
    "summarised": lambda: random_complex((40, 40), torch.complex128, seed=3),
    "zeros, nan, inf": lambda: torch.tensor([0j, complex("nan"), complex("inf"), complex(0, -1)]),
    "wide": lambda: random_complex((30,), torch.complex64, seed=4) * 1000,
    "tiny": lambda: torch.tensor([1e-5 + 1j]),
}


@pytest.mark.parametrize("name", list(PRINTED))
def test_repr_is_torchs(name):
    expected = PRINTED[name]()
    assert repr(from_torch(expected)) == repr(expected)


def test_repr_with_grad_fn():
    leaf = torch.tensor([1 + 1j, 2 - 1j], requires_grad=True)
    ours = from_torch(leaf.detach(), requires_grad=True)
    assert repr(ours) == repr(leaf)
    assert repr(ours * 2) == repr(leaf * 2)


@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_views_and_copies(dtype):
    base = random_complex((4, 6), dtype)
    cases = {
        "view": lambda x: x.view(6, 4),
        "reshape": lambda x: x.reshape(2, 12),
        "transpose": lambda x: x.transpose(0, 1),
        "permute": lambda x: x.permute(1, 0),
        "flatten": lambda x: x.flatten(),
        "unsqueeze": lambda x: x.unsqueeze(1),
        "expand": lambda x: x[:1].expand(3, 6),
        "slice": lambda x: x[1:3, ::2],
        "int index": lambda x: x[2],
        "clone of transposed": lambda x: x.t().clone(),
        "contiguous of sliced": lambda x: x[:, 1::2].contiguous(),
        "detach": lambda x: x.detach(),
    }
    for name, view in cases.items():
        assert_same(view(from_torch(base)), view(base), name)
    ours = from_torch(base)
    assert_same(tritongrad.cat([ours, ours[:1]]), torch.cat([base, base[:1]]), "cat")
    assert_same(tritongrad.stack([ours.t(), ours.t()], dim=1), torch.stack([base.t(), base.t()], dim=1), "stack")
    target, expected = from_torch(torch.zeros(6, 4, dtype=dtype)), torch.zeros(6, 4, dtype=dtype)
    target.copy_(from_torch(base).t())
    expected.copy_(base.t())
    assert_same(target, expected, "copy_ of a transposed source")


@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_view_as_real_complex_and_parts_share_memory(dtype):
    base = random_complex((3, 2), dtype)
    x = from_torch(base)
    assert_same(tritongrad.view_as_real(x), torch.view_as_real(base), "view_as_real")
    assert_same(x.real, base.real, "real")
    assert_same(x.imag, base.imag, "imag")
    pairs = random_real((3, 4, 2), PARTS[dtype])
    assert_same(tritongrad.view_as_complex(from_torch(pairs)), torch.view_as_complex(pairs), "view_as_complex")
    # the parts are writable views, as torch's
    x.real.mul_(2.0)
    x.imag.zero_()
    expected = base.clone()
    expected.real.mul_(2.0)
    expected.imag.zero_()
    assert_same(x, expected, "written through .real and .imag")
    tritongrad.view_as_real(x)[0, 0, 1] = 5.0
    torch.view_as_real(expected)[0, 0, 1] = 5.0
    assert_same(x, expected, "written through view_as_real")
    real = from_torch(random_real((3,)))
    assert x.real is not x and real.real is real
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex dtypes"):
        real.imag  # noqa: B018
    with pytest.raises(RuntimeError, match="view_as_real is only supported for complex tensors"):
        tritongrad.view_as_real(real)
    with pytest.raises(RuntimeError, match="last dimension of size 2"):
        tritongrad.view_as_complex(from_torch(random_real((3, 3))))


@pytest.mark.parametrize("source", [torch.float32, torch.float64, torch.int64, torch.bool, torch.complex128])
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_to_complex(source, dtype):
    values = random_real((2, 3), torch.float64, low=-5, high=5)
    values = values.to(source) if not source.is_complex else random_complex((2, 3), source)
    assert_same(from_torch(values).t().to(dtype), values.t().to(dtype), f"{source} to {dtype}")


@pytest.mark.parametrize("target", [torch.float32, torch.float64, torch.int32])
def test_to_real_keeps_the_real_part_and_warns(target):
    values = random_complex((5,), torch.complex128) * 3
    with pytest.warns(UserWarning, match="Casting complex values to real discards the imaginary part"):
        ours = from_torch(values).to(target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = values.to(target)
    assert_same(ours, expected, f"complex128 to {target}")


IN_PLACE = {
    "copy_ real into complex": lambda lib, z, w, r: z.copy_(r),
    "copy_ complex into complex128": lambda lib, z, w, r: z.to(lib.complex128).copy_(w),
    "fill_ complex": lambda lib, z, w, r: z.fill_(2 - 1j),
    "zero_": lambda lib, z, w, r: z.zero_(),
    "setitem number": lambda lib, z, w, r: (z.__setitem__(1, 5j), z)[1],
    "setitem slice": lambda lib, z, w, r: (z.__setitem__(slice(0, 2), w[1:]), z)[1],
    "mul_": lambda lib, z, w, r: z.mul_(w),
    "add_ complex number": lambda lib, z, w, r: z.add_(1j),
    "div_": lambda lib, z, w, r: z.div_(w),
    "sub_ alpha": lambda lib, z, w, r: z.sub_(w, alpha=2),
    "exp_": lambda lib, z, w, r: z.exp_(),
    "neg_": lambda lib, z, w, r: z.neg_(),
    "*= 2": lambda lib, z, w, r: z.__imul__(2),
    "abs out= complex": lambda lib, z, w, r: lib.abs(z, out=w),
    "mul out=": lambda lib, z, w, r: lib.mul(z, w, out=lib.empty(3, dtype=lib.complex64)),
    "sum(dtype=complex128)": lambda lib, z, w, r: z.sum(dtype=lib.complex128),
    "isreal": lambda lib, z, w, r: lib.isreal(lib.complex(r, r * (r > 1.5))),
    "cfloat": lambda lib, z, w, r: r.cfloat(),
    "cdouble": lambda lib, z, w, r: r.cdouble(),
}


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_writes_and_conversions(name):
    results = []
    for lib in (torch, tritongrad):
        z, w = lib.tensor([1 + 2j, -0.5 + 0.25j, 3 - 1j]), lib.tensor([0.5 - 1j, 2 + 0.5j, -1 + 1.5j])
        results.append(IN_PLACE[name](lib, z, w, lib.tensor([1.0, 2.0, 3.0])))
    assert_same(results[1], results[0], name)


def test_copy_of_complex_into_real_keeps_the_real_part():
    values = torch.tensor([1 + 2j, -0.5 + 0.25j])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.zeros(2).copy_(values)
    with pytest.warns(UserWarning, match="Casting complex values to real discards the imaginary part"):
        ours = tritongrad.zeros(2).copy_(from_torch(values))
    assert_same(ours, expected, "copy_ complex into float32")


def test_python_numbers_of_a_complex_tensor():
    z = tritongrad.tensor([1 + 2j, 3 + 0j])
    assert complex(z[0]) == 1 + 2j and float(z[1]) == 3.0 and int(z[1]) == 3
    for convert, word in ((float, "double"), (int, "int64_t")):
        with pytest.raises(RuntimeError, match=f"value cannot be converted to type {word} without overflow"):
            convert(z[0])
    with pytest.raises(RuntimeError, match="In-place abs is not supported for complex tensors"):
        z.abs_()
    with pytest.raises(RuntimeError, match="value cannot be converted to type float without overflow"):
        tritongrad.zeros(2).fill_(1j)


def test_requires_grad_and_save_load_round_trip(tmp_path):
    x = tritongrad.tensor([1 + 2j, -1j], requires_grad=True)
    assert x.requires_grad and x.is_leaf
    y = tritongrad.tensor([1j], dtype=torch.complex128).requires_grad_()
    assert y.requires_grad
    path = tmp_path / "complex.pt"
    tritongrad.save({"a": x.detach(), "b": y.detach()}, path)
    loaded = tritongrad.load(path)
    assert_same(loaded["a"], torch.tensor([1 + 2j, -1j]), "loaded complex64")
    assert_same(loaded["b"], torch.tensor([1j], dtype=torch.complex128), "loaded complex128")


# ----------------------------------------------------------------------------------------------
# Type promotion
# ----------------------------------------------------------------------------------------------

PROMOTION_OPERANDS = {
    "f16": lambda lib: lib.ones(2, dtype=lib.float16),
    "f32": lambda lib: lib.ones(2),
    "f64": lambda lib: lib.ones(2, dtype=lib.float64),
    "i64": lambda lib: lib.ones(2, dtype=lib.int64),
    "bool": lambda lib: lib.ones(2, dtype=lib.bool),
    "c64": lambda lib: lib.ones(2, dtype=lib.complex64),
    "c128": lambda lib: lib.ones(2, dtype=lib.complex128),
    "0-dim c64": lambda lib: lib.tensor(1j),
    "0-dim c128": lambda lib: lib.tensor(1j, dtype=lib.complex128),
    "0-dim f64": lambda lib: lib.tensor(1.0, dtype=lib.float64),
    "1j": lambda lib: 1j,
    "2.0": lambda lib: 2.0,
    "3": lambda lib: 3,
}


@pytest.mark.parametrize("first", ["f32", "f64", "i64", "bool", "c64", "c128", "0-dim c64"])
def test_result_type_and_promote_types_match_torch(first):
    for second, make in PROMOTION_OPERANDS.items():
        expected = torch.result_type(PROMOTION_OPERANDS[first](torch), make(torch))
        got = tritongrad.result_type(PROMOTION_OPERANDS[first](tritongrad), make(tritongrad))
        assert got == expected, f"result_type({first}, {second}): {got}, torch {expected}"
    for a in (torch.float32, torch.float64, torch.int64, torch.bool, torch.complex64, torch.complex128):
        for b in (torch.float16, torch.complex64, torch.complex128):
            assert tritongrad.promote_types(a, b) == torch.promote_types(a, b), f"promote_types({a}, {b})"
    assert tritongrad.can_cast(torch.complex64, torch.float32) is torch.can_cast(torch.complex64, torch.float32)


@pytest.mark.parametrize(
    "name",
    ["f32 * 1j", "1j * f32", "f64 * 1j", "i64 * 1j", "f32 + c64", "f64 + c64", "i64 * c128", "c64 / f32",
     "f32 - 0-dim c128", "c64 - 3", "2.0 / c128", "bool * c64"],
)  # fmt: skip
def test_mixed_arithmetic_promotes_as_torch(name):
    left, op, right = name.split(" ", 2)
    symbols = {"*": "__mul__", "+": "__add__", "-": "__sub__", "/": "__truediv__"}

    def run(lib):
        a, b = PROMOTION_OPERANDS[left](lib), PROMOTION_OPERANDS[right](lib)
        a = a * 1.5 if left == "f32" else a
        if not isinstance(a, (lib.Tensor,)):
            return getattr(b, symbols[op].replace("__", "__r", 1))(a)
        return getattr(a, symbols[op])(b)

    assert_same(run(tritongrad), run(torch), name)


# ----------------------------------------------------------------------------------------------
# Ops with complex kernels: values (complex64, complex128, edge shapes, broadcasting, strided views)
# ----------------------------------------------------------------------------------------------

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "add alpha": lambda a, b: a.add(b, alpha=2),
    "sub complex alpha": lambda a, b: a.sub(b, alpha=1 - 1j),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
@pytest.mark.parametrize("op", list(BINARY))
def test_binary_ops(op, dtype, shape):
    a, b = random_complex(shape, dtype, seed=1), random_complex(shape, dtype, seed=2)
    real = random_real(shape[-1:], PARTS[dtype], seed=3, low=0.5, high=2.0)
    function = BINARY[op]
    assert_same(function(from_torch(a), from_torch(b)), function(a, b), f"{op} {dtype} {shape}")
    # broadcast with a real operand on either side
    assert_same(function(from_torch(a), from_torch(real)), function(a, real), f"{op} complex, real")
    assert_same(function(from_torch(real), from_torch(a)), function(real, a), f"{op} real, complex")
    # Python scalars, complex and real
    assert_same(function(from_torch(a), 0.5 - 1.5j), function(a, 0.5 - 1.5j), f"{op} complex scalar")
    assert_same(function(from_torch(a), 3), function(a, 3), f"{op} int scalar")


@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_binary_ops_on_strided_and_broadcast_operands(dtype):
    a = random_complex((5, 3), dtype, seed=4).t()  # transposed
    b = random_complex((3, 11), dtype, seed=5)[:, 1::2]  # sliced with an offset
    c = random_complex((1, 5), dtype, seed=6).expand(3, 5)  # expanded
    for op, function in BINARY.items():
        assert_same(function(from_torch(a), from_torch(b)), function(a, b), f"{op} transposed, sliced")
        assert_same(function(from_torch(c), from_torch(a)), function(c, a), f"{op} expanded, transposed")
        column = random_complex((3, 1), dtype, seed=7)
        assert_same(function(from_torch(a), from_torch(column)), function(a, column), f"{op} broadcast column")


def test_more_than_one_block(monkeypatch):
    monkeypatch.setattr(runtime, "INTERPRETER_MAX_BLOCK", 64)  # (prime 251 elements: 4 programs)
    a, b = random_complex((251,), torch.complex64, seed=8), random_complex((251,), torch.complex64, seed=9)
    for op, function in BINARY.items():
        assert_same(function(from_torch(a), from_torch(b)), function(a, b), f"{op} over 4 blocks")
    assert_same(from_torch(a).exp(), a.exp(), "exp over 4 blocks")
    assert_same(from_torch(a).sum(), a.sum(), "sum over 4 blocks", kind="row_reduction")


UNARY = {
    "neg": lambda lib, x: -x,
    "conj": lambda lib, x: x.conj(),
    "conj_physical": lambda lib, x: lib.conj_physical(x),
    "resolve_conj": lambda lib, x: x.conj().resolve_conj(),
    "abs": lambda lib, x: x.abs(),
    "angle": lambda lib, x: x.angle(),
    "exp": lambda lib, x: x.exp(),
    "reciprocal": lambda lib, x: x.reciprocal(),
    "1 / x": lambda lib, x: 1 / x,
    "sgn": lambda lib, x: x.sgn(),
    "real": lambda lib, x: lib.real(x),
    "imag": lambda lib, x: lib.imag(x),
}


@pytest.mark.parametrize("shape", SHAPES + [()])
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
@pytest.mark.parametrize("op", list(UNARY))
def test_unary_ops(op, dtype, shape):
    x = random_complex(shape, dtype, seed=10)
    assert_same(UNARY[op](tritongrad, from_torch(x)), UNARY[op](torch, x), f"{op} {dtype} {shape}")
    if len(shape) == 2:
        assert_same(UNARY[op](tritongrad, from_torch(x).t()), UNARY[op](torch, x.t()), f"{op} transposed")


def test_conj_flags_as_torch():
    x = tritongrad.tensor([1 + 2j])
    assert x.conj().is_conj() and not x.conj().resolve_conj().is_conj() and not x.conj_physical().is_conj()
    assert not x.conj().conj().is_conj() and tritongrad.is_conj(x.conj())
    real = tritongrad.tensor([1.0])
    assert real.conj() is real and not real.conj().is_conj()
    with pytest.raises(RuntimeError, match="unresolved conjugated"):
        tritongrad.view_as_real(x.conj())


def test_angle_of_real_tensors():
    values = torch.tensor([-2.0, -0.0, 0.0, 3.0, float("nan"), -float("inf")])
    assert_same(from_torch(values).angle(), values.angle(), "angle of float32")
    assert_same(from_torch(values.double()).angle(), values.double().angle(), "angle of float64")
    integers = torch.tensor([-3, 0, 4])
    assert_same(from_torch(integers).angle(), integers.angle(), "angle of int64")


@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_special_values(dtype):
    values = torch.tensor([0j, complex(1e30, 1e30), complex(-1e-30, 2e-30), complex(0, -3)], dtype=dtype)
    for op in ("abs", "angle", "reciprocal", "sgn", "exp"):
        assert_same(UNARY[op](tritongrad, from_torch(values)), UNARY[op](torch, values), f"{op} {dtype}")


REDUCTIONS = {
    "sum": lambda x: x.sum(),
    "sum(0)": lambda x: x.sum(0),
    "sum(-1, keepdim)": lambda x: x.sum(-1, keepdim=True),
    "mean": lambda x: x.mean(),
    "mean((0, 1))": lambda x: x.mean((0, 1)),
    "mean(1)": lambda x: x.mean(1),
}


@pytest.mark.parametrize("shape", [(0, 3), (1, 1), (7, 3), (2, 3, 5)])
@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_reductions(dtype, shape):
    x = random_complex(shape, dtype, seed=11)
    for name, function in REDUCTIONS.items():
        assert_same(function(from_torch(x)), function(x), f"{name} {dtype} {shape}", kind="row_reduction")
        assert_same(function(from_torch(x).transpose(0, 1)), function(x.transpose(0, 1)), f"{name} transposed",
                    kind="row_reduction")  # fmt: skip
    scalar = random_complex((), dtype, seed=12)
    assert_same(from_torch(scalar).sum(), scalar.sum(), "sum of a 0-dim tensor")


@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
def test_matmul_and_outer(dtype):
    a, b = random_complex((3, 4), dtype, seed=13), random_complex((4, 5), dtype, seed=14)
    batch = random_complex((2, 3, 4), dtype, seed=15)
    vector = random_complex((4,), dtype, seed=16)
    cases = {
        "mm": (a, b), "transposed": (b.t(), a.t()), "batched": (batch, b), "matrix @ vector": (a, vector),
        "vector @ matrix": (vector, b), "dot": (vector, vector), "empty K": (a[:, :0], b[:0]),
    }  # fmt: skip
    for name, (left, right) in cases.items():
        assert_same(from_torch(left) @ from_torch(right), left @ right, f"matmul {name}", kind="row_reduction")
    real = random_real((5,), PARTS[dtype])
    assert_same(tritongrad.outer(from_torch(vector), from_torch(real)), torch.outer(vector, real), "outer")
    assert_same(tritongrad.outer(from_torch(real), from_torch(vector)), torch.outer(real, vector), "outer")
    with pytest.raises(RuntimeError, match="same dtype"):
        from_torch(a) @ from_torch(random_real((4, 2), PARTS[dtype]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_complex_and_polar(dtype):
    real, imag = random_real((3, 1), dtype, seed=17), random_real((4,), dtype, seed=18)
    assert_same(tritongrad.complex(from_torch(real), from_torch(imag)), torch.complex(real, imag), "complex")
    magnitude = random_real((3, 1), dtype, seed=19, low=0.1, high=3.0)
    assert_same(tritongrad.polar(from_torch(magnitude), from_torch(imag)), torch.polar(magnitude, imag), "polar")
    other = torch.float64 if dtype == torch.float32 else torch.float32
    for op in ("complex", "polar"):
        for first, second in ((real, imag.to(other)), (real.long(), imag.long())):
            with pytest.raises(RuntimeError) as ours:
                getattr(tritongrad, op)(from_torch(first), from_torch(second))
            with pytest.raises(RuntimeError) as theirs:
                getattr(torch, op)(first, second)
            assert str(theirs.value)[:40] in str(ours.value), f"{op}: {ours.value} vs {theirs.value}"


# ----------------------------------------------------------------------------------------------
# Gradients: torch's conjugate Wirtinger convention, compared leaf by leaf, and float64 gradcheck
# ----------------------------------------------------------------------------------------------


def _real_loss(lib, value):
    """A real scalar of a complex (or real) result that weighs both parts differently."""
    if value.dtype.is_complex:
        pairs = lib.view_as_real(value)
        return (pairs[..., 0] * 1.5 + pairs[..., 1] * pairs[..., 1]).sum()
    return (value * value).sum()


GRADIENTS = {
    "add": lambda lib, a, b, r: a + b * r,
    "sub": lambda lib, a, b, r: a - r,
    "mul": lambda lib, a, b, r: a * b,
    "mul real": lambda lib, a, b, r: a * r,
    "div": lambda lib, a, b, r: a / b,
    "div real": lambda lib, a, b, r: r / a,
    "neg": lambda lib, a, b, r: -a,
    "conj": lambda lib, a, b, r: a.conj() * b,
    "conj_physical": lambda lib, a, b, r: lib.conj_physical(a) * b,
    "abs": lambda lib, a, b, r: a.abs() * r,
    "angle": lambda lib, a, b, r: a.angle() * r,
    "exp": lambda lib, a, b, r: (a * 0.5).exp(),
    "reciprocal": lambda lib, a, b, r: a.reciprocal(),
    "real and imag": lambda lib, a, b, r: a.real * r + b.imag * 2,
    "sum": lambda lib, a, b, r: (a * b).sum(0),
    "mean": lambda lib, a, b, r: (a * b).mean(),
    "matmul": lambda lib, a, b, r: a.unsqueeze(0) @ b.unsqueeze(1),
    "outer": lambda lib, a, b, r: lib.outer(a, r),
    "view_as_real": lambda lib, a, b, r: lib.view_as_real(a * b) * r.unsqueeze(-1),
    "view_as_complex": lambda lib, a, b, r: lib.view_as_complex(lib.stack([r, r * r], -1)) * a,
    "complex": lambda lib, a, b, r: lib.complex(r, r * 2) * a,
    "polar": lambda lib, a, b, r: lib.polar(r * r + 0.5, r) * b,
    "to complex": lambda lib, a, b, r: r.to(a.dtype) * a,
    "views": lambda lib, a, b, r: (a.unsqueeze(1).expand(5, 3) * b.reshape(5, 1)).t().flatten(),
    "cat": lambda lib, a, b, r: lib.cat([a, b[1:]]) * 2j,
    "broadcast": lambda lib, a, b, r: a * r.unsqueeze(1) / b.unsqueeze(1),  # (grads summed back to each shape)
}


@pytest.mark.parametrize("dtype", COMPLEX_DTYPES)
@pytest.mark.parametrize("op", list(GRADIENTS))
def test_gradients_match_torch(op, dtype):
    a, b = random_complex((5,), dtype, seed=20, low=0.3), random_complex((5,), dtype, seed=21, low=0.3)
    r = random_real((5,), PARTS[dtype], seed=22, low=0.5, high=2.0)
    theirs = [t.detach().clone().requires_grad_() for t in (a, b, r)]
    ours = [from_torch(t, requires_grad=True) for t in (a, b, r)]
    _real_loss(torch, GRADIENTS[op](torch, *theirs)).backward()
    _real_loss(tritongrad, GRADIENTS[op](tritongrad, *ours)).backward()
    for name, mine, reference in zip("abr", ours, theirs):
        if reference.grad is None:
            assert mine.grad is None, f"{op}: {name} has a gradient, torch's has none"
            continue
        assert_same(mine.grad, reference.grad, f"{op} {dtype}: gradient of {name}", kind="autograd")


def test_grad_fn_names_are_torchs():
    for op in ("mul", "div", "conj", "abs", "angle", "exp", "view_as_real", "view_as_complex", "complex", "polar"):
        a, b = torch.tensor([1 + 2j], requires_grad=True), torch.tensor([2 - 1j], requires_grad=True)
        r = torch.tensor([1.5], requires_grad=True)
        theirs = GRADIENTS[op](torch, a, b, r)
        ours = GRADIENTS[op](tritongrad, *[from_torch(t, requires_grad=True) for t in (a, b, r)])
        assert ours.grad_fn.name() == theirs.grad_fn.name(), f"{op}: {ours.grad_fn.name()}"


def test_complex_leaf_gradient_accumulates():
    a = torch.tensor([1 + 2j, -1j], requires_grad=True)
    ours = from_torch(a.detach(), requires_grad=True)
    for _ in range(2):
        _real_loss(torch, a * a).backward()
        _real_loss(tritongrad, ours * ours).backward()
    assert_same(ours.grad, a.grad, "accumulated .grad of a complex leaf")


def test_backward_of_a_complex_scalar_needs_a_gradient():
    z = tritongrad.tensor([1 + 2j, 3j], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar outputs"):
        (z * z).sum().backward()
    (z * z).sum().backward(tritongrad.tensor(1 - 1j))
    reference = torch.tensor([1 + 2j, 3j], requires_grad=True)
    (reference * reference).sum().backward(torch.tensor(1 - 1j))
    assert_same(z.grad, reference.grad, "gradient of a complex output given its gradient")


def test_optimizers_step_complex_parameters():
    # (as torch's, each as its view_as_real: tests/test_optim_complex.py compares every optimizer)
    parameter = tritongrad.nn.Parameter(tritongrad.tensor([1 + 2j, 3j]))
    (parameter.abs() * 2).sum().backward()
    for optimizer in (tritongrad.optim.SGD([parameter], lr=0.1), tritongrad.optim.Adam([parameter])):
        before = parameter.detach().clone()
        optimizer.step()
        assert not tritongrad.equal(parameter.detach(), before)


def test_sgn_of_a_complex_tensor_refuses_to_record():
    x = tritongrad.tensor([1 + 2j], requires_grad=True)
    with pytest.raises(NotImplementedError, match="SgnBackward0"):
        x.sgn()


def test_gradcheck_through_real_inputs():
    def through_complex(magnitude, phase, pairs):
        z = tritongrad.polar(magnitude, phase) * tritongrad.view_as_complex(pairs)
        w = tritongrad.complex(magnitude, phase) / (z + 3)
        return tritongrad.view_as_real(w * z.conj() + z.exp() @ w.unsqueeze(-1).expand(2, 2)).abs().sum(0)

    generator = torch.Generator().manual_seed(23)
    inputs = [
        (torch.rand(2, generator=generator, dtype=torch.float64) + 0.5),
        (torch.rand(2, generator=generator, dtype=torch.float64) * 2 - 1),
        (torch.rand(2, 2, generator=generator, dtype=torch.float64) * 2 - 1),
    ]
    assert tritongrad.autograd.gradcheck(through_complex, [from_torch(t, requires_grad=True) for t in inputs])
    pairs = from_torch(torch.view_as_real(random_complex((2,), torch.complex128, seed=24)), requires_grad=True)
    assert tritongrad.autograd.gradcheck(lambda p: tritongrad.view_as_complex(p).angle() * 2, [pairs])
    assert tritongrad.autograd.gradcheck(lambda p: tritongrad.view_as_complex(p).abs().exp(), [pairs])


def _rope(lib, weight, x):
    """The LLaMA rotary embedding as the tutorials write it (precompute_freqs_cis, reshape_for_broadcast,
    apply_rotary_emb), on ``x * weight``, then a loss."""
    dim, end, theta = x.shape[-1], x.shape[1], 10000.0
    freqs = 1.0 / (theta ** (lib.arange(0, dim, 2)[: (dim // 2)].float() / dim))
    t = lib.arange(end, device=freqs.device)
    freqs = lib.outer(t, freqs).float()
    freqs_cis = lib.polar(lib.ones_like(freqs), freqs)  # complex64
    xq = x * weight
    xq_ = lib.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))
    freqs_cis = freqs_cis.view(1, xq_.shape[1], 1, xq_.shape[-1])
    xq_out = lib.view_as_real(xq_ * freqs_cis).flatten(3)
    return xq_out.type_as(xq)


def test_rotary_embedding_trains_one_sgd_step_as_torch():
    x = random_real((2, 5, 3, 8), seed=25)  # (batch, sequence, heads, head dim)
    weight = random_real((8,), seed=26)
    target = random_real((2, 5, 3, 8), seed=27)
    results = {}
    for lib in (torch, tritongrad):
        w = weight.clone().requires_grad_() if lib is torch else from_torch(weight, requires_grad=True)
        inputs = (x, target) if lib is torch else (from_torch(x), from_torch(target))
        optimizer = (torch.optim if lib is torch else tritongrad.optim).SGD([w], lr=0.1)
        out = _rope(lib, w, inputs[0])
        loss = ((out - inputs[1]) ** 2).mean()
        loss.backward()
        optimizer.step()
        results[lib.__name__] = (out, loss, w)
    (out, loss, w), (ours_out, ours_loss, ours_w) = results["torch"], results["tritongrad"]
    assert ours_out.dtype == out.dtype == torch.float32
    assert_same(ours_out, out, "rotary output")
    assert_same(ours_loss, loss, "loss", kind="row_reduction")
    assert_same(ours_w, w.detach(), "weight after one SGD step", kind="autograd")


# ----------------------------------------------------------------------------------------------
# The sweep: every public function and Tensor method given a small complex tensor
# ----------------------------------------------------------------------------------------------


def test_refusals_name_tritongrad_only_where_torch_computes_the_op():
    x = torch.tensor([1 + 2j, -0.5 + 0.25j])
    for op in sorted(TORCH_COMPLEX_ONLY):
        function, computed = getattr(torch, op), False
        for arguments in ((x,), (x, x), (x, 0)):
            try:
                function(*arguments)
            except (RuntimeError, TypeError):
                continue
            computed = True
            break
        assert computed, f"torch refuses {op} of a complex tensor: it has no place in dtypes.TORCH_COMPLEX_ONLY"
    with pytest.raises(NotImplementedError, match="tritongrad: sin of complex tensors is not implemented"):
        from_torch(x).sin()
    with pytest.raises(NotImplementedError, match="\"floor\" not implemented for 'ComplexFloat'"):
        from_torch(x).floor()


ALLOWED_ERRORS = (RuntimeError, TypeError, NotImplementedError, ValueError, IndexError)

# Never called: they change global state, touch files or processes, wait, or hash by identity.
SWEEP_SKIPPED = {
    "set_default_dtype", "set_default_tensor_type", "manual_seed", "seed", "set_rng_state", "set_printoptions",
    "save", "load", "compile", "use_deterministic_algorithms", "set_grad_enabled", "set_num_threads",
    "set_num_interop_threads", "set_float32_matmul_precision", "set_anomaly_enabled", "set_flush_denormal",
    "share_memory_", "pin_memory", "cuda", "to_dense", "set_autocast_enabled", "set_autocast_dtype",
    "set_autocast_cpu_dtype", "set_autocast_gpu_dtype", "set_warn_always", "__iter__", "tolist", "numpy",
    "__array__", "set_", "register_hook", "register_post_accumulate_grad_hook", "backward", "apply_", "map_",
    "new", "storage", "untyped_storage", "data_ptr", "__reduce_ex__", "__setstate__", "__deepcopy__", "__hash__",
    "random_", "uniform_", "normal_", "exponential_", "geometric_", "cauchy_", "log_normal_", "bernoulli_",
}  # fmt: skip
# Results that are random or depend on memory: compared by dtype and shape only.
SWEEP_RANDOM = {"rand_like", "randn_like", "dropout", "alpha_dropout", "feature_alpha_dropout", "empty_like",
                "dropout1d", "dropout2d", "dropout3d", "rrelu", "bernoulli", "new_empty", "new_empty_strided",
                "gumbel_softmax", "randint_like", "multinomial", "poisson", "normal"}  # fmt: skip
# Calls torch refuses for their arguments, not for the dtype (a size, a device type or a second matrix
# it requires and tritongrad defaults): the same with a real tensor, so not this sweep's business.
SWEEP_ARGUMENTS_DIFFER = {
    "chain_matmul", "get_autocast_dtype", "is_autocast_enabled", "result_type", "scalar_tensor", "tile",
    "new_empty", "new_ones", "new_zeros", "resize_", "sum_to_size",
}  # fmt: skip

# What torch computes on a complex tensor and tritongrad refuses with NotImplementedError: the gap,
# by name for the call with the tensor alone and as ``name(x, y)`` for the call with two complex tensors.
KNOWN_GAPS = {
    "function": {
        "acos", "acos_", "acosh", "acosh_", "arccos", "arccos_", "arccosh", "arccosh_", "arcsin", "arcsin_",
        "arcsinh", "arcsinh_", "arctan", "arctan_", "arctanh", "arctanh_", "asin", "asin_", "asinh", "asinh_",
        "atan", "atan_", "atanh", "atanh_", "corrcoef", "cos", "cos_", "cosh", "cosh_", "cov", "dist(x, y)", "exp2",
        "exp2_", "expm1", "expm1_", "float_power(x, y)", "ldexp(x, y)", "ldexp_(x, y)", "log", "log10", "log10_",
        "log1p", "log1p_", "log2", "log2_", "log_", "logaddexp(x, y)",
        "nan_to_num", "nan_to_num_", "norm", "normal", "pairwise_distance(x, y)", "pow(x, y)",
        "prod", "rsqrt", "rsqrt_", "sigmoid", "sigmoid_", "sin", "sin_", "sinc", "sinc_", "sinh", "sinh_", "sqrt",
        "sqrt_", "square", "square_", "std", "std_mean", "tan", "tan_", "tanh", "tanh_", "vander", "var",
        "var_mean", "where"
    },
    "method": {
        "__ipow__(x, y)", "__pow__(x, y)", "__rpow__(x, y)", "acos", "acos_", "acosh", "acosh_", "arccos",
        "arccos_", "arccosh", "arccosh_", "arcsin", "arcsin_", "arcsinh", "arcsinh_", "arctan", "arctan_",
        "arctanh", "arctanh_", "asin", "asin_", "asinh", "asinh_", "atan", "atan_", "atanh", "atanh_", "corrcoef",
        "cos", "cos_", "cosh", "cosh_", "cov", "dist(x, y)", "exp2", "exp2_", "expm1", "expm1_",
        "float_power(x, y)", "ldexp(x, y)", "ldexp_(x, y)", "log", "log10", "log10_", "log1p", "log1p_", "log2",
        "log2_", "log_", "logaddexp(x, y)", "logical_not_",
        "nan_to_num",
        "nan_to_num_", "norm", "pow(x, y)", "pow_(x, y)", "prod", "rsqrt",
        "rsqrt_", "sigmoid", "sigmoid_", "sin", "sin_", "sinc", "sinc_", "sinh", "sinh_", "sqrt", "sqrt_", "square",
        "square_", "std", "tan", "tan_", "tanh", "tanh_", "var"
    },
    "functional": {
        "l1_loss(x, y)", "pairwise_distance(x, y)", "sigmoid", "silu", "soft_margin_loss(x, y)", "tanh",
        "tanhshrink"
    },
}  # fmt: skip


def _sweep_inputs(lib, count: int) -> list:
    values = [torch.tensor([1 + 2j, -0.5 + 0.25j, 3 - 1j]), torch.tensor([0.5 - 1j, 2 + 0.5j, -1 + 1.5j])]
    return [value.clone() if lib is torch else from_torch(value) for value in values[:count]]


def _same_result(ours, theirs, what: str) -> None:
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tritongrad.Tensor), f"{what}: torch gives a tensor, tritongrad {type(ours).__name__}"
        if what.split()[1].split("(")[0] in SWEEP_RANDOM:
            assert ours.dtype == theirs.dtype and tuple(ours.shape) == tuple(theirs.shape), what
            return
        assert_same(ours, theirs, what, rtol=1e-5, atol=1e-5)
    elif isinstance(theirs, (tuple, list)) and not isinstance(theirs, torch.Size):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), f"{what}: {ours!r} vs {theirs!r}"
        for number, (got, want) in enumerate(zip(ours, theirs)):
            _same_result(got, want, f"{what}[{number}]")
    elif isinstance(theirs, (bool, int, float, complex, str, torch.Size, torch.dtype, type(None))):
        assert ours == theirs, f"{what}: {ours!r}, torch {theirs!r}"


def _sweep_one(kind: str, name: str, ours_function, theirs_function, count: int):
    """(refused label or None, failure or None) for ``name`` called with ``count`` complex tensors."""
    label = name if count == 1 else f"{name}(x, y)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ours, ours_error = ours_function(*_sweep_inputs(tritongrad, count)), None
        except ALLOWED_ERRORS as error:
            ours, ours_error = None, error
        except Exception as error:  # noqa: BLE001 - the point: no other error type may escape
            return None, f"{kind} {label}: {type(error).__name__}: {str(error)[:120]}"
        if theirs_function is None:
            return None, None
        try:
            theirs = theirs_function(*_sweep_inputs(torch, count))
        except Exception:  # noqa: BLE001 - torch refuses: tritongrad must refuse too
            if ours_error is None and name not in SWEEP_ARGUMENTS_DIFFER:
                return None, f"{kind} {label}: torch raises, tritongrad returns {type(ours).__name__}"
            return None, None
    if theirs is NotImplemented:  # (torch's binary dunders without an operand)
        return None, None
    if ours_error is not None:
        if not isinstance(ours_error, NotImplementedError):
            return label, f"{kind} {label}: torch computes it, tritongrad raises {ours_error!r}"[:200]
        return label, None
    try:
        _same_result(ours, theirs, f"{kind} {label}")
    except AssertionError as error:
        return None, str(error)[:200]
    return None, None


def _public_functions(module) -> set:
    return {
        name for name, value in vars(module).items()
        if not name.startswith("_") and callable(value) and not inspect.isclass(value)
        and not inspect.ismodule(value)
    }  # fmt: skip


@pytest.mark.parametrize("kind", ["function", "method", "functional"])
def test_sweep_of_the_api_with_a_complex_tensor(kind):
    if kind == "function":
        names = _public_functions(tritongrad)
        ours_of = lambda name: getattr(tritongrad, name)  # noqa: E731
        theirs_of = lambda name: getattr(torch, name, None)  # noqa: E731
    elif kind == "functional":
        names = _public_functions(F)
        ours_of = lambda name: getattr(F, name)  # noqa: E731
        theirs_of = lambda name: getattr(torch.nn.functional, name, None)  # noqa: E731
    else:
        names = {name for name, value in vars(tritongrad.Tensor).items() if callable(value)}
        names -= {"__init__", "__new__", "__init_subclass__", "__subclasshook__", "__class_getitem__", "_wrap"}
        names = {name for name in names if not name.startswith("_") or name.startswith("__")}
        ours_of = lambda name: lambda x, *rest: getattr(x, name)(*rest)  # noqa: E731
        theirs_of = lambda name: (lambda x, *rest: getattr(x, name)(*rest)) if hasattr(torch.Tensor, name) else None  # noqa: E731
    refused, failures = set(), []
    for name in sorted(names - SWEEP_SKIPPED):
        for count in (1, 2):
            gap, failure = _sweep_one(kind, name, ours_of(name), theirs_of(name), count)
            refused |= {gap} - {None}
            failures += [failure] if failure else []
    assert not failures, f"{len(failures)} {kind} calls differ from torch on complex tensors:\n" + "\n".join(failures)
    assert refused == KNOWN_GAPS[kind], (
        f"the {kind}s torch computes on complex tensors and tritongrad refuses changed: newly refused "
        f"{sorted(refused - KNOWN_GAPS[kind])}, now computed {sorted(KNOWN_GAPS[kind] - refused)}"
    )
