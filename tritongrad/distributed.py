"""Communication between processes for data-parallel training, on torch.distributed.

tritongrad does not carry its own communication engine: moving bytes between
GPUs and machines is torch.distributed's job (NCCL between GPUs, gloo between
CPU processes), started by ``torchrun``. Communication is not computation, so
the rule that every arithmetic step is a tritongrad kernel still holds: the
collectives here only sum or copy buffers across processes, and anything
computed around them (averaging, flattening) is done by the caller with
tritongrad ops.

The collectives take tritongrad Tensors and work in place on their torch
storage. A non-contiguous tensor is staged through a contiguous buffer with
tritongrad's copy kernel, because the backends want dense memory.

A collective that fails (a peer raised and exited, or the process group's
``timeout`` ran out) raises a ``RuntimeError`` naming the rank, the
collective and the likely cause, instead of the backend's bare message.

Example (``torchrun --nproc-per-node 2 script.py``)::

    >>> from tritongrad import distributed as dist
    >>> dist.init_process_group(timeout=datetime.timedelta(minutes=5))
    >>> total = tritongrad.tensor([float(dist.get_rank())])
    >>> dist.all_reduce(total)          # every rank now holds 0 + 1 = 1
"""

from __future__ import annotations

import os
from datetime import timedelta

import torch
import torch.distributed as torch_dist

from tritongrad import runtime
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.tensor import Tensor

__all__ = [
    "ReduceOp",
    "Work",
    "all_reduce",
    "barrier",
    "broadcast",
    "default_backend",
    "destroy_process_group",
    "get_global_rank",
    "get_local_rank",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
]

ReduceOp = torch_dist.ReduceOp


# ---------------------------------------------------------------------------------------------
# Process group: thin passthroughs, with tritongrad's device choosing the backend
# ---------------------------------------------------------------------------------------------


def is_available() -> bool:
    """True when this torch build has torch.distributed."""
    return torch_dist.is_available()


def is_initialized() -> bool:
    """True once ``init_process_group`` has run in this process."""
    return torch_dist.is_available() and torch_dist.is_initialized()


def default_backend() -> str:
    """``'nccl'`` when tritongrad computes on a GPU, ``'gloo'`` on the CPU interpreter."""
    return "nccl" if runtime.device_type() == "cuda" else "gloo"


def init_process_group(
    backend: str | None = None,
    *,
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
    **kwargs,
) -> None:
    """torch.distributed.init_process_group with the backend defaulting to tritongrad's device.

    Under ``torchrun`` no argument is needed: rank, world size and the rendezvous
    address come from the environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``,
    ``MASTER_PORT``). ``timeout`` bounds how long a collective waits for a peer
    before raising; set it to a few minutes so that a crashed rank stops the
    others instead of leaving them blocked for torch's default 30 minutes.
    """
    if not is_available():
        raise RuntimeError("torch.distributed is not available in this torch build")
    if timeout is not None:
        kwargs["timeout"] = timeout
    torch_dist.init_process_group(
        backend or default_backend(), init_method=init_method, world_size=world_size, rank=rank, **kwargs
    )


def destroy_process_group(group=None) -> None:
    """Leaves ``group`` (the default group when None) and frees its resources."""
    torch_dist.destroy_process_group(group)


def get_rank(group=None) -> int:
    """This process's rank in ``group`` (the default group when None)."""
    return torch_dist.get_rank(group)


def get_world_size(group=None) -> int:
    """The number of processes in ``group`` (the default group when None)."""
    return torch_dist.get_world_size(group)


def get_global_rank(group, group_rank: int) -> int:
    """The global rank of the process with rank ``group_rank`` in ``group`` (None: the default group)."""
    return group_rank if group is None else torch_dist.get_global_rank(group, group_rank)


def get_local_rank() -> int:
    """This process's index on its machine (``LOCAL_RANK``, set by torchrun; 0 without it)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def barrier(group=None) -> None:
    """Blocks until every process of ``group`` reached this call."""
    Work(torch_dist.barrier(group=group, async_op=True), "barrier", group).wait()


# ---------------------------------------------------------------------------------------------
# Collectives on tritongrad tensors
# ---------------------------------------------------------------------------------------------


class Work:
    """An in-flight collective: ``wait()`` blocks until it finished (and its result is in place).

    Wraps torch's work handle so that a failure names the collective and the rank,
    and so that a tensor staged through a contiguous buffer gets its result copied
    back when the collective completes.
    """

    def __init__(self, work, description: str, group, staged: torch.Tensor | None = None, target=None):
        self._work = work
        self._description = description
        self._group = group
        self._staged = staged
        self._target = target
        self._done = False

    def is_completed(self) -> bool:
        """True when the collective finished (``wait()`` will not block)."""
        return self._done or self._work.is_completed()

    def wait(self) -> None:
        """Blocks until the collective finished; raises RuntimeError if it failed or timed out."""
        if self._done:
            return
        self._done = True
        try:
            self._work.wait()
        except RuntimeError as error:
            raise _collective_error(self._description, self._group, error) from error
        if self._staged is not None:
            elementwise_kernels.launch_unary("copy", self._staged, out=self._target._data)


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False) -> Work | None:
    """Reduces ``tensor`` across all processes of ``group``, in place (a sum by default).

    With ``async_op=True`` it returns a ``Work`` at once and the reduction proceeds
    in the background; the tensor must not be read or written until ``wait()``.
    """

    def start(data: torch.Tensor):
        return torch_dist.all_reduce(data, op=op, group=group, async_op=True)

    return _wait_unless_async(_collective("all_reduce", tensor, group, start), async_op)


def broadcast(tensor: Tensor, src: int, group=None, async_op: bool = False) -> Work | None:
    """Copies ``tensor`` from global rank ``src`` into the same tensor on every other process."""

    def start(data: torch.Tensor):
        return torch_dist.broadcast(data, src=src, group=group, async_op=True)

    return _wait_unless_async(_collective(f"broadcast from rank {src}", tensor, group, start), async_op)


def _wait_unless_async(work: Work, async_op: bool) -> Work | None:
    if async_op:
        return work
    work.wait()
    return None


def _collective(name: str, tensor: Tensor, group, start) -> Work:
    """Starts ``start(buffer)`` on the tensor's storage, staging it when it is not contiguous."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a tritongrad Tensor, got {type(tensor).__name__}")
    dtype_name = str(tensor.dtype).replace("torch.", "")
    description = f"{name} of a {dtype_name} tensor of shape {list(tensor.shape)}"
    # The collective writes into the tensor: bump its version now, as torch's in-place ops do,
    # so a saved copy of it used by a later backward is reported as modified.
    tensor._version_counter.bump()
    data = tensor._data
    if data.is_contiguous():
        return Work(start(data), description, group)
    staged = torch.empty(tuple(data.shape), dtype=data.dtype, device=data.device)
    elementwise_kernels.launch_unary("copy", data, out=staged)
    return Work(start(staged), description, group, staged=staged, target=tensor)


def _collective_error(description: str, group, error: Exception) -> RuntimeError:
    try:
        where = f"rank {get_rank(group)} of {get_world_size(group)}"
    except (RuntimeError, ValueError):
        where = "a rank whose process group is gone"
    return RuntimeError(
        f"tritongrad.distributed: {description} failed on {where}. Another rank most likely raised an "
        "exception or exited before reaching this collective (its own error names the cause), or the "
        f"process group's timeout ran out. Backend error: {error}"
    )
