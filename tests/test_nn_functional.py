"""tritongrad.nn.functional (and the Functions of tritongrad/ops/ behind it) against torch.

Every op: forward values, gradients from torch.autograd on the same inputs, the grad_fn name,
non-contiguous inputs, every floating dtype, tritongrad's own gradcheck in float64 on tiny
inputs, and second derivatives (create_graph=True) against torch's.
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch
import torch.nn.functional as TF

import tritongrad
import tritongrad.nn.functional as F
from tests.autograd_utils import assert_close, to_tg, to_torch
from tritongrad.autograd import gradcheck

FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
# (rtol, atol) for results of reductions over a few hundred terms (half types round every step).
TOLERANCE = {
    torch.float32: (1e-5, 1e-5),
    torch.float64: (1e-10, 1e-12),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (2e-2, 2e-2),
}


def pair(shape, dtype=torch.float32, scale=1.0, requires_grad=True):
    """The same fresh normal values as a torch leaf and a tritongrad leaf."""
    values = (torch.randn(*shape, dtype=torch.float64) * scale).to(dtype)
    return values.clone().requires_grad_(requires_grad), to_tg(values, requires_grad)


def transposed_pair(shape, dtype=torch.float32, scale=1.0):
    """Non-contiguous leaves: transposes of fresh (reversed-shape) tensors; their grads are leaf-shaped."""
    torch_leaf, tg_leaf = pair(tuple(reversed(shape)), dtype, scale)
    dims = list(range(len(shape)))[::-1]
    return torch_leaf, tg_leaf, torch_leaf.permute(dims), tg_leaf.permute(dims)


def oracle(t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """torch's reference evaluated in float64 from the same (rounded) values."""
    return t.detach().double().requires_grad_(t.requires_grad) if dtype != torch.float64 else t


def check_forward_backward(tg_fn, torch_fn, shape, dtype, *, scale=1.0, non_contiguous=False, tolerance=None):
    """Compares tg_fn(x) with torch_fn(x) in float64, and x's gradient for a random output gradient."""
    tolerance = tolerance or TOLERANCE[dtype]
    if non_contiguous:
        t_leaf, g_leaf, t_x, g_x = transposed_pair(shape, dtype, scale)
    else:
        t_leaf, g_leaf = pair(shape, dtype, scale)
        g_x = g_leaf
    reference_leaf = oracle(t_leaf, dtype)
    reference_x = reference_leaf.permute(list(range(len(shape)))[::-1]) if non_contiguous else reference_leaf
    want = torch_fn(reference_x)
    got = tg_fn(g_x)
    assert got.dtype == dtype, f"output dtype {got.dtype} != {dtype}"
    assert_close(got, want.to(dtype), f"forward {tuple(shape)} {dtype}", tolerances=tolerance)
    grad_out = torch.randn(want.shape, dtype=torch.float64).to(dtype)
    want.backward(grad_out.double())
    got.backward(to_tg(grad_out))
    assert_close(g_leaf.grad, reference_leaf.grad.to(dtype), f"grad {tuple(shape)} {dtype}", tolerances=tolerance)
    return got


def check_double_backward(tg_fn, torch_fn, shape, *, scale=1.0):
    """d/dx <gg, d/dx <g, f(x)>> against torch in float64 (create_graph=True through our backward)."""
    values = torch.randn(*shape, dtype=torch.float64) * scale
    compare_double_backward(tg_fn, torch_fn, [values])


def compare_double_backward(tg_fn, torch_fn, values):
    """First and second derivatives of f(*values) w.r.t. all of them, for random output gradients."""
    t_inputs = [v.clone().requires_grad_() for v in values]
    g_inputs = [to_tg(v, requires_grad=True) for v in values]
    want, got = torch_fn(*t_inputs), tg_fn(*g_inputs)
    grad_out = torch.randn(want.shape, dtype=torch.float64)
    want_grads = torch.autograd.grad(want, t_inputs, grad_out, create_graph=True)
    got_grads = tritongrad.autograd.grad(got, g_inputs, to_tg(grad_out), create_graph=True)
    for index, (g, w) in enumerate(zip(got_grads, want_grads)):
        assert g.requires_grad, f"first derivative {index} was not recorded with create_graph=True"
        assert_close(g, w, f"first derivative w.r.t. input {index}")
    grad_grads = [torch.randn(w.shape, dtype=torch.float64) for w in want_grads]
    want_second = torch.autograd.grad(want_grads, t_inputs, grad_grads, allow_unused=True, materialize_grads=True)
    got_second = tritongrad.autograd.grad(
        got_grads, g_inputs, [to_tg(g) for g in grad_grads], allow_unused=True, materialize_grads=True
    )
    for index, (g, w) in enumerate(zip(got_second, want_second)):
        assert_close(g, w, f"second derivative w.r.t. input {index}")


# ============================================================================== linear
LINEAR_SHAPES = [
    ((1,), 1),  # 1-D input, single feature
    ((5, 3), 7),  # prime sizes
    ((2, 3, 4), 5),  # batched (3-D) input
]


# Every layout in float32; every dtype on the batched layout (the interpreter's matmul is slow,
# so the cross product would cost more than it tells).
LINEAR_CASES = [(shape, out, bias, torch.float32) for shape, out in LINEAR_SHAPES for bias in (True, False)] + [
    ((2, 3, 4), 5, True, dtype) for dtype in (torch.float64, torch.float16, torch.bfloat16)
]


