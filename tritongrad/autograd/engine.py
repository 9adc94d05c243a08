"""The backward engine: walks the graph from the outputs and delivers gradients.

One iterative pass (no recursion, so a 10,000-op chain is fine):

1. collect every node reachable from the roots and count, for each node, how
   many edges point at it (its pending inputs);
2. if only some targets are wanted (``autograd.grad`` or ``backward(inputs=)``),
   mark the nodes that lie on a path to a target and skip the rest;
3. run nodes whose pending count reached zero, each once, summing the
   gradients that arrive on each of its outputs before it runs (a node that
   no gradient reached is skipped, so the leaves behind it keep ``grad=None``).

Each gradient a node returns is checked as torch checks it: summed down if it
broadcasts to its input's shape, cast to its input's dtype.

The implicit gradient of ``backward()`` on a one-element output starts as a
``UnitGradient`` (ones, not yet written): a node that declares it can use it
(MSE, whose forward already wrote its gradient for a seed of 1) receives it
as it is, so the step launches no fill kernel; everywhere else (hooks,
``retain_grad``, leaves, ``create_graph``, any other node) it is written out
first, so nobody else ever sees it.

Gradient buffers remember whether the engine owns them. A gradient a node
returns unchanged (``AddBackward0`` passes ``grad`` to both inputs) or the
user's ``gradient=`` argument is shared, so it is copied before it becomes a
leaf's ``.grad``; an owned one is handed over without a copy when its layout
is the leaf's (an expanded view from a reduction's backward is copied too).
"""

from __future__ import annotations

import itertools
import threading
import warnings
from collections.abc import Mapping, Sequence

import torch

from tritongrad import creation
from tritongrad.autograd.anomaly_mode import state as anomaly_state
from tritongrad.autograd.function import AccumulateGrad, FunctionCtx, GradientEdge, Node, _edge_to
from tritongrad.autograd.grad_mode import _set_enabled, enable_grad, is_grad_enabled, no_grad
from tritongrad.dtypes import tensor_type_name
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.tensor import Tensor, attach_methods

__all__ = ["backward", "grad", "run_backward", "UnitGradient", "dense_strides"]


class UnitGradient:
    """The implicit all-ones gradient of a one-element output, not materialised yet.

    A Function that sets ``_accepts_unit_gradient = True`` may receive it in its
    backward instead of a tensor (and must call ``materialize()`` if it needs one).
    """

    __slots__ = ("shape", "dtype", "device")

    def __init__(self, output) -> None:
        self.shape, self.dtype, self.device = tuple(output.shape), output.dtype, output.device

    def materialize(self):
        """The ones tensor this stands for (one fill launch); torch's refusal for a complex output
        (no loss takes one, so this is where its implicit gradient would first be needed)."""
        if self.dtype.is_complex:
            raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {self.dtype}")
        return creation.ones(self.shape, dtype=self.dtype, device=self.device)


class _TaskState(threading.local):
    # Whether the innermost backward running on this thread wants only some gradients (autograd.grad,
    # backward(inputs=)): torch's reentrant checkpoint cannot deliver those (_is_checkpoint_valid).
    capturing = False
    # The innermost backward's number (-1 outside one) and (every node reached, the nodes that run or None
    # for all): what graph.register_multi_grad_hook asks of it (torch's _current_graph_task_id and
    # _will_engine_execute_node).
    task_id = -1
    plan: tuple = ({}, None)


_task = _TaskState()
_task_ids = itertools.count()


def current_graph_task_id() -> int:
    """The number of the backward running on this thread, -1 outside one."""
    return _task.task_id


def will_engine_execute_node(node) -> bool:
    """True if the backward running on this thread runs ``node`` (torch's ``_will_engine_execute_node``)."""
    if _task.task_id == -1:
        raise RuntimeError(
            "_will_engine_execute_node should only be called during the backward pass or while executing hooks"
        )
    reached, needed = _task.plan
    return node in reached and (needed is None or node in needed)


def _is_checkpoint_valid() -> bool:
    """torch.autograd._is_checkpoint_valid: False inside a backward that computes only some gradients
    (``autograd.grad`` or ``backward(inputs=...)``), where a reentrant checkpoint's inner backward
    would accumulate into every leaf instead."""
    return not _task.capturing


def _materialized(grad):
    return grad.materialize() if isinstance(grad, UnitGradient) else grad


def _takes_unit_gradient(node: Node, output_nr: int, create_graph: bool, capture_keys: set) -> bool:
    """True if ``node`` may receive a UnitGradient as it is: its Function accepts one and nothing
    else (a hook, a retained or captured gradient, a recorded backward) would see it."""
    return (
        isinstance(node, FunctionCtx)
        and getattr(node._function, "_accepts_unit_gradient", False)
        and not create_graph
        and not node._tensor_pre_hooks.get(output_nr)
        and not node._hooks
        and not node._pre_hooks
        and node._retained.get(output_nr) is None
        and (id(node), output_nr) not in capture_keys
    )


