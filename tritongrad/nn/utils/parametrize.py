"""torch.nn.utils.parametrize: a module's tensor recomputed from other tensors on every access.

``register_parametrization(module, "weight", p)`` moves the parameter (or buffer) ``weight`` to
``module.parametrizations.weight.original`` (or ``original0, original1, ...`` when ``p``'s
``right_inverse`` returns several tensors) and makes ``module.weight`` a property that returns
``p(original)`` -- so the state dict holds ``parametrizations.weight.original`` as torch's does. As
in torch, the module's class is swapped for a subclass, ``Parametrized<Class>``, that carries the
property; assigning ``module.weight = value`` runs the parametrizations' ``right_inverse`` and
stores the result in the originals. Inside ``with cached():`` each parametrized tensor is computed
once.

Example::

    >>> class Symmetric(nn.Module):
    ...     def forward(self, X):
    ...         return X.triu() + X.triu(1).mT
    >>> layer = register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
    >>> type(layer).__name__, list(layer.state_dict())
    ('ParametrizedLinear', ['bias', 'parametrizations.weight.original'])
"""

from __future__ import annotations

import collections.abc
import copyreg
from collections.abc import Sequence
from contextlib import contextmanager
from copy import deepcopy

from tritongrad.autograd.grad_mode import no_grad
from tritongrad.nn.module import Module
from tritongrad.nn.modules.container import ModuleDict, ModuleList
from tritongrad.nn.parameter import Parameter
from tritongrad.tensor import Tensor

__all__ = [
    "cached", "ParametrizationList", "register_parametrization", "is_parametrized", "remove_parametrizations",
    "type_before_parametrizations", "transfer_parametrizations_and_params",
]  # fmt: skip

# (nesting depth of ``cached()``, and the tensors computed inside it by (id(module), name))
_cache_enabled = 0
_cache: dict[tuple[int, str], Tensor] = {}


