"""``out=`` on every function torch gives one: a census against torch's own signatures, then the ops
added to the out= family after tests/test_out_arguments.py, run through that file's comparison
(value, dtype rule, resize warning, torch's error type and message) and its autograd refusal.
"""

from __future__ import annotations

import inspect
import re
import warnings
from pathlib import Path

import pytest
import torch

import tritongrad
from tests.test_out_arguments import OUTS, _args, check_out_matches_torch
from tests.utils import assert_close, from_torch, random_values

X = (3, 5)


def _torch_functions_with_out() -> set[str]:
    """The torch.* functions whose Python signature has ``out`` (torch's type stubs list them)."""
    stubs = (Path(torch.__file__).parent / "_C" / "_VariableFunctions.pyi").read_text()
    return {m.group(1) for m in re.finditer(r"def (\w+)\(([^)]*)\)", stubs, re.S) if re.search(r"\bout: ", m.group(2))}


def _accepts_out(function) -> bool:
    """Whether a tritongrad function takes ``out``: its own parameter, or one of a wrapper it delegates to."""
    while True:
        parameters = inspect.signature(function, follow_wrapped=False).parameters
        if "out" in parameters:
            return True
        if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()) or not hasattr(function, "__wrapped__"):
            return any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        function = function.__wrapped__


def test_every_function_torch_gives_out_takes_out():
    names = sorted(
        name
        for name in _torch_functions_with_out()
        if not name.startswith("_") and callable(getattr(tritongrad, name, None))
    )
    assert len(names) > 150, f"the stub census found only {len(names)} functions"
    without = [name for name in names if not _accepts_out(getattr(tritongrad, name))]
    assert not without, f"torch.{', torch.'.join(without)} take out= in torch, not in tritongrad"


@pytest.mark.parametrize("name", ["cross", "vecdot", "vector_norm"])
def test_linalg_functions_take_out(name):
    assert _accepts_out(getattr(tritongrad.linalg, name)), f"linalg.{name} takes out= in torch"


SCATTERED = torch.tensor([[0, 2, 1, 0, 4], [2, 0, 0, 1, 3]])  # scatter indices along dim 1 (duplicates included)
ROWS = torch.tensor([2, 0, 2])  # index_* rows (a duplicate)

