"""Shape ops: flip/roll/tril/triu (a kernel each way), repeat/tile/repeat_interleave, diagonals
(diagonal, diag, diag_embed, trace), einsum, and the view helpers torch has as functions
(movedim, swapaxes, unflatten, narrow, broadcast_to/broadcast_tensors, meshgrid, atleast_nd,
split/chunk, cartesian_prod).

Views stay views (torch's view ops on the buffer, recorded by the view Functions of
``ops.views``). Ops that move data call kernels/shape.py or the copy kernel, and their backwards
are the inverse movement: flip and roll are their own inverses, tril/triu mask the gradient the
same way, repeat sums the repeated copies, a diagonal scatters into zeros. einsum is lowered to
diagonal views, sums, permutes and one batched matmul per pair of operands.
"""

from __future__ import annotations

import operator
import warnings

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.dtypes import category, dtype_word
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels import shape as shape_kernels
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.reduce import launch_sum
from tritongrad.kernels.strided import broadcast_shapes as _broadcast_shapes
from tritongrad.ops import indexing, views
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.inplace import apply_inplace
from tritongrad.ops.ordering import Gather
from tritongrad.ops.out_argument import write_out
from tritongrad.ops.views import _multiple_views, _view_of
from tritongrad.shapes import as_dim, as_int, dims_arg, normalize_dim, shape_arg
from tritongrad.tensor import Tensor, attach_methods

__all__ = [
    "flip", "fliplr", "flipud", "roll", "tril", "triu", "repeat", "tile", "repeat_interleave", "diagonal",
    "diag", "diag_embed", "trace", "einsum", "movedim", "moveaxis", "swapaxes", "swapdims", "unflatten",
    "narrow", "broadcast_to", "broadcast_tensors", "broadcast_shapes", "meshgrid", "cartesian_prod",
    "atleast_1d", "atleast_2d", "atleast_3d", "split", "chunk", "unbind", "tensor_split",
    "hstack", "vstack", "row_stack", "dstack", "column_stack",
]  # fmt: skip

# Functions that are also Tensor methods (x.flip(0), x.repeat(2, 3), ...).
TENSOR_METHODS = (
    "flip", "fliplr", "flipud", "roll", "tril", "triu", "repeat", "tile", "repeat_interleave", "diagonal",
    "diag", "diag_embed", "trace", "movedim", "moveaxis", "broadcast_to", "unfold", "tensor_split", "tril_",
    "triu_", "split", "chunk", "unbind",
)  # fmt: skip


def _dims_arg(dims, ndim: int) -> tuple[int, ...]:
    dims = dims_arg(dims)
    normalized = tuple(normalize_dim(d, ndim) for d in dims)
    if len(set(normalized)) != len(normalized):
        repeated = next(d for d in normalized if normalized.count(d) > 1)
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    return normalized


# ---------------------------------------------------------------------------------------------
# flip, roll, tril/triu
# ---------------------------------------------------------------------------------------------


class Flip(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        flips = tuple(d in dims for d in range(x.dim()))
        return Tensor._wrap(shape_kernels.launch_rearrange(x._data, flips=flips))

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.dims), None


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts):
        ctx.shifts = shifts
        return Tensor._wrap(shape_kernels.launch_rearrange(x._data, shifts=shifts))

    @staticmethod
    def backward(ctx, grad):
        return Roll.apply(grad, tuple(-s for s in ctx.shifts)), None


class RollFlattened(Function):
    """roll without dims: the flattened tensor shifted, in the input's shape. One node, as torch's
    (RollBackward0, not a flatten, a roll and a view)."""

    _backward_name = "RollBackward0"

    @staticmethod
    def forward(ctx, x, shift):
        ctx.shift = shift
        dense = x._data if x._data.is_contiguous() else views.contiguous_copy(x)._data
        rolled = shape_kernels.launch_rearrange(dense.view(-1), shifts=(shift,))
        return Tensor._wrap(rolled.view(x.shape))

    @staticmethod
    def backward(ctx, grad):
        return RollFlattened.apply(grad, -ctx.shift), None


class Triangle(Function):
    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return Tensor._wrap(
            shape_kernels.launch_rearrange(x._data, triangle=ctx._function._triangle, diagonal=diagonal)
        )

    @staticmethod
    def backward(ctx, grad):
        return ctx._function.apply(grad, ctx.diagonal), None


class Tril(Triangle):
    _triangle = "lower"


class Triu(Triangle):
    _triangle = "upper"


def _flip_method(self, *dims_args, dims=None):
    """``x.flip(dims)``: the method takes the dims as a sequence or one by one (``x.flip(0, 1)``, ``x.flip(1)``)."""
    if dims is None:
        if not dims_args:
            raise TypeError('flip() missing 1 required positional arguments: "dims"')
        dims = dims_args[0] if len(dims_args) == 1 else dims_args
    elif dims_args:
        raise TypeError("flip() got multiple values for argument 'dims'")
    return Flip.apply(self, _dims_arg(dims, self.dim()))


def flip(input, dims=None):
    """A copy with the order of elements reversed along ``dims``, a sequence of dims: the function
    form refuses one int (``torch.flip(x, 1)``), as torch's parser does, where the method takes it."""
    if dims is None:
        raise TypeError('flip() missing 1 required positional arguments: "dims"')
    if not isinstance(dims, (tuple, list, torch.Size)):
        raise TypeError(f"flip(): argument 'dims' must be tuple of ints, not {type(dims).__name__}")
    return _flip_method(input, dims)


def fliplr(input):
    """Flip along dim 1 (left/right); needs 2 or more dims."""
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """Flip along dim 0 (up/down); needs 1 or more dims."""
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def _roll_ints(argument: str, value, position: int) -> tuple[int, ...]:
    """roll's ``shifts`` or ``dims`` (an int or a sequence of ints) as a tuple, with torch's TypeError
    for anything else (a float, a bool, a str; numbered as the function's positions)."""
    refusal = f"roll(): argument '{argument}' (position {position}) must be tuple of ints"
    if isinstance(value, (tuple, list)):
        return tuple(
            as_int(item, refusal + f", but found element of type {{}} at pos {index}")
            for index, item in enumerate(value)
        )
    return (as_int(value, refusal + ", not {}"),)


