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

The skeleton holds None, bools, ints, floats, strings, lists, tuples, dicts with str or int keys and
OrderedDicts (with a state dict's ``_metadata``, the per-module versions). Any other object (a
torch.Size, a dtype, a set, a dict with tuple keys, a whole nn.Module) is saved as torch.save saves
everything: pickled (protocol 2), with each tensor in it replaced by the number of its safetensors
entry (the pickle goes in ``tritongrad.pickle`` in ``__metadata__``). As torch.load's default
``weights_only=True``, ``load`` unpickles it with torch's own weights-only unpickler, so exactly
torch's allowlist loads (dtypes, devices, torch.Size, sets, bytes, complex numbers, OrderedDict,
Counter, and what ``torch.serialization.add_safe_globals`` adds) and any other class is refused
(unpickling it can run code: ``weights_only=False`` is for files from a trusted source).
"""

from __future__ import annotations

import base64
import copy
import io
import json
import math
import mmap as _mmap
import os
import pickle
import struct
import warnings
from collections import OrderedDict

import numpy as np
import torch
from torch import _weights_only_unpickler
from torch._weights_only_unpickler import Unpickler as _WeightsOnlyUnpickler
from torch.serialization import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals

from tritongrad import runtime
from tritongrad.dtypes import python_type_name
from tritongrad.nn.parameter import Parameter
from tritongrad.tensor import Tensor

__all__ = [
    "save", "load", "CheckpointError", "safe_globals", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
    "get_unsafe_globals_in_checkpoint",
]  # fmt: skip
# The weights-only allowlist is torch's own (``load`` unpickles with torch's weights-only unpickler), so
# torch's functions that edit it (safe_globals, add_safe_globals, ...) are tritongrad's.

_DTYPE_CODES = {
    torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
    torch.int8: "I8", torch.uint8: "U8", torch.int16: "I16", torch.int32: "I32", torch.int64: "I64",
    torch.bool: "BOOL", torch.complex64: "C64", torch.complex128: "C128",
}  # fmt: skip
_CODE_DTYPES = {code: dtype for dtype, code in _DTYPE_CODES.items()}
_STRUCTURE_KEY = "tritongrad.structure"
_VIEWS_KEY = "tritongrad.views"
_FLAGS_KEY = "tritongrad.flags"
_PICKLE_KEY = "tritongrad.pickle"
_TENSOR_REFERENCE = "tritongrad.tensor"
# A pickled storage's persistent id is ("storage", n): torch's weights-only unpickler passes only ints and
# tuples that begin with "storage".
_STORAGE_REFERENCE = "storage"
# The keyword arguments pickle's Unpickler takes (torch.load's ``pickle_load_args`` reach it).
_UNPICKLER_ARGUMENTS = ("fix_imports", "encoding", "errors", "buffers")
_LEGACY_MAGIC = b"\x80\x02\x8a\x0a"
_FLAGS = ("requires_grad", "parameter", "frozen_parameter")
_MAX_HEADER_BYTES = 100 * 1024 * 1024
# Saved objects nest a few levels (an optimizer's state dict: 5); the bound keeps loading (recursive)
# far from Python's recursion limit whatever the file says.
_MAX_NESTING = 100


class CheckpointError(pickle.UnpicklingError, RuntimeError, ValueError):
    """The file is not a valid tritongrad/safetensors checkpoint (corrupt, truncated or foreign): an
    UnpicklingError as torch.load's for bytes that are no checkpoint, a RuntimeError as torch.load's
    for a damaged zip file (and a ValueError, as it was first)."""


class EmptyCheckpointError(CheckpointError, EOFError):
    """The file ends before a checkpoint's header: also an EOFError, as torch.load's for an empty file."""


# ------------------------------------------------------------------------------------- save
def save(obj, f, pickle_module=pickle, pickle_protocol: int = 2, _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:  # fmt: skip
    """Writes ``obj`` (tensors, nested dicts/lists/tuples of them and of plain values, or any picklable
    object) to ``f``, a path or a binary file object.

    torch.save's format arguments are accepted and have no effect: the file is always tritongrad's
    (safetensors) format, which ``load`` reads whatever they say (``_use_new_zipfile_serialization``
    and ``_disable_byteorder_record`` choose among torch's own formats; a pickled object is always
    written with ``pickle`` at protocol 2, the one torch's weights-only unpickler reads, whatever
    ``pickle_module`` and ``pickle_protocol`` are)."""
    if not hasattr(f, "write") and not isinstance(f, (str, os.PathLike)):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a 'write' attribute")
    if not hasattr(pickle_module, "Pickler"):  # (torch.save takes its Pickler whatever it saves)
        raise AttributeError(f"module '{getattr(pickle_module, '__name__', pickle_module)}' has no attribute 'Pickler'")
    tensors: dict[str, Tensor] = {}
    pickled = None
    try:
        skeleton = _encode(obj, "", tensors, {})
    except _NotPlainData:
        tensors, skeleton = {}, None
        pickled = _pickle_with_tensor_numbers(obj, tensors)
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
    if os.path.isdir(f):
        raise RuntimeError(f"cannot save to {os.fspath(f)}: open file failed with strerror: Is a directory")
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
    torch does. Views of one storage in several dtypes are refused, as torch refuses them."""
    groups: dict = {}
    for name, tensor in tensors.items():
        groups.setdefault(_storage_key(tensor._data) or ("alone", name), []).append(name)
    entries = {}
    for names in groups.values():
        first = tensors[names[0]]._data
        if any(tensors[name]._data.dtype != first.dtype for name in names) and _storage_key(first) is not None:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same data as different types")
        if (len(names) == 1 and _owns_its_storage(first)) or _storage_key(first) is None:
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


