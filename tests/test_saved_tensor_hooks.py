"""torch.autograd.graph's saved-tensor hooks against torch: what pack/unpack see and the gradients that
come out, save_on_cpu on a small network, disable_saved_tensors_hooks, increment_version."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch


def _hooked_chain(lib):
    log = []

    def pack(tensor):
        log.append(("pack", tuple(tensor.shape)))
        return tensor * 1

    def unpack(packed):
        log.append(("unpack", tuple(packed.shape)))
        return packed

    a = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
    b = lib.tensor([1.5, -1.0, 0.25], requires_grad=True) * 2
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        out = (a * b).exp().sum()
    out.backward()
    return log, a.grad


def test_pack_and_unpack_see_what_torchs_see():
    expected_log, expected_grad = _hooked_chain(torch)
    actual_log, actual_grad = _hooked_chain(tritongrad)
    assert actual_log == expected_log
    assert_close(actual_grad, expected_grad)


def test_unpack_result_is_what_the_backward_uses():
    """An unpack that scales what was saved changes the gradient as it does in torch."""
    grads = []
    for lib in (torch, tritongrad):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t * 10):
            y = (x * x).sum()
        y.backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]


def test_save_on_cpu_trains_like_torch():
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1))
    ours = tritongrad.nn.Sequential(tritongrad.nn.Linear(4, 5), tritongrad.nn.Tanh(), tritongrad.nn.Linear(5, 1))
    ours.load_state_dict({key: from_torch(value) for key, value in reference.state_dict().items()})
    x = torch.randn(3, 4)
    with torch.autograd.graph.save_on_cpu():
        reference(x).pow(2).sum().backward()
    with tritongrad.autograd.graph.save_on_cpu(pin_memory=True):
        ours(from_torch(x)).pow(2).sum().backward()
    for mine, theirs in zip(ours.parameters(), reference.parameters(), strict=True):
        assert_close(mine.grad, theirs.grad, rtol=1e-5, atol=1e-6)


def test_disable_saved_tensors_hooks_refuses_registration():
    for lib in (torch, tritongrad):
        with lib.autograd.graph.disable_saved_tensors_hooks("hooks are off here"):
            with pytest.raises(RuntimeError, match="hooks are off here"):
                with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass


def test_increment_version_makes_a_saved_tensor_stale():
    for lib in (torch, tritongrad):
        x = lib.ones(3, requires_grad=True)
        y = x * 1
        z = (y * y).sum()
        lib.autograd.graph.increment_version(y)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.backward()
