"""Edge cases where tritongrad once disagreed with torch: each compared with torch's answer or error."""

from __future__ import annotations

import copy
import json
import math
import re
import struct

import pytest
import torch
from torch.utils._python_dispatch import _disable_current_modes

import tritongrad
import tritongrad.nn.functional as F
import tritongrad.serialization
from tests.utils import assert_close, from_torch, to_torch


@pytest.mark.parametrize(
    "logits_dtype,target_dtype",
    [(torch.float64, torch.float32), (torch.float32, torch.float64), (torch.float16, torch.float32)],
)
def test_cross_entropy_probability_targets_of_another_dtype_promote(logits_dtype, target_dtype):
    logits = torch.randn(5, 7).to(logits_dtype)
    probabilities = torch.softmax(torch.randn(5, 7), 1).to(target_dtype)
    expected = torch.nn.functional.cross_entropy(logits.requires_grad_(), probabilities)
    expected.backward()
    ours_logits = from_torch(logits, requires_grad=True)
    actual = F.cross_entropy(ours_logits, from_torch(probabilities))
    actual.backward()
    assert_close(actual, expected, rtol=1e-3, atol=1e-3)
    assert_close(ours_logits.grad, logits.grad, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(
    "size,stride,offset",
    [((2, 2), (1, 2), 1), ((3,), (3,), None), ((2,), (1,), -1), ((5,), (3,), 0), ((0, 4), (4, 1), 9)],
)
def test_as_strided_matches_torch(size, stride, offset):
    base = torch.arange(10.0)
    try:
        expected = base.as_strided(size, stride, offset)
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match=re.escape(str(error))):
            from_torch(base).as_strided(size, stride, offset)
        return
    assert_close(from_torch(base).as_strided(size, stride, offset), expected)
    assert_close(tritongrad.as_strided(from_torch(base), size, stride, offset), expected)


@pytest.mark.parametrize("index", [10, -11, 9, -10])
def test_select_out_of_range_message(index):
    base = torch.arange(10.0)
    try:
        expected = base.select(0, index)
    except IndexError as error:
        with pytest.raises(IndexError, match=re.escape(str(error))):
            from_torch(base).select(0, index)
        return
    assert_close(from_torch(base).select(0, index), expected)


def test_deepcopy_of_a_leaf_copies_values_grad_and_flags():
    source = torch.randn(3, 4)
    leaf = from_torch(source, requires_grad=True)
    (leaf * 2).sum().backward()
    copied = copy.deepcopy(leaf)
    assert copied is not leaf and copied._data.data_ptr() != leaf._data.data_ptr()
    assert copied.requires_grad and copied.is_leaf
    assert_close(copied.detach(), source)
    assert_close(copied.grad, torch.full((3, 4), 2.0))


