"""nn.utils.spectral_norm against torch: the forward, the gradient into weight_orig, the power
iteration's in-place buffers (training only), eval mode, state_dict keys, removal, errors."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import assert_close


def _normalized_linear(lib, iterations: int):
    layer = lib.nn.Linear(4, 3)
    with lib.no_grad():
        layer.weight.copy_(lib.arange(12.0).reshape(3, 4).sin())
        layer.bias.copy_(lib.arange(3.0) / 10)
    lib.nn.utils.spectral_norm(layer, n_power_iterations=iterations)
    with lib.no_grad():  # the same starting vectors in both libraries (torch draws them at random)
        layer.weight_u.copy_(lib.tensor([0.6, 0.0, 0.8]))
        layer.weight_v.copy_(lib.tensor([0.5, 0.5, 0.5, 0.5]))
    return layer


@pytest.mark.parametrize("iterations", [1, 3])
def test_spectral_norm_matches_torch(iterations):
    results = []
    for lib in (torch, tritongrad):
        layer = _normalized_linear(lib, iterations)
        x = lib.arange(8.0).reshape(2, 4).cos()
        training = layer(x)
        training.sum().backward()
        layer.eval()
        evaluation = layer(x)
        keys = sorted(layer.state_dict())
        lib.nn.utils.remove_spectral_norm(layer)
        results.append((training, layer.weight_orig.grad if hasattr(layer, "weight_orig") else None, evaluation,
                        keys, layer.weight))  # fmt: skip
    (theirs, ours) = results
    assert_close(ours[0], theirs[0], what="training forward")
    assert_close(ours[2], theirs[2], what="eval forward (no power iteration)")
    assert ours[3] == theirs[3]
    assert_close(ours[4], theirs[4], what="weight after remove_spectral_norm")


def test_gradient_and_buffers_match_torch():
    grads, buffers = [], []
    for lib in (torch, tritongrad):
        layer = _normalized_linear(lib, 2)
        layer(lib.arange(8.0).reshape(2, 4).cos()).pow(2).sum().backward()
        grads.append(layer.weight_orig.grad)
        buffers.append((layer.weight_u, layer.weight_v))
    assert_close(grads[1], grads[0], what="d weight_orig")
    assert_close(buffers[1][0], buffers[0][0], what="weight_u after the power iteration")
    assert_close(buffers[1][1], buffers[0][1], what="weight_v after the power iteration")


def test_errors_match_torch():
    for lib in (torch, tritongrad):
        layer = lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2))
        with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
            lib.nn.utils.spectral_norm(layer)
        with pytest.raises(ValueError, match="spectral_norm of 'bias' not found"):
            lib.nn.utils.remove_spectral_norm(layer, "bias")
        with pytest.raises(ValueError, match="n_power_iterations to be positive"):
            lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0)