# With relu=True: Linear directly followed by ReLU, one fused Function (nn.Sequential uses it).
@pytest.mark.parametrize("relu", [False, True], ids=["linear", "linear_relu"])
@pytest.mark.parametrize("input_shape, out_features, bias, dtype", LINEAR_CASES)
def test_linear_matches_torch(input_shape, out_features, bias, dtype, relu):
    t_x, g_x = pair(input_shape, dtype)
    t_w, g_w = pair((out_features, input_shape[-1]), dtype)
    t_b, g_b = pair((out_features,), dtype) if bias else (None, None)
    r_x, r_w = oracle(t_x, dtype), oracle(t_w, dtype)
    r_b = oracle(t_b, dtype) if bias else None
    want = TF.linear(r_x, r_w, r_b)
    if relu:
        want = torch.relu(want)
        got = F._linear_relu(g_x, g_w, g_b)
        assert got.grad_fn.name() == "ReluBackward0"
    else:
        got = F.linear(g_x, g_w, g_b)
        assert got.grad_fn.name() == TF.linear(t_x, t_w, t_b).grad_fn.name()
    assert_close(got, want.to(dtype), "forward", tolerances=TOLERANCE[dtype])
    grad_out = torch.randn(want.shape, dtype=torch.float64).to(dtype)
    want.backward(grad_out.double())
    got.backward(to_tg(grad_out))
    assert_close(g_x.grad, r_x.grad.to(dtype), "grad input", tolerances=TOLERANCE[dtype])
    assert_close(g_w.grad, r_w.grad.to(dtype), "grad weight", tolerances=TOLERANCE[dtype])
    if bias:
        assert_close(g_b.grad, r_b.grad.to(dtype), "grad bias", tolerances=TOLERANCE[dtype])


def test_linear_non_contiguous_input_and_weight():
    # x is a transposed view whose leading dims do not merge; weight is a transposed view.
    t_x_leaf, g_x_leaf = pair((3, 4, 5))
    t_w_leaf, g_w_leaf = pair((5, 6))
    t_b, g_b = pair((6,))
    want = TF.linear(t_x_leaf.transpose(0, 1), t_w_leaf.t(), t_b)
    got = F.linear(g_x_leaf.transpose(0, 1), g_w_leaf.t(), g_b)
    assert_close(got, want, "forward")
    grad_out = torch.randn(want.shape)
    want.backward(grad_out)
    got.backward(to_tg(grad_out))
    for g, t, what in ((g_x_leaf, t_x_leaf, "x"), (g_w_leaf, t_w_leaf, "weight"), (g_b, t_b, "bias")):
        assert_close(g.grad, t.grad, f"grad {what}")


def test_linear_gradcheck_and_double_backward():
    x = to_tg(torch.randn(1, 2, dtype=torch.float64), requires_grad=True)
    w = to_tg(torch.randn(2, 2, dtype=torch.float64), requires_grad=True)
    b = to_tg(torch.randn(2, dtype=torch.float64), requires_grad=True)
    assert gradcheck(F.linear, (x, w, b))
    # The output is bilinear in (x, w): a loss nonlinear in it has mixed second derivatives.
    compare_double_backward(lambda x, w, b: F.linear(x, w, b) ** 2, lambda x, w, b: TF.linear(x, w, b) ** 2,
                            [torch.randn(3, 2, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64),
                             torch.randn(4, dtype=torch.float64)])  # fmt: skip


def test_linear_relu_non_contiguous_gradcheck_and_double_backward():
    # Leading dims that do not merge: the backward masks by an op, then runs the batched products.
    t_x_leaf, g_x_leaf = pair((3, 4, 5))
    t_w, g_w = pair((6, 5))
    t_b, g_b = pair((6,))
    want = torch.relu(TF.linear(t_x_leaf.transpose(0, 1), t_w, t_b))
    got = F._linear_relu(g_x_leaf.transpose(0, 1), g_w, g_b)
    assert_close(got, want, "forward")
    grad_out = torch.randn(want.shape)
    want.backward(grad_out)
    got.backward(to_tg(grad_out))
    for g, t, what in ((g_x_leaf, t_x_leaf, "x"), (g_w, t_w, "weight"), (g_b, t_b, "bias")):
        assert_close(g.grad, t.grad, f"grad {what}")
    # Values away from the kink at 0 (finite differences across it are meaningless).
    x = to_tg(torch.tensor([[0.7, -1.3]], dtype=torch.float64), requires_grad=True)
    w = to_tg(torch.tensor([[1.1, 0.4], [-0.9, 0.8], [0.5, 1.2]], dtype=torch.float64), requires_grad=True)
    b = to_tg(torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64), requires_grad=True)
    assert gradcheck(F._linear_relu, (x, w, b))
    compare_double_backward(
        lambda x, w, b: F._linear_relu(x, w, b) ** 2,
        lambda x, w, b: torch.relu(TF.linear(x, w, b)) ** 2,
        [torch.randn(3, 2, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64),
         torch.randn(4, dtype=torch.float64)],
    )  # fmt: skip


