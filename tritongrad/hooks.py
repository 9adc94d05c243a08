"""``RemovableHandle``, what every ``register_*_hook`` returns (torch's ``torch.utils.hooks``, which
``tritongrad/utils/hooks.py`` names it by; it lives here, below nn and optim, which hand it out).

A handle's ``id`` is the hook's key in its table, drawn from one counter shared by every handle (as
torch's), so ids never repeat across modules; ``remove()`` drops the hook (and the same key from the
``extra_dict`` tables, such as a module's always-called marks); as a context manager it removes the
hook on exit. The tables are held weakly, as torch's, so a handle does not keep a dead module's hooks.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Any

__all__ = ["RemovableHandle", "add_hook"]


def _reference(table):
    """A weak reference to ``table`` where it takes one (an OrderedDict does), else a strong one (a plain
    dict cannot be weakly referenced)."""
    try:
        return weakref.ref(table)
    except TypeError:
        return lambda: table


class RemovableHandle:
    """A handle which removes its hook from ``hooks_dict`` (and from ``extra_dict``) on ``remove()``."""

    id: int
    next_id: int = 0

    def __init__(self, hooks_dict: Any, *, extra_dict: Any = None) -> None:
        self.hooks_dict_ref = _reference(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dict_ref: tuple = ()
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (_reference(extra_dict),)
        elif isinstance(extra_dict, list):
            self.extra_dict_ref = tuple(_reference(d) for d in extra_dict)

    def remove(self) -> None:
        hooks_dict = self.hooks_dict_ref()
        if hooks_dict is not None and self.id in hooks_dict:
            del hooks_dict[self.id]
        for ref in self.extra_dict_ref:
            extra_dict = ref()
            if extra_dict is not None and self.id in extra_dict:
                del extra_dict[self.id]

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state) -> None:
        # (a table gone when pickled comes back as a dead, empty one)
        self.hooks_dict_ref = _reference(OrderedDict() if state[0] is None else state[0])
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        if len(state) < 3 or state[2] is None:
            self.extra_dict_ref = ()
        else:
            self.extra_dict_ref = tuple(_reference(d) for d in state[2] if d is not None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, type: Any, value: Any, tb: Any) -> None:  # noqa: A002 (torch's argument name)
        self.remove()


def add_hook(table: dict, hook: Any, *, prepend: bool = False, extra_dict: Any = None) -> RemovableHandle:
    """``hook`` into ``table`` under its new handle's id (first with ``prepend``); returns the handle.
    How every hook table (a module's, an optimizer's, an autograd node's, a tensor's) registers."""
    handle = RemovableHandle(table, extra_dict=extra_dict)
    if prepend and not isinstance(table, OrderedDict):  # (a plain dict: the hook first, by rebuilding it)
        entries = list(table.items())
        table.clear()
        table[handle.id] = hook
        table.update(entries)
        return handle
    table[handle.id] = hook
    if prepend:
        table.move_to_end(handle.id, last=False)
    return handle
