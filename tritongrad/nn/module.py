"""nn.Module: the base of layers and models.

Assigning a Parameter, a Module or (through ``register_buffer``) a Tensor to a
module's attribute registers it, so ``parameters()``, ``state_dict()``,
``to()`` and ``zero_grad()`` find it. Written against tritongrad's public
Tensor API only, as a user of tritongrad would write it.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import torch

from tritongrad import caller_warnings
from tritongrad.autograd.engine import check_hook_result
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled, no_grad
from tritongrad.creation import empty_like
from tritongrad.hooks import RemovableHandle, add_hook
from tritongrad.nn.parameter import Parameter, is_lazy
from tritongrad.ops.linear import Linear
from tritongrad.tensor import Tensor, typename

__all__ = ["Module"]

# The state-dict key of a module's get_extra_state() (torch's).
_EXTRA_STATE_KEY = "_extra_state"


def _replacement_gradients(kind: str, hook_kind: str, grads: tuple, replaced) -> tuple:
    """What a module backward (pre-)hook returned, read as torch reads it: a sequence as long as
    ``grads`` (a tensor is iterated, so a bare gradient is a sequence of its rows), each element of
    the gradient's size, type and device."""
    if len(replaced) != len(grads):
        raise RuntimeError(
            f"Backward {hook_kind} returned an invalid number of {kind}, got {len(replaced)}, but expected {len(grads)}"
        )
    replaced = tuple(replaced)
    for old, new in zip(grads, replaced):
        if old is not None and new is not None:
            check_hook_result("hook", old, new)
    return replaced


_BOTH_KINDS_MESSAGE = (
    "Cannot use both regular backward hooks and full backward hooks on a single Module. Please use only one of them."
)


class _IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


def _returns_none(hook):
    """A state-dict post hook that must not return a value (torch's public form)."""

    def checked(module, state_dict, prefix, local_metadata):
        if hook(module, state_dict, prefix, local_metadata) is not None:
            raise RuntimeError("state_dict post-hook must return None")

    return checked


def _without_module(hook):
    """A load-state-dict pre hook registered without the module (torch's private default)."""

    def called(module, *args):
        return hook(*args)

    return called


class _GradientTap(Function):
    """The identity on some tensors, whose backward hands their gradients to ``callback`` (which may
    replace them): how a module's full backward hooks see its gradients, as torch's BackwardHook
    (whose node, BackwardHookFunctionBackward, it is named as). Its outputs are its inputs, so an
    in-place write into one is refused, as torch refuses it; those of inputs that need no gradient
    do not require one (their gradient, materialized, is zeros, as torch's hooks see it)."""

    custom_view_name = "BackwardHookFunction"
    _backward_name = "BackwardHookFunctionBackward"

    @staticmethod
    def forward(ctx, callback, materialize, *tensors):
        ctx.callback = callback
        if not materialize:  # (the outputs' tap: an output that got no gradient is None to the hooks)
            ctx.set_materialize_grads(False)
        # (detached here: Function.apply replaces an input returned as it is by a new tensor, which would
        # lose the non-differentiable mark)
        outputs = tuple([t.detach() for t in tensors])
        ctx.mark_non_differentiable(*[o for o, t in zip(outputs, tensors) if not t.requires_grad])
        return outputs

    @staticmethod
    def backward(ctx, *grads):
        return (None, None, *ctx.callback(ctx, grads))


class _WithKeywords:
    """A forward (pre-)hook registered ``with_kwargs=True``: it also receives the keyword arguments."""

    def __init__(self, function, after: bool) -> None:
        self.function, self.after = function, after


def _tap(callback, materialize: bool, values: tuple) -> tuple[tuple, list[int] | None]:
    """``values`` with every tensor among them through one _GradientTap, and the tensors' positions;
    as they were, and None, when none requires a gradient (torch's BackwardHook._apply_on_tensors)."""
    positions = [i for i, value in enumerate(values) if isinstance(value, Tensor)]
    if not any(values[i].requires_grad for i in positions):
        return values, None
    tapped = _GradientTap.apply(callback, materialize, *(values[i] for i in positions))
    values = list(values)
    for position, tensor in zip(positions, tapped):
        values[position] = tensor
    return tuple(values), positions


def _with_none(positions: list[int], values: tuple, size: int) -> tuple:
    """``values`` at ``positions`` of a tuple of ``size``, None elsewhere (a non-tensor argument or output)."""
    packed = [None] * size
    for position, value in zip(positions, values):
        packed[position] = value
    return tuple(packed)


