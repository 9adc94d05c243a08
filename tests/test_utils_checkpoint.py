"""tritongrad.utils.checkpoint against torch.utils.checkpoint: values and gradients (inputs and the
parameters the checkpointed function uses), the random state replayed for dropout, torch's
warning and argument rules, checkpoint_sequential."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.utils.checkpoint

import tritongrad
import tritongrad.utils.checkpoint
from tests.utils import assert_close, from_torch


def _block(lib):
    """Two linear layers with weights from a formula (the same in both libraries) and a GELU."""
    first, second = lib.nn.Linear(5, 7), lib.nn.Linear(7, 3)
    with lib.no_grad():
        for index, parameter in enumerate([*first.parameters(), *second.parameters()]):
            values = lib.arange(parameter.numel(), dtype=lib.float64).reshape(parameter.shape)
            parameter.copy_(((values * 0.37 + index).sin() * 0.5).to(parameter.dtype))
    return first, second


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_values_and_gradients_match_torch(use_reentrant):
    x = (torch.arange(20.0).reshape(4, 5) / 9).cos()
    results = []
    for lib, source in ((torch, x), (tritongrad, from_torch(x))):
        first, second = _block(lib)
        inputs = source.clone().requires_grad_(True)

        def block(a, scale, lib=lib, first=first, second=second):
            return second(lib.nn.functional.gelu(first(a))) * scale

        out = lib.utils.checkpoint.checkpoint(block, inputs, 2.0, use_reentrant=use_reentrant)
        (out * out).sum().backward()
        results.append((out, inputs.grad, first.weight.grad, second.bias.grad, type(out.grad_fn).__name__))
    (theirs, ours) = results
    for got, want, what in zip(ours[:4], theirs[:4], ("output", "d input", "d first.weight", "d second.bias")):
        assert_close(got, want, what=what)
    if use_reentrant:
        assert ours[4] == theirs[4] == "CheckpointFunctionBackward"


def test_dropout_is_replayed_in_the_recomputation():
    """The backward's recomputation draws the forward's dropout mask: the gradient is the plain run's."""
    layer = tritongrad.nn.Linear(6, 6)
    dropout = tritongrad.nn.Dropout(0.5)
    x = tritongrad.randn(3, 6)
    grads = []
    for checkpointed in (False, True):
        tritongrad.manual_seed(11)
        inputs = x.clone().requires_grad_(True)
        function = lambda a: dropout(layer(a)).sum(dim=1)  # noqa: E731
        out = (
            tritongrad.utils.checkpoint.checkpoint(function, inputs, use_reentrant=False)
            if checkpointed
            else function(inputs)
        )
        out.sum().backward()
        grads.append(inputs.grad.tolist())
    assert grads[0] == grads[1]


def test_warning_and_argument_rules_match_torch():
    for lib, x in ((torch, torch.ones(2, requires_grad=True)), (tritongrad, tritongrad.ones(2, requires_grad=True))):
        with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
            lib.utils.checkpoint.checkpoint(lambda a: a * 2, x)
        with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
            lib.utils.checkpoint.checkpoint(lambda a, scale: a * scale, x, scale=2, use_reentrant=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = lib.utils.checkpoint.checkpoint(lambda a, scale: a * scale, x, scale=3, use_reentrant=False)
        assert result.tolist() == [3.0, 3.0]


def test_checkpoint_sequential_matches_torch():
    x = (torch.arange(10.0).reshape(2, 5) / 4).sin()
    results = []
    for lib, source in ((torch, x), (tritongrad, from_torch(x))):
        first, second = _block(lib)
        model = lib.nn.Sequential(first, lib.nn.Tanh(), second, lib.nn.ReLU())
        inputs = source.clone().requires_grad_(True)
        out = lib.utils.checkpoint.checkpoint_sequential(model, 2, inputs, use_reentrant=True)
        out.sum().backward()
        results.append((out, inputs.grad, first.weight.grad))
    for got, want in zip(results[1], results[0]):
        assert_close(got, want, what="checkpoint_sequential")
