"""Lazy layers (nn.LazyLinear, nn.LazyConv1d/2d/3d, nn.LazyConvTranspose1d/2d/3d, nn.LazyBatchNorm1d/2d/3d,
nn.LazyInstanceNorm1d/2d/3d): the input size is read from the first input.

Until its first forward a lazy layer holds ``UninitializedParameter`` (and, for running statistics,
``UninitializedBuffer``) placeholders; a forward
pre-hook then gives them their shapes, runs the layer's usual initialisation, and turns the
module into the plain layer (``type(layer)`` becomes nn.Linear / nn.Conv2d), as torch's
LazyModuleMixin does. Build the optimizer after a first forward pass (the dry run torch's
documentation asks for, and what D2L's code does).
"""

from __future__ import annotations

from tritongrad import creation
from tritongrad.autograd.grad_mode import no_grad
from tritongrad.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from tritongrad.nn.modules.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from tritongrad.nn.modules.linear import Linear
from tritongrad.nn.modules.normalization import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from tritongrad.nn.parameter import UninitializedBuffer, UninitializedParameter

__all__ = [
    "UninitializedParameter", "UninitializedBuffer", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d",
    "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
    "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
]  # fmt: skip


def _is_lazy(module) -> bool:
    return any(isinstance(p, UninitializedParameter) for p in module._parameters.values()) or any(
        isinstance(b, UninitializedBuffer) for b in module._buffers.values()
    )


class _LazyMixin:
    """Registers the hook that initialises the layer from its first input, then becomes ``cls_to_become``."""

    cls_to_become: type

    def _make_lazy(self) -> None:
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        return _is_lazy(self)


def _infer_parameters(module, args) -> None:
    if module.has_uninitialized_params():  # (a checkpoint may have given every shape already)
        module.initialize_parameters(*args)
    module._initialize_hook.remove()
    del module._initialize_hook
    module.__class__ = module.cls_to_become


class LazyLinear(_LazyMixin, Linear):
    """nn.Linear whose ``in_features`` is the last dimension of its first input.

    Example::

        >>> layer = nn.LazyLinear(3)
        >>> layer(tritongrad.randn(5, 7)).shape, type(layer).__name__, layer.in_features
        (torch.Size([5, 3]), 'Linear', 7)
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(0, 0, False, device=device, dtype=dtype)
        self.out_features = out_features
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._make_lazy()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()


class _LazyConvMixin(_LazyMixin):
    """in_channels is the channel dimension of the first input: shape[1], or shape[0] unbatched."""

    def _lazy_conv_init(self, out_channels: int, bias: bool, device, dtype) -> None:
        self.out_channels = out_channels
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._make_lazy()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        if self.has_uninitialized_params():
            if input.dim() not in (self._dims + 1, self._dims + 2):
                raise RuntimeError(
                    f"Expected {self._dims + 1}D (unbatched) or {self._dims + 2}D (batched) input to "
                    f"{type(self).__name__}, but got input of size: {input.shape}"
                )
            batched = input.dim() == self._dims + 2
            self.in_channels = input.shape[1] if batched else input.shape[0]
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            with no_grad():
                if self.transposed:
                    shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
                else:
                    shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
                self.weight.materialize(shape)
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()


class _LazyConvNd(_LazyConvMixin):
    """The lazy convolutions' constructor: the conv's own arguments less in_channels."""

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        self._lazy_conv_init(out_channels, bias, device, dtype)


class _LazyConvTransposeNd(_LazyConvMixin):
    """The lazy transposed convolutions' constructor: the conv's own arguments less in_channels."""

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0, groups: int = 1,
                 bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:  # fmt: skip
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device, dtype)  # fmt: skip
        self._lazy_conv_init(out_channels, bias, device, dtype)


class LazyConv1d(_LazyConvNd, Conv1d):
    """nn.Conv1d whose ``in_channels`` comes from its first input (N, C, L) or (C, L)."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvNd, Conv2d):
    """nn.Conv2d whose ``in_channels`` comes from its first input (N, C, H, W) or (C, H, W).

    Example::

        >>> conv = nn.LazyConv2d(6, kernel_size=5, padding=2)
        >>> conv(tritongrad.randn(1, 3, 8, 8)).shape, conv.weight.shape
        (torch.Size([1, 6, 8, 8]), torch.Size([6, 3, 5, 5]))
    """

    cls_to_become = Conv2d


