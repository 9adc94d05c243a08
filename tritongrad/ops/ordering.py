"""Scans and ordering: cumsum/cumprod/cummax/cummin, sort/argsort/msort, topk, kthvalue, median,
mode, unique — and their backwards.

Forwards call kernels/scan.py and kernels/sort.py. Every op that selects input elements
(sort, topk, kthvalue, median(dim), mode, cummax/cummin) is a ``Selection``: it returns the
selected values with their int64 indices along ``dim``, and its gradient is the output gradient
added into a zero tensor at those indices (``ScatterAdd``, whose own backward is a ``Gather``, so
higher derivatives work). Global median() shares its gradient evenly among the elements equal to
the median, as torch's does.
"""

from __future__ import annotations

import math

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import as_dtype
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels import reduce as reduce_kernels
from tritongrad.kernels import scan as scan_kernels
from tritongrad.kernels import sort as sort_kernels
from tritongrad.kernels.creation import launch_arange, launch_fill_
from tritongrad.ops import return_types
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.indexing import as_bool, cat
from tritongrad.ops.no_derivative import without_derivative
from tritongrad.ops.out_argument import check_no_grad, write_out, write_pair_out
from tritongrad.ops.reduction import Extremum
from tritongrad.ops.views import contiguous_copy
from tritongrad.shapes import as_int, normalize_dim
from tritongrad.tensor import Tensor, attach_methods

__all__ = [
    "cumsum", "cumprod", "cummax", "cummin", "sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian",
    "mode", "unique",
]  # fmt: skip

TENSOR_METHODS = __all__


def _length(x, dim: int) -> int:
    return x.shape[dim] if x.dim() else 1


# ---------------------------------------------------------------------------------------------
# Gradient routing
# ---------------------------------------------------------------------------------------------


class Gather(Function):
    """x gathered at int64 ``index`` along ``dim`` (the backward of ScatterAdd)."""

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.save_for_backward(index)
        ctx.dim, ctx.input_shape = dim, tuple(x.shape)
        return Tensor._wrap(sort_kernels.launch_gather_along_dim(x._data, index._data, dim))

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return ScatterAdd.apply(grad, index, ctx.dim, ctx.input_shape), None, None


class ScatterAdd(Function):
    """A zero tensor of ``shape`` with ``grad`` added at ``index`` along ``dim``."""

    @staticmethod
    def forward(ctx, grad, index, dim, shape):
        ctx.save_for_backward(index)
        ctx.dim = dim
        return Tensor._wrap(sort_kernels.launch_scatter_add_along_dim(grad._data, index._data, dim, shape))

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return Gather.apply(grad, index, ctx.dim), None, None, None


class Selection(Function):
    """Values selected from x along ``dim`` by ``select(data) -> (values, indices)`` (torch buffers
    with dim kept); with ``squeeze``, dim is dropped from both. The gradient goes to the indices."""

    @staticmethod
    def forward(ctx, x, dim, squeeze, select):
        values, indices = select(x._data)
        ctx.save_for_backward(Tensor._wrap(indices))
        ctx.dim, ctx.squeeze, ctx.input_shape = dim, squeeze, tuple(x.shape)
        if squeeze and x.dim():
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        indices = Tensor._wrap(indices)
        ctx.mark_non_differentiable(indices)
        return Tensor._wrap(values), indices

    @staticmethod
    def backward(ctx, grad, grad_indices):
        (indices,) = ctx.saved_tensors
        if ctx.squeeze and ctx.input_shape:
            grad = grad.unsqueeze(ctx.dim)
        return ScatterAdd.apply(grad, indices, ctx.dim, ctx.input_shape), None, None, None


def _selection(name: str, backward_name: str) -> type:
    return type(name, (Selection,), {"_backward_name": backward_name})


SortSelection = _selection("Sort", "SortBackward0")
TopkSelection = _selection("Topk", "TopkBackward0")
KthvalueSelection = _selection("Kthvalue", "KthvalueBackward0")
MedianSelection = _selection("MedianDim", "MedianBackward1")
NanmedianSelection = _selection("NanmedianDim", "NanmedianBackward1")
ModeSelection = _selection("Mode", "ModeBackward0")
CummaxSelection = _selection("Cummax", "CummaxBackward0")
CumminSelection = _selection("Cummin", "CumminBackward0")


# ---------------------------------------------------------------------------------------------
# Scans
# ---------------------------------------------------------------------------------------------


