"""nn.Parameter: a Tensor that a Module registers as a learnable parameter."""

from __future__ import annotations

from tritongrad import creation
from tritongrad.tensor import Tensor

__all__ = ["Parameter"]


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
