"""tritongrad's Tensor: a torch buffer plus the autograd fields, with torch's API on top.

The buffer (``_data``) is a torch tensor used only as memory: its shape,
strides, dtype and device. Every computation on it is one of tritongrad's
Triton kernels, reached through the op modules in ``tritongrad/ops``.

This module is the bottom of the Tensor's layers: storage, metadata, the autograd
fields and readback. The methods that compute are attached by the layer that
defines them (``attach_methods``): views and conversions by ``ops/views.py``,
operators by ``ops/operators.py``, in-place updates by ``ops/inplace.py``,
``backward``/``register_hook`` by ``autograd``, ``new_*`` by ``creation``, and one
method per op-table row by ``ops``. So this file imports nothing above the kernels.

Autograd fields follow torch: ``requires_grad``, ``grad``, ``grad_fn`` (the node
that produced the tensor; None for leaves), ``is_leaf``, ``retain_grad()``,
``register_hook``. Views share a version counter with their base; in-place
ops bump it, which is how a saved tensor modified after the forward pass is
detected at backward time. Inference tensors have no counter to bump: theirs refuses
every write outside ``inference_mode`` (torch's rule, whatever the write).

Tensor methods never take ``out=`` (torch's do not): ``attach_methods`` removes it
from the function forms it installs.
"""

from __future__ import annotations

import builtins
import inspect
import threading
import warnings
from collections.abc import Callable, Mapping
from types import FunctionType, MappingProxyType
from typing import Any

import numpy as np
import torch

from tritongrad import caller_warnings, runtime
from tritongrad.dtypes import get_default_dtype, python_type_name, type_meta_name
from tritongrad.formatting import format_meta_tensor, format_tensor, host_values
from tritongrad.hooks import RemovableHandle, add_hook
from tritongrad.kernels.device_checks import raise_deferred_errors
from tritongrad.kernels.elementwise import launch_unary
from tritongrad.shapes import as_int, normalize_dim

__all__ = ["Tensor"]


class _GradState(threading.local):
    """Whether operations are recorded for backward, per thread (autograd/grad_mode.py switches it; it
    lives here, beside inference mode's state, so that the layers below autograd can read it)."""

    # A class default, so a thread that never switched reads it without a failed lookup (every op
    # asks: getattr with a default costs 8x a plain read).
    enabled = True


grad_state = _GradState()


# Threads inside ``inference_mode`` (autograd/grad_mode.py switches them): every tensor made there is
# an inference tensor, as torch's. A module-level set, so the hot path (``_wrap``) pays one global
# read when no thread is in inference mode.
_INFERENCE_THREADS: set[int] = set()


def inference_active() -> bool:
    """True inside ``inference_mode`` on this thread."""
    return bool(_INFERENCE_THREADS) and threading.get_ident() in _INFERENCE_THREADS


def set_inference_active(active: bool) -> bool:
    """Switches inference mode for this thread; returns the previous state (for restoring it)."""
    ident = threading.get_ident()
    previous = ident in _INFERENCE_THREADS
    if active:
        _INFERENCE_THREADS.add(ident)
    else:
        _INFERENCE_THREADS.discard(ident)
    return previous


_INFERENCE_SAVED_MESSAGE = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference mode in "
    "computation tracked by autograd. To work around this, you can make a clone to get a normal tensor and use "
    "it in autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`."
)


INFERENCE_INPLACE_MESSAGE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a normal "
    "tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details."
)


class _VersionCounter:
    # A class default rather than an __init__: every op output gets a counter, and a class without
    # a Python __init__ is made a third faster; the first bump gives the instance its own value.
    value = 0

    def bump(self) -> None:
        self.value += 1

    def check_writable(self) -> None:
        """Nothing to refuse: a tensor with a version counter may be written in place."""


class _InferenceVersionCounter(_VersionCounter):
    """What a tensor made inside inference_mode (and its views) has in place of a version counter: torch's
    inference tensors track none, and torch refuses every write that would move one outside the mode
    (arithmetic, ``out=``, ``resize_``/``unsqueeze_``/``set_``, ...). As torch's, a write that bumps after
    writing (an ``out=`` op, an in-place view op) has changed the tensor when the error is raised. One
    instance serves every inference tensor: there is no version to keep."""

    def bump(self) -> None:
        self.check_writable()

    def check_writable(self) -> None:
        if not inference_active():
            raise RuntimeError(INFERENCE_INPLACE_MESSAGE)


