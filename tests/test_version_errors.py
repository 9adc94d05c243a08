"""The error for a saved tensor written in place before backward, in torch's words: the tensor's type and
shape, the node whose output it is now (the saving node for a saved output, the regenerated AsStrided
history for a view whose base was written, none for a leaf), the versions, and anomaly mode's hint."""

from __future__ import annotations

import pytest

from tests.test_hardening import agree


def _leaf(lib):
    return lib.tensor([0.5, -1.0, 2.0], requires_grad=True)


CASES = {
    "a saved output": lambda lib, x: (lambda y: (y.add_(1), y.sum().backward()))(x.exp()),
    "a saved input, written since": lambda lib, x: (lambda y: (lambda z: (y.add_(1), z.sum().backward()))(y * y))(
        x * 2
    ),
    "a saved sigmoid output, written": lambda lib, x: (lambda z: (z.mul_(2), z.sum().backward()))(x.clone().sigmoid()),
    "a view whose base was written": lambda lib, x: (
        lambda y: (lambda z: (y.add_(1), z.sum().backward()))(y[:2].sin())
    )(x * 2),
    "a base written through setitem": lambda lib, x: (
        lambda y: (lambda z: (y.__setitem__(0, 1.0), z.sum().backward()))(y.sin())
    )(x * 2),
    "a leaf not requiring grad": lambda lib, x: (lambda w: (lambda z: (w.add_(1), z.sum().backward()))(x * w))(
        lib.ones(3)
    ),
}


@pytest.mark.parametrize("anomaly", [False, True])
@pytest.mark.parametrize("name", list(CASES))
def test_modified_saved_tensor_message(name, anomaly):
    def run(lib):
        x = _leaf(lib)
        with lib.autograd.set_detect_anomaly(anomaly):
            CASES[name](lib, x)

    agree(name, run, [])


SAMPLERS = {
    "rand": lambda lib: lib.rand(2),
    "randn": lambda lib: lib.randn(2, requires_grad=True),
    "randint": lambda lib: lib.randint(3, (2,)),
    "rand_like": lambda lib: lib.rand_like(lib.ones(2)),
    "randn_like": lambda lib: lib.randn_like(lib.ones(2)),
    "randint_like": lambda lib: lib.randint_like(lib.ones(2), 3),
    "normal of numbers": lambda lib: lib.normal(0.0, 1.0, (2,)),
    "normal of tensors": lambda lib: lib.normal(lib.zeros(2), 1.0),
    "bernoulli": lambda lib: lib.bernoulli(lib.full((2,), 0.5)),
    "bernoulli with p": lambda lib: lib.bernoulli(lib.ones(2), 0.5),
    "multinomial": lambda lib: lib.multinomial(lib.ones(3), 2),
    "randperm": lambda lib: lib.randperm(3),
    "an in-place fill counts": lambda lib: lib.empty(2).uniform_(),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_a_new_sample_is_at_version_zero(name):
    """A sampler's own fill of the tensor it returns is no write anyone saw: version 0, as torch's (a saved
    sample's version error then names the versions torch names)."""
    agree(name, lambda lib: SAMPLERS[name](lib)._version, [])
