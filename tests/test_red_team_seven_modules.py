"""The seventh red-team round's modules findings (state-dict protocol, optimizers, containers, Module
API, checkpoints' errors), each compared with torch by ``agree``: the value, or the exception type and
the head of its message."""

from __future__ import annotations

import io
import warnings
from collections import OrderedDict

import pytest
import torch

import tritongrad
from tests.test_hardening import agree

# ---------------------------------------------------------------------------------------------- state dicts


def _renaming_module(lib):
    """A module whose _load_from_state_dict maps an old checkpoint's key to its parameter's."""

    class Renaming(lib.nn.Module):
        _version = 3

        def __init__(self):
            super().__init__()
            self.w = lib.nn.Parameter(lib.zeros(2))
            self.seen_versions = []

        def _load_from_state_dict(self, sd, prefix, local_metadata, strict, missing, unexpected, errors):
            self.seen_versions.append(local_metadata.get("version"))
            if prefix + "old_w" in sd:
                sd[prefix + "w"] = sd.pop(prefix + "old_w")
            super()._load_from_state_dict(sd, prefix, local_metadata, strict, missing, unexpected, errors)

    return Renaming()


def _load_renamed(lib):
    model = lib.nn.Sequential(_renaming_module(lib))
    result = model.load_state_dict({"0.old_w": lib.ones(2)})
    return repr(result), model[0].w.detach()


def _load_versioned(lib):
    model = lib.nn.Sequential(_renaming_module(lib))
    saved = model.state_dict()
    model.load_state_dict(saved)
    model.load_state_dict(dict(saved))  # (no _metadata: no version)
    return model[0].seen_versions


def _extra_saving(lib):
    class Extra(lib.nn.Linear):
        def _save_to_state_dict(self, destination, prefix, keep_vars):
            super()._save_to_state_dict(destination, prefix, keep_vars)
            destination[prefix + "extra"] = lib.ones(1)

    return list(lib.nn.Sequential(Extra(1, 1)).state_dict())


