"""kernels/activation.py against torch: forwards, backwards (torch autograd), and the shared
tanh/erf/erfc device functions; and the backwards of ReLU, sigmoid and tanh from their output.

Oracles: GELU, leaky ReLU and SiLU are compared with torch evaluated in float64 on the same
inputs (forward, and autograd for the backward). For GELU the oracle is torch computing the
cancellation-free forms x * erfc(-x / sqrt 2) / 2 and x * sigmoid(2u): F.gelu's own forms,
0.5 x (1 + erf(x / sqrt 2)) and 0.5 x (1 + tanh u), lose all digits for x << 0 even in float64
(and keep ~1 digit at x = -5 in float32), while the kernels do not. test_gelu_oracle_is_torch_gelu
checks the oracle against F.gelu where F.gelu is accurate. ReLU, sigmoid and tanh take their
gradient from the saved output with the strided binary ops threshold_backward, sigmoid_backward
and tanh_backward of kernels/elementwise.py; they are compared with torch's aten ops of the same
names, evaluated in float64 on the same rounded output.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
import triton
import triton.language as tl

import tritongrad
from tests.utils import assert_close, from_torch, make_pair, to_torch
from tritongrad.autograd import gradcheck
from tritongrad.kernels import activation as ka
from tritongrad.kernels import elementwise as ke

FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
SIZES = [0, 1, 1031, 65536 + 37]  # empty, single element, prime, > one block (interpreter and GPU)


def activation_input(n: int, dtype: torch.dtype) -> torch.Tensor:
    """Fresh normal samples scaled in turn by 1e-4, 1, 5 and 20: tiny, typical, tails, saturation."""
    scales = torch.tensor([1e-4, 1.0, 5.0, 20.0], dtype=torch.float64).repeat((n + 3) // 4)[:n]
    return (torch.randn(n, dtype=torch.float64) * scales).to(dtype)


def stable_gelu(x: torch.Tensor) -> torch.Tensor:
    return x * 0.5 * torch.special.erfc(-x * 0.5**0.5)


def stable_gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    twice_inner = 2 * (2 / torch.pi) ** 0.5 * (x + 0.044715 * x**3)
    return x * torch.sigmoid(twice_inner)


def test_gelu_oracle_is_torch_gelu():
    x = torch.linspace(-3, 30, 10001, dtype=torch.float64)
    torch.testing.assert_close(stable_gelu(x), F.gelu(x), rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(stable_gelu_tanh(x), F.gelu(x, approximate="tanh"), rtol=1e-12, atol=1e-15)


# name -> (forward launcher, backward launcher taking (grad_out, x), torch function)
INPUT_SAVING = {
    "gelu": (
        lambda x: ka.launch_gelu_fwd(x, "none"),
        lambda g, x: ka.launch_gelu_bwd(g, x, "none"),
        stable_gelu,
    ),
    "gelu_tanh": (
        lambda x: ka.launch_gelu_fwd(x, "tanh"),
        lambda g, x: ka.launch_gelu_bwd(g, x, "tanh"),
        stable_gelu_tanh,
    ),
    "leaky_relu": (
        lambda x: ka.launch_leaky_relu_fwd(x, 0.2),
        lambda g, x: ka.launch_leaky_relu_bwd(g, x, 0.2),
        lambda x: F.leaky_relu(x, 0.2),
    ),
    "silu": (ka.launch_silu_fwd, ka.launch_silu_bwd, F.silu),
}

# name -> (binary op of kernels/elementwise.py, torch forward, torch's backward from (grad_out, out))
FROM_OUTPUT = {
    "relu": ("threshold_backward", torch.relu, lambda grad, out: torch.ops.aten.threshold_backward(grad, out, 0.0)),
    "sigmoid": ("sigmoid_backward", torch.sigmoid, torch.ops.aten.sigmoid_backward),
    "tanh": ("tanh_backward", torch.tanh, torch.ops.aten.tanh_backward),
}


def backward_from_output(op: str, grad_out: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """The launch ops/elementwise._from_output makes in a first-order backward."""
    return ke.launch_binary(op, grad_out, out, out_dtype=grad_out.dtype, compute=grad_out.dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", list(INPUT_SAVING))
def test_forward_and_backward_from_input(name, n, dtype):
    forward, backward, torch_fn = INPUT_SAVING[name]
    x = activation_input(n, dtype)
    grad_out = torch.randn(n, dtype=torch.float64).to(dtype)
    reference_input = x.double().requires_grad_()
    reference_out = torch_fn(reference_input)
    (reference_grad,) = torch.autograd.grad(reference_out, reference_input, grad_out.double())

    out = forward(x)
    assert out.dtype == dtype, f"{name}: output dtype {out.dtype} for input {dtype}"
    assert_close(
        out, reference_out.detach(), dtype, kind="activation", what=f"{name} forward n={n} {dtype}", check_dtype=dtype
    )
    grad_in = backward(grad_out, x)
    assert grad_in.dtype == dtype
    assert_close(
        grad_in, reference_grad, dtype, kind="activation_grad", what=f"{name} backward n={n} {dtype}", check_dtype=dtype
    )


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", list(FROM_OUTPUT))
def test_backward_from_output(name, n, dtype):
    op, forward, torch_backward = FROM_OUTPUT[name]
    out = forward(activation_input(n, dtype))
    grad_out = torch.randn(n, dtype=torch.float64).to(dtype)
    grad_in = backward_from_output(op, grad_out, out)
    assert grad_in.dtype == dtype, f"{name}: gradient dtype {grad_in.dtype} for {dtype}"
    expected = torch_backward(grad_out.double(), out.double())
    assert_close(
        grad_in, expected, dtype, kind="activation_grad", what=f"{name} backward n={n} {dtype}", check_dtype=dtype
    )


@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
@pytest.mark.parametrize("name", list(FROM_OUTPUT))
def test_backward_from_output_reads_views(name, layout):
    # The incoming gradient is often a view (sum's backward expands its seed); the output a transposed one.
    op, forward, torch_backward = FROM_OUTPUT[name]
    grad_out = make_pair((37, 5), torch.float32, layout)[0]  # 37: a prime
    out = forward(activation_input(5 * 37, torch.float32).view(5, 37).t())
    grad_in = backward_from_output(op, grad_out, out)
    expected = torch_backward(grad_out.double(), out.double())
    assert_close(
        grad_in,
        expected,
        torch.float32,
        kind="activation_grad",
        what=f"{name} backward, {layout} gradient",
        check_dtype=torch.float32,
    )


def test_relu_backward_matches_torch_on_zero_and_nan_outputs():
    # torch's threshold_backward: out <= 0 blocks the gradient, a NaN output lets it through.
    out = torch.tensor([0.0, -0.0, float("nan"), 2.0, float("inf")])
    grad_out = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    expected = torch.ops.aten.threshold_backward(grad_out, out, 0.0)
    assert torch.equal(backward_from_output("threshold_backward", grad_out, out), expected)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf * 0 -> NaN, like torch
@pytest.mark.parametrize("name", list(INPUT_SAVING))
def test_forward_special_values(name):
    forward, _, torch_fn = INPUT_SAVING[name]
    x = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1e-30, -1e-30, 88.0, -88.0])
    torch.testing.assert_close(forward(x), torch_fn(x.double()).float(), equal_nan=True, rtol=1e-5, atol=1e-35)


def test_leaky_relu_slope_is_exact_in_float64():
    # The slope travels as float64 bits: an fp32-rounded 0.1 would be off by ~1.5e-9 relative.
    x = -torch.rand(1031, dtype=torch.float64) - 0.5
    assert torch.equal(ka.launch_leaky_relu_fwd(x, 0.1), F.leaky_relu(x, 0.1))
    grad_out = torch.randn(1031, dtype=torch.float64)
    assert torch.equal(ka.launch_leaky_relu_bwd(grad_out, x, 0.1), grad_out * 0.1)


def test_launchers_reject_bad_inputs():
    x = torch.randn(4, 6)
    with pytest.raises(ValueError, match="contiguous"):
        ka.launch_silu_fwd(x.t())
    with pytest.raises(ValueError, match="contiguous"):
        ka.launch_gelu_bwd(torch.randn(6, 4), x.t())
    with pytest.raises(ValueError, match=r"\(4, 6\).*\(6, 4\)"):
        ka.launch_silu_bwd(x, torch.randn(6, 4))
    with pytest.raises(ValueError, match="float64"):
        ka.launch_leaky_relu_bwd(x, x.double())
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        ka.launch_gelu_fwd(torch.ones(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        ka.launch_gelu_fwd(x, approximate="sigmoid")


# ---------------------------------------------------------------------------------------------
# The device functions other kernel files import
# ---------------------------------------------------------------------------------------------


@triton.jit
def special_function_kernel(out_ptr, x_ptr, numel, FUNCTION: tl.constexpr, BLOCK: tl.constexpr):
    index = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = index < numel
    x = tl.load(x_ptr + index, mask=mask, other=0.0)
    if FUNCTION == "erf":
        y = ka.erf(x)
    elif FUNCTION == "erfc":
        y = ka.erfc(x)
    else:
        y = ka.tanh(x)
    tl.store(out_ptr + index, y, mask=mask)


# Measured worst cases over this grid: ~2.5e-7 (float32) and ~5e-16 (float64) relative
# (tests/utils.py's "special" tolerance kind).


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("function", ["erf", "erfc", "tanh"])
def test_special_functions_against_torch(function, dtype):
    # Every interval of the piecewise approximations, both signs, tiny arguments, and saturation.
    magnitudes = torch.cat(
        [torch.linspace(0, 10, 4001, dtype=torch.float64), torch.logspace(-12, 1, 1001, dtype=torch.float64)]
    )
    x = torch.cat([magnitudes, -magnitudes, torch.tensor([30.0, -30.0, float("inf"), -float("inf"), float("nan")])])
    x = x.to(dtype)
    out = torch.empty_like(x)
    special_function_kernel[(triton.cdiv(x.numel(), 16384),)](out, x, x.numel(), FUNCTION=function, BLOCK=16384)
    expected = getattr(torch, function)(x.double())
    finite = ~torch.isnan(expected)
    assert torch.isnan(out[~finite]).all(), f"{function} {dtype}: NaN input did not give NaN"
    assert_close(out[finite], expected[finite], dtype, kind="special", what=f"{function} {dtype}", check_dtype=dtype)


# ---------------------------------------------------------------------------------------------
# torch.nn.functional's activations: the unary table's rows (ops/elementwise.py) behind their F
# signatures, softsign and tanhshrink (composed as torch composes them), glu and rrelu
# ---------------------------------------------------------------------------------------------

# name -> function of (torch or tritongrad, x): each activation, with arguments other than the
# defaults where it takes them
F_CASES = {
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "elu": lambda lib, x: lib.nn.functional.elu(x, 0.7),
    "elu negative alpha": lambda lib, x: lib.nn.functional.elu(x, -0.4),
    "selu": lambda lib, x: lib.nn.functional.selu(x),
    "celu": lambda lib, x: lib.nn.functional.celu(x, 0.3),
    "mish": lambda lib, x: lib.nn.functional.mish(x),
    "softplus": lambda lib, x: lib.nn.functional.softplus(x),
    "softplus beta threshold": lambda lib, x: lib.nn.functional.softplus(x, 2.0, 1.5),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x, -0.5, 2.0),
    "hardsigmoid": lambda lib, x: lib.nn.functional.hardsigmoid(x),
    "hardswish": lambda lib, x: lib.nn.functional.hardswish(x),
    "logsigmoid": lambda lib, x: lib.nn.functional.logsigmoid(x),
    "softsign": lambda lib, x: lib.nn.functional.softsign(x),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x, 0.3),
    "hardshrink": lambda lib, x: lib.nn.functional.hardshrink(x, 0.7),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.25, -1.5),
    "tanhshrink": lambda lib, x: lib.nn.functional.tanhshrink(x),
    "rrelu eval": lambda lib, x: lib.nn.functional.rrelu(x, 0.1, 0.4),
    "gelu": lambda lib, x: lib.nn.functional.gelu(x),
    "gelu tanh": lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"),
}

# Every breakpoint of the cases above (+-3, +-lambd, the limits, the threshold), both zeros, the
# softplus threshold (x = 20 and beta x = 1.5), infinities and NaN.
BREAKPOINTS = [-6.0, -3.0, -1.0, -0.7, -0.5, -0.3, -0.0, 0.0, 0.25, 0.3, 0.5, 0.7, 0.75, 1.0, 2.0, 3.0, 6.0, 20.0,
               21.0, -20.0, 100.0, -100.0, math.inf, -math.inf, math.nan]  # fmt: skip


def torch_elementwise(case: str, x: torch.Tensor, grad_out: torch.Tensor):
    """torch's value and gradient one element at a time: a 1-element tensor takes torch's scalar CPU
    kernel, the one its CUDA kernels agree with (its vectorized kernels differ at NaN for hardtanh's
    and the shrinks' gradients and at +inf for float32 GELU; ops/activation.py)."""
    values, grads = [], []
    for index in range(x.numel()):
        leaf = x[index : index + 1].detach().clone().requires_grad_(True)
        out = F_CASES[case](torch, leaf)
        out.backward(grad_out[index : index + 1])
        values.append(out.detach())
        grads.append(leaf.grad)
    return torch.cat(values), torch.cat(grads)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0 and the like, as in torch
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", list(F_CASES))
def test_functional_values_and_gradients_at_breakpoints_and_random_points(case, dtype):
    x = torch.cat([torch.tensor(BREAKPOINTS, dtype=torch.float64), torch.randn(23, dtype=torch.float64) * 3]).to(dtype)
    grad_out = (torch.rand(x.numel(), dtype=torch.float64) + 0.5).to(dtype)
    expected, expected_grad = torch_elementwise(case, x, grad_out)
    tg_x = from_torch(x, requires_grad=True)
    got = F_CASES[case](tritongrad, tg_x)
    got.backward(from_torch(grad_out))
    # GELU: only at +-inf and NaN here; its finite values are compared with a float64 oracle above
    # (torch's own forms cancel for x << 0)
    compared = ~torch.isfinite(x) if case.startswith("gelu") else torch.ones_like(x, dtype=torch.bool)
    assert_close(to_torch(got)[compared], expected[compared], dtype, what=f"{case} ({dtype})")
    assert_close(to_torch(tg_x.grad)[compared], expected_grad[compared], dtype, what=f"d {case} ({dtype})")


@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
@pytest.mark.parametrize("case", [c for c in F_CASES if not c.startswith("gelu")])
def test_functional_reads_views(case, layout):
    x, tg_x = make_pair((6, 11), torch.float32, layout)
    assert_close(F_CASES[case](tritongrad, tg_x), F_CASES[case](torch, x), what=f"{case} of a {layout} input")


@pytest.mark.parametrize("case", [c for c in F_CASES if not c.startswith("gelu")])
def test_functional_gradcheck_float64(case):
    # points a little away from every breakpoint (finite differences straddle none)
    x = torch.tensor([-2.3, -0.9, -0.41, 0.37, 1.3, 2.6], dtype=torch.float64) + torch.rand(6, dtype=torch.float64) / 50
    assert gradcheck(lambda t: F_CASES[case](tritongrad, t), (from_torch(x, requires_grad=True),), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", ["elu", "elu negative alpha", "selu", "celu", "mish", "softplus beta threshold",
                                  "logsigmoid", "softsign", "tanhshrink", "hardswish"])  # fmt: skip
