"""The LSTM cell's gate arithmetic as one autograd node: ``(h', c') = lstm_cell_gates(gi, gh, c)``
with the pre-activations gi (the input projection, N x 4H) and gh (the hidden projection), gate order
i, f, g, o (kernels/rnn.py has the formulas). Forward and backward are one kernel each; under
create_graph the backward is composed from differentiable ops instead, so second derivatives
through an LSTM still work."""

from __future__ import annotations

from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.kernels.rnn import launch_lstm_cell_bwd, launch_lstm_cell_fwd
from tritongrad.ops.elementwise import FUNCTIONS
from tritongrad.ops.indexing import cat
from tritongrad.tensor import Tensor

__all__ = ["lstm_cell_gates"]

_sigmoid, _tanh = FUNCTIONS["sigmoid"], FUNCTIONS["tanh"]


def _rows(x: Tensor):
    """x's buffer with contiguous rows (the kernels read each row's columns in order)."""
    data = x._data
    return data if data.shape[-1] <= 1 or data.stride(-1) == 1 else x.contiguous()._data


class LstmCellGates(Function):
    @staticmethod
    def forward(ctx, gi, gh, c):
        c_data = _rows(c)
        h_new, c_new, gates = launch_lstm_cell_fwd(_rows(gi), _rows(gh), c_data)
        ctx.save_for_backward(gi, gh, c)  # (read again only by a create_graph backward)
        ctx.buffers = (gates, c_data, c_new)
        return Tensor._wrap(h_new), Tensor._wrap(c_new)

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        saved = ctx.saved_tensors  # (read in either path: an in-place write to c since is torch's error)
        if is_grad_enabled():  # create_graph: the same formulas, recorded
            return _composed_backward(*saved, grad_h, grad_c)
        gates, c, c_new = ctx.buffers
        wanted = [ctx.needs_input_grad[0], ctx.needs_input_grad[1]]
        grads, grad_c_prev = launch_lstm_cell_bwd(
            None if grad_h is None else grad_h.contiguous()._data,
            None if grad_c is None else grad_c.contiguous()._data,
            gates,
            c,
            c_new,
            copies=2 if all(wanted) else 1,  # (gi and gh each own their gradient)
        )
        grad_gi = Tensor._wrap(grads[0]) if wanted[0] else None
        grad_gh = Tensor._wrap(grads[-1]) if wanted[1] else None
        return grad_gi, grad_gh, Tensor._wrap(grad_c_prev) if ctx.needs_input_grad[2] else None


def _composed_backward(gi, gh, c, grad_h, grad_c):
    """LstmCellGates' backward from differentiable ops (for create_graph)."""
    a_i, a_f, a_g, a_o = (gi + gh).chunk(4, 1)
    i, f, g, o = _sigmoid(a_i), _sigmoid(a_f), _tanh(a_g), _sigmoid(a_o)
    tanh_c_new = _tanh(f * c + i * g)
    grad_c_new = 0.0
    if grad_h is not None:
        grad_c_new = grad_h * o * (1 - tanh_c_new * tanh_c_new)
    if grad_c is not None:
        grad_c_new = grad_c_new + grad_c
    grad_o = grad_h * tanh_c_new * o * (1 - o) if grad_h is not None else (o * 0)
    grad_gates = cat(
        [grad_c_new * g * i * (1 - i), grad_c_new * c * f * (1 - f), grad_c_new * i * (1 - g * g), grad_o], 1
    )
    return grad_gates, grad_gates, grad_c_new * f


def lstm_cell_gates(gi: Tensor, gh: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """(h', c') of an LSTM step from the gate pre-activations ``gi`` and ``gh`` (N, 4H) and ``c`` (N, H)."""
    return LstmCellGates.apply(gi, gh, c)