class _TensorNumberingPickler(pickle.Pickler):
    """Pickles an object (protocol 2) with each tensor in it replaced by the number n of its entry,
    ``pickled.n``: an int persistent id, which torch's weights-only unpickler passes through."""

    def __init__(self, file, tensors: dict[str, Tensor]) -> None:
        super().__init__(file, protocol=2)
        self.tensors, self.numbers, self.kept = tensors, {}, []

    def persistent_id(self, obj):
        if isinstance(obj, (torch.UntypedStorage, torch.TypedStorage)):
            # A storage is saved as the tensor of its bytes (of its dtype, uint8 for an untyped one) and
            # loads as torch's loader gives one back: a TypedStorage of that dtype.
            number = self._number(obj, lambda: _storage_tensor(obj))
            return (_STORAGE_REFERENCE, number)
        if not isinstance(obj, Tensor):
            return None
        return self._number(obj, lambda: obj)

    def _number(self, obj, tensor) -> int:
        if id(obj) not in self.numbers:
            number = len(self.numbers)
            self.numbers[id(obj)], self.tensors[f"pickled.{number}"] = number, tensor()
            self.kept.append(obj)  # (ids stay unique while the pickle is written)
        return self.numbers[id(obj)]


def _storage_tensor(storage) -> Tensor:
    """A 1-d tensor over a storage's bytes (a view: nothing is copied until the bytes are written)."""
    if isinstance(storage, torch.TypedStorage):
        dtype, storage = storage.dtype, storage._untyped_storage
    else:
        dtype = torch.uint8
    return Tensor._wrap(torch.empty((0,), dtype=dtype, device=storage.device).set_(storage))


def _find_pickled_tensor(tensors: dict[str, Tensor], reference) -> Tensor:
    """The tensor a persistent id names: an entry number, or (in files from before numbers) a
    ``(tritongrad.tensor, name)`` pair."""
    is_storage = isinstance(reference, tuple) and len(reference) == 2 and reference[0] == _STORAGE_REFERENCE
    if is_storage and _is_int(reference[1]):
        name = f"pickled.{reference[1]}"
    elif _is_int(reference):
        name = f"pickled.{reference}"
    elif isinstance(reference, tuple) and len(reference) == 2 and reference[0] == _TENSOR_REFERENCE:
        name = reference[1]
    else:
        raise CheckpointError(f"unsupported persistent id {reference!r}")
    if name not in tensors:
        raise CheckpointError(f"pickled object refers to missing tensor {name!r}")
    if is_storage:
        data = tensors[name]._data
        return torch.storage.TypedStorage(wrap_storage=data.untyped_storage(), dtype=data.dtype, _internal=True)
    return tensors[name]


