"""torch.linalg.lu, lu_unpack, linalg.lu_solve / torch.lu_solve, torch.lu, matrix_exp, tensorinv,
tensorsolve, svd_lowrank and pca_lowrank against torch: values, gradients (float64, compared with
torch's and by gradcheck), batch and edge shapes, errors."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tests.utils import assert_close, from_torch

F64 = torch.float64


def _leaf(t):
    return t.detach().clone().requires_grad_(True), from_torch(t, requires_grad=True)


# ----------------------------------------------------------------------------------------------- lu


LU_CASES = [((4, 4), F64), ((3, 5, 5), F64), ((2, 3, 5), F64), ((2, 5, 3), F64), ((1, 1), F64), ((0, 3, 3), F64),
            ((2, 0, 4), F64), ((3, 5, 5), torch.float32), ((2, 5, 3), torch.float32)]  # fmt: skip


@pytest.mark.parametrize("shape, dtype", LU_CASES)
def test_linalg_lu(shape, dtype):
    A = torch.randn(shape, dtype=dtype)
    theirs, ours = _leaf(A)
    expected, got = torch.linalg.lu(theirs), tritongrad.linalg.lu(ours)
    assert type(got).__name__ == "linalg_lu"
    for name, mine, reference in zip("PLU", got, expected):
        assert_close(mine, reference, what=f"linalg.lu {name} {shape}")
    if A.numel() and dtype == F64:
        weights = [torch.randn(t.shape, dtype=dtype) for t in expected[1:]]
        sum((t * w).sum() for t, w in zip(expected[1:], weights)).backward()
        sum((t * from_torch(w)).sum() for t, w in zip(got[1:], weights)).backward()
        assert_close(ours.grad, theirs.grad, what=f"linalg.lu gradient {shape}")
        assert got[2].grad_fn.name() == "LinalgLuBackward0" and not got[0].requires_grad


def test_linalg_lu_gradcheck_and_only_l():
    # (the wide and tall backward formulas are compared with torch's gradients in test_linalg_lu)
    A = from_torch(torch.randn(3, 3, dtype=F64), requires_grad=True)
    assert tritongrad.autograd.gradcheck(lambda a: tuple(tritongrad.linalg.lu(a)[1:]), (A,))
    theirs, ours = _leaf(torch.randn(4, 4, dtype=F64))
    torch.linalg.lu(theirs).L.sum().backward()  # (U's gradient undefined)
    tritongrad.linalg.lu(ours).L.sum().backward()
    assert_close(ours.grad, theirs.grad, what="gradient through L alone")


def test_lu_unpack_and_legacy_lu():
    A = torch.randn(3, 4, 4, dtype=F64)
    LU, pivots = torch.linalg.lu_factor(A)
    for unpack_data, unpack_pivots in [(True, True), (False, True), (True, False)]:
        expected = torch.lu_unpack(LU, pivots, unpack_data, unpack_pivots)
        got = tritongrad.lu_unpack(from_torch(LU), from_torch(pivots), unpack_data, unpack_pivots)
        for name, mine, reference in zip("PLU", got, expected):
            assert_close(mine, reference, what=f"lu_unpack {name} ({unpack_data}, {unpack_pivots})")
    theirs, ours = _leaf(LU)
    torch.lu_unpack(theirs, pivots).U.pow(2).sum().backward()
    tritongrad.lu_unpack(ours, from_torch(pivots)).U.pow(2).sum().backward()
    assert_close(ours.grad, theirs.grad, what="lu_unpack gradient")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agree("torch.lu", lambda lib, a: lib.lu(a), [A])
        agree("torch.lu get_infos", lambda lib, a: lib.lu(a, get_infos=True), [A])
        agree("Tensor.lu", lambda lib, a: a.lu(), [A[0]])


# ----------------------------------------------------------------------------------------- lu_solve


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve(left, adjoint):
    A, B = torch.randn(2, 4, 4, dtype=F64), torch.randn(3, 1, 4, 2, dtype=F64)  # batch dims broadcast
    if not left:
        B = B.mT
    LU, pivots = torch.linalg.lu_factor(A)
    (tLU, oLU), (tB, oB) = _leaf(LU), _leaf(B)
    expected = torch.linalg.lu_solve(tLU, pivots, tB, left=left, adjoint=adjoint)
    got = tritongrad.linalg.lu_solve(oLU, from_torch(pivots), oB, left=left, adjoint=adjoint)
    assert_close(got, expected, what=f"lu_solve left={left} adjoint={adjoint}")
    weights = torch.randn(expected.shape, dtype=F64)
    (expected * weights).sum().backward()
    (got * from_torch(weights)).sum().backward()
    assert_close(oLU.grad, tLU.grad, what="lu_solve gradient in LU")
    assert_close(oB.grad, tB.grad, what="lu_solve gradient in B")


def test_lu_solve_float32_and_legacy():
    A, B = torch.randn(5, 5), torch.randn(5, 3)
    LU, pivots = torch.linalg.lu_factor(A)
    assert_close(tritongrad.linalg.lu_solve(from_torch(LU), from_torch(pivots), from_torch(B)),
                 torch.linalg.lu_solve(LU, pivots, B), what="lu_solve float32")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agree("torch.lu_solve", lambda lib, b, lu, p: lib.lu_solve(b, lu, p), [B, LU, pivots])
        agree("Tensor.lu_solve", lambda lib, b, lu, p: b.lu_solve(lu, p), [B, LU, pivots])


def _factors(lib):
    return lib.linalg.lu_factor(lib.tensor([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]]))


LU_ERRORS = {
    "lu 1-D": lambda lib: lib.linalg.lu(lib.ones(4)),
    "lu int": lambda lib: lib.linalg.lu(lib.ones(3, 3, dtype=lib.int32)),
    "lu half": lambda lib: lib.linalg.lu(lib.ones(3, 3, dtype=lib.float16)),
    "lu no pivot": lambda lib: lib.linalg.lu(lib.ones(3, 3), pivot=False),
    "unpack int64 pivots": lambda lib: lib.lu_unpack(_factors(lib)[0], _factors(lib)[1].long()),
    "unpack 1-D": lambda lib: lib.lu_unpack(lib.ones(3), _factors(lib)[1]),
    "unpack pivot range": lambda lib: lib.lu_unpack(_factors(lib)[0], _factors(lib)[1] + 5),
    "solve shapes": lambda lib: lib.linalg.lu_solve(*_factors(lib), lib.ones(4, 2)),
    "solve int64 pivots": lambda lib: lib.linalg.lu_solve(_factors(lib)[0], _factors(lib)[1].long(), lib.ones(3, 2)),
    "solve dtypes": lambda lib: lib.linalg.lu_solve(*_factors(lib), lib.ones(3, 2, dtype=lib.float64)),
    "solve non-square": lambda lib: lib.linalg.lu_solve(_factors(lib)[0][:, :2], _factors(lib)[1], lib.ones(3, 2)),
}


@pytest.mark.parametrize("name", list(LU_ERRORS))
def test_lu_errors(name):
    agree(name, LU_ERRORS[name], [])


# --------------------------------------------------------------------------------------- matrix_exp


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("scale", [0.01, 1.0, 20.0])  # no squaring, a few, many
def test_matrix_exp(dtype, scale):
    A = torch.randn(3, 6, 6, dtype=dtype) * scale / 6**0.5
    expected = torch.linalg.matrix_exp(A)
    got = tritongrad.linalg.matrix_exp(from_torch(A))
    magnitude = expected.abs().amax().item()
    assert_close(got, expected, atol=magnitude * (1e-12 if dtype == F64 else 2e-5), rtol=1e-10 if dtype == F64
                 else 1e-4, what=f"matrix_exp scale {scale}")  # fmt: skip


def test_matrix_exp_batch_with_different_norms_shapes_and_dtypes():
    A = torch.randn(4, 5, 5, dtype=F64) * torch.tensor([0.01, 1.0, 10.0, 40.0], dtype=F64).view(4, 1, 1)
    assert_close(tritongrad.matrix_exp(from_torch(A)), torch.matrix_exp(A), what="per-matrix scaling")
    for shape in [(0, 3, 3), (0, 0), (1, 1), (2, 1, 1)]:
        A = torch.randn(shape, dtype=F64)
        assert_close(tritongrad.linalg.matrix_exp(from_torch(A)), torch.linalg.matrix_exp(A), what=f"shape {shape}")
    # torch's half kernels overflow in the Pade coefficients (NaN); tritongrad computes in float32 and rounds
    for dtype in (torch.float16, torch.bfloat16):
        A = torch.randn(4, 4).to(dtype)
        expected = torch.linalg.matrix_exp(A.float()).to(dtype)
        assert_close(tritongrad.linalg.matrix_exp(from_torch(A)), expected, what=f"{dtype}")
    A = torch.randn(4, 4, dtype=F64)[:, ::1].mT  # transposed
    assert_close(from_torch(A).matrix_exp(), A.matrix_exp(), what="Tensor.matrix_exp, transposed")


def test_matrix_exp_gradient():
    # a 3 x 3 matrix needing squarings (gradcheck below covers one that needs none)
    theirs, ours = _leaf(torch.randn(3, 3, dtype=F64) * 4)
    weights = torch.randn(3, 3, dtype=F64)
    (torch.linalg.matrix_exp(theirs) * weights).sum().backward()
    (tritongrad.linalg.matrix_exp(ours) * from_torch(weights)).sum().backward()
    assert_close(ours.grad, theirs.grad, rtol=1e-9, atol=1e-9 * theirs.grad.abs().max().item(),
                 what="matrix_exp gradient")  # fmt: skip
    A = from_torch(torch.randn(2, 2, dtype=F64), requires_grad=True)
    assert tritongrad.autograd.gradcheck(tritongrad.linalg.matrix_exp, (A,))


EXP_ERRORS = {
    "non-square": lambda lib: lib.linalg.matrix_exp(lib.ones(3, 4)),
    "1-D": lambda lib: lib.linalg.matrix_exp(lib.ones(4)),
    "int": lambda lib: lib.linalg.matrix_exp(lib.ones(3, 3, dtype=lib.int32)),
}


@pytest.mark.parametrize("name", list(EXP_ERRORS))
def test_matrix_exp_errors(name):
    agree(name, EXP_ERRORS[name], [])


# ---------------------------------------------------------------------------- tensorinv, tensorsolve


def test_tensorinv_tensorsolve():
    agree("tensorinv", lambda lib, a: lib.linalg.tensorinv(a, ind=2), [torch.randn(4, 6, 8, 3, dtype=F64)])
    agree("tensorinv ind 1", lambda lib, a: lib.linalg.tensorinv(a, ind=1), [torch.randn(6, 2, 3, dtype=F64)])
    agree("tensorsolve", lambda lib, a, b: lib.linalg.tensorsolve(a, b), [torch.randn(2, 3, 6, dtype=F64),
                                                                          torch.randn(2, 3, dtype=F64)])  # fmt: skip
    agree("tensorsolve dims", lambda lib, a, b: lib.linalg.tensorsolve(a, b, dims=(0,)),
          [torch.randn(6, 2, 3, dtype=F64), torch.randn(2, 3, dtype=F64)])  # fmt: skip
    agree("tensorinv gradient", lambda lib, a: lib.linalg.tensorinv(a, ind=1).sum().backward(),
          [torch.randn(4, 2, 2, dtype=F64, requires_grad=True)])  # fmt: skip
    agree("tensorinv ind 0", lambda lib, a: lib.linalg.tensorinv(a, ind=0), [torch.randn(2, 2)])
    agree("tensorinv sizes", lambda lib, a: lib.linalg.tensorinv(a, ind=1), [torch.randn(4, 6, 8, 3)])
    agree("tensorsolve sizes", lambda lib, a, b: lib.linalg.tensorsolve(a, b), [torch.randn(2, 3, 6),
                                                                               torch.randn(2, 4)])  # fmt: skip


# ----------------------------------------------------------------------------- svd_lowrank, pca_lowrank


@pytest.mark.parametrize("shape", [(20, 12), (12, 20), (2, 16, 10)])
def test_svd_lowrank_recovers_low_rank(shape):
    *batch, m, n = shape
    X = torch.randn(*batch, m, 3, dtype=F64) @ torch.randn(*batch, 3, n, dtype=F64)  # rank 3
    U, S, V = tritongrad.svd_lowrank(from_torch(X), q=5)
    assert U.shape == (*batch, m, 5) and S.shape == (*batch, 5) and V.shape == (*batch, n, 5)
    reconstruction = U @ tritongrad.diag_embed(S) @ V.mT
    assert_close(reconstruction, X, atol=1e-10, rtol=1e-10, what="svd_lowrank reconstruction")
    assert_close(S[..., :3], torch.linalg.svdvals(X)[..., :3], atol=1e-10, rtol=1e-10, what="singular values")
    assert_close(U.mT @ U, torch.eye(5, dtype=F64).expand(*batch, 5, 5), atol=1e-10, what="U orthonormal")


def test_pca_lowrank():
    X = torch.randn(30, 2, dtype=F64) @ torch.randn(2, 8, dtype=F64) + torch.randn(8, dtype=F64) * 5
    U, S, V = tritongrad.pca_lowrank(from_torch(X))
    _, S_torch, _ = torch.pca_lowrank(X)
    assert_close(S[:2], S_torch[:2], atol=1e-10, rtol=1e-10, what="pca_lowrank singular values")
    centered = X - X.mean(0, keepdim=True)
    assert_close(U @ tritongrad.diag_embed(S) @ V.mT, centered, atol=1e-9, what="pca_lowrank reconstruction")
    _, S_raw, _ = tritongrad.pca_lowrank(from_torch(X), q=3, center=False)
    assert_close(S_raw[:2], torch.linalg.svdvals(X)[:2], atol=1e-9, rtol=1e-10, what="uncentered")
    agree("pca q too large", lambda lib, x: lib.pca_lowrank(x, q=9), [X])
    agree("pca negative niter", lambda lib, x: lib.pca_lowrank(x, niter=-1), [X])
