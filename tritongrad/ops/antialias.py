"""F.interpolate(..., antialias=True): 'bilinear', 'bicubic' and 'lanczos' resizes of (N, C, H, W) with
a filter widened by the downscale factor, as torch's (and Pillow's) separable antialiased resampling.

Each output row (column) is a weighted sum of a window of input rows (columns): the filter (triangle,
Keys cubic with a = -0.5, Lanczos-3) evaluated at the input positions around the output's centre,
stretched by the scale when shrinking, and the window's weights normalized to sum to one. The resize
is linear and separable, so it is two matrix products with small weight matrices built on the host
from those rules: ``out = rows @ input @ columns^T`` over every (N, C) plane, on tritongrad's matmul
kernels. Its gradient is the transposed products, themselves differentiable.

The rules and their constants were checked against torch 2.13's outputs on one-hot inputs (every
weight equal to float64 precision, tests/test_interpolate_antialias.py).
"""

from __future__ import annotations

import functools
import math

import torch

from tritongrad.autograd.function import Function
from tritongrad.dtypes import dtype_word
from tritongrad.ops.linalg import matmul
from tritongrad.tensor import Tensor

__all__ = ["antialiased_resize"]


def _triangle(x: float) -> float:
    return max(0.0, 1.0 - abs(x))


def _keys_cubic(x: float) -> float:
    a, x = -0.5, abs(x)  # (Pillow's and torch's antialiased a; the plain bicubic resize uses -0.75)
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return 0.0


def _lanczos3(x: float) -> float:
    if x == 0.0:
        return 1.0
    if abs(x) >= 3.0:
        return 0.0
    return 3.0 * math.sin(math.pi * x) * math.sin(math.pi * x / 3.0) / (math.pi * math.pi * x * x)


# mode -> (filter, its support in input pixels at scale 1)
FILTERS = {"bilinear": (_triangle, 2), "bicubic": (_keys_cubic, 4), "lanczos": (_lanczos3, 6)}
# torch's node per mode
NODE_NAMES = {
    "bilinear": "UpsampleBilinear2DAaBackward0",
    "bicubic": "UpsampleBicubic2DAaBackward0",
    "lanczos": "UpsampleLanczos2DAaBackward0",
}


@functools.lru_cache(maxsize=64)
def weight_rows(mode: str, in_size: int, out_size: int, align_corners: bool, factor: float | None) -> list:
    """The (out_size, in_size) weight matrix of one axis, as nested lists (computed once per resize: a
    training loop resizes the same shapes every step; callers copy it into a tensor, never write it)."""
    function, width = FILTERS[mode]
    if align_corners:
        scale = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        scale = 1.0 / factor if factor else in_size / out_size
    support = width / 2 * scale if scale >= 1.0 else width / 2
    stretch = 1.0 / scale if scale >= 1.0 else 1.0
    rows = []
    for i in range(out_size):
        center = scale * (i + 0.5)
        first = max(int(center - support + 0.5), 0)
        last = min(int(center + support + 0.5), in_size)
        window = [function((j + first - center + 0.5) * stretch) for j in range(last - first)]
        total = sum(window)
        row = [0.0] * in_size
        for j, weight in enumerate(window):
            row[first + j] = weight / total if total != 0.0 else 0.0
        rows.append(row)
    return rows


class AntialiasedResize(Function):
    """``rows @ input @ columns^T`` (the weight matrices are constants)."""

    @staticmethod
    def forward(ctx, input, rows, columns):
        ctx.rows, ctx.columns = rows, columns
        return matmul(matmul(rows, input), columns.mT)

    @staticmethod
    def backward(ctx, grad):
        return matmul(matmul(ctx.rows.mT, grad), ctx.columns), None, None


_NODES: dict[str, type[Function]] = {}


def antialiased_resize(input: Tensor, mode: str, sizes, factors, align_corners: bool) -> Tensor:
    """(N, C, H, W) ``input`` resized to ``sizes`` (out_h, out_w); ``factors`` the scale factors given
    (or None each), ``align_corners`` torch's flag."""
    if input.dtype not in (torch.float32, torch.float64):
        # (torch refuses the half types and integers; its uint8 kernel rounds in a fixed-point pipeline
        # tritongrad does not reproduce, so it is refused here rather than answered 1 off)
        if input.dtype == torch.uint8:
            raise NotImplementedError("tritongrad: interpolate(antialias=True) of uint8 input is not implemented")
        raise NotImplementedError(f"\"compute_index_ranges_weights\" not implemented for '{dtype_word(input.dtype)}'")
    (in_h, in_w), (out_h, out_w) = input.shape[2:], sizes
    options = {"dtype": input.dtype, "device": input.device}
    rows = Tensor._wrap(torch.tensor(weight_rows(mode, in_h, out_h, align_corners, factors[0]), **options))
    columns = Tensor._wrap(torch.tensor(weight_rows(mode, in_w, out_w, align_corners, factors[1]), **options))
    name = NODE_NAMES[mode]
    if name not in _NODES:
        _NODES[name] = type(f"AntialiasedResize_{mode}", (AntialiasedResize,), {"_backward_name": name})
    return _NODES[name].apply(input, rows, columns)
