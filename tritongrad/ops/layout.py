"""Shape and layout ops composed of views, gathers and copies (each a kernel): ravel, the
h/v/d splits, rot90, split_with_sizes, narrow_copy, diagflat, block_diag, kron, tensordot,
tril/triu_indices, combinations; torch's names, arguments and errors.

Nothing here launches a kernel of its own: each op is a composition of tritongrad ops (views,
flip, cat, mul, mm, masked_select, ...), so its gradient is the one autograd builds from theirs.
Views stay views where torch's are (select, the splits, ravel of a contiguous tensor).
"""

from __future__ import annotations

import math

import torch

from tritongrad import creation
from tritongrad.dtypes import as_dtype, dtype_word, result_type
from tritongrad.ops import indexing, shape, views
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.out_argument import out_variant, write_out
from tritongrad.shapes import as_int, normalize_dim
from tritongrad.tensor import Tensor, attach_methods

__all__ = [
    "select", "ravel", "hsplit", "vsplit", "dsplit", "rot90", "split_with_sizes", "narrow_copy", "diagflat",
    "block_diag", "kron", "tensordot", "tril_indices", "triu_indices", "combinations",
]  # fmt: skip

# Functions that are also Tensor methods.
TENSOR_METHODS: tuple[str, ...] = (
    "ravel", "hsplit", "vsplit", "dsplit", "rot90", "split_with_sizes", "narrow_copy", "diagflat", "kron",
)  # fmt: skip


def _int_arg(op: str, name: str, position: int, value) -> int:
    """An int argument as torch's parser takes it (ints, numpy and one-element integer tensors; not
    bools or floats): torch's TypeError otherwise."""
    return as_int(value, f"{op}(): argument '{name}' (position {position}) must be int, not {{}}")


def _int_list_arg(op: str, name: str, position: int, value) -> list[int]:
    """A ``tuple of ints`` argument: torch's TypeError for anything else or for a non-int element."""
    if not isinstance(value, (list, tuple, torch.Size)):
        raise TypeError(
            f"{op}(): argument '{name}' (position {position}) must be tuple of ints, not {type(value).__name__}"
        )
    result = []
    for pos, item in enumerate(value):
        if isinstance(item, bool) or not hasattr(item, "__index__"):
            raise TypeError(
                f"{op}(): argument '{name}' (position {position}) must be tuple of ints, but found element of type "
                f"{type(item).__name__} at pos {pos}"
            )
        result.append(item.__index__())
    return result


# ---------------------------------------------------------------------------------------------
# select, ravel, narrow_copy
# ---------------------------------------------------------------------------------------------


def select(input, dim: int, index: int):
    """The view of ``input`` at ``index`` along ``dim``, without that dim."""
    index = _int_arg("select", "index", 3, index)
    if input.dim() == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    return input.select(dim, index)


def ravel(input):
    """input flattened to 1-D: a view when input is contiguous, else a contiguous copy."""
    if not input.is_contiguous():
        input = input.contiguous()
    return input.view(-1)


def _narrow_copy_out_dtype_error(wanted: torch.dtype, given: torch.dtype) -> str:
    return (
        "Expected self.dtype() == output.dtype() to be true, but got false.  (Could this error message be "
        "improved?  If so, please report an enhancement request to PyTorch.)"
    )


@out_variant("narrow_copy", dtype_error=_narrow_copy_out_dtype_error, warn_resize=False)
def narrow_copy(input, dim: int, start, length: int):
    """A contiguous copy of input[..., start:start + length, ...] along ``dim``."""
    dim = _int_arg("narrow_copy", "dim", 2, dim)
    start = _int_arg("narrow_copy", "start", 3, start)
    length = _int_arg("narrow_copy", "length", 4, length)
    if input.dim() == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if dim >= input.dim():
        raise RuntimeError(
            "Expected dim < static_cast<int64_t>(self_sizes.size()) to be true, but got false.  (Could this error "
            "message be improved?  If so, please report an enhancement request to PyTorch.)"
        )
    dim = normalize_dim(dim, input.dim())
    size = input.shape[dim]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start + size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return views.narrow(input, dim, start, length).clone(memory_format=torch.contiguous_format)


