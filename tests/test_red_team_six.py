"""Session 15's findings (the sixth red-team round and the session's own list), each compared with
torch by ``agree``: the value, the dtype, or the exception type and the head of its message."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tests.utils import to_torch


def _linear(lib):
    """A Linear(3, 2) with fixed weights (the same in both libraries)."""
    layer = lib.nn.Linear(3, 2)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor([[0.1, 0.2, 0.3], [0.4, -0.5, 0.6]]))
        layer.bias.copy_(lib.tensor([0.1, -0.2]))
    return layer


def _named_step(lib, name, **options):
    """Two steps of optimizer ``name`` built from named_parameters(): weights and the saved names."""
    layer = _linear(lib)
    optimizer = getattr(lib.optim, name)(layer.named_parameters(), lr=0.1, **options)
    inputs = lib.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])

    def closure():
        optimizer.zero_grad()
        loss = layer(inputs).pow(2).sum()
        loss.backward()
        return loss

    for _ in range(2):
        optimizer.step(closure)
    return layer.weight.detach(), optimizer.state_dict()["param_groups"][0]["param_names"]


# The names live in the base class's groups; these four read their groups differently (LBFGS's one
# group, Rprop's step sizes, Adam's capturable flags). All twelve were run once by hand (session 15).
NAMED_OPTIMIZERS = ["SGD", "Adam", "Rprop", "LBFGS"]


@pytest.mark.parametrize("name", NAMED_OPTIMIZERS)
def test_optimizers_take_named_parameters(name):
    options = {"max_iter": 2} if name == "LBFGS" else {}  # (its default 20 inner iterations take ~20 s here)
    agree(f"{name}(named_parameters())", lambda lib: _named_step(lib, name, **options), [])


NAMED_MISUSE = {
    "names on some parameters only": lambda lib: lib.optim.SGD(
        [("weight", _linear(lib).weight), _linear(lib).bias], lr=0.1
    ),
    "a named group after an unnamed one": lambda lib: lib.optim.SGD(
        [{"params": [_linear(lib).weight]}, {"params": list(_linear(lib).named_parameters())}], lr=0.1
    ),
    "an unnamed group after a named one": lambda lib: lib.optim.SGD(
        [{"params": list(_linear(lib).named_parameters())}, {"params": [_linear(lib).weight]}], lr=0.1
    ),
    "names survive a state_dict round trip": lambda lib: _reloaded_names(lib),
}


def _reloaded_names(lib):
    optimizer = lib.optim.Adam(_linear(lib).named_parameters())
    fresh = lib.optim.Adam(_linear(lib).parameters())
    fresh.load_state_dict(optimizer.state_dict())
    return fresh.param_groups[0]["param_names"]


@pytest.mark.parametrize("case", list(NAMED_MISUSE))
def test_named_parameter_groups_as_torch(case):
    agree(case, NAMED_MISUSE[case], [])


def test_a_non_leaf_that_retains_its_gradient_can_be_optimized():
    def run(lib):
        leaf = lib.ones(3, requires_grad=True)
        middle = leaf * 2
        middle.retain_grad()
        optimizer = lib.optim.SGD([middle], lr=0.5)
        middle.pow(2).sum().backward()
        optimizer.step()
        return middle.detach()

    agree("SGD([non-leaf with retain_grad])", run, [])


def _grid(lib):
    return lib.arange(1.0, 16.0).view(5, 3) / 4 - 1


def _index_reduce_gradients(lib, reduce):
    x = (lib.arange(8.0).view(4, 2) - 3).requires_grad_()
    source = (lib.arange(10.0).view(5, 2) / 3 - 1).requires_grad_()
    y = x.index_reduce(0, lib.tensor([0, 2, 2, 0, 1]), source, reduce, include_self=reduce != "mean")
    (y * lib.arange(8.0).view(4, 2)).sum().backward()
    return x.grad, source.grad, y.grad_fn.name()


INDEX_REDUCE = {
    "prod": lambda lib: lib.ones(4, 3).index_reduce(0, lib.tensor([0, 0, 3, 1, 0]), _grid(lib), "prod"),
    "mean without self": lambda lib: lib.ones(4, 3).index_reduce(
        0, lib.tensor([0, 0, 3, 1, 0]), _grid(lib), "mean", include_self=False
    ),
    "amax along dim 1": lambda lib: lib.zeros(5, 2).index_reduce(1, lib.tensor([1, 1, 0]), _grid(lib), "amax"),
    "amin_ along -1": lambda lib: lib.zeros(5, 2).index_reduce_(
        -1, lib.tensor([1, 1, 0]), _grid(lib), "amin", include_self=False
    ),
    "integer mean": lambda lib: lib.ones(3, 2, dtype=lib.int64).index_reduce(
        0, lib.tensor([0, 0, 2]), lib.arange(6).view(3, 2), "mean"
    ),
    "int32 index": lambda lib: lib.ones(3, 2).index_reduce(
        0, lib.tensor([0, 2], dtype=lib.int32), lib.ones(2, 2), "prod"
    ),
    "0-dim": lambda lib: lib.ones(()).index_reduce(0, lib.tensor([0]), lib.tensor(5.0), "amax"),
    "2-d index": lambda lib: lib.ones(3, 2).index_reduce(0, lib.tensor([[0, 0, 2]]), lib.ones(3, 2), "prod"),
    "index count": lambda lib: lib.ones(3, 2).index_reduce(0, lib.tensor([0, 0]), lib.ones(3, 2), "prod"),
    "source shape": lambda lib: lib.ones(3, 2).index_reduce(0, lib.tensor([0, 0, 2]), lib.ones(3, 3), "prod"),
    "index out of range": lambda lib: lib.ones(3, 2).index_reduce(0, lib.tensor([0, 0, 5]), lib.ones(3, 2), "prod"),
    "sum is not a reduce": lambda lib: lib.ones(3, 2).index_reduce(0, lib.tensor([0, 0, 2]), lib.ones(3, 2), "sum"),
    "dim out of range": lambda lib: lib.ones(3, 2).index_reduce(2, lib.tensor([0, 0, 2]), lib.ones(3, 2), "prod"),
    "source dtype": lambda lib: lib.ones(3, 2).index_reduce(
        0, lib.tensor([0, 0, 2]), lib.ones(3, 2, dtype=lib.float64), "prod"
    ),
    "gradients of prod": lambda lib: _index_reduce_gradients(lib, "prod"),
    "gradients of amax": lambda lib: _index_reduce_gradients(lib, "amax"),
    "gradients of mean": lambda lib: _index_reduce_gradients(lib, "mean"),
}


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
@pytest.mark.parametrize("case", list(INDEX_REDUCE))
def test_index_reduce_as_torch(case):
    agree(f"index_reduce {case}", INDEX_REDUCE[case], [])


RANDOM_FILL_MISUSE = {
    "geometric_ p=0": lambda lib: lib.empty(3).geometric_(0),
    "geometric_ p=1": lambda lib: lib.empty(3).geometric_(1.0),
    "geometric_ p=-0.1": lambda lib: lib.empty(3).geometric_(-0.1),
    "cauchy_ sigma=0": lambda lib: lib.empty(3).cauchy_(0, 0),
    "cauchy_ of int64": lambda lib: lib.empty(3, dtype=lib.int64).cauchy_(),
    "geometric_ keeps the dtype": lambda lib: lib.empty(3, dtype=lib.int8).geometric_(0.5).dtype,
    "cauchy_ keeps the dtype": lambda lib: lib.empty(3, dtype=lib.float16).cauchy_().dtype,
}


@pytest.mark.parametrize("case", list(RANDOM_FILL_MISUSE))
def test_random_fills_refuse_as_torch(case):
    agree(case, RANDOM_FILL_MISUSE[case], [])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.int16], ids=str)
def test_geometric_samples_follow_the_distribution(dtype):
    """Integers >= 1 with mean 1/p and P(1) = p (20000 draws: standard errors ~0.02 and 0.003)."""
    p = 0.3
    draws = to_torch(tritongrad.empty(20000, dtype=dtype).geometric_(p)).double()
    assert draws.min().item() >= 1 and bool((draws == draws.round()).all()), f"{dtype}: not integers >= 1"
    mean, first = draws.mean().item(), (draws == 1).double().mean().item()
    assert abs(mean - 1 / p) < 0.1, f"{dtype}: mean {mean:.4f}, expected {1 / p:.4f}"
    assert abs(first - p) < 0.015, f"{dtype}: P(1) = {first:.4f}, expected {p}"


def test_cauchy_samples_follow_the_distribution():
    """Quartiles at median -+ sigma, on a strided view (20000 draws: standard errors ~0.03)."""
    median, sigma = 1.5, 2.0
    target = tritongrad.empty(20000, 2)[:, 0]
    draws = to_torch(target.cauchy_(median, sigma))
    quartiles = torch.quantile(draws, torch.tensor([0.25, 0.5, 0.75])).tolist()
    expected = [median - sigma, median, median + sigma]
    assert all(abs(q - e) < 0.15 for q, e in zip(quartiles, expected)), f"quartiles {quartiles}, expected {expected}"


def test_a_transformer_encoder_of_no_layers_fails_as_torch():
    def run(lib):
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
        return lib.nn.TransformerEncoder(layer, 0, enable_nested_tensor=False)(lib.ones(1, 3, 8))

    agree("TransformerEncoder(layer, 0)", run, [])


NUMPY_KEYS = {
    "a numpy bool index": lambda lib: lib.arange(4.0)[np.bool_(True)],
    "a numpy float index": lambda lib: lib.arange(4.0)[np.float64(1.0)],
    "a numpy uint8 mask, one value": lambda lib: lib.zeros(4).__setitem__(np.array([1, 0, 1, 0], dtype=np.uint8), 1.0),
    "a numpy uint8 mask and an int": lambda lib: lib.zeros(4, 2).__setitem__(
        (np.array([1, 0, 1, 0], dtype=np.uint8), 0), 1.0
    ),
}


@pytest.mark.parametrize("case", list(NUMPY_KEYS))
def test_numpy_keys_as_torch(case):
    agree(case, NUMPY_KEYS[case], [])


def _square(lib):
    return lib.arange(4.0).view(2, 2)


# torch 2's deprecated number-first signatures (older optimizers and model code), with its warning
OLD_SIGNATURES = {
    "add(input, alpha, other)": lambda lib: lib.add(lib.ones(2), 3, lib.ones(2) * 2),
    "x.add_(alpha, other)": lambda lib: lib.arange(1.0, 5.0).add_(-0.5, lib.full((4,), 2.0)),
    "x.sub(alpha, other)": lambda lib: lib.ones(2).sub(3, lib.ones(2)),
    "x.sub_(alpha, other)": lambda lib: lib.ones(2).sub_(2, lib.ones(2)),
    "x.addcmul_(value, t1, t2)": lambda lib: lib.ones(4).addcmul_(0.5, lib.full((4,), 2.0), lib.arange(4.0)),
    "addcdiv(input, value, t1, t2)": lambda lib: lib.addcdiv(lib.ones(2), 2, lib.ones(2), lib.ones(2) * 4),
    "addmm(beta, input, alpha, m1, m2)": lambda lib: lib.addmm(0.5, lib.ones(2, 2), 2, _square(lib), _square(lib)),
    "addmm(beta, input, m1, m2)": lambda lib: lib.addmm(0.5, lib.ones(2, 2), _square(lib), _square(lib)),
    "x.addmm_(beta, alpha, m1, m2)": lambda lib: lib.ones(2, 2).addmm_(1, -2, _square(lib), _square(lib)),
    "x.addmv(beta, mat, vec)": lambda lib: lib.ones(2).addmv(2, _square(lib), lib.ones(2)),
    "x.baddbmm(beta, alpha, b1, b2)": lambda lib: lib.ones(2, 2, 2).baddbmm(2, 3, lib.ones(2, 2, 2), lib.ones(2, 2, 2)),
    "x.addr(beta, v1, v2)": lambda lib: lib.ones(2, 2).addr(2, lib.ones(2), lib.arange(2.0)),
    "addbmm(input, beta, b1, b2) is refused": lambda lib: lib.addbmm(
        lib.ones(2, 2), 2, lib.ones(2, 2, 2), lib.ones(2, 2, 2)
    ),
}


@pytest.mark.filterwarnings("ignore:This overload of")
@pytest.mark.parametrize("case", list(OLD_SIGNATURES))
def test_deprecated_number_first_signatures_as_torch(case):
    agree(case, OLD_SIGNATURES[case], [])


def test_a_deprecated_signature_warns_as_torch():
    with pytest.warns(UserWarning, match=r"This overload of addcmul_ is deprecated:\n\taddcmul_\(Number value"):
        tritongrad.ones(2).addcmul_(0.5, tritongrad.ones(2), tritongrad.ones(2))


@pytest.mark.filterwarnings("ignore:torch.set_default_tensor_type\\(\\) is deprecated")
@pytest.mark.parametrize(
    "name",
    ["torch.DoubleTensor", "torch.FloatTensor", "torch.HalfTensor", "torch.LongTensor", "torch.cuda.FloatTensor",
     "torch.NoSuchTensor", "float64"],
)  # fmt: skip
def test_set_default_tensor_type_as_torch(name):
    def run(lib):
        try:
            lib.set_default_tensor_type(lib.float64 if name == "float64" else name)
            return lib.get_default_dtype(), lib.zeros(1).dtype, lib.tensor([1.5]).dtype
        finally:
            lib.set_default_dtype(lib.float32)

    agree(f"set_default_tensor_type({name})", run, [])


def _mlp(lib):
    """Linear-ReLU-Linear with fixed weights (a pair Sequential may fuse)."""
    first, second = lib.nn.Linear(3, 4), lib.nn.Linear(4, 2)
    with lib.no_grad():
        first.weight.copy_(lib.arange(12.0).view(4, 3).sin())
        first.bias.copy_(lib.arange(4.0).cos())
        second.weight.copy_(lib.arange(8.0).view(2, 4).cos())
        second.bias.zero_()
    return lib.nn.Sequential(first, lib.nn.ReLU(), second)


def _hooked(lib, positions, kind):
    model, fired = _mlp(lib), []
    for position in positions:
        register = getattr(model[position], kind)
        register(lambda module, *grads, position=position: fired.append(position))
    x = lib.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    model(x).sum().backward()
    return fired, x.grad


@pytest.mark.parametrize("positions", [(0,), (1,), (0, 1, 2)])
@pytest.mark.parametrize("kind", ["register_full_backward_hook", "register_full_backward_pre_hook"])
def test_backward_hooks_in_a_fusable_sequential_fire_as_torch(positions, kind):
    agree(f"{kind} on {positions}", lambda lib: _hooked(lib, positions, kind), [])


def test_a_class_level_forward_patch_is_called_in_a_sequential():
    def run(lib):
        original, calls = lib.nn.Linear.forward, []

        def patched(self, input):
            calls.append(tuple(input.shape))
            return original(self, input) * 2

        lib.nn.Linear.forward = patched
        try:
            return _mlp(lib)(lib.tensor([[0.5, -1.0, 2.0]])), calls
        finally:
            lib.nn.Linear.forward = original

    agree("nn.Linear.forward patched", run, [])


class _Identity:
    """A custom Function returning its input as it is (``view``: a view of it), per library."""

    @staticmethod
    def build(lib, view):
        class Identity(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.view(-1) if view else x

            @staticmethod
            def backward(ctx, grad):
                return grad.view(2, 2) if view else grad

        return Identity


@pytest.mark.parametrize("view", [False, True])
def test_an_in_place_write_into_a_custom_function_view_is_refused(view):
    def run(lib):
        y = _Identity.build(lib, view).apply(lib.ones(2, 2, requires_grad=True) * 1)
        y.relu_()
        return y

    agree(f"custom Function output ({'view' if view else 'as-is'}) written in place", run, [])


def test_a_full_backward_hook_output_written_in_place_is_refused():
    """Grad-CAM's pattern: a hooked conv followed by ReLU(inplace=True)."""

    def run(lib):
        conv = lib.nn.Conv2d(1, 2, 3, padding=1)
        conv.register_full_backward_hook(lambda module, grad_input, grad_output: None)
        net = lib.nn.Sequential(conv, lib.nn.ReLU(inplace=True))
        return net(lib.arange(16.0).view(1, 1, 4, 4).cos())

    agree("full backward hook then ReLU(inplace=True)", run, [])


