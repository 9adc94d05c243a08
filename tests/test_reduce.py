"""kernels/reduce.py against torch's reductions.

Oracles: sums, means, products, variances and norms of floating inputs are torch's in
float64 on the same (rounded) inputs, cast to the result dtype; max/min/arg results are
exact, so they are compared with torch on the very same tensor. Integer and bool
results must match exactly. Inputs are read in place in every layout (transposed,
sliced with a step, expanded with stride 0, permuted). The two-stage (split) path that a
GPU takes for full reductions is forced on the interpreter by shrinking the block cap
and pretending the device wants many programs.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.utils import FLOAT_DTYPES, LAYOUTS, assert_close, random_values
from tritongrad import runtime
from tritongrad.kernels import reduce as kr

DEVICE = runtime.device()
INF = math.inf

pytestmark = [
    # torch warns about its own (oracle) variance with <= 0 degrees of freedom, and the
    # interpreter's numpy about the 0/0 and x/0 that give torch's NaN and inf on purpose.
    pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning"),
    pytest.mark.filterwarnings("ignore:(invalid value|divide by zero) encountered:RuntimeWarning"),
]

# (shape, normalized dims); () reduces every dim.
CASES = [
    ((0,), (0,)),  # size 0: an empty reduction
    ((1,), (0,)),  # size 1
    ((7,), ()),  # prime, all dims
    ((3, 0, 5), (1,)),  # empty reduced dim, non-empty output
    ((3, 0, 5), (0, 2)),  # empty output
    ((13, 37), (0,)),  # column reduction: kept dim contiguous
    ((13, 37), (1,)),  # row reduction: reduced dim contiguous
    ((5, 7, 11), (0, 2)),  # two non-adjacent reduced dims
    ((5, 7, 11), (1,)),  # middle dim
    ((5, 7, 11), (2,)),  # dim=-1, normalized
    ((5, 7, 11), ()),  # all dims
    ((), ()),  # 0-dim
]


def case_id(case) -> str:
    shape, dims = case
    return f"{'x'.join(map(str, shape)) or 'scalar'}-dims{''.join(map(str, dims)) or 'all'}"


def make_input(shape, dtype: torch.dtype, layout: str = "contiguous", **value_range) -> torch.Tensor:
    """Random values of ``shape`` in ``layout`` (a view of a fresh base, on tritongrad's device)."""
    shape = tuple(shape)
    if layout == "permuted":  # a 3-D base read with dims rotated: no dim is contiguous
        base = random_values((shape[1], shape[2], shape[0]), dtype, **value_range)
        return base.to(DEVICE).permute(2, 0, 1)
    base_shape_of, view = LAYOUTS[layout]
    base = random_values(base_shape_of(shape), dtype, **value_range).to(DEVICE)
    return base.expand(shape) if layout == "expanded" else view(base)


def torch_over_dims(one_dim, x: torch.Tensor, dims, keepdim: bool) -> torch.Tensor:
    """Applies a one-dim torch reduction ``one_dim(x, dim, keepdim)`` over several dims."""
    if x.dim() == 0:
        return one_dim(x, 0, keepdim)
    dims = dims or tuple(range(x.dim()))
    for d in sorted(dims, reverse=True):
        x = one_dim(x, d, True)
    if not keepdim:
        for d in sorted(dims, reverse=True):
            x = x.squeeze(d)
    return x


def check(actual: torch.Tensor, expected: torch.Tensor, what: str, **tolerance) -> None:
    assert_close(actual.cpu(), expected.cpu(), what=what, **tolerance)


def expect_same_error(ours, theirs, what: str) -> bool:
    """If torch raises, ours must raise the same exception type; returns True in that case."""
    try:
        theirs()
    except (IndexError, RuntimeError) as error:
        with pytest.raises(type(error), match="Expected reduction dim|norm|empty"):
            ours()
        return True
    return False


# -------------------------------------------------------------------- sum, mean, prod, amax, amin

VALUE_OPS = {
    # name: (launcher, torch over a tuple of dims (() = all), computed in float64?)
    "sum": (kr.launch_sum, lambda x, d, k: x.sum(d, keepdim=k), True),
    "mean": (kr.launch_mean, lambda x, d, k: x.mean(d, keepdim=k), True),
    "prod": (
        kr.launch_prod,
        lambda x, d, k: torch_over_dims(torch.prod, x, d, k),
        True,
    ),  # prod takes one dim
    "amax": (kr.launch_amax, lambda x, d, k: x.amax(d, keepdim=k), False),
    "amin": (kr.launch_amin, lambda x, d, k: x.amin(d, keepdim=k), False),
    "nansum": (kr.launch_nansum, lambda x, d, k: x.nansum(d, keepdim=k), True),
    "logsumexp": (
        kr.launch_logsumexp,
        lambda x, d, k: torch.logsumexp(x, d if d else tuple(range(x.dim())), keepdim=k),
        True,
    ),
}


def run_value_op(op: str, x: torch.Tensor, dims, keepdim: bool, what: str) -> None:
    launcher, reference, in_float64 = VALUE_OPS[op]
    if expect_same_error(lambda: launcher(x, dims, keepdim), lambda: reference(x, dims, keepdim), what):
        return
    if in_float64 and x.dtype.is_floating_point:
        expected = reference(x.double(), dims, keepdim).to(x.dtype)
    else:
        expected = reference(x, dims, keepdim)
    # A product of n roundings drifts by about n ulp.
    rtol = {torch.float32: 1e-4, torch.float64: 1e-12}.get(x.dtype) if op == "prod" else None
    check(launcher(x, dims, keepdim), expected, what, rtol=rtol)


# Every float dtype with keepdim=False, and float32 with keepdim=True as well.
DTYPES_KEEPDIM = [(dtype, False) for dtype in FLOAT_DTYPES] + [(torch.float32, True)]


def dtype_keepdim_id(pair) -> str:
    return f"{str(pair[0]).removeprefix('torch.')}{'-keepdim' if pair[1] else ''}"


@pytest.mark.parametrize("dtype_keepdim", DTYPES_KEEPDIM, ids=dtype_keepdim_id)
@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("op", list(VALUE_OPS))
def test_value_reductions(op, case, dtype_keepdim):
    dtype, keepdim = dtype_keepdim
    shape, dims = case
    # Products stay near 1 so that 385 factors neither overflow nor underflow fp16.
    value_range = {"low": 0.8, "high": 1.25} if op == "prod" else {}
    x = make_input(shape, dtype, **value_range)
    run_value_op(op, x, dims, keepdim, f"{op}{dims} keepdim={keepdim} of {shape} {dtype}")


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.bool, torch.uint8], ids=str)
@pytest.mark.parametrize("case", [CASES[i] for i in (3, 5, 7, 10, 11)], ids=case_id)
@pytest.mark.parametrize("op", ["sum", "prod", "amax", "amin"])
def test_integer_reductions(op, case, dtype):
    """Exact; sum/prod of bool and integers give int64 (products wrap like torch's)."""
    shape, dims = case
    x = make_input(shape, dtype, low=0 if dtype == torch.uint8 else -3, high=3)
    run_value_op(op, x, dims, False, f"{op}{dims} of {shape} {dtype}")


