"""F.max_unpool1d/2d and nn.MaxUnpool1d/2d, F.local_response_norm and nn.LocalResponseNorm,
F.channel_shuffle and nn.ChannelShuffle, F.dropout3d and nn.Dropout3d, and the *_with_indices
pooling forms, against torch: values, gradients, a float64 gradcheck, module reprs, and torch's
exception types and messages for bad input."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, make_pair, random_values, to_torch
from tritongrad import nn
from tritongrad.autograd import gradcheck

TF = torch.nn.functional

# (input shape, pooling options): each exercises one thing
UNPOOL_2D_CASES = [
    ((2, 3, 6, 6), dict(kernel_size=2), None),  # the classic 2x2 pool and its inverse
    ((1, 2, 7, 5), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)), (7, 5)),  # non-square, padded
    ((3, 5, 5), dict(kernel_size=2, stride=3), (1, 3, 7, 7)),  # unbatched, stride > kernel, 4-entry output_size
    ((1, 1, 4, 4), dict(kernel_size=2, stride=1), None),  # overlapping windows: repeated indices
]


def _pooled(shape, options, dtype, layout, *, one_d: bool):
    """(torch values, torch indices) of a max pooling of fresh random input, laid out as ``layout``."""
    x = random_values(shape, dtype)
    out, indices = (TF.max_pool1d if one_d else TF.max_pool2d)(x, return_indices=True, **options)
    expected, got = make_pair(out.shape, dtype, layout, requires_grad=True)
    with torch.no_grad():  # (the pooled values written into both layouts' memory)
        got._data.copy_(out.to(got._data.device))
        expected.copy_(out)
    return expected, got, indices


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape, options, output_size", UNPOOL_2D_CASES)
def test_max_unpool2d(shape, options, output_size, dtype):
    layout = "transposed" if dtype == torch.float32 else "contiguous"
    expected_x, got_x, indices = _pooled(shape, options, dtype, layout, one_d=False)
    got = F.max_unpool2d(got_x, from_torch(indices), output_size=output_size, **options)
    expected = TF.max_unpool2d(expected_x, indices, output_size=output_size, **options)
    assert_close(got, expected, what=f"max_unpool2d {shape} {options}")
    assert got.grad_fn.name() == "MaxUnpool2DBackward0"
    grad = random_values(expected.shape, dtype)
    got.backward(from_torch(grad))
    expected.backward(grad)
    assert_close(got_x.grad, expected_x.grad, what="max_unpool2d grad")


@pytest.mark.parametrize("shape, options, output_size", [
    ((2, 3, 8), dict(kernel_size=2), None),
    ((3, 7), dict(kernel_size=3, stride=2, padding=1), [8]),  # unbatched, output_size within the stride
])  # fmt: skip
def test_max_unpool1d(shape, options, output_size):
    expected_x, got_x, indices = _pooled(shape, options, torch.float32, "contiguous", one_d=True)
    got = F.max_unpool1d(got_x, from_torch(indices), output_size=output_size, **options)
    expected = TF.max_unpool1d(expected_x, indices, output_size=output_size, **options)
    assert_close(got, expected, what=f"max_unpool1d {shape} {options}")
    assert got.grad_fn.name() == expected.grad_fn.name()
    grad = random_values(expected.shape, torch.float32)
    got.backward(from_torch(grad))
    expected.backward(grad)
    assert_close(got_x.grad, expected_x.grad, what="max_unpool1d grad")


def test_max_unpool2d_strided_indices():
    """Values and indices both transposed (non-contiguous): each value still goes to its index."""
    x = random_values((2, 3, 6, 4), torch.float32)
    out, indices = TF.max_pool2d(x, 2, return_indices=True)
    out, indices = out.transpose(-1, -2), indices.transpose(-1, -2)
    got = F.max_unpool2d(from_torch(out), from_torch(indices), 2, output_size=(4, 6))
    assert_close(got, TF.max_unpool2d(out, indices, 2, output_size=(4, 6)), what="strided indices")


def test_unpool_modules_and_gradcheck():
    """The tutorial pattern: MaxPool2d(return_indices=True) then MaxUnpool2d with the input's size."""
    x = random_values((1, 2, 5, 5), torch.float64)
    ours_pool, ours_unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    theirs_pool, theirs_unpool = torch.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxUnpool2d(2)
    assert repr(ours_unpool) == repr(theirs_unpool)
    assert repr(nn.MaxUnpool1d(3, stride=2, padding=1)) == repr(torch.nn.MaxUnpool1d(3, stride=2, padding=1))
    out, indices = ours_pool(from_torch(x))
    theirs_out, theirs_indices = theirs_pool(x)
    assert_close(indices, theirs_indices, what="max_pool2d indices")
    ours_x = from_torch(x)
    got = ours_unpool(out, indices, output_size=ours_x.size())
    assert_close(got, theirs_unpool(theirs_out, theirs_indices, output_size=x.size()), what="nn.MaxUnpool2d")
    values = from_torch(to_torch(out), requires_grad=True)
    assert gradcheck(lambda v: F.max_unpool2d(v, indices, 2, output_size=(5, 5)), (values,))
    one_d, one_d_indices = F.max_pool1d(from_torch(x[0]), 2, return_indices=True)
    values = from_torch(to_torch(one_d), requires_grad=True)
    assert gradcheck(lambda v: nn.MaxUnpool1d(2)(v, one_d_indices), (values,))


