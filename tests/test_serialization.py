"""tritongrad.save / tritongrad.load: safetensors round trips and clear errors for bad files."""

from __future__ import annotations

import json
import pickle
import struct

import pytest
import torch

import tritongrad
import tritongrad.nn as nn
from tests.utils import assert_close, from_torch
from tritongrad.serialization import CheckpointError


def trained_model_and_optimizer():
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    optimizer = tritongrad.optim.AdamW(model.parameters(), lr=1e-2, amsgrad=True)
    data = tritongrad.randn(5, 4)
    for _ in range(2):
        optimizer.zero_grad()
        model(data).sum().backward()
        optimizer.step()
    return model, optimizer, data


def test_model_and_optimizer_round_trip(tmp_path):
    model, optimizer, data = trained_model_and_optimizer()
    path = tmp_path / "checkpoint.safetensors"
    tritongrad.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 2}, path)
    loaded = tritongrad.load(path)
    assert loaded["epoch"] == 2

    restored = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    restored.load_state_dict(loaded["model"])
    assert restored(data).tolist() == model(data).tolist(), "identical outputs after load"

    restored_optimizer = tritongrad.optim.AdamW(restored.parameters(), lr=1e-2, amsgrad=True)
    restored_optimizer.load_state_dict(loaded["optimizer"])
    original_state, loaded_state = optimizer.state_dict(), restored_optimizer.state_dict()
    assert original_state["param_groups"] == loaded_state["param_groups"]
    for index, values in original_state["state"].items():
        for name, value in values.items():
            other = loaded_state["state"][index][name]
            assert (value.tolist() if hasattr(value, "tolist") else value) == (
                other.tolist() if hasattr(other, "tolist") else other
            ), f"state {index}.{name}"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.int64,
                                   torch.int32, torch.bool])  # fmt: skip
def test_every_dtype_round_trips_bit_for_bit(tmp_path, dtype):
    values = torch.randn(3, 5) * 7
    tensor = tritongrad.tensor(values.tolist()).to(dtype)
    tritongrad.save({"x": tensor}, tmp_path / "x.safetensors")
    loaded = tritongrad.load(tmp_path / "x.safetensors")["x"]
    assert loaded.dtype == dtype and loaded.tolist() == tensor.tolist()


def test_a_flat_state_dict_is_plain_safetensors(tmp_path):
    """Other safetensors readers see the tensors under their state-dict names."""
    from safetensors.torch import load_file

    model = nn.Linear(3, 2)
    tritongrad.save(model.state_dict(), tmp_path / "linear.safetensors")
    tensors = load_file(str(tmp_path / "linear.safetensors"))
    assert set(tensors) == {"weight", "bias"}
    assert tensors["weight"].tolist() == model.weight.tolist()


def test_non_contiguous_and_nested_values(tmp_path):
    matrix = tritongrad.randn(4, 3)
    obj = {"t": matrix.t(), "nested": [1, 2.5, (True, None, "text")], 3: {"inf": float("inf")}}
    tritongrad.save(obj, tmp_path / "nested.safetensors")
    loaded = tritongrad.load(tmp_path / "nested.safetensors")
    assert loaded["t"].tolist() == matrix.t().tolist()
    assert loaded["nested"] == [1, 2.5, (True, None, "text")]
    assert loaded[3] == {"inf": float("inf")}


def test_truncated_file_raises_a_clear_error(tmp_path):
    model, _, _ = trained_model_and_optimizer()
    path = tmp_path / "model.safetensors"
    tritongrad.save(model.state_dict(), path)
    blob = path.read_bytes()
    for cut in (4, 40, len(blob) - 10):
        (tmp_path / "cut.safetensors").write_bytes(blob[:cut])
        with pytest.raises(CheckpointError, match="truncated|corrupt"):
            tritongrad.load(tmp_path / "cut.safetensors")


def test_corrupt_header_raises_a_clear_error(tmp_path):
    path = tmp_path / "bad.safetensors"
    header = b"{not json"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(CheckpointError, match="corrupt checkpoint header"):
        tritongrad.load(path)
    header = json.dumps({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 8)
    with pytest.raises(CheckpointError, match="shape \\[2, 2\\] needs 16 bytes, but its data_offsets are \\[0, 8\\]"):
        tritongrad.load(path)


GOOD_ENTRY = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}
STRUCTURE = "tritongrad.structure"


