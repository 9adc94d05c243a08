"""Reductions (sum, mean, prod, max/min, var/std, norm, logsumexp, nansum) and their backwards.

Forwards call kernels/reduce.py. Backwards broadcast the output gradient back
over the reduced dims (a zero-stride view: no memory) and combine it with the
saved input or output, using tritongrad ops so they stay differentiable.
"""

from __future__ import annotations

import math

import torch

from tritongrad import caller_warnings, creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import as_dtype, dtype_word, get_default_dtype, promote_types, refuse_complex
from tritongrad.kernels import reduce as kernels
from tritongrad.ops import return_types
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.elementwise import FUNCTIONS as ELEMENTWISE
from tritongrad.ops.out_argument import check_no_grad, check_out_tensor, out_variant, write_out, write_pair_out
from tritongrad.shapes import dims_arg, normalize_dim, shape_arg
from tritongrad.tensor import Tensor, attach_methods

isinf, isnan, logical_not, maximum, minimum = (
    ELEMENTWISE[name] for name in ("isinf", "isnan", "logical_not", "maximum", "minimum")
)


def _wrap(data):
    return Tensor._wrap(data)


def normalize_dims(dim, ndim: int) -> tuple[int, ...]:
    """dim (None, int, or sequence) → sorted unique non-negative dims; () means all dims."""
    if dim is None:
        return ()
    dims = (dim,) if type(dim) is int else dims_arg(dim)
    normalized = tuple(sorted(normalize_dim(d, ndim) for d in dims))
    repeated = [d for d, following in zip(normalized, normalized[1:]) if d == following]
    if repeated:
        raise RuntimeError(f"dim {repeated[0]} appears multiple times in the list of dims")
    return normalized


def _require_nonempty_dims(name: str, input, dim) -> None:
    """torch's first check for amax/amin of an empty tensor: each dim in the order given (as
    given, before repeats are looked for) must have a non-zero size."""
    if input.numel() != 0 or dim is None:
        return
    for d in dims_arg(dim):
        if input.shape[normalize_dim(d, input.dim())] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _require_dim_for_empty(name: str, input, dim) -> None:
    """amax/amin over every dim (no dim, or ()) of an empty tensor: torch's refusal."""
    if input.numel() == 0 and not normalize_dims(dim, input.dim()):
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
        )


def _reduced_dims(dims: tuple[int, ...], ndim: int) -> tuple[int, ...]:
    return dims if dims else tuple(range(ndim))


def expand_back(grad, input_shape: tuple, dims: tuple[int, ...], keepdim: bool):
    """Broadcasts a reduction's gradient back to the input shape (a view, no copy)."""
    if not is_grad_enabled():
        # A first-order backward: the same view made on the buffer, without recording two views.
        data = grad._data
        if not keepdim and input_shape:
            for d in _reduced_dims(dims, len(input_shape)):
                data = data.unsqueeze(d)
        return Tensor._wrap(data.expand(input_shape))
    if not keepdim and input_shape:
        for d in _reduced_dims(dims, len(input_shape)):
            grad = grad.unsqueeze(d)
    return grad.expand(input_shape)


def _count(shape: tuple, dims: tuple[int, ...]) -> int:
    return math.prod(shape[d] for d in _reduced_dims(dims, len(shape))) if shape else 1


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.input_shape, ctx.dims, ctx.keepdim, ctx.input_dtype = tuple(x.shape), dims, keepdim, x.dtype
        return _wrap(kernels.launch_sum(x._data, dims, keepdim, out_dtype=dtype))

    @staticmethod
    def backward(ctx, grad):
        grad = expand_back(grad, ctx.input_shape, ctx.dims, ctx.keepdim)
        return (grad.to(ctx.input_dtype) if grad.dtype != ctx.input_dtype else grad), None, None, None


class SumAll(Sum):
    _backward_name = "SumBackward0"


class SumDims(Sum):
    _backward_name = "SumBackward1"


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.input_shape, ctx.dims, ctx.keepdim, ctx.input_dtype = tuple(x.shape), dims, keepdim, x.dtype
        return _wrap(kernels.launch_mean(x._data, dims, keepdim, out_dtype=dtype))

    @staticmethod
    def backward(ctx, grad):
        count = _count(ctx.input_shape, ctx.dims)
        grad = expand_back(grad / count, ctx.input_shape, ctx.dims, ctx.keepdim)
        return _as_dtype(grad, ctx.input_dtype), None, None, None


def _as_dtype(grad, dtype):
    """A gradient in its input's dtype (a reduction with ``dtype=`` computes in another)."""
    return grad.to(dtype) if grad.dtype != dtype else grad


class MeanAll(Mean):
    _backward_name = "MeanBackward0"


class MeanDims(Mean):
    _backward_name = "MeanBackward1"


class Prod(Function):
    _over_all = False

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        result = _wrap(kernels.launch_prod(x._data, dims, keepdim, out_dtype=dtype))
        ctx.save_for_backward(x, result)
        ctx.dims, ctx.keepdim = dims, keepdim
        return result

    @staticmethod
    def backward(ctx, grad):
        x, result = ctx.saved_tensors
        shape = tuple(x.shape)
        grad_expanded = expand_back(grad, shape, ctx.dims, ctx.keepdim)
        if not bool((x == 0).any()):
            grad_input = grad_expanded * expand_back(result, shape, ctx.dims, ctx.keepdim) / x
        elif ctx._function._over_all and int((x == 0).sum().item()) > 1:
            # torch's prod() without dim: with two zeros every product of the others is zero (even
            # beside a NaN or an inf, which the explicit products below would spread).
            grad_input = creation.zeros(shape, dtype=x.dtype, device=x.device)
        else:
            # With zeros, divide-by-x fails: take the product of the other elements explicitly,
            # replacing each element in turn by 1 (O(n^2) in the reduced extent; only on this path).
            grad_input = grad_expanded * _product_of_others(x, ctx.dims)
        return _as_dtype(grad_input, x.dtype), None, None, None