class _BackwardHooks:
    """One call of a module with full backward hooks, as torch's BackwardHook: the gradients of its
    outputs (for the pre-hooks, which may replace them), then those of its positional inputs (for the
    hooks, given both). Each side has an entry per positional argument / output element: None for one
    that is not a tensor or (an output) got no gradient, zeros for a tensor input without one."""

    def __init__(self, module: Module, hooks: list, pre_hooks: list, legacy: list | None = None) -> None:
        self.module, self.hooks, self.pre_hooks, self.legacy = module, hooks, pre_hooks, legacy
        self.grad_output: tuple | None = None
        self.input_count = self.output_count = 0
        self.input_positions: list[int] | None = None
        self.output_positions: list[int] | None = None

    def wrap_inputs(self, args: tuple) -> tuple:
        self.input_count = len(args)
        args, self.input_positions = _tap(self.on_input_grads, True, args)
        return args

    def wrap_output(self, output):
        if not isinstance(output, (Tensor, tuple)):
            caller_warnings.warn(
                "For backward hooks to be called, module output should be a Tensor or a tuple of Tensors but "
                f"received {type(output)}"
            )
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        self.output_count = len(outputs)
        outputs, self.output_positions = _tap(self.on_output_grads, False, outputs)
        return outputs[0] if single else outputs

    def on_output_grads(self, ctx, grads: tuple) -> tuple:
        grad_output = _with_none(self.output_positions, grads, self.output_count)
        for hook in self.pre_hooks:
            replaced = hook(self.module, grad_output)
            if replaced is not None:
                grad_output = _replacement_gradients("grad_output", "pre hook", grad_output, replaced)
        self.grad_output = grad_output
        if self.input_positions is None:
            caller_warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to module outputs since no "
                "inputs require gradients. See https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                "#torch.nn.Module.register_full_backward_hook for more details."
            )
            grad_input = (None,) * self.input_count
            for hook in self.hooks:
                replaced = hook(self.module, grad_input, grad_output)
                if replaced is not None and not (isinstance(replaced, tuple) and all(g is None for g in replaced)):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should always return None or "
                        "None for all gradients."
                    )
            self.grad_output = None
        return tuple(grad_output[i] for i in self.output_positions)

    def on_input_grads(self, ctx, grads: tuple) -> tuple:
        if self.grad_output is None:
            # The gradient reached the inputs without passing through the outputs (double backward, or
            # an output that is not a tensor or tuple): torch calls no hook then.
            return grads
        grad_input = _with_none(self.input_positions, grads, self.input_count)
        for hook in self.hooks:
            replaced = hook(self.module, grad_input, self.grad_output)
            if replaced is not None:
                grad_input = _replacement_gradients("grad_input", "hook", grad_input, replaced)
        self.grad_output = None
        return tuple(grad_input[i] for i in self.input_positions)


class _LegacyBackwardHook:
    """A ``register_backward_hook`` hook, as torch runs it: a hook of the output's node, called with
    the module, that node's ``grad_inputs`` and ``grad_outputs`` (torch's mm/addmm of a 2-D linear layer
    sees the gradient of ``weight.t()``, its operand: so does the hook here)."""

    def __init__(self, hook, module: Module) -> None:
        self.hook, self.module = hook, module
        self.__name__ = getattr(hook, "__name__", type(hook).__name__)

    def __call__(self, grad_inputs: tuple, grad_outputs: tuple):
        transposed = self.transposes_weight
        if transposed and grad_inputs[-1] is not None:
            grad_inputs = (*grad_inputs[:-1], grad_inputs[-1].t())
        replaced = self.hook(self.module, grad_inputs, grad_outputs)
        if transposed and isinstance(replaced, tuple) and replaced and isinstance(replaced[-1], Tensor):
            replaced = (*replaced[:-1], replaced[-1].t())
        return replaced

    transposes_weight = False


def _register_legacy_hooks(module: Module, hooks: list, args: tuple, result) -> None:
    """torch's handling of the non-full backward hooks: each a hook of the first output tensor's node."""
    var = result
    while not isinstance(var, Tensor):
        var = next(v for v in var.values() if isinstance(v, Tensor)) if isinstance(var, dict) else var[0]
    grad_fn = var.grad_fn
    if grad_fn is None:
        return
    transposes = isinstance(getattr(grad_fn, "_function", None), type) and issubclass(grad_fn._function, Linear)
    transposes = transposes and grad_fn.name() in ("AddmmBackward0", "MmBackward0")
    for hook in hooks:
        wrapped = _LegacyBackwardHook(hook, module)
        wrapped.transposes_weight = transposes
        grad_fn.register_hook(wrapped)
    _warn_legacy_hook(args, result, grad_fn)