def test_deepcopy_of_a_non_leaf_raises_torchs_error():
    leaf = from_torch(torch.randn(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(leaf * 2)


def test_deepcopy_of_a_module_gives_independent_parameters():
    tritongrad.manual_seed(0)
    model = tritongrad.nn.Sequential(tritongrad.nn.Linear(4, 3), tritongrad.nn.ReLU(), tritongrad.nn.Linear(3, 2))
    clone = copy.deepcopy(model)
    for original, copied in zip(model.parameters(), clone.parameters()):
        assert type(copied) is tritongrad.nn.Parameter and copied is not original
        assert_close(copied.detach(), original.detach()._data.cpu())
    with tritongrad.no_grad():
        clone[0].weight.fill_(0.0)
    assert model[0].weight.abs().sum().item() > 0


# ----------------------------------------------------------------------------------------------
# One harness for the families below: a case is a function of (library, *inputs) and the torch
# inputs it runs on. tritongrad gets private copies of the inputs; both libraries must raise the
# same exception type with torch's message (its first line's start, unless the case says the
# message is tritongrad's own), or return the same values and leave the inputs (written in place)
# and their gradients the same.
# ----------------------------------------------------------------------------------------------


def _as_torch(value):
    if isinstance(value, tritongrad.Tensor):
        return to_torch(value)
    if isinstance(value, (tuple, list)):
        return [_as_torch(item) for item in value]
    return value


def _assert_same(actual, expected, what: str) -> None:
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, torch.Tensor), f"{what}: torch gives a tensor, tritongrad {actual!r}"
        assert_close(actual, expected, rtol=1e-5, atol=1e-6, what=what)
    elif isinstance(expected, (tuple, list)):
        expected = list(expected)
        assert isinstance(actual, list) and len(actual) == len(expected), f"{what}: {actual!r} vs torch {expected!r}"
        for number, (got, want) in enumerate(zip(actual, expected)):
            _assert_same(got, want, f"{what}[{number}]")
    elif isinstance(expected, float) and math.isnan(expected):
        assert isinstance(actual, float) and math.isnan(actual), f"{what}: {actual!r}, torch nan"
    else:
        assert actual == expected, f"{what}: {actual!r}, torch {expected!r}"


def agree(name: str, function, inputs, *, message: bool = True) -> None:
    """``function(torch, *inputs)`` and ``function(tritongrad, *copies)`` agree (see above)."""
    theirs = [t.detach().clone().requires_grad_(t.requires_grad) if isinstance(t, torch.Tensor) else t for t in inputs]
    ours = [from_torch(t, requires_grad=t.requires_grad) if isinstance(t, torch.Tensor) else t for t in inputs]
    try:
        # Outside the test suite's dispatch audit: under a Python dispatch mode torch takes other
        # (composite) backward formulas, e.g. prod's, which differ at zeros and NaNs.
        with _disable_current_modes():
            expected = function(torch, *theirs)
    except Exception as error:  # noqa: BLE001 - torch's error is the oracle
        with pytest.raises(type(error)) as raised:
            function(tritongrad, *ours)
        if message:
            head = str(error).strip().splitlines()[0][:60] if str(error).strip() else ""
            assert head in str(raised.value), f"{name}: message {str(raised.value)!r}, torch {str(error)!r}"
        return
    actual = function(tritongrad, *ours)
    _assert_same(_as_torch(actual), expected, f"{name}: result")
    for number, (mine, reference) in enumerate(zip(ours, theirs)):
        if isinstance(reference, torch.Tensor):
            _assert_same(to_torch(mine), reference.detach(), f"{name}: input {number} afterwards")
            if reference.requires_grad:
                grad = None if mine.grad is None else to_torch(mine.grad)
                if reference.grad is None:
                    assert grad is None, f"{name}: input {number} has a gradient, torch's has none"
                else:
                    _assert_same(grad, reference.grad, f"{name}: gradient of input {number}")


def _vector(n: int = 8, dtype=torch.float32, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(n, generator=generator, dtype=torch.float64) * 4 - 2).to(dtype)


def _matrix(rows: int = 4, columns: int = 5, seed: int = 1) -> torch.Tensor:
    return _vector(rows * columns, seed=seed).reshape(rows, columns)


# ----------------------------------------------------------------------------------------------
# In-place writes and out= whose output overlaps an input (every in-place op family)
# ----------------------------------------------------------------------------------------------

PARTIAL_OVERLAP = {
    # binary in place: the output is x[1:], the input x[:-1] (refused: partial overlap)
    **{
        f"{op}_ shifted": lambda lib, x, op=op: getattr(x[1:], f"{op}_")(x[:-1])
        for op in ("add", "sub", "mul", "div", "atan2", "copysign", "hypot", "fmod", "remainder", "copy")
    },  # fmt: skip
    "pow_ shifted": lambda lib, x: x[1:].abs_().pow_(x[:-1]),
    "copy_ backwards": lambda lib, x: x[:-1].copy_(x[1:]),
    "lerp_ end": lambda lib, x: x[1:].lerp_(x[:-1], 0.5),
    "lerp_ weight": lambda lib, x: x[2:].lerp_(x[2:] * 2, x[:-2]),
    "clamp_ min": lambda lib, x: x[1:].clamp_(min=x[:-1]),
    "clamp_ max": lambda lib, x: x[1:].clamp_(max=x[:-1]),
    "masked_fill_ one value": lambda lib, x: x[1:].masked_fill_(x[1:] > 0, x[0]),
    "index_put_": lambda lib, x: x[1:].index_put_((lib.tensor([0, 2, 4]),), x[:3]),
    "index_put_ accumulate": lambda lib, x: x[1:].index_put_((lib.tensor([0, 2, 4]),), x[:3], accumulate=True),
    "setitem index": lambda lib, x: x[1:].__setitem__(lib.tensor([0, 2, 4]), x[:3]),
    "scatter_": lambda lib, x: x[1:].scatter_(0, lib.tensor([0, 2, 4]), x[:3]),
    "scatter_add_": lambda lib, x: x[1:].scatter_add_(0, lib.tensor([0, 2, 4]), x[:3]),
    "index_copy_": lambda lib, x: x[1:].index_copy_(0, lib.tensor([0, 2, 4]), x[:3]),
    "index_add_": lambda lib, x: x[1:].index_add_(0, lib.tensor([0, 2, 4]), x[:3]),
    "put_": lambda lib, x: x[1:].put_(lib.tensor([0, 2, 4]), x[:3]),
    # out=
    "add out": lambda lib, x: lib.add(x[:-1], 1.0, out=x[1:]),
    "maximum out": lambda lib, x: lib.maximum(x[:-1], x[1:], out=x[1:]),
    "clamp out": lambda lib, x: lib.clamp(x[:-1], -1, 1, out=x[1:]),
    "exp out": lambda lib, x: lib.exp(x[:-1], out=x[1:]),
    "neg out": lambda lib, x: lib.neg(x[:-1], out=x[1:]),
    "abs out": lambda lib, x: lib.abs(x[:-1], out=x[1:]),
    "sigmoid out": lambda lib, x: lib.sigmoid(x[:-1], out=x[1:]),
    "where out": lambda lib, x: lib.where(x[:-1] > 0, x[:-1], x[1:], out=x[1:]),
    "remainder out": lambda lib, x: lib.remainder(x[:-1], 1.5, out=x[1:]),
    # full aliasing and disjoint memory are fine
    "mul_ itself": lambda lib, x: x.mul_(x),
    "add out aliased": lambda lib, x: lib.add(x, x, out=x),
    "fmod_ disjoint": lambda lib, x: x[:4].fmod_(x[4:].abs() + 1),
    # writes into an expanded tensor: only fills are allowed
    "fill_ expanded": lambda lib, x: x[:1].expand(4).fill_(2.0),
    "zero_ expanded": lambda lib, x: x[:1].expand(4).zero_(),
    "add_ expanded": lambda lib, x: x[:1].expand(4).add_(1.0),
    "copy_ into expanded": lambda lib, x: x[:1].expand(4).copy_(x[4:]),
    "exp_ expanded": lambda lib, x: x[:1].expand(4).exp_(),
    "sigmoid_ expanded": lambda lib, x: x[:1].expand(4).sigmoid_(),
    "clamp_ expanded": lambda lib, x: x[:1].expand(4).clamp_(0, 1),
    "neg out expanded": lambda lib, x: lib.neg(x[4:], out=x[:1].expand(4)),
    "uniform_ expanded": lambda lib, x: x[:1].expand(4).uniform_(),
    "setitem slice of expanded": lambda lib, x: x[:1].expand(4).__setitem__(slice(0, 2), 5.0),
    "setitem one element of expanded": lambda lib, x: x[:1].expand(4).__setitem__(0, 5.0),
    # a masked fill of one value into an expanded tensor: allowed (deprecated), any aliasing mask wins
    "masked_fill_ expanded": lambda lib, x: x[:1].expand(4).masked_fill_(lib.tensor([True, False, True, False]), 3.0),
    "masked_fill_ expanded nowhere": lambda lib, x: x[:1].expand(4).masked_fill_(lib.tensor([False] * 4), 3.0),
    "masked_fill_ expanded rows": lambda lib, x: (
        x.view(2, 4)[:, :1].expand(2, 3).masked_fill_(lib.tensor([[False, False, False], [False, True, False]]), 3.0)
    ),
    "index_fill_ expanded": lambda lib, x: x[:1].expand(4).index_fill_(0, lib.tensor([0, 2]), 3.0),
    "index_fill_ expanded past the end": lambda lib, x: x[:1].expand(4).index_fill_(0, lib.tensor([4]), 3.0),
    "index_fill_ expanded nowhere": lambda lib, x: x[:1].expand(4).index_fill_(0, lib.tensor([], dtype=lib.int64), 3.0),
    "index_fill_ expanded rows": lambda lib, x: x.view(2, 4)[:, :1].expand(2, 3).index_fill_(1, lib.tensor([2]), -2.0),
    "index_fill_ expanded columns": lambda lib, x: (
        x.view(2, 4)[:1].expand(3, 4).index_fill_(1, lib.tensor([1, -1]), 7.0)
    ),
    "setitem mask of expanded": lambda lib, x: x[:1].expand(4).__setitem__(lib.tensor([True, False, True, False]), 3.0),
    "setitem mask of expanded rows": lambda lib, x: (
        x.view(2, 4)[:1].expand(3, 4).__setitem__(lib.tensor([False, True, False]), 9.0)
    ),
}


@pytest.mark.parametrize("name", list(PARTIAL_OVERLAP))
def test_inplace_and_out_overlap_matches_torch(name):
    agree(name, PARTIAL_OVERLAP[name], [_vector()])


def test_masked_fill_of_an_expanded_tensor_warns_as_torch():
    x = from_torch(_vector())
    with pytest.warns(UserWarning, match="Use of masked_fill_ on expanded tensors is deprecated"):
        x[:1].expand(4).masked_fill_(tritongrad.tensor([True, False, True, False]), 3.0)


OVERLAP_2D = {
    "row broadcast add_": lambda lib, x: x.add_(x[0]),
    "transposed add_": lambda lib, x: x.add_(x.T),
    "transposed copy_": lambda lib, x: x.copy_(x.mT),
    "rows shifted sub_": lambda lib, x: x[1:].sub_(x[:-1]),
    "disjoint rows div_": lambda lib, x: x[0].div_(x[1]),
    "interleaved (not dense: allowed)": lambda lib, x: x.view(-1)[::2].add_(x.view(-1)[1::2]),
}


@pytest.mark.parametrize("name", list(OVERLAP_2D))
def test_overlap_of_matrices_matches_torch(name):
    agree(name, OVERLAP_2D[name], [_matrix(4, 4)])


# ----------------------------------------------------------------------------------------------
# Bounds: narrow, select, indexing, unfold, split/chunk and the other shape arguments
# ----------------------------------------------------------------------------------------------


def _bounds_cases() -> dict:
    cases = {}
    for start, length in [(0, 5), (2, 3), (3, 1), (4, 0), (5, 0), (-1, 1), (-4, 1), (-5, 1), (1, -1), (-1, 2), (4, 1)]:
        cases[f"narrow(1, {start}, {length})"] = lambda lib, x, s=start, n=length: x.narrow(1, s, n)
        cases[f"torch.narrow(x, 0, {start}, {length})"] = lambda lib, x, s=start, n=length: lib.narrow(x, 0, s, n)
    for i in [3, -4, 2, -3, 10]:
        cases[f"select(0, {i})"] = lambda lib, x, i=i: x.select(0, i)
        cases[f"x[{i}]"] = lambda lib, x, i=i: x[i]
        cases[f"x[:, {i + 2}]"] = lambda lib, x, i=i: x[:, i + 2]
        cases[f"x[{i}] = 1"] = lambda lib, x, i=i: x.__setitem__(i, 1.0)
    for size, step in [(2, 1), (4, 1), (5, 1), (0, 1), (2, 0), (-1, 1), (1, 3), (4, 4), (2, -1), (3, 2)]:
        cases[f"unfold(1, {size}, {step})"] = lambda lib, x, a=size, b=step: x.unfold(1, a, b)
    return cases | {
        "narrow dim out of range": lambda lib, x: x.narrow(2, 0, 1),
        "narrow a tensor start": lambda lib, x: x.narrow(1, lib.tensor(1), 2),
        "narrow a 0-d tensor": lambda lib, x: x[0, 0].narrow(0, 0, 1),
        "select dim out of range": lambda lib, x: x.select(2, 0),
        "select a 0-d tensor": lambda lib, x: x[0, 0].select(0, 0),
        "index tensor past the end": lambda lib, x: x[lib.tensor([0, 3])],
        "index tensor before the start": lambda lib, x: x[lib.tensor([0, -4])],
        "index tensor negative": lambda lib, x: x[lib.tensor([0, -3])],
        "index tensor on dim 1 past the end": lambda lib, x: x[:, lib.tensor([4])],
        "setitem index tensor past the end": lambda lib, x: x.__setitem__(lib.tensor([3]), 1.0),
        "setitem index tensor": lambda lib, x: x.__setitem__(lib.tensor([0, 2]), 1.0),
        "setitem index tensor with rows": lambda lib, x: x.__setitem__(lib.tensor([0, 2]), lib.tensor([1.0, 2, 3, 4])),
        "float index tensor": lambda lib, x: x[lib.tensor([0.0])],
        "bool index of the wrong shape": lambda lib, x: x[lib.tensor([True, False])],
        "too many indices": lambda lib, x: x[0, 0, 0],
        "list index past the end": lambda lib, x: x[[0, 5]],
        "index_select past the end": lambda lib, x: x.index_select(0, lib.tensor([3])),
        "index_select negative": lambda lib, x: x.index_select(0, lib.tensor([-1])),
        "index_select 2-d index": lambda lib, x: x.index_select(0, lib.tensor([[0]])),
        "index_select float index": lambda lib, x: x.index_select(0, lib.tensor([0.0])),
        "gather past the end": lambda lib, x: x.gather(1, lib.tensor([[4], [0], [0]])),
        "gather negative": lambda lib, x: x.gather(1, lib.tensor([[-1], [0], [0]])),
        "scatter_ past the end": lambda lib, x: x.scatter_(1, lib.tensor([[4], [0], [0]]), 1.0),
        "index_put_ past the end": lambda lib, x: x.index_put_((lib.tensor([3]),), lib.tensor(1.0)),
        "index_fill_ past the end": lambda lib, x: x.index_fill_(1, lib.tensor([4]), 1.0),
        "index_add_ past the end": lambda lib, x: x.index_add_(0, lib.tensor([3]), lib.ones(1, 4)),
        "index_copy_ past the end": lambda lib, x: x.index_copy_(0, lib.tensor([3]), lib.ones(1, 4)),
        "take past the end": lambda lib, x: lib.take(x, lib.tensor([12])),
        "take negative": lambda lib, x: lib.take(x, lib.tensor([-12])),
        "take before the start": lambda lib, x: lib.take(x, lib.tensor([-13])),
        "put_ past the end": lambda lib, x: x.put_(lib.tensor([12]), lib.tensor([1.0])),
        "unfold dim out of range": lambda lib, x: x.unfold(2, 1, 1),
        "unfold a 0-d tensor": lambda lib, x: x[0, 0].unfold(0, 1, 1),
        "unfold a 0-d tensor by 2": lambda lib, x: x[0, 0].unfold(0, 2, 1),
        "split by 0": lambda lib, x: x.split(0, 1),
        "split an empty dim by 0": lambda lib, x: x[:, :0].split(0, 1),
        "split by -1": lambda lib, x: x.split(-1, 1),
        "split sizes that do not add up": lambda lib, x: x.split([1, 2], 1),
        "split a negative size": lambda lib, x: x.split([-1, 5], 1),
        "torch.split by 0": lambda lib, x: lib.split(x, 0, 1),
        "chunk 0": lambda lib, x: x.chunk(0, 1),
        "chunk -1": lambda lib, x: x.chunk(-1, 1),
        "torch.chunk 0": lambda lib, x: lib.chunk(x, 0, 1),
        "diagonal past the end": lambda lib, x: x.diagonal(5),
        "roll dim out of range": lambda lib, x: x.roll(1, 2),
        "movedim out of range": lambda lib, x: x.movedim(0, 2),
        "flip a repeated dim": lambda lib, x: x.flip(0, 0),
        "flip two dims": lambda lib, x: x.flip(0, 1),
        "torch.flip dims=": lambda lib, x: lib.flip(x, dims=[1]),
        "view that does not fit": lambda lib, x: x.view(5, -1),
        "view with two -1": lambda lib, x: x.view(-1, -1),
        "reshape to -2": lambda lib, x: x.reshape(-2, 6),
        "expand to fewer dims": lambda lib, x: x.expand(4),
        "expand -1 on a new dim": lambda lib, x: x.expand(-1, 3, 4),
        "repeat fewer dims": lambda lib, x: x.repeat(2),
        "squeeze out of range": lambda lib, x: x.squeeze(2),
        "unsqueeze out of range": lambda lib, x: x.unsqueeze(4),
        "transpose out of range": lambda lib, x: x.transpose(0, 2),
        "slice step 0": lambda lib, x: x[::0],
        "slice step -1": lambda lib, x: x[::-1],
        "topk more than the size": lambda lib, x: x.topk(5),
        "topk -1": lambda lib, x: x.topk(-1),
        "kthvalue past the end": lambda lib, x: x.kthvalue(5),
        "kthvalue 0": lambda lib, x: x.kthvalue(0),
        "cat dim out of range": lambda lib, x: lib.cat([x, x], 2),
        "cat sizes that differ": lambda lib, x: lib.cat([x, x[:, :2]], 0),
        "stack sizes that differ": lambda lib, x: lib.stack([x, x[:, :2]]),
        "stack nothing": lambda lib, x: lib.stack([]),
    }


BOUNDS = _bounds_cases()
# tritongrad's message names the problem in its own words (ops/views.py), or more exactly than
# torch's (which names dimension 0 for an index on dim 1)
OWN_MESSAGE = {"select a 0-d tensor", "expand -1 on a new dim", "index tensor on dim 1 past the end"}


@pytest.mark.parametrize("name", list(BOUNDS))
def test_bounds_match_torch(name):
    agree(name, BOUNDS[name], [_matrix(3, 4)], message=name not in OWN_MESSAGE)


@pytest.mark.parametrize(
    "shape,dim,size,step", [((3, 7), 1, 3, 2), ((3, 7), 0, 2, 1), ((5,), 0, 5, 1), ((), 0, 1, 1), ((4, 6), -1, 3, 3)]
)
def test_unfold_is_a_view_with_torchs_values_and_gradient(shape, dim, size, step):
    base = torch.randn(shape, dtype=torch.float64)
    weight = torch.randn(base.unfold(dim, size, step).shape, dtype=torch.float64)
    agree("unfold", lambda lib, x, w: (x.unfold(dim, size, step) * w).sum().backward(), [base.requires_grad_(), weight])
    ours = from_torch(base)
    ours.unfold(dim, size, step).fill_(3.0)  # writes through the view
    assert_close(ours, torch.full(shape, 3.0, dtype=torch.float64) if size else base.detach())


# ----------------------------------------------------------------------------------------------
# Tensor hooks returning a gradient of the wrong shape, dtype or kind
# ----------------------------------------------------------------------------------------------

HOOKS = {
    "wrong size": lambda lib, g: g[:2],
    "a 0-d gradient": lambda lib, g: g.sum(),
    "an extra dim": lambda lib, g: g.unsqueeze(0),
    "another float dtype": lambda lib, g: g.double(),
    "an integer dtype": lambda lib, g: g.long(),
    "None (keeps the gradient)": lambda lib, g: None,
    "scaled": lambda lib, g: g * 3,
    "a number": lambda lib, g: 3.0,
    "a list": lambda lib, g: [g],
    "a gradient that requires grad": lambda lib, g: g * lib.tensor(2.0, requires_grad=True),
    "a gradient written in place": lambda lib, g: g.mul_(2),
}


@pytest.mark.parametrize("on_leaf", [False, True], ids=["non-leaf", "leaf"])
@pytest.mark.parametrize("name", list(HOOKS))
def test_tensor_hook_results_match_torch(name, on_leaf):
    hook = HOOKS[name]

    def run(lib, x):
        if on_leaf:
            x.register_hook(lambda g: hook(lib, g))
            (x * 2).sum().backward()
        else:
            y = x * 2
            y.register_hook(lambda g: hook(lib, g))
            (y * y).sum().backward()

    agree(f"hook returning {name}", run, [_vector(3).requires_grad_()])


def test_a_hook_that_raises_propagates_its_error():
    def boom(grad):
        raise ValueError("boom")

    x = from_torch(_vector(3), requires_grad=True)
    x.register_hook(boom)
    with pytest.raises(ValueError, match="boom"):
        (x * 2).sum().backward()


# ----------------------------------------------------------------------------------------------
# Writes of a value that requires grad into integer and bool tensors (and type rules in place)
# ----------------------------------------------------------------------------------------------


def _integer_target_cases() -> dict:
    def one(lib):
        return lib.tensor(2.5, requires_grad=True) * 1.0

    def three(lib):
        return lib.tensor([1.5, -2.0, 3.0], requires_grad=True) * 1.0

    def setitem(target, key, value):
        target[key] = value
        return target

    cases = {}
    for dtype in ("int64", "int32", "bool"):

        def target(lib, dtype=dtype):
            return lib.tensor([1, 0, 2]).to(getattr(lib, dtype))

        cases |= {
            f"{dtype}[0] = v": lambda lib, t=target: setitem(t(lib), 0, one(lib)),
            f"{dtype}[:] = v": lambda lib, t=target: setitem(t(lib), slice(None), three(lib)),
            f"{dtype}[index] = v": lambda lib, t=target: setitem(t(lib), lib.tensor([0, 1]), one(lib)),
            f"{dtype}.copy_(v)": lambda lib, t=target: t(lib).copy_(three(lib)),
            f"{dtype}.index_put_": lambda lib, t=target: t(lib).index_put_((lib.tensor([0, 1]),), one(lib)),
            f"{dtype}.add_(v)": lambda lib, t=target: t(lib).add_(three(lib)),
            f"{dtype}.mul_(v)": lambda lib, t=target: t(lib).mul_(three(lib)),
            f"{dtype}.clamp_(min=v)": lambda lib, t=target: t(lib).clamp_(min=three(lib)),
            f"{dtype}.masked_scatter_": lambda lib, t=target: (lambda x: x.masked_scatter_(x >= 0, three(lib)))(t(lib)),
            f"{dtype}.index_copy_": lambda lib, t=target: t(lib).index_copy_(0, lib.tensor([0, 1, 2]), three(lib)),
            f"{dtype}.scatter_": lambda lib, t=target: t(lib).scatter_(0, lib.tensor([0, 1, 2]), three(lib)),
            f"add(out={dtype})": lambda lib, t=target: lib.add(three(lib), three(lib), out=t(lib)),
            f"{dtype}[mask] = number tensor": lambda lib, t=target: setitem(t(lib), t(lib) >= 0, lib.tensor(2.5)),
            f"{dtype}.fill_(0-d tensor)": lambda lib, t=target: t(lib).fill_(lib.tensor(2.5)),
        }
    return cases | {
        "float.fill_(v) records v's gradient": lambda lib: (lib.zeros(3) * 1.0).fill_(one(lib)),
        "fill_ with a 1-d tensor": lambda lib: lib.zeros(3).fill_(lib.tensor([1.0])),
        "float[mask] = double v": lambda lib: setitem(lib.zeros(3), lib.tensor([True, False, True]), one(lib).double()),
        "float[mask] = int tensor": lambda lib: setitem(lib.zeros(3), lib.tensor([True, False, True]), lib.tensor(3)),
        "int.add_(float) without grad": lambda lib: lib.tensor([1, 2]).add_(lib.tensor([1.5, 2.0])),
        "bool.add_(int)": lambda lib: lib.tensor([True, False]).add_(lib.tensor([1, 2])),
    }


INTEGER_TARGETS = _integer_target_cases()


@pytest.mark.parametrize("name", list(INTEGER_TARGETS))
def test_writes_into_integer_tensors_match_torch(name):
    def run(lib):
        result = INTEGER_TARGETS[name](lib)
        return [result, result.requires_grad]

    agree(name, run, [])


def test_fill_with_a_tensor_value_passes_the_gradient_to_it():
    def run(lib, x, v):
        y = x * 1.0
        y[1:].fill_(v * 2)
        (y * y).sum().backward()

    agree("fill_ gradient", run, [_vector(4).requires_grad_(), torch.tensor(0.75, requires_grad=True)])


# ----------------------------------------------------------------------------------------------
# Bool and integer matrix products (torch has no bool product kernel, but returns empty ones)
# ----------------------------------------------------------------------------------------------

PRODUCT_SHAPES = [
    ((1, 0), (0, 3)), ((0, 2), (2, 3)), ((2, 0), (0, 0)), ((0,), (0,)), ((0,), (0, 3)), ((2, 0), (0,)),
    ((3,), (3,)), ((2, 3), (3, 0)), ((1, 2, 0), (0, 3)), ((0, 2, 3), (3, 4)), ((2, 3, 0), (2, 0, 4)),
    ((2, 3), (3, 4)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 2, 3), (2, 3, 4)), ((2, 2, 3), (3, 4)),
    ((2, 3), (4, 5)), ((3,), (4,)),
]  # fmt: skip


