"""Edge semantics of tritongrad.linalg found by the fourth red team, each compared with torch 2.13 by
``agree`` (value, dtype and gradient, or exception type and message head):

- gradients that need no eigen/singular-value gaps (eigvalsh, svdvals, pinv at repeated values);
- NaN and infinite inputs: values that propagate as LAPACK's, or torch's LinAlgError for SVD;
- triangular solves whose zero diagonal / infinite entry reaches only what depends on it;
- lu_factor's refusal of a singular matrix, integer inputs refused by the kernel's dispatch.

Where torch's answer depends on LAPACK's iteration rather than on the input (eigh of a matrix with
a NaN: NaN for some inputs, arbitrary numbers or "failed to converge" for others), tritongrad's
choice (NaN) is checked on its own at the end.
"""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tests.utils import assert_close, from_torch
from tritongrad.autograd import gradcheck

F64 = torch.float64
NAN, INF = float("nan"), float("inf")


def _t(values, dtype=F64, grad: bool = False) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype).requires_grad_(grad)


def _orthogonal(n: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.linalg.qr(torch.randn(n, n, generator=generator, dtype=F64))[0]


def _with_spectrum(values, seed: int = 0) -> torch.Tensor:
    """Q diag(values) Q^T: a symmetric matrix with these (possibly repeated) eigenvalues."""
    q = _orthogonal(len(values), seed)
    return q @ torch.diag(torch.tensor(values, dtype=F64)) @ q.T


def _with_singular_values(values, rows: int, cols: int, seed: int = 0) -> torch.Tensor:
    """U diag(values) V^T (rows x cols) with these (possibly repeated) singular values."""
    u, v = _orthogonal(rows, seed)[:, : len(values)], _orthogonal(cols, seed + 1)[:, : len(values)]
    return u @ torch.diag(torch.tensor(values, dtype=F64)) @ v.T


def _weights(*shape, seed: int = 5) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=generator, dtype=F64) + 0.5


def _backward(loss, a):
    loss.backward()
    return a.grad


# ------------------------------------------------------------------------------------------------
# 1. Gradients without gap terms
# ------------------------------------------------------------------------------------------------

REPEATED_SPECTRUM = _with_spectrum([1.0, 2.0, 2.0, 5.0])
REPEATED_SINGULAR = _with_singular_values([3.0, 2.0, 2.0], 3, 4)
EQUAL_AT_1_2 = torch.tensor([0.7, 1.3, 1.3, 2.0], dtype=F64)

GRADIENTS = {
    # torch a.grad = I (tritongrad was all NaN: 1 / (l_i - l_j) at the triple eigenvalue)
    "eigvalsh at the identity": (lambda lib, a: _backward(lib.linalg.eigvalsh(a).sum(), a), [torch.eye(3, dtype=F64)]),
    # (weights equal where the eigenvalues are: only such losses are differentiable there)
    "eigvalsh at a repeated eigenvalue": (
        lambda lib, a, w: _backward((lib.linalg.eigvalsh(a) * w).sum(), a),
        [REPEATED_SPECTRUM, EQUAL_AT_1_2],
    ),
    "eigvalsh UPLO=U at a repeated eigenvalue": (
        lambda lib, a, w: _backward((lib.linalg.eigvalsh(a, UPLO="U") * w).sum(), a),
        [REPEATED_SPECTRUM, EQUAL_AT_1_2],
    ),
    "eigh with only eigenvalues used": (
        lambda lib, a: _backward(lib.linalg.eigh(a)[0].pow(2).sum(), a),
        [REPEATED_SPECTRUM],
    ),
    # torch [[1, 0, 0], [0, 1, 0]] (U diag(g) V^T), tritongrad NaN
    "svdvals at a zero wide matrix": (
        lambda lib, a: _backward(lib.linalg.svdvals(a).sum(), a),
        [torch.zeros(2, 3, dtype=F64)],
    ),
    "svdvals at a zero tall matrix": (
        lambda lib, a: _backward(lib.linalg.svdvals(a).sum(), a),
        [torch.zeros(3, 2, dtype=F64)],
    ),
    "svd's S alone at a zero matrix": (
        lambda lib, a: _backward(lib.linalg.svd(a)[1].sum(), a),
        [torch.zeros(3, 3, dtype=F64)],
    ),
    "nuclear norm at the identity": (
        lambda lib, a: _backward(lib.linalg.matrix_norm(a, "nuc"), a),
        [torch.eye(3, dtype=F64)],
    ),
    "svdvals at a repeated singular value": (
        lambda lib, a, w: _backward((lib.linalg.svdvals(a) * w).sum(), a),
        [REPEATED_SINGULAR, EQUAL_AT_1_2[:3]],
    ),
    # pinv is smooth at a full-rank matrix with a repeated singular value (torch matches finite differences)
    "pinv at a repeated singular value": (
        lambda lib, a, w: _backward((lib.linalg.pinv(a) * w).sum(), a),
        [REPEATED_SINGULAR, _weights(4, 3)],
    ),
    "pinv of a tall matrix at a repeated singular value": (
        lambda lib, a, w: _backward((lib.linalg.pinv(a) * w).sum(), a),
        [REPEATED_SINGULAR.T.contiguous(), _weights(3, 4)],
    ),
    "pinv at 2 I (3 x 4)": (
        lambda lib, a, w: _backward((lib.linalg.pinv(a) * w).sum(), a),
        [2 * torch.eye(3, 4, dtype=F64), _weights(4, 3)],
    ),
    "pinv hermitian at a repeated eigenvalue": (
        lambda lib, a, w: _backward((lib.linalg.pinv(a, hermitian=True) * w).sum(), a),
        [REPEATED_SPECTRUM, _weights(4, 4)],
    ),
    "pinv of a rank-deficient matrix": (
        lambda lib, a, w: _backward((lib.linalg.pinv(a) * w).sum(), a),
        [_with_singular_values([3.0, 1.0], 3, 4), _weights(4, 3)],
    ),
}


