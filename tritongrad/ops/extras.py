"""torch functions real scripts use that fit no op family: pdist (and the distance Functions
torch.cdist shares), renorm, the log_normal_, cauchy_ and geometric_ fills, apply_/map_, frexp and ldexp.

All but frexp are compositions of existing ops (their kernels do the arithmetic): pdist reduces the
row differences over the upper-triangle pairs as torch's distance kernels do, with torch's own backward
formulas (a Function: every tied maximum of p = inf gets the whole gradient, p = 0 gives zeros), and
cdist's matmul form is torch's _euclidean_dist step by step. The others' gradients come from the ops
they compose: renorm scales each slice by torch's ``maxnorm / (norm + 1e-7)`` factor, log_normal_ exponentiates
a normal_ fill, cauchy_ and geometric_ map uniform and exponential fills through inverse
distribution functions, ldexp is torch's own composition ``input * 2 ** other``. frexp reads the
IEEE fields in one kernel (kernels/float_bits.py), since a log2-based composition is not exact at
powers of two. apply_ and map_ run a Python callable per element on the host, as torch's do
(CPU tensors only): the values are read back, mapped, ingested and copied in with the copy kernel.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import no_grad
from tritongrad.dtypes import (
    dtype_word,
    get_default_dtype,
    refuse_complex,
    result_type,
    tensor_type_name,
    typeid_name,
)
from tritongrad.kernels.float_bits import launch_frexp
from tritongrad.ops import arithmetic
from tritongrad.ops.indexing import cat, index_select
from tritongrad.ops.inplace import apply_inplace
from tritongrad.ops.layout import triu_indices
from tritongrad.ops.no_derivative import without_derivative
from tritongrad.ops.out_argument import check_no_grad, finish_out, write_out
from tritongrad.ops.random import check_continuous, random_fill
from tritongrad.ops.return_types import _return_type
from tritongrad.shapes import normalize_dim
from tritongrad.tensor import Tensor, attach_methods

__all__ = ["pdist", "renorm", "frexp", "ldexp", "ldexp_"]

frexp_result = _return_type("frexp", ("mantissa", "exponent"))


def _check_tensor(name: str, argument: str, value, position: int = 1) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{name}(): argument '{argument}' (position {position}) must be Tensor, not {type(value).__name__}"
        )


# ------------------------------------------------------------------------------ pairwise distances
# torch's cdist/pdist kernels (DistanceOpsKernel.cpp) and their own backward formulas, shared by
# torch.cdist (namespace_aliases.py) and pdist: the gradient of a p = inf distance goes in full to every
# tied maximum, p = 0 has a zero (not a missing) gradient, and a zero distance has a zero gradient.


def distance_of_differences(difference, p: float, *, nan_skipping_max: bool):
    """The p-norm over the last dim of ``difference`` as torch's kernels reduce it: p = 0 counts
    ``min(ceil(|d|), 1)`` (a NaN stays NaN); p = inf is the largest |d|, where cdist's scalar max skips
    NaN (``nan_skipping_max``) and pdist's vectorized one propagates it."""
    magnitude = difference.abs()
    if p == 0:
        return magnitude.ceil().clamp_max(1).sum(-1)
    if p == 1:
        return magnitude.sum(-1)
    if p == 2:
        return (magnitude * magnitude).sum(-1).sqrt()
    if math.isinf(p):
        if nan_skipping_max:  # (the running max starts at 0 and a NaN never replaces it)
            magnitude = magnitude.where(~magnitude.isnan(), 0.0)
        return magnitude.amax(-1)
    return magnitude.pow(p).sum(-1).pow(1.0 / p)


