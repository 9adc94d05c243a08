"""Containers: Sequential (a pipeline), ModuleList and ModuleDict (registered submodules), ParameterList and
ParameterDict (registered parameters)."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from tritongrad.nn import functional as F
from tritongrad.nn.module import Module
from tritongrad.nn.modules.activation import ReLU
from tritongrad.nn.modules.linear import Linear
from tritongrad.nn.parameter import Parameter
from tritongrad.tensor import Tensor

__all__ = ["Container", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _absolute_index(index, length: int) -> int:
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range")
    return index % length if length else index


class Container(Module):
    """torch's legacy nn.Container: a Module with the keyword arguments registered as submodules."""

    def __init__(self, **kwargs) -> None:
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)


class _Numbered:
    """What Sequential and ModuleList share as torch's: ``pop(key)`` (required; the survivors are
    renumbered; each class names its own, as Python's argument errors name the method) and a ``dir()``
    without the numeric names of their entries."""

    def _pop(self, key) -> Module:
        module = self[key]
        del self[key]
        return module

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]


class Sequential(_Numbered, Module):
    """Calls its modules in order, each on the previous one's output.

    Built from modules (named "0", "1", ...) or from an OrderedDict of named modules.

    Example::

        >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> model[0]
        Linear(in_features=3, out_features=4, bias=True)
    """

    def pop(self, key) -> Module:
        return self._pop(key)

    def __init__(self, *args) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        keys = list(self._modules)
        return self._modules[keys[_absolute_index(index, len(keys))]]

    def __setitem__(self, index, module: Module) -> None:
        keys = list(self._modules)
        setattr(self, keys[_absolute_index(index, len(keys))], module)

    def __delitem__(self, index) -> None:
        keys = list(self._modules)
        doomed = keys[index] if isinstance(index, slice) else [keys[_absolute_index(index, len(keys))]]
        for key in doomed:
            del self._modules[key]
        self._renumber()

    def _renumber(self) -> None:
        # torch renames the survivors 0, 1, ... after a deletion or insertion.
        modules = list(self._modules.values())
        self._modules.clear()
        for index, module in enumerate(modules):
            self._modules[str(index)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return Sequential(*self, *other)

    def __iadd__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        offset = len(self)
        for index, module in enumerate(other):
            self.add_module(str(index + offset), module)
        return self

    def _check_factor(self, other) -> None:
        if not isinstance(other, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(other)}")
        if other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other} for {type(self)}")

    def __mul__(self, other: int) -> Sequential:
        """``other`` repetitions of the modules (the same module objects, as torch's)."""
        self._check_factor(other)
        return Sequential(*(module for _ in range(other) for module in self))

    def __rmul__(self, other: int) -> Sequential:
        return self.__mul__(other)

    def __imul__(self, other: int) -> Sequential:
        self._check_factor(other)
        modules = list(self)
        for _ in range(other - 1):
            self.extend(modules)
        return self

    def append(self, module: Module) -> Sequential:
        """Adds ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Inserts ``module`` before position ``index``; returns self."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        length = len(self)
        if not -length <= index <= length:
            raise IndexError(f"Index out of range: {index}")
        modules = list(self._modules.values())
        modules.insert(index if index >= 0 else index + length, module)
        self._modules.clear()
        for position, item in enumerate(modules):
            self.add_module(str(position), item)
        return self

    def extend(self, sequential: Iterable[Module]) -> Sequential:
        """Appends every module of ``sequential``; returns self."""
        for module in sequential:
            self.append(module)
        return self

    def forward(self, input):
        modules = list(self._modules.values())
        count = len(modules)
        index = 0
        while index < count:
            module = modules[index]
            index += 1
            if type(module) is Linear and index < count and _fusable_linear_relu(module, modules[index]):
                # Same result as calling both modules, in one kernel launch forward and one backward.
                input = F._linear_relu(input, module.weight, module.bias)
                index += 1
            else:
                input = module(input)
        return input


def _fusable_linear_relu(linear: Linear, second: Module) -> bool:
    """A plain Linear directly followed by a plain ReLU: neither with forward or backward hooks, nor a
    forward replaced on the object or on its class. Then nothing could observe the Linear's output,
    so the pair may run as one fused op. (One expression: it runs for every pair of every forward.)"""
    return (
        type(second) is ReLU
        and Linear.forward is _LINEAR_FORWARD
        and ReLU.forward is _RELU_FORWARD
        and not (linear._forward_hooks or linear._forward_pre_hooks or linear._has_backward_hooks)
        and not (second._forward_hooks or second._forward_pre_hooks or second._has_backward_hooks)
        and "forward" not in linear.__dict__
        and "forward" not in second.__dict__
    )


# The classes' own forwards: a script that patches ``nn.Linear.forward`` gets its patch called.
_LINEAR_FORWARD, _RELU_FORWARD = Linear.forward, ReLU.forward


class ModuleList(_Numbered, Module):
    """A list of registered submodules (no forward of its own).

    Example::

        >>> layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        >>> len(list(layers.parameters()))
        6
    """

    def pop(self, key) -> Module:
        return self._pop(key)

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[str(_absolute_index(index, len(self)))]

    def __setitem__(self, index, module: Module) -> None:
        setattr(self, str(_absolute_index(index, len(self))), module)  # (torch's: a non-module is its TypeError)

    def __delitem__(self, index) -> None:
        keys = list(self._modules)
        doomed = keys[index] if isinstance(index, slice) else [str(_absolute_index(index, len(keys)))]
        for key in doomed:
            del self._modules[key]
        modules = list(self._modules.values())
        self._modules.clear()
        for position, module in enumerate(modules):
            self._modules[str(position)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def append(self, module: Module) -> ModuleList:
        """Adds ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Appends every module of ``modules``; returns self."""
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Inserts ``module`` before position ``index``: torch's shift of the entries, quirks included (a
        negative index raises KeyError, an index past the end is the key of the new entry)."""
        for position in range(len(self._modules), index, -1):
            self._modules[str(position)] = self._modules[str(position - 1)]
        self._modules[str(index)] = module

    def __repr__(self) -> str:
        # Like torch: runs of modules with identical reprs print once as "(i-j): n x Module(...)".
        reprs = [repr(module) for module in self]
        if not reprs:
            return f"{type(self).__name__}()"
        runs: list[list] = []
        for index, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = index
            else:
                runs.append([index, index, text])
        lines = []
        for start, end, text in runs:
            label = f"({start}): {text}" if start == end else f"({start}-{end}): {end - start + 1} x {text}"
            lines.append(label.replace("\n", "\n  "))
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of registered submodules, in insertion order.

    Example::

        >>> heads = nn.ModuleDict({"policy": nn.Linear(8, 4), "value": nn.Linear(8, 1)})
        >>> heads["value"].out_features
        1
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules) -> None:
        """Adds modules from a mapping or from an iterable of (name, module) pairs (torch's checks)."""
        if not isinstance(modules, Iterable):
            raise TypeError(
                f"ModuleDict.update should be called with an iterable of key/value pairs, but got "
                f"{type(modules).__name__}"
            )
        if isinstance(modules, (Mapping, ModuleDict)):
            for key, module in modules.items():
                self[key] = module
            return
        for index, pair in enumerate(modules):
            _check_pair("ModuleDict", index, pair)
            self[pair[0]] = pair[1]


