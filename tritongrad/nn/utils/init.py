"""``skip_init``: a module built without running its initialisation (torch.nn.utils.skip_init)."""

from __future__ import annotations

import inspect
from typing import Any

from tritongrad.nn.module import Module

__all__ = ["skip_init"]


def skip_init(module_cls: type[Module], *args: Any, **kwargs: Any) -> Module:
    """``module_cls(*args, **kwargs)`` with uninitialized parameters and buffers: built on the meta
    device (its initialisation fills launch nothing there), then given memory on ``device`` (default
    the CPU, as torch's) by ``to_empty``. The class must take a ``device`` argument, as torch requires."""
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    kwargs["device"] = "meta"
    return module_cls(*args, **kwargs).to_empty(device=final_device)
