"""Grad mode switches against torch's: no_grad, enable_grad, set_grad_enabled, inference_mode,
is_grad_enabled; as context managers, as decorators (with and without parentheses, on
generator functions), nested, and restored after exceptions."""

from __future__ import annotations

import threading

import pytest
import torch

import tritongrad
from tests.autograd_utils import run_both


def context_managers(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    seen = [lib.is_grad_enabled(), (x * 2).requires_grad]
    with lib.no_grad():
        y = x * 2
        seen += [lib.is_grad_enabled(), y.requires_grad, y.grad_fn is None, y.is_leaf]
        with lib.enable_grad():
            seen += [lib.is_grad_enabled(), (x * 2).requires_grad]
            with lib.no_grad():
                seen.append((x * 2).requires_grad)
            seen.append((x * 2).requires_grad)
        seen.append((x * 2).requires_grad)
        with lib.set_grad_enabled(True):
            seen.append((x * 2).requires_grad)
    seen.append((x * 2).requires_grad)
    with lib.set_grad_enabled(False):
        seen.append((x * 2).requires_grad)
    seen.append(lib.is_grad_enabled())
    with lib.inference_mode():
        seen.append((x * 2).requires_grad)
    with lib.inference_mode(False):
        seen.append((x * 2).requires_grad)
    return seen


def test_context_managers_nest_like_torch():
    got, _ = run_both(context_managers)
    assert got[:3] == [True, True, False]


def decorators(lib):
    x = lib.tensor([1.0], requires_grad=True)

    @lib.no_grad()
    def no_grad_called(t):
        return (t * 2).requires_grad, lib.is_grad_enabled()

    @lib.no_grad
    def no_grad_bare(t):
        return (t * 2).requires_grad

    @lib.enable_grad()
    def enable_grad_called(t):
        return (t * 2).requires_grad

    @lib.enable_grad
    def enable_grad_bare(t):
        return (t * 2).requires_grad

    @lib.set_grad_enabled(False)
    def disabled(t):
        return (t * 2).requires_grad

    @lib.inference_mode
    def inference_bare(t):
        return (t * 2).requires_grad

    @lib.inference_mode()
    def inference_called(t):
        return (t * 2).requires_grad

    enabled_after_decorating = lib.is_grad_enabled()  # decorating must not switch the mode
    results = [no_grad_called(x), no_grad_bare(x), disabled(x), inference_bare(x), inference_called(x)]
    with lib.no_grad():
        results += [enable_grad_called(x), enable_grad_bare(x)]
    results += [enabled_after_decorating, lib.is_grad_enabled(), no_grad_bare.__name__]
    return results


def test_decorators_with_and_without_parentheses():
    got, _ = run_both(decorators)
    assert got[-1] == "no_grad_bare"


def generator_decorator(lib):
    x = lib.tensor([1.0], requires_grad=True)
    outside = []

    @lib.no_grad()
    def steps():
        for factor in (2.0, 3.0):
            received = yield (x * factor).requires_grad
            outside.append(received)

    generator = steps()
    values = [next(generator)]
    outside.append(lib.is_grad_enabled())  # the caller runs with grad on between steps
    values.append(generator.send("sent"))
    values.append(list(generator))
    return values, outside


def test_decorated_generator_switches_mode_only_inside():
    run_both(generator_decorator)


def test_set_grad_enabled_as_a_function_call():
    for lib in (torch, tritongrad):
        lib.set_grad_enabled(False)
        try:
            assert not lib.is_grad_enabled()
            assert not (lib.tensor([1.0], requires_grad=True) * 2).requires_grad
        finally:
            lib.set_grad_enabled(True)
        assert lib.is_grad_enabled()


def test_mode_is_restored_after_an_exception():
    for lib in (torch, tritongrad):
        with pytest.raises(ValueError):
            with lib.no_grad():
                raise ValueError("inside")
        assert lib.is_grad_enabled()

        @lib.no_grad()
        def failing():
            raise ValueError("inside")

        with pytest.raises(ValueError):
            failing()
        assert lib.is_grad_enabled()


def test_set_grad_enabled_rejects_non_bool():
    with pytest.raises(TypeError, match="must be bool"):
        tritongrad.set_grad_enabled(1)


def manual_sgd_on_leaves(lib):
    w = lib.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    b = lib.tensor([0.1, -0.2], requires_grad=True)
    x = lib.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    losses = []
    for _ in range(3):
        loss = ((x @ w + b) ** 2).mean()
        loss.backward()
        with lib.no_grad():
            w -= 0.1 * w.grad
            b.sub_(0.1 * b.grad)
        w.grad.zero_()
        b.grad = None
        losses.append(loss.item())
    return w, b, losses, w.is_leaf, w.grad_fn is None


def test_in_place_updates_of_leaves_under_no_grad():
    got, _ = run_both(manual_sgd_on_leaves)
    assert got[3] is True and got[4] is True


def test_grad_mode_is_per_thread():
    seen = []

    def worker():
        seen.append(tritongrad.is_grad_enabled())

    with tritongrad.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert not tritongrad.is_grad_enabled()
    assert seen == [True]


def test_backward_inside_no_grad_still_computes_gradients():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        with lib.no_grad():
            y.backward()
        return x.grad

    run_both(scenario)


def test_functions_are_exported_like_torch():
    for name in ("no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode"):
        assert getattr(tritongrad, name) is getattr(tritongrad.autograd, name)
