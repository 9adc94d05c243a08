"""F.unfold/F.fold and nn.Unfold/nn.Fold (im2col/col2im) against torch: values and gradients over
kernel, dilation, padding and stride combinations, unbatched and non-contiguous inputs, float32 and
float64, a float64 gradcheck, and torch's exception types and messages for bad arguments."""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, make_pair, random_values
from tritongrad import nn
from tritongrad.autograd import gradcheck

# (input shape, options): each exercises one thing
FOLD_CASES = [
    ((2, 3, 5, 6), dict(kernel_size=2)),  # overlapping 2x2 blocks, stride 1
    ((1, 1, 7, 5), dict(kernel_size=(3, 2), dilation=(2, 1), padding=(1, 0), stride=(1, 2))),  # non-square, dilated
    ((1, 2, 5, 5), dict(kernel_size=1, stride=3)),  # stride > kernel: gaps between blocks
    ((3, 4, 4), dict(kernel_size=2, padding=1, stride=2)),  # unbatched, padded
    ((2, 1, 3, 3), dict(kernel_size=3)),  # a single block
    ((1, 2, 5, 7), dict(kernel_size=(2, 3), padding=(2, 1), stride=(3, 2), dilation=(1, 3))),  # primes everywhere
]


def _ids(cases):
    return [f"{shape}-{'-'.join(f'{k}={v}' for k, v in options.items())}" for shape, options in cases]


def _compare(ours_fn, theirs_fn, expected_x, got_x, dtype, what):
    got, expected = ours_fn(got_x), theirs_fn(expected_x)
    assert_close(got, expected, what=what)
    grad = random_values(expected.shape, dtype)
    got.backward(from_torch(grad))
    expected.backward(grad)
    assert_close(got_x.grad, expected_x.grad, kind="accumulation", what=f"{what} grad")
    return got


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape, options", FOLD_CASES, ids=_ids(FOLD_CASES))
def test_unfold_matches_torch(shape, options, dtype):
    layout = "transposed" if dtype == torch.float32 else "contiguous"  # non-contiguous input in float32
    expected_x, got_x = make_pair(shape, dtype, layout, requires_grad=True)
    got = _compare(
        lambda x: F.unfold(x, **options), lambda x: torch.nn.functional.unfold(x, **options), expected_x, got_x,
        dtype, f"unfold {shape} {options}",
    )  # fmt: skip
    assert got.grad_fn.name() == "Im2ColBackward0"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape, options", FOLD_CASES, ids=_ids(FOLD_CASES))
def test_fold_matches_torch(shape, options, dtype):
    size = shape[-2:]
    columns_shape = torch.nn.functional.unfold(torch.empty(shape), **options).shape
    layout = "sliced" if dtype == torch.float32 else "contiguous"
    expected_x, got_x = make_pair(columns_shape, dtype, layout, requires_grad=True)
    got = _compare(
        lambda x: F.fold(x, size, **options), lambda x: torch.nn.functional.fold(x, size, **options), expected_x,
        got_x, dtype, f"fold to {size} {options}",
    )  # fmt: skip
    assert got.grad_fn.name() == "Col2ImBackward0"
    assert got.is_contiguous()


def test_empty_batch_and_half():
    x = random_values((0, 2, 4, 4), torch.float32)
    assert_close(F.unfold(from_torch(x), 2), torch.nn.functional.unfold(x, 2), what="unfold of an empty batch")
    columns = random_values((0, 8, 9), torch.float32)
    assert_close(F.fold(from_torch(columns), 4, 2), torch.nn.functional.fold(columns, 4, 2), what="fold, empty batch")
    half = random_values((1, 2, 4, 5), torch.float16)
    expected = torch.nn.functional.unfold(half, (2, 3), padding=1)
    assert_close(F.unfold(from_torch(half), (2, 3), padding=1), expected, what="unfold float16")
    assert_close(F.fold(from_torch(expected), (4, 5), (2, 3), padding=1),
                 torch.nn.functional.fold(expected, (4, 5), (2, 3), padding=1), what="fold float16")  # fmt: skip


def test_gradcheck_float64():
    x = from_torch(random_values((1, 2, 4, 3), torch.float64), requires_grad=True)
    assert gradcheck(lambda a: F.unfold(a, (2, 2), dilation=(1, 2), padding=1, stride=(2, 1)), (x,))
    columns = from_torch(random_values((2, 8, 10), torch.float64), requires_grad=True)
    assert gradcheck(lambda c: F.fold(c, (4, 3), 2, padding=(1, 0), stride=(1, 1)), (columns,))


