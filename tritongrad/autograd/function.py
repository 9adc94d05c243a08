"""The tape's building blocks: Function, its ctx (the graph node), saved tensors, AccumulateGrad.

A differentiable op is a small ``Function`` subclass::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            result = ...launch a kernel...
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad):
            (result,) = ctx.saved_tensors
            return grad * result

``Exp.apply(x)`` runs ``forward`` with recording switched off and, when an input
requires grad, attaches a node named ``ExpBackward0`` to the output. The node is
the ``ctx``: it holds what forward saved and the edges (``next_functions``) to the
nodes of the inputs. Backward formulas are written with tritongrad's own
differentiable ops, so running them with recording on (``create_graph=True``)
builds the graph of the derivative and higher derivatives come for free.
"""

from __future__ import annotations

import functools
import inspect
import re
import warnings
import weakref
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import torch

from tritongrad.autograd import saved_hooks
from tritongrad.autograd.anomaly_mode import is_anomaly_enabled
from tritongrad.autograd.grad_mode import _state as _grad_state
from tritongrad.dtypes import tensor_type_name
from tritongrad.hooks import RemovableHandle, add_hook
from tritongrad.tensor import _INFERENCE_SAVED_MESSAGE, Tensor, attach_methods

__all__ = ["Function", "FunctionCtx", "Node", "AccumulateGrad", "grad_accumulator", "once_differentiable",
           "InplaceFunction", "GradientEdge", "BackwardCFunction"]  # fmt: skip


class Node:
    """A node of the backward graph (``tensor.grad_fn``).

    ``_edges`` has one (node, output number) per argument of the forward call, aligned
    with what backward returns; ``next_functions`` shows those of the inputs, as torch does
    (an option such as ``dim`` or a mask has the edge ``(None, -1)``, which does not show
    there: see ``Function._number_operands`` and ``Function._tensor_options``).
    """

    # Defaults as class attributes: most nodes never get a hook or a retained gradient, so a node
    # is made without building those tables (the _add_* methods give a node its own on first use).
    _edges: tuple[tuple[Node | None, int], ...] = ()
    _tensor_pre_hooks: Mapping[int, dict] = MappingProxyType({})
    _retained: Mapping[int, weakref.ref] = MappingProxyType({})
    _hooks: Mapping[int, Callable] = MappingProxyType({})  # hook tables: {handle id: hook}, as torch's
    _pre_hooks: Mapping[int, Callable] = MappingProxyType({})
    # (output number, shape, dtype, device) of each tensor output (FunctionCtx records them).
    _output_meta: tuple | list = ()
    # How many outputs the forward returned, when some are not tensors (their gradient is None): 0 otherwise.
    _output_count = 0

    def _add_tensor_pre_hook(self, output_nr: int, hook) -> RemovableHandle:
        """Registers ``hook`` on the gradient of output ``output_nr``."""
        if "_tensor_pre_hooks" not in self.__dict__:
            self._tensor_pre_hooks = {}
        return add_hook(self._tensor_pre_hooks.setdefault(output_nr, {}), hook)

    def _add_retained(self, output_nr: int, tensor) -> None:
        """Output ``output_nr`` (held weakly) keeps its gradient in ``.grad`` (retain_grad)."""
        if "_retained" not in self.__dict__:
            self._retained = {}
        self._retained[output_nr] = weakref.ref(tensor)

    def _input_positions(self) -> list[int]:
        """The positions in ``_edges`` of the node's inputs as torch counts them, in torch's order: the
        tensor arguments but the op's tensor options (a mask, an index, a class target), and the number
        operands (``x * 2``'s 2, which torch wraps into a tensor: an input without a gradient), as the
        Function declares them (``_tensor_options``, ``_number_operands``). Read here, when a graph is
        inspected or hooked, so that recording an op pays nothing for it (``_optional_tensors`` too). A node hook's
        ``grad_inputs`` has one entry each."""
        edges = self._edges
        function = getattr(type(self), "_function", Function)
        # (a Function whose torch op takes its inputs in another order names that order)
        order = getattr(function, "_next_order", None)
        positions = order if order is not None and len(edges) == len(order) else range(len(edges))
        options, numbers, optional = function._tensor_options, function._number_operands, function._optional_tensors
        return [i for i in positions if (edges[i][1] >= 0 and i not in options) or i in numbers or i in optional]

    @property
    def next_functions(self) -> tuple[tuple[Node | None, int], ...]:
        edges = self._edges
        return tuple([edges[i] if edges[i][1] >= 0 else _NO_EDGE for i in self._input_positions()])

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:  # (torch's: the class name, CopySlices where name() says torch::autograd::...)
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    @property
    def metadata(self) -> dict:
        """A dict of the node's own, for the user's notes (torch's ``grad_fn.metadata``; empty at first)."""
        if "_metadata" not in self.__dict__:
            self._metadata = {}
        return self._metadata

    def apply(self, grads: tuple) -> tuple:
        raise NotImplementedError

    def __call__(self, *grads):
        """The node's backward on ``grads`` (one per output), as torch's ``grad_fn(...)``: the gradient of
        each input (a tuple, or the one tensor of a node with one input)."""
        results = self.apply(grads)
        padded = list(results) + [None] * (len(self._edges) - len(results))
        per_input = tuple(padded[index] for index in self._input_positions())
        return per_input[0] if len(per_input) == 1 else per_input

    def register_hook(self, hook) -> RemovableHandle:
        """``hook(grad_inputs, grad_outputs)`` runs after this node computed its gradients; it may
        return replacement ``grad_inputs``. Returns a handle whose ``remove()`` unregisters it."""
        if "_hooks" not in self.__dict__:
            self._hooks = {}
        return add_hook(self._hooks, hook)

    def register_prehook(self, hook) -> RemovableHandle:
        """``hook(grad_outputs)`` runs before this node computes its gradients; it may return a
        replacement tuple of ``grad_outputs``. Returns a handle whose ``remove()`` unregisters it."""
        if "_pre_hooks" not in self.__dict__:
            self._pre_hooks = {}
        return add_hook(self._pre_hooks, hook)

    def _release(self) -> None:
        """Drops saved state after a backward without ``retain_graph``."""


