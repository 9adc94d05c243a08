"""LAPACK pivots -> row permutations, for unpacking an LU factorization (torch.lu_unpack,
torch.linalg.lu, lu_solve).

getrf's pivots say "at step k, row k was swapped with row pivots[k] - 1": the swaps must be
replayed in order, which no elementwise or gather op can do. One program replays them for one
matrix on a register vector ``perm`` (perm[i] = the row of A that lands in row i of P^T A), k
masked O(BM) steps, and writes it once.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.runtime import next_power_of_2

__all__ = ["launch_pivots_to_permutation"]


# pivots_to_permutation_kernel: one program per matrix: perm = 0..m-1, then for k < steps swap
# perm[k] and perm[pivots[k] - 1]. Memory: one read of the pivots, one write of perm.
@triton.jit
def pivots_to_permutation_kernel(
    pivots_ptr,  # [batch, steps] int32, 1-based, contiguous
    perm_ptr,  # [batch, m] int64, contiguous
    steps,
    m,
    BM: tl.constexpr,
):
    b = tl.program_id(0).to(tl.int64)
    rows = tl.arange(0, BM)
    perm = rows.to(tl.int64)
    for k in range(steps):
        p = tl.load(pivots_ptr + b * steps + k).to(tl.int32) - 1
        at_k = tl.sum(tl.where(rows == k, perm, 0), axis=0)
        at_p = tl.sum(tl.where(rows == p, perm, 0), axis=0)
        perm = tl.where(rows == k, at_p, tl.where(rows == p, at_k, perm))
    tl.store(perm_ptr + b * m + rows, perm, mask=rows < m)


def launch_pivots_to_permutation(pivots: torch.Tensor, m: int) -> torch.Tensor:
    """perm (batch, m) int64 from contiguous int32 pivots (batch, steps), steps <= m; pivots are
    trusted to lie in [1, m] (the caller checks them when they come from the user)."""
    batch, steps = pivots.shape
    perm = torch.empty((batch, m), dtype=torch.int64, device=pivots.device)
    if batch == 0 or m == 0:
        return perm
    # one program per matrix
    pivots_to_permutation_kernel[(batch,)](pivots, perm, steps, m, BM=next_power_of_2(m))
    return perm
