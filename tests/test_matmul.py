"""kernels/matmul.py against torch.matmul, torch.nn.functional.linear and torch.autograd.

The interpreter tiles are 128x128x128, so "> one tile" below means a dim above 128.
"""

from __future__ import annotations

import inspect

import pytest
import torch
import torch.nn.functional as F

from tests.utils import assert_close, tolerance
from tritongrad import runtime
from tritongrad.kernels import matmul
from tritongrad.kernels.matmul import launch_linear, launch_linear_backward, launch_matmul

DEVICE = runtime.device()
DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]


def rand(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape, dtype=dtype, device=DEVICE)


def reference_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.matmul(a.double(), b.double()).to(a.dtype)


# ----------------------------------------------------------------------------- matmul

MATMUL_SHAPES = [
    ((1, 1), (1, 1)),  # size 1
    ((7, 13), (13, 5)),  # primes
    ((130, 200), (200, 67)),  # > one tile in M; K spans two K steps, the second partial
    ((3, 0), (0, 4)),  # K = 0: zeros
    ((0, 5), (5, 3)),  # M = 0: empty, no launch
    ((4, 5), (5, 0)),  # N = 0: empty, no launch
]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape_a, shape_b", MATMUL_SHAPES, ids=str)
def test_matmul_matches_torch(shape_a, shape_b, dtype):
    a, b = rand(*shape_a, dtype=dtype), rand(*shape_b, dtype=dtype)
    assert_close(launch_matmul(a, b), reference_matmul(a, b), kind="matmul", what=f"{shape_a} @ {shape_b}")


def test_matmul_k_zero_gives_exact_zeros():
    out = launch_matmul(rand(3, 0), rand(0, 4))
    assert out.shape == (3, 4) and bool((out == 0).all()), f"K = 0 must give zeros, got {out}"


def record_launches(monkeypatch, kernel) -> list[dict]:
    """A list that receives the meta-parameters of every launch of ``kernel`` made during the test."""
    launches = []
    run = kernel.run

    def counting_run(*args, **kwargs):
        launches.append(kwargs)
        return run(*args, **kwargs)

    monkeypatch.setattr(kernel, "run", counting_run)
    return launches


@pytest.fixture
def kernel_launches(monkeypatch):
    """The meta-parameters of every matmul_kernel launch made during the test."""
    return record_launches(monkeypatch, matmul.matmul_kernel)


@pytest.mark.parametrize("shape_a, shape_b", [((0, 5), (5, 3)), ((4, 5), (5, 0)), ((2, 0, 4, 5), (5, 3))], ids=str)
def test_matmul_empty_result_does_not_launch(shape_a, shape_b, kernel_launches):
    out = launch_matmul(rand(*shape_a), rand(*shape_b))
    assert out.numel() == 0 and not kernel_launches, f"{shape_a} @ {shape_b} launched {len(kernel_launches)} kernels"


def test_matmul_more_tile_rows_than_group():
    # With the interpreter's 128-tiles: 9 tile rows > GROUP_M = 8 and 3 tile columns, so
    # the grouped ordering wraps into a second, partial group; a tile mapped twice or
    # never shows here.
    a, b = rand(1100, 3), rand(3, 260)
    assert_close(launch_matmul(a, b), reference_matmul(a, b), kind="matmul", what="1100x3 @ 3x260")


