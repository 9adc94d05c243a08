"""im2col and col2im: ``unfold`` (the sliding blocks of an image as columns) and ``fold`` (columns
summed back into an image), torch.nn.functional's names.

Both are one indexing kernel on an (N, C, Hp * Wp) view of the zero-padded image: block element
(c, i, j) of block (oh, ow) sits at flat position ``(i * dh + oh * sh) * Wp + (j * dw + ow * sw)``
of channel c. ``unfold`` gathers at those positions (after a ``pad``), ``fold`` adds into them
(atomic adds: overlapping blocks sum) and crops the padding. The position table is built once per
geometry with tritongrad ops and kept (``_plan``).

Each op is the other's adjoint, so ``Im2Col``'s backward is ``Col2Im`` of the gradient and the
other way round; gradients of any order stay on the same two kernels. The argument checks and
their messages are torch's (aten im2col_shape_check / col2im_shape_check).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.dtypes import dtype_word
from tritongrad.ops import views
from tritongrad.ops.indexing import IndexPlan
from tritongrad.ops.padding import pad
from tritongrad.tensor import Tensor

__all__ = ["unfold", "fold"]

Pair = tuple[int, int]


@dataclass(frozen=True)
class FoldGeometry:
    """The image (``size``, before padding), its blocks' layout and the (OH, OW) grid of blocks."""

    size: Pair
    kernel: Pair
    dilation: Pair
    padding: Pair
    stride: Pair
    blocks: Pair
    batched: bool

    @property
    def padded(self) -> Pair:
        return (self.size[0] + 2 * self.padding[0], self.size[1] + 2 * self.padding[1])


@functools.lru_cache(maxsize=64)
def _plan(geometry: FoldGeometry, batch: int, channels: int, device: torch.device) -> IndexPlan:
    """The plan of the (N, C, kh * kw * OH * OW) block elements in (N, C, Hp * Wp) (see the module
    docstring); the positions are in range by construction, so no bounds check reads back."""
    (kh, kw), (dh, dw), (sh, sw) = geometry.kernel, geometry.dilation, geometry.stride
    (oh, ow), width = geometry.blocks, geometry.padded[1]

    def steps(count: int, step: int, shape: tuple[int, ...]) -> Tensor:
        return (creation.arange(count, dtype=torch.int64, device=device) * step).view(shape)

    rows = steps(kh, dh, (kh, 1, 1, 1)) + steps(oh, sh, (1, 1, oh, 1))
    columns = steps(kw, dw, (1, kw, 1, 1)) + steps(ow, sw, (1, 1, 1, ow))
    positions = (rows * width + columns).reshape(-1)._data
    shape = (batch, channels, geometry.padded[0] * width)
    return IndexPlan(shape, [2], [positions], (batch, channels, positions.numel()), {0: 0, 1: 1}, [2],
                     wrap=False, checked=True)  # fmt: skip


def _batched(x: Tensor, geometry: FoldGeometry) -> Tensor:
    return x if geometry.batched else x.unsqueeze(0)


class Im2Col(Function):
    """(N, C, H, W) -> (N, C * kh * kw, OH * OW): the blocks of the image as columns."""

    _backward_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, geometry):
        ctx.geometry = geometry
        image = _batched(x, geometry)
        batch, channels = image.shape[:2]
        (ph, pw), (hp, wp) = geometry.padding, geometry.padded
        if ph or pw:
            image = pad(image, (pw, pw, ph, ph))
        flat = image.reshape(batch, channels, hp * wp)
        columns = _plan(geometry, batch, channels, x.device).gather(flat._data)
        shape = (batch, channels * math.prod(geometry.kernel), math.prod(geometry.blocks))
        return Tensor._wrap(columns.view(shape if geometry.batched else shape[1:]))

    @staticmethod
    def backward(ctx, grad):
        return Col2Im.apply(grad, ctx.geometry), None