class _Buffer:
    """The summed gradient arriving at one output of a node."""

    __slots__ = ("grad", "owned")

    def __init__(self, grad=None, owned: bool = False) -> None:
        self.grad = grad
        self.owned = owned

    def add(self, grad, owned: bool) -> None:
        if self.grad is None:
            self.grad, self.owned = grad, owned
        else:
            self.grad, self.owned = _materialized(self.grad) + _materialized(grad), True


def _collect_graph(roots: Sequence[Node]) -> dict[Node, int]:
    """Every node reachable from ``roots`` with its number of incoming edges."""
    # (Written for speed: the dict is also the set of nodes seen; a root given twice is walked once.)
    dependencies: dict[Node, int] = {}
    stack = []
    for root in roots:
        if root is not None and root not in dependencies:
            dependencies[root] = 0
            stack.append(root)
    while stack:
        for child, _ in stack.pop()._edges:
            if child is not None:
                if child in dependencies:
                    dependencies[child] += 1
                else:
                    dependencies[child] = 1
                    stack.append(child)
    return dependencies


def _nodes_leading_to(targets: set[Node], dependencies: dict[Node, int]) -> set[Node]:
    """Nodes from which some target is reachable (targets included)."""
    parents: dict[Node, list[Node]] = {}
    for node in dependencies:
        for child, _ in node._edges:
            if child is not None:
                parents.setdefault(child, []).append(node)
    needed = set(t for t in targets if t in dependencies)
    stack = list(needed)
    while stack:
        node = stack.pop()
        for parent in parents.get(node, ()):
            if parent not in needed:
                needed.add(parent)
                stack.append(parent)
    return needed


def _validate_gradient(node: Node, index: int, grad, meta):
    """torch's checks on a gradient a node returns: a broadcast shape is summed down to the input's
    shape, another dtype is cast to the input's; an incompatible shape is an error."""
    if meta is None:
        return grad
    _, shape, dtype, _ = meta
    data = grad._data
    if data.shape == shape and data.dtype == dtype:
        return grad
    if tuple(grad.shape) != shape:
        if not _expandable(shape, tuple(grad.shape)):
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {index} - "
                f"got {list(grad.shape)} but expected shape compatible with {list(shape)}"
            )
        grad = grad.sum_to_size(shape)
    if grad.dtype != dtype and not grad.dtype.is_floating_point and grad.dtype.is_complex != dtype.is_complex:
        # torch's refusal (a complex gradient for a real input would lose its imaginary part); tritongrad's
        # own holomorphic ops return such gradients on purpose (function._conjugating) and take the real part
        if getattr(getattr(node, "_function", None), "_external", False):
            raise RuntimeError(_REAL_COMPLEX_MISMATCH)
    if grad.dtype != dtype and dtype.is_floating_point:
        grad = grad.to(dtype)
    return grad


_REAL_COMPLEX_MISMATCH = (
    "Expected isFloatingType(grad.scalar_type()) || (input_is_complex == grad_is_complex) to be true, but got "
    "false.  (Could this error message be improved?  If so, please report an enhancement request to PyTorch.)"
)


def _check_hook_result(hook, grad, replaced) -> None:
    """torch's rule for a tensor hook's return value: a tensor of the gradient's size, type and device."""
    check_hook_result(getattr(hook, "__name__", type(hook).__name__), grad, replaced)


def check_hook_result(name: str, grad, replaced) -> None:
    """``_check_hook_result`` for a hook torch's messages call ``name`` (a module's backward hooks
    run inside one torch names ``hook``)."""
    if not hasattr(replaced, "_data"):
        raise TypeError(f"expected Variable, but hook returned '{type(replaced).__name__}'")
    if replaced.dtype != grad.dtype:
        raise RuntimeError(
            f"hook '{name}' has changed the type of value (was {tensor_type_name(grad.dtype, grad.device, aten=True)} "
            f"got {tensor_type_name(replaced.dtype, replaced.device, aten=True)})"
        )
    if replaced.device != grad.device:
        raise RuntimeError(f"hook '{name}' has changed the device of value (was {grad.device} got {replaced.device})")
    if tuple(replaced.shape) != tuple(grad.shape):
        raise RuntimeError(f"hook '{name}' has changed the size of value")


def _check_replacement_count(hook, replaced, count: int) -> None:
    """torch's first checks of what a node hook (pre or post) returned instead of its gradients: a tuple
    of as many values as it was given."""
    if not isinstance(replaced, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(replaced).__name__}'")
    if len(replaced) != count:
        name = getattr(hook, "__name__", type(hook).__name__)
        raise RuntimeError(
            f"hook '{name}' has returned an incorrect number of values (got {len(replaced)}, but expected {count})"
        )


