"""F.linear_cross_entropy (tritongrad extension) against torch's cross_entropy(linear(...)):
loss and input/weight/bias gradients over reductions, ignore_index, chunk sizes that do not divide
N, rows longer than one block, dtypes, layouts; float64 gradcheck; the chunks really bound the
logits; bad input."""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, random_values, to_torch, tolerance
from tritongrad.autograd import gradcheck
from tritongrad.kernels import fused_linear_ce as kernels


def _targets(shape, classes: int, ignore_index: int = -100, ignored: int = 1) -> torch.Tensor:
    target = torch.randint(0, classes, shape)
    target.view(-1)[:ignored] = ignore_index  # the first rows are ignored
    return target


def _check(x, weight, bias, target, *, dtype=None, **options):
    """Loss and the gradients of every operand that requires grad, tritongrad vs torch."""
    leaves = [t.detach().requires_grad_(True) if t is not None else None for t in (x, weight, bias)]
    mine = [from_torch(t, requires_grad=True) if t is not None else None for t in (x, weight, bias)]
    reference_options = {k: v for k, v in options.items() if k != "chunk_size"}
    logits = torch.nn.functional.linear(
        leaves[0].float(), leaves[1].float(), None if bias is None else leaves[2].float()
    )
    if x.dtype == torch.float64:
        logits = torch.nn.functional.linear(*[t for t in leaves if t is not None])
    expected = torch.nn.functional.cross_entropy(logits.flatten(0, -2), target.flatten(), **reference_options)
    if options.get("reduction") == "none":
        expected = expected.view(target.shape)
    got = F.linear_cross_entropy(mine[0], mine[1], from_torch(target), mine[2], **options)
    what = f"linear_cross_entropy x {tuple(x.shape)} w {tuple(weight.shape)} {x.dtype} {options}"
    rtol, atol = tolerance(x.dtype, "linear_cross_entropy")  # sums over V classes and N rows
    assert_close(got, expected.to(x.dtype), rtol=rtol, atol=atol, what=what + " loss")
    grad = random_values(expected.shape, torch.float64).to(x.dtype)
    expected.backward(grad.to(expected.dtype))
    got.backward(from_torch(grad))
    for name, leaf, tensor in zip(("input", "weight", "bias"), leaves, mine):
        if leaf is not None:
            assert_close(tensor.grad, leaf.grad.to(x.dtype), rtol=rtol, atol=atol, what=f"{what} grad {name}")


