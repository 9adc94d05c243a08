"""BatchNorm (training), LayerNorm and RMSNorm forward and backward against torch, in GB/s.

    case                   reads                      writes                 bytes counted
    batch_norm fwd         x (+ weight, bias)         out, mean, invstd      x + out
    batch_norm bwd         grad, x, mean, invstd      grad_x, grad_w, grad_b grad + x + grad_x
    layer_norm / rms_norm  the same per row           the same per row       the same

Shapes: a ResNet-50 activation at batch 32 (256 channels at 56x56) for batch norm, and rows of
4096 (a LLaMA width) for the row norms (smoke: tiny odd shapes). The ideal counted is one read
of each input and one write of each output; the fraction is of the measured copy bandwidth.
tritongrad runs its launchers (kernels/batch_norm.py, kernels/layer_norm.py); torch runs
F.batch_norm / F.layer_norm and their aten backward ops, and F.rms_norm with autograd.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks.common import Benchmark, Context, Row, check_close, device
from tritongrad.kernels import batch_norm as batch_kernels
from tritongrad.kernels import layer_norm as row_kernels

DTYPES = [torch.float32, torch.bfloat16]
SMOKE_DTYPES = [torch.float32]
BATCH_SHAPE, ROW_SHAPE = (32, 256, 56, 56), (4096, 4096)
SMOKE_BATCH_SHAPE, SMOKE_ROW_SHAPE = (3, 5, 7, 7), (9, 37)
EPS = 1e-5


def _batch_norm_cases(x, grad, weight, bias):
    _, mean, invstd = batch_kernels.launch_batch_norm_fwd(x, weight, bias, None, None, True, 0.1, EPS)
    _, torch_mean, torch_invstd = torch.ops.aten.native_batch_norm(x, weight, bias, None, None, True, 0.1, EPS)
    needs = (True, True, True)
    return [
        ("batch_norm fwd",
         lambda: batch_kernels.launch_batch_norm_fwd(x, weight, bias, None, None, True, 0.1, EPS)[0],
         lambda: F.batch_norm(x, None, None, weight, bias, True, 0.1, EPS)),
        ("batch_norm bwd",
         lambda: batch_kernels.launch_batch_norm_bwd(grad, x, weight, mean, invstd, True, needs)[0],
         lambda: torch.ops.aten.native_batch_norm_backward(
             grad, x, weight, None, None, torch_mean, torch_invstd, True, EPS, [True, True, True])[0]),
    ]  # fmt: skip


def _row_norm_cases(x, grad, weight, bias):
    width = (x.shape[-1],)
    _, mean, rstd, _ = row_kernels.launch_row_norm_fwd(x, 1, weight, bias, EPS)
    _, _, rms_rstd, _ = row_kernels.launch_row_norm_fwd(x, 1, weight, None, EPS, rms=True)
    _, torch_mean, torch_rstd = torch.ops.aten.native_layer_norm(x, width, weight, bias, EPS)
    x_leaf, weight_leaf = x.detach().requires_grad_(), weight.detach().requires_grad_()
    torch_rms = F.rms_norm(x_leaf, width, weight_leaf, EPS)
    needs = (True, True, True)
    return [
        ("layer_norm fwd", lambda: row_kernels.launch_row_norm_fwd(x, 1, weight, bias, EPS)[0],
         lambda: F.layer_norm(x, width, weight, bias, EPS)),
        ("layer_norm bwd", lambda: row_kernels.launch_row_norm_bwd(grad, x, 1, weight, mean, rstd, needs)[0],
         lambda: torch.ops.aten.native_layer_norm_backward(
             grad, x, width, torch_mean, torch_rstd, weight, bias, [True, True, True])[0]),
        ("rms_norm fwd", lambda: row_kernels.launch_row_norm_fwd(x, 1, weight, None, EPS, rms=True)[0],
         lambda: F.rms_norm(x, width, weight, EPS)),
        ("rms_norm bwd",
         lambda: row_kernels.launch_row_norm_bwd(grad, x, 1, weight, None, rms_rstd, (True, True, False), rms=True)[0],
         lambda: torch.autograd.grad(torch_rms, (x_leaf, weight_leaf), grad, retain_graph=True)[0]),
    ]  # fmt: skip


def run(context: Context) -> list[Row]:
    result = []
    generator = torch.Generator(device=device()).manual_seed(0)
    for dtype in SMOKE_DTYPES if context.smoke else DTYPES:
        for shape, make_cases in (
            (SMOKE_BATCH_SHAPE if context.smoke else BATCH_SHAPE, _batch_norm_cases),
            (SMOKE_ROW_SHAPE if context.smoke else ROW_SHAPE, _row_norm_cases),
        ):
            x = torch.randn(*shape, device=device(), generator=generator).to(dtype)
            grad = torch.randn(*shape, device=device(), generator=generator).to(dtype)
            params = shape[1] if make_cases is _batch_norm_cases else shape[-1]
            weight = torch.randn(params, device=device(), generator=generator)
            bias = torch.randn(params, device=device(), generator=generator)
            if make_cases is _row_norm_cases:
                weight, bias = weight.to(dtype), bias.to(dtype)
            shape_text = str(tuple(shape))
            for case, ours, theirs in make_cases(x, grad, weight, bias):
                tolerance = 2e-2 if dtype != torch.float32 else 1e-4
                check_close(f"{case} {shape_text} {dtype}", ours(), theirs(), tolerance)
                moved = (3 if "bwd" in case else 2) * x.numel() * x.element_size()
                for impl, fn in (("tritongrad", ours), ("torch", theirs)):
                    timing = context.time(fn)
                    result.append(context.memory_row("norm", case, impl, x, shape_text, x.numel(), timing, moved))
    return result


BENCHMARK = Benchmark(
    name="norm",
    title="BatchNorm, LayerNorm and RMSNorm forward and backward",
    description=__doc__.split("\n\n", 1)[1].strip(),
    run=run,
    metric="gbps",
    x_label="input elements",
)