class GradientEdge(NamedTuple):
    """Where a tensor's gradient is computed: its node and that node's output number (graph.get_gradient_edge);
    ``autograd.grad`` takes one in place of the tensor."""

    node: Node
    output_nr: int
    ownership_token: Node | None = None


class AccumulateGrad(Node):
    """The node of a leaf tensor: adds the incoming gradient into ``variable.grad``.

    The leaf holds its node (made once, on the leaf's first recorded use) and the node holds the
    leaf weakly, so there is no reference cycle between them; each node recorded with the leaf as
    an input holds the leaf itself (``FunctionCtx._leaves``), so a graph keeps its leaves alive as
    torch's does. (torch's leaf holds its node weakly and makes a new one for each graph after the
    last one died: in a training loop, one per parameter per step.)
    """

    def __init__(self, variable) -> None:
        self._variable = weakref.ref(variable)

    @property
    def variable(self):
        return self._variable()

    def name(self) -> str:  # (torch's C++ name; the class and repr say AccumulateGrad)
        return "torch::autograd::AccumulateGrad"


def _unpack_saved(entry: tuple, node: FunctionCtx):
    """The tensor a saved entry stands for, after checking it was not modified in place since.

    An entry is ``(tensor, version_counter, version)`` for a tensor saved as it is, or
    ``(None, version_counter, version, data, requires_grad, output_nr)`` for an output of the node
    that saves it: that one is stored without its grad_fn (the node itself: keeping it would make a
    reference cycle) and rebuilt on use. Tuples, not objects: saving runs for every recorded op.
    """
    tensor, counter, version = entry[0], entry[1], entry[2]
    if counter is _PACKED:
        unpacked = entry[4](entry[3])  # (unpack_hook(packed))
        if not isinstance(unpacked, Tensor):
            raise TypeError(
                "Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                f"{type(unpacked).__name__}"
            )
        return unpacked
    if counter.value != version:
        raise RuntimeError(_modified_message(entry, node, counter.value, version))
    if tensor is not None:
        return tensor
    rebuilt = Tensor._wrap(entry[3], version_counter=counter)
    if entry[4]:
        rebuilt._requires_grad = True
        rebuilt._grad_fn = node
        rebuilt._output_nr = entry[5]
    return rebuilt


def _modified_message(entry: tuple, node: FunctionCtx, now: int, expected: int) -> str:
    """torch's words for a saved tensor written in place since: its type and shape, the node whose output
    it is now (the saving node for a saved output; none for a leaf), and anomaly mode's hint."""
    tensor = entry[0]
    data = entry[3] if tensor is None else tensor._data
    if tensor is None:
        name, output_nr = node.name(), entry[5]
    else:
        base = tensor._base
        stale = base is not None and base._requires_grad and tensor._history_epoch != base._history_epoch
        # (a view whose base was written since: torch names the history it regenerates, which tritongrad
        # regenerates only when grad mode is on, and backward runs with it off)
        name, output_nr = ("AsStrided" if stale else tensor.grad_fn and tensor.grad_fn.name()), tensor._output_nr
    made_by = "" if name is None else f", which is output {output_nr} of {_BACKWARD_SUFFIX.sub('', name)},"
    hint = (
        "the backtrace further above shows the operation that failed to compute its gradient. The variable in "
        "question was changed in there or anywhere later. Good luck!"
        if is_anomaly_enabled()
        else "enable anomaly detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False)."
    )
    return (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{tensor_type_name(data.dtype, data.device, aten=True)} {list(data.shape)}]{made_by} is at version {now}; "
        f"expected version {expected} instead. Hint: {hint}"
    )


_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")


class _Packed:
    """The counter of a saved entry made under saved_tensors_hooks, (None, _PACKED, -1, packed, unpack_hook):
    its value never matches, so reading the entry takes _unpack_saved, which calls unpack_hook(packed)."""

    value = -2


_PACKED = _Packed()

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
    "or if you need to access saved tensors after calling backward."
)


