"""DistributedDataParallel: one model replica per process, gradients averaged over torch.distributed.

Every process (one per GPU, started by ``torchrun``) holds the whole model and runs
forward and backward on its own shard of the batch. Wrapping the model makes the
replicas start equal (parameters and buffers are broadcast from rank 0) and stay
equal: after each backward every ``.grad`` holds the average of the gradients of
all processes, so identical optimizer steps follow.

How the averaging works:

- **Buckets.** Gradients are not sent one tensor at a time (hundreds of small
  messages, each paying the network's latency) but in buckets: flat buffers of
  ``bucket_cap_mb`` holding several parameters' gradients side by side.
  Parameters are assigned in reverse registration order, which is the order in
  which backward produces their gradients (the last layer's first), and the
  first bucket is small (1 MiB) so that communication starts early.
- **Readiness through tape hooks.** A hook on each parameter receives its
  gradient when backward reaches it and copies it (plus what ``.grad`` already
  held, for gradient accumulation) into the parameter's slice of its bucket
  with tritongrad's copy kernel.
- **Overlap.** When the last gradient of a bucket arrives the bucket is scaled
  by ``1 / world_size`` (a tritongrad kernel) and its all-reduce (a sum) is
  started asynchronously, while backward goes on computing the earlier layers'
  gradients. Buckets are started strictly in order, so that every process
  issues the same collectives in the same sequence.
- **Wait before the step.** The hook of the last parameter to receive its
  gradient waits for all buckets and copies the averaged values back into every
  ``.grad``, so ``loss.backward()`` returns with averaged gradients and the
  optimizer step needs no extra call.
- ``no_sync()`` turns the hooks off for forward/backward passes run inside it:
  gradients then just accumulate locally in ``.grad`` and the next synchronised
  backward averages the accumulated sum.

The division by ``world_size`` happens before the sum, as in torch, so that large
fp16 gradients cannot overflow in the all-reduce.

Differences from torch's DistributedDataParallel: every parameter that requires
grad must receive a gradient in each synchronised backward (there is no
``find_unused_parameters``; the next forward raises if one did not);
``gradient_as_bucket_view``, ``static_graph`` and communication hooks are not
provided; move the module to its device before wrapping it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import torch

from tritongrad import creation, distributed
from tritongrad.autograd.grad_mode import is_grad_enabled, no_grad
from tritongrad.nn.module import Module
from tritongrad.nn.modules.data_parallel import DataParallel
from tritongrad.tensor import Tensor

__all__ = ["DistributedDataParallel", "DataParallel"]

_MIB = 1 << 20
# The first bucket to fill holds the last layers' gradients; keeping it small starts the
# first all-reduce soon after backward begins instead of after 25 MiB of gradients.
_FIRST_BUCKET_BYTES = 1 * _MIB


class _Bucket:
    """Gradients of several parameters side by side in one flat buffer, all-reduced as one message."""

    def __init__(self, positions: list[int], params: list[Tensor]) -> None:
        first = params[positions[0]]
        total = sum(params[p].numel() for p in positions)
        self.positions = positions
        self.flat = creation.empty(total, dtype=first.dtype, device=first.device)
        self.views: dict[int, Tensor] = {}
        offset = 0
        for position in positions:
            param = params[position]
            self.views[position] = self.flat[offset : offset + param.numel()].view(tuple(param.shape))
            offset += param.numel()
        self.pending = len(positions)
        self.work: distributed.Work | None = None


class DistributedDataParallel(Module):
    """Data-parallel training of ``module`` across the processes of a torch.distributed group.

    Call ``tritongrad.distributed.init_process_group()`` first (``torchrun`` sets
    the environment), move the model to its device, then wrap it::

        >>> model = DistributedDataParallel(nn.Linear(8, 4))
        >>> loss = loss_fn(model(local_batch), local_target)
        >>> loss.backward()        # .grad now holds the average over all processes
        >>> optimizer.step()

    Args:
        module: the model; its parameters are overwritten by rank 0's at construction.
        device_ids: for source compatibility with torch: None, or the one device the
            module lives on (tritongrad picks its GPU at import time).
        broadcast_buffers: copy rank 0's buffers to every process at each forward.
        process_group: the group to average over (None: the default group).
        bucket_cap_mb: the size of a gradient bucket in MiB.
    """

    def __init__(
        self,
        module: Module,
        device_ids=None,
        *,
        broadcast_buffers: bool = True,
        process_group=None,
        bucket_cap_mb: float = 25.0,
    ) -> None:
        super().__init__()
        if not distributed.is_initialized():
            raise RuntimeError(
                "DistributedDataParallel needs a process group: call "
                "tritongrad.distributed.init_process_group() first (under torchrun it reads rank and world "
                "size from the environment)"
            )
        if bucket_cap_mb <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel: the module has no parameter that requires a gradient")
        _check_device_ids(device_ids, [p for _, p in named])

        self.module = module
        self.process_group = process_group
        self.broadcast_buffers = broadcast_buffers
        self.require_backward_grad_sync = True
        self._world_size = distributed.get_world_size(process_group)
        self._source_rank = distributed.get_global_rank(process_group, 0)
        self._names = [name for name, _ in named]
        self._params = [p for _, p in named]
        self._broadcast_from_source(list(module.parameters()) + list(module.buffers()))

        plan = _plan_buckets(self._params, bucket_cap_mb)
        self._buckets = [_Bucket(positions, self._params) for positions in plan]
        self._bucket_of = {position: bucket for bucket in self._buckets for position in bucket.positions}
        for position, param in enumerate(self._params):
            param.register_hook(functools.partial(self._on_gradient, position))
        self._sync_this_backward = False
        self._arrived = [False] * len(self._params)
        self._arrived_count = 0
        self._next_launch = 0

    # ------------------------------------------------------------------ forward
    def forward(self, *args, **kwargs):
        if self._arrived_count:
            missing = [name for name, arrived in zip(self._names, self._arrived) if not arrived]
            self._reset_round()
            raise RuntimeError(
                "DistributedDataParallel: the previous backward pass gave gradients to only some "
                "parameters, so their average was never completed; these received none: "
                f"{', '.join(missing)}. Every parameter that requires grad must contribute to the loss "
                "(there is no find_unused_parameters); freeze unused ones with requires_grad_(False) "
                "before wrapping the module."
            )
        if self.broadcast_buffers:
            self._broadcast_from_source(list(self.module.buffers()))
        if is_grad_enabled():
            self._sync_this_backward = self.require_backward_grad_sync
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside this block, backward only accumulates into ``.grad`` locally (no communication).

        The first synchronised backward after it averages the accumulated gradients::

            >>> with model.no_sync():
            ...     loss_fn(model(micro_batch_1), target_1).backward()
            >>> loss_fn(model(micro_batch_2), target_2).backward()   # averages both micro-batches
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ------------------------------------------------------------------ gradient averaging
    def _on_gradient(self, position: int, grad: Tensor):
        """Tape hook: ``grad`` of parameter ``position`` is known (before it is added to ``.grad``)."""
        if not self._sync_this_backward:
            return None
        if self._arrived[position]:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {self._names[position]} received a second gradient "
                "before the first one was averaged (a second backward through the same graph?)"
            )
        self._arrived[position] = True
        self._arrived_count += 1
        param = self._params[position]
        bucket = self._bucket_of[position]
        with no_grad():
            slot = bucket.views[position]
            slot.copy_(grad)
            if param.grad is not None:
                slot.add_(param.grad)
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()
        if self._arrived_count == len(self._params):
            return self._finish(position)
        return None

    def _launch_ready_buckets(self) -> None:
        """Starts, in bucket order, every bucket whose gradients are all in."""
        while self._next_launch < len(self._buckets) and self._buckets[self._next_launch].pending == 0:
            bucket = self._buckets[self._next_launch]
            with no_grad():
                bucket.flat.mul_(1.0 / self._world_size)
            bucket.work = distributed.all_reduce(bucket.flat, group=self.process_group, async_op=True)
            self._next_launch += 1

    def _finish(self, last_position: int) -> Tensor:
        """Waits for every bucket and puts the averages into ``.grad``; returns the last parameter's.

        This runs in the hook of the last parameter, before the engine adds that parameter's
        gradient to ``.grad``: every other ``.grad`` is overwritten with its average, and the
        last one is cleared and handed its average as the hook's replacement gradient.
        """
        for index, bucket in enumerate(self._buckets):
            try:
                bucket.work.wait()
            except RuntimeError as error:
                names = ", ".join(self._names[p] for p in bucket.positions)
                self._reset_round()
                raise RuntimeError(
                    f"DistributedDataParallel: averaging gradient bucket {index + 1} of {len(self._buckets)} "
                    f"(parameters {names}) did not complete. {error}"
                ) from error
        with no_grad():
            for position, param in enumerate(self._params):
                if position == last_position:
                    continue
                average = self._bucket_of[position].views[position]
                if param.grad is None:
                    param.grad = average.clone()
                else:
                    param.grad.copy_(average)
        self._params[last_position].grad = None
        self._reset_round()
        return self._bucket_of[last_position].views[last_position]

    def _reset_round(self) -> None:
        for bucket in self._buckets:
            bucket.pending = len(bucket.positions)
            bucket.work = None
        self._arrived = [False] * len(self._params)
        self._arrived_count = 0
        self._next_launch = 0

    def _broadcast_from_source(self, tensors: list[Tensor]) -> None:
        """Overwrites ``tensors`` with rank 0's, all broadcasts in flight at once."""
        group, source = self.process_group, self._source_rank
        works = [distributed.broadcast(t, source, group, async_op=True) for t in tensors]
        for work in works:
            work.wait()

    def extra_repr(self) -> str:
        sizes = ", ".join(str(b.flat.numel()) for b in self._buckets)
        return f"world_size={self._world_size}, buckets=[{sizes}] elements"


