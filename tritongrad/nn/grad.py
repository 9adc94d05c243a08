"""torch.nn.grad: the input and weight gradients of conv1d/conv2d/conv3d as functions of their own.

``conv{n}d_input(input_size, weight, grad_output, ...)`` is the transposed convolution of
``grad_output`` with ``weight`` to exactly ``input_size``; ``conv{n}d_weight(input, weight_size,
grad_output, ...)`` the weight gradient, on the convolution kernels (ops/convolution.py; the 3-D
ones composed of the 2-D ones, as conv3d is). Both are differentiable, as torch's.

Example::

    >>> x, w = tritongrad.randn(1, 3, 7, 7), tritongrad.randn(4, 3, 3, 3)
    >>> y = F.conv2d(x, w)
    >>> conv2d_input(x.shape, w, tritongrad.ones_like(y)).shape
    torch.Size([1, 3, 7, 7])
"""

from __future__ import annotations

from tritongrad.ops.convolution import convolution_input_grad, convolution_weight_grad

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input", "conv3d_weight"]


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv1d with respect to an input of ``input_size`` (N, C, L)."""
    return convolution_input_grad("conv1d_input", input_size, weight, grad_output, stride, padding, dilation,
                                  groups, dims=1)  # fmt: skip


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv1d with respect to a weight of ``weight_size`` (OC, C / groups, K)."""
    return convolution_weight_grad("conv1d_weight", input, weight_size, grad_output, stride, padding, dilation,
                                   groups, dims=1)  # fmt: skip


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv2d with respect to an input of ``input_size`` (N, C, H, W)."""
    return convolution_input_grad("conv2d_input", input_size, weight, grad_output, stride, padding, dilation,
                                  groups, dims=2)  # fmt: skip


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv2d with respect to a weight of ``weight_size`` (OC, C / groups, KH, KW)."""
    return convolution_weight_grad("conv2d_weight", input, weight_size, grad_output, stride, padding, dilation,
                                   groups, dims=2)  # fmt: skip


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv3d with respect to an input of ``input_size`` (N, C, D, H, W)."""
    return convolution_input_grad("conv3d_input", input_size, weight, grad_output, stride, padding, dilation,
                                  groups, dims=3)  # fmt: skip


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv3d with respect to a weight of ``weight_size`` (OC, C / groups, KD, KH, KW)."""
    return convolution_weight_grad("conv3d_weight", input, weight_size, grad_output, stride, padding, dilation,
                                   groups, dims=3)  # fmt: skip
