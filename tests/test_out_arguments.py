"""``out=`` of the non-elementwise ops (ops/out_argument.py) against torch: the value written, out's
dtype rule (exact, castable, or any dtype the input is cast to first), the resize (with torch's
warning when out held elements), and the refusals (autograd, dtypes), with torch's type and message.

Each case runs the same call on torch and on tritongrad and compares what happens.
"""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, random_values

X = (3, 5)  # a prime inner size


def _args(lib, values):
    return [lib.tensor(v.tolist(), dtype=v.dtype) if isinstance(v, torch.Tensor) else v for v in values]


# name -> (inputs, call(lib, *inputs, out=...)); inputs are torch tensors made per test.
CASES = {
    "sum": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.sum(x, 0, out=out)),
    "sum_keepdim": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.sum(x, 1, True, out=out)),
    "sum_int": (lambda: [random_values(X, torch.int32)], lambda lib, x, out: lib.sum(x, (0, 1), out=out)),
    "sum_dtype": (lambda: [random_values(X, torch.float32)],
                  lambda lib, x, out: lib.sum(x, 0, dtype=lib.float64, out=out)),
    "cumsum": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.cumsum(x, 1, out=out)),
    "cumsum_int": (lambda: [random_values(X, torch.int64)], lambda lib, x, out: lib.cumsum(x, 0, out=out)),
    "gather": (lambda: [random_values(X, torch.float32), torch.randint(0, 3, (2, 5))],
               lambda lib, x, i, out: lib.gather(x, 0, i, out=out)),
    "index_select": (lambda: [random_values(X, torch.float32), torch.tensor([4, 0, 4])],
                     lambda lib, x, i, out: lib.index_select(x, 1, i, out=out)),
    "cat": (lambda: [random_values(X, torch.float32), random_values((2, 5), torch.float32)],
            lambda lib, a, b, out: lib.cat([a, b], 0, out=out)),
    "cat_mixed": (lambda: [random_values(X, torch.int32), random_values(X, torch.float16)],
                  lambda lib, a, b, out: lib.cat([a, b], 1, out=out)),
    "stack": (lambda: [random_values(X, torch.float32), random_values(X, torch.float32)],
              lambda lib, a, b, out: lib.stack([a, b], 1, out=out)),
    "mm": (lambda: [random_values(X, torch.float32), random_values((5, 2), torch.float32)],
           lambda lib, a, b, out: lib.mm(a, b, out=out)),
    "matmul": (lambda: [random_values((2, 3, 5), torch.float32), random_values((5, 2), torch.float32)],
               lambda lib, a, b, out: lib.matmul(a, b, out=out)),
    "bmm": (lambda: [random_values((2, 3, 5), torch.float32), random_values((2, 5, 1), torch.float32)],
            lambda lib, a, b, out: lib.bmm(a, b, out=out)),
    "softmax": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.softmax(x, 1, out=out)),
    "addmm": (lambda: [random_values((5,), torch.float32), random_values(X, torch.float32),
                       random_values((5, 5), torch.float32)],
              lambda lib, c, a, b, out: lib.addmm(c, a, b, beta=0.5, out=out)),
    "addcmul": (lambda: [random_values(X, torch.float32), random_values((5,), torch.float32),
                         random_values((3, 1), torch.float32)],
                lambda lib, c, a, b, out: lib.addcmul(c, a, b, value=2, out=out)),
    # the ops torch takes out= for that tritongrad added later (comparisons cast into any out)
    "pow": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.pow(x, 2, out=out)),
    "pow_tensors": (lambda: [random_values(X, torch.float32, low=0.5), random_values((5,), torch.float32)],
                    lambda lib, x, y, out: lib.pow(x, y, out=out)),
    "pow_int": (lambda: [random_values(X, torch.int64)], lambda lib, x, out: lib.pow(x, 3, out=out)),
    "eq": (lambda: [random_values(X, torch.int32)], lambda lib, x, out: lib.eq(x, 2, out=out)),
    "lt": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.lt(x, 0.5, out=out)),
    "greater_equal": (lambda: [random_values(X, torch.float32), random_values((5,), torch.float32)],
                      lambda lib, x, y, out: lib.greater_equal(x, y, out=out)),
    "logical_xor": (lambda: [random_values(X, torch.float32), random_values(X, torch.bool)],
                    lambda lib, x, y, out: lib.logical_xor(x, y, out=out)),
    "clamp_min": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.clamp_min(x, 0.5, out=out)),
    "clamp_tensor_min": (lambda: [random_values(X, torch.float32), random_values((5,), torch.float64)],
                         lambda lib, x, low, out: lib.clamp(x, min=low, out=out)),
    "clamp_max": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.clamp_max(x, 0.5, out=out)),
    "cumprod": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.cumprod(x, 1, out=out)),
    "cumprod_int": (lambda: [random_values(X, torch.int32)], lambda lib, x, out: lib.cumprod(x, 0, out=out)),
    "mv": (lambda: [random_values(X, torch.float32), random_values((5,), torch.float32)],
           lambda lib, a, v, out: lib.mv(a, v, out=out)),
    "dot": (lambda: [random_values((5,), torch.float32), random_values((5,), torch.float32)],
            lambda lib, a, b, out: lib.dot(a, b, out=out)),
    "outer": (lambda: [random_values((3,), torch.float32), random_values((5,), torch.float32)],
              lambda lib, a, b, out: lib.outer(a, b, out=out)),
    "cross": (lambda: [random_values((2, 3), torch.float32), random_values((2, 3), torch.float32)],
              lambda lib, a, b, out: lib.cross(a, b, dim=1, out=out)),
    "std": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.std(x, 1, out=out)),
    "var": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.var(x, 0, keepdim=True, out=out)),
    "norm": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.norm(x, 2, 1, out=out)),
    "nansum": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.nansum(x, 1, out=out)),
    "nanmean": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.nanmean(x, 0, out=out)),
    "all": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.all(x, 1, out=out)),
    "any": (lambda: [random_values(X, torch.bool)], lambda lib, x, out: lib.any(x, 0, out=out)),
    "take": (lambda: [random_values(X, torch.float32), torch.tensor([[14, 0], [3, 7]])],
             lambda lib, x, i, out: lib.take(x, i, out=out)),
    "take_along_dim": (lambda: [random_values(X, torch.float32), torch.tensor([[4], [0], [2]])],
                       lambda lib, x, i, out: lib.take_along_dim(x, i, 1, out=out)),
    "diff": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.diff(x, out=out)),
    "diag": (lambda: [random_values((4,), torch.float32)], lambda lib, x, out: lib.diag(x, 1, out=out)),
    "msort": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.msort(x, out=out)),
    "logcumsumexp": (lambda: [random_values(X, torch.float32)], lambda lib, x, out: lib.logcumsumexp(x, 1, out=out)),
    "gcd": (lambda: [random_values(X, torch.int64), random_values((5,), torch.int64)],
            lambda lib, a, b, out: lib.gcd(a, b, out=out)),
    "arange": (lambda: [], lambda lib, out: lib.arange(0.5, 6, out=out)),
    "linspace": (lambda: [], lambda lib, out: lib.linspace(-1, 2, 7, out=out)),
    "eye": (lambda: [], lambda lib, out: lib.eye(3, 2, out=out)),
}  # fmt: skip