def _scan_dtype(input, dtype, op: str) -> torch.dtype:
    """torch's result dtype of cumsum/cumprod: ``dtype`` if given, int64 for integers and bool."""
    if dtype is not None:
        return dtype if type(dtype) is torch.dtype else as_dtype(dtype, op)
    return input.dtype if input.dtype.is_floating_point else torch.int64


def _scan_input(input, dtype: torch.dtype, op: str):
    """The input a scan in a given ``dtype`` runs over: torch has no bool scan, and a complex input scanned
    in a real dtype is cast to it first (its imaginary part dropped, with torch's warning)."""
    if dtype == torch.bool:
        raise NotImplementedError(f"\"{op}_out_cpu\" not implemented for 'Bool'")
    return input.to(dtype) if input.dtype.is_complex and not dtype.is_complex else input


class Cumsum(Function):
    @staticmethod
    def forward(ctx, x, dim, dtype):
        ctx.dim, ctx.input_dtype = dim, x.dtype
        return Tensor._wrap(scan_kernels.launch_scan(x._data, dim, "sum", out_dtype=dtype))

    @staticmethod
    def backward(ctx, grad):
        grad = ReverseCumsum.apply(grad, ctx.dim)
        return (grad.to(ctx.input_dtype) if grad.dtype != ctx.input_dtype else grad), None, None


class ReverseCumsum(Function):
    """Sums from each position to the end of its row: the backward of cumsum (and vice versa)."""

    @staticmethod
    def forward(ctx, grad, dim):
        ctx.dim = dim
        return Tensor._wrap(scan_kernels.launch_scan(grad._data, dim, "sum", reverse=True))

    @staticmethod
    def backward(ctx, grad):
        return Cumsum.apply(grad, ctx.dim, grad.dtype), None


class Cumprod(Function):
    """Running product. Backward follows torch's cumprod_backward case by case, so that infinities,
    NaNs and overflow give torch's values:

    - no zero anywhere in x: grad_x = reverse_cumsum(y * grad) / x (y the cumprod);
    - zeros, first order: that formula before each row's first zero, 0 after it, and at the first
      zero y[z1 - 1] * sum_{z1 <= j < z2} grad[j] prod_{z1 < i <= j} x[i] (z2 the second zero);
    - zeros under create_graph: the explicit products prod_{i <= j, i != k} x[i] (O(n^2) memory in
      the row length), built from differentiable ops so every order of derivative exists.
    """

    @staticmethod
    def forward(ctx, x, dim, dtype):
        result = Tensor._wrap(scan_kernels.launch_scan(x._data, dim, "prod", out_dtype=dtype))
        ctx.save_for_backward(x, result)
        ctx.dim = dim
        return result

    @staticmethod
    def backward(ctx, grad):
        x, result = ctx.saved_tensors
        dim = ctx.dim
        if grad.dtype != x.dtype:
            grad = grad.to(x.dtype)
        if _length(x, dim) <= 1 or x.numel() <= 1:
            return grad, None, None  # x[k] multiplies no later element: torch's gradient is grad itself
        # Under create_graph the output must be a function of x in the new graph: computed again.
        output = Cumprod.apply(x, dim, x.dtype) if is_grad_enabled() else result
        if output.dtype != x.dtype:
            output = output.to(x.dtype)
        is_zero = x == 0
        if not bool(is_zero.any()):
            return ReverseCumsum.apply(output * grad, dim) / x, None, None
        if is_grad_enabled():
            return _cumprod_grad_explicit(x, grad, dim), None, None
        return _cumprod_grad_with_zeros(x, output, grad, is_zero, dim), None, None


def _cumprod_grad_with_zeros(x, output, grad, is_zero, dim: int):
    """torch's first-order cumprod gradient for an input with zeros (see Cumprod)."""
    zeros_so_far = is_zero.cumsum(dim)
    before_first = zeros_so_far == 0
    weighted = (output * grad).where(before_first, 0.0)
    grad_input = (ReverseCumsum.apply(weighted, dim) / x).where(before_first, 0.0)
    after_first = zeros_so_far == 1
    first_zero = is_zero & after_first
    between = after_first & ~first_zero
    running = Cumprod.apply(x.where(between, 1.0), dim, x.dtype)
    sums = (running * grad.where(after_first, 0.0)).sum(dim, keepdim=True)
    at_first_zero = sums * _shifted(output, dim, 1)  # y[z1 - 1], or 1 when the zero comes first
    return at_first_zero.where(first_zero, grad_input)