def _run_pre_hooks(node: Node, grads: tuple) -> tuple:
    """``grads`` after the node's pre-hooks (``register_prehook``), each of which may return a
    replacement tuple, checked as torch checks it: a tuple, of the same length, each tensor of the
    gradient's size, type and device."""
    for hook in tuple(node._pre_hooks.values()):
        replaced = hook(grads)
        if replaced is None:
            continue
        _check_replacement_count(hook, replaced, len(grads))
        for grad, new in zip(grads, replaced):
            if grad is not None and new is not None:
                _check_hook_result(hook, _materialized(grad), new)
        grads = replaced
    return grads


def _run_post_hooks(node: Node, results: tuple, grads: tuple) -> tuple:
    """``results`` (one per forward argument) after the node's hooks (``register_hook``). A hook sees the
    gradients of the node's inputs as torch's does, one per ``next_functions`` entry (an option such as
    ``dim`` has none), and may return a replacement tuple, checked as torch checks it: a tuple of that
    length, each entry None or a tensor of the gradient's size, type and device."""
    edges = node._edges
    positions = node._input_positions()
    padded = list(results) + [None] * (len(edges) - len(results))
    grad_inputs = tuple(padded[index] for index in positions)
    for hook in tuple(node._hooks.values()):
        replaced = hook(grad_inputs, grads)
        if replaced is None:
            continue
        _check_replacement_count(hook, replaced, len(grad_inputs))
        for old, new in zip(grad_inputs, replaced):
            if new is None:
                continue
            if old is None:
                raise RuntimeError("can't replace a None gradient with a non-None value")
            _check_hook_result(hook, old, new)
        grad_inputs = replaced
    for index, grad in zip(positions, grad_inputs):
        padded[index] = grad
    return tuple(padded)