@pytest.mark.parametrize("name", list(GRADIENTS))
def test_gradients_need_no_spectral_gaps(name):
    function, inputs = GRADIENTS[name]
    agree(name, function, [inputs[0].clone().requires_grad_(), *inputs[1:]])


def test_pinv_gradient_matches_finite_differences_at_a_repeated_singular_value():
    weights = from_torch(_weights(4, 3))
    a = from_torch(REPEATED_SINGULAR, requires_grad=True)
    assert gradcheck(lambda x: (tritongrad.linalg.pinv(x) * weights).sum(), (a,))
    assert tritongrad.linalg.pinv(a).grad_fn.name() == "LinalgPinvBackward0"


# ------------------------------------------------------------------------------------------------
# 2. NaN and infinite inputs
# ------------------------------------------------------------------------------------------------

NAN_PIVOT = [[NAN, 1.0], [1.0, 1.0]]  # the NaN is the first pivot (getrf's idamax keeps it)
NAN_BELOW = [[1.0, 1.0], [NAN, 1.0]]  # a NaN below the first pivot is never picked
NAN_OFF = [[1.0, NAN], [NAN, 1.0]]
NAN_DIAGONAL = [[NAN, 0.0], [0.0, 1.0]]
INF_DIAGONAL = [[INF, 0.0], [0.0, 1.0]]
INF_OFF = [[1.0, INF], [INF, 1.0]]
MINUS_INF_BELOW = [[2.0, 1.0], [-INF, 1.0]]
SVD_MESSAGE = "linalg.svd: The algorithm failed to converge because the input matrix contained non-finite values."

