"""numpy's argument names as aliases, as torch's argument parser takes them: ``axis=`` for ``dim=``
and ``keepdims=`` for ``keepdim=`` (``x.cumsum(axis=0)``, ``torch.cat(xs, axis=1)``,
``x.sum(axis=1, keepdims=True)``).

The one home of the aliases: ``install`` runs once, when ``tritongrad`` has finished importing,
and wraps every public function and Tensor method whose signature has a ``dim`` or ``keepdim``
parameter (and no ``axis``/``keepdims`` of its own) with ``accepts_numpy_axis``. A function
defined later is covered without being decorated by hand; tests/test_numpy_aliases.py fails if
one is missed.

Where torch defines a name as plain Python (``F.softmax``, ``F.normalize``, ``Tensor.split``), its
parser never sees the call and ``axis=`` is a TypeError; tritongrad's is left the same.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from types import FunctionType, ModuleType

# numpy's name -> torch's (torch's python_arg_parser: numpy_compatibility_arg_names, dim/keepdim part)
ALIASES = {"axis": "dim", "keepdims": "keepdim"}
_MARK = "__numpy_aliases__"


def _rename(name: str, kwargs: dict) -> None:
    for alias, torch_name in ALIASES.items():
        if alias in kwargs:
            if torch_name in kwargs:
                # torch's words when both spellings are given
                raise TypeError(f"{name}() got an unexpected keyword argument '{alias}'")
            kwargs[torch_name] = kwargs.pop(alias)


def accepts_numpy_axis(function: Callable) -> Callable:
    """Lets ``function`` take numpy's ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=``.

    The common call (no alias) costs one frame and two dict membership tests; a function already
    wrapped is returned as it is (never wrapped twice)."""
    if getattr(function, _MARK, False):
        return function
    name = function.__name__

    @functools.wraps(function)
    def with_aliases(*args, **kwargs):
        if "axis" in kwargs or "keepdims" in kwargs:
            _rename(name, kwargs)
        return function(*args, **kwargs)

    setattr(with_aliases, _MARK, True)
    return with_aliases


def has_aliases(function: Callable) -> bool:
    """True if ``function`` takes the numpy aliases (wrapped by ``accepts_numpy_axis``)."""
    return getattr(function, _MARK, False)


def needs_aliases(function) -> bool:
    """True for a Python function whose parameters include ``dim`` or ``keepdim`` but not their
    numpy spellings (and that is not already wrapped)."""
    if not isinstance(function, FunctionType) or has_aliases(function):
        return False
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return any(p in parameters for p in ALIASES.values()) and not any(a in parameters for a in ALIASES)


def install(namespaces: Iterable[tuple[type | ModuleType, type | ModuleType | None]]) -> None:
    """Wraps every public ``needs_aliases`` function of each namespace (a module, or the Tensor
    class for its methods) whose torch counterpart goes through torch's argument parser.

    ``namespaces`` pairs each of ours with torch's (``(Tensor, torch.Tensor)``): a name torch defines
    as a plain Python function (``F.softmax``, ``Tensor.split``) refuses ``axis=`` there and is
    left alone here; a name torch lacks is given the aliases. A function reachable under several
    names (``tritongrad.cat`` is ``tritongrad.ops.cat``) gets a single wrapper, so the names stay one
    object."""
    wrapped: dict[int, Callable] = {}
    for ours, theirs in namespaces:
        for name, function in list(vars(ours).items()):
            if name.startswith("_") or not needs_aliases(function):
                continue
            if isinstance(getattr(theirs, name, None), FunctionType):  # torch's own Python: no aliases
                continue
            if id(function) not in wrapped:
                wrapped[id(function)] = accepts_numpy_axis(function)
            setattr(ours, name, wrapped[id(function)])
