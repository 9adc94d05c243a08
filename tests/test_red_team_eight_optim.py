"""The eighth red-team round's optimizer and lr-scheduler findings (rt8 data report #1, #2, #5), each
compared with torch by ``agree``: copying and pickling an optimizer (and its scheduler) keeps only
torch's three keys, so a copy steps its own parameters; a scheduler fills a tensor lr in place."""

from __future__ import annotations

import copy
import io
import pickle
import warnings

import pytest

import tritongrad
from tests.test_hardening import agree

OPTIMIZERS = {
    "SGD": lambda lib, params: lib.optim.SGD(params, lr=0.5, momentum=0.9),
    "Adam": lambda lib, params: lib.optim.Adam(params, lr=0.1),
    "AdamW": lambda lib, params: lib.optim.AdamW(params, lr=0.1),
    "RMSprop": lambda lib, params: lib.optim.RMSprop(params, lr=0.1),
    "Adagrad": lambda lib, params: lib.optim.Adagrad(params, lr=0.1),
}

SCHEDULERS = {
    "none": None,
    "StepLR": lambda lib, optimizer: lib.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5),
    "OneCycleLR": lambda lib, optimizer: lib.optim.lr_scheduler.OneCycleLR(optimizer, 0.5, total_steps=10),
}


def _messages(caught) -> list[str]:
    return [str(warning.message)[:60] for warning in caught]


def _values(lib, tensors) -> list:
    return [tensor.detach().clone() for tensor in tensors]


# ----------------------------------------------------------------------------------------------
# #1: a deep copy of an optimizer (a scheduler attached or not) steps its own parameters
# ----------------------------------------------------------------------------------------------


