"""Row gather and scatter-add: ``x[indices]`` along dim 0 and its gradient.

x is viewed as (rows, row_size), contiguous (the caller makes it so). Gather
reads each selected row once and writes it once. Scatter-add accumulates
gradient rows into a zeroed buffer with atomic adds, because an index may
repeat (``x[[0, 0]]``) and every copy contributes to the same row's gradient.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import check_same_device
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.elementwise import store_as
from tritongrad.runtime import elementwise_launch_config


def _check_indices(indices: torch.Tensor, rows: int) -> None:
    if indices.dtype not in (torch.int64, torch.int32):
        raise IndexError(f"tensors used as indices must be long, int or bool tensors, got {indices.dtype}")
    values = indices.tolist() if indices.numel() else []
    flat = values if indices.dim() <= 1 else [v for row in values for v in (row if isinstance(row, list) else [row])]
    for value in flat if isinstance(flat, list) else [flat]:
        if not -rows <= value < rows:
            raise IndexError(f"index {value} is out of bounds for dimension 0 with size {rows}")


# out[i, :] = x[indices[i], :]: one program copies BLOCK elements of the (count, row_size) output.
@triton.jit
def gather_rows_kernel(x_ptr, indices_ptr, out_ptr, count, row_size, rows, BLOCK: tl.constexpr):
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < count * row_size
    row = offsets // row_size
    column = offsets % row_size
    source_row = tl.load(indices_ptr + row, mask=mask, other=0).to(tl.int64)
    source_row = tl.where(source_row < 0, source_row + rows, source_row)
    values = tl.load(x_ptr + source_row * row_size + column, mask=mask)
    tl.store(out_ptr + offsets, values, mask=mask)


def launch_gather_rows(x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """x[indices] along dim 0 for a contiguous x and 1-D integer indices (negative allowed)."""
    check_same_device("index", x, indices)
    if not x.is_contiguous():
        raise ValueError("launch_gather_rows expects a contiguous x")
    _check_indices(indices, x.shape[0])
    out = torch.empty((indices.numel(),) + tuple(x.shape[1:]), dtype=x.dtype, device=x.device)
    if out.numel() == 0:
        return out
    row_size = out.numel() // indices.numel()
    block, num_warps = elementwise_launch_config(out.numel())
    gather_rows_kernel[(triton.cdiv(out.numel(), block),)](
        x, indices, out, indices.numel(), row_size, x.shape[0], BLOCK=block, num_warps=num_warps
    )
    return out


# grad_x[indices[i], :] += grad_out[i, :]: one program adds BLOCK gradient elements atomically.
@triton.jit
def scatter_add_rows_kernel(grad_out_ptr, indices_ptr, grad_x_ptr, count, row_size, rows, BLOCK: tl.constexpr):
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < count * row_size
    row = offsets // row_size
    column = offsets % row_size
    target_row = tl.load(indices_ptr + row, mask=mask, other=0).to(tl.int64)
    target_row = tl.where(target_row < 0, target_row + rows, target_row)
    values = tl.load(grad_out_ptr + offsets, mask=mask)
    tl.atomic_add(grad_x_ptr + target_row * row_size + column, values, mask=mask)


def launch_scatter_add_rows(grad_out: torch.Tensor, indices: torch.Tensor, rows: int) -> torch.Tensor:
    """The gradient of ``launch_gather_rows``: a (rows, ...) tensor with grad_out rows added at indices."""
    if not grad_out.is_contiguous():
        raise ValueError("launch_scatter_add_rows expects a contiguous grad_out")
    if grad_out.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"scatter-add supports float32/float64 gradients, got {grad_out.dtype}")
    grad_x = torch.empty((rows,) + tuple(grad_out.shape[1:]), dtype=grad_out.dtype, device=grad_out.device)
    launch_fill_(grad_x, 0)
    if grad_out.numel() == 0:
        return grad_x
    row_size = grad_out.numel() // max(indices.numel(), 1)
    block, num_warps = elementwise_launch_config(grad_out.numel())
    scatter_add_rows_kernel[(triton.cdiv(grad_out.numel(), block),)](
        grad_out, indices, grad_x, indices.numel(), row_size, rows, BLOCK=block, num_warps=num_warps
    )
    return grad_x


_ = store_as
