"""Dropout on the Philox kernels of kernels/random.py.

The mask is never stored: the backward regenerates it from the same Philox counters (seed and
offset taken from the default generator at the forward).

The graph is torch's for the device: on a GPU torch records one NativeDropoutBackward0 node; on the
CPU its dropout is ``input * (mask / (1 - p))``, a MulBackward0 whose second input (the scaled mask)
has no gradient: the same kernels, named and connected as that node (``dropout`` picks).
"""

from __future__ import annotations

import torch

from tritongrad.autograd.function import Function
from tritongrad.kernels import random as random_kernels
from tritongrad.ops.views import contiguous_copy
from tritongrad.random import philox_seed_and_offset
from tritongrad.tensor import Tensor

__all__ = ["Dropout", "DropoutMask", "dropout"]

_wrap = Tensor._wrap  # a kernel's output buffer as a Tensor


def _contiguous(x) -> torch.Tensor:
    """x's buffer, copied by a kernel first if the elementwise launchers cannot read it in place."""
    return x._data if x.is_contiguous() else contiguous_copy(x)._data


class DropoutMask(Function):
    """grad * keep / (1 - p) with a given mask stream: linear, so its backward is itself."""

    _backward_name = "NativeDropoutBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, p, seed, offset):
        ctx.p, ctx.seed, ctx.offset = p, seed, offset
        return _wrap(random_kernels.launch_dropout_bwd(_contiguous(grad), p, seed, offset))

    @staticmethod
    def backward(ctx, grad_grad):
        return type(ctx)._function.apply(grad_grad, ctx.p, ctx.seed, ctx.offset), None, None, None


class CPUDropoutMask(DropoutMask):
    """grad * scaled mask, the CPU node's backward: MulBackward0 again, as torch's."""

    _backward_name = "MulBackward0"
    _number_operands = (1,)


class Dropout(Function):
    _backward_name = "NativeDropoutBackward0"
    mask_function = DropoutMask  # (its backward's Function, named as torch's node on the device)

    @staticmethod
    def forward(ctx, x, p):
        seed, offset = philox_seed_and_offset(x.numel())
        ctx.p, ctx.seed, ctx.offset = p, seed, offset
        return _wrap(random_kernels.launch_dropout_fwd(_contiguous(x), p, seed, offset))

    @staticmethod
    def backward(ctx, grad):
        return type(ctx)._function.mask_function.apply(grad, ctx.p, ctx.seed, ctx.offset), None


class CPUDropout(Dropout):
    """Dropout as torch records it on the CPU: x * scaled mask (the mask: an input without a gradient)."""

    _backward_name = "MulBackward0"
    _number_operands = (1,)  # (p stands where torch's node has the mask: next_functions shows (None, 0))
    mask_function = CPUDropoutMask


def dropout(x: Tensor, p: float) -> Tensor:
    """Dropout of x (p > 0, training) recorded as torch records it on x's device."""
    return (CPUDropout if x.device.type == "cpu" else Dropout).apply(x, p)
