"""Optimizer: parameter groups, per-parameter state, zero_grad and state dicts.

Subclasses implement ``step`` by grouping a param group's parameters by dtype
and device and making ONE fused multi-tensor kernel launch per group (see
kernels/optim.py), instead of a launch per parameter per arithmetic op.
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

import torch

from tritongrad.autograd.grad_mode import _set_enabled, enable_grad, is_grad_enabled, no_grad
from tritongrad.hooks import RemovableHandle, add_hook
from tritongrad.kernels.elementwise import launch_unary
from tritongrad.kernels.optim import launch_zero_
from tritongrad.kernels.strided import check_writable, is_non_overlapping_and_dense
from tritongrad.nn.parameter import Parameter
from tritongrad.tensor import Tensor

__all__ = ["Optimizer", "register_optimizer_step_post_hook", "register_optimizer_step_pre_hook", "required"]

# Step hooks of every optimizer (torch.optim.optimizer's globals): pre-hooks run before an instance's
# own, post-hooks after them.
_global_optimizer_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
_global_optimizer_post_hooks: OrderedDict[int, Callable] = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Registers ``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)`` to run before every
    optimizer's step; returns a handle whose ``remove()`` unregisters it."""
    return add_hook(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Registers ``hook(optimizer, args, kwargs)`` to run after every optimizer's step."""
    return add_hook(_global_optimizer_post_hooks, hook)


def _with_step_hooks(step: Callable) -> Callable:
    """``step`` running the global and the instance's step pre-hooks before it and post-hooks after it,
    in torch's order (a pre-hook may replace the arguments). Without hooks it costs two dict checks."""

    @functools.wraps(step)
    def hooked_step(*args, **kwargs):
        self = args[0]
        pre_hooks = self.__dict__.get("_optimizer_step_pre_hooks")
        if _global_optimizer_pre_hooks or pre_hooks:
            for hook in (*_global_optimizer_pre_hooks.values(), *(pre_hooks or {}).values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"{step} must return None or a tuple of (new_args, new_kwargs), but got {result}."
                        )
                    args, kwargs = result
        out = step(*args, **kwargs)
        post_hooks = self.__dict__.get("_optimizer_step_post_hooks")
        if _global_optimizer_post_hooks or post_hooks:
            for hook in (*(post_hooks or {}).values(), *_global_optimizer_post_hooks.values()):
                hook(self, args, kwargs)
        return out

    hooked_step.hooked = True
    return hooked_step


def state_like(param: Tensor) -> Tensor:
    """An uninitialised state buffer laid out like ``param`` (its strides too, as torch's
    ``zeros_like(p, memory_format=torch.preserve_format)``): the fused steps then treat param,
    gradient and state as one dense range each, whether or not the parameter is contiguous."""
    return Tensor._wrap(torch.empty_like(param._data))


def grad_like_param(param: Tensor) -> torch.Tensor:
    """The gradient buffer as the fused kernels need it: the parameter's dtype and memory layout."""
    grad = param._grad
    data, own = grad._data, param._data
    if data.dtype != own.dtype:
        raise RuntimeError(f"gradient of dtype {data.dtype} for a parameter of dtype {own.dtype}")
    if data.stride() == own.stride():
        return data
    return state_like(param).copy_(grad)._data


def check_tensor_lr(lr) -> None:
    """torch's first constructor check: a tensor learning rate holds one number."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


def _number(value):
    """A hyper-parameter as the fused kernels take it: a tensor (torch accepts 0-d or 1-element ones) is
    read as its number, the value torch's step computes with (a float32 0.9 is 0.8999999762...)."""
    if isinstance(value, Tensor):
        return value.item()
    if type(value) is tuple and any(isinstance(item, Tensor) for item in value):  # (Adam's betas)
        return tuple(_number(item) for item in value)
    return value


# The types a group's entries usually have (params is a list): nothing to convert (decided fast, per step).
_PLAIN_ENTRY_TYPES = frozenset({float, int, bool, str, list, type(None)})


def _with_numbers(group: dict[str, Any]) -> dict[str, Any]:
    """``group``, or a copy of it whose tensor hyper-parameters are numbers (see ``_number``)."""
    if _PLAIN_ENTRY_TYPES.issuperset(map(type, group.values())):  # (the usual group: one C-level pass)
        return group
    for value in group.values():
        if type(value) not in _PLAIN_ENTRY_TYPES and (
            isinstance(value, Tensor) or (type(value) is tuple and any(isinstance(item, Tensor) for item in value))
        ):
            return {key: value if key == "params" else _number(value) for key, value in group.items()}
    return group


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def check_implementation_flags(name: str, *, foreach=None, fused=None, differentiable: bool = False,
                               capturable: bool | None = None) -> None:  # fmt: skip
    """torch's checks of the implementation switches a constructor accepts. ``foreach`` and
    ``fused`` choose nothing here (every step is one fused launch per bucket); ``differentiable`` and
    ``capturable`` are accepted as torch accepts them and judged at ``step`` (see ``Optimizer.step``)."""
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if fused and differentiable:
        raise RuntimeError("`fused` does not support `differentiable`")


# The devices torch's capturable steps accept (its assertion's list); tritongrad's CPU tensors are not.
_CAPTURABLE_DEVICES = ["cuda", "xpu", "hpu", "privateuseone", "xla"]


# The per-instance hook tables (the attributes torch's __setstate__ re-creates).
_INSTANCE_HOOK_TABLES = (
    "_optimizer_step_pre_hooks",
    "_optimizer_step_post_hooks",
    "_optimizer_state_dict_pre_hooks",
    "_optimizer_state_dict_post_hooks",
    "_optimizer_load_state_dict_pre_hooks",
    "_optimizer_load_state_dict_post_hooks",
)


class Optimizer:
    """Base class of optimizers (torch.optim.Optimizer's API)."""

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._patch_step_function()
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._repeating_groups: set[int] = set()  # ids of groups listing a parameter twice
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                + type(params).__name__
            )
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _patch_step_function(self) -> None:
        """Makes this class's ``step`` run the step hooks, once per class, as torch patches it (an inherited
        step that is patched already stays as it is, so a hook never runs twice)."""
        cls = type(self)
        if not getattr(cls.step, "hooked", False):
            cls.step = _with_step_hooks(cls.step)

    # ------------------------------------------------------------------ copy and pickle
    def __getstate__(self) -> dict[str, Any]:
        """What copy.deepcopy, pickle and save take of an optimizer (torch's three keys): not the hooks
        (often closures, which do not pickle; torch drops them), nor a scheduler's ``step`` wrapper in
        the instance dict, which holds the original optimizer and would step it instead of the copy."""
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuilds what ``__getstate__`` leaves out as torch's does: empty hook tables and the class's
        hooked step. A scheduler's step tracking is not restored (torch's is not either: its first
        ``step()`` then warns that ``optimizer.step()`` has been overridden)."""
        self.__dict__.update(state)
        for table in _INSTANCE_HOOK_TABLES:
            if table not in self.__dict__:
                setattr(self, table, OrderedDict())
        # Not pickled (it holds ids): found again from the groups themselves.
        self._repeating_groups = {
            id(group) for group in self.param_groups if len({id(p) for p in group["params"]}) != len(group["params"])
        }
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)
        # torch's subclasses' __setstate__: the keys an optimizer pickled by an older version lacks.
        for group in self.param_groups:
            for key, default in self._defaults_on_load.items():
                group.setdefault(key, default)

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)``, run before each step of this
        optimizer (after the global pre-hooks); returns a handle whose ``remove()`` unregisters it."""
        return add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)``, run after each step of this optimizer (before the global ones)."""
        return add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer)``, run before ``state_dict`` builds the dict."""
        return add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend=prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict) -> state_dict or None``, run on the dict ``state_dict`` returns."""
        return add_hook(self._optimizer_state_dict_post_hooks, hook, prepend=prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict) -> state_dict or None``, run before ``load_state_dict`` reads it."""
        return add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend=prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer)``, run after ``load_state_dict`` has restored the state."""
        return add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend=prepend)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Adds a group of parameters with its own hyperparameters (the rest come from defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of tensors in "
                "sets will change between runs. Please use a list instead."
            )
        params = [params] if isinstance(params, Tensor) else list(params)
        # (name, parameter) pairs, as named_parameters() yields them: the names go to "param_names"
        names = [param[0] for param in params if isinstance(param, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            params = [param[1] for param in params]
            group["param_names"] = names
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(param).__name__}")
            # (torch's: a differentiable optimizer may update a non-leaf, e.g. meta-learning's fast weights)
            if not self.defaults.get("differentiable") and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        if self.param_groups and ("param_names" in group) != ("param_names" in self.param_groups[0]):
            raise ValueError(
                "all optimizer param groups should be with/without names. cannot add param group "
                f"{'with' if 'param_names' in group else 'without'} names to the optimizer"
            )
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        if len({id(p) for p in params}) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will cause an error",
                stacklevel=3,
            )
            self._repeating_groups.add(id(group))
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Subclasses check hyperparameters here (torch's messages)."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Resets gradients: to None by default (like torch), or to zeros in place (one launch)."""
        if set_to_none:
            for group in self.param_groups:
                for param in group["params"]:
                    param.grad = None
            return
        grads = [p.grad for group in self.param_groups for p in group["params"] if p.grad is not None]
        for grad in grads:  # (torch's: a view, as a flat gradient buffer's slices are, cannot be detached in place)
            if grad.grad_fn is not None:
                grad.detach_()
            else:
                grad.requires_grad_(False)
        contiguous = [grad for grad in grads if grad.is_contiguous()]
        launch_zero_([grad._data for grad in contiguous])
        for grad in grads:
            if not grad.is_contiguous():
                grad.zero_()  # a strided gradient view: launch_zero_ writes whole contiguous words
            grad._version_counter.bump()

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss if given.

        A subclass either overrides this (torch's contract: the base class's step raises
        NotImplementedError) or implements ``_update_bucket`` and inherits this bucketed step.

        A ``capturable`` group of an optimizer without device step counts is torch's AssertionError for
        CPU parameters. A ``differentiable`` group whose tensors require grad is stepped by
        ``_recorded_update`` with grad mode on (torch's recorded step; SGD has one), else as usual."""
        if type(self)._update_bucket is Optimizer._update_bucket:
            raise NotImplementedError
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        recorded = None  # the groups stepped by autograd-recorded ops (few steps ever have any)
        for group in self.param_groups:
            if group.get("capturable") or group.get("differentiable"):
                recorded = self._flagged_groups()
                break
        previous = is_grad_enabled()
        _set_enabled(False)  # no_grad, without a context manager object per step
        try:
            for group in self.param_groups:
                if recorded and id(group) in recorded:
                    with enable_grad():
                        self._recorded_update(group)
                    continue
                hyper = _with_numbers(group)
                for bucket in self._buckets(group, repeats=id(group) in self._repeating_groups):
                    if all(p._data.is_contiguous() for p in bucket):  # (the usual case, decided fast)
                        self._update_bucket(hyper, bucket)
                        continue
                    scattered = [p for p in bucket if not is_non_overlapping_and_dense(p._data)]
                    if scattered:
                        self._update_through_dense_copies(hyper, bucket, scattered)
                    else:
                        self._update_bucket(hyper, bucket)
        finally:
            _set_enabled(previous)
        return loss

    def _update_bucket(self, group: dict[str, Any], bucket: list[Parameter]) -> None:
        """Updates one bucket (same device and dtype) of a group: one fused kernel launch."""
        raise NotImplementedError

    # Whether the subclass keeps capturable step counts on the device (Adam/AdamW do). For the others a
    # capturable group is torch's assertion on the CPU (torch's capturable steps need an accelerator);
    # on a GPU the ordinary step runs (the same values; its step counts stay on the CPU).
    _steps_capturable = False
    # The tensors torch's assertion names (NAdam and ASGD keep more per-parameter tensors on the device).
    _capturable_tensors = "params"
    _capturable_devices = _CAPTURABLE_DEVICES

    def _flagged_groups(self) -> set[int]:
        """The capturable and differentiable groups' checks; returns the ids of the groups whose step
        autograd must record."""
        recorded = set()
        for group in self.param_groups:
            if group.get("capturable") and not self._steps_capturable:
                self._check_capturable(group)
            if group.get("differentiable") and self._check_differentiable(group):
                recorded.add(id(group))
        return recorded

    def _check_capturable(self, group: dict[str, Any]) -> None:
        if any(p._grad is not None and p.device.type == "cpu" for p in group["params"]):
            raise AssertionError(
                f"If capturable=True, {self._capturable_tensors} and state_steps must be on supported devices: "
                f"{self._capturable_devices}."
            )

    @staticmethod
    def _check_differentiable(group: dict[str, Any]) -> bool:
        """Whether a differentiable group's step must be recorded by autograd (torch steps it with grad
        mode on). Updating a leaf that requires grad in place is then torch's error; a step where no
        tensor requires grad records nothing, and the ordinary (fused) step is the same."""
        params = [p for p in group["params"] if p._grad is not None]
        if any(p.is_leaf and p.requires_grad for p in params):
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        hypers = [value for key, value in group.items() if key != "params"]
        return any(p.requires_grad or p._grad.requires_grad for p in params) or any(
            isinstance(value, Tensor) and value.requires_grad for value in hypers
        )

    def _recorded_update(self, group: dict[str, Any]) -> None:
        """A differentiable group's step through tritongrad's recorded tensor ops (grad mode is on).
        Subclasses that have one override this; the fused update kernels record nothing."""
        raise NotImplementedError(
            f"tritongrad's {type(self).__name__} does not record a differentiable step (differentiable=True with "
            "tensors that require grad): its fused update kernels do not record a graph (SGD's step does)"
        )

    def _update_through_dense_copies(self, group: dict[str, Any], bucket: list[Parameter], scattered: list) -> None:
        """``_update_bucket`` for a bucket holding parameters whose elements do not fill one dense
        range (a strided slice, ``w[:, ::2]``): the fused kernels walk dense ranges, so each such
        parameter is updated as a dense copy (its state is then dense too), copied back after.
        An expanded parameter, whose elements share memory, is refused as torch refuses it."""
        originals = []
        for param in scattered:
            check_writable(param._data)
            dense = torch.empty(param._data.shape, dtype=param._data.dtype, device=param._data.device)
            originals.append((param, param._data))
            param._data = launch_unary("copy", param._data, out=dense)
        try:
            self._update_bucket(group, bucket)
        finally:
            for param, original in originals:
                launch_unary("copy", param._data, out=original)
                param._data = original

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """{'state': {index: {name: value}}, 'param_groups': [... 'params': [indices]]} like torch."""
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            indices = []
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
                indices.append(index_of[id(param)])
            packed["params"] = indices
            groups.append(packed)
        state = {index_of[id(param)]: dict(values) for param, values in self.state.items() if id(param) in index_of}
        state_dict = {"state": state, "param_groups": groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores state saved by ``state_dict`` (groups must match in number and sizes)."""
        state_dict = state_dict.copy()  # (torch's: a non-dict fails on its first lookup, as in torch)
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        state_dict = deepcopy_non_tensors(state_dict)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for own, saved in zip(self.param_groups, saved_groups):
            if len(own["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
                )
        params_by_index = {}
        for own, saved in zip(self.param_groups, saved_groups):
            for index, param in zip(saved["params"], own["params"]):
                params_by_index[index] = param
        self.state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            param = params_by_index.get(int(index)) if isinstance(index, int) or str(index).isdigit() else None
            if param is None:  # torch keeps an entry of no parameter, under its key
                self.state[index] = values
                continue
            self.state[param] = {name: _as_loaded(param, name, value) for name, value in values.items()}
        # As torch's, a loaded group is the saved one (a key it lacks is absent, not kept from before)
        # with this optimizer's parameters; ``_defaults_on_load`` fills what older checkpoints lack.
        groups = []
        for own, saved in zip(self.param_groups, saved_groups):
            group = {key: value for key, value in saved.items() if key != "params"}
            group["params"] = own["params"]
            if "param_names" in own and "param_names" not in group:
                group["param_names"] = own["param_names"]
            for key, default in self._defaults_on_load.items():
                group.setdefault(key, default)
            groups.append(group)
        self._repeating_groups = {
            id(new) for old, new in zip(self.param_groups, groups) if id(old) in self._repeating_groups
        }
        self.param_groups = groups
        self._restore_state()
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # The group keys a subclass's torch counterpart sets by default when a state dict lacks them (each
    # subclass copies its torch class's __setstate__ list).
    _defaults_on_load: dict[str, Any] = {}

    def _restore_state(self) -> None:
        """Subclasses convert loaded state here (step counts to their tensors, layouts to their params')."""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            if index:
                lines.append("")  # torch's blank line between groups
            lines.append(f"Parameter Group {index}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # ------------------------------------------------------------------ helpers for subclasses
    @staticmethod
    def _buckets(group: dict[str, Any], repeats: bool = False) -> list[list[Parameter]]:
        """The group's parameters that have gradients, bucketed by (device, dtype): one launch each.

        With ``repeats`` (a parameter listed more than once, which torch allows with a warning and
        updates once per listing), the n-th listing of a parameter goes to the n-th bucket of its
        kind, so one launch never updates a parameter twice and the updates apply in turn.
        """
        buckets: dict[tuple, list] = {}
        listings: dict[int, int] = {}
        for param in group["params"]:
            if param._grad is None:
                continue
            data = param._data
            listing = 0
            if repeats:
                listing = listings[id(param)] = listings.get(id(param), -1) + 1
            buckets.setdefault((listing, data.device, data.dtype), []).append(param)
        return list(buckets.values())


def _as_loaded(param: Tensor, name: str, value):
    """A loaded state entry, as torch's load_state_dict casts it: a floating tensor takes the
    parameter's dtype and device, laid out like the parameter (the fused steps need it). Unlike
    torch's, it is a copy even when nothing changes: torch shares it with the dict, so two optimizers
    loaded from one dict would update the same buffers in place."""
    if not isinstance(value, Tensor) or not value.is_floating_point() or name == "step":
        return value
    with no_grad():
        converted = value.to(device=param.device, dtype=param.dtype)
        if converted.shape == param.shape and converted.numel() > 1 and converted.stride() != param.stride():
            return state_like(param).copy_(converted)
        return converted.clone() if converted is value else converted


def deepcopy_non_tensors(value):
    """A copy of nested dicts/lists in which tensors are shared, everything else copied."""
    if isinstance(value, dict):
        return {key: deepcopy_non_tensors(item) for key, item in value.items()}
    if isinstance(value, list):
        return [deepcopy_non_tensors(item) for item in value]
    if isinstance(value, Tensor):
        return value
    return deepcopy(value)
