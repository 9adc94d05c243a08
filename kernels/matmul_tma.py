"""A persistent fp16/bf16 matmul for Hopper that moves its tiles with TMA (tensor descriptors).

C = act(A @ B + bias) for 2-D fp16/bf16 A (M, K) and B (K, N), fp32 accumulation,
C (M, N) contiguous in the operands' dtype. ``kernels/matmul.py`` sends a product
here (one branch in ``launch_matmul``) when ``tma_eligible`` says so: a real
sm_90 GPU, 16-bit operands laid out as TMA requires, and a product large enough
for the schedule to matter. Tests call ``launch_matmul_tma`` directly: in the
interpreter the dispatch never takes this path.

Tensor descriptors
------------------
Each operand is described to the hardware's tensor memory accelerator (TMA)
once per program: base address, shape, row stride, tile shape. A tile load is
then one instruction (``cp.async.bulk.tensor``) that copies the whole tile
into shared memory, swizzled for ``wgmma``, with rows and columns past the
operand's edge filled with zeros; a tile store writes only the part inside C.
No thread computes an address or a mask, which frees registers and issue
slots for the MMAs. The descriptors are made on the device
(``tl.make_tensor_descriptor``), not on the host
(``triton.tools.tensor_descriptor.TensorDescriptor``): both work on triton 3.6
and 3.9 and in the interpreter, but a host descriptor carries its tile shape,
which an autotuner must rewrite per config in a pre-hook, and it is a new kind
of kernel argument for the ahead-of-time kernel report; a device descriptor
takes plain pointers and strides. The price is 128 bytes of global scratch per
program for the descriptors (``triton.set_allocator``, set by the launcher).

TMA's rules: the base address 16-byte aligned, every stride but the last a
multiple of 16 bytes, the last stride 1. An operand stored transposed (a
linear layer's weight read as ``weight.t()``: strides (1, K)) qualifies
through its transpose: the descriptor covers the stored (N, K) matrix, a tile
is loaded as BLOCK_N x BLOCK_K and transposed on chip (``wgmma`` reads either
order from shared memory).
"""

from __future__ import annotations

import functools

import torch
import triton
import triton.language as tl

from tritongrad import runtime
from tritongrad.kernels.autotune import bucketed_autotune
from tritongrad.kernels.common import check_same_device
from tritongrad.runtime import cdiv

__all__ = ["launch_matmul_tma", "tma_eligible", "tma_layout", "tma_ruled_out", "TMA_DTYPES", "TMA_MIN_WORK"]

TMA_DTYPES = (torch.float16, torch.bfloat16)
ACTIVATIONS = (None, "relu")

# The dispatch threshold, in multiply-adds (M * N * K): 2**30 is a 1024^3 product, ~2 GFLOP, ~3 us
# of tensor-core time on an H100. Below it the product's time is mostly launch latency and the
# pipeline's prologue, and making three tensor descriptors per program (global writes and a
# fence) is a cost of the same order as what TMA saves: the one-tile-per-program kernel stays.
# At and above it the descriptors are amortised over at least ~3 us of MMAs; what persistence
# adds grows with the tile count (4096^2 is 512 tiles of 128x256 for 132 SMs, ~4 per program).
# A GPU session should move the threshold to where the two kernels' measured times cross
# (benchmarks/bench_matmul.py's "tma" case: its "tritongrad tma" and "tritongrad tiled" rows).
TMA_MIN_WORK = 1 << 30
# This kernel has no split-K: a product whose C has fewer 128x128 tiles than the GPU has SMs (a
# skinny one with a long K, 256 x 16384 x 256 say, is 2**30 multiply-adds in 4 tiles) keeps the
# tiled kernel, which shares each tile's K among several programs exactly then (matmul._split_k).
_NOMINAL_TILE = 128

# TMA's alignment unit: the base address and every stride but the last, in bytes.
_TMA_ALIGNMENT = 16
# Descriptor shapes and tile coordinates are int32.
_MAX_DIM = 2**31 - 1


