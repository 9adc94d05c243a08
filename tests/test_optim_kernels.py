"""kernels/optim.py against torch.optim: fused multi-tensor SGD, Adam/AdamW, RMSprop and the zero fill.

Each parity test builds one parameter group of varied shapes, runs five steps of our launcher
and of torch.optim (single-tensor implementation, ``foreach=False``) on clones with the same
fresh gradients each step, and compares parameters and optimizer state after every step.
"""

from __future__ import annotations

import gc

import pytest
import torch

from tests.utils import assert_close, tolerance
from tritongrad import runtime
from tritongrad.kernels import optim as optim_kernels
from tritongrad.kernels.optim import launch_adam_step, launch_rmsprop_step, launch_sgd_step, launch_zero_

DEVICE = runtime.device()
STEPS = 5

# One group exercising every chunking case: a single element, an empty parameter, a matrix,
# a prime length, and one larger than one interpreter block (2**16 elements) that splits in two.
GROUP_SHAPES = [(1,), (0,), (13, 7), (101,), (70_000,)]


def make_group(dtype: torch.dtype, shapes=GROUP_SHAPES) -> list[torch.Tensor]:
    return [torch.randn(shape, dtype=dtype, device=DEVICE) for shape in shapes]


def fresh_grads(params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [torch.randn_like(p) for p in params]


def torch_reference(params: list[torch.Tensor], optimizer_class, **options):
    """Leaf clones of ``params`` and a torch optimizer over them."""
    reference = [p.detach().clone().requires_grad_(True) for p in params]
    return reference, optimizer_class(reference, foreach=False, **options)


def torch_step(reference, optimizer, grads) -> None:
    for parameter, grad in zip(reference, grads):
        parameter.grad = grad.clone()
    optimizer.step()


# ----------------------------------------------------------------------------------------------
# SGD
# ----------------------------------------------------------------------------------------------

SGD_CASES = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.1, momentum=0.9),
    "dampening": dict(lr=0.05, momentum=0.8, dampening=0.3),
    "nesterov": dict(lr=0.1, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=0.1, weight_decay=0.01),
    "maximize": dict(lr=0.1, momentum=0.5, maximize=True),
    "everything": dict(lr=0.03, momentum=0.7, weight_decay=0.1, nesterov=True, maximize=True),
}


def sgd_options(case: dict) -> dict:
    defaults = dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False)
    return {**defaults, **case}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", list(SGD_CASES))
def test_sgd_matches_torch(case, dtype):
    options = sgd_options(SGD_CASES[case])
    params = make_group(dtype)
    reference, optimizer = torch_reference(params, torch.optim.SGD, **options)
    buffers = [torch.empty_like(p) for p in params] if options["momentum"] != 0 else None
    for step in range(STEPS):
        grads = fresh_grads(params)
        grads_before = [g.clone() for g in grads]
        torch_step(reference, optimizer, grads)
        launch_sgd_step(params, grads, buffers, **options, first_step=step == 0)
        for i, (ours, theirs) in enumerate(zip(params, reference)):
            assert_close(
                ours,
                theirs.detach(),
                dtype,
                kind="optim",
                what=f"SGD {case} step {step + 1} param {i}",
                check_dtype=dtype,
            )
            assert torch.equal(grads[i], grads_before[i]), f"SGD {case} modified grad {i}"
            if buffers is not None:
                expected = optimizer.state[theirs]["momentum_buffer"]
                assert_close(
                    buffers[i],
                    expected,
                    dtype,
                    kind="optim",
                    what=f"SGD {case} step {step + 1} buffer {i}",
                    check_dtype=dtype,
                )


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_sgd_half_params_and_state(dtype):
    # Half params, grads and momentum buffers, float32 arithmetic, one rounding per stored value.
    # The oracle is torch.optim in float32 on upcast copies whose params and buffers are rounded
    # to the half dtype after every step: the same computation, so results agree to rounding.
    options = sgd_options(SGD_CASES["everything"])
    params = make_group(dtype)
    reference, optimizer = torch_reference([p.float() for p in params], torch.optim.SGD, **options)
    buffers = [torch.empty_like(p) for p in params]
    for step in range(STEPS):
        grads = fresh_grads(params)
        torch_step(reference, optimizer, [g.float() for g in grads])
        round_to(dtype, reference + [optimizer.state[r]["momentum_buffer"] for r in reference])
        launch_sgd_step(params, grads, buffers, **options, first_step=step == 0)
        for i, (ours, theirs) in enumerate(zip(params, reference)):
            assert_close(
                ours,
                theirs.detach(),
                dtype,
                kind="optim",
                what=f"SGD {dtype} step {step + 1} param {i}",
                check_dtype=dtype,
            )
            expected = optimizer.state[theirs]["momentum_buffer"]
            assert_close(
                buffers[i],
                expected,
                dtype,
                kind="optim",
                what=f"SGD {dtype} step {step + 1} buffer {i}",
                check_dtype=dtype,
            )


