"""Tensor factories: tensor/as_tensor/from_numpy, empty/zeros/ones/full, arange/linspace/eye,
the ``*_like`` forms, and random tensors (rand/randn/randint)."""

from __future__ import annotations

import math
import numbers
import threading
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch.overrides import _get_current_function_mode_stack
from torch.utils._device import DeviceContext

from tritongrad import caller_warnings, runtime
from tritongrad.dtypes import (
    REDUCED_FLOATS,
    SUPPORTED,
    as_dtype,
    as_python_scalar,
    complex_of,
    complex_scalar_as,
    dtype_word,
    fill_scalar_as,
    get_default_dtype,
    promote_types,
    python_type_name,
    scalar_as,
)
from tritongrad.kernels import creation as kernels
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels.device_checks import raise_deferred_errors
from tritongrad.shapes import as_int
from tritongrad.tensor import Tensor, attach_methods, grad_state, warn_scalar_of_requires_grad

__all__ = [
    "tensor", "as_tensor", "from_numpy", "empty", "zeros", "ones", "full", "arange", "linspace", "eye",
    "empty_like", "zeros_like", "ones_like", "full_like", "rand", "randn", "randint", "rand_like",
    "randn_like", "randint_like", "scalar_tensor", "set_default_device", "get_default_device",
]  # fmt: skip


class _DefaultDevice(threading.local):
    """set_default_device's choice, per thread as torch's (None: the runtime's device)."""

    device: torch.device | None = None


_default_device = _DefaultDevice()


def set_default_device(device) -> None:
    """The device the factories (``zeros``, ``rand``, ``tensor``, ...) use when given none, as torch's
    (None: tritongrad's own device again)."""
    _default_device.device = None if device is None else torch.device(device)


def get_default_device() -> torch.device:
    return _default_device.device or runtime.device()


def _device(device) -> torch.device:
    if device is None:
        device = _default_device.device or _context_device()
        if device is None:
            return runtime.device()
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    elif device.type == "meta":
        runtime.allow_meta_tensors()
    return device


def _context_device() -> torch.device | None:
    """The device of an enclosing ``with torch.device(...)`` block (``tritongrad.device`` is
    torch's class, whose context is a torch function mode), None outside one."""
    if not torch._C._len_torch_function_stack():
        return None
    for mode in reversed(_get_current_function_mode_stack()):
        if isinstance(mode, DeviceContext):
            return torch.device(mode.device)
    return None


def _size(size, name: str = "empty") -> tuple[int, ...]:
    """The sizes given to creation op ``name`` (as ``*size`` or one sequence), checked with torch's errors.
    A size may be any integer torch's parser reads as one: an int, a numpy integer, or a one-element
    integer tensor (``zeros(t.tensor(3))``, ``zeros((2, t.tensor([3])))``), as torch reads them."""
    if not size:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)):
        size = tuple(size[0])
    size = tuple(_size_entry(s, name) for s in size)
    for s in size:
        if s < 0:
            problem = f"Trying to create tensor with negative dimension {s}: {list(size)}"
            if name == "zeros":  # (torch's zeros checks its sizes itself, in its own words)
                raise RuntimeError(f"zeros: Dimension size must be non-negative. ({problem})")
            raise RuntimeError(problem)
    return size


def _size_entry(value, name: str) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, Tensor) and not value.dtype.is_floating_point and not value.dtype.is_complex:
        if value.dtype != torch.bool and value.numel() == 1:
            return value.__index__()
    raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not {type(value).__name__}")


def _sizes_or_keyword(name: str, sizes: tuple, size) -> tuple:
    """A factory's sizes, given as ``*sizes`` or as the ``size=`` keyword (a sequence there, as in torch)."""
    if size is None:
        return sizes
    if sizes:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    if not isinstance(size, (tuple, list, torch.Size)):
        raise TypeError(f"{name}(): argument 'size' must be tuple of ints, not {type(size).__name__}")
    return (size,)