def roll(input, shifts, dims=None):
    """Elements shifted cyclically by ``shifts`` along ``dims`` (the flattened tensor when None or empty)."""
    shifts = _roll_ints("shifts", shifts, 2)
    dims = () if dims is None else _roll_ints("dims", dims, 3)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if not dims and len(shifts) == 1:
        return RollFlattened.apply(input, shifts[0])
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    per_dim = [0] * max(input.dim(), 1)
    for shift, dim in zip(shifts, dims):
        per_dim[normalize_dim(dim, input.dim(), scalar=False)] += int(shift)
    return Roll.apply(input, tuple(per_dim[: input.dim()]))


def _diagonal_arg(op: str, diagonal, position: int = 2) -> int:
    """The ``diagonal`` of tril/triu/diag as an int: torch's TypeError for a float, a bool, None
    (numbered as the function's position; a numpy integer or an integer 0-d tensor will do)."""
    if type(diagonal) is int:
        return diagonal
    return as_int(diagonal, f"{op}(): argument 'diagonal' (position {position}) must be int, not {{}}")


def _triangle(function, input, diagonal: int):
    if input.dim() < 2:
        name = "tril" if function is Tril else "triu"
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return function.apply(input, diagonal)


def tril(input, diagonal: int = 0, *, out=None):
    """The lower triangle of the last two dims (elements with col - row <= diagonal), zeros elsewhere."""
    diagonal = _diagonal_arg("tril", diagonal)
    if out is not None:
        return write_out("tril", out, _triangle(Tril, input.detach(), diagonal), input)
    return _triangle(Tril, input, diagonal)


def triu(input, diagonal: int = 0, *, out=None):
    """The upper triangle of the last two dims (elements with col - row >= diagonal), zeros elsewhere."""
    diagonal = _diagonal_arg("triu", diagonal)
    if out is not None:
        return write_out("triu", out, _triangle(Triu, input.detach(), diagonal), input)
    return _triangle(Triu, input, diagonal)


def _triangle_(function, self, diagonal: int):
    """In place: the triangle is computed out of place (the kernel reads every element it writes
    around) and copied back; recorded as torch records it (TrilBackward0 / TriuBackward0)."""

    def into_self() -> None:
        triangle = _triangle(function, self, diagonal)
        elementwise_kernels.launch_unary("copy", triangle._data, out=self._data)

    return apply_inplace(self, lambda s: _triangle(function, s, diagonal), into_self)


def tril_(self, diagonal: int = 0):
    return _triangle_(Tril, self, _diagonal_arg("tril_", diagonal, 1))


def triu_(self, diagonal: int = 0):
    return _triangle_(Triu, self, _diagonal_arg("triu_", diagonal, 1))


# ---------------------------------------------------------------------------------------------
# repeat, tile, repeat_interleave
# ---------------------------------------------------------------------------------------------


class Repeat(Function):
    """x tiled ``repeats`` times per dim: the copy kernel writes an expanded view of x into the
    output seen as [r0, s0, r1, s1, ...]; backward sums the copies back."""

    @staticmethod
    def forward(ctx, x, repeats):
        ctx.input_shape = tuple(x.shape)
        data = x._data
        for _ in range(len(repeats) - data.dim()):
            data = data.unsqueeze(0)
        sizes = tuple(data.shape)
        ctx.sizes, ctx.repeats = sizes, repeats
        interleaved = tuple(v for r, s in zip(repeats, sizes) for v in (r, s))
        source = data
        for d in range(len(sizes)):
            source = source.unsqueeze(2 * d)
        out = torch.empty(tuple(r * s for r, s in zip(repeats, sizes)), dtype=x.dtype, device=x.device)
        if out.numel():
            elementwise_kernels.launch_unary("copy", source.expand(interleaved), out=out.view(interleaved))
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        interleaved = tuple(v for r, s in zip(ctx.repeats, ctx.sizes) for v in (r, s))
        grad = grad.reshape(interleaved).sum(dim=tuple(range(0, len(interleaved), 2)))
        return grad.reshape(ctx.input_shape), None


def repeat(input, *sizes, repeats=None):
    """The tensor repeated ``sizes[d]`` times along each dim (leading new dims when there are more
    sizes than dims)."""
    if not sizes and repeats is None:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    sizes = tuple(int(s) for s in shape_arg(sizes, repeats))
    if len(sizes) < input.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    if any(s < 0 for s in sizes):
        padded = (1,) * (len(sizes) - input.dim()) + tuple(input.shape)
        shape = [size * times for size, times in zip(padded, sizes)]
        negative = next(size for size in shape if size < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative}: {shape}")
    return Repeat.apply(input, sizes)


def tile(input, *given, dims=None):
    """repeat() with ``dims`` padded by leading ones to the input's rank (``x.tile(2, 2)`` or
    ``torch.tile(x, (2, 2))``)."""
    if len(given) == 1 and not isinstance(given[0], (tuple, list, torch.Size)):
        given = (given[0],)  # (one int)
    dims = shape_arg(given, dims)
    return repeat(input, *((1,) * (input.dim() - len(dims)) + dims))


def _repeat_counts(repeats: Tensor, output_size) -> list[int]:
    """The counts of a repeats tensor, checked as torch's repeat_interleave(repeats) checks them: int32 or
    int64, none negative, summing to ``output_size`` when that is given."""
    if repeats.dtype not in (torch.int32, torch.int64):
        raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{dtype_word(repeats.dtype)}'")
    counts = [int(c) for c in repeats.reshape(-1).tolist()]
    if any(c < 0 for c in counts):
        raise RuntimeError("repeats can not be negative")
    if output_size is not None and output_size != sum(counts):
        if output_size < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {output_size}: [{output_size}]")
        raise RuntimeError("allocated size does not match required size")
    return counts


