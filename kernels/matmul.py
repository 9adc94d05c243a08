"""Matrix multiplication: batched matmul with a fused epilogue, and the fused linear layer.

One tile routine, ``_matmul_tile``, computes a tile of C = act(A @ B + bias)
over a range of K, and optionally the row sums of A on the side (the bias
gradient of a linear layer). Two kernels call it: ``matmul_kernel`` (one
product for every batch index; every forward launcher here) and
``linear_backward_kernel`` (the input and the weight gradient of a linear
layer in one launch).

Tiles and memory traffic
------------------------
One program instance owns one BLOCK_M x BLOCK_N tile of C. It walks K in
BLOCK_K steps, loading a BLOCK_M x BLOCK_K tile of A and a BLOCK_K x BLOCK_N
tile of B per step and accumulating their product in registers (fp32, or
fp64 for fp64 inputs); C is written once, after the bias and the activation
are applied, so the epilogue costs no extra pass over memory. A and B are
read in place through their strides: a transposed operand is the same buffer
with swapped strides, and a broadcast batch dim is a stride of 0, so nothing
is ever copied. Each element of A is read ceil(N / BLOCK_N) times and each
element of B ceil(M / BLOCK_M) times in total; large tiles and L2 hits (see
the grouped ordering below) keep that traffic mostly on chip.

Grouped ordering
----------------
Program ids are not mapped to tiles row by row. Row-major order would sweep a
whole row of C tiles, streaming all of B through L2 for each row of A tiles.
Instead the tiles are visited in groups of GROUP_M tile rows: within a group
the ids go down a column of GROUP_M tiles before moving one tile right, so
programs that run at the same time share both the GROUP_M row panels of A and
a few column panels of B, and those panels are served from L2.

Grid
----
One program per (batch index, C tile), flattened into grid axis 0 with the
batch index slowest, so the tiles of one batch entry run together and the
grid never hits the 65535 limit of the other axes. With SUM_BATCH the batch
dims are summed instead (sum over b of A[b] @ B[b], used for the weight
gradient when the leading dims of x cannot be flattened into one view): the
grid then covers only the C tiles and each program loops over the batch.

Split-K
-------
A skinny product has few C tiles and a long K (a linear layer's weight
gradient: K is the batch's rows; the tiny GPT's vocabulary head has 3 tiles of
K = 8192), so one program per tile leaves most SMs idle. On a GPU ``_split_k``
then shares each tile's K among SPLIT_K programs (grid axis 1): each sums
whole BLOCK_K steps of its share into a (SPLIT_K, *C) fp32 (fp64 for fp64)
buffer, without the epilogue, and ``split_k_sum_kernel`` adds the shares in
split order, then the bias and the activation, and casts (a second launch).
Atomic adds would save that launch but make the result depend on the order
the programs finish in; the partial buffer keeps it deterministic. The
interpreter runs programs one after another, so it never splits by itself
(the launch counts on the CPU stay as they were); tests ask for splits.

Hopper
------
On an sm_90 GPU, large 2-D fp16/bf16 products whose operands TMA can describe
go to the persistent TMA kernel of ``kernels/matmul_tma.py`` instead
(``tma_eligible`` says which); every other product, and every product in the
interpreter, takes the kernels here.

Autotuning
----------
The GPU configs are tuned per bucket of sizes (M, N, K rounded up to powers
of two) and the choice is cached on disk per device and versions
(``kernels/autotune.py``), so a new batch size does not retune. The
interpreter has one config and tunes nothing.

Precision: fp32 inputs use exact ("ieee") products unless ``allow_tf32`` is
set, in which case the GPU's tensor cores use tf32. Triton's interpreter has
no tf32: there ``allow_tf32`` changes nothing and the product stays exact.
fp16/bf16 inputs accumulate in fp32; fp64 inputs use ``tl.dot`` in fp64.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import triton
import triton.language as tl

from tritongrad import runtime
from tritongrad.kernels.autotune import bucketed_autotune
from tritongrad.kernels.common import (
    FLOATING_DTYPES,
    allocator,
    check_floating,
    check_same_device,
    compute_dtype,
    needs_int64_indexing,
    remember,
)
from tritongrad.kernels.matmul_tma import launch_matmul_tma, tma_eligible, tma_ruled_out
from tritongrad.kernels.strided import broadcast_shapes, broadcast_strides, coalesce, strided_offset
from tritongrad.runtime import cdiv

__all__ = ["launch_matmul", "launch_linear", "launch_linear_backward", "linear_launcher"]

ACTIVATIONS = (None, "relu")

# torch's names for dtypes in its matmul error messages.
_TORCH_DTYPE_NAMES = {
    torch.float32: "float",
    torch.float64: "double",
    torch.float16: "c10::Half",
    torch.bfloat16: "c10::BFloat16",
}


def _config(
    block_m: int, block_n: int, block_k: int, num_warps: int, num_stages: int, maxnreg: int | None = None
) -> triton.Config:
    meta = {"BLOCK_M": block_m, "BLOCK_N": block_n, "BLOCK_K": block_k, "GROUP_M": 8}
    return triton.Config(meta, num_warps=num_warps, num_stages=num_stages, maxnreg=maxnreg)


# ptxas picks a register budget per thread by its own occupancy heuristic, below the hardware's
# 255, and spills to meet it: the fp32 linear backward's 64x64x32 tile on 8 warps got 80 registers
# and spilled 4-8 B (sm_80 and sm_90, triton 3.9); on 4 warps it got 128 and spilled 4 B (ReLU
# mask, sm_80, triton 3.9). ``maxnreg`` (PTX ``.maxnreg``) sets the budget instead: with 128 on
# 8 warps (two programs per SM) the backward takes 85-128 registers at every report shape, on
# sm_80 and sm_90, triton 3.6 and 3.9, without spills.
_LINEAR_BACKWARD_MAXNREG = 128


def _gpu_configs() -> list[triton.Config]:
    """Tiles that suit Hopper (wgmma wants >= 64-row tiles and deep pipelines) and Ampere (mma.sync).

    Large 128x256 tiles win on big 16-bit problems; the 64-wide ones keep enough
    programs in flight for small or skinny problems and for fp32/fp64, whose
    tiles take twice or four times the shared memory per stage.
    """
    return [
        _config(128, 256, 64, num_warps=8, num_stages=3),
        _config(256, 128, 64, num_warps=8, num_stages=3),
        _config(128, 128, 64, num_warps=8, num_stages=4),
        _config(128, 128, 32, num_warps=8, num_stages=3),
        # fp32 and fp64 default; maxnreg: ptxas's own budget (80) spilled 8 B with bf16 (sm_80, triton 3.6).
        _config(128, 64, 32, num_warps=8, num_stages=3, maxnreg=255),
        _config(128, 128, 32, num_warps=4, num_stages=4),
        # (No 128x64x32 on 4 warps: 4 B spilled with the bias+ReLU epilogue, sm_80, triton 3.6.)
        _config(64, 128, 32, num_warps=4, num_stages=4),
        _config(64, 64, 32, num_warps=4, num_stages=5, maxnreg=168),  # ptxas's budget (96) spilled 8 B
        # Skinny products (a few rows or columns; the split-K shares): small tiles, more programs.
        _config(64, 32, 32, num_warps=2, num_stages=5, maxnreg=192),  # ptxas's budget (80) spilled 4 B
        _config(32, 64, 32, num_warps=4, num_stages=5),  # 2 warps spilled with fp16 (96 regs, AOT report)
        # Unpipelined: the fp32/fp64 linear backward (see _prune_linear_backward) and products of
        # unaligned operands (see _operands_aligned); one register budget for 16/32-bit elements,
        # one for fp64 (see _UNPIPELINED_MAXNREG).
        *(_config(64, 64, 32, num_warps=8, num_stages=1, maxnreg=maxnreg) for maxnreg in _UNPIPELINED_MAXNREG.values()),
    ]


# The register budget (``maxnreg``) of the unpipelined tile, by element size. fp64 holds twice the
# accumulator and operand registers of fp32: at 128 the fp64 linear backward spilled 96 B and an
# unaligned fp64 matmul 20 B on sm_90 with triton 3.6 (AOT report, 64x61->10 and 67x61x59); all
# 255 of them (one 8-warp program per SM) spill nothing there.
_UNPIPELINED_MAXNREG = {4: _LINEAR_BACKWARD_MAXNREG, 8: 255}


def _unpipelined(configs: list[triton.Config], element_size: int) -> list[triton.Config]:
    """The unpipelined configs with the register budget of ``element_size``-byte elements."""
    maxnreg = _UNPIPELINED_MAXNREG[8 if element_size == 8 else 4]
    return [c for c in configs if c.num_stages == 1 and c.maxnreg == maxnreg]


# The interpreter runs tl.dot as one numpy matmul and pays ~50-100 µs per tl op
# per program instance, so the fewer and larger the programs the faster: 128-wide
# tiles run a 256³ product about 3x faster than 64-wide ones (measured).
_INTERPRETER_CONFIGS = [_config(128, 128, 128, num_warps=4, num_stages=1)]


def _prune_by_shared_memory(configs, named_args, **kwargs):
    """Drops configs whose pipelined A/B tiles cannot fit in the device's shared memory, and
    configs whose per-thread tiles would not fit in registers (see ``_fits_in_registers``).

    The autotuner would reject the first kind anyway (OutOfResources), but only
    after compiling them; the second kind would compile and spill.
    """
    a = named_args["a_ptr"]
    driver = triton.runtime.driver.active
    limit = driver.utils.get_device_properties(a.device.index)["max_shared_mem"]
    arch = driver.get_current_target().arch
    element_size = a.element_size()
    fitting = [
        config
        for config in configs
        if config.num_stages
        * element_size
        * config.kwargs["BLOCK_K"]
        * (config.kwargs["BLOCK_M"] + config.kwargs["BLOCK_N"])
        <= limit
        and _fits_in_registers(config, element_size, arch)
    ]
    return fitting or configs[-1:]


def _prune_matmul(configs, named_args, **kwargs):
    """The pipelined configs that fit (``_prune_by_shared_memory``); for operands whose tiles the
    compiler cannot prove 16-byte aligned (``_operands_aligned``), only the unpipelined ones."""
    if not _operands_aligned(named_args):
        return _unpipelined(configs, named_args["a_ptr"].element_size())
    return _prune_by_shared_memory([c for c in configs if c.num_stages > 1], named_args, **kwargs)


# A pipelined K loop copies its next tiles to shared memory asynchronously (cp.async, TMA) only
# when their rows are provably 16-byte aligned: every pointer 16-byte aligned and every stride a
# multiple of 16 elements (what Triton's specialisation marks) or 1. Otherwise each prefetched
# stage sits in registers: with a 10- or 65-wide operand (a classifier head, its gradient) the AOT
# report found 248-255 registers and 12-224 B spilled on sm_80 at 128x128x32 (16-bit, 4 warps),
# 64x64x32 (16-bit) and 128x64x32 (fp32, 8 warps), triton 3.6 and 3.9. Such products take the
# unpipelined tile (see _gpu_configs).
def _operands_aligned(named_args) -> bool:
    pointers = (named_args["a_ptr"], named_args["b_ptr"])
    if any(p.data_ptr() % 16 for p in pointers):
        return False
    strides = [named_args[name] for name in ("stride_am", "stride_ak", "stride_bk", "stride_bn")]
    for batch_strides in (named_args["a_batch_strides"], named_args["b_batch_strides"]):
        strides += list(batch_strides)
    return all(stride in (0, 1) or stride % 16 == 0 for stride in strides)


# fp32 ("ieee") and fp64 products run on the FMA units, each thread holding its share of the
# output tile in registers. Measured with the AOT report (triton 3.9, ptxas -v): 64 32-bit
# accumulator registers per thread on 8 warps reach 248-255 regs for fp32 (128x128: the linear
# forward, and the linear backward with out_features=10 spilled 16 B; with the ReLU mask 20 B)
# and spill on 4 warps (128x64: 255 regs, 28 B; 64x32 tf32 on 2 warps spilled 12 B on sm_90),
# while fp64's 128x64 on 8 warps (64 registers of accumulator) takes 142. So these tiles need
# 8 warps, and fp32 ones at most 32 accumulator registers a thread, fp64 ones 64.
_MAX_ACCUMULATOR_REGISTERS = {4: 32, 8: 64}

# fp16/bf16 products on a warp-level tensor core (mma.sync: every arch before Hopper, and a
# Hopper program of fewer than 4 warps, which cannot form a wgmma warp group) hold the
# accumulator and both operand fragments of a K step in registers. Estimated per thread by
# ``_mma_sync_registers`` and measured with the AOT report on sm_80 (ptxas -v, triton 3.6 and
# 3.9): 160 (128x128x64 on 8 warps) and 192 (128x128x32 on 4 warps: 226 regs) fit; 256
# (128x256x64 and 256x128x64 on 8 warps) needs all 255 registers and spills with triton 3.6.
# wgmma reads its operands from shared memory, so on Hopper those large tiles fit.
_MAX_MMA_SYNC_REGISTERS = 192


def _fits_in_registers(config: triton.Config, element_size: int, arch: int) -> bool:
    """Whether a config's per-thread share of its tiles fits in registers on ``arch`` (e.g. 80, 90)."""
    block_m, block_n, warps = config.kwargs["BLOCK_M"], config.kwargs["BLOCK_N"], config.num_warps
    if element_size < 4:
        if arch >= 90 and warps % 4 == 0:
            return True
        return _mma_sync_registers(block_m, block_n, config.kwargs["BLOCK_K"], warps, element_size) <= (
            _MAX_MMA_SYNC_REGISTERS
        )
    registers = block_m * block_n * (element_size // 4) // (warps * 32)
    return warps >= 8 and registers <= _MAX_ACCUMULATOR_REGISTERS[element_size]


def _mma_sync_registers(block_m: int, block_n: int, block_k: int, num_warps: int, element_size: int) -> int:
    """32-bit registers per thread for an mma.sync tile: fp32 accumulator plus one K step of A and B.

    Each warp owns a (block_m / warps_m) x (block_n / warps_n) part of C; the warps are laid out
    as Triton's compiler lays them out for mma.sync (``warpsPerTileV2``: each doubling goes to M
    while M has at least as many 16-row steps per warp as N has 16-column steps, else to N).
    """
    warps_m = warps_n = 1
    while warps_m * warps_n < num_warps:
        if block_m // 16 // warps_m >= block_n // 16 // warps_n and warps_m < block_m // 16:
            warps_m *= 2
        else:
            warps_n *= 2
    warp_m, warp_n = block_m // warps_m, block_n // warps_n
    accumulator = warp_m * warp_n
    operands = (warp_m + warp_n) * block_k * element_size // 4
    return (accumulator + operands) // 32


@triton.jit
def _matmul_tile(
    tile_id,
    a,  # (pointer, row stride, column stride) of A (M, K)
    b,  # (pointer, row stride, column stride) of B (K, N)
    c,  # (pointer, row stride, column stride) of C (M, N): this batch entry's or this split's
    sizes,  # (M, N)
    k_range,  # (start, stop): the slice of K this program sums (all of K, or its split's share)
    batches,  # (first, stop, shape, A's strides, B's strides): the batch entries summed into C
    bias,  # (pointer, stride) of the (N,) bias; read with HAS_BIAS
    row_sum,  # (pointer, stride) of the (M,) row sums of A; written with ROW_SUM
    a_mask,  # (pointer, row stride, column stride) of an (M, K) ReLU output; read with MASK_A
    BATCH_RANK: tl.constexpr, PRODUCT: tl.constexpr, ROW_SUM: tl.constexpr, HAS_BIAS: tl.constexpr,
    ACTIVATION: tl.constexpr, MASK_A: tl.constexpr, ACC_DTYPE: tl.constexpr, DOT_PRECISION: tl.constexpr,
    INDEX_64: tl.constexpr, WIDEN_BF16: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr,
):  # fmt: skip
    """One BLOCK_M x BLOCK_N tile of C = act(sum over batches of A[:, k_range] @ B[k_range, :] + bias),
    and A's row sums over k_range.

    With MASK_A, A's entries are zeroed where the (M, K) tensor at ``a_mask``
    is <= 0 as they are loaded: the gradient of a ReLU output applied on the
    fly (2-D operands only), so the masked gradient is never written to memory.
    """
    a_ptr, stride_am, stride_ak = a
    b_ptr, stride_bk, stride_bn = b
    c_ptr, stride_cm, stride_cn = c
    M, N = sizes
    k_start, k_stop = k_range
    first_batch, batch_stop, batch_shape, a_batch_strides, b_batch_strides = batches

    num_pid_m = tl.cdiv(M, BLOCK_M)
    num_pid_n = tl.cdiv(N, BLOCK_N)
    # Grouped ordering (see the module docstring): GROUP_M tile rows per group,
    # ids running down the group's column before moving right.
    tiles_per_group = GROUP_M * num_pid_n
    group_first_m = (tile_id // tiles_per_group) * GROUP_M
    group_rows = tl.minimum(num_pid_m - group_first_m, GROUP_M)
    pid_m = group_first_m + (tile_id % tiles_per_group) % group_rows
    pid_n = (tile_id % tiles_per_group) // group_rows

    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    if INDEX_64:
        offs_m = offs_m.to(tl.int64)
        offs_n = offs_n.to(tl.int64)
        offs_k = offs_k.to(tl.int64)
    mask_m = offs_m < M
    mask_n = offs_n < N
    offs_a_k = k_start + offs_k  # K indices of the first step (int64 with INDEX_64)

    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC_DTYPE)
    row_sums = tl.zeros((BLOCK_M,), dtype=ACC_DTYPE)
    for batch in range(first_batch, batch_stop):
        a_ptrs = a_ptr + offs_m[:, None] * stride_am + offs_a_k[None, :] * stride_ak
        b_ptrs = b_ptr + offs_a_k[:, None] * stride_bk + offs_n[None, :] * stride_bn
        if BATCH_RANK > 0:  # 0: plain 2-D operands
            batch_index = tl.cast(batch, tl.int64)
            a_ptrs += strided_offset(batch_index, batch_shape, a_batch_strides, BATCH_RANK)
            b_ptrs += strided_offset(batch_index, batch_shape, b_batch_strides, BATCH_RANK)
        if MASK_A:
            mask_ptr, stride_mask_m, stride_mask_k = a_mask
            a_mask_ptrs = mask_ptr + offs_m[:, None] * stride_mask_m + offs_a_k[None, :] * stride_mask_k
        for k in range(k_start, k_stop, BLOCK_K):
            mask_k = offs_k < k_stop - k
            a_tile = tl.load(a_ptrs, mask=mask_m[:, None] & mask_k[None, :], other=0.0)
            if MASK_A:
                keep = tl.load(a_mask_ptrs, mask=mask_m[:, None] & mask_k[None, :], other=0.0).to(ACC_DTYPE) > 0
                a_tile = tl.where(keep, a_tile, 0.0)
                a_mask_ptrs += BLOCK_K * stride_mask_k
            if PRODUCT:
                b_tile = tl.load(b_ptrs, mask=mask_k[:, None] & mask_n[None, :], other=0.0)
                if WIDEN_BF16:
                    a_tile = a_tile.to(tl.float32)
                    b_tile = b_tile.to(tl.float32)
                acc = tl.dot(a_tile, b_tile, acc, input_precision=DOT_PRECISION, out_dtype=ACC_DTYPE)
            if ROW_SUM:
                # Only the first column of tiles owns the row sums: its A tile is on
                # chip already, so the sum adds no pass over A in global memory.
                if pid_n == 0:
                    row_sums += tl.sum(a_tile.to(ACC_DTYPE), axis=1)
            a_ptrs += BLOCK_K * stride_ak
            b_ptrs += BLOCK_K * stride_bk

    if ROW_SUM:
        if pid_n == 0:
            row_sum_ptr, stride_row_sum = row_sum
            row_sum_ptrs = row_sum_ptr + offs_m * stride_row_sum
            tl.store(row_sum_ptrs, row_sums.to(row_sum_ptr.dtype.element_ty), mask=mask_m)

    if PRODUCT:
        if HAS_BIAS:
            bias_ptr, stride_bias = bias
            bias_tile = tl.load(bias_ptr + offs_n * stride_bias, mask=mask_n, other=0.0)
            acc += bias_tile.to(ACC_DTYPE)[None, :]
        if ACTIVATION == "relu":
            # where, not maximum: a NaN stays NaN, as in torch.relu.
            acc = tl.where(acc < 0, 0.0, acc)
        c_ptrs = c_ptr + offs_m[:, None] * stride_cm + offs_n[None, :] * stride_cn
        tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=mask_m[:, None] & mask_n[None, :])


