"""``Dirichlet(concentration)``: distributions on the simplex of the last dim; rsample normalizes
reparameterized standard gammas.

The rsample gradient is the pathwise gradient of x = g / sum(g), g_i ~ Gamma(alpha_i) each
reparameterized at a fixed CDF value: unbiased, the same in expectation as torch's, but not the
same per sample (torch's ``_Dirichlet`` node differentiates each marginal Beta at a fixed CDF).
"""

from __future__ import annotations

import torch

from tritongrad import ops
from tritongrad.distributions import constraints
from tritongrad.distributions.exp_family import ExponentialFamily
from tritongrad.distributions.gamma import clamp_outside_graph
from tritongrad.nn.functional import one_hot
from tritongrad.ops.random_gamma import _standard_gamma

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """A Dirichlet distribution with ``concentration`` (at least 1-D; the last dim is the event).

    >>> Dirichlet(tritongrad.tensor([0.5, 0.5])).sample().shape
    torch.Size([2])
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = torch.Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape + self.event_shape)
        super(Dirichlet, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        gammas = _standard_gamma(self.concentration.expand(shape))
        value = gammas / gammas.sum(-1, keepdim=True)
        return clamp_outside_graph(value, torch.finfo(value.dtype).tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (
            ops.xlogy(self.concentration - 1.0, value).sum(-1)
            + ops.lgamma(self.concentration.sum(-1))
            - ops.lgamma(self.concentration).sum(-1)
        )

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        """(alpha - 1)+ normalized; where every alpha < 1, the one-hot vector of the largest entry
        of that (torch writes it through a mask; ``where`` gives the same values)."""
        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, True)
        corner = one_hot(mode.argmax(dim=-1), concentrationm1.shape[-1]).to(mode.dtype)
        all_below_one = (self.concentration < 1).all(dim=-1).unsqueeze(-1)
        return ops.where(all_below_one, corner, mode)

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (
            ops.lgamma(self.concentration).sum(-1)
            - ops.lgamma(a0)
            - (k - a0) * ops.digamma(a0)
            - ((self.concentration - 1.0) * ops.digamma(self.concentration)).sum(-1)
        )

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return ops.lgamma(x).sum(-1) - ops.lgamma(x.sum(-1))
