"""torch's own namespace spellings of ops defined elsewhere: ``torch.conv2d``, ``torch.max_pool2d``,
``torch.dropout(input, p, train)``, ``torch.embedding(weight, indices)``, ``torch.batch_norm`` with
its ATen argument order, the losses with an integer ``reduction`` (0 none, 1 mean, 2 sum), and
small functions torch keeps at the top level (``torch.detach``, ``torch.fill_``, ``torch.range``,
``torch.unravel_index``, ``torch.unique_consecutive``, the ``*_scatter`` family, ``torch.histogramdd``,
``torch.nonzero_static``), and torch's process flags (``set_warn_always``, ``set_flush_denormal``). Each
calls the ops it names; nothing here computes on its own."""

from __future__ import annotations

import builtins
import math
import platform
import warnings

import numpy as np
import torch

from tritongrad import caller_warnings, creation
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.caller_warnings import is_warn_always_enabled, set_warn_always
from tritongrad.dtypes import (
    complex_scalar_as,
    dtype_word,
    get_default_dtype,
    python_type_name,
    refuse_complex,
    type_meta_name,
)
from tritongrad.dtypes import result_type as promoted_dtype
from tritongrad.linalg import matrix_norm, matrix_power, multi_dot, solve_triangular, vector_norm
from tritongrad.nn import functional as F
from tritongrad.ops import indexing, return_types
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.extras import Cdist, EuclideanDist
from tritongrad.ops.inplace import apply_inplace
from tritongrad.ops.no_derivative import without_derivative
from tritongrad.ops.numeric import searchsorted
from tritongrad.ops.out_argument import out_variant
from tritongrad.ops.shape import unsafe_chunk, unsafe_split, unsafe_split_with_sizes
from tritongrad.shapes import normalize_dim
from tritongrad.tensor import Tensor, attach_methods, typename

# the nn ops torch also has at the top level with F's own arguments
conv1d, conv2d, conv3d = F.conv1d, F.conv2d, F.conv3d
conv_transpose1d, conv_transpose2d, conv_transpose3d = F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d
adaptive_avg_pool1d, rms_norm, prelu, bilinear = F.adaptive_avg_pool1d, F.rms_norm, F.prelu, F.bilinear
cosine_similarity, pairwise_distance = F.cosine_similarity, F.pairwise_distance
pixel_shuffle, pixel_unshuffle, channel_shuffle = F.pixel_shuffle, F.pixel_unshuffle, F.channel_shuffle
native_channel_shuffle = F.native_channel_shuffle

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "adaptive_avg_pool1d", "rms_norm", "prelu",
    "bilinear", "cosine_similarity", "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
    "native_channel_shuffle", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "max_pool1d_with_indices",
    "adaptive_max_pool1d", "dropout", "dropout_", "alpha_dropout", "alpha_dropout_", "feature_alpha_dropout",
    "feature_alpha_dropout_", "embedding", "batch_norm", "instance_norm", "layer_norm", "group_norm", "kl_div",
    "binary_cross_entropy_with_logits", "hinge_embedding_loss", "margin_ranking_loss", "cosine_embedding_loss",
    "triplet_margin_loss", "poisson_nll_loss", "detach", "detach_", "fill", "fill_", "zero_", "clamp_", "clip_",
    "is_same_size", "chain_matmul", "unravel_index", "range", "unique_consecutive", "select_scatter", "slice_scatter",
    "diagonal_scatter", "empty_strided", "asarray", "constant_pad_nd", "is_inference", "cdist", "cov", "corrcoef",
    "inner", "vdot", "addr", "triangular_solve", "conv_transpose3d",
]  # fmt: skip


def _stride(stride):
    """ATen's pooling stride: [] (its default) means the kernel size, F's None."""
    return None if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else stride


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode, return_indices=True)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    return F.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode, count_include_pad)


def adaptive_max_pool1d(input, output_size):
    """(values, indices), always: torch's top-level form."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def dropout(input, p: float, train: bool):
    return F.dropout(input, p, train)


def dropout_(input, p: float, train: bool):
    return F.dropout(input, p, train, inplace=True)


def alpha_dropout(input, p: float, train: bool):
    return F.alpha_dropout(input, p, train)


def alpha_dropout_(input, p: float, train: bool):
    return F.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout(input, p: float, train: bool):
    return F.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input, p: float, train: bool):
    return F.feature_alpha_dropout(input, p, train, inplace=True)


def embedding(weight, indices, padding_idx: int = -1, scale_grad_by_freq: bool = False, sparse: bool = False):
    """ATen's order (the table first); padding_idx -1 means none."""
    return F.embedding(
        indices, weight, None if padding_idx == -1 else padding_idx, None, 2.0, scale_grad_by_freq, sparse
    )


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled=True):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5, cudnn_enable: bool = True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5, cudnn_enabled: bool = True):
    return F.group_norm(input, num_groups, weight, bias, eps)


