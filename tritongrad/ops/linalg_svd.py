"""The singular value decomposition (torch.linalg.svd, svdvals, torch.svd) on kernels/linalg_svd.py,
and what is built on it with tritongrad ops: pinv, matrix_rank, matrix_norm (and linalg.norm's
matrix orders, and torch.norm's / Tensor.norm's: see norm), cond, lstsq.

svd's backward is torch's svd_backward (real case), with k = min(m, n), S2 = S * S and
E[j, l] = S2[l] - S2[j] off the diagonal (1 on it):

    inner = (skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS),   skew(X) = X - X^T
    gA = U inner V^T (+ (I - U U^T) gU S^-1 V^T when m > n, + U S^-1 gV^T (I - V V^T) when m < n)

It assumes distinct singular values (and, for a rectangular A with gU or gV, a full-rank one), as
torch's does; singular vectors are unique only up to sign, so a loss must not depend on their signs
for its gradient to mean anything (torch does not check this for real inputs either). With
full_matrices, only U's first k columns and V^T's first k rows carry gradient (torch's rule).

svdvals (no gU, gV) differentiates as U diag(gS) V^T, with no 1 / E terms: finite at repeated or
zero singular values. pinv has its own closed-form gradient in A and pinv(A) (Pinv below).

A NaN in A is torch's LinAlgError ("linalg.svd: The algorithm failed to converge because the input
matrix contained non-finite values."), for svd and everything built on it here; it is raised through
kernels/device_checks.py (at the call in the interpreter, at the next readback on a GPU). An
infinity gives NaN factors, as torch's.

Sides up to 64 (kernels/linalg_factor.MAX_SIZE).
"""

from __future__ import annotations

import math
from functools import partial

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.dtypes import dtype_word
from tritongrad.kernels import linalg_svd as kernels
from tritongrad.kernels.device_checks import check_on_device
from tritongrad.kernels.linalg_factor import check_size
from tritongrad.kernels.strided import broadcast_shapes
from tritongrad.ops import arithmetic
from tritongrad.ops import shape as shape_ops
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.indexing import cat
from tritongrad.ops.linalg_factor import LinAlgError, check_matrices, flat, inv_ex, unflat
from tritongrad.ops.linalg_spectral import eigh, eigvalsh
from tritongrad.ops.out_argument import out_variant
from tritongrad.ops.reduction import norm as _vector_norm
from tritongrad.ops.return_types import _return_type
from tritongrad.shapes import normalize_dim
from tritongrad.tensor import Tensor, attach_methods

__all__ = [
    "linalg_svd", "svdvals", "svd", "pinv", "pinverse", "matrix_rank", "matrix_norm", "linalg_norm", "cond",
    "lstsq", "eig", "eigvals", "norm",
]  # fmt: skip

svd_result = _return_type("linalg_svd", ("U", "S", "Vh"))
svd_legacy_result = _return_type("svd", ("U", "S", "V"))
lstsq_result = _return_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))

# torch's epsilon of a dtype for default tolerances (machine epsilon, _get_epsilon in its sources)
_EPSILON = {torch.float32: 2.0**-23, torch.float64: 2.0**-52}


# -------------------------------------------------------------------------------------------- svd


class SVD(Function):
    _backward_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, A, full_matrices, with_uv):
        batch, m, n = tuple(A.shape[:-2]), A.shape[-2], A.shape[-1]
        k = min(m, n)
        u, s, vh, info = kernels.launch_svd(flat(A), with_uv=with_uv, full_matrices=full_matrices)
        check_on_device(info, partial(_refuse_nan, batched=len(batch) > 0))
        s = unflat(s, batch, k)
        ctx.set_materialize_grads(False)  # an unused U or V must not bring its 1 / (S_j^2 - S_i^2) terms
        ctx.shape = (m, n, k)
        if not with_uv:
            ctx.save_for_backward(s)
            return s
        u, vh = unflat(u, batch, m, u.shape[2]), unflat(vh, batch, vh.shape[1], n)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, grad_u, grad_s=None, grad_vh=None):
        if len(ctx.saved_tensors) == 1:
            raise RuntimeError("tritongrad: svd was computed without U and V, which its backward needs")
        u, s, vh = ctx.saved_tensors
        m, n, k = ctx.shape
        if k == 0:
            return creation.zeros(u.shape[:-2] + (m, n), dtype=s.dtype, device=s.device), None, None
        u, vh = u[..., :k], vh[..., :k, :]
        grad_u = grad_u[..., :k] if grad_u is not None else None
        grad_vh = grad_vh[..., :k, :] if grad_vh is not None else None
        if grad_u is None and grad_vh is None:  # svdvals: gA = U diag(gS) V^T
            if grad_s is None:
                return None, None, None
            return u @ (grad_s.unsqueeze(-1) * vh), None, None
        s2 = s * s
        eye = shape_ops.diag_embed(s * 0 + 1)
        gap = s2.unsqueeze(-2) - s2.unsqueeze(-1) + eye  # gap[j, l] = S2[l] - S2[j], 1 on the diagonal
        inner = 0
        if grad_u is not None:
            utg = u.mT @ grad_u
            inner = (utg - utg.mT) * s.unsqueeze(-2)
        if grad_vh is not None:
            vtg = vh @ grad_vh.mT
            inner = inner + s.unsqueeze(-1) * (vtg - vtg.mT)
        inner = inner / gap
        if grad_s is not None:
            inner = inner + shape_ops.diag_embed(grad_s)
        if m > n and grad_u is not None:
            scaled = grad_u / s.unsqueeze(-2)
            return (u @ inner + scaled - u @ (u.mT @ scaled)) @ vh, None, None
        if m < n and grad_vh is not None:
            scaled = grad_vh / s.unsqueeze(-1)
            return u @ (inner @ vh + scaled - (scaled @ vh.mT) @ vh), None, None
        return u @ inner @ vh, None, None


def _refuse_nan(found: list, *, batched: bool) -> None:
    """torch's error for a matrix with a NaN (gesdd fails on it; an infinity gives NaN values)."""
    for index, code in enumerate(found):
        if code:
            at = f"(Batch element {index}): " if batched else ""
            raise LinAlgError(
                f"linalg.svd: {at}The algorithm failed to converge because the input matrix contained non-finite "
                "values."
            )


def _check_svd(name: str, A) -> None:
    check_matrices(name, A, square=False, half_kernel="linalg_svd_cpu")
    check_size(name, A.shape[-2], A.shape[-1])


@autocast_op("svd")
@out_variant("linalg_svd")
def linalg_svd(A, full_matrices: bool = True, *, driver=None, out=None):
    """(U, S, Vh) with A = U diag(S) Vh, torch.linalg.svd: S descending; U m x m and Vh n x n with
    ``full_matrices``, else m x k and k x n (k = min(m, n)). One-sided Jacobi: singular vectors are
    unique up to sign only (they may differ from torch's by a sign per pair)."""
    _check_svd("linalg.svd", A)
    if driver is not None:
        raise RuntimeError(
            "torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with cuSOLVER backend."
        )
    return svd_result(*SVD.apply(A, bool(full_matrices), True))


@autocast_op("svdvals")
@out_variant("linalg_svdvals")
def svdvals(A, *, driver=None, out=None):
    """The singular values of A, descending, torch.linalg.svdvals (its gradient needs U and V, which
    are then computed too)."""
    _check_svd("linalg.svd", A)
    if A.requires_grad:
        return SVD.apply(A, False, True)[1]
    return SVD.apply(A, False, False)


@autocast_op("svd")
@out_variant("svd")
def svd(input, some: bool = True, compute_uv: bool = True, *, out=None):
    """torch.svd / Tensor.svd: (U, S, V) with input = U diag(S) V^T (V, not V^T); ``some`` gives the
    reduced factors; without ``compute_uv``, U and V are zero-filled m x m and n x n matrices."""
    _check_svd("linalg.svd", input)
    if not compute_uv:
        m, n = input.shape[-2], input.shape[-1]
        batch = tuple(input.shape[:-2])
        zeros = lambda side: creation.zeros(batch + (side, side), dtype=input.dtype, device=input.device)  # noqa: E731
        return svd_legacy_result(zeros(m), svdvals(input), zeros(n))
    U, S, Vh = linalg_svd(input, full_matrices=not some)
    return svd_legacy_result(U, S, Vh.mT)


