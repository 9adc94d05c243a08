"""Linear-algebra functions composed of the factorizations and matmul: torch.linalg.matrix_exp,
tensorinv, tensorsolve, and the randomized torch.svd_lowrank / torch.pca_lowrank. Gradients are
those of the compositions (autograd through matmul, solve, inv, qr and svd).

matrix_exp is scaling and squaring with a diagonal Pade approximant (Higham, "The scaling and
squaring method for the matrix exponential revisited", 2005): each matrix is scaled by 2^-s so that
its 1-norm is at most theta_m, r_m(A) = (V - U)^-1 (V + U) is one solve, and s squarings undo the
scaling. float64 uses m = 13 (theta = 5.37), float32 m = 7 (theta = 3.93, Higham's single-precision
bound); float16/bfloat16 compute in float32 (torch's float16 and bfloat16 kernels overflow in
their Pade coefficients and return NaN; tritongrad returns the float32 result rounded). s is per
matrix (a batch's matrices are squared only their own number of times); how many squaring rounds
the batch needs is one host read of the largest s, as torch's CPU kernel reads the norms. The
backward is autograd through the composition: differentiating the scaling-and-squaring algorithm
gives the Frechet derivative to the same accuracy (Al-Mohy and Higham, 2009). The solve's n <= 64
register-block limit applies.
"""

from __future__ import annotations

import math

import torch

from tritongrad import creation
from tritongrad.autograd.grad_mode import no_grad
from tritongrad.dtypes import dtype_word
from tritongrad.ops.linalg_factor import check_matrices, checked_inverse, solve
from tritongrad.ops.linalg_spectral import linalg_qr
from tritongrad.ops.linalg_svd import linalg_svd
from tritongrad.ops.out_argument import out_variant
from tritongrad.tensor import Tensor, attach_methods

__all__ = ["matrix_exp", "tensorinv", "tensorsolve", "svd_lowrank", "pca_lowrank"]

# Pade coefficients b_0..b_m and the 1-norm bound theta_m below which r_m(A) is exp(A) to unit roundoff.
_PADE = {
    13: (
        (
            64764752532480000.0,
            32382376266240000.0,
            7771770303897600.0,
            1187353796428800.0,
            129060195264000.0,
            10559470521600.0,
            670442572800.0,
            33522128640.0,
            1323241920.0,
            40840800.0,
            960960.0,
            16380.0,
            182.0,
            1.0,
        ),
        5.371920351148152,
    ),  # fmt: skip
    7: ((17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0), 3.925724783138660),
}


# ----------------------------------------------------------------------------------------- matrix_exp


def _pade(A: Tensor, degree: int) -> Tensor:
    """r_m(A) = (V - U)^-1 (V + U) with U the odd and V the even part of the degree-m Pade numerator."""
    b, _ = _PADE[degree]
    eye = creation.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    if degree == 13:
        odd = A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye
        even = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
    else:
        odd = b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye
        even = b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
    U = A @ odd
    return solve(even - U, even + U)


def matrix_exp(A):
    """exp(A) of square matrices (batched), torch.linalg.matrix_exp / torch.matrix_exp (see the module
    docstring for the method). Differentiable.

    >>> tritongrad.linalg.matrix_exp(tritongrad.tensor([[0.0, 1.0], [-1.0, 0.0]]))
    tensor([[ 0.5403,  0.8415],
            [-0.8415,  0.5403]])
    """
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg_matrix_exp(): argument 'input' (position 1) must be Tensor, not {type(A).__name__}")
    if A.dim() >= 2 and A.dtype in (torch.float16, torch.bfloat16):
        check_matrices("linalg.matrix_exp", A.float())
        return matrix_exp(A.float()).to(A.dtype)
    check_matrices("linalg.matrix_exp", A)
    n = A.shape[-1]
    if A.numel() == 0:
        return A.clone()
    if n == 1:
        return A.exp()
    degree = 13 if A.dtype == torch.float64 else 7
    theta = _PADE[degree][1]
    with no_grad():  # s depends on A's norm, piecewise constant: no gradient flows through it
        norm = A.abs().sum(-2).amax(-1)
        s = (norm / theta).log2().ceil().clamp_min(0.0)
        s = s.where(s.isfinite(), 0.0)  # (NaN/inf entries propagate through the approximant itself)
        rounds = int(s.max().item())
    scaled = A / s.exp2().unsqueeze(-1).unsqueeze(-1)
    result = _pade(scaled, degree)
    remaining = s.unsqueeze(-1).unsqueeze(-1)
    for round_number in range(rounds):
        squared = result @ result
        result = squared if s.dim() == 0 else squared.where(remaining > round_number, result)
    return result