NON_FINITE = {
    # tritongrad gave det 1.0 and slogdet (1, 0): the NaN pivot was skipped by the pivot search
    "det of a NaN pivot": (lambda lib, a: lib.linalg.det(a), NAN_PIVOT),
    "det of a NaN below the pivot": (lambda lib, a: lib.linalg.det(a), NAN_BELOW),
    "det of a NaN diagonal": (lambda lib, a: lib.linalg.det(a), NAN_DIAGONAL),
    "det of an infinite entry": (lambda lib, a: lib.linalg.det(a), INF_OFF),
    "slogdet of a NaN pivot": (lambda lib, a: tuple(lib.linalg.slogdet(a)), NAN_PIVOT),
    "slogdet of a NaN off the diagonal": (lambda lib, a: tuple(lib.linalg.slogdet(a)), NAN_OFF),
    "slogdet of an infinite diagonal": (lambda lib, a: tuple(lib.linalg.slogdet(a)), INF_DIAGONAL),
    "lu_factor_ex of a NaN pivot": (lambda lib, a: tuple(lib.linalg.lu_factor_ex(a)), NAN_PIVOT),
    "lu_factor_ex of a NaN off the diagonal": (lambda lib, a: tuple(lib.linalg.lu_factor_ex(a)), NAN_OFF),
    "lu_factor_ex of an infinite entry": (lambda lib, a: tuple(lib.linalg.lu_factor_ex(a)), INF_OFF),
    "lu_factor of -inf below the pivot": (lambda lib, a: tuple(lib.linalg.lu_factor(a)), MINUS_INF_BELOW),
    "inv_ex of a NaN diagonal": (lambda lib, a: tuple(lib.linalg.inv_ex(a)), NAN_DIAGONAL),
    "inv of a NaN pivot": (lambda lib, a: lib.linalg.inv(a), NAN_PIVOT),
    "inv of an infinite diagonal": (lambda lib, a: lib.linalg.inv(a), INF_DIAGONAL),
    "inv of -inf below the pivot": (lambda lib, a: lib.linalg.inv(a), MINUS_INF_BELOW),
    "solve with a NaN diagonal": (lambda lib, a: lib.linalg.solve(a, lib.ones(2, dtype=F64)), NAN_DIAGONAL),
    "solve with infinite entries": (lambda lib, a: lib.linalg.solve(a, lib.ones(2, dtype=F64)), INF_OFF),
    "cholesky_ex of a NaN pivot": (lambda lib, a: tuple(lib.linalg.cholesky_ex(a)), NAN_PIVOT),
    "cholesky_ex of a NaN off the diagonal": (lambda lib, a: tuple(lib.linalg.cholesky_ex(a)), NAN_OFF),
    "cholesky_ex of an infinite diagonal": (lambda lib, a: tuple(lib.linalg.cholesky_ex(a)), INF_DIAGONAL),
    "cholesky_ex of infinite entries": (lambda lib, a: tuple(lib.linalg.cholesky_ex(a)), INF_OFF),
    "cholesky of a NaN": (lambda lib, a: lib.linalg.cholesky(a), NAN_OFF),
    # [[1, nan], [nan, 1]]: torch [nan, nan], tritongrad [1, 1]
    "eigvalsh of a NaN off the diagonal": (lambda lib, a: lib.linalg.eigvalsh(a), NAN_OFF),
    "eigvalsh of an infinite diagonal": (lambda lib, a: lib.linalg.eigvalsh(a), INF_DIAGONAL),
    "eigvalsh of infinite entries": (lambda lib, a: lib.linalg.eigvalsh(a), INF_OFF),
    "eigh of a NaN off the diagonal": (lambda lib, a: tuple(lib.linalg.eigh(a)), NAN_OFF),
    "eigh's eigenvalues of -inf": (lambda lib, a: lib.linalg.eigh(a)[0], [[2.0, -INF], [-INF, 1.0]]),
    # torch: LinAlgError for a NaN (gesdd), NaN singular values for an infinity
    "svdvals of a NaN": (lambda lib, a: lib.linalg.svdvals(a), NAN_PIVOT),
    "svd of a NaN": (lambda lib, a: tuple(lib.linalg.svd(a)), NAN_DIAGONAL),
    "pinv of a NaN": (lambda lib, a: lib.linalg.pinv(a), NAN_OFF),
    "matrix_rank of a NaN": (lambda lib, a: lib.linalg.matrix_rank(a), NAN_DIAGONAL),
    "cond of a NaN": (lambda lib, a: lib.linalg.cond(a), NAN_BELOW),
    "matrix_norm 2 of a NaN": (lambda lib, a: lib.linalg.matrix_norm(a, 2), NAN_PIVOT),
    "nuclear norm of a NaN": (lambda lib, a: lib.linalg.matrix_norm(a, "nuc"), NAN_PIVOT),
    "svdvals of an infinity": (lambda lib, a: lib.linalg.svdvals(a), INF_DIAGONAL),
    "svd's S of an infinity": (lambda lib, a: lib.linalg.svd(a)[1], INF_OFF),
    "matrix_rank of an infinity": (lambda lib, a: lib.linalg.matrix_rank(a), INF_OFF),
    "cond of an infinity": (lambda lib, a: lib.linalg.cond(a), MINUS_INF_BELOW),
    "nuclear norm of an infinity": (lambda lib, a: lib.linalg.matrix_norm(a, "nuc"), INF_DIAGONAL),
    # cond with p != 2 is ||A|| ||A^-1||, a NaN read as inf
    "cond 1 of a NaN": (lambda lib, a: lib.linalg.cond(a, 1), NAN_PIVOT),
    "cond fro of a NaN": (lambda lib, a: lib.linalg.cond(a, "fro"), NAN_OFF),
    "cond inf of an infinity": (lambda lib, a: lib.linalg.cond(a, INF), INF_DIAGONAL),
    "cond 1 of a singular matrix": (lambda lib, a: lib.linalg.cond(a, 1), [[1.0, 2.0], [2.0, 4.0]]),
}