class FunctionCtx(Node):
    """The ``ctx`` of a Function: the node recorded for one call of it."""

    _saved: tuple[tuple | None, ...] | None = None
    _pending_save: tuple | None = None
    _freed = False
    needs_input_grad: tuple[bool, ...] = ()
    materialize_grads = True
    _non_differentiable: frozenset[int] | set[int] = frozenset()
    _dirty: frozenset[int] | set[int] = frozenset()
    _recording = False
    # Each Function's node class sets these two (see _node_class): a node is made with no __init__.
    _function: type[Function]
    _torch_name = "FunctionCtx"

    def name(self) -> str:
        """torch's node name: ``MulBackward0`` for tritongrad's ops, ``ExpBackward`` for a user's ``Exp``."""
        return self._torch_name

    def __repr__(self) -> str:
        # torch makes a custom Function's node class inside torch.autograd.function, and its repr says so
        if self._function._external:
            return f"<torch.autograd.function.{type(self).__name__} object at {hex(id(self))}>"
        return super().__repr__()

    def __getattr__(self, name: str):
        """torch's ``grad_fn._saved_self`` / ``_saved_result`` / ``_saved_exponent`` ...: what the node
        saved, by torch's names: the Function's ``_saved_by_name`` table (a number operand that torch
        wraps, x * 3's 3, as its 0-d tensor: ``saved_numbers``), else the ctx attribute of that name or
        of tritongrad's usual name for it (``_SAVED_ATTRIBUTES``: the input's shape is ``input_shape``)."""
        if name.startswith("_saved_"):
            key = name[len("_saved_") :]
            function = self._function
            table = function._saved_by_name(self)
            if table.get(key) is None and key in function.saved_numbers:
                number = self.__dict__.get(function.saved_numbers[key])
                if number is not None:
                    return _wrapped_number(number)
            if key in table:
                return table[key]
            if key in self.__dict__:
                value = self.__dict__[key]
                return _SAVED_DEFAULTS.get(key) if value is None else value
            attribute = _SAVED_ATTRIBUTES.get(key)
            if attribute in self.__dict__:
                value = self.__dict__[attribute]
                return tuple(value) if isinstance(value, (list, tuple)) else value
        raise AttributeError(f"'{self.name()}' object has no attribute '{name}'")

    # ---- what forward may call ----
    def save_for_backward(self, *tensors) -> None:
        """Saves tensors (or None) for backward; read them back with ``ctx.saved_tensors``.

        They are checked when the call records (as torch's, which checks nothing when it does not).
        """
        self._pending_save = tensors

    def save_for_forward(self, *tensors) -> None:
        """Tensors for a ``jvp`` (forward-mode AD, which tritongrad has not): kept as torch keeps them."""
        for tensor in tensors:
            if not (isinstance(tensor, Tensor) or tensor is None):
                raise AssertionError(
                    "save_for_forward expects all arguments to be tensors; you should save non-tensors as "
                    "attributes on ctx."
                )
        self.saved_for_forward = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Outputs that never receive a gradient (indices, masks)."""
        if not all(isinstance(t, Tensor) for t in tensors):
            raise RuntimeError("mark_non_differentiable only accepts variable arguments, but got ")  # (torch's, cut)
        self._non_differentiable = {*self._non_differentiable, *(id(t) for t in tensors)}

    def mark_dirty(self, *tensors) -> None:
        """Inputs modified in place by forward (each must be returned: apply checks)."""
        if not all(isinstance(t, Tensor) for t in tensors):
            raise RuntimeError("mark_dirty can only accept variables, but argument ")  # (torch's message, cut short)
        self._dirty = {*self._dirty, *(id(t) for t in tensors)}

    def set_materialize_grads(self, value: bool) -> None:
        """If False, backward may receive None for outputs that got no gradient."""
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(_FREED_MESSAGE)
            return ()  # nothing saved, or forward still running (torch's saved_tensors is empty there too)
        tensors = []
        for entry in saved:
            if entry is None:
                tensors.append(None)
            elif entry[0] is not None and entry[1].value == entry[2]:
                tensors.append(entry[0])  # an input, unmodified since: the common case
            else:
                tensors.append(_unpack_saved(entry, self))
        return tuple(tensors)

    def _save_output_as(self, output_data, tensor) -> None:
        """An in-place op ran this node out of place and copied its output into ``tensor``: what it
        saved of that output becomes ``tensor`` at its present version, as torch's in-place op saves
        its result, so a later in-place write to it is the version error torch raises."""
        if not self._saved:
            return
        counter = tensor._version_counter
        self._saved = tuple(
            (None, counter, counter.value, tensor._data, entry[4], entry[5])
            if entry is not None and entry[0] is None and entry[1] is not _PACKED and entry[3] is output_data
            else entry
            for entry in self._saved
        )

    def _release(self) -> None:
        # torch frees what a node saved: a node that saved no tensor (neg, sum) runs a second time
        if self._saved or self._pending_save:
            self._freed = True
            self._saved = None
            self._pending_save = None

    def apply(self, grads: tuple) -> tuple:
        result = self._function.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        return result


class BackwardCFunction(FunctionCtx):
    """The base of a user's Function's nodes (torch's ``torch.autograd.function.BackwardCFunction``:
    ``isinstance(y.grad_fn, BackwardCFunction)`` tells a custom Function's node from a built-in one)."""


# torch's saved names that tritongrad's Functions keep under their own ctx attribute names
_SAVED_ATTRIBUTES = {"self_sym_sizes": "input_shape", "dim": "dims"}
# torch's scalar arguments whose None (not given) torch saves as their default value
_SAVED_DEFAULTS = {"alpha": 1, "beta": 1, "value": 1}
# the dtype torch wraps a Python number operand into (a "wrapped number" tensor)
_WRAPPED_NUMBER_DTYPES = {bool: torch.bool, int: torch.int64, float: torch.float64, complex: torch.complex128}


def _wrapped_number(number) -> Tensor:
    """``number`` as the 0-d tensor torch saves for a number operand: ``(x * 3).grad_fn._saved_other``
    is ``tensor(3)`` (int64), 3.5 is float64."""
    # (bool before int: True is an int too)
    dtype = next((dtype for kind, dtype in _WRAPPED_NUMBER_DTYPES.items() if isinstance(number, kind)), None)
    return Tensor._wrap(torch.tensor(number, dtype=dtype))


def _node_name(function: type) -> str:
    explicit = getattr(function, "_backward_name", None)
    if explicit:
        return explicit
    suffix = "Backward0" if function.__module__.startswith("tritongrad.") else "Backward"
    return f"{function.__name__}{suffix}"


def _node_class(function: type) -> type[FunctionCtx]:
    """The class of ``function``'s graph nodes, named as torch names the node, so that
    ``type(y.grad_fn).__name__`` is ``"AddBackward0"`` as in torch: one FunctionCtx subclass per
    Function, made the first time it records (no class is written out per op). The class carries the
    Function, so recording a node is one call of a class without an ``__init__``."""
    node_class = function.__dict__.get("_node_class")
    if node_class is None:
        name = _node_name(function)
        # torch's C++ nodes print qualified (torch::autograd::CopySlices) but their class is CopySlices.
        attributes = {"__module__": __name__, "_torch_name": name, "_function": function,
                      "_forward": staticmethod(_forward_of(function))}  # fmt: skip
        base = BackwardCFunction if function._external else FunctionCtx
        node_class = function._node_class = type(name.rsplit("::", 1)[-1], (base,), attributes)
    return node_class


def _forward_of(function: type):
    """How a node runs ``function``'s forward: ``forward(ctx, *args)``, or for a Function written in
    torch's other style (a ``setup_context`` of its own) ``forward(*args)`` then
    ``setup_context(ctx, inputs, output)``."""
    if function.setup_context is Function.setup_context:
        return function.forward

    def forward_then_setup_context(ctx, *args, **kwargs):
        # (apply has bound keyword arguments already; the defaults complete setup_context's inputs, as torch's)
        inputs = _bound_arguments(function.forward, args, kwargs)
        outputs = function.forward(*inputs)
        function.setup_context(ctx, inputs, outputs)
        return outputs

    return forward_then_setup_context


def _bound_arguments(forward, args: tuple, kwargs: dict) -> tuple:
    """``args`` and ``kwargs`` bound to ``forward``'s signature, defaults filled in, as one tuple (torch's
    ``bind_default_args``)."""
    bound = inspect.signature(forward).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.args


def once_differentiable(backward):
    """Marks a Function's ``backward`` as not differentiable itself: it runs with grad mode off, so
    its gradients have no history (torch.autograd.function.once_differentiable). Under ``create_graph``
    with a gradient that requires grad, they get torch's ``Error`` node instead, whose backward raises
    (a second derivative through it would otherwise be silently missing)."""

    @functools.wraps(backward)
    def backward_without_history(ctx, *grad_outputs):
        enabled = _grad_state.enabled
        _grad_state.enabled = False
        try:
            outputs = backward(ctx, *grad_outputs)
        finally:
            _grad_state.enabled = enabled
        if not enabled or not any(isinstance(g, Tensor) and g.requires_grad for g in grad_outputs):
            return outputs
        single = not isinstance(outputs, tuple)
        fake_leaves = [o.detach().requires_grad_(True) if o is not None else None for o in (
            (outputs,) if single else outputs)]  # fmt: skip
        result = _DelayedError.apply(*fake_leaves)
        return result if type(result) is tuple else (result,)

    return backward_without_history


class Function:
    """Base class of differentiable operations (see the module docstring)."""

    # torch's names for what forward saved, in save_for_backward's order: ``grad_fn._saved_<name>``
    saved_names: tuple[str, ...] = ()
    # Of those, the ones that may be a Python number operand instead (not saved as a tensor), and the
    # ctx attribute that keeps the number: {torch's name: attribute}, e.g. Mul's {"other": "b_scalar"}
    saved_numbers: Mapping[str, str] = MappingProxyType({})
    # True for a Function whose backward takes and returns complex gradients in torch's convention
    # itself (ops/complex.py); any other one recording a complex output is conjugated around
    # (_conjugating), which is right when its formula is holomorphic (False: recording a complex
    # output is refused).
    complex_aware = False
    holomorphic = True
    # The name by which an output that shares an input's memory (the input returned as it is, or a
    # view of it) is refused an in-place write, as torch refuses it for a custom Function's: a
    # Function written outside tritongrad gets its class name (``__init_subclass__``); tritongrad's
    # own views and identities stay writable, except the backward-hook tap (nn/module.py).
    custom_view_name: str | None = None
    # True for a Function written outside tritongrad (a user's): its forward may compute from tensors it
    # did not receive, so it runs with grad mode off even when nothing is recorded, as torch's does.
    _external = False
    # The argument positions where a Python number is an operand, not an option: torch's op wraps it
    # into a tensor (``x * 2`` has two inputs), so its node counts it as an input without a gradient
    # (``next_functions`` shows ``(None, 0)``), where an option such as ``dim`` is no input.
    _number_operands: tuple[int, ...] = ()
    # The argument positions of tensors that are options, not inputs, to torch (an index, a mask, a
    # condition, a class target: torch declares them non-differentiable and gives them no edge).
    _tensor_options: tuple[int, ...] = ()
    # The argument positions of optional tensor inputs (a conv's bias, a norm's weight and bias): torch's
    # node counts them even when None is given (``next_functions`` shows ``(None, 0)``).
    _optional_tensors: tuple[int, ...] = ()
    # True for a Function with a setup_context of its own: apply binds keyword arguments to forward's
    # signature (they become positional inputs, with edges), and its forward fills in the defaults of what
    # setup_context's ``inputs`` holds, as torch's.
    _binds_arguments = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._binds_arguments = cls.setup_context is not Function.setup_context
        if not cls.__module__.startswith("tritongrad."):
            cls._external = True
            if "custom_view_name" not in cls.__dict__:
                cls.custom_view_name = cls.__name__
        if cls.custom_view_name is not None and "apply" not in cls.__dict__:
            # Only these classes pay for the marking; tritongrad's own ops keep the plain apply.
            cls.apply = classmethod(_apply_marking_views)
        if "vjp" in cls.__dict__:  # torch's alias: the engine calls backward, so backward becomes vjp
            if cls.backward is not Function.backward:
                cls.backward = staticmethod(_both_backward_and_vjp)
            else:
                cls.backward = cls.__dict__["vjp"]

    @staticmethod
    def _saved_by_name(ctx: FunctionCtx) -> dict[str, Any]:
        """The saved values by torch's names (``saved_names``); a Function whose saved values follow a
        table row overrides it."""
        names = ctx._function.saved_names
        return dict(zip(names, ctx.saved_tensors, strict=False)) if names else {}

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output) -> None:
        """Overridden by a Function whose ``forward`` takes no ctx: it saves what backward needs here."""
        raise NotImplementedError("setup_context is not implemented")

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function to use it "
            "with backward mode AD."
        )

    vjp = backward  # torch's other name of backward: a subclass may define either (__init_subclass__)

    @staticmethod
    def jvp(ctx: FunctionCtx, *grad_inputs):
        """Forward-mode AD's rule (autograd/forward_ad.py): the outputs' tangents from the inputs'."""
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with forward mode AD."
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn(
            f"{self.__class__} should not be instantiated. Methods on autograd functions are all static, so you "
            "should invoke them on the class itself. Instantiating an autograd function will raise an error in a "
            "future version of PyTorch.",
            DeprecationWarning,
            stacklevel=2,
        )

    def __call__(self, *args: Any, **kwargs: Any):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use new-style autograd "
            "function with static forward method. (Example: https://pytorch.org/docs/stable/autograd.html#torch."
            "autograd.Function)"
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any):
        # (Written for speed: it runs for every op. Grad mode is read and switched on its state.)
        if kwargs and cls._binds_arguments:  # (keywords become positional inputs, as torch binds them)
            args, kwargs = _bound_arguments(cls.forward, args, kwargs), {}
        if forward_hook:
            handled = forward_hook(cls, args, kwargs)
            if handled is not NOT_HANDLED:
                return handled
        ctx = (cls.__dict__.get("_node_class") or _node_class(cls))()
        # (A view reads requires_grad through the property, which refreshes a view whose base was
        # rewritten in place since; any other tensor reads its field. A list comprehension, not a
        # generator: this line runs for every op.)
        ctx.needs_input_grad = needs = tuple(
            [isinstance(a, Tensor) and (a._requires_grad if a._base is None else a.requires_grad) for a in args]
        )
        if True not in needs or not _grad_state.enabled:
            # Nothing is recorded: no edges, nothing saved for a backward. A custom Function's forward
            # still runs with grad mode off, as torch's always does, so what it computes from tensors it
            # did not receive (a parameter in a closure) records nothing either; tritongrad's own ops
            # compute from their arguments alone, which need no gradient here, and skip the switch.
            if _grad_state.enabled and cls._external:
                _grad_state.enabled = False
                try:
                    outputs = ctx._forward(ctx, *args, **kwargs)
                finally:
                    _grad_state.enabled = True
            else:
                outputs = ctx._forward(ctx, *args, **kwargs)
            if ctx._dirty:
                _check_dirty_returned(ctx, outputs)
                for arg in args:
                    if isinstance(arg, Tensor) and id(arg) in ctx._dirty:
                        arg._version_counter.bump()
            ctx._pending_save = None
            if type(outputs) is Tensor:
                if not ctx._dirty:
                    for arg in args:
                        if outputs is arg:
                            return outputs.detach()
                return outputs
            return _fresh_outputs(ctx, args, outputs)
        ctx._recording = True  # forwards may prepare work for a backward (ops/loss_elementwise)
        # Grad mode off while forward runs (a plain switch: it is on, or nothing would record).
        _grad_state.enabled = False
        try:
            outputs = ctx._forward(ctx, *args, **kwargs)
        finally:
            _grad_state.enabled = True
        dirty = ctx._dirty
        if dirty:
            _check_dirty_returned(ctx, outputs)
        if type(outputs) is Tensor:
            for arg in args:
                if outputs is arg and id(arg) not in dirty:
                    outputs = _input_alias(ctx, outputs)  # an input returned as it is: a new tensor, its own history
                    break
            output_tuple = (outputs,)
        else:
            single = type(outputs) is not tuple
            outputs = _fresh_outputs(ctx, args, outputs)
            output_tuple = (outputs,) if single else outputs

        if dirty:
            for arg in args:
                if isinstance(arg, Tensor) and id(arg) in dirty:
                    arg._version_counter.bump()
                    if arg.is_leaf and arg.requires_grad:
                        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
                    base = arg._base
                    if base is not None and base.is_leaf and base.requires_grad:
                        raise RuntimeError(
                            "a view of a leaf Variable that requires grad is being used in an in-place operation."
                        )
        # One edge per argument: to the node that made it, its leaf's AccumulateGrad, or none.
        edges = []
        leaves = []
        for arg, need in zip(args, needs):
            if need:
                if arg._base is not None:
                    edge = _edge_to(arg)  # a view's history may need a refresh first
                    edges.append(edge)
                    if type(edge[0]) is AccumulateGrad:
                        leaves.append(arg)
                elif arg._grad_fn is not None:
                    edges.append((arg._grad_fn, arg._output_nr))
                else:
                    node = arg._accumulator
                    edges.append((node if node is not None else grad_accumulator(arg), 0))
                    leaves.append(arg)
            else:
                edges.append(_NO_EDGE if isinstance(arg, Tensor) else _NOT_A_TENSOR)
        ctx._edges = tuple(edges)
        if leaves:
            ctx._leaves = leaves  # the graph keeps its leaves alive (their nodes hold them weakly)

        non_differentiable = ctx._non_differentiable
        if type(outputs) is Tensor:
            # One tensor output, the common case (written out: the loop below costs twice as much).
            data = outputs._data
            # (the complex case first, so that the floating one runs no jump over it)
            if not data.dtype.is_floating_point:
                if data.dtype.is_complex and not (non_differentiable and id(outputs) in non_differentiable):
                    _record_complex_output(ctx, outputs, 0)
            elif not (non_differentiable and id(outputs) in non_differentiable):
                outputs._requires_grad = True
                outputs._grad_fn = ctx
                if outputs._output_nr:
                    outputs._output_nr = 0
                if outputs._retains_grad:
                    outputs._retains_grad = False
            ctx._output_meta = ((0, data.shape, data.dtype, data.device),)
        else:
            output_meta = []
            output_nr = 0
            for output in output_tuple:
                if isinstance(output, Tensor):
                    data = output._data
                    if not data.dtype.is_floating_point:
                        if data.dtype.is_complex and not (non_differentiable and id(output) in non_differentiable):
                            _record_complex_output(ctx, output, output_nr)
                    elif not (non_differentiable and id(output) in non_differentiable):
                        output._requires_grad = True
                        output._grad_fn = ctx
                        output._output_nr = output_nr
                        output._retains_grad = False
                    output_meta.append((output_nr, data.shape, data.dtype, data.device))
                output_nr += 1
            ctx._output_meta = output_meta
            if len(output_meta) != output_nr:
                ctx._output_count = output_nr
        if dirty:
            _rebase_dirty_views(args, dirty)

        pending = ctx._pending_save
        if pending is not None:
            ctx._pending_save = None
            saved = []
            hooks = saved_hooks.current_hooks() if saved_hooks.pushed else None
            for tensor in pending:
                if tensor is None:
                    saved.append(None)
                    continue
                if not isinstance(tensor, Tensor):
                    raise TypeError(
                        f"save_for_backward can only save variables, but argument {len(saved)} is of type "
                        f"{type(tensor).__name__}"
                    )
                if hooks is not None:  # saved_tensors_hooks: the node keeps what pack returns
                    saved.append((None, _PACKED, -1, _packed(hooks[0], tensor), hooks[1]))
                    continue
                if tensor._is_inference:
                    raise RuntimeError(_INFERENCE_SAVED_MESSAGE)
                counter = tensor._version_counter
                if tensor._grad_fn is ctx:  # an output of this node (saved without the reference back to it)
                    output_nr = 0
                    if len(output_tuple) > 1:
                        output_nr = next(i for i, output in enumerate(output_tuple) if output is tensor)
                    saved.append((None, counter, counter.value, tensor._data, tensor._requires_grad, output_nr))
                else:
                    saved.append((tensor, counter, counter.value))
            ctx._saved = tuple(saved)
        return outputs


