"""Roofline estimates: the least time a benchmark case can take on a GPU, before any GPU has run it.

A case must move at least ``bytes`` through HBM (each input read once, each
output written once) and execute ``flops`` floating-point operations at its
precision. Its time is at least

    max(bytes / peak HBM bandwidth, flops / peak FLOP/s of that precision)

and the arithmetic intensity ``flops / bytes`` says which side binds
(above the GPU's ridge point ``peak FLOP/s / bandwidth``: compute). A grid
with fewer programs than the GPU has SMs leaves SMs idle, so the estimate
divides the bound by the share of SMs the largest launch fills. Occupancy
(resident warps per SM, from the AOT registers, shared memory and warps of
each kernel) is reported beside it: a memory-bound kernel with few warps
resident cannot keep enough loads in flight to reach the bandwidth.

Peak figures are NVIDIA's datasheet numbers for the SXM parts; tensor-core
figures are the dense ones (the datasheets print twice as much "with
sparsity"). Sources:

- A100: NVIDIA A100 Tensor Core GPU datasheet (A100 80GB SXM column),
  https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf
- H100: NVIDIA H100 Tensor Core GPU datasheet (H100 SXM column),
  https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet
- H200: NVIDIA H200 Tensor Core GPU datasheet / product page (H200 SXM column),
  https://www.nvidia.com/en-us/data-center/h200/

SM counts and per-SM limits (warps, blocks, registers, shared memory) are the
CUDA C++ Programming Guide's "Technical Specifications per Compute Capability"
table for compute capabilities 8.0 and 9.0.
"""

from __future__ import annotations

import dataclasses
import math

TERA = 1e12

# Precisions a case can be counted in: the peak that applies to its FLOPs.
PRECISIONS = ("fp64", "fp32", "tf32", "fp16", "bf16")


@dataclasses.dataclass(frozen=True)
class GpuPeaks:
    """Datasheet peaks of one GPU and the per-SM limits of its architecture."""

    name: str
    arch: int  # the compute capability whose AOT data (registers, shared memory) applies
    sm_count: int
    hbm_bytes_per_s: float
    flops_per_s: dict[str, float]  # per precision (PRECISIONS); fp16/bf16/tf32 on tensor cores, dense
    shared_bytes_per_sm: int
    source: str

    def ridge(self, precision: str) -> float:
        """FLOPs per byte above which a case at ``precision`` is compute bound."""
        return self.flops_per_s[precision] / self.hbm_bytes_per_s


# Per-SM limits shared by compute capabilities 8.0 and 9.0.
MAX_WARPS_PER_SM = 64
MAX_BLOCKS_PER_SM = 32
REGISTERS_PER_SM = 65536
REGISTER_ALLOCATION_UNIT = 256  # registers are allocated per warp in units of 256
SHARED_RESERVED_PER_BLOCK = 1024  # the driver reserves 1 KiB of shared memory per block (CC >= 8.0)

GPUS: dict[str, GpuPeaks] = {
    "A100": GpuPeaks(
        name="A100 SXM4 80GB",
        arch=80,
        sm_count=108,
        hbm_bytes_per_s=2039e9,  # HBM2e, 2,039 GB/s
        flops_per_s={
            "fp64": 9.7 * TERA,
            "fp32": 19.5 * TERA,
            "tf32": 156 * TERA,
            "fp16": 312 * TERA,
            "bf16": 312 * TERA,
        },  # fmt: skip
        shared_bytes_per_sm=164 * 1024,
        source="NVIDIA A100 Tensor Core GPU datasheet (80GB SXM)",
    ),
    "H100": GpuPeaks(
        name="H100 SXM5 80GB",
        arch=90,
        sm_count=132,
        hbm_bytes_per_s=3.35e12,  # HBM3, 3.35 TB/s
        flops_per_s={
            "fp64": 34 * TERA,
            "fp32": 67 * TERA,
            "tf32": 494.5 * TERA,
            "fp16": 989.5 * TERA,
            "bf16": 989.5 * TERA,
        },  # fmt: skip
        shared_bytes_per_sm=228 * 1024,
        source="NVIDIA H100 Tensor Core GPU datasheet (H100 SXM)",
    ),
    "H200": GpuPeaks(
        name="H200 SXM 141GB",
        arch=90,
        sm_count=132,
        hbm_bytes_per_s=4.8e12,  # HBM3e, 4.8 TB/s
        flops_per_s={
            "fp64": 34 * TERA,
            "fp32": 67 * TERA,
            "tf32": 494.5 * TERA,
            "fp16": 989.5 * TERA,
            "bf16": 989.5 * TERA,
        },  # fmt: skip
        shared_bytes_per_sm=228 * 1024,
        source="NVIDIA H200 Tensor Core GPU datasheet (H200 SXM)",
    ),
}


@dataclasses.dataclass(frozen=True)
class Work:
    """The least a case must do: HBM bytes moved (each input read once, each output written
    once) and floating-point operations, counted at ``precision``'s peak."""

    bytes: float
    flops: float
    precision: str

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")

    @property
    def intensity(self) -> float:
        """Arithmetic intensity, FLOPs per byte."""
        return self.flops / self.bytes if self.bytes else math.inf


def bound_seconds(work: Work, gpu: GpuPeaks) -> tuple[float, str]:
    """(least time, "memory" or "compute": which of the two takes longer) on ``gpu``."""
    memory = work.bytes / gpu.hbm_bytes_per_s
    compute = work.flops / gpu.flops_per_s[work.precision]
    return (memory, "memory") if memory >= compute else (compute, "compute")


def resident_blocks(registers: int, num_warps: int, shared_bytes: int, shared_bytes_per_sm: int) -> int:
    """Blocks of one kernel resident on an SM at once (the CUDA occupancy calculator's rule):
    the fewest allowed by warps, blocks, registers and shared memory."""
    warp_registers = math.ceil(max(registers, 1) * 32 / REGISTER_ALLOCATION_UNIT) * REGISTER_ALLOCATION_UNIT
    limits = [
        MAX_WARPS_PER_SM // num_warps,
        MAX_BLOCKS_PER_SM,
        REGISTERS_PER_SM // (warp_registers * num_warps),
        shared_bytes_per_sm // (shared_bytes + SHARED_RESERVED_PER_BLOCK),
    ]
    return max(0, min(limits))


def occupancy(registers: int, num_warps: int, shared_bytes: int, shared_bytes_per_sm: int) -> float:
    """Resident warps over the SM's maximum (0 when the kernel does not fit on an SM at all)."""
    blocks = resident_blocks(registers, num_warps, shared_bytes, shared_bytes_per_sm)
    return blocks * num_warps / MAX_WARPS_PER_SM


def sm_fill(programs: int, gpu: GpuPeaks) -> float:
    """Share of the SMs that a grid of ``programs`` gives work to at once (1 from one full wave on)."""
    return min(1.0, programs / gpu.sm_count) if programs > 0 else 1.0