# ---------------------------------------------------------------------------------------------
# hsplit, vsplit, dsplit, split_with_sizes
# ---------------------------------------------------------------------------------------------


def _directional_split(name: str, input, indices_or_sections, min_dims: int, dim: int):
    """torch.{h,v,d}split: tensor_split along ``dim`` after torch's checks; an int must divide the size."""
    value = indices_or_sections
    is_int = not isinstance(value, (bool, Tensor, torch.Tensor)) and hasattr(value, "__index__")
    is_list = isinstance(value, (list, tuple, torch.Size)) and all(
        not isinstance(i, bool) and hasattr(i, "__index__") for i in value
    )
    if not (is_int or is_list):
        got = "Tensor" if isinstance(value, (Tensor, torch.Tensor)) else type(value).__name__
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got (Tensor, {got}), but expected one of:\n"
            " * (Tensor input, int sections)\n"
            f"      didn't match because some of the arguments have invalid types: (Tensor, !{got}!)\n"
            " * (Tensor input, tuple of ints indices)\n"
            f"      didn't match because some of the arguments have invalid types: (Tensor, !{got}!)\n"
        )
    if input.dim() < min_dims:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor with "
            f"{input.dim()} dimensions!"
        )
    if is_int:
        sections = value.__index__()
        if sections == 0 or input.shape[dim] % sections != 0:
            raise RuntimeError(
                f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                f"{input.shape[dim]} is not divisible by the split_size {sections}!"
            )
        return shape.tensor_split(input, sections, dim)
    return shape.tensor_split(input, [i.__index__() for i in value], dim)


def hsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """input split horizontally (dim 1; dim 0 for 1-D) into ``sections`` equal views, or at ``indices``."""
    value = next((v for v in (sections, indices) if v is not None), indices_or_sections)
    return _directional_split("hsplit", input, value, 1, 0 if input.dim() == 1 else 1)


def vsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """input split vertically (dim 0, input at least 2-D) into equal views, or at ``indices``."""
    value = next((v for v in (sections, indices) if v is not None), indices_or_sections)
    return _directional_split("vsplit", input, value, 2, 0)


def dsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """input split depth-wise (dim 2, input at least 3-D) into equal views, or at ``indices``."""
    value = next((v for v in (sections, indices) if v is not None), indices_or_sections)
    return _directional_split("dsplit", input, value, 3, 2)


def split_with_sizes(input, split_sizes, dim: int = 0):
    """Views of consecutive pieces of ``split_sizes`` (which must sum to the size of ``dim``)."""
    sizes = _int_list_arg("split_with_sizes", "split_sizes", 2, split_sizes)
    return shape.split(input, sizes, dim)


# ---------------------------------------------------------------------------------------------
# rot90, diagflat, block_diag, kron
# ---------------------------------------------------------------------------------------------


def _flip_like_input(input, dims: tuple):
    """flip, laid out as torch's flip lays it out: in input's stride order (a transposed input gives a
    transposed result), where tritongrad's flip always returns a contiguous tensor."""
    if input.is_contiguous():
        return shape.flip(input, dims)
    strides = input.stride()
    order = sorted(range(input.dim()), key=lambda d: -strides[d])
    flipped = shape.flip(input.permute(*order), tuple(order.index(d) for d in dims))
    return flipped.permute(*(order.index(d) for d in range(input.dim())))


def rot90(input, k: int = 1, dims=(0, 1)):
    """input rotated by 90 degrees ``k`` times in the plane of ``dims``, from the first towards the
    second (a flip, then a transposed view of it; k % 4 == 0: a contiguous copy)."""
    k = _int_arg("rot90", "k", 2, k)
    dims = _int_list_arg("rot90", "dims", 3, dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.dim() < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.dim()}")
    first, second = normalize_dim(dims[0], input.dim()), normalize_dim(dims[1], input.dim())
    if first == second:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return _flip_like_input(input, (second,)).transpose(first, second)
    if k == 2:
        return _flip_like_input(input, (first, second))
    if k == 3:
        return _flip_like_input(input, (first,)).transpose(first, second)
    return input.clone(memory_format=torch.contiguous_format)


