"""Max unpooling: max_unpool1d/2d/3d, the partial inverse of max pooling with ``return_indices``.

The output is zeros with each input value written at its index (a flat ``h * W + w`` position in
its (N, C) plane, as max_pool2d returns it): one scatter kernel through an IndexPlan whose bounds
check raises torch's "invalid max index" error. The gradient is the output gradient gathered at
the indices (``Index``, a gather kernel), whose own gradient scatters again. The 1-d form is the
2-d one on a width-1 view, as in torch (grad_fn ``SqueezeBackward1``); the 3-d one scatters into
flat ``(d * H + h) * W + w`` positions of each (D, H, W) volume with the same kernel. Argument checks and
messages are torch's (nn.functional's _unpool_output_size, aten's max_unpooling2d checks).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.dtypes import dtype_word
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.indexing import Index, IndexPlan
from tritongrad.tensor import Tensor

__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d"]


class MaxUnpool2d(Function):
    """(N, C, h, w) values and int64 indices -> (N, C, OH, OW) zeros with the values at the indices."""

    _backward_name = "MaxUnpool2DBackward0"

    @staticmethod
    def forward(ctx, x, indices, plan, output_shape):
        ctx.plan, ctx.input_shape = plan, tuple(x.shape)
        batch, channels, planes = plan.src_shape
        out = creation.zeros((batch, channels, planes), dtype=x.dtype, device=x.device)._data
        plan.scatter_(out, x.reshape(plan.out_shape)._data, accumulate=False)
        return Tensor._wrap(out.view(output_shape))

    @staticmethod
    def backward(ctx, grad):
        grad_x = Index.apply(grad.reshape(ctx.plan.src_shape), ctx.plan).reshape(ctx.input_shape)
        return grad_x, None, None, None


class MaxUnpool3d(MaxUnpool2d):
    """(N, C, d, h, w) values and int64 indices -> (N, C, OD, OH, OW) zeros with the values at the indices."""

    _backward_name = "MaxUnpool3DBackward0"


def _ints(value, count: int) -> tuple[int, ...]:
    """torch's ``_single``/``_pair``: an int repeated, a sequence kept as it is."""
    return tuple(value) if isinstance(value, Sequence) else (value,) * count


def _unpool_output_size(input: Tensor, kernel: tuple, stride: tuple, padding: tuple, output_size) -> list[int]:
    """torch.nn.functional._unpool_output_size: the default ``(in - 1) * stride + kernel - 2 * pad``,
    or ``output_size`` (its last ``len(kernel)`` entries) within ``stride`` of it."""
    spatial = len(kernel)
    default = [(input.shape[d - spatial] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(spatial)]
    if output_size is None:
        result = default
    else:
        if len(output_size) == spatial + 2:
            output_size = output_size[2:]
        if len(output_size) != spatial:
            raise ValueError(
                f"output_size should be a sequence containing {spatial} or {spatial + 2} elements, but it has a "
                f"length of '{len(output_size)}'"
            )
        for d in range(spatial):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < output_size[d] < high:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {low} and {high})')
        result = list(output_size)
    for d in range(spatial):
        if result[d] < 0:
            raise ValueError(
                "max_unpooling: output_size must contain non-negative spatial dimensions, but got "
                f"output_size[{d}]={result[d]}"
            )
    return [int(size) for size in result]


def _check_unpool_operands(input, indices, spatial: int) -> None:
    """aten's checks of max_unpool{spatial}d's input and indices, in its order and words (the 2-d dtype
    message names the dtype, the 3-d one does not)."""
    name = f"max_unpool{spatial}d"
    if not isinstance(indices, Tensor):
        raise TypeError(f"{name}(): argument 'indices' (position 2) must be Tensor, not {type(indices).__name__}")
    if indices.dtype != torch.int64:
        got = f" but got: {dtype_word(indices.dtype)}" if spatial == 2 else ""
        raise RuntimeError(f"elements in indices should be type int64{got}")
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"Input to max_unpooling{spatial}d should be a {spatial + 1}d or {spatial + 2}d Tensor, but got a "
            f"tensor with {input.dim()} dimensions."
        )
    if tuple(input.shape) != tuple(indices.shape):
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) but got "
            f"indices tensor with shape: {list(indices.shape)}"
        )
    for dim in range(input.dim() - spatial - 1, input.dim()):
        if input.shape[dim] == 0:
            raise RuntimeError(
                f"max_unpooling{spatial}d_forward_out_{input.device.type}(): Expected input to have non-zero size "
                f"for non-batch dimensions, but got {list(input.shape)} with dimension {dim} being empty."
            )
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}\" not implemented for '{dtype_word(input.dtype)}'")


