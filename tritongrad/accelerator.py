"""``tritongrad.accelerator``: torch.accelerator's device-agnostic queries (``torch.accelerator.
is_available()``, ``current_accelerator()``, as today's PyTorch tutorials pick their device), answered
by ``tritongrad.cuda``: the accelerator is the CUDA GPU tritongrad computes on, or there is none (the
CPU interpreter), and then the device-bound calls raise torch's error.
"""

from __future__ import annotations

import torch

from tritongrad import cuda

__all__ = ["current_accelerator", "current_device_index", "current_device_idx", "device_count", "empty_cache",
           "is_available", "memory_allocated", "max_memory_allocated", "memory_reserved", "reset_peak_memory_stats",
           "set_device_index", "set_device_idx", "synchronize"]  # fmt: skip


def is_available() -> bool:
    """True when tritongrad computes on a GPU."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> torch.device | None:
    """``device("cuda")`` on a GPU, else None (torch's answer without an accelerator)."""
    return torch.device("cuda") if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count()


def _device_bound(name: str, function):
    """A query that needs the accelerator: ``function`` on a GPU, torch's RuntimeError without one."""

    def call(*args, **kwargs):
        if not cuda.is_available():
            raise RuntimeError("Cannot access accelerator device when none is available.")
        return function(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


current_device_index = current_device_idx = _device_bound("current_device_index", cuda.current_device)
set_device_index = set_device_idx = _device_bound("set_device_index", cuda.set_device)
synchronize = _device_bound("synchronize", lambda device=None: cuda.synchronize())
empty_cache = _device_bound("empty_cache", cuda.empty_cache)
memory_allocated = _device_bound("memory_allocated", cuda.memory_allocated)
max_memory_allocated = _device_bound("max_memory_allocated", cuda.max_memory_allocated)
memory_reserved = _device_bound("memory_reserved", cuda.memory_reserved)
reset_peak_memory_stats = _device_bound("reset_peak_memory_stats", cuda.reset_peak_memory_stats)
