"""Double backward (create_graph=True) through the norms, embedding and attention, and as_strided's
gradient, against torch.

Each case: the first gradients of a nonlinear loss (tanh of the output, times fixed weights) with
create_graph=True, then the gradients of a weighted sum of those first gradients w.r.t. the input
and the parameters, both from torch.autograd.grad and tritongrad.autograd.grad in float64;
gradgradcheck on tiny shapes; a WGAN-GP penalty step through a small critic; as_strided views
(overlapping ones and storage offsets reaching outside the input) with their gradients.
"""

from __future__ import annotations

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

import tritongrad
import tritongrad.nn.functional as F
from benchmarks.common import count_tritongrad_launches
from tests.utils import assert_close, from_torch
from tritongrad import nn
from tritongrad.autograd import gradcheck, gradgradcheck
from tritongrad.ops.normalization import sync_batch_norm

DOUBLE = torch.float64


def _leaves(shapes, dtype=DOUBLE, layout=None):
    """Fresh random torch leaves (values in [-2, 2), never zeros) and their tritongrad copies."""
    expected, got = [], []
    for index, shape in enumerate(shapes):
        base = 4 * torch.rand(shape, dtype=DOUBLE) - 2
        if layout is not None and index == 0:
            base = layout(base)
        base = base.to(dtype)
        expected.append(base.detach().requires_grad_(True))
        got.append(from_torch(base, requires_grad=True))
    return expected, got


def _compare_double_backward(what, torch_fn, ours_fn, expected, got, *, tolerances=None):
    """First gradients (create_graph=True), then the gradients of a weighted sum of them, vs torch."""
    out_torch, out_ours = torch_fn(*expected), ours_fn(*got)
    assert_close(out_ours, out_torch, what=f"{what}: forward", tolerances=tolerances)
    weights = torch.randn(out_torch.shape, dtype=DOUBLE).to(out_torch.dtype)
    first_torch = torch.autograd.grad((out_torch.tanh() * weights).sum(), expected, create_graph=True)
    first_ours = tritongrad.autograd.grad((out_ours.tanh() * from_torch(weights)).sum(), got, create_graph=True)
    for index, (mine, theirs) in enumerate(zip(first_ours, first_torch)):
        assert_close(mine, theirs, what=f"{what}: first gradient of input {index}", tolerances=tolerances)
        assert mine.requires_grad == theirs.requires_grad, f"{what}: first gradient {index} is not recorded"
    if not any(g.requires_grad for g in first_torch):  # (an empty view: nothing recorded on either side)
        return
    projections = [torch.randn(g.shape, dtype=DOUBLE).to(g.dtype) for g in first_torch]
    total_torch = sum((g * p).sum() for g, p in zip(first_torch, projections) if g.requires_grad)
    total_ours = sum((g * from_torch(p)).sum() for g, p in zip(first_ours, projections) if g.requires_grad)
    second_torch = torch.autograd.grad(total_torch, expected, allow_unused=True)
    second_ours = tritongrad.autograd.grad(total_ours, got, allow_unused=True)
    for index, (mine, theirs, leaf) in enumerate(zip(second_ours, second_torch, expected)):
        theirs = torch.zeros_like(leaf) if theirs is None else theirs
        mine = torch.zeros_like(leaf) if mine is None else mine
        assert_close(mine, theirs, what=f"{what}: second gradient of input {index}", tolerances=tolerances)


# ---------------------------------------------------------------------------------------------- norms

_RUNNING_MEAN = torch.randn(3, dtype=DOUBLE)
_RUNNING_VAR = torch.rand(3, dtype=DOUBLE) + 0.5


def _running(lib_tensor):
    """Fresh running statistics (training updates them in place)."""
    return lib_tensor(_RUNNING_MEAN.clone()), lib_tensor(_RUNNING_VAR.clone())