def _refuse_repeat_arguments(repeats, output_size) -> None:
    """torch's parser takes an int (not a bool or float) or a tensor for repeats, an int for output_size."""

    def is_int(value) -> bool:
        return not isinstance(value, bool) and hasattr(value, "__index__") and not isinstance(value, Tensor)

    if (repeats is None or isinstance(repeats, Tensor) or is_int(repeats)) and (
        output_size is None or is_int(output_size)
    ):
        return
    got = ", ".join([type(repeats).__name__] + ([f"output_size={type(output_size).__name__}"] if output_size else []))
    raise TypeError(f"repeat_interleave() received an invalid combination of arguments - got ({got}), but expected "
                    "one of: (Tensor repeats, int dim = None, *, int output_size = None), "
                    "(int repeats, int dim = None, *, int output_size = None)")  # fmt: skip


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element repeated ``repeats`` times (an int, or a tensor with one count per element
    along ``dim``), consecutively; the flattened tensor when dim is None. ``output_size``, when
    given, must be the result's length along dim (torch's errors otherwise).
    ``repeat_interleave(counts)`` alone gives the indices repeated by counts (of counts' dtype)."""
    _refuse_repeat_arguments(repeats, output_size)
    output_size = None if output_size is None else operator.index(output_size)
    if repeats is None:
        if input.dim() != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        counts = _repeat_counts(input, output_size)
        positions = [i for i, c in enumerate(counts) for _ in range(c)]
        return creation.tensor(positions, dtype=input.dtype, device=input.device)
    if dim is None:
        input, dim = input.flatten(), 0
    elif input.dim() == 0 and isinstance(repeats, Tensor):
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    elif input.dim() == 0:  # (torch unsqueezes a 0-d input after dim: dim 0 is then out of range)
        raise IndexError(
            f"Dimension out of range (expected to be in range of [-1, 0], but got {normalize_dim(dim, 1) + 1})"
        )
    dim = normalize_dim(dim, input.dim())
    length = input.shape[dim]
    if isinstance(repeats, Tensor):
        if repeats.dim() > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats.numel() == 1 and length != 1:
            repeats = repeats.reshape(1).expand(length)
        if repeats.numel() != length:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{repeats.numel()} and input.size({dim}) = {length}")  # fmt: skip
        counts = _repeat_counts(repeats, output_size)
    else:
        repeats = operator.index(repeats)
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        if output_size is not None and output_size != repeats * length:
            raise RuntimeError(
                f"repeat_interleave: Invalid output_size, expected {repeats * length} but got {output_size}"
            )
        counts = [repeats] * length
    positions = [i for i, c in enumerate(counts) for _ in range(c)]
    index = creation.tensor(positions, dtype=torch.int64, device=input.device)
    shape = list(input.shape)
    shape[dim] = len(positions)
    index = index.view([len(positions) if d == dim else 1 for d in range(input.dim())]).expand(shape)
    return Gather.apply(input, index, dim)


# ---------------------------------------------------------------------------------------------
# Diagonals
# ---------------------------------------------------------------------------------------------


class Diagonal(Function):
    """The diagonal view (offset, dim1, dim2) of x; backward writes the gradient into zeros."""

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.input_shape, ctx.geometry = tuple(x.shape), (offset, dim1, dim2)
        return _view_of(x, x._data.diagonal(offset, dim1, dim2))

    @staticmethod
    def backward(ctx, grad):
        return DiagonalScatter.apply(grad, ctx.input_shape, *ctx.geometry), None, None, None


class DiagonalScatter(Function):
    """Zeros of ``shape`` with ``values`` on its diagonal (offset, dim1, dim2)."""

    @staticmethod
    def forward(ctx, values, shape, offset, dim1, dim2):
        ctx.geometry = (offset, dim1, dim2)
        out = torch.empty(shape, dtype=values.dtype, device=values.device)
        launch_fill_(out, 0)
        target = out.diagonal(offset, dim1, dim2)
        if target.numel():
            elementwise_kernels.launch_unary("copy", values._data, out=target)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        return Diagonal.apply(grad, *ctx.geometry), None, None, None, None


class DiagEmbed(DiagonalScatter):
    pass


class DiagonalCopy(Function):
    """diag of a matrix: its ``offset`` diagonal, copied. One node, as torch's (DiagonalBackward0_copy,
    not a diagonal view and a clone)."""

    _backward_name = "DiagonalBackward0_copy"

    @staticmethod
    def forward(ctx, x, offset):
        ctx.input_shape, ctx.offset = tuple(x.shape), offset
        return views.contiguous_copy(Tensor._wrap(x._data.diagonal(offset)))

    @staticmethod
    def backward(ctx, grad):
        return DiagonalScatter.apply(grad, ctx.input_shape, ctx.offset, 0, 1), None


class Trace(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.shape = tuple(x.shape)
        out_dtype = x.dtype if x.dtype.is_floating_point or x.dtype.is_complex else torch.int64
        return Tensor._wrap(launch_sum(x._data.diagonal(), (), False, out_dtype=out_dtype))

    @staticmethod
    def backward(ctx, grad):
        diagonal_shape = (min(ctx.shape),)
        return DiagonalScatter.apply(grad.expand(diagonal_shape), ctx.shape, 0, 0, 1)


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """The diagonal of the (dim1, dim2) planes as a view, moved to the last dim."""
    given = (dim1, dim2)  # (torch's message echoes the dims as given)
    dim1, dim2 = normalize_dim(dim1, input.dim()), normalize_dim(dim2, input.dim())
    if dim1 == dim2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {given[0]}, {given[1]}")
    return Diagonal.apply(input, int(offset), dim1, dim2)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """Matrices (in dims dim1, dim2 of the result) whose ``offset`` diagonal is input's last dim."""
    ndim = input.dim() + 1
    given = (dim1, dim2)  # (torch's message echoes the dims as given)
    dim1, dim2 = normalize_dim(dim1, ndim), normalize_dim(dim2, ndim)
    if dim1 == dim2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {given[0]}, {given[1]}")
    size = (input.shape[-1] if input.dim() else 1) + abs(offset)
    rest = list(input.shape[:-1])
    shape = []
    for d in range(ndim):
        shape.append(size if d in (dim1, dim2) else rest.pop(0))
    return DiagEmbed.apply(input if input.dim() else input.reshape(1), tuple(shape), int(offset), dim1, dim2)


def diag(input, diagonal: int = 0, *, out=None):  # noqa: F811 (torch's argument name)
    """1-D input: a square matrix with input on its ``diagonal``; 2-D input: that diagonal (a copy).
    ``out=``: of input's dtype (torch takes inputs that require grad here: the write is not recorded)."""
    diagonal = _diagonal_arg("diag", diagonal)
    if out is not None:
        if isinstance(out, Tensor) and out.dtype != input.dtype and category(input.dtype) > category(out.dtype):
            raise RuntimeError(
                f"diag: result type {dtype_word(input.dtype)} can't be cast to the desired out= type "
                f"{dtype_word(out.dtype)}"
            )
        return write_out("diag", out, diag(input, diagonal).detach(), input, differentiable=False)
    if input.dim() == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.dim() == 2:
        return DiagonalCopy.apply(input, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")


@autocast_op("trace")
def trace(input):
    """The sum of the main diagonal of a 2-D tensor (integers sum in int64)."""
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    if input.dtype == torch.bool:  # (torch's CPU kernel has no bool case)
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return Trace.apply(input)


# ---------------------------------------------------------------------------------------------
# einsum
# ---------------------------------------------------------------------------------------------
# torch's algorithm (aten/src/ATen/native/Linear.cpp), step for step, so that its broadcasting, its
# checks and messages, and the dtypes of its products (a product without a contraction is a
# promoting `mul`, one with a contraction is a `bmm`, which refuses mixed dtypes) are torch's.
# Every operand is aligned to one layout: the output's dims, then the contracted ones; a label the
# operand lacks is a size-1 dim there, and a size-1 dim broadcasts against any size.

_ELLIPSIS = "..."


def _is_subscript(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _einsum_input_labels(lhs: str, count: int) -> list[list[str]]:
    """The subscripts of each operand (``_ELLIPSIS`` for '...'), spaces ignored, with torch's
    parse errors in its order (an index in a message is the position in the equation)."""
    labels: list[list[str]] = [[]]
    ellipsis_seen = False
    i = 0
    while i < len(lhs):
        char = lhs[i]
        if char == ".":
            operand = len(labels) - 1
            if ellipsis_seen:
                raise RuntimeError(f"einsum(): found '.' for operand {operand} for which an ellipsis was already found")
            if not lhs.startswith("...", i):
                raise RuntimeError(f"einsum(): found '.' for operand {operand} that is not part of any ellipsis")
            labels[-1].append(_ELLIPSIS)
            ellipsis_seen = True
            i += 2
        elif char == ",":
            labels.append([])
            if len(labels) > count:
                raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
            ellipsis_seen = False
        elif char != " ":
            if not _is_subscript(char):
                raise RuntimeError(
                    f"einsum(): invalid subscript given at index {i} in the equation string, subscripts must be in "
                    "[a-zA-Z]"
                )
            labels[-1].append(char)
        i += 1
    if len(labels) != count:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    return labels


def _einsum_layout(equation: str, operands) -> tuple[list[list[str]], dict[str, int], int, int, int, int]:
    """(labels per operand, each label's dim in the aligned layout, the output's dim count, the
    layout's dim count, the first dim of the ellipsis, the dims the ellipsis covers)."""
    lhs, arrow, rhs = equation.partition("->")
    labels = _einsum_input_labels(lhs, len(operands))
    counts: dict[str, int] = {}
    ellipsis_dims = 0  # the most dims any operand's ellipsis covers
    for i, (term, operand) in enumerate(zip(labels, operands)):
        has_ellipsis = _ELLIPSIS in term
        subscripts = len(term) - has_ellipsis
        for label in term:
            if label != _ELLIPSIS:
                counts[label] = counts.get(label, 0) + 1
        if has_ellipsis:
            ellipsis_dims = max(ellipsis_dims, operand.dim() - subscripts)
        if subscripts > operand.dim() if has_ellipsis else subscripts != operand.dim():
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({subscripts}) "
                + ("is more than" if has_ellipsis else "does not match")
                + f" the number of dimensions ({operand.dim()}) for operand {i}"
                + ("" if has_ellipsis else " and no ellipsis was given")
            )
    position: dict[str, int] = {}
    ellipsis_index, ellipsis_in_output, dims = 0, False, 0
    if not arrow:  # the implicit output: the ellipsis, then the labels seen once (A-Z before a-z)
        dims, ellipsis_in_output = ellipsis_dims, True
        for label in sorted(counts):
            if counts[label] == 1:
                position[label], dims = dims, dims + 1
    else:
        i = 0
        while i < len(rhs):
            char = rhs[i]
            if char == ".":
                if ellipsis_in_output:
                    raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was already found")
                if not rhs.startswith("...", i):
                    raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis (...)")
                ellipsis_index, ellipsis_in_output, dims = dims, True, dims + ellipsis_dims
                i += 2
            elif char != " ":
                if not _is_subscript(char):
                    raise RuntimeError(
                        f"einsum(): invalid subscript given at index {len(lhs) + 2 + i} in the equation string, "
                        "subscripts must be in [a-zA-Z]"
                    )
                if char in position or char not in counts:
                    raise RuntimeError(
                        f"einsum(): output subscript {char}"
                        + (
                            " appears more than once in the output"
                            if char in position
                            else " does not appear in the equation for any input operand"
                        )
                    )
                position[char], dims = dims, dims + 1
            i += 1
    output_dims = dims
    if not ellipsis_in_output:  # (summed over, after the output's dims)
        ellipsis_index, dims = dims, dims + ellipsis_dims
    for label in sorted(counts):  # the contracted labels
        if label not in position:
            position[label], dims = dims, dims + 1
    return labels, position, output_dims, dims, ellipsis_index, ellipsis_dims


def _einsum_align(operands, labels, position, dims: int, ellipsis_index: int, ellipsis_dims: int):
    """Each operand as a view in the aligned layout: sizes checked (equal or 1 across operands,
    equal within one), a repeated label's diagonal taken, missing labels as size-1 dims. Also how
    many operands have each dim with a size other than 1 (when one is left, it can be summed)."""
    label_sizes: dict[str, int] = {}
    ellipsis_sizes = [1] * ellipsis_dims
    counts = [0] * dims
    aligned = []
    for i, (operand, term) in enumerate(zip(operands, labels)):
        x = operand
        permutation = [-1] * dims
        dim = 0
        for label in term:
            if label == _ELLIPSIS:
                covered = operand.dim() - (len(term) - 1)
                for j in range(ellipsis_dims - covered, ellipsis_dims):
                    size = x.shape[dim]
                    if size != 1:
                        if ellipsis_sizes[j] not in (1, size):
                            raise RuntimeError(  # (torch's message lacks the space before "has")
                                f"einsum(): dimension {dim} covered by ellipsis in operand {i}has size {size} which "
                                f"does not broadcast with previously seen ellipsis with size {ellipsis_sizes[j]} for "
                                "the respective dimension"
                            )
                        ellipsis_sizes[j] = size
                        counts[ellipsis_index + j] += 1
                    permutation[ellipsis_index + j] = dim
                    dim += 1
            elif permutation[position[label]] == -1:
                size = x.shape[dim]
                if size != 1:
                    seen = label_sizes.get(label, 1)
                    if seen not in (1, size):
                        raise RuntimeError(
                            f"einsum(): subscript {label} has size {size} for operand {i} which does not broadcast "
                            f"with previously seen size {seen}"
                        )
                    label_sizes[label] = size
                    counts[position[label]] += 1
                permutation[position[label]] = dim
                dim += 1
            else:  # a repeated label: its diagonal, where its first occurrence was
                first = permutation[position[label]]
                if x.shape[dim] != x.shape[first]:
                    raise RuntimeError(
                        f"einsum(): subscript {label} is repeated for operand {i} but the sizes don't match, "
                        f"{x.shape[dim]} != {x.shape[first]}"
                    )
                x = diagonal(x, 0, first, dim).movedim(-1, first)
        for k in range(dims):
            if permutation[k] == -1:
                x = x.unsqueeze(dim)
                permutation[k] = dim
                dim += 1
        aligned.append(x.permute(tuple(permutation)))
    return aligned, counts


def _einsum_bmm(left, right):
    """torch.bmm's dtype rules as einsum meets them: an empty product is zeros of the second
    operand's dtype; otherwise a bool first operand, or two dtypes, are refused."""
    if left.numel() == 0 or right.numel() == 0:
        left = left.to(right.dtype)
    elif left.dtype == torch.bool:
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    elif left.dtype != right.dtype:
        raise RuntimeError(f"expected scalar type {dtype_word(left.dtype)} but found {dtype_word(right.dtype)}")
    return left.matmul(right)


def _sum_product(left, right, summed: list[int]):
    """(left * right) summed over the dims ``summed`` (kept as size 1), two aligned operands: a
    broadcast product without them, else one batched matmul (torch's sumproduct_pair)."""
    if not summed:
        return left * right
    both, left_only, right_only = [], [], []
    both_size = left_size = right_size = summed_size = 1
    for i in range(left.dim()):
        in_left, in_right = left.shape[i] != 1, right.shape[i] != 1
        if i in summed:
            if in_left and in_right:
                summed_size *= left.shape[i]
            elif in_left:
                left = left.sum(dim=i, keepdim=True)
            elif in_right:
                right = right.sum(dim=i, keepdim=True)
        elif in_left and in_right:
            both.append(i)
            both_size *= left.shape[i]
        elif in_left:
            left_only.append(i)
            left_size *= left.shape[i]
        else:
            right_only.append(i)
            right_size *= right.shape[i]
    out_shape = [left.shape[d] for d in both + left_only] + [1] * len(summed) + [right.shape[d] for d in right_only]
    left = left.permute(*both, *left_only, *summed, *right_only).reshape(both_size, left_size, summed_size)
    right = right.permute(*both, *summed, *right_only, *left_only).reshape(both_size, summed_size, right_size)
    order = both + left_only + summed + right_only
    inverse = [order.index(d) for d in range(len(order))]
    return _einsum_bmm(left, right).view(out_shape).permute(*inverse)


def _sublist_equation(arguments: tuple) -> tuple[str, tuple]:
    """torch's sublist form, ``einsum(a, [0, 1], b, [1, 2], [0, 2])``, as an equation and operands:
    label k is the k-th of A-Z then a-z (torch's order), ``...`` is Ellipsis."""

    def term(sublist) -> str:
        letters = []
        for label in sublist:
            if label is Ellipsis:
                letters.append("...")
            elif 0 <= label < 52:
                letters.append(chr(ord("A") + label) if label < 26 else chr(ord("a") + label - 26))
            else:
                raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
        return "".join(letters)

    operands, terms = arguments[0::2], arguments[1::2]
    output = None
    if len(operands) > len(terms):  # an odd count: the last argument is the output's sublist
        operands, output = operands[:-1], operands[-1]
    equation = ",".join(term(sublist) for sublist in terms)
    return (equation if output is None else f"{equation}->{term(output)}"), tuple(operands)


@autocast_op("einsum")
def einsum(*arguments):
    """Einstein summation as torch computes it: operands aligned to one layout (diagonal views,
    unsqueezes, permutes), then multiplied left to right, each pair by a broadcast product or one
    batched matmul over the dims no later operand needs. Supports '...', implicit output, repeated
    labels, size-1 broadcasting and torch's sublist form (``einsum(a, [0, 1], b, [1, 2])``)."""
    if len(arguments) < 2:
        raise ValueError(
            "einsum(): must specify the equation string and at least one operand, or at least one operand and its "
            "subscripts list"
        )
    equation, *operands = arguments
    if not isinstance(equation, str):
        equation, operands = _sublist_equation(arguments)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        return einsum(equation, *operands[0])
    labels, position, output_dims, dims, ellipsis_index, ellipsis_dims = _einsum_layout(equation, operands)
    aligned, counts = _einsum_align(operands, labels, position, dims, ellipsis_index, ellipsis_dims)
    while len(aligned) > 1:
        a, b = aligned.pop(0), aligned.pop(0)
        summed, a_alone, b_alone = [], [], []
        for dim in range(output_dims, dims):
            if a.shape[dim] != 1 and b.shape[dim] != 1:
                counts[dim] -= 1
                if counts[dim] == 1:  # (no later operand has it)
                    summed.append(dim)
                    counts[dim] = 0
            elif counts[dim] == 1:  # only one of the two has it: summed there first
                if a.shape[dim] != 1:
                    a_alone.append(dim)
                    counts[dim] = 0
                elif b.shape[dim] != 1:
                    b_alone.append(dim)
                    counts[dim] = 0
        if a_alone:
            a = a.sum(dim=tuple(a_alone), keepdim=True)
        if b_alone:
            b = b.sum(dim=tuple(b_alone), keepdim=True)
        aligned.insert(0, _sum_product(a, b, summed))
    result = aligned[0]
    if dims > output_dims:
        if len(operands) > 1:  # (the contracted dims are size 1 by now)
            return result.view(list(result.shape[:output_dims]))
        return result.sum(dim=tuple(range(output_dims, dims)))
    return result


# ---------------------------------------------------------------------------------------------
# Views and view helpers
# ---------------------------------------------------------------------------------------------


def movedim(input, source, destination):
    """A view with dims ``source`` moved to positions ``destination`` (the others keep their order)."""
    source = dims_arg(source)
    destination = dims_arg(destination)
    if len(source) != len(destination):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(source)} dims) should contain the same "
            f"number of dims as destination ({list(destination)} dims)"
        )
    ndim = input.dim()
    given = {"source": source, "destination": destination}  # (torch's messages echo the dims as given)
    source = tuple(normalize_dim(d, ndim) for d in source)
    destination = tuple(normalize_dim(d, ndim) for d in destination)
    for name, dims in (("source", source), ("destination", destination)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(given[name])})")
    if ndim == 0:
        return input.view(())
    order = [-1] * ndim
    for s, d in zip(source, destination):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in source)
    order = [d if d != -1 else next(rest) for d in order]
    return input.permute(*order)


