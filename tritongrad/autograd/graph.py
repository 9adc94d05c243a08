"""``torch.autograd.graph``: the graph's node type, gradient edges, hooks over several tensors, and the hooks
on what nodes save (saved_hooks.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from tritongrad.autograd import engine
from tritongrad.autograd.function import GradientEdge, Node, grad_accumulator
from tritongrad.autograd.saved_hooks import disable_saved_tensors_hooks, save_on_cpu, saved_tensors_hooks
from tritongrad.hooks import RemovableHandle
from tritongrad.tensor import Tensor

__all__ = ["Node", "GradientEdge", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "increment_version", "get_gradient_edge", "register_multi_grad_hook"]  # fmt: skip


def increment_version(tensor) -> None:
    """Marks ``tensor`` (or each tensor of an iterable) as modified in place: its version counter goes up,
    as an in-place op's would."""
    tensors = (tensor,) if isinstance(tensor, Tensor) else tensor
    try:
        tensors = tuple(tensors)
    except TypeError:
        raise RuntimeError("increment_version expect a Iterable[Tensor] as input") from None
    if not all(isinstance(t, Tensor) for t in tensors):
        raise RuntimeError("increment_version expects each element of the iterable to be a tensor")
    for t in tensors:
        if not t._is_inference:  # (an inference tensor has no version counter in torch: nothing to bump)
            t._version_counter.bump()


def _node_of(tensor) -> Node:
    """The node where ``tensor``'s gradient is computed: its grad_fn, or a leaf's AccumulateGrad."""
    if isinstance(tensor, GradientEdge):
        return tensor.node
    return tensor.grad_fn if tensor.grad_fn is not None else grad_accumulator(tensor)


def get_gradient_edge(tensor) -> GradientEdge:
    """The edge where ``tensor``'s gradient is computed: ``autograd.grad(loss, get_gradient_edge(x))``
    is ``autograd.grad(loss, x)``."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require gradients")
    return GradientEdge(_node_of(tensor), tensor.output_nr)


class _MultiHandle(RemovableHandle):
    """One handle for the tensor hooks of a multi-grad hook."""

    def __init__(self, handles: tuple) -> None:
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def __getstate__(self) -> tuple:
        return self.handles

    def __setstate__(self, state: tuple) -> None:
        self.handles = state


def register_multi_grad_hook(tensors: Sequence, fn: Callable, *, mode: str = "all") -> RemovableHandle:
    """``fn`` runs once per backward over several tensors: with mode ``"all"`` after the gradient of each
    one that backward computes has arrived (``fn(grads)``, None for the others); with mode ``"any"`` on
    the first of them (``fn(grad)``). Returns one handle for all. (torch's, on tensor hooks.)"""
    supported_modes = ("all", "any")
    if mode not in supported_modes:
        raise ValueError(f"Expects mode to be one of {supported_modes} but got {mode}")
    lock = threading.Lock()
    if mode == "all":
        count: dict[int, int] = {}
        expected: dict[int, int] = {}
        buffer: dict[int, list] = {}
        nodes = [_node_of(t) for t in tensors]

        def inner_hook(index: int):
            def hook(grad) -> None:
                task = engine.current_graph_task_id()
                with lock:
                    if task not in count:  # the first call of this backward: how many will come
                        count[task] = 0
                        expected[task] = sum(map(engine.will_engine_execute_node, nodes))
                        buffer[task] = [None] * len(nodes)
                    buffer[task][index] = grad
                    count[task] += 1
                    done = count[task] == expected[task]
                    if done:
                        grads = buffer.pop(task)
                        del count[task], expected[task]
                if done:
                    fn(grads)

            return hook

        return _MultiHandle(tuple(t.register_hook(inner_hook(i)) for i, t in enumerate(tensors)))
    ran: set[int] = set()

    def any_hook(grad) -> None:
        task = engine.current_graph_task_id()
        with lock:
            first = task not in ran
            ran.add(task)
        if first:
            fn(grad)

    return _MultiHandle(tuple(t.register_hook(any_hook) for t in tensors if t.requires_grad))
