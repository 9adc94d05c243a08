"""The functional, torch-shaped op API (``tritongrad.add``, ``tritongrad.exp``, ...): a namespace.

Each op family lives in its own module and attaches its Tensor methods itself (``x.exp()`` is
``exp(x)``); this package gathers the functions under torch's names. Nothing inside ``ops``
imports this package: a module takes what it needs from the module that defines it.
"""

from __future__ import annotations

from tritongrad.ops import (  # noqa: F401 (submodules, also reachable as tritongrad.ops.<name>)
    activation,
    arithmetic,
    counting,
    dropout,
    elementwise,
    indexing,
    inplace,
    layout,
    linalg,
    linalg_factor,
    linalg_spectral,
    linear,
    loss_classes,
    loss_elementwise,
    numeric,
    operators,
    ordering,
    reduction,
    return_types,
    shape,
    views,
)
from tritongrad.ops import complex as complex_ops
from tritongrad.ops import random as random  # noqa: PLC0414
from tritongrad.ops.activation import rrelu, rrelu_  # noqa: F401 (torch.rrelu: its F form, training=False)
from tritongrad.ops.arithmetic import *  # noqa: F403
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.complex import *  # noqa: F403
from tritongrad.ops.counting import *  # noqa: F403
from tritongrad.ops.indexing import (  # noqa: F401 (public API: __all__ below)
    argwhere,
    gather,
    index_add,
    index_add_,
    index_copy,
    index_copy_,
    index_fill,
    index_fill_,
    index_put,
    index_put_,
    index_reduce,
    index_reduce_,
    index_select,
    masked_fill,
    masked_fill_,
    masked_scatter,
    masked_scatter_,
    masked_select,
    nonzero,
    put,
    put_,
    scatter,
    scatter_,
    scatter_add,
    scatter_add_,
    scatter_reduce,
    scatter_reduce_,
    take,
    take_along_dim,
)
from tritongrad.ops.layout import *  # noqa: F403
from tritongrad.ops.linalg import addbmm, addmm, addmv, baddbmm, bmm, cross, dot, ger, matmul, mm, mv, outer  # noqa: F401
from tritongrad.ops.linalg_factor import _legacy_slogdet as slogdet  # noqa: F401
from tritongrad.ops.linalg_factor import (  # noqa: F401 (torch's top-level spellings of linalg ops)
    cholesky,
    cholesky_inverse,
    cholesky_solve,
    det,
    inverse,
    logdet,
)
from tritongrad.ops.linalg_spectral import qr  # noqa: F401
from tritongrad.ops.linalg_svd import norm, pinverse, svd  # noqa: F401 (norm: the vector and matrix orders)
from tritongrad.ops.numeric import *  # noqa: F403
from tritongrad.ops.ordering import *  # noqa: F403
from tritongrad.ops.pointwise_compound import addcdiv, addcmul  # noqa: F401
from tritongrad.ops.reduction import (  # noqa: F401 (public API: __all__ below)
    all,
    amax,
    amin,
    aminmax,
    any,
    argmax,
    argmin,
    count_nonzero,
    logsumexp,
    max,
    mean,
    min,
    nanmean,
    nansum,
    prod,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from tritongrad.ops.shape import *  # noqa: F403
from tritongrad.ops.softmax import log_softmax  # noqa: F401 (ops.softmax: the function, as in torch)
from tritongrad.ops.softmax import softmax_function as softmax  # noqa: F401 (torch.softmax takes out=; F.softmax does not)
from tritongrad.shapes import normalize_dim
from tritongrad.tensor import Tensor

# exp, log1p, sin, round, isnan, ..., maximum, atan2, xlogy, lerp: one row each in ops/elementwise.py
# (UNARY, BINARY), from which ops/table.py derives the functions, methods and in-place variants.
globals().update(elementwise.FUNCTIONS)


# ------------------------------------------------------------------------------ torch's functional spellings
def is_tensor(obj) -> bool:
    """True if ``obj`` is a tritongrad Tensor."""
    return isinstance(obj, Tensor)


index = indexing.getitem  # x[key]


@autocast_op("cat")
def cat(tensors, dim: int = 0, *, out=None):
    """Concatenates tensors along ``dim`` (each copied into its slice of the result by a kernel)."""
    return indexing.cat(tensors, dim, out=out)


concat = concatenate = cat


@autocast_op("stack")
def stack(tensors, dim: int = 0, *, out=None):
    """Stacks same-shaped tensors along a new ``dim``."""
    tensors = indexing.tensor_list("stack", tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    dim = normalize_dim(dim, tensors[0].dim() + 1)
    return indexing.cat([t.unsqueeze(dim) for t in tensors], dim, stacking=True, out=out)


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    return input.flatten(start_dim, end_dim)


def reshape(input, shape):
    return input.reshape(shape)


def transpose(input, dim0: int, dim1: int):
    return input.transpose(dim0, dim1)


def permute(input, dims):
    return input.permute(dims)


def squeeze(input, dim=None):
    return input.squeeze(dim)


def unsqueeze(input, dim: int):
    return input.unsqueeze(dim)


def t(input):
    return input.t()


def clone(input):
    return input.clone()


def as_strided(input, size, stride, storage_offset=None):
    return input.as_strided(size, stride, storage_offset)


def numel(input) -> int:
    return input.numel()


__all__ = sorted(
    set(arithmetic.__all__) | set(counting.__all__) | set(ordering.__all__) | set(shape.__all__)
    | set(layout.__all__) | set(numeric.__all__) | set(complex_ops.__all__)
    | set(elementwise.FUNCTIONS) | set(indexing.TENSOR_METHODS) | set(reduction.TENSOR_METHODS)
    | {"addmm", "addmv", "baddbmm", "addbmm", "addcmul", "addcdiv", "rrelu", "rrelu_"}
    | {"det", "slogdet", "logdet", "inverse", "cholesky", "cholesky_solve", "cholesky_inverse", "qr", "svd", "pinverse",
       "norm"}
    | {"std_mean", "var_mean", "bmm", "cross", "dot", "ger", "matmul", "mm", "mv", "outer", "log_softmax", "softmax",
       "is_tensor", "index", "cat", "concat", "concatenate", "stack", "flatten", "reshape", "transpose", "permute",
       "squeeze", "unsqueeze", "t", "clone", "numel", "as_strided"}
)  # fmt: skip