class _LazyNormMixin(_LazyMixin):
    """num_features is the channel dimension (shape[1]) of the first input; the running buffers are
    re-made at that size (zeros and ones) when it is known."""

    def _lazy_norm_init(self, device, dtype) -> None:
        if self.affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if self.bias is not None:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if self.track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
        self._make_lazy()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        if self.num_features != 0:
            return
        self._check_input_dim(input)
        self.num_features = input.shape[1]
        with no_grad():
            if self.affine:
                self.weight.materialize((self.num_features,))
                if self.bias is not None:
                    self.bias.materialize((self.num_features,))
            if self.track_running_stats:
                placeholder = self.running_mean
                device, dtype = placeholder.device, placeholder.dtype
                self.running_mean = creation.zeros(self.num_features, device=device, dtype=dtype)
                self.running_var = creation.ones(self.num_features, device=device, dtype=dtype)
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNormMixin, BatchNorm1d):
    """nn.BatchNorm1d whose ``num_features`` is the C of its first (N, C) or (N, C, L) input."""

    cls_to_become = BatchNorm1d

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(0, eps, momentum, affine, track_running_stats, device, dtype)
        self._lazy_norm_init(device, dtype)


class LazyBatchNorm2d(_LazyNormMixin, BatchNorm2d):
    """nn.BatchNorm2d whose ``num_features`` is the C of its first (N, C, H, W) input.

    Example::

        >>> bn = nn.LazyBatchNorm2d()
        >>> bn(tritongrad.randn(2, 3, 4, 4)).shape, type(bn).__name__, bn.num_features
        (torch.Size([2, 3, 4, 4]), 'BatchNorm2d', 3)
    """

    cls_to_become = BatchNorm2d

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(0, eps, momentum, affine, track_running_stats, device, dtype)
        self._lazy_norm_init(device, dtype)


class LazyBatchNorm3d(_LazyNormMixin, BatchNorm3d):
    """nn.BatchNorm3d whose ``num_features`` is the C of its first (N, C, D, H, W) input."""

    cls_to_become = BatchNorm3d

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(0, eps, momentum, affine, track_running_stats, device, dtype)
        self._lazy_norm_init(device, dtype)


class _LazyInstanceNormMixin(_LazyNormMixin):
    """torch's lazy instance norms default to affine=True and track_running_stats=True (the plain
    layers to False): the signature below is torch's."""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(0, eps, momentum, affine, track_running_stats, device, dtype)
        self._lazy_norm_init(device, dtype)


class LazyInstanceNorm1d(_LazyInstanceNormMixin, InstanceNorm1d):
    """nn.InstanceNorm1d whose ``num_features`` is the C of its first (N, C, L) input."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNormMixin, InstanceNorm2d):
    """nn.InstanceNorm2d whose ``num_features`` is the C of its first (N, C, H, W) input."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNormMixin, InstanceNorm3d):
    """nn.InstanceNorm3d whose ``num_features`` is the C of its first (N, C, D, H, W) input."""

    cls_to_become = InstanceNorm3d


class LazyConv3d(_LazyConvNd, Conv3d):
    """nn.Conv3d whose ``in_channels`` comes from its first input (N, C, D, H, W) or (C, D, H, W)."""

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d):
    """nn.ConvTranspose1d whose ``in_channels`` comes from its first input (N, C, L) or (C, L); the
    weight is (in_channels, out_channels / groups, k), torch's transposed layout."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d):
    """nn.ConvTranspose2d whose ``in_channels`` comes from its first input (N, C, H, W) or (C, H, W)."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d):
    """nn.ConvTranspose3d whose ``in_channels`` comes from its first input (N, C, D, H, W) or (C, D, H, W)."""

    cls_to_become = ConvTranspose3d
