"""Grad mode: whether operations are recorded on the tape (torch.no_grad and friends).

Each switch is a context manager and a decorator, as in torch: ``with no_grad():``,
``@no_grad()``, ``@no_grad`` (no parentheses), and on generator functions, where
the mode holds while the generator's own code runs and not in the caller between
``next`` calls. The mode is per thread.
"""

from __future__ import annotations

import functools
import inspect
import threading

from tritongrad.tensor import grad_state as _state
from tritongrad.tensor import inference_active, set_inference_active

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled", "set_multithreading_enabled", "is_multithreading_enabled"]  # fmt: skip


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backward."""
    return _state.enabled


def _set_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


def _run_in_mode(mode: bool, function, args, kwargs):
    previous = is_grad_enabled()
    _set_enabled(mode)
    try:
        return function(*args, **kwargs)
    finally:
        _set_enabled(previous)


def _decorate(mode: bool, function):
    """``function`` running with grad mode ``mode`` (each step of it, for a generator function)."""
    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def generator_wrapper(*args, **kwargs):
            generator = _run_in_mode(mode, function, args, kwargs)
            try:
                request = None
                while True:
                    request = yield _run_in_mode(mode, generator.send, (request,), {})
            except StopIteration as stop:
                return stop.value
            finally:
                _run_in_mode(mode, generator.close, (), {})

        return generator_wrapper

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return _run_in_mode(mode, function, args, kwargs)

    return wrapper


class _GradModeContext:
    """Base of the grad-mode switches: a context manager that is also a decorator."""

    _mode: bool

    def __enter__(self) -> None:
        self._previous = is_grad_enabled()
        _set_enabled(self._mode)

    def __exit__(self, *exc_info) -> None:
        _set_enabled(self._previous)

    def __call__(self, function):
        return _decorate(self._mode, function)

    def clone(self):
        """A new switch of this kind (torch's ``_DecoratorContextManager.clone``)."""
        return self.__class__()


class _NoArgumentSwitch(_GradModeContext):
    """A switch without arguments, usable as ``@switch`` as well as ``@switch()``."""

    def __new__(cls, function=None):
        switch = super().__new__(cls)
        if function is None:
            return switch
        return switch(function)  # (any positional argument is the function to wrap, as torch takes it)

    def __init__(self, function=None) -> None:
        pass


class no_grad(_NoArgumentSwitch):
    """Context manager / decorator that disables recording: results do not require grad.

    Example::

        with tritongrad.no_grad():
            w -= 0.1 * w.grad
    """

    _mode = False


class enable_grad(_NoArgumentSwitch):
    """Context manager / decorator that enables recording inside a ``no_grad`` region."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Sets grad mode to ``mode``: immediately when called, and restored on exit when used with ``with``.

    As a decorator (``@set_grad_enabled(False)``) it changes nothing until the function runs.
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(
                f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not {type(mode).__name__}"
            )
        self._mode = mode
        self._previous = is_grad_enabled()
        _set_enabled(self._mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info) -> None:
        _set_enabled(self._previous)

    def __call__(self, function):
        _set_enabled(self._previous)
        return super().__call__(function)

    def __repr__(self) -> str:
        return f"torch.autograd.grad_mode.set_grad_enabled(mode={self._mode})"  # (torch's typename)

    def clone(self) -> set_grad_enabled:
        """A new switch with the same mode (torch's; making it sets the mode, as any call does)."""
        return self.__class__(self._mode)


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode`` on this thread."""
    return inference_active()


class inference_mode(_GradModeContext):
    """``no_grad`` whose tensors are inference tensors, as torch's: they are never saved for backward
    and never written in place outside inference mode (autograd/function.py, ops/inplace.py).
    ``inference_mode(False)`` turns grad mode on, as torch's (its InferenceMode(false) sets grad mode
    to the opposite).

    Usable as ``with inference_mode():``, ``@inference_mode()`` and ``@inference_mode``.
    """

    def __new__(cls, mode=True):
        switch = super().__new__(cls)
        if isinstance(mode, bool):
            return switch
        switch.__init__(True)
        return switch(mode)

    def __init__(self, mode=True) -> None:
        self._enabled = bool(mode) if isinstance(mode, bool) else True

    def __enter__(self) -> None:
        self._previous = is_grad_enabled()
        self._previous_inference = set_inference_active(self._enabled)
        _set_enabled(not self._enabled)

    def __exit__(self, *exc_info) -> None:
        _set_enabled(self._previous)
        set_inference_active(self._previous_inference)

    def clone(self) -> inference_mode:
        return self.__class__(self._enabled)

    def __call__(self, function):
        mode = self._enabled

        @functools.wraps(function)
        def in_inference_mode(*args, **kwargs):
            with inference_mode(mode):
                return function(*args, **kwargs)

        return in_inference_mode if not inspect.isgeneratorfunction(function) else _decorate(not mode, function)


class _Multithreading(threading.local):
    enabled = True


_multithreading = _Multithreading()


def is_multithreading_enabled() -> bool:
    """torch's flag for a backward on per-device worker threads (tritongrad's always runs on the calling
    thread, so the flag is only kept and reported)."""
    return _multithreading.enabled


class set_multithreading_enabled(_GradModeContext):  # noqa: N801 (torch's name)
    """Sets ``is_multithreading_enabled()`` to ``mode`` when made, restored on exit (per thread, as torch's)."""

    def __init__(self, mode: bool) -> None:
        self.prev, _multithreading.enabled = _multithreading.enabled, bool(mode)
        self.mode = mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info) -> None:
        _multithreading.enabled = self.prev

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.clone():
                return function(*args, **kwargs)

        return wrapper

    def clone(self) -> set_multithreading_enabled:
        return self.__class__(self.mode)