def _outcome(call, library, wrap):
    try:
        call(library, wrap)
    except Exception as error:  # noqa: BLE001 (what each library raises is the point)
        return type(error), str(error)
    return None


def _pool(shape=(2, 4, 6, 6), one_d=False):
    x = random_values(shape, torch.float32)
    return (TF.max_pool1d if one_d else TF.max_pool2d)(x, 2, return_indices=True)


POOLED, POOLED_1D = _pool(), _pool((4, 6), one_d=True)
BAD_CALLS = {
    "unpool output_size too large": lambda f, w: f.max_unpool2d(w(POOLED[0]), w(POOLED[1]), 2, output_size=(8, 8)),
    "unpool output_size of 3": lambda f, w: f.max_unpool2d(w(POOLED[0]), w(POOLED[1]), 2, output_size=(1, 7, 7)),
    "unpool float indices": lambda f, w: f.max_unpool2d(w(POOLED[0]), w(POOLED[1].float()), 2),
    "unpool int32 indices": lambda f, w: f.max_unpool2d(w(POOLED[0]), w(POOLED[1].int()), 2),
    "unpool indices shape": lambda f, w: f.max_unpool2d(w(POOLED[0]), w(POOLED[1][:, :2]), 2),
    "unpool index too large": lambda f, w: f.max_unpool2d(w(POOLED[0]), w(POOLED[1] * 0 + 36), 2),
    "unpool negative index": lambda f, w: f.max_unpool2d(w(POOLED[0]), w(POOLED[1] * 0 - 1), 2),
    "unpool 2-d input": lambda f, w: f.max_unpool2d(w(POOLED[0][0, 0]), w(POOLED[1][0, 0]), 2),
    "unpool integer input": lambda f, w: f.max_unpool2d(w(POOLED[0].long()), w(POOLED[1]), 2),
    "unpool1d 1-d input": lambda f, w: f.max_unpool1d(w(POOLED_1D[0][0]), w(POOLED_1D[1][0]), 2),
    "unpool1d output_size": lambda f, w: f.max_unpool1d(w(POOLED_1D[0]), w(POOLED_1D[1]), 2, output_size=[9]),
    "lrn 2-d input": lambda f, w: f.local_response_norm(w(torch.randn(3, 4)), 2),
    "lrn size 0": lambda f, w: f.local_response_norm(w(torch.randn(2, 3, 4)), 0),
    "shuffle 2-d input": lambda f, w: f.channel_shuffle(w(torch.randn(2, 6)), 3),
    "shuffle groups 0": lambda f, w: f.channel_shuffle(w(torch.randn(2, 6, 3)), 0),
    "shuffle indivisible": lambda f, w: f.channel_shuffle(w(torch.randn(2, 6, 3)), 4),
    "dropout3d p > 1": lambda f, w: f.dropout3d(w(torch.randn(2, 3, 2, 2, 2)), 1.5),
}


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_bad_arguments_raise_as_torch(name):
    theirs = _outcome(BAD_CALLS[name], TF, lambda t: t)
    ours = _outcome(BAD_CALLS[name], F, from_torch)
    assert theirs is not None, "torch accepted it"
    assert ours is not None, f"tritongrad accepted it; torch raised {theirs}"
    assert ours[0] is theirs[0], f"{ours} vs torch's {theirs}"
    assert ours[1] == theirs[1]


@pytest.mark.parametrize("shape, size", [
    ((2, 5, 4), 3),  # 3-d: a pool over the channels of (N, C, L)
    ((1, 7, 3, 2), 2),  # 4-d, even size (asymmetric padding)
    ((2, 3, 2, 3, 2), 5),  # 5-d, size > channels
    ((1, 4, 3, 3), 1),  # size 1: each channel by itself
])  # fmt: skip
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_local_response_norm(shape, size, dtype):
    layout = "sliced" if dtype == torch.float32 else "contiguous"
    expected_x, got_x = make_pair(shape, dtype, layout, requires_grad=True)
    options = dict(alpha=0.5, beta=0.75, k=2.0)  # a large alpha, so the normalization matters
    got = nn.LocalResponseNorm(size, **options)(got_x)
    expected = torch.nn.LocalResponseNorm(size, **options)(expected_x)
    assert_close(got, expected, kind="autograd", what=f"local_response_norm {shape} size {size}")
    grad = random_values(shape, dtype)
    got.backward(from_torch(grad))
    expected.backward(grad)
    assert_close(got_x.grad, expected_x.grad, kind="autograd", what="local_response_norm grad")


