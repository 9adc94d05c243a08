"""tritongrad.nn layers, containers, losses and init against torch.nn.

Layers are compared on the same weights (copied from a torch layer) for outputs, gradients and
repr; containers for indexing, mutation and repr; init for formulas (gains, fans, bounds) and
the statistics of what it draws (tritongrad's generator differs from torch's, so values can't match).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import pytest
import torch

import tritongrad
from tests.autograd_utils import assert_close, to_tg, to_torch

tnn, gnn = torch.nn, tritongrad.nn


def same_repr(torch_module, tg_module):
    assert repr(tg_module) == repr(torch_module), f"\n--- tritongrad:\n{tg_module}\n--- torch:\n{torch_module}"


def copy_weights(torch_module, tg_module):
    tg_module.load_state_dict({name: to_tg(value) for name, value in torch_module.state_dict().items()})


def check_module(torch_module, tg_module, *inputs, grad_of=()):
    """Same weights, same output, same input/parameter gradients for a random output gradient."""
    copy_weights(torch_module, tg_module)
    t_inputs = [x.clone().requires_grad_(i in grad_of) for i, x in enumerate(inputs)]
    g_inputs = [to_tg(x, requires_grad=i in grad_of) for i, x in enumerate(inputs)]
    want, got = torch_module(*t_inputs), tg_module(*g_inputs)
    assert_close(got, want, f"{type(tg_module).__name__} output")
    grad_out = torch.randn(want.shape)
    want.backward(grad_out)
    got.backward(to_tg(grad_out))
    for i in grad_of:
        assert_close(g_inputs[i].grad, t_inputs[i].grad, f"grad of input {i}")
    for (name, g), (_, t) in zip(tg_module.named_parameters(), torch_module.named_parameters()):
        assert_close(g.grad, t.grad, f"grad of {name}")
    return got


# ============================================================================== Linear
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(bias):
    torch_layer, tg_layer = tnn.Linear(5, 3, bias=bias), gnn.Linear(5, 3, bias=bias)
    same_repr(torch_layer, tg_layer)
    assert [n for n, _ in tg_layer.named_parameters()] == [n for n, _ in torch_layer.named_parameters()]
    assert (tg_layer.bias is None) == (not bias)
    check_module(torch_layer, tg_layer, torch.randn(4, 2, 5), grad_of=(0,))


def test_linear_default_init_and_dtype():
    layer = gnn.Linear(200, 50, dtype=torch.float64)
    assert layer.weight.dtype == torch.float64 and layer.weight.shape == (50, 200) and layer.weight.is_leaf
    bound = 1 / math.sqrt(200)  # kaiming_uniform_(a=sqrt(5)) and the bias both give U(-1/sqrt(fan_in), ...)
    weight, bias = to_torch(layer.weight), to_torch(layer.bias)
    for values, what in ((weight, "weight"), (bias, "bias")):
        assert values.abs().max() <= bound, f"{what} exceeds the bound {bound}"
    assert abs(weight.std().item() - bound / math.sqrt(3)) < 0.05 * bound
    assert abs(weight.mean().item()) < 0.02 * bound
    assert abs(bias.std().item() - bound / math.sqrt(3)) < 0.25 * bound
    assert not torch.equal(weight, to_torch(gnn.Linear(200, 50, dtype=torch.float64).weight)), "fresh draws differ"


# ============================================================================== activations
ACTIVATION_MODULES = [
    lambda nn: nn.ReLU(),
    lambda nn: nn.ReLU(inplace=True),
    lambda nn: nn.Sigmoid(),
    lambda nn: nn.Tanh(),
    lambda nn: nn.GELU(),
    lambda nn: nn.GELU(approximate="tanh"),
    lambda nn: nn.LeakyReLU(),
    lambda nn: nn.LeakyReLU(0.2, inplace=True),
    lambda nn: nn.SiLU(),
    lambda nn: nn.Softmax(dim=1),
    lambda nn: nn.LogSoftmax(dim=0),
    lambda nn: nn.Flatten(),
    lambda nn: nn.Flatten(0, 1),
    lambda nn: nn.Identity(54, unused="x"),
    lambda nn: nn.ReLU6(),
    lambda nn: nn.ReLU6(inplace=True),
    lambda nn: nn.ELU(),
    lambda nn: nn.ELU(0.5, inplace=True),
    lambda nn: nn.SELU(),
    lambda nn: nn.SELU(inplace=True),
    lambda nn: nn.CELU(2.0),
    lambda nn: nn.CELU(0.5, inplace=True),
    lambda nn: nn.Mish(),
    lambda nn: nn.Mish(inplace=True),
    lambda nn: nn.Softplus(),
    lambda nn: nn.Softplus(2, 1),
    lambda nn: nn.Hardtanh(),
    lambda nn: nn.Hardtanh(-0.5, 2, inplace=True),
    lambda nn: nn.Hardsigmoid(),
    lambda nn: nn.Hardsigmoid(inplace=True),
    lambda nn: nn.Hardswish(),
    lambda nn: nn.Hardswish(inplace=True),
    lambda nn: nn.LogSigmoid(),
    lambda nn: nn.Softsign(),
    lambda nn: nn.Tanhshrink(),
    lambda nn: nn.Softshrink(),
    lambda nn: nn.Softshrink(0.3),
    lambda nn: nn.Hardshrink(1),
    lambda nn: nn.Threshold(0.1, 20),
    lambda nn: nn.Threshold(-0.5, 2.5, inplace=True),
    lambda nn: nn.GLU(),
    lambda nn: nn.GLU(1),
    lambda nn: nn.RReLU().eval(),
    lambda nn: nn.RReLU(0.1, 0.3, inplace=True).eval(),
]


@pytest.mark.parametrize("make", ACTIVATION_MODULES, ids=lambda make: repr(make(tnn)))
def test_activation_modules_match_torch(make):
    torch_module, tg_module = make(tnn), make(gnn)
    same_repr(torch_module, tg_module)
    values = torch.randn(3, 4, 2)
    if getattr(torch_module, "inplace", False):
        # In-place layers rewrite their input: feed them a non-leaf.
        t_leaf, g_leaf = values.clone().requires_grad_(), to_tg(values, requires_grad=True)
        want, got = torch_module(t_leaf * 1), tg_module(g_leaf * 1)
        assert_close(got, want, "output")
        want.sum().backward()
        got.sum().backward()
        assert_close(g_leaf.grad, t_leaf.grad, "grad")
    else:
        check_module(torch_module, tg_module, values, grad_of=(0,))


def test_hardtanh_module_checks_and_deprecated_keywords_like_torch():
    for nn in (tnn, gnn):
        with pytest.raises(AssertionError, match=r"max_val \(1.0\) must be greater than min_val \(1.0\)"):
            nn.Hardtanh(1.0, 1.0)
        with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
            layer = nn.Hardtanh(min_value=-2.0)
        assert (layer.min_val, layer.max_val) == (-2.0, 1.0)
    assert (gnn.ReLU6().min_val, gnn.ReLU6().max_val) == (0.0, 6.0) and isinstance(gnn.ReLU6(), gnn.Hardtanh)


def test_rrelu_module_draws_slopes_in_training_only():
    layer = gnn.RReLU(0.1, 0.3)
    x = to_tg(-torch.rand(4000) - 0.5, requires_grad=True)
    y = layer(x)
    slopes = to_torch(y.detach()) / to_torch(x.detach())
    assert 0.1 <= slopes.min().item() and slopes.max().item() <= 0.3 and slopes.std().item() > 0.04
    assert type(y.grad_fn).__name__ == "RreluWithNoiseBackward0"
    y.sum().backward()  # the gradient is each element's slope
    torch.testing.assert_close(to_torch(x.grad), slopes, rtol=1e-6, atol=0)
    assert not torch.equal(to_torch(layer(x).detach()), to_torch(y.detach())), "fresh slopes each call"
    layer.eval()
    assert torch.equal(to_torch(layer(x).detach()), torch.nn.functional.rrelu(to_torch(x.detach()), 0.1, 0.3))


def test_softmax_module_without_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        tg_out = gnn.Softmax()(to_tg(torch.randn(2, 3)))
    assert tg_out.shape == (2, 3)


# ============================================================================== dropout
def test_dropout_module_honours_training():
    torch_module, tg_module = tnn.Dropout(0.4), gnn.Dropout(0.4)
    same_repr(torch_module, tg_module)
    x = to_tg(torch.rand(20, 30) + 1)
    dropped = to_torch(tg_module(x)) == 0
    assert 0.25 < dropped.double().mean().item() < 0.55
    tg_module.eval()
    assert tg_module(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        gnn.Dropout(-0.1)


# ============================================================================== containers
def layers(nn):
    return [nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2)]


def test_sequential_forward_and_indexing():
    torch_seq, tg_seq = tnn.Sequential(*layers(tnn)), gnn.Sequential(*layers(gnn))
    same_repr(torch_seq, tg_seq)
    check_module(torch_seq, tg_seq, torch.randn(6, 3), grad_of=(0,))
    assert len(tg_seq) == 5
    assert isinstance(tg_seq[0], gnn.Linear) and tg_seq[-1] is tg_seq[4]
    assert [type(m).__name__ for m in tg_seq] == [type(m).__name__ for m in torch_seq]
    same_repr(torch_seq[1:4], tg_seq[1:4])
    assert isinstance(tg_seq[::2], gnn.Sequential)
    with pytest.raises(IndexError, match="index 5 is out of range"):
        tg_seq[5]
    x = tritongrad.randn(2, 3)
    assert_close(tg_seq[:2](x), to_torch(tg_seq[1](tg_seq[0](x))), "a slice runs its own layers")


def test_sequential_fuses_linear_relu_pairs_like_the_separate_layers():
    torch_seq = tnn.Sequential(tnn.Linear(5, 6), tnn.ReLU(), tnn.Linear(6, 4), tnn.ReLU(inplace=True))
    tg_seq = gnn.Sequential(gnn.Linear(5, 6), gnn.ReLU(), gnn.Linear(6, 4), gnn.ReLU(inplace=True))
    got = check_module(torch_seq, tg_seq, torch.randn(7, 5), grad_of=(0,))
    assert got.grad_fn.name() == "ReluBackward0", "the fused pair's node is named for its last op, as in torch"
    from benchmarks.common import count_tritongrad_launches

    x = tritongrad.randn(7, 5)
    launches = count_tritongrad_launches(lambda: tg_seq(x))
    assert launches == {"matmul_kernel": 2}, f"two Linear+ReLU pairs, two launches: {dict(launches)}"


def test_sequential_does_not_fuse_what_someone_could_observe():
    class MyReLU(gnn.ReLU):
        pass

    seen = []
    hooked = gnn.Linear(5, 6)
    hooked.register_forward_hook(lambda module, args, output: seen.append(output.grad_fn.name()))
    for model in (
        gnn.Sequential(hooked, gnn.ReLU()),  # the hook must see the Linear's own output
        gnn.Sequential(gnn.Linear(5, 6), MyReLU()),  # a subclass may compute something else
        gnn.Sequential(gnn.Linear(5, 6), gnn.Tanh(), gnn.ReLU()),  # not adjacent
    ):
        torch_model = tnn.Sequential(*[_torch_twin(m) for m in model])
        got = check_module(torch_model, model, torch.randn(3, 5), grad_of=(0,))
        assert got.grad_fn.name() == "ReluBackward0"
    assert seen == ["AddmmBackward0"], seen


def _torch_twin(module):
    if isinstance(module, gnn.Linear):
        return tnn.Linear(module.in_features, module.out_features)
    return {"ReLU": tnn.ReLU, "MyReLU": tnn.ReLU, "Tanh": tnn.Tanh}[type(module).__name__]()


def test_sequential_mutation_matches_torch():
    torch_seq, tg_seq = tnn.Sequential(*layers(tnn)), gnn.Sequential(*layers(gnn))
    for seq, nn in ((torch_seq, tnn), (tg_seq, gnn)):
        assert seq.append(nn.Sigmoid()) is seq
        seq.insert(1, nn.GELU())
        seq.extend([nn.Identity()])
        seq[0] = nn.Linear(3, 4, bias=False)
        del seq[2]
        del seq[-2:]
    same_repr(torch_seq, tg_seq)
    named_torch = tnn.Sequential(OrderedDict(encoder=tnn.Linear(2, 3), act=tnn.SiLU()))
    named_tg = gnn.Sequential(OrderedDict(encoder=gnn.Linear(2, 3), act=gnn.SiLU()))
    same_repr(named_torch, named_tg)
    same_repr(named_torch[1:], named_tg[1:])
    assert [n for n, _ in named_tg.named_parameters()] == ["encoder.weight", "encoder.bias"]
    same_repr(named_torch + tnn.Sequential(tnn.Tanh()), named_tg + gnn.Sequential(gnn.Tanh()))


def test_module_list_matches_torch():
    torch_list = tnn.ModuleList([tnn.Linear(2, 2) for _ in range(3)])
    tg_list = gnn.ModuleList([gnn.Linear(2, 2) for _ in range(3)])
    for modules, nn in ((torch_list, tnn), (tg_list, gnn)):
        modules.append(nn.ReLU())
        modules.extend([nn.ReLU(), nn.Tanh()])
        modules.insert(0, nn.Identity())
        modules += [nn.Linear(2, 1)]
        modules.pop(1)
        modules[-1] = nn.Linear(2, 3)
        del modules[0]
    same_repr(torch_list, tg_list)  # runs of identical reprs are folded: "(0-1): 2 x Linear(...)"
    assert len(tg_list) == len(torch_list)
    assert [n for n, _ in tg_list.named_parameters()] == [n for n, _ in torch_list.named_parameters()]
    same_repr(torch_list[1:3], tg_list[1:3])
    assert tg_list[-1].out_features == 3 and isinstance(tg_list[2], gnn.ReLU)
    with pytest.raises(NotImplementedError):
        tg_list(tritongrad.randn(2))


def test_module_dict_matches_torch():
    torch_dict = tnn.ModuleDict({"fc": tnn.Linear(2, 3), "act": tnn.ReLU()})
    tg_dict = gnn.ModuleDict({"fc": gnn.Linear(2, 3), "act": gnn.ReLU()})
    for modules, nn in ((torch_dict, tnn), (tg_dict, gnn)):
        modules["out"] = nn.Linear(3, 1)
        modules.update([("norm", nn.Identity())])
        del modules["act"]
    same_repr(torch_dict, tg_dict)
    assert list(tg_dict) == list(torch_dict) and list(tg_dict.keys()) == list(torch_dict.keys())
    assert "fc" in tg_dict and "act" not in tg_dict and len(tg_dict) == 3
    assert [n for n, _ in tg_dict.named_parameters()] == [n for n, _ in torch_dict.named_parameters()]
    assert isinstance(tg_dict.pop("norm"), gnn.Identity) and len(tg_dict) == 2
    assert [type(m).__name__ for m in tg_dict.values()] == ["Linear", "Linear"]


# ============================================================================== losses
def test_loss_modules_match_torch():
    logits, labels = torch.randn(6, 4), torch.tensor([0, 3, 1, -100, 2, 3])
    weight = torch.rand(4) + 0.1
    cases = [
        (tnn.MSELoss(), gnn.MSELoss(), (torch.randn(6, 4), torch.randn(6, 4))),
        (tnn.MSELoss(reduction="sum"), gnn.MSELoss(reduction="sum"), (torch.randn(5), torch.randn(5))),
        (tnn.CrossEntropyLoss(weight=weight, label_smoothing=0.1),
         gnn.CrossEntropyLoss(weight=to_tg(weight), label_smoothing=0.1), (logits, labels)),
        (tnn.CrossEntropyLoss(reduction="none"), gnn.CrossEntropyLoss(reduction="none"), (logits, labels)),
        (tnn.NLLLoss(ignore_index=3), gnn.NLLLoss(ignore_index=3),
         (torch.log_softmax(logits, 1), labels.abs() % 4)),
        (tnn.BCEWithLogitsLoss(pos_weight=weight), gnn.BCEWithLogitsLoss(pos_weight=to_tg(weight)),
         (logits, torch.rand(6, 4))),
    ]  # fmt: skip
    for torch_loss, tg_loss, inputs in cases:
        same_repr(torch_loss, tg_loss)
        assert list(tg_loss.state_dict()) == list(torch_loss.state_dict())
        check_module(torch_loss, tg_loss, *inputs, grad_of=(0,))
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert gnn.MSELoss(size_average=False).reduction == "sum"
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        gnn.MSELoss(reduction="avg")(tritongrad.ones(2), tritongrad.ones(2))


# ============================================================================== init
def test_gains_and_fans_match_torch():
    cases = [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
             ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)]  # fmt: skip
    for nonlinearity, param in cases:
        assert gnn.init.calculate_gain(nonlinearity, param) == tnn.init.calculate_gain(nonlinearity, param)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        gnn.init.calculate_gain("softsign")
    for shape in ((5, 3), (4, 2, 3, 3)):
        got = gnn.init._calculate_fan_in_and_fan_out(tritongrad.empty(*shape))
        assert got == tnn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        gnn.init.xavier_uniform_(tritongrad.empty(3))


INITS = {
    # name: (call, expected bound (uniform) or std (normal), "uniform"/"normal"), for a (300, 200) weight
    "uniform": (lambda w: gnn.init.uniform_(w, -0.3, 0.5), (-0.3, 0.5), "uniform"),
    "normal": (lambda w: gnn.init.normal_(w, 0.2, 0.7), (0.2, 0.7), "normal"),
    "xavier_uniform": (lambda w: gnn.init.xavier_uniform_(w, gain=2.0), 2.0 * math.sqrt(6 / 500), "uniform"),
    "xavier_normal": (lambda w: gnn.init.xavier_normal_(w), math.sqrt(2 / 500), "normal"),
    "kaiming_uniform": (
        lambda w: gnn.init.kaiming_uniform_(w, nonlinearity="relu"),
        math.sqrt(6 / 200),
        "uniform",
    ),
    "kaiming_normal": (
        lambda w: gnn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
        math.sqrt(2 / 300),
        "normal",
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", list(INITS))
def test_random_inits_draw_the_right_distribution(name):
    call, expected, kind = INITS[name]
    weight = gnn.Parameter(tritongrad.empty(300, 200))
    assert call(weight) is weight
    assert weight.is_leaf and weight.requires_grad and weight.grad_fn is None
    values = to_torch(weight).double()
    if kind == "uniform":
        low, high = expected if isinstance(expected, tuple) else (-expected, expected)
        assert low <= values.min().item() and values.max().item() <= high
        assert values.min().item() < low + 0.01 * (high - low) and values.max().item() > high - 0.01 * (high - low)
        assert abs(values.mean().item() - (low + high) / 2) < 0.01 * (high - low)
    else:
        mean, std = expected if isinstance(expected, tuple) else (0.0, expected)
        assert abs(values.mean().item() - mean) < 0.02 * std
        assert abs(values.std().item() - std) < 0.02 * std


def test_constant_inits():
    weight = gnn.Parameter(tritongrad.empty(3, 4))
    assert_close(gnn.init.constant_(weight, 0.25), torch.full((3, 4), 0.25), "constant_")
    assert_close(gnn.init.ones_(weight), torch.ones(3, 4), "ones_")
    assert_close(gnn.init.zeros_(weight), torch.zeros(3, 4), "zeros_")
    assert weight.is_leaf and weight.requires_grad
    with pytest.warns(UserWarning, match="zero-element"):
        gnn.init.kaiming_uniform_(tritongrad.empty(0, 3))


# ============================================================================== training end to end
def test_mlp_trains_like_torch():
    """Three SGD steps of Linear-GELU-Dropout(eval)-Linear with cross entropy: same losses and weights."""

    def model(nn):
        return nn.Sequential(nn.Linear(5, 8), nn.GELU(), nn.Dropout(0.5), nn.Linear(8, 3))

    torch_model, tg_model = model(tnn), model(gnn)
    copy_weights(torch_model, tg_model)
    torch_model.eval()
    tg_model.eval()
    torch_opt = torch.optim.SGD(torch_model.parameters(), lr=0.5, momentum=0.9)
    tg_opt = tritongrad.optim.SGD(tg_model.parameters(), lr=0.5, momentum=0.9)
    features, labels = torch.randn(16, 5), torch.randint(0, 3, (16,))
    for step in range(3):
        for opt in (torch_opt, tg_opt):
            opt.zero_grad()
        want = tnn.functional.cross_entropy(torch_model(features), labels)
        got = gnn.functional.cross_entropy(tg_model(to_tg(features)), to_tg(labels))
        assert_close(got, want, f"loss at step {step}")
        want.backward()
        got.backward()
        torch_opt.step()
        tg_opt.step()
    for (name, g), (_, t) in zip(tg_model.named_parameters(), torch_model.named_parameters()):
        assert_close(g, t, f"{name} after 3 steps")


@pytest.mark.parametrize("name", ["uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                                  "kaiming_normal_"])  # fmt: skip
def test_init_functions_draw_from_the_generator_given(name):
    """Two generators seeded alike give the same weights; the default generator is not touched."""
    init = getattr(tritongrad.nn.init, name)
    tritongrad.manual_seed(123)
    before = tritongrad.rand(3).tolist()
    tritongrad.manual_seed(123)
    first, second = tritongrad.empty(4, 5), tritongrad.empty(4, 5)
    init(first, generator=tritongrad.Generator().manual_seed(7))
    init(second, generator=tritongrad.Generator().manual_seed(7))
    assert first.tolist() == second.tolist()
    assert tritongrad.rand(3).tolist() == before
