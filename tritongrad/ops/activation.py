"""Activations: GELU, leaky ReLU and SiLU on the fused kernels of kernels/activation.py, and the
torch.nn.functional forms of the activations that are rows of the unary op table.

GELU, leaky ReLU, SiLU: forward and backward are fused kernels. The backward is itself a Function
(``GeluBackward``, ...) whose forward is the fused kernel and whose own backward is composed from
tritongrad ops, so gradients of any order (``create_graph=True``) stay on the kernels.

ReLU, sigmoid, tanh, ELU, SELU, CELU, hardtanh, threshold, softplus, mish, logsigmoid,
hardsigmoid, hardswish, softshrink and hardshrink are rows of the unary op table
(ops/elementwise.py): one kernel expression and torch's gradient formula each. The functions here
give them torch.nn.functional's signatures (``inplace=``, relu6 as hardtanh(0, 6)); softsign and
tanhshrink are composed as torch composes them (their nodes are DivBackward0 and SubBackward0, as
torch's), GLU and RReLU are Functions of their own.

NaN and infinities: every gradient is torch's formula as its scalar CPU kernels and its CUDA
kernels evaluate it. torch's vectorized CPU kernels disagree with those in a few places (the
gradient of hardtanh, relu6 and the shrinks at NaN is 0 in a vector lane and passes in the
scalar tail; exact GELU of +inf is NaN in float32 and bfloat16 vector lanes, +inf elsewhere), so
which answer torch gives depends on the tensor's length; tritongrad gives the scalar one.
"""

from __future__ import annotations

import math

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.dtypes import dtype_word
from tritongrad.kernels import activation as activation_kernels
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.ops import random as random_ops
from tritongrad.ops.elementwise import FUNCTIONAL, FUNCTIONS
from tritongrad.ops.indexing import cat
from tritongrad.ops.inplace import apply_inplace
from tritongrad.ops.views import contiguous_copy
from tritongrad.shapes import normalize_dim
from tritongrad.tensor import Tensor

__all__ = [
    "Gelu", "GeluBackward", "LeakyRelu", "LeakyReluInPlace", "LeakyReluBackward", "Silu", "SiluBackward", "Glu",
    "RreluWithNoise",
    "relu6", "elu", "elu_", "selu", "selu_", "celu", "celu_", "mish", "softplus", "hardtanh", "hardtanh_",
    "hardsigmoid", "hardswish", "logsigmoid", "softsign", "softshrink", "hardshrink", "threshold", "threshold_",
    "tanhshrink", "glu", "rrelu", "rrelu_",
]  # fmt: skip

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


class LeakyReluInPlace(LeakyRelu):
    """leaky_relu_'s node: torch records LeakyReluBackward1, its gradient from the output (the same
    values as from the input for a slope >= 0), and refuses that backward for a negative slope."""

    _backward_name = "LeakyReluBackward1"

    @staticmethod
    def backward(ctx, grad):
        if ctx.negative_slope < 0:
            raise RuntimeError(
                "In-place leakyReLu backward calculation is triggered with a negative slope which is not supported. "
                "This is caused by calling in-place forward function with a negative slope, please call out-of-place "
                "version instead."
            )
        return LeakyRelu.backward(ctx, grad)


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


# ---------------------------------------------------------------------------------------------
# torch.nn.functional's activations over the unary op table's rows
# ---------------------------------------------------------------------------------------------


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, else alpha * (exp(x) - 1) (ELU)."""
    return elu_(input, alpha) if inplace else FUNCTIONAL["elu"](input, alpha)


elu_ = FUNCTIONAL["elu_"]  # in place; its node is EluBackward1, the gradient from the output


def selu(input, inplace: bool = False):
    """scale * elu(x, alpha) with SELU's fixed alpha ~1.6733 and scale ~1.0507."""
    return FUNCTIONS["selu_"](input) if inplace else FUNCTIONS["selu"](input)


selu_ = FUNCTIONS["selu_"]


