"""Rprop and ASGD against torch.optim (single-tensor implementations, ``foreach=False``): step-for-step
parameters and state for their hyperparameters in float32 and float64, a parameter without a gradient,
state dicts (torch's loaded into ours), one launch per step, add_param_group, repr and torch's errors."""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn as nn
from tests.test_optim import count_launches
from tests.test_optim_adaptive import assert_optimizers_agree, initial_values, make_pair
from tests.utils import from_torch

CASES = {
    "rprop": ("Rprop", {}),
    # Narrow step-size bounds make the clamp bite; maximize flips the gradient.
    "rprop_etas_bounds_maximize": ("Rprop", dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(0.05, 0.2), maximize=True)),
    "asgd": ("ASGD", {}),
    # t0 = 1: averaging (mu != 1) starts at step 2.
    "asgd_averaging_weight_decay": ("ASGD", dict(lr=0.1, lambd=0.1, alpha=0.5, t0=1, weight_decay=0.1)),
    "asgd_maximize": ("ASGD", dict(lr=0.05, maximize=True)),
}


def run_steps(ours, mine, theirs, reference, grads, dtype, what, skip=None):
    for step, step_grads in enumerate(grads):
        for index, (p, q, g) in enumerate(zip(mine, reference, step_grads)):
            g = g.clone()
            if step == 1 and g.numel() > 1:
                g.view(-1)[0] = 0.0  # a zero gradient: Rprop's "no sign" branch
            skipped = skip is not None and (index, step) == skip
            p.grad, q.grad = (None, None) if skipped else (from_torch(g), g)
        ours.step()
        theirs.step()
        assert_optimizers_agree(ours, theirs, mine, reference, dtype, f"{what} step {step + 1}")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("case", list(CASES))
def test_steps_match_torch(case, dtype):
    name, options = CASES[case]
    params, grads = initial_values(dtype, steps=4)
    (ours, mine), (theirs, reference) = make_pair(name, options, params, dtype)
    run_steps(ours, mine, theirs, reference, grads, dtype, case)


@pytest.mark.parametrize("case", ["rprop_etas_bounds_maximize", "asgd_averaging_weight_decay"])
def test_parameter_without_grad_is_skipped(case):
    """A parameter that first gets a gradient a step late has its own step count (ASGD: its own eta and
    mu, so a second launch), as in torch."""
    name, options = CASES[case]
    params, grads = initial_values(torch.float32)
    (ours, mine), (theirs, reference) = make_pair(name, options, params, torch.float32)
    run_steps(ours, mine, theirs, reference, grads, torch.float32, case, skip=(2, 0))


@pytest.mark.parametrize("case", ["rprop_etas_bounds_maximize", "asgd_averaging_weight_decay"])
def test_torch_state_dict_loads_and_round_trips(case):
    name, options = CASES[case]
    params, grads = initial_values(torch.float32)
    (ours, mine), (theirs, reference) = make_pair(name, options, params, torch.float32)
    for step_grads in grads[:2]:
        for q, g in zip(reference, step_grads):
            q.grad = g
        theirs.step()
    saved = theirs.state_dict()
    with tritongrad.no_grad():
        for p, q in zip(mine, reference):
            p.copy_(from_torch(q.detach()))
    ours.load_state_dict({
        "state": {index: {key: tritongrad.Tensor._wrap(value.clone()) for key, value in values.items()}
                  for index, values in saved["state"].items()},
        "param_groups": saved["param_groups"],
    })  # fmt: skip
    packed = ours.state_dict()
    assert packed["param_groups"] == saved["param_groups"]
    copies = [nn.Parameter(from_torch(p._data)) for p in mine]
    restored = getattr(tritongrad.optim, name)(copies, **options)
    restored.load_state_dict(packed)
    for p, c, q, g in zip(mine, copies, reference, grads[2]):
        p.grad, c.grad, q.grad = from_torch(g), from_torch(g), g
    for optimizer in (ours, restored, theirs):
        optimizer.step()
    assert_optimizers_agree(ours, theirs, mine, reference, torch.float32, f"{case} after loading torch's state")
    for p, c in zip(mine, copies):
        assert p.tolist() == c.tolist()


@pytest.mark.parametrize("name", ["Rprop", "ASGD"])
def test_a_step_of_many_parameters_is_one_launch(name):
    params = [nn.Parameter(from_torch(torch.linspace(-1, 1, 3 + i))) for i in range(5)]
    optimizer = getattr(tritongrad.optim, name)(params, foreach=True)  # foreach: accepted, every step is fused
    for step in range(2):
        for p in params:
            p.grad = from_torch(torch.linspace(1, -2, p.numel()))
        counts = count_launches(optimizer.step)
        step_kernels = {k: v for k, v in counts.items() if k.endswith("_step_kernel")}
        assert step_kernels == {f"{name.lower()}_step_kernel": 1}, f"step {step}: {counts}"


@pytest.mark.parametrize("name, options", [("Rprop", dict(etas=(0.4, 1.1))), ("ASGD", dict(lambd=1e-3, t0=2))])
def test_repr_param_groups_and_defaults_like_torch(name, options):
    mine = [nn.Parameter(tritongrad.ones(2)) for _ in range(2)]
    theirs = [torch.nn.Parameter(torch.ones(2)) for _ in range(2)]
    ours = getattr(tritongrad.optim, name)([mine[0]], lr=0.5, **options)
    reference = getattr(torch.optim, name)([theirs[0]], lr=0.5, **options)
    ours.add_param_group({"params": [mine[1]], "lr": 0.25})
    reference.add_param_group({"params": [theirs[1]], "lr": 0.25})
    assert repr(ours) == repr(reference)
    assert ours.defaults == reference.defaults
    assert ours.state_dict()["param_groups"] == reference.state_dict()["param_groups"]


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("Rprop", dict(lr=-1), "Invalid learning rate: -1"),
        ("Rprop", dict(etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
        ("Rprop", dict(etas=(0.5, 0.9)), "Invalid eta values: 0.5, 0.9"),
        ("ASGD", dict(lr=-0.1), "Invalid learning rate: -0.1"),
        ("ASGD", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ],
)
def test_bad_hyperparameters_raise_torch_errors(name, options, message):
    for lib in (torch, tritongrad):
        with pytest.raises(ValueError, match=f"^{message}$"):
            getattr(lib.optim, name)([lib.nn.Parameter(lib.ones(2))], **options)
