"""lr_scheduler against torch 2.13 where a closed-form implementation differed: schedules composed on
one optimizer (ChainedScheduler, two schedulers stepping one group), a param group added after the
scheduler, total_iters=0, ReduceLROnPlateau refused by SequentialLR/ChainedScheduler, get_lr outside
step, step(epoch), and state dicts: the same keys as torch's, loading either way (a state torch
saved into tritongrad and back) and continuing identically."""

from __future__ import annotations

import io
import warnings

import pytest
import torch

import tritongrad


def _optimizer(lib, groups: int = 1, optimizer: str = "sgd"):
    params = [{"params": [lib.nn.Parameter(lib.ones(2))], "lr": 0.1 * (index + 1)} for index in range(groups)]
    if optimizer == "adam":
        return lib.optim.Adam(params, lr=0.1)
    return lib.optim.SGD(params, lr=0.1, momentum=0.9)


def _group_values(optimizer) -> list:
    """Each group's lr and momentum (or beta1)."""
    return [(group["lr"], group.get("momentum", group.get("betas", (None,))[0])) for group in optimizer.param_groups]


def _assert_same(ours, theirs, what: str) -> None:
    assert len(ours) == len(theirs), f"{what}: {ours} vs {theirs}"
    for mine, reference in zip(ours, theirs):
        if isinstance(reference, (list, tuple)):
            _assert_same(mine, reference, what)
        elif isinstance(reference, float):
            assert mine == pytest.approx(reference, rel=1e-12, abs=1e-15), f"{what}: {ours} vs {theirs}"
        else:
            assert mine == reference, f"{what}: {ours} vs {theirs}"


# ---------------------------------------------------------------------------------------------
# Composition: get_last_lr before the first step, two schedulers on one optimizer
# ---------------------------------------------------------------------------------------------


def _chained(s, o):
    return s.ChainedScheduler([s.ConstantLR(o, factor=0.5, total_iters=2), s.ExponentialLR(o, 0.9)])


def _two_on_one_optimizer(s, o):
    s.StepLR(o, step_size=2, gamma=0.5)
    return s.CosineAnnealingLR(o, T_max=4, eta_min=0.01)


def _nested_sequential(s, o):
    sequence = s.SequentialLR(o, [s.LinearLR(o, start_factor=0.2, total_iters=3), s.MultiStepLR(o, [2, 4])], [3])
    return s.ChainedScheduler([sequence, s.ExponentialLR(o, 0.95)])


COMPOSED = {
    "ChainedScheduler (ConstantLR, ExponentialLR)": _chained,
    "StepLR and CosineAnnealingLR on one optimizer": _two_on_one_optimizer,
    "a ChainedScheduler of a SequentialLR and ExponentialLR": _nested_sequential,
    "MultiplicativeLR after LinearLR": lambda s, o: [
        s.LinearLR(o, start_factor=0.5, total_iters=2), s.MultiplicativeLR(o, lambda epoch: 0.9)
    ][-1],
}  # fmt: skip


def _transcript(lib, make, steps: int = 9, groups: int = 2) -> list:
    optimizer = _optimizer(lib, groups)
    scheduler = make(lib.optim.lr_scheduler, optimizer)
    values = [(scheduler.get_last_lr(), _group_values(optimizer))]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        values.append((scheduler.get_last_lr(), _group_values(optimizer)))
    return values


@pytest.mark.parametrize("name", list(COMPOSED))
def test_composed_schedules_match_torch_from_construction(name):
    """get_last_lr() right after construction included: a ChainedScheduler's is the composed lr."""
    _assert_same(_transcript(tritongrad, COMPOSED[name]), _transcript(torch, COMPOSED[name]), name)


def test_chained_scheduler_last_lr_before_the_first_step():
    def first(lib):
        optimizer = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
        return _chained(lib.optim.lr_scheduler, optimizer).get_last_lr()

    assert first(torch) == pytest.approx([0.05])
    assert first(tritongrad) == pytest.approx(first(torch), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# A parameter group added after the scheduler
# ---------------------------------------------------------------------------------------------

ADDED_GROUP = {
    "StepLR": lambda s, o: s.StepLR(o, 1, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, [1, 3, 3], gamma=0.5),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, 0.9),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=2),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.5, total_iters=3),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=4, power=2.0),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=3, eta_min=0.01),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lambda epoch: 0.8),
    # these compute from base_lrs (one per group at construction): torch's zip(strict=True) refuses
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda epoch: 0.5**epoch),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=2),
}


