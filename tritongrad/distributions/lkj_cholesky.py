"""``LKJCholesky(dim, concentration)``: the LKJ distribution over Cholesky factors of dim x dim
correlation matrices (Lewandowski, Kurowicka & Joe 2009), density proportional to
det(L L^T)^(concentration - 1) times the Jacobian to the factor.

sample is torch's vectorized onion method: row i of the factor is sqrt(y_i) times a uniform direction
in its first i coordinates, y_i ~ Beta(i / 2, concentration + (dim - 2 - i) / 2) (no rsample);
log_prob sums order_i log L_ii and subtracts the normalizer through lgamma and mvlgamma.
"""

from __future__ import annotations

import math

import torch

from tritongrad import creation, ops
from tritongrad.autograd import no_grad
from tritongrad.distributions import constraints
from tritongrad.distributions.beta import Beta
from tritongrad.distributions.distribution import Distribution
from tritongrad.distributions.utils import broadcast_all, standard_normal
from tritongrad.linalg import vector_norm
from tritongrad.special import multigammaln

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """LKJ over lower Cholesky factors of ``dim`` x ``dim`` correlation matrices; ``concentration`` 1 is
    uniform over correlation matrices, larger values favour the identity.

    >>> LKJCholesky(3, 0.5).sample().shape
    torch.Size([3, 3])
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        event_shape = torch.Size((dim, dim))
        # the Beta of each row's squared off-diagonal length (Sec. 3.2 of the paper), offset 0 for row 0
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = creation.arange(self.dim - 1, dtype=self.concentration.dtype, device=self.concentration.device)
        offset = ops.cat([creation.zeros((1,), dtype=offset.dtype, device=offset.device), offset])
        beta_conc1 = offset + 0.5
        beta_conc0 = marginal_conc.unsqueeze(-1) - 0.5 * offset
        self._beta = Beta(beta_conc1, beta_conc0)
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = torch.Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        super(LKJCholesky, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=()):
        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            shape = self._extended_shape(sample_shape)
            u_normal = standard_normal(shape, dtype=y.dtype, device=y.device).tril(-1)
            # row 0 has no off-diagonal entries: its direction is 0 (not 0 / 0)
            first_row = (creation.arange(self.dim, device=y.device) == 0).unsqueeze(-1)
            u_hypersphere = ops.where(first_row, 0.0, u_normal / vector_norm(u_normal, dim=-1, keepdim=True))
            w = y.sqrt() * u_hypersphere
            # the diagonal completes each row to unit length (clamped for rounding)
            diag_elems = (1 - (w**2).sum(-1)).clamp(min=torch.finfo(w.dtype).tiny).sqrt()
            return w + ops.diag_embed(diag_elems)

    def log_prob(self, value):
        # p(L) is proportional to prod_i L_ii^(2 (concentration - 1) + dim - i) for i = 2..dim: the
        # density of the correlation matrix times the Jacobian from the factor to it (Stan's manual)
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = creation.arange(2, self.dim + 1, device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = (order * diag_elems.log()).sum(-1)
        # the normalizer (page 1999 of the paper); multigammaln's pi term is (d - 1)(d - 2)/4 log(pi)
        # where the paper's is d (d - 1) / 4 log(pi): the difference is added as pi_constant
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = ops.lgamma(alpha) * dm1
        numerator = multigammaln(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        return unnormalized_log_pdf - (pi_constant + numerator - denominator)