def _check_post_accumulate_result(result) -> None:
    """torch's rule for a post-accumulate-grad hook: it returns None (a tensor is refused by name)."""
    if result is None:
        return
    if not isinstance(result, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
    raise RuntimeError("Tensor post accumulate grad hooks should return None.")


def _expandable(shape: tuple, target: tuple) -> bool:
    """True if a tensor of ``shape`` broadcasts to ``target``."""
    if len(shape) > len(target):
        return False
    return all(size in (1, wanted) for size, wanted in zip(reversed(shape), reversed(target)))


def run_backward(
    roots: Sequence,
    root_grads: Sequence,
    *,
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence | None = None,
) -> list:
    """Runs backward from ``roots`` (tensors) seeded with ``root_grads``.

    Without ``capture``, gradients accumulate into every reachable leaf's ``.grad``.
    With ``capture`` (tensors), only nodes on a path to them run, no leaf's ``.grad``
    changes, and the gradient reaching each captured tensor (None if none does) is
    returned. Either way, tensors that ``retain_grad()`` get theirs, as in torch.
    """
    root_edges = [_edge_to(r) for r in roots]
    dependencies = _collect_graph([node for node, _ in root_edges])

    capture_edges = [] if capture is None else [
        (t.node, t.output_nr) if isinstance(t, GradientEdge) else _edge_to(t) for t in capture
    ]  # fmt: skip
    captured: dict[tuple[int, int], _Buffer] = {}
    needed = None  # every node runs, unless only the paths to captured tensors are wanted
    if capture is not None:
        wanted = {node for node, _ in capture_edges if node is not None}
        needed = _nodes_leading_to(wanted, dependencies)

    buffers: dict[Node, dict[int, _Buffer]] = {}
    for (node, output_nr), grad in zip(root_edges, root_grads):
        if node is None:
            continue
        buffers.setdefault(node, {}).setdefault(output_nr, _Buffer()).add(grad, owned=False)

    capture_keys = {(id(node), nr) for node, nr in capture_edges if node is not None}
    ready = [node for node, _ in root_edges if node is not None and dependencies[node] == 0]
    ready = list(dict.fromkeys(ready))
    executed: list[Node] = []

    # A leaf whose only incoming edge is from the node that computes its gradient takes it at once
    # (see _run_node), unless only captured gradients are wanted (its .grad must stay untouched).
    direct_leaves = dependencies if capture is None else None
    previous_mode = is_grad_enabled()
    _set_enabled(create_graph)  # (a plain switch: a context manager object per backward costs more)
    previous_capturing, _task.capturing = _task.capturing, capture is not None
    previous_task = _task.task_id, _task.plan
    _task.task_id, _task.plan = next(_task_ids), (dependencies, needed)
    try:
        # (Written for speed: the body runs once per node of every backward.)
        while ready:
            node = ready.pop()
            inputs = buffers.pop(node, None)
            reached = False
            # (a node that no wanted gradient needs does not run, nor do its tensors' hooks, as torch's)
            if inputs is not None and (needed is None or node in needed):
                pre_hooks, retained_outputs = node._tensor_pre_hooks, node._retained
                for output_nr, buffer in inputs.items():
                    if type(buffer.grad) is UnitGradient and not _takes_unit_gradient(
                        node, output_nr, create_graph, capture_keys
                    ):
                        buffer.grad = buffer.grad.materialize()
                    if pre_hooks:
                        for hook in tuple(pre_hooks.get(output_nr, {}).values()):
                            replaced = hook(buffer.grad)
                            if replaced is not None:
                                _check_hook_result(hook, buffer.grad, replaced)
                                buffer.grad, buffer.owned = replaced, False
                    if retained_outputs:
                        retained = retained_outputs.get(output_nr)
                        tensor = retained() if retained is not None else None
                        if tensor is not None and buffer.grad is not None:
                            _accumulate_into(tensor, buffer.grad, buffer.owned, create_graph)
                            buffer.owned = False
                    if capture_keys and (id(node), output_nr) in capture_keys:
                        captured[(id(node), output_nr)] = buffer
                    if buffer.grad is not None:
                        reached = True

            # A node that no gradient reached (a backward returned None for it) does not run, so the
            # leaves behind it keep grad None, as in torch.
            if reached:
                if type(node) is AccumulateGrad or isinstance(node, AccumulateGrad):
                    buffer = inputs.get(0)
                    variable = node.variable
                    if capture is None and buffer is not None and buffer.grad is not None and variable is not None:
                        grad, owned = buffer.grad, buffer.owned
                        if node._pre_hooks:  # the node's own hooks (node.register_prehook)
                            (replaced,) = _run_pre_hooks(node, (grad,))
                            grad, owned = replaced, owned and replaced is grad
                        if grad is not None:
                            _accumulate_into(variable, grad, owned, create_graph)
                            for hook in tuple(variable._post_accumulate_hooks.values()):  # (the leaf's own)
                                _check_post_accumulate_result(hook(variable))
                        for hook in tuple(node._hooks.values()):  # node.register_hook: (grad_inputs, grad_outputs)
                            hook((), (grad,))
                else:
                    _run_node(node, inputs, buffers, create_graph, direct_leaves)
                    executed.append(node)

            for child, _ in node._edges:
                if child is not None:
                    remaining = dependencies[child] - 1
                    dependencies[child] = remaining
                    if remaining == 0:
                        ready.append(child)
    finally:
        _set_enabled(previous_mode)
        _task.capturing = previous_capturing
        _task.task_id, _task.plan = previous_task

    if not retain_graph:
        for node in executed:
            node._release()

    if capture is None:
        return []
    results = []
    for node, output_nr in capture_edges:
        buffer = captured.get((id(node), output_nr)) if node is not None else None
        results.append(buffer.grad if buffer is not None else None)
    return results


def _run_node(node: Node, inputs: dict[int, _Buffer], buffers, create_graph: bool, direct_leaves) -> None:
    """Runs ``node``'s backward and routes each gradient to the node that produced that input.

    A gradient for a leaf whose other incoming edges are all done without delivering one (its
    count is down to this edge, and it has no buffer) and that has no hook is accumulated into
    its ``.grad`` here, as its AccumulateGrad node would do when it runs next: without a buffer,
    a trip through the ready list, or a second pass over its checks. The leaf's count drops to
    0 so that the scheduler never runs the node. Those writes come after every result has been
    checked, so a backward that raises leaves every ``.grad`` as it was (as torch's).
    """
    # (Written for speed: it runs once per node of every backward.)
    output_meta = node._output_meta
    if len(inputs) == 1 and 0 in inputs and len(output_meta) <= 1 and node._output_count <= 1:
        grads = (inputs[0].grad,)  # one output, and its gradient arrived: the common case
    else:
        output_count = 1
        for nr in inputs:
            if nr >= output_count:
                output_count = nr + 1
        for meta in output_meta:
            if meta[0] >= output_count:
                output_count = meta[0] + 1
        # (a Function's outputs that are not tensors get a None each: _output_count counts them all)
        output_count = max(output_count, node._output_count)
        grads = tuple([inputs[i].grad if i in inputs else None for i in range(output_count)])
        if any(g is None for g in grads) and isinstance(node, FunctionCtx) and node.materialize_grads:
            grads = tuple([_zeros_for(node, i) if g is None else g for i, g in enumerate(grads)])
    if node._pre_hooks:
        grads = _run_pre_hooks(node, grads)
    if isinstance(node, FunctionCtx):
        results = node._function.backward(node, *grads)
        if not isinstance(results, tuple):
            results = (results,)
    else:
        results = node.apply(grads)
    edges = node._edges
    if len(results) != len(edges) and (len(results) < len(edges) or any(g is not None for g in results[len(edges) :])):
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients (expected {len(edges)}, "
            f"got {len(results)})"
        )
    if anomaly_state.enabled and anomaly_state.check_nan:
        for position, result in enumerate(results):
            if result is not None and bool(result.isnan().any()):
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its {position}th output.")
    if node._hooks:
        results = _run_post_hooks(node, results, grads)
    # A gradient the engine did not receive (a new tensor) is its own to accumulate into in place.
    not_owned = [id(g) for g in grads if g is not None]
    to_leaves = []  # written after every result has passed its checks: an error leaves .grad alone
    for edge, grad in zip(edges, results):
        if grad is None:
            continue
        child, child_nr = edge
        if child is None and child_nr < 0:  # the argument was not a tensor (torch's first check)
            _gradient_for_a_non_tensor(node, edges, results)
        if type(grad) is not Tensor and not isinstance(grad, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(grad).__name__})")
        if child is None:
            continue
        owned = id(grad) not in not_owned
        if type(child) is AccumulateGrad:
            # A leaf's gradient of the leaf's own shape and dtype passes at once (else _validate_gradient).
            variable = child.variable
            if variable is None:
                continue  # a leaf no longer alive (a node held on its own): no one to deliver to
            data, own = grad._data, variable._data
            if data.shape != own.shape or data.dtype != own.dtype:
                index = _position(edges, edge)
                grad = _validate_gradient(node, index, grad, (0, tuple(own.shape), own.dtype, own.device))
                owned = id(grad) not in not_owned
            not_owned.append(id(grad))
            if (
                direct_leaves is not None
                and direct_leaves[child] == 1  # this edge is the last one still to deliver ...
                and child not in buffers  # ... and no earlier edge delivered a gradient
                and not child._tensor_pre_hooks
                and not variable._post_accumulate_hooks
                and not child._pre_hooks
                and not child._hooks
            ):
                direct_leaves[child] = 0
                to_leaves.append((variable, grad, owned))
                continue
        else:
            meta = child._output_meta
            data = grad._data
            if not (
                len(meta) == 1 and meta[0][0] == child_nr and data.shape == meta[0][1] and data.dtype == meta[0][2]
            ):  # (the usual case: the one output's shape and dtype; else torch's checks and fixes)
                grad = _validate_gradient(node, _position(edges, edge), grad, _input_meta(child, child_nr))
                owned = id(grad) not in not_owned
            not_owned.append(id(grad))
        child_buffers = buffers.get(child)
        if child_buffers is None:
            buffers[child] = {child_nr: _Buffer(grad, owned)}
        else:
            buffer = child_buffers.get(child_nr)
            if buffer is None:
                child_buffers[child_nr] = _Buffer(grad, owned)
            else:
                buffer.add(grad, owned)
    for variable, grad, owned in to_leaves:
        _accumulate_into(variable, grad, owned, create_graph)


