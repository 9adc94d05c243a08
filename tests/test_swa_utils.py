"""optim.swa_utils against torch.optim.swa_utils: AveragedModel (running mean, avg_fn, multi_avg_fn,
EMA helpers, use_buffers) over several updates of a small net with batch norm, update_bn, SWALR's lr
sequence (cos, linear, anneal_epochs=0, several groups) and state dict, and torch's errors."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import from_torch

TOLERANCE = {torch.float32: (1e-6, 1e-6), torch.float64: (1e-12, 1e-12)}


def make_models(dtype):
    """torch's net and ours with the same weights: Linear, BatchNorm1d (buffers), ReLU, Linear."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
                                 torch.nn.Linear(4, 2)).to(dtype)  # fmt: skip
    ours = tritongrad.nn.Sequential(tritongrad.nn.Linear(3, 4), tritongrad.nn.BatchNorm1d(4), tritongrad.nn.ReLU(),
                                    tritongrad.nn.Linear(4, 2)).to(dtype)  # fmt: skip
    ours.load_state_dict({k: from_torch(v) for k, v in theirs.state_dict().items()})
    return ours, theirs


def perturb(ours, theirs, step, dtype):
    """Moves torch's net by a fixed formula (one training forward updates batch norm's statistics) and
    gives ours the same state, so only the averaging is compared."""
    inputs = torch.sin(torch.arange(15, dtype=dtype) * (step + 1)).view(5, 3)
    theirs.train()
    theirs(inputs)
    with torch.no_grad():
        for index, p in enumerate(theirs.parameters()):
            p.add_(torch.cos(torch.arange(p.numel(), dtype=dtype) + step + index).view_as(p) * 0.1)
    ours.load_state_dict({k: from_torch(v) for k, v in theirs.state_dict().items()})


def assert_same_state(ours, theirs, dtype, what):
    rtol, atol = TOLERANCE[dtype]
    mine, expected = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(expected), what
    for key, value in expected.items():
        assert mine[key].dtype == value.dtype, (what, key)
        torch.testing.assert_close(mine[key]._data, value, rtol=rtol, atol=atol, msg=f"{what} {key}")


AVERAGES = {
    "swa": lambda lib: {},
    "ema_multi": lambda lib: dict(multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.9)),
    "swa_multi": lambda lib: dict(multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn()),
    "ema_avg_fn": lambda lib: dict(avg_fn=lib.optim.swa_utils.get_ema_avg_fn(0.8)),
    "swa_avg_fn_use_buffers": lambda lib: dict(avg_fn=lib.optim.swa_utils.get_swa_avg_fn(), use_buffers=True),
    "ema_multi_use_buffers": lambda lib: dict(
        multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(), use_buffers=True
    ),  # fmt: skip
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("average", list(AVERAGES))
def test_averaged_model_matches_torch(average, dtype):
    ours, theirs = make_models(dtype)
    our_average = tritongrad.optim.swa_utils.AveragedModel(ours, **AVERAGES[average](tritongrad))
    their_average = torch.optim.swa_utils.AveragedModel(theirs, **AVERAGES[average](torch))
    for step in range(3):
        perturb(ours, theirs, step, dtype)
        our_average.update_parameters(ours)
        their_average.update_parameters(theirs)
        assert_same_state(our_average, their_average, dtype, f"{average} update {step + 1}")
    assert our_average.n_averaged.item() == 3 and our_average.n_averaged.dtype == tritongrad.int64
    inputs = torch.linspace(-1, 1, 6, dtype=dtype).view(2, 3)
    our_average.eval()
    their_average.eval()
    torch.testing.assert_close(our_average(from_torch(inputs))._data, their_average(inputs).detach())