NORM_CASES = {
    # (shapes of input and parameters, torch's call, ours): the input shape is first
    "layer_norm affine": (
        [(4, 5), (5,), (5,)],
        lambda x, w, b: torch.nn.functional.layer_norm(x, (5,), w, b),
        lambda x, w, b: F.layer_norm(x, (5,), w, b),
    ),
    "layer_norm two dims, no affine": (
        [(3, 2, 7)],
        lambda x: torch.nn.functional.layer_norm(x, (2, 7)),
        lambda x: F.layer_norm(x, (2, 7)),
    ),
    "rms_norm weight": (
        [(3, 2, 5), (2, 5)],
        lambda x, w: torch.nn.functional.rms_norm(x, (2, 5), w, eps=1e-6),
        lambda x, w: F.rms_norm(x, (2, 5), w, eps=1e-6),
    ),
    "rms_norm no weight": (
        [(4, 7)],
        lambda x: torch.nn.functional.rms_norm(x, (7,)),
        lambda x: F.rms_norm(x, (7,)),
    ),
    "batch_norm training affine, running stats": (
        [(4, 3, 5), (3,), (3,)],
        lambda x, w, b: torch.nn.functional.batch_norm(x, *_running(lambda t: t), w, b, training=True),
        lambda x, w, b: F.batch_norm(x, *_running(from_torch), w, b, training=True),
    ),
    "batch_norm training, no affine, no running stats": (
        [(5, 3)],
        lambda x: torch.nn.functional.batch_norm(x, None, None, training=True),
        lambda x: F.batch_norm(x, None, None, training=True),
    ),
    "batch_norm eval affine": (
        [(4, 3, 2, 2), (3,), (3,)],
        lambda x, w, b: torch.nn.functional.batch_norm(x, *_running(lambda t: t), w, b, training=False),
        lambda x, w, b: F.batch_norm(x, *_running(from_torch), w, b, training=False),
    ),
    "batch_norm eval, no affine": (
        [(4, 3)],
        lambda x: torch.nn.functional.batch_norm(x, *_running(lambda t: t), training=False),
        lambda x: F.batch_norm(x, *_running(from_torch), training=False),
    ),
    "group_norm affine": (
        [(2, 6, 5), (6,), (6,)],
        lambda x, w, b: torch.nn.functional.group_norm(x, 3, w, b),
        lambda x, w, b: F.group_norm(x, 3, w, b),
    ),
    "group_norm one group, no affine": (
        [(3, 4, 2, 2)],
        lambda x: torch.nn.functional.group_norm(x, 1),
        lambda x: F.group_norm(x, 1),
    ),
    "instance_norm affine, running stats": (
        [(2, 3, 5), (3,), (3,)],
        lambda x, w, b: torch.nn.functional.instance_norm(x, *_running(lambda t: t), w, b),
        lambda x, w, b: F.instance_norm(x, *_running(from_torch), w, b),
    ),
    "instance_norm eval (use_input_stats=False)": (
        [(2, 3, 4), (3,), (3,)],
        lambda x, w, b: torch.nn.functional.instance_norm(x, *_running(lambda t: t), w, b, use_input_stats=False),
        lambda x, w, b: F.instance_norm(x, *_running(from_torch), w, b, use_input_stats=False),
    ),
}


@pytest.mark.parametrize("case", NORM_CASES)
def test_norm_double_backward_matches_torch(case):
    shapes, torch_fn, ours_fn = NORM_CASES[case]
    expected, got = _leaves(shapes)
    _compare_double_backward(case, torch_fn, ours_fn, expected, got)


def test_norm_double_backward_of_a_non_contiguous_input():
    # transposed input: the composed backward reads it through its strides
    expected, got = _leaves([(5, 4), (5,), (5,)], layout=lambda t: t.transpose(0, 1))
    assert not got[0].is_contiguous()
    _compare_double_backward(
        "layer_norm of a transposed input",
        lambda x, w, b: torch.nn.functional.layer_norm(x, (5,), w, b),
        lambda x, w, b: F.layer_norm(x, (5,), w, b),
        expected,
        got,
    )


def test_norm_double_backward_in_lower_precision():
    # float32 as it is; bfloat16 computed in float32 and cast back, as torch's CPU kernels do
    expected, got = _leaves([(4, 3), (3,), (3,)], dtype=torch.float32)
    _compare_double_backward(
        "batch_norm float32",
        lambda x, w, b: torch.nn.functional.batch_norm(x, None, None, w, b, training=True),
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        expected,
        got,
        tolerances=(1e-4, 1e-5),
    )
    expected, got = _leaves([(4, 6), (6,), (6,)], dtype=torch.bfloat16)
    _compare_double_backward(
        "layer_norm bfloat16",
        lambda x, w, b: torch.nn.functional.layer_norm(x, (6,), w, b),
        lambda x, w, b: F.layer_norm(x, (6,), w, b),
        expected,
        got,
        tolerances=(5e-2, 5e-2),
    )


