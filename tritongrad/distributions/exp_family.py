"""``ExponentialFamily``: distributions whose density is exp(<t(x), theta> - F(theta) + k(x)); their
entropy (and a same-family KL, kl.py) follows from the log normalizer F by autograd (Bregman
divergence), as torch's does."""

from __future__ import annotations

from tritongrad import autograd
from tritongrad.distributions.distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class of exponential-family distributions (Normal, Bernoulli, Exponential here)."""

    @property
    def _natural_params(self) -> tuple:
        """The natural parameters theta."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """The log normalizer F(theta)."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float:
        """E[k(x)]."""
        raise NotImplementedError

    def entropy(self):
        """-E[k(x)] + F(theta) - <theta, grad F(theta)>."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for natural, gradient in zip(nparams, gradients):
            result = result - (natural * gradient).reshape(self._batch_shape + (-1,)).sum(-1)
        return result
