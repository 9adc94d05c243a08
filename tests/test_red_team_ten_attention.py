"""The tenth red-team round's attention findings (layers #1, #2, #12, #14, #17, #21; scripts4a #1, #8,
#10): torch's inference fast paths of MultiheadAttention and the Transformer encoder (NaN over fully
masked rows, zeros at padded positions), the mask dtype errors and deprecation warnings, the public
attributes and torch's messages, each compared with torch by ``agree``."""

from __future__ import annotations

import warnings

import pytest

import tritongrad
from tests.test_hardening import agree
from tritongrad import caller_warnings

INF = float("inf")


def _set_weights(module, lib):
    """Every parameter (the LayerNorms' too) as a linspace over [-1, 1], the same in both libraries."""
    with lib.no_grad():
        for parameter in module.parameters():
            parameter.copy_(lib.linspace(-1, 1, parameter.numel()).reshape(parameter.shape))
    return module


def _inputs(lib, dtype=None):
    x = lib.arange(24.0).reshape(2, 3, 4) / 10
    return x if dtype is None else x.to(dtype)


def _run(lib, grad: str, call):
    """``call()`` under no_grad ("no_grad"), with grad on ("grad"), or inference_mode."""
    if grad == "no_grad":
        with lib.no_grad():
            return call()
    if grad == "inference":
        with lib.inference_mode():
            return call()
    return call()


def _warnings_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught if "nested tensors is in prototype" not in str(w.message)]


# ----------------------------------------------------------------------------------------------
# layers #1 / scripts4a #1: TransformerEncoder's nested-tensor path zeroes the padded positions
# ----------------------------------------------------------------------------------------------

PADDINGS = {
    "right": [[False, False, True], [False, True, True]],
    "left": [[True, False, False], [True, True, False]],
    "none padded": [[False, False, False], [False, False, False]],
    "one fully padded": [[True, True, True], [False, True, True]],
}


def _encoder(lib, *, layers=2, norm=False, mask_check=True, enable_nested_tensor=True, training=False, **layer):
    options = {"dim_feedforward": 6, "batch_first": True, **layer}
    encoder_layer = lib.nn.TransformerEncoderLayer(4, 2, **options)
    encoder = lib.nn.TransformerEncoder(
        encoder_layer, layers, norm=lib.nn.LayerNorm(4) if norm else None, mask_check=mask_check,
        enable_nested_tensor=enable_nested_tensor,
    )  # fmt: skip
    _set_weights(encoder, lib)
    return encoder.train(training)


@pytest.mark.parametrize(
    "padding, mask_check, norm",
    [(padding, mask_check, False) for padding in PADDINGS for mask_check in (True, False)] + [("right", True, True)],
)
def test_encoder_zeroes_padded_positions_in_inference(padding, mask_check, norm):
    def run(lib):
        encoder = _encoder(lib, norm=norm, mask_check=mask_check)
        kpm = lib.tensor(PADDINGS[padding])
        return _run(lib, "no_grad", lambda: encoder(_inputs(lib), src_key_padding_mask=kpm))

    agree(f"encoder {padding} mask_check={mask_check} norm={norm}", run, [])


@pytest.mark.parametrize(
    "case", ["float kpm", "float kpm -1", "grad on", "grad on frozen", "inference_mode", "training", "not nested",
             "with mask", "float64", "norm_first", "odd heads", "unbatched"],
)  # fmt: skip
def test_encoder_sparsity_path_conditions(case):
    def run(lib):
        options = {}
        if case == "norm_first":
            options["norm_first"] = True
        encoder = _encoder(
            lib, training=case == "training", enable_nested_tensor=case != "not nested", dropout=0.0, **options
        ) if case != "odd heads" else _set_weights(
            lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(4, 1, 6, batch_first=True), 2), lib
        ).eval()  # fmt: skip
        x = _inputs(lib, lib.float64 if case == "float64" else None)
        if case == "float64":
            encoder = encoder.double()
        kpm = lib.tensor(PADDINGS["right"])
        if case == "float kpm":
            kpm = lib.zeros(2, 3).masked_fill(kpm, -INF)
        if case == "float kpm -1":
            kpm = lib.zeros(2, 3).masked_fill(kpm, -1.0)
        if case == "unbatched":
            x, kpm = x[0], kpm[0]
        mask = lib.zeros(3, 3, dtype=lib.bool) if case == "with mask" else None
        if case == "grad on frozen":
            encoder.requires_grad_(False)
        grad = {"grad on": "grad", "grad on frozen": "grad", "inference_mode": "inference"}.get(case, "no_grad")
        out = _run(lib, grad, lambda: encoder(x, mask=mask, src_key_padding_mask=kpm))
        return out.detach()

    agree(f"encoder sparsity {case}", run, [])


