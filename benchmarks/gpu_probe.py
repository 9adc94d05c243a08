"""Where a small op's time goes on a GPU, for the questions the first H200 run left open.

``python -m benchmarks.gpu_probe [--smoke]`` prints one table: for each case, tritongrad and torch
side by side,

* ``host µs``: host time per call of a loop of back-to-back calls, no synchronisation inside;
* ``in triton.run µs``: of that, the time spent inside Triton's launch entry points
  (``JITFunction.run``, the autotuners' ``run``): binding, specialisation, cache lookup, launch
  (on a GPU; the interpreter launches through another path, so it reads 0 there but for the
  autotuned kernels);
* ``kernel µs``: the GPU time of the call's kernels, from torch.profiler's CUDA events;
* ``launches``: kernels per call;
* ``do_bench µs``: what the benchmark suite reports (CUDA events, L2 flushed between calls).

The first run found do_bench figures far above kernel time where the host path is long (the
flush hides only ~60 µs of host time): a flat 65/135 µs per ``sum`` from 2^13 to 2^26
elements, a 5× dip of elementwise ops at 2^20-2^22 only, linears at MLP shapes at 0.05-0.26×
torch. This probe tells host from kernel for each. It also reruns the MLP training check, whose
parameters disagreed with torch's on that run, and prints every gradient and parameter that
differs. Without a GPU it runs the same code at tiny sizes in the interpreter (a smoke test:
the figures mean nothing there).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable, Iterator

import torch

import tritongrad  # noqa: I001 (first: switches on the interpreter before triton loads)
from benchmarks import bench_training
from benchmarks.common import as_tritongrad, count_torch_kernels, count_tritongrad_launches, device, on_gpu, synchronize
from tritongrad.kernels.autotune import BucketedAutotuner

ELEMENTWISE_SIZES = (2**16, 2**19, 2**20, 2**21, 2**22, 2**23)
SUM_SIZES = (2**12, 2**16, 2**20, 2**24)
LINEAR_SHAPES = ((256, 784, 512), (256, 512, 10), (4096, 4096, 4096))
SMOKE_SIZES = (2**6,)
CALLS = 200


@contextlib.contextmanager
def time_in_triton_run() -> Iterator[list[float]]:
    """Accumulates the seconds spent inside Triton's launch entry points while the block runs."""
    from triton.runtime.autotuner import Autotuner
    from triton.runtime.jit import JITFunction

    spent = [0.0]
    depth = [0]
    originals = {cls: cls.__dict__["run"] for cls in (JITFunction, Autotuner, BucketedAutotuner)}

    def timed(original: Callable) -> Callable:
        def run(self, *args, **kwargs):
            depth[0] += 1
            start = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:  # the outermost entry only (the autotuner calls JITFunction.run)
                    spent[0] += time.perf_counter() - start

        return run

    for cls, original in originals.items():
        cls.run = timed(original)
    try:
        yield spent
    finally:
        for cls, original in originals.items():
            cls.run = original


def host_and_triton_us(fn: Callable[[], object], calls: int) -> tuple[float, float]:
    """(host µs per call, of which µs inside Triton's run) over ``calls`` back-to-back calls."""
    for _ in range(3):
        fn()
    synchronize()
    with time_in_triton_run() as spent:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        host = time.perf_counter() - start
    synchronize()
    return host * 1e6 / calls, spent[0] * 1e6 / calls


def kernel_us(fn: Callable[[], object]) -> float | None:
    """GPU time of one call's kernels (profiler CUDA events), median of 5 profiled calls; None off GPU."""
    if not on_gpu():
        return None
    from torch.profiler import ProfilerActivity, profile

    totals = []
    for _ in range(5):
        synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            fn()
            synchronize()
        totals.append(
            sum(e.device_time_total for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA)
        )
    return statistics.median(totals)


def do_bench_us(fn: Callable[[], object]) -> float | None:
    """The suite's timer (median, L2 flushed between calls), in µs; None off GPU."""
    if not on_gpu():
        return None
    import triton.testing

    return triton.testing.do_bench(fn, warmup=25, rep=100, quantiles=[0.5]) * 1e3  # one quantile: a float


