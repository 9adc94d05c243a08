"""Tensor indexing with torch's rules, reads and writes; the index and mask functions; cat and stack.

``x[key]`` with a key holding tensors (or lists, ranges, numpy arrays, bools) works as in torch:

1. the basic part of the key (ints, slices, None, ``...``) is applied first, as a view;
2. each index tensor indexes one dim of that view, and a bool mask of k dims stands for k index
   tensors (its nonzero coordinates); all of them broadcast together to one shape B;
3. if the indexed dims are adjacent, B takes their place in the result, else B comes first
   (``x[:, i, j]`` has shape (x.shape[0], *B), ``x[i, :, j]`` has (*B, x.shape[1])).

Such a read is an ``IndexPlan`` (the indexed dims, the index tensors, where the result dims come
from) and one gather launch; the write ``x[key] = v`` is a scatter through the same plan.
``index_select``, ``gather``, ``take``, ``scatter``, ``index_add`` and the rest are plans too,
differing only in where their result dims come from (see kernels/indexing.py).

Bounds: indices given as host data (lists, ranges, numpy arrays) are checked on the host before
anything is launched. Index *tensors* are checked inside the offsets kernel (an index out of
range reads as 0, so nothing faults) and reported as kernels/device_checks.py says: at the call
in the interpreter (as torch's CPU path raises), at the next readback on a GPU (as torch's CUDA
path asserts on the device), so indexing with a tensor costs a training step no host sync.
Masks need one read-back anyway: the number of kept elements decides the result's shape
(``x[mask] = value`` for one value needs none: it is a masked fill).
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Sequence

import numpy as np
import torch

from tritongrad import caller_warnings, creation
from tritongrad.autograd.function import Function
from tritongrad.dtypes import complex_scalar_as, dtype_word, result_type, scalar_as, tensor_type_name, type_meta_name
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels import indexing as kernels
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.strided import (
    broadcast_shapes,
    check_writable,
    has_internal_overlap,
    is_non_overlapping_and_dense,
)
from tritongrad.ops import views
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.elementwise import Where
from tritongrad.ops.inplace import apply_inplace
from tritongrad.ops.out_argument import check_no_grad, out_variant, prepare_out, write_out
from tritongrad.shapes import normalize_dim
from tritongrad.tensor import Tensor, attach_methods

_wrap = Tensor._wrap


# ---------------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------------


def _bounds_error(value: int, dim: int, size: int) -> Exception:
    return IndexError(f"index {value} is out of bounds for dimension {dim} with size {size}")


class IndexPlan:
    """The elements of a source of shape ``src_shape`` that an indexing op reads or writes.

    Element o of the result (shape ``out_shape``) is the source element whose coordinate along
    ``dims[k]`` is ``indices[k][b(o)]`` (a negative value counting from the end when ``wrap``)
    and whose other coordinates are result coordinates: source dim d walks result dim
    ``src_out_dims[d]``, and b(o) is o's coordinates along the result dims ``index_out_dims``.

    indices: torch integer tensors of one shape B (broadcast views are fine). ``error(value,
    dim, size)`` makes the exception for an index out of range; ``checked`` says the indices are
    known to be in range (a mask's coordinates). As torch's indexing, a plan that reads or writes
    no element (another dim of the source is empty) checks no index, unless ``check_when_empty``
    (index_select's rule). Offsets are computed once per source layout. ``watched``: the user's
    index tensors the indices come from; a Function using the plan saves them for backward, so a
    backward after one of them was modified in place raises torch's error, as torch's saved index.
    """

    def __init__(
        self,
        src_shape: Sequence[int],
        dims: Sequence[int],
        indices: Sequence[torch.Tensor],
        out_shape: Sequence[int],
        src_out_dims: dict[int, int],
        index_out_dims: Sequence[int],
        *,
        wrap: bool = True,
        error=_bounds_error,
        checked: bool = False,
        check_when_empty: bool = False,
        watched: tuple[Tensor, ...] = (),
    ) -> None:
        self.src_shape, self.out_shape = tuple(src_shape), tuple(out_shape)
        self.watched = watched
        checked = checked or (not check_when_empty and math.prod(self.out_shape) == 0)
        self.dims, self.indices = list(dims), list(indices)
        self.src_out_dims, self.index_out_dims = dict(src_out_dims), list(index_out_dims)
        self.wrap, self.error, self._checked = wrap, error, checked
        self._layouts: dict[tuple, tuple] = {}
        # a 1-d index_add's plan: the dim along which its sums of float16/bfloat16 run in index order, rounded
        # after every value, as torch's CPU index_add of a vector adds them (scatter_add sums them in float32)
        self.half_sums_along: int | None = None

    def _offsets(self, strides: Sequence[int]) -> tuple:
        """(offsets, source strides per result dim, offsets strides per result dim) for a source
        with ``strides``; raises ``error`` for the first index out of range (checked once)."""
        strides = tuple(strides)
        layout = self._layouts.get(strides)
        if layout is not None:
            return layout
        sizes = [self.src_shape[d] for d in self.dims]
        offsets, _ = kernels.launch_index_offsets(
            self.indices, sizes, [strides[d] for d in self.dims], wrap=self.wrap, check=not self._checked,
            on_bad=lambda k, value: self.error(value, self.dims[k], sizes[k]),
        )  # fmt: skip
        self._checked = True
        src_strides = [0] * len(self.out_shape)
        for d, o in self.src_out_dims.items():
            src_strides[o] += strides[d]
        offsets_strides = [0] * len(self.out_shape)
        for stride, o in zip(kernels.contiguous_strides(offsets.shape), self.index_out_dims):
            offsets_strides[o] += stride
        layout = (offsets, tuple(src_strides), tuple(offsets_strides))
        self._layouts[strides] = layout
        return layout

    def gather(self, src: torch.Tensor) -> torch.Tensor:
        """A new tensor of ``out_shape``: src's elements at the plan's positions."""
        offsets, src_strides, offsets_strides = self._offsets(src.stride())
        return kernels.launch_gather(src, src_strides, offsets, offsets_strides, self.out_shape)

    def scatter_multiply_(self, dst: torch.Tensor, values: torch.Tensor, dim: int) -> torch.Tensor:
        """Multiplies dst at the plan's positions by ``values`` (an elementwise plan along ``dim``:
        only elements on one line along ``dim`` may name the same position)."""
        return self.scatter_reduce_(dst, values, dim, "prod")

    def scatter_reduce_(self, dst: torch.Tensor, values: torch.Tensor, dim: int, op: str) -> torch.Tensor:
        """dst at the plan's positions combined with ``values`` by ``op`` (kernels.SCATTER_REDUCTIONS),
        in index order along ``dim`` (an elementwise plan along ``dim``, as scatter_multiply_)."""
        offsets, dst_strides, offsets_strides = self._offsets(dst.stride())
        return kernels.launch_scatter_reduce_(
            dst, dst_strides, offsets, offsets_strides, values, self.out_shape, dim, op
        )

    def scatter_(self, dst: torch.Tensor, values: torch.Tensor, accumulate: bool, allow_overlap: bool = False
                 ) -> torch.Tensor:  # fmt: skip
        """Writes (or adds) ``values``, broadcast to ``out_shape``, at the plan's positions of dst
        (``allow_overlap``: dst may be expanded, see ``_put_inplace``)."""
        wide = kernels.accumulation_dtype(dst.dtype)
        in_order = self.half_sums_along is not None and dst.dtype in (torch.float16, torch.bfloat16)
        if accumulate and in_order and not allow_overlap:
            return self.scatter_reduce_(dst, values, self.half_sums_along, "sum")
        if accumulate and wide != dst.dtype:
            # No atomic add for this dtype: accumulate in a dense widened copy, then narrow back. An
            # expanded dst gets one buffer element per memory location (its broadcast dims cut to 1),
            # expanded back as dst is, so that adds to aliased positions land on one element.
            target = dst
            if allow_overlap:
                sizes = [1 if stride == 0 else size for size, stride in zip(dst.shape, dst.stride())]
                target = dst.as_strided(sizes, dst.stride(), dst.storage_offset())
            buffer = elementwise_kernels.launch_unary(
                "copy", target, out=torch.empty(target.shape, dtype=wide, device=dst.device)
            )
            self.scatter_(buffer.expand(dst.shape), values, accumulate, allow_overlap)
            elementwise_kernels.launch_unary("copy", buffer, out=target)
            return dst
        offsets, dst_strides, offsets_strides = self._offsets(dst.stride())
        return kernels.launch_scatter_(
            dst, dst_strides, offsets, offsets_strides, values, self.out_shape, accumulate=accumulate,
            allow_overlap=allow_overlap,
        )  # fmt: skip


def _along_dim_plan(
    shape, dim: int, index: Tensor | torch.Tensor, *, wrap: bool, error=_bounds_error, check_when_empty: bool = False
) -> IndexPlan:
    """The plan of index_select/index_add/...: a 1-D ``index`` replaces dim ``dim`` of ``shape``."""
    watched = (index,) if isinstance(index, Tensor) else ()
    index = _buffer(index).reshape(-1)
    out_shape = tuple(shape[:dim]) + (index.shape[0],) + tuple(shape[dim + 1 :])
    others = {d: d for d in range(len(shape)) if d != dim}
    return IndexPlan(
        shape, [dim], [index], out_shape, others, [dim], wrap=wrap, error=error, check_when_empty=check_when_empty,
        watched=watched,
    )  # fmt: skip


def _scatter_bounds_error(value: int, dim: int, size: int) -> Exception:
    return RuntimeError(f"index {value} is out of bounds for dimension {dim} with size {size}")


def _elementwise_plan(shape, dim: int, index: Tensor, *, wrap: bool = False, error=_scatter_bounds_error) -> IndexPlan:
    """The plan of gather/scatter: ``index`` has the result's shape and gives the coordinate
    along ``dim``; every other coordinate is the result's own. An empty index (torch checks neither
    its dtype nor its shape) names nothing: it stands as an int64 index of its shape."""
    data = index._data
    if data.numel() == 0:
        data = torch.empty(data.shape, dtype=torch.int64, device=data.device)
    others = {d: d for d in range(min(len(shape), data.dim())) if d != dim}
    return IndexPlan(
        shape, [dim], [data], data.shape, others, range(data.dim()), wrap=wrap, error=error, watched=(index,)
    )


def _buffer(index: Tensor | torch.Tensor) -> torch.Tensor:
    return index._data if isinstance(index, Tensor) else index


def _save_watched(ctx, plan: IndexPlan, needed: bool = True) -> None:
    """Saves the plan's index tensors (see IndexPlan) when the backward will read the indices
    (``needed``: as torch's, which saves an index only for a gradient formula that uses it), to be
    checked by ``_check_watched``."""
    ctx.watching = needed and bool(plan.watched)
    if ctx.watching:
        ctx.save_for_backward(*plan.watched)


def _check_watched(ctx) -> None:
    if ctx.watching:
        ctx.saved_tensors  # noqa: B018 (reading them raises if one was modified in place)


# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------


class Index(Function):
    """x[plan]: one gather. The gradient adds into zeros, so a repeated index accumulates."""

    _backward_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, plan):
        ctx.plan = plan
        _save_watched(ctx, plan)
        return _wrap(plan.gather(x._data))

    @staticmethod
    def backward(ctx, grad):
        _check_watched(ctx)
        return IndexGrad.apply(grad, ctx.plan), None


class IndexSelect(Index):
    _backward_name = "IndexSelectBackward0"


class GatherFunction(Index):
    _backward_name = "GatherBackward0"


class Take(Function):
    """x read as 1-D in row-major order, at the plan's positions."""

    _backward_name = "TakeBackward0"

    @staticmethod
    def forward(ctx, x, plan):
        ctx.plan, ctx.shape = plan, tuple(x.shape)
        _save_watched(ctx, plan)
        data = x._data if x.is_contiguous() else views.contiguous_copy(x)._data
        return _wrap(plan.gather(data.view(-1)))

    @staticmethod
    def backward(ctx, grad):
        _check_watched(ctx)
        return IndexGrad.apply(grad, ctx.plan).reshape(ctx.shape), None


class IndexGrad(Function):
    """Zeros of the plan's source shape with ``grad`` added at its positions (atomically: an index
    may repeat). torch computes it as ``zeros.index_put_(indices, grad, accumulate=True)``."""

    _backward_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, grad, plan):
        ctx.plan = plan
        wide = kernels.accumulation_dtype(grad.dtype)  # half-precision gradients add up in float32
        out = torch.empty(plan.src_shape, dtype=wide, device=grad.device)
        launch_fill_(out, 0)
        plan.scatter_(out, grad._data, accumulate=True)
        return _wrap(out if wide == grad.dtype else elementwise_kernels.launch_unary("copy", out, out_dtype=grad.dtype))

    @staticmethod
    def backward(ctx, grad):
        return Index.apply(grad, ctx.plan), None


