"""The LSTM cell's gate arithmetic, forward and backward, one kernel each.

An LSTM step is two matrix products (the input and hidden projections, through the matmul
kernels) and then, per (batch row n, hidden unit j), the gate arithmetic on the pre-activations
a = gi + gh in torch's gate order i, f, g, o:

    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c' = f * c + i * g;  h' = o * tanh(c')

Composed from elementwise ops that arithmetic is ~11 launches forward and ~20 backward per step,
which in the interpreter (and on a GPU for small batches) costs more than the products. Here it is
one launch each way. Half types compute in float32 (c' and h' are rounded once to the storage
type), float64 in float64.

Memory traffic per (n, j): the forward reads 4 + 4 gate pre-activations and c, writes h', c' and
the 4 activated gates (saved for the backward); the backward reads the incoming gradients of h'
and c', the 4 gates, c and c', and writes the 4 pre-activation gradients and c's gradient.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.activation import tanh
from tritongrad.kernels.common import check_floating, check_same_device, compute_dtype, needs_int64_indexing
from tritongrad.runtime import cdiv, elementwise_launch_config

__all__ = ["launch_lstm_cell_fwd", "launch_lstm_cell_bwd"]


@triton.jit
def _positions(N, H, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr):
    """This program's BLOCK (n, j) positions as a linear index, its row n and column j, and the mask."""
    if INT64_INDEX:
        index = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    else:
        index = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    return index // H, index % H, index < N * H


