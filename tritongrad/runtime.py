"""Where tritongrad's kernels run, and how large their blocks are.

tritongrad computes on an NVIDIA GPU when torch sees one, and otherwise runs the
very same Triton kernels on the CPU through Triton's interpreter. The choice is
made once, when tritongrad is first imported:

- ``TRITONGRAD_DEVICE=cuda`` or ``cpu`` forces one;
- otherwise ``torch.cuda.is_available()`` decides.

The interpreter is switched on with ``TRITON_INTERPRET=1``, which must be in the
environment before triton is first imported; importing triton earlier without
it is reported as an error rather than silently running compiled kernels on
CPU pointers.

This module also holds the one block-size policy of the package. The
interpreter runs every program instance as a sequence of numpy calls costing
~50-100 µs per Triton op, so there the best block is the largest that fits:
few program instances, each moving a lot of data. On a GPU a block is sized
for occupancy and coalescing instead.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import torch

__all__ = [
    "allow_meta_tensors",
    "observe_launches",
    "device",
    "device_type",
    "is_interpreter",
    "elementwise_launch_config",
    "next_power_of_2",
    "cdiv",
    "reduction_block",
    "INTERPRETER_MAX_BLOCK",
    "set_interpreter_overflow_checks",
]


def _choose_device_type() -> str:
    requested = os.environ.get("TRITONGRAD_DEVICE", "").strip().lower()
    if requested in ("cuda", "gpu"):
        if not torch.cuda.is_available():
            raise RuntimeError("TRITONGRAD_DEVICE=cuda was requested, but torch.cuda.is_available() is False")
        return "cuda"
    if requested == "cpu":
        return "cpu"
    if requested:
        raise ValueError(f"TRITONGRAD_DEVICE must be 'cpu' or 'cuda', got {requested!r}")
    return "cuda" if torch.cuda.is_available() else "cpu"


def _switch_on_interpreter() -> None:
    if os.environ.get("TRITON_INTERPRET") == "1":
        return
    if "triton" in sys.modules:
        raise RuntimeError(
            "tritongrad runs its kernels through Triton's interpreter on this machine (no GPU), "
            "but triton was imported before tritongrad without TRITON_INTERPRET=1. "
            "Import tritongrad before triton, or set TRITON_INTERPRET=1 in the environment."
        )
    os.environ["TRITON_INTERPRET"] = "1"


def _serialize_interpreter() -> None:
    """One kernel at a time through the interpreter, whichever thread launches it.

    The interpreter keeps per-launch state in module globals (the program id of the block being
    run, triton.language functions patched for the kernel), so two threads interpreting at once
    corrupt each other's launches. A GPU launch has no such state and is left concurrent.
    """
    # Imported here, not at the top: triton must not load before TRITON_INTERPRET is set above.
    from triton.runtime import interpreter

    launch = interpreter.GridExecutor.__call__
    if getattr(launch, "serialized_by_tritongrad", False):
        return
    lock = threading.RLock()

    def serialized_launch(self, *args, **kwargs):
        with lock:
            return launch(self, *args, **kwargs)

    serialized_launch.serialized_by_tritongrad = True
    interpreter.GridExecutor.__call__ = serialized_launch


def set_interpreter_overflow_checks(enabled: bool) -> None:
    """Whether the interpreter checks every int32 add, sub and mul of a kernel for overflow.

    Triton's interpreter does by default (an AssertionError on overflow), which makes index-heavy
    kernels 4-8x slower (a conv2d or a 512x512 matmul: measured 4x and 8x with triton 3.9).
    Compiled kernels check only with debug=True; tritongrad runs the interpreter without the check
    (``TRITONGRAD_INTERPRETER_OVERFLOW_CHECKS=1`` keeps it) and its test suite with it, so an int32
    offset that overflows still fails there.
    """
    # Imported here, not at the top: triton must not load before TRITON_INTERPRET is set above.
    from triton.runtime import interpreter

    builder = getattr(interpreter, "interpreter_builder", None)
    if builder is not None and hasattr(builder.options, "sanitize_overflow"):
        builder.options = dataclasses.replace(builder.options, sanitize_overflow=bool(enabled))


_DEVICE_TYPE = _choose_device_type()
if _DEVICE_TYPE == "cpu":
    _switch_on_interpreter()
    _serialize_interpreter()
    set_interpreter_overflow_checks(os.environ.get("TRITONGRAD_INTERPRETER_OVERFLOW_CHECKS") == "1")


def _cuda_device() -> torch.device:
    """cuda:LOCAL_RANK under torchrun (one GPU per process), else the current CUDA device."""
    local_rank = os.environ.get("LOCAL_RANK")
    if local_rank is not None and int(local_rank) < torch.cuda.device_count():
        torch.cuda.set_device(int(local_rank))
    return torch.device("cuda", torch.cuda.current_device())


_DEVICE = _cuda_device() if _DEVICE_TYPE == "cuda" else torch.device("cpu")


def device() -> torch.device:
    """The device tritongrad computes on: ``cuda:N`` with a GPU, else ``cpu`` (interpreter)."""
    return _DEVICE


def allow_meta_tensors() -> None:
    """Makes a kernel launch whose tensor arguments are all on the meta device a no-op: a meta
    tensor has a shape, strides and a dtype but no memory, so an op on meta tensors is its
    launcher's checks and output allocation (on meta: shapes only), as torch's meta kernels are.
    A launch mixing meta and real tensors is an error (there is nothing to read or write).

    Switched on by the first meta tensor tritongrad makes (creation and ``to``), so launches pay for
    the check only in a process that uses the meta device; idempotent.
    """
    _launches.skip_meta = True
    _wrap_launches()


def observe_launches(observer: Callable[[str], Any] | None) -> None:
    """Calls ``observer(kernel_name)`` before each kernel launch and ``observer.close(what it
    returned)`` after it (the profiler's timing); None stops observing."""
    _launches.observer = observer
    if observer is not None:
        _wrap_launches()


class _LaunchState:
    skip_meta = False
    observer: Callable[[str], Any] | None = None


_launches = _LaunchState()


def _wrap_launches() -> None:
    """Wraps every ``kernel[grid](...)`` launch (Triton's KernelInterface, which JIT, autotuned and
    interpreted kernels share) for the meta device and the launch observer; once, on first need."""
    # Imported here, not at the top: triton must not load before TRITON_INTERPRET is set above.
    from triton.runtime.jit import KernelInterface

    getitem = KernelInterface.__getitem__
    if getattr(getitem, "wrapped_by_tritongrad", False):
        return

    def getitem_wrapped(self, grid):
        launch = getitem(self, grid)

        def launch_wrapped(*args, **kwargs):
            if _launches.skip_meta:
                devices = {a.device.type for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)}
                if "meta" in devices:
                    if len(devices) > 1:
                        raise RuntimeError(
                            "Expected all tensors to be on the same device, but found at least two devices, "
                            + " and ".join(sorted(devices))
                            + "!"
                        )
                    return None
            observer = _launches.observer
            if observer is None:
                return launch(*args, **kwargs)
            event = observer(getattr(self, "__name__", None) or getattr(self.fn, "__name__", "kernel"))
            try:
                return launch(*args, **kwargs)
            finally:
                observer.close(event)

        return launch_wrapped

    getitem_wrapped.wrapped_by_tritongrad = True
    KernelInterface.__getitem__ = getitem_wrapped


