"""F.scaled_dot_product_attention (kernels/attention.py) against torch's on the CPU.

The oracle is torch's scaled_dot_product_attention in float64 on the same (rounded) values,
forward and the gradients of query, key and value. Sequence lengths 1, 7, 33 and 70 cover a
single row, a prime, and more than one 64-row interpreter block; head dims 16, 24 (padded to 32
and masked) and 64. Dropout is checked against a composition that uses the kernel's own mask.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as torch_F
from torch.nn.attention import SDPBackend, sdpa_kernel

import tritongrad
import tritongrad.nn.functional as F
from tests.utils import DEVICE, assert_close, from_torch, to_torch
from tritongrad.autograd import gradcheck
from tritongrad.kernels import attention as attention_kernels

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# (rtol, atol) for results of order 1 computed from fp32 inputs: sums over up to 70 keys.
FP32 = (1e-5, 2e-5)
HALF = {torch.float16: (1e-2, 5e-3), torch.bfloat16: (3e-2, 3e-2)}


def reference(q, k, v, grad_out=None, **options):
    """torch's attention and (with grad_out) its q/k/v gradients, computed in float64."""
    inputs = [t.detach().double().requires_grad_() for t in (q, k, v)]
    mask = options.pop("attn_mask", None)
    if mask is not None and mask.dtype != torch.bool:
        mask = mask.double()
    out = torch_F.scaled_dot_product_attention(*inputs, attn_mask=mask, **options)
    if grad_out is None:
        return out, None
    out.backward(grad_out.double())
    return out, [t.grad for t in inputs]


def run(q, k, v, grad_out, **options):
    """tritongrad's attention and its q/k/v gradients."""
    inputs = [from_torch(t, requires_grad=True) for t in (q, k, v)]
    mask = options.pop("attn_mask", None)
    out = F.scaled_dot_product_attention(*inputs, attn_mask=None if mask is None else from_torch(mask), **options)
    out.backward(from_torch(grad_out))
    return out, [t.grad for t in inputs]


def check(q, k, v, tolerance=FP32, what="", **options):
    grad_out = torch.randn(*q.shape[:-1], v.shape[-1], dtype=q.dtype)
    want, want_grads = reference(q, k, v, grad_out, **dict(options))
    got, got_grads = run(q, k, v, grad_out, **options)
    rtol, atol = tolerance
    context = f"{what} q {tuple(q.shape)} k {tuple(k.shape)} v {tuple(v.shape)} {q.dtype}"
    assert_close(got, want.to(q.dtype), rtol=rtol, atol=atol, what=f"{context} output")
    for name, g, w in zip("qkv", got_grads, want_grads):
        assert_close(g, w.to(q.dtype), rtol=rtol, atol=atol, what=f"{context} grad {name}")


def qkv(B, H, L, S, E, Ev=None, dtype=torch.float32):
    return (
        torch.randn(B, H, L, E, dtype=dtype),
        torch.randn(B, H, S, E, dtype=dtype),
        torch.randn(B, H, S, Ev or E, dtype=dtype),
    )


# (L, S, E): one query row; a prime; more than one 64-row block on both sides; L != S both ways.
SHAPES = [(1, 7, 16), (7, 33, 24), (33, 70, 64), (70, 7, 16), (70, 70, 24), (33, 1, 64)]


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("L,S,E", SHAPES)
def test_forward_and_gradients(L, S, E, causal):
    check(*qkv(2, 2, L, S, E), is_causal=causal)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_value_head_dim_differs_and_scale(dtype):
    tolerance = FP32 if dtype == torch.float32 else (1e-10, 1e-12)
    check(*qkv(1, 3, 33, 70, 16, Ev=24, dtype=dtype), tolerance, scale=0.3)
    check(*qkv(1, 2, 7, 7, 64, Ev=16, dtype=dtype), tolerance, is_causal=True, scale=1.7)


# Masks broadcast from (1, S), (L, S), (B, 1, 1, S) (a padding mask), (1, H, L, S).
MASK_SHAPES = [(1, 70), (33, 70), (2, 1, 1, 70), (1, 3, 33, 70)]