def _cumprod_grad_explicit(x, grad, dim: int):
    """grad_x[k] = sum_{j >= k} grad[j] * P[k] * Q[k, j], P[k] = prod_{i < k} x[i] and Q[k, j] =
    prod_{k < i <= j} x[i], as torch's cumprod double-backward path builds them: differentiable."""
    n = _length(x, dim)
    rows = x.movedim(dim, -1)
    grads = grad.movedim(dim, -1)
    before = _shifted(Cumprod.apply(rows, rows.dim() - 1, x.dtype), rows.dim() - 1, 1)
    positions = creation.arange(n, device=x.device)
    later = positions.view(1, n) > positions.view(n, 1)  # [k, j]: j > k
    reach = positions.view(1, n) >= positions.view(n, 1)  # [k, j]: j >= k
    square = tuple(rows.shape[:-1]) + (n, n)
    factors = rows.unsqueeze(-2).expand(square).where(later, 1.0)
    after = Cumprod.apply(factors, len(square) - 1, x.dtype)
    terms = (grads.unsqueeze(-2).expand(square) * (before.unsqueeze(-1) * after)).where(reach, 0.0)
    return terms.sum(-1).movedim(-1, dim)


class AffineScan(Function):
    """The affine recurrence of ``values`` with ``coefficients`` along ``dim`` (the coefficient
    between neighbours at the later position): reverse, S[k] = v[k] + c[k + 1] S[k + 1]; forward,
    S[k] = v[k] + c[k] S[k - 1]. Linear in v, so its gradient is the other direction's scan of
    the output gradient (the transpose); c's gradient pairs that adjoint with S one step apart."""

    @staticmethod
    def forward(ctx, values, coefficients, dim, reverse):
        out = Tensor._wrap(scan_kernels.launch_affine_scan(values._data, coefficients._data, dim, reverse=reverse))
        ctx.save_for_backward(coefficients, out)
        ctx.dim, ctx.reverse = dim, reverse
        return out

    @staticmethod
    def backward(ctx, grad):
        coefficients, out = ctx.saved_tensors
        dim = ctx.dim
        adjoint = AffineScan.apply(grad, coefficients, dim, not ctx.reverse)
        grad_coefficients = None
        if ctx.needs_input_grad[1]:
            # reverse: S[j-1] = v[j-1] + c[j] S[j]; forward: S[j] = v[j] + c[j] S[j-1] (c[0] unused)
            if ctx.reverse:
                grad_coefficients = _shifted(adjoint, dim, 0) * out
            else:
                grad_coefficients = adjoint * _shifted(out, dim, 0)
        return adjoint, grad_coefficients, None, None


def _shifted(t, dim: int, fill):
    """t one step further along ``dim`` (out[k] = t[k - 1]) with ``fill`` at position 0; differentiable."""
    length = _length(t, dim)
    if t.dim() == 0 or length == 0:
        return creation.full(tuple(t.shape), fill, dtype=t.dtype, device=t.device)
    head = creation.full(tuple(t.shape[:dim]) + (1,) + tuple(t.shape[dim + 1 :]), fill, dtype=t.dtype, device=t.device)
    return cat([head, t.narrow(dim, 0, length - 1)], dim)


@autocast_op("cumsum")
def cumsum(input, dim: int, *, dtype=None, out=None):
    """Running sum along ``dim``; integers and bools sum in int64 (torch's dtype rule). ``out=``: the
    sum runs in out's dtype (the input cast to it first), or ``dtype`` must be out's dtype."""
    if out is not None:
        check_no_grad("cumsum", out, input)
        if dtype is None and out.dtype == torch.bool:
            raise NotImplementedError("\"cumsum_out_cpu\" not implemented for 'Bool'")
        if dtype is not None:
            return write_out("cumsum", out, cumsum(input, dim, dtype=dtype), input, overlap=True)
        # torch casts the input to out's dtype first (floats into an int64 out are truncated, then summed)
        return write_out("cumsum", out, cumsum(input.to(out.dtype), dim), input, rule="any", overlap=True)
    input = input if dtype is None else _scan_input(input, _scan_dtype(input, dtype, "cumsum"), "cumsum")
    return Cumsum.apply(input, normalize_dim(dim, input.dim()), _scan_dtype(input, dtype, "cumsum"))