@pytest.mark.parametrize("op", ["matmul", "mm", "bmm", "mv", "dot"])
@pytest.mark.parametrize("dtype", [torch.bool, torch.int32, torch.int64])
@pytest.mark.parametrize("shapes", PRODUCT_SHAPES, ids=str)
def test_integer_and_bool_products_match_torch(shapes, dtype, op):
    a, b = (torch.randint(-3, 4, shape).to(dtype) for shape in shapes)
    agree(f"{op} {shapes}", lambda lib, x, y: getattr(lib, op)(x, y), [a, b], message=op != "mv")


# ----------------------------------------------------------------------------------------------
# NaN and inf through activation gradients, reductions, selections, sorting and losses
# ----------------------------------------------------------------------------------------------

SPECIAL = torch.tensor([float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 1.0, -2.0, 0.5])
SPECIAL_ROWS = torch.tensor([[float("nan"), 1.0, 2.0], [float("inf"), 0.0, 1.0], [1.0, 2.0, float("-inf")]])


def _forward_backward(function):
    def run(lib, x):
        y = function(lib, x)
        y.backward(lib.ones_like(y))
        return y

    return run


NAN_GRADIENTS = {
    "relu": lambda lib, x: lib.relu(x),
    "relu of a copy": lambda lib, x: lib.relu(x * 1),
    "F.relu": lambda lib, x: lib.nn.functional.relu(x),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x),
    "silu": lambda lib, x: lib.nn.functional.silu(x),
    "gelu tanh": lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"),
    # (hardtanh, relu6, the shrinks, hardswish: torch's vector and scalar CPU kernels disagree at NaN,
    # so their answer depends on the tensor's length: tests/test_activation.py compares one element at a time)
    **{
        name: lambda lib, x, name=name: getattr(lib.nn.functional, name)(x)
        for name in ("elu", "selu", "celu", "softplus", "mish", "logsigmoid", "hardsigmoid", "softsign", "tanhshrink")
    },  # fmt: skip
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.5, -1.0),
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "tanh": lambda lib, x: lib.tanh(x),
    "clamp": lambda lib, x: x.clamp(-1, 1),
    "clamp min": lambda lib, x: x.clamp(min=0),
    "abs": lambda lib, x: x.abs(),
    "sqrt": lambda lib, x: x.sqrt(),
    "exp": lambda lib, x: x.exp(),
    "log": lambda lib, x: x.log(),
    "maximum with 0": lambda lib, x: lib.maximum(x, lib.zeros(8)),
    "minimum with 0": lambda lib, x: lib.minimum(x, lib.zeros(8)),
    "where": lambda lib, x: lib.where(x > 0, x, 0.0 * x),
    "softmax": lambda lib, x: lib.softmax(x[3:], 0),
    "log_softmax": lambda lib, x: lib.log_softmax(x[3:], 0),
    **{
        f"{r}()": lambda lib, x, r=r: getattr(x, r)()
        for r in ("max", "min", "amax", "amin", "sum", "mean", "prod", "norm")
    },  # fmt: skip
    **{
        f"{r}(dim)": lambda lib, x, r=r: getattr(x.view(2, 4), r)(1)
        for r in ("amax", "amin", "sum", "mean", "prod", "logsumexp")
    },  # fmt: skip
    "max(dim)": lambda lib, x: x.view(2, 4).max(1)[0],
    "min(dim)": lambda lib, x: x.view(2, 4).min(1)[0],
    "prod() of one zero": lambda lib, x: x[3:].prod(),
    "prod() of two zeros beside a NaN": lambda lib, x: x[:5].prod(),
    "topk": lambda lib, x: x.topk(3)[0],
    "sort": lambda lib, x: x.sort()[0],
    "cumsum": lambda lib, x: x.cumsum(0),
}


