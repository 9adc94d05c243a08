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

# (rtol, atol) per dtype: the one tolerance table of the tests. The default bounds an op whose result
# is one rounding of the exact value (elementwise ops, copies, views). float32: torch.testing's
# defaults (about 11 ulp); the half types: one rounding of a float32 result is up to 2**-9
# (fp16: 2**-11) relative, plus input rounding.
TOLERANCES = {
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-12, 1e-12),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (1e-2, 1e-2),
}

# Named kinds: ops whose error genuinely differs from one rounding, each with why. A kind lists
# the dtypes it changes; the others keep the default bound. Pick one with ``tolerance(dtype, kind)``
# or ``assert_close(..., kind=...)``; never loosen a kind to make a test pass.
TOLERANCE_KINDS: dict[str, dict[torch.dtype, tuple[float, float]]] = {
    # Chains of ops and their gradients through autograd (tests/autograd_utils.py): each op rounds
    # once and backward sums partial gradients in an order torch does not share.
    "autograd": {
        torch.float32: (1e-5, 1e-5),
        torch.float64: (1e-10, 1e-10),
        torch.bfloat16: (2e-2, 2e-2),
    },
    # Random graphs of up to a dozen float64 ops (test_autograd_properties): the error of each op
    # compounds through the graph's depth and its fan-in sums.
    "autograd_graph": {torch.float64: (1e-9, 1e-9)},
    # Gradients accumulated over repeated indices (embedding's weight gradient): each row is a sum of
    # up to N grad_out rows in an order of its own; float64 stays at the default.
    "accumulation": {torch.float32: (1e-5, 1e-5), torch.bfloat16: (2e-2, 2e-2)},
    # Reductions along a row against a float64 oracle (softmax, log_softmax, class-target losses):
    # a long sum in another order, then one rounding; small atols keep tiny probabilities honest.
    "row_reduction": {
        torch.float32: (1e-5, 1e-6),
        torch.float64: (1e-10, 1e-12),
        torch.float16: (1e-2, 1e-3),
        torch.bfloat16: (2e-2, 1e-2),
    },
    # Normalization gradients (batch/layer norm): sums over N * spatial values or along rows, and
    # grad_input subtracts two means of products, a difference of O(1) terms that loses precision.
    "norm_grad": {torch.float32: (1e-4, 1e-5), torch.float64: (1e-10, 1e-11)},
    # Matmul against a float64 reference rounded to the dtype: a k-long dot product accumulated in
    # float32 tiles in a blocked order; tests scale atol by sqrt(k) for long reductions.
    "matmul": {
        torch.float32: (1e-5, 1e-5),
        torch.float64: (1e-10, 1e-10),
        torch.bfloat16: (1e-2, 2e-2),
    },
    # Fused linear + cross-entropy: sums over V classes and over N rows of matmul results; the half
    # types round the logits before the softmax.
    "linear_cross_entropy": {
        torch.float32: (1e-5, 1e-5),
        torch.float64: (1e-11, 1e-12),
        torch.float16: (2e-2, 2e-2),
        torch.bfloat16: (5e-2, 5e-2),
    },
    # Activation forwards against float64: tighter than the default in atol, which only absorbs
    # underflow (gelu(-13) ~ 1e-37 in float32, fp16 subnormals).
    "activation": {
        torch.float32: (1e-5, 1e-35),
        torch.float64: (1e-10, 1e-300),
        torch.float16: (1e-2, 1e-7),
        torch.bfloat16: (1e-2, 1e-35),
    },
    # Activation backwards: atols cover the zero crossings of gelu' (x ~ -0.75) and silu'
    # (x ~ -1.28), where the result is a difference of O(1) terms.
    "activation_grad": {
        torch.float32: (1e-5, 1e-6),
        torch.float64: (1e-10, 1e-12),
        torch.float16: (1e-2, 1e-3),
    },
    # Special functions (erf, lgamma, ...) from Triton's own approximations: near one rounding, with
    # atols far below any value the tests reach so relative error is what counts.
    "special": {torch.float32: (1e-6, 1e-40), torch.float64: (1e-14, 1e-300)},
    # Optimizer steps computed in torch's order (fused multiply-adds where torch fuses): an ulp or two
    # of the operands (values up to ~10) where torch rounds differently (its CPU sqrt; a GPU's
    # contractions); half parameters against a float32 oracle rounded as the kernel rounds.
    "optim": {
        torch.float32: (1e-6, 2e-6),
        torch.float64: (1e-12, 1e-14),
        torch.float16: (1e-3, 1e-6),
        torch.bfloat16: (8e-3, 1e-6),
    },
    # RMSprop divides by sqrt of a running average that can be tiny: a larger float32 atol.
    "rmsprop": {torch.float32: (1e-6, 2e-5), torch.float64: (1e-12, 1e-13)},
}


