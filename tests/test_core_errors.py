"""The core classes' errors and small APIs against torch's: Tensor's autograd fields, nn.Module's
registration and lookup, BatchNorm's old checkpoints, the optimizers' param_groups, fills that
overflow their dtype, dropout of integers and class-index target dtypes.

Each case is ``run(lib)``, called with ``torch`` and with ``tritongrad``: both raise the same
exception type with the same message, or both return the same (Python) values.
"""

from __future__ import annotations

import collections
import math

import pytest
import torch
from torch.utils._python_dispatch import _disable_current_modes

import tritongrad
from tests.utils import to_torch


def _plain(value):
    """A result as Python values: tensors as (dtype, values), containers element by element."""
    if isinstance(value, tritongrad.Tensor):
        value = to_torch(value)
    if isinstance(value, torch.Tensor):
        return (value.dtype, value.detach().tolist())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def same_outcome(name: str, run) -> None:
    """``run(torch)`` and ``run(tritongrad)`` raise the same error (type and message) or agree."""
    try:
        # Outside the suite's dispatch audit: this is torch running as the oracle.
        with _disable_current_modes():
            expected = _plain(run(torch))
    except Exception as error:  # noqa: BLE001 - torch's error is the oracle
        with pytest.raises(type(error)) as raised:
            run(tritongrad)
        assert str(raised.value) == str(error), f"{name}: message {str(raised.value)!r}, torch {str(error)!r}"
        return
    actual = _plain(run(tritongrad))
    assert actual == expected, f"{name}: {actual!r}, torch {expected!r}"


def _leaf(lib, n: int = 3, dtype=torch.float32):
    return lib.tensor([0.5 * (i + 1) - 1.25 for i in range(n)], dtype=dtype, requires_grad=dtype.is_floating_point)


def _set_grad(lib, value):
    x = _leaf(lib)
    x.grad = value(lib)


def _set_requires_grad(lib, dtype):
    x = lib.ones(2, dtype=dtype)
    x.requires_grad = True


TENSOR_CASES = {
    "detach_ of a view that requires grad": lambda lib: _leaf(lib)[:2].detach_(),
    "detach_ of a view": lambda lib: lib.ones(3)[1:].detach_(),
    "detach_ of a non-leaf": lambda lib: (_leaf(lib) * 2).detach_().requires_grad,
    "is_inference": lambda lib: lib.ones(2).is_inference(),
    "grad of another size": lambda lib: _set_grad(lib, lambda lib: lib.ones(2)),
    "grad of another shape": lambda lib: _set_grad(lib, lambda lib: lib.ones(3, 1)),
    "grad of float64": lambda lib: _set_grad(lib, lambda lib: lib.ones(3, dtype=torch.float64)),
    "grad of float16": lambda lib: _set_grad(lib, lambda lib: lib.ones(3, dtype=torch.float16)),
    "grad of int64": lambda lib: _set_grad(lib, lambda lib: lib.ones(3, dtype=torch.int64)),
    "grad of a number": lambda lib: _set_grad(lib, lambda lib: 3),
    "bool of an empty tensor": lambda lib: bool(lib.ones(0)),
    "bool of two values": lambda lib: bool(lib.ones(2)),
    "bool of one value": lambda lib: bool(lib.ones(1, 1)),
    "requires_grad = True on int64": lambda lib: _set_requires_grad(lib, torch.int64),
    "requires_grad = True on bool": lambda lib: _set_requires_grad(lib, torch.bool),
    "requires_grad_() on int32": lambda lib: lib.ones(2, dtype=torch.int32).requires_grad_(),
    "requires_grad_(False) on int32": lambda lib: lib.ones(2, dtype=torch.int32).requires_grad_(False).requires_grad,
}


@pytest.mark.parametrize("name", list(TENSOR_CASES))
def test_tensor_fields_match_torch(name):
    same_outcome(name, TENSOR_CASES[name])