# The API sweep's crashes: inputs of too few dims or of no channels, torch's answer or error
FEW_DIMS = {
    "adjoint of a 0-d tensor": lambda lib: lib.ones(()).adjoint(),
    "adjoint of a 1-d tensor": lambda lib: lib.ones(3).adjoint(),
    "mH of a 0-d tensor": lambda lib: lib.ones(()).mH,
    "mH of a 1-d tensor": lambda lib: lib.ones(3).mH,
    "mT of a 0-d tensor": lambda lib: lib.ones(()).mT,
    "mT of a 1-d tensor": lambda lib: lib.ones(3).mT,
    "H of a 1-d tensor": lambda lib: lib.ones(3).H,
    "H of a 0-d tensor": lambda lib: lib.ones(()).H,
    "InstanceNorm3d of no channels": lambda lib: lib.nn.InstanceNorm3d(4)(lib.ones(0, 2, 5, 5)),
    "instance_norm of no channels": lambda lib: lib.nn.functional.instance_norm(lib.ones(2, 0, 3)),
    "LazyConv2d of a 1-d input": lambda lib: lib.nn.LazyConv2d(3, 2)(lib.ones(5)),
    "LazyConvTranspose1d of a 0-d input": lambda lib: lib.nn.LazyConvTranspose1d(3, 2)(lib.ones(())),
}


