"""Separate models trained in separate threads give exactly the results they give alone.

On the CPU the interpreter keeps per-launch state in globals, so tritongrad runs one interpreted
kernel at a time (tritongrad/runtime.py); grad mode is per thread, as torch's.
"""

from __future__ import annotations

import threading

import numpy as np

import tritongrad
import tritongrad.nn as nn


def train(seed: int, steps: int = 6) -> list[float]:
    """A small regression model whose weights and data come from ``seed`` (numpy, so no shared RNG)."""
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 1))
    with tritongrad.no_grad():
        for parameter in model.parameters():
            parameter.copy_(tritongrad.tensor(rng.standard_normal(tuple(parameter.shape)).astype(np.float32)))
    inputs = tritongrad.tensor(rng.standard_normal((16, 5)).astype(np.float32))
    targets = tritongrad.tensor(rng.standard_normal((16, 1)).astype(np.float32))
    optimizer = tritongrad.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((model(inputs) - targets) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_models_trained_in_threads_match_their_single_threaded_runs():
    seeds = [1, 2, 3, 4]
    alone = {seed: train(seed) for seed in seeds}
    together: dict[int, list[float]] = {}
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        try:
            together[seed] = train(seed)
        except BaseException as error:  # reported below: a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in seeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, f"a training thread failed: {errors[0]!r}"
    for seed in seeds:
        assert together[seed] == alone[seed], f"seed {seed}: threaded {together[seed]} != alone {alone[seed]}"


def test_grad_mode_is_per_thread():
    seen = {}

    def worker() -> None:
        seen["enabled"] = tritongrad.is_grad_enabled()

    with tritongrad.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen["enabled"] is True
