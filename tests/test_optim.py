"""tritongrad.optim against torch.optim: step-for-step parity on an MLP, launches per step,
state dicts, schedulers and bad input."""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn as nn

STEPS = 50


def make_pair_of_mlps():
    """The same Linear-ReLU-Linear MLP in torch and in tritongrad (weights copied over)."""
    reference = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 5))
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 5))
    with tritongrad.no_grad():
        for ours, theirs in zip(model.parameters(), reference.parameters()):
            ours.copy_(tritongrad.tensor(theirs.detach().tolist()))
    return model, reference


OPTIMIZERS = {
    "sgd_momentum_nesterov_weight_decay": (
        lambda p: tritongrad.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    ),
    "sgd_momentum_dampening": (
        lambda p: tritongrad.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.1),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.1),
    ),
    "adam": (
        lambda p: tritongrad.optim.Adam(p, lr=1e-2, weight_decay=1e-3),
        lambda p: torch.optim.Adam(p, lr=1e-2, weight_decay=1e-3, foreach=False),
    ),
    "adam_amsgrad": (
        lambda p: tritongrad.optim.Adam(p, lr=1e-2, amsgrad=True),
        lambda p: torch.optim.Adam(p, lr=1e-2, amsgrad=True, foreach=False),
    ),
    "adamw": (
        lambda p: tritongrad.optim.AdamW(p, lr=1e-2, weight_decay=1e-2),
        lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=1e-2, foreach=False),
    ),
    # torch refuses capturable=True for CPU parameters; the capturable update computes the same
    # bias corrections on the device, so torch's default is the oracle.
    "adam_capturable": (
        lambda p: tritongrad.optim.Adam(p, lr=1e-2, weight_decay=1e-3, capturable=True),
        lambda p: torch.optim.Adam(p, lr=1e-2, weight_decay=1e-3, foreach=False),
    ),
    "adamw_capturable_amsgrad": (
        lambda p: tritongrad.optim.AdamW(p, lr=1e-2, amsgrad=True, capturable=True),
        lambda p: torch.optim.AdamW(p, lr=1e-2, amsgrad=True, foreach=False),
    ),
    "rmsprop": (
        lambda p: tritongrad.optim.RMSprop(p, lr=1e-3),
        lambda p: torch.optim.RMSprop(p, lr=1e-3, foreach=False),
    ),
    "rmsprop_centered_momentum_weight_decay": (
        lambda p: tritongrad.optim.RMSprop(p, lr=1e-3, alpha=0.9, momentum=0.5, centered=True, weight_decay=1e-3),
        lambda p: torch.optim.RMSprop(
            p, lr=1e-3, alpha=0.9, momentum=0.5, centered=True, weight_decay=1e-3, foreach=False
        ),
    ),  # fmt: skip
    "rmsprop_maximize_momentum": (
        lambda p: tritongrad.optim.RMSprop(p, lr=1e-3, momentum=0.9, maximize=True),
        lambda p: torch.optim.RMSprop(p, lr=1e-3, momentum=0.9, maximize=True, foreach=False),
    ),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_fifty_steps_match_torch_step_for_step(name):
    make_ours, make_theirs = OPTIMIZERS[name]
    model, reference = make_pair_of_mlps()
    optimizer, reference_optimizer = make_ours(model.parameters()), make_theirs(reference.parameters())
    loss_function, reference_loss = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    for step in range(STEPS):
        inputs = torch.randn(12, 8, generator=generator)
        targets = torch.randint(0, 5, (12,), generator=generator)
        loss = loss_function(model(tritongrad.tensor(inputs.tolist())), tritongrad.tensor(targets.tolist()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        expected = reference_loss(reference(inputs), targets)
        reference_optimizer.zero_grad()
        expected.backward()
        reference_optimizer.step()
        assert loss.item() == pytest.approx(expected.item(), rel=1e-5, abs=1e-6), f"{name}: loss at step {step}"
        for index, (ours, theirs) in enumerate(zip(model.parameters(), reference.parameters())):
            error = (torch.tensor(ours.tolist()) - theirs.detach()).abs().max().item()
            assert error <= 1e-5 + 1e-5 * theirs.detach().abs().max().item(), (
                f"{name}: parameter {index} {tuple(theirs.shape)} differs by {error:.3e} after step {step}"
            )


def count_launches(function) -> dict[str, int]:
    from triton.runtime import interpreter

    counts: dict[str, int] = {}
    original = interpreter.InterpretedFunction.run

    def counting(self, *args, **kwargs):
        counts[self.fn.__name__] = counts.get(self.fn.__name__, 0) + 1
        return original(self, *args, **kwargs)

    interpreter.InterpretedFunction.run = counting
    try:
        function()
    finally:
        interpreter.InterpretedFunction.run = original
    return counts


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda p: tritongrad.optim.SGD(p, lr=0.1, momentum=0.9),
        lambda p: tritongrad.optim.Adam(p, lr=0.1),
        lambda p: tritongrad.optim.AdamW(p, lr=0.1, amsgrad=True),
        lambda p: tritongrad.optim.RMSprop(p, lr=0.1, momentum=0.9, centered=True),
    ],
    ids=["sgd", "adam", "adamw_amsgrad", "rmsprop_centered_momentum"],
)
def test_one_step_of_a_ten_parameter_model_is_one_launch(make_optimizer):
    model = nn.Sequential(*[nn.Linear(3, 3) for _ in range(5)])
    assert len(list(model.parameters())) == 10
    optimizer = make_optimizer(model.parameters())
    model(tritongrad.randn(2, 3)).sum().backward()
    optimizer.step()  # the first step also initialises state
    counts = count_launches(optimizer.step)
    assert sum(counts.values()) == 1, f"one fused launch per group and dtype expected, got {counts}"