# --------------------------------------------------------------------------------- tensorinv, tensorsolve


def _castable_from(op: str):
    """torch's message for an out= of tensorinv/tensorsolve of a lower dtype category than the result."""

    def message(wanted: torch.dtype, given: torch.dtype) -> str | None:
        if given.is_floating_point or given.is_complex:
            return None
        return (
            f"{op}: Expected result to be safely castable from {dtype_word(wanted)} dtype, but got result with dtype "
            f"{dtype_word(given)}"
        )

    return message


# (torch writes out= even where an input requires grad: these are compositions of differentiable ops)
@out_variant("linalg_tensorinv", rule="castable", differentiable=False, dtype_error=_castable_from("tensorinv"))
def tensorinv(A, ind: int = 2):
    """The inverse of A for tensordot over its first ``ind`` dims, torch.linalg.tensorinv: inv of A as a
    prod(A.shape[:ind]) x prod(A.shape[ind:]) matrix, shaped A.shape[ind:] + A.shape[:ind]."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[ind:]) == prod(self.shape[:ind]), but got "
            f"{cols} != {rows}"
        )
    return checked_inverse(A.reshape(rows, cols), "inv").reshape(*A.shape[ind:], *A.shape[:ind])


@out_variant("linalg_tensorsolve", rule="castable", differentiable=False, dtype_error=_castable_from("tensorsolve"))
def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B, torch.linalg.tensorsolve: ``dims`` of A are moved to the end
    first; then A is a prod(B.shape) x prod(rest) matrix."""
    if dims is not None:
        dims = [d % A.dim() for d in dims]
        kept = [d for d in range(A.dim()) if d not in dims]
        A = A.permute(*kept, *dims)
    result_shape = tuple(A.shape[B.dim() :])
    rows, cols = B.numel(), math.prod(result_shape)
    if rows != cols:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {cols} != {rows}"
        )
    return solve(A.reshape(rows, cols), B.reshape(rows)).reshape(result_shape)


# --------------------------------------------------------------------------- svd_lowrank, pca_lowrank


def _approximate_basis(A: Tensor, q: int, niter: int, M) -> Tensor:
    """Q with orthonormal columns whose range approximates A's (Halko et al. 2009, Algorithm 4.4: a
    Gaussian sketch, then ``niter`` power iterations, each re-orthonormalized by QR)."""
    R = creation.randn(A.shape[-1], q, dtype=A.dtype, device=A.device)

    def times(X, transposed: bool = False):
        product = (A.mT if transposed else A) @ X
        return product if M is None else product - (M.mT if transposed else M) @ X

    Q = linalg_qr(times(R)).Q
    for _ in range(niter):
        Q = linalg_qr(times(Q, transposed=True)).Q
        Q = linalg_qr(times(Q)).Q
    return Q


def _svd_lowrank(A: Tensor, q: int, niter: int, M):
    m, n = A.shape[-2], A.shape[-1]
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n:
        A = A.mT
        M = None if M is None else M.mT
    Q = _approximate_basis(A, q, niter, M)
    B = Q.mT @ A
    if M is not None:
        B = B - Q.mT @ M
    U, S, Vh = linalg_svd(B, full_matrices=False)
    V = Vh.mT
    U = Q @ U
    if m < n:
        U, V = V, U
    return U, S, V


def svd_lowrank(A, q: int | None = 6, niter: int | None = 2, M=None):
    """(U, S, V) of a rank-q randomized SVD of A (or of A - M), torch.svd_lowrank: A ~ U diag(S) V^T with
    q columns each. Random: the sketch draws from tritongrad's generator, so factors differ from
    torch's run to run; for inputs of rank <= q they agree with the exact SVD up to rounding."""
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    return _svd_lowrank(A, q, niter, M)


def pca_lowrank(A, q: int | None = None, center: bool = True, niter: int = 2):
    """(U, S, V) of a randomized PCA of A's rows, torch.pca_lowrank: svd_lowrank of A minus its column
    means (``center``), q = min(6, m, n) by default."""
    m, n = A.shape[-2], A.shape[-1]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter, None)
    return _svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter, None)


attach_methods({"matrix_exp": matrix_exp})
