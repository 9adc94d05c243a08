"""The ahead-of-time kernel report: every tritongrad kernel compiled for sm_80 and sm_90, no GPU needed.

    python -m benchmarks.kernel_report [--only PATTERN ...] [--suite kernels benchmarks examples]
                                       [--arch 80 90] [--configs all|default] [--json PATH]
                                       [--markdown PATH] [--jobs N] [--check] [--list]

For each kernel, per launch configuration and arch: registers per thread,
spill bytes (stores/loads), shared memory, and the static instruction mix of
its PTX: tensor-core MMAs (``wgmma`` on Hopper, ``mma.sync`` on Ampere),
``ldmatrix``, ``cp.async`` (``tma``: the Hopper tensor copies among them), and
global loads/stores by width (128-bit accesses are what a bandwidth-bound
kernel wants).

What is compiled (``aot_capture.SUITES``): ``kernels``, every public launcher
of ``kernels/`` on representative inputs; ``benchmarks``, every tritongrad call
of ``benchmarks/bench_*.py`` at the suite's full sizes; ``examples``, a training
step and the evaluation of each example at its default size and its documented
GPU size. Launches that specialise alike (same kernel, constexprs, signature
and options) compile once; the rows list every case that reached them.

How it gets there:

1. capture (``benchmarks.aot_capture``): every case runs in Triton's
   interpreter with the runtime answering as on an A100 / H100, and each
   ``kernel[grid](...)`` call is recorded with its bound arguments, block
   sizes, ``num_warps`` and grid; kernels are not executed (except the few
   whose result a launcher reads back);
2. compile (``benchmarks.aot``, a subprocess without the interpreter): each
   recorded launch is specialised as a real launch would be (16-byte
   divisibility of pointers and ints, ints equal to 1 folded) and each distinct
   specialisation is compiled with ``triton.compile(..., target=GPUTarget("cuda", cc, 32))``;
   autotuned kernels are compiled at each GPU config their own pruning hook
   keeps on that arch (``--configs default``: only the first kept, the
   kernel's default config);
3. report: a table, a per-family summary, the findings, and for every
   benchmark case a roofline estimate on A100 / H100 / H200
   (``benchmarks.roofline``: bytes, FLOPs, arithmetic intensity, the bound,
   occupancy and SM fill from the AOT data); ``--json`` / ``--markdown``.

``make report`` runs it; ``python -m benchmarks.kernel_report --list`` lists the cases.

``--check`` exits non-zero on any of ``CHECKED_FINDINGS``: a kernel that fails
to compile, a launcher that fails, a spill at any compiled configuration (the
default one, and with ``--configs all`` every one the pruning hook keeps), an
fp16/bf16 ``tt.dot`` (matmul, conv, attention, fused linear cross-entropy, ...)
without tensor-core instructions, a kernel of an aligned elementwise case
(contiguous, sizes multiples of 16) without 128-bit global accesses, or a
compile of a Hopper kernel (``HOPPER_KERNELS``: the persistent TMA matmul)
without TMA copies (``cp.async.bulk.tensor``) and ``wgmma``. Hopper kernels are
compiled for sm_90 only: TMA and wgmma do not exist before it, so their
launchers refuse an sm_80 GPU and their cases record nothing there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from typing import Any

if __package__ in (None, ""):  # run as a script (`python benchmarks/kernel_report.py`)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Launches are recorded in Triton's interpreter, even on a machine with a GPU; aot_capture
# imports tritongrad, which switches the interpreter on before triton loads.
os.environ["TRITONGRAD_DEVICE"] = "cpu"
from benchmarks import aot_capture, roofline  # noqa: E402
from benchmarks.aot import GPU_MODELS  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Instruction-mix columns of the table: (header, key in a result's "instructions").
INSTRUCTION_COLUMNS = [
    ("wgmma", "wgmma"),
    ("mma", "mma.sync"),
    ("ldmatrix", "ldmatrix"),
    ("cp.async", "cp.async"),
    ("tma", "tma"),
    ("ld128", "ld.global.128"),
    ("ld64", "ld.global.64"),
    ("ld32", "ld.global.32"),
    ("ld<32", "ld.global.narrow"),
    ("st128", "st.global.128"),
    ("st64", "st.global.64"),
    ("st32", "st.global.32"),
    ("st<32", "st.global.narrow"),
    ("atom", "atom"),
]


def compile_launches(launches: list[dict[str, Any]], configs: str, jobs: int) -> list[dict[str, Any]]:
    """Runs ``benchmarks.aot`` on the launches in a fresh process with the interpreter off."""
    environment = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO_ROOT, environment.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="tritongrad-report-") as folder:
        spec_path, results_path = os.path.join(folder, "spec.json"), os.path.join(folder, "results.json")
        with open(spec_path, "w") as file:
            json.dump({"launches": launches, "configs": configs}, file)
        command = [sys.executable, "-m", "benchmarks.aot", spec_path, results_path, "--jobs", str(jobs)]
        completed = subprocess.run(command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True)
        if completed.returncode != 0:
            raise RuntimeError(f"AOT compilation failed ({' '.join(command)}):\n{completed.stderr[-4000:]}")
        with open(results_path) as file:
            return json.load(file)


def merge_duplicates(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per distinct compiled kernel; the cases that produced it are listed together."""
    rows: dict[str, dict[str, Any]] = {}
    for result in results:
        key = result.get("key") or json.dumps([result["case"], result["kernel"], result["arch"], result["error"]])
        if key in rows:
            if result["case"] not in rows[key]["cases"]:
                rows[key]["cases"].append(result["case"])
            # the same binary may be one launch's default config and another's alternative
            rows[key]["default_config"] = rows[key]["default_config"] or result["default_config"]
            continue
        rows[key] = {**result, "cases": [result["case"]]}
        rows[key].pop("case")
        rows[key].pop("key", None)
    family_order = {family: i for i, family in enumerate(dict.fromkeys(c.family for c in aot_capture.CASES.values()))}
    return sorted(
        rows.values(),
        key=lambda r: (
            family_order.get(r["module"].rsplit(".", 1)[-1], len(family_order)),
            r["kernel"],
            r["cases"][0],
            r["autotune_config"] or 0,
            r["arch"],
        ),
    )