def _config(block_m: int, block_n: int, block_k: int, num_warps: int, num_stages: int, group_m: int = 8):
    meta = {"BLOCK_M": block_m, "BLOCK_N": block_n, "BLOCK_K": block_k, "GROUP_M": group_m}
    return triton.Config(meta, num_warps=num_warps, num_stages=num_stages)


# Hopper tiles: two warpgroups (8 warps) share a 128-row tile, each issuing 64-row wgmma
# instructions; 64-wide K steps are 128 bytes of fp16, one full TMA swizzle row. The 128x256
# tile has the highest FLOPs per byte of shared memory read and suits large products; 128x128
# takes one more stage and leaves twice the tiles for products of a few waves.
_GPU_CONFIGS = [
    _config(128, 256, 64, num_warps=8, num_stages=3),
    _config(128, 128, 64, num_warps=8, num_stages=4),
]
# The interpreter: small tiles and a small GROUP_M, so that the tests' small products still span
# several tiles, several groups and a partial last group and K step.
_INTERPRETER_CONFIGS = [_config(32, 32, 16, num_warps=4, num_stages=1, group_m=2)]
# Programs of the persistent grid in the interpreter (no SM count there): fewer than the tests'
# tiles, and odd, so each program walks several tiles and the last round is partial.
_INTERPRETER_PROGRAMS = 3


def _shared_bytes(config: triton.Config, element_size: int) -> int:
    """Shared memory of a config: ``num_stages`` A and B tiles in flight, and the C tile staged
    for its TMA store."""
    block_m, block_n, block_k = (config.kwargs[name] for name in ("BLOCK_M", "BLOCK_N", "BLOCK_K"))
    return (config.num_stages * (block_m + block_n) * block_k + block_m * block_n) * element_size


def _prune_by_shared_memory(configs, named_args, **kwargs):
    """The configs whose tiles fit in the device's shared memory (the first one if none does)."""
    element_size = named_args["a_ptr"].element_size()
    driver = triton.runtime.driver.active
    limit = driver.utils.get_device_properties(driver.get_current_device())["max_shared_mem"]
    return [c for c in configs if _shared_bytes(c, element_size) <= limit] or configs[:1]


