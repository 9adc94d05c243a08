"""``Multinomial(total_count, probs | logits)``: counts of ``total_count`` draws from one Categorical.

sample draws ``total_count`` categorical indices per batch element (the existing multinomial sampler)
and counts them with scatter_add; log_prob is log(n!) - sum log(x_i!) + sum x_i log p_i with lgamma;
entropy sums the per-class Binomial terms over their enumerated support, as torch's.
"""

from __future__ import annotations

import math

import torch

from tritongrad import creation, ops
from tritongrad.autograd import no_grad
from tritongrad.distributions import constraints
from tritongrad.distributions.binomial import Binomial
from tritongrad.distributions.categorical import Categorical
from tritongrad.distributions.distribution import Distribution
from tritongrad.distributions.utils import broadcast_all

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    """Counts of ``total_count`` (an int, the same for the whole batch) categorical draws over
    ``probs.size(-1)`` classes.

    >>> Multinomial(10, tritongrad.tensor([1.0, 1.0, 2.0])).sample().sum()
    tensor(10.)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def __init__(self, total_count: int = 1, probs=None, logits=None, validate_args: bool | None = None) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = torch.Size(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        new._binomial = Binomial(total_count=self.total_count, probs=new._categorical.probs, validate_args=False)
        super(Multinomial, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self) -> torch.Size:
        return self._categorical.param_shape

    def sample(self, sample_shape=()):
        sample_shape = torch.Size(sample_shape)
        with no_grad():
            samples = self._categorical.sample(torch.Size((self.total_count,)) + sample_shape)
            # the draws' dim moves last: (sample_shape, batch_shape, total_count) indices into the classes
            order = list(range(samples.dim()))
            order.append(order.pop(0))
            samples = samples.permute(*order)
            counts = creation.zeros(self._extended_shape(sample_shape), dtype=samples.dtype, device=samples.device)
            counts.scatter_add_(-1, samples, creation.ones_like(samples))
            return counts.type_as(self.probs)

    def entropy(self):
        n = self.total_count
        term1 = n * self._categorical.entropy() - math.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = ops.exp(self._binomial.log_prob(support))
        weights = ops.lgamma(support + 1)
        term2 = (binomial_probs * weights).sum([0, -1])
        return term1 + term2

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = ops.lgamma(value.sum(-1) + 1)
        log_factorial_xs = ops.lgamma(value + 1).sum(-1)
        # 0 * log(0) counts as 0: a class of probability 0 that was never drawn
        logits = ops.where((value == 0) & (logits == -math.inf), 0.0, logits)
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers
