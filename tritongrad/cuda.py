"""``tritongrad.cuda``: whether a GPU is in use, and torch.cuda's device and memory queries.

torch owns tritongrad's memory, so the memory queries (``memory_allocated``, ``empty_cache``, ...)
are torch's own answers; on the CPU interpreter they answer as torch.cuda does without a GPU.
``tritongrad.cuda.amp`` holds the legacy spellings of ``autocast`` and ``GradScaler``.
"""

from __future__ import annotations

import torch

from tritongrad import amp as _amp
from tritongrad import caller_warnings, runtime
from tritongrad.cuda_graphs import GraphedStep, make_graphed_step  # noqa: F401
from tritongrad.random import manual_seed as set_seed

__all__ = ["OutOfMemoryError", "is_available", "device_count", "synchronize", "manual_seed", "manual_seed_all",
           "GraphedStep", "make_graphed_step", "current_device", "set_device", "get_device_name", "is_bf16_supported",
           "empty_cache", "memory_allocated", "max_memory_allocated", "memory_reserved",
           "reset_peak_memory_stats", "amp"]  # fmt: skip


# torch's exception for a failed CUDA allocation (tritongrad's memory is torch's, so torch raises it)
OutOfMemoryError = torch.OutOfMemoryError


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
    set_seed(seed)


manual_seed_all = manual_seed


def current_device() -> int:
    if not is_available():
        raise RuntimeError("Torch not compiled with CUDA enabled" if not torch.cuda.is_available() else "no GPU in use")
    return torch.cuda.current_device()


def set_device(device) -> None:
    if is_available():
        torch.cuda.set_device(device)


def get_device_name(device=None) -> str:
    if not is_available():
        raise RuntimeError("Torch not compiled with CUDA enabled")
    return torch.cuda.get_device_name(device)


def is_bf16_supported() -> bool:
    """bf16 kernels run where tritongrad runs a GPU (Ampere and newer) — torch's answer there."""
    return is_available() and torch.cuda.is_bf16_supported()


def empty_cache() -> None:
    """Returns torch's cached, unused GPU memory to the driver (no-op without a GPU)."""
    if is_available():
        torch.cuda.empty_cache()


def memory_allocated(device=None) -> int:
    return torch.cuda.memory_allocated(device) if is_available() else 0


def max_memory_allocated(device=None) -> int:
    return torch.cuda.max_memory_allocated(device) if is_available() else 0


def memory_reserved(device=None) -> int:
    return torch.cuda.memory_reserved(device) if is_available() else 0


def reset_peak_memory_stats(device=None) -> None:
    if is_available():
        torch.cuda.reset_peak_memory_stats(device)


class _LegacyAmp:
    """``tritongrad.cuda.amp``: torch's older spellings, ``autocast(enabled, dtype)`` and ``GradScaler(...)``."""

    @staticmethod
    def autocast(enabled: bool = True, dtype=torch.float16, cache_enabled: bool = True) -> _amp.autocast:
        caller_warnings.warn(
            "`torch.cuda.amp.autocast(args...)` is deprecated. Please use `torch.amp.autocast('cuda', args...)` "
            "instead.",
            FutureWarning,
        )
        return _amp.autocast("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

    @staticmethod
    def GradScaler(init_scale: float = 2.0**16, growth_factor: float = 2.0, backoff_factor: float = 0.5,  # noqa: N802
                   growth_interval: int = 2000, enabled: bool = True) -> _amp.GradScaler:  # fmt: skip
        caller_warnings.warn(
            "`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use `torch.amp.GradScaler('cuda', args...)` "
            "instead.",
            FutureWarning,
        )
        return _amp.GradScaler("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


amp = _LegacyAmp()
