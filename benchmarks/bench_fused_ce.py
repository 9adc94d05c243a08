"""Fused linear + cross-entropy against torch's unfused linear then cross_entropy: time and peak memory.

    impl        what runs (forward, then the gradients of x, W and b)
    tritongrad  F.linear_cross_entropy(x, W, target, b) and tritongrad.autograd.grad: the rows are
                processed in chunks, the (N, V) logits never exist (tritongrad/ops/fused_linear_ce.py)
    torch       F.cross_entropy(F.linear(x, W, b), target) (x @ W.T + b in one addmm) and
                torch.autograd.grad: the full (N, V) logits, their log-softmax and their gradient

N tokens (4096, 8192) x hidden size H (2048, 4096) x vocabulary V (32K, 64K, 128K), bf16 and fp32
(fp32 products in full precision on both sides: tf32 is off by default in both frameworks). Both
sides are checked against each other (loss, grad x, grad W, grad b), then timed; TFLOP/s counts
three N x H x V products (the logits, grad x, grad W). Peak memory (GPU only) is
``torch.cuda.max_memory_allocated`` during one forward+backward minus what was allocated before it
(the inputs x, W, b, target), so it holds each side's intermediates and the gradients it returns;
the tritongrad row's fraction is its peak over torch's (the issue's target: <= 0.25 at V = 128K).
Without a GPU (smoke) the kernels run in the interpreter: time only, and no memory column.
"""

from __future__ import annotations

import gc

import torch
import torch.nn.functional as F

import tritongrad
from benchmarks.common import Benchmark, Context, Row, Timing, as_tritongrad, check_close, device, dtype_name, on_gpu

TOKENS = [4096, 8192]
HIDDEN = [2048, 4096]
VOCABULARIES = [32768, 65536, 131072]
DTYPES = [torch.bfloat16, torch.float32]
# Smoke: a prime number of rows, a vocabulary three default chunks wide, both dtypes: seconds.
SMOKE = {"tokens": [37], "hidden": [32], "vocabularies": [67], "dtypes": [torch.float32, torch.bfloat16]}
NO_MEMORY_NOTE = "no GPU: time only (tritongrad in the interpreter); no CUDA allocator, no peak memory"


def peak_extra_mb(fn) -> tuple[object, float]:
    """(fn()'s result, the peak memory allocated while it ran above what was allocated before, in MiB)."""
    gc.collect()
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    result = fn()
    torch.cuda.synchronize()
    return result, (torch.cuda.max_memory_allocated() - before) / 2**20


def _measure(context: Context, dtype: torch.dtype, n: int, h: int, v: int, generator) -> list[Row]:
    x = torch.randn(n, h, device=device(), generator=generator).to(dtype)
    weight = (torch.randn(v, h, device=device(), generator=generator) / h**0.5).to(dtype)
    bias = (0.1 * torch.randn(v, device=device(), generator=generator)).to(dtype)
    target = torch.randint(0, v, (n,), device=device(), generator=generator)
    tg_inputs = [as_tritongrad(t, requires_grad=True) for t in (x, weight, bias)]
    tg_target = as_tritongrad(target)
    torch_inputs = [t.detach().requires_grad_(True) for t in (x, weight, bias)]

    def tritongrad_fn():
        tg_x, tg_weight, tg_bias = tg_inputs
        loss = tritongrad.nn.functional.linear_cross_entropy(tg_x, tg_weight, tg_target, tg_bias)
        return (loss, *tritongrad.autograd.grad(loss, tg_inputs))

    def torch_fn():
        loss = F.cross_entropy(F.linear(*torch_inputs), target)
        return (loss, *torch.autograd.grad(loss, torch_inputs))

    shape = f"N{n} H{h} V{v}"
    label = f"linear+CE {shape} {dtype_name(dtype)}"
    for name, got, expected in zip(("loss", "grad x", "grad W", "grad b"), tritongrad_fn(), torch_fn()):
        check_close(f"{label} {name}", got._data, expected)
    peaks = {"tritongrad": None, "torch": None}
    if on_gpu():  # after the check: the first calls compile and autotune, which allocates too
        peaks = {"tritongrad": peak_extra_mb(tritongrad_fn)[1], "torch": peak_extra_mb(torch_fn)[1]}
    timings: dict[str, Timing] = {"tritongrad": context.time(tritongrad_fn), "torch": context.time(torch_fn)}
    flops = 3 * 2 * n * h * v
    case = f"linear+CE fwd+bwd, N {n}, H {h}"
    rows = []
    for impl, timing in timings.items():
        row = Row("fused_ce", case, impl, dtype_name(dtype), shape, v, timing.ms, timing.ms_p20, timing.ms_p80)
        row.tflops, row.peak_mem_mb = flops / (timing.ms * 1e-3) / 1e12, peaks[impl]
        if peaks[impl] is None:
            row.note = NO_MEMORY_NOTE
        elif impl == "tritongrad" and peaks["torch"] > 0:
            row.fraction, row.fraction_of = peaks[impl] / peaks["torch"], "torch's peak memory"
        rows.append(row)
    return rows


def run(context: Context) -> list[Row]:
    settings = SMOKE if context.smoke else {
        "tokens": TOKENS, "hidden": HIDDEN, "vocabularies": VOCABULARIES, "dtypes": DTYPES,
    }  # fmt: skip
    generator = torch.Generator(device=device()).manual_seed(0)
    rows = []
    for dtype in settings["dtypes"]:
        for n in settings["tokens"]:
            for h in settings["hidden"]:
                for v in settings["vocabularies"]:
                    rows += _measure(context, dtype, n, h, v, generator)
                    if on_gpu():
                        gc.collect()
                        torch.cuda.empty_cache()
    return rows


BENCHMARK = Benchmark(
    name="fused_ce",
    title="Fused linear + cross-entropy vs torch: time and peak memory",
    description=__doc__.split("\n\n", 1)[1].strip(),
    run=run,
    metric="ms",
    x_label="V (vocabulary)",
)
