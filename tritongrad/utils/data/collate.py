"""Turning a list of samples into a batch: ``default_collate`` (and ``default_convert`` for loaders
that do not batch), with torch's rules.

``default_collate`` stacks tensors along a new first dimension (tritongrad's stack kernel), turns
numbers into a tensor (int64 for ints, float64 for floats, bool for bools) and numpy arrays and
scalars into tensors, and recurses into dicts, namedtuples, tuples and lists, transposing them:
a batch of (x, y) pairs becomes [stacked xs, stacked ys] (a list, as torch returns). Strings stay
as a list.
"""

from __future__ import annotations

import collections.abc
import numbers
from typing import Any

import numpy as np
import torch
from torch.utils.data._utils import collate as torch_collate

from tritongrad.creation import as_tensor, tensor
from tritongrad.ops import stack
from tritongrad.tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_UNSUPPORTED = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _same_type_mapping(template: collections.abc.Mapping, values: dict) -> Any:
    """``values`` as ``template``'s mapping type when that type can be rebuilt from a dict."""
    try:
        return type(template)(values)
    except TypeError:
        return values


def default_collate(batch: list) -> Any:
    """Collates a list of samples into a batch (see the module docstring for the rules).

    Example::

        >>> default_collate([(tritongrad.ones(2), 0), (tritongrad.zeros(2), 1)])
        [tensor([[1., 1.], [0., 0.]]), tensor([0, 1])]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "USOV":  # strings, objects: no tensor for these
            raise TypeError(_UNSUPPORTED.format(elem.dtype))
        return default_collate([as_tensor(array) for array in batch])
    if isinstance(elem, np.generic):
        if elem.dtype.kind in "USOV":
            raise TypeError(_UNSUPPORTED.format(elem.dtype))
        return as_tensor(np.array(batch))
    if isinstance(elem, bool):
        return tensor(batch, dtype=torch.bool)
    if isinstance(elem, float):
        return tensor(batch, dtype=torch.float64)
    if isinstance(elem, numbers.Integral):
        return tensor(batch, dtype=torch.int64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _same_type_mapping(elem, {key: default_collate([sample[key] for sample in batch]) for key in elem})
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [default_collate(samples) for samples in zip(*batch)]  # (tuples: strings stay one, as torch's)
        if isinstance(elem, tuple):
            return transposed  # torch returns a list for tuples too
        try:
            return type(elem)(transposed)
        except TypeError:
            return transposed
    raise TypeError(_UNSUPPORTED.format(type(elem)))


def default_convert(data: Any) -> Any:
    """What a loader without batching (``batch_size=None``) yields: numpy arrays become tensors,
    recursing into mappings and sequences; everything else is returned as it is."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "USOV":
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _same_type_mapping(data, {key: default_convert(value) for key, value in data.items()})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, tuple):
        return [default_convert(value) for value in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(value) for value in data])
        except TypeError:
            return [default_convert(value) for value in data]
    return data


def _collate_tensors(batch: list[Tensor], *, collate_fn_map: dict | None = None) -> Tensor:
    return stack(batch, 0)


# ``import tritongrad as torch; from torch.utils.data import DataLoader`` binds torch's own loader
# (a from-import resolves the real package name, not the alias). Registering tritongrad's Tensor in
# torch's collate table lets that loader stack tritongrad tensors too (with tritongrad's kernel);
# torch's own tensors are untouched. (Numbers in such batches still become torch tensors there.)
torch_collate.default_collate_fn_map.setdefault(Tensor, _collate_tensors)
