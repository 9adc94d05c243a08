"""torch.linalg's factorizations against torch: LU (det, slogdet, logdet, inv, solve, lu_factor),
Cholesky (cholesky, cholesky_ex, cholesky_solve, cholesky_inverse) and solve_triangular.

Inputs are well conditioned by construction (general: randn + n I; SPD: R R^T + n I), so the
float32 tolerances bound a few rounding errors times a small condition number.
"""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import from_torch, to_torch
from tritongrad.autograd import gradcheck

F64 = torch.float64
# (rtol, atol) of a factorization-based result of a well-conditioned matrix (condition number < ~10)
TOL = {torch.float32: (1e-4, 1e-5), torch.float64: (1e-10, 1e-12)}
SHAPES = [(), (3,), (2, 3)]  # batch shapes: none, one dim, two dims
SIZES = [1, 2, 5, 17]  # 1: one element; 17: prime, more than one 16-block


def general(*batch, n, dtype=F64):
    return (torch.randn(*batch, n, n, dtype=F64) + n * torch.eye(n, dtype=F64)).to(dtype)


def spd(*batch, n, dtype=F64):
    r = torch.randn(*batch, n, n, dtype=F64)
    return (r @ r.mT + n * torch.eye(n, dtype=F64)).to(dtype)


def close(got, want, dtype=None):
    rtol, atol = TOL[dtype or want.dtype]
    got = to_torch(got) if isinstance(got, tritongrad.Tensor) else got
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    torch.testing.assert_close(got, want, rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------------- LU family


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("n", SIZES)
def test_lu_family_matches_torch(n, dtype):
    batch = (2, 3) if n < 17 else (2,)
    A = general(*batch, n=n, dtype=dtype)
    a = from_torch(A)
    close(tritongrad.linalg.det(a), torch.linalg.det(A))
    sign, logabs = tritongrad.linalg.slogdet(a)
    want = torch.linalg.slogdet(A)
    close(sign, want.sign)
    close(logabs, want.logabsdet)
    close(tritongrad.linalg.inv(a), torch.linalg.inv(A))
    B = torch.randn(*batch, n, 3, dtype=dtype)
    close(tritongrad.linalg.solve(a, from_torch(B)), torch.linalg.solve(A, B))
    lu, pivots = tritongrad.linalg.lu_factor(a)
    want_lu, want_pivots = torch.linalg.lu_factor(A)
    close(lu, want_lu)
    assert torch.equal(to_torch(pivots), want_pivots)


@pytest.mark.parametrize("batch", SHAPES)
def test_batch_shapes_and_top_level_names(batch):
    A = general(*batch, n=3)
    a = from_torch(A)
    close(tritongrad.det(a), torch.det(A))
    close(a.det(), A.det())
    close(tritongrad.inverse(a), torch.inverse(A))
    close(a.inverse(), A.inverse())
    close(tritongrad.logdet(a), torch.logdet(A))
    close(a.logdet(), A.logdet())
    got, want = a.slogdet(), A.slogdet()
    assert type(got).__name__ == type(want).__name__ == "slogdet"
    close(got.logabsdet, want.logabsdet)
    close(tritongrad.slogdet(a)[0], torch.slogdet(A)[0])


def test_non_contiguous_inputs():
    A = general(4, n=5)
    B = torch.randn(5, 4, 3, dtype=F64)
    for view in (A.mT, A[::2], A.permute(1, 2, 0).permute(2, 0, 1)):
        close(tritongrad.linalg.inv(from_torch(view)), torch.linalg.inv(view))
        close(tritongrad.linalg.det(from_torch(view)), torch.linalg.det(view))
    b = B.permute(1, 0, 2)  # (4, 5, 3), batch not outermost in memory
    close(tritongrad.linalg.solve(from_torch(A.mT), from_torch(b)), torch.linalg.solve(A.mT, b))


def test_solve_forms_broadcast_like_torch():
    A = general(2, 1, n=4)
    cases = [
        torch.randn(4, dtype=F64),  # one vector for every matrix
        torch.randn(2, 1, 4, dtype=F64),  # a batch of vectors: B.shape == A.shape[:-1]
        torch.randn(3, 4, 2, dtype=F64),  # matrices, batch dims broadcast to (2, 3)
    ]
    for B in cases:
        close(tritongrad.linalg.solve(from_torch(A), from_torch(B)), torch.linalg.solve(A, B))
    B = torch.randn(2, 4, dtype=F64)
    close(
        tritongrad.linalg.solve(from_torch(A[0, 0]), from_torch(B), left=False),
        torch.linalg.solve(A[0, 0], B, left=False),
    )
    result, info = tritongrad.linalg.solve_ex(from_torch(A), from_torch(cases[0]))
    close(result, torch.linalg.solve(A, cases[0]))
    assert torch.equal(to_torch(info), torch.linalg.solve_ex(A, cases[0]).info)


def test_empty_and_singular_values():
    close(tritongrad.linalg.det(from_torch(torch.randn(2, 0, 0, dtype=F64))), torch.ones(2, dtype=F64))
    assert tritongrad.linalg.inv(from_torch(torch.randn(0, 3, 3))).shape == (0, 3, 3)
    assert tritongrad.linalg.inv(from_torch(torch.randn(0, 0))).shape == (0, 0)
    singular = torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]], dtype=F64)
    close(tritongrad.linalg.det(from_torch(singular)), torch.linalg.det(singular))
    sign, logabs = tritongrad.linalg.slogdet(from_torch(singular))
    assert to_torch(sign).item() == 0.0 and to_torch(logabs).item() == float("-inf")
    negative = -torch.eye(3, dtype=F64)
    assert torch.isnan(to_torch(tritongrad.logdet(from_torch(negative)))).item()
    inverse, info = tritongrad.linalg.inv_ex(from_torch(torch.stack([singular, torch.eye(3, dtype=F64)])))
    assert torch.equal(to_torch(info), torch.linalg.inv_ex(torch.stack([singular, torch.eye(3, dtype=F64)])).info)


