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
        header = json.loads(blob[8 : 8 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{f}: corrupt checkpoint header ({error})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{f}: corrupt checkpoint header (not a JSON object)")
    data = memoryview(blob)[8 + header_length :]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {name: _read_tensor(f, name, entry, data, device) for name, entry in header.items()}
    structure = metadata.get(_STRUCTURE_KEY)
    if structure is None:
        return tensors
    try:
        skeleton = json.loads(structure)
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{f}: corrupt structure metadata ({error})") from None
    return _decode(f, skeleton, tensors)


def _read_tensor(f, name: str, entry, data: memoryview, device: torch.device) -> Tensor:
    try:
        dtype = _CODE_DTYPES[entry["dtype"]]
        shape = [int(s) for s in entry["shape"]]
        begin, end = (int(o) for o in entry["data_offsets"])
    except (KeyError, TypeError, ValueError):
        raise CheckpointError(f"{f}: corrupt entry for tensor {name!r}: {entry!r}") from None
    expected = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
    if any(s < 0 for s in shape) or not 0 <= begin <= end or end - begin != expected:
        raise CheckpointError(f"{f}: tensor {name!r} has shape {shape} but {end - begin} bytes")
    if end > len(data):
        raise CheckpointError(
            f"{f}: truncated checkpoint (tensor {name!r} needs bytes up to {end}, file has {len(data)})"
        )
    storage_dtype = torch.int16 if dtype == torch.bfloat16 else dtype
    numpy_dtype = torch.empty((), dtype=storage_dtype).numpy().dtype
    array = np.frombuffer(data[begin:end], dtype=numpy_dtype).reshape(shape).copy()
    host = torch.from_numpy(array)
    if dtype == torch.bfloat16:
        host = host.view(torch.bfloat16)
    return Tensor._wrap(host.to(device) if device.type != "cpu" else host)


def _decode(f, value, tensors: dict):
    if isinstance(value, dict):
        if "__tensor__" in value:
            name = value["__tensor__"]
            if name not in tensors:
                raise CheckpointError(f"{f}: structure refers to missing tensor {name!r}")
            return tensors[name]
        if "__dict__" in value:
            return {key: _decode(f, item, tensors) for key, item in value["__dict__"]}
        if "__tuple__" in value:
            return tuple(_decode(f, item, tensors) for item in value["__tuple__"])
        if "__float__" in value:
            return float(value["__float__"])
        raise CheckpointError(f"{f}: corrupt structure metadata (unknown node {sorted(value)})")
    if isinstance(value, list):
        return [_decode(f, item, tensors) for item in value]
    return value
