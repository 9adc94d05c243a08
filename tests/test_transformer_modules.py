"""nn.MultiheadAttention, nn.TransformerEncoderLayer and nn.TransformerEncoder against torch's.

Each test builds the torch module, copies its weights into tritongrad's (so the parameter names
and shapes must be torch's), runs both on the same input and compares the output, the attention
weights and every parameter's gradient. Dropout is 0 (or eval mode): the random streams differ.
"""

from __future__ import annotations

import pytest
import torch

import tritongrad
import tritongrad.nn as nn
from tests.utils import assert_close, from_torch

TOLERANCE = {"rtol": 1e-5, "atol": 2e-5}


def copy_weights(torch_module: torch.nn.Module, module: nn.Module) -> None:
    """tritongrad's module takes torch's state dict: the same keys, shapes and values."""
    state = {name: from_torch(value) for name, value in torch_module.state_dict().items()}
    assert list(module.state_dict().keys()) == list(state.keys())
    module.load_state_dict(state)


def compare_gradients(torch_module, module, what: str) -> None:
    got = dict(module.named_parameters())
    for name, parameter in torch_module.named_parameters():
        assert parameter.grad is not None, name
        assert_close(got[name].grad, parameter.grad, **TOLERANCE, what=f"{what}: grad of {name}")


def bool_padding(N: int, S: int) -> torch.Tensor:
    """(N, S) key padding, True on the last keys of each sequence (never all of them)."""
    lengths = torch.randint(1, S + 1, (N,))
    return torch.arange(S)[None, :] >= lengths[:, None]


# Each case runs one layout; both layouts are covered across the cases.
MHA_CASES = {
    "self, need_weights": dict(kwargs={}, call={}, self_attention=True, batch_first=False),
    "self, fused": dict(kwargs={}, call={"need_weights": False}, self_attention=True, batch_first=True),
    "cross, kdim/vdim": dict(kwargs={"kdim": 12, "vdim": 20}, call={}, self_attention=False, batch_first=True),
    "cross, fused, no bias": dict(
        kwargs={"bias": False}, call={"need_weights": False}, self_attention=False, batch_first=False
    ),
    "bias_kv and zero_attn": dict(
        kwargs={"add_bias_kv": True, "add_zero_attn": True}, call={"need_weights": False}, self_attention=True,
        batch_first=True,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MHA_CASES), ids=list(MHA_CASES))
def test_multihead_attention(case):
    spec = MHA_CASES[case]
    batch_first = spec["batch_first"]
    E, H, N, L, S = 16, 4, 2, 7, 9
    torch_module = torch.nn.MultiheadAttention(E, H, batch_first=batch_first, **spec["kwargs"])
    module = nn.MultiheadAttention(E, H, batch_first=batch_first, **spec["kwargs"])
    copy_weights(torch_module, module)
    layout = (
        (lambda n, length, width: (n, length, width)) if batch_first else (lambda n, length, width: (length, n, width))
    )
    query = torch.randn(layout(N, L, E))
    if spec["self_attention"]:
        key = value = query
        S = L
    else:
        key = torch.randn(layout(N, S, spec["kwargs"].get("kdim", E)))
        value = torch.randn(layout(N, S, spec["kwargs"].get("vdim", E)))
    padding = bool_padding(N, S)
    want, want_weights = torch_module(query, key, value, key_padding_mask=padding, **spec["call"])
    q = from_torch(query, requires_grad=True)
    k, v = (q, q) if spec["self_attention"] else (from_torch(key), from_torch(value))
    got, got_weights = module(q, k, v, key_padding_mask=from_torch(padding), **spec["call"])
    assert_close(got, want, **TOLERANCE, what=f"{case} output")
    if want_weights is None:
        assert got_weights is None
    else:
        assert_close(got_weights, want_weights, **TOLERANCE, what=f"{case} weights")
    grad = torch.randn(want.shape)
    want.backward(grad)
    got.backward(from_torch(grad))
    compare_gradients(torch_module, module, case)


