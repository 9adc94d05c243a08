"""Host overhead: what the Python around each op costs, tritongrad against torch eager.

A tiny tensor op is all overhead: argument checks, type promotion, autograd bookkeeping, choosing
a kernel, allocating the output, and the launch. Two measurements:

``stubbed`` (any machine, the one the README table comes from)
    Every Triton launch is replaced by a no-op (``kernel[grid](...)`` returns at once), so what
    is timed is tritongrad's own host work per op, from the user's call to the launch. torch
    runs its whole op on the same tiny CPU tensors (dispatcher, autograd and the arithmetic,
    which at these sizes is a few nanoseconds). Cases: the everyday ops one at a time, a
    backward, and one SGD training step of a 16-32-10 MLP (zero_grad, forward, cross-entropy,
    backward, step). The figure is the median CPU time per call over many calls (CPU time of
    the process, so other load on the machine does not count); the ratio is tritongrad / torch,
    in the same run.

``launched`` (a GPU only)
    ``tritongrad.add`` issued back to back with real launches, against ``torch.add``: host time
    until the loop returns and wall time until the GPU is done, for 1 to 256K elements.

``python -m benchmarks.host_overhead`` prints the stubbed table in Markdown (the README's).
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator

import torch

import tritongrad  # noqa: I001 (first: switches on the interpreter before triton loads)
from benchmarks.common import Benchmark, Context, Row, as_tritongrad, device, synchronize
from tritongrad.kernels import device_checks

SIZES = [1, 2**10, 2**14, 2**18]
LAUNCHES = 2000
REPEATS = 5
BATCH, IN_FEATURES, HIDDEN, CLASSES = 16, 16, 32, 10


@contextlib.contextmanager
def stubbed_launches() -> Iterator[None]:
    """Every ``kernel[grid](...)`` of the block returns without running or compiling anything.

    Triton's launch objects (JITFunction, the interpreter's InterpretedFunction, Autotuner,
    Heuristics) all take the grid through ``KernelInterface.__getitem__``; the stub replaces it,
    so outputs stay uninitialised memory: only the host work is real. Device-side input checks
    are not read back, as on a GPU (kernels/device_checks.py); they are dropped.
    """
    # Imported here: triton may only load after tritongrad has set up the interpreter, and an
    # import sorter puts a module-level triton import above tritongrad's.
    from triton.runtime import jit as triton_jit

    subclasses = [triton_jit.KernelInterface, *_all_subclasses(triton_jit.KernelInterface)]
    saved = {cls: cls.__dict__["__getitem__"] for cls in subclasses if "__getitem__" in cls.__dict__}
    for cls in saved:
        cls.__getitem__ = lambda self, grid: _no_launch
    try:
        with device_checks.deferred_checks(discard=True):  # as on a GPU, no readback of a device check
            yield
    finally:
        for cls, getitem in saved.items():
            cls.__getitem__ = getitem


def _no_launch(*args, **kwargs) -> None:
    return None


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def _loop_us(fn: Callable[[], object], calls: int) -> float:
    """CPU time per call of ``fn`` over ``calls`` calls, in µs.

    CPU time of this process (``time.process_time``), not wall time: host overhead is CPU work,
    and other processes on a shared machine then do not count toward it.
    """
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) * 1e6 / calls


def _paired_us(
    ours: Callable[[], object], theirs: Callable[[], object], calls: int, repeats: int
) -> tuple[float, float, float]:
    """(our median µs, torch's median µs, median of the per-repeat ratios).

    The two loops alternate, ours then torch's, ``repeats`` times: whatever else the machine does
    at a moment slows both sides of that repeat, and the ratio of each pair cancels most of it.
    """
    for fn in (ours, theirs, ours, theirs):
        fn()
    pairs = [(_loop_us(ours, calls), _loop_us(theirs, calls)) for _ in range(repeats)]
    return (
        statistics.median(a for a, _ in pairs),
        statistics.median(b for _, b in pairs),
        statistics.median(a / b for a, b in pairs),
    )


def _op_cases(lib, F) -> dict[str, Callable[[], object]]:
    """The op cases on small fresh tensors of ``lib`` (torch or tritongrad, same values)."""
    generator = torch.Generator().manual_seed(0)

    def tensor(*shape, requires_grad: bool = False):
        values = torch.randn(*shape, generator=generator)
        data = lib.tensor(values.tolist())
        return data.requires_grad_(True) if requires_grad else data

    a, b, x, w = tensor(4, 8), tensor(4, 8), tensor(8, 16), tensor(16, 8)
    bias, leaf = tensor(8), tensor(4, 8, requires_grad=True)

    def backward():
        (leaf * 2).relu().sum().backward()

    return {
        "a + b": lambda: a + b,
        "a * 2": lambda: a * 2,
        "a.relu()": lambda: a.relu(),
        "a.exp()": lambda: a.exp(),
        "a < b": lambda: a < b,
        "x @ w (8x16 @ 16x8)": lambda: x @ w,
        "F.linear(x, w.t(), bias)": lambda: F.linear(x, w.t(), bias),
        "x.sum()": lambda: x.sum(),
        "x.sum(dim=1)": lambda: x.sum(dim=1),
        "F.softmax(x, dim=1)": lambda: F.softmax(x, dim=1),
        "x[1:3] (a view)": lambda: x[1:3],
        "x.t()": lambda: x.t(),
        "leaf * 2 (recorded)": lambda: leaf * 2,
        "backward of (x*2).relu().sum()": backward,
    }


def _mlp_step(lib) -> Callable[[], None]:
    """One SGD step of a 16-32-10 MLP on a batch of 16, as a tutorial writes it."""
    nn, F = lib.nn, lib.nn.functional
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(IN_FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
    generator = torch.Generator().manual_seed(1)
    inputs = lib.tensor(torch.randn(BATCH, IN_FEATURES, generator=generator).tolist())
    targets = lib.tensor(torch.randint(0, CLASSES, (BATCH,), generator=generator).tolist())

    def step() -> None:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()

    return step


def stubbed_table(calls: int = 2000, repeats: int = 7) -> list[tuple[str, float, float, float]]:
    """[(case, tritongrad µs, torch µs, median paired ratio)] with tritongrad's launches stubbed out."""
    # One intra-op thread for torch: these tiny ops gain nothing from more, and idle pool threads
    # spinning between ops would count as CPU time.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch_cases = _op_cases(torch, torch.nn.functional)
        torch_cases["MLP 16-32-10 SGD step"] = _mlp_step(torch)
        with stubbed_launches():
            ours = _op_cases(tritongrad, tritongrad.nn.functional)
            ours["MLP 16-32-10 SGD step"] = _mlp_step(tritongrad)
            return [
                (case, *_paired_us(fn, torch_cases[case], calls // 10 if case.startswith("MLP") else calls, repeats))
                for case, fn in ours.items()
            ]
    finally:
        torch.set_num_threads(threads)


def opcodes_per_step() -> dict[str, int]:
    """Python bytecodes tritongrad executes in one MLP step, per phase (launches stubbed).

    A count, not a time: it does not move with the load on the machine, so two commits can be
    compared on a busy one (the timed table needs a quiet machine). torch's step is mostly C++,
    so it has no such count; the table's ratios compare the two.
    """
    nn, F = tritongrad.nn, tritongrad.nn.functional
    tritongrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(IN_FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    optimizer = tritongrad.optim.SGD(model.parameters(), lr=0.1)
    inputs = tritongrad.randn(BATCH, IN_FEATURES)
    targets = tritongrad.randint(0, CLASSES, (BATCH,))
    counts = dict.fromkeys(("zero_grad", "forward", "cross-entropy", "backward", "step"), 0)
    phase = ["zero_grad"]

    def trace(frame, event, arg):
        frame.f_trace_opcodes = True
        if event == "opcode":
            counts[phase[0]] += 1
        return trace

    def step(traced: bool) -> None:
        if traced:
            sys.settrace(trace)
        try:
            phase[0] = "zero_grad"
            optimizer.zero_grad()
            phase[0] = "forward"
            logits = model(inputs)
            phase[0] = "cross-entropy"
            loss = F.cross_entropy(logits, targets)
            phase[0] = "backward"
            loss.backward()
            phase[0] = "step"
            optimizer.step()
        finally:
            sys.settrace(None)

    with stubbed_launches():
        for _ in range(3):  # past the first steps, which build the launchers and state
            step(traced=False)
        step(traced=True)
    return counts


def markdown(rows: list[tuple[str, float, float, float]]) -> str:
    lines = ["| case (tiny CPU tensors) | tritongrad host µs | torch µs | ratio |", "|---|---|---|---|"]
    for case, ours, theirs, ratio in rows:
        lines.append(f"| `{case}` | {ours:.1f} | {theirs:.1f} | {ratio:.1f}× |")
    op_ratios = [ratio for case, _, _, ratio in rows if not case.startswith("MLP")]
    lines.append(f"| **median op** | | | **{statistics.median(op_ratios):.1f}×** |")
    return "\n".join(lines)


def _launched_rows(context: Context) -> list[Row]:
    """tritongrad.add and torch.add issued back to back with real launches (GPU)."""
    rows = []
    generator = torch.Generator(device=device()).manual_seed(0)
    for n in SIZES:
        a = torch.randn(n, device=device(), generator=generator)
        b = torch.randn(n, device=device(), generator=generator)
        tg_a, tg_b = as_tritongrad(a), as_tritongrad(b)
        impls = {
            "tritongrad.add": lambda a=tg_a, b=tg_b: tritongrad.add(a, b),
            "torch": lambda a=a, b=b: torch.add(a, b),
        }
        for impl, fn in impls.items():
            host, wall = [], []
            fn()
            for _ in range(REPEATS):
                synchronize()
                start = time.perf_counter()
                for _ in range(LAUNCHES):
                    fn()
                issued = time.perf_counter()
                synchronize()
                host.append((issued - start) * 1e3 / LAUNCHES)
                wall.append((time.perf_counter() - start) * 1e3 / LAUNCHES)
            for case, samples in (("host time per op", host), ("wall time per op (sync at end)", wall)):
                samples.sort()
                median = statistics.median(samples)
                rows.append(Row("host_overhead", case, impl, "float32", f"({n},)", n, median, samples[1], samples[-2],
                                note=f"{median * 1e3:.1f} us per op"))  # fmt: skip
    return rows


def run(context: Context) -> list[Row]:
    calls, repeats = (20, 2) if context.smoke else (2000, 7)
    rows = []
    for case, ours, theirs, ratio in stubbed_table(calls, repeats):
        for impl, us in (("tritongrad (launches stubbed)", ours), ("torch", theirs)):
            rows.append(Row("host_overhead", case, impl, "float32", "tiny", 0, us / 1e3, us / 1e3, us / 1e3,
                            fraction=ratio if impl != "torch" else None, fraction_of="torch",
                            note=f"{us:.1f} us"))  # fmt: skip
    if tritongrad.runtime.device_type() == "cuda" and not context.smoke:
        rows += _launched_rows(context)
    return rows


BENCHMARK = Benchmark(
    name="host_overhead",
    title="Host overhead per op: tritongrad (launches stubbed) vs torch eager",
    description=__doc__.split("\n\n", 1)[1].strip(),
    run=run,
    metric="us",
    x_label="case",
)


if __name__ == "__main__":
    table = stubbed_table()
    print(f"tritongrad {tritongrad.__version__}, torch {torch.__version__}, python {sys.version.split()[0]}")
    print(markdown(table))
    counts = opcodes_per_step()
    phases = ", ".join(f"{phase} {count}" for phase, count in counts.items())
    print(f"\nPython bytecodes per MLP step (launches stubbed): {phases}; total {sum(counts.values())}")