@pytest.mark.parametrize("case", list(FEW_DIMS))
def test_few_dims_as_torch(case):
    agree(case, FEW_DIMS[case], [])


def _logical_in_place(lib, op, leaf):
    base = lib.tensor([1.0, 0.0, 2.0], requires_grad=True)
    x = base if leaf else base * 1
    args = () if op == "logical_not_" else (lib.tensor([1.0, 1.0, 0.0]),)
    y = getattr(x, op)(*args)
    return y.detach(), x.requires_grad, x.is_leaf, x._version, None if x.grad_fn is None else x.grad_fn.name()


@pytest.mark.parametrize("leaf", [True, False])
@pytest.mark.parametrize("op", ["logical_and_", "logical_or_", "logical_xor_", "logical_not_", "lt_", "eq_"])
def test_logical_in_place_ops_are_not_recorded_as_torch(op, leaf):
    """torch's logical ops have no autograd kernel: in place they write a leaf that requires grad and
    leave the history alone; the comparisons are refused on such a leaf."""
    agree(f"{op} ({'leaf' if leaf else 'non-leaf'})", lambda lib: _logical_in_place(lib, op, leaf), [])


def _ints(lib, *shape):
    return lib.arange(1, 1 + math.prod(shape)).view(*shape)


# Float-only kernels given an integer tensor: torch's dispatch error, NotImplementedError (the API
# sweep found TypeError across activations, losses, softmax and pools)
INTEGER_INPUTS = {
    "gelu": lambda lib: lib.nn.functional.gelu(_ints(lib, 2, 3)),
    "silu": lambda lib: lib.nn.functional.silu(_ints(lib, 2, 3)),
    "leaky_relu": lambda lib: lib.nn.functional.leaky_relu(_ints(lib, 2, 3)),
    "softmax": lambda lib: lib.softmax(_ints(lib, 2, 3), 1),
    "log_softmax": lambda lib: lib.log_softmax(_ints(lib, 2, 3), 1),
    "cross_entropy": lambda lib: lib.nn.functional.cross_entropy(_ints(lib, 2, 3).int(), lib.zeros(2, dtype=lib.long)),
    "nll_loss": lambda lib: lib.nn.functional.nll_loss(_ints(lib, 2, 3), lib.zeros(2, dtype=lib.long)),
    "adaptive_avg_pool1d": lambda lib: lib.nn.functional.adaptive_avg_pool1d(_ints(lib, 1, 2, 4).to(lib.int8), 2),
    "max_pool2d of bools": lambda lib: lib.nn.functional.max_pool2d(_ints(lib, 1, 1, 4, 4) > 3, 2),
    "layer_norm": lambda lib: lib.nn.functional.layer_norm(_ints(lib, 2, 3), (3,)),
}