def _post_accumulate(lib, remove_after: int):
    x = _leaf(lib)
    seen = []
    handle = x.register_post_accumulate_grad_hook(lambda t: seen.append((t is x, t.grad.tolist())))
    for step, scale in enumerate((2.0, -3.0, 0.5)):
        if step == remove_after:
            handle.remove()
        (x * scale).sum().backward()
    return seen, x.grad.tolist()


@pytest.mark.parametrize("remove_after", [0, 2, 3])
def test_post_accumulate_grad_hook_runs_after_accumulation_as_torch(remove_after):
    same_outcome(
        f"post-accumulate hook removed before backward {remove_after}", lambda lib: _post_accumulate(lib, remove_after)
    )


def test_post_accumulate_grad_hook_sees_every_accumulation_of_a_shared_leaf():
    def run(lib):
        x, seen = _leaf(lib), []
        x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
        y = x * x
        (y.sum() + (x * 3).sum()).backward()  # one AccumulateGrad call: gradients summed before it
        return seen

    same_outcome("post-accumulate hook, two uses of the leaf", run)


@pytest.mark.parametrize(
    "name,run",
    [
        ("non-leaf", lambda lib: (_leaf(lib) * 2).register_post_accumulate_grad_hook(lambda t: None)),
        ("no grad", lambda lib: lib.ones(2).register_post_accumulate_grad_hook(lambda t: None)),
    ],
)
def test_post_accumulate_grad_hook_errors_match_torch(name, run):
    same_outcome(f"post-accumulate hook on a {name} tensor", run)


# ------------------------------------------------------------------------------ nn.Module
def _linear(lib):
    module = lib.nn.Linear(2, 2)
    module.plain = 3
    return module


def _ones(lib):
    return lib.ones(1)


MODULE_CASES = {}
for _method, _value in (
    ("register_buffer", _ones),
    ("register_parameter", lambda lib: None),
    ("add_module", lambda lib: None),
):
    for _label, _name in (("a plain attribute", "plain"), ("a dotted name", "a.b"), ("an empty name", ""),
                          ("an int", 3), ("the parameter weight", "weight"), ("a new name", "fresh")):  # fmt: skip
        MODULE_CASES[f"{_method} of {_label}"] = lambda lib, method=_method, name=_name, value=_value: getattr(
            _linear(lib), method
        )(name, value(lib))


def _sequential(lib):
    return lib.nn.Sequential(lib.nn.BatchNorm1d(3), lib.nn.Linear(3, 2))


for _getter in ("get_parameter", "get_buffer"):
    for _target in ("0.weight", "0.running_mean", "1.bias", "0.nope", "2.weight", "0.momentum", "0", "weight"):
        MODULE_CASES[f"{_getter}({_target!r})"] = lambda lib, getter=_getter, target=_target: (
            getattr(_sequential(lib), getter)(target).shape
        )
MODULE_CASES["to(int64)"] = lambda lib: _linear(lib).to(torch.int64)
MODULE_CASES["to(dtype=int32)"] = lambda lib: _linear(lib).to(dtype=torch.int32)
MODULE_CASES["to(bool)"] = lambda lib: _linear(lib).to(torch.bool)


@pytest.mark.parametrize("name", list(MODULE_CASES))
def test_module_registration_and_lookup_match_torch(name):
    same_outcome(name, MODULE_CASES[name])


def test_a_same_kind_name_is_replaced_as_torch():
    def run(lib):
        module = _linear(lib)
        module.register_parameter("weight", None)
        module.register_buffer("extra", lib.ones(1))
        module.register_buffer("extra", None)
        module.add_module("child", lib.nn.ReLU())
        module.add_module("child", None)
        return module.weight, module.extra, module.child, sorted(module.state_dict())

    same_outcome("same-kind re-registration", run)


