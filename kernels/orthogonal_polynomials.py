"""The orthogonal polynomials of torch.special (Chebyshev T, U, V, W and their shifted forms on
[0, 1], Hermite's H and He, Laguerre's L, Legendre's P) at x, of degree n, in one elementwise
kernel (``polynomial_kernel``, the family member picked by the OP constexpr).

Each is evaluated as torch evaluates it, so the results agree to rounding and the edge cases are
torch's: a negative degree gives 0 (a NaN or infinite float degree too: torch truncates n to an
integer, and its conversion of those gives the most negative one), a float degree is truncated
toward zero, the endpoints x = +-1 (0 and 1 for the shifted forms) have their closed values, and
inside (-1, 1) the Chebyshev polynomials of high degree use the trigonometric forms
(T_n(cos t) = cos(n t), U_n = sin((n + 1) t) / sin t, V_n = cos((n + 1/2) t) / cos(t / 2),
W_n = sin((n + 1/2) t) / sin(t / 2); Mason & Handscomb ch. 1); elsewhere the three-term
recurrence runs up to the degree (so a large degree with |x| > 1 overflows to inf and then, as
inf - inf, to NaN, as torch's does). Lanes are computed in float64 and rounded once.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import triton_dtype
from tritongrad.kernels.elementwise import acos, launch_unary

__all__ = ["OPS", "launch_polynomial"]

OPS = (
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
    "legendre_polynomial_p",
)  # fmt: skip

_BLOCK = 128
_LARGEST_DEGREE = tl.constexpr(9.2e18)  # float degrees past int64's range convert to its most negative value


@triton.jit
def _recurrence(x, n, first, OP: tl.constexpr, ACTIVE_LANES):
    """P_n(x) from P_0 = 1 and P_1 = ``first`` by the family's three-term recurrence, on the lanes in
    ACTIVE_LANES (the loop runs to the largest degree among them; the others keep ``first``)."""
    top = tl.max(tl.where(ACTIVE_LANES, tl.minimum(n, 2147483647), 1), axis=0).to(tl.int32)
    previous = tl.full(x.shape, 1.0, tl.float64)
    current = first
    shifted = x + x - 1.0
    for i in range(1, top):
        k = i * 1.0
        if OP == "hermite_polynomial_h":
            following = (x + x) * current - (k + k) * previous
        elif OP == "hermite_polynomial_he":
            following = x * current - k * previous
        elif OP == "laguerre_polynomial_l":
            following = (((k + k) + (1.0 - x)) * current - k * previous) / (k + 1.0)
        elif OP == "legendre_polynomial_p":
            following = ((k + k + 1.0) * x * current - k * previous) / (k + 1.0)
        elif OP == "shifted_chebyshev_polynomial_t":
            following = (shifted + shifted) * current - previous
        elif OP == "shifted_chebyshev_polynomial_u":
            following = (shifted + shifted) * current - previous
        elif OP == "shifted_chebyshev_polynomial_v":
            following = (shifted + shifted) * current - previous
        elif OP == "shifted_chebyshev_polynomial_w":
            following = (shifted + shifted) * current - previous
        else:
            following = (x + x) * current - previous
        step = ACTIVE_LANES & (i < n)
        previous = tl.where(step, current, previous)
        current = tl.where(step, following, current)
    return current


@triton.jit
def _trigonometric(y, n, OP: tl.constexpr):
    """The closed forms of T, U, V, W at y = cos(t) in (-1, 1) (the shifted forms at y = 2x - 1),
    with torch's fallbacks where their denominator vanishes."""
    angle = acos(tl.minimum(tl.maximum(y, -1.0), 1.0))
    degree = n * 1.0
    odd = (n % 2) != 0
    if (OP == "chebyshev_polynomial_t") or (OP == "shifted_chebyshev_polynomial_t"):
        value = tl.cos(degree * angle)
    elif (OP == "chebyshev_polynomial_u") or (OP == "shifted_chebyshev_polynomial_u"):
        sine = tl.sin(angle)
        value = tl.where(
            sine != 0.0, tl.sin((degree + 1.0) * angle) / sine, (degree + 1.0) * tl.cos((degree + 1.0) * angle) / y
        )
    elif (OP == "chebyshev_polynomial_v") or (OP == "shifted_chebyshev_polynomial_v"):
        fallback = tl.where(odd, -(degree + degree + 1.0), degree + degree + 1.0)
        value = tl.where(tl.sin(angle * 0.5) != 1.0, tl.cos((degree + 0.5) * angle) / tl.cos(angle * 0.5), fallback)
    else:
        if OP == "chebyshev_polynomial_w":
            fallback = tl.where(y > 0.0, degree + degree + 1.0, tl.where(odd, -1.0, 1.0))
        else:
            fallback = tl.where(odd, -1.0, 1.0)
        value = tl.where(tl.cos(angle * 0.5) != 1.0, tl.sin((degree + 0.5) * angle) / tl.sin(angle * 0.5), fallback)
    return value