def config_label(row: dict[str, Any]) -> str:
    """The launch choices that distinguish a compiled kernel: sizes and modes first, then warps/stages."""
    if "constexprs" not in row:
        return ""
    items = [
        (name, value)
        for name, value in row["constexprs"].items()
        if name.isupper() and value is not None and not isinstance(value, bool)
    ]
    sizes = [f"{n}={v}" for n, v in items if any(word in n for word in ("BLOCK", "ROWS", "GROUP", "TILE"))]
    modes = [f"{n}={v}" for n, v in items if f"{n}={v}" not in sizes]
    return " ".join(sizes + modes + [f"w{row['num_warps']}", f"s{row['num_stages']}"])


# What a plain run compiles: ~870 distinct kernels, ~5 minutes on two cores. The benchmark suite's
# shapes add ~670 more (`--suite all`), and every kept autotune config (`--configs all`) ~490 more
# matmul compiles: the full coverage, ~2030 compiles, which CI (`.ci/compat`) checks on each triton.
DEFAULT_SUITES = ("kernels", "examples")

# Findings that fail --check (the others are for the reader).
CHECKED_FINDINGS = (
    "compile_errors",
    "capture_failures",
    "spills_at_default_config",
    # With --configs all: any config the autotuner's pruning hook keeps may be the one it picks on a GPU.
    "spills_at_other_autotune_configs",
    "half_precision_dot_without_tensor_cores",
    "aligned_elementwise_without_128bit_accesses",
    "hopper_kernels_without_tma_or_wgmma",
)
# The linear-algebra kernels hold a whole matrix in one program's registers (kernels/linalg_*.py):
# past a side of 32 they spill, and in float64 they may spill at any side, which costs speed, not
# correctness (measured at session 12: eigh and svd at 64x64 and svd at 40x24 with triton 3.9; with
# triton 3.6 also eigh float64 at 32x32 and svd float64 from 16x16, 128 registers and 12-300 B of
# spill). Those spills are listed for the reader as a known limit of the design (a blocked,
# shared-memory variant would remove them), not failed on; a float32 spill at a side of 32 or less,
# or a spill in any other kernel, still fails --check.
REGISTER_BLOCK_KERNELS = ("lu_factor_kernel", "lu_solve_kernel", "triangular_solve_kernel", "cholesky_kernel",
                          "qr_kernel", "eigh_kernel", "svd_kernel")  # fmt: skip