_PACK_MODIFIED_MESSAGE = (
    "A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack hook cannot be "
    "modified by in-place operations as this can lead to unexpected side-effects. Please open an issue if you need "
    "to perform in-place operations on the input to a pack hook."
)


def _packed(pack_hook, tensor: Tensor):
    """``pack_hook(tensor)`` as torch calls it: with grad mode off, and refused if it wrote ``tensor`` in place
    (its version counter moved)."""
    version = tensor._version_counter.value
    enabled, _grad_state.enabled = _grad_state.enabled, False
    try:
        packed = pack_hook(tensor)
    finally:
        _grad_state.enabled = enabled
    if tensor._version_counter.value != version:
        raise RuntimeError(_PACK_MODIFIED_MESSAGE)
    return packed


# Forward-mode AD's entry (autograd/forward_ad.py sets it while a dual level is open): it runs a call
# whose arguments carry tangents and returns NOT_HANDLED for any other, which apply then runs itself.
forward_hook: Callable[[type, tuple, dict], Any] | None = None
NOT_HANDLED = object()


# How a write through a view is recorded on its base (ops/views.py's rebase_after_write_through_view,
# which registers itself here: the base's history becomes CopySlices, the view's AsStridedBackward0).
rebase_view: Callable[[Tensor, Tensor], None] | None = None