_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}
# The torch.* spellings of these losses take ATen's reduction enum, and called without one they
# return the unreduced loss (torch 2.13: torch.kl_div(x, y).shape == x.shape), unlike F's "mean".
_ATEN_DEFAULT_REDUCTION = 0


def _reduction(value) -> str:
    """ATen's reduction enum (0, 1, 2) as F's word."""
    if isinstance(value, str):
        return value
    if value not in _REDUCTIONS:
        raise ValueError(f"{value} is not a valid value for reduction")
    return _REDUCTIONS[value]


def kl_div(input, target, reduction=_ATEN_DEFAULT_REDUCTION, log_target: bool = False):
    return F.kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=_ATEN_DEFAULT_REDUCTION):
    return F.binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction), pos_weight=pos_weight
    )


def hinge_embedding_loss(input, target, margin: float = 1.0, reduction=_ATEN_DEFAULT_REDUCTION):
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1, input2, target, margin: float = 0.0, reduction=_ATEN_DEFAULT_REDUCTION):
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, reduction=_ATEN_DEFAULT_REDUCTION):
    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def triplet_margin_loss(
    anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=_ATEN_DEFAULT_REDUCTION
):
    return F.triplet_margin_loss(
        anchor, positive, negative, margin, p, eps, swap, reduction=_reduction(reduction)
    )  # fmt: skip


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


# ---------------------------------------------------------------------------------------- tensor functions
def detach(input):
    return input.detach()


def detach_(input):
    return input.detach_()


def fill(input, value):
    """A copy of ``input`` filled with ``value`` (torch.fill)."""
    return input.clone().fill_(value)


def fill_(input, value):
    return input.fill_(value)


def zero_(input):
    return input.zero_()


def clamp_(input, min=None, max=None):  # noqa: A002
    return input.clamp_(min, max)


clip_ = clamp_


def is_same_size(input, other) -> bool:
    return tuple(input.shape) == tuple(other.shape)


def _chain_matmul_out_dtype_error(wanted: torch.dtype, given: torch.dtype) -> str:
    return f"multi_dot(): expected out tensor to have dtype {type_meta_name(wanted)} but got {type_meta_name(given)}"


@autocast_op("chain_matmul")
@out_variant("chain_matmul", grad_name="mm", dtype_error=_chain_matmul_out_dtype_error)
def chain_matmul(*matrices):
    """Deprecated in torch for linalg.multi_dot, which computes it here."""
    caller_warnings.warn(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use torch.linalg.multi_dot "
        "instead, which accepts a list of two or more tensors rather than multiple parameters.",
        UserWarning,
    )
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(list(matrices))


