"""Helpers for the autograd tests: moving values between torch and tritongrad, and comparing them.

The tests often run one function twice, once with ``lib=torch`` and once with
``lib=tritongrad``, and compare what came back (``run_both``) or what was printed
(``printed_numbers``); these helpers do the conversions and comparisons.
"""

from __future__ import annotations

import contextlib
import io
import math
import re

import torch

import tritongrad
from tests import utils
from tests.utils import tolerance
from tritongrad import runtime

DEVICE = runtime.device()
FLOAT_DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
# The "autograd" kind of tests/utils.py's one tolerance table, for the files that index it by dtype.
TOLERANCES = {dtype: tolerance(dtype, "autograd") for dtype in FLOAT_DTYPES}


def to_tg(value: torch.Tensor, requires_grad: bool = False) -> tritongrad.Tensor:
    """A tritongrad leaf holding a copy of a torch tensor (same dtype, tritongrad's device)."""
    copy = value.detach().to(DEVICE).clone().contiguous()
    tensor = tritongrad.Tensor._wrap(copy)
    return tensor.requires_grad_(requires_grad) if requires_grad else tensor


def to_torch(value) -> torch.Tensor:
    """A torch copy (on the CPU) of a tritongrad tensor's values."""
    return value._data.detach().cpu().clone()


def leaf_pair(shape, dtype=torch.float64, low=None, high=None, requires_grad=True):
    """The same random values as a torch leaf and a tritongrad leaf."""
    values = torch.randn(*shape, dtype=torch.float64)
    if low is not None:
        values = low + (high - low) * torch.rand(*shape, dtype=torch.float64)
    values = values.to(dtype)
    return values.clone().requires_grad_(requires_grad), to_tg(values, requires_grad)


def assert_close(got, want, what: str = "value", dtype=None, tolerances=None, kind: str = "autograd") -> None:
    """tests.utils.assert_close in the autograd tests' calling convention (the label third, float64
    references and numbers/lists allowed, the "autograd" tolerances); no comparison of its own."""
    utils.assert_close(got, want, dtype, kind=kind, tolerances=tolerances, what=what, float64_reference=True)


def assert_same_results(got, want, what: str = "result", tolerances=None) -> None:
    """Recursively compares nested tuples/lists/dicts of tensors, numbers, strings and None."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), f"{what}: keys {list(got)} != {list(want)}"
        for key in want:
            assert_same_results(got[key], want[key], f"{what}[{key!r}]", tolerances)
    elif isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)), f"{what}: got {type(got).__name__}, torch gave a sequence"
        assert len(got) == len(want), f"{what}: length {len(got)} != torch's {len(want)}"
        for index, (g, w) in enumerate(zip(got, want)):
            assert_same_results(g, w, f"{what}[{index}]", tolerances)
    elif want is None or isinstance(want, (str, bool, torch.dtype)):
        assert got == want, f"{what}: got {got!r}, torch gave {want!r}"
    elif isinstance(want, torch.Tensor):
        assert isinstance(got, tritongrad.Tensor), f"{what}: got {type(got).__name__}, torch gave a Tensor"
        assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != torch's {want.dtype}"
        assert got.requires_grad == want.requires_grad, f"{what}: requires_grad {got.requires_grad} != torch's"
        assert_close(got, want, what, tolerances=tolerances)
    else:
        assert_close(float(got), float(want), what, tolerances=tolerances or tolerance(torch.float32, "autograd"))


def run_both(scenario, *args, tolerances=None, **kwargs):
    """Runs ``scenario(lib, ...)`` with torch and with tritongrad and compares the returned values."""
    want = scenario(torch, *args, **kwargs)
    got = scenario(tritongrad, *args, **kwargs)
    assert_same_results(got, want, scenario.__name__, tolerances)
    return got, want


# A number not glued to a word (the 0 of "SumBackward0" and the 32 of "float32" stay text).
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w])|(?<![\w])(?:nan|inf)(?![\w])")
_ADDRESS = re.compile(r" object at 0x[0-9a-fA-F]+")


def run_printing(scenario, lib, *args):
    """``scenario(lib, *args)``'s return value and what it printed (object addresses removed)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        result = scenario(lib, *args)
    return result, _ADDRESS.sub(" object", buffer.getvalue())


def printed_numbers(text: str) -> list[tuple[float, float]]:
    """Each printed number with one unit of its last printed digit (its rounding granularity)."""
    numbers = []
    for token in _NUMBER.findall(text):
        mantissa, _, exponent = token.lower().partition("e")
        decimals = len(mantissa.partition(".")[2]) if "." in mantissa else 0
        unit = 10.0 ** (-decimals) * 10.0 ** int(exponent or 0) if token[-1:].isdigit() or "." in token else 0.0
        numbers.append((float(token), unit))
    return numbers


def compare_scenario(scenario, *args, rtol: float = 1e-5, atol: float = 1e-6, exact_text: bool = True):
    """Runs ``scenario(lib, *args)`` with torch and tritongrad; compares what each printed and returned.

    Printed numbers match within float32 tolerance plus one unit of the last printed digit
    (a value within tolerance may round the other way when printed with 4 decimals); the
    words around them must be identical when ``exact_text``. Returns tritongrad's
    (result, printout).
    """
    want_result, want = run_printing(scenario, torch, *args)
    got_result, got = run_printing(scenario, tritongrad, *args)
    context = f"\n--- tritongrad printed:\n{got}\n--- torch printed:\n{want}"
    want_numbers, got_numbers = printed_numbers(want), printed_numbers(got)
    assert len(got_numbers) == len(want_numbers), (
        f"{scenario.__name__}: printed {len(got_numbers)} numbers, torch printed {len(want_numbers)}{context}"
    )
    for index, ((g, _), (w, unit)) in enumerate(zip(got_numbers, want_numbers)):
        if math.isnan(w):
            assert math.isnan(g), f"{scenario.__name__}: printed number {index} is {g!r}, torch printed nan{context}"
            continue
        assert abs(g - w) <= atol + rtol * abs(w) + unit * 1.0001, (
            f"{scenario.__name__}: printed number {index} is {g!r}, torch printed {w!r}{context}"
        )
    if exact_text:
        want_words, got_words = _NUMBER.sub("#", want), _NUMBER.sub("#", got)
        assert got_words == want_words, f"{scenario.__name__}: the printed text differs{context}"
    assert_same_results(got_result, want_result, scenario.__name__)
    return got_result, got