@pytest.mark.parametrize("name", list(NON_FINITE))
def test_non_finite_inputs_as_torch(name):
    function, values = NON_FINITE[name]
    agree(name, function, [_t(values)])


BATCHED_NON_FINITE = {
    # torch names the matrix: "linalg.svd: (Batch element 1): The algorithm failed to converge ..."
    "svdvals": lambda lib, a: lib.linalg.svdvals(a),
    "pinv": lambda lib, a: lib.linalg.pinv(a),
    "matrix_rank": lambda lib, a: lib.linalg.matrix_rank(a),
    "det": lambda lib, a: lib.linalg.det(a),
    "inv": lambda lib, a: lib.linalg.inv(a),
    "eigvalsh": lambda lib, a: lib.linalg.eigvalsh(a),
    "cholesky": lambda lib, a: lib.linalg.cholesky(a),
}


@pytest.mark.parametrize("name", list(BATCHED_NON_FINITE))
def test_one_non_finite_matrix_of_a_batch_as_torch(name):
    batch = _t([[[2.0, 1.0], [1.0, 2.0]], NAN_OFF, [[3.0, 0.0], [0.0, 1.0]]])
    agree(name, BATCHED_NON_FINITE[name], [batch])


def test_lstsq_of_a_nan_is_refused():
    """torch's LAPACK fails (RuntimeError, an internal assert there); tritongrad's is svd's LinAlgError."""
    a = from_torch(_t(NAN_PIVOT))
    with pytest.raises(RuntimeError, match="non-finite values"):
        tritongrad.linalg.lstsq(a, tritongrad.ones(2, 1, dtype=F64))


def test_svd_nan_message():
    with pytest.raises(tritongrad.linalg.LinAlgError, match=SVD_MESSAGE.replace(".", r"\.")):
        tritongrad.linalg.svdvals(from_torch(_t(NAN_OFF)))


# Cholesky: a failed factor is potrf's (left-looking): the columns before the failure factored, the
# failed pivot on the diagonal, the input's values from there on.
CHOLESKY_FAILURES = {
    "a zero pivot at order 2": [[4.0, 2, 2, 1], [2, 1, 3, 1], [2, 3, 9, 1], [1, 1, 1, 5]],
    "a negative pivot at order 3": [[4.0, 2, 2, 1], [2, 5, 3, 1], [2, 3, -9, 1], [1, 1, 1, 5]],
    "a NaN on the diagonal": [[4.0, 2, 2, 1], [2, 5, 3, 1], [2, 3, NAN, 1], [1, 1, 1, 5]],
    "a NaN pair": [[4.0, 2, 2, 1], [2, 5, NAN, 1], [2, NAN, 9, 1], [1, 1, 1, 5]],
    "an infinite pair": [[4.0, 2, 2, 1], [2, 5, INF, 1], [2, INF, 9, 1], [1, 1, 1, 5]],
}


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("name", list(CHOLESKY_FAILURES))
def test_failed_cholesky_factor_is_potrfs(name, upper):
    agree(name, lambda lib, a: tuple(lib.linalg.cholesky_ex(a, upper=upper)), [_t(CHOLESKY_FAILURES[name])])


# ------------------------------------------------------------------------------------------------
# 3. Triangular solves: a zero diagonal or an infinity reaches only what depends on it
# ------------------------------------------------------------------------------------------------

