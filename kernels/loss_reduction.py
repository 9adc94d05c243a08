"""What every loss kernel shares: the reduction names and the deterministic final sum.

A loss with ``reduction="none"`` is its per-row or per-element values. For
``"sum"``/``"mean"`` each program of a loss kernel writes the sum of its own
values to a small ``partials`` buffer, and ``loss_sum_kernel`` (one program)
adds the partials in a fixed order and divides by the mean's denominator: the
result is deterministic, and no atomics or zero-filled buffers are needed.
The class-target losses live in ``loss_classes``, the elementwise ones in
``loss_elementwise``.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import compute_dtype
from tritongrad.runtime import reduction_block

__all__ = [
    "REDUCTIONS",
    "SUM",
    "BY_COUNT",
    "BY_WEIGHT",
    "check_reduction",
    "check_grad_loss",
    "finish",
    "accumulator_dtype",
]

REDUCTIONS = ("none", "mean", "sum")

# How a reduced loss (or its incoming gradient) is normalised.
SUM = 0  # "sum": not at all
BY_COUNT = 1  # a mean over an integer count (elements, rows, or the batch for kl_div's "batchmean")
BY_WEIGHT = 2  # "mean" over class targets: the total class weight of the non-ignored rows


def accumulator_dtype(dtype: torch.dtype) -> torch.dtype:
    """The torch dtype partial sums of a ``dtype`` loss are kept in: float64 for float64, else float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def check_reduction(name: str, reduction: str) -> None:
    """Raises ValueError unless ``reduction`` is one of REDUCTIONS."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction (use 'none', 'mean' or 'sum')")


def check_grad_loss(name: str, grad_loss: torch.Tensor, reduction: str, loss_shape) -> None:
    """Raises ValueError unless ``grad_loss`` has the loss's shape ("none") or one element."""
    expected = tuple(loss_shape) if reduction == "none" else ()
    fits = tuple(grad_loss.shape) == expected if reduction == "none" else grad_loss.numel() == 1
    if not fits:
        raise ValueError(
            f"{name}: grad_loss has shape {tuple(grad_loss.shape)}, expected {expected} for reduction={reduction!r}"
        )


# out[0] = sum(partials) (divided by count or by denominator[0] for a mean).
# One program streams the partials (one per program of the loss kernel, so few).
@triton.jit
def loss_sum_kernel(
    partials_ptr, denominator_ptr, out_ptr,
    n_partials, count,
    NORMALIZE: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    total = tl.zeros([BLOCK], COMPUTE)
    for start in range(0, n_partials, BLOCK):
        index = start + tl.arange(0, BLOCK)
        total += tl.load(partials_ptr + index, mask=index < n_partials, other=0.0).to(COMPUTE)
    result = tl.sum(total, axis=0)
    if NORMALIZE == 1:
        result = result / count  # an empty mean is 0 / 0 = NaN, as in torch
    if NORMALIZE == 2:
        result = result / tl.load(denominator_ptr).to(COMPUTE)
    tl.store(out_ptr, result.to(out_ptr.dtype.element_ty))


def finish(partials: torch.Tensor, dtype: torch.dtype, normalize: int, count: int = 0, denominator=None):
    """The 0-d loss of ``dtype`` from the partial sums (see loss_sum_kernel)."""
    out = torch.empty((), dtype=dtype, device=partials.device)
    loss_sum_kernel[(1,)](
        partials, partials if denominator is None else denominator, out,
        partials.numel(), count,
        NORMALIZE=normalize, COMPUTE=compute_dtype(dtype), BLOCK=reduction_block(partials.numel()),
    )  # fmt: skip
    return out
