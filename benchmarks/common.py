"""What every benchmark shares: timing, device facts, launch counting and the result files.

Timing
------
On a GPU every measurement is ``triton.testing.do_bench`` with
``quantiles=[0.5, 0.2, 0.8]``: CUDA events around each repetition, the L2
cache flushed in between, and the median with the 20th/80th percentiles
reported. ``do_bench`` needs CUDA events, so without a GPU (the ``--smoke``
mode, where kernels run in Triton's CPU interpreter) a ``time.perf_counter``
loop stands in. Interpreter timings say nothing about performance; the
files written from such a run say so in their header.

Launch counting
---------------
``count_tritongrad_launches`` and ``count_torch_kernels`` count what one call
of a function launches, by kernel name:

* on a GPU both use ``torch.profiler``'s CUDA kernel events (Triton kernels
  are ordinary CUDA kernels there);
* in the interpreter tritongrad's launches are counted by wrapping
  ``triton.runtime.interpreter.GridExecutor.__call__`` (one call per
  ``kernel[grid](...)``), and torch's by a ``TorchDispatchMode`` counting the
  aten ops that would launch a kernel on a GPU: everything dispatched except
  views, allocation and metadata (``NON_KERNEL_OPS``). Composite ops are seen
  after decomposition (``linear`` arrives as ``t`` + ``addmm``), as on a GPU;
  a ``_foreach_*`` op counts once, like the one multi-tensor kernel it
  launches on a GPU for a handful of tensors.

Result files
------------
``write_results`` writes ``<name>.csv``, ``<name>.md`` and ``<name>.png`` for
each benchmark into one folder, every file stamped with the GPU name, driver,
CUDA/torch/triton versions and the git commit.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime
import math
import os
import platform
import re
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

import tritongrad
from tritongrad import runtime

# triton is imported inside functions: tritongrad must be imported first, since it decides
# whether Triton runs its interpreter (TRITON_INTERPRET must be set before triton loads).

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_ROOT = os.path.join(REPO_ROOT, "benchmarks", "results")
SMOKE_RESULTS_NAME = "cpu-interpreter-smoke"

# ----------------------------------------------------------------------------------------------
# Rows: one measurement of one implementation
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Row:
    """One timed implementation of one benchmark case; metrics are None where they mean nothing."""

    benchmark: str  # family: "elementwise", "matmul", ...
    case: str  # what is computed: "add", "softmax bwd", "mlp step (sgd)", ...
    impl: str  # "tritongrad", "torch", "tritongrad (cuda graph)", ...
    dtype: str
    shape: str
    x: float  # the size a plot puts on its x axis (elements, N, matrix side, ...)
    ms: float  # median
    ms_p20: float
    ms_p80: float
    gbps: float | None = None  # (bytes read + bytes written) / median time
    tflops: float | None = None
    fraction: float | None = None  # of the reference named in fraction_of
    fraction_of: str = ""
    peak_mem_mb: float | None = None
    launches: int | None = None  # kernel launches per call
    note: str = ""


CSV_FIELDS = [field.name for field in dataclasses.fields(Row)]


# ----------------------------------------------------------------------------------------------
# Device facts and the stamp every result file carries
# ----------------------------------------------------------------------------------------------


def on_gpu() -> bool:
    return runtime.device_type() == "cuda"


def device() -> torch.device:
    return runtime.device()


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _driver_version() -> str:
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    lines = done.stdout.strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else "unknown"


def device_info() -> dict[str, str]:
    """The facts stamped on every result file: device, driver, versions, commit, timer."""
    import triton

    commit = _git("rev-parse", "--short=12", "HEAD") or "unknown"
    if _git("status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    if on_gpu():
        name = torch.cuda.get_device_name()
        properties = torch.cuda.get_device_properties(torch.cuda.current_device())
        gpu = f"{name} (sm_{properties.major}{properties.minor}, {properties.total_memory / 2**30:.0f} GiB)"
        driver, cuda = _driver_version(), torch.version.cuda or "unknown"
        timer = "triton.testing.do_bench: CUDA events, L2 flushed between reps; median [p20, p80]"
    else:
        name = "cpu"
        gpu = f"none: Triton interpreter on the CPU ({platform.processor() or platform.machine()})"
        driver = cuda = "n/a"
        timer = (
            "time.perf_counter on Triton's CPU interpreter: a smoke run, the timings are MEANINGLESS "
            "for performance (they time numpy emulating the kernels)"
        )
    return {
        "device_name": name,
        "gpu": gpu,
        "driver": driver,
        "cuda": cuda,
        "torch": torch.__version__,
        "triton": triton.__version__,
        "tritongrad": tritongrad.__version__,
        "commit": commit,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "timer": timer,
    }


def default_results_dir(info: dict[str, str]) -> str:
    """benchmarks/results/<gpu name>/ on a GPU, benchmarks/results/cpu-interpreter-smoke/ otherwise."""
    if not on_gpu():
        return os.path.join(RESULTS_ROOT, SMOKE_RESULTS_NAME)
    slug = re.sub(r"[^a-z0-9]+", "-", info["device_name"].lower()).strip("-")
    return os.path.join(RESULTS_ROOT, slug or "gpu")


# ----------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Timing:
    ms: float
    ms_p20: float
    ms_p80: float


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile of already sorted values (numpy's default rule)."""
    position = q * (len(sorted_values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def time_call(
    fn: Callable[[], Any], *, smoke: bool, warmup_ms: int = 25, rep_ms: int = 100, warmup_calls: int = 1
) -> Timing:
    """Median and 20th/80th percentile time of ``fn()`` in milliseconds.

    GPU: ``do_bench`` (``warmup_ms``/``rep_ms`` are its time budgets). CPU: ``warmup_calls``
    untimed calls, then 2 timed calls in smoke mode (10 otherwise).
    """
    if on_gpu():
        import triton.testing

        median, p20, p80 = triton.testing.do_bench(fn, warmup=warmup_ms, rep=rep_ms, quantiles=[0.5, 0.2, 0.8])
        return Timing(median, p20, p80)
    for _ in range(warmup_calls):
        fn()
    samples = []
    for _ in range(2 if smoke else 10):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    samples.sort()
    return Timing(statistics.median(samples), _percentile(samples, 0.2), _percentile(samples, 0.8))


def copy_bandwidth_gbps(numel: int, *, smoke: bool) -> float:
    """This device's copy bandwidth: a device-to-device copy of ``numel`` fp32 values, timed like the rest.

    torch is the reference here: ``torch.empty_like(x).copy_(x)`` reads and writes every byte once.
    """
    x = torch.randn(numel, device=device())
    timing = time_call(lambda: torch.empty_like(x).copy_(x), smoke=smoke)
    return 2 * x.numel() * x.element_size() / (timing.ms * 1e-3) / 1e9


def synchronize() -> None:
    if on_gpu():
        torch.cuda.synchronize()


# ----------------------------------------------------------------------------------------------
# Correctness: every benchmark compares tritongrad with torch before timing it
# ----------------------------------------------------------------------------------------------

# Relative to the largest reference magnitude: sums over long axes (matmul, reductions)
# accumulate rounding, so an elementwise rtol would be too strict for them.
TOLERANCE = {torch.float64: 1e-9, torch.float32: 1e-4, torch.float16: 2e-2, torch.bfloat16: 4e-2}
TF32_TOLERANCE = 2e-2


def check_close(what: str, actual: torch.Tensor, expected: torch.Tensor, tolerance: float | None = None) -> None:
    """Raises AssertionError when max|actual - expected| > tolerance * max(1, max|expected|)."""
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape {tuple(actual.shape)}, expected {tuple(expected.shape)}")
    tolerance = TOLERANCE.get(expected.dtype, 1e-4) if tolerance is None else tolerance
    if expected.numel() == 0:
        return
    expected64, actual64 = expected.double(), actual.double()
    error = (actual64 - expected64).abs().max().item()
    scale = max(1.0, expected64.abs().max().item())
    if not error <= tolerance * scale:  # also catches NaN
        raise AssertionError(
            f"{what}: tritongrad differs from torch by {error:.3g} (allowed {tolerance * scale:.3g}), "
            f"shape {tuple(expected.shape)}, dtype {expected.dtype}"
        )


def as_tritongrad(data: torch.Tensor, requires_grad: bool = False) -> tritongrad.Tensor:
    """A tritongrad Tensor over ``data``'s memory (no copy), so both frameworks read the same inputs."""
    return tritongrad.Tensor._wrap(data.detach(), requires_grad=requires_grad)


# ----------------------------------------------------------------------------------------------
# Launch counting (see the module docstring for the method)
# ----------------------------------------------------------------------------------------------

# aten ops that launch no kernel on a GPU: allocation, metadata, aliasing, host readback.
NON_KERNEL_OPS = frozenset(
    {
        "empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "detach", "alias",
        "lift_fresh", "_local_scalar_dense", "is_same_size", "sym_size", "sym_stride", "sym_numel",
        "sym_storage_offset", "_has_compatible_shallow_copy_type", "set_", "record_stream", "resize_",
        "_record_function_enter_new", "_record_function_exit",  # profiler ranges (torch.optim's step)
    }
)  # fmt: skip


def _profiled_kernels(fn: Callable[[], Any]) -> Counter:
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    # Kernels (and memcpys/memsets) are the events of device type CUDA; CPU activity is on so
    # that each is correlated with the op that launched it, as in a normal profile.
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    counts: Counter = Counter()
    for event in prof.events():
        if event.device_type == torch.autograd.DeviceType.CUDA:
            counts[event.name] += 1
    return counts


@contextlib.contextmanager
def _counting_interpreter_launches() -> Iterator[Counter]:
    from triton.runtime import interpreter

    counts: Counter = Counter()
    executor = interpreter.GridExecutor
    original = executor.__call__

    def counted(self_executor, *args, **kwargs):
        counts[self_executor.fn.__name__] += 1
        return original(self_executor, *args, **kwargs)

    executor.__call__ = counted
    try:
        yield counts
    finally:
        executor.__call__ = original


def count_tritongrad_launches(fn: Callable[[], Any]) -> Counter:
    """Kernel launches of one ``fn()`` call, by kernel name (warm caches first: autotuning launches too)."""
    if on_gpu():
        return _profiled_kernels(fn)
    with _counting_interpreter_launches() as counts:
        fn()
    return counts


def count_torch_kernels(fn: Callable[[], Any]) -> Counter:
    """Kernels torch eager launches for one ``fn()`` call, by name (aten op names on the CPU)."""
    if on_gpu():
        return _profiled_kernels(fn)
    from torch.utils._python_dispatch import TorchDispatchMode

    counts: Counter = Counter()

    class KernelCounter(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = func.overloadpacket.__name__
            if not func.is_view and name not in NON_KERNEL_OPS:
                counts[f"aten.{name}"] += 1
            return func(*args, **(kwargs or {}))

    with KernelCounter():
        fn()
    return counts


# ----------------------------------------------------------------------------------------------
# Result files
# ----------------------------------------------------------------------------------------------


def _number(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 1e-3:
        return f"{value:.{digits}g}"
    return f"{value:.2e}"


def speedups_vs_torch(rows: Sequence[Row]) -> dict[int, float]:
    """Row index -> torch's median / this row's median, for rows with a torch row of the same case."""
    torch_ms = {(r.case, r.dtype, r.shape): r.ms for r in rows if r.impl == "torch"}
    result = {}
    for index, row in enumerate(rows):
        reference = torch_ms.get((row.case, row.dtype, row.shape))
        if reference is not None and row.ms > 0:
            result[index] = reference / row.ms
    return result


def _stamp_lines(info: dict[str, str]) -> list[str]:
    keys = (
        "gpu",
        "driver",
        "cuda",
        "torch",
        "triton",
        "tritongrad",
        "commit",
        "date",
        "timer",
        "copy_bandwidth",
    )
    return [f"{key}: {info[key]}" for key in keys if key in info]


def write_csv(path: str, rows: Sequence[Row], info: dict[str, str]) -> None:
    with open(path, "w", newline="") as handle:
        for line in _stamp_lines(info):
            handle.write(f"# {line}\n")
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in dataclasses.asdict(row).items()})


def markdown_table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table: median [p20, p80] ms, throughput, fraction, speed vs torch."""
    speedups = speedups_vs_torch(rows)
    extras = [("GB/s", "gbps"), ("TFLOP/s", "tflops"), ("peak MB", "peak_mem_mb"), ("launches", "launches")]
    extras = [(title, name) for title, name in extras if any(getattr(r, name) is not None for r in rows)]
    has_fraction = any(r.fraction is not None for r in rows)
    header = ["case", "dtype", "shape", "impl", "ms median [p20, p80]"] + [title for title, _ in extras]
    header += ["fraction of"] if has_fraction else []
    header += ["torch ms / ms", "note"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, row in enumerate(rows):
        cells = [row.case, row.dtype, row.shape, row.impl,
                 f"{_number(row.ms)} [{_number(row.ms_p20)}, {_number(row.ms_p80)}]"]  # fmt: skip
        cells += [_number(getattr(row, name)) for _, name in extras]
        if has_fraction:
            cells.append(f"{row.fraction:.2f} {row.fraction_of}" if row.fraction is not None else "")
        cells += [_number(speedups.get(index), 2), row.note]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_markdown(path: str, title: str, description: str, rows: Sequence[Row], info: dict[str, str]) -> None:
    stamp = "\n".join(f"- {line}" for line in _stamp_lines(info))
    with open(path, "w") as handle:
        handle.write(f"# {title}\n\n{description}\n\n{stamp}\n\n{markdown_table(rows)}\n")


def write_plot(path: str, title: str, rows: Sequence[Row], info: dict[str, str], metric: str, x_label: str) -> bool:
    """One panel per case: ``metric`` against ``x`` (log scales), a line per implementation and dtype.

    Returns False (and writes nothing) when matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    cases = list(dict.fromkeys(r.case for r in rows))
    columns = min(len(cases), 3)
    lines_of_panels = math.ceil(len(cases) / columns)
    figure, axes = plt.subplots(lines_of_panels, columns, figsize=(5.5 * columns, 4 * lines_of_panels), squeeze=False)
    metric_titles = {"gbps": "GB/s", "tflops": "TFLOP/s", "ms": "ms (median)", "us": "µs per launch"}
    for axis, case in zip(axes.flat, cases):
        series: dict[str, list[tuple[float, float]]] = {}
        for row in rows:
            value = row.ms if metric == "ms" else (row.ms * 1e3 if metric == "us" else getattr(row, metric))
            if row.case == case and value is not None:
                series.setdefault(f"{row.impl} {row.dtype}", []).append((row.x, value))
        for label, points in series.items():
            points.sort()
            axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3, label=label)
        axis.set_title(case)
        axis.set_xscale("log", base=2)
        axis.set_xlabel(x_label)
        axis.set_ylabel(metric_titles.get(metric, metric))
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    for axis in list(axes.flat)[len(cases) :]:
        axis.set_visible(False)
    figure.suptitle(f"{title} — {info['gpu']}", fontsize=10)
    footer = f"torch {info['torch']}, triton {info['triton']}, driver {info['driver']}, commit {info['commit']}"
    figure.text(0.5, 0.005, footer, ha="center", fontsize=7)
    figure.tight_layout(rect=(0, 0.03, 1, 0.97))
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


# ----------------------------------------------------------------------------------------------
# What a benchmark family is, and what it is handed when it runs
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Context:
    """Run-wide settings: smoke mode (tiny sizes, CPU timer) and the measured copy bandwidth."""

    smoke: bool
    _copy_gbps: float | None = None

    def time(self, fn: Callable[[], Any], **kwargs) -> Timing:
        if self.smoke:
            kwargs = {"warmup_ms": 5, "rep_ms": 20, **kwargs}  # a smoke run on a GPU stays short too
        return time_call(fn, smoke=self.smoke, **kwargs)

    @property
    def copy_gbps(self) -> float:
        """Device-to-device copy bandwidth in GB/s, measured once per run (2^28 fp32 values, smoke: 2^16)."""
        if self._copy_gbps is None:
            self._copy_gbps = copy_bandwidth_gbps(2**16 if self.smoke else 2**28, smoke=self.smoke)
        return self._copy_gbps

    def memory_row(
        self, benchmark: str, case: str, impl: str, x: torch.Tensor, shape: str, size: float, timing: Timing,
        bytes_moved: int,
    ) -> Row:  # fmt: skip
        """A Row for a memory-bound case on input ``x``: GB/s and the fraction of the copy bandwidth."""
        gbps = bytes_moved / (timing.ms * 1e-3) / 1e9
        row = Row(benchmark, case, impl, dtype_name(x.dtype), shape, size, timing.ms, timing.ms_p20, timing.ms_p80)
        row.gbps, row.fraction, row.fraction_of = gbps, gbps / self.copy_gbps, "copy bandwidth"
        return row


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """A family of cases: ``run(context)`` checks tritongrad against torch, then times both."""

    name: str
    title: str
    description: str
    run: Callable[[Context], list[Row]]
    metric: str  # what the plot shows: "gbps", "tflops", "ms" or "us"
    x_label: str


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")