@triton.jit
def _split_k_range(split, K, SPLIT_K: tl.constexpr, BLOCK_K: tl.constexpr):
    """(start, stop) of split ``split``'s share of K: whole BLOCK_K steps, the last share shorter."""
    if SPLIT_K == 1:
        return 0, K
    chunk = tl.cdiv(tl.cdiv(K, SPLIT_K), BLOCK_K) * BLOCK_K
    start = split * chunk
    return start, tl.minimum(start + chunk, K)


# Autotuning: M, N and K enter the key rounded up to powers of two, and the choice is cached on
# disk (kernels/autotune.py), so a new batch size reuses its bucket's tuning.
@bucketed_autotune(
    configs=_INTERPRETER_CONFIGS if runtime.is_interpreter() else _gpu_configs(),
    # Tensor dtypes are added to the key by the autotuner itself.
    key=["M", "N", "K", "SUM_BATCH", "PRODUCT", "SPLIT_K", "DOT_PRECISION"],
    bucketed=["M", "N", "K"],
    prune_configs_by={"early_config_prune": _prune_matmul},
    variant=_operands_aligned,
)
@triton.jit
def matmul_kernel(
    # Pointers: A (*batch, M, K), B (*batch, K, N), C (*batch, M, N) (or (M, N) with
    # SUM_BATCH; with SPLIT_K > 1 the (SPLIT_K, ...) partial sums), bias (N,),
    # row_sum (M,) (or (SPLIT_K, M)); bias/row_sum may be None when unused.
    a_ptr,
    b_ptr,
    c_ptr,
    bias_ptr,
    row_sum_ptr,
    # Sizes; batch_shape is the coalesced broadcast batch shape (at least rank 1).
    M,
    N,
    K,
    batch_shape,
    batch_count,
    # Strides, in elements; a/b batch strides are 0 along broadcast batch dims.
    a_batch_strides,
    stride_am,
    stride_ak,
    b_batch_strides,
    stride_bk,
    stride_bn,
    stride_c_batch,
    stride_cm,
    stride_cn,
    stride_c_split,
    stride_bias,
    stride_row_sum,
    stride_row_sum_split,
    # Meta-parameters.
    BATCH_RANK: tl.constexpr,
    SUM_BATCH: tl.constexpr,  # sum the products over the batch into one C
    PRODUCT: tl.constexpr,  # False: only the row sums of A are wanted (no B, no C)
    ROW_SUM: tl.constexpr,  # also write sum over K (and batch) of A's rows into row_sum
    HAS_BIAS: tl.constexpr,
    ACTIVATION: tl.constexpr,  # None or "relu"
    SPLIT_K: tl.constexpr,  # programs sharing one tile's K; > 1: partial sums, no epilogue
    ACC_DTYPE: tl.constexpr,  # fp32, or fp64 for fp64 inputs
    DOT_PRECISION: tl.constexpr,  # "ieee" (exact fp32) or "tf32"
    INDEX_64: tl.constexpr,  # some offset may overflow int32
    WIDEN_BF16: tl.constexpr,  # interpreter only: its bf16 dot is wrong, so widen tiles to fp32 first
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    GROUP_M: tl.constexpr,
):
    # Grid: (batch entries x C tiles, SPLIT_K); axis 0 has the batch index slowest.
    pid = tl.program_id(0)
    split = tl.program_id(1)
    tiles_per_batch = tl.cdiv(M, BLOCK_M) * tl.cdiv(N, BLOCK_N)
    if SUM_BATCH:
        first_batch = 0
        batch_stop = batch_count
        tile_id = pid
        c_offset = 0
    else:
        first_batch = pid // tiles_per_batch
        batch_stop = first_batch + 1
        tile_id = pid % tiles_per_batch
        c_offset = first_batch.to(tl.int64) * stride_c_batch
    if SPLIT_K > 1:
        c_offset += split.to(tl.int64) * stride_c_split
        if ROW_SUM:
            row_sum_ptr += split.to(tl.int64) * stride_row_sum_split
    if PRODUCT:  # c_ptr is None without a product
        c_ptr += c_offset
    _matmul_tile(
        tile_id,
        a=(a_ptr, stride_am, stride_ak),
        b=(b_ptr, stride_bk, stride_bn),
        c=(c_ptr, stride_cm, stride_cn),
        sizes=(M, N),
        k_range=_split_k_range(split, K, SPLIT_K, BLOCK_K),
        batches=(first_batch, batch_stop, batch_shape, a_batch_strides, b_batch_strides),
        bias=(bias_ptr, stride_bias),
        row_sum=(row_sum_ptr, stride_row_sum),
        a_mask=(None, 0, 0),
        BATCH_RANK=BATCH_RANK, PRODUCT=PRODUCT, ROW_SUM=ROW_SUM, HAS_BIAS=HAS_BIAS, ACTIVATION=ACTIVATION,
        MASK_A=False, ACC_DTYPE=ACC_DTYPE, DOT_PRECISION=DOT_PRECISION, INDEX_64=INDEX_64, WIDEN_BF16=WIDEN_BF16,
        BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, BLOCK_K=BLOCK_K, GROUP_M=GROUP_M,
    )  # fmt: skip


