"""tritongrad.save/load against torch.save/torch.load (2.13): what a round trip gives back (None,
OrderedDict with a state dict's _metadata, torch.Size, dtypes, devices, sets, bytes, tuple keys,
complex numbers, Counter) under the default weights_only=True, torch.save's format arguments, mmap,
and the errors (CUDA without CUDA, garbage bytes, a directory, a class outside torch's allowlist);
files crossing between the two libraries keep those types."""

from __future__ import annotations

import collections
import io
import pickle

import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tritongrad.serialization import CheckpointError


def _describe(value):
    """A comparable picture of a loaded object: every container's exact type, tensors as values."""
    if isinstance(value, (torch.Tensor, tritongrad.Tensor)):
        return ("tensor", type(value).__name__.replace("Parameter", "P"), str(value.dtype), value.tolist())
    if isinstance(value, dict):
        items = [(_describe(key), _describe(item)) for key, item in value.items()]
        return (type(value).__name__, items, _describe(getattr(value, "_metadata", None)))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_describe(item) for item in value])
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, sorted(value, key=repr))
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def _with_metadata(pairs, metadata):
    ordered = collections.OrderedDict(pairs)
    ordered._metadata = metadata
    return ordered


OBJECTS = {
    "None": lambda lib: None,
    "an OrderedDict": lambda lib: collections.OrderedDict([("b", 1), ("a", lib.ones(2))]),
    "an OrderedDict with _metadata": lambda lib: _with_metadata(
        [("w", lib.arange(3.0))], collections.OrderedDict([("", {"version": 2}), ("fc", {"version": 1})])
    ),
    "torch.Size": lambda lib: lib.Size([2, 3]),
    "dtypes": lambda lib: [lib.float32, lib.bfloat16, lib.int64, lib.bool, torch.complex64, lib.uint8],
    "devices": lambda lib: {"cpu": lib.device("cpu"), "cuda1": lib.device("cuda", 1)},
    "a set and bytes": lambda lib: {"set": {3, 1, 2}, "bytes": b"\x00\xffab", "bytearray": bytearray(b"xy")},
    "a dict with tuple keys": lambda lib: {(1, "a"): lib.ones(1), (2, "b"): 2.5},
    "complex, floats, ints, strings, bools, None": lambda lib: [
        1 + 2j,
        float("nan"),
        -float("inf"),
        7,
        "s",
        True,
        None,
    ],
    "nested tuples and lists": lambda lib: ((1, [2, (3,)]), [lib.zeros(2), (lib.ones(1),)]),
    "a Counter": lambda lib: {"milestones": collections.Counter([2, 2, 5])},
    "a Parameter beside a Size": lambda lib: {"p": lib.nn.Parameter(lib.ones(2)), "shape": lib.Size([2])},
}


def _round_trip(lib, obj, **save_arguments):
    buffer = io.BytesIO()
    lib.save(obj, buffer, **save_arguments)
    buffer.seek(0)
    return lib.load(buffer)


@pytest.mark.parametrize("name", list(OBJECTS))
def test_weights_only_round_trips_give_back_what_torchs_do(name):
    ours = _round_trip(tritongrad, OBJECTS[name](tritongrad))
    theirs = _round_trip(torch, OBJECTS[name](torch))
    assert _describe(ours) == _describe(theirs), name


@pytest.mark.parametrize("name", ["an OrderedDict with _metadata", "torch.Size", "a Counter", "dtypes"])
def test_files_crossing_from_torch_keep_their_types(name):
    buffer = io.BytesIO()
    torch.save(OBJECTS[name](torch), buffer)
    buffer.seek(0)
    assert _describe(tritongrad.load(buffer)) == _describe(_round_trip(torch, OBJECTS[name](torch)))


@pytest.mark.parametrize(
    "arguments",
    [
        {"_use_new_zipfile_serialization": False},
        {"pickle_protocol": 4},
        {"pickle_module": pickle, "pickle_protocol": 2},
        {"_disable_byteorder_record": True},
    ],
    ids=lambda arguments: ",".join(arguments),
)
def test_torch_saves_format_arguments_are_accepted(arguments):
    """They choose among torch's formats; tritongrad writes its own, which loads whatever they say."""
    for name in ("a Parameter beside a Size", "an OrderedDict"):
        ours = _round_trip(tritongrad, OBJECTS[name](tritongrad), **arguments)
        assert _describe(ours) == _describe(_round_trip(torch, OBJECTS[name](torch))), name


def test_mmap_loads_a_path_and_refuses_a_file_object_as_torch(tmp_path):
    for lib in (tritongrad, torch):
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save({"w": lib.arange(5.0), "n": 3}, path)
        loaded = lib.load(path, mmap=True)
        assert loaded["w"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0] and loaded["n"] == 3
    with open(tmp_path / "tritongrad.pt", "rb") as handle, pytest.raises(ValueError, match="must be a file path"):
        tritongrad.load(handle, mmap=True)


def _model(lib):
    generator = torch.Generator().manual_seed(5)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Sequential(lib.nn.Linear(4, 2)))
    for parameter in model.parameters():
        values = torch.rand(parameter.shape, generator=generator) + 0.5
        with lib.no_grad():
            parameter.copy_(lib.tensor(values.tolist()))
    return model