@pytest.mark.parametrize(
    "op, dtype, out_dtype",
    [
        ("sum", torch.float16, torch.float32),
        ("sum", torch.int32, torch.float32),
        ("sum", torch.bool, torch.int32),
        ("sum", torch.float32, torch.float64),
        ("mean", torch.float32, torch.float64),
        ("mean", torch.bfloat16, torch.float32),
        ("prod", torch.float16, torch.float32),
    ],
)
def test_out_dtype(op, dtype, out_dtype):
    x = make_input((13, 37), dtype, low=0.8, high=1.25) if op == "prod" else make_input((13, 37), dtype)
    launcher = VALUE_OPS[op][0]
    reference = getattr(torch, op)(x, 1, dtype=out_dtype)
    check(launcher(x, (1,), False, out_dtype=out_dtype), reference, f"{op}({dtype}, dtype={out_dtype})")


def test_mean_rejects_integers():
    with pytest.raises(TypeError, match="mean\\(\\): could not infer output dtype.*Got: Long"):
        kr.launch_mean(make_input((4,), torch.int64), (), False)


@pytest.mark.parametrize("launch", [kr.launch_var, kr.launch_std], ids=["var", "std"])
def test_var_std_reject_integers(launch):
    with pytest.raises(TypeError, match="floating point"):
        launch(make_input((4,), torch.int32), (), 1, False)


