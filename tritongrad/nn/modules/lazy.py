"""Lazy layers (nn.LazyLinear, nn.LazyConv1d/2d): the input size is read from the first input.

Until its first forward a lazy layer holds ``UninitializedParameter`` placeholders; a forward
pre-hook then gives them their shapes, runs the layer's usual initialisation, and turns the
module into the plain layer (``type(layer)`` becomes nn.Linear / nn.Conv2d), as torch's
LazyModuleMixin does. Build the optimizer after a first forward pass (the dry run torch's
documentation asks for, and what D2L's code does).
"""

from __future__ import annotations

from tritongrad import creation
from tritongrad.autograd.grad_mode import no_grad
from tritongrad.nn.modules.conv import Conv1d, Conv2d
from tritongrad.nn.modules.linear import Linear
from tritongrad.nn.parameter import Parameter

__all__ = ["UninitializedParameter", "LazyLinear", "LazyConv1d", "LazyConv2d"]


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet; ``materialize(shape)`` gives it memory (uninitialised
    values) and makes it a plain Parameter. Reading its shape before that raises, as torch's."""

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        super().__init__(creation.empty(0, device=device, dtype=dtype), requires_grad)

    def materialize(self, shape, device=None, dtype=None) -> None:
        placeholder = self.data
        self.data = creation.empty(
            *shape, device=device or placeholder.device, dtype=dtype or placeholder.dtype
        )  # fmt: skip
        self.__class__ = Parameter

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
            "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. "
            "Call `forward` to initialize the parameters before accessing their attributes."
        )

    def size(self, dim=None):
        return self.shape

    def __repr__(self) -> str:
        return "<UninitializedParameter>"

    __str__ = __repr__


def _is_lazy(module) -> bool:
    return any(isinstance(p, UninitializedParameter) for p in module._parameters.values())


class _LazyMixin:
    """Registers the hook that initialises the layer from its first input, then becomes ``cls_to_become``."""

    cls_to_become: type

    def _make_lazy(self) -> None:
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        return _is_lazy(self)


def _infer_parameters(module, args) -> None:
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
            batched = input.dim() == self._dims + 2
            self.in_channels = input.shape[1] if batched else input.shape[0]
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            with no_grad():
                self.weight.materialize((self.out_channels, self.in_channels // self.groups, *self.kernel_size))
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()


class LazyConv1d(_LazyConvMixin, Conv1d):
    """nn.Conv1d whose ``in_channels`` comes from its first input (N, C, L) or (C, L)."""

    cls_to_become = Conv1d

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        self._lazy_conv_init(out_channels, bias, device, dtype)


class LazyConv2d(_LazyConvMixin, Conv2d):
    """nn.Conv2d whose ``in_channels`` comes from its first input (N, C, H, W) or (C, H, W).

    Example::

        >>> conv = nn.LazyConv2d(6, kernel_size=5, padding=2)
        >>> conv(tritongrad.randn(1, 3, 8, 8)).shape, conv.weight.shape
        (torch.Size([1, 6, 8, 8]), torch.Size([6, 3, 5, 5]))
    """

    cls_to_become = Conv2d

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:  # fmt: skip
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, device, dtype)
        self._lazy_conv_init(out_channels, bias, device, dtype)
