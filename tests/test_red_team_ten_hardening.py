"""The tenth red-team round's hardening findings (randomness, serialization, anomaly mode, optimizer
misuse: hardening2 #1-#4, #6-#18), each compared with torch on the same input: the value, or the
exception type and the head of its message (``agree``), or the two libraries run side by side."""

from __future__ import annotations

import copy
import io
import json
import pickle
import threading
import warnings

import pytest
import torch
import torch.utils.data as torch_data

import tritongrad
from tests.test_hardening import agree

LIBRARIES = {"torch": torch, "tritongrad": tritongrad}

# ----------------------------------------------------------------------------------------------
# #1: real torch's utils.data (what ``from torch.utils.data import ...`` binds after ``import
# tritongrad as torch``) takes a tritongrad Generator, and tritongrad.manual_seed seeds it
# ----------------------------------------------------------------------------------------------

TORCH_SAMPLERS = {
    "random_split": lambda g: [list(s.indices) for s in torch_data.random_split(range(10), [0.8, 0.2], generator=g)],
    "DataLoader shuffle": lambda g: [
        b.tolist() for b in torch_data.DataLoader(range(6), batch_size=3, shuffle=True, generator=g)
    ],
    "RandomSampler": lambda g: list(torch_data.RandomSampler(range(7), generator=g)),
    "RandomSampler replacement": lambda g: list(
        torch_data.RandomSampler(range(7), replacement=True, num_samples=5, generator=g)
    ),
    "SubsetRandomSampler": lambda g: list(torch_data.SubsetRandomSampler([3, 5, 8, 9], generator=g)),
    "WeightedRandomSampler": lambda g: list(torch_data.WeightedRandomSampler([0.1, 0.9, 0.5], 4, generator=g)),
}


@pytest.mark.parametrize("sampler", list(TORCH_SAMPLERS))
@pytest.mark.parametrize("seed", [0, 42])
def test_torch_samplers_take_a_tritongrad_generator(sampler, seed):
    draw = TORCH_SAMPLERS[sampler]
    expected = draw(torch.Generator().manual_seed(seed))
    assert draw(tritongrad.Generator().manual_seed(seed)) == expected
    # set_state of the state after manual_seed restarts the same torch stream
    generator = tritongrad.Generator().manual_seed(seed)
    state = generator.get_state()
    draw(generator)
    assert draw(generator.set_state(state)) == expected


@pytest.mark.parametrize("sampler", ["random_split", "DataLoader shuffle", "RandomSampler", "SubsetRandomSampler"])
def test_tritongrad_manual_seed_makes_torch_samplers_reproducible(sampler):
    draw = TORCH_SAMPLERS[sampler]
    torch.manual_seed(3)
    expected = draw(None)
    tritongrad.manual_seed(3)
    first = draw(None)
    tritongrad.manual_seed(3)
    assert draw(None) == first == expected


def test_fork_rng_restores_torch_default_generator_too():
    tritongrad.manual_seed(5)
    with tritongrad.random.fork_rng(devices=[]):
        torch.randperm(5)
    after = torch.randperm(5)
    torch.manual_seed(5)
    assert torch.equal(after, torch.randperm(5))


@pytest.mark.parametrize("copier", ["deepcopy", "pickle", "clone_state"])
def test_generator_copies_carry_both_streams(copier):
    generator = tritongrad.Generator().manual_seed(7)
    tritongrad.rand(3, generator=generator)
    torch.randperm(4, generator=generator)
    copied = {
        "deepcopy": copy.deepcopy,
        "pickle": lambda g: pickle.loads(pickle.dumps(g)),
        "clone_state": lambda g: g.clone_state(),
    }[copier](generator)
    assert type(copied) is tritongrad.Generator and copied.device == generator.device
    assert tritongrad.equal(tritongrad.rand(3, generator=copied), tritongrad.rand(3, generator=generator))
    assert torch.equal(torch.randperm(6, generator=copied), torch.randperm(6, generator=generator))


def test_tritongrad_samplers_still_refuse_a_torch_generator():
    assert isinstance(tritongrad.Generator(), torch.Generator)
    with pytest.raises(TypeError, match="tritongrad.Generator"):
        tritongrad.rand(2, generator=torch.Generator())


# ----------------------------------------------------------------------------------------------
# #2-#4, #11-#13: save/load
# ----------------------------------------------------------------------------------------------


def _round_trip(lib, obj, **load_arguments):
    buffer = io.BytesIO()
    lib.save(obj, buffer)
    buffer.seek(0)
    return lib.load(buffer, **load_arguments)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 3), (3, 0)])
