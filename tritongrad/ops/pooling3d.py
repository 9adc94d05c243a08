"""3-D pooling (max, average, adaptive) over (N, C, D, H, W) or (C, D, H, W) input, composed of the
2-D and 1-D pooling kernels: a box window is separable, so pooling each depth plane over (H, W)
and then each resulting column over D gives torch's values exactly where max is concerned and up
to rounding for averages (torch's divisor is a product of per-dimension counts, the same in both
orders, with or without ``count_include_pad`` and ``ceil_mode``). Ties go to the first element in
(d, h, w) order, as torch's scan: the plane pass keeps each plane's first maximum, the depth pass
the first plane holding it. Gradients are the composed ops' (each max to its argmax)."""

from __future__ import annotations

import torch

from tritongrad import creation
from tritongrad.dtypes import dtype_word
from tritongrad.kernels.common import FLOATING_DTYPES
from tritongrad.ops import pooling
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.indexing import gather

__all__ = ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d"]


def _triple(value, name: str) -> tuple[int, int, int]:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * 3
    if len(values) == 1:
        values = values * 3
    if len(values) != 3:
        raise RuntimeError(f"{name} must either be a single int, or a tuple of three ints")
    return tuple(int(v) for v in values)


def _batched(input, name: str):
    """(input as 5-D, whether a batch dim was added), after torch's rank check."""
    if input.dim() not in (4, 5):
        raise RuntimeError(f"{name}: Expected 4D or 5D tensor for input, but got: {list(input.shape)}")
    return (input, False) if input.dim() == 5 else (input.unsqueeze(0), True)


def _over_planes(x, pool2d):
    """pool2d applied to every (H, W) plane of x (N, C, D, H, W) -> (N, C, D, H', W') (and indices)."""
    n, c, d, h, w = x.shape
    result = pool2d(x.reshape(n, c * d, h, w))
    if isinstance(result, tuple):
        return tuple(r.reshape(n, c, d, *r.shape[-2:]) for r in result)
    return result.reshape(n, c, d, *result.shape[-2:])


def _over_depth(y, pool1d):
    """pool1d applied along D of y (N, C, D, H', W') -> (N, C, D', H', W') (and indices)."""
    n, c, d, h, w = y.shape
    columns = y.permute(0, 1, 3, 4, 2).reshape(n * c * h * w, 1, d)
    result = pool1d(columns)
    if isinstance(result, tuple):
        return tuple(r.reshape(n, c, h, w, r.shape[-1]).permute(0, 1, 4, 2, 3) for r in result)
    return result.reshape(n, c, h, w, result.shape[-1]).permute(0, 1, 4, 2, 3)


def _flat_indices(plane_indices, depth_indices, height: int, width: int):
    """Indices into each (D, H, W) volume: the depth pass's plane times H*W plus that plane's index."""
    within_plane = gather(plane_indices, 2, depth_indices)
    return depth_indices * (height * width) + within_plane


def _finish(result, unbatched: bool):
    if unbatched:
        return tuple(r.squeeze(0) for r in result) if isinstance(result, tuple) else result.squeeze(0)
    return result


def _check_output_size(x, kernel, stride, padding, dilation, ceil_mode: bool) -> None:
    """torch's "Output size is too small" with the 3-d shapes (the 2-d and 1-d passes would name their own)."""
    if any(k <= 0 for k in kernel) or any(s <= 0 for s in stride) or any(d <= 0 for d in dilation):
        return  # the passes raise torch's errors for these
    if any(p > ((k - 1) * d + 1) // 2 for k, p, d in zip(kernel, padding, dilation)):
        return
    sizes = x.shape[2:]
    output = [pooling.pooling_output_size(*args, ceil_mode) for args in zip(sizes, kernel, stride, padding, dilation)]
    if min(output) < 1:
        channels = x.shape[1]
        raise RuntimeError(
            f"Given input size: ({'x'.join(str(v) for v in (channels, *sizes))}). Calculated output size: "
            f"({'x'.join(str(v) for v in (channels, *output))}). Output size is too small"
        )


def _integer_avg_pool3d(x, kernel, step, pad, ceil_mode: bool, count_include_pad: bool, divisor_override):
    """int64 average pooling as torch's: each window's exact sum divided by its 3-d divisor with
    truncation. The sums come from the separable passes with divisor 1 (exact in int64); the divisor
    (a product of per-dim counts) is recovered from a float64 pooling of ones as count / mean."""
    sums = _over_planes(x, lambda t: pooling.avg_pool2d(t, kernel[1:], step[1:], pad[1:], ceil_mode, True, 1))
    sums = _over_depth(
        sums, lambda t: pooling.avg_pool2d(t.unsqueeze(2), (1, kernel[0]), (1, step[0]), (0, pad[0]), ceil_mode,
                                           True, 1).squeeze(2)
    )  # fmt: skip
    if divisor_override is not None:
        return sums.div(divisor_override, rounding_mode="trunc")
    ones = creation.ones((1, 1, *x.shape[2:]), dtype=torch.float64, device=x.device)
    counts = avg_pool3d(ones, kernel, step, pad, ceil_mode, True, 1)
    means = avg_pool3d(ones, kernel, step, pad, ceil_mode, count_include_pad)
    return sums.div((counts / means).round().long(), rounding_mode="trunc")


@autocast_op("max_pool3d")
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):  # fmt: skip
    """torch.nn.functional.max_pool3d."""
    x, unbatched = _batched(input, "max_pool3d")
    kernel = _triple(kernel_size, "max_pool3d: kernel_size")
    step = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _triple(stride, "stride")
    pad, spread = _triple(padding, "max_pool3d: padding"), _triple(dilation, "max_pool3d: dilation")
    _check_output_size(x, kernel, step, pad, spread, ceil_mode)
    planes = _over_planes(
        x, lambda t: pooling.max_pool2d(t, kernel[1:], step[1:], pad[1:], spread[1:], ceil_mode, return_indices=True)
    )
    values, plane_indices = planes
    pooled, depth_indices = _over_depth(
        values, lambda t: pooling.max_pool1d(t, kernel[0], step[0], pad[0], spread[0], ceil_mode, return_indices=True)
    )
    if not return_indices:
        return _finish(pooled, unbatched)
    indices = _flat_indices(plane_indices, depth_indices, x.shape[3], x.shape[4])
    return _finish((pooled, indices), unbatched)


