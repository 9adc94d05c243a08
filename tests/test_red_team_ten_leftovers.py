"""Red-team round ten's findings that fell between the fix areas, each compared with torch by ``agree`` (the
value, or the exception type and message): special.round's integer refusal, nanmedian's empty-dim message, the
pools' TypeErrors for non-int sizes, torch's C++ type names in autograd's messages, and set_default_device per
thread."""

from __future__ import annotations

import threading

import pytest
import torch

import tritongrad
from tests.test_hardening import agree


def _bfloat16_version_error(lib):
    x = lib.ones(3, requires_grad=True, dtype=lib.bfloat16)
    y = x.exp()
    y.add_(1)
    y.sum().backward()


def _hook_changing_type(lib):
    x = lib.ones(3, requires_grad=True)
    x.register_hook(lambda grad: grad.double())
    (x * 2).sum().backward()


CASES = {
    "special.round of int64": lambda lib: lib.special.round(lib.tensor([1, 2])),
    "special.round of int64, decimals=1": lambda lib: lib.special.round(lib.tensor([1, 2]), decimals=1),
    "special.round of bool": lambda lib: lib.special.round(lib.tensor([True, False])),
    "special.round of uint8": lambda lib: lib.special.round(lib.tensor([1, 2], dtype=lib.uint8)),
    "special.round of float32": lambda lib: lib.special.round(lib.tensor([1.5, 2.5, -0.5])),
    "special.round, decimals=1": lambda lib: lib.special.round(lib.tensor([1.25, 2.35]), decimals=1),
    "nanmedian over an empty dim": lambda lib: lib.zeros(2, 0).nanmedian(1),
    "max_pool2d float kernel": lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 4, 4), 2.0),
    "max_pool2d bool kernel": lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 4, 4), True),
    "max_pool2d str kernel": lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 4, 4), "a"),
    "max_pool2d float element": lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 4, 4), (2.0, 2)),
    "max_pool2d float padding": lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 4, 4), 2, padding=0.0),
    "max_pool2d float dilation": lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 4, 4), 2, 1, 0, 1.0),
    "avg_pool2d float stride": lambda lib: lib.nn.functional.avg_pool2d(lib.ones(1, 1, 4, 4), 2, 1.0),
    "max_pool1d float kernel": lambda lib: lib.nn.functional.max_pool1d(lib.ones(1, 1, 4), 2.0),
    "MaxPool2d(2.0)": lambda lib: lib.nn.MaxPool2d(2.0)(lib.ones(1, 1, 4, 4)),
    "max_pool2d three sizes": lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 4, 4), (2, 2, 2)),
    "max_pool2d a one-element list": lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 4, 4), [2]),
    "version error names CPUBFloat16Type": _bfloat16_version_error,
    "hook changing the type": _hook_changing_type,
    "map_ names CPUComplexFloatType": lambda lib: lib.ones(3, dtype=lib.complex64).map_(lib.ones(3), lambda a, b: a),
    "unsafe_split's node": lambda lib: _pieces(lib, lambda y: y.unsafe_split(2)),
    "unsafe_chunk's node": lambda lib: _pieces(lib, lambda y: lib.unsafe_chunk(y, 3)),
    "unsafe_split_with_sizes's node": lambda lib: _pieces(lib, lambda y: y.unsafe_split_with_sizes([1, 3])),
    "unsafe_split of a list": lambda lib: lib.unsafe_split(lib.ones(4), [2, 2]),
    "unsafe_split of size 0": lambda lib: lib.ones(0).unsafe_split(0),
    "an unsafe_split piece written in place": lambda lib: _written_piece(lib),
    "unsafe_split shares memory": lambda lib: _shared_memory(lib),
}


def _pieces(lib, split):
    """The pieces' shapes and node names, and the input's gradient through them."""
    x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    pieces = split(x * 1)
    sum(piece.sum() * (number + 1) for number, piece in enumerate(pieces)).backward()
    return [tuple(p.shape) for p in pieces], [p.grad_fn.name() for p in pieces], x.grad


def _written_piece(lib):
    """A write into a piece is an op on that piece (torch refuses it for split's views)."""
    x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    first, second = (x * 1).unsafe_split(2)
    first.mul_(3)
    (first.sum() + second.sum()).backward()
    return first.grad_fn.name(), first.grad_fn.next_functions[0][0].name(), x.grad


def _shared_memory(lib):
    whole = lib.zeros(6)
    whole.unsafe_split(3)[1].fill_(5)
    return whole


@pytest.mark.parametrize("name", CASES)
def test_leftovers_as_torch(name):
    agree(name, lambda lib: CASES[name](lib), [])


@pytest.mark.parametrize("lib", [torch, tritongrad], ids=["torch", "tritongrad"])
def test_set_default_device_is_per_thread(lib):
    """torch's default device is thread-local: a new thread's factories make CPU tensors."""
    lib.set_default_device("meta")
    try:
        seen = []
        thread = threading.Thread(target=lambda: seen.append((lib.zeros(1).device.type, lib.get_default_device().type)))
        thread.start()
        thread.join()
        assert seen == [("cpu", "cpu")], seen
        assert lib.zeros(1).device.type == "meta"
    finally:
        lib.set_default_device(None)
