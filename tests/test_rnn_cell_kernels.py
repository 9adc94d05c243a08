"""The fused LSTM gate kernels (kernels/rnn.py, ops/rnn_cell.py) against torch: nn.LSTM and
nn.LSTMCell values and gradients in float32/float64 (and bfloat16 values), edge sizes, the
gradients of h_n and c_n alone, a create_graph second derivative, and the launch count per step."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tests.utils import assert_close, from_torch


def _copy_weights(ours, theirs) -> None:
    with tritongrad.no_grad():
        for name, value in theirs.named_parameters():
            getattr(ours, name).copy_(from_torch(value.detach()))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("batch, hidden, steps", [(1, 1, 1), (3, 5, 4), (2, 37, 3)])
def test_lstm_values_and_gradients_match_torch(dtype, batch, hidden, steps):
    torch.manual_seed(batch * 100 + hidden)
    theirs = torch.nn.LSTM(4, hidden, num_layers=2, bidirectional=True).to(dtype)
    ours = tritongrad.nn.LSTM(4, hidden, num_layers=2, bidirectional=True).to(dtype)
    _copy_weights(ours, theirs)
    x = torch.randn(steps, batch, 4, dtype=dtype, requires_grad=True)
    h0, c0 = (torch.randn(4, batch, hidden, dtype=dtype, requires_grad=True) for _ in range(2))
    ox, oh0, oc0 = (from_torch(t.detach(), requires_grad=True) for t in (x, h0, c0))
    out, (h, c) = theirs(x, (h0, c0))
    o_out, (o_h, o_c) = ours(ox, (oh0, oc0))
    weights = [torch.randn(t.shape, dtype=dtype) for t in (out, h, c)]
    sum((t * w).sum() for t, w in zip((out, h, c), weights)).backward()
    sum((t * from_torch(w)).sum() for t, w in zip((o_out, o_h, o_c), weights)).backward()
    tolerance = 1e-5 if dtype == torch.float32 else 1e-10
    for got, want, what in [(o_out, out, "output"), (o_h, h, "h_n"), (o_c, c, "c_n"), (ox.grad, x.grad, "x.grad"),
                            (oh0.grad, h0.grad, "h0.grad"), (oc0.grad, c0.grad, "c0.grad")]:  # fmt: skip
        assert_close(got, want, rtol=tolerance, atol=tolerance, what=f"{what} {dtype} {(batch, hidden, steps)}")
    for name, value in theirs.named_parameters():
        assert_close(getattr(ours, name).grad, value.grad, rtol=tolerance, atol=tolerance, what=f"{name}.grad")


def _cell_state_gradients(lib):
    """Only c' (or only h') feeds the loss: the other output's gradient is absent."""
    torch.manual_seed(5)
    reference = torch.nn.LSTMCell(3, 4)
    cell = lib.nn.LSTMCell(3, 4)
    if lib is tritongrad:
        _copy_weights(cell, reference)
    else:
        cell = reference
    x = lib.tensor([[0.5, -1.0, 2.0], [0.25, 0.0, -0.5]], requires_grad=True)
    state = (lib.ones(2, 4) * 0.3, lib.ones(2, 4) * -0.2)
    h, c = cell(x, state)
    (c * c).sum().backward()
    only_c = x.grad.clone()
    x.grad = None
    h, c = cell(x, state)
    h.sum().backward()
    return [only_c, x.grad]


def _second_derivative(lib):
    torch.manual_seed(7)
    reference = torch.nn.LSTM(2, 3).double()
    lstm = lib.nn.LSTM(2, 3).double()
    if lib is tritongrad:
        _copy_weights(lstm, reference)
    else:
        lstm = reference
    x = lib.tensor([[[0.5, -1.0]], [[0.25, 2.0]]], dtype=lib.float64, requires_grad=True)
    (first,) = lib.autograd.grad(lstm(x)[0].pow(2).sum(), x, create_graph=True)
    (second,) = lib.autograd.grad(first.sum(), x)
    return [first, second]


def _cell_state_written_in_place_after_the_step(lib):
    """The fused backward reads c as it was: a later in-place write to it is torch's version error."""
    cell = lib.nn.LSTMCell(2, 3)
    c = lib.ones(1, 3, requires_grad=True) * 1
    h_new, c_new = cell(lib.ones(1, 2), (lib.zeros(1, 3), c))
    c.mul_(2)
    (h_new.sum() + c_new.sum()).backward()


@pytest.mark.parametrize(
    "case",
    [_cell_state_gradients, _second_derivative, _cell_state_written_in_place_after_the_step],
    ids=lambda f: f.__name__,
)
def test_lstm_cell_cases_as_torch(case):
    agree(case.__name__, case, [], message=True)


def test_bfloat16_lstm_is_close_to_torch():
    torch.manual_seed(3)
    theirs = torch.nn.LSTM(4, 8).bfloat16()
    ours = tritongrad.nn.LSTM(4, 8).bfloat16()
    _copy_weights(ours, theirs)
    x = torch.randn(3, 2, 4).bfloat16()
    assert_close(ours(from_torch(x))[0], theirs(x)[0], rtol=2e-2, atol=2e-2, what="bfloat16 LSTM output")


def test_one_gate_launch_each_way_per_step(monkeypatch):
    """The gate arithmetic of a step is one forward and one backward launch (was ~30 elementwise ones)."""
    import triton.runtime.interpreter as interpreter

    if tritongrad.cuda.is_available():
        pytest.skip("counts interpreter launches")
    lstm = tritongrad.nn.LSTM(3, 4)
    x = tritongrad.randn(5, 2, 3)
    names = []
    original = interpreter.InterpretedFunction.run

    def counting(self, *args, **kwargs):
        names.append(self.fn.__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(interpreter.InterpretedFunction, "run", counting)
    lstm(x)[0].sum().backward()
    assert names.count("lstm_cell_fwd_kernel") == 5 and names.count("lstm_cell_bwd_kernel") == 5, names
    assert len(names) < 60, f"{len(names)} launches for 5 steps: {names}"
