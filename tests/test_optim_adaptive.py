"""Adagrad, Adadelta, Adamax, NAdam and RAdam against torch.optim (single-tensor implementations, ``foreach=False``):
step-for-step parity for every hyperparameter flag and dtype, a transposed parameter, a parameter
without a gradient, state dicts (ours and torch's), one launch per step, and torch's validation errors."""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn as nn
from tests.test_optim import count_launches
from tests.utils import assert_close, from_torch, random_values

STEPS = 3

CASES = {
    "adagrad": ("Adagrad", {}),
    "adagrad_lr_decay_weight_decay": ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1)),
    "adagrad_initial_accumulator_maximize": (
        "Adagrad",
        dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-3, maximize=True),
    ),  # fmt: skip
    "adadelta": ("Adadelta", {}),
    "adadelta_rho_eps_weight_decay_maximize": (
        "Adadelta",
        dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True),
    ),  # fmt: skip
    "adamax": ("Adamax", {}),
    "adamax_betas_weight_decay": ("Adamax", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    "adamax_eps_maximize": ("Adamax", dict(lr=0.05, eps=1e-3, maximize=True)),
    "nadam": ("NAdam", {}),
    "nadam_momentum_decay_weight_decay_maximize": (
        "NAdam",
        dict(lr=0.05, betas=(0.8, 0.99), momentum_decay=0.1, weight_decay=0.1, maximize=True),
    ),  # fmt: skip
    "nadam_decoupled_weight_decay": ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    "radam": ("RAdam", {}),
    "radam_weight_decay_maximize": ("RAdam", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)),
    "radam_decoupled_weight_decay": ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
}

# Shapes: one element, an empty parameter, an aligned 16-element vector (the 128-bit path in float32),
# a prime length (the general path) and a transposed matrix (dense, not contiguous).
SHAPES = [(1,), (0,), (16,), (13,), (5, 3)]
TRANSPOSED = 4

