"""autocast: each op's result dtype and value under CPU autocast, compared with torch's, and the region's
state (nesting, threads, warnings, the weight-cast cache, custom_fwd/custom_bwd, GradScaler("cpu"))."""

from __future__ import annotations

import threading
import warnings

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, to_torch

# Extra operands every case may use, made once in torch and copied to tritongrad.
_EXTRA = {
    "x": torch.randn(4, 4),
    "img": torch.randn(1, 2, 5, 5),
    "w": torch.randn(3, 2, 3, 3),
    "vol": torch.randn(1, 2, 4, 4, 4),
    "t": torch.randint(0, 4, (4,)),
    "grid": torch.rand(1, 2, 2, 2) * 2 - 1,
    "w1d": torch.randn(2, 4, 3),
    "wbil": torch.randn(2, 4, 4),
}

# name -> f(lib, a, extra): one op (or a short chain) on the input ``a``
CASES = {
    "matmul": lambda L, a, e: a @ a,
    "mm": lambda L, a, e: L.mm(a, a),
    "bmm": lambda L, a, e: L.bmm(a[None], a[None]),
    "addmm": lambda L, a, e: L.addmm(a, a, a),
    "baddbmm": lambda L, a, e: L.baddbmm(a[None], a[None], a[None]),
    "addbmm": lambda L, a, e: L.addbmm(a, a[None], a[None]),
    "linear": lambda L, a, e: L.nn.functional.linear(a, a, a[0]),
    "mv": lambda L, a, e: L.mv(a, a[0]),
    "dot": lambda L, a, e: L.dot(a[0], a[0]),
    "einsum": lambda L, a, e: L.einsum("ij,jk->ik", a, a),
    "multi_dot": lambda L, a, e: L.linalg.multi_dot([a, a, a]),
    "conv1d": lambda L, a, e: L.nn.functional.conv1d(a[None], e["w1d"].to(a.dtype)),
    "conv2d": lambda L, a, e: L.nn.functional.conv2d(e["img"].to(a.dtype), e["w"].to(a.dtype)),
    "conv_transpose2d": lambda L, a, e: L.nn.functional.conv_transpose2d(
        e["img"].to(a.dtype), e["w"].transpose(0, 1).to(a.dtype)
    ),
    "sdpa": lambda L, a, e: L.nn.functional.scaled_dot_product_attention(a[None], a[None], a[None]),
    "prelu": lambda L, a, e: L.nn.functional.prelu(a, L.tensor([0.2], dtype=a.dtype)),
    "softmax": lambda L, a, e: a.softmax(-1),
    "sum": lambda L, a, e: a.sum(),
    "cumsum": lambda L, a, e: a.cumsum(0),
    "prod": lambda L, a, e: a.prod(),
    "exp": lambda L, a, e: a.exp(),
    "layer_norm": lambda L, a, e: L.nn.functional.layer_norm(a, (4,)),
    "mse_loss": lambda L, a, e: L.nn.functional.mse_loss(a, a * 0.5),
    "l1_loss": lambda L, a, e: L.nn.functional.l1_loss(a, a * 0.5),
    "cross_entropy": lambda L, a, e: L.nn.functional.cross_entropy(a, e["t"]),
    "nll_loss": lambda L, a, e: L.nn.functional.nll_loss(a, e["t"]),
    "bce": lambda L, a, e: L.nn.functional.binary_cross_entropy(a.sigmoid(), (a * 0.3).sigmoid()),
    "bce_logits": lambda L, a, e: L.nn.functional.binary_cross_entropy_with_logits(a, a.sigmoid()),
    "kl_div": lambda L, a, e: L.nn.functional.kl_div(a, a.softmax(-1), reduction="batchmean"),
    "huber": lambda L, a, e: L.nn.functional.huber_loss(a, a * 0.5),
    "cos_embedding": lambda L, a, e: L.nn.functional.cosine_embedding_loss(a, a * 0.5, L.ones(4)),
    "margin_ranking": lambda L, a, e: L.nn.functional.margin_ranking_loss(a[0], a[1], L.ones(4)),
    "triplet": lambda L, a, e: L.nn.functional.triplet_margin_loss(a, a * 0.5, a * 2),
    "cdist": lambda L, a, e: L.cdist(a, a * 0.5),
    "grid_sample": lambda L, a, e: L.nn.functional.grid_sample(
        a[None, None], e["grid"].to(a.dtype), align_corners=False
    ),
    "max_pool3d": lambda L, a, e: L.nn.functional.max_pool3d(e["vol"].to(a.dtype), 2),
    "avg_pool3d": lambda L, a, e: L.nn.functional.avg_pool3d(e["vol"].to(a.dtype), 2),
    "reflect_pad": lambda L, a, e: L.nn.functional.pad(a[None], (1, 1), mode="reflect"),
    "replicate_pad": lambda L, a, e: L.nn.functional.pad(a[None], (1, 1), mode="replicate"),
    "constant_pad": lambda L, a, e: L.nn.functional.pad(a, (1, 1)),
    "trace": lambda L, a, e: L.trace(a),
    "inv": lambda L, a, e: L.linalg.inv(a + 4 * L.eye(4, dtype=a.dtype)),
    "solve": lambda L, a, e: L.linalg.solve(a + 4 * L.eye(4, dtype=a.dtype), a),
    "cat_mixed": lambda L, a, e: L.cat([a, e["x"]]),
    "stack_mixed": lambda L, a, e: L.stack([a, e["x"]]),
    "add_mixed": lambda L, a, e: a + e["x"],
    "relu": lambda L, a, e: a.relu(),
    "linear_then_loss": lambda L, a, e: L.nn.functional.cross_entropy(L.nn.functional.linear(a, a), e["t"]),
}