def _check_layout(name: str, layout, pin_memory) -> None:
    """torch's ``layout=`` and ``pin_memory=`` arguments: tritongrad's tensors are all strided, so
    ``torch.strided`` (or None) is the one layout taken; ``pin_memory=True`` is torch's refusal without
    an accelerator (with one, the caller pins a CPU result: ``_pinned``)."""
    if layout is not None and layout != torch.strided:
        if not isinstance(layout, torch.layout):
            raise TypeError(f"{name}(): argument 'layout' must be torch.layout, not {type(layout).__name__}")
        raise NotImplementedError(f"{name}(): layout {layout} is not supported: tritongrad's tensors are strided")
    if pin_memory is not None and not isinstance(pin_memory, bool):
        raise TypeError(f"{name}(): argument 'pin_memory' must be bool, not {type(pin_memory).__name__}")
    if pin_memory:
        torch.empty(0, pin_memory=True)  # (torch's own refusal where no pinned-memory allocator exists)


def _pinned(data: torch.Tensor, pin_memory) -> torch.Tensor:
    """A CPU result in page-locked memory when ``pin_memory`` (checked by ``_check_layout``) asks for it."""
    return data.pin_memory() if pin_memory and data.device.type == "cpu" else data


def _number(value, op: str, argument: str = "fill_value", position: int = 2):
    """A Number argument (full's fill_value, scalar_tensor's s) as torch's parser reads it: a Python or
    numpy number (a numpy bool is a float, as in torch), or a 0-d tensor that does not require grad (its
    value); anything else is torch's TypeError."""
    if isinstance(value, Tensor):
        if value.dim() == 0 and not value.requires_grad:
            return value.item()
    elif not isinstance(value, np.ndarray):
        value = as_python_scalar(value)
        if isinstance(value, (bool, int, float, complex)):
            return value
    raise TypeError(
        f"{op}(): argument '{argument}' (position {position}) must be Number, not {python_type_name(value)}"
    )


def _fill_value_as(value, data: torch.Tensor):
    """A fill value as the tensor ``data`` holds it: torch's overflow error for one its dtype cannot hold
    (a complex with an imaginary part for a real dtype among them; bool takes any number's truth; a
    one-element float16/bfloat16 tensor takes an out-of-range number as an infinity: ``fill_scalar_as``)."""
    dtype = data.dtype
    if dtype == torch.bool:
        return bool(value)
    if isinstance(value, complex):
        return complex_scalar_as(value, dtype)
    converted = fill_scalar_as(value, dtype, data.numel())
    return converted if dtype in REDUCED_FLOATS else value  # (the kernel rounds other dtypes' values itself)


def _finish(data: torch.Tensor, requires_grad: bool) -> Tensor:
    return Tensor._wrap(data, requires_grad=requires_grad)


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, numpy arrays or Tensors).

    Example::

        >>> tritongrad.tensor([1., 2.], requires_grad=True)
        tensor([1., 2.], requires_grad=True)
    """
    dtype = as_dtype(dtype, "tensor")
    _check_layout("tensor", None, pin_memory)
    if isinstance(data, Tensor):
        caller_warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
            "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).",
            UserWarning,
        )
        source = data.detach()
        result = source.to(device=_device(device) if device is not None else source.device,
                           dtype=dtype, copy=True)  # fmt: skip
        return result.requires_grad_(requires_grad) if requires_grad else Tensor._wrap(result._data)
    if isinstance(data, np.ndarray):
        _check_numpy_layout(data)
        # numpy makes the copy (torch.tensor(ndarray) would ask torch for a _to_copy); a dtype
        # change is then a cast kernel. The copy keeps the array's memory order, as torch's does (a
        # transposed array gives a transposed tensor); a broadcast one is copied row-major.
        order = "C" if 0 in data.strides else "K"
        result = Tensor._wrap(torch.from_numpy(np.array(data, order=order, copy=True))).to(
            device=_device(device), dtype=dtype
        )
        return _finish(_pinned(result._data, pin_memory), requires_grad)
    host = _host_tensor(data, dtype)
    return _finish(_pinned(host.to(_device(device)), pin_memory), requires_grad)


def _check_numpy_layout(array: np.ndarray) -> None:
    """torch's refusals of the numpy arrays it does not copy from: another byte order, negative strides."""
    if not array.dtype.isnative:
        raise ValueError(
            "given numpy array has byte order different from the native byte order. Conversion between byte "
            "orders is currently not supported."
        )
    if any(stride < 0 for stride in array.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative strides are not "
            "currently supported. (You can probably work around this by making a copy of your array  with "
            "array.copy().) "
        )


