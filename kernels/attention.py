"""Fused scaled-dot-product attention (flash attention): forward and backward.

For one (batch, head) the op is ``out = dropout(softmax(scale * q @ k.T + mask)) @ v`` with q of
shape (L, E), k (S, E), v (S, Ev). The L x S score matrix is never written to memory:

- forward: a program owns BLOCK_M query rows and streams the keys in blocks of BLOCK_N, keeping
  a running row maximum, a running sum of exponentials and an fp32 (fp64) output accumulator,
  all rescaled whenever the maximum grows (the "online softmax"). It writes the output once and
  the row's log-sum-exp (natural log, fp32; fp64 for fp64 inputs), which is all the backward
  needs to rebuild any probability: p_ij = exp(scale * q_i.k_j + mask_ij - lse_i).
- backward: ``delta_i = sum_e dO_ie * O_ie`` first (one small kernel), then one kernel per key
  block that rebuilds p for every query block and accumulates dK and dV in registers, and one
  kernel per query block that rebuilds p for every key block and accumulates dQ. Each gradient
  is written once by the program that owns its rows: no atomics, no partial sums in memory.

Shapes: q (B, H, L, E), k (B, Hk, S, E), v (B, Hk, S, Ev) with H a multiple of Hk (grouped-query
attention: query head h reads key/value head h // (H // Hk)); any strides (a transposed
(B, L, H, E) view is read in place). Head dims are padded to a power-of-two block of at least
16 (tl.dot's minimum) and masked, so any E, Ev work; the GPU tiles are sized for 16..128.

Masks: ``causal`` keeps key j for query i when j <= i (torch's is_causal: top-left aligned); an
``attn_mask`` broadcast to (B, H, L, S) is either bool (True = take part) or additive. A row
whose keys are all masked gives an output of zeros and zero gradients, as torch 2.13 does on the
CPU. Dropout on the probabilities draws keep_ij from Philox at counter offset / 4 + (bh * L + i)
* S + j (one call per element, see kernels/random.py), so the backward regenerates exactly the
forward's mask; a launch consumes 4 * B * H * L * S stream numbers.

Scores live in base 2: ``s2 = s * log2(e)``, so the kernels exponentiate with exp2 (one
instruction on a GPU). Arithmetic is fp32 (fp64 for fp64 inputs); the products run on tl.dot
with half-type operands (tensor cores) and fp32 accumulation. fp32 inputs use exact ("ieee")
products unless ``allow_tf32``.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from tritongrad import runtime
from tritongrad.kernels import elementwise
from tritongrad.kernels.common import (
    FLOATING_DTYPES,
    bits_to_float,
    check_floating,
    check_same_device,
    compute_dtype,
    float_bits,
    needs_int64_indexing,
    to_bfloat16_rne,
)
from tritongrad.kernels.random import unit_interval
from tritongrad.runtime import cdiv

__all__ = [
    "launch_attention_fwd",
    "launch_attention_bwd",
    "launch_attention_dropout_keep",
    "attention_blocks",
    "AttentionBlocks",
]

LOG2E = tl.constexpr(1.4426950408889634)
LN2 = tl.constexpr(0.6931471805599453)

# attn_mask kinds (a constexpr of every kernel)
NO_MASK, BOOL_MASK, ADDITIVE_MASK = 0, 1, 2

# Philox numbers one score element consumes: tl.randint makes one 4-number call per element.
_NUMBERS_PER_ELEMENT = 4


# ----------------------------------------------------------------------------------------------
# Device functions shared by the kernels
# ----------------------------------------------------------------------------------------------


@triton.jit
def _dot(a, b, acc, PRECISION: tl.constexpr, WIDEN: tl.constexpr):
    """acc + a @ b on tl.dot, ``a`` (an fp32 probability tile, say) taken in ``b``'s type: half
    operands feed the tensor cores. WIDEN (interpreter only): its half-type dot is wrong, so both
    operands go to fp32 instead."""
    if WIDEN:
        a = a.to(tl.float32)
        b = b.to(tl.float32)
    else:
        a = a.to(b.dtype)
    return tl.dot(a, b, acc, input_precision=PRECISION, out_dtype=acc.dtype)


@triton.jit
def _base(ptr, bh, heads, group, strides):
    """ptr advanced to the (batch, head) slice of query row-block program ``bh``; ``group`` query
    heads share one head of this tensor (1 for q, o and dO; H // Hk for k and v)."""
    batch = (bh // heads).to(tl.int64)
    head = ((bh % heads) // group).to(tl.int64)
    return ptr + batch * strides[0] + head * strides[1]


@triton.jit
def _load_tile(base, rows, cols, row_stride, col_stride, n_rows, n_cols):
    """The (len(rows), len(cols)) tile base[rows * row_stride + cols * col_stride], 0 outside
    n_rows x n_cols (a transposed tile is the same call with rows and cols swapped)."""
    inside = (rows < n_rows)[:, None] & (cols < n_cols)[None, :]
    return tl.load(base + rows[:, None] * row_stride + cols[None, :] * col_stride, mask=inside, other=0.0)


@triton.jit
def _store(ptrs, value, mask):
    """Stores ``value`` in the pointers' element type (bf16 rounded to nearest even, as torch)."""
    if ptrs.dtype.element_ty == tl.bfloat16:
        tl.store(ptrs, to_bfloat16_rne(value.to(tl.float32)), mask=mask)
    else:
        tl.store(ptrs, value.to(ptrs.dtype.element_ty), mask=mask)


@triton.jit
def _masked_scores(
    s, rows, keys, L, S, mask_base, mask_strides,
    CAUSAL: tl.constexpr, MASK: tl.constexpr, TRANSPOSED: tl.constexpr,
):  # fmt: skip
    """Base-2 scores ``s`` with every invisible (query, key) pair set to -inf.

    ``s`` is (len(rows), len(keys)), or (len(keys), len(rows)) when TRANSPOSED (the dK/dV
    kernel works on transposed tiles). Invisible: a key past S, a query past L, j > i when
    CAUSAL, False in a bool mask; an additive mask is added (times log2(e): base-2 scores).
    """
    if TRANSPOSED:
        r = rows[None, :]
        c = keys[:, None]
    else:
        r = rows[:, None]
        c = keys[None, :]
    inside = (r < L) & (c < S)
    visible = inside
    if CAUSAL:
        visible = visible & (c <= r)
    if MASK == 1:
        bits = tl.load(mask_base + r * mask_strides[2] + c * mask_strides[3], mask=inside, other=0)
        visible = visible & (bits != 0)
    if MASK == 2:
        bias = tl.load(mask_base + r * mask_strides[2] + c * mask_strides[3], mask=inside, other=0.0)
        s = s + bias.to(s.dtype) * LOG2E
    return tl.where(visible, s, float("-inf"))


@triton.jit
def _dropout_scale(seed, first_call, bh, rows, keys, L, S, p, keep_scale, TRANSPOSED: tl.constexpr):
    """keep_ij / (1 - p) for the tile (0 where dropped): Philox counter first_call + (bh * L + i)
    * S + j, so every kernel that visits (bh, i, j) draws the same bit."""
    if TRANSPOSED:
        r = rows[None, :].to(tl.int64)
        c = keys[:, None].to(tl.int64)
    else:
        r = rows[:, None].to(tl.int64)
        c = keys[None, :].to(tl.int64)
    index = (bh.to(tl.int64) * L + r) * S + c
    keep = unit_interval(tl.randint(seed, first_call + index), 24) >= p
    return tl.where(keep, keep_scale, 0.0)


@triton.jit
def _rows(start, BLOCK: tl.constexpr, INDEX_64: tl.constexpr):
    rows = start + tl.arange(0, BLOCK)
    if INDEX_64:
        rows = rows.to(tl.int64)
    return rows


# ----------------------------------------------------------------------------------------------
# Forward
# ----------------------------------------------------------------------------------------------


@triton.jit
def _forward_keys(
    state, operands, sizes, start, end,
    CAUSAL: tl.constexpr, MASK: tl.constexpr, DROPOUT: tl.constexpr, COMPUTE: tl.constexpr,
    PRECISION: tl.constexpr, WIDEN: tl.constexpr, INDEX_64: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_EV: tl.constexpr,
):  # fmt: skip
    """The online softmax over the key blocks in [start, end): state = (acc, row_max, row_sum)."""
    acc, row_max, row_sum = state
    q, rows, bh, k_base, v_base, mask_base, k_strides, v_strides, mask_strides = operands
    L, S, E, EV, qk_scale, dropout_p, keep_scale, seed, first_call = sizes
    dims = tl.arange(0, BLOCK_E)
    dims_v = tl.arange(0, BLOCK_EV)
    for start_n in range(start, end, BLOCK_N):
        keys = _rows(start_n, BLOCK_N, INDEX_64)
        k_t = _load_tile(k_base, dims, keys, k_strides[3], k_strides[2], E, S)
        s = _dot(q, k_t, tl.zeros([BLOCK_M, BLOCK_N], COMPUTE), PRECISION, WIDEN) * qk_scale
        s = _masked_scores(s, rows, keys, L, S, mask_base, mask_strides, CAUSAL, MASK, False)
        new_max = tl.maximum(row_max, tl.max(s, axis=1))
        # A row with no visible key so far is shifted by 0, not -inf (exp2(-inf + inf) is NaN).
        shift = tl.where(new_max == float("-inf"), 0.0, new_max)
        p = tl.exp2(s - shift[:, None])
        rescale = tl.exp2(row_max - shift)
        row_sum = row_sum * rescale + tl.sum(p, axis=1)
        row_max = new_max
        if DROPOUT:
            # Dropout acts on the normalised probabilities: the sum above counts every key.
            p = p * _dropout_scale(seed, first_call, bh, rows, keys, L, S, dropout_p, keep_scale, False)
        v = _load_tile(v_base, keys, dims_v, v_strides[2], v_strides[3], S, EV)
        acc = _dot(p, v, acc * rescale[:, None], PRECISION, WIDEN)
    return acc, row_max, row_sum


# out[bh, i] = sum_j softmax_j(scale * q_i.k_j + mask_ij) * keep_ij / (1 - p) * v_j and
# lse[bh, i] = log sum_j exp(scale * q_i.k_j + mask_ij), for BLOCK_M query rows i of one (b, h).
# Grid: one program per (query block, b * H + h), flattened on axis 0 with the query block
# fastest and in reverse, so under a causal mask the longest rows start first.
# Memory: Q read once; K and V read once per query block (from L2 when programs of one head
# run together); the mask tile read once per (query block, key block); O and lse written once.
# With CAUSAL the key loop stops after the block holding key start_m + BLOCK_M - 1, and only the
# blocks crossing the diagonal compute the causal test.
@triton.jit
def attention_fwd_kernel(
    q_ptr, k_ptr, v_ptr, mask_ptr, out_ptr, lse_ptr,
    q_strides, k_strides, v_strides, mask_strides, out_strides,
    heads, group, L, S, E, EV,
    scale_bits, dropout_p, keep_scale_bits, seed, first_call,
    CAUSAL: tl.constexpr, MASK: tl.constexpr, DROPOUT: tl.constexpr, COMPUTE: tl.constexpr,
    PRECISION: tl.constexpr, WIDEN: tl.constexpr, INDEX_64: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_EV: tl.constexpr,
):  # fmt: skip
    num_m = tl.cdiv(L, BLOCK_M)
    pid = tl.program_id(0)
    bh = pid // num_m
    start_m = (num_m - 1 - pid % num_m) * BLOCK_M
    q_base = _base(q_ptr, bh, heads, 1, q_strides)
    k_base = _base(k_ptr, bh, heads, group, k_strides)
    v_base = _base(v_ptr, bh, heads, group, v_strides)
    mask_base = _base(mask_ptr, bh, heads, 1, mask_strides)
    out_base = _base(out_ptr, bh, heads, 1, out_strides)

    rows = _rows(start_m, BLOCK_M, INDEX_64)
    dims_v = tl.arange(0, BLOCK_EV)
    q = _load_tile(q_base, rows, tl.arange(0, BLOCK_E), q_strides[2], q_strides[3], L, E)
    qk_scale = bits_to_float(scale_bits).to(COMPUTE) * LOG2E
    keep_scale = bits_to_float(keep_scale_bits).to(COMPUTE)

    row_max = tl.full([BLOCK_M], float("-inf"), COMPUTE)
    row_sum = tl.zeros([BLOCK_M], COMPUTE)
    acc = tl.zeros([BLOCK_M, BLOCK_EV], COMPUTE)
    state = (acc, row_max, row_sum)
    operands = (q, rows, bh, k_base, v_base, mask_base, k_strides, v_strides, mask_strides)
    sizes = (L, S, E, EV, qk_scale, dropout_p, keep_scale, seed, first_call)
    if CAUSAL:
        end = tl.minimum(S, start_m + BLOCK_M)
        # Key blocks left of every row's diagonal (all keys <= start_m) skip the causal test.
        below = tl.minimum(((start_m + 1) // BLOCK_N) * BLOCK_N, end)
        state = _forward_keys(
            state, operands, sizes, 0, below, False,
            MASK, DROPOUT, COMPUTE, PRECISION, WIDEN, INDEX_64, BLOCK_M, BLOCK_N, BLOCK_E, BLOCK_EV,
        )  # fmt: skip
        state = _forward_keys(
            state, operands, sizes, below, end, True,
            MASK, DROPOUT, COMPUTE, PRECISION, WIDEN, INDEX_64, BLOCK_M, BLOCK_N, BLOCK_E, BLOCK_EV,
        )  # fmt: skip
    else:
        state = _forward_keys(
            state, operands, sizes, 0, S, False,
            MASK, DROPOUT, COMPUTE, PRECISION, WIDEN, INDEX_64, BLOCK_M, BLOCK_N, BLOCK_E, BLOCK_EV,
        )  # fmt: skip
    acc, row_max, row_sum = state

    # A row with no visible key has row_sum 0 and acc 0: its output is 0 (torch 2.13 on the CPU),
    # and its lse is +inf so that the backward rebuilds p = exp(s - inf) = 0 for it.
    seen = row_sum > 0
    out = acc / tl.where(seen, row_sum, 1.0)[:, None]
    out_ptrs = out_base + rows[:, None] * out_strides[2] + dims_v[None, :] * out_strides[3]
    _store(out_ptrs, out, (rows < L)[:, None] & (dims_v < EV)[None, :])
    lse = tl.where(seen, (row_max + tl.log2(tl.where(seen, row_sum, 1.0))) * LN2, float("inf"))
    tl.store(lse_ptr + bh.to(tl.int64) * L + rows, lse, mask=rows < L)


# ----------------------------------------------------------------------------------------------
# Backward
# ----------------------------------------------------------------------------------------------


# delta[bh, i] = sum_e dO[bh, i, e] * O[bh, i, e] (= sum_j P_ij dP_ij, dropout included): the
# row term of softmax's backward. One program per (query block, b * H + h); reads O and dO
# once, writes BLOCK_M values.
@triton.jit
def attention_bwd_delta_kernel(
    out_ptr, grad_out_ptr, delta_ptr,
    out_strides, grad_out_strides,
    heads, L, EV,
    COMPUTE: tl.constexpr, INDEX_64: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_EV: tl.constexpr,
):  # fmt: skip
    num_m = tl.cdiv(L, BLOCK_M)
    pid = tl.program_id(0)
    bh = pid // num_m
    rows = _rows((pid % num_m) * BLOCK_M, BLOCK_M, INDEX_64)
    dims_v = tl.arange(0, BLOCK_EV)
    out_base = _base(out_ptr, bh, heads, 1, out_strides)
    grad_out_base = _base(grad_out_ptr, bh, heads, 1, grad_out_strides)
    o = _load_tile(out_base, rows, dims_v, out_strides[2], out_strides[3], L, EV)
    do = _load_tile(grad_out_base, rows, dims_v, grad_out_strides[2], grad_out_strides[3], L, EV)
    delta = tl.sum(o.to(COMPUTE) * do.to(COMPUTE), axis=1)
    tl.store(delta_ptr + bh.to(tl.int64) * L + rows, delta, mask=rows < L)


@triton.jit
def _dkdv_queries(
    state, operands, strides, sizes, start, end,
    CAUSAL: tl.constexpr, MASK: tl.constexpr, DROPOUT: tl.constexpr, COMPUTE: tl.constexpr,
    PRECISION: tl.constexpr, WIDEN: tl.constexpr, INDEX_64: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_EV: tl.constexpr,
):  # fmt: skip
    """(grad_k unscaled, grad_v) accumulated over the query blocks in [start, end) of head bh."""
    grad_k, grad_v = state
    k, v, keys, bh, q_base, grad_out_base, mask_base, lse_ptr, delta_ptr = operands
    q_strides, grad_out_strides, mask_strides = strides
    L, S, E, EV, qk_scale, dropout_p, keep_scale, seed, first_call = sizes
    dims = tl.arange(0, BLOCK_E)
    dims_v = tl.arange(0, BLOCK_EV)
    for start_m in range(start, end, BLOCK_M):
        rows = _rows(start_m, BLOCK_M, INDEX_64)
        row_in = rows < L
        q_t = _load_tile(q_base, dims, rows, q_strides[3], q_strides[2], E, L)
        s_t = _dot(k, q_t, tl.zeros([BLOCK_N, BLOCK_M], COMPUTE), PRECISION, WIDEN) * qk_scale
        s_t = _masked_scores(s_t, rows, keys, L, S, mask_base, mask_strides, CAUSAL, MASK, True)
        # Rows past L load lse = +inf: their p is 0.
        lse = tl.load(lse_ptr + bh.to(tl.int64) * L + rows, mask=row_in, other=float("inf"))
        p_t = tl.exp2(s_t - (lse * LOG2E)[None, :])
        do = _load_tile(grad_out_base, rows, dims_v, grad_out_strides[2], grad_out_strides[3], L, EV)
        dp_t = _dot(v, tl.trans(do), tl.zeros([BLOCK_N, BLOCK_M], COMPUTE), PRECISION, WIDEN)
        if DROPOUT:
            z_t = _dropout_scale(seed, first_call, bh, rows, keys, L, S, dropout_p, keep_scale, True)
            grad_v = _dot(p_t * z_t, do, grad_v, PRECISION, WIDEN)
            dp_t = dp_t * z_t
        else:
            grad_v = _dot(p_t, do, grad_v, PRECISION, WIDEN)
        delta = tl.load(delta_ptr + bh.to(tl.int64) * L + rows, mask=row_in, other=0.0)
        ds_t = p_t * (dp_t - delta[None, :])
        grad_k = _dot(ds_t, tl.trans(q_t), grad_k, PRECISION, WIDEN)
    return grad_k, grad_v


# dK and dV for BLOCK_N keys of one (b, key head): for every query head of the group and every
# query block, rebuild P^T = exp(S^T - lse) and
#   dV += (P∘Z)^T dO,   dP^T = V dO^T ∘ Z^T,   dS^T = P^T ∘ (dP^T - delta),   dK += dS^T Q * scale
# (Z = keep / (1 - p), all ones without dropout). Tiles are kept transposed (keys x queries) so
# the row vectors lse and delta broadcast along axis 1 and no score tile is transposed.
# Grid: one program per (key block, b * Hk + hk). Memory: K and V read once; Q, dO, lse and
# delta read once per key block (per query head of the group); dK and dV written once. With
# CAUSAL the query loop starts at the block holding query start_n; only diagonal blocks test j <= i.
@triton.jit
def attention_bwd_dkdv_kernel(
    q_ptr, k_ptr, v_ptr, mask_ptr, grad_out_ptr, lse_ptr, delta_ptr, grad_k_ptr, grad_v_ptr,
    q_strides, k_strides, v_strides, mask_strides, grad_out_strides, grad_k_strides, grad_v_strides,
    heads, group, L, S, E, EV,
    scale_bits, dropout_p, keep_scale_bits, seed, first_call,
    CAUSAL: tl.constexpr, MASK: tl.constexpr, DROPOUT: tl.constexpr, COMPUTE: tl.constexpr,
    PRECISION: tl.constexpr, WIDEN: tl.constexpr, INDEX_64: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_EV: tl.constexpr,
):  # fmt: skip
    num_n = tl.cdiv(S, BLOCK_N)
    pid = tl.program_id(0)
    bhk = pid // num_n
    start_n = (num_n - 1 - pid % num_n) * BLOCK_N
    key_heads = heads // group
    # The first query head of this key head, as a query-side (b * H + h) index.
    first_bh = (bhk // key_heads) * heads + (bhk % key_heads) * group
    k_base = _base(k_ptr, first_bh, heads, group, k_strides)
    v_base = _base(v_ptr, first_bh, heads, group, v_strides)

    keys = _rows(start_n, BLOCK_N, INDEX_64)
    dims = tl.arange(0, BLOCK_E)
    dims_v = tl.arange(0, BLOCK_EV)
    key_in = (keys < S)[:, None]
    k = _load_tile(k_base, keys, dims, k_strides[2], k_strides[3], S, E)
    v = _load_tile(v_base, keys, dims_v, v_strides[2], v_strides[3], S, EV)
    scale = bits_to_float(scale_bits).to(COMPUTE)
    qk_scale = scale * LOG2E
    keep_scale = bits_to_float(keep_scale_bits).to(COMPUTE)

    grad_k = tl.zeros([BLOCK_N, BLOCK_E], COMPUTE)
    grad_v = tl.zeros([BLOCK_N, BLOCK_EV], COMPUTE)
    sizes = (L, S, E, EV, qk_scale, dropout_p, keep_scale, seed, first_call)
    for member in range(0, group):
        bh = first_bh + member
        q_base = _base(q_ptr, bh, heads, 1, q_strides)
        grad_out_base = _base(grad_out_ptr, bh, heads, 1, grad_out_strides)
        mask_base = _base(mask_ptr, bh, heads, 1, mask_strides)
        operands = (k, v, keys, bh, q_base, grad_out_base, mask_base, lse_ptr, delta_ptr)
        strides = (q_strides, grad_out_strides, mask_strides)
        state = (grad_k, grad_v)
        if CAUSAL:
            # Queries before start_n see none of these keys; query blocks at or after the last key
            # (start_n + BLOCK_N - 1) see all of them and skip the causal test.
            begin = (start_n // BLOCK_M) * BLOCK_M
            after = tl.minimum(tl.cdiv(start_n + BLOCK_N - 1, BLOCK_M) * BLOCK_M, L)
            state = _dkdv_queries(
                state, operands, strides, sizes, begin, after, True,
                MASK, DROPOUT, COMPUTE, PRECISION, WIDEN, INDEX_64, BLOCK_M, BLOCK_N, BLOCK_E, BLOCK_EV,
            )  # fmt: skip
            state = _dkdv_queries(
                state, operands, strides, sizes, after, L, False,
                MASK, DROPOUT, COMPUTE, PRECISION, WIDEN, INDEX_64, BLOCK_M, BLOCK_N, BLOCK_E, BLOCK_EV,
            )  # fmt: skip
        else:
            state = _dkdv_queries(
                state, operands, strides, sizes, 0, L, False,
                MASK, DROPOUT, COMPUTE, PRECISION, WIDEN, INDEX_64, BLOCK_M, BLOCK_N, BLOCK_E, BLOCK_EV,
            )  # fmt: skip
        grad_k, grad_v = state

    grad_k_base = _base(grad_k_ptr, first_bh, heads, group, grad_k_strides)
    grad_v_base = _base(grad_v_ptr, first_bh, heads, group, grad_v_strides)
    grad_k_ptrs = grad_k_base + keys[:, None] * grad_k_strides[2] + dims[None, :] * grad_k_strides[3]
    _store(grad_k_ptrs, grad_k * scale, key_in & (dims < E)[None, :])
    grad_v_ptrs = grad_v_base + keys[:, None] * grad_v_strides[2] + dims_v[None, :] * grad_v_strides[3]
    _store(grad_v_ptrs, grad_v, key_in & (dims_v < EV)[None, :])


@triton.jit
def _dq_keys(
    grad_q, operands, sizes, start, end,
    CAUSAL: tl.constexpr, MASK: tl.constexpr, DROPOUT: tl.constexpr, COMPUTE: tl.constexpr,
    PRECISION: tl.constexpr, WIDEN: tl.constexpr, INDEX_64: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_EV: tl.constexpr,
):  # fmt: skip
    """grad_q (unscaled) accumulated over the key blocks in [start, end)."""
    q, do, lse2, delta, rows, bh, k_base, v_base, mask_base, k_strides, v_strides, mask_strides = operands
    L, S, E, EV, qk_scale, dropout_p, keep_scale, seed, first_call = sizes
    dims = tl.arange(0, BLOCK_E)
    dims_v = tl.arange(0, BLOCK_EV)
    for start_n in range(start, end, BLOCK_N):
        keys = _rows(start_n, BLOCK_N, INDEX_64)
        k_t = _load_tile(k_base, dims, keys, k_strides[3], k_strides[2], E, S)
        v_t = _load_tile(v_base, dims_v, keys, v_strides[3], v_strides[2], EV, S)
        s = _dot(q, k_t, tl.zeros([BLOCK_M, BLOCK_N], COMPUTE), PRECISION, WIDEN) * qk_scale
        s = _masked_scores(s, rows, keys, L, S, mask_base, mask_strides, CAUSAL, MASK, False)
        p = tl.exp2(s - lse2[:, None])
        dp = _dot(do, v_t, tl.zeros([BLOCK_M, BLOCK_N], COMPUTE), PRECISION, WIDEN)
        if DROPOUT:
            dp = dp * _dropout_scale(seed, first_call, bh, rows, keys, L, S, dropout_p, keep_scale, False)
        ds = p * (dp - delta[:, None])
        grad_q = _dot(ds, tl.trans(k_t), grad_q, PRECISION, WIDEN)
    return grad_q


# dQ for BLOCK_M query rows of one (b, h): for every key block rebuild P = exp(S - lse) and
#   dP = dO V^T ∘ Z,   dS = P ∘ (dP - delta),   dQ += dS K * scale.
# Grid: one program per (query block, b * H + h), longest causal rows first. Memory: Q, dO, lse,
# delta read once; K and V once per query block; dQ written once. With CAUSAL the key loop
# stops after the block holding key start_m + BLOCK_M - 1; only diagonal blocks test j <= i.
@triton.jit
def attention_bwd_dq_kernel(
    q_ptr, k_ptr, v_ptr, mask_ptr, grad_out_ptr, lse_ptr, delta_ptr, grad_q_ptr,
    q_strides, k_strides, v_strides, mask_strides, grad_out_strides, grad_q_strides,
    heads, group, L, S, E, EV,
    scale_bits, dropout_p, keep_scale_bits, seed, first_call,
    CAUSAL: tl.constexpr, MASK: tl.constexpr, DROPOUT: tl.constexpr, COMPUTE: tl.constexpr,
    PRECISION: tl.constexpr, WIDEN: tl.constexpr, INDEX_64: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_EV: tl.constexpr,
):  # fmt: skip
    num_m = tl.cdiv(L, BLOCK_M)
    pid = tl.program_id(0)
    bh = pid // num_m
    start_m = (num_m - 1 - pid % num_m) * BLOCK_M
    q_base = _base(q_ptr, bh, heads, 1, q_strides)
    k_base = _base(k_ptr, bh, heads, group, k_strides)
    v_base = _base(v_ptr, bh, heads, group, v_strides)
    mask_base = _base(mask_ptr, bh, heads, 1, mask_strides)
    grad_out_base = _base(grad_out_ptr, bh, heads, 1, grad_out_strides)

    rows = _rows(start_m, BLOCK_M, INDEX_64)
    row_in = rows < L
    dims = tl.arange(0, BLOCK_E)
    dims_v = tl.arange(0, BLOCK_EV)
    q = _load_tile(q_base, rows, dims, q_strides[2], q_strides[3], L, E)
    do = _load_tile(grad_out_base, rows, dims_v, grad_out_strides[2], grad_out_strides[3], L, EV)
    lse2 = tl.load(lse_ptr + bh.to(tl.int64) * L + rows, mask=row_in, other=float("inf")) * LOG2E
    delta = tl.load(delta_ptr + bh.to(tl.int64) * L + rows, mask=row_in, other=0.0)
    scale = bits_to_float(scale_bits).to(COMPUTE)
    qk_scale = scale * LOG2E
    keep_scale = bits_to_float(keep_scale_bits).to(COMPUTE)

    grad_q = tl.zeros([BLOCK_M, BLOCK_E], COMPUTE)
    operands = (q, do, lse2, delta, rows, bh, k_base, v_base, mask_base, k_strides, v_strides, mask_strides)
    sizes = (L, S, E, EV, qk_scale, dropout_p, keep_scale, seed, first_call)
    if CAUSAL:
        end = tl.minimum(S, start_m + BLOCK_M)
        # Key blocks left of every row's diagonal (all keys <= start_m) skip the causal test.
        below = tl.minimum(((start_m + 1) // BLOCK_N) * BLOCK_N, end)
        grad_q = _dq_keys(
            grad_q, operands, sizes, 0, below, False,
            MASK, DROPOUT, COMPUTE, PRECISION, WIDEN, INDEX_64, BLOCK_M, BLOCK_N, BLOCK_E, BLOCK_EV,
        )  # fmt: skip
        grad_q = _dq_keys(
            grad_q, operands, sizes, below, end, True,
            MASK, DROPOUT, COMPUTE, PRECISION, WIDEN, INDEX_64, BLOCK_M, BLOCK_N, BLOCK_E, BLOCK_EV,
        )  # fmt: skip
    else:
        grad_q = _dq_keys(
            grad_q, operands, sizes, 0, S, False,
            MASK, DROPOUT, COMPUTE, PRECISION, WIDEN, INDEX_64, BLOCK_M, BLOCK_N, BLOCK_E, BLOCK_EV,
        )  # fmt: skip

    grad_q_ptrs = _base(grad_q_ptr, bh, heads, 1, grad_q_strides) + rows[:, None] * grad_q_strides[2]
    _store(grad_q_ptrs + dims[None, :] * grad_q_strides[3], grad_q * scale, row_in[:, None] & (dims < E)[None, :])


# keep[bh, i, j] = 1 where the attention kernels keep probability (i, j) under dropout p with
# this (seed, offset), else 0: the same draw as _dropout_scale, written out for tests and for
# composing a reference. One program per (query block, b * H + h), all keys in blocks.
@triton.jit
def attention_dropout_keep_kernel(
    keep_ptr, L, S, seed, first_call, dropout_p,
    INDEX_64: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
):  # fmt: skip
    num_m = tl.cdiv(L, BLOCK_M)
    pid = tl.program_id(0)
    bh = pid // num_m
    rows = _rows((pid % num_m) * BLOCK_M, BLOCK_M, INDEX_64)
    for start_n in range(0, S, BLOCK_N):
        keys = _rows(start_n, BLOCK_N, INDEX_64)
        keep = _dropout_scale(seed, first_call, bh, rows, keys, L, S, dropout_p, 1.0, False)
        ptrs = keep_ptr + (bh.to(tl.int64) * L + rows[:, None]) * S + keys[None, :]
        tl.store(ptrs, keep.to(tl.uint8), mask=(rows < L)[:, None] & (keys < S)[None, :])


# ----------------------------------------------------------------------------------------------
# Launch policy
# ----------------------------------------------------------------------------------------------


class AttentionBlocks:
    """Tiles and launch options of the three main kernels: (BLOCK_M, BLOCK_N, num_warps, num_stages)."""

    __slots__ = ("forward", "dkdv", "dq")

    def __init__(self, forward: tuple, dkdv: tuple, dq: tuple) -> None:
        self.forward, self.dkdv, self.dq = forward, dkdv, dq


# The interpreter pays per tl op per program, so blocks are as large as the sequences allow (64
# keeps the numpy tiles small; longer sequences loop). On a GPU the tiles are the largest that
# compile without register spills on sm_80 and sm_90 (triton 3.6 and 3.9, AOT kernel report): the forward
# and dQ own many query rows and stream narrow key blocks, dK/dV own the keys and stream narrow
# query blocks. A mask or dropout ("heavy": a mask tile, or Philox state per score) needs smaller
# tiles; fp32 ("ieee", on the FMA units) and fp64 products hold their tiles in registers.
_INTERPRETER_BLOCK = 64


def attention_blocks(dtype: torch.dtype, head_dim: int, L: int, S: int, heavy: bool = False) -> AttentionBlocks:
    """The launch tiles for ``dtype``, the padded head dim (max of E and Ev) and whether a mask or
    dropout is applied (``heavy``)."""
    if runtime.is_interpreter():
        block_m = min(max(runtime.next_power_of_2(L), 16), _INTERPRETER_BLOCK)
        block_n = min(max(runtime.next_power_of_2(S), 16), _INTERPRETER_BLOCK)
        tile = (block_m, block_n, 4, 1)
        return AttentionBlocks(tile, tile, tile)
    if dtype == torch.float64:
        if heavy:
            return AttentionBlocks((32, 32, 4, 1), (16, 32, 8, 1), (16, 32, 4, 1))
        return AttentionBlocks((64, 32, 4, 1), (16, 32, 4, 1), (16, 32, 4, 1))
    if dtype == torch.float32:
        if heavy:
            return AttentionBlocks((32, 32, 4, 2), (16, 32, 4, 1), (32, 32, 4, 1))
        # Small head dims (tiny_gpt's 16 and 32) stream narrower key blocks: (64, 32, 8, 2) spills
        # there on triton 3.6 (sm_80); dK/dV at 4 warps spilled at d64 causal, dQ at (32, 32) at d16-32.
        forward = (64, 16, 4, 2) if head_dim <= 32 else (64, 32, 8, 2)
        return AttentionBlocks(forward, (16, 32, 8, 1), (32, 16, 4, 1))
    if head_dim > 64:
        if heavy:
            return AttentionBlocks((64, 32, 4, 3), (32, 32, 4, 2), (64, 32, 4, 2))
        return AttentionBlocks((128, 32, 8, 3), (64, 64, 8, 2), (64, 32, 4, 2))
    if heavy:
        return AttentionBlocks((64, 64, 4, 3), (32, 64, 4, 3), (64, 32, 4, 3))
    return AttentionBlocks((128, 64, 8, 3), (32, 64, 4, 3), (128, 32, 8, 3))


# ----------------------------------------------------------------------------------------------
# Launchers
# ----------------------------------------------------------------------------------------------


def _check_inputs(name: str, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    check_same_device(name, q, k, v)
    check_floating(name, q)
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(f"{name}: expected query, key and value of one dtype, got {q.dtype}, {k.dtype} and {v.dtype}")
    if q.dim() != 4 or k.dim() != 4 or v.dim() != 4:
        raise ValueError(
            f"{name}: expected 4-D query (B, H, L, E), key (B, Hk, S, E) and value (B, Hk, S, Ev), got "
            f"shapes {tuple(q.shape)}, {tuple(k.shape)} and {tuple(v.shape)}"
        )
    batch, heads, _, dim = q.shape
    if k.shape[0] != batch or v.shape[0] != batch or k.shape[3] != dim or k.shape[:3] != v.shape[:3]:
        raise ValueError(
            f"{name}: shapes do not match: query {tuple(q.shape)}, key {tuple(k.shape)}, value {tuple(v.shape)} "
            "(key must be (B, Hk, S, E) and value (B, Hk, S, Ev))"
        )
    key_heads = k.shape[1]
    if (key_heads == 0 and heads != 0) or (key_heads and heads % key_heads):  # (no heads at all: an empty result)
        raise ValueError(f"{name}: the {heads} query heads are not a multiple of the {key_heads} key/value heads")


def _mask_operand(name: str, mask: torch.Tensor | None, q: torch.Tensor, S: int):
    """(tensor to pass, its 4 strides, kind): the mask viewed as (B, H, L, S) with 0 strides where
    it broadcasts; bool masks are read as bytes. Without a mask, q stands in (never read)."""
    if mask is None:
        return q, (0, 0, 0, 0), NO_MASK
    check_same_device(name, q, mask)
    shape = (q.shape[0], q.shape[1], q.shape[2], S)
    if mask.dim() > 4:
        raise ValueError(f"{name}: attn_mask of shape {tuple(mask.shape)} has more than 4 dims")
    try:
        expanded = mask.expand(shape)
    except RuntimeError:
        raise RuntimeError(
            f"{name}: attn_mask of shape {tuple(mask.shape)} does not broadcast to (B, H, L, S) = {shape}"
        ) from None
    if mask.dtype == torch.bool and q.dtype == torch.float64:
        # Triton 3.6 sizes a dot operand's registers by the narrowest load its values derive from;
        # a byte mask under an fp64 product asks for an fp64 MMA shape it cannot lower ("fp64 don't
        # support largeK MMA"). fp64 is the reference path, so the mask is read as fp64 0/1 instead.
        wide = elementwise.launch_unary("copy", mask, out_dtype=torch.float64).expand(shape)
        return wide, tuple(wide.stride()), BOOL_MASK
    if mask.dtype == torch.bool:
        return expanded.view(torch.uint8), tuple(expanded.stride()), BOOL_MASK
    if mask.dtype not in FLOATING_DTYPES:
        raise TypeError(f"{name}: attn_mask must be bool or floating, got {mask.dtype}")
    return expanded, tuple(expanded.stride()), ADDITIVE_MASK


def _scale_and_dropout(name: str, q: torch.Tensor, scale: float | None, dropout_p: float, seed: int, offset: int):
    if scale is None:
        # torch's default; with E = 0 every score is 0 and any scale gives the uniform average.
        scale = 1.0 / math.sqrt(q.shape[-1]) if q.shape[-1] else 1.0
    scale = float(scale)
    dropout_p = float(dropout_p)
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if dropout_p > 0.0 and (not 0 <= int(seed) < 2**64 or not 0 <= int(offset) < 2**62 or int(offset) % 4):
        raise ValueError(f"{name}: invalid Philox stream (seed {seed}, offset {offset})")
    keep_scale = 1.0 / (1.0 - dropout_p) if dropout_p < 1.0 else 0.0
    return (float_bits(scale), dropout_p, float_bits(keep_scale), int(seed), int(offset) // _NUMBERS_PER_ELEMENT)


def _meta(q: torch.Tensor, causal: bool, mask_kind: int, dropout_p: float, allow_tf32: bool, index_64: bool) -> dict:
    half = q.dtype in (torch.float16, torch.bfloat16)
    return {
        "CAUSAL": bool(causal),
        "MASK": mask_kind,
        "DROPOUT": dropout_p > 0.0,
        "COMPUTE": compute_dtype(q.dtype),
        "PRECISION": "tf32" if (q.dtype == torch.float32 and allow_tf32) else "ieee",
        "WIDEN": half and runtime.is_interpreter(),
        "INDEX_64": index_64,
    }


def _head_blocks(q: torch.Tensor, v: torch.Tensor) -> dict:
    return {
        "BLOCK_E": max(16, runtime.next_power_of_2(q.shape[-1])),
        "BLOCK_EV": max(16, runtime.next_power_of_2(v.shape[-1])),
    }


def dropout_numbers(q: torch.Tensor, S: int) -> int:
    """Philox numbers a dropout launch on query ``q`` (B, H, L, E) with S keys consumes."""
    return _NUMBERS_PER_ELEMENT * q.shape[0] * q.shape[1] * q.shape[2] * S


def launch_attention_fwd(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, attn_mask: torch.Tensor | None = None, *,
    causal: bool = False, scale: float | None = None, dropout_p: float = 0.0, seed: int = 0, offset: int = 0,
    allow_tf32: bool = False, blocks: AttentionBlocks | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Flash-attention forward. Returns (out, lse).

    Args:
        q: (B, H, L, E), k: (B, Hk, S, E), v: (B, Hk, S, Ev), any strides, one floating dtype;
            H a multiple of Hk.
        attn_mask: None, or bool / additive float, broadcastable to (B, H, L, S).
        causal: keep key j for query i only when j <= i (combined with ``attn_mask`` if both).
        scale: the factor on q @ k.T (default 1 / sqrt(E)).
        dropout_p, seed, offset: dropout on the probabilities from Philox stream (seed, offset);
            ``dropout_numbers`` says how many numbers to reserve.
        blocks: tile override (tests); default ``attention_blocks``.

    Returns:
        out (B, H, L, Ev) contiguous in q's dtype, and lse (B, H, L): each row's natural
        log-sum-exp of the masked, scaled scores (fp32; fp64 for fp64 inputs), +inf for a row
        with no visible key.
    """
    name = "scaled_dot_product_attention"
    _check_inputs(name, q, k, v)
    batch, heads, L, E = q.shape
    S, EV = k.shape[2], v.shape[3]
    mask, mask_strides, mask_kind = _mask_operand(name, attn_mask, q, S)
    stream = _scale_and_dropout(name, q, scale, dropout_p, seed, offset)
    out = torch.empty((batch, heads, L, EV), dtype=q.dtype, device=q.device)
    lse_dtype = torch.float64 if q.dtype == torch.float64 else torch.float32
    lse = torch.empty((batch, heads, L), dtype=lse_dtype, device=q.device)
    if lse.numel() == 0:
        return out, lse
    heavy = mask_kind != NO_MASK or stream[1] > 0.0
    blocks = blocks or attention_blocks(q.dtype, max(E, EV), L, S, heavy)
    block_m, block_n, num_warps, num_stages = blocks.forward
    meta = _meta(q, causal, mask_kind, stream[1], allow_tf32, needs_int64_indexing(q, k, v, mask, out))
    # One program per (query block, b * H + h).
    grid = (cdiv(L, block_m) * batch * heads,)
    attention_fwd_kernel[grid](
        q, k, v, mask, out, lse,
        tuple(q.stride()), tuple(k.stride()), tuple(v.stride()), mask_strides, tuple(out.stride()),
        heads, heads // k.shape[1], L, S, E, EV,
        *stream,
        **meta, BLOCK_M=block_m, BLOCK_N=block_n, **_head_blocks(q, v),
        num_warps=num_warps, num_stages=num_stages,
    )  # fmt: skip
    return out, lse


def launch_attention_bwd(
    grad_out: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, out: torch.Tensor,
    lse: torch.Tensor, attn_mask: torch.Tensor | None = None, *, causal: bool = False, scale: float | None = None,
    dropout_p: float = 0.0, seed: int = 0, offset: int = 0, allow_tf32: bool = False,
    blocks: AttentionBlocks | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """Flash-attention backward: (dq, dk, dv), contiguous, shaped and typed like q, k, v.

    ``out`` and ``lse`` are ``launch_attention_fwd``'s results for the same arguments (the same
    mask, causal flag, scale and dropout stream); ``grad_out`` is (B, H, L, Ev), any strides.
    """
    name = "scaled_dot_product_attention_backward"
    _check_inputs(name, q, k, v)
    batch, heads, L, E = q.shape
    S, EV = k.shape[2], v.shape[3]
    if tuple(grad_out.shape) != (batch, heads, L, EV) or tuple(out.shape) != (batch, heads, L, EV):
        raise ValueError(
            f"{name}: grad_out {tuple(grad_out.shape)} and out {tuple(out.shape)} must be (B, H, L, Ev) = "
            f"{(batch, heads, L, EV)}"
        )
    if grad_out.dtype != q.dtype or out.dtype != q.dtype:
        raise TypeError(f"{name}: grad_out ({grad_out.dtype}) and out ({out.dtype}) must have q's dtype {q.dtype}")
    if tuple(lse.shape) != (batch, heads, L) or not lse.is_contiguous():
        raise ValueError(f"{name}: lse must be a contiguous (B, H, L) tensor, got shape {tuple(lse.shape)}")
    check_same_device(name, q, grad_out, out, lse)
    mask, mask_strides, mask_kind = _mask_operand(name, attn_mask, q, S)
    stream = _scale_and_dropout(name, q, scale, dropout_p, seed, offset)
    grad_q = torch.empty(q.shape, dtype=q.dtype, device=q.device)
    grad_k = torch.empty(k.shape, dtype=k.dtype, device=k.device)
    grad_v = torch.empty(v.shape, dtype=v.dtype, device=v.device)
    if batch == 0 or heads == 0:
        return grad_q, grad_k, grad_v
    blocks = blocks or attention_blocks(q.dtype, max(E, EV), L, S, mask_kind != NO_MASK or stream[1] > 0.0)
    meta = _meta(q, causal, mask_kind, stream[1], allow_tf32, needs_int64_indexing(q, k, v, mask, out, grad_out))
    heads_blocks = _head_blocks(q, v)
    group = heads // k.shape[1]

    delta = torch.empty(lse.shape, dtype=lse.dtype, device=q.device)
    block_m, _, num_warps, _ = blocks.dq
    if L > 0:
        # One program per (query block, b * H + h).
        attention_bwd_delta_kernel[(cdiv(L, block_m) * batch * heads,)](
            out, grad_out, delta, tuple(out.stride()), tuple(grad_out.stride()), heads, L, EV,
            COMPUTE=meta["COMPUTE"], INDEX_64=meta["INDEX_64"], BLOCK_M=block_m,
            BLOCK_EV=heads_blocks["BLOCK_EV"], num_warps=num_warps,
        )  # fmt: skip
    common = (heads, group, L, S, E, EV, *stream)
    if S > 0:
        block_m, block_n, num_warps, num_stages = blocks.dkdv
        # One program per (key block, b * Hk + hk); it loops over the group's query heads.
        attention_bwd_dkdv_kernel[(cdiv(S, block_n) * batch * k.shape[1],)](
            q, k, v, mask, grad_out, lse, delta, grad_k, grad_v,
            tuple(q.stride()), tuple(k.stride()), tuple(v.stride()), mask_strides, tuple(grad_out.stride()),
            tuple(grad_k.stride()), tuple(grad_v.stride()),
            *common, **meta, BLOCK_M=block_m, BLOCK_N=block_n, **heads_blocks,
            num_warps=num_warps, num_stages=num_stages,
        )  # fmt: skip
    if L > 0:
        block_m, block_n, num_warps, num_stages = blocks.dq
        # One program per (query block, b * H + h).
        attention_bwd_dq_kernel[(cdiv(L, block_m) * batch * heads,)](
            q, k, v, mask, grad_out, lse, delta, grad_q,
            tuple(q.stride()), tuple(k.stride()), tuple(v.stride()), mask_strides, tuple(grad_out.stride()),
            tuple(grad_q.stride()),
            *common, **meta, BLOCK_M=block_m, BLOCK_N=block_n, **heads_blocks,
            num_warps=num_warps, num_stages=num_stages,
        )  # fmt: skip
    return grad_q, grad_k, grad_v


def launch_attention_dropout_keep(
    batch: int, heads: int, L: int, S: int, dropout_p: float, seed: int, offset: int, device: torch.device
) -> torch.Tensor:
    """The keep mask (B, H, L, S) as uint8 (1 = kept) that the attention kernels draw for dropout
    ``dropout_p`` from stream (seed, offset): for tests and composed references."""
    keep = torch.empty((batch, heads, L, S), dtype=torch.uint8, device=device)
    if keep.numel() == 0:
        return keep
    stream = _scale_and_dropout("attention_dropout_keep", keep, 1.0, dropout_p, seed, offset)
    block_m = min(max(runtime.next_power_of_2(L), 16), _INTERPRETER_BLOCK) if runtime.is_interpreter() else 32
    block_n = min(max(runtime.next_power_of_2(S), 16), _INTERPRETER_BLOCK) if runtime.is_interpreter() else 64
    # One program per (query block, b * H + h).
    attention_dropout_keep_kernel[(cdiv(L, block_m) * batch * heads,)](
        keep, L, S, stream[3], stream[4], stream[1],
        INDEX_64=keep.numel() >= 2**31, BLOCK_M=block_m, BLOCK_N=block_n,
    )  # fmt: skip
    return keep
