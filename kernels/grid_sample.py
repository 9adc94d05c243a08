"""torch's grid_sampler for 4-d input: ``out[n, c, h, w]`` samples ``x[n, c]`` at the point
``grid[n, h, w] = (x, y)`` in [-1, 1] coordinates, by bilinear, nearest or bicubic interpolation,
with zeros, border or reflection padding; forward and backward.

Coordinates follow aten/src/ATen/native/GridSampler.h exactly: ``unnormalize`` maps [-1, 1] to
[0, size - 1] (align_corners) or [-0.5, size - 0.5]; border padding clips to [0, size - 1];
reflection reflects about the borders (the pixel edges without align_corners) and then clips;
a coordinate that is not finite or not an int32 becomes -100 (out of bounds). Each of these maps
also gives its derivative, whose product is the factor of the grid gradient. Bilinear and nearest
pad the source point; bicubic unnormalizes only and pads each of its 4 x 4 taps.

Forward: one program takes BLOCK grid points and loops over the channels, so each point's corners
and weights are computed once. Backward: the same programs, once more: the input gradient is
scattered to the corners with atomic adds into a zero-filled float32 (float64) buffer, and the grid
gradient of each point is summed over the channels in registers (from the differences of the
corner values, as torch's kernel does) and written once.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import FLOATING_DTYPES, check_floating, compute_dtype, needs_int64_indexing
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.elementwise import linear_index, store_as
from tritongrad.kernels.pool import window_launch_config
from tritongrad.kernels.resample import cubic_weight
from tritongrad.runtime import cdiv

__all__ = ["MODES", "PADDING_MODES", "launch_grid_sample2d_fwd", "launch_grid_sample2d_bwd"]

MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
PADDING_MODES = {"zeros": 0, "border": 1, "reflection": 2}

# torch's safe_downgrade_to_int_range: what a coordinate outside int32 (or NaN) becomes.
_OUT_OF_RANGE = tl.constexpr(-100.0)
_CUBIC_A = tl.constexpr(-0.75)  # the cubic convolution's A (aten UpSample.h), as for bicubic interpolate


@triton.jit
def _unnormalize(coord, size, ALIGN: tl.constexpr):
    """[-1, 1] -> pixel coordinates, and its derivative (a scalar)."""
    if ALIGN:
        return (coord + 1) / 2 * (size - 1), (size - 1) / 2
    else:
        return ((coord + 1) * size - 1) / 2, size / 2


@triton.jit
def _clip(coord, size):
    """(min(size - 1, max(coord, 0)), its derivative)."""
    high = (size - 1).to(coord.dtype)
    inside = (coord > 0) & (coord < high)
    return tl.minimum(tl.maximum(coord, 0.0), high), tl.where(inside, 1.0, 0.0).to(coord.dtype)


@triton.jit
def _reflect(coord, size, ALIGN: tl.constexpr):
    """coord reflected into [0, size - 1] (align_corners) or [-0.5, size - 0.5], and its derivative (+-1)."""
    if ALIGN:
        offset = 0.0
        twice_span = 2.0 * (size - 1)
    else:
        offset = 0.5
        twice_span = 2.0 * size
    shifted = coord + offset
    negative = shifted < 0
    distance = tl.abs(shifted)
    period = tl.where(twice_span == 0, 1.0, twice_span).to(coord.dtype)
    extra = distance - tl.floor(distance / period) * period
    reflected = period - extra
    flip = (extra > reflected) != negative
    value = tl.where(twice_span == 0, 0.0, tl.minimum(extra, reflected) - offset).to(coord.dtype)
    grad = tl.where(twice_span == 0, 0.0, tl.where(flip, -1.0, 1.0)).to(coord.dtype)
    return value, grad


@triton.jit
def _pad_coordinate(coord, size, PADDING: tl.constexpr, ALIGN: tl.constexpr):
    """torch's compute_coordinates: (padded coordinate, its derivative)."""
    grad = tl.full(coord.shape, 1.0, coord.dtype)
    if PADDING == 1:
        coord, grad = _clip(coord, size)
    elif PADDING == 2:
        coord, reflect_grad = _reflect(coord, size, ALIGN)
        coord, clip_grad = _clip(coord, size)
        grad = reflect_grad * clip_grad
    in_range = (coord > -2147483648.0) & (coord < 2147483646.0)  # False for NaN too
    return tl.where(in_range, coord, _OUT_OF_RANGE).to(coord.dtype), grad