def _position(edges: tuple, edge: tuple) -> int:
    """The argument position of ``edge`` (an edge to a node is its own tuple, made for its position)."""
    return next(index for index, other in enumerate(edges) if other is edge)


def _gradient_for_a_non_tensor(node: Node, edges: tuple, results: tuple):
    """torch's error for a backward that returned a gradient for an argument that was not a tensor."""
    for index, ((_, child_nr), grad) in enumerate(zip(edges, results)):
        if grad is not None and child_nr < 0:
            raise RuntimeError(
                f"function {node.name()} returned a gradient different than None at position {index + 1}, "
                "but the corresponding forward input was not a Variable"
            )


def _input_meta(child: Node, output_nr: int):
    if isinstance(child, AccumulateGrad):
        v = child.variable
        return (0, tuple(v.shape), v.dtype, v.device)
    for meta in child._output_meta:
        if meta[0] == output_nr:
            return meta
    return None


def _zeros_for(node: Node, output_nr: int):
    for nr, shape, dtype, device in node._output_meta:
        if nr == output_nr:
            return creation.zeros(shape, dtype=dtype, device=device)
    return None


def _accumulate_into(tensor, grad, owned: bool, create_graph: bool) -> None:
    """tensor.grad += grad, with torch's rules for the first gradient and create_graph; ``owned``:
    the engine made ``grad`` (no one else holds it), so it may become ``.grad`` itself.

    A first gradient the engine owns is handed over as it is when its layout is the one
    torch gives a ``.grad`` (the variable's strides when those are dense, else contiguous);
    otherwise (a shared tensor, an expanded view from a reduction's backward, a transposed
    product) it is copied into such a buffer, so later in-place accumulation and
    ``grad.zero_()`` write into memory of its own.

    Under ``create_graph`` the first gradient is a recorded copy (torch's AccumulateGrad copies under
    grad mode, its retain_grad clones), so ``.grad`` has a graph and owns its memory, and each later one
    is added out of place, recorded. Without it, a later gradient is added in place into a leaf's
    ``.grad`` (torch's ``+=`` under no_grad: a ``.grad`` that has a graph keeps it) and out of place
    into a retained one (torch's retain_grad hook adds so).
    """
    if tensor._grad is None:
        if create_graph:
            with enable_grad():
                tensor.grad = grad.clone() if _has_grad_layout(grad, tensor) else _grad_buffer_like(tensor).copy_(grad)
        elif owned and _has_grad_layout(grad, tensor):
            # Checked already (_run_node); a gradient made under no_grad is handed over as it is.
            tensor._grad = grad if grad._grad_fn is None and not grad._requires_grad else grad.detach()
        else:
            with no_grad():
                tensor.grad = _grad_buffer_like(tensor).copy_(grad.detach())
        return
    if create_graph:
        with enable_grad():
            tensor.grad = tensor._grad + grad
    elif tensor._grad.requires_grad and not tensor.is_leaf:
        tensor.grad = tensor._grad + grad
    else:
        # tensor.grad += grad, straight into the buffer (what add_ does when nothing records).
        accumulated = tensor._grad
        elementwise_kernels.launch_binary(
            "add", accumulated._data, grad._data, out=accumulated._data, out_dtype=accumulated.dtype,
            compute=accumulated.dtype,
        )  # fmt: skip
        accumulated._version_counter.bump()


