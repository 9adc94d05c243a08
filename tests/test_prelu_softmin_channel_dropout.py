"""F.prelu/nn.PReLU, F.softmin/nn.Softmin, nn.Softmax2d and channel dropout (F.dropout1d/2d,
nn.Dropout1d/2d) against torch: values and gradients (the PReLU slope's included), shapes with
and without a batch dim, and the structure of the random channel masks."""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, random_values, to_torch
from tritongrad import nn
from tritongrad.autograd import gradcheck


@pytest.mark.parametrize(
    "shape, slopes",
    [
        ((7,), 1),  # a vector, one slope
        ((4, 3), 3),  # one slope per feature
        ((2, 5, 3, 4), 5),  # per channel of an image batch
        ((2, 5, 6), 1),
        ((0, 3), 3),  # empty
    ],
)
def test_prelu(shape, slopes):
    x = random_values(shape, torch.float32)
    w = random_values((slopes,), torch.float32)
    ours_x, ours_w = from_torch(x, requires_grad=True), from_torch(w, requires_grad=True)
    theirs_x, theirs_w = x.detach().requires_grad_(True), w.detach().requires_grad_(True)
    got, expected = F.prelu(ours_x, ours_w), torch.nn.functional.prelu(theirs_x, theirs_w)
    assert_close(got, expected, what=f"prelu {shape} with {slopes} slopes")
    grad = random_values(expected.shape, torch.float32)
    got.backward(from_torch(grad))
    expected.backward(grad)
    assert_close(ours_x.grad, theirs_x.grad, what="grad input")
    assert_close(ours_w.grad, theirs_w.grad, kind="accumulation", what="grad weight")


def test_prelu_module_and_gradcheck():
    ours, theirs = nn.PReLU(4, init=0.1), torch.nn.PReLU(4, init=0.1)
    assert repr(ours) == repr(theirs)
    assert_close(ours.weight, theirs.weight, what="PReLU init")
    x = random_values((3, 4), torch.float64)
    w = from_torch(random_values((4,), torch.float64), requires_grad=True)
    assert gradcheck(lambda a, b: F.prelu(a, b), (from_torch(x, requires_grad=True), w))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        F.prelu(tritongrad.ones(2, 3), tritongrad.ones(2))


@pytest.mark.parametrize("shape, dim", [((4, 7), 1), ((3, 5, 2), 0), ((9,), -1)])
def test_softmin(shape, dim):
    x = random_values(shape, torch.float32)
    ours_x, theirs_x = from_torch(x, requires_grad=True), x.detach().requires_grad_(True)
    got, expected = nn.Softmin(dim=dim)(ours_x), torch.nn.Softmin(dim=dim)(theirs_x)
    assert_close(got, expected, what=f"softmin {shape} dim {dim}")
    grad = random_values(shape, torch.float32)
    got.backward(from_torch(grad))
    expected.backward(grad)
    assert_close(ours_x.grad, theirs_x.grad, what="softmin grad")
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        implicit = F.softmin(from_torch(x))
    with pytest.warns(UserWarning):
        assert_close(implicit, torch.nn.functional.softmin(x), what="softmin implicit dim")


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 2)])
def test_softmax2d(shape):
    x = random_values(shape, torch.float32)
    assert_close(nn.Softmax2d()(from_torch(x)), torch.nn.Softmax2d()(x), what=f"Softmax2d {shape}")
    with pytest.raises(ValueError, match="expected input to be 3D or 4D"):
        nn.Softmax2d()(tritongrad.ones(2, 3))


@pytest.mark.parametrize(
    "function, shape",
    [
        (F.dropout2d, (4, 6, 3, 5)),
        (F.dropout1d, (4, 6, 7)),
        (F.dropout1d, (6, 7)),  # unbatched
    ],
)
def test_channel_dropout_zeroes_whole_channels(function, shape):
    x = random_values(shape, torch.float32).abs() + 0.5  # no zeros of its own
    out = to_torch(function(from_torch(x), p=0.4, training=True))
    spatial = (-1,) if function is F.dropout1d else (-2, -1)
    dropped = (out == 0).all(dim=spatial[0]) if len(spatial) == 1 else (out == 0).flatten(-2).all(-1)
    kept = ~dropped
    # every channel is either all zeros or the input scaled by 1 / (1 - p)
    expanded = kept.reshape(kept.shape + (1,) * len(spatial)).expand_as(out)
    assert torch.allclose(out[expanded], x[expanded] / 0.6)
    assert (out[~expanded] == 0).all()
    assert 0 < kept.sum() < kept.numel(), "p = 0.4 over many channels should keep some and drop some"
    assert to_torch(function(from_torch(x), p=0.4, training=False)).equal(x)


def test_channel_dropout_modules_and_errors():
    x = from_torch(random_values((2, 3, 4, 4), torch.float32))
    layer = nn.Dropout2d(0.5)
    assert repr(layer) == repr(torch.nn.Dropout2d(0.5))
    layer.eval()
    assert tritongrad.equal(layer(x), x)
    assert repr(nn.Dropout1d(0.2, inplace=True)) == repr(torch.nn.Dropout1d(0.2, inplace=True))
    assert tritongrad.equal(F.dropout2d(x, p=1.0), tritongrad.zeros(2, 3, 4, 4))
    with (
        pytest.warns(UserWarning, match="Received a 1-D input to dropout2d"),
        pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"),
    ):
        F.dropout2d(tritongrad.ones(3))  # (torch's: other ranks warn, a 3-D input is (N, C, L): test_red_team_five)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout1d(tritongrad.ones(2, 3), p=1.5)