def _host_tensor(data, dtype: torch.dtype | None) -> torch.Tensor:
    """``data`` (numbers, nested sequences, numpy values, tensors at any depth) on the host, as torch's
    ``tensor()`` builds it: torch's own constructor reads the structure (its sizes, its errors), with the
    tensors in it as host tensors of their own dtype, so each value is copied as its dtype holds it
    (a float64 0-d tensor keeps its 64 bits). The dtype is inferred with tritongrad's default dtype for
    Python floats (``_inferred_dtype``): torch's constructor would use torch's default."""
    host = _with_host_tensors(data)
    if dtype is None and get_default_dtype() != torch.get_default_dtype():
        dtype = _inferred_dtype(host)  # (None for what torch cannot infer: its constructor then raises)
    return torch.tensor(host, dtype=dtype)


def _with_host_tensors(data):
    """``data`` with each Tensor in its lists and tuples (at any depth) replaced by its torch tensor;
    ``data`` itself when it holds none."""
    if isinstance(data, Tensor):
        if data.requires_grad:
            warn_scalar_of_requires_grad()  # (torch reads each element as a scalar)
        raise_deferred_errors()
        return data._data
    if isinstance(data, (list, tuple)):
        items = [_with_host_tensors(item) for item in data]
        if any(new is not old for new, old in zip(items, data)):
            return items
    return data


# numpy's dtypes as torch's (numpy scalars and arrays keep theirs in tensor(), whatever the default dtype)
_NUMPY_DTYPES = {np.dtype(name): getattr(torch, name) for name in (
    "bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64", "float16", "float32", "float64",
    "complex64", "complex128")}  # fmt: skip


def _inferred_dtype(data) -> torch.dtype | None:
    """torch's ``infer_scalar_type``: each element's dtype (a tensor's or numpy value's own, int64 for
    Python ints, the default dtype for Python floats and empty sequences), promoted over the whole
    structure; None for an element torch cannot infer a dtype of."""
    if isinstance(data, torch.Tensor):
        return data.dtype
    if isinstance(data, (np.generic, np.ndarray)):
        return _NUMPY_DTYPES.get(data.dtype)
    if isinstance(data, bool):
        return torch.bool
    if isinstance(data, int):
        return torch.int64
    if isinstance(data, float):
        return get_default_dtype()
    if isinstance(data, complex):
        return complex_of(get_default_dtype())
    if isinstance(data, (str, bytes)) or not isinstance(data, (Sequence, range)):
        return None
    result = None if len(data) else get_default_dtype()
    for item in data:
        dtype = _inferred_dtype(item)
        if dtype not in SUPPORTED:  # (None, or a dtype tritongrad does not promote: torch's constructor infers)
            return None
        result = dtype if result is None else promote_types(result, dtype)
    return result


def scalar_tensor(value, *, dtype=None, device=None, requires_grad: bool = False, layout=None,
                  pin_memory: bool | None = False) -> Tensor:  # fmt: skip
    """A 0-d tensor holding the number ``value``, of the default dtype unless ``dtype`` is given."""
    value = _number(value, "scalar_tensor", "s", 1)
    dtype = as_dtype(dtype, "scalar_tensor") or get_default_dtype()
    return full((), value, dtype=dtype, device=device, requires_grad=requires_grad, layout=layout,
                pin_memory=pin_memory)  # fmt: skip


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but returns ``data`` itself when it already is a matching Tensor."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    if isinstance(data, np.ndarray) and _device(device).type == "cpu":
        # (the array's memory is shared when it needs no cast, as torch's: a dtype= naming its own type too)
        if dtype is None or as_dtype(dtype, "as_tensor") == torch.from_numpy(np.empty(0, data.dtype)).dtype:
            return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with a numpy array."""
    return Tensor._wrap(torch.from_numpy(array))


def _new(name: str, sizes: tuple, size, dtype, device, out, memory_format=torch.contiguous_format,
         pin_memory=False) -> torch.Tensor:  # fmt: skip
    """The buffer a factory fills: new, of the sizes given as ``*sizes`` or the ``size=`` keyword;
    or ``out``'s own, resized to them as torch resizes an out= tensor."""
    dtype = as_dtype(dtype, name)
    shape = _size(_sizes_or_keyword(name, sizes, size), name)
    if out is None:
        return torch.empty(shape, dtype=dtype or get_default_dtype(), device=_device(device),
                           memory_format=memory_format, pin_memory=bool(pin_memory))  # fmt: skip
    _check_out_tensor(name, out)
    if dtype is not None and dtype != out.dtype:
        raise RuntimeError(f"dtype {dtype_word(dtype)} does not match dtype of out parameter ({dtype_word(out.dtype)})")
    if tuple(out.shape) != shape:  # (on a view of its own: other wrappers of out's memory keep their sizes)
        out._data = out._data.view(out._data.shape).resize_(shape)
    return out._data


