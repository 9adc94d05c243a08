"""Checks of device-side values (class targets, integer divisors): raised at the call in the
interpreter, as torch does on the CPU; deferred to the next readback as on a GPU when asked."""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import from_torch
from tritongrad.kernels import device_checks


def _bad_targets():
    logits = from_torch(torch.randn(4, 3))
    targets = from_torch(torch.tensor([0, 2, 5, 1]))
    return logits, targets


def test_the_interpreter_raises_at_the_call():
    logits, targets = _bad_targets()
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.cross_entropy(logits, targets)


def test_deferred_check_raises_at_the_next_readback():
    logits, targets = _bad_targets()
    with device_checks.deferred_checks():
        loss = F.cross_entropy(logits, targets)  # no readback: nothing raised yet
        other = from_torch(torch.ones(2)) * 3
        with pytest.raises(IndexError, match="Target 5 is out of bounds"):
            other.tolist()
        assert other.tolist() == [3.0, 3.0]  # reported once, then forgotten
    assert tuple(loss.shape) == ()


@pytest.mark.parametrize("readback", ["item", "tolist", "numpy", "repr", "bool"])
def test_every_readback_raises_a_deferred_error(readback):
    a = from_torch(torch.tensor([4, 6]))
    b = from_torch(torch.tensor([2, 0]))
    with device_checks.deferred_checks():
        a // b
        probe = from_torch(torch.tensor([1.0]))
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            {"item": probe.item, "tolist": probe.tolist, "numpy": probe.numpy, "repr": lambda: repr(probe),
             "bool": lambda: bool(probe)}[readback]()  # fmt: skip


def test_queued_checks_are_run_when_the_queue_is_full(monkeypatch):
    monkeypatch.setattr(device_checks, "MAX_PENDING", 3)
    logits = from_torch(torch.randn(2, 3))
    good, bad = from_torch(torch.tensor([0, 1])), from_torch(torch.tensor([0, 3]))
    with device_checks.deferred_checks():
        F.cross_entropy(logits, good)
        F.cross_entropy(logits, bad)
        with pytest.raises(IndexError, match="Target 3"):
            F.cross_entropy(logits, good)  # the third queued check runs the queue


def test_discarded_checks_never_raise():
    logits, targets = _bad_targets()
    with device_checks.deferred_checks(discard=True):
        F.cross_entropy(logits, targets)
    assert tritongrad.ones(1).item() == 1.0
