"""F.normalize, cosine_similarity, pairwise_distance and the metric losses (triplet margin, margin
ranking, hinge embedding, cosine embedding), their nn modules and nn.Unflatten, against torch:
values and gradients of every input, shapes, broadcasting, p-norms, reductions, float64 gradcheck."""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, random_values
from tritongrad import nn
from tritongrad.autograd import gradcheck


def _check(name, tensors, *args, dtype=torch.float32, grads=None, **kwargs):
    """F.<name>(*tensors, *args, **kwargs) and the gradients of the float tensors against torch."""
    grads = [t.is_floating_point() for t in tensors] if grads is None else grads
    theirs = [t.detach().requires_grad_(g) for t, g in zip(tensors, grads)]
    ours = [from_torch(t, requires_grad=g) for t, g in zip(tensors, grads)]
    expected = getattr(torch.nn.functional, name)(*theirs, *args, **kwargs)
    got = getattr(F, name)(*ours, *args, **kwargs)
    what = f"{name} {[tuple(t.shape) for t in tensors]} {dtype} {args} {kwargs}"
    assert_close(got, expected, kind="accumulation", what=what)
    grad = random_values(expected.shape, expected.dtype)
    expected.backward(grad)
    got.backward(from_torch(grad))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if b.requires_grad:
            assert_close(a.grad, b.grad, kind="accumulation", what=f"{what} grad of input {i}")


@pytest.mark.parametrize(
    "shape, p, dim",
    [
        ((4, 7), 2.0, 1),
        ((3, 5, 2), 1.0, -1),  # L1, last dim
        ((13,), 3.0, 0),  # one vector, p = 3
        ((2, 1, 6), 2.0, 2),  # a size-1 dim
    ],
)
def test_normalize(shape, p, dim):
    _check("normalize", [random_values(shape, torch.float32)], p=p, dim=dim)


@pytest.mark.parametrize(
    "shape1, shape2, dim",
    [
        ((4, 7), (4, 7), 1),
        ((3, 5, 2), (1, 5, 2), 1),  # broadcasting
        ((6, 3), (3,), -1),  # broadcasting a vector
        ((2, 9), (2, 9), 0),
    ],
)
def test_cosine_similarity(shape1, shape2, dim):
    _check("cosine_similarity", [random_values(shape1, torch.float32), random_values(shape2, torch.float32)], dim=dim)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape", [(5, 4), (7,), (2, 3, 6)])
def test_pairwise_distance(shape, p, keepdim):
    x1, x2 = random_values(shape, torch.float32), random_values(shape, torch.float32)
    _check("pairwise_distance", [x1, x2], p=p, keepdim=keepdim)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("shape, p", [((6, 5), 2.0), ((9, 3), 1.0), ((4,), 2.0)])
def test_triplet_margin_loss(shape, p, swap, reduction):
    a, pos, neg = (random_values(shape, torch.float32) for _ in range(3))
    _check("triplet_margin_loss", [a, pos, neg], margin=0.7, p=p, swap=swap, reduction=reduction)


def _signs(shape):
    return torch.where(torch.rand(shape) < 0.5, -1.0, 1.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(11,), (3, 4)])
def test_margin_ranking_and_hinge_embedding(shape, reduction):
    x1, x2, y = random_values(shape, torch.float32), random_values(shape, torch.float32), _signs(shape)
    _check("margin_ranking_loss", [x1, x2, y], margin=0.3, reduction=reduction, grads=[True, True, False])
    _check("hinge_embedding_loss", [x1, y], margin=0.5, reduction=reduction, grads=[True, False])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(6, 5), (1, 3)])
def test_cosine_embedding_loss(shape, reduction):
    x1, x2, y = random_values(shape, torch.float32), random_values(shape, torch.float32), _signs(shape[:1])
    _check("cosine_embedding_loss", [x1, x2, y], margin=0.2, reduction=reduction, grads=[True, True, False])


def test_gradcheck_float64():
    x1 = from_torch(random_values((3, 4), torch.float64), requires_grad=True)
    x2 = from_torch(random_values((3, 4), torch.float64), requires_grad=True)
    x3 = from_torch(random_values((3, 4), torch.float64), requires_grad=True)
    assert gradcheck(lambda a, b: F.cosine_similarity(a, b), (x1, x2))
    assert gradcheck(lambda a: F.normalize(a, dim=0), (x1,))
    assert gradcheck(lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=2.0, swap=True), (x1, x2, x3))


def test_modules_match_the_functions_and_torch():
    x1, x2, x3 = (random_values((4, 6), torch.float32) for _ in range(3))
    y = _signs((4,))
    pairs = [
        (nn.CosineSimilarity(dim=1), torch.nn.CosineSimilarity(dim=1), (x1, x2)),
        (nn.PairwiseDistance(p=1.0), torch.nn.PairwiseDistance(p=1.0), (x1, x2)),
        (nn.TripletMarginLoss(margin=0.5), torch.nn.TripletMarginLoss(margin=0.5), (x1, x2, x3)),
        (nn.MarginRankingLoss(margin=0.1), torch.nn.MarginRankingLoss(margin=0.1), (x1[:, 0], x2[:, 0], y)),
        (nn.HingeEmbeddingLoss(), torch.nn.HingeEmbeddingLoss(), (x1[:, 0], y)),
        (nn.CosineEmbeddingLoss(reduction="sum"), torch.nn.CosineEmbeddingLoss(reduction="sum"), (x1, x2, y)),
    ]
    for ours, theirs, inputs in pairs:
        assert repr(ours) == repr(theirs)
        got = ours(*(from_torch(t) for t in inputs))
        assert_close(got, theirs(*inputs), kind="accumulation", what=repr(theirs))


def test_unflatten():
    x = random_values((3, 12), torch.float32)
    for dim, sizes in [(1, (3, 4)), (-1, (2, -1)), (0, (1, 3))]:
        ours, theirs = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
        assert repr(ours) == repr(theirs)
        assert_close(ours(from_torch(x)), theirs(x), what=f"Unflatten({dim}, {sizes})")


def test_bad_input():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.triplet_margin_loss(tritongrad.ones(2, 3), tritongrad.ones(2, 3), tritongrad.ones(2, 3), reduction="avg")
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_loss(tritongrad.ones(2, 3), tritongrad.ones(3), tritongrad.ones(2, 3))
    with pytest.raises(RuntimeError, match="should have same dimension"):
        F.margin_ranking_loss(tritongrad.ones(2, 3), tritongrad.ones(2, 3), tritongrad.ones(2))
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0.0)
    with pytest.raises(TypeError, match="must be Tensor"):
        F.cosine_similarity([1.0], tritongrad.ones(1))
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints"):
        nn.Unflatten(1, 4)