def test_norm_rejects_integers():
    with pytest.raises(TypeError, match="norm"):
        kr.launch_norm(make_input((4,), torch.int32), 2.0, (), False)


def test_bad_dims():
    x = make_input((3, 4), torch.float32)
    with pytest.raises(IndexError, match="out of range"):
        kr.launch_sum(x, (2,), False)
    with pytest.raises(RuntimeError, match="repeat"):
        kr.launch_sum(x, (1, 1), False)


def test_empty_reductions_without_identity_raise():
    with pytest.raises(IndexError, match="max\\(\\): Expected reduction dim 1 to have non-zero size"):
        kr.launch_max_with_indices(make_input((3, 0, 5), torch.float32), 1, False)
    with pytest.raises(IndexError, match="argmax\\(\\): Expected reduction dim to be specified"):
        kr.launch_argmax(make_input((0,), torch.float32), None, False)
    with pytest.raises(RuntimeError, match="amax\\(\\): Expected reduction dim to be specified"):
        kr.launch_amax(make_input((3, 0), torch.float32), (), False)
    with pytest.raises(RuntimeError, match="inf norm"):
        kr.launch_norm(make_input((3, 0), torch.float32), INF, (1,), False)


# ------------------------------------------------------------- max/min(dim), argmax/argmin

ARG_CASES = [
    ((1,), 0),  # size 1
    ((7,), 0),  # prime
    ((13, 37), 0),  # column
    ((13, 37), 1),  # row
    ((5, 7, 11), 1),  # middle dim
    ((3, 0, 5), 0),  # empty output
    ((), 0),  # 0-dim
    ((5, 7, 11), None),  # argmax/argmin only: over the flattened tensor
    ((), None),
]


def run_arg_op(op: str, x: torch.Tensor, dim, keepdim: bool, what: str) -> None:
    if op in ("max", "min"):
        launch = kr.launch_max_with_indices if op == "max" else kr.launch_min_with_indices
        values, indices = launch(x, dim, keepdim)
        expected_values, expected_indices = getattr(torch, op)(x, dim, keepdim=keepdim)
        check(values, expected_values, f"{what} values")
    else:
        launch = kr.launch_argmax if op == "argmax" else kr.launch_argmin
        indices = launch(x, dim, keepdim)
        expected_indices = getattr(torch, op)(x, dim, keepdim=keepdim)
    check(indices, expected_indices, f"{what} indices")


ARG_PARAMS = [
    pytest.param(op, case, dtype, keepdim, id=f"{op}-{case[0]}-dim{case[1]}-{dtype_keepdim_id((dtype, keepdim))}")
    for op in ["max", "min", "argmax", "argmin"]
    for case in ARG_CASES
    for dtype, keepdim in DTYPES_KEEPDIM + [(torch.int32, False), (torch.bool, False)]
    if not (case[1] is None and op in ("max", "min"))  # max/min with indices need a dim
    if not (dtype == torch.bool and op in ("argmax", "argmin"))  # torch has no bool argmax
]


@pytest.mark.parametrize("op, case, dtype, keepdim", ARG_PARAMS)
def test_arg_reductions_with_ties(op, case, dtype, keepdim):
    """Values drawn from {0, 1, 2, 3}: many ties, so the first occurrence must win."""
    shape, dim = case
    x = torch.randint(0, 4, shape).to(dtype).to(DEVICE)
    run_arg_op(op, x, dim, keepdim, f"{op}(dim={dim}, keepdim={keepdim}) of {shape} {dtype}")