moveaxis = movedim


def swapaxes(input, axis0: int, axis1: int):
    return input.transpose(axis0, axis1)


swapdims = swapaxes


def unflatten(input, dim: int, sizes):
    """A view with ``dim`` split into ``sizes`` (one of them may be -1)."""
    return input.unflatten(dim, tuple(sizes))


def narrow(input, dim: int, start, length: int):
    """The view input[..., start:start + length, ...] along ``dim``; torch's errors past the end."""
    return views.narrow(input, dim, start, length)


def broadcast_to(input, size):
    """input expanded (a view) to ``size``."""
    return input.expand(tuple(shape_arg((size,) if isinstance(size, int) else size)))


def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to (torch.Size)."""
    return torch.Size(_broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))


def broadcast_tensors(*tensors):
    """The tensors expanded (views) to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = _broadcast_shapes(*[tuple(t.shape) for t in tensors])
    return tuple(t.expand(shape) for t in tensors)


def meshgrid(*tensors, indexing: str | None = None):
    """Coordinate grids (expanded views) from 1-D tensors; indexing 'ij' (matrix, default) or 'xy'
    (Cartesian: the first two dims swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.dim()}D")
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    if len({t.device for t in tensors}) > 1:
        raise RuntimeError("meshgrid expects all tensors to have the same device")
    tensors = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(tensors) >= 2
    order = list(range(len(tensors)))
    if swap:
        order[0], order[1] = 1, 0
    shape = [tensors[i].shape[0] for i in order]
    grids = []
    for i, t in enumerate(tensors):
        position = order.index(i)
        view = [1] * len(tensors)
        view[position] = t.shape[0]
        grids.append(t.view(view).expand(shape))
    return tuple(grids)


def cartesian_prod(*tensors):
    """Rows of every combination of the 1-D tensors' elements (itertools.product order)."""
    for t in tensors:
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return indexing.cat([g.reshape(-1, 1) for g in grids], 1, stacking=True)


