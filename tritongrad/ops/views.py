"""Views (no data movement), basic indexing, copies and casts, with their backwards.

A view is a torch view of the input's buffer: the output shares storage and the
version counter with its input, so an in-place change through either is seen by
both and by the saved-tensor checks. Each view's backward is the inverse view
(or, for indexing, writing the gradient into a zero tensor of the input's shape).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence

import torch
from torch._prims_common import suggest_memory_format

from tritongrad import caller_warnings, runtime
from tritongrad.autograd import function as _function
from tritongrad.autograd.engine import dense_strides
from tritongrad.autograd.function import Function, move_retained_grad
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import (
    PYTHON_TYPE_DTYPES,
    as_dtype,
    dtype_from_type_name,
    python_type_name,
    tensor_type_name,
    type_meta_name,
)
from tritongrad.kernels import creation as creation_kernels
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels import indexing as indexing_kernels
from tritongrad.kernels.strided import contiguous_strides
from tritongrad.shapes import as_int, normalize_dim, shape_arg
from tritongrad.tensor import INFERENCE_VERSION_COUNTER, Tensor, attach_methods


def _view_of(x, data: torch.Tensor):
    """A tritongrad Tensor over ``data`` (a view of ``x._data``) that shares x's version counter."""
    result = Tensor._wrap(data, version_counter=x._version_counter)
    result._base = x._base if x._base is not None else x
    result._history_epoch = result._base._history_epoch
    if not is_grad_enabled():  # (made under no_grad, or recorded: a recorded one gets its own history)
        result._made_without_grad = True
    if result._is_inference is not x._is_inference:
        # a view of an inference tensor is one; a view of a normal tensor, even one taken inside
        # inference_mode, is not, as torch's
        result._is_inference = x._is_inference
        if x._is_inference:  # (with no version counter, even when x is the writable alias detach() gives)
            result._version_counter = INFERENCE_VERSION_COUNTER
    if getattr(x, "_multi_output_view", None) is not None:  # (torch names the latest view op then)
        result._multi_output_view = (None, 0)
    return result


def _multiple_views(parts: tuple, name: str) -> tuple:
    """Marks the outputs of a function returning several views (split, unbind): torch refuses to
    write into them (or views of them) in place while autograd records (ops/inplace.py)."""
    for number, part in enumerate(parts):
        part._multi_output_view = (name, number)
    return parts


class View(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = tuple(x.shape)
        return _view_of(x, x._data.view(shape))

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape), None


class Reshape(Function):
    """A reshape that had to copy (the input was not viewable); torch names it like a view of a clone."""

    _backward_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = tuple(x.shape)
        return Tensor._wrap(contiguous_copy(x)._data.view(shape))

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return _view_of(x, x._data.permute(dims))

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for position, dim in enumerate(ctx.dims):
            inverse[dim] = position
        return grad.permute(inverse), None