@triton.jit
def _round_half_even(value):
    """std::nearbyint in the default rounding mode."""
    below = tl.floor(value)
    fraction = value - below
    odd = (below - 2.0 * tl.floor(below * 0.5)) != 0
    up = (fraction > 0.5) | ((fraction == 0.5) & odd)
    return tl.where(up, below + 1.0, below)


@triton.jit
def _cubic_weight_grad(t, TAP: tl.constexpr):
    """torch's get_cubic_coefficients_grad (its sign convention: the grid gradient subtracts it)."""
    A: tl.constexpr = _CUBIC_A
    if TAP == 0:
        x = -1.0 - t
        return (-3.0 * A * x - 10.0 * A) * x - 8.0 * A
    elif TAP == 1:
        x = -t
        return (-3.0 * (A + 2.0) * x - 2.0 * (A + 3.0)) * x
    elif TAP == 2:
        x = 1.0 - t
        return (3.0 * (A + 2.0) * x - 2.0 * (A + 3.0)) * x
    else:
        x = 2.0 - t
        return (3.0 * A * x - 10.0 * A) * x + 8.0 * A


@triton.jit
def _cubic_tap(first, TAP: tl.constexpr, size, PADDING: tl.constexpr, ALIGN: tl.constexpr):
    """(index, in bounds) of bicubic tap TAP from ``first`` = floor(coordinate) (a float)."""
    coord, _ = _pad_coordinate(first + (TAP - 1), size, PADDING, ALIGN)
    index = coord.to(tl.int32)
    return index, (index >= 0) & (index < size)


@triton.jit
def _load_grid_point(grid_ptr, n, h, w, g_stride_n, g_stride_h, g_stride_w, g_stride_k, mask, COMPUTE: tl.constexpr):
    base = grid_ptr + n * g_stride_n + h * g_stride_h + w * g_stride_w
    gx = tl.load(base, mask=mask, other=0).to(COMPUTE)
    gy = tl.load(base + g_stride_k, mask=mask, other=0).to(COMPUTE)
    return gx, gy