# name -> (inputs, call(lib, *inputs, out=...)), as tests/test_out_arguments.CASES.
CASES = {
    "argsort_stable": (lambda: [random_values(X, torch.float32)],
                       lambda lib, x, out: lib.argsort(x, stable=True, dim=1, descending=True, out=out)),
    "bucketize": (lambda: [random_values(X, torch.float32), torch.tensor([-1.0, 0.0, 2.0])],
                  lambda lib, x, b, out: lib.bucketize(x, b, right=True, out=out)),
    "bucketize_int32": (lambda: [random_values(X, torch.float32), torch.tensor([-1.0, 0.0, 2.0])],
                        lambda lib, x, b, out: lib.bucketize(x, b, out_int32=True, out=out)),
    "conj_physical": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.conj_physical(x, out=out)),
    "histc": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.histc(x, 4, -2, 2, out=out)),
    "index_add": (lambda: [random_values(X, torch.float32), random_values(X, torch.float32)],
                  lambda lib, x, s, out: lib.index_add(x, 0, lib.tensor(ROWS.tolist()), s, alpha=2, out=out)),
    "index_copy": (lambda: [random_values(X, torch.float32), random_values((2, 5), torch.float32)],
                   lambda lib, x, s, out: lib.index_copy(x, 0, lib.tensor([2, 0]), s, out=out)),
    "index_reduce": (lambda: [random_values(X, torch.float32), random_values(X, torch.float32)],
                     lambda lib, x, s, out: lib.index_reduce(x, 0, lib.tensor(ROWS.tolist()), s, "amax", out=out)),
    "isin": (lambda: [random_values(X, torch.int64), torch.tensor([0, 2, -1])],
             lambda lib, x, t, out: lib.isin(x, t, out=out)),
    "log_softmax": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.log_softmax(x, 1, out=out)),
    "logspace": (lambda: [], lambda lib, out: lib.logspace(-1, 2, 7, base=2.0, out=out)),
    "mvlgamma": (lambda: [random_values(X, torch.float32, low=1.5, high=4.0)],
                 lambda lib, x, out: lib.mvlgamma(x, 2, out=out)),
    "quantile": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.quantile(x, 0.3, 1, out=out)),
    "nanquantile": (lambda: [random_values(X, torch.float32)],
                    lambda lib, x, out: lib.nanquantile(x, lib.tensor([0.25, 0.5]), 0, True, out=out)),
    "narrow_copy": (lambda: [random_values(X, torch.float32)],
                    lambda lib, x, out: lib.narrow_copy(x, 1, 1, 3, out=out)),
    "range": (lambda: [], lambda lib, out: lib.range(0, 5, 2, out=out)),
    "scatter": (lambda: [random_values(X, torch.float32), random_values((2, 5), torch.float32)],
                lambda lib, x, s, out: lib.scatter(x, 1, lib.tensor(SCATTERED.tolist()), s, out=out)),
    "scatter_value": (lambda: [random_values(X, torch.float32)],
                      lambda lib, x, out: lib.scatter(x, 1, lib.tensor(SCATTERED.tolist()), 1.5, out=out)),
    "scatter_add": (lambda: [random_values(X, torch.float32), random_values((2, 5), torch.float32)],
                    lambda lib, x, s, out: lib.scatter_add(x, 1, lib.tensor(SCATTERED.tolist()), s, out=out)),
    "scatter_reduce": (lambda: [random_values(X, torch.float32), random_values((2, 5), torch.float32)],
                       lambda lib, x, s, out: lib.scatter_reduce(x, 1, lib.tensor(SCATTERED.tolist()), s, "mean",
                                                                 out=out)),
    "signbit": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.signbit(x, out=out)),
    "slice_scatter": (lambda: [random_values(X, torch.float32), random_values((3, 2), torch.float32)],
                      lambda lib, x, s, out: lib.slice_scatter(x, s, 1, 1, 5, 2, out=out)),
    "linalg_cross": (lambda: [random_values((2, 3), torch.float32), random_values((2, 3), torch.float32)],
                     lambda lib, a, b, out: lib.linalg.cross(a, b, out=out)),
    "linalg_vecdot": (lambda: [random_values(X, torch.float32), random_values((5,), torch.float32)],
                      lambda lib, a, b, out: lib.linalg.vecdot(a, b, out=out)),
    # the composed ops that write their result into out
    "inner": (lambda: [random_values(X, torch.float32), random_values((2, 5), torch.float32)],
              lambda lib, a, b, out: lib.inner(a, b, out=out)),
    "vdot": (lambda: [random_values((5,), torch.float32), random_values((5,), torch.float32)],
             lambda lib, a, b, out: lib.vdot(a, b, out=out)),
    "addr": (lambda: [random_values(X, torch.float32), random_values((3,), torch.float32),
                      random_values((5,), torch.float32)],
             lambda lib, c, a, b, out: lib.addr(c, a, b, beta=0.5, alpha=2, out=out)),
    "chain_matmul": (lambda: [random_values(X, torch.float32), random_values((5, 2), torch.float32),
                              random_values((2, 4), torch.float32)],
                     lambda lib, a, b, c, out: lib.chain_matmul(a, b, c, out=out)),
    "normalize": (lambda: [random_values(X, torch.float32)],
                  lambda lib, x, out: lib.nn.functional.normalize(x, 1.5, 1, out=out)),
    "tensorinv": (lambda: [random_values((4, 2, 2), torch.float32, low=1.0, high=2.0)
                           + 4 * torch.eye(4).reshape(4, 2, 2)],
                  lambda lib, a, out: lib.linalg.tensorinv(a, 1, out=out)),
    "tensorsolve": (lambda: [random_values((6, 2, 3), torch.float32) + 4 * torch.eye(6).reshape(6, 2, 3),
                             random_values((6,), torch.float32)],
                    lambda lib, a, b, out: lib.linalg.tensorsolve(a, b, out=out)),
}  # fmt: skip

# torch's op name in its autograd refusal where it is not the case's; the cases torch writes out= for
# even when an input requires grad (results without a gradient, and a few composed ops).
GRAD_NAMES = {"argsort_stable": "sort", "scatter_value": "scatter", "linalg_vecdot": "sum", "chain_matmul": "mm",
              "normalize": "div"}  # fmt: skip
ACCEPTS_GRAD = {"bucketize", "bucketize_int32", "isin", "signbit", "histc", "log_softmax", "conj_physical",
                "slice_scatter", "quantile", "nanquantile", "inner", "tensorinv", "tensorsolve"}  # fmt: skip


@pytest.mark.parametrize("out_kind", list(OUTS))
@pytest.mark.parametrize("case", list(CASES))
def test_out_matches_torch(case, out_kind):
    check_out_matches_torch(case, *CASES[case], out_kind)


