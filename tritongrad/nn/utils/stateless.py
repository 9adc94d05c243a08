"""``torch.nn.utils.stateless``: the deprecated home of ``functional_call`` (torch 2.0 moved it to
``torch.func``); calling it warns as torch's does and runs ``tritongrad.func.functional_call``."""

from __future__ import annotations

import warnings
from typing import Any

from tritongrad import func

__all__ = ["functional_call"]


def functional_call(module, parameters_and_buffers: dict, args: Any = None, kwargs: dict | None = None, *,
                    tie_weights: bool = True, strict: bool = False):  # fmt: skip
    """``module(*args, **kwargs)`` with its named parameters and buffers replaced for the call."""
    warnings.warn(
        "`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed in a future "
        "version of PyTorch. Please use `torch.func.functional_call` instead which is a drop-in replacement.",
        FutureWarning,
        stacklevel=2,
    )
    return func.functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
