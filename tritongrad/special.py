"""``tritongrad.special``: torch.special's names for the functions tritongrad has (each the same op
as its torch-namespace twin: ``special.expit`` is ``sigmoid``), and ``ndtr``/``log_ndtr``/``entr``
composed of them. The Bessel functions (i0, i1, ...) have no kernel yet."""

from __future__ import annotations

import math

from tritongrad.ops import (
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    lgamma,
    log1p,
    log_softmax,
    logit,
    logsumexp,
    mvlgamma,
    polygamma,
    round,
    sigmoid,
    sinc,
    softmax,
    where,
    xlogy,
)
from tritongrad.ops.elementwise import special_zeta as zeta

__all__ = [
    "erf", "erfc", "erfinv", "exp2", "expm1", "expit", "log1p", "log_softmax", "logit", "logsumexp", "round",
    "sinc", "softmax", "xlogy", "ndtr", "log_ndtr", "entr", "xlog1py", "gammaln", "digamma", "psi", "polygamma",
    "multigammaln", "zeta",
]  # fmt: skip

expit = sigmoid
gammaln = lgamma
psi = digamma
multigammaln = mvlgamma


def ndtr(input):
    """The standard normal's cumulative distribution function: (1 + erf(x / sqrt(2))) / 2."""
    return (1 + erf(input * (1 / math.sqrt(2)))) * 0.5


def log_ndtr(input):
    """log(ndtr(x)); for x < -1 through erfc, which keeps the far tail (log(erfc(-x / sqrt 2) / 2))."""
    return where(input < -1, (erfc(-input * (1 / math.sqrt(2))) * 0.5).log(), ndtr(input).log())


def entr(input):
    """-x * log(x) for x > 0, 0 at 0, -inf for x < 0 (NaN stays NaN)."""
    return where(input > 0, -xlogy(input, input), where(input == 0, input * 0, input * 0 - math.inf))


def xlog1py(input, other):
    """input * log1p(other), 0 where input is 0 (unless other is NaN)."""
    return where((input == 0) & (other == other), input * 0, input * log1p(other))
