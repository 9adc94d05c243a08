"""The differentiable ops behind tritongrad.nn: linear, softmax, activations, dropout, losses.

Each op is a Function whose forward and backward call the fused launchers of
kernels/ (matmul, softmax, activation, random, loss). Backward formulas must
also work under ``create_graph=True``, where the engine runs them with
recording on. Two patterns keep them differentiable:

* the backward is itself a Function (``SoftmaxBackwardData``, ``GeluBackward``,
  ...) whose forward is the fused kernel and whose own backward is composed
  from tritongrad ops, so gradients of any order stay on the kernels;
* or, where the backward is a few matmuls or elementwise ops anyway (linear,
  MSE, cross-entropy, BCE), the fused kernel runs when nothing is recorded and
  the same formula composed from tritongrad ops runs when something is.
"""

from __future__ import annotations

import functools
import math
import warnings

import torch

from tritongrad import backends, creation
from tritongrad.autograd.engine import UnitGradient
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import dtype_word
from tritongrad.kernels import activation as activation_kernels
from tritongrad.kernels import loss_classes as class_loss_kernels
from tritongrad.kernels import loss_elementwise as elementwise_loss_kernels
from tritongrad.kernels import matmul as matmul_kernels
from tritongrad.kernels import random as random_kernels
from tritongrad.kernels import softmax as softmax_kernels
from tritongrad.kernels.strided import broadcast_shapes
from tritongrad.ops.elementwise import reduce_grad
from tritongrad.ops.views import contiguous_copy
from tritongrad.random import philox_seed_and_offset
from tritongrad.shapes import normalize_dim
from tritongrad.tensor import Tensor, attach_methods


def _wrap(data: torch.Tensor):
    return Tensor._wrap(data)


def _contiguous(x) -> torch.Tensor:
    """x's buffer, copied by a kernel first if the elementwise launchers cannot read it in place."""
    return x._data if x.is_contiguous() else contiguous_copy(x)._data


# ---------------------------------------------------------------------------------------------
# Linear: y = x @ weight.T + bias in one fused matmul kernel
# ---------------------------------------------------------------------------------------------


class Linear(Function):
    """``x @ weight.T + bias`` (bias may be None); the node is named like torch's for 2-D input."""

    _backward_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        out = matmul_kernels.launch_linear(
            x._data,
            weight._data,
            None if bias is None else bias._data,
            allow_tf32=backends.cuda.matmul.allow_tf32,
        )
        return _wrap(out)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        return _linear_backward(ctx, grad, x, weight, relu_out=None)