@pytest.mark.parametrize("mask_shape", MASK_SHAPES, ids=str)
def test_bool_mask(mask_shape):
    mask = torch.rand(mask_shape) > 0.3
    check(*qkv(2, 3, 33, 70, 16), attn_mask=mask)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("mask_shape", MASK_SHAPES[1:3], ids=str)
def test_additive_mask(mask_shape, dtype):
    mask = torch.randn(mask_shape, dtype=dtype)
    tolerance = FP32 if dtype == torch.float32 else (1e-10, 1e-12)
    check(*qkv(2, 3, 33, 70, 24, dtype=dtype), tolerance, attn_mask=mask)


def test_float32_mask_on_float64_inputs():
    check(*qkv(1, 2, 7, 33, 16, dtype=torch.float64), (1e-10, 1e-12), attn_mask=torch.randn(7, 33))


@pytest.mark.parametrize("kind", ["bool", "additive"])
def test_fully_masked_rows_give_zeros(kind):
    """torch 2.13 on the CPU returns 0 (and zero gradients) for a row whose keys are all masked."""
    if kind == "bool":
        mask = torch.rand(7, 33) > 0.5
        mask[2] = False
    else:
        mask = torch.randn(7, 33)
        mask[2] = -math.inf
    q, k, v = qkv(1, 2, 7, 33, 16)
    check(q, k, v, attn_mask=mask)
    out = F.scaled_dot_product_attention(from_torch(q), from_torch(k), from_torch(v), attn_mask=from_torch(mask))
    assert bool((to_torch(out)[:, :, 2] == 0).all())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_half_types(dtype, causal):
    """fp16/bf16 inputs: fp32 softmax and accumulation; the probabilities are rounded to the input
    type for the P @ V product on a GPU, hence the loose tolerance."""
    check(*qkv(1, 2, 33, 70, 64, dtype=dtype), HALF[dtype], is_causal=causal)


def test_non_contiguous_inputs():
    """q, k, v as transposed views of (B, L, H, E) buffers (the layout of a fused projection)."""
    q = torch.randn(2, 33, 3, 24).transpose(1, 2)
    k = torch.randn(2, 70, 3, 24).transpose(1, 2)
    v = torch.randn(2, 3, 24, 70).transpose(-1, -2)  # head dim strided too
    check(q, k, v, is_causal=True)
    check(q, k, v, attn_mask=torch.rand(33, 70).transpose(0, 1).t() > 0.5)


@pytest.mark.parametrize(
    "q_shape,k_shape",
    [
        ((7, 16), (33, 16)),
        ((3, 7, 16), (3, 33, 16)),
        ((2, 2, 3, 7, 16), (2, 1, 3, 33, 16)),
        ((2, 3, 7, 16), (1, 3, 33, 16)),
    ],
    ids=["2d", "3d", "5d-broadcast", "4d-broadcast-batch"],
)
def test_batch_dims(q_shape, k_shape):
    check(torch.randn(q_shape), torch.randn(k_shape), torch.randn(k_shape), is_causal=True)


def test_grouped_query_attention():
    q = torch.randn(2, 6, 7, 16)
    k, v = torch.randn(2, 2, 33, 16), torch.randn(2, 2, 33, 16)
    check(q, k, v, enable_gqa=True, is_causal=True)


def test_gradcheck_float64():
    # Head dims below 16 are padded like any other (tiny, so that central differences stay cheap).
    q, k, v = (torch.randn(shape, dtype=torch.float64) for shape in ((1, 1, 3, 4), (1, 1, 4, 4), (1, 1, 4, 3)))
    mask = torch.randn(3, 4, dtype=torch.float64)
    inputs = [from_torch(t, requires_grad=True) for t in (q, k, v)]
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=from_torch(mask)), inputs)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), inputs, fast_mode=True)


