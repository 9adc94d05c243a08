"""Pooling forward and backward at ResNet shapes (batch 32; smoke: tiny odd shapes).

    case                         reads                 writes                     bytes moved
    max_pool2d 3x3/2 fwd         x                     out, indices (int64)       x + out + 8 * out.numel
    max_pool2d 3x3/2 bwd         grad_out, indices     grad_x                     grad_out + 8 * out.numel + x
    avg_pool2d 3x3/2 fwd / bwd   x / grad_out          out / grad_x               x + out
    adaptive_avg_pool2d 7x7->1   x / grad_out          out / grad_x               x + out

The stem's max pooling of ResNet (64 channels at 112 x 112, 3x3 windows, stride 2, padding 1),
the same geometry as an average pooling, and the global average pooling before ResNet-50's
head (2048 channels at 7 x 7). Windows overlap, so a kernel reads each input up to four times;
the ideal counted here is one read of each input and one write of each output, and the
fraction of the copy bandwidth shows how close the cache brings it. tritongrad is called
through ``launch_pool2d_fwd`` / ``launch_pool2d_bwd``, torch through F.max_pool2d / F.avg_pool2d
/ F.adaptive_avg_pool2d and their aten backward ops.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks.common import Benchmark, Context, Row, check_close, device, dtype_name
from tritongrad.kernels import pool as pool_kernels
from tritongrad.ops.pooling import pooling_output_size

DTYPES = [torch.float32, torch.bfloat16]
# (label, input shape, kind): kind is "max", "avg" (both 3x3/2, padding 1) or "global".
SHAPES = [
    ("max_pool2d 3x3/2", (32, 64, 112, 112), "max"),
    ("avg_pool2d 3x3/2", (32, 64, 112, 112), "avg"),
    ("adaptive_avg_pool2d 7x7->1", (32, 2048, 7, 7), "global"),
]
SMOKE_SHAPES = [
    ("max_pool2d 3x3/2", (2, 3, 11, 9), "max"),
    ("avg_pool2d 3x3/2", (2, 3, 11, 9), "avg"),
    ("adaptive_avg_pool2d 7x7->1", (2, 5, 7, 7), "global"),
]


def _window(shape, kind: str) -> pool_kernels.PoolWindow:
    if kind == "global":
        return pool_kernels.PoolWindow((1, 1), adaptive=True)
    size = tuple(pooling_output_size(n, 3, 2, 1, 1, False) for n in shape[2:])
    return pool_kernels.PoolWindow(size, (3, 3), (2, 2), (1, 1), (1, 1))


def _torch_cases(x, grad, kind: str):
    """(forward, backward) torch callables for this pooling."""
    if kind == "max":
        out, indices = F.max_pool2d(x, 3, 2, 1, return_indices=True)
        backward = torch.ops.aten.max_pool2d_with_indices_backward
        return (lambda: F.max_pool2d(x, 3, 2, 1, return_indices=True)[0],
                lambda: backward(grad, x, [3, 3], [2, 2], [1, 1], [1, 1], False, indices))  # fmt: skip
    if kind == "avg":
        backward = torch.ops.aten.avg_pool2d_backward
        return (lambda: F.avg_pool2d(x, 3, 2, 1),
                lambda: backward(grad, x, [3, 3], [2, 2], [1, 1], False, True, None))  # fmt: skip
    return lambda: F.adaptive_avg_pool2d(x, 1), lambda: torch.ops.aten._adaptive_avg_pool2d_backward(grad, x)


def run(context: Context) -> list[Row]:
    result = []
    generator = torch.Generator(device=device()).manual_seed(0)
    for dtype in DTYPES:
        for label, shape, kind in SMOKE_SHAPES if context.smoke else SHAPES:
            x = torch.randn(*shape, device=device(), generator=generator).to(dtype)
            window = _window(shape, kind)
            pool_kind = "max" if kind == "max" else "avg"
            out, indices = pool_kernels.launch_pool2d_fwd(x, window, kind=pool_kind)
            grad = torch.randn(out.shape, device=device(), generator=generator).to(dtype)
            torch_forward, torch_backward = _torch_cases(x, grad, kind)
            index_bytes = 8 * out.numel() if kind == "max" else 0
            moved = x.numel() * x.element_size() + out.numel() * out.element_size() + index_bytes
            cases = [
                (f"{label} fwd", lambda x=x, w=window, k=pool_kind: pool_kernels.launch_pool2d_fwd(x, w, kind=k)[0],
                 torch_forward),
                (f"{label} bwd", lambda g=grad, i=indices, w=window, s=shape[2:], k=pool_kind:
                    pool_kernels.launch_pool2d_bwd(g, i, s, w, kind=k), torch_backward),
            ]  # fmt: skip
            shape_text = str(tuple(shape))
            for case, tritongrad_fn, torch_fn in cases:
                check_close(f"{case} {shape_text} {dtype_name(dtype)}", tritongrad_fn(), torch_fn())
                for impl, fn in (("tritongrad", tritongrad_fn), ("torch", torch_fn)):
                    timing = context.time(fn)
                    result.append(context.memory_row("pool", case, impl, x, shape_text, x.numel(), timing, moved))
            del x, grad, out, indices
    return result


BENCHMARK = Benchmark(
    name="pool",
    title="Pooling forward and backward (ResNet shapes)",
    description=__doc__.split("\n\n", 1)[1].strip(),
    run=run,
    metric="gbps",
    x_label="input elements",
)