def _rebase_dirty_views(args: tuple, dirty: set) -> None:
    """A view forward wrote in place (``mark_dirty``) and returned: its base's history now ends in the
    Function's node, through CopySlices, as torch records a write through a view."""
    for arg in args:
        if isinstance(arg, Tensor) and id(arg) in dirty and arg._base is not None and arg._grad_fn is not None:
            result = Tensor._wrap(arg._data)
            result._grad_fn, result._output_nr, result._requires_grad = arg._grad_fn, arg._output_nr, True
            rebase_view(arg, result)


class _DelayedError(Function):
    """torch's ``DelayedError`` node (named ``Error``): its outputs stand for a once_differentiable
    backward's gradients, and differentiating through them raises."""

    _backward_name = "torch::autograd::Error"

    @staticmethod
    def forward(ctx, *tensors):
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


def _both_backward_and_vjp(ctx, *grad_outputs):
    raise RuntimeError(
        "Implementing both 'backward' and 'vjp' for a custom Function is not allowed. You should only implement "
        "one of them."
    )


class InplaceFunction(Function):
    """torch.autograd.function.InplaceFunction: a Function with an ``inplace`` flag (for the legacy
    instance style, which torch refuses to call; subclasses use it as any Function)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


def _check_dirty_returned(ctx: FunctionCtx, outputs) -> None:
    """torch's rule: every input forward marked dirty is among its outputs."""
    returned = (
        {id(outputs)}
        if type(outputs) is Tensor
        else {id(o) for o in (outputs if type(outputs) is tuple else (outputs,))}
    )
    if not ctx._dirty <= returned:
        raise RuntimeError(
            "Some elements marked as dirty during the forward method were not returned as output. The inputs "
            "that are modified inplace must all be outputs of the Function."
        )