def unravel_index(indices, shape):
    """The coordinates, one tensor per dim of ``shape``, of flat ``indices`` (taken modulo the number
    of elements, so negative ones count from the end, as torch's)."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"expected 'indices' to be integer dtype, but got {type(indices)}")
    if indices.dtype.is_floating_point or indices.dtype == torch.bool:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(int(size) for size in shape)
    if any(size < 0 for size in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(shape))
    count = math.prod(shape)  # (indices outside [0, count) wrap around it, as torch's)
    remaining = indices.to(torch.int64).remainder(count) if count else indices.to(torch.int64)
    coordinates = []
    for size in reversed(shape):
        coordinates.append(remaining.remainder(size))
        remaining = remaining.div(size, rounding_mode="floor")
    return tuple(reversed(coordinates))


def range(start, end, step=1, *, out=None, dtype=None, device=None, requires_grad: bool = False):  # noqa: A001
    """torch.range (deprecated): [start, end] with its end, in the default floating dtype (``out=``: in
    out's dtype, resized silently as torch's factories do)."""
    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its behavior is inconsistent "
        "with Python's range builtin. Instead, use torch.arange, which produces values in [start, end).",
        UserWarning,
        stacklevel=2,
    )
    if out is not None:
        dtype, device = dtype or out.dtype, out.device
    if dtype == torch.bool:
        raise NotImplementedError("\"range_cpu\" not implemented for 'Bool'")
    count = int(math.floor((end - start) / step)) + 1
    values = creation.arange(0, count, dtype=torch.float64, device=device) * step + start
    values = values.to(dtype or get_default_dtype())
    if out is not None:
        return creation.factory_out("range", out, values._data)
    return values.requires_grad_(requires_grad)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """Each run of equal consecutive elements (or slices along ``dim``) kept once."""
    if input.dtype.is_complex:  # (torch's unique kernels take no complex type)
        raise NotImplementedError(f"\"unique\" not implemented for '{dtype_word(input.dtype)}'")
    x = input.flatten() if dim is None else input.movedim(dim, 0)
    length = x.shape[0]
    if length == 0:
        values = x
        inverse = creation.zeros(tuple(input.shape) if dim is None else (0,), dtype=torch.int64)
        counts = creation.zeros(0, dtype=torch.int64)
    else:
        differs = x[1:] != x[:-1]
        if differs.dim() > 1:
            differs = differs.flatten(1).any(dim=1)
        starts = indexing.cat([creation.ones(1, dtype=torch.bool, device=input.device), differs])
        values = x[starts]
        inverse = starts.to(torch.int64).cumsum(0) - 1
        positions = starts.nonzero().flatten()
        ends = indexing.cat([positions[1:], creation.tensor([length], dtype=torch.int64, device=input.device)])
        counts = ends - positions
        if dim is None:
            inverse = inverse.reshape(input.shape)
    if dim is not None:
        values = values.movedim(0, dim)
    values = without_derivative(input, values.detach(), "unique_consecutive", "UniqueConsecutiveBackward0")
    results = (values,) + ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())
    return results[0] if len(results) == 1 else results


def _scatter_into(input, src, view_of):
    """A copy of ``input`` with ``src`` written into ``view_of(copy)``, a view, which ``src`` must match in
    shape exactly (torch broadcasts nothing here)."""
    out = input.clone()
    view = view_of(out)
    if tuple(src.shape) != tuple(view.shape):
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, slice size = "
            f"{list(view.shape)}"
        )
    view.copy_(src)
    return out


def select_scatter(input, src, dim: int, index: int):
    """A copy of ``input`` with ``src`` written into ``input.select(dim, index)``."""
    return _scatter_into(input, src, lambda out: out.select(dim, index))


# (torch writes into out even when an input requires grad)
@out_variant("slice_scatter", differentiable=False)
def slice_scatter(input, src, dim: int = 0, start=None, end=None, step: int = 1):
    """A copy of ``input`` with ``src`` written into the slice ``start:end:step`` of ``dim``."""
    if input.dim() == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    dim = normalize_dim(dim, input.dim())
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    return _scatter_into(input, src, lambda out: out[(slice(None),) * dim + (slice(start, end, step),)])


def diagonal_scatter(input, src, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """A copy of ``input`` with ``src`` written into its ``diagonal(offset, dim1, dim2)``."""
    return _scatter_into(input, src, lambda out: out.diagonal(offset, dim1, dim2))


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad: bool = False, **kwargs):
    """Uninitialised memory viewed with ``size`` and ``stride``."""
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} vs {len(stride)}")
    span = 0 if 0 in size else 1 + sum((s - 1) * st for s, st in zip(size, stride))
    base = creation.empty(span, dtype=dtype, device=device)
    return base.as_strided(size, stride).requires_grad_(requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad: bool = False):
    """``obj`` itself when it is already a tensor of that dtype and device, and a numpy array's memory
    shared (unless ``copy``, or a dtype change that needs one), else a new tensor from it; with
    ``copy=False`` what cannot be aliased is torch's ValueError."""
    if isinstance(obj, np.ndarray) and copy is not True:
        obj = creation.from_numpy(obj)  # (torch's refusals of negative strides and byte orders)
    elif isinstance(obj, np.generic) and copy is False:
        raise RuntimeError("can't alias NumPy scalars. Either remove copy=False or transform it in a ndarray. ")
    if isinstance(obj, Tensor):
        if copy is False and dtype not in (None, obj.dtype):
            raise ValueError(
                f"can't alias tensor with dtype '{dtype_word(obj.dtype)}' into dtype '{dtype_word(dtype)}'."
            )
        result = obj if dtype in (None, obj.dtype) else obj.to(dtype)
        if device is not None:
            result = result.to(device)
        if copy and result is obj:
            result = obj.clone()
        return result.requires_grad_(requires_grad) if requires_grad else result
    if copy is False:
        raise ValueError("can't alias arbitrary sequence into a tensor.")
    return creation.tensor(obj, dtype=dtype, device=device, requires_grad=requires_grad)


def constant_pad_nd(input, pad, value=0):
    return F.pad(input, pad, "constant", value)


def is_inference(input) -> bool:
    """True for a tensor made inside ``inference_mode`` (or a view of one)."""
    return input.is_inference()


# ------------------------------------------------------------------------- products and statistics
def _inner_out_dtype_error(wanted: torch.dtype, given: torch.dtype) -> str:
    return (
        f"tensordot: Expected the output tensor to have dtype {dtype_word(wanted)}, but got an output tensor with "
        f"dtype {dtype_word(given)}"
    )


# (torch writes inner's out= even where an input requires grad)
@out_variant("inner", differentiable=False, dtype_error=_inner_out_dtype_error)
def inner(input, other):
    """The sum over the last dims of input and other's products (a tensordot over one dim)."""
    if input.dim() == 0 or other.dim() == 0:
        result = input * other
    else:
        if input.shape[-1] != other.shape[-1]:
            raise RuntimeError(
                f"inner() the last dimension must match on both input tensors but got shapes {list(input.shape)} "
                f"and {list(other.shape)}"
            )
        rows = math.prod(other.shape[:-1])  # (spelled out: reshape(-1, 0) of an empty tensor is ambiguous)
        result = input.matmul(other.reshape(rows, other.shape[-1]).t()).reshape(*input.shape[:-1], *other.shape[:-1])
    return result


