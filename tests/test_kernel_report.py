"""The ahead-of-time kernel report (benchmarks/kernel_report.py), checked on a CPU-only machine.

Kernels are compiled for sm_80 and sm_90 without a GPU and their PTX / ptxas
output is held to what a GPU needs of them: no register spills at the default
launch configuration, tensor cores for 16-bit matmuls (``wgmma`` on Hopper,
``mma.sync`` on Ampere), 128-bit global accesses in elementwise kernels.

The report runs in a subprocess (it switches tritongrad's launch policy to the
GPU's and compiles in a further process with the interpreter off). The fast
tests compile a focused subset at each autotuned kernel's default config; the
slow one runs the whole report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from benchmarks.aot import GPU_MODELS, _DeviceQueries, _PointerArgument, instruction_mix, parse_ptxas_log
from tritongrad.kernels import matmul

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCHS = ("sm_80", "sm_90")

# One case per kernel family the checks below care about (names from benchmarks/aot_capture.py).
SUBSET = [
    "matmul fp16 256x256x256",
    "matmul bf16 256x256x256",
    "add fp32 1M",  # contiguous, 16-byte aligned, numel divisible by 16: the 128-bit case
    "relu fp32 1M",
    "softmax fwd fp32 1024x1024",
    "sum fp32 rows 1024x1024",
    "cross_entropy fwd+bwd fp32 64x1000",
    "adamw step fp32",
]


def run_report(tmp_path, *options: str) -> tuple[dict, str]:
    path = tmp_path / "report.json"
    command = [sys.executable, "-m", "benchmarks.kernel_report", "--jobs", "1", "--json", str(path), *options]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800)
    assert completed.returncode == 0, f"{' '.join(command)} failed:\n{completed.stderr[-4000:]}"
    return json.loads(path.read_text()), completed.stdout


@pytest.fixture(scope="module")
def subset_report(tmp_path_factory):
    return run_report(tmp_path_factory.mktemp("kernel_report"), "--configs", "default", "--only", *SUBSET)


def rows_of(report: dict, kernel: str, case: str | None = None) -> list[dict]:
    rows = [r for r in report["kernels"] if r["kernel"] == kernel and (case is None or case in r["cases"])]
    assert rows, f"no {kernel} rows{f' for case {case!r}' if case else ''} in the report"
    return rows


def describe(row: dict) -> str:
    config = "" if row["autotune_config"] is None else f" autotune config {row['autotune_config']}"
    return f"{row['kernel']} [{', '.join(row['cases'])}] {row['arch']}{config}"


# ------------------------------------------------------------------------------ parsing


def test_ptxas_log_parsing():
    log = (
        "ptxas info    : Compiling entry function 'k' for 'sm_90a'\n"
        "    16 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads\n"
        "ptxas info    : Used 255 registers, used 1 barriers\n"
    )
    assert parse_ptxas_log(log) == {
        "registers": 255,
        "stack_bytes": 16,
        "spill_store_bytes": 8,
        "spill_load_bytes": 12,
    }


def test_instruction_mix_counts_access_widths():
    ptx = """
        @%p1 ld.global.v4.b32 { %r1, %r2, %r3, %r4 }, [ %rd1 + 0 ];
        ld.global.nc.v2.b64 { %rd5, %rd6 }, [ %rd2 + 0 ];
        @!%p2 ld.global.b32 { %r5 }, [ %rd3 + 0 ];
        ld.global.b16 { %rs1 }, [ %rd4 + 0 ];
        st.global.v2.b32 [ %rd5 + 0 ], { %r1, %r2 };
        wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16 {...};
        mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {...};
        cp.async.cg.shared.global [ %r9 + 0 ], [ %rd9 + 0 ], 0x10, %r10;
        cp.async.commit_group;
    """
    assert instruction_mix(ptx) == {
        "ld.global.128": 2,
        "ld.global.32": 1,
        "ld.global.narrow": 1,
        "st.global.64": 1,
        "wgmma": 1,
        "mma.sync": 1,
        "cp.async": 1,
    }


# ------------------------------------------------------------------------------ matmul config pruning


@pytest.mark.parametrize(
    "block_m, block_n, block_k, num_warps, registers",
    [
        (128, 256, 64, 8, 256),  # warps 2x4, 64x64 per warp: spills on sm_80 with triton 3.6
        (256, 128, 64, 8, 256),  # warps 4x2
        (128, 128, 64, 8, 160),  # warps 4x2, 32x64 per warp: 171-180 regs on sm_80 (ptxas -v)
        (128, 128, 32, 4, 192),  # warps 2x2, 64x64 per warp: 226-244 regs on sm_80
        (64, 32, 32, 2, 64),  # warps 2x1
    ],
)
def test_mma_sync_register_estimate(block_m, block_n, block_k, num_warps, registers):
    estimate = matmul._mma_sync_registers(block_m, block_n, block_k, num_warps, element_size=2)
    assert estimate == registers, f"{block_m}x{block_n}x{block_k} on {num_warps} warps: {estimate} != {registers}"


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32])
@pytest.mark.parametrize("arch", sorted(GPU_MODELS))
def test_matmul_configs_pruned_per_arch(arch, dtype):
    """16-bit tiles whose mma.sync fragments take 256 registers are dropped before Hopper only;
    wgmma keeps its operands in shared memory. fp32 keeps its accumulator rule on both."""
    from triton.runtime import driver

    configs = matmul._gpu_configs()
    saved = driver._active
    driver.set_active(_DeviceQueries(GPU_MODELS[arch]))
    try:
        kept = matmul._prune_by_shared_memory(configs, {"a_ptr": _PointerArgument(dtype, 256)})
    finally:
        driver.set_active(saved)
    tiles = lambda chosen: {
        (c.kwargs["BLOCK_M"], c.kwargs["BLOCK_N"], c.kwargs["BLOCK_K"], c.num_warps) for c in chosen
    }
    large = {(128, 256, 64, 8), (256, 128, 64, 8)}
    if dtype == torch.float16:
        assert (tiles(kept) >= large) == (arch >= 90), f"sm_{arch} fp16 kept {sorted(tiles(kept))}"
        assert len(kept) == len(configs) - (0 if arch >= 90 else 2), f"sm_{arch} fp16 kept {sorted(tiles(kept))}"
    else:
        assert all(warps == 8 and m * n // (warps * 32) <= 64 for m, n, _, warps in tiles(kept)), tiles(kept)


# ------------------------------------------------------------------------------ the subset report


def test_subset_captures_and_compiles_everywhere(subset_report):
    report, stdout = subset_report
    found = report["findings"]
    assert not found["capture_failures"], "\n".join(found["capture_failures"])
    assert not found["compile_errors"], "\n".join(found["compile_errors"])
    for case in SUBSET:
        archs = {r["arch"] for r in report["kernels"] if case in r["cases"]}
        assert archs == set(ARCHS), f"case {case!r} compiled for {sorted(archs)}, expected {ARCHS}"
    for column in ("kernel", "regs", "spill st/ld", "smem KiB", "wgmma", "ld128"):
        assert column in stdout, f"the printed table lacks the {column!r} column:\n{stdout[:2000]}"


def test_no_register_spills_at_default_config(subset_report):
    report, _ = subset_report
    spilling = [
        f"{describe(r)}: {r['registers']} regs, {r['spill_store_bytes']} B spill stores, "
        f"{r['spill_load_bytes']} B spill loads"
        for r in report["kernels"]
        if r["default_config"] and (r["spill_store_bytes"] or r["spill_load_bytes"])
    ]
    assert not spilling, "kernels spill at their default config:\n" + "\n".join(spilling)


@pytest.mark.parametrize("dtype", ["fp16", "bf16"])
def test_16bit_matmul_uses_tensor_cores(subset_report, dtype):
    report, _ = subset_report
    by_arch = {r["arch"]: r for r in rows_of(report, "matmul_kernel", f"matmul {dtype} 256x256x256")}
    hopper, ampere = by_arch["sm_90"]["instructions"], by_arch["sm_80"]["instructions"]
    assert hopper.get("wgmma", 0) > 0, f"{dtype} matmul on sm_90 has no wgmma: {hopper}"
    assert ampere.get("mma.sync", 0) > 0, f"{dtype} matmul on sm_80 has no mma.sync: {ampere}"
    assert ampere.get("wgmma", 0) == 0, f"{dtype} matmul on sm_80 issues wgmma: {ampere}"


@pytest.mark.parametrize("kernel, case", [("binary_kernel", "add fp32 1M"), ("unary_kernel", "relu fp32 1M")])
def test_elementwise_kernels_issue_128bit_accesses(subset_report, kernel, case):
    report, _ = subset_report
    for row in rows_of(report, kernel, case):
        mix = row["instructions"]
        narrower_loads = {k: v for k, v in mix.items() if k.startswith("ld.global.") and k != "ld.global.128"}
        assert mix.get("ld.global.128", 0) > 0 and not narrower_loads, f"{describe(row)} loads: {mix}"
        assert mix.get("st.global.128", 0) > 0, f"{describe(row)} stores: {mix}"


# ------------------------------------------------------------------------------ the whole report


@pytest.mark.slow
def test_full_report_at_default_configs(tmp_path):
    report, _ = run_report(tmp_path, "--configs", "default")
    found = report["findings"]
    assert not found["capture_failures"], "\n".join(found["capture_failures"])
    assert not found["compile_errors"], "\n".join(found["compile_errors"])
    assert not found["uncaptured_kernels"], f"kernels no report case reaches: {found['uncaptured_kernels']}"
    assert not found["spills_at_default_config"], "\n".join(found["spills_at_default_config"])