def test_encoder_nested_warning_as_torchs():
    """torch warns its nested-tensor prototype note once per process, the first time the sparsity path
    runs (its key in caller_warnings' table is dropped to see that first time again)."""
    encoder = _encoder(tritongrad, layers=1)
    kpm = tritongrad.tensor(PADDINGS["right"])
    caller_warnings._WARNED.discard("nested tensor prototype")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tritongrad.no_grad():
            encoder(_inputs(tritongrad), src_key_padding_mask=kpm)
            encoder(_inputs(tritongrad), src_key_padding_mask=kpm)
    assert [str(w.message) for w in caught] == [
        "The PyTorch API of nested tensors is in prototype stage and will change in the near future. We recommend "
        "specifying layout=torch.jagged when constructing a nested tensor, as this layout receives active "
        "development, has better operator coverage, and works with torch.compile. (Triggered internally at "
        "/__w/pytorch/pytorch/aten/src/ATen/NestedTensorImpl.cpp:177.)"
    ]


# ----------------------------------------------------------------------------------------------
# layers #2: fully masked rows are NaN on the fused inference paths (and is_causal is ignored there)
# ----------------------------------------------------------------------------------------------

KPM_FULL_ROW = [[True, True, True], [False, False, True]]
ATTN_FULL_ROW = [[False, True, True], [False, False, True], [True, True, True]]


def _mha(lib, heads=2, **options):
    module = lib.nn.MultiheadAttention(4, heads, **{"batch_first": True, **options})
    return _set_weights(module, lib).eval()


MHA_CASES = [
    *((setting, masks, False) for setting in ("fast", "grad", "seq first", "odd heads", "cross", "bias=False")
      for masks in ("kpm", "both", "float attn")),
    *(("fast", masks, True) for masks in ("kpm", "attn", "both")),
    ("fast", "attn", False), ("fast", "none", False), ("training", "kpm", False), ("add_zero_attn", "kpm", False),
]  # fmt: skip


@pytest.mark.parametrize("setting, masks, need_weights", MHA_CASES)
def test_mha_fully_masked_rows_as_torch(setting, masks, need_weights):
    def run(lib):
        options = {
            "seq first": {"batch_first": False}, "add_zero_attn": {"add_zero_attn": True}, "bias=False": {"bias": False}
        }.get(setting, {})  # fmt: skip
        module = _mha(lib, heads=1 if setting == "odd heads" else 2, **options).train(setting == "training")
        x = _inputs(lib)
        key = x.clone() if setting == "cross" else x
        kpm = lib.tensor(KPM_FULL_ROW) if masks in ("kpm", "both") else None
        attn = lib.tensor(ATTN_FULL_ROW) if masks in ("attn", "both", "float attn") else None
        if masks == "float attn":
            attn = lib.zeros(3, 3).masked_fill(attn, -INF)
        grad = "grad" if setting in ("grad", "training") else "no_grad"
        output, weights = _run(
            lib, grad, lambda: module(x, key, key, key_padding_mask=kpm, attn_mask=attn, need_weights=need_weights)
        )
        return output.detach(), None if weights is None else weights.detach()

    agree(f"mha {setting} {masks} need_weights={need_weights}", run, [])


@pytest.mark.parametrize("average", [True, False])
def test_mha_fast_path_weights(average):
    def run(lib):
        module = _mha(lib)
        x = _inputs(lib)
        with lib.no_grad():
            return module(x, x, x, key_padding_mask=lib.tensor(KPM_FULL_ROW), average_attn_weights=average)

    agree(f"mha fast weights average={average}", run, [])


@pytest.mark.parametrize("setting", ["fast", "grad", "seq first"])
def test_mha_is_causal_without_mask(setting):
    """The fused path ignores is_causal (no "Need attn_mask" error); the composed path raises."""

    def run(lib):
        module = _mha(lib, batch_first=setting != "seq first")
        x = _inputs(lib)
        return _run(lib, "grad" if setting == "grad" else "no_grad", lambda: module(x, x, x, is_causal=True)[0])

    agree(f"mha is_causal {setting}", run, [])


LAYER_CASES = [
    *(("fast", mask) for mask in ("src_mask bool", "src_mask float", "kpm", "kpm float", "both", "is_causal")),
    *((setting, "src_mask bool") for setting in ("norm_first", "gelu", "callable activation", "grad", "training",
                                                 "seq first", "hook", "eps")),
    ("norm_first", "kpm"), ("grad", "is_causal"),
]  # fmt: skip


