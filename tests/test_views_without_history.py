"""A view with no history of its own (made under no_grad, or before its base was set to require grad)
requires grad when its base does, as torch's: ops on it record, no gradient reaches it or its base, and
writing it in place with grad mode on is refused with torch's message for how it was made."""

from __future__ import annotations

import pytest

from tests.test_hardening import agree


def _no_grad_view(lib, base):
    with lib.no_grad():
        return base[:2]


def _inference_view(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with lib.inference_mode():
        return x[:2]


def _leaf(lib):
    return lib.tensor([1.0, 2.0, 3.0], requires_grad=True)


def _backward_through(lib, view, base):
    z = (view * 2).sum()
    z.backward()
    return z.requires_grad, view.grad, base.grad


CASES = {
    "no_grad view of a leaf: flags": lambda lib: (lambda v: (v.requires_grad, v.is_leaf, v.grad_fn is None, repr(v)))(
        _no_grad_view(lib, _leaf(lib))
    ),
    "no_grad view of a leaf: backward reaches nothing": lambda lib: (
        lambda x: _backward_through(lib, _no_grad_view(lib, x), x)
    )(_leaf(lib)),
    "no_grad view of a leaf: in place with grad mode on": lambda lib: _no_grad_view(lib, _leaf(lib)).mul_(2),
    "no_grad view of a non-leaf: in place": lambda lib: _no_grad_view(lib, _leaf(lib) * 1).add_(1),
    "no_grad view of a non-leaf: mixed with its base": lambda lib: (
        lambda x: ((_no_grad_view(lib, x * 1) * 3).sum() + (x * 2).sum()).backward() or x.grad
    )(_leaf(lib)),
    "no_grad view: in place under no_grad": lambda lib: (
        lambda x: (lib.no_grad().__enter__(), _no_grad_view(lib, x).mul_(1), lib.set_grad_enabled(True), x._version)[-1]
    )(_leaf(lib)),
    "no_grad view of a detached tensor": lambda lib: _no_grad_view(lib, _leaf(lib).detach()).requires_grad,
    "a whole-tensor view under no_grad": lambda lib: (lambda v: (v.requires_grad, v.is_leaf))(
        (lambda x: [lib.no_grad().__enter__(), x.view(3), lib.set_grad_enabled(True)][1])(_leaf(lib))
    ),
    "view made before requires_grad_: flags": lambda lib: (
        lambda x: (lambda w: (x.requires_grad_(), w.requires_grad, w.grad_fn is None, w.is_leaf)[1:])(x[:2])
    )(lib.tensor([1.0, 2.0, 3.0])),
    "view made before requires_grad_: in place": lambda lib: (
        lambda x: (lambda w: (x.requires_grad_(), w.mul_(2)))(x[:2])
    )(lib.tensor([1.0, 2.0, 3.0])),
    "view made before requires_grad_: backward": lambda lib: (
        lambda x: (lambda w: (x.requires_grad_(), _backward_through(lib, w, x))[1])(x[:2])
    )(lib.tensor([1.0, 2.0, 3.0])),
    "inference-mode view of a leaf": lambda lib: (lambda v: (v.requires_grad, v.is_leaf))(_inference_view(lib)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_views_without_history(name):
    def run(lib):
        try:
            return CASES[name](lib)
        finally:
            lib.set_grad_enabled(True)

    agree(name, run, [])
