"""The LU family built on lu_factor (ops/linalg_factor.py): torch.linalg.lu (P, L, U), torch.lu_unpack,
torch.linalg.lu_solve / torch.lu_solve and the legacy torch.lu. The n <= 64 register-block limit of the
factor and triangular-solve kernels applies.

- The row permutation is replayed from getrf's pivots by one small kernel (kernels/linalg_lu.py);
  P is the one-hot matrix of it (``P[perm[i], i] = 1``, so that A = P L U).
- L and U are LU's strict lower triangle (plus the unit diagonal) and upper triangle: slices and
  tril/triu, so lu_unpack is differentiable through them, as torch's is.
- lu_solve never unpacks: the two triangular solves read LU's lower (unit diagonal) and upper
  triangles in place, and the permutation is a row gather; its gradients are those of the
  composition (the triangular solves keep LU's gradient to the triangle each one read).
- linalg.lu's backward is torch's (FunctionsManual's linalg_lu_backward, square, wide and tall
  cases), written with triangular solves.
"""

from __future__ import annotations

import math
import warnings

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.dtypes import dtype_word
from tritongrad.kernels.linalg_lu import launch_pivots_to_permutation
from tritongrad.kernels.strided import broadcast_shapes
from tritongrad.ops.indexing import cat, gather
from tritongrad.ops.linalg_factor import _maybe_out, check_matrices, lu_factor_ex, solve_triangular
from tritongrad.ops.return_types import _return_type
from tritongrad.tensor import Tensor, attach_methods

__all__ = ["linalg_lu", "lu_unpack", "linalg_lu_solve", "lu_solve", "lu"]

linalg_lu_result = _return_type("linalg_lu", ("P", "L", "U"))
lu_unpack_result = _return_type("lu_unpack", ("P", "L", "U"))


# ------------------------------------------------------------------------------------- permutation


def _permutation(pivots: Tensor, m: int) -> Tensor:
    """perm (*, m) int64 from pivots (*, k): row i of P^T A is row perm[i] of A."""
    batch, steps = tuple(pivots.shape[:-1]), pivots.shape[-1]
    flat = pivots.reshape(math.prod(batch), steps).contiguous()._data
    return Tensor._wrap(launch_pivots_to_permutation(flat, m).view(*batch, m))


def _permutation_matrix(perm: Tensor, dtype: torch.dtype) -> Tensor:
    """P (*, m, m) with P[..., perm[i], i] = 1, in ``dtype``."""
    m = perm.shape[-1]
    rows = creation.arange(m, device=perm.device).unsqueeze(-1)
    return (perm.unsqueeze(-2) == rows).to(dtype)


def _check_pivots(name: str, pivots, m: int, k: int) -> None:
    """torch's checks of user-given pivots: int32, one per step, each in [1, m] (one host read, as torch)."""
    if not isinstance(pivots, Tensor):
        raise TypeError(f"{name}(): argument 'LU_pivots' must be Tensor, not {type(pivots).__name__}")
    if pivots.dtype != torch.int32:
        raise RuntimeError(
            "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype.\n"
            "Note: this function is intended to be used with the output produced by torch.linalg.lu_factor"
        )
    message = (
        "pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive.Did you properly pass the result "
        "of lu_factor?"
    )
    if pivots.shape[-1:] != (k,) and k:
        raise RuntimeError(message)
    if pivots.numel() and (pivots.min().item() < 1 or pivots.max().item() > m):
        raise RuntimeError(message)


# ----------------------------------------------------------------------------------------- unpack


def _unpack(LU: Tensor, with_data: bool = True):
    """(L, U) of a packed (*, m, n) LU: L (*, m, k) unit lower, U (*, k, n) upper."""
    m, n = LU.shape[-2], LU.shape[-1]
    k = min(m, n)
    eye = creation.eye(m, k, dtype=LU.dtype, device=LU.device)
    lower = LU[..., :, :k].tril(-1) + eye
    upper = LU[..., :k, :].triu()
    return lower, upper