@pytest.mark.parametrize("setting, mask", LAYER_CASES)
def test_encoder_layer_fully_masked_rows_as_torch(setting, mask):
    def run(lib):
        options = {"dim_feedforward": 6, "batch_first": setting != "seq first", "norm_first": setting == "norm_first"}
        if setting == "gelu":
            options["activation"] = "gelu"
        if setting == "callable activation":
            options["activation"] = lib.tanh
        layer = _set_weights(lib.nn.TransformerEncoderLayer(4, 2, **options), lib).train(setting == "training")
        if setting == "hook":
            layer.linear1.register_forward_hook(lambda module, args, output: None)
        if setting == "eps":
            layer.norm2.eps = 1e-6
        x = _inputs(lib)
        attn = lib.tensor(ATTN_FULL_ROW)
        kpm = lib.tensor(KPM_FULL_ROW)
        arguments = {
            "src_mask bool": {"src_mask": attn},
            "src_mask float": {"src_mask": lib.zeros(3, 3).masked_fill(attn, -INF)},
            "kpm": {"src_key_padding_mask": kpm},
            "kpm float": {"src_key_padding_mask": lib.zeros(2, 3).masked_fill(kpm, -INF)},
            "both": {"src_mask": attn, "src_key_padding_mask": kpm},
            "is_causal": {"is_causal": True},
        }[mask]
        grad = "grad" if setting in ("grad", "training") else "no_grad"
        if setting == "training":
            layer.dropout.p = layer.dropout1.p = layer.dropout2.p = 0.0
        return _run(lib, grad, lambda: layer(x, **arguments)).detach()

    agree(f"encoder layer {setting} {mask}", run, [])


# ----------------------------------------------------------------------------------------------
# layers #14 / #17, scripts4a #10: float masks of another dtype; the mismatched-mask warnings
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize(
    "query_dtype, mask_dtype, which",
    [
        ("float64", "float32", "attn"), ("float64", "float32", "kpm"), ("float32", "float64", "attn"),
        ("float32", "float64", "kpm"), ("float64", "float16", "attn"), ("float64", "float64", "attn"),
    ],
)  # fmt: skip
def test_mha_float_mask_of_another_dtype(query_dtype, mask_dtype, which, need_weights):
    def run(lib):
        dtype = getattr(lib, query_dtype)
        module = _set_weights(lib.nn.MultiheadAttention(4, 2).to(dtype), lib)
        q = _inputs(lib, dtype).transpose(0, 1)
        mask = lib.zeros(3, 3) if which == "attn" else lib.zeros(2, 3)
        mask = mask.to(getattr(lib, mask_dtype))
        arguments = {"attn_mask": mask} if which == "attn" else {"key_padding_mask": mask}
        output, weights = module(q, q, q, need_weights=need_weights, **arguments)
        return output.detach()

    agree(f"mha {query_dtype} query {mask_dtype} {which} need_weights={need_weights}", run, [])


MASK_TYPES = {
    "bool kpm, float attn": ("bool", "float32"),
    "float kpm, bool attn": ("float32", "bool"),
    "float64 kpm, float32 attn": ("float64", "float32"),
    "bool kpm, float64 attn": ("bool", "float64"),
    "same bool": ("bool", "bool"),
    "same float": ("float32", "float32"),
}


def _masks(lib, kpm_type: str, attn_type: str):
    kpm = lib.tensor([[False, False, True], [False, True, True]])
    attn = lib.tensor([[False, True, True], [False, False, True], [False, False, False]])
    if kpm_type != "bool":
        kpm = lib.zeros(2, 3, dtype=getattr(lib, kpm_type)).masked_fill(kpm, -INF)
    if attn_type != "bool":
        attn = lib.zeros(3, 3, dtype=getattr(lib, attn_type)).masked_fill(attn, -INF)
    return kpm, attn


WARNING_CASES = [
    *(("mha", types) for types in MASK_TYPES),
    *(("encoder layer", types) for types in ("bool kpm, float attn", "float kpm, bool attn", "same bool")),
    ("encoder", "bool kpm, float attn"), ("encoder", "same float"), ("transformer", "bool kpm, float attn"),
]  # fmt: skip


