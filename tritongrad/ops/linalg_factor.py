"""LU, Cholesky and triangular solves (torch.linalg's core) on kernels/linalg_factor.py.

Each op is a Function whose forward runs one factor/solve kernel over the batch flattened to
(B, n, n) (a view where the batch dims allow it, else one copy kernel) and whose backward is
written with tritongrad ops (itself differentiable, so higher derivatives follow):

- det: gA = g det A^-T; slogdet: gA = g_logabsdet A^-T; inv: gA = -X^T G X^T (X = A^-1);
- solve (A X = B): gB = A^-T G (another solve), gA = -gB X^T;
- solve_triangular: the same, with gA kept to A's triangle (strictly, when unitriangular);
- cholesky (A = L L^T): gA = sym(L^-T Phi(L^T gL) L^-1), Phi = the lower triangle, halved
  diagonal (Murray, 2016), with two triangular solves.

Errors are torch's: ``LinAlgError`` (torch's own class, a RuntimeError) when a matrix is singular
or not positive-definite, which costs one read of the per-matrix info back to the host (as in
torch); the ``_ex`` variants return the info instead and read nothing back. lu_factor's refusal of
a zero pivot (torch's plain RuntimeError) goes through kernels/device_checks.py instead: at the
call in the interpreter, at the next readback on a GPU.

NaN and infinities flow as in LAPACK: the pivot search is idamax's (a NaN pivot in row k is kept,
one below is never picked), and every update is masked to the entries it changes, so 0 * inf never
reaches a component that does not depend on it (a triangular solve's zero diagonal element makes
its own component and those computed from it infinite or NaN, nothing else).

The gradients assume invertible (positive-definite) inputs; torch's special handling of
singular matrices in det's backward is not reproduced.
"""

from __future__ import annotations

import math
from functools import partial

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import dtype_word
from tritongrad.kernels import linalg_factor as kernels
from tritongrad.kernels.device_checks import check_on_device
from tritongrad.kernels.strided import broadcast_shapes
from tritongrad.ops import arithmetic
from tritongrad.ops import shape as shape_ops
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.out_argument import check_no_grad, out_variant, write_out
from tritongrad.ops.return_types import _return_type
from tritongrad.tensor import Tensor, attach_methods

__all__ = [
    "LinAlgError", "det", "slogdet", "logdet", "inv", "inv_ex", "inverse", "solve", "solve_ex", "lu_factor",
    "lu_factor_ex", "cholesky", "cholesky_ex", "cholesky_solve", "cholesky_inverse", "solve_triangular",
    "linalg_cholesky",
]  # fmt: skip

LinAlgError = torch.linalg.LinAlgError  # torch's class: `except torch.linalg.LinAlgError` catches both

slogdet_result = _return_type("linalg_slogdet", ("sign", "logabsdet"))
slogdet_legacy_result = _return_type("slogdet", ("sign", "logabsdet"))
lu_factor_result = _return_type("linalg_lu_factor", ("LU", "pivots"))
lu_factor_ex_result = _return_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))
inv_ex_result = _return_type("linalg_inv_ex", ("inverse", "info"))
solve_ex_result = _return_type("linalg_solve_ex", ("result", "info"))
cholesky_ex_result = _return_type("linalg_cholesky_ex", ("L", "info"))

_wrap = Tensor._wrap


# --------------------------------------------------------------------------------- checks, shapes


def check_matrices(name: str, A, *, square: bool = True, half_kernel: str | None = None, what: str = "A",
                   kernel_dtypes: bool = False) -> None:  # fmt: skip
    """torch's checks of a linalg input: a Tensor of at least 2 dims, floating (half types refused:
    by the CPU kernel's name ``half_kernel`` when given, else as low precision), square batches.
    ``kernel_dtypes``: torch checks no dtype before its kernel's dispatch (eigh, lu_factor,
    solve_triangular), so integers and bools are that kernel's NotImplementedError too."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument '{what}' (position 1) must be Tensor, not {type(A).__name__}")
    if A.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor {what} must have at least 2 dimensions.")
    if kernel_dtypes and A.dtype not in (torch.float32, torch.float64):
        raise NotImplementedError(f"\"{half_kernel}\" not implemented for '{dtype_word(A.dtype)}'")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {dtype_word(A.dtype)}")
    if A.dtype in (torch.float16, torch.bfloat16):
        if half_kernel is not None:
            raise NotImplementedError(f"\"{half_kernel}\" not implemented for '{dtype_word(A.dtype)}'")
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {dtype_word(A.dtype)}")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{name}: {what} must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} matrices"
        )


def flat(t) -> torch.Tensor:
    """A tensor's buffer as a (B, rows, cols) batch: a view when its batch dims allow, else a copy kernel."""
    rows, cols = t.shape[-2], t.shape[-1]
    if t.dim() == 2:
        return t._data.unsqueeze(0)
    return t.reshape(math.prod(t.shape[:-2]), rows, cols)._data


def unflat(data: torch.Tensor, batch: tuple, *tail: int) -> Tensor:
    return _wrap(data.view(tuple(batch) + tail))


def raise_for_info(info: torch.Tensor, message) -> None:
    """Reads the per-matrix info back and raises LinAlgError for the first failed matrix (torch names its
    flat batch index when the input is batched): ``message(code)`` is the text after the prefix."""
    codes = info.reshape(-1).tolist()
    for index, code in enumerate(codes):
        if code:
            batch = f"(Batch element {index}): " if info.dim() else ""
            raise LinAlgError(message(code, batch))


# ------------------------------------------------------------------------------ det, slogdet, inv


class Det(Function):
    _backward_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, A):
        batch = tuple(A.shape[:-2])
        det = kernels.launch_lu_factor(flat(A), with_det=True)[3]
        det = unflat(det, batch)
        ctx.save_for_backward(A, det)
        return det

    @staticmethod
    def backward(ctx, grad):
        A, det = ctx.saved_tensors
        scale = (grad * det).unsqueeze(-1).unsqueeze(-1)
        if is_grad_enabled():  # create_graph: the composed, differentiable form (A must be invertible)
            return scale * inv(A).mT
        # torch's value at a singular A is 0 (det * its LU solve), where inv would raise
        inverse = inv_ex(A)[0]
        return arithmetic.where(scale == 0, 0.0, scale * inverse.mT)


class SlogDet(Function):
    _backward_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, A):
        batch = tuple(A.shape[:-2])
        _, _, _, _, sign, logabs = kernels.launch_lu_factor(flat(A), with_det=True)
        sign, logabs = unflat(sign, batch), unflat(logabs, batch)
        ctx.mark_non_differentiable(sign)
        ctx.save_for_backward(A)
        return sign, logabs

    @staticmethod
    def backward(ctx, grad_sign, grad_logabs):
        (A,) = ctx.saved_tensors
        # (at a singular A torch's LU solve gives infinities rather than raising: inv_ex's, un-checked)
        inverse = inv(A) if is_grad_enabled() else inv_ex(A)[0]
        return grad_logabs.unsqueeze(-1).unsqueeze(-1) * inverse.mT


def det(A, *, out=None):
    """The determinant of each square matrix of A (..., n, n), torch.linalg.det / torch.det: the product
    of U's diagonal of an LU factorization with partial pivoting, signed by the row swaps."""
    check_matrices("linalg.det", A, half_kernel="lu_cpu")
    kernels.check_size("linalg.det", A.shape[-1])
    return _maybe_out("linalg.det", Det.apply(A), out)


@out_variant("linalg_slogdet")
def slogdet(A, *, out=None):
    """(sign, logabsdet) of each square matrix of A: det = sign * exp(logabsdet), torch.linalg.slogdet."""
    check_matrices("linalg.slogdet", A)  # (torch refuses the half types before reaching its LU kernel)
    kernels.check_size("linalg.slogdet", A.shape[-1])
    sign, logabs = SlogDet.apply(A)
    return slogdet_result(sign, logabs)


@out_variant("slogdet")
def _legacy_slogdet(A):
    """torch.slogdet / Tensor.slogdet: linalg.slogdet under the older result name."""
    return slogdet_legacy_result(*slogdet(A))


def logdet(A):
    """log(det(A)): NaN where det < 0, -inf where det == 0 (torch.logdet): logabsdet where sign >= 0."""
    check_matrices("logdet", A)
    sign, logabs = slogdet(A)
    return arithmetic.where(sign < 0, math.nan, logabs)


class Inverse(Function):
    _backward_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, A, check: str):
        """``check``: the name a singular matrix's LinAlgError starts with ("" for none)."""
        batch, n = tuple(A.shape[:-2]), A.shape[-1]
        x, info = kernels.launch_lu_solve(flat(A), None)
        info = unflat(info, batch)
        if check:
            raise_for_info(
                info._data,
                lambda code, at: (
                    f"{check}: {at}The diagonal element {code} is zero, the inversion could not be "
                    "completed because the input matrix is singular."
                ),
            )
        x = unflat(x, batch, n, n)
        ctx.mark_non_differentiable(info)
        ctx.save_for_backward(x)
        return x, info

    @staticmethod
    def backward(ctx, grad, grad_info):
        (x,) = ctx.saved_tensors
        x_t = x.mT
        return -(x_t @ grad @ x_t), None


@autocast_op("inv_ex")
def inv_ex(A, *, check_errors: bool = False, out=None):
    """(inverse, info) of torch.linalg.inv_ex: info (int32, A's batch shape) is 0 where A is invertible,
    else the 1-based index of U's first zero diagonal element; raises only with ``check_errors``."""
    check_matrices("linalg.inv", A)
    kernels.check_size("linalg.inv", A.shape[-1])
    return inv_ex_result(*Inverse.apply(A, "linalg.inv_ex" if check_errors else ""))


@autocast_op("inv")
def inv(A, *, out=None):
    """The inverse of each square matrix of A (..., n, n), torch.linalg.inv; LinAlgError if one is singular."""
    return _maybe_out("linalg.inv", checked_inverse(A, "linalg.inv"), out)


def checked_inverse(A, name: str):
    """inv(A), a singular matrix's LinAlgError named ``name`` (tensorinv's is torch's ``inv``)."""
    check_matrices("linalg.inv", A)
    kernels.check_size("linalg.inv", A.shape[-1])
    return Inverse.apply(A, name)[0]


@autocast_op("inverse")
def inverse(input, *, out=None):
    """torch.inverse: linalg.inv."""
    return inv(input, out=out)


# ------------------------------------------------------------------------------------------ solve


class Solve(Function):
    """X with A X = B for A (..., n, n) and B (..., n, k) of the same batch shape."""

    _backward_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, A, B, check: str):
        """``check``: the name a singular matrix's LinAlgError starts with ("" for none)."""
        batch, n, k = tuple(A.shape[:-2]), A.shape[-1], B.shape[-1]
        x, info = kernels.launch_lu_solve(flat(A), flat(B))
        info = unflat(info, batch)
        if check:
            raise_for_info(
                info._data,
                lambda code, at: f"{check}: {at}The solver failed because the input matrix is singular.",
            )
        x = unflat(x, batch, n, k)
        ctx.mark_non_differentiable(info)
        ctx.save_for_backward(A, x)
        return x, info

    @staticmethod
    def backward(ctx, grad, grad_info):
        A, x = ctx.saved_tensors
        grad_b = Solve.apply(A.mT, grad, "")[0]
        grad_a = -(grad_b @ x.mT) if ctx.needs_input_grad[0] else None
        return grad_a, grad_b, None


def _solve(name: str, A, B, left: bool, check: str):
    # (the half types reach torch's LU kernel, which refuses them by name)
    check_matrices(name, A, half_kernel="lu_cpu")
    check_matrices(name, B, square=False, what="B", half_kernel="lu_cpu") if B.dim() >= 2 else _check_vector(name, B)
    if A.dtype != B.dtype:
        raise RuntimeError(
            f"{name}: Expected A and B to have the same dtype, but found A of type {dtype_word(A.dtype)} and B of "
            f"type {dtype_word(B.dtype)} instead"
        )
    kernels.check_size(name, A.shape[-1])
    vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if vector:
        B = B.unsqueeze(-1)
    if not left:  # X A = B  <=>  A^T X^T = B^T
        A, B = A.mT, B.mT
    n = A.shape[-1]
    if B.shape[-2] != n:
        b_shape = (B.shape[-2], B.shape[-1]) if left else (B.shape[-1], B.shape[-2])
        raise RuntimeError(
            f"{name}: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
            f"({n}x{n} and {b_shape[0]}x{b_shape[1]})"
        )
    batch = broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    A = A.expand(*batch, n, n)
    B = B.expand(*batch, n, B.shape[-1])
    x, info = Solve.apply(A, B, check)
    if not left:
        x = x.mT
    if vector:
        x = x.squeeze(-1)
    return x, info


def _check_vector(name: str, B) -> None:
    if not isinstance(B, Tensor):
        raise TypeError(f"{name}(): argument 'B' (position 2) must be Tensor, not {type(B).__name__}")
    if B.dim() == 0:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")  # (torch's words)


@autocast_op("solve")
def solve(A, B, *, left: bool = True, out=None):
    """X with A X = B (X A = B when not ``left``), torch.linalg.solve: B is a batch of vectors (..., n)
    or of matrices (..., n, k); batch dims broadcast. LinAlgError when a matrix is singular."""
    x, _ = _solve("linalg.solve", A, B, left, "torch.linalg.solve")
    return _maybe_out("linalg.solve", x, out)


def solve_ex(A, B, *, left: bool = True, check_errors: bool = False, out=None):
    """(result, info) of torch.linalg.solve_ex (info: int32, 0 where A is invertible)."""
    x, info = _solve("linalg.solve", A, B, left, "torch.linalg.solve_ex" if check_errors else "")
    return solve_ex_result(x, info)


# ------------------------------------------------------------------------------------- lu_factor


class LuFactor(Function):
    """(LU, pivots, info) of a batch of m x n matrices; not differentiable in tritongrad."""

    _backward_name = "LinalgLuFactorExBackward0"

    @staticmethod
    def forward(ctx, A):
        batch, m, n = tuple(A.shape[:-2]), A.shape[-2], A.shape[-1]
        lu, pivots, info = kernels.launch_lu_factor(flat(A))
        pivots, info = unflat(pivots, batch, min(m, n)), unflat(info, batch)
        ctx.mark_non_differentiable(pivots, info)
        return unflat(lu, batch, m, n), pivots, info

    @staticmethod
    def backward(ctx, grad_lu, grad_pivots, grad_info):
        raise NotImplementedError(
            "tritongrad.linalg.lu_factor: the backward of the LU factorization is not implemented"
        )


def _lu_factor(name: str, A, pivot: bool, check: bool):
    if isinstance(A, Tensor) and A.dim() < 2:
        raise RuntimeError(
            f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} instead"
        )
    check_matrices("linalg.lu_factor", A, square=False, half_kernel="lu_cpu", kernel_dtypes=True)
    kernels.check_size("linalg.lu_factor", A.shape[-2], A.shape[-1])
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")  # (as torch's)
    lu, pivots, info = LuFactor.apply(A)
    if check:
        # no host sync on a GPU (kernels/device_checks.py): torch's CPU path raises at the call
        check_on_device(info._data.view(-1), partial(_refuse_singular_factor, name=name, batched=info.dim() > 0))
    return lu, pivots, info