def _apply_marking_views(cls, *args: Any, **kwargs: Any):
    """``apply`` of a Function with a ``custom_view_name``: Function.apply, then its recorded outputs that
    share memory with a tensor argument are marked (check_inplace refuses to write them in place, in
    torch's words)."""
    result = Function.apply.__func__(cls, *args, **kwargs)
    outputs = result if type(result) is tuple else (result,)
    storages = {a._data.untyped_storage().data_ptr() for a in args if isinstance(a, Tensor) and a._data.numel()}
    for number, output in enumerate(outputs):
        if isinstance(output, Tensor) and output._requires_grad and output._data.numel():
            if output._data.untyped_storage().data_ptr() in storages:
                output._custom_function_view = (cls.custom_view_name, number)
    return result


_NO_EDGE = (None, 0)  # a tensor argument that needs no gradient
_NOT_A_TENSOR = (None, -1)  # an argument that is not a tensor: a gradient for it is an error


def _record_complex_output(ctx: FunctionCtx, output: Tensor, output_nr: int) -> None:
    """A complex output gets a history, as a floating one does; and unless its Function is written
    for complex tensors (``complex_aware``), its node's backward is the Function's own between two
    conjugations (``_conjugating``)."""
    output._requires_grad = True
    output._grad_fn = ctx
    output._output_nr = output_nr
    output._retains_grad = False
    function = ctx._function
    if not function.complex_aware and not function.__dict__.get("_conjugated", False):
        if not function.holomorphic:
            raise NotImplementedError(
                f"tritongrad: the derivative of {ctx.name()} for complex tensors is not implemented"
            )
        ctx.__class__ = _conjugating(type(ctx))


