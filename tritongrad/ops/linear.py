"""Linear and LinearRelu: ``x @ weight.T + bias`` (and its ReLU) in one fused matmul kernel.

Forward and backward call kernels/matmul.py's ``launch_linear`` and ``launch_linear_backward``.
The backward must also work under ``create_graph=True``, where the engine runs it with recording
on: the fused kernel runs when nothing is recorded, and the same three products composed from
tritongrad ops run when something is.
"""

from __future__ import annotations

from tritongrad import backends
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.kernels import matmul as matmul_kernels
from tritongrad.tensor import Tensor

__all__ = ["Linear", "LinearRelu", "linear", "linear_relu"]

_wrap = Tensor._wrap  # a kernel's output buffer as a Tensor


class Linear(Function):
    """``x @ weight.T + bias`` (bias may be None); the node is named like torch's for 2-D input."""

    _backward_name = "AddmmBackward0"
    # next_functions in torch's addmm(bias, x, weight.t()) order (the edges stay (x, weight, bias), so the
    # engine reaches the leaves' gradients before the input's node, as torch's engine does)
    _next_order = (2, 0, 1)

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return _wrap(_launch_forward(ctx, x, weight, bias, None))

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
    _next_order = (2, 0, 1)

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.has_bias = bias is not None
        out = _wrap(_launch_forward(ctx, x, weight, bias, "relu"))
        ctx.save_for_backward(x, weight, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, out = ctx.saved_tensors
        return _linear_backward(ctx, grad, x, weight, relu_out=out)


def _launch_forward(ctx, x, weight, bias, activation: str | None):
    """The forward launch, through the kernel layer's launcher for these layouts when it has one;
    the launcher and the operands it read are kept for the backward (see _linear_backward)."""
    data, weight_data = x._data, weight._data
    bias_data = None if bias is None else bias._data
    allow_tf32 = backends.cuda.matmul.allow_tf32
    launch = matmul_kernels.linear_launcher(data, weight_data, bias_data, activation, allow_tf32)
    ctx.forward_launch = (launch, data, weight_data)
    if launch is not None:
        return launch(data, weight_data, bias_data)
    return matmul_kernels.launch_linear(data, weight_data, bias_data, activation, allow_tf32)


def _linear_backward(ctx, grad, x, weight, relu_out):
    """The three gradients of (relu of) a linear layer: one fused launch, or composed ops when recording."""
    need_x, need_weight, need_bias = ctx.needs_input_grad
    needs = (need_x, need_weight, need_bias and ctx.has_bias)
    if grad._data.dtype != x._data.dtype:
        grad = grad.to(x.dtype)
    recording = is_grad_enabled()
    if relu_out is not None and (recording or (grad._data.dim() > 2 and not _flattens_to_rows(grad, x, relu_out))):
        grad = grad.where(relu_out > 0, 0.0)  # ReLU's backward as an op: recorded, or for unusual layouts
        relu_out = None
    if recording:
        return _linear_backward_composed(grad, x, weight, needs)
    # The forward's launcher stands for the layouts of x and weight while they hold the very
    # buffers it read (``.data =`` may have swapped one since) and of relu_out, its own output.
    launch, data, weight_data = ctx.forward_launch
    ctx.forward_launch = (None, None, None)  # frees those buffers with the saved tensors
    forward = launch if x._data is data and weight._data is weight_data else None
    grad_x, grad_weight, grad_bias = matmul_kernels.launch_linear_backward(
        grad._data,
        x._data,
        weight._data,
        needs_input_grad=needs,
        relu_out=None if relu_out is None else relu_out._data,
        allow_tf32=backends.cuda.matmul.allow_tf32,
        forward=forward,
    )
    return (
        None if grad_x is None else _wrap(grad_x),
        None if grad_weight is None else _wrap(grad_weight),
        None if grad_bias is None else _wrap(grad_bias),
    )


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
    rank = x._data.dim()
    return _LINEAR_BY_LAYOUT[(rank if rank <= 2 else "nd", bias is not None)].apply(x, weight, bias)


def linear_relu(x, weight, bias=None):
    """relu(linear(x, weight, bias)) as one fused Function (one launch forward, one backward)."""
    return LinearRelu.apply(x, weight, bias)