class Transpose(Function):
    @staticmethod
    def forward(ctx, x, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return _view_of(x, x._data.transpose(dim0, dim1))

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(*ctx.dims), None, None


class T(Function):
    @staticmethod
    def forward(ctx, x):
        return _view_of(x, x._data.t())

    @staticmethod
    def backward(ctx, grad):
        return grad.t()


class Unsqueeze(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return _view_of(x, x._data.unsqueeze(dim))

    @staticmethod
    def backward(ctx, grad):
        return grad.squeeze(ctx.dim), None


# The in-place view ops (x.t_(), x.unsqueeze_(0), ...) record the same Functions under torch's
# names for their in-place overloads.
class TInPlace(T):
    _backward_name = "TBackward1"


class UnsqueezeInPlace(Unsqueeze):
    _backward_name = "UnsqueezeBackward1"


class TransposeInPlace(Transpose):
    _backward_name = "TransposeBackward1"


class Squeeze(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.input_shape = tuple(x.shape)
        data = x._data
        if dims is None:
            data = data.squeeze()
        else:
            for dim in sorted(dims, reverse=True):
                data = data.squeeze(dim)
        return _view_of(x, data)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape), None


class SqueezeDim(Squeeze):
    """squeeze(dim): torch's overload 1 (a dim that is not of size 1 is left, still a node)."""

    _backward_name = "SqueezeBackward1"


class SqueezeDims(Squeeze):
    """squeeze((dim, ...)): torch's overload 2."""

    _backward_name = "SqueezeBackward2"


class SqueezeInPlace(Squeeze):
    """squeeze_(): torch's in-place overloads are numbered after the out-of-place ones."""

    _backward_name = "SqueezeBackward3"


class SqueezeDimInPlace(Squeeze):
    _backward_name = "SqueezeBackward4"


class SqueezeDimsInPlace(Squeeze):
    _backward_name = "SqueezeBackward5"


# squeeze's Function by (the form of its dim argument, in place)
_SQUEEZE_FUNCTIONS = {
    ("none", False): Squeeze, ("dim", False): SqueezeDim, ("dims", False): SqueezeDims,
    ("none", True): SqueezeInPlace, ("dim", True): SqueezeDimInPlace, ("dims", True): SqueezeDimsInPlace,
}  # fmt: skip


class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = tuple(x.shape)
        return _view_of(x, x._data.expand(shape))

    @staticmethod
    def backward(ctx, grad):
        return grad.sum_to_size(ctx.input_shape), None


class AsStrided(Function):
    """A general strided view of the input's storage (``storage_offset`` counts from the storage's
    start, and the strides are the storage's, whatever the input's own layout, as torch's; the view
    may reach before or after the input's own elements).

    Its gradient is torch's AsStridedBackward0: each view element's gradient is added at the
    storage position it reads (overlapping elements accumulate), and the input gets the sums at
    its own positions (AsStridedScatter, differentiable in turn). An input whose own elements share
    memory (an expanded tensor) is not differentiated here (torch divides by the sharing count).
    """

    @staticmethod
    def forward(ctx, x, size, stride, storage_offset):
        view = x._data.as_strided(size, stride, storage_offset)  # (torch checks the geometry)
        ctx.input_geometry = (tuple(x.shape), tuple(x._data.stride()))
        ctx.geometry = (tuple(size), tuple(stride), view.storage_offset() - x._data.storage_offset())
        return _view_of(x, view)

    @staticmethod
    def backward(ctx, grad):
        input_shape, input_strides = ctx.input_geometry
        if math.prod(ctx.geometry[0]) == 0:  # an empty view: zeros that depend on nothing, as torch's
            zeros = torch.empty(input_shape, dtype=grad.dtype, device=grad.device)
            return _wrap(creation_kernels.launch_fill_(zeros, 0)), None, None, None
        if _maybe_overlapping(input_shape, input_strides):
            raise NotImplementedError(
                f"as_strided: tritongrad cannot differentiate as_strided of an input whose elements share memory "
                f"(shape {list(input_shape)}, strides {list(input_strides)}, e.g. an expanded tensor); make the "
                "input contiguous first"
            )
        return AsStridedScatter.apply(grad, ctx.input_geometry, ctx.geometry), None, None, None


def _maybe_overlapping(shape: tuple, strides: tuple) -> bool:
    """torch's test (as_strided's backward) for a layout in which two elements may share memory."""
    reach = 0
    for stride, size in sorted((stride, size) for size, stride in zip(shape, strides) if size != 1):
        if stride <= reach:
            return True
        reach += stride * (size - 1)
    return False


def _is_row_major(shape: tuple, strides: tuple) -> bool:
    """True if a tensor of ``shape`` with ``strides`` is contiguous (size-1 dims' strides do not count)."""
    return all(size == 1 or stride == step for size, stride, step in zip(shape, strides, contiguous_strides(shape)))


def _positions_spanned(input_geometry: tuple, geometry: tuple) -> tuple[int, int]:
    """[low, high): the storage positions (relative to the input's first element) that the input of
    ``input_geometry`` = (shape, strides) and a view of ``geometry`` = (size, stride, start) cover together."""
    low, high = 0, 0
    for shape, strides, start in ((*input_geometry, 0), geometry):
        if math.prod(shape) == 0:
            continue
        last = start + sum((extent - 1) * step for extent, step in zip(shape, strides))
        low, high = min(low, start), max(high, last + 1)
    return low, high


class AsStridedScatter(Function):
    """The gradient of as_strided: the input-shaped tensor whose element at storage position p holds
    the sum of ``grad``'s elements that viewed p.

    Plan: one zeroed buffer over the positions the view and the input span together, one
    accumulating scatter of ``grad`` into it with the view's strides (atomic adds, float32 for
    half types), then the input's positions read out of it (with the input's strides). Its own
    gradient (the adjoint) is the view again, taken of the incoming gradient placed at the input's
    positions in zeros. torch names this node after its last op, an as_strided of the storage:
    AsStridedBackward0.
    """

    _backward_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, grad, input_geometry, geometry):
        size, stride, start = geometry
        input_shape, input_strides = input_geometry
        low, high = _positions_spanned(input_geometry, geometry)
        ctx.input_geometry, ctx.geometry, ctx.span = input_geometry, geometry, (low, high)
        g = grad._data
        storage = torch.empty((high - low,), dtype=indexing_kernels.accumulation_dtype(g.dtype), device=g.device)
        creation_kernels.launch_fill_(storage, 0)
        if math.prod(size) > 0:
            no_offset = torch.empty((1,), dtype=torch.int64, device=g.device)
            creation_kernels.launch_fill_(no_offset, 0)
            indexing_kernels.launch_scatter_(
                storage[start - low :], stride, no_offset, (0,) * len(size), g, size, accumulate=True
            )
        own = storage.as_strided(input_shape, input_strides, storage.storage_offset() - low)
        if own.dtype != g.dtype or not own.is_contiguous():
            own = elementwise_kernels.launch_unary(
                "copy", own, out=torch.empty(input_shape, dtype=g.dtype, device=g.device)
            )
        return Tensor._wrap(own)

    @staticmethod
    def backward(ctx, grad):
        size, stride, start = ctx.geometry
        input_shape, input_strides = ctx.input_geometry
        low, high = ctx.span
        numel = math.prod(input_shape)
        if _is_row_major(input_shape, input_strides):
            flat = grad.contiguous().reshape(-1)
            if (low, high) != (0, numel):  # the view reaches outside the input: zeros there
                flat = IndexGrad.apply(flat, (high - low,), slice(-low, numel - low))
        else:  # the input's elements at their storage positions in zeros: this same scatter, of a 1-d target
            flat = AsStridedScatter.apply(grad, ((high - low,), (1,)), (input_shape, input_strides, -low))
        return AsStrided.apply(flat, size, stride, flat._data.storage_offset() + start - low), None, None


class AsStridedInPlace(AsStrided):
    """as_strided_: torch's in-place overload's name."""

    _backward_name = "AsStridedBackward1"


class SetNotDifferentiable(Function):
    """The history a non-leaf that requires grad takes after set_: torch's NotImplemented node (the new
    values do not depend on the old ones, and torch gives set_ no derivative)."""

    _backward_name = "torch::autograd::NotImplemented"

    @staticmethod
    def forward(ctx, old_history, data):
        return Tensor._wrap(data)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for set_ is not implemented")


def _is_basic_index(key) -> bool:
    if type(key) in (int, slice):
        return True
    items = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (int, slice, type(None), type(Ellipsis))) and not isinstance(k, bool) for k in items)


class BasicIndex(Function):
    """x[key] for ints, slices, None and Ellipsis: a view."""

    @staticmethod
    def forward(ctx, x, key):
        ctx.input_shape, ctx.key = tuple(x.shape), key
        ctx.input_dtype = x.dtype
        return _view_of(x, x._data[key])

    @staticmethod
    def backward(ctx, grad):
        return IndexGrad.apply(grad, ctx.input_shape, ctx.key), None