def lu_unpack(LU_data, LU_pivots, unpack_data: bool = True, unpack_pivots: bool = True, *, out=None):
    """(P, L, U) from lu_factor's packed (LU, pivots), torch.lu_unpack: A = P L U. ``unpack_data=False``
    gives empty L and U, ``unpack_pivots=False`` an empty P. Differentiable in LU_data.

    >>> A = tritongrad.randn(3, 3)
    >>> P, L, U = tritongrad.lu_unpack(*tritongrad.linalg.lu_factor(A))
    >>> tritongrad.allclose(P @ L @ U, A, atol=1e-6)
    True
    """
    if not isinstance(LU_data, Tensor):
        raise TypeError(f"lu_unpack(): argument 'LU_data' (position 1) must be Tensor, not {type(LU_data).__name__}")
    if LU_data.dim() < 2:
        raise RuntimeError(
            f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: {list(LU_data.shape)} instead"
        )
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    empty = creation.empty(0, dtype=LU_data.dtype, device=LU_data.device)
    if unpack_pivots:
        _check_pivots("lu_unpack", LU_pivots, m, min(m, n))
        P = _permutation_matrix(_permutation(LU_pivots, m), LU_data.dtype)
    else:
        P = empty
    L, U = _unpack(LU_data) if unpack_data else (empty, empty)
    if out is not None:
        return lu_unpack_result(*(_maybe_out("lu_unpack", r, o) for r, o in zip((P, L, U), out)))
    return lu_unpack_result(P, L, U)


# ------------------------------------------------------------------------------------------ linalg.lu


class LinalgLu(Function):
    """(P, L, U) of a batch of m x n matrices with partial pivoting; differentiable in A (not P)."""

    _backward_name = "LinalgLuBackward0"

    @staticmethod
    def forward(ctx, A):
        LU, pivots, _ = lu_factor_ex(A)
        L, U = _unpack(LU)
        P = _permutation_matrix(_permutation(pivots, A.shape[-2]), A.dtype)
        ctx.mark_non_differentiable(P)
        ctx.save_for_backward(P, L, U)
        return P, L, U

    @staticmethod
    def backward(ctx, grad_p, grad_l, grad_u):
        P, L, U = ctx.saved_tensors
        return P @ _lu_backward(grad_l, grad_u, L, U)


def _lu_backward(grad_l, grad_u, L, U):
    """P^T gA for A = P L U (torch's linalg_lu_backward, real case): square, wide (m < n) and tall."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    if m == n:
        grad = (L.mT @ grad_l).tril(-1) + (grad_u @ U.mT).triu()
        grad = solve_triangular(U.mT, grad, upper=False, left=False)
        return solve_triangular(L.mT, grad, upper=True, unitriangular=True)
    if m < n:  # wide: U = [U1 | U2], U1 k x k
        grad = (L.mT @ grad_l - grad_u.triu() @ U.mT).tril(-1)
        grad = solve_triangular(U[..., :k].mT, grad, upper=False, left=False)
        grad = cat([grad + grad_u[..., :k].triu(), grad_u[..., k:]], -1)
        return solve_triangular(L.mT, grad, upper=True, unitriangular=True)
    # tall: L = [L1; L2], L1 k x k
    grad = (grad_u @ U.mT - L.mT @ grad_l.tril(-1)).triu()
    grad = solve_triangular(L[..., :k, :].mT, grad, upper=True, unitriangular=True)
    grad = cat([grad + grad_l[..., :k, :].tril(-1), grad_l[..., k:, :]], -2)
    return solve_triangular(U.mT, grad, upper=False, left=False)


def _check_lu_input(name: str, A) -> None:
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'A' (position 1) must be Tensor, not {type(A).__name__}")
    if A.dim() < 2:
        raise RuntimeError(f"{name}: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} instead")
    if not A.dtype.is_floating_point:
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{dtype_word(A.dtype)}'")
    check_matrices(name, A, square=False, half_kernel="lu_cpu")


def linalg_lu(A, *, pivot: bool = True, out=None):
    """(P, L, U) with A = P L U, torch.linalg.lu: P (*, m, m) a permutation, L (*, m, k) unit lower
    triangular, U (*, k, n) upper triangular (k = min(m, n)). Differentiable in A.

    >>> P, L, U = tritongrad.linalg.lu(tritongrad.tensor([[1.0, 2.0], [3.0, 4.0]]))
    >>> U
    tensor([[3.0000, 4.0000],
            [0.0000, 0.6667]])
    """
    _check_lu_input("linalg.lu", A)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    P, L, U = LinalgLu.apply(A)
    if out is not None:
        return linalg_lu_result(*(_maybe_out("linalg.lu", r, o) for r, o in zip((P, L, U), out)))
    return linalg_lu_result(P, L, U)


def lu(A, pivot: bool = True, get_infos: bool = False, out=None):
    """torch.lu (deprecated for linalg.lu_factor / lu_factor_ex): (LU, pivots), and info when ``get_infos``
    (a singular matrix is factored, not refused, as torch 2.13's)."""
    warnings.warn(
        "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be removed "
        "in a future PyTorch release.",
        UserWarning,
        stacklevel=2,
    )
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    return (LU, pivots, info) if get_infos else (LU, pivots)


# ------------------------------------------------------------------------------------------ lu_solve


def linalg_lu_solve(LU, pivots, B, *, left: bool = True, adjoint: bool = False, out=None):
    """X with A X = B for A = P L U given as lu_factor's (LU, pivots), torch.linalg.lu_solve; ``adjoint``
    solves A^H X = B, ``left=False`` X A = B. Batch dims of LU and B broadcast. Differentiable in LU and B.

    >>> A, B = tritongrad.randn(3, 3), tritongrad.randn(3, 2)
    >>> X = tritongrad.linalg.lu_solve(*tritongrad.linalg.lu_factor(A), B)
    >>> tritongrad.allclose(A @ X, B, atol=1e-4)
    True
    """
    name = "linalg.lu_solve"
    for argument, value in (("LU", LU), ("pivots", pivots), ("B", B)):
        if not isinstance(value, Tensor):
            raise TypeError(f"linalg_lu_solve(): argument '{argument}' must be Tensor, not {type(value).__name__}")
    check_matrices(f"torch.{name}", LU, what="A")
    if B.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    if LU.dtype != B.dtype:
        raise RuntimeError(
            f"{name}: Expected LU and B to have the same dtype, but found LU of type {dtype_word(LU.dtype)} and B "
            f"of type {dtype_word(B.dtype)} instead"
        )
    if pivots.dtype != torch.int32:
        raise RuntimeError(f"{name}: pivots should be a Tensor of scalar type torch.int32")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(
            f"{name}: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
            f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})"
        )
    if tuple(pivots.shape) != (*LU.shape[:-2], n):
        raise RuntimeError(
            f"{name}: Expected LU.shape[:-1] and pivots.shape to be the same, but got pivots with shape "
            f"{list(pivots.shape)} instead"
        )
    _check_solve_pivots(pivots, n, B)
    if not left:  # X A = B  <=>  A^T X^T = B^T (real)
        return _maybe_out(name, _lu_solve_left(LU, pivots, B.mT, not adjoint).mT, out)
    return _maybe_out(name, _lu_solve_left(LU, pivots, B, adjoint), out)