def round_to(dtype: torch.dtype, tensors: list[torch.Tensor]) -> None:
    """Rounds float32 tensors to ``dtype`` in place (they stay float32)."""
    with torch.no_grad():
        for tensor in tensors:
            tensor.copy_(tensor.to(dtype).float())


# ----------------------------------------------------------------------------------------------
# Adam / AdamW
# ----------------------------------------------------------------------------------------------

ADAM_CASES = {
    "adam": (torch.optim.Adam, dict(lr=1e-2)),
    "adam_weight_decay": (torch.optim.Adam, dict(lr=1e-2, weight_decay=0.1)),
    "adam_amsgrad": (torch.optim.Adam, dict(lr=1e-2, amsgrad=True, betas=(0.8, 0.99))),
    "adam_maximize": (torch.optim.Adam, dict(lr=1e-2, maximize=True, eps=1e-6)),
    "adamw": (torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.05)),
    "adamw_amsgrad_maximize": (
        torch.optim.AdamW,
        dict(lr=3e-3, weight_decay=0.2, amsgrad=True, maximize=True),
    ),
    # beta1 < 0.5 takes lerp's other formula (from the gradient's side).
    "adam_small_beta1": (torch.optim.Adam, dict(lr=1e-2, betas=(0.3, 0.9))),
}


def adam_options(optimizer_class, case: dict) -> tuple[dict, dict]:
    """(torch options, our launcher's options) for one case."""
    defaults = dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False)
    if optimizer_class is torch.optim.AdamW:
        defaults["weight_decay"] = 0.01  # AdamW's default
    torch_options = {**defaults, **case}
    ours = {k: v for k, v in torch_options.items() if k != "betas"}
    ours.update(
        beta1=torch_options["betas"][0],
        beta2=torch_options["betas"][1],
        decoupled_weight_decay=optimizer_class is torch.optim.AdamW,
    )
    return torch_options, ours


class AdamState:
    """Our exp_avg / exp_avg_sq / max_exp_avg_sq lists, zeroed by launch_zero_."""

    def __init__(self, params: list[torch.Tensor], amsgrad: bool, dtype: torch.dtype | None = None):
        def like(p):
            return torch.empty(p.shape, dtype=dtype or p.dtype, device=p.device)

        self.exp_avgs = [like(p) for p in params]
        self.exp_avg_sqs = [like(p) for p in params]
        self.max_exp_avg_sqs = [like(p) for p in params] if amsgrad else None
        launch_zero_(self.exp_avgs + self.exp_avg_sqs + (self.max_exp_avg_sqs or []))

    def compare(self, optimizer, reference, tolerances, what: str) -> None:
        for i, theirs in enumerate(reference):
            state = optimizer.state[theirs]
            assert_close(self.exp_avgs[i], state["exp_avg"], tolerances=tolerances, what=f"{what} exp_avg {i}")
            assert_close(self.exp_avg_sqs[i], state["exp_avg_sq"], tolerances=tolerances, what=f"{what} exp_avg_sq {i}")
            if self.max_exp_avg_sqs is not None:
                expected = state["max_exp_avg_sq"]
                assert_close(
                    self.max_exp_avg_sqs[i], expected, tolerances=tolerances, what=f"{what} max_exp_avg_sq {i}"
                )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam_matches_torch(case, dtype):
    optimizer_class, options = ADAM_CASES[case]
    torch_options, ours = adam_options(optimizer_class, options)
    params = make_group(dtype)
    reference, optimizer = torch_reference(params, optimizer_class, **torch_options)
    state = AdamState(params, ours["amsgrad"])
    for step in range(1, STEPS + 1):
        grads = fresh_grads(params)
        torch_step(reference, optimizer, grads)
        launch_adam_step(params, grads, state.exp_avgs, state.exp_avg_sqs, state.max_exp_avg_sqs, step=step, **ours)
        what = f"{case} step {step}"
        for i, (mine, theirs) in enumerate(zip(params, reference)):
            assert_close(mine, theirs.detach(), dtype, kind="optim", what=f"{what} param {i}", check_dtype=dtype)
        state.compare(optimizer, reference, tolerance(dtype, "optim"), what)