def celu(input, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, else alpha * (exp(x / alpha) - 1) (alpha = 0 is an error)."""
    return FUNCTIONS["celu_"](input, alpha) if inplace else FUNCTIONS["celu"](input, alpha)


celu_ = FUNCTIONS["celu_"]


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """x clamped to [min_val, max_val] (integer tensors too); min_val > max_val is an error."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return hardtanh_(input, min_val, max_val) if inplace else FUNCTIONAL["hardtanh"](input, min_val, max_val)


hardtanh_ = FUNCTIONAL["hardtanh_"]  # (torch checks min_val <= max_val only in hardtanh)


def relu6(input, inplace: bool = False):
    """min(max(x, 0), 6): hardtanh(x, 0, 6), whose node (HardtanhBackward0) torch records too."""
    return hardtanh(input, 0.0, 6.0, inplace)


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """value where x <= threshold, else x."""
    if inplace:
        return FUNCTIONS["threshold_"](input, threshold, value)
    return FUNCTIONS["threshold"](input, threshold, value)


threshold_ = FUNCTIONS["threshold_"]


def mish(input, inplace: bool = False):
    """x * tanh(softplus(x))."""
    return FUNCTIONAL["mish_"](input) if inplace else FUNCTIONAL["mish"](input)


def hardsigmoid(input, inplace: bool = False):
    """min(max(x + 3, 0), 6) / 6."""
    return FUNCTIONAL["hardsigmoid_"](input) if inplace else FUNCTIONAL["hardsigmoid"](input)


def hardswish(input, inplace: bool = False):
    """x * min(max(x + 3, 0), 6) / 6."""
    return FUNCTIONAL["hardswish_"](input) if inplace else FUNCTIONAL["hardswish"](input)


softplus = FUNCTIONAL["softplus"]  # (input, beta=1, threshold=20): log1p(exp(beta x)) / beta, x past the threshold
logsigmoid = FUNCTIONAL["logsigmoid"]  # log(sigmoid(x)) = -softplus(-x)
softshrink = FUNCTIONAL["softshrink"]  # (input, lambd=0.5): x -+ lambd outside [-lambd, lambd], else 0
hardshrink = FUNCTIONS["hardshrink"]  # (input, lambd=0.5): x outside [-lambd, lambd], else 0


def softsign(input):
    """x / (1 + |x|), composed as torch composes it (so its node, DivBackward0, and its NaN at
    +-inf are torch's)."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """x - tanh(x), composed as torch composes it (SubBackward0)."""
    return input - input.tanh()


# ---------------------------------------------------------------------------------------------
# GLU and RReLU
# ---------------------------------------------------------------------------------------------


class Glu(Function):
    """glu(x, dim) = a * sigmoid(b), a and b the first and second halves of x along ``dim``; composed
    of the elementwise kernels (two passes where a fused kernel would take one). The backward
    recomputes the gate from x with differentiable ops, so double backward works."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_for_backward(x)
        ctx.dim = dim
        half = x.shape[dim] // 2
        return x.narrow(dim, 0, half) * x.narrow(dim, half, half).sigmoid()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        half = x.shape[ctx.dim] // 2
        first, gate = x.narrow(ctx.dim, 0, half), x.narrow(ctx.dim, half, half).sigmoid()
        grad_first = grad * gate
        return cat([grad_first, grad_first * first * (1 - gate)], ctx.dim), None


def glu(input, dim: int = -1):
    """The gated linear unit: a * sigmoid(b) for the halves a, b of ``input`` along ``dim``.

    Shapes: input (..., 2n, ...) -> (..., n, ...).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"glu(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = normalize_dim(dim, input.dim())
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {input.shape[dim]}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"glu_cpu\" not implemented for '{dtype_word(input.dtype)}'")
    return Glu.apply(input, dim)


class RreluWithNoise(LeakyRelu):
    """RReLU in evaluation mode: leaky ReLU with the slope (lower + upper) / 2, named as torch's node."""

    _backward_name = "RreluWithNoiseBackward0"


class RreluWithNoiseInPlace(LeakyRelu):
    _backward_name = "RreluWithNoiseBackward1"


class RreluTraining(Function):
    """RReLU in training: x * noise, the noise U(lower, upper) where x <= 0 and 1 elsewhere (drawn
    by tritongrad's generator, so it differs from torch's for the same seed)."""

    _backward_name = "RreluWithNoiseBackward0"

    @staticmethod
    def forward(ctx, x, noise):
        ctx.save_for_backward(noise)
        return x * noise

    @staticmethod
    def backward(ctx, grad):
        (noise,) = ctx.saved_tensors
        return grad * noise, None


class RreluTrainingInPlace(RreluTraining):
    _backward_name = "RreluWithNoiseBackward1"


def _rrelu(input, lower, upper, training: bool, inplace: bool):
    if not isinstance(input, Tensor):
        raise TypeError(f"rrelu(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"leaky_relu_cpu\" not implemented for '{dtype_word(input.dtype)}'")
    if training:
        noise = random_ops.uniform_(creation.empty_like(input), float(lower), float(upper))
        noise = noise.where(input.detach() <= 0, 1.0)
        function = RreluTrainingInPlace if inplace else RreluTraining
        apply = lambda x: function.apply(x, noise)  # noqa: E731
    else:
        slope = (float(lower) + float(upper)) / 2
        function = RreluWithNoiseInPlace if inplace else RreluWithNoise
        apply = lambda x: function.apply(x, slope)  # noqa: E731
    if not inplace:
        return apply(input)
    # (nothing records: the result is computed and copied into input by a kernel, one version bump)
    return apply_inplace(
        input, apply, lambda: elementwise_kernels.launch_unary("copy", apply(input)._data, out=input._data)
    )


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False, inplace: bool = False):
    """Randomized leaky ReLU: slope U(lower, upper) per element where x <= 0 when training,
    (lower + upper) / 2 otherwise."""
    return _rrelu(input, lower, upper, training, inplace)


def rrelu_(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False):
    """rrelu in place; returns ``input``."""
    return _rrelu(input, lower, upper, training, True)
