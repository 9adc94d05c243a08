"""Decaying schedulers keep an int lr as it is until their first decay, as torch's do: a tutorial's
``SGD(lr=5)`` with ``StepLR`` prints ``get_last_lr()`` as [5], not [5.0], and every value after
that is torch's (to float rounding)."""

from __future__ import annotations

import pytest
import torch

import tritongrad

SCHEDULES = {
    "StepLR": lambda lib, o: lib.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.1),
    "StepLR float step_size": lambda lib, o: lib.optim.lr_scheduler.StepLR(o, 1.0, gamma=0.1),
    "MultiStepLR": lambda lib, o: lib.optim.lr_scheduler.MultiStepLR(o, milestones=[3, 4], gamma=0.5),
    "ExponentialLR": lambda lib, o: lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("lr", [5, 0.5])
def test_lr_type_and_values_step_by_step(name, lr):
    histories = []
    for lib in (tritongrad, torch):
        optimizer = lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=lr)
        scheduler = SCHEDULES[name](lib, optimizer)
        history = []
        for _ in range(6):
            history.append((scheduler.get_last_lr()[0], optimizer.param_groups[0]["lr"]))
            optimizer.step()
            scheduler.step()
        histories.append(history)
    ours, theirs = histories
    for step, (got, expected) in enumerate(zip(ours, theirs)):
        for a, b in zip(got, expected):
            assert type(a) is type(b) and a == pytest.approx(b, rel=1e-12), (
                f"{name} lr={lr} step {step}: {got} vs {expected}"
            )
