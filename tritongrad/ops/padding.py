"""F.pad: constant, reflect, replicate and circular padding on kernels/pad.py.

``pad`` is torch's tuple, last dim first: ``(left, right, top, bottom, front, back)``; negative
entries crop. Constant padding takes any number of dims (three at a time per launch); the other
modes pad the last 1-3 dims of a (batched or unbatched) input, with torch's checks and messages.

Padding is linear, so its backward (a gather-sum kernel) is itself a Function whose backward pads
again: gradients of any order stay on the two kernels.
"""

from __future__ import annotations

import numpy as np
import torch

from tritongrad.autograd.function import Function
from tritongrad.kernels import pad as kernels
from tritongrad.kernels.pool import prefers_channels_last
from tritongrad.ops.autocast import autocast_op
from tritongrad.tensor import Tensor

__all__ = ["pad"]

_NAMES = {"reflect": "ReflectionPad{}DBackward0", "replicate": "ReplicationPad{}DBackward0"}


def _chunks(pairs: list[tuple[int, int]]) -> list[tuple[int, list[tuple[int, int]]]]:
    """(dims after the chunk, pairs) per launch: at most three padded dims each, last dims first."""
    chunks, tail = [], 0
    while pairs:
        chunks.append((tail, pairs[-3:]))
        tail += len(pairs[-3:])
        pairs = pairs[:-3]
    return chunks


def _trailing_order(ndim: int, tail: int) -> tuple[list[int], list[int]]:
    """A permutation moving the last ``tail`` dims to the front, and its inverse."""
    order = list(range(ndim - tail, ndim)) + list(range(ndim - tail))
    inverse = [0] * ndim
    for position, dim in enumerate(order):
        inverse[dim] = position
    return order, inverse


def _pad_buffer(data, pairs, mode: str, value: float):
    """``data`` padded by ``pairs`` (natural dim order, for the last len(pairs) dims)."""
    if mode == "circular" and any(b < 0 or a < 0 for b, a in pairs):
        # torch wraps around the cropped input: crop first (a view), then pad the rest.
        k = len(pairs)
        for d, (before, after) in enumerate(pairs):
            dim = data.dim() - k + d
            data = data.narrow(dim, max(-before, 0), data.shape[dim] - max(-before, 0) - max(-after, 0))
        pairs = [(max(b, 0), max(a, 0)) for b, a in pairs]
    for tail, chunk in _chunks(pairs):
        # Dims after the chunk (constant padding of more than three dims) move in front as a view.
        order, inverse = _trailing_order(data.dim(), tail)
        data = kernels.launch_pad_fwd(data.permute(order), chunk, mode, value).permute(inverse)
    return data


def _unpad_buffer(grad, input_shape, pairs, mode: str, channels_last: bool = False):
    """The gradient of ``_pad_buffer`` w.r.t. its input, from ``grad`` of the padded shape."""
    if mode == "circular" and any(b < 0 or a < 0 for b, a in pairs):
        k = len(pairs)
        cropped = list(input_shape)
        for d, (before, after) in enumerate(pairs):
            cropped[len(input_shape) - k + d] -= max(-before, 0) + max(-after, 0)
        inner = kernels.launch_pad_bwd(grad, cropped, [(max(b, 0), max(a, 0)) for b, a in pairs], mode)
        # The cropped-away elements got no gradient: zero-pad back to the input's shape.
        return kernels.launch_pad_fwd(inner, [(max(-b, 0), max(-a, 0)) for b, a in pairs], "constant", 0.0)
    shapes = [list(input_shape)]
    for tail, chunk in _chunks(pairs):
        shape = list(shapes[-1])
        for d, (before, after) in enumerate(chunk):
            shape[len(shape) - tail - len(chunk) + d] += before + after
        shapes.append(shape)
    if len(pairs) <= 3:  # one launch: the gradient takes the input's layout, as torch's
        return kernels.launch_pad_bwd(grad, shapes[0], pairs, mode, channels_last=channels_last)
    for (tail, chunk), shape in reversed(list(zip(_chunks(pairs), shapes))):
        order, inverse = _trailing_order(len(shape), tail)
        grad = kernels.launch_pad_bwd(grad.permute(order), [shape[d] for d in order], chunk, mode).permute(inverse)
    return grad


class Pad(Function):
    """F.pad's node; ``pairs`` are (before, after) per padded dim in natural order."""

    _backward_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, pairs, mode, value):
        ctx.input_shape, ctx.pairs, ctx.mode = tuple(x.shape), pairs, mode
        ctx.channels_last = prefers_channels_last(x._data)
        if mode != "constant":
            # What torch keeps, for its errors alone (the gradient needs only the shapes): reflection and
            # replication pads save the input (a write into it is the version error), and circular's
            # CopySlices runs once (a saved None: no version check, but freed after a backward).
            ctx.save_for_backward(None if mode == "circular" else x)
        return Tensor._wrap(_pad_buffer(x._data, pairs, mode, value))

    @staticmethod
    def backward(ctx, grad):
        if ctx.mode != "constant":
            (_,) = ctx.saved_tensors  # (raises torch's error after an in-place write or a second backward)
        return PadBackward.apply(grad, ctx.input_shape, ctx.pairs, ctx.mode, ctx.channels_last), None, None, None


