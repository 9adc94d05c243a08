"""tritongrad's Tensor: a torch buffer plus the autograd fields, with torch's API on top.

The buffer (``_data``) is a torch tensor used only as memory: its shape,
strides, dtype and device. Every computation on it is one of tritongrad's
Triton kernels, reached through the op modules in ``tritongrad/ops``.

Autograd fields follow torch: ``requires_grad``, ``grad``, ``grad_fn`` (the node
that produced the tensor; None for leaves), ``is_leaf``, ``retain_grad()``,
``register_hook``. Views share a version counter with their base; in-place
ops bump it, which is how a saved tensor modified after the forward pass is
detected at backward time.
"""

from __future__ import annotations

import builtins
import warnings
import weakref
from typing import Any

import numpy as np
import torch

from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import as_python_scalar, dtype_from_type_name, tensor_type_name
from tritongrad.kernels.strided import check_no_partial_overlap

__all__ = ["Tensor"]


class _VersionCounter:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        self.value += 1


class _RemovableHandle:
    def __init__(self, hooks: list, hook) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


_warned_once: dict[str, bool] = {}  # torch warns about some deprecations once per process


def _operand(value):
    """The other operand of an operator: numpy scalars and 0-d arrays become Python numbers, numpy
    arrays become tensors (as torch ingests them); anything else is left to the op to check."""
    value = as_python_scalar(value)
    if isinstance(value, np.ndarray):
        from tritongrad import creation  # creation imports this module (the circle issue 15 removes)

        return creation.tensor(value)
    return value


def _ops():
    from tritongrad import ops

    return ops