def _refuse_singular_factor(found: list, *, name: str, batched: bool) -> None:
    """torch's (plain RuntimeError) refusal of a factor with a zero pivot: U[info, info] is zero."""
    for index, code in enumerate(found):
        if code:
            at = f"(Batch element {index}): " if batched else ""
            raise RuntimeError(
                f"{name}: {at}U[{code},{code}] is zero and using it on lu_solve would result in a division by zero. "
                "If you still want to perform the factorization, consider calling linalg.lu(A, pivot) or "
                "linalg.lu_factor_ex(A, pivot)"
            )


def lu_factor_ex(A, *, pivot: bool = True, check_errors: bool = False, out=None):
    """(LU, pivots, info), torch.linalg.lu_factor_ex: P A = L U with partial pivoting (getrf's layout:
    L's multipliers below U's diagonal, 1-based int32 pivots); info > 0 names U's first zero pivot
    (an error with ``check_errors``)."""
    return lu_factor_ex_result(*_lu_factor("torch.linalg.lu_factor_ex", A, pivot, bool(check_errors)))


def lu_factor(A, *, pivot: bool = True, out=None):
    """(LU, pivots) of torch.linalg.lu_factor: a singular matrix (a zero pivot, which lu_solve would
    divide by) is refused with torch's RuntimeError; lu_factor_ex or linalg.lu factor it."""
    lu, pivots, _ = _lu_factor("torch.linalg.lu_factor", A, pivot, True)
    return lu_factor_result(lu, pivots)


# ------------------------------------------------------------------------------- triangular solve


def _triangle_of(grad, upper: bool, unitriangular: bool):
    offset = 1 if unitriangular else 0
    return grad.triu(offset) if upper else grad.tril(-offset)


class SolveTriangular(Function):
    """X with A X = B (left) or X A = B for triangular A (..., n, n), B of the same batch shape."""

    _backward_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, A, B, upper, left, unitriangular):
        batch = tuple(A.shape[:-2])
        a, b = flat(A), flat(B)
        rows, cols = B.shape[-2], B.shape[-1]
        x = torch.empty((a.shape[0], rows, cols), dtype=a.dtype, device=a.device)
        if left:
            kernels.launch_triangular_solve(a, b, upper=upper, unitriangular=unitriangular, out=x)
        else:  # X A = B  <=>  A^T X^T = B^T
            kernels.launch_triangular_solve(
                a.transpose(1, 2), b.transpose(1, 2), upper=not upper, unitriangular=unitriangular,
                out=x.transpose(1, 2),
            )  # fmt: skip
        x = unflat(x, batch, rows, cols)
        ctx.save_for_backward(A, x)
        ctx.options = (upper, left, unitriangular)
        return x

    @staticmethod
    def backward(ctx, grad):
        A, x = ctx.saved_tensors
        upper, left, unitriangular = ctx.options
        grad_b = SolveTriangular.apply(A.mT, grad, not upper, left, unitriangular)
        grad_a = None
        if ctx.needs_input_grad[0]:
            grad_a = _triangle_of(-(grad_b @ x.mT) if left else -(x.mT @ grad_b), upper, unitriangular)
        return grad_a, grad_b, None, None, None


@autocast_op("solve_triangular")
def solve_triangular(A, B, *, upper: bool | None = None, left: bool = True, unitriangular: bool = False, out=None):
    """X with A X = B (X A = B when not ``left``) for triangular A, torch.linalg.solve_triangular: only A's
    ``upper`` (or lower) triangle is read, its diagonal taken as ones when ``unitriangular``; batch dims
    broadcast. A zero on the diagonal gives inf/NaN, not an error, and reaches only the components
    that depend on it (as torch). B of another dtype is converted to A's, as torch's (which copies B
    into a result of A's dtype)."""
    name = "linalg.solve_triangular"
    if upper is None:  # (required, as torch's; its argument parser words the error so)
        raise TypeError('linalg_solve_triangular() missing 1 required positional arguments: "upper"')
    if not isinstance(B, Tensor):
        raise TypeError(f"{name}(): argument 'B' (position 2) must be Tensor, not {type(B).__name__}")
    if B.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    check_matrices(name, A, half_kernel="triangular_solve_cpu", kernel_dtypes=True)
    if B.dtype != A.dtype:
        B = B.to(A.dtype)
    n = A.shape[-1]
    kernels.check_size(name, n)
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(
            f"{name}: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
            f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})"
        )
    batch = broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    A = A.expand(*batch, n, n)
    B = B.expand(*batch, B.shape[-2], B.shape[-1])
    return _maybe_out(name, SolveTriangular.apply(A, B, bool(upper), bool(left), bool(unitriangular)), out)