class _TensorFindingUnpickler(pickle.Unpickler):
    """The full unpickler (``weights_only=False``: any class, for trusted files)."""

    def __init__(self, file, tensors: dict[str, Tensor]) -> None:
        super().__init__(file)
        self.tensors = tensors

    def persistent_load(self, reference):
        return _find_pickled_tensor(self.tensors, reference)


def _pickle_with_tensor_numbers(obj, tensors: dict) -> str:
    buffer = io.BytesIO()
    _TensorNumberingPickler(buffer, tensors).dump(obj)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _unpickle(f, pickled: bytes, tensors: dict[str, Tensor], weights_only: bool):
    """The pickled object; with ``weights_only`` through torch's weights-only unpickler (its
    allowlist, never an arbitrary class), as torch.load's default."""
    if not weights_only:
        return _TensorFindingUnpickler(io.BytesIO(pickled), tensors).load()
    unpickler = _WeightsOnlyUnpickler(io.BytesIO(pickled))
    unpickler.persistent_load = lambda reference: _find_pickled_tensor(tensors, reference)
    try:
        return unpickler.load()
    except CheckpointError:
        raise
    except pickle.UnpicklingError as error:
        raise pickle.UnpicklingError(
            f"Weights only load failed. {f} holds a pickled object that torch's weights-only unpickler refuses "
            "(a class other than tensors, dicts, lists, tuples, sets, numbers, strings, bytes, dtypes, devices, "
            "torch.Size, e.g. a whole nn.Module). Re-running `load` with `weights_only` set to `False` will likely "
            "succeed, but it can result in arbitrary code execution. Do it only if you got the file from a trusted "
            f"source.\n\nWeightsUnpickler error: {error}"
        ) from None
    except (EOFError, IndexError, KeyError, struct.error) as error:
        raise CheckpointError(f"{f}: corrupt pickled object ({type(error).__name__}: {error})") from None


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
    # Exact types only: a subclass (torch.Size, a namedtuple, a Counter, an IntEnum) keeps its type
    # only through the pickle, as in torch.
    kind = type(value)
    if kind is dict or kind is OrderedDict:
        items = []
        for key, item in value.items():
            if type(key) not in (str, int):
                raise _NotPlainData(f"checkpoint dict keys must be str or int, got {type(key).__name__}")
            items.append([key, _encode(item, f"{path}.{key}" if path else str(key), tensors, names, depth + 1)])
        if kind is dict:
            return {"__dict__": items}
        attributes = vars(value)
        if set(attributes) - {"_metadata"}:
            raise _NotPlainData("an OrderedDict with attributes other than _metadata needs pickling")
        metadata = attributes.get("_metadata")
        if metadata is not None:
            metadata = _encode(metadata, f"{path}._metadata" if path else "_metadata", tensors, names, depth + 2)
        return {"__odict__": [items, metadata]}
    if kind is list or kind is tuple:
        inner = depth + (2 if kind is tuple else 1)  # (a tuple is two levels of the skeleton)
        encoded = [
            _encode(item, f"{path}.{i}" if path else str(i), tensors, names, inner) for i, item in enumerate(value)
        ]
        return {"__tuple__": encoded} if kind is tuple else encoded
    if kind is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if value is None or kind in (bool, int, str):
        return value
    raise _NotPlainData(f"a value of type {type(value).__name__} needs pickling")


