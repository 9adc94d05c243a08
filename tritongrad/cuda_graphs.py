"""Whole-training-step CUDA graphs: capture forward, backward and optimizer step once, replay them.

An eager tritongrad step spends most of its time for a small network on the
host (Python, autograd bookkeeping, one Triton launch per kernel). A CUDA
graph records the kernels of one step and replays them with a single launch,
as ``torch.cuda.CUDAGraph`` does for torch code. Usage, like torch's
whole-network capture::

    static_x = tritongrad.randn(256, 784, device="cuda")          # the first batch goes here
    static_y = tritongrad.randint(0, 10, (256,), device="cuda")

    def step(x, y):
        optimizer.zero_grad(set_to_none=False)   # zero in place: .grad keeps its memory
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss                              # no loss.item() in here

    graphed = tritongrad.cuda.make_graphed_step(step, static_x, static_y, optimizer=optimizer)
    for x, y in batches:
        static_x.copy_(x)                        # or graphed(x, y), which copies for you
        static_y.copy_(y)
        loss = graphed()                         # the same static output tensor each time
        print(loss.item())                       # read it outside the step

How it works: ``warmup`` eager steps run on a side stream on the data in the
static inputs (they are real training steps, as in torch's recipe). They fill
every cache a step consults (Triton's compiled kernels and autotuning, the
optimizers' pointer tables), create the optimizer state and the ``.grad``
buffers. Then one step is captured under ``torch.cuda.graph``: tritongrad
allocates outputs with ``torch.empty`` from torch's caching allocator, which
hands out memory from the graph's private pool during capture, so every
intermediate has a fixed address for all replays. Each replay reads the static
inputs, parameters, gradients and optimizer state at their addresses and
writes the same outputs.

Without a GPU (Triton's interpreter) there is nothing to capture: the warmup
steps run the same way and each call runs ``step_fn`` eagerly, so a program
gives the same results on both.

Limitations (what a graph cannot see change):

* Everything on the host is frozen at capture: Python control flow, tensor
  shapes, and the hyperparameters the optimizer passes to its kernel as
  numbers (a new ``lr`` set in ``param_groups`` is ignored by replays).
  Re-capture after changing them.
* Adam/AdamW need ``capturable=True``: then the step count lives on the device
  and the kernel computes the bias correction from it; without it the step
  count is on the host and the correction would be frozen at its capture-time
  value, so such an optimizer is refused when passed as ``optimizer``.
* No host synchronisation inside the step: no ``.item()``, ``.tolist()``,
  ``print(tensor)``, data-dependent Python branches; no creation of tensors
  from host data (``tritongrad.tensor([...])``), and no float64 work that
  ingests scalars from the host (float64 fills and scalar operands).
* ``zero_grad(set_to_none=False)`` inside the step, so gradients accumulate
  in place at fixed addresses; with ``set_to_none=True`` the optimizer would
  need new pointer tables inside the capture, which is a host-to-device copy.
* Random ops (dropout) draw their seed on the host: every replay reuses the
  captured seed, i.e. the same dropout mask.
* Device-side input checks (class-index targets of ``cross_entropy``, index
  bounds) are not read back inside the step: on a GPU they are reported at the
  next readback (kernels/device_checks.py).
* Static inputs must keep their memory: copy new data into them in place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

from tritongrad import runtime
from tritongrad.autograd.grad_mode import no_grad
from tritongrad.kernels import optim as optim_kernels
from tritongrad.tensor import Tensor

__all__ = ["GraphedStep", "make_graphed_step"]


class GraphedStep:
    """A training step captured in a CUDA graph (or run eagerly on the interpreter); call it to run one step.

    Attributes:
        static_inputs: the tensors the step reads; copy new data into them (or pass it to the call).
        static_outputs: what the captured step returned (None until captured / on the interpreter).
        warmup_outputs: what each warmup step returned.
        is_graphed: True when calls replay a CUDA graph.
    """

    def __init__(self, step_fn: Callable[..., Any], static_inputs: tuple[Tensor, ...], warmup: int,
                 optimizers: Sequence[Any], pool) -> None:  # fmt: skip
        self.step_fn = step_fn
        self.static_inputs = static_inputs
        self.optimizers = tuple(optimizers)
        self.warmup_outputs: list[Any] = []
        self.static_outputs: Any = None
        self.graph: torch.cuda.CUDAGraph | None = None
        # Memory the captured kernels read but that nothing else is guaranteed to keep alive.
        self._kept_alive: list[Any] = []
        self.is_graphed = runtime.device_type() == "cuda" and any(t.is_cuda for t in static_inputs)
        self._run_warmup(warmup)
        if self.is_graphed:
            self._capture(pool)

    def __call__(self, *inputs: Tensor):
        """Runs one step; new ``inputs`` (same shapes/dtypes) are first copied into the static inputs."""
        if inputs:
            self.copy_inputs(*inputs)
        if self.graph is None:
            return self.step_fn(*self.static_inputs)
        self.graph.replay()
        return self.static_outputs

    def copy_inputs(self, *inputs: Tensor) -> None:
        """Copies a new batch into the static input buffers (one copy kernel each)."""
        if len(inputs) != len(self.static_inputs):
            raise ValueError(f"the step takes {len(self.static_inputs)} inputs, got {len(inputs)}")
        for index, (static, new) in enumerate(zip(self.static_inputs, inputs)):
            if tuple(new.shape) != tuple(static.shape) or new.dtype != static.dtype:
                raise ValueError(
                    f"input {index}: the step was captured for shape {tuple(static.shape)} {static.dtype}, "
                    f"got {tuple(new.shape)} {new.dtype}"
                )
        with no_grad():
            for static, new in zip(self.static_inputs, inputs):
                static.copy_(new)

    # ---------------------------------------------------------------------------------- capture
    def _run_warmup(self, warmup: int) -> None:
        # On a GPU the warmup runs on a side stream, as torch recommends: lazy initialisation
        # (compilation, autotuning) then stays out of the capture stream's history.
        side = torch.cuda.Stream() if self.is_graphed else None
        if side is not None:
            side.wait_stream(torch.cuda.current_stream())
        grads_seen = []
        with torch.cuda.stream(side) if side is not None else contextlib.nullcontext():
            for _ in range(warmup):
                self.warmup_outputs.append(self.step_fn(*self.static_inputs))
                grads_seen.append(self._gradients())
        if side is not None:
            torch.cuda.current_stream().wait_stream(side)
            torch.cuda.synchronize()
        # Checked on the interpreter too, so a step that could not be captured fails there as well.
        self._check_gradients_are_kept(grads_seen)

    def _gradients(self) -> list:
        return [param.grad for optimizer in self.optimizers for group in optimizer.param_groups
                for param in group["params"]]  # fmt: skip

    @staticmethod
    def _check_gradients_are_kept(grads_seen: list[list]) -> None:
        advice = (
            "Call optimizer.zero_grad(set_to_none=False) in the step (and make sure every parameter receives "
            "a gradient), so gradients stay the same tensors, at fixed addresses, across replays."
        )
        if grads_seen and any(grad is None for grad in grads_seen[-1]):
            raise RuntimeError(
                f"make_graphed_step: an optimizer parameter has no .grad after the warmup steps. {advice}"
            )
        if len(grads_seen) >= 2 and any(a is not b for a, b in zip(grads_seen[-2], grads_seen[-1])):
            raise RuntimeError(f"make_graphed_step: the step replaced the parameters' .grad tensors. {advice}")

    def _capture(self, pool) -> None:
        self.graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(self.graph, pool=pool):
                self.static_outputs = self.step_fn(*self.static_inputs)
        except RuntimeError as error:
            raise RuntimeError(
                f"make_graphed_step: capturing the step failed ({error}). The step must not synchronise "
                "with the host or copy host data to the GPU: no .item()/.tolist()/print of tensors, no "
                "tritongrad.tensor(...) from Python data, no float64 scalar operands, "
                "zero_grad(set_to_none=False), and the same shapes as in the warmup steps. "
                "See tritongrad.cuda_graphs for the full list."
            ) from error
        self._keep_optimizer_tables_alive()

    def _keep_optimizer_tables_alive(self) -> None:
        # The fused optimizer kernels read per-launch pointer tables that kernels/optim.py keeps
        # in a bounded cache; the graph holds their addresses, so they must outlive eviction.
        cache = getattr(optim_kernels, "_TABLE_CACHE", {})
        self._kept_alive.extend(cache.values())


def make_graphed_step(
    step_fn: Callable[..., Any],
    *static_inputs: Tensor,
    warmup: int = 3,
    optimizer: Any | Iterable[Any] | None = None,
    pool=None,
) -> GraphedStep:
    """Captures ``step_fn(*static_inputs)`` (forward, backward, optimizer step) in a CUDA graph.

    Runs ``warmup`` real, eager steps on the data in ``static_inputs`` first (see the module
    docstring), then captures one; each call of the result replays it. On the interpreter each
    call runs ``step_fn`` eagerly instead. ``optimizer`` (one or several) enables checks: Adam
    and AdamW need ``capturable=True`` (else their bias correction lives on the host); every parameter must
    keep its ``.grad``. ``pool`` is passed to ``torch.cuda.graph`` to share memory between graphs.

    Example::

        >>> graphed = make_graphed_step(step, static_x, static_y, optimizer=optimizer)
        >>> static_x.copy_(next_x); static_y.copy_(next_y)
        >>> loss = graphed()
    """
    if warmup < 1:
        raise ValueError(
            "make_graphed_step: warmup must be >= 1 (it compiles kernels and creates .grad and the "
            f"optimizer state), got {warmup}"
        )
    for index, tensor in enumerate(static_inputs):
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"make_graphed_step: static input {index} is a {type(tensor).__name__}, not a tritongrad Tensor"
            )
    optimizers = [] if optimizer is None else ([optimizer] if hasattr(optimizer, "param_groups") else list(optimizer))
    for each in optimizers:
        if any("betas" in group and not group.get("capturable", False) for group in each.param_groups):
            raise NotImplementedError(
                f"make_graphed_step: {type(each).__name__} keeps its step count on the host, so a captured "
                "step would replay the capture step's bias correction forever; create it with capturable=True"
            )
    return GraphedStep(step_fn, tuple(static_inputs), warmup, optimizers, pool)
