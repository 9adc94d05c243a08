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
           "compile", "OptimizedModule", "exc", "list_backends"]  # fmt: skip

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


# torch 2.13's registered backends (``list_backends(exclude_tags=())``) and those listed by default
# (without the "debug" and "experimental" tags): compile checks a backend name against them, as
# torch's lookup does, though none of them compiles anything here.
_BACKENDS = (
    "aot_eager", "aot_eager_decomp_partition", "aot_eager_decomp_partition_crossref",
    "aot_eager_decomp_partition_with_mode", "aot_eager_default_partitioner", "aot_ts", "cudagraphs",
    "dynamo_accuracy_minifier_backend", "dynamo_minifier_backend", "eager", "eager_debug", "eager_noexcept",
    "inductor", "invoke_subgraph", "openxla", "openxla_eval", "pre_dispatch_eager", "ts", "tvm",
)  # fmt: skip
_LISTED_BACKENDS = ("cudagraphs", "inductor", "openxla", "tvm")
# inductor's modes (torch._inductor.list_mode_options), in torch's order for its message
_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


class TorchDynamoException(RuntimeError):
    """torch._dynamo.exc.TorchDynamoException."""


class InvalidBackend(TorchDynamoException):
    """torch._dynamo.exc.InvalidBackend: a backend name torch has not registered."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Invalid backend: {name!r}, see `torch._dynamo.list_backends()` for available backends.")


exc = SimpleNamespace(TorchDynamoException=TorchDynamoException, InvalidBackend=InvalidBackend)


def list_backends(exclude_tags=("debug", "experimental")) -> list[str]:
    """torch._dynamo.list_backends: the registered backend names, without the debug and experimental
    ones unless ``exclude_tags`` is empty."""
    return list(_LISTED_BACKENDS if exclude_tags else _BACKENDS)


def _check_arguments(model, backend, mode, options) -> None:
    """torch.compile's eager checks, in its order: mode with options, the inductor mode (an unknown
    option name is not checked: inductor's option list is not reproduced), the backend name, then
    whether the model is callable."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if backend == "inductor":
        if mode and mode != "default" and mode not in _MODES:
            raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    elif isinstance(backend, str) and backend not in _BACKENDS:
        raise InvalidBackend(backend)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor", mode=None,  # noqa: A001
            options=None, name=None, disable: bool = False, recompile_limit=None, isolate_recompiles: bool = False,
            shapes_spec=None):  # fmt: skip
    """torch.compile's signature and argument checks (``_check_arguments``): a module comes back inside
    an ``OptimizedModule``, a function as it is (and, without either, a decorator that does that, its
    checks made when it is applied); ``disable=True`` returns the model itself. torch 2.13's newer
    keywords (``name``, ``recompile_limit``, ...) are accepted and change nothing."""
    if model is None:

        def decorate(function):
            if function is None:
                raise RuntimeError("Model can't be None")
            return compile(function, backend=backend, mode=mode, options=options, disable=disable)

        return decorate
    _check_arguments(model, "inductor" if backend is None else backend, mode, options)
    if isinstance(model, Module) and not disable:
        return OptimizedModule(model)
    return model