def _atleast(rank: int, tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_atleast(rank, (t,)) for t in tensors[0])
    if len(tensors) > 1:
        return tuple(_atleast(rank, (t,)) for t in tensors)
    (x,) = tensors
    if x.dim() >= rank:
        return x
    if x.dim() == 0:
        return x.reshape((1,) * rank)
    if rank == 2 or x.dim() == 2:  # [n] -> [1, n]; [m, n] -> [m, n, 1]
        x = x.unsqueeze(0) if x.dim() == 1 else x
        return x if rank == 2 else x.unsqueeze(-1)
    return x.unsqueeze(0).unsqueeze(-1)  # rank 3 from [n]: [1, n, 1]


def atleast_1d(*tensors):
    """Each tensor viewed with at least 1 dim."""
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    """Each tensor viewed with at least 2 dims ([n] -> [1, n])."""
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    """Each tensor viewed with at least 3 dims ([n] -> [1, n, 1], [m, n] -> [m, n, 1])."""
    return _atleast(3, tensors)


def _stack_along(name: str, tensors, rank: int, dim, out):
    """cat of the tensors viewed with at least ``rank`` dims, along ``dim`` (a function of the first)."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not {type(tensors).__name__}"
        )
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    pieces = [_atleast(rank, (t,)) for t in tensors]
    return indexing.cat(pieces, dim(pieces[0]), out=out)


def hstack(tensors, *, out=None):
    """Tensors concatenated column-wise: along dim 1, or dim 0 for 1-D (0-d ones count as 1-D)."""
    return _stack_along("hstack", tensors, 1, lambda first: 0 if first.dim() == 1 else 1, out)


def vstack(tensors, *, out=None):
    """Tensors concatenated row-wise (dim 0) after atleast_2d ([n] -> [1, n])."""
    return _stack_along("vstack", tensors, 2, lambda first: 0, out)


def row_stack(tensors, *, out=None):
    """vstack's other name."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"row_stack(): argument 'tensors' (position 1) must be tuple of Tensors, not {type(tensors).__name__}"
        )
    return vstack(tensors, out=out)


