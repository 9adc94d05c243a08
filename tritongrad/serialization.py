"""Checkpoints in the safetensors format: ``tritongrad.save(obj, path)`` / ``tritongrad.load(path)``.

A safetensors file is an 8-byte little-endian header length, a JSON header
(name → dtype, shape, byte offsets) and the raw tensor bytes. Loading parses
that JSON and copies bytes; nothing in the file is executed, so an untrusted
checkpoint cannot run code (unlike pickle).

``obj`` may be nested: a model's state dict, an optimizer's (integer keys,
step counts, hyperparameter tuples), or a dict holding both. Tensors are stored
under their dotted path (``fc.weight``, ``optimizer.state.0.exp_avg``); the
nesting and the non-tensor values travel as a JSON skeleton in the header's
``__metadata__``, so a flat state dict is also readable by any safetensors tool.

As torch.save does, a round trip keeps what tensors share: a tensor saved twice loads as one
object, and tensors on one storage (views of each other, a transposed or sliced tensor) load as
views of one storage with their offsets and strides (the storage is saved whole, under the
first such tensor's name + ``.__storage__``, and ``tritongrad.views`` in ``__metadata__`` maps
each view's name to [storage, offset, size, stride]). ``tritongrad.flags`` marks the tensors that
require grad and the Parameters. A tensor that owns its storage alone is a plain safetensors entry.

Any other object (a whole nn.Module, a set, a dataclass) is saved as torch.save saves everything:
pickled, with each tensor in it replaced by the name of its safetensors entry (the pickle goes in
``tritongrad.pickle`` in ``__metadata__``). As torch.load's default ``weights_only=True``, ``load``
refuses to unpickle it unless called with ``weights_only=False`` (unpickling can run code: only for
files from a trusted source); the tensors are read as always.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import pickle
import struct
from collections import OrderedDict

import numpy as np
import torch

from tritongrad import runtime
from tritongrad.nn.parameter import Parameter
from tritongrad.tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

_DTYPE_CODES = {
    torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
    torch.int8: "I8", torch.uint8: "U8", torch.int16: "I16", torch.int32: "I32", torch.int64: "I64",
    torch.bool: "BOOL",
}  # fmt: skip
_CODE_DTYPES = {code: dtype for dtype, code in _DTYPE_CODES.items()}
_STRUCTURE_KEY = "tritongrad.structure"
_VIEWS_KEY = "tritongrad.views"
_FLAGS_KEY = "tritongrad.flags"
_PICKLE_KEY = "tritongrad.pickle"
_TENSOR_REFERENCE = "tritongrad.tensor"
_FLAGS = ("requires_grad", "parameter", "frozen_parameter")
_MAX_HEADER_BYTES = 100 * 1024 * 1024
# Saved objects nest a few levels (an optimizer's state dict: 5); the bound keeps loading (recursive)
# far from Python's recursion limit whatever the file says.
_MAX_NESTING = 100


class CheckpointError(RuntimeError, ValueError):
    """The file is not a valid tritongrad/safetensors checkpoint (corrupt, truncated or foreign): a
    RuntimeError as torch.load's for a damaged file (and a ValueError, as it was first)."""


class EmptyCheckpointError(CheckpointError, EOFError):
    """The file ends before a checkpoint's header: also an EOFError, as torch.load's for an empty file."""


