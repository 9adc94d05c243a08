"""Shared helpers for the op tests: random inputs in every layout, torch <-> tritongrad, assert_close.

Tests build an input once in torch, hand tritongrad a private copy laid out the same
way (transposed, sliced, expanded: the copy is a view of a cloned base, so the kernel
really reads strided memory), run the op in both libraries and compare with
``assert_close``, which also checks shape and dtype (torch's type promotion).
"""

from __future__ import annotations

import contextlib
import io
import runpy
import sys
import warnings
from collections.abc import Callable

import torch

import tritongrad
from tritongrad import runtime

DEVICE = runtime.device()

FLOAT_DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.float64]
INT_DTYPES = [torch.int32, torch.int64]
ALL_DTYPES = FLOAT_DTYPES + INT_DTYPES + [torch.bool]

# (rtol, atol) per dtype. float32: torch.testing's defaults (about 11 ulp); the half types:
# one rounding of a float32 result is up to 2**-9 (fp16: 2**-11) relative, plus input rounding.
TOLERANCES = {
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-12, 1e-12),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (1e-2, 1e-2),
}


def to_torch(tensor: tritongrad.Tensor) -> torch.Tensor:
    """The torch buffer behind a tritongrad tensor, moved to the CPU (no copy when already there)."""
    return tensor._data.detach().cpu()


def from_torch(tensor: torch.Tensor, requires_grad: bool = False) -> tritongrad.Tensor:
    """A tritongrad leaf over a private copy of ``tensor`` with the same strides (on tritongrad's device)."""
    source = tensor.detach()
    # A private copy of the whole storage, viewed with the same sizes, strides and offset, so a
    # transposed, sliced or expanded input stays one (clone() would make it contiguous).
    storage = source.as_strided((source.untyped_storage().nbytes() // source.element_size(),), (1,), 0)
    copy = storage.to(DEVICE).clone().as_strided(source.shape, source.stride(), source.storage_offset())
    result = tritongrad.Tensor._wrap(copy)
    return result.requires_grad_(requires_grad) if requires_grad else result


def random_values(shape, dtype: torch.dtype, *, low: float = -3.0, high: float = 3.0) -> torch.Tensor:
    """Fresh random values of ``dtype`` on the CPU: uniform floats in [low, high), nonzero integers in
    [low, high] (zeros are replaced by 1) and random bools."""
    if dtype == torch.bool:
        return torch.rand(shape) > 0.5
    if dtype.is_floating_point:
        values = low + (high - low) * torch.rand(shape, dtype=torch.float64)
        return values.to(dtype)
    values = torch.randint(int(low), int(high) + 1, tuple(shape), dtype=dtype)
    return torch.where(values == 0, torch.ones_like(values), values)


# A layout turns a contiguous base into the tensor under test; ``base_shape`` says which base
# shape yields a result of ``shape``. Each exercises one way a kernel must read strided memory.
LAYOUTS: dict[str, tuple[Callable, Callable]] = {
    "contiguous": (lambda shape: shape, lambda t: t),
    # last two dims swapped: strides (1, n) on a 2-D tensor
    "transposed": (
        lambda shape: shape[:-2] + (shape[-1], shape[-2]) if len(shape) >= 2 else shape,
        lambda t: t.transpose(-1, -2) if t.dim() >= 2 else t,
    ),
    # every other element of a twice-as-long last dim, starting at 1 (a storage offset too)
    "sliced": (lambda shape: shape[:-1] + (2 * shape[-1] + 1,), lambda t: t[..., 1::2]),
    # a size-1 leading dim broadcast with stride 0
    "expanded": (lambda shape: (1,) + shape[1:], None),
}


def make_pair(shape, dtype: torch.dtype, layout: str = "contiguous", requires_grad: bool = False, **value_range):
    """The same random values as a torch tensor and a tritongrad tensor, both in ``layout``."""
    shape = tuple(shape)
    base_shape_of, view = LAYOUTS[layout]
    base = random_values(base_shape_of(shape), dtype, **value_range)
    if layout == "expanded":
        view = lambda t: t.expand(shape)  # noqa: E731
    expected = view(base)
    got = tritongrad.Tensor._wrap(view(base.to(DEVICE).clone()))
    assert got.shape == expected.shape and got.stride() == expected.stride()
    if requires_grad:
        expected = expected.detach().requires_grad_(True)
        got.requires_grad_(True)
    return expected, got


def assert_close(actual, expected, dtype: torch.dtype | None = None, *, rtol=None, atol=None, what="result",
                 check_dtype: bool = True) -> None:  # fmt: skip
    """Compares a tritongrad tensor (or number) with torch's result: shape, dtype and values.

    Tolerances come from ``TOLERANCES`` for ``dtype`` (default: the expected dtype);
    integers and bools must match exactly; NaNs must be in the same places.
    """
    if isinstance(actual, tritongrad.Tensor):
        actual = to_torch(actual)
    elif not isinstance(actual, torch.Tensor):
        actual = torch.tensor(actual)
    if not isinstance(expected, torch.Tensor):
        expected = torch.tensor(expected)
    expected = expected.detach().cpu()
    context = f"{what}: shape {tuple(expected.shape)}, dtype {expected.dtype}"
    assert tuple(actual.shape) == tuple(expected.shape), f"{context}: got shape {tuple(actual.shape)}"
    if check_dtype:
        assert actual.dtype == expected.dtype, f"{context}: got dtype {actual.dtype} (type promotion differs)"
    if expected.numel() == 0:
        return
    dtype = dtype or expected.dtype
    if not dtype.is_floating_point:
        mismatched = actual.to(expected.dtype) != expected
        if bool(mismatched.any()):
            where = mismatched.nonzero()[0].tolist()
            raise AssertionError(
                f"{context}: {int(mismatched.sum())} elements differ, first at {where}: "
                f"got {actual[tuple(where)].item()!r}, torch {expected[tuple(where)].item()!r}"
            )
        return
    default_rtol, default_atol = TOLERANCES.get(dtype, TOLERANCES[torch.float32])
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    got64, want64 = actual.double(), expected.double()
    nan_differs = torch.isnan(got64) != torch.isnan(want64)
    if bool(nan_differs.any()):
        where = nan_differs.nonzero()[0].tolist()
        raise AssertionError(
            f"{context}: NaN in different places, first at {where}: got {got64[tuple(where)].item()!r}, "
            f"torch {want64[tuple(where)].item()!r}"
        )
    same_inf = torch.isinf(want64) & (got64 == want64)
    error = torch.where(same_inf | torch.isnan(want64), torch.zeros_like(got64), (got64 - want64).abs())
    bound = atol + rtol * want64.abs().nan_to_num(0.0, posinf=0.0)
    excess = error - bound
    if bool((excess > 0).any()):
        worst = int(excess.flatten().argmax())
        index = list(torch.unravel_index(torch.tensor(worst), expected.shape)) if expected.dim() else []
        index = tuple(int(i) for i in index)
        raise AssertionError(
            f"{context}: max abs error {error.max().item():.3g} (rtol {rtol}, atol {atol}), "
            f"worst at {list(index)}: got {got64[index].item()!r}, torch {want64[index].item()!r}"
        )


def run_script_in_process(path: str, *args: str) -> str:
    """Runs the script at ``path`` as __main__ with ``args`` in this process (so the compute audit
    watches it) and returns what it printed; warnings are silenced, ``sys.argv`` restored."""
    output = io.StringIO()
    saved_argv = sys.argv
    sys.argv = [path, *args]
    try:
        with contextlib.redirect_stdout(output), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv = saved_argv
    return output.getvalue()
