"""What a backward saves, as torch saves it (seventh red-team round): an operand is saved only for the
gradient that reads it, so a write into it after the forward, or a second backward, is an error only
where torch's is; and module backward hooks see torch's grad_input / grad_output. Each case is
compared with torch by ``agree``: the value and gradients, or the exception type and message."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
from tests.test_hardening import agree

_ERROR_CASES = ("write", "twice")


def _after(lib, make, operands, needs, case):
    """``make(lib, *operands)`` summed, then: a write into each operand that does not need a gradient
    and into an intermediate copy of each that does ("write"), or a second backward ("twice"). Returns
    the gradients of the leaves."""
    leaves = [lib.tensor(v, requires_grad=need) for v, need in zip(operands, needs)]
    used = [leaf * 1 if need else leaf for leaf, need in zip(leaves, needs)]
    loss = make(lib, *used).sum()
    if case == "write":
        for tensor in used:
            tensor.mul_(2)
        loss.backward()
    else:
        loss.backward()
        loss.backward()
    return tuple(leaf.grad for leaf, need in zip(leaves, needs) if need)


_A, _B, _C = [1.0, 2.5, -3.0], [1.5, -0.75, 2.0], [0.5, 1.0, -2.0]
_M = [[1.0, 2.0, -1.0], [0.5, -0.5, 3.0]]

_BINARY = {
    "fmod_scalar": (lambda lib, a: a.fmod(1.5), [_A]),
    "remainder_scalar": (lambda lib, a: a.remainder(1.5), [_A]),
    "mod_operator": (lambda lib, a: a % 1.5, [_A]),
    "fmod": (lambda lib, a, b: lib.fmod(a, b), [_A, _B]),
    "remainder": (lambda lib, a, b: lib.remainder(a, b), [_A, _B]),
    "dot": (lambda lib, a, b: lib.dot(a, b), [_A, _B]),
    "matmul_1d": (lambda lib, a, b: a.matmul(b), [_A, _B]),
    "mul": (lambda lib, a, b: a * b, [_A, _B]),
    "div": (lambda lib, a, b: a / b, [_A, _B]),
    "linear": (lambda lib, x, w: lib.nn.functional.linear(x, w), [_M, _M]),
    "linear_bias": (lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), [_M, _M, [0.5, -1.0]]),
    "mm": (lambda lib, a, b: a.mm(b.t()), [_M, _M]),
    "mv": (lambda lib, a, b: lib.mv(a, b), [_M, _A]),
    "bmm": (lambda lib, a, b: lib.bmm(a.unsqueeze(0), b.t().unsqueeze(0)), [_M, _M]),
    "addmm": (lambda lib, c, a, b: lib.addmm(c, a, b.t()), [[0.5, -1.0], _M, _M]),
    "addcmul": (lambda lib, c, a, b: lib.addcmul(c, a, b, value=0.5), [_C, _A, _B]),
    "addcdiv": (lambda lib, c, a, b: lib.addcdiv(c, a, b, value=0.5), [_C, _A, _B]),
}


def _needs_patterns(count: int) -> list[tuple[bool, ...]]:
    patterns = [tuple(bool(bits >> i & 1) for i in range(count)) for bits in range(1, 2**count)]
    return patterns


_CASES = [
    pytest.param(name, needs, case, id=f"{name}-{''.join('g' if n else '-' for n in needs)}-{case}")
    for name, (_, operands) in _BINARY.items()
    for needs in _needs_patterns(len(operands))
    for case in _ERROR_CASES
]


@pytest.mark.parametrize(("name", "needs", "case"), _CASES)
def test_saved_only_for_the_gradient_that_reads_it(name, needs, case):
    make, operands = _BINARY[name]
    agree(f"{name} {needs} {case}", lambda lib: _after(lib, make, operands, needs, case), [])


def test_number_dividend_has_no_derivative():
    agree("remainder(5, x)", lambda lib: lib.remainder(5, lib.tensor(_B, requires_grad=True)).sum().backward(), [])


@pytest.mark.parametrize("dims", [1, 3])
@pytest.mark.parametrize("needs", [(True, False), (False, True), (True, True)])
def test_linear_backward_again_with_retained_graph(needs, dims):
    """A second backward (retain_graph) of a linear whose unsaved operand's buffer is gone."""

    def run(lib):
        x = lib.tensor(_M, requires_grad=needs[0])
        x = x.unsqueeze(0).expand(2, 2, 3) * 1 if dims == 3 else x
        w = lib.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], requires_grad=needs[1])
        b = lib.tensor([0.25, -0.5], requires_grad=True)
        loss = (lib.nn.functional.linear(x, w, b) ** 2).sum()
        loss.backward(retain_graph=True)
        loss.backward()
        return tuple(t.grad for t in (x if dims == 1 else None, w, b) if t is not None and t.requires_grad)

    agree(f"linear twice {needs}", run, [])