GRADGRAD_CASES = {
    "layer_norm": ([(2, 3), (3,), (3,)], lambda x, w, b: F.layer_norm(x, (3,), w, b)),
    "rms_norm": ([(2, 3), (3,)], lambda x, w: F.rms_norm(x, (3,), w)),
    "batch_norm training": ([(3, 2), (2,), (2,)], lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)),
    "group_norm": ([(1, 4, 2), (4,), (4,)], lambda x, w, b: F.group_norm(x, 2, w, b)),
}


@pytest.mark.parametrize("case", GRADGRAD_CASES)
def test_norm_gradgradcheck(case):
    shapes, fn = GRADGRAD_CASES[case]
    _, got = _leaves(shapes)
    assert gradgradcheck(fn, tuple(got), fast_mode=True)


def test_sync_batch_norm_still_refuses_double_backward():
    x = from_torch(torch.randn(4, 3, dtype=DOUBLE), requires_grad=True)
    y = sync_batch_norm(x, None, None, None, None, 0.1, 1e-5, rank=0, world_size=1, all_reduce=lambda t: t)
    with pytest.raises(RuntimeError, match="sync_batch_norm: double backward"):
        tritongrad.autograd.grad((y * y).sum(), x, create_graph=True)


def test_first_order_backward_keeps_the_fused_kernels():
    # the plain backward launches the fused kernels only; the composed path is for create_graph
    expected, got = _leaves([(4, 6), (6,), (6,)])
    out = F.layer_norm(*got[:1], (6,), *got[1:])
    seed = tritongrad.ones_like(out)
    plain = count_tritongrad_launches(lambda: tritongrad.autograd.grad(out, got, seed, retain_graph=True))
    composed = count_tritongrad_launches(
        lambda: tritongrad.autograd.grad(out, got, seed, retain_graph=True, create_graph=True)
    )
    assert sum(plain.values()) <= 3, f"plain layer_norm backward launched {dict(plain)}"
    assert sum(composed.values()) > sum(plain.values()), f"create_graph backward launched {dict(composed)}"


# ------------------------------------------------------------------------------------------ embedding


@pytest.mark.parametrize(
    "index,padding_idx",
    [([[1, 2, 1], [4, 0, 1]], None), ([[1, 2, 1], [4, 2, 1]], 2), ([3, 3, 3, 0], -2), ([[0]], 0)],
    ids=["repeats", "padding", "negative padding", "one index"],
)
def test_embedding_double_backward_matches_torch(index, padding_idx):
    indices = torch.tensor(index)
    expected, got = _leaves([(5, 3)])
    _compare_double_backward(
        f"embedding {index} padding_idx={padding_idx}",
        lambda w: torch.nn.functional.embedding(indices, w, padding_idx=padding_idx),
        lambda w: F.embedding(from_torch(indices), w, padding_idx=padding_idx),
        expected,
        got,
    )
    loss = (F.embedding(from_torch(indices), got[0]) ** 2).sum()
    first = tritongrad.autograd.grad(loss, got, create_graph=True)[0]
    assert type(first.grad_fn).__name__ == "EmbeddingDenseBackwardBackward0"


@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
def test_embedding_gradient_is_differentiable_in_its_incoming_gradient(scale_grad_by_freq):
    # The weight gradient as a function of the output gradient u: its derivative (the adjoint
    # gather) is checked numerically. With scale_grad_by_freq this is where tritongrad differs
    # from torch on purpose (torch's double backward leaves out the 1 / count).
    indices = from_torch(torch.tensor([[1, 2, 1], [4, 2, 1]]))
    weight = from_torch(torch.randn(5, 3, dtype=DOUBLE), requires_grad=True)
    incoming = from_torch(torch.randn(2, 3, 3, dtype=DOUBLE), requires_grad=True)

    def weight_gradient(u):
        with tritongrad.enable_grad():
            out = F.embedding(indices, weight, padding_idx=2, scale_grad_by_freq=scale_grad_by_freq)
            return tritongrad.autograd.grad(out, weight, grad_outputs=u, create_graph=True)[0]

    assert gradcheck(weight_gradient, (incoming,), fast_mode=True)
    assert gradgradcheck(weight_gradient, (incoming,), fast_mode=True)