# (input dtype, autocast dtype)
SETTINGS = [
    (torch.float32, torch.bfloat16),
    (torch.bfloat16, torch.bfloat16),
    (torch.float32, torch.float16),
    (torch.float64, torch.bfloat16),
]


def _run(lib, name: str, input_dtype, fast_dtype, base: torch.Tensor):
    convert = (lambda t: t) if lib is torch else from_torch
    a = convert(base.to(input_dtype))
    extra = {key: convert(value) for key, value in _EXTRA.items()}
    with lib.autocast("cpu", dtype=fast_dtype):
        return CASES[name](lib, a, extra)


@pytest.mark.parametrize("input_dtype,fast_dtype", SETTINGS, ids=lambda d: str(d).replace("torch.", ""))
@pytest.mark.parametrize("name", list(CASES))
def test_op_under_cpu_autocast_matches_torch(name, input_dtype, fast_dtype):
    base = torch.randn(4, 4)
    expected = _run(torch, name, input_dtype, fast_dtype, base)
    actual = _run(tritongrad, name, input_dtype, fast_dtype, base)
    assert actual.dtype == expected.dtype, f"{name} {input_dtype}->{fast_dtype}: {actual.dtype} vs {expected.dtype}"
    # Half-precision products round their operands and results: bf16's 8 bits, compounded by a chain.
    loose = expected.dtype in (torch.bfloat16, torch.float16) or fast_dtype != torch.float64
    assert_close(actual, expected, rtol=5e-2 if loose else 1e-5, atol=5e-2 if loose else 1e-5)