def test_zero_size_tensors_reload_with_contiguous_strides(shape):
    agree(f"zeros{shape}", lambda lib: _round_trip(lib, lib.zeros(shape)).stride(), [])


def test_zero_size_weight_of_a_state_dict_reloads_with_contiguous_strides():
    agree("Linear(0, 3)", lambda lib: _round_trip(lib, lib.nn.Linear(0, 3).state_dict())["weight"].stride(), [])


@pytest.mark.parametrize("legacy", [False, True])
def test_torch_file_keeps_object_identity(legacy):
    x = torch.arange(5.0)
    buffer = io.BytesIO()
    torch.save(
        {"a": x, "b": x[1:], "c": x, "list": [x, x], "p": torch.nn.Parameter(torch.ones(2))},
        buffer,
        _use_new_zipfile_serialization=not legacy,
    )
    for lib in LIBRARIES.values():
        buffer.seek(0)
        loaded = lib.load(buffer)
        assert loaded["a"] is loaded["c"] is loaded["list"][0] is loaded["list"][1]
        loaded["a"][1] = 9.0
        assert loaded["b"][0].item() == 9.0


MAP_LOCATIONS = {
    "records its calls": lambda calls: lambda storage, location: calls.append((type(storage).__name__, location)),
    "returns the storage": lambda calls: lambda storage, location: storage,
    "returns 'cpu'": lambda calls: lambda storage, location: "cpu",
    "returns a tensor": lambda calls: lambda storage, location: torch.ones(1),
    "cpu:0": lambda calls: "cpu:0",
    "CPU": lambda calls: "CPU",
    "xyz": lambda calls: "xyz",
    "device cpu:0": lambda calls: torch.device("cpu", 0),
    "dict of a device": lambda calls: {"cpu": torch.device("cpu")},
    "dict of an int": lambda calls: {"cpu": 5},
    "dict cpu to meta": lambda calls: {"cpu": "meta"},
    "dict of another key": lambda calls: {"cuda:0": "cpu"},
    "an int": lambda calls: 5,
}


@pytest.mark.parametrize("map_location", list(MAP_LOCATIONS))
@pytest.mark.parametrize("writer", ["own", "torch"])
def test_map_location_as_torch_reads_it(map_location, writer):
    def run(lib):
        calls = []
        buffer = io.BytesIO()
        (lib if writer == "own" else torch).save({"x": (lib if writer == "own" else torch).arange(3.0)}, buffer)
        buffer.seek(0)
        loaded = lib.load(buffer, map_location=MAP_LOCATIONS[map_location](calls))
        return calls, loaded["x"].device.type, loaded["x"] if loaded["x"].device.type != "meta" else None

    agree(map_location, run, [])


def test_empty_checkpoint_needs_no_restorable_location():
    agree("{} to xyz", lambda lib: _round_trip(lib, {}, map_location="xyz"), [])


def test_mmap_of_a_legacy_torch_file_is_refused(tmp_path):
    path = tmp_path / "legacy.pt"
    torch.save({"a": torch.ones(2)}, path, _use_new_zipfile_serialization=False)
    agree("legacy mmap", lambda lib: lib.load(str(path), mmap=True), [])


@pytest.mark.parametrize(
    "storage",
    ["untyped", "untyped of a slice", "typed float32", "in a dict", "float64 untyped"],
)
def test_storages_round_trip_as_typed_storages(storage):
    def run(lib):
        make = {
            "untyped": lambda: lib.ones(2).untyped_storage(),
            "untyped of a slice": lambda: lib.arange(4.0)[1:].untyped_storage(),
            "typed float32": lambda: lib.arange(3.0).storage(),
            "in a dict": lambda: {"s": lib.ones(2).untyped_storage(), "n": 3},
            "float64 untyped": lambda: lib.ones(2, dtype=lib.float64).untyped_storage(),
        }[storage]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (TypedStorage is deprecated)
            loaded = _round_trip(lib, make())
            typed = loaded["s"] if isinstance(loaded, dict) else loaded
            return type(typed).__name__, str(typed.dtype), typed.tolist()

    agree(storage, run, [])


LOAD_ARGUMENTS = {
    "unknown keyword": {"foo": 1},
    "unknown keyword, weights_only=False": {"foo": 1, "weights_only": False},
    "encoding": {"encoding": "latin1"},
    "encoding, weights_only=False": {"encoding": "latin1", "weights_only": False},
}


