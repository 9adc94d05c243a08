"""The tenth red-team round's distance and statistics findings (numerics2 #4, #5, #7-#10, #20, #23,
#27, #29, #30; scripts4a #4): cov/corrcoef's result dtype, empty and degenerate inputs and argument
checks; cdist/pdist's p = inf and p = 0 gradients, NaN inputs, torch's matmul form of p = 2 cdist,
argument checks and node names. Each case is compared with torch by ``agree``: the value (and
the inputs' gradients), or the exception type and the head of its message."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import tritongrad
from tests.test_hardening import agree

NAN, INF = float("nan"), float("inf")


def _quietly(function):
    """``function`` with the degrees-of-freedom warning silenced (it is checked on its own below)."""

    def run(lib, *args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function(lib, *args)

    return run


def _functional(lib):
    return torch.nn.functional if lib is torch else tritongrad.nn.functional


# ----------------------------------------------------------------------------------------------
# numerics2 #4 / #5: cov's result dtype promotes with the weights; no observations give NaN
# ----------------------------------------------------------------------------------------------

_MATRIX = torch.tensor([[1.0, 2.5, -0.5, 4.0], [0.5, -1.0, 2.0, 3.0]])


@pytest.mark.parametrize(
    "input_dtype,weights",
    [(torch.float32, ("aweights", torch.float64)), (torch.float16, ("aweights", torch.float32)),
     (torch.int64, ("aweights", torch.float64)), (torch.int64, ("aweights", torch.float16)),
     (torch.bfloat16, ("aweights", torch.float16)), (torch.float16, ("fweights", torch.int64)),
     (torch.int64, ("fweights", torch.uint8)), (torch.float32, ("both", torch.float64)),
     (torch.int64, None), (torch.float16, None), (torch.float64, ("aweights", torch.float32))],
)  # fmt: skip
def test_cov_result_dtype_promotes_with_the_weights(input_dtype, weights):
    matrix = (_MATRIX * 2).to(input_dtype)
    frequencies = torch.tensor([1, 2, 1, 3])
    importances = torch.tensor([0.5, 1.0, 2.0, 0.25])

    def run(lib, m, f, a):
        if weights is None:
            return lib.cov(m)
        kind, dtype = weights
        given = {}
        if kind in ("fweights", "both"):
            given["fweights"] = f.to(dtype if kind == "fweights" else lib.int64)
        if kind in ("aweights", "both"):
            given["aweights"] = a.to(dtype)
        return lib.cov(m, **given)

    agree(f"cov {input_dtype} {weights}", run, [matrix, frequencies, importances])


@pytest.mark.parametrize(
    "shape,correction", [((0,), 1), ((2, 0), 1), ((2, 0), 0), ((0, 3), 1), ((2, 1), 1), ((2, 3), 3), ((2, 3), -1)]
)
def test_cov_of_too_few_observations(shape, correction):
    agree(f"cov {shape} {correction}", _quietly(lambda lib, x: lib.cov(x, correction=correction)), [torch.ones(shape)])


def test_cov_with_weights_and_a_normalizer_below_zero_divides_by_zero():
    run = _quietly(lambda lib, x, w: lib.cov(x, aweights=w, correction=5))
    agree("cov weighted correction 5", run, [torch.tensor([[1.0, 2.0, 4.0]]), torch.ones(3)])


@pytest.mark.parametrize("library", [torch, tritongrad])
def test_cov_warns_about_the_degrees_of_freedom(library):
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        library.cov(library.zeros(2, 0))


@pytest.mark.parametrize("shape", [(2, 0), (0,), (3, 4)])
def test_corrcoef_of_empty_and_ordinary_inputs(shape):
    values = torch.arange(float(np.prod(shape))).reshape(shape) ** 1.5
    agree(f"corrcoef {shape}", _quietly(lambda lib, x: lib.corrcoef(x)), [values])


def test_cov_gradients_with_weights():
    def run(lib, m, a):
        result = lib.cov(m, fweights=lib.tensor([1, 2, 1, 3]), aweights=a)
        result.sum().backward()
        return result

    agree("cov gradient", run, [_MATRIX.double().requires_grad_(), torch.tensor([0.5, 1.0, 2.0, 0.25]).double()])


# ----------------------------------------------------------------------------------------------
# numerics2 #20 / #29: cov's and corrcoef's argument checks, with torch's exceptions and messages
# ----------------------------------------------------------------------------------------------

_COV_REFUSALS = {
    "bool input": lambda lib, m: lib.cov(lib.tensor([[True, False, True]])),
    "bool 3-D input": lambda lib, m: lib.cov(lib.ones(2, 2, 2, dtype=lib.bool)),
    "3-D input": lambda lib, m: lib.cov(lib.ones(2, 2, 2)),
    "corrcoef 3-D input": lambda lib, m: lib.corrcoef(lib.ones(2, 2, 2)),
    "corrcoef bool input": lambda lib, m: lib.corrcoef(lib.tensor([[True]])),
    "float correction": lambda lib, m: lib.cov(m, correction=1.5),
    "bool correction": lambda lib, m: lib.cov(m, correction=True),
    "aweights sum to zero": lambda lib, m: lib.cov(m, aweights=lib.zeros(4)),
    "fweights sum to zero": lambda lib, m: lib.cov(m, fweights=lib.zeros(4, dtype=lib.long)),
    "no observations with weights": lambda lib, m: lib.cov(lib.zeros(2, 0), aweights=lib.zeros(0)),
    "bool fweights": lambda lib, m: lib.cov(m, fweights=lib.ones(4, dtype=lib.bool)),
    "float fweights of another length": lambda lib, m: lib.cov(m, fweights=lib.ones(3)),
    "long aweights of another length": lambda lib, m: lib.cov(m, aweights=lib.ones(3, dtype=lib.long)),
    "2-D fweights": lambda lib, m: lib.cov(m, fweights=lib.ones(2, 2, dtype=lib.long)),
    "negative aweights of another length": lambda lib, m: lib.cov(m, aweights=-lib.ones(3)),
    "negative fweights": lambda lib, m: lib.cov(m, fweights=lib.tensor([1, -1, 1, 1])),
    "NaN aweights": lambda lib, m: lib.cov(m, aweights=lib.tensor([1.0, NAN, 1.0, 1.0])),
    "aweights after fweights": lambda lib, m: lib.cov(m, fweights=lib.ones(4, dtype=lib.long), aweights=lib.ones(3)),
}


@pytest.mark.parametrize("case", sorted(_COV_REFUSALS))
def test_cov_refusals(case):
    agree(f"cov {case}", _COV_REFUSALS[case], [_MATRIX])


def test_cov_takes_a_0d_integral_tensor_as_correction():
    agree("cov tensor correction", lambda lib, m: lib.cov(m, correction=lib.tensor(0)), [_MATRIX])


# ----------------------------------------------------------------------------------------------
# numerics2 #7 / #8: cdist and pdist gradients with torch's formulas (ties at p = inf each get the
# whole gradient, p = 0 gives zeros, a zero distance gives 0)
# ----------------------------------------------------------------------------------------------

_TIED = torch.tensor([[0.0, 0.0], [1.0, 1.0], [1.0, -1.0], [2.0, 0.5], [1.0, 1.0]], dtype=torch.float64)
_POWERS = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, INF]


@pytest.mark.parametrize("p", _POWERS)
def test_cdist_gradients(p):
    def run(lib, x1, x2):
        result = lib.cdist(x1, x2, p=p)
        (result * lib.arange(1.0, 1.0 + result.numel(), dtype=lib.float64).reshape(result.shape)).sum().backward()
        return result

    x2 = torch.tensor([[0.0, 0.0], [1.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    agree(f"cdist p={p}", run, [_TIED.clone().requires_grad_(), x2.requires_grad_()])


@pytest.mark.parametrize("p", _POWERS)
def test_pdist_gradients(p):
    def run(lib, x):
        result = _functional(lib).pdist(x, p=p)
        (result * lib.arange(1.0, 1.0 + result.numel(), dtype=lib.float64)).sum().backward()
        return result

    agree(f"pdist p={p}", run, [_TIED.clone().requires_grad_()])


def test_batched_cdist_gradients_broadcast_the_batch():
    def run(lib, x1, x2):
        result = lib.cdist(x1, x2, p=INF)
        result.sum().backward()
        return result

    x1 = torch.tensor([[[[0.0, 1.0], [2.0, 2.0]]], [[[1.0, 1.0], [0.0, 0.0]]]], requires_grad=True)  # (2, 1, 2, 2)
    x2 = torch.tensor([[[1.0, 0.0]], [[3.0, 3.0]], [[-1.0, 1.0]]], requires_grad=True)  # (3, 1, 2)
    agree("batched cdist", run, [x1, x2])


@pytest.mark.parametrize("name", ["cdist", "pdist"])
def test_distance_double_backward_is_refused_as_torch_refuses_it(name):
    def run(lib, a):
        distance = lib.cdist(a, a.detach() + 1) if name == "cdist" else _functional(lib).pdist(a)
        (gradient,) = lib.autograd.grad(distance.sum(), a, create_graph=True)
        names = type(gradient.grad_fn).__name__
        gradient.sum().backward()
        return names

    agree(f"{name} double backward", run, [_TIED[:3].clone().requires_grad_()])


# ----------------------------------------------------------------------------------------------
# numerics2 #9: NaN inputs (cdist's p = inf max skips NaN, pdist's propagates it; p = 0 gives NaN)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p,row",
    [(INF, [NAN, 5.0]), (INF, [5.0, NAN]), (INF, [NAN, NAN]), (INF, [INF, NAN]), (INF, [NAN, -5.0, 3.0]),
     (0.0, [NAN, 5.0]), (0.0, [INF, NAN]), (1.0, [5.0, NAN]), (2.0, [NAN, 5.0]), (3.0, [NAN, -5.0, 3.0])],
)  # fmt: skip
def test_nan_inputs(p, row):
    x = torch.tensor([row, [0.0] * len(row), [1.0] * len(row)])

    def run(lib, x):
        return lib.cdist(x, x[1:], p=p), lib.cdist(x[1:], x, p=p), _functional(lib).pdist(x, p=p)

    agree(f"NaN p={p} {row}", run, [x])


# ----------------------------------------------------------------------------------------------
# numerics2 #10: torch's matmul form for p = 2 (more than 25 rows, or 'use_mm_for_euclid_dist')
# ----------------------------------------------------------------------------------------------


def _rows(rows: int, seed: int, offset: float) -> torch.Tensor:
    return torch.tensor(np.random.RandomState(seed).randn(rows, 3) + offset, dtype=torch.float32)


# Rows far from the origin: torch's matmul form is off by up to 0.6 there (cancellation), so agreeing
# shows the same form and steps. (Where a side has few rows, torch's BLAS accumulates the 5-term dot
# products in another order than tritongrad's matmul, so the cancellation error itself differs: those
# shapes are compared on rows near the origin.)
@pytest.mark.parametrize("rows,offset", [((30, 30), 1000.0), ((26, 40), 1000.0), ((3, 26), 1.0), ((26, 2), 1.0),
                                         ((25, 25), 1000.0)])  # fmt: skip
@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                                  "donot_use_mm_for_euclid_dist"])  # fmt: skip
def test_cdist_matmul_form_rounds_as_torch(rows, offset, mode):
    if mode == "use_mm_for_euclid_dist" and rows == (25, 25):
        offset = 1.0  # (25 rows a side: its BLAS order again)
    x1, x2 = _rows(rows[0], 0, offset), _rows(rows[1], 1, offset)
    agree(f"cdist {rows} {mode}", lambda lib, a, b: lib.cdist(a, b, compute_mode=mode), [x1, x2])


@pytest.mark.parametrize("p", [2.0, 1.0])
def test_cdist_matmul_form_gradients_and_node(p):
    def run(lib, x1, x2):
        result = lib.cdist(x1, x2, p=p, compute_mode="use_mm_for_euclid_dist")
        result.sum().backward()
        return result, type(result.grad_fn).__name__

    x1 = torch.tensor([[1.0, 2.0], [1.0, 2.0], [3.0, 5.0]], dtype=torch.float64, requires_grad=True)
    x2 = torch.tensor([[1.0, 2.0], [0.0, -1.0]], dtype=torch.float64, requires_grad=True)
    agree(f"cdist matmul form p={p}", run, [x1, x2])


def test_batched_cdist_matmul_form():
    def run(lib, x1, x2):
        result = lib.cdist(x1, x2)
        result.sum().backward()
        return result, type(result.grad_fn).__name__

    x1 = torch.randn(2, 1, 3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x2 = torch.randn(3, 27, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    agree("batched cdist matmul form", run, [x1.requires_grad_(), x2.requires_grad_()])


def test_cdist_matmul_form_double_backward():
    def run(lib, a):
        distance = lib.cdist(a, a.detach() + 1, compute_mode="use_mm_for_euclid_dist")
        (gradient,) = lib.autograd.grad(distance.sum(), a, create_graph=True)
        gradient.pow(2).sum().backward()
        return gradient

    agree("cdist matmul form double backward", run, [_TIED[:3].clone().requires_grad_()])


def test_half_cdist_takes_the_matmul_form():
    x = torch.tensor([[1.0, 2.0], [0.5, -1.0]], dtype=torch.float16)
    agree("half cdist", lambda lib, a: lib.cdist(a, a + 1, compute_mode="use_mm_for_euclid_dist"), [x])


# ----------------------------------------------------------------------------------------------
# numerics2 #23 / #27, scripts4a #4: cdist's and pdist's argument checks
# ----------------------------------------------------------------------------------------------

_CDIST_REFUSALS = {
    "p NaN": lambda lib: lib.cdist(lib.ones(1, 2), lib.ones(1, 2), p=NAN),
    "p -1": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), p=-1),
    "p str": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), p="a"),
    "mode foo": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), compute_mode="foo"),
    "mode None": lambda lib: lib.cdist(lib.ones(2, 3), lib.zeros(2, 3), compute_mode=None),
    "mode 1": lambda lib: lib.cdist(lib.ones(2, 3), lib.zeros(2, 3), compute_mode=1),
    "mode before the dtype": lambda lib: lib.cdist(lib.ones(2, 3, dtype=lib.long), lib.ones(2, 3), compute_mode="x"),
    "long X1": lambda lib: lib.cdist(lib.tensor([[1, 2]]), lib.tensor([[3, 4]])),
    "long X2": lambda lib: lib.cdist(lib.tensor([[1.0, 2]]), lib.tensor([[3, 4]])),
    "long many rows": lambda lib: lib.cdist(lib.ones(30, 3, dtype=lib.int64), lib.ones(30, 3, dtype=lib.int64)),
    "X2 1-D": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(3)),
    "columns": lambda lib: lib.cdist(lib.ones(2, 2), lib.ones(2, 3)),
    "half": lambda lib: lib.cdist(lib.ones(2, 3, dtype=lib.half), lib.ones(2, 3, dtype=lib.half)),
    "bfloat16": lambda lib: lib.cdist(lib.ones(2, 3, dtype=lib.bfloat16), lib.ones(2, 3, dtype=lib.bfloat16)),
    "float and double": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3, dtype=lib.float64)),
    "float and double, matmul form": lambda lib: lib.cdist(lib.ones(30, 3), lib.ones(30, 3, dtype=lib.float64)),
    "batch mismatch": lambda lib: lib.cdist(lib.ones(2, 3, 3), lib.ones(4, 3, 3)),
    "pdist p NaN": lambda lib: _functional(lib).pdist(lib.ones(2, 2), p=NAN),
    "pdist long": lambda lib: _functional(lib).pdist(lib.ones(2, 2, dtype=lib.long)),
    "pdist half": lambda lib: _functional(lib).pdist(lib.ones(2, 2, dtype=lib.half)),
}


@pytest.mark.parametrize("case", sorted(_CDIST_REFUSALS))
def test_cdist_refusals(case):
    agree(f"cdist {case}", _CDIST_REFUSALS[case], [])


_EMPTY_DISTANCES = {
    "no rows": lambda lib: lib.cdist(lib.zeros(0, 2), lib.zeros(3, 2)),
    "no columns": lambda lib: lib.cdist(lib.zeros(2, 0), lib.zeros(3, 0)),
    "no columns p=0": lambda lib: lib.cdist(lib.zeros(2, 0), lib.zeros(3, 0), p=0),
    "half no columns": lambda lib: lib.cdist(lib.zeros(2, 0, dtype=lib.half), lib.zeros(3, 0, dtype=lib.half)),
    "no rows, mixed dtypes": lambda lib: lib.cdist(lib.zeros(0, 3), lib.zeros(3, 3, dtype=lib.float64)),
    "empty batch, many rows": lambda lib: lib.cdist(lib.zeros(0, 30, 2), lib.zeros(30, 2)),
    "pdist one row half": lambda lib: _functional(lib).pdist(lib.ones(1, 2, dtype=lib.half)),
    "p as a bool": lambda lib: lib.cdist(lib.ones(1, 2), lib.zeros(1, 2), p=True),
}


@pytest.mark.parametrize("case", sorted(_EMPTY_DISTANCES))
def test_degenerate_distances(case):
    agree(f"cdist {case}", _EMPTY_DISTANCES[case], [])


# ----------------------------------------------------------------------------------------------
# numerics2 #30: the nodes torch records
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["cdist", "cdist no rows", "pdist", "pdist one row", "cov"])
def test_node_names(case):
    def run(lib, a):
        result = {
            "cdist": lambda: lib.cdist(a, a.detach() + 1),
            "cdist no rows": lambda: lib.cdist(a[:0], a),
            "pdist": lambda: _functional(lib).pdist(a),
            "pdist one row": lambda: _functional(lib).pdist(a[:1]),
            "cov": lambda: lib.cov(a),
        }[case]()
        return type(result.grad_fn).__name__, [type(node).__name__ for node, _ in result.grad_fn.next_functions]

    agree(f"node {case}", run, [_TIED[:3].clone().requires_grad_()])