def _linear_relu_ce_step(lib, x_values, swap):
    """One forward/backward of linear -> relu -> linear -> cross_entropy whose first input and
    second weight get new data between forward and backward when ``swap`` (``.data =`` a
    transposed copy: same values and shape, other strides), as torch lets a script do."""
    torch.manual_seed(1)
    w1, b1 = torch.randn(6, 4, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    w2, b2 = torch.randn(3, 6, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    leaves = [lib.tensor(t.tolist(), dtype=lib.float64, requires_grad=True) for t in (w1, b1, w2, b2)]
    x = lib.tensor(x_values.tolist(), dtype=lib.float64, requires_grad=True)
    if lib is tritongrad:
        hidden = F._linear_relu(x, leaves[0], leaves[1])  # nn.Sequential's fused Linear+ReLU
    else:
        hidden = TF.relu(TF.linear(x, leaves[0], leaves[1]))
    logits = (F if lib is tritongrad else TF).linear(hidden, leaves[2], leaves[3])
    loss = (F if lib is tritongrad else TF).cross_entropy(logits, lib.tensor([0, 2, 1, 1, 0]))
    if swap:
        for tensor in (x, leaves[2]):
            swapped = tensor.detach().t().contiguous().t()  # the same values, column-major
            tensor.data = swapped
    loss.backward()
    return [t.grad.tolist() for t in (x, *leaves)]


@pytest.mark.parametrize("swap", [False, True], ids=["same buffers", "data swapped before backward"])
def test_linear_and_cross_entropy_steps_repeat_and_follow_swapped_data(swap):
    """Repeated steps use launchers the first one made (the backward found from the forward's);
    an input whose buffer was swapped for one of other strides still gives torch's gradients."""
    x_values = torch.randn(5, 4, dtype=torch.float64)
    want = _linear_relu_ce_step(torch, x_values, swap)
    for step in range(3):
        got = _linear_relu_ce_step(tritongrad, x_values, swap)
        for name, g, w in zip(["x", "w1", "b1", "w2", "b2"], got, want):
            assert_close(torch.tensor(g), torch.tensor(w), f"step {step}: grad of {name}")


def test_linear_errors_like_torch():
    x, w = to_tg(torch.randn(2, 3)), to_tg(torch.randn(4, 5))
    with pytest.raises(RuntimeError) as torch_error:
        TF.linear(torch.randn(2, 3), torch.randn(4, 5))
    with pytest.raises(RuntimeError) as ours:
        F.linear(x, w)
    assert str(ours.value) == str(torch_error.value)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(x, to_tg(torch.randn(4, 3, dtype=torch.float64)))


# ============================================================================== softmax / log_softmax
SOFTMAX_CASES = [
    ((3, 1), -1),  # rows of one element
    ((4, 7), 1),  # prime row length
    ((2, 1000), -1),  # a long row
    ((5, 3, 4), 1),  # reduction over a middle dim (strided rows)
    ((6, 3), 0),  # over dim 0
]


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", SOFTMAX_CASES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_matches_torch(log, shape, dim, dtype):
    tg_fn, torch_fn = (F.log_softmax, TF.log_softmax) if log else (F.softmax, TF.softmax)
    got = check_forward_backward(lambda x: tg_fn(x, dim), lambda x: torch_fn(x, dim), shape, dtype, scale=3.0)
    assert got.grad_fn.name() == ("LogSoftmaxBackward0" if log else "SoftmaxBackward0")


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_non_contiguous_and_dtype_argument(log):
    tg_fn, torch_fn = (F.log_softmax, TF.log_softmax) if log else (F.softmax, TF.softmax)
    check_forward_backward(lambda x: tg_fn(x, -1), lambda x: torch_fn(x, -1), (4, 9), torch.float32,
                           non_contiguous=True)  # fmt: skip
    t_x, g_x = pair((3, 5), torch.float16)
    want = torch_fn(t_x, 1, dtype=torch.float32)
    got = tg_fn(g_x, 1, dtype=torch.float32)
    assert got.dtype == torch.float32
    assert_close(got, want, "dtype=float32 from float16 input", tolerances=(1e-5, 1e-6))
    got.sum().backward()
    want.sum().backward()
    assert g_x.grad.dtype == torch.float16
    assert_close(g_x.grad, t_x.grad, "grad through the cast", tolerances=TOLERANCE[torch.float16])


def test_softmax_extreme_values_and_implicit_dim():
    values = torch.tensor([[1000.0, 0.0, -1000.0], [-math.inf, 0.0, 1.0]])
    for tg_fn, torch_fn in ((F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax)):
        assert_close(tg_fn(to_tg(values), 1), torch_fn(values, 1), f"{tg_fn.__name__} of extreme values")
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        got = F.softmax(to_tg(values[1:]))
    assert_close(got, TF.softmax(values[1:], dim=1), "implicit dim")


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_gradcheck_and_double_backward(log):
    tg_fn, torch_fn = (F.log_softmax, TF.log_softmax) if log else (F.softmax, TF.softmax)
    x = to_tg(torch.randn(2, 3, dtype=torch.float64), requires_grad=True)
    assert gradcheck(lambda t: tg_fn(t, 1), (x,))
    check_double_backward(lambda t: tg_fn(t, -1), lambda t: torch_fn(t, -1), (3, 5))


# ============================================================================== activations
ACTIVATIONS = {
    "gelu": (F.gelu, TF.gelu, "GeluBackward0"),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
        "GeluBackward0",
    ),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), "LeakyReluBackward0"),
    "silu": (F.silu, TF.silu, "SiluBackward0"),
    "relu": (F.relu, TF.relu, "ReluBackward0"),
    "sigmoid": (F.sigmoid, torch.sigmoid, "SigmoidBackward0"),
    "tanh": (F.tanh, torch.tanh, "TanhBackward0"),
}
ACTIVATION_SHAPES = [(1,), (7, 13), (3, 1, 5)]  # single element, primes, a size-1 dim


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("shape", ACTIVATION_SHAPES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_activation_matches_torch(name, shape, dtype):
    tg_fn, torch_fn, node = ACTIVATIONS[name]
    got = check_forward_backward(tg_fn, torch_fn, shape, dtype, scale=2.0)
    assert got.grad_fn.name() == node


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_non_contiguous(name):
    tg_fn, torch_fn, _ = ACTIVATIONS[name]
    check_forward_backward(tg_fn, torch_fn, (5, 6), torch.float32, scale=2.0, non_contiguous=True)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "leaky_relu", "silu"])
