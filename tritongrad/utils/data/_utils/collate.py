"""Turning a list of samples into a batch: ``default_collate`` (and ``default_convert`` for loaders
that do not batch), with torch's rules and torch's extension point.

``collate(batch, collate_fn_map=...)`` looks the first sample's type up in ``collate_fn_map`` (the
exact type first, then the first entry it is an instance of) and hands the whole batch to that
function; otherwise it recurses into mappings, namedtuples and sequences, transposing them (a batch
of (x, y) pairs becomes [collated xs, collated ys], a list, as torch returns). ``default_collate``
is ``collate`` with ``default_collate_fn_map``, so registering a type there, as torch's docs show,
changes what ``default_collate`` (and the DataLoader) does:

- tensors are stacked along a new first dimension (tritongrad's stack kernel);
- Python ints and bools become ``tensor(batch)``, whose dtype is inferred over the whole batch (so
  ``[1, 2.5]`` is float32 and ``[True, 2]`` int64, as torch's); floats become float64;
- numpy arrays and numpy number/bool scalars become tensors; strings and bytes stay a list.

Mutable mappings and sequences are collated into a shallow copy of the first sample (``copy.copy``),
so subclasses keep their type, their attributes and a defaultdict its ``default_factory``.

This is torch's module path (``torch.utils.data._utils.collate``); ``tritongrad.utils.data.collate``
re-exports it.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.utils.data._utils import collate as torch_collate

from tritongrad.creation import as_tensor, tensor
from tritongrad.ops import stack
from tritongrad.tensor import Tensor

__all__ = ["default_collate", "default_convert"]

# numpy dtypes with no tensor counterpart (byte strings, unicode, objects): torch's pattern over ``dtype.str``
np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)

CollateFnMap = dict[type | tuple[type, ...], Callable]


def _is_numpy_convertible(data: Any) -> bool:
    """torch's test in ``default_convert``: every numpy type except its string scalars goes through as_tensor."""
    data_type = type(data)
    return data_type.__module__ == "numpy" and data_type.__name__ not in ("str_", "string_")


def default_convert(data: Any) -> Any:
    """What a loader without batching (``batch_size=None``) yields: numpy arrays and scalars become
    tensors (string and object arrays stay as they are), recursing into mappings and sequences;
    everything else is returned as it is.

    Example::

        >>> default_convert({"x": np.float32(1.5), "y": [np.arange(2)]})
        {'x': tensor(1.5000), 'y': [tensor([0, 1])]}
    """
    if isinstance(data, Tensor):
        return data
    if _is_numpy_convertible(data):
        if isinstance(data, np.ndarray) and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        return _rebuild_mapping(data, converted)
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, tuple):
        return [default_convert(value) for value in data]  # torch returns a list for tuples
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(value) for value in data])
    return data


def _rebuild_mapping(template: collections.abc.Mapping, values: dict) -> Any:
    """``values`` in ``template``'s mapping type: a mutable mapping is copied (keeping its subclass,
    attributes and defaultdict factory) and updated, other mappings are built from a dict; a plain
    dict when neither works (as torch falls back)."""
    try:
        if isinstance(template, collections.abc.MutableMapping):
            clone = copy.copy(template)
            clone.update(values)
            return clone
        return type(template)(values)
    except TypeError:
        return values


def _rebuild_sequence(template: collections.abc.Sequence, values: list) -> Any:
    """``values`` in ``template``'s sequence type, the same way as ``_rebuild_mapping``."""
    try:
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return type(template)(values)
    except TypeError:
        return values


def collate(batch: list, *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """Collates ``batch`` with the per-type functions of ``collate_fn_map`` (see the module docstring).

    Each function is called as ``fn(batch, collate_fn_map=collate_fn_map)``, so it may recurse.

    Example::

        >>> collate([1, 2], collate_fn_map={int: lambda batch, collate_fn_map=None: sum(batch)})
        3
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        values = {key: collate([sample[key] for sample in batch], collate_fn_map=collate_fn_map) for key in elem}
        return _rebuild_mapping(elem, values)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]  # tuples, as torch's
        if isinstance(elem, tuple):
            return transposed  # torch returns a list for tuples too
        return _rebuild_sequence(elem, transposed)
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch: list[Tensor], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Tensors: stacked along a new first dimension."""
    return stack(batch, 0)


def collate_numpy_array_fn(batch: list[np.ndarray], *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """numpy arrays: as tensors, then collated (so stacked); string and object arrays are refused."""
    if np_str_obj_array_pattern.search(batch[0].dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(batch[0].dtype))
    return collate([as_tensor(array) for array in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch: list[np.generic], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """numpy number, bool and object scalars: one tensor (numpy's dtype, as as_tensor infers it)."""
    return as_tensor(batch)


def collate_float_fn(batch: list[float], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Python floats (first sample): float64, as torch's."""
    return tensor(batch, dtype=torch.float64)


def collate_int_fn(batch: list[int], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Python ints and bools (first sample): the dtype is inferred over the whole batch, as ``tensor``
    does (a later float makes it float32, a later None raises torch's RuntimeError)."""
    return tensor(batch)


def collate_str_fn(batch: list[str | bytes], *, collate_fn_map: CollateFnMap | None = None) -> list:
    """Strings and bytes (np.str_ included): the batch as it is."""
    return batch


# torch's table, in torch's order (the first isinstance match wins for subclasses).
default_collate_fn_map: CollateFnMap = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch: list) -> Any:
    """Collates a list of samples into a batch: ``collate`` with ``default_collate_fn_map`` (see the
    module docstring for the rules).

    Example::

        >>> default_collate([(tritongrad.ones(2), 0), (tritongrad.zeros(2), 1)])
        [tensor([[1., 1.], [0., 0.]]), tensor([0, 1])]
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


# ``import tritongrad as torch; from torch.utils.data import DataLoader`` binds torch's own loader
# (a from-import resolves the real package name, not the alias). Registering tritongrad's Tensor in
# torch's collate table lets that loader stack tritongrad tensors too (with tritongrad's kernel);
# torch's own tensors are untouched. (Numbers in such batches still become torch tensors there.)
torch_collate.default_collate_fn_map.setdefault(Tensor, collate_tensor_fn)
