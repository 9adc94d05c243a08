"""torch's top-level spellings (tritongrad/namespace_aliases.py) against torch: each case runs the
same call on both libraries through tests/test_hardening.py's ``agree`` (values, dtypes, errors)."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
from tests.test_hardening import agree


def _image(lib):
    return (lib.arange(32.0).reshape(1, 2, 4, 4) / 7).sin()


def _logits(lib):
    return (lib.arange(6.0) / 5 - 0.5).reshape(2, 3)


def _probabilities(lib):
    return ((lib.arange(6.0) + 1) / 8).reshape(2, 3)


CASES = {
    "conv2d": lambda lib: lib.conv2d(_image(lib), lib.ones(3, 2, 3, 3) / 9, padding=1),
    "max_pool2d with ATen's empty stride": lambda lib: lib.max_pool2d(_image(lib), 2, []),
    "max_pool2d": lambda lib: lib.max_pool2d(_image(lib), (2, 3), 1, (1, 0)),
    "max_pool1d_with_indices": lambda lib: lib.max_pool1d_with_indices(_image(lib)[0], 3),
    "avg_pool1d": lambda lib: lib.avg_pool1d(_image(lib)[0], 2),
    "adaptive_max_pool1d returns indices": lambda lib: lib.adaptive_max_pool1d(_image(lib)[0], 3),
    "dropout(input, p, train=False)": lambda lib: lib.dropout(_image(lib), 0.3, False),
    "embedding(weight, indices)": lambda lib: lib.embedding(lib.eye(4) * 2, lib.tensor([[3, 0], [1, 1]])),
    "batch_norm in ATen's order": lambda lib: lib.batch_norm(
        _image(lib), lib.ones(2) * 2, lib.ones(2), lib.zeros(2), lib.ones(2), False, 0.1, 1e-5, False
    ),
    "layer_norm": lambda lib: lib.layer_norm(_image(lib), (4,), None, None, 1e-5),
    "group_norm": lambda lib: lib.group_norm(_image(lib), 2),
    "cosine_similarity": lambda lib: lib.cosine_similarity(_logits(lib), _probabilities(lib)),
    "pixel_shuffle": lambda lib: lib.pixel_shuffle(lib.arange(8.0).reshape(1, 4, 1, 2), 2),
    "kl_div with reduction 2": lambda lib: lib.kl_div(_logits(lib), _probabilities(lib), 2),
    "binary_cross_entropy_with_logits with reduction 0": lambda lib: lib.binary_cross_entropy_with_logits(
        _logits(lib), _probabilities(lib), None, None, 0
    ),
    "detach, fill, fill_, zero_, clamp_": lambda lib: [
        lib.detach(_logits(lib)),
        lib.fill(_logits(lib), 2.5),
        lib.fill_(_logits(lib), 1.5),
        lib.zero_(_logits(lib)),
        lib.clamp_(_logits(lib), min=-0.2, max=0.2),
    ],
    "is_same_size": lambda lib: [
        lib.is_same_size(lib.ones(2), lib.ones(2)),
        lib.is_same_size(lib.ones(2), lib.ones(3)),
    ],
    "unravel_index": lambda lib: lib.unravel_index(lib.tensor([4, -1, 0]), (2, 3)),
    "unravel_index wraps outside the range": lambda lib: lib.unravel_index(lib.tensor([6, -7]), (2, 3)),
    "unravel_index of floats": lambda lib: lib.unravel_index(lib.tensor([1.0]), (2, 3)),
    "range includes its end": lambda lib: [lib.range(0, 1, 0.25), lib.range(2, 5)],
    "unique_consecutive": lambda lib: lib.unique_consecutive(
        lib.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True, return_counts=True
    ),
    "unique_consecutive along a dim": lambda lib: lib.unique_consecutive(
        lib.tensor([[1, 1], [1, 1], [2, 3], [2, 3], [1, 1]]), return_counts=True, dim=0
    ),
    "unique_consecutive of nothing": lambda lib: lib.unique_consecutive(
        lib.zeros(0, dtype=lib.int64), return_inverse=True, return_counts=True
    ),
    "select_scatter": lambda lib: lib.select_scatter(lib.zeros(2, 3), lib.ones(3), 0, 1),
    "slice_scatter": lambda lib: lib.slice_scatter(lib.zeros(5, 2), lib.ones(3, 2), 0, 0, 5, 2),
    "diagonal_scatter": lambda lib: lib.diagonal_scatter(lib.zeros(3, 3), lib.ones(2), 1),
    "select_scatter's gradient": lambda lib: (
        lambda a, b: [lib.select_scatter(a, b, 1, 0).pow(2).sum().backward(), a.grad, b.grad][1:]
    )(lib.ones(2, 3, requires_grad=True), lib.full((2,), 3.0, requires_grad=True)),
    "empty_strided": lambda lib: [lib.empty_strided((2, 3), (1, 2)).stride(), lib.empty_strided((2, 3), (1, 2)).shape],
    "asarray": lambda lib: [lib.asarray([1, 2]), lib.asarray([1.5], dtype=lib.float64)],
    "constant_pad_nd": lambda lib: lib.constant_pad_nd(lib.ones(2, 2), (1, 0, 0, 1), 5.0),
    "is_inference": lambda lib: lib.is_inference(lib.ones(2)),
    "cdist p=2, 1, inf and its gradient": lambda lib: (
        lambda a, b: [
            lib.cdist(a, b),
            lib.cdist(a, b, p=1),
            lib.cdist(a, b, p=float("inf")),
            lib.cdist(a, b).sum().backward(),
            a.grad,
        ]
    )(_logits(lib).requires_grad_(True), _probabilities(lib)[:1].repeat(4, 1)),
    "cdist of mismatched columns": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 4)),
    "cov and corrcoef": lambda lib: [lib.cov(_image(lib)[0, 0]), lib.corrcoef(_image(lib)[0, 0])],
    "cov with weights and correction": lambda lib: [
        lib.cov(_logits(lib), fweights=lib.tensor([1, 2, 3]), aweights=lib.tensor([0.5, 1.0, 0.25])),
        lib.cov(_logits(lib), correction=0, aweights=lib.tensor([0.5, 1.0, 0.25])),
        lib.cov(_logits(lib)[0]),
    ],
    "inner, vdot, addr": lambda lib: [
        lib.inner(_logits(lib), _probabilities(lib)),
        lib.inner(_logits(lib)[0], _probabilities(lib)[1]),
        lib.vdot(_logits(lib)[0], _probabilities(lib)[1]),
        lib.addr(_logits(lib), lib.ones(2), lib.arange(3.0), beta=2, alpha=3),
    ],
    "triangular_solve": lambda lib: lib.triangular_solve(
        lib.ones(3, 2), lib.eye(3) * 2 + lib.ones(3, 3).triu(1), transpose=True
    ),
    "storage().tolist()": lambda lib: lib.arange(3.0).storage().tolist(),
    "pin_memory without an accelerator": lambda lib: lib.ones(2).pin_memory(),
    "chain_matmul": lambda lib: lib.chain_matmul(lib.eye(2) * 2, lib.ones(2, 3), lib.ones(3, 1)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_top_level_spellings_match_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (torch.range's and chain_matmul's deprecations)
        agree(name, CASES[name], [], message=True)


def test_range_needs_its_end_as_torchs():
    for lib in (torch, tritongrad):
        with pytest.raises(TypeError), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            lib.range(3)
