"""The seventh red-team round's loss and norm findings, each compared with torch by ``agree``: values,
gradients (NaNs in the same places), or the exception type and the head of its message."""

from __future__ import annotations

import pytest
import torch

from tests.test_hardening import agree

NAN, INF = float("nan"), float("inf")

# Rows whose logsumexp is not finite (a NaN, a +inf, only -inf) next to finite ones, ignored or not.
LOGITS = [
    [1.0, 2.0, 3.0],
    [NAN, 0.0, 1.0],
    [INF, 0.0, 1.0],
    [-INF, -INF, -INF],
    [0.0, -INF, 2.0],
    [0.5, 1.5, -1.0],
    [INF, 0.0, 1.0],
    [-INF, -INF, -INF],
    [0.5, -INF, INF],
]
IGNORED = -100
TARGETS = [0, IGNORED, IGNORED, IGNORED, 2, IGNORED, 0, 2, 1]
# reduction="none": the ignored rows' incoming gradients include a NaN and an inf, which torch's ignores.
ROW_GRADS = [1.0, NAN, INF, 1.0, 2.0, 1.0, 1.0, 1.0, 1.0]


def _cross_entropy(lib, logits, reduction, label_smoothing, weighted, probabilities):
    if probabilities:
        target = lib.tensor([[0.2, 0.3, 0.5]] * len(LOGITS))
        target[4] = lib.tensor([0.5, 0.0, 0.5])  # (a zero probability on a -inf logit)
    else:
        target = lib.tensor(TARGETS)
    weight = lib.tensor([1.0, 2.0, 0.5]) if weighted else None
    loss = lib.nn.functional.cross_entropy(
        logits, target, weight=weight, reduction=reduction, label_smoothing=label_smoothing
    )
    if reduction == "none":
        loss.backward(lib.tensor(ROW_GRADS))
    else:
        loss.backward()
    return loss