TRIANGULAR = {
    # (A, B, upper, left): torch's substitution order (trsm); tritongrad once spread 0 * inf = NaN
    "upper zero diagonal": ([[0, 1], [0, 1]], [[0], [1]], True, True),  # torch [-inf, 1]
    "upper infinite entry": ([[1, INF], [0, 1]], [[1], [0]], True, True),  # torch [nan, 0]
    "lower zero diagonal": ([[0, 0], [1, 1]], [[1], [1]], False, True),  # torch [inf, -inf]
    "upper 0 / 0": ([[0, 1], [0, 1]], [[1], [1]], True, True),  # torch [nan, 1]
    "upper infinite right-hand side": ([[1, 0], [0, 1]], [[1], [INF]], True, True),
    "upper zero in the middle": ([[1, 0, 0], [0, 0, 0], [0, 0, 1]], [[1], [1], [1]], True, True),
    "lower zero in the middle": ([[1, 0, 0], [0, 0, 0], [0, 0, 1]], [[1], [0], [1]], False, True),
    "lower zero with an entry below": ([[1, 0, 0], [0, 0, 0], [0, 2, 1]], [[1], [1], [1]], False, True),
    "a NaN column stays in its column": ([[1, 0], [0, 1]], [[1, NAN], [1, 2]], False, True),
    "right side, lower": ([[0, 0], [1, 1]], [[1, 1]], False, False),
    "right side, zero first pivot": ([[0, 0], [0, 1]], [[1, 1]], False, False),
    "several columns, upper": ([[2, 1, 0], [0, 0, 1], [0, 0, 4]], [[1, 2, 0], [1, 0, 3], [2, 1, 1]], True, True),
}


@pytest.mark.parametrize("unitriangular", [False, True])
@pytest.mark.parametrize("name", list(TRIANGULAR))
def test_triangular_solve_keeps_non_finite_values_where_torch_does(name, unitriangular):
    a, b, upper, left = TRIANGULAR[name]
    agree(
        name,
        lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=upper, left=left, unitriangular=unitriangular),
        [_t(a), _t(b)],
    )


def test_triangular_solve_with_a_zero_diagonal_in_a_larger_matrix():
    """20 x 20 (more than one 16-row block on a GPU): torch's NaN/inf pattern, finite values elsewhere."""
    a = torch.eye(20, dtype=F64) + 0.1 * torch.ones(20, 20, dtype=F64).triu(1)
    a[3, 3] = 0.0
    b = torch.ones(20, 2, dtype=F64)
    for upper, matrix in ((True, a), (False, a.T.contiguous())):
        agree(
            f"20 x 20, upper={upper}",
            lambda lib, m, b, up=upper: lib.linalg.solve_triangular(m, b, upper=up),
            [matrix, b],
        )


# ------------------------------------------------------------------------------------------------
# 4. lu_factor of a singular matrix, integer inputs, mixed dtypes
# ------------------------------------------------------------------------------------------------

SINGULAR_3 = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]

