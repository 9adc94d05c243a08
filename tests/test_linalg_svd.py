"""torch.linalg.svd / svdvals / torch.svd and what is built on them (pinv, matrix_rank, matrix_norm,
linalg.norm's matrix orders, cond, lstsq) against torch.

Singular vectors are unique only up to sign: the factors are checked through the reconstruction
U diag(S) Vh, their orthonormality and |U^T U_torch| ~ I; gradient checks use sign-free losses.
"""

from __future__ import annotations

import math

import pytest
import torch

import tritongrad
from tests.test_linalg_factor import _grads, _same_error
from tests.utils import from_torch, to_torch
from tritongrad.autograd import gradcheck

F64 = torch.float64
# (rtol, atol) relative to the largest singular value: a backward-stable SVD's error is a few eps ||A||
TOL = {torch.float32: (1e-5, 2e-5), torch.float64: (1e-12, 1e-12)}


def graded(*batch, m, n, low=1e-6, dtype=F64):
    """Random m x n matrices with singular values spread geometrically from 1 down to ``low``."""
    k = min(m, n)
    u, _ = torch.linalg.qr(torch.randn(*batch, m, k, dtype=F64))
    v, _ = torch.linalg.qr(torch.randn(*batch, n, k, dtype=F64))
    values = torch.logspace(0, math.log10(low), k, dtype=F64) if k > 1 else torch.ones(k, dtype=F64)
    return ((u * values) @ v.mT).to(dtype)


def _check_svd(A, full_matrices):
    """Our factors of A against torch's float64 SVD of the same (rounded) matrix."""
    dtype, k = A.dtype, min(A.shape[-2:])
    U, S, Vh = (to_torch(t) for t in tritongrad.linalg.svd(from_torch(A), full_matrices=full_matrices))
    Ut, St, Vht = torch.linalg.svd(A.to(F64), full_matrices=full_matrices)
    assert (U.shape, S.shape, Vh.shape) == (Ut.shape, St.shape, Vht.shape)
    assert U.dtype == S.dtype == Vh.dtype == dtype
    rtol, atol = TOL[dtype]
    top = St[..., :1].clamp_min(1e-300) if k else torch.ones(1, dtype=F64)  # (a zero matrix: S = 0)
    scale = top.unsqueeze(-1)
    torch.testing.assert_close(S.to(F64) / top, St / top, rtol=rtol, atol=atol)
    rebuilt = (U[..., :k].to(F64) * S.to(F64).unsqueeze(-2)) @ Vh[..., :k, :].to(F64)
    torch.testing.assert_close(rebuilt / scale, A.to(F64) / scale, rtol=0, atol=10 * atol)
    for Q in (U, Vh.mT):  # orthonormal columns
        eye = torch.eye(Q.shape[-1], dtype=F64).expand(*Q.shape[:-2], -1, -1)
        torch.testing.assert_close(Q.mT.to(F64) @ Q.to(F64), eye, rtol=0, atol=10 * atol)
    return U, S, Vh, Ut, St


@pytest.mark.parametrize("dtype", [torch.float32, F64])
# one; tall; wide (worked on transposed); batched; two batch dims; > 16 (two dot blocks)
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (3, 5), (2, 4, 4), (2, 3, 6, 2), (1, 17, 17)])
def test_svd_matches_torch(shape, dtype):
    A = torch.randn(*shape, dtype=dtype)
    for full in (False, True):
        U, S, Vh, Ut, St = _check_svd(A, full)
        k = S.shape[-1]
        # distinct singular values: the vectors agree with torch's up to a sign per pair
        overlap = (U[..., :k].mT.to(F64) @ Ut[..., :k]).abs()
        torch.testing.assert_close(overlap, torch.eye(k, dtype=F64).expand_as(overlap), rtol=0, atol=1e-3)
    torch.testing.assert_close(to_torch(tritongrad.linalg.svdvals(from_torch(A))), torch.linalg.svdvals(A),
                               rtol=TOL[dtype][0], atol=TOL[dtype][1] * 10)  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_svd_graded_singular_values(dtype):
    """Singular values from 1 down to 1e-6 (and a 1e-12 one in float64): kept to a few eps of the largest."""
    for m, n in ((8, 8), (9, 4)):
        _check_svd(graded(2, m=m, n=n, dtype=dtype), False)
    A = graded(m=6, n=6, low=1e-12)
    S = to_torch(tritongrad.linalg.svdvals(from_torch(A)))
    torch.testing.assert_close(S, torch.linalg.svdvals(A), rtol=1e-6, atol=1e-15)


