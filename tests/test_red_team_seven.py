"""Session 16's findings (the seventh red-team round) in the copy, fill, setitem and random-fill
paths, each compared with torch by ``agree``: the value, the dtype, or the exception type and the
head of its message."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tritongrad import caller_warnings


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


_NAN, _INF = float("nan"), float("inf")

FUNCTIONAL = {
    # prelu: torch's weight rank and dtype checks; one slope keeps a 0-d input 0-d
    "prelu 0-d input": lambda lib: lib.nn.functional.prelu(lib.tensor(-2.0), lib.tensor([0.25])),
    "PReLU module on a 0-d input": lambda lib: lib.nn.PReLU()(lib.tensor(-2.0)).shape,
    "prelu 2-D weight": lambda lib: lib.nn.functional.prelu(-lib.ones(2, 3), lib.full((3, 1), 0.5)),
    "prelu integers": lambda lib: lib.nn.functional.prelu(lib.tensor([-1]), lib.tensor([1])),
    "prelu 0-d weight": lambda lib: lib.nn.functional.prelu(-lib.ones(2, 3), lib.tensor(0.5)),
    # dropout's NaN probability: torch's native RuntimeError, training or not, every variant
    "dropout nan": lambda lib: lib.nn.functional.dropout(lib.ones(3), _NAN),
    "dropout nan eval": lambda lib: lib.nn.functional.dropout(lib.ones(3), _NAN, training=False),
    "dropout1d nan": lambda lib: lib.nn.functional.dropout1d(lib.ones(1, 2, 2), _NAN),
    "dropout3d nan": lambda lib: lib.nn.functional.dropout3d(lib.ones(1, 2, 2, 2), _NAN),
    "alpha_dropout nan": lambda lib: lib.nn.functional.alpha_dropout(lib.ones(3), _NAN, True),
    "feature_alpha_dropout nan": lambda lib: lib.nn.functional.feature_alpha_dropout(lib.ones(1, 2, 2), _NAN, True),
    "dropout 1.5": lambda lib: lib.nn.functional.dropout(lib.ones(3), 1.5),
    # cross-entropy takes a negative smoothing (torch checks the upper end only)
    "cross_entropy negative smoothing": lambda lib: lib.nn.functional.cross_entropy(
        lib.tensor([[1.0, 2.0], [0.5, -1.0]]), lib.tensor([0, 1]), label_smoothing=-0.5
    ),
    "cross_entropy negative smoothing, probabilities": lambda lib: lib.nn.functional.cross_entropy(
        lib.tensor([[1.0, 2.0], [0.5, -1.0]]), lib.tensor([[0.0, 1.0], [0.3, 0.7]]), label_smoothing=-0.5
    ),
    "cross_entropy smoothing 1.5": lambda lib: lib.nn.functional.cross_entropy(
        lib.tensor([[1.0, 2.0]]), lib.tensor([0]), label_smoothing=1.5
    ),
    # l1_loss of integers is |input - target| in their dtype; only the mean has no dtype
    "l1_loss int none": lambda lib: lib.nn.functional.l1_loss(lib.tensor([1, 2]), lib.tensor([1, 3]), reduction="none"),
    "l1_loss int sum": lambda lib: lib.nn.functional.l1_loss(lib.tensor([1, 2]), lib.tensor([1, 3]), reduction="sum"),
    "l1_loss int mean": lambda lib: lib.nn.functional.l1_loss(lib.tensor([1, 2]), lib.tensor([1, 3])),
    "l1_loss bool": lambda lib: lib.nn.functional.l1_loss(
        lib.tensor([True, False]), lib.tensor([True, True]), reduction="none"
    ),
    # linear: a bias of another shape broadcasts to the output, as torch's addmm
    "linear 2-D bias": lambda lib: lib.nn.functional.linear(lib.ones(2, 3), lib.ones(4, 3), lib.ones(2, 4)),
    "linear (1,) bias": lambda lib: lib.nn.functional.linear(lib.ones(2, 3), lib.ones(4, 3), lib.ones(1)),
    "linear 0-d bias": lambda lib: lib.nn.functional.linear(lib.ones(2, 3), lib.ones(4, 3), lib.tensor(2.0)),
    "linear bias that does not broadcast": lambda lib: lib.nn.functional.linear(
        lib.ones(2, 3), lib.ones(4, 3), lib.ones(3, 4)
    ),
    # pad takes 0-d integer tensors and numpy integers among its ints
    "pad with a 0-d tensor": lambda lib: lib.nn.functional.pad(lib.ones(2), (lib.tensor(1), 1)),
    "pad with a numpy int": lambda lib: lib.nn.functional.pad(lib.ones(2), (np.int64(1), 1)),
    "pad with a float tensor": lambda lib: lib.nn.functional.pad(lib.ones(2), (lib.tensor(1.0), 1)),
}


@pytest.mark.parametrize("case", list(FUNCTIONAL))
def test_functional_as_torch(case):
    agree(case, FUNCTIONAL[case], [], message=not case.startswith(("linear bias that", "pad with a float")))


def test_smooth_l1_with_beta_0_is_l1_loss():
    """torch's smooth L1 with beta 0 is l1_loss: the gradient at NaN/inf differences is sign(d)."""
    values = torch.tensor([_NAN, _INF, 1.0, 2.0])
    target = torch.tensor([0.0, _INF, 1.0, 0.0])

    def run(lib, x, y):
        loss = lib.nn.functional.smooth_l1_loss(x, y, beta=0.0)
        return loss, lib.autograd.grad(loss, x)[0]

    agree("smooth_l1_loss(beta=0)", run, [values.requires_grad_(), target])


