"""Process-wide switches and guards that torch scripts touch without computing with them.

``torch.compile`` and ``torch.jit.script``/``trace`` return what they are given: tritongrad's ops
are already Triton kernels, and a script that compiles its model for speed runs the same model
eagerly here. Threads, determinism and the dtype limits (``finfo``/``iinfo``) are torch's own
answers, since torch owns the memory and the CPU threads.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch

from tritongrad import amp

__all__ = ["jit", "finfo", "iinfo", "inf", "nan", "pi", "e", "newaxis", "get_num_threads",
           "set_num_threads", "get_num_interop_threads", "set_num_interop_threads",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled", "is_floating_point",
           "is_complex", "is_nonzero", "compiler", "cpu", "mps", "xpu"]  # fmt: skip

inf = math.inf
nan = math.nan
pi = math.pi
e = math.e
newaxis = None

finfo = torch.finfo
iinfo = torch.iinfo
get_num_threads = torch.get_num_threads
set_num_threads = torch.set_num_threads
get_num_interop_threads = torch.get_num_interop_threads
set_num_interop_threads = torch.set_num_interop_threads

_deterministic = {"enabled": False, "warn_only": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Recorded like torch's flag. tritongrad's kernels give the same bits run to run, except
    atomically accumulated index gradients (duplicate indices), whose float sums may round in
    another order; nothing else changes."""
    _deterministic["enabled"], _deterministic["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic["enabled"]


def _identity(obj=None, *args, **kwargs):
    return obj


jit = SimpleNamespace(script=_identity, trace=_identity, ignore=_identity, unused=_identity, export=_identity,
                      is_scripting=lambda: False, is_tracing=lambda: False)  # fmt: skip


def is_floating_point(input) -> bool:
    return input.dtype.is_floating_point


def is_complex(input) -> bool:
    return input.dtype.is_complex


def is_nonzero(input) -> bool:
    """torch.is_nonzero: the truth of a one-element tensor (Tensor.is_nonzero)."""
    return input.is_nonzero()


def _disable(fn=None, recursive: bool = True, *, reason=None):
    """torch.compiler.disable, as a decorator with or without arguments: the function itself."""
    return (lambda function: function) if fn is None else fn


# torch.compiler: nothing is compiled by torch here, so nothing is ever being compiled
compiler = SimpleNamespace(disable=_disable, is_compiling=lambda: False, is_dynamo_compiling=lambda: False,
                           reset=lambda: None, allow_in_graph=_identity, assume_constant_result=_identity)  # fmt: skip

# torch.cpu and torch.mps: the host is always there; no Apple GPU is used
cpu = SimpleNamespace(is_available=lambda: True, device_count=lambda: 1, current_device=lambda: "cpu",
                      synchronize=lambda device=None: None,
                      amp=SimpleNamespace(autocast=amp._cpu_autocast, GradScaler=amp._cpu_grad_scaler))  # fmt: skip
mps = SimpleNamespace(device_count=lambda: 0, synchronize=lambda: None, empty_cache=lambda: None,
                      manual_seed=lambda seed: None, is_available=lambda: False)  # fmt: skip
# torch.xpu: no Intel GPU is used either
xpu = SimpleNamespace(device_count=lambda: 0, is_available=lambda: False, manual_seed=lambda seed: None,
                      manual_seed_all=lambda seed: None, synchronize=lambda device=None: None,
                      empty_cache=lambda: None)  # fmt: skip