def test_update_bn_recomputes_running_statistics_like_torch():
    ours, theirs = make_models(torch.float32)
    batches = [torch.cos(torch.arange(12.0) * k).view(4, 3) for k in range(1, 4)]
    theirs.eval()
    ours.eval()
    # torch's loader idiom: (input, target) pairs; the input is the first element.
    torch.optim.swa_utils.update_bn([(b, 0) for b in batches], theirs)
    tritongrad.optim.swa_utils.update_bn([(from_torch(b), 0) for b in batches], ours)
    assert not ours.training
    assert ours[1].momentum == 0.1
    mine, expected = ours.state_dict(), theirs.state_dict()
    for key in ("1.running_mean", "1.running_var", "1.num_batches_tracked"):
        torch.testing.assert_close(mine[key]._data, expected[key], rtol=1e-5, atol=1e-6)


def test_update_bn_without_batch_norm_does_nothing():
    model = tritongrad.nn.Linear(2, 2)
    tritongrad.optim.swa_utils.update_bn([tritongrad.ones(1, 2)], model)  # no batch norm: returns at once


@pytest.mark.parametrize(
    "options",
    [dict(swa_lr=0.05), dict(swa_lr=0.05, anneal_epochs=3, anneal_strategy="linear"),
     dict(swa_lr=[0.05, 0.2], anneal_epochs=0), dict(swa_lr=[0.01, 1.0], anneal_epochs=4)],
    ids=["cos", "linear", "no_anneal", "two_groups_cos"],
)  # fmt: skip
def test_swalr_lrs_match_torch(options):
    lrs = []
    for lib in (torch, tritongrad):
        params = [lib.nn.Parameter(lib.ones(1)) for _ in range(2)]
        groups = [{"params": [params[0]]}]
        if isinstance(options["swa_lr"], list):  # one swa_lr per group
            groups.append({"params": [params[1]], "lr": 0.3})
        optimizer = lib.optim.SGD(groups, lr=0.5)
        scheduler = lib.optim.swa_utils.SWALR(optimizer, **options)
        history = [scheduler.get_last_lr()]
        for _ in range(6):
            optimizer.step()
            scheduler.step()
            history.append(scheduler.get_last_lr())
        lrs.append([lr for epoch in history for lr in epoch])
        state = scheduler.state_dict()
        assert "optimizer" not in state and "anneal_func" not in state
    assert lrs[1] == pytest.approx(lrs[0], rel=1e-15)


def test_swalr_state_dict_round_trip():
    optimizer = tritongrad.optim.SGD([tritongrad.nn.Parameter(tritongrad.ones(1))], lr=0.5)
    scheduler = tritongrad.optim.swa_utils.SWALR(optimizer, swa_lr=0.1, anneal_epochs=5, anneal_strategy="linear")
    optimizer.step()
    scheduler.step()
    other = tritongrad.optim.swa_utils.SWALR(optimizer, swa_lr=0.1, anneal_strategy="cos")
    other.load_state_dict(scheduler.state_dict())
    assert other.anneal_func(0.5) == 0.5 and other.anneal_epochs == 5


def test_errors_like_torch():
    for lib in (torch, tritongrad):
        optimizer = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.5)
        with pytest.raises(ValueError, match="^anneal_strategy must be one of 'cos' or 'linear', instead got cosine$"):
            lib.optim.swa_utils.SWALR(optimizer, swa_lr=0.1, anneal_strategy="cosine")
        with pytest.raises(ValueError, match="^anneal_epochs must be equal or greater than 0, got -1$"):
            lib.optim.swa_utils.SWALR(optimizer, swa_lr=0.1, anneal_epochs=-1)
        with pytest.raises(ValueError, match="^swa_lr must have the same length as optimizer.param_groups"):
            lib.optim.swa_utils.SWALR(optimizer, swa_lr=[0.1, 0.2])
        with pytest.raises(ValueError, match=r"^Invalid decay value 1.5 provided. Please provide a value in \[0,1\]"):
            lib.optim.swa_utils.get_ema_multi_avg_fn(1.5)
        with pytest.raises(AssertionError, match="^Only one of avg_fn and multi_avg_fn should be provided$"):
            lib.optim.swa_utils.AveragedModel(lib.nn.Linear(1, 1), avg_fn=lambda *a: a[0], multi_avg_fn=lambda *a: 0)
