"""Saved-tensor hooks (torch.autograd.graph.saved_tensors_hooks): ``pack`` runs on every tensor a node
saves for its backward while the context is active, and the node keeps what it returns; ``unpack``
turns that back into a tensor when the backward reads it. save_on_cpu is the pair that moves saved
tensors to the host and back. The stack is per thread, as torch's; the node reads it once per save.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "current_hooks", "check_enabled"]


class _State(threading.local):
    def __init__(self) -> None:
        self.stack: list[tuple[Callable, Callable]] = []
        self.disabled: str | None = None


_state = _State()
# How many hook contexts are open in all threads: a node's save reads this one global when it is 0.
pushed = 0
_count_lock = threading.Lock()


def current_hooks() -> tuple[Callable, Callable] | None:
    """The innermost (pack, unpack) pair of this thread, or None."""
    stack = _state.stack
    return stack[-1] if stack else None


class saved_tensors_hooks:  # noqa: N801 (torch's name)
    """``with saved_tensors_hooks(pack_hook, unpack_hook):`` — see the module docstring."""

    def __init__(self, pack_hook: Callable, unpack_hook: Callable) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        check_enabled()
        global pushed
        _state.stack.append((self.pack_hook, self.unpack_hook))
        with _count_lock:
            pushed += 1
        return self

    def __exit__(self, *exc_info) -> None:
        global pushed
        _state.stack.pop()
        with _count_lock:
            pushed -= 1


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 (torch's name)
    """Saved tensors are kept on the host and moved back to their device when the backward reads them
    (``pin_memory`` is accepted; tritongrad's host copies are ordinary)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(tensor):
            return tensor.device, tensor.to("cpu", copy=True)

        def unpack(packed):
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack, unpack)


def check_enabled() -> None:
    """torch's refusal to use saved-tensor hooks inside ``disable_saved_tensors_hooks``."""
    if _state.disabled is not None:
        raise RuntimeError(_state.disabled)


class disable_saved_tensors_hooks(contextlib.ContextDecorator):  # noqa: N801 (torch's name)
    """Inside, registering saved-tensor hooks raises RuntimeError(``error_message``); entering it while
    hooks are registered raises it at once, as torch's (those hooks would be used by the next save).
    Also a decorator, as torch's."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> disable_saved_tensors_hooks:
        if _state.stack:
            raise RuntimeError(self.error_message)
        self._previous, _state.disabled = _state.disabled, self.error_message
        return self

    def __exit__(self, *exc_info) -> None:
        _state.disabled = self._previous
