"""A hypothesis fuzz test: random programs run in torch and in tritongrad must agree.

A program is a few leaves (shape of rank 0-3 with sizes 0-5; float32, float64, int64 or bool;
contiguous, transposed or sliced; floats may require grad) and a list of steps. Each step is
an op name with four small integers that the interpreter below turns into concrete arguments
for the values built so far (an operand's position, a dim, a slice, a target shape), so a
program is plain data that an ``@example`` can hold. Steps cover elementwise unary/binary/
scalar ops and ``where``, reductions over dims with keepdim, softmax, views (transpose,
permute, slicing, expand, reshape/view, unsqueeze), in-place writes (``add_``, ``mul_``,
``copy_``, index assignment), matmul and dtype casts. Some integers deliberately give an
invalid argument (a dim out of range, a shape that does not fit).

After every step the result must match torch's (values, dtype, shape, ``requires_grad``);
where torch raises, tritongrad must raise the same exception type, and the step is skipped.
At the end every value is compared again (an in-place write must show through every view)
and a weighted sum of the last float value that requires grad is differentiated: the error
type or the gradient of every leaf must match.

Every failure the fuzzer found stays in ``REGRESSIONS`` as a minimal program. Those whose fix
belongs to another part of tritongrad are xfail (strict) there, and ``KNOWN_BUGS`` keeps the
fuzzer from tripping over them again meanwhile; a fix turns the xfail into a failure, which says
to drop both entries.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import tritongrad
from tests.utils import assert_close, from_torch

DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64, "bool": torch.bool}
LAYOUTS = ("contiguous", "transposed", "sliced")

UNARY = ("neg", "abs", "tanh", "sigmoid", "relu", "sin", "exp", "sqrt", "floor", "logical_not")
BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "eq", "lt", "logical_and")
SCALAR_OPS: tuple[Callable, ...] = (operator.add, operator.mul, operator.sub, operator.truediv, operator.pow)
SCALARS = (2, -1.5, 0.5, True, 3)
REDUCTIONS = ("sum", "mean", "amax", "amin", "prod", "var", "argmax", "logsumexp", "any")
INPLACE = ("add_", "sub_", "mul_", "copy_")
OPS = (
    "unary",
    "binary",
    "scalar",
    "where",
    "reduce",
    "softmax",
    "transpose",
    "permute",
    "slice",
    "expand",
    "reshape",
    "unsqueeze",
    "inplace",
    "setitem",
    "matmul",
    "cast",
)

ARGUMENT = st.integers(-3, 6)
LEAF = st.tuples(
    st.lists(st.integers(0, 5), max_size=3).map(tuple),  # shape
    st.sampled_from(list(DTYPES)),
    st.sampled_from(LAYOUTS),
    st.booleans(),  # requires grad (floats only)
    st.integers(0, 2**16),  # seed of the values
)
STEP = st.tuples(st.sampled_from(OPS), st.tuples(ARGUMENT, ARGUMENT, ARGUMENT, ARGUMENT))
PROGRAM = st.tuples(
    st.lists(LEAF, min_size=1, max_size=3).map(tuple), st.lists(STEP, min_size=1, max_size=8).map(tuple)
)

Pair = tuple[torch.Tensor, tritongrad.Tensor]


class Mismatch(AssertionError):
    """tritongrad and torch disagreed (the message says on what)."""


# ----------------------------------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------------------------------


def random_tensor(shape, dtype: torch.dtype, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    if dtype == torch.bool:
        return torch.rand(shape, generator=generator) > 0.5
    if dtype.is_floating_point:
        return (torch.rand(shape, generator=generator, dtype=torch.float64) * 4 - 2).to(dtype)
    return torch.randint(-5, 6, shape, generator=generator, dtype=dtype)


def make_leaf(spec) -> Pair:
    shape, dtype_name, layout, requires_grad, seed = spec
    dtype = DTYPES[dtype_name]
    if layout == "transposed" and len(shape) >= 2:
        view = random_tensor(shape[:-2] + (shape[-1], shape[-2]), dtype, seed).transpose(-1, -2)
    elif layout == "sliced" and len(shape) >= 1:
        view = random_tensor(shape[:-1] + (2 * shape[-1] + 1,), dtype, seed)[..., 1::2]
    else:
        view = random_tensor(shape, dtype, seed)
    requires_grad = requires_grad and dtype.is_floating_point
    return view.detach().requires_grad_(requires_grad), from_torch(view, requires_grad=requires_grad)


def compare(expected, actual, what: str) -> None:
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, tritongrad.Tensor):
            raise Mismatch(f"{what}: torch gives a tensor, tritongrad {type(actual).__name__}")
        if actual.requires_grad != expected.requires_grad:
            raise Mismatch(f"{what}: requires_grad {actual.requires_grad}, torch {expected.requires_grad}")
        tolerance = 1e-3 if expected.dtype == torch.float32 else 1e-7
        scale = 1.0
        if expected.dtype.is_floating_point and expected.numel():
            finite = expected.detach()[torch.isfinite(expected.detach())]
            scale = max(1.0, float(finite.abs().max())) if finite.numel() else 1.0
        assert_close(actual, expected, rtol=tolerance, atol=tolerance * scale, what=what)
        return
    if expected is None:
        if actual is not None:
            raise Mismatch(f"{what}: torch gives None, tritongrad {actual!r}")
        return
    raise TypeError(f"{what}: unexpected result type {type(expected).__name__}")


def run_both(what: str, fn: Callable, operands: list[Pair]):
    """``fn(torch, *torch operands)`` and ``fn(tritongrad, *our operands)``: both results, or None
    when both raised the same exception type."""
    try:
        expected = fn(torch, *[pair[0] for pair in operands])
    except Exception as error:  # noqa: BLE001 - torch's error is the oracle
        expected_error = error
    else:
        expected_error = None
    try:
        actual = fn(tritongrad, *[pair[1] for pair in operands])
    except Exception as error:  # noqa: BLE001 - compared with torch's
        if expected_error is None:
            raise Mismatch(f"{what}: tritongrad raised {type(error).__name__}: {error}; torch returns") from error
        if not isinstance(error, type(expected_error)):
            raise Mismatch(
                f"{what}: tritongrad raised {type(error).__name__}: {error}; "
                f"torch raises {type(expected_error).__name__}: {expected_error}"
            ) from error
        return None
    if expected_error is not None:
        raise Mismatch(f"{what}: torch raises {type(expected_error).__name__}: {expected_error}; tritongrad returns")
    return expected, actual


# ----------------------------------------------------------------------------------------------
# Steps: integers -> concrete arguments
# ----------------------------------------------------------------------------------------------


def dim_of(value: int, rank: int) -> int:
    """A valid dim (negative for negative ``value``), except 6: a dim out of range."""
    if value == 6:
        return rank + 1
    rank = max(rank, 1)
    return value % rank - (rank if value < 0 else 0)


def step_function(name: str, args: tuple[int, int, int, int], values: list[Pair]):
    """(label, function of (lib, *operands), operand pairs) for one step; the label names the
    concrete op (``KNOWN_BUGS`` matches on it)."""
    a, b, c, d = args

    def operand(i: int) -> Pair:
        return values[i % len(values)]

    x = operand(b)
    rank, shape = x[0].dim(), tuple(x[0].shape)
    if name == "unary":
        op = UNARY[a % len(UNARY)]
        return op, (lambda lib, t: getattr(lib, op)(t)), [x]
    if name == "binary":
        op = BINARY[a % len(BINARY)]
        return op, (lambda lib, t, u: getattr(lib, op)(t, u)), [x, operand(c)]
    if name == "scalar":
        op, scalar = SCALAR_OPS[a % len(SCALAR_OPS)], SCALARS[c % len(SCALARS)]
        return f"{op.__name__} {scalar!r}", (lambda lib, t: op(t, scalar)), [x]
    if name == "where":
        return "where", (lambda lib, t, u, v: lib.where(t > 0, u, v)), [x, operand(c), operand(d)]
    if name == "reduce":
        op = REDUCTIONS[a % len(REDUCTIONS)]
        kwargs = [{}, {"dim": dim_of(d, rank)}, {"dim": (0, -1)}, {"dim": dim_of(d, rank), "keepdim": True}][c % 4]
        return f"{op} {kwargs}", (lambda lib, t: getattr(t, op)(**kwargs)), [x]
    if name == "softmax":
        op, dim = ("softmax", "log_softmax")[a % 2], dim_of(c, rank)
        return op, (lambda lib, t: getattr(t, op)(dim)), [x]
    if name == "transpose":
        dims = dim_of(c, rank), dim_of(d, rank)
        return f"transpose{dims}", (lambda lib, t: t.transpose(*dims)), [x]
    if name == "permute":
        permutations = list(itertools.permutations(range(rank)))
        order = permutations[a % len(permutations)] if d != 6 else tuple(range(rank + 1))
        return f"permute{order}", (lambda lib, t: t.permute(order)), [x]
    if name == "slice":
        dim = dim_of(c, rank) % max(rank, 1)
        step = 0 if d == -3 else 1 + d % 3
        key = (slice(None),) * dim + (slice(a, a + 3 if d % 2 else None, step),)
        return f"getitem {key}", (lambda lib, t: t[key]), [x]
    if name == "expand":
        target = [a % 4 if size == 1 else size for size in shape]
        if d == 6 and target:
            target[0] += 1  # no longer fits: an error
        if b % 2:
            target = [c % 3] + target
        return f"expand{target}", (lambda lib, t: t.expand(target)), [x]
    if name == "reshape":
        numel = math.prod(shape)
        target = [(-1,), (1, -1), shape[::-1], (numel + 1,), (-1, 1)][a % 5]
        op = "view" if d % 2 else "reshape"
        return f"{op}{target}", (lambda lib, t: getattr(t, op)(target)), [x]
    if name == "unsqueeze":
        dim = dim_of(c, rank + 1)
        return f"unsqueeze({dim})", (lambda lib, t: t.unsqueeze(dim)), [x]
    if name == "inplace":
        op = INPLACE[a % len(INPLACE)]
        if d % 2 and op != "copy_":
            scalar = SCALARS[c % len(SCALARS)]
            return f"{op} {scalar!r}", (lambda lib, t: getattr(t, op)(scalar)), [x]
        return op, (lambda lib, t, u: getattr(t, op)(u)), [x, operand(c)]
    if name == "setitem":
        kind = a % 4
        index = torch.tensor([c % 3, 0])

        def setitem(lib, t, u, i):
            key = [c, slice(1, None), i, t > 0][kind]
            t[key] = 1.5 if d % 2 else u
            return t

        return (
            f"setitem {('int', 'slice', 'index', 'mask')[kind]}",
            setitem,
            [x, operand(d), (index, from_torch(index))],
        )
    if name == "matmul":
        if a % 2 and rank >= 1:
            other = random_tensor((shape[-1], 3), x[0].dtype, d + 7)
            fresh = (other, from_torch(other))
            return "matmul", (lambda lib, t, u: lib.matmul(t, u)), [x, fresh]
        return "matmul", (lambda lib, t, u: lib.matmul(t, u)), [x, operand(c)]
    if name == "cast":
        dtype = list(DTYPES.values())[a % len(DTYPES)]
        return f"to({dtype})", (lambda lib, t: t.to(dtype)), [x]
    raise ValueError(name)


# ----------------------------------------------------------------------------------------------
# Known disagreements (files outside this test's area) and the regressions of every failure found
# ----------------------------------------------------------------------------------------------


GRAD_INTO_INTEGER = (
    "a masked fill (x[mask] = v) of a one-element v that requires grad into an integer/bool x: torch records "
    "IndexPutBackward0 and x requires grad (as for fill_, masked_fill_, index_fill_; not for copy_), tritongrad's "
    "Function never marks an integer output as requiring grad (autograd/function.py)"
)

KNOWN_BUGS: dict[str, Callable[[str, list[torch.Tensor]], bool]] = {
    GRAD_INTO_INTEGER: lambda label, tensors: (
        label == "setitem mask"
        and not tensors[0].is_floating_point()
        and tensors[1].requires_grad
        and tensors[1].numel() == 1
    ),
}

# Each failure the fuzzer found, as a minimal program: (program, known bug or None once fixed).
REGRESSIONS = [
    # float64 - bool (binary sub of operands 0 and 1)
    (
        (
            (((3,), "float64", "contiguous", False, 1), ((3,), "bool", "contiguous", False, 2)),
            (("binary", (1, 0, 1, 0)),),
        ),
        None,
    ),
    # bool.sub_(True)
    (((((3,), "bool", "contiguous", False, 1),), (("inplace", (1, 0, 3, 1)),)), None),
    # bool ** 3
    (((((3,), "bool", "contiguous", False, 1),), (("scalar", (4, 0, 4, 0)),)), None),
    # softmax of int64 and bool
    (((((2, 5), "int64", "contiguous", False, 1),), (("softmax", (0, 0, 1, 0)),)), None),
    (((((4,), "bool", "sliced", False, 1),), (("softmax", (1, 0, 0, 0)),)), None),
    # a 1-d permutation of a 3-d tensor (the d == 6 ordering has rank + 1 dims)
    (((((3, 3, 2), "float64", "transposed", False, 3),), (("permute", (0, 0, 0, 6)),)), None),
    # prod over dims (0, -1)
    (((((2, 3), "float32", "contiguous", False, 1),), (("reduce", (4, 0, 2, 0)),)), None),
    # a (1, 0) bool matrix @ a fresh (0, 3) bool matrix
    (((((1, 0), "bool", "contiguous", False, 1),), (("matmul", (1, 0, 0, 0)),)), None),
    # argmax of a bool vector
    (((((5,), "bool", "sliced", False, 2),), (("reduce", (6, 0, 0, 0)),)), None),
    # b[0] = f for a bool b and a float f that requires grad: b must not require grad
    (
        (
            (
                ((3,), "bool", "contiguous", False, 1),
                ((), "float32", "contiguous", True, 2),
                ((1,), "bool", "contiguous", False, 3),
            ),
            (("setitem", (0, 0, 0, 4)),),
        ),
        None,
    ),
    # b[b > 0] = f for the same b and f: torch's masked fill makes b require grad
    (
        (
            (
                ((3,), "bool", "contiguous", False, 1),
                ((1,), "bool", "contiguous", False, 3),
                ((), "float32", "contiguous", True, 2),
            ),
            (("setitem", (3, 0, 0, 2)),),
        ),
        GRAD_INTO_INTEGER,
    ),
    # i.add_(f) and i.copy_(f) for an int64 i and a float f that requires grad: torch refuses the
    # add (a float result into an integer tensor), and the copy does not make i require grad
    (
        (
            (((4,), "int64", "contiguous", False, 1), ((4,), "float32", "sliced", True, 2)),
            (("inplace", (0, 0, 1, 0)), ("inplace", (3, 0, 1, 0))),
        ),
        None,
    ),
    # int64 - True
    (((((3,), "int64", "contiguous", False, 1),), (("scalar", (2, 0, 3, 0)),)), None),
    # (x + x).view(-1) for a transposed x: torch's sum is transposed too, so the view is refused
    (
        ((((3, 4), "float32", "transposed", False, 1),), (("binary", (0, 0, 0, 0)), ("reshape", (0, 1, 0, 1)))),
        None,
    ),
    # x[index] = v for x of shape (0, 3): the index is out of range before v's shape is checked
    (
        (
            (
                ((0, 3), "int64", "sliced", False, 1),
                ((2, 0), "int64", "contiguous", False, 2),
                ((1,), "bool", "contiguous", False, 3),
            ),
            (("setitem", (2, 0, 0, 4)),),
        ),
        None,
    ),
    # amax over dims (0, -1) of an empty vector
    (((((0,), "float32", "contiguous", False, 1),), (("reduce", (2, 0, 2, 0)),)), None),
    # permute of a vector with two dims
    (((((3,), "float32", "contiguous", False, 1),), (("permute", (0, 0, 0, 6)),)), None),
    # x[0] = x for x of shape (1,): torch drops the value's leading 1s (was: an expand error)
    (((((1,), "int64", "contiguous", False, 121),), (("setitem", (0, 0, 0, 0)),)), None),
    # x[index] = x for an empty x: torch refuses a value that is the target (was: accepted)
    (((((2, 0), "float64", "contiguous", False, 1),), (("setitem", (2, 0, 0, 0)),)), None),
    # y[y > 0] = x where y = x.unsqueeze(0): one value, read before the fill (was: an overlap error)
    (((((1,), "float32", "contiguous", False, 1),), (("unsqueeze", (0, 0, 0, 0)), ("setitem", (3, 1, 0, 0)))), None),
    # b[tensor([1, 0])] = 1.5 for a (1, 0, 0) bool b: torch checks no index when another dim is empty
    # (was: an IndexError)
    (((((1, 0, 0), "bool", "contiguous", False, 1),), (("setitem", (2, 0, 1, 1)),)), None),
    # any(dim=-1, keepdim=True) of a 0-dim bool: dim -1 of a scalar is its only "dim" (was: an
    # IndexError from the stride-0 shortcut reading the stride of a dim a 0-dim tensor lacks)
    (((((), "bool", "contiguous", False, 288),), (("reduce", (-1, 0, -1, -2)),)), None),
]


@pytest.mark.parametrize(
    "program",
    [
        pytest.param(program, marks=pytest.mark.xfail(strict=True, reason=bug, raises=AssertionError))
        if bug
        else program
        for program, bug in REGRESSIONS
    ],
)
def test_regression(program):
    run_program(program, skip_known_bugs=False)


# ----------------------------------------------------------------------------------------------
# Running a program
# ----------------------------------------------------------------------------------------------


def known_bug(label: str, operands: list[Pair]) -> str | None:
    """The reason a step is skipped: a known disagreement with torch, each with an xfail regression
    in ``REGRESSIONS`` (a fix turns that xfail into a failure: then remove both entries)."""
    tensors = [pair[0] for pair in operands]
    for reason, matches in KNOWN_BUGS.items():
        if matches(label, tensors):
            return reason
    return None


def run_program(program, skip_known_bugs: bool = True) -> None:
    leaf_specs, steps = program
    leaves = [make_leaf(spec) for spec in leaf_specs]
    values: list[Pair] = list(leaves)
    for number, (name, args) in enumerate(steps):
        label, fn, operands = step_function(name, args, values)
        if skip_known_bugs and known_bug(label, operands):
            continue
        what = f"step {number} {name}{args}: {label}"
        results = run_both(what, fn, operands)
        if results is None:
            continue
        compare(*results, what)
        values.append(results)
    for number, (expected, actual) in enumerate(values):
        compare(expected, actual, f"value {number} at the end")

    differentiable = [pair for pair in values if pair[0].requires_grad and pair[0].dtype.is_floating_point]
    if not differentiable:
        return
    target = differentiable[-1]
    weight = random_tensor(tuple(target[0].shape), target[0].dtype, 99)
    weights = (weight, from_torch(weight))

    def backward(lib, t, w):
        (t * w).sum().backward()

    if run_both("backward", backward, [target, weights]) is None:
        return
    for number, (expected, actual) in enumerate(leaves):
        if expected.requires_grad:
            compare(expected.grad, actual.grad, f"grad of leaf {number}")


FUZZ_SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    # every example launches dozens of interpreter kernels; a failure's program is printed whole
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


@settings(max_examples=60, **FUZZ_SETTINGS)
@given(program=PROGRAM)
def test_fuzz(program):
    run_program(program)


@pytest.mark.slow
@settings(max_examples=600, **FUZZ_SETTINGS)
@given(program=PROGRAM)
def test_fuzz_more_examples(program):
    run_program(program)