# torch's op name in its autograd refusal, where it is not the case's; cases torch takes inputs that
# require grad for (the result has no gradient, or the write is not recorded).
GRAD_NAMES = {"sum_keepdim": "sum", "sum_dtype": "sum", "sum_int": "sum", "cumsum_int": "cumsum", "cat_mixed": "cat",
              "pow_tensors": "pow", "cumprod_int": "cumprod", "outer": "mul", "cross": "linalg_cross",
              "norm": "linalg_vector_norm", "nanmean": "nansum", "diff": "sub",
              "clamp_tensor_min": "clamp"}  # fmt: skip
ACCEPTS_GRAD = {"softmax", "eq", "lt", "greater_equal", "logical_xor", "all", "any", "diag"}

# The out tensors tried: the result's own shape needs no resize; (1,) holds an element (resized with
# a warning); (0,) is resized silently; other dtypes exercise each op's dtype rule.
OUTS = {
    "f32_right_shape": (None, torch.float32),
    "f32_resized": ((1,), torch.float32),
    "f64_empty": ((0,), torch.float64),
    "f16_empty": ((0,), torch.float16),
    "int64_empty": ((0,), torch.int64),
    "bool_empty": ((0,), torch.bool),
}


def _outcome(lib, call, inputs, out_shape, out_dtype, result_shape):
    """What the call does on ``lib``: ("ok", out as torch, warning texts) or ("error", type, message)."""
    shape = result_shape if out_shape is None else out_shape
    out = lib.empty(shape, dtype=out_dtype)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            returned = call(lib, *_args(lib, inputs), out)
        except (RuntimeError, TypeError, NotImplementedError) as error:
            return ("error", type(error), str(error).split("\n")[0])
    assert returned is out, "out= must return out itself"
    value = returned if isinstance(returned, torch.Tensor) else torch.tensor(returned.tolist(), dtype=returned.dtype)
    # (the distinct warnings: torch warns twice when it also casts, having resized a temporary too)
    return ("ok", value, sorted({str(w.message)[:60] for w in caught if "resized" in str(w.message)}))