def _check_scalar_int(value) -> None:
    """A Python int argument torch's parser reads into its Scalar (an int64, or a uint64 from 2**63 up):
    one outside both is Python's OverflowError there, before any dtype sees it."""
    if type(value) is int and value >= 2**64:
        raise OverflowError("int too big to convert")
    if type(value) is int and value < -(2**63):
        raise OverflowError("can't convert negative int to unsigned")


def _scalar_tensor(value, dtype: torch.dtype, device) -> Tensor:
    return creation.full((), value, dtype=dtype, device=device)


class IndexPut(Function):
    """x with ``values`` (broadcast to the plan's result shape) written at the plan's positions,
    or added with ``accumulate`` (a repeated position then gets every value). Without it, which of
    several values for one position wins is unspecified, as in torch. ``alpha`` scales values.

    Backward: x's gradient is zero where x was overwritten; the values' gradient is read back
    from the written positions (and summed over broadcast dims).
    """

    _backward_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, x, values, plan, accumulate=False, alpha=1):
        ctx.plan, ctx.accumulate, ctx.alpha = plan, accumulate, alpha
        ctx.values_shape, ctx.values_dtype = tuple(values.shape), values.dtype
        # (accumulating, x's gradient is the gradient itself: the indices serve only the values')
        _save_watched(ctx, plan, needed=not accumulate or values.requires_grad)
        out = views.contiguous_copy(x)._data
        plan.scatter_(out, _scaled(values, alpha)._data, accumulate)
        return _wrap(out)

    @staticmethod
    def backward(ctx, grad):
        _check_watched(ctx)
        grad_x = grad_values = None
        if ctx.needs_input_grad[0]:
            grad_x = (
                grad
                if ctx.accumulate
                else IndexPut.apply(grad, _scalar_tensor(0, grad.dtype, grad.device), ctx.plan, False, 1)
            )
        if ctx.needs_input_grad[1]:
            grad_values = _scaled(Index.apply(grad, ctx.plan), ctx.alpha).sum_to_size(ctx.values_shape)
            grad_values = grad_values.to(ctx.values_dtype)
        return grad_x, grad_values, None, None, None


def _scaled(values: Tensor, alpha) -> Tensor:
    return values if alpha == 1 else values * alpha


class ScatterFunction(IndexPut):
    _backward_name = "ScatterBackward0"


class ScatterValue(IndexPut):
    _backward_name = "ScatterBackward1"
    _tensor_options = (1,)  # (the number, as a tensor)


class ScatterLegacyReduce(Function):
    """scatter(dim, index, src or value, reduce='add' or 'multiply'): x with every value aimed at a
    position added to it or multiplied into it. torch defines no derivative for these overloads: the
    node is NotImplemented and its backward raises, naming the op (``scatter_`` for the in-place form)."""

    _backward_name = "torch::autograd::NotImplemented"

    @staticmethod
    def forward(ctx, x, values, plan, dim, reduce, op_name):
        ctx.op_name = op_name
        out = views.contiguous_copy(x)._data
        if reduce == "multiply":
            plan.scatter_multiply_(out, values._data, dim)
        else:
            plan.scatter_(out, values._data, accumulate=True)
        return _wrap(out)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(f"derivative for aten::{ctx.op_name} is not implemented")


class ScatterAdd(IndexPut):
    _backward_name = "ScatterAddBackward0"


class IndexAdd(IndexPut):
    _backward_name = "IndexAddBackward0"


class IndexCopy(IndexPut):
    _backward_name = "IndexCopyBackward0"


class IndexFill(IndexPut):
    """index_fill: one value at every selected position. A value tensor's gradient sums the
    gradient over the filled positions, each once however often the index names it."""

    _backward_name = "IndexFillBackward0"
    _tensor_options = (1,)  # (the number, as a tensor)

    @staticmethod
    def backward(ctx, grad):
        _check_watched(ctx)
        grad_x = IndexPut.apply(grad, _scalar_tensor(0, grad.dtype, grad.device), ctx.plan, False, 1)
        grad_value = None
        if ctx.needs_input_grad[1]:
            filled = torch.empty(ctx.plan.src_shape, dtype=grad.dtype, device=grad.device)
            launch_fill_(filled, 0)
            ctx.plan.scatter_(filled, _scalar_tensor(1, grad.dtype, grad.device)._data, False)
            grad_value = (grad * _wrap(filled)).sum().reshape(ctx.values_shape).to(ctx.values_dtype)
        return grad_x if ctx.needs_input_grad[0] else None, grad_value, None, None, None


class IndexFillTensor(IndexFill):
    _backward_name = "IndexFillBackward1"
    _tensor_options = ()


class PutFunction(IndexPut):
    _backward_name = "PutBackward0"


class MaskedFill(Function):
    """``value`` where ``mask`` (broadcast) is True, else x; value a number or a 0-d tensor."""

    _backward_name = "MaskedFillBackward0"
    _tensor_options = (1,)  # the mask

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        ctx.x_shape, ctx.value_meta = tuple(x.shape), (tuple(value.shape), value.dtype) if _is_tensor(value) else None
        fill = value._data if _is_tensor(value) else value
        return _wrap(elementwise_kernels.launch_where(mask._data, fill, x._data, out_dtype=x.dtype))

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        grad_x = Where.apply(mask, 0.0, grad).sum_to_size(ctx.x_shape) if ctx.needs_input_grad[0] else None
        grad_value = None
        if ctx.value_meta is not None and ctx.needs_input_grad[2]:
            shape, dtype = ctx.value_meta
            grad_value = Where.apply(mask, grad, 0.0).sum().reshape(shape).to(dtype)
        return grad_x, None, grad_value


class MaskedFillTensor(MaskedFill):
    _backward_name = "MaskedFillBackward1"


class MaskedPut(MaskedFill):
    """``x[mask] = value`` for a one-element value: a masked fill, with no read-back of the mask."""

    _backward_name = "IndexPutBackward0"


class MaskedSelect(Function):
    """input's elements where mask (both broadcast to one shape) is True, in row-major order."""

    _tensor_options = (1,)  # the mask

    @staticmethod
    def forward(ctx, x, mask):
        shape = broadcast_shapes(tuple(mask.shape), tuple(x.shape))  # (in this order: torch names the mask a)
        ctx.save_for_backward(mask)
        ctx.x_shape, ctx.shape = tuple(x.shape), shape
        return _wrap(kernels.launch_masked_select(x._data.expand(shape), mask._data.expand(shape)))

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return MaskedExpand.apply(grad, mask, ctx.shape).sum_to_size(ctx.x_shape), None


class MaskedExpand(Function):
    """The gradient of masked_select: zeros of ``shape`` with ``values`` at the kept positions."""

    _backward_name = "MaskedScatterBackward0"
    _tensor_options = (1,)  # the mask

    @staticmethod
    def forward(ctx, values, mask, shape):
        ctx.save_for_backward(mask)
        out = torch.empty(shape, dtype=values.dtype, device=values.device)
        source = views.contiguous_copy(values)._data if not values.is_contiguous() else values._data
        kernels.launch_masked_scatter(mask._data.expand(shape), source, None, out, check=False)
        return _wrap(out)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return MaskedSelect.apply(grad, mask), None, None


class MaskedScatter(Function):
    """x with its masked positions replaced, in row-major order, by source's first elements."""

    _tensor_options = (1,)  # the mask

    @staticmethod
    def forward(ctx, x, mask, source):
        shape = broadcast_shapes(tuple(x.shape), tuple(mask.shape))
        ctx.save_for_backward(mask)
        ctx.x_shape, ctx.shape, ctx.source_shape = tuple(x.shape), shape, tuple(source.shape)
        out = torch.empty(shape, dtype=x.dtype, device=x.device)
        flat = views.contiguous_copy(source)._data if not source.is_contiguous() else source._data
        kernels.launch_masked_scatter(mask._data.expand(shape), flat, x._data.expand(shape), out)
        return _wrap(out)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        grad_x = Where.apply(mask, 0.0, grad).sum_to_size(ctx.x_shape) if ctx.needs_input_grad[0] else None
        grad_source = None
        if ctx.needs_input_grad[2]:
            selected = MaskedSelect.apply(grad, mask)
            numel = _numel(ctx.source_shape)
            if selected.numel() < numel:
                padding = creation.zeros(numel - selected.numel(), dtype=grad.dtype, device=grad.device)
                selected = cat([selected, padding])
            grad_source = selected.reshape(ctx.source_shape)
        return grad_x, None, grad_source


def as_bool(value, op: str, name: str) -> bool:
    """A bool argument (accumulate, include_self, descending, ...) as torch's parser takes it: a Python
    bool only (not 1, None or numpy.bool_), else its TypeError."""
    if type(value) is not bool:
        described = "numpy." + type(value).__name__ if isinstance(value, np.generic) else type(value).__name__
        raise TypeError(f"{op}(): argument '{name}' must be bool, not {described}")
    return value