# ------------------------------------------------------------------------------------- load
def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None, mmap: bool | None = None,
         **pickle_load_args):  # fmt: skip
    """Reads a checkpoint written by ``save`` (or any safetensors file, or a file torch.save wrote)
    onto ``map_location``.

    Raises CheckpointError (an UnpicklingError and a RuntimeError), naming what is wrong, for a
    corrupt or truncated file. ``map_location``: a device, a ``{saved: wanted}`` dict or torch's
    ``lambda storage, location: storage`` (the host). ``weights_only`` (default True, False when a
    ``pickle_module`` is given, as torch's) loads a pickled object through torch's weights-only
    unpickler. ``mmap=True`` maps the file instead of reading it into memory first (the tensors are
    copied out of the mapping; a path is needed, as torch's). ``pickle_load_args`` (``encoding``)
    reach torch.load for a file torch wrote.
    """
    if weights_only is None:
        weights_only = pickle_module is None
    elif weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if hasattr(f, "read"):
        if mmap:
            raise ValueError("f must be a file path in order to use the mmap argument")
        blob = f.read()
        f = getattr(f, "name", None) or type(f).__name__
    else:
        blob = _read_file(f, bool(mmap))
    if blob[:4] in _TORCH_MAGICS and blob[8:9] != b"{":  # (a header length cannot be followed by JSON here)
        if mmap and blob[:4] == _LEGACY_MAGIC:
            raise RuntimeError(
                f"mmap can only be used with files saved with `torch.save({f}, _use_new_zipfile_serialization=True), "
                "please torch.save your checkpoint with this option in order to use mmap."
            )
        return _load_torch_checkpoint(blob, map_location, weights_only, pickle_load_args)
    # torch.load's checks of the pickle arguments (the file's pickle, if any, is tritongrad's own).
    if pickle_load_args and weights_only:
        warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
    for key in pickle_load_args:
        if key not in _UNPICKLER_ARGUMENTS:
            if weights_only:
                raise TypeError(f"Unpickler.__init__() got an unexpected keyword argument '{key}'")
            raise TypeError(f"'{key}' is an invalid keyword argument for Unpickler()")
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
    device = _target_device(map_location) if entries else None  # (torch restores, and checks, storages only)
    if entries:
        _check_device_available(device)
    tensors = {name: _read_tensor(entry, data, device) for name, entry in entries.items()}
    if callable(map_location) and not isinstance(map_location, (str, torch.device, dict)):
        tensors = {name: _relocate(tensor, map_location) for name, tensor in tensors.items()}
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
        return _unpickle(f, pickled, tensors, weights_only)
    return _decode(skeleton, tensors) if _STRUCTURE_KEY in metadata else tensors


def _read_file(path, use_mmap: bool):
    """The file's bytes, or (``mmap``) a read-only mapping of them (an empty file cannot be mapped)."""
    if not isinstance(path, (str, os.PathLike)):  # (torch reads anything else as a file object: seek fails)
        raise AttributeError(
            f"'{type(path).__name__}' object has no attribute 'seek'. You can only torch.load from a file that is "
            "seekable. Please pre-load the data into a buffer like io.BytesIO and try to load from it instead."
        )
    with open(path, "rb") as handle:
        if use_mmap and os.fstat(handle.fileno()).st_size:
            return _mmap.mmap(handle.fileno(), 0, access=_mmap.ACCESS_READ)
        return handle.read()


def _check_device_available(device: torch.device) -> None:
    """torch.load's error for tensors mapped to CUDA on a machine without one."""
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. If you are "
            "running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') to map "
            "your storages to the CPU."
        )


# A file torch.save wrote begins as a zip archive (torch's format since 1.6) or as a pickle of its
# legacy magic number (protocol 2, a 10-byte long); a tritongrad file's 8-byte header length is
# followed by its JSON header instead.
_TORCH_MAGICS = (b"PK\x03\x04", _LEGACY_MAGIC)


def _load_torch_checkpoint(blob: bytes, map_location, weights_only: bool, pickle_load_args: dict):
    """A checkpoint written by PyTorch's own ``torch.save`` (a pretrained state_dict, a tutorial's
    ``.pth``): torch reads its format into host memory (reading files is memory work, which torch
    may do here), and every tensor in it becomes a tritongrad tensor on the ``map_location`` device
    (Parameters stay Parameters; dicts, OrderedDicts, lists and tuples keep their types; an object
    that occurs twice, such as a tied weight, is one object, as torch.load gives it). A callable
    ``map_location`` goes to torch.load, which calls it per storage as it does for any file."""
    if callable(map_location) and not isinstance(map_location, (str, torch.device, dict)):
        loaded = torch.load(io.BytesIO(blob), map_location=map_location, weights_only=weights_only, **pickle_load_args)
        return _from_torch_objects(loaded, None, {})
    device = _target_device(map_location)
    loaded = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=weights_only, **pickle_load_args)
    return _from_torch_objects(loaded, device, {})


