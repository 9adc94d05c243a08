"""Outputs torch records with a node whose backward refuses, for ops its derivatives table marks "not
implemented" (``unique``'s values): they require grad when the input does, show torch's node name, and a
backward through them raises torch's NotImplementedError, where an output outside the graph would give
the "does not require grad" error instead."""

from __future__ import annotations

from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.tensor import Tensor

__all__ = ["without_derivative"]


class _NoDerivative(Function):
    derivative: str  # (torch's name in its message: '_unique2', 'unique_dim', ...)
    _tensor_options = (1,)  # (the output itself is no input of torch's node)

    @staticmethod
    def forward(ctx, input, output):
        return output  # (apply hands back a new tensor over the same memory)

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError(f"the derivative for '{ctx._function.derivative}' is not implemented.")


_NODES: dict[str, type[_NoDerivative]] = {}


def without_derivative(input: Tensor, output: Tensor, derivative: str, node_name: str) -> Tensor:
    """``output`` (computed from ``input`` outside the graph), recorded after ``input`` by a node named
    ``node_name`` whose backward raises torch's error for ``derivative``; unchanged when nothing records."""
    if not (input.requires_grad and is_grad_enabled()) or not (output.is_floating_point() or output.is_complex()):
        return output
    node = _NODES.get(node_name)
    if node is None:
        node = _NODES[node_name] = type(node_name, (_NoDerivative,), {"derivative": derivative,
                                                                      "_backward_name": node_name})  # fmt: skip
    return node.apply(input, output)
