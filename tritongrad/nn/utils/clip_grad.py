"""Gradient clipping as torch.nn.utils has it, with no read back to the host.

``clip_grad_norm_`` computes each gradient's norm, the norm of those norms, and scales every
gradient in place by ``min(1, max_norm / (total + 1e-6))`` — a tensor on the device, so a training
step that clips never waits for the GPU (torch's default behaves the same way). Only
``error_if_nonfinite=True`` reads the total back, as torch does, to raise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from tritongrad import creation
from tritongrad.autograd import no_grad
from tritongrad.ops import stack
from tritongrad.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]


def _gradients(parameters) -> list[Tensor]:
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def get_total_norm(tensors: Iterable[Tensor] | Tensor, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:  # fmt: skip
    """The ``norm_type``-norm of all ``tensors`` together, as one 0-d tensor."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return creation.tensor(0.0)
    with no_grad():
        if math.isinf(norm_type):
            norms = [t.detach().abs().max() for t in tensors]
            total = stack([n.to(norms[0].dtype) for n in norms]).max()
        else:
            norms = [t.detach().norm(norm_type) for t in tensors]
            total = stack([n.to(norms[0].dtype) for n in norms]).norm(norm_type)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return total


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:  # fmt: skip
    """Scales the gradients of ``parameters`` in place so that their total norm is at most ``max_norm``;
    returns the total norm before clipping."""
    grads = _gradients(parameters)
    if not grads:
        return creation.tensor(0.0)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    with no_grad():
        scale = (float(max_norm) / (total + 1e-6)).clamp(max=1.0)
        for grad in grads:
            grad.mul_(scale.to(grad.dtype))
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamps every gradient of ``parameters`` into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    with no_grad():
        for grad in _gradients(parameters):
            grad.clamp_(-clip_value, clip_value)