def test_lu_factor_of_rectangular_matrices():
    for shape in ((3, 5), (5, 3), (2, 4, 1)):
        A = torch.randn(*shape, dtype=F64)
        lu, pivots, info = tritongrad.linalg.lu_factor_ex(from_torch(A))
        want = torch.linalg.lu_factor_ex(A)
        close(lu, want.LU)
        assert torch.equal(to_torch(pivots), want.pivots) and torch.equal(to_torch(info), want.info)


def test_largest_size_and_refusal_above_it():
    A = general(n=64, dtype=torch.float32)
    close(tritongrad.linalg.inv(from_torch(A)), torch.linalg.inv(A))
    with pytest.raises(NotImplementedError, match="at most 64"):
        tritongrad.linalg.det(from_torch(torch.randn(65, 65)))


# ------------------------------------------------------------------------------------- Cholesky


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("n", SIZES)
def test_cholesky_matches_torch(n, dtype):
    A = spd(2, n=n, dtype=dtype)
    a = from_torch(A)
    for upper in (False, True):
        close(tritongrad.linalg.cholesky(a, upper=upper), torch.linalg.cholesky(A, upper=upper))
    L = torch.linalg.cholesky(A)
    B = torch.randn(2, n, 2, dtype=dtype)
    close(tritongrad.cholesky_solve(from_torch(B), from_torch(L)), torch.cholesky_solve(B, L))
    close(
        tritongrad.cholesky_solve(from_torch(B), from_torch(L.mT), upper=True),
        torch.cholesky_solve(B, L.mT, upper=True),
    )


def test_cholesky_reads_one_triangle_and_other_names():
    A = spd(3, n=4)
    junk = A + torch.triu(torch.randn(3, 4, 4, dtype=F64), 1)  # the upper triangle is not read
    close(tritongrad.linalg.cholesky(from_torch(junk)), torch.linalg.cholesky(junk))
    close(tritongrad.linalg.cholesky(from_torch(junk.mT), upper=True), torch.linalg.cholesky(junk.mT, upper=True))
    close(tritongrad.cholesky(from_torch(A.mT)), torch.linalg.cholesky(A.mT))
    close(from_torch(A).cholesky(), torch.linalg.cholesky(A))
    L, info = tritongrad.linalg.cholesky_ex(from_torch(A))
    close(L, torch.linalg.cholesky(A))
    assert to_torch(info).tolist() == [0, 0, 0]
    L = torch.linalg.cholesky(A)
    close(tritongrad.cholesky_inverse(from_torch(L[0])), torch.cholesky_inverse(L[0]))