def _numel(shape: Sequence[int]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def _is_tensor(value) -> bool:
    return isinstance(value, Tensor)


# ---------------------------------------------------------------------------------------------
# x[key] and x[key] = value
# ---------------------------------------------------------------------------------------------


class _BoolIndex:
    """A bool in a key (``x[True]``, ``x[..., t > 0]`` with a 0-d t): a new dim of size 1, kept or not."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value


def _key_items(key) -> list:
    """The key as a list of entries. torch (like numpy before 1.23) reads a short list that holds
    a slice, ``...``, None, a sequence or a tensor as a tuple of indices, not as one index."""
    if isinstance(key, tuple):
        return list(key)
    if isinstance(key, list) and len(key) < 32:
        if any(
            isinstance(k, (Tensor, list, tuple, range, slice, np.ndarray)) or k is None or k is Ellipsis for k in key
        ):
            return list(key)
    return [key]


def _plain(value):
    """Nested sequences with tritongrad Tensors replaced by their values (for numpy)."""
    if isinstance(value, Tensor):
        return value.tolist()
    if isinstance(value, (list, tuple, range)):
        return [_plain(v) for v in value]
    return value


def _beyond_int64(array: np.ndarray) -> bool:
    """Whether numpy made Python ints too large for int64 into uint64 or objects."""
    if array.dtype == np.uint64:
        return bool(array.max() >= 2**63)
    return array.dtype.kind == "O" and all(type(v) is int for v in array.flat)


class _HostIndex:
    """An index from host data (a list, range or numpy array): its values are checked against the
    dim's size on the host, so the device never has to report an index out of range (no read-back)."""

    __slots__ = ("tensor", "array")

    def __init__(self, value, device) -> None:
        array = np.asarray(value) if isinstance(value, np.ndarray) else np.asarray(_plain(value))
        if not isinstance(value, np.ndarray) and array.size and _beyond_int64(array):
            raise ValueError("Overflow when unpacking long long")  # (torch reads each Python int as a long long)
        if array.dtype != np.bool_:
            if array.size and array.dtype.kind not in "iuf":
                raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {array.dtype}")
            array = array.astype(np.int64)  # (floats truncated, as torch does for sequences)
        self.array = np.ascontiguousarray(array)
        self.tensor = torch.from_numpy(self.array).to(device)

    def check(self, dim: int, size: int) -> None:
        bad = (self.array < -size) | (self.array >= size)
        if bad.any() and size == 0:  # (torch's words for an empty dim)
            raise IndexError("index is out of bounds for dimension with size 0")
        if bad.any():
            raise _bounds_error(int(self.array[bad][0]), dim, size)


def _convert_item(item, device, zero_dim_as_index: bool = False):
    """One key entry as int, slice, None, Ellipsis, _BoolIndex, _HostIndex or an index/mask torch tensor.
    A 0-d integer tensor selects like an int (Python indexing), or with ``zero_dim_as_index`` (index_put_)
    is an index tensor of shape ()."""
    if item is None or item is Ellipsis or isinstance(item, slice):
        return item
    if isinstance(item, bool):  # (a numpy bool is refused below, as torch refuses it)
        return _BoolIndex(item)
    if isinstance(item, (int, np.integer)):
        if not -(2**63) <= item < 2**63:
            raise ValueError("Overflow when unpacking long long")
        return int(item)
    if isinstance(item, Tensor):
        item = item._data
    if isinstance(item, np.ndarray) and item.ndim == 0 and item.dtype.kind in "biuf":
        # torch reads a 0-d array as the number it holds: a bool (or uint8) one as x[True], the others as an int
        return _BoolIndex(bool(item)) if item.dtype.kind == "b" or item.dtype == np.uint8 else int(item)
    if isinstance(item, np.ndarray) and item.dtype == np.uint8 and item.ndim:
        item = torch.from_numpy(np.ascontiguousarray(item))  # (torch reads a uint8 array as a byte mask)
    if isinstance(item, torch.Tensor):
        # (a 0-d int8/int16 tensor is an int to Python indexing, as any integer tensor; index_put_ refuses it)
        narrow = item.dtype in (torch.int8, torch.int16) and (item.dim() or zero_dim_as_index)
        if item.dtype.is_floating_point or item.dtype.is_complex or narrow:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if item.dim() == 0 and zero_dim_as_index and item.dtype not in (torch.bool, torch.uint8):
            return item.to(device)
        if item.dim() == 0:
            # a 0-d integer tensor selects like an int; a 0-d bool adds a dim of size 1 (torch reads both back)
            return _BoolIndex(bool(item.item())) if item.dtype in (torch.bool, torch.uint8) else int(item.item())
        if item.dtype == torch.uint8:  # torch's deprecated byte masks
            warnings.warn(
                "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool", UserWarning,
                stacklevel=4,
            )  # fmt: skip
            item = elementwise_kernels.launch_unary("copy", item, out_dtype=torch.bool)
        return item.to(device)
    if isinstance(item, (list, tuple, range, np.ndarray)):
        return _HostIndex(item, device)
    if isinstance(item, str):  # (torch tries to build an index tensor from it)
        raise TypeError("new(): invalid data type 'str'")
    if hasattr(type(item), "__index__"):  # (an object that is an integer, as Python's sequences take it)
        return operator.index(item)
    described = "numpy." + type(item).__name__ if isinstance(item, np.generic) else type(item).__name__
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
        f"(got {described})"
    )


def _consumed(item) -> int:
    if isinstance(item, (int, slice)):
        return 1
    if isinstance(item, _HostIndex):
        item = item.tensor
    if isinstance(item, torch.Tensor):
        return item.dim() if item.dtype == torch.bool else 1
    return 0


def _check_mask_shape(mask_shape: tuple, shape: tuple, source_dim: int) -> None:
    """A mask indexing dims source_dim... must have their sizes (torch's IndexError)."""
    for j, size in enumerate(mask_shape):
        if size != shape[source_dim + j]:
            raise IndexError(
                f"The shape of the mask {list(mask_shape)} at index {j} does not match the shape of "
                f"the indexed tensor {list(shape)} at index {source_dim + j}"
            )


def split_key(
    x: Tensor, key, *, zero_dim_as_index: bool = False
) -> tuple[Tensor, list[tuple[int, torch.Tensor, bool]]]:
    """(view, entries): x with the key's basic part applied (a view, or x itself), and the
    (view dim, index or mask tensor, known to be in range) triples that index it further
    (``zero_dim_as_index``: see _convert_item)."""
    items = [_convert_item(item, x.device, zero_dim_as_index) for item in _key_items(key)]
    if sum(item is Ellipsis for item in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(_consumed(item) for item in items)
    if consumed > x.dim():
        raise IndexError(f"too many indices for tensor of dimension {x.dim()}")
    basic: list = []
    entries: list[tuple[int, torch.Tensor, bool]] = []
    view_dim = source_dim = 0
    for item in items:
        if item is Ellipsis:
            skipped = x.dim() - consumed
            basic += [slice(None)] * skipped
            view_dim, source_dim = view_dim + skipped, source_dim + skipped
        elif item is None:
            basic.append(None)
            view_dim += 1
        elif isinstance(item, _BoolIndex):
            basic.append(None)
            index = torch.empty(1 if item.value else 0, dtype=torch.int64, device=x.device)
            launch_fill_(index, 0)
            entries.append((view_dim, index, True))
            view_dim += 1
        elif isinstance(item, int):
            basic.append(item)
            source_dim += 1
        elif isinstance(item, slice):
            basic.append(item)
            view_dim, source_dim = view_dim + 1, source_dim + 1
        else:
            host = isinstance(item, _HostIndex)
            # (as torch's, no index is checked when another dim is empty: no element is read or written)
            others_empty = any(size == 0 for d, size in enumerate(x.shape) if d != source_dim)
            if host and item.tensor.dtype != torch.bool and not others_empty:
                item.check(view_dim, x.shape[source_dim])
            tensor = item.tensor if host else item
            span = tensor.dim() if tensor.dtype == torch.bool else 1
            if tensor.dtype == torch.bool:
                _check_mask_shape(tuple(tensor.shape), tuple(x.shape), source_dim)
            basic += [slice(None)] * span
            entries.append((view_dim, tensor, host or tensor.dtype == torch.bool))
            view_dim, source_dim = view_dim + span, source_dim + span
    whole = all(isinstance(b, slice) and b == slice(None) for b in basic)
    view = x if whole else views.basic_index(x, tuple(basic))
    return view, entries


def advanced_plan(view: Tensor, entries: list[tuple[int, torch.Tensor, bool]]) -> IndexPlan:
    """The plan of ``view[entries]`` (torch's placement of the broadcast index dims, module docstring);
    index tensors not known to be in range are checked on the device, with one read-back."""
    dims: list[int] = []
    indices: list[torch.Tensor] = []
    checked = True
    for view_dim, tensor, known in entries:
        if tensor.dtype == torch.bool:
            coordinates = kernels.launch_nonzero(tensor, transposed=True)  # in range by construction
            for j in range(tensor.dim()):
                dims.append(view_dim + j)
                indices.append(coordinates[j])
        else:
            dims.append(view_dim)
            indices.append(tensor)
            checked = checked and (known or tensor.numel() == 0)
    shapes = [tuple(t.shape) for t in indices]
    try:
        index_shape = broadcast_shapes(*shapes)
    except RuntimeError:
        listed = ", ".join(str(list(s)) for s in shapes)
        raise IndexError(
            f"shape mismatch: indexing tensors could not be broadcast together with shapes {listed}"
        ) from None
    indices = [t.expand(index_shape) for t in indices]
    shape = tuple(view.shape)
    if any(shape[d] == 0 for d in dims) and math.prod(index_shape) > 0:
        # torch's check, made before a written value's shape is looked at (x[i] = v on an empty dim)
        raise IndexError("index is out of bounds for dimension with size 0")
    rest = [d for d in range(len(shape)) if d not in dims]
    if dims == list(range(dims[0], dims[0] + len(dims))):
        first = dims[0]
        before = [d for d in rest if d < first]
        after = [d for d in rest if d > first]
        out_shape = shape[:first] + index_shape + tuple(shape[d] for d in after)
        src_out_dims = {d: d for d in before}
        src_out_dims.update({d: len(before) + len(index_shape) + i for i, d in enumerate(after)})
        index_out_dims = range(first, first + len(index_shape))
    else:
        out_shape = index_shape + tuple(shape[d] for d in rest)
        src_out_dims = {d: len(index_shape) + i for i, d in enumerate(rest)}
        index_out_dims = range(len(index_shape))
    return IndexPlan(shape, dims, indices, out_shape, src_out_dims, index_out_dims, checked=checked)


def getitem(x: Tensor, key) -> Tensor:
    """x[key] for any key torch accepts: basic keys give views, the others gather (IndexBackward0)."""
    if views._is_basic_index(key):
        return views.basic_index(x, key)
    view, entries = split_key(x, key)
    if not entries:
        return view
    plan = advanced_plan(view, entries)
    # torch saves the index tensors (masks included) for the backward, and the ones it makes of lists
    # or arrays: a write into one is then its version error, a second backward its "freed" error.
    watched = tuple(k for k in _key_items(key) if isinstance(k, Tensor))
    plan.watched = watched if watched or not plan.indices else (Tensor._wrap(plan.indices[0]),)
    return Index.apply(view, plan)


def _value_operand(value, x: Tensor):
    """A value ``x[key] = value`` writes, as torch's setitem takes it: a Tensor (moved to x's device),
    or a number, as x's dtype holds it (a float into a floating dtype is rounded, into an integer one
    truncated; one out of the dtype's range is torch's overflow error, but for the half types, which
    round it to an infinity). torch takes the numbers that are Python's (np.float64 and np.complex128
    subclass them) and numpy's integers (by ``__index__``); sequences, numpy arrays and the other numpy
    scalars (float32, float16, bool_, longdouble) are refused with torch's TypeError."""
    if isinstance(value, Tensor):
        return value if value.device == x.device else value.to(x.device)
    if isinstance(value, np.integer):
        value = int(value)
    if type(value) in (bool, int, float, np.float64):
        if type(value) is int and not -(2**63) <= value < 2**63:
            raise ValueError("Overflow when unpacking long long")
        # (torch makes a float32 tensor of a float for float32 and the half types: float32's range is checked,
        # a half type then takes the value as a cast does, an infinity out of its range)
        checked = x.dtype not in (torch.float16, torch.bfloat16)
        return scalar_as(value if type(value) is not np.float64 else float(value), x.dtype, checked=checked)
    if isinstance(value, complex):
        return complex_scalar_as(value, x.dtype)
    described = "numpy." + type(value).__name__ if isinstance(value, (np.generic, np.ndarray)) else type(value).__name__
    raise TypeError(f"can't assign a {described} to a {tensor_type_name(x.dtype, x.device)}")


def _check_values_dtype(x: Tensor, values: Tensor) -> None:
    if values.dtype != x.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{dtype_word(x.dtype)} for the destination and "
            f"{dtype_word(values.dtype)} for the source."
        )


