"""``torch.autograd.graph``: the graph's node type and the hooks on what nodes save (saved_hooks.py)."""

from __future__ import annotations

from tritongrad.autograd.function import Node
from tritongrad.autograd.saved_hooks import disable_saved_tensors_hooks, save_on_cpu, saved_tensors_hooks

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "increment_version"]


def increment_version(tensor) -> None:
    """Marks ``tensor`` as modified in place (its version counter goes up), as an in-place op would."""
    tensor._version_counter.bump()
