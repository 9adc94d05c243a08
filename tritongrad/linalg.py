"""``tritongrad.linalg``: torch.linalg's vector norms, cross and vecdot products, matmul, and the
factorizations of small matrices (n <= 64: LU, Cholesky, triangular solves and what they give:
det, slogdet, inv, solve; QR; eigh by Jacobi)."""

from __future__ import annotations

from tritongrad.ops.linalg import linalg_cross as cross
from tritongrad.ops.linalg import matmul
from tritongrad.ops.linalg_factor import (
    LinAlgError,
    cholesky_ex,
    det,
    inv,
    inv_ex,
    lu_factor,
    lu_factor_ex,
    slogdet,
    solve,
    solve_ex,
    solve_triangular,
)
from tritongrad.ops.linalg_factor import linalg_cholesky as cholesky
from tritongrad.ops.linalg_spectral import eigh, eigvalsh
from tritongrad.ops.linalg_spectral import linalg_qr as qr
from tritongrad.ops.reduction import norm as _norm

__all__ = [
    "norm", "vector_norm", "cross", "matmul", "vecdot", "LinAlgError", "det", "slogdet", "inv", "inv_ex", "solve",
    "solve_ex", "lu_factor", "lu_factor_ex", "cholesky", "cholesky_ex", "solve_triangular", "qr", "eigh", "eigvalsh",
]  # fmt: skip


def vecdot(x, y, *, dim: int = -1):
    """The dot products of x and y along ``dim`` (broadcasting the others), torch.linalg.vecdot."""
    return (x * y).sum(dim)


def vector_norm(x, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None):
    """The ``ord``-norm of x's elements (all of them, or along ``dim``), torch.linalg.vector_norm."""
    return _norm(x, ord, dim=dim, keepdim=keepdim, dtype=dtype)


def norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None):
    """torch.linalg.norm for vector norms: with ``ord=None`` the 2-norm of all elements (for a matrix,
    its Frobenius norm); a numeric ``ord`` needs a 1-D input or an int ``dim``."""
    if ord is None or (ord == "fro" and (A.dim() == 2 or dim is not None)):
        return _norm(A, 2, dim=dim, keepdim=keepdim, dtype=dtype)
    if A.dim() == 1 or isinstance(dim, int):
        return _norm(A, ord, dim=dim, keepdim=keepdim, dtype=dtype)
    raise NotImplementedError(f"tritongrad.linalg.norm: matrix norm ord={ord!r} is not implemented (vector norms only)")
