"""Class weights of the NLL family: torch refuses a weight that requires grad where its kernel has no
derivative for it (class-index targets: nll_loss_forward / nll_loss2d_forward), only while grad mode
is on, and differentiates it where the loss is composed (class-probability targets)."""

from __future__ import annotations

import pytest
import torch

from tests.test_hardening import agree


def _logits(lib, shape=(2, 3)):
    generator = torch.Generator().manual_seed(0)
    values = torch.randn(shape, generator=generator, dtype=torch.float64)
    return lib.tensor(values.tolist(), dtype=lib.float64, requires_grad=True)


def _weight(lib):
    return lib.tensor([0.2, 0.3, 0.5], dtype=lib.float64, requires_grad=True)


CASES = {
    "cross_entropy, class targets": lambda lib: lib.nn.functional.cross_entropy(
        _logits(lib), lib.tensor([1, 0]), weight=_weight(lib)
    ),
    "cross_entropy, smoothing": lambda lib: lib.nn.functional.cross_entropy(
        _logits(lib), lib.tensor([1, 0]), weight=_weight(lib), label_smoothing=0.1
    ),
    "nll_loss": lambda lib: lib.nn.functional.nll_loss(_logits(lib), lib.tensor([1, 0]), weight=_weight(lib)),
    "nll_loss of an input without grad": lambda lib: lib.nn.functional.nll_loss(
        _logits(lib).detach(), lib.tensor([1, 0]), weight=_weight(lib)
    ),
    "nll_loss, (N, C, d)": lambda lib: lib.nn.functional.nll_loss(
        _logits(lib).unsqueeze(-1), lib.tensor([[1], [0]]), weight=_weight(lib)
    ),
    "NLLLoss module": lambda lib: lib.nn.NLLLoss(weight=_weight(lib))(_logits(lib), lib.tensor([1, 0])),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_class_weight_requiring_grad_is_refused(name):
    agree(name, CASES[name], [])


NO_GRAD_CASES = {
    **CASES,
    "multi_margin_loss": lambda lib: lib.nn.functional.multi_margin_loss(
        _logits(lib), lib.tensor([1, 0]), weight=_weight(lib)
    ),
    "binary_cross_entropy": lambda lib: lib.nn.functional.binary_cross_entropy(
        _logits(lib).sigmoid(), _logits(lib).detach().sigmoid(), weight=_weight(lib)
    ),
    "soft_margin_loss target": lambda lib: lib.nn.functional.soft_margin_loss(_logits(lib), _logits(lib)),
}


@pytest.mark.parametrize("name", list(NO_GRAD_CASES))
def test_under_no_grad_the_weight_is_accepted(name):
    def run(lib):
        with lib.no_grad():
            return NO_GRAD_CASES[name](lib)

    agree(name, run, [])


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_probability_targets_differentiate_the_weight(smoothing):
    def run(lib):
        logits, weight = _logits(lib), _weight(lib)
        target = _logits(lib).detach().softmax(1)
        loss = lib.nn.functional.cross_entropy(logits, target, weight=weight, label_smoothing=smoothing)
        loss.backward()
        return loss.detach(), logits.grad, weight.grad

    agree(f"probabilities, smoothing {smoothing}", run, [])
