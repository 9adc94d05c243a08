"""Elementwise losses (MSE, L1, smooth L1, Huber, BCE, BCE with logits, KL divergence, soft margin)
as one Function over the rows of kernels/loss_elementwise.LOSSES.

The backward runs the fused kernel when nothing is recorded; under ``create_graph=True`` the
same per-element formulas composed from tritongrad ops run instead, so they are recorded.
"""

from __future__ import annotations

import functools
import math

from tritongrad.autograd.engine import UnitGradient
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.kernels import loss_elementwise as elementwise_loss_kernels
from tritongrad.kernels.strided import broadcast_shapes
from tritongrad.ops.table import reduce_grad
from tritongrad.tensor import Tensor

__all__ = ["ElementwiseLoss", "elementwise_loss"]

_wrap = Tensor._wrap  # a kernel's output buffer as a Tensor


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
