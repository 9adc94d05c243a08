"""Session 16's findings (the seventh red-team round) in the copy, fill, setitem and random-fill
paths, each compared with torch by ``agree``: the value, the dtype, or the exception type and the
head of its message."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
from tests.test_hardening import agree


def _graph(lib):
    """b = a * 2 for a leaf a of three ones: a tensor with history to overwrite."""
    a = lib.ones(3, requires_grad=True)
    return a, a * 2


# Random fills into a tensor autograd follows: torch records them (UniformBackward0, ...), whose
# gradient to the overwritten values is zeros; the fill's values are tritongrad's own stream.
RANDOM_FILLS = {
    "uniform_": lambda b: b.uniform_(),
    "normal_": lambda b: b.normal_(),
    "bernoulli_(p)": lambda b: b.bernoulli_(0.5),
    "bernoulli_(tensor)": lambda b: b.bernoulli_(b.detach() * 0 + 0.5),
    "random_()": lambda b: b.random_(),
    "random_(to)": lambda b: b.random_(5),
    "random_(from, to)": lambda b: b.random_(2, 5),
    "exponential_": lambda b: b.exponential_(),
    "geometric_": lambda b: b.geometric_(0.5),
    "cauchy_": lambda b: b.cauchy_(),
    "log_normal_": lambda b: b.log_normal_(),
}


def _fill_and_backward(lib, fill, through_view: bool):
    a, b = _graph(lib)
    fill(b[1:] if through_view else b)
    name = b.grad_fn.name()
    b.sum().backward()
    return name, a.grad


@pytest.mark.parametrize("through_view", [False, True])
@pytest.mark.parametrize("fill", list(RANDOM_FILLS))
def test_random_fill_is_recorded_as_torch(fill, through_view):
    """The gradient stops at what the samples overwrite (zeros there), and the node has torch's name."""
    agree(f"{fill} view={through_view}", lambda lib: _fill_and_backward(lib, RANDOM_FILLS[fill], through_view), [])


def test_random_fill_of_a_leaf_is_refused():
    agree("Parameter.uniform_()", lambda lib: lib.nn.Parameter(lib.ones(3)).uniform_(), [])