def test_functional_double_backward(case):
    x = torch.tensor([-2.3, -0.9, -0.41, 0.37, 1.3, 2.6], dtype=torch.float64, requires_grad=True)
    tg_x = from_torch(x, requires_grad=True)
    (first,) = torch.autograd.grad(F_CASES[case](torch, x).sum(), x, create_graph=True)
    (tg_first,) = tritongrad.autograd.grad(F_CASES[case](tritongrad, tg_x).sum(), tg_x, create_graph=True)
    (first * first).sum().backward()
    (tg_first * tg_first).sum().backward()
    assert_close(tg_x.grad, x.grad, what=f"d2 {case}")


# name -> function of (torch or tritongrad, x) writing into x
IN_PLACE = {
    "elu inplace": lambda lib, x: lib.nn.functional.elu(x, 0.5, inplace=True),
    "F.elu_": lambda lib, x: lib.nn.functional.elu_(x),
    "selu inplace": lambda lib, x: lib.nn.functional.selu(x, True),
    "torch.selu_": lambda lib, x: lib.selu_(x),
    "F.celu_": lambda lib, x: lib.nn.functional.celu_(x, 0.5),
    "torch.celu_": lambda lib, x: lib.celu_(x, 2.0),
    "relu6 inplace": lambda lib, x: lib.nn.functional.relu6(x, inplace=True),
    "F.hardtanh_": lambda lib, x: lib.nn.functional.hardtanh_(x, -0.5, 0.5),
    "F.threshold_": lambda lib, x: lib.nn.functional.threshold_(x, 0.25, 2.0),
    "torch.threshold_": lambda lib, x: lib.threshold_(x, -0.25, -2.0),
    "threshold inplace": lambda lib, x: lib.nn.functional.threshold(x, 0.1, 0.5, inplace=True),
    "mish inplace": lambda lib, x: lib.nn.functional.mish(x, inplace=True),
    "hardsigmoid inplace": lambda lib, x: lib.nn.functional.hardsigmoid(x, inplace=True),
    "hardswish inplace": lambda lib, x: lib.nn.functional.hardswish(x, True),
    "F.rrelu_": lambda lib, x: lib.nn.functional.rrelu_(x, 0.2, 0.3),
    "F.relu_": lambda lib, x: lib.nn.functional.relu_(x),
    "torch.relu_": lambda lib, x: lib.relu_(x),
    "F.leaky_relu_": lambda lib, x: lib.nn.functional.leaky_relu_(x, 0.2),
    "leaky_relu inplace": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1, inplace=True),
    "silu inplace": lambda lib, x: lib.nn.functional.silu(x, inplace=True),
}


