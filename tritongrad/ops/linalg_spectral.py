"""QR and the symmetric eigendecomposition (torch.linalg.qr, eigh, eigvalsh) on kernels/linalg_spectral.py.

Backwards, written with tritongrad ops:

- qr (m >= n, reduced, or complete with m == n): with M = tril(Q^T gQ - gQ^T Q + R gR^T - gR R^T),
  gA = Q (gR + M R^-T) + (gQ - Q Q^T gQ) R^-T (two triangular solves). Wide matrices (m < n) and
  complete mode with m > n are not differentiable here (torch differentiates the first).
- eigh: gA = V (diag(gL) + skew(V^T gV) / E) V^T with E[i, j] = L[j] - L[i] (off the diagonal),
  skew(X) = (X - X^T) / 2; eigenvectors are unique only up to sign, so a loss must not depend on
  their signs for the gradient to mean anything (torch's documented caveat). Without gV (eigvalsh,
  or eigh's V unused) it is V diag(gL) V^T: no 1 / E terms, finite at repeated eigenvalues.

A matrix with a NaN or an infinity in the triangle read gets NaN eigenvalues and eigenvectors
(torch's LAPACK gives NaN for most such inputs; for some it raises "failed to converge" or returns
arbitrary numbers, depending on its iteration rather than on the input).

Sides up to 64 (kernels/linalg_factor.MAX_SIZE). float32 eigenvectors are accurate to ~1e-5
relative after the Jacobi sweeps (float64: ~1e-13).
"""

from __future__ import annotations

from tritongrad.autograd.function import Function
from tritongrad.kernels import linalg_spectral as kernels
from tritongrad.ops import shape as shape_ops
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.linalg_factor import check_matrices, flat, solve_triangular, unflat
from tritongrad.ops.out_argument import out_variant
from tritongrad.ops.return_types import _return_type
from tritongrad.tensor import attach_methods

__all__ = ["qr", "linalg_qr", "eigh", "eigvalsh"]

qr_result = _return_type("linalg_qr", ("Q", "R"))
qr_legacy_result = _return_type("qr", ("Q", "R"))
eigh_result = _return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))

_MODES = ("reduced", "complete", "r")


class QR(Function):
    _backward_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, A, mode):
        batch, m, n = tuple(A.shape[:-2]), A.shape[-2], A.shape[-1]
        q, r = kernels.launch_qr(flat(A), complete=mode == "complete", with_q=mode != "r")
        k = m if mode == "complete" else min(m, n)
        r = unflat(r, batch, k, n)
        q = unflat(q, batch, m, k) if q is not None else _empty(A)
        ctx.save_for_backward(q, r)
        ctx.mode, ctx.shape = mode, (m, n)
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        q, r = ctx.saved_tensors
        m, n = ctx.shape
        if ctx.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
            )
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if m < n:
            raise NotImplementedError("tritongrad.linalg.qr: the backward of a wide matrix (m < n) is not implemented")
        grad_q = grad_q if grad_q is not None else q * 0
        grad_r = grad_r if grad_r is not None else r * 0
        qtg = q.mT @ grad_q
        rgt = r @ grad_r.mT
        skew = (qtg - qtg.mT + rgt - rgt.mT).tril()
        # X R^-T is the solution Y of Y R^T = X (R^T lower triangular)
        left = q @ (grad_r + solve_triangular(r.mT, skew, upper=False, left=False))
        return left + solve_triangular(r.mT, grad_q - q @ qtg, upper=False, left=False), None


def _empty(A):
    return A.new_empty((0,))


@autocast_op("qr")
@out_variant("linalg_qr")
def linalg_qr(A, mode: str = "reduced", *, out=None):
    """(Q, R) with A = Q R, torch.linalg.qr: Householder reflections as LAPACK's geqrf (R's diagonal may
    be negative); mode 'reduced' (Q m x k, R k x n, k = min(m, n)), 'complete' (Q m x m) or 'r' (Q empty)."""
    check_matrices("linalg.qr", A, square=False, half_kernel="geqrf_cpu")
    if mode not in _MODES:
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'"
        )
    kernels.check_size("linalg.qr", A.shape[-2], A.shape[-1])
    return qr_result(*QR.apply(A, mode))


@autocast_op("qr")
@out_variant("qr")
def qr(input, some: bool = True, *, out=None):
    """torch.qr (deprecated in torch): linalg.qr with mode 'reduced' (``some``) or 'complete'."""
    return qr_legacy_result(*linalg_qr(input, "reduced" if some else "complete"))


class Eigh(Function):
    _backward_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, A, upper, with_vectors):
        batch, n = tuple(A.shape[:-2]), A.shape[-1]
        w, v = kernels.launch_eigh(flat(A), upper=upper, with_vectors=with_vectors)
        w = unflat(w, batch, n)
        v = unflat(v, batch, n, n) if with_vectors else None
        ctx.save_for_backward(w, v)
        # eigenvalues alone (eigvalsh, or eigh's V unused) get None for gV, not zeros: their gradient
        # V diag(gL) V^T has no 1 / (L_j - L_i) terms, which are NaN at a repeated eigenvalue
        ctx.set_materialize_grads(False)
        return (w, v) if with_vectors else w

    @staticmethod
    def backward(ctx, grad_w, grad_v=None):
        w, v = ctx.saved_tensors
        if grad_v is None:
            if grad_w is None:
                return None, None, None
            return (v * grad_w.unsqueeze(-2)) @ v.mT, None, None
        vtg = v.mT @ grad_v
        gap = w.unsqueeze(-2) - w.unsqueeze(-1)  # gap[i, j] = w[j] - w[i]
        eye = shape_ops.diag_embed(w * 0 + 1)
        inner = (0.5 * (vtg - vtg.mT)) / (gap + eye) * (1 - eye)
        if grad_w is not None:
            inner = inner + shape_ops.diag_embed(grad_w)
        return v @ inner @ v.mT, None, None


def _check_uplo(UPLO: str) -> bool:
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO in ("U", "u")


@autocast_op("eigh")
@out_variant("linalg_eigh")
def eigh(A, UPLO: str = "L", *, out=None):
    """(eigenvalues ascending, eigenvectors as columns) of each symmetric matrix of A, torch.linalg.eigh,
    reading only its lower ('L') or upper ('U') triangle; eigenvectors are unique up to sign only."""
    check_matrices("linalg.eigh", A, half_kernel="linalg_eigh_cpu", kernel_dtypes=True)
    upper = _check_uplo(UPLO)
    kernels.check_size("linalg.eigh", A.shape[-1])
    return eigh_result(*Eigh.apply(A, upper, True))


@autocast_op("eigvalsh")
@out_variant("linalg_eigvalsh")
def eigvalsh(A, UPLO: str = "L", *, out=None):
    """The eigenvalues (ascending) of each symmetric matrix of A, torch.linalg.eigvalsh (its gradient
    needs the eigenvectors, which are then computed too)."""
    check_matrices("linalg.eigvalsh", A, half_kernel="linalg_eigh_cpu", kernel_dtypes=True)
    upper = _check_uplo(UPLO)
    kernels.check_size("linalg.eigvalsh", A.shape[-1])
    if A.requires_grad:
        return Eigh.apply(A, upper, True)[0]
    return Eigh.apply(A, upper, False)


attach_methods({"qr": qr})
