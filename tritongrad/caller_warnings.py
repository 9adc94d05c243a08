"""Warnings attributed to the user's line, as torch's (raised in C++) are.

A fixed ``stacklevel`` counts frames, and the frames between a public op and the check that warns
vary: a decorator (ops/autocast.py's), a shared helper, a method alias. ``warn`` walks out of
tritongrad's own files instead and attributes the warning to the first frame outside them.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["warn"]

# tritongrad/ and kernels/ (installed as tritongrad/kernels, or beside it in a source checkout)
_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_OWN_DIRS = (_PACKAGE + os.sep, os.path.join(os.path.dirname(_PACKAGE), "kernels") + os.sep)


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` at the innermost frame outside tritongrad."""
    frame, level = sys._getframe(1), 2  # (level 1 would be this function)
    while frame is not None and frame.f_code.co_filename.startswith(_OWN_DIRS):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