INFERENCE_VERSION_COUNTER = _InferenceVersionCounter()


def _buffers_of(data):
    """Nested sequences with each Tensor replaced by its buffer (torch.tensor reads 0-d tensors)."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_buffers_of(item) for item in data]
    return data


class Tensor:
    """A multi-dimensional array whose operations run as Triton kernels (see module docstring)."""

    _data: torch.Tensor
    # Above numpy's own, as torch's: ``np.float64(2) * t`` and ``array + t`` defer to the Tensor's
    # reflected operator instead of numpy converting the Tensor to an array.
    __array_priority__ = 1000

    # ------------------------------------------------------------------ construction
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """torch's legacy constructor, in the default dtype: ``Tensor(data)`` (a sequence of numbers
        or 0-d tensors), ``Tensor(*sizes)`` or ``Tensor(torch.Size)`` (uninitialised), ``Tensor()``
        (empty), and ``Tensor(tensor)``, which shares that tensor's memory (whatever its dtype). The one
        keyword is torch's ``device``, which must name the runtime's device type."""
        device = kwargs.pop("device", None)
        if kwargs:
            raise TypeError(f"new() received an invalid combination of arguments - got an unexpected keyword "
                            f"{', '.join(kwargs)}: the legacy constructor takes only device=")  # fmt: skip
        if device is not None:
            expected = runtime.device().type
            if torch.device(device).type != expected:
                raise RuntimeError(
                    f"legacy constructor expects device type: {expected} but device type: "
                    f"{torch.device(device).type} was passed"
                )
            if len(args) == 1 and isinstance(args[0], Tensor):
                raise RuntimeError(
                    "Legacy tensor constructor of the form torch.Tensor(tensor, device=device) is not supported.  "
                    "Use torch.tensor(...) or torch.as_tensor(...) instead."
                )
        if len(args) == 1 and isinstance(args[0], Tensor):
            self._init_fields(args[0]._data)
            return
        dtype = get_default_dtype()
        sizes = args[0] if len(args) == 1 and isinstance(args[0], torch.Size) else args
        if all(isinstance(a, int) and not isinstance(a, builtins.bool) for a in sizes):
            data = torch.empty(tuple(sizes) or (0,), dtype=dtype)
        elif len(args) == 1 and isinstance(args[0], (list, tuple, range, np.ndarray)):
            data = torch.tensor(_buffers_of(args[0]), dtype=dtype)
        else:
            raise TypeError("Tensor(): expected a list of numbers or integer sizes; use tritongrad.tensor(...)")
        self._init_fields(data.to(runtime.device()))

    # The autograd fields' values for a fresh tensor, as class attributes: a tensor stores only
    # what differs (assigning one makes it the instance's), so wrapping a buffer costs two stores.
    _requires_grad = False
    _grad = None
    _grad_fn = None
    _output_nr = 0
    _retains_grad = False
    _base = None
    # A view made while grad mode was off (set by ops/views.py; a recorded view gets a history of its own):
    # torch refuses to write one in place with grad mode on while its base requires grad.
    _made_without_grad = False
    # Bumped when this tensor's history is replaced by an in-place op; a view whose epoch
    # differs from its base's takes a fresh history from the base before it is used.
    _history_epoch = 0
    _accumulator = None
    # Hooks run after a gradient is accumulated into this leaf's ``.grad``; the engine reads this
    # once per leaf per backward, so the common case (none) is one class-attribute read.
    _post_accumulate_hooks: Mapping[int, Callable] = MappingProxyType({})  # {handle id: hook}
    # Made inside inference_mode (or a view of such a tensor): never saved for backward, never
    # written in place outside inference mode (torch's inference tensors).
    _is_inference = False
    # (level, tangent) of a dual tensor (autograd/forward_ad.py): read while that level is open.
    _forward_grad = None

    def _init_fields(self, data: torch.Tensor, requires_grad: bool = False, version_counter=None) -> None:
        self._data = data
        self._version_counter = version_counter if version_counter is not None else _VersionCounter()
        if _INFERENCE_THREADS and threading.get_ident() in _INFERENCE_THREADS:
            self._is_inference = True
            if version_counter is None:
                self._version_counter = INFERENCE_VERSION_COUNTER
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data: torch.Tensor, requires_grad: bool = False, version_counter=None) -> Tensor:
        """A Tensor over an existing torch buffer (no copy)."""
        tensor = object.__new__(cls)
        tensor._data = data
        tensor._version_counter = version_counter if version_counter is not None else _VersionCounter()
        if _INFERENCE_THREADS and threading.get_ident() in _INFERENCE_THREADS:
            tensor._is_inference = True
            if version_counter is None:  # (a view keeps its base's counter, an inference one or not)
                tensor._version_counter = INFERENCE_VERSION_COUNTER
        if requires_grad:
            if not (data.dtype.is_floating_point or data.dtype.is_complex):
                raise RuntimeError(FACTORY_REQUIRES_GRAD_DTYPE_ERROR)
            tensor.requires_grad = True
        return tensor

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> torch.Size:
        return self._data.shape

    def size(self, dim: int | None = None):
        """The shape (a torch.Size), or the size of one dim (a 0-d tensor has none: torch's IndexError)."""
        if dim is None:
            return self._data.shape
        if type(dim) is not int:
            dim = as_int(dim, "size(): argument 'dim' (position 1) must be int, not {}")
        return self._data.shape[normalize_dim(dim, self.dim(), scalar=False)]

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

    # The layout and backend flags torch's Tensor has (``if grad.is_sparse: raise ...`` in optimizers
    # written from scratch), read from the buffer: False for the dense CPU/CUDA buffers tritongrad makes.
    is_sparse = property(lambda self: self._data.is_sparse)
    is_sparse_csr = property(lambda self: self._data.is_sparse_csr)
    is_quantized = property(lambda self: self._data.is_quantized)
    is_meta = property(lambda self: self._data.is_meta)
    is_mkldnn = property(lambda self: self._data.is_mkldnn)
    is_nested = property(lambda self: self._data.is_nested)
    is_mps = property(lambda self: self._data.is_mps)
    is_xpu = property(lambda self: self._data.is_xpu)
    is_ipu = property(lambda self: self._data.is_ipu)
    is_xla = property(lambda self: self._data.is_xla)
    is_vulkan = property(lambda self: self._data.is_vulkan)
    is_maia = property(lambda self: self._data.is_maia)
    is_mtia = property(lambda self: self._data.is_mtia)

    def to_dense(self, dtype: torch.dtype | None = None, *, masked_grad: bool | None = None) -> Tensor:
        """A strided tensor is dense already: itself, or a copy in ``dtype`` (torch's)."""
        if dtype is None:
            return self
        if not isinstance(dtype, torch.dtype):
            raise TypeError(
                f"to_dense(): argument 'dtype' (position 1) must be torch.dtype, not {type(dtype).__name__}"
            )
        return self.to(dtype)

    @property
    def volatile(self) -> bool:
        """Always False, with torch's warning (the pre-0.4 flag that ``no_grad`` replaced)."""
        warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning, stacklevel=2)
        return False

    # torch's name of a tensor in a graph it traces: None outside one (tritongrad traces nothing)
    name = None

    def stride(self, dim: int | None = None):
        return self._data.stride() if dim is None else self._data.stride(dim)

    # Metadata questions the buffer answers as torch's tensor would (and with torch's errors).
    def dim_order(self, *, ambiguity_check: bool | list = False) -> tuple:
        return self._data.dim_order(ambiguity_check=ambiguity_check)

    def is_set_to(self, tensor: Tensor) -> bool:
        """True when ``tensor`` has this tensor's storage, offset, sizes and strides (read from the metadata)."""
        if not isinstance(tensor, Tensor):
            raise TypeError(f"is_set_to(): argument 'tensor' (position 1) must be Tensor, not {type(tensor).__name__}")
        mine, theirs = self._data, tensor._data
        return (
            mine.device == theirs.device
            and mine.untyped_storage().data_ptr() == theirs.untyped_storage().data_ptr()
            and (mine.storage_offset(), mine.shape, mine.stride())
            == (theirs.storage_offset(), theirs.shape, theirs.stride())
        )

    def storage_type(self):
        return self._data.storage_type()

    def record_stream(self, stream) -> None:
        self._data.record_stream(stream)

    def storage(self):
        """The buffer's storage, torch's TypedStorage (torch owns the memory; torch warns it is deprecated)."""
        return self._data.storage()

    def untyped_storage(self):
        return self._data.untyped_storage()

    def is_pinned(self) -> bool:
        return self._data.is_pinned()

    def pin_memory(self) -> Tensor:
        """A copy in page-locked host memory, for asynchronous copies to a GPU; torch's error without one."""
        if not torch.cuda.is_available():
            raise RuntimeError("Cannot access accelerator device when none is available.")
        return Tensor._wrap(self._data.pin_memory())

    def storage_offset(self) -> int:
        return self._data.storage_offset()

    def data_ptr(self) -> int:
        return self._data.data_ptr()

    def element_size(self) -> int:
        return self._data.element_size()

    def is_contiguous(self, memory_format: torch.memory_format | None = None) -> bool:
        if memory_format is None:  # (torch.contiguous_format, without reading it on every call)
            return self._data.is_contiguous()
        return self._data.is_contiguous(memory_format=memory_format)

    def is_floating_point(self) -> bool:
        return self._data.dtype.is_floating_point

    @property
    def itemsize(self) -> int:
        return self._data.element_size()

    @property
    def nbytes(self) -> int:
        return self._data.numel() * self._data.element_size()

    @property
    def is_cpu(self) -> bool:
        return self._data.device.type == "cpu"

    def get_device(self) -> int:
        """The CUDA device index, -1 on the CPU."""
        return self._data.get_device()

    def is_complex(self) -> bool:
        return self._data.dtype.is_complex

    def is_signed(self) -> bool:
        return self._data.dtype.is_signed

    def share_memory_(self) -> Tensor:
        """Moves the values to shared memory (a storage torch allocates there, filled by the copy
        kernel), so processes started through tritongrad.multiprocessing see the same values, as
        torch's Hogwild does; returns self. As torch's, the whole storage moves, in place: every
        tensor on it (the base of a view, its other views) is then shared too. (CUDA memory is
        shared as it is.)"""
        data = self._data
        storage = data.untyped_storage()
        if data.device.type != "cpu" or data.is_shared() or storage.nbytes() == 0:
            return self
        shared = torch.UntypedStorage._new_shared(storage.nbytes())
        elements = (storage.nbytes() // data.element_size(),)
        old_whole = torch.empty(0, dtype=data.dtype).set_(storage, 0, elements)
        launch_unary("copy", old_whole, out=torch.empty(0, dtype=data.dtype).set_(shared, 0, elements))
        storage._swap_data_ptr_(shared)  # (the old memory goes with `shared`, freed with it)
        return self

    def is_shared(self) -> bool:
        return self._data.is_shared()

    # Set on what ``conj()`` returns: torch's conj is a lazy view whose is_conj() is True until
    # resolve_conj(); tritongrad's conj writes the conjugated values (ops/complex.py) and keeps the flag.
    _is_conj = False

    def is_conj(self) -> bool:
        return self._is_conj

    def is_neg(self) -> bool:
        return False

    def resolve_neg(self) -> Tensor:
        return self

    def new(self, *args: Any) -> Tensor:
        """torch's legacy ``x.new(...)``: ``Tensor(...)``'s forms, in x's dtype and on its device."""
        if len(args) == 1 and isinstance(args[0], Tensor):
            return Tensor(args[0])
        sizes = args[0] if len(args) == 1 and isinstance(args[0], torch.Size) else args
        if all(isinstance(a, int) and not isinstance(a, builtins.bool) for a in sizes):
            data = torch.empty(tuple(sizes) or (0,), dtype=self.dtype, device=self.device)
        elif len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray)):
            data = torch.tensor(_buffers_of(args[0]), dtype=self.dtype, device=self.device)
        else:
            raise TypeError("new(): expected a sequence of numbers, integer sizes or a Tensor")
        return Tensor._wrap(data)

    @property
    def _version(self) -> int:
        if self._version_counter is INFERENCE_VERSION_COUNTER:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._version_counter.value

    def __len__(self) -> int:
        if self.dim() == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ------------------------------------------------------------------ autograd fields
    @property
    def grad_fn(self):
        """The node that made this tensor (None for leaves); a view of a base rewritten in place
        since the view was made gets a fresh one (AsStridedBackward0), as in torch (the refresh is
        attached by ops/views.py, the layer that can build that node)."""
        if self._base is not None:
            self._refresh_view_history()
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node) -> None:
        self._grad_fn = node

    @property
    def requires_grad(self) -> bool:
        base = self._base
        if base is not None:
            self._refresh_view_history()
            # (a view with no history of its own requires grad when its base does, as torch's: one made
            # under no_grad, or before its base was set to require grad; no gradient reaches it)
            return self._requires_grad or (self._grad_fn is None and base.requires_grad)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if type(value) is not builtins.bool:  # (not truthiness: a numpy bool, a 0-d tensor, 1 are refused too)
            raise RuntimeError("requires_grad must be a bool")
        if self.grad_fn is not None:
            # torch refuses a non-leaf either way, with the detach() hint for False only
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables."
                if value
                else "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        if value and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        if value and self._is_inference and not inference_active():
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
        self._requires_grad = value

    def requires_grad_(self, *args, **kwargs) -> Tensor:
        """Sets ``requires_grad`` in place and returns self: ``requires_grad_(requires_grad=True)``, a bool
        (torch's argument parser: no other type, given by position or by name)."""
        if len(args) > 1:
            raise TypeError(f"requires_grad_() takes from 0 to 1 positional arguments but {len(args)} were given")
        for name in kwargs:
            if name != "requires_grad" or args:
                raise TypeError(f"requires_grad_() got an unexpected keyword argument '{name}'")
        requires_grad = args[0] if args else kwargs.get("requires_grad", True)
        if type(requires_grad) is not builtins.bool:
            position = " (position 1)" if args else ""
            raise TypeError(
                f"requires_grad_(): argument 'requires_grad'{position} must be bool, not "
                f"{python_type_name(requires_grad)}"
            )
        if requires_grad and not (self.dtype.is_floating_point or self.dtype.is_complex):
            # torch's method words this without "and complex", unlike its attribute setter.
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if requires_grad and self.grad_fn is not None:  # (a non-leaf requires grad already: torch returns it)
            return self
        self.requires_grad = requires_grad
        return self

    def is_inference(self) -> bool:
        """True for a tensor made inside ``inference_mode`` (or a view of one)."""
        return self._is_inference

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> RemovableHandle:
        """``hook(tensor)`` runs after a backward has accumulated a gradient into this leaf's ``.grad``.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if not self.is_leaf:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if "_post_accumulate_hooks" not in self.__dict__:
            self._post_accumulate_hooks = {}
        return add_hook(self._post_accumulate_hooks, hook)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        grad = self._grad
        if grad is not None:
            return grad
        if not self.is_leaf and not self._retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf "
                "Tensor by mistake, make sure you access the leaf Tensor instead. See "
                "github.com/pytorch/pytorch/pull/30531 for more information.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        # torch's checks, in its order: the type, itself, the dtype, the device type, the size
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type {python_type_name(value)}"
                )
            if value is self:
                raise RuntimeError("can't assign Variable as its own grad")
            data, own = value._data, self._data
            if data.dtype != own.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{type_meta_name(data.dtype)}' to a tensor with "
                    f"grad_dtype '{_scalar_type_name(own.dtype)}'. The gradient must match the tensor's grad_dtype "
                    "(defaults to the tensor's dtype). You can set the tensor's grad_dtype attribute with a specific "
                    "dtype, or None to allow any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor "
                    "and its gradient may break downstream systems that assume they match."
                )
            if data.device.type != own.device.type:
                raise RuntimeError(
                    f"attempting to assign a gradient with device type '{data.device.type}' to a tensor with device "
                    f"type '{own.device.type}'. Please ensure that the gradient and the tensor are on the same device"
                )
            if data.shape != own.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(data.shape)}' to a tensor of size "
                    f"'{list(own.shape)}'. Please ensure that the gradient and the tensor are the same size"
                )
            if data.device != own.device:  # (another GPU of the same type)
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        """``del x.grad``: as assigning None (torch's)."""
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Makes a non-leaf tensor keep its ``.grad`` after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.is_leaf or self._retains_grad:
            return
        self.grad_fn._add_retained(self._output_nr, self)
        self._retains_grad = True

    def detach(self) -> Tensor:
        """A tensor sharing this data (and version counter), outside the graph. It wraps the same torch
        tensor: an op that changes a buffer's sizes in place (resize_) first gives its tensor a buffer of
        its own, so the two keep their own sizes, as torch's aliases do."""
        detached = Tensor._wrap(self._data, version_counter=self._version_counter)
        if detached._is_inference is not self._is_inference:
            # an alias of an inference tensor is one; of a normal tensor (even inside inference_mode), not
            detached._is_inference = self._is_inference
        if self._is_inference and not inference_active():
            # torch gives the alias it makes outside the mode a version counter of its own, so it may be
            # written in place (x.detach().add_(1)), though it is an inference tensor (its views are not)
            detached._version_counter = _VersionCounter()
        return detached

    def detach_(self) -> Tensor:
        """Detaches this tensor from the graph in place, making it a leaf (not allowed on a view, as torch)."""
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) "
                "for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and "
                "hence detach_() cannot be called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."
            )
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        """This tensor's data without autograd history; in-place changes through it are not tracked (the
        same torch tensor, as detach()'s; an inference tensor's is one, a normal tensor's is not)."""
        data = Tensor._wrap(self._data)
        if data._is_inference is not self._is_inference:
            # with a version counter: a normal tensor's taken inside the mode, an inference tensor's taken
            # outside it (writable, as detach()'s alias: see there)
            data._is_inference = self._is_inference
            data._version_counter = _VersionCounter()
        return data

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
        raise_deferred_errors()
        return self._data.item()

    def tolist(self):
        """The values as (nested) Python lists."""
        raise_deferred_errors()
        return self._data.tolist()

    def _host_array(self, *, force: bool = False) -> np.ndarray:
        """A numpy array of the values (sharing memory for CPU tensors, like torch): ``numpy()``, which
        autograd/engine.py defines with torch's refusal of a tensor in the graph while grad mode is on."""
        raise_deferred_errors()
        if self.device.type != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
                    "to host memory first."
                )
            return self._data.cpu().numpy()
        return self._data.numpy()

    def __array__(self, dtype=None, copy=None):
        if copy is False:  # (torch's __array__ promises no copy, so numpy refuses np.array(x, copy=False))
            raise ValueError(_NUMPY_NO_COPY_REFUSAL)
        array = self.numpy() if self.device.type == "cpu" else self.detach().cpu().numpy()  # (numpy()'s grad check)
        return array.astype(dtype) if dtype is not None else array

    def __array_wrap__(self, array: np.ndarray, context=None, return_scalar: bool = False) -> Tensor:
        """What a numpy ufunc (``np.sin(x)``, ``np.add(x, 1)``) returns for a tensor: its result array as a
        CPU tensor sharing that memory, a bool result as uint8 (torch's rule), and a 0-d result as a 0-d
        tensor (``return_scalar`` is not followed, as torch's one-argument signature cannot be asked it)."""
        data = torch.from_numpy(array)
        return Tensor._wrap(data).to(torch.uint8) if data.dtype == torch.bool else Tensor._wrap(data)

    def __bool__(self) -> bool:
        if self.numel() == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def is_nonzero(self) -> bool:
        """``bool(self)`` as a method, with its errors (no value, several values)."""
        return self.__bool__()

    def __float__(self) -> float:
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        if self.requires_grad:
            warn_scalar_of_requires_grad()
        return float(_real_value(self.item(), "double"))

    def __int__(self) -> int:
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(_real_value(self.item(), "int64_t"))

    def __complex__(self) -> complex:
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        if self.requires_grad:
            warn_scalar_of_requires_grad()
        return complex(self.item())

    # Python 2's names, which torch's Tensor still answers to
    __nonzero__ = __bool__
    __long__ = __int__

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.numel() != 1 or self.dtype.is_complex:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __repr__(self, *, tensor_contents: str | None = None) -> str:
        # torch names a subclass's values after the class (MyT([1., 1.])); Parameter's own repr
        # (nn/parameter.py) prints its values as a plain tensor's.
        prefix = "tensor(" if type(self) is Tensor else f"{type(self).__name__}("
        return self._format_repr(prefix, tensor_contents)

    def _format_repr(self, prefix: str, tensor_contents: str | None = None) -> str:
        """``repr`` with ``prefix`` opening it; ``tensor_contents`` is printed instead of the values."""
        suffixes = []
        try:
            requires_grad, grad_fn = self.requires_grad, self.grad_fn
        except RuntimeError:  # (an output of split/unbind whose base was written in place: torch's word)
            suffixes.append("grad_fn=<Invalid>")
        else:
            if grad_fn is not None:  # (torch prints the node's class: CopySlices, not torch::autograd::CopySlices)
                suffixes.append(f"grad_fn=<{type(grad_fn).__name__}>")
            elif requires_grad:
                suffixes.append("requires_grad=True")
        forward_grad = self._forward_grad
        if forward_grad is not None and forward_grad[0].open:  # (torch prints a 0-d tangent as its number)
            tangent = forward_grad[1]
            suffixes.append(f"tangent={tangent.item() if tangent.dim() == 0 else repr(tangent)}")
        if self.is_meta:  # (no values: torch prints an ellipsis and the size)
            return format_meta_tensor(
                tuple(self.shape), self.dtype, suffixes=suffixes, prefix=prefix, contents=tensor_contents
            )
        values, summarized = [], False
        if tensor_contents is None:
            # Only the values the print shows are copied to the host (all of them only below the threshold).
            raise_deferred_errors()
            values, summarized = host_values(self._data)
        return format_tensor(
            values,
            tuple(self.shape),
            self.dtype,
            self.device,
            suffixes=suffixes,
            prefix=prefix,
            summarized=summarized,
            contents=tensor_contents,
        )

    def __format__(self, format_spec: str) -> str:
        # torch formats the number only of a plain 0-d tensor with values: a Parameter, a subclass or
        # a meta tensor formats as its repr ("" spec) or raises object's TypeError for any other spec.
        if self.dim() == 0 and not self.is_meta and type(self) is Tensor:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)  # (str(self) for "", torch's TypeError otherwise)

    __hash__ = object.__hash__

    def __reduce_ex__(self, protocol):
        # pickle (multiprocessing, pickle.dumps of a model) keeps the values, the dtype, the class
        # (Parameter) and requires_grad, as torch's (a tensor from the middle of a graph comes back
        # as a leaf); the buffer pickles itself: torch owns the memory.
        return _rebuild_tensor, (type(self), self._data.detach().cpu(), self.requires_grad, str(self._data.device))