@pytest.mark.parametrize(
    "mask_kind,need_weights",
    [("bool", True), ("bool", False), ("float", False), ("causal", True), ("causal", False), ("3d", True)],
)
def test_multihead_attention_masks(mask_kind, need_weights):
    E, H, N, L = 8, 2, 3, 6
    torch_module = torch.nn.MultiheadAttention(E, H)
    module = nn.MultiheadAttention(E, H)
    copy_weights(torch_module, module)
    x = torch.randn(L, N, E)
    is_causal = False
    if mask_kind == "bool":
        mask = torch.rand(L, L) > 0.7  # True = may not attend
        mask[:, 0] = False
    elif mask_kind == "float":
        mask = torch.randn(L, L)
    elif mask_kind == "causal":
        mask, is_causal = torch.nn.Transformer.generate_square_subsequent_mask(L), True
    else:  # per-head masks, and per-head weights returned
        mask = torch.randn(N * H, L, L)
    x.requires_grad_()
    options = {"need_weights": need_weights, "is_causal": is_causal, "average_attn_weights": mask_kind != "3d"}
    want, want_weights = torch_module(x, x, x, attn_mask=mask, **options)
    tx = from_torch(x, requires_grad=True)
    got, got_weights = module(tx, tx, tx, attn_mask=from_torch(mask), **options)
    assert_close(got, want, **TOLERANCE, what=f"{mask_kind} output")
    if need_weights:
        assert_close(got_weights, want_weights, **TOLERANCE, what=f"{mask_kind} weights")
    want.sum().backward()
    got.sum().backward()
    assert_close(tx.grad, x.grad, **TOLERANCE, what=f"{mask_kind} input grad")
    compare_gradients(torch_module, module, mask_kind)


def test_multihead_attention_unbatched_and_api():
    torch_module = torch.nn.MultiheadAttention(8, 2)
    module = nn.MultiheadAttention(8, 2)
    copy_weights(torch_module, module)
    x = torch.randn(5, 8)
    want, want_weights = torch_module(x, x, x)
    got, got_weights = module(*(from_torch(x),) * 3)
    assert_close(got, want, **TOLERANCE)
    assert_close(got_weights, want_weights, **TOLERANCE)
    assert repr(module) == repr(torch_module)
    assert [n for n, _ in nn.MultiheadAttention(8, 2, kdim=4).named_parameters()] == [
        n for n, _ in torch.nn.MultiheadAttention(8, 2, kdim=4).named_parameters()
    ]
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        module(*(from_torch(x),) * 3, is_causal=True)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        module(*(from_torch(x),) * 3, attn_mask=from_torch(torch.zeros(4, 5)))


ENCODER_CASES = {
    "post-norm relu": {"batch_first": False},
    "pre-norm gelu": {"norm_first": True, "activation": "gelu", "batch_first": True},
    "no bias": {"bias": False, "batch_first": True},
}


@pytest.mark.parametrize("case", list(ENCODER_CASES), ids=list(ENCODER_CASES))
def test_transformer_encoder_layer(case):
    options = dict(d_model=16, nhead=4, dim_feedforward=24, dropout=0.0)
    options.update(ENCODER_CASES[case])
    batch_first = options["batch_first"]
    torch_layer = torch.nn.TransformerEncoderLayer(**options)
    layer = nn.TransformerEncoderLayer(**options)
    copy_weights(torch_layer, layer)
    x = torch.randn((2, 7, 16) if batch_first else (7, 2, 16))
    padding = bool_padding(2, 7)
    want = torch_layer(x, src_key_padding_mask=padding)
    got = layer(from_torch(x), src_key_padding_mask=from_torch(padding))
    assert_close(got, want, **TOLERANCE, what=case)
    grad = torch.randn(want.shape)
    want.backward(grad)
    got.backward(from_torch(grad))
    compare_gradients(torch_layer, layer, case)


