"""Flash attention against torch's scaled_dot_product_attention, forward and forward+backward.

    case              what runs                                       flops counted
    attention fwd     out = softmax(q k^T / sqrt(d)) v                 4 * B * H * N^2 * d
    attention fwd+bwd the forward, then dq, dk, dv                     3.5 x the forward's

(halved with a causal mask, whose upper triangle is skipped). Sequence lengths
N = 512 ... 16K at a constant 16K tokens per batch (B = 16384 / N) and a model
width of 2048 (H = 2048 / d heads), head dims 64 and 128, fp16 and bf16: the
setting of the FlashAttention papers' benchmarks. tritongrad is called through
``launch_attention_fwd`` / ``launch_attention_bwd``; torch through
``scaled_dot_product_attention`` and ``torch.autograd.grad``, which on a GPU
picks its fastest fused backend (FlashAttention-2 or cuDNN). Each tritongrad
row reports TFLOP/s and its fraction of torch's.
"""

from __future__ import annotations

import torch

from benchmarks.common import Benchmark, Context, Row, check_close, device, dtype_name
from tritongrad.kernels import attention as attention_kernels

SEQUENCES = [512, 1024, 2048, 4096, 8192, 16384]
HEAD_DIMS = [64, 128]
DTYPES = [torch.float16, torch.bfloat16]
TOKENS = 16384
WIDTH = 2048
# Smoke: one small case, not a multiple of any block, on the interpreter.
SMOKE = {"sequences": [33], "head_dims": [64], "dtypes": [torch.float16], "tokens": 66, "width": 128}
# The backward costs 2.5 forwards (five N x N x d products instead of two).
BACKWARD_FACTOR = 2.5


def _rows(case: str, dtype: torch.dtype, shape: str, n: int, timings: dict, flops: float) -> list[Row]:
    torch_tflops = flops / (timings["torch"].ms * 1e-3) / 1e12
    rows = []
    for impl, timing in timings.items():
        tflops = flops / (timing.ms * 1e-3) / 1e12
        row = Row("attention", case, impl, dtype_name(dtype), shape, n, timing.ms, timing.ms_p20, timing.ms_p80)
        row.tflops, row.fraction, row.fraction_of = tflops, tflops / torch_tflops, "torch SDPA"
        rows.append(row)
    return rows


def _measure(context: Context, dtype: torch.dtype, n: int, d: int, causal: bool, tokens: int, width: int,
             generator) -> list[Row]:  # fmt: skip
    batch, heads = max(1, tokens // n), width // d
    q, k, v, grad_out = (
        torch.randn(batch, heads, n, d, device=device(), generator=generator).to(dtype) for _ in range(4)
    )
    mask = "causal" if causal else "full"
    shape = f"B{batch} H{heads} N{n} d{d} {mask}"
    flops = 4.0 * batch * heads * n * n * d * (0.5 if causal else 1.0)

    def tritongrad_fwd():
        return attention_kernels.launch_attention_fwd(q, k, v, causal=causal)

    def tritongrad_fwd_bwd():
        out, lse = attention_kernels.launch_attention_fwd(q, k, v, causal=causal)
        return attention_kernels.launch_attention_bwd(grad_out, q, k, v, out, lse, causal=causal)

    def torch_fwd():
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)

    inputs = [t.detach().requires_grad_() for t in (q, k, v)]

    def torch_fwd_bwd():
        out = torch.nn.functional.scaled_dot_product_attention(*inputs, is_causal=causal)
        return torch.autograd.grad(out, inputs, grad_out)

    label = f"attention {shape} {dtype_name(dtype)}"
    check_close(f"{label} fwd", tritongrad_fwd()[0], torch_fwd())
    for name, got, want in zip("qkv", tritongrad_fwd_bwd(), torch_fwd_bwd()):
        check_close(f"{label} grad {name}", got, want)
    rows = _rows(
        "attention fwd", dtype, shape, n,
        {"tritongrad": context.time(tritongrad_fwd), "torch": context.time(torch_fwd)}, flops,
    )  # fmt: skip
    rows += _rows(
        "attention fwd+bwd", dtype, shape, n,
        {"tritongrad": context.time(tritongrad_fwd_bwd), "torch": context.time(torch_fwd_bwd)},
        flops * (1.0 + BACKWARD_FACTOR),
    )  # fmt: skip
    return rows


def run(context: Context) -> list[Row]:
    settings = SMOKE if context.smoke else {
        "sequences": SEQUENCES, "head_dims": HEAD_DIMS, "dtypes": DTYPES, "tokens": TOKENS, "width": WIDTH,
    }  # fmt: skip
    generator = torch.Generator(device=device()).manual_seed(0)
    rows = []
    for dtype in settings["dtypes"]:
        for d in settings["head_dims"]:
            for causal in (False, True):
                for n in settings["sequences"]:
                    rows += _measure(context, dtype, n, d, causal, settings["tokens"], settings["width"], generator)
    return rows


BENCHMARK = Benchmark(
    name="attention",
    title="Flash attention forward and backward vs torch SDPA",
    description=__doc__.split("\n\n", 1)[1].strip(),
    run=run,
    metric="tflops",
    x_label="N (sequence length)",
)