@pytest.mark.parametrize("first_needs_grad", [False, True])
def test_fused_linear_relu_backward_again(first_needs_grad):
    """nn.Sequential's fused Linear+ReLU, backward twice with the input needing no gradient."""

    def run(lib):
        lib.manual_seed(0)
        layer = lib.nn.Linear(3, 2)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor([[0.1, 0.2, 0.3], [0.4, -0.5, 0.6]]))
            layer.bias.copy_(lib.tensor([0.1, -0.2]))
        model = lib.nn.Sequential(layer, lib.nn.ReLU())
        x = lib.tensor(_M, requires_grad=first_needs_grad)
        loss = model(x).sum()
        loss.backward(retain_graph=True)
        loss.backward()
        return layer.weight.grad, layer.bias.grad

    agree("linear relu twice", run, [])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
@pytest.mark.parametrize("case", _ERROR_CASES)
def test_pad_saves_as_torch(mode, case):
    def pad(lib, x):
        return lib.nn.functional.pad(x.reshape(1, 1, 3), (1, 2 if mode != "reflect" else 1), mode=mode)

    agree(f"pad {mode} {case}", lambda lib: _after(lib, pad, [_A], (True,), case), [])


# ---------------------------------------------------------------------------------- module backward hooks


def _hooked(lib, module, register="register_full_backward_hook"):
    """``module`` with a hook that records what it receives (as lists; None stays None)."""
    record = []

    def hook(mod, grad_input, grad_output):
        record.append(
            (
                [None if g is None else g.tolist() for g in grad_input],
                [None if g is None else g.tolist() for g in grad_output],
            )
        )

    getattr(module, register)(hook)
    return record


def _multiply_module(lib):
    class Multiply(lib.nn.Module):
        def forward(self, a, b):
            return a * b

    return Multiply()


def _two_outputs(lib):
    class TwoOutputs(lib.nn.Module):
        def forward(self, a):
            return a * 2, a * 3

    return TwoOutputs()


def _number_argument(lib):
    class Scale(lib.nn.Module):
        def forward(self, a, k):
            return a * k

    return Scale()


def _hook_multiply(lib, b_needs):
    module = _multiply_module(lib)
    record = _hooked(lib, module)
    x = lib.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    y = module(x, lib.tensor([[0.5, 1.0, 2.0]], requires_grad=b_needs))
    y.sum().backward()
    return record, type(y.grad_fn).__name__


def _hook_two_outputs(lib):
    module = _two_outputs(lib)
    record = _hooked(lib, module)
    first, _ = module(lib.tensor([1.0, 2.0], requires_grad=True))
    first.sum().backward()
    return record


def _hook_number_argument(lib):
    module = _number_argument(lib)
    record = _hooked(lib, module)
    module(lib.tensor([1.0, 2.0], requires_grad=True), 3).sum().backward()
    return record


