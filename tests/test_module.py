"""nn.Module's API against torch.nn.Module: the same architecture is built with both libraries
(``build(lib)``) and everything observable is compared: registration, traversal order and names,
state dicts and their loading errors, modes, gradients, dtype conversion, hooks and the repr.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict

import pytest
import torch

import tritongrad
from tests.autograd_utils import assert_close, to_tg, to_torch


def build(lib):
    """A small model touching every registration path: parameters, buffers, children, containers."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.scale = nn.Parameter(lib.ones(4))
            self.register_buffer("running", lib.zeros(4))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)
            self.act = nn.GELU(approximate="tanh")

        def forward(self, x):
            return self.act(self.fc(x)) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(3, 4, bias=False)
            self.blocks = nn.ModuleList([Block(), Block()])
            self.heads = nn.ModuleDict({"out": nn.Linear(4, 2), "aux": nn.Identity()})
            self.drop = nn.Dropout(0.25)
            self.tail = nn.Sequential(nn.ReLU(), nn.Flatten(0), nn.Softmax(dim=-1))

        def forward(self, x):
            x = self.embed(x)
            for block in self.blocks:
                x = block(x)
            return self.tail(self.heads["out"](self.drop(x)))

    return Net()


def copy_weights(torch_model, tg_model):
    """Loads torch's (random) state into the tritongrad model, so both compute the same function."""
    tg_model.load_state_dict({name: to_tg(value) for name, value in torch_model.state_dict().items()})


def both():
    torch_model, tg_model = build(torch), build(tritongrad)
    copy_weights(torch_model, tg_model)
    return torch_model, tg_model


def test_registration_and_traversal_match_torch():
    torch_model, tg_model = both()
    assert [n for n, _ in tg_model.named_parameters()] == [n for n, _ in torch_model.named_parameters()]
    assert [n for n, _ in tg_model.named_buffers()] == [n for n, _ in torch_model.named_buffers()]
    assert [n for n, _ in tg_model.named_modules()] == [n for n, _ in torch_model.named_modules()]
    assert [n for n, _ in tg_model.named_children()] == [n for n, _ in torch_model.named_children()]
    assert [type(m).__name__ for m in tg_model.modules()] == [type(m).__name__ for m in torch_model.modules()]
    assert [type(m).__name__ for m in tg_model.children()] == [type(m).__name__ for m in torch_model.children()]
    assert list(tg_model.state_dict()) == list(torch_model.state_dict())
    assert len(list(tg_model.parameters())) == len(list(torch_model.parameters()))
    assert len(list(tg_model.parameters(recurse=False))) == 0
    for (name, got), (_, want) in zip(tg_model.named_parameters(), torch_model.named_parameters()):
        assert isinstance(got, tritongrad.nn.Parameter) and got.requires_grad
        assert_close(got, want, name)


