"""torch.special's Bessel functions of the first, second and modified second kind, Airy's Ai and
the orthogonal polynomials (kernels/special_bessel.py, kernels/orthogonal_polynomials.py): values
against torch's in float64 where torch is accurate and against mpmath's (50 digits, written out)
where it is not, float32 results, torch's special values, dtype rules, errors and ``out=``."""

from __future__ import annotations

import math

import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tests.utils import to_torch

BESSEL = [
    "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1",
    "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "airy_ai",
]  # fmt: skip
POLYNOMIALS = [
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
    "legendre_polynomial_p",
]  # fmt: skip

# Where torch's values are accurate to ~1e-14 (its J and Y lose up to 1e-7 between 2 and ~20, its Ai
# as much between -2 and -4: those points are checked against mpmath below instead).
_ACCURATE = {
    "bessel_j0": [-40.0, -25.5, -0.3, 0.0, 0.5, 1.25, 1.9, 21.0, 33.3],
    "bessel_y0": [1e-300, 1e-6, 0.3, 0.5, 1.25, 1.9, 21.0, 33.3],
    "modified_bessel_k0": [1e-300, 1e-6, 0.3, 1.0, 1.99, 2.0, 2.01, 5.5, 9.0, 30.0, 400.0, 800.0],
    "airy_ai": [-12.5, -9.0, -1.5, -0.5, 0.0, 0.7, 1.99, 2.01, 4.0, 9.5, 30.0, 103.0],
}
_ACCURATE["bessel_j1"] = _ACCURATE["bessel_j0"]
_ACCURATE["bessel_y1"] = _ACCURATE["bessel_y0"]
for _name in ("modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1"):
    _ACCURATE[_name] = _ACCURATE["modified_bessel_k0"]

_SPECIAL_POINTS = [-math.inf, -30.0, -0.0, 0.0, math.inf, math.nan, 104.0, -1e-300]

# mpmath's values (50 digits, rounded) where torch's are off by 1e-12 .. 1e-7
_MPMATH_POINTS = [3.3, 5.5, 7.0, 9.0, 12.5]
_MPMATH = {
    "bessel_j0": [-0.3442962603988846, -0.006843869417819197, 0.3000792705195556, -0.09033361118287614,
                  0.1468840547004211],
    "bessel_j1": [0.22066345298524115, -0.34143821542904335, -0.004682823482345833, 0.24531178657332528,
                  -0.16548380461475973],
    "bessel_y0": [0.26909199505453385, -0.339480592881911, -0.025949743967209265, 0.24993669828502468,
                  -0.1712143068446693],
    "bessel_y1": [0.3878529310237099, -0.023758238956389618, -0.30266723702418485, 0.10431457519671589,
                  -0.1538382565375012],
}  # fmt: skip
_AIRY_POINTS = [-2.3, -3.0, -5.0, -7.5]
_AIRY = [0.02670633305735697, -0.37881429367765806, 0.35076100902411433, 0.3217757163806479]


def _ours(name, *arguments, **options):
    converted = [tritongrad.tensor(a.tolist(), dtype=a.dtype) if isinstance(a, torch.Tensor) else a for a in arguments]
    return to_torch(getattr(tritongrad.special, name)(*converted, **options))


@pytest.mark.parametrize("name", BESSEL)
def test_bessel_matches_torch_in_float64(name):
    x = torch.tensor(_ACCURATE[name], dtype=torch.float64)
    torch.testing.assert_close(_ours(name, x), getattr(torch.special, name)(x), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", BESSEL)
def test_bessel_special_values_are_torchs(name):
    x = torch.tensor(_SPECIAL_POINTS, dtype=torch.float64)
    expected = getattr(torch.special, name)(x)
    actual = _ours(name, x)
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-300, equal_nan=True)
    finite = expected.isfinite()
    assert torch.equal(actual[finite].signbit(), expected[finite].signbit())  # J1(-0.0) is -0.0


@pytest.mark.parametrize("name", list(_MPMATH))
def test_bessel_first_and_second_kind_are_accurate_where_torchs_are_not(name):
    x = torch.tensor(_MPMATH_POINTS, dtype=torch.float64)
    expected = torch.tensor(_MPMATH[name], dtype=torch.float64)
    torch.testing.assert_close(_ours(name, x), expected, rtol=1e-14, atol=1e-16)
    # torch's own values are within 1e-7 there
    torch.testing.assert_close(getattr(torch.special, name)(x), expected, rtol=0, atol=1e-6)


