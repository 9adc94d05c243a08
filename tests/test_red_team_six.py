"""Session 15's findings (the sixth red-team round and the session's own list), each compared with
torch by ``agree``: the value, the dtype, or the exception type and the head of its message."""

from __future__ import annotations

import pytest

from tests.test_hardening import agree


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
