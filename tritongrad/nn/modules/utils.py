"""``torch.nn.modules.utils``: the argument normalizers layer code imports (``_pair(3)`` is (3, 3); a
sequence is kept as a tuple of its items), and the state-dict prefix stripper of DataParallel checkpoints."""

from __future__ import annotations

import collections.abc
from itertools import repeat
from typing import Any

__all__ = ["_single", "_pair", "_triple", "_quadruple", "_ntuple", "consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse"):
    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def consume_prefix_in_state_dict_if_present(state_dict: dict[str, Any], prefix: str) -> None:
    """Strips ``prefix`` from the keys of ``state_dict`` (and of its ``_metadata``) in place: how a
    checkpoint of a DataParallel/DDP model (keys ``module.*``) loads into the bare model, as torch's."""
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix) :]] = state_dict.pop(key)
    if hasattr(state_dict, "_metadata"):
        for key in list(state_dict._metadata.keys()):
            # '' is the wrapper's own entry (kept); 'module' or 'module.*' are the model's
            if len(key) == 0:
                continue
            if key == prefix.replace(".", "") or key.startswith(prefix):
                state_dict._metadata[key[len(prefix) :]] = state_dict._metadata.pop(key)