def _conjugated(grad):
    return grad.conj_physical() if grad is not None and grad.dtype.is_complex else grad


def _conjugating(node_class: type) -> type:
    """The node class of a holomorphic Function taught complex gradients by conjugation.

    torch passes complex gradients in the conjugate Wirtinger convention: for c = a * b,
    grad_a = grad_c * conj(b). A Function whose backward is the real formula (grad_c * b) is
    right for complex operands between two conjugations, conj(backward(conj(grad))), because every
    such formula is holomorphic in the saved values: that is how add, mul, div, exp, reciprocal,
    sum, mean, matmul, the views, cat and casts record complex tensors without a complex copy of
    each. A real input's gradient (a real operand of a complex product) is the real part of the
    conjugated one, which is the same number, so it passes unconjugated.
    """
    cached = node_class.__dict__.get("_conjugating_class")
    if cached is not None:
        return cached
    function = node_class._function

    def backward(ctx, *grads):
        with warnings.catch_warnings():  # (a real input's gradient is the real part, as torch's backward takes it)
            warnings.filterwarnings("ignore", message="Casting complex values to real discards")
            results = function.backward(ctx, *[_conjugated(grad) for grad in grads])
        if isinstance(results, tuple):
            return tuple(_conjugated(result) for result in results)
        return _conjugated(results)

    conjugated = type(function.__name__, (function,), {
        "backward": staticmethod(backward), "_conjugated": True, "__module__": function.__module__,
    })  # fmt: skip
    cached = type(node_class.__name__, (node_class,), {"_function": conjugated, "__module__": node_class.__module__})
    node_class._conjugating_class = cached
    return cached


