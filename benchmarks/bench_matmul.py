"""Matrix multiplication against torch.matmul: fp32 (exact), tf32, fp16 and bf16.

C (M x N) = A (M x K) @ B (K x N) costs 2 * M * N * K flops and moves at
least (M * K + K * N + M * N) * size bytes. Square sizes 256 ... 8192 show the
compute-bound regime; the MLP shapes (a 784-512-512-10 network at batch 256:
the forward products, and the backward's grad_input and grad_weight products;
and the tiny GPT's MLP and vocabulary head at 8192 tokens) show the small,
skinny products a training step is made of. Shapes are
written M x K x N. Each tritongrad row reports TFLOP/s and its fraction of
torch.matmul's TFLOP/s on the same shape and dtype.

"tf32" runs fp32 inputs with tf32 tensor cores on both sides
(``allow_tf32=True`` for tritongrad, ``torch.backends.cuda.matmul.allow_tf32``
for torch); "float32" keeps both exact.

The "tma" case times the two 16-bit kernels side by side at 4096^3 and 8192^3:
"tritongrad tma" is the persistent TMA kernel (``kernels/matmul_tma.py``,
which ``launch_matmul`` picks on Hopper for large products, so the "square"
rows from 2048 up time it too) and "tritongrad tiled" the one-tile-per-program
kernel it replaces; where they cross tells where the dispatch threshold belongs. It needs
sm_90 or newer (TMA) and is left out on older GPUs; a smoke run takes one small
shape through the interpreter.
"""

from __future__ import annotations

import contextlib

import torch

from benchmarks.common import TF32_TOLERANCE, Benchmark, Context, Row, check_close, device
from tritongrad import runtime
from tritongrad.kernels import matmul as matmul_kernels
from tritongrad.kernels import matmul_tma

SQUARE = [256, 512, 1024, 2048, 4096, 8192]
MLP_SHAPES = [  # (M, K, N) of the 784-512-512-10 MLP at batch 256, then of the tiny GPT
    (256, 784, 512),  # layer 1 forward
    (256, 512, 512),  # layer 2 forward, and layer 2's grad_input (grad_out @ W2)
    (256, 512, 10),  # layer 3 forward
    (256, 10, 512),  # layer 3 grad_input (grad_out @ W3)
    (512, 256, 784),  # layer 1 grad_weight (grad_out^T @ x)
    (512, 256, 512),  # layer 2 grad_weight
    (10, 256, 512),  # layer 3 grad_weight
    # The tiny GPT (examples/tiny_gpt.py: width 384, 8192 tokens a step, 65-token vocabulary).
    (8192, 384, 1536),  # MLP up-projection forward
    (8192, 1536, 384),  # MLP down-projection forward, and the up-projection's grad_input
    (1536, 8192, 384),  # MLP up-projection grad_weight (K = tokens: split-K)
    (8192, 384, 65),  # vocabulary head forward
    (65, 8192, 384),  # vocabulary head grad_weight (3 tiles of K = 8192: split-K)
]
SMOKE_SQUARE = [33]  # not a multiple of any tile
SMOKE_MLP_SHAPES = [(8, 20, 12)]
# The "tma" case: square sides, and the 16-bit precisions the TMA kernel takes.
TMA_SQUARE = [4096, 8192]
SMOKE_TMA_SQUARE = [64]
TMA_PRECISIONS = [("float16", torch.float16), ("bfloat16", torch.bfloat16)]
# (label, input dtype, tf32 on)
PRECISIONS = [
    ("float32", torch.float32, False),
    ("tf32", torch.float32, True),
    ("float16", torch.float16, False),
    ("bfloat16", torch.bfloat16, False),
]


@contextlib.contextmanager
def _torch_tf32(enabled: bool):
    saved = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved


def _measure(context: Context, case: str, label: str, dtype: torch.dtype, tf32: bool, m: int, k: int, n: int,
             x: float, generator: torch.Generator) -> list[Row]:  # fmt: skip
    a = torch.randn(m, k, device=device(), generator=generator).to(dtype)
    b = torch.randn(k, n, device=device(), generator=generator).to(dtype)
    shape = f"{m}x{k}x{n}"
    flops = 2 * m * n * k

    def tritongrad_fn():
        return matmul_kernels.launch_matmul(a, b, allow_tf32=tf32)

    with _torch_tf32(tf32):
        check_close(f"matmul {shape} {label}", tritongrad_fn(), torch.matmul(a, b), TF32_TOLERANCE if tf32 else None)
        timings = {
            "tritongrad": context.time(tritongrad_fn),
            "torch": context.time(lambda: torch.matmul(a, b)),
        }
    torch_tflops = flops / (timings["torch"].ms * 1e-3) / 1e12
    rows = []
    for impl, timing in timings.items():
        tflops = flops / (timing.ms * 1e-3) / 1e12
        row = Row("matmul", case, impl, label, shape, x, timing.ms, timing.ms_p20, timing.ms_p80)
        row.tflops, row.fraction, row.fraction_of = tflops, tflops / torch_tflops, "torch.matmul"
        rows.append(row)
    return rows


def _has_tma() -> bool:
    """TMA needs sm_90 or newer; the interpreter runs tensor descriptors too (smoke runs)."""
    return runtime.is_interpreter() or torch.cuda.get_device_capability(device())[0] >= 9


def _measure_tma(context: Context, label: str, dtype: torch.dtype, side: int, generator: torch.Generator) -> list[Row]:
    """The persistent TMA kernel and the one-tile-per-program kernel against torch.matmul at side^3."""
    a = torch.randn(side, side, device=device(), generator=generator).to(dtype)
    b = torch.randn(side, side, device=device(), generator=generator).to(dtype)
    shape = f"{side}x{side}x{side}"
    flops = 2 * side**3
    tiled_out = torch.empty(side, side, dtype=dtype, device=device())

    def tma_fn():
        return matmul_tma.launch_matmul_tma(a, b)

    def tiled_fn():
        # The kernel launch_matmul uses below the TMA threshold (and off Hopper), at this shape.
        matmul_kernels._launch_matmul_kernel(a, b, tiled_out)
        return tiled_out

    expected = torch.matmul(a, b)
    check_close(f"matmul tma {shape} {label}", tma_fn(), expected)
    check_close(f"matmul tiled {shape} {label}", tiled_fn(), expected)
    timings = {
        "tritongrad tma": context.time(tma_fn),
        "tritongrad tiled": context.time(tiled_fn),
        "torch": context.time(lambda: torch.matmul(a, b)),
    }
    torch_tflops = flops / (timings["torch"].ms * 1e-3) / 1e12
    rows = []
    for impl, timing in timings.items():
        tflops = flops / (timing.ms * 1e-3) / 1e12
        row = Row("matmul", "tma", impl, label, shape, side, timing.ms, timing.ms_p20, timing.ms_p80)
        row.tflops, row.fraction, row.fraction_of = tflops, tflops / torch_tflops, "torch.matmul"
        rows.append(row)
    return rows


def run(context: Context) -> list[Row]:
    rows = []
    generator = torch.Generator(device=device()).manual_seed(0)
    square = SMOKE_SQUARE if context.smoke else SQUARE
    mlp_shapes = SMOKE_MLP_SHAPES if context.smoke else MLP_SHAPES
    for label, dtype, tf32 in PRECISIONS:
        for side in square:
            rows += _measure(context, "square", label, dtype, tf32, side, side, side, side, generator)
        for m, k, n in mlp_shapes:
            rows += _measure(context, "mlp shapes", label, dtype, tf32, m, k, n, 2 * m * k * n, generator)
    if _has_tma():
        for label, dtype in TMA_PRECISIONS:
            for side in SMOKE_TMA_SQUARE if context.smoke else TMA_SQUARE:
                rows += _measure_tma(context, label, dtype, side, generator)
    return rows


BENCHMARK = Benchmark(
    name="matmul",
    title="Matrix multiplication (fp32, tf32, fp16, bf16)",
    description=__doc__.split("\n\n", 1)[1].strip(),
    run=run,
    metric="tflops",
    x_label="matrix side (square) / flops (mlp shapes)",
)
