"""torch.linalg.qr / eigh / eigvalsh against torch: values, the (sign-free) vectors, gradients, errors.

QR's Householder reflections are LAPACK's, so Q and R match torch's entry for entry; eigenvectors
are unique only up to sign, so they are compared column by column after aligning signs.
"""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.test_linalg_factor import _grads, _same_error, close
from tests.utils import from_torch, to_torch
from tritongrad.autograd import gradcheck

F64 = torch.float64
# Jacobi eigenvectors in float32: ~1e-5 relative after the sweeps (module docstring of the ops).
EIGH_TOL = {torch.float32: (1e-4, 1e-4), torch.float64: (1e-9, 1e-10)}


def symmetric(*batch, n, dtype=F64):
    r = torch.randn(*batch, n, n, dtype=F64)
    return (r + r.mT).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (3, 5), (2, 4, 4), (2, 17, 17)])
def test_qr_matches_torch(shape, dtype):
    A = torch.randn(*shape, dtype=dtype)
    for mode in ("reduced", "complete", "r"):
        q, r = tritongrad.linalg.qr(from_torch(A), mode=mode)
        Q, R = torch.linalg.qr(A, mode=mode)
        close(r, R)
        if mode != "r":
            close(q, Q)
        else:
            assert q.shape == Q.shape


def test_qr_names_and_non_contiguous():
    A = torch.randn(3, 5, 4, dtype=F64)
    close(tritongrad.linalg.qr(from_torch(A.mT)).Q, torch.linalg.qr(A.mT).Q)
    got, want = tritongrad.qr(from_torch(A[::2]), some=False), torch.qr(A[::2], some=False)
    assert type(got).__name__ == type(want).__name__
    close(got.R, want.R)
    close(from_torch(A).qr().Q, A.qr().Q)


def _eigh_close(w, v, A, dtype):
    W, V = torch.linalg.eigh(A)
    rtol, atol = EIGH_TOL[dtype]
    torch.testing.assert_close(to_torch(w), W, rtol=rtol, atol=atol)
    v = to_torch(v)
    signs = torch.where((v * V).sum(-2, keepdim=True) < 0, -1.0, 1.0).to(dtype)  # (reference-side alignment)
    torch.testing.assert_close(v * signs, V, rtol=rtol, atol=atol * 10)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("n", [1, 2, 5, 17])
def test_eigh_matches_torch(n, dtype):
    A = symmetric(2 if n < 17 else 1, n=n, dtype=dtype)  # (a 17 x 17 Jacobi takes ~3 s in the interpreter)
    w, v = tritongrad.linalg.eigh(from_torch(A))
    _eigh_close(w, v, A, dtype)
    rtol, atol = EIGH_TOL[dtype]
    torch.testing.assert_close(to_torch(tritongrad.linalg.eigvalsh(from_torch(A))), torch.linalg.eigvalsh(A),
                               rtol=rtol, atol=atol)  # fmt: skip


