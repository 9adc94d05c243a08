"""Softmax forward and backward along the last dim of a 4096 x N matrix, N = 128 ... 32768.

    case          reads          writes    bytes moved
    softmax fwd   x              y         2 * M * N * size
    softmax bwd   grad_y, y      grad_x    3 * M * N * size

One read of the inputs and one write of the output is the least a kernel can
move, which a fused row-wise kernel achieves while the row fits on chip; the
fraction of the copy bandwidth shows where long rows stop fitting. tritongrad
is called through ``launch_softmax_fwd`` / ``launch_softmax_bwd``, torch
through ``torch.softmax`` / ``torch._softmax_backward_data``.
"""

from __future__ import annotations

import torch

from benchmarks.common import Benchmark, Context, Row, check_close, device, dtype_name
from tritongrad.kernels import softmax as softmax_kernels

ROWS = 4096
COLUMNS = [2**p for p in range(7, 16)]
DTYPES = [torch.float32, torch.bfloat16]
SMOKE_ROWS = 4
SMOKE_COLUMNS = [16, 97]  # 97: prime, a row that is not a power of two


def run(context: Context) -> list[Row]:
    rows_count = SMOKE_ROWS if context.smoke else ROWS
    result = []
    generator = torch.Generator(device=device()).manual_seed(0)
    for dtype in DTYPES:
        for n in SMOKE_COLUMNS if context.smoke else COLUMNS:
            x = (3 * torch.randn(rows_count, n, device=device(), generator=generator)).to(dtype)
            grad = torch.randn(rows_count, n, device=device(), generator=generator).to(dtype)
            y = torch.softmax(x, dim=-1)
            cases = [
                ("softmax fwd", 2, lambda x=x: softmax_kernels.launch_softmax_fwd(x, -1),
                 lambda x=x: torch.softmax(x, dim=-1)),
                ("softmax bwd", 3, lambda g=grad, y=y: softmax_kernels.launch_softmax_bwd(g, y, -1),
                 lambda g=grad, y=y: torch._softmax_backward_data(g, y, -1, y.dtype)),
            ]  # fmt: skip
            shape = f"({rows_count}, {n})"
            for case, tensors_moved, tritongrad_fn, torch_fn in cases:
                check_close(f"{case} {shape} {dtype_name(dtype)}", tritongrad_fn(), torch_fn())
                bytes_moved = tensors_moved * x.numel() * x.element_size()
                for impl, fn in (("tritongrad", tritongrad_fn), ("torch", torch_fn)):
                    row = context.memory_row("softmax", case, impl, x, shape, n, context.time(fn), bytes_moved)
                    result.append(row)
            del x, grad, y
    return result


BENCHMARK = Benchmark(
    name="softmax",
    title="Softmax forward and backward (4096 x N)",
    description=__doc__.split("\n\n", 1)[1].strip(),
    run=run,
    metric="gbps",
    x_label="N (row length)",
)