@pytest.mark.parametrize("module, types", WARNING_CASES)
def test_mismatched_mask_warnings_as_torchs(module, types):
    def run(lib):
        kpm, attn = _masks(lib, *MASK_TYPES[types])
        x = _inputs(lib)
        if module == "mha":
            mha = _mha(lib).train()
            return _warnings_of(lambda: mha(x, x, x, key_padding_mask=kpm, attn_mask=attn)[0].detach())
        layer = _set_weights(lib.nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True), lib)
        if module == "encoder layer":
            return _warnings_of(lambda: layer(x, src_mask=attn, src_key_padding_mask=kpm).detach())
        if module == "encoder":
            encoder = lib.nn.TransformerEncoder(layer, 1)
            return _warnings_of(lambda: encoder(x, mask=attn, src_key_padding_mask=kpm).detach())
        model = _set_weights(
            lib.nn.Transformer(4, 2, 1, 1, 6, batch_first=True, dropout=0.0), lib
        )  # fmt: skip
        return _warnings_of(
            lambda: model(x, x, src_mask=attn, tgt_mask=attn, src_key_padding_mask=kpm, tgt_key_padding_mask=kpm,
                          memory_key_padding_mask=kpm).detach()
        )  # fmt: skip

    agree(f"{module} {types}", run, [])


# ----------------------------------------------------------------------------------------------
# layers #12: public attributes
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "gelu", "F.relu", "F.gelu", "ReLU()", "GELU()", "tanh"])
def test_activation_relu_or_gelu(activation):
    def run(lib):
        value = {
            "F.relu": lib.nn.functional.relu, "F.gelu": lib.nn.functional.gelu, "ReLU()": lib.nn.ReLU(),
            "GELU()": lib.nn.GELU(), "tanh": lib.tanh,
        }.get(activation, activation)  # fmt: skip
        return lib.nn.TransformerEncoderLayer(4, 2, 6, activation=value).activation_relu_or_gelu

    agree(f"activation_relu_or_gelu {activation}", run, [])


@pytest.mark.parametrize("masks", ["none", "kpm", "attn 2d", "attn 3d", "both"])
def test_merge_masks(masks):
    def run(lib):
        module = _mha(lib)
        x = _inputs(lib)
        kpm = lib.zeros(2, 3).masked_fill(lib.tensor(KPM_FULL_ROW), -INF) if masks in ("kpm", "both") else None
        attn = {
            "attn 2d": lib.arange(9.0).reshape(3, 3), "attn 3d": lib.arange(36.0).reshape(4, 3, 3),
            "both": lib.arange(9.0).reshape(3, 3),
        }.get(masks)  # fmt: skip
        merged, mask_type = module.merge_masks(attn, kpm, x)
        return merged, mask_type

    agree(f"merge_masks {masks}", run, [])


# ----------------------------------------------------------------------------------------------
# layers #21, scripts4a #8: torch's messages
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    ["2d mask shape", "3d mask shape", "unbatched 3d mask shape", "key/value lengths", "kdim key/value lengths",
     "batch of key", "int kpm", "layer int kpm", "encoder int kpm", "layer int src_mask"],
)  # fmt: skip
def test_messages_as_torchs(case):
    def run(lib):
        mha = lib.nn.MultiheadAttention(4, 2)
        q = lib.ones(3, 2, 4)
        layer = lib.nn.TransformerEncoderLayer(4, 2, 8, batch_first=True)
        if case == "2d mask shape":
            return mha(q, q, q, attn_mask=lib.zeros(2, 3, dtype=lib.bool))
        if case == "3d mask shape":
            return mha(q, q, q, attn_mask=lib.zeros(3, 3, 3))
        if case == "unbatched 3d mask shape":
            return mha(q[:, 0], q[:, 0], q[:, 0], attn_mask=lib.zeros(3, 3, 3))
        if case == "key/value lengths":
            return mha(q, q, lib.ones(4, 2, 4))
        if case == "kdim key/value lengths":
            return lib.nn.MultiheadAttention(4, 2, kdim=3, vdim=5)(q, lib.ones(3, 2, 3), lib.ones(4, 2, 5))
        if case == "batch of key":
            return mha(q, lib.ones(3, 3, 4), lib.ones(3, 3, 4))
        if case == "int kpm":
            return mha(q, q, q, key_padding_mask=lib.zeros(2, 3, dtype=lib.int32))
        if case == "layer int kpm":
            return layer(lib.ones(2, 3, 4), src_key_padding_mask=lib.zeros(2, 3, dtype=lib.int32))
        if case == "encoder int kpm":
            encoder = lib.nn.TransformerEncoder(layer, 1)
            return encoder(lib.ones(2, 3, 4), src_key_padding_mask=lib.zeros(2, 3, dtype=lib.int32))
        return layer(lib.ones(2, 3, 4), src_mask=lib.zeros(3, 3, dtype=lib.int32))

    agree(case, run, [])