def _from_torch_objects(obj, device: torch.device | None, converted: dict):
    """``obj`` with its torch tensors wrapped (moved to ``device``; None keeps theirs). ``converted``
    maps id(a torch object) to its conversion, so an object reached twice converts once."""
    if id(obj) in converted:
        return converted[id(obj)]
    if isinstance(obj, torch.Tensor):
        if device is not None:
            _check_device_available(device)
        tensor = Tensor._wrap(obj.detach() if device is None else obj.detach().to(device))
        if isinstance(obj, torch.nn.Parameter):
            tensor = Parameter(tensor, obj.requires_grad)
        else:
            tensor.requires_grad_(obj.requires_grad)
        converted[id(obj)] = tensor
        return tensor
    if isinstance(obj, dict):
        result = converted[id(obj)] = copy.copy(obj)  # (keeps the dict's type, a Counter's, a state_dict's _metadata)
        for key, value in obj.items():
            result[key] = _from_torch_objects(value, device, converted)
        return result
    if type(obj) is list:
        result = converted[id(obj)] = []
        result.extend(_from_torch_objects(item, device, converted) for item in obj)
        return result
    if type(obj) is tuple:
        result = converted[id(obj)] = tuple(_from_torch_objects(item, device, converted) for item in obj)
        return result
    return obj


def _saved_location() -> str:
    """The location tag a storage written from here carries, as torch's (``cpu``, ``cuda:0``)."""
    here = runtime.device()
    return "cpu" if here.type == "cpu" else f"{here.type}:{here.index or 0}"


def _relocate(tensor: Tensor, map_location) -> Tensor:
    """torch's callable ``map_location``: called with the storage as read (on the host) and its saved
    location; its storage (None: the one read) holds the tensor. Anything else is torch's TypeError."""
    data = tensor._data
    result = map_location(data.untyped_storage(), _saved_location())
    if result is None:
        return tensor
    # torch wraps the result in a TypedStorage (metadata only): its own TypeError for a non-storage.
    typed = torch.storage.TypedStorage(wrap_storage=result, dtype=data.dtype, _internal=True)
    untyped = typed._untyped_storage
    relocated = torch.empty((0,), dtype=data.dtype, device=untyped.device)
    return Tensor._wrap(relocated.set_(untyped, 0, data.shape, data.stride()))


def _target_device(map_location) -> torch.device:
    if map_location is None:
        return runtime.device()
    if not isinstance(map_location, (str, torch.device, dict)) and not callable(map_location):
        raise TypeError(f"'{type(map_location).__name__}' object is not callable")  # (torch calls what is left)
    if callable(map_location):  # read onto the host, then ``_relocate``d storage by storage
        return torch.device("cpu")
    if isinstance(map_location, dict):  # {saved location: wanted location}; tensors are saved from here
        saved = _saved_location()
        return _restore_location(map_location.get(saved, map_location.get(runtime.device().type, saved)))
    return _restore_location(str(map_location))  # (torch restores to a device by its name)


# The location tags torch's registered deserializers restore to besides "cpu" and "meta" (prefixes).
_RESTORABLE_PREFIXES = ("cuda", "mps", "xpu", "hpu", "mtia")