def test_activation_gradcheck_and_double_backward(name):
    tg_fn, torch_fn, _ = ACTIVATIONS[name]
    x = to_tg(torch.randn(6, dtype=torch.float64) * 2 + 0.1, requires_grad=True)
    assert gradcheck(tg_fn, (x,))
    check_double_backward(tg_fn, torch_fn, (4, 5), scale=2.0)


def test_inplace_activations():
    values = torch.randn(4, 5)
    in_place = (
        (F.relu_, torch.relu_),
        (lambda x: F.leaky_relu(x, 0.3, inplace=True), lambda x: TF.leaky_relu(x, 0.3, inplace=True)),
        (lambda x: F.silu(x, inplace=True), lambda x: TF.silu(x, inplace=True)),
    )
    for tg_fn, torch_fn in in_place:
        x, t = to_tg(values), values.clone()
        assert tg_fn(x) is x
        torch_fn(t)
        assert_close(x, t, "in-place result")
    # Recorded in place on a non-leaf: gradients flow through the rewritten tensor.
    t_leaf, g_leaf = pair((3, 4))
    want = TF.relu(t_leaf * 2, inplace=True)
    got = F.relu(g_leaf * 2, inplace=True)
    assert got.grad_fn.name() == "ReluBackward0"
    want.sum().backward()
    got.sum().backward()
    assert_close(g_leaf.grad, t_leaf.grad, "grad through relu_")
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.relu_(g_leaf)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(to_tg(torch.randn(3)), approximate="fast")


# ============================================================================== dropout
def test_dropout_train_eval_and_mask_consistency():
    p = 0.3
    x = to_tg(torch.rand(64, 37) + 0.5, requires_grad=True)  # no zeros, so zeros in y are drops
    assert F.dropout(x, p, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, p)
    # torch's node on the device: CPU dropout is x * scaled mask (the mask without a gradient)
    reference = torch.nn.functional.dropout(torch.ones(2, requires_grad=True, device=y.device.type), p)
    assert y.grad_fn.name() == reference.grad_fn.name(), (y.grad_fn.name(), reference.grad_fn.name())
    assert len(y.grad_fn.next_functions) == len(reference.grad_fn.next_functions)
    kept = to_torch(y) != 0
    fraction_dropped = 1 - kept.double().mean().item()
    assert abs(fraction_dropped - p) < 0.05, f"dropped {fraction_dropped:.3f}, expected ~{p}"
    scale = 1 / (1 - p)
    assert_close(to_torch(y)[kept], to_torch(x)[kept] * scale, "kept values are scaled")
    grad_out = torch.randn(64, 37)
    y.backward(to_tg(grad_out))
    assert_close(x.grad, grad_out * kept * scale, "backward uses the forward's mask")
    # A second call draws a different mask.
    assert not torch.equal(to_torch(F.dropout(x, p)) != 0, kept)


def test_dropout_p_one_non_contiguous_inplace_and_double_backward():
    x_leaf = to_tg(torch.randn(6, 5), requires_grad=True)
    y = F.dropout(x_leaf.t(), 1.0)
    assert_close(y, torch.zeros(5, 6), "p=1 drops everything")
    y.sum().backward()
    assert_close(x_leaf.grad, torch.zeros(6, 5), "p=1 gradient")
    # A transposed input: the mask regenerated for the (contiguous) gradient must line up.
    x_leaf = to_tg(torch.rand(7, 9) + 0.5, requires_grad=True)
    y = F.dropout(x_leaf.t(), 0.5)
    kept = to_torch(y) != 0
    assert_close(y, to_torch(x_leaf).t() * kept * 2, "transposed input")
    grad_out = torch.randn(9, 7)
    y.backward(to_tg(grad_out))
    assert_close(x_leaf.grad, (grad_out * kept * 2).t(), "transposed input's gradient")
    z = to_tg(torch.rand(4, 4) + 0.5)
    assert F.dropout(z, 0.5, inplace=True) is z
    assert 0 < int((to_torch(z) == 0).sum()) < 16
    x = to_tg(torch.rand(5, 4, dtype=torch.float64) + 0.5, requires_grad=True)
    tritongrad.manual_seed(3)
    y = F.dropout(x, 0.5)
    (grad,) = tritongrad.autograd.grad((y * y).sum(), x, create_graph=True)
    (second,) = tritongrad.autograd.grad(grad.sum(), x)
    kept = (to_torch(y) != 0).double()
    assert_close(second, 2 * kept * 4, "d2/dx2 of sum(dropout(x)^2) = 2 * mask * scale^2")
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_dropout_dtypes(dtype):
    x = to_tg((torch.rand(9, 11) + 0.5).to(dtype), requires_grad=True)
    y = F.dropout(x, 0.5)
    assert y.dtype == dtype
    kept = to_torch(y) != 0
    assert_close(to_torch(y)[kept], to_torch(x)[kept].double() * 2, "kept values", dtype=dtype)
    y.sum().backward()
    assert_close(x.grad, kept.to(dtype) * 2, "grad", dtype=dtype)