# One program maps BLOCK (n, j) positions: it reads gate k's pre-activation at column k * H + j of
# gi and gh (rows at their strides, columns contiguous), and c[n, j]; it writes h'[n, j], c'[n, j]
# and the activated gates into a contiguous (N, 4H) buffer for the backward.
@triton.jit
def lstm_cell_fwd_kernel(
    gi_ptr, gh_ptr, c_ptr, h_out_ptr, c_out_ptr, gates_ptr,
    N, H, gi_row_stride, gh_row_stride, c_row_stride,
    COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    n, j, mask = _positions(N, H, BLOCK, INT64_INDEX)
    gi = gi_ptr + n * gi_row_stride + j
    gh = gh_ptr + n * gh_row_stride + j
    a_i = tl.load(gi, mask=mask).to(COMPUTE) + tl.load(gh, mask=mask).to(COMPUTE)
    a_f = tl.load(gi + H, mask=mask).to(COMPUTE) + tl.load(gh + H, mask=mask).to(COMPUTE)
    a_g = tl.load(gi + 2 * H, mask=mask).to(COMPUTE) + tl.load(gh + 2 * H, mask=mask).to(COMPUTE)
    a_o = tl.load(gi + 3 * H, mask=mask).to(COMPUTE) + tl.load(gh + 3 * H, mask=mask).to(COMPUTE)
    i = 1.0 / (1.0 + tl.exp(-a_i))
    f = 1.0 / (1.0 + tl.exp(-a_f))
    g = tanh(a_g)
    o = 1.0 / (1.0 + tl.exp(-a_o))
    c = tl.load(c_ptr + n * c_row_stride + j, mask=mask).to(COMPUTE)
    c_new = f * c + i * g
    h_new = o * tanh(c_new)
    out_type = h_out_ptr.dtype.element_ty
    tl.store(c_out_ptr + n * H + j, c_new.to(out_type), mask=mask)
    tl.store(h_out_ptr + n * H + j, h_new.to(out_type), mask=mask)
    gates = gates_ptr + n * (4 * H) + j
    tl.store(gates, i.to(out_type), mask=mask)
    tl.store(gates + H, f.to(out_type), mask=mask)
    tl.store(gates + 2 * H, g.to(out_type), mask=mask)
    tl.store(gates + 3 * H, o.to(out_type), mask=mask)


# One program maps BLOCK (n, j) positions: from dh' and dc' (either may be absent: HAS_GRAD_*),
# the saved gates, c and c', it writes the 4 pre-activation gradients (contiguous (N, 4H), gi's and
# gh's gradient alike: with COPY a second buffer gets them too, so each input owns its gradient)
# and c's gradient.
@triton.jit
def lstm_cell_bwd_kernel(
    grad_h_ptr, grad_c_ptr, gates_ptr, c_ptr, c_new_ptr, grad_gates_ptr, grad_gates_copy_ptr, grad_c_prev_ptr,
    N, H, c_row_stride,
    HAS_GRAD_H: tl.constexpr, HAS_GRAD_C: tl.constexpr, COPY: tl.constexpr,
    COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    n, j, mask = _positions(N, H, BLOCK, INT64_INDEX)
    gates = gates_ptr + n * (4 * H) + j
    i = tl.load(gates, mask=mask).to(COMPUTE)
    f = tl.load(gates + H, mask=mask).to(COMPUTE)
    g = tl.load(gates + 2 * H, mask=mask).to(COMPUTE)
    o = tl.load(gates + 3 * H, mask=mask).to(COMPUTE)
    c = tl.load(c_ptr + n * c_row_stride + j, mask=mask).to(COMPUTE)
    tanh_c_new = tanh(tl.load(c_new_ptr + n * H + j, mask=mask).to(COMPUTE))
    if HAS_GRAD_H:
        grad_h = tl.load(grad_h_ptr + n * H + j, mask=mask).to(COMPUTE)
    else:
        grad_h = tl.zeros([BLOCK], COMPUTE)
    grad_c_new = grad_h * o * (1.0 - tanh_c_new * tanh_c_new)
    if HAS_GRAD_C:
        grad_c_new += tl.load(grad_c_ptr + n * H + j, mask=mask).to(COMPUTE)
    out_type = grad_gates_ptr.dtype.element_ty
    grad_i = (grad_c_new * g * i * (1.0 - i)).to(out_type)
    grad_f = (grad_c_new * c * f * (1.0 - f)).to(out_type)
    grad_g = (grad_c_new * i * (1.0 - g * g)).to(out_type)
    grad_o = (grad_h * tanh_c_new * o * (1.0 - o)).to(out_type)
    offset = n * (4 * H) + j
    tl.store(grad_gates_ptr + offset, grad_i, mask=mask)
    tl.store(grad_gates_ptr + offset + H, grad_f, mask=mask)
    tl.store(grad_gates_ptr + offset + 2 * H, grad_g, mask=mask)
    tl.store(grad_gates_ptr + offset + 3 * H, grad_o, mask=mask)
    if COPY:
        tl.store(grad_gates_copy_ptr + offset, grad_i, mask=mask)
        tl.store(grad_gates_copy_ptr + offset + H, grad_f, mask=mask)
        tl.store(grad_gates_copy_ptr + offset + 2 * H, grad_g, mask=mask)
        tl.store(grad_gates_copy_ptr + offset + 3 * H, grad_o, mask=mask)
    tl.store(grad_c_prev_ptr + n * H + j, (grad_c_new * f).to(out_type), mask=mask)


def _check_rows(name: str, tensor: torch.Tensor, rows: int, columns: int) -> None:
    if tensor.dim() != 2 or tuple(tensor.shape) != (rows, columns) or (columns > 1 and tensor.stride(1) != 1):
        raise ValueError(
            f"{name}: expected a ({rows}, {columns}) tensor with contiguous rows, got shape {tuple(tensor.shape)} "
            f"and strides {tuple(tensor.stride())}"
        )


def launch_lstm_cell_fwd(
    gi: torch.Tensor, gh: torch.Tensor, c: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(h', c', gates) of one LSTM step from the pre-activations ``gi`` and ``gh`` (N, 4H; gate order
    i, f, g, o) and the cell state ``c`` (N, H); ``gates`` (N, 4H) holds the activated i, f, g, o for
    ``launch_lstm_cell_bwd``."""
    check_same_device("launch_lstm_cell_fwd", gi, gh, c)
    check_floating("launch_lstm_cell_fwd", c)
    rows, hidden = c.shape if c.dim() == 2 else (-1, -1)
    for name, tensor, columns in (("gi", gi, 4 * hidden), ("gh", gh, 4 * hidden), ("c", c, hidden)):
        _check_rows(f"launch_lstm_cell_fwd: {name}", tensor, rows, columns)
        if tensor.dtype != c.dtype:
            raise TypeError(f"launch_lstm_cell_fwd: {name} is {tensor.dtype}, c is {c.dtype}")
    h_new = torch.empty((rows, hidden), dtype=c.dtype, device=c.device)
    c_new = torch.empty((rows, hidden), dtype=c.dtype, device=c.device)
    gates = torch.empty((rows, 4 * hidden), dtype=c.dtype, device=c.device)
    if rows * hidden == 0:
        return h_new, c_new, gates
    block, num_warps = elementwise_launch_config(rows * hidden)
    lstm_cell_fwd_kernel[(cdiv(rows * hidden, block),)](
        gi, gh, c, h_new, c_new, gates, rows, hidden, gi.stride(0), gh.stride(0), c.stride(0),
        COMPUTE=compute_dtype(c.dtype), BLOCK=block, INT64_INDEX=needs_int64_indexing(gi, gh, gates),
        num_warps=num_warps,
    )  # fmt: skip
    return h_new, c_new, gates


def launch_lstm_cell_bwd(
    grad_h: torch.Tensor | None,
    grad_c: torch.Tensor | None,
    gates: torch.Tensor,
    c: torch.Tensor,
    c_new: torch.Tensor,
    copies: int = 1,
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """(``copies`` (1 or 2) buffers holding the gradient of the gate pre-activations (N, 4H), the
    gradient of c (N, H)) from the gradients of h' and c' (None: zero) and what
    ``launch_lstm_cell_fwd`` returned and read."""
    rows, hidden = c_new.shape
    grad_gates = [torch.empty((rows, 4 * hidden), dtype=c.dtype, device=c.device) for _ in range(copies)]
    grad_c_prev = torch.empty((rows, hidden), dtype=c.dtype, device=c.device)
    for name, tensor in (("grad_h", grad_h), ("grad_c", grad_c)):
        if tensor is not None and (tuple(tensor.shape) != (rows, hidden) or not tensor.is_contiguous()):
            raise ValueError(f"launch_lstm_cell_bwd: {name} must be a contiguous ({rows}, {hidden}) tensor")
    if rows * hidden == 0:
        return grad_gates, grad_c_prev
    block, num_warps = elementwise_launch_config(rows * hidden)
    lstm_cell_bwd_kernel[(cdiv(rows * hidden, block),)](
        grad_h, grad_c, gates, c, c_new, grad_gates[0], grad_gates[-1], grad_c_prev, rows, hidden, c.stride(0),
        HAS_GRAD_H=grad_h is not None, HAS_GRAD_C=grad_c is not None, COPY=copies == 2,
        COMPUTE=compute_dtype(c.dtype), BLOCK=block, INT64_INDEX=needs_int64_indexing(gates),
        num_warps=num_warps,
    )  # fmt: skip
    return grad_gates, grad_c_prev