# ------------------------------------------------------------------------------ triangular solve


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("upper", [False, True])
def test_solve_triangular_matches_torch(upper, dtype):
    A = general(2, n=5, dtype=dtype)
    for left in (True, False):
        for unit in (False, True):
            B = torch.randn(2, 5, 3, dtype=dtype) if left else torch.randn(3, 5, dtype=dtype)
            want = torch.linalg.solve_triangular(A, B, upper=upper, left=left, unitriangular=unit)
            got = tritongrad.linalg.solve_triangular(from_torch(A), from_torch(B), upper=upper, left=left,
                                                     unitriangular=unit)  # fmt: skip
            close(got, want)
    B = torch.randn(5, 70, dtype=dtype)  # two panels of right-hand sides, a transposed A
    want = torch.linalg.solve_triangular(A[1].mT, B, upper=upper)
    close(tritongrad.linalg.solve_triangular(from_torch(A[1].mT), from_torch(B), upper=upper), want)


# ------------------------------------------------------------------------------------ gradients


def _grads(fn, *inputs):
    """fn's outputs weighted by fixed random tensors and summed, differentiated in both libraries."""
    leaves_t = [x.clone().requires_grad_() for x in inputs]
    leaves_g = [from_torch(x, requires_grad=True) for x in inputs]
    out_t = fn(torch, *leaves_t)
    out_g = fn(tritongrad, *leaves_g)
    weight = torch.randn(out_t.shape, dtype=out_t.dtype)
    (out_t * weight).sum().backward()
    (out_g * from_torch(weight)).sum().backward()
    for got, want in zip(leaves_g, leaves_t):
        torch.testing.assert_close(to_torch(got.grad), want.grad, rtol=1e-9, atol=1e-10)
    return out_g


GRAD_CASES = {
    "det": (lambda lib, a: lib.linalg.det(a), "general"),
    "slogdet": (lambda lib, a: lib.linalg.slogdet(a).logabsdet, "general"),
    "logdet": (lambda lib, a: lib.logdet(a), "spd"),
    "inv": (lambda lib, a: lib.linalg.inv(a), "general"),
    "cholesky": (lambda lib, a: lib.linalg.cholesky(a), "spd"),
    "cholesky upper": (lambda lib, a: lib.linalg.cholesky(a, upper=True), "spd"),
}


@pytest.mark.parametrize("case", list(GRAD_CASES))
def test_gradients_match_torch(case):
    fn, kind = GRAD_CASES[case]
    A = (general if kind == "general" else spd)(2, n=4)
    out = _grads(fn, A)
    torch_name = type(fn(torch, A.clone().requires_grad_()).grad_fn).__name__
    assert type(out.grad_fn).__name__ == torch_name


def test_solve_gradients_match_torch_with_broadcasting():
    A = general(2, 1, n=3)
    _grads(lambda lib, a, b: lib.linalg.solve(a, b), A, torch.randn(3, 3, 2, dtype=F64))
    _grads(lambda lib, a, b: lib.linalg.solve(a, b), A[0, 0], torch.randn(3, dtype=F64))
    _grads(lambda lib, a, b: lib.linalg.solve(a, b, left=False), A, torch.randn(4, 3, dtype=F64))


@pytest.mark.parametrize("upper", [False, True])
def test_triangular_gradients_match_torch(upper):
    A = general(2, n=4)
    for left in (True, False):
        for unit in (False, True):
            B = torch.randn(2, 4, 3, dtype=F64) if left else torch.randn(3, 4, dtype=F64)
            options = {"upper": upper, "left": left, "unitriangular": unit}
            _grads(lambda lib, a, b, options=options: lib.linalg.solve_triangular(a, b, **options), A, B)
    L = torch.linalg.cholesky(spd(n=4))
    _grads(lambda lib, b, factor: lib.cholesky_solve(b, factor), torch.randn(4, 2, dtype=F64), L)


def test_gradcheck_float64():
    A = from_torch(general(n=3), requires_grad=True)
    S = from_torch(spd(n=3), requires_grad=True)
    B = from_torch(torch.randn(3, 2, dtype=F64), requires_grad=True)
    assert gradcheck(lambda a: tritongrad.linalg.det(a), (A,))
    assert gradcheck(lambda a, b: tritongrad.linalg.solve(a, b), (A, B))
    assert gradcheck(lambda a: tritongrad.linalg.inv(a), (A,))
    assert gradcheck(lambda s: tritongrad.linalg.cholesky(s + s.mT), (S,))  # (only one triangle is read)
    assert gradcheck(lambda a, b: tritongrad.linalg.solve_triangular(a, b, upper=True), (A, B))


# ---------------------------------------------------------------------------------------- errors


def _same_error(call):
    """Runs call(torch) and call(tritongrad): the same exception type and the same message."""
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(Exception) as got:
        call(tritongrad)
    assert type(got.value) is type(want.value), (got.value, want.value)
    assert str(got.value) == str(want.value)