REGISTER_BLOCK_SIDE = 32
# CTC's kernels hold the extended label row (2S + 1 lanes, padded to a power of two) in registers: with
# triton 3.6 the float32 backward spills 56-92 B at 2048 lanes (S > 511; triton 3.9 fits them at 16
# warps, and 32 warps' 64 registers a thread spill more). Listed with the register blocks, not failed on.
REGISTER_ROW_KERNELS = {"ctc_grad_kernel": 511}  # kernel -> the largest S its row holds without a spill
# A sine and a cosine of one angle per element (tan; complex polar and its magnitude gradient) bring
# libdevice's large-argument reduction twice, whose small local table ptxas counts as spill traffic:
# 4-12 B whatever the block (40 registers a thread at 4 elements). Reported on their own line, with
# the bytes, and not failed on up to TRIG_PAIR_LOCAL_BYTES; more than that is a spill like any other.
TRIG_PAIR_CASE = re.compile(r"^(tan|complex polar|complex polar_backward_abs) ")
TRIG_PAIR_LOCAL_BYTES = 16
HALF_PRECISION_DOT_TYPES = ("f16", "bf16")  # tt.dot operand element types
TENSOR_CORE_INSTRUCTIONS = ("wgmma", "mma.sync")

# Kernels written for Hopper, and the instruction families each of its compiles must issue. The
# persistent matmul (kernels/matmul_tma.py) moves its tiles with TMA (``cp.async.bulk.tensor``)
# and multiplies with ``wgmma``, both sm_90+: there is no sm_80 version of it to check, so its
# launcher refuses GPUs before sm_90, its report cases record nothing under the sm_80 policy, and
# an sm_80 row of it would be a finding. (An sm_90 compile that fell back to ``mma.sync`` or to
# pointer loads would still pass the tensor-core check above; this one does not let it.)
HOPPER_KERNELS = {"matmul_tma_kernel": ("wgmma", "tma")}


def row_name(row: dict[str, Any]) -> str:
    config = "" if row["autotune_config"] is None else f" autotune config {row['autotune_config']}"
    return f"{row['kernel']} [{row['cases'][0]}]{config} {row['arch']}"


def half_precision_dots_without_tensor_cores(rows: list[dict[str, Any]]) -> list[str]:
    """Compiled kernels with an fp16/bf16 ``tt.dot`` (matmul, conv, attention, fused linear
    cross-entropy, ...) whose PTX has no tensor-core MMA (``mma.sync`` / ``wgmma``), at any config."""
    found = []
    for row in rows:
        if row["error"] is not None or not set(row.get("dot_types", [])) & set(HALF_PRECISION_DOT_TYPES):
            continue
        if not any(row["instructions"].get(name, 0) for name in TENSOR_CORE_INSTRUCTIONS):
            found.append(f"{row_name(row)}: {'/'.join(row['dot_types'])} tt.dot, no mma.sync or wgmma in the PTX")
    return found


