"""Embedding backward: the weight gradient, duplicate indices summed deterministically.

The forward is a row gather and reuses ``kernels.indexing`` (``launch_index_offsets`` +
``launch_gather``). Its gradient adds every grad_out row into the weight row its index names.
``indexing.launch_scatter_add_rows`` does that with atomics, whose summation order (and so the
rounding of a repeated index's sum) changes from run to run on a GPU. Here each weight-gradient
tile is owned by one program, which sums its contributions in index order:

    grad_weight[v, d] = Σ_n [index[n] == v] · grad_out[n, d]      (· 1 / count[v] with scale_grad_by_freq)

written as the product of a (BLOCK_V, BLOCK_N) one-hot tile and a (BLOCK_N, BLOCK_D) grad_out
tile, i.e. a GEMM on tensor cores with exact fp32 (fp64) accumulation (a one-hot factor makes
every product exact). Work is O(V · N · D): cheap for the vocabularies of small models and
position tables, a GEMM's worth for large ones (a sort-then-segment-sum would be O(N · D); not
written yet).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad import runtime
from tritongrad.kernels.common import check_floating, check_same_device, compute_dtype, needs_int64_indexing
from tritongrad.runtime import cdiv

__all__ = ["launch_embedding_backward", "launch_bag_check", "BAG_CHECK_FIELDS"]

INDEX_DTYPES = (torch.int64, torch.int32)


# One program owns a (BLOCK_V, BLOCK_D) tile of grad_weight and loops over all N indices in
# BLOCK_N steps: it reads the indices and the grad_out tile once per step and writes its tile once.
# Memory: grad_out is read cdiv(V, BLOCK_V) times, indices cdiv(V, BLOCK_V) * cdiv(D, BLOCK_D) times.
@triton.jit
def embedding_backward_kernel(
    # indices (N,) int32/int64; grad_out (N, D); grad_weight (V, D), written whole.
    index_ptr, grad_out_ptr, grad_weight_ptr,
    n_indices, n_rows, dim, padding_idx,
    index_stride, grad_out_row_stride, grad_out_col_stride, grad_weight_row_stride, grad_weight_col_stride,
    SCALE_BY_FREQ: tl.constexpr, ACC_DTYPE: tl.constexpr, WIDEN: tl.constexpr, INDEX_64: tl.constexpr,
    BLOCK_V: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
):  # fmt: skip
    rows = tl.program_id(0) * BLOCK_V + tl.arange(0, BLOCK_V)
    cols = tl.program_id(1) * BLOCK_D + tl.arange(0, BLOCK_D)
    offs_n = tl.arange(0, BLOCK_N)
    if INDEX_64:
        rows = rows.to(tl.int64)
        cols = cols.to(tl.int64)
        offs_n = offs_n.to(tl.int64)
    # The padding row matches no index, so its gradient stays 0.
    row_ids = tl.where(rows == padding_idx, -1, rows).to(tl.int64)
    acc = tl.zeros((BLOCK_V, BLOCK_D), dtype=ACC_DTYPE)
    count = tl.zeros((BLOCK_V,), dtype=ACC_DTYPE)
    for start in range(0, n_indices, BLOCK_N):
        positions = start + offs_n
        in_range = positions < n_indices
        index = tl.load(index_ptr + positions * index_stride, mask=in_range, other=-1).to(tl.int64)
        hit = (row_ids[:, None] == index[None, :]) & in_range[None, :]
        grad_offsets = positions[:, None] * grad_out_row_stride + cols[None, :] * grad_out_col_stride
        grad = tl.load(grad_out_ptr + grad_offsets, mask=in_range[:, None] & (cols < dim)[None, :], other=0.0)
        if WIDEN:  # the interpreter's half-type arithmetic is wrong: multiply in fp32 (still exact)
            grad = grad.to(ACC_DTYPE)
        # The one-hot factor in grad's own type: half types take the tensor cores, fp32 stays "ieee"
        # (tf32 would round the gradient), and every product is exact either way.
        acc = tl.dot(hit.to(grad.dtype), grad, acc, input_precision="ieee", out_dtype=ACC_DTYPE)
        if SCALE_BY_FREQ:
            count += tl.sum(hit.to(ACC_DTYPE), axis=1)
    if SCALE_BY_FREQ:
        acc = acc / tl.maximum(count, 1.0)[:, None]
    out_offsets = rows[:, None] * grad_weight_row_stride + cols[None, :] * grad_weight_col_stride
    out_mask = (rows < n_rows)[:, None] & (cols < dim)[None, :]
    tl.store(grad_weight_ptr + out_offsets, acc.to(grad_weight_ptr.dtype.element_ty), mask=out_mask)


def _blocks(n_rows: int, dim: int) -> tuple[int, int, int]:
    """(BLOCK_V, BLOCK_N, BLOCK_D): tl.dot needs every tile dim >= 16. The interpreter pays per
    program and per op, not per element, so it takes whole tables in few programs."""
    if runtime.is_interpreter():
        return (
            max(16, min(runtime.next_power_of_2(n_rows), 128)),
            256,
            max(16, min(runtime.next_power_of_2(dim), 256)),
        )
    return 64, 32, max(16, min(runtime.next_power_of_2(dim), 64))


def launch_embedding_backward(
    grad_out: torch.Tensor,
    indices: torch.Tensor,
    num_weights: int,
    *,
    padding_idx: int = -1,
    scale_grad_by_freq: bool = False,
) -> torch.Tensor:
    """The gradient of ``weight[indices]`` w.r.t. ``weight`` (num_weights, D).

    Args:
        grad_out: (*indices.shape, D), any strides whose leading dims flatten to rows as a view.
        indices: int32/int64 indices in [0, num_weights), any shape whose dims flatten as a view
            (callers copy other layouts first); out-of-range indices contribute nothing.
        padding_idx: this row's gradient is 0 (-1: none).
        scale_grad_by_freq: divide each row's gradient by how often its index occurs.

    Returns:
        A new contiguous (num_weights, D) tensor of grad_out's dtype (accumulated in fp32, fp64 for fp64).
    """
    check_floating("embedding_backward", grad_out)
    check_same_device("embedding_backward", grad_out, indices)
    if indices.dtype not in INDEX_DTYPES:
        raise RuntimeError(f"embedding_backward: indices must be int64 or int32, got {indices.dtype}")
    if tuple(grad_out.shape[:-1]) != tuple(indices.shape):
        raise RuntimeError(
            f"embedding_backward: grad_out {tuple(grad_out.shape)} does not match indices {tuple(indices.shape)}"
        )
    dim = grad_out.shape[-1]
    n_indices = indices.numel()
    try:
        flat_index = indices.view(n_indices)
        flat_grad = grad_out.view(n_indices, dim)
    except RuntimeError:
        raise ValueError("embedding_backward: indices and grad_out must flatten to rows as views") from None
    grad_weight = torch.empty((num_weights, dim), dtype=grad_out.dtype, device=grad_out.device)
    if grad_weight.numel() == 0:
        return grad_weight
    block_v, block_n, block_d = _blocks(num_weights, dim)
    # One program per (BLOCK_V, BLOCK_D) tile of grad_weight; with no indices it writes zeros.
    grid = (cdiv(num_weights, block_v), cdiv(dim, block_d))
    embedding_backward_kernel[grid](
        flat_index, flat_grad, grad_weight,
        n_indices, num_weights, dim, padding_idx,
        flat_index.stride(0) if n_indices else 1, *(flat_grad.stride() if n_indices else (dim, 1)),
        *grad_weight.stride(),
        SCALE_BY_FREQ=scale_grad_by_freq, ACC_DTYPE=compute_dtype(grad_out.dtype),
        WIDEN=runtime.is_interpreter() and grad_out.dtype in (torch.float16, torch.bfloat16),
        INDEX_64=needs_int64_indexing(flat_grad, grad_weight),
        BLOCK_V=block_v, BLOCK_N=block_n, BLOCK_D=block_d,
    )  # fmt: skip
    return grad_weight


# What launch_bag_check reports, in order (a position is "none" when it equals the length scanned).
BAG_CHECK_FIELDS = (
    "first_offset", "last_offset",
    "decreasing_at", "offset_there", "offset_before",
    "bad_index_at", "bad_index",
)  # fmt: skip


# The values embedding_bag must check before it trusts its offsets and indices, found by ONE
# program: it scans offsets (keeping the first j with offsets[j] < offsets[j - 1]) and then the
# input (the first index outside [0, num_weights)) in BLOCK-sized steps, each a running minimum of
# positions, and writes BAG_CHECK_FIELDS. Memory: every offset and index read once. One program
# keeps "the first bad position" a plain minimum (no atomics, no second pass for its value); the
# scan is O(n / BLOCK) steps, small next to the bag reduction itself.
@triton.jit
def bag_check_kernel(
    # input (n,) and offsets (B,), int32/int64, any stride; found (7,) int64, written whole.
    input_ptr, offsets_ptr, found_ptr,
    n_input, n_offsets, num_weights, input_stride, offsets_stride,
    BLOCK: tl.constexpr,
):  # fmt: skip
    lanes = tl.arange(0, BLOCK).to(tl.int64)
    decreasing = tl.full([BLOCK], n_offsets, tl.int64)
    for start in range(1, n_offsets, BLOCK):
        j = start + lanes
        inside = j < n_offsets
        here = tl.load(offsets_ptr + j * offsets_stride, mask=inside, other=0).to(tl.int64)
        before = tl.load(offsets_ptr + (j - 1) * offsets_stride, mask=inside, other=0).to(tl.int64)
        decreasing = tl.minimum(decreasing, tl.where(inside & (here < before), j, n_offsets))
    bad = tl.full([BLOCK], n_input, tl.int64)
    for start in range(0, n_input, BLOCK):
        i = start + lanes
        inside = i < n_input
        index = tl.load(input_ptr + i * input_stride, mask=inside, other=0).to(tl.int64)
        bad = tl.minimum(bad, tl.where(inside & ((index < 0) | (index >= num_weights)), i, n_input))
    first_decreasing = tl.min(decreasing, axis=0)
    first_bad = tl.min(bad, axis=0)
    found = tl.arange(0, 8)
    some_decreasing = first_decreasing < n_offsets
    some_bad = first_bad < n_input
    last = n_offsets - 1
    values = tl.where(found == 0, tl.load(offsets_ptr).to(tl.int64), 0)
    values = tl.where(found == 1, tl.load(offsets_ptr + last * offsets_stride).to(tl.int64), values)
    values = tl.where(found == 2, first_decreasing, values)
    there = tl.load(offsets_ptr + first_decreasing * offsets_stride, mask=some_decreasing, other=0).to(tl.int64)
    before = tl.load(offsets_ptr + (first_decreasing - 1) * offsets_stride, mask=some_decreasing, other=0)
    values = tl.where(found == 3, there, values)
    values = tl.where(found == 4, before.to(tl.int64), values)
    values = tl.where(found == 5, first_bad, values)
    bad_value = tl.load(input_ptr + first_bad * input_stride, mask=some_bad, other=0).to(tl.int64)
    values = tl.where(found == 6, bad_value, values)
    tl.store(found_ptr + found, values, mask=found < 7)


def launch_bag_check(indices: torch.Tensor, offsets: torch.Tensor, num_weights: int) -> torch.Tensor:
    """The BAG_CHECK_FIELDS of a 1-D ``indices`` (n,) cut into bags at ``offsets`` (B >= 1,),
    both int32/int64: an int64 (7,) tensor the caller reads (kernels/device_checks.py)."""
    check_same_device("embedding_bag", indices, offsets)
    if indices.dim() != 1 or offsets.dim() != 1 or offsets.numel() == 0:
        raise ValueError(
            f"launch_bag_check: expected 1-D indices and non-empty 1-D offsets, got shapes "
            f"{list(indices.shape)} and {list(offsets.shape)}"
        )
    for name, tensor in (("indices", indices), ("offsets", offsets)):
        if tensor.dtype not in INDEX_DTYPES:
            raise RuntimeError(f"embedding_bag: {name} must be int64 or int32, got {tensor.dtype}")
    found = torch.empty(len(BAG_CHECK_FIELDS), dtype=torch.int64, device=indices.device)
    n = indices.numel()
    block = 4096 if runtime.is_interpreter() else 1024
    block = max(16, min(block, runtime.next_power_of_2(max(n, offsets.numel()))))
    # One program scans everything (see the kernel's comment).
    bag_check_kernel[(1,)](
        indices, offsets, found,
        n, offsets.numel(), num_weights, indices.stride(0) if n else 1, offsets.stride(0),
        BLOCK=block,
    )  # fmt: skip
    return found
