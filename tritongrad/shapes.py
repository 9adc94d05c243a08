"""Dimension and shape arguments as torch takes them: one home for their parsing and checks.

Every op that takes a ``dim`` normalizes it here, and every method taking sizes as
``*shape`` or one sequence (``x.view(2, 3)`` and ``x.view((2, 3))``) reads them here.
"""

from __future__ import annotations

import torch

__all__ = ["as_dim", "as_int", "dims_arg", "normalize_dim", "shape_arg"]


def as_int(value, refusal: str) -> int:
    """An int argument as torch's parser takes it: ints, numpy integers and one-element integer
    tensors (``__index__``), not bools or floats; anything else a TypeError ``refusal`` (its ``{}``
    filled with the value's type name)."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(refusal.format(type(value).__name__))
    try:
        return value.__index__()
    except (TypeError, RuntimeError, ValueError) as error:  # (a float or many-element tensor)
        raise TypeError(refusal.format(type(value).__name__)) from error


def as_dim(dim) -> int:
    """A dim argument as an int (``as_int``)."""
    return as_int(dim, "argument 'dim' must be int, not {}")


def dims_arg(dims) -> tuple:
    """A one-dim-or-many argument (``dim=1``, ``dims=(0, 2)``) as a tuple; the dims are checked by
    ``normalize_dim``."""
    return tuple(dims) if isinstance(dims, (tuple, list, torch.Size)) else (dims,)


def normalize_dim(dim: int, ndim: int, *, scalar: bool = True) -> int:
    """dim in [-ndim, ndim) → [0, ndim); torch's IndexError otherwise (0-dim tensors accept -1 and 0,
    unless ``scalar`` is False: ops that need a real dim, such as roll and unbind, refuse them).
    Any integer torch takes for a dim will do (a numpy integer, a 0-dim integer tensor); anything
    else is a TypeError naming its type."""
    if type(dim) is not int:
        dim = as_dim(dim)
    if ndim == 0 and not scalar:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-size}, {size - 1}], but got {dim})")
    return dim % size


def shape_arg(shape: tuple, keyword=None) -> tuple:
    """Sizes given as ``*shape`` or as one tuple/list/Size, or by keyword (``x.view(size=(2, 3))``:
    ``keyword``), as a tuple."""
    if keyword is not None:
        if shape:
            raise TypeError("sizes given both as positional arguments and by keyword")
        shape = (keyword,)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
        shape = tuple(shape[0])
    for size in shape:
        if type(size) is not int:
            return tuple(_size_as_int(size) for size in shape)
    return tuple(shape)


def _size_as_int(size) -> int:
    """A size torch takes (an int, a numpy integer, a one-element integer tensor) as an int; torch's
    TypeError for anything else (a float, a bool, None)."""
    if type(size) is int:
        return size
    return as_int(size, "argument 'size' must be tuple of ints, but found element of type {}")