def _product_of_others(x, dims: tuple[int, ...]):
    """For each element, the product of the other elements of its reduction group."""
    ndim = x.dim()
    reduced = _reduced_dims(dims, ndim)
    kept = [d for d in range(ndim) if d not in reduced]
    moved = x.permute(*kept, *reduced)
    kept_shape = tuple(moved.shape[: len(kept)])
    group = math.prod(moved.shape[len(kept) :])
    rows = moved.reshape(*kept_shape, 1, group)
    identity = creation.eye(group, dtype=torch.bool, device=x.device)
    ones = creation.ones((), dtype=x.dtype, device=x.device)
    replaced = ones.where(identity, rows.expand(*kept_shape, group, group))
    others = replaced.prod(dim=-1)
    inverse = [0] * ndim
    for position, d in enumerate(kept + list(reduced)):
        inverse[d] = position
    return others.reshape(tuple(moved.shape)).permute(*inverse)


class ProdAll(Prod):
    _backward_name = "ProdBackward0"
    _over_all = True


class ProdDims(Prod):
    _backward_name = "ProdBackward1"


class Extremum(Function):
    """amax/amin (and max()/min() without dim): the gradient is shared evenly among ties.

    max()/min() also count a NaN input as the winner when the result is NaN (torch's
    evenly_distribute_backward); amax/amin do not, and give NaN gradients there, as torch's do.
    """

    _nan_wins = False

    @staticmethod
    def forward(ctx, x, dims, keepdim, largest):
        launch = kernels.launch_amax if largest else kernels.launch_amin
        result = _wrap(launch(x._data, dims, keepdim))
        ctx.save_for_backward(x, result)
        ctx.dims, ctx.keepdim = dims, keepdim
        return result

    @staticmethod
    def backward(ctx, grad):
        x, result = ctx.saved_tensors
        return _even_share(x, result, grad, ctx.dims, ctx.keepdim, ctx._function._nan_wins), None, None, None


def _even_share(x, result, grad, dims: tuple[int, ...], keepdim: bool, nan_wins: bool):
    """The gradient of a value-selecting reduction without indices: ``grad`` shared evenly among
    the elements equal to the result (and the NaNs, when ``nan_wins`` and the result is NaN)."""
    shape = tuple(x.shape)
    result_expanded = expand_back(result, shape, dims, keepdim)
    winners = x == result_expanded
    if nan_wins:
        winners = winners | (isnan(x) & isnan(result_expanded))
    winners = winners.to(grad.dtype)
    count = winners.sum(dim=_reduced_dims(dims, x.dim()) if x.dim() else None, keepdim=True)
    share = expand_back(grad, shape, dims, keepdim) / count.expand(shape) if x.dim() else grad / count
    return share * winners


class Amax(Extremum):
    _backward_name = "AmaxBackward0"


class Amin(Extremum):
    _backward_name = "AminBackward0"


class MaxAll(Extremum):
    _backward_name = "MaxBackward1"
    _nan_wins = True


class MinAll(Extremum):
    _backward_name = "MinBackward1"
    _nan_wins = True


class ExtremumWithIndices(Function):
    """max(dim)/min(dim): values and indices; the gradient goes to the returned index only."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, largest):
        launch = kernels.launch_max_with_indices if largest else kernels.launch_min_with_indices
        values, indices = launch(x._data, dim, keepdim)
        values, indices = _wrap(values), _wrap(indices)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.input_shape, ctx.dim, ctx.keepdim = tuple(x.shape), dim, keepdim
        return values, indices

    @staticmethod
    def backward(ctx, grad, grad_indices):
        (indices,) = ctx.saved_tensors
        shape, dim = ctx.input_shape, ctx.dim
        if not shape:
            return grad, None, None, None
        if not ctx.keepdim:
            grad, indices = grad.unsqueeze(dim), indices.unsqueeze(dim)
        positions = creation.arange(shape[dim], device=grad.device)
        positions = positions.view(*([1] * dim), shape[dim], *([1] * (len(shape) - dim - 1)))
        chosen = positions == indices
        return grad.expand(shape).where(chosen, 0.0), None, None, None


class MaxDim(ExtremumWithIndices):
    _backward_name = "MaxBackward0"


class MinDim(ExtremumWithIndices):
    _backward_name = "MinBackward0"


class Var(Function):
    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.dims, ctx.correction, ctx.keepdim = dims, correction, keepdim
        return _wrap(kernels.launch_var(x._data, dims, correction, keepdim))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _variance_grad(x, grad, ctx.dims, ctx.correction, ctx.keepdim), None, None, None


def _centered(x, dims: tuple[int, ...]):
    return x - x.mean(dim=_reduced_dims(dims, x.dim()), keepdim=True) if x.dim() else x - x


def _variance_grad(x, grad, dims: tuple[int, ...], correction: float, keepdim: bool):
    """d var / dx = 2 (x - mean) / (N - correction), times the broadcast output gradient."""
    denominator = _count(tuple(x.shape), dims) - correction
    if denominator <= 0 and (not dims or x.dim() == 0):
        # torch's var_backward over all elements (no dim) with no degrees of freedom: 2 / 0 is +inf,
        # so the gradient is +inf (whatever the sign of x - mean), or NaN where x equals the mean.
        grad = expand_back(grad, tuple(x.shape), dims, keepdim)
        mean = x.mean() if x.dim() else x
        return grad * creation.full((), math.inf, dtype=x.dtype, device=x.device).where(x != mean, math.nan)
    # A dim given: torch keeps 2 / (N - correction), +inf at zero and negative beyond it.
    factor = 2.0 / denominator if denominator != 0 else math.inf
    return expand_back(grad * factor, tuple(x.shape), dims, keepdim) * _centered(x, dims)


def _std_grad(x, result, grad, dims: tuple[int, ...], correction: float, keepdim: bool):
    """d std / dx = d var / dx / (2 std), torch's std_backward; a zero std has a zero subgradient."""
    return _variance_grad(x, (grad / (result * 2)).where(result != 0, 0.0), dims, correction, keepdim)