@pytest.mark.parametrize("name", list(NAN_GRADIENTS))
def test_nan_and_inf_through_gradients_match_torch(name):
    agree(name, _forward_backward(NAN_GRADIENTS[name]), [SPECIAL.clone().requires_grad_()])


NAN_SELECTIONS = {
    **{f"{op}()": lambda lib, x, op=op: getattr(x, op)() for op in ("argmax", "argmin", "max", "min")},
    **{f"{op}(dim)": lambda lib, x, op=op: getattr(x.view(2, 4), op)(1) for op in ("argmax", "argmin")},
    "max(dim) indices": lambda lib, x: x.view(2, 4).max(1)[1],
    "min(dim) indices": lambda lib, x: x.view(2, 4).min(1)[1],
    "sort": lambda lib, x: x.sort(),
    "sort descending": lambda lib, x: x.sort(descending=True),
    "sort stable": lambda lib, x: x.sort(stable=True),
    "argsort": lambda lib, x: x.argsort(),
    "topk": lambda lib, x: x.topk(3),
    "topk smallest": lambda lib, x: x.topk(3, largest=False),
    "kthvalue": lambda lib, x: x.kthvalue(2),
    "median": lambda lib, x: x.median(),
    "cummax": lambda lib, x: x.cummax(0),
    "cummin": lambda lib, x: x.cummin(0),
    "maximum": lambda lib, x: lib.maximum(x, x.flip(0)),
    "fmax": lambda lib, x: lib.fmax(x, x.flip(0)),
    "nan_to_num": lambda lib, x: x.nan_to_num(),
    "isfinite": lambda lib, x: x.isfinite(),
}


