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

from benchmarks import (
    aot_capture,
    bench_attention,
    bench_conv,
    bench_elementwise,
    bench_matmul,
    kernel_report,
    roofline,
)
from benchmarks.aot import (
    GPU_MODELS,
    _DeviceQueries,
    _PointerArgument,
    dot_input_types,
    instruction_mix,
    parse_ptxas_log,
)
from tritongrad.kernels import matmul, matmul_tma

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


def test_dot_input_types_from_triton_ir():
    ttir = """
        %12 = tt.load %11 : tensor<64x32x!tt.ptr<bf16>>
        %45 = tt.dot %43, %44, %acc, inputPrecision = tf32 : tensor<128x64xbf16> * tensor<64x256xbf16> -> tensor<...>
        %46 = tt.dot %a, %b, %c : tensor<16x16xf32> * tensor<16x16xf32> -> tensor<16x16xf32> loc(#loc3)
    """
    assert dot_input_types(ttir) == ["bf16", "f32"]
    assert dot_input_types("%1 = arith.addf %a, %b : tensor<1024xf32>") == []


# ------------------------------------------------------------------------------ the checks, on synthetic rows


def synthetic_row(kernel="k", cases=("c",), arch="sm_90", instructions=None, dot_types=(), error=None,
                  default_config=True, registers=32, spills=0) -> dict:  # fmt: skip
    return {
        "kernel": kernel, "module": "tritongrad.kernels.elementwise", "cases": list(cases), "arch": arch,
        "autotune_config": None, "default_config": default_config, "error": error, "registers": registers,
        "spill_store_bytes": spills, "spill_load_bytes": spills, "shared_bytes": 0, "fits_shared_memory": True,
        "num_warps": 4, "num_stages": 3, "instructions": dict(instructions or {}), "dot_types": list(dot_types),
    }  # fmt: skip


@pytest.mark.parametrize("dot_types", [["f16"], ["bf16"], ["bf16", "f32"]])
@pytest.mark.parametrize("arch", ARCHS)
def test_half_precision_dot_without_tensor_cores_is_flagged(dot_types, arch):
    bare = synthetic_row(arch=arch, dot_types=dot_types, instructions={"ld.global.128": 4, "st.global.32": 2})
    found = kernel_report.half_precision_dots_without_tensor_cores([bare])
    assert len(found) == 1 and "k [c]" in found[0], found
    for tensor_cores in ({"mma.sync": 16}, {"wgmma": 4}):
        row = synthetic_row(arch=arch, dot_types=dot_types, instructions=tensor_cores)
        assert kernel_report.half_precision_dots_without_tensor_cores([row]) == [], tensor_cores


@pytest.mark.parametrize("dot_types", [[], ["f32"], ["f64"]])
def test_other_dots_need_no_tensor_cores(dot_types):
    row = synthetic_row(dot_types=dot_types, instructions={"ld.global.32": 4})
    assert kernel_report.half_precision_dots_without_tensor_cores([row]) == []


@pytest.mark.parametrize(
    "instructions, flagged",
    [
        ({"ld.global.128": 2, "st.global.128": 1}, False),
        ({"ld.global.128": 2, "st.global.128": 1, "ld.global.narrow": 1}, False),  # a bool mask byte
        ({"st.global.128": 4}, False),  # a fill: stores only
        ({"ld.global.32": 2, "st.global.32": 1}, True),  # scalar accesses
        ({"ld.global.128": 2, "st.global.64": 1}, True),  # 64-bit stores
        ({"ld.global.128": 2, "ld.global.32": 1, "st.global.128": 1}, True),  # one input not vectorized
        ({"ld.global.narrow": 4, "st.global.narrow": 1}, True),  # loads and stores, none 128-bit
    ],
)
def test_aligned_elementwise_without_128bit_accesses_is_flagged(instructions, flagged):
    row = synthetic_row(cases=["aligned case", "other"], instructions=instructions)
    found = kernel_report.aligned_elementwise_without_128bit([row], {"aligned case"})
    assert bool(found) == flagged, f"{instructions}: {found}"
    # The same kernel from cases that are not aligned is not held to 128-bit accesses.
    assert kernel_report.aligned_elementwise_without_128bit([row], {"another case"}) == []


