"""``LogisticNormal(loc, scale)``: a Normal over R^(K-1) pushed onto the K-simplex by the
stick-breaking transform."""

from __future__ import annotations

from tritongrad.distributions import constraints
from tritongrad.distributions.normal import Normal
from tritongrad.distributions.transformed_distribution import TransformedDistribution
from tritongrad.distributions.transforms import StickBreakingTransform

__all__ = ["LogisticNormal"]


class LogisticNormal(TransformedDistribution):
    """StickBreakingTransform()(X) for X ~ Normal(``loc``, ``scale``) over the last dim (K - 1 entries
    give a K-simplex event).

    >>> LogisticNormal(tritongrad.zeros(3), tritongrad.ones(3)).sample().shape
    torch.Size([4])
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        base_dist = Normal(loc, scale, validate_args=validate_args)
        if not base_dist.batch_shape:
            base_dist = base_dist.expand([1])
        super().__init__(base_dist, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogisticNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self):
        return self.base_dist.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.base_dist.scale