def tolerance(dtype: torch.dtype, kind: str = "default") -> tuple[float, float]:
    """(rtol, atol) for comparing a result of ``dtype`` with torch's, for an op of ``kind``
    (a key of ``TOLERANCE_KINDS``, or "default": ``TOLERANCES``); other dtypes use float32's."""
    if kind != "default" and kind not in TOLERANCE_KINDS:
        raise KeyError(f"unknown tolerance kind {kind!r}; known: {sorted(TOLERANCE_KINDS)}")
    named = TOLERANCE_KINDS.get(kind, {})
    return named.get(dtype) or TOLERANCES.get(dtype, TOLERANCES[torch.float32])


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


def assert_close(actual, expected, dtype: torch.dtype | None = None, *, kind: str = "default",
                 tolerances: tuple[float, float] | None = None, rtol: float | None = None,
                 atol: float | None = None, what: str = "result", check_dtype: bool | torch.dtype = True,
                 float64_reference: bool = False) -> None:  # fmt: skip
    """Compares a tritongrad tensor (or torch tensor, number, list) with torch's result: shape, dtype, values.

    ``dtype``: whose tolerances apply (default: the expected dtype). ``check_dtype``: the result must
    have the expected dtype (True), that dtype (a dtype: ``expected`` is a more precise oracle) or
    any (False). Bounds: ``tolerances`` (rtol, atol), else
    ``tolerance(dtype, kind)``, with ``rtol``/``atol`` overriding either. Integers and bools must
    match exactly; NaNs must be in the same places, infinities equal. ``float64_reference``: a float64
    on either side needn't match the other's dtype, and numbers/lists become float64 (the autograd
    tests' convention). A failure names shape, dtype, the max abs and relative errors and where.
    """
    if isinstance(actual, tritongrad.Tensor):
        actual = to_torch(actual)
    elif not isinstance(actual, torch.Tensor):
        actual = torch.tensor(actual, dtype=torch.float64 if float64_reference else None)
    if not isinstance(expected, torch.Tensor):
        expected = torch.tensor(expected, dtype=torch.float64 if float64_reference else None)
    actual, expected = actual.detach().cpu(), expected.detach().cpu()
    result_dtype = check_dtype if isinstance(check_dtype, torch.dtype) else expected.dtype
    context = f"{what}: shape {tuple(expected.shape)}, dtype {result_dtype}"
    assert tuple(actual.shape) == tuple(expected.shape), f"{context}: got shape {tuple(actual.shape)}"
    want_dtype = dtype or expected.dtype
    if check_dtype is not False and actual.dtype != result_dtype:
        if not (float64_reference and torch.float64 in (actual.dtype, expected.dtype)):
            raise AssertionError(f"{context}: got dtype {actual.dtype} (type promotion differs)")
    if expected.numel() == 0:
        return
    if not want_dtype.is_floating_point:
        mismatched = actual.to(expected.dtype) != expected
        if bool(mismatched.any()):
            where = mismatched.nonzero()[0].tolist()
            raise AssertionError(
                f"{context}: {int(mismatched.sum())} elements differ, first at {where}: "
                f"got {actual[tuple(where)].item()!r}, torch {expected[tuple(where)].item()!r}"
            )
        return
    default_rtol, default_atol = tolerances or tolerance(want_dtype, kind)
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
    magnitude = want64.abs().nan_to_num(0.0, posinf=0.0)
    bound = atol + rtol * magnitude
    excess = error - bound
    if bool((excess > 0).any()):
        worst = int(excess.flatten().argmax())
        index = torch.unravel_index(torch.tensor(worst), expected.shape) if expected.dim() else ()
        index = tuple(int(i) for i in index)
        relative = (error / magnitude.clamp_min(torch.finfo(torch.float64).tiny)).max().item()
        raise AssertionError(
            f"{context}: {int((excess > 0).sum())} of {expected.numel()} elements out of tolerance "
            f"(rtol {rtol}, atol {atol}); max abs error {error.max().item():.3g}, max rel error "
            f"{relative:.3g}; worst at {list(index)}: got {got64[index].item()!r}, "
            f"torch {want64[index].item()!r}"
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
