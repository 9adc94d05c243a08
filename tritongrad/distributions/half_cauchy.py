"""``HalfCauchy(scale)``: |X| for X ~ Cauchy(0, scale) (an AbsTransform of the symmetric base; the density
doubles on x >= 0)."""

from __future__ import annotations

import math

from tritongrad import creation, ops
from tritongrad.distributions.cauchy import Cauchy
from tritongrad.distributions.half_normal import _Folded
from tritongrad.distributions.transforms import AbsTransform

__all__ = ["HalfCauchy"]


class HalfCauchy(_Folded):
    """|X| for X ~ Cauchy(0, ``scale``); its mean is infinite.

    >>> HalfCauchy(1.0).sample((2,)).shape
    torch.Size([2])
    """

    def __init__(self, scale, validate_args: bool | None = None) -> None:
        base_dist = Cauchy(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfCauchy, _instance)
        return super().expand(batch_shape, _instance=new)

    def log_prob(self, value):
        # torch's HalfCauchy (not its HalfNormal) reads a validated value in the scale's dtype
        if self._validate_args:
            self._validate_sample(value)
        value = creation.as_tensor(value, dtype=self.scale.dtype, device=self.scale.device)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return ops.where(value >= 0, log_prob, -math.inf)

    @property
    def mean(self):
        return creation.full(self._extended_shape(), math.inf, dtype=self.scale.dtype, device=self.scale.device)

    @property
    def variance(self):
        return self.base_dist.variance
