"""``torch.utils.checkpoint``: activation checkpointing. ``checkpoint(function, *args)`` keeps only
``function``'s inputs between forward and backward; the backward runs it again with the graph
recorded (the random state restored, so dropout draws the same mask) and back-propagates through
that, into the inputs and into every parameter ``function`` used.

- ``use_reentrant=True`` (torch's reentrant variant): the forward runs without a graph, so the
  output requires grad only if an input does, as torch's.
- ``use_reentrant=False``: the forward runs recorded, so the output requires grad whenever a
  parameter the function used does (no input need); the recorded graph's leaves that require grad
  become the checkpoint node's inputs, and the graph itself (its saved activations) is dropped at
  once. torch's variant keeps the graph and drops its saved tensors through saved-tensor hooks,
  which tritongrad's tape has not: here the output's ``grad_fn`` is the one checkpoint node
  (``CheckpointFunctionBackward``) rather than the function's last op.
"""

from __future__ import annotations

import functools

from tritongrad import caller_warnings, random
from tritongrad.autograd.engine import _is_checkpoint_valid
from tritongrad.autograd.engine import backward as run_backward
from tritongrad.autograd.engine import grad as gradients_of
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from tritongrad.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]

_USE_REENTRANT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, "
    "calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is recommended, but if "
    "you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for more "
    "details on the differences between the two variants."
)
_SEQUENTIAL_USE_REENTRANT_WARNING = (
    "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed explicitly. In "
    "version 2.9 we will raise an exception if use_reentrant is not passed. use_reentrant=False is recommended, but "
    "if you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for more "
    "details on the differences between the two variants."
)
_NO_INPUT_REQUIRES_GRAD = "None of the inputs have requires_grad=True. Gradients will be None"

_REENTRANT_CAPTURE_MESSAGE = (
    "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing an `inputs` parameter "
    "to .backward(). To resolve this error, you can either set use_reentrant=False, or call .backward() without "
    "passing the `inputs` argument."
)