def _plan_buckets(params: list[Tensor], bucket_cap_mb: float) -> list[list[int]]:
    """Parameter positions grouped into buckets, in the order backward produces their gradients.

    A bucket holds one dtype on one device; it closes when the next parameter would
    take it past the cap (a parameter larger than the cap gets a bucket of its own).
    """
    cap = int(bucket_cap_mb * _MIB)
    limit = min(_FIRST_BUCKET_BYTES, cap)
    buckets: list[list[int]] = []
    current: list[int] = []
    current_bytes = 0
    for position in reversed(range(len(params))):
        param = params[position]
        size = param.numel() * param.element_size()
        if current:
            head = params[current[0]]
            if (param.dtype, param.device) != (head.dtype, head.device) or current_bytes + size > limit:
                buckets.append(current)
                current, current_bytes, limit = [], 0, cap
        current.append(position)
        current_bytes += size
    buckets.append(current)
    return buckets


def _check_device_ids(device_ids, params: list[Tensor]) -> None:
    if device_ids is None:
        return
    devices = {p.device for p in params}
    wanted = [torch.device("cuda", d) if isinstance(d, int) else torch.device(d) for d in device_ids]
    if len(wanted) != 1 or devices != {wanted[0]}:
        raise ValueError(
            f"DistributedDataParallel: device_ids={list(device_ids)} must name the one device the module's "
            f"parameters are on ({', '.join(sorted(map(str, devices)))}); pass None for a CPU module"
        )