def _step_a_deep_copy(lib, optimizer_name: str, scheduler_name: str, delete_original: bool):
    weight = lib.nn.Parameter(lib.arange(1.0, 4.0))
    optimizer = OPTIMIZERS[optimizer_name](lib, [weight])
    scheduler = SCHEDULERS[scheduler_name]
    if scheduler is not None:
        scheduler(lib, optimizer)
    weight.grad = lib.ones(3)
    optimizer.step()  # (state to copy)
    copied = copy.deepcopy(optimizer)
    copied_weight = copied.param_groups[0]["params"][0]
    if delete_original:
        del optimizer
    copied_weight.grad = lib.full((3,), 2.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        copied.step()
    return (
        _values(lib, [weight, copied_weight]),
        copied_weight is weight,
        "step" in copied.__dict__,
        _messages(caught),
    )


@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("scheduler_name", sorted(SCHEDULERS))
@pytest.mark.parametrize("delete_original", [False, True])
def test_a_deep_copy_steps_its_own_parameters(optimizer_name, scheduler_name, delete_original):
    agree(
        f"deepcopy {optimizer_name} {scheduler_name} {delete_original}",
        lambda lib: _step_a_deep_copy(lib, optimizer_name, scheduler_name, delete_original),
        [],
    )


def _copy_keeps_state_apart(lib):
    weight = lib.nn.Parameter(lib.ones(2))
    optimizer = lib.optim.SGD([weight], lr=0.5, momentum=0.9)
    weight.grad = lib.ones(2)
    optimizer.step()
    copied = copy.deepcopy(optimizer)
    copied.param_groups[0]["params"][0].grad = lib.full((2,), 3.0)
    copied.step()
    buffers = [next(iter(o.state.values()))["momentum_buffer"] for o in (optimizer, copied)]
    return _values(lib, buffers), copied.param_groups[0]["lr"], optimizer.param_groups[0]["lr"]


def test_a_deep_copy_has_its_own_state():
    agree("deepcopy state", _copy_keeps_state_apart, [])


def _state_keys_and_hooks(lib, hook_kind: str):
    weight = lib.nn.Parameter(lib.ones(2))
    optimizer = lib.optim.SGD([weight], lr=0.5)
    lib.optim.lr_scheduler.StepLR(optimizer, 1)
    calls = []
    register = getattr(optimizer, f"register_{hook_kind}")
    register(lambda *args: calls.append(hook_kind))
    copied = copy.deepcopy(optimizer)
    weight_copy = copied.param_groups[0]["params"][0]
    weight_copy.grad = lib.ones(2)
    copied.step()
    copied.state_dict()
    copied.load_state_dict(copied.state_dict())
    return sorted(optimizer.__getstate__()), calls, sorted(copied.defaults)


@pytest.mark.parametrize(
    "hook_kind",
    ["step_pre_hook", "step_post_hook", "state_dict_pre_hook", "load_state_dict_post_hook"],
)
def test_a_copy_keeps_torchs_three_keys_and_drops_the_hooks(hook_kind):
    agree(f"getstate {hook_kind}", lambda lib: _state_keys_and_hooks(lib, hook_kind), [])


def _repeated_parameter_after_copy(lib, how: str):
    weight = lib.nn.Parameter(lib.ones(2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer = lib.optim.SGD([weight, weight], lr=0.5)
    copied = copy.deepcopy(optimizer) if how == "deepcopy" else pickle.loads(pickle.dumps(optimizer))
    weight_copy = copied.param_groups[0]["params"][0]
    weight_copy.grad = lib.ones(2)
    copied.step()
    return _values(lib, [weight_copy])


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_group_listing_a_parameter_twice_still_updates_it_twice(how):
    agree(f"repeated {how}", lambda lib: _repeated_parameter_after_copy(lib, how), [])


# ----------------------------------------------------------------------------------------------
# #2: pickle, save/load of an optimizer and pickle of a scheduler, once a scheduler exists
# ----------------------------------------------------------------------------------------------


def _round_trip(lib, value, how: str):
    if how == "pickle":
        return pickle.loads(pickle.dumps(value))
    buffer = io.BytesIO()
    lib.save(value, buffer)
    buffer.seek(0)
    return lib.load(buffer, weights_only=False)


def _pickle_an_optimizer(lib, optimizer_name: str, scheduler_name: str, how: str):
    weight = lib.nn.Parameter(lib.arange(1.0, 4.0))
    optimizer = OPTIMIZERS[optimizer_name](lib, [weight])
    scheduler = SCHEDULERS[scheduler_name]
    if scheduler is not None:
        scheduler(lib, optimizer)
    weight.grad = lib.ones(3)
    optimizer.step()
    loaded = _round_trip(lib, optimizer, how)
    loaded_weight = loaded.param_groups[0]["params"][0]
    loaded_weight.grad = lib.ones(3)
    loaded.step()
    group = {key: value for key, value in loaded.param_groups[0].items() if key != "params"}
    return _values(lib, [weight, loaded_weight]), repr(sorted(group.items()))


@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam"])
@pytest.mark.parametrize("scheduler_name", sorted(SCHEDULERS))
@pytest.mark.parametrize("how", ["pickle", "save"])
def test_an_optimizer_pickles_with_a_scheduler_attached(optimizer_name, scheduler_name, how):
    agree(
        f"pickle {optimizer_name} {scheduler_name} {how}",
        lambda lib: _pickle_an_optimizer(lib, optimizer_name, scheduler_name, how),
        [],
    )


def _pickle_a_scheduler(lib, scheduler_name: str, how: str):
    weight = lib.nn.Parameter(lib.ones(2))
    optimizer = lib.optim.SGD([weight], lr=0.5, momentum=0.9)
    scheduler = SCHEDULERS[scheduler_name](lib, optimizer)
    weight.grad = lib.ones(2)
    optimizer.step()
    scheduler.step()
    loaded = _round_trip(lib, scheduler, how)
    loaded.optimizer.param_groups[0]["params"][0].grad = lib.ones(2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded.optimizer.step()
        loaded.step()
        loaded.step()
    return (
        loaded.optimizer is optimizer,
        loaded.get_last_lr(),
        scheduler.get_last_lr(),
        _values(lib, loaded.optimizer.param_groups[0]["params"]),
        _messages(caught),
    )


@pytest.mark.parametrize("scheduler_name", ["StepLR", "OneCycleLR"])
@pytest.mark.parametrize("how", ["pickle", "save"])
def test_a_scheduler_pickles_and_steps_its_own_optimizer(scheduler_name, how):
    agree(f"pickle scheduler {scheduler_name} {how}", lambda lib: _pickle_a_scheduler(lib, scheduler_name, how), [])


# ----------------------------------------------------------------------------------------------
# #5: a tensor lr is filled in place, stays a tensor, and what the scheduler keeps is a copy
# ----------------------------------------------------------------------------------------------


def _lr_schedulers(lib):
    s = lib.optim.lr_scheduler
    return {
        "StepLR": lambda o: s.StepLR(o, 1),
        "MultiStepLR": lambda o: s.MultiStepLR(o, [1, 3]),
        "ExponentialLR": lambda o: s.ExponentialLR(o, 0.5),
        "CosineAnnealingLR": lambda o: s.CosineAnnealingLR(o, 3),
        "LambdaLR": lambda o: s.LambdaLR(o, lambda epoch: 0.5**epoch),
        "MultiplicativeLR": lambda o: s.MultiplicativeLR(o, lambda epoch: 0.5),
        "LinearLR": lambda o: s.LinearLR(o),
        "ConstantLR": lambda o: s.ConstantLR(o),
        "PolynomialLR": lambda o: s.PolynomialLR(o),
        "CosineAnnealingWarmRestarts": lambda o: s.CosineAnnealingWarmRestarts(o, 2),
        "OneCycleLR": lambda o: s.OneCycleLR(o, 0.5, total_steps=6),
        "CyclicLR": lambda o: s.CyclicLR(o, 0.01, 0.1, step_size_up=2),
        "ReduceLROnPlateau": lambda o: s.ReduceLROnPlateau(o, patience=0),
        "SequentialLR": lambda o: s.SequentialLR(o, [s.ConstantLR(o), s.ExponentialLR(o, 0.5)], [2]),
        "ChainedScheduler": lambda o: s.ChainedScheduler([s.ConstantLR(o), s.ExponentialLR(o, 0.5)]),
        "SWALR": lambda o: lib.optim.swa_utils.SWALR(o, swa_lr=lib.tensor(0.05), anneal_epochs=2),
    }


def _tensor_lr_schedule(lib, scheduler_name: str, optimizer_name: str):
    lr = lib.tensor(0.1)
    params = [lib.nn.Parameter(lib.ones(2))]
    if optimizer_name == "SGD":
        optimizer = lib.optim.SGD(params, lr=lr, momentum=0.9)
    else:
        optimizer = lib.optim.Adam(params, lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = _lr_schedulers(lib)[scheduler_name](optimizer)
    group = optimizer.param_groups[0]
    trajectory = []
    for _ in range(4):
        params[0].grad = lib.ones(2)
        optimizer.step()
        if scheduler_name == "ReduceLROnPlateau":
            scheduler.step(1.0)
        else:
            scheduler.step()
        last = scheduler.get_last_lr()[0]
        initial = group.get("initial_lr")
        momentum = group["momentum"] if "momentum" in group else group["betas"][0]
        trajectory.append(
            (
                lr.clone(),
                group["lr"] is lr,
                type(last).__name__,
                last is group["lr"],
                initial is lr,
                type(initial).__name__,
                type(momentum).__name__,
            )
        )
    return trajectory, _values(lib, params)


@pytest.mark.parametrize("scheduler_name", sorted(_lr_schedulers(tritongrad)))
@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam"])
def test_a_scheduler_fills_a_tensor_lr_in_place(scheduler_name, optimizer_name):
    agree(
        f"tensor lr {scheduler_name} {optimizer_name}",
        lambda lib: _tensor_lr_schedule(lib, scheduler_name, optimizer_name),
        [],
    )


def _last_lr_is_a_copy(lib):
    lr = lib.tensor(0.1)
    optimizer = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=lr)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, 1)
    with lib.no_grad():
        scheduler.get_last_lr()[0].fill_(7.0)
        scheduler.base_lrs[0].fill_(9.0)
    return lr.clone(), optimizer.param_groups[0]["initial_lr"].clone()


def test_what_a_scheduler_returns_does_not_alias_the_group_lr():
    agree("last lr copy", _last_lr_is_a_copy, [])


def _closed_form_with_a_tensor_lr(lib):
    lr = lib.tensor(0.1)
    optimizer = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=lr)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, 2, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler.step(5)
    return lr.clone(), optimizer.param_groups[0]["lr"] is lr


def test_a_closed_form_step_fills_the_tensor_lr():
    agree("closed form", _closed_form_with_a_tensor_lr, [])