def dense_strides(shape, strides) -> bool:
    """True if a tensor of ``shape`` with ``strides`` covers its memory exactly once, in some dim order."""
    expected = 1
    for stride, size in sorted((stride, size) for size, stride in zip(shape, strides) if size != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _has_grad_layout(grad, variable) -> bool:
    """True if ``grad`` has the layout torch gives ``variable.grad``: a leaf's follows the leaf's strides when
    they are dense; a retained one (a non-leaf's) is contiguous, torch's retain_grad hook cloning so."""
    if grad._data.is_contiguous() and (variable._grad_fn is not None or variable._data.is_contiguous()):
        return True  # the common case, without sorting strides
    if variable._grad_fn is not None:
        return False
    shape, strides = tuple(variable.shape), tuple(variable.stride())
    if dense_strides(shape, strides):
        return _same_strides(shape, tuple(grad.stride()), strides)
    return grad.is_contiguous()


def _same_strides(shape, first, second) -> bool:
    return all(a == b for size, a, b in zip(shape, first, second) if size != 1)


def _grad_buffer_like(variable):
    """Uninitialised memory for ``variable``'s gradient: a leaf's strides if dense, else contiguous."""
    data = variable._data
    if variable._grad_fn is None and dense_strides(tuple(data.shape), tuple(data.stride())):
        return Tensor._wrap(torch.empty_strided(tuple(data.shape), data.stride(), dtype=data.dtype, device=data.device))
    return Tensor._wrap(torch.empty(tuple(data.shape), dtype=data.dtype, device=data.device))


# ------------------------------------------------------------------ the public entry points
_CREATE_GRAPH_CYCLE_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its "
    "gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to "
    "avoid this. If you have to use this function, make sure to reset the .grad fields of your parameters "
    "to None after use to break the cycle and avoid the leak."
)


def _as_tuple(value) -> tuple:
    """A tensor or any iterable of them (``model.parameters()``, a ParameterList, ``dict.values()``)
    as a tuple, as torch reads ``outputs``; anything else is torch's TypeError from ``tuple()``
    ("'NoneType' object is not iterable")."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    if isinstance(value, Tensor):
        return (value,)
    return tuple(value)


def _inputs_tuple(inputs, caller: str) -> tuple:
    """``inputs`` of ``grad``/``backward`` as torch reads them: a tensor, a dict (its values; ``grad`` then
    answers with a dict), a GradientEdge, or any iterable of those."""
    if isinstance(inputs, (Tensor, GradientEdge)):
        return (inputs,)
    if type(inputs) is dict:
        return tuple(inputs.values())
    if isinstance(inputs, Mapping):
        raise TypeError(
            f"`inputs` argument to `{caller}()` must be a dict, not {type(inputs).__name__}. "
            "Other Mapping types are not supported."
        )
    return tuple(inputs)


def _grads_tuple(grads, count: int) -> tuple:
    """torch's ``_tensor_or_tensors_to_tuple``: None stands for ``count`` Nones, a tensor for itself."""
    if grads is None:
        return (None,) * count
    if isinstance(grads, Tensor):
        return (grads,)
    return tuple(grads)