# --------------------------------------------------------------------------------------- Cholesky


class Cholesky(Function):
    _backward_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, A, upper, check: str):
        """``check``: the name a LinAlgError starts with ("" for none)."""
        batch, n = tuple(A.shape[:-2]), A.shape[-1]
        factor, info = kernels.launch_cholesky(flat(A), upper=upper)
        info = unflat(info, batch)
        if check:
            raise_for_info(
                info._data,
                lambda code, at: (
                    f"{check}: {at}The factorization could not be completed because the input "
                    f"is not positive-definite (the leading minor of order {code} is not positive-definite)."
                ),
            )
        factor = unflat(factor, batch, n, n)
        ctx.mark_non_differentiable(info)
        ctx.save_for_backward(factor)
        ctx.upper = upper
        return factor, info

    @staticmethod
    def backward(ctx, grad, grad_info):
        (factor,) = ctx.saved_tensors
        L, grad_l = (factor.mT, grad.mT) if ctx.upper else (factor, grad)
        phi = (L.mT @ grad_l).tril()
        phi = phi - 0.5 * shape_ops.diag_embed(phi.diagonal(0, -2, -1))
        # L^-T phi L^-1: two triangular solves
        grad_a = solve_triangular(L.mT, phi, upper=True)
        grad_a = solve_triangular(L, grad_a, upper=False, left=False)
        return 0.5 * (grad_a + grad_a.mT), None, None


@autocast_op("cholesky_ex")
def cholesky_ex(A, *, upper: bool = False, check_errors: bool = False, out=None):
    """(L, info) of torch.linalg.cholesky_ex (info: int32, 0 where A is positive-definite)."""
    check_matrices("linalg.cholesky", A, half_kernel="cholesky_cpu")
    kernels.check_size("linalg.cholesky", A.shape[-1])
    return cholesky_ex_result(*Cholesky.apply(A, bool(upper), "linalg.cholesky_ex" if check_errors else ""))


@autocast_op("cholesky")
def linalg_cholesky(A, *, upper: bool = False, out=None):
    """The Cholesky factor of each symmetric positive-definite matrix of A, torch.linalg.cholesky: L lower
    with A = L L^T (U upper with A = U^T U when ``upper``), reading only that triangle of A."""
    check_matrices("linalg.cholesky", A, half_kernel="cholesky_cpu")
    kernels.check_size("linalg.cholesky", A.shape[-1])
    return _maybe_out("linalg.cholesky", Cholesky.apply(A, bool(upper), "linalg.cholesky")[0], out)


@autocast_op("cholesky")
def cholesky(input, upper: bool = False, *, out=None):
    """torch.cholesky (deprecated in torch, without its warning here): linalg.cholesky (whose integer inputs
    torch sends on to its kernel's refusal)."""
    check_matrices("linalg.cholesky", input, half_kernel="cholesky_cpu", kernel_dtypes=True)
    return linalg_cholesky(input, upper=upper, out=out)