class IndexGrad(Function):
    """The gradient of x[key]: zeros of x's shape with ``grad`` written at ``key``."""

    _backward_name = "SliceBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, input_shape, key):
        ctx.key = key
        out = torch.empty(input_shape, dtype=grad.dtype, device=grad.device)
        creation_kernels.launch_fill_(out, 0)
        elementwise_kernels.launch_unary("copy", grad._data, out=out[key])
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.key], None, None


class Select(BasicIndex):
    _backward_name = "SelectBackward0"


class Slice(BasicIndex):
    _backward_name = "SliceBackward0"


# One node does the whole key; it carries the name of the last op torch would apply for it.
_BASIC_INDEX_BY_NAME = {
    "SelectBackward0": Select,
    "SliceBackward0": Slice,
    "UnsqueezeBackward0": type("Unsqueeze_index", (BasicIndex,), {"_backward_name": "UnsqueezeBackward0"}),
    "AliasBackward0": type("Alias_index", (BasicIndex,), {"_backward_name": "AliasBackward0"}),
}


def _is_full_slice(item: slice, length: int) -> bool:
    """torch's test for skipping a slice, on the key as written: start 0, stop at or past the end, step 1."""
    return item.start in (None, 0) and (item.stop is None or item.stop >= length) and item.step in (None, 1)


def _basic_index_node_name(shape: tuple, key) -> str:
    """torch's grad_fn name for x[key]: torch applies one op per key entry, left to right (int: select,
    None: unsqueeze, a slice that drops something: slice; full slices and ``...`` are skipped), and
    the result's node is the last of them, or an alias when there is none."""
    if isinstance(key, slice):
        return "SliceBackward0"  # a lone slice always slices in torch, even a full one
    items = key if isinstance(key, tuple) else (key,)
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    name, dim = "AliasBackward0", 0
    for item in items:
        if item is Ellipsis:
            dim += len(shape) - consumed
        elif item is None:
            name = "UnsqueezeBackward0"
        elif isinstance(item, int):
            name, dim = "SelectBackward0", dim + 1
        else:
            if not _is_full_slice(item, shape[dim]):
                name = "SliceBackward0"
            dim += 1
    return name


def narrow(x, dim: int, start, length: int):
    """x[..., start:start + length, ...] along ``dim`` as a view; torch's errors for a 0-dim x, a start
    outside [-size, size], a negative length or a range past the end (never a silently short view)."""
    if isinstance(start, Tensor) and (start.dim() != 0 or start.dtype.is_floating_point or start.dtype == torch.bool):
        raise RuntimeError("start must be an 0-dim integral Tensor.")
    for argument in (dim, start, length):
        if not hasattr(argument, "__index__"):  # ints, numpy ints and integer tensors; not floats
            raise TypeError(
                f"narrow() received an invalid combination of arguments - got ({type(dim).__name__}, "
                f"{type(start).__name__}, {type(length).__name__}), but expected (int dim, int start, int length)"
            )
    if x.dim() == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = normalize_dim(dim, x.dim())
    size, start, length = x.shape[dim], int(start), int(length)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start + size if start < 0 else start
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return x[(slice(None),) * dim + (slice(start, start + length),)]


def basic_index(x, key):
    """x[key] for basic keys; IndexError like torch for out-of-range integers."""
    if not _is_basic_index(key):
        raise IndexError(
            "tritongrad supports basic indexing (integers, slices, None, ...) "
            f"and integer/bool tensor indexing along one dimension; got {key!r}"
        )
    try:
        data = x._data[key]
    except IndexError as error:
        raise IndexError(str(error)) from None
    if not (x.requires_grad and is_grad_enabled()):
        return _view_of(x, data)
    return _BASIC_INDEX_BY_NAME[_basic_index_node_name(tuple(x.shape), key)].apply(x, key)


# ---------------------------------------------------------------------------------------------
# Copies and casts
# ---------------------------------------------------------------------------------------------


def contiguous_copy(x, memory_format: torch.memory_format = torch.contiguous_format):
    """A copy of x's data (no autograd) laid out as ``memory_format`` says (torch's rule for
    ``preserve_format``: x's own strides when x is dense, else contiguous); the building block of
    clone/contiguous."""
    if memory_format is torch.contiguous_format:
        out = torch.empty(tuple(x.shape), dtype=x.dtype, device=x.device)
    else:
        out = torch.empty_like(x._data, memory_format=memory_format)
    elementwise_kernels.launch_unary("copy", x._data, out=out)
    return Tensor._wrap(out)


class Clone(Function):
    @staticmethod
    def forward(ctx, x, memory_format=torch.contiguous_format):
        return contiguous_copy(x, memory_format)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class ToCopy(Function):
    """Conversion to another dtype and/or device."""

    @staticmethod
    def forward(ctx, x, dtype, device):
        ctx.source_dtype, ctx.source_device = x.dtype, x.device
        data = x._data
        moving = device is not None and torch.device(device) != data.device
        if moving and data.device.type == "cpu":
            # from the host to the GPU: move first, so that the cast kernel runs on the GPU
            data, moving = data.to(device), False
        if dtype is not None and dtype != data.dtype:  # (into or out of complex: kernels/elementwise.py)
            data = elementwise_kernels.launch_unary("copy", data, out_dtype=dtype)
        if moving:
            data = data.to(device)
        if data is x._data:
            # to(copy=True) with nothing to change still returns new memory
            data = elementwise_kernels.launch_unary("copy", data, out=torch.empty_like(data))
        return Tensor._wrap(data)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(dtype=ctx.source_dtype, device=ctx.source_device), None, None


def expand_shape(x, sizes: Sequence[int]) -> tuple:
    """Resolves -1 entries of an expand() size like torch."""
    sizes = shape_arg(sizes)
    if len(sizes) < x.dim():
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(x.shape)}}}, size={list(sizes)}): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({x.dim()})"
        )
    offset = len(sizes) - x.dim()
    resolved = []
    for i, size in enumerate(sizes):
        if size == -1:
            if i < offset:
                raise RuntimeError(
                    f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}"
                )
            size = x.shape[i - offset]
        elif i >= offset and x.shape[i - offset] not in (1, size):
            raise RuntimeError(
                f"The expanded size of the tensor ({size}) must match the existing size "
                f"({x.shape[i - offset]}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(x.shape)}"
            )
        resolved.append(size)
    return tuple(resolved)