def distance_gradient(difference, distance, grad, p: float):
    """d distance / d difference times ``grad``, torch's per-p formulas (0 where the distance is 0)."""
    distance, grad = distance.unsqueeze(-1), grad.unsqueeze(-1)
    if p == 0:
        return creation.zeros_like(difference)
    if p == 1:
        return grad * difference.sign()
    if math.isinf(p):  # (every |d| equal to the maximum gets the whole gradient, written as torch writes it)
        return grad * difference.sign() * (1 - (difference.abs() - distance).abs().ceil().clamp_max(1))
    if p == 2:
        gradient = grad * difference / distance
    elif p < 2:
        gradient = difference.sign() * difference.abs().pow(p - 1) * grad / distance.pow(p - 1)
        if p < 1:  # (|0| ** (p - 1) is inf: torch sets those entries to 0)
            gradient = gradient.where(difference != 0, 0.0)
    else:
        gradient = difference * difference.abs().pow(p - 2) * grad / distance.pow(p - 1)
    return gradient.where(distance != 0, 0.0)


class Cdist(Function):
    """The distances between the rows of x1 (..., R1, M) and of x2 (..., R2, M), batch dims broadcast;
    torch's CdistBackward0."""

    @staticmethod
    def forward(ctx, x1, x2, p):
        ctx.save_for_backward(x1, x2)
        ctx.p = p
        difference = x1.unsqueeze(-2) - x2.unsqueeze(-3)
        if difference.numel() == 0:  # (no pairs, or no columns: all distances 0; x1's dtype, as torch's)
            return creation.zeros(difference.shape[:-1], dtype=x1.dtype, device=x1.device)
        return distance_of_differences(difference, p, nan_skipping_max=True)

    @staticmethod
    def backward(ctx, grad):
        x1, x2 = ctx.saved_tensors
        difference = x1.unsqueeze(-2) - x2.unsqueeze(-3)
        if difference.numel() == 0:
            return creation.zeros_like(x1), creation.zeros_like(x2), None
        with no_grad():  # (torch's _cdist_backward has no derivative of its own)
            distance = distance_of_differences(difference, ctx.p, nan_skipping_max=True)
            gradient = distance_gradient(difference, distance, grad, ctx.p)
            grad_x1 = gradient.sum(-2).sum_to_size(*x1.shape) if ctx.needs_input_grad[0] else None
            grad_x2 = (-gradient.sum(-3)).sum_to_size(*x2.shape) if ctx.needs_input_grad[1] else None
        return (
            None if grad_x1 is None else without_derivative(x1, grad_x1, "_cdist_backward", "CdistBackwardBackward0"),
            None if grad_x2 is None else without_derivative(x2, grad_x2, "_cdist_backward", "CdistBackwardBackward0"),
            None,
        )


