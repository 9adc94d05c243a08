"""Two guards the whole test suite runs under (installed by conftest.py).

1. ``TorchComputeAudit``: a TorchDispatchMode that records every torch op issued
   from tritongrad's own code (``tritongrad/`` and ``kernels/``) that is not
   allocation, a view, metadata, host ingest/readback, a device copy or
   communication (torch.distributed's ``c10d`` collectives). Torch
   may own memory; it may not compute. Ops issued by the tests themselves (the
   oracle) and by Triton's interpreter while it stages kernel arguments
   (``GridExecutor.__call__``) are not counted.

2. ``InterpreterBoundsChecker``: the interpreter does not check addresses, so
   an unmasked access silently reads or corrupts neighbouring memory. The
   checker records, at every launch, the byte extent of each tensor argument,
   and raises on any masked-on load/store/atomic whose address falls outside
   all of them.
"""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from tritongrad.kernels import optim as optim_kernels

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_OWNED_DIRS = tuple(os.path.join(_REPO_ROOT, d) + os.sep for d in ("tritongrad", "kernels"))
# torch's own package, by its location: a path test such as "/torch/" in the name also matched
# every package of an environment installed under /opt/torch/ (the GPU machines'), Triton's too.
_TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep
# torch's CUDA-graph capture does its own bookkeeping on the device (the RNG's graph-safe state):
# ops issued from inside it are torch's, whoever entered the ``torch.cuda.graph`` block.
_TORCH_GRAPH_CAPTURE = os.path.join(_TORCH_DIR, "cuda", "graphs.py")

_state = threading.local()


def _staging_depth() -> int:
    return getattr(_state, "staging", 0)


# Allocation, metadata, ingest/readback: everything torch may do besides views.
_ALLOWED_OPS = {
    "empty.memory_format",
    "empty_strided.default",
    "empty_like.default",
    "new_empty.default",
    "new_empty_strided.default",
    "resize_.default",  # (an out= tensor of another shape, resized as torch resizes it)
    "lift_fresh.default",
    "_local_scalar_dense.default",
    "detach.default",
    "alias.default",
    "set_.source_Storage_storage_offset",
    "set_.source_Storage",
    "is_same_size.default",
    "sym_size.int",
    "sym_stride.int",
    "sym_numel.default",
    "sym_storage_offset.default",
    "_has_compatible_shallow_copy_type.default",
    "record_stream.default",
    # pinned host memory for asynchronous copies (the optimizers' pointer tables)
    "is_pinned.default",
    "_pin_memory.default",
}

# Communication is not computation: torch.distributed's collectives (c10d.allreduce_,
# c10d.broadcast_, c10d.barrier, ...) move data between processes for tritongrad.distributed.
_COMMUNICATION_NAMESPACES = {"c10d"}