# ---------------------------------------------------------------------------------------------
# In-place writes through views (torch's CopySlices)
# ---------------------------------------------------------------------------------------------
#
# ``v = base[...]; v.mul_(3)`` changes base's values, so base's history must change too. The op
# runs out of place on a snapshot of v (recorded as usual); its result is copied into v's memory;
# then base's history becomes a CopySlices node over (base's old history, the result), and v's
# becomes a view of the new base (AsStridedBackward0). Other views of base made earlier take the
# same fresh view history when next used (Tensor._refresh_view_history). The geometry of a view
# is its (shape, strides, storage offset) in the base's storage; the base must be dense, so that
# a gradient buffer with the base's strides has the same layout.


def _wrap(data: torch.Tensor):
    return Tensor._wrap(data)


def view_geometry(view) -> tuple:
    """(shape, strides, storage offset relative to the base) of a view, in elements."""
    data, base = view._data, view._base._data
    return tuple(data.shape), tuple(data.stride()), data.storage_offset() - base.storage_offset()


def _layout(tensor) -> tuple:
    """What _dense_like needs of a base, without keeping its memory alive."""
    data = tensor._data
    return tuple(data.shape), tuple(data.stride()), data.dtype, data.device


def _dense_like(layout: tuple) -> torch.Tensor:
    """Uninitialised memory with a base's shape and strides."""
    shape, strides, dtype, device = layout
    return torch.empty_strided(shape, strides, dtype=dtype, device=device)


def _region(buffer: torch.Tensor, geometry: tuple) -> torch.Tensor:
    shape, strides, offset = geometry
    return buffer.as_strided(shape, strides, buffer.storage_offset() + offset)


def _no_double_backward(name: str) -> None:
    if is_grad_enabled():
        raise NotImplementedError(f"{name}: tritongrad cannot differentiate the backward of a write through a view")


class AsStridedView(Function):
    """The view ``geometry`` of ``base``: the history a view takes after base's history changed in place."""

    _backward_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, base, geometry):
        ctx.base_layout, ctx.geometry = _layout(base), geometry
        shape, strides, offset = geometry
        return _view_of(base, base._data.as_strided(shape, strides, base._data.storage_offset() + offset))

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("AsStridedBackward0")
        grad_base = _dense_like(ctx.base_layout)
        creation_kernels.launch_fill_(grad_base, 0)
        elementwise_kernels.launch_unary("copy", grad._data, out=_region(grad_base, ctx.geometry))
        return _wrap(grad_base), None

    @staticmethod
    def jvp(ctx, base_tangent, _geometry):
        # (forward-mode AD, autograd/forward_ad.py: the same region of the base's tangent)
        return _wrap(_region(_in_layout(base_tangent, ctx.base_layout), ctx.geometry))


def _in_layout(tangent, layout: tuple) -> torch.Tensor:
    """A copy of ``tangent``'s values laid out as the base ``layout`` describes (in the tangent's dtype)."""
    shape, strides, _, device = layout
    buffer = torch.empty_strided(shape, strides, dtype=tangent.dtype, device=device)
    elementwise_kernels.launch_unary("copy", tangent._data, out=buffer)
    return buffer


class CopySlices(Function):
    """base with ``values`` written into the view ``geometry`` (already written: forward only aliases).

    Backward: the base's old history gets the gradient outside the view, the values get the
    gradient inside it.
    """

    _backward_name = "torch::autograd::CopySlices"

    @staticmethod
    def forward(ctx, base, values, geometry):
        ctx.base_layout, ctx.geometry = _layout(base), geometry
        return Tensor._wrap(base._data)

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("CopySlices")
        grad_base = _dense_like(ctx.base_layout)
        elementwise_kernels.launch_unary("copy", grad._data, out=grad_base)
        region = _region(grad_base, ctx.geometry)
        grad_values = None
        if ctx.needs_input_grad[1]:
            grad_values = torch.empty(tuple(region.shape), dtype=grad.dtype, device=grad.device)
            elementwise_kernels.launch_unary("copy", region, out=grad_values)
            grad_values = _wrap(grad_values)
        creation_kernels.launch_fill_(region, 0)
        return (_wrap(grad_base) if ctx.needs_input_grad[0] else None), grad_values, None

    @staticmethod
    def jvp(ctx, base_tangent, values_tangent, _geometry):
        # (forward-mode AD: the base's tangent with the values' tangent in the view's region)
        tangent = _in_layout(base_tangent, ctx.base_layout)
        elementwise_kernels.launch_unary("copy", values_tangent._data, out=_region(tangent, ctx.geometry))
        return _wrap(tangent)


def rebase_after_write_through_view(view, result) -> None:
    """After ``result`` was written into ``view``'s memory: base's history becomes CopySlices(base's old
    history, result), and the view's a view of the new base (see the section comment)."""
    base = view._base
    data = base._data
    if not dense_strides(tuple(data.shape), tuple(data.stride())):
        raise NotImplementedError(
            f"an in-place write through a view of a tensor with strides {tuple(data.stride())} (not dense) "
            "cannot be recorded; make the base contiguous first"
        )
    geometry = view_geometry(view)
    old_history = Tensor._wrap(data)
    old_history.grad_fn, old_history._output_nr, old_history._requires_grad = (
        base.grad_fn,
        base._output_nr,
        base.requires_grad,
    )
    rebased = CopySlices.apply(old_history, result, geometry)
    if rebased._forward_grad is not None:  # (forward-mode AD: the base's tangent, from CopySlices.jvp)
        base._forward_grad = rebased._forward_grad
    old_node = base.grad_fn
    base.grad_fn, base._output_nr, base._requires_grad = rebased.grad_fn, 0, True
    base._history_epoch += 1
    move_retained_grad(base, old_node)
    view._refresh_view_history()


_function.rebase_view = rebase_after_write_through_view  # (custom Functions' mark_dirty on a view)