def _check_solve_pivots(pivots, n: int, B) -> None:
    """torch's range checks of lu_solve's pivots, lower bound first (one host read each, as torch's; skipped
    when there is nothing to solve, as torch's kernel is)."""
    if not pivots.numel() or not B.numel():
        return
    advice = " Did you properly pass the result of lu_factor?"
    if pivots.min().item() < 1:
        raise RuntimeError("Pivots given to lu_solve must all be greater or equal to 1." + advice)
    if pivots.max().item() > n:
        raise RuntimeError("Pivots given to lu_solve must all be smaller or equal to LU.size(-2)." + advice)


def _lu_solve_left(LU, pivots, B, adjoint: bool):
    n, k = LU.shape[-1], B.shape[-1]
    batch = broadcast_shapes(tuple(LU.shape[:-2]), tuple(B.shape[:-2]))
    LU = LU.expand(*batch, n, n)
    B = B.expand(*batch, n, k)
    perm = _permutation(pivots, n).expand(*batch, n)
    if not adjoint:  # U^-1 L^-1 P^T B, P^T B = B's rows in perm's order
        rows = gather(B, -2, perm.unsqueeze(-1).expand(*batch, n, k))
        y = solve_triangular(LU, rows, upper=False, unitriangular=True)
        return solve_triangular(LU, y, upper=True)
    # A^T = U^T L^T P^T: X = P L^-T U^-T B, P Z = Z's rows in the inverse permutation's order
    y = solve_triangular(LU.mT, B, upper=False)
    z = solve_triangular(LU.mT, y, upper=True, unitriangular=True)
    return gather(z, -2, perm.argsort(-1).unsqueeze(-1).expand(*batch, n, k))


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """torch.lu_solve (deprecated for linalg.lu_solve, whose arguments are reversed), with torch's warning."""
    warnings.warn(
        "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future PyTorch "
        "release.\nNote that torch.linalg.lu_solve has its arguments reversed.",
        UserWarning,
        stacklevel=2,
    )
    return linalg_lu_solve(LU_data, LU_pivots, b, out=out)


attach_methods({"lu_solve": lu_solve, "lu": lu})
