"""numpy's axis=/keepdims= spellings (tritongrad/numpy_aliases.py): taken wherever torch's argument
parser takes them, refused where torch's Python refuses them, and no public function missed."""

from __future__ import annotations

from types import FunctionType

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch
from tritongrad import numpy_aliases

NAMESPACES = [
    ("Tensor", tritongrad.Tensor, torch.Tensor),
    ("tritongrad", tritongrad, torch),
    ("tritongrad.ops", tritongrad.ops, torch),
    ("nn.functional", tritongrad.nn.functional, torch.nn.functional),
    ("linalg", tritongrad.linalg, torch.linalg),
]


@pytest.mark.parametrize("label, ours, theirs", NAMESPACES, ids=[n[0] for n in NAMESPACES])
def test_no_public_function_with_dim_is_missed(label, ours, theirs):
    """Every public function with a dim/keepdim parameter takes the aliases, unless torch defines the
    name in Python (its parser never sees the call, so axis= is a TypeError there too)."""
    missed = [
        name
        for name, function in vars(ours).items()
        if not name.startswith("_")
        and numpy_aliases.needs_aliases(function)
        and not isinstance(getattr(theirs, name, None), FunctionType)
    ]
    assert not missed, f"{label}: functions with dim/keepdim that refuse axis=/keepdims=: {missed}"


CALLS = [
    ("x.sum(axis=1, keepdims=True)", lambda lib, x: x.sum(axis=1, keepdims=True)),
    ("sum(x, axis=(0, 1))", lambda lib, x: lib.sum(x, axis=(0, 1))),
    ("x.mean(axis=0)", lambda lib, x: x.mean(axis=0)),
    ("x.cumsum(axis=0)", lambda lib, x: x.cumsum(axis=0)),
    ("cat([x, x], axis=1)", lambda lib, x: lib.cat([x, x], axis=1)),
    ("stack([x, x], axis=0)", lambda lib, x: lib.stack([x, x], axis=0)),
    ("x.argmax(axis=1, keepdims=True)", lambda lib, x: x.argmax(axis=1, keepdims=True)),
    ("max(x, axis=1).values", lambda lib, x: lib.max(x, axis=1).values),
    ("x.unsqueeze(axis=0)", lambda lib, x: x.unsqueeze(axis=0)),
    ("x.logsumexp(axis=1)", lambda lib, x: x.logsumexp(axis=1)),
    ("x.std(axis=0, keepdims=True)", lambda lib, x: x.std(axis=0, keepdims=True)),
    ("x.any(axis=1)", lambda lib, x: (x > 0).any(axis=1)),
]


@pytest.mark.parametrize("text, call", CALLS, ids=[c[0] for c in CALLS])
def test_aliases_give_torchs_result(text, call):
    values = torch.randn(5, 7, dtype=torch.float64)
    assert_close(call(tritongrad, from_torch(values)), call(torch, values), what=text)


REFUSED = [
    ("F.softmax(x, axis=1)", lambda lib, x: lib.nn.functional.softmax(x, axis=1)),
    ("x.split(2, axis=0)", lambda lib, x: x.split(2, axis=0)),
    ("x.sum(dim=1, axis=1)", lambda lib, x: x.sum(dim=1, axis=1)),
    ("x.sum(1, keepdim=True, keepdims=True)", lambda lib, x: x.sum(1, keepdim=True, keepdims=True)),
    ("cat([x], dim=0, axis=0)", lambda lib, x: lib.cat([x], dim=0, axis=0)),
]


@pytest.mark.parametrize("text, call", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_where_torch_refuses(text, call):
    values = torch.randn(4, 3)
    with pytest.raises(TypeError) as expected:
        call(torch, values)
    with pytest.raises(TypeError) as got:
        call(tritongrad, from_torch(values))
    alias = "keepdims" if "keepdims" in text else "axis"
    assert alias in str(got.value), f"{text}: {got.value!r} does not name {alias!r} (torch: {expected.value!r})"


def test_one_wrapper_per_function():
    """A function reachable under several names stays one object after wrapping."""
    assert tritongrad.cat is tritongrad.ops.cat
    assert numpy_aliases.has_aliases(tritongrad.cat)
    assert numpy_aliases.accepts_numpy_axis(tritongrad.cat) is tritongrad.cat
