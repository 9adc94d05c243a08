"""Edge cases where tritongrad once disagreed with torch: each compared with torch's answer or error."""

from __future__ import annotations

import copy
import re

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch


@pytest.mark.parametrize(
    "logits_dtype,target_dtype",
    [(torch.float64, torch.float32), (torch.float32, torch.float64), (torch.float16, torch.float32)],
)
def test_cross_entropy_probability_targets_of_another_dtype_promote(logits_dtype, target_dtype):
    logits = torch.randn(5, 7).to(logits_dtype)
    probabilities = torch.softmax(torch.randn(5, 7), 1).to(target_dtype)
    expected = torch.nn.functional.cross_entropy(logits.requires_grad_(), probabilities)
    expected.backward()
    ours_logits = from_torch(logits, requires_grad=True)
    actual = F.cross_entropy(ours_logits, from_torch(probabilities))
    actual.backward()
    assert_close(actual, expected, rtol=1e-3, atol=1e-3)
    assert_close(ours_logits.grad, logits.grad, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(
    "size,stride,offset",
    [((2, 2), (1, 2), 1), ((3,), (3,), None), ((2,), (1,), -1), ((5,), (3,), 0), ((0, 4), (4, 1), 9)],
)
def test_as_strided_matches_torch(size, stride, offset):
    base = torch.arange(10.0)
    try:
        expected = base.as_strided(size, stride, offset)
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match=re.escape(str(error))):
            from_torch(base).as_strided(size, stride, offset)
        return
    assert_close(from_torch(base).as_strided(size, stride, offset), expected)
    assert_close(tritongrad.as_strided(from_torch(base), size, stride, offset), expected)


@pytest.mark.parametrize("index", [10, -11, 9, -10])
def test_select_out_of_range_message(index):
    base = torch.arange(10.0)
    try:
        expected = base.select(0, index)
    except IndexError as error:
        with pytest.raises(IndexError, match=re.escape(str(error))):
            from_torch(base).select(0, index)
        return
    assert_close(from_torch(base).select(0, index), expected)


def test_deepcopy_of_a_leaf_copies_values_grad_and_flags():
    source = torch.randn(3, 4)
    leaf = from_torch(source, requires_grad=True)
    (leaf * 2).sum().backward()
    copied = copy.deepcopy(leaf)
    assert copied is not leaf and copied._data.data_ptr() != leaf._data.data_ptr()
    assert copied.requires_grad and copied.is_leaf
    assert_close(copied.detach(), source)
    assert_close(copied.grad, torch.full((3, 4), 2.0))


def test_deepcopy_of_a_non_leaf_raises_torchs_error():
    leaf = from_torch(torch.randn(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(leaf * 2)


def test_deepcopy_of_a_module_gives_independent_parameters():
    tritongrad.manual_seed(0)
    model = tritongrad.nn.Sequential(tritongrad.nn.Linear(4, 3), tritongrad.nn.ReLU(), tritongrad.nn.Linear(3, 2))
    clone = copy.deepcopy(model)
    for original, copied in zip(model.parameters(), clone.parameters()):
        assert type(copied) is tritongrad.nn.Parameter and copied is not original
        assert_close(copied.detach(), original.detach()._data.cpu())
    with tritongrad.no_grad():
        clone[0].weight.fill_(0.0)
    assert model[0].weight.abs().sum().item() > 0