class CheckpointFunction(Function):
    """forward: ``function(*args)`` without a graph; backward: recomputed with one, then back-propagated."""

    _backward_name = "CheckpointFunctionBackward"  # (torch's, a Python Function's name)

    @staticmethod
    def forward(ctx, function, preserve_rng_state, *args):
        # torch's check_backward_validity: the recomputation could then give no gradient to anything
        # but parameters, which reentrant checkpointing does not reach.
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            caller_warnings.warn(_NO_INPUT_REQUIRES_GRAD, UserWarning)
        ctx.function = function
        ctx.rng_state = random.get_rng_state() if preserve_rng_state else None
        ctx.tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.others = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*(args[i] for i in ctx.tensor_positions))
        with no_grad():
            return function(*args)

    @staticmethod
    def backward(ctx, *grads):
        if not _is_checkpoint_valid():
            raise RuntimeError(_REENTRANT_CAPTURE_MESSAGE)
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
    ``context_fn`` and ``debug`` are accepted and change nothing here; ``determinism_check`` is checked
    as torch checks it."""
    if use_reentrant is None:
        caller_warnings.warn(_USE_REENTRANT_WARNING, UserWarning)
        use_reentrant = True
    check = kwargs.pop("determinism_check", "default")
    kwargs.pop("context_fn", None)
    kwargs.pop("debug", None)
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    if check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {check}")
    if kwargs:
        function = functools.partial(function, **kwargs)
    return _non_reentrant(function, preserve_rng_state, args)


def _non_reentrant(function, preserve_rng_state: bool, args: tuple):
    """The recorded forward decides what requires grad; its graph is then dropped (see the module docstring)."""
    rng_state = random.get_rng_state() if preserve_rng_state else None
    with enable_grad():
        recorded = function(*args)
    outputs = recorded if isinstance(recorded, tuple) else (recorded,)
    roots = [o.grad_fn for o in outputs if isinstance(o, Tensor) and o.grad_fn is not None]
    if not roots and not any(isinstance(o, Tensor) and o.requires_grad for o in outputs):
        return recorded  # (nothing to differentiate: as torch, the outputs do not require grad)
    values = tuple(o.detach() if isinstance(o, Tensor) else o for o in outputs)
    tensor_args = [a for a in args if isinstance(a, Tensor)]
    # the parameters used: the graph's leaves, the walk stopping at the inputs (the earlier graph's business)
    leaves = _leaves_requiring_grad(roots, stop=[a.grad_fn for a in tensor_args if a.grad_fn is not None])
    leaves = [leaf for leaf in leaves if not any(leaf is a for a in tensor_args)]
    leaves += [o for o in outputs if isinstance(o, Tensor) and o.is_leaf and o.requires_grad]
    del recorded, outputs, roots
    replay = functools.partial(_replay, function, rng_state)
    result = _Recomputed.apply(replay, values, len(args), *args, *leaves)
    return result if isinstance(result, tuple) and len(values) > 1 else result


def _leaves_requiring_grad(roots: list, stop: list) -> list:
    """The leaf tensors (AccumulateGrad nodes) reachable from ``roots`` short of ``stop``, each once."""
    seen, found, stack = {id(node) for node in stop}, [], list(roots)
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            found.append(variable)
        stack.extend(edge[0] for edge in node.next_functions)
    return found


def _replay(function, rng_state, *args):
    outer_state = random.get_rng_state() if rng_state is not None else None
    if rng_state is not None:
        random.set_rng_state(rng_state)
    try:
        return function(*args)
    finally:
        if outer_state is not None:
            random.set_rng_state(outer_state)


class _Recomputed(Function):
    """use_reentrant=False: forward returns the recorded run's values; backward recomputes and returns the
    gradients of the inputs and of the parameters (``autograd.grad`` of the recomputed graph), so only the
    gradients the outer backward asked for are delivered, each through this node's edges.

    Under ``create_graph`` (grad mode on in the backward) the recomputation starts from the inputs
    themselves, not detached copies, and records the gradients' own graph: double backward reaches the
    inputs and the parameters as through torch's variant. Without it, detached copies keep the inner
    backward from walking the graph before the checkpoint."""

    _backward_name = "CheckpointFunctionBackward"

    @staticmethod
    def forward(ctx, replay, values, arg_count, *tensors):
        ctx.replay = replay
        args = tensors[:arg_count]
        ctx.tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.others = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*(args[i] for i in ctx.tensor_positions))
        ctx.leaves = tensors[arg_count:]  # (held, not saved: a parameter's later in-place step is no error)
        results = tuple(Tensor._wrap(v._data) if isinstance(v, Tensor) else v for v in values)
        return results if len(results) > 1 else results[0]

    @staticmethod
    def backward(ctx, *grads):
        create_graph = is_grad_enabled()
        inputs = list(ctx.others)
        for position, tensor in zip(ctx.tensor_positions, ctx.saved_tensors, strict=True):
            inputs[position] = tensor if create_graph else tensor.detach().requires_grad_(tensor.requires_grad)
        leaves = ctx.leaves
        with enable_grad():
            outputs = ctx.replay(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads) if isinstance(o, Tensor) and o.requires_grad and g is not None]
        # one target per input and parameter that requires grad (the others get None)
        targets = [a for a in inputs if isinstance(a, Tensor) and a.requires_grad] + list(leaves)
        found = iter(())
        if pairs and targets:
            found = iter(
                gradients_of(
                    [o for o, _ in pairs], targets, [g for _, g in pairs], create_graph=create_graph, allow_unused=True
                )
            )
        gradients = [next(found) if isinstance(a, Tensor) and a.requires_grad else None for a in inputs]
        return (None, None, None, *gradients, *(next(found, None) for _ in leaves))


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None, **kwargs):
    """Runs a Sequential (or list of modules) in ``segments`` chunks, each but the last checkpointed."""
    if use_reentrant is None:
        caller_warnings.warn(_SEQUENTIAL_USE_REENTRANT_WARNING, UserWarning)
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