@pytest.mark.parametrize("case", list(CASES))
def test_out_and_autograd_as_torch(case):
    """An input that requires grad: torch's refusal (with its op name), or, for the ops without a
    gradient, the write."""
    make, call = CASES[case]
    inputs = make()
    floating = [t.dtype.is_floating_point for t in inputs]
    if not any(floating):
        pytest.skip(reason="no floating input to require grad")
    result = call(torch, *inputs, None)
    outcomes = []
    for lib in (torch, tritongrad):
        tensors = [
            (torch.tensor(t.tolist(), dtype=t.dtype) if lib is torch else from_torch(t)).requires_grad_(f)
            for t, f in zip(inputs, floating)
        ]
        out = lib.empty(tuple(result.shape), dtype=result.dtype)
        try:
            outcomes.append(("ok", torch.tensor(call(lib, *tensors, out).tolist(), dtype=result.dtype)))
        except RuntimeError as error:
            outcomes.append(("error", str(error)))
    want, got = outcomes
    assert got[0] == want[0], f"{case}: torch {want}, tritongrad {got}"
    if want[0] == "ok":
        assert case in ACCEPTS_GRAD
        assert_close(got[1], want[1], what=case)
    else:
        assert got[1] == want[1], f"{case}: torch {want[1]!r}, tritongrad {got[1]!r}"
        assert got[1].startswith(f"{GRAD_NAMES.get(case, case)}(): functions with out=")


def test_argsort_out_needs_stable_as_torch():
    """torch's argsort takes out= only in its overload with the keyword ``stable``."""
    x = random_values(X, torch.float32)
    for lib in (torch, tritongrad):
        with pytest.raises(TypeError):
            lib.argsort(_args(lib, [x])[0], 1, out=lib.empty(X, dtype=torch.int64))


# The pair results: out=(first, second), checked all before either is written.
PAIR_CASES = {
    "histogram": (lambda: [random_values((11,), torch.float32)], lambda lib, x, out: lib.histogram(x, 4, out=out),
                  (torch.float32, torch.float32)),
    "slogdet": (lambda: [random_values((2, 3, 3), torch.float64)], lambda lib, a, out: lib.slogdet(a, out=out),
                (torch.float64, torch.float64)),
    "triangular_solve": (lambda: [random_values((3, 2), torch.float64),
                                  random_values((3, 3), torch.float64, low=1.0, high=3.0)],
                         lambda lib, b, a, out: lib.triangular_solve(b, a, upper=False, out=out),
                         (torch.float64, torch.float64)),
}  # fmt: skip


@pytest.mark.parametrize("wrong", [None, 0, 1])
@pytest.mark.parametrize("case", list(PAIR_CASES))
def test_pair_out_matches_torch(case, wrong):
    """out=(a, b) of the right dtypes (resized from empty), or with one of another dtype: torch's result or error."""
    make, call, dtypes = PAIR_CASES[case]
    inputs = make()
    outcomes = []
    for lib in (torch, tritongrad):
        outs = tuple(lib.empty(0, dtype=torch.int64 if i == wrong else d) for i, d in enumerate(dtypes))
        try:
            returned = call(lib, *_args(lib, inputs), outs)
        except RuntimeError as error:
            outcomes.append(("error", str(error).split("\n")[0]))
            continue
        assert all(r is o for r, o in zip(returned, outs)), f"{case}: out= must return the out tensors"
        assert type(returned).__name__ == f"{case}_out" or case == "triangular_solve"
        outcomes.append(("ok", [torch.tensor(o.tolist(), dtype=o.dtype) for o in outs]))
    want, got = outcomes
    assert got[0] == want[0], f"{case} wrong={wrong}: torch {want}, tritongrad {got}"
    if want[0] == "error":
        assert got[1] == want[1], f"{case} wrong={wrong}: torch {want[1]!r}, tritongrad {got[1]!r}"
        return
    for g, w in zip(got[1], want[1]):
        assert_close(g, w, what=case)