def _added_group(lib, name):
    optimizer = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
    scheduler = ADDED_GROUP[name](lib.optim.lr_scheduler, optimizer)
    optimizer.add_param_group({"params": [lib.nn.Parameter(lib.ones(1))], "lr": 0.5})
    rates = []
    for _ in range(5):
        optimizer.step()
        try:
            scheduler.step()
        except Exception as error:  # noqa: BLE001 - the exception type is what is compared
            return rates, type(error).__name__
        rates.append([group["lr"] for group in optimizer.param_groups])
    return rates, None


@pytest.mark.parametrize("name", list(ADDED_GROUP))
def test_a_group_added_after_the_scheduler_is_scheduled_as_torch(name):
    ours, theirs = _added_group(tritongrad, name), _added_group(torch, name)
    assert ours[1] == theirs[1], f"{name}: {ours[1]} vs {theirs[1]}"
    _assert_same(ours[0], theirs[0], name)


def test_the_red_teams_added_group_case():
    rates, error = _added_group(torch, "StepLR")
    _assert_same(rates[:2], [[0.05, 0.25], [0.025, 0.125]], "torch itself")
    _assert_same(_added_group(tritongrad, "StepLR")[0][:2], rates[:2], "StepLR with a group added")


# ---------------------------------------------------------------------------------------------
# Edge arguments and misuse
# ---------------------------------------------------------------------------------------------

EDGES = {
    "LinearLR total_iters=0": lambda s, o: s.LinearLR(o, start_factor=0.5, total_iters=0),
    "PolynomialLR total_iters=0": lambda s, o: s.PolynomialLR(o, total_iters=0),
    "ConstantLR total_iters=0": lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=0),
    "LinearLR decreasing": lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=4),
    "CosineAnnealingLR past T_max": lambda s, o: s.CosineAnnealingLR(o, T_max=2),
    "OneCycleLR over Adam's beta1, two groups": lambda s, o: s.OneCycleLR(o, max_lr=[0.5, 0.3], total_steps=10),
    "CyclicLR exp_range": lambda s, o: s.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=2, mode="exp_range", gamma=0.9),
}


@pytest.mark.parametrize("name", list(EDGES))
def test_edge_schedules_match_torch(name):
    kind = "adam" if "Adam" in name else "sgd"
    ours, theirs = _optimizer(tritongrad, 2, kind), _optimizer(torch, 2, kind)
    scheduler, reference = (
        EDGES[name](tritongrad.optim.lr_scheduler, ours),
        EDGES[name](torch.optim.lr_scheduler, theirs),
    )
    for step in range(9):
        _assert_same(_group_values(ours), _group_values(theirs), f"{name} step {step}")
        _assert_same(scheduler.get_last_lr(), reference.get_last_lr(), f"{name} step {step}")
        for optimizer in (ours, theirs):
            optimizer.step()
        scheduler.step()
        reference.step()


def _error(make):
    try:
        make()
    except Exception as error:  # noqa: BLE001 - the exception is what is compared
        return type(error).__name__, str(error)
    return None


MISUSE = {
    "SequentialLR with a ReduceLROnPlateau": lambda s, o: s.SequentialLR(
        o, [s.ConstantLR(o), s.ReduceLROnPlateau(o)], milestones=[2]
    ),
    "ChainedScheduler with a ReduceLROnPlateau": lambda s, o: s.ChainedScheduler(
        [s.StepLR(o, 2), s.ReduceLROnPlateau(o)]
    ),
    "ChainedScheduler of nothing": lambda s, o: s.ChainedScheduler([]),
    "SequentialLR with too many milestones": lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2)], milestones=[1]),
    "SequentialLR with something not a scheduler": lambda s, o: s.SequentialLR(o, [object()], milestones=[]),
    "MultiplicativeLR of a number": lambda s, o: s.MultiplicativeLR(o, 0.5),
    "CyclicLR with max_lr per group of the wrong length": lambda s, o: s.CyclicLR(o, 0.01, [0.1, 0.2]),
    "OneCycleLR with an int pct_start": lambda s, o: s.OneCycleLR(o, 0.1, total_steps=4, pct_start=1),
    "OneCycleLR without steps": lambda s, o: s.OneCycleLR(o, 0.1),
    "OneCycleLR stepped past its end": lambda s, o: (lambda one: [o.step(), one.step(), one.step()])(
        s.OneCycleLR(o, 0.1, total_steps=1)
    ),
    "CosineAnnealingWarmRestarts with a string eta_min": lambda s, o: s.CosineAnnealingWarmRestarts(o, 2, eta_min="0"),
    "ReduceLROnPlateau after a group with min_lr list was added": lambda s, o: [
        plateau := s.ReduceLROnPlateau(o, patience=0, min_lr=[0.0]),
        o.add_param_group({"params": [type(o.param_groups[0]["params"][0])(o.param_groups[0]["params"][0] * 1)]}),
        [plateau.step(1.0) for _ in range(3)],
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", list(MISUSE))
def test_misuse_raises_torchs_error(name):
    def run(lib):
        return _error(lambda: MISUSE[name](lib.optim.lr_scheduler, _optimizer(lib)))

    ours, theirs = run(tritongrad), run(torch)
    assert theirs is not None and ours == theirs, f"{name}: {ours} vs {theirs}"


def _warnings_of(lib, action) -> list[str]:
    optimizer = _optimizer(lib)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, 2)
    optimizer.step()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = action(scheduler)
    return [values, [str(warning.message)[:60] for warning in caught]]