# ------------------------------------------------------------------------------------- save
def save(obj, f) -> None:
    """Writes ``obj`` (tensors, nested dicts/lists/tuples of them and of plain values) to ``f``, a path
    or a binary file object."""
    tensors: dict[str, Tensor] = {}
    pickled = None
    try:
        skeleton = _encode(obj, "", tensors, {})
    except _NotPlainData:
        tensors, skeleton = {}, None
        pickled = _pickle_with_tensor_names(obj, tensors)
    header: dict = {}
    chunks = []
    offset = 0
    views: dict[str, list] = {}
    for name, (data, shape) in _entries(tensors, views).items():
        header[name] = {"dtype": _DTYPE_CODES[data.dtype], "shape": shape,
                        "data_offsets": [offset, offset + len(data.raw)]}  # fmt: skip
        chunks.append(data.raw)
        offset += len(data.raw)
    metadata = {_STRUCTURE_KEY: json.dumps(skeleton)} if pickled is None else {_PICKLE_KEY: pickled}
    if views:
        metadata[_VIEWS_KEY] = json.dumps(views)
    flags = {name: _flag(tensor) for name, tensor in tensors.items() if _flag(tensor)}
    if flags:
        metadata[_FLAGS_KEY] = json.dumps(flags)
    header["__metadata__"] = metadata
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # keeps tensor data 8-byte aligned
    blob = b"".join([struct.pack("<Q", len(header_bytes)), header_bytes, *chunks])
    if hasattr(f, "write"):
        f.write(blob)
        return
    parent = os.path.dirname(os.fspath(f))
    if parent and not os.path.isdir(parent):
        raise RuntimeError(f"Parent directory {parent} does not exist.")
    temporary = f"{os.fspath(f)}.tmp"
    try:
        with open(temporary, "wb") as handle:
            handle.write(blob)
        os.replace(temporary, f)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _flag(tensor: Tensor) -> str | None:
    if isinstance(tensor, Parameter):
        return "parameter" if tensor.requires_grad else "frozen_parameter"
    return "requires_grad" if tensor.requires_grad else None


class _Bytes:
    """A tensor's (or a storage's) bytes on the host, with the dtype they are saved as."""

    def __init__(self, data: torch.Tensor) -> None:
        if data.dtype not in _DTYPE_CODES:
            raise TypeError(f"cannot save a tensor of dtype {data.dtype}")
        self.dtype = data.dtype
        if data.device.type != "cpu":
            data = data.to("cpu")
        if data.dtype == torch.bfloat16:
            data = data.view(torch.int16)  # numpy has no bfloat16: keep the bits
        self.raw = data.numpy().tobytes()


def _storage_key(data: torch.Tensor):
    storage = data.untyped_storage()
    return (data.device, storage.data_ptr(), storage.nbytes()) if storage.nbytes() else None


def _owns_its_storage(data: torch.Tensor) -> bool:
    return (
        data.is_contiguous()
        and data.storage_offset() == 0
        and data.numel() * data.element_size() == data.untyped_storage().nbytes()
    )


def _entries(tensors: dict[str, Tensor], views: dict[str, list]) -> dict[str, tuple[_Bytes, list[int]]]:
    """The header's entries: a tensor that owns its storage alone is saved as itself; tensors that
    share a storage (or see part of one) become views of that storage, saved once and whole, as
    torch does. Views of one storage in several dtypes are saved as separate copies."""
    groups: dict = {}
    for name, tensor in tensors.items():
        groups.setdefault(_storage_key(tensor._data) or ("alone", name), []).append(name)
    entries = {}
    for names in groups.values():
        first = tensors[names[0]]._data
        same_dtype = all(tensors[name]._data.dtype == first.dtype for name in names)
        if (len(names) == 1 and _owns_its_storage(first)) or not same_dtype or _storage_key(first) is None:
            for name in names:
                entries[name] = (_Bytes(tensors[name].detach().contiguous()._data), list(tensors[name].shape))
            continue
        storage_name = f"{names[0]}.__storage__"  # (free: no tensor's own name ends so, see _entry_name)
        length = first.untyped_storage().nbytes() // first.element_size()
        entries[storage_name] = (_Bytes(first.as_strided((length,), (1,), 0)), [length])
        for name in names:
            data = tensors[name]._data
            views[name] = [storage_name, data.storage_offset(), list(data.shape), list(data.stride())]
    return entries


class _NotPlainData(TypeError):
    """``obj`` holds something the JSON skeleton cannot: it is pickled instead."""


