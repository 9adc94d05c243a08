"""The ahead-of-time kernel report: every tritongrad kernel compiled for sm_80 and sm_90, no GPU needed.

    python -m benchmarks.kernel_report [--only PATTERN ...] [--arch 80 90] [--configs all|default]
                                       [--json PATH] [--markdown PATH] [--jobs N] [--check] [--list]

For each kernel, per launch configuration and arch: registers per thread,
spill bytes (stores/loads), shared memory, and the static instruction mix of
its PTX: tensor-core MMAs (``wgmma`` on Hopper, ``mma.sync`` on Ampere),
``ldmatrix``, ``cp.async``, and global loads/stores by width (128-bit accesses
are what a bandwidth-bound kernel wants).

How it gets there:

1. capture (``benchmarks.aot_capture``): every case calls a public launcher in
   Triton's interpreter with the runtime answering as on an A100 / H100, and
   each ``kernel[grid](...)`` call is recorded with its bound arguments, block
   sizes and ``num_warps``;
2. compile (``benchmarks.aot``, a subprocess without the interpreter): each
   recorded launch is specialised as a real launch would be (16-byte
   divisibility of pointers and ints, ints equal to 1 folded) and compiled with
   ``triton.compile(..., target=GPUTarget("cuda", cc, 32))``; autotuned kernels
   are compiled at each GPU config their own pruning hook keeps on that arch
   (``--configs default``: only the first kept, the kernel's default config);
3. report: a table, the findings (spills, compile errors, configs too large for
   the arch's shared memory, kernels no case reaches), ``--json`` / ``--markdown``.

``make report`` runs it; ``python -m benchmarks.kernel_report --list`` lists the cases.

``--check`` exits non-zero when a kernel fails to compile, a launcher fails,
or a kernel spills at its default configuration.
"""

from __future__ import annotations

import argparse
import json
import os
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
from benchmarks import aot_capture  # noqa: E402
from benchmarks.aot import GPU_MODELS  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Instruction-mix columns of the table: (header, key in a result's "instructions").
INSTRUCTION_COLUMNS = [
    ("wgmma", "wgmma"),
    ("mma", "mma.sync"),
    ("ldmatrix", "ldmatrix"),
    ("cp.async", "cp.async"),
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


def findings(rows: list[dict[str, Any]], capture: aot_capture.Capture, complete: bool) -> dict[str, list[str]]:
    """What a reader (or --check) should look at, as short lines."""

    def name(row):
        config = "" if row["autotune_config"] is None else f" autotune config {row['autotune_config']}"
        return f"{row['kernel']} [{row['cases'][0]}]{config} {row['arch']}"

    compiled = [r for r in rows if r["error"] is None]
    spilling = [r for r in compiled if (r["spill_store_bytes"] or 0) + (r["spill_load_bytes"] or 0) > 0]
    return {
        "compile_errors": [f"{name(r)}: {r['error'].splitlines()[-1]}" for r in rows if r["error"]],
        "capture_failures": [f"{f['case']} ({f['arch']}): {f['error']}" for f in capture.failures],
        "spills_at_default_config": [
            f"{name(r)}: {r['registers']} regs, {r['spill_store_bytes']} B spill stores, "
            f"{r['spill_load_bytes']} B spill loads"
            for r in spilling
            if r["default_config"]
        ],
        "spills_at_other_autotune_configs": [
            f"{name(r)}: {r['registers']} regs, {r['spill_store_bytes']} B stores, {r['spill_load_bytes']} B loads"
            for r in spilling
            if not r["default_config"]
        ],
        "exceeds_shared_memory": [
            f"{name(r)}: {r['shared_bytes']} B > {GPU_MODELS[int(r['arch'][3:])].max_shared_bytes} B "
            "(pruned by the autotuner / fails to launch)"
            for r in compiled
            if not r["fits_shared_memory"]
        ],
        # Only meaningful when every case ran.
        "uncaptured_kernels": aot_capture.uncaptured_kernels(capture.launches) if complete else [],
    }


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


def format_markdown(report: dict[str, Any], header: list[str], body: list[list[str]]) -> str:
    meta = report["meta"]
    escape = lambda text: text.replace("|", "\\|")  # noqa: E731
    targets = ", ".join(meta["targets"])
    compiles = f"{meta['kernels_compiled']} compiles in {meta['compile_s']:.0f} s"
    lines = [
        "# tritongrad kernel report (ahead of time)",
        "",
        f"triton {meta['triton']}; targets {targets}; autotune configs: {meta['configs']}; {compiles}.",
        "",
        "Instruction counts are static (PTX lines); `ld128` = 128-bit global loads; "
        "smem marked `!` exceeds the arch's limit.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(escape(c) for c in cells) + " |" for cells in body]
    lines += ["", "## Findings", ""]
    for title, items in report["findings"].items():
        lines.append(f"- **{title.replace('_', ' ')}**: {len(items) if items else 'none'}")
        lines += [f"  - {escape(item)}" for item in items]
    return "\n".join(lines) + "\n"


def build_report(patterns: list[str] | None, archs: list[int], configs: str, jobs: int) -> dict[str, Any]:
    """Captures, compiles and summarises; the returned dict is what ``--json`` writes."""
    import triton

    cases = aot_capture.select_cases(patterns)
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
            "configs": configs,
            "cases": [c.name for c in cases],
            "capture_s": round(capture_s, 1),
            "compile_s": round(compile_s, 1),
            "kernels_compiled": len(results),
        },
        "kernels": rows,
        "capture_s_per_case": {name: round(s, 2) for name, s in captured.seconds.items()},
        "findings": findings(rows, captured, complete=not patterns),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.kernel_report",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", nargs="+", metavar="PATTERN", help="cases whose name contains PATTERN, or a family")
    parser.add_argument("--arch", nargs="+", type=int, default=sorted(GPU_MODELS), choices=sorted(GPU_MODELS))
    parser.add_argument("--configs", choices=("all", "default"), default="all",
                        help="autotuned kernels: every GPU config kept by the kernel's pruning "
                             "hook, or only the first of those (the default config)")  # fmt: skip
    parser.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the table and findings as Markdown")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="compile processes")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 on compile errors, launcher failures or spills at a default "
                             "config")  # fmt: skip
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)
    if args.list:
        for item in aot_capture.CASES.values():
            print(f"{item.family:12} {item.name}")
        return 0
    try:
        report = build_report(args.only, args.arch, args.configs, args.jobs)
    except ValueError as error:
        parser.error(str(error))
    header, body = table_rows(report["kernels"])
    meta = report["meta"]
    print(f"tritongrad kernel report: triton {meta['triton']}, {', '.join(meta['targets'])}, "
          f"autotune configs: {meta['configs']}")  # fmt: skip
    print(f"capture {meta['capture_s']:.1f} s, {meta['kernels_compiled']} compiles {meta['compile_s']:.1f} s")
    print()
    print(format_text(header, body))
    print()
    print(format_findings(report["findings"]))
    if args.json:
        with open(args.json, "w") as file:
            json.dump(report, file, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as file:
            file.write(format_markdown(report, header, body))
    found = report["findings"]
    failed = found["compile_errors"] or found["capture_failures"] or found["spills_at_default_config"]
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
