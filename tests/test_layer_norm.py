"""F.layer_norm/rms_norm/group_norm/instance_norm and their modules against torch.

Each case builds the input in torch, gives tritongrad a private copy with the same strides, runs
both, and compares the output and the gradients of input/weight/bias for a random output
gradient. Rows longer than one block (the streamed, Chan-merged path) are forced through the
launchers' ``block`` argument.
"""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import assert_close, from_torch, to_torch, tolerance
from tritongrad import nn
from tritongrad.autograd import gradcheck
from tritongrad.kernels import layer_norm as kernels


def _layout(x: torch.Tensor, layout: str) -> torch.Tensor:
    """``x``'s values in a non-contiguous layout (same shape)."""
    if layout == "transposed":  # the first two dims swapped in memory
        return x.transpose(0, 1).contiguous().transpose(0, 1)
    if layout == "sliced":  # every other element of a twice-as-long last dim
        wide = torch.empty(*x.shape[:-1], 2 * x.shape[-1], dtype=x.dtype)
        wide[..., ::2] = x
        return wide[..., ::2]
    if layout == "channels_last":  # (N, C, H, W) stored as (N, H, W, C)
        return x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    if layout == "expanded":  # one sample broadcast over the batch (stride 0)
        return x[:1].expand(x.shape)
    return x


def _same_layout(x: torch.Tensor, requires_grad: bool = False) -> tritongrad.Tensor:
    """A tritongrad leaf over a private copy of ``x`` with exactly its strides and offset, views
    with gaps or stride 0 included (``from_torch`` makes those contiguous)."""
    base = x if x._base is None else x._base
    copy = base.detach().clone().as_strided(x.shape, x.stride(), x.storage_offset())
    assert copy.stride() == x.stride()
    leaf = tritongrad.Tensor._wrap(copy)
    return leaf.requires_grad_() if requires_grad else leaf


def _check(mine, theirs, x, params, dtype, what, grad_name=None, grad_atol=None):
    """Runs ``mine(x, *params)`` on tritongrad copies and ``theirs`` on torch leaves; compares the
    output, its grad_fn name and the gradients of x and of every parameter that is not None."""
    t_leaves = [x.detach().clone(memory_format=torch.preserve_format).requires_grad_()]
    t_leaves += [None if p is None else p.clone().requires_grad_() for p in params]
    g_leaves = [_same_layout(x, requires_grad=True)]
    g_leaves += [None if p is None else from_torch(p, requires_grad=True) for p in params]
    expected, got = theirs(*t_leaves), mine(*g_leaves)
    assert_close(got, expected, what=f"{what} forward")
    if grad_name is not None:
        assert type(got.grad_fn).__name__ == grad_name
    grad = torch.randn(expected.shape, dtype=expected.dtype)
    expected.backward(grad)
    got.backward(from_torch(grad))
    rtol, atol = tolerance(dtype, "norm_grad")  # sums over rows (weight) or along rows (input)
    atol = grad_atol or atol
    for index, (g_leaf, t_leaf) in enumerate(zip(g_leaves, t_leaves)):
        if t_leaf is not None:
            assert_close(g_leaf.grad, t_leaf.grad, rtol=rtol, atol=atol, what=f"{what} grad of argument {index}")