BATCHED_SHAPES = [
    ((1, 1, 1), (1, 1, 1)),  # size 1 everywhere
    ((2, 1, 5, 7), (3, 7, 4)),  # broadcast on both sides, different ranks
    ((4, 3, 5), (5, 2)),  # 2-D b shared by the whole batch (stride 0)
    ((5, 7), (2, 7, 3)),  # 2-D a shared by the batch
    ((2, 3, 4, 5), (1, 3, 5, 6)),  # size-1 batch dim in b
    ((0, 3, 4), (1, 4, 2)),  # empty batch
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("shape_a, shape_b", BATCHED_SHAPES, ids=str)
def test_matmul_batched_broadcast(shape_a, shape_b, dtype):
    a, b = rand(*shape_a, dtype=dtype), rand(*shape_b, dtype=dtype)
    assert_close(launch_matmul(a, b), reference_matmul(a, b), kind="matmul", what=f"{shape_a} @ {shape_b}")


def _column_major(t: torch.Tensor) -> torch.Tensor:
    """The same values laid out column-major in each matrix (built by the test, not the launcher)."""
    return t.transpose(-1, -2).contiguous().transpose(-1, -2)


NON_CONTIGUOUS = {
    "a transposed": lambda: (rand(9, 6).t(), rand(9, 5)),
    "b transposed": lambda: (rand(6, 9), rand(5, 9).t()),
    "both transposed": lambda: (rand(9, 6).t(), rand(5, 9).t()),
    "sliced with steps": lambda: (rand(12, 20)[::2, 1::3], rand(14, 10)[::2, ::2]),
    "expanded batch": lambda: (rand(1, 6, 9).expand(4, 6, 9), rand(4, 9, 5)),
    "expanded matrix": lambda: (rand(6, 1).expand(6, 9), rand(9, 5)),
    "permuted batch": lambda: (rand(3, 2, 6, 9).permute(1, 0, 2, 3), _column_major(rand(2, 3, 9, 5))),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
@pytest.mark.parametrize("case", NON_CONTIGUOUS, ids=str)
def test_matmul_non_contiguous_read_in_place(case, dtype):
    # The audit fails the test if the launcher copied an operand (aten.clone / contiguous).
    a, b = (t.to(dtype) for t in NON_CONTIGUOUS[case]())
    assert_close(launch_matmul(a, b), reference_matmul(a, b), kind="matmul", what=case)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("with_bias", [False, True], ids=["no_bias", "bias"])
@pytest.mark.parametrize("activation", [None, "relu"], ids=str)
def test_matmul_epilogue(activation, with_bias, dtype):
    a, b = rand(2, 6, 11, dtype=dtype), rand(11, 7, dtype=dtype)
    bias = rand(7, dtype=dtype) if with_bias else None
    want = torch.matmul(a.double(), b.double())
    if bias is not None:
        want = want + bias.double()
    if activation == "relu":
        want = torch.relu(want)
    got = launch_matmul(a, b, bias=bias, activation=activation)
    assert_close(got, want.to(dtype), kind="matmul", what=f"bias={with_bias} activation={activation}")


def test_matmul_bias_with_k_zero_is_bias():
    bias = rand(4)
    got = launch_matmul(rand(3, 0), rand(0, 4), bias=bias)
    assert_close(got, bias.expand(3, 4), kind="matmul", what="K = 0 with bias")


def test_matmul_strided_bias():
    a, b, bias = rand(5, 8), rand(8, 6), rand(12)[::2]  # bias read through its stride of 2
    assert_close(launch_matmul(a, b, bias=bias), reference_matmul(a, b) + bias, kind="matmul", what="strided bias")


def test_matmul_out_dtype():
    a, b = rand(9, 17, dtype=torch.float16), rand(17, 5, dtype=torch.float16)
    got = launch_matmul(a, b, out_dtype=torch.float32)
    assert_close(
        got,
        torch.matmul(a.double(), b.double()).float(),
        kind="matmul",
        what="fp16 in, fp32 out",
        tolerances=(1e-5, 1e-5),
    )


@pytest.mark.skipif(not runtime.is_interpreter(), reason="the interpreter has no tf32; a GPU test covers tf32")
def test_matmul_allow_tf32_is_exact_in_interpreter():
    a, b = rand(7, 13), rand(13, 5)
    assert_close(
        launch_matmul(a, b, allow_tf32=True),
        reference_matmul(a, b),
        kind="matmul",
        what="allow_tf32 in the interpreter",
    )


ERRORS = [
    (
        lambda: launch_matmul(rand(3, 4), rand(5, 6)),
        RuntimeError,
        r"mat1 and mat2 shapes cannot be multiplied \(3x4 and 5x6\)",
    ),
    (
        lambda: launch_matmul(rand(3, 4), rand(4, 6, dtype=torch.float64)),
        RuntimeError,
        "expected m1 and m2 to have the same dtype, but got: float != double",
    ),
    (
        lambda: launch_matmul(rand(3, 4), torch.empty(4, 6, device="meta")),
        RuntimeError,
        "expected all tensors to be on the same device",
    ),
    (
        lambda: launch_matmul(rand(2, 3, 4), rand(3, 4, 5)),
        RuntimeError,
        r"batch dims of \(2, 3, 4\) and \(3, 4, 5\) cannot be broadcast",
    ),
    (lambda: launch_matmul(rand(4), rand(4, 5)), ValueError, "at least 2 dims"),
    (
        lambda: launch_matmul(rand(3, 4), rand(4, 5), bias=rand(4)),
        RuntimeError,
        r"bias must have shape \(5,\)",
    ),
    (
        lambda: launch_matmul(rand(3, 4), rand(4, 5), activation="gelu"),
        ValueError,
        "activation must be one of",
    ),
    (
        lambda: launch_matmul(torch.ones(3, 4, dtype=torch.int32), torch.ones(4, 5, dtype=torch.int32)),
        NotImplementedError,
        "not implemented for 'Int'",
    ),
    (lambda: launch_linear(rand(3, 4), rand(5, 6)), RuntimeError, r"cannot be multiplied \(3x4 and 6x5\)"),
    (lambda: launch_linear(rand(3, 4), rand(2, 5, 4)), ValueError, "weight must be 2-D"),
    (
        lambda: launch_linear_backward(rand(3, 5), rand(3, 4), rand(5, 4), relu_out=rand(3, 4)),
        RuntimeError,
        r"relu_out \(3, 4\) torch.float32 must match grad_out \(3, 5\)",
    ),
    (
        lambda: launch_linear_backward(rand(3, 6), rand(3, 4), rand(5, 4)),
        RuntimeError,
        r"grad_out has shape \(3, 6\)",
    ),
]


@pytest.mark.parametrize("call, error, message", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_errors_name_shapes_and_dtypes(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ----------------------------------------------------------------------------- linear

LINEAR_INPUTS = {
    "1-D input": lambda dtype: rand(5, dtype=dtype),
    "2-D rows": lambda dtype: rand(6, 5, dtype=dtype),
    "3-D flattens to rows": lambda dtype: rand(2, 3, 5, dtype=dtype),
    "permuted leading dims": lambda dtype: rand(3, 2, 5, dtype=dtype).permute(1, 0, 2),  # cannot flatten
    "no rows": lambda dtype: rand(0, 5, dtype=dtype),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("activation", [None, "relu"], ids=str)
@pytest.mark.parametrize("with_bias", [False, True], ids=["no_bias", "bias"])
@pytest.mark.parametrize("case", LINEAR_INPUTS, ids=str)
def test_linear_matches_torch(case, with_bias, activation, dtype):
    x, weight = LINEAR_INPUTS[case](dtype), rand(4, 5, dtype=dtype)
    bias = rand(4, dtype=dtype) if with_bias else None
    want = F.linear(x.double(), weight.double(), None if bias is None else bias.double())
    if activation == "relu":
        want = torch.relu(want)
    got = launch_linear(x, weight, bias, activation=activation)
    assert_close(got, want.to(dtype), kind="matmul", what=f"linear {case}")


def _autograd_linear_grads(grad_out, x, weight):
    """(grad_x, grad_weight, grad_bias) from torch.autograd, in float64."""
    x64 = x.detach().double().requires_grad_()
    w64 = weight.detach().double().requires_grad_()
    b64 = torch.zeros(weight.shape[0], dtype=torch.float64, device=DEVICE, requires_grad=True)
    F.linear(x64, w64, b64).backward(grad_out.double())
    return x64.grad, w64.grad, b64.grad


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", LINEAR_INPUTS, ids=str)
def test_linear_backward_matches_autograd(case, dtype):
    x = LINEAR_INPUTS[case](dtype)
    weight, grad_out = rand(4, 5, dtype=dtype), rand(*x.shape[:-1], 4, dtype=dtype)
    got = launch_linear_backward(grad_out, x, weight)
    want = _autograd_linear_grads(grad_out, x, weight)
    for name, g, w in zip(("grad_x", "grad_weight", "grad_bias"), got, want):
        assert_close(g, w.to(dtype), kind="matmul", what=f"{name} for {case}")


def test_linear_backward_more_than_one_tile():
    # grad_weight is 140x130: 2x2 tiles, so two tile rows own grad_bias entries
    # and the second tile column must leave them alone.
    x, weight, grad_out = rand(9, 130), rand(140, 130), rand(9, 140)
    got = launch_linear_backward(grad_out, x, weight)
    want = _autograd_linear_grads(grad_out, x, weight)
    for name, g, w in zip(("grad_x", "grad_weight", "grad_bias"), got, want):
        assert_close(g, w.float(), kind="matmul", what=f"{name} for 9x130 input, 140x130 weight")


@pytest.mark.parametrize(
    "needs", [(True, False, False), (False, True, False), (False, False, True), (False, True, True)], ids=str
)
@pytest.mark.parametrize("case", ["2-D rows", "permuted leading dims"], ids=str)
def test_linear_backward_only_needed_grads(case, needs):
    x = LINEAR_INPUTS[case](torch.float64)
    weight, grad_out = rand(4, 5, dtype=torch.float64), rand(*x.shape[:-1], 4, dtype=torch.float64)
    got = launch_linear_backward(grad_out, x, weight, needs_input_grad=needs)
    want = _autograd_linear_grads(grad_out, x, weight)
    for name, needed, g, w in zip(("grad_x", "grad_weight", "grad_bias"), needs, got, want):
        if needed:
            assert_close(g, w, kind="matmul", what=f"{name} for {case} with needs_input_grad={needs}")
        else:
            assert g is None, f"{name} was not asked for (needs_input_grad={needs}) but got a tensor"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_linear_backward_expanded_grad_out(dtype):
    # The gradient of y.sum() arrives as one row expanded over all leading dims (strides 0).
    x, weight = rand(2, 3, 5, dtype=dtype), rand(4, 5, dtype=dtype)
    grad_out = rand(4, dtype=dtype).expand(2, 3, 4)
    got = launch_linear_backward(grad_out, x, weight)
    want = _autograd_linear_grads(grad_out, x, weight)
    for name, g, w in zip(("grad_x", "grad_weight", "grad_bias"), got, want):
        assert_close(g, w.to(dtype), kind="matmul", what=f"{name} for an expanded grad_out")


@pytest.fixture
def linear_backward_launches(monkeypatch):
    """The meta-parameters of every linear_backward_kernel launch made during the test."""
    return record_launches(monkeypatch, matmul.linear_backward_kernel)


@pytest.mark.parametrize(
    "needs", [(True, True, True), (False, True, True), (True, False, False), (False, False, True)], ids=str
)
def test_linear_backward_is_one_launch(needs, kernel_launches, linear_backward_launches):
    x, weight, grad_out = rand(6, 5), rand(4, 5), rand(6, 4)
    launch_linear_backward(grad_out, x, weight, needs_input_grad=needs)
    assert not kernel_launches and len(linear_backward_launches) == 1, (
        f"needs_input_grad={needs} took {len(kernel_launches)} matmul and {len(linear_backward_launches)} "
        "linear_backward launches, not one"
    )
    flags = tuple(linear_backward_launches[0][flag] for flag in ("GRAD_INPUT", "GRAD_WEIGHT", "GRAD_BIAS"))
    assert flags == needs, f"kernel flags {flags} for needs_input_grad={needs}"


def _relu_linear_grads(grad_out, x, weight, bias):
    """(grad_x, grad_weight, grad_bias, relu output) of relu(x @ weight.T + bias) from torch.autograd in float64."""
    x64 = x.detach().double().requires_grad_()
    w64 = weight.detach().double().requires_grad_()
    b64 = bias.detach().double().requires_grad_()
    out = torch.relu(F.linear(x64, w64, b64))
    out.backward(grad_out.double())
    return x64.grad, w64.grad, b64.grad, out.detach()


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize(
    "rows, in_features, out_features",
    [(1, 1, 1), (6, 5, 4), (9, 130, 140), (131, 7, 3), (0, 5, 4)],
    ids=lambda v: str(v),
)
def test_linear_backward_with_relu_mask_matches_autograd(rows, in_features, out_features, dtype):
    # (9, 130, 140): two tile rows and columns of grad_weight after the grad_input tiles;
    # (131, 7, 3): two tile rows of grad_input; (0, 5, 4): no rows, zero weight and bias gradients.
    x, weight = rand(rows, in_features, dtype=dtype), rand(out_features, in_features, dtype=dtype)
    bias = rand(out_features, dtype=dtype)
    grad_out = rand(rows, out_features, dtype=dtype)
    *want, relu_out = _relu_linear_grads(grad_out, x, weight, bias)
    if relu_out.numel() >= 4:
        assert 0 < int((relu_out > 0).sum()) < relu_out.numel(), "the ReLU mask should keep some entries, not all"
    got = launch_linear_backward(grad_out, x, weight, relu_out=relu_out.to(dtype))
    rtol, atol = tolerance(dtype, "matmul")
    for name, g, w in zip(("grad_x", "grad_weight", "grad_bias"), got, want):
        k = max(rows, out_features, 1)
        assert_close(
            g,
            w.to(dtype),
            kind="matmul",
            what=f"{name} with relu mask, {rows}x{in_features}->{out_features}",
            tolerances=(rtol, atol * k**0.5),
        )


def test_linear_backward_relu_mask_reads_transposed_views():
    # grad_out and relu_out as transposed buffers, x as a column slice: all read through strides.
    x = rand(12, 7)[:, 1:6]
    weight, bias = rand(4, 5), rand(4)
    grad_out = rand(4, 12).t()
    *want, relu_out = _relu_linear_grads(grad_out, x, weight, bias)
    relu_out_t = relu_out.float().t().contiguous().t()
    got = launch_linear_backward(grad_out, x, weight, relu_out=relu_out_t)
    for name, g, w in zip(("grad_x", "grad_weight", "grad_bias"), got, want):
        assert_close(g, w.float(), kind="matmul", what=f"{name} with transposed grad_out / relu_out")


def test_linear_backward_relu_mask_needs_rows():
    x = rand(3, 2, 5).permute(1, 0, 2)  # leading dims that cannot flatten
    weight, grad_out = rand(4, 5), rand(2, 3, 4)
    with pytest.raises(ValueError, match="relu_out needs leading dims that flatten"):
        launch_linear_backward(grad_out, x, weight, relu_out=rand(2, 3, 4))


def test_linear_gradcheck_float64():
    class Linear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, weight, bias):
            ctx.save_for_backward(x, weight)
            return launch_linear(x, weight, bias)

        @staticmethod
        def backward(ctx, grad_out):
            x, weight = ctx.saved_tensors
            return launch_linear_backward(grad_out, x, weight, needs_input_grad=ctx.needs_input_grad)

    x = rand(2, 3, 4, dtype=torch.float64).requires_grad_()
    weight = rand(3, 4, dtype=torch.float64).requires_grad_()
    bias = rand(3, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(Linear.apply, (x, weight, bias), eps=1e-6, atol=1e-8)


# ----------------------------------------------------------------------------- split-K

# K = 300 spans three interpreter K steps (128 + 128 + 44), so 2 and 3 splits each cover whole
# steps and a shorter last share; 7 splits leave some with no step at all (zero partials).
SPLITS = [2, 3, 7]


@pytest.fixture
def split_sum_launches(monkeypatch):
    """The meta-parameters of every split_k_sum_kernel launch made during the test."""
    return record_launches(monkeypatch, matmul.split_k_sum_kernel)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("split_k", SPLITS, ids=lambda s: f"split{s}")
def test_split_k_matmul_with_epilogue(split_k, dtype, kernel_launches, split_sum_launches):
    # The partial sums skip the epilogue; the summing launch adds the bias and applies the ReLU.
    a, b, bias = rand(70, 300, dtype=dtype), rand(300, 50, dtype=dtype), rand(50, dtype=dtype)
    out = torch.empty(70, 50, dtype=dtype)
    matmul._launch_matmul_kernel(a, b, out, bias=bias, activation="relu", split_k=split_k)
    assert [launch["SPLIT_K"] for launch in kernel_launches] == [split_k] and len(split_sum_launches) == 1, (
        f"split_k={split_k}: {len(kernel_launches)} product and {len(split_sum_launches)} sum launches"
    )
    want = torch.relu(torch.matmul(a.double(), b.double()) + bias.double()).to(dtype)
    rtol, atol = tolerance(dtype, "matmul")
    assert_close(
        out,
        want,
        kind="matmul",
        what=f"split-K {split_k} (70, 300) @ (300, 50) + bias, relu",
        tolerances=(rtol, atol * 300**0.5),
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_split_k_batched_and_batch_summed(dtype):
    # A broadcast batch (one C per batch entry), and the batch-summing product with A's row sums
    # (the weight and bias gradient of a linear layer whose leading dims do not flatten).
    a, b = rand(3, 20, 300, dtype=dtype), rand(1, 300, 9, dtype=dtype)
    out = torch.empty(3, 20, 9, dtype=dtype)
    matmul._launch_matmul_kernel(a, b.expand(3, 300, 9), out, split_k=3)
    assert_close(out, reference_matmul(a, b), kind="matmul", what="split-K batched (3, 20, 300) @ (1, 300, 9)")
    summed, row_sum = torch.empty(20, 9, dtype=dtype), torch.empty(20, dtype=dtype)
    b = rand(3, 300, 9, dtype=dtype)
    matmul._launch_matmul_kernel(a, b, summed, row_sum=row_sum, sum_batch=True, split_k=3)
    assert_close(summed, reference_matmul(a, b).sum(0), kind="matmul", what="split-K batch-summed product")
    assert_close(row_sum, a.double().sum((0, 2)).to(dtype), kind="matmul", what="split-K row sums")


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("relu", [False, True], ids=["plain", "relu_mask"])
@pytest.mark.parametrize("needs", [(True, True, True), (False, False, True), (False, True, False)], ids=str)
def test_split_k_linear_backward(needs, relu, dtype, linear_backward_launches, split_sum_launches):
    # 300 rows: the weight gradient's K, shared by 3 splits; grad_input (K = out_features) is not split.
    rows, in_features, out_features = 300, 40, 10
    x, weight = rand(rows, in_features, dtype=dtype), rand(out_features, in_features, dtype=dtype)
    bias, grad_out = rand(out_features, dtype=dtype), rand(rows, out_features, dtype=dtype)
    if relu:
        *want, relu_out = _relu_linear_grads(grad_out, x, weight, bias)
        relu_out = relu_out.to(dtype)
    else:
        want, relu_out = [grad_out.double() @ weight.double(), grad_out.double().T @ x.double(),
                          grad_out.double().sum(0)], None  # fmt: skip
    got = launch_linear_backward(grad_out, x, weight, needs_input_grad=needs, relu_out=relu_out, split_k=3)
    assert [launch["SPLIT_K"] for launch in linear_backward_launches] == [3] and len(split_sum_launches) == 1
    rtol, atol = tolerance(dtype, "matmul")
    for name, need, g, w in zip(("grad_x", "grad_weight", "grad_bias"), needs, got, want):
        if not need:
            assert g is None, f"{name} computed though needs_input_grad={needs}"
            continue
        assert_close(
            g,
            w.to(dtype),
            kind="matmul",
            what=f"split-K {name}, {rows}x{in_features}->{out_features}",
            tolerances=(rtol, atol * rows**0.5),
        )


def test_split_k_is_deterministic():
    # The partials are summed in split order by one program per output element: no atomics, so
    # two runs agree bit for bit.
    x, weight, grad_out = rand(300, 40), rand(10, 40), rand(300, 10)
    first = launch_linear_backward(grad_out, x, weight, split_k=7)
    second = launch_linear_backward(grad_out, x, weight, split_k=7)
    for name, one, two in zip(("grad_x", "grad_weight", "grad_bias"), first, second):
        assert torch.equal(one, two), f"{name} differs between two split-K runs"


def test_split_k_policy_fills_the_gpu(monkeypatch):
    # The GPU policy, answered as on an H100 (132 SMs); the interpreter never splits.
    assert matmul._split_k(1, 3, 1, 8192, torch.device("cpu")) == 1
    monkeypatch.setattr(runtime, "is_interpreter", lambda: False)
    monkeypatch.setattr(matmul, "_sm_count", lambda device: 132)
    tiles = matmul._nominal_tiles
    cases = {
        # (M, N, K, batch): splits
        (65, 384, 8192, 1): 32,  # GPT vocabulary-head weight gradient: 3 tiles, K = 8192 tokens
        (256, 512, 784, 1): 3,  # digits MLP layer 1 forward: 8 tiles, K = 784 allows 3 splits
        (10, 784, 256, 1): 1,  # digits head weight gradient: K = 256 is one split's minimum
        (8192, 1536, 384, 1): 1,  # GPT MLP forward: 768 tiles fill the GPU
        (128, 128, 4096, 200): 1,  # a batch of 200 products fills it too
    }
    for (m, n, k, batch), want in cases.items():
        got = matmul._split_k(tiles(m), tiles(n), batch, k, torch.device("cuda"))
        assert got == want, f"split_k for M={m} N={n} K={k} batch={batch}: {got}, expected {want}"


def test_matmul_tile_parameters_are_grouped():
    # Issue 15: the tile routine takes grouped operands (pointer and strides together), not ~40 positionals.
    parameters = inspect.signature(matmul._matmul_tile.fn).parameters
    runtime_names = [name for name in parameters if not name.isupper()]  # constexprs are upper case
    assert runtime_names == ["tile_id", "a", "b", "c", "sizes", "k_range", "batches", "bias", "row_sum", "a_mask"]


# ----------------------------------------------------------------------------- GPU only


@pytest.mark.gpu
def test_tf32_on_gpu():
    a, b = rand(256, 320), rand(320, 192)
    exact = launch_matmul(a, b)
    fast = launch_matmul(a, b, allow_tf32=True)
    want = torch.matmul(a.double(), b.double())
    assert not torch.equal(exact, fast), "allow_tf32=True gave the exact fp32 result: tf32 was not used"
    assert_close(exact, want.float(), kind="matmul", what="fp32 ieee on GPU", tolerances=(1e-5, 1e-4))
    assert_close(fast, want.float(), kind="matmul", what="fp32 tf32 on GPU", tolerances=(1e-3, 1e-2 * 320**0.5))


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64], ids=str)
def test_large_on_gpu(dtype):
    a, b = rand(512, 512, dtype=dtype), rand(512, 512, dtype=dtype)
    bias = rand(512, dtype=dtype)
    want = torch.relu(torch.matmul(a.double(), b.double()) + bias.double())
    got = launch_matmul(a, b, bias=bias, activation="relu")
    # A 512-long dot of unit normals has magnitude ~22: scale atol accordingly.
    rtol, atol = tolerance(dtype, "matmul")
    assert_close(got, want.to(dtype), kind="matmul", what="512x512 on GPU", tolerances=(rtol, atol * 512**0.5))


@pytest.mark.gpu
def test_linear_backward_large_on_gpu():
    x, weight = rand(4, 128, 384, dtype=torch.float16), rand(256, 384, dtype=torch.float16)
    grad_out = rand(4, 128, 256, dtype=torch.float16)
    got = launch_linear_backward(grad_out, x, weight)
    want = _autograd_linear_grads(grad_out, x, weight)
    for name, g, w, k in zip(("grad_x", "grad_weight", "grad_bias"), got, want, (256, 512, 512)):
        assert_close(g, w.half(), kind="matmul", what=f"{name} on GPU", tolerances=(1e-2, 1e-2 * k**0.5))


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
def test_linear_backward_with_relu_mask_large_on_gpu(dtype):
    # Autotuned configs, several tiles of both products in one launch.
    x, weight, bias = rand(300, 384, dtype=dtype), rand(520, 384, dtype=dtype), rand(520, dtype=dtype)
    grad_out = rand(300, 520, dtype=dtype)
    *want, relu_out = _relu_linear_grads(grad_out, x, weight, bias)
    got = launch_linear_backward(grad_out, x, weight, relu_out=relu_out.to(dtype))
    rtol, atol = tolerance(dtype, "matmul")
    for name, g, w, k in zip(("grad_x", "grad_weight", "grad_bias"), got, want, (520, 300, 300)):
        assert_close(
            g, w.to(dtype), kind="matmul", what=f"{name} with relu mask on GPU", tolerances=(rtol, atol * k**0.5)
        )


# ----------------------------------------------------------------------------- integer matmul

INTEGER_CASES = [
    ((1, 1), (1, 1)),  # size 1
    ((7, 13), (13, 5)),  # primes
    ((45, 70), (70, 33)),  # > one tile in M and N; K spans several K steps, the last partial
    ((3, 0), (0, 4)),  # K = 0: zeros
    ((2, 1, 9, 4), (3, 4, 6)),  # broadcast batch dims
]


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8], ids=str)
@pytest.mark.parametrize("shape_a, shape_b", INTEGER_CASES, ids=str)
def test_integer_matmul_matches_torch_bit_for_bit(shape_a, shape_b, dtype):
    """torch multiplies integers in their own dtype and wraps around; so must we (int8 wraps often here)."""
    low, high = (0, 255) if dtype == torch.uint8 else (-100, 100)
    a = torch.randint(low, high, shape_a, device=DEVICE).to(dtype)
    b = torch.randint(low, high, shape_b, device=DEVICE).to(dtype)
    got = matmul.launch_integer_matmul(a, b)
    expected = torch.matmul(a.cpu(), b.cpu())
    assert got.dtype == expected.dtype and torch.equal(got.cpu(), expected), f"{shape_a} @ {shape_b} {dtype}"


def test_integer_matmul_reads_transposed_views_and_refuses_mixed_dtypes():
    a = torch.randint(-9, 9, (11, 6), device=DEVICE)
    b = torch.randint(-9, 9, (8, 11), device=DEVICE)
    assert torch.equal(matmul.launch_integer_matmul(a.t(), b.t()).cpu(), a.t().cpu() @ b.t().cpu())
    with pytest.raises(TypeError, match="one integer dtype"):
        matmul.launch_integer_matmul(a, b.t().to(torch.int32))