@autocast_op("avg_pool3d")
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override=None):  # fmt: skip
    """torch.nn.functional.avg_pool3d."""
    x, unbatched = _batched(input, "avg_pool3d")
    kernel = _triple(kernel_size, "avg_pool3d: kernel_size")
    step = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _triple(stride, "stride")
    pad = _triple(padding, "avg_pool3d: padding")
    # (torch's CPU kernel has float32, float64 and int64 only; its GPU one the half types too)
    cpu_refused = x.device.type == "cpu" and x.dtype in (torch.float16, torch.bfloat16)
    if x.dtype not in (*FLOATING_DTYPES, torch.int64) or cpu_refused:
        raise NotImplementedError(f"\"avg_pool3d_out_frame\" not implemented for '{dtype_word(x.dtype)}'")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if x.dtype == torch.int64:
        return _finish(_integer_avg_pool3d(x, kernel, step, pad, ceil_mode, count_include_pad, divisor_override),
                       unbatched)  # fmt: skip
    if divisor_override is not None:
        # window sums (a divisor of 1 in each pass), then the given divisor
        sums = _over_planes(x, lambda t: pooling.avg_pool2d(t, kernel[1:], step[1:], pad[1:], ceil_mode, True, 1))
        sums = _over_depth(
            sums, lambda t: pooling.avg_pool2d(t.unsqueeze(2), (1, kernel[0]), (1, step[0]), (0, pad[0]), ceil_mode,
                                               True, 1).squeeze(2)
        )  # fmt: skip
        return _finish(sums / divisor_override, unbatched)
    planes = _over_planes(
        x, lambda t: pooling.avg_pool2d(t, kernel[1:], step[1:], pad[1:], ceil_mode, count_include_pad)
    )
    pooled = _over_depth(
        planes, lambda t: pooling.avg_pool1d(t, kernel[0], step[0], pad[0], ceil_mode, count_include_pad)
    )
    return _finish(pooled, unbatched)


def _output_triple(output_size, x) -> tuple[int, int, int]:
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 3
    if len(sizes) != 3:
        raise RuntimeError("adaptive pool 3d: output_size must be 3")
    return tuple(x.shape[2 + i] if size is None else int(size) for i, size in enumerate(sizes))


@autocast_op("adaptive_avg_pool3d")
def adaptive_avg_pool3d(input, output_size):
    """torch.nn.functional.adaptive_avg_pool3d (None in output_size keeps that dim's size)."""
    pooling.check_rank_for_output_size(input, output_size)
    x, unbatched = _batched(input, "adaptive_avg_pool3d")
    depth, height, width = _output_triple(output_size, x)
    planes = _over_planes(x, lambda t: pooling.adaptive_avg_pool2d(t, (height, width)))
    return _finish(_over_depth(planes, lambda t: pooling.adaptive_avg_pool1d(t, depth)), unbatched)


@autocast_op("adaptive_max_pool3d")
def adaptive_max_pool3d(input, output_size, return_indices: bool = False):
    """torch.nn.functional.adaptive_max_pool3d."""
    pooling.check_rank_for_output_size(input, output_size)
    x, unbatched = _batched(input, "adaptive_max_pool3d")
    depth, height, width = _output_triple(output_size, x)
    values, plane_indices = _over_planes(
        x, lambda t: pooling.adaptive_max_pool2d(t, (height, width), return_indices=True)
    )
    pooled, depth_indices = _over_depth(values, lambda t: pooling.adaptive_max_pool1d(t, depth, return_indices=True))
    if not return_indices:
        return _finish(pooled, unbatched)
    return _finish((pooled, _flat_indices(plane_indices, depth_indices, x.shape[3], x.shape[4])), unbatched)