@autocast_op("cumprod")
def cumprod(input, dim: int, *, dtype=None, out=None):
    """Running product along ``dim``; integers and bools multiply in int64. ``out=``: as cumsum's."""
    if out is not None:
        check_no_grad("cumprod", out, input)
        if dtype is None and out.dtype == torch.bool:
            raise NotImplementedError("\"cumprod_out_cpu\" not implemented for 'Bool'")
        if dtype is not None:
            return write_out("cumprod", out, cumprod(input, dim, dtype=dtype), input, overlap=True)
        return write_out("cumprod", out, cumprod(input.to(out.dtype), dim), input, rule="any", overlap=True)
    input = input if dtype is None else _scan_input(input, _scan_dtype(input, dtype, "cumprod"), "cumprod")
    return Cumprod.apply(input, normalize_dim(dim, input.dim()), _scan_dtype(input, dtype, "cumprod"))


# kernels/scan.py's running max/min with indices fails on 8- and 16-bit integers in the interpreter
# (a 32-bit index block meets an 8-bit value type): those scan an int32 copy, exactly the same order.
_NARROW_INTEGERS = (torch.int8, torch.uint8, torch.int16)


def _scan_with_indices(data: torch.Tensor, dim: int, op: str) -> tuple[torch.Tensor, torch.Tensor]:
    if data.dtype not in _NARROW_INTEGERS:
        return scan_kernels.launch_scan(data, dim, op, with_indices=True)
    wide = elementwise_kernels.launch_unary("copy", data, out_dtype=torch.int32)
    values, indices = scan_kernels.launch_scan(wide, dim, op, with_indices=True)
    return elementwise_kernels.launch_unary("copy", values, out_dtype=data.dtype), indices


def _cumulative_extreme(input, dim: int, op: str):
    dim = normalize_dim(dim, input.dim())
    function = CummaxSelection if op == "max" else CumminSelection
    result = function.apply(input, dim, False, lambda data: _scan_with_indices(data, dim, op))
    return (return_types.cummax if op == "max" else return_types.cummin)(*result)


def _pair(op: str, result: tuple, out, input):
    """``result`` itself, or written into ``out=(values, indices)`` (torch's ``<op>_out`` pair)."""
    return result if out is None else write_pair_out(op, out, result, input)


def cummax(input, dim: int, *, out=None):
    """(running maximum, index of the latest element equal to it) along ``dim``; NaN propagates."""
    return _pair("cummax", _cumulative_extreme(input, dim, "max"), out, input)


def cummin(input, dim: int, *, out=None):
    """(running minimum, index of the latest element equal to it) along ``dim``; NaN propagates."""
    return _pair("cummin", _cumulative_extreme(input, dim, "min"), out, input)


# ---------------------------------------------------------------------------------------------
# Sorting and selection
# ---------------------------------------------------------------------------------------------


def _check_sortable(input) -> None:
    """torch's CPU sort refuses complex tensors (no order), in its words (with its leading space)."""
    if input.dtype.is_complex:
        raise RuntimeError(" Sort does not support complex dtypes on CPU")


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False, *, out=None):
    """(sorted values, their indices) along ``dim``. Always stable (equal values keep their order);
    NaN sorts as the largest value. ``out=(values, indices)``: written into those two tensors."""
    if out is not None:
        return write_pair_out("sort", out, sort(input, dim, descending, stable), input)
    if isinstance(dim, bool):  # torch refuses sort(x, True): descending is not the second argument
        raise TypeError("sort(): argument 'dim' must be int, not bool")
    descending, _ = as_bool(descending, "sort", "descending"), as_bool(stable, "sort", "stable")
    dim = normalize_dim(dim, input.dim())
    _check_sortable(input)
    result = SortSelection.apply(input, dim, False, lambda data: sort_kernels.launch_sort(data, dim, bool(descending)))
    return return_types.sort(*result)


def argsort(input, dim: int = -1, descending: bool = False, stable: bool | None = None, *, out=None):
    """Indices that sort ``input`` along ``dim`` (stable). ``out=``: int64, and only with ``stable``
    given, as torch's out= overload ``argsort(input, *, stable, dim=-1, descending=False, out)``."""
    descending = as_bool(descending, "argsort", "descending")
    if stable is not None:
        as_bool(stable, "argsort", "stable")
    dim = normalize_dim(dim, input.dim())
    _check_sortable(input)
    indices = Tensor._wrap(sort_kernels.launch_sort(input._data, dim, bool(descending))[1])
    if out is None:
        return indices
    if stable is None:
        raise TypeError(
            "argsort() received an invalid combination of arguments: out= is taken only with the keyword "
            "argument stable, as in argsort(input, *, stable, dim=-1, descending=False, out=None)"
        )
    check_no_grad("sort", out, input)
    return write_out("argsort", out, indices, input)


