"""Kernel launches of one training step: tritongrad must launch at most half as many as torch eager.

The step is the issue's: Linear-ReLU-Linear-Softmax, MSE loss, SGD with momentum 0.9,
``zero_grad(); loss = mse_loss(model(x), y); loss.backward(); optimizer.step()``,
counted at steady state (the third step: momentum buffers and caches exist).

How launches are counted (benchmarks/common.py):

* tritongrad: every ``kernel[grid](...)``, by wrapping Triton's
  ``GridExecutor.__call__`` in the interpreter (on a GPU: torch.profiler's CUDA
  kernel events).
* torch eager on the CPU: a TorchDispatchMode counts the aten ops dispatched
  for the step, excluding views, allocation and metadata, i.e. the ops that
  launch a kernel on a GPU. torch's optimizer runs with ``foreach=True``, its
  default on a GPU (one multi-tensor kernel per ``_foreach_*`` op; the CPU
  default would loop over parameters and more than double torch's count).
  On a GPU, torch.profiler's CUDA kernel events. The CPU count slightly
  favours torch: on a GPU ``mse_loss`` is an elementwise kernel plus a
  reduction, where the dispatcher sees one op.
"""

from __future__ import annotations

from collections import Counter

import pytest
import torch

import tritongrad.nn.functional as F
from benchmarks.aot import GPU_MODELS
from benchmarks.aot_capture import gpu_launch_policy, recording_launches
from benchmarks.bench_training import check_sides_agree, make_side
from benchmarks.common import count_torch_kernels, count_tritongrad_launches
from tests.utils import from_torch
from tritongrad.kernels import loss_classes
from tritongrad.kernels.device_checks import deferred_checks

DIMS = (16, 32, 10)  # Linear(16, 32) - ReLU - Linear(32, 10) - Softmax
BATCH = 8
MAX_RATIO = 0.5


def _steady_state_counts() -> tuple[Counter, Counter]:
    tritongrad_side = make_side("tritongrad", DIMS, BATCH, head="softmax_mse", optimizer="sgd")
    torch_side = make_side("torch", DIMS, BATCH, head="softmax_mse", optimizer="sgd", torch_foreach=True)
    check_sides_agree(tritongrad_side, torch_side, steps=2)  # same model, same step: counts are comparable
    return count_tritongrad_launches(tritongrad_side.step), count_torch_kernels(torch_side.step)


