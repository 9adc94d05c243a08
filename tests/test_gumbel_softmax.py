"""F.gumbel_softmax: torch's sampler (softmax of Gumbel-perturbed logits over tau; hard one-hot with
the soft sample's gradient), checked by its properties, since its noise comes from tritongrad's
own random stream: rows sum to 1, hard samples are one-hot at the soft sample's argmax with the
same gradient, the argmax frequencies are the logits' softmax (the Gumbel-max trick)."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import tritongrad
from tests.utils import assert_close

F = tritongrad.nn.functional


def test_soft_and_hard_samples():
    logits = tritongrad.tensor([[0.5, -1.0, 2.0], [0.0, 0.3, -0.2]], requires_grad=True)
    weights = tritongrad.arange(3.0)
    tritongrad.manual_seed(5)
    soft = F.gumbel_softmax(logits, tau=0.7)
    (soft * weights).sum().backward()
    soft_grad, logits.grad = logits.grad.clone(), None
    tritongrad.manual_seed(5)
    hard = F.gumbel_softmax(logits, tau=0.7, hard=True)
    (hard * weights).sum().backward()
    assert_close(soft.sum(dim=-1), torch.ones(2), what="soft rows sum to one")
    assert sorted(hard.flatten().tolist()) == [0.0] * 4 + [1.0] * 2
    assert hard.argmax(dim=-1).tolist() == soft.argmax(dim=-1).tolist()
    assert_close(logits.grad, torch.tensor(soft_grad.tolist()), what="straight-through gradient")
    assert type(hard.grad_fn).__name__ == "AddBackward0"  # (torch's: y_hard - y_soft.detach() + y_soft)


def test_argmax_frequencies_are_the_softmax_probabilities():
    probabilities = [0.2, 0.3, 0.5]
    logits = tritongrad.tensor([math.log(p) for p in probabilities]).expand(6000, 3)
    tritongrad.manual_seed(0)
    counts = F.gumbel_softmax(logits, tau=0.5, hard=True).sum(dim=0).tolist()
    for count, p in zip(counts, probabilities):
        assert abs(count / 6000 - p) < 5 * math.sqrt(p * (1 - p) / 6000), counts


def test_eps_is_deprecated_as_in_torch():
    for lib in (torch, tritongrad):
        with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
            lib.nn.functional.gumbel_softmax(lib.zeros(2, 3), eps=1e-5)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert tuple(lib.nn.functional.gumbel_softmax(lib.zeros(2, 3), dim=0).shape) == (2, 3)