def _vdot_out_dtype_error(wanted: torch.dtype, given: torch.dtype) -> str:
    return f"result dtype {dtype_word(given)} does not match input dtype {dtype_word(wanted)}"


@autocast_op("vdot")
@out_variant("vdot", dtype_error=_vdot_out_dtype_error)
def vdot(input, other):
    """The dot product of two 1-D tensors (real tensors: ``dot``)."""
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    if input.dtype.is_complex:  # (the first operand conjugated: sum(conj(a) * b))
        input = input.conj_physical()
    return input.dot(other)


@autocast_op("addr")
@out_variant("addr", rule="castable")
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2); beta 0 leaves input out (its NaNs too), as torch's. For
    integer operands the factors must be integers (torch's error names beta first); for bool ones the
    sum is torch's ``(beta and input) or (alpha and outer)``."""
    dtype = promoted_dtype(input, vec1, vec2)
    if not (dtype.is_floating_point or dtype.is_complex):
        for name, factor in (("beta", beta), ("alpha", alpha)):
            if isinstance(factor, (float, complex)):
                raise RuntimeError(f"For integral input tensors, argument {name} must not be a floating point number.")
    elif not dtype.is_complex:
        beta, alpha = (complex_scalar_as(f, dtype) if isinstance(f, complex) else f for f in (beta, alpha))
    product = vec1.outer(vec2)
    input.expand(*product.shape)  # (torch's error where input does not broadcast to the product)
    if dtype == torch.bool:
        return (product & bool(alpha)) | (input & bool(beta))
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        if not (input.requires_grad and is_grad_enabled()):
            return product
        # still input's (zero-gradient) descendant, as torch's node is; its NaNs and infinities kept out
        return product + (input * 0).nan_to_num(0.0, 0.0, 0.0)
    return product + (input if beta == 1 else input * beta)


# torch.cdist's compute_mode names and the mode number its C++ reads (0: the matmul form for p = 2 where
# x1 or x2 has more than 25 rows, 1: always for p = 2, 2: never)
_CDIST_COMPUTE_MODES = {
    "use_mm_for_euclid_dist_if_necessary": 0,
    "use_mm_for_euclid_dist": 1,
    "donot_use_mm_for_euclid_dist": 2,
}


def _broadcast_batch(first: tuple, second: tuple) -> tuple:
    """The broadcast of two batch shapes, with torch's error where they do not broadcast."""
    ndim = builtins.max(len(first), len(second))
    first, second = (1,) * (ndim - len(first)) + first, (1,) * (ndim - len(second)) + second
    for dim, (a, b) in enumerate(zip(first, second)):
        if a != b and a != 1 and b != 1:
            raise RuntimeError(
                f"The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton dimension {dim}"
            )
    return tuple(b if a == 1 else a for a, b in zip(first, second))


@autocast_op("cdist")
def cdist(x1, x2, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 and each row of x2 (batched over leading dims), in
    torch's two forms: for p = 2 with more than 25 rows in x1 or x2 (or compute_mode
    'use_mm_for_euclid_dist') the matmul form |x1|² + |x2|² - 2 x1 x2ᵀ (fast, and inexact where the rows
    are far from the origin, as torch's), else from the differences (exact), with torch's gradients."""
    mode = _CDIST_COMPUTE_MODES.get(compute_mode) if isinstance(compute_mode, str) else None
    if mode is None:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dim() < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if isinstance(p, (Tensor, int, float)):  # (torch's parser reads a bool or a 0-d tensor as a float)
        p = float(p)
    else:
        raise TypeError(f"cdist(): argument 'p' (position 3) must be float, not {type(p).__name__}")
    for name, x in (("X1", x1), ("X2", x2)):
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {dtype_word(x.dtype)}")
    if not p >= 0:  # (NaN refused too)
        raise RuntimeError("cdist only supports non-negative p values")
    batch = _broadcast_batch(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    rows1, rows2 = x1.shape[-2], x2.shape[-2]
    if rows1 == 0 or rows2 == 0 or math.prod(batch) == 0:
        return Cdist.apply(x1, x2, p)  # (an empty result, still x1's and x2's node, as torch's)
    if x1.shape[-1] != 0 and p == 2 and (mode == 1 or (mode == 0 and (rows1 > 25 or rows2 > 25))):
        if x1.dtype != x2.dtype:  # (the matmul's check)
            raise RuntimeError(
                f"expected m1 and m2 to have the same dtype, but got: {type_meta_name(x1.dtype)} != "
                f"{type_meta_name(x2.dtype)}"
            )
        columns = x1.shape[-1]
        count = math.prod(batch)
        x1 = x1.expand(*batch, rows1, columns).reshape(count, rows1, columns)
        x2 = x2.expand(*batch, rows2, columns).reshape(count, rows2, columns)
        return EuclideanDist.apply(x1, x2).view(*batch, rows1, rows2)
    if x1.shape[-1] != 0:  # (torch's kernel takes float32 and float64 of one dtype; no columns needs no kernel)
        if x1.dtype not in (torch.float32, torch.float64):
            raise NotImplementedError(f"\"cdist\" not implemented for '{dtype_word(x1.dtype)}'")
        if x2.dtype != x1.dtype:
            raise RuntimeError(f"expected scalar type {dtype_word(x1.dtype)} but found {dtype_word(x2.dtype)}")
    return Cdist.apply(x1, x2, p)


def _check_cov_weights(name: str, weights, observations: int) -> None:
    """torch's checks of cov's frequency (integral, not bool) and importance (floating) weights, in its
    order; the sign check reads the weights' minimum back, as torch's does (so a NaN weight is refused)."""
    if weights.dim() > 1:
        raise RuntimeError(
            f"cov(): expected {name} to have one or fewer dimensions but got {name} with {weights.dim()} dimensions"
        )
    integral = not (weights.dtype.is_floating_point or weights.dtype.is_complex or weights.dtype == torch.bool)
    if name == "fweights" and not integral:
        raise RuntimeError(
            f"cov(): expected fweights to have integral dtype but got fweights with {dtype_word(weights.dtype)} dtype"
        )
    if name == "aweights" and not weights.dtype.is_floating_point:
        raise RuntimeError(
            f"cov(): expected aweights to have floating point dtype but got aweights with {dtype_word(weights.dtype)} "
            "dtype"
        )
    if weights.numel() != observations:
        raise RuntimeError(
            f"cov(): expected {name} to have the same numel as there are observations in the input but got "
            f"{weights.numel()} != {observations}"
        )
    if observations and not bool(weights.min() >= 0):
        raise RuntimeError(f"cov(): {name} cannot be negative")


def _check_cov_input(name: str, input) -> None:
    if input.dim() > 2:
        raise RuntimeError(
            f"{name}(): expected input to have two or fewer dimensions but got an input with {input.dim()} dimensions"
        )


def cov(input, *, correction: int = 1, fweights=None, aweights=None):
    """The covariance of the rows of ``input`` (variables) over its columns (observations), in torch's
    steps (Correlation.cpp): the weighted mean is sum(x * w) / sum(w), so an empty observation axis gives
    NaN; the result dtype promotes the input with the weights (an integral input without floating weights
    gives the default dtype); a normalizer <= 0 warns and is taken as 0 (the result is then inf or NaN)."""
    if isinstance(correction, Tensor):  # (a 0-d integral tensor is an int to torch's argument parser)
        correction = int(correction)
    if not isinstance(correction, int) or isinstance(correction, bool):
        raise TypeError(f"cov(): argument 'correction' must be int, not {type(correction).__name__}")
    _check_cov_input("cov", input)
    if input.dtype == torch.bool:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    if input.dtype.is_complex:
        raise refuse_complex("cov", input.dtype)
    x = input.reshape(1, -1) if input.dim() < 2 else input
    observations = x.shape[1]
    weights = None
    if fweights is not None:
        _check_cov_weights("fweights", fweights, observations)
        weights = fweights
    if aweights is not None:
        _check_cov_weights("aweights", aweights, observations)
        weights = aweights if weights is None else weights * aweights
    if weights is None:
        total = observations
        mean = x.sum(dim=1, keepdim=True) / total  # (0 / 0 for no observations: NaN, as torch's)
        normalizer = total - correction
        too_few = normalizer <= 0
    else:
        total = weights.sum()
        if not bool(total != 0):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
        mean = (x * weights).sum(dim=1, keepdim=True) / total
        if aweights is not None and correction != 0:
            normalizer = total - correction * (weights * aweights).sum() / total
        else:
            normalizer = total - correction
        too_few = bool(normalizer <= 0)
    if too_few:
        caller_warnings.warn(
            "cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of observations."
        )
        normalizer = 0  # (torch zeroes it: the result is then inf, or NaN where the sums are 0)
    centered = x - mean
    weighted = centered if weights is None else centered * weights
    return (centered.matmul(weighted.t()) / normalizer).squeeze()  # (one variable: a 0-d result, as torch's)


def corrcoef(input):
    """Pearson's correlation coefficients of the rows of ``input``, clipped to [-1, 1]."""
    _check_cov_input("corrcoef", input)
    covariance = cov(input)
    if covariance.dim() == 0:
        return covariance / covariance
    deviations = covariance.diagonal().sqrt()
    return (covariance / deviations.unsqueeze(1) / deviations.unsqueeze(0)).clamp(-1, 1)


_TriangularSolve = return_types._return_type("triangular_solve", ("solution", "cloned_coefficient"))


@autocast_op("triangular_solve")
@out_variant("triangular_solve")
def triangular_solve(b, A, upper: bool = True, transpose: bool = False, unitriangular: bool = False):
    """Deprecated in torch for linalg.solve_triangular (arguments reversed), which computes it here;
    returns (solution, a copy of A)."""
    if b.dtype != A.dtype:  # (torch's own check: solve_triangular's would name its arguments the other way)
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type {dtype_word(b.dtype)} and A of type "
            f"{dtype_word(A.dtype)} instead."
        )
    if b.dim() < 2:
        raise RuntimeError(
            f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has {b.dim()} dimensions instead"
        )
    if A.dim() >= 2 and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"A must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} matrices"
        )
    if A.dim() >= 2 and b.shape[-2] != A.shape[-1]:
        raise RuntimeError(
            f"Incompatible matrix sizes for triangular_solve: each A matrix is {A.shape[-1]} by {A.shape[-1]} but each "
            f"b matrix is {b.shape[-2]} by {b.shape[-1]}"
        )
    coefficients = A.mT if transpose else A
    solution = solve_triangular(coefficients, b, upper=upper != transpose, unitriangular=unitriangular)
    return _TriangularSolve(solution, A.clone())


