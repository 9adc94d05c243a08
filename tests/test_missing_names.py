"""torch's small top-level names that tritongrad lacked (GradScaler, set_flush_denormal, set_warn_always,
typename, is_signed, get_device, is_storage, the unsafe_ splits, the in-place spellings, empty_permuted,
nonzero_static, histogramdd, Tensor.resize/resize_as, nn.NLLLoss2d, nn.LazyConvTranspose3d), each compared
with torch by ``agree``: the value, or the exception type and the head of its message."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tritongrad.nn.modules.lazy import LazyConvTranspose3d
from tritongrad.nn.modules.loss import NLLLoss2d


def _values(n: int = 6, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(n, generator=generator, dtype=torch.float64) * 4 - 2).to(dtype)


def test_grad_scaler_is_amps():
    assert tritongrad.GradScaler is tritongrad.amp.GradScaler
    scaler = tritongrad.GradScaler("cpu", init_scale=8.0)
    assert scaler.get_scale() == torch.GradScaler("cpu", init_scale=8.0).get_scale()


def test_process_flags():
    assert tritongrad.set_flush_denormal(True) == torch.set_flush_denormal(True)
    assert tritongrad.set_flush_denormal(False) == torch.set_flush_denormal(False)
    assert tritongrad.is_warn_always_enabled() is torch.is_warn_always_enabled() is False
    tritongrad.set_warn_always(True)
    try:
        assert tritongrad.is_warn_always_enabled() is True
    finally:
        tritongrad.set_warn_always(False)


@pytest.mark.parametrize(
    "make",
    [lambda lib: lib.ones(2), lambda lib: lib.ones(2, dtype=lib.int64), lambda lib: lib.ones(2, dtype=lib.float64),
     lambda lib: 3, lambda lib: "text", lambda lib: None],
    ids=["float", "long", "double", "int", "str", "none"],
)  # fmt: skip
def test_typename(make):
    agree("typename", lambda lib: lib.typename(make(lib)), [])


def test_typename_of_classes_and_functions():
    assert tritongrad.typename(tritongrad.nn.Parameter) == "tritongrad.nn.parameter.Parameter"
    assert tritongrad.typename(len) == torch.typename(len) == "len"


@pytest.mark.parametrize("dtype", [torch.float32, torch.int32, torch.uint8, torch.bool])
def test_is_signed_and_get_device(dtype):
    agree("is_signed", lambda lib: (lib.is_signed(lib.ones(2, dtype=dtype)), lib.get_device(lib.ones(2))), [])


def test_is_storage():
    agree(
        "is_storage",
        lambda lib: (lib.is_storage(lib.ones(2).untyped_storage()), lib.is_storage(lib.ones(2)), lib.is_storage([1])),
        [],
    )


UNSAFE_SPLITS = {
    "chunk": lambda lib, x: lib.unsafe_chunk(x, 3),
    "chunk-dim": lambda lib, x: lib.unsafe_chunk(x.reshape(2, 3), 2, 1),
    "split": lambda lib, x: lib.unsafe_split(x, 4),
    "split-sizes": lambda lib, x: lib.unsafe_split_with_sizes(x, [1, 5]),
    "split-sizes-bad": lambda lib, x: lib.unsafe_split_with_sizes(x, [1, 2]),
    "method": lambda lib, x: x.unsafe_split(2),
}


@pytest.mark.parametrize("case", list(UNSAFE_SPLITS), ids=list(UNSAFE_SPLITS))
def test_unsafe_splits(case):
    agree(case, UNSAFE_SPLITS[case], [_values()])


IN_PLACE = {
    "xlogy_": lambda lib, x, y: lib.xlogy_(x, y.abs()),
    "addmv_": lambda lib, x, y: lib.addmv_(x[:2], y.reshape(2, 3), y[:3], beta=0.5, alpha=2.0),
    "conj_physical_-real": lambda lib, x, y: lib.conj_physical_(x),
    "conj_physical_-complex": lambda lib, x, y: lib.view_as_real(lib.conj_physical_(lib.complex(x, y))),
    "conj_physical_-method": lambda lib, x, y: lib.view_as_real(lib.complex(x, y).conj_physical_()),
    "as_strided_": lambda lib, x, y: lib.as_strided_(x, (2, 2), (1, 2), 1),
    "resize_as_": lambda lib, x, y: lib.resize_as_(x, y[:4].reshape(2, 2)),
}


@pytest.mark.parametrize("case", list(IN_PLACE), ids=list(IN_PLACE))
def test_in_place_spellings(case):
    agree(case, IN_PLACE[case], [_values(), _values(seed=1)])


def test_deprecated_resize_forms():
    def run(lib, x):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            reshaped = x.resize(2, 3)
            like = x.resize_as(lib.ones(3, 2))
        return reshaped, like, [str(w.message) for w in caught], [w.category.__name__ for w in caught]

    agree("resize", run, [_values()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agree("resize count", lambda lib, x: x.resize(4), [_values()])


def test_deprecated_resize_gradient():
    def run(lib, x):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x.resize(3, 2) * lib.arange(6.0).reshape(3, 2)).sum().backward()
        return x.grad

    agree("resize grad", run, [_values().requires_grad_()])


@pytest.mark.parametrize(
    "arguments",
    [((2, 3, 4), (0, 2, 1)), ((2, 3, 4), (2, 0, 1)), ((3,), (0,)), ((2, 3, 4), (0, 2)), ((2, 3, 4), (0, 2, 2))],
)
def test_empty_permuted(arguments):
    size, layout = arguments
    agree(
        "empty_permuted",
        lambda lib: (lambda t: (tuple(t.shape), t.stride(), t.dtype))(lib.empty_permuted(size, layout)),
        [],
    )


NONZERO_STATIC = {
    "pad": lambda lib, x: lib.nonzero_static(x > 0, size=6),
    "trim": lambda lib, x: lib.nonzero_static(x.reshape(2, 3), size=2, fill_value=7),
    "zero": lambda lib, x: lib.nonzero_static(x, size=0),
    "scalar": lambda lib, x: lib.nonzero_static(x[0], size=2),
    "negative": lambda lib, x: lib.nonzero_static(x, size=-1),
    "method": lambda lib, x: (x > 0).nonzero_static(size=4, fill_value=-2),
}


@pytest.mark.parametrize("case", list(NONZERO_STATIC), ids=list(NONZERO_STATIC))
def test_nonzero_static(case):
    agree(case, NONZERO_STATIC[case], [_values() * (_values(seed=2) > 0)])


HISTOGRAMDD = {
    "bins-int": lambda lib, x, w: lib.histogramdd(x, bins=3),
    "bins-list": lambda lib, x, w: lib.histogramdd(x, bins=[2, 4]),
    "range": lambda lib, x, w: lib.histogramdd(x, bins=2, range=[-1.0, 1.0, 0.0, 2.0]),
    "weight-density": lambda lib, x, w: lib.histogramdd(x, bins=[3, 2], weight=w, density=True),
    "edges": lambda lib, x, w: lib.histogramdd(x, bins=[lib.tensor([-2.0, 0.0, 2.0]), lib.tensor([-1.0, 0.5, 2.0])]),
    "3-d input": lambda lib, x, w: lib.histogramdd(x.reshape(2, 3, 2), bins=2),
    "equal": lambda lib, x, w: lib.histogramdd(lib.ones(3, 2), bins=2),
    "1-d": lambda lib, x, w: lib.histogramdd(x[:, 0], bins=2),
    "integer": lambda lib, x, w: lib.histogramdd(lib.ones(3, 2, dtype=lib.int64), bins=2),
    "bins-count": lambda lib, x, w: lib.histogramdd(x, bins=[2, 2, 2]),
    "bins-zero": lambda lib, x, w: lib.histogramdd(x, bins=0),
}


@pytest.mark.parametrize("case", list(HISTOGRAMDD), ids=list(HISTOGRAMDD))
def test_histogramdd(case):
    agree(case, HISTOGRAMDD[case], [_values(12).reshape(6, 2), _values(6, seed=3).abs()])


def test_histogramdd_returns_a_named_tuple():
    result = tritongrad.histogramdd(tritongrad.ones(3, 2), bins=2)
    assert result.hist is result[0] and isinstance(result.bin_edges, tuple) and len(result.bin_edges) == 2


def test_nll_loss_2d_is_a_deprecated_nll_loss():
    scores, target = torch.randn(2, 3, 2, 2).log_softmax(1), torch.tensor([[[0, 1], [2, 1]], [[1, 1], [0, 2]]])
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
        loss = NLLLoss2d()
    assert isinstance(loss, tritongrad.nn.NLLLoss)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.nn.NLLLoss2d()(scores, target)
    agree("NLLLoss2d", lambda lib, s, t: loss(s, t) if lib is tritongrad else expected, [scores, target])


def test_lazy_conv_transpose_3d():
    layer = LazyConvTranspose3d(4, 2, stride=2)
    reference = torch.nn.LazyConvTranspose3d(4, 2, stride=2)
    output = layer(tritongrad.ones(1, 3, 2, 2, 2))
    expected = reference(torch.ones(1, 3, 2, 2, 2))
    assert type(layer) is tritongrad.nn.ConvTranspose3d
    assert tuple(layer.weight.shape) == tuple(reference.weight.shape) and layer.in_channels == 3
    assert tuple(output.shape) == tuple(expected.shape)