# Split-K, second pass: C = act(sum over splits of the partial C + bias) and row_sum = sum over
# splits of the partial row sums, in a fixed order (deterministic, unlike atomic adds). The
# partials are contiguous (SPLIT, *C) and (SPLIT, rows); C is contiguous. Grid: programs
# [0, c_programs) own BLOCK elements of C each, the rest BLOCK row sums each.
@triton.jit
def split_k_sum_kernel(
    partial_ptr, c_ptr, bias_ptr, row_sum_partial_ptr, row_sum_ptr,
    c_numel, N, rows, splits, stride_bias, stride_row_sum, c_programs,
    HAS_C: tl.constexpr, ROW_SUM: tl.constexpr, HAS_BIAS: tl.constexpr, ACTIVATION: tl.constexpr,
    ACC_DTYPE: tl.constexpr, INDEX_64: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    lanes = tl.arange(0, BLOCK)
    if INDEX_64:
        pid = pid.to(tl.int64)
        lanes = lanes.to(tl.int64)
    if HAS_C:
        if pid < c_programs:
            offs = pid * BLOCK + lanes
            mask = offs < c_numel
            acc = tl.zeros((BLOCK,), dtype=ACC_DTYPE)
            partial_ptrs = partial_ptr + offs
            for _ in range(0, splits):
                acc += tl.load(partial_ptrs, mask=mask, other=0.0).to(ACC_DTYPE)
                partial_ptrs += c_numel
            if HAS_BIAS:
                acc += tl.load(bias_ptr + (offs % N) * stride_bias, mask=mask, other=0.0).to(ACC_DTYPE)
            if ACTIVATION == "relu":
                acc = tl.where(acc < 0, 0.0, acc)
            tl.store(c_ptr + offs, acc.to(c_ptr.dtype.element_ty), mask=mask)
    if ROW_SUM:
        if pid >= c_programs:
            row_offs = (pid - c_programs) * BLOCK + lanes
            row_mask = row_offs < rows
            row_acc = tl.zeros((BLOCK,), dtype=ACC_DTYPE)
            row_partial_ptrs = row_sum_partial_ptr + row_offs
            for _ in range(0, splits):
                row_acc += tl.load(row_partial_ptrs, mask=row_mask, other=0.0).to(ACC_DTYPE)
                row_partial_ptrs += rows
            row_sum_ptrs = row_sum_ptr + row_offs * stride_row_sum
            tl.store(row_sum_ptrs, row_acc.to(row_sum_ptr.dtype.element_ty), mask=row_mask)


# Elements per program of the split-K sum: large in the interpreter (fewer programs), 1024 on a GPU.
_SPLIT_SUM_BLOCK = 4096 if runtime.is_interpreter() else 1024


def _launch_split_k_sum(
    partial: torch.Tensor | None,
    c: torch.Tensor | None,
    row_sum_partial: torch.Tensor | None,
    row_sum: torch.Tensor | None,
    *,
    bias: torch.Tensor | None = None,
    activation: str | None = None,
) -> None:
    """Sums the split-K partials (SPLIT, *c.shape) into c (with bias and activation) and
    (SPLIT, M) into row_sum, in one launch; c and row_sum may each be None."""
    splits = (partial if partial is not None else row_sum_partial).shape[0]
    c_numel = 0 if c is None else c.numel()
    rows = 0 if row_sum is None else row_sum.numel()
    c_programs = cdiv(c_numel, _SPLIT_SUM_BLOCK)
    grid = (c_programs + cdiv(rows, _SPLIT_SUM_BLOCK),)
    split_k_sum_kernel[grid](
        partial, c, bias, row_sum_partial, row_sum,
        c_numel, c.shape[-1] if c is not None else 1, rows, splits,
        bias.stride(0) if bias is not None else 0, row_sum.stride(0) if row_sum is not None else 0, c_programs,
        HAS_C=c is not None, ROW_SUM=row_sum is not None, HAS_BIAS=bias is not None, ACTIVATION=activation,
        ACC_DTYPE=compute_dtype((c if c is not None else row_sum).dtype),
        INDEX_64=needs_int64_indexing(partial, row_sum_partial, c, row_sum), BLOCK=_SPLIT_SUM_BLOCK,
    )  # fmt: skip


# The fused backward holds two pipelined K loops, and with operand strides that are not
# multiples of 16 bytes (out_features = 10 or 65) their prefetched tiles sit in registers.
# Measured with the AOT report (triton 3.9, ptxas -v): fp32/fp64 operands (FMA products, or
# tf32) spilled 12-48 B at every tile size with 2-5 stages, and 128x64 on 8 warps spilled
# even unpipelined on sm_90 (capped at 128 registers), 64x64 on 8 warps at 80, 32x64 on 4
# warps at 96 (triton 3.6), 64x64 on 4 warps at 128 (ReLU mask, triton 3.9): ptxas's own
# budgets. So fp32/fp64 take one unpipelined 64x64 tile on 8 warps with a set budget of
# registers (_LINEAR_BACKWARD_MAXNREG).
# 16-bit operands keep the pipelined configs but at most 64 accumulator values a thread
# (128x256 and 256x128 on 8 warps, 128x128 on 4 warps spilled 164-888 B at out_features = 10).
_MAX_LINEAR_BACKWARD_ACCUMULATOR = 64


def _prune_linear_backward(configs, named_args, **kwargs):
    element_size = named_args["x_ptr"].element_size()
    if element_size >= 4:
        # Unpipelined: tiles of one stage fit in shared memory anywhere.
        return _unpipelined(configs, element_size)
    configs = [
        c
        for c in configs
        if c.num_stages > 1
        and c.kwargs["BLOCK_M"] * c.kwargs["BLOCK_N"] <= _MAX_LINEAR_BACKWARD_ACCUMULATOR * 32 * c.num_warps
    ]
    return _prune_by_shared_memory(configs, {"a_ptr": named_args["x_ptr"]}, **kwargs)


# The backward of y = act(x @ weight.T + bias) for 2-D x (rows, in) and grad (rows, out),
# both products in one launch over one grid:
#   programs [0, tiles_grad_input):  grad_input  = grad' @ weight     (rows x in)
#   the rest, SPLIT_K per tile:      grad_weight = grad'^T @ x        (out x in), and
#                                    grad_bias   = row sums of grad'^T (out,)
# where grad' is grad, zeroed where the saved ReLU output is <= 0 when RELU_MASK is set
# (the mask is applied as grad tiles are loaded; grad' is never written). Each program
# computes one tile of one of the products exactly as matmul_kernel would; a launch
# instead of two saves one launch latency per layer, which is most of the time of a
# small layer's backward. With SPLIT_K > 1 the weight-gradient programs each sum one
# share of the rows into (SPLIT_K, out, in) and (SPLIT_K, out) partials, which
# split_k_sum_kernel adds up (a second launch, GPU only: the rows of a large batch are a
# long K over few weight tiles).
@bucketed_autotune(
    configs=_INTERPRETER_CONFIGS if runtime.is_interpreter() else _gpu_configs(),
    key=["rows", "in_features", "out_features", "GRAD_INPUT", "GRAD_WEIGHT", "RELU_MASK", "SPLIT_K", "DOT_PRECISION"],
    bucketed=["rows", "in_features", "out_features"],
    prune_configs_by={"early_config_prune": _prune_linear_backward},
)
@triton.jit
def linear_backward_kernel(
    grad_ptr, x_ptr, weight_ptr, relu_out_ptr, grad_input_ptr, grad_weight_ptr, grad_bias_ptr,
    rows, in_features, out_features,
    stride_grad_row, stride_grad_out, stride_x_row, stride_x_in, stride_weight_out, stride_weight_in,
    stride_relu_row, stride_relu_out, stride_grad_input_row, stride_grad_input_in,
    stride_grad_weight_out, stride_grad_weight_in, stride_grad_weight_split, stride_grad_bias,
    stride_grad_bias_split,
    GRAD_INPUT: tl.constexpr, GRAD_WEIGHT: tl.constexpr, GRAD_BIAS: tl.constexpr, RELU_MASK: tl.constexpr,
    SPLIT_K: tl.constexpr, ACC_DTYPE: tl.constexpr, DOT_PRECISION: tl.constexpr, INDEX_64: tl.constexpr,
    WIDEN_BF16: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr,
):  # fmt: skip
    pid = tl.program_id(0)
    weight_program = pid
    if GRAD_INPUT:
        tiles_grad_input = tl.cdiv(rows, BLOCK_M) * tl.cdiv(in_features, BLOCK_N)
        weight_program = pid - tiles_grad_input
        if pid < tiles_grad_input:
            # (rows, out) @ (out, in): K is out_features.
            _matmul_tile(
                pid,
                a=(grad_ptr, stride_grad_row, stride_grad_out),
                b=(weight_ptr, stride_weight_out, stride_weight_in),
                c=(grad_input_ptr, stride_grad_input_row, stride_grad_input_in),
                sizes=(rows, in_features),
                k_range=(0, out_features),
                batches=(0, 1, None, None, None),
                bias=(None, 0),
                row_sum=(None, 0),
                a_mask=(relu_out_ptr, stride_relu_row, stride_relu_out),
                BATCH_RANK=0, PRODUCT=True, ROW_SUM=False, HAS_BIAS=False, ACTIVATION=None, MASK_A=RELU_MASK,
                ACC_DTYPE=ACC_DTYPE, DOT_PRECISION=DOT_PRECISION, INDEX_64=INDEX_64, WIDEN_BF16=WIDEN_BF16,
                BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, BLOCK_K=BLOCK_K, GROUP_M=GROUP_M,
            )  # fmt: skip
    if weight_program >= 0:
        # (out, rows) @ (rows, in): K is rows; the first tile column also sums grad' over rows.
        weight_columns = in_features if GRAD_WEIGHT else 1
        split = weight_program % SPLIT_K
        weight_tile = weight_program // SPLIT_K
        if SPLIT_K > 1:  # this split's slice of the partial sums
            if GRAD_WEIGHT:
                grad_weight_ptr += split.to(tl.int64) * stride_grad_weight_split
            if GRAD_BIAS:
                grad_bias_ptr += split.to(tl.int64) * stride_grad_bias_split
        _matmul_tile(
            weight_tile,
            a=(grad_ptr, stride_grad_out, stride_grad_row),
            b=(x_ptr, stride_x_row, stride_x_in),
            c=(grad_weight_ptr, stride_grad_weight_out, stride_grad_weight_in),
            sizes=(out_features, weight_columns),
            k_range=_split_k_range(split, rows, SPLIT_K, BLOCK_K),
            batches=(0, 1, None, None, None),
            bias=(None, 0),
            row_sum=(grad_bias_ptr, stride_grad_bias),
            a_mask=(relu_out_ptr, stride_relu_out, stride_relu_row),
            BATCH_RANK=0, PRODUCT=GRAD_WEIGHT, ROW_SUM=GRAD_BIAS, HAS_BIAS=False, ACTIVATION=None, MASK_A=RELU_MASK,
            ACC_DTYPE=ACC_DTYPE, DOT_PRECISION=DOT_PRECISION, INDEX_64=INDEX_64, WIDEN_BF16=WIDEN_BF16,
            BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, BLOCK_K=BLOCK_K, GROUP_M=GROUP_M,
        )  # fmt: skip


# Split-K policy (GPU only). A product whose C tiles (counted at 128x128, the largest fp32
# tile) do not fill the GPU's SMs shares each tile's K among SPLIT_K programs, each summing
# at least _MIN_K_PER_SPLIT of K (below that the partials' extra write and read outweigh the
# product), at most _MAX_SPLITS of them. The interpreter runs programs one after another, so
# there a split only adds a launch: it never splits unless a caller asks (tests do).
_NOMINAL_TILE = 128
_MIN_K_PER_SPLIT = 256
_MAX_SPLITS = 32
# More tiles than any GPU has SMs: no need to ask the device.
_NOMINAL_FULL_GPU = 1024


@functools.cache
def _sm_count(device: torch.device) -> int:
    return torch.cuda.get_device_properties(device).multi_processor_count


def _split_k(tiles_m: int, tiles_n: int, batch: int, K: int, device: torch.device) -> int:
    """Programs per C tile for a product of ``batch`` x (tiles_m x tiles_n nominal tiles) over K."""
    if runtime.is_interpreter():
        return 1
    tiles = batch * tiles_m * tiles_n
    if tiles >= _NOMINAL_FULL_GPU:
        return 1
    sms = _sm_count(device)
    if tiles >= sms:
        return 1
    return max(1, min(cdiv(sms, tiles), K // _MIN_K_PER_SPLIT, _MAX_SPLITS))


def _nominal_tiles(size: int) -> int:
    return cdiv(size, _NOMINAL_TILE)


def _matmul_call(
    a: torch.Tensor,
    b: torch.Tensor,
    c: torch.Tensor | None,
    *,
    bias: torch.Tensor | None,
    row_sum: torch.Tensor | None,
    activation: str | None,
    allow_tf32: bool,
    sum_batch: bool,
    split_k: int | None,
) -> tuple | None:
    """What ``_launch_matmul_kernel`` launches: (grid, the arguments after the five pointers, the
    constexpr options, split_k, C's target, the row sums' target); None when there is nothing to do.
    Everything but the two targets of a split-K launch depends on the layouts alone."""
    M, K = a.shape[-2:]
    N = b.shape[-1]
    product = c is not None and c.numel() > 0
    if not product:
        if row_sum is None or row_sum.numel() == 0:
            return None
        N = 1  # one column of tiles: the programs that own the row sums
    batch_shape, (a_batch_strides, b_batch_strides) = coalesce(a.shape[:-2], [a.stride()[:-2], b.stride()[:-2]])
    batch_count = 1
    for size in a.shape[:-2]:
        batch_count *= size
    batch_programs = 1 if sum_batch else batch_count
    if split_k is None:
        split_k = _split_k(_nominal_tiles(M), _nominal_tiles(N), batch_programs, K, a.device)
    split_k = max(1, min(split_k, K))
    target, row_target = (c if product else None), row_sum
    if split_k > 1:
        partial_dtype = torch.float64 if a.dtype == torch.float64 else torch.float32
        target = None if not product else torch.empty((split_k, *c.shape), dtype=partial_dtype, device=a.device)
        if row_sum is not None:
            row_target = torch.empty((split_k, M), dtype=partial_dtype, device=a.device)

    if product:
        stride_c_batch = 0 if sum_batch else M * N
        stride_cm, stride_cn = target.stride()[-2:]
    else:
        stride_c_batch, stride_cm, stride_cn = 0, 0, 0
    tiles_per_batch = lambda meta: cdiv(M, meta["BLOCK_M"]) * cdiv(N, meta["BLOCK_N"])
    # One program per (batch index, C tile) (batch slowest; with sum_batch one per C tile, each
    # looping over the summed batch), times split_k along axis 1.
    grid = lambda meta: (batch_programs * tiles_per_batch(meta), split_k)

    arguments = (
        M,
        N,
        K,
        tuple(batch_shape),
        batch_count,
        tuple(a_batch_strides),
        a.stride(-2),
        a.stride(-1),
        tuple(b_batch_strides),
        b.stride(-2),
        b.stride(-1),
        stride_c_batch,
        stride_cm,
        stride_cn,
        target.stride(0) if split_k > 1 and product else 0,
        bias.stride(0) if bias is not None else 0,
        row_target.stride(-1) if row_target is not None else 0,
        row_target.stride(0) if split_k > 1 and row_target is not None else 0,
    )
    options = dict(
        BATCH_RANK=len(batch_shape),
        SUM_BATCH=sum_batch,
        PRODUCT=product,
        ROW_SUM=row_sum is not None,
        HAS_BIAS=bias is not None and split_k == 1,
        ACTIVATION=activation if split_k == 1 else None,
        SPLIT_K=split_k,
        ACC_DTYPE=compute_dtype(a.dtype),
        DOT_PRECISION="tf32" if (a.dtype == torch.float32 and allow_tf32) else "ieee",
        INDEX_64=needs_int64_indexing(a, b, target, bias, row_target),
        WIDEN_BF16=runtime.is_interpreter() and a.dtype == torch.bfloat16,
    )
    return grid, arguments, options, split_k, target, row_target


def _launch_matmul_kernel(
    a: torch.Tensor,
    b: torch.Tensor,
    c: torch.Tensor | None,
    *,
    bias: torch.Tensor | None = None,
    row_sum: torch.Tensor | None = None,
    activation: str | None = None,
    allow_tf32: bool = False,
    sum_batch: bool = False,
    split_k: int | None = None,
) -> None:
    """The one launch site: a (*batch, M, K), b (*batch, K, N) with equal (expanded) batch shapes.

    c is (*batch, M, N) contiguous, or (M, N) with ``sum_batch``, or None when
    only ``row_sum`` (M,) is wanted. Inputs are validated by the callers.
    ``split_k``: programs sharing each tile's K (None: the GPU policy, ``_split_k``);
    more than one adds the launch that sums the partials.
    """
    call = _matmul_call(
        a, b, c, bias=bias, row_sum=row_sum, activation=activation, allow_tf32=allow_tf32, sum_batch=sum_batch,
        split_k=split_k,
    )  # fmt: skip
    if call is None:
        return
    grid, arguments, options, split_k, target, row_target = call
    matmul_kernel[grid](a, b, target, bias, row_target, *arguments, **options)
    if split_k > 1:
        product = c is not None and c.numel() > 0
        _launch_split_k_sum(target, c if product else None, row_target, row_sum, bias=bias, activation=activation)


def _check_matmul_inputs(
    name: str, a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor | None, activation: str | None
) -> None:
    if a.dim() < 2 or b.dim() < 2:
        raise ValueError(
            f"{name}: both operands must have at least 2 dims (got {tuple(a.shape)} and {tuple(b.shape)}); "
            "unsqueeze 1-D vectors before calling"
        )
    check_same_device(name, a, b, bias)
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: "
            f"{_TORCH_DTYPE_NAMES.get(a.dtype, a.dtype)} != {_TORCH_DTYPE_NAMES.get(b.dtype, b.dtype)}"
        )
    check_floating(name, a)
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(a.shape)} and {_shape_str(b.shape)})"
        )
    if bias is not None:
        if bias.dim() != 1 or bias.shape[0] != b.shape[-1]:
            raise RuntimeError(
                f"{name}: bias must have shape ({b.shape[-1]},) to match the output's last dim, got {tuple(bias.shape)}"
            )
        if bias.dtype != a.dtype:
            raise RuntimeError(f"{name}: bias dtype {bias.dtype} differs from the operands' dtype {a.dtype}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"{name}: activation must be one of {ACTIVATIONS}, got {activation!r}")


def _shape_str(shape: torch.Size) -> str:
    return "x".join(str(size) for size in shape)


def launch_matmul(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    allow_tf32: bool = False,
    bias: torch.Tensor | None = None,
    activation: str | None = None,
    out_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """act(a @ b + bias) with torch.matmul's batch broadcasting, in one kernel launch.

    Args:
        a: (..., M, K), any strides (transposed, sliced or expanded views are read in place).
        b: (..., K, N), same dtype and device as ``a``; batch dims broadcast against a's.
        allow_tf32: fp32 inputs may use tf32 tensor cores (GPU only; the interpreter stays exact).
        bias: optional (N,), same dtype, added to every row before the activation.
        activation: None or ``"relu"``, applied in the epilogue.
        out_dtype: dtype of the result (default: the inputs' dtype); accumulation is
            fp32 (fp64 for fp64 inputs) either way.

    Returns:
        A new contiguous (*broadcast batch, M, N) tensor.

    1-D operands are the caller's job (unsqueeze, then squeeze the result).

    Example::

        >>> a, b = torch.randn(2, 3), torch.randn(3, 4)
        >>> launch_matmul(a, b, activation="relu").shape
        torch.Size([2, 4])
    """
    # Large 16-bit products on Hopper: the persistent TMA kernel (kernels/matmul_tma.py). Checked
    # before the launcher cache, whose key does not hold the operands' alignment.
    if tma_eligible(a, b, bias, activation, out_dtype):
        return launch_matmul_tma(a, b, bias=bias, activation=activation)
    key = (*_layout(a), *_layout(b), _layout(bias), activation, allow_tf32, out_dtype)
    launch = _MATMUL_LAUNCHERS.get(key)
    if launch:
        return launch(a, b, bias)
    _check_matmul_inputs("matmul", a, b, bias, activation)
    out_dtype = a.dtype if out_dtype is None else out_dtype
    if out_dtype not in FLOATING_DTYPES:
        raise TypeError(f"matmul: out_dtype must be one of {FLOATING_DTYPES}, got {out_dtype}")
    try:
        batch_shape = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except RuntimeError as error:
        raise RuntimeError(
            f"matmul: batch dims of {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast: {error}"
        ) from None
    M, K = a.shape[-2:]
    N = b.shape[-1]
    out = torch.empty((*batch_shape, M, N), dtype=out_dtype, device=a.device)
    a = _expand_batch(a, batch_shape)
    b = _expand_batch(b, batch_shape)
    _launch_matmul_kernel(a, b, out, bias=bias, activation=activation, allow_tf32=allow_tf32)
    if launch is None:
        launch = _matmul_launcher(a, b, out, bias=bias, activation=activation, allow_tf32=allow_tf32)
        remember(_MATMUL_LAUNCHERS, key, launch or False)
    return out


# launch_matmul's launchers, keyed by the operands' dtypes, layouts and devices and the options:
# the checks passed once for the key, and everything but the output's allocation is computed.
_MATMUL_LAUNCHERS: dict[tuple, Callable | bool] = {}


def _layout(t: torch.Tensor | None) -> tuple | None:
    return None if t is None else (t.dtype, t.shape, t.stride(), t.device)


def _matmul_launcher(
    a: torch.Tensor, b: torch.Tensor, out: torch.Tensor, *, bias, activation, allow_tf32: bool, out_shape=None
) -> Callable | None:
    """``launch_matmul`` as a function of (a', b', bias') laid out as a, b and bias (their batch-
    expanded views share the tensors' addresses, so the kernel takes a' and b' as they are); None
    for a launch that needs more than one kernel (split-K) or none (empty). ``out_shape`` shapes
    the (contiguous) result differently, with the same memory layout: linear's leading dims."""
    call = _matmul_call(
        a, b, out, bias=bias, row_sum=None, activation=activation, allow_tf32=allow_tf32, sum_batch=False,
        split_k=None,
    )  # fmt: skip
    if call is None or call[3] != 1 or out.numel() == 0:
        return None
    grid, arguments, options = call[:3]
    shape, strides = out.shape, out.stride()
    if out_shape is not None:
        shape, strides = out_shape, out.view(out_shape).stride()
    new_output = allocator(shape, strides, out.dtype, out.device)

    def launch(a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        out = new_output()
        matmul_kernel[grid](a, b, out, bias, None, *arguments, **options)
        return out

    return launch


# Integer products: tensor cores only multiply 8-bit integers (into int32), while torch's integer
# matmul takes every integer dtype and wraps around like its elementwise ops. This kernel forms
# each BLOCK_M x BLOCK_N tile from broadcast products of BLOCK_M x BLOCK_K and BLOCK_K x BLOCK_N
# tiles summed over K in int64, and stores the low bits in the operands' dtype (the same wrapped
# result as accumulating in that dtype). Grid: (M tiles, N tiles, batch); each operand read once
# per tile pair, in place (any strides, stride 0 on broadcast batch dims).
@triton.jit
def integer_matmul_kernel(
    a_ptr, b_ptr, c_ptr,
    M, N, K, batch_shape, a_batch_strides, b_batch_strides,
    stride_am, stride_ak, stride_bk, stride_bn, stride_cb, stride_cm, stride_cn,
    BATCH_RANK: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
):  # fmt: skip
    batch = tl.program_id(2).to(tl.int64)
    offs_m = tl.program_id(0).to(tl.int64) * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.program_id(1).to(tl.int64) * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K).to(tl.int64)
    a_ptrs = a_ptr + offs_m[:, None] * stride_am + offs_k[None, :] * stride_ak
    b_ptrs = b_ptr + offs_k[:, None] * stride_bk + offs_n[None, :] * stride_bn
    if BATCH_RANK > 0:
        a_ptrs += strided_offset(batch, batch_shape, a_batch_strides, BATCH_RANK)
        b_ptrs += strided_offset(batch, batch_shape, b_batch_strides, BATCH_RANK)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.int64)
    for k in range(0, K, BLOCK_K):
        mask_k = offs_k < K - k
        a = tl.load(a_ptrs, mask=(offs_m[:, None] < M) & mask_k[None, :], other=0).to(tl.int64)
        b = tl.load(b_ptrs, mask=mask_k[:, None] & (offs_n[None, :] < N), other=0).to(tl.int64)
        acc += tl.sum(a[:, :, None] * b[None, :, :], axis=1)
        a_ptrs += BLOCK_K * stride_ak
        b_ptrs += BLOCK_K * stride_bk
    c_ptrs = c_ptr + batch * stride_cb + offs_m[:, None] * stride_cm + offs_n[None, :] * stride_cn
    tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=(offs_m[:, None] < M) & (offs_n[None, :] < N))


INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def launch_integer_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a @ b for integer a (..., M, K) and b (..., K, N) of one dtype, batch dims broadcast; the result
    has that dtype and wraps around on overflow, as torch's integer matmul.

    >>> launch_integer_matmul(torch.tensor([[1, 2], [3, 4]]), torch.tensor([[1], [1]])).tolist()
    [[3], [7]]
    """
    if a.dim() < 2 or b.dim() < 2:
        raise ValueError(f"matmul: both operands must have at least 2 dims (got {tuple(a.shape)} and {tuple(b.shape)})")
    check_same_device("matmul", a, b)
    if a.dtype != b.dtype or a.dtype not in INTEGER_DTYPES:
        raise TypeError(f"launch_integer_matmul: operands must share one integer dtype, got {a.dtype} and {b.dtype}")
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(a.shape)} and {_shape_str(b.shape)})"
        )
    batch_shape = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    M, K = a.shape[-2:]
    N = b.shape[-1]
    out = torch.empty((*batch_shape, M, N), dtype=a.dtype, device=a.device)
    if out.numel() == 0:
        return out
    batches = out.numel() // (M * N)
    # K == 0 needs no special case: the K loop runs no iteration and the tile stores zeros.
    a, b = _expand_batch(a, batch_shape), _expand_batch(b, batch_shape)
    rank = len(batch_shape)
    # On a GPU the BLOCK_M x BLOCK_K x BLOCK_N int64 product lives in registers: 16x8x16 keeps it at
    # 16 values a thread (the report: no spills, modest registers); the interpreter wants big blocks.
    block_m, block_n, block_k = (32, 32, 16) if runtime.is_interpreter() else (16, 16, 8)
    grid = (cdiv(M, block_m), cdiv(N, block_n), batches)
    integer_matmul_kernel[grid](
        a, b, out, M, N, K,
        tuple(batch_shape) or (1,), tuple(a.stride()[:rank]) or (0,), tuple(b.stride()[:rank]) or (0,),
        a.stride(-2), a.stride(-1), b.stride(-2), b.stride(-1), M * N, out.stride(-2), out.stride(-1),
        BATCH_RANK=rank, BLOCK_M=block_m, BLOCK_N=block_n, BLOCK_K=block_k,
    )  # fmt: skip
    return out


def _expand_batch(t: torch.Tensor, batch_shape: tuple[int, ...]) -> torch.Tensor:
    """A view of t with its batch dims broadcast to batch_shape (stride 0 where broadcast)."""
    shape = (*batch_shape, *t.shape[-2:])
    strides = broadcast_strides(t, shape)
    return t.as_strided(shape, strides)


def _rows_view(t: torch.Tensor) -> torch.Tensor | None:
    """t (..., F) as a (rows, F) view, or None when its leading dims cannot be merged without a copy."""
    if t.dim() == 2:
        return t
    try:
        return t.view(-1, t.shape[-1])
    except RuntimeError:
        return None


def _check_weight(name: str, x: torch.Tensor, weight: torch.Tensor) -> None:
    if weight.dim() != 2:
        raise ValueError(f"{name}: weight must be 2-D (out_features, in_features), got {tuple(weight.shape)}")
    if x.dim() < 1:
        raise ValueError(f"{name}: input must have at least 1 dim, got a scalar")


def launch_linear(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    activation: str | None = None,
    allow_tf32: bool = False,
) -> torch.Tensor:
    """act(x @ weight.T + bias) like torch.nn.functional.linear, fused in one kernel.

    Args:
        x: (..., in_features) or (in_features,).
        weight: (out_features, in_features), torch's layout; read transposed in place.
        bias: optional (out_features,).
        activation: None or ``"relu"``.
        allow_tf32: fp32 inputs may use tf32 on the GPU.

    Returns:
        A new (..., out_features) tensor.
    """
    key = _linear_key(x, weight, bias, activation, allow_tf32)
    launch = _LINEAR_LAUNCHERS.get(key)
    if launch:
        return launch(x, weight, bias)
    _check_weight("linear", x, weight)
    if x.dim() == 1:
        return launch_linear(x.unsqueeze(0), weight, bias, activation, allow_tf32).squeeze(0)
    rows = _rows_view(x)
    # Non-mergeable leading dims (a permuted x) go through the batched path,
    # with the weight broadcast over the batch by stride 0.
    a = x if rows is None else rows
    out = launch_matmul(a, weight.t(), allow_tf32=allow_tf32, bias=bias, activation=activation)
    output_shape = (*x.shape[:-1], weight.shape[0])
    if launch is None and rows is not None:
        remember(
            _LINEAR_LAUNCHERS, key, _linear_launcher(rows, weight, out, bias, activation, allow_tf32, output_shape)
        )
    return out if x.dim() == 2 else out.view(output_shape)


def _linear_key(x, weight, bias, activation, allow_tf32: bool) -> tuple:
    # (Written for speed: the layouts inline, not through _layout, as this runs for every linear.)
    return (
        x.dtype, x.shape, x.stride(), x.device, weight.dtype, weight.shape, weight.stride(), weight.device,
        None if bias is None else (bias.dtype, bias.shape, bias.stride(), bias.device), activation, allow_tf32,
    )  # fmt: skip


def linear_launcher(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    activation: str | None = None,
    allow_tf32: bool = False,
) -> Callable | None:
    """The launcher ``launch_linear`` keeps for operands laid out as these (``launcher(x, weight,
    bias)`` does what ``launch_linear`` would), or None while it has none (call ``launch_linear``).

    An op that holds its launcher can hand it to ``launch_linear_backward`` as ``forward``: the
    launcher stands for the forward operands' layouts, so the backward need not read them again.
    """
    return _LINEAR_LAUNCHERS.get(_linear_key(x, weight, bias, activation, allow_tf32)) or None


# launch_linear's launchers for inputs whose leading dims merge into rows, keyed by the operands'
# layouts and the options: launch_matmul's launcher for (rows, weight.T), called with x and the
# weight themselves (a view shares its tensor's address, and the launcher holds the strides), so
# a repeated call makes no view and reads each operand's layout once.
_LINEAR_LAUNCHERS: dict[tuple, Callable | bool] = {}


def _linear_launcher(rows, weight, out, bias, activation, allow_tf32: bool, output_shape: tuple) -> Callable | bool:
    """The launcher of act(rows @ weight.T + bias) allocating its result as ``output_shape``; False
    when there is none (split-K, empty) or when operands of these layouts may take the TMA kernel,
    whose choice also depends on the operands' addresses."""
    weight_t = weight.t()
    if not tma_ruled_out(rows, weight_t):
        return False
    launch = _matmul_launcher(
        rows, weight_t, out, bias=bias, activation=activation, allow_tf32=allow_tf32, out_shape=output_shape
    )
    return launch or False


