"""CTC loss (torch.nn.functional.ctc_loss) on the kernels of kernels/ctc_loss.py.

One launch forward (plus the final sum of a reduced loss) and one backward; the forward keeps
the alpha rows and per-element log-likelihoods for the backward only when a gradient is being
recorded. The gradient is torch's: exp(log_probs) minus the label posteriors, whose first term
vanishes through a log_softmax (see kernels/ctc_loss.py); like torch's, it cannot be
differentiated again.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch

from tritongrad.autograd.engine import UnitGradient
from tritongrad.autograd.function import Function, once_differentiable
from tritongrad.dtypes import dtype_word
from tritongrad.kernels import ctc_loss as ctc_kernels
from tritongrad.ops.autocast import autocast_op
from tritongrad.tensor import Tensor

__all__ = ["CtcLoss", "ctc_loss"]

_wrap = Tensor._wrap  # a kernel's output buffer as a Tensor

_REDUCTIONS = ("none", "mean", "sum")
_FLOATS = (torch.float32, torch.float64)  # as torch's CPU and CUDA kernels


class CtcLoss(Function):
    """CTC loss of (T, N, C) or (T, C) log-probabilities; ``options`` is (blank, reduction, zero_infinity).

    The lengths are integer Tensors or lists of ints (never differentiated); targets get no gradient.
    """

    _backward_name = "CtcLossBackward0"
    _accepts_unit_gradient = True

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, options):
        blank, reduction, zero_infinity = options
        loss, saved = ctc_kernels.launch_ctc_loss_fwd(
            log_probs._data, targets._data, _lengths_data(input_lengths), _lengths_data(target_lengths),
            blank=blank, reduction=reduction, zero_infinity=zero_infinity, keep_alpha=ctx._recording,
        )  # fmt: skip
        if ctx._recording:
            ctx.save_for_backward(log_probs, targets)
            ctx.saved = saved
        ctx.options = options
        return _wrap(loss)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        log_probs, targets = ctx.saved_tensors
        blank, reduction, zero_infinity = ctx.options
        grad_log_probs = ctc_kernels.launch_ctc_loss_bwd(
            None if isinstance(grad, UnitGradient) else grad._data, log_probs._data, targets._data, ctx.saved,
            blank=blank, reduction=reduction, zero_infinity=zero_infinity,
        )  # fmt: skip
        return _wrap(grad_log_probs), None, None, None, None


def _lengths_data(lengths):
    """A lengths argument for the launcher: the torch buffer of a Tensor, or the sequence itself."""
    return lengths._data if isinstance(lengths, Tensor) else lengths


@functools.cache
def _ctc_function(node_name: str) -> type[CtcLoss]:
    """CtcLoss under the name of the node torch's composite ends in (MeanBackward0 for a mean, ...)."""
    return type(f"CtcLoss_{node_name}", (CtcLoss,), {"_backward_name": node_name})


def _node_name(reduction: str, zero_infinity: bool, batched: bool) -> str:
    if reduction == "mean":
        return "MeanBackward0"
    if reduction == "sum":
        return "SumBackward0"
    if not batched:
        return "SqueezeBackward1"
    return "WhereBackward0" if zero_infinity else "CtcLossBackward0"


def _type_name(value) -> str:
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


@autocast_op("ctc_loss")
def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """The connectionist temporal classification loss, as torch.nn.functional.ctc_loss.

    ``log_probs``: (T, N, C) (or unbatched (T, C)) float32/float64 log-probabilities (normally a
    log_softmax over C; the gradient is torch's, exp(log_probs) - posteriors, which is the
    logits' gradient after log_softmax's backward). ``targets``: (N, S) padded
    or 1-D concatenated class indices (blank excluded). ``input_lengths``/``target_lengths``: N
    integers each, as integer Tensors or tuples/lists of ints. ``reduction``: "none" (the (N,)
    losses), "sum", or "mean" (each loss divided by its target length, at least 1, then averaged
    over the batch). ``zero_infinity`` zeroes infinite losses (inputs too short to align with their
    targets) and their gradients.

    Differs from torch only where torch reads memory it does not own: a target label outside
    [0, C) here has probability 0 (an infinite loss). A target label equal to ``blank`` gets the
    true gradient at the last time step, where torch's drops one of the two lanes.

    Example::

        >>> log_probs = tritongrad.randn(50, 16, 20).log_softmax(2).detach().requires_grad_()
        >>> targets = tritongrad.randint(1, 20, (16, 30))
        >>> loss = ctc_loss(log_probs, targets, [50] * 16, [30] * 16)
        >>> loss.backward()
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    tensors = isinstance(input_lengths, Tensor) and isinstance(target_lengths, Tensor)
    sequences = all(isinstance(x, (list, tuple)) for x in (input_lengths, target_lengths))
    if not (isinstance(log_probs, Tensor) and isinstance(targets, Tensor) and (tensors or sequences)):
        got = ", ".join(_type_name(x) for x in (log_probs, targets, input_lengths, target_lengths))
        raise TypeError(
            f"ctc_loss() received an invalid combination of arguments - got ({got}, int, int, bool), but expected "
            "one of:\n * (Tensor log_probs, Tensor targets, tuple of ints input_lengths, tuple of ints "
            "target_lengths, int blank, int reduction, bool zero_infinity)\n * (Tensor log_probs, Tensor targets, "
            "Tensor input_lengths, Tensor target_lengths, int blank, int reduction, bool zero_infinity)"
        )
    if tensors:
        for name, lengths in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
            if lengths.dtype.is_floating_point or lengths.dtype.is_complex or lengths.dtype == torch.bool:
                raise RuntimeError(f"{name} must be integral")
        input_lengths, target_lengths = input_lengths.contiguous(), target_lengths.contiguous()
    if log_probs.dtype not in _FLOATS:
        device = "cpu" if log_probs.device.type == "cpu" else "gpu"
        raise NotImplementedError(f"\"ctc_loss_{device}\" not implemented for '{dtype_word(log_probs.dtype)}'")
    function = _ctc_function(_node_name(reduction, bool(zero_infinity), log_probs.dim() == 3))
    options = (int(blank), reduction, bool(zero_infinity))
    return function.apply(log_probs, targets, input_lengths, target_lengths, options)