def test_findings_and_check_failures_on_synthetic_rows():
    cases = [aot_capture.Case("c", "elementwise", lambda: None, False, aligned_elementwise=True)]
    capture = aot_capture.Capture([], [{"case": "d", "arch": "sm_90", "error": "ValueError: x"}], {}, {})
    rows = [
        synthetic_row(kernel="spills", spills=8, instructions={"ld.global.128": 1, "st.global.128": 1}),
        synthetic_row(kernel="spills_elsewhere", spills=8, default_config=False, cases=["d"]),
        synthetic_row(kernel="scalar", instructions={"ld.global.32": 1, "st.global.32": 1}),
        synthetic_row(kernel="dot", cases=["d"], dot_types=["f16"], instructions={"ld.global.128": 1}),
        synthetic_row(kernel="broken", error="CompilationError: no"),
    ]
    found = kernel_report.findings(rows, capture, cases, complete=False)
    failures = kernel_report.check_failures(found)
    expected = {
        "compile_errors": ["broken"],
        "capture_failures": ["d (sm_90)"],
        "spills_at_default_config": ["spills"],
        "spills_at_other_autotune_configs": ["spills_elsewhere"],
        "half_precision_dot_without_tensor_cores": ["dot"],
        "aligned_elementwise_without_128bit_accesses": ["scalar"],
    }
    for title, names in expected.items():
        assert [n for n in names if any(item.startswith(f"{title}: {n}") for item in failures)] == names, failures
    assert len(failures) == 6, failures
    clean = [synthetic_row(instructions={"ld.global.128": 1, "st.global.128": 1, "wgmma": 2}, dot_types=["bf16"])]
    empty_capture = aot_capture.Capture([], [], {}, {})
    assert kernel_report.check_failures(kernel_report.findings(clean, empty_capture, cases, complete=False)) == []


@pytest.mark.parametrize(
    "cases, spills, failed",
    [
        (["tan fp32 1M"], 4, False),  # libdevice's reduction of a sine-cosine pair: listed, not failed
        (["complex polar c128 2^16"], 16, False),
        (["complex polar c128 2^16"], 24, True),  # past TRIG_PAIR_LOCAL_BYTES: a spill like any other
        (["tan fp32 1M", "exp fp32 1M"], 4, True),  # one of the row's cases computes no pair
        (["sin fp32 1M"], 4, True),
    ],
)
def test_trig_pair_local_bytes_are_listed_not_failed(cases, spills, failed):
    rows = [synthetic_row(kernel="unary_kernel", spills=spills, cases=cases)]
    found = kernel_report.findings(rows, aot_capture.Capture([], [], {}, {}), [], complete=False)
    assert bool(kernel_report.check_failures(found)) == failed, found
    assert bool(found["trig_pair_range_reduction_local_bytes"]) != failed, found


@pytest.mark.parametrize(
    "arch, instructions, flagged",
    [
        ("sm_90", {"wgmma": 4, "tma": 8, "cp.async": 8}, False),
        ("sm_90", {"mma.sync": 16, "cp.async": 8}, True),  # no wgmma, no TMA: fell back
        ("sm_90", {"wgmma": 4, "cp.async": 8, "ld.global.128": 4}, True),  # pointer loads, no TMA
        ("sm_80", {"mma.sync": 16}, True),  # a Hopper kernel compiled before Hopper
    ],
)
def test_hopper_kernels_need_tma_and_wgmma(arch, instructions, flagged):
    row = synthetic_row(kernel="matmul_tma_kernel", arch=arch, instructions=instructions, dot_types=["f16"])
    found = kernel_report.hopper_kernels_without_their_instructions([row])
    assert bool(found) == flagged, f"{arch} {instructions}: {found}"
    other = synthetic_row(kernel="matmul_kernel", arch=arch, instructions=instructions)
    assert kernel_report.hopper_kernels_without_their_instructions([other]) == []


