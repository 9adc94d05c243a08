"""F.grid_sample and F.affine_grid against torch: every mode x padding mode x align_corners, values
and both gradients (input and grid), non-contiguous and half inputs, edge shapes, a float64
gradcheck, the align_corners warnings and torch's exception types for bad arguments."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, make_pair, random_values
from tritongrad.autograd import gradcheck

MODES = ["bilinear", "nearest", "bicubic"]
PADDINGS = ["zeros", "border", "reflection"]


def _grid(shape, dtype, spread=1.3):
    """Points in [-spread, spread]: some outside the image, to exercise the padding modes."""
    return random_values(shape, dtype, low=-spread, high=spread)


def _check(x_pair, grid_pair, dtype, what, **options):
    (expected_x, got_x), (expected_g, got_g) = x_pair, grid_pair
    expected = torch.nn.functional.grid_sample(expected_x, expected_g, **options)
    got = F.grid_sample(got_x, got_g, **options)
    kind = "accumulation"  # up to 16 weighted taps summed in an order of our own
    assert_close(got, expected, kind=kind, what=what)
    assert got.grad_fn.name() == "GridSampler2DBackward0"
    grad = random_values(expected.shape, dtype)
    expected.backward(grad)
    got.backward(from_torch(grad))
    assert_close(got_x.grad, expected_x.grad, kind=kind, what=f"{what} input grad")
    # the grid gradient sums value differences times grad_out over the channels
    assert_close(got_g.grad, expected_g.grad, kind=kind, rtol=1e-4 if dtype == torch.float32 else None,
                 what=f"{what} grid grad")  # fmt: skip


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("mode", MODES)
def test_grid_sample_matches_torch(mode, padding_mode, align_corners):
    dtype = torch.float64
    x = make_pair((2, 3, 5, 4), dtype, requires_grad=True)  # non-square, prime height
    base = _grid((2, 3, 7, 2), dtype)
    grid = (base.clone().requires_grad_(True), from_torch(base, requires_grad=True))
    _check(x, grid, dtype, f"{mode} {padding_mode} align={align_corners}", mode=mode, padding_mode=padding_mode,
           align_corners=align_corners)  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
def test_grid_sample_float32_non_contiguous(mode):
    dtype = torch.float32
    x = make_pair((1, 2, 6, 3), dtype, "transposed", requires_grad=True)
    base = _grid((1, 2, 5, 5), dtype)[..., 1:3].transpose(1, 2)  # a sliced, transposed grid: (1, 5, 2, 2)
    grid = (base.detach().clone().requires_grad_(True), from_torch(base, requires_grad=True))
    _check(x, grid, dtype, f"{mode} float32 strided", mode=mode, padding_mode="reflection", align_corners=False)


def test_grid_sample_edge_shapes_and_half():
    # a 1x1 image, a single grid point, an empty batch, an empty output grid
    for x_shape, g_shape in [((1, 1, 1, 1), (1, 2, 3, 2)), ((3, 2, 4, 5), (3, 1, 1, 2)),
                             ((0, 2, 3, 3), (0, 2, 2, 2)), ((1, 2, 3, 3), (1, 0, 4, 2))]:  # fmt: skip
        x, g = random_values(x_shape, torch.float32), _grid(g_shape, torch.float32)
        for mode in MODES:
            expected = torch.nn.functional.grid_sample(x, g, mode=mode, align_corners=True)
            got = F.grid_sample(from_torch(x), from_torch(g), mode=mode, align_corners=True)
            assert_close(got, expected, kind="accumulation", what=f"{mode} {x_shape} at {g_shape}")
    x, g = random_values((1, 2, 4, 4), torch.float16), _grid((1, 3, 3, 2), torch.float16)
    xt, gt = from_torch(x, requires_grad=True), from_torch(g, requires_grad=True)
    got = F.grid_sample(xt, gt, align_corners=False)
    assert_close(got, torch.nn.functional.grid_sample(x, g, align_corners=False), what="float16")
    got.sum().backward()
    assert xt.grad.dtype == torch.float16 and gt.grad.dtype == torch.float16


def test_grid_sample_nearest_rounds_half_to_even():
    x = random_values((1, 1, 1, 4), torch.float64)
    # align_corners=True: x = -1 + 2 k / 3; pixel 0.5 and 1.5 and 2.5 are ties
    points = torch.tensor([-2 / 3, 0.0, 2 / 3], dtype=torch.float64)
    g = torch.stack([points, torch.zeros(3, dtype=torch.float64)], -1).view(1, 1, 3, 2)
    expected = torch.nn.functional.grid_sample(x, g, mode="nearest", align_corners=True)
    assert_close(F.grid_sample(from_torch(x), from_torch(g), mode="nearest", align_corners=True), expected,
                 what="nearest ties")  # fmt: skip


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_grid_sample_gradcheck(mode):
    x = from_torch(random_values((1, 2, 3, 4), torch.float64), requires_grad=True)
    g = from_torch(_grid((1, 2, 3, 2), torch.float64, spread=1.1), requires_grad=True)
    assert gradcheck(lambda a, b: F.grid_sample(a, b, mode=mode, padding_mode="border", align_corners=False), (x, g))


def test_affine_grid_matches_torch():
    for size, theta_shape in [((2, 3, 4, 5), (2, 2, 3)), ((1, 1, 1, 7), (1, 2, 3)), ((2, 1, 2, 3, 4), (2, 3, 4)),
                              ((1, 2, 3, 1, 2), (1, 3, 4))]:  # fmt: skip
        for align_corners in (False, True):
            for dtype in (torch.float32, torch.float64):
                expected_t, got_t = make_pair(theta_shape, dtype, requires_grad=True)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # align_corners with a unit dim warns, in both
                    expected = torch.nn.functional.affine_grid(expected_t, size, align_corners=align_corners)
                    got = F.affine_grid(got_t, size, align_corners=align_corners)
                what = f"affine_grid {size} align={align_corners} {dtype}"
                assert_close(got, expected, kind="matmul", what=what)
                assert got.grad_fn.name() == "AffineGridGeneratorBackward0"
                grad = random_values(expected.shape, dtype)
                expected.backward(grad)
                got.backward(from_torch(grad))
                assert_close(got_t.grad, expected_t.grad, kind="matmul", what=f"{what} grad")


def test_spatial_transformer_step():
    """The STN tutorial's sampler: affine_grid then grid_sample, trained through theta and the image."""
    x = random_values((2, 1, 6, 6), torch.float64)
    theta = torch.tensor([[1.0, 0.1, 0.05], [-0.1, 0.9, 0.0]], dtype=torch.float64).repeat(2, 1, 1)
    theta_tg = from_torch(theta, requires_grad=True)
    x_tg = from_torch(x, requires_grad=True)
    out = F.grid_sample(x_tg, F.affine_grid(theta_tg, x_tg.size(), align_corners=False), align_corners=False)
    out.square().sum().backward()
    theta_t, x_t = theta.clone().requires_grad_(True), x.clone().requires_grad_(True)
    fn = torch.nn.functional
    fn.grid_sample(
        x_t, fn.affine_grid(theta_t, x_t.size(), align_corners=False), align_corners=False
    ).square().sum().backward()
    assert_close(theta_tg.grad, theta_t.grad, kind="autograd", what="theta grad")
    assert_close(x_tg.grad, x_t.grad, kind="autograd", what="image grad")
    assert gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=False), (theta_tg,))


