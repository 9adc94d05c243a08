"""nn.Linear: y = x @ weight.T + bias with torch's default initialisation."""

from __future__ import annotations

import math

from tritongrad import creation
from tritongrad.nn import functional as F
from tritongrad.nn import init
from tritongrad.nn.module import Module
from tritongrad.nn.parameter import Parameter

__all__ = ["Linear", "Bilinear"]


class Linear(Module):
    """y = x @ weight.T + bias, one fused kernel.

    ``weight`` is (out_features, in_features), initialised by kaiming_uniform_(a=sqrt(5)); ``bias``
    is U(-1/sqrt(in_features), 1/sqrt(in_features)), exactly torch's defaults (values differ:
    tritongrad has its own generator).

    Example::

        >>> layer = nn.Linear(3, 2)
        >>> layer(tritongrad.randn(5, 3)).shape
        torch.Size([5, 2])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform_ with a = sqrt(5) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)), like the bias.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y = x1 @ weight[o] @ x2 + bias[o] for each output o; ``weight`` (out, in1, in2) and ``bias``
    initialised U(-1/sqrt(in1), 1/sqrt(in1)), as torch's.

    Example::

        >>> layer = nn.Bilinear(3, 4, 2)
        >>> layer(tritongrad.randn(5, 3), tritongrad.randn(5, 4)).shape
        torch.Size([5, 2])
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:  # fmt: skip
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        factory = {"device": device, "dtype": dtype}
        self.weight = Parameter(creation.empty(out_features, in1_features, in2_features, **factory))
        if bias:
            self.bias = Parameter(creation.empty(out_features, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