def test_attribute_rules():
    nn = tritongrad.nn
    module = nn.Module()
    module.weight = nn.Parameter(tritongrad.ones(2))
    module.child = nn.Linear(2, 2)
    module.plain = tritongrad.zeros(2)  # a plain tensor attribute is not registered
    assert list(module._parameters) == ["weight"] and list(module._modules) == ["child"]
    assert [n for n, _ in module.named_parameters()] == ["weight", "child.weight", "child.bias"]
    with pytest.raises(TypeError, match="cannot assign"):
        module.weight = tritongrad.ones(2)
    module.weight = None
    assert module.weight is None and [n for n, _ in module.named_parameters()] == [
        "child.weight",
        "child.bias",
    ]
    del module.child
    assert not hasattr(module, "child")
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        module.register_buffer("plain", tritongrad.zeros(1))
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        _ = module.missing

    class Early(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(tritongrad.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    # Reassigning a registered name keeps its place in the order, like torch.
    for lib in (torch, tritongrad):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU())
        model[0] = lib.nn.Linear(2, 3)
        model[0].bias = lib.nn.Parameter(lib.zeros(3))
        assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
        assert [type(m).__name__ for m in model] == ["Linear", "ReLU"]
    # A parameter shared by two children is listed once, like torch.
    shared = nn.Linear(2, 2)
    pair = nn.Sequential(shared, shared)
    assert len(list(pair.parameters())) == 2 and len(list(pair.modules())) == 2


def test_forward_matches_torch():
    torch_model, tg_model = both()
    torch_model.eval()
    tg_model.eval()
    x = torch.randn(3)
    assert_close(tg_model(to_tg(x)), torch_model(x), "forward")


def test_state_dict_round_trip_and_values():
    torch_model, tg_model = both()
    state = tg_model.state_dict()
    for name, value in torch_model.state_dict().items():
        assert not state[name].requires_grad
        assert_close(state[name], value, name)
    fresh = build(tritongrad)
    result = fresh.load_state_dict(state)
    assert repr(result) == "<All keys matched successfully>"
    for (name, got), (_, want) in zip(fresh.named_parameters(), tg_model.named_parameters()):
        assert_close(got, to_torch(want), name)


def load_errors(lib_model, state, **kwargs):
    with pytest.raises(RuntimeError) as error:
        lib_model.load_state_dict(state, **kwargs)
    return str(error.value)


def test_load_state_dict_errors_match_torch():
    torch_model, tg_model = both()
    torch_state = torch_model.state_dict()
    tg_state = tg_model.state_dict()
    # Missing and unexpected keys, and a shape mismatch, all reported together.
    for state in (torch_state, tg_state):
        del state["embed.weight"]
        state["blocks.0.extra"] = state["blocks.0.scale"]
    torch_state["heads.out.bias"] = torch.zeros(3)
    tg_state["heads.out.bias"] = tritongrad.zeros(3)
    assert load_errors(tg_model, tg_state) == load_errors(torch_model, torch_state)
    # strict=False still refuses the shape mismatch ...
    assert load_errors(tg_model, tg_state, strict=False) == load_errors(torch_model, torch_state, strict=False)
    # ... and without it returns the key lists torch returns.
    torch_state["heads.out.bias"] = torch.zeros(2)
    tg_state["heads.out.bias"] = tritongrad.zeros(2)
    got = tg_model.load_state_dict(tg_state, strict=False)
    want = torch_model.load_state_dict(torch_state, strict=False)
    assert got.missing_keys == want.missing_keys and got.unexpected_keys == want.unexpected_keys
    assert repr(got) == repr(want)


def test_train_eval_and_dropout_mode():
    _, model = both()
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    x = tritongrad.randn(3)
    assert_close(model(x), to_torch(model(x)), "eval mode is deterministic")
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        model.train("yes")


def test_zero_grad_and_requires_grad_():
    _, model = both()
    model.eval()
    model(tritongrad.randn(3)).sum().backward()
    parameters = list(model.parameters())
    assert all(p.grad is not None for p in parameters)
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not bool(p.grad.any()) for p in parameters)
    model.zero_grad()
    assert all(p.grad is None for p in parameters)
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in parameters)
    assert not model(tritongrad.randn(3)).requires_grad


def test_to_dtype_keeps_parameter_objects():
    torch_model, tg_model = both()
    weight = tg_model.embed.weight
    tg_model.eval()(tritongrad.randn(3)).sum().backward()
    assert tg_model.to(torch.float64) is tg_model
    torch_model.to(torch.float64)
    assert tg_model.embed.weight is weight, "to() must update parameters in place, like torch"
    assert weight.dtype == torch.float64 and weight.grad.dtype == torch.float64 and weight.is_leaf
    assert [b.dtype for b in tg_model.buffers()] == [b.dtype for b in torch_model.buffers()]
    x = torch.randn(3, dtype=torch.float64)
    assert_close(tg_model(to_tg(x)), torch_model.eval()(x), "float64 forward")
    tg_model.float()
    assert all(p.dtype == torch.float32 for p in tg_model.parameters())
    with pytest.raises(
        TypeError, match="only accepts floating point or complex dtypes, but got desired dtype=torch.int32"
    ):
        tg_model.to(torch.int32)


def test_apply_visits_children_first():
    torch_model, tg_model = both()
    torch_order, tg_order = [], []
    torch_model.apply(lambda m: torch_order.append(type(m).__name__))
    assert tg_model.apply(lambda m: tg_order.append(type(m).__name__)) is tg_model
    assert tg_order == torch_order


def test_forward_hooks():
    layer = tritongrad.nn.Linear(3, 2)
    seen = []
    handle = layer.register_forward_hook(lambda module, args, output: seen.append((module, args, output)))
    x = tritongrad.randn(4, 3)
    y = layer(x)
    assert len(seen) == 1 and seen[0][0] is layer and seen[0][1][0] is x and seen[0][2] is y
    replaced = layer.register_forward_hook(lambda module, args, output: output * 0)
    assert not bool(layer(x).any())
    replaced.remove()
    handle.remove()
    layer(x)
    assert len(seen) == 2  # the hook ran for the second call only, before its removal
    doubled = layer.register_forward_pre_hook(lambda module, args: (args[0] * 2,))
    got = layer(x)
    doubled.remove()
    assert_close(got, to_torch(layer(x * 2)), "pre-hook replaced the input")


