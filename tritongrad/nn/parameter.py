"""nn.Parameter: a Tensor that a Module registers as a learnable parameter; nn.Buffer: one it registers as
a buffer."""

from __future__ import annotations

from tritongrad import creation
from tritongrad.tensor import Tensor

__all__ = ["Parameter", "Buffer"]


class Parameter(Tensor):
    """A leaf Tensor that requires grad by default and is registered when assigned to a Module.

    It shares memory with the tensor it is made from, like torch's.

    Example::

        >>> w = nn.Parameter(tritongrad.ones(2))
        >>> w
        Parameter containing:
        tensor([1., 1.], requires_grad=True)
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            data = creation.empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter expects a Tensor, got {type(data).__name__}")
        self._init_fields(data._data)
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return super().__repr__(prefix="Parameter containing:\ntensor(")

    __str__ = __repr__


class _BufferMeta(type):
    """``isinstance(t, Buffer)`` is true for the tensors Buffer(...) made (as torch's metaclass does)."""

    def __instancecheck__(cls, instance) -> bool:
        if cls is Buffer and isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False):
            return True
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute (torch 2.5's
    nn.Buffer): ``self.x = nn.Buffer(t, persistent=False)`` is ``self.register_buffer("x", t, False)``.

    As torch's, it returns ``t.detach()`` (a plain Tensor sharing t's memory, keeping its requires_grad)
    tagged as a buffer.

    Example::

        >>> m = nn.Module()
        >>> m.steps = nn.Buffer(tritongrad.zeros(1))
        >>> list(m.state_dict())
        ['steps']
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = creation.empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer expects a Tensor, got {type(data).__name__}")
        tensor = data.detach().requires_grad_(data.requires_grad)
        tensor.persistent = persistent
        tensor._is_buffer = True
        return tensor