def test_state_dict_metadata_is_torchs_and_survives_a_round_trip():
    ours, theirs = _model(tritongrad).state_dict(), _model(torch).state_dict()
    assert ours._metadata == theirs._metadata
    assert _describe(_round_trip(tritongrad, ours)) == _describe(_round_trip(torch, theirs))


def test_a_state_dict_crosses_both_ways_with_its_metadata():
    """torch's file loads into tritongrad with _metadata; tritongrad's state dict (tensors handed
    over as torch tensors) loads into torch's model, where the versions decide what is missing."""
    buffer = io.BytesIO()
    torch.save(_model(torch).state_dict(), buffer)
    buffer.seek(0)
    loaded = tritongrad.load(buffer)
    assert loaded._metadata == _model(torch).state_dict()._metadata
    target = _model(tritongrad)
    target.load_state_dict(loaded)
    ours = target.state_dict()
    handed = collections.OrderedDict(
        (key, torch.tensor(value.tolist(), dtype=value.dtype)) for key, value in ours.items()
    )
    handed._metadata = ours._metadata
    reference = _model(torch)
    reference.load_state_dict(handed)
    x = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]
    target.eval(), reference.eval()
    got, expected = target(tritongrad.tensor(x)).tolist(), reference(torch.tensor(x)).tolist()
    assert sum(got, []) == pytest.approx(sum(expected, []), rel=1e-5), (got, expected)


def _without_tracked_count(lib):
    """A BatchNorm state dict lacking num_batches_tracked: an old checkpoint (no metadata) loads, one
    whose metadata says version 2 is missing a key."""
    source = lib.nn.BatchNorm1d(3)
    state = source.state_dict()
    del state["num_batches_tracked"]
    outcomes = [lib.nn.BatchNorm1d(3).load_state_dict(collections.OrderedDict(state.items())).missing_keys]
    try:
        lib.nn.BatchNorm1d(3).load_state_dict(state)
        outcomes.append(None)
    except RuntimeError as error:
        outcomes.append(str(error).splitlines()[1].strip())
    return outcomes


def test_the_saved_version_decides_like_torchs():
    assert _without_tracked_count(tritongrad) == _without_tracked_count(torch)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def _saved(lib, obj) -> io.BytesIO:
    buffer = io.BytesIO()
    lib.save(obj, buffer)
    buffer.seek(0)
    return buffer


class _Point:
    def __init__(self, x: int) -> None:
        self.x = x


ERRORS = {
    "garbage bytes": lambda lib, d: lib.load(io.BytesIO(b"garbage bytes, no checkpoint")),
    "zeros": lambda lib, d: lib.load(io.BytesIO(b"\x00" * 40)),
    "saving to a directory": lambda lib, d: lib.save({"a": lib.ones(1)}, d),
    "a class outside the allowlist": lambda lib, d: lib.load(_saved(lib, {"p": _Point(1)})),
    "weights_only with a pickle_module": lambda lib, d: lib.load(
        _saved(lib, 1), pickle_module=pickle, weights_only=True
    ),
    "mapping no tensors to CUDA": lambda lib, d: lib.load(_saved(lib, {"a": [1, 2]}), map_location="cuda"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_are_torchs(name, tmp_path):
    agree(name, lambda lib: ERRORS[name](lib, tmp_path), [], message=False)


def test_a_tritongrad_file_of_garbage_is_a_checkpoint_error_and_an_unpickling_error():
    with pytest.raises(CheckpointError) as raised:
        tritongrad.load(io.BytesIO(b"garbage bytes, no checkpoint"))
    assert isinstance(raised.value, pickle.UnpicklingError) and isinstance(raised.value, RuntimeError)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("location", ["cuda", "cuda:0", {"cpu": "cuda"}])
def test_tensors_mapped_to_cuda_without_cuda_is_torchs_runtime_error(location):
    messages = []
    for lib in (torch, tritongrad):
        with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device") as raised:
            lib.load(_saved(lib, {"w": lib.ones(2)}), map_location=location)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]


def test_an_arbitrary_class_is_refused_by_default_and_allowed_as_torch_allows_it():
    """The default load refuses a class it was not told about, naming it; torch's safe_globals
    (the weights-only unpickler's allowlist, which tritongrad uses) lets it in; weights_only=False
    loads anything (a trusted file)."""
    for lib in (tritongrad, torch):
        with pytest.raises(pickle.UnpicklingError, match="(?s)Weights only load failed.*_Point"):
            lib.load(_saved(lib, {"p": _Point(3), "w": lib.ones(1)}))
        with torch.serialization.safe_globals([_Point]):
            loaded = lib.load(_saved(lib, {"p": _Point(3), "w": lib.ones(1)}))
        assert loaded["p"].x == 3 and loaded["w"].tolist() == [1.0]
        assert lib.load(_saved(lib, _Point(4)), weights_only=False).x == 4
        assert lib.load(_saved(lib, _Point(5)), pickle_module=pickle).x == 5  # (no weights_only: False)