class LinearRelu(Function):
    """``relu(x @ weight.T + bias)`` in one kernel (ReLU in the matmul epilogue).

    Its backward masks the incoming gradient by the saved output as the one
    backward launch loads it, so a Linear followed by a ReLU costs one launch
    forward and one backward. ``nn.Sequential`` uses it for a Linear directly
    followed by a ReLU; the node carries torch's name for the last op, ReLU.
    """

    _backward_name = "ReluBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.has_bias = bias is not None
        out = _wrap(
            matmul_kernels.launch_linear(
                x._data,
                weight._data,
                None if bias is None else bias._data,
                activation="relu",
                allow_tf32=backends.cuda.matmul.allow_tf32,
            )
        )
        ctx.save_for_backward(x, weight, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, out = ctx.saved_tensors
        return _linear_backward(ctx, grad, x, weight, relu_out=out)


def _linear_backward(ctx, grad, x, weight, relu_out):
    """The three gradients of (relu of) a linear layer: one fused launch, or composed ops when recording."""
    need_x, need_weight, need_bias = (*ctx.needs_input_grad, False)[:3]
    needs = (need_x, need_weight, need_bias and ctx.has_bias)
    if grad.dtype != x.dtype:
        grad = grad.to(x.dtype)
    masked_by_kernel = relu_out is not None and _flattens_to_rows(grad, x, relu_out)
    if relu_out is not None and (is_grad_enabled() or not masked_by_kernel):
        grad = grad.where(relu_out > 0, 0.0)  # ReLU's backward as an op: recorded, or for unusual layouts
        relu_out = None
    if is_grad_enabled():
        return _linear_backward_composed(grad, x, weight, needs)
    grads = matmul_kernels.launch_linear_backward(
        grad._data,
        x._data,
        weight._data,
        needs_input_grad=needs,
        relu_out=None if relu_out is None else relu_out._data,
        allow_tf32=backends.cuda.matmul.allow_tf32,
    )
    return tuple(None if g is None else _wrap(g) for g in grads)


def _flattens_to_rows(*tensors) -> bool:
    """True if every tensor's leading dims merge into one (a view, no copy) — the fused backward's layout."""
    for tensor in tensors:
        if tensor.dim() > 2:
            try:
                tensor._data.view(-1, tensor.shape[-1])
            except RuntimeError:
                return False
    return True


def _linear_backward_composed(grad, x, weight, needs):
    """The same three products written with tritongrad ops, so they are recorded (double backward)."""
    out_features, in_features = weight.shape
    grad_rows = grad.reshape(-1, out_features)
    grad_x = grad_weight = grad_bias = None
    if needs[0]:
        grad_x = grad @ weight
    if needs[1]:
        grad_weight = grad_rows.t() @ x.reshape(-1, in_features)
    if needs[2]:
        grad_bias = grad_rows.sum(0)
    return grad_x, grad_weight, grad_bias


def _linear_named(name: str) -> type[Linear]:
    return type(f"Linear_{name}", (Linear,), {"_backward_name": name})


# torch's linear is addmm/mm plus views; the output's grad_fn carries the name torch would show.
_LINEAR_BY_LAYOUT = {
    (2, True): Linear,
    (2, False): _linear_named("MmBackward0"),
    (1, True): _linear_named("ViewBackward0"),
    (1, False): _linear_named("SqueezeBackward4"),
    ("nd", True): _linear_named("ViewBackward0"),
    ("nd", False): _linear_named("UnsafeViewBackward0"),
}


def linear(x, weight, bias=None):
    """Applies the fused Linear Function with the node name torch gives this layout."""
    layout = x.dim() if x.dim() <= 2 else "nd"
    return _LINEAR_BY_LAYOUT[(layout, bias is not None)].apply(x, weight, bias)


def linear_relu(x, weight, bias=None):
    """relu(linear(x, weight, bias)) as one fused Function (one launch forward, one backward)."""
    return LinearRelu.apply(x, weight, bias)


# ---------------------------------------------------------------------------------------------
# Softmax and log-softmax
# ---------------------------------------------------------------------------------------------


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        out = _wrap(softmax_kernels.launch_softmax_fwd(x._data, dim, log=False))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return SoftmaxBackwardData.apply(grad, out, ctx.dim), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        out = _wrap(softmax_kernels.launch_softmax_fwd(x._data, dim, log=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return LogSoftmaxBackwardData.apply(grad, out, ctx.dim), None


class SoftmaxBackwardData(Function):
    """grad_x = y * (g - sum(g * y)) from the softmax output y, in one kernel.

    Its own gradients (for double backward), with S = sum(g * y) and T = sum(gg * y) over dim:
    d/dg = y * (gg - T) (this same op applied to gg); d/dy = g * (gg - T) - gg * S.
    """

    @staticmethod
    def forward(ctx, grad, out, dim):
        ctx.save_for_backward(grad, out)
        ctx.dim = dim
        return _wrap(softmax_kernels.launch_softmax_bwd(grad._data, out._data, dim, log=False))

    @staticmethod
    def backward(ctx, grad_grad):
        grad, out = ctx.saved_tensors
        dim = ctx.dim
        grad_of_grad = SoftmaxBackwardData.apply(grad_grad, out, dim) if ctx.needs_input_grad[0] else None
        grad_of_out = None
        if ctx.needs_input_grad[1]:
            weighted_gg = (grad_grad * out).sum(dim, keepdim=True)
            weighted_g = (grad * out).sum(dim, keepdim=True)
            grad_of_out = grad * (grad_grad - weighted_gg) - grad_grad * weighted_g
        return grad_of_grad, grad_of_out, None


class LogSoftmaxBackwardData(Function):
    """grad_x = g - exp(y) * sum(g) from the log-softmax output y, in one kernel.

    Its own gradients, with p = exp(y): d/dg = gg - sum(gg * p); d/dy = -gg * p * sum(g).
    """

    @staticmethod
    def forward(ctx, grad, out, dim):
        ctx.save_for_backward(grad, out)
        ctx.dim = dim
        return _wrap(softmax_kernels.launch_softmax_bwd(grad._data, out._data, dim, log=True))

    @staticmethod
    def backward(ctx, grad_grad):
        grad, out = ctx.saved_tensors
        dim = ctx.dim
        probabilities = out.exp()
        grad_of_grad = grad_of_out = None
        if ctx.needs_input_grad[0]:
            grad_of_grad = grad_grad - (grad_grad * probabilities).sum(dim, keepdim=True)
        if ctx.needs_input_grad[1]:
            grad_of_out = -grad_grad * probabilities * grad.sum(dim, keepdim=True)
        return grad_of_grad, grad_of_out, None


# ---------------------------------------------------------------------------------------------
# Activations: forward and backward are fused kernels; second derivatives composed from ops
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Dropout: the mask is never stored; backward regenerates it from the same Philox counters
# ---------------------------------------------------------------------------------------------


class Dropout(Function):
    _backward_name = "NativeDropoutBackward0"

    @staticmethod
    def forward(ctx, x, p):
        seed, offset = philox_seed_and_offset(x.numel())
        ctx.p, ctx.seed, ctx.offset = p, seed, offset
        return _wrap(random_kernels.launch_dropout_fwd(_contiguous(x), p, seed, offset))

    @staticmethod
    def backward(ctx, grad):
        return DropoutMask.apply(grad, ctx.p, ctx.seed, ctx.offset), None


class DropoutMask(Function):
    """grad * keep / (1 - p) with a given mask stream: linear, so its backward is itself."""

    _backward_name = "NativeDropoutBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, p, seed, offset):
        ctx.p, ctx.seed, ctx.offset = p, seed, offset
        return _wrap(random_kernels.launch_dropout_bwd(_contiguous(grad), p, seed, offset))

    @staticmethod
    def backward(ctx, grad_grad):
        return DropoutMask.apply(grad_grad, ctx.p, ctx.seed, ctx.offset), None, None, None


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------


def _optional_data(tensor):
    return None if tensor is None else tensor._data


# Elementwise losses: one Function for every row of kernels/loss_elementwise.LOSSES. Its node
# carries torch's name for the loss (l1_loss and kl_div are compositions in torch, named after
# their last op, which depends on the reduction).
_ELEMENTWISE_NODE_NAMES = {
    "mse_loss": "MseLossBackward0",
    "l1_loss": {"none": "AbsBackward0", "mean": "MeanBackward0", "sum": "SumBackward0"},
    "smooth_l1_loss": "SmoothL1LossBackward0",
    "huber_loss": "HuberLossBackward0",
    "binary_cross_entropy": "BinaryCrossEntropyBackward0",
    "binary_cross_entropy_with_logits": "BinaryCrossEntropyWithLogitsBackward0",
    "kl_div": {"none": "SubBackward0", "mean": "MeanBackward0", "sum": "SumBackward0", "batchmean": "DivBackward0"},
    "kl_div_log_target": {
        "none": "MulBackward0",
        "mean": "MeanBackward0",
        "sum": "SumBackward0",
        "batchmean": "DivBackward0",
    },
    "soft_margin_loss": "SoftMarginLossBackward0",
}


def _sign_or_ramp(d, width: float):
    """d / width inside (-width, width), sign(d) outside: the gradient of smooth L1 (width 0: sign)."""
    return d.sign() if width == 0 else (d / width).where(d.abs() < width, d.sign())


def _clipped(d, delta: float):
    """d inside (-delta, delta), delta * sign(d) outside: the gradient of the Huber loss."""
    return d.where(d.abs() < delta, d.sign() * delta)


def _xlogx_grad(t):
    """d/dt of torch's xlogy(t, t): log(t) (0 at t = 0) + t / t."""
    return t.log().where(t != 0, 0.0) + t / t


# The per-element gradients (d/dx, d/dt) of each row written with tritongrad ops, for a backward
# that is itself recorded (create_graph=True); the fused kernels compute the same formulas.
_COMPOSED_GRADS = {
    "mse_loss": lambda x, t, p, a: (2.0 * (x - t), -2.0 * (x - t)),
    "l1_loss": lambda x, t, p, a: ((x - t).sign(), -(x - t).sign()),
    "smooth_l1_loss": lambda x, t, p, a: (_sign_or_ramp(x - t, p), -_sign_or_ramp(x - t, p)),
    "huber_loss": lambda x, t, p, a: (_clipped(x - t, p), -_clipped(x - t, p)),
    "binary_cross_entropy": lambda x, t, p, a: (
        (x - t) / ((1.0 - x) * x).clamp(min=1e-12),
        (1.0 - x).log() - x.log(),
    ),
    "binary_cross_entropy_with_logits": lambda x, t, p, a: (
        ((t if a is None else t * a) + 1.0 - t) * x.sigmoid() - (t if a is None else t * a),
        -((_log_sigmoid(x) if a is None else _log_sigmoid(x) * a) - _log_sigmoid(-x)),
    ),
    "kl_div": lambda x, t, p, a: (-t, _xlogx_grad(t) - x),
    "kl_div_log_target": lambda x, t, p, a: (-t.exp(), t.exp() * (t - x + 1.0)),
    "soft_margin_loss": lambda x, t, p, a: (-t * (-t * x).sigmoid(), None),
}


def _log_sigmoid(x):
    """log(sigmoid(x)) = -(max(-x, 0) + log(1 + exp(-|x|))), without overflow."""
    return -((-x).clamp(min=0.0) + ((-x.abs()).exp() + 1.0).log())


class ElementwiseLoss(Function):
    """An elementwise loss of ``input`` and ``target`` (broadcast as stride-0 views), fused in Triton.

    ``loss`` names a row of kernels/loss_elementwise.LOSSES; ``weight`` (scaling each element's
    loss) and ``aux`` (pos_weight) broadcast to the input's shape and get no gradient.
    ``reduction`` is "none", "mean", "sum" or "batchmean" (a mean over the input's first dim).

    When a backward can follow and the loss is a scalar, the forward's launch also
    writes the gradients for the implicit seed of ``loss.backward()`` (grad_loss = 1):
    that backward then launches nothing. The engine hands such a backward a
    ``UnitGradient`` instead of a ones tensor (``_accepts_unit_gradient``); any other
    incoming gradient takes the backward kernel.
    """

    _accepts_unit_gradient = True

    @staticmethod
    def forward(ctx, input, target, weight, aux, loss, parameter, reduction):
        shape = broadcast_shapes(tuple(input.shape), tuple(target.shape))
        if reduction == "batchmean":
            reduction, count = "mean", (input.shape[0] if input.dim() else 1)
        else:
            count = math.prod(shape)
        ctx.save_for_backward(input, target, weight, aux)
        ctx.options = dict(parameter=parameter, reduction=reduction, count=count)
        ctx.loss, ctx.shape = loss, shape
        wanted = (ctx.needs_input_grad[0], ctx.needs_input_grad[1])
        prepare = ctx._recording and reduction != "none" and any(wanted)
        result = elementwise_loss_kernels.launch_elementwise_loss_fwd(
            loss, input._data.expand(shape), target._data.expand(shape), weight=_optional_data(weight),
            aux=_optional_data(aux), unit_grads=wanted if prepare else (False, False), **ctx.options,
        )  # fmt: skip
        ctx.unit_grads = tuple(None if g is None else _wrap(g) for g in result[1:]) if prepare else None
        return _wrap(result[0] if prepare else result)

    @staticmethod
    def backward(ctx, grad):
        input, target, weight, aux = ctx.saved_tensors  # checks that none was modified in place since forward
        unit_grads, ctx.unit_grads = ctx.unit_grads, None  # handed out once (a retained graph recomputes)
        needs = (ctx.needs_input_grad[0], ctx.needs_input_grad[1])
        if isinstance(grad, UnitGradient) and (unit_grads is None or is_grad_enabled()):
            grad = grad.materialize()
        if isinstance(grad, UnitGradient):
            grad_input, grad_target = unit_grads  # written by the forward for exactly this seed
        elif is_grad_enabled():
            grad_input, grad_target = _elementwise_loss_backward_composed(ctx, grad, input, target, weight, aux)
        else:
            shape = ctx.shape
            grad_input, grad_target = (
                None if g is None else _wrap(g)
                for g in elementwise_loss_kernels.launch_elementwise_loss_bwd(
                    ctx.loss, grad._data, input._data.expand(shape), target._data.expand(shape),
                    weight=_optional_data(weight), aux=_optional_data(aux), needs=needs, **ctx.options,
                )
            )  # fmt: skip
        grad_input = reduce_grad(grad_input, input) if needs[0] else None
        grad_target = reduce_grad(grad_target, target) if needs[1] else None
        return grad_input, grad_target, None, None, None, None, None


def _elementwise_loss_backward_composed(ctx, grad, input, target, weight, aux):
    """grad * weight * (d/dx, d/dt) from tritongrad ops (recorded for double backward)."""
    options = ctx.options
    scale = grad / options["count"] if options["reduction"] == "mean" else grad
    if weight is not None:
        scale = scale * weight
    grad_input, grad_target = _COMPOSED_GRADS[ctx.loss](input, target, options["parameter"], aux)
    return grad_input * scale, None if grad_target is None else grad_target * scale


@functools.cache
def _elementwise_loss_function(node_name: str) -> type[ElementwiseLoss]:
    return type(f"ElementwiseLoss_{node_name}", (ElementwiseLoss,), {"_backward_name": node_name})


def elementwise_loss(loss: str, input, target, *, weight=None, aux=None, parameter: float = 0.0,
                     reduction: str = "mean"):  # fmt: skip
    """The elementwise loss ``loss`` (a row of kernels/loss_elementwise.LOSSES) as a recorded op.

    ``input`` and ``target`` share a floating dtype and broadcast together; the result is
    0-d, or of the broadcast shape for ``reduction="none"``.
    """
    names = _ELEMENTWISE_NODE_NAMES[loss]
    node_name = names if isinstance(names, str) else names[reduction]
    function = _elementwise_loss_function(node_name)
    return function.apply(input, target, weight, aux, loss, float(parameter), reduction)


class CrossEntropy(Function):
    """Fused cross entropy of (N, C) logits and (N,) class indices or (N, C) class probabilities.

    The forward keeps only per-row statistics (logsumexp, ...); the backward rebuilds softmax
    from them. One launch each way; the implicit seed of ``loss.backward()`` is never filled.
    """

    _backward_name = "NllLossBackward0"
    _accepts_unit_gradient = True

    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index, label_smoothing, reduction):
        options = dict(ignore_index=ignore_index, label_smoothing=label_smoothing, reduction=reduction)
        loss, saved = class_loss_kernels.launch_cross_entropy_fwd(
            logits._data, target._data, weight=_optional_data(weight), **options
        )
        ctx.save_for_backward(logits, target, weight, _wrap(saved))
        ctx.options = options
        return _wrap(loss)

    @staticmethod
    def backward(ctx, grad):
        logits, target, weight, saved = ctx.saved_tensors
        if ctx.needs_input_grad[1]:
            raise NotImplementedError(
                "cross_entropy: the fused kernel gives no gradient for class-probability targets; "
                "tritongrad.nn.functional.cross_entropy composes the loss from log_softmax when the target "
                "requires grad"
            )
        if is_grad_enabled():
            if isinstance(grad, UnitGradient):
                grad = grad.materialize()
            grad_logits = _cross_entropy_backward_composed(grad, logits, target, weight, **ctx.options)
            return grad_logits, None, None, None, None, None
        grad_logits = class_loss_kernels.launch_cross_entropy_bwd(
            None if isinstance(grad, UnitGradient) else grad._data,
            logits._data,
            target._data,
            saved._data,
            weight=_optional_data(weight),
            **ctx.options,
        )
        return _wrap(grad_logits), None, None, None, None, None


def _cross_entropy_backward_composed(grad, logits, target, weight, *, ignore_index, label_smoothing, reduction):
    """grad * (sum(q) * softmax(x) - q) per row, from tritongrad ops (recorded for double backward).

    q are the per-class coefficients of each row's loss sum_c q_c (logsumexp - x_c): the (smoothed)
    one-hot or probability target times the class weight, zero on ignored rows.
    """
    rows, classes = logits.shape
    if target.dtype.is_floating_point:
        coefficients = target * (1.0 - label_smoothing) + label_smoothing / classes
        denominator = rows
    else:
        class_ids = creation.arange(classes, dtype=target.dtype, device=target.device)
        hit = (target.unsqueeze(1) == class_ids).to(logits.dtype)
        kept = (target != ignore_index).to(logits.dtype).unsqueeze(1)
        coefficients = (hit * (1.0 - label_smoothing) + label_smoothing / classes) * kept
        picked_weight = hit * kept if weight is None else hit * kept * weight
        denominator = picked_weight.sum()
    if weight is not None:
        coefficients = coefficients * weight
    total = coefficients.sum(1, keepdim=True)
    row_grad = grad.unsqueeze(1) if reduction == "none" else grad
    if reduction == "mean":
        row_grad = row_grad / denominator
    return row_grad * (total * Softmax.apply(logits, 1) - coefficients)


class NllLoss(Function):
    """-w[t] * log_probs[t] per row, ignored rows skipped; mean divides by the total weight."""

    _backward_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, log_probs, target, weight, ignore_index, reduction):
        options = dict(ignore_index=ignore_index, reduction=reduction)
        ctx.save_for_backward(log_probs, target, weight)
        ctx.options = options
        return _wrap(
            class_loss_kernels.launch_nll_loss_fwd(
                log_probs._data, target._data, weight=_optional_data(weight), **options
            )
        )

    @staticmethod
    def backward(ctx, grad):
        log_probs, target, weight = ctx.saved_tensors
        return NllLossBackward.apply(grad, log_probs, target, weight, ctx.options), None, None, None, None


class NllLossBackward(Function):
    """The gradient of nll_loss: linear in the incoming gradient and constant in log_probs.

    Its adjoint, the derivative with respect to the incoming gradient, is nll_loss itself
    applied to the gradient-of-gradient: d/dg <gg, B(g)> = nll_loss(gg, target).
    """

    _backward_name = "NllLossBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, log_probs, target, weight, options):
        ctx.save_for_backward(log_probs, target, weight)
        ctx.options = options
        return _wrap(
            class_loss_kernels.launch_nll_loss_bwd(
                grad._data, log_probs._data, target._data, weight=_optional_data(weight), **options
            )
        )

    @staticmethod
    def backward(ctx, grad_grad):
        log_probs, target, weight = ctx.saved_tensors
        options = ctx.options
        grad_of_grad = None
        if ctx.needs_input_grad[0]:
            grad_of_grad = NllLoss.apply(grad_grad, target, weight, options["ignore_index"], options["reduction"])
        grad_of_log_probs = creation.zeros_like(log_probs) if ctx.needs_input_grad[1] else None
        return grad_of_grad, grad_of_log_probs, None, None, None


# ------------------------------------------------------------------------------ softmax
def _check_softmax_input(name: str, input) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")


def _refuse_integers(name: str, input, dtype) -> None:
    """torch has no integer softmax kernel (an empty input never reaches one)."""
    if dtype is None and not input.dtype.is_floating_point and input.numel() > 0:
        # torch's CPU message (the kernel it names is the last-dim one whatever the dim)
        raise NotImplementedError(f"\"{name}_lastdim_kernel_impl\" not implemented for '{dtype_word(input.dtype)}'")


def _softmax_dim(name: str, input, dim) -> int:
    if dim is None:
        dim = 0 if input.dim() in (0, 1, 3) else 1
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. "
            "Change the call to include dim=X as an argument.",
            UserWarning,
            stacklevel=3,
        )
    return normalize_dim(dim, max(input.dim(), 1))


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``; with ``dtype`` the input is cast first (like torch)."""
    _check_softmax_input("softmax", input)
    dim = _softmax_dim("softmax", input, dim)
    _refuse_integers("softmax", input, dtype)
    if dtype is not None:
        input = input.to(dtype)
    if not input.dtype.is_floating_point:  # empty (else refused above): torch returns it as it is
        return creation.empty(tuple(input.shape), dtype=input.dtype, device=input.device)
    return Softmax.apply(input, dim)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """x - logsumexp(x) along ``dim``, in one kernel (stable for large |x|)."""
    _check_softmax_input("log_softmax", input)
    dim = _softmax_dim("log_softmax", input, dim)
    _refuse_integers("log_softmax", input, dtype)
    if dtype is not None:
        input = input.to(dtype)
    if not input.dtype.is_floating_point:  # empty (else refused above): torch returns it as it is
        return creation.empty(tuple(input.shape), dtype=input.dtype, device=input.device)
    return LogSoftmax.apply(input, dim)


attach_methods({"softmax": softmax, "log_softmax": log_softmax})