WARNED = {
    "get_lr() outside step": lambda s: s.get_lr(),
    "step(epoch) jumps by the closed form": lambda s: [s.step(5), s.get_last_lr()][1],
    "an optimizer step replaced after the scheduler": lambda s: [
        setattr(s.optimizer, "step", lambda: None), s.step(), s.get_last_lr()
    ][2],
}  # fmt: skip


@pytest.mark.parametrize("name", list(WARNED))
def test_warnings_match_torch(name):
    ours, theirs = _warnings_of(tritongrad, WARNED[name]), _warnings_of(torch, WARNED[name])
    assert ours[1] == theirs[1] and theirs[1], f"{name}: {ours[1]} vs {theirs[1]}"
    _assert_same(ours[0], theirs[0], name)


CLOSED_FORMS = {
    "StepLR": lambda s, o: s.StepLR(o, 3, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, [2, 4, 4], gamma=0.5),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=3),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.25, total_iters=4),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, 0.8),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=6, power=0.5),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=6, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2),
}


@pytest.mark.parametrize("name", list(CLOSED_FORMS))
def test_step_with_an_epoch_jumps_as_torch(name):
    def jumps(lib):
        optimizer = _optimizer(lib, 2)
        scheduler = CLOSED_FORMS[name](lib.optim.lr_scheduler, optimizer)
        optimizer.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [
                [scheduler.step(epoch), scheduler.get_last_lr()][1] for epoch in (5, 1, 7, 3.5 if "Warm" in name else 3)
            ]

    _assert_same(jumps(tritongrad), jumps(torch), name)


# ---------------------------------------------------------------------------------------------
# State dicts: torch's keys, and loading either way
# ---------------------------------------------------------------------------------------------


class _Halving:
    """A callable object: its __dict__ travels in a LambdaLR state dict."""

    def __init__(self) -> None:
        self.factor = 0.5

    def __call__(self, epoch: int) -> float:
        return self.factor**epoch


STATEFUL = {
    "StepLR": lambda s, o: s.StepLR(o, 2, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, [2, 3], gamma=0.5),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=3),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.3, total_iters=5),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, 0.9),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=7),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=5),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2),
    "LambdaLR (a function)": lambda s, o: s.LambdaLR(o, lambda epoch: 0.9**epoch),
    "LambdaLR (a callable object)": lambda s, o: s.LambdaLR(o, _Halving()),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lambda epoch: 0.9),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=12, three_phase=True),
    "CyclicLR": lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=2, mode="triangular2"),
    "SequentialLR": lambda s, o: s.SequentialLR(o, [s.ConstantLR(o, 0.5, 2), s.ExponentialLR(o, 0.9)], [3]),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler([s.ConstantLR(o, 0.5, 2), s.ExponentialLR(o, 0.9)]),
}


def _stepped(lib, name: str, steps: int):
    optimizer = _optimizer(lib)
    scheduler = STATEFUL[name](lib.optim.lr_scheduler, optimizer)
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
    return optimizer, scheduler


def _keys(state) -> list:
    keys = sorted(state)
    if "_schedulers" in state:
        keys.append([_keys(inner) for inner in state["_schedulers"]])
    return keys


def _continue(optimizer, scheduler, steps: int = 6) -> list:
    values = []
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        values.append((scheduler.get_last_lr(), _group_values(optimizer)))
    return values


def _resume(source_optimizer, source_state, lib, name):
    """A fresh scheduler of ``lib`` resumed from a state (and the optimizer's hyperparameters, as an
    optimizer's load_state_dict restores them)."""
    optimizer, scheduler = _stepped(lib, name, 0)
    for group, saved in zip(optimizer.param_groups, source_optimizer.param_groups):
        group.update({key: value for key, value in saved.items() if key != "params"})
    scheduler.load_state_dict(source_state)
    return optimizer, scheduler