def test_align_corners_warnings():
    x, g = from_torch(random_values((1, 1, 2, 2), torch.float32)), from_torch(_grid((1, 1, 1, 2), torch.float32))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(x, g)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(from_torch(random_values((1, 2, 3), torch.float32)), (1, 1, 2, 2))
    with pytest.warns(UserWarning, match="unit-size grids"):
        F.affine_grid(from_torch(random_values((1, 2, 3), torch.float32)), (1, 1, 1, 2), align_corners=True)


def test_second_order_through_grid_sample_raises():
    x = from_torch(random_values((1, 1, 3, 3), torch.float64), requires_grad=True)
    g = from_torch(_grid((1, 2, 2, 2), torch.float64), requires_grad=True)
    (grad_g,) = tritongrad.autograd.grad(F.grid_sample(x, g, align_corners=True).sum(), g, create_graph=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        grad_g.sum().backward()


BAD_CALLS = {
    "mode": lambda f, w: f.grid_sample(w(torch.randn(1, 1, 2, 2)), w(torch.rand(1, 1, 1, 2)), mode="area",
                                       align_corners=False),
    "padding": lambda f, w: f.grid_sample(w(torch.randn(1, 1, 2, 2)), w(torch.rand(1, 1, 1, 2)), padding_mode="x",
                                          align_corners=False),
    "batch": lambda f, w: f.grid_sample(w(torch.randn(2, 1, 2, 2)), w(torch.rand(1, 1, 1, 2)), align_corners=False),
    "last dim": lambda f, w: f.grid_sample(w(torch.randn(1, 1, 2, 2)), w(torch.rand(1, 1, 1, 3)), align_corners=False),
    "empty spatial": lambda f, w: f.grid_sample(w(torch.randn(1, 1, 0, 2)), w(torch.rand(1, 1, 1, 2)),
                                                align_corners=False),
    "ranks": lambda f, w: f.grid_sample(w(torch.randn(1, 1, 2, 2)), w(torch.rand(1, 1, 1, 1, 2)), align_corners=False),
    "dtypes": lambda f, w: f.grid_sample(w(torch.randn(1, 1, 2, 2)), w(torch.rand(1, 1, 1, 2).double()),
                                         align_corners=False),
    "not a tensor": lambda f, w: f.grid_sample([1.0], w(torch.rand(1, 1, 1, 2)), align_corners=False),
    "theta dtype": lambda f, w: f.affine_grid(w(torch.ones(1, 2, 3, dtype=torch.int64)), (1, 1, 2, 2),
                                              align_corners=False),
    "theta shape": lambda f, w: f.affine_grid(w(torch.randn(1, 3, 4)), (1, 1, 2, 2), align_corners=False),
    "3-d theta shape": lambda f, w: f.affine_grid(w(torch.randn(1, 2, 3)), (1, 1, 2, 2, 2), align_corners=False),
    "size rank": lambda f, w: f.affine_grid(w(torch.randn(1, 2, 3)), (1, 1, 2), align_corners=False),
    "zero size": lambda f, w: f.affine_grid(w(torch.randn(1, 2, 3)), (1, 1, 0, 2), align_corners=False),
    "theta batch": lambda f, w: f.affine_grid(w(torch.randn(2, 2, 3)), (3, 1, 2, 2), align_corners=False),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_bad_arguments_raise_like_torch(name):
    outcomes = []
    for library, wrap in ((torch.nn.functional, lambda t: t), (F, from_torch)):
        try:
            BAD_CALLS[name](library, wrap)
        except Exception as error:  # noqa: BLE001 (what each library raises is the point)
            outcomes.append((type(error), str(error)))
        else:
            outcomes.append(None)
    theirs, ours = outcomes
    assert theirs is not None and ours is not None, outcomes
    assert ours[0] is theirs[0], outcomes
    assert ours[1] == theirs[1], outcomes