@pytest.mark.parametrize("out_kind", list(OUTS))
@pytest.mark.parametrize("case", list(CASES))
def test_out_matches_torch(case, out_kind):
    check_out_matches_torch(case, *CASES[case], out_kind)


def check_out_matches_torch(case: str, make, call, out_kind: str) -> None:
    """The call into an out of ``out_kind`` on both libraries: torch's value and resize warnings, or its
    error type and message (shared with tests/test_out_coverage.py)."""
    inputs = make()
    result_shape = tuple(call(torch, *inputs, None).shape)
    out_shape, out_dtype = OUTS[out_kind]
    want = _outcome(torch, call, inputs, out_shape, out_dtype, result_shape)
    got = _outcome(tritongrad, call, inputs, out_shape, out_dtype, result_shape)
    assert got[0] == want[0], f"{case} into {out_kind}: torch gives {want}, tritongrad {got}"
    if want[0] == "error":
        assert got[1] is want[1] and got[2] == want[2], f"{case} into {out_kind}: torch {want}, tritongrad {got}"
        return
    # (the inputs are float32 or narrower: their tolerance, also when out is wider)
    assert_close(got[1], want[1], torch.float32 if out_dtype == torch.float64 else None, what=f"{case} into {out_kind}")
    assert got[2] == want[2], f"{case} into {out_kind}: resize warnings differ: torch {want[2]}, tritongrad {got[2]}"


@pytest.mark.parametrize("case", [c for c in CASES if c not in ACCEPTS_GRAD])
def test_out_refuses_autograd(case):
    make, call = CASES[case]
    inputs = [from_torch(t, requires_grad=t.dtype.is_floating_point) for t in make()]
    if not any(t.requires_grad for t in inputs):
        pytest.skip(reason="no floating input to require grad")
    result = call(tritongrad, *[t.detach() for t in inputs], None)
    out = tritongrad.empty(tuple(result.shape), dtype=result.dtype)
    name = GRAD_NAMES.get(case, case)
    with pytest.raises(RuntimeError, match=rf"^{name}\(\): functions with out=\.\.\. arguments don't"):
        call(tritongrad, *inputs, out)
    with tritongrad.no_grad():  # nothing to record: allowed
        assert_close(call(tritongrad, *inputs, out), to_expected(call, inputs))


def to_expected(call, inputs):
    return call(torch, *[torch.tensor(t.tolist(), dtype=t.dtype) for t in inputs], None)


def test_softmax_out_with_grad_input_writes_without_recording():
    """torch.softmax(x, dim, out=) accepts an input that requires grad (F.softmax has no out=)."""
    x = random_values(X, torch.float32)
    out = tritongrad.empty(X)
    result = tritongrad.softmax(from_torch(x, requires_grad=True), 1, out=out)
    assert result is out
    assert_close(out, torch.softmax(x, 1))
    with pytest.raises(TypeError):
        tritongrad.nn.functional.softmax(from_torch(x), 1, out=out)