@pytest.mark.parametrize("case", list(IN_PLACE))
def test_in_place_variants_write_into_the_input_and_record_torch_s_node(case):
    x, tg_x = make_pair((4, 5), torch.float32, "transposed")  # a strided view
    pointer, version = tg_x.data_ptr(), tg_x._version
    assert IN_PLACE[case](tritongrad, tg_x) is tg_x
    assert tg_x.data_ptr() == pointer and tg_x._version == version + 1, f"{case}: written once, in place"
    assert_close(tg_x, IN_PLACE[case](torch, x), what=case)
    # on a non-leaf that requires grad: recorded, the gradient flows like torch's
    leaf, tg_leaf = make_pair((3, 4), torch.float64, requires_grad=True)
    results = [IN_PLACE[case](lib, start * 1) for lib, start in ((torch, leaf), (tritongrad, tg_leaf))]
    assert type(results[1].grad_fn).__name__ == type(results[0].grad_fn).__name__
    for result in results:
        (result * result).sum().backward()
    assert_close(tg_leaf.grad, leaf.grad, what=f"gradient through {case}")
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        IN_PLACE[case](tritongrad, tg_leaf)


@pytest.mark.parametrize("op", ["elu_", "leaky_relu_"])
def test_in_place_with_a_negative_slope_refuses_backward_like_torch(op):
    for lib in (torch, tritongrad):
        leaf = lib.tensor([-1.0, 2.0], requires_grad=True)
        result = getattr(lib.nn.functional, op)(leaf * 1, -0.5)
        with pytest.raises(RuntimeError, match="backward calculation is triggered with a negative slope"):
            result.sum().backward()


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.int16], ids=str)
def test_integer_inputs_where_torch_takes_them(dtype):
    x = torch.tensor([-3, -2, -1, 0, 1, 2, 3, 7, 100]).to(dtype)
    tg_x = from_torch(x)
    cases = {
        "relu6": lambda lib, t: lib.nn.functional.relu6(t),
        "hardtanh": lambda lib, t: lib.nn.functional.hardtanh(t, -2.5, 2.5),
        "threshold": lambda lib, t: lib.threshold(t, 1.5, 7.9),
        "threshold_": lambda lib, t: lib.nn.functional.threshold_(t.clone(), 0, -1),
    }
    for name, case in cases.items():
        try:
            expected = case(torch, x)
        except RuntimeError:
            with pytest.raises(RuntimeError, match="unsigned type with negative limits"):
                case(tritongrad, tg_x)
            continue
        assert_close(case(tritongrad, tg_x), expected, what=f"{name} ({dtype})")


