"""``torch.autograd.Variable``: the pre-0.4 wrapper, today a Tensor. ``Variable(x)`` is a new leaf
sharing x's memory (``requires_grad`` as given), and every tensor is an instance of it."""

from __future__ import annotations

from tritongrad.tensor import Tensor

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False, volatile=False)`` -> a Tensor (volatile is ignored, as
    torch ignores it)."""

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        if data is None:
            return Tensor()
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        leaf = Tensor(data)
        if requires_grad:
            leaf.requires_grad_(True)
        return leaf
