"""Class-target losses: cross-entropy and NLL on the fused kernels of kernels/loss_classes.py,
and the multi-class hinge loss (multi_margin_loss) composed from tritongrad ops.

The backward runs the fused kernel when nothing is recorded; under ``create_graph=True``
cross-entropy's gradient is composed from tritongrad ops (on ``Softmax``) so it is recorded, and
NLL's backward is itself a Function whose adjoint is NLL again. multi_margin_loss is one node
(``MultiMarginLossBackward0``), as torch's fused op, whose gradient follows torch's kernel rather
than the chain rule through its composition (see MultiMarginLoss).
"""

from __future__ import annotations

from tritongrad import creation
from tritongrad.autograd.engine import UnitGradient
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.kernels import loss_classes as class_loss_kernels
from tritongrad.ops.arithmetic import where
from tritongrad.ops.softmax import Softmax
from tritongrad.tensor import Tensor

__all__ = ["CrossEntropy", "NllLoss", "NllLossBackward", "MultiMarginLoss", "MultiMarginLossBackward"]

_wrap = Tensor._wrap  # a kernel's output buffer as a Tensor


def _optional_data(tensor):
    return None if tensor is None else tensor._data


class CrossEntropy(Function):
    """Fused cross entropy of (N, C) logits and (N,) class indices or (N, C) class probabilities.

    The forward keeps only per-row statistics (logsumexp, ...); the backward rebuilds softmax
    from them. One launch each way; the implicit seed of ``loss.backward()`` is never filled.
    """

    _backward_name = "NllLossBackward0"
    _tensor_options = (1, 2)  # target and class weights (torch: non-differentiable, no edges)
    _accepts_unit_gradient = True

    @staticmethod
    def forward(ctx, logits, target, weight, options):
        # ``options``: (ignore_index, label_smoothing, reduction), one argument rather than three
        # (each argument of a Function costs a pass of the recording's loops).
        data, target_data = logits._data, target._data
        weight_data = None if weight is None else weight._data
        launch = class_loss_kernels.cross_entropy_fwd_launcher(data, target_data, weight_data, *options)
        loss, saved = launch(data, target_data, weight_data)
        # The launcher and the buffers it read, for the backward (see backward).
        ctx.forward_launch = (launch, data, target_data, weight_data)
        ctx.save_for_backward(logits, target, weight)
        # The per-row statistics are the kernel's own scratch, never seen or written by anyone else:
        # kept as the buffer itself, without a Tensor or a version check.
        ctx.statistics = saved
        ctx.options = options
        return _wrap(loss)

    @staticmethod
    def backward(ctx, grad):
        logits, target, weight = ctx.saved_tensors
        if ctx.needs_input_grad[1]:
            raise NotImplementedError(
                "cross_entropy: the fused kernel gives no gradient for class-probability targets; "
                "tritongrad.nn.functional.cross_entropy composes the loss from log_softmax when the target "
                "requires grad"
            )
        ignore_index, label_smoothing, reduction = ctx.options
        if is_grad_enabled():
            if isinstance(grad, UnitGradient):
                grad = grad.materialize()
            grad_logits = _cross_entropy_backward_composed(
                grad, logits, target, weight, ignore_index=ignore_index, label_smoothing=label_smoothing,
                reduction=reduction,
            )  # fmt: skip
            return grad_logits, None, None, None
        # The forward's launcher stands for the operands' layouts while they hold the very buffers
        # it read (``.data =`` may have swapped one since).
        launch, data, target_data, weight_data = ctx.forward_launch
        ctx.forward_launch = (None, None, None, None)  # frees those buffers with the saved tensors
        weight_now = None if weight is None else weight._data
        same = logits._data is data and target._data is target_data and weight_now is weight_data
        grad_logits = class_loss_kernels.launch_cross_entropy_bwd(
            None if isinstance(grad, UnitGradient) else grad._data,
            logits._data,
            target._data,
            ctx.statistics,
            weight=weight_now,
            ignore_index=ignore_index,
            label_smoothing=label_smoothing,
            reduction=reduction,
            forward=launch if same else None,
        )
        return _wrap(grad_logits), None, None, None


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
    _tensor_options = (1, 2)  # target and class weights (torch: non-differentiable, no edges)

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


def _margin_terms(scores, target, margin: float):
    """z[n, i] = margin - x[n, y_n] + x[n, i] of (rows, 1) targets, and which of them count: z > 0, i != y_n."""
    z = (margin - scores.gather(1, target)) + scores
    others = creation.arange(scores.shape[1], device=scores.device) != target
    return z, (z > 0) & others


class MultiMarginLoss(Function):
    """sum over i != y of max(0, margin - x[y] + x[i])^p (times weight[y]) / C per row, then reduced.

    ``scores`` and ``target`` as the caller has them ((N, C), (C) or a scalar; N or one targets);
    ``options`` is (p, margin, reduction, result shape, rows, C). One node, as torch's fused op: differentiating the
    composition would multiply the incoming zero of an inactive term by 2z (NaN for z = inf or NaN);
    torch's kernel skips such terms, and so does MultiMarginLossBackward.
    """

    @staticmethod
    def forward(ctx, scores, target, weight, options):
        p, margin, reduction, shape, rows, classes = options
        z, counted = _margin_terms(scores.reshape(rows, classes), target.reshape(rows, 1), margin)
        terms = z if p == 1 else z * z
        if weight is not None:
            terms = terms * weight.gather(0, target.reshape(-1)).reshape(-1, 1)
        loss = where(counted, terms, 0.0).sum(1) / classes
        ctx.save_for_backward(scores, target, weight)
        ctx.options = options
        if reduction == "none":
            return loss.reshape(shape)
        return loss.mean() if reduction == "mean" else loss.sum()

    @staticmethod
    def backward(ctx, grad):
        scores, target, weight = ctx.saved_tensors
        return MultiMarginLossBackward.apply(grad, scores, target, weight, ctx.options), None, None, None


class MultiMarginLossBackward(Function):
    """torch's multi_margin_loss_backward: per counted term h = (1 or 2z) * weight[y] * s, with
    s = 1/C (1/(N C) for the mean); h at column i, minus the row's sum of h at the target's column,
    0 elsewhere; then times the incoming gradient, as torch's kernel orders it (a NaN gradient
    makes its whole row NaN). torch has no derivative for it, and neither has this."""

    @staticmethod
    def forward(ctx, grad, scores, target, weight, options):
        p, margin, reduction, _, rows, classes = options
        scale = 1.0 / (rows * classes) if reduction == "mean" else 1.0 / classes
        y = target.reshape(rows, 1)
        z, counted = _margin_terms(scores.reshape(rows, classes), y, margin)
        h = z * (2 * scale) if p == 2 else creation.full_like(z, scale)
        if weight is not None:
            h = h * weight.gather(0, y.reshape(-1)).reshape(-1, 1)
        h = where(counted, h, 0.0)
        others = creation.arange(classes, device=scores.device) != y
        h = where(others, h, 0.0 - h.sum(1, keepdim=True))  # (0 - 0 is +0, as torch's kernel gives)
        return (h * (grad.reshape(rows, 1) if reduction == "none" else grad)).reshape(scores.shape)

    @staticmethod
    def backward(ctx, grad_grad):
        raise RuntimeError("derivative for aten::multi_margin_loss_backward is not implemented")
