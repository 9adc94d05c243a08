"""The singular value decomposition of batches of small matrices by one-sided (Hestenes) Jacobi.

As in kernels/linalg_factor.py, one program owns one matrix held in a register block (sides
padded to powers of two, at least 16 for tl.dot), reads it once and writes U, S, V^T once.
Sides up to linalg_factor.MAX_SIZE (64); larger ones are refused with NotImplementedError.

``svd_kernel`` works on a tall matrix T (m >= n: A itself, else A^T read through swapped
strides; the left and right factors then swap places on the way out):

- Rotations act on T's columns only: round r pairs every column with another (the circle
  method of kernels/linalg_spectral.jacobi_rotations), the round's BN / 2 rotations are chosen
  from the Gram matrix G = T^T T of the current columns and applied as T <- T J, V <- V J. A pair
  is rotated only while |t_p . t_q| > tol ||t_p|| ||t_q|| (tol = sqrt(m) eps, LAPACK's dgesvj);
  sweeps of BN - 1 rounds repeat until no pair is left (at most MAX_SWEEPS). Unlike the
  eigenvalues of T^T T, this keeps small singular values to high relative accuracy.
- Then sigma_j = ||t_j||, ranked descending; V's columns are written at their ranks.
- U's columns t_j / sigma_j (zero for sigma_j == 0) are put in rank order (one permutation
  tl.dot) and completed to an orthogonal m x m matrix by Householder QR (the QR kernel's
  reflections); each column is signed back so that U[:, j] = t_j / sigma_j where sigma_j > 0.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import compute_dtype
from tritongrad.kernels.linalg_factor import check_size, fill_int_kernel
from tritongrad.kernels.linalg_spectral import householder_qr, identity_kernel, jacobi_rotations
from tritongrad.runtime import next_power_of_2

__all__ = ["launch_svd", "MAX_SWEEPS"]

# One-sided Jacobi converges quadratically near the end; 64-column matrices take 7-10 sweeps in
# float64. The loop stops as soon as no pair needs a rotation.
MAX_SWEEPS = 16

# tl.dot on a GPU needs every block side >= 16.
_MIN_DOT_BLOCK = 16

_EPS = {torch.float32: 2.0**-24, torch.float64: 2.0**-53}


def _warps(block_m: int, block_n: int, element_size: int) -> int:
    """Warps for one program's blocks. Measured with the kernel report (sm_80/sm_90, 64 x 32 and 64 x 64):
    float32's ieee dots are FMA loops whose operands spill least over 32 warps; float64 spills least
    over 8 (more warps get fewer registers each and spill more)."""
    if block_m * block_n < 2048:
        return 4
    return 32 if element_size == 4 else 8


# svd_kernel: T = U diag(S) V^T of one tall m x n matrix (m >= n) per program. S (n values,
# descending) always; with WITH_UV, U's first u_cols columns and V (n x n) through their strides
# (the launcher points them at U, or at V^T transposed, of A). A matrix with a NaN or an infinity
# is not rotated: its factors are NaN, and info is 1 where it holds a NaN (torch's gesdd refuses
# NaN, and gives NaN singular values for infinities). Memory: one read of T, one write of each
# factor and of info.
@triton.jit
def svd_kernel(
    # pointers
    a_ptr,  # [batch, m, n] (T, any strides)
    s_ptr,  # [batch, n] output singular values, contiguous
    info_ptr,  # [batch] int32 output: 1 where T holds a NaN
    u_ptr,  # [batch, m, u_cols] output left vectors of T, through strides
    v_ptr,  # [batch, n, n] output right vectors of T, through strides
    # sizes and strides
    m,
    n,
    u_cols,
    a_sb,
    a_sr,
    a_sc,
    u_sb,
    u_sr,
    u_sc,
    v_sb,
    v_sr,
    v_sc,
    tol,  # rotation threshold: sqrt(m) * unit roundoff
    # meta-parameters
    ACC: tl.constexpr,
    WITH_UV: tl.constexpr,
    SWEEPS: tl.constexpr,
    BM: tl.constexpr,
    BN: tl.constexpr,
):
    b = tl.program_id(0).to(tl.int64)
    rows = tl.arange(0, BM)
    cols = tl.arange(0, BN)
    mask = (rows[:, None] < m) & (cols[None, :] < n)
    A = tl.load(a_ptr + b * a_sb + rows[:, None] * a_sr + cols[None, :] * a_sc, mask=mask, other=0.0).to(ACC)
    eye = cols[:, None] == cols[None, :]
    V = tl.where(eye, 1.0, 0.0).to(ACC)
    for _sweep in range(0, SWEEPS):
        G = tl.dot(tl.trans(A), A, input_precision="ieee")
        d = tl.sum(tl.where(eye, G, 0.0), axis=1)
        skewed = (~eye) & (tl.abs(G) > tol * tl.sqrt(d[:, None] * d[None, :]))
        # a converged sweep rotates nothing: its round count is 0 (a loop bound, not an `if` around
        # the loop, which triton 3.6 fails to compile for float64 dots). Nor does a T with a NaN or
        # an infinity (a non-finite column norm): it stays as read, for the checks after the sweeps.
        finite_norms = tl.sum(tl.where((d - d) == 0.0, 0, 1), axis=0) == 0
        rotating = (tl.sum(tl.sum(tl.where(skewed, 1, 0), axis=1), axis=0) > 0) & finite_norms
        rounds = tl.where(rotating, BN - 1, 0)
        for r in range(0, rounds):
            G = tl.dot(tl.trans(A), A, input_precision="ieee")
            J = jacobi_rotations(G, cols, eye, r, tol, BN)
            A = tl.dot(A, J, input_precision="ieee")
            if WITH_UV:
                V = tl.dot(V, J, input_precision="ieee")
    # Column sums of squares are NaN where T holds a NaN, inf where it holds only infinities (T was
    # not rotated then): torch's error for the first, NaN factors for both. (Found here rather than
    # before the sweeps: a flag kept live across them spilled a register of the float64 blocks.)
    squares = tl.sum(A * A, axis=0)
    tl.store(info_ptr + b, tl.where(tl.sum(tl.where(squares != squares, 1, 0), axis=0) > 0, 1, 0).to(tl.int32))
    finite = tl.sum(tl.where((squares - squares) == 0.0, 0, 1), axis=0) == 0
    sigma = tl.where(finite, tl.sqrt(squares), 0.0)  # (0: ranks by index, then NaN is written)
    real = cols < n
    # rank[j]: how many singular values come before sigma[j] (descending, ties by index)
    before = (sigma[None, :] > sigma[:, None]) | ((sigma[None, :] == sigma[:, None]) & (cols[None, :] < cols[:, None]))
    rank = tl.sum(tl.where(before & real[None, :], 1, 0), axis=1)
    tl.store(s_ptr + b * n + rank, tl.where(finite, sigma, float("nan")).to(s_ptr.dtype.element_ty), mask=real)
    if WITH_UV:
        V = tl.where(finite, V, float("nan"))
        v_out = v_ptr + b * v_sb + cols[:, None] * v_sr + rank[None, :] * v_sc
        tl.store(v_out, V.to(v_ptr.dtype.element_ty), mask=real[:, None] & real[None, :])
        units = tl.where(finite, A, 0.0) / tl.where(sigma > 0.0, sigma, 1.0)[None, :]
        # column j moves to column rank[j]
        permute = tl.where((rank[:, None] == cols[None, :]) & real[:, None], 1.0, 0.0).to(ACC)
        W = tl.dot(units, permute, input_precision="ieee")
        Q = tl.where(rows[:, None] == rows[None, :], 1.0, 0.0).to(ACC)
        W, Q = householder_qr(W, Q, rows, cols, m, n, True)
        # Q[:, j] = +-W[:, j] where that column is a unit vector: undo the reflector's sign
        diagonal = tl.sum(tl.where(rows[:, None] == cols[None, :], W, 0.0), axis=1)
        Q = tl.where(finite, Q * tl.where(diagonal < 0.0, -1.0, 1.0)[None, :], float("nan"))
        u_mask = (rows[:, None] < m) & (rows[None, :] < u_cols)
        u_out = u_ptr + b * u_sb + rows[:, None] * u_sr + rows[None, :] * u_sc
        tl.store(u_out, Q.to(u_ptr.dtype.element_ty), mask=u_mask)


def launch_svd(a: torch.Tensor, *, with_uv: bool = True, full_matrices: bool = False):
    """(U, S, Vh, info) of a (batch, m, n) batch, any strides: S (batch, k) descending, k = min(m, n);
    U (batch, m, m if full_matrices else k) and Vh (batch, n if full_matrices else k, n), contiguous in
    a's dtype (both None without ``with_uv``); info int32 (batch,) is 1 where a matrix holds a NaN
    (its factors are then NaN, as those of a matrix with an infinity)."""
    batch, m, n = a.shape
    check_size("linalg.svd", m, n)
    k = min(m, n)
    s = torch.empty((batch, k), dtype=a.dtype, device=a.device)
    info = torch.empty((batch,), dtype=torch.int32, device=a.device)
    u = vh = None
    if with_uv:
        u = torch.empty((batch, m, m if full_matrices else k), dtype=a.dtype, device=a.device)
        vh = torch.empty((batch, n if full_matrices else k, n), dtype=a.dtype, device=a.device)
    if batch and k:
        tall = m >= n
        tm, tn = (m, n) if tall else (n, m)
        t_strides = (a.stride(0), a.stride(1), a.stride(2)) if tall else (a.stride(0), a.stride(2), a.stride(1))
        left, right = (u, vh) if tall else (vh, u)
        if with_uv:
            u_cols = left.shape[2] if tall else left.shape[1]
            # T's left vectors go to U (tall) or V^T transposed; its right vectors to the other one
            left_strides = (left.stride(0), left.stride(1), left.stride(2))
            right_strides = (right.stride(0), right.stride(2), right.stride(1))
            if not tall:
                left_strides, right_strides = (left.stride(0), left.stride(2), left.stride(1)), right.stride()
        else:
            u_cols, left, right, left_strides, right_strides = 0, s, s, (0, 0, 0), (0, 0, 0)
        block_m, block_n = max(next_power_of_2(tm), _MIN_DOT_BLOCK), max(next_power_of_2(tn), _MIN_DOT_BLOCK)
        # one program per matrix
        svd_kernel[(batch,)](
            a, s, info, left, right,
            tm, tn, u_cols, *t_strides, *left_strides, *right_strides, math.sqrt(tm) * _EPS[a.dtype],
            ACC=compute_dtype(a.dtype), WITH_UV=with_uv, SWEEPS=MAX_SWEEPS, BM=block_m, BN=block_n,
            num_warps=_warps(block_m, block_n, a.element_size()),
        )  # fmt: skip
    else:
        if batch:  # an empty A holds no NaN
            fill_int_kernel[(1,)](info, batch, BLOCK=next_power_of_2(batch))
        if with_uv and batch and full_matrices:  # an empty A: the complete factors are identities
            for factor, side in ((u, m), (vh, n)):
                if side:
                    identity_kernel[(batch,)](factor, side, BM=next_power_of_2(side))
    return u, s, vh, info
