"""nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d with torch's arguments
and initialisation."""

from __future__ import annotations

import math
from collections.abc import Iterable

from tritongrad import creation
from tritongrad.nn import init
from tritongrad.nn.module import Module
from tritongrad.nn.parameter import Parameter
from tritongrad.ops import convolution
from tritongrad.ops.padding import pad

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_STRINGS = {"same", "valid"}
_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


def _ntuple(value, n: int) -> tuple:
    """torch's _single/_pair: an iterable as a tuple, anything else repeated n times."""
    if isinstance(value, Iterable):
        return tuple(value)
    return (value,) * n


class _ConvNd(Module):
    """What the convolution layers share: argument checks, parameters, reset_parameters, extra_repr.

    ``weight`` is (out_channels, in_channels / groups, *kernel_size) for a convolution and
    (in_channels, out_channels / groups, *kernel_size) for a transposed one, as in torch.
    """

    _dims = 2
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        output_padding=0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        dims = self._dims
        stride, dilation = _ntuple(stride, dims), _ntuple(dilation, dims)
        if isinstance(padding, str):
            if padding not in _PADDING_STRINGS:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {_PADDING_STRINGS}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _ntuple(padding, dims)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got padding_mode='{padding_mode}'")
        if padding_mode != "zeros" and self._transposed:
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, dims)
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = self._transposed
        self.output_padding = _ntuple(output_padding, dims)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's argument for the non-zero padding modes (last dim first), as torch computes it.
        if isinstance(padding, str):
            self._reversed_padding_repeated_twice = [0, 0] * dims
            if padding == "same":
                for d, k, i in zip(dilation, self.kernel_size, range(dims - 1, -1, -1)):
                    total = d * (k - 1)
                    left = total // 2
                    self._reversed_padding_repeated_twice[2 * i] = left
                    self._reversed_padding_repeated_twice[2 * i + 1] = total - left
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(padding) for _ in range(2)]
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(creation.empty(*shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform_ with a = sqrt(5) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)), like the bias:
        # torch's default for every convolution layer.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) or (C, H, W) input: ``F.conv2d(input, weight, bias, ...)``.

    ``padding_mode`` 'reflect', 'replicate' or 'circular' pads with ``F.pad`` first (a padded copy, as
    in torch); 'zeros' is the convolution kernels' own masking.

    Example::

        >>> layer = nn.Conv2d(3, 8, kernel_size=3, padding=1)
        >>> layer(tritongrad.randn(2, 3, 16, 16)).shape
        torch.Size([2, 8, 16, 16])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device=device, dtype=dtype)  # fmt: skip

    def forward(self, input):
        if self.padding_mode != "zeros":
            padded = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return convolution.conv2d(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return convolution.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W) input: ``F.conv3d(input, weight, bias, ...)``
    (composed of conv2d, see ops/convolution.conv3d)."""

    _dims = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device=device, dtype=dtype)  # fmt: skip

    def forward(self, input):
        if self.padding_mode != "zeros":
            padded = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return convolution.conv3d(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return convolution.conv3d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) or (C, L) input: ``F.conv1d(input, weight, bias, ...)``."""

    _dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device=device, dtype=dtype)  # fmt: skip

    def forward(self, input):
        if self.padding_mode != "zeros":
            padded = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return convolution.conv1d(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return convolution.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, _ntuple(padding, self._dims), dilation,
                         groups, bias, padding_mode, output_padding, device=device, dtype=dtype)  # fmt: skip

    def _output_padding(self, input, output_size) -> tuple[int, ...]:
        """output_padding, or the one that makes the result ``output_size`` (torch's rule and errors)."""
        if output_size is None:
            return self.output_padding
        dims = self._dims
        non_spatial = 2 if input.dim() == dims + 2 else 1
        if len(output_size) == non_spatial + dims:  # (kept as given: the error prints it as torch's does)
            output_size = output_size[non_spatial:]
        if len(output_size) != dims:
            raise ValueError(
                f"ConvTranspose{dims}D: for {input.dim()}D input, output_size must have {dims} or "
                f"{non_spatial + dims} elements (got {len(output_size)})"
            )
        min_sizes = [
            (input.shape[d + non_spatial] - 1) * self.stride[d] - 2 * self.padding[d]
            + self.dilation[d] * (self.kernel_size[d] - 1) + 1
            for d in range(dims)
        ]  # fmt: skip
        max_sizes = [low + self.stride[d] - 1 for d, low in enumerate(min_sizes)]
        for size, low, high in zip(output_size, min_sizes, max_sizes):
            if size < low or size > high:
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range from {min_sizes} to "
                    f"{max_sizes} (for an input of {input.shape[non_spatial:]})"
                )
        return tuple(size - low for size, low in zip(output_size, min_sizes))


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (the input gradient of a Conv2d): ``F.conv_transpose2d(input, weight, ...)``.

    ``forward(input, output_size=None)``: ``output_size`` picks the output_padding that gives that size.

    Example::

        >>> layer = nn.ConvTranspose2d(8, 3, kernel_size=3, stride=2, padding=1, output_padding=1)
        >>> layer(tritongrad.randn(2, 8, 8, 8)).shape
        torch.Size([2, 3, 16, 16])
    """

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return convolution.conv_transpose2d(
            input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups, self.dilation
        )


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution: ``F.conv_transpose1d(input, weight, ...)``."""

    _dims = 1

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return convolution.conv_transpose1d(
            input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups, self.dilation
        )


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution (the input gradient of a Conv3d): ``F.conv_transpose3d(input, weight, ...)``
    (composed of conv_transpose2d, see ops/convolution.conv_transpose3d).

    ``forward(input, output_size=None)``: ``output_size`` picks the output_padding that gives that size.

    Example::

        >>> layer = nn.ConvTranspose3d(4, 2, kernel_size=3, stride=2, padding=1, output_padding=1)
        >>> layer(tritongrad.randn(1, 4, 3, 3, 3)).shape
        torch.Size([1, 2, 6, 6, 6])
    """

    _dims = 3

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return convolution.conv_transpose3d(
            input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups, self.dilation
        )