# ------------------------------------------------------------------------------ BatchNorm checkpoints
def _load_without_count(lib, version, strict: bool = True):
    source = lib.nn.Sequential(lib.nn.BatchNorm1d(3))
    state = collections.OrderedDict((k, v) for k, v in source.state_dict().items() if not k.endswith("tracked"))
    if version != "none":
        state._metadata = {"": {}, "0": {} if version is None else {"version": version}}
    target = lib.nn.Sequential(lib.nn.BatchNorm1d(3))
    target[0].num_batches_tracked.fill_(5)
    result = target.load_state_dict(state, strict=strict)
    return list(result.missing_keys), list(result.unexpected_keys), target[0].num_batches_tracked.item()


@pytest.mark.parametrize("version", ["none", None, 1, 2], ids=lambda v: f"version={v}")
@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
def test_batchnorm_checkpoint_without_num_batches_tracked_loads_as_torch(version, strict):
    same_outcome(
        f"load without num_batches_tracked, version {version}", lambda lib: _load_without_count(lib, version, strict)
    )


def test_batchnorm_load_leaves_the_callers_state_dict_alone():
    source = tritongrad.nn.BatchNorm2d(3)
    state = {k: v for k, v in source.state_dict().items() if k != "num_batches_tracked"}
    tritongrad.nn.BatchNorm2d(3).load_state_dict(state)
    assert "num_batches_tracked" not in state


def test_instance_norm_with_running_stats_loads_an_old_checkpoint_as_torch():
    def run(lib):
        state = {"running_mean": lib.ones(4), "running_var": lib.ones(4)}
        layer = lib.nn.InstanceNorm1d(4, track_running_stats=True)
        return list(layer.load_state_dict(state).missing_keys), layer.running_mean.tolist()

    same_outcome("InstanceNorm1d old checkpoint", run)


# ------------------------------------------------------------------------------ optimizers
OPTIMIZERS = {
    "SGD": {"lr": 0.1, "momentum": 0.9},
    "Adam": {"lr": 0.1},
    "AdamW": {"lr": 0.1, "amsgrad": True},
    "RMSprop": {"lr": 0.1, "centered": True},
}


def _group_and_repr(lib, name, kwargs):
    optimizer = getattr(lib.optim, name)([_leaf(lib)], **kwargs)
    group = optimizer.param_groups[0]
    saved = optimizer.state_dict()["param_groups"][0]
    return [(k, v) for k, v in group.items() if k != "params"], repr(optimizer), list(saved.items())


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_param_groups_and_repr_match_torch(name):
    same_outcome(f"{name} param_groups", lambda lib: _group_and_repr(lib, name, OPTIMIZERS[name]))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_optimizer_keywords_torch_accepts_are_accepted(name):
    def run(lib):
        x = _leaf(lib)
        optimizer = getattr(lib.optim, name)([x], lr=0.1, foreach=False, fused=None)
        (x * x).sum().backward()
        optimizer.step()
        return [round(v, 5) for v in x.tolist()], optimizer.param_groups[0]["foreach"]

    same_outcome(f"{name}(foreach=False)", run)