def _max_unpool(input: Tensor, indices, height: int, width: int) -> Tensor:
    """aten's max_unpool2d on (N, C, h, w) or (C, h, w) ``input``, after its checks."""
    _check_unpool_operands(input, indices, 2)
    batch = input.shape[0] if input.dim() == 4 else 1
    channels, planes = input.shape[-3], input.shape[-2] * input.shape[-1]

    def invalid(value: int, dim: int, size: int) -> Exception:
        return RuntimeError(f"Found an invalid max index: {value} (output volumes are of size {height}x{width})")

    positions = indices.reshape(batch, channels, planes)._data  # (a copy kernel if indices are strided)
    plan = IndexPlan((batch, channels, height * width), [2], [positions], positions.shape, {0: 0, 1: 1}, range(3),
                     wrap=False, error=invalid)  # fmt: skip
    output_shape = (*input.shape[:-2], height, width)
    return MaxUnpool2d.apply(input, indices, plan, output_shape)


def _check_input(name: str, input) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


@autocast_op("max_unpool2d")
def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Zeros of (N, C, OH, OW) (or (C, OH, OW)) with ``input``'s values at ``indices`` from
    ``max_pool2d(..., return_indices=True)``; the default output size inverts that pooling.

    >>> out, idx = tritongrad.nn.functional.max_pool2d(tritongrad.arange(16.0).view(1, 1, 4, 4), 2,
    ...                                                return_indices=True)
    >>> max_unpool2d(out, idx, 2)[0, 0, 1]
    tensor([ 0.,  5.,  0.,  7.])
    """
    _check_input("max_unpool2d", input)
    kernel = _ints(kernel_size, 2)
    stride = _ints(stride, 2) if stride is not None else kernel
    padding = _ints(padding, 2)
    height, width = _unpool_output_size(input, kernel, stride, padding, output_size)
    return _max_unpool(input, indices, height, width)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Zeros of (N, C, L_out) (or (C, L_out)) with ``input``'s values at ``indices`` from
    ``max_pool1d(..., return_indices=True)``: max_unpool2d on a width-1 view."""
    _check_input("max_unpool1d", input)
    kernel = _ints(kernel_size, 1)
    stride = _ints(stride, 1) if stride is not None else kernel
    padding = _ints(padding, 1)
    (length,) = _unpool_output_size(input, kernel, stride, padding, output_size)
    indices = indices.unsqueeze(-1) if isinstance(indices, Tensor) else indices
    return _max_unpool(input.unsqueeze(-1), indices, length, 1).squeeze(-1)


def _max_unpool3d(input: Tensor, indices, depth: int, height: int, width: int) -> Tensor:
    """aten's max_unpool3d on (N, C, d, h, w) or (C, d, h, w) ``input``, after its checks."""
    _check_unpool_operands(input, indices, 3)
    batch = input.shape[0] if input.dim() == 5 else 1
    channels, volume = input.shape[-4], input.shape[-3] * input.shape[-2] * input.shape[-1]

    def invalid(value: int, dim: int, size: int) -> Exception:
        return RuntimeError(
            f"Found an invalid max index: {value} (output volumes are of size {depth}x{height}x{width})"
        )

    positions = indices.reshape(batch, channels, volume)._data  # (a copy kernel if indices are strided)
    plan = IndexPlan((batch, channels, depth * height * width), [2], [positions], positions.shape, {0: 0, 1: 1},
                     range(3), wrap=False, error=invalid)  # fmt: skip
    output_shape = (*input.shape[:-3], depth, height, width)
    return MaxUnpool3d.apply(input, indices, plan, output_shape)


@autocast_op("max_unpool3d")
def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Zeros of (N, C, OD, OH, OW) (or (C, OD, OH, OW)) with ``input``'s values at ``indices`` from
    ``max_pool3d(..., return_indices=True)`` (flat positions in each output volume)."""
    _check_input("max_unpool3d", input)
    kernel = _ints(kernel_size, 3)
    stride = _ints(stride, 3) if stride is not None else kernel
    padding = _ints(padding, 3)
    depth, height, width = _unpool_output_size(input, kernel, stride, padding, output_size)
    return _max_unpool3d(input, indices, depth, height, width)
