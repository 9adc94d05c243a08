"""Factorizations of batches of small matrices: LU with partial pivoting, Cholesky, and the
solves built on them (LU solve / inverse, triangular solve).

Every kernel gives one program one matrix (a grid of (batch,) or, for solves, (batch, panels of
right-hand-side columns)): the whole matrix is loaded once into a [BM, BN] register block
(BM, BN the next powers of two of its sides), factored in place there column by column, and
written once. A column step reads one column and one row out of the block with a masked sum
and updates the trailing part with one outer product: n steps of O(1) block ops, no shared
memory, no second pass over global memory.

Limits: sides up to MAX_SIZE (64). Larger matrices are refused with NotImplementedError naming
the limit (a blocked loop over column panels would be the next step; it is not written).

Matrices are addressed through (batch, row, column) strides, so transposed views (``A.mT``)
are read in place. Arithmetic is float32 for float32, float64 for float64.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import compute_dtype, register_block_warps
from tritongrad.runtime import cdiv, next_power_of_2

__all__ = [
    "MAX_SIZE",
    "check_size",
    "launch_lu_factor",
    "launch_lu_solve",
    "launch_triangular_solve",
    "launch_cholesky",
]

# The largest side a matrix may have: a 64 x 64 float64 block is 32 KiB of registers over
# 8 warps (32 doubles a thread), which still leaves room for the step's temporaries.
MAX_SIZE = 64

# Right-hand-side columns one solve program carries next to its matrix.
_PANEL = 64


def check_size(name: str, *sizes: int) -> None:
    """Refuses matrices with a side above MAX_SIZE, naming the limit."""
    if max(sizes, default=0) > MAX_SIZE:
        raise NotImplementedError(
            f"{name}: tritongrad factors matrices of at most {MAX_SIZE} rows and columns in registers, "
            f"got a {' x '.join(str(s) for s in sizes)} matrix"
        )


def _batch_strides(t: torch.Tensor) -> tuple[int, int, int]:
    """(batch, row, column) strides of a (B, r, c) tensor."""
    return t.stride(0), t.stride(1), t.stride(2)


# ------------------------------------------------------------------------------------- helpers


@triton.jit
def _column(A, cols, j):
    """A[:, j] as a vector along the rows."""
    return tl.sum(tl.where(cols[None, :] == j, A, 0.0), axis=1)


@triton.jit
def _row(A, rows, i):
    """A[i, :] as a vector along the columns."""
    return tl.sum(tl.where(rows[:, None] == i, A, 0.0), axis=0)


@triton.jit
def _entry(v, idx, i):
    """v[i] of a vector."""
    return tl.sum(tl.where(idx == i, v, 0.0), axis=0)


@triton.jit
def _pivot_step(A, B, rows, cols, k, m, WITH_B: tl.constexpr):
    """One step of Gaussian elimination with partial pivoting on column k of A (and the same row
    operations on B): picks the first row p >= k of largest |A[p, k]| (LAPACK's idamax), swaps
    rows k and p, and subtracts multiples of row k from the rows below.

    Returns (A, B, p, pivot, multipliers): below the diagonal, A's column k keeps its old values;
    the caller stores the multipliers there or not. A zero pivot (the column is zero from k down)
    leaves the rows unchanged, as getrf does.

    NaN follows idamax, which keeps the first candidate while no later one compares greater: a NaN
    in row k is the pivot (and spreads through the rest of the factorization, as in getrf), a NaN
    below it is never picked. The updates are masked to the rows (and columns) they change, so an
    infinite row never meets a zero multiplier (0 * inf = NaN) in a row it does not touch.
    """
    col = _column(A, cols, k)
    magnitude = tl.abs(col)
    candidates = tl.where((rows >= k) & (rows < m) & (magnitude == magnitude), magnitude, -1.0)
    first = _entry(magnitude, rows, k)
    p = tl.where(first != first, k, tl.argmax(candidates, axis=0))
    row_k = _row(A, rows, k)
    row_p = _row(A, rows, p)
    is_k = rows[:, None] == k
    is_p = rows[:, None] == p
    A = tl.where(is_k, row_p[None, :], tl.where(is_p, row_k[None, :], A))
    col_k = _entry(col, rows, k)
    pivot = _entry(col, rows, p)
    col = tl.where(rows == p, col_k, tl.where(rows == k, pivot, col))
    safe = tl.where(pivot == 0.0, 1.0, pivot)
    below = rows[:, None] > k
    multipliers = tl.where(rows > k, col / safe, 0.0)
    A = tl.where(below & (cols[None, :] > k), A - multipliers[:, None] * row_p[None, :], A)
    if WITH_B:
        b_k = _row(B, rows, k)
        b_p = _row(B, rows, p)
        B = tl.where(is_k, b_p[None, :], tl.where(is_p, b_k[None, :], B))
        B = tl.where(below, B - multipliers[:, None] * b_p[None, :], B)
    return A, B, p, pivot, multipliers


# ------------------------------------------------------------------------------------ LU factor


# lu_factor_kernel: P A = L U of one m x n matrix per program (getrf). LU gets L's multipliers
# below the diagonal and U on and above it, pivots the 1-based row swapped with row k at step k,
# info the first k (1-based) whose pivot is zero (0 if none), and for square matrices det,
# sign and log|det| (from U's diagonal and the parity of the swaps).
# Memory: one read of A, one write of LU, a few values per matrix.
@triton.jit
def lu_factor_kernel(
    # pointers
    a_ptr,  # [batch, m, n] input, any strides
    lu_ptr,  # [batch, m, n] output, contiguous
    pivots_ptr,  # [batch, min(m, n)] int32
    info_ptr,  # [batch] int32
    det_ptr,  # [batch] det (square only; else unused)
    sign_ptr,  # [batch] sign of det
    logabs_ptr,  # [batch] log|det|
    # sizes and strides
    m,
    n,
    steps,  # min(m, n)
    a_sb,
    a_sr,
    a_sc,
    # meta-parameters
    ACC: tl.constexpr,
    BM: tl.constexpr,
    BN: tl.constexpr,
    WITH_DET: tl.constexpr,
):
    b = tl.program_id(0).to(tl.int64)
    rows = tl.arange(0, BM)
    cols = tl.arange(0, BN)
    mask = (rows[:, None] < m) & (cols[None, :] < n)
    A = tl.load(a_ptr + b * a_sb + rows[:, None] * a_sr + cols[None, :] * a_sc, mask=mask, other=0.0).to(ACC)
    pivots = tl.zeros([BM], dtype=tl.int32)
    info = tl.zeros([], dtype=tl.int32)
    det = tl.full([], 1.0, ACC)
    sign = tl.full([], 1.0, ACC)
    logabs = tl.zeros([], dtype=ACC)
    for k in range(0, steps):
        A, _, p, pivot, multipliers = _pivot_step(A, A, rows, cols, k, m, False)
        A = tl.where((cols[None, :] == k) & (rows[:, None] > k), multipliers[:, None], A)
        pivots = tl.where(rows == k, p.to(tl.int32) + 1, pivots)
        info = tl.where((pivot == 0.0) & (info == 0), k + 1, info)
        swap = tl.where(p != k, -1.0, 1.0)
        det = det * pivot * swap
        sign = sign * swap * tl.where(pivot > 0.0, 1.0, tl.where(pivot < 0.0, -1.0, 0.0))
        logabs = logabs + tl.log(tl.abs(pivot))
    out = lu_ptr + b * m * n + rows[:, None] * n + cols[None, :]
    tl.store(out, A.to(lu_ptr.dtype.element_ty), mask=mask)
    tl.store(pivots_ptr + b * steps + rows, pivots, mask=rows < steps)
    tl.store(info_ptr + b, info)
    if WITH_DET:
        tl.store(det_ptr + b, det.to(det_ptr.dtype.element_ty))
        tl.store(sign_ptr + b, sign.to(sign_ptr.dtype.element_ty))
        tl.store(logabs_ptr + b, logabs.to(logabs_ptr.dtype.element_ty))


def launch_lu_factor(a: torch.Tensor, with_det: bool = False):
    """LU factors of a (B, m, n) batch: (LU, pivots int32 (B, min(m, n)), info int32 (B,)), and
    with ``with_det`` (square only) also (det, sign, logabsdet), each (B,) in a's dtype."""
    batch, m, n = a.shape
    check_size("linalg.lu_factor", m, n)
    lu = torch.empty((batch, m, n), dtype=a.dtype, device=a.device)
    pivots = torch.empty((batch, min(m, n)), dtype=torch.int32, device=a.device)
    info = torch.empty((batch,), dtype=torch.int32, device=a.device)
    det, sign, logabs = (torch.empty((batch,), dtype=a.dtype, device=a.device) for _ in range(3))
    if batch:
        block_m, block_n = next_power_of_2(max(m, 1)), next_power_of_2(max(n, 1))
        # one program per matrix
        lu_factor_kernel[(batch,)](
            a, lu, pivots, info, det, sign, logabs,
            m, n, min(m, n), *_batch_strides(a),
            ACC=compute_dtype(a.dtype), BM=block_m, BN=block_n, WITH_DET=with_det,
            num_warps=register_block_warps(block_m * block_n, a.element_size()),
        )  # fmt: skip
    if with_det:
        return lu, pivots, info, det, sign, logabs
    return lu, pivots, info


# -------------------------------------------------------------------------------------- LU solve


# lu_solve_kernel: X = A^-1 B for one n x n matrix and one panel of BK right-hand-side columns per
# program (gesv): eliminates with partial pivoting on the augmented block [A | B], then solves
# U X = B' by back substitution. IDENTITY takes B = I (the inverse) without reading it. info is
# the first zero pivot (1-based), written by each matrix's first panel.
# Memory: one read of A per panel, one read of B (none for IDENTITY), one write of X.
@triton.jit
def lu_solve_kernel(
    # pointers
    a_ptr,  # [batch, n, n], any strides
    b_ptr,  # [batch, n, k], any strides (unused with IDENTITY)
    x_ptr,  # [batch, n, k] output, contiguous
    info_ptr,  # [batch] int32
    # sizes and strides
    n,
    k,
    a_sb,
    a_sr,
    a_sc,
    b_sb,
    b_sr,
    b_sc,
    # meta-parameters
    ACC: tl.constexpr,
    IDENTITY: tl.constexpr,
    BN: tl.constexpr,
    BK: tl.constexpr,
):
    b = tl.program_id(0).to(tl.int64)
    panel = tl.program_id(1)
    rows = tl.arange(0, BN)
    cols = tl.arange(0, BN)
    rhs = panel * BK + tl.arange(0, BK)
    a_mask = (rows[:, None] < n) & (cols[None, :] < n)
    A = tl.load(a_ptr + b * a_sb + rows[:, None] * a_sr + cols[None, :] * a_sc, mask=a_mask, other=0.0).to(ACC)
    b_mask = (rows[:, None] < n) & (rhs[None, :] < k)
    if IDENTITY:
        B = tl.where(b_mask & (rows[:, None] == rhs[None, :]), 1.0, 0.0).to(ACC)
    else:
        B = tl.load(b_ptr + b * b_sb + rows[:, None] * b_sr + rhs[None, :] * b_sc, mask=b_mask, other=0.0).to(ACC)
    info = tl.zeros([], dtype=tl.int32)
    for step in range(0, n):
        A, B, p, pivot, multipliers = _pivot_step(A, B, rows, cols, step, n, True)
        info = tl.where((pivot == 0.0) & (info == 0), step + 1, info)
    for back in range(0, n):
        j = n - 1 - back
        u = _column(A, cols, j)
        diagonal = _entry(u, rows, j)
        x_j = _row(B, rows, j) / diagonal
        # (masked after the product: rows at and below j must not see 0 * an infinite x_j)
        B = tl.where(rows[:, None] == j, x_j[None, :], tl.where(rows[:, None] < j, B - u[:, None] * x_j[None, :], B))
    tl.store(x_ptr + b * n * k + rows[:, None] * k + rhs[None, :], B.to(x_ptr.dtype.element_ty), mask=b_mask)
    if panel == 0:
        tl.store(info_ptr + b, info)


def launch_lu_solve(a: torch.Tensor, b: torch.Tensor | None):
    """(X, info) with A X = B for a (batch, n, n) and b (batch, n, k) (any strides); ``b=None``
    solves for the identity (X = A^-1). X is contiguous (batch, n, k) in a's dtype; info int32
    (batch,) is the first zero pivot of each matrix (1-based), 0 when A is invertible."""
    batch, n, _ = a.shape
    check_size("linalg.solve", n)
    k = n if b is None else b.shape[2]
    x = torch.empty((batch, n, k), dtype=a.dtype, device=a.device)
    info = torch.empty((batch,), dtype=torch.int32, device=a.device)
    if batch and n and k:
        block_n = next_power_of_2(n)
        block_k = min(next_power_of_2(k), _PANEL)
        b_arg = a if b is None else b
        # one program per (matrix, panel of block_k right-hand sides)
        lu_solve_kernel[(batch, cdiv(k, block_k))](
            a, b_arg, x, info,
            n, k, *_batch_strides(a), *_batch_strides(b_arg),
            ACC=compute_dtype(a.dtype), IDENTITY=b is None, BN=block_n, BK=block_k,
            num_warps=register_block_warps(block_n * (block_n + block_k), a.element_size()),  # (A and X)
        )  # fmt: skip
    elif batch:
        # n == 0 is trivially invertible; with k == 0 there is nothing to solve, but torch still
        # reports a singular A, so its info is the factorization's.
        info = launch_lu_factor(a)[2] if n else _zeros_info(batch, a.device)
    return x, info


def _zeros_info(batch: int, device) -> torch.Tensor:
    info = torch.empty((batch,), dtype=torch.int32, device=device)
    fill_int_kernel[(1,)](info, batch, BLOCK=next_power_of_2(batch))
    return info


# fill_int_kernel: out[:] = 0 for a small int32 vector (the info of an empty solve).
@triton.jit
def fill_int_kernel(out_ptr, size, BLOCK: tl.constexpr):
    offsets = tl.arange(0, BLOCK)
    tl.store(out_ptr + offsets, tl.zeros([BLOCK], dtype=tl.int32), mask=offsets < size)


# ----------------------------------------------------------------------------- triangular solve


# triangular_solve_kernel: X = A^-1 B for a triangular n x n A (UPPER or lower, UNIT: ones taken
# on the diagonal, which is not read) and one panel of BK right-hand-side columns per program:
# substitution column by column (forward for lower, backward for upper). The other triangle
# of A is never used. Memory: one read of A per panel, one read of B, one write of X.
@triton.jit
def triangular_solve_kernel(
    # pointers
    a_ptr,  # [batch, n, n], any strides
    b_ptr,  # [batch, n, k], any strides
    x_ptr,  # [batch, n, k] output, at x strides
    # sizes and strides
    n,
    k,
    a_sb,
    a_sr,
    a_sc,
    b_sb,
    b_sr,
    b_sc,
    x_sb,
    x_sr,
    x_sc,
    # meta-parameters
    ACC: tl.constexpr,
    UPPER: tl.constexpr,
    UNIT: tl.constexpr,
    BN: tl.constexpr,
    BK: tl.constexpr,
):
    b = tl.program_id(0).to(tl.int64)
    rows = tl.arange(0, BN)
    cols = tl.arange(0, BN)
    rhs = tl.program_id(1) * BK + tl.arange(0, BK)
    a_mask = (rows[:, None] < n) & (cols[None, :] < n)
    A = tl.load(a_ptr + b * a_sb + rows[:, None] * a_sr + cols[None, :] * a_sc, mask=a_mask, other=0.0).to(ACC)
    b_mask = (rows[:, None] < n) & (rhs[None, :] < k)
    B = tl.load(b_ptr + b * b_sb + rows[:, None] * b_sr + rhs[None, :] * b_sc, mask=b_mask, other=0.0).to(ACC)
    for step in range(0, n):
        if UPPER:
            j = n - 1 - step
            later = rows < j
        else:
            j = step
            later = (rows > j) & (rows < n)
        a_j = _column(A, cols, j)
        x_j = _row(B, rows, j)
        if not UNIT:
            x_j = x_j / _entry(a_j, rows, j)
        # Masked after the product, not before: a component solved already (or not yet reached)
        # must not see 0 * x_j, which is NaN where x_j is infinite (a zero diagonal element).
        # The triangle's own entries do take part, zero or not, as in LAPACK's trsm.
        B = tl.where(rows[:, None] == j, x_j[None, :], tl.where(later[:, None], B - a_j[:, None] * x_j[None, :], B))
    out = x_ptr + b * x_sb + rows[:, None] * x_sr + rhs[None, :] * x_sc
    tl.store(out, B.to(x_ptr.dtype.element_ty), mask=b_mask)


def launch_triangular_solve(a: torch.Tensor, b: torch.Tensor, *, upper: bool, unitriangular: bool = False,
                            out: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """X with A X = B for triangular a (batch, n, n) and b (batch, n, k), any strides; X is written
    into ``out`` (batch, n, k, any strides) or a new contiguous tensor of a's dtype."""
    batch, n, _ = a.shape
    check_size("linalg.solve_triangular", n)
    k = b.shape[2]
    x = torch.empty((batch, n, k), dtype=a.dtype, device=a.device) if out is None else out
    if batch and n and k:
        block_n = next_power_of_2(n)
        block_k = min(next_power_of_2(k), _PANEL)
        # one program per (matrix, panel of block_k right-hand sides)
        triangular_solve_kernel[(batch, cdiv(k, block_k))](
            a, b, x,
            n, k, *_batch_strides(a), *_batch_strides(b), *_batch_strides(x),
            ACC=compute_dtype(a.dtype), UPPER=upper, UNIT=unitriangular, BN=block_n, BK=block_k,
            num_warps=register_block_warps(block_n * max(block_n, block_k), a.element_size()),
        )  # fmt: skip
    return x


# --------------------------------------------------------------------------------------- Cholesky


# cholesky_kernel: A = L L^T of one symmetric positive-definite n x n matrix per program (potrf),
# reading only A's lower triangle (its upper one with UPPER, which writes U = L^T). Right-looking:
# column j of L is A[j:, j] / sqrt(A[j, j]), then the trailing block loses the outer product of
# that column. info is the first j (1-based) whose leading minor is not positive-definite (its
# pivot <= 0 or NaN); the factor is then what LAPACK's potrf leaves: columns before j factored,
# the failed pivot on the diagonal, and the input's values from column j on (read again only in
# that case). Memory: one read of A, one write of L.
@triton.jit
def cholesky_kernel(
    # pointers
    a_ptr,  # [batch, n, n], any strides
    l_ptr,  # [batch, n, n] output, contiguous
    info_ptr,  # [batch] int32
    # sizes and strides
    n,
    a_sb,
    a_sr,
    a_sc,
    # meta-parameters
    ACC: tl.constexpr,
    UPPER: tl.constexpr,
    BN: tl.constexpr,
):
    b = tl.program_id(0).to(tl.int64)
    rows = tl.arange(0, BN)
    cols = tl.arange(0, BN)
    mask = (rows[:, None] < n) & (cols[None, :] < n)
    if UPPER:  # the lower triangle of A^T, i.e. A's upper one
        a_sr, a_sc = a_sc, a_sr
    # The lower triangle, mirrored: element (r, c) with r < c is read from (c, r).
    low_r = tl.maximum(rows[:, None], cols[None, :])
    low_c = tl.minimum(rows[:, None], cols[None, :])
    a_ptrs = a_ptr + b * a_sb + low_r * a_sr + low_c * a_sc
    A = tl.load(a_ptrs, mask=mask, other=0.0).to(ACC)
    info = tl.zeros([], dtype=tl.int32)
    failed_pivot = tl.zeros([], dtype=ACC)
    for j in range(0, n):
        col = _column(A, cols, j)
        d = _entry(col, rows, j)
        bad = (d <= 0.0) | (d != d)
        failed_pivot = tl.where(bad & (info == 0), d, failed_pivot)
        info = tl.where(bad & (info == 0), j + 1, info)
        root = tl.sqrt(tl.where(bad, 1.0, d))
        # the diagonal is sqrt(d) itself (d / sqrt(d) is NaN for an infinite d)
        l_j = tl.where(rows == j, root, tl.where(rows > j, col / root, 0.0))
        trailing = (rows[:, None] > j) & (cols[None, :] > j)
        A = tl.where(trailing, A - l_j[:, None] * l_j[None, :], A)
        A = tl.where(cols[None, :] == j, l_j[:, None], A)
    L = tl.where(rows[:, None] >= cols[None, :], A, 0.0)
    if info > 0:
        # potrf stops at the failed column j: it holds the failed pivot, the columns after it the input
        j = info - 1
        original = tl.load(a_ptrs, mask=mask, other=0.0).to(ACC)
        pivot_there = (rows[:, None] == j) & (cols[None, :] == j)
        rest = tl.where(pivot_there, failed_pivot, tl.where(rows[:, None] >= cols[None, :], original, 0.0))
        L = tl.where(cols[None, :] >= j, rest, L)
    if UPPER:
        out = l_ptr + b * n * n + cols[None, :] * n + rows[:, None]
    else:
        out = l_ptr + b * n * n + rows[:, None] * n + cols[None, :]
    tl.store(out, L.to(l_ptr.dtype.element_ty), mask=mask)
    tl.store(info_ptr + b, info)


def launch_cholesky(a: torch.Tensor, *, upper: bool = False):
    """(L, info) for a (batch, n, n) symmetric positive-definite batch (any strides): L lower (U
    upper with ``upper``), contiguous in a's dtype; info int32 (batch,), 0 where A is positive-definite,
    else the order of its first leading minor that is not."""
    batch, n, _ = a.shape
    check_size("linalg.cholesky", n)
    factor = torch.empty((batch, n, n), dtype=a.dtype, device=a.device)
    info = torch.empty((batch,), dtype=torch.int32, device=a.device)
    if batch:
        block_n = next_power_of_2(max(n, 1))
        # one program per matrix
        cholesky_kernel[(batch,)](
            a, factor, info, n, *_batch_strides(a),
            ACC=compute_dtype(a.dtype), UPPER=upper, BN=block_n,
            num_warps=register_block_warps(block_n * block_n, a.element_size()),
        )  # fmt: skip
    return factor, info