@triton.jit
def orthogonal_polynomial(x, n, OP: tl.constexpr):
    """The OP polynomial of degree n (int64 lanes) at x (float64 lanes), torch's branches in torch's order."""
    degree = n * 1.0
    odd = (n % 2) != 0
    one = tl.full(x.shape, 1.0, tl.float64)
    shifted = x + x - 1.0
    # (endpoint value, where it applies), (the trigonometric form's minimum degree), P_1
    if OP == "chebyshev_polynomial_t":
        endpoint = tl.abs(x) == 1.0
        at_endpoint = tl.where((x > 0.0) | ~odd, 1.0, -1.0)
        trigonometric = (n > 6) & (tl.abs(x) < 1.0)
        first = x
    elif OP == "chebyshev_polynomial_u":
        endpoint = tl.abs(x) == 1.0
        at_endpoint = tl.where((x > 0.0) | ~odd, degree + 1.0, -(degree + 1.0))
        trigonometric = (n > 8) & (tl.abs(x) < 1.0)
        first = x + x
    elif OP == "chebyshev_polynomial_v":
        endpoint = tl.abs(x) == 1.0
        at_endpoint = tl.where(x > 0.0, one, tl.where(odd, -(degree + degree + 1.0), degree + degree + 1.0))
        trigonometric = (n > 8) & (tl.abs(x) < 1.0)
        first = x + x - 1.0
    elif OP == "chebyshev_polynomial_w":
        endpoint = tl.abs(x) == 1.0
        at_endpoint = tl.where(x > 0.0, degree + degree + 1.0, tl.where(odd, -1.0, 1.0))
        trigonometric = (n > 8) & (tl.abs(x) < 1.0)
        first = x + x + 1.0
    elif OP == "shifted_chebyshev_polynomial_t":
        endpoint = (x == 1.0) | (x == 0.0)
        at_endpoint = tl.where((x == 1.0) | ~odd, 1.0, -1.0)
        trigonometric = (n > 6) & (tl.abs(shifted) < 1.0)
        first = shifted
    elif OP == "shifted_chebyshev_polynomial_u":
        endpoint = (x == 1.0) | (x == 0.0)
        at_endpoint = tl.where((x == 1.0) | ~odd, degree + 1.0, -(degree + 1.0))
        trigonometric = (n > 6) & (tl.abs(shifted) < 1.0)
        first = shifted + shifted
    elif OP == "shifted_chebyshev_polynomial_v":
        endpoint = (x == 1.0) | (x == 0.0)
        at_endpoint = tl.where(x == 1.0, one, tl.where(odd, -(degree + degree + 1.0), degree + degree + 1.0))
        trigonometric = (n > 6) & (tl.abs(shifted) < 1.0)
        first = shifted + shifted - 1.0
    elif OP == "shifted_chebyshev_polynomial_w":
        endpoint = (x == 1.0) | (x == 0.0)
        at_endpoint = tl.where(x == 1.0, degree + degree + 1.0, tl.where(odd, -1.0, 1.0))
        trigonometric = (n > 4) & (tl.abs(shifted) < 1.0)
        first = shifted + shifted + 1.0
    elif OP == "hermite_polynomial_h":
        endpoint = x != x
        at_endpoint = one
        trigonometric = x != x
        first = x + x
    elif OP == "hermite_polynomial_he":
        endpoint = x != x
        at_endpoint = one
        trigonometric = x != x
        first = x
    elif OP == "laguerre_polynomial_l":
        endpoint = x == 0.0
        at_endpoint = one
        trigonometric = x != x
        first = 1.0 - x
    else:
        endpoint = tl.abs(x) == 1.0
        at_endpoint = tl.where((x > 0.0) | ~odd, 1.0, -1.0)
        trigonometric = x != x
        first = x
    if (OP == "hermite_polynomial_h") or (OP == "hermite_polynomial_he") or (OP == "laguerre_polynomial_l"):
        closed = at_endpoint
    elif OP == "legendre_polynomial_p":
        closed = at_endpoint
    else:
        if (OP == "chebyshev_polynomial_t") or (OP == "chebyshev_polynomial_u"):
            closed_form = _trigonometric(x, n, OP)
        elif (OP == "chebyshev_polynomial_v") or (OP == "chebyshev_polynomial_w"):
            closed_form = _trigonometric(x, n, OP)
        else:
            closed_form = _trigonometric(shifted, n, OP)
        closed = tl.where(endpoint, at_endpoint, closed_form)
    recurrent = (n >= 2) & ~endpoint & ~trigonometric
    value = _recurrence(x, n, first, OP, recurrent)
    value = tl.where(endpoint | trigonometric, closed, value)
    value = tl.where((n == 0) & ~endpoint, 1.0, value)
    return tl.where(n < 0, 0.0, value)


