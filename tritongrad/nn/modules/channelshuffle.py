"""nn.ChannelShuffle (ShuffleNet): ``F.channel_shuffle`` with a fixed number of groups."""

from __future__ import annotations

from tritongrad.nn import functional as F
from tritongrad.nn.module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    """Interleaves the channels of (N, C, *) input across ``groups`` groups of C / groups.

    >>> ChannelShuffle(2)(tritongrad.arange(4.0).view(1, 4, 1)).flatten()
    tensor([0., 2., 1., 3.])
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
