"""``MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril)``: the Gaussian over
vectors, parameterised through the lower Cholesky factor L of its covariance (linalg.cholesky), as
torch's: rsample is loc + L eps, log_prob solves L y = x - loc (solve_triangular).

Both batch over the parameters only: the vectors that share one L (every sample, and the batch
dims L is broadcast over) are the columns of one right-hand side, so sampling N vectors is one
(k x k) @ (k x N) product and their log_prob one triangular solve with N columns, however large N
is (torch's _batch_mv / _batch_mahalanobis do the same regrouping).
"""

from __future__ import annotations

import math

import torch

from tritongrad import creation
from tritongrad.autograd import no_grad
from tritongrad.distributions import constraints
from tritongrad.distributions.distribution import Distribution
from tritongrad.distributions.utils import lazy_property, standard_normal
from tritongrad.ops.linalg_factor import cholesky, solve_triangular

__all__ = ["MultivariateNormal"]


def _as_columns(matrices, vectors):
    """The vectors (..., k) regrouped as right-hand-side columns of the matrices (*M, j, k): returns
    (flat matrices (b, j, k), columns (b, k, c), restore), b = prod(M), where restore takes a
    (b, j, c) result back to the vectors' broadcast batch shape + (j,).

    Each batch dim d of the matrices is 1 or the vectors' size there: the vectors' dim d is split as
    (size // M[d], M[d]), the M[d] parts go next to k and the rest (with the leading dims the
    matrices lack) becomes the columns."""
    k = matrices.shape[-1]
    matrix_batch = tuple(matrices.shape[:-2])
    p = len(matrix_batch)
    shape = tuple(torch.broadcast_shapes(vectors.shape[:-1], matrix_batch))
    outer = len(shape) - p
    split = list(shape[:outer])
    for size, matrix_size in zip(shape[outer:], matrix_batch):
        split += [size // matrix_size, matrix_size]
    vectors = vectors.expand(*shape, vectors.shape[-1]).reshape(*split, k)
    # (outer dims, the size // M[d] dims, the M[d] dims, k)
    order = [*range(outer), *range(outer, outer + 2 * p, 2), *range(outer + 1, outer + 2 * p, 2), outer + 2 * p]
    grouped = vectors.permute(order)
    grouped_shape = tuple(grouped.shape[:-1])
    b = math.prod(matrix_batch)
    columns = grouped.reshape(-1, b, k).permute(1, 2, 0)
    inverse = [order.index(d) for d in range(len(order))]

    def restore(result):
        j = result.shape[-2]
        return result.permute(2, 0, 1).reshape(*grouped_shape, j).permute(inverse).reshape(*shape, j)

    return matrices.reshape(b, matrices.shape[-2], k), columns, restore


def _batch_mv(matrix, vector):
    """matrix @ vector over broadcast batch dims: one batched product over the matrices' own batch."""
    flat, columns, restore = _as_columns(matrix, vector)
    return restore(flat @ columns)


def batch_mahalanobis(scale_tril, difference):
    """|L^-1 difference|^2 for each batch element: one triangular solve per matrix of L, with every
    difference that shares it as a column."""
    flat, columns, restore = _as_columns(scale_tril, difference)
    squares = solve_triangular(flat, columns, upper=False).pow(2).sum(-2, keepdim=True)
    return restore(squares).squeeze(-1)


def _precision_to_scale_tril(precision):
    """The Cholesky factor of inv(P) from P, through the flipped factorization torch uses."""
    flipped = cholesky(precision.flip((-2, -1)))
    inverse_of_factor = flipped.flip((-2, -1)).mT  # (lower triangular)
    identity = creation.eye(precision.shape[-1], dtype=precision.dtype, device=precision.device)
    return solve_triangular(inverse_of_factor, identity, upper=False)


class MultivariateNormal(Distribution):
    """A multivariate normal with mean ``loc`` (..., k) and one of ``covariance_matrix``,
    ``precision_matrix`` or ``scale_tril`` (..., k, k)."""

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args: bool | None = None) -> None:  # fmt: skip
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        given = scale_tril if scale_tril is not None else covariance_matrix if covariance_matrix is not None else (
            precision_matrix
        )  # fmt: skip
        if given.dim() < 2:
            name = "scale_tril matrix" if scale_tril is not None else (
                "covariance_matrix" if covariance_matrix is not None else "precision_matrix"
            )  # fmt: skip
            raise ValueError(f"{name} must be at least two-dimensional, with optional leading batch dimensions")
        batch_shape = torch.broadcast_shapes(given.shape[:-2], loc.shape[:-1])
        k = loc.shape[-1]
        if scale_tril is not None:
            self.scale_tril = scale_tril.expand(*batch_shape, -1, -1)
        elif covariance_matrix is not None:
            self.covariance_matrix = covariance_matrix.expand(*batch_shape, -1, -1)
        else:
            self.precision_matrix = precision_matrix.expand(*batch_shape, -1, -1)
        self.loc = loc.expand(*batch_shape, -1)
        super().__init__(batch_shape, torch.Size((k,)), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = torch.Size(batch_shape)
        event = self.event_shape
        new.loc = self.loc.expand(batch_shape + event)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(batch_shape + event + event))
        super(MultivariateNormal, new).__init__(batch_shape, event, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(*self._batch_shape, *self._event_shape, *self._event_shape)

    @lazy_property
    def covariance_matrix(self):
        tril = self._unbroadcasted_scale_tril
        return tril.matmul(tril.mT).expand(*self._batch_shape, *self._event_shape, *self._event_shape)

    @lazy_property
    def precision_matrix(self):
        tril = self._unbroadcasted_scale_tril
        identity = creation.eye(tril.shape[-1], dtype=tril.dtype, device=tril.device)
        inverse = solve_triangular(tril, identity, upper=False)
        return inverse.mT.matmul(inverse).expand(*self._batch_shape, *self._event_shape, *self._event_shape)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(*self._batch_shape, *self._event_shape)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = standard_normal(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def sample(self, sample_shape=()):
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        difference = value - self.loc
        mahalanobis = batch_mahalanobis(self._unbroadcasted_scale_tril, difference)
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + mahalanobis) - half_log_det

    def entropy(self):
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        entropy = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        return entropy if len(self._batch_shape) == 0 else entropy.expand(self._batch_shape)
