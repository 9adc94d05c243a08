"""Elementwise kernels against torch: add, mul, ReLU forward and ReLU backward (threshold_backward).

Each case is memory bound, so its figure of merit is bandwidth:

    case        reads      writes   bytes moved (fp32)
    add, mul    a, b       out      3 * 4 * n
    relu fwd    x          out      2 * 4 * n
    relu bwd    grad, out  grad_in  3 * 4 * n

reported as GB/s and as a fraction of the copy bandwidth measured in the same
run. tritongrad is called through its launchers (kernels/), the layer a
tritongrad op reaches after its autograd bookkeeping, and torch through the
matching aten ops; host_overhead.py measures the bookkeeping on top.
"""

from __future__ import annotations

import torch

from benchmarks.common import Benchmark, Context, Row, check_close, device
from tritongrad.kernels import elementwise as elementwise_kernels

SIZES = [2**p for p in range(12, 29)]
SMOKE_SIZES = [2**8, 2**12 + 3]  # a prime-ish tail: the last block is partial


def _cases(dtype: torch.dtype):
    """(case name, tensors read, tritongrad call, torch call) for each elementwise case."""

    def add(a, b):
        return elementwise_kernels.launch_binary("add", a, b, out_dtype=dtype, compute=dtype)

    def mul(a, b):
        return elementwise_kernels.launch_binary("mul", a, b, out_dtype=dtype, compute=dtype)

    def relu(x):
        return elementwise_kernels.launch_unary("relu", x)

    def relu_backward(grad, out):
        # ReLU's gradient from its output, the launch a tritongrad relu's backward makes
        return elementwise_kernels.launch_binary("threshold_backward", grad, out, out_dtype=dtype, compute=dtype)

    def torch_relu_backward(grad, out):
        return torch.ops.aten.threshold_backward(grad, out, 0)

    return [
        ("add", 2, add, torch.add),
        ("mul", 2, mul, torch.mul),
        ("relu fwd", 1, relu, torch.relu),
        ("relu bwd", 2, relu_backward, torch_relu_backward),
    ]


def run(context: Context) -> list[Row]:
    dtype = torch.float32
    rows = []
    generator = torch.Generator(device=device()).manual_seed(0)
    for n in SMOKE_SIZES if context.smoke else SIZES:
        # Inputs: random normals; the relu backward's saved output is relu of random values,
        # so half of it is zero and both branches of the mask are taken.
        first = torch.randn(n, device=device(), dtype=dtype, generator=generator)
        second = torch.randn(n, device=device(), dtype=dtype, generator=generator)
        for case, inputs_read, tritongrad_fn, torch_fn in _cases(dtype):
            args = (first, second) if inputs_read == 2 else (first,)
            if case == "relu bwd":
                args = (first, torch.relu(second))
            check_close(f"{case} n={n}", tritongrad_fn(*args), torch_fn(*args))
            bytes_moved = (inputs_read + 1) * n * first.element_size()
            for impl, fn in (("tritongrad", tritongrad_fn), ("torch", torch_fn)):
                timing = context.time(lambda fn=fn, args=args: fn(*args))
                rows.append(context.memory_row("elementwise", case, impl, first, f"({n},)", n, timing, bytes_moved))
        del first, second
    return rows


BENCHMARK = Benchmark(
    name="elementwise",
    title="Elementwise kernels: add, mul, ReLU fwd/bwd",
    description=__doc__.split("\n\n", 1)[1].strip(),
    run=run,
    metric="gbps",
    x_label="elements",
)