# (rtol, atol) on parameters and state. float32/float64 follow torch's operation order and match to
# rounding. Half params compute in float32 and round once on store, which torch (rounding every
# intermediate to half) does not; their oracle is torch's float32 step with parameters and state
# rounded to the half dtype after each step, so results agree to about one half ulp.
TOLERANCES = {
    torch.float32: (1e-5, 1e-6),
    torch.float64: (1e-12, 1e-13),
    torch.float16: (2e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
}


def round_like_storage(optimizer: torch.optim.Optimizer, params: list[torch.Tensor], dtype: torch.dtype) -> None:
    """Rounds torch's float32 parameters and state to ``dtype`` (and back), as half storage does."""
    with torch.no_grad():
        for p in params:
            p.copy_(p.to(dtype).float())
            for value in optimizer.state[p].values():
                if value.dim() > 0:  # not the host scalars (step, mu_product)
                    value.copy_(value.to(dtype).float())


def initial_values(dtype: torch.dtype, steps: int = STEPS) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
    """Random parameters and ``steps`` rounds of random gradients of ``dtype`` (the transposed one as a view)."""
    params = [random_values(shape, dtype) for shape in SHAPES]
    params[TRANSPOSED] = random_values(SHAPES[TRANSPOSED][::-1], dtype).t()
    grads = [[random_values(shape, dtype) for shape in SHAPES] for _ in range(steps)]
    return params, grads


def make_pair(name: str, options: dict, params: list[torch.Tensor], oracle_dtype: torch.dtype):
    """(our optimizer and params, torch's optimizer and params in ``oracle_dtype``), same starting values."""
    ours = [nn.Parameter(from_torch(p)) for p in params]
    theirs = [torch.nn.Parameter(p.to(oracle_dtype)) for p in params]
    return (
        (getattr(tritongrad.optim, name)(ours, **options), ours),
        (getattr(torch.optim, name)(theirs, foreach=False, **options), theirs),
    )


def assert_optimizers_agree(ours, theirs, params, reference, dtype, what: str) -> None:
    rtol, atol = TOLERANCES[dtype]
    for index, (mine, original) in enumerate(zip(params, reference)):
        label = f"{what}: parameter {index} {tuple(original.shape)} {dtype}"
        assert mine._data.stride() == original.stride() or mine.numel() <= 1, f"{label}: strides changed"
        assert_close(mine, original.detach().to(dtype), dtype, rtol=rtol, atol=atol, what=label)
        mine_state, their_state = ours.state[mine], theirs.state[original]
        assert sorted(mine_state) == sorted(their_state), f"{label}: state names"
        for key, value in their_state.items():
            if value.dim() == 0:  # step, mu_product: float32 0-d CPU tensors, equal to torch's
                scalar = mine_state[key]
                assert scalar.dtype == tritongrad.float32 and scalar.shape == () and scalar.device.type == "cpu"
                assert scalar.item() == value.item(), f"{label}: {key} {scalar.item()} != {value.item()}"
            else:
                assert_close(mine_state[key], value.to(dtype), dtype, rtol=rtol, atol=atol, what=f"{label} {key}")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("case", list(CASES))
def test_steps_match_torch(case, dtype):
    name, options = CASES[case]
    params, grads = initial_values(dtype)
    oracle_dtype = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
    (ours, mine), (theirs, reference) = make_pair(name, options, params, oracle_dtype)
    for step, step_grads in enumerate(grads):
        for p, q, g in zip(mine, reference, step_grads):
            p.grad, q.grad = from_torch(g), g.to(oracle_dtype)
        ours.step()
        theirs.step()
        if oracle_dtype != dtype:
            round_like_storage(theirs, reference, dtype)
        assert_optimizers_agree(ours, theirs, mine, reference, dtype, f"{case} step {step + 1}")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_radam_steps_before_and_after_the_rectification_starts(dtype):
    """With beta2 = 0.99 the variance rectification is defined (rho_t > 5) from step 6 on: steps 1-5 are
    plain momentum steps, steps 6-8 rectified ones; both branches must follow torch."""
    params, grads = initial_values(dtype, steps=8)
    options = dict(lr=0.05, betas=(0.9, 0.99), weight_decay=0.01)
    (ours, mine), (theirs, reference) = make_pair("RAdam", options, params, dtype)
    for step, step_grads in enumerate(grads):
        for p, q, g in zip(mine, reference, step_grads):
            p.grad, q.grad = from_torch(g), g
        ours.step()
        theirs.step()
        assert_optimizers_agree(ours, theirs, mine, reference, dtype, f"RAdam step {step + 1}")


@pytest.mark.parametrize(
    "case", ["adagrad_lr_decay_weight_decay", "adadelta", "adamax_betas_weight_decay", "nadam", "radam"]
)
def test_parameter_without_grad_is_skipped_and_steps_counted_per_parameter(case):
    """A parameter without a gradient keeps its values (and torch's state for it); when it gets one
    later, its step count lags the others' as in torch, so Adagrad's and Adamax's host-side rates differ."""
    name, options = CASES[case]
    params, grads = initial_values(torch.float32)
    (ours, mine), (theirs, reference) = make_pair(name, options, params, torch.float32)
    for step, step_grads in enumerate(grads):
        for index, (p, q, g) in enumerate(zip(mine, reference, step_grads)):
            skipped = index == 2 and step == 0
            p.grad, q.grad = (None, None) if skipped else (from_torch(g), g)
        ours.step()
        theirs.step()
        if step == 0:
            assert mine[2].tolist() == params[2].tolist()
        assert_optimizers_agree(ours, theirs, mine, reference, torch.float32, f"{case} step {step + 1}")


@pytest.mark.parametrize(
    "case",
    [
        "adagrad_initial_accumulator_maximize",
        "adadelta",
        "adamax_eps_maximize",
        "nadam",
        "radam_decoupled_weight_decay",
    ],
)
def test_state_dict_round_trips_and_torch_state_dicts_load(case):
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
    assert {i: sorted(values) for i, values in packed["state"].items()} == {
        i: sorted(values) for i, values in saved["state"].items()
    }
    # A copy of our optimizer, restored from our own state dict, continues bit for bit like it.
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


def test_adadelta_with_step_lr_like_the_mnist_example():
    """PyTorch's MNIST example: Adadelta(lr=1.0) and StepLR(step_size=1, gamma=0.7), stepped per epoch."""
    params, grads = initial_values(torch.float32)
    (ours, mine), (theirs, reference) = make_pair("Adadelta", dict(lr=1.0), params, torch.float32)
    schedulers = [lib.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.7) for lib, o in
                  ((tritongrad, ours), (torch, theirs))]  # fmt: skip
    for epoch, step_grads in enumerate(grads):
        for p, q, g in zip(mine, reference, step_grads):
            p.grad, q.grad = from_torch(g), g
        for optimizer, scheduler in zip((ours, theirs), schedulers):
            optimizer.step()
            scheduler.step()
        assert ours.param_groups[0]["lr"] == pytest.approx(theirs.param_groups[0]["lr"], rel=1e-15)
        assert_optimizers_agree(ours, theirs, mine, reference, torch.float32, f"epoch {epoch}")