def _check_pair(container: str, index: int, pair) -> None:
    """torch's checks of one element of an update sequence: an iterable of length 2."""
    if not isinstance(pair, Iterable):
        raise TypeError(f"{container} update sequence element #{index} should be Iterable; is{type(pair).__name__}")
    if len(pair) != 2:
        raise ValueError(f"{container} update sequence element #{index} has length {len(pair)}; 2 is required")


def _as_parameter(value):
    """torch's containers wrap a plain tensor into a Parameter; other values are kept as they are."""
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) else value


class ParameterList(Module):
    """A list of registered parameters (``model.parameters()`` sees them).

    Example::

        >>> weights = nn.ParameterList([nn.Parameter(tritongrad.randn(4, 4)) for _ in range(3)])
        >>> len(list(weights.parameters()))
        3
    """

    def __init__(self, values: Iterable | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)([self[i] for i in range(len(self))[index]])
        return getattr(self, str(_absolute_index(index, len(self))))

    def __setitem__(self, index, value) -> None:
        setattr(self, str(_absolute_index(index, len(self))), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator:
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values: Iterable) -> ParameterList:
        return self.extend(values)

    def append(self, value) -> ParameterList:
        """Adds ``value`` (a tensor becomes a Parameter) at the end; returns self."""
        self._size += 1
        setattr(self, str(self._size - 1), _as_parameter(value))
        return self

    def extend(self, values: Iterable) -> ParameterList:
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        # (torch's: the dtype, e.g. torch.float32; its lines carry their own two-space indent)
        return "\n".join(_parameter_line(index, value, lambda t: str(t.dtype)) for index, value in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


def _parameter_line(key, value, type_name) -> str:
    """One child line of ParameterList's and ParameterDict's extra_repr, as torch prints it
    (``type_name(tensor)`` names a tensor's type; any other value prints its class)."""
    if not isinstance(value, Tensor):
        return f"  ({key}): Object of type: {type(value).__name__}"
    type_name = type_name(value)
    size = "x".join(str(s) for s in value.shape)
    device = f" ({value.device})" if value.device.type == "cuda" else ""
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    return f"  ({key}): {kind} containing: [{type_name} of size {size}{device}]"


class ParameterDict(Module):
    """A dict of registered parameters (``model.parameters()`` sees them); other values are kept as a
    dict keeps them. Built from (or updated with) a plain dict, its keys are sorted, as torch's; an
    OrderedDict, a ParameterDict or a sequence of pairs keeps its order."""

    def __init__(self, parameters: Mapping | Iterable | None = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _key_to_attr(key) -> str:
        if not isinstance(key, str):
            raise TypeError(
                "Index given to ParameterDict cannot be used as a key as it is "
                f"not a string (type is '{type(key).__name__}'). Open an issue on "
                "github if you need non-string keys."
            )
        return key

    def __getitem__(self, key: str):
        return getattr(self, self._key_to_attr(key))

    def __setitem__(self, key: str, value) -> None:
        self._keys[key] = None  # (first, as torch's: a refused name stays listed)
        setattr(self, self._key_to_attr(key), _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, self._key_to_attr(key))

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(self._keys)

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def __call__(self, input):
        raise RuntimeError("ParameterDict should not be called.")

    def keys(self):
        return self._keys.keys()

    def extra_repr(self) -> str:
        # (torch's: the legacy type name, e.g. torch.FloatTensor)
        return "\n".join(_parameter_line(key, value, lambda t: t.type()) for key, value in self.items())

    def items(self):
        return [(key, self[key]) for key in self._keys]

    def values(self):
        return [self[key] for key in self._keys]

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same values, in the same order."""
        return ParameterDict(OrderedDict((key, self[key]) for key in self._keys))

    def get(self, key: str, default=None):
        return self[key] if key in self else default

    def setdefault(self, key: str, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        for key in self._keys.copy():
            del self[key]

    def pop(self, key: str):
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple:
        """Removes and returns the last inserted (key, value) pair."""
        key, _ = self._keys.popitem()
        self._keys[key] = None  # (back, so that the deletion below finds it)
        value = self[key]
        del self[key]
        return key, value

    def fromkeys(self, keys: Iterable[str], default=None) -> ParameterDict:
        """A new ParameterDict with ``default`` under each of ``keys``."""
        return ParameterDict((key, default) for key in keys)

    def update(self, parameters) -> None:
        """Adds the entries of a mapping or of an iterable of (key, value) pairs; a plain (unordered)
        mapping is added in sorted key order, as torch's."""
        if not isinstance(parameters, Iterable):
            raise TypeError(
                "ParametersDict.update should be called with an iterable of key/value pairs, but got "
                + type(parameters).__name__
            )
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            for key, value in parameters.items():
                self[key] = value
        elif isinstance(parameters, Mapping):
            for key, value in sorted(parameters.items()):
                self[key] = value
        else:
            for index, pair in enumerate(parameters):
                _check_pair("ParameterDict", index, pair)
                self[pair[0]] = pair[1]

    def __or__(self, other) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other):
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other) -> ParameterDict:
        self.update(other)
        return self