@contextmanager
def cached():
    """Within this context each parametrized tensor is computed once, on first access, and reused
    (e.g. a weight used by several time steps of a recurrent net); the cache is dropped on exit."""
    global _cache, _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _register_parameter_or_buffer(module: Module, name: str, value: Tensor) -> None:
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _set_data(destination: Tensor, source: Tensor) -> None:
    """torch's ``destination.set_(source)``: the tensor object (e.g. a Parameter an optimizer holds)
    now shows ``source``'s memory, shape and dtype."""
    destination.data = source


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the tensor(s) they start from:
    ``original`` (a Parameter or a buffer, as the tensor was) or ``original0, original1, ...`` when
    the first one's ``right_inverse`` returns a sequence. ``unsafe=True`` skips the checks that the
    result keeps the tensor's shape and dtype."""

    original: Tensor
    unsafe: bool

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        original_shape, original_dtype = original.shape, original.dtype
        # The originals are right_inverse(...(original)), so the parametrized tensor starts as
        # ``original`` where the right inverses are exact.
        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError(
                "'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                f"Got {type(new).__name__}"
            )
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError(
                    "When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                    f"original.dtype: {original.dtype}\nright_inverse(original).dtype: {new.dtype}"
                )
            if original.device != new.device:
                raise ValueError(
                    "When `right_inverse` outputs one tensor, it may not change the device.\n"
                    f"original.device: {original.device}\nright_inverse(original).device: {new.device}"
                )
            # The same tensor object (which an optimizer may already hold) becomes the original.
            with no_grad():
                _set_data(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, tensor in enumerate(new):
                if not isinstance(tensor, Tensor):
                    raise ValueError(
                        "'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                        f"Got element {i} of the sequence with type {type(tensor).__name__}."
                    )
                if isinstance(original, Parameter):
                    tensor = Parameter(tensor, original.requires_grad)
                tensor.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", tensor)
        if not self.unsafe:
            result = self()
            if not isinstance(result, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(result).__name__}.")
            if result.dtype != original_dtype:
                raise ValueError(
                    "Registering a parametrization may not change the dtype of the tensor, unless `unsafe` flag is "
                    f"enabled.\nunparametrized dtype: {original_dtype}\nparametrized dtype: {result.dtype}"
                )
            if result.shape != original_shape:
                raise ValueError(
                    "Registering a parametrization may not change the shape of the tensor, unless `unsafe` flag is "
                    f"enabled.\nunparametrized shape: {original_shape}\nparametrized shape: {result.shape}"
                )

    def right_inverse(self, value: Tensor) -> None:
        """Stores in the originals the tensors whose parametrization is ``value`` (every
        parametrization, last first, must have a ``right_inverse``)."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got {type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(
                        f"The tensor returned by `right_inverse` has dtype {value.dtype} while `original` has dtype "
                        f"{self.original.dtype}"
                    )
                _set_data(self.original, value)
                return
            if not isinstance(value, collections.abc.Sequence):
                raise ValueError(f"'right_inverse' must return a sequence of tensors. Got {type(value).__name__}.")
            if len(value) != self.ntensors:
                raise ValueError(
                    f"'right_inverse' must return a sequence of tensors of length {self.ntensors}. Got a sequence of "
                    f"length {len(value)}."
                )
            for i, tensor in enumerate(value):
                original = getattr(self, f"original{i}")
                if not isinstance(tensor, Tensor):
                    raise ValueError(
                        "'right_inverse' must return a sequence of tensors or reference-type opaques. Got element "
                        f"{i} of type {type(tensor).__name__}."
                    )
                if original.dtype != tensor.dtype:
                    raise ValueError(
                        f"Tensor {i} returned by `right_inverse` has dtype {tensor.dtype} while `original{i}` has "
                        f"dtype {original.dtype}"
                    )
                _set_data(original, tensor)

    def forward(self) -> Tensor:
        parametrizations = list(self)
        if self.is_tensor:
            x = parametrizations[0](self.original)
        else:
            x = parametrizations[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for parametrization in parametrizations[1:]:
            x = parametrization(x)
        return x


def _default_deepcopy(self, memo):
    copied = memo.get(id(self))
    if copied is not None:
        return copied
    replica = self.__new__(self.__class__)
    memo[id(self)] = replica
    replica.__dict__.update(deepcopy(self.__dict__, memo))  # (Module.__setattr__ guards __dict__ itself)
    for slot in copyreg._slotnames(self.__class__):
        if hasattr(self, slot):
            setattr(replica, slot, deepcopy(getattr(self, slot), memo))
    return replica


def _refuse_pickling(self):
    raise RuntimeError(
        "Serialization of parametrized modules is only supported through state_dict(). See:\n"
        "https://pytorch.org/tutorials/beginner/saving_loading_models.html"
        "#saving-loading-a-general-checkpoint-for-inference-and-or-resuming-training"
    )


def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors) -> None:
    """The parametrizations' completions (weight_norm maps an old checkpoint's ``weight_g``/``weight_v``
    to its originals, as torch's load_state_dict pre-hook does), then the class's own loading."""
    for completion in self.__dict__.get("_parametrization_state_dict_completions", ()):
        completion(state_dict, prefix)
    type(self).__bases__[0]._load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors
    )


def add_state_dict_completion(module: Module, completion) -> None:
    """Runs ``completion(state_dict, prefix)`` when a state dict is loaded into the parametrized
    ``module`` (before keys are matched): tritongrad's form of torch's load_state_dict pre-hooks."""
    module.__dict__.setdefault("_parametrization_state_dict_completions", []).append(completion)


def _inject_new_class(module: Module) -> None:
    """Swaps ``module``'s class for ``Parametrized<Class>``, a subclass that will carry the properties."""
    cls = module.__class__
    namespace = {"__getstate__": _refuse_pickling, "_load_from_state_dict": _load_from_state_dict}
    if not hasattr(cls, "__deepcopy__"):
        namespace["__deepcopy__"] = _default_deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), namespace)