@autocast_op("eig")
def eig(A, *, out=None):
    _check_eig_dtype(A)
    raise NotImplementedError(
        "tritongrad.linalg.eig: eigenvalues of a general matrix are complex, and tritongrad has no complex "
        "dtype; use linalg.eigh for symmetric matrices or linalg.svd"
    )


def _check_eig_dtype(A) -> None:
    """torch's refusals of the dtypes eig has no complex counterpart or kernel for, before tritongrad's own."""
    if isinstance(A, Tensor) and not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"Unknown Complex ScalarType for {dtype_word(A.dtype)}")
    if isinstance(A, Tensor) and A.dtype in (torch.float16, torch.bfloat16):
        raise NotImplementedError(f"\"linalg_eig_out_cpu\" not implemented for '{dtype_word(A.dtype)}'")


@autocast_op("eigvals")
def eigvals(A, *, out=None):
    _check_eig_dtype(A)
    raise NotImplementedError(
        "tritongrad.linalg.eigvals: eigenvalues of a general matrix are complex, and tritongrad has no complex "
        "dtype; use linalg.eigvalsh for symmetric matrices or linalg.svdvals"
    )


# ----------------------------------------------------------------------------- pinv, matrix_rank


def _tolerance(A, largest, atol, rtol):
    """torch's max(atol, rtol * largest) per matrix (largest: (..., 1)); rtol defaults to eps * max(m, n),
    or to 0 where an atol > 0 is given."""
    default_rtol = _EPSILON[A.dtype] * max(A.shape[-1], A.shape[-2])
    if rtol is None:
        if atol is None:
            rtol = default_rtol
        elif isinstance(atol, Tensor):
            rtol = arithmetic.where(atol > 0, 0.0, default_rtol)
        else:
            rtol = 0.0 if atol > 0 else default_rtol
    tol = largest * (rtol.unsqueeze(-1) if isinstance(rtol, Tensor) else rtol)
    if atol is None:
        return tol
    if isinstance(atol, Tensor):
        return tol.clamp_min(atol.unsqueeze(-1))  # (clamp_min takes a tensor bound: torch's maximum)
    return tol.clamp_min(atol)


def _check_floating(name: str, A) -> None:
    if not isinstance(A, Tensor) or A.dim() < 2 or A.dtype not in (torch.float32, torch.float64):
        what = f"{dtype_word(A.dtype)}{{{list(A.shape)}}}" if isinstance(A, Tensor) else type(A).__name__
        raise RuntimeError(
            f"{name}({what}): expected a tensor with 2 or more dimensions of float, double, cfloat or cdouble types"
        )


@out_variant("linalg_pinv")
def pinv(A, rcond=None, hermitian: bool = False, *, atol=None, rtol=None, out=None):
    """The pseudo-inverse of each matrix of A, torch.linalg.pinv: V diag(1/S) U^T over the singular
    values above max(atol, rtol * S_max) (rtol: eps * max(m, n) unless atol > 0 is given); with
    ``hermitian``, from eigh (|eigenvalues|). ``rcond`` is the older name of rtol."""
    _check_floating("linalg.pinv", A)
    _refuse_both_tolerances("linalg_pinv", "rcond", rcond, hermitian, atol, rtol)
    if rcond is not None:
        rtol = rcond
    m, n = A.shape[-2], A.shape[-1]
    if A.numel() == 0:
        return creation.zeros(tuple(A.shape[:-2]) + (n, m), dtype=A.dtype, device=A.device)
    return Pinv.apply(A, bool(hermitian), atol, rtol)