@pytest.mark.parametrize(
    "rows, features, classes, chunk_size",
    [
        (13, 5, 7, 4),  # chunks of 4 do not divide 13
        (1, 3, 2, None),  # one row, the default chunk
        (37, 16, 130, 8),  # prime rows, V > H (several default-sized chunks), last chunk of 5
        (6, 8, 3, 64),  # one chunk larger than N
    ],
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_matches_torch(rows, features, classes, chunk_size, reduction):
    x = random_values((rows, features), torch.float32)
    weight = random_values((classes, features), torch.float32, low=-1, high=1)
    bias = random_values((classes,), torch.float32)
    _check(x, weight, bias, _targets((rows,), classes), reduction=reduction, chunk_size=chunk_size)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_dtypes(dtype):
    x = random_values((9, 16), dtype, low=-1, high=1)
    weight = random_values((11, 16), dtype, low=-1, high=1)
    _check(x, weight, None, _targets((9,), 11), chunk_size=4)


def test_leading_dims_layouts_and_ignore_index():
    x = random_values((4, 3, 6), torch.float32).transpose(0, 1)  # (3, 4, 6), rows do not flatten as a view
    weight = random_values((6, 9), torch.float32).t()  # (9, 6) transposed
    target = _targets((3, 4), 9, ignore_index=2, ignored=3)  # a class id as ignore_index
    _check(x, weight, None, target, ignore_index=2, reduction="none", chunk_size=5)
    _check(x, weight, None, target, ignore_index=2, chunk_size=5)


def test_all_ignored_mean_is_nan_with_zero_gradients():
    x = random_values((3, 4), torch.float32)
    _check(x, random_values((5, 4), torch.float32), None, torch.full((3,), -100), chunk_size=2)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_no_rows(reduction):
    """N = 0: torch's mean is NaN (0 / 0), its sum 0; the weight gradient is zero."""
    _check(torch.empty(0, 3), random_values((5, 3), torch.float32), None, torch.empty(0, dtype=torch.int64),
           reduction=reduction)  # fmt: skip


def test_rows_longer_than_one_block():
    """The online logsumexp across class blocks, through the launcher's block override."""
    x, weight = random_values((10, 8), torch.float64), random_values((37, 8), torch.float64)
    bias, target = random_values((37,), torch.float64), _targets((10,), 37)
    loss, grad_x, grad_weight, grad_bias = kernels.launch_linear_cross_entropy(
        x, weight, target, bias, chunk_size=3, block=16, needs=(True, True, True)
    )
    leaves = [t.clone().requires_grad_(True) for t in (x, weight, bias)]
    expected = torch.nn.functional.cross_entropy(torch.nn.functional.linear(*leaves), target)
    expected.backward()
    assert_close(loss, expected.detach(), what="loss, block 16 of 37 classes")
    for name, got, leaf in zip(("input", "weight", "bias"), (grad_x, grad_weight, grad_bias), leaves):
        assert_close(got, leaf.grad, rtol=1e-11, atol=1e-12, what=f"grad {name}, block 16 of 37 classes")


def test_loss_backward_without_explicit_gradient():
    x = random_values((7, 5), torch.float32)
    weight = random_values((6, 5), torch.float32)
    leaves = [x.clone().requires_grad_(True), weight.clone().requires_grad_(True)]
    torch.nn.functional.cross_entropy(torch.nn.functional.linear(*leaves), target := _targets((7,), 6)).backward()
    mine = [from_torch(x, requires_grad=True), from_torch(weight, requires_grad=True)]
    F.linear_cross_entropy(mine[0], mine[1], from_torch(target), chunk_size=3).backward()  # the implicit seed
    for got, leaf in zip(mine, leaves):
        assert_close(got.grad, leaf.grad, rtol=1e-5, atol=1e-6, what="grad after loss.backward()")


def test_chunks_bound_the_logits(monkeypatch):
    shapes = []
    original = kernels.launch_linear

    def recording(x, *args, **kwargs):
        shapes.append(tuple(x.shape))
        return original(x, *args, **kwargs)

    monkeypatch.setattr(kernels, "launch_linear", recording)
    x = from_torch(random_values((20, 4), torch.float32), requires_grad=True)
    weight = from_torch(random_values((9, 4), torch.float32), requires_grad=True)
    F.linear_cross_entropy(x, weight, from_torch(_targets((20,), 9)), chunk_size=6).backward()
    assert shapes == [(6, 4), (6, 4), (6, 4), (2, 4)], f"logits computed for row blocks {shapes}"
    assert kernels.default_chunk_size(4096, 64, 32000) == 16  # 4096 / 500 rounded up: logits ~ 2x the input


def test_gradcheck_float64():
    x = from_torch(random_values((3, 2), torch.float64), requires_grad=True)
    weight = from_torch(random_values((3, 2), torch.float64), requires_grad=True)
    bias = from_torch(random_values((3,), torch.float64), requires_grad=True)
    target = from_torch(torch.tensor([1, -100, 2]))
    # Full Jacobian for "none" (per-row gradients, the rerun path); "mean" (gradients from the
    # forward) projected on random directions, to keep the interpreter's launches few.
    for reduction, fast_mode in (("none", False), ("mean", True)):
        assert gradcheck(
            lambda a, w, b, r=reduction: F.linear_cross_entropy(a, w, target, b, reduction=r, chunk_size=2),
            (x, weight, bias),
            fast_mode=fast_mode,
        )


def test_bad_input():
    x = from_torch(random_values((4, 3), torch.float32))
    weight = from_torch(random_values((5, 3), torch.float32))
    with pytest.raises(ValueError, match="target of shape"):
        F.linear_cross_entropy(x, weight, tritongrad.tensor([0, 1]))
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.linear_cross_entropy(x, weight, tritongrad.tensor([0, 1, 5, 2]))
    with pytest.raises(RuntimeError, match="weight"):
        F.linear_cross_entropy(x, from_torch(random_values((5, 4), torch.float32)), tritongrad.tensor([0, 1, 2, 2]))
    with pytest.raises(RuntimeError, match="dtype"):
        F.linear_cross_entropy(x, from_torch(random_values((5, 3), torch.float64)), tritongrad.tensor([0, 1, 2, 2]))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.linear_cross_entropy(x, weight, tritongrad.tensor([0, 1, 2, 2]), reduction="avg")
    with pytest.raises(ValueError, match="chunk_size"):
        F.linear_cross_entropy(x, weight, tritongrad.tensor([0, 1, 2, 2]), chunk_size=0)
    loss = F.linear_cross_entropy(x.requires_grad_(True), weight, tritongrad.tensor([0, 1, 2, 2]))
    assert to_torch(loss).isfinite()
