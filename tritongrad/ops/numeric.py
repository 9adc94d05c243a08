"""Numeric ops composed of elementwise, reduction and sorting kernels: float_power, logit,
signbit, sinc, diff, dist, gcd/lcm, isin, bucketize/searchsorted, logcumsumexp, trapezoid,
vander, quantile/nanquantile, logspace; torch's names, arguments, dtypes and errors.

Nothing here launches a kernel of its own: each op is written with tritongrad ops on tritongrad
tensors, so its gradient is the composed ops' autograd (sinc's is torch's formula, written with
the same ops, so that its node and second derivative are torch's)."""

from __future__ import annotations

import math

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.dtypes import (
    as_dtype,
    as_python_scalar,
    category,
    dtype_word,
    get_default_dtype,
    promote_types,
    refuse_complex,
    result_type,
)
from tritongrad.ops import arithmetic, ordering, reduction
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.elementwise import FUNCTIONS as _ELEMENTWISE
from tritongrad.ops.indexing import cat, gather
from tritongrad.ops.out_argument import check_no_grad, check_out_tensor, out_variant, write_out
from tritongrad.shapes import as_int, normalize_dim
from tritongrad.tensor import Tensor, attach_methods

__all__: list[str] = [
    "float_power", "logit", "signbit", "sinc", "diff", "dist", "gcd", "lcm", "isin", "bucketize", "searchsorted",
    "logcumsumexp", "trapezoid", "trapz", "cumulative_trapezoid", "vander", "quantile", "nanquantile", "logspace",
    "logit_", "sinc_", "gcd_", "lcm_", "mvlgamma",
]  # fmt: skip

# Functions that are also Tensor methods (logit and logit_: attached with their row, ops/elementwise.py).
TENSOR_METHODS: tuple[str, ...] = (
    "float_power", "float_power_", "signbit", "sinc", "sinc_", "diff", "dist", "gcd", "gcd_",
    "lcm", "lcm_", "logcumsumexp", "quantile", "nanquantile", "mvlgamma", "mvlgamma_",
)  # fmt: skip

_exp, _log, _sin, _cos = (_ELEMENTWISE[name] for name in ("exp", "log", "sin", "cos"))
_lgamma = _ELEMENTWISE["lgamma"]
_copysign, _isnan, _isfinite = _ELEMENTWISE["copysign"], _ELEMENTWISE["isnan"], _ELEMENTWISE["isfinite"]
_where = arithmetic.where


def _floating(input: Tensor, op: str) -> Tensor:
    """``input`` in the floating dtype torch computes a float-promoting unary op in (a complex one has
    no kernel here: refused, where a cast would drop its imaginary part)."""
    if input.dtype.is_floating_point:
        return input
    if input.dtype.is_complex:
        raise refuse_complex(op, input.dtype)
    return input.to(get_default_dtype())


def _write_inplace(self: Tensor, result: Tensor) -> Tensor:
    """``self`` overwritten with ``result`` (an in-place op's value), refusing a result of a higher
    category than self's dtype, as torch's in-place ops do."""
    if category(result.dtype) > category(self.dtype):
        raise RuntimeError(
            f"result type {dtype_word(result.dtype)} can't be cast to the desired output type {dtype_word(self.dtype)}"
        )
    return self.copy_(result)


def _require_tensor(name: str, argument: str, value, position: int) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{name}(): argument '{argument}' (position {position}) must be Tensor, not {type(value).__name__}"
        )


# ------------------------------------------------------------------------------ pointwise
def float_power(input, exponent, *, out=None):
    """input ** exponent computed in double precision (the result is always float64; so is ``out``)."""
    if out is not None:
        check_out_tensor("float_power", out)
        if out.dtype != torch.float64:
            raise RuntimeError(
                f"the output given to float_power has dtype {dtype_word(out.dtype)} but the operation's result "
                "requires dtype Double"
            )
        check_no_grad("float_power", out, *(v for v in (input, exponent) if isinstance(v, Tensor)))
        operands = [v for v in (input, exponent) if isinstance(v, Tensor)]
        return write_out("float_power", out, float_power(input, exponent), *operands)
    input, exponent = as_python_scalar(input), as_python_scalar(exponent)
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(
            f"float_power() received an invalid combination of arguments - got ({type(input).__name__}, "
            f"{type(exponent).__name__}), but expected a Tensor operand"
        )
    if any(isinstance(value, complex) or (isinstance(value, Tensor) and value.dtype.is_complex)
           for value in (input, exponent)):  # fmt: skip
        raise refuse_complex("float_power", torch.complex128)
    input, exponent = (
        value.to(torch.float64) if isinstance(value, Tensor) else float(value) for value in (input, exponent)
    )
    return arithmetic.pow(input, exponent)


