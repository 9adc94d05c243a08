"""``Pareto(scale, alpha)``: the Pareto type-I distribution, scale * exp(E) for E ~ Exponential(alpha)."""

from __future__ import annotations

from tritongrad.distributions import constraints
from tritongrad.distributions.exponential import Exponential
from tritongrad.distributions.transformed_distribution import TransformedDistribution
from tritongrad.distributions.transforms import AffineTransform, ExpTransform
from tritongrad.distributions.utils import broadcast_all

__all__ = ["Pareto"]


class Pareto(TransformedDistribution):
    """A Pareto distribution with minimum ``scale`` and tail index ``alpha`` (mean infinite for
    alpha <= 1, variance for alpha <= 2, as torch's clamped formulas give).

    >>> Pareto(1.0, 3.0).sample((2,)).shape
    torch.Size([2])
    """

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}

    def __init__(self, scale, alpha, validate_args: bool | None = None) -> None:
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base_dist = Exponential(self.alpha, validate_args=validate_args)
        transforms = [ExpTransform(), AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Pareto, _instance)
        new.scale = self.scale.expand(batch_shape)
        new.alpha = self.alpha.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        a = self.alpha.clamp(min=1)
        return a * self.scale / (a - 1)

    @property
    def mode(self):
        return self.scale

    @property
    def variance(self):
        a = self.alpha.clamp(min=2)
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    def entropy(self):
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())