@pytest.mark.parametrize(
    "header, message",
    [
        ({"w": {**GOOD_ENTRY, "shape": [2.5, 2]}}, "has shape \\[2.5, 2\\]; expected a list of non-negative integers"),
        ({"w": {**GOOD_ENTRY, "shape": [True, 4]}}, "expected a list of non-negative integers"),
        ({"w": {**GOOD_ENTRY, "shape": [-2, -2]}}, "expected a list of non-negative integers"),
        ({"w": {**GOOD_ENTRY, "shape": "2,2"}}, "expected a list of non-negative integers"),
        ({"w": {**GOOD_ENTRY, "data_offsets": ["0", "16"]}}, "data_offsets \\['0', '16'\\]; expected \\[begin, end\\]"),
        ({"w": {**GOOD_ENTRY, "data_offsets": [0]}}, "expected \\[begin, end\\] integers"),
        ({"w": {**GOOD_ENTRY, "data_offsets": [-16, 0]}}, "needs 16 bytes, but its data_offsets are \\[-16, 0\\]"),
        ({"w": {**GOOD_ENTRY, "dtype": "F128"}}, "unknown dtype 'F128'"),
        ({"w": {**GOOD_ENTRY, "dtype": 7}}, "unknown dtype 7"),
        ({"w": [2, 2]}, "entry for tensor 'w' must be an object, got list"),
        ({"w": {"dtype": "F32"}}, "lacks \\['data_offsets', 'shape'\\]"),
        ({"w": GOOD_ENTRY, "__metadata__": ["a"]}, "__metadata__ must map names to strings"),
        ({"w": GOOD_ENTRY, "__metadata__": {STRUCTURE: '{"__dict__": {"a": 1}}'}}, "a dict must be a list of"),
        ({"w": GOOD_ENTRY, "__metadata__": {STRUCTURE: '{"__dict__": [[1.5, 2]]}'}}, "str or int keys"),
        ({"w": GOOD_ENTRY, "__metadata__": {STRUCTURE: '{"__tensor__": "v"}'}}, "refers to missing tensor 'v'"),
        ({"w": GOOD_ENTRY, "__metadata__": {STRUCTURE: '{"__tuple__": 3}'}}, "a tuple must be a list"),
        ({"w": GOOD_ENTRY, "__metadata__": {STRUCTURE: '{"__float__": "1e999x"}'}}, "bad non-finite float"),
        ({"w": GOOD_ENTRY, "__metadata__": {STRUCTURE: '{"__pickle__": 1}'}}, "unknown node"),
    ],
)  # fmt: skip
def test_every_header_field_is_checked_before_loading(tmp_path, header, message):
    """A header with a field of the wrong type, range or consistency is refused, naming the field;
    nothing is half-loaded (load either returns everything or raises)."""
    path = tmp_path / "bad.safetensors"
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"\0" * 16)
    with pytest.raises(CheckpointError, match=message):
        tritongrad.load(path)


def test_loading_never_unpickles(tmp_path):
    """A pickle file is not a checkpoint: it is rejected, not executed."""
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(CheckpointError):
        tritongrad.load(path)