def test_unequal_blocks_cover_the_causal_diagonal():
    """The GPU tiles have BLOCK_M != BLOCK_N; the launchers accept a tile override to run them here."""
    q, k, v = qkv(1, 2, 70, 70, 16, dtype=torch.float64)
    grad_out = torch.randn(1, 2, 70, 16, dtype=torch.float64)
    want, want_grads = reference(q, k, v, grad_out, is_causal=True)
    for forward, backward in (((16, 32), (32, 16)), ((32, 16), (16, 32))):
        blocks = attention_kernels.AttentionBlocks((*forward, 4, 1), (*backward, 4, 1), (*forward, 4, 1))
        args = [t.to(DEVICE) for t in (q, k, v)]
        out, lse = attention_kernels.launch_attention_fwd(*args, causal=True, blocks=blocks)
        grads = attention_kernels.launch_attention_bwd(grad_out.to(DEVICE), *args, out, lse, causal=True, blocks=blocks)
        assert_close(out, want, rtol=1e-10, atol=1e-12, what=f"blocks {forward} output")
        for name, g, w in zip("qkv", grads, want_grads):
            assert_close(g, w, rtol=1e-10, atol=1e-12, what=f"blocks {backward} grad {name}")


def test_int64_offsets_give_the_same_results(monkeypatch):
    """Tensors past 2**31 elements switch the kernels to int64 offsets; forced here on small ones."""
    q, k, v = qkv(1, 2, 33, 40, 16, dtype=torch.float64)
    grad_out = torch.randn(1, 2, 33, 16, dtype=torch.float64)
    mask = torch.rand(33, 40) > 0.2
    options = {"causal": False, "dropout_p": 0.25, "seed": 9, "offset": 4}
    args = [t.to(DEVICE) for t in (q, k, v)]
    results = []
    for wide in (False, True):
        monkeypatch.setattr(attention_kernels, "needs_int64_indexing", lambda *tensors, wide=wide: wide)
        out, lse = attention_kernels.launch_attention_fwd(*args, mask.to(DEVICE), **options)
        grads = attention_kernels.launch_attention_bwd(grad_out.to(DEVICE), *args, out, lse, mask.to(DEVICE), **options)
        results.append([out, *grads])
    for name, narrow, wide in zip(["output", "dq", "dk", "dv"], *results):
        assert torch.equal(narrow.cpu(), wide.cpu()), f"int64 offsets change {name}"


def test_empty_sequences():
    q, k, v = qkv(1, 2, 0, 7, 16)
    check(q, k, v)
    q, k, v = qkv(1, 2, 7, 0, 16)
    out = F.scaled_dot_product_attention(from_torch(q), from_torch(k), from_torch(v))
    assert_close(out, torch_F.scaled_dot_product_attention(q, k, v))
    q, k, v = qkv(1, 2, 7, 5, 0, Ev=16)  # E = 0: every score is 0, the output the mean of v
    out = F.scaled_dot_product_attention(from_torch(q), from_torch(k), from_torch(v))
    assert_close(out, torch_F.scaled_dot_product_attention(q, k, v), rtol=FP32[0], atol=FP32[1])


def test_mask_that_requires_grad_is_differentiated():
    q, k, v = qkv(1, 2, 7, 33, 16)
    mask = torch.randn(7, 33)
    want_mask = mask.clone().requires_grad_()
    out = torch_F.scaled_dot_product_attention(q, k, v, attn_mask=want_mask)
    out.sum().backward()
    got_mask = from_torch(mask, requires_grad=True)
    got = F.scaled_dot_product_attention(from_torch(q), from_torch(k), from_torch(v), attn_mask=got_mask)
    got.sum().backward()
    assert_close(got, out, rtol=FP32[0], atol=FP32[1])
    assert_close(got_mask.grad, want_mask.grad, rtol=FP32[0], atol=FP32[1], what="mask grad")