class Pinv(Function):
    """X = pinv(A) from the SVD (eigh when hermitian); its gradient is the closed form in A and X
    (torch's pinv_backward), smooth wherever the rank is locally constant, so a repeated singular
    value is harmless there (the SVD's own backward would divide by S_j^2 - S_i^2 = 0):

        gA = -X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A)
    """

    _backward_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, A, hermitian, atol, rtol):
        if hermitian:
            w, v = eigh(A)
            magnitude = w.abs()
            keep = magnitude > _tolerance(A, magnitude.amax(-1, keepdim=True), atol, rtol)
            inverse = arithmetic.where(keep, 1 / arithmetic.where(keep, w, 1.0), 0.0)
            X = (v * inverse.unsqueeze(-2)) @ v.mT
        else:
            U, S, Vh = linalg_svd(A, full_matrices=False)
            keep = S > _tolerance(A, S[..., :1], atol, rtol)
            inverse = arithmetic.where(keep, 1 / arithmetic.where(keep, S, 1.0), 0.0)
            X = (Vh.mT * inverse.unsqueeze(-2)) @ U.mT
        ctx.save_for_backward(A, X)
        return X

    @staticmethod
    def backward(ctx, grad):
        A, X = ctx.saved_tensors
        X_t, grad_t = X.mT, grad.mT
        first = -(X_t @ grad @ X_t)
        # (I - A X) G^T X X^T and X^T X G^T (I - X A), with the products kept to m x n and n x n / m x m
        left = grad_t @ (X @ X_t)
        right = (X_t @ X) @ grad_t
        grad_a = first + (left - A @ (X @ left)) + (right - (right @ X) @ A)
        return grad_a, None, None, None


@autocast_op("pinverse")
def _refuse_both_tolerances(name: str, old_name: str, old, hermitian, atol, rtol) -> None:
    """torch's argument parser has no overload taking the older single tolerance (pinv's rcond, matrix_rank's
    tol) together with atol or rtol: its TypeError, naming what was given."""
    if old is None or (atol is None and rtol is None):
        return
    given = {old_name: old, "hermitian": hermitian or None, "atol": atol, "rtol": rtol}
    got = ", ".join(f"{key}={type(value).__name__}" for key, value in given.items() if value is not None)
    raise TypeError(
        f"{name}() received an invalid combination of arguments - got (Tensor, {got}), but expected one of:\n"
        " * (Tensor input, *, Tensor atol = None, Tensor rtol = None, bool hermitian = False, Tensor out = None)\n"
        " * (Tensor input, *, float atol = None, float rtol = None, bool hermitian = False, Tensor out = None)\n"
        f" * (Tensor input, Tensor {old_name}, bool hermitian = False, *, Tensor out = None)\n"
        f" * (Tensor input, float {old_name}, bool hermitian = False, *, Tensor out = None)\n"
    )


def pinverse(input, rcond: float = 1e-15):
    """torch.pinverse / Tensor.pinverse: linalg.pinv with rtol = rcond."""
    return pinv(input, rtol=rcond)


@autocast_op("matrix_rank")
@out_variant("linalg_matrix_rank")
def matrix_rank(A, tol=None, hermitian: bool = False, *, atol=None, rtol=None, out=None):
    """The number of singular values (|eigenvalues| with ``hermitian``) above max(atol, rtol * S_max),
    torch.linalg.matrix_rank (int64). ``tol`` is the older name of atol."""
    if not isinstance(A, Tensor) or A.dim() < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    if A.dtype not in (torch.float32, torch.float64):
        raise RuntimeError("This function doesn't handle types other than float and double")
    _refuse_both_tolerances("linalg_matrix_rank", "tol", tol, hermitian, atol, rtol)
    if tol is not None:
        atol, rtol = tol, 0.0 if rtol is None else rtol
    if A.shape[-1] * A.shape[-2] == 0:
        return creation.zeros(tuple(A.shape[:-2]), dtype=torch.int64, device=A.device)
    values = eigvalsh(A).abs() if hermitian else svdvals(A)
    largest = values.amax(-1, keepdim=True)
    return (values > _tolerance(A, largest, atol, rtol)).sum(-1)


# ---------------------------------------------------------------------------------- matrix norms

_MATRIX_ORDS = ("fro", "nuc", 2, -2, 1, -1, float("inf"), float("-inf"))


