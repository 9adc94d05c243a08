"""Fused layers against torch: linear (+ReLU) and cross-entropy, forward and backward.

    case                   what runs                                   figure of merit
    linear+relu fwd        relu(x @ W^T + b): one kernel, bias and     TFLOP/s (2*M*K*N), fraction of
                           ReLU in the matmul epilogue                  torch's relu(linear(...))
    linear fwd+bwd         y = linear(x, W, b), then grad_x, grad_W,   TFLOP/s (3 * 2*M*K*N), fraction
                           grad_b through each framework's autograd     of torch
    cross-entropy fwd+bwd  loss = cross_entropy(logits, target), then   GB/s (3 * N * C * size: logits
                           grad_logits through autograd                 read twice, grad written once)

The forward-only case calls tritongrad's launcher; the fwd+bwd cases go
through tritongrad's public API (``tritongrad.nn.functional`` and
``tritongrad.autograd.grad``, which leaves ``.grad`` alone) and torch's, so they
include each framework's autograd bookkeeping. Linear shapes are written
M x K x N (batch x in_features x out_features).
"""

from __future__ import annotations

import torch

import tritongrad
from benchmarks.common import Benchmark, Context, Row, as_tritongrad, check_close, device, dtype_name
from tritongrad.kernels import matmul as matmul_kernels

LINEAR_SHAPES = [(256, 784, 512), (256, 512, 512), (256, 512, 10), (4096, 4096, 4096)]  # (M, K, N)
SMOKE_LINEAR_SHAPES = [(8, 20, 12)]
CROSS_ENTROPY_SHAPES = [(256, 10), (4096, 1000), (4096, 32768)]  # (rows, classes)
SMOKE_CROSS_ENTROPY_SHAPES = [(8, 10)]
DTYPES = [torch.float32, torch.bfloat16]


def _rows_against_torch(benchmark: str, case: str, dtype: torch.dtype, shape: str, x: float, timings: dict,
                        flops: int) -> list[Row]:  # fmt: skip
    torch_tflops = flops / (timings["torch"].ms * 1e-3) / 1e12
    rows = []
    for impl, timing in timings.items():
        tflops = flops / (timing.ms * 1e-3) / 1e12
        row = Row(benchmark, case, impl, dtype_name(dtype), shape, x, timing.ms, timing.ms_p20, timing.ms_p80)
        row.tflops, row.fraction, row.fraction_of = tflops, tflops / torch_tflops, "torch"
        rows.append(row)
    return rows


def _linear(context: Context, dtype: torch.dtype, m: int, k: int, n: int, generator) -> list[Row]:
    x = torch.randn(m, k, device=device(), generator=generator).to(dtype)
    weight = (torch.randn(n, k, device=device(), generator=generator) / k**0.5).to(dtype)
    bias = torch.randn(n, device=device(), generator=generator).to(dtype)
    grad_y = torch.randn(m, n, device=device(), generator=generator).to(dtype)
    shape = f"{m}x{k}x{n}"
    rows = []

    # Forward with the fused epilogue.
    def tritongrad_fwd():
        return matmul_kernels.launch_linear(x, weight, bias, activation="relu")

    def torch_fwd():
        return torch.relu(torch.nn.functional.linear(x, weight, bias))

    check_close(f"linear+relu {shape} {dtype_name(dtype)}", tritongrad_fwd(), torch_fwd())
    timings = {"tritongrad": context.time(tritongrad_fwd), "torch": context.time(torch_fwd)}
    rows += _rows_against_torch("fused", "linear+relu fwd", dtype, shape, m * k * n, timings, 2 * m * k * n)

    # Forward and backward through autograd.
    tg_inputs = [as_tritongrad(t, requires_grad=True) for t in (x, weight, bias)]
    tg_grad_y = as_tritongrad(grad_y)
    torch_inputs = [t.detach().requires_grad_(True) for t in (x, weight, bias)]

    def tritongrad_fwd_bwd():
        y = tritongrad.nn.functional.linear(*tg_inputs)
        return tritongrad.autograd.grad(y, tg_inputs, tg_grad_y)

    def torch_fwd_bwd():
        y = torch.nn.functional.linear(*torch_inputs)
        return torch.autograd.grad(y, torch_inputs, grad_y)

    for name, got, expected in zip(("grad_x", "grad_weight", "grad_bias"), tritongrad_fwd_bwd(), torch_fwd_bwd()):
        check_close(f"linear {name} {shape} {dtype_name(dtype)}", got._data, expected)
    timings = {"tritongrad": context.time(tritongrad_fwd_bwd), "torch": context.time(torch_fwd_bwd)}
    rows += _rows_against_torch("fused", "linear fwd+bwd", dtype, shape, m * k * n, timings, 3 * 2 * m * k * n)
    return rows


def _cross_entropy(context: Context, dtype: torch.dtype, batch: int, classes: int, generator) -> list[Row]:
    logits = (2 * torch.randn(batch, classes, device=device(), generator=generator)).to(dtype)
    target = torch.randint(0, classes, (batch,), device=device(), generator=generator)
    tg_logits, tg_target = as_tritongrad(logits, requires_grad=True), as_tritongrad(target)
    torch_logits = logits.detach().requires_grad_(True)

    def tritongrad_fn():
        loss = tritongrad.nn.functional.cross_entropy(tg_logits, tg_target)
        return (loss, *tritongrad.autograd.grad(loss, tg_logits))

    def torch_fn():
        loss = torch.nn.functional.cross_entropy(torch_logits, target)
        return (loss, *torch.autograd.grad(loss, torch_logits))

    shape = f"({batch}, {classes})"
    for name, got, expected in zip(("loss", "grad_logits"), tritongrad_fn(), torch_fn()):
        check_close(f"cross-entropy {name} {shape} {dtype_name(dtype)}", got._data, expected)
    bytes_moved = 3 * logits.numel() * logits.element_size() + target.numel() * target.element_size()
    rows = []
    for impl, fn in (("tritongrad", tritongrad_fn), ("torch", torch_fn)):
        timing = context.time(fn)
        rows.append(context.memory_row("fused", "cross-entropy fwd+bwd", impl, logits, shape, logits.numel(),
                                       timing, bytes_moved))  # fmt: skip
    return rows


def run(context: Context) -> list[Row]:
    rows = []
    generator = torch.Generator(device=device()).manual_seed(0)
    for dtype in DTYPES:
        for m, k, n in SMOKE_LINEAR_SHAPES if context.smoke else LINEAR_SHAPES:
            rows += _linear(context, dtype, m, k, n, generator)
        for batch, classes in SMOKE_CROSS_ENTROPY_SHAPES if context.smoke else CROSS_ENTROPY_SHAPES:
            rows += _cross_entropy(context, dtype, batch, classes, generator)
    return rows


BENCHMARK = Benchmark(
    name="fused",
    title="Fused layers: linear (+ReLU) and cross-entropy, forward and backward",
    description=__doc__.split("\n\n", 1)[1].strip(),
    run=run,
    metric="ms",
    x_label="M*K*N (linear) / N*C (cross-entropy)",
)