@pytest.mark.parametrize("case", list(INTEGER_INPUTS))
def test_float_only_kernels_refuse_integers_as_torch(case):
    agree(f"{case} of an integer tensor", INTEGER_INPUTS[case], [], message=False)


# Ops torch refuses operands of two dtypes for (the API sweep found them promoted)
MIXED_DTYPES = {
    "prelu": lambda lib: lib.nn.functional.prelu(lib.ones(2, 3, dtype=lib.float64), lib.ones(1)),
    "PReLU of float64 input": lambda lib: lib.nn.PReLU()(lib.ones(2, 3, dtype=lib.float64)),
    "meshgrid": lambda lib: lib.meshgrid(lib.ones(2, dtype=lib.float64), lib.ones(3), indexing="ij"),
    "cartesian_prod": lambda lib: lib.cartesian_prod(lib.ones(2, dtype=lib.int64), lib.ones(3, dtype=lib.int32)),
    "linalg.vecdot": lambda lib: lib.linalg.vecdot(lib.ones(2, dtype=lib.float64), lib.ones(2)),
    "cdist": lambda lib: lib.cdist(lib.ones(2, 3, dtype=lib.float64), lib.ones(2, 3)),
    "cdist of float16": lambda lib: lib.cdist(lib.ones(2, 3, dtype=lib.float16), lib.ones(2, 3, dtype=lib.float16)),
}


