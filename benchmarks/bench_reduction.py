"""Reductions against torch: the sum of all n elements.

A full sum reads every element once and writes one value, so it is memory
bound: bytes moved = 4 * n (+4) for fp32, reported as GB/s and as a fraction
of the copy bandwidth. tritongrad is called through ``launch_sum``; the result
is checked against torch's float64 sum with a tolerance proportional to
sum(|x|), the scale of the rounding error of any fp32 summation order.
"""

from __future__ import annotations

import torch

from benchmarks.common import Benchmark, Context, Row, device
from tritongrad.kernels import reduce as reduce_kernels

SIZES = [2**p for p in range(12, 29)]
SMOKE_SIZES = [2**8, 2**12 + 3]

# Rounding error of an fp32 sum, relative to sum(|x|): ~log2(n) * 2^-24 for a tree-shaped order.
SUM_TOLERANCE = 1e-5


def _check_sum(n: int, actual: torch.Tensor, x: torch.Tensor) -> None:
    expected = x.double().sum()
    error = (actual.double() - expected).abs().item()
    allowed = SUM_TOLERANCE * x.double().abs().sum().item()
    if not error <= allowed:
        raise AssertionError(f"sum n={n}: tritongrad differs from torch by {error:.3g} (allowed {allowed:.3g})")


def run(context: Context) -> list[Row]:
    rows = []
    generator = torch.Generator(device=device()).manual_seed(0)
    for n in SMOKE_SIZES if context.smoke else SIZES:
        x = torch.randn(n, device=device(), generator=generator)
        _check_sum(n, reduce_kernels.launch_sum(x, (), False), x)
        bytes_moved = (n + 1) * x.element_size()
        for impl, fn in (
            ("tritongrad", lambda x=x: reduce_kernels.launch_sum(x, (), False)),
            ("torch", x.sum),
        ):
            rows.append(context.memory_row("reduction", "sum", impl, x, f"({n},)", n, context.time(fn), bytes_moved))
        del x
    return rows


BENCHMARK = Benchmark(
    name="reduction",
    title="Reductions: sum of all elements",
    description=__doc__.split("\n\n", 1)[1].strip(),
    run=run,
    metric="gbps",
    x_label="elements",
)
