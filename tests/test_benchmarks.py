"""The benchmark suite in --smoke mode: every benchmark runs, checks itself against torch, writes its files.

Smoke sizes are tiny and, without a GPU, kernels run in Triton's interpreter, so
nothing here is about speed: it keeps the suite from rotting (a renamed launcher,
a changed API, a broken writer fails here rather than on the next GPU run).
"""

from __future__ import annotations

import csv
import io
import os

import pytest
import torch

from benchmarks import bench_gpt_step, bench_training, gpu_probe, suite
from benchmarks.__main__ import main
from benchmarks.common import CSV_FIELDS, count_torch_kernels, count_tritongrad_launches, on_gpu


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """All benchmarks once, in smoke mode, writing into a temporary folder: (rows by name, folder, log)."""
    folder = str(tmp_path_factory.mktemp("results"))
    log = io.StringIO()
    results = suite.run(smoke=True, output=folder, out=log)
    return results, folder, log.getvalue()


def test_every_benchmark_ran(smoke_run):
    results, _, log = smoke_run
    assert list(results) == list(suite.BENCHMARKS)
    for name, rows in results.items():
        assert rows, f"{name} produced no rows"
        assert f"## {suite.BENCHMARKS[name].title}" in log


def test_every_case_compares_tritongrad_with_torch(smoke_run):
    results, _, _ = smoke_run
    for name, rows in results.items():
        impls_by_case: dict[tuple, set] = {}
        for row in rows:
            impls_by_case.setdefault((row.case, row.dtype, row.shape), set()).add(row.impl)
        for key, impls in impls_by_case.items():
            assert "torch" in impls and any(i.startswith("tritongrad") for i in impls), f"{name} {key}: {impls}"


def test_rows_hold_sensible_numbers(smoke_run):
    results, _, _ = smoke_run
    for rows in results.values():
        for row in rows:
            assert 0 < row.ms_p20 <= row.ms <= row.ms_p80, row
            for metric in (row.gbps, row.tflops, row.fraction):
                assert metric is None or metric > 0, row
    training = results["training"]
    assert all(row.launches and row.launches > 0 for row in training)
    # One fused SGD/Adam launch, so far fewer than one launch per parameter per op.
    assert {row.case for row in training} == {"mlp step (sgd)", "mlp step (adam)"}


def test_result_files_are_written_and_stamped(smoke_run):
    results, folder, _ = smoke_run
    for name, rows in results.items():
        base = os.path.join(folder, name)
        with open(base + ".csv") as handle:
            lines = handle.read().splitlines()
        stamp = [line for line in lines if line.startswith("# ")]
        assert any(line.startswith("# gpu: ") for line in stamp) and any("commit: " in line for line in stamp)
        assert any("torch: " in line for line in stamp) and any("triton: " in line for line in stamp)
        table = list(csv.DictReader(line for line in lines if not line.startswith("# ")))
        assert list(table[0]) == CSV_FIELDS and len(table) == len(rows)
        with open(base + ".md") as handle:
            markdown = handle.read()
        assert markdown.startswith(f"# {suite.BENCHMARKS[name].title}") and "| tritongrad" in markdown
        if not on_gpu():
            assert "MEANINGLESS" in markdown, "an interpreter run must say its timings mean nothing"
        pytest.importorskip("matplotlib")
        with open(base + ".png", "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_cli_lists_and_rejects_unknown_names(capsys):
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in suite.BENCHMARKS)
    with pytest.raises(SystemExit):
        main(["run", "--smoke", "--only", "no_such_benchmark"])
    assert "unknown benchmark" in capsys.readouterr().err


def test_cli_runs_one_benchmark_without_writing_on_cpu(capsys):
    assert main(["run", "--smoke", "--only", "reduction"]) == 0
    out = capsys.readouterr().out
    assert "## Reductions" in out and "| sum |" in out
    if not on_gpu():
        assert "wrote " not in out, "without a GPU, files are written only when --output asks"


def test_launch_counters_count_one_launch_per_op():
    import torch

    import tritongrad

    x = tritongrad.randn(5)
    assert sum(count_tritongrad_launches(lambda: x + x).values()) == 1
    y = torch.randn(5)
    assert sum(count_torch_kernels(lambda: torch.relu(y.view(5, 1)).sum()).values()) == 2  # the view is free