def _inject_property(module: Module, tensor_name: str) -> None:
    """``module.<tensor_name>``: the parametrization's value (cached inside ``cached()``); assigning
    runs its right_inverse."""
    if hasattr(module, tensor_name):
        raise AssertionError(f"Module already has an attribute named '{tensor_name}'")

    def get_parametrized(self) -> Tensor:
        parametrization = self.parametrizations[tensor_name]
        if not _cache_enabled:
            return parametrization()
        key = (id(self), tensor_name)
        tensor = _cache.get(key)
        if tensor is None:
            tensor = _cache[key] = parametrization()
        return tensor

    def set_original(self, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def _check_like(what: str, name: str, expected: Tensor, got, described: str) -> None:
    """A result of a parametrization added to an already parametrized tensor keeps its dtype and shape."""
    if got.dtype != expected.dtype:
        raise ValueError(
            f"{what} dtype of the tensor, unless the `unsafe` flag is enabled.\nmodule.{name}.dtype: "
            f"{expected.dtype}\n{described}dtype: {got.dtype}"
        )
    if got.shape != expected.shape:
        raise ValueError(
            f"{what} shape of the tensor, unless the `unsafe` flag is enabled.\nmodule.{name}.shape: "
            f"{expected.shape}\n{described}shape: {got.shape}"
        )


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:  # fmt: skip
    """Makes ``module.<tensor_name>`` the value of ``parametrization`` applied to the original tensor
    (or to the previous parametrizations' result, when the tensor is already parametrized).

    ``parametrization`` may have ``right_inverse(X)``, returning the original(s) whose parametrization
    is X: it initialises the originals from the current tensor and runs on assignment. Unless
    ``unsafe``, the parametrized tensor must keep the tensor's shape and dtype.
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            current = getattr(module, tensor_name)
            result = parametrization(current)
            if not isinstance(result, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(result).__name__}.")
            _check_like("Registering a parametrization may not change the", tensor_name, current, result,
                        f"parametrization(module.{tensor_name}).")  # fmt: skip
            if hasattr(parametrization, "right_inverse"):
                try:
                    inverse = parametrization.right_inverse(result)
                except NotImplementedError:
                    pass
                else:
                    if not isinstance(inverse, Tensor):
                        raise ValueError(
                            f"parametrization.right_inverse must return a tensor. Got: {type(inverse).__name__}"
                        )
                    _check_like(
                        "The tensor returned by parametrization.right_inverse must have the same", tensor_name,
                        current, inverse, "returned ",
                    )  # fmt: skip
        parametrizations = module.parametrizations[tensor_name]
        parametrizations.append(parametrization)
        parametrizations.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(
            f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with name "
            f"'{tensor_name}'"
        )
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, if given)."""
    parametrizations = getattr(module, "parametrizations", None)
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True) -> Module:
    """Undoes the parametrizations of ``module.<tensor_name>``: the tensor becomes a plain parameter
    (or buffer) again, holding its current parametrized value (``leave_parametrized``) or the
    original. Once none is left the module gets its own class back."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                _set_data(original, getattr(module, tensor_name))
    else:
        if not leave_parametrized:
            raise ValueError(
                "Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is parametrized in terms of "
                "a sequence of tensors."
            )
        value = getattr(module, tensor_name)
        original = Parameter(value.detach()) if value.requires_grad else value
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class before parametrizations were registered (its class when there are none)."""
    return module.__class__.__bases__[0] if is_parametrized(module) else type(module)


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:  # fmt: skip
    """Registers ``from_module``'s parametrizations (of ``tensor_name``, or all) on ``to_module`` and
    makes it share their originals."""
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name)))
        for parametrization in from_module.parametrizations[name]:
            register_parametrization(to_module, name, parametrization)
        source, target = from_module.parametrizations[name], to_module.parametrizations[name]
        if hasattr(source, "original"):
            target.original = source.original
        else:
            number = 0
            while hasattr(source, f"original{number}"):
                setattr(target, f"original{number}", getattr(source, f"original{number}"))
                number += 1
    return to_module