CASES = {
    # copy_ from numbers (torch makes a 0-d tensor of them: wraps and overflows as a copy does)
    "copy_ int into int8": lambda lib: lib.zeros(3, dtype=torch.int8).copy_(1000),
    "copy_ float into float16 overflows to inf": lambda lib: lib.zeros(2, dtype=torch.float16).copy_(1e6),
    "copy_ bool": lambda lib: lib.zeros(2).copy_(True),
    "copy_ into a tensor with history": lambda lib: (lib.ones(2, requires_grad=True) * 1).copy_(3.5).detach(),
    "copy_ of a string": lambda lib: lib.zeros(2).copy_("a"),
    "copy_ non_blocking": lambda lib: lib.zeros(3).copy_(lib.arange(3.0), non_blocking=True),
    "copy_ of self's expanded memory": lambda lib: lib.zeros(1).expand(3).copy_(lib.zeros(1).expand(3)),
    "copy_ of itself, expanded": lambda lib: (lambda x: (x.copy_(x), x._version))(lib.zeros(1).expand(3)),
    # fill_ from a 0-d tensor converts as a copy does (no overflow check, unlike a number)
    "fill_ float16 from a large 0-d tensor": lambda lib: lib.ones(3, dtype=torch.float16).fill_(lib.tensor(1e6)),
    "fill_ int8 from a large 0-d float": lambda lib: lib.zeros(3, dtype=torch.int8).fill_(lib.tensor(1000.0)),
    "fill_ int8 from a large 0-d int": lambda lib: lib.zeros(3, dtype=torch.int8).fill_(lib.tensor(300)),
    "fill_ int8 from a large number": lambda lib: lib.zeros(3, dtype=torch.int8).fill_(300),
    # setitem with a 0-d value is a fill: it may read an element it writes
    "x[:] = x[0]": lambda lib: (lambda x: (x.__setitem__(slice(None), x[0]), x)[1])(lib.arange(3.0)),
    "x[1:] = x[-1]": lambda lib: (lambda x: (x.__setitem__(slice(1, None), x[-1]), x)[1])(lib.arange(4.0)),
    "x[:2] = x[1:3] (partial overlap)": lambda lib: (lambda x: x.__setitem__(slice(0, 2), x[1:3]))(lib.arange(4.0)),
    "expanded[:] = 0-d": lambda lib: lib.zeros(1).expand(3).__setitem__(slice(None), lib.tensor(2.0)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_case_agrees_with_torch(case):
    agree(case, CASES[case], [])


def test_setitem_with_a_0d_value_that_requires_grad():
    def run(lib):
        y = lib.arange(3.0, requires_grad=True) * 1
        w = lib.tensor(5.0, requires_grad=True)
        y[1:] = w
        y.sum().backward()
        return y.detach(), w.grad

    agree("y[1:] = w (0-d, requires grad)", run, [])


# arange with an integer dtype: int64 truncates start, end and step first and counts in integers;
# the narrower integer types count from the bounds as given (torch's two formulas).
ARANGES = [
    (0, 5, 1.5, torch.int64), (0, 5, 2.5, torch.int64), (0.5, 5, 1.5, torch.int64), (0, -5, -1.5, torch.int64),
    (0.5, 5.7, 1, torch.int64), (0, 2.9, 1, torch.int64), (7, 0, -3, torch.int64), (-0.5, 0.5, 1, torch.int64),
    (-1.5, 5, 1.5, torch.int32), (0, 5.5, 1.5, torch.uint8), (0, 5, 0.5, torch.int64), (1, 0, 1, torch.int64),
]  # fmt: skip


@pytest.mark.parametrize("start, end, step, dtype", ARANGES)
def test_arange_with_integer_dtype_counts_as_torch(start, end, step, dtype):
    agree(f"arange({start}, {end}, {step}, {dtype})", lambda lib: lib.arange(start, end, step, dtype=dtype), [])


def test_out_of_composed_ops_is_checked_and_resized():
    """inner/vdot/addr wrote out= by copy_ (broadcasting into a wrong shape); now torch's resize and checks."""
    agree("inner into (3,)", lambda lib: lib.inner(lib.ones(3), lib.ones(3), out=lib.empty(3)), [])
    agree("vdot into int64", lambda lib: lib.vdot(lib.ones(3), lib.ones(3), out=lib.empty((), dtype=torch.int64)), [])
    agree("addr into (5,)", lambda lib: lib.addr(lib.ones(2, 2), lib.ones(2), lib.ones(2), out=lib.empty(5)), [])


# torch.accelerator: today's tutorials pick their device with it; without a GPU there is none.
ACCELERATOR = {
    "tutorial device line": lambda lib: (
        lib.accelerator.current_accelerator().type if lib.accelerator.is_available() else "cpu"
    ),
    "device_count": lambda lib: lib.accelerator.device_count(),
    "current_accelerator": lambda lib: lib.accelerator.current_accelerator(),
    "synchronize without one": lambda lib: lib.accelerator.synchronize(),
    "current_device_index without one": lambda lib: lib.accelerator.current_device_index(),
    "xpu.is_available": lambda lib: lib.xpu.is_available(),
}


@pytest.mark.skipif(tritongrad.cuda.is_available(), reason="the answers without a GPU")
@pytest.mark.parametrize("case", list(ACCELERATOR))
def test_accelerator_as_torch_without_one(case):
    agree(case, ACCELERATOR[case], [])


WARNINGS = {
    "tensor(tensor)": lambda lib: lib.tensor(lib.ones(2)),
    "cuda.amp.GradScaler": lambda lib: lib.cuda.amp.GradScaler(),
    "cuda.amp.autocast": lambda lib: lib.cuda.amp.autocast(),
}


@pytest.mark.parametrize("case", list(WARNINGS))
def test_deprecation_and_copy_warnings_as_torch(case):
    caught = []
    for lib in (torch, tritongrad):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            WARNINGS[case](lib)
        caught.append(sorted((w.category.__name__, str(w.message).split(" (Triggered")[0]) for w in seen))
    assert caught[1] == caught[0], f"{case}: {caught[1]} vs torch's {caught[0]}"