def _transpose_of_scalar(x: Tensor, name: str) -> Tensor:
    """mT / mH / adjoint() of a tensor of fewer than two dims: a 0-d tensor is its own (a view, with
    torch's deprecation warning), a 1-d one is refused in torch's words."""
    if x.dim() == 1:
        raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of matrices. Got 1-D tensor.")
    advice = "This function is the identity in these cases." if name == "mT" else "Consider using x.conj()."
    subject = "adjoint()" if name == "adjoint()" else f"Tensor.{name}"
    warnings.warn(f"{subject} is deprecated on 0-D tensors. {advice}", UserWarning, stacklevel=3)
    return x.view(())


def _conjugate_transpose(x: Tensor, name: str) -> Tensor:
    if x.dim() < 2:
        return _transpose_of_scalar(x, name)
    return x.transpose(-2, -1).conj() if x.dtype.is_complex else x.transpose(-2, -1)


def _buffer_or_value(argument):
    return argument._data if isinstance(argument, Tensor) else argument


_SET_PARAMETERS = ("source", "storage_offset", "size", "stride")


def _set_tensor_source_as_storage(self: Tensor, args: tuple, kwargs: dict) -> tuple | None:
    """set_'s tensor overloads as its storage overload, which is what torch's do: the source's storage,
    from the source's own offset (plus ``storage_offset`` when a size is given; the source must then
    be contiguous), with torch's dtype check. None when the source is no Tensor or the arguments fit
    no tensor overload (torch's parser then refuses them)."""
    if len(args) > len(_SET_PARAMETERS) or any(name in kwargs for name in _SET_PARAMETERS[: len(args)]):
        return None
    bound = dict(zip(_SET_PARAMETERS, args)) | kwargs
    source = bound.get("source")
    if not isinstance(source, Tensor) or set(bound) - set(_SET_PARAMETERS):
        return None
    if len(bound) > 1:
        offset, size, stride = bound.get("storage_offset"), bound.get("size"), bound.get("stride")
        sequences = (tuple, list, torch.Size)
        if (
            type(offset) is not int
            or not isinstance(size, sequences)
            or (stride is not None and not isinstance(stride, sequences))
        ):
            return None
    buffer = source._data
    if buffer.dtype != self.dtype:
        raise RuntimeError(
            f"Could not set tensor of type {type_meta_name(buffer.dtype)} to a tensor of type "
            f"{type_meta_name(self.dtype)}"
        )
    if len(bound) == 1:
        return buffer.untyped_storage(), buffer.storage_offset(), buffer.shape, buffer.stride()
    if not buffer.is_contiguous():
        raise RuntimeError("passed in tensor to be used as storage must be contiguous")
    return buffer.untyped_storage(), buffer.storage_offset() + offset, tuple(size), stride


def _t(x: Tensor, function: type[Function]) -> Tensor:
    if x.dim() > 2:
        name = "t_" if function is TInPlace else "t"
        raise RuntimeError(f"{name}() expects a tensor with <= 2 dimensions, but self is {x.dim()}D")
    if not (x.requires_grad and is_grad_enabled()):
        return _view_of(x, x._data.t())
    return function.apply(x)


def _transpose(x: Tensor, dim0: int, dim1: int, function: type[Function]) -> Tensor:
    dim0, dim1 = normalize_dim(dim0, x.dim()), normalize_dim(dim1, x.dim())
    if not (x.requires_grad and is_grad_enabled()):
        return _view_of(x, x._data.transpose(dim0, dim1))
    return function.apply(x, dim0, dim1)


def _unsqueeze(x: Tensor, dim: int, function: type[Function]) -> Tensor:
    dim = normalize_dim(dim, x.dim() + 1)
    if not (x.requires_grad and is_grad_enabled()):
        return _view_of(x, x._data.unsqueeze(dim))
    return function.apply(x, dim)


def _squeeze(x: Tensor, dim, *, in_place: bool) -> Tensor:
    """squeeze's three forms (all dims, one dim, a list of dims), each its own node name, as torch's."""
    if dim is None:
        return _SQUEEZE_FUNCTIONS["none", in_place].apply(x, None)
    form = "dims" if isinstance(dim, (tuple, list)) else "dim"
    dims = tuple(normalize_dim(d, x.dim()) for d in (dim if form == "dims" else (dim,)))
    seen = set()
    for d in dims:
        if d in seen:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        seen.add(d)
    return _SQUEEZE_FUNCTIONS[form, in_place].apply(x, tuple(d for d in dims if x.dim() > 0 and x.shape[d] == 1))


def _as_strided(x: Tensor, size, stride, storage_offset, function: type[Function]) -> Tensor:
    offset = x._data.storage_offset() if storage_offset is None else storage_offset
    return function.apply(x, tuple(size), tuple(stride), offset)


_UNFLATTEN_SIZE_REFUSAL = (
    "unflatten(): argument 'sizes' (position 2) must be tuple of ints, but found element of type {}"
)


def _unflatten_sizes(sizes) -> tuple:
    """unflatten's sizes as ints (ints, numpy integers, one-element integer tensors); torch's TypeError
    for anything else (a float, a bool)."""
    return tuple(as_int(size, f"{_UNFLATTEN_SIZE_REFUSAL} at pos {position}") for position, size in enumerate(sizes))


