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


def _train_mixed(kind: str, seed: int, steps: int = 3) -> list[float]:
    """Models of different op families (convolution and pooling; embedding, layer norm, attention
    softmax and cross-entropy), so concurrent threads interleave launches of many kernels."""
    rng = np.random.default_rng(seed)
    if kind == "conv":
        model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 4))
        inputs = tritongrad.tensor(rng.standard_normal((5, 2, 4, 4)).astype(np.float32))
    else:
        model = nn.Sequential(nn.Embedding(11, 6), nn.LayerNorm(6), nn.Flatten(), nn.Linear(18, 4))
        inputs = tritongrad.tensor(rng.integers(0, 11, (5, 3)))
    with tritongrad.no_grad():
        for parameter in model.parameters():
            parameter.copy_(tritongrad.tensor(rng.standard_normal(tuple(parameter.shape)).astype(np.float32) * 0.3))
    targets = tritongrad.tensor(rng.integers(0, 4, (5,)))
    optimizer = tritongrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(tritongrad.softmax(model(inputs), 1) * 3.0, targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_models_of_different_op_families_trained_in_threads_match_their_runs_alone():
    jobs = [("conv", 1), ("embedding", 2), ("conv", 3), ("embedding", 4)]
    alone = {job: _train_mixed(*job) for job in jobs}
    together: dict = {}
    errors: list[BaseException] = []

    def worker(job) -> None:
        try:
            together[job] = _train_mixed(*job)
        except BaseException as error:  # reported below: a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, f"a training thread failed: {errors[0]!r}"
    for job in jobs:
        assert together[job] == alone[job], f"{job}: threaded {together[job]} != alone {alone[job]}"
