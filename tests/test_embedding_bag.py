"""F.embedding_bag and nn.EmbeddingBag against torch: the three modes, 2-D input and 1-D input with
offsets (empty bags, include_last_offset), padding_idx, per_sample_weights, gradients, dtypes, the
module API and bad input."""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, random_values
from tritongrad import nn
from tritongrad.autograd import gradcheck


def _check(input, weight, offsets=None, per_sample_weights=None, **options):
    """Forward and the gradients of weight (and per_sample_weights) vs torch for a random output gradient."""
    expected_weight = weight.detach().requires_grad_(True)
    got_weight = from_torch(weight, requires_grad=True)
    expected_psw = got_psw = None
    if per_sample_weights is not None:
        expected_psw = per_sample_weights.detach().requires_grad_(True)
        got_psw = from_torch(per_sample_weights, requires_grad=True)
    expected = torch.nn.functional.embedding_bag(
        input, expected_weight, offsets, per_sample_weights=expected_psw, **options
    )
    got = F.embedding_bag(
        from_torch(input),
        got_weight,
        None if offsets is None else from_torch(offsets),
        per_sample_weights=got_psw,
        **options,
    )
    what = f"embedding_bag {tuple(input.shape)} offsets {offsets} of {tuple(weight.shape)} {weight.dtype} {options}"
    assert_close(got, expected, what=what)
    grad = random_values(expected.shape, weight.dtype)
    expected.backward(grad)
    got.backward(from_torch(grad))
    assert_close(got_weight.grad, expected_weight.grad, kind="accumulation", what=what + " grad weight")
    if per_sample_weights is not None:
        assert_close(got_psw.grad, expected_psw.grad, kind="accumulation", what=what + " grad per_sample_weights")


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize(
    "batch, length, rows",
    [
        (1, 1, 1),  # one bag of one row
        (3, 5, 7),  # primes, repeated rows likely
        (4, 2, 2),  # few rows: every bag repeats one
        (9, 13, 40),  # more bags, more rows
    ],
)
def test_2d_input_is_one_bag_per_row(mode, batch, length, rows):
    weight = random_values((rows, 6), torch.float32)
    input = torch.randint(0, rows, (batch, length))
    _check(input, weight, mode=mode)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize(
    "offsets, n",
    [
        ([0], 5),  # one bag
        ([0, 2, 2, 5], 7),  # an empty bag in the middle
        ([0, 3, 7, 7], 7),  # an empty bag at the end
        ([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 11),  # bags of one
        ([0, 0, 0], 0),  # no input at all
    ],
)
def test_1d_input_with_offsets(mode, offsets, n):
    weight = random_values((9, 5), torch.float32)
    input = torch.randint(0, 9, (n,))
    _check(input, weight, torch.tensor(offsets), mode=mode)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_include_last_offset(mode):
    weight = random_values((6, 4), torch.float32)
    input = torch.randint(0, 6, (10,))
    _check(input, weight, torch.tensor([0, 4, 4, 10]), mode=mode, include_last_offset=True)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_padding_idx_is_left_out_of_its_bag(mode):
    weight = random_values((6, 4), torch.float32)
    input = torch.tensor([[2, 1, 2, 3], [2, 2, 2, 2], [0, 5, 4, 2]])  # the middle bag is all padding
    _check(input, weight, mode=mode, padding_idx=2)
    _check(input.reshape(-1), weight, torch.tensor([0, 3, 9]), mode=mode, padding_idx=-4)


@pytest.mark.parametrize("two_d", [True, False])
def test_per_sample_weights_in_sum_mode(two_d):
    weight = random_values((8, 3), torch.float32)
    input = torch.randint(0, 8, (4, 5))
    psw = random_values((4, 5), torch.float32)
    if two_d:
        _check(input, weight, per_sample_weights=psw, mode="sum")
    else:
        _check(input.reshape(-1), weight, torch.tensor([0, 7, 12]), per_sample_weights=psw.reshape(-1), mode="sum")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("index_dtype", [torch.int64, torch.int32])
def test_dtypes(dtype, index_dtype):
    weight = random_values((11, 4), dtype)
    input = torch.randint(0, 11, (13,), dtype=index_dtype)
    _check(input, weight, torch.tensor([0, 5, 6], dtype=index_dtype), mode="mean")


def test_non_contiguous_weight_and_input():
    weight = random_values((8, 10), torch.float32).t()  # (10, 8) transposed
    input = torch.randint(0, 10, (6, 4)).t()  # (4, 6) transposed
    _check(input, weight, mode="sum")


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_gradcheck_float64(mode):
    weight = from_torch(random_values((5, 3), torch.float64), requires_grad=True)
    input = tritongrad.tensor([1, 0, 3, 3, 4, 1, 2])
    offsets = tritongrad.tensor([0, 2, 2, 5])
    assert gradcheck(lambda w: F.embedding_bag(input, w, offsets, mode=mode), (weight,))


def test_module_forward_repr_and_from_pretrained():
    bag = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=2)
    assert repr(bag) == repr(torch.nn.EmbeddingBag(10, 3, mode="sum", padding_idx=2))
    assert repr(nn.EmbeddingBag(10, 3)) == "EmbeddingBag(10, 3, mode='mean')"
    assert bag.weight[2].abs().sum().item() == 0  # the padding row starts at zero
    table = random_values((5, 2), torch.float32)
    ours = nn.EmbeddingBag.from_pretrained(from_torch(table), mode="max")
    theirs = torch.nn.EmbeddingBag.from_pretrained(table, mode="max")
    assert not ours.weight.requires_grad
    input, offsets = torch.tensor([4, 0, 1, 1, 3]), torch.tensor([0, 1, 3])
    assert_close(ours(from_torch(input), from_torch(offsets)), theirs(input, offsets), what="from_pretrained max")


def test_bad_input():
    weight = tritongrad.randn(5, 3)
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(tritongrad.tensor([[1, 2]]), weight, mode="min")
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(tritongrad.tensor([[1, 2]]), weight, tritongrad.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(tritongrad.tensor([1, 2]), weight)
    with pytest.raises(ValueError, match="input has to be 1D or 2D"):
        F.embedding_bag(tritongrad.tensor([[[1]]]), weight)
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        F.embedding_bag(tritongrad.tensor([[1, 2]]), weight, per_sample_weights=tritongrad.ones(1, 2))
    with pytest.raises(TypeError, match="must be Tensor"):
        F.embedding_bag([1, 2], weight, tritongrad.tensor([0]))
    with pytest.raises(RuntimeError, match="Index 1 of input takes value 7"):  # torch: RuntimeError too
        F.embedding_bag(tritongrad.tensor([[1, 7]]), weight)  # row 7 of 5