def hopper_kernels_without_their_instructions(rows: list[dict[str, Any]]) -> list[str]:
    """Compiles of ``HOPPER_KERNELS`` for an arch before sm_90, or without the instruction
    families they are written for (TMA, wgmma), at any config."""
    found = []
    for row in rows:
        needed = HOPPER_KERNELS.get(row["kernel"])
        if needed is None or row["error"] is not None:
            continue
        if int(row["arch"].removeprefix("sm_")) < 90:
            found.append(f"{row_name(row)}: compiled for {row['arch']}; it needs sm_90 ({', '.join(needed)})")
            continue
        missing = [name for name in needed if not row["instructions"].get(name)]
        if missing:
            found.append(f"{row_name(row)}: no {' or '.join(missing)} instructions in the PTX")
    return found


def aligned_elementwise_without_128bit(rows: list[dict[str, Any]], aligned_cases: set[str]) -> list[str]:
    """Kernels launched by an aligned elementwise case (contiguous, 16-byte aligned, sizes multiples
    of 16) that move data in 32- or 64-bit global accesses, or load or store without a 128-bit one."""
    found = []
    for row in rows:
        if row["error"] is not None or not aligned_cases.intersection(row["cases"]):
            continue
        mix = row["instructions"]
        narrow = {k: v for k, v in mix.items() if k.split(".")[-1] in ("32", "64") and k[:2] in ("ld", "st")}
        no_wide = [
            kind for kind in ("ld", "st")
            if any(k.startswith(f"{kind}.global.") for k in mix) and not mix.get(f"{kind}.global.128")
        ]  # fmt: skip
        if narrow or no_wide:
            accesses = ", ".join(f"{k} x{v}" for k, v in sorted(mix.items()) if k[:2] in ("ld", "st"))
            found.append(f"{row_name(row)}: global accesses {accesses or 'none'}")
    return found


def findings(rows: list[dict[str, Any]], capture: aot_capture.Capture, cases: list[aot_capture.Case],
             complete: bool) -> dict[str, list[str]]:  # fmt: skip
    """What a reader (or --check, for CHECKED_FINDINGS) should look at, as short lines."""
    compiled = [r for r in rows if r["error"] is None]
    spilling = [r for r in compiled if (r["spill_store_bytes"] or 0) + (r["spill_load_bytes"] or 0) > 0]
    beyond_register_blocks = [r for r in spilling if _beyond_register_block(r)]
    spilling = [r for r in spilling if not _beyond_register_block(r)]
    trig_pairs = [r for r in spilling if _trig_pair_local_memory(r)]
    spilling = [r for r in spilling if not _trig_pair_local_memory(r)]
    aligned = {c.name for c in cases if c.aligned_elementwise}
    return {
        "compile_errors": [f"{row_name(r)}: {r['error'].splitlines()[-1]}" for r in rows if r["error"]],
        "capture_failures": [f"{f['case']} ({f['arch']}): {f['error']}" for f in capture.failures],
        "spills_at_default_config": [
            f"{row_name(r)}: {r['registers']} regs, {r['spill_store_bytes']} B spill stores, "
            f"{r['spill_load_bytes']} B spill loads"
            for r in spilling
            if r["default_config"]
        ],
        "half_precision_dot_without_tensor_cores": half_precision_dots_without_tensor_cores(compiled),
        "aligned_elementwise_without_128bit_accesses": aligned_elementwise_without_128bit(compiled, aligned),
        "hopper_kernels_without_tma_or_wgmma": hopper_kernels_without_their_instructions(compiled),
        "spills_at_other_autotune_configs": [
            f"{row_name(r)}: {r['registers']} regs, {r['spill_store_bytes']} B stores, {r['spill_load_bytes']} B loads"
            for r in spilling
            if not r["default_config"]
        ],
        "register_block_spills_fp64_or_past_side_32": [
            f"{row_name(r)}: {r['registers']} regs, {r['spill_store_bytes']} B spill stores, "
            f"{r['spill_load_bytes']} B spill loads"
            for r in beyond_register_blocks
        ],
        "trig_pair_range_reduction_local_bytes": [
            f"{row_name(r)}: {r['registers']} regs, {r['spill_store_bytes']} B stores, {r['spill_load_bytes']} B loads"
            for r in trig_pairs
        ],
        "exceeds_shared_memory": [
            f"{row_name(r)}: {r['shared_bytes']} B > {GPU_MODELS[int(r['arch'][3:])].max_shared_bytes} B "
            "(pruned by the autotuner / fails to launch)"
            for r in compiled
            if not r["fits_shared_memory"]
        ],
        # Only meaningful when every case ran.
        "uncaptured_kernels": aot_capture.uncaptured_kernels(capture.launches) if complete else [],
    }