@pytest.mark.parametrize("probabilities", [False, True], ids=["classes", "probabilities"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cross_entropy_gradient_of_non_finite_rows_is_nan_as_torch(reduction, label_smoothing, weighted, probabilities):
    """torch differentiates log_softmax, all NaN on a row whose logsumexp is not finite, times the row's
    incoming gradient (0 on an ignored row): such a row's gradient is all NaN, ignored or not."""
    logits = torch.tensor(LOGITS, requires_grad=True)
    agree(
        "cross_entropy",
        lambda lib, x: _cross_entropy(lib, x, reduction, label_smoothing, weighted, probabilities),
        [logits],
    )


@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_cross_entropy_recorded_gradient_of_non_finite_rows(reduction):
    """The same under create_graph=True, where the gradient is composed from recorded ops."""
    logits = torch.tensor(LOGITS, requires_grad=True)

    def recorded(lib, x):
        loss = lib.nn.functional.cross_entropy(x, lib.tensor(TARGETS), reduction=reduction, label_smoothing=0.1)
        seed = lib.tensor(ROW_GRADS) if reduction == "none" else None
        return lib.autograd.grad(loss, x, seed, create_graph=True)[0].detach()

    agree("cross_entropy, create_graph", recorded, [logits])


def test_cross_entropy_all_ignored_mean_keeps_finite_rows_zero():
    logits = torch.tensor([[1.0, 2.0], [NAN, 0.0], [3.0, -1.0]], requires_grad=True)

    def all_ignored(lib, x):
        loss = lib.nn.functional.cross_entropy(x, lib.tensor([IGNORED] * 3))
        loss.backward()
        return loss

    agree("cross_entropy, every row ignored", all_ignored, [logits])


# --------------------------------------------------------------------------------- multi_margin_loss

MARGIN_SCORES = [[1.0, 2.0, 3.0], [INF, 0.0, 1.0], [NAN, 0.0, -1.0], [0.0, 5.0, -INF], [0.5, 0.2, 0.1]]
MARGIN_TARGETS = [0, 1, 2, 1, 0]


def _multi_margin(lib, scores, p, reduction, weighted):
    weight = lib.tensor([1.0, 2.0, 0.5]) if weighted else None
    loss = lib.nn.functional.multi_margin_loss(scores, lib.tensor(MARGIN_TARGETS), p=p, weight=weight,
                                               reduction=reduction)  # fmt: skip
    if reduction == "none":
        loss.backward(lib.tensor([1.0, 2.0, NAN, INF, 0.5]))
    else:
        loss.backward()
    return loss, loss.grad_fn.name()


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_gradient_skips_inactive_terms_as_torch(p, reduction, weighted):
    """torch's kernel counts only the terms with z > 0: a zero-loss row next to an inf or NaN score has
    gradient 0 (not 2z * 0 = NaN), and the node is MultiMarginLossBackward0."""
    scores = torch.tensor(MARGIN_SCORES, requires_grad=True)
    agree("multi_margin_loss", lambda lib, x: _multi_margin(lib, x, p, reduction, weighted), [scores])


@pytest.mark.parametrize("shape, target", [((4,), [2]), ((), 0)], ids=["vector", "scalar"])
def test_multi_margin_loss_of_one_row(shape, target):
    scores = torch.tensor([0.3, 1.0, -0.5, 0.9][: (shape[0] if shape else 1)]).reshape(shape).requires_grad_()

    def one_row(lib, x):
        loss = lib.nn.functional.multi_margin_loss(x, lib.tensor(target), p=2)
        loss.backward()
        return loss, loss.grad_fn.name()

    agree("multi_margin_loss of one row", one_row, [scores])


def test_multi_margin_loss_has_no_double_backward_as_torch():
    scores = torch.tensor([[0.3, 1.0, -0.5]], requires_grad=True)

    def twice(lib, x):
        loss = lib.nn.functional.multi_margin_loss(x, lib.tensor([0]), p=2)
        (grad,) = lib.autograd.grad(loss, x, create_graph=True)
        return lib.autograd.grad(grad.sum(), x)

    agree("multi_margin_loss double backward", twice, [scores])


# --------------------------------------------------------------------------------- norm's matrix orders

MATRIX = [[1.0, 2.0], [3.0, 4.0], [0.0, -1.0]]


def _norm_and_gradient(call, with_node: bool):
    def case(lib, x):
        result = call(lib, x)
        result.sum().backward()
        # (matrix_norm's keepdim nodes are its own business: only the plain spellings' nodes are compared)
        return (result, result.grad_fn.name()) if with_node else result

    return case


NORMS = {
    "torch.norm(A, 'nuc')": lambda lib, x: lib.norm(x, "nuc"),
    "A.norm(p='nuc')": lambda lib, x: x.norm(p="nuc"),
    "linalg.norm(A, 'nuc')": lambda lib, x: lib.linalg.norm(x, "nuc"),
    "norm 'nuc' over two dims, keepdim": lambda lib, x: lib.norm(x.reshape(1, 3, 2), "nuc", dim=(1, 2), keepdim=True),
    "norm 'nuc' over a list of dims": lambda lib, x: x.reshape(3, 1, 2).norm("nuc", dim=[0, 2]),
    "norm 'nuc' in float64": lambda lib, x: lib.norm(x, "nuc", dtype=lib.float64),
    "norm 'fro' over two dims": lambda lib, x: lib.norm(x, "fro", dim=(0, 1)),
    "norm 'fro' of a 3-D tensor": lambda lib, x: x.reshape(3, 1, 2).norm("fro"),
    "norm p=3 over two dims": lambda lib, x: lib.norm(x, 3, dim=(0, 1)),
}


@pytest.mark.parametrize("name", NORMS)
def test_norm_matrix_orders(name):
    with_node = "keepdim" not in name and "list" not in name
    agree(name, _norm_and_gradient(NORMS[name], with_node), [torch.tensor(MATRIX, requires_grad=True)])


def test_norm_nuc_out():
    def with_out(lib):
        out = lib.empty(2)
        result = lib.norm(lib.arange(24.0).reshape(2, 3, 4), "nuc", dim=(1, 2), out=out)
        return result, out

    agree("norm 'nuc' out=", with_out, [])


NORM_ERRORS = {
    "'nuc' of a 3-D tensor": lambda lib: lib.norm(lib.ones(2, 3, 4), "nuc"),
    "'nuc' over one dim": lambda lib: lib.norm(lib.ones(2, 3, 4), "nuc", dim=0),
    "'fro' over three dims": lambda lib: lib.norm(lib.ones(2, 3, 4), "fro", dim=(0, 1, 2)),
    "'nuc' of a vector": lambda lib: lib.norm(lib.ones(3), "nuc"),
    "'nuc' of integers": lambda lib: lib.norm(lib.ones(2, 3, dtype=lib.long), "nuc"),
    "'nuc' over a repeated dim": lambda lib: lib.norm(lib.ones(2, 3, 4), "nuc", dim=(1, 1)),
    "'nuc' over a dim out of range": lambda lib: lib.norm(lib.ones(2, 3, 4), "nuc", dim=(0, 5)),
    "an unknown order": lambda lib: lib.ones(2, 3).norm("abc"),
}


@pytest.mark.parametrize("name", NORM_ERRORS)
def test_norm_matrix_order_errors(name):
    agree(name, NORM_ERRORS[name], [])


# --------------------------------------------------------------------------------- bilinear's dtype check

BILINEAR_DTYPES = {
    "double inputs, float weight and bias": (torch.float64, torch.float32, torch.float32),
    "double bias": (torch.float32, torch.float32, torch.float64),
    "half weight, double bias": (torch.float32, torch.float16, torch.float64),
    "double inputs, float weight, no bias": (torch.float64, torch.float32, None),
    "all float": (torch.float32, torch.float32, torch.float32),
}


@pytest.mark.parametrize("name", BILINEAR_DTYPES)
def test_bilinear_dtype_mismatch_names_the_bias(name):
    inputs, weight, bias = BILINEAR_DTYPES[name]

    def call(lib):
        return lib.nn.functional.bilinear(
            lib.ones(1, 2, dtype=inputs), lib.ones(1, 2, dtype=inputs), lib.ones(3, 2, 2, dtype=weight),
            None if bias is None else lib.ones(3, dtype=bias),
        )  # fmt: skip

    agree(f"bilinear, {name}", call, [])