def diagflat(input, offset: int = 0):
    """A square matrix with the flattened input on its ``offset`` diagonal, zeros elsewhere."""
    offset = _int_arg("diagflat", "offset", 2, offset)
    return shape.diag(ravel(input), offset)


def block_diag(*tensors):
    """The tensors (each at most 2-D; 0-D is 1x1, 1-D a row) as the blocks of a block-diagonal
    matrix, in their promoted dtype."""
    for number, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {number} in argument 0, but got {type(t).__name__}")
        if t.dim() > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {number} has {t.dim()} "
                "dimensions"
            )
    if not tensors:
        return creation.empty((1, 0))
    dtype, device = result_type(*tensors), tensors[0].device
    blocks = [t.reshape(1, 1) if t.dim() == 0 else t.unsqueeze(0) if t.dim() == 1 else t for t in tensors]
    blocks = [b if b.dtype == dtype else b.to(dtype) for b in blocks]
    columns = sum(b.shape[1] for b in blocks)
    rows, before = [], 0
    for block in blocks:
        height, width = block.shape
        pieces = [block]
        if before:
            pieces.insert(0, creation.zeros((height, before), dtype=dtype, device=device))
        after = columns - before - width
        if after:
            pieces.append(creation.zeros((height, after), dtype=dtype, device=device))
        rows.append(indexing.cat(pieces, 1) if len(pieces) > 1 else block)
        before += width
    return indexing.cat(rows, 0) if len(rows) > 1 else rows[0].clone(memory_format=torch.contiguous_format)


def kron(input, other, *, out=None):
    """The Kronecker product: ``out[i * other.shape + j] = input[i] * other[j]`` (the tensor with
    fewer dims gets leading ones); one broadcast multiply of interleaved views, reshaped."""
    ndim = max(input.dim(), other.dim())
    a_sizes = (1,) * (ndim - input.dim()) + tuple(input.shape)
    b_sizes = (1,) * (ndim - other.dim()) + tuple(other.shape)
    a_view = input.reshape(tuple(s for size in a_sizes for s in (size, 1)))
    b_view = other.reshape(tuple(s for size in b_sizes for s in (1, size)))
    result = (a_view * b_view).reshape(tuple(a * b for a, b in zip(a_sizes, b_sizes)))
    return result if out is None else write_out("kron", out, result, input, other, rule="castable", overlap=True)


# ---------------------------------------------------------------------------------------------
# tensordot
# ---------------------------------------------------------------------------------------------


def _tensordot(a, b, dims_a: list[int], dims_b: list[int]):
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a.dtype != b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    t1, t2 = a, b
    for d1, d2 in zip(dims_a, dims_b):
        s1, s2 = a.shape[normalize_dim(d1, a.dim())], b.shape[normalize_dim(d2, b.dim())]
        if s2 == 1:  # (a broadcast dim is summed away first, as torch does)
            t1 = t1.sum(d1, keepdim=True, dtype=t1.dtype)
        elif s1 == 1:
            t2 = t2.sum(d2, keepdim=True, dtype=t2.dtype)
        elif s1 != s2:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {s1} in dim {d1} and second has size "
                f"{s2} in dim {d2}"
            )
    contracted_a = shape._dims_arg(dims_a, a.dim()) if dims_a else ()
    contracted_b = shape._dims_arg(dims_b, b.dim()) if dims_b else ()
    free_a = [d for d in range(a.dim()) if d not in contracted_a]
    free_b = [d for d in range(b.dim()) if d not in contracted_b]
    free_sizes = [t1.shape[d] for d in free_a] + [t2.shape[d] for d in free_b]
    inner = math.prod(t1.shape[d] for d in contracted_a)
    left = t1.permute((*free_a, *contracted_a)).reshape(math.prod(t1.shape[d] for d in free_a), inner)
    right = t2.permute((*contracted_b, *free_b)).reshape(inner, math.prod(t2.shape[d] for d in free_b))
    return left.matmul(right).reshape(tuple(free_sizes))