def test_training_step_under_autocast_matches_torch():
    """float32 weights, a bfloat16 forward: the loss is float32, the weights' gradients float32 and
    torch's (the casts are recorded, so gradients flow back through them)."""
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    ours = tritongrad.nn.Sequential(tritongrad.nn.Linear(6, 8), tritongrad.nn.ReLU(), tritongrad.nn.Linear(8, 3))
    ours.load_state_dict({key: from_torch(value) for key, value in reference.state_dict().items()})
    x, y = torch.randn(5, 6), torch.randint(0, 3, (5,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = reference(x)
        loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    with tritongrad.autocast("cpu", dtype=torch.bfloat16):
        our_logits = ours(from_torch(x))
        our_loss = tritongrad.nn.functional.cross_entropy(our_logits, from_torch(y))
    our_loss.backward()
    assert our_logits.dtype == logits.dtype == torch.bfloat16
    assert our_loss.dtype == loss.dtype == torch.float32
    assert_close(our_loss, loss, rtol=2e-2, atol=2e-2)
    for (name, ours_p), (_, theirs_p) in zip(ours.named_parameters(), reference.named_parameters(), strict=True):
        assert ours_p.grad.dtype == theirs_p.grad.dtype == torch.float32, name
        assert_close(ours_p.grad, theirs_p.grad, rtol=5e-2, atol=5e-2)


@pytest.mark.parametrize("module", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("input_dtype", [torch.float32, torch.bfloat16])
def test_recurrent_layers_take_torchs_dtype(module, input_dtype):
    torch.manual_seed(0)
    reference = getattr(torch.nn, module)(4, 3)
    ours = getattr(tritongrad.nn, module)(4, 3)
    ours.load_state_dict({key: from_torch(value) for key, value in reference.state_dict().items()})
    x = torch.randn(2, 1, 4).to(input_dtype)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected, _ = reference(x)
    with tritongrad.autocast("cpu", dtype=torch.bfloat16):
        actual, _ = ours(from_torch(x))
    assert actual.dtype == expected.dtype
    assert_close(actual, expected, rtol=5e-2, atol=5e-2)


def test_regions_nest_restore_and_disable():
    x = tritongrad.randn(3, 3)
    assert not tritongrad.is_autocast_enabled("cpu")
    with tritongrad.autocast("cpu"):
        assert tritongrad.is_autocast_enabled("cpu") and not tritongrad.is_autocast_enabled()
        assert tritongrad.get_autocast_dtype("cpu") == torch.bfloat16
        assert (x @ x).dtype == torch.bfloat16
        with tritongrad.autocast("cpu", enabled=False):
            assert (x @ x).dtype == torch.float32
        with tritongrad.autocast("cpu", dtype=torch.float16):
            assert (x @ x).dtype == torch.float16
        assert (x @ x).dtype == torch.bfloat16
    assert (x @ x).dtype == torch.float32
    assert not tritongrad.is_autocast_enabled("cpu")

    @tritongrad.autocast("cpu")
    def product(a):
        return a @ a

    assert product(x).dtype == torch.bfloat16
    with tritongrad.cpu.amp.autocast():
        assert (x @ x).dtype == torch.bfloat16


def test_state_is_per_thread():
    x = tritongrad.randn(3, 3)
    seen = {}

    def other_thread():
        seen["dtype"] = (x @ x).dtype
        seen["enabled"] = tritongrad.is_autocast_enabled("cpu")

    with tritongrad.autocast("cpu"):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert (x @ x).dtype == torch.bfloat16
    assert seen == {"dtype": torch.float32, "enabled": False}


@pytest.mark.parametrize(
    "device_type,dtype,message",
    [
        ("cpu", torch.float32, "In CPU autocast, but the target dtype is not supported"),
        ("cpu", torch.float64, "In CPU autocast, but the target dtype is not supported"),
        ("cuda", None, "CUDA is not available"),
    ],
)
def test_unsupported_regions_warn_and_disable_as_torchs(device_type, dtype, message):
    if device_type == "cuda" and torch.cuda.is_available():
        pytest.skip("CUDA autocast is available here")
    x = tritongrad.randn(3, 3)
    for lib, operand in ((torch, to_torch(x)), (tritongrad, x)):
        with pytest.warns(UserWarning, match=message), lib.autocast(device_type, dtype=dtype):
            assert (operand @ operand).dtype == torch.float32
            assert not lib.is_autocast_enabled(device_type)


def test_bad_device_type_errors_as_torchs():
    for lib in (torch, tritongrad):
        with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
            lib.autocast(0)
        with pytest.raises(RuntimeError, match="device type at start of device string: gpu"):
            lib.autocast("gpu")
        with pytest.raises(RuntimeError):
            lib.autocast("meta")


def test_weight_casts_are_cached_within_a_region_and_see_updates():
    weight = tritongrad.randn(3, 3, requires_grad=True)
    x = tritongrad.randn(2, 3)
    with tritongrad.autocast("cpu"):
        first = tritongrad.nn.functional.linear(x, weight)
        second = tritongrad.nn.functional.linear(x, weight)
        casts = [
            {id(node) for node, _ in out.grad_fn.next_functions if type(node).__name__ == "ToCopyBackward0"}
            for out in (first, second)
        ]
        assert casts[0] & casts[1], "the weight's cast is made once per region"
        assert_close(first, to_torch(second), rtol=0, atol=0)
        with tritongrad.no_grad():
            weight.add_(1.0)
        updated = tritongrad.nn.functional.linear(x, weight)
    reference = to_torch(x).to(torch.bfloat16) @ to_torch(weight).detach().to(torch.bfloat16).T
    assert_close(updated, reference, rtol=2e-2, atol=2e-2)
    (first.sum() + second.sum()).float().backward()
    expected = 2 * to_torch(x).sum(0).expand(3, 3)
    assert_close(weight.grad, expected, rtol=2e-2, atol=2e-2)


def test_a_cast_made_without_grad_is_not_reused_with_grad():
    weight = tritongrad.randn(3, 3, requires_grad=True)
    x = tritongrad.randn(2, 3)
    with tritongrad.autocast("cpu"):
        with tritongrad.no_grad():
            tritongrad.nn.functional.linear(x, weight)
        out = tritongrad.nn.functional.linear(x, weight)
    assert out.requires_grad
    out.float().sum().backward()
    assert weight.grad is not None


def test_binary_cross_entropy_is_banned_only_on_cuda():
    x = tritongrad.rand(4)
    with tritongrad.autocast("cpu"):
        assert tritongrad.nn.functional.binary_cross_entropy(x, x).dtype == torch.float32


def test_custom_fwd_casts_inputs_and_custom_bwd_restores_the_state():
    class Square(tritongrad.autograd.Function):
        @staticmethod
        @tritongrad.amp.custom_fwd(device_type="cpu", cast_inputs=torch.float32)
        def forward(ctx, a):
            ctx.save_for_backward(a)
            ctx.dtype_inside = a.dtype, tritongrad.is_autocast_enabled("cpu")
            return a * a

        @staticmethod
        @tritongrad.amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return 2 * a * grad

    a = tritongrad.randn(4, dtype=torch.bfloat16, requires_grad=True)
    with tritongrad.autocast("cpu"):
        out = Square.apply(a)
    assert out.dtype == torch.float32
    assert out.grad_fn is not None
    out.sum().backward()
    assert a.grad.dtype == torch.bfloat16
    assert_close(a.grad, 2 * to_torch(a).detach(), rtol=1e-2, atol=1e-2)


def test_grad_scaler_on_cpu_scales_as_torchs():
    for lib in (torch, tritongrad):
        assert lib.amp.GradScaler("cpu").is_enabled()
    scaler = tritongrad.amp.GradScaler("cpu", init_scale=4.0)
    weight = tritongrad.nn.Parameter(tritongrad.ones(2))
    optimizer = tritongrad.optim.SGD([weight], lr=0.1)
    scaler.scale((weight * 3).sum()).backward()
    assert_close(weight.grad, torch.full((2,), 12.0))
    scaler.step(optimizer)
    scaler.update()
    assert_close(weight.detach(), torch.full((2,), 0.7))


def test_state_functions_and_their_deprecated_spellings():
    for lib in (torch, tritongrad):
        assert lib.get_autocast_dtype("cpu") == torch.bfloat16
        assert lib.get_autocast_dtype("cuda") == torch.float16
        assert lib.is_autocast_cache_enabled()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert lib.get_autocast_cpu_dtype() == torch.bfloat16
            assert lib.get_autocast_gpu_dtype() == torch.float16
            assert lib.is_autocast_cpu_enabled() is False


def test_a_warning_inside_an_autocast_op_names_the_callers_line():
    x = tritongrad.randn(3, 3).log_softmax(1)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size") as record:
        tritongrad.nn.functional.kl_div(x, x.exp())
    assert record[0].filename == __file__
    with pytest.warns(UserWarning, match="Implicit dimension choice") as record:
        tritongrad.nn.functional.softmax(x)
    assert record[0].filename == __file__