def _beyond_register_block(row: dict[str, Any]) -> bool:
    """A register-block linear-algebra kernel compiled in float64, or for a matrix side above 32 (the
    case name's dtype and "batch x m x n" sizes), or a register-row kernel past its row (REGISTER_ROW_KERNELS)."""
    cases = " ".join(row["cases"])
    if row["kernel"] in REGISTER_ROW_KERNELS:
        targets = re.search(r"S=(\d+)", cases)
        return targets is not None and int(targets.group(1)) > REGISTER_ROW_KERNELS[row["kernel"]]
    if row["kernel"] not in REGISTER_BLOCK_KERNELS:
        return False
    if "fp64" in cases:
        return True
    sizes = re.search(r"(\d+)x(\d+)x(\d+)", cases)
    return sizes is not None and max(int(sizes.group(2)), int(sizes.group(3))) > REGISTER_BLOCK_SIDE


def _trig_pair_local_memory(row: dict[str, Any]) -> bool:
    """Every case of the row computes a sine and a cosine per element, within TRIG_PAIR_LOCAL_BYTES."""
    spilled = max(row["spill_store_bytes"] or 0, row["spill_load_bytes"] or 0)
    return spilled <= TRIG_PAIR_LOCAL_BYTES and all(TRIG_PAIR_CASE.match(case) for case in row["cases"])


def check_failures(found: dict[str, list[str]]) -> list[str]:
    """The findings that make --check fail, as "title: item" lines."""
    return [f"{title}: {item}" for title in CHECKED_FINDINGS for item in found.get(title, [])]


def table_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = ["kernel", "case", "config", "arch", "regs", "spill st/ld", "smem KiB"]
    header += [h for h, _ in INSTRUCTION_COLUMNS] + ["compile s"]
    body = []
    for row in rows:
        case = row["cases"][0] + (f" (+{len(row['cases']) - 1})" if len(row["cases"]) > 1 else "")
        cells = [row["kernel"], case, config_label(row), row["arch"]]
        if row["error"]:
            cells += ["ERROR: " + row["error"].splitlines()[-1][:80]]
            cells += [""] * (len(header) - len(cells))
        else:
            instructions = row["instructions"]
            smem = f"{row['shared_bytes'] / 1024:.1f}" + ("" if row["fits_shared_memory"] else "!")
            cells += [
                str(row["registers"]),
                f"{row['spill_store_bytes']}/{row['spill_load_bytes']}",
                smem,
            ]
            cells += [str(instructions.get(key, 0) or "") for _, key in INSTRUCTION_COLUMNS]
            cells += [f"{row['compile_s']:.1f}"]
        body.append(cells)
    return header, body