@triton.jit
def polynomial_kernel(x_ptr, n_ptr, out_ptr, numel, OP: tl.constexpr, N_IS_FLOAT: tl.constexpr, BLOCK: tl.constexpr):
    """out = OP(x, n) over contiguous buffers of one shape. x and n are first rounded to the output
    dtype (torch's common dtype), then n is truncated to an integer."""
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < numel
    kind = out_ptr.dtype.element_ty
    x = tl.load(x_ptr + offsets, mask=mask, other=0).to(kind).to(tl.float64)
    if N_IS_FLOAT:
        degree = tl.load(n_ptr + offsets, mask=mask, other=0).to(kind).to(tl.float64)
        representable = (degree == degree) & (tl.abs(degree) < _LARGEST_DEGREE)
        n = tl.where(representable, degree, -1.0).to(tl.int64)
    else:
        n = tl.load(n_ptr + offsets, mask=mask, other=0).to(tl.int64)
    y = orthogonal_polynomial(x, n, OP)
    tl.store(out_ptr + offsets, y.to(kind), mask=mask)


def launch_polynomial(op: str, x: torch.Tensor, n: torch.Tensor, out_dtype: torch.dtype) -> torch.Tensor:
    """A new contiguous tensor of ``out_dtype`` holding op(x, n), x and n already of one shape."""
    x = _dense(x)
    n = _dense(n)
    out = torch.empty(x.shape, dtype=out_dtype, device=x.device)
    numel = x.numel()
    if numel:
        triton_dtype(x.dtype), triton_dtype(n.dtype)  # (refuses what no kernel loads)
        grid = (triton.cdiv(numel, _BLOCK),)
        polynomial_kernel[grid](x, n, out, numel, OP=op, N_IS_FLOAT=n.dtype.is_floating_point, BLOCK=_BLOCK)
    return out


def _dense(x: torch.Tensor) -> torch.Tensor:
    """x itself when contiguous, else a contiguous copy made by the copy kernel (expanded operands too)."""
    if x.is_contiguous():
        return x
    return launch_unary("copy", x, out=torch.empty(x.shape, dtype=x.dtype, device=x.device))