@pytest.mark.parametrize("optimizer_class", [torch.optim.Adam, torch.optim.AdamW])
def test_adam_stays_with_torch_for_fifty_steps(optimizer_class):
    # The ulp-level differences must not grow: a training run's worth of steps on a small group.
    torch_options, ours = adam_options(optimizer_class, dict(lr=1e-2, weight_decay=0.05, amsgrad=True))
    params = make_group(torch.float32, [(1,), (13, 7), (101,)])
    reference, optimizer = torch_reference(params, optimizer_class, **torch_options)
    state = AdamState(params, amsgrad=True)
    for step in range(1, 51):
        grads = fresh_grads(params)
        torch_step(reference, optimizer, grads)
        launch_adam_step(params, grads, state.exp_avgs, state.exp_avg_sqs, state.max_exp_avg_sqs, step=step, **ours)
    for i, (mine, theirs) in enumerate(zip(params, reference)):
        assert_close(
            mine,
            theirs.detach(),
            torch.float32,
            kind="optim",
            what=f"{optimizer_class.__name__} step 50 param {i}",
            check_dtype=torch.float32,
        )
    state.compare(optimizer, reference, tolerance(torch.float32, "optim"), f"{optimizer_class.__name__} step 50")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_adam_half_params_with_float32_state(dtype):
    # Mixed precision: half params and grads, float32 state, float32 arithmetic. The oracle is
    # torch.optim in float32 on the upcast params, rounded to the half dtype after each step,
    # which is exactly what the kernel does; the state therefore matches to float32 accuracy.
    torch_options, ours = adam_options(torch.optim.AdamW, dict(lr=1e-2, amsgrad=True))
    params = make_group(dtype)
    reference, optimizer = torch_reference([p.float() for p in params], torch.optim.AdamW, **torch_options)
    state = AdamState(params, amsgrad=True, dtype=torch.float32)
    for step in range(1, STEPS + 1):
        grads = fresh_grads(params)
        torch_step(reference, optimizer, [g.float() for g in grads])
        round_to(dtype, reference)
        launch_adam_step(params, grads, state.exp_avgs, state.exp_avg_sqs, state.max_exp_avg_sqs, step=step, **ours)
        for i, (mine, theirs) in enumerate(zip(params, reference)):
            assert_close(
                mine, theirs.detach(), dtype, kind="optim", what=f"{dtype} step {step} param {i}", check_dtype=dtype
            )
        state.compare(optimizer, reference, tolerance(torch.float32, "optim"), f"{dtype} step {step}")


# ----------------------------------------------------------------------------------------------
# RMSprop
# ----------------------------------------------------------------------------------------------

RMSPROP_CASES = {
    "plain": dict(lr=1e-2),
    "centered": dict(lr=1e-2, alpha=0.9, centered=True),
    "momentum_weight_decay": dict(lr=1e-2, momentum=0.9, weight_decay=0.1),
    "everything": dict(lr=1e-2, alpha=0.8, eps=1e-6, momentum=0.5, weight_decay=0.05, centered=True, maximize=True),
}


# RMSprop's update terms are grad / sqrt(square_avg) with square_avg ~ (1 - alpha) * grad^2 early on:
# magnitudes up to ~100, so one ulp of an operand (torch's CPU sqrt is not correctly rounded) is
# ~1e-5 in float32, and a momentum buffer that cancels toward 0 keeps that absolute error.