def dstack(tensors, *, out=None):
    """Tensors concatenated depth-wise (dim 2) after atleast_3d."""
    return _stack_along("dstack", tensors, 3, lambda first: 2, out)


def column_stack(tensors, *, out=None):
    """Columns side by side: 0-d and 1-D tensors become (n, 1) columns, then cat along dim 1."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"column_stack(): argument 'tensors' (position 1) must be tuple of Tensors, not {type(tensors).__name__}"
        )
    if not tensors:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    columns = [t.reshape(t.numel(), 1) if t.dim() <= 1 else t for t in tensors]
    return indexing.cat(columns, 1, out=out)


def split(tensor, split_size_or_sections=None, dim: int = 0, *, split_size=None):
    """Views of consecutive pieces of ``split_size_or_sections`` (an int or a list of sizes) along dim
    (``split_size=``: the method's name for it)."""
    if split_size is not None:
        split_size_or_sections = split_size
    sizes, dim, with_sizes = _split_sizes(tensor, split_size_or_sections, dim)
    if sizes is None:  # (a split_size of 0: one empty piece)
        return (tensor.narrow(dim, 0, 0),)
    if with_sizes:
        return _multiple_views(SplitWithSizes.apply(tensor, sizes, dim, False), "SplitWithSizes")
    return _multiple_views(Split.apply(tensor, sizes, dim, False), "Split")


def unsafe_split(tensor, split_size, dim: int = 0):
    """split's pieces as tensors sharing ``tensor``'s memory that autograd does not treat as views (torch's
    unsafe_ forms: a piece may be written in place, which its base's history does not see)."""
    if not isinstance(split_size, int) and not hasattr(split_size, "__index__"):
        raise TypeError(
            f"unsafe_split(): argument 'split_size' (position 2) must be int, not {type(split_size).__name__}"
        )
    return _unsafe_pieces(tensor, split_size, dim, UnsafeSplit)


def unsafe_split_with_sizes(tensor, split_sizes, dim: int = 0):
    """unsafe_split with a list of sizes (UnsafeSplitWithSizesBackward0)."""
    return _unsafe_pieces(tensor, list(split_sizes), dim, UnsafeSplitWithSizes)


def unsafe_chunk(input, chunks: int, dim: int = 0):
    """chunk's pieces as unsafe_split gives them."""
    pieces = chunk(input, chunks, dim)
    if len(pieces) == 0 or input.dim() == 0:
        return pieces
    dim = normalize_dim(dim, input.dim())
    return UnsafeSplit.apply(input, tuple(piece.shape[dim] for piece in pieces), dim, False)


def _unsafe_pieces(tensor, sizes, dim: int, function: type) -> tuple:
    sizes, dim, _ = _split_sizes(tensor, sizes, dim)
    if sizes is None:
        return (tensor.narrow(dim, 0, 0),)
    return function.apply(tensor, sizes, dim, False)


def _split_sizes(tensor, split_size_or_sections, dim: int):
    """split's checks, in torch's words; (the sizes of the pieces, the dim, whether sizes were given), the
    sizes None for a split_size of 0 (one empty piece, no node)."""
    if tensor.dim() == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    if not isinstance(split_size_or_sections, int) and hasattr(split_size_or_sections, "__index__"):
        split_size_or_sections = as_dim(split_size_or_sections)  # (a numpy or 0-dim tensor integer)
    if not isinstance(split_size_or_sections, (int, list, tuple, torch.Size)) or isinstance(
        split_size_or_sections, bool
    ):
        raise TypeError(
            "split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, not "
            f"{type(split_size_or_sections).__name__}"
        )
    if not isinstance(split_size_or_sections, int):
        split_size_or_sections = shape_arg((split_size_or_sections,))
    length = tensor.shape[normalize_dim(dim, tensor.dim())]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={split_size_or_sections}")
        if split_size_or_sections == 0:
            if length != 0:
                raise RuntimeError(
                    f"split_size can only be 0 if dimension size is 0, but got dimension size of {length}"
                )
            return None, normalize_dim(dim, tensor.dim()), False
    elif any(size < 0 for size in split_size_or_sections):
        raise RuntimeError(
            "split_with_sizes expects split_sizes have only non-negative entries, but got "
            f"split_sizes={list(split_size_or_sections)}"
        )
    elif sum(split_size_or_sections) != length:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {length} (input tensor's size at dimension "
            f"{normalize_dim(dim, tensor.dim())}), but got split_sizes={list(split_size_or_sections)}"
        )
    dim = normalize_dim(dim, tensor.dim())
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        return tuple(min(size, length - start) for start in range(0, length, size)) or (0,), dim, False
    return tuple(split_size_or_sections), dim, True


class Split(Function):
    """The pieces of ``split``/``chunk`` along ``dim`` as one node (SplitBackward0), each a view of x,
    as torch's. The backward concatenates the pieces' gradients (zeros for a piece that got none)
    in one kernel, where a node per piece would scatter each into zeros of x's shape. ``squeeze``:
    each piece is one slice without ``dim`` (unbind)."""

    @staticmethod
    def forward(ctx, x, sizes: tuple, dim: int, squeeze: bool):
        ctx.set_materialize_grads(False)
        ctx.sizes, ctx.dim, ctx.squeeze = sizes, dim, squeeze
        ctx.input_shape, ctx.dtype, ctx.device = tuple(x.shape), x.dtype, x.device
        pieces, start = [], 0
        for size in sizes:
            pieces.append(_view_of(x, x._data.select(dim, start) if squeeze else x._data.narrow(dim, start, size)))
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        pieces = []
        for size, grad in zip(ctx.sizes, grads):
            if grad is None:
                shape = list(ctx.input_shape)
                shape[ctx.dim] = size
                grad = creation.zeros(shape, dtype=ctx.dtype, device=ctx.device)
            elif ctx.squeeze:
                grad = grad.unsqueeze(ctx.dim)
            pieces.append(grad)
        return indexing.cat(pieces, ctx.dim), None, None, None


class SplitWithSizes(Split):
    """``split`` with a list of sizes: torch names that node SplitWithSizesBackward0."""

    _backward_name = "SplitWithSizesBackward0"


class UnsafeSplit(Split):
    """unsafe_split/unsafe_chunk: Split's pieces without the view marks (UnsafeSplitBackward0); they share
    x's memory, and autograd sees a write into one as an op on that piece alone, as torch's."""

    @staticmethod
    def forward(ctx, x, sizes: tuple, dim: int, squeeze: bool):
        return tuple(Tensor._wrap(piece._data) for piece in Split.forward(ctx, x, sizes, dim, squeeze))


class UnsafeSplitWithSizes(UnsafeSplit):
    _backward_name = "UnsafeSplitWithSizesBackward0"


class Unbind(Split):
    """``unbind``: every slice along ``dim``, as one node (UnbindBackward0)."""

    _backward_name = "UnbindBackward0"


def tensor_split(input, indices_or_sections=None, dim: int = 0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None) -> tuple:  # fmt: skip
    """Views of ``input`` split along ``dim``: into ``n`` pieces as equal as possible (the first
    ``size % n`` one longer) for an int (or a 0-d int64 tensor), or at the given indices (a list, or a
    1-D int64 tensor, read back to the host: the pieces' shapes depend on it), sliced as Python slices
    (negative indices count from the end, out-of-range ones clamp, a decreasing pair gives an empty piece)."""
    for given in (sections, indices, tensor_indices_or_sections):  # (torch's three overloads' names)
        if given is not None:
            indices_or_sections = given
    if input.dim() == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    dim = normalize_dim(dim, input.dim())
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.dtype != torch.int64:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                f"{dtype_word(indices_or_sections.dtype)}"
            )
        if indices_or_sections.dim() > 1:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or one-dimensional "
                f"tensor, but got a tensor with {indices_or_sections.dim()} dims"
            )
        indices_or_sections = indices_or_sections.tolist()
    length = input.shape[dim]
    if isinstance(indices_or_sections, int) and not isinstance(indices_or_sections, bool):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        size, longer = divmod(length, sections)
        bounds, start = [], 0
        for piece in range(sections):
            bounds.append((start, start + size + (piece < longer)))
            start = bounds[-1][1]
    elif isinstance(indices_or_sections, (list, tuple)) and all(
        isinstance(i, int) and not isinstance(i, bool) for i in indices_or_sections
    ):
        cuts = [0, *indices_or_sections, length]
        bounds = [(cuts[i], cuts[i + 1]) for i in range(len(cuts) - 1)]
    else:
        raise TypeError(
            f"tensor_split() received an invalid combination of arguments - got (Tensor, "
            f"{type(indices_or_sections).__name__}), but expected one of: (Tensor input, tuple of ints indices, "
            "int dim = 0), (Tensor input, Tensor tensor_indices_or_sections, int dim = 0), (Tensor input, "
            "int sections, int dim = 0)"
        )
    before = (slice(None),) * dim
    # (views.Slice, not input[key]: torch's pieces are slices, SliceBackward0, even when one is all of input)
    return tuple(views.Slice.apply(input, before + (slice(start, stop),)) for start, stop in bounds)


