"""``HalfNormal(scale)``: |X| for X ~ Normal(0, scale) (an AbsTransform of the symmetric base; the density
doubles on x >= 0). ``_Folded`` holds what it shares with HalfCauchy (half_cauchy.py)."""

from __future__ import annotations

import math

from tritongrad import creation, ops
from tritongrad.distributions import constraints
from tritongrad.distributions.normal import Normal
from tritongrad.distributions.transformed_distribution import TransformedDistribution
from tritongrad.distributions.transforms import AbsTransform

__all__ = ["HalfNormal"]


class _Folded(TransformedDistribution):
    """|X| for a base symmetric about 0: log_prob, cdf, icdf and entropy from the base's."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mode(self):
        return creation.zeros_like(self.scale)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return ops.where(value >= 0, log_prob, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)


class HalfNormal(_Folded):
    """|X| for X ~ Normal(0, ``scale``).

    >>> HalfNormal(1.0).sample((2,)).shape
    torch.Size([2])
    """

    def __init__(self, scale, validate_args: bool | None = None) -> None:
        base_dist = Normal(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)
