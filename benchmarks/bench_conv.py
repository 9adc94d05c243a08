"""conv2d forward, input gradient and weight gradient against torch (cuDNN on a GPU), at ResNet-50 shapes.

    case                  FLOPs                                  tritongrad launcher
    conv fwd              2 N OC OH OW (C/groups) KH KW          launch_conv2d
    conv input grad       the same                               launch_conv2d_input_grad
    conv weight grad      the same                               launch_conv2d_weight_grad

Layers of ResNet-50 at batch 32 (smoke: batch 2, a few channels): the 7x7/2 stem, a 1x1
bottleneck reduction, a 3x3 at 56x56 and a strided 3x3. Each in fp32 (exact), tf32, fp16 and
bf16, with NCHW and channels_last inputs (torch gets the same layout). torch runs F.conv2d and
its aten backward ops (``convolution_backward``); the figure is TFLOP/s and the fraction of
torch's. tritongrad's kernels are implicit GEMMs that read the input in place
(kernels/conv.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks.common import Benchmark, Context, Row, check_close, device, dtype_name
from tritongrad.kernels import conv as conv_kernels

# (label, N, C, H, W, OC, kernel, stride, padding)
SHAPES = [
    ("stem 7x7/2 3->64", 32, 3, 224, 224, 64, 7, 2, 3),
    ("1x1 256->64 @56", 32, 256, 56, 56, 64, 1, 1, 0),
    ("3x3 64->64 @56", 32, 64, 56, 56, 64, 3, 1, 1),
    ("3x3/2 128->128 @56", 32, 128, 56, 56, 128, 3, 2, 1),
]
SMOKE_SHAPES = [("3x3 4->6 @7", 2, 4, 7, 7, 6, 3, 1, 1)]
# (name, dtype, allow_tf32)
PRECISIONS = [("fp32", torch.float32, False), ("tf32", torch.float32, True), ("fp16", torch.float16, False),
              ("bf16", torch.bfloat16, False)]  # fmt: skip
SMOKE_PRECISIONS = [("fp32", torch.float32, False)]
LAYOUTS = {"NCHW": torch.contiguous_format, "channels_last": torch.channels_last}


def _cases(x, weight, grad, stride, padding, allow_tf32):
    """[(case, tritongrad callable, torch callable)] for the three passes."""
    size, kernel = tuple(x.shape[2:]), tuple(weight.shape[2:])
    pair, pad = (stride, stride), (padding, padding)

    def torch_backward(mask):
        return lambda: torch.ops.aten.convolution_backward(
            grad, x, weight, None, list(pair), list(pad), [1, 1], False, [0, 0], 1, mask
        )[0 if mask[0] else 1]

    return [
        ("conv fwd", lambda: conv_kernels.launch_conv2d(x, weight, None, pair, pad, allow_tf32=allow_tf32),
         lambda: F.conv2d(x, weight, None, stride, padding)),
        ("conv input grad",
         lambda: conv_kernels.launch_conv2d_input_grad(grad, weight, size, pair, pad, allow_tf32=allow_tf32),
         torch_backward([True, False, False])),
        ("conv weight grad",
         lambda: conv_kernels.launch_conv2d_weight_grad(grad, x, kernel, pair, pad, allow_tf32=allow_tf32),
         torch_backward([False, True, False])),
    ]  # fmt: skip


def run(context: Context) -> list[Row]:
    result = []
    generator = torch.Generator(device=device()).manual_seed(0)
    tf32_was = torch.backends.cudnn.allow_tf32
    try:
        for precision, dtype, allow_tf32 in SMOKE_PRECISIONS if context.smoke else PRECISIONS:
            torch.backends.cudnn.allow_tf32 = allow_tf32  # torch's reference in the same precision
            for label, n, c, h, w, oc, k, stride, padding in SMOKE_SHAPES if context.smoke else SHAPES:
                for layout, memory_format in LAYOUTS.items():
                    x = torch.randn(n, c, h, w, device=device(), generator=generator).to(dtype)
                    x = x.contiguous(memory_format=memory_format)
                    weight = torch.randn(oc, c, k, k, device=device(), generator=generator).to(dtype)
                    weight = (weight / (c * k * k) ** 0.5).contiguous(memory_format=memory_format)
                    out = F.conv2d(x, weight, None, stride, padding)
                    grad = torch.randn(out.shape, device=device(), generator=generator).to(dtype)
                    grad = grad.contiguous(memory_format=memory_format)
                    flops = 2 * out.numel() * c * k * k
                    shape_text = f"{label} N={n} {layout}"
                    for case, ours, theirs in _cases(x, weight, grad, stride, padding, allow_tf32):
                        tolerance = 2e-2 if dtype != torch.float32 or allow_tf32 else None
                        check_close(f"{case} {shape_text} {precision}", ours(), theirs(), tolerance)
                        timings = {impl: context.time(fn) for impl, fn in (("tritongrad", ours), ("torch", theirs))}
                        torch_tflops = flops / (timings["torch"].ms * 1e-3) / 1e12
                        for impl, timing in timings.items():
                            row = Row("conv", case, impl, precision if allow_tf32 else dtype_name(dtype), shape_text,
                                      flops, timing.ms, timing.ms_p20, timing.ms_p80)  # fmt: skip
                            tflops = flops / (timing.ms * 1e-3) / 1e12
                            row.tflops, row.fraction, row.fraction_of = tflops, tflops / torch_tflops, "torch"
                            result.append(row)
    finally:
        torch.backends.cudnn.allow_tf32 = tf32_was
    return result


BENCHMARK = Benchmark(
    name="conv",
    title="conv2d forward and backward at ResNet-50 shapes",
    description=__doc__.split("\n\n", 1)[1].strip(),
    run=run,
    metric="tflops",
    x_label="FLOPs",
)