class Col2Im(Function):
    """(N, C * kh * kw, OH * OW) -> (N, C, H, W): each column added back where its block lies."""

    _backward_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, columns, geometry):
        ctx.geometry = geometry
        data = _batched(columns, geometry)
        batch = data.shape[0]
        channels = data.shape[1] // math.prod(geometry.kernel)
        (height, width), (ph, pw), (hp, wp) = geometry.size, geometry.padding, geometry.padded
        values = data.reshape(batch, channels, data.shape[1] // channels * data.shape[2])
        image = creation.zeros((batch, channels, hp * wp), dtype=columns.dtype, device=columns.device)._data
        _plan(geometry, batch, channels, columns.device).scatter_(image, values._data, accumulate=True)
        image = image.view(batch, channels, hp, wp)
        if ph or pw:
            image = views.contiguous_copy(Tensor._wrap(image[:, :, ph : ph + height, pw : pw + width]))._data
        return Tensor._wrap(image if geometry.batched else image.squeeze(0))

    @staticmethod
    def backward(ctx, grad):
        return Im2Col.apply(grad, ctx.geometry), None


def _pair(value, name: str, argument: str, position: int) -> Pair:
    """torch's ``_pair`` and then its int-list parser: an int (not a bool) or two ints."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
    else:
        values = (value, value)
    for at, item in enumerate(values):
        if not isinstance(item, int) or isinstance(item, bool):
            raise TypeError(
                f"{name}(): argument '{argument}' (position {position}) must be tuple of ints, but found element "
                f"of type {type(item).__name__} at pos {at}"
            )
    if len(values) != 2:
        raise RuntimeError(f"It is expected {argument} equals to 2, but got size {len(values)}")
    return values


def _check_options(kernel: Pair, dilation: Pair, padding: Pair, stride: Pair, order: str) -> None:
    """torch's checks of the block options, in im2col's (``order="dps"``) or col2im's ("sdp") order."""
    if kernel[0] <= 0 or kernel[1] <= 0:
        raise RuntimeError(
            f"kernel size should be greater than zero, but got kernel_height: {kernel[0]} kernel_width: {kernel[1]}"
        )
    messages = {
        "d": (min(dilation) <= 0, f"dilation should be greater than zero, but got dilation_height: {dilation[0]} "
                                  f"dilation_width: {dilation[1]}"),
        "p": (min(padding) < 0, f"padding should be non-negative, but got pad_height: {padding[0]} "
                                f"pad_width: {padding[1]}"),
        "s": (min(stride) <= 0, f"stride should be greater than zero, but got stride_height: {stride[0]} "
                                f"stride_width: {stride[1]}"),
    }  # fmt: skip
    for key in order:
        failed, message = messages[key]
        if failed:
            raise RuntimeError(message)


def _blocks(size: Pair, kernel: Pair, dilation: Pair, padding: Pair, stride: Pair) -> Pair:
    return tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, d, p, s in zip(size, kernel, dilation, padding, stride)
    )


def _check_dtype(name: str, x: Tensor) -> None:
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}_out_{x.device.type}\" not implemented for '{dtype_word(x.dtype)}'")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of (N, C, H, W) or (C, H, W) ``input`` as columns, torch.nn.functional.unfold.

    Returns (N, C * kh * kw, L), L = OH * OW the number of blocks; column l holds block l's
    elements channel by channel, each in row-major kernel order. Floating dtypes only.

    >>> unfold(tritongrad.arange(9.0).view(1, 1, 3, 3), 2).shape
    tritongrad.Size([1, 4, 4])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"im2col(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    kernel = _pair(kernel_size, "im2col", "kernel_size", 2)
    dilation = _pair(dilation, "im2col", "dilation", 3)
    padding = _pair(padding, "im2col", "padding", 4)
    stride = _pair(stride, "im2col", "stride", 5)
    if input.dim() < 3:
        dims = input.dim()
        raise IndexError(f"Dimension out of range (expected to be in range of [{-dims}, {dims - 1}], but got {dims})")
    _check_options(kernel, dilation, padding, stride, "dps")
    if input.dim() not in (3, 4) or any(size == 0 for size in input.shape[-3:]):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for "
            f"input, but got: {list(input.shape)}"
        )
    _check_dtype("im2col", input)
    size = tuple(input.shape[-2:])
    blocks = _blocks(size, kernel, dilation, padding, stride)
    if blocks[0] < 1 or blocks[1] < 1:
        raise RuntimeError(
            f"Given input with spatial size {size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
            f"calculated shape of the array of sliding blocks as {blocks}, but its components must be at least one."
        )
    geometry = FoldGeometry(size, kernel, dilation, padding, stride, blocks, input.dim() == 4)
    return Im2Col.apply(input, geometry)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns of sliding blocks, (N, C * kh * kw, L) or (C * kh * kw, L), summed into an image of
    ``output_size`` (torch.nn.functional.fold, the adjoint of ``unfold``): (N, C, H, W) or (C, H, W).

    >>> fold(tritongrad.ones(1, 4, 4), (3, 3), 2)[0, 0]
    tensor([[1., 2., 1.],
            [2., 4., 2.],
            [1., 2., 1.]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"col2im(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    size = _pair(output_size, "col2im", "output_size", 2)
    kernel = _pair(kernel_size, "col2im", "kernel_size", 3)
    dilation = _pair(dilation, "col2im", "dilation", 4)
    padding = _pair(padding, "col2im", "padding", 5)
    stride = _pair(stride, "col2im", "stride", 6)
    _check_options(kernel, dilation, padding, stride, "sdp")
    if input.dim() not in (2, 3) or any(n == 0 for n in input.shape[-2:]):
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions "
            f"for input, but got: {list(input.shape)}"
        )
    _check_dtype("col2im", input)
    rows, columns = input.shape[-2:]  # (torch's messages name the dims of the batched input)
    if rows % math.prod(kernel):
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={rows} and kernel_size={kernel}."
        )
    blocks = _blocks(size, kernel, dilation, padding, stride)
    options = f"output_size={size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, stride={stride}"
    if columns != blocks[0] * blocks[1]:
        raise RuntimeError(
            f"Given {options}, expected size of input's dimension 2 to match the calculated number of sliding blocks "
            f"{blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)={columns}."
        )
    if blocks[0] < 1 or blocks[1] < 1:
        raise RuntimeError(
            f"Given {options}, calculated shape of the array of sliding blocks as {blocks}, which is too small "
            "(non-positive)"
        )
    geometry = FoldGeometry(size, kernel, dilation, padding, stride, blocks, input.dim() == 3)
    return Col2Im.apply(input, geometry)