def test_nan_propagates():
    """NaN beats every number in max and min, and its first position is the index."""
    x = make_input((13, 37), torch.float32)
    x[3, 5] = x[3, 20] = x[7, 0] = x[11, 36] = math.nan
    for dims in [(0,), (1,), ()]:
        check(kr.launch_amax(x, dims, False), x.amax(dims), f"amax{dims} with NaN")
        check(kr.launch_amin(x, dims, False), x.amin(dims), f"amin{dims} with NaN")
        check(kr.launch_norm(x, INF, dims, False), torch.linalg.vector_norm(x, INF, dims), "inf-norm")
    for op in ["max", "min", "argmax", "argmin"]:
        for dim in (0, 1):
            run_arg_op(op, x, dim, False, f"{op}(dim={dim}) with NaN")
    run_arg_op("argmax", x, None, False, "argmax() with NaN")


def test_nansum_and_logsumexp_specials():
    """nansum skips NaN; logsumexp follows torch for NaN, +-inf maxima and empty reductions."""
    x = torch.tensor([[1.0, math.nan, 2.0], [-INF, -INF, -INF], [INF, 1.0, 0.0], [math.nan, INF, 1.0]]).to(DEVICE)
    check(kr.launch_nansum(x, (1,), False), x.nansum(1), "nansum with NaN")
    check(kr.launch_logsumexp(x, (1,), False), torch.logsumexp(x, 1), "logsumexp with NaN/inf")
    empty = torch.empty(3, 0, device=DEVICE)
    check(kr.launch_logsumexp(empty, (1,), False), torch.logsumexp(empty, 1), "logsumexp of empty rows")
    with pytest.raises(TypeError):
        kr.launch_logsumexp(torch.ones(3, dtype=torch.int64), (0,), False)


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin", "nansum", "logsumexp"])
def test_stride_zero_dims_are_folded(op):
    """Reduced dims of stride 0 repeat values: the plan drops them (and scales sums) instead of
    reading every repeat; results equal torch's on the expanded tensor."""
    base = make_input((3, 1, 5), torch.float32)
    x = base.expand(3, 4, 5)
    for dims in [(1,), (0, 1), ()]:
        run_value_op(op, x, dims, False, f"{op}{dims} of an expanded tensor")
    launch = VALUE_OPS[op][0]
    plan = kr._plan(op, x, (1,), False, sort_reduced=True, fold_repeats=True)
    assert plan.repeats == 4 and plan.geometry.n_red == 1, "the stride-0 dim was read, not folded"
    check(
        launch(x, (1,), False),
        launch(base, (1,), False) if op in ("amax", "amin") else VALUE_OPS[op][1](x.double(), (1,), False).float(),
        f"{op} folded",
    )


def test_sum_of_a_huge_broadcast_reads_one_element():
    """torch.ones(()).expand(2**31 + 5).sum(): no pass over 2**31 elements, exact count."""
    x = torch.ones((), device=DEVICE).expand(2**31 + 5)
    check(kr.launch_sum(x, (), False), torch.tensor(float(2**31 + 5)), "sum of 2**31 + 5 ones")
    check(kr.launch_mean(x, (), False), torch.tensor(1.0), "mean of 2**31 + 5 ones")
    ints = torch.ones((), dtype=torch.int64, device=DEVICE).expand(2**31 + 5)
    check(kr.launch_sum(ints, (), False), torch.tensor(2**31 + 5), "integer sum of 2**31 + 5 ones")
    check(kr.launch_var(x, (), 1, False), torch.tensor(0.0), "var of a broadcast constant")


@pytest.mark.parametrize(
    "base_shape, shape",
    [((3, 1, 5), (3, 4, 5)), ((1, 5), (6, 5)), ((3, 1), (3, 7)), ((1, 1, 4), (2, 3, 4)), ((2, 1, 1), (2, 3, 4))],
    ids=lambda s: "x".join(map(str, s)),
)
def test_arg_reductions_fold_stride_zero_dims(base_shape, shape):
    """Expanded dims are dropped from arg reductions too; the first occurrence (coordinate 0 in a
    repeated dim) keeps torch's row-major index. Few distinct values: ties everywhere."""
    x = torch.randint(0, 3, base_shape).float().to(DEVICE).expand(shape)
    for dim in [None, *range(len(shape))]:
        for op in ("argmax", "argmin") if dim is None else ("argmax", "argmin", "max", "min"):
            run_arg_op(op, x, dim, False, f"{op}(dim={dim}) of {base_shape} expanded to {shape}")