def launch_linear_backward(
    grad_out: torch.Tensor,
    x: torch.Tensor,
    weight: torch.Tensor,
    *,
    needs_input_grad: tuple[bool, bool, bool] = (True, True, True),
    relu_out: torch.Tensor | None = None,
    allow_tf32: bool = False,
    split_k: int | None = None,
    forward: Callable | None = None,
) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
    """Gradients of y = act(x @ weight.T + bias): (grad_x, grad_weight, grad_bias), in one launch.

    grad_x = g @ weight; grad_weight = g^T @ x over all leading dims; grad_bias
    = g summed over all leading dims; g is grad_out, or, for a ReLU epilogue,
    grad_out where the forward's output ``relu_out`` is > 0 (masked as it is
    loaded, never written). When x and grad_out flatten to rows (the usual
    case) all three come from one launch of ``linear_backward_kernel``; grad_bias
    is summed by the grad_weight tiles from the grad tiles they load anyway.
    Leading dims that do not flatten (a permuted x) take two launches: a batched
    product for grad_x and a batch-summing one for grad_weight and grad_bias.
    Entries whose ``needs_input_grad`` flag is False are None.

    Args:
        grad_out: (..., out_features), the gradient of y.
        x: (..., in_features), the forward input.
        weight: (out_features, in_features).
        relu_out: y itself when the forward applied ReLU (same shape as grad_out), else None.
        split_k: programs sharing each weight-gradient tile's sum over the rows (None: the GPU
            policy, which splits when the weight tiles alone leave SMs idle; the interpreter never
            does). More than one writes partial sums and adds one launch that adds them up in a
            fixed order (deterministic).
        forward: the ``linear_launcher`` that computed the forward from this very ``x`` and
            ``weight`` (and made ``relu_out``), or None. It stands for their layouts, so the
            launcher of the backward is found from it and ``grad_out``'s layout alone.
    """
    launcher_key = paired_key = None
    if split_k is None and forward is not None:
        paired_key = (
            forward, grad_out.dtype, grad_out.shape, grad_out.stride(), grad_out.device, relu_out is None,
            needs_input_grad, allow_tf32,
        )  # fmt: skip
        launch = _PAIRED_BACKWARD_LAUNCHERS.get(paired_key)
        if launch is not None:
            return launch(grad_out, x, weight, relu_out)
    if split_k is None:
        # (Written for speed: the layouts inline, not through _layout, as this runs for every linear.)
        launcher_key = (
            grad_out.dtype, grad_out.shape, grad_out.stride(), grad_out.device, x.dtype, x.shape, x.stride(),
            x.device, weight.dtype, weight.shape, weight.stride(), weight.device,
            None if relu_out is None else (relu_out.dtype, relu_out.shape, relu_out.stride(), relu_out.device),
            needs_input_grad, allow_tf32,
        )  # fmt: skip
        launch = _LINEAR_BACKWARD_LAUNCHERS.get(launcher_key)
        if launch is not None:
            if paired_key is not None:
                remember(_PAIRED_BACKWARD_LAUNCHERS, paired_key, launch)
            return launch(grad_out, x, weight, relu_out)
    _check_weight("linear_backward", x, weight)
    out_features, in_features = weight.shape
    if grad_out.shape != (*x.shape[:-1], out_features):
        raise RuntimeError(
            f"linear_backward: grad_out has shape {tuple(grad_out.shape)}, expected "
            f"{(*x.shape[:-1], out_features)} for input {tuple(x.shape)} and weight {tuple(weight.shape)}"
        )
    check_same_device("linear_backward", grad_out, x, weight, relu_out)
    if not grad_out.dtype == x.dtype == weight.dtype:
        raise RuntimeError(
            f"linear_backward: grad_out, input and weight must share one dtype, "
            f"got {grad_out.dtype}, {x.dtype} and {weight.dtype}"
        )
    if relu_out is not None and (relu_out.shape != grad_out.shape or relu_out.dtype != grad_out.dtype):
        raise RuntimeError(
            f"linear_backward: relu_out {tuple(relu_out.shape)} {relu_out.dtype} must match "
            f"grad_out {tuple(grad_out.shape)} {grad_out.dtype}"
        )
    check_floating("linear_backward", x)
    input_shape = x.shape
    if x.dim() == 1:
        grad_out, x = grad_out.unsqueeze(0), x.unsqueeze(0)
        relu_out = None if relu_out is None else relu_out.unsqueeze(0)
    need_x, need_weight, need_bias = needs_input_grad
    device, dtype = weight.device, weight.dtype
    grad_x = torch.empty(input_shape, dtype=dtype, device=device) if need_x else None
    grad_weight = torch.empty((out_features, in_features), dtype=dtype, device=device) if need_weight else None
    grad_bias = torch.empty((out_features,), dtype=dtype, device=device) if need_bias else None

    grad_rows, x_rows = _rows_view(grad_out), _rows_view(x)
    relu_rows = None if relu_out is None else _rows_view(relu_out)
    if grad_rows is None or x_rows is None or (relu_out is not None and relu_rows is None):
        if relu_out is not None:
            raise ValueError(
                f"linear_backward: relu_out needs leading dims that flatten to rows; got grad_out "
                f"{tuple(grad_out.shape)} strides {grad_out.stride()}, input strides {x.stride()}, "
                f"relu_out strides {relu_out.stride()}: apply the ReLU mask first"
            )
        _linear_backward_batched(grad_out, x, weight, grad_x, grad_weight, grad_bias, allow_tf32)
        return grad_x, grad_weight, grad_bias

    rows = x_rows.shape[0]
    grad_x_rows = None if grad_x is None else grad_x.view(rows, in_features)
    wants_x = need_x and rows * in_features > 0
    # An empty row set still owes grad_weight = 0 and grad_bias = 0: a K = 0 product writes them.
    wants_weight = need_weight and out_features * in_features > 0
    wants_bias = need_bias and out_features > 0
    if not (wants_x or wants_weight or wants_bias):
        return grad_x, grad_weight, grad_bias

    weight_columns = in_features if wants_weight else 1
    wants_weight_tiles = wants_weight or wants_bias
    if split_k is None:
        split_k = _split_k(_nominal_tiles(out_features), _nominal_tiles(weight_columns), 1, rows, device)
    split_k = max(1, min(split_k, rows)) if wants_weight_tiles else 1
    # With a split, the weight-gradient programs write (split_k, out, in) / (split_k, out) partials.
    weight_target, bias_target = grad_weight, grad_bias
    if split_k > 1:
        partial_dtype = torch.float64 if dtype == torch.float64 else torch.float32
        if wants_weight:
            weight_target = torch.empty((split_k, out_features, in_features), dtype=partial_dtype, device=device)
        if wants_bias:
            bias_target = torch.empty((split_k, out_features), dtype=partial_dtype, device=device)

    def grid(meta):
        tiles_x = cdiv(rows, meta["BLOCK_M"]) * cdiv(in_features, meta["BLOCK_N"]) if wants_x else 0
        tiles_weight = cdiv(out_features, meta["BLOCK_M"]) * cdiv(weight_columns, meta["BLOCK_N"])
        return (tiles_x + (tiles_weight * split_k if wants_weight_tiles else 0),)

    mask = relu_rows if relu_rows is not None else grad_rows  # never read without RELU_MASK
    weight_strides = weight_target.stride()[-2:] if wants_weight else (0, 0)
    arguments = (
        rows, in_features, out_features,
        *grad_rows.stride(), *x_rows.stride(), *weight.stride(), *mask.stride(),
        *(grad_x_rows.stride() if grad_x_rows is not None else (0, 0)),
        *weight_strides, weight_target.stride(0) if wants_weight and split_k > 1 else 0,
        bias_target.stride(-1) if wants_bias else 0, bias_target.stride(0) if wants_bias and split_k > 1 else 0,
    )  # fmt: skip
    options = dict(
        GRAD_INPUT=wants_x, GRAD_WEIGHT=wants_weight, GRAD_BIAS=wants_bias, RELU_MASK=relu_out is not None,
        SPLIT_K=split_k, ACC_DTYPE=compute_dtype(dtype),
        DOT_PRECISION="tf32" if (dtype == torch.float32 and allow_tf32) else "ieee",
        INDEX_64=needs_int64_indexing(grad_rows, x_rows, weight, mask, grad_x_rows, weight_target, bias_target),
        WIDEN_BF16=runtime.is_interpreter() and dtype == torch.bfloat16,
    )  # fmt: skip
    linear_backward_kernel[grid](
        grad_rows, x_rows, weight, mask, grad_x_rows, weight_target if wants_weight else None,
        bias_target if wants_bias else None, *arguments, **options,
    )  # fmt: skip
    if (
        launcher_key is not None
        and split_k == 1
        and x.dim() == 2
        and (wants_x, wants_weight, wants_bias) == (need_x, need_weight, need_bias)
    ):
        launch = _linear_backward_launcher(grid, arguments, options, (grad_x, grad_weight, grad_bias))
        remember(_LINEAR_BACKWARD_LAUNCHERS, launcher_key, launch)
        if paired_key is not None:
            remember(_PAIRED_BACKWARD_LAUNCHERS, paired_key, launch)
    if split_k > 1:
        _launch_split_k_sum(
            weight_target if wants_weight else None, grad_weight if wants_weight else None,
            bias_target if wants_bias else None, grad_bias if wants_bias else None,
        )  # fmt: skip
    return grad_x, grad_weight, grad_bias