def _mean_grad(x, grad, dims: tuple[int, ...], keepdim: bool):
    return expand_back(grad / _count(tuple(x.shape), dims), tuple(x.shape), dims, keepdim)


class Std(Function):
    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        result = _wrap(kernels.launch_std(x._data, dims, correction, keepdim))
        ctx.save_for_backward(x, result)
        ctx.dims, ctx.correction, ctx.keepdim = dims, correction, keepdim
        return result

    @staticmethod
    def backward(ctx, grad):
        x, result = ctx.saved_tensors
        return _std_grad(x, result, grad, ctx.dims, ctx.correction, ctx.keepdim), None, None, None


def _welford_mean(x, mean, dims: tuple[int, ...], keepdim: bool):
    """``mean`` as torch's var_mean/std_mean give it: their mean is a running (Welford) one,
    m += (x - m) / n, so an infinity followed by any element turns it into NaN (inf - inf, or
    finite - inf added to inf). Only an infinity in the last place of the reduction order keeps
    the plain mean's ±inf; plain mean() itself stays inf."""
    if not x.dtype.is_floating_point or x.dim() == 0:
        return mean
    reduced = _reduced_dims(dims, x.dim())
    kept = [d for d in range(x.dim()) if d not in reduced]
    group = math.prod(x.shape[d] for d in reduced)
    if group <= 1:
        return mean
    rows = x.permute(*kept, *reduced).reshape(*(x.shape[d] for d in kept), group)
    early_infinity = isinf(rows.narrow(-1, 0, group - 1)).any(-1)
    if keepdim:
        early_infinity = early_infinity.reshape(tuple(1 if d in reduced else x.shape[d] for d in range(x.dim())))
    return mean.where(logical_not(early_infinity), math.nan)


class VarMean(Function):
    """(var, mean) in one node, as torch.var_mean records them."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.dims, ctx.correction, ctx.keepdim = dims, correction, keepdim
        ctx.set_materialize_grads(False)  # an unused var must not bring its inf/NaN terms (torch skips it)
        variance = _wrap(kernels.launch_var(x._data, dims, correction, keepdim))
        return variance, _welford_mean(x, _wrap(kernels.launch_mean(x._data, dims, keepdim)), dims, keepdim)

    @staticmethod
    def backward(ctx, grad_var, grad_mean):
        (x,) = ctx.saved_tensors
        parts = []
        if grad_var is not None:
            parts.append(_variance_grad(x, grad_var, ctx.dims, ctx.correction, ctx.keepdim))
        if grad_mean is not None:
            parts.append(_mean_grad(x, grad_mean, ctx.dims, ctx.keepdim))
        return _sum_of(parts), None, None, None


class StdMean(Function):
    """(std, mean) in one node, as torch.std_mean records them."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        std = _wrap(kernels.launch_std(x._data, dims, correction, keepdim))
        ctx.save_for_backward(x, std)
        ctx.dims, ctx.correction, ctx.keepdim = dims, correction, keepdim
        ctx.set_materialize_grads(False)  # an unused std must not bring its inf/NaN terms (torch skips it)
        return std, _welford_mean(x, _wrap(kernels.launch_mean(x._data, dims, keepdim)), dims, keepdim)

    @staticmethod
    def backward(ctx, grad_std, grad_mean):
        x, std = ctx.saved_tensors
        parts = []
        if grad_std is not None:
            parts.append(_std_grad(x, std, grad_std, ctx.dims, ctx.correction, ctx.keepdim))
        if grad_mean is not None:
            parts.append(_mean_grad(x, grad_mean, ctx.dims, ctx.keepdim))
        return _sum_of(parts), None, None, None


def _sum_of(parts: list):
    """The sum of the gradient terms present (None when there are none)."""
    return None if not parts else parts[0] if len(parts) == 1 else parts[0] + parts[1]


