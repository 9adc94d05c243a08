"""GELU, leaky ReLU and SiLU on the fused kernels of kernels/activation.py.

Forward and backward are fused kernels. The backward is itself a Function (``GeluBackward``,
...) whose forward is the fused kernel and whose own backward is composed from tritongrad ops,
so gradients of any order (``create_graph=True``) stay on the kernels. (ReLU, sigmoid and tanh
are rows of the unary op table, ops/elementwise.py.)
"""

from __future__ import annotations

import math

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.kernels import activation as activation_kernels
from tritongrad.ops.views import contiguous_copy
from tritongrad.tensor import Tensor

__all__ = ["Gelu", "GeluBackward", "LeakyRelu", "LeakyReluBackward", "Silu", "SiluBackward"]

_wrap = Tensor._wrap  # a kernel's output buffer as a Tensor


def _contiguous(x) -> torch.Tensor:
    """x's buffer, copied by a kernel first if the elementwise launchers cannot read it in place."""
    return x._data if x.is_contiguous() else contiguous_copy(x)._data


def _second_derivative_term(grad_grad, grad, curvature):
    """d(grad * f'(x))/dx contracted with grad_grad."""
    return grad_grad * grad * curvature


class Gelu(Function):
    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        return _wrap(activation_kernels.launch_gelu_fwd(_contiguous(x), approximate))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return GeluBackward.apply(grad, x, ctx.approximate), None


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_TANH_CUBIC = 0.044715


class GeluBackward(Function):
    """grad * gelu'(x) in one kernel; its x-derivative uses gelu''(x) built from tritongrad ops."""

    @staticmethod
    def forward(ctx, grad, x, approximate):
        ctx.save_for_backward(grad, x)
        ctx.approximate = approximate
        return _wrap(activation_kernels.launch_gelu_bwd(_contiguous(grad), _contiguous(x), approximate))

    @staticmethod
    def backward(ctx, grad_grad):
        grad, x = ctx.saved_tensors
        grad_of_grad = GeluBackward.apply(grad_grad, x, ctx.approximate) if ctx.needs_input_grad[0] else None
        grad_of_x = None
        if ctx.needs_input_grad[1]:
            grad_of_x = _second_derivative_term(grad_grad, grad, _gelu_curvature(x, ctx.approximate))
        return grad_of_grad, grad_of_x, None


def _gelu_curvature(x, approximate: str):
    """gelu''(x): phi(x) (2 - x^2) exactly; for the tanh form, with u = c (x + k x^3), t = tanh(u),
    (1 - t^2) (u' + x (u'' - 2 t u'^2) / 2)."""
    if approximate == "none":
        return (x * x * -0.5).exp() * _INV_SQRT_2PI * (2.0 - x * x)
    inner = (x + x * x * x * _GELU_TANH_CUBIC) * _SQRT_2_OVER_PI
    t = inner.tanh()
    slope = (x * x * (3.0 * _GELU_TANH_CUBIC) + 1.0) * _SQRT_2_OVER_PI
    bend = x * (6.0 * _GELU_TANH_CUBIC * _SQRT_2_OVER_PI)
    return (1.0 - t * t) * (slope + x * (bend - t * slope * slope * 2.0) * 0.5)


class LeakyRelu(Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return _wrap(activation_kernels.launch_leaky_relu_fwd(_contiguous(x), negative_slope))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return LeakyReluBackward.apply(grad, x, ctx.negative_slope), None


class LeakyReluBackward(Function):
    """grad where x > 0, else grad * slope: linear in grad, and piecewise constant in x."""

    @staticmethod
    def forward(ctx, grad, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return _wrap(activation_kernels.launch_leaky_relu_bwd(_contiguous(grad), _contiguous(x), negative_slope))

    @staticmethod
    def backward(ctx, grad_grad):
        (x,) = ctx.saved_tensors
        grad_of_grad = LeakyReluBackward.apply(grad_grad, x, ctx.negative_slope) if ctx.needs_input_grad[0] else None
        # Piecewise linear: no curvature (torch, too, returns zeros here rather than no gradient).
        grad_of_x = creation.zeros_like(x) if ctx.needs_input_grad[1] else None
        return grad_of_grad, grad_of_x, None


class Silu(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _wrap(activation_kernels.launch_silu_fwd(_contiguous(x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return SiluBackward.apply(grad, x)


class SiluBackward(Function):
    """grad * silu'(x) in one kernel; silu''(x) = s (1 - s) (2 + x (1 - 2 s)) with s = sigmoid(x)."""

    @staticmethod
    def forward(ctx, grad, x):
        ctx.save_for_backward(grad, x)
        return _wrap(activation_kernels.launch_silu_bwd(_contiguous(grad), _contiguous(x)))

    @staticmethod
    def backward(ctx, grad_grad):
        grad, x = ctx.saved_tensors
        grad_of_grad = SiluBackward.apply(grad_grad, x) if ctx.needs_input_grad[0] else None
        grad_of_x = None
        if ctx.needs_input_grad[1]:
            s = x.sigmoid()
            curvature = s * (1.0 - s) * (2.0 + x * (1.0 - 2.0 * s))
            grad_of_x = _second_derivative_term(grad_grad, grad, curvature)
        return grad_of_grad, grad_of_x
