"""``tritongrad.linalg``: torch.linalg's vector norms, cross and vecdot products, matmul, and the
factorizations of small matrices (n <= 64: LU, Cholesky, triangular solves and what they give:
det, slogdet, inv, solve; QR; eigh by Jacobi)."""

from __future__ import annotations

import math

import torch

from tritongrad import creation
from tritongrad.dtypes import dtype_word, type_meta_name
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.indexing import cat as _cat
from tritongrad.ops.linalg import linalg_cross as cross
from tritongrad.ops.linalg import matmul

# extras: the LU family and functions composed of the factorizations (ops/linalg_lu.py, ops/linalg_composed.py)
from tritongrad.ops.linalg_composed import matrix_exp, tensorinv, tensorsolve  # noqa: E402
from tritongrad.ops.linalg_factor import (
    LinAlgError,
    cholesky_ex,
    det,
    inv,
    inv_ex,
    lu_factor,
    lu_factor_ex,
    slogdet,
    solve,
    solve_ex,
    solve_triangular,
)
from tritongrad.ops.linalg_factor import linalg_cholesky as cholesky
from tritongrad.ops.linalg_lu import linalg_lu as lu  # noqa: E402
from tritongrad.ops.linalg_lu import linalg_lu_solve as lu_solve  # noqa: E402
from tritongrad.ops.linalg_spectral import eigh, eigvalsh
from tritongrad.ops.linalg_spectral import linalg_qr as qr
from tritongrad.ops.linalg_svd import cond, eig, eigvals, lstsq, matrix_norm, matrix_rank, pinv, svdvals
from tritongrad.ops.linalg_svd import linalg_norm as norm
from tritongrad.ops.linalg_svd import linalg_svd as svd
from tritongrad.ops.out_argument import out_variant
from tritongrad.ops.reduction import norm as _norm
from tritongrad.shapes import normalize_dim

__all__ = [
    "norm", "vector_norm", "cross", "matmul", "vecdot", "LinAlgError", "det", "slogdet", "inv", "inv_ex", "solve",
    "solve_ex", "lu_factor", "lu_factor_ex", "cholesky", "cholesky_ex", "solve_triangular", "qr", "eigh", "eigvalsh",
    "matrix_power", "multi_dot", "svd", "svdvals", "pinv", "matrix_rank", "matrix_norm", "cond", "lstsq", "eig",
    "eigvals", "vander", "diagonal", "lu", "lu_solve", "matrix_exp", "tensorinv", "tensorsolve",
]  # fmt: skip


def _vecdot_out_dtype_error(wanted: torch.dtype, given: torch.dtype) -> str:
    return f"linalg.vecdot: Expected out of dtype{dtype_word(wanted)} but found {dtype_word(given)}"


@out_variant("linalg_vecdot", grad_name="sum", dtype_error=_vecdot_out_dtype_error)
def vecdot(x, y, *, dim: int = -1):
    """The dot products of x and y along ``dim`` (broadcasting the others), torch.linalg.vecdot."""
    _check_floating("linalg.vecdot", x)
    if x.dtype != y.dtype:
        raise RuntimeError(
            f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type {dtype_word(x.dtype)} and y "
            f"of type {dtype_word(y.dtype)} instead"
        )
    return (x * y).sum(dim)


def _check_floating(name: str, x) -> None:
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {dtype_word(x.dtype)}")


@autocast_op("vector_norm")
@out_variant("linalg_vector_norm")
def vector_norm(x, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None):
    """The ``ord``-norm of x's elements (all of them, or along ``dim``), torch.linalg.vector_norm."""
    if isinstance(ord, str):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    _check_floating("linalg.vector_norm", x)
    if x.numel() == 0 and (ord < 0 or ord == math.inf):
        _refuse_empty_reduction(x, ord, dim)
    return _norm(x, ord, dim=dim, keepdim=keepdim, dtype=dtype)


def _refuse_empty_reduction(x, ord: float, dim) -> None:
    """torch's error for a norm without an identity (a min or max) over nothing: the whole empty tensor, or the
    first empty dim of ``dim`` as given (torch's message lacks the space after it)."""
    dims = () if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {ord:g} norm on an empty tensor because the operation does not "
            "have an identity"
        )
    for d in dims:
        if x.shape[normalize_dim(d, x.dim())] == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {ord:g} norm on the dimension {d}because this dimension is "
                "empty and the operation does not have an identity"
            )


@out_variant("linalg_matrix_power")
def matrix_power(A, n: int, *, out=None):
    """A^n for square matrices (batched), torch.linalg.matrix_power: repeated squaring with matmul; n < 0
    inverts first (LinAlgError if singular), n == 0 gives identities."""
    _check_power(A)
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}")
    if n == 0:
        # as torch: identities copied into a clone of A, so the result is A's (zero-gradient) descendant
        identity = creation.eye(A.shape[-1], dtype=A.dtype, device=A.device)
        return A.clone().copy_(identity.expand_as(A))
    base, result = (inv(A) if n < 0 else A), None
    n = abs(n)
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return A.clone() if result is A else result  # (A^1 is a new tensor, never A itself)


def _check_power(A) -> None:
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"linalg.matrix_power: A must be batches of square matrices, but they are {A.shape[-2]} by "
            f"{A.shape[-1]} matrices"
        )


@autocast_op("multi_dot")
@out_variant("linalg_multi_dot")
def multi_dot(tensors, *, out=None):
    """The product of a chain of matrices (the first may be a vector, and the last), torch.linalg.multi_dot,
    multiplied left to right (torch picks the cheapest order; the result is the same up to rounding)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for position, (tensor, where) in enumerate(zip(tensors, ("first", *[None] * (len(tensors) - 2), "last"))):
        if where is not None and tensor.dim() not in (1, 2):
            raise RuntimeError(f"multi_dot(): the {where} tensor must be 1D or 2D but got {tensor.dim()}D")
        if where is None and tensor.dim() != 2:
            raise RuntimeError(f"multi_dot(): tensor {position} must be 2D but got {tensor.dim()}D")
    for position, tensor in enumerate(tensors[1:], 1):  # (every dtype, then every shape, as torch's)
        if tensor.dtype != tensors[0].dtype:
            raise RuntimeError(
                "multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                f"{type_meta_name(tensors[0].dtype)} and tensor {position} {type_meta_name(tensor.dtype)}"
            )
    for position, (left, right) in enumerate(zip(tensors, tensors[1:]), 1):
        if left.shape[-1] != right.shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {position - 1} and {position} with shapes {list(left.shape)} and "
                f"{list(right.shape)} cannot be multiplied"
            )
    result = tensors[0]
    for t in tensors[1:]:
        result = result @ t
    return result


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """torch.linalg.diagonal: torch.diagonal with the matrix dims last by default (a view)."""
    return A.diagonal(offset, dim1, dim2)


def vander(x, *, N=None):
    """The Vandermonde matrices of x's last dim, torch.linalg.vander: columns x^0 .. x^(N-1) (N defaults to
    x.size(-1)), as torch: ones, then a cumulative product of x repeated N - 1 times."""
    if x.dtype in (torch.bool, torch.float16, torch.bfloat16):
        raise RuntimeError(
            f"linalg.vander supports floating point, complex, and integer tensors, but got {dtype_word(x.dtype)}"
        )
    n = x.shape[-1] if N is None and x.dim() else (N if N is not None else 1)
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    x = x.unsqueeze(-1)
    powers = x.expand(*x.shape[:-1], n - 1).cumprod(-1)
    return _cat([x * 0 + 1, powers], -1)
