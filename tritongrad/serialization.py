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
"""

from __future__ import annotations

import json
import math
import os
import struct

import numpy as np
import torch

from tritongrad import runtime
from tritongrad.tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

_DTYPE_CODES = {
    torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
    torch.int8: "I8", torch.uint8: "U8", torch.int16: "I16", torch.int32: "I32", torch.int64: "I64",
    torch.bool: "BOOL",
}  # fmt: skip
_CODE_DTYPES = {code: dtype for dtype, code in _DTYPE_CODES.items()}
_STRUCTURE_KEY = "tritongrad.structure"
_MAX_HEADER_BYTES = 100 * 1024 * 1024
# Saved objects nest a few levels (an optimizer's state dict: 5); the bound keeps loading (recursive)
# far from Python's recursion limit whatever the file says.
_MAX_NESTING = 100


class CheckpointError(ValueError):
    """The file is not a valid tritongrad/safetensors checkpoint (corrupt, truncated or foreign)."""


# ------------------------------------------------------------------------------------- save
def save(obj, f) -> None:
    """Writes ``obj`` (tensors, nested dicts/lists/tuples of them and of plain values) to path ``f``."""
    tensors: dict[str, Tensor] = {}
    skeleton = _encode(obj, "", tensors)
    header: dict = {}
    chunks = []
    offset = 0
    for name, tensor in tensors.items():
        data = _host_bytes(tensor)
        header[name] = {"dtype": _DTYPE_CODES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}  # fmt: skip
        chunks.append(data)
        offset += len(data)
    header["__metadata__"] = {_STRUCTURE_KEY: json.dumps(skeleton)}
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # keeps tensor data 8-byte aligned
    temporary = f"{os.fspath(f)}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(struct.pack("<Q", len(header_bytes)))
        handle.write(header_bytes)
        for chunk in chunks:
            handle.write(chunk)
    os.replace(temporary, f)


def _encode(value, path: str, tensors: dict):
    if isinstance(value, Tensor):
        name = path or "tensor"
        if name in tensors:
            raise ValueError(f"two entries map to the same checkpoint key {name!r}")
        tensors[name] = value
        return {"__tensor__": name}
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"checkpoint dict keys must be str or int, got {type(key).__name__}")
            items.append([key, _encode(item, f"{path}.{key}" if path else str(key), tensors)])
        return {"__dict__": items}
    if isinstance(value, (list, tuple)):
        encoded = [_encode(item, f"{path}.{i}" if path else str(i), tensors) for i, item in enumerate(value)]
        return {"__tuple__": encoded} if isinstance(value, tuple) else encoded
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(
        f"cannot save a value of type {type(value).__name__} (tensors, dicts, lists, numbers, strings only)"
    )


def _host_bytes(tensor: Tensor) -> bytes:
    if tensor.dtype not in _DTYPE_CODES:
        raise TypeError(f"cannot save a tensor of dtype {tensor.dtype}")
    data = tensor.detach().contiguous()._data
    if data.device.type != "cpu":
        data = data.to("cpu")
    if data.dtype == torch.bfloat16:
        data = data.view(torch.int16)  # numpy has no bfloat16: keep the bits
    return data.numpy().tobytes()


# ------------------------------------------------------------------------------------- load
def load(f, map_location=None, weights_only: bool = True):
    """Reads a checkpoint written by ``save`` (or any safetensors file) onto ``map_location``.

    Raises CheckpointError, naming what is wrong, for a corrupt or truncated file.
    """
    device = torch.device(map_location) if map_location is not None else runtime.device()
    with open(f, "rb") as handle:
        blob = handle.read()
    if len(blob) < 8:
        raise CheckpointError(f"{f}: truncated checkpoint (only {len(blob)} bytes, no header)")
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
    if _STRUCTURE_KEY in metadata:
        try:
            skeleton = _parse_json(metadata[_STRUCTURE_KEY])
            _check_structure(f, skeleton, entries)
        except (ValueError, RecursionError) as error:
            if isinstance(error, CheckpointError):
                raise
            raise CheckpointError(f"{f}: corrupt structure metadata ({error})") from None
    tensors = {name: _read_tensor(entry, data, device) for name, entry in entries.items()}
    return tensors if skeleton is None else _decode(skeleton, tensors)


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