@pytest.mark.parametrize("make_optimizer", [tritongrad.optim.Adam, tritongrad.optim.AdamW], ids=["adam", "adamw"])
def test_a_capturable_step_is_two_launches_whatever_the_number_of_parameters(make_optimizer):
    """The step counts are incremented on the device (one launch), then one fused update."""
    counts = []
    for layers in (1, 5):
        model = nn.Sequential(*[nn.Linear(3, 3) for _ in range(layers)])
        optimizer = make_optimizer(model.parameters(), lr=0.1, capturable=True)
        model(tritongrad.randn(2, 3)).sum().backward()
        optimizer.step()
        counts.append(count_launches(optimizer.step))
    assert counts[0] == counts[1] == {"increment_kernel": 1, "adam_step_kernel": 1}, counts


@pytest.mark.parametrize("capturable", [False, True])
def test_adam_state_has_torch_format_and_torch_state_dicts_load(capturable):
    """state['step'] is a float32 0-d tensor (on the CPU, or the parameter's device when capturable),
    and a torch.optim.Adam state dict loaded into our Adam continues as torch continues."""
    model, reference = make_pair_of_mlps()
    ours = tritongrad.optim.Adam(model.parameters(), lr=1e-2, capturable=capturable)
    theirs = torch.optim.Adam(reference.parameters(), lr=1e-2, foreach=False)
    generator = torch.Generator().manual_seed(3)
    batches = [torch.randn(4, 8, generator=generator) for _ in range(5)]
    for batch in batches[:3]:
        theirs.zero_grad()
        reference(batch).sum().backward()
        theirs.step()
    saved = theirs.state_dict()
    with tritongrad.no_grad():
        for mine, original in zip(model.parameters(), reference.parameters()):
            mine.copy_(tritongrad.tensor(original.detach().tolist()))
    ours.load_state_dict({
        "state": {index: {name: tritongrad.Tensor._wrap(value.clone()) for name, value in values.items()}
                  for index, values in saved["state"].items()},
        "param_groups": [{**group, "capturable": capturable} for group in saved["param_groups"]],
    })  # fmt: skip
    for batch in batches[3:]:
        for optimizer, net, lib in ((ours, model, tritongrad), (theirs, reference, torch)):
            optimizer.zero_grad()
            net(lib.tensor(batch.tolist())).sum().backward()
            optimizer.step()
    for index, (mine, original) in enumerate(zip(model.parameters(), reference.parameters())):
        error = (torch.tensor(mine.tolist()) - original.detach()).abs().max().item()
        assert error <= 1e-5, f"parameter {index} differs by {error:.3g} after loading torch's state"
    for param in model.parameters():
        step = ours.state[param]["step"]
        assert step.dtype == tritongrad.float32 and step.shape == () and step.item() == 5.0
        assert step.device == (param.device if capturable else tritongrad.device("cpu"))
    steps = [values["step"] for values in ours.state_dict()["state"].values()]
    assert all(s.item() == 5.0 for s in steps) and len(steps) == 4