class EuclideanDist(Function):
    """torch's matmul form of p = 2 cdist (its _euclidean_dist): [-2 x1, |x1|², 1] @ [x2, 1, |x2|²]ᵀ,
    clamped at 0, square-rooted, with torch's backward (0 where a distance is 0). Faster than the
    differences, and less accurate where the rows are far from the origin, as torch's."""

    @staticmethod
    def forward(ctx, x1, x2):
        x1_norm = x1.pow(2).sum(-1, keepdim=True)
        x2_norm = x2.pow(2).sum(-1, keepdim=True)
        augmented1 = cat([x1.mul(-2), x1_norm, creation.ones_like(x1_norm)], -1)
        augmented2 = cat([x2, creation.ones_like(x2_norm), x2_norm], -1)
        result = augmented1.matmul(augmented2.mT).clamp_min(0).sqrt()
        ctx.save_for_backward(x1, x2, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        x1, x2, result = ctx.saved_tensors
        ratio = (grad / result).where(result != 0, 0.0)
        grad_x1 = x1 * ratio.sum(-1, keepdim=True) - ratio.matmul(x2) if ctx.needs_input_grad[0] else None
        grad_x2 = x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT.matmul(x1) if ctx.needs_input_grad[1] else None
        return grad_x1, grad_x2


class Pdist(Function):
    """The distances of the row pairs i < j of a (N, M) input, row by row; torch's PdistBackward0."""

    @staticmethod
    def forward(ctx, input, p):
        n = input.shape[0]
        ctx.save_for_backward(input)
        ctx.p = p
        if n <= 1:
            return creation.empty(0, dtype=input.dtype, device=input.device)
        ctx.pairs = triu_indices(n, n, 1, device=input.device)
        return distance_of_differences(_pair_differences(input, ctx.pairs), p, nan_skipping_max=False)

    @staticmethod
    def backward(ctx, grad):
        (input,) = ctx.saved_tensors
        if input.shape[0] <= 1:
            return creation.zeros_like(input), None
        with no_grad():  # (torch's _pdist_backward has no derivative of its own)
            difference = _pair_differences(input, ctx.pairs)
            distance = distance_of_differences(difference, ctx.p, nan_skipping_max=False)
            gradient = distance_gradient(difference, distance, grad, ctx.p)
            first, second = ctx.pairs[0], ctx.pairs[1]
            grad_input = creation.zeros_like(input).index_add(0, first, gradient).index_add(0, second, -gradient)
        return without_derivative(input, grad_input, "_pdist_backward", "PdistBackwardBackward0"), None


def _pair_differences(input, pairs):
    return index_select(input, 0, pairs[0]) - index_select(input, 0, pairs[1])


def pdist(input, p: float = 2.0):
    """The p-norm distances between every pair of rows of a (N, M) input, torch.pdist: the N (N - 1) / 2
    entries above the diagonal of cdist(input, input), row by row, with torch's kernels' values (a NaN
    propagates through p = inf and p = 0) and gradients (``Pdist``).

    >>> tritongrad.pdist(tritongrad.tensor([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]]))
    tensor([ 5., 10.,  5.])
    """
    _check_tensor("pdist", "input", input)
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if not p >= 0:  # (NaN refused too)
        raise RuntimeError("pdist only supports non-negative p values")
    if input.dtype in (torch.float16, torch.bfloat16) and input.shape[0] > 1:
        raise NotImplementedError(f"\"pdist\" not implemented for '{dtype_word(input.dtype)}'")
    return Pdist.apply(input, float(p))


# ----------------------------------------------------------------------------------------- renorm


def _renorm_factor(input, p, dim: int, maxnorm):
    """torch's per-slice factor: maxnorm / (norm + 1e-7) where a slice's p-norm exceeds maxnorm, else 1."""
    if not isinstance(p, numbers.Real) or p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.dim() <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} dimensions")
    dim = normalize_dim(dim, input.dim())
    others = [d for d in range(input.dim()) if d != dim]
    norms = input.norm(p, others, keepdim=True)
    return (maxnorm / (norms + 1e-7)).where(norms > maxnorm, 1.0).to(input.dtype)


def renorm(input, p, dim: int, maxnorm, *, out=None):
    """input with each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to that norm,
    torch.renorm (the scale is ``maxnorm / (norm + 1e-7)``, as torch's).

    >>> tritongrad.renorm(tritongrad.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0)
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    _check_tensor("renorm", "input", input)
    if out is not None:
        _check_tensor("renorm", "out", out)
        check_no_grad("renorm", out, input)
        return write_out("renorm", out, renorm(input.detach(), p, dim, maxnorm), input, overlap=True)
    return input * _renorm_factor(input, p, dim, maxnorm)


def _renorm_(self, p, dim: int, maxnorm):
    """In-place renorm (Tensor.renorm_)."""
    _check_tensor("renorm_", "self", self)
    factor = _renorm_factor(self.detach(), p, dim, maxnorm)

    def into_self() -> None:
        with no_grad():
            self.copy_(self * factor)

    return apply_inplace(self, lambda snapshot: renorm(snapshot, p, dim, maxnorm), into_self)


# ------------------------------------------------------------------------------------ log_normal_


def _log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator=None):
    """Fills self with exp of N(mean, std^2) samples (Tensor.log_normal_): a normal_ fill, then exp_."""
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f"\"log_normal_cpu\" not implemented for '{dtype_word(self.dtype)}'")
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_number(std)}")
    return random_fill(self, "LogNormalBackward0", lambda target: target.normal_(mean, std, generator=generator).exp_())


def _cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator=None):
    """Fills self with Cauchy(median, sigma) samples (Tensor.cauchy_): median + sigma * tan(pi * (u - 1/2))
    for u uniform on [0, 1), the inverse of the Cauchy distribution function."""
    check_continuous("Cauchy", self)
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_number(sigma)}")

    def fill(target: Tensor) -> None:
        target.uniform_(generator=generator).sub_(0.5).mul_(math.pi).tan_().mul_(sigma).add_(median)

    return random_fill(self, "CauchyBackward0", fill)


def _geometric_(self, p: float, *, generator=None):
    """Fills self (any real dtype) with Geometric(p) samples on {1, 2, ...} (Tensor.geometric_, the
    number of trials up to the first success): ceil(e / -log(1 - p)) for e ~ Exponential(1), whose
    probability of k is (1 - p)**(k - 1) * p. e > 0, so every sample is at least 1."""
    if not 0.0 < p < 1.0:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_number(p)}")
    if self.dtype == torch.bool or self.dtype.is_complex:
        raise NotImplementedError(f"\"geometric_cpu\" not implemented for '{dtype_word(self.dtype)}'")
    wide = torch.float64 if self.dtype in (torch.float64, torch.int64) else torch.float32

    def fill(target: Tensor) -> None:
        trials = creation.empty(tuple(target.shape), dtype=wide, device=target.device).exponential_(generator=generator)
        target.copy_(trials.div_(-math.log1p(-p)).ceil_())

    return random_fill(self, "GeometricBackward0", fill)


def _number(value) -> str:
    """A number as torch's messages print it (0 for 0.0, -1 for -1.0)."""
    return str(int(value)) if float(value).is_integer() else str(value)