@pytest.mark.parametrize("case", list(MIXED_DTYPES))
def test_mixed_dtypes_refused_as_torch(case):
    agree(case, MIXED_DTYPES[case], [])


# A number where a Tensor is taken: torch's TypeError naming the argument (the sweep found AttributeErrors)
NUMBER_FOR_TENSOR = {
    **{name: (lambda lib, name=name: getattr(lib, name)(lib.ones(2, 2), 1))
       for name in ("allclose", "isclose", "equal", "is_same_size", "cross", "inner", "kron", "vdot", "cdist",
                    "cholesky_solve")},
    **{f"Tensor.{name}": (lambda lib, name=name: getattr(lib.ones(2, 2), name)(1.5))
       for name in ("allclose", "isclose", "equal", "kron", "inner")},
    "cosine_embedding_loss": lambda lib: lib.nn.functional.cosine_embedding_loss(lib.ones(2, 2), 1, lib.ones(2)),
    "hinge_embedding_loss": lambda lib: lib.nn.functional.hinge_embedding_loss(lib.ones(2), 1),
    "triplet_margin_loss": lambda lib: lib.nn.functional.triplet_margin_loss(lib.ones(2, 2), 1, lib.ones(2, 2)),
    "isclose by keyword": lambda lib: lib.isclose(lib.ones(2), other=lib.ones(2)),
    "rsub of two tensors": lambda lib: _rsub_gradients(lib),
}  # fmt: skip