class PadBackward(Function):
    """The gradient of Pad (a gather-sum); its own gradient is padding again."""

    @staticmethod
    def forward(ctx, grad, input_shape, pairs, mode, channels_last):
        ctx.pairs, ctx.mode = pairs, mode
        return Tensor._wrap(_unpad_buffer(grad._data, input_shape, pairs, mode, channels_last))

    @staticmethod
    def backward(ctx, grad_grad):
        padded = _pad_node(ctx.mode, len(ctx.pairs)).apply(grad_grad, ctx.pairs, ctx.mode, 0.0)
        return padded, None, None, None, None


_PAD_NODES: dict[tuple[str, int], type[Pad]] = {}


def _pad_node(mode: str, dims: int) -> type[Pad]:
    """The Pad subclass carrying torch's grad_fn name for this mode and number of padded dims."""
    key = (mode, dims if mode in _NAMES else 0)
    if key not in _PAD_NODES:
        if mode in _NAMES:
            name = _NAMES[mode].format(dims)
        else:
            name = "CopySlices" if mode == "circular" else "ConstantPadNdBackward0"
        _PAD_NODES[key] = type(f"Pad_{name}", (Pad,), {"_backward_name": name})
    return _PAD_NODES[key]


def _check_pad(input, pad, mode: str, value) -> list[tuple[int, int]]:
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    # (0-d integer tensors and numpy integers are ints to torch's argument parser)
    pad = [p.item() if isinstance(p, Tensor) and p.dim() == 0 and not p.dtype.is_floating_point else p for p in pad]
    pad = [int(p) if isinstance(p, np.integer) else p for p in pad]
    if any(not isinstance(p, int) or isinstance(p, bool) for p in pad):
        raise TypeError(f"pad(): argument 'pad' must be tuple of ints, but found {pad}")
    if len(pad) % 2 != 0:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding "
            f"length {len(pad)} and input of dimension {input.dim()}"
        )
    if mode not in kernels.PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    dims = len(pad) // 2
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(dims)][::-1]
    shape = list(input.shape)
    if mode == "constant":
        for d, (before, after) in enumerate(pairs):
            dim = input.dim() - dims + d
            if shape[dim] + before + after < 0:
                raise RuntimeError(
                    f"The input size {shape[dim]}, plus negative padding {before} and {after} resulted in a "
                    f"negative output size, which is invalid. Check dimension {dim} of your input."
                )
        return pairs
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if dims not in (1, 2, 3) or input.dim() not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.dim()}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    batched = input.dim() == dims + 2
    if any(size == 0 for size in shape[1 if batched else 0 :]):
        raise RuntimeError(
            f"Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {shape}"
        )
    for d, (before, after) in enumerate(pairs):
        dim = input.dim() - dims + d
        if mode == "reflect" and not (before < shape[dim] and after < shape[dim]):
            argument = 2 * (dims - d) + 2
            raise RuntimeError(
                f"Argument #{argument}: Padding size should be less than the corresponding input dimension, but "
                f"got: padding ({before}, {after}) at dimension {dim} of input {shape}"
            )
        if mode == "circular" and (before > shape[dim] or after > shape[dim]):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if shape[dim] + before + after < 0:
            raise RuntimeError(
                f"input tensor with shape {shape} and padding {tuple(pad)} gives a negative output size at "
                f"dimension {dim}"
            )
    return pairs


def pad(input, pad, mode: str = "constant", value=None):
    """Pads (or, with negative entries, crops) the last ``len(pad) // 2`` dims of ``input``.

    ``pad`` lists (before, after) pairs starting from the last dim, as torch's F.pad. ``mode`` is
    'constant' (filled with ``value``, default 0), 'reflect', 'replicate' or 'circular'.

    >>> pad(tritongrad.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
    tensor([[3., 2., 1., 2., 3., 2.]])
    """
    pairs = _check_pad(input, pad, mode, value)
    if input.dtype == torch.bool and mode in ("reflect", "replicate"):  # (torch's kernels have no bool)
        word = "reflection" if mode == "reflect" else "replication"
        raise NotImplementedError(f"\"{word}_pad{len(pairs)}d\" not implemented for 'Bool'")
    fill = 0.0 if value is None else value
    return _PAD_BY_POLICY.get((mode, len(pairs)), _apply_pad)(input, pairs, mode, fill)


def _apply_pad(input, pairs, mode: str, fill):
    return _pad_node(mode, len(pairs)).apply(input, pairs, mode, fill)


# CPU autocast runs some reflection and replication pads in float32 (ops/autocast.py's table)
_PAD_BY_POLICY = {
    (mode, dims): autocast_op(f"{word}_pad{dims}d")(_apply_pad)
    for mode, word in (("reflect", "reflection"), ("replicate", "replication"))
    for dims in (1, 2, 3)
}
