"""``tritongrad.special``: torch.special's functions.

Most are kernels: the ones with a torch.* twin are that op (``special.expit`` is ``sigmoid``,
``special.gammainc`` is ``igamma``), the others rows of ops/elementwise.py's ``SPECIAL`` table
(erfcx, log_ndtr, ndtri, i0e, i1, i1e, entr, xlog1py, the modified and spherical Bessel functions),
computed in float64 by kernels/special_functions.py. ``ndtr`` and ``multigammaln`` are composed
as torch composes them. Every function takes ``out=`` where torch's does; softmax and log_softmax
require ``dim`` as torch.special's do.

The Bessel functions of the first and second kind (J0, J1, Y0, Y1), the modified ones of the second
kind (K0, K1 and their scaled forms), airy_ai and the orthogonal polynomials come from
ops/special_functions.py (kernels/special_bessel.py, kernels/orthogonal_polynomials.py); as torch's,
they have no derivative.
"""

from __future__ import annotations

import math

from tritongrad.dtypes import dtype_word
from tritongrad.ops import (
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    i0,
    igamma,
    igammac,
    lgamma,
    log1p,
    logit,
    logsumexp,
    mvlgamma,
    polygamma,
    sigmoid,
    xlogy,
)
from tritongrad.ops import round as _round
from tritongrad.ops.elementwise import SPECIAL
from tritongrad.ops.elementwise import special_zeta as zeta
from tritongrad.ops.numeric import sinc as _sinc
from tritongrad.ops.out_argument import write_out
from tritongrad.ops.softmax import log_softmax as _log_softmax
from tritongrad.ops.softmax import softmax as _softmax
from tritongrad.ops.special_functions import (
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
)


def round(input, *, decimals: int = 0, out=None):  # noqa: A001 (torch's name)
    """torch.special.round: torch.round, whose special form has no integer kernel (torch's CPU refuses
    integer and bool tensors by its kernels' names, where torch.round returns them)."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        kernel = "round_vml_cpu" if decimals == 0 else "round_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtype_word(input.dtype)}'")
    return _round(input, decimals=decimals, out=out)


__all__ = [
    "erf", "erfc", "erfcx", "erfinv", "exp2", "expm1", "expit", "log1p", "log_softmax", "logit", "logsumexp",
    "round", "sinc", "softmax", "xlogy", "xlog1py", "ndtr", "ndtri", "log_ndtr", "entr", "gammaln", "gammainc",
    "gammaincc", "digamma", "psi", "polygamma", "multigammaln", "zeta", "i0", "i0e", "i1", "i1e",
    "modified_bessel_i0", "modified_bessel_i1", "spherical_bessel_j0",
    "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1",
    "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "airy_ai", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w",
    "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p",
]  # fmt: skip

expit = sigmoid
gammaln = lgamma
psi = digamma
gammainc = igamma
gammaincc = igammac
erfcx = SPECIAL["erfcx"]
log_ndtr = SPECIAL["log_ndtr"]
ndtri = SPECIAL["ndtri"]
i0e = SPECIAL["i0e"]
i1 = SPECIAL["i1"]
i1e = SPECIAL["i1e"]
entr = SPECIAL["entr"]
xlog1py = SPECIAL["xlog1py"]
modified_bessel_i0 = SPECIAL["modified_bessel_i0"]
modified_bessel_i1 = SPECIAL["modified_bessel_i1"]
spherical_bessel_j0 = SPECIAL["spherical_bessel_j0"]


def ndtr(input, *, out=None):
    """The standard normal CDF, (1 + erf(x / sqrt 2)) / 2, composed as torch composes it (so its tail
    below x ~ -8 is lost to 1 + erf the same way; log_ndtr keeps it)."""
    result = (1 + erf(input * (1 / math.sqrt(2)))) * 0.5
    if out is None:
        return result
    return write_out("special_ndtr", out, result.detach(), input, rule="castable", differentiable=False)


def multigammaln(input, p: int, *, out=None):
    """The multivariate log-gamma function of dimension p (torch.mvlgamma)."""
    result = mvlgamma(input, p)
    if out is None:
        return result
    return write_out("special_multigammaln", out, result.detach(), input, rule="castable", differentiable=False)


def sinc(input, *, out=None):
    """sin(pi x) / (pi x), 1 at 0 (torch.sinc)."""
    result = _sinc(input)
    if out is None:
        return result
    return write_out("special_sinc", out, result.detach(), input, rule="castable", differentiable=False)


def _check_dim(name: str, dim) -> None:
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"special_{name}(): argument 'dim' (position 2) must be int, not {type(dim).__name__}")


def softmax(input, dim: int, *, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, which torch.special requires (F.softmax only warns)."""
    _check_dim("softmax", dim)
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim: int, *, dtype=None):
    """x - logsumexp(x) along ``dim``, which torch.special requires."""
    _check_dim("log_softmax", dim)
    return _log_softmax(input, dim, dtype=dtype)
