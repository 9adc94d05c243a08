"""Writes whose output overlaps an input: torch's verdict for every case, in place and through ``out=``.

torch refuses an output that partially overlaps an input (the result would depend on the order in
which blocks run) and one with several elements in one memory location; it allows full aliasing
(``x.add_(x)``), disjoint memory, inputs too irregular to decide (not dense), and ``fill_``/``zero_``
on an expanded tensor. Each case runs on torch and on tritongrad: either both raise the same error
type, or both give the same values.
"""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, random_values

# name -> (function of (library, x) that writes into x or a view of it; shape of x)
CASES = {
    "partial_shifted_add_": (lambda lib, x: x[1:].add_(x[:-1]), (7,)),
    "partial_shifted_mul_": (lambda lib, x: x[:-2].mul_(x[2:]), (9,)),
    "partial_copy_": (lambda lib, x: x[1:].copy_(x[:-1]), (6,)),
    "partial_row_broadcast": (lambda lib, x: x.add_(x[0]), (3, 4)),
    "partial_out": (lambda lib, x: lib.add(x[:-1], 1.0, out=x[1:]), (8,)),
    "partial_where_out": (lambda lib, x: lib.where(x[:-1] > 0, x[:-1], x[:-1] * 0.5, out=x[1:]), (8,)),
    "partial_rows": (lambda lib, x: x[1:].sub_(x[:-1]), (4, 5)),
    "full_alias_add_": (lambda lib, x: x.add_(x), (5, 3)),
    "full_alias_view": (lambda lib, x: x.mul_(x.view(x.shape)), (4, 4)),
    "full_alias_out": (lambda lib, x: lib.mul(x, 2.0, out=x), (6,)),
    "disjoint_halves": (lambda lib, x: x[:4].add_(x[4:]), (8,)),
    "disjoint_rows": (lambda lib, x: x[0].div_(x[1]), (2, 5)),
    "not_dense_interleaved": (lambda lib, x: x[::2].add_(x[1::2]), (10,)),
    "expanded_add_": (lambda lib, x: x[:1].expand(3, 4).add_(1.0), (3, 4)),
    "fill_expanded": (lambda lib, x: x[:1].expand(5, 4).fill_(2.5), (3, 4)),
    "zero_expanded": (lambda lib, x: x[:, :1].expand(3, 6).zero_(), (3, 4)),
    "fill_expanded_scalar_base": (lambda lib, x: x[0, 0].expand(7).fill_(-1.0), (2, 2)),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_overlapping_write_matches_torch(name, dtype):
    write, shape = CASES[name]
    values = random_values(shape, dtype)
    expected_x = values.clone()
    ours_x = from_torch(values)
    try:
        write(torch, expected_x)
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match="single memory location") as raised:
            write(tritongrad, ours_x)
        assert "single memory location" in str(error), f"torch's message changed: {error}"
        assert_close(ours_x, values, what=f"{name}: a refused write must leave x untouched ({raised.value})")
        return
    write(tritongrad, ours_x)
    assert_close(ours_x, expected_x, what=name)


def test_partial_overlap_is_refused_while_recording_too():
    """With autograd recording, the in-place op runs out of place on a snapshot; the check still applies."""
    x = tritongrad.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1.0
    with pytest.raises(RuntimeError, match="single memory location"):
        y[1:].add_(y[:-1])
    z = x * 1.0
    z[2:].add_(z[:2])  # disjoint: allowed, and differentiable
    z.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 1.0, 1.0]