class Logsumexp(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        result = _wrap(kernels.launch_logsumexp(x._data, dims, keepdim))
        ctx.save_for_backward(x, result)
        ctx.dims, ctx.keepdim = dims, keepdim
        return result

    @staticmethod
    def backward(ctx, grad):
        x, result = ctx.saved_tensors
        shape = tuple(x.shape)
        # d/dx log sum exp(x) = exp(x - result): the softmax over the reduced dims.
        weights = (x - expand_back(result, shape, ctx.dims, ctx.keepdim)).exp()
        return expand_back(grad, shape, ctx.dims, ctx.keepdim) * weights, None, None


class Nansum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.save_for_backward(x)
        ctx.dims, ctx.keepdim = dims, keepdim
        return _wrap(kernels.launch_nansum(x._data, dims, keepdim, out_dtype=dtype))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        grad = expand_back(grad, tuple(x.shape), ctx.dims, ctx.keepdim)
        # torch's grad * ~isnan(x), not a where: a NaN or inf incoming gradient (nanmean's 1 / 0 over
        # an all-NaN slice) times the zero at a NaN element is NaN there.
        return _as_dtype(grad * logical_not(isnan(x)), x.dtype), None, None, None


class Aminmax(Function):
    """(amin, amax) in one node; each gradient shared evenly among its ties, as torch's."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        low = _wrap(kernels.launch_amin(x._data, dims, keepdim))
        high = _wrap(kernels.launch_amax(x._data, dims, keepdim))
        ctx.save_for_backward(x, low, high)
        ctx.dims, ctx.keepdim = dims, keepdim
        return low, high

    @staticmethod
    def backward(ctx, grad_min, grad_max):
        x, low, high = ctx.saved_tensors
        grad = _even_share(x, low, grad_min, ctx.dims, ctx.keepdim, False)
        return grad + _even_share(x, high, grad_max, ctx.dims, ctx.keepdim, False), None, None


class Norm(Function):
    _backward_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        result = _wrap(kernels.launch_norm(x._data, p, dims, keepdim))
        ctx.save_for_backward(x, result)
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        return result

    @staticmethod
    def backward(ctx, grad):
        x, result = ctx.saved_tensors
        shape, p = tuple(x.shape), ctx.p
        grad_expanded = expand_back(grad, shape, ctx.dims, ctx.keepdim)
        norm_expanded = expand_back(result, shape, ctx.dims, ctx.keepdim)
        if p == 0:
            # The count of non-zeros is piecewise constant: torch returns no gradient at all (an
            # undefined one), so the input reads as unused and .grad stays None.
            return None, None, None, None
        if p == 1:
            return grad_expanded * x.sign(), None, None, None
        if math.isinf(p):
            magnitude = x.abs()
            # A NaN element is where the NaN norm came from: it takes the gradient, as in torch.
            winners = ((magnitude == norm_expanded) | isnan(magnitude)).to(grad.dtype)
            count = winners.sum(dim=_reduced_dims(ctx.dims, x.dim()), keepdim=True).expand(shape)
            return grad_expanded * x.sign() * winners / count, None, None, None
        if p < 1:
            # sign(x) |x|^(p-1) is inf·0 at a zero entry: torch's subgradient there is 0. The norm is
            # not masked (its power 1 - p is positive, so a zero norm gives 0 by itself).
            powered = x.abs() ** (p - 1)
            scaled = x.sign() * powered.where(x != 0, 0.0)
            return scaled * grad_expanded * norm_expanded ** (1 - p), None, None, None
        if p == 2:
            scaled = x / norm_expanded
        elif p < 2:
            # sign(x) |x|^(p-1), not x |x|^(p-2): the latter is 0·inf = NaN at a zero entry.
            scaled = x.sign() * x.abs() ** (p - 1) / norm_expanded ** (p - 1)
        else:
            scaled = x * x.abs() ** (p - 2) / norm_expanded ** (p - 1)
        # A zero norm has a zero (sub)gradient, as in torch.
        return (grad_expanded * scaled).where(norm_expanded != 0, 0.0), None, None, None


# ---------------------------------------------------------------------------------------------
# Public functional forms
# ---------------------------------------------------------------------------------------------


@autocast_op("sum")
def sum(input, dim=None, keepdim: bool = False, *, dtype=None, out=None):
    """Sum over all elements or over ``dim`` (int or tuple). ``out=`` (with ``dim``, as torch's): the
    sum is computed in out's dtype (the input cast to it first), or ``dtype`` must be out's dtype."""
    if dtype is not None and type(dtype) is not torch.dtype:
        dtype = as_dtype(dtype, "sum")
    if out is not None:
        if dim is None:
            raise TypeError("sum() received an invalid combination of arguments - got (Tensor, out=Tensor): "
                            "out= needs dim")  # fmt: skip
        check_no_grad("sum", out, input)
        if dtype is not None:
            return write_out("sum", out, sum(input, dim, keepdim, dtype=dtype), input)
        # torch casts the input to out's dtype first (floats into an int64 out are truncated, then summed)
        return write_out("sum", out, sum(input.to(out.dtype), dim, keepdim), input, rule="any")
    input = _cast_across_complex(input, dtype)
    dims = normalize_dims(dim, input.dim())
    if not (input.requires_grad and is_grad_enabled()):
        return _wrap(kernels.launch_sum(input._data, dims, keepdim, out_dtype=dtype))
    function = SumAll if not dims and not keepdim else SumDims
    return function.apply(input, dims, keepdim, dtype)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None, out=None):
    """Mean over all elements or over ``dim``; floating dtypes only, like torch. ``out=``: any dtype
    the result can be cast to."""
    if dtype is not None and type(dtype) is not torch.dtype:
        dtype = as_dtype(dtype, "mean")
    if out is not None:
        check_no_grad("mean", out, input)
        return write_out("mean", out, mean(input, dim, keepdim, dtype=dtype), input, rule="castable")
    input = _cast_across_complex(input, dtype)
    if not (dtype or input.dtype).is_floating_point and not (dtype or input.dtype).is_complex:
        raise RuntimeError(
            f"mean(): could not infer output dtype. {'Input' if dtype is None else 'Optional'} dtype must be either "
            f"a floating point or complex dtype. Got: {_dtype_word(dtype or input.dtype)}"
        )
    dims = normalize_dims(dim, input.dim())
    if not (input.requires_grad and is_grad_enabled()):
        return _wrap(kernels.launch_mean(input._data, dims, keepdim, out_dtype=dtype))
    function = MeanAll if not dims and not keepdim else MeanDims
    return function.apply(input, dims, keepdim, dtype)


def _cast_across_complex(input, dtype):
    """The input of a reduction with ``dtype=``, which torch casts to that dtype first. The reduction
    kernels accumulate a real input in another real dtype themselves, but not into or out of a complex
    one: that cast is made here (complex to real keeps the real part, with torch's warning)."""
    if dtype is not None and input.dtype.is_complex != dtype.is_complex:
        return input.to(dtype)
    return input


def _dtype_word(dtype: torch.dtype) -> str:
    return {torch.int64: "Long", torch.int32: "Int", torch.bool: "Bool", torch.int16: "Short",
            torch.int8: "Char", torch.uint8: "Byte"}.get(dtype, str(dtype))  # fmt: skip


@autocast_op("prod")
def prod(input, dim=None, keepdim: bool = False, *, dtype=None, out=None):
    """Product over all elements or over one ``dim``. ``out=`` (with ``dim``, as torch's): computed in
    out's dtype (the input cast to it first), or ``dtype`` must be out's dtype."""
    if dtype is not None and type(dtype) is not torch.dtype:
        dtype = as_dtype(dtype, "prod")
    if isinstance(dim, (tuple, list)):
        raise TypeError(
            f"prod() received an invalid combination of arguments - got (dim={type(dim).__name__}), but expected one "
            "of: (*, torch.dtype dtype) or (int dim, bool keepdim, *, torch.dtype dtype)"
        )
    if out is not None:
        if dim is None:
            raise TypeError(
                "prod() received an invalid combination of arguments - got (Tensor, out=Tensor), but expected one "
                "of: (Tensor input, *, torch.dtype dtype = None) or (Tensor input, int dim, bool keepdim = False, *, "
                "torch.dtype dtype = None, Tensor out = None)"
            )
        check_no_grad("prod", out, input)
        if dtype is not None:
            return write_out("prod", out, prod(input, dim, keepdim, dtype=dtype), input)
        return write_out("prod", out, prod(input.to(out.dtype), dim, keepdim), input, rule="any")
    input = _cast_across_complex(input, dtype)
    dims = normalize_dims(dim, input.dim())
    function = ProdAll if not dims and not keepdim else ProdDims
    return function.apply(input, dims, keepdim, dtype)


def amax(input, dim=(), keepdim: bool = False, *, out=None):
    """Maximum over ``dim`` (all dims by default); NaN propagates."""
    _require_nonempty_dims("amax", input, dim)
    _require_dim_for_empty("amax", input, dim)
    if input.dtype.is_complex:  # (torch's dispatcher names its kernel)
        raise NotImplementedError(f"\"max_values_cpu\" not implemented for '{dtype_word(input.dtype)}'")
    if out is not None:
        check_no_grad("amax", out, input)
        _check_same_dtype(input, out)
        return write_out("amax", out, amax(input, dim, keepdim), input)
    return Amax.apply(input, normalize_dims(dim, input.dim()), keepdim, True)


def amin(input, dim=(), keepdim: bool = False, *, out=None):
    """Minimum over ``dim`` (all dims by default); NaN propagates."""
    _require_nonempty_dims("amin", input, dim)
    _require_dim_for_empty("amin", input, dim)
    if input.dtype.is_complex:  # (torch's dispatcher names its kernel)
        raise NotImplementedError(f"\"min_values_cpu\" not implemented for '{dtype_word(input.dtype)}'")
    if out is not None:
        check_no_grad("amin", out, input)
        _check_same_dtype(input, out)
        return write_out("amin", out, amin(input, dim, keepdim), input)
    return Amin.apply(input, normalize_dims(dim, input.dim()), keepdim, False)


def _check_same_dtype(input, out) -> None:
    if out.dtype != input.dtype:
        raise RuntimeError(
            f"Expected the dtype for input and out to match, but got {dtype_word(input.dtype)} for input's dtype "
            f"and {dtype_word(out.dtype)} for out's dtype."
        )


def _extremum(input, dim, keepdim, other, largest: bool):
    if other is not None or (dim is not None and hasattr(dim, "_data")):
        return (maximum if largest else minimum)(input, other if other is not None else dim)
    if input.dtype.is_complex:  # (torch's words; the all-elements form is its dispatcher's)
        word = "max" if largest else "min"
        if dim is None:
            raise NotImplementedError(f"\"{word}_all\" not implemented for '{dtype_word(input.dtype)}'")
        raise refuse_complex(word, input.dtype)
    if dim is None:
        if input.numel() == 0:
            word = "max" if largest else "min"
            raise RuntimeError(
                f"{word}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return (MaxAll if largest else MinAll).apply(input, (), False, largest)
    result = (MaxDim if largest else MinDim).apply(input, normalize_dim(dim, input.dim()), keepdim, largest)
    return (return_types.max if largest else return_types.min)(*result)


def max(input, dim=None, keepdim: bool = False, *, other=None, out=None):
    """max(): the largest element; max(dim): (values, indices); max(other): elementwise maximum.
    ``out=``: a tensor for max(), a (values, indices) pair for max(dim)."""
    return _extremum_out("max", _extremum(input, dim, keepdim, other, True), out, input, dim, other)


def min(input, dim=None, keepdim: bool = False, *, other=None, out=None):
    """min(): the smallest element; min(dim): (values, indices); min(other): elementwise minimum.
    ``out=``: a tensor for min(), a (values, indices) pair for min(dim)."""
    return _extremum_out("min", _extremum(input, dim, keepdim, other, False), out, input, dim, other)


def _extremum_out(op: str, result, out, input, dim, other):
    if out is None:
        return result
    if isinstance(result, tuple):
        return write_pair_out(op, out, result, input)
    check_no_grad(op, out, input, *(t for t in (dim, other) if isinstance(t, Tensor)))
    return write_out(op, out, result, input, rule="castable")


def argmax(input, dim=None, keepdim: bool = False, *, out=None):
    """Index of the largest element (flattened when dim is None)."""
    if out is not None:
        check_no_grad("argmax", out, input)
        return write_out("argmax", out, argmax(input, dim, keepdim), input)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"argmax(): argument 'dim' must be int, not {type(dim).__name__}")
    if input.dtype == torch.bool:
        raise RuntimeError("argmax(): does not support bool input")
    if input.dtype.is_complex:
        raise refuse_complex("argmax", input.dtype)
    dim = None if dim is None else normalize_dim(dim, input.dim())
    return _wrap(kernels.launch_argmax(input._data, dim, keepdim))


def argmin(input, dim=None, keepdim: bool = False, *, out=None):
    """Index of the smallest element (flattened when dim is None)."""
    if out is not None:
        check_no_grad("argmin", out, input)
        return write_out("argmin", out, argmin(input, dim, keepdim), input)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"argmin(): argument 'dim' must be int, not {type(dim).__name__}")
    if input.dtype == torch.bool:
        raise RuntimeError("argmin(): does not support bool input")
    if input.dtype.is_complex:
        raise refuse_complex("argmin", input.dtype)
    dim = None if dim is None else normalize_dim(dim, input.dim())
    return _wrap(kernels.launch_argmin(input._data, dim, keepdim))


def _correction(name: str, dim, unbiased, correction) -> float:
    if correction is not None and unbiased is not None:
        # torch's parser has no signature with both (the arguments are shown as if given by keyword,
        # which is how such a call is usually written; the dim as its Python type)
        got = ", ".join(["Tensor"] + ([type(dim).__name__] if dim is not None else []))
        out = "" if name.endswith("_mean") else ", *, Tensor out = None"
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got ({got}, correction="
            f"{type(correction).__name__}, unbiased={type(unbiased).__name__}), but expected one of:\n"
            f" * (Tensor input, tuple of ints dim, bool unbiased = True, bool keepdim = False{out})\n"
            f" * (Tensor input, tuple of ints dim = None, *, Number correction = None, bool keepdim = False"
            f"{out.replace(', *', '')})\n"
            " * (Tensor input, bool unbiased = True)\n"
        )
    if correction is not None:
        return correction
    return 1 if unbiased in (None, True) else 0


def _check_floating(name: str, input) -> None:
    """var/std (torch's words for both), var_mean/std_mean and norm take floating inputs only."""
    if not input.dtype.is_floating_point:
        if input.dtype.is_complex:  # (torch computes these of complex tensors; tritongrad has no kernel)
            raise refuse_complex(name, input.dtype)
        if name == "norm":  # (torch's norm is linalg's)
            word = dtype_word(input.dtype)
            raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {word}")
        subject = "std and var" if name in ("var", "std") else name
        raise RuntimeError(f"{subject} only support floating point and complex dtypes")


def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, out=None):
    """Variance over all elements or ``dim``; ``correction`` (default 1) like torch. ``out=``: any
    dtype the result casts to."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    correction = _correction("var", dim, unbiased, correction)  # (a parser error: before the others)
    if out is not None:
        check_no_grad("var", out, input)
        return write_out("var", out, var(input, dim, None, keepdim, correction=correction), input, rule="castable")
    _check_floating("var", input)
    dims = normalize_dims(dim, input.dim())
    _warn_if_no_degrees_of_freedom("var", input, dims, correction)
    return Var.apply(input, dims, correction, keepdim)


def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, out=None):
    """Standard deviation over all elements or ``dim``; ``correction`` (default 1) like torch. ``out=``:
    any dtype the result casts to."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    correction = _correction("std", dim, unbiased, correction)  # (a parser error: before the others)
    if out is not None:
        check_no_grad("std", out, input)
        return write_out("std", out, std(input, dim, None, keepdim, correction=correction), input, rule="castable")
    _check_floating("std", input)
    dims = normalize_dims(dim, input.dim())
    _warn_if_no_degrees_of_freedom("std", input, dims, correction)
    return Std.apply(input, dims, correction, keepdim)


def _warn_if_no_degrees_of_freedom(name: str, input, dims: tuple[int, ...], correction: float) -> None:
    """torch's warning when the result is NaN or inf for lack of elements (the value is still returned),
    attributed to the user's line (the frames between it and here vary: method, alias wrapper, out=)."""
    if input.numel() and _count(tuple(input.shape), dims) - correction <= 0:
        caller_warnings.warn(
            f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
            "factor (input numel divided by output numel)."
        )


@autocast_op("norm")
def norm(input, p="fro", dim=None, keepdim: bool = False, out=None, dtype=None):
    """Vector p-norm (p = 1, 2, inf, -inf, 0 or any positive number; 'fro' is 2) over all elements
    or ``dim``. ``out=``: of the result's dtype."""
    if dtype is not None and type(dtype) is not torch.dtype:
        dtype = as_dtype(dtype, "norm")
    if out is not None:
        check_no_grad("linalg_vector_norm", out, input)  # (torch's words: its norm is linalg's)
        return write_out("linalg_vector_norm", out, norm(input, p, dim, keepdim, dtype=dtype), input)
    if p in ("fro", None):
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"tritongrad.norm supports numeric p and 'fro', got {p!r}")
    if dtype is not None:
        # torch's vector_norm computes in ``dtype``: the input is cast to it first (a widening only)
        if not input.dtype.is_floating_point:
            raise RuntimeError(
                "linalg.vector_norm: Expected a floating point or complex tensor as input. "
                f"Got {dtype_word(input.dtype)}"
            )
        if not dtype.is_floating_point:
            raise RuntimeError(
                f"linalg.vector_norm: dtype should be floating point or complex, but got {dtype_word(dtype)}"
            )
        if promote_types(input.dtype, dtype) != dtype:
            raise RuntimeError(
                f"linalg.vector_norm: the dtype of the input ({dtype_word(input.dtype)}) should be convertible without "
                f"narrowing to the specified dtype ({dtype_word(dtype)})"
            )
        input = input.to(dtype)
    _check_floating("norm", input)
    return Norm.apply(input, float(p), normalize_dims(dim, input.dim()), keepdim)


