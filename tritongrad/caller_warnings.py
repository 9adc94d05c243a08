"""Warnings attributed to the user's line, as torch's (raised in C++) are.

A fixed ``stacklevel`` counts frames, and the frames between a public op and the check that warns
vary: a decorator (ops/autocast.py's), a shared helper, a method alias. ``warn`` walks out of
tritongrad's own files instead and attributes the warning to the first frame outside them.

``warn_once`` is torch's TORCH_WARN_ONCE: one warning per key per process, every time while
``torch.set_warn_always(True)``.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["warn", "warn_once", "set_warn_always", "is_warn_always_enabled"]

# tritongrad/ and kernels/ (installed as tritongrad/kernels, or beside it in a source checkout)
_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_OWN_DIRS = (_PACKAGE + os.sep, os.path.join(os.path.dirname(_PACKAGE), "kernels") + os.sep)


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` at the innermost frame outside tritongrad."""
    frame, level = sys._getframe(1), 2  # (level 1 would be this function)
    while frame is not None and frame.f_code.co_filename.startswith(_OWN_DIRS):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


_WARN_ALWAYS = [False]  # torch.set_warn_always's process flag
_WARNED: set[str] = set()  # keys of the once-per-process warnings already given


def set_warn_always(b: bool) -> None:
    """Give torch's once-per-process warnings (TORCH_WARN_ONCE) every time when ``b``."""
    _WARN_ALWAYS[0] = bool(b)


def is_warn_always_enabled() -> bool:
    """Whether ``set_warn_always(True)`` is in force."""
    return _WARN_ALWAYS[0]


def warn_once(key: str, message: str, category: type[Warning] = UserWarning) -> None:
    """``warn(message, category)`` the first time ``key`` warns in this process (every time while
    warn-always is set), as torch's TORCH_WARN_ONCE."""
    if key in _WARNED and not _WARN_ALWAYS[0]:
        return
    _WARNED.add(key)
    warn(message, category)  # (this file is tritongrad's own, so warn skips this frame too)