def test_groups_and_dtypes_each_get_one_launch():
    floats = [nn.Parameter(tritongrad.randn(4)) for _ in range(3)]
    doubles = [nn.Parameter(tritongrad.randn(4, dtype=tritongrad.float64)) for _ in range(2)]
    optimizer = tritongrad.optim.SGD([{"params": floats}, {"params": doubles, "lr": 0.5}], lr=0.1)
    for p in floats + doubles:
        (p * p).sum().backward()
    assert sum(count_launches(optimizer.step).values()) == 2


def test_zero_grad_set_to_none_and_in_place():
    w = nn.Parameter(tritongrad.randn(3))
    optimizer = tritongrad.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0, 0.0, 0.0]
    optimizer.zero_grad()
    assert w.grad is None


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda w: tritongrad.optim.SGD([w], lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
        (lambda w: tritongrad.optim.SGD([w], lr=0.1, momentum=-1), ValueError, "Invalid momentum value"),
        (lambda w: tritongrad.optim.SGD([w], lr=0.1, nesterov=True), ValueError, "Nesterov momentum requires"),
        (lambda w: tritongrad.optim.Adam([w], betas=(1.0, 0.9)), ValueError, "Invalid beta parameter at index 0"),
        (lambda w: tritongrad.optim.Adam([w], eps=-1), ValueError, "Invalid epsilon value"),
        (lambda w: tritongrad.optim.RMSprop([w], alpha=-0.5), ValueError, "Invalid alpha value: -0.5"),
        (lambda w: tritongrad.optim.RMSprop([w], momentum=-1), ValueError, "Invalid momentum value: -1"),
        (lambda w: tritongrad.optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda w: tritongrad.optim.SGD([w * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
        (lambda w: tritongrad.optim.SGD([[1.0]], lr=0.1), TypeError, "optimizer can only optimize Tensors"),
        (lambda w: tritongrad.optim.SGD(w, lr=0.1), TypeError, "should be an iterable of Tensors or dicts"),
    ],
)
def test_bad_input_raises_like_torch(build, error, message):
    w = nn.Parameter(tritongrad.randn(2))
    with pytest.raises(error, match=message):
        build(w)


@pytest.mark.parametrize(
    "name, options",
    [
        ("SGD", dict(lr=0.1)),
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
        ("Adam", dict(lr=0.1)),
        ("AdamW", dict(lr=0.1, amsgrad=True)),
        ("RMSprop", dict(lr=0.1, momentum=0.5, centered=True)),
    ],
)
def test_a_parameter_listed_twice_warns_and_updates_as_torch(name, options):
    """torch warns and runs its per-parameter loop over both listings (momentum buffers made by the
    first listing of a step count as fresh for the second); three steps must land where torch's do."""
    generator = torch.Generator().manual_seed(7)
    start, other_start = torch.randn(5, generator=generator), torch.randn(3, generator=generator)
    grads = [(torch.randn(5, generator=generator), torch.randn(3, generator=generator)) for _ in range(3)]
    finals = []
    for lib in (torch, tritongrad):
        p = lib.nn.Parameter(lib.tensor(start.tolist()))
        q = lib.nn.Parameter(lib.tensor(other_start.tolist()))
        with pytest.warns(UserWarning, match="duplicate parameters"):
            optimizer = getattr(lib.optim, name)([p, q, p], **options)
        for grad_p, grad_q in grads:
            p.grad, q.grad = lib.tensor(grad_p.tolist()), lib.tensor(grad_q.tolist())
            optimizer.step()
        finals.append(torch.tensor(p.detach().tolist() + q.detach().tolist()))
    error = (finals[0] - finals[1]).abs().max().item()
    assert error < 1e-5, f"{name} {options}: max error {error:.3g} against torch"


def test_state_dict_round_trip_continues_identically():
    model, _ = make_pair_of_mlps()
    optimizer = tritongrad.optim.Adam(model.parameters(), lr=1e-2)
    data = tritongrad.randn(4, 8)
    for _ in range(3):
        optimizer.zero_grad()
        model(data).sum().backward()
        optimizer.step()
    saved_model, saved_optimizer = model.state_dict(), optimizer.state_dict()
    clone, _ = make_pair_of_mlps()
    clone.load_state_dict({k: v.clone() for k, v in saved_model.items()})
    clone_optimizer = tritongrad.optim.Adam(clone.parameters(), lr=1e-2)
    clone_optimizer.load_state_dict(saved_optimizer)
    for m, o in ((model, optimizer), (clone, clone_optimizer)):
        o.zero_grad()
        m(data).sum().backward()
        o.step()
    for ours, theirs in zip(model.parameters(), clone.parameters()):
        assert ours.tolist() == theirs.tolist()


def test_load_state_dict_with_wrong_groups_raises():
    w = nn.Parameter(tritongrad.randn(2))
    optimizer = tritongrad.optim.SGD([w], lr=0.1)
    other = tritongrad.optim.SGD([nn.Parameter(tritongrad.randn(2)), nn.Parameter(tritongrad.randn(2))], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optimizer.load_state_dict(other.state_dict())


def test_schedulers_match_torch():
    for make_ours, make_theirs in (
        (lambda o: tritongrad.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
         lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
        (lambda o: tritongrad.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01)),
        (lambda o: tritongrad.optim.lr_scheduler.MultiStepLR(o, milestones=[5, 2, 8], gamma=0.3),
         lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[5, 2, 8], gamma=0.3)),
        (lambda o: tritongrad.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
         lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
        (lambda o: tritongrad.optim.lr_scheduler.LambdaLR(o, lambda epoch: 1 / (1 + epoch)),
         lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda epoch: 1 / (1 + epoch))),
    ):  # fmt: skip
        ours = tritongrad.optim.SGD([nn.Parameter(tritongrad.randn(2))], lr=0.1)
        theirs = torch.optim.SGD([torch.nn.Parameter(torch.randn(2))], lr=0.1)
        scheduler, reference = make_ours(ours), make_theirs(theirs)
        for _ in range(10):
            assert scheduler.get_last_lr()[0] == pytest.approx(reference.get_last_lr()[0], rel=1e-12)
            ours.step()
            theirs.step()
            scheduler.step()
            reference.step()


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_parameter_without_grad_is_skipped_like_torch(name):
    """torch accepts a parameter that does not require grad and leaves it alone (its grad is None)."""
    make_ours, make_theirs = OPTIMIZERS[name]
    values = torch.randn(3, 4, dtype=torch.float64).float()
    theirs = [torch.nn.Parameter(values.clone()), torch.nn.Parameter(values.clone(), requires_grad=False)]
    ours = [nn.Parameter(tritongrad.tensor(values.tolist())),
            nn.Parameter(tritongrad.tensor(values.tolist()), requires_grad=False)]  # fmt: skip
    optimizers = make_ours(ours), make_theirs(theirs)
    for _ in range(3):
        for optimizer, params in zip(optimizers, (ours, theirs)):
            optimizer.zero_grad()
            (params[0] * params[0]).sum().backward()
            optimizer.step()
    for mine, reference in zip(ours, theirs):
        torch.testing.assert_close(torch.tensor(mine.tolist()), reference.detach(), rtol=1e-5, atol=1e-6)
    assert ours[1].grad is None and ours[1].tolist() == values.tolist()


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("layout", ["transposed", "permuted_3d"])
def test_non_contiguous_parameters_match_torch(name, layout):
    """A parameter that is a transposed (dense, non-contiguous) tensor steps exactly as in torch,
    whatever the layout of its gradient; its optimizer state keeps the parameter's strides."""
    make_ours, make_theirs = OPTIMIZERS[name]
    shape, permutation = ((5, 3), (1, 0)) if layout == "transposed" else ((2, 3, 4), (2, 0, 1))
    base = torch.randn(*shape, dtype=torch.float64).float()
    theirs = torch.nn.Parameter(base.clone().permute(*permutation))
    ours = nn.Parameter(tritongrad.Tensor._wrap(base.clone().permute(*permutation)))
    assert not ours.is_contiguous()
    target = torch.randn(*theirs.shape, dtype=torch.float64).float()
    optimizers = make_ours([ours]), make_theirs([theirs])
    for _ in range(3):
        for optimizer, param, lib in zip(optimizers, (ours, theirs), (tritongrad, torch)):
            optimizer.zero_grad()
            goal = lib.tensor(target.tolist())
            ((param - goal) ** 2 * goal).sum().backward()
            optimizer.step()
    torch.testing.assert_close(torch.tensor(ours.tolist()), theirs.detach(), rtol=1e-5, atol=1e-6)
    assert ours._data.stride() == theirs.stride()


def _one_cycle(lib, optimizer, **kwargs):
    return lib.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.5, total_steps=20, **kwargs)


def _sequential(lib, optimizer):
    schedulers = lib.optim.lr_scheduler
    warmup = schedulers.LinearLR(optimizer, start_factor=0.1, total_iters=4)
    decay = schedulers.ExponentialLR(optimizer, gamma=0.8)
    return schedulers.SequentialLR(optimizer, [warmup, decay], milestones=[4])


SCHEDULES = {
    "linear": lambda lib, o: lib.optim.lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=6),
    "constant": lambda lib, o: lib.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=4),
    "polynomial": lambda lib, o: lib.optim.lr_scheduler.PolynomialLR(o, total_iters=8, power=2.0),
    "warm_restarts": lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                                       eta_min=0.001),
    "one_cycle_cos": lambda lib, o: _one_cycle(lib, o),
    "one_cycle_linear_three_phase": lambda lib, o: _one_cycle(lib, o, anneal_strategy="linear", three_phase=True),
    "sequential_warmup_then_decay": _sequential,
}  # fmt: skip