def float_power_(self, exponent):
    """In-place float_power: self must already be float64."""
    if self.dtype != torch.float64:
        raise RuntimeError(
            f"the base given to float_power_ has dtype {dtype_word(self.dtype)} but the operation's result requires "
            "dtype Double"
        )
    return _write_inplace(self, float_power(self, exponent))


# logit(input, eps=None, *, out=None) and logit_: a row of ops/elementwise.py's SPECIAL table (one
# kernel with torch's clamp order, and torch's logit_backward at 0 and 1)
logit, logit_ = _ELEMENTWISE["logit"], _ELEMENTWISE["logit_"]


def _mvlgamma_out_dtype_error(wanted: torch.dtype, given: torch.dtype) -> str | None:
    """torch's refusal of an out= of a lower category (its message names the result type twice)."""
    if category(wanted) > category(given):
        word = dtype_word(wanted)
        return f"mvlgamma: result type {word} can't be cast to the desired output type {word}"
    return None


@out_variant("mvlgamma", rule="castable", dtype_error=_mvlgamma_out_dtype_error)
def mvlgamma(input, p):
    """The multivariate log-gamma of dimension p: p (p - 1) / 4 log(pi) + the sum over i < p of
    lgamma(x - i / 2)."""
    p = as_int(p, "mvlgamma(): argument 'p' must be int, not {}")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    input = _floating(input, "mvlgamma")  # (torch 2.13 no longer refuses elements at or below (p - 1) / 2)
    shifts = creation.arange(0, -p / 2, -0.5, dtype=input.dtype)[:p]
    return _lgamma(input.unsqueeze(-1) + shifts).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


def mvlgamma_(self, p):
    """``mvlgamma`` in place."""
    return _write_inplace(self, mvlgamma(self, p))


def _signbit_out_dtype_error(wanted: torch.dtype, given: torch.dtype) -> str:
    return "signbit does not support non-boolean outputs."


@out_variant("signbit", differentiable=False, dtype_error=_signbit_out_dtype_error)
def signbit(input):
    """True where the sign bit is set (-0.0 and negative NaNs included); a bool tensor."""
    if input.dtype == torch.bool or input.dtype == torch.uint8:
        return creation.zeros(tuple(input.shape), dtype=torch.bool, device=input.device)
    if not input.dtype.is_floating_point:
        return input < 0
    return _copysign(creation.ones((), dtype=input.dtype, device=input.device), input) < 0


def sinc(input, *, out=None):
    """sin(pi x) / (pi x), 1 at x = 0 (where the gradient is 0); integers promote to float.
    ``out=``: any dtype the float result casts to."""
    if out is not None:
        check_no_grad("sinc", out, input)
        return write_out("sinc", out, sinc(input), input, rule="castable")
    return Sinc.apply(_floating(input, "sinc"))


class Sinc(Function):
    """sinc with torch's sinc_backward as its (differentiable) backward: (pi x cos(pi x) - sin(pi x))
    / (pi x^2), replaced by 0 where pi x^2 is 0. The replaced branch is still differentiated, so the
    second derivative at 0 is torch's NaN (0 times 0 / 0), not a derivative of the where."""

    _backward_name = "SincBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        zero = x == 0
        scaled = _where(zero, 1.0, x * math.pi)
        return _where(zero, 1.0, _sin(scaled) / scaled)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        scaled = x * math.pi
        squared = x * x * math.pi
        slope = grad * (scaled * _cos(scaled) - _sin(scaled)) / squared
        return _where(squared == 0, 0.0, slope)


def sinc_(self):
    return _write_inplace(self, sinc(self))