# (name, function of (lib, x)): torch raises, and tritongrad raises the same exception type
ERRORS = {
    "hardtanh min > max": lambda lib, x: lib.nn.functional.hardtanh(x, 1.0, -1.0),
    "hardtanh of bool": lambda lib, x: lib.nn.functional.hardtanh(x > 0),
    "relu6 of bool": lambda lib, x: lib.nn.functional.relu6(x > 0),
    "threshold of bool": lambda lib, x: lib.threshold(x > 0, 0, 1),
    "threshold without value": lambda lib, x: lib.threshold(x, 0.5),
    "celu alpha 0": lambda lib, x: lib.celu(x, 0.0),
    "celu_ alpha 0": lambda lib, x: lib.nn.functional.celu_(x, 0),
    "softshrink negative lambd": lambda lib, x: lib.nn.functional.softshrink(x, -1.0),
    "elu of ints": lambda lib, x: lib.nn.functional.elu(x.long()),
    "selu of ints": lambda lib, x: lib.selu(x.long()),
    "softplus of ints": lambda lib, x: lib.nn.functional.softplus(x.long()),
    "mish of ints": lambda lib, x: lib.nn.functional.mish(x.long()),
    "hardsigmoid of ints": lambda lib, x: lib.nn.functional.hardsigmoid(x.long()),
    "hardswish of ints": lambda lib, x: lib.nn.functional.hardswish(x.long()),
    "logsigmoid of ints": lambda lib, x: lib.nn.functional.logsigmoid(x.long()),
    "hardshrink of ints": lambda lib, x: lib.hardshrink(x.long()),
    "softshrink of ints": lambda lib, x: lib.nn.functional.softshrink(x.long()),
    "glu of ints": lambda lib, x: lib.nn.functional.glu(x.long()),
    "glu odd size": lambda lib, x: lib.nn.functional.glu(x[:, :3]),
    "glu of a scalar": lambda lib, x: lib.nn.functional.glu(x[0, 0]),
    "glu dim out of range": lambda lib, x: lib.nn.functional.glu(x, 2),
    "rrelu lower > upper": lambda lib, x: lib.nn.functional.rrelu(x, 0.5, 0.1),
    "rrelu of ints": lambda lib, x: lib.nn.functional.rrelu(x.long()),
    "elu of a list": lambda lib, x: lib.nn.functional.elu([1.0]),
    "softplus of a number": lambda lib, x: lib.nn.functional.softplus(1.0),
    "elu alpha a string": lambda lib, x: lib.nn.functional.elu(x, "a"),
    "F.elu out=": lambda lib, x: lib.nn.functional.elu(x, out=x),
    "selu out=": lambda lib, x: lib.selu(x, out=x),
    "in place on a leaf": lambda lib, x: lib.nn.functional.hardswish(x.requires_grad_(), inplace=True),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    x = torch.randn(2, 4)
    with pytest.raises(Exception) as expected:
        ERRORS[name](torch, x)
    with pytest.raises(expected.type):
        ERRORS[name](tritongrad, from_torch(x))


def test_namespaces_match_torch():
    names = ["relu6", "elu", "elu_", "selu", "selu_", "celu", "celu_", "mish", "softplus", "hardtanh", "hardtanh_",
             "hardsigmoid", "hardswish", "logsigmoid", "softsign", "softshrink", "hardshrink", "threshold",
             "threshold_", "tanhshrink", "glu", "rrelu", "rrelu_", "relu_"]  # fmt: skip
    for name in names:
        assert hasattr(tritongrad.nn.functional, name) == hasattr(F, name), f"F.{name}"
        if name != "rrelu" and name != "rrelu_":  # (torch.rrelu: not in tritongrad's namespace)
            assert hasattr(tritongrad, name) == hasattr(torch, name), f"torch.{name}"
        assert hasattr(tritongrad.Tensor, name) == hasattr(torch.Tensor, name), f"Tensor.{name}"


def test_softplus_past_float32_overflow_is_finite():
    # beta x between 88 (where exp overflows float32) and the threshold: torch's log1p(exp(.)) is
    # inf there, tritongrad's overflow-free form gives the function's value (x).
    x = torch.tensor([90.0, 200.0, -200.0])
    got = tritongrad.nn.functional.softplus(from_torch(x), 1.0, 1000.0)
    assert_close(got, F.softplus(x.double(), 1.0, 1000.0).float())


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
def test_glu_values_gradients_and_double_backward(dtype, dim):
    x, tg_x = make_pair((4, 6), dtype, "transposed", requires_grad=True)
    expected, got = F.glu(x, dim), tritongrad.nn.functional.glu(tg_x, dim)
    assert_close(got, expected, what=f"glu(dim={dim})")
    weight = torch.randn(expected.shape, dtype=torch.float64).to(dtype)
    expected.backward(weight)
    got.backward(from_torch(weight))
    assert_close(tg_x.grad, x.grad, what=f"d glu(dim={dim})")
    if dtype == torch.float64 and dim == 1:
        x, tg_x = x[:2].detach().requires_grad_(), from_torch(x[:2].detach(), requires_grad=True)
        assert gradcheck(lambda t: tritongrad.nn.functional.glu(t, dim), (tg_x,), eps=1e-6, atol=1e-6)
        (first,) = torch.autograd.grad(F.glu(x, dim).pow(2).sum(), x, create_graph=True)
        (tg_first,) = tritongrad.autograd.grad(
            tritongrad.nn.functional.glu(tg_x, dim).pow(2).sum(), tg_x, create_graph=True
        )
        first.sum().backward()
        tg_first.sum().backward()
        assert_close(tg_x.grad, x.grad, what=f"d2 glu(dim={dim})")