@pytest.mark.parametrize("name", list(SCHEDULES))
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_more_schedulers_match_torch_step_by_step(name, optimizer):
    def build(lib):
        parameter = lib.nn.Parameter(lib.zeros(2))
        if optimizer == "sgd":
            return lib.optim.SGD([parameter], lr=0.1, momentum=0.9)
        return lib.optim.Adam([parameter], lr=0.1)

    ours, theirs = build(tritongrad), build(torch)
    scheduler, reference = SCHEDULES[name](tritongrad, ours), SCHEDULES[name](torch, theirs)
    for step in range(19):
        assert scheduler.get_last_lr()[0] == pytest.approx(reference.get_last_lr()[0], rel=1e-9, abs=1e-15), step
        assert ours.param_groups[0]["lr"] == pytest.approx(theirs.param_groups[0]["lr"], rel=1e-9, abs=1e-15)
        momentum = "momentum" if optimizer == "sgd" else "betas"
        assert ours.param_groups[0][momentum] == pytest.approx(theirs.param_groups[0][momentum], rel=1e-9), step
        ours.step()
        theirs.step()
        scheduler.step()
        reference.step()


@pytest.mark.parametrize("mode, threshold_mode", [("min", "rel"), ("max", "abs")])
def test_reduce_lr_on_plateau_matches_torch(mode, threshold_mode):
    metrics = [1.0, 0.9, 0.95, 0.97, 0.96, 0.99, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 0.4, 0.45, 0.46]
    ours = tritongrad.optim.SGD([nn.Parameter(tritongrad.zeros(2))], lr=1.0)
    theirs = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=1.0)
    options = dict(mode=mode, factor=0.5, patience=2, threshold=0.01, threshold_mode=threshold_mode, cooldown=1,
                   min_lr=0.05)  # fmt: skip
    scheduler = tritongrad.optim.lr_scheduler.ReduceLROnPlateau(ours, **options)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **options)
    for metric in metrics:
        scheduler.step(tritongrad.tensor(metric))
        reference.step(metric)
        assert ours.param_groups[0]["lr"] == pytest.approx(theirs.param_groups[0]["lr"], rel=1e-12)
        assert scheduler.get_last_lr() == pytest.approx(reference.get_last_lr(), rel=1e-12)