@autocast_op("cholesky_solve")
def cholesky_solve(B, L, upper: bool = False, *, out=None):
    """X with A X = B given A's Cholesky factor (torch.cholesky_solve): two triangular solves, L then L^T
    (U^T then U when ``upper``), so its gradient is theirs."""
    if B.dim() < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B.dim()} dimensions instead")
    if B.dtype != L.dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type {dtype_word(B.dtype)} and A of type "
            f"{dtype_word(L.dtype)} instead."
        )
    if isinstance(L, Tensor) and L.dim() < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {L.dim()} dimensions instead")
    if isinstance(L, Tensor) and L.shape[-1] != L.shape[-2]:
        raise RuntimeError(
            f"A must be batches of square matrices, but they are {L.shape[-2]} by {L.shape[-1]} matrices"
        )
    check_matrices("cholesky_solve", L, half_kernel="cholesky_solve_cpu", what="input2", kernel_dtypes=True)
    batch = broadcast_shapes(tuple(B.shape[:-2]), tuple(L.shape[:-2]))
    n = L.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(
            f"Incompatible matrix sizes for cholesky_solve: each A matrix is {n} by {n} but each b matrix is "
            f"{B.shape[-2]} by {B.shape[-1]}"
        )
    B = B.expand(*batch, n, B.shape[-1])
    L = L.expand(*batch, n, n)
    return _maybe_out("cholesky_solve", CholeskySolve.apply(B, L, bool(upper)), out)


class CholeskySolve(Function):
    """X = (L L^T)^-1 B as two triangular solves. Its gradient is torch's: L is differentiated as a
    full matrix in A = L L^T (gL = -(gX' X^T + X gX'^T) L with gX' = cholesky_solve(gX, L)), not
    restricted to its triangle."""

    _backward_name = "CholeskySolveBackward0"

    @staticmethod
    def forward(ctx, B, L, upper):
        lower = L.mT if upper else L
        x = solve_triangular(lower.mT, solve_triangular(lower, B, upper=False), upper=True)
        ctx.save_for_backward(L, x)
        ctx.upper = upper
        return x

    @staticmethod
    def backward(ctx, grad):
        L, x = ctx.saved_tensors
        grad_b = CholeskySolve.apply(grad, L, ctx.upper)
        grad_l = None
        if ctx.needs_input_grad[1]:
            common = grad_b @ x.mT
            common = common + common.mT
            grad_l = -(L @ common) if ctx.upper else -(common @ L)
        return grad_b, grad_l, None


@autocast_op("cholesky_inverse")
def cholesky_inverse(L, upper: bool = False, *, out=None):
    """inv(A) from A's Cholesky factor (torch.cholesky_inverse): cholesky_solve of the identity."""
    check_matrices("cholesky_inverse", L, half_kernel="cholesky_inverse_out_cpu", kernel_dtypes=True)
    n = L.shape[-1]
    _refuse_zero_diagonal(L)
    identity = creation.eye(n, dtype=L.dtype, device=L.device).expand(*L.shape[:-2], n, n)
    return _maybe_out("cholesky_inverse", cholesky_solve(identity, L, upper), out)


def _refuse_zero_diagonal(L) -> None:
    """torch's LinAlgError (LAPACK trtri's info) for a factor with a zero diagonal element, naming the first
    one (1-based) of the first such matrix; costs one read back, as torch's."""
    if not L.numel():
        return
    zeros = L.detach().diagonal(0, -2, -1) == 0
    first = zeros.to(torch.int32).argmax(-1) + 1
    info = arithmetic.where(zeros.any(-1), first, 0)
    raise_for_info(
        info._data,
        lambda code, batch: (
            f"cholesky_inverse: {batch}The diagonal element {code} is zero, the inversion could not "
            "be completed because the input matrix is singular."
        ),
    )


def _maybe_out(name: str, result, out):
    """``out=``: torch's checks, then a copy of the result."""
    if out is None:
        return result
    check_no_grad(name, out, result)
    return write_out(name, out, result.detach())


attach_methods({
    "det": det, "slogdet": _legacy_slogdet, "logdet": logdet, "inverse": inverse,
    "cholesky": cholesky, "cholesky_solve": cholesky_solve, "cholesky_inverse": cholesky_inverse,
})  # fmt: skip