def test_transformer_encoder_causal_stack():
    torch_layer = torch.nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.1, batch_first=True)
    torch_encoder = torch.nn.TransformerEncoder(torch_layer, 2, norm=torch.nn.LayerNorm(16), enable_nested_tensor=False)
    layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.1, batch_first=True)
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(16), enable_nested_tensor=False)
    copy_weights(torch_encoder, encoder)
    # The clones are independent: a change to one layer's weight does not reach the other.
    first, second = encoder.layers[0].linear1.weight, encoder.layers[1].linear1.weight
    assert first._data.data_ptr() != second._data.data_ptr()
    torch_encoder.eval()
    encoder.eval()
    x = torch.randn(2, 6, 16)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(6)
    want = torch_encoder(x, mask=mask, is_causal=True)
    got = encoder(from_torch(x), mask=from_torch(mask), is_causal=True)
    assert_close(got, want, **TOLERANCE)
    want.sum().backward()
    got.sum().backward()
    compare_gradients(torch_encoder, encoder, "encoder")


def test_encoder_layer_trains_with_dropout():
    tritongrad.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.2)
    out = layer(tritongrad.randn(5, 3, 8))
    out.sum().backward()
    assert all(p.grad is not None for p in layer.parameters())
    assert repr(layer) == repr(torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.2))
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


DECODER_CASES = {
    "post-norm relu": {"batch_first": False},
    "pre-norm gelu": {"norm_first": True, "activation": "gelu", "batch_first": True},
}


@pytest.mark.parametrize("case", list(DECODER_CASES), ids=list(DECODER_CASES))
def test_transformer_decoder_layer(case):
    options = dict(d_model=8, nhead=2, dim_feedforward=12, dropout=0.0)
    options.update(DECODER_CASES[case])
    batch_first = options["batch_first"]
    torch_layer = torch.nn.TransformerDecoderLayer(**options)
    layer = nn.TransformerDecoderLayer(**options)
    copy_weights(torch_layer, layer)
    tgt = torch.randn((2, 5, 8) if batch_first else (5, 2, 8))
    memory = torch.randn((2, 6, 8) if batch_first else (6, 2, 8))
    mask, padding = torch.nn.Transformer.generate_square_subsequent_mask(5), bool_padding(2, 6)
    want = torch_layer(tgt, memory, tgt_mask=mask, memory_key_padding_mask=padding)
    got = layer(
        from_torch(tgt), from_torch(memory), tgt_mask=from_torch(mask), memory_key_padding_mask=from_torch(padding)
    )
    assert_close(got, want, **TOLERANCE, what=case)
    grad = torch.randn(want.shape)
    want.backward(grad)
    got.backward(from_torch(grad))
    compare_gradients(torch_layer, layer, case)


def test_transformer_matches_torch_and_makes_torchs_mask():
    """nn.Transformer (the transformer tutorial's model): parameter names, outputs and gradients with
    the same weights, masks of every kind; the static causal mask."""
    options = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=12, dropout=0.0)
    torch_model = torch.nn.Transformer(**options, batch_first=True)
    model = nn.Transformer(**options, batch_first=True)
    copy_weights(torch_model, model)
    src, tgt = torch.randn(3, 6, 8), torch.randn(3, 4, 8)
    mask, padding = torch.nn.Transformer.generate_square_subsequent_mask(4), bool_padding(3, 6)
    assert_close(nn.Transformer.generate_square_subsequent_mask(4), mask, rtol=0, atol=0)
    want = torch_model(src, tgt, tgt_mask=mask, src_key_padding_mask=padding, memory_key_padding_mask=padding)
    got = model(
        from_torch(src), from_torch(tgt), tgt_mask=from_torch(mask), src_key_padding_mask=from_torch(padding),
        memory_key_padding_mask=from_torch(padding),
    )  # fmt: skip
    assert_close(got, want, **TOLERANCE)
    want.sum().backward()
    got.sum().backward()
    compare_gradients(torch_model, model, "Transformer")
    with pytest.raises(RuntimeError, match="feature number of src and tgt"):
        model(from_torch(src), from_torch(torch.randn(3, 4, 6)))
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        model(from_torch(src), from_torch(torch.randn(2, 4, 8)))
    assert all(p.dim() < 2 or p.abs().max().item() > 0 for p in nn.Transformer(**options).parameters())