class _SavedNet(tritongrad.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = tritongrad.nn.Linear(3, 2)
        self.register_buffer("shift", tritongrad.ones(2))
        self.tags = {"a", "b"}

    def forward(self, x):
        return self.fc(x) + self.shift


def test_whole_modules_and_other_objects_load_only_with_weights_only_false(tmp_path):
    """torch.save(model) / torch.load(path, weights_only=False), as the tutorials do: the object is
    pickled with its tensors as named entries; the default weights_only=True refuses it (torch's
    UnpicklingError), since unpickling can run code."""
    import pickle

    net = _SavedNet()
    path = tmp_path / "model.pt"
    tritongrad.save(net, path)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        tritongrad.load(path)
    loaded = tritongrad.load(path, weights_only=False)
    assert type(loaded) is _SavedNet and loaded.tags == {"a", "b"}
    assert isinstance(loaded.fc.weight, tritongrad.nn.Parameter) and loaded.fc.weight.requires_grad
    x = tritongrad.randn(4, 3)
    assert loaded(x).tolist() == net(x).tolist()
    loaded(x).sum().backward()
    assert loaded.fc.weight.grad is not None and net.fc.weight.grad is None
    shared = tritongrad.ones(3)
    objects = {"set": {1, 2}, (1, 2): shared, "again": shared}
    tritongrad.save(objects, path)
    back = tritongrad.load(path, weights_only=False)
    assert back["set"] == {1, 2} and back[(1, 2)] is back["again"]


def _as_lists(value):
    if isinstance(value, dict):
        return {key: _as_lists(item) for key, item in value.items()}
    return value.tolist()


def _awkward_names_round_trip(lib, tmp_path):
    """Keys that collide as dotted paths or that the format uses itself, and nesting deeper than the
    skeleton's bound: saved and loaded back whole (they once saved but did not load)."""
    t, u = lib.ones(2), lib.zeros(3)
    base = lib.arange(4.0)
    deep = t
    for _ in range(150):
        deep = [deep]
    results = []
    for obj in (
        {"__metadata__": t, "x": u},
        {"w.__storage__": lib.tensor([9.0]), "v1": base[:2], "v2": base[2:]},
        {"a.b": t, "a": {"b": u}},
        {1: t, "1": u},
        {"": t, "tensor": u},
        deep,
    ):
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save(obj, path)
        loaded = lib.load(path, weights_only=False)
        depth = 0
        while isinstance(loaded, list):
            loaded, depth = loaded[0], depth + 1
        results.append((depth, _as_lists(loaded)))
    return results


def test_awkward_keys_and_deep_nesting_round_trip_as_torchs(tmp_path):
    assert _awkward_names_round_trip(tritongrad, tmp_path) == _awkward_names_round_trip(torch, tmp_path)


def test_an_empty_file_is_an_eof_error_and_a_missing_directory_a_runtime_error(tmp_path):
    import io

    with pytest.raises(EOFError):
        tritongrad.load(io.BytesIO(b""))
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist"):
        tritongrad.save({"a": tritongrad.ones(1)}, tmp_path / "missing" / "x.pt")


# ---------------------------------------------------------------------------------------------
# PyTorch's own files and pickle
# ---------------------------------------------------------------------------------------------


def _torch_model_state():
    generator = torch.Generator().manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    for parameter in model.parameters():
        parameter.data = torch.randn(parameter.shape, generator=generator)
    return model


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
def test_loads_a_checkpoint_pytorch_wrote(tmp_path, zipped):
    model = _torch_model_state()
    path = tmp_path / "pretrained.pth"
    checkpoint = {"epoch": 7, "model": model.state_dict(), "scale": torch.nn.Parameter(torch.tensor([0.5, 2.0]))}
    torch.save(checkpoint, path, _use_new_zipfile_serialization=zipped)
    loaded = tritongrad.load(path)
    assert loaded["epoch"] == 7 and type(loaded["model"]) is type(checkpoint["model"])
    assert isinstance(loaded["scale"], tritongrad.nn.Parameter) and loaded["scale"].requires_grad
    ours = tritongrad.nn.Sequential(tritongrad.nn.Linear(3, 4), tritongrad.nn.ReLU(), tritongrad.nn.Linear(4, 2))
    ours.load_state_dict(loaded["model"])
    x = torch.arange(6.0).reshape(2, 3) / 7
    assert_close(ours(from_torch(x)), model(x), what="a PyTorch state_dict loaded into the same model")


def test_tensors_and_modules_pickle_as_torchs():
    tensor = tritongrad.arange(4.0).requires_grad_()
    back = pickle.loads(pickle.dumps(tensor))
    assert back.requires_grad and back.is_leaf and back.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert pickle.loads(pickle.dumps(tensor * 2)).tolist() == [0.0, 2.0, 4.0, 6.0]  # (a leaf again, as torch's)
    half = pickle.loads(pickle.dumps(tritongrad.ones(2, dtype=tritongrad.bfloat16)))
    assert half.dtype == torch.bfloat16
    layer = tritongrad.nn.Linear(2, 3)
    copy = pickle.loads(pickle.dumps(layer))
    assert isinstance(copy.weight, tritongrad.nn.Parameter) and copy.weight.tolist() == layer.weight.tolist()
    x = tritongrad.ones(1, 2)
    assert copy(x).tolist() == layer(x).tolist()