# The factories whose out= torch resizes before anything else: a leaf that requires grad is refused by
# resize_ itself; the others refuse it as any op with out= does.
_RESIZED_FIRST = frozenset({"empty", "randn"})


def _check_out_tensor(name: str, out) -> None:
    """``out`` must be a Tensor, and (under grad mode) one that does not require grad, as torch's factories
    refuse to write into a leaf autograd follows."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out.requires_grad and grad_state.enabled:
        if name in _RESIZED_FIRST:
            raise RuntimeError("cannot resize variables that require grad")
        raise RuntimeError(
            f"aten::{name}(): functions with out=... arguments don't support automatic differentiation, but one of "
            "the arguments requires grad."
        )


def _finish_new(data: torch.Tensor, out, requires_grad: bool) -> Tensor:
    """The factory's result: a new tensor, or ``out`` (written in place: its version moves on)."""
    if out is None:
        return _finish(data, requires_grad)
    out._version_counter.bump()
    return out


def empty(*sizes, size=None, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
          pin_memory: bool | None = False, memory_format=torch.contiguous_format) -> Tensor:  # fmt: skip
    """An uninitialised tensor."""
    _check_layout("empty", layout, pin_memory)
    return _finish_new(_new("empty", sizes, size, dtype, device, out, memory_format, pin_memory), out, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, pin_memory: bool | None = False,
         requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A tensor filled with ``fill_value`` (dtype inferred from it like torch when not given)."""
    return _full("full", size, fill_value, out, dtype, layout, device, pin_memory, requires_grad)


def _full(name: str, size, fill_value, out, dtype, layout, device, pin_memory, requires_grad) -> Tensor:
    fill_value = _number(fill_value, name)
    _check_layout(name, layout, pin_memory)
    if dtype is None and out is None:
        dtype = torch.bool if isinstance(fill_value, bool) else (
            torch.int64 if isinstance(fill_value, numbers.Integral) else
            complex_of(get_default_dtype()) if isinstance(fill_value, complex) else get_default_dtype())  # fmt: skip
    if not isinstance(size, (tuple, list, torch.Size)):
        raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    data = _new(name, (size,), None, dtype, device, out, pin_memory=pin_memory)
    kernels.launch_fill_(data, _fill_value_as(fill_value, data))
    return _finish_new(data, out, requires_grad)


def _filled(name: str, sizes: tuple, size, value, out, dtype, layout, device, pin_memory, requires_grad) -> Tensor:
    """zeros and ones (and their ``new_*`` methods, which name themselves in their errors)."""
    _check_layout(name, layout, pin_memory)
    data = _new(name, sizes, size, dtype, device, out, pin_memory=pin_memory)
    kernels.launch_fill_(data, value)
    return _finish_new(data, out, requires_grad)


def zeros(*sizes, size=None, out=None, dtype=None, layout=None, device=None, pin_memory: bool | None = False,
          requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A tensor of zeros."""
    return _filled("zeros", sizes, size, 0, out, dtype, layout, device, pin_memory, requires_grad)


def ones(*sizes, size=None, out=None, dtype=None, layout=None, device=None, pin_memory: bool | None = False,
         requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A tensor of ones."""
    return _filled("ones", sizes, size, 1, out, dtype, layout, device, pin_memory, requires_grad)


def _like(input: Tensor, dtype, device, memory_format=torch.preserve_format, name: str = "empty_like",
          layout=None, pin_memory=False) -> torch.Tensor:  # fmt: skip
    """An uninitialised buffer shaped as ``input``: its dtype and device unless given, laid out as
    torch's ``*_like`` lay it out (``preserve_format``: input's strides when it is dense)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    _check_layout(name, layout, pin_memory)
    device = input.device if device is None else _device(device)
    dtype = as_dtype(dtype, name)
    data = torch.empty_like(input._data, dtype=dtype or input.dtype, device=device, memory_format=memory_format)
    return _pinned(data, pin_memory)


def empty_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
               pin_memory: bool | None = False, memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    return _finish(_like(input, dtype, device, memory_format, "empty_like", layout, pin_memory), requires_grad)


def zeros_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
               pin_memory: bool | None = False, memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    data = _like(input, dtype, device, memory_format, "zeros_like", layout, pin_memory)
    kernels.launch_fill_(data, 0)
    return _finish(data, requires_grad)


def ones_like(input: Tensor, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
              pin_memory: bool | None = False, memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    data = _like(input, dtype, device, memory_format, "ones_like", layout, pin_memory)
    kernels.launch_fill_(data, 1)
    return _finish(data, requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
              pin_memory: bool | None = False, memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    fill_value = _number(fill_value, "full_like")
    data = _like(input, dtype, device, memory_format, "full_like", layout, pin_memory)
    kernels.launch_fill_(data, _fill_value_as(fill_value, data))
    return _finish(data, requires_grad)


def factory_out(name: str, out, data: torch.Tensor) -> Tensor:
    """A factory's ``out=``: ``data`` (computed in out's dtype) copied into out, resized as ``_new`` resizes it."""
    buffer = _new(name, (), tuple(data.shape), data.dtype, None, out)
    if buffer.numel():
        elementwise_kernels.launch_unary("copy", data, out=buffer)
    return _finish_new(buffer, out, False)


def arange(start=None, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           pin_memory: bool | None = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless a bound is a float
    (numpy scalars and 0-d tensors are read as the numbers they hold). ``out=``: its dtype unless
    ``dtype`` is given (then they must agree); resized with torch's warning when it held another count."""
    if end is None:
        if start is None:
            raise TypeError('arange() missing 1 required positional arguments: "end"')
        start, end = 0, start
    elif start is None:  # (arange(end=3))
        start = 0
    _check_layout("arange", layout, pin_memory)
    values = tuple(
        value.item() if isinstance(value, Tensor) else as_python_scalar(value) for value in (start, end, step)
    )  # fmt: skip
    start, end, step = values
    for value in values:
        if isinstance(value, float) and not math.isfinite(value):
            raise RuntimeError(f"unsupported range: {start} -> {end}")
    dtype = as_dtype(dtype, "arange")
    if out is not None:
        _check_out_tensor("arange", out)
        dtype, device = dtype or out.dtype, out.device
    if dtype is None:
        dtype = get_default_dtype() if any(isinstance(v, float) for v in values) else torch.int64
    if dtype == torch.bool:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    if step != 0 and not dtype.is_floating_point and int(step) == 0:
        raise ValueError("step must be nonzero")  # (torch's words when an integer dtype truncates the step)
    if step != 0 and (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    data = kernels.launch_arange(start, end, step, dtype=dtype, device=_device(device))
    if out is not None:
        if out.numel() not in (0, data.numel()):
            warnings.warn(
                f"The number of elements in the out tensor of shape {list(out.shape)} is {out.numel()} which does not "
                f"match the computed number of elements {data.numel()}. Note that this may occur as a result of "
                f"rounding error. The out tensor will be resized to a tensor of shape ({data.numel()},).",
                UserWarning,
                stacklevel=2,
            )
        return factory_out("arange", out, data)
    return _finish(_pinned(data, pin_memory), requires_grad)


def linspace(start, end, steps: int, *, out=None, dtype=None, layout=None, device=None,
             pin_memory: bool | None = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (``out=``: in its dtype, resized
    silently, as torch's)."""
    for name, bound in (("start", start), ("end", end)):
        if isinstance(bound, Tensor) and bound.dim():
            raise RuntimeError(
                f"linspace only supports 0-dimensional start and end tensors, but got {name} with {bound.dim()} "
                "dimension(s)."
            )
    start, end, steps = (value.item() if isinstance(value, Tensor) else as_python_scalar(value)
                         for value in (start, end, steps))  # fmt: skip
    if not isinstance(steps, int) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' (position 3) must be int, not {type(steps).__name__}")
    _check_layout("linspace", layout, pin_memory)
    dtype = as_dtype(dtype, "linspace")
    if out is not None:
        _check_out_tensor("linspace", out)
        dtype, device = dtype or out.dtype, out.device
    if dtype == torch.bool:
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    dtype = dtype or get_default_dtype()
    # torch reads the bounds it uses as the dtype holds them (255.5 overflows uint8): none for no step,
    # only start for one
    for bound in (start, end)[: min(steps, 2)]:
        scalar_as(bound, dtype, checked=True)
    data = kernels.launch_linspace(float(start), float(end), int(steps), dtype=dtype, device=_device(device))
    return _finish(_pinned(data, pin_memory), requires_grad) if out is None else factory_out("linspace", out, data)


def eye(n: int, m: int | None = None, *, out=None, dtype=None, layout=None, device=None,
        pin_memory: bool | None = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The (n, m) identity matrix (``out=``: in its dtype, resized silently, as torch's). ``n`` and ``m``
    are ints as torch's parser reads them (numpy integers and one-element integer tensors too)."""
    n = as_int(n, "eye(): argument 'n' (position 1) must be int, not {}")
    m = n if m is None else as_int(m, "eye(): argument 'm' (position 2) must be int, not {}")
    for name, value in (("n", n), ("m", m)):
        if value < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    _check_layout("eye", layout, pin_memory)
    dtype = as_dtype(dtype, "eye")
    if out is not None:
        _check_out_tensor("eye", out)
        dtype, device = dtype or out.dtype, out.device
    data = kernels.launch_eye(n, m, dtype=dtype or get_default_dtype(), device=_device(device))
    return _finish(_pinned(data, pin_memory), requires_grad) if out is None else factory_out("eye", out, data)


def sampled(result: Tensor, out: Tensor | None = None) -> Tensor:
    """A new tensor a sampler has just filled, at version 0 as torch's samplers return it (the fill was a
    write no one could have seen; into ``out=`` it is a write, and counts)."""
    if out is None:
        result._version_counter.value = 0
    return result


def rand(*sizes, size=None, out=None, generator=None, dtype=None, layout=None, device=None,
         pin_memory: bool | None = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Samples from U[0, 1) (tritongrad's Philox stream: reproducible with manual_seed or a Generator;
    not torch's values)."""
    _check_layout("rand", layout, pin_memory)
    result = _finish_new(_new("rand", sizes, size, dtype, device, out, pin_memory=pin_memory), out, False)
    if result.dtype.is_complex:
        # torch's complex uniform: the real and imaginary parts each U[0, 1), filled through the real view
        parts = Tensor._wrap(torch.view_as_real(result._data), version_counter=result._version_counter)
        parts.uniform_(0.0, 1.0, generator=generator)
        sampled(result, out)
    else:
        sampled(result.uniform_(0.0, 1.0, generator=generator), out)
    return result.requires_grad_(requires_grad) if requires_grad else result


def randn(*sizes, size=None, out=None, generator=None, dtype=None, layout=None, device=None,
          pin_memory: bool | None = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Samples from N(0, 1)."""
    _check_layout("randn", layout, pin_memory)
    result = _finish_new(_new("randn", sizes, size, dtype, device, out, pin_memory=pin_memory), out, False)
    if result.dtype.is_complex:
        # torch's complex normal: E|z|^2 = 1, so the real and imaginary parts are each N(0, 1/2)
        parts = Tensor._wrap(torch.view_as_real(result._data), version_counter=result._version_counter)
        parts.normal_(0.0, math.sqrt(0.5), generator=generator)
        sampled(result, out)
    else:
        sampled(result.normal_(0.0, 1.0, generator=generator), out)
    return result.requires_grad_(requires_grad) if requires_grad else result


def randint(low=0, high=None, size: Sequence[int] | None = None, *, generator=None, out=None, dtype=None,
            layout=None, device=None, pin_memory: bool | None = False,
            requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Integers uniform in [low, high), int64 unless ``dtype`` (or ``out``) says otherwise;
    ``randint(high, size)`` draws from [0, high)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list, torch.Size)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if not isinstance(size, (tuple, list, torch.Size)):
        raise TypeError(
            f"randint() received an invalid combination of arguments - got ({type(low).__name__}, "
            f"{type(high).__name__}, {type(size).__name__}), but expected one of: (int high, tuple of ints size) or "
            "(int low, int high, tuple of ints size)"
        )
    for bound in (low, high):
        if isinstance(bound, int) and not -(2**63) <= bound < 2**63:
            raise ValueError("Overflow when unpacking long long")
    _check_layout("randint", layout, pin_memory)
    dtype = as_dtype(dtype, "randint")
    if requires_grad and not (dtype is not None and dtype.is_floating_point):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    dtype = dtype if dtype is not None or out is not None else torch.int64
    result = _finish_new(_new("randint", (), _size((size,), "randint"), dtype, device, out, pin_memory=pin_memory),
                         out, False)  # fmt: skip
    sampled(result.random_(low, high, generator=generator), out)
    return result.requires_grad_(requires_grad) if requires_grad else result


def rand_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
              pin_memory: bool | None = False, memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    data = _like(input, dtype, device, memory_format, "rand_like", layout, pin_memory)
    parts = torch.view_as_real(data) if data.dtype.is_complex else data  # (complex: each part U[0, 1))
    _finish(parts, False).uniform_(0.0, 1.0, generator=generator)
    result = _finish(data, False)
    return result.requires_grad_(requires_grad) if requires_grad else result


def randn_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
               pin_memory: bool | None = False, memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    data = _like(input, dtype, device, memory_format, "randn_like", layout, pin_memory)
    parts = torch.view_as_real(data) if data.dtype.is_complex else data  # (complex: each part N(0, 1/2))
    _finish(parts, False).normal_(0.0, math.sqrt(0.5) if data.dtype.is_complex else 1.0, generator=generator)
    result = _finish(data, False)
    return result.requires_grad_(requires_grad) if requires_grad else result


def randint_like(input: Tensor, *bounds, low=None, high=None, generator=None, dtype=None, layout=None, device=None,
                 requires_grad: bool = False, pin_memory: bool | None = False,
                 memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    """Integers uniform in [low, high) in ``input``'s shape: torch's forms ``randint_like(x, high)``,
    ``randint_like(x, low, high)`` (each bound positional or by keyword, ``low`` never alone)."""
    # torch's overloads are (input, high) and (input, low, high): a lone low (by keyword) names neither.
    given = len(bounds), low is not None, high is not None
    forms = {(1, False, False): (0, *bounds), (2, False, False): bounds, (1, False, True): (*bounds, high),
             (0, False, True): (0, high), (0, True, True): (low, high)}  # fmt: skip
    chosen = forms.get(given)
    if chosen is None or not all(isinstance(b, (numbers.Integral, Tensor)) for b in chosen):
        words = ["Tensor", *(type(b).__name__ for b in bounds)]
        keywords = (("low", low), ("high", high))
        words += [f"{name}={type(value).__name__}" for name, value in keywords if value is not None]
        tail = ("torch.memory_format memory_format = None, torch.dtype dtype = None, torch.layout layout = None, "
                "torch.device device = None, bool pin_memory = False, bool requires_grad = False)")  # fmt: skip
        overloads = "".join(f" * (Tensor input, {head}, *, {generator_word}{tail}\n"
                            for head in ("int low, int high", "Tensor high", "int high")
                            for generator_word in ("torch.Generator generator, ", ""))  # fmt: skip
        raise TypeError(
            f"randint_like() received an invalid combination of arguments - got ({', '.join(words)}), but expected "
            f"one of:\n{overloads}"
        )
    low, high = chosen
    dtype = as_dtype(dtype, "randint_like")
    if requires_grad and not (dtype or input.dtype).is_floating_point:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    data = _like(input, dtype, device, memory_format, "randint_like", layout, pin_memory)
    result = sampled(_finish(data, False).random_(low, high, generator=generator))
    return result.requires_grad_(requires_grad) if requires_grad else result


class NewMethods:
    """``x.new_zeros(...)`` and friends: a new tensor with x's dtype and device unless given
    (attached to Tensor below)."""

    def new_empty(self, *sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:  # fmt: skip
        _check_layout("new_empty", layout, pin_memory)
        data = _new("new_empty", sizes, size, dtype or self.dtype, device or self.device, None, pin_memory=pin_memory)
        return _finish(data, requires_grad)

    def new_zeros(self, *sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:  # fmt: skip
        return _filled("new_zeros", sizes, size, 0, None, dtype or self.dtype, layout, device or self.device,
                       pin_memory, requires_grad)  # fmt: skip

    def new_ones(self, *sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False,
                 pin_memory=False) -> Tensor:  # fmt: skip
        return _filled("new_ones", sizes, size, 1, None, dtype or self.dtype, layout, device or self.device,
                       pin_memory, requires_grad)  # fmt: skip

    def new_full(self, size, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
                 pin_memory=False) -> Tensor:  # fmt: skip
        return _full("new_full", size, fill_value, None, dtype or self.dtype, layout, device or self.device,
                     pin_memory, requires_grad)  # fmt: skip

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


attach_methods(NewMethods)