def roofline_rows(results: list[dict[str, Any]], capture: aot_capture.Capture,
                  cases: list[aot_capture.Case]) -> list[dict[str, Any]]:  # fmt: skip
    """The roofline estimate of each benchmark case on each GPU of ``roofline.GPUS``.

    From the case's ``Work``: bytes, FLOPs, arithmetic intensity and the bound (the longer of
    bytes / peak bandwidth and FLOPs / peak FLOP/s). From the AOT data of the case's launches at
    their default config on the GPU's arch: the lowest occupancy among its kernels and the largest
    grid; the expected time is the bound divided by the share of SMs that grid fills.
    """
    by_case: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for result in results:
        if result["error"] is None and result["default_config"]:
            by_case.setdefault((result["case"], result["arch"]), []).append(result)
    estimates = []
    for item in cases:
        if item.work is None:
            continue
        work = item.work
        estimate: dict[str, Any] = {
            "case": item.name, "precision": work.precision, "bytes": work.bytes, "flops": work.flops,
            "intensity": work.intensity, "gpus": {},
        }  # fmt: skip
        for label, gpu in roofline.GPUS.items():
            launched = by_case.get((item.name, f"sm_{gpu.arch}"), [])
            occupancies = [
                roofline.occupancy(r["registers"], r["num_warps"], r["shared_bytes"], gpu.shared_bytes_per_sm)
                for r in launched
            ]
            programs = [capture.programs(r["launch"], r["constexprs"]) for r in launched if r.get("launch") is not None]
            programs = [p for p in programs if p is not None]
            seconds, bound_by = roofline.bound_seconds(work, gpu)
            fill = roofline.sm_fill(max(programs), gpu) if programs else 1.0
            estimate["gpus"][label] = {
                "bound_s": seconds,
                "bound_by": bound_by,
                "occupancy": min(occupancies) if occupancies else None,
                "programs": max(programs) if programs else None,
                "sm_fill": fill,
                "expected_s": seconds / fill,
            }
        estimates.append(estimate)
    return estimates


