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

import pytest
import torch
import torch.nn.functional as F
import triton
import triton.language as tl

from tests.utils import assert_close, make_pair
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
    with pytest.raises(TypeError, match="int64"):
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