def test_local_response_norm_module_gradcheck_empty():
    assert repr(nn.LocalResponseNorm(3)) == repr(torch.nn.LocalResponseNorm(3))
    x = from_torch(random_values((1, 4, 3), torch.float64), requires_grad=True)
    assert gradcheck(lambda a: F.local_response_norm(a, 3, alpha=0.3, k=1.5), (x,))
    empty = from_torch(random_values((0, 3, 4), torch.float32))
    assert F.local_response_norm(empty, 2) is empty  # torch returns the input itself


@pytest.mark.parametrize("shape, groups", [((2, 6, 3), 3), ((1, 8, 2, 3), 2), ((2, 5, 1, 2), 5), ((1, 4, 3), 1)])
def test_channel_shuffle(shape, groups):
    expected_x, got_x = make_pair(shape, torch.float32, "transposed", requires_grad=True)
    got, expected = nn.ChannelShuffle(groups)(got_x), torch.nn.ChannelShuffle(groups)(expected_x)
    assert_close(got, expected, what=f"channel_shuffle {shape} groups {groups}")
    assert got.grad_fn.name() == "ChannelShuffleBackward0"
    grad = random_values(shape, torch.float32)
    got.backward(from_torch(grad))
    expected.backward(grad)
    assert_close(got_x.grad, expected_x.grad, what="channel_shuffle grad")
    assert repr(nn.ChannelShuffle(groups)) == repr(torch.nn.ChannelShuffle(groups))
    assert_close(F.native_channel_shuffle(got_x, groups), expected, what="native_channel_shuffle")


def test_channel_shuffle_gradcheck():
    x = from_torch(random_values((1, 6, 2), torch.float64), requires_grad=True)
    assert gradcheck(lambda a: F.channel_shuffle(a, 2) * a, (x,))


@pytest.mark.parametrize("shape", [(3, 4, 2, 3, 2), (5, 2, 3, 2)])  # batched, unbatched
def test_dropout3d_zeroes_whole_channels(shape):
    x = from_torch(random_values(shape, torch.float32, low=1.0, high=2.0), requires_grad=True)
    p = 0.5
    out = nn.Dropout3d(p)(x)
    got, values = to_torch(out), to_torch(x)
    channels = got.reshape(-1, 12)  # one row per (n, c) feature map of 2 * 3 * 2
    kept = channels.ne(0).all(dim=1)
    assert torch.equal(kept, channels.ne(0).any(dim=1)), "a channel was partly zeroed"
    expected = values.reshape(-1, 12) * kept.unsqueeze(1) / (1 - p)
    assert_close(channels, expected, what="dropout3d kept channels")
    out.sum().backward()
    assert_close(to_torch(x.grad).reshape(-1, 12), kept.unsqueeze(1).expand(-1, 12) / (1 - p), what="grad")
    model = nn.Dropout3d(p).eval()
    assert model(x) is x
    assert repr(nn.Dropout3d(0.2, inplace=True)) == repr(torch.nn.Dropout3d(0.2, inplace=True))
    assert torch.equal(to_torch(F.dropout3d(x, 1.0)), torch.zeros(shape))


def test_dropout3d_other_ranks_warn_as_torch():
    x = from_torch(random_values((4, 3, 2), torch.float32, low=1.0, high=2.0))
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        out = F.dropout3d(x, 0.5)
    rows = to_torch(out).reshape(4, 6)  # the channel dim is dim 0 then (torch adds a batch dim)
    assert torch.equal(rows.ne(0).all(dim=1), rows.ne(0).any(dim=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout3d(from_torch(random_values((1, 2, 2, 2, 2), torch.float32)), 0.5)


@pytest.mark.parametrize("name, args", [
    ("max_pool2d_with_indices", (((2, 3),), dict(stride=1, padding=1))),
    ("max_pool1d_with_indices", ((3,), dict(stride=2, return_indices=False))),  # (indices all the same)
    ("adaptive_max_pool2d_with_indices", (((2, 3),), {})),
    ("adaptive_max_pool1d_with_indices", ((4,), {})),
])  # fmt: skip
def test_with_indices_forms(name, args):
    positional, keywords = args
    x = random_values((2, 3, 5, 7) if "2d" in name else (2, 3, 7), torch.float32)
    got = getattr(F, name)(from_torch(x), *positional, **keywords)
    expected = getattr(TF, name)(x, *positional, **keywords)
    assert isinstance(got, tuple) and len(got) == 2
    assert_close(got[0], expected[0], what=f"{name} values")
    assert_close(got[1], expected[1], what=f"{name} indices")


def test_names_exported():
    for name in ["unfold", "fold", "max_unpool1d", "max_unpool2d", "local_response_norm", "channel_shuffle",
                 "dropout3d", "max_pool2d_with_indices", "adaptive_max_pool2d_with_indices"]:  # fmt: skip
        assert name in F.__all__ and callable(getattr(F, name))
    for name in ["Fold", "Unfold", "MaxUnpool1d", "MaxUnpool2d", "LocalResponseNorm", "ChannelShuffle", "Dropout3d"]:
        assert getattr(tritongrad.nn, name) is not None