def msort(input, *, out=None):
    """Sorted along dim 0 (values only); ``out=``: of input's dtype."""
    if out is not None:
        check_no_grad("msort", out, input)
        return write_out("msort", out, sort(input, dim=0).values, input)
    return sort(input, dim=0).values


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *, out=None):  # noqa: A002
    """The k largest (smallest with ``largest=False``) values along ``dim`` and their indices,
    always in sorted order; among equal values the earlier index comes first."""
    k = as_int(k, "topk(): argument 'k' must be int, not {}")
    largest, sorted = as_bool(largest, "topk", "largest"), as_bool(sorted, "topk", "sorted")  # noqa: A001
    dim = normalize_dim(dim, input.dim())
    if input.dtype == torch.bool or input.dtype.is_complex:
        raise RuntimeError(f"topk does not support {'bool' if input.dtype == torch.bool else 'complex'} dtypes on CPU")
    if not 0 <= k <= _length(input, dim):
        raise RuntimeError("selected index k out of range")
    stop = k if input.dim() else 1  # (a 0-d input's result is the input itself, for k=0 too, as torch's)
    result = TopkSelection.apply(
        input, dim, False, lambda data: sort_kernels.launch_sort(data, dim, largest, stop=stop)
    )
    return _pair("topk", return_types.topk(*result), out, input)


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False, *, out=None):
    """The k-th smallest value along ``dim`` (k from 1) and its index."""
    k = as_int(k, "kthvalue(): argument 'k' must be int, not {}")
    dim = normalize_dim(dim, input.dim())
    _refuse_bool(input, "kthvalue_cpu")
    if _length(input, dim) == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {dim} to have non-zero size.")
    if not 1 <= k <= _length(input, dim):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    result = KthvalueSelection.apply(
        input, dim, not keepdim, lambda data: sort_kernels.launch_sort(data, dim, start=k - 1, stop=k)
    )
    return _pair("kthvalue", return_types.kthvalue(*result), out, input)