def adjoint(input):
    """torch.adjoint: the conjugate transpose of the last two dims (Tensor.adjoint)."""
    return input.adjoint()


def is_neg(input) -> bool:
    """False: tritongrad has no lazy negation bit (every tensor holds its values)."""
    return input.is_neg()


def resolve_neg(input):
    """``input`` itself, as torch's for a tensor without the negation bit (tritongrad's never have it)."""
    return input.resolve_neg()


def nuclear_norm(input, dim=(-2, -1), keepdim: bool = False, *, out=None):
    """torch.nuclear_norm (kept by torch for TorchScript): linalg.matrix_norm(input, 'nuc', dim, keepdim), with
    torch's deprecation warning; ``nuclear_norm(input, keepdim)`` is its other overload."""
    caller_warnings.warn(
        "at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will be removed in a future "
        "PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead",
        UserWarning,
    )
    if isinstance(dim, bool):
        dim, keepdim = (-2, -1), dim
    return matrix_norm(input, "nuc", dim, keepdim, out=out)


def frobenius_norm(input, dim=None, keepdim: bool = False, *, out=None):
    """torch.frobenius_norm (kept by torch for TorchScript): linalg.vector_norm(input, 2, dim, keepdim) over at
    most two dims, with torch's deprecation warning."""
    caller_warnings.warn(
        "at::frobenius_norm is deprecated and it is just left for JIT compatibility. It will be removed in a future "
        "PyTorch release. Please use `linalg.vector_norm(A, 2., dim, keepdim)` instead",
        UserWarning,
    )
    if dim is None:  # (torch's argument parser words it so)
        raise TypeError('frobenius_norm() missing 1 required positional arguments: "dim"')
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions instead.")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(
            f"norm(): input dtype should be either floating point or complex. Got {dtype_word(input.dtype)} instead."
        )
    return vector_norm(input, 2, dims or None, keepdim, out=out)