def device_type() -> str:
    """``'cuda'`` or ``'cpu'``."""
    return _DEVICE_TYPE


def is_interpreter() -> bool:
    """True when kernels run through Triton's CPU interpreter."""
    return _DEVICE_TYPE == "cpu"


def cdiv(n: int, d: int) -> int:
    """ceil(n / d) for launch grids. (``triton.cdiv`` does the same, but since triton 3.9 it is a
    ConstexprFunction whose host call costs about 2 µs; a launcher calls this several times.)"""
    return -(-n // d)


def next_power_of_2(n: int) -> int:
    """The smallest power of two >= n (1 for n <= 1)."""
    return 1 if n <= 1 else 1 << (int(n) - 1).bit_length()


# The interpreter materialises every block as numpy arrays; beyond 2**16
# elements a block costs more in numpy than it saves in per-op overhead.
INTERPRETER_MAX_BLOCK = 1 << 16

# On a GPU an elementwise program handles 4 elements per thread (one 128-bit
# access for fp32) over 4 or 8 warps; large tensors get more work per program
# to amortise index arithmetic.
_GPU_ELEMENTWISE_SMALL = (1024, 4)
_GPU_ELEMENTWISE_LARGE = (2048, 8)
_GPU_LARGE_THRESHOLD = 1 << 20


# Ops that evaluate a float64 series per element (lgamma, zeta, ...) keep one 128-bit access of
# fp32 per thread: twice the elements would double the registers their series hold and spill.
_GPU_ELEMENTWISE_SERIES = (512, 4)


def elementwise_launch_config(numel: int, series: bool = False) -> tuple[int, int]:
    """(BLOCK, num_warps) for a kernel in which one program handles BLOCK elements (``series``:
    the op's per-element work is a long float64 computation)."""
    if is_interpreter():
        return min(max(next_power_of_2(numel), 16), INTERPRETER_MAX_BLOCK), 4
    if series:
        return _GPU_ELEMENTWISE_SERIES
    return _GPU_ELEMENTWISE_LARGE if numel >= _GPU_LARGE_THRESHOLD else _GPU_ELEMENTWISE_SMALL


def reduction_block(length: int, max_block: int | None = None) -> int:
    """Block along a reduced axis: the whole axis when it fits, else a tile to loop over.

    In the interpreter the whole row is taken up to INTERPRETER_MAX_BLOCK; on a GPU
    up to 4096 elements so a row stays in registers without spilling.
    """
    cap = INTERPRETER_MAX_BLOCK if is_interpreter() else 4096
    if max_block is not None:
        cap = min(cap, max_block)
    return min(max(next_power_of_2(length), 16), cap)