@pytest.mark.parametrize("arguments", list(LOAD_ARGUMENTS))
def test_load_checks_pickle_arguments_as_torch(arguments):
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = _round_trip(lib, lib.ones(2), **LOAD_ARGUMENTS[arguments])
            except TypeError as error:
                result = f"TypeError: {error}"
        return result, [str(w.message) for w in caught if "pickle_load_args" in str(w.message)]

    agree(arguments, run, [])


def test_save_refuses_a_pickle_module_without_a_pickler():
    agree("pickle_module=json", lambda lib: lib.save(lib.ones(1), io.BytesIO(), pickle_module=json), [])


# ----------------------------------------------------------------------------------------------
# #6: anomaly mode is process-wide
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("switch", ["detect_anomaly", "set_detect_anomaly"])
def test_anomaly_mode_is_seen_by_other_threads(switch):
    def run(lib):
        seen = {}

        def worker():
            seen["enabled"] = lib.is_anomaly_enabled()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            manager = (
                lib.autograd.detect_anomaly() if switch == "detect_anomaly" else lib.autograd.set_detect_anomaly(True)
            )
        with manager:
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
        return seen["enabled"], lib.is_anomaly_enabled()

    agree(switch, run, [])


# ----------------------------------------------------------------------------------------------
# #7, #16-#18: random_/randperm/uniform_ argument checks
# ----------------------------------------------------------------------------------------------

RANDOM_CALLS = {
    "int64 random_(0, 2**63)": lambda lib: lib.zeros(3, dtype=lib.int64).random_(0, 2**63),
    "float random_(2**63)": lambda lib: lib.zeros(2).random_(2**63),
    "random_(to=2**63)": lambda lib: lib.zeros(2).random_(to=2**63),
    "random_(-2**63-1, 0)": lambda lib: lib.zeros(2, dtype=lib.int64).random_(-(2**63) - 1, 0),
    "random_(-2**63-1, None)": lambda lib: lib.zeros(2).random_(-(2**63) - 1, None),
    "random_(0, 2**200)": lambda lib: lib.zeros(2).random_(0, 2**200),
    "randperm(2**63)": lambda lib: lib.randperm(2**63),
    "randperm(-2**63-1)": lambda lib: lib.randperm(-(2**63) - 1),
    "complex64 random_()": lambda lib: lib.zeros(3, dtype=lib.complex64).random_(),
    "complex128 random_()": lambda lib: lib.zeros(3, dtype=lib.complex128).random_(),
    "complex64 random_(5)": lambda lib: lib.zeros(3, dtype=lib.complex64).random_(5),
    "complex128 random_(1, 5)": lambda lib: lib.zeros(3, dtype=lib.complex128).random_(1, 5),
    "uniform_(a=0.)": lambda lib: lib.empty(3).uniform_(a=0.0),
    "uniform_(a=0., b=1.)": lambda lib: lib.empty(3).uniform_(a=0.0, b=1.0),
    "uniform_(0., 1., 2.)": lambda lib: lib.empty(3).uniform_(0.0, 1.0, 2.0),
    "uniform_(0., from=1.)": lambda lib: lib.empty(3).uniform_(0.0, **{"from": 1.0}),
    "uniform_(2., to=3.) bounds": lambda lib: bool(
        ((lib.empty(50).uniform_(2.0, **{"to": 3.0}) - 2.5).abs() <= 0.5).all()
    ),
    "uniform_(from=-1., to=0.) bounds": lambda lib: bool(
        (lib.empty(50).uniform_(**{"from": -1.0, "to": 0.0}) <= 0).all()
    ),
    "randperm(layout=strided)": lambda lib: tuple(lib.randperm(3, layout=lib.strided).shape),
    "randperm(layout=None)": lambda lib: sorted(lib.randperm(4, layout=None).tolist()),
}


@pytest.mark.parametrize("call", list(RANDOM_CALLS))
def test_random_argument_checks(call):
    agree(call, RANDOM_CALLS[call], [])


# ----------------------------------------------------------------------------------------------
# #8-#10, #14, #15: optimizers
# ----------------------------------------------------------------------------------------------

OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adamax", "NAdam", "RAdam", "Adadelta", "ASGD", "Rprop"]
FLAGS = {
    "differentiable": {"differentiable": True},
    "capturable": {"capturable": True},
    "fused": {"fused": True},
    "fused differentiable": {"fused": True, "differentiable": True},
}