def sum_to_size(x, shape: tuple):
    """Sums ``x`` over the dims that ``shape`` broadcasts, returning exactly ``shape``."""
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    leading = x.dim() - len(shape)
    if leading < 0:
        raise RuntimeError(f"size {list(shape)} is not expandable to size {list(x.shape)}")
    dims = list(range(leading))
    for i, size in enumerate(shape):
        if size == 1 and x.shape[leading + i] != 1:
            dims.append(leading + i)
        elif size != x.shape[leading + i]:
            raise RuntimeError(f"size {list(shape)} is not expandable to size {list(x.shape)}")
    if not dims:
        return x.view(shape)
    return SumDims.apply(x, tuple(dims), True, None).view(shape)


def _one_of_each_repeat(input, dim) -> Tensor:
    """``input`` narrowed to one element along each reduced dim of stride 0: such a dim repeats one
    value, so any/all over it are that value's, and ``zeros(()).expand(2**31).any()`` reads one
    element instead of comparing 2^31 copies of it."""
    if not isinstance(input, Tensor) or input.dim() == 0:  # (a 0-dim input has no stride to read)
        return input
    for d in normalize_dims(dim, input.dim()) or range(input.dim()):  # (() is every dim)
        if input._data.stride(d) == 0 and input.shape[d] > 1:
            input = input.narrow(d, 0, 1)
    return input