def launch_report(tritongrad_counts: Counter, torch_counts: Counter) -> str:
    """Both frameworks' launches per kernel, side by side."""
    lines = [f"{'tritongrad kernel':28} {'launches':>8}    {'torch kernel':34} {'launches':>8}"]
    left = sorted(tritongrad_counts.items())
    right = sorted(torch_counts.items())
    for index in range(max(len(left), len(right))):
        name_l, count_l = left[index] if index < len(left) else ("", "")
        name_r, count_r = right[index] if index < len(right) else ("", "")
        lines.append(f"{name_l:28} {count_l!s:>8}    {name_r:34} {count_r!s:>8}")
    lines.append(f"{'total':28} {sum(tritongrad_counts.values()):>8}    {'total':34} {sum(torch_counts.values()):>8}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def counts():
    return _steady_state_counts()


def test_every_stage_of_the_step_launches_kernels(counts):
    """The counters see forward, loss, backward and the fused optimizer step of both frameworks."""
    tritongrad_counts, torch_counts = counts
    print("\n" + launch_report(tritongrad_counts, torch_counts))
    assert tritongrad_counts["sgd_step_kernel"] == 1, "one fused multi-tensor SGD launch for all parameters"
    assert tritongrad_counts["matmul_kernel"] >= 2, "two linear forwards"
    assert tritongrad_counts["softmax_fwd_kernel"] == 1 and tritongrad_counts["softmax_bwd_kernel"] == 1
    assert torch_counts["aten.addmm"] == 2 and torch_counts["aten._softmax_backward_data"] == 1
    assert not any("empty" in name or "view" in name for name in torch_counts), "allocation/views are not kernels"


def test_counts_are_the_same_every_step():
    """Steady state: a step launches the same kernels as the next one."""
    side = make_side("tritongrad", DIMS, BATCH, head="softmax_mse", optimizer="sgd")
    side.step()
    side.step()
    assert count_tritongrad_launches(side.step) == count_tritongrad_launches(side.step)


# Where tritongrad's 8 launches go (torch eager: 17):
#   forward   Linear+ReLU (ReLU in the matmul epilogue; nn.Sequential fuses the pair), Linear,
#             Softmax, MSE (one program sums the loss and also writes the loss's gradient
#             for backward()'s implicit seed of 1)                                      4
#   backward  nothing for MSE (its gradient is ready, and the seed is never filled),
#             Softmax backward, and one launch per Linear for grad_input, grad_weight
#             and grad_bias together (the ReLU mask applied as the gradient is loaded)  3
#   optimizer one fused multi-tensor SGD launch                                        1
def test_training_step_launches_at_most_half_of_torch(counts):
    tritongrad_counts, torch_counts = counts
    tritongrad_total, torch_total = sum(tritongrad_counts.values()), sum(torch_counts.values())
    assert tritongrad_total <= MAX_RATIO * torch_total, (
        f"tritongrad launches {tritongrad_total} kernels per step, torch eager {torch_total}: more than "
        f"{MAX_RATIO} x torch\n{launch_report(tritongrad_counts, torch_counts)}"
    )


def test_fusions_behind_the_count(counts):
    """The fusions listed above are what the step runs (a regression names the lost one)."""
    tritongrad_counts, _ = counts
    report = launch_report(*counts)
    assert tritongrad_counts["linear_backward_kernel"] == 2, f"one backward launch per Linear\n{report}"
    assert "activation_bwd_kernel" not in tritongrad_counts, f"ReLU backward is fused into Linear's\n{report}"
    assert tritongrad_counts["mse_loss_fwd_kernel"] == 1 and "mse_loss_bwd_kernel" not in tritongrad_counts, report
    assert "loss_sum_kernel" not in tritongrad_counts, f"a one-block loss is summed by its own kernel\n{report}"
    assert not any("fill" in name for name in tritongrad_counts), f"the implicit seed is never filled\n{report}"


# ------------------------------------------------------------------------- cross-entropy
# Forward + backward of cross_entropy: at most 2 launches at every vocabulary (one forward:
# online logsumexp, target check and reduction; one backward; the seed of backward() is never
# filled). The interpreter's blocks are not the GPU's, so the GPU's launches are recorded too,
# with the launchers answering as on an H100 (kernels not run).
VOCABULARIES = (10, 1000, 5000)
CE_ROWS = 4


@pytest.mark.parametrize("probabilities", [False, True], ids=["class targets", "probability targets"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("vocabulary", VOCABULARIES)
def test_cross_entropy_forward_and_backward_take_one_launch_each(vocabulary, reduction, probabilities):
    logits = from_torch(torch.randn(CE_ROWS, vocabulary), requires_grad=True)
    if probabilities:
        target = from_torch(torch.softmax(torch.randn(CE_ROWS, vocabulary), 1))
    else:
        target = from_torch(torch.randint(0, vocabulary, (CE_ROWS,)))
    gradient = from_torch(torch.randn(CE_ROWS)) if reduction == "none" else None
    losses = []
    for _ in range(2):  # the second round is counted: caches are warm
        logits.grad = None
        forward = count_tritongrad_launches(
            lambda: losses.append(F.cross_entropy(logits, target, weight=None, reduction=reduction))
        )
        backward = count_tritongrad_launches(lambda: losses[-1].backward(gradient))
    assert forward == Counter(cross_entropy_fwd_kernel=1), f"V={vocabulary} {reduction}: forward {forward}"
    assert backward == Counter(cross_entropy_bwd_kernel=1), f"V={vocabulary} {reduction}: backward {backward}"


@pytest.mark.parametrize("vocabulary", VOCABULARIES + (131_072,))
def test_cross_entropy_launches_under_the_gpu_policy(vocabulary):
    logits = torch.randn(4096 if vocabulary < 131_072 else 8, vocabulary)
    target = torch.randint(0, vocabulary, (logits.shape[0],))
    for reduction in ("mean", "none"):
        grad = torch.randn(logits.shape[0]) if reduction == "none" else None
        with (
            gpu_launch_policy(GPU_MODELS[90]),
            deferred_checks(True, discard=True),  # the kernels do not run: nothing to check
            recording_launches(execute=False) as launches,
        ):
            _, saved = loss_classes.launch_cross_entropy_fwd(logits, target, reduction=reduction)
            loss_classes.launch_cross_entropy_bwd(grad, logits, target, saved, reduction=reduction)
        kernels = [launch["kernel"] for launch in launches]
        assert kernels == ["cross_entropy_fwd_kernel", "cross_entropy_bwd_kernel"], f"V={vocabulary}: {kernels}"


def test_cross_entropy_training_step_census():
    """The census with a cross-entropy head: 2 of its launches are the loss's."""
    side = make_side("tritongrad", DIMS, BATCH, head="cross_entropy", optimizer="sgd")
    side.step()
    side.step()
    counts = count_tritongrad_launches(side.step)
    loss_kernels = {name: n for name, n in counts.items() if "entropy" in name or "loss" in name or "target" in name}
    assert loss_kernels == {"cross_entropy_fwd_kernel": 1, "cross_entropy_bwd_kernel": 1}, launch_report(counts, {})
    assert not any("fill" in name for name in counts), launch_report(counts, {})
    assert sum(counts.values()) <= 7, launch_report(counts, {})