def _warn_legacy_hook(inputs, result, grad_fn) -> None:
    """torch's deprecation warnings for a non-full backward hook that will miss gradients."""
    if isinstance(result, Tensor):
        result = (result,)
    elif not (isinstance(result, tuple) and all(isinstance(r, Tensor) for r in result)):
        caller_warnings.warn(
            "Using non-full backward hooks on a Module that does not return a single Tensor or a tuple of Tensors "
            "is deprecated and will be removed in future versions. This hook will be missing some of the "
            "grad_output. Please use register_full_backward_hook to get the documented behavior.",
            FutureWarning,
        )
        return
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    elif not (isinstance(inputs, tuple) and all(isinstance(i, Tensor) for i in inputs)):
        caller_warnings.warn(
            "Using non-full backward hooks on a Module that does not take as input a single Tensor or a tuple of "
            "Tensors is deprecated and will be removed in future versions. This hook will be missing some of the "
            "grad_input. Please use register_full_backward_hook to get the documented behavior.",
            FutureWarning,
        )
        return
    out_grad_fn = {id(r.grad_fn) for r in result if r.grad_fn is not None}
    if not out_grad_fn or (len(out_grad_fn) == 1 and id(grad_fn) not in out_grad_fn):
        caller_warnings.warn(
            "Using a non-full backward hook when outputs are nested in python data structure is deprecated and will "
            "be removed in future versions. This hook will be missing some grad_output.",
            FutureWarning,
        )
    elif len(out_grad_fn) > 1:
        caller_warnings.warn(
            "Using a non-full backward hook when outputs are generated by different autograd Nodes is deprecated "
            "and will be removed in future versions. This hook will be missing some grad_output. Please use "
            "register_full_backward_hook to get the documented behavior.",
            FutureWarning,
        )
    elif {id(i.grad_fn) for i in inputs if i.grad_fn is not None} != {id(n) for n, _ in grad_fn.next_functions}:
        caller_warnings.warn(
            "Using a non-full backward hook when the forward contains multiple autograd Nodes is deprecated and "
            "will be removed in future versions. This hook will be missing some grad_input. Please use "
            "register_full_backward_hook to get the documented behavior.",
            FutureWarning,
        )