def test_tma_matmul_report_on_sm90_only(tmp_path):
    """The TMA kernel compiles for sm_90 with wgmma, TMA copies and no spills; its cases launch
    nothing under the sm_80 policy (TMA is sm_90+)."""
    report, _ = run_report(tmp_path, "--configs", "default", "--only", "matmul_tma fp16 4096x4096x4096")
    rows = rows_of(report, "matmul_tma_kernel")
    assert {r["arch"] for r in rows} == {"sm_90"}, [describe(r) for r in rows]
    for row in rows:
        assert row["error"] is None, f"{describe(row)}: {row['error']}"
        mix = row["instructions"]
        assert mix.get("wgmma", 0) > 0 and mix.get("tma", 0) > 0, f"{describe(row)}: {mix}"
        assert not row["spill_store_bytes"] and not row["spill_load_bytes"], describe(row)
    for title in kernel_report.CHECKED_FINDINGS:
        assert not report["findings"][title], f"{title}:\n" + "\n".join(report["findings"][title])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_tma_matmul_configs_fit_hopper_shared_memory(dtype):
    """Both TMA configs fit an H100's shared memory (their A/B stages plus the staged C tile)."""
    from triton.runtime import driver

    saved = driver._active
    driver.set_active(_DeviceQueries(GPU_MODELS[90]))
    try:
        kept = matmul_tma._prune_by_shared_memory(matmul_tma._GPU_CONFIGS, {"a_ptr": _PointerArgument(dtype, 256)})
    finally:
        driver.set_active(saved)
    assert kept == matmul_tma._GPU_CONFIGS, kept
    for config in kept:
        assert matmul_tma._shared_bytes(config, 2) <= GPU_MODELS[90].max_shared_bytes, config


# ------------------------------------------------------------------------------ roofline


def test_roofline_bounds():
    h100, a100 = roofline.GPUS["H100"], roofline.GPUS["A100"]
    matmul_work = roofline.Work(bytes=3 * 4096 * 4096 * 2, flops=2 * 4096**3, precision="bf16")
    seconds, bound_by = roofline.bound_seconds(matmul_work, h100)
    assert bound_by == "compute" and seconds == pytest.approx(2 * 4096**3 / 989.5e12), seconds
    add_work = roofline.Work(bytes=3 * 4 * 2**20, flops=2**20, precision="fp32")
    seconds, bound_by = roofline.bound_seconds(add_work, a100)
    assert bound_by == "memory" and seconds == pytest.approx(12 * 2**20 / 2039e9), seconds
    assert add_work.intensity == pytest.approx(1 / 12)
    with pytest.raises(ValueError, match="precision"):
        roofline.Work(1, 1, "int8")


@pytest.mark.parametrize(
    "registers, warps, shared, expected",
    [
        (26, 8, 0, 1.0),  # warps limit: 8 blocks of 8 warps
        (255, 8, 0, 8 / 64),  # 255 registers round up to 256: one block of 8 warps fills the register file
        (128, 4, 0, 0.25),  # 128 x 32 x 4 = 16K registers per block: 4 blocks of 4 warps
        (64, 4, 144 * 1024, 4 / 64),  # shared memory: one 144 KiB block per SM
        (32, 1, 0, 0.5),  # 32 blocks per SM at most
    ],
)
def test_occupancy(registers, warps, shared, expected):
    got = roofline.occupancy(registers, warps, shared, roofline.GPUS["H100"].shared_bytes_per_sm)
    assert got == pytest.approx(expected), f"{registers} regs, {warps} warps, {shared} B smem: {got}"


def test_sm_fill():
    h100 = roofline.GPUS["H100"]
    assert roofline.sm_fill(8, h100) == pytest.approx(8 / 132)
    assert roofline.sm_fill(132, h100) == roofline.sm_fill(10_000, h100) == 1.0


# ------------------------------------------------------------------------------ coverage of the suite and examples


