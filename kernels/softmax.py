"""Softmax and log-softmax along one dim of a strided tensor, forward and backward.

The tensor is seen as a set of rows: a row is every element along ``dim`` for one
index of all the other dims. A row starts at ``strided_offset(row, ...)`` over the
other dims (coalesced, so a contiguous tensor has rank 1 there) and steps by the
tensor's stride along ``dim``; nothing is copied, whatever the layout.

A program takes ROWS rows at a time as one [ROWS, BLOCK] tile. Two schedules:

- the row fits one block: read it once, reduce in registers, write once (on a GPU
  rows of up to 64 KiB of fp32, 16K elements, fit: the Triton tutorial's fused softmax);
- the row is longer than a block (or at least ONLINE_THRESHOLD elements): stream
  it. The forward keeps a running maximum and a running sum of exponentials
  rescaled whenever the maximum grows (the "online softmax"), so it reads the row
  twice and writes it once; the backward first accumulates its row sum, then
  writes. One kernel per direction serves both schedules (LOOPED picks).

Contiguous rows are read and written with 128-bit accesses: the launcher passes
the row length and the row strides divided by VEC (the widest vector that divides
them all) and the kernel multiplies them back by the constant, so the compiler
knows every row starts on a VEC-element boundary (``vector_width``).

Arithmetic is fp32 (fp64 for fp64 tensors); outputs have the input's dtype.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import (
    check_floating,
    check_same_device,
    compute_dtype,
    needs_int64_indexing,
    remember,
)
from tritongrad.kernels.strided import MAX_RANK, coalesce, strided_offset
from tritongrad.runtime import INTERPRETER_MAX_BLOCK, cdiv, is_interpreter, next_power_of_2, reduction_block

__all__ = [
    "launch_softmax_fwd",
    "launch_softmax_bwd",
    "row_launch_config",
    "softmax_launch_config",
    "vector_width",
    "finite_or_zero",
    "ONLINE_THRESHOLD",
]

# Rows this long are always streamed: a program then never holds more than one
# block of a row, however large the block policy allows a block to be.
ONLINE_THRESHOLD = 1 << 16

# Elements in one program's tile: in the interpreter a big tile amortises the
# per-op cost; on a GPU 4K fp32 values stay in registers over 8 warps.
_INTERPRETER_TILE = INTERPRETER_MAX_BLOCK
_GPU_TILE = 4096

# On a GPU one program of 16 warps holds a row of up to 64 KiB of its compute type in
# registers (32 fp32 values per thread): such a row is read once, not twice.
_GPU_ROW_BYTES = 1 << 16
_GPU_ROW_WARPS = 16

# The widest access is 16 bytes (ld.global.v4.b32).
_VECTOR_BYTES = 16


def row_launch_config(n_rows: int, row_length: int) -> tuple[int, int, int, bool]:
    """(ROWS, BLOCK, num_warps, LOOPED) for a kernel that reduces rows of ``row_length``."""
    block = reduction_block(row_length)
    tile = _INTERPRETER_TILE if is_interpreter() else _GPU_TILE
    rows = max(1, min(tile // block, next_power_of_2(n_rows)))
    num_warps = 8 if rows * block >= 4096 else 4
    looped = row_length > block or row_length >= ONLINE_THRESHOLD
    return rows, block, num_warps, looped


def softmax_launch_config(n_rows: int, row_length: int, compute_size: int) -> tuple[int, int, int, bool]:
    """(ROWS, BLOCK, num_warps, LOOPED) for softmax rows whose values take ``compute_size`` bytes in registers.

    As ``row_launch_config``, except that on a GPU a row longer than its 4096-element
    block still takes one block while it fits _GPU_ROW_BYTES (one read instead of two).
    """
    block = next_power_of_2(row_length)
    if is_interpreter() or block <= _GPU_TILE or block * compute_size > _GPU_ROW_BYTES:
        return row_launch_config(n_rows, row_length)
    return 1, block, _GPU_ROW_WARPS, False


def vector_width(element_size: int, row_length: int, row_strides, col_strides) -> int:
    """The widest VEC (a power of two, at most 16 bytes of ``element_size``) dividing ``row_length``
    and every row stride, when every column stride is 1; else 1 (strided rows are not vectorised)."""
    if any(stride != 1 for stride in col_strides):
        return 1
    vec = _VECTOR_BYTES // element_size
    while vec > 1 and (row_length % vec or any(stride % vec for stride in row_strides)):
        vec //= 2
    return max(vec, 1)


@triton.jit
def finite_or_zero(row_max):
    # A row with no finite maximum (all -inf so far) is shifted by 0 instead of
    # -inf, so that exp(x - shift) gives 0 rather than exp(-inf + inf) = NaN.
    return tl.where(row_max == float("-inf"), 0.0, row_max)


@triton.jit
def row_indices(pid, n_rows, ROWS: tl.constexpr, INDEX_64: tl.constexpr):
    """This program's ROWS row indices, and the rows to address for them.

    Rows past the end address the last row instead (loaded, never stored), so no
    row of the tile is pure padding: a padding row would be all -inf and compute
    0 / 0 for nothing.
    """
    if INDEX_64:
        pid = pid.to(tl.int64)
    rows = pid * ROWS + tl.arange(0, ROWS)
    return rows, tl.minimum(rows, n_rows - 1)


@triton.jit
def _block_columns(start, BLOCK: tl.constexpr, INDEX_64: tl.constexpr):
    cols = start + tl.arange(0, BLOCK)
    if INDEX_64:
        cols = cols.to(tl.int64)
    return cols


@triton.jit
def _row_end(row_length, LOOPED: tl.constexpr, BLOCK: tl.constexpr):
    """Where a loop over a row's blocks stops: a row that fits one block makes it a constant
    single-trip loop, which the compiler removes (a loop left in spills on sm_80 with triton 3.6)."""
    if LOOPED:
        return row_length
    else:
        return BLOCK


# out = softmax(x) or log_softmax(x) along rows. One program handles ROWS rows.
# Memory: one read + one write of x when a row fits one block (LOOPED=False);
# otherwise two reads (online max/sum pass, then the normalising pass) + one write.
@triton.jit
def softmax_fwd_kernel(
    x_ptr, out_ptr,
    n_rows, row_vectors,
    row_shape, x_row_strides, out_row_strides, x_col_stride, out_col_stride,
    LOG: tl.constexpr, LOOPED: tl.constexpr, RANK: tl.constexpr, COMPUTE: tl.constexpr,
    ROWS: tl.constexpr, BLOCK: tl.constexpr, VEC: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    # row_vectors and the row strides count VEC-element vectors (see the module docstring).
    row_length = row_vectors * VEC
    rows, address_rows = row_indices(tl.program_id(0), n_rows, ROWS, INDEX_64)
    x_base = strided_offset(address_rows, row_shape, x_row_strides, RANK)[:, None] * VEC
    out_base = strided_offset(address_rows, row_shape, out_row_strides, RANK)[:, None] * VEC
    in_rows = (rows < n_rows)[:, None]

    row_max = tl.full([ROWS], float("-inf"), COMPUTE)
    row_sum = tl.zeros([ROWS], COMPUTE)
    if LOOPED:
        for start in range(0, row_length, BLOCK):
            cols = _block_columns(start, BLOCK, INDEX_64)
            in_row = (cols < row_length)[None, :]
            x = tl.load(x_ptr + x_base + cols[None, :] * x_col_stride, mask=in_row, other=float("-inf"))
            x = x.to(COMPUTE)
            new_max = tl.maximum(row_max, tl.max(x, axis=1))
            new_shift = finite_or_zero(new_max)
            # exp(-inf - shift) = 0 while the row had no finite value yet (and row_sum is 0).
            rescale = tl.exp(row_max - new_shift)
            row_sum = row_sum * rescale + tl.sum(tl.exp(x - new_shift[:, None]), axis=1)
            row_max = new_max

    for start in range(0, _row_end(row_length, LOOPED, BLOCK), BLOCK):
        cols = _block_columns(start, BLOCK, INDEX_64)
        in_row = (cols < row_length)[None, :]
        x = tl.load(x_ptr + x_base + cols[None, :] * x_col_stride, mask=in_row, other=float("-inf"))
        x = x.to(COMPUTE)
        if not LOOPED:
            row_max = tl.max(x, axis=1)
        shifted = x - finite_or_zero(row_max)[:, None]
        if not LOOPED:
            row_sum = tl.sum(tl.exp(shifted), axis=1)
        if LOG:
            result = shifted - tl.log(row_sum)[:, None]
        else:
            # An all -inf row has row_sum 0 and gives 0 * inf = NaN, as torch does.
            result = tl.exp(shifted) * (1.0 / row_sum)[:, None]
        out_ptrs = out_ptr + out_base + cols[None, :] * out_col_stride
        tl.store(out_ptrs, result.to(out_ptr.dtype.element_ty), mask=in_rows & in_row)


# grad_input from grad_out (g) and the forward's output (y), along rows:
#   softmax:     g_in = y * (g - sum(g * y))
#   log_softmax: g_in = g - exp(y) * sum(g)
# One program handles ROWS rows. Memory: one read of g and y + one write when a
# row fits one block; otherwise a first pass reads them (y only for softmax) for the row sum.
@triton.jit
def softmax_bwd_kernel(
    grad_out_ptr, out_ptr, grad_input_ptr,
    n_rows, row_vectors,
    row_shape, grad_out_row_strides, out_row_strides, grad_input_row_strides,
    grad_out_col_stride, out_col_stride, grad_input_col_stride,
    LOG: tl.constexpr, LOOPED: tl.constexpr, RANK: tl.constexpr, COMPUTE: tl.constexpr,
    ROWS: tl.constexpr, BLOCK: tl.constexpr, VEC: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    # row_vectors and the row strides count VEC-element vectors (see the module docstring).
    row_length = row_vectors * VEC
    rows, address_rows = row_indices(tl.program_id(0), n_rows, ROWS, INDEX_64)
    grad_out_base = strided_offset(address_rows, row_shape, grad_out_row_strides, RANK)[:, None] * VEC
    out_base = strided_offset(address_rows, row_shape, out_row_strides, RANK)[:, None] * VEC
    grad_input_base = strided_offset(address_rows, row_shape, grad_input_row_strides, RANK)[:, None] * VEC
    in_rows = (rows < n_rows)[:, None]

    row_total = tl.zeros([ROWS], COMPUTE)
    if LOOPED:
        for start in range(0, row_length, BLOCK):
            cols = _block_columns(start, BLOCK, INDEX_64)
            in_row = (cols < row_length)[None, :]
            g = tl.load(grad_out_ptr + grad_out_base + cols[None, :] * grad_out_col_stride, mask=in_row, other=0.0)
            if LOG:
                row_total += tl.sum(g.to(COMPUTE), axis=1)
            else:
                y = tl.load(out_ptr + out_base + cols[None, :] * out_col_stride, mask=in_row, other=0.0)
                row_total += tl.sum(g.to(COMPUTE) * y.to(COMPUTE), axis=1)

    for start in range(0, _row_end(row_length, LOOPED, BLOCK), BLOCK):
        cols = _block_columns(start, BLOCK, INDEX_64)
        in_row = (cols < row_length)[None, :]
        g = tl.load(grad_out_ptr + grad_out_base + cols[None, :] * grad_out_col_stride, mask=in_row, other=0.0)
        y = tl.load(out_ptr + out_base + cols[None, :] * out_col_stride, mask=in_row, other=0.0)
        g = g.to(COMPUTE)
        y = y.to(COMPUTE)
        if LOG:
            if not LOOPED:
                row_total = tl.sum(g, axis=1)
            grad_input = g - tl.exp(y) * row_total[:, None]
        else:
            if not LOOPED:
                row_total = tl.sum(g * y, axis=1)
            grad_input = y * (g - row_total[:, None])
        grad_input_ptrs = grad_input_ptr + grad_input_base + cols[None, :] * grad_input_col_stride
        tl.store(grad_input_ptrs, grad_input.to(grad_input_ptr.dtype.element_ty), mask=in_rows & in_row)


def _row_groups(tensors: list[torch.Tensor], dim: int):
    """Yields (tensors, dim, row_shape, row_strides per tensor) with at most MAX_RANK row dims.

    The dims other than ``dim`` are coalesced across all tensors; in the rare case
    that more than MAX_RANK remain, the leading one is split off by a host loop.
    """
    others = [d for d in range(tensors[0].dim()) if d != dim]
    shape, strides = coalesce([tensors[0].shape[d] for d in others], [[t.stride(d) for d in others] for t in tensors])
    if len(shape) <= MAX_RANK:
        yield tensors, dim, shape, strides
        return
    lead = others[0]
    for i in range(tensors[0].shape[lead]):
        yield from _row_groups([t.select(lead, i) for t in tensors], dim - 1 if lead < dim else dim)


def _row_calls(kernel, tensors: list[torch.Tensor], dim: int, options: dict) -> list[tuple]:
    """The launches of ``kernel`` (softmax_fwd_kernel or softmax_bwd_kernel) over the rows along
    ``dim`` of ``tensors`` (inputs, then the output; one shape and dtype, not empty): a list of
    (the group's tensors, grid, arguments after them, keyword options)."""
    dtype = tensors[0].dtype
    row_length = tensors[0].shape[dim]
    n_rows = tensors[0].numel() // row_length
    compute = compute_dtype(dtype)
    rows, block, num_warps, looped = softmax_launch_config(n_rows, row_length, compute.primitive_bitwidth // 8)
    index_64 = needs_int64_indexing(*tensors)
    calls = []
    for group, group_dim, row_shape, strides in _row_groups(tensors, dim):
        group_rows = group[0].numel() // row_length
        col_strides = [t.stride(group_dim) for t in group]
        vec = vector_width(dtype.itemsize, row_length, [s for ss in strides for s in ss], col_strides)
        # One program instance computes ROWS rows of the group.
        grid = (cdiv(group_rows, rows),)
        arguments = (
            group_rows, row_length // vec, tuple(row_shape), *(tuple(s // vec for s in ss) for ss in strides),
            *col_strides,
        )  # fmt: skip
        keywords = dict(
            LOOPED=looped, RANK=len(row_shape), COMPUTE=compute,
            ROWS=rows, BLOCK=block, VEC=vec, INDEX_64=index_64, num_warps=num_warps, **options,
        )  # fmt: skip
        calls.append((group, grid, arguments, keywords))
    return calls


def _launch_rows(kernel, tensors: list[torch.Tensor], dim: int, **options) -> None:
    """Launches ``kernel`` over the rows along ``dim`` of ``tensors`` (see ``_row_calls``)."""
    for group, grid, arguments, keywords in _row_calls(kernel, tensors, dim, options):
        kernel[grid](*group, *arguments, **keywords)


# Launchers of the forward and backward per (kernel, options, dtype, layouts, device, dim): a
# function of the inputs that allocates the contiguous result and launches once.
_ROW_LAUNCHERS: dict[tuple, Callable | bool] = {}


def _row_launcher(kernel, tensors: list[torch.Tensor], dim: int, options: dict) -> Callable | None:
    """``_launch_rows`` into a new contiguous output as a function of the inputs (laid out as
    ``tensors[:-1]``); None for a 0-d or empty input, or rows split over several launches."""
    out = tensors[-1]
    if out.dim() == 0 or out.numel() == 0:
        return None
    calls = _row_calls(kernel, tensors, dim, options)
    if len(calls) != 1 or calls[0][0] is not tensors:
        return None
    _, grid, arguments, keywords = calls[0]
    shape, strides, dtype, device = out.shape, out.stride(), out.dtype, out.device

    def launch(*inputs: torch.Tensor) -> torch.Tensor:
        result = torch.empty_strided(shape, strides, dtype=dtype, device=device)
        kernel[grid](*inputs, result, *arguments, **keywords)
        return result

    return launch


def _check_dim(name: str, tensor: torch.Tensor, dim: int) -> int:
    ndim = max(tensor.dim(), 1)
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"{name}: Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})"
        )
    return dim % ndim


def launch_softmax_fwd(x: torch.Tensor, dim: int, log: bool = False) -> torch.Tensor:
    """softmax (or log_softmax with ``log=True``) of ``x`` along ``dim``.

    ``x`` may have any strides; the result is a new contiguous tensor of ``x``'s
    shape and dtype. Entries of -inf get probability 0; a row of only -inf gives
    NaN, like torch.

    >>> launch_softmax_fwd(torch.tensor([[0.0, 0.0]]), dim=1)
    tensor([[0.5000, 0.5000]])
    """
    key = (softmax_fwd_kernel, log, x.dtype, x.shape, x.stride(), x.device, dim)
    launch = _ROW_LAUNCHERS.get(key)
    if launch:
        return launch(x)
    check_floating("softmax", x)
    dim = _check_dim("softmax", x, dim)
    out = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    if x.numel() == 0:
        return out
    # A 0-d tensor is one row of one element.
    x_view, out_view = (x.unsqueeze(0), out.unsqueeze(0)) if x.dim() == 0 else (x, out)
    _launch_rows(softmax_fwd_kernel, [x_view, out_view], dim, LOG=log)
    if launch is None:
        remember(_ROW_LAUNCHERS, key, _row_launcher(softmax_fwd_kernel, [x, out], dim, {"LOG": log}) or False)
    return out


def launch_softmax_bwd(grad_out: torch.Tensor, out: torch.Tensor, dim: int, log: bool = False) -> torch.Tensor:
    """Gradient of softmax (or log_softmax) w.r.t. its input, from ``out`` = the forward's result.

    ``grad_out`` and ``out`` have the same shape and dtype, any strides; the
    result is a new contiguous tensor of that shape and dtype.
    """
    key = (softmax_bwd_kernel, log, grad_out.dtype, grad_out.shape, grad_out.stride(), grad_out.device, out.dtype,
           out.shape, out.stride(), out.device, dim)  # fmt: skip
    launch = _ROW_LAUNCHERS.get(key)
    if launch:
        return launch(grad_out, out)
    check_floating("softmax_backward", out)
    check_same_device("softmax_backward", grad_out, out)
    if grad_out.shape != out.shape:
        raise ValueError(
            f"softmax_backward: grad_out has shape {tuple(grad_out.shape)} but out has shape {tuple(out.shape)}"
        )
    if grad_out.dtype != out.dtype:
        raise TypeError(f"softmax_backward: grad_out has dtype {grad_out.dtype} but out has dtype {out.dtype}")
    dim = _check_dim("softmax_backward", out, dim)
    grad_input = torch.empty(out.shape, dtype=out.dtype, device=out.device)
    if out.numel() == 0:
        return grad_input
    tensors = [grad_out, out, grad_input]
    if out.dim() == 0:
        tensors = [t.unsqueeze(0) for t in tensors]
    _launch_rows(softmax_bwd_kernel, tensors, dim, LOG=log)
    if launch is None:
        launch = _row_launcher(softmax_bwd_kernel, [grad_out, out, grad_input], dim, {"LOG": log})
        remember(_ROW_LAUNCHERS, key, launch or False)
    return grad_input