class _TensorNamingPickler(pickle.Pickler):
    """Pickles an object with each tensor in it replaced by a reference to a named entry."""

    def __init__(self, file, tensors: dict[str, Tensor]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.tensors, self.names = tensors, {}

    def persistent_id(self, obj):
        if not isinstance(obj, Tensor):
            return None
        if id(obj) not in self.names:
            name = f"pickled.{len(self.names)}"
            self.names[id(obj)], self.tensors[name] = name, obj
        return (_TENSOR_REFERENCE, self.names[id(obj)])


class _TensorFindingUnpickler(pickle.Unpickler):
    def __init__(self, file, tensors: dict[str, Tensor]) -> None:
        super().__init__(file)
        self.tensors = tensors

    def persistent_load(self, reference):
        if not (isinstance(reference, tuple) and len(reference) == 2 and reference[0] == _TENSOR_REFERENCE):
            raise pickle.UnpicklingError(f"unsupported persistent id {reference!r}")
        if reference[1] not in self.tensors:
            raise CheckpointError(f"pickled object refers to missing tensor {reference[1]!r}")
        return self.tensors[reference[1]]


def _pickle_with_tensor_names(obj, tensors: dict) -> str:
    buffer = io.BytesIO()
    _TensorNamingPickler(buffer, tensors).dump(obj)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _entry_name(path: str, tensors: dict) -> str:
    """A tensor's entry name: its dotted path, unless another entry has it (``{"a.b": t, "a": {"b": u}}``)
    or it is one the format reserves (``__metadata__``, a storage's ``.__storage__``); then the path
    with the first free ``#n`` suffix (the skeleton maps each tensor to its entry, whatever the name)."""
    name = path or "tensor"
    if name not in tensors and name != "__metadata__" and not name.endswith(".__storage__"):
        return name
    number = 1
    while f"{name}#{number}" in tensors:
        number += 1
    return f"{name}#{number}"


def _encode(value, path: str, tensors: dict, names: dict, depth: int = 0):
    if depth > _MAX_NESTING:  # (deeper than load accepts: pickled instead, as anything else it cannot hold)
        raise _NotPlainData(f"nested more than {_MAX_NESTING} levels deep")
    if isinstance(value, Tensor):
        if id(value) in names:  # the same tensor again: loads as the same object, as torch's
            return {"__tensor__": names[id(value)]}
        name = _entry_name(path, tensors)
        tensors[name], names[id(value)] = value, name
        return {"__tensor__": name}
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise _NotPlainData(f"checkpoint dict keys must be str or int, got {type(key).__name__}")
            items.append([key, _encode(item, f"{path}.{key}" if path else str(key), tensors, names, depth + 1)])
        return {"__dict__": items}
    if isinstance(value, (list, tuple)):
        inner = depth + (2 if isinstance(value, tuple) else 1)  # (a tuple is two levels of the skeleton)
        encoded = [
            _encode(item, f"{path}.{i}" if path else str(i), tensors, names, inner) for i, item in enumerate(value)
        ]
        return {"__tuple__": encoded} if isinstance(value, tuple) else encoded
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise _NotPlainData(f"a value of type {type(value).__name__} needs pickling")


# ------------------------------------------------------------------------------------- load
def load(f, map_location=None, weights_only: bool = True):
    """Reads a checkpoint written by ``save`` (or any safetensors file) onto ``map_location``.

    Raises CheckpointError, naming what is wrong, for a corrupt or truncated file. ``map_location``:
    a device, a ``{saved: wanted}`` dict or torch's ``lambda storage, location: storage`` (the host).
    """
    device = _target_device(map_location)
    if hasattr(f, "read"):
        blob = f.read()
        f = getattr(f, "name", None) or type(f).__name__
    else:
        with open(f, "rb") as handle:
            blob = handle.read()
    if blob[:4] in _TORCH_MAGICS and blob[8:9] != b"{":  # (a header length cannot be followed by JSON here)
        return _load_torch_checkpoint(blob, device, weights_only)
    if len(blob) < 8:
        raise EmptyCheckpointError(f"{f}: truncated checkpoint (only {len(blob)} bytes, no header)")
    (header_length,) = struct.unpack("<Q", blob[:8])
    if header_length > min(_MAX_HEADER_BYTES, len(blob) - 8):
        raise CheckpointError(f"{f}: corrupt or truncated checkpoint (header length {header_length} exceeds the file)")
    try:
        header = _parse_json(blob[8 : 8 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CheckpointError(f"{f}: corrupt checkpoint header ({error})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{f}: corrupt checkpoint header (not a JSON object)")
    data = memoryview(blob)[8 + header_length :]
    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"{f}: corrupt checkpoint header (__metadata__ must map names to strings)")
    # Every entry is checked (types, ranges, sizes, bounds) before a single tensor is built.
    entries = {name: _check_entry(f, name, entry, len(data)) for name, entry in header.items()}
    _check_layout(f, entries, len(data))
    skeleton = None
    try:
        views = _check_views(f, _parse_json(metadata.get(_VIEWS_KEY, "{}")), entries)
        flags = _check_flags(f, _parse_json(metadata.get(_FLAGS_KEY, "{}")), entries, views)
        if _STRUCTURE_KEY in metadata:
            skeleton = _parse_json(metadata[_STRUCTURE_KEY])
            _check_structure(f, skeleton, {**entries, **views})
    except (ValueError, RecursionError) as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError(f"{f}: corrupt structure metadata ({error})") from None
    if _PICKLE_KEY in metadata and weights_only:
        raise pickle.UnpicklingError(
            f"Weights only load failed. {f} holds a pickled object (saved from something other than tensors, "
            "dicts, lists, tuples, numbers and strings, e.g. a whole nn.Module). Re-running `load` with "
            "`weights_only` set to `False` will likely succeed, but it can result in arbitrary code execution. "
            "Do it only if you got the file from a trusted source."
        )
    tensors = {name: _read_tensor(entry, data, device) for name, entry in entries.items()}
    for name, (storage, offset, size, stride) in views.items():
        tensors[name] = Tensor._wrap(tensors[storage]._data.as_strided(size, stride, offset))
    if views:  # storages are saved only for their views
        tensors = {name: tensor for name, tensor in tensors.items() if not name.endswith(".__storage__")}
    for name, flag in flags.items():
        tensors[name] = Parameter(tensors[name], flag == "parameter") if "parameter" in flag else tensors[name]
        tensors[name].requires_grad_(flag != "frozen_parameter")
    if _PICKLE_KEY in metadata:
        try:
            pickled = base64.b64decode(metadata[_PICKLE_KEY], validate=True)
        except ValueError as error:
            raise CheckpointError(f"{f}: corrupt pickled object ({error})") from None
        return _TensorFindingUnpickler(io.BytesIO(pickled), tensors).load()
    return tensors if skeleton is None else _decode(skeleton, tensors)


# A file torch.save wrote begins as a zip archive (torch's format since 1.6) or as a pickle of its
# legacy magic number (protocol 2, a 10-byte long); a tritongrad file's 8-byte header length is
# followed by its JSON header instead.
_TORCH_MAGICS = (b"PK\x03\x04", b"\x80\x02\x8a\x0a")


def _load_torch_checkpoint(blob: bytes, device: torch.device, weights_only: bool):
    """A checkpoint written by PyTorch's own ``torch.save`` (a pretrained state_dict, a tutorial's
    ``.pth``): torch reads its format into host memory (reading files is memory work, which torch
    may do here), and every tensor in it becomes a tritongrad tensor on ``device`` (Parameters stay
    Parameters; dicts, OrderedDicts, lists and tuples keep their types)."""
    loaded = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=weights_only)
    return _from_torch_objects(loaded, device)


def _from_torch_objects(obj, device: torch.device):
    if isinstance(obj, torch.nn.Parameter):
        return Parameter(Tensor._wrap(obj.detach().to(device)), obj.requires_grad)
    if isinstance(obj, torch.Tensor):
        return Tensor._wrap(obj.detach().to(device)).requires_grad_(obj.requires_grad)
    if isinstance(obj, dict):
        converted = type(obj)() if type(obj) in (dict, OrderedDict) else {}
        for key, value in obj.items():
            converted[key] = _from_torch_objects(value, device)
        if hasattr(obj, "_metadata"):  # (a state_dict's version metadata)
            converted._metadata = obj._metadata
        return converted
    if isinstance(obj, (list, tuple)) and type(obj) in (list, tuple):
        return type(obj)(_from_torch_objects(item, device) for item in obj)
    return obj


def _target_device(map_location) -> torch.device:
    if map_location is None:
        return runtime.device()
    if callable(map_location):  # torch's ``lambda storage, location: storage``: the host
        return torch.device("cpu")
    if isinstance(map_location, dict):  # {saved location: wanted location}; tensors are saved from here
        here = runtime.device()
        wanted = map_location.get(str(here), map_location.get(here.type, here))
        return torch.device(wanted)
    return torch.device(map_location)


def _check_views(f, views, entries: dict) -> dict:
    """``tritongrad.views``: name -> [storage entry, offset, size, stride], every element of the view
    inside its storage (a 1-d entry), before any tensor is built."""
    if not isinstance(views, dict):
        raise CheckpointError(f"{f}: corrupt checkpoint ({_VIEWS_KEY} must be a JSON object)")
    for name, view in views.items():
        shaped = isinstance(view, list) and len(view) == 4 and isinstance(view[2], list) and isinstance(view[3], list)
        if not shaped or view[0] not in entries or len(entries[view[0]][1]) != 1 or name in entries:
            raise CheckpointError(
                f"{f}: corrupt checkpoint (view {name!r} must be [storage, offset, size, stride] on a 1-d entry, "
                f"got {view!r})"
            )
        storage, offset, size, stride = view
        numbers = [offset, *size, *stride]
        if len(size) != len(stride) or not all(_is_int(n) and n >= 0 for n in numbers):
            raise CheckpointError(
                f"{f}: corrupt checkpoint (view {name!r} needs a non-negative offset, sizes and strides of one "
                f"length, got {view!r})"
            )
        last = offset + sum((n - 1) * step for n, step in zip(size, stride))
        if math.prod(size) and last >= entries[storage][1][0]:
            raise CheckpointError(
                f"{f}: corrupt checkpoint (view {name!r} reaches element {last} of storage {storage!r}, "
                f"which has {entries[storage][1][0]})"
            )
    return views


def _check_flags(f, flags, entries: dict, views: dict) -> dict:
    if not isinstance(flags, dict) or not all(
        (name in entries or name in views) and flag in _FLAGS for name, flag in flags.items()
    ):
        raise CheckpointError(f"{f}: corrupt checkpoint ({_FLAGS_KEY} must map saved tensors to one of {list(_FLAGS)})")
    for name, flag in flags.items():
        dtype = entries[views[name][0] if name in views else name][0]
        if flag != "frozen_parameter" and not dtype.is_floating_point:
            raise CheckpointError(f"{f}: corrupt checkpoint (tensor {name!r} of dtype {dtype} cannot require grad)")
    return flags


def _parse_json(text: str):
    """Strict JSON: a repeated key or a non-standard constant (NaN, Infinity) is an error, as in
    safetensors, instead of Python's silent last-key-wins and float('nan')."""

    def unique_object(pairs: list) -> dict:
        keys = [key for key, _ in pairs]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValueError(f"key {repeated[0]!r} appears more than once")
        return dict(pairs)

    def refuse_constant(name: str):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, object_pairs_hook=unique_object, parse_constant=refuse_constant)