@pytest.mark.parametrize("name", list(STATEFUL))
def test_state_dict_keys_are_torchs(name):
    assert _keys(_stepped(tritongrad, name, 2)[1].state_dict()) == _keys(_stepped(torch, name, 2)[1].state_dict())


@pytest.mark.parametrize("name", list(STATEFUL))
@pytest.mark.parametrize("direction", ["torch state into tritongrad", "tritongrad state into torch"])
def test_a_state_loads_into_the_other_library_and_continues_identically(name, direction):
    source_lib, target_lib = (torch, tritongrad) if direction.startswith("torch") else (tritongrad, torch)
    source_optimizer, source = _stepped(source_lib, name, 3)
    target_optimizer, target = _resume(source_optimizer, source.state_dict(), target_lib, name)
    _assert_same(_continue(target_optimizer, target), _continue(source_optimizer, source), f"{name}: {direction}")


def test_a_lambda_lr_state_torch_saved_keeps_the_functions():
    """torch saves a function as None in lr_lambdas; loading it keeps the scheduler's own function
    (it was overwritten with None, and the next step raised TypeError)."""
    theirs_optimizer, theirs = _stepped(torch, "LambdaLR (a function)", 2)
    buffer = io.BytesIO()
    torch.save(theirs.state_dict(), buffer)
    buffer.seek(0)
    state = tritongrad.load(buffer)
    assert state["lr_lambdas"] == [None]
    optimizer, ours = _resume(theirs_optimizer, state, tritongrad, "LambdaLR (a function)")
    assert callable(ours.lr_lambdas[0])
    _assert_same(_continue(optimizer, ours), _continue(theirs_optimizer, theirs), "LambdaLR after torch.save")


def test_a_callable_objects_state_is_restored_into_it():
    optimizer, scheduler = _stepped(tritongrad, "LambdaLR (a callable object)", 1)
    scheduler.lr_lambdas[0].factor = 0.25
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"factor": 0.25}]
    _, fresh = _resume(optimizer, state, tritongrad, "LambdaLR (a callable object)")
    assert fresh.lr_lambdas[0].factor == 0.25 and fresh.lr_lambdas[0] is not scheduler.lr_lambdas[0]


@pytest.mark.parametrize("name", ["MultiStepLR", "CyclicLR", "OneCycleLR"])
def test_a_state_round_trips_through_tritongrads_own_files(name):
    """A scheduler state (a Counter of milestones, phase dicts) saved by tritongrad.save loads with the
    default weights-only load and resumes as the original continues."""
    optimizer, scheduler = _stepped(tritongrad, name, 3)
    buffer = io.BytesIO()
    tritongrad.save(scheduler.state_dict(), buffer)
    buffer.seek(0)
    state = tritongrad.load(buffer)
    assert _keys(state) == _keys(scheduler.state_dict())
    resumed_optimizer, resumed = _resume(optimizer, state, tritongrad, name)
    _assert_same(_continue(resumed_optimizer, resumed), _continue(optimizer, scheduler), name)


def test_reduce_lr_on_plateau_state_loads_either_way():
    def stepped(lib):
        optimizer = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", patience=1, factor=0.5)
        for metric in (1.0, 0.9, 0.8, 1.2):
            scheduler.step(metric)
        return optimizer, scheduler

    def resume(source_optimizer, state, lib):
        optimizer = _optimizer(lib)
        optimizer.param_groups[0]["lr"] = source_optimizer.param_groups[0]["lr"]
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
        scheduler.load_state_dict(state)
        return optimizer, scheduler

    def metrics(optimizer, scheduler):
        out = []
        for metric in (1.1, 1.0, 0.9, 0.95, 2.0):
            scheduler.step(metric)
            out.append((scheduler.get_last_lr(), scheduler.num_bad_epochs, scheduler.best))
        return out

    ours, theirs = stepped(tritongrad), stepped(torch)
    assert sorted(ours[1].state_dict()) == sorted(theirs[1].state_dict())
    expected = metrics(*resume(theirs[0], theirs[1].state_dict(), torch))
    _assert_same(metrics(*resume(theirs[0], theirs[1].state_dict(), tritongrad)), expected, "torch -> tritongrad")
    _assert_same(metrics(*resume(ours[0], ours[1].state_dict(), torch)), expected, "tritongrad -> torch")