def test_embedding_gradgradcheck():
    indices = from_torch(torch.tensor([[1, 2], [1, 0]]))
    _, (weight,) = _leaves([(3, 2)])
    assert gradgradcheck(lambda w: F.embedding(indices, w, padding_idx=0).sin(), (weight,), fast_mode=True)


# ------------------------------------------------------------------------------------------ attention

ATTENTION_CASES = {
    # (query, key, value shapes, options)
    "4-D, E == Ev, scale": ([(1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)], {"scale": 0.3}),
    "causal, 3-D": ([(2, 3, 4), (2, 5, 4), (2, 5, 3)], {"is_causal": True}),
    "broadcast batch, 2-D query": ([(3, 4), (2, 1, 5, 4), (1, 2, 5, 4)], {}),
    "grouped query heads": ([(1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3)], {"enable_gqa": True}),
    "float mask": ([(1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3)], {"attn_mask": "float"}),
    "bool mask, a row fully masked": ([(1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3)], {"attn_mask": "bool"}),
}


def _mask(kind: str) -> torch.Tensor:
    if kind == "float":
        return torch.randn(3, 5, dtype=DOUBLE)
    mask = torch.rand(3, 5) > 0.4
    mask[0, 0] = True
    mask[1] = False  # no visible key: zeros forward and no gradient, as torch's CPU kernel
    return mask


@pytest.mark.parametrize("case", ATTENTION_CASES)
def test_attention_double_backward_matches_torch(case):
    shapes, options = ATTENTION_CASES[case]
    options = dict(options)
    ours_options = dict(options)
    if "attn_mask" in options:
        options["attn_mask"] = _mask(options["attn_mask"])
        ours_options["attn_mask"] = from_torch(options["attn_mask"])
    expected, got = _leaves(shapes)

    def reference(q, k, v):
        # torch's math backend: its fused CPU kernel's backward has no derivative of its own
        with sdpa_kernel(SDPBackend.MATH):
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, **options)

    _compare_double_backward(
        f"scaled_dot_product_attention {case}",
        reference,
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **ours_options),
        expected,
        got,
    )


def test_attention_gradgradcheck():
    _, got = _leaves([(1, 2, 3), (1, 3, 3), (1, 3, 2)])
    attention = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)  # noqa: E731
    assert gradgradcheck(attention, tuple(got), fast_mode=True)


def test_attention_double_backward_with_dropout_refuses():
    _, (q, k, v) = _leaves([(1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)])
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    with pytest.raises(RuntimeError, match=r"create_graph=True\) with dropout_p > 0"):
        tritongrad.autograd.grad(out.sum(), [q], create_graph=True)


# ------------------------------------------------------------------------------------- WGAN-GP step


def test_wgan_gp_penalty_step_matches_torch():
    """One critic step with a gradient penalty: Linear -> LayerNorm -> LeakyReLU -> Linear, Adam."""
    torch.manual_seed(0)
    reference = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.LayerNorm(8), torch.nn.LeakyReLU(0.2), torch.nn.Linear(8, 1)
    ).double()
    with torch.no_grad():  # non-trivial affine parameters of the norm
        reference[1].weight.uniform_(0.5, 1.5)
        reference[1].bias.uniform_(-0.5, 0.5)
    critic = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.LeakyReLU(0.2), nn.Linear(8, 1)).double()
    critic.load_state_dict({name: from_torch(value) for name, value in reference.state_dict().items()})
    real, fake = torch.randn(6, 4, dtype=DOUBLE), torch.randn(6, 4, dtype=DOUBLE)
    mix = torch.rand(6, 1, dtype=DOUBLE)
    theirs = torch.optim.Adam(reference.parameters(), lr=1e-2)
    ours = tritongrad.optim.Adam(critic.parameters(), lr=1e-2)

    def step(lib, net, optimizer, to_lib):
        optimizer.zero_grad()
        between = to_lib(mix * real + (1 - mix) * fake).requires_grad_(True)
        (grad,) = lib.autograd.grad(net(between).sum(), between, create_graph=True)
        penalty = ((grad.norm(2, dim=1) - 1) ** 2).mean()
        loss = net(to_lib(fake)).mean() - net(to_lib(real)).mean() + 10 * penalty
        loss.backward()
        optimizer.step()
        return loss, penalty

    loss_torch, penalty_torch = step(torch, reference, theirs, lambda t: t)
    loss_ours, penalty_ours = step(tritongrad, critic, ours, from_torch)
    assert_close(penalty_ours, penalty_torch.detach(), what="gradient penalty")
    assert_close(loss_ours, loss_torch.detach(), what="critic loss")
    for (name, mine), theirs_param in zip(critic.named_parameters(), reference.parameters()):
        assert_close(mine.grad, theirs_param.grad, what=f"{name}.grad after the penalty step")
        assert_close(mine, theirs_param.detach(), what=f"{name} after one Adam step")


