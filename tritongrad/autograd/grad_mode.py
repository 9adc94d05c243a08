"""Grad mode: whether operations are recorded on the tape (torch.no_grad and friends)."""

from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode"]

_state = threading.local()


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backward."""
    return getattr(_state, "enabled", True)


def _set_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


class _GradModeContext:
    """Base of the grad-mode switches: a context manager that is also a decorator."""

    _mode: bool

    def __enter__(self) -> None:
        self._previous = is_grad_enabled()
        _set_enabled(self._mode)

    def __exit__(self, *exc_info) -> None:
        _set_enabled(self._previous)

    def __call__(self, function):
        mode = self._mode

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            previous = is_grad_enabled()
            _set_enabled(mode)
            try:
                return function(*args, **kwargs)
            finally:
                _set_enabled(previous)

        return wrapper


class no_grad(_GradModeContext):
    """Context manager / decorator that disables recording: results do not require grad.

    Example::

        with tritongrad.no_grad():
            w -= 0.1 * w.grad
    """

    _mode = False

    def __init__(self) -> None:
        pass


class enable_grad(_GradModeContext):
    """Context manager / decorator that enables recording inside a ``no_grad`` region."""

    _mode = True

    def __init__(self) -> None:
        pass


class set_grad_enabled(_GradModeContext):
    """Sets grad mode to ``mode``: immediately when called, and restored on exit when used with ``with``."""

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._previous = is_grad_enabled()
        _set_enabled(self._mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info) -> None:
        _set_enabled(self._previous)

    def __call__(self, function):
        _set_enabled(self._previous)  # as a decorator it changes nothing until the function runs
        return super().__call__(function)


class inference_mode(no_grad):
    """Like ``no_grad`` (tritongrad has no separate inference tensors)."""

    def __init__(self, mode: bool = True) -> None:
        self._mode = not mode
