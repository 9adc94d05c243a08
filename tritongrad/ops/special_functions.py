"""torch.special's Bessel functions J0, J1, Y0, Y1, K0, K1 (and exp(x) K0, exp(x) K1), Airy's Ai and the
orthogonal polynomials (Chebyshev T/U/V/W and their shifted forms, Hermite H/He, Laguerre L, Legendre P).

The values come from two kernels (kernels/special_bessel.py, kernels/orthogonal_polynomials.py);
here are torch's rules around them: a floating result (integer and bool inputs give the default
dtype), half types refused as torch's CPU kernels refuse them, ``out=``, and no autograd: torch
defines no derivative for any of these, so a result never requires grad (backward through it is
torch's "does not require grad" error). A polynomial takes x and n as tensors or one of them as a
number, broadcast and promoted together (n is then truncated to an integer, as torch does).
"""

from __future__ import annotations

import torch

from tritongrad.dtypes import as_python_scalar, dtype_word, get_default_dtype, result_type
from tritongrad.kernels import orthogonal_polynomials as polynomial_kernels
from tritongrad.kernels import special_bessel as bessel_kernels
from tritongrad.kernels.elementwise import launch_unary
from tritongrad.kernels.strided import broadcast_shapes
from tritongrad.ops.out_argument import check_out, finish_out
from tritongrad.tensor import Tensor

__all__ = [
    "bessel_j0",
    "bessel_j1",
    "bessel_y0",
    "bessel_y1",
    "modified_bessel_k0",
    "modified_bessel_k1",
    "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1",
    "airy_ai",
    "chebyshev_polynomial_t",
    "chebyshev_polynomial_u",
    "chebyshev_polynomial_v",
    "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w",
    "hermite_polynomial_h",
    "hermite_polynomial_he",
    "laguerre_polynomial_l",
    "legendre_polynomial_p",
]


def _result_dtype(op: str, dtype: torch.dtype) -> torch.dtype:
    """The float dtype torch computes ``op`` in for operands of (promoted) ``dtype``."""
    if dtype in (torch.float16, torch.bfloat16) or dtype.is_complex:
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{dtype_word(dtype)}'")
    return dtype if dtype.is_floating_point else get_default_dtype()


def _finish(op: str, result: torch.Tensor, out, *inputs) -> Tensor:
    """The result as a new Tensor, or written into ``out`` (torch's checks; no autograd to refuse)."""
    if out is None:
        return Tensor._wrap(result)
    buffer = check_out(f"special_{op}", out, result.dtype, tuple(result.shape), *inputs, differentiable=False)
    if buffer.numel():
        launch_unary("copy", result, out=buffer)
    return finish_out(out)


def _bessel_function(op: str, argument: str = "input"):
    """torch.special.<op>; ``argument``: the name torch gives the tensor (``x`` for airy_ai and the scaled K)."""

    def compute(value, out):
        if not isinstance(value, Tensor):
            raise TypeError(
                f"special_{op}(): argument '{argument}' (position 1) must be Tensor, not {type(value).__name__}"
            )
        dtype = _result_dtype(op, value.dtype)
        return _finish(op, bessel_kernels.launch_bessel(op, value._data, dtype), out, value)

    if argument == "input":

        def function(input, *, out=None):
            return compute(input, out)
    else:

        def function(x, *, out=None):
            return compute(x, out)

    function.__name__ = function.__qualname__ = op
    function.__doc__ = f"torch.special.{op}({argument}, *, out=None) elementwise, in float64 (no gradient, as torch's)."
    return function


def _is_number(value) -> bool:
    return isinstance(value, (bool, int, float))


def _invalid_arguments(op: str, x, n) -> TypeError:
    got = ", ".join(type(value).__name__ if not isinstance(value, Tensor) else "Tensor" for value in (x, n))
    return TypeError(
        f"special_{op}() received an invalid combination of arguments - got ({got}), but expected one of:\n"
        " * (Tensor x, Tensor n, *, Tensor out = None)\n"
        " * (Number x, Tensor n, *, Tensor out = None)\n"
        " * (Tensor x, Number n, *, Tensor out = None)\n"
    )


def _operand_buffer(value, shape: tuple, dtype: torch.dtype, device) -> torch.Tensor:
    """A tensor operand's buffer, or a number as a tensor of the common dtype, broadcast to ``shape``."""
    if isinstance(value, Tensor):
        return value._data.expand(shape)
    return torch.tensor(value, dtype=dtype, device=device).expand(shape)


def _polynomial_function(op: str):
    def function(x, n, *, out=None):
        x, n = as_python_scalar(x), as_python_scalar(n)
        x_tensor, n_tensor = isinstance(x, Tensor), isinstance(n, Tensor)
        if not ((x_tensor or _is_number(x)) and (n_tensor or _is_number(n)) and (x_tensor or n_tensor)):
            raise _invalid_arguments(op, x, n)
        dtype = _result_dtype(op, result_type(x, n))
        tensors = [value for value in (x, n) if isinstance(value, Tensor)]
        shape = broadcast_shapes(*(tuple(t.shape) for t in tensors))
        device = tensors[0].device
        x_buffer = _operand_buffer(x, shape, dtype, device)
        n_buffer = _operand_buffer(n, shape, dtype, device)
        result = polynomial_kernels.launch_polynomial(op, x_buffer, n_buffer, dtype)
        return _finish(op, result, out, *tensors)

    function.__name__ = function.__qualname__ = op
    function.__doc__ = f"torch.special.{op}(input, n, *, out=None): the polynomial of degree n at x (no gradient)."
    return function


bessel_j0 = _bessel_function("bessel_j0")
bessel_j1 = _bessel_function("bessel_j1")
bessel_y0 = _bessel_function("bessel_y0")
bessel_y1 = _bessel_function("bessel_y1")
modified_bessel_k0 = _bessel_function("modified_bessel_k0")
modified_bessel_k1 = _bessel_function("modified_bessel_k1")
scaled_modified_bessel_k0 = _bessel_function("scaled_modified_bessel_k0", "x")
scaled_modified_bessel_k1 = _bessel_function("scaled_modified_bessel_k1", "x")
airy_ai = _bessel_function("airy_ai", "x")
chebyshev_polynomial_t = _polynomial_function("chebyshev_polynomial_t")
chebyshev_polynomial_u = _polynomial_function("chebyshev_polynomial_u")
chebyshev_polynomial_v = _polynomial_function("chebyshev_polynomial_v")
chebyshev_polynomial_w = _polynomial_function("chebyshev_polynomial_w")
shifted_chebyshev_polynomial_t = _polynomial_function("shifted_chebyshev_polynomial_t")
shifted_chebyshev_polynomial_u = _polynomial_function("shifted_chebyshev_polynomial_u")
shifted_chebyshev_polynomial_v = _polynomial_function("shifted_chebyshev_polynomial_v")
shifted_chebyshev_polynomial_w = _polynomial_function("shifted_chebyshev_polynomial_w")
hermite_polynomial_h = _polynomial_function("hermite_polynomial_h")
hermite_polynomial_he = _polynomial_function("hermite_polynomial_he")
laguerre_polynomial_l = _polynomial_function("laguerre_polynomial_l")
legendre_polynomial_p = _polynomial_function("legendre_polynomial_p")