def _child_state_dict_override(lib):
    class Custom(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = lib.nn.Parameter(lib.zeros(2))

        def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
            destination = {} if destination is None else destination
            destination[prefix + "custom"] = lib.ones(1)
            return destination

    return list(lib.nn.Sequential(Custom()).state_dict())


def _extra_state_module(lib):
    class WithExtra(lib.nn.Linear):
        def get_extra_state(self):
            return {"calls": 5}

        def set_extra_state(self, state):
            self.loaded = state

    return lib.nn.Sequential(WithExtra(1, 1))


def _extra_state_round_trip(lib):
    model = _extra_state_module(lib)
    saved = model.state_dict()
    model.load_state_dict(saved)
    return list(saved), model[0].loaded


def _buffer_module(lib, value):
    module = lib.nn.Module()
    module.register_buffer("a", value)
    return module


def _one_element_into_0d(lib):
    module = _buffer_module(lib, lib.tensor(1.0))
    module.p = lib.nn.Parameter(lib.tensor(0.0))
    result = module.load_state_dict({"a": lib.tensor([5.0]), "p": lib.tensor([2.0])})
    return repr(result), module.a, module.p.detach()


STATE_DICTS = {
    "_load_from_state_dict override renames a key": _load_renamed,
    "local_metadata carries _version": _load_versioned,
    "_save_to_state_dict override adds an entry": _extra_saving,
    "a child's state_dict override is called with keywords": _child_state_dict_override,
    "get/set_extra_state round trip": _extra_state_round_trip,
    "a missing _extra_state is a missing key": lambda lib: _extra_state_module(lib).load_state_dict({}),
    "_extra_state of a module without set_extra_state is unexpected": lambda lib: lib.nn.Module().load_state_dict(
        {"_extra_state": 5}
    ),
    "a 1-element 1-D tensor loads into a 0-d buffer and parameter": _one_element_into_0d,
    "a 2-element tensor into a 0-d buffer is a size mismatch": lambda lib: _buffer_module(
        lib, lib.tensor(1.0)
    ).load_state_dict({"a": lib.tensor([5.0, 6.0])}),
    "a non-tensor value": lambda lib: _buffer_module(lib, lib.tensor(1.0)).load_state_dict({"a": 3}),
    "strict=False returns the keys": lambda lib: repr(
        _extra_state_module(lib).load_state_dict({"0.weight": lib.ones(1, 1), "zz": lib.ones(1)}, strict=False)
    ),
}


@pytest.mark.parametrize("case", list(STATE_DICTS))
def test_state_dict_protocol_as_torch(case):
    agree(case, STATE_DICTS[case], [])


def test_positional_state_dict_arguments_warn_as_torch():
    for lib in (torch, tritongrad):
        with pytest.warns(FutureWarning, match="Positional args are being deprecated"):
            keys = list(lib.nn.Linear(1, 1).state_dict(None, "p."))
        assert keys == ["p.weight", "p.bias"]


# ---------------------------------------------------------------------------------------------- optimizers


def _two_steps(lib, name, **options):
    weight = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
    optimizer = getattr(lib.optim, name)([weight], **options)
    for _ in range(2):
        weight.grad = lib.tensor([1.0, -0.5])
        optimizer.step()
    return weight.detach()


def _rmsprop_state(lib):
    weight = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
    optimizer = lib.optim.RMSprop([weight], lr=0.1, momentum=0.5, centered=True)
    weight.grad = lib.ones(2)
    optimizer.step()
    saved = optimizer.state_dict()
    optimizer.load_state_dict(saved)
    step = optimizer.state[weight]["step"]
    return step, step.dtype, saved["state"][0]["step"]


def _custom_optimizer_step(lib):
    class Custom(lib.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {})

    return Custom([lib.nn.Parameter(lib.ones(2))]).step()


def _sgd_group_without_momentum(lib):
    weight = lib.nn.Parameter(lib.ones(2))
    optimizer = lib.optim.SGD([weight], lr=0.1)
    saved = optimizer.state_dict()
    del saved["param_groups"][0]["momentum"]
    optimizer.load_state_dict(saved)
    weight.grad = lib.ones(2)
    return optimizer.step()


def _adam(lib, **options):
    return lib.optim.Adam([lib.nn.Parameter(lib.ones(2))], **options).param_groups[0]["betas"]


OPTIMIZERS = {
    "SGD tensor momentum and weight_decay": lambda lib: _two_steps(
        lib, "SGD", lr=0.1, momentum=lib.tensor(0.9), weight_decay=lib.tensor(0.1)
    ),
    "SGD tensor momentum, nesterov": lambda lib: _two_steps(
        lib, "SGD", lr=0.1, momentum=lib.tensor(0.9), nesterov=True
    ),
    "RMSprop tensor momentum": lambda lib: _two_steps(lib, "RMSprop", lr=0.01, momentum=lib.tensor(0.5)),
    "Adam tensor betas": lambda lib: _two_steps(lib, "Adam", lr=0.1, betas=(lib.tensor(0.8), lib.tensor(0.9))),
    "Adam three betas": lambda lib: _adam(lib, betas=(0.9, 0.99, 0.5)),
    "Adam a beta out of range before the types": lambda lib: _adam(lib, betas=(0.9, 1)),
    "Adam mixed betas": lambda lib: _adam(lib, betas=(lib.tensor(0.9), 0.99)),
    "Adam tensor lr with foreach": lambda lib: _adam(lib, lr=lib.tensor(0.01), foreach=True),
    "Adam 2-element tensor lr": lambda lib: _adam(lib, lr=lib.tensor([0.1, 0.2])),
    "SGD 2-element tensor lr": lambda lib: lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=lib.tensor([0.1, 0.2])),
    "RMSprop 2-element tensor lr": lambda lib: lib.optim.RMSprop(
        [lib.nn.Parameter(lib.ones(2))], lr=lib.tensor([0.1, 0.2])
    ),
    "RMSprop step is a float32 tensor": _rmsprop_state,
    "the base class's step": _custom_optimizer_step,
    "a loaded SGD group without momentum": _sgd_group_without_momentum,
}


@pytest.mark.parametrize("case", list(OPTIMIZERS))
def test_optimizers_as_torch(case):
    agree(case, OPTIMIZERS[case], [])


# ---------------------------------------------------------------------------------------------- containers


def _parameter_dict(lib):
    return lib.nn.ParameterDict({"b": lib.ones(1), "a": lib.ones(2)})


def _dict_methods(lib):
    params = _parameter_dict(lib)
    default = params.setdefault("c", lib.zeros(1))
    popped = params.popitem()
    merged = params | {"z": lib.ones(1)}
    plain = {"y": lib.ones(1)} | params
    params |= OrderedDict([("q", lib.ones(1)), ("p", lib.ones(1))])
    return (
        default, popped[0], params.get("a"), params.get("zz", 3), list(params.fromkeys(["x", "y"])),
        list(params.copy()), list(merged), type(plain).__name__, sorted(plain), list(params),
    )  # fmt: skip


def _module_list_insert(lib, index):
    layers = lib.nn.ModuleList([lib.nn.ReLU(), lib.nn.Tanh()])
    layers.insert(index, lib.nn.Sigmoid())
    return list(layers._modules), [type(m).__name__ for m in layers._modules.values()]