FACTOR_ERRORS = {
    # torch: "torch.linalg.lu_factor: U[3,3] is zero and using it on lu_solve would result in ..."
    "lu_factor of a singular matrix": lambda lib: lib.linalg.lu_factor(lib.tensor(SINGULAR_3)),
    "lu_factor of a zero matrix": lambda lib: lib.linalg.lu_factor(lib.zeros(3, 3)),
    "lu_factor of a wide singular matrix": lambda lib: lib.linalg.lu_factor(lib.zeros(2, 3)),
    "lu_factor of a batch with a singular matrix": lambda lib: lib.linalg.lu_factor(
        lib.stack([lib.eye(3), lib.tensor(SINGULAR_3)])
    ),
    "lu_factor_ex checking errors": lambda lib: lib.linalg.lu_factor_ex(lib.tensor(SINGULAR_3), check_errors=True),
    "lu_factor_ex not checking errors": lambda lib: tuple(lib.linalg.lu_factor_ex(lib.tensor(SINGULAR_3))),
    "lu_factor of a NaN (not singular)": lambda lib: tuple(lib.linalg.lu_factor(lib.tensor([[1.0, NAN], [2.0, 4.0]]))),
    "linalg.lu of a singular matrix": lambda lib: tuple(lib.linalg.lu(lib.tensor(SINGULAR_3))),
    # torch: NotImplementedError "\"linalg_eigh_cpu\" not implemented for 'Long'" (no dtype check first)
    "eigh of int64": lambda lib: lib.linalg.eigh(lib.eye(2, dtype=torch.int64)),
    "eigvalsh of int64": lambda lib: lib.linalg.eigvalsh(lib.eye(2, dtype=torch.int64)),
    "eigh of bool": lambda lib: lib.linalg.eigh(lib.eye(2, dtype=torch.bool)),
    "lu_factor of int64": lambda lib: lib.linalg.lu_factor(lib.eye(2, dtype=torch.int64)),
    "lu_factor_ex of int32": lambda lib: lib.linalg.lu_factor_ex(lib.eye(2, dtype=torch.int32)),
    "solve_triangular of int64": lambda lib: lib.linalg.solve_triangular(
        lib.eye(2, dtype=torch.int64), lib.eye(2, dtype=torch.int64), upper=True
    ),
    "solve_triangular of an int64 A": lambda lib: lib.linalg.solve_triangular(
        lib.eye(2, dtype=torch.int64), lib.eye(2), upper=True
    ),
    # still RuntimeError in torch: these check the dtype before dispatch
    "svd of int64": lambda lib: lib.linalg.svd(lib.eye(2, dtype=torch.int64)),
    "det of int64": lambda lib: lib.linalg.det(lib.eye(2, dtype=torch.int64)),
    "cholesky of int64": lambda lib: lib.linalg.cholesky(lib.eye(2, dtype=torch.int64)),
    # B is converted to A's dtype (torch copies it into a result of A's dtype)
    "solve_triangular of float64 A, float32 B": lambda lib: lib.linalg.solve_triangular(
        2 * lib.eye(2, dtype=F64), lib.tensor([[1.0, 2.0], [3.0, 4.0]]), upper=True
    ),
    "solve_triangular of float32 A, float64 B": lambda lib: lib.linalg.solve_triangular(
        2 * lib.eye(2), lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=F64), upper=False
    ),
    "solve_triangular of float32 A, int64 B": lambda lib: lib.linalg.solve_triangular(
        lib.tensor([[2.0, 1.0], [0.0, 4.0]]), lib.tensor([[1, 2], [3, 4]]), upper=True
    ),
}


@pytest.mark.parametrize("name", list(FACTOR_ERRORS))
def test_factor_errors_and_dtypes_as_torch(name):
    agree(name, FACTOR_ERRORS[name], [])


def test_legacy_lu_factors_a_singular_matrix_as_torch():
    with pytest.warns(UserWarning, match="torch.lu is deprecated"):
        ours = tritongrad.lu(from_torch(_t(SINGULAR_3)))
    with warnings.catch_warnings():  # (torch warns once per process)
        warnings.simplefilter("ignore")
        theirs = torch.lu(_t(SINGULAR_3))
    for got, want in zip(ours, theirs):
        assert_close(got, want)


def test_mixed_dtype_triangular_solve_gradient_reaches_b_in_its_dtype():
    a = torch.tensor([[2.0, 0.0], [1.0, 3.0]], dtype=F64)
    b = torch.tensor([[1.0], [2.0]], dtype=torch.float32)
    agree(
        "gradient through the conversion",
        lambda lib, a, b: _backward(lib.linalg.solve_triangular(a, b, upper=False).sum(), b),
        [a, b.requires_grad_()],
    )


# ------------------------------------------------------------------------------------------------
# tritongrad's own choice where torch's result is LAPACK's iteration, not the input's meaning
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 7])
def test_eigh_of_any_non_finite_matrix_is_nan(n):
    """torch's syevd gives NaN, arbitrary numbers ([[nan, 1], [1, 1]] -> [-1.41, 1.41]) or raises
    "failed to converge" (most 3 x 3 with a NaN) depending on where the NaN sits; tritongrad always
    gives NaN eigenvalues and vectors for that matrix only, without a host sync."""
    a = _with_spectrum(list(range(1, n + 1)), seed=n)
    batch = torch.stack([a, a, a])
    batch[1, n - 1, 0] = NAN  # (the lower triangle is the one read)
    batch[2, 0, 0] = INF
    w, v = tritongrad.linalg.eigh(from_torch(batch))
    assert bool(w[1:].isnan().all()) and bool(v[1:].isnan().all())
    assert_close(w[0], torch.linalg.eigvalsh(a))
    w_upper = tritongrad.linalg.eigvalsh(from_torch(batch), UPLO="U")
    assert not bool(w_upper[1].isnan().any()), "a NaN outside the read triangle is not read"
    assert bool(w_upper[2].isnan().all())
