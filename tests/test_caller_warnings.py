"""torch's once-per-process warnings (TORCH_WARN_ONCE) through tritongrad's one table: each given at most
once, every time under ``set_warn_always(True)`` (as torch's, compared call for call), at the user's line."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad

# Each case: a statement run twice that gives one of torch's once-per-process warnings.
ONCE_WARNINGS = {
    "T of a 3-d tensor": lambda lib: lib.ones(2, 3, 4).T,
    "float of a tensor requiring grad": lambda lib: float(lib.ones(1, requires_grad=True)),
    "tensor() of a list holding a tensor requiring grad": lambda lib: lib.tensor([lib.ones((), requires_grad=True)]),
    "stft without a window": lambda lib: lib.stft(lib.ones(20), 8, return_complex=True),
    "istft without a window": lambda lib: lib.istft(lib.ones(5, 3, dtype=lib.complex64), 8),
    "stft with return_complex=False": lambda lib: lib.stft(lib.ones(20), 8, window=lib.ones(8), return_complex=False),
}


def _warnings_of(lib, statement) -> list[str]:
    """The messages of the statement's warnings, run twice (torch's C++ ones without their source line)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        statement(lib)
        statement(lib)
    if lib is tritongrad:
        assert all(w.filename == __file__ for w in caught), [(w.filename, str(w.message)) for w in caught]
    return [str(w.message).split(" (Triggered internally at")[0] for w in caught]


@pytest.mark.parametrize("name", ONCE_WARNINGS)
def test_once_per_process_and_every_time_under_warn_always(name):
    statement = ONCE_WARNINGS[name]
    assert len(_warnings_of(tritongrad, statement)) <= 1, name
    tritongrad.set_warn_always(True)
    torch.set_warn_always(True)
    try:
        ours, theirs = _warnings_of(tritongrad, statement), _warnings_of(torch, statement)
    finally:
        tritongrad.set_warn_always(False)
        torch.set_warn_always(False)
    assert ours == theirs, f"{name}: tritongrad {ours} torch {theirs}"
    assert len(ours) == 2, f"{name}: {ours}"
