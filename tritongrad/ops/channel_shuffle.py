"""channel_shuffle (ShuffleNet): the channels of (N, C, *) split into ``groups`` groups of C / g and
interleaved, channel ``k * (C / g) + j`` moving to ``j * g + k``.

One copy kernel on a view: the input's channel dim split in two (always a view), the two parts
swapped. The inverse permutation is the shuffle with C / g groups, so the backward is that
shuffle of the gradient (and so on for higher orders).
"""

from __future__ import annotations

from tritongrad.autograd.function import Function
from tritongrad.ops import views
from tritongrad.tensor import Tensor

__all__ = ["channel_shuffle"]


class ChannelShuffle(Function):
    """(N, C, *) -> (N, C, *) with the channels of each of the ``groups`` groups interleaved."""

    @staticmethod
    def forward(ctx, x, groups):
        channels = x.shape[1]
        ctx.inverse = channels // groups
        split = x._data.unflatten(1, (groups, channels // groups)).transpose(1, 2)
        return Tensor._wrap(views.contiguous_copy(Tensor._wrap(split))._data.view(tuple(x.shape)))

    @staticmethod
    def backward(ctx, grad):
        return ChannelShuffle.apply(grad, ctx.inverse), None


def channel_shuffle(input, groups: int):
    """torch.nn.functional.channel_shuffle: (N, C, *) with C divisible by ``groups``.

    >>> channel_shuffle(tritongrad.arange(4.0).view(1, 4, 1), 2).flatten()
    tensor([0., 2., 1., 3.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"channel_shuffle(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"channel_shuffle(): argument 'groups' (position 2) must be int, not {type(groups).__name__}")
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    channels = input.shape[1]
    if channels % groups:
        raise RuntimeError(
            f"Number of channels must be divisible by groups. Got {channels} channels and {groups} groups."
        )
    return ChannelShuffle.apply(input, groups)