# ============================================================================== losses
def loss_pair(tg_loss, torch_loss, tensors, differentiable, *, dtype=torch.float32, tolerance=None, **options):
    """Runs both losses on copies of ``tensors``; compares the loss and the gradients of the
    ``differentiable`` ones (by index) for a random gradient of the loss."""
    tolerance = tolerance or TOLERANCE[dtype]
    t_args = [t.clone().requires_grad_(i in differentiable) if t.dtype.is_floating_point else t
              for i, t in enumerate(tensors)]  # fmt: skip
    g_args = [to_tg(t, requires_grad=i in differentiable) for i, t in enumerate(tensors)]
    t_options = dict(options)
    g_options = {k: to_tg(v) if isinstance(v, torch.Tensor) else v for k, v in options.items()}
    reference = [oracle(t, dtype) if t.dtype.is_floating_point else t for t in t_args]
    reference_options = {k: oracle(v, dtype) if isinstance(v, torch.Tensor) else v for k, v in t_options.items()}
    want = torch_loss(*reference, **reference_options)
    got = tg_loss(*g_args, **g_options)
    assert got.dtype == dtype and tuple(got.shape) == tuple(want.shape)
    assert_close(got, want.to(dtype), f"loss {options}", tolerances=tolerance)
    if differentiable:
        grad_out = torch.randn(want.shape, dtype=torch.float64).to(dtype)
        want.backward(grad_out.double())
        got.backward(to_tg(grad_out))
        for i in differentiable:
            assert_close(g_args[i].grad, reference[i].grad.to(dtype), f"grad of argument {i} {options}",
                         tolerances=tolerance)  # fmt: skip
    return got


def class_targets(shape, classes: int, ignored: int | None = None):
    """Random class indices; with ``ignored``, every third one is replaced by it."""
    target = torch.randint(0, classes, shape)
    if ignored is not None:
        target.view(-1)[::3] = ignored
    return target


CE_SHAPES = [
    (7,),  # one unbatched row (C,) with a 0-d target
    (6, 13),  # prime number of classes
    (2, 5, 3),  # (N, C, d): classes moved last, rows flattened
    (2, 3, 2, 4),  # (N, C, d1, d2)
]
CE_OPTIONS = {
    "plain": {},
    "weight": {"weight": True},
    "ignore_index": {"ignore_index": -100},
    "smoothing": {"label_smoothing": 0.15},
    "all": {"weight": True, "ignore_index": 1, "label_smoothing": 0.3},
}


def ce_case(shape, option_name):
    classes = shape[0] if len(shape) == 1 else shape[1]
    options = dict(CE_OPTIONS[option_name])
    if options.pop("weight", False):
        options["weight"] = torch.rand(classes) + 0.1
    target_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    target = class_targets(target_shape, classes, options.get("ignore_index"))
    if target.dim() == 0 and "ignore_index" in options:
        target.fill_(2)  # a 0-d target cannot hold both kinds
    return torch.randn(*shape) * 3, target, options


# Every option on every shape with the mean; every reduction with all options together.
CE_CASES = [(shape, name, "mean") for shape in CE_SHAPES for name in CE_OPTIONS] + [
    (shape, "all", reduction) for shape in CE_SHAPES for reduction in ("sum", "none")
]


@pytest.mark.parametrize("shape, option_name, reduction", CE_CASES)
def test_cross_entropy_matches_torch(shape, option_name, reduction):
    logits, target, options = ce_case(shape, option_name)
    got = loss_pair(F.cross_entropy, TF.cross_entropy, [logits, target], [0], reduction=reduction, **options)
    if len(shape) == 2:
        assert got.grad_fn.name() == "NllLossBackward0"


@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_dtypes_long_rows_and_non_contiguous(dtype):
    logits, target, options = ce_case((5, 1000), "all")  # a row longer than one GPU block
    options["weight"] = options["weight"].to(dtype)
    loss_pair(F.cross_entropy, TF.cross_entropy, [logits.to(dtype), target], [0], dtype=dtype, **options)
    # Transposed logits: rows are strided, classes contiguous across rows.
    t_leaf, g_leaf = pair((11, 6), dtype)
    reference = oracle(t_leaf, dtype)
    target = class_targets((6,), 11)
    want = TF.cross_entropy(reference.t(), target, label_smoothing=0.1)
    got = F.cross_entropy(g_leaf.t(), to_tg(target), label_smoothing=0.1)
    assert_close(got, want.to(dtype), "transposed logits", tolerances=TOLERANCE[dtype])
    got.backward()
    want.backward()
    assert_close(g_leaf.grad, reference.grad.to(dtype), "grad of transposed logits", tolerances=TOLERANCE[dtype])


@pytest.mark.parametrize("shape", [(6, 5), (2, 4, 3)])
@pytest.mark.parametrize("target_requires_grad", [False, True], ids=["fused", "composed"])
def test_cross_entropy_probability_targets(shape, target_requires_grad):
    logits = torch.randn(*shape)
    probabilities = torch.softmax(torch.randn(*shape), dim=1)
    weight = torch.rand(shape[1]) + 0.1
    differentiable = [0, 1] if target_requires_grad else [0]
    for reduction in ("mean", "sum", "none"):
        loss_pair(F.cross_entropy, TF.cross_entropy, [logits, probabilities], differentiable, weight=weight,
                  label_smoothing=0.2, reduction=reduction)  # fmt: skip


def test_cross_entropy_errors_like_torch():
    logits, target = torch.randn(3, 5), torch.tensor([0, 7, 1])
    for args, kwargs in (
        ((logits, target), {}),  # target out of range
        ((logits, torch.tensor([0, 1])), {}),  # batch size mismatch
        ((logits, torch.softmax(logits, 1)), {"ignore_index": 1}),  # ignore_index with probabilities
        ((logits, torch.tensor([0, 1, 2])), {"reduction": "avg"}),
        ((logits, torch.tensor([0, 1, 2])), {"label_smoothing": 1.5}),
    ):
        with pytest.raises(Exception) as want:
            TF.cross_entropy(*args, **kwargs)
        with pytest.raises(type(want.value)) as got:
            F.cross_entropy(*(to_tg(a) for a in args), **kwargs)
        first_words = str(want.value).split("(")[0].split(".")[0]
        assert first_words in str(got.value), f"{kwargs}: {got.value!r} vs torch {want.value!r}"