@triton.jit
def _grouped_tile(tile_id, num_pid_m, num_pid_n, GROUP_M: tl.constexpr):
    """(row, column) of C tile ``tile_id`` in grouped order: GROUP_M tile rows per group, ids
    running down a group's column before moving right, so that the tiles in flight at one time
    share a few row panels of A and column panels of B in L2."""
    tiles_per_group = GROUP_M * num_pid_n
    group_first_m = (tile_id // tiles_per_group) * GROUP_M
    group_rows = tl.minimum(num_pid_m - group_first_m, GROUP_M)
    pid_m = group_first_m + (tile_id % tiles_per_group) % group_rows
    pid_n = (tile_id % tiles_per_group) // group_rows
    return pid_m, pid_n


# C = act(A @ B + bias), persistent: the grid has one program per SM (fewer when C has fewer
# tiles), and program p computes C tiles p, p + programs, p + 2 * programs, ... in the grouped
# order of _grouped_tile. Per tile it walks K in BLOCK_K steps: TMA copies the next A and B tiles
# into shared memory num_stages - 1 steps ahead while wgmma multiplies the current ones into an
# fp32 accumulator in registers; the epilogue adds the bias, applies the activation, casts and
# hands the C tile to a TMA store.
#
# Memory traffic: like the one-tile-per-program kernel in kernels/matmul.py, each element of A is
# read ceil(N / BLOCK_N) times and each of B ceil(M / BLOCK_M) times, mostly from L2 thanks to
# the grouped order, and C is written once. What persistence changes is the schedule: a grid of
# one program per tile runs in waves, and every program pays its start, its descriptors and the
# pipeline's prologue (num_stages - 1 K steps of loads before the first MMA) before its tile
# computes anything. A resident program pays the start and the descriptors once, and with the
# tile loop flattened into the K loop (``flatten``) the loads of its next tile are issued while
# the current tile's epilogue runs and its TMA store drains. (The last round of tiles is as
# partial as the last wave would be: persistence does not remove wave quantization.)
@bucketed_autotune(
    configs=_INTERPRETER_CONFIGS if runtime.is_interpreter() else _GPU_CONFIGS,
    key=["M", "N", "K", "A_TRANSPOSED", "B_TRANSPOSED", "HAS_BIAS", "ACTIVATION"],
    bucketed=["M", "N", "K"],
    prune_configs_by={"early_config_prune": _prune_by_shared_memory},
)
@triton.jit
def matmul_tma_kernel(
    # Pointers: A (M, K), or its transpose (K, M) when A_TRANSPOSED; B (K, N), or its transpose
    # (N, K) when B_TRANSPOSED; C (M, N); bias (N,) (None without HAS_BIAS). A, B and C are
    # row-major in the stored order, 16-byte aligned.
    a_ptr,
    b_ptr,
    c_ptr,
    bias_ptr,
    # Sizes.
    M,
    N,
    K,
    # Row strides of the stored A, B and C, in elements (multiples of 16 bytes); the bias's stride.
    stride_a,
    stride_b,
    stride_c,
    stride_bias,
    # Meta-parameters.
    A_TRANSPOSED: tl.constexpr,
    B_TRANSPOSED: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    ACTIVATION: tl.constexpr,  # None or "relu"
    WIDEN_BF16: tl.constexpr,  # interpreter only: its bf16 dot is wrong, so widen tiles to fp32 first
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    GROUP_M: tl.constexpr,
):
    if A_TRANSPOSED:
        a_desc = tl.make_tensor_descriptor(a_ptr, shape=[K, M], strides=[stride_a, 1], block_shape=[BLOCK_K, BLOCK_M])
    else:
        a_desc = tl.make_tensor_descriptor(a_ptr, shape=[M, K], strides=[stride_a, 1], block_shape=[BLOCK_M, BLOCK_K])
    if B_TRANSPOSED:
        b_desc = tl.make_tensor_descriptor(b_ptr, shape=[N, K], strides=[stride_b, 1], block_shape=[BLOCK_N, BLOCK_K])
    else:
        b_desc = tl.make_tensor_descriptor(b_ptr, shape=[K, N], strides=[stride_b, 1], block_shape=[BLOCK_K, BLOCK_N])
    c_desc = tl.make_tensor_descriptor(c_ptr, shape=[M, N], strides=[stride_c, 1], block_shape=[BLOCK_M, BLOCK_N])

    num_pid_m = tl.cdiv(M, BLOCK_M)
    num_pid_n = tl.cdiv(N, BLOCK_N)
    k_steps = tl.cdiv(K, BLOCK_K)
    # Grid: programs <= SMs; each walks the C tiles from its id in steps of the program count.
    for tile_id in tl.range(tl.program_id(0), num_pid_m * num_pid_n, tl.num_programs(0), flatten=True):
        pid_m, pid_n = _grouped_tile(tile_id, num_pid_m, num_pid_n, GROUP_M)
        row = pid_m * BLOCK_M
        column = pid_n * BLOCK_N
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for step in range(k_steps):
            k = step * BLOCK_K
            # TMA fills rows and columns past the operands' edges with zeros: no masks.
            if A_TRANSPOSED:
                a_tile = a_desc.load([k, row]).T
            else:
                a_tile = a_desc.load([row, k])
            if B_TRANSPOSED:
                b_tile = b_desc.load([column, k]).T
            else:
                b_tile = b_desc.load([k, column])
            if WIDEN_BF16:
                a_tile = a_tile.to(tl.float32)
                b_tile = b_tile.to(tl.float32)
            acc = tl.dot(a_tile, b_tile, acc)
        if HAS_BIAS:
            offs_n = column + tl.arange(0, BLOCK_N)
            bias = tl.load(bias_ptr + offs_n * stride_bias, mask=offs_n < N, other=0.0)
            acc += bias.to(tl.float32)[None, :]
        if ACTIVATION == "relu":
            # where, not maximum: a NaN stays NaN, as in torch.relu.
            acc = tl.where(acc < 0, 0.0, acc)
        # The store writes only the part of the tile inside C.
        c_desc.store([row, column], acc.to(c_desc.dtype))


def tma_layout(t: torch.Tensor) -> str | None:
    """How a 2-D tensor can be described to TMA: ``"rows"`` (row-major: last stride 1, row stride
    a multiple of 16 bytes), ``"transposed"`` (its transpose is such: first stride 1), or None
    (base address not 16-byte aligned, or neither layout)."""
    if t.dim() != 2 or t.data_ptr() % _TMA_ALIGNMENT:
        return None
    size = t.element_size()
    rows, columns = t.shape
    stride_row, stride_column = t.stride()
    # A dim of size 1 has an arbitrary stride that nothing ever steps along: take the other's view.
    if (stride_column == 1 or columns == 1) and stride_row * size % _TMA_ALIGNMENT == 0 and stride_row >= columns:
        return "rows"
    if (stride_row == 1 or rows == 1) and stride_column * size % _TMA_ALIGNMENT == 0 and stride_column >= rows:
        return "transposed"
    return None


@functools.cache
def _capability(device: torch.device) -> tuple[int, int]:
    properties = torch.cuda.get_device_properties(device)
    return properties.major, properties.minor


@functools.cache
def _sm_count(device: torch.device) -> int:
    return torch.cuda.get_device_properties(device).multi_processor_count


def tma_eligible(
    a: torch.Tensor,
    b: torch.Tensor,
    bias: torch.Tensor | None = None,
    activation: str | None = None,
    out_dtype: torch.dtype | None = None,
) -> bool:
    """Whether ``launch_matmul`` should send act(a @ b + bias) here: a real GPU of capability 9.x
    (Hopper), 2-D fp16/bf16 operands of one dtype with a TMA layout each (``tma_layout``), a result
    in that dtype whose rows are 16-byte aligned, a matching bias, at least TMA_MIN_WORK
    multiply-adds and enough C tiles to fill the SMs. Cheap when it fails: the interpreter fails on
    the first test."""
    if a.device.type != "cuda" or runtime.is_interpreter():
        return False
    if a.dim() != 2 or b.dim() != 2 or a.dtype not in TMA_DTYPES or b.dtype != a.dtype:
        return False
    (M, K), (K_b, N) = a.shape, b.shape
    if K != K_b or M * N * K < TMA_MIN_WORK or N * a.element_size() % _TMA_ALIGNMENT or max(M, N, K) > _MAX_DIM:
        return False
    if out_dtype not in (None, a.dtype) or activation not in ACTIVATIONS or b.device != a.device:
        return False
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != N or bias.dtype != a.dtype or bias.device != a.device):
        return False
    if _capability(a.device)[0] != 9 or cdiv(M, _NOMINAL_TILE) * cdiv(N, _NOMINAL_TILE) < _sm_count(a.device):
        return False
    return tma_layout(a) is not None and tma_layout(b) is not None