@pytest.mark.parametrize("name", list(NAN_SELECTIONS))
def test_nan_and_inf_through_selections_match_torch(name):
    agree(name, NAN_SELECTIONS[name], [SPECIAL.clone()])


NAN_LOSSES = {
    "cross_entropy": lambda F, lib, x: F.cross_entropy(x, lib.tensor([1, 0, 2])),
    "cross_entropy none": lambda F, lib, x: F.cross_entropy(x, lib.tensor([1, 0, 2]), reduction="none"),
    "nll_loss none": lambda F, lib, x: F.nll_loss(x, lib.tensor([1, 0, 2]), reduction="none"),
    "mse_loss none": lambda F, lib, x: F.mse_loss(x, lib.ones(3, 3), reduction="none"),
    "mse_loss": lambda F, lib, x: F.mse_loss(x, lib.ones(3, 3)),
    "smooth_l1_loss none": lambda F, lib, x: F.smooth_l1_loss(x, lib.ones(3, 3), reduction="none"),
    "huber_loss none": lambda F, lib, x: F.huber_loss(x, lib.ones(3, 3), reduction="none"),
    "bce_with_logits none": lambda F, lib, x: F.binary_cross_entropy_with_logits(
        x, lib.ones(3, 3) * 0.5, reduction="none"
    ),
    "kl_div none": lambda F, lib, x: F.kl_div(x, lib.ones(3, 3) * 0.3, reduction="none"),
}