def positive(input):
    """``input`` itself (``+x``), refused for bool as torch's."""
    if input.dtype == torch.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


__all__ += ["positive", "adjoint", "is_neg", "resolve_neg", "nuclear_norm", "frobenius_norm", "matrix_power"]


class _NamespaceMethods:
    """The Tensor methods torch has for functions of this namespace (``x.cov()``, ``x.inner(y)``)."""

    addr, corrcoef, cov, diagonal_scatter, inner = addr, corrcoef, cov, diagonal_scatter, inner
    is_same_size, select_scatter, slice_scatter = is_same_size, select_scatter, slice_scatter
    triangular_solve, unique_consecutive, vdot, positive = triangular_solve, unique_consecutive, vdot, positive
    prelu = F.prelu
    matrix_power = matrix_power
    unsafe_chunk, unsafe_split, unsafe_split_with_sizes = unsafe_chunk, unsafe_split, unsafe_split_with_sizes

    def addr_(self, vec1, vec2, *, beta=1, alpha=1):
        """In place: beta * self + alpha * outer(vec1, vec2) (recorded as addr's node)."""
        return apply_inplace(
            self,
            lambda s: addr(s, vec1, vec2, beta=beta, alpha=alpha),
            lambda: self.copy_(addr(self, vec1, vec2, beta=beta, alpha=alpha)),
        )

    def cumsum_(self, dim, *, dtype=None):
        """In place: the running sum along ``dim`` (recorded as CumsumBackward0, as torch's)."""
        return apply_inplace(self, lambda s: s.cumsum(dim, dtype=dtype), lambda: self.copy_(self.cumsum(dim)))

    def cumprod_(self, dim, *, dtype=None):
        """In place: the running product along ``dim`` (recorded as CumprodBackward0, as torch's)."""
        return apply_inplace(self, lambda s: s.cumprod(dim, dtype=dtype), lambda: self.copy_(self.cumprod(dim)))

    def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad: bool = False):
        """An uninitialised tensor with ``size`` and ``stride``, in ``self``'s dtype and device by default."""
        return empty_strided(
            size, stride, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad
        )

    @property
    def output_nr(self) -> int:
        """Which output of its grad_fn this tensor is (0 for a leaf)."""
        return self._output_nr