def _matrix_dims(A, dim) -> tuple[int, int]:
    if not (isinstance(dim, (tuple, list)) and len(dim) == 2):
        shown = dim if isinstance(dim, int) else " ".join(str(d) for d in dim)  # (torch's "Got 0 1 2")
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {shown}")
    d0, d1 = (normalize_dim(d, A.dim()) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


@autocast_op("matrix_norm")
@out_variant("linalg_matrix_norm")
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None, out=None):
    """The ``ord``-norm of each matrix of A over ``dim``, torch.linalg.matrix_norm: 'fro', 'nuc' (sum of
    singular values), 2 / -2 (largest / smallest singular value), 1 / -1 (max / min column abs-sum),
    inf / -inf (max / min row abs-sum)."""
    if not isinstance(A, Tensor) or A.dim() < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if not A.dtype.is_floating_point:
        raise RuntimeError(
            f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got {dtype_word(A.dtype)}"
        )
    if ord not in _MATRIX_ORDS:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if ord in ("nuc", 2, -2) and A.dtype in (torch.float16, torch.bfloat16):  # (the orders that need the SVD)
        raise RuntimeError(f"linalg.matrix_norm: Low precision dtypes not supported. Got {dtype_word(A.dtype)}")
    d0, d1 = _matrix_dims(A, dim)
    if dtype is not None:
        A = A.to(dtype)
    # torch's 0 for the norms of an empty matrix it defines (-1 and -inf reach amin's error where they take the
    # minimum over an empty dim, -2 always, as torch's)
    if A.shape[d0] * A.shape[d1] == 0 and ord in ("nuc", 2, 1, float("inf")):
        return A.abs().sum((d0, d1), keepdim=keepdim)
    if ord == "fro":
        return _vector_norm(A, 2, dim=(d0, d1), keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        values = svdvals(shape_ops.movedim(A, (d0, d1), (-2, -1)))
        result = values.sum(-1) if ord == "nuc" else values.amax(-1) if ord == 2 else values.amin(-1)
        if keepdim:
            for d in sorted((d0, d1)):
                result = result.unsqueeze(d)
        return result
    # 1 / -1: abs-sums over rows (dim 0), then max / min over columns; inf / -inf the other way round
    summed, picked = (d0, d1) if ord in (1, -1) else (d1, d0)
    sums = A.abs().sum(summed, keepdim=keepdim)
    if not keepdim and summed < picked:
        picked -= 1
    return sums.amax(picked, keepdim=keepdim) if ord > 0 else sums.amin(picked, keepdim=keepdim)


def norm(input, p="fro", dim=None, keepdim: bool = False, out=None, dtype=None):
    """torch.norm and Tensor.norm, as torch's Python torch.norm dispatches: a string ``p`` other than 'fro' over
    at most two dims ('nuc', ...) is the matrix norm (linalg.matrix_norm) over ``dim`` (every dim when None,
    so a 2-D input's; any other number of dims is matrix_norm's error); the rest is reduction.norm's vector
    norm ('fro' as 2)."""
    if isinstance(p, str) and not (p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2)):
        dims = list(range(input.dim())) if dim is None else [dim] if isinstance(dim, int) else dim
        return matrix_norm(input, p, dims, keepdim, dtype=dtype, out=out)
    return _vector_norm(input, p, dim, keepdim, out=out, dtype=dtype)


