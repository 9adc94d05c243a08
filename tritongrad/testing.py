"""``tritongrad.testing.assert_close``: torch.testing's comparison, computed with tritongrad's kernels.

Tutorials check their hand-written gradients with ``torch.testing.assert_close(ours, autograd's)``;
with ``import tritongrad as torch`` that call lands here. Defaults are torch's: shapes and dtypes
must match, and values within ``atol + rtol * |expected|`` for floats (float32: 1.3e-6 and 1e-5),
exactly for integers and bools; NaNs are equal only with ``equal_nan=True``.
"""

from __future__ import annotations

import math

import torch

from tritongrad import creation
from tritongrad.autograd import no_grad
from tritongrad.tensor import Tensor

__all__ = ["assert_close"]

# torch.testing's default (rtol, atol) per dtype; integers and bools compare exactly.
_DEFAULT_TOLERANCES = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
}


def assert_close(actual, expected, *, rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_dtype: bool = True, msg: str | None = None) -> None:  # fmt: skip
    """Raises AssertionError naming the mismatch unless ``actual`` and ``expected`` are close."""
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted")
    if not isinstance(actual, Tensor) and not isinstance(expected, Tensor):
        actual, expected = creation.tensor(actual), creation.tensor(expected)
    actual = actual if isinstance(actual, Tensor) else creation.tensor(actual, dtype=expected.dtype)
    expected = expected if isinstance(expected, Tensor) else creation.tensor(expected, dtype=actual.dtype)
    if tuple(actual.shape) != tuple(expected.shape):
        _fail(msg, f"The values for attribute 'shape' do not match: {actual.shape} != {expected.shape}.")
    if check_dtype and actual.dtype != expected.dtype:
        _fail(msg, f"The values for attribute 'dtype' do not match: {actual.dtype} != {expected.dtype}.")
    if rtol is None:
        rtol, atol = _DEFAULT_TOLERANCES.get(actual.dtype, (0.0, 0.0))
    with no_grad():
        actual, expected = actual.detach(), expected.detach()
        if actual.dtype != expected.dtype:
            expected = expected.to(actual.dtype)
        if not actual.dtype.is_floating_point:
            close = actual == expected
            difference = None
        else:
            difference = (actual.double() - expected.double()).abs()
            close = (difference <= atol + rtol * expected.double().abs()) | (actual == expected)
            if equal_nan:
                close = close | (actual.isnan() & expected.isnan())
        mismatched = int((~close).sum().item())
    if mismatched == 0:
        return
    total = actual.numel()
    lines = [
        "Tensor-likes are not close!" if actual.dtype.is_floating_point else "Tensor-likes are not equal!",
        "",
        f"Mismatched elements: {mismatched} / {total} ({100.0 * mismatched / total:.1f}%)",
    ]
    if difference is not None:
        worst = difference.masked_fill(close, 0.0).flatten()
        index = int(worst.argmax().item())
        greatest = worst[index].item()
        lines.append(f"Greatest absolute difference: {greatest} at index {_unravel(index, actual.shape)} "
                     f"(up to {atol} allowed)")  # fmt: skip
        relative = greatest / abs(expected.flatten()[index].item()) if expected.flatten()[index].item() else math.inf
        lines.append(f"Greatest relative difference: {relative} at index {_unravel(index, actual.shape)} "
                     f"(up to {rtol} allowed)")  # fmt: skip
    _fail(msg, "\n".join(lines))


def _unravel(index: int, shape) -> tuple[int, ...]:
    position = []
    for size in reversed(tuple(shape)):
        position.append(index % size)
        index //= size
    return tuple(reversed(position))


def _fail(msg: str | None, default: str) -> None:
    raise AssertionError(msg if msg is not None else default)