def _issued_by_tritongrad() -> bool:
    """True when the innermost frame outside torch belongs to tritongrad's own code (never inside
    torch's CUDA-graph capture machinery)."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(_OWNED_DIRS):
            return True
        if filename == _TORCH_GRAPH_CAPTURE:
            return False
        if filename.startswith(_TORCH_DIR) or filename == __file__ or filename.startswith("<"):
            frame = frame.f_back
            continue
        return False
    return False


def _is_device_copy(func, args, kwargs) -> bool:
    """``aten._to_copy`` that changes only the device (``.to(device)``, ``.cpu()``)."""
    if func.__name__ != "_to_copy.default":
        return False
    source = args[0]
    dtype = kwargs.get("dtype")
    device = kwargs.get("device")
    return (dtype is None or dtype == source.dtype) and device is not None and torch.device(device) != source.device


class TorchComputeAudit(TorchDispatchMode):
    """Records torch compute ops issued by tritongrad (see module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.violations: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if _staging_depth() == 0 and _issued_by_tritongrad():
            name = func.__name__
            allowed = (
                func.is_view
                or name in _ALLOWED_OPS
                or func.namespace in _COMMUNICATION_NAMESPACES
                or _is_device_copy(func, args, kwargs)
            )
            if not allowed:
                self.violations.append(f"aten.{name} issued by {_caller_location()}")
        return func(*args, **kwargs)


def _caller_location() -> str:
    frame = sys._getframe(3)
    while frame is not None and not frame.f_code.co_filename.startswith(_OWNED_DIRS):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{os.path.relpath(frame.f_code.co_filename, _REPO_ROOT)}:{frame.f_lineno}"


class OutOfBoundsAccess(RuntimeError):
    """A kernel touched memory outside every tensor passed to it."""


class InterpreterBoundsChecker:
    """Wraps Triton's interpreter so that every masked-on access is checked (see module docstring)."""

    def __init__(self) -> None:
        from triton.runtime import interpreter

        self._interpreter = interpreter
        self._local = threading.local()
        self._installed = False

    @property
    def _extents(self) -> list[list[tuple[int, int]]]:
        """The launches in flight on this thread (innermost last), each with its tensors' extents:
        per thread, since threads may launch kernels concurrently (the interpreter serialises them)."""
        stack = getattr(self._local, "extents", None)
        if stack is None:
            stack = self._local.extents = []
        return stack

    def install(self) -> None:
        if self._installed:
            return
        optim_kernels.RECORD_TABLE_EXTENTS = True  # pointer tables say which memory they grant
        interp = self._interpreter
        executor = interp.GridExecutor
        builder = interp.InterpreterBuilder
        checker = self
        original_call = executor.__call__
        original_init_args = executor._init_args_hst

        def call(self_executor, *args, **kwargs):
            _state.staging = _staging_depth() + 1
            checker._extents.append([])
            try:
                return original_call(self_executor, *args, **kwargs)
            finally:
                checker._extents.pop()
                _state.staging -= 1

        def init_args(self_executor, args_dev, kwargs):
            args_hst, kwargs_hst = original_init_args(self_executor, args_dev, kwargs)
            extents = checker._extents[-1] if checker._extents else []
            for arg in list(args_hst) + list(kwargs_hst.values()):
                checker._collect(arg, extents)
            return args_hst, kwargs_hst

        def wrap_access(method_name, pointer_index, mask_index):
            original = getattr(builder, method_name)

            # Keyword arguments: the tensor-descriptor load passes its cache policy by name.
            def checked(self_builder, *args, **kwargs):
                checker._check(method_name, args[pointer_index], args[mask_index] if mask_index is not None else None)
                return original(self_builder, *args, **kwargs)

            setattr(builder, method_name, checked)

        executor.__call__ = call
        executor._init_args_hst = init_args
        wrap_access("create_masked_load", 0, 1)
        wrap_access("create_masked_store", 0, 2)
        if hasattr(builder, "create_atomic_rmw"):
            wrap_access("create_atomic_rmw", 1, 3)
        if hasattr(builder, "create_atomic_cas"):
            wrap_access("create_atomic_cas", 0, None)
        self._installed = True

    def _collect(self, arg, extents: list[tuple[int, int]]) -> None:
        if isinstance(arg, (tuple, list)):
            for item in arg:
                self._collect(item, extents)
            return
        tensor = getattr(arg, "base", arg)  # TensorWrapper (reinterpreted dtype) keeps the tensor in .base
        if not isinstance(tensor, torch.Tensor):
            return
        if tensor.numel() == 0:
            return
        span = sum((size - 1) * stride for size, stride in zip(tensor.shape, tensor.stride()) if size > 0) + 1
        start = tensor.data_ptr()
        extents.append((start, start + span * tensor.element_size()))
        # A pointer table (kernels/optim.py) also grants access to the tensors it points to.
        extents.extend(optim_kernels.POINTER_TABLE_EXTENTS.get(start, ()))

    def _check(self, what: str, pointers, mask) -> None:
        if not self._extents:
            return
        addresses = np.asarray(pointers.data).astype(np.uint64).ravel()
        if mask is not None:
            on = np.broadcast_to(np.asarray(mask.data, dtype=bool), np.asarray(pointers.data).shape).ravel()
            addresses = addresses[on]
        if addresses.size == 0:
            return
        element_bytes = max(pointers.get_element_ty().primitive_bitwidth // 8, 1)
        inside = np.zeros(addresses.shape, dtype=bool)
        for start, stop in self._extents[-1]:
            inside |= (addresses >= start) & (addresses + element_bytes <= stop)
        if not inside.all():
            bad = int(addresses[~inside][0])
            ranges = ", ".join(f"[{hex(a)}, {hex(b)})" for a, b in self._extents[-1])
            raise OutOfBoundsAccess(
                f"{what} at {hex(bad)} ({int((~inside).sum())} addresses) outside every tensor argument: {ranges}"
            )