def test_cross_entropy_gradcheck_and_double_backward():
    logits = to_tg(torch.randn(2, 3, dtype=torch.float64), requires_grad=True)
    target = to_tg(torch.tensor([2, 0]))
    weight = to_tg(torch.rand(3, dtype=torch.float64) + 0.1)
    assert gradcheck(lambda x: F.cross_entropy(x, target, weight=weight, label_smoothing=0.1), (logits,))
    values = torch.randn(4, 5, dtype=torch.float64)
    target, weight = torch.tensor([0, 4, -100, 2]), torch.rand(5, dtype=torch.float64) + 0.1
    for reduction in ("mean", "none"):
        options = {"label_smoothing": 0.2, "reduction": reduction}
        compare_double_backward(
            lambda x, options=options: F.cross_entropy(x, to_tg(target), weight=to_tg(weight), **options),
            lambda x, options=options: TF.cross_entropy(x, target, weight=weight, **options),
            [values],
        )
    probabilities = torch.softmax(torch.randn(4, 5, dtype=torch.float64), 1)
    compare_double_backward(lambda x, p: F.cross_entropy(x, p), lambda x, p: TF.cross_entropy(x, p),
                            [values, probabilities])  # fmt: skip


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(7,), (6, 13), (2, 5, 3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(shape, reduction, weighted):
    classes = shape[0] if len(shape) == 1 else shape[1]
    log_probs = torch.log_softmax(torch.randn(*shape), dim=0 if len(shape) == 1 else 1)
    target = class_targets(
        () if len(shape) == 1 else (shape[0], *shape[2:]), classes, None if len(shape) == 1 else -100
    )
    options = {"weight": torch.rand(classes) + 0.1} if weighted else {}
    loss_pair(F.nll_loss, TF.nll_loss, [log_probs, target], [0], reduction=reduction, **options)


@pytest.mark.parametrize("dtype", FLOATS)
def test_nll_loss_dtypes_gradcheck_and_double_backward(dtype):
    log_probs = torch.log_softmax(torch.randn(9, 4), 1).to(dtype)
    loss_pair(F.nll_loss, TF.nll_loss, [log_probs, class_targets((9,), 4, 2)], [0], dtype=dtype, ignore_index=2)
    if dtype == torch.float64:
        x = to_tg(torch.randn(2, 3, dtype=torch.float64), requires_grad=True)
        target = to_tg(torch.tensor([1, 2]))
        assert gradcheck(lambda t: F.nll_loss(F.log_softmax(t, 1), target), (x,))
        target = torch.tensor([1, 2])
        compare_double_backward(lambda t: F.nll_loss(F.log_softmax(t, 1), to_tg(target), reduction="sum"),
                                lambda t: TF.nll_loss(TF.log_softmax(t, 1), target, reduction="sum"),
                                [torch.randn(2, 3, dtype=torch.float64)])  # fmt: skip


MSE_SHAPES = [
    ((1,), (1,)),  # single element
    ((7, 13), (7, 13)),  # primes
    ((4, 1, 3), (5, 3)),  # broadcast both ways (torch warns)
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shapes", MSE_SHAPES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_mse_loss_matches_torch(shapes, reduction, dtype):
    input, target = (torch.randn(*shape).to(dtype) for shape in shapes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = loss_pair(F.mse_loss, TF.mse_loss, [input, target], [0, 1], dtype=dtype, reduction=reduction)
    warned = [w for w in caught if "different to the input size" in str(w.message)]
    assert len(warned) == (2 if shapes[0] != shapes[1] else 0), [str(w.message) for w in caught]
    assert got.grad_fn.name() == "MseLossBackward0"


def test_mse_loss_non_contiguous_gradcheck_and_double_backward():
    t_a, g_a, t_view, g_view = transposed_pair((5, 4))
    target = torch.randn(5, 4)
    want = TF.mse_loss(t_view, target)
    got = F.mse_loss(g_view, to_tg(target))
    assert_close(got, want, "non-contiguous input")
    got.backward()
    want.backward()
    assert_close(g_a.grad, t_a.grad, "grad")
    a = to_tg(torch.randn(2, 3, dtype=torch.float64), requires_grad=True)
    b = to_tg(torch.randn(3, dtype=torch.float64), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert gradcheck(lambda x, y: F.mse_loss(x, y, reduction="sum"), (a, b))
    compare_double_backward(F.mse_loss, TF.mse_loss, [torch.randn(3, 4, dtype=torch.float64) for _ in range(2)])


def _launches(fn):
    from benchmarks.common import count_tritongrad_launches

    return count_tritongrad_launches(fn)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_loss_implicit_backward_launches_nothing(reduction):
    # backward() with the implicit seed of 1 uses the gradient the forward's launch wrote.
    t_x, g_x = pair((7, 5))
    t_target, g_target = pair((5,))  # broadcast over the rows; its gradient is reduced back
    want = TF.mse_loss(*torch.broadcast_tensors(t_x, t_target), reduction=reduction)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        got = F.mse_loss(g_x, g_target, reduction=reduction)
        leaf = g_x.detach().requires_grad_()
        forward_launches = _launches(lambda: F.mse_loss(leaf, g_target.detach(), reduction=reduction))
    assert sum(forward_launches.values()) == 1, f"a one-block MSE forward is one launch: {forward_launches}"
    want.backward()
    backward_launches = _launches(got.backward)
    assert set(backward_launches) <= {"reduce_kernel", "unary_kernel"}, backward_launches  # target: -grad, summed
    assert "mse_loss_bwd_kernel" not in backward_launches and not any("fill" in k for k in backward_launches)
    assert_close(g_x.grad, t_x.grad, "grad input")
    assert_close(g_target.grad, t_target.grad, "grad target")


def test_mse_loss_seeds_that_need_the_backward_kernel():
    """Every way the ones seed is observed or replaced gives torch's gradients."""
    values = [torch.randn(4, 3), torch.randn(4, 3)]

    def both(fn):
        t_x, g_x = values[0].clone().requires_grad_(), to_tg(values[0], requires_grad=True)
        return fn(torch, TF, t_x, values[1]), fn(tritongrad, F, g_x, to_tg(values[1]))

    # An explicit gradient; two backwards through a retained graph (the prepared gradient is used once).
    def explicit(lib, functional, x, target):
        loss = functional.mse_loss(x, target)
        loss.backward(lib.tensor(2.5), retain_graph=True)
        loss.backward(retain_graph=True)
        loss.backward()
        return x.grad

    # retain_grad and a hook on the loss see the seed as a tensor of ones.
    def observed(lib, functional, x, target):
        loss = functional.mse_loss(x, target, reduction="sum")
        loss.retain_grad()
        seen = []
        loss.register_hook(lambda grad: seen.append(grad.tolist()))
        loss.backward()
        return x.grad, loss.grad, seen

    # autograd.grad, the same loss twice as a root, and create_graph.
    def captured(lib, functional, x, target):
        loss = functional.mse_loss(x, target)
        (first,) = lib.autograd.grad(loss, x, retain_graph=True)
        lib.autograd.backward([loss, loss])
        (second,) = lib.autograd.grad(functional.mse_loss(x, target), x, create_graph=True)
        (third,) = lib.autograd.grad(second.sum(), x)
        return first, x.grad, second, third

    for case in (explicit, observed, captured):
        want, got = both(case)
        want, got = _flatten(want), _flatten(got)
        assert len(want) == len(got)
        for index, (g, w) in enumerate(zip(got, want)):
            if isinstance(w, torch.Tensor):
                assert_close(g, w.detach(), f"{case.__name__}: result {index}")
            else:
                assert g == w, f"{case.__name__}: result {index}: {g} != {w}"


def _flatten(value):
    if isinstance(value, (tuple, list)) and not (value and isinstance(value[0], float)):
        return [item for element in value for item in _flatten(element)]
    return [value]


BCE_OPTIONS = {
    "plain": lambda: {},
    "weight": lambda: {"weight": torch.rand(5) + 0.1},
    "pos_weight": lambda: {"pos_weight": torch.rand(5) + 0.5},
    "both": lambda: {"weight": torch.rand(3, 1) + 0.1, "pos_weight": torch.rand(5) + 0.5},
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("option_name", list(BCE_OPTIONS))
def test_bce_with_logits_matches_torch(option_name, reduction):
    logits = torch.randn(3, 5) * 4
    logits[0, :2] = torch.tensor([60.0, -60.0])  # saturated logits stay finite
    target = torch.rand(3, 5)
    got = loss_pair(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, [logits, target],
                    [0, 1], reduction=reduction, **BCE_OPTIONS[option_name]())  # fmt: skip
    assert got.grad_fn.name() == "BinaryCrossEntropyWithLogitsBackward0"


@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_with_logits_dtypes(dtype):
    logits, target = torch.randn(4, 7).to(dtype), torch.rand(4, 7).to(dtype)
    loss_pair(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, [logits, target], [0],
              dtype=dtype, pos_weight=(torch.rand(7) + 0.5).to(dtype))  # fmt: skip


def test_nll_and_bce_non_contiguous_inputs():
    t_leaf, g_leaf, t_view, g_view = transposed_pair((6, 4))
    target = class_targets((6,), 4)
    want, got = TF.nll_loss(t_view, target), F.nll_loss(g_view, to_tg(target))
    assert_close(got, want, "nll_loss of a transposed input")
    want.backward()
    got.backward()
    assert_close(g_leaf.grad, t_leaf.grad, "nll_loss grad")
    t_leaf, g_leaf, t_view, g_view = transposed_pair((6, 4), scale=3.0)
    probabilities = torch.rand(4, 6)  # transposed too
    want = TF.binary_cross_entropy_with_logits(t_view, probabilities.t())
    got = F.binary_cross_entropy_with_logits(g_view, to_tg(probabilities).t())
    assert_close(got, want, "bce of a transposed input")
    want.backward()
    got.backward()
    assert_close(g_leaf.grad, t_leaf.grad, "bce grad")


def test_bce_with_logits_gradcheck_and_double_backward():
    x = to_tg(torch.randn(2, 3, dtype=torch.float64), requires_grad=True)
    t = to_tg(torch.rand(2, 3, dtype=torch.float64), requires_grad=True)
    pos_weight = to_tg(torch.rand(3, dtype=torch.float64) + 0.5)
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=pos_weight), (x, t))
    weight, pos_weight = torch.rand(3, dtype=torch.float64), torch.rand(3, dtype=torch.float64) + 0.5
    compare_double_backward(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, to_tg(weight), pos_weight=to_tg(pos_weight)),
        lambda a, b: TF.binary_cross_entropy_with_logits(a, b, weight, pos_weight=pos_weight),
        [torch.randn(4, 3, dtype=torch.float64) * 3, torch.rand(4, 3, dtype=torch.float64)],
    )


def test_one_hot_matches_torch():
    labels = torch.tensor([[0, 3], [2, 1]])
    for num_classes in (-1, 6):
        got = F.one_hot(to_tg(labels), num_classes)
        want = TF.one_hot(labels, num_classes)
        assert got.dtype == torch.int64 and torch.equal(to_torch(got), want)
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(to_tg(labels), 3)


COMPOSED_LAYERS = {
    "bilinear": (lambda F, a, b, w, c: F.bilinear(a, b, w, c), [(4, 3), (4, 5), (2, 3, 5), (2,)]),
    "bilinear, batched, no bias": (lambda F, a, b, w: F.bilinear(a, b, w), [(2, 3, 3), (2, 3, 5), (4, 3, 5)]),
    "pixel_shuffle": (lambda F, x: F.pixel_shuffle(x, 2), [(2, 8, 3, 2)]),
    "pixel_unshuffle": (lambda F, x: F.pixel_unshuffle(x, 3), [(1, 2, 6, 3)]),
    "lp_pool1d p=2": (lambda F, x: F.lp_pool1d(x.abs() + 0.1, 2, 3, 2), [(2, 3, 7)]),
    "lp_pool1d p=3.5": (lambda F, x: F.lp_pool1d(x.abs() + 0.1, 3.5, 2), [(2, 3, 7)]),
    "lp_pool2d ceil_mode": (lambda F, x: F.lp_pool2d(x.abs() + 0.1, 2, (2, 3), ceil_mode=True), [(1, 2, 6, 5)]),
    "lp_pool2d p=inf": (lambda F, x: F.lp_pool2d(x, math.inf, 2), [(1, 2, 4, 4)]),
    "alpha_dropout in eval": (lambda F, x: F.alpha_dropout(x, 0.3), [(3, 4)]),
}


@pytest.mark.parametrize("name", list(COMPOSED_LAYERS))
def test_layers_composed_of_ops_match_torch(name):
    """bilinear, pixel (un)shuffle, lp pooling, alpha dropout: values and every input's gradient."""
    function, shapes = COMPOSED_LAYERS[name]
    inputs = [torch.randn(shape, dtype=torch.float64, requires_grad=True) for shape in shapes]
    ours = [to_tg(t.detach()).requires_grad_() for t in inputs]
    expected = function(torch.nn.functional, *inputs)
    got = function(F, *ours)
    assert_close(got, expected, what=name)
    weights = torch.randn(expected.shape, dtype=torch.float64)
    (expected * weights).sum().backward()
    (got * to_tg(weights)).sum().backward()
    for index, (mine, reference) in enumerate(zip(ours, inputs)):
        assert_close(mine.grad, reference.grad, what=f"{name}: gradient of input {index}")


def _composed_layer_errors(lib):
    F = lib.nn.functional
    outcomes = []
    for attempt in (
        lambda: F.pixel_shuffle(lib.ones(1, 6, 2, 2), 2),
        lambda: F.pixel_shuffle(lib.ones(2, 2), 2),
        lambda: F.pixel_shuffle(lib.ones(1, 4, 2, 2), 0),
        lambda: F.pixel_unshuffle(lib.ones(1, 1, 3, 4), 2),
        lambda: F.bilinear(lib.ones(4, 3), lib.ones(4, 5), lib.ones(2, 2, 5)),
        lambda: F.bilinear(lib.ones(4, 3), lib.ones(4, 5), lib.ones(2, 3, 4)),
        lambda: F.bilinear(lib.ones(4, 3), lib.ones(3, 5), lib.ones(2, 3, 5)),
        lambda: F.alpha_dropout(lib.ones(3), 1.5, training=True),
        lambda: F.alpha_dropout(lib.ones(3), 1.0, training=True),
        lambda: F.feature_alpha_dropout(lib.ones(3), 0.5, training=True),
    ):
        try:
            outcomes.append(attempt().tolist())
        except Exception as error:  # noqa: BLE001 - torch's error is the oracle
            outcomes.append((type(error).__name__, str(error)[:50]))
    nn = lib.nn
    modules = [nn.Bilinear(3, 4, 2), nn.PixelShuffle(2), nn.PixelUnshuffle(2), nn.AlphaDropout(0.1),
               nn.FeatureAlphaDropout(0.2), nn.LPPool1d(2, 3), nn.LPPool2d(1.5, (2, 2), stride=1)]  # fmt: skip
    outcomes.append([repr(module) for module in modules])
    outcomes.append({name: tuple(p.shape) for name, p in lib.nn.Bilinear(3, 4, 2).named_parameters()})
    return outcomes


def test_composed_layer_errors_and_modules_match_torch():
    assert _composed_layer_errors(tritongrad) == _composed_layer_errors(torch)


def test_alpha_dropout_keeps_mean_and_variance():
    """In training, dropped units take SELU's saturation and the result keeps the input's statistics
    (the random draws differ from torch's, so statistics are compared, not values)."""
    tritongrad.manual_seed(0)
    x = tritongrad.randn(20000)
    for p in (0.1, 0.5):
        dropped = F.alpha_dropout(x, p, training=True)
        assert abs(dropped.mean().item() - x.mean().item()) < 0.05, p
        assert abs(dropped.std().item() - x.std().item()) < 0.05, p
        values = set(round(v, 4) for v in dropped.tolist() if abs(v - round(v, 4)) < 1e-9)
        assert len(values) < 20000  # the dropped units share one value
    channels = F.feature_alpha_dropout(tritongrad.ones(4, 6, 5), 0.5, training=True)
    assert all(len(set(row.tolist())) == 1 for row in channels.reshape(24, 5))
