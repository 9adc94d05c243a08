"""What the autograd hook registrations return, as torch's: a ``torch.utils.hooks.RemovableHandle`` whose
``remove()`` drops that registration only (the same function registered twice runs until each handle is
removed), also from inside the hook while backward runs; and the gradients that result, compared with torch."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tritongrad.utils.hooks import RemovableHandle


def _leaf(lib):
    return lib.tensor([1.0, -2.0, 3.0], requires_grad=True)


# Each case: register(lib, x, calls) registers hooks on x or its graph (appending to ``calls`` when they
# run) and returns (handles, output to backward).
def _tensor_hook(lib, x, calls):
    def double(grad):
        calls.append("double")
        return grad * 2

    return [x.register_hook(double), x.register_hook(double)], x * 1


def _non_leaf_hook(lib, x, calls):
    y = x * 3

    def add_one(grad):
        calls.append("add_one")
        return grad + 1

    return [y.register_hook(add_one), y.register_hook(add_one)], y


def _node_prehook(lib, x, calls):
    y = x * 3

    def scale(grad_outputs):
        calls.append("scale")
        return (grad_outputs[0] * 10,)

    return [y.grad_fn.register_prehook(scale), y.grad_fn.register_prehook(scale)], y


def _node_hook(lib, x, calls):
    y = x * x

    def seen(grad_inputs, grad_outputs):
        calls.append("seen")

    return [y.grad_fn.register_hook(seen), y.grad_fn.register_hook(seen)], y


def _post_accumulate(lib, x, calls):
    def seen(tensor):
        calls.append("post")

    return [x.register_post_accumulate_grad_hook(seen), x.register_post_accumulate_grad_hook(seen)], x * 1


REGISTRATIONS = {
    "Tensor.register_hook on a leaf": _tensor_hook,
    "Tensor.register_hook on a non-leaf": _non_leaf_hook,
    "Node.register_prehook": _node_prehook,
    "Node.register_hook": _node_hook,
    "register_post_accumulate_grad_hook": _post_accumulate,
}


def _run(lib, register, removed: int):
    """The calls and x.grad of a backward after removing the first ``removed`` handles."""
    x, calls = _leaf(lib), []
    handles, y = register(lib, x, calls)
    for handle in handles[:removed]:
        handle.remove()
    y.sum().backward()
    return handles, calls, x.grad.tolist()


@pytest.mark.parametrize("removed", [0, 1, 2])
@pytest.mark.parametrize("name", REGISTRATIONS)
def test_handles_remove_one_registration_each(name, removed):
    ours_handles, *ours = _run(tritongrad, REGISTRATIONS[name], removed)
    theirs_handles, *theirs = _run(torch, REGISTRATIONS[name], removed)
    assert ours == theirs, f"{name}, {removed} removed: tritongrad {ours} torch {theirs}"
    assert all(isinstance(handle, RemovableHandle) for handle in ours_handles), [type(h) for h in ours_handles]
    assert [type(h).__name__ for h in ours_handles] == [type(h).__name__ for h in theirs_handles]
    assert ours_handles[0].id < ours_handles[1].id


def test_a_hook_removing_itself_while_backward_runs():
    def run(lib):
        x, calls = _leaf(lib), []
        y = x * 2

        def once(grad):
            calls.append("once")
            handle.remove()
            return grad * 5

        handle = y.register_hook(once)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        return calls, x.grad.tolist()

    assert run(tritongrad) == run(torch)