LAYER_CASES = [
    ((4, 5), (5,), "contiguous"),
    ((3, 4, 7), (4, 7), "contiguous"),  # two normalized dims
    ((5, 3, 6), (6,), "transposed"),  # rows not evenly spaced
    ((2, 3, 9), (3, 9), "sliced"),  # normalized dims that do not merge
    ((3, 2, 5), (5,), "expanded"),  # rows that share memory
    ((7, 1), (1,), "contiguous"),  # one element per row: xhat = 0 (torch's fp32 gradient is rounding noise)
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape,normalized,layout", LAYER_CASES)
def test_layer_norm(shape, normalized, layout, dtype):
    x = _layout(torch.randn(shape, dtype=dtype) * 2 + 1, layout)
    weight, bias = torch.randn(normalized, dtype=dtype), torch.randn(normalized, dtype=dtype)
    what = f"layer_norm {shape} {normalized} {layout} {dtype}"
    # A one-element row has rstd = 1/sqrt(eps): torch's gradient there is float32 rounding times 316.
    grad_atol = 1e-4 if normalized == (1,) and dtype == torch.float32 else None

    def mine(a, w, b):
        return F.layer_norm(a, normalized, w, b)

    def theirs(a, w, b):
        return torch.nn.functional.layer_norm(a, normalized, w, b)

    _check(mine, theirs, x, [weight, bias], dtype, what, "NativeLayerNormBackward0", grad_atol)
    _check(mine, theirs, x, [None, None], dtype, what + " no affine", grad_atol=grad_atol)
    _check(mine, theirs, x, [weight, None], dtype, what + " no bias", grad_atol=grad_atol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape,normalized,layout", LAYER_CASES[:5])
def test_rms_norm(shape, normalized, layout, dtype):
    x = _layout(torch.randn(shape, dtype=dtype) + 0.5, layout)
    weight = torch.randn(normalized, dtype=dtype)
    for eps in (None, 1e-3):

        def mine(a, w, eps=eps):
            return F.rms_norm(a, normalized, w, eps)

        def theirs(a, w, eps=eps):
            return torch.nn.functional.rms_norm(a, normalized, w, eps)

        _check(mine, theirs, x, [weight], dtype, f"rms_norm {shape} {layout} {dtype} eps={eps}", "MulBackward0")
        _check(mine, theirs, x, [None], dtype, f"rms_norm {shape} {layout} {dtype} eps={eps} no weight")


@pytest.mark.parametrize("rms", [False, True])
def test_rows_longer_than_a_block(rms):
    """A 16-element block on 37- and 100-element rows: statistics merged block by block, and the
    backward's partial weight sums read back and added per row group."""
    for shape in ((9, 37), (3, 100)):
        x = torch.randn(shape, dtype=torch.float64) * 3 + 5
        weight, bias = torch.randn(shape[1], dtype=torch.float64), torch.randn(shape[1], dtype=torch.float64)
        bias = None if rms else bias
        out, mean, rstd, _ = kernels.launch_row_norm_fwd(x, 1, weight, bias, 1e-5, rms=rms, block=16)
        t_x, t_w = x.clone().requires_grad_(), weight.clone().requires_grad_()
        t_b = None if bias is None else bias.clone().requires_grad_()
        if rms:
            expected = torch.nn.functional.rms_norm(t_x, (shape[1],), t_w, 1e-5)
        else:
            expected = torch.nn.functional.layer_norm(t_x, (shape[1],), t_w, t_b, 1e-5)
        assert_close(out, expected, what=f"looped forward {shape} rms={rms}")
        grad = torch.randn(shape, dtype=torch.float64)
        expected.backward(grad)
        grads = kernels.launch_row_norm_bwd(grad, x, 1, weight, mean, rstd, (True, True, not rms), rms=rms, block=16)
        for got, leaf, name in zip(grads, (t_x, t_w, t_b), ("input", "weight", "bias")):
            if leaf is not None:
                assert_close(got, leaf.grad, rtol=1e-10, atol=1e-11, what=f"looped grad_{name} {shape} rms={rms}")


def test_large_mean_layer_norm():
    """mean 1e4, std 1 in float32: E[x^2] - E[x]^2 would lose every digit of the variance."""
    x = torch.randn(8, 300) + 1e4
    expected = torch.nn.functional.layer_norm(x.double(), (300,))
    assert_close(F.layer_norm(from_torch(x), (300,)), expected.float(), rtol=1e-3, atol=2e-3, what="large mean")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_forward(dtype):
    """Half inputs; layer/group norm also with float32 parameters (statistics are float32 anyway)."""
    x = torch.randn(4, 6, 5).to(dtype)
    for param_dtype in (dtype, torch.float32):
        w5, b5 = torch.randn(5).to(param_dtype), torch.randn(5).to(param_dtype)
        w6, b6 = torch.randn(6).to(param_dtype), torch.randn(6).to(param_dtype)
        what = f"{dtype} input, {param_dtype} parameters"
        assert_close(
            F.layer_norm(from_torch(x), (5,), from_torch(w5), from_torch(b5)),
            torch.nn.functional.layer_norm(x, (5,), w5, b5),
            rtol=2e-2,
            atol=2e-2,
            what=f"layer_norm {what}",
        )
        assert_close(
            F.group_norm(from_torch(x), 3, from_torch(w6), from_torch(b6)),
            torch.nn.functional.group_norm(x, 3, w6, b6),
            rtol=2e-2,
            atol=2e-2,
            what=f"group_norm {what}",
        )
    weight = torch.randn(5).to(dtype)
    assert_close(
        F.rms_norm(from_torch(x), (5,), from_torch(weight)),
        torch.nn.functional.rms_norm(x, (5,), weight),
        rtol=2e-2,
        atol=2e-2,
        what=f"rms_norm {dtype}",
    )
    y = F.rms_norm(from_torch(x, requires_grad=True), (5,))
    assert type(y.grad_fn).__name__ == type(torch.nn.functional.rms_norm(x.requires_grad_(), (5,)).grad_fn).__name__


GROUP_CASES = [
    ((4, 6, 5), 2, "contiguous"),
    ((3, 6, 5), 6, "transposed"),  # one channel per group
    ((2, 4, 3, 5), 1, "channels_last"),  # one group
    ((5, 3), 1, "contiguous"),  # no spatial dims
    ((2, 6, 7), 3, "sliced"),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape,groups,layout", GROUP_CASES)
def test_group_norm(shape, groups, layout, dtype):
    C = shape[1]
    x = _layout(torch.randn(shape, dtype=dtype) * 2 - 1, layout)
    weight, bias = torch.randn(C, dtype=dtype), torch.randn(C, dtype=dtype)

    def mine(a, w, b):
        return F.group_norm(a, groups, w, b)

    def theirs(a, w, b):
        return torch.nn.functional.group_norm(a, groups, w, b)

    what = f"group_norm {shape} groups={groups} {layout} {dtype}"
    _check(mine, theirs, x, [weight, bias], dtype, what, "NativeGroupNormBackward0")
    _check(mine, theirs, x, [None, None], dtype, what + " no affine")


@pytest.mark.parametrize("shape,layout", [((3, 4, 5), "contiguous"), ((2, 3, 4, 3), "channels_last")])
def test_instance_norm_functional(shape, layout):
    C = shape[1]
    x = _layout(torch.randn(shape, dtype=torch.float64), layout)
    weight, bias = torch.randn(C, dtype=torch.float64), torch.randn(C, dtype=torch.float64)

    def mine(a, w, b):
        return F.instance_norm(a, weight=w, bias=b)

    def theirs(a, w, b):
        return torch.nn.functional.instance_norm(a, weight=w, bias=b)

    _check(mine, theirs, x, [weight, bias], torch.float64, f"instance_norm {shape} {layout}", "ViewBackward0")
    # Eval with running statistics: normalized by them, like batch norm in eval mode.
    rm, rv = torch.randn(C, dtype=torch.float64), torch.rand(C, dtype=torch.float64) + 0.5

    def mine_eval(a, w, b):
        return F.instance_norm(a, from_torch(rm), from_torch(rv), w, b, use_input_stats=False)

    def theirs_eval(a, w, b):
        return torch.nn.functional.instance_norm(a, rm, rv, w, b, use_input_stats=False)

    _check(mine_eval, theirs_eval, x, [weight, bias], torch.float64, f"instance_norm eval {shape}")


@pytest.mark.parametrize("module,shape", [("InstanceNorm1d", (4, 3, 6)), ("InstanceNorm2d", (2, 3, 4, 5))])
def test_instance_norm_module_running_stats(module, shape):
    mine = getattr(nn, module)(3, affine=True, track_running_stats=True)
    theirs = getattr(torch.nn, module)(3, affine=True, track_running_stats=True)
    assert repr(mine) == repr(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    for step in range(3):
        x = torch.randn(shape) * 2 + step
        assert_close(mine(from_torch(x)), theirs(x), what=f"{module} step {step}")
    for name in ("running_mean", "running_var"):
        assert_close(getattr(mine, name), getattr(theirs, name), what=f"{module} {name} after 3 steps")
    mine.eval()
    theirs.eval()
    x = torch.randn(shape)
    assert_close(mine(from_torch(x)), theirs(x), what=f"{module} eval")
    unbatched = torch.randn(shape[1:])
    assert_close(mine(from_torch(unbatched)), theirs(unbatched), what=f"{module} unbatched")


def test_gradcheck_float64():
    def leaf(*shape):
        return from_torch(torch.randn(*shape, dtype=torch.float64), requires_grad=True)

    x, w, b = leaf(2, 2, 3), leaf(3), leaf(3)
    assert gradcheck(lambda a, w_, b_: F.layer_norm(a, (3,), w_, b_), (x, w, b))
    assert gradcheck(lambda a, w_: F.rms_norm(a, (3,), w_), (x, w))
    x, w, b = leaf(2, 4, 2), leaf(4), leaf(4)
    assert gradcheck(lambda a, w_, b_: F.group_norm(a, 2, w_, b_), (x, w, b))
    assert gradcheck(lambda a, w_, b_: F.instance_norm(a, weight=w_, bias=b_), (x, w, b))


def test_modules_match_torch():
    pairs = [
        (nn.LayerNorm(5), torch.nn.LayerNorm(5)),
        (nn.LayerNorm((3, 5), elementwise_affine=False), torch.nn.LayerNorm((3, 5), elementwise_affine=False)),
        (nn.LayerNorm([5], bias=False, eps=1e-3), torch.nn.LayerNorm([5], bias=False, eps=1e-3)),
        (nn.RMSNorm(5), torch.nn.RMSNorm(5)),
        (
            nn.RMSNorm((3, 5), eps=1e-4, elementwise_affine=False),
            torch.nn.RMSNorm((3, 5), eps=1e-4, elementwise_affine=False),
        ),  # fmt: skip
        (nn.GroupNorm(1, 3), torch.nn.GroupNorm(1, 3)),
        (nn.GroupNorm(3, 3, affine=False), torch.nn.GroupNorm(3, 3, affine=False)),
        (nn.InstanceNorm1d(3), torch.nn.InstanceNorm1d(3)),
        (nn.InstanceNorm2d(3, affine=True), torch.nn.InstanceNorm2d(3, affine=True)),
    ]
    x = torch.randn(2, 3, 5)
    for mine, theirs in pairs:
        assert repr(mine) == repr(theirs)
        assert list(mine.state_dict()) == list(theirs.state_dict())
        for name, param in theirs.named_parameters():
            assert_close(getattr(mine, name), param.detach(), what=f"{theirs!r} initial {name}")
        if isinstance(theirs, torch.nn.InstanceNorm2d):
            continue
        assert_close(mine(from_torch(x)), theirs(x), what=f"{theirs!r} forward")


def test_errors_like_torch():
    x = from_torch(torch.randn(4, 6, 5))
    cases = [
        (
            RuntimeError,
            r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\]",
            lambda: F.layer_norm(x, (4,)),
        ),
        (
            RuntimeError,
            "Expected weight to be of same shape as normalized_shape",
            lambda: F.layer_norm(x, (6, 5), from_torch(torch.ones(5))),
        ),
        (TypeError, "must be tuple of ints, not int", lambda: F.layer_norm(x, 5)),
        (RuntimeError, "at least 1-dimensional", lambda: F.layer_norm(x, ())),
        (
            NotImplementedError,
            "not implemented for 'Int'",
            lambda: F.layer_norm(from_torch(torch.ones(2, 3, dtype=torch.int32)), (3,)),
        ),
        (RuntimeError, "mixed dtype", lambda: F.layer_norm(x, (5,), from_torch(torch.ones(5, dtype=torch.float64)))),
        (RuntimeError, r"expected input with shape \[\*4\]", lambda: F.rms_norm(x, (4,))),
        (RuntimeError, "divisible by num_groups", lambda: F.group_norm(x, 4)),
        (
            RuntimeError,
            "Expected weight to be a vector of size equal to the number of channels",
            lambda: F.group_norm(x, 3, from_torch(torch.ones(5))),
        ),
        (RuntimeError, "Expected at least 2 dimensions", lambda: F.group_norm(from_torch(torch.randn(4)), 2)),
        (
            ValueError,
            "Expected more than 1 value per channel",
            lambda: F.group_norm(from_torch(torch.randn(1, 3, 1)), 3),
        ),
        (
            ValueError,
            "Expected more than 1 spatial element when training",
            lambda: F.instance_norm(from_torch(torch.randn(4, 6, 1))),
        ),
        (
            RuntimeError,
            "Expected running_mean and running_var to be defined",
            lambda: F.instance_norm(x, use_input_stats=False),
        ),
        (
            RuntimeError,
            "weight should contain 24 elements not 20",
            lambda: F.instance_norm(x, weight=from_torch(torch.ones(5))),
        ),
        (ValueError, r"num_channels \(4\) must be divisible by num_groups \(3\)", lambda: nn.GroupNorm(3, 4)),
        (
            ValueError,
            r"expected 2D or 3D input \(got 4D input\)",
            lambda: nn.InstanceNorm1d(6)(from_torch(torch.randn(2, 6, 5, 5))),
        ),
        (ValueError, "to match num_features", lambda: nn.InstanceNorm1d(4, affine=True)(x)),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()


def test_double_backward_matches_torch():
    # create_graph=True composes the backward of recorded ops (the cases: test_double_backward_norms.py)
    values = torch.randn(3, 4, dtype=torch.float64)
    expected, got = values.clone().requires_grad_(True), from_torch(values, requires_grad=True)
    (first_expected,) = torch.autograd.grad((torch.nn.functional.layer_norm(expected, (4,)) ** 3).sum(), expected,
                                            create_graph=True)  # fmt: skip
    (first_got,) = tritongrad.autograd.grad((F.layer_norm(got, (4,)) ** 3).sum(), got, create_graph=True)
    assert_close(first_got, first_expected, what="layer_norm first gradient")
    (second_expected,) = torch.autograd.grad(first_expected.sin().sum(), expected)
    (second_got,) = tritongrad.autograd.grad(first_got.sin().sum(), got)
    assert_close(second_got, second_expected, what="layer_norm second gradient")


def test_empty_inputs():
    for shape, normalized in (((0, 4), (4,)), ((3, 0), (0,))):
        x = from_torch(torch.randn(shape), requires_grad=True)
        w = from_torch(torch.randn(normalized), requires_grad=True)
        y = F.layer_norm(x, normalized, w)
        assert tuple(y.shape) == shape
        y.sum().backward()
        assert_close(w.grad, torch.zeros(normalized), what=f"empty grad_weight {shape}")
    assert tuple(to_torch(F.group_norm(from_torch(torch.randn(0, 4, 3)), 2)).shape) == (0, 4, 3)
