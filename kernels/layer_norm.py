"""Row-wise normalization: layer norm, RMS norm and group/instance norm, forward and backward.

The input is a set of rows: layer and RMS norm normalize over the trailing ``normalized_shape``
dims, group norm over each (sample, group)'s C/G channels times the spatial positions. A row
starts at ``strided_offset`` over the leading dims and its elements are addressed by a second
``strided_offset`` over the row's own dims (each coalesced, so a contiguous tensor is rank 1
in both); nothing is copied, whatever the layout. A program takes ROWS rows at a time as one
[ROWS, BLOCK] tile, as the softmax kernels do:

- the row fits one block: read once, mean and variance from the registers (two passes over the
  tile, numerically stable), normalize, write once;
- the row is longer (LOOPED): blocks are folded with Chan's merge of (count, mean, M2), then a
  second pass normalizes.

Either way sums are taken of x minus the row's first value, so a mean far from zero (1e4 with
unit spread) does not round away the variance in fp32.

The affine parameter of element ``col`` of row ``row`` is ``weight[col]`` (layer/RMS norm) or,
GROUPED, ``weight[(row % groups) * channels_per_group + col // spatial]`` (a channel's weight).

Backward: ``row_norm_bwd_kernel`` computes the input gradient per row,
``rstd * (wg - mean(wg) - xhat * mean(wg * xhat))`` with ``wg = grad * weight`` (no mean(wg)
term for RMS norm), and, for layer/RMS norm, per-program partial sums of ``grad * xhat`` and
``grad`` per column; ``column_sum_kernel`` adds the partials up into the weight and bias
gradients (no atomics). Group norm's weight gradients are per-channel sums and come from
kernels/batch_norm.py.

Statistics are fp32 (fp64 for fp64 inputs); the forward saves the mean (not for RMS norm) and
rstd = 1 / sqrt(var + eps) per row.
"""

from __future__ import annotations

import functools

import torch
import triton
import triton.language as tl

from tritongrad.kernels.batch_norm import rsqrt_rounded, stats_dtype
from tritongrad.kernels.common import bits_to_float, check_floating, compute_dtype, float_bits, needs_int64_indexing
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.softmax import row_launch_config
from tritongrad.kernels.strided import MAX_RANK, coalesce, strided_offset
from tritongrad.runtime import INTERPRETER_MAX_BLOCK, cdiv, is_interpreter, next_power_of_2

__all__ = ["launch_row_norm_fwd", "launch_row_norm_bwd"]

# Programs of the backward (each writes one row of weight/bias partials): enough for a large GPU;
# the interpreter gains nothing from more than a few.
_GPU_BACKWARD_PROGRAMS = 512
_INTERPRETER_BACKWARD_PROGRAMS = 4


@triton.jit
def _rows(first, n_rows, ROWS: tl.constexpr, INDEX_64: tl.constexpr):
    """ROWS row indices from ``first``, and the rows to address for them: rows past the end address
    the last row instead (loaded, never stored), so no lane computes on padding."""
    rows = first + tl.arange(0, ROWS)
    if INDEX_64:
        rows = rows.to(tl.int64)
    return rows, tl.minimum(rows, n_rows - 1)


@triton.jit
def _columns(start, BLOCK: tl.constexpr, INDEX_64: tl.constexpr):
    cols = start + tl.arange(0, BLOCK)
    if INDEX_64:
        cols = cols.to(tl.int64)
    return cols