def _hook_lstm(lib):
    lib.manual_seed(0)
    lstm = lib.nn.LSTM(2, 3)
    record = []
    lstm.register_full_backward_hook(
        lambda mod, gi, go: record.append((len(gi), [None if g is None else list(g.shape) for g in go]))
    )
    output, _ = lstm(lib.ones(1, 1, 2, requires_grad=True))
    output.sum().backward()
    return record


def _hook_no_input_grad(lib, returned):
    module = lib.nn.Linear(3, 2)
    record = []

    def hook(mod, grad_input, grad_output):
        record.append((grad_input, len(grad_output)))
        return returned(lib)

    module.register_full_backward_hook(hook)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module(lib.ones(1, 3)).sum().backward()
    return record


def _hook_replaces(lib):
    module = _multiply_module(lib)
    module.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 10, gi[1]))
    module.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0, 4.0], requires_grad=True)
    module(x, b).sum().backward()
    return x.grad, b.grad


def _legacy_linear(lib, x_needs):
    layer = lib.nn.Linear(3, 2)
    record = []
    layer.register_backward_hook(
        lambda mod, gi, go: record.append(([None if g is None else list(g.shape) for g in gi], len(go)))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer(lib.ones(4, 3, requires_grad=x_needs)).sum().backward()
    return record


def _legacy_replaces(lib):
    layer = lib.nn.Linear(3, 2)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor([[0.1, 0.2, 0.3], [0.4, -0.5, 0.6]]))
    layer.register_backward_hook(lambda mod, gi, go: (gi[0], gi[1], gi[2] * 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer(lib.tensor(_M)).sum().backward()
    return layer.weight.grad


def _mixed_kinds(lib, full_first):
    layer = lib.nn.Linear(3, 2)
    first, second = ("register_full_backward_hook", "register_backward_hook")[:: 1 if full_first else -1]
    getattr(layer, first)(lambda *args: None)
    getattr(layer, second)(lambda *args: None)


_HOOK_CASES = {
    "input_without_grad": lambda lib: _hook_multiply(lib, False),
    "both_inputs": lambda lib: _hook_multiply(lib, True),
    "unused_output": _hook_two_outputs,
    "number_argument": _hook_number_argument,
    "lstm_output_structure": _hook_lstm,
    "no_input_grad_none": lambda lib: _hook_no_input_grad(lib, lambda lib: None),
    "no_input_grad_nones": lambda lib: _hook_no_input_grad(lib, lambda lib: (None,)),
    "no_input_grad_returns": lambda lib: _hook_no_input_grad(lib, lambda lib: (lib.ones(1, 3),)),
    "replacements": _hook_replaces,
    "legacy_linear": lambda lib: _legacy_linear(lib, True),
    "legacy_linear_input_without_grad": lambda lib: _legacy_linear(lib, False),
    "legacy_replaces_weight_t": _legacy_replaces,
    "full_then_legacy": lambda lib: _mixed_kinds(lib, True),
    "legacy_then_full": lambda lib: _mixed_kinds(lib, False),
}


@pytest.mark.parametrize("name", list(_HOOK_CASES))
def test_module_backward_hooks(name):
    agree(name, _HOOK_CASES[name], [])


def test_no_input_grad_warns_at_the_callers_line():
    for lib in (torch, tritongrad):
        module = lib.nn.Linear(3, 2)
        module.register_full_backward_hook(lambda *args: None)
        with pytest.warns(UserWarning, match="Full backward hook is firing") as caught:
            module(lib.ones(1, 3)).sum().backward()
        assert caught[0].filename == __file__


def _legacy_beside_pre_hook(lib):
    layer = lib.nn.Linear(3, 2)
    record = []
    layer.register_full_backward_pre_hook(lambda mod, go: record.append(len(go)))
    layer.register_backward_hook(lambda mod, gi, go: record.append(len(gi)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer(lib.ones(4, 3, requires_grad=True)).sum().backward()
    return record


def test_legacy_hook_beside_full_pre_hook():
    agree("legacy beside pre hook", _legacy_beside_pre_hook, [])
