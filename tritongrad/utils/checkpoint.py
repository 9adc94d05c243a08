"""``torch.utils.checkpoint``: activation checkpointing. ``checkpoint(function, *args)`` runs
``function`` without recording its graph, keeping only its inputs; the backward runs it again with
the graph recorded (the random state restored, so dropout draws the same mask) and back-propagates
through that, into the inputs and into every parameter ``function`` used. Memory held between
forward and backward is the inputs', not every intermediate activation's.

Both of torch's variants recompute this way here; the graph then shows one
``CheckpointFunctionBackward`` node for the checkpointed call, as torch's reentrant variant.
"""

from __future__ import annotations

import functools
import warnings

from tritongrad import random
from tritongrad.autograd.engine import backward as run_backward
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import enable_grad, no_grad
from tritongrad.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]

_USE_REENTRANT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, "
    "calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is recommended, but if "
    "you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for more "
    "details on the differences between the two variants."
)


class CheckpointFunction(Function):
    """forward: ``function(*args)`` without a graph; backward: recomputed with one, then back-propagated."""

    _backward_name = "CheckpointFunctionBackward"  # (torch's, a Python Function's name)

    @staticmethod
    def forward(ctx, function, preserve_rng_state, *args):
        ctx.function = function
        ctx.rng_state = random.get_rng_state() if preserve_rng_state else None
        ctx.tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.others = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*(args[i] for i in ctx.tensor_positions))
        with no_grad():
            return function(*args)

    @staticmethod
    def backward(ctx, *grads):
        inputs = list(ctx.others)
        for position, saved in zip(ctx.tensor_positions, ctx.saved_tensors, strict=True):
            inputs[position] = saved.detach().requires_grad_(saved.requires_grad)
        outer_state = random.get_rng_state() if ctx.rng_state is not None else None
        if ctx.rng_state is not None:
            random.set_rng_state(ctx.rng_state)
        try:
            with enable_grad():
                outputs = ctx.function(*inputs)
        finally:
            if outer_state is not None:
                random.set_rng_state(outer_state)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads) if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        run_backward([o for o, _ in pairs], [g for _, g in pairs])
        gradients = [inputs[i].grad if isinstance(inputs[i], Tensor) else None for i in range(len(inputs))]
        return (None, None, *gradients)


def checkpoint(function, *args, use_reentrant: bool | None = None, preserve_rng_state: bool = True, **kwargs):
    """``function(*args, **kwargs)``, its activations recomputed in the backward instead of kept.
    ``context_fn``, ``determinism_check`` and ``debug`` are accepted and change nothing here."""
    if use_reentrant is None:
        warnings.warn(_USE_REENTRANT_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True
    for option in ("context_fn", "determinism_check", "debug"):
        kwargs.pop(option, None)
    if kwargs:
        if use_reentrant:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        function = functools.partial(function, **kwargs)
    return CheckpointFunction.apply(function, preserve_rng_state, *args)


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None, **kwargs):
    """Runs a Sequential (or list of modules) in ``segments`` chunks, each but the last checkpointed."""
    if use_reentrant is None:
        warnings.warn(_USE_REENTRANT_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True
    modules = list(functions.children()) if hasattr(functions, "children") else list(functions)

    def run(start: int, end: int):
        def forward(x):
            for module in modules[start : end + 1]:
                x = module(x)
            return x

        return forward

    size = len(modules) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run(end + 1, len(modules) - 1)(input)