def _schedule_transcript(lib, make_optimizer, make_scheduler, steps: int = 9, optimizer_first: bool = True):
    """Each step's lr and momentum (or beta1) and the warnings raised, for a scheduler over an optimizer."""
    import warnings

    parameter = lib.nn.Parameter(lib.ones(2))
    optimizer = make_optimizer(lib, [parameter])
    scheduler = make_scheduler(lib.optim.lr_scheduler, optimizer)
    values = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            if optimizer_first:
                optimizer.step()
            scheduler.step()
            if not optimizer_first:
                optimizer.step()
            group = optimizer.param_groups[0]
            values.append((round(group["lr"], 9), round(group.get("momentum", group.get("betas", (0,))[0]), 9)))
    return values, [str(warning.message)[:40] for warning in caught]


_SGD = lambda lib, params: lib.optim.SGD(params, lr=0.1, momentum=0.9)  # noqa: E731
_ADAM = lambda lib, params: lib.optim.Adam(params, lr=0.1)  # noqa: E731
SCHEDULE_TRANSCRIPTS = {
    "CyclicLR triangular": (_SGD, lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=2), True),
    "CyclicLR triangular2": (
        _SGD, lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=2, step_size_down=3, mode="triangular2"), True,
    ),
    "CyclicLR exp_range over Adam's beta1": (
        _ADAM, lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=2, mode="exp_range", gamma=0.9), True,
    ),
    "ChainedScheduler": (
        _SGD, lambda s, o: s.ChainedScheduler([s.ConstantLR(o, factor=0.1, total_iters=2), s.ExponentialLR(o, 0.9)]),
        True,
    ),
    "SequentialLR": (
        _SGD, lambda s, o: s.SequentialLR(o, [s.ConstantLR(o, factor=0.5, total_iters=2), s.ExponentialLR(o, 0.9)],
                                          milestones=[3]), True,
    ),
    "a scheduler stepped before its optimizer warns": (_SGD, lambda s, o: s.StepLR(o, 2), False),
}  # fmt: skip