def test_airy_ai_is_accurate_below_minus_two():
    x = torch.tensor(_AIRY_POINTS, dtype=torch.float64)
    expected = torch.tensor(_AIRY, dtype=torch.float64)
    torch.testing.assert_close(_ours("airy_ai", x), expected, rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("name", BESSEL)
def test_bessel_float32_is_the_rounded_float64_value(name):
    x = torch.tensor([0.3, 1.25, 2.5, 6.0, 11.0, 20.0], dtype=torch.float32)
    actual = _ours(name, x)
    assert actual.dtype == torch.float32
    reference = getattr(torch.special, name)(x.double())  # (at these points torch's float64 is within 1e-7)
    torch.testing.assert_close(actual, reference.float(), rtol=3e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["bessel_j0", "modified_bessel_k1", "airy_ai"])
@pytest.mark.parametrize(
    "case",
    [
        lambda f, lib: f(lib.tensor([1, 2, 3])),
        lambda f, lib: f(lib.tensor([True, False])),
        lambda f, lib: f(lib.tensor([[0.5, 1.5], [2.5, 3.5]]).t()),
        lambda f, lib: f(lib.ones(2, dtype=lib.float16)),
        lambda f, lib: f(lib.ones(2, dtype=lib.bfloat16)),
        lambda f, lib: f(1.5),
        lambda f, lib: f(lib.ones(2), out=lib.empty(2, dtype=lib.int64)),
        lambda f, lib: f(lib.tensor([0.5, 1.5]), out=lib.empty(2, dtype=lib.float64)),
        lambda f, lib: f(lib.tensor([0.5, 1.5], requires_grad=True)).requires_grad,
        lambda f, lib: f(lib.tensor([0.5, 1.5], requires_grad=True)).sum().backward(),
        lambda f, lib: f(lib.tensor([0.5, 1.5], requires_grad=True), out=lib.empty(2)),
    ],
    ids=[
        "int",
        "bool",
        "transposed",
        "half",
        "bfloat16",
        "number",
        "out-int",
        "out-float64",
        "requires-grad",
        "backward",
        "out-requires-grad",
    ],  # fmt: skip
)
def test_bessel_dtypes_errors_and_out(name, case):
    agree(name, lambda lib: case(getattr(lib.special, name), lib), [])


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_match_torch(name):
    x = torch.tensor([-2.5, -1.0, -0.7, -0.0, 0.0, 0.3, 0.5, 0.999, 1.0, 1.75], dtype=torch.float64)
    n = torch.tensor([-2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 9.0, 12.0, 4.9, -0.5, math.nan, math.inf],
                     dtype=torch.float64)  # fmt: skip
    grid_x, grid_n = (t.reshape(-1) for t in torch.meshgrid(x, n, indexing="ij"))
    expected = getattr(torch.special, name)(grid_x, grid_n)
    torch.testing.assert_close(_ours(name, grid_x, grid_n), expected, rtol=1e-12, atol=1e-13)
    expected = getattr(torch.special, name)(grid_x.float(), grid_n.to(torch.int64).clamp(-3, 20))
    torch.testing.assert_close(_ours(name, grid_x.float(), grid_n.to(torch.int64).clamp(-3, 20)), expected,
                               rtol=1e-4, atol=1e-4)  # fmt: skip


@pytest.mark.parametrize("name", ["chebyshev_polynomial_u", "shifted_chebyshev_polynomial_w", "legendre_polynomial_p"])
@pytest.mark.parametrize(
    "case",
    [
        lambda f, lib: f(lib.tensor([0.5, -1.5]), 3),
        lambda f, lib: f(lib.tensor([0.5, -1.5]), 3.9),
        lambda f, lib: f(lib.tensor([0.5, 2.5]), True),
        lambda f, lib: f(0.25, lib.tensor([[2], [3]])),
        lambda f, lib: f(0.25, lib.tensor([2.0, 3.0], dtype=lib.float64)),
        lambda f, lib: f(lib.tensor([1, 2]), lib.tensor([2, 3])),
        lambda f, lib: f(lib.tensor([0.5, 0.25]), lib.tensor(3.0, dtype=lib.float64)),
        lambda f, lib: f(lib.tensor([[0.5], [0.25]]), lib.tensor([1, 2, 5])),
        lambda f, lib: f(lib.tensor([0.5], dtype=lib.float16), 2),
        lambda f, lib: f(0.5, 2),
        lambda f, lib: f(lib.tensor([0.5]), "2"),
        lambda f, lib: f(lib.tensor([0.5, 0.25]), lib.tensor([1, 2, 3])),
        lambda f, lib: f(lib.tensor([0.5, 0.25]), 2, out=lib.empty(2, dtype=lib.float64)),
        lambda f, lib: f(lib.tensor([0.5, 0.25]), 2, out=lib.empty(2, dtype=lib.int32)),
        lambda f, lib: f(lib.tensor([0.5, 0.25], requires_grad=True), 3).requires_grad,
    ],
    ids=[
        "int-n",
        "float-n",
        "bool-n",
        "number-x",
        "number-x-float64-n",
        "int-both",
        "zero-dim-n",
        "broadcast",
        "half",
        "two-numbers",
        "string",
        "shapes",
        "out",
        "out-int",
        "requires-grad",
    ],  # fmt: skip
)
def test_polynomial_arguments_dtypes_and_errors(name, case):
    agree(name, lambda lib: case(getattr(lib.special, name), lib), [])


def test_polynomial_degree_is_truncated_in_the_common_dtype():
    # a float64 degree next to float32 x is rounded to float32 first (2.9999999999 -> 3.0), as torch's
    x = torch.tensor([0.5, 1.5])
    n = torch.tensor(2.9999999999, dtype=torch.float64)
    torch.testing.assert_close(_ours("hermite_polynomial_he", x, n), torch.special.hermite_polynomial_he(x, n))


# ----------------------------------------------------------------------------------------------
# torch.gradient (tritongrad/ops/numerical_gradient.py)
# ----------------------------------------------------------------------------------------------

_SAMPLES = torch.tensor([[1.0, 2.0, 4.0, 7.0], [3.0, 7.0, 9.0, 1.0], [0.0, 5.0, -2.0, 3.0]], dtype=torch.float64)
_ROWS = torch.tensor([0.0, 1.0, 3.5], dtype=torch.float64)
_COLUMNS = torch.tensor([0.0, 0.5, 2.0, 2.25], dtype=torch.float64)

GRADIENT_CASES = {
    "default": lambda lib, x: lib.gradient(x),
    "edge-order-2": lambda lib, x: lib.gradient(x, edge_order=2),
    "number": lambda lib, x: lib.gradient(x, spacing=2.5),
    "numbers": lambda lib, x: lib.gradient(x, spacing=[2.0, 0.5]),
    "number-dim": lambda lib, x: lib.gradient(x, spacing=3, dim=1),
    "numbers-dims": lambda lib, x: lib.gradient(x, spacing=[3.0], dim=[1]),
    "zero-dim-tensor-spacing": lambda lib, x: lib.gradient(x, spacing=lib.tensor(2.0)),
    "negative-dim-order-2": lambda lib, x: lib.gradient(x, dim=-1, edge_order=2),
    "dims-reversed": lambda lib, x: lib.gradient(x, spacing=2, dim=(1, 0)),
    "coordinates": lambda lib, x: lib.gradient(x, spacing=(_tensor(lib, _ROWS), _tensor(lib, _COLUMNS))),
    "coordinates-order-2": lambda lib, x: lib.gradient(
        x, spacing=(_tensor(lib, _ROWS), _tensor(lib, _COLUMNS)), edge_order=2
    ),
    "coordinates-dim": lambda lib, x: lib.gradient(x, spacing=(_tensor(lib, _COLUMNS),), dim=1, edge_order=2),
    "float32-coordinates-float64": lambda lib, x: lib.gradient(x.float(), spacing=(_tensor(lib, _COLUMNS),), dim=1),
    "integers": lambda lib, x: lib.gradient(x.long()),
    "integer-coordinates": lambda lib, x: lib.gradient(
        x.long(), spacing=[_tensor(lib, torch.tensor([1, 2, 4])), _tensor(lib, torch.tensor([0, 1, 3, 4]))]
    ),
    "scalar": lambda lib, x: lib.gradient(x.sum()),
    "edge-order-3": lambda lib, x: lib.gradient(x, edge_order=3),
    "too-short": lambda lib, x: lib.gradient(x[:2], dim=0, edge_order=2),
    "spacing-length": lambda lib, x: lib.gradient(x, spacing=[1.0, 2.0, 3.0]),
    "spacing-dim-length": lambda lib, x: lib.gradient(x, spacing=[1.0, 2.0], dim=0),
    "two-dim-coordinates": lambda lib, x: lib.gradient(x, spacing=(_tensor(lib, _COLUMNS[None]),), dim=1),
    "dim-out-of-range": lambda lib, x: lib.gradient(x, dim=5),
    "dim-repeated": lambda lib, x: lib.gradient(x, dim=(0, 0)),
    "mixed-spacing": lambda lib, x: lib.gradient(x, spacing=(_tensor(lib, _ROWS), 0.5)),
    "one-d-tensor-spacing": lambda lib, x: lib.gradient(x, spacing=_tensor(lib, _COLUMNS), dim=(1,)),
}


def _tensor(lib, values: torch.Tensor):
    return values if lib is torch else tritongrad.tensor(values.tolist(), dtype=values.dtype)


_GRADIENT_ERRORS = {"edge-order-3", "too-short", "spacing-length", "spacing-dim-length", "two-dim-coordinates",
                    "dim-out-of-range", "dim-repeated", "mixed-spacing", "one-d-tensor-spacing"}  # fmt: skip


@pytest.mark.parametrize("case", list(GRADIENT_CASES))
def test_gradient_matches_torch(case):
    agree(case, lambda lib, x: GRADIENT_CASES[case](lib, x), [_SAMPLES])
    if case in _GRADIENT_ERRORS:
        return
    expected = GRADIENT_CASES[case](torch, _SAMPLES)  # (agree's tolerance is float32's: float64 here)
    actual = GRADIENT_CASES[case](tritongrad, _tensor(tritongrad, _SAMPLES))
    assert len(actual) == len(expected)
    for mine, theirs in zip(actual, expected, strict=True):
        torch.testing.assert_close(to_torch(mine), theirs, rtol=1e-14, atol=1e-14)


def test_gradient_is_differentiable():
    weights = torch.tensor([[0.5, -1.0, 2.0, 1.5], [1.0, 0.25, -0.5, 3.0], [2.0, 1.0, 1.0, -1.0]])

    def run(lib, x):
        spacing = (_tensor(lib, _ROWS.float()), _tensor(lib, _COLUMNS.float()))
        parts = lib.gradient(x * 1.0, spacing=spacing, edge_order=2)
        (parts[0] * _tensor(lib, weights) + parts[1]).sum().backward()
        return parts[0].grad_fn.name()

    agree("gradient backward", run, [_SAMPLES.float().requires_grad_()])


# ----------------------------------------------------------------------------------------------
# The *_copy functions and as_strided_scatter (tritongrad/ops/copies.py)
# ----------------------------------------------------------------------------------------------

COPY_CASES = {
    "view_copy": lambda lib, x: lib.view_copy(x, (4, 3)),
    "view_copy-dtype": lambda lib, x: lib.view_copy(x.detach(), lib.int32),
    "permute_copy": lambda lib, x: lib.permute_copy(x, (1, 0)),
    "expand_copy": lambda lib, x: lib.expand_copy(x[:1], (2, 4)),
    "t_copy": lambda lib, x: lib.t_copy(x),
    "unfold_copy": lambda lib, x: lib.unfold_copy(x, 1, 2, 1),
    "alias_copy": lambda lib, x: lib.alias_copy(x),
    "as_strided_copy": lambda lib, x: lib.as_strided_copy(x, (2, 2), (1, 2), 1),
    "diagonal_copy": lambda lib, x: lib.diagonal_copy(x, 1),
    "select_copy": lambda lib, x: lib.select_copy(x, 1, 2),
    "slice_copy": lambda lib, x: lib.slice_copy(x, 1, 1, 4, 2),
    "split_copy": lambda lib, x: lib.split_copy(x, 3, 1),
    "split_with_sizes_copy": lambda lib, x: lib.split_with_sizes_copy(x, [1, 3], 1),
    "squeeze_copy": lambda lib, x: lib.squeeze_copy(x[None]),
    "squeeze_copy-dim": lambda lib, x: lib.squeeze_copy(x[None], 0),
    "squeeze_copy-dims": lambda lib, x: lib.squeeze_copy(x[None], (0,)),
    "unsqueeze_copy": lambda lib, x: lib.unsqueeze_copy(x, 1),
    "transpose_copy": lambda lib, x: lib.transpose_copy(x, 0, 1),
    "unbind_copy": lambda lib, x: lib.unbind_copy(x, 1),
    "view_as_real_copy": lambda lib, x: lib.view_as_real_copy(lib.view_as_complex(x.detach().reshape(6, 2))),
    "view_as_complex_copy": lambda lib, x: lib.view_as_complex_copy(x.detach().reshape(6, 2)),
    "view_as_complex_copy-requires-grad": lambda lib, x: lib.view_as_complex_copy(x.reshape(6, 2)),
    "detach_copy": lambda lib, x: lib.detach_copy(x),
    "detach_copy-backward": lambda lib, x: lib.detach_copy(x).sum().backward(),
    "view_copy-bad-shape": lambda lib, x: lib.view_copy(x, (5, 2)),
    "out": lambda lib, x: lib.t_copy(x.detach(), out=lib.empty(4, 3)),
    "out-dtype": lambda lib, x: lib.t_copy(x.detach(), out=lib.empty(4, 3, dtype=lib.float64)),
    "out-requires-grad": lambda lib, x: lib.view_copy(x.detach(), (4, 3), out=lib.empty(12, requires_grad=True)),
    "out-list": lambda lib, x: lib.split_copy(x.detach(), 3, 1, out=[lib.empty(3, 3), lib.empty(3, 1)]),
}


def _copy_outputs(value) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value]