def _root_grads(outputs: tuple, grad_outputs: tuple, create_graph: bool) -> list:
    """The seed gradient of each output, checked in torch's order: each pair first (``_make_grads``, which
    pairs them as ``zip`` does, so surplus gradients are ignored), then the counts, then that every
    output requires grad (the engine's checks)."""
    grads = []
    for index, (output, given) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(output, Tensor):
            raise AssertionError("Expected output to be a torch.Tensor")
        if isinstance(given, Tensor):
            if tuple(given.shape) != tuple(output.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{index}] has a shape of torch.Size({list(given.shape)}) and "
                    f"output[{index}] has a shape of torch.Size({list(output.shape)})."
                )
            if output.dtype.is_complex != given.dtype.is_complex:
                raise RuntimeError(
                    "For complex Tensors, both grad_output and output are required to have the same dtype. "
                    f"Mismatch in dtype: grad_output[{index}] has a dtype of {given.dtype} and output[{index}] has "
                    f"a dtype of {output.dtype}."
                )
        elif given is None:
            if output.requires_grad:
                if output.numel() != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if not output.dtype.is_floating_point:
                    raise RuntimeError(
                        f"grad can be implicitly created only for real scalar outputs but got {output.dtype}"
                    )
                # Written out by the engine only where some node or hook needs the tensor.
                given = creation.ones_like(output) if create_graph else UnitGradient(output)
        else:
            raise TypeError(f"gradients can be either Tensors or None, but got {type(given).__name__}")
        grads.append(given)
    if len(grads) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grads)} gradients")
    for index, output in enumerate(outputs):
        if not output.requires_grad:
            raise RuntimeError(f"element {index} of tensors does not require grad and does not have a grad_fn")
    for index, (output, given) in enumerate(zip(outputs, grads)):  # (the engine's validate_outputs, next)
        if isinstance(given, Tensor) and given.device != output.device:
            raise RuntimeError(
                f"invalid gradient at index {index} - expected device {output.device} but got {given.device}"
            )
    return grads