def test_grad_fn_names_match_torch():
    def name(library, *shapes, dtype=torch.float32, **options):
        tensors = [torch.randn(s, dtype=dtype) for s in shapes]
        if library is torch_F:
            tensors[0].requires_grad_()
        else:
            tensors = [from_torch(t, requires_grad=i == 0) for i, t in enumerate(tensors)]
        return type(library.scaled_dot_product_attention(*tensors, **options).grad_fn).__name__

    cases = [
        ((2, 3, 5, 8), (2, 3, 6, 8), (2, 3, 6, 8)),
        ((3, 5, 8), (3, 6, 8), (3, 6, 8)),
        ((5, 8), (6, 8), (6, 8)),
        ((2, 3, 5, 8), (2, 3, 6, 8), (2, 3, 6, 4)),
        ((2, 3, 5, 8), (1, 3, 6, 8), (1, 3, 6, 8)),
    ]
    for shapes in cases:
        assert name(F, *shapes) == name(torch_F, *shapes), shapes
    assert name(F, *cases[0], is_causal=True) == name(torch_F, *cases[0], is_causal=True)
    assert name(F, *cases[0], dtype=torch.bfloat16, dropout_p=0.5) == "ToCopyBackward0"


def test_double_backward_matches_torch():
    # create_graph=True composes the backward of matmul/softmax ops (more: test_double_backward_norms.py);
    # torch's own flash CPU backward has no derivative: its math backend is the oracle
    expected = [t.double().requires_grad_(True) for t in qkv(1, 1, 3, 3, 4)]
    got = [from_torch(t, requires_grad=True) for t in expected]
    with sdpa_kernel(SDPBackend.MATH):
        y_expected = torch_F.scaled_dot_product_attention(*expected)
    (first_expected,) = torch.autograd.grad((y_expected**2).sum(), expected[:1], create_graph=True)
    (first_got,) = tritongrad.autograd.grad((F.scaled_dot_product_attention(*got) ** 2).sum(), got[:1],
                                            create_graph=True)  # fmt: skip
    assert_close(first_got, first_expected, what="attention first gradient")
    second_expected = torch.autograd.grad(first_expected.sin().sum(), expected)
    second_got = tritongrad.autograd.grad(first_got.sin().sum(), got)
    for name, mine, theirs in zip("qkv", second_got, second_expected):
        assert_close(mine, theirs, what=f"attention second gradient of {name}")


# ---------------------------------------------------------------------------------------------- dropout


def _stream_before_call():
    state = to_torch(tritongrad.get_rng_state()).tolist()
    return int.from_bytes(bytes(state[:8]), "little"), int.from_bytes(bytes(state[8:16]), "little")


def test_dropout_matches_a_composition_with_the_kernels_mask():
    p = 0.3
    q, k, v = qkv(2, 2, 33, 70, 16, dtype=torch.float64)
    grad_out = torch.randn(2, 2, 33, 16, dtype=torch.float64)
    tritongrad.manual_seed(7)
    seed, offset = _stream_before_call()
    got, got_grads = run(q, k, v, grad_out, dropout_p=p, is_causal=True)
    keep = attention_kernels.launch_attention_dropout_keep(2, 2, 33, 70, p, seed, offset, DEVICE).cpu()

    inputs = [t.clone().requires_grad_() for t in (q, k, v)]
    scores = inputs[0] @ inputs[1].transpose(-1, -2) / 4.0
    scores = scores.masked_fill(~torch.ones(33, 70, dtype=torch.bool).tril(), -math.inf)
    want = (torch.softmax(scores, -1) * keep / (1 - p)) @ inputs[2]
    want.backward(grad_out)
    assert_close(got, want, rtol=1e-10, atol=1e-12, what="dropout output")
    for name, g, t in zip("qkv", got_grads, inputs):
        assert_close(g, t.grad, rtol=1e-10, atol=1e-12, what=f"dropout grad {name}")


def test_dropout_reproducible_and_drops_a_fraction_p():
    q, k, v = (from_torch(t) for t in qkv(1, 2, 7, 33, 16))
    tritongrad.manual_seed(3)
    first = to_torch(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5))
    second = to_torch(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5))
    tritongrad.manual_seed(3)
    again = to_torch(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5))
    assert torch.equal(first, again), "same seed, different dropout"
    assert not torch.equal(first, second), "consecutive calls drew the same mask"
    for p in (0.1, 0.5):
        keep = attention_kernels.launch_attention_dropout_keep(2, 2, 64, 64, p, 11, 0, DEVICE).cpu()
        dropped = 1.0 - keep.double().mean().item()
        # 16384 Bernoulli draws: 5 standard deviations is below 0.02.
        assert abs(dropped - p) < 0.02, f"dropped fraction {dropped:.4f} for p={p}"
    ones = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert bool((to_torch(ones) == 0).all())


