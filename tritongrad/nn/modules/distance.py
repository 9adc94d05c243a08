"""nn.CosineSimilarity and nn.PairwiseDistance: thin wrappers over their F functions."""

from __future__ import annotations

from tritongrad.nn import functional as F
from tritongrad.nn.module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Cosine similarity of x1 and x2 along ``dim`` (they broadcast); the dim is removed.

    Example::

        >>> nn.CosineSimilarity(dim=1)(tritongrad.ones(2, 3), tritongrad.ones(2, 3))
        tensor([1.0000, 1.0000])
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm of x1 - x2 + eps along the last dim: (N, D), (N, D) -> (N,) (or (N, 1) with ``keepdim``)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
