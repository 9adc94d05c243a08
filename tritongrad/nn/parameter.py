"""nn.Parameter: a Tensor that a Module registers as a learnable parameter; nn.Buffer: one it registers as
a buffer; UninitializedParameter/UninitializedBuffer: the lazy layers' placeholders of unknown shape."""

from __future__ import annotations

from tritongrad import creation
from tritongrad.dtypes import python_type_name
from tritongrad.tensor import FACTORY_REQUIRES_GRAD_DTYPE_ERROR, Tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy"]


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
            if not hasattr(data, "detach"):  # (torch's Parameter calls data.detach() on what is not a Tensor)
                raise AttributeError(f"'{type(data).__name__}' object has no attribute 'detach'")
            raise TypeError(f"Parameter expects a Tensor, got {type(data).__name__}")
        # torch's Parameter is an alias of data.detach(): the same memory and version counter, an inference
        # tensor when data is one (made outside inference_mode it may be written, but not require grad)
        if type(requires_grad) is not bool:  # (torch's _make_subclass parses it: its TypeError)
            raise TypeError(
                f"_make_subclass(): argument 'require_grad' (position 3) must be bool, not "
                f"{python_type_name(requires_grad)}"
            )
        alias = data.detach()
        self._init_fields(alias._data, version_counter=alias._version_counter)
        if self._is_inference is not alias._is_inference:
            self._is_inference = alias._is_inference
        if requires_grad and not (data.dtype.is_floating_point or data.dtype.is_complex):
            raise RuntimeError(FACTORY_REQUIRES_GRAD_DTYPE_ERROR)
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        # torch prints a Parameter's values as a plain tensor's; a subclass's under its own name,
        # wrapped in "Parameter(...)".
        if type(self) is Parameter:
            return "Parameter containing:\n" + self._format_repr("tensor(")
        return "Parameter containing:\nParameter(" + super().__repr__() + ")"


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


_UNINITIALIZED_SHAPE = (
    "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
    "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. "
    "Call `forward` to initialize the parameters before accessing their attributes."
)


class _Uninitialized:
    """What the lazy placeholders share: no shape until ``materialize(shape)`` gives them memory
    (uninitialised values) and makes them the class they stand for (``_becomes``). Reading the shape
    before that raises, as torch's."""

    _becomes: type

    def materialize(self, shape, device=None, dtype=None) -> None:
        placeholder = self._data
        self._data = creation.empty(
            *shape, device=device or placeholder.device, dtype=dtype or placeholder.dtype
        )._data  # fmt: skip
        self.__class__ = self._becomes

    @property
    def shape(self):
        raise RuntimeError(_UNINITIALIZED_SHAPE)

    def size(self, dim=None):
        return self.shape

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    __str__ = __repr__


class UninitializedParameter(_Uninitialized, Parameter):
    """A lazy layer's parameter of unknown shape; a Parameter once materialized."""

    _becomes = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        super().__init__(creation.empty(0, device=device, dtype=dtype), requires_grad)

    def __deepcopy__(self, memo: dict) -> UninitializedParameter:
        """Another placeholder of the same device and dtype (there are no values to copy), as torch's."""
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self._data.device, self._data.dtype)
        return memo[id(self)]


class UninitializedBuffer(_Uninitialized, Tensor):
    """A lazy norm layer's running statistic of unknown shape; a plain Tensor once materialized."""

    _becomes = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None, persistent: bool = True) -> None:
        self._init_fields(creation.empty(0, device=device, dtype=dtype)._data)
        self.requires_grad = requires_grad
        self.persistent = persistent

    def __deepcopy__(self, memo: dict) -> UninitializedBuffer:
        """Another placeholder of the same device, dtype and persistence (there are no values to copy)."""
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self._data.device, self._data.dtype, self.persistent)
        return memo[id(self)]


def is_lazy(param) -> bool:
    """Whether ``param`` is a lazy layer's placeholder still waiting for its shape."""
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))