def tma_ruled_out(a: torch.Tensor, b: torch.Tensor) -> bool:
    """True when ``tma_eligible`` fails for every pair of 2-D operands laid out as ``a`` and ``b``,
    whatever their addresses (which it also reads): not a GPU run, not fp16/bf16, or too little work.
    Launchers cached by layout alone may skip the TMA test then."""
    if a.device.type != "cuda" or runtime.is_interpreter() or a.dtype not in TMA_DTYPES:
        return True
    return a.shape[0] * a.shape[1] * b.shape[-1] < TMA_MIN_WORK


@functools.cache
def _scratch_allocator(device: torch.device):
    """Triton's allocator for launches on ``device``: global memory for the kernel's tensor
    descriptors, which Triton asks for at each launch (128 bytes per descriptor per program)."""

    def allocate(size: int, alignment: int, stream: int | None) -> torch.Tensor:
        return torch.empty(size, dtype=torch.int8, device=device)

    return allocate


def launch_matmul_tma(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    bias: torch.Tensor | None = None,
    activation: str | None = None,
    num_programs: int | None = None,
) -> torch.Tensor:
    """act(a @ b + bias) by the persistent TMA kernel.

    Args:
        a: (M, K) fp16 or bf16, row-major or transposed (see ``tma_layout``), 16-byte aligned.
        b: (K, N), same dtype and device, same layout rules.
        bias: optional (N,), same dtype, added before the activation.
        activation: None or ``"relu"``.
        num_programs: programs of the persistent grid (default: the GPU's SM count; 3 in the
            interpreter); never more than C has tiles.

    Returns:
        A new contiguous (M, N) tensor of a's dtype (fp32 accumulation).

    Raises ValueError for operands TMA cannot describe, K = 0, a dim of 2**31 or more, or a result
    whose rows are not a multiple of 16 bytes (``launch_matmul`` takes those), and RuntimeError on
    a GPU before Hopper.

    Example::

        >>> a = torch.randn(64, 32, dtype=torch.float16)
        >>> launch_matmul_tma(a, a.t()).shape
        torch.Size([64, 64])
    """
    _check_inputs(a, b, bias, activation)
    (M, K), N = a.shape, b.shape[1]
    out = torch.empty((M, N), dtype=a.dtype, device=a.device)
    if out.numel() == 0:
        return out
    layouts = tma_layout(a), tma_layout(b)
    if K == 0 or None in layouts or out.stride(0) * out.element_size() % _TMA_ALIGNMENT or max(M, N, K) > _MAX_DIM:
        raise ValueError(
            f"launch_matmul_tma: TMA needs 0 < K and M, N, K < 2**31, 16-byte aligned operands with one "
            f"unit stride and 16-byte aligned row strides, and rows of C a multiple of 16 bytes; got a "
            f"{tuple(a.shape)} strides {a.stride()}, b {tuple(b.shape)} strides {b.stride()}, {a.dtype} "
            "(launch_matmul takes any layout)"
        )
    if not runtime.is_interpreter():
        if _capability(a.device)[0] < 9:
            raise RuntimeError(f"launch_matmul_tma: TMA needs a GPU of compute capability 9.0 or newer, "
                               f"got {_capability(a.device)} ({a.device})")  # fmt: skip
        triton.set_allocator(_scratch_allocator(a.device))
    if num_programs is None:
        num_programs = _INTERPRETER_PROGRAMS if runtime.is_interpreter() else _sm_count(a.device)
    if num_programs < 1:
        raise ValueError(f"launch_matmul_tma: num_programs must be >= 1, got {num_programs}")
    a_transposed, b_transposed = layouts[0] == "transposed", layouts[1] == "transposed"

    def grid(meta):
        # One program per SM (per num_programs), each walking several C tiles; no idle programs.
        return (min(num_programs, cdiv(M, meta["BLOCK_M"]) * cdiv(N, meta["BLOCK_N"])),)

    matmul_tma_kernel[grid](
        a, b, out, bias, M, N, K,
        a.stride(1) if a_transposed else a.stride(0), b.stride(1) if b_transposed else b.stride(0), out.stride(0),
        bias.stride(0) if bias is not None else 0,
        A_TRANSPOSED=a_transposed, B_TRANSPOSED=b_transposed, HAS_BIAS=bias is not None, ACTIVATION=activation,
        WIDEN_BF16=runtime.is_interpreter() and a.dtype == torch.bfloat16,
    )  # fmt: skip
    return out


def _check_inputs(a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor | None, activation: str | None) -> None:
    if a.dim() != 2 or b.dim() != 2:
        raise ValueError(f"launch_matmul_tma: operands must be 2-D, got {tuple(a.shape)} and {tuple(b.shape)}")
    check_same_device("matmul", a, b, bias)
    if a.dtype not in TMA_DTYPES or b.dtype != a.dtype:
        raise TypeError(
            f"launch_matmul_tma: operands must share one dtype of {TMA_DTYPES}, got {a.dtype} and {b.dtype}"
        )
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})"
        )
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != b.shape[1] or bias.dtype != a.dtype):
        raise RuntimeError(
            f"launch_matmul_tma: bias must be ({b.shape[1]},) {a.dtype}, got {tuple(bias.shape)} {bias.dtype}"
        )
    if activation not in ACTIVATIONS:
        raise ValueError(f"launch_matmul_tma: activation must be one of {ACTIVATIONS}, got {activation!r}")