def _doubling_in_place(lib):
    """A custom Function that doubles its input in place (mark_dirty) with the matching backward."""

    class DoubleInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.mark_dirty(a)
            return a.mul_(2)

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    return DoubleInPlace


def test_mark_dirty_on_a_view_rebases_its_base_as_torch():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        h = x * 1
        result = _doubling_in_place(lib).apply(h[1:])
        names = (result.grad_fn.name(), type(h.grad_fn).__name__)
        h.sum().backward()
        return names, h.detach(), x.grad

    agree("mark_dirty through a view", run, [])
    agree(
        "mark_dirty on a view of a leaf",
        lambda lib: _doubling_in_place(lib).apply(lib.ones(3, requires_grad=True)[1:]),
        [],
    )


_COV_X = [[1.0, 2.0, 4.0]]

NAMESPACE = {
    # the logical functions take tensors only (a number is torch's TypeError)
    "logical_or(x, 0)": lambda lib: lib.logical_or(lib.tensor([1.0, 0.0]), 0),
    "x.logical_or(0)": lambda lib: lib.tensor([1.0, 0.0]).logical_or(0),
    "logical_and(x, True)": lambda lib: lib.logical_and(lib.tensor([True]), True),
    "logical_xor(1, x)": lambda lib: lib.logical_xor(1, lib.tensor([True])),
    "logical_not(1)": lambda lib: lib.logical_not(1),
    # round of integers: their own rounding without decimals; torch has no kernel for decimals=0
    "round(int)": lambda lib: lib.round(lib.tensor([15, 25])),
    "round(int, decimals=0)": lambda lib: lib.round(lib.tensor([15, 25]), decimals=0),
    "int.round(decimals=0)": lambda lib: lib.tensor([15, 25]).round(decimals=0),
    "round(float, decimals=0)": lambda lib: lib.round(lib.tensor([1.25, 2.5, -0.5]), decimals=0),
    # rsub's alpha, checked as add's
    "rsub(x, 2., alpha=3)": lambda lib: lib.rsub(lib.tensor([1.0]), 2.0, alpha=3),
    "rsub(x, y, alpha=3)": lambda lib: lib.rsub(lib.tensor([1.0]), lib.tensor([2.0]), alpha=3),
    "rsub(int, 2, alpha=0.5)": lambda lib: lib.rsub(lib.tensor([1]), 2, alpha=0.5),
    "rsub(x, 2, alpha=True)": lambda lib: lib.rsub(lib.tensor([1.0]), 2, alpha=True),
    # randperm's limits per dtype (bfloat16 has none: its values round)
    "randperm(2050, float16)": lambda lib: lib.randperm(2050, dtype=torch.float16),
    "randperm(300, bfloat16)": lambda lib: lib.randperm(300, dtype=torch.bfloat16).shape,
    "randperm(129, int8)": lambda lib: lib.randperm(129, dtype=torch.int8),
    "randperm(128, int8)": lambda lib: lib.randperm(128, dtype=torch.int8).sort().values,
    "randperm(257, uint8)": lambda lib: lib.randperm(257, dtype=torch.uint8),
    # histc/histogram of data whose range is not finite
    "histc with inf": lambda lib: lib.histc(lib.tensor([-_INF, 1.5]), bins=4),
    "histc with nan": lambda lib: lib.histc(lib.tensor([1.0, _NAN]), bins=4),
    "histogram with inf": lambda lib: lib.histogram(lib.tensor([1.0, _INF]), bins=4),
    "histc with inf, range given": lambda lib: lib.histc(lib.tensor([1.0, _INF]), bins=4, min=0, max=2),
    # cov's weights: rank, count, dtype and sign, in torch's order
    "cov float fweights": lambda lib: lib.cov(lib.tensor(_COV_X), fweights=lib.tensor([1.0, 2.0, 1.0])),
    "cov 2-D fweights": lambda lib: lib.cov(lib.tensor(_COV_X), fweights=lib.tensor([[1, 2, 1]])),
    "cov short fweights": lambda lib: lib.cov(lib.tensor(_COV_X), fweights=lib.tensor([1, 2])),
    "cov integer aweights": lambda lib: lib.cov(lib.tensor(_COV_X), aweights=lib.tensor([1, 2, 1])),
    "cov negative aweights": lambda lib: lib.cov(lib.tensor(_COV_X), aweights=lib.tensor([1.0, -2.0, 1.0])),
    "cov negative fweights": lambda lib: lib.cov(lib.tensor(_COV_X), fweights=lib.tensor([1, -2, 1])),
    "cov both weights": lambda lib: lib.cov(
        lib.tensor(_COV_X), fweights=lib.tensor([1, 2, 1]), aweights=lib.tensor([1.0, 0.5, 1.0])
    ),
}