class RMSpropState:
    """Our square_avg / momentum_buffer / grad_avg lists, zeroed by launch_zero_, named as torch's state."""

    NAMES = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params: list[torch.Tensor], options: dict, dtype: torch.dtype | None = None):
        def like():
            return [torch.empty(p.shape, dtype=dtype or p.dtype, device=p.device) for p in params]

        used = (True, options.get("momentum", 0) > 0, options.get("centered", False))
        self.lists = {name: like() if wanted else None for name, wanted in zip(self.NAMES, used)}
        launch_zero_([t for tensors in self.lists.values() if tensors for t in tensors])

    def step(self, params, grads, options: dict) -> None:
        full = dict(alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False)
        launch_rmsprop_step(params, grads, *self.lists.values(), **{**full, **options})

    def compare(self, optimizer, reference, tolerances, what: str) -> None:
        for i, theirs in enumerate(reference):
            for name, tensors in self.lists.items():
                if tensors is not None:
                    assert_close(
                        tensors[i], optimizer.state[theirs][name], tolerances=tolerances, what=f"{what} {name} {i}"
                    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", list(RMSPROP_CASES))
def test_rmsprop_matches_torch(case, dtype):
    options = RMSPROP_CASES[case]
    params = make_group(dtype)
    reference, optimizer = torch_reference(params, torch.optim.RMSprop, **options)
    state = RMSpropState(params, options)
    for step in range(1, STEPS + 1):
        grads = fresh_grads(params)
        torch_step(reference, optimizer, grads)
        state.step(params, grads, options)
        for i, (mine, theirs) in enumerate(zip(params, reference)):
            assert_close(
                mine, theirs.detach(), dtype, kind="rmsprop", what=f"{case} step {step} param {i}", check_dtype=dtype
            )
        state.compare(optimizer, reference, tolerance(dtype, "rmsprop"), f"{case} step {step}")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_rmsprop_half_params_with_float32_state(dtype):
    # As for Adam: the oracle is torch.optim in float32, rounded to the half dtype after each step.
    options = RMSPROP_CASES["everything"]
    params = make_group(dtype)
    reference, optimizer = torch_reference([p.float() for p in params], torch.optim.RMSprop, **options)
    state = RMSpropState(params, options, dtype=torch.float32)
    for step in range(1, STEPS + 1):
        grads = fresh_grads(params)
        torch_step(reference, optimizer, [g.float() for g in grads])
        round_to(dtype, reference)
        state.step(params, grads, options)
        for i, (mine, theirs) in enumerate(zip(params, reference)):
            assert_close(
                mine, theirs.detach(), dtype, kind="optim", what=f"{dtype} step {step} param {i}", check_dtype=dtype
            )
        state.compare(optimizer, reference, tolerance(torch.float32, "rmsprop"), f"{dtype} step {step}")


# ----------------------------------------------------------------------------------------------
# Zero fill
# ----------------------------------------------------------------------------------------------


def test_zero_fills_mixed_dtypes_and_unaligned_views_only():
    # Odd byte offsets and sizes force the narrowest word; neighbours of the views must survive.
    backing = torch.randint(1, 100, (64,), dtype=torch.uint8, device=DEVICE)
    halves = torch.randn(40, device=DEVICE).to(torch.float16)
    targets = [
        torch.randn(3, 5, device=DEVICE),
        torch.randn(7, dtype=torch.float64, device=DEVICE),
        halves[1:8],  # 2-byte aligned, odd length
        backing[3:12],  # 1-byte aligned
        torch.ones(0, device=DEVICE),  # empty
        torch.ones(70_000, dtype=torch.bool, device=DEVICE),  # > one interpreter block
    ]
    backing_before, halves_before = backing.clone(), halves.clone()
    launch_zero_(targets)
    for i, tensor in enumerate(targets):
        assert not tensor.bool().any(), f"tensor {i} ({tensor.dtype}, shape {tuple(tensor.shape)}) not zeroed"
    assert torch.equal(backing[:3], backing_before[:3]) and torch.equal(backing[12:], backing_before[12:])
    assert torch.equal(halves[:1], halves_before[:1]) and torch.equal(halves[8:], halves_before[8:])


def test_zero_of_nothing_is_a_no_op():
    launch_zero_([])
    launch_zero_([torch.empty(0, device=DEVICE)])


# ----------------------------------------------------------------------------------------------
# One launch per step, cached tables, and the bounds checker seeing through the tables
# ----------------------------------------------------------------------------------------------


class CountingKernel:
    """Stands in for a jitted kernel: counts ``kernel[grid](...)`` launches and forwards them."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.launches = 0

    def __getitem__(self, grid):
        self.launches += 1
        return self.kernel[grid]


def count_table_builds(monkeypatch) -> list[int]:
    builds = [0]
    build = optim_kernels._pointer_table

    def counting_build(tensors, device, addresses=None):
        builds[0] += 1
        return build(tensors, device, addresses)

    monkeypatch.setattr(optim_kernels, "_pointer_table", counting_build)
    return builds


def test_one_sgd_launch_per_step_for_ten_params_and_tables_built_once(monkeypatch):
    params = make_group(torch.float32, [(i + 1, 3) for i in range(10)])
    buffers = [torch.empty_like(p) for p in params]
    counter = CountingKernel(optim_kernels.sgd_step_kernel)
    monkeypatch.setattr(optim_kernels, "sgd_step_kernel", counter)
    builds = count_table_builds(monkeypatch)
    options = sgd_options(SGD_CASES["momentum"])
    for step in range(3):
        launch_sgd_step(params, fresh_grads(params), buffers, **options, first_step=step == 0)
        assert counter.launches == step + 1, f"{counter.launches} launches after {step + 1} steps"
        if step == 0:
            builds_after_first_step = builds[0]
    # Every step passes new gradient tensors, so only the grad table may be rebuilt.
    assert builds[0] <= builds_after_first_step + 2


def test_one_adam_launch_per_step_for_ten_params_and_tables_built_once(monkeypatch):
    params = make_group(torch.float32, [(i + 1, 3) for i in range(10)])
    grads = fresh_grads(params)
    state = AdamState(params, amsgrad=True)
    counter = CountingKernel(optim_kernels.adam_step_kernel)
    monkeypatch.setattr(optim_kernels, "adam_step_kernel", counter)
    builds = count_table_builds(monkeypatch)
    _, ours = adam_options(torch.optim.Adam, dict(lr=1e-2, amsgrad=True))
    for step in range(1, 4):
        launch_adam_step(params, grads, state.exp_avgs, state.exp_avg_sqs, state.max_exp_avg_sqs, step=step, **ours)
        assert counter.launches == step, f"{counter.launches} launches after {step} steps"
    assert builds[0] == 5, f"pointer tables built {builds[0]} times; expected once per role (5 roles)"


def test_zero_is_one_launch(monkeypatch):
    counter = CountingKernel(optim_kernels.zero_kernel)
    monkeypatch.setattr(optim_kernels, "zero_kernel", counter)
    launch_zero_([torch.empty(5, device=DEVICE), torch.empty(3, dtype=torch.float64, device=DEVICE)])
    assert counter.launches == 1


@pytest.mark.skipif(not runtime.is_interpreter(), reason="the bounds checker wraps Triton's CPU interpreter")
def test_bounds_checker_sees_the_memory_behind_pointer_tables(monkeypatch):
    params = make_group(torch.float32)
    grads = fresh_grads(params)
    buffers = [torch.empty_like(p) for p in params]
    options = sgd_options(SGD_CASES["momentum"])
    # Through the registry the table's targets are legitimate: no OutOfBoundsAccess.
    launch_sgd_step(params, grads, buffers, **options, first_step=True)
    # Hide the registry: the same (cached) tables now reach memory the checker must reject.
    monkeypatch.setattr(optim_kernels, "POINTER_TABLE_EXTENTS", {})
    with pytest.raises(Exception, match="outside every tensor argument"):
        launch_sgd_step(params, grads, buffers, **options, first_step=False)


def test_registry_lists_table_targets_and_forgets_freed_tables(monkeypatch):
    monkeypatch.setattr(optim_kernels, "RECORD_TABLE_EXTENTS", True)
    tensors = [torch.empty(4, device=DEVICE), torch.empty(9, dtype=torch.float64, device=DEVICE)]
    table = optim_kernels._pointer_table(tensors, DEVICE)
    address = table.data_ptr()
    expected = [(t.data_ptr(), t.data_ptr() + t.numel() * t.element_size()) for t in tensors]
    assert optim_kernels.POINTER_TABLE_EXTENTS[address] == expected
    del table
    gc.collect()
    assert address not in optim_kernels.POINTER_TABLE_EXTENTS


# ----------------------------------------------------------------------------------------------
# Input validation
# ----------------------------------------------------------------------------------------------

SGD_DEFAULTS = dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False)


def sgd_call(params, grads, buffers=None, **overrides):
    launch_sgd_step(params, grads, buffers, **{**SGD_DEFAULTS, **overrides}, first_step=False)


def adam_call(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs=None, step=1, amsgrad=False):
    launch_adam_step(
        params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, step=step, lr=1e-3, beta1=0.9, beta2=0.999,
        eps=1e-8, weight_decay=0.0, amsgrad=amsgrad, maximize=False, decoupled_weight_decay=False,
    )  # fmt: skip


def t(*shape, dtype=torch.float32):
    return torch.randn(shape, device=DEVICE).to(dtype)


BAD_CALLS = {
    "length mismatch": (lambda: sgd_call([t(3), t(2)], [t(3)]), ValueError, "lengths"),
    "grad dtype": (
        lambda: sgd_call([t(3)], [t(3, dtype=torch.float64)]),
        TypeError,
        "grads\\[0\\] has dtype",
    ),
    "grad shape": (lambda: sgd_call([t(3, 2)], [t(6)]), RuntimeError, "shape \\(6,\\)"),
    "non-contiguous": (lambda: sgd_call([t(3, 4).t()], [t(4, 3)]), ValueError, "must be dense.*expected the strides"),
    "integer params": (lambda: sgd_call([t(3).long()], [t(3).long()]), TypeError, "floating point"),
    "no momentum buffers": (lambda: sgd_call([t(3)], [t(3)], momentum=0.9), ValueError, "momentum_buffers"),
    "nesterov without momentum": (lambda: sgd_call([t(3)], [t(3)], nesterov=True), ValueError, "Nesterov"),
    "float64 state for float32": (
        lambda: adam_call([t(3)], [t(3)], [t(3, dtype=torch.float64)], [t(3, dtype=torch.float64)]),
        TypeError,
        "state",
    ),
    "mixed state dtypes": (
        lambda: adam_call(
            [t(3, dtype=torch.float16)], [t(3, dtype=torch.float16)], [t(3)], [t(3, dtype=torch.float16)]
        ),
        TypeError,
        "exp_avg_sqs\\[0\\]",
    ),
    "amsgrad without max": (
        lambda: adam_call([t(3)], [t(3)], [t(3)], [t(3)], amsgrad=True),
        ValueError,
        "amsgrad",
    ),
    "step zero": (lambda: adam_call([t(3)], [t(3)], [t(3)], [t(3)], step=0), ValueError, "step"),
    "zero non-tensor": (lambda: launch_zero_([t(3), 3.0]), TypeError, "tensors\\[1\\]"),
    "zero non-contiguous": (lambda: launch_zero_([t(4, 5)[:, 1:]]), ValueError, "must be dense"),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_input_raises_clear_error(case):
    call, error, message = BAD_CALLS[case]
    with pytest.raises(error, match=message):
        call()


BAD_GRADS_AFTER_A_GOOD_STEP = {
    "grad dtype": (lambda p: p.double(), TypeError, "grads\\[0\\] has dtype"),
    "grad shape": (lambda p: p.reshape(-1), RuntimeError, "shape"),
    "grad strides": (lambda p: p.t().contiguous().t(), ValueError, "must be dense.*expected the strides"),
    "grad not a tensor": (lambda p: 1.0, TypeError, "grads\\[0\\] is a float"),
}


@pytest.mark.parametrize("case", list(BAD_GRADS_AFTER_A_GOOD_STEP))
def test_a_group_checked_once_still_checks_each_new_gradient(case):
    """The group check is remembered for the same parameters, never for new gradients: a gradient
    of another dtype, shape or layout after a valid step is refused as on the first."""
    make_grad, error, message = BAD_GRADS_AFTER_A_GOOD_STEP[case]
    params = [t(4, 3)]
    before = params[0].clone()
    sgd_call(params, [t(4, 3)])
    assert not torch.equal(before, params[0]), "the valid step did not update the parameter"
    after_good_step = params[0].clone()
    with pytest.raises(error, match=message):
        sgd_call(params, [make_grad(torch.randn(4, 3, device=DEVICE))])
    assert torch.equal(after_good_step, params[0]), "a refused step changed the parameter"


def test_empty_group_is_a_no_op():
    sgd_call([], [])
    adam_call([t(0)], [t(0)], [t(0)], [t(0)])


# ----------------------------------------------------------------------------------------------
# Capturable Adam: step counts on the device, bias corrections computed in the kernel
# ----------------------------------------------------------------------------------------------


def device_step_counts(params: list[torch.Tensor]) -> list[torch.Tensor]:
    """torch's capturable state['step'] for each parameter: a float32 0-d zero on its device."""
    counts = [torch.empty((), dtype=torch.float32, device=p.device) for p in params]
    launch_zero_(counts)
    return counts


# torch refuses capturable=True for CPU parameters; its capturable formula computes the same
# bias corrections as the host path (ours in float64 from the float32 counts), so the oracle
# is torch's default Adam.
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", ["adam", "adam_weight_decay", "adamw_amsgrad_maximize", "adam_small_beta1"])
def test_capturable_adam_matches_torch(case, dtype):
    optimizer_class, options = ADAM_CASES[case]
    torch_options, ours = adam_options(optimizer_class, options)
    params = make_group(dtype)
    reference, optimizer = torch_reference(params, optimizer_class, **torch_options)
    state = AdamState(params, ours["amsgrad"])
    counts = device_step_counts(params)
    for step in range(1, STEPS + 1):
        grads = fresh_grads(params)
        torch_step(reference, optimizer, grads)
        launch_adam_step(params, grads, state.exp_avgs, state.exp_avg_sqs, state.max_exp_avg_sqs, step=counts, **ours)
        what = f"capturable {case} step {step}"
        assert [c.item() for c in counts] == [float(step)] * len(params), f"{what}: step counts {counts}"
        for i, (mine, theirs) in enumerate(zip(params, reference)):
            assert_close(mine, theirs.detach(), dtype, kind="optim", what=f"{what} param {i}", check_dtype=dtype)
        state.compare(optimizer, reference, tolerance(dtype, "optim"), what)


def test_capturable_adam_with_parameters_at_different_steps():
    # One launch serves parameters whose counts differ (one joined the group later): each gets
    # its own bias corrections, as separate host-step launches would give.
    _, ours = adam_options(torch.optim.Adam, dict(lr=1e-2))
    params = make_group(torch.float32, [(5, 3), (17,)])
    expected = [p.clone() for p in params]
    grads = fresh_grads(params)
    state, expected_state = AdamState(params, amsgrad=False), AdamState(expected, amsgrad=False)
    for i, step in enumerate([4, 1]):
        launch_adam_step(expected[i : i + 1], grads[i : i + 1], expected_state.exp_avgs[i : i + 1],
                         expected_state.exp_avg_sqs[i : i + 1], None, step=step, **ours)  # fmt: skip
    counts = [torch.tensor(3.0, device=DEVICE), torch.tensor(0.0, device=DEVICE)]
    launch_adam_step(params, grads, state.exp_avgs, state.exp_avg_sqs, None, step=counts, **ours)
    assert [c.item() for c in counts] == [4.0, 1.0]
    for i, (mine, theirs) in enumerate(zip(params, expected)):
        assert_close(
            mine, theirs, torch.float32, kind="optim", what=f"mixed steps param {i}", check_dtype=torch.float32
        )


class RecordingKernel(CountingKernel):
    """Also records each launch's arguments (tensors by address), to compare steps."""

    def __init__(self, kernel):
        super().__init__(kernel)
        self.calls = []

    def __getitem__(self, grid):
        launch = super().__getitem__(grid)

        def recorded(*args, **kwargs):
            def key(value):
                return ("tensor", value.data_ptr(), value.dtype) if isinstance(value, torch.Tensor) else value

            self.calls.append((grid, [key(a) for a in args], {k: key(v) for k, v in kwargs.items()}))
            return launch(*args, **kwargs)

        return recorded


def test_capturable_adam_step_is_two_launches_with_the_same_arguments_every_step(monkeypatch):
    """What a CUDA graph needs: every step replays the same launches (same grids, addresses and
    scalars), however many parameters; the step number only changes on the device."""
    params = make_group(torch.float32, [(i + 1, 3) for i in range(10)])
    grads = fresh_grads(params)
    state = AdamState(params, amsgrad=True)
    counts = device_step_counts(params)
    _, ours = adam_options(torch.optim.AdamW, dict(lr=1e-2, amsgrad=True))
    update = RecordingKernel(optim_kernels.adam_step_kernel)
    increment = RecordingKernel(optim_kernels.increment_kernel)
    monkeypatch.setattr(optim_kernels, "adam_step_kernel", update)
    monkeypatch.setattr(optim_kernels, "increment_kernel", increment)
    for _ in range(3):
        launch_adam_step(params, grads, state.exp_avgs, state.exp_avg_sqs, state.max_exp_avg_sqs, step=counts, **ours)
    assert update.launches == increment.launches == 3, "one increment and one update launch per step"
    assert update.calls[1] == update.calls[2], "an update launch's arguments changed between steps"
    assert increment.calls[1] == increment.calls[2], "an increment launch's arguments changed between steps"
    assert [c.item() for c in counts] == [3.0] * len(params)


CAPTURABLE_BAD_CALLS = {
    "float64 counts": ([torch.zeros((), dtype=torch.float64)], TypeError, "float32"),
    "count per parameter": ([], ValueError, "0 step counts for 1 parameters"),
}


@pytest.mark.parametrize("case", list(CAPTURABLE_BAD_CALLS))
def test_capturable_step_counts_are_checked(case):
    counts, error, message = CAPTURABLE_BAD_CALLS[case]
    with pytest.raises(error, match=message):
        launch_adam_step([t(3)], [t(3)], [t(3)], [t(3)], None, step=counts, lr=1e-3, beta1=0.9, beta2=0.999,
                         eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
                         decoupled_weight_decay=False)  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Aligned and unaligned chunks: views at odd offsets and odd sizes take the general path
# ----------------------------------------------------------------------------------------------


def views_at_offsets(dtype: torch.dtype, sizes: list[int], offset: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(backing buffer, views of ``sizes`` elements packed into it from element ``offset`` on)."""
    backing = torch.randn(offset + sum(sizes) + 5, dtype=dtype, device=DEVICE)
    views, start = [], offset
    for size in sizes:
        views.append(backing[start : start + size])
        start += size
    return backing, views


@pytest.mark.parametrize("offset", [0, 1, 3], ids=["aligned", "4_bytes", "12_bytes"])
def test_adam_on_views_at_odd_offsets_matches_torch(offset):
    # Sizes that are multiples of 16 (all-aligned chunks when the views are), odd ones (an aligned
    # body and an unaligned tail), and a view that straddles an interpreter block.
    sizes = [32, 37, 1, 16, 70_003]
    _, params = views_at_offsets(torch.float32, sizes, offset)
    reference = [p.detach().clone().requires_grad_(True) for p in params]
    torch_optimizer = torch.optim.Adam(reference, lr=1e-2, foreach=False)
    state_backing, exp_avgs = views_at_offsets(torch.float32, sizes, offset)
    _, exp_avg_sqs = views_at_offsets(torch.float32, sizes, 2 * offset + 1)
    launch_zero_(exp_avgs + exp_avg_sqs)
    before = state_backing.clone()
    _, ours = adam_options(torch.optim.Adam, dict(lr=1e-2))
    for step in range(1, 3):
        _, grads = views_at_offsets(torch.float32, sizes, offset + step)
        torch_step(reference, torch_optimizer, grads)
        launch_adam_step(params, grads, exp_avgs, exp_avg_sqs, None, step=step, **ours)
    for i, (mine, theirs) in enumerate(zip(params, reference)):
        assert_close(
            mine,
            theirs.detach(),
            torch.float32,
            kind="optim",
            what=f"offset {offset} Adam param {i}",
            check_dtype=torch.float32,
        )
    end = offset + sum(sizes)
    assert torch.equal(state_backing[:offset], before[:offset]), "the state buffer before the views was written"
    assert torch.equal(state_backing[end:], before[end:]), "the state buffer after the views was written"