def test_argmax_of_a_huge_broadcast_reads_few_elements():
    x = torch.arange(6.0, device=DEVICE).view(2, 1, 3).expand(2, 2**30, 3)  # 6 * 2**30 elements, 6 distinct
    check(kr.launch_argmax(x, None, False), torch.tensor(1 * (2**30 * 3) + 2), "argmax of a huge expanded tensor")
    check(kr.launch_argmin(x, 1, False), torch.zeros(2, 3, dtype=torch.int64), "argmin along the expanded dim")


# ---------------------------------------------------------------------------------- var, std


@pytest.mark.parametrize("dtype_keepdim", DTYPES_KEEPDIM, ids=dtype_keepdim_id)
@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std(op, case, dtype_keepdim):
    shape, dims = case
    dtype, keepdim = dtype_keepdim
    correction = 0 if keepdim else 1  # both corrections, without doubling the test count
    x = make_input(shape, dtype)
    launch = kr.launch_var if op == "var" else kr.launch_std
    reference = getattr(torch, op)(x.double(), dims or None, correction=correction, keepdim=keepdim)
    check(launch(x, dims, correction, keepdim), reference.to(dtype), f"{op}{dims} of {shape} {dtype}")


def test_var_is_two_pass():
    """A large common offset: E[x^2] - E[x]^2 in float32 would lose every digit."""
    x = make_input((4, 1000), torch.float32, low=1e4, high=1e4 + 2)
    check(kr.launch_var(x, (1,), 1, False), x.double().var(1).float(), "var with offset 1e4", rtol=1e-4)


@pytest.mark.parametrize("correction", [1, 2, 3, 2.5])
def test_var_without_degrees_of_freedom(correction):
    """N - correction <= 0 divides by zero: inf, or NaN for a zero sum, like torch."""
    x = make_input((3, 2), torch.float64)
    check(kr.launch_var(x, (1,), correction, False), x.var(1, correction=correction), f"var c={correction}")
    single = make_input((4, 1), torch.float32)
    check(kr.launch_std(single, (1,), correction, False), single.std(1, correction=correction), "std of N=1")


# --------------------------------------------------------------------------------------- norm

NORM_CASES = [CASES[i] for i in (2, 3, 5, 6, 7, 11)]


NORM_PARAMS = [
    pytest.param(p, dtype, id=f"p{p}-{str(dtype).removeprefix('torch.')}")
    for p in [0, 1, 2, 3.5, INF, -INF, -1.0]
    for dtype in FLOAT_DTYPES
    if dtype in (torch.float32, torch.float64) or p in (1, 2, INF)  # half types: the common norms
]


@pytest.mark.parametrize("case", NORM_CASES, ids=case_id)
@pytest.mark.parametrize("p, dtype", NORM_PARAMS)
def test_norm(p, dtype, case):
    shape, dims = case
    x = make_input(shape, dtype)
    x = torch.where(torch.rand(shape, device=DEVICE) < 0.2, torch.zeros_like(x), x)  # zeros matter for p <= 0
    what = f"norm(p={p}){dims} of {shape} {dtype}"
    reference = lambda: torch.linalg.vector_norm(x.double(), p, dims or None)  # noqa: E731
    if expect_same_error(lambda: kr.launch_norm(x, p, dims, False), reference, what):
        return
    # |x|**p goes through exp(p * log|x|): a few float32 ulp per term.
    rtol = 1e-5 if dtype == torch.float32 and p not in (0, 1, 2, INF, -INF) else None
    check(kr.launch_norm(x, p, dims, False), reference().to(dtype), what, rtol=rtol)


# ------------------------------------------------------------------------------------ layouts