def _boolean_out(op: str, input, dim, keepdim: bool, out):
    """all/any's out=: bool or uint8 (whatever the input's dtype, as torch's), of any shape (resized)."""
    check_out_tensor(op, out)  # (torch's all/any take inputs that require grad: the result has no gradient)
    if out.dtype not in (torch.bool, torch.uint8):
        raise RuntimeError(f"{op} only supports bool tensor for result, got: {dtype_word(out.dtype)}")
    result = (all if op == "all" else any)(input, dim, keepdim)
    return write_out(
        op, out, result if result.dtype == out.dtype else result.to(out.dtype), input, differentiable=False
    )


def _reduces_nothing(dim) -> bool:
    """all/any's ``dim=()`` (or ``[]``): torch reduces no dim there (an elementwise test), where sum's
    empty dim list means every dim."""
    return dim is not None and type(dim) is not int and len(dims_arg(dim)) == 0


def _elementwise_truth(input):
    """all/any over no dim: whether each element is non-zero (uint8 for a uint8 input, as torch's)."""
    result = input != 0
    return result.to(torch.uint8) if input.dtype == torch.uint8 else result


def all(input, dim=None, keepdim: bool = False, *, out=None):
    """True where every element (over ``dim``) is non-zero."""
    if out is not None:
        return _boolean_out("all", input, dim, keepdim, out)
    if _reduces_nothing(dim):
        return _elementwise_truth(input)
    input = _one_of_each_repeat(input, dim)
    zeros = logical_not(input).to(torch.int32) if input.dtype != torch.bool else logical_not(input)
    result = sum(zeros, dim=dim, keepdim=keepdim) == 0
    return result.to(torch.uint8) if input.dtype == torch.uint8 else result  # (torch keeps uint8 for uint8)