def cases(smoke: bool) -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """{case: (tritongrad call, torch call)} on the same fresh random data."""
    generator = torch.Generator(device=device()).manual_seed(0)
    found: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {}

    def randn(*shape, dtype=torch.float32):
        return torch.randn(*shape, device=device(), generator=generator, dtype=dtype)

    for n in SMOKE_SIZES if smoke else ELEMENTWISE_SIZES:
        a, b = randn(n), randn(n)
        ta, tb = as_tritongrad(a), as_tritongrad(b)
        found[f"add 2^{n.bit_length() - 1}"] = (lambda ta=ta, tb=tb: ta + tb, lambda a=a, b=b: a + b)
        found[f"relu 2^{n.bit_length() - 1}"] = (lambda ta=ta: ta.relu(), lambda a=a: a.relu())
    for n in SMOKE_SIZES if smoke else SUM_SIZES:
        a = randn(n)
        ta = as_tritongrad(a)
        found[f"sum 2^{n.bit_length() - 1}"] = (lambda ta=ta: ta.sum(), lambda a=a: a.sum())
    for rows, inputs, outputs in ((4, 8, 8),) if smoke else LINEAR_SHAPES:
        for dtype in (torch.float32, torch.bfloat16):
            x, w, bias = (
                randn(rows, inputs, dtype=dtype),
                randn(outputs, inputs, dtype=dtype),
                randn(outputs, dtype=dtype),
            )
            tx, tw, tbias = as_tritongrad(x), as_tritongrad(w), as_tritongrad(bias)
            found[f"linear {rows}x{inputs}x{outputs} {str(dtype)[6:]}"] = (
                lambda tx=tx, tw=tw, tbias=tbias: tritongrad.nn.functional.linear(tx, tw, tbias),
                lambda x=x, w=w, bias=bias: torch.nn.functional.linear(x, w, bias),
            )
    x = randn(*((4, 8) if smoke else (4096, 128)))
    tx = as_tritongrad(x)
    found[f"softmax {tuple(x.shape)}"] = (
        lambda: tritongrad.nn.functional.softmax(tx, dim=1),
        lambda: torch.nn.functional.softmax(x, dim=1),
    )
    return found


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def probe(smoke: bool) -> str:
    lines = [
        "| case | impl | host µs | in triton.run µs | kernel µs | launches | do_bench µs |",
        "|---|---|---|---|---|---|---|",
    ]
    calls = 5 if smoke else CALLS
    for case, (ours, theirs) in cases(smoke).items():
        for impl, fn in (("tritongrad", ours), ("torch", theirs)):
            host, in_run = host_and_triton_us(fn, calls)
            counter = count_tritongrad_launches if impl == "tritongrad" else count_torch_kernels
            launches = sum(counter(fn).values())
            row = [case, impl, _cell(host), _cell(in_run if impl == "tritongrad" else None), _cell(kernel_us(fn)),
                   str(launches), _cell(do_bench_us(fn))]  # fmt: skip
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def training_check(smoke: bool) -> str:
    """bench_training's agreement check at the suite's sizes; every disagreement, or 'agree'."""
    dims, batch = (bench_training.SMOKE_DIMS, bench_training.SMOKE_BATCH) if smoke else (
        bench_training.DIMS, bench_training.BATCH)  # fmt: skip
    report = []
    for optimizer in ("sgd", "adam"):
        sides = {
            name: bench_training.make_side(name, dims, batch, optimizer=optimizer) for name in bench_training.FRAMEWORKS
        }
        try:
            bench_training.check_sides_agree(sides["tritongrad"], sides["torch"])
            report.append(f"MLP {dims} batch {batch} {optimizer}: tritongrad and torch agree")
        except AssertionError as error:
            report.append(f"MLP {dims} batch {batch} {optimizer}: {error}")
    return "\n".join(report)


def direct_launch(calls: int = CALLS) -> str:
    """On a GPU: host µs per launch of the kernel behind tritongrad's ``a + b`` (2^16 elements)
    through ``JITFunction.run`` against a call of the ``CompiledKernel`` it returned, with the same
    arguments (what a launcher that skipped Triton's binding and specialisation would pay; Triton
    3.6 and 3.9 launch with ``kernel.run(grid0, grid1, grid2, stream, kernel.function,
    kernel.packed_metadata, launch_metadata, enter_hook, exit_hook, *bound_args.values())``).
    The direct launches write the same output, which is then checked against torch. Written
    without a GPU at hand (the interpreter has no CompiledKernel): it has not run yet, and it
    reports what broke instead of stopping the probe."""
    if not on_gpu():
        return "direct launch: needs a GPU (the interpreter has no compiled kernels)"
    from triton.runtime.jit import JITFunction

    generator = torch.Generator(device=device()).manual_seed(0)
    a, b = (torch.randn(2**16, device=device(), generator=generator) for _ in range(2))
    ta, tb = as_tritongrad(a), as_tritongrad(b)
    captured = []
    original = JITFunction.run

    def capture(self, *args, grid, warmup, **kwargs):
        kernel = original(self, *args, grid=grid, warmup=warmup, **kwargs)
        captured.append((self, args, kwargs, grid, kernel))
        return kernel

    JITFunction.run = capture
    try:
        ta + tb
    finally:
        JITFunction.run = original
    if len(captured) != 1:
        return f"direct launch: a + b made {len(captured)} JITFunction launches, expected 1"
    fn, args, kwargs, grid, kernel = captured[0]
    try:
        binder = fn.device_caches[torch.cuda.current_device()][-1]
        bound_args, _, _ = binder(*args, **kwargs)
        values = list(bound_args.values())
        grid = grid(bound_args) if callable(grid) else tuple(grid) + (1,) * (3 - len(grid))
        stream = torch.cuda.current_stream().cuda_stream

        def through_run():
            fn.run(*args, grid=grid, warmup=False, **kwargs)

        def direct():
            kernel.run(grid[0], grid[1], grid[2], stream, kernel.function, kernel.packed_metadata, None, None, None,
                       *values)  # fmt: skip

        def bind_only():
            binder(*args, **kwargs)

        ways = (("JITFunction.run", through_run), ("CompiledKernel.run", direct), ("binder alone", bind_only))
        timings = {name: host_and_triton_us(f, calls)[0] for name, f in ways}
        inputs = (a.data_ptr(), b.data_ptr())
        out = next(v for v in values if isinstance(v, torch.Tensor) and v.data_ptr() not in inputs)
        out.zero_()
        direct()
        synchronize()
        agrees = torch.equal(out, a + b)
    except Exception as error:  # a probe: report what broke and go on
        return f"direct launch: failed ({type(error).__name__}: {error})"
    figures = ", ".join(f"{name} {us:.1f} µs" for name, us in timings.items())
    return f"direct launch of {fn.__name__} (host per launch): {figures}; direct result equals torch's: {agrees}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_probe", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (what runs without a GPU)")
    args = parser.parse_args(argv)
    smoke = args.smoke or not on_gpu()
    print(f"tritongrad {tritongrad.__version__}, torch {torch.__version__}, device {device()}")
    print(training_check(smoke))
    print(direct_launch())
    print(probe(smoke))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