@pytest.mark.parametrize("name", ["Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"])
def test_a_step_of_many_parameters_is_one_launch(name):
    params = [nn.Parameter(from_torch(random_values((3 + i,), torch.float32))) for i in range(6)]
    optimizer = getattr(tritongrad.optim, name)(params, foreach=True)  # foreach: accepted, every step is fused
    for step in range(2):
        for p in params:
            p.grad = from_torch(random_values(tuple(p.shape), torch.float32))
        counts = count_launches(optimizer.step)
        step_kernels = {k: v for k, v in counts.items() if k.endswith("_step_kernel")}
        assert step_kernels == {f"{name.lower()}_step_kernel": 1}, f"step {step}: {counts}"


def test_half_params_in_one_group_get_one_launch_per_dtype():
    params = [nn.Parameter(from_torch(random_values((5,), dtype))) for dtype in (torch.float16, torch.float32)]
    optimizer = tritongrad.optim.Adamax(params)
    for p in params:
        p.grad = from_torch(random_values((5,), p._data.dtype))
    assert count_launches(optimizer.step).get("adamax_step_kernel") == 2
    assert [optimizer.state[p]["exp_avg"].dtype for p in params] == [tritongrad.float16, tritongrad.float32]


@pytest.mark.parametrize(
    "name, options, error, message",
    [
        ("Adagrad", dict(lr=-1), ValueError, "Invalid learning rate: -1"),
        ("Adagrad", dict(lr_decay=-0.5), ValueError, "Invalid lr_decay value: -0.5"),
        ("Adagrad", dict(weight_decay=-1e-3), ValueError, "Invalid weight_decay value: -0.001"),
        ("Adagrad", dict(initial_accumulator_value=-1.0), ValueError, "Invalid initial_accumulator_value value: -1.0"),
        ("Adagrad", dict(eps=-1e-10), ValueError, "Invalid epsilon value: -1e-10"),
        ("Adadelta", dict(lr=-1), ValueError, "Invalid learning rate: -1"),
        ("Adadelta", dict(rho=1.5), ValueError, "Invalid rho value: 1.5"),
        ("Adadelta", dict(eps=-1.0), ValueError, "Invalid epsilon value: -1.0"),
        ("Adadelta", dict(weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
        ("Adamax", dict(lr=-1), ValueError, "Invalid learning rate: -1"),
        ("Adamax", dict(eps=-1.0), ValueError, "Invalid epsilon value: -1.0"),
        ("Adamax", dict(betas=(1.0, 0.9)), ValueError, "Invalid beta parameter at index 0: 1.0"),
        ("Adamax", dict(betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1: -0.1"),
        ("Adamax", dict(weight_decay=-2), ValueError, "Invalid weight_decay value: -2"),
        ("NAdam", dict(lr=-1), ValueError, "Invalid learning rate: -1"),
        ("NAdam", dict(betas=(0.9, 1.0)), ValueError, "Invalid beta parameter at index 1: 1.0"),
        ("NAdam", dict(momentum_decay=-1.0), ValueError, "Invalid momentum_decay value: -1.0"),
        ("RAdam", dict(eps=-1e-8), ValueError, "Invalid epsilon value: -1e-08"),
        ("RAdam", dict(betas=(-0.1, 0.9)), ValueError, "Invalid beta parameter at index 0: -0.1"),
        ("RAdam", dict(weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    ],
)
def test_bad_hyperparameters_raise_torch_errors(name, options, error, message):
    for lib in (torch, tritongrad):
        with pytest.raises(error, match=f"^{message}$"):
            getattr(lib.optim, name)([lib.nn.Parameter(lib.randn(2))], **options)
