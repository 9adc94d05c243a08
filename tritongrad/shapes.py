"""Dimension and shape arguments as torch takes them: one home for their parsing and checks.

Every op that takes a ``dim`` normalizes it here, and every method taking sizes as
``*shape`` or one sequence (``x.view(2, 3)`` and ``x.view((2, 3))``) reads them here.
"""

from __future__ import annotations

import torch

__all__ = ["normalize_dim", "shape_arg"]


def normalize_dim(dim: int, ndim: int) -> int:
    """dim in [-ndim, ndim) → [0, ndim); torch's IndexError otherwise (0-dim tensors accept -1 and 0)."""
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-size}, {size - 1}], but got {dim})")
    return dim % size


def shape_arg(shape: tuple) -> tuple:
    """Sizes given as ``*shape`` or as one tuple/list/Size, as a tuple."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
        return tuple(shape[0])
    return tuple(shape)
