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
        # x only for weight's gradient and weight only for x's, as torch's addmm saves them: a write into
        # one whose partner needs no gradient is no version error, and a bias-only node saves nothing
        # (it runs a second time). The one not saved is still read for its layout (_linear_backward).
        needs = ctx.needs_input_grad
        if needs[0] or needs[1]:
            ctx.save_for_backward(x if needs[1] else None, weight if needs[0] else None)
        ctx.has_bias = bias is not None
        return _wrap(_launch_forward(ctx, x, weight, bias, None))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors or _NOTHING_SAVED
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
        needs = ctx.needs_input_grad  # (what Linear saves, and the output as torch's relu saves its result)
        ctx.save_for_backward(x if needs[1] else None, weight if needs[0] else None, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, out = ctx.saved_tensors
        return _linear_backward(ctx, grad, x, weight, relu_out=out)


_NOTHING_SAVED = (None, None)


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
    # An operand not saved (its partner needs no gradient) is the forward's buffer, which the fused
    # kernel reads for its layout alone; a second backward has it no more and takes the composed path.
    launch, data, weight_data = ctx.forward_launch
    x_data = data if x is None else x._data
    weight_now = weight_data if weight is None else weight._data
    if x_data is None or weight_now is None or is_grad_enabled():
        return _linear_backward_composed(grad, x, weight, relu_out, needs)
    if grad._data.dtype != x_data.dtype:
        grad = grad.to(x_data.dtype)
    if relu_out is not None and grad._data.dim() > 2 and not _flattens_to_rows(grad._data, x_data, relu_out._data):
        grad = grad.where(relu_out > 0, 0.0)  # ReLU's backward as an op, for unusual layouts
        relu_out = None
    # The forward's launcher stands for the layouts of x and weight while they hold the very
    # buffers it read (``.data =`` may have swapped one since) and of relu_out, its own output.
    ctx.forward_launch = (None, None, None)  # frees those buffers with the saved tensors
    forward = launch if x_data is data and weight_now is weight_data else None
    grad_x, grad_weight, grad_bias = matmul_kernels.launch_linear_backward(
        grad._data,
        x_data,
        weight_now,
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


def _flattens_to_rows(*buffers) -> bool:
    """True if every buffer's leading dims merge into one (a view, no copy) — the fused backward's layout."""
    for buffer in buffers:
        if buffer.dim() > 2:
            try:
                buffer.view(-1, buffer.shape[-1])
            except RuntimeError:
                return False
    return True


def _linear_backward_composed(grad, x, weight, relu_out, needs):
    """The same three products written with tritongrad ops, so they are recorded (double backward),
    or for a second backward that lacks an operand not saved. Each reads only the operand its gradient
    needs; the ReLU's backward is an op here."""
    operand = x if x is not None else weight
    if operand is not None and grad.dtype != operand.dtype:
        grad = grad.to(operand.dtype)
    if relu_out is not None:
        grad = grad.where(relu_out > 0, 0.0)
    grad_rows = grad.reshape(-1, grad.shape[-1])
    grad_x = grad_weight = grad_bias = None
    if needs[0]:
        grad_x = grad @ weight
    if needs[1]:
        grad_weight = grad_rows.t() @ x.reshape(-1, x.shape[-1])
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