def _sequential_product(lib, build):
    sequential = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh())
    result = build(sequential)
    return [type(m).__name__ for m in result], list(result._modules)


def _imul(sequential, factor):
    sequential *= factor
    return sequential


CONTAINERS = {
    "ParameterDict from a plain dict sorts its keys": lambda lib: list(_parameter_dict(lib)),
    "... and so does its state dict": lambda lib: list(lib.nn.Sequential(_parameter_dict(lib)).state_dict()),
    "ParameterDict from an OrderedDict keeps its order": lambda lib: list(
        lib.nn.ParameterDict(OrderedDict([("b", lib.ones(1)), ("a", lib.ones(1))]))
    ),
    "ParameterDict from pairs keeps their order": lambda lib: list(
        lib.nn.ParameterDict([("b", lib.ones(1)), ("a", lib.ones(1))])
    ),
    "ParameterDict refuses a dotted key": lambda lib: lib.nn.ParameterDict().__setitem__("a.b", lib.ones(1)),
    "ParameterDict keeps a dotted key of a plain value": lambda lib: lib.nn.ParameterDict({"a.b": 3})["a.b"],
    "ParameterDict non-string key": lambda lib: _parameter_dict(lib)[0],
    "reversed(ParameterDict)": lambda lib: list(reversed(_parameter_dict(lib))),
    "ParameterDict dict methods": _dict_methods,
    "ParameterDict update with a non-pair": lambda lib: lib.nn.ParameterDict().update([3]),
    "ParameterDict update with a triple": lambda lib: lib.nn.ParameterDict().update([(1, 2, 3)]),
    "ParameterDict called": lambda lib: lib.nn.ParameterDict()(),
    "ParameterList called": lambda lib: lib.nn.ParameterList()(1),
    "repr of a ParameterList with a plain value": lambda lib: repr(lib.nn.ParameterList([lib.ones(1), 5])),
    "repr of a ParameterDict with a plain value": lambda lib: repr(lib.nn.ParameterDict({"a": lib.ones(1), "b": 3})),
    "ModuleDict update with a non-pair": lambda lib: lib.nn.ModuleDict().update([3]),
    "ModuleDict update with a non-iterable": lambda lib: lib.nn.ModuleDict().update(3),
    "ModuleList insert(1)": lambda lib: _module_list_insert(lib, 1),
    "ModuleList insert past the end": lambda lib: _module_list_insert(lib, 10),
    "ModuleList insert(-1)": lambda lib: _module_list_insert(lib, -1),
    "ModuleList pop needs a key": lambda lib: lib.nn.ModuleList([lib.nn.ReLU()]).pop(),
    "Sequential pop": lambda lib: _sequential_product(lib, lambda s: (s.pop(0), s)[1]),
    "Sequential * 2": lambda lib: _sequential_product(lib, lambda s: s * 2),
    "2 * Sequential": lambda lib: _sequential_product(lib, lambda s: 2 * s),
    "Sequential *= 3": lambda lib: _sequential_product(lib, lambda s: _imul(s, 3)),
    "Sequential += Sequential": lambda lib: _sequential_product(lib, lambda s: s.__iadd__(lib.nn.Sequential(s[0]))),
    "digits are not in dir(Sequential)": lambda lib: "0" in dir(lib.nn.Sequential(lib.nn.ReLU())),
}


@pytest.mark.parametrize("case", list(CONTAINERS))
def test_containers_as_torch(case):
    agree(case, CONTAINERS[case], [])


@pytest.mark.parametrize("factor", [0, -1])
def test_non_positive_sequential_factor_is_a_value_error(factor):
    for lib in (torch, tritongrad):
        with pytest.raises(ValueError, match=f"Non-positive multiplication factor {factor} for"):
            lib.nn.Sequential(lib.nn.ReLU()) * factor


# ---------------------------------------------------------------------------------------------- Module API


def _hooks_as_context_managers(lib):
    layer = lib.nn.Linear(1, 1)
    with layer.register_forward_hook(lambda *args: None) as handle:
        inside = len(layer._forward_hooks)
    return inside, len(layer._forward_hooks), type(handle.id).__name__


def _set_submodule(lib, target, strict=False):
    model = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Sequential(lib.nn.Tanh()))
    model.set_submodule(target, lib.nn.Sigmoid(), strict=strict)
    return [type(m).__name__ for _, m in model.named_modules()]


def _named_modules_with_duplicates(lib):
    shared = lib.nn.ReLU()
    return [name for name, _ in lib.nn.Sequential(shared, shared).named_modules(remove_duplicate=False)]