class Module:
    """Base class of all layers and models (torch.nn.Module's API).

    Example::

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 2)

            def forward(self, x):
                return self.fc(x).relu()
    """

    training: bool
    # The state-dict format version, saved per module in ``state_dict()._metadata`` (torch's).
    _version: int = 1

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    def __setstate__(self, state: dict) -> None:
        """Unpickling and deepcopy: the pickled attributes, and the tables ``__init__`` makes when an old
        pickle lacks them (torch's, so a subclass's ``__setstate__`` can call ``super().__setstate__``)."""
        self.__dict__.update(state)
        if "_non_persistent_buffers_set" not in self.__dict__:
            object.__setattr__(
                self, "_non_persistent_buffers_set", set(self.__dict__.pop("_non_persistent_buffers", ()))
            )
        if "_forward_pre_hooks" not in self.__dict__:  # (torch's list; the other tables are made on first use)
            object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    # ------------------------------------------------------------------ attribute registration
    def __setattr__(self, name: str, value: Any) -> None:
        # (torch's order: a table missing before Module.__init__() is an error only for what goes into it,
        # so a plain attribute may be set first)
        attributes = self.__dict__
        parameters = attributes.get("_parameters")
        if isinstance(value, Parameter):
            if parameters is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _check_name_format(name, "parameter")  # (torch registers it with register_parameter's checks)
            self._forget(name, keep=parameters)
            parameters[name] = value
            return
        if parameters is not None and name in parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{typename(value)}' as parameter '{name}' (torch.nn.Parameter or None expected)"
                )
            parameters[name] = None
            return
        modules = attributes.get("_modules")
        buffers = attributes.get("_buffers")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=modules)
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{typename(value)}' as child module '{name}' (torch.nn.Module or None expected)"
                )
            modules[name] = None
        elif isinstance(value, Tensor) and getattr(value, "_is_buffer", False):  # nn.Buffer(t, persistent=...)
            self.register_buffer(name, value, value.persistent)
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{typename(value)}' as buffer '{name}' (torch.nn.Buffer, torch.Tensor or None "
                    "expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: dict | None = None) -> None:
        """Drops ``name`` from every table but ``keep``, where a reassigned name keeps its place."""
        for table in (self.__dict__, self._parameters, self._buffers, self._modules):
            if table is not keep:
                table.pop(name, None)
        if keep is not self._buffers:
            self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str) -> Any:
        # (Unrolled for speed: every forward reads its parameters through here.)
        attributes = self.__dict__
        parameters = attributes.get("_parameters")
        if parameters is not None and name in parameters:
            return parameters[name]
        buffers = attributes.get("_buffers")
        if buffers is not None and name in buffers:
            return buffers[name]
        modules = attributes.get("_modules")
        if modules is not None and name in modules:
            return modules[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Registers ``param`` (or None) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(self, name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{typename(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")  # fmt: skip
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Registers a non-learnable tensor (saved in the state dict unless ``persistent=False``)."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(self, name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{typename(tensor)}' object to buffer '{name}' (torch Tensor or None required)"
            )
        self._forget(name, keep=self._buffers)
        self._non_persistent_buffers_set.discard(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Registers a child module."""
        if module is not None and not isinstance(module, Module):  # (checked before the name, as torch's)
            raise TypeError(f"{typename(module)} is not a Module subclass")
        _check_name(self, name, "module", self._modules)
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The submodule at a dotted path (``"0.fc"``), with torch's AttributeErrors."""
        module = self
        for part in target.split(".") if target else []:
            if not hasattr(module, part):
                raise AttributeError(f"{type(module).__name__} has no attribute `{part}`")
            module = getattr(module, part)
            if not isinstance(module, Module):
                raise AttributeError(f"`{part}` is not an nn.Module")
        return module

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Puts ``module`` at a dotted path; ``strict``: only where a submodule already is (torch's)."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        parent_path, _, name = target.rpartition(".")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent = self.get_submodule(parent_path) if parent_path else self
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{type(parent).__name__} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path (``"0.weight"``), with torch's AttributeErrors."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        if name not in module._parameters:
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return module._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path (``"0.running_mean"``), with torch's AttributeErrors."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    # ------------------------------------------------------------------ traversal
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(name, module) for this module and every descendant, each module once (``remove_duplicate=False``:
        under every name it has). ``memo`` is the set of modules already yielded, as torch's."""
        memo = set() if memo is None else memo
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(
        self, get_members_fn, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(qualified name, member) pairs: ``get_members_fn(module)`` gives a module's (name, member)
        pairs, as torch's (or it names the table to read, ``"_parameters"``)."""
        if isinstance(get_members_fn, str):
            table = get_members_fn
            get_members_fn = lambda module: getattr(module, table).items()  # noqa: E731
        seen = set()
        if not recurse:
            modules = [(prefix, self)]
        elif remove_duplicate:
            modules = self.named_modules(prefix=prefix)
        else:
            modules = self.named_modules(prefix=prefix, remove_duplicate=False)
        for module_prefix, module in modules:
            for name, value in get_members_fn(module):
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(qualified name, parameter) pairs, each parameter once (``remove_duplicate=False``: under
        every name it has)."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Sets training mode (dropout active) on this module and its children."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for child in self.children():  # (through each child's train, so an override runs, as torch's)
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Sets evaluation mode: ``train(False)``."""
        return self.train(False)

    def compile(self, *args, **kwargs) -> None:
        """torch compiles the module's forward in place; tritongrad's ops are Triton kernels already."""

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for parameter in self.parameters():
            if not isinstance(requires_grad, bool):  # (torch's Tensor.requires_grad_ refuses it, per parameter)
                raise TypeError(
                    "requires_grad_(): argument 'requires_grad' (position 1) must be bool, not "
                    f"{type(requires_grad).__name__}"
                )
            parameter.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Resets the gradients of all parameters (to None by default, like torch)."""
        for parameter in self.parameters():
            if parameter.grad is None:
                continue
            if set_to_none:
                parameter.grad = None
                continue
            grad = parameter.grad
            if grad.grad_fn is not None:
                grad.detach_()
            else:  # (a view, as a flat gradient buffer's slices are, cannot be detached in place)
                grad.requires_grad_(False)
            grad.zero_()

    # ------------------------------------------------------------------ conversion
    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Calls ``fn`` on every submodule (children first) and on self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Module:
        """``fn`` on every parameter (and its grad) and buffer, children first through their own
        ``_apply`` (so a subclass that converts more state overrides it and calls ``super()._apply``), as
        torch's: what ``to``, ``float``, ``cuda``, ``to_empty`` and the rest are written on.

        A parameter keeps its object (an optimizer built before ``model.to(...)`` still holds it) and only
        its data is replaced; so does its grad."""
        if recurse:
            for child in self.children():
                child._apply(fn)
        for parameter in self._parameters.values():
            if parameter is None:
                continue
            with no_grad():
                converted = fn(parameter)
            if converted is parameter:
                continue
            if parameter.requires_grad and not (converted.is_floating_point() or converted.is_complex()):
                # (torch assigns ``parameter.data``, which refuses this)
                raise RuntimeError(
                    "data set to a tensor that requires gradients must be floating point or complex dtype"
                )
            grad = parameter.grad
            parameter.grad = None  # (the old grad no longer fits the new data while the two are swapped)
            parameter.data = converted
            if grad is not None:
                with no_grad():
                    grad_converted = fn(grad)
                if grad_converted is not grad:
                    grad.data = grad_converted
                parameter.grad = grad
        for name, buffer in self._buffers.items():
            if buffer is not None:
                self._buffers[name] = fn(buffer)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Moves/casts parameters and buffers (floating and complex ones only for dtype changes; 4-d and
        5-d ones to ``memory_format``), like torch: ``to(device, dtype, non_blocking)``,
        ``to(dtype, non_blocking)``, ``to(tensor, non_blocking)``, each also by keyword."""
        device, dtype, non_blocking, memory_format = _parse_to(args, kwargs)
        if dtype is not None:
            if not (dtype.is_floating_point or dtype.is_complex):
                raise TypeError(
                    f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype}"
                )
            if dtype.is_complex:
                warnings.warn(
                    "Complex modules are a new feature under active development whose design may change, "
                    "and some modules might not work as expected when using complex tensors as parameters or "
                    "buffers. Please file an issue at https://github.com/pytorch/pytorch/issues/new?template="
                    "bug-report.yml if a complex module does not work as expected.",
                    stacklevel=2,
                )

        def convert(tensor: Tensor) -> Tensor:
            convertible = tensor.is_floating_point() or tensor.is_complex()
            target_dtype = dtype if convertible else None
            try:
                if memory_format is not None and tensor.dim() in (4, 5):
                    return tensor.to(
                        device=device, dtype=target_dtype, non_blocking=non_blocking, memory_format=memory_format
                    )
                return tensor.to(device=device, dtype=target_dtype, non_blocking=non_blocking)
            except NotImplementedError as error:
                if str(error) == "Cannot copy out of meta tensor; no data!":
                    raise NotImplementedError(
                        f"{error} Please use torch.nn.Module.to_empty() instead of torch.nn.Module.to() "
                        f"when moving module from meta to a different device."
                    ) from None
                raise

        return self._apply(convert)

    def to_empty(self, *, device, recurse: bool = True) -> Module:
        """Replaces every parameter and buffer by an uninitialized tensor of its shape and dtype on
        ``device``: how a module built on the meta device (shapes only) gets memory before a
        checkpoint is loaded into it. ``recurse=False``: this module's own tensors only."""
        return self._apply(lambda tensor: empty_like(tensor, device=device), recurse)

    def share_memory(self) -> Module:
        """Moves every parameter and buffer to shared memory (torch's Hogwild preparation); returns self."""
        return self._apply(lambda tensor: tensor.share_memory_())

    def cpu(self) -> Module:
        return self._apply(lambda tensor: tensor.cpu())

    def cuda(self, device=None) -> Module:
        return self._apply(lambda tensor: tensor.cuda(device))

    # The casts by name touch floating-point tensors only (complex and integer ones stay), as torch's.
    def float(self) -> Module:
        return self._apply(lambda tensor: tensor.float() if tensor.is_floating_point() else tensor)

    def double(self) -> Module:
        return self._apply(lambda tensor: tensor.double() if tensor.is_floating_point() else tensor)

    def half(self) -> Module:
        return self._apply(lambda tensor: tensor.half() if tensor.is_floating_point() else tensor)

    def bfloat16(self) -> Module:
        return self._apply(lambda tensor: tensor.bfloat16() if tensor.is_floating_point() else tensor)

    def type(self, dst_type) -> Module:
        """Casts every parameter and buffer (floating or not) with ``Tensor.type``, as torch's."""
        return self._apply(lambda tensor: tensor.type(dst_type))

    # ------------------------------------------------------------------ state dict
    def get_extra_state(self) -> Any:
        """Extra (picklable) state saved under ``<prefix>_extra_state``: a module that overrides this
        and ``set_extra_state`` has it in its state dict, as torch's."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "
            "to report this bug."
        )

    def set_extra_state(self, state: Any) -> None:
        """Receives what ``get_extra_state`` saved, when a state dict is loaded."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "
            "to report this bug."
        )

    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        """This module's own entries (not its children's) into ``destination``: the override point
        torch gives subclasses that save more or other entries."""
        for name, parameter in self._parameters.items():
            if parameter is not None:
                destination[prefix + name] = parameter if keep_vars else parameter.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        if getattr(type(self), "get_extra_state", Module.get_extra_state) is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """Parameters and persistent buffers by qualified name (detached unless ``keep_vars``); as
        torch's, ``_metadata`` holds each module's ``{"version": _version}`` by its prefix. Each
        module adds its own entries through ``_save_to_state_dict``; children are called with
        keywords (an override of ``state_dict`` in a child is honoured)."""
        if args:  # (torch's deprecated positional form)
            warnings.warn(
                "Positional args are being deprecated, use kwargs instead. Refer to "
                "https://pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module.state_dict"
                " for details.",
                FutureWarning,
                stacklevel=2,
            )
            if destination is None:
                destination = args[0]
            if len(args) > 1 and prefix == "":
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self.__dict__.get("_state_dict_pre_hooks", {}).values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in self.__dict__.get("_state_dict_hooks", {}).values():
            replaced = hook(self, destination, prefix, local_metadata)
            if replaced is not None:  # (a private-API hook may return the dict to use)
                destination = replaced
        return destination

    def register_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, prefix, keep_vars)`` runs before this module's entries are collected."""
        return self._add_hook(self._hook_table("_state_dict_pre_hooks", backward=False), hook)

    def register_state_dict_post_hook(self, hook) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` runs after this module's entries (its
        children's included) are collected, and may change ``state_dict`` in place."""
        return self._add_hook(self._hook_table("_state_dict_hooks", backward=False), _returns_none(hook))

    def _register_state_dict_hook(self, hook) -> RemovableHandle:
        """torch's private form of ``register_state_dict_post_hook``: a returned dict replaces it."""
        return self._add_hook(self._hook_table("_state_dict_hooks", backward=False), hook)

    def register_load_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)`` runs before this module's entries are loaded; it may change ``state_dict`` in
        place (rename keys of an old checkpoint) and append to ``error_msgs``."""
        return self._add_hook(self._hook_table("_load_state_dict_pre_hooks", backward=False), hook)

    def _register_load_state_dict_pre_hook(self, hook, with_module: bool = False) -> RemovableHandle:
        """torch's private form: without ``with_module`` the hook is called without the module."""
        if not with_module:
            hook = _without_module(hook)
        return self.register_load_state_dict_pre_hook(hook)

    def register_load_state_dict_post_hook(self, hook) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` runs after loading, before strict's check: clearing
        ``incompatible_keys.missing_keys`` or ``unexpected_keys`` in place silences those errors."""
        return self._add_hook(self._hook_table("_load_state_dict_post_hooks", backward=False), hook)

    def _load_from_state_dict(
        self, state_dict, prefix: str, local_metadata: dict, strict: bool, missing_keys: list,
        unexpected_keys: list, error_msgs: list,
    ) -> None:  # fmt: skip
        """Loads this module's own entries (not its children's) from ``state_dict``, recording what
        is missing, unexpected or wrong: torch's override point, where a subclass renames an old
        checkpoint's keys (``local_metadata.get("version")`` is its saved ``_version``) before
        calling this. ``state_dict`` is load_state_dict's copy, so it may be changed."""
        for hook in self.__dict__.get("_load_state_dict_pre_hooks", {}).values():
            hook(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        local_state = {name: value for name, value in self._parameters.items() if value is not None}
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                local_state[name] = buffer
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, target in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like object from '
                    f"checkpoint but received {type(value)}"
                )
                continue
            if is_lazy(target) and not is_lazy(value):  # (a lazy layer not run yet takes the checkpoint's shape)
                target.materialize(tuple(value.shape))
            if is_lazy(target):  # (an uninitialized entry into an uninitialized one: nothing to copy, as torch's)
                continue
            # torch's backward compatibility with 0.3's checkpoints: a 1-element 1-D tensor loads into a 0-d one.
            if target.dim() == 0 and value.dim() == 1 and value.shape[0] == 1:
                value = value[0]
            if tuple(value.shape) != tuple(target.shape):
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {_torch_size(value.shape)} from checkpoint, "
                    f"the shape in current model is {_torch_size(target.shape)}."
                )
                continue
            if target.is_meta and not value.is_meta and not assign:
                warnings.warn(
                    f"for {key}: copying from a non-meta parameter in the checkpoint to a meta parameter in the "
                    "current model, which is a no-op. (Did you mean to pass `assign=True` to assign items in the "
                    "state dictionary to their corresponding key in the module instead of copying them in place?)",
                    UserWarning,
                    stacklevel=2,
                )
            try:
                with no_grad():
                    if assign:  # (the checkpoint's tensor itself becomes the parameter or buffer, as torch's)
                        if isinstance(target, Parameter):
                            if isinstance(value, Parameter):
                                value.requires_grad_(target.requires_grad)
                            else:
                                value = Parameter(value, requires_grad=target.requires_grad)
                        setattr(self, name, value)
                    else:
                        target.copy_(value)
            except Exception as error:  # noqa: BLE001 - torch reports it among the load's errors
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model are '
                    f"{_torch_size(target.shape)} and whose dimensions in the checkpoint are "
                    f"{_torch_size(value.shape)}, an exception occurred : {error.args}."
                )
        extra_key = prefix + _EXTRA_STATE_KEY
        if getattr(type(self), "set_extra_state", Module.set_extra_state) is not Module.set_extra_state:
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    head, dot, _ = key[len(prefix) :].partition(".")
                    if (dot and head not in self._modules) or (not dot and head not in local_state):
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False) -> _IncompatibleKeys:
        """Copies values from ``state_dict`` into parameters and buffers (shapes must match).

        With ``strict`` (default) missing or unexpected keys are an error, as in torch. Each module
        loads its own entries through ``_load_from_state_dict`` (from a copy of the dict that its
        parent may have changed), then its load post-hooks run, as torch's.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing: list[str] = []
        unexpected: list[str] = []
        errors: list[str] = []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)  # (a copy that the modules' overrides may change)
        if metadata is not None:
            state_dict._metadata = metadata

        def load(module: Module, local_state_dict, prefix: str = "") -> None:
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            if assign:
                local_metadata["assign_to_params_buffers"] = assign
            module._load_from_state_dict(local_state_dict, prefix, local_metadata, True, missing, unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    load(child, {k: v for k, v in local_state_dict.items() if k.startswith(child_prefix)}, child_prefix)
            incompatible = _IncompatibleKeys(missing, unexpected)
            for hook in module.__dict__.get("_load_state_dict_post_hooks", {}).values():
                if hook(module, incompatible) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not expected to return "
                        "new values, if incompatible_keys need to be modified, it should be done inplace."
                    )

        load(self, state_dict)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:  # fmt: skip
        """``hook(module, args, output)`` (``with_kwargs``: ``hook(module, args, kwargs, output)``) runs
        after forward; a non-None return replaces the output."""
        if with_kwargs:
            hook = _WithKeywords(hook, after=True)
        if not always_call:
            return self._add_hook(self._forward_hooks, hook, prepend)
        always_called = self._hook_table("_forward_hooks_always_called", backward=False)
        handle = self._add_hook(self._forward_hooks, hook, prepend, extra_dict=always_called)
        always_called[handle.id] = True  # (also run, with output None, when forward raises)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` (``with_kwargs``: ``hook(module, args, kwargs)``, returning
        ``(args, kwargs)``) runs before forward; a non-None return replaces the args."""
        if with_kwargs:
            hook = _WithKeywords(hook, after=False)
        return self._add_hook(self._forward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs when the gradients of the module's tensor
        inputs are known: an entry per positional argument (zeros for a tensor that needs no gradient, None
        for a non-tensor), one per output (None for one that got no gradient); it may return replacement
        grad_input."""
        if self._is_full_backward_hook is False:
            raise RuntimeError(_BOTH_KINDS_MESSAGE)
        object.__setattr__(self, "_is_full_backward_hook", True)
        return self._add_hook(self._hook_table("_backward_hooks"), hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output)`` runs when the gradients of the module's outputs are known; it
        may return replacement grad_output."""
        return self._add_hook(self._hook_table("_backward_pre_hooks"), hook, prepend)

    def register_backward_hook(self, hook) -> RemovableHandle:
        """torch's deprecated hook: ``hook(module, grad_input, grad_output)`` with the gradients of the
        last node of the forward (its inputs and outputs), not the module's. A module takes one kind."""
        if self._is_full_backward_hook is True:
            raise RuntimeError(_BOTH_KINDS_MESSAGE)
        object.__setattr__(self, "_is_full_backward_hook", False)
        return self._add_hook(self._hook_table("_backward_hooks"), hook)

    # None until a backward hook is registered: then True (full) or False (register_backward_hook), as torch's
    _is_full_backward_hook: bool | None = None

    _has_backward_hooks = False  # (set on a module once it has a backward hook table: one read per call)

    def _hook_table(self, name: str, backward: bool = True) -> dict:
        """The module's hook table ``name``, made on first use (``backward``: a table __call__ reads)."""
        if name not in self.__dict__:
            object.__setattr__(self, name, OrderedDict())
            if backward:
                object.__setattr__(self, "_has_backward_hooks", True)
        return self.__dict__[name]

    def _add_hook(self, table: dict, hook, prepend: bool = False, extra_dict=None) -> RemovableHandle:
        """``hook`` into ``table`` under its handle's id (one counter for every handle, as torch's)."""
        return add_hook(table, hook, prepend=prepend, extra_dict=extra_dict)

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                if type(hook) is _WithKeywords:
                    replaced = hook.function(self, args, kwargs)
                    if replaced is not None:
                        if not (isinstance(replaced, tuple) and len(replaced) == 2):
                            raise RuntimeError(
                                "forward pre-hook must return None or a tuple of (new_args, new_kwargs), but got "
                                f"{replaced}."
                            )
                        args, kwargs = replaced
                    continue
                replaced = hook(self, args)
                if replaced is not None:
                    args = replaced if isinstance(replaced, tuple) else (replaced,)
        backward_hooks = None  # (a _BackwardHooks, or the list of register_backward_hook's hooks)
        if self._has_backward_hooks and is_grad_enabled():
            hooks = list(self.__dict__.get("_backward_hooks", {}).values())
            pre_hooks = list(self.__dict__.get("_backward_pre_hooks", {}).values())
            if hooks and self._is_full_backward_hook is False:
                backward_hooks, hooks = hooks, []
            if hooks or pre_hooks:
                backward_hooks = _BackwardHooks(self, hooks, pre_hooks, legacy=backward_hooks)
                args = backward_hooks.wrap_inputs(args)
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            self._run_always_called_hooks(args, kwargs)
            raise
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                if type(hook) is _WithKeywords:
                    replaced = hook.function(self, args, kwargs, output)
                else:
                    replaced = hook(self, args, output)
                if replaced is not None:
                    output = replaced
        if backward_hooks is not None:
            if type(backward_hooks) is list:
                _register_legacy_hooks(self, backward_hooks, args, output)
            else:
                output = backward_hooks.wrap_output(output)
                if backward_hooks.legacy:  # (full pre-hooks beside register_backward_hook's)
                    _register_legacy_hooks(self, backward_hooks.legacy, args, output)
        return output

    # torch's names of the call (a subclass overriding __call__ still reaches the module's call through them).
    _call_impl = __call__
    _wrapped_call_impl = __call__
    # torch's switch for passing constructor arguments to a mixin's __init__; its default, and only form here.
    call_super_init: bool = False

    def _run_always_called_hooks(self, args, kwargs) -> None:
        """The forward hooks registered with ``always_call``, after forward raised (output None); their
        own exceptions are warnings, as torch's, so forward's error is the one raised."""
        always = self.__dict__.get("_forward_hooks_always_called")
        if not always:
            return
        for key, hook in list(self._forward_hooks.items()):
            if key not in always:
                continue
            try:
                if type(hook) is _WithKeywords:
                    hook.function(self, args, kwargs, None)
                else:
                    hook(self, args, None)
            except Exception as error:  # noqa: BLE001 - torch silences it into a warning
                warnings.warn(
                    "module forward hook with ``always_call=True`` raised an exception that was silenced as another "
                    f"error was raised in forward: {error}",
                    stacklevel=3,
                )

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """Layer-specific text inside the parentheses of the repr."""
        return ""

    def _get_name(self) -> str:
        """The name the repr opens with (torch's override point)."""
        return self.__class__.__name__

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {child_repr}")
        name = self._get_name()
        if not lines:
            return f"{name}()"
        if len(lines) == 1 and not self._modules:
            return f"{name}({lines[0]})"
        return f"{name}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))


def _check_name(module: Module, name: str, what: str, table: dict) -> None:
    """torch's checks of a name to register in ``table``: another kind of member (or a plain
    attribute) of that name is an error; the same kind is replaced."""
    _check_name_format(name, what)
    if hasattr(module, name) and name not in table:
        raise KeyError(f"attribute '{name}' already exists")


def _check_name_format(name, what: str) -> None:
    """torch's checks of a member's name itself: a non-empty string without dots."""
    if not isinstance(name, str):
        raise TypeError(f"{what} name should be a string. Got {type(name).__name__}")
    if "." in name:
        # torch's module message alone names the offending name.
        raise KeyError(f'{what} name can\'t contain "."' + (f", got: {name}" if what == "module" else ""))
    if name == "":
        raise KeyError(f'{what} name can\'t be empty string ""')


def _parse_to(args: tuple, kwargs: dict) -> tuple:
    """(device, dtype, non_blocking, memory_format) of ``Module.to``'s arguments, read by torch's own
    parser (argument parsing, no arithmetic), so its three signatures, its ``copy`` refusal and its
    TypeErrors are torch's; a tensor argument is given to it as its memory."""
    args = tuple(arg._data if isinstance(arg, Tensor) else arg for arg in args)
    kwargs = {key: value._data if isinstance(value, Tensor) else value for key, value in kwargs.items()}
    return torch._C._nn._parse_to(*args, **kwargs)


def _torch_size(shape) -> str:
    return f"torch.Size({list(shape)})"