def _rsub_gradients(lib):
    a, b = lib.ones(3, requires_grad=True), lib.ones(2, 1, requires_grad=True)
    y = lib.rsub(a, b)
    y.sum().backward()
    return y.grad_fn.name(), a.grad, b.grad


@pytest.mark.parametrize("case", list(NUMBER_FOR_TENSOR))
def test_numbers_for_tensors_as_torch(case):
    agree(case, NUMBER_FOR_TENSOR[case], [])


# The torch.* spellings of the losses (ATen's reduction enum; unreduced when not given)
ATEN_LOSSES = {
    "kl_div": lambda lib: lib.kl_div(_grid(lib)[:2].log_softmax(1), _grid(lib)[:2].abs()),
    "kl_div sum": lambda lib: lib.kl_div(_grid(lib)[:2].log_softmax(1), _grid(lib)[:2].abs(), 2),
    "binary_cross_entropy_with_logits": lambda lib: lib.binary_cross_entropy_with_logits(
        _grid(lib), _grid(lib).sigmoid()
    ),
    "hinge_embedding_loss": lambda lib: lib.hinge_embedding_loss(_grid(lib), lib.sign(_grid(lib))),
    "margin_ranking_loss": lambda lib: lib.margin_ranking_loss(_grid(lib)[0], _grid(lib)[1], lib.ones(3)),
    "cosine_embedding_loss": lambda lib: lib.cosine_embedding_loss(_grid(lib), _grid(lib).cos(), lib.ones(5)),
    "triplet_margin_loss": lambda lib: lib.triplet_margin_loss(_grid(lib), _grid(lib).cos(), _grid(lib) * 2),
}