# ----------------------------------------------------------------------------------- apply_, map_


def _host_only(self, name: str) -> None:
    if self.device.type != "cpu":
        raise TypeError(f"{name} is only implemented on CPU tensors")
    if self.requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")


def _host_values(t: Tensor) -> list:
    """t's elements in row-major order, read back to the host (``tolist``, any layout)."""
    values = t._data.tolist()
    if not isinstance(values, list):
        return [values]
    for _ in range(t.dim() - 1):
        values = [v for row in values for v in row]
    return values


def _write_host_values(self, values: list) -> Tensor:
    """Ingests ``values`` (self's shape, as nested lists) and copies them into self with the copy kernel."""
    ingested = Tensor._wrap(torch.tensor(values, dtype=self.dtype).view(self.shape))
    with no_grad():
        self.copy_(ingested)
    return self


def _convert(value, dtype: torch.dtype):
    """The callable's result as torch stores it: a real number for floating tensors (``float()``), an int
    for integer ones (a float truncates, as torch's C cast); TypeError like torch's for anything else."""
    if not isinstance(value, numbers.Real):
        raise TypeError(f"must be real number, not {type(value).__name__}")
    if dtype == torch.bool:
        return bool(value)
    return float(value) if dtype.is_floating_point else int(value)


def _apply_(self, callable: Callable):  # noqa: A002 (torch's argument name)
    """Applies a Python callable to each element in place, on the host (Tensor.apply_; CPU tensors only,
    slow: for tests and small tensors)."""
    _host_only(self, "apply_")
    values = [_convert(callable(v), self.dtype) for v in _host_values(self)]
    return _write_host_values(self, values)


def _map_(self, tensor, callable: Callable):  # noqa: A002
    """self[i] = callable(self[i], tensor[i]) in place, ``tensor`` broadcast to self's shape (Tensor.map_;
    CPU tensors only, on the host)."""
    _host_only(self, "map_")
    _check_tensor("map_", "tensor", tensor)
    if tensor.dtype != self.dtype:
        raise TypeError(
            f"map_: expected {tensor_type_name(self.dtype, self.device, aten=True)} for 'other' (got "
            f"{tensor_type_name(tensor.dtype, tensor.device, aten=True)})"
        )
    other = tensor.expand_as(self)
    pairs = zip(_host_values(self), _host_values(other))
    values = [_convert(callable(a, b), self.dtype) for a, b in pairs]
    return _write_host_values(self, values)


# ------------------------------------------------------------------------------------------ frexp