# ----------------------------------------------------------------------------------------- as_strided

AS_STRIDED_CASES = [
    ((3, 2), (1, 1), 2),  # overlapping: element (i, j) reads i + j
    ((3, 2), (1, 1), None),  # the input's own storage offset
    ((2, 2), (1, 2), 3),  # transposed, inside the input
    ((4,), (0,), 5),  # every element the same position
    ((2, 3), (3, 1), 0),  # starts before the input's first element (offset 0 of the storage)
    ((2, 2, 2), (1, 2, 1), 4),  # three dims, overlapping
    ((5,), (2,), 3),  # reaches past the input's last element
    ((), (), 6),  # 0-d
    ((0, 3), (1, 1), 2),  # empty
]


@pytest.mark.parametrize("size,stride,offset", AS_STRIDED_CASES)
def test_as_strided_values_and_gradients_match_torch(size, stride, offset):
    # The input is a slice (storage offset 2) of a larger storage: a view may read positions
    # before or after it, whose gradients torch drops; the leaf is the whole storage.
    storage_torch, (storage_ours,) = _leaves([(12,)])
    storage_torch = storage_torch[0]
    what = f"as_strided{size, stride, offset}"
    view_torch = storage_torch[2:].view(2, 5).as_strided(size, stride, offset)
    view_ours = storage_ours[2:].view(2, 5).as_strided(size, stride, offset)
    assert_close(view_ours, view_torch, what=what)
    assert type(view_ours.grad_fn).__name__ == "AsStridedBackward0"
    _compare_double_backward(
        what,
        lambda s: s[2:].view(2, 5).as_strided(size, stride, offset).sin(),
        lambda s: s[2:].view(2, 5).as_strided(size, stride, offset).sin(),
        [storage_torch],
        [storage_ours],
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_as_strided_gradient_in_lower_precision(dtype):
    # the overlapping sums accumulate in float32 (bfloat16 rounds once, at the end)
    values = torch.randn(8, dtype=dtype)
    expected, got = values.clone().requires_grad_(True), from_torch(values, requires_grad=True)
    upstream = torch.randn(4, 3, dtype=dtype)
    expected.as_strided((4, 3), (1, 1), 1).backward(upstream)
    got.as_strided((4, 3), (1, 1), 1).backward(from_torch(upstream))
    assert_close(got.grad, expected.grad, what=f"as_strided gradient {dtype}")


@pytest.mark.parametrize("size,stride,offset", [((3, 2), (1, 1), 1), ((2, 2), (2, 1), 0), ((3,), (0,), 2)])
def test_as_strided_gradcheck(size, stride, offset):
    _, (x,) = _leaves([(6,)])
    assert gradcheck(lambda t: t.as_strided(size, stride, offset), (x,))
    assert gradgradcheck(lambda t: t.as_strided(size, stride, offset).sin(), (x,), fast_mode=True)


def test_as_strided_of_a_non_contiguous_input_twice_differentiable():
    """Sizes and strides index the storage (a transposed input's too), as torch's as_strided."""
    x = from_torch(torch.randn(4, 3, dtype=DOUBLE), requires_grad=True)
    assert gradgradcheck(lambda t: t.t().as_strided((2, 2), (1, 3), 1).sin(), (x,), fast_mode=True)