def _check_layout(f, entries: dict, available: int) -> None:
    """The tensors' byte ranges must tile the data exactly, as safetensors requires: no two tensors
    share bytes, and no bytes lie between or after them."""
    position = 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda item: (item[1][2], item[1][3])):
        if begin != position:
            problem = (
                "overlaps the tensor before it" if begin < position else f"leaves bytes {position}..{begin} unused"
            )
            raise CheckpointError(
                f"{f}: corrupt checkpoint (tensor {name!r} at data_offsets [{begin}, {end}] {problem})"
            )
        position = end
    if position != available:
        raise CheckpointError(f"{f}: corrupt checkpoint ({available - position} bytes after the last tensor's data)")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_entry(f, name: str, entry, available: int) -> tuple[torch.dtype, list[int], int, int]:
    """(dtype, shape, begin, end) of a header entry, or CheckpointError naming the bad field."""
    if not isinstance(entry, dict):
        raise CheckpointError(f"{f}: entry for tensor {name!r} must be an object, got {type(entry).__name__}")
    missing = {"dtype", "shape", "data_offsets"} - set(entry)
    if missing:
        raise CheckpointError(f"{f}: entry for tensor {name!r} lacks {sorted(missing)}")
    dtype = _CODE_DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
    if dtype is None:
        raise CheckpointError(
            f"{f}: tensor {name!r} has unknown dtype {entry['dtype']!r} (expected one of {sorted(_CODE_DTYPES)})"
        )
    shape, offsets = entry["shape"], entry["data_offsets"]
    if not isinstance(shape, list) or not all(_is_int(s) and s >= 0 for s in shape):
        raise CheckpointError(f"{f}: tensor {name!r} has shape {shape!r}; expected a list of non-negative integers")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_int(o) for o in offsets):
        raise CheckpointError(f"{f}: tensor {name!r} has data_offsets {offsets!r}; expected [begin, end] integers")
    begin, end = offsets
    expected = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
    if not 0 <= begin <= end or end - begin != expected:
        raise CheckpointError(
            f"{f}: tensor {name!r} of dtype {entry['dtype']} and shape {shape} needs {expected} bytes, "
            f"but its data_offsets are [{begin}, {end}]"
        )
    if end > available:
        raise CheckpointError(
            f"{f}: truncated checkpoint (tensor {name!r} needs bytes up to {end}, file has {available})"
        )
    return dtype, shape, begin, end