def test_fused_ce_reports_time_and_peak_memory(smoke_run):
    results, _, _ = smoke_run
    rows = results["fused_ce"]
    assert {row.dtype for row in rows} == {"float32", "bfloat16"}
    for row in rows:
        assert row.tflops and row.tflops > 0, row
        if on_gpu():
            assert row.peak_mem_mb and row.peak_mem_mb > 0, row
            if row.impl == "tritongrad":
                assert row.fraction and row.fraction_of == "torch's peak memory", row
        else:
            assert row.peak_mem_mb is None and "no peak memory" in row.note, row


def test_gpt_step_times_both_frameworks_in_tokens_per_second(smoke_run):
    results, _, _ = smoke_run
    rows = results["gpt_step"]
    assert sorted(row.impl for row in rows) == ["torch", "tritongrad"]
    for row in rows:
        assert row.note.endswith(" tokens/s") and float(row.note.split()[0]) > 0, row
        assert (row.peak_mem_mb is not None) == on_gpu(), row


def test_gpt_step_check_catches_a_different_model():
    shape = bench_gpt_step.SMOKE_SHAPES[0]
    sides = bench_gpt_step.make_sides(shape, torch.float32)
    with torch.no_grad():  # the mirror loaded the example's weights under the same names (strict)
        sides["torch"].model.ln_f.weight.mul_(10.0)
    with pytest.raises(AssertionError, match="loss at step 0"):
        bench_gpt_step.check_sides_agree(sides, torch.float32, "perturbed")


def test_training_check_names_every_layer_that_disagrees():
    """The MLP check reports each first-step gradient and parameter that differs (an H200 run
    showed only 'parameter 0 after 2 steps', which leaves the layer and the phase unknown)."""
    dims, batch = bench_training.SMOKE_DIMS, bench_training.SMOKE_BATCH
    sides = {name: bench_training.make_side(name, dims, batch) for name in bench_training.FRAMEWORKS}
    with torch.no_grad():
        sides["torch"].model[2].weight.mul_(3.0)  # the second Linear: its gradient and the first's differ
    with pytest.raises(AssertionError) as raised:
        bench_training.check_sides_agree(sides["tritongrad"], sides["torch"])
    message = str(raised.value)
    for what in ("loss at step 0", "gradient 0 at step 0", "gradient 2 at step 0", "parameter 2 after 2 steps"):
        assert what in message, message


def test_gpu_probe_smoke_run_covers_every_case(capsys):
    """The probe prepared for the next GPU lease runs end to end (tiny sizes in the interpreter)."""
    assert gpu_probe.main(["--smoke"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("tritongrad and torch agree") == 2, printed
    table = [line for line in printed.splitlines() if line.startswith("| ") and not line.startswith("| case")]
    assert {line.split(" | ")[1] for line in table} == {"tritongrad", "torch"}, printed
    assert len(table) == 2 * len(gpu_probe.cases(smoke=True)), printed


def _smallest_hidden_preactivations(weights, x) -> list[float]:
    hidden, smallest = x.double().cpu(), []
    for weight, bias in weights[:-1]:
        pre = hidden @ weight.double().t() + bias.double()
        smallest.append(pre.abs().min().item())
        hidden = pre.clamp_min(0)
    return smallest


@pytest.mark.parametrize("size", ["suite", "smoke"])
def test_training_state_keeps_every_relu_clear_of_zero(size):
    """At the suite's 784-512-512-10, batch 256, seed 0, one hidden pre-activation was -4.6e-8 in
    float64 and +4.5e-8 in torch's float32 (an H200 run and the interpreter alike): its ReLU mask
    then depends on rounding, and the agreement check failed with neither framework wrong."""
    dims, batch = (bench_training.DIMS, bench_training.BATCH) if size == "suite" else (
        bench_training.SMOKE_DIMS, bench_training.SMOKE_BATCH)  # fmt: skip
    weights, x, _ = bench_training.initial_state(dims, batch, "cross_entropy", 0)
    smallest = _smallest_hidden_preactivations(weights, x)
    assert min(smallest) >= bench_training.RELU_MARGIN, smallest


def test_relu_boundaries_are_cleared_for_a_planted_near_zero():
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(64, 8, generator=generator)
    weight, bias = torch.randn(16, 8, generator=generator), 0.1 * torch.randn(16, generator=generator)
    bias[5] -= float(x[7] @ weight[5] + bias[5]) + 1e-8  # unit 5 of sample 7 sits at -1e-8
    weights = [(weight, bias), (torch.randn(3, 16, generator=generator), torch.zeros(3))]
    assert _smallest_hidden_preactivations(weights, x)[0] < 1e-7
    bench_training._clear_relu_boundaries(weights, x)
    assert _smallest_hidden_preactivations(weights, x)[0] >= bench_training.RELU_MARGIN