def unbind(input, dim: int = 0) -> tuple:
    """The slices of ``input`` along ``dim``, each without that dim (views)."""
    dim = normalize_dim(dim, input.dim(), scalar=False)
    return _multiple_views(Unbind.apply(input, (1,) * input.shape[dim], dim, True), "Unbind")


def chunk(input, chunks: int, dim: int = 0):
    """``chunks`` (or fewer) views of equal size (the last may be smaller) along dim."""
    if input.dim() == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    dim = normalize_dim(dim, input.dim())
    if input.shape[dim] == 0:  # torch gives ``chunks`` empty pieces then
        return _multiple_views(tuple(input.narrow(dim, 0, 0) for _ in range(chunks)), "Split")
    return split(input, -(-input.shape[dim] // chunks), dim)


class Unfold(Function):
    """``x.unfold(dim, size, step)``: a view whose last dim walks each window of ``size`` elements,
    windows ``step`` apart along ``dim``; the backward adds each window position's gradient back
    (windows overlap when step < size)."""

    @staticmethod
    def forward(ctx, x, dim, size, step):
        ctx.input_shape, ctx.dim, ctx.size, ctx.step = tuple(x.shape), dim, size, step
        data = x._data
        sizes, strides = list(data.shape), list(data.stride())
        if data.dim():
            sizes[dim] = (sizes[dim] - size) // step + 1
            sizes.append(size)
            strides.append(strides[dim])
            strides[dim] *= step
        else:
            sizes, strides = [size], [1]
        return _view_of(x, data.as_strided(sizes, strides, data.storage_offset()))

    @staticmethod
    def backward(ctx, grad):
        grad_input = creation.zeros(ctx.input_shape, dtype=grad.dtype, device=grad.device)
        if not ctx.input_shape:
            return (grad.sum() if ctx.size else grad_input), None, None, None
        windows = grad.shape[ctx.dim]
        span = (windows - 1) * ctx.step + 1
        key = (slice(None),) * ctx.dim + (slice(None, None, ctx.step),)
        for position in range(ctx.size):
            grad_input.narrow(ctx.dim, position, span)[key].add_(grad.select(-1, position))
        return grad_input, None, None, None


def unfold(input, dimension: int, size: int, step: int):
    """The view of every window of ``size`` elements along ``dimension``, ``step`` apart, as a new last dim."""
    dim = normalize_dim(dimension, input.dim())
    max_size = input.shape[dim] if input.dim() else 1
    if size > max_size:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {max_size} but size is {size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return Unfold.apply(input, dim, size, step)


attach_methods({name: globals()[name] for name in TENSOR_METHODS} | {"flip": _flip_method})