# Random ops: out's dtype and shape as torch's, values by their distribution's support.
# name -> (call(lib, out), out's dtype, out's shape)
RANDOM_CASES = {
    "bernoulli": (lambda lib, out: lib.bernoulli(lib.full(X, 0.5), out=out), torch.float32, (0,)),
    "bernoulli_into_bool": (lambda lib, out: lib.bernoulli(lib.full(X, 0.5), out=out), torch.bool, (2,)),
    "multinomial": (lambda lib, out: lib.multinomial(lib.tensor([[0.2, 0.0, 0.8]] * 2), 4, True, out=out),
                    torch.int64, (0,)),
    "normal": (lambda lib, out: lib.normal(lib.zeros(X), 2.0, out=out), torch.float32, X),
    "normal_resized": (lambda lib, out: lib.normal(lib.zeros(5), lib.ones(5), out=out), torch.float64, (1,)),
    "normal_scalars": (lambda lib, out: lib.normal(1.0, 2.0, size=X, out=out), torch.float64, (0,)),
    "randint": (lambda lib, out: lib.randint(3, 7, X, out=out), torch.int64, (0,)),
    "randint_float_out": (lambda lib, out: lib.randint(3, 7, X, out=out), torch.float32, (7,)),
    "randperm": (lambda lib, out: lib.randperm(9, out=out), torch.int64, (0,)),
    "randperm_float_out": (lambda lib, out: lib.randperm(9, out=out), torch.float64, (2, 2)),
}  # fmt: skip


@pytest.mark.parametrize("case", list(RANDOM_CASES))
def test_random_out_as_torch(case):
    call, dtype, shape = RANDOM_CASES[case]
    results = []
    for lib in (torch, tritongrad):
        out = lib.empty(shape, dtype=dtype)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            returned = call(lib, out)
        assert returned is out, f"{case}: out= must return out"
        results.append((torch.tensor(out.tolist(), dtype=out.dtype), [str(w.message)[:40] for w in caught]))
    (want, want_warnings), (got, got_warnings) = results
    assert got.shape == want.shape and got.dtype == want.dtype, (
        f"{case}: {got.shape}/{got.dtype} vs torch's {want.shape}"
    )
    assert got_warnings == want_warnings, f"{case}: warnings {got_warnings} vs torch's {want_warnings}"
    if case.startswith("bernoulli"):
        assert set(got.unique().tolist()) <= {0, 1}
    if case.startswith("multinomial"):
        assert set(got.unique().tolist()) <= {0, 2}, f"{case}: a category of zero weight was drawn: {got}"
    if case.startswith("randint"):
        assert got.min() >= 3 and got.max() < 7, f"{case}: {got}"
    if case.startswith("randperm"):
        assert sorted(got.tolist()) == list(range(9)), f"{case}: {got}"


RANDOM_REFUSALS = {
    "bernoulli_with_p": lambda lib: lib.bernoulli(lib.full(X, 0.5), 0.3, out=lib.empty(X)),
    "bernoulli_grad": lambda lib: lib.bernoulli(lib.full(X, 0.5, requires_grad=True), out=lib.empty(X)),
    "multinomial_int32": lambda lib: lib.multinomial(lib.ones(3), 2, out=lib.empty(2, dtype=torch.int32)),
    "normal_int_out": lambda lib: lib.normal(lib.zeros(3), 1.0, out=lib.empty(3, dtype=torch.int64)),
    "normal_unbroadcastable": lambda lib: lib.normal(lib.zeros(3), 1.0, out=lib.empty(5)),
    "normal_grad": lambda lib: lib.normal(lib.zeros(3, requires_grad=True), 1.0, out=lib.empty(3)),
    "normal_dtype_mismatch": lambda lib: lib.normal(0.0, 1.0, (3,), dtype=torch.float16, out=lib.empty(3)),
    "randint_dtype_mismatch": lambda lib: lib.randint(0, 2, (3,), dtype=torch.int32,
                                                      out=lib.empty(3, dtype=torch.int64)),
    "randperm_bool": lambda lib: lib.randperm(3, out=lib.empty(3, dtype=torch.bool)),
    "randperm_half_too_long": lambda lib: lib.randperm(3000, out=lib.empty(0, dtype=torch.float16)),
}  # fmt: skip


@pytest.mark.parametrize("case", list(RANDOM_REFUSALS))
def test_random_out_refusals_as_torch(case):
    errors = []
    for lib in (torch, tritongrad):
        with pytest.raises(Exception) as raised:
            RANDOM_REFUSALS[case](lib)
        errors.append((type(raised.value), str(raised.value).split("\n")[0]))
    (want_type, want), (got_type, got) = errors
    assert got_type is want_type, f"{case}: {got_type.__name__}: {got} vs torch's {want_type.__name__}: {want}"
    if want_type is not TypeError:  # (torch's TypeError lists its overloads)
        assert got.startswith(want.split(" (")[0][:60]), f"{case}: {got!r} vs torch's {want!r}"