# One program takes BLOCK grid points (n, h, w) and writes out[n, :, h, w], looping over the C
# channels. Memory: 1, 4 or 16 reads per output, one write.
@triton.jit
def grid_sample2d_fwd_kernel(
    x_ptr, grid_ptr, out_ptr,  # x (N, C, H, W), grid (N, OH, OW, 2), out (N, C, OH, OW) contiguous
    points, C, H, W, OH, OW,
    x_stride_n, x_stride_c, x_stride_h, x_stride_w,
    g_stride_n, g_stride_h, g_stride_w, g_stride_k,
    MODE: tl.constexpr, PADDING: tl.constexpr, ALIGN: tl.constexpr,
    COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    point = linear_index(BLOCK, INDEX_64)
    mask = point < points
    ow = point % OW
    oh = (point // OW) % OH
    n = point // (OW * OH)
    gx, gy = _load_grid_point(grid_ptr, n, oh, ow, g_stride_n, g_stride_h, g_stride_w, g_stride_k, mask, COMPUTE)
    x_base = x_ptr + n * x_stride_n
    out_base = out_ptr + n * C * OH * OW + oh * OW + ow
    ix, _ = _unnormalize(gx, W, ALIGN)
    iy, _ = _unnormalize(gy, H, ALIGN)
    if MODE == 2:  # bicubic: taps padded one by one
        fx = tl.floor(ix)
        fy = tl.floor(iy)
        tx = ix - fx
        ty = iy - fy
    else:
        # torch weighs the bilinear corners of a zeros-padded sample by the raw coordinate: a NaN or
        # infinite one makes every weight NaN, and the sample NaN (the corners themselves are off
        # the image). Padded coordinates are finite, and nearest never weighs.
        finite = ((ix - ix) == 0) & ((iy - iy) == 0)
        ix, _ = _pad_coordinate(ix, W, PADDING, ALIGN)
        iy, _ = _pad_coordinate(iy, H, PADDING, ALIGN)
        if MODE == 1:
            x0 = _round_half_even(ix).to(tl.int32)
            y0 = _round_half_even(iy).to(tl.int32)
        else:
            fx = tl.floor(ix)
            fy = tl.floor(iy)
            wx = ix - fx
            wy = iy - fy
            x0 = fx.to(tl.int32)
            y0 = fy.to(tl.int32)
            x1 = x0 + 1
            y1 = y0 + 1
            in_x1 = mask & (x1 >= 0) & (x1 < W)
            in_y1 = (y1 >= 0) & (y1 < H)
        in_x0 = mask & (x0 >= 0) & (x0 < W)
        in_y0 = (y0 >= 0) & (y0 < H)
    for c in range(C):
        channel = x_base + c * x_stride_c
        if MODE == 0:
            v00 = tl.load(channel + y0 * x_stride_h + x0 * x_stride_w, mask=in_y0 & in_x0, other=0).to(COMPUTE)
            v01 = tl.load(channel + y0 * x_stride_h + x1 * x_stride_w, mask=in_y0 & in_x1, other=0).to(COMPUTE)
            v10 = tl.load(channel + y1 * x_stride_h + x0 * x_stride_w, mask=in_y1 & in_x0, other=0).to(COMPUTE)
            v11 = tl.load(channel + y1 * x_stride_h + x1 * x_stride_w, mask=in_y1 & in_x1, other=0).to(COMPUTE)
            value = (
                v00 * ((1.0 - wy) * (1.0 - wx)) + v01 * ((1.0 - wy) * wx) + v10 * (wy * (1.0 - wx)) + v11 * (wy * wx)
            )
            if PADDING == 0:
                value = tl.where(finite, value, float("nan"))
        elif MODE == 1:
            value = tl.load(channel + y0 * x_stride_h + x0 * x_stride_w, mask=in_y0 & in_x0, other=0).to(COMPUTE)
        else:
            value = tl.zeros([BLOCK], COMPUTE)
            for j in tl.static_range(4):
                row_index, row_ok = _cubic_tap(fy, j, H, PADDING, ALIGN)
                row = tl.zeros([BLOCK], COMPUTE)
                for i in tl.static_range(4):
                    column, column_ok = _cubic_tap(fx, i, W, PADDING, ALIGN)
                    tap = tl.load(
                        channel + row_index * x_stride_h + column * x_stride_w,
                        mask=mask & row_ok & column_ok, other=0,
                    ).to(COMPUTE)  # fmt: skip
                    row += tap * cubic_weight(tx, i)
                value += row * cubic_weight(ty, j)
        store_as(out_base + c * OH * OW, value, mask)


# The gradient of grid_sample2d_fwd_kernel: one program takes BLOCK grid points and loops over the
# channels, adding grad_out times each corner's weight into grad_x (atomics: points share corners)
# and summing the grid gradient of its points in registers (one write each).
@triton.jit
def grid_sample2d_bwd_kernel(
    grad_ptr, x_ptr, grid_ptr, grad_x_ptr, grad_grid_ptr,
    # grad (N, C, OH, OW), x (N, C, H, W) any strides; grad_x (N, C, H, W) contiguous, zero-filled,
    # float32/float64; grad_grid (N, OH, OW, 2) contiguous
    points, C, H, W, OH, OW,
    gr_stride_n, gr_stride_c, gr_stride_h, gr_stride_w,
    x_stride_n, x_stride_c, x_stride_h, x_stride_w,
    g_stride_n, g_stride_h, g_stride_w, g_stride_k,
    MODE: tl.constexpr, PADDING: tl.constexpr, ALIGN: tl.constexpr,
    INPUT_GRAD: tl.constexpr, GRID_GRAD: tl.constexpr,
    COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    point = linear_index(BLOCK, INDEX_64)
    mask = point < points
    ow = point % OW
    oh = (point // OW) % OH
    n = point // (OW * OH)
    gx, gy = _load_grid_point(grid_ptr, n, oh, ow, g_stride_n, g_stride_h, g_stride_w, g_stride_k, mask, COMPUTE)
    x_base = x_ptr + n * x_stride_n
    grad_base = grad_ptr + n * gr_stride_n + oh * gr_stride_h + ow * gr_stride_w
    grad_x_base = grad_x_ptr + n * C * H * W
    ix, scale_x = _unnormalize(gx, W, ALIGN)
    iy, scale_y = _unnormalize(gy, H, ALIGN)
    if MODE == 2:
        fx = tl.floor(ix)
        fy = tl.floor(iy)
        tx = ix - fx
        ty = iy - fy
        factor_x = tl.zeros([BLOCK], COMPUTE) + scale_x
        factor_y = tl.zeros([BLOCK], COMPUTE) + scale_y
    else:
        ix, pad_x = _pad_coordinate(ix, W, PADDING, ALIGN)
        iy, pad_y = _pad_coordinate(iy, H, PADDING, ALIGN)
        factor_x = pad_x * scale_x
        factor_y = pad_y * scale_y
        if MODE == 1:
            x0 = _round_half_even(ix).to(tl.int32)
            y0 = _round_half_even(iy).to(tl.int32)
        else:
            fx = tl.floor(ix)
            fy = tl.floor(iy)
            wx = ix - fx
            wy = iy - fy
            x0 = fx.to(tl.int32)
            y0 = fy.to(tl.int32)
            x1 = x0 + 1
            y1 = y0 + 1
            in_x1 = mask & (x1 >= 0) & (x1 < W)
            in_y1 = (y1 >= 0) & (y1 < H)
        in_x0 = mask & (x0 >= 0) & (x0 < W)
        in_y0 = (y0 >= 0) & (y0 < H)
    acc_x = tl.zeros([BLOCK], COMPUTE)
    acc_y = tl.zeros([BLOCK], COMPUTE)
    for c in range(C):
        g = tl.load(grad_base + c * gr_stride_c, mask=mask, other=0).to(COMPUTE)
        channel = x_base + c * x_stride_c
        grad_channel = grad_x_base + c * H * W
        if MODE == 0:
            if INPUT_GRAD:
                tl.atomic_add(grad_channel + y0 * W + x0, g * ((1.0 - wy) * (1.0 - wx)), mask=in_y0 & in_x0)
                tl.atomic_add(grad_channel + y0 * W + x1, g * ((1.0 - wy) * wx), mask=in_y0 & in_x1)
                tl.atomic_add(grad_channel + y1 * W + x0, g * (wy * (1.0 - wx)), mask=in_y1 & in_x0)
                tl.atomic_add(grad_channel + y1 * W + x1, g * (wy * wx), mask=in_y1 & in_x1)
            if GRID_GRAD:
                v00 = tl.load(channel + y0 * x_stride_h + x0 * x_stride_w, mask=in_y0 & in_x0, other=0).to(COMPUTE)
                v01 = tl.load(channel + y0 * x_stride_h + x1 * x_stride_w, mask=in_y0 & in_x1, other=0).to(COMPUTE)
                v10 = tl.load(channel + y1 * x_stride_h + x0 * x_stride_w, mask=in_y1 & in_x0, other=0).to(COMPUTE)
                v11 = tl.load(channel + y1 * x_stride_h + x1 * x_stride_w, mask=in_y1 & in_x1, other=0).to(COMPUTE)
                acc_x += ((v01 - v00) * (1.0 - wy) + (v11 - v10) * wy) * g
                acc_y += ((v10 - v00) * (1.0 - wx) + (v11 - v01) * wx) * g
        elif MODE == 1:
            if INPUT_GRAD:
                tl.atomic_add(grad_channel + y0 * W + x0, g, mask=in_y0 & in_x0)
        else:
            for j in tl.static_range(4):
                row_index, row_ok = _cubic_tap(fy, j, H, PADDING, ALIGN)
                weight_y = cubic_weight(ty, j)
                for i in tl.static_range(4):
                    column, column_ok = _cubic_tap(fx, i, W, PADDING, ALIGN)
                    weight_x = cubic_weight(tx, i)
                    ok = mask & row_ok & column_ok
                    if INPUT_GRAD:
                        tl.atomic_add(grad_channel + row_index * W + column, g * weight_x * weight_y, mask=ok)
                    if GRID_GRAD:
                        tap = tl.load(channel + row_index * x_stride_h + column * x_stride_w, mask=ok, other=0)
                        tap = tap.to(COMPUTE) * g
                        acc_x -= tap * _cubic_weight_grad(tx, i) * weight_y
                        acc_y -= tap * _cubic_weight_grad(ty, j) * weight_x
    if GRID_GRAD:
        store_as(grad_grid_ptr + 2 * point, acc_x * factor_x, mask)
        store_as(grad_grid_ptr + 2 * point + 1, acc_y * factor_y, mask)


def _check(x: torch.Tensor, grid: torch.Tensor, mode: str, padding_mode: str) -> None:
    if x.dim() != 4 or grid.dim() != 4 or grid.shape[-1] != 2 or grid.shape[0] != x.shape[0]:
        raise ValueError(
            f"grid_sample2d kernels take x (N, C, H, W) and grid (N, OH, OW, 2), got {list(x.shape)} and "
            f"{list(grid.shape)}"
        )
    check_floating("grid_sample", x, FLOATING_DTYPES)
    if grid.dtype != x.dtype:
        raise TypeError(f"grid_sample: grid dtype {grid.dtype} differs from input dtype {x.dtype}")
    if mode not in MODES or padding_mode not in PADDING_MODES:
        raise ValueError(f"grid_sample: unknown mode {mode!r} or padding_mode {padding_mode!r}")


def launch_grid_sample2d_fwd(x: torch.Tensor, grid: torch.Tensor, mode: str, padding_mode: str,
                             align_corners: bool) -> torch.Tensor:  # fmt: skip
    """x (N, C, H, W) sampled at grid (N, OH, OW, 2) (any strides, x's dtype): a contiguous
    (N, C, OH, OW) tensor of x's dtype."""
    _check(x, grid, mode, padding_mode)
    n, c, h, w = x.shape
    oh, ow = grid.shape[1:3]
    out = torch.empty((n, c, oh, ow), dtype=x.dtype, device=x.device)
    points = n * oh * ow
    if out.numel() == 0:
        return out
    block, num_warps = window_launch_config(points)
    # One program instance samples BLOCK grid points in every channel.
    grid_sample2d_fwd_kernel[(cdiv(points, block),)](
        x, grid, out,
        points, c, h, w, oh, ow,
        *x.stride(), *grid.stride(),
        MODE=MODES[mode], PADDING=PADDING_MODES[padding_mode], ALIGN=bool(align_corners),
        COMPUTE=compute_dtype(x.dtype), BLOCK=block, INDEX_64=needs_int64_indexing(x, grid, out),
        num_warps=num_warps,
    )  # fmt: skip
    return out


def launch_grid_sample2d_bwd(grad: torch.Tensor, x: torch.Tensor, grid: torch.Tensor, mode: str, padding_mode: str,
                             align_corners: bool, input_grad: bool = True,
                             grid_grad: bool = True) -> tuple[torch.Tensor | None, torch.Tensor | None]:  # fmt: skip
    """Gradients of ``launch_grid_sample2d_fwd`` from grad (N, C, OH, OW), any strides: (grad_x, grad_grid),
    each None unless asked for. grad_x is contiguous and float32 (float64 for float64 x): the atomic
    adds accumulate there, and the caller narrows it for half types; grad_grid has grid's dtype."""
    _check(x, grid, mode, padding_mode)
    n, c, h, w = x.shape
    oh, ow = grid.shape[1:3]
    if tuple(grad.shape) != (n, c, oh, ow):
        raise ValueError(f"grid_sample backward: grad of shape {list(grad.shape)}, expected {[n, c, oh, ow]}")
    grad_x = grad_grid = None
    if input_grad:
        accumulate = torch.float64 if x.dtype == torch.float64 else torch.float32
        grad_x = launch_fill_(torch.empty((n, c, h, w), dtype=accumulate, device=x.device), 0)
    if grid_grad:
        grad_grid = torch.empty((n, oh, ow, 2), dtype=grid.dtype, device=grid.device)
        if mode == "nearest" or c == 0:
            launch_fill_(grad_grid, 0)  # nearest: piecewise constant in the grid
            grid_grad = False
    points = n * oh * ow
    if points == 0 or c == 0 or not (input_grad or grid_grad):
        return grad_x, grad_grid
    block, num_warps = window_launch_config(points)
    # One program instance takes BLOCK grid points in every channel.
    grid_sample2d_bwd_kernel[(cdiv(points, block),)](
        grad, x, grid,
        grad_x if grad_x is not None else grad_grid,  # (a gradient not asked for is never written: any buffer)
        grad_grid if grad_grid is not None else grad_x,
        points, c, h, w, oh, ow,
        *grad.stride(), *x.stride(), *grid.stride(),
        MODE=MODES[mode], PADDING=PADDING_MODES[padding_mode], ALIGN=bool(align_corners),
        INPUT_GRAD=input_grad, GRID_GRAD=grid_grad,
        COMPUTE=compute_dtype(x.dtype), BLOCK=block,
        INDEX_64=needs_int64_indexing(grad, x, grid, *(t for t in (grad_x, grad_grid) if t is not None)),
        num_warps=num_warps,
    )  # fmt: skip
    return grad_x, grad_grid
