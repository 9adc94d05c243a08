"""``torch.compile`` and ``torch._dynamo``: what scripts set and call around compiling
(``import torch._dynamo``, ``torch._dynamo.config.suppress_errors = True``, ``reset()``, the
decorators). tritongrad's ops are already Triton kernels, so nothing is compiled: ``compile``
returns a function as it is and a module inside an ``OptimizedModule``, as torch does, because
scripts reach through that wrapper (nanoGPT saves ``model._orig_mod`` and strips the
``_orig_mod.`` prefix its state_dict keys get). The flags are recorded and the functions change
nothing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tritongrad.environment import _disable, _identity
from tritongrad.nn.module import Module

__all__ = ["config", "reset", "disable", "allow_in_graph", "is_compiling", "mark_dynamic", "mark_static",
           "compile", "OptimizedModule"]  # fmt: skip

config = SimpleNamespace(suppress_errors=False, cache_size_limit=8, verbose=False)
disable = _disable
allow_in_graph = _identity


def reset() -> None:
    """Nothing was compiled, so there is nothing to forget."""


def is_compiling() -> bool:
    return False


def mark_dynamic(tensor, index, **kwargs) -> None:
    """Recorded by torch for its compiler; nothing to do here."""


def mark_static(tensor, index=None) -> None:
    """Recorded by torch for its compiler; nothing to do here."""


class OptimizedModule(Module):
    """What ``compile`` returns for a module: the module as the submodule ``_orig_mod`` (so
    state_dict keys and parameter names carry the ``_orig_mod.`` prefix, as torch's), called by
    ``forward``; attributes it lacks are read from and written to the module, as torch's wrapper
    does (``compiled.weight``, ``compiled.config = ...``)."""

    _OWN_ATTRIBUTES = frozenset({"_orig_mod", "forward", "training"})

    def __init__(self, mod: Module) -> None:
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "training", mod.training)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._orig_mod(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            modules = self.__dict__.get("_modules")
            if modules is None or "_orig_mod" not in modules:
                raise
            return getattr(modules["_orig_mod"], name)

    def __setattr__(self, name: str, value: Any) -> None:
        modules = self.__dict__.get("_modules")
        if name in self._OWN_ATTRIBUTES or modules is None or "_orig_mod" not in modules:
            super().__setattr__(name, value)
        else:
            setattr(modules["_orig_mod"], name, value)


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor", mode=None,  # noqa: A001
            options=None, disable: bool = False):  # fmt: skip
    """torch.compile's signature: a module comes back inside an ``OptimizedModule``, a function as it
    is (and, without either, a decorator that does that); ``disable=True`` returns the model itself."""
    if model is None:
        return lambda function: compile(function, disable=disable)
    if not callable(model):
        raise RuntimeError("torch.compile: model must be callable (a function or an nn.Module)")
    if isinstance(model, Module) and not disable:
        return OptimizedModule(model)
    return model