@pytest.mark.parametrize("case", list(ATEN_LOSSES))
def test_torch_namespace_losses_as_torch(case):
    agree(f"torch.{case}", ATEN_LOSSES[case], [])


def _pool_after_write(lib, pool):
    x = lib.arange(16.0).view(1, 1, 4, 4).requires_grad_()
    h = x * 1
    y = pool(lib, h)
    h.mul_(-1)
    y.sum().backward()
    return x.grad


POOLS_SAVE_INPUT = {
    "max_pool2d": lambda lib, h: lib.nn.functional.max_pool2d(h, 2),
    "avg_pool2d": lambda lib, h: lib.nn.functional.avg_pool2d(h, 2),
    "max_pool1d": lambda lib, h: lib.nn.functional.max_pool1d(h.view(1, 4, 4), 2),
    "adaptive_avg_pool2d": lambda lib, h: lib.nn.functional.adaptive_avg_pool2d(h, 2),
    "adaptive_max_pool2d": lambda lib, h: lib.nn.functional.adaptive_max_pool2d(h, 2),
}


@pytest.mark.parametrize("case", list(POOLS_SAVE_INPUT))
def test_a_pooling_input_written_after_the_forward_is_torch_version_error(case):
    agree(f"{case} input written in place", lambda lib: _pool_after_write(lib, POOLS_SAVE_INPUT[case]), [])


def _split_base_written(lib, split, use):
    x = lib.ones(4, requires_grad=True)
    base = x * 1
    parts = split(base)
    base.mul_(2)
    return use(lib, parts)


SPLIT_BASE_WRITTEN = {
    "split output in a backward": (lambda b: b.split(2), lambda lib, p: p[0].sum().backward()),
    "chunk output in an op": (lambda b: b.chunk(2), lambda lib, p: p[0] * 1),
    "unbind output's grad_fn": (lambda b: b.unbind(0), lambda lib, p: p[1].grad_fn),
    "split output printed": (lambda b: b.split(2), lambda lib, p: repr(p[0])),
    "a slice of the base (not refused)": (lambda b: (b[:2],), lambda lib, p: p[0].grad_fn.name()),
}


@pytest.mark.parametrize("case", list(SPLIT_BASE_WRITTEN))
def test_split_outputs_after_their_base_was_written_as_torch(case):
    split, use = SPLIT_BASE_WRITTEN[case]
    agree(case, lambda lib: _split_base_written(lib, split, use), [])


POW_EDGES = {
    "-inf to non-integer tensor powers": lambda lib: lib.pow(
        lib.full((6,), -math.inf), lib.tensor([0.5, -0.5, 2.5, 3.0, -3.0, 2.0])
    ),
    "-inf to them in float64": lambda lib: lib.pow(
        lib.full((2,), -math.inf, dtype=lib.float64), lib.tensor([1.5, -1.5], dtype=lib.float64)
    ),
    "x ** 0.5 (sqrt)": lambda lib: lib.tensor([-math.inf, 2.0, -1.0, 0.0]) ** 0.5,
    "x ** -0.5 (rsqrt)": lambda lib: lib.tensor([-math.inf, 2.0, -1.0, 0.0]) ** -0.5,
    "x ** 2.5": lambda lib: lib.tensor([-math.inf, 2.0, -1.0, 0.0]) ** 2.5,
}


@pytest.mark.parametrize("case", list(POW_EDGES))
def test_pow_edges_as_torch(case):
    agree(case, POW_EDGES[case], [])