# numpy's own refusal, which it gives for np.array(torch_tensor, copy=False)
_NUMPY_NO_COPY_REFUSAL = (
    "Unable to avoid copy while creating an array as requested.\nIf using `np.array(obj, copy=False)` replace it "
    "with `np.asarray(obj)` to allow a copy when needed (no behavior change in NumPy 1.x).\nFor more details, see "
    "https://numpy.org/devdocs/numpy_2_0_migration_guide.html#adapting-to-changes-in-the-copy-keyword."
)


def _real_value(value, c_type: str):
    """A tensor's value as ``float()``/``int()`` take it: a complex one only without an imaginary part
    (torch's error otherwise)."""
    if isinstance(value, complex):
        if value.imag != 0:
            raise RuntimeError(f"value cannot be converted to type {c_type} without overflow")
        return value.real
    return value


def typename(obj, /) -> str:
    """``torch.typename``: a tensor's legacy type name (``torch.FloatTensor``), else the object's qualified
    name (a builtin's bare), as torch's messages name a value (module assignment errors too)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def _rebuild_tensor(cls: type, data: torch.Tensor, requires_grad: bool, device: str) -> Tensor:
    """A pickled tensor back, on the device it was pickled from (the host if that is gone)."""
    if device != "cpu" and not torch.cuda.is_available():
        device = "cpu"
    tensor = cls.__new__(cls)
    tensor._init_fields(data.to(device))
    if requires_grad:
        tensor._requires_grad = True
    return tensor


# ATen's names for dtypes in the grad setter's messages: the C++ type ("double") for the gradient,
# the ScalarType ("Float") for the tensor, as torch words them.
_SCALAR_TYPE_NAMES = {
    torch.float64: "Double", torch.float32: "Float", torch.float16: "Half", torch.bfloat16: "BFloat16",
    torch.int64: "Long", torch.int32: "Int", torch.int16: "Short", torch.int8: "Char", torch.uint8: "Byte",
    torch.bool: "Bool", torch.complex64: "ComplexFloat", torch.complex128: "ComplexDouble",
}  # fmt: skip


def _scalar_type_name(dtype: torch.dtype) -> str:
    return _SCALAR_TYPE_NAMES.get(dtype, str(dtype))


# What torch's factories (requires_grad=True) and nn.Parameter say to an integer or bool dtype; the
# requires_grad setter and requires_grad_() word it in lower case (see there).
FACTORY_REQUIRES_GRAD_DTYPE_ERROR = "Only Tensors of floating point and complex dtype can require gradients"


def warn_scalar_of_requires_grad() -> None:
    """torch's once-per-process warning when a tensor that requires grad is read as a Python scalar
    (``float``, ``complex``, an element of ``tensor([...])``); only with grad mode on, as torch's (an
    LBFGS closure's loss read under no_grad is silent, and does not use up the one warning)."""
    if not grad_state.enabled:
        return
    caller_warnings.warn_once(
        "scalar of requires_grad",
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
        "Consider using tensor.detach() first.",
    )