LAYOUT_OPS = {
    "sum": lambda x, dims: (kr.launch_sum(x, dims, False), x.double().sum(dims).to(x.dtype)),
    "mean": lambda x, dims: (kr.launch_mean(x, dims, True), x.double().mean(dims, keepdim=True).to(x.dtype)),
    "amax": lambda x, dims: (kr.launch_amax(x, dims, False), x.amax(dims)),
    "argmin": lambda x, dims: (
        kr.launch_argmin(x, dims[0] if dims else None, False),
        x.argmin(dims[0] if dims else None),
    ),
    "var": lambda x, dims: (kr.launch_var(x, dims, 1, False), x.double().var(dims or None).to(x.dtype)),
    "norm2": lambda x, dims: (
        kr.launch_norm(x, 2, dims, False),
        torch.linalg.vector_norm(x.double(), 2, dims),
    ),
    "prod": lambda x, dims: (
        kr.launch_prod(x, dims, False),
        torch_over_dims(torch.prod, x.double(), dims, False),
    ),
}


LAYOUT_CASES = [
    pytest.param(layout, case, id=f"{layout}-{case_id(case)}")
    for layout in ["transposed", "sliced", "expanded", "permuted"]
    for case in [((13, 37), (0,)), ((13, 37), (1,)), ((13, 37), ()), ((5, 7, 11), (0, 2))]
    if layout != "permuted" or len(case[0]) == 3  # the permuted layout is 3-D
]


@pytest.mark.parametrize("layout, case", LAYOUT_CASES)
@pytest.mark.parametrize("op", list(LAYOUT_OPS))
def test_strided_inputs(op, layout, case):
    shape, dims = case
    value_range = {"low": 0.8, "high": 1.25} if op == "prod" else {}
    x = make_input(shape, torch.float32, layout, **value_range)
    actual, expected = LAYOUT_OPS[op](x, dims)
    rtol = 1e-4 if op == "prod" else None
    check(actual, expected.to(actual.dtype), f"{op}{dims} of {layout} {shape}", rtol=rtol)


# ------------------------------------------------------------------ long rows and two stages


@pytest.mark.parametrize("op", ["sum", "amax", "argmax", "var"])
def test_row_longer_than_one_block(op):
    """70,000 elements: more than one interpreter block (2**16), so the tile loop runs twice."""
    x = make_input((70_000,), torch.float32)
    x[69_999] = 5.0  # the maximum sits in the second tile
    actual, expected = {
        "sum": lambda: (kr.launch_sum(x, (), False), x.double().sum().float()),
        "amax": lambda: (kr.launch_amax(x, (), False), x.amax()),
        "argmax": lambda: (kr.launch_argmax(x, None, False), x.argmax()),
        "var": lambda: (kr.launch_var(x, (), 1, False), x.double().var().float()),
    }[op]()
    check(actual, expected, f"{op} of 70,000")


@pytest.fixture
def split_reductions(monkeypatch):
    """Tiles of at most 256 elements and a device that wants 8 programs: the reduced extent
    of a few outputs is cut into 2-5 chunks (partials, then a second stage), as on a GPU."""
    monkeypatch.setattr(runtime, "INTERPRETER_MAX_BLOCK", 256)
    monkeypatch.setattr(kr, "_programs_wanted", lambda: 8)
    chunk_counts = []
    split_count = kr._split_count

    def recording_split_count(*args):
        chunk_counts.append(split_count(*args)[0])
        return split_count(*args)

    monkeypatch.setattr(kr, "_split_count", recording_split_count)
    yield chunk_counts
    assert max(chunk_counts) > 1, "the reduction was not split: the test exercised one stage only"


SPLIT_OPS = {
    "sum": lambda x, d: (kr.launch_sum(x, (d,), False), x.double().sum(d).float()),
    "mean": lambda x, d: (kr.launch_mean(x, (d,), False), x.double().mean(d).float()),
    "prod": lambda x, d: (kr.launch_prod(1 + x / 64, (d,), False), (1 + x / 64).double().prod(d).float()),
    "amax": lambda x, d: (kr.launch_amax(x, (d,), False), x.amax(d)),
    "max": lambda x, d: (kr.launch_max_with_indices(x, d, False)[1], x.max(d).indices),
    "argmax": lambda x, d: (kr.launch_argmax(x, d, False), x.argmax(d)),
    "argmin": lambda x, d: (kr.launch_argmin(x, d, False), x.argmin(d)),
    "var": lambda x, d: (kr.launch_var(x, (d,), 1, False), x.double().var(d).float()),
    "norm3": lambda x, d: (
        kr.launch_norm(x, 3.0, (d,), False),
        torch.linalg.vector_norm(x.double(), 3, d).float(),
    ),
    "norm_inf": lambda x, d: (kr.launch_norm(x, INF, (d,), False), torch.linalg.vector_norm(x, INF, d)),
    "logsumexp": lambda x, d: (kr.launch_logsumexp(x, (d,), False), torch.logsumexp(x.double(), d).float()),
    "nansum": lambda x, d: (kr.launch_nansum(x, (d,), False), x.double().nansum(d).float()),
}