def any(input, dim=None, keepdim: bool = False, *, out=None):
    """True where some element (over ``dim``) is non-zero."""
    if out is not None:
        return _boolean_out("any", input, dim, keepdim, out)
    if _reduces_nothing(dim):
        return _elementwise_truth(input)
    input = _one_of_each_repeat(input, dim)
    nonzero = (input != 0).to(torch.int32)
    result = sum(nonzero, dim=dim, keepdim=keepdim) > 0
    return result.to(torch.uint8) if input.dtype == torch.uint8 else result  # (torch keeps uint8 for uint8)


def count_nonzero(input, dim=None):
    """The number of non-zero elements (over ``dim``, an int or a tuple). A reduced dim of stride 0
    repeats one element: it is counted once and multiplied, so ``ones(()).expand(2**31 + 5)``
    compares one element instead of 2^31 copies of it."""
    repeats = 1
    if isinstance(input, Tensor) and input.dim():
        for d in normalize_dims(dim, input.dim()) or range(input.dim()):
            if input._data.stride(d) == 0 and input.shape[d] > 1:
                repeats *= input.shape[d]
                input = input.narrow(d, 0, 1)
    counts = sum((input != 0).to(torch.int64), dim=dim)
    return counts * repeats if repeats != 1 else counts


def var_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(variance, mean) over all elements or ``dim``, in one node (VarMeanBackward0)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    correction = _correction("var_mean", dim, unbiased, correction)  # (a parser error: before the others)
    _check_floating("var_mean", input)
    dims = normalize_dims(dim, input.dim())
    _warn_if_no_degrees_of_freedom("var_mean", input, dims, correction)
    return VarMean.apply(input, dims, correction, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(standard deviation, mean) over all elements or ``dim``, in one node (StdMeanBackward0)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    correction = _correction("std_mean", dim, unbiased, correction)  # (a parser error: before the others)
    _check_floating("std_mean", input)
    dims = normalize_dims(dim, input.dim())
    _warn_if_no_degrees_of_freedom("std_mean", input, dims, correction)
    return StdMean.apply(input, dims, correction, keepdim)


@autocast_op("logsumexp")
def logsumexp(input, dim, keepdim: bool = False, *, out=None):
    """log(sum(exp(input))) over ``dim`` (an int or a tuple; () for all dims, which torch refuses without keepdim
    for a non-empty tensor with dims), computed as max + log(sum(exp(x - max))); integer inputs are taken in the
    default float dtype, as torch does."""
    if dim is None:  # (torch's dim has no default: None is no tuple of ints)
        raise TypeError("logsumexp(): argument 'dim' (position 2) must be tuple of ints, not NoneType")
    if out is not None:
        check_no_grad("logsumexp", out, input)
        return write_out("logsumexp", out, logsumexp(input, dim, keepdim), input, rule="castable")
    if not input.dtype.is_floating_point:
        if input.dtype.is_complex:
            raise refuse_complex("logsumexp", input.dtype)
        input = input.to(get_default_dtype())
    dims = normalize_dims(dim, input.dim())
    if not dims and not keepdim and input.dim() and input.numel():
        # torch's logsumexp over dim=() reduces every dim, but adds the maxima it kept (shape [1, ...])
        # into its 0-d result in place, which refuses the broadcast (empty inputs take another path)
        raise RuntimeError(f"output with shape [] doesn't match the broadcast shape {[1] * input.dim()}")
    return Logsumexp.apply(input, dims, keepdim)


def _check_nansum_out(out) -> None:
    if not out.dtype.is_floating_point:  # (torch sums in out's dtype, and has no integer nansum kernel)
        raise NotImplementedError(f"\"nansum_cpu\" not implemented for '{dtype_word(out.dtype)}'")


def nansum(input, dim=None, keepdim: bool = False, *, dtype=None, out=None):
    """Sum treating NaN as zero. ``out=``: floating; the sum runs in out's dtype (the input cast to it
    first), or ``dtype`` must be out's dtype."""
    if dtype is not None and type(dtype) is not torch.dtype:
        dtype = as_dtype(dtype, "nansum")
    if input.dtype.is_complex:
        raise refuse_complex("nansum", input.dtype)
    if out is not None:
        check_no_grad("nansum", out, input)
        if dtype is not None:
            return write_out("nansum", out, nansum(input, dim, keepdim, dtype=dtype), input)
        _check_nansum_out(out)
        return write_out("nansum", out, nansum(input.to(out.dtype), dim, keepdim), input, rule="any")
    return Nansum.apply(input, normalize_dims(dim, input.dim()), keepdim, dtype)


def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None, out=None):
    """Mean of the non-NaN elements (torch's is nansum / count too: its node is DivBackward0). ``out=``:
    floating, computed in out's dtype as nansum's."""
    if dtype is not None and type(dtype) is not torch.dtype:
        dtype = as_dtype(dtype, "nanmean")
    if out is not None:
        check_no_grad("nansum", out, input)  # (torch's words: its nanmean writes nansum's out)
        if dtype is None:
            _check_nansum_out(out)
            input, dtype = input.to(out.dtype), out.dtype
        return write_out("nansum", out, nanmean(input, dim, keepdim, dtype=dtype), input, rule="castable")
    if not (dtype or input.dtype).is_floating_point:
        raise RuntimeError(
            f"nanmean(): expected input to have floating point or complex dtype but got {_dtype_word(input.dtype)}"
        )
    count = sum(~isnan(input), dim=dim, keepdim=keepdim)
    return nansum(input, dim=dim, keepdim=keepdim, dtype=dtype) / count