@pytest.mark.parametrize("case", list(NAMESPACE))
def test_namespace_function_as_torch(case):
    agree(case, NAMESPACE[case], [])


def test_float_of_a_tensor_requiring_grad_warns_once_as_torch():
    """torch warns (once per process) when float() drops a tensor's graph; int()/bool() do not warn."""
    caller_warnings._WARNED.discard("scalar of requires_grad")
    x = tritongrad.ones(1, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        float(x), float(x * 2), int(x), bool(x)
    messages = [str(w.message) for w in caught]
    assert messages == [
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
        "Consider using tensor.detach() first."
    ], messages


def _backward_twice(lib, make):
    """``make(x)`` summed, backward twice without retain_graph: torch's "freed" error where its node saved
    tensors (the index tensors, masks and the ones it makes of lists), the gradient where it saved none."""
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = make(lib, x).sum()
    y.backward()
    y.backward()
    return x.grad


SAVED_INDICES = {
    "x[[0, 2]]": lambda lib, x: x[[0, 2]],
    "x[mask]": lambda lib, x: x[x > 1],
    "x[int tensor]": lambda lib, x: x[lib.tensor([0, 2])],
    "x[numpy array]": lambda lib, x: x[np.array([0, 2])],
    "x[1:] (a view: nothing saved)": lambda lib, x: x[1:],
    "index_put": lambda lib, x: lib.zeros(3).index_put((lib.tensor([1]),), x[:1]),
    "index_put accumulate": lambda lib, x: lib.zeros(3).index_put((lib.tensor([1]),), x[:1], accumulate=True),
}


@pytest.mark.parametrize("case", list(SAVED_INDICES))
def test_indexing_saves_its_indices_as_torch(case):
    agree(case, lambda lib: _backward_twice(lib, SAVED_INDICES[case]), [])


def test_a_mask_written_after_indexing_is_a_version_error():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        mask = lib.tensor([True, False, True])
        y = x[mask]
        mask.fill_(False)
        y.sum().backward()

    agree("x[mask]; mask.fill_()", run, [], message=False)


LAYER_INPUTS = {
    # torch's order of a convolution's dtype checks: the bias's, the weight's, then the kernel's
    "conv2d long input, float bias": lambda lib: _seeded(lib, lambda: lib.nn.Conv2d(1, 1, 3))(
        lib.ones(1, 1, 5, 5, dtype=torch.long)
    ),
    "conv2d long input, no bias": lambda lib: _seeded(lib, lambda: lib.nn.Conv2d(1, 1, 3, bias=False))(
        lib.ones(1, 1, 5, 5, dtype=torch.long)
    ),
    "conv2d double input": lambda lib: _seeded(lib, lambda: lib.nn.Conv2d(1, 1, 3))(
        lib.ones(1, 1, 5, 5, dtype=torch.float64)
    ),
    "conv1d long input": lambda lib: _seeded(lib, lambda: lib.nn.Conv1d(1, 1, 3))(lib.ones(1, 1, 5, dtype=torch.long)),
    # an integer input beside floating parameters is the mixed-dtype error
    "layer_norm long input": lambda lib: lib.nn.LayerNorm(4)(lib.ones(2, 4, dtype=torch.long)),
    "group_norm long input": lambda lib: lib.nn.GroupNorm(2, 4)(lib.ones(2, 4, dtype=torch.long)),
    "layer_norm long input, no affine": lambda lib: lib.nn.LayerNorm(4, elementwise_affine=False)(
        lib.ones(2, 4, dtype=torch.long)
    ),
    "batch_norm channel count": lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(2, 4)),
    # the adaptive pools have no integer kernels (the 1-d ones are named as torch's 2-d kernels)
    "adaptive_avg_pool1d long": lambda lib: lib.nn.AdaptiveAvgPool1d(2)(lib.ones(1, 1, 4, dtype=torch.long)),
    "adaptive_max_pool1d long": lambda lib: lib.nn.AdaptiveMaxPool1d(2)(lib.arange(4).view(1, 1, 4)),
    "adaptive_max_pool2d int": lambda lib: lib.nn.AdaptiveMaxPool2d(2)(lib.ones(1, 1, 4, 4, dtype=torch.int32)),
    "embedding of a list": lambda lib: lib.nn.Embedding(5, 2)([1, 2]),
}


def _seeded(lib, make):
    lib.manual_seed(0)
    return make()


@pytest.mark.parametrize("case", list(LAYER_INPUTS))
def test_layer_input_errors_as_torch(case):
    agree(case, LAYER_INPUTS[case], [])
