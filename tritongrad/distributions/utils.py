"""Helpers shared by the distributions: torch.distributions.utils's names and rules, on tritongrad ops.

``broadcast_all`` turns numbers into tensors of the first tensor's dtype (the default dtype when all
are numbers) and broadcasts; ``logits_to_probs``/``probs_to_logits`` convert lazily-derived parameters
(binary: sigmoid / log-odds of clamped probabilities; categorical: softmax / log of clamped
probabilities); ``lazy_property`` computes a parameter on first read and caches it on the instance.
"""

from __future__ import annotations

import numbers
from functools import update_wrapper

import torch

from tritongrad import creation, ops
from tritongrad.autograd import enable_grad
from tritongrad.dtypes import get_default_dtype
from tritongrad.nn import functional as F
from tritongrad.tensor import Tensor

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits", "tril_matrix_to_vec",
           "vec_to_tril_matrix"]  # fmt: skip

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant


def broadcast_all(*values) -> tuple[Tensor, ...]:
    """``values`` (Tensors or numbers) broadcast against each other; numbers become tensors of the first
    tensor's dtype and device (the default dtype when every value is a number), as torch's."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError(
            "Input arguments must all be instances of Number, torch.Tensor or objects implementing __torch_function__."
        )
    if not all(isinstance(v, Tensor) for v in values):
        first = next((v for v in values if isinstance(v, Tensor)), None)
        options = {"dtype": get_default_dtype()} if first is None else {"dtype": first.dtype, "device": first.device}
        values = tuple(v if isinstance(v, Tensor) else creation.tensor(v, **options) for v in values)
    return ops.broadcast_tensors(*values)


def standard_normal(shape, dtype: torch.dtype, device) -> Tensor:
    """N(0, 1) samples of ``shape`` (no graph)."""
    return creation.empty(shape, dtype=dtype, device=device).normal_()


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """``value`` summed over its ``dim`` rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(value.shape[:-dim] + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from log-odds (binary: sigmoid) or from unnormalized log-probabilities along the last
    dim (softmax)."""
    return ops.sigmoid(logits) if is_binary else F.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` clamped to [eps, 1 - eps] with the dtype's machine epsilon."""
    eps = torch.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Log-odds (binary) or log-probabilities of ``probs``, clamped away from 0 and 1 first."""
    clamped = clamp_probs(probs)
    if is_binary:
        return ops.log(clamped) - ops.log1p(-clamped)
    return ops.log(clamped)


def _tril_positions(n: int, diag: int) -> tuple[list[int], list[int]]:
    """The (row, column) positions of the lower triangle of an n x n matrix up to diagonal ``diag``, in row
    order (listed on the host: index lists need no device readback)."""
    positions = [(i, j) for i in range(n) for j in range(n) if j < i + diag + 1]
    return [i for i, _ in positions], [j for _, j in positions]


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The lower-triangular entries (up to diagonal ``diag``) of a D x D matrix, or a batch of them, as a
    vector in row order."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, columns = _tril_positions(n, diag)
    return mat[..., rows, columns]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of ``tril_matrix_to_vec``: a (batched) D x D lower-triangular matrix whose entries up to
    diagonal ``diag`` are ``vec``'s, in row order (zeros elsewhere)."""
    # the positive root of D**2 + (1 + 2 diag) D - |diag| (diag + 1) - 2 len(vec) = 0
    b = 1 + 2 * diag
    n = (-b + (b**2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > torch.finfo(vec.dtype).eps:
        raise ValueError(
            f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as the lower triangular part "
            "of a square D x D matrix."
        )
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    rows, columns = _tril_positions(n, diag)
    mat[..., rows, columns] = vec
    return mat


class lazy_property:  # noqa: N801 (torch's name)
    """A parameter derived on first read (with grad enabled, so it stays differentiable) and then
    stored on the instance, replacing this descriptor there (``Bernoulli(probs=p).logits``)."""

    def __init__(self, wrapped) -> None:
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