# launch_linear_backward's launchers for 2-D operands and one launch, keyed by the operands'
# layouts, the gradients wanted and tf32: the checks passed once, the outputs are allocated per call.
_LINEAR_BACKWARD_LAUNCHERS: dict[tuple, Callable] = {}
# The same launchers keyed by the forward's launcher (standing for the layouts of x, weight and
# relu_out), grad_out's layout and the options: a training step's backward reads one layout.
_PAIRED_BACKWARD_LAUNCHERS: dict[tuple, Callable] = {}


def _linear_backward_launcher(grid, arguments: tuple, options: dict, outputs: tuple) -> Callable:
    """A function (grad_out, x, weight, relu_out) -> (grad_x, grad_weight, grad_bias) repeating one
    launch of linear_backward_kernel on operands laid out as that launch's (2-D, so the kernel takes
    them as they are), with new outputs laid out as ``outputs``."""
    new_x, new_weight, new_bias = [
        _none if t is None else allocator(t.shape, t.stride(), t.dtype, t.device) for t in outputs
    ]

    def launch(grad_out, x, weight, relu_out):
        grad_x, grad_weight, grad_bias = new_x(), new_weight(), new_bias()
        mask = relu_out if relu_out is not None else grad_out
        linear_backward_kernel[grid](grad_out, x, weight, mask, grad_x, grad_weight, grad_bias, *arguments, **options)
        return grad_x, grad_weight, grad_bias

    return launch


def _none() -> None:
    return None


def _linear_backward_batched(grad_out, x, weight, grad_x, grad_weight, grad_bias, allow_tf32: bool) -> None:
    """launch_linear_backward for leading dims that do not flatten: the last one is K of the weight
    gradient and the others are summed over as a batch inside the kernel."""
    if grad_x is not None and grad_x.numel() > 0:
        _launch_matmul_kernel(grad_out, _expand_batch(weight, grad_out.shape[:-2]), grad_x, allow_tf32=allow_tf32)
    if grad_weight is not None or grad_bias is not None:
        a, b = grad_out.transpose(-1, -2), x
        _launch_matmul_kernel(a, b, grad_weight, row_sum=grad_bias, allow_tf32=allow_tf32, sum_batch=True)
