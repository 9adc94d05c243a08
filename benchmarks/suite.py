"""The benchmark suite: every family, run in order, and its result files.

Families (``--only`` takes these names, comma separated):

    elementwise     add, mul, ReLU fwd/bwd over 2^12 ... 2^28 elements
    reduction       sum over 2^12 ... 2^28 elements
    softmax         softmax fwd/bwd at 4096 x N, N = 128 ... 32768
    attention       flash attention fwd and fwd+bwd vs torch SDPA, N = 512 ... 16K, d = 64/128
    pool            max/avg/global-average pooling fwd/bwd at ResNet shapes
    conv            conv2d fwd, input grad, weight grad at ResNet-50 shapes, fp32/tf32/fp16/bf16, NCHW/NHWC
    norm            BatchNorm (training), LayerNorm, RMSNorm fwd/bwd in GB/s
    matmul          fp32/tf32/fp16/bf16, square 256 ... 8192 and MLP shapes
    fused           linear (+ReLU) fwd, linear fwd+bwd, cross-entropy fwd+bwd
    fused_ce        fused linear + cross-entropy fwd+bwd vs torch's unfused: time and peak memory, V = 32K ... 128K
    training        one MLP training step (SGD momentum, Adam), launches and peak memory
    gpt_step        one training step of examples/tiny_gpt.py's GPT (AdamW), fp32/bf16, tokens/s
    host_overhead   host time per launch of a tiny elementwise op
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

import torch

from benchmarks import (
    bench_attention,
    bench_conv,
    bench_elementwise,
    bench_fused,
    bench_fused_ce,
    bench_gpt_step,
    bench_matmul,
    bench_norm,
    bench_pool,
    bench_reduction,
    bench_softmax,
    bench_training,
    host_overhead,
)
from benchmarks.common import (
    Benchmark,
    Context,
    Row,
    default_results_dir,
    device_info,
    markdown_table,
    write_csv,
    write_markdown,
    write_plot,
)

BENCHMARKS: dict[str, Benchmark] = {
    module.BENCHMARK.name: module.BENCHMARK
    for module in (
        bench_elementwise,
        bench_reduction,
        bench_softmax,
        bench_attention,
        bench_pool,
        bench_conv,
        bench_norm,
        bench_matmul,
        bench_fused,
        bench_fused_ce,
        bench_training,
        bench_gpt_step,
        host_overhead,
    )  # fmt: skip
}


def select(only: str | None) -> list[Benchmark]:
    """The benchmarks named in ``only`` (comma separated; None: all), in suite order."""
    if not only:
        return list(BENCHMARKS.values())
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        raise ValueError(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    return [BENCHMARKS[name] for name in BENCHMARKS if name in names]


def write_results(directory: str, benchmark: Benchmark, rows: Sequence[Row], info: dict[str, str]) -> list[str]:
    """<name>.csv, <name>.md and (with matplotlib) <name>.png in ``directory``; returns the paths written."""
    os.makedirs(directory, exist_ok=True)
    base = os.path.join(directory, benchmark.name)
    write_csv(base + ".csv", rows, info)
    write_markdown(base + ".md", benchmark.title, benchmark.description, rows, info)
    paths = [base + ".csv", base + ".md"]
    if write_plot(base + ".png", benchmark.title, rows, info, benchmark.metric, benchmark.x_label):
        paths.append(base + ".png")
    return paths


def run(only: str | None = None, *, smoke: bool = False, output: str | None = None, out=None) -> dict:
    """Runs the selected benchmarks, printing a table for each; returns {name: rows}.

    ``output``: the folder for result files; "default" picks benchmarks/results/<gpu name>/
    (benchmarks/results/cpu-interpreter-smoke/ without a GPU); None writes files only on a GPU.
    ``out``: where the tables are printed (default: stdout).
    """
    out = sys.stdout if out is None else out
    benchmarks = select(only)
    info = device_info()
    if output == "default" or (output is None and info["device_name"] != "cpu"):
        output = default_results_dir(info)
    # Without a GPU torch's CPU ops are only the oracle; one thread keeps them from stalling in
    # OpenMP barriers on a busy machine (a tiny op can take 25 ms with 2 threads under load).
    threads = torch.get_num_threads()
    if info["device_name"] == "cpu":
        torch.set_num_threads(1)
    try:
        context = Context(smoke=smoke)
        copied = "2^16" if smoke else "2^28"
        info["copy_bandwidth"] = f"{context.copy_gbps:.1f} GB/s (torch device-to-device copy of {copied} fp32 values)"
        print(f"tritongrad benchmarks on {info['gpu']}", file=out)
        print(f"timer: {info['timer']}", file=out)
        print(f"copy bandwidth: {info['copy_bandwidth']}", file=out)
        return {benchmark.name: _run_one(benchmark, context, output, info, out) for benchmark in benchmarks}
    finally:
        torch.set_num_threads(threads)


def _run_one(benchmark: Benchmark, context: Context, output: str | None, info: dict[str, str], out) -> list[Row]:
    start = time.perf_counter()
    rows = benchmark.run(context)
    print(f"\n## {benchmark.title}  ({time.perf_counter() - start:.1f} s)\n", file=out)
    print(markdown_table(rows), file=out)
    if output:
        for path in write_results(output, benchmark, rows, info):
            print(f"wrote {os.path.relpath(path)}", file=out)
    return rows