@pytest.mark.parametrize("case", list(COPY_CASES))
def test_copies_match_torch(case):
    def run(lib, x):
        result = COPY_CASES[case](lib, x)
        outputs = [o for o in _copy_outputs(result) if o is not None]
        for output in outputs:
            assert output.is_contiguous()
        names = [o.grad_fn.name() if o.grad_fn is not None else None for o in outputs]
        differentiable = [o for o in outputs if o.requires_grad and o.dtype.is_floating_point]
        if differentiable:
            total = sum((o * lib.arange(o.numel(), dtype=o.dtype).reshape(o.shape)).sum() for o in differentiable)
            total.backward()  # (x.grad is compared by agree)
        return [o.detach() for o in outputs], names

    agree(case, run, [torch.arange(12.0).reshape(3, 4).requires_grad_()])


def test_copy_gradient_is_differentiable_again():
    def run(lib, x):
        y = lib.diagonal_copy(x * x, 1)
        (first,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (first * first).sum().backward()
        return first.detach()

    agree("diagonal_copy create_graph", run, [torch.arange(12.0).reshape(3, 4).requires_grad_()])


SCATTER_CASES = {
    "contiguous": lambda lib: lib.as_strided_scatter(lib.zeros(3, 3), lib.ones(2, 2), (2, 2), (1, 2), 1),
    "transposed": lambda lib: lib.as_strided_scatter(lib.zeros(3, 3).t(), lib.ones(2, 2), (2, 2), (1, 2), 1),
    "strided": lambda lib: lib.as_strided_scatter(lib.zeros(3, 6)[:, ::2], lib.ones(2, 2), (2, 2), (1, 2), 1),
    "offset": lambda lib: lib.as_strided_scatter(lib.zeros(4, 3)[1:], lib.ones(2, 2), (2, 2), (1, 2)),
    "expanded": lambda lib: lib.as_strided_scatter(lib.zeros(1, 3).expand(2, 3), lib.ones(2, 2), (2, 2), (1, 2), 1),
    "src-float64": lambda lib: lib.as_strided_scatter(lib.zeros(3, 3), lib.ones(2, dtype=lib.float64), (2,), (4,)),
    "src-shape": lambda lib: lib.as_strided_scatter(lib.zeros(3, 3), lib.ones(3, 2), (2, 2), (1, 2), 1),
    "out-of-bounds": lambda lib: lib.as_strided_scatter(lib.zeros(3, 3), lib.ones(2, 2), (4, 4), (1, 2), 1),
    "not-a-tensor": lambda lib: lib.as_strided_scatter(lib.zeros(3, 3), 1.0, (2, 2), (1, 2), 1),
}


@pytest.mark.parametrize("case", list(SCATTER_CASES))
def test_as_strided_scatter_matches_torch(case):
    agree(case, lambda lib: SCATTER_CASES[case](lib), [])


def test_as_strided_scatter_gradients():
    # src's gradient and the node name are torch's; input's is the derivative (the incoming gradient
    # where src did not overwrite), not torch 2.13's, which puts it exactly at the overwritten positions
    incoming = torch.arange(9.0).reshape(3, 3)
    src = tritongrad.ones(2, 2, requires_grad=True)
    input = tritongrad.zeros(3, 3, requires_grad=True)
    result = tritongrad.as_strided_scatter(input * 1, src, (2, 2), (1, 2), 1)
    assert result.grad_fn.name() == "AsStridedScatterBackward0"
    result.backward(tritongrad.tensor(incoming.tolist()))
    theirs_src = torch.ones(2, 2, requires_grad=True)
    torch.as_strided_scatter(torch.zeros(3, 3), theirs_src, (2, 2), (1, 2), 1).backward(incoming)
    torch.testing.assert_close(to_torch(src.grad), theirs_src.grad)
    torch.testing.assert_close(to_torch(input.grad), torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 5.0], [6.0, 7.0, 8.0]]))
