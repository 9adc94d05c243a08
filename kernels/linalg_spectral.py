"""Orthogonal factorizations of batches of small matrices: Householder QR and the symmetric
eigendecomposition by parallel cyclic Jacobi.

As in kernels/linalg_factor.py, one program owns one matrix held in a register block (sides
padded to powers of two), reads it once and writes its factors once. Sides up to
linalg_factor.MAX_SIZE (64); larger ones are refused with NotImplementedError.

- ``qr_kernel``: min(m, n) Householder reflections H_k = I - 2 v v^T / (v^T v), each one masked
  reduction (v^T A) and one outer-product update of A and of Q (accumulated from the identity).
  The reflector is LAPACK's (dlarfg): R's diagonal is -sign(x_0) ||x||, and a column already zero
  below the diagonal gets no reflection, so Q and R match geqrf/orgqr's up to rounding.
- ``eigh_kernel``: Jacobi rotations in the round-robin (Brent-Luk) order: each round pairs every
  index with another, so BN / 2 disjoint rotations are one orthogonal matrix J and the round is
  A <- J^T A J, V <- V J (tl.dot; blocks of at least 16 so that a GPU's dot applies). BN - 1
  rounds make a sweep; sweeps repeat until no pair is above the rotation threshold (at most
  MAX_SWEEPS). Eigenvalues are then ranked ascending and each (value, vector) is
  written at its rank.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import compute_dtype, register_block_warps
from tritongrad.kernels.linalg_factor import check_size
from tritongrad.runtime import next_power_of_2

__all__ = ["launch_qr", "launch_eigh", "MAX_SWEEPS", "householder_qr", "jacobi_rotations", "identity_kernel"]

# Cyclic Jacobi converges quadratically once off-diagonal entries are small; matrices of up to
# 64 rows take 6-10 sweeps in float64. The loop stops earlier when converged.
MAX_SWEEPS = 10

# tl.dot on a GPU needs every block side >= 16.
_MIN_DOT_BLOCK = 16

_EPS = {torch.float32: 2.0**-24, torch.float64: 2.0**-53}


# --------------------------------------------------------------------------------------------- QR


@triton.jit
def householder_qr(A, Q, rows, cols, m, steps, WITH_Q: tl.constexpr):
    """``steps`` Householder reflections of a [BM, BN] block A (its first m rows real): returns (R, Q)
    with R upper triangular in A's place and Q = H_1 ... H_steps applied to the [BM, BM] block Q
    (from the identity: the orthogonal factor), updated only WITH_Q."""
    for k in range(0, steps):
        x = tl.sum(tl.where(cols[None, :] == k, A, 0.0), axis=1)
        x0 = tl.sum(tl.where(rows == k, x, 0.0), axis=0)
        tail = tl.sum(tl.where((rows > k) & (rows < m), x * x, 0.0), axis=0)
        active = tail > 0.0
        norm = tl.sqrt(x0 * x0 + tail)
        beta = tl.where(x0 >= 0.0, -norm, norm)
        v = tl.where(rows == k, x0 - beta, tl.where((rows > k) & (rows < m), x, 0.0))
        v_norm2 = tl.sum(v * v, axis=0)
        scale = tl.where(active, 2.0 / tl.where(active, v_norm2, 1.0), 0.0)
        w = tl.sum(v[:, None] * A, axis=0)
        A = A - scale * v[:, None] * w[None, :]
        # column k is now (beta, 0, ..., 0) up to rounding: store it exactly
        settled = (cols[None, :] == k) & (rows[:, None] >= k)
        A = tl.where(settled, tl.where(active, tl.where(rows[:, None] == k, beta, 0.0), A), A)
        if WITH_Q:
            qv = tl.sum(Q * v[None, :], axis=1)
            Q = Q - scale * qv[:, None] * v[None, :]
    return A, Q


# qr_kernel: A = Q R for one m x n matrix per program (geqrf + orgqr). Q is written with q_cols
# columns (m: complete, min(m, n): reduced) unless WITH_Q is off, R with r_rows rows.
# Memory: one read of A, one write of Q and of R.
@triton.jit
def qr_kernel(
    # pointers
    a_ptr,  # [batch, m, n], any strides
    q_ptr,  # [batch, m, q_cols] output, contiguous
    r_ptr,  # [batch, r_rows, n] output, contiguous
    # sizes and strides
    m,
    n,
    steps,  # min(m, n)
    q_cols,
    r_rows,
    a_sb,
    a_sr,
    a_sc,
    # meta-parameters
    ACC: tl.constexpr,
    WITH_Q: tl.constexpr,
    BM: tl.constexpr,
    BN: tl.constexpr,
):
    b = tl.program_id(0).to(tl.int64)
    rows = tl.arange(0, BM)
    cols = tl.arange(0, BN)
    q_index = tl.arange(0, BM)
    mask = (rows[:, None] < m) & (cols[None, :] < n)
    A = tl.load(a_ptr + b * a_sb + rows[:, None] * a_sr + cols[None, :] * a_sc, mask=mask, other=0.0).to(ACC)
    Q = tl.where(rows[:, None] == q_index[None, :], 1.0, 0.0).to(ACC)
    A, Q = householder_qr(A, Q, rows, cols, m, steps, WITH_Q)
    if WITH_Q:
        q_mask = (rows[:, None] < m) & (q_index[None, :] < q_cols)
        tl.store(q_ptr + b * m * q_cols + rows[:, None] * q_cols + q_index[None, :], Q.to(q_ptr.dtype.element_ty),
                 mask=q_mask)  # fmt: skip
    R = tl.where(rows[:, None] <= cols[None, :], A, 0.0)
    r_mask = (rows[:, None] < r_rows) & (cols[None, :] < n)
    tl.store(r_ptr + b * r_rows * n + rows[:, None] * n + cols[None, :], R.to(r_ptr.dtype.element_ty), mask=r_mask)


def launch_qr(a: torch.Tensor, *, complete: bool = False, with_q: bool = True):
    """(Q, R) of a (batch, m, n) batch, any strides: Q (batch, m, m if complete else k), R (batch,
    m if complete else k, n), k = min(m, n), contiguous in a's dtype; Q is None without ``with_q``."""
    batch, m, n = a.shape
    check_size("linalg.qr", m, n)
    k = min(m, n)
    q_cols = m if complete else k
    r_rows = m if complete else k
    q = torch.empty((batch, m, q_cols), dtype=a.dtype, device=a.device) if with_q else None
    r = torch.empty((batch, r_rows, n), dtype=a.dtype, device=a.device)
    if batch and m * n:
        block_m, block_n = next_power_of_2(m), next_power_of_2(n)
        # one program per matrix
        qr_kernel[(batch,)](
            a, q if with_q else r, r,
            m, n, k, q_cols, r_rows, a.stride(0), a.stride(1), a.stride(2),
            ACC=compute_dtype(a.dtype), WITH_Q=with_q, BM=block_m, BN=block_n,
            num_warps=register_block_warps(block_m * max(block_m, block_n), a.element_size()),
        )  # fmt: skip
    elif with_q and batch and m and q_cols:  # an empty A (n == 0) in complete mode: Q = I
        identity_kernel[(batch,)](q, m, BM=next_power_of_2(m))
    return q, r


