"""histc, histogram and bincount (ops/counting.py, kernels/histogram.py) against torch."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import LAYOUTS, assert_close, from_torch, random_values

SHAPES = [(0,), (1,), (7, 13), (5000,)]  # empty, one element, prime sizes, > one interpreter block
FLOATS = [torch.float32, torch.float64]


def laid_out(shape, dtype, layout):
    base_shape, make = LAYOUTS[layout]
    base = random_values(base_shape(shape), dtype)
    return make(base) if make is not None else base.expand(shape)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("bins, low, high", [(7, -1.0, 2.0), (1, 0.0, 0.0), (64, 0.0, 0.0)])
def test_histc_matches_torch(shape, dtype, layout, bins, low, high):
    x = laid_out(shape, dtype, layout)
    assert_close(tritongrad.histc(from_torch(x), bins=bins, min=low, max=high), torch.histc(x, bins, low, high))


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize(
    "options",
    [dict(bins=10), dict(bins=4, range=(-1.0, 1.5)), dict(bins=6, density=True), dict(bins="edges"),
     dict(bins="edges", density=True), dict(bins=5, weight=True), dict(bins=3, range=(2.0, 2.0))],
    ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()),
)  # fmt: skip
def test_histogram_matches_torch(shape, dtype, options):
    x = random_values(shape, dtype)
    ours, theirs = dict(options), dict(options)
    if options.get("bins") == "edges":  # uneven edges, one of them exactly on a sample value when there is one
        edges = torch.tensor([-3.0, -0.5, 0.0, 0.25, 3.0], dtype=dtype)
        if x.numel():
            edges[2] = x.flatten()[0].clamp(-0.4, 0.2)
        theirs["bins"], ours["bins"] = edges, from_torch(edges)
    if options.get("weight"):
        weight = random_values(shape, dtype, low=0.0, high=2.0)
        theirs["weight"], ours["weight"] = weight, from_torch(weight)
    if x.numel() == 0 and "range" not in options and not isinstance(theirs["bins"], torch.Tensor):
        theirs["range"] = ours["range"] = (0.0, 1.0)  # torch refuses the data range of no data
    expected = torch.histogram(x, **theirs)
    got = tritongrad.histogram(from_torch(x), **ours)
    assert type(got).__name__ == "histogram" and got.hist is got[0]
    assert_close(got.hist, expected.hist)
    assert_close(got.bin_edges, expected.bin_edges)


@pytest.mark.parametrize("length, minlength", [(0, 0), (1, 3), (97, 0), (5000, 20)])
@pytest.mark.parametrize("weights", [None, torch.float32, torch.float64, torch.int64])
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8])
def test_bincount_matches_torch(length, minlength, weights, dtype):
    x = torch.randint(0, 12, (length,)).to(dtype)
    w = None if weights is None else random_values((length,), weights, low=0.0, high=3.0)
    expected = torch.bincount(x, weights=w, minlength=minlength)
    got = tritongrad.bincount(from_torch(x), weights=None if w is None else from_torch(w), minlength=minlength)
    assert_close(got, expected)


def test_counting_errors_match_torch():
    for lib in (torch, tritongrad):
        with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
            lib.histc(lib.tensor([1, 2, 3]), bins=3)
        with pytest.raises(RuntimeError, match="max must be larger than min"):
            lib.histc(lib.tensor([1.0, 2.0]), bins=3, min=2, max=1)
        with pytest.raises(RuntimeError, match="1-d non-negative integral"):
            lib.bincount(lib.tensor([1, -2]))
        with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
            lib.bincount(lib.tensor([1.0, 2.0]))


def test_counting_methods_exist_like_torch():
    x = tritongrad.tensor([0.5, 1.5, 1.5, 3.0])
    assert x.histc(bins=3).tolist() == torch.tensor([0.5, 1.5, 1.5, 3.0]).histc(bins=3).tolist()
    assert tritongrad.tensor([1, 1, 4]).bincount().tolist() == [0, 2, 0, 0, 1]