def test_svd_rank_deficient_and_empty():
    rank_one = torch.randn(4, 1, dtype=F64) @ torch.randn(1, 3, dtype=F64)
    for A in (torch.zeros(3, 3, dtype=F64), rank_one, rank_one.mT, torch.zeros(2, 5, 2)):
        _check_svd(A, True)  # U still orthogonal: the null columns are completed by Householder QR
    for shape in ((3, 0), (0, 3), (2, 0, 0)):
        A = torch.randn(*shape)
        for full in (False, True):
            got, want = (
                tritongrad.linalg.svd(from_torch(A), full_matrices=full),
                torch.linalg.svd(A, full_matrices=full),
            )
            for g, w in zip(got, want):
                assert torch.equal(to_torch(g), w)


def test_svd_non_contiguous_and_legacy_names():
    A = torch.randn(3, 6, 4, dtype=F64)
    _check_svd(A.mT, False)
    _check_svd(A[::2, :, 1:], True)
    got, want = tritongrad.svd(from_torch(A)), torch.svd(A)
    assert type(got).__name__ == type(want).__name__ == "svd"
    torch.testing.assert_close(to_torch(got.U * got.S.unsqueeze(-2)) @ to_torch(got.V).mT, A)
    assert to_torch(from_torch(A).svd(some=False).U).shape == A.svd(some=False).U.shape
    got, want = tritongrad.svd(from_torch(A), compute_uv=False), torch.svd(A, compute_uv=False)
    for g, w in zip(got, want):
        torch.testing.assert_close(to_torch(g), w)
    assert type(tritongrad.linalg.svd(from_torch(A))).__name__ == "linalg_svd"


def _sign_free_svd_loss(weights):
    def loss(lib, a):
        U, S, Vh = lib.linalg.svd(a, full_matrices=False)
        w = weights if lib is torch else from_torch(weights)
        rank_one = U[..., :1] @ Vh[..., :1, :]  # u_1 v_1^T: the signs cancel
        return (U * S.unsqueeze(-2)) @ Vh + S.sum(-1, keepdim=True).unsqueeze(-1) + w * rank_one

    return loss


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (2, 3, 5)])  # square; tall (the (I - U U^T) term); wide
def test_svd_gradients_match_torch(shape):
    A = torch.randn(*shape, dtype=F64)
    out = _grads(_sign_free_svd_loss(torch.randn(*shape, dtype=F64)), A)
    assert type(out.grad_fn).__name__ == "AddBackward0"
    _grads(lambda lib, a: lib.linalg.svdvals(a), A)
    _grads(lambda lib, a: lib.linalg.svd(a).S, A)  # full_matrices: only the first k columns carry gradient
    S = tritongrad.linalg.svdvals(from_torch(A, requires_grad=True))
    assert type(S.grad_fn).__name__ == type(torch.linalg.svdvals(A.requires_grad_()).grad_fn).__name__
    V = tritongrad.svd(from_torch(A, requires_grad=True)).V
    assert type(V.grad_fn).__name__ == type(torch.svd(A).V.grad_fn).__name__


def test_gradcheck_float64():
    A = from_torch(torch.randn(3, 2, dtype=F64), requires_grad=True)
    assert gradcheck(lambda a: tritongrad.linalg.svdvals(a), (A,))
    assert gradcheck(lambda a: tritongrad.linalg.pinv(a), (A,))
    B = from_torch(torch.randn(2, 3, dtype=F64), requires_grad=True)
    assert gradcheck(lambda b: tritongrad.linalg.matrix_norm(b, "nuc"), (B,))


# ------------------------------------------------------------------------------ built on the SVD


def _same(fn, *inputs, rtol=1e-10, atol=1e-12):
    got = fn(tritongrad, *(from_torch(x) for x in inputs))
    want = fn(torch, *inputs)
    got = to_torch(got)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    torch.testing.assert_close(got, want, rtol=rtol, atol=atol)