def _pre_hook_returning(lib, value):
    layer = lib.nn.Linear(1, 1)
    layer.register_forward_pre_hook(lambda module, args, kwargs: value, with_kwargs=True)
    return layer(lib.ones(1, 1)).shape


def _complex_module(lib):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = lib.nn.Linear(2, 2).to(lib.complex64)
    return layer.weight.dtype, [str(w.message)[:50] for w in caught if w.category is UserWarning]


MODULE_API = {
    "hook handles are context managers with an id": _hooks_as_context_managers,
    "set_submodule": lambda lib: _set_submodule(lib, "1.0"),
    "set_submodule strict of a new name": lambda lib: _set_submodule(lib, "1.5", strict=True),
    "set_submodule onto a parameter": lambda lib: lib.nn.Linear(1, 1).set_submodule("weight", lib.nn.ReLU()),
    "set_submodule of a non-module": lambda lib: lib.nn.Linear(1, 1).set_submodule("x", 3),
    "get_submodule of a parameter": lambda lib: lib.nn.Linear(1, 1).get_submodule("weight"),
    "named_modules(remove_duplicate=False)": _named_modules_with_duplicates,
    "_named_members with torch's function": lambda lib: [
        name for name, _ in lib.nn.Sequential(lib.nn.Linear(1, 1))._named_members(lambda m: m._parameters.items())
    ],
    "_call_impl": lambda lib: lib.nn.ReLU()._call_impl(lib.tensor([-1.0, 2.0])),
    "call_super_init": lambda lib: lib.nn.Module().call_super_init,
    "a kwargs pre-hook returning a non-pair": lambda lib: _pre_hook_returning(lib, 5),
    "a kwargs pre-hook returning a pair": lambda lib: _pre_hook_returning(lib, ((lib.ones(2, 1),), {})),
    "Module.type to an integer dtype": lambda lib: lib.nn.BatchNorm1d(2).type(lib.int32),
    "Module.to a complex dtype": _complex_module,
    "Module.to an integer dtype": lambda lib: lib.nn.Linear(1, 1).to(lib.int32),
    "Parameter of a list": lambda lib: lib.nn.Parameter([1.0, 2.0]),
    "LSTMCell with a 1-tuple hx": lambda lib: lib.nn.LSTMCell(2, 3)(lib.ones(1, 2), (lib.zeros(1, 3),)),
    "LSTMCell with a tensor hx": lambda lib: lib.nn.LSTMCell(2, 3)(lib.ones(1, 2), lib.zeros(1, 3)),
    "LSTMCell unbatched with three states": lambda lib: (
        lib.nn.LSTMCell(2, 3)(lib.ones(2), (lib.zeros(3), lib.zeros(3), lib.zeros(3)))[0].shape
    ),
}


@pytest.mark.parametrize("case", list(MODULE_API))
def test_module_api_as_torch(case):
    agree(case, MODULE_API[case], [])


# ---------------------------------------------------------------------------------------------- checkpoints


class _Custom:
    """A class outside torch's weights-only allowlist."""

    def __init__(self) -> None:
        self.x = 1


def _saved(lib, obj):
    buffer = io.BytesIO()
    lib.save(obj, buffer)
    buffer.seek(0)
    return buffer


def _safe_globals(lib):
    buffer = _saved(lib, {"a": _Custom(), "t": lib.ones(1)})
    unsafe = lib.serialization.get_unsafe_globals_in_checkpoint(buffer)
    buffer.seek(0)
    with lib.serialization.safe_globals([_Custom]):
        loaded = lib.load(buffer)
    plain = lib.serialization.get_unsafe_globals_in_checkpoint(_saved(lib, {"t": lib.ones(1)}))
    return unsafe, type(loaded["a"]).__name__, plain


def _dtype_views(lib):
    x = lib.arange(4.0)
    return lib.save([x, x[1:].view(lib.int32)], io.BytesIO())


CHECKPOINTS = {
    "safe_globals and get_unsafe_globals_in_checkpoint": _safe_globals,
    "views of one storage in two dtypes": _dtype_views,
    "save to an int": lambda lib: lib.save(lib.ones(1), 123),
    "load from an int": lambda lib: lib.load(123),
    "load from a bytes path": lambda lib: lib.load(b"/nonexistent/file.pt"),
    "map_location an int": lambda lib: lib.load(_saved(lib, lib.ones(1)), map_location=3),
}


@pytest.mark.parametrize("case", list(CHECKPOINTS))
def test_checkpoints_as_torch(case):
    agree(case, CHECKPOINTS[case], [])