@pytest.mark.parametrize("indices_dtype", [torch.int64, torch.int32])
def test_sort_out_tuple(indices_dtype):
    x = random_values((4, 7), torch.float32)
    values, indices = tritongrad.empty(1), tritongrad.empty(0, dtype=indices_dtype)
    if indices_dtype != torch.int64:
        values = tritongrad.empty((4, 7))
        with pytest.raises(RuntimeError, match="Expected out tensor to have dtype long int, but got int instead"):
            tritongrad.sort(from_torch(x), 1, True, out=(values, indices))
        return
    with pytest.warns(UserWarning, match="resized"):
        result = tritongrad.sort(from_torch(x), 1, True, out=(values, indices))
    want = torch.sort(x, 1, True)
    assert result.values is values and result.indices is indices
    assert_close(values, want.values)
    assert_close(indices, want.indices)
    with pytest.raises(RuntimeError, match=r"sort\(\): functions with out=\.\.\. arguments"):
        tritongrad.sort(from_torch(x, requires_grad=True), out=(values, indices))


def test_out_non_contiguous_and_sum_without_dim():
    x = random_values(X, torch.float32)
    base = tritongrad.empty((3, 2))
    tritongrad.sum(from_torch(x), 1, out=base[:, 1])  # a strided out of the right shape is written in place
    assert_close(base[:, 1], x.sum(1))
    with pytest.raises(TypeError, match="sum"):  # torch's sum takes out= only with dim
        tritongrad.sum(from_torch(x), out=tritongrad.empty(()))


def test_cumsum_into_bool_refused():
    with pytest.raises(NotImplementedError, match="cumsum_out_cpu"):
        tritongrad.cumsum(from_torch(random_values(X, torch.float32)), 0, out=tritongrad.empty(X, dtype=torch.bool))


@pytest.mark.parametrize("case", ["sum", "cumsum", "index_select", "mm", "cat"])
def test_out_must_be_a_tensor(case):
    make, call = CASES[case]
    with pytest.raises(TypeError, match="'out' must be Tensor, not list"):
        call(tritongrad, *_args(tritongrad, make()), [1.0])


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.cat([x[:2], x[2:]], out=x),
        lambda lib, x: lib.cat([x[:2], lib.ones(2)], out=x),
        lambda lib, x: lib.gather(x, 0, lib.tensor([1, 0, 3, 2]), out=x),
        lambda lib, x: lib.pow(x[:-1], 2, out=x[1:]),
        lambda lib, x: lib.lt(x[:-1], 0.5, out=x[1:]),
        lambda lib, x: lib.clamp_min(x[1:], 0.5, out=x[:-1]),
        lambda lib, x: lib.cumprod(x[:-1], 0, out=x[1:]),
        lambda lib, x: lib.cumsum(x[1:], 0, out=x[:-1]),
        lambda lib, x: lib.take(x, lib.tensor([0, 1, 2]), out=x[1:]),
        lambda lib, x: lib.outer(x[:1], x[1:3], out=x[1:3].view(1, 2)),
        lambda lib, x: lib.diff(x[:3], out=x[1:3]),
    ],
)
def test_out_sharing_memory_with_an_input_is_refused_as_torch(call):
    """A partial overlap is refused, as torch's TensorIterator ops (and cat, gather) refuse it."""
    values = random_values((4,), torch.float32)
    with pytest.raises(RuntimeError, match="refer to a single memory location") as want:
        call(torch, values.clone())
    with pytest.raises(RuntimeError) as got:
        call(tritongrad, from_torch(values))
    assert str(got.value) == str(want.value)


# Ops that write into out themselves (elementwise rows, clamp, where, lerp): a resize keeps out's
# storage when it has room, so a view of out sees the result, as after torch's resize_.
WRITING_OPS = {
    "add": lambda lib, a, b, out: lib.add(a, b, out=out),
    "mul": lambda lib, a, b, out: lib.mul(a, b, out=out),
    "exp": lambda lib, a, b, out: lib.exp(a, out=out),
    "where": lambda lib, a, b, out: lib.where(a > 0, a, b, out=out),
    "clamp": lambda lib, a, b, out: lib.clamp(a, -0.5, 0.5, out=out),
    "lerp": lambda lib, a, b, out: lib.lerp(a, b, 0.25, out=out),
}