REFUSED_DTYPES = {
    "conv2d of bools": lambda lib: lib.conv2d(
        lib.ones(1, 1, 3, 3, dtype=lib.bool), lib.ones(1, 1, 2, 2, dtype=lib.bool)
    ),
    "conv_transpose2d of int32": lambda lib: lib.conv_transpose2d(
        lib.ones(1, 1, 3, 3, dtype=lib.int32), lib.ones(1, 1, 2, 2, dtype=lib.int32)
    ),
    "histc of int64": lambda lib: lib.histc(lib.ones(3, dtype=lib.int64)),
    "bincount of floats": lambda lib: lib.bincount(lib.ones(3)),
}


@pytest.mark.parametrize("case", list(REFUSED_DTYPES))
def test_refused_dtypes_raise_torch_class(case):
    agree(case, REFUSED_DTYPES[case], [], message=False)


def test_unflatten_of_a_dim_out_of_range_as_torch():
    agree("unflatten(2, ...) of a 2-d tensor", lambda lib: lib.ones(2, 3).unflatten(2, (1, 3)), [])
    agree("unflatten of a 0-d tensor", lambda lib: lib.ones(()).unflatten(0, (1,)), [], message=False)


@pytest.mark.parametrize("written", ["input", "output"])
def test_erfinv_saves_its_input_as_torch(written):
    def run(lib):
        x = lib.tensor([0.1, 0.5], requires_grad=True)
        h = x * 1
        y = h.erfinv()
        (h if written == "input" else y).mul_(2)
        y.sum().backward()
        return x.grad

    agree(f"erfinv, {written} written after the forward", run, [])


@pytest.mark.parametrize("rows", [[[1.0, 2.0, 4.0]], [[3.0]], [1.0, 2.0, 4.0], [[1.0, 2.0], [0.5, -1.0]]])
def test_cov_of_one_variable_is_0d_as_torch(rows):
    agree(f"cov({rows})", lambda lib: lib.cov(lib.tensor(rows)), [])


@pytest.mark.parametrize("op", ["addcmul", "addcdiv"])
def test_addcmul_input_written_after_the_forward_as_torch(op):
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        h = x * 1
        y = getattr(lib, op)(h, lib.ones(3) * 2, lib.ones(3) * 4, value=0.5)
        h.mul_(2)
        y.sum().backward()
        return x.grad

    agree(f"{op} input written in place", run, [])


def test_torch_surface_names_scripts_catch_or_call():
    """``except torch.cuda.OutOfMemoryError`` (torch's class: torch allocates tritongrad's memory) and
    torch 2.6's ``nn.utils.clip_grads_with_norm_``."""
    assert tritongrad.cuda.OutOfMemoryError is torch.cuda.OutOfMemoryError
    assert tritongrad.OutOfMemoryError is torch.OutOfMemoryError

    def clip(lib):
        layer = _linear(lib)
        layer(lib.tensor([[1.0, 2.0, 3.0]])).sum().backward()
        grads = [p.grad for p in layer.parameters()]
        total = lib.nn.utils.get_total_norm(grads)
        lib.nn.utils.clip_grads_with_norm_(layer.parameters(), 0.5, total)
        return total, [p.grad for p in layer.parameters()]

    agree("clip_grads_with_norm_", clip, [])


@pytest.mark.parametrize("shape", [(0, 3, 4), (2, 0, 3, 4)])
def test_attention_of_no_heads_or_batch_is_empty_as_torch(shape):
    def run(lib):
        q = lib.ones(*shape, requires_grad=True)
        out = lib.nn.functional.scaled_dot_product_attention(q, q, q)
        out.sum().backward()
        return out, q.grad

    agree(f"scaled_dot_product_attention of {shape}", run, [])


@pytest.mark.parametrize("shapes", [((3, 0), (3, 0)), ((0,), (0,)), ((2, 0), (0, 0)), ((2, 3), (4, 3))], ids=str)
def test_inner_of_empty_operands_as_torch(shapes):
    agree(f"inner{shapes}", lambda lib: lib.inner(lib.ones(*shapes[0]), lib.ones(*shapes[1])), [])
