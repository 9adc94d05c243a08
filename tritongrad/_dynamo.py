"""``torch._dynamo``: what scripts set and call around ``torch.compile`` (``import torch._dynamo``,
``torch._dynamo.config.suppress_errors = True``, ``reset()``, the decorators). tritongrad's
``compile`` returns what it is given, so there is no graph to configure: the flags are recorded and
the functions change nothing."""

from __future__ import annotations

from types import SimpleNamespace

from tritongrad.environment import _disable, _identity

__all__ = ["config", "reset", "disable", "allow_in_graph", "is_compiling", "mark_dynamic", "mark_static"]

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