def _check_structure(f, value, entries: dict, depth: int = 0) -> None:
    """The skeleton must be made of the nodes ``_encode`` writes, and name only tensors in the header."""
    if depth > _MAX_NESTING:
        raise CheckpointError(f"{f}: corrupt structure metadata (nested more than {_MAX_NESTING} levels deep)")
    if isinstance(value, list):
        for item in value:
            _check_structure(f, item, entries, depth + 1)
        return
    if not isinstance(value, dict):
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise CheckpointError(f"{f}: corrupt structure metadata (unexpected {type(value).__name__})")
        return
    if len(value) != 1 or next(iter(value)) not in ("__tensor__", "__dict__", "__tuple__", "__float__"):
        raise CheckpointError(f"{f}: corrupt structure metadata (unknown node {sorted(value)})")
    ((kind, content),) = value.items()
    if kind == "__tensor__":
        if content not in entries:
            raise CheckpointError(f"{f}: structure refers to missing tensor {content!r}")
    elif kind == "__dict__":
        pairs = isinstance(content, list) and all(isinstance(p, list) and len(p) == 2 for p in content)
        if not pairs or not all(_is_int(k) or isinstance(k, str) for k, _ in content):
            raise CheckpointError(
                f"{f}: corrupt structure metadata (a dict must be a list of [key, value] pairs with str or int "
                f"keys, got {type(content).__name__})"
            )
        for _, item in content:
            _check_structure(f, item, entries, depth + 1)
    elif kind == "__tuple__":
        if not isinstance(content, list):
            raise CheckpointError(f"{f}: corrupt structure metadata (a tuple must be a list, got {content!r})")
        _check_structure(f, content, entries, depth + 1)
    elif not isinstance(content, str) or content not in ("inf", "-inf", "nan"):
        raise CheckpointError(f"{f}: corrupt structure metadata (bad non-finite float {content!r})")


def _read_tensor(entry: tuple[torch.dtype, list[int], int, int], data: memoryview, device: torch.device) -> Tensor:
    dtype, shape, begin, end = entry
    storage_dtype = torch.int16 if dtype == torch.bfloat16 else dtype
    numpy_dtype = torch.empty((), dtype=storage_dtype).numpy().dtype
    array = np.frombuffer(data[begin:end], dtype=numpy_dtype).reshape(shape).copy()
    host = torch.from_numpy(array)
    if dtype == torch.bfloat16:
        host = host.view(torch.bfloat16)
    return Tensor._wrap(host.to(device) if device.type != "cpu" else host)


def _decode(value, tensors: dict):
    """Rebuilds the saved object from a skeleton that ``_check_structure`` accepted."""
    if isinstance(value, dict):
        if "__tensor__" in value:
            return tensors[value["__tensor__"]]
        if "__dict__" in value:
            return {key: _decode(item, tensors) for key, item in value["__dict__"]}
        if "__tuple__" in value:
            return tuple(_decode(item, tensors) for item in value["__tuple__"])
        return float(value["__float__"])
    if isinstance(value, list):
        return [_decode(item, tensors) for item in value]
    return value