@pytest.mark.parametrize("case", [((3, 1000), 1), ((5, 300), 0), ((1000,), 0)], ids=lambda c: f"{c[0]}-dim{c[1]}")
@pytest.mark.parametrize("op", list(SPLIT_OPS))
def test_two_stage_reductions(split_reductions, op, case):
    shape, dim = case
    # Few distinct values: ties across chunks, where the earliest chunk's index must win.
    x = (torch.randint(-4, 5, shape) / 2).to(DEVICE)
    actual, expected = SPLIT_OPS[op](x, dim)
    check(actual, expected, f"two-stage {op}(dim={dim}) of {shape}", rtol=1e-5)


def test_two_stage_nan(split_reductions):
    x = make_input((1000,), torch.float32)
    x[700] = x[900] = math.nan  # in later chunks than the first
    check(kr.launch_amax(x, (), False), x.amax(), "two-stage amax with NaN")
    check(kr.launch_argmin(x, None, False), x.argmin(), "two-stage argmin with NaN")


@pytest.mark.gpu
@pytest.mark.parametrize("shape, dims", [((1 << 24,), ()), ((100_000, 64), (0,)), ((64, 100_000), (1,))])
def test_large_reductions_on_gpu(shape, dims):
    x = make_input(shape, torch.float32)
    # A float32 sum's rounding error scales with sum(|x|), not with |sum(x)|: a column of 100,000
    # values summing to -1.7 came out 1.8e-4 off (5.5e-5 relative) on an H200; one float32 ulp of
    # sum(|x|) (9.5e-3 there) bounds it, far below a lost or doubled block (~sqrt(block) ~ 30).
    ulp_of_magnitude = torch.finfo(torch.float32).eps * x.double().abs().sum(dims).max().item()
    check(kr.launch_sum(x, dims, False), x.double().sum(dims).float(), f"sum of {shape}", rtol=1e-5,
          atol=ulp_of_magnitude)  # fmt: skip
    check(kr.launch_amax(x, dims, False), x.amax(dims), f"amax of {shape}")
    dim = dims[0] if dims else None
    check(kr.launch_argmax(x, dim, False), x.argmax(dim), f"argmax of {shape}")
    check(kr.launch_var(x, dims, 1, False), x.double().var(dims or None).float(), f"var of {shape}", rtol=1e-5)


# --------------------------------------------------------------------------- property tests


@st.composite
def shapes_and_dims(draw):
    shape = tuple(draw(st.lists(st.integers(0, 6), max_size=4)))
    dims = tuple(sorted(draw(st.sets(st.integers(0, max(len(shape) - 1, 0)), max_size=len(shape)))))
    transpose = len(shape) >= 2 and draw(st.booleans())
    return shape, dims, draw(st.booleans()), transpose


PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY_SETTINGS
@given(case=shapes_and_dims(), dtype=st.sampled_from([torch.float32, torch.int32]))
def test_sum_property(case, dtype):
    shape, dims, keepdim, transpose = case
    x = make_input(shape, dtype, "transposed" if transpose else "contiguous")
    run_value_op("sum", x, dims, keepdim, f"sum{dims} keepdim={keepdim} of {tuple(x.shape)} {dtype}")


@PROPERTY_SETTINGS
@given(case=shapes_and_dims())
def test_amax_property(case):
    shape, dims, keepdim, transpose = case
    x = make_input(shape, torch.float32, "transposed" if transpose else "contiguous")
    run_value_op("amax", x, dims, keepdim, f"amax{dims} keepdim={keepdim} of {tuple(x.shape)}")