@pytest.mark.parametrize("name", list(SCHEDULE_TRANSCRIPTS))
def test_schedules_and_their_warnings_match_torch(name):
    make_optimizer, make_scheduler, optimizer_first = SCHEDULE_TRANSCRIPTS[name]
    assert _schedule_transcript(tritongrad, make_optimizer, make_scheduler, optimizer_first=optimizer_first) == (
        _schedule_transcript(torch, make_optimizer, make_scheduler, optimizer_first=optimizer_first)
    )


def _scheduler_misuse(lib):
    import warnings

    outcomes = []
    for make in (
        lambda: lib.optim.lr_scheduler.StepLR([1, 2], 1),
        lambda: lib.optim.lr_scheduler.StepLR(lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1), 1, last_epoch=5),
    ):
        try:
            make()
            outcomes.append(None)
        except Exception as error:  # noqa: BLE001 - the exception type is what is compared
            outcomes.append(type(error).__name__)
    parameter = lib.nn.Parameter(lib.ones(1))
    optimizer = lib.optim.SGD([parameter], lr=0.1)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, 1)
    optimizer.step()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler.step(3)
    outcomes.append([str(warning.message)[:40] for warning in caught])
    # nesterov in an added group without momentum: torch checks only the constructor's defaults
    other = lib.nn.Parameter(lib.ones(2))
    optimizer.add_param_group({"params": [other], "momentum": 0, "nesterov": True})
    (other * 2).sum().backward()
    optimizer.step()
    outcomes.append(other.tolist())
    return outcomes


def test_scheduler_and_optimizer_misuse_match_torch():
    assert _scheduler_misuse(tritongrad) == _scheduler_misuse(torch)