# ------------------------------------------------------------------------------ differences and distances
def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """The n-th forward difference along ``dim`` (logical xor for bools), after concatenating
    ``prepend`` and ``append`` along ``dim``. ``out=``: torch's sub (or logical_xor) out=, any dtype
    the result casts to."""
    if out is not None:
        op = "logical_xor" if input.dtype == torch.bool else "sub"  # (the op whose out= torch's diff takes)
        inputs = [t for t in (input, prepend, append) if isinstance(t, Tensor)]
        check_no_grad(op, out, *inputs) if op == "sub" else check_out_tensor(op, out)
        result = diff(input, n, dim, prepend, append)
        return write_out(op, out, result, *inputs, rule="castable", overlap=True, differentiable=op == "sub")
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = normalize_dim(dim, input.dim())
    for position, (name, extra) in enumerate((("prepend", prepend), ("append", append)), start=4):
        if extra is not None:
            _require_tensor("diff", name, extra, position)
            if extra.dim() != input.dim():
                raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    if n == 0:  # (torch returns the input itself, without prepend and append)
        return input
    pieces = [t for t in (prepend, input, append) if t is not None]
    result = cat(pieces, dim) if len(pieces) > 1 else input
    for _ in range(min(n, result.shape[dim])):
        length = result.shape[dim]
        later, earlier = result.narrow(dim, 1, length - 1), result.narrow(dim, 0, length - 1)
        result = arithmetic.logical_xor(later, earlier) if result.dtype == torch.bool else later - earlier
    return result


@autocast_op("dist")
def dist(input, other, p=2):
    """The p-norm of input - other (broadcast); floating tensors only."""
    return reduction.norm(input - other, p)


# ------------------------------------------------------------------------------ gcd and lcm
def _check_integral(name: str, *tensors) -> torch.dtype:
    for position, (argument, value) in enumerate(zip(("input", "other"), tensors), start=1):
        _require_tensor(name, argument, value, position)
    dtype = result_type(*tensors)
    if dtype.is_floating_point or dtype.is_complex or dtype == torch.bool:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{dtype_word(dtype)}'")
    return dtype


def _gcd(a: Tensor, b: Tensor) -> Tensor:
    """Euclid's algorithm, elementwise, until every remainder is zero."""
    a, b = a.abs(), b.abs()
    while bool(reduction.any(b != 0)):
        nonzero = b != 0
        remainder = arithmetic.remainder(a, _where(nonzero, b, 1))
        a, b = _where(nonzero, b, a), _where(nonzero, remainder, 0)
    return a


def gcd(input, other, *, out=None):
    """Greatest common divisor of integer tensors (gcd(0, 0) = 0; never negative)."""
    if out is not None:
        return write_out("gcd", out, gcd(input, other), input, other, rule="castable", overlap=True)
    dtype = _check_integral("gcd", input, other)
    return _gcd(input.to(dtype), other.to(dtype))


def lcm(input, other, *, out=None):
    """Least common multiple of integer tensors (0 where either is 0)."""
    if out is not None:
        return write_out("lcm", out, lcm(input, other), input, other, rule="castable", overlap=True)
    dtype = _check_integral("lcm", input, other)
    input, other = input.to(dtype), other.to(dtype)
    divisor = _gcd(input, other)
    zero = divisor == 0
    quotient = arithmetic.div(input, _where(zero, 1, divisor), rounding_mode="trunc")
    return _where(zero, 0, (quotient * other).abs())


def gcd_(self, other):
    return _write_inplace(self, gcd(self, other))


def lcm_(self, other):
    return _write_inplace(self, lcm(self, other))