def repr_pair(build_model):
    torch_model, tg_model = build_model(torch), build_model(tritongrad)
    assert repr(tg_model) == repr(torch_model), f"\n--- tritongrad:\n{tg_model}\n--- torch:\n{torch_model}"


def test_repr_matches_torch():
    repr_pair(lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2)))
    repr_pair(build)
    repr_pair(
        lambda lib: lib.nn.Sequential(
            OrderedDict(fc=lib.nn.Linear(2, 2, bias=False), act=lib.nn.LeakyReLU(0.2, inplace=True))
        )
    )
    repr_pair(lambda lib: lib.nn.ModuleList([lib.nn.Linear(2, 2)] * 3 + [lib.nn.Tanh(), lib.nn.Tanh()]))
    repr_pair(lambda lib: lib.nn.Module())


def _model_with_parameter_containers(lib):
    class Model(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = lib.nn.ParameterList([lib.ones(2, 3), lib.nn.Parameter(lib.zeros(4))])
            self.named = lib.nn.ParameterDict({"scale": lib.ones(1)})

    return Model()


def test_parameter_list_and_dict_register_their_parameters_like_torch():
    for lib in (torch, tritongrad):
        model = _model_with_parameter_containers(lib)
        model.weights.append(lib.ones(5))
        model.named["shift"] = lib.nn.Parameter(lib.zeros(2))
        names = [name for name, _ in model.named_parameters()]
        assert names == ["weights.0", "weights.1", "weights.2", "named.scale", "named.shift"], (lib, names)
        assert all(isinstance(p, lib.nn.Parameter) for p in model.weights)
        assert len(model.weights) == 3 and [tuple(p.shape) for p in model.weights[1:]] == [(4,), (5,)]
        assert list(model.named.keys()) == ["scale", "shift"] and "scale" in model.named
        assert sorted(model.state_dict()) == sorted(names)


def _backward_hook_transcript(lib):
    """What full backward (pre-)hooks see, and what a replacing hook does, on a Linear."""
    linear = lib.nn.Linear(3, 2)
    with lib.no_grad():
        linear.weight.copy_(lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        linear.bias.fill_(0.5)
    log = []
    describe = lambda grads: [None if g is None else g.tolist() for g in grads]  # noqa: E731
    first = linear.register_full_backward_hook(lambda m, gi, go: log.append(("hook", describe(gi), describe(go))))
    linear.register_full_backward_pre_hook(lambda m, go: log.append(("pre", describe(go))))
    x = lib.tensor([[1.0, 1.0, 1.0]], requires_grad=True)
    (linear(x) * lib.tensor([[1.0, 2.0]])).sum().backward()
    log.append(x.grad.tolist())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        linear(lib.tensor([[1.0, 1.0, 1.0]])).sum().backward()  # no input needs a gradient
    log.append([str(w.message)[:40] for w in caught])
    first.remove()
    linear.register_full_backward_hook(lambda m, gi, go: (gi[0] * 10,))
    x = lib.tensor([[1.0, 1.0, 1.0]], requires_grad=True)
    linear(x).sum().backward()
    log.append(x.grad.tolist())
    return log


def test_full_backward_hooks_match_torch():
    assert _backward_hook_transcript(tritongrad) == _backward_hook_transcript(torch)


def _hook_options_transcript(lib):
    shared = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU())
    shared[1] = shared[0]
    names = [[n for n, _ in shared.named_parameters()], [n for n, _ in shared.named_parameters(remove_duplicate=False)]]
    order = []
    module = lib.nn.Linear(2, 2)
    module.register_forward_hook(lambda *a: order.append("second"))
    module.register_forward_hook(lambda *a: order.append("first"), prepend=True)
    module.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] * 0,), kwargs), with_kwargs=True)
    module.register_forward_hook(lambda m, args, kwargs, out: out - m.bias, with_kwargs=True)
    out = module(lib.ones(1, 2))
    return [names, order, out.tolist()]


def test_named_parameters_with_duplicates_and_hook_options_match_torch():
    assert _hook_options_transcript(tritongrad) == _hook_options_transcript(torch)
