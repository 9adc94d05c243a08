"""Tensor factories: tensor/as_tensor/from_numpy, empty/zeros/ones/full, arange/linspace/eye,
the ``*_like`` forms, and random tensors (rand/randn/randint)."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch.overrides import _get_current_function_mode_stack
from torch.utils._device import DeviceContext

from tritongrad import caller_warnings, runtime
from tritongrad.dtypes import as_dtype, as_python_scalar, complex_of, dtype_word, get_default_dtype, scalar_as
from tritongrad.kernels import creation as kernels
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.tensor import Tensor, attach_methods

__all__ = [
    "tensor", "as_tensor", "from_numpy", "empty", "zeros", "ones", "full", "arange", "linspace", "eye",
    "empty_like", "zeros_like", "ones_like", "full_like", "rand", "randn", "randint", "rand_like",
    "randn_like", "randint_like", "scalar_tensor", "set_default_device", "get_default_device",
]  # fmt: skip


_default_device: list[torch.device | None] = [None]  # set_default_device's choice (None: the runtime's device)


def set_default_device(device) -> None:
    """The device the factories (``zeros``, ``rand``, ``tensor``, ...) use when given none, as torch's
    (None: tritongrad's own device again)."""
    _default_device[0] = None if device is None else torch.device(device)


def get_default_device() -> torch.device:
    return _default_device[0] or runtime.device()


def _device(device) -> torch.device:
    if device is None:
        device = _default_device[0] or _context_device()
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
    """The sizes given to creation op ``name`` (as ``*size`` or one sequence), checked with torch's errors."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not {type(s).__name__}")
    for s in size:
        if s < 0:
            problem = f"Trying to create tensor with negative dimension {s}: {list(size)}"
            if name == "zeros":  # (torch's zeros checks its sizes itself, in its own words)
                raise RuntimeError(f"zeros: Dimension size must be non-negative. ({problem})")
            raise RuntimeError(problem)
    return tuple(int(s) for s in size)


def _finish(data: torch.Tensor, requires_grad: bool) -> Tensor:
    return Tensor._wrap(data, requires_grad=requires_grad)


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, numpy arrays or Tensors).

    Example::

        >>> tritongrad.tensor([1., 2.], requires_grad=True)
        tensor([1., 2.], requires_grad=True)
    """
    dtype = as_dtype(dtype, "tensor")
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
        # numpy makes the copy (torch.tensor(ndarray) would ask torch for a _to_copy); a dtype
        # change is then a cast kernel.
        copy = np.array(data, dtype=data.dtype.newbyteorder("="), order="C", copy=True)
        result = Tensor._wrap(torch.from_numpy(copy)).to(device=_device(device), dtype=dtype)
        return _finish(result._data, requires_grad)
    host = torch.tensor(_host_value(data), dtype=dtype)
    if dtype is None and host.dtype == torch.float32 and get_default_dtype() != torch.float32:
        host = torch.tensor(_host_value(data), dtype=get_default_dtype())
    return _finish(host.to(_device(device)), requires_grad)


def _host_value(data):
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        # a tensor inside a list is a number, as in torch (tensor([tensor([1.])]) is tensor([1.]))
        return [_scalar_of(d) if isinstance(d, Tensor) else _host_value(d) for d in data]
    return data


def _scalar_of(tensor: Tensor):
    if tensor.numel() != 1:
        raise ValueError("only one element tensors can be converted to Python scalars")
    return tensor.item()


def scalar_tensor(value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return tensor(
        value, dtype=as_dtype(dtype, "scalar_tensor") or get_default_dtype(), device=device, requires_grad=requires_grad
    )


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but returns ``data`` itself when it already is a matching Tensor."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    if isinstance(data, np.ndarray) and dtype is None and _device(device).type == "cpu":
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with a numpy array."""
    return Tensor._wrap(torch.from_numpy(array))


def _new(name: str, sizes: tuple, size, dtype, device, out, memory_format=torch.contiguous_format) -> torch.Tensor:
    """The buffer a factory fills: new, of the sizes given as ``*sizes`` or the ``size=`` keyword;
    or ``out``'s own, resized to them as torch resizes an out= tensor."""
    dtype = as_dtype(dtype, name)
    if size is not None:
        if sizes:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        sizes = (size,)
    shape = _size(sizes, name)
    if out is None:
        return torch.empty(
            shape, dtype=dtype or get_default_dtype(), device=_device(device), memory_format=memory_format
        )
    _check_out_tensor(name, out)
    if dtype is not None and dtype != out.dtype:
        raise RuntimeError(f"dtype {dtype_word(dtype)} does not match dtype of out parameter ({dtype_word(out.dtype)})")
    if tuple(out.shape) != shape:  # (on a view of its own: other wrappers of out's memory keep their sizes)
        out._data = out._data.view(out._data.shape).resize_(shape)
    return out._data


def _check_out_tensor(name: str, out) -> None:
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")


def _finish_new(data: torch.Tensor, out, requires_grad: bool) -> Tensor:
    """The factory's result: a new tensor, or ``out`` (written in place: its version moves on)."""
    if out is None:
        return _finish(data, requires_grad)
    out._version_counter.bump()
    return out


def empty(*sizes, size=None, out=None, dtype=None, device=None, requires_grad: bool = False,
          memory_format=torch.contiguous_format, **_: object) -> Tensor:  # fmt: skip
    """An uninitialised tensor."""
    return _finish_new(_new("empty", sizes, size, dtype, device, out, memory_format), out, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value`` (dtype inferred from it like torch when not given)."""
    fill_value = as_python_scalar(fill_value)
    if dtype is None and out is None:
        dtype = torch.bool if isinstance(fill_value, bool) else (
            torch.int64 if isinstance(fill_value, numbers.Integral) else
            complex_of(get_default_dtype()) if isinstance(fill_value, complex) else get_default_dtype())  # fmt: skip
    if not isinstance(size, (tuple, list, torch.Size)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    data = _new("full", (size,), None, dtype, device, out)
    if isinstance(fill_value, (bool, int, float)):
        scalar_as(fill_value, data.dtype, checked=True)  # a value dtype cannot hold: torch's overflow error
    kernels.launch_fill_(data, fill_value)
    return _finish_new(data, out, requires_grad)


def zeros(*sizes, size=None, out=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    data = _new("zeros", sizes, size, dtype, device, out)
    kernels.launch_fill_(data, 0)
    return _finish_new(data, out, requires_grad)


def ones(*sizes, size=None, out=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    data = _new("ones", sizes, size, dtype, device, out)
    kernels.launch_fill_(data, 1)
    return _finish_new(data, out, requires_grad)


def _like(input: Tensor, dtype, device, memory_format=torch.preserve_format, name: str = "empty_like") -> torch.Tensor:
    """An uninitialised buffer shaped as ``input``: its dtype and device unless given, laid out as
    torch's ``*_like`` lay it out (``preserve_format``: input's strides when it is dense)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    device = input.device if device is None else _device(device)
    dtype = as_dtype(dtype, name)
    return torch.empty_like(input._data, dtype=dtype or input.dtype, device=device, memory_format=memory_format)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
               memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    return _finish(_like(input, dtype, device, memory_format), requires_grad)


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
               memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    return full_like(input, 0, dtype=dtype, device=device, requires_grad=requires_grad, memory_format=memory_format)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
              memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    return full_like(input, 1, dtype=dtype, device=device, requires_grad=requires_grad, memory_format=memory_format)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False,
              memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    data = _like(input, dtype, device, memory_format, "full_like")
    if isinstance(fill_value, (bool, int, float)):
        scalar_as(fill_value, data.dtype, checked=True)  # a value dtype cannot hold: torch's overflow error
    kernels.launch_fill_(data, fill_value)
    return _finish(data, requires_grad)


def factory_out(name: str, out, data: torch.Tensor) -> Tensor:
    """A factory's ``out=``: ``data`` (computed in out's dtype) copied into out, resized as ``_new`` resizes it."""
    buffer = _new(name, (), tuple(data.shape), data.dtype, None, out)
    if buffer.numel():
        elementwise_kernels.launch_unary("copy", data, out=buffer)
    return _finish_new(buffer, out, False)


def arange(start, end=None, step=1, *, out=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless a bound is a float
    (numpy scalars and 0-d tensors are read as the numbers they hold). ``out=``: its dtype unless
    ``dtype`` is given (then they must agree); resized with torch's warning when it held another count."""
    if end is None:
        start, end = 0, start
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
    return _finish(data, requires_grad)


def linspace(start, end, steps: int, *, out=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (``out=``: in its dtype, resized
    silently, as torch's)."""
    start, end, steps = (value.item() if isinstance(value, Tensor) else as_python_scalar(value)
                         for value in (start, end, steps))  # fmt: skip
    if not isinstance(steps, int) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' (position 3) must be int, not {type(steps).__name__}")
    dtype = as_dtype(dtype, "linspace")
    if out is not None:
        _check_out_tensor("linspace", out)
        dtype, device = dtype or out.dtype, out.device
    if dtype == torch.bool:
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    data = kernels.launch_linspace(float(start), float(end), int(steps), dtype=dtype or get_default_dtype(),
                                   device=_device(device))  # fmt: skip
    return _finish(data, requires_grad) if out is None else factory_out("linspace", out, data)


def eye(n: int, m: int | None = None, *, out=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """The (n, m) identity matrix (``out=``: in its dtype, resized silently, as torch's)."""
    for name, value in (("n", n), ("m", m)):
        if value is not None and value < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    dtype = as_dtype(dtype, "eye")
    if out is not None:
        _check_out_tensor("eye", out)
        dtype, device = dtype or out.dtype, out.device
    data = kernels.launch_eye(n, n if m is None else m, dtype=dtype or get_default_dtype(), device=_device(device))
    return _finish(data, requires_grad) if out is None else factory_out("eye", out, data)


def rand(*sizes, size=None, out=None, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples from U[0, 1) (tritongrad's Philox stream: reproducible with manual_seed or a Generator;
    not torch's values)."""
    result = _finish_new(_new("rand", sizes, size, dtype, device, out), out, False)
    result.uniform_(0.0, 1.0, generator=generator)
    return result.requires_grad_(requires_grad) if requires_grad else result


def randn(*sizes, size=None, out=None, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples from N(0, 1)."""
    result = _finish_new(_new("randn", sizes, size, dtype, device, out), out, False)
    result.normal_(0.0, 1.0, generator=generator)
    return result.requires_grad_(requires_grad) if requires_grad else result


def randint(low=0, high=None, size: Sequence[int] | None = None, *, generator=None, out=None, dtype=None,
            device=None, requires_grad: bool = False) -> Tensor:  # fmt: skip
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
    dtype = as_dtype(dtype, "randint")
    if requires_grad and not (dtype is not None and dtype.is_floating_point):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    dtype = dtype if dtype is not None or out is not None else torch.int64
    result = _finish_new(_new("randint", (), _size((size,)), dtype, device, out), out, False)
    result.random_(low, high, generator=generator)
    return result.requires_grad_(requires_grad) if requires_grad else result


def rand_like(input: Tensor, *, generator=None, dtype=None, device=None, requires_grad: bool = False,
              memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    result = _finish(_like(input, dtype, device, memory_format), False).uniform_(0.0, 1.0, generator=generator)
    return result.requires_grad_(requires_grad) if requires_grad else result


def randn_like(input: Tensor, *, generator=None, dtype=None, device=None, requires_grad: bool = False,
               memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    result = _finish(_like(input, dtype, device, memory_format), False).normal_(0.0, 1.0, generator=generator)
    return result.requires_grad_(requires_grad) if requires_grad else result


def randint_like(input: Tensor, low, high=None, *, generator=None, dtype=None, device=None,
                 requires_grad: bool = False, memory_format=torch.preserve_format) -> Tensor:  # fmt: skip
    if high is None:
        low, high = 0, low
    dtype = as_dtype(dtype, "randint_like")
    if requires_grad and not (dtype or input.dtype).is_floating_point:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    result = _finish(_like(input, dtype, device, memory_format), False).random_(low, high, generator=generator)
    return result.requires_grad_(requires_grad) if requires_grad else result


class NewMethods:
    """``x.new_zeros(...)`` and friends: a new tensor with x's dtype and device unless given
    (attached to Tensor below)."""

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return empty(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return ones(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                             requires_grad=requires_grad)  # fmt: skip

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


attach_methods(NewMethods)