# ------------------------------------------------------------------------------ membership and search
@out_variant("isin", differentiable=False)
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` is in ``test_elements`` (either may be a number)."""
    elements, test_elements = as_python_scalar(elements), as_python_scalar(test_elements)
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(
            f"isin() received an invalid combination of arguments - got ({type(elements).__name__}, "
            f"{type(test_elements).__name__}), but expected a Tensor operand"
        )
    for value in (elements, test_elements):
        if isinstance(value, Tensor) and (value.dtype == torch.bool or value.dtype.is_complex):
            raise RuntimeError(f"Unsupported input type encountered for isin(): {dtype_word(value.dtype)}")
    if not isinstance(elements, Tensor):
        found = reduction.any(test_elements == elements)
    elif not isinstance(test_elements, Tensor):
        found = elements == test_elements
    else:
        table = elements.reshape(tuple(elements.shape) + (1,)) == test_elements.reshape(-1)
        found = reduction.any(table, dim=-1)
    return ~found if invert else found


_SIDES = ("left", "right")


def _search(sequence: Tensor, values, right: bool, out_int32: bool) -> Tensor:
    """For each value, the number of entries of the sorted last dim of ``sequence`` that come
    before it: those not >= it (left) or not > it (right), as torch's binary search counts them
    (so NaN values land at the end). A sequence holding NaN (torch.sort puts them last) is searched
    as torch's binary search walks it, since its answer then depends on the entries it probes."""
    if result_type(sequence, values) == torch.bool:
        raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'Bool'")
    if sequence.dtype.is_floating_point and sequence.numel() and bool(reduction.any(sequence != sequence)):
        found = _binary_search(sequence, values, right)
        return found.to(torch.int32) if out_int32 else found
    if not isinstance(values, Tensor):
        before = ~(sequence >= values) if not right else ~(sequence > values)
        count = before.sum(-1)
    else:
        column = values.unsqueeze(-1)
        table = sequence.unsqueeze(-2) if sequence.dim() > 1 else sequence
        before = ~(table >= column) if not right else ~(table > column)
        count = before.sum(-1)
    return count.to(torch.int32) if out_int32 else count


def _binary_search(sequence: Tensor, values, right: bool) -> Tensor:
    """torch's lower/upper bound loop, run for every value at once: ``mid = start + (end - start) // 2``;
    while ``start < end``, go right of mid where ``not (sequence[mid] >= value)`` (``>`` for right)."""
    if not isinstance(values, Tensor):
        values = creation.full((), values, dtype=result_type(sequence, values), device=sequence.device)
    shape = tuple(values.shape)
    flat = values.reshape(shape or (1,))  # (a 0-d value searches as one)
    length = sequence.shape[-1]
    rows = (sequence if sequence.dim() == 1 else sequence.unsqueeze(-2)).expand(tuple(flat.shape) + (length,))
    start = creation.zeros(tuple(flat.shape), dtype=torch.int64, device=flat.device)
    end = creation.full(tuple(flat.shape), length, dtype=torch.int64, device=flat.device)
    for _ in range(length.bit_length()):
        searching = start < end
        mid = start + (end - start) // 2
        probed = gather(rows, -1, mid.clamp(max=length - 1).unsqueeze(-1)).squeeze(-1)
        go_right = ~(probed > flat) if right else ~(probed >= flat)
        start = _where(searching & go_right, mid + 1, start)
        end = _where(searching & ~go_right, mid, end)
    return start.reshape(shape)


def _search_out_dtype_error(wanted: torch.dtype, given: torch.dtype) -> str:
    """torch's message for a searchsorted/bucketize out= of another dtype than int64 (int32 with out_int32)."""
    return (
        "torch.searchsorted(): output tensor's dtype is wrong, it can only be Int(int32) or Long(int64) depending "
        f"on whether out_int32 flag is True, but we got output tensor's dtype {dtype_word(given)} and out_int32 "
        f"flag is {wanted == torch.int32}"
    )


@out_variant("bucketize", differentiable=False, dtype_error=_search_out_dtype_error)
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The index of the bucket of ``boundaries`` (1-D, sorted) each input value falls in."""
    input = as_python_scalar(input)
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    return _search(boundaries, input, bool(right), bool(out_int32))


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """Insertion indices of ``values`` into the innermost dim of ``sorted_sequence`` (torch's rules);
    ``out=``: int64, or int32 with ``out_int32``."""
    if out is not None:
        check_out_tensor("searchsorted", out)
        wanted = torch.int32 if out_int32 else torch.int64
        if out.dtype != wanted:
            raise RuntimeError(_search_out_dtype_error(wanted, out.dtype))
        found = searchsorted(sorted_sequence, values, out_int32=out_int32, right=right, side=side, sorter=sorter)
        operands = [v for v in (sorted_sequence, values) if isinstance(v, Tensor)]
        return write_out("searchsorted", out, found, *operands, differentiable=False, overlap=True)
    values = as_python_scalar(values)
    if side is not None:
        if side not in _SIDES:
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of left while right was True"
            )
        right = side == "right"
    if sorted_sequence.dim() == 0:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension"
        )
    if not isinstance(values, Tensor) and sorted_sequence.dim() != 1:
        raise RuntimeError(
            "torch.searchsorted(): input value can be a scalar only when boundaries tensor dimension is 1, but we "
            f"got boundaries tensor dim({sorted_sequence.dim()}) and input value's dim(0) numel(1)"
        )
    if isinstance(values, Tensor) and sorted_sequence.dim() != 1:
        leading = tuple(sorted_sequence.shape[:-1])
        if values.dim() != sorted_sequence.dim() or tuple(values.shape[:-1]) != leading:
            raise RuntimeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of "
                "boundaries tensor and input value tensor must match, but we got boundaries tensor "
                f"{list(sorted_sequence.shape)} and input value tensor {list(values.shape)}"
            )
    if sorter is not None:
        if sorter.dtype != torch.int64:
            raise RuntimeError(
                f"torch.searchsorted(): sorter must be a tensor of long dtype but got dtype {dtype_word(sorter.dtype)}"
            )
        if tuple(sorter.shape) != tuple(sorted_sequence.shape):
            raise RuntimeError(
                "torch.searchsorted(): boundary and sorter must have the same size, but got boundary tensor "
                f"{list(sorted_sequence.shape)}and got sorter tensor {list(sorter.shape)}"
            )
        length = sorted_sequence.shape[-1]
        if sorter.numel() and bool(reduction.any((sorter < 0) | (sorter >= length))):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        sorted_sequence = gather(sorted_sequence, -1, sorter)
    return _search(sorted_sequence, values, bool(right), bool(out_int32))


# ------------------------------------------------------------------------------ scans and integrals
def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(input))) along ``dim``, computed stably: a running sum of exp(x - running max),
    rescaled at each new maximum (an affine scan); infinities and NaN as torch's. ``out=``: of input's dtype."""
    if out is not None:
        check_no_grad("logcumsumexp", out, input)
        if out.dtype != input.dtype:
            raise RuntimeError(f"expected scalar_type {dtype_word(input.dtype)} but found {dtype_word(out.dtype)}")
        return write_out("logcumsumexp", out, logcumsumexp(input, dim), input)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{dtype_word(input.dtype)}'")
    dim = normalize_dim(dim, input.dim())
    if input.dim() == 0 or input.numel() == 0:
        return input.clone()
    running = ordering.cummax(input, dim).values
    finite = _isfinite(running)
    shift = _where(finite, running, 0.0)  # (where the maximum is infinite, exp(x) itself is 0 or inf)
    previous = ordering._shifted(shift, dim, 0.0)
    previous_running = ordering._shifted(running, dim, -math.inf)
    # The earlier terms drop out where the running maximum is still -inf (they are all zero) and
    # where it first becomes +inf (the new term is inf by itself): there exp(previous - 0) would
    # overflow for a large finite previous maximum, and inf times the earlier terms make NaN.
    dropped = (previous_running == -math.inf) | ((running == math.inf) & (previous_running != math.inf))
    coefficients = _where(dropped, 0.0, _exp(previous - shift))
    total = ordering.AffineScan.apply(_exp(input - shift), coefficients, dim, False)
    return shift + _log(total)


def _trapezoid_operands(op: str, y, x, dx, dim) -> tuple[int, int, Tensor | None]:
    """trapezoid's and cumulative_trapezoid's argument checks, as torch's: (dim, samples along it,
    ``x`` shaped to broadcast against ``y`` or None)."""
    if x is not None and dx is not None:
        raise TypeError(f"{op}() received an invalid combination of arguments - got both x and dx")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'x' (position 2) must be Tensor, not {type(x).__name__}")
    if op == "cumulative_trapezoid":  # (torch's first check there; trapezoid's comes after its empty case)
        _refuse_bool(op, y, x)
    if y.dim() == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    dim = normalize_dim(dim, y.dim())
    length = y.shape[dim]
    if length:
        _refuse_bool(op, y, x)
    if x is not None and x.dim() == 1:
        if x.shape[0] != length:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point")
        x = x.reshape(tuple(length if d == dim else 1 for d in range(y.dim())))
    return dim, length, x


def _refuse_bool(op: str, y, x) -> None:
    if x is None and y.dtype == torch.bool:
        raise RuntimeError(f"{op}: received a bool input for `y`, but bool is not supported")
    if x is not None and torch.bool in (y.dtype, x.dtype):
        raise RuntimeError(f"{op}: received a bool input for `x` or `y`, but bool is not supported")


def _trapezoid_areas(y, x, dx, dim: int, length: int) -> Tensor:
    """The area of each of the ``length - 1`` trapezoids along ``dim``."""
    pairs = y.narrow(dim, 1, length - 1) + y.narrow(dim, 0, length - 1)
    if x is None:
        return pairs * ((1 if dx is None else as_python_scalar(dx)) * 0.5)
    return diff(x, dim=dim - y.dim()) * pairs / 2.0


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along ``dim``: sample spacing ``dx`` (default 1) or sample points ``x``."""
    dim, length, x = _trapezoid_operands("trapezoid", y, x, dx, dim)
    if length == 0:
        shape = tuple(y.shape[:dim]) + tuple(y.shape[dim + 1 :])
        return creation.zeros(shape, dtype=y.dtype, device=y.device)  # (torch's zeros_like_except(y, dim))
    if x is None:
        step = 1 if dx is None else as_python_scalar(dx)
        ends = y.select(dim, 0) + y.select(dim, -1)
        return (y.sum(dim) - ends * 0.5) * step
    return _trapezoid_areas(y, x, dx, dim, length).sum(dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal rule along ``dim``: one value fewer than ``y`` has there (none for
    fewer than two samples)."""
    dim, length, x = _trapezoid_operands("cumulative_trapezoid", y, x, dx, dim)
    if length == 0:
        return y * 0.5  # (an empty result in the dtype the areas would have)
    return _trapezoid_areas(y, x, dx, dim, length).cumsum(dim)


trapz = trapezoid


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of 1-D ``x``: columns x^(N-1), ..., x^0 (reversed if ``increasing``)."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    columns = x.shape[0] if N is None else N
    if columns < 0:
        raise RuntimeError("N must be non-negative.")
    dtype = promote_types(x.dtype, torch.int64)
    ones = creation.ones((x.shape[0], min(columns, 1)), dtype=dtype, device=x.device)
    result = ones
    if columns > 1:
        powers = ordering.cumprod(x.to(dtype).unsqueeze(1).expand(x.shape[0], columns - 1), 1)
        result = cat([ones, powers], 1)
    return result if increasing else result.flip(1)


# ------------------------------------------------------------------------------ quantiles
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name: str, input, q, dim, keepdim, interpolation, ignore_nan: bool):
    # (torch's checks are shared: nanquantile's messages say quantile(), but for its parser's TypeError)
    if input.dtype not in (torch.float32, torch.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    q = as_python_scalar(q)
    if isinstance(q, Tensor):
        if q.dim() > 1:
            raise RuntimeError("quantile() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    elif isinstance(q, (int, float)) and not isinstance(q, bool):
        if not 0 <= q <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q}")
    else:
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got (Tensor, {type(q).__name__}), but expected "
            "one of:\n"
            ' * (Tensor input, Tensor q, int dim = None, bool keepdim = False, *, str interpolation = "linear", '
            "Tensor out = None)\n"
            ' * (Tensor input, float q, int dim = None, bool keepdim = False, *, str interpolation = "linear", '
            "Tensor out = None)\n"
        )
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            "quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, but got "
            f"{interpolation}"
        )
    if dim is not None:
        dim = normalize_dim(dim, input.dim())
    if input.numel() == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    scalar_q = not isinstance(q, Tensor) or q.dim() == 0
    qs = (
        creation.tensor([float(q)], dtype=input.dtype, device=input.device)
        if not isinstance(q, Tensor)
        else q.reshape(-1)
    )
    if isinstance(q, Tensor) and qs.numel() and not bool(reduction.all((qs >= 0) & (qs <= 1))):
        raise RuntimeError("quantile() q values must be in the range [0, 1]")

    values = input.reshape(-1) if dim is None else (input.movedim(dim, -1) if input.dim() else input.reshape(1))
    ordered = ordering.sort(values, -1).values  # NaN sorts last
    last = ordered.shape[-1] - 1
    if ignore_nan:
        present = (~_isnan(ordered)).sum(-1, keepdim=True)
        ranks = qs * (present - 1)
        ranks = ranks.masked_fill(ranks < 0, 0)
    else:
        ranks = (qs * last).masked_fill(reduction.any(_isnan(ordered), dim=-1, keepdim=True), last)
    if interpolation == "lower":
        ranks = ranks.floor()
    elif interpolation == "higher":
        ranks = ranks.ceil()
    elif interpolation == "nearest":
        ranks = ranks.round()
    ranks = ranks.expand(tuple(ordered.shape[:-1]) + (qs.shape[0],))
    below_index = ranks.to(torch.int64)
    result = gather(ordered, -1, below_index)
    if interpolation in ("linear", "midpoint"):
        weights = ranks - below_index if interpolation == "linear" else creation.full_like(ranks, 0.5)
        above = gather(ordered, -1, ranks.ceil().to(torch.int64))
        result = _ELEMENTWISE["lerp"](result, above, weights)
    # result: the reduced dims, then one entry per q
    if keepdim:
        if dim is None:
            result = result.reshape((qs.shape[0],) + (1,) * input.dim())
            return result.reshape(tuple(result.shape[1:])) if scalar_q else result
        if input.dim():
            result = result.unsqueeze(dim)  # (dim < ndim - 1 here, the q axis still last)
    result = result.movedim(-1, 0)
    return result.squeeze(0) if scalar_q else result


def _quantile_out_dtype_error(wanted: torch.dtype, given: torch.dtype) -> str:
    return "quantile() out tensor must be same dtype as the input tensor"


@autocast_op("quantile")
@out_variant("quantile", differentiable=False, dtype_error=_quantile_out_dtype_error)
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles of ``input`` (over all elements or along ``dim``); NaN if any is NaN."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, ignore_nan=False)


@autocast_op("nanquantile")
@out_variant("nanquantile", differentiable=False, dtype_error=_quantile_out_dtype_error)
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile ignoring NaN (NaN only where every value is NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, ignore_nan=True)


# ------------------------------------------------------------------------------ creation
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, device=None, requires_grad=False):
    """``steps`` values base ** e, e evenly spaced from ``start`` to ``end`` (torch's halfway-symmetric steps);
    ``out=``: computed in its dtype and resized silently, as torch's factories do."""
    start, end = (value.item() if isinstance(value, Tensor) else as_python_scalar(value) for value in (start, end))
    if isinstance(steps, bool) or not isinstance(as_python_scalar(steps), int):
        raise TypeError(f"logspace(): argument 'steps' (position 3) must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if out is not None:
        check_out_tensor("logspace", out)
        dtype, device = as_dtype(dtype, "logspace") or out.dtype, out.device
    dtype = as_dtype(dtype, "logspace") or get_default_dtype()
    if dtype == torch.bool:
        raise NotImplementedError("\"logspace_cpu\" not implemented for 'Bool'")
    if requires_grad and not dtype.is_floating_point:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    # torch's CPU kernel: start and end in the dtype, their difference too, the step and the exponents in
    # float64 (start + step * i up to halfway, end - step * (steps - 1 - i) after: one value is base ** start)
    if not dtype.is_floating_point:
        start, end = int(start), int(end)
    first = creation.full((), start, dtype=dtype, device=device)
    last = creation.full((), end, dtype=dtype, device=device)
    step = (last - first).to(torch.float64) / max(steps - 1, 1)
    first, last = first.to(torch.float64), last.to(torch.float64)
    index = creation.arange(steps, dtype=torch.float64, device=device)
    exponents = _where(index < steps // 2, first + step * index, last - step * (steps - 1 - index))
    if steps == 1:
        exponents = first.reshape(1)
    result = arithmetic.pow(float(base), exponents.to(torch.float64))
    if not dtype.is_floating_point:
        result = result.to(torch.float32)
    result = result.to(dtype).detach()
    if out is not None:
        return creation.factory_out("logspace", out, result._data)
    return result.requires_grad_() if requires_grad else result


attach_methods({name: globals()[name] for name in TENSOR_METHODS})