def _restore_location(location) -> torch.device:
    """The device a location tag names, refused as torch's default_restore_location refuses it."""
    if not isinstance(location, (str, bytes)):
        raise TypeError(f"expected string or bytes-like object, got '{python_type_name(location)}'")
    location = location.decode() if isinstance(location, bytes) else location
    if location not in ("cpu", "meta") and not location.startswith(_RESTORABLE_PREFIXES):
        raise RuntimeError(
            f"don't know how to restore data location of torch.storage.UntypedStorage (tagged with {location})"
        )
    return torch.device(location)


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
    if len(value) != 1 or next(iter(value)) not in ("__tensor__", "__dict__", "__odict__", "__tuple__", "__float__"):
        raise CheckpointError(f"{f}: corrupt structure metadata (unknown node {sorted(value)})")
    ((kind, content),) = value.items()
    if kind == "__tensor__":
        if content not in entries:
            raise CheckpointError(f"{f}: structure refers to missing tensor {content!r}")
    elif kind == "__dict__":
        _check_pairs(f, content, entries, depth)
    elif kind == "__odict__":
        if not (isinstance(content, list) and len(content) == 2):
            raise CheckpointError(f"{f}: corrupt structure metadata (an OrderedDict must be [pairs, metadata])")
        _check_pairs(f, content[0], entries, depth)
        _check_structure(f, content[1], entries, depth + 2)
    elif kind == "__tuple__":
        if not isinstance(content, list):
            raise CheckpointError(f"{f}: corrupt structure metadata (a tuple must be a list, got {content!r})")
        _check_structure(f, content, entries, depth + 1)
    elif not isinstance(content, str) or content not in ("inf", "-inf", "nan"):
        raise CheckpointError(f"{f}: corrupt structure metadata (bad non-finite float {content!r})")


def _check_pairs(f, content, entries: dict, depth: int) -> None:
    pairs = isinstance(content, list) and all(isinstance(p, list) and len(p) == 2 for p in content)
    if not pairs or not all(_is_int(k) or isinstance(k, str) for k, _ in content):
        raise CheckpointError(
            f"{f}: corrupt structure metadata (a dict must be a list of [key, value] pairs with str or int "
            f"keys, got {type(content).__name__})"
        )
    for _, item in content:
        _check_structure(f, item, entries, depth + 1)


def _read_tensor(entry: tuple[torch.dtype, list[int], int, int], data: memoryview, device: torch.device) -> Tensor:
    dtype, shape, begin, end = entry
    storage_dtype = torch.int16 if dtype == torch.bfloat16 else dtype
    numpy_dtype = torch.empty((), dtype=storage_dtype).numpy().dtype
    if math.prod(shape) == 0:  # (numpy gives an empty array zero strides; torch's are contiguous ones)
        host = torch.empty(shape, dtype=storage_dtype)
    else:
        host = torch.from_numpy(np.frombuffer(data[begin:end], dtype=numpy_dtype).reshape(shape).copy())
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
        if "__odict__" in value:
            pairs, metadata = value["__odict__"]
            decoded = OrderedDict((key, _decode(item, tensors)) for key, item in pairs)
            if metadata is not None:
                decoded._metadata = _decode(metadata, tensors)
            return decoded
        if "__tuple__" in value:
            return tuple(_decode(item, tensors) for item in value["__tuple__"])
        return float(value["__float__"])
    if isinstance(value, list):
        return [_decode(item, tensors) for item in value]
    return value


def get_unsafe_globals_in_checkpoint(f) -> list[str]:
    """The classes and functions a checkpoint's pickled object names that ``load``'s weights-only
    unpickler would refuse (neither torch's allowlist nor ``add_safe_globals``'), as torch's
    function: an empty list for a checkpoint without a pickled object (plain nested containers)."""
    blob = f.read() if hasattr(f, "read") else _read_file(f, False)
    if blob[:4] in _TORCH_MAGICS and blob[8:9] != b"{":
        return torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(blob))
    try:
        (header_length,) = struct.unpack("<Q", blob[:8])
        metadata = _parse_json(bytes(blob[8 : 8 + header_length]).decode("utf-8")).get("__metadata__") or {}
        pickled = base64.b64decode(metadata[_PICKLE_KEY], validate=True) if _PICKLE_KEY in metadata else None
    except (struct.error, UnicodeDecodeError, ValueError, AttributeError, TypeError, RecursionError):
        raise ValueError("Expected input to be a checkpoint returned by torch.save") from None
    if pickled is None:
        return []
    safe = set(_weights_only_unpickler._get_allowed_globals()) | set(
        _weights_only_unpickler._get_user_allowed_globals()
    )
    return list(_weights_only_unpickler.get_globals_in_pkl(io.BytesIO(pickled)).difference(safe))