attach_methods(_NamespaceMethods)


# ---------------------------------------------------------------------------------------- process flags
_FLAGS = {"flush_denormal": False}
__all__ += ["set_warn_always", "is_warn_always_enabled"]  # (caller_warnings keeps the flag its warn_once reads)

# torch.result_type's signatures, by their parameter names (a Number: a Python or numpy number)
_RESULT_TYPE_SIGNATURES = (("tensor", "other"), ("scalar", "tensor"), ("tensor", "other"), ("scalar1", "scalar2"))
_RESULT_TYPE_KINDS = (("Tensor", "Tensor"), ("Number", "Tensor"), ("Tensor", "Number"), ("Number", "Number"))


def _kind_of(value) -> str | None:
    if isinstance(value, Tensor):
        return "Tensor"
    if isinstance(value, (bool, int, float, complex, np.number, np.bool_)):
        return "Number"
    return None


def result_type(*args, **kwargs) -> torch.dtype:
    """torch.result_type(tensor, other): the dtype an arithmetic op on the two operands (tensors or
    numbers) gives, with torch's four signatures and their keyword names."""
    for names, kinds in zip(_RESULT_TYPE_SIGNATURES, _RESULT_TYPE_KINDS):
        if len(args) + len(kwargs) != 2 or not set(kwargs) <= set(names[len(args) :]):
            continue
        values = [*args, *(kwargs[name] for name in names[len(args) :])]
        if all(_kind_of(value) == kind for value, kind in zip(values, kinds)):
            return promoted_dtype(*values)
    given = [python_type_name(a) for a in args] + [f"{k}={python_type_name(v)}" for k, v in kwargs.items()]
    expected = "".join(
        f"\n * ({kinds[0]} {names[0]}, {kinds[1]} {names[1]})"
        for names, kinds in zip(_RESULT_TYPE_SIGNATURES, _RESULT_TYPE_KINDS)
    )
    raise TypeError(
        f"result_type() received an invalid combination of arguments - got ({', '.join(given)}), but expected one "
        f"of:{expected}\n"
    )


__all__ += ["result_type"]


def set_flush_denormal(mode: bool) -> bool:
    """Record the flag and answer as torch does where the CPU can flush denormals (x86: True). The kernels' own
    arithmetic is not changed by it."""
    _FLAGS["flush_denormal"] = bool(mode)
    return platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def is_storage(obj, /) -> bool:
    """Whether ``obj`` is a storage: tritongrad's tensors keep torch's storages, so torch's own test."""
    return torch.is_storage(obj)


def is_signed(input) -> bool:
    return input.is_signed()


def get_device(input) -> int:
    """The device index, -1 on the CPU."""
    return input.get_device()


def xlogy_(input, other):
    return input.xlogy_(other)


def addmv_(input, mat, vec, *, beta=1, alpha=1):
    return input.addmv_(mat, vec, beta=beta, alpha=alpha)


def conj_physical_(input):
    """In place: the complex conjugate (a real tensor is its own, left as it is)."""
    if not input.dtype.is_complex:
        return input
    return apply_inplace(input, lambda s: s.conj_physical(), lambda: input.copy_(input.conj_physical()))


def as_strided_(input, size, stride, storage_offset=None):
    return input.as_strided_(size, stride, storage_offset)


def resize_as_(input, the_template, *, memory_format=None):
    return input.resize_as_(the_template, memory_format=memory_format)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad: bool = False,
                   pin_memory: bool = False):  # fmt: skip
    """Uninitialised memory of logical ``size`` laid out in ``physical_layout``'s dim order (its first dim
    outermost): ``empty`` of the permuted sizes, viewed back."""
    size, physical_layout = tuple(size), tuple(physical_layout)
    if len(size) != len(physical_layout):
        raise RuntimeError(
            "Number of dimensions in size does not match the length of the physical_layout; i.e. len(size) = "
            f"{len(size)} is not equal to len(physical_layout) = {len(physical_layout)}"
        )
    if sorted(physical_layout) != list(builtins.range(len(size))):
        raise RuntimeError("Duplicate dim not allowed")
    physical = creation.empty([size[dim] for dim in physical_layout], dtype=dtype, layout=layout, device=device)
    logical = [physical_layout.index(dim) for dim in builtins.range(len(size))]
    return physical.permute(logical).requires_grad_(requires_grad)