def test_adam_with_decoupled_weight_decay_steps_as_torch():
    def run(lib):
        x = _leaf(lib)
        optimizer = lib.optim.Adam([x], lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
        for _ in range(2):
            optimizer.zero_grad()
            (x * x * x).sum().backward()
            optimizer.step()
        return [round(v, 5) for v in x.tolist()], optimizer.param_groups[0]["decoupled_weight_decay"]

    same_outcome("Adam(decoupled_weight_decay=True)", run)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_fused_and_foreach_together_raise_torchs_error(name):
    same_outcome(f"{name} fused+foreach", lambda lib: getattr(lib.optim, name)([_leaf(lib)], fused=True, foreach=True))


@pytest.mark.parametrize(
    "label,group",
    [
        ("a list", lambda lib: [_leaf(lib)]),
        ("a set of params", lambda lib: {"params": {_leaf(lib)}}),
        ("an int as params", lambda lib: {"params": 3}),
    ],
)
def test_add_param_group_errors_match_torch(label, group):
    same_outcome(
        f"add_param_group({label})", lambda lib: lib.optim.SGD([_leaf(lib)], lr=0.1).add_param_group(group(lib))
    )


def test_an_adam_state_dict_without_the_new_keys_loads():
    x = _leaf(tritongrad)
    optimizer = tritongrad.optim.AdamW([x], lr=0.1)
    state = optimizer.state_dict()
    for key in ("foreach", "differentiable", "fused", "decoupled_weight_decay"):
        del state["param_groups"][0][key]
    optimizer.load_state_dict(state)
    assert optimizer.param_groups[0]["decoupled_weight_decay"] is True
    assert optimizer.param_groups[0]["fused"] is None


# ------------------------------------------------------------------------------ fills, dropout, targets
FILL_CASES = [
    (70000.0, torch.float16), (-70000.0, torch.float16), (1e39, torch.bfloat16), (1e40, torch.float32),
    (math.inf, torch.float16), (300, torch.uint8), (-1, torch.uint8), (2**40, torch.int32), (128, torch.int8),
    (1.5, torch.int32), (2**63 - 1, torch.int64), (65504.0, torch.float16),
]  # fmt: skip


@pytest.mark.parametrize("value,dtype", FILL_CASES, ids=str)
def test_full_of_a_value_the_dtype_cannot_hold_matches_torch(value, dtype):
    same_outcome(f"full({value}, {dtype})", lambda lib: lib.full((3,), value, dtype=dtype))


@pytest.mark.parametrize("value,dtype", FILL_CASES, ids=str)
def test_masked_fill_of_a_value_the_dtype_cannot_hold_matches_torch(value, dtype):
    def run(lib):
        mask = lib.tensor([True, False, True])
        return lib.ones(3, dtype=dtype).masked_fill(mask, value)

    same_outcome(f"masked_fill({value}, {dtype})", run)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool], ids=str)
@pytest.mark.parametrize(
    "label,kwargs",
    [
        ("training", {}),
        ("eval", {"training": False}),
        ("p=0", {"p": 0.0}),
        ("p=1", {"p": 1.0}),
        ("in place", {"inplace": True}),
    ],  # fmt: skip
)
def test_dropout_of_an_integer_tensor_matches_torch(dtype, label, kwargs):
    same_outcome(
        f"dropout {label} of {dtype}", lambda lib: lib.nn.functional.dropout(lib.ones(3, dtype=dtype), **kwargs)
    )


def test_dropout_module_of_an_integer_tensor_matches_torch():
    same_outcome("nn.Dropout of int64", lambda lib: lib.nn.Dropout()(lib.ones(3, dtype=torch.int64)))


def _log_probabilities(lib, shape):
    count = math.prod(shape)
    values = lib.tensor([math.sin(i + 1.0) for i in range(count)]).reshape(shape)
    return values.log_softmax(0 if len(shape) == 1 else 1)


TARGET_DTYPES = [torch.float32, torch.float64, torch.int32, torch.int8, torch.bool, torch.uint8, torch.int64]


@pytest.mark.parametrize("dtype", TARGET_DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(4,), (3, 4), (3, 4, 2)], ids=str)
@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
def test_class_target_dtypes_match_torch(loss, shape, dtype):
    if loss == "cross_entropy" and dtype.is_floating_point:
        pytest.skip("a floating target is class probabilities for cross_entropy (tested in test_loss)")

    def run(lib):
        input = _log_probabilities(lib, shape)
        target_shape = () if len(shape) == 1 else (shape[0],) + shape[2:]
        target = lib.tensor([(i * 3) % shape[0 if len(shape) == 1 else 1] for i in range(math.prod(target_shape))])
        target = target.reshape(target_shape).to(dtype)
        return round(getattr(lib.nn.functional, loss)(input, target).item(), 5)

    same_outcome(f"{loss} of {shape} with a {dtype} target", run)