def test_fold_is_unfold_adjoint_second_order():
    """<unfold(x), c> == <x, fold(c)>, and a gradient of a gradient runs through both nodes."""
    x = from_torch(random_values((1, 2, 5, 4), torch.float64), requires_grad=True)
    c = from_torch(random_values((1, 8, 12), torch.float64), requires_grad=True)
    left = (F.unfold(x, 2) * c).sum()
    right = (x * F.fold(c, (5, 4), 2)).sum()
    assert_close(left, right.detach()._data, what="adjoint identity")
    (grad_x,) = tritongrad.autograd.grad(left, x, create_graph=True)
    (grad_c,) = tritongrad.autograd.grad((grad_x * x).sum(), c)
    theirs_x = x._data.clone().requires_grad_(True)
    theirs_c = c._data.clone().requires_grad_(True)
    (theirs_gx,) = torch.autograd.grad((torch.nn.functional.unfold(theirs_x, 2) * theirs_c).sum(), theirs_x,
                                       create_graph=True)  # fmt: skip
    (theirs_gc,) = torch.autograd.grad((theirs_gx * theirs_x).sum(), theirs_c)
    assert_close(grad_c, theirs_gc, what="second-order gradient")


def test_modules():
    for ours, theirs in [
        (nn.Unfold(kernel_size=(2, 3), dilation=(1, 2), stride=2), torch.nn.Unfold((2, 3), dilation=(1, 2), stride=2)),
        (nn.Fold(output_size=(4, 5), kernel_size=2, padding=1), torch.nn.Fold((4, 5), 2, padding=1)),
    ]:
        assert repr(ours) == repr(theirs)
        assert not list(ours.parameters()) and not ours.state_dict()
    x = random_values((2, 3, 4, 6), torch.float32)
    unfold, fold = nn.Unfold((2, 3), stride=(2, 3)), torch.nn.Unfold((2, 3), stride=(2, 3))
    assert_close(unfold(from_torch(x)), fold(x), what="nn.Unfold")
    # Fold(Unfold(x)) with non-overlapping blocks that tile the image gives x back (torch's doc example)
    tiled = nn.Fold((4, 6), (2, 3), stride=(2, 3))(unfold(from_torch(x)))
    assert_close(tiled, x, what="Fold(Unfold(x))")


def _both(call):
    """The exception (type, message) ``call`` raises with torch's functional and with ours, or None."""
    outcomes = []
    for library, wrap in ((torch.nn.functional, lambda t: t), (F, from_torch)):
        try:
            call(library, wrap)
        except Exception as error:  # noqa: BLE001 (what each library raises is the point)
            outcomes.append((type(error), str(error)))
        else:
            outcomes.append(None)
    return outcomes


BAD_CALLS = {
    "unfold 2-d input": lambda f, w: f.unfold(w(torch.randn(5, 5)), 2),
    "unfold 5-d input": lambda f, w: f.unfold(w(torch.randn(1, 1, 3, 5, 5)), 2),
    "unfold kernel too large": lambda f, w: f.unfold(w(torch.randn(2, 3, 5, 5)), 6),
    "unfold kernel 0": lambda f, w: f.unfold(w(torch.randn(2, 3, 5, 5)), 0),
    "unfold stride 0": lambda f, w: f.unfold(w(torch.randn(2, 3, 5, 5)), 2, stride=0),
    "unfold dilation 0": lambda f, w: f.unfold(w(torch.randn(2, 3, 5, 5)), 2, dilation=0),
    "unfold negative padding": lambda f, w: f.unfold(w(torch.randn(2, 3, 5, 5)), 2, padding=-1),
    "unfold 3 kernel sizes": lambda f, w: f.unfold(w(torch.randn(2, 3, 5, 5)), (2, 2, 2)),
    "unfold float kernel": lambda f, w: f.unfold(w(torch.randn(2, 3, 5, 5)), 2.0),
    "unfold empty channels": lambda f, w: f.unfold(w(torch.randn(2, 0, 5, 5)), 2),
    "unfold integer input": lambda f, w: f.unfold(w(torch.randint(0, 5, (2, 3, 5, 5))), 2),
    "fold 1-d input": lambda f, w: f.fold(w(torch.randn(16)), 5, 2),
    "fold 4-d input": lambda f, w: f.fold(w(torch.randn(2, 12, 16, 2)), 5, 2),
    "fold rows not divisible": lambda f, w: f.fold(w(torch.randn(2, 13, 16)), 5, 2),
    "fold wrong block count": lambda f, w: f.fold(w(torch.randn(2, 12, 15)), 5, 2),
    "fold unbatched wrong count": lambda f, w: f.fold(w(torch.randn(12, 15)), 5, 2),
    "fold output too small": lambda f, w: f.fold(w(torch.randn(2, 12, 16)), 1, 2),
    "fold stride 0": lambda f, w: f.fold(w(torch.randn(2, 12, 16)), 5, 2, stride=0),
    "fold negative padding": lambda f, w: f.fold(w(torch.randn(2, 12, 16)), 5, 2, padding=-1),
    "fold empty blocks": lambda f, w: f.fold(w(torch.randn(2, 12, 0)), (1, 1), 2),
    "fold integer input": lambda f, w: f.fold(w(torch.randint(0, 4, (2, 12, 16))), 5, 2),
}


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_bad_arguments_raise_as_torch(name):
    theirs, ours = _both(BAD_CALLS[name])
    assert theirs is not None, "torch accepted it"
    assert ours is not None, f"tritongrad accepted it; torch raised {theirs}"
    assert ours[0] is theirs[0], f"{ours} vs torch's {theirs}"
    assert ours[1] == theirs[1]