# identity_kernel: out[b] = I (m x m) for each matrix of a contiguous batch.
@triton.jit
def identity_kernel(out_ptr, m, BM: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    rows = tl.arange(0, BM)
    value = tl.where(rows[:, None] == rows[None, :], 1.0, 0.0)
    mask = (rows[:, None] < m) & (rows[None, :] < m)
    tl.store(out_ptr + b * m * m + rows[:, None] * m + rows[None, :], value.to(out_ptr.dtype.element_ty), mask=mask)


# ------------------------------------------------------------------------------------------- eigh


@triton.jit
def jacobi_rotations(A, idx, eye, r, eps, BN: tl.constexpr):
    """Round r's BN / 2 disjoint Jacobi rotations of a symmetric [BN, BN] block A as one orthogonal
    matrix J: index i is paired with partner[i] by the circle method (BN - 1 fixed, the others
    rotating by r), each pair's rotation zeroes (J^T A J)[p, q]. A pair already negligible
    (|A[p, q]| <= eps sqrt(|A[p, p] A[q, q]|)) is not rotated: rotating rounding noise would only
    add error."""
    partner = (2 * r - idx + 2 * (BN - 1)) % (BN - 1)
    partner = tl.where(partner == idx, BN - 1, partner)
    partner = tl.where(idx == BN - 1, r, partner)
    d = tl.sum(tl.where(eye, A, 0.0), axis=1)
    pick = idx[None, :] == partner[:, None]
    # A[p, q] and A[q, p] differ by rounding once rotations have run; both rows of a pair must see one
    # value (their mean: the same sum in either order), or the two decide differently and J is not
    # orthogonal (a pair of equal diagonals, where noise alone sets the angle, showed it).
    a_row = tl.sum(tl.where(pick, A, 0.0), axis=1)
    a_col = tl.sum(tl.where(idx[:, None] == partner[None, :], A, 0.0), axis=0)
    apq = (a_row + a_col) * 0.5
    d_partner = tl.sum(tl.where(pick, d[None, :], 0.0), axis=1)
    first = idx < partner
    app = tl.where(first, d, d_partner)
    aqq = tl.where(first, d_partner, d)
    rotate = (apq != 0.0) & (tl.abs(apq) > eps * tl.sqrt(tl.abs(app * aqq)))
    theta = (aqq - app) / (2.0 * tl.where(rotate, apq, 1.0))
    big = tl.abs(theta) > 1.0
    inverse = 1.0 / tl.where(big, theta, 1.0)
    # t = sign(theta) / (|theta| + sqrt(theta^2 + 1)), without overflow for a huge |theta|
    root = tl.where(big, tl.abs(theta) * tl.sqrt(1.0 + inverse * inverse), tl.sqrt(theta * theta + 1.0))
    t = tl.where(theta >= 0.0, 1.0, -1.0) / (tl.abs(theta) + root)
    t = tl.where(rotate, t, 0.0)
    c = 1.0 / tl.sqrt(t * t + 1.0)
    s = t * c
    J = tl.where(eye, c[:, None], 0.0) + tl.where(pick, tl.where(first, s, -s)[:, None], 0.0)
    return J.to(A.dtype)


@triton.jit
def _jacobi_round(A, V, idx, eye, r, eps, BN: tl.constexpr, WITH_V: tl.constexpr):
    """One round of rotations (jacobi_rotations) applied: A <- J^T A J, V <- V J."""
    J = jacobi_rotations(A, idx, eye, r, eps, BN)
    A = tl.dot(tl.trans(J), tl.dot(A, J, input_precision="ieee"), input_precision="ieee")
    if WITH_V:
        V = tl.dot(V, J, input_precision="ieee")
    return A, V


# eigh_kernel: A = V diag(w) V^T of one symmetric n x n matrix per program (syevd's result),
# reading A's lower triangle (upper with UPPER). w ascending; V's columns the eigenvectors,
# written only WITH_V. A matrix with a NaN or an infinity in that triangle gets NaN eigenvalues
# and eigenvectors (it is not iterated on: zeros stand in for it). Memory: one read of A, one
# write of w and V.
@triton.jit
def eigh_kernel(
    # pointers
    a_ptr,  # [batch, n, n], any strides
    w_ptr,  # [batch, n] output eigenvalues
    v_ptr,  # [batch, n, n] output eigenvectors, contiguous
    # sizes and strides
    n,
    a_sb,
    a_sr,
    a_sc,
    eps,  # the dtype's unit roundoff
    # meta-parameters
    ACC: tl.constexpr,
    UPPER: tl.constexpr,
    WITH_V: tl.constexpr,
    SWEEPS: tl.constexpr,
    BN: tl.constexpr,
):
    b = tl.program_id(0).to(tl.int64)
    idx = tl.arange(0, BN)
    mask = (idx[:, None] < n) & (idx[None, :] < n)
    if UPPER:
        a_sr, a_sc = a_sc, a_sr
    low_r = tl.maximum(idx[:, None], idx[None, :])
    low_c = tl.minimum(idx[:, None], idx[None, :])
    A = tl.load(a_ptr + b * a_sb + low_r * a_sr + low_c * a_sc, mask=mask, other=0.0).to(ACC)
    # torch's syevd gives NaN for most such inputs (and raises or returns arbitrary values for
    # some others: that depends on LAPACK's iteration, not on the input's meaning)
    finite = tl.sum(tl.sum(tl.where((A - A) == 0.0, 0, 1), axis=1), axis=0) == 0
    A = tl.where(finite, A, 0.0)
    eye = idx[:, None] == idx[None, :]
    V = tl.where(eye, 1.0, 0.0).to(ACC)
    for _sweep in range(0, SWEEPS):
        # converged when no pair is above jacobi_rotations' threshold: the sweep then has no rounds
        d = tl.sum(tl.where(eye, A, 0.0), axis=1)
        skewed = (~eye) & (tl.abs(A) > eps * tl.sqrt(tl.abs(d[:, None] * d[None, :])))
        rounds = tl.where(tl.sum(tl.sum(tl.where(skewed, 1, 0), axis=1), axis=0) > 0, BN - 1, 0)
        for r in range(0, rounds):
            A, V = _jacobi_round(A, V, idx, eye, r, eps, BN, WITH_V)
    w = tl.sum(tl.where(eye, A, 0.0), axis=1)
    real = idx < n
    # rank[i]: how many eigenvalues come before w[i] (ties by index)
    before = (w[None, :] < w[:, None]) | ((w[None, :] == w[:, None]) & (idx[None, :] < idx[:, None]))
    rank = tl.sum(tl.where(before & real[None, :], 1, 0), axis=1)
    w = tl.where(finite, w, float("nan"))
    tl.store(w_ptr + b * n + rank, w.to(w_ptr.dtype.element_ty), mask=real)
    if WITH_V:
        V = tl.where(finite, V, float("nan"))
        out = v_ptr + b * n * n + idx[:, None] * n + rank[None, :]
        tl.store(out, V.to(v_ptr.dtype.element_ty), mask=mask)


def launch_eigh(a: torch.Tensor, *, upper: bool = False, with_vectors: bool = True):
    """(w, V) of a (batch, n, n) symmetric batch, any strides: w (batch, n) ascending, V (batch, n, n)
    with the eigenvectors as columns (None without ``with_vectors``), contiguous in a's dtype."""
    batch, n, _ = a.shape
    check_size("linalg.eigh", n)
    w = torch.empty((batch, n), dtype=a.dtype, device=a.device)
    v = torch.empty((batch, n, n), dtype=a.dtype, device=a.device) if with_vectors else None
    if batch and n:
        block = max(next_power_of_2(n), _MIN_DOT_BLOCK)
        # one program per matrix
        eigh_kernel[(batch,)](
            a, w, v if with_vectors else w,
            n, a.stride(0), a.stride(1), a.stride(2), _EPS[a.dtype],
            ACC=compute_dtype(a.dtype), UPPER=upper, WITH_V=with_vectors, SWEEPS=MAX_SWEEPS, BN=block,
            num_warps=register_block_warps(2 * block * block, a.element_size()),  # (A and V)
        )  # fmt: skip
    return w, v