def test_benchmark_suite_shapes_have_cases():
    """Every shape the benchmark modules time has a report case (counts per benchmark)."""
    names = [c.name for c in aot_capture.select_cases(None, ["benchmarks"])]
    count = lambda prefix: sum(1 for n in names if n.startswith(f"bench {prefix} "))  # noqa: E731
    assert count("elementwise") == 4 * len(bench_elementwise.SIZES)
    assert count("matmul") == len(bench_matmul.PRECISIONS) * (len(bench_matmul.SQUARE) + len(bench_matmul.MLP_SHAPES))
    assert count("matmul_tma") == len(bench_matmul.TMA_PRECISIONS) * len(bench_matmul.TMA_SQUARE)
    assert count("conv") == 3 * len(bench_conv.PRECISIONS) * len(bench_conv.SHAPES) * len(bench_conv.LAYOUTS)
    attention = len(bench_attention.DTYPES) * len(bench_attention.HEAD_DIMS) * 2 * len(bench_attention.SEQUENCES)
    assert count("attention") == 2 * attention
    assert all(c.work is not None for c in aot_capture.select_cases(None, ["benchmarks"]))


def test_example_cases_capture_on_sm90():
    """The examples' training steps are captured without running a kernel (and without a failure)."""
    cases = aot_capture.select_cases(None, ["examples"])
    captured = aot_capture.capture(cases, [90])
    assert not captured.failures, captured.failures
    kernels = {launch["kernel"] for launch in captured.launches}
    for kernel in ("conv2d_forward_kernel", "attention_fwd_kernel", "adam_step_kernel", "linear_ce_rows_kernel"):
        assert kernel in kernels, f"{kernel} not launched by the examples: {sorted(kernels)}"
    for case in cases:
        assert any(launch["case"] == case.name for launch in captured.launches), f"{case.name} launched nothing"


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


@pytest.mark.parametrize("stride, aligned", [(512, True), (10, False), (65, False), (1, True)])
def test_matmul_unaligned_operands_run_unpipelined(stride, aligned):
    """Operands the compiler cannot prove 16-byte aligned keep only unpipelined configs (their
    prefetched tiles would sit in registers and spill), and tune under their own key."""
    from triton.runtime import driver

    named_args = {
        "a_ptr": _PointerArgument(torch.float16, 256), "b_ptr": _PointerArgument(torch.float16, 256),
        "stride_am": stride, "stride_ak": 1, "stride_bk": 512, "stride_bn": 1,
        "a_batch_strides": (0,), "b_batch_strides": (0,),
    }  # fmt: skip
    assert matmul._operands_aligned(named_args) == aligned
    misaligned = {**named_args, "b_ptr": _PointerArgument(torch.float16, 258)}
    assert not matmul._operands_aligned(misaligned)
    saved = driver._active
    driver.set_active(_DeviceQueries(GPU_MODELS[80]))
    try:
        kept = matmul._prune_matmul(matmul._gpu_configs(), named_args)
    finally:
        driver.set_active(saved)
    assert kept and all((c.num_stages > 1) == aligned for c in kept), kept
    autotuner = matmul.matmul_kernel
    assert autotuner.variant is matmul._operands_aligned


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_linear_backward_configs_pruned(dtype):
    """fp32/fp64 linear backward: only unpipelined tiles with a set register budget, fp64's its own
    (with ptxas's budget, or fp32's for fp64, they spilled: see matmul._UNPIPELINED_MAXNREG)."""
    kept = matmul._prune_linear_backward(matmul._gpu_configs(), {"x_ptr": _PointerArgument(dtype, 256)})
    assert kept, f"{dtype}: every config pruned"
    budget = matmul._UNPIPELINED_MAXNREG[torch.tensor([], dtype=dtype).element_size()]
    assert all(c.num_stages == 1 and c.maxnreg == budget for c in kept), kept


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
def test_examples_report_at_default_configs(tmp_path):
    """The examples' shapes compile without spills or failures (CI's `.ci/compat --quick` checks
    every suite at every kept autotune config on the oldest and newest triton)."""
    report, _ = run_report(tmp_path, "--configs", "default", "--suite", "examples")
    found = report["findings"]
    for title in kernel_report.CHECKED_FINDINGS:
        assert not found[title], f"{title}:\n" + "\n".join(found[title])