def _values_for(plan: IndexPlan, values: Tensor, *, drop_leading_ones: bool = True) -> Tensor:
    """values shaped to broadcast to the plan's result: ``x[key] = values`` drops their leading size-1 dims
    first, as torch's setitem does; index_put_ (``drop_leading_ones=False``) broadcasts them as they are."""
    shape = tuple(values.shape)
    while drop_leading_ones and len(shape) > len(plan.out_shape) and shape[0] == 1:
        shape = shape[1:]
    try:
        fits = broadcast_shapes(shape, plan.out_shape) == plan.out_shape
    except RuntimeError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(values.shape)} cannot be broadcast to indexing result "
            f"of shape {list(plan.out_shape)}"
        )
    return values if shape == tuple(values.shape) else values.reshape(shape)


def _check_no_overlap(target: torch.Tensor, values: torch.Tensor) -> None:
    """torch's rule for the scattering writes (index_put_, scatter_, index_add_, put_, ...): values
    may share no memory with the target, not even by being it (``x[i] = x`` is refused, unlike
    ``x.add_(x)``: a scatter reads values in another order than it writes). As in torch, the same
    tensor is refused even when empty, and layouts that are not dense are not checked."""
    refused = values is target
    if not refused and target.numel() and values.numel() and not target.is_meta:
        if is_non_overlapping_and_dense(target) and is_non_overlapping_and_dense(values):
            begin, other_begin = target.data_ptr(), values.data_ptr()
            end = begin + target.numel() * target.element_size()
            other_end = other_begin + values.numel() * values.element_size()
            refused = begin < other_end and other_begin < end
    if refused:
        raise RuntimeError(
            "unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
            "single memory location. Please clone() the tensor before performing the operation."
        )


def _put_inplace(target: Tensor, function: type[IndexPut], values: Tensor, plan: IndexPlan, accumulate: bool,
                 alpha=1) -> Tensor:  # fmt: skip
    """Writes values into target through plan in place, recorded like torch's in-place ops; values
    that share memory with target are refused, as torch does (the result would depend on the order
    in which blocks run). index_put_ (and ``x[indices] = v``) into an expanded target is allowed with
    torch's deprecation warning: positions sharing memory get one of their values (all of them added,
    with accumulate), as in torch; the other scattering writes refuse it in the kernel's launcher."""
    _check_no_overlap(target._data, values._data)
    expanded = function is IndexPut and has_internal_overlap(target._data)
    if expanded:
        warnings.warn(
            "Use of index_put_ on expanded tensors is deprecated. Please clone() the tensor before performing "
            "this operation. This also applies to advanced indexing e.g. tensor[indices] = tensor",
            UserWarning,
            stacklevel=4,
        )

    def into_target() -> None:
        plan.scatter_(target._data, _scaled(values, alpha)._data, accumulate, allow_overlap=expanded)

    return apply_inplace(target, lambda s: function.apply(s, values, plan, accumulate, alpha), into_target, values)


def _masked_put(x: Tensor, view: Tensor, view_dim: int, mask: torch.Tensor, value) -> None:
    """view[mask] = value for one value (a number or a one-element tensor): a masked fill through
    the where kernel, with no read-back of the mask's count (IndexPutBackward0, as in torch). As
    torch's masked fill, a value of another dtype is converted to x's."""
    if isinstance(value, Tensor):
        fill = _fill_tensor_as(value.reshape(()), x.dtype).to(x.dtype)
    else:
        fill = _scalar_tensor(value, x.dtype, x.device)
    if fill._data.untyped_storage().data_ptr() == view._data.untyped_storage().data_ptr():
        fill = fill.clone()  # torch reads the one value before it fills (x[x > 0] = x[0] is fine)
    trailing = view.dim() - view_dim - mask.dim()
    aligned = _wrap(mask[(None,) * view_dim + (Ellipsis,) + (None,) * trailing])  # broadcasts against view

    def into_view() -> None:
        target, where = _masked_fill_target(view._data, aligned._data)
        elementwise_kernels.launch_where(where, fill._data, target, out_dtype=x.dtype, out=target)

    apply_inplace(view, lambda s: MaskedPut.apply(s, aligned, fill), into_view, fill)


