"""``tritongrad.cuda``: whether a GPU is in use (torch.cuda's answers)."""

from __future__ import annotations

import torch

from tritongrad import runtime
from tritongrad.cuda_graphs import GraphedStep, make_graphed_step  # noqa: F401

__all__ = ["is_available", "device_count", "synchronize", "manual_seed", "manual_seed_all", "GraphedStep",
           "make_graphed_step"]  # fmt: skip


def is_available() -> bool:
    """True when tritongrad computes on a CUDA GPU."""
    return runtime.device_type() == "cuda"


def device_count() -> int:
    return torch.cuda.device_count() if is_available() else 0


def synchronize() -> None:
    """Waits for all kernels on the current GPU to finish (no-op on the interpreter)."""
    if is_available():
        torch.cuda.synchronize()


def manual_seed(seed: int) -> None:
    """tritongrad has one generator for all devices: same as ``tritongrad.manual_seed``."""
    from tritongrad.random import manual_seed as set_seed

    set_seed(seed)


manual_seed_all = manual_seed