def test_eigh_reads_one_triangle_and_handles_repeated_values():
    A = symmetric(3, n=4)
    junk = A + torch.triu(torch.randn(3, 4, 4, dtype=F64), 1)
    w, v = tritongrad.linalg.eigh(from_torch(junk))
    _eigh_close(w, v, torch.tril(junk) + torch.tril(junk, -1).mT, F64)
    w = tritongrad.linalg.eigvalsh(from_torch(junk.mT), UPLO="U")
    torch.testing.assert_close(to_torch(w), torch.linalg.eigvalsh(junk.mT, UPLO="U"), rtol=1e-9, atol=1e-10)
    diagonal = torch.diag(torch.tensor([2.0, 1.0, 2.0, 0.0], dtype=F64))  # a repeated eigenvalue: already diagonal
    w, v = tritongrad.linalg.eigh(from_torch(diagonal))
    assert to_torch(w).tolist() == [0.0, 1.0, 2.0, 2.0]
    assert torch.allclose(to_torch(v).abs().sum(0), torch.ones(4, dtype=F64))


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("n", [8, 9, 16])
def test_eigh_and_svd_of_degenerate_spectra_match_torch(n, dtype):
    """I + 11^T: one eigenvalue n + 1 and n - 1 equal ones. Equal diagonals let rounding noise set a
    rotation's angle, and the two rows of a pair once read A[p, q] and A[q, p] apart: J was not
    orthogonal (eigenvalues 0.29 ... 1.71 at n = 8, reconstruction off by 1.04)."""
    A = (torch.eye(n, dtype=F64) + torch.ones(n, n, dtype=F64)).to(dtype)
    w, v = tritongrad.linalg.eigh(from_torch(A))
    rtol, atol = EIGH_TOL[dtype]
    torch.testing.assert_close(to_torch(w), torch.linalg.eigvalsh(A), rtol=rtol, atol=atol)
    # the ones' eigenvectors are any orthonormal basis of their space: check V^T V = I and V diag(w) V^T = A
    torch.testing.assert_close(to_torch(v).mT @ to_torch(v), torch.eye(n, dtype=dtype), rtol=rtol, atol=atol)
    reconstruction = to_torch(v) @ torch.diag(to_torch(w)) @ to_torch(v).mT
    torch.testing.assert_close(reconstruction, A, rtol=rtol, atol=atol)
    torch.testing.assert_close(to_torch(tritongrad.linalg.svdvals(from_torch(A))), torch.linalg.svdvals(A),
                               rtol=rtol, atol=atol)  # fmt: skip


def test_qr_and_eigh_gradients_match_torch():
    for shape in ((5, 3), (2, 4, 4)):
        _grads(lambda lib, a: sum(t.sum() * (i + 1) for i, t in enumerate(lib.linalg.qr(a))).reshape(1),
               torch.randn(*shape, dtype=F64))  # fmt: skip

    def eigh_loss(lib, a):
        w, v = lib.linalg.eigh(a)
        return (w * w).sum(-1) + (v * v * torch_weights(lib, v)).sum((-2, -1))  # v * v: sign-free

    weights = torch.randn(2, 4, 4, dtype=F64)

    def torch_weights(lib, v):
        return weights if lib is torch else from_torch(weights)

    _grads(eigh_loss, symmetric(2, n=4))
    _grads(lambda lib, a: lib.linalg.eigvalsh(a), symmetric(n=3))


def test_gradcheck_float64():
    A = from_torch(torch.randn(3, 2, dtype=F64), requires_grad=True)
    assert gradcheck(lambda a: tritongrad.linalg.qr(a), (A,))
    S = from_torch(symmetric(n=2), requires_grad=True)
    assert gradcheck(lambda s: tritongrad.linalg.eigvalsh(s + s.mT), (S,))


ERROR_CASES = {
    "qr mode": lambda lib, t: lib.linalg.qr(t(torch.randn(3, 3)), mode="full"),
    "qr integer": lambda lib, t: lib.linalg.qr(t(torch.ones(3, 3, dtype=torch.int64))),
    "qr half": lambda lib, t: lib.linalg.qr(t(torch.ones(3, 3, dtype=torch.float16))),
    "eigh non-square": lambda lib, t: lib.linalg.eigh(t(torch.randn(3, 4))),
    "eigh half": lambda lib, t: lib.linalg.eigh(t(torch.ones(3, 3, dtype=torch.float16))),
    "eigh UPLO": lambda lib, t: lib.linalg.eigh(t(torch.eye(3)), UPLO="X"),
    "qr backward mode r": lambda lib, t: (
        lib.linalg.qr(t(torch.randn(3, 3)).requires_grad_(), mode="r").R.sum().backward()
    ),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_errors_match_torch(case):
    _same_error(lambda lib: ERROR_CASES[case](lib, (lambda x: x) if lib is torch else from_torch))