def _without_leading_ones(value: Tensor, view: Tensor) -> Tensor:
    """The value for ``view[...] = value``: torch drops the value's leading size-1 dims before it
    broadcasts (``x[0] = x[:1]`` writes a (1,) value into a 0-dim view)."""
    if value.shape == view.shape:
        return value
    shape = tuple(value.shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    return value if shape == tuple(value.shape) else value.reshape(shape)


def _refuse_byte_mask_fill(key, shape: tuple) -> None:
    """torch writes one value through a lone mask with masked_fill_, which takes no byte mask; a mask of
    the wrong shape is the shape's IndexError first, as torch checks it first."""
    items = [i._data if isinstance(i, Tensor) else i for i in (key if isinstance(key, (tuple, list)) else (key,))]
    if any(isinstance(i, (torch.Tensor, np.ndarray)) and i.dtype in (torch.uint8, np.uint8) and i.ndim for i in items):
        if len(items) == 1 and items[0].ndim <= len(shape):
            _check_mask_shape(tuple(items[0].shape), shape, 0)
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype unsigned char")


def setitem(x: Tensor, key, value) -> None:
    """x[key] = value: a copy/fill into a view for basic keys, else an index_put_ (IndexPutBackward0)."""
    value = _value_operand(value, x)
    if views._is_basic_index(key):
        view, entries = views.basic_index(x, key), []
    else:
        view, entries = split_key(x, key)
    if not entries:
        if isinstance(value, Tensor) and value.dim() == 0 and view.dim() != 0 and value.device == view.device:
            view.fill_(value)  # (torch fills from a 0-d value, so x[:] = x[0] reads it once)
        elif isinstance(value, Tensor):
            view.copy_(_without_leading_ones(value, view))
        else:
            check_writable(view._data)  # torch copies the number in: refused where fill_ is allowed
            view.fill_(value)
        return
    one_value = not isinstance(value, Tensor) or value.numel() == 1
    if len(entries) == 1 and entries[0][1].dtype == torch.bool and one_value:
        _refuse_byte_mask_fill(key, tuple(x.shape))
        _masked_put(x, view, entries[0][0], entries[0][1], value)
        return
    if isinstance(value, Tensor):
        _check_no_overlap(view._data, value._data)  # before the index checks, as torch's order
    plan = advanced_plan(view, entries)
    if isinstance(value, Tensor):
        _check_values_dtype(x, value)
        values = _values_for(plan, value)
    else:
        values = _scalar_tensor(value, x.dtype, x.device)
    _put_inplace(view, IndexPut, values, plan, accumulate=False)


# ---------------------------------------------------------------------------------------------
# index_put_ / index_put
# ---------------------------------------------------------------------------------------------


def _index_put_plan(input: Tensor, indices, values, accumulate: bool) -> tuple[Tensor, IndexPlan, Tensor]:
    as_bool(accumulate, "index_put_", "accumulate")
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put_(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put_(): argument 'values' must be Tensor, not {type(values).__name__}")
    for position, index in enumerate(indices):  # (torch's binding takes tensors only: no None, list or int)
        if not isinstance(index, Tensor):
            raise TypeError(f"expected Tensor as element {position} in argument 0, but got {type(index).__name__}")
    if len(indices) > input.dim():
        raise IndexError(f"too many indices for tensor of dimension {input.dim()} (got {len(indices)})")
    _check_values_dtype(input, values)
    key = tuple(indices)
    if len(indices) == 1 and values.numel() == 1:
        _refuse_byte_mask_fill(key, tuple(input.shape))
    if not indices:  # (torch's index_put_ reaches an undefined tensor)
        raise RuntimeError("sym_strides() called on an undefined Tensor")
    view, entries = split_key(input, key, zero_dim_as_index=True)
    plan = advanced_plan(view, entries)
    plan.watched = key  # (torch's index_put saves its indices: see getitem)
    # torch writes one value through a lone mask as masked_fill_(mask, value.item()), whatever value's shape
    masked_fill = not accumulate and values.numel() == 1 and len(indices) == 1 and indices[0].dtype == torch.bool
    return view, plan, _values_for(plan, values, drop_leading_ones=masked_fill)


def index_put_(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """input[indices] = values in place (``+=`` with accumulate, where repeated indices all add).

    indices: a tuple of index tensors (integer or bool, None for a whole dim), one per leading dim.
    Without accumulate, a position named twice keeps one of its values (unspecified which, as in torch).
    """
    view, plan, values = _index_put_plan(input, indices, values, accumulate)
    _put_inplace(view, IndexPut, values, plan, accumulate)
    return input


@autocast_op("index_put")
def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """Out-of-place ``index_put_``: a new tensor (IndexPutBackward0)."""
    view, plan, values = _index_put_plan(input, indices, values, accumulate)
    return IndexPut.apply(view, values, plan, accumulate, 1)


# ---------------------------------------------------------------------------------------------
# Along-a-dim functions: index_select, index_add, index_fill, index_copy
# ---------------------------------------------------------------------------------------------


def _check_index(name: str, index, *, vector: bool = True) -> None:
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype not in kernels.INDEX_DTYPES:
        raise RuntimeError(f"{name}(): Expected dtype int32 or int64 for index")
    if vector and index.dim() > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")


def _dim_of(input: Tensor, dim: int) -> int:
    return normalize_dim(dim, input.dim())


def index_select(input: Tensor, dim: int, index: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The slices of ``input`` at positions ``index`` (1-D) along ``dim``: out.shape[dim] = len(index)."""
    if out is not None:
        check_no_grad("index_select", out, input)
        if out.dtype != input.dtype:
            raise RuntimeError("index_select(): self and result must have the same scalar type")
        _check_no_overlap(out._data, input._data)  # (torch's refusal, though the copy below would be safe)
        _check_no_overlap(out._data, index._data)
        return write_out("index_select", out, index_select(input, dim, index), input, overlap=True, alias=False)
    _check_index("index_select", index)
    dim = _dim_of(input, dim)
    if input.dim() == 0 and index.numel() > 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {index.numel()} value(s)")
    if input.dim() > 1 and input.shape[dim] == 0 and index.numel():  # (a 1-d one: the bounds check's IndexError)
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    shape = tuple(input.shape) if input.dim() else (1,)
    source = input if input.dim() else input.reshape(1)

    def error(value, dim, size):
        if input.dim() > 1 and input.numel() == 0:  # (torch's CPU path checks an empty input's indices apart)
            return RuntimeError(f"INDICES element is out of DATA bounds, id={value} axis_dim={size}")
        return IndexError("index out of range in self")

    out = IndexSelect.apply(source, _along_dim_plan(shape, dim, index, wrap=False, error=error, check_when_empty=True))
    return out if input.dim() else out.reshape(())


def _along_dim_write(name: str, function, input: Tensor, dim: int, index: Tensor, values: Tensor, *,
                     accumulate: bool, wrap: bool, inplace: bool, alpha=1, error=_bounds_error) -> Tensor:  # fmt: skip
    """The shared body of index_add/index_copy/index_fill and their in-place forms."""
    _check_index(name, index)
    dim = _dim_of(input, dim)
    target = input if input.dim() else input.reshape(1)
    plan = _along_dim_plan(tuple(target.shape), dim, index, wrap=wrap, error=error)
    if function is IndexAdd and target.dim() == 1:  # (torch's CPU index_add of more dims sums in float32)
        plan.half_sums_along = dim
    if inplace:
        if issubclass(function, IndexFill) and has_internal_overlap(target._data):
            target, plan = _expanded_fill_target(target, dim, plan)
        _put_inplace(target, function, values, plan, accumulate, alpha)  # (a 0-d input: through its (1,) view)
        return input
    out = function.apply(target, values, plan, accumulate, alpha)
    return out if input.dim() else out.reshape(())


def _expanded_fill_target(target: Tensor, dim: int, plan: IndexPlan) -> tuple[Tensor, IndexPlan]:
    """index_fill_ into an expanded tensor (torch allows it, deprecated): one value per memory
    location, so the fill goes into the target with each broadcast dim cut to one element; along a
    broadcast ``dim`` any index names that one element. Indices are checked against the sizes given."""
    warnings.warn(
        "Use of index_fill_ on expanded tensors is deprecated. Please clone() the tensor before performing "
        "this operation. This also applies to advanced indexing e.g. tensor[mask] = scalar",
        UserWarning,
        stacklevel=4,
    )
    data = target._data
    plan._offsets(data.stride())  # the bounds check, against the expanded sizes
    sizes = [1 if stride == 0 else size for size, stride in zip(data.shape, data.stride())]
    collapsed = views._view_of(target, data.as_strided(sizes, data.stride(), data.storage_offset()))
    index = plan.indices[0]
    if data.stride(dim) == 0 and index.numel():
        index = creation.zeros(1, dtype=torch.int64, device=data.device)._data
    return collapsed, _along_dim_plan(tuple(sizes), dim, index, wrap=True)


def _check_source_tensor(name: str, source) -> None:
    if not isinstance(source, Tensor):
        raise TypeError(f"{name}(): argument 'source' must be Tensor, not {type(source).__name__}")


def _index_func_source(func: str, input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """The source of index_add/index_reduce (``func``), checked in the order and words of torch's
    index_func_meta_impl (every message says ``func_()``, the out-of-place forms' too); returned at
    least 1-d. Source and input have one shape apart from ``dim`` (a 0-d one matches only a 0-d one)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{func}(): argument 'index' must be Tensor, not {type(index).__name__}")
    _check_source_tensor(func, source)
    dim = _dim_of(input, dim)
    if index.dim() > 1:
        raise IndexError(
            f"{func}_(): Index is supposed to be a vector, but got dim: {index.dim()} with type: "
            f"{dtype_word(index.dtype)} and size: {list(index.shape)}"
        )
    if index.dtype not in kernels.INDEX_DTYPES:
        raise RuntimeError(f"{func}_(): Expected dtype int32/int64 for index but got: {dtype_word(index.dtype)}")
    if source.dtype != input.dtype:
        raise RuntimeError(
            f"{func}_(): self ({dtype_word(input.dtype)}) and source ({dtype_word(source.dtype)}) "
            "must have the same scalar type"
        )
    if dim != 0 and dim >= source.dim():
        raise RuntimeError(
            f"{func}_(): Indexing dim {dim} is out of bounds of the source tensor with dim {source.dim()}"
        )
    count = index.numel()
    if count != (source.shape[dim] if source.dim() else 1):
        if not source.dim():  # (torch's message reads source.size(0) of a 0-d source, which raises)
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        raise RuntimeError(
            f"{func}_(): Number of indices ({count}) should be equal to source.size(dim): ({source.shape[dim]}), "
            f"for dim: {dim}"
        )
    input_rest, source_rest = list(input.shape), list(source.shape)
    if input.dim() and source.dim():
        del input_rest[dim], source_rest[dim]
    if input_rest != source_rest:
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = "
            f"{list(input.shape)} source.shape = {list(source.shape)}"
        )
    return _as_1d(source)


def _index_copy_source(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """The source of index_copy(_), checked in the order, exception types and words of torch's index_copy
    meta function (``index_copy_()`` for both forms); returned at least 1-d."""
    if not isinstance(index, Tensor):
        raise TypeError(f"index_copy_(): argument 'index' must be Tensor, not {type(index).__name__}")
    _check_source_tensor("index_copy_", source)
    dim = _dim_of(input, dim)
    if index.dim() > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.dim()})")
    count = index.numel()
    if source.dim() == 0 and count != 1:
        raise IndexError(f"index_copy_(): When source is scalar, index should have one element (got {count})")
    if source.dim() != input.dim() and source.dim() and input.dim():
        raise IndexError(
            "index_copy_(): When source and destination are not scalars, their dimensionality must match. Source "
            f"dimensionality ({source.dim()}), destination dimensionality ({input.dim()})"
        )
    _check_long_index("index_copy_", index)
    if source.dtype != input.dtype:
        raise RuntimeError(
            "index_copy_(): self and source expected to have the same dtype, but got (self) "
            f"{dtype_word(input.dtype)} and (source) {dtype_word(source.dtype)}"
        )
    input_rest, source_rest = list(input.shape), list(source.shape)
    for rest in (input_rest, source_rest):
        if rest:
            del rest[dim]
    if input_rest != source_rest:  # (torch prints the sizes space-separated, without brackets)
        raise RuntimeError(
            "index_copy_(): Source/destination tensor must have same slice shapes. Destination slice shape: "
            f"{' '.join(map(str, input_rest))} at dimension {dim} and source slice shape: "
            f"{' '.join(map(str, source_rest))} at dimension 0."
        )
    if source.dim() and count != source.shape[dim]:
        raise IndexError(
            f"index_copy_(): Number of indices ({count}) should be equal to source.size(dim) ({source.shape[dim]})"
        )
    return _as_1d(source)


def _runtime_bounds_error(value, dim, size):
    return RuntimeError(f"index {value} is out of bounds for dimension {dim} with size {size}")


def _index_add_bounds_error(input: Tensor):
    """torch's index_add words an index out of range by the input's rank (its 1-d CPU path differs)."""
    if input.dim() <= 1:
        return lambda value, dim, size: IndexError("index out of range in self")
    return _runtime_bounds_error


def _alpha_as(alpha, dtype: torch.dtype):
    """index_add's alpha as torch's kernel takes it, converted to the input's dtype before it scales (2.5 is 2
    for an integer input; out of range, or complex for a real input: torch's overflow error)."""
    if isinstance(alpha, complex):
        return complex_scalar_as(alpha, dtype)
    return scalar_as(alpha, dtype, checked=True)


@out_variant("index_add")
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """input with ``alpha * source``'s slices added at positions ``index`` along ``dim`` (repeats add up)."""
    values, alpha = _index_func_source("index_add", input, dim, index, source), _alpha_as(alpha, input.dtype)
    return _along_dim_write("index_add", IndexAdd, input, dim, index, values, accumulate=True, wrap=False,
                            inplace=False, alpha=alpha, error=_index_add_bounds_error(input))  # fmt: skip


def index_add_(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """``index_add`` in place; returns input."""
    values, alpha = _index_func_source("index_add", input, dim, index, source), _alpha_as(alpha, input.dtype)
    return _along_dim_write("index_add", IndexAdd, input, dim, index, values, accumulate=True, wrap=False,
                            inplace=True, alpha=alpha, error=_index_add_bounds_error(input))  # fmt: skip


def _index_copy_error(value, dim, size):
    return IndexError(f"index_copy_(): index {value} is out of bounds for dimension {dim} with size {size}")


def _check_long_index(name: str, index) -> None:
    if isinstance(index, Tensor) and index.dtype != torch.int64:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got {dtype_word(index.dtype)}")


@autocast_op("index_copy")
@out_variant("index_copy")
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """input with its slices at ``index`` along ``dim`` replaced by source's."""
    values = _index_copy_source(input, dim, index, source)
    return _along_dim_write("index_copy", IndexCopy, input, dim, index, values, accumulate=False, wrap=False,
                            inplace=False, error=_index_copy_error)  # fmt: skip


def index_copy_(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``index_copy`` in place; returns input."""
    values = _index_copy_source(input, dim, index, source)
    return _along_dim_write("index_copy", IndexCopy, input, dim, index, values, accumulate=False, wrap=False,
                            inplace=True, error=_index_copy_error)  # fmt: skip


def _fill_value(input: Tensor, dim: int, index: Tensor, value) -> tuple[Tensor, type[IndexFill]]:
    """(the value as a 0-d tensor of input's dtype, Function) of index_fill(_), its arguments checked in the
    order, exception types and words of torch's index_fill_ (which the out-of-place form calls on a clone)."""
    _check_scalar_int(value)
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(
            f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with {value.dim()} dimension(s)."
        )
    if not isinstance(index, Tensor):
        raise TypeError(f"index_fill_(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype != torch.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    complex_value = value.dtype.is_complex if isinstance(value, Tensor) else isinstance(value, complex)
    if complex_value and not input.dtype.is_complex:  # (torch reads a tensor value as a Scalar, complex or not)
        raise RuntimeError("index_fill_(): Converting complex Scalar to non-complex type is not supported")
    dim = normalize_dim(dim, max(input.dim(), 1))
    if index.dim() > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if isinstance(value, Tensor):
        value = _read_before_writing(input, _fill_tensor_as(value, input.dtype))
        return (value if value.dtype == input.dtype else value.to(input.dtype)), IndexFillTensor
    return _scalar_tensor(value, input.dtype, input.device), IndexFill


def _check_fill_restride(input: Tensor, dim: int, count: int, *, inplace: bool) -> None:
    """torch's index_fill_ views input with dim ``dim`` resized to the index's ``count`` at stride 0; for an
    empty input that view can need more memory than input's storage has (``zeros(0, 4)`` filled at row 0),
    and torch's as_strided refuses it. The out-of-place form fills a clone: dense strides, a storage of
    exactly input's elements."""
    data = input._data if input.dim() else input._data.reshape(1)
    sizes = list(data.shape)
    if inplace:
        strides, nbytes, offset = list(data.stride()), data.untyped_storage().nbytes(), data.storage_offset()
    else:
        strides = [math.prod(max(size, 1) for size in sizes[d + 1 :]) for d in range(len(sizes))]
        nbytes, offset = data.numel() * data.element_size(), 0
    dim = normalize_dim(dim, len(sizes))
    sizes[dim], strides[dim] = count, 0
    if 0 in sizes:
        return
    needed = (offset + sum((size - 1) * stride for size, stride in zip(sizes, strides)) + 1) * data.element_size()
    if needed > nbytes:
        raise RuntimeError(
            f"setStorage: sizes {sizes}, strides {strides}, storage offset {offset}, and itemsize "
            f"{data.element_size()} requiring a storage size of {needed} are out of bounds for storage of size {nbytes}"
        )


def _fill_tensor_as(value: Tensor, dtype: torch.dtype) -> Tensor:
    """A 0-d fill value (masked_fill, index_fill, ``x[mask] = v``) ready to be written into a tensor of
    ``dtype``. torch's fills read such a value back as a number and convert it as fill_ converts one: a
    value out of dtype's range is its overflow error, a complex one fits a real dtype only without an
    imaginary part, and a bool target holds the value's truth (0.5 is True, not truncated to False). The
    value is read back (a host sync) only when its dtype differs from the target's (the same dtype always
    fits); it stays a tensor, so the fill keeps its gradient."""
    if value.dtype == dtype or value.dtype == torch.bool:
        return value
    number = value.item()
    held = complex_scalar_as(number, dtype) if isinstance(number, complex) else scalar_as(number, dtype, checked=True)
    if dtype == torch.bool:
        return _scalar_tensor(held, dtype, value.device)
    return value.real if value.dtype.is_complex and not dtype.is_complex else value


def _read_before_writing(input: Tensor, value: Tensor) -> Tensor:
    """A 0-d fill value that lives in ``input`` (``x.masked_fill_(m, x[0])``) copied first: torch reads
    the value before it writes, so this is no overlap for it."""
    if value._data.untyped_storage().data_ptr() == input._data.untyped_storage().data_ptr():
        return value.clone()
    return value


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """input with ``value`` at every position ``index`` along ``dim`` (negative indices count from the end)."""
    fill, function = _fill_value(input, dim, index, value)
    _check_fill_restride(input, dim, index.numel(), inplace=False)
    return _along_dim_write("index_fill", function, input, dim, index, fill, accumulate=False, wrap=True,
                            inplace=False)  # fmt: skip


def index_fill_(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``index_fill`` in place; returns input."""
    fill, function = _fill_value(input, dim, index, value)
    _check_fill_restride(input, dim, index.numel(), inplace=True)
    return _along_dim_write("index_fill", function, input, dim, index, fill, accumulate=False, wrap=True,
                            inplace=True)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Elementwise-index functions: gather, scatter, scatter_add, take, take_along_dim, put_
# ---------------------------------------------------------------------------------------------


def _check_index_tensor(name: str, index) -> None:
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")


def _check_index_dtype(name: str, index: Tensor) -> None:
    """torch's gather/scatter index dtype check, skipped for an empty index (``name``: gather or scatter)."""
    if index.numel() and index.dtype not in kernels.INDEX_DTYPES:
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")


def _as_1d(t: Tensor) -> Tensor:
    return t if t.dim() else t.reshape(1)


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False, out: Tensor | None = None) -> Tensor:
    """out[i][j][k] = input[i][index[i][j][k]][k] for dim=1 (and likewise for other dims).

    index has input's number of dims and is no larger than input in the dims other than ``dim``;
    the result has index's shape (GatherBackward0: the gradient adds up repeated indices).
    """
    if out is not None:
        check_no_grad("gather", out, input)
        _check_no_overlap(out._data, input._data)  # (torch's refusal, though the copy below would be safe)
        return write_out(
            "gather", out, gather(input, dim, index, sparse_grad=sparse_grad), input, overlap=True, alias=False
        )
    _check_index_tensor("gather", index)
    dim = _dim_of(input, dim)
    _check_index_dtype("gather", index)
    source, positions = _as_1d(input), _as_1d(index)
    if index.numel():  # (torch checks the shape of a non-empty index only)
        if positions.dim() != source.dim():
            raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
        for d in range(source.dim()):
            if d != dim and positions.shape[d] > source.shape[d]:
                raise RuntimeError(
                    f"Size does not match at dimension {d} expected index {list(index.shape)} to be no larger than "
                    f"self {list(input.shape)} apart from dimension {dim}"
                )
    out = GatherFunction.apply(source, _elementwise_plan(tuple(source.shape), dim, positions))
    return out if index.dim() else out.reshape(())


def _scatter_plan(name: str, input: Tensor, dim: int, index: Tensor, src: Tensor | None) -> tuple:
    """(dim, input at least 1-d, plan) of the scatter family, its arguments checked in the order and
    words of torch's scatter_meta_impl: the dtypes (all named ``scatter()``), then the shapes of a
    non-empty index (an empty one writes nothing, whatever its shape)."""
    _check_index_tensor(name, index)
    dim = _dim_of(input, dim)
    _check_index_dtype("scatter", index)
    if src is not None and src.dtype != input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    target, positions = _as_1d(input), _as_1d(index)
    if index.numel():
        if positions.dim() != target.dim():
            raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
        too_large = any(d != dim and positions.shape[d] > target.shape[d] for d in range(target.dim()))
        if src is not None:
            src_dims = max(src.dim(), 1)
            if not too_large and src.dim() and src_dims < target.dim():  # (torch reads a 1-d src.size(d) past its dims)
                raise IndexError(
                    f"Dimension out of range (expected to be in range of [{-src_dims}, {src_dims - 1}], but got "
                    f"{src_dims})"
                )
            if src_dims != target.dim():
                raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
            too_large = too_large or any(positions.shape[d] > _as_1d(src).shape[d] for d in range(target.dim()))
        if too_large:
            shapes = f" and to be no larger size than src {list(src.shape)}" if src is not None else ""
            raise RuntimeError(
                f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} apart from "
                f"dimension {dim}{shapes}"
            )
    return dim, target, _elementwise_plan(tuple(target.shape), dim, positions)


def _scatter_values(input: Tensor, plan: IndexPlan, src) -> tuple[Tensor, type[IndexPut]]:
    """(values over the index's shape, Function): a src tensor (only its index-shaped corner is
    read) or a scalar value."""
    if isinstance(src, Tensor):
        values = _as_1d(src)
        if tuple(values.shape) != plan.out_shape and math.prod(plan.out_shape) == 0:
            # an empty index reads nothing from src, whatever its shape (torch does not look at it)
            values = creation.zeros(plan.out_shape, dtype=input.dtype, device=input.device)
        elif tuple(values.shape) != plan.out_shape:
            values = values[tuple(slice(0, size) for size in plan.out_shape)]
        return values, ScatterFunction
    if isinstance(src, (bool, int, float)):
        return _scalar_tensor(src, input.dtype, input.device), ScatterValue
    if isinstance(src, complex):  # (into a real dtype: its real part if it has no imaginary one)
        return _scalar_tensor(complex_scalar_as(src, input.dtype), input.dtype, input.device), ScatterValue
    raise TypeError(f"scatter(): argument 'src' must be Tensor or a number, not {type(src).__name__}")


def _scatter(input, dim, index, src, value, reduce, *, inplace: bool) -> Tensor:
    name = "scatter_" if inplace else "scatter"
    if (src is None) == (value is None):
        raise TypeError(f"{name}(): expected exactly one of 'src' and 'value'")
    source = src if src is not None else value
    _check_scalar_int(source)
    dim, target, plan = _scatter_plan(name, input, dim, index, source if isinstance(source, Tensor) else None)
    values, function = _scatter_values(input, plan, source)
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if reduce is not None and isinstance(src, Tensor):  # (a number given as src is scatter.value_reduce: no warning)
        warnings.warn(
            "The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a future "
            "PyTorch release. Use torch.scatter_reduce instead for more reduction options.",
            UserWarning,
            stacklevel=3,
        )
    if reduce is not None:
        if inplace:  # (into target: input itself, or a 0-d input's (1,) view)
            _check_no_overlap(target._data, values._data)

            def into_input() -> None:
                if reduce == "multiply":
                    plan.scatter_multiply_(target._data, values._data, dim)
                else:
                    plan.scatter_(target._data, values._data, accumulate=True)

            apply_inplace(
                target,
                lambda s: ScatterLegacyReduce.apply(s, values, plan, dim, reduce, "scatter_"),
                into_input,
                values,
            )
            return input
        out = ScatterLegacyReduce.apply(target, values, plan, dim, reduce, "scatter")
    elif inplace:
        _put_inplace(target, function, values, plan, accumulate=False)
        return input
    else:
        out = function.apply(target, values, plan, False, 1)
    return out if input.dim() else out.reshape(())


@out_variant("scatter")
def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce: str | None = None) -> Tensor:
    """input with ``src[i][j][k]`` written at ``[i][index[i][j][k]][k]`` for dim=1 (src a tensor or a
    number); a position named twice keeps one of its values, unspecified which (as in torch).
    ``reduce='add'`` adds instead."""
    return _scatter(input, dim, index, src, value, reduce, inplace=False)


def scatter_(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce: str | None = None) -> Tensor:
    """``scatter`` in place; returns input."""
    return _scatter(input, dim, index, src, value, reduce, inplace=True)


def _scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor, *, inplace: bool) -> Tensor:
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    dim, target, plan = _scatter_plan("scatter_add", input, dim, index, src)
    values, _ = _scatter_values(input, plan, src)
    if inplace:
        _put_inplace(target, ScatterAdd, values, plan, True)  # (a 0-d input: through its (1,) view)
        return input
    out = ScatterAdd.apply(target, values, plan, True, 1)
    return out if input.dim() else out.reshape(())


@autocast_op("scatter_add")
@out_variant("scatter_add")
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """input with src's elements added at the positions index names along dim (repeats add up)."""
    return _scatter_add(input, dim, index, src, inplace=False)


def scatter_add_(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``scatter_add`` in place; returns input."""
    return _scatter_add(input, dim, index, src, inplace=True)


# ---------------------------------------------------------------------------------------------
# scatter_reduce
# ---------------------------------------------------------------------------------------------

_SCATTER_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _identity(op: str, dtype: torch.dtype):
    """The value a position starts from when include_self=False: op's identity in dtype."""
    if op in ("sum", "mean"):
        return 0
    if op == "prod":
        return 1
    if dtype == torch.bool:
        return op == "amin"
    if dtype.is_floating_point:
        return -math.inf if op == "amax" else math.inf
    info = torch.iinfo(dtype)
    return info.min if op == "amax" else info.max


def _scatter_counts(x: Tensor, plan: IndexPlan, include_self: bool) -> Tensor:
    """How many values each position of x averages over: 1 for itself (include_self) + those scattered
    to it; positions with none count 1 (they keep their value)."""
    dtype = x.dtype if x.dtype.is_floating_point else torch.int64
    counts = (creation.ones if include_self else creation.zeros)(tuple(x.shape), dtype=dtype, device=x.device)
    plan.scatter_(counts._data, _scalar_tensor(1, dtype, x.device)._data, accumulate=True)
    return counts.clamp(min=1)


def _scatter_reduce_forward(x: Tensor, values: Tensor, plan: IndexPlan, dim: int, reduce: str,
                            include_self: bool, *, wide_half_sums: bool = False) -> Tensor:  # fmt: skip
    """The reduction itself. ``wide_half_sums``: torch's CPU scatter_reduce sums (and averages) float16 and
    bfloat16 in float32, rounding once at the end (60000 + 60000 - 60000 is 60000 in float16); its
    index_reduce works in the tensor's own type, one value at a time."""
    if wide_half_sums and reduce in ("sum", "mean") and x.dtype in (torch.float16, torch.bfloat16):
        wide = _scatter_reduce_forward(x.float(), values.float(), plan, dim, reduce, include_self)
        return wide.to(x.dtype)
    out = views.contiguous_copy(x)._data
    op = "sum" if reduce == "mean" else reduce
    if not include_self:  # the scattered-to positions start from the identity, not from x
        plan.scatter_(out, _scalar_tensor(_identity(op, x.dtype), x.dtype, x.device)._data, accumulate=False)
    plan.scatter_reduce_(out, values._data, dim, op)
    result = _wrap(out)
    if reduce == "mean":  # (torch: a floor division for integers)
        counts = _scatter_counts(x, plan, include_self)
        result = result / counts if x.dtype.is_floating_point else result.floor_divide(counts).to(x.dtype)
    return result


class ScatterReduce(Function):
    """input.scatter_reduce(dim, index, src, reduce, include_self); the backward is torch's formula
    for each reduction (FunctionsManual's scatter_reduce_backward), written with tritongrad ops."""

    _backward_name = "ScatterReduceBackward0"
    _tensor_options = (2,)  # the index

    @staticmethod
    def forward(ctx, x, values, index, plan, dim, reduce, include_self):
        return ScatterReduce.reduce_into(ctx, x, values, index, plan, dim, reduce, include_self, wide_half_sums=True)

    @staticmethod
    def reduce_into(ctx, x, values, index, plan, dim, reduce, include_self, *, wide_half_sums: bool):
        ctx.dim, ctx.reduce, ctx.include_self = dim, reduce, include_self
        result = _scatter_reduce_forward(x, values, plan, dim, reduce, include_self, wide_half_sums=wide_half_sums)
        ctx.save_for_backward(x, values, index, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        x, values, index, result = ctx.saved_tensors
        dim, reduce, include_self = ctx.dim, ctx.reduce, ctx.include_self
        if reduce == "sum":
            grad_self, grad_src = grad, grad.gather(dim, index)
        elif reduce == "mean":
            counts = (creation.ones if include_self else creation.zeros)(tuple(x.shape), dtype=grad.dtype,
                                                                         device=grad.device)  # fmt: skip
            counts = counts.scatter_add(dim, index, creation.ones(tuple(index.shape), dtype=grad.dtype,
                                                                  device=grad.device))  # fmt: skip
            counts = counts.masked_fill(counts == 0, 1)
            grad_self, grad_src = grad / counts, grad.gather(dim, index) / counts.gather(dim, index)
        elif reduce in ("amax", "amin"):
            chosen = result.gather(dim, index)
            self_is_result, src_is_result = (x == result).to(grad.dtype), (values == chosen).to(grad.dtype)
            shared = grad / self_is_result.scatter_add(dim, index, src_is_result)
            grad_self, grad_src = self_is_result * shared, src_is_result * shared.gather(dim, index)
        else:  # prod: products of the others, exact where x or src holds a zero
            masked_self = x.masked_fill(x == 0, 1)
            grad_self = grad * masked_self.scatter_reduce(dim, index, values, "prod", include_self=include_self)
            grad_self = grad_self / masked_self
            src_zero = values == 0
            zeros = creation.zeros(tuple(x.shape), dtype=grad.dtype, device=grad.device)
            src_zeros = zeros.scatter_add(dim, index, src_zero.to(grad.dtype)).gather(dim, index)
            single_zero = src_zero & (src_zeros == 1)
            masked_src_result = x.scatter_reduce(
                dim, index, values.masked_fill(single_zero, 1), "prod", include_self=include_self
            )
            grad_src = (
                (grad * masked_src_result)
                .gather(dim, index)
                .where(single_zero, (grad * result).gather(dim, index) / values.masked_fill(src_zero, 1))
            )
        if not include_self:
            grad_self = grad_self.scatter(dim, index, 0)
        return grad_self, grad_src, None, None, None, None, None


class IndexReduce(ScatterReduce):
    """input.index_reduce(dim, index, source, reduce, include_self): a scatter_reduce whose index is
    the 1-D index spread over source's other dims; the same backward."""

    _backward_name = "IndexReduceBackward0"

    @staticmethod
    def forward(ctx, x, values, index, plan, dim, reduce, include_self):
        return ScatterReduce.reduce_into(ctx, x, values, index, plan, dim, reduce, include_self, wide_half_sums=False)


_INDEX_REDUCES = ("prod", "mean", "amax", "amin")


def _index_reduce_arguments(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, include_self):
    """(input and source at least 1-d, the spread index, its plan, dim) of index_reduce(_)."""
    if reduce not in _INDEX_REDUCES:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    values = _index_func_source("index_reduce", input, dim, index, source)
    # torch's kernel warns once per process, after the argument checks and before the index bounds
    caller_warnings.warn_once("index_reduce beta", "index_reduce() is in beta and the API may change at any time.")
    if input.dtype == torch.bool:  # (torch's CPU kernels have no bool reduction, after the dtype checks)
        kernel = "index_func_" if include_self else "index_reduce_func_exclude_input_init"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    dim, target = _dim_of(input, dim), _as_1d(input)
    spread = [1] * target.dim()
    spread[dim] = -1
    positions = _as_1d(index).reshape(spread).expand(*values.shape)
    plan = _elementwise_plan(tuple(target.shape), dim, positions, error=_index_reduce_bounds_error)
    return target, values, positions, plan, dim


def _index_reduce_bounds_error(value: int, dim: int, size: int) -> Exception:
    return IndexError("index out of range in self")


@out_variant("index_reduce")
def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:  # fmt: skip
    """input with source's slices combined, by ``reduce`` ("prod", "mean", "amax", "amin"), into the
    slices ``index`` names along ``dim`` (as index_add does with sums); include_self=False leaves
    input's own values out of the slices that receive any."""
    include_self = as_bool(include_self, "index_reduce", "include_self")
    target, values, positions, plan, dim = _index_reduce_arguments(input, dim, index, source, reduce, include_self)
    out = IndexReduce.apply(target, values, positions, plan, dim, reduce, include_self)
    return out if input.dim() else out.reshape(())


def index_reduce_(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                  include_self: bool = True) -> Tensor:  # fmt: skip
    """``index_reduce`` in place; returns input."""
    include_self = as_bool(include_self, "index_reduce_", "include_self")
    target, values, positions, plan, dim = _index_reduce_arguments(input, dim, index, source, reduce, include_self)
    return _reduce_in_place(IndexReduce, input, target, values, positions, plan, dim, reduce, include_self)


def _reduce_in_place(
    function: type[ScatterReduce], input: Tensor, target: Tensor, values: Tensor, positions: Tensor, plan: IndexPlan,
    dim: int, reduce: str, include_self: bool,
) -> Tensor:  # fmt: skip
    """scatter_reduce_ / index_reduce_ once their arguments are checked: recorded as ``function``
    (out of place on a snapshot) when autograd needs it, else reduced straight into input."""
    _check_no_overlap(target._data, values._data)

    def out_of_place(snapshot: Tensor) -> Tensor:
        out = function.apply(_as_1d(snapshot), values, positions, plan, dim, reduce, include_self)
        return out if input.dim() else out.reshape(())

    def into_input() -> None:
        wide_half_sums = function is ScatterReduce
        result = _scatter_reduce_forward(target, values, plan, dim, reduce, include_self, wide_half_sums=wide_half_sums)
        elementwise_kernels.launch_unary("copy", result._data, out=target._data)

    return apply_inplace(input, out_of_place, into_input, values)


def _scatter_reduce_arguments(name: str, input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str):
    if reduce in ("max", "min"):  # (torch takes the old spellings too)
        reduce = "a" + reduce
    if reduce not in _SCATTER_REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"{name}(): argument 'src' must be Tensor, not {type(src).__name__}")
    dim, target, plan = _scatter_plan(name, input, dim, index, src)
    values, _ = _scatter_values(input, plan, src)
    if reduce == "mean" and input.dtype == torch.bool:  # (torch has no bool mean, after the shape checks)
        raise NotImplementedError("\"scatter_gather_tensor_cpu_reduce_mean\" not implemented for 'Bool'")
    return dim, target, plan, values, reduce


@out_variant("scatter_reduce")
def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:  # fmt: skip
    """input with each of ``src``'s values (its index-shaped corner) combined, by ``reduce`` ("sum",
    "prod", "mean", "amax", "amin"), into the position ``index`` names along ``dim`` (as scatter);
    include_self=False leaves input's own value out of the positions that receive any. Values combine
    in index order (a deterministic result); NaN wins amax/amin; integer means floor-divide."""
    include_self = as_bool(include_self, "scatter_reduce", "include_self")
    dim, target, plan, values, reduce = _scatter_reduce_arguments("scatter_reduce", input, dim, index, src, reduce)
    out = ScatterReduce.apply(target, values, _as_1d(index), plan, dim, reduce, include_self)
    return out if input.dim() else out.reshape(())


def scatter_reduce_(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                    include_self: bool = True) -> Tensor:  # fmt: skip
    """``scatter_reduce`` in place; returns input."""
    include_self = as_bool(include_self, "scatter_reduce_", "include_self")
    dim, target, plan, values, reduce = _scatter_reduce_arguments("scatter_reduce_", input, dim, index, src, reduce)
    return _reduce_in_place(ScatterReduce, input, target, values, _as_1d(index), plan, dim, reduce, include_self)


def _flat_plan(name: str, input: Tensor, index: Tensor) -> IndexPlan:
    """The plan of take/put_: index (any shape) into input read as 1-D in row-major order."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype != torch.int64:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got {dtype_word(index.dtype)}")
    numel = input.numel()

    def error(value, dim, size):
        return IndexError(f"out of range: tried to access index {value} on a tensor of {numel} elements.")

    out_dims = range(index.dim())
    return IndexPlan(
        (numel,), [0], [index._data], tuple(index.shape), {}, out_dims, wrap=True, error=error, watched=(index,)
    )


def take(input: Tensor, index: Tensor, *, out=None) -> Tensor:
    """input read as 1-D (row-major) at ``index``; the result has index's shape (TakeBackward0).
    ``out=``: of input's dtype, not partly input or index."""
    plan = _flat_plan("take", input, index)
    if input.numel() == 0 and index.numel() != 0:
        raise IndexError("take(): tried to take from an empty tensor")
    if out is not None:
        check_no_grad("take", out, input)
        if out.dtype != input.dtype:
            raise RuntimeError(
                "take(): self and out expected to have the same dtype, but got self.dtype = "
                f"{dtype_word(input.dtype)} and out.dtype = {dtype_word(out.dtype)}"
            )
        return write_out("take", out, Take.apply(input, plan), input, index, overlap=True, alias=False)
    return Take.apply(input, plan)


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """``put_`` on a copy of input (PutBackward0 through the copy)."""
    return put_(input.clone(), index, source, accumulate)


def fill_diagonal_(input: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Fills the main diagonal (every dim's index equal) in place, as an indexed write; with ``wrap``,
    a tall matrix's diagonal starts again below its square part (every ``width + 1`` elements in row
    order), as numpy's and torch's."""
    if input.dim() < 2:
        raise RuntimeError("dimensions must larger than 1")
    if input.dim() > 2 and len(set(input.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    size = min(input.shape)
    positions = [list(range(size)) for _ in range(input.dim())]
    height, width = input.shape[0], input.shape[1]
    if wrap and input.dim() == 2 and height > width + 1:
        step = width + 1
        for k in range(size, (input.numel() + step - 1) // step):
            positions[0].append(k * step // width)
            positions[1].append(k * step % width)
    index = tuple(creation.tensor(p, dtype=torch.int64, device=input.device) for p in positions)
    setitem(input, index, fill_value)
    return input


def put_(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """input read as 1-D gets source's elements at ``index`` in place (added with accumulate)."""
    as_bool(accumulate, "put_", "accumulate")
    if not input.is_contiguous():
        # The row-major order of a strided tensor: put into a dense copy (every check runs there, before
        # input changes), then copy it back (one in-place write of input, recorded as such).
        dense = input.contiguous()
        put_(dense, index, source, accumulate)
        return input.copy_(dense)
    plan = _flat_plan("put_", input, index)
    if not isinstance(source, Tensor):
        raise TypeError(f"put_(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source.dtype != input.dtype:  # (torch's order: the dtypes, the counts, then an empty input)
        raise RuntimeError(
            "put_(): self and source expected to have the same dtype, but got self.dtype = "
            f"{dtype_word(input.dtype)} and source.dtype = {dtype_word(source.dtype)}"
        )
    if source.numel() != index.numel():
        raise IndexError(
            f"put_(): Expected source and index to have the same number of elements, but got source.numel() = "
            f"{source.numel()}, index.numel() = {index.numel()}"
        )
    if input.numel() == 0 and index.numel():
        raise IndexError("put_(): Tried to put elements into an empty tensor")
    flat = input.view(-1)
    _put_inplace(flat, PutFunction, source.reshape(tuple(index.shape)), plan, accumulate)
    return input


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None, *, out=None) -> Tensor:
    """Values of input at ``indices`` along ``dim`` (broadcasting the other dims), GatherBackward0.

    As torch 2.13's CPU path: with ``dim``, indices must be int64 and are taken modulo the dim's size
    (5 is 1 and -5 is 3 for a size of 4; an empty dim is its ZeroDivisionError); with dim None it is
    ``gather`` along input flattened (int32 indices too, no negative ones, gather's bounds error).
    ``out=``: of input's dtype."""
    if out is not None:
        check_no_grad("take_along_dim", out, input)
        return write_out(
            "take_along_dim", out, take_along_dim(input, indices, dim), input, indices, overlap=True, alias=False
        )
    if not isinstance(indices, Tensor):
        raise TypeError(f"take_along_dim(): argument 'indices' must be Tensor, not {type(indices).__name__}")
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if indices.dtype != torch.int64:
        raise RuntimeError(
            f"torch.take_along_dim(): dtype of indices should be Long but got {dtype_word(indices.dtype)}"
        )
    if input.dim() != indices.dim():
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of dimensions, but got "
            f"{input.dim()} dimensions for input, and {indices.dim()} dimensions for indices"
        )
    if input.dim() == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    dim = _dim_of(input, dim)
    input_shape, index_shape = list(input.shape), list(indices.shape)
    input_shape[dim] = index_shape[dim] = 1
    common = list(broadcast_shapes(tuple(input_shape), tuple(index_shape)))
    source = input.expand(common[:dim] + [input.shape[dim]] + common[dim + 1 :])
    positions = indices.expand(common[:dim] + [indices.shape[dim]] + common[dim + 1 :])
    size = input.shape[dim]
    if size == 0 and positions.numel():  # (torch's remainder by the size: an integer division by zero)
        raise RuntimeError("ZeroDivisionError")
    wrapped = positions.remainder(size) if size else positions
    plan = _elementwise_plan(tuple(source.shape), dim, _as_1d(wrapped))
    result = GatherFunction.apply(_as_1d(source), plan)
    return result if positions.dim() else result.reshape(())


# ---------------------------------------------------------------------------------------------
# Masks: masked_fill, masked_select, masked_scatter, nonzero, argwhere
# ---------------------------------------------------------------------------------------------


def _check_mask(name: str, mask) -> None:
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask.dtype != torch.bool:
        if name.startswith("masked_fill"):
            word = type_meta_name(mask.dtype)
            raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {word}")
        if name.startswith("masked_scatter"):
            raise RuntimeError(
                f"masked_scatter_ only supports boolean masks, but got mask with dtype {dtype_word(mask.dtype)}"
            )
        raise RuntimeError(f"{name}: expected BoolTensor for mask")


def _masked_fill_value(input: Tensor, value):
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.dim()} dimension(s)."
            )
        return _read_before_writing(input, _fill_tensor_as(value, input.dtype)), MaskedFillTensor
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, complex):  # (into a real dtype: its real part if it has no imaginary one)
        return complex_scalar_as(value, input.dtype), MaskedFill
    if not isinstance(value, (bool, int, float)):
        raise TypeError(f"masked_fill(): argument 'value' must be Number or Tensor, not {type(value).__name__}")
    _check_scalar_int(value)
    # as input's dtype holds it (0.5 is True in a bool tensor); one it cannot hold: torch's overflow error
    return scalar_as(value, input.dtype, checked=True), MaskedFill


def _masked_fill_target(target: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where a masked fill writes: ``target`` itself, or for an expanded target (torch allows it,
    deprecated) the target with each broadcast dim cut to one element and the mask reduced by any()
    over those dims: a memory location takes the value if any element aliasing it is masked (the
    same answer in any order, unlike a write of several values)."""
    if not has_internal_overlap(target):
        return target, mask
    warnings.warn(
        "Use of masked_fill_ on expanded tensors is deprecated. Please clone() the tensor before performing "
        "this operation. This also applies to advanced indexing e.g. tensor[mask] = scalar",
        UserWarning,
        stacklevel=4,
    )
    aliased = tuple(
        d for d, (size, stride) in enumerate(zip(target.shape, target.stride())) if stride == 0 and size > 1
    )
    sizes = [1 if d in aliased else size for d, size in enumerate(target.shape)]
    collapsed = target.as_strided(sizes, target.stride(), target.storage_offset())
    reduced = _wrap(mask.expand(target.shape)).any(dim=aliased, keepdim=True)._data
    return collapsed, reduced


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` (a number or a 0-d tensor) where ``mask`` is True, else input (broadcasting both)."""
    _check_mask("masked_fill", mask)
    value, function = _masked_fill_value(input, value)
    return function.apply(input, mask, value)


def masked_fill_(input: Tensor, mask: Tensor, value) -> Tensor:
    """``masked_fill`` in place: mask must broadcast to input's shape; returns input."""
    _check_mask("masked_fill_", mask)
    broadcast_shapes(tuple(input.shape), tuple(mask.shape))  # (torch names input tensor a, the mask b)
    value, function = _masked_fill_value(input, value)
    fill = value._data if isinstance(value, Tensor) else value

    def into_input() -> None:
        target, where = _masked_fill_target(input._data, mask._data)
        elementwise_kernels.launch_where(where, fill, target, out_dtype=input.dtype, out=target)

    return apply_inplace(input, lambda s: function.apply(s, mask, value), into_input, value)


def masked_select(input: Tensor, mask: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The elements of input where mask is True (both broadcast), as a 1-D tensor in row-major order.
    Its length depends on the mask: one read-back of the count (torch reads it back too)."""
    _check_mask("masked_select", mask)
    if out is not None:
        return write_out(
            "masked_select", out, masked_select(input.detach(), mask), input, mask, overlap=True, alias=False
        )
    return MaskedSelect.apply(input, mask)


def _check_masked_scatter_source(input: Tensor, source) -> None:
    if not isinstance(source, Tensor):
        raise TypeError(f"masked_scatter_(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source.dtype != input.dtype:  # (torch's message, its missing space included)
        raise RuntimeError(
            "masked_scatter: expected self and source to have same dtypes but got"
            f"{dtype_word(input.dtype)} and {dtype_word(source.dtype)}"
        )


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """input with the positions where mask is True taking source's elements in row-major order."""
    _check_mask("masked_scatter_", mask)
    _check_masked_scatter_source(input, source)
    return MaskedScatter.apply(input, mask, source)


def masked_scatter_(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``masked_scatter`` in place (mask must broadcast to input's shape); returns input."""
    _check_mask("masked_scatter_", mask)
    _check_masked_scatter_source(input, source)

    def into_input() -> None:
        shape = tuple(input.shape)
        flat = views.contiguous_copy(source)._data if not source.is_contiguous() else source._data
        kernels.launch_masked_scatter(mask._data.expand(shape), flat, input._data, input._data)

    return apply_inplace(input, lambda s: MaskedScatter.apply(s, mask, source), into_input, source)


def nonzero(input: Tensor, *, out: Tensor | None = None, as_tuple: bool = False):
    """The indices of input's nonzero elements: a (count, input.dim()) int64 tensor in row-major
    order, or with ``as_tuple`` one 1-D tensor per dim (a 0-d input counts as 1-D). One read-back."""
    if out is not None and not as_tuple:
        return write_out("nonzero", out, nonzero(input), input)
    if not as_tuple:
        return _wrap(kernels.launch_nonzero(input._data))
    data = input._data if input.dim() else input._data.reshape(1)
    rows = kernels.launch_nonzero(data, transposed=True)
    return tuple(_wrap(rows[d]) for d in range(data.dim()))


def argwhere(input: Tensor) -> Tensor:
    """``nonzero(input)``: the (count, input.dim()) indices of the nonzero elements."""
    return nonzero(input)


# ---------------------------------------------------------------------------------------------
# cat / stack
# ---------------------------------------------------------------------------------------------


def _skipped_by_cat(tensor) -> bool:
    """torch's legacy rule: an empty 1-D tensor joins any cat (it adds nothing, whatever its rank)."""
    return tensor.dim() == 1 and tensor.shape[0] == 0


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        kept = [t for t in tensors if not _skipped_by_cat(t)] or list(tensors)
        ctx.dim = dim
        ctx.sizes = [t.shape[dim] for t in kept]
        # (a skipped input still gets its empty gradient, as torch's CatBackward0 gives it)
        ctx.skipped = [_skipped_by_cat(t) and len(kept) < len(tensors) for t in tensors]
        shape = list(kept[0].shape)
        shape[dim] = sum(ctx.sizes)
        out = torch.empty(shape, dtype=kept[0].dtype, device=kept[0].device)
        _copy_pieces(kept, dim, out)
        return _wrap(out)

    @staticmethod
    def backward(ctx, grad):
        pieces = iter(grad.split(ctx.sizes, ctx.dim))
        empty = grad.new_empty((0,))
        return (None,) + tuple(empty if skipped else next(pieces) for skipped in ctx.skipped)


class Stack(Cat):
    """cat of tensors unsqueezed at ``dim`` (their views cost nothing), named like torch's stack."""

    _backward_name = "StackBackward0"


def _copy_pieces(tensors, dim: int, out: torch.Tensor) -> None:
    """Each tensor copied (and cast to out's dtype) into its slice of ``out`` along ``dim``."""
    start = 0
    for tensor in tensors:
        size = tensor.shape[dim]
        if size and out.numel():
            elementwise_kernels.launch_unary("copy", tensor._data, out=out.narrow(dim, start, size))
        start += size


def tensor_list(op: str, tensors) -> list[Tensor]:
    """A sequence-of-tensors argument as a list, with torch's TypeErrors for anything else."""
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    for index, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"expected Tensor as element {index} in argument 0, but got {type(tensor).__name__}")
    return tensors


@autocast_op("cat")
def cat(tensors, dim: int = 0, *, stacking: bool = False, out: Tensor | None = None):
    """Concatenates along ``dim``; tensors must agree in the other dims (empty 1-D tensors are skipped).
    ``out=``: written in place (any dtype the inputs' result type casts to), torch's rules."""
    op = "stack" if stacking else "cat"
    tensors = tensor_list(op, tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    zero_dim = next((i for i, t in enumerate(tensors) if t.dim() == 0), None) if not stacking else None
    if zero_dim is not None:
        raise RuntimeError(f"zero-dimensional tensor (at position {zero_dim}) cannot be concatenated")
    kept = [t for t in tensors if not _skipped_by_cat(t)] or tensors
    reference = kept[0]
    dim = normalize_dim(dim, reference.dim())
    for index, tensor in enumerate(kept):
        if tensor.dim() != reference.dim():
            raise RuntimeError(f"Tensors must have same number of dimensions: got {reference.dim()} and {tensor.dim()}")
        if stacking and tensor.shape != reference.shape:  # (the shapes given: without the stacking dim)
            given = [list(t.shape[:dim] + t.shape[dim + 1 :]) for t in (reference, tensor)]
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {given[0]} at entry 0 and {given[1]} "
                f"at entry {index}"
            )
        for d in range(reference.dim()):
            if d != dim and tensor.shape[d] != reference.shape[d]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{reference.shape[d]} but got size {tensor.shape[d]} for tensor number {index} "
                    "in the list."
                )
    dtype = result_type(*tensors)  # (the skipped empty tensors still take part in promotion)
    if out is not None:
        shape = list(reference.shape)
        shape[dim] = sum(t.shape[dim] for t in kept)
        check_no_grad(op, out, *kept)  # (the dtype message below names cat for stack too, as torch's)
        buffer = prepare_out("cat", out, dtype, tuple(shape), *kept, rule="cat")
        check_writable(buffer)  # (an expanded out: two pieces would land in one place)
        for tensor in kept:  # (each piece is read while out is written)
            _check_no_overlap(buffer, tensor._data)
        _copy_pieces(kept, dim, buffer)
        out._version_counter.bump()
        return out
    return (Stack if stacking else Cat).apply(dim, *[t.to(dtype) for t in tensors])


# Public names that are also Tensor methods (``x.gather(1, i)``), and the in-place-only methods.
TENSOR_METHODS = (
    "index_select", "gather", "scatter", "scatter_", "scatter_add", "scatter_add_", "index_add", "index_add_",
    "index_fill", "index_fill_", "index_copy", "index_copy_", "index_put", "index_put_", "take", "scatter_reduce",
    "scatter_reduce_", "index_reduce", "index_reduce_",
    "take_along_dim", "put", "put_", "masked_fill", "masked_fill_", "masked_select",
    "masked_scatter",
    "masked_scatter_", "nonzero", "argwhere",
)  # fmt: skip

attach_methods({"__getitem__": getitem, "__setitem__": setitem})
attach_methods({name: globals()[name] for name in TENSOR_METHODS})
attach_methods({"fill_diagonal_": fill_diagonal_})  # (a method only, as torch's)