@pytest.mark.parametrize("name", list(NAN_LOSSES))
def test_nan_and_inf_through_losses_match_torch(name):
    loss = NAN_LOSSES[name]
    agree(
        name, _forward_backward(lambda lib, x: loss(lib.nn.functional, lib, x)), [SPECIAL_ROWS.clone().requires_grad_()]
    )


# ----------------------------------------------------------------------------------------------
# Optimizer and module misuse
# ----------------------------------------------------------------------------------------------


def _parameters(lib):
    generator = torch.Generator().manual_seed(3)
    values = torch.randn(2, 3, generator=generator), torch.randn(3, generator=generator)
    return tuple(lib.nn.Parameter(lib.tensor(v.tolist())) for v in values)


def _train(lib, optimizer, parameters, steps: int = 2):
    for _ in range(steps):
        optimizer.zero_grad()
        trained = [p for p in parameters if p.requires_grad]
        if trained:
            sum((p * p * p).sum() for p in trained).backward()
        optimizer.step()
    return [p.detach() for p in parameters]


def _optimizer_cases(name: str, make) -> dict:
    return {
        "a parameter that does not require grad is skipped": lambda lib, a, b: (
            b.requires_grad_(False),
            _train(lib, make(lib, [a, b]), [a, b]),
        )[1],
        "a non-contiguous parameter": lambda lib, a, b: (lambda p: _train(lib, make(lib, [p]), [p]))(
            lib.nn.Parameter(a.detach().t())
        ),
        "a parameter in two groups": lambda lib, a, b: make(lib, [{"params": [a]}, {"params": [a]}]),
        "no parameters": lambda lib, a, b: make(lib, []),
        "a non-leaf tensor": lambda lib, a, b: make(lib, [a * 2]),
        "one tensor instead of an iterable": lambda lib, a, b: make(lib, a),
        "a generator of parameters": lambda lib, a, b: _train(lib, make(lib, iter([a, b])), [a, b]),
        "step without gradients": lambda lib, a, b: (make(lib, [a, b]).step(), a.detach())[1],
        "load_state_dict of another group size": lambda lib, a, b: make(lib, [a]).load_state_dict(
            make(lib, [a, b]).state_dict()
        ),
        "load_state_dict of another group count": lambda lib, a, b: make(lib, [a]).load_state_dict(
            make(lib, [{"params": [a]}, {"params": [b]}]).state_dict()
        ),
        "load_state_dict without state": lambda lib, a, b: make(lib, [a]).load_state_dict({"param_groups": []}),
        "load_state_dict round trip": lambda lib, a, b: (
            lambda optimizer: (
                _train(lib, optimizer, [a, b]),
                optimizer.load_state_dict(optimizer.state_dict()),
                _train(lib, optimizer, [a, b]),
            )[2]
        )(make(lib, [a, b])),
        "add_param_group with a parameter it has": lambda lib, a, b: make(lib, [a]).add_param_group({"params": [a]}),
        "add_param_group then train": lambda lib, a, b: (
            lambda optimizer: (optimizer.add_param_group({"params": [b], "lr": 0.05}), _train(lib, optimizer, [a, b]))[
                1
            ]
        )(make(lib, [a])),
        "an unknown keyword": lambda lib, a, b: make(lib, [a], bogus=1),
        "a negative learning rate": lambda lib, a, b: make(lib, [a], lr=-1.0),
    }