@out_variant("linalg_norm")
def linalg_norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None, out=None):
    """torch.linalg.norm: a matrix norm (matrix_norm) for a string ``ord``, or a numeric one with a 2-tuple
    ``dim`` (or a 2-D A without dim); else the vector norm (ord=None: the 2-norm of all elements)."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        if len(dim) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    elif ord is not None and A.dim() not in (1, 2):
        raise RuntimeError(
            f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.dim()}D."
        )
    if isinstance(ord, str):
        return matrix_norm(A, ord, dim if dim is not None else (0, 1), keepdim, dtype=dtype)
    if ord is not None and ((dim is not None and len(dim) == 2) or (dim is None and A.dim() == 2)):
        return matrix_norm(A, ord, dim if dim is not None else (0, 1), keepdim, dtype=dtype)
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {dtype_word(A.dtype)}"
        )
    return _vector_norm(A, 2 if ord is None else ord, dim=dim, keepdim=keepdim, dtype=dtype)


@autocast_op("cond")
@out_variant("linalg_cond")
def cond(A, p=None, *, out=None):
    """The condition number of each matrix of A in the ``p``-norm, torch.linalg.cond: S_max / S_min for
    p None or 2 (any shape; -2: the inverse ratio; a NaN in A is svd's LinAlgError), else
    ||A||_p ||A^-1||_p for square A (inf where A is singular or the product is NaN)."""
    if p not in (None,) + _MATRIX_ORDS:
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    name = f"linalg.cond(ord={p})" if p is not None else "linalg.cond"
    if not isinstance(A, Tensor):
        check_matrices(name, A)
    if A.dim() < 2:
        if p in ("fro", "nuc"):
            raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if p in (1, -1, math.inf, -math.inf) and A.shape[-1] * A.shape[-2] == 0:  # (torch's 0, of any shape)
        return creation.zeros(tuple(A.shape[:-2]), dtype=A.dtype, device=A.device)
    if p not in (None, 2, -2) and A.shape[-1] != A.shape[-2]:
        check_matrices(name, A)
    # the dtype errors are those of the kernel each order reaches (torch's cond checks none itself)
    if p in (None, 2, -2, "nuc"):
        check_matrices("linalg.svd", A, square=False, half_kernel="linalg_svd_cpu")
    else:
        check_matrices("linalg.inv", A, square=False)
    if p in (None, 2, -2):
        values = svdvals(A)
        if values.shape[-1] == 0:
            return values.sum(-1)
        largest, smallest = values[..., 0], values[..., -1]
        return largest / smallest if p != -2 else smallest / largest
    inverse, info = inv_ex(A)
    ratio = matrix_norm(A, p) * matrix_norm(inverse, p)
    # torch's: inf for a singular A, and NaN (a NaN in A, or 0 * inf) read as inf
    return arithmetic.where(info > 0, math.inf, ratio).nan_to_num(math.inf, math.inf, -math.inf)


# ------------------------------------------------------------------------------------------ lstsq

_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


@autocast_op("lstsq")
def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of A X = B (minimum-norm where A is rank deficient), torch.linalg.lstsq,
    as (solution, residuals, rank, singular_values). X = pinv(A) B from the SVD, with singular values
    below rcond * S_max (default eps * max(m, n)) dropped; this matches torch's drivers on full-rank A
    (and gelsd/gelss on rank-deficient A up to their rank decisions). gels ignores rcond; gelsy (the default)
    decides the rank on the QR of A's columns in order (see _gelsy) where that can differ from the SVD's, and
    every driver's solution differentiates as the SVD's, torch's pinv(A) B. Which fields are filled
    follows the driver, as torch's: residuals (||A X - B||^2 per column) for gels, gelsd, gelss when
    m > n and A has full rank; rank except for gels; singular values for gelsd, gelss."""
    if driver is None:
        driver = "gelsy"
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if A.dtype not in (torch.float32, torch.float64) or B.dtype not in (torch.float32, torch.float64):
        raise RuntimeError("This function doesn't handle types other than float and double")
    if A.dtype != B.dtype:
        raise RuntimeError(
            "torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's dtype "
            f"{dtype_word(A.dtype)} and other's dtype {dtype_word(B.dtype)}"
        )
    if A.dim() < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    vector = B.dim() == A.dim() - 1
    if not 0 <= A.dim() - B.dim() <= 1:
        raise RuntimeError(
            "torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
            "(input.dim() - other.dim()) <= 1"
        )
    # torch compares the rows with B's last dim only where B is exactly a batch of vectors for A, else with its
    # second last; then B is a batch of vectors whenever it has one dim fewer, and the batches must broadcast
    exact_vector = vector and tuple(B.shape) == tuple(A.shape[:-1])
    compared = -1 if exact_vector or B.dim() < 2 else -2
    if A.shape[-2] != B.shape[compared]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size({compared})")
    rhs = B.unsqueeze(-1) if vector else B
    broadcast_shapes(tuple(A.shape[:-2]), tuple(rhs.shape[:-2]))
    m, n = A.shape[-2], A.shape[-1]
    batch = tuple(A.shape[:-2])
    if rcond is None:
        rcond = _EPSILON[A.dtype] * max(m, n)
    k = min(m, n)
    if k:
        U, S, Vh = linalg_svd(A, full_matrices=False)
        # gels assumes full rank and ignores rcond (every nonzero singular value is kept)
        keep = S > S[..., :1] * (0.0 if driver == "gels" else rcond)
        inverse = arithmetic.where(keep, 1 / arithmetic.where(keep, S, 1.0), 0.0)
        X = (Vh.mT * inverse.unsqueeze(-2)) @ (U.mT @ rhs)
        rank = keep.sum(-1)
        # gelsy decides the rank on a column-pivoted QR, not on the singular values: where that can differ
        # (a rank-deficient or wide A; for m >= n a full-rank A is full rank for gelsy too), it is redone so
        if driver == "gelsy" and (m < n or not bool((rank == k).all())):
            # (the gradient stays the SVD solution's: torch differentiates every driver's solution as pinv(A) B)
            truncated, rank = _gelsy(A.detach(), rhs.detach(), rcond)
            X = X + (truncated - X).detach()
    else:
        S = creation.zeros(batch + (0,), dtype=A.dtype, device=A.device)
        X = creation.zeros(batch + (n, rhs.shape[-1]), dtype=A.dtype, device=A.device) + 0 * rhs.sum(-2, keepdim=True)
        rank = creation.zeros(batch, dtype=torch.int64, device=A.device)
    empty = creation.empty((0,), dtype=A.dtype, device=A.device)
    residuals = empty
    if driver != "gelsy" and m > n and (driver == "gels" or bool((rank == n).all())):
        residuals = ((A @ X - rhs) ** 2).sum(-2)
        residuals = residuals.squeeze(-1) if vector else residuals
    if driver == "gels":
        rank = creation.empty((0,), dtype=torch.int64, device=A.device)
    singular_values = S if driver in ("gelsd", "gelss") else empty
    return lstsq_result(X.squeeze(-1) if vector else X, residuals, rank, singular_values)


def _leading_basis(A) -> Tensor:
    """Q (*, m, k), k = min(m, n): orthonormal columns with Q[:, :j] spanning A's first j columns (Gram-Schmidt,
    each column projected twice, against roundoff; a dependent column gives a zero one), batched and
    differentiable."""
    columns = []
    for j in range(min(A.shape[-2], A.shape[-1])):
        column = A[..., j : j + 1]
        for _ in range(2):
            for q in columns:
                column = column - q @ (q.mT @ column)
        length = (column * column).sum(-2, keepdim=True).sqrt()
        columns.append(column / arithmetic.where(length == 0, 1.0, length))
    return cat(columns, -1)


def _gelsy(A, rhs, rcond: float):
    """(X, rank) as torch's gelsy: the rank r is the largest for which the leading r x r block of R (A = Q R)
    has condition number at most 1 / rcond (LAPACK estimates it incrementally, here it is exact), and X is the
    minimum-norm solution for A projected onto its first r columns, Q1 Q1^T A. torch 2.13's gelsy leaves the
    columns in their order (its pivot array marks them fixed), so the QR is not pivoted here either."""
    Q = _leading_basis(A)
    R = Q.mT @ A
    k, batch = Q.shape[-1], tuple(A.shape[:-2])

    def conditioned(r: int):  # (whether each leading r x r block passes)
        values = svdvals(R.detach()[..., :r, :r])
        return (values[..., 0] > 0) & (values[..., 0] * rcond <= values[..., -1])

    # a leading block of a triangular matrix is no worse conditioned than the whole, so where the k x k block
    # passes, every block does (one SVD, one read back); else block by block
    if bool(conditioned(k).all()):
        rank = creation.full(batch, k, dtype=torch.int64, device=A.device)
    else:
        rank = creation.zeros(batch, dtype=torch.int64, device=A.device)
        going = creation.ones(batch, dtype=torch.bool, device=A.device)
        for r in range(1, k + 1):
            going = going & conditioned(r)
            rank = rank + going.to(torch.int64)
    kept = (creation.arange(k, device=A.device) < rank.unsqueeze(-1)).to(A.dtype)
    U, S, Vh = linalg_svd(R * kept.unsqueeze(-1), full_matrices=False)  # Q1^T A: the rows past the rank zeroed
    inverse = arithmetic.where(kept > 0, 1 / arithmetic.where(kept > 0, S, 1.0), 0.0)
    return (Vh.mT * inverse.unsqueeze(-2)) @ (U.mT @ ((Q * kept.unsqueeze(-2)).mT @ rhs)), rank


attach_methods({"svd": svd, "pinverse": pinverse})
attach_methods({"norm": norm})