class Frexp(Function):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent; d mantissa / d input = 2 ** -exponent."""

    _backward_name = "FrexpBackward0"

    @staticmethod
    def forward(ctx, x):
        mantissa, exponent = launch_frexp(x.contiguous()._data)
        exponent = Tensor._wrap(exponent)
        ctx.mark_non_differentiable(exponent)
        ctx.save_for_backward(exponent)
        return Tensor._wrap(mantissa), exponent

    @staticmethod
    def backward(ctx, grad_mantissa, grad_exponent):
        (exponent,) = ctx.saved_tensors
        return (grad_mantissa / exponent.exp2()).to(grad_mantissa.dtype)


def frexp(input, *, out=None):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent and 0.5 <= |mantissa| < 1 (torch.frexp):
    the mantissa in input's dtype, the exponent int32; zeros, infinities and NaN give themselves and 0.

    >>> tritongrad.frexp(tritongrad.tensor([8.0, -0.75]))
    torch.return_types.frexp(
    mantissa=tensor([ 0.5000, -0.7500]),
    exponent=tensor([4, 0], dtype=torch.int32))
    """
    _check_tensor("frexp", "input", input)
    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    if out is not None:
        mantissa_out, exponent_out = out
        if mantissa_out.dtype != input.dtype:
            raise RuntimeError(
                f"torch.frexp() expects mantissa to have dtype {typeid_name(input.dtype)} but got "
                f"{typeid_name(mantissa_out.dtype)}"
            )
        if exponent_out.dtype != torch.int32:
            raise RuntimeError(
                f"torch.frexp() expects exponent to have int dtype but got {typeid_name(exponent_out.dtype)}"
            )
    mantissa, exponent = Frexp.apply(input)
    if out is None:
        return frexp_result(mantissa, exponent)
    for target, value in zip(out, (mantissa, exponent)):
        target.resize_(value.shape) if tuple(target.shape) != tuple(value.shape) else None
        with no_grad():
            target.copy_(value)
        finish_out(target)
    return frexp_result(*out)


# ------------------------------------------------------------------------------------------ ldexp


def _ldexp_dtype(input, other) -> torch.dtype:
    """torch's result dtype for ldexp: the operands' promoted dtype, made floating (the default dtype)."""
    dtype = result_type(input, other)
    if dtype.is_complex:  # (torch computes it; tritongrad's pow has no complex kernel)
        raise refuse_complex("ldexp", dtype)
    return dtype if dtype.is_floating_point else get_default_dtype()


def ldexp(input, other, *, out=None):
    """input * 2 ** other (torch.ldexp): in the operands' promoted floating dtype (half inputs stay half
    for an integer ``other``, as torch's), composed of mul and pow, whose gradients it has.

    >>> tritongrad.ldexp(tritongrad.tensor([1.0, 3.0]), tritongrad.tensor([3, -1]))
    tensor([8.0000, 1.5000])
    """
    _check_tensor("ldexp", "input", input)
    _check_tensor("ldexp", "other", other, 2)
    dtype = _ldexp_dtype(input, other)
    return arithmetic.mul(input.to(dtype), arithmetic.pow(2.0, other.to(dtype)), out=out)


def ldexp_(input, other):
    """In-place ldexp: input *= 2 ** other (torch.ldexp_, Tensor.ldexp_)."""
    _check_tensor("ldexp_", "input", input)
    _check_tensor("ldexp_", "other", other, 2)
    if not input.dtype.is_floating_point:
        if input.dtype.is_complex:
            raise refuse_complex("ldexp", input.dtype)
        raise RuntimeError(f"ldexp can't be cast to the desired output type {dtype_word(input.dtype)}")
    return input.mul_(arithmetic.pow(2.0, other.to(_ldexp_dtype(input, other))))


attach_methods(
    {
        "renorm": renorm,
        "renorm_": _renorm_,
        "log_normal_": _log_normal_,
        "cauchy_": _cauchy_,
        "geometric_": _geometric_,
        "apply_": _apply_,
        "map_": _map_,
        "frexp": frexp,
        "ldexp": ldexp,
        "ldexp_": ldexp_,
    }
)