def test_pinv_matches_torch():
    A = torch.randn(2, 5, 3, dtype=F64)
    _same(lambda lib, a: lib.linalg.pinv(a), A)
    _same(lambda lib, a: lib.linalg.pinv(a), A.mT)
    _same(lambda lib, a: lib.pinverse(a), A)
    _same(lambda lib, a: a.pinverse(), A.float(), rtol=1e-4, atol=1e-5)
    deficient = torch.randn(4, 2, dtype=F64) @ torch.randn(2, 4, dtype=F64)
    _same(lambda lib, a: lib.linalg.pinv(a), deficient)
    _same(lambda lib, a: lib.linalg.pinv(a, atol=1.0), A)
    _same(lambda lib, a: lib.linalg.pinv(a, rtol=0.5), A)
    # (eigh by Jacobi: ~1e-9 relative in float64, tests/test_linalg_spectral.py)
    _same(lambda lib, a: lib.linalg.pinv(a, hermitian=True), deficient @ deficient.mT, rtol=1e-7, atol=1e-9)
    _same(lambda lib, a: lib.linalg.pinv(a), torch.randn(2, 0, 3))
    _grads(lambda lib, a: lib.linalg.pinv(a), A)


ORDS = ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]


@pytest.mark.parametrize("ord", ORDS)
def test_matrix_norm_matches_torch(ord):
    A = torch.randn(2, 4, 3, dtype=F64)
    _same(lambda lib, a: lib.linalg.matrix_norm(a, ord), A)
    _same(lambda lib, a: lib.linalg.matrix_norm(a, ord, dim=(2, 0), keepdim=True), A)
    _same(lambda lib, a: lib.linalg.matrix_norm(a, ord, dim=(0, -1)), A)
    _same(lambda lib, a: lib.linalg.norm(a, ord), A[0])
    _same(lambda lib, a: lib.linalg.norm(a, ord, dim=(1, 2)), A)
    _grads(lambda lib, a: lib.linalg.matrix_norm(a, ord).reshape(-1), A)


def test_norm_vector_paths_unchanged():
    A = torch.randn(3, 4, dtype=F64)
    _same(lambda lib, a: lib.linalg.norm(a), A)
    _same(lambda lib, a: lib.linalg.norm(a, 3, dim=1), A)
    _same(lambda lib, a: lib.linalg.norm(a, -1), A[0])
    _same(lambda lib, a: lib.linalg.norm(a, dim=(0, 1), keepdim=True), A)


def test_matrix_rank_and_cond():
    deficient = torch.randn(2, 5, 2, dtype=F64) @ torch.randn(2, 2, 4, dtype=F64)
    for fn in (
        lambda lib, a: lib.linalg.matrix_rank(a),
        lambda lib, a: lib.linalg.matrix_rank(a, atol=1e3),
        lambda lib, a: lib.linalg.matrix_rank(a, rtol=0.0),
        lambda lib, a: lib.linalg.matrix_rank(a[..., :4, :] @ a[..., :4, :].mT, hermitian=True),
    ):
        _same(fn, deficient)
    A = torch.randn(2, 4, 4, dtype=F64)
    for p in (None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf):
        _same(lambda lib, a, p=p: lib.linalg.cond(a, p), A, rtol=1e-8)
    _same(lambda lib, a: lib.linalg.cond(a), torch.randn(3, 5, dtype=F64))
    _same(lambda lib, a: lib.linalg.cond(a, 1), torch.zeros(3, 3, dtype=F64))  # singular: inf


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
def test_lstsq_matches_torch(driver):
    for m, n in ((5, 3), (3, 5)):  # overdetermined (residuals); underdetermined (minimum norm)
        A, B = torch.randn(2, m, n, dtype=F64), torch.randn(2, m, 2, dtype=F64)
        got = tritongrad.linalg.lstsq(from_torch(A), from_torch(B), driver=driver)
        want = torch.linalg.lstsq(A, B, driver=driver)
        assert type(got).__name__ == type(want).__name__
        for g, w in zip(got, want):
            g = to_torch(g)
            assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape)
            torch.testing.assert_close(g, w, rtol=1e-9, atol=1e-10)
    A, b = torch.randn(4, 2, dtype=F64), torch.randn(4, dtype=F64)
    torch.testing.assert_close(to_torch(tritongrad.linalg.lstsq(from_torch(A), from_torch(b)).solution),
                               torch.linalg.lstsq(A, b).solution)  # fmt: skip