@out_variant(
    "nonzero_static",
    differentiable=False,
    dtype_error=lambda result, out: (
        f"nonzero_static: Expected out tensor to have scalar type Long but got scalar type{dtype_word(out)}"
    ),
)
def nonzero_static(input, *, size: int, fill_value: int = -1):
    """The first ``size`` rows of ``nonzero(input)``, padded with rows of ``fill_value``: (size, input.dim())."""
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    found = input.nonzero()[:size]
    if found.shape[0] == size:
        return found
    padding = creation.full((size - found.shape[0], input.dim()), fill_value, dtype=torch.int64, device=input.device)
    return indexing.cat([found, padding])


_HistogramDD = return_types._return_type("histogramdd", ("hist", "bin_edges"))


def _histogramdd_edges(values, bins, range, dimension: int):  # noqa: A002
    """The increasing edges of one dim: given, or ``bins`` equal bins over ``range`` (the data's, widened
    by 0.5 each way when empty)."""
    if isinstance(bins, Tensor):
        return bins.to(values.dtype).contiguous()
    if int(bins) <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension {dimension}")
    if range is not None:
        low, high = float(range[2 * dimension]), float(range[2 * dimension + 1])
        if low > high:
            raise ValueError(
                f"torch.histogramdd(): min should not exceed max, but got min {low} max {high} for dimension "
                f"{dimension}"
            )
    elif values.numel() == 0:
        low, high = 0.0, 0.0
    else:
        low, high = values.min().item(), values.max().item()
    if low == high:
        low, high = low - 0.5, high + 0.5
    return creation.linspace(low, high, int(bins) + 1, dtype=values.dtype, device=values.device)


def histogramdd(input, bins, *, range=None, weight=None, density: bool = False):  # noqa: A002
    """(hist, bin_edges) of the points in ``input``'s rows (its last dim is the D coordinates): counts (or
    summed ``weight``) in the D-dim grid of bins; a point on the last edge of a dim falls in the last bin,
    points outside are not counted. ``density`` divides by the total and the bins' volumes."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{dtype_word(input.dtype)}'")
    if input.dim() < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    points = input.detach().reshape(-1, input.shape[-1])
    dims = points.shape[1]
    per_dim = list(bins) if isinstance(bins, (list, tuple)) else [bins] * dims
    if len(per_dim) != dims:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of the input.")
    edges = [_histogramdd_edges(points[:, d], per_dim[d], range, d) for d in builtins.range(dims)]
    counts = [edge.numel() - 1 for edge in edges]
    inside = creation.ones(points.shape[0], dtype=torch.bool, device=input.device)
    flat = creation.zeros(points.shape[0], dtype=torch.int64, device=input.device)
    for d, edge in enumerate(edges):
        column = points[:, d]
        inside = inside & (column >= edge[0]) & (column <= edge[-1])
        position = (searchsorted(edge, column, right=True) - 1).clamp(0, counts[d] - 1)
        flat = flat * counts[d] + position
    total = math.prod(counts)
    weights = None if weight is None else weight.detach().reshape(-1).to(input.dtype)[inside]
    hist = flat[inside].bincount(weights, minlength=total).to(input.dtype).reshape(counts)
    if density:
        volume = creation.ones((), dtype=input.dtype, device=input.device)
        for d, edge in enumerate(edges):
            widths = (edge[1:] - edge[:-1]).reshape([counts[d] if k == d else 1 for k in builtins.range(dims)])
            volume = volume * widths
        hist = hist / (hist.sum() * volume)
    return _HistogramDD(hist, tuple(edges))


__all__ += [
    "set_flush_denormal", "typename", "is_storage", "is_signed", "get_device", "unsafe_chunk", "unsafe_split",
    "unsafe_split_with_sizes", "xlogy_", "addmv_", "conj_physical_", "as_strided_", "resize_as_", "empty_permuted",
    "nonzero_static", "histogramdd",
]  # fmt: skip


def _resize_copy(tensor, sizes):
    """Tensor.resize's autograd Resize: the same elements in a new shape (the count must not change)."""
    count = math.prod(sizes)
    if tensor.numel() != count:
        raise RuntimeError(
            f"requested resize to {'x'.join(map(str, sizes))} ({count} elements in total), but the given tensor has "
            f"a size of {'x'.join(map(str, tensor.shape))} ({tensor.numel()} elements). autograd's resize can only "
            "change the shape of a given tensor, while preserving the number of elements. "
        )
    return tensor.contiguous().view(*sizes)


class _DeprecatedResizeMethods:
    """``x.resize(*sizes)`` and ``x.resize_as(other)``: torch's deprecated out-of-place resizes (a reshape that
    keeps the element count), warning as torch's."""

    def resize(self, *sizes):
        warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
        return _resize_copy(self, sizes)

    def resize_as(self, tensor):
        warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
        return _resize_copy(self, tuple(tensor.shape))

    conj_physical_ = conj_physical_

    def nonzero_static(self, *, size: int, fill_value: int = -1):
        return nonzero_static(self, size=size, fill_value=fill_value)


attach_methods(_DeprecatedResizeMethods)