# What Python puts in every class body (and ``__hash__ = None``, which a class defining ``__eq__``
# gets implicitly: Tensor keeps identity hashing, as torch's does).
_CLASS_ENTRIES = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__annotations__", "__hash__"}


def attach_methods(methods: dict[str, Callable] | type, *, replace: bool = False) -> None:
    """Installs ``methods`` on Tensor: how a higher layer gives Tensor the methods it defines.

    ``methods`` is a dict (``{"exp": exp}``) or a class whose body holds them (methods, properties,
    operators), written as they would be in Tensor's own body. A name Tensor already has is an
    error unless ``replace``.
    """
    if isinstance(methods, type):
        methods = {name: value for name, value in vars(methods).items() if name not in _CLASS_ENTRIES}
    for name, method in methods.items():
        if not replace and name in Tensor.__dict__:
            raise AttributeError(f"Tensor.{name} is already defined; attach it with replace=True")
        setattr(Tensor, name, _without_out(name, method))


def _without_out(name: str, method):
    """``method`` as a Tensor method: a function form with an ``out=`` parameter (``sum``, ``exp``, ...)
    loses it, since torch's methods never take one (``x.exp(out=y)`` is its TypeError, and so numpy's
    ``np.sum(x)``, which calls ``x.sum(axis=None, dtype=None, out=None)``, raises as torch's)."""
    if not isinstance(method, FunctionType):
        return method
    signature = inspect.signature(method)
    out = signature.parameters.get("out")
    if out is None:
        return method
    kept = [parameter for parameter in signature.parameters.values() if parameter is not out]
    if out.kind is inspect.Parameter.KEYWORD_ONLY:
        refusal = f"{name}() got an unexpected keyword argument 'out'"

        def without_out(self, /, *args, **kwargs):
            if "out" in kwargs:
                raise TypeError(refusal)
            return method(self, *args, **kwargs)

    else:
        # A function whose out= is positional (torch.norm(input, p, dim, keepdim, out, dtype), lu): the
        # method's positions skip it (x.norm(p, dim, keepdim, dtype)). torch writes these methods in
        # Python, so its messages name them Tensor.norm.
        positional = [parameter.name for parameter in kept if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
        positional = positional[1:]  # (after self)
        refusal = f"Tensor.{name}() got an unexpected keyword argument 'out'"

        def without_out(self, /, *args, **kwargs):
            if "out" in kwargs:
                raise TypeError(refusal)
            if len(args) > len(positional):
                raise TypeError(
                    f"Tensor.{name}() takes from 1 to {len(positional) + 1} positional arguments but "
                    f"{len(args) + 1} were given"
                )
            return method(self, **dict(zip(positional, args)), **kwargs)

    without_out.__name__, without_out.__qualname__, without_out.__doc__ = name, f"Tensor.{name}", method.__doc__
    without_out.__module__ = method.__module__
    without_out.__signature__ = signature.replace(parameters=kept)
    return without_out