def _median_along(data: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The lower median along ``dim`` with its index (dim kept); a row holding NaN gives NaN and
    the index of its first NaN, as torch's median does."""
    n = _length(data, dim)
    k = (n - 1) // 2
    values, indices = sort_kernels.launch_sort(data, dim, start=k, stop=k + 1)
    if not data.dtype.is_floating_point:
        return values, indices
    nan = elementwise_kernels.launch_unary("isnan", data, out_dtype=torch.bool, compute=data.dtype)
    has_nan, first_nan = reduce_kernels.launch_max_with_indices(nan, dim, True) if data.dim() else (nan, indices)
    values = elementwise_kernels.launch_where(has_nan, math.nan, values, out_dtype=data.dtype)
    indices = elementwise_kernels.launch_where(has_nan, first_nan, indices, out_dtype=torch.int64)
    return values, indices


def _nanmedian_along(data: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The lower median of the non-NaN values along ``dim`` and its index (dim kept); NaN for a
    row of NaNs. NaN sorts last, so the median of a row with c numbers sits at place (c - 1) // 2."""
    if not data.dtype.is_floating_point:
        return _median_along(data, dim)
    if data.dim() == 0:
        values, indices = _nanmedian_along(data.view(1), 0)
        return values.view(()), indices.view(())
    values, order = sort_kernels.launch_sort(data, dim)
    nan = elementwise_kernels.launch_unary("isnan", data, out_dtype=torch.bool, compute=data.dtype)
    nan_count = reduce_kernels.launch_sum(nan, (dim,), True)
    place = elementwise_kernels.launch_binary(
        "sub", data.shape[dim] - 1, nan_count, out_dtype=torch.int64, compute=torch.int64
    )
    place = elementwise_kernels.launch_binary("floor_divide", place, 2, out_dtype=torch.int64, compute=torch.int64)
    place = elementwise_kernels.launch_binary("maximum", place, 0, out_dtype=torch.int64, compute=torch.int64)
    gather = sort_kernels.launch_gather_along_dim
    return gather(values, place, dim), gather(order, place, dim)


class MedianAll(Extremum):
    """median() of all elements; the gradient is shared among the elements equal to it (NaNs when
    it is NaN), as torch's evenly_distribute_backward. ``_along`` picks the median of a row."""

    _backward_name = "MedianBackward0"
    _nan_wins = True
    _along = staticmethod(_median_along)

    @staticmethod
    def forward(ctx, x, dims, keepdim, largest):
        flat = (x._data if x._data.is_contiguous() else contiguous_copy(x)._data).view(-1)
        if flat.numel() == 0:
            result = launch_fill_(torch.empty((), dtype=x.dtype, device=x.device), math.nan)
        else:
            result = ctx._function._along(flat, 0)[0].view(())
        result = Tensor._wrap(result)
        ctx.save_for_backward(x, result)
        ctx.dims, ctx.keepdim = (), False
        return result


class NanmedianAll(MedianAll):
    _backward_name = "NanmedianBackward0"
    _along = staticmethod(_nanmedian_along)


def _refuse_bool(input, kernel: str) -> None:
    if input.dtype == torch.bool:  # (torch has no bool kernel for these)
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def median(input, dim=None, keepdim: bool = False, *, out=None):
    """median(): the lower median of all elements; median(dim): (values, indices) along dim.
    NaN propagates."""
    _refuse_bool(input, "median_cpu" if dim is None else "median_out")
    if dim is None:
        if out is not None:
            raise TypeError('median() missing 1 required positional arguments: "dim"')
        if input.numel() == 0 and not input.dtype.is_floating_point:
            raise RuntimeError("median() input tensor cannot be empty")
        return MedianAll.apply(input, (), False, False)
    dim = normalize_dim(dim, input.dim())
    if _length(input, dim) == 0:
        raise IndexError(f"median(): Expected reduction dim {dim} to have non-zero size.")
    result = MedianSelection.apply(input, dim, not keepdim, lambda data: _median_along(data, dim))
    return _pair("median", return_types.median(*result), out, input)


def nanmedian(input, dim=None, keepdim: bool = False, *, out=None):
    """median() ignoring NaN: the lower median of the numbers (NaN only where there are none)."""
    _refuse_bool(input, "median_cpu" if dim is None else "median_out")
    if dim is None:
        if out is not None:
            raise TypeError('nanmedian() missing 1 required positional arguments: "dim"')
        if input.numel() == 0 and not input.dtype.is_floating_point:
            raise RuntimeError("nanmedian() input tensor cannot be empty")
        return NanmedianAll.apply(input, (), False, False)
    dim = normalize_dim(dim, input.dim())
    if _length(input, dim) == 0:
        raise IndexError(f"median(): Expected reduction dim {dim} to have non-zero size.")  # (torch names median)
    result = NanmedianSelection.apply(input, dim, not keepdim, lambda data: _nanmedian_along(data, dim))
    return _pair("nanmedian", return_types.nanmedian(*result), out, input)


def _positions(like: torch.Tensor, dim: int) -> torch.Tensor:
    """0, 1, 2, ... along ``dim``, broadcast (stride 0) over the other dims of ``like``."""
    n = like.shape[dim]
    view = [1] * like.dim()
    view[dim] = n
    return launch_arange(0, n, 1, dtype=torch.int64, device=like.device).view(view).expand(tuple(like.shape))


def _order_as_insertion_sort(
    data: torch.Tensor, values: torch.Tensor, order: torch.Tensor, dim: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The (values, order) of ``data`` that torch's CPU mode sorts into: std::sort with ``a < b``,
    which for rows up to 16 is an insertion sort, where NaN compares false with everything. A NaN
    therefore never moves and stops the numbers inserted after it: the numbers between two NaNs are
    sorted among themselves (stably), except that a number below the first element (the smallest
    number so far, when the row starts with a number) jumps to the front. So each element gets a
    group (2s for the numbers after the s-th NaN, 2s - 1 for that NaN, 0 for the jumpers) and the
    row is stably sorted by (group, value): two stable sorts, by value (given) and then by group.
    A row without NaN has one group and keeps its plain order. (Rows over 16 go through torch's
    unstable introsort first, whose order of equal values is not reproduced.)"""
    unary, binary = elementwise_kernels.launch_unary, elementwise_kernels.launch_binary
    where = elementwise_kernels.launch_where
    int64 = torch.int64
    nan = unary("isnan", data, out_dtype=torch.bool, compute=data.dtype)
    nans_so_far = scan_kernels.launch_scan(unary("copy", nan, out_dtype=int64), dim, "sum")
    group = binary("mul", nans_so_far, 2, out_dtype=int64, compute=int64)
    group = where(nan, binary("sub", group, 1, out_dtype=int64, compute=int64), group, out_dtype=int64)
    # The jumpers: a number below every number before it, in a row whose first element is a number.
    numbers = where(nan, math.inf, data, out_dtype=data.dtype)
    smallest_before = torch.empty(tuple(data.shape), dtype=data.dtype, device=data.device)
    n = data.shape[dim]
    launch_fill_(smallest_before.narrow(dim, 0, 1), math.inf)
    running_min = scan_kernels.launch_scan(numbers, dim, "min")
    unary("copy", running_min.narrow(dim, 0, n - 1), out=smallest_before.narrow(dim, 1, n - 1))
    jumps = binary("lt", numbers, smallest_before, out_dtype=torch.bool, compute=data.dtype)
    first_is_number = unary("logical_not", nan.narrow(dim, 0, 1), out_dtype=torch.bool, compute=torch.bool)
    jumps = binary("logical_and", jumps, first_is_number, out_dtype=torch.bool, compute=torch.bool)
    group = where(jumps, 0, group, out_dtype=int64)
    gather = sort_kernels.launch_gather_along_dim
    _, by_group = sort_kernels.launch_sort(gather(group, order, dim), dim)
    return gather(values, by_group, dim), gather(order, by_group, dim)


def _mode_along(data: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The most frequent value along ``dim`` (the smallest among equally frequent ones) and the
    index of its last occurrence, dim kept: sort, mark where runs of equal values start, a
    running max of those starts gives each place its run's start, and the longest run wins."""
    if data.dim() == 0:
        values, indices = _mode_along(data.view(1), 0)
        return values.view(()), indices.view(())
    n = data.shape[dim]
    values, order = sort_kernels.launch_sort(data, dim)
    if data.dtype.is_floating_point:
        values, order = _order_as_insertion_sort(data, values, order, dim)
    positions = _positions(values, dim)
    run_starts = torch.empty(tuple(values.shape), dtype=torch.int64, device=data.device)
    launch_fill_(run_starts.narrow(dim, 0, 1), 0)
    if n > 1:
        changed = elementwise_kernels.launch_binary(
            "ne", values.narrow(dim, 1, n - 1), values.narrow(dim, 0, n - 1), out_dtype=torch.bool,
            compute=data.dtype,
        )  # fmt: skip
        elementwise_kernels.launch_where(
            changed, positions.narrow(dim, 1, n - 1), 0, out_dtype=torch.int64, out=run_starts.narrow(dim, 1, n - 1)
        )
    run_starts = scan_kernels.launch_scan(run_starts, dim, "max")
    run_lengths = elementwise_kernels.launch_binary(
        "sub", positions, run_starts, out_dtype=torch.int64, compute=torch.int64
    )
    longest = reduce_kernels.launch_argmax(run_lengths, dim, True)
    return sort_kernels.launch_gather_along_dim(values, longest, dim), sort_kernels.launch_gather_along_dim(
        order, longest, dim
    )


def mode(input, dim: int = -1, keepdim: bool = False, *, out=None):
    """(most frequent value, index of its last occurrence) along ``dim``; among equally frequent
    values the smallest."""
    dim = normalize_dim(dim, input.dim())
    if _length(input, dim) == 0:
        raise IndexError(f"mode(): Expected reduction dim {dim} to have non-zero size.")
    result = ModeSelection.apply(input, dim, not keepdim, lambda data: _mode_along(data, dim))
    return _pair("mode", return_types.mode(*result), out, input)


def unique(input, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim=None):  # noqa: A002
    """The distinct elements in ascending order (also for ``sorted=False``, which torch leaves
    unspecified), with the inverse mapping and counts on request. NaNs are each distinct, as in
    torch. Reads back one number (how many distinct values) to size the result.

    With ``dim``: the distinct slices along ``dim`` in lexicographic order (the inverse maps each
    slice's position to its unique slice, counts per unique slice), as torch.unique(dim=...)."""
    if dim is not None:
        outputs = _unique_slices(input, normalize_dim(dim, input.dim()), return_inverse, return_counts)
        if isinstance(outputs, tuple):
            return (without_derivative(input, outputs[0], "unique_dim", "UniqueDimBackward0"), *outputs[1:])
        return without_derivative(input, outputs, "unique_dim", "UniqueDimBackward0")
    data = input._data if input._data.is_contiguous() else contiguous_copy(input)._data
    flat = data.view(-1)
    n = flat.numel()
    device = flat.device
    values, order = sort_kernels.launch_sort(flat, 0)
    # run_ids[j]: how many times the value changed before place j (the unique slot of place j).
    changes = torch.empty(n, dtype=torch.int64, device=device)
    if n:
        launch_fill_(changes[:1], 0)
    if n > 1:
        elementwise_kernels.launch_binary(
            "ne", values[1:], values[:-1], out_dtype=torch.int64, compute=input.dtype, out=changes[1:]
        )
    run_ids = scan_kernels.launch_scan(changes, 0, "sum")
    count = int(run_ids[-1].item()) + 1 if n else 0
    uniques = sort_kernels.launch_scatter_along_dim(
        values, run_ids, 0, torch.empty(count, dtype=input.dtype, device=device)
    )
    outputs = [without_derivative(input, Tensor._wrap(uniques), "_unique2", "Unique2Backward0")]
    if return_inverse:
        inverse = sort_kernels.launch_scatter_along_dim(
            run_ids, order, 0, torch.empty(n, dtype=torch.int64, device=device)
        )
        outputs.append(Tensor._wrap(inverse.view(tuple(input.shape))))
    if return_counts:
        ones = launch_fill_(torch.empty(n, dtype=torch.float64, device=device), 1)
        counts = sort_kernels.launch_scatter_add_along_dim(ones, run_ids, 0, (count,))
        outputs.append(Tensor._wrap(elementwise_kernels.launch_unary("copy", counts, out_dtype=torch.int64)))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _unique_slices(input, dim: int, return_inverse: bool, return_counts: bool):
    """unique(dim=dim): the slices along dim as the rows of an (n, m) matrix, put in lexicographic
    order by stable sorts on each column from the last to the first (m sorts of n keys); rows
    differing from their predecessor start a new unique row."""
    if input.dim() == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    shape = tuple(input.shape)
    n, m = shape[dim], math.prod(shape[:dim] + shape[dim + 1 :])
    if m == 0 and n > 0:
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
    device = input.device
    rows = contiguous_copy(Tensor._wrap(input._data.movedim(dim, 0)))._data.view(n, m)
    order = launch_arange(0, n, 1, dtype=torch.int64, device=device)
    for column in reversed(range(m)):
        keys = sort_kernels.launch_gather_along_dim(rows[:, column], order, 0)
        _, by_key = sort_kernels.launch_sort(keys, 0)
        order = sort_kernels.launch_gather_along_dim(order, by_key, 0)
    sorted_rows = sort_kernels.launch_gather_along_dim(rows, order.view(n, 1).expand(n, m), 0)
    # run_ids[i]: how many times the row changed before sorted row i (its unique slot)
    changes = torch.empty(n, dtype=torch.int64, device=device)
    if n:
        launch_fill_(changes[:1], 0)
    if n > 1:
        differs = elementwise_kernels.launch_binary(
            "ne", sorted_rows[1:], sorted_rows[:-1], out_dtype=torch.int64, compute=input.dtype
        )
        elementwise_kernels.launch_unary("copy", reduce_kernels.launch_amax(differs, (1,), False), out=changes[1:])
    run_ids = scan_kernels.launch_scan(changes, 0, "sum")
    count = int(run_ids[-1].item()) + 1 if n else 0
    uniques = torch.empty((count, m), dtype=input.dtype, device=device)
    sort_kernels.launch_scatter_along_dim(sorted_rows, run_ids.view(n, 1).expand(n, m), 0, uniques)
    moved = (count,) + shape[:dim] + shape[dim + 1 :]
    outputs = [contiguous_copy(Tensor._wrap(uniques.view(moved).movedim(0, dim)))]
    if return_inverse:
        inverse = sort_kernels.launch_scatter_along_dim(
            run_ids, order, 0, torch.empty(n, dtype=torch.int64, device=device)
        )
        outputs.append(Tensor._wrap(inverse))
    if return_counts:
        ones = launch_fill_(torch.empty(n, dtype=torch.float64, device=device), 1)
        counts = sort_kernels.launch_scatter_add_along_dim(ones, run_ids, 0, (count,))
        outputs.append(Tensor._wrap(elementwise_kernels.launch_unary("copy", counts, out_dtype=torch.int64)))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


attach_methods({name: globals()[name] for name in TENSOR_METHODS})