def test_dropout_gradcheck_with_fixed_seed():
    q, k, v = (from_torch(t, requires_grad=True) for t in qkv(1, 1, 3, 4, 4, dtype=torch.float64))

    def attention(a, b, c):
        tritongrad.manual_seed(5)  # the same mask for every evaluation
        return F.scaled_dot_product_attention(a, b, c, dropout_p=0.4)

    assert gradcheck(attention, [q, k, v], fast_mode=True)


# ---------------------------------------------------------------------------------------------- errors


def test_errors_like_torch():
    q, k, v = (from_torch(t) for t in qkv(1, 2, 5, 6, 16))
    cases = [
        (lambda: F.scaled_dot_product_attention(q[0, 0, 0], k[0, 0, 0], v[0, 0, 0]), RuntimeError, "at least 2"),
        (lambda: F.scaled_dot_product_attention(q, k, v.double()), RuntimeError, "same dtype"),
        (lambda: F.scaled_dot_product_attention(q, k[..., :8], v), RuntimeError, "embedding size"),
        (lambda: F.scaled_dot_product_attention(q, k, v[:, :, :5]), RuntimeError, "positions"),
        (lambda: F.scaled_dot_product_attention(q, k, v, dropout_p=1.5), RuntimeError, "dropout probability"),
        (lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=from_torch(torch.ones(5, 6, dtype=torch.int32))),
         RuntimeError, "attn_mask dtype"),
        # (torch 2.13 refuses a mask with is_causal except on its CPU flash path: 4-D inputs, as
        # tests/test_red_team_nine_scripts.py checks; these are 3-D)
        (lambda: F.scaled_dot_product_attention(q[0], k[0], v[0], attn_mask=from_torch(torch.zeros(5, 6)),
                                                is_causal=True), RuntimeError, "is_causal"),
        (lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=from_torch(torch.zeros(4, 6))),
         RuntimeError, "must match"),
        (lambda: F.scaled_dot_product_attention(q, k[:, :1].expand(1, 3, 6, 16), v, enable_gqa=True),
         RuntimeError, "multiple"),
        (lambda: F.scaled_dot_product_attention(q, k, 3.0), TypeError, "value"),
    ]  # fmt: skip
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()


# ---------------------------------------------------------------------------------------------- GPU code


@pytest.mark.slow
def test_kernel_report_tensor_cores_and_no_spills(tmp_path):
    """Every attention kernel compiled ahead of time for sm_80 and sm_90 (benchmarks/kernel_report.py,
    the attention cases of benchmarks/aot_capture.py): no register spills at the launch tiles, and
    the fp16/bf16 products on tensor cores (wgmma or mma.sync)."""
    path = tmp_path / "report.json"
    command = [sys.executable, "-m", "benchmarks.kernel_report", "--only", "attention", "--configs", "default",
               "--json", str(path)]  # fmt: skip
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=3600)
    assert completed.returncode == 0, completed.stderr[-4000:]
    rows = json.loads(path.read_text())["kernels"]
    assert {r["kernel"] for r in rows} >= {
        "attention_fwd_kernel",
        "attention_bwd_dkdv_kernel",
        "attention_bwd_dq_kernel",
    }
    for row in rows:
        where = f"{row['kernel']} {row['arch']} {row['cases']}"
        assert row["error"] is None, f"{where}: {row['error']}"
        assert not (row["spill_store_bytes"] or row["spill_load_bytes"]), f"{where}: {row['registers']} regs, spills"
        half = any(" fp16 " in case or " bf16 " in case for case in row["cases"])
        if half and row["kernel"] != "attention_bwd_delta_kernel":
            # Hopper's wgmma needs 64-row tiles; a narrower tile (the masked d128 dK/dV) uses mma.sync.
            tensor_core = row["instructions"].get("wgmma", 0) + row["instructions"].get("mma.sync", 0)
            assert tensor_core > 0, f"{where}: no tensor-core instructions: {row['instructions']}"
