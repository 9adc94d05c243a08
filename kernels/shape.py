"""Copies that move elements to new places: flip, roll, tril/triu.

All three are ``rearrange_kernel``: every output element reads the input at a source
coordinate computed per dim — mirrored (flip) or shifted cyclically (roll) — and tril/triu keep
it only on their side of a diagonal of the last two dims (zero elsewhere). The input is read in
place at its strides; the output is contiguous. Dims are not coalesced, since a flipped or
rolled dim cannot merge with its neighbours; shapes of more than MAX_RANK dims are refused.

Example::

    x = torch.randn(3, 4)
    launch_rearrange(x, flips=(False, True))            # like x.flip(1)
    launch_rearrange(x, shifts=(1, 0))                  # like x.roll(1, 0)
    launch_rearrange(x, triangle="lower", diagonal=0)   # like x.tril()
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import needs_int64_indexing, triton_dtype
from tritongrad.kernels.elementwise import linear_index, store_as
from tritongrad.runtime import cdiv, elementwise_launch_config

__all__ = ["launch_rearrange", "MAX_RANK"]

MAX_RANK = 8

_TRIANGLES = {None: 0, "lower": 1, "upper": 2}


# rearrange_kernel: out[c] = x[source(c)] (or 0 outside the kept triangle). One program writes
# BLOCK consecutive output elements; each reads one input element.
@triton.jit
def rearrange_kernel(
    x_ptr,  # input, any strides
    out_ptr,  # contiguous output, x's shape
    numel,
    shape,  # per dim
    x_strides,  # per dim
    shifts,  # per dim, in [0, size): source = (c - shift) mod size
    flips,  # per dim, 1 = source = size - 1 - c
    diagonal,
    TRIANGLE: tl.constexpr,  # 0 none, 1 keep col - row <= diagonal (tril), 2 keep >= (triu)
    RANK: tl.constexpr,
    BLOCK: tl.constexpr,
    INT64_INDEX: tl.constexpr,
):
    index = linear_index(BLOCK, INT64_INDEX)
    mask = index < numel
    remaining = index
    source = index * 0
    row = index * 0
    column = index * 0
    for d in tl.static_range(RANK - 1, -1, -1):
        coord = remaining % shape[d]
        remaining = remaining // shape[d]
        if d == RANK - 1:
            column = coord
        if d == RANK - 2:
            row = coord
        moved = coord - shifts[d]
        moved = tl.where(moved < 0, moved + shape[d], moved)
        moved = tl.where(flips[d] != 0, shape[d] - 1 - moved, moved)
        source += moved * x_strides[d]
    keep = mask
    if TRIANGLE == 1:
        keep = keep & (column - row <= diagonal)
    elif TRIANGLE == 2:
        keep = keep & (column - row >= diagonal)
    values = tl.load(x_ptr + source, mask=keep, other=0)
    store_as(out_ptr + index, values, mask)


def launch_rearrange(
    x: torch.Tensor,
    *,
    flips: tuple[bool, ...] | None = None,
    shifts: tuple[int, ...] | None = None,
    triangle: str | None = None,
    diagonal: int = 0,
) -> torch.Tensor:
    """A contiguous copy of x with dims flipped, rolled by ``shifts`` (any integers) and/or
    masked to the lower/upper ``triangle`` of the last two dims (elements past ``diagonal``
    become 0)."""
    triton_dtype(x.dtype)
    rank = x.dim()
    if rank > MAX_RANK:
        raise ValueError(f"launch_rearrange supports up to {MAX_RANK} dims, got shape {tuple(x.shape)}")
    if triangle is not None and rank < 2:
        raise ValueError(f"launch_rearrange: a triangle needs 2 or more dims, got shape {tuple(x.shape)}")
    out = torch.empty(tuple(x.shape), dtype=x.dtype, device=x.device)
    if out.numel() == 0:
        return out
    if rank == 0:
        x, out_view = x.view(1), out.view(1)
    else:
        out_view = out
    shape = tuple(x.shape)
    flips = tuple(int(bool(f)) for f in (flips or (False,) * len(shape)))
    shifts = tuple(int(s) % size for s, size in zip(shifts or (0,) * len(shape), shape))
    block, num_warps = elementwise_launch_config(out.numel())
    # Grid: program i writes output elements [i * BLOCK, (i + 1) * BLOCK).
    rearrange_kernel[(cdiv(out.numel(), block),)](
        x, out_view, out.numel(), shape, tuple(x.stride()), shifts, flips, int(diagonal),
        TRIANGLE=_TRIANGLES[triangle], RANK=len(shape), BLOCK=block,
        INT64_INDEX=needs_int64_indexing(x, out), num_warps=num_warps,
    )  # fmt: skip
    return out