class ViewMethods:
    """Tensor's view, copy and conversion methods (attached to Tensor below): argument parsing and
    torch's errors here, the Functions above do the work."""

    def _refresh_view_history(self) -> None:
        """A view whose base's history was replaced in place (after the view was made) takes a fresh
        history from the base, as torch regenerates a view's grad_fn (AsStridedBackward0)."""
        base = self._base
        if base is None or self._history_epoch == base._history_epoch or not is_grad_enabled():
            return
        marked = getattr(self, "_multi_output_view", None)
        if marked is not None and marked[0] is not None and base._requires_grad:
            # (torch gives an output of split/unbind no fresh history: using it is an error)
            name, number = marked
            raise RuntimeError(
                f"Output {number} of {name} is a view and its base or another view of its base has been modified "
                "inplace. This view is the output of a function that returns multiple views. Such functions do not "
                "allow the output views to be modified inplace. You should replace the inplace operation by an "
                "out-of-place one."
            )
        self._history_epoch = base._history_epoch
        if base._requires_grad:
            fresh = AsStridedView.apply(base, view_geometry(self))
            self._grad_fn, self._output_nr, self._requires_grad = fresh._grad_fn, 0, True

    def __iter__(self):
        if self.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reversed__(self) -> Tensor:
        """``reversed(x)``: x flipped along dim 0 (a tensor, as torch's; a 0-d tensor is itself)."""
        return self if self.dim() == 0 else self.flip(0)

    def __contains__(self, element) -> bool:
        """``element in x``: whether any element of x equals it (a number or a tensor, broadcast), as torch's."""
        if isinstance(element, (Tensor, numbers.Number)):
            return bool((element == self).any().item())
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}.")

    def __delitem__(self, key) -> None:
        raise TypeError("Tensor does not support deleting items")

    def as_subclass(self, cls: type) -> Tensor:
        """An alias of this tensor (same memory and version counter, AliasBackward0 in the graph) whose
        class is ``cls``, a subclass of Tensor, as torch's."""
        if not isinstance(cls, type):
            raise TypeError(f"cls must be a type (got {type(cls).__name__})")
        if not issubclass(cls, Tensor):
            raise TypeError(
                "Creating a Tensor subclass from a class that does not inherit from Tensor is not possible. Make "
                "sure your class inherits from Tensor."
            )
        alias = basic_index(self, Ellipsis)
        alias.__class__ = cls
        return alias

    def to(self, *args, **kwargs) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; returns self if nothing changes."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        memory_format = kwargs.pop("memory_format", torch.preserve_format)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        # torch's three signatures, positionally: (device, dtype, non_blocking, copy), (dtype, non_blocking,
        # copy), (tensor, non_blocking, copy); anything else is its "invalid combination" TypeError
        rest = list(args)
        if rest and isinstance(rest[0], Tensor):
            other = rest.pop(0)
            dtype, device = other.dtype, other.device
        elif rest and _is_dtype_argument(rest[0]):
            dtype = rest.pop(0)
        elif rest and (rest[0] is None or isinstance(rest[0], (str, torch.device)) or type(rest[0]) is int):
            device = rest.pop(0)  # (an int is a CUDA device index, as torch.device(0); None: no device)
            if rest and _is_dtype_argument(rest[0]):
                dtype = rest.pop(0)
        if len(rest) > 2 or not all(isinstance(flag, bool) for flag in rest):
            given = ", ".join(python_type_name(a) for a in args)
            raise TypeError(f"to() received an invalid combination of arguments - got ({given}), but expected one of:")
        if len(rest) == 2:
            copy = copy or rest[1]
        if dtype is not None and type(dtype) is not torch.dtype:
            dtype = as_dtype(dtype, "to")
        if device is not None:
            device = torch.device(device)
            if device.type == "cuda" and device.index is None:
                device = torch.device("cuda", torch.cuda.current_device())
            elif device.type == "meta":
                runtime.allow_meta_tensors()
        same_dtype = dtype is None or dtype == self.dtype
        same_device = device is None or device == self.device
        result = self if same_dtype and same_device and not copy else ToCopy.apply(self, dtype, device)
        if memory_format is not torch.preserve_format and not result.is_contiguous(memory_format=memory_format):
            result = result.clone(memory_format=memory_format)  # (to(memory_format=channels_last) and the like)
        return result

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

    def byte(self) -> Tensor:
        return self.to(torch.uint8)

    def char(self) -> Tensor:
        return self.to(torch.int8)

    def short(self) -> Tensor:
        return self.to(torch.int16)

    def _resize_own_buffer(self, resize: Callable[[torch.Tensor], object]) -> Tensor:
        """Runs torch's ``resize`` on a torch view of this tensor's own: detach(), ``.data`` and ``x.data =``
        wrap the same torch tensor, and torch resizes the tensor object in place, while torch's aliases
        each keep their sizes (they share only the storage, which torch grows in place for all of them).
        The version moves only when the sizes change, as torch's."""
        if self.requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        old = self._data
        self._data = data = old.as_strided(old.shape, old.stride(), old.storage_offset())
        resize(data)  # (torch's errors; a wrong memory format is refused after the resize, as torch's)
        if data.shape != old.shape:
            self._version_counter.bump()
        return self

    def resize_(self, *sizes, memory_format=None) -> Tensor:
        """Gives this tensor ``sizes`` in place (contiguous, or ``memory_format``'s strides; new elements
        uninitialised; the storage grows when it must), as torch's."""
        shape = shape_arg(sizes)
        return self._resize_own_buffer(lambda data: data.resize_(shape, memory_format=memory_format))

    def resize_as_(self, the_template: Tensor, *, memory_format=None) -> Tensor:
        """resize_ to the template's sizes (with ``memory_format``'s strides; ``preserve_format``: the
        template's), as torch's."""
        if not isinstance(the_template, Tensor):
            raise TypeError(
                f"resize_as_(): argument 'the_template' (position 1) must be Tensor, not {type(the_template).__name__}"
            )
        template = the_template._data
        if memory_format is torch.preserve_format:  # (the template's layout, as torch suggests it)
            memory_format = suggest_memory_format(template)
        return self._resize_own_buffer(lambda data: data.resize_(template.shape, memory_format=memory_format))

    def set_(self, *args, **kwargs) -> Tensor:
        """Makes this tensor look at another tensor's or a storage's memory (all of it, or ``size``/``stride``
        from ``storage_offset``), or at nothing (a 0-element tensor) without a source, as torch's.

        torch does the work on a fresh torch tensor (memory and metadata only), so its overloads, checks,
        messages and storage growth are torch's: a tensor source must be contiguous when a size is given,
        and ``storage_offset`` then counts from the source's own offset. A non-leaf that requires grad
        takes torch's NotImplemented node; a leaf that requires grad is refused while grad mode is on."""
        data = torch.empty((0,), dtype=self.dtype, device=self.device)
        storage_arguments = _set_tensor_source_as_storage(self, args, kwargs)
        if storage_arguments is not None:
            data.set_(*storage_arguments)
        elif args or kwargs:  # (a storage, or arguments torch refuses: its own parser's TypeError)
            data.set_(*[_buffer_or_value(arg) for arg in args], **{k: _buffer_or_value(v) for k, v in kwargs.items()})
        recording = self.requires_grad and is_grad_enabled()
        if recording and self.is_leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        old_history = None
        if recording:
            old_history = Tensor._wrap(self._data)
            old_history.grad_fn, old_history._output_nr, old_history._requires_grad = (
                self.grad_fn,
                self._output_nr,
                True,
            )
        self._data = data
        self._version_counter.bump()
        if old_history is not None:
            marker = SetNotDifferentiable.apply(old_history, data)
            self.grad_fn, self._output_nr = marker.grad_fn, 0
        return self

    def adjoint(self) -> Tensor:
        """The conjugate transpose of the last two dims (for real tensors, ``mT``); a 0-d tensor is its
        own, a 1-d one has none (torch's rules)."""
        return _conjugate_transpose(self, "adjoint()")

    @property
    def mH(self) -> Tensor:  # noqa: N802 (torch's name)
        return _conjugate_transpose(self, "mH")

    @property
    def layout(self) -> torch.layout:
        """torch.strided: every tritongrad tensor is a strided one (no sparse layouts)."""
        return torch.strided

    @property
    def H(self) -> Tensor:  # noqa: N802 (torch's name)
        if self.dim() == 0:
            return _transpose_of_scalar(self, "H")
        if self.dim() == 1 or self.dim() > 2:
            raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.dim()}-D tensor.")
        return self.mH  # (torch's node: TransposeBackward0, as mH's)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def type(self, dtype=None, non_blocking: bool = False):
        """With no argument, torch's type name (``torch.FloatTensor``); else a copy converted to
        ``dtype`` (a dtype or a type name such as ``"torch.DoubleTensor"``; a ``torch.cuda.*`` name
        moves it to the GPU, which must exist)."""
        if dtype is None:
            return tensor_type_name(self.dtype, self.device)
        if isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), torch.dtype):
            dtype = dtype.dtype  # a legacy type: x.type(torch.LongTensor)
        if isinstance(dtype, str):
            if dtype.startswith("torch.cuda."):
                if not torch.cuda.is_available():
                    raise RuntimeError(
                        "Cannot initialize CUDA without ATen_cuda library. PyTorch splits its backend into two "
                        "shared libraries: a CPU library and a CUDA library; this error has occurred because you "
                        "are trying to use some CUDA functionality, but the CUDA library has not been loaded by "
                        "the dynamic linker for some reason."
                    )
                return self.to("cuda", dtype_from_type_name(dtype), non_blocking=non_blocking)
            return self.to(dtype_from_type_name(dtype))
        if isinstance(dtype, torch.dtype):
            return self.to(dtype)
        if not isinstance(dtype, type):
            raise TypeError("dtype must be a type, str, or dtype object")
        # torch reads a type by its name (torch.DoubleTensor is "torch.DoubleTensor"), so a Python or
        # numpy type is no dtype here: x.type(float) is torch's ValueError "invalid type: 'float'"
        name = dtype.__name__ if dtype.__module__ == "builtins" else f"{dtype.__module__}.{dtype.__name__}"
        return self.to(dtype_from_type_name(name))

    @property
    def T(self) -> Tensor:
        if self.dim() != 2:
            caller_warnings.warn_once(
                "T of not 2-d",
                "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it "
                "will throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
                "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
            )
            return self.permute(*range(self.dim() - 1, -1, -1))
        return self.permute(1, 0)  # (torch's .T is a permute: PermuteBackward0, not t()'s TBackward0)

    @property
    def mT(self) -> Tensor:
        if self.dim() < 2:
            return _transpose_of_scalar(self, "mT")
        return self.transpose(-2, -1)

    def view(self, *shape, size=None) -> Tensor:
        """A view with a new shape (no copy); fails like torch if the strides do not allow it."""
        if len(shape) == 1 and (isinstance(shape[0], torch.dtype) or type(shape[0]) is type):
            # The same bytes read as another dtype (torch checks sizes and strides); as torch's, it shares
            # memory and the version counter but not the history: the result never requires grad.
            return Tensor._wrap(self._data.view(as_dtype(shape[0], "view")), version_counter=self._version_counter)
        if not shape and size is None:
            raise TypeError(
                "view() received an invalid combination of arguments - got (), but expected one of:\n"
                " * (torch.dtype dtype)\n * (tuple of ints size)\n"
            )
        shape = shape_arg(shape, size)
        if not (self.requires_grad and is_grad_enabled()):
            return _view_of(self, self._data.view(shape))
        return View.apply(self, shape)

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other.shape)

    def reshape(self, *sizes, shape=None) -> Tensor:
        """A view when the strides allow, else a copy."""
        shape = shape_arg(sizes, shape)
        try:
            data = self._data.view(shape)
        except RuntimeError as error:
            if "view size is not compatible" not in str(error):
                raise
            return Reshape.apply(self, shape)
        if not (self.requires_grad and is_grad_enabled()):
            return _view_of(self, data)
        return View.apply(self, shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def permute(self, *given, dims=None) -> Tensor:
        if not given and dims is None:
            raise TypeError('permute() missing 1 required positional arguments: "dims"')
        dims = shape_arg(given, dims)
        if len(dims) != self.dim():
            raise RuntimeError(
                f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
                f"desired ordering of dimensions i.e. input.dim() = {self.dim()} is not equal to "
                f"len(dims) = {len(dims)}"
            )
        dims = tuple(normalize_dim(d, self.dim()) for d in dims)
        if sorted(dims) != list(range(self.dim())):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        if not (self.requires_grad and is_grad_enabled()):
            return _view_of(self, self._data.permute(dims))
        return Permute.apply(self, dims)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return _transpose(self, dim0, dim1, Transpose)

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        return self.transpose(axis0, axis1)

    def swapdims(self, dim0: int, dim1: int) -> Tensor:
        return self.transpose(dim0, dim1)

    def t(self) -> Tensor:
        return _t(self, T)

    def _become_view(self, view: Callable[[Tensor], Tensor]) -> Tensor:
        """``x.unsqueeze_(0)`` and the other in-place view ops: x itself takes the view's sizes and
        strides (same storage, same version counter, which moves on) and, when recorded, its history
        (the view's node, under torch's name for the in-place overload), as torch's."""
        recording = self.requires_grad and is_grad_enabled()
        if recording and self.is_leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        result = view(self)
        self._data = result._data
        self._version_counter.bump()
        if recording:
            self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
        return self

    def unsqueeze_(self, dim: int) -> Tensor:
        return self._become_view(lambda x: _unsqueeze(x, dim, UnsqueezeInPlace))

    def squeeze_(self, dim=None) -> Tensor:
        return self._become_view(lambda x: _squeeze(x, dim, in_place=True))

    def t_(self) -> Tensor:
        return self._become_view(lambda x: _t(x, TInPlace))

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        return self._become_view(lambda x: _transpose(x, dim0, dim1, TransposeInPlace))

    def swapdims_(self, dim0: int, dim1: int) -> Tensor:
        return self.transpose_(dim0, dim1)

    def swapaxes_(self, axis0: int, axis1: int) -> Tensor:
        return self.transpose_(axis0, axis1)

    def as_strided_(self, size, stride, storage_offset=None) -> Tensor:
        return self._become_view(lambda x: _as_strided(x, size, stride, storage_offset, AsStridedInPlace))

    def unsqueeze(self, dim: int) -> Tensor:
        return _unsqueeze(self, dim, Unsqueeze)

    def squeeze(self, dim=None) -> Tensor:
        return _squeeze(self, dim, in_place=False)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """The dims start_dim..end_dim as one; self itself when that changes nothing (one dim), as torch's."""
        if self.dim() == 0:
            normalize_dim(start_dim, 0), normalize_dim(end_dim, 0)  # (torch's errors for other dims)
            return self.reshape(1)
        start = normalize_dim(start_dim, self.dim())
        end = normalize_dim(end_dim, self.dim())
        if start > end:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        if start == end:
            return self
        shape = tuple(self.shape)
        middle = 1
        for size in shape[start : end + 1]:
            middle *= size
        return self.reshape(shape[:start] + (middle,) + shape[end + 1 :])

    def unflatten(self, dim: int, sizes) -> Tensor:
        try:  # (torch's IndexError for a dim out of range; of a 0-d tensor, its "unexpected error")
            dim = normalize_dim(dim, self.dim(), scalar=False)
        except IndexError as error:
            if self.dim():
                raise
            raise RuntimeError(f"unflatten got an unexpected error:\n{error}") from None
        shape, sizes = tuple(self.shape), _unflatten_sizes(sizes)
        if not sizes:
            raise RuntimeError("unflatten: sizes must be non-empty")
        known = math.prod(size for size in sizes if size != -1)
        inferred = sizes.count(-1) == 1 and known >= 0
        if (not inferred and -1 not in sizes and known != shape[dim]) or (
            inferred and shape[dim] and (known == 0 or shape[dim] % known)
        ):
            raise RuntimeError(
                f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} ({shape[dim]}) "
                "in the input tensor"
            )
        return self.view(shape[:dim] + sizes + shape[dim + 1 :])

    def expand(self, *sizes, size=None) -> Tensor:
        shape = expand_shape(self, shape_arg(sizes, size))
        if not (self.requires_grad and is_grad_enabled()):
            return _view_of(self, self._data.expand(shape))
        return Expand.apply(self, shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        return narrow(self, dim, start, length)

    def select(self, dim: int, index: int) -> Tensor:
        index = as_int(index, "select(): argument 'index' (position 2) must be int, not {}")
        if self.dim() == 0:
            raise IndexError("select() cannot be applied to a 0-dim tensor.")
        dim = normalize_dim(dim, self.dim())
        size = self.shape[dim] if self.dim() else 1
        if not -size <= index < size:
            raise IndexError(
                f"select(): index {index} out of range for tensor of size {list(self.shape)} at dimension {dim}"
            )
        return Select.apply(self, (slice(None),) * dim + (index,))

    def __deepcopy__(self, memo: dict) -> Tensor:
        """A leaf with a copy of this tensor's values (and, unless it is a Parameter, of its .grad), of
        the same class and requires_grad; torch's error for a non-leaf."""
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the "
                "moment."
            )
        if id(self) in memo:
            return memo[id(self)]
        copied = type(self)._wrap(contiguous_copy(self)._data)
        copied._requires_grad = self.requires_grad
        if self._grad is not None and type(self) is Tensor:
            copied._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = copied
        return copied

    def as_strided(self, size, stride, storage_offset=None) -> Tensor:
        """A view of this tensor's storage with the given sizes, strides and offset (torch checks them)."""
        return _as_strided(self, size, stride, storage_offset, AsStrided)

    def contiguous(self, memory_format: torch.memory_format = torch.contiguous_format) -> Tensor:
        """self if already contiguous in ``memory_format``, else such a copy (CloneBackward0)."""
        if self._data.is_contiguous(memory_format=memory_format):
            return self
        return Clone.apply(self, memory_format)

    def clone(self, *, memory_format: torch.memory_format = torch.preserve_format) -> Tensor:
        """A copy with its own memory, laid out as self when self is dense (torch's preserve_format);
        gradients flow back to self."""
        return Clone.apply(self, memory_format)


attach_methods(ViewMethods)


def _is_dtype_argument(value) -> bool:
    """A dtype as Tensor.to takes one positionally: a torch.dtype or a Python type torch maps to one."""
    return isinstance(value, torch.dtype) or (type(value) is type and value in PYTHON_TYPE_DTYPES)