def _singular_batch():
    Z = torch.eye(3, dtype=F64).repeat(2, 2, 1, 1)
    Z[1, 0, 1, 1] = 0.0
    Z[1, 0, 2, 2] = 0.0
    return Z


ERROR_CASES = {
    "inv singular": lambda lib, t: lib.linalg.inv(t(torch.zeros(3, 3))),
    "inv singular batched": lambda lib, t: lib.linalg.inv(t(_singular_batch())),
    "solve singular": lambda lib, t: lib.linalg.solve(t(torch.zeros(3, 3)), t(torch.ones(3))),
    "solve singular batched": lambda lib, t: lib.linalg.solve(t(_singular_batch()), t(torch.ones(3, 1, dtype=F64))),
    "cholesky not PD": lambda lib, t: lib.linalg.cholesky(t(torch.diag(torch.tensor([1.0, -1.0, 1.0])))),
    "cholesky not PD batched": lambda lib, t: lib.linalg.cholesky(t(_singular_batch())),
    "inv non-square": lambda lib, t: lib.linalg.inv(t(torch.randn(3, 4))),
    "det non-square": lambda lib, t: lib.linalg.det(t(torch.randn(3, 4))),
    "cholesky non-square": lambda lib, t: lib.linalg.cholesky(t(torch.randn(3, 4))),
    "inv integer": lambda lib, t: lib.linalg.inv(t(torch.ones(3, 3, dtype=torch.int64))),
    "det integer": lambda lib, t: lib.linalg.det(t(torch.ones(3, 3, dtype=torch.int64))),
    "inv half": lambda lib, t: lib.linalg.inv(t(torch.ones(3, 3, dtype=torch.float16))),
    "det half": lambda lib, t: lib.linalg.det(t(torch.ones(3, 3, dtype=torch.float16))),
    "cholesky half": lambda lib, t: lib.linalg.cholesky(t(torch.ones(3, 3, dtype=torch.float16))),
    "inv 1-d": lambda lib, t: lib.linalg.inv(t(torch.ones(3))),
    "solve shapes": lambda lib, t: lib.linalg.solve(t(torch.randn(3, 3)), t(torch.randn(4))),
    "solve matrix shapes": lambda lib, t: lib.linalg.solve(t(torch.randn(3, 3)), t(torch.randn(2, 3))),
    "solve_triangular vector": lambda lib, t: lib.linalg.solve_triangular(
        t(torch.randn(3, 3)), t(torch.randn(3)), upper=True),
    "solve_triangular shapes": lambda lib, t: lib.linalg.solve_triangular(
        t(torch.randn(3, 3)), t(torch.randn(4, 2)), upper=True),
    "solve_triangular half": lambda lib, t: lib.linalg.solve_triangular(
        t(torch.ones(3, 3, dtype=torch.float16)), t(torch.ones(3, 3, dtype=torch.float16)), upper=True),
    "cholesky_solve dtypes": lambda lib, t: lib.cholesky_solve(
        t(torch.randn(3, 2)), t(torch.ones(3, 3, dtype=torch.int64))),
    "cholesky_solve shapes": lambda lib, t: lib.cholesky_solve(t(torch.randn(4, 2)), t(torch.eye(3))),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_errors_match_torch(case):
    _same_error(lambda lib: ERROR_CASES[case](lib, (lambda x: x) if lib is torch else from_torch))


def test_linalg_error_is_torchs():
    assert tritongrad.linalg.LinAlgError is torch.linalg.LinAlgError
    assert issubclass(tritongrad.linalg.LinAlgError, RuntimeError)


def test_matrix_power_and_multi_dot_match_torch():
    A = general(2, n=3)
    for n in (-3, -1, 0, 1, 2, 5):
        close(tritongrad.linalg.matrix_power(from_torch(A), n), torch.linalg.matrix_power(A, n))
    chain = [torch.randn(4, dtype=F64), torch.randn(4, 3, dtype=F64), torch.randn(3, 5, dtype=F64)]
    close(tritongrad.linalg.multi_dot([from_torch(t) for t in chain]), torch.linalg.multi_dot(chain))
    _grads(lambda lib, a: lib.linalg.matrix_power(a, -2), A)
    _same_error(
        lambda lib: lib.linalg.matrix_power((torch.randn(3, 4) if lib is torch else from_torch(torch.randn(3, 4))), 2)
    )
