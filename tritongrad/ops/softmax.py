"""Softmax and log-softmax along a dim, and their backwards, on kernels/softmax.py.

The backward is itself a Function (``SoftmaxBackwardData``, ``LogSoftmaxBackwardData``) whose
forward is the fused kernel and whose own backward is composed from tritongrad ops, so gradients
of any order (``create_graph=True``) stay on the kernels. ``softmax`` and ``log_softmax`` check
their arguments as torch does and are attached as Tensor methods.
"""

from __future__ import annotations

import torch

from tritongrad import caller_warnings, creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import as_dtype, dtype_word
from tritongrad.kernels import softmax as softmax_kernels
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.out_argument import out_variant, write_out
from tritongrad.shapes import normalize_dim
from tritongrad.tensor import Tensor, attach_methods

__all__ = ["Softmax", "LogSoftmax", "SoftmaxBackwardData", "LogSoftmaxBackwardData", "softmax", "log_softmax"]

_wrap = Tensor._wrap  # a kernel's output buffer as a Tensor


class Softmax(Function):
    """softmax along ``dim`` in one kernel; LogSoftmax is the same Function with ``log`` set."""

    log = False

    @staticmethod
    def forward(ctx, x, dim):
        out = _wrap(softmax_kernels.launch_softmax_fwd(x._data, dim, log=ctx._function.log))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        backward_data = LogSoftmaxBackwardData if ctx._function.log else SoftmaxBackwardData
        return backward_data.apply(grad, out, ctx.dim), None


class LogSoftmax(Softmax):
    log = True


class SoftmaxBackwardData(Function):
    """grad_x = y * (g - sum(g * y)) from the softmax output y, in one kernel.

    Its own gradients (for double backward), with S = sum(g * y) and T = sum(gg * y) over dim:
    d/dg = y * (gg - T) (this same op applied to gg); d/dy = g * (gg - T) - gg * S.
    LogSoftmaxBackwardData shares its forward (the kernel with ``log`` set).
    """

    log = False

    @staticmethod
    def forward(ctx, grad, out, dim):
        ctx.save_for_backward(grad, out)
        ctx.dim = dim
        return _wrap(softmax_kernels.launch_softmax_bwd(grad._data, out._data, dim, log=ctx._function.log))

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


class LogSoftmaxBackwardData(SoftmaxBackwardData):
    """grad_x = g - exp(y) * sum(g) from the log-softmax output y, in one kernel.

    Its own gradients, with p = exp(y): d/dg = gg - sum(gg * p); d/dy = -gg * p * sum(g).
    """

    log = True

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


def _check_softmax_input(name: str, input) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")


def _refuse_non_floating(name: str, input) -> None:
    """torch has no integer, bool or complex softmax kernel (an empty input never reaches one); it
    checks the dtype after the ``dtype=`` cast, so ``dtype=torch.int64`` of a float input is refused too."""
    if not input.dtype.is_floating_point and input.numel() > 0:
        # torch's CPU message (the kernel it names is the last-dim one whatever the dim)
        raise NotImplementedError(f"\"{name}_lastdim_kernel_impl\" not implemented for '{dtype_word(input.dtype)}'")


def _softmax_dim(name: str, input, dim) -> int:
    if dim is None:
        dim = 0 if input.dim() in (0, 1, 3) else 1
        caller_warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. "
            "Change the call to include dim=X as an argument.",
            UserWarning,
        )
    return normalize_dim(dim, max(input.dim(), 1))


def _softmax(function: type[Softmax], name: str, input, dim, dtype):
    _check_softmax_input(name, input)
    dim = _softmax_dim(name, input, dim)
    if dtype is not None:
        if type(dtype) is not torch.dtype:
            dtype = as_dtype(dtype, name)
        input = input.to(dtype)
    _refuse_non_floating(name, input)
    if not input.dtype.is_floating_point:  # empty (else refused above): torch returns it as it is
        return creation.empty(tuple(input.shape), dtype=input.dtype, device=input.device)
    if not (input.requires_grad and is_grad_enabled()):
        return _wrap(softmax_kernels.launch_softmax_fwd(input._data, dim, log=function.log))
    return function.apply(input, dim)


@autocast_op("softmax")
def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``; with ``dtype`` the input is cast first (like torch)."""
    return _softmax(Softmax, "softmax", input, dim, dtype)


def softmax_function(input, dim, dtype=None, *, out=None):
    """torch.softmax, which (unlike F.softmax and Tensor.softmax) takes ``out=``: out must have the
    result dtype; torch does not refuse inputs that require grad here (the write is not recorded)."""
    if out is None:
        return softmax(input, dim, dtype=dtype)
    return write_out("softmax", out, softmax(input, dim, dtype=dtype).detach(), input, differentiable=False)


@autocast_op("log_softmax")
@out_variant("log_softmax", differentiable=False)
def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """x - logsumexp(x) along ``dim``, in one kernel (stable for large |x|)."""
    return _softmax(LogSoftmax, "log_softmax", input, dim, dtype)


attach_methods({"softmax": softmax, "log_softmax": log_softmax})