OPTIMIZERS = {
    "SGD": lambda lib, params, **kw: lib.optim.SGD(params, **({"lr": 0.1} | kw)),
    "SGD momentum nesterov": lambda lib, params, **kw: lib.optim.SGD(
        params, **({"lr": 0.1, "momentum": 0.9, "nesterov": True} | kw)
    ),
    "Adam": lambda lib, params, **kw: lib.optim.Adam(params, **({"lr": 0.1} | kw)),
    "Adam amsgrad": lambda lib, params, **kw: lib.optim.Adam(params, **({"lr": 0.1, "amsgrad": True} | kw)),
    "AdamW": lambda lib, params, **kw: lib.optim.AdamW(params, **({"lr": 0.1} | kw)),
}
OPTIMIZER_CASES = {
    f"{optimizer}: {case}": function
    for optimizer, make in OPTIMIZERS.items()
    for case, function in _optimizer_cases(optimizer, make).items()
} | {
    "Adam betas[0] = 1": lambda lib, a, b: lib.optim.Adam([a], betas=(1.0, 0.9)),
    "Adam negative eps": lambda lib, a, b: lib.optim.Adam([a], eps=-1),
    "SGD nesterov without momentum": lambda lib, a, b: lib.optim.SGD([a], lr=0.1, nesterov=True),
    "SGD negative momentum": lambda lib, a, b: lib.optim.SGD([a], lr=0.1, momentum=-1),
    "SGD negative weight decay": lambda lib, a, b: lib.optim.SGD([a], lr=0.1, weight_decay=-1),
}


@pytest.mark.parametrize("name", list(OPTIMIZER_CASES))
def test_optimizer_misuse_matches_torch(name):
    def run(lib):
        result = OPTIMIZER_CASES[name](lib, *_parameters(lib))
        return result if isinstance(result, list) else None  # optimizers themselves are not compared

    agree(name, run, [])


def _model(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.ReLU(), lib.nn.Linear(2, 1))
    with lib.no_grad():
        for number, parameter in enumerate(model.parameters()):
            parameter.copy_(lib.arange(parameter.numel(), dtype=lib.float32).reshape(parameter.shape) / (number + 2))
    return model


def _load_edited(edit):
    def run(lib):
        model = _model(lib)
        state = {key: value.clone() for key, value in model.state_dict().items()}
        edit(lib, state)
        try:
            model.load_state_dict(state)
        finally:  # what was loaded before the error, as torch (which copies every matching entry)
            run.after = [p.detach() for p in model.parameters()]
        return run.after

    return run


MODULE_CASES = {
    "a missing key": _load_edited(lambda lib, s: s.pop("0.bias")),
    "an unexpected key": _load_edited(lambda lib, s: s.__setitem__("9.weight", lib.zeros(1))),
    "a size mismatch": _load_edited(lambda lib, s: s.__setitem__("2.weight", lib.zeros(3, 3))),
    "a 0-d value for a vector": _load_edited(lambda lib, s: s.__setitem__("2.bias", lib.tensor(5.0))),
    "a float64 value": _load_edited(lambda lib, s: s.__setitem__("0.bias", lib.ones(2, dtype=lib.float64))),
    "an integer value": _load_edited(lambda lib, s: s.__setitem__("0.bias", lib.ones(2, dtype=lib.int64))),
    "a list value": _load_edited(lambda lib, s: s.__setitem__("0.bias", [1.0, 2.0])),
    "a list instead of a dict": lambda lib: _model(lib).load_state_dict([1, 2]),
    "strict=False reports keys": lambda lib: [
        sorted(keys)
        for keys in _model(lib).load_state_dict({"0.weight": lib.ones(2, 3), "x": lib.ones(1)}, strict=False)
    ],
    "strict=False still refuses a size mismatch": lambda lib: _model(lib).load_state_dict(
        {"0.weight": lib.ones(4, 3)}, strict=False
    ),
    "requires_grad kept": lambda lib: (
        lambda model: (model.load_state_dict(model.state_dict()), [p.requires_grad for p in model.parameters()])[1]
    )(_model(lib)),
    "register_buffer with a dot": lambda lib: _model(lib).register_buffer("a.b", lib.ones(1)),
    "register_buffer of a number": lambda lib: _model(lib).register_buffer("c", 3),
    "register_parameter of a tensor": lambda lib: _model(lib).register_parameter("c", lib.ones(1)),
    "add_module of a number": lambda lib: _model(lib).add_module("x", 3),
    "a tensor assigned to a parameter": lambda lib: setattr(_model(lib)[0], "weight", lib.ones(2, 3)),
    "a Linear called with the wrong features": lambda lib: _model(lib)(lib.ones(1, 4)),
    "a Linear called with integers": lambda lib: _model(lib)(lib.ones(1, 3, dtype=lib.int64)),
    "a Linear called with float64": lambda lib: _model(lib)(lib.ones(1, 3, dtype=lib.float64)),
    "get_submodule of a missing name": lambda lib: _model(lib).get_submodule("x"),
}


# tritongrad names its own classes (tritongrad.nn.Parameter, Tensor) where torch names torch's
MODULE_OWN_MESSAGE = {
    "register_buffer of a number",
    "register_parameter of a tensor",
    "a tensor assigned to a parameter",
}


@pytest.mark.parametrize("name", list(MODULE_CASES))
def test_module_misuse_matches_torch(name):
    def run(lib):
        try:
            result = MODULE_CASES[name](lib)
        except Exception:
            if hasattr(MODULE_CASES[name], "after"):  # the parameters after a failed load must agree too
                run.after[lib.__name__] = [_as_torch(p) for p in MODULE_CASES[name].after]
            raise
        return result if isinstance(result, (list, tritongrad.Tensor, torch.Tensor)) else None

    run.after = {}
    agree(name, run, [], message=name not in MODULE_OWN_MESSAGE)
    if run.after:
        _assert_same(run.after["tritongrad"], run.after["torch"], f"{name}: parameters after the failed load")


# ----------------------------------------------------------------------------------------------
# Checkpoints: the byte layout and the JSON itself are checked before anything is built
# ----------------------------------------------------------------------------------------------