def roofline_table(estimates: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """One line per benchmark case: work, intensity, then per GPU the expected microseconds
    (``*``: the largest grid leaves SMs idle), what binds, and the occupancy and grid on sm_90/sm_80."""
    gpus = list(roofline.GPUS)
    header = ["benchmark case", "prec", "MB", "GFLOP", "FLOP/B"] + [f"{g} us" for g in gpus]
    header += ["bound", "occ sm_80", "occ sm_90", "programs"]
    body = []
    for estimate in estimates:
        per_gpu = estimate["gpus"]
        cells = [
            estimate["case"].removeprefix("bench "),
            estimate["precision"],
            f"{estimate['bytes'] / 1e6:.3g}",
            f"{estimate['flops'] / 1e9:.3g}",
            f"{estimate['intensity']:.3g}",
        ]
        for g in gpus:
            cells.append(f"{per_gpu[g]['expected_s'] * 1e6:.3g}" + ("*" if per_gpu[g]["sm_fill"] < 1 else ""))
        cells.append("/".join(per_gpu[g]["bound_by"][0] for g in gpus))  # m(emory) / c(ompute) per GPU
        for arch_gpu in ("A100", "H100"):  # the sm_80 and sm_90 data
            occupancy = per_gpu[arch_gpu]["occupancy"]
            cells.append("" if occupancy is None else f"{occupancy:.0%}")
        programs = per_gpu["H100"]["programs"]
        cells.append("" if programs is None else str(programs))
        body.append(cells)
    return header, body


def roofline_notes() -> list[str]:
    """The peaks behind the estimates and where they come from."""
    lines = []
    for gpu in roofline.GPUS.values():
        flops = ", ".join(f"{p} {gpu.flops_per_s[p] / 1e12:g}" for p in roofline.PRECISIONS)
        bandwidth = f"HBM {gpu.hbm_bytes_per_s / 1e12:.3g} TB/s"
        lines.append(f"{gpu.name} (AOT data of sm_{gpu.arch}, {gpu.sm_count} SMs): {bandwidth}; "
                     f"peak TFLOP/s {flops}. Source: {gpu.source}.")  # fmt: skip
    return lines


def family_summary(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Per kernel family (kernels/<module>.py), over its compiled kernels: registers, spills,
    shared memory and the instruction classes that matter on a GPU (how many compiles issue them)."""
    header = ["family", "kernels", "compiles", "regs", "spilling", "smem KiB max", "wgmma", "mma", "ld128", "st128",
              "cp.async", "tma", "atom"]  # fmt: skip
    families: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["error"] is None:
            families.setdefault(row["module"].rsplit(".", 1)[-1], []).append(row)
    body = []
    for family, members in families.items():
        registers = [r["registers"] for r in members]
        spilling = [r for r in members if (r["spill_store_bytes"] or 0) + (r["spill_load_bytes"] or 0)]

        def issuing(key: str, members=members) -> str:
            count = sum(1 for r in members if r["instructions"].get(key))
            return str(count) if count else ""

        body.append([
            family, str(len({r["kernel"] for r in members})), str(len(members)),
            f"{min(registers)}-{max(registers)}" if min(registers) != max(registers) else str(registers[0]),
            str(len(spilling)) if spilling else "0",
            f"{max(r['shared_bytes'] for r in members) / 1024:.0f}",
            issuing("wgmma"), issuing("mma.sync"), issuing("ld.global.128"), issuing("st.global.128"),
            issuing("cp.async"), issuing("tma"), issuing("atom"),
        ])  # fmt: skip
    return header, body


def format_text(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() for cells in body]
    return "\n".join(lines)


def format_findings(found: dict[str, list[str]]) -> str:
    lines = []
    for title, items in found.items():
        lines.append(f"{title.replace('_', ' ')}: {len(items) if items else 'none'}")
        lines += [f"  - {item}" for item in items]
    return "\n".join(lines)


def markdown_table(header: list[str], body: list[list[str]]) -> list[str]:
    escape = lambda text: text.replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(escape(c) for c in cells) + " |" for cells in body]


def format_markdown(report: dict[str, Any], header: list[str], body: list[list[str]]) -> str:
    meta = report["meta"]
    targets = ", ".join(meta["targets"])
    distinct = f"{meta['distinct_compiles']} distinct compiles"
    compiles = f"{meta['kernels_compiled']} kernels ({distinct}, {meta['compile_s']:.0f} s)"
    lines = [
        "# tritongrad kernel report (ahead of time)",
        "",
        f"triton {meta['triton']}; targets {targets}; suites: {', '.join(meta['suites'])}; "
        f"autotune configs: {meta['configs']}; {compiles}.",
        "",
        "## Summary by kernel family",
        "",
        "Registers (min-max over the family's compiles), compiles that spill, the largest shared memory, and "
        "how many compiles issue each instruction class (`mma` = `mma.sync`; `ld128`/`st128` = 128-bit "
        "global accesses).",
        "",
        *markdown_table(*family_summary(report["kernels"])),
        "",
        "## Findings",
        "",
    ]
    for title, items in report["findings"].items():
        checked = " (fails --check)" if title in CHECKED_FINDINGS else ""
        lines.append(f"- **{title.replace('_', ' ')}**{checked}: {len(items) if items else 'none'}")
        lines += ["  - " + item.replace("|", "\\|") for item in items]
    if report["roofline"]:
        lines += [
            "",
            "## Roofline estimates of the benchmark cases",
            "",
            "Expected time in microseconds: the longer of (least bytes moved / peak HBM bandwidth) and "
            "(FLOPs / peak FLOP/s at the case's precision), divided by the share of SMs its largest grid "
            "fills (`*`: fewer programs than SMs). `bound`: memory or compute, per GPU. `occ`: the lowest "
            "occupancy (resident warps / 64) among the case's kernels; `programs`: its largest grid on sm_90. "
            "No GPU figure exists yet to read against these.",
            "",
            *[f"- {line}" for line in roofline_notes()],
            "",
            *markdown_table(*roofline_table(report["roofline"])),
        ]
    lines += [
        "",
        "## Every compiled kernel",
        "",
        "Instruction counts are static (PTX lines); `ld128` = 128-bit global loads; smem marked `!` exceeds the "
        "arch's limit.",
        "",
        *markdown_table(header, body),
    ]
    return "\n".join(lines) + "\n"


def build_report(patterns: list[str] | None, suites: list[str], archs: list[int], configs: str,
                 jobs: int) -> dict[str, Any]:  # fmt: skip
    """Captures, compiles and summarises the cases of ``suites`` (matching ``patterns``, when given);
    the returned dict is what ``--json`` writes."""
    import triton

    cases = aot_capture.select_cases(patterns, suites)
    start = time.perf_counter()
    captured = aot_capture.capture(cases, archs)
    capture_s = time.perf_counter() - start
    start = time.perf_counter()
    results = compile_launches(captured.launches, configs, jobs)
    compile_s = time.perf_counter() - start
    rows = merge_duplicates(results)
    return {
        "meta": {
            "triton": triton.__version__,
            "targets": [f"sm_{arch} ({GPU_MODELS[arch].name})" for arch in archs],
            "suites": suites,
            "configs": configs,
            "cases": [c.name for c in cases],
            "capture_s": round(capture_s, 1),
            "compile_s": round(compile_s, 1),
            "kernels_compiled": len(results),
            "distinct_compiles": len(rows),
        },
        "kernels": rows,
        "roofline": roofline_rows(results, captured, cases) if set(archs) == {80, 90} else [],
        "capture_s_per_case": {name: round(s, 2) for name, s in captured.seconds.items()},
        # Whether every kernel was reached is only meaningful when every launcher's case ran.
        "findings": findings(rows, captured, cases, complete=not patterns and "kernels" in suites),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.kernel_report",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", nargs="+", metavar="PATTERN", help="cases whose name contains PATTERN, or a family")
    parser.add_argument("--suite", nargs="+", choices=[*aot_capture.SUITES, "all"], default=list(DEFAULT_SUITES),
                        help=f"the suites of cases to compile (default: {' '.join(DEFAULT_SUITES)}; all: every "
                             "suite, the full coverage): " +
                             "; ".join(f"{k}: {v}" for k, v in aot_capture.SUITES.items()))  # fmt: skip
    parser.add_argument("--arch", nargs="+", type=int, default=sorted(GPU_MODELS), choices=sorted(GPU_MODELS))
    parser.add_argument("--configs", choices=("all", "default"), default="all",
                        help="autotuned kernels: every GPU config kept by the kernel's pruning "
                             "hook, or only the first of those (the default config)")  # fmt: skip
    parser.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    parser.add_argument(
        "--markdown", metavar="PATH", help="write the summary, findings, roofline and table as Markdown"
    )
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="compile processes")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 on compile errors, launcher failures, spills (at any compiled config), "
                             "half-precision dots without tensor cores, or aligned elementwise kernels "
                             "without 128-bit accesses")  # fmt: skip
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)
    suites = list(aot_capture.SUITES) if "all" in args.suite else list(dict.fromkeys(args.suite))
    if args.list:
        for item in aot_capture.select_cases(None, suites):
            print(f"{item.suite:10} {item.family:12} {item.name}")
        return 0
    try:
        report = build_report(args.only, suites, args.arch, args.configs, args.jobs)
    except ValueError as error:
        parser.error(str(error))
    header, body = table_rows(report["kernels"])
    meta = report["meta"]
    print(f"tritongrad kernel report: triton {meta['triton']}, {', '.join(meta['targets'])}, "
          f"autotune configs: {meta['configs']}")  # fmt: skip
    print(f"{len(meta['cases'])} cases captured in {meta['capture_s']:.1f} s; {meta['kernels_compiled']} kernels, "
          f"{meta['distinct_compiles']} distinct compiles in {meta['compile_s']:.1f} s")  # fmt: skip
    print()
    print(format_text(header, body))
    if report["roofline"]:
        print()
        print("Roofline estimates of the benchmark cases (expected us; * = fewer programs than SMs):")
        print("\n".join(roofline_notes()))
        print(format_text(*roofline_table(report["roofline"])))
    print()
    print(format_text(*family_summary(report["kernels"])))
    print()
    print(format_findings(report["findings"]))
    if args.json:
        with open(args.json, "w") as file:
            json.dump(report, file, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as file:
            file.write(format_markdown(report, header, body))
    return 1 if args.check and check_failures(report["findings"]) else 0


if __name__ == "__main__":
    sys.exit(main())
