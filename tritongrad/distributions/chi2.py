"""``Chi2(df)``: the chi-squared distribution, Gamma(df / 2, 1 / 2)."""

from __future__ import annotations

from tritongrad.distributions import constraints
from tritongrad.distributions.gamma import Gamma

__all__ = ["Chi2"]


class Chi2(Gamma):
    """A chi-squared distribution with ``df`` degrees of freedom.

    >>> Chi2(tritongrad.tensor([1.0])).sample().shape
    torch.Size([1])
    """

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args: bool | None = None) -> None:
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self):
        return self.concentration * 2