def _check_inputs(inputs: tuple) -> None:
    """The engine's checks of ``grad``'s inputs (made after those of the outputs, as torch's)."""
    for tensor in inputs:
        if isinstance(tensor, GradientEdge):
            continue
        if not isinstance(tensor, Tensor):
            raise RuntimeError(f"all inputs have to be Tensors or GradientEdges, but got {type(tensor).__name__}")
        if not tensor.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False, grad_variables=None,
             inputs=None) -> None:  # fmt: skip
    """Accumulates the gradients of ``tensors`` into the ``.grad`` of the graph's leaves (or of ``inputs``).
    ``grad_variables`` is torch's deprecated name of ``grad_tensors``.

    Example::

        >>> x = tritongrad.tensor([1., 2.], requires_grad=True)
        >>> tritongrad.autograd.backward((x * x).sum())
        >>> x.grad
        tensor([2., 4.])
    """
    if grad_variables is not None:
        warnings.warn("`grad_variables` is deprecated. Use `grad_tensors` instead.", FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError(
                "`grad_tensors` and `grad_variables` (deprecated) arguments both passed to `backward()`. Please "
                "only use `grad_tensors`."
            )
        grad_tensors = grad_variables
    targets = None if inputs is None else _inputs_tuple(inputs, "backward")
    if targets:  # an input named twice receives its gradient once, as torch's engine dedupes its input edges
        targets = tuple({id(target): target for target in targets}.values())
    if targets is not None and not targets:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    outputs = _as_tuple(tensors)
    grads = _root_grads(outputs, _grads_tuple(grad_tensors, len(outputs)), create_graph)
    retain = create_graph if retain_graph is None else retain_graph
    if create_graph:
        warnings.warn(_CREATE_GRAPH_CYCLE_WARNING, UserWarning, stacklevel=3)
    if targets is None:
        run_backward(outputs, grads, retain_graph=retain, create_graph=create_graph)
        return
    for target in targets:
        if not isinstance(target, Tensor):
            raise RuntimeError(f"all inputs have to be Tensors or GradientEdges, but got {type(target).__name__}")
        # torch's engine makes each input retain its gradient: a non-leaf's arrives through that (and keeps
        # arriving in later backwards), a leaf's below; one that does not require grad is refused by it.
        target.retain_grad()
    captured = run_backward(outputs, grads, retain_graph=retain, create_graph=create_graph, capture=targets)
    for target, grad in zip(targets, captured):
        if grad is not None and target.grad_fn is None:
            _accumulate_into(target, _materialized(grad), False, create_graph)
            for hook in tuple(target._post_accumulate_hooks.values()):
                _check_post_accumulate_result(hook(target))


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads):
    """``is_grads_batched``: the first dim of each grad_output indexes a batch of vector-Jacobian products;
    one backward per batch entry (the graph kept until the last), each result stacked along a new dim 0."""
    vectors = list(_grads_tuple(grad_outputs, len(outputs)))
    for index, (output, vector) in enumerate(zip(outputs, vectors)):
        if isinstance(vector, Tensor):
            first = vector[0]  # (a 0-d grad_output: torch's IndexError for indexing it)
            if tuple(first.shape) != tuple(output.shape):  # torch's words, its shape being first's less dim 0
                raise RuntimeError(
                    "If `is_grads_batched=True`, we interpret the first dimension of each grad_output as the batch "
                    "dimension. The sizes of the remaining dimensions are expected to match the shape of "
                    f"corresponding output, but a mismatch was detected: grad_output[{index}] has a shape of "
                    f"torch.Size({list(first.shape[1:])}) and output[{index}] has a shape of "
                    f"torch.Size({list(output.shape)}). If you only want some tensors in `grad_output` to be "
                    "considered batched, consider using vmap."
                )
    if None in vectors:  # an implicit gradient (torch's checks), then batched over its first dim as any other
        implicit = _root_grads(outputs, vectors, create_graph)
        vectors = [_materialized(g) if v is None else v for v, g in zip(vectors, implicit)]
    if any(v.dim() == 0 for v in vectors):
        raise ValueError(
            "vmap(vjp, in_dims=0, ...)(<inputs>): Got in_dim=0 for some input, but that input is a Tensor of "
            "dimensionality 0 so expected in_dim to satisfy 0 <= in_dim < 0."
        )
    batch = vectors[0].shape[0]
    rows = []
    for index in range(batch):
        last = index == batch - 1
        rows.append(grad(outputs, inputs, tuple(v.select(0, index) for v in vectors),
                         retain_graph=retain_graph if last else True, create_graph=create_graph,
                         allow_unused=allow_unused, materialize_grads=materialize_grads))  # fmt: skip
    stacked = []
    for column in zip(*rows, strict=True):
        if column[0] is None:
            stacked.append(None)
            continue
        out = column[0].new_empty((batch, *column[0].shape))
        for index, value in enumerate(column):
            out[index].copy_(value)  # (Tensor methods the ops attach; recorded under create_graph)
        stacked.append(out)
    return tuple(stacked)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple:  # fmt: skip
    """The gradients of ``outputs`` w.r.t. ``inputs`` as a tuple (nothing is accumulated into ``.grad``).

    Example::

        >>> x = tritongrad.tensor(3., requires_grad=True)
        >>> tritongrad.autograd.grad(x ** 2, x)
        (tensor(6.),)
    """
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but got: allow_unused=False."
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    output_tuple = _as_tuple(outputs)
    input_tuple = _inputs_tuple(inputs, "grad")
    if not input_tuple:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if not only_inputs:
        warnings.warn(
            "only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate gradient for "
            "other parts of the graph, please use torch.autograd.backward.",
            FutureWarning,
            stacklevel=2,
        )
    if is_grads_batched:
        results = _batched_grad(
            output_tuple, input_tuple, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads
        )
        return dict(zip(inputs, results, strict=True)) if type(inputs) is dict else results
    grads = _root_grads(output_tuple, _grads_tuple(grad_outputs, len(output_tuple)), create_graph)
    _check_inputs(input_tuple)
    retain = create_graph if retain_graph is None else retain_graph
    results = run_backward(output_tuple, grads, retain_graph=retain, create_graph=create_graph, capture=input_tuple)
    final = []
    for index, (tensor, result) in enumerate(zip(input_tuple, results)):
        if result is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {index} appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                result = creation.zeros_like(tensor).requires_grad_(create_graph)
        elif not create_graph:
            result = result.detach()
        final.append(result)
    return dict(zip(inputs, final, strict=True)) if type(inputs) is dict else tuple(final)


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
    """Computes the gradient of this tensor w.r.t. the graph leaves (accumulated into ``.grad``)."""
    if (
        gradient is None and not retain_graph and not create_graph and inputs is None
        and self._grad_fn is not None and self._base is None and self._data.numel() == 1
    ):  # fmt: skip
        # ``loss.backward()``, the call of every training step: what backward() would decide.
        run_backward((self,), (UnitGradient(self),), retain_graph=False, create_graph=False)
        return
    backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)


def _tensor_numpy(self, *, force: bool = False):
    """``Tensor.numpy`` with torch's check: a tensor that requires grad is refused while grad mode is on
    (``np.asarray(x)`` too, through ``__array__``)."""
    if self.requires_grad and not force and is_grad_enabled():
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    return self._host_array(force=force)


attach_methods({"backward": _tensor_backward, "numpy": _tensor_numpy})