ENTRY = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
SECOND = {**ENTRY, "data_offsets": [8, 16]}
SKELETON = "tritongrad.structure"


@pytest.mark.parametrize(
    "header, message",
    [
        (json.dumps({"a": ENTRY, "b": ENTRY}), "'b' at data_offsets \\[0, 8\\] overlaps the tensor before it"),
        (json.dumps({"a": SECOND, "b": {**ENTRY, "shape": [1], "data_offsets": [4, 8]}}), "leaves bytes 0..4 unused"),
        (json.dumps({"a": ENTRY}), "8 bytes after the last tensor's data"),
        ('{"a": ' + json.dumps(ENTRY) + ', "a": ' + json.dumps(SECOND) + '}', "key 'a' appears more than once"),
        (json.dumps({"a": {**ENTRY, "shape": [float("nan")]}, "b": SECOND}), "NaN is not JSON"),
        ("[" * 100_000 + "]" * 100_000, "corrupt checkpoint header"),
        (json.dumps({"a": ENTRY, "b": SECOND, "__metadata__": {SKELETON: "NaN"}}), "NaN is not JSON"),
        (json.dumps({"a": ENTRY, "b": SECOND, "__metadata__": {SKELETON: "[" * 900 + "]" * 900}}), "nested more"),
        (json.dumps({"a": ENTRY, "b": SECOND, "__metadata__": {SKELETON: "[" * 10**5 + "]" * 10**5}}), "structure"),
        (json.dumps({"a": ENTRY, "b": SECOND, "__metadata__": {SKELETON: '{"__dict__": {"x": 1}}'}}), "a dict must"),
        (json.dumps({"a": ENTRY, "b": SECOND, "__metadata__": {SKELETON: '{"__dict__": [[true, 1]]}'}}), "keys"),
    ],
)  # fmt: skip
def test_a_corrupt_checkpoint_is_refused_and_leaves_the_model_untouched(tmp_path, header, message):
    path = tmp_path / "bad.safetensors"
    encoded = header.encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"\0" * 16)
    model = tritongrad.nn.Linear(2, 1)
    before = [p.detach().tolist() for p in model.parameters()]
    with pytest.raises(tritongrad.serialization.CheckpointError, match=message):
        model.load_state_dict(tritongrad.load(path))
    assert [p.detach().tolist() for p in model.parameters()] == before


def test_an_empty_tensor_and_nested_structures_still_load(tmp_path):
    path = tmp_path / "good.safetensors"
    state = {"empty": tritongrad.zeros(0), "nested": [[{"x": tritongrad.ones(2)}]], "n": float("nan")}
    tritongrad.save(state, path)
    loaded = tritongrad.load(path)
    assert loaded["empty"].shape == (0,) and loaded["nested"][0][0]["x"].tolist() == [1.0, 1.0]
    assert math.isnan(loaded["n"])


# ----------------------------------------------------------------------------------------------
# Randomness: float64 values carry 53 random bits, not a float32 grid
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "draw",
    [
        lambda: tritongrad.rand(4096, dtype=torch.float64),
        lambda: tritongrad.randn(4096, dtype=torch.float64),
        lambda: tritongrad.empty(4096, dtype=torch.float64).uniform_(-1, 1),
        lambda: tritongrad.empty(4096, dtype=torch.float64).normal_(),
        lambda: tritongrad.rand(4096, dtype=torch.float64) * 1.0,
    ],
    ids=["rand", "randn", "uniform_", "normal_", "rand times 1"],
)
def test_float64_random_numbers_have_53_random_bits(draw):
    tritongrad.manual_seed(0)
    values = to_torch(draw())
    on_float32_grid = values.to(torch.float32).to(torch.float64) == values
    assert float(on_float32_grid.double().mean()) < 0.01, "float64 randoms are float32 values"


def test_float64_rand_is_53_bit_multiples_with_a_random_lowest_bit():
    tritongrad.manual_seed(1)
    scaled = to_torch(tritongrad.rand(4096, dtype=torch.float64)) * 2.0**53
    assert bool((scaled == scaled.floor()).all()), "rand's float64 values are not multiples of 2**-53"
    assert 0.4 < float((scaled % 2).mean()) < 0.6, "the 53rd bit is not random"


# ----------------------------------------------------------------------------------------------
# Rounded division of values that require grad: zero gradients, or torch's missing derivative
# ----------------------------------------------------------------------------------------------

ROUNDED_DIVISIONS = {
    "div floor by a number": lambda lib, x, y: lib.div(x, 2, rounding_mode="floor"),
    "div trunc by a tensor": lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"),
    "div floor of a number": lambda lib, x, y: lib.div(2.0, y, rounding_mode="floor"),
    "div_ trunc in place": lambda lib, x, y: (x * 1.0).div_(y, rounding_mode="trunc"),
    "x // 2": lambda lib, x, y: x // 2,
    "floor_divide": lambda lib, x, y: lib.floor_divide(x, y),
    "3 // y": lambda lib, x, y: 3 // y,
    "x %= y": lambda lib, x, y: (x * 1.0).__imod__(y),
}


@pytest.mark.parametrize("name", list(ROUNDED_DIVISIONS))
def test_rounded_division_gradients_match_torch(name):
    def run(lib, x, y):
        result = ROUNDED_DIVISIONS[name](lib, x, y)
        requires_grad = result.requires_grad
        result.sum().backward()
        return [result, requires_grad]

    agree(name, run, [_vector(4).requires_grad_(), (_vector(4, seed=5).abs() + 0.5).requires_grad_()])


ZERO_DIM_WRITES = {
    "index_fill_": lambda lib, x: x.index_fill_(0, lib.tensor([0]), 5.0),
    "index_fill_ past the end": lambda lib, x: x.index_fill_(0, lib.tensor([1]), 5.0),
    "index_copy_": lambda lib, x: x.index_copy_(0, lib.tensor([0]), lib.tensor(5.0)),
    "index_add_": lambda lib, x: x.index_add_(0, lib.tensor([0]), lib.tensor(5.0)),
    "index_fill": lambda lib, x: x.index_fill(0, lib.tensor([0]), 5.0),
    "index_fill_ recorded": lambda lib, x: (lambda y: (y.index_fill_(0, lib.tensor([0]), 1.0) * 2).backward())(
        x.requires_grad_() * 3
    ),
}


@pytest.mark.parametrize("name", list(ZERO_DIM_WRITES))
def test_writes_along_a_dim_of_a_0d_tensor_match_torch(name):
    agree(name, ZERO_DIM_WRITES[name], [torch.tensor(1.5)])
