"""``Gamma(concentration, rate)``: density rate^a x^(a-1) e^(-rate x) / Gamma(a) on x >= 0; rsample is
_standard_gamma(a) / rate, reparameterized through the implicit gamma gradient."""

from __future__ import annotations

import numbers

import torch

from tritongrad import creation, ops
from tritongrad.distributions import constraints
from tritongrad.distributions.exp_family import ExponentialFamily
from tritongrad.distributions.utils import broadcast_all
from tritongrad.ops.random_gamma import _standard_gamma
from tritongrad.special import gammainc

__all__ = ["Gamma"]


def clamp_outside_graph(value, low: float):
    """``value`` clamped below at ``low`` with ``value``'s own gradient (Gamma's and Dirichlet's
    samples are kept >= the type's tiny): torch clamps in place on a detached alias, which
    tritongrad's version counters refuse once an op saved the sample for its backward (a division
    by a rate that requires grad)."""
    return value + (value.detach().clamp(min=low) - value.detach())


class Gamma(ExponentialFamily):
    """A gamma distribution with shape ``concentration`` (alpha) and ``rate`` (beta = 1 / scale); its cdf is
    the regularized lower incomplete gamma function P(alpha, rate * x).

    >>> Gamma(tritongrad.tensor([1.0]), tritongrad.tensor([1.0])).sample().shape
    torch.Size([1])
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def __init__(self, concentration, rate, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number):
            batch_shape = torch.Size()
        else:
            batch_shape = self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = torch.Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        super(Gamma, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return clamp_outside_graph(value, torch.finfo(value.dtype).tiny)

    def log_prob(self, value):
        # torch's order: the value (a number, list, array or tensor of any dtype) in the rate's dtype first
        value = creation.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (
            ops.xlogy(self.concentration, self.rate)
            + ops.xlogy(self.concentration - 1, value)
            - self.rate * value
            - ops.lgamma(self.concentration)
        )

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self):
        return (
            self.concentration
            - ops.log(self.rate)
            + ops.lgamma(self.concentration)
            + (1.0 - self.concentration) * ops.digamma(self.concentration)
        )

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return ops.lgamma(x + 1) + (x + 1) * ops.log(-y.reciprocal())
