"""Host overhead per launch: what one small elementwise op costs the CPU, tritongrad against torch.

A tiny tensor op is all overhead: argument checks, autograd bookkeeping,
choosing a kernel, and the launch itself. The loop below issues N adds of two
small fp32 tensors back to back and synchronises once at the end:

    host      time until the loop returns / N: the CPU's cost per op. Kernels run
              asynchronously on a GPU, so this is pure host work as long as the
              launch queue does not fill up.
    wall      time until the GPU has finished too / N: max(host cost, GPU time
              per kernel), i.e. the rate a stream of small ops actually achieves.

Three implementations: ``tritongrad.add`` on Tensors (the public op, with its
Function/tape bookkeeping), ``launch_binary`` (tritongrad's launcher alone:
checks, output allocation, Triton's launch path) and ``torch.add``. Sizes of
1, 1K, 16K and 256K elements show where GPU time starts to dominate.

On the CPU interpreter the numbers time the interpreter emulating the kernel,
not a launch: they are only a smoke test of this script.
"""

from __future__ import annotations

import statistics
import time

import torch

import tritongrad
from benchmarks.common import (
    Benchmark,
    Context,
    Row,
    as_tritongrad,
    count_torch_kernels,
    count_tritongrad_launches,
    device,
    synchronize,
)
from tritongrad.kernels import elementwise as elementwise_kernels

SIZES = [1, 2**10, 2**14, 2**18]
SMOKE_SIZES = [1, 2**10]
LAUNCHES = 2000
SMOKE_LAUNCHES = 5
REPEATS = 5
SMOKE_REPEATS = 2


def _per_launch_ms(fn, launches: int, repeats: int) -> tuple[list[float], list[float]]:
    """(host ms per launch, wall ms per launch) for each of ``repeats`` loops of ``launches`` calls."""
    host, wall = [], []
    for _ in range(repeats):
        synchronize()
        start = time.perf_counter()
        for _ in range(launches):
            fn()
        issued = time.perf_counter()
        synchronize()
        finished = time.perf_counter()
        host.append((issued - start) * 1e3 / launches)
        wall.append((finished - start) * 1e3 / launches)
    return host, wall


def _row(case: str, impl: str, n: int, samples: list[float], launches: int | None) -> Row:
    samples = sorted(samples)
    low, high = samples[len(samples) // 5], samples[-1 - len(samples) // 5]
    return Row("host_overhead", case, impl, "float32", f"({n},)", n, statistics.median(samples), low, high,
               launches=launches, note=f"{statistics.median(samples) * 1e3:.1f} us per op")  # fmt: skip


def run(context: Context) -> list[Row]:
    launches = SMOKE_LAUNCHES if context.smoke else LAUNCHES
    repeats = SMOKE_REPEATS if context.smoke else REPEATS
    rows = []
    generator = torch.Generator(device=device()).manual_seed(0)
    for n in SMOKE_SIZES if context.smoke else SIZES:
        a = torch.randn(n, device=device(), generator=generator)
        b = torch.randn(n, device=device(), generator=generator)
        tg_a, tg_b = as_tritongrad(a), as_tritongrad(b)
        impls = {
            "tritongrad.add": lambda tg_a=tg_a, tg_b=tg_b: tritongrad.add(tg_a, tg_b),
            "tritongrad launcher": lambda a=a, b=b: elementwise_kernels.launch_binary(
                "add", a, b, out_dtype=torch.float32, compute=torch.float32
            ),
            "torch": lambda a=a, b=b: torch.add(a, b),
        }
        for impl, fn in impls.items():
            fn()  # compile / warm every cache before timing
            counter = count_torch_kernels if impl == "torch" else count_tritongrad_launches
            launch_count = sum(counter(fn).values())
            host, wall = _per_launch_ms(fn, launches, repeats)
            rows.append(_row("host time per op", impl, n, host, launch_count))
            rows.append(_row("wall time per op (sync at end)", impl, n, wall, launch_count))
    return rows


BENCHMARK = Benchmark(
    name="host_overhead",
    title="Host overhead per launch: tiny elementwise adds",
    description=__doc__.split("\n\n", 1)[1].strip(),
    run=run,
    metric="us",
    x_label="elements",
)