ERROR_CASES = {
    "svd 1-D": lambda lib, t: lib.linalg.svd(t(torch.randn(3))),
    "svd integer": lambda lib, t: lib.linalg.svd(t(torch.ones(3, 3, dtype=torch.int64))),
    "svd half": lambda lib, t: lib.linalg.svd(t(torch.ones(3, 3, dtype=torch.float16))),
    "svdvals half": lambda lib, t: lib.linalg.svdvals(t(torch.ones(3, 3, dtype=torch.float16))),
    "svd driver": lambda lib, t: lib.linalg.svd(t(torch.randn(3, 3)), driver="gesvd"),
    "torch.svd integer": lambda lib, t: lib.svd(t(torch.ones(3, 3, dtype=torch.int64))),
    "pinv integer": lambda lib, t: lib.linalg.pinv(t(torch.ones(3, 3, dtype=torch.int64))),
    "matrix_norm ord": lambda lib, t: lib.linalg.matrix_norm(t(torch.randn(3, 3)), ord=3),
    "matrix_norm 1-D": lambda lib, t: lib.linalg.matrix_norm(t(torch.randn(3)), ord=2),
    "matrix_norm dim": lambda lib, t: lib.linalg.matrix_norm(t(torch.randn(3, 3)), dim=(0,)),
    "matrix_norm same dims": lambda lib, t: lib.linalg.matrix_norm(t(torch.randn(3, 3)), dim=(0, 0)),
    "matrix_norm integer": lambda lib, t: lib.linalg.matrix_norm(t(torch.ones(3, 3, dtype=torch.int64))),
    "norm 3-D with ord": lambda lib, t: lib.linalg.norm(t(torch.randn(3, 3, 3)), ord=2),
    "norm nuc with int dim": lambda lib, t: lib.linalg.norm(t(torch.randn(3, 3)), ord="nuc", dim=0),
    "cond non-square": lambda lib, t: lib.linalg.cond(t(torch.randn(3, 4)), p=1),
    "cond ord": lambda lib, t: lib.linalg.cond(t(torch.randn(3, 3)), p=3),
    "matrix_rank 1-D": lambda lib, t: lib.linalg.matrix_rank(t(torch.randn(3))),
    "lstsq rows": lambda lib, t: lib.linalg.lstsq(t(torch.randn(3, 3)), t(torch.randn(4, 3))),
    "lstsq driver": lambda lib, t: lib.linalg.lstsq(t(torch.randn(3, 3)), t(torch.randn(3, 3)), driver="foo"),
    "lstsq dtypes": lambda lib, t: lib.linalg.lstsq(t(torch.randn(3, 3)), t(torch.randn(3, 3, dtype=F64))),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_errors_match_torch(case):
    _same_error(lambda lib: ERROR_CASES[case](lib, (lambda x: x) if lib is torch else from_torch))


def test_limits_and_complex_refusals():
    with pytest.raises(NotImplementedError, match="at most 64"):
        tritongrad.linalg.svd(from_torch(torch.randn(65, 3)))
    for fn in (tritongrad.linalg.eig, tritongrad.linalg.eigvals):
        with pytest.raises(NotImplementedError, match="complex"):
            fn(from_torch(torch.randn(3, 3)))


def test_vander_and_diagonal():
    for x in (torch.tensor([1, 2, 3]), torch.randn(2, 3, dtype=F64)):
        _same(lambda lib, v: lib.linalg.vander(v), x)
        _same(lambda lib, v: lib.linalg.vander(v, N=4), x)
    _same(lambda lib, a: lib.linalg.diagonal(a, offset=1, dim1=0), torch.randn(3, 4, 5))
    _same_error(lambda lib: lib.linalg.vander((lambda v: v if lib is torch else from_torch(v))(torch.ones(3)), N=1))