class Tensor:
    """A multi-dimensional array whose operations run as Triton kernels (see module docstring)."""

    _data: torch.Tensor
    # Above numpy's own, as torch's: ``np.float64(2) * t`` and ``array + t`` defer to the Tensor's
    # reflected operator instead of numpy converting the Tensor to an array.
    __array_priority__ = 1000

    # ------------------------------------------------------------------ construction
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """``Tensor(data)`` (float32 from a list) or ``Tensor(*sizes)`` (uninitialised float32), like torch."""
        from tritongrad import runtime

        if len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray)) and not kwargs:
            data = torch.tensor(args[0], dtype=torch.float32)
        elif all(isinstance(a, int) for a in args):
            data = torch.empty(args, dtype=torch.float32)
        else:
            raise TypeError("Tensor(): expected a list of numbers or integer sizes; use tritongrad.tensor(...)")
        self._init_fields(data.to(runtime.device()))

    def _init_fields(self, data: torch.Tensor, requires_grad: bool = False, version_counter=None) -> None:
        self._data = data
        self._requires_grad = False
        self._grad = None
        self._grad_fn = None
        self._output_nr = 0
        self._version_counter = version_counter if version_counter is not None else _VersionCounter()
        self._retains_grad = False
        self._base = None
        # Bumped when this tensor's history is replaced by an in-place op; a view whose epoch
        # differs from its base's takes a fresh history from the base before it is used.
        self._history_epoch = 0
        self._accumulator = None
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data: torch.Tensor, requires_grad: bool = False, version_counter=None) -> Tensor:
        """A Tensor over an existing torch buffer (no copy)."""
        tensor = object.__new__(cls)
        tensor._init_fields(data, requires_grad, version_counter)
        return tensor

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> torch.Size:
        return self._data.shape

    def size(self, dim: int | None = None):
        """The shape (a torch.Size), or the size of one dim."""
        if dim is None:
            return self._data.shape
        return self._data.shape[_ops().views.normalize_dim(dim, self.dim())] if self.dim() else 1

    @property
    def ndim(self) -> int:
        return self._data.dim()

    def dim(self) -> int:
        return self._data.dim()

    ndimension = dim

    def numel(self) -> int:
        return self._data.numel()

    nelement = numel

    @property
    def dtype(self) -> torch.dtype:
        return self._data.dtype

    @property
    def device(self) -> torch.device:
        return self._data.device

    @property
    def is_cuda(self) -> bool:
        return self._data.is_cuda

    def stride(self, dim: int | None = None):
        return self._data.stride() if dim is None else self._data.stride(dim)

    def storage_offset(self) -> int:
        return self._data.storage_offset()

    def data_ptr(self) -> int:
        return self._data.data_ptr()

    def element_size(self) -> int:
        return self._data.element_size()

    def is_contiguous(self) -> bool:
        return self._data.is_contiguous()

    def is_floating_point(self) -> bool:
        return self._data.dtype.is_floating_point

    @property
    def _version(self) -> int:
        return self._version_counter.value

    def __len__(self) -> int:
        if self.dim() == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ------------------------------------------------------------------ autograd fields
    @property
    def grad_fn(self):
        """The node that made this tensor (None for leaves); a view of a base rewritten in place
        since the view was made gets a fresh one (AsStridedBackward0), as in torch."""
        if self._base is not None:
            self._refresh_view_history()
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node) -> None:
        self._grad_fn = node

    @property
    def requires_grad(self) -> bool:
        if self._base is not None:
            self._refresh_view_history()
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if self.grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
                )
            return
        if value and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Sets ``requires_grad`` in place and returns self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        if not self.is_leaf and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of {type(value).__name__}")
            if tuple(value.shape) != tuple(self.shape):
                raise RuntimeError("assigned grad has data of a different size")
            if value.dtype != self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if value.device != self.device:
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Makes a non-leaf tensor keep its ``.grad`` after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.is_leaf or self._retains_grad:
            return
        self.grad_fn._retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook):
        """``hook(grad)`` runs when the gradient for this tensor is computed; it may return a replacement."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node, output_nr = (self._grad_accumulator(), 0) if self.is_leaf else (self.grad_fn, self._output_nr)
        if self.is_leaf:
            # A leaf normally holds its AccumulateGrad node weakly (the graph keeps it alive while
            # needed); a node carrying hooks must outlive the graphs, so the leaf holds it.
            self._hooked_accumulator = node
        hooks = node._tensor_pre_hooks.setdefault(output_nr, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def _grad_accumulator(self):
        from tritongrad.autograd.function import AccumulateGrad

        node = self._accumulator() if self._accumulator is not None else None
        if node is None:
            node = AccumulateGrad(self)
            self._accumulator = weakref.ref(node)
        return node

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
        """Computes the gradient of this tensor w.r.t. the graph leaves (accumulated into ``.grad``)."""
        from tritongrad.autograd import backward as autograd_backward

        autograd_backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A tensor sharing this data (and version counter), outside the graph."""
        detached = Tensor._wrap(self._data, version_counter=self._version_counter)
        return detached

    def detach_(self) -> Tensor:
        """Detaches this tensor from the graph in place, making it a leaf."""
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        """This tensor's data without autograd history; in-place changes through it are not tracked."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    # ------------------------------------------------------------------ readback
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        return self._data.item()

    def tolist(self):
        """The values as (nested) Python lists."""
        return self._data.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """A numpy array of the values (sharing memory for CPU tensors, like torch)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self.device.type != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
                    "to host memory first."
                )
            return self._data.cpu().numpy()
        return self._data.numpy()

    def __array__(self, dtype=None, copy=None):
        array = self.detach().cpu().numpy()
        return array.astype(dtype) if dtype is not None else array

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __repr__(self, *, prefix: str = "tensor(") -> str:
        from tritongrad.formatting import format_tensor

        suffixes = []
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        values = self._data.tolist()
        return format_tensor(values, tuple(self.shape), self.dtype, self.device, suffixes=suffixes, prefix=prefix)

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        if self.dim() == 0:
            return self.item().__format__(format_spec)
        return builtins.format(repr(self), format_spec)

    __hash__ = object.__hash__

    def __iter__(self):
        if self.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reduce_ex__(self, protocol):
        raise TypeError("tritongrad tensors are not picklable; use tritongrad.save (safetensors) instead")

    # ------------------------------------------------------------------ devices and dtypes
    def to(self, *args, **kwargs) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; returns self if nothing changes."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, torch.dtype):
                dtype = arg
            elif isinstance(arg, Tensor):
                dtype, device = arg.dtype, arg.device
            elif isinstance(arg, (str, torch.device)):
                device = arg
            else:
                raise TypeError(f"to() received an invalid argument {arg!r}")
        if device is not None:
            device = torch.device(device)
            if device.type == "cuda" and device.index is None:
                device = torch.device("cuda", torch.cuda.current_device())
        same_dtype = dtype is None or dtype == self.dtype
        same_device = device is None or device == self.device
        if same_dtype and same_device and not copy:
            return self
        return _ops().views.ToCopy.apply(self, dtype, device)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None) -> Tensor:
        return self.to(torch.device("cuda", device) if isinstance(device, int) else (device or "cuda"))

    def float(self) -> Tensor:
        return self.to(torch.float32)

    def double(self) -> Tensor:
        return self.to(torch.float64)

    def half(self) -> Tensor:
        return self.to(torch.float16)

    def bfloat16(self) -> Tensor:
        return self.to(torch.bfloat16)

    def int(self) -> Tensor:
        return self.to(torch.int32)

    def long(self) -> Tensor:
        return self.to(torch.int64)

    def bool(self) -> Tensor:
        return self.to(torch.bool)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def type(self, dtype=None):
        """With no argument, torch's type name (``torch.FloatTensor``); else a copy converted to
        ``dtype`` (a dtype or a type name such as ``"torch.DoubleTensor"``)."""
        if dtype is None:
            return tensor_type_name(self.dtype, self.device)
        return self.to(dtype_from_type_name(dtype) if isinstance(dtype, str) else dtype)

    # ------------------------------------------------------------------ arithmetic operators
    def __add__(self, other):
        other = _operand(other)
        return _ops().add(self, other)

    def __radd__(self, other):
        other = _operand(other)
        return _ops().add(self, other)

    def __sub__(self, other):
        other = _operand(other)
        return _ops().sub(self, other)

    def __rsub__(self, other):
        other = _operand(other)
        return _ops().rsub(self, other)

    def __mul__(self, other):
        other = _operand(other)
        return _ops().mul(self, other)

    def __rmul__(self, other):
        other = _operand(other)
        return _ops().mul(self, other)

    def __truediv__(self, other):
        other = _operand(other)
        return _ops().div(self, other)

    def __rtruediv__(self, other):
        other = _operand(other)
        # torch computes number / tensor as tensor.reciprocal() * number (MulBackward0).
        return _ops().mul(_ops().reciprocal(self), other)

    def __floordiv__(self, other):
        other = _operand(other)
        return _ops().floor_divide(self, other)

    def __rfloordiv__(self, other):
        other = _operand(other)
        return _ops().floor_divide(other, self)

    def __mod__(self, other):
        other = _operand(other)
        return _ops().remainder(self, other)

    def __rmod__(self, other):
        other = _operand(other)
        return _ops().remainder(other, self)

    def __pow__(self, other):
        other = _operand(other)
        return _ops().pow(self, other)

    def __rpow__(self, other):
        other = _operand(other)
        return _ops().pow(other, self)

    def __matmul__(self, other):
        other = _operand(other)
        return _ops().matmul(self, other)

    def __rmatmul__(self, other):
        other = _operand(other)
        return _ops().matmul(other, self)

    def __neg__(self):
        return _ops().neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops().abs(self)

    def __invert__(self):
        if self.dtype != torch.bool:
            raise TypeError(f"~ (bitwise not) is only supported for bool tensors in tritongrad, got {self.dtype}")
        return _ops().logical_not(self)

    def __and__(self, other):
        other = _operand(other)
        return _ops().logical_and(self, other)

    def __or__(self, other):
        other = _operand(other)
        return _ops().logical_or(self, other)

    def __xor__(self, other):
        other = _operand(other)
        return _ops().logical_xor(self, other)

    __rand__ = __and__
    __ror__ = __or__
    __rxor__ = __xor__

    def __eq__(self, other):
        other = _operand(other)
        return _ops().eq(self, other)

    def __ne__(self, other):
        other = _operand(other)
        return _ops().ne(self, other)

    def __lt__(self, other):
        other = _operand(other)
        return _ops().lt(self, other)

    def __le__(self, other):
        other = _operand(other)
        return _ops().le(self, other)

    def __gt__(self, other):
        other = _operand(other)
        return _ops().gt(self, other)

    def __ge__(self, other):
        other = _operand(other)
        return _ops().ge(self, other)

    def __iadd__(self, other):
        other = _operand(other)
        return self.add_(other)

    def __isub__(self, other):
        other = _operand(other)
        return self.sub_(other)

    def __imul__(self, other):
        other = _operand(other)
        return self.mul_(other)

    def __itruediv__(self, other):
        other = _operand(other)
        return self.div_(other)

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, key):
        return _ops().indexing.getitem(self, key)

    def __setitem__(self, key, value) -> None:
        _ops().indexing.setitem(self, key, value)

    # ------------------------------------------------------------------ in-place ops
    def _check_inplace(self) -> None:
        """torch's rules for writing in place into a tensor that takes part in autograd."""
        if not is_grad_enabled():
            return
        if self.is_leaf and self.requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        base = self._base
        if base is not None and base.requires_grad and base.is_leaf:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        if base is not None and base.requires_grad and not self.requires_grad:
            raise RuntimeError(
                "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given "
                "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
                "moving both the view and the inplace either both inside the no_grad block (if you don't want the "
                "inplace to be tracked) or both outside (if you want the inplace to be tracked)."
            )

    def _refresh_view_history(self) -> None:
        """A view whose base's history was replaced in place (after the view was made) takes a fresh
        history from the base, as torch regenerates a view's grad_fn (AsStridedBackward0)."""
        base = self._base
        if base is None or self._history_epoch == base._history_epoch or not is_grad_enabled():
            return
        self._history_epoch = base._history_epoch
        if base._requires_grad:
            fresh = _ops().views.AsStridedView.apply(base, _ops().views.view_geometry(self))
            self._grad_fn, self._output_nr, self._requires_grad = fresh._grad_fn, 0, True

    def _apply_inplace(self, out_of_place, kernel_into, other=None) -> Tensor:
        """Runs an in-place op: straight into the buffer when nothing is recorded, else out of place
        on a snapshot of self, copied back, with self's grad_fn moved to the new node (for a view:
        the base's history becomes a CopySlices node, see ops/views.py)."""
        self._check_inplace()  # (reading grad_fn/requires_grad there refreshes a stale view's history)
        recording = is_grad_enabled() and (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad))
        if not recording:
            kernel_into()
            self._version_counter.bump()
            return self
        if isinstance(other, Tensor):  # the kernel that would check it runs on a snapshot here
            check_no_partial_overlap(self._data, other._data)
        snapshot = Tensor._wrap(_ops().views.contiguous_copy(self)._data)
        snapshot.grad_fn, snapshot._output_nr, snapshot._requires_grad = (
            self.grad_fn,
            self._output_nr,
            self.requires_grad,
        )
        result = out_of_place(snapshot)
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(
                f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(result.shape)}"
            )
        from tritongrad.kernels import elementwise as elementwise_kernels

        elementwise_kernels.launch_unary("copy", result._data, out=self._data)
        self._version_counter.bump()
        if self._base is not None:
            _ops().views.rebase_after_write_through_view(self, result)
            return self
        self.grad_fn, self._output_nr, self._requires_grad = result.grad_fn, result._output_nr, result.requires_grad
        self._history_epoch += 1
        return self

    def add_(self, other, *, alpha=None) -> Tensor:
        ops = _ops()
        return self._apply_inplace(
            lambda s: ops.add(s, other, alpha=alpha),
            lambda: ops.elementwise.binary_forward("add", self, other, alpha=alpha, out=self),
            other,
        )

    def sub_(self, other, *, alpha=None) -> Tensor:
        ops = _ops()
        return self._apply_inplace(
            lambda s: ops.sub(s, other, alpha=alpha),
            lambda: ops.elementwise.binary_forward("sub", self, other, alpha=alpha, out=self),
            other,
        )

    def mul_(self, other) -> Tensor:
        ops = _ops()
        return self._apply_inplace(
            lambda s: ops.mul(s, other), lambda: ops.elementwise.binary_forward("mul", self, other, out=self), other
        )

    def div_(self, other) -> Tensor:
        ops = _ops()
        return self._apply_inplace(
            lambda s: ops.div(s, other), lambda: ops.elementwise.binary_forward("div", self, other, out=self), other
        )

    def pow_(self, exponent) -> Tensor:
        ops = _ops()
        return self._apply_inplace(
            lambda s: ops.pow(s, exponent),
            lambda: ops.elementwise.binary_forward("pow", self, exponent, out=self),
            exponent,
        )

    def clamp_(self, min=None, max=None) -> Tensor:
        ops = _ops()
        return self._apply_inplace(
            lambda s: ops.clamp(s, min, max), lambda: ops.elementwise.clamp_forward(self, min, max, out=self)
        )

    clip_ = clamp_

    def zero_(self) -> Tensor:
        """Fills with zeros in place."""
        return self.fill_(0)

    def fill_(self, value) -> Tensor:
        """Fills with ``value`` (a number or a one-element tensor) in place."""
        from tritongrad.kernels import creation as creation_kernels

        if isinstance(value, Tensor):
            value = value.item()
        self._check_inplace()
        if is_grad_enabled() and self.requires_grad:
            # Recorded as where(False, s, value): the gradient to s is zero, and unlike s * 0 + value
            # an inf/NaN in s cannot leak into the result.
            return self._apply_inplace(lambda s: _ops().where(_nowhere(s), s, value), lambda: None)
        creation_kernels.launch_fill_(self._data, value)
        self._version_counter.bump()
        return self

    def copy_(self, source: Tensor) -> Tensor:
        """Copies ``source`` (broadcast to self's shape, converted to self's dtype) into self."""
        from tritongrad.kernels import elementwise as elementwise_kernels

        if not isinstance(source, Tensor):
            raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(source).__name__}")
        data = source._data
        if data.device != self.device:
            data = data.to(self.device)
        expanded = data.expand(self.shape) if tuple(data.shape) != tuple(self.shape) else data
        return self._apply_inplace(
            lambda s: _ops().where(_nowhere(s), s, source.to(self.dtype).expand(self.shape)),
            lambda: elementwise_kernels.launch_unary("copy", expanded, out=self._data),
            source,
        )

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None, **kwargs) -> Tensor:
        return _ops().random.uniform_(self, a, b, generator=generator, **kwargs)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
        return _ops().random.normal_(self, mean, std, generator=generator)

    def exponential_(self, lambd: float = 1.0, *, generator=None) -> Tensor:
        return _ops().random.exponential_(self, lambd, generator=generator)

    def random_(self, *args, generator=None, **kwargs) -> Tensor:
        return _ops().random.random_(self, *args, generator=generator, **kwargs)

    def bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
        return _ops().random.bernoulli_(self, p, generator=generator)

    def bernoulli(self, p: float | None = None, *, generator=None) -> Tensor:
        return _ops().random.bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
        return _ops().random.multinomial(self, num_samples, replacement, generator=generator)

    # ------------------------------------------------------------------ views
    @property
    def T(self) -> Tensor:
        if self.dim() != 2:
            if not _warned_once.get("T"):
                _warned_once["T"] = True
                warnings.warn(
                    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it "
                    "will throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
                    "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
                    UserWarning,
                    stacklevel=2,
                )
            return self.permute(*range(self.dim() - 1, -1, -1))
        return self.t()

    @property
    def mT(self) -> Tensor:
        if self.dim() < 2:
            raise RuntimeError(
                f"tensor.mT is only supported on matrices or batches of matrices. Got {self.dim()}-D tensor."
            )
        return self.transpose(-2, -1)

    def view(self, *shape) -> Tensor:
        """A view with a new shape (no copy); fails like torch if the strides do not allow it."""
        if len(shape) == 1 and isinstance(shape[0], torch.dtype):
            raise NotImplementedError("view(dtype) is not supported by tritongrad")
        return _ops().views.View.apply(self, _ops().views._shape_arg(shape))

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other.shape)

    def reshape(self, *shape) -> Tensor:
        """A view when the strides allow, else a copy."""
        views = _ops().views
        shape = views._shape_arg(shape)
        try:
            self._data.view(shape)
        except RuntimeError as error:
            if "view size is not compatible" not in str(error):
                raise
            return views.Reshape.apply(self, shape)
        return views.View.apply(self, shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def permute(self, *dims) -> Tensor:
        views = _ops().views
        dims = tuple(views.normalize_dim(d, self.dim()) for d in views._shape_arg(dims))
        if sorted(dims) != list(range(self.dim())):
            raise RuntimeError(
                f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
                f"desired ordering of dimensions i.e. input.dim() = {self.dim()} is not equal to "
                f"len(dims) = {len(dims)}"
                if len(dims) != self.dim()
                else f"permute(): duplicate dims are not allowed (got {dims})"
            )
        return views.Permute.apply(self, dims)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        views = _ops().views
        return views.Transpose.apply(self, views.normalize_dim(dim0, self.dim()), views.normalize_dim(dim1, self.dim()))

    swapaxes = swapdims = transpose

    def t(self) -> Tensor:
        if self.dim() > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.dim()}D")
        return _ops().views.T.apply(self)

    def unsqueeze(self, dim: int) -> Tensor:
        views = _ops().views
        return views.Unsqueeze.apply(self, views.normalize_dim(dim, self.dim() + 1))

    def squeeze(self, dim=None) -> Tensor:
        views = _ops().views
        if dim is None:
            return views.Squeeze.apply(self, None)
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = tuple(views.normalize_dim(d, self.dim()) for d in dims)
        dims = tuple(d for d in dims if self.dim() > 0 and self.shape[d] == 1)
        if not dims:
            return views.View.apply(self, tuple(self.shape)) if is_grad_enabled() and self.requires_grad else self
        return views.Squeeze.apply(self, dims)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        views = _ops().views
        if self.dim() == 0:
            return self.reshape(1)
        start = views.normalize_dim(start_dim, self.dim())
        end = views.normalize_dim(end_dim, self.dim())
        if start > end:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        shape = tuple(self.shape)
        middle = 1
        for size in shape[start : end + 1]:
            middle *= size
        return self.reshape(shape[:start] + (middle,) + shape[end + 1 :])

    def unflatten(self, dim: int, sizes) -> Tensor:
        views = _ops().views
        dim = views.normalize_dim(dim, self.dim())
        shape = tuple(self.shape)
        return self.view(shape[:dim] + tuple(sizes) + shape[dim + 1 :])

    def expand(self, *sizes) -> Tensor:
        views = _ops().views
        return views.Expand.apply(self, views.expand_shape(self, sizes))

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        return _ops().views.narrow(self, dim, start, length)

    def select(self, dim: int, index: int) -> Tensor:
        views = _ops().views
        dim = views.normalize_dim(dim, self.dim())
        key = (slice(None),) * dim + (index,)
        self._data[key]  # raises torch's IndexError for an out-of-range index
        return views.Select.apply(self, key)

    def unbind(self, dim: int = 0) -> tuple:
        dim = _ops().views.normalize_dim(dim, self.dim())
        return tuple(self.select(dim, i) for i in range(self.shape[dim]))

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        dim = _ops().views.normalize_dim(dim, self.dim())
        size = -(-self.shape[dim] // chunks)
        return self.split(size, dim)

    def split(self, split_size, dim: int = 0) -> tuple:
        dim = _ops().views.normalize_dim(dim, self.dim())
        length = self.shape[dim]
        sizes = list(split_size) if isinstance(split_size, (list, tuple)) else None
        if sizes is None:
            sizes = [min(split_size, length - start) for start in range(0, length, split_size)] or [0]
        if sum(sizes) != length:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {length}, but got {sizes}")
        parts, start = [], 0
        for size in sizes:
            parts.append(self.narrow(dim, start, size))
            start += size
        return tuple(parts)

    def contiguous(self) -> Tensor:
        """self if already contiguous, else a contiguous copy (CloneBackward0)."""
        if self._data.is_contiguous():
            return self
        return _ops().views.Clone.apply(self)

    def clone(self) -> Tensor:
        """A copy with its own (contiguous) memory; gradients flow back to self."""
        return _ops().views.Clone.apply(self)

    def sum_to_size(self, *shape) -> Tensor:
        """Sums broadcast dims so the result has ``shape`` (the inverse of ``expand``)."""
        return _ops().reduction.sum_to_size(self, _ops().views._shape_arg(shape))

    # ------------------------------------------------------------------ new tensors like self
    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        from tritongrad import creation

        return creation.empty(
            *size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad
        )

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        from tritongrad import creation

        return creation.zeros(
            *size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad
        )

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        from tritongrad import creation

        return creation.ones(
            *size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad
        )

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
        from tritongrad import creation

        return creation.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                             requires_grad=requires_grad)  # fmt: skip

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
        from tritongrad import creation

        return creation.tensor(
            data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad
        )


def _nowhere(like: Tensor) -> Tensor:
    """An all-False mask shaped like ``like``: where(_nowhere(s), s, v) records "replaced by v"."""
    from tritongrad import creation

    return creation.zeros(tuple(like.shape), dtype=torch.bool, device=like.device)


def _install_methods() -> None:
    """Tensor methods that are the functional ops with ``self`` first (``x.exp()`` is ``exp(x)``),
    and the in-place forms the op tables derive (``x.exp_()``, ops/table.py)."""
    from tritongrad import ops

    for name in ops.TENSOR_METHODS:
        if not hasattr(Tensor, name):
            setattr(Tensor, name, getattr(ops, name))
    for name, method in ops.INPLACE_METHODS.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, method)
