"""F.embedding and nn.Embedding against torch: lookups, weight gradients with repeated indices,
padding_idx, scale_grad_by_freq, layouts, dtypes, the module API and bad input."""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, random_values, to_torch
from tritongrad import nn
from tritongrad.autograd import gradcheck
from tritongrad.kernels import embedding as embedding_kernels


def _indices(shape, rows: int, dtype=torch.int64) -> torch.Tensor:
    """Random indices with repeats (more indices than rows, or drawn from few rows)."""
    return torch.randint(0, rows, shape, dtype=dtype)


def _check(index: torch.Tensor, weight: torch.Tensor, **options) -> None:
    """F.embedding forward, grad_fn name and weight gradient vs torch for a random output gradient."""
    expected_weight = weight.detach().requires_grad_(True)
    got_weight = from_torch(weight, requires_grad=True)
    expected = torch.nn.functional.embedding(index, expected_weight, **options)
    got = F.embedding(from_torch(index), got_weight, **options)
    what = f"embedding {tuple(index.shape)} of {tuple(weight.shape)} {weight.dtype} {options}"
    assert_close(got, expected, what=what)
    assert type(got.grad_fn).__name__ == "EmbeddingBackward0"
    grad = random_values(expected.shape, weight.dtype)
    expected.backward(grad)
    got.backward(from_torch(grad))
    # Gradient rows are sums of up to N grad_out rows: a few ulp of those sums.
    assert_close(got_weight.grad, expected_weight.grad, kind="accumulation", what=what + " grad weight")


@pytest.mark.parametrize(
    "index_shape, rows, dim",
    [
        ((5,), 7, 3),  # 1-D indices, odd sizes
        ((2, 3), 4, 16),  # 2-D indices, repeats certain (6 indices into 4 rows)
        ((3, 1, 4), 1, 5),  # one row: every index repeats it
        ((), 11, 2),  # a 0-d index
        ((0,), 5, 3),  # no indices: zero gradient
        ((600,), 131, 37),  # > one BLOCK_N of indices, > one BLOCK_V of rows (prime), prime dim
        ((4, 2), 300, 300),  # > one BLOCK_D and BLOCK_V in the interpreter
    ],
)
def test_embedding_matches_torch(index_shape, rows, dim):
    _check(_indices(index_shape, rows), random_values((rows, dim), torch.float32))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_embedding_dtypes(dtype):
    _check(_indices((3, 5), 6), random_values((6, 9), dtype))


def test_embedding_int32_indices_and_layouts():
    weight = random_values((9, 6), torch.float32).t().contiguous().t()  # column-major table
    index = _indices((5, 4), 9, torch.int32).t()  # non-contiguous indices
    _check(index, weight)
    sliced = random_values((8, 13), torch.float32)[:, 1::2]  # sliced columns, a storage offset
    _check(_indices((7,), 8), sliced)


@pytest.mark.parametrize("padding_idx", [0, 3, -1])
def test_embedding_padding_idx(padding_idx):
    index = torch.tensor([[0, 3, 4, 3], [4, 4, 1, 0]])
    _check(index, random_values((5, 4), torch.float32), padding_idx=padding_idx)


def test_embedding_scale_grad_by_freq():
    index = torch.tensor([2, 2, 2, 0, 1, 2, 0])
    _check(index, random_values((4, 3), torch.float32), scale_grad_by_freq=True, padding_idx=1)


def test_embedding_gradient_is_deterministic():
    index = from_torch(_indices((300,), 3))  # ~100 repeats per row
    weight = from_torch(random_values((3, 8), torch.float32), requires_grad=True)
    grad = from_torch(random_values((300, 8), torch.float32))
    grads = []
    for _ in range(2):
        weight.grad = None
        F.embedding(index, weight).backward(grad)
        grads.append(to_torch(weight.grad).clone())
    assert torch.equal(grads[0], grads[1])


def test_embedding_gradcheck_float64():
    weight = from_torch(random_values((4, 3), torch.float64), requires_grad=True)
    index = from_torch(torch.tensor([[1, 3, 1], [0, 1, 2]]))
    # No padding_idx here: its row's zero gradient is by design, not the numerical derivative.
    assert gradcheck(lambda w: F.embedding(index, w), (weight,))


def test_embedding_launcher_checks():
    with pytest.raises(RuntimeError, match="int64 or int32"):
        embedding_kernels.launch_embedding_backward(torch.ones(2, 3), torch.ones(2), 4)
    with pytest.raises(RuntimeError, match="does not match"):
        embedding_kernels.launch_embedding_backward(torch.ones(2, 3), torch.ones(3, dtype=torch.int64), 4)


def test_embedding_bad_input():
    weight = from_torch(random_values((5, 3), torch.float32))
    for bad in ([5], [-1]):
        with pytest.raises(IndexError, match="index out of range in self"):
            F.embedding(tritongrad.tensor(bad), weight)
    with pytest.raises(RuntimeError, match="Long, Int"):
        F.embedding(tritongrad.tensor([1.0]), weight)
    with pytest.raises(RuntimeError, match="must be 2-D"):
        F.embedding(tritongrad.tensor([1]), from_torch(random_values((5,), torch.float32)))
    with pytest.raises(AssertionError, match="Padding_idx"):
        F.embedding(tritongrad.tensor([1]), weight, padding_idx=7)
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(5, 3, sparse=True)


def test_embedding_module_api():
    table = nn.Embedding(10, 4, padding_idx=-3)
    reference = torch.nn.Embedding(10, 4, padding_idx=-3)
    assert repr(table) == repr(reference) == "Embedding(10, 4, padding_idx=7)"
    assert list(table.state_dict()) == list(reference.state_dict()) == ["weight"]
    assert [name for name, _ in table.named_parameters()] == ["weight"]
    weight = to_torch(table.weight)
    assert torch.equal(weight[7], torch.zeros(4)), "padding row zeroed at init"
    assert weight.abs().sum() > 0 and 0.3 < weight.std().item() < 2.5, "N(0, 1) init"
    assert repr(nn.Embedding(3, 2, scale_grad_by_freq=True)) == "Embedding(3, 2, scale_grad_by_freq=True)"
    table.weight.grad = None
    out = table(tritongrad.tensor([[7, 1], [1, 2]]))
    out.sum().backward()
    grad = to_torch(table.weight.grad)
    assert grad[7].abs().sum() == 0 and torch.equal(grad[1], torch.full((4,), 2.0))


def test_embedding_from_pretrained():
    values = random_values((4, 3), torch.float32)
    frozen = nn.Embedding.from_pretrained(from_torch(values), padding_idx=1)
    assert not frozen.weight.requires_grad and frozen.padding_idx == 1
    assert torch.equal(to_torch(frozen.weight), values), "the given weight is used as is"
    assert_close(frozen(tritongrad.tensor([3, 1])), values[[3, 1]])
    trainable = nn.Embedding.from_pretrained(from_torch(values), freeze=False)
    assert trainable.weight.requires_grad
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(from_torch(values[0]))