def _fresh_outputs(ctx: FunctionCtx, args: tuple, outputs):
    """``outputs`` with any input returned unchanged (and not marked dirty) replaced by a new tensor
    sharing its memory, so recording does not overwrite the input's own history."""
    if type(outputs) is Tensor:
        for arg in args:
            if outputs is arg:
                return outputs if id(outputs) in ctx._dirty else _input_alias(ctx, outputs)
        return outputs
    single = not isinstance(outputs, tuple)
    output_tuple = (outputs,) if single else outputs
    argument_ids = {id(a) for a in args if isinstance(a, Tensor)}
    if not any(isinstance(o, Tensor) and id(o) in argument_ids and id(o) not in ctx._dirty for o in output_tuple):
        return outputs
    output_tuple = tuple(
        _input_alias(ctx, o) if isinstance(o, Tensor) and id(o) in argument_ids and id(o) not in ctx._dirty else o
        for o in output_tuple
    )
    return output_tuple[0] if single else output_tuple


def _input_alias(ctx: FunctionCtx, tensor: Tensor) -> Tensor:
    """The new tensor that stands for an input forward returned as it is; if forward marked the input
    non-differentiable, the mark moves to it (torch's output is then without history too)."""
    alias = tensor.detach()
    if id(tensor) in ctx._non_differentiable:
        ctx._non_differentiable = {*ctx._non_differentiable, id(alias)}
    return alias


def _edge_to(tensor) -> tuple[Node | None, int]:
    """The (node, output number) a gradient for ``tensor`` flows into: its node, its own accumulator if it
    was set to require grad, else none (a view without history that requires grad through its base, as
    torch's, has no accumulator: its gradient goes nowhere)."""
    if tensor.grad_fn is not None:
        return tensor.grad_fn, tensor._output_nr
    if tensor._requires_grad:
        return grad_accumulator(tensor), 0
    return None, 0


def grad_accumulator(tensor: Tensor) -> AccumulateGrad:
    """The AccumulateGrad node of a leaf, made on first use and kept by the leaf."""
    node = tensor._accumulator
    if node is None:
        node = tensor._accumulator = AccumulateGrad(tensor)
    return node


def register_hook(self: Tensor, hook) -> RemovableHandle:
    """``hook(grad)`` runs when the gradient for this tensor is computed; it may return a replacement."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    node, output_nr = (grad_accumulator(self), 0) if self.is_leaf else (self.grad_fn, self._output_nr)
    return node._add_tensor_pre_hook(output_nr, hook)


attach_methods({"register_hook": register_hook})


def move_retained_grad(tensor, old_node) -> None:
    """After an in-place op gave ``tensor`` a new node: if it retains its gradient, the new node keeps
    it and ``old_node`` no longer does, as torch moves the retain_grad hook (``.grad`` is then the
    gradient of the tensor's new value)."""
    if not tensor._retains_grad or old_node is None or tensor.grad_fn is None or old_node is tensor.grad_fn:
        return
    retained = old_node.__dict__.get("_retained")
    if retained:
        for output_nr, reference in list(retained.items()):
            if reference() is tensor:
                del retained[output_nr]
    tensor.grad_fn._add_retained(tensor._output_nr, tensor)