@out_variant("aminmax")
def aminmax(input, *, dim=None, keepdim: bool = False):
    """(min, max) over ``dim`` (all dims if None) as torch.return_types.aminmax."""
    if input.dtype.is_complex:
        raise NotImplementedError(f"\"aminmax_cpu\" not implemented for '{dtype_word(input.dtype)}'")
    dims = () if dim is None else normalize_dims(dim, input.dim())
    if dim is None and input.numel() == 0:
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
        )
    for d in dims if input.numel() == 0 else ():
        if input.shape[d] == 0:  # (torch's words, and the dim as a non-negative one)
            raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
    return return_types.aminmax(*Aminmax.apply(input, dims, keepdim))


def _sum_to_size(self, *shape) -> Tensor:
    """Sums broadcast dims so the result has ``shape`` (the inverse of ``expand``)."""
    return sum_to_size(self, shape_arg(shape))


# (Tensor.norm is ops/linalg_svd.py's, which adds the matrix orders to this module's vector norm)
TENSOR_METHODS = (
    "sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "var", "std", "all", "any",
    "count_nonzero", "logsumexp", "nansum", "nanmean", "aminmax",
)  # fmt: skip
attach_methods({name: globals()[name] for name in TENSOR_METHODS} | {"sum_to_size": _sum_to_size})