@pytest.mark.parametrize("op", sorted(WRITING_OPS))
@pytest.mark.parametrize("out_kind", ["larger", "view_of_larger"])
def test_writing_op_resizes_out_in_its_storage(op, out_kind):
    """out of 7 elements (or a 3-element view into 10) receiving a (2,) result: torch resizes it
    in place, so a view taken before the call, and the base of a view out, see the values."""
    a, b = random_values((2,), torch.float32), random_values((2,), torch.float32)
    seen = []
    for lib in (torch, tritongrad):
        base = lib.zeros(7 if out_kind == "larger" else 10)
        out = base if out_kind == "larger" else base[1:4]
        watcher = base[:4]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's resize deprecation warning, checked elsewhere
            result = WRITING_OPS[op](lib, *_args(lib, [a, b]), out=out)
        assert result is out
        seen.append([out.tolist(), watcher.tolist(), base.tolist()])
    assert seen[0][0] == pytest.approx(seen[1][0]), f"{op} {out_kind}: out {seen[1][0]} vs torch {seen[0][0]}"
    assert seen[0][1:] == [pytest.approx(v) for v in seen[1][1:]], (
        f"{op} {out_kind}: views {seen[1][1:]} vs {seen[0][1:]}"
    )


@pytest.mark.parametrize("position", ["input", "other"])
def test_where_out_takes_tensors_only_as_torch(position):
    """torch's where(condition, input, other, out=...) overload has no number form."""
    x = random_values((3,), torch.float32)
    errors = []
    for lib in (torch, tritongrad):
        t = _args(lib, [x])[0]
        operands = (1.5, t) if position == "input" else (t, 1.5)
        with pytest.raises(TypeError) as raised:
            lib.where(t > 0, *operands, out=lib.empty(3))
        errors.append(str(raised.value))
    assert errors[0] == errors[1], f"{position}: {errors[1]!r} vs torch {errors[0]!r}"


# An out= of another dtype than the op's: torch computes in the op's dtype, then casts into out (a
# float16 sum is rounded to float16 first, a float64 input's sqrt is float64's before it becomes float32)
OTHER_DTYPE_OUTS = {
    "half_add_into_float32": lambda lib: lib.add(
        lib.tensor([2048.0], dtype=lib.float16), 1, out=lib.empty(1, dtype=lib.float32)
    ),  # fmt: skip
    "float_mul_into_float64": lambda lib: lib.mul(lib.tensor([1.1]), 3, out=lib.empty(1, dtype=lib.float64)),
    "float64_sqrt_into_float32": lambda lib: lib.sqrt(lib.tensor([2.0], dtype=lib.float64), out=lib.empty(1)),
    "float_atan2_into_float64": lambda lib: lib.atan2(
        lib.tensor([1.0]), lib.tensor([3.0]), out=lib.empty(1, dtype=lib.float64)
    ),  # fmt: skip
    "comparison_into_float": lambda lib: lib.lt(lib.tensor([1.0, 3.0]), 2, out=lib.empty(2)),
    "int_div_into_float64": lambda lib: lib.div(lib.tensor([1, 2]), 3, out=lib.empty(2, dtype=lib.float64)),
    "half_sigmoid_into_float64": lambda lib: lib.sigmoid(
        lib.tensor([0.3], dtype=lib.float16), out=lib.empty(1, dtype=lib.float64)
    ),  # fmt: skip
}


@pytest.mark.parametrize("case", OTHER_DTYPE_OUTS, ids=list(OTHER_DTYPE_OUTS))
def test_out_of_another_dtype_takes_the_ops_rounding(case):
    expected = OTHER_DTYPE_OUTS[case](torch)
    got = OTHER_DTYPE_OUTS[case](tritongrad)
    assert got.dtype == expected.dtype and got.tolist() == expected.tolist(), (got.tolist(), expected.tolist())