@autocast_op("tensordot")
def tensordot(a, b, dims=2, out=None):
    """The contraction of ``a`` and ``b`` over ``dims``: an int (a's last ``dims`` dims with b's
    first), a pair of dim lists, or a tensor of either; one matmul of permuted, reshaped operands."""
    if isinstance(dims, torch.Tensor):
        dims = Tensor._wrap(dims)
    if not isinstance(dims, (tuple, list, Tensor, int)):
        raise RuntimeError(
            "tensordot expects dims to be int or tuple[list[int], list[int]] or list[list[int]] containing two "
            f"lists, but got dims={dims}"
        )
    if isinstance(dims, Tensor):
        if dims.numel() > 1:
            if dims.shape[0] != 2:
                raise AssertionError(f"dims tensor must have size 2 in first dimension, got {dims.shape[0]}")
            dims_a, dims_b = dims[0].tolist(), dims[1].tolist()
        else:
            count = int(dims.item())
            if count < 0:
                raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
            dims_a, dims_b = list(range(-count, 0)), list(range(count))
    elif isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.dim(), b.dim()):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(-dims, 0)), list(range(dims))
    else:
        dims_a, dims_b = dims
    dims_a = _int_list_arg("tensordot", "dims_self", 3, dims_a)
    dims_b = _int_list_arg("tensordot", "dims_other", 4, dims_b)
    result = _tensordot(a, b, dims_a, dims_b)
    return result if out is None else write_out("tensordot", out, result, a, b)


# ---------------------------------------------------------------------------------------------
# tril_indices, triu_indices, combinations
# ---------------------------------------------------------------------------------------------


def _stack(tensors: list, dim: int):
    """torch.stack of same-shaped tensors (cat of views with a new ``dim``)."""
    return indexing.cat([t.unsqueeze(dim) for t in tensors], dim, stacking=True)


def _triangle_indices(name: str, row, col, offset, dtype, device, lower: bool):
    row = _int_arg(name, "row", 1, row)
    col = _int_arg(name, "col", 2, col)
    offset = _int_arg(name, "offset", 3, offset)
    dtype = as_dtype(dtype, name)
    if dtype not in (torch.int64, torch.int32):
        raise NotImplementedError(f"\"{name}\" not implemented for '{dtype_word(dtype)}'")
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    rows = creation.arange(row, dtype=dtype, device=device).view(row, 1).expand(row, col)
    cols = creation.arange(col, dtype=dtype, device=device).view(1, col).expand(row, col)
    # (kept: col - row <= offset below the diagonal, >= offset above it; computed as col <= row + offset)
    shifted = rows + offset
    mask = cols <= shifted if lower else cols >= shifted
    return _stack([rows.masked_select(mask), cols.masked_select(mask)], 0)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=torch.int64, device=None, layout=torch.strided):
    """The (row, col) coordinates of the lower triangle (col - row <= offset) of a row x col
    matrix, as a 2 x N tensor in row-major order."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, lower=True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=torch.int64, device=None, layout=torch.strided):
    """The (row, col) coordinates of the upper triangle (col - row >= offset) of a row x col
    matrix, as a 2 x N tensor in row-major order."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, lower=False)


def combinations(input, r: int = 2, with_replacement: bool = False):
    """Every length-``r`` combination of the 1-D input's elements (itertools.combinations order;
    ``with_replacement``: combinations_with_replacement) as the rows of an N x r tensor."""
    r = _int_arg("combinations", "r", 2, r)
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return creation.empty((0,), dtype=input.dtype, device=input.device)
    n = input.shape[0]
    positions = shape.meshgrid(*[creation.arange(n, device=input.device)] * r, indexing="ij")
    mask = None
    for earlier, later in zip(positions, positions[1:]):
        ordered = earlier <= later if with_replacement else earlier < later
        mask = ordered if mask is None else mask & ordered
    values = shape.meshgrid(*[input] * r, indexing="ij")
    if mask is None:  # (r == 1: every element, as a column)
        return _stack([v.reshape(-1) for v in values], 1)
    return _stack([v.masked_select(mask) for v in values], 1)


attach_methods({name: globals()[name] for name in TENSOR_METHODS})
