"""linear_cross_entropy: cross_entropy(linear(input, weight, bias), target) without the full logits.

A tritongrad extension (torch has no such function; Liger-Kernel's fused linear cross-entropy is
the model): the logits of a language model's head, (N, V) with a vocabulary V of 32K-256K, are
often the largest activation of a training step, and their softmax and gradient double that.
``kernels.fused_linear_ce`` computes them a chunk of rows at a time, with the gradients in the same
pass, so only one (chunk, V) block is ever alive.
"""

from __future__ import annotations

import torch

from tritongrad import backends
from tritongrad.autograd.engine import UnitGradient
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.kernels import fused_linear_ce as kernels
from tritongrad.kernels.elementwise import launch_unary
from tritongrad.tensor import Tensor

__all__ = ["linear_cross_entropy"]


def _rows(data: torch.Tensor, features: bool) -> torch.Tensor:
    """``data`` flattened to rows (N, H) or (N,) as a view, or as a dense copy (a copy kernel) when its
    leading dims do not merge."""
    shape = (-1, data.shape[-1]) if features else (-1,)
    try:
        return data.view(shape) if data.numel() else data.reshape(shape)
    except RuntimeError:
        dense = launch_unary("copy", data, out=torch.empty(tuple(data.shape), dtype=data.dtype, device=data.device))
        return dense.view(shape)


def _optional(t):
    return None if t is None else t._data


class LinearCrossEntropy(Function):
    """The fused op. For a reduced loss the forward also computes the gradients for ``d loss = 1``
    (when a backward can follow); the backward hands them out, scaled by the incoming gradient.
    For reduction="none" the backward reruns the chunked pass with the per-row gradients.
    Double backward is not supported.
    """

    _backward_name = "LinearCrossEntropyBackward"
    _accepts_unit_gradient = True

    @staticmethod
    def forward(ctx, input, weight, target, bias, ignore_index, reduction, chunk_size):
        x = _rows(input._data, features=True)
        target_rows = _rows(target._data, features=False)
        ctx.options = dict(
            ignore_index=ignore_index,
            reduction=reduction,
            chunk_size=chunk_size,
            allow_tf32=backends.cuda.matmul.allow_tf32,
        )
        ctx.input_shape = tuple(input.shape)
        needs = tuple(ctx.needs_input_grad[i] for i in (0, 1, 3))
        prepare = ctx._recording and reduction != "none" and any(needs)
        loss, *grads = kernels.launch_linear_cross_entropy(
            x, weight._data, target_rows, _optional(bias), needs=needs if prepare else (False,) * 3, **ctx.options
        )
        ctx.grads = tuple(None if g is None else Tensor._wrap(g) for g in grads) if prepare else None
        if reduction == "none":
            ctx.save_for_backward(input, weight, target, bias)
            loss = loss.view(tuple(target.shape))
        return Tensor._wrap(loss)

    @staticmethod
    def backward(ctx, grad):
        if is_grad_enabled():
            raise RuntimeError("linear_cross_entropy: double backward (create_graph=True) is not supported")
        if ctx.options["reduction"] == "none":
            input, weight, target, bias = ctx.saved_tensors
            needs = tuple(ctx.needs_input_grad[i] for i in (0, 1, 3))
            scale = _rows(grad._data, features=False) if grad.dim() else grad._data.view(1)
            _, grad_x, grad_weight, grad_bias = kernels.launch_linear_cross_entropy(
                _rows(input._data, features=True), weight._data, _rows(target._data, features=False),
                _optional(bias), grad_scale=scale, needs=needs, **ctx.options,
            )  # fmt: skip
            grads = tuple(None if g is None else Tensor._wrap(g) for g in (grad_x, grad_weight, grad_bias))
        else:
            if ctx.grads is None:
                raise RuntimeError(
                    "linear_cross_entropy: the gradients were already handed out (retain_graph=True is not supported)"
                )
            grads, ctx.grads = ctx.grads, None
            if not isinstance(grad, UnitGradient):
                grads = tuple(None if g is None else g * grad for g in grads)
        grad_x, grad_weight, grad_bias = grads
        if grad_x is not None:
            grad_x = grad_x.view(ctx.input_shape)
        return grad_x, grad_weight, None, grad_bias, None, None, None


def linear_cross_entropy(
    input: Tensor,
    weight: Tensor,
    target: Tensor,
    bias: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    chunk_size: int | None = None,
) -> Tensor:
    """``F.cross_entropy(F.linear(input, weight, bias), target, ...)`` in chunks of rows (tritongrad extension).

    Never materialises the (N, V) logits: each chunk of ``chunk_size`` rows gets its logits from
    the matmul kernel, its loss and logits gradient from one kernel (online logsumexp), and its
    share of the input/weight/bias gradients from two matmuls, accumulated chunk by chunk.

    Args:
        input: (..., H) floating; the leading dims are rows.
        weight: (V, H), bias: (V,) or None, input's dtype.
        target: (...) int64 class indices (input's leading shape), or ``ignore_index``.
        reduction: "mean" (over the non-ignored rows; NaN when all are ignored, as torch), "sum",
            or "none" (a loss per row, of target's shape).
        chunk_size: rows per chunk; default: about N / ceil(V / H) rounded up to a power of two,
            so a chunk's logits are about the size of ``input``.

    Returns:
        The loss, of input's dtype. Class weights and label smoothing are not supported; double
        backward and backward with retain_graph (for a reduced loss) are not supported.

    Example::

        >>> x = tritongrad.randn(8, 4, requires_grad=True)
        >>> head = tritongrad.randn(50, 4, requires_grad=True)
        >>> loss = F.linear_cross_entropy(x, head, tritongrad.randint(0, 50, (8,)))
        >>> loss.backward()
    """
    if input.dim() < 1 or target.shape != input.shape[:-1]:
        raise ValueError(
            f"linear_cross_entropy: expected target of shape {tuple(input.shape[:-1])} for input of shape "
            f"{tuple(input.shape)}, got {tuple(target.shape)}"
        )
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return LinearCrossEntropy.apply(input, weight, target, bias, ignore_index, reduction, chunk_size)
