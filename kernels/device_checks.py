"""Checks of values that only the device knows (an out-of-range class index), without a host sync.

A kernel that validates its input writes what it found into a small device buffer. Reading that
buffer on the host would stall the launch queue in every training step, so on a GPU the check is
deferred, as torch's device-side asserts are: the buffer is kept, and the error is raised at the
next natural sync (a readback such as ``.item()``, ``.tolist()``, printing), or once
``MAX_PENDING`` checks have queued up. In the interpreter the buffer is host memory and reading
it costs nothing, so the error is raised at the call that caused it, as torch does on the CPU.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import torch

from tritongrad import runtime

__all__ = ["check_on_device", "raise_deferred_errors", "deferred_checks"]

MAX_PENDING = 256

_state = threading.local()


def _pending() -> list:
    if not hasattr(_state, "pending"):
        _state.pending = []
    return _state.pending


def _deferring() -> bool:
    return getattr(_state, "defer", runtime.device_type() == "cuda")


def check_on_device(found: torch.Tensor, check: Callable[[list], None]) -> None:
    """``check(found.tolist())`` raises if ``found`` (written by a kernel) reports bad input: now in
    the interpreter, at the next readback on a GPU. A CUDA-graph capture skips it (no readback
    may happen there; every kernel that checks also masks what it reads)."""
    if found.is_cuda and torch.cuda.is_current_stream_capturing():
        return
    if found.is_meta:  # (a launch on meta tensors reads nothing: there are no values to check)
        return
    if getattr(_state, "discard", False):
        return
    if not _deferring():
        check(found.tolist())
        return
    pending = _pending()
    pending.append((found, check))
    if len(pending) >= MAX_PENDING:
        raise_deferred_errors()


def raise_deferred_errors() -> None:
    """Runs the queued checks (one readback each) and raises the first error found."""
    pending = _pending()
    if not pending:
        return
    queued = list(pending)
    pending.clear()
    for found, check in queued:
        check(found.tolist())


@contextlib.contextmanager
def deferred_checks(enabled: bool = True, *, discard: bool = False) -> Iterator[None]:
    """Defers (or not) the checks made in this thread inside the block, whatever the device.
    ``discard`` drops them instead: the host-overhead benchmark, whose launches are stubbed out
    and never write the buffers, times the CPU with a GPU's host path."""
    previous = (getattr(_state, "defer", None), getattr(_state, "discard", False))
    _state.defer, _state.discard = enabled, discard
    try:
        yield
    finally:
        _state.discard = previous[1]
        if previous[0] is None:
            del _state.defer
        else:
            _state.defer = previous[0]