@triton.jit
def _param_offsets(rows, cols, groups, channels_per_group, spatial, GROUPED: tl.constexpr):
    """Offsets of the affine parameters of a [ROWS, BLOCK] tile ([1, BLOCK] unless GROUPED)."""
    if GROUPED:
        return (rows % groups)[:, None] * channels_per_group + (cols // spatial)[None, :]
    else:
        return cols[None, :]


@triton.jit
def _load_param(ptr, offsets, mask, HAS: tl.constexpr, default, COMPUTE: tl.constexpr):
    if HAS:
        return tl.load(ptr + offsets, mask=mask, other=0.0).to(COMPUTE)
    else:
        return default


# out = (x - mean) * rstd * weight + bias per row (RMS: x * rstd * weight); saves mean, rstd (and,
# STORE_VAR, the biased variance: instance norm's running statistics). One program handles ROWS
# rows. Memory: one read of x + one write when a row fits one block; two reads otherwise.
@triton.jit(do_not_specialize=["eps_bits"])
def row_norm_fwd_kernel(
    x_ptr, out_ptr, weight_ptr, bias_ptr, mean_ptr, rstd_ptr, var_ptr,
    n_rows, row_length, eps_bits, groups, channels_per_group, spatial,
    row_shape, x_row_strides, out_row_strides, col_shape, x_col_strides, out_col_strides,
    RMS: tl.constexpr, HAS_WEIGHT: tl.constexpr, HAS_BIAS: tl.constexpr, GROUPED: tl.constexpr,
    STORE_VAR: tl.constexpr, LOOPED: tl.constexpr, ROW_RANK: tl.constexpr, COL_RANK: tl.constexpr,
    COMPUTE: tl.constexpr, ROWS: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    rows, address_rows = _rows(tl.program_id(0) * ROWS, n_rows, ROWS, INDEX_64)
    in_rows = rows < n_rows
    x_base = strided_offset(address_rows, row_shape, x_row_strides, ROW_RANK)[:, None]
    out_base = strided_offset(address_rows, row_shape, out_row_strides, ROW_RANK)[:, None]

    # Means are taken of x - pivot, the row's first value: with a large mean (1e4 with unit spread)
    # a plain fp32 sum of x would round away the digits the variance lives in.
    pivot = tl.zeros([ROWS, 1], COMPUTE)
    if not RMS:
        pivot = tl.load(x_ptr + x_base).to(COMPUTE)
    mean = tl.zeros([ROWS], COMPUTE)  # of x - pivot until the statistics are complete
    m2 = tl.zeros([ROWS], COMPUTE)  # RMS: the sum of squares
    if LOOPED:
        count = tl.zeros([ROWS], COMPUTE)
        for start in range(0, row_length, BLOCK):
            cols = _columns(start, BLOCK, INDEX_64)
            in_cols = (cols < row_length)[None, :]
            x_offsets = x_base + strided_offset(cols, col_shape, x_col_strides, COL_RANK)[None, :]
            x = tl.load(x_ptr + x_offsets, mask=in_cols, other=0.0).to(COMPUTE)
            if RMS:
                m2 += tl.sum(x * x, axis=1)
            else:
                # Deviations d from the running mean (of x - pivot): with n values so far,
                # mean += sum(d) / n and m2 += sum(d^2) - sum(d)^2 / n (Chan et al.'s merge,
                # written with one division per block; d stays small once the mean settles).
                deviation = tl.where(in_cols, x - pivot - mean[:, None], 0.0)
                count += tl.minimum(row_length - start, BLOCK).to(COMPUTE)
                deviation_sum = tl.sum(deviation, axis=1)
                shift = deviation_sum / count
                mean += shift
                m2 += tl.sum(deviation * deviation, axis=1) - deviation_sum * shift
    else:
        cols = _columns(0, BLOCK, INDEX_64)
        in_cols = (cols < row_length)[None, :]
        x_offsets = x_base + strided_offset(cols, col_shape, x_col_strides, COL_RANK)[None, :]
        x = tl.load(x_ptr + x_offsets, mask=in_cols, other=0.0).to(COMPUTE)
        if RMS:
            m2 = tl.sum(x * x, axis=1)
        else:
            mean = tl.sum(tl.where(in_cols, x - pivot, 0.0), axis=1) / row_length
            deviation = tl.where(in_cols, x - pivot - mean[:, None], 0.0)
            m2 = tl.sum(deviation * deviation, axis=1)
    mean += tl.sum(pivot, axis=1)
    var = m2 / row_length
    rstd = rsqrt_rounded(var + bits_to_float(eps_bits).to(COMPUTE))
    if not RMS:
        tl.store(mean_ptr + rows, mean, mask=in_rows)
    tl.store(rstd_ptr + rows, rstd, mask=in_rows)
    if STORE_VAR:
        tl.store(var_ptr + rows, var, mask=in_rows)

    for start in range(0, row_length, BLOCK):
        cols = _columns(start, BLOCK, INDEX_64)
        in_cols = (cols < row_length)[None, :]
        if LOOPED:
            x_offsets = x_base + strided_offset(cols, col_shape, x_col_strides, COL_RANK)[None, :]
            x = tl.load(x_ptr + x_offsets, mask=in_cols, other=0.0).to(COMPUTE)
        params = _param_offsets(rows, cols, groups, channels_per_group, spatial, GROUPED)
        y = (x - mean[:, None]) * rstd[:, None]
        y = y * _load_param(weight_ptr, params, in_cols, HAS_WEIGHT, 1.0, COMPUTE)
        y = y + _load_param(bias_ptr, params, in_cols, HAS_BIAS, 0.0, COMPUTE)
        out_offsets = out_base + strided_offset(cols, col_shape, out_col_strides, COL_RANK)[None, :]
        tl.store(out_ptr + out_offsets, y.to(out_ptr.dtype.element_ty), mask=in_rows[:, None] & in_cols)


@triton.jit
def _row_tile(grad_ptr, x_ptr, weight_ptr, rows, cols, row_length, grad_base, x_base, mean, rstd,
              groups, channels_per_group, spatial, col_shape, grad_col_strides, x_col_strides,
              HAS_WEIGHT: tl.constexpr, GROUPED: tl.constexpr, COL_RANK: tl.constexpr,
              COMPUTE: tl.constexpr):  # fmt: skip
    """grad, xhat and grad * weight of a [ROWS, BLOCK] tile (zero past the row's end)."""
    in_cols = (cols < row_length)[None, :]
    g = tl.load(grad_ptr + grad_base + strided_offset(cols, col_shape, grad_col_strides, COL_RANK)[None, :],
                mask=in_cols, other=0.0).to(COMPUTE)  # fmt: skip
    x = tl.load(x_ptr + x_base + strided_offset(cols, col_shape, x_col_strides, COL_RANK)[None, :],
                mask=in_cols, other=0.0).to(COMPUTE)  # fmt: skip
    x_hat = tl.where(in_cols, (x - mean[:, None]) * rstd[:, None], 0.0)
    params = _param_offsets(rows, cols, groups, channels_per_group, spatial, GROUPED)
    weighted = g * _load_param(weight_ptr, params, in_cols, HAS_WEIGHT, 1.0, COMPUTE)
    return g, x_hat, weighted


# grad_input = rstd * (wg - mean(wg) - xhat * mean(wg * xhat)) per row, wg = grad * weight (RMS: no
# mean(wg) term), and per program the column sums of grad * xhat and grad over its rows (row
# `pid` of the partial buffers). Program pid handles row groups pid, pid + P, ... of ROWS rows.
# Memory: one read of grad and x + one write of grad_input when a row fits one block (partials
# in registers); otherwise two reads, and the partial row is read and written per row group.
@triton.jit
def row_norm_bwd_kernel(
    grad_ptr, x_ptr, grad_input_ptr, weight_ptr, mean_ptr, rstd_ptr, weight_partial_ptr, bias_partial_ptr,
    n_rows, row_length, groups, channels_per_group, spatial,
    row_shape, grad_row_strides, x_row_strides, grad_input_row_strides,
    col_shape, grad_col_strides, x_col_strides, grad_input_col_strides,
    RMS: tl.constexpr, HAS_WEIGHT: tl.constexpr, GROUPED: tl.constexpr, NEED_INPUT: tl.constexpr,
    NEED_WEIGHT: tl.constexpr, NEED_BIAS: tl.constexpr, LOOPED: tl.constexpr,
    ROW_RANK: tl.constexpr, COL_RANK: tl.constexpr, COMPUTE: tl.constexpr,
    ROWS: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    programs = tl.num_programs(0)
    partial_row = pid * row_length
    weight_acc = tl.zeros([BLOCK], COMPUTE)
    bias_acc = tl.zeros([BLOCK], COMPUTE)
    for group in range(pid, tl.cdiv(n_rows, ROWS), programs):
        rows, address_rows = _rows(group * ROWS, n_rows, ROWS, INDEX_64)
        in_rows = (rows < n_rows)[:, None]
        grad_base = strided_offset(address_rows, row_shape, grad_row_strides, ROW_RANK)[:, None]
        x_base = strided_offset(address_rows, row_shape, x_row_strides, ROW_RANK)[:, None]
        grad_input_base = strided_offset(address_rows, row_shape, grad_input_row_strides, ROW_RANK)[:, None]
        rstd = tl.load(rstd_ptr + address_rows)
        if RMS:
            mean = tl.zeros([ROWS], COMPUTE)
        else:
            mean = tl.load(mean_ptr + address_rows)

        dot = tl.zeros([ROWS], COMPUTE)  # sum of wg * xhat over the row
        total = tl.zeros([ROWS], COMPUTE)  # sum of wg over the row
        if LOOPED and NEED_INPUT:
            for start in range(0, row_length, BLOCK):
                cols = _columns(start, BLOCK, INDEX_64)
                g, x_hat, weighted = _row_tile(
                    grad_ptr, x_ptr, weight_ptr, rows, cols, row_length, grad_base, x_base, mean, rstd,
                    groups, channels_per_group, spatial, col_shape, grad_col_strides, x_col_strides,
                    HAS_WEIGHT, GROUPED, COL_RANK, COMPUTE,
                )  # fmt: skip
                dot += tl.sum(weighted * x_hat, axis=1)
                total += tl.sum(weighted, axis=1)
        for start in range(0, row_length, BLOCK):
            cols = _columns(start, BLOCK, INDEX_64)
            in_cols = cols < row_length
            g, x_hat, weighted = _row_tile(
                grad_ptr, x_ptr, weight_ptr, rows, cols, row_length, grad_base, x_base, mean, rstd,
                groups, channels_per_group, spatial, col_shape, grad_col_strides, x_col_strides,
                HAS_WEIGHT, GROUPED, COL_RANK, COMPUTE,
            )  # fmt: skip
            if NEED_INPUT:
                if not LOOPED:
                    dot = tl.sum(weighted * x_hat, axis=1)
                    total = tl.sum(weighted, axis=1)
                if RMS:
                    centered = weighted - x_hat * (dot / row_length)[:, None]
                else:
                    centered = weighted - (total[:, None] + x_hat * dot[:, None]) / row_length
                grad_input = centered * rstd[:, None]
                grad_input_offsets = (
                    grad_input_base + strided_offset(cols, col_shape, grad_input_col_strides, COL_RANK)[None, :]
                )
                tl.store(grad_input_ptr + grad_input_offsets, grad_input.to(grad_input_ptr.dtype.element_ty),
                         mask=in_rows & in_cols[None, :])  # fmt: skip
            weight_part = tl.sum(tl.where(in_rows, g * x_hat, 0.0), axis=0)
            bias_part = tl.sum(tl.where(in_rows, g, 0.0), axis=0)
            if LOOPED:
                # This program's partial row, read back unless this is its first row group.
                seen = in_cols & ((cols * 0 + group) > pid)
                if NEED_WEIGHT:
                    previous = tl.load(weight_partial_ptr + partial_row + cols, mask=seen, other=0.0)
                    tl.store(weight_partial_ptr + partial_row + cols, previous + weight_part, mask=in_cols)
                if NEED_BIAS:
                    previous = tl.load(bias_partial_ptr + partial_row + cols, mask=seen, other=0.0)
                    tl.store(bias_partial_ptr + partial_row + cols, previous + bias_part, mask=in_cols)
            else:
                weight_acc += weight_part
                bias_acc += bias_part
    if not LOOPED:
        cols = _columns(0, BLOCK, INDEX_64)
        in_cols = cols < row_length
        if NEED_WEIGHT:
            tl.store(weight_partial_ptr + partial_row + cols, weight_acc, mask=in_cols)
        if NEED_BIAS:
            tl.store(bias_partial_ptr + partial_row + cols, bias_acc, mask=in_cols)


# out[col] = sum over p of partial[p, col], cast to out's dtype. One program handles BLOCK_N
# columns, looping over the partial rows. Memory: one read of the partials.
@triton.jit
def column_sum_kernel(
    partial_ptr, out_ptr, n_partials, n_columns,
    COMPUTE: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_N: tl.constexpr,
):  # fmt: skip
    cols = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    in_cols = cols < n_columns
    acc = tl.zeros([BLOCK_P, BLOCK_N], COMPUTE)
    for start in range(0, n_partials, BLOCK_P):
        parts = start + tl.arange(0, BLOCK_P)
        mask = (parts < n_partials)[:, None] & in_cols[None, :]
        acc += tl.load(partial_ptr + parts[:, None] * n_columns + cols[None, :], mask=mask, other=0.0)
    tl.store(out_ptr + cols, tl.sum(acc, axis=0).to(out_ptr.dtype.element_ty), mask=in_cols)


# ----------------------------------------------------------------------------------------------
# Launchers
# ----------------------------------------------------------------------------------------------


def _row_plan(tensors: list[torch.Tensor], row_dims: int, block: int | None) -> _RowPlan:
    """The launch plan of these tensors, made once per distinct shape, strides and dtype."""
    x = tensors[0]
    strides = tuple(t.stride() for t in tensors)
    return _cached_row_plan(tuple(x.shape), strides, x.dtype, needs_int64_indexing(*tensors), row_dims, block)


@functools.lru_cache(maxsize=1024)
def _cached_row_plan(shape, strides, dtype, index_64, row_dims, block) -> _RowPlan:
    return _RowPlan(shape, strides, dtype, index_64, row_dims, block)


class _RowPlan:
    """Rows over the leading ``len(shape) - row_dims`` dims, each the trailing ``row_dims`` dims.

    Shared between launches (cached): read-only once made."""

    def __init__(self, shape: tuple[int, ...], strides: tuple[tuple[int, ...], ...], dtype: torch.dtype,
                 index_64: bool, row_dims: int, block: int | None) -> None:  # fmt: skip
        lead = len(shape) - row_dims
        row_shape, row_strides = coalesce(list(shape[:lead]), [list(s[:lead]) for s in strides])
        col_shape, col_strides = coalesce(list(shape[lead:]), [list(s[lead:]) for s in strides])
        if len(row_shape) > MAX_RANK or len(col_shape) > MAX_RANK:
            raise NotImplementedError(f"normalization: input of shape {list(shape)} has too many non-mergeable dims")
        self.row_shape, self.col_shape = tuple(row_shape), tuple(col_shape)
        self.row_strides = tuple(tuple(s) for s in row_strides)
        self.col_strides = tuple(tuple(s) for s in col_strides)
        self.n_rows = self.row_length = 1
        for size in shape[:lead]:
            self.n_rows *= size
        for size in shape[lead:]:
            self.row_length *= size
        self.rows, self.block, self.num_warps, self.looped = row_launch_config(self.n_rows, self.row_length)
        if block is not None and block < self.row_length:
            self.block, self.rows, self.looped = block, 1, True
        # A looped forward keeps a block of x and its deviations live across the loop: at 16 values
        # a thread, triton 3.6's ptxas held it to 40 registers and spilled (sm_90); at most 8 a thread.
        self.forward_warps = max(self.num_warps, self.block // 256) if self.looped else self.num_warps
        self.index_64 = index_64
        self.compute = compute_dtype(dtype)


def _group_arguments(groups: int, x: torch.Tensor) -> tuple[int, int, int]:
    """(groups, channels_per_group, spatial) of a grouped (N, G, C/G, *spatial) view, else (1, 1, 1)."""
    if not groups:
        return 1, 1, 1
    spatial = 1
    for size in x.shape[3:]:
        spatial *= size
    return groups, x.shape[2], spatial


def launch_row_norm_fwd(
    x: torch.Tensor,
    row_dims: int,
    weight: torch.Tensor | None,
    bias: torch.Tensor | None,
    eps: float,
    rms: bool = False,
    groups: int = 0,
    store_var: bool = False,
    block: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor | None]:
    """Normalizes each row (the trailing ``row_dims`` dims) of ``x``, any strides.

    Layer norm: ``weight``/``bias`` have the row's shape (contiguous) or are None. ``rms``: RMS
    norm (no centering, no bias). ``groups`` > 0: ``x`` is a (N, G, C/G, *spatial) view with
    ``row_dims = x.dim() - 2`` and ``weight``/``bias`` are per channel (C,). Returns (out, mean,
    rstd, var): ``out`` with ``x``'s shape, dtype and (when dense) layout; ``mean`` (None for RMS
    norm), ``rstd`` and, with ``store_var``, the biased variance, one per row in float32 (float64
    for float64 ``x``). ``block`` caps the block along a row (tests use it to force LOOPED).
    """
    check_floating("normalization", x)
    out = torch.empty_like(x)
    plan = _row_plan([x, out], row_dims, block)
    stats = stats_dtype(x.dtype)
    mean = None if rms else torch.empty((plan.n_rows,), dtype=stats, device=x.device)
    rstd = torch.empty((plan.n_rows,), dtype=stats, device=x.device)
    var = torch.empty((plan.n_rows,), dtype=stats, device=x.device) if store_var else None
    if x.numel() == 0:
        return out, mean, rstd, var
    group_count, channels_per_group, spatial = _group_arguments(groups, x)
    # One program normalizes ROWS rows.
    row_norm_fwd_kernel[(cdiv(plan.n_rows, plan.rows),)](
        x, out, rstd if weight is None else weight, rstd if bias is None else bias,
        rstd if mean is None else mean, rstd, rstd if var is None else var,
        plan.n_rows, plan.row_length, float_bits(eps), group_count, channels_per_group, spatial,
        plan.row_shape, *plan.row_strides, plan.col_shape, *plan.col_strides,
        RMS=rms, HAS_WEIGHT=weight is not None, HAS_BIAS=bias is not None, GROUPED=groups > 0,
        STORE_VAR=store_var, LOOPED=plan.looped, ROW_RANK=len(plan.row_shape), COL_RANK=len(plan.col_shape),
        COMPUTE=plan.compute, ROWS=plan.rows, BLOCK=plan.block, INDEX_64=plan.index_64, num_warps=plan.forward_warps,
    )  # fmt: skip
    return out, mean, rstd, var


def launch_row_norm_bwd(
    grad: torch.Tensor,
    x: torch.Tensor,
    row_dims: int,
    weight: torch.Tensor | None,
    mean: torch.Tensor | None,
    rstd: torch.Tensor,
    needs_input_grad: tuple[bool, bool, bool],
    rms: bool = False,
    groups: int = 0,
    param_dtype: torch.dtype | None = None,
    block: int | None = None,
) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
    """(grad_input, grad_weight, grad_bias) of ``launch_row_norm_fwd``, each None unless asked for.

    ``grad`` and ``x`` have the same shape, any strides; ``mean``/``rstd`` what the forward saved.
    Grouped (``groups`` > 0) computes only grad_input: a channel's weight gradient sums over
    samples and positions (kernels/batch_norm.py does it). The parameter gradients have the
    row's shape and ``param_dtype`` (default: the weight's, else ``x``'s).
    """
    need_input, need_weight, need_bias = needs_input_grad
    if groups:
        need_weight = need_bias = False
    grad_input = torch.empty_like(x) if need_input else None
    plan = _row_plan([grad, x, grad if grad_input is None else grad_input], row_dims, block)
    param_dtype = param_dtype or (weight.dtype if weight is not None else x.dtype)
    param_shape = x.shape[x.dim() - row_dims :]
    grad_weight = torch.empty(param_shape, dtype=param_dtype, device=x.device) if need_weight else None
    grad_bias = torch.empty(param_shape, dtype=param_dtype, device=x.device) if need_bias else None
    if x.numel() == 0:
        for buffer in (grad_weight, grad_bias):
            if buffer is not None:
                launch_fill_(buffer, 0)
        return grad_input, grad_weight, grad_bias
    row_groups = cdiv(plan.n_rows, plan.rows)
    cap = _INTERPRETER_BACKWARD_PROGRAMS if is_interpreter() else _GPU_BACKWARD_PROGRAMS
    programs = min(row_groups, cap)
    partial_dtype = stats_dtype(x.dtype)
    weight_partial = (
        torch.empty((programs, plan.row_length), dtype=partial_dtype, device=x.device) if need_weight else rstd
    )
    bias_partial = torch.empty((programs, plan.row_length), dtype=partial_dtype, device=x.device) if need_bias else rstd
    group_count, channels_per_group, spatial = _group_arguments(groups, x)
    # Program p handles row groups p, p + programs, ... and writes row p of the partials.
    row_norm_bwd_kernel[(programs,)](
        grad, x, grad if grad_input is None else grad_input, rstd if weight is None else weight,
        rstd if mean is None else mean, rstd, weight_partial, bias_partial,
        plan.n_rows, plan.row_length, group_count, channels_per_group, spatial,
        plan.row_shape, *plan.row_strides, plan.col_shape, *plan.col_strides,
        RMS=rms, HAS_WEIGHT=weight is not None, GROUPED=groups > 0, NEED_INPUT=need_input,
        NEED_WEIGHT=need_weight, NEED_BIAS=need_bias, LOOPED=plan.looped,
        ROW_RANK=len(plan.row_shape), COL_RANK=len(plan.col_shape), COMPUTE=plan.compute,
        ROWS=plan.rows, BLOCK=plan.block, INDEX_64=plan.index_64, num_warps=plan.num_warps,
    )  # fmt: skip
    block_n = min(next_power_of_2(plan.row_length), 1024 if is_interpreter() else 128)
    block_p = min(next_power_of_2(programs), max(1, (INTERPRETER_MAX_BLOCK if is_interpreter() else 4096) // block_n))
    for partial, out in ((weight_partial, grad_weight), (bias_partial, grad_bias)):
        if out is not None:
            # One program sums BLOCK_N columns of the partials.
            column_sum_kernel[(cdiv(plan.row_length, block_n),)](
                partial, out, programs, plan.row_length,
                COMPUTE=plan.compute, BLOCK_P=block_p, BLOCK_N=block_n,
            )  # fmt: skip
    return grad_input, grad_weight, grad_bias
