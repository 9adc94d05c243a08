"""Padding layers: Zero-, Constant-, Reflection-, Replication- and CircularPad in 1, 2 and 3 dims.

Thin wrappers over tritongrad/ops/padding.py with torch's constructor arguments (an int pads every
side), ``padding`` stored as torch stores it (a tuple, last dim first) and torch's ``extra_repr``.
"""

from __future__ import annotations

from tritongrad.nn.module import Module
from tritongrad.ops import padding as ops

__all__ = [
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
]


def _sides(padding, count: int) -> tuple[int, ...]:
    return tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * count


class _ConstantPadNd(Module):
    def __init__(self, padding, value: float, sides: int) -> None:
        super().__init__()
        self.padding = _sides(padding, sides)
        self.value = value

    def forward(self, input):
        return ops.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with ``value``: ``padding`` is an int or (left, right)."""

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding, value, 2)


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dims with ``value``: ``padding`` is an int or (left, right, top, bottom)."""

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding, value, 4)


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dims with ``value``: ``padding`` is an int or a 6-tuple, last dim first."""

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding, value, 6)


class ZeroPad1d(ConstantPad1d):
    """Pads the last dim with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pads the last two dims with zeros.

    >>> ZeroPad2d(1)(tritongrad.ones(1, 1, 2, 2)).shape
    tritongrad.Size([1, 1, 4, 4])
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pads the last three dims with zeros."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ModePadNd(Module):
    mode = "reflect"

    def __init__(self, padding, sides: int) -> None:
        super().__init__()
        self.padding = _sides(padding, sides)

    def forward(self, input):
        return ops.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Pads the last dim with its reflection (the edge is not repeated)."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 2)


class ReflectionPad2d(_ModePadNd):
    """Pads the last two dims with their reflection (the edges are not repeated)."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 4)


class ReplicationPad1d(_ModePadNd):
    """Pads the last dim by repeating its edge values."""

    mode = "replicate"

    def __init__(self, padding) -> None:
        super().__init__(padding, 2)


class ReplicationPad2d(_ModePadNd):
    """Pads the last two dims by repeating their edge values."""

    mode = "replicate"

    def __init__(self, padding) -> None:
        super().__init__(padding, 4)


class ReflectionPad3d(_ModePadNd):
    """Pads the last three dims with their reflection."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 6)


class ReplicationPad3d(_ModePadNd):
    """Pads the last three dims by repeating their edge values."""

    mode = "replicate"

    def __init__(self, padding) -> None:
        super().__init__(padding, 6)


class CircularPad1d(_ModePadNd):
    """Pads the last dim by wrapping around (the input is periodic)."""

    mode = "circular"

    def __init__(self, padding) -> None:
        super().__init__(padding, 2)


class CircularPad2d(_ModePadNd):
    """Pads the last two dims by wrapping around."""

    mode = "circular"

    def __init__(self, padding) -> None:
        super().__init__(padding, 4)


class CircularPad3d(_ModePadNd):
    """Pads the last three dims by wrapping around."""

    mode = "circular"

    def __init__(self, padding) -> None:
        super().__init__(padding, 6)
