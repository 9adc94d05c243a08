"""tritongrad.profiler (and torch.autograd.profiler's spelling): kernel launches and
record_function blocks as events, torch's table and schedule, a Chrome trace."""

from __future__ import annotations

import json

import pytest
import torch

import tritongrad
from tritongrad.profiler import ProfilerAction, ProfilerActivity, profile, record_function, schedule


def _step(model, x):
    model(x).sum().backward()


def test_launches_and_ranges_are_events_with_torch_columns():
    model, x = tritongrad.nn.Linear(10, 5), tritongrad.randn(4, 10)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("model_inference"):
            _step(model, x)
    averages = {e.key: e for e in prof.key_averages()}
    assert "model_inference" in averages and "matmul_kernel" in averages, sorted(averages)
    outer = averages["model_inference"]
    launched = sum(e.cpu_time_total for key, e in averages.items() if key != "model_inference")
    assert outer.count == 1 and outer.cpu_time_total >= launched > 0, (outer, launched)
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - launched, rel=1e-6, abs=1e-3)
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=3)
    for column in ("Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"):
        assert column in table, table
    assert table.splitlines()[3].split()[0] == "model_inference", table  # the largest total first
    assert "Self CPU time total:" in table


def test_nothing_is_recorded_outside_a_profile_or_when_disabled():
    model, x = tritongrad.nn.Linear(3, 2), tritongrad.randn(2, 3)
    with profile() as prof:
        pass
    _step(model, x)
    with tritongrad.autograd.profiler.profile(enabled=False) as off:
        _step(model, x)
    assert list(prof.key_averages()) == [] and list(off.key_averages()) == []


@pytest.mark.parametrize("options", [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=0, active=1, repeat=2),
                                     dict(wait=2, warmup=1, active=3, repeat=1, skip_first=2)])  # fmt: skip
def test_schedule_matches_torch(options):
    ours, theirs = schedule(**options), torch.profiler.schedule(**options)
    got = [ours(step).name for step in range(20)]
    expected = [theirs(step).name for step in range(20)]
    assert got == expected, f"{options}: {got} vs torch {expected}"


def test_on_trace_ready_gets_each_active_cycle(tmp_path):
    traces = []
    model, x = tritongrad.nn.Linear(3, 2), tritongrad.randn(2, 3)
    with profile(schedule=schedule(wait=1, warmup=0, active=2, repeat=2), on_trace_ready=traces.append) as prof:
        for _ in range(7):
            _step(model, x)
            prof.step()
    assert len(traces) == 2 and all(t is prof for t in traces)
    assert schedule(wait=1, warmup=0, active=2)(2) == ProfilerAction.RECORD_AND_SAVE


def test_chrome_trace_and_tensorboard_handler(tmp_path):
    model, x = tritongrad.nn.Linear(3, 2), tritongrad.randn(2, 3)
    with profile(on_trace_ready=tritongrad.profiler.tensorboard_trace_handler(str(tmp_path), "worker")) as prof:
        with record_function("step"):
            _step(model, x)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    events = json.loads(path.read_text())["traceEvents"]
    assert {"step", "matmul_kernel"} <= {e["name"] for e in events}
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in events)
    written = list(tmp_path.glob("worker.*.pt.trace.json"))
    assert len(written) == 1, written


def test_record_function_as_a_decorator():
    @record_function("decorated")
    def run():
        return tritongrad.ones(3) * 2

    with profile() as prof:
        run()
    assert {e.key: e.count for e in prof.key_averages()}.get("decorated") == 1