def _step(lib, name: str, flags: dict, parameter: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if parameter == "leaf Parameter":
            param = lib.nn.Parameter(lib.ones(2))
        elif parameter == "plain tensor":
            param = lib.ones(2)
        else:
            param = lib.ones(2, requires_grad=True).clone()
        optimizer = getattr(lib.optim, name)([param], lr=0.1, **flags)
        param.grad = lib.tensor([1.0, -2.0])
        optimizer.step()
        return param.detach(), {key: optimizer.defaults.get(key) for key in flags}


@pytest.mark.parametrize("flag", list(FLAGS))
@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("parameter", ["leaf Parameter", "plain tensor"])
def test_optimizer_flags_as_torch(flag, name, parameter):
    if flag == "capturable" and name in ("Adam", "AdamW"):
        pytest.skip("tritongrad's Adam/AdamW step capturable groups on the CPU (README)")
    agree(f"{name} {flag}", lambda lib: _step(lib, name, FLAGS[flag], parameter), [])


SGD_SETTINGS = {
    "plain": {},
    "momentum": {"momentum": 0.9},
    "nesterov, weight decay": {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    "maximize, dampening": {"maximize": True, "momentum": 0.5, "dampening": 0.25},
}


@pytest.mark.parametrize("settings", list(SGD_SETTINGS))
def test_differentiable_sgd_records_the_step(settings):
    def run(lib):
        weights = lib.tensor([1.0, 2.0], requires_grad=True)
        fast = weights.clone()
        optimizer = lib.optim.SGD([fast], lr=0.1, differentiable=True, **SGD_SETTINGS[settings])
        for step in range(2):
            fast.grad = lib.tensor([0.5, -1.0]) * (fast * fast).detach() if step else lib.tensor([0.5, -1.0])
            optimizer.step()
        (fast * fast).sum().backward()
        return fast.detach(), weights.grad, type(fast.grad_fn).__name__

    agree(settings, run, [])


def test_differentiable_adam_of_a_non_leaf_is_refused_as_not_implemented():
    fast = tritongrad.ones(2, requires_grad=True).clone()
    optimizer = tritongrad.optim.Adam([fast], differentiable=True)
    fast.grad = tritongrad.ones(2)
    with pytest.raises(NotImplementedError, match="differentiable"):
        optimizer.step()


def test_load_state_dict_keeps_entries_of_no_parameter():
    def run(lib):
        param = lib.nn.Parameter(lib.ones(2))
        optimizer = lib.optim.Adam([param])
        param.grad = lib.ones(2)
        optimizer.step()
        state_dict = optimizer.state_dict()
        state_dict["state"][5] = state_dict["state"][0]
        optimizer.load_state_dict(state_dict)
        return len(optimizer.state), sorted(optimizer.state[5]), optimizer.state[5]["exp_avg"]

    agree("extra state entry", run, [])


MISUSES = {
    "Adam betas=(0.9,)": lambda lib, p: lib.optim.Adam([p], betas=(0.9,)),
    "AdamW betas=(0.9,)": lambda lib, p: lib.optim.AdamW([p], betas=(0.9,)),
    "Adamax betas=(0.9,)": lambda lib, p: lib.optim.Adamax([p], betas=(0.9,)),
    "NAdam betas=(0.9,)": lambda lib, p: lib.optim.NAdam([p], betas=(0.9,)),
    "RAdam betas=(0.9,)": lambda lib, p: lib.optim.RAdam([p], betas=(0.9,)),
    "Adam betas of three": lambda lib, p: lib.optim.Adam([p], betas=(0.9, 0.99, 0.5)).defaults["betas"],
    "load_state_dict([])": lambda lib, p: lib.optim.Adam([p]).load_state_dict([]),
    "load_state_dict(())": lambda lib, p: lib.optim.SGD([p]).load_state_dict(()),
}


@pytest.mark.parametrize("misuse", list(MISUSES))
def test_optimizer_misuse_exception_types(misuse):
    agree(misuse, lambda lib: MISUSES[misuse](lib, lib.nn.Parameter(lib.ones(2))), [])


def test_generator_state_round_trip_keeps_torchs_sampler_stream():
    """set_state(get_state()) changes nothing, for tritongrad's draws and for torch's own samplers given the
    generator (its torch base's state travels in the state tensor); a 16-byte Philox-only state restarts
    the base from it."""
    generator = tritongrad.Generator().manual_seed(3)
    torch.randperm(6, generator=generator)
    state = generator.get_state()
    after = torch.randperm(6, generator=generator).tolist(), tritongrad.rand(3, generator=generator).tolist()
    generator.set_state(state)
    again = torch.randperm(6, generator=generator).tolist(), tritongrad.rand(3, generator=generator).tolist()
    assert again == after
    generator.set_state(generator.get_state())
    assert torch.randperm(6, generator=generator).tolist() != after[0]  # (the stream went on)
    generator.set_state(state[:16])
    assert len(torch.randperm(6, generator=generator).tolist()) == 6
