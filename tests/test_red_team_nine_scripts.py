"""The ninth red-team round's findings from real LLM-style scripts (Raschka's chapters, nanoGPT, minGPT):
attention with an explicit mask and is_causal, and broadcast errors naming torch's dimension, each
compared with torch by ``agree`` (the value, or the exception type and message)."""

from __future__ import annotations

import pytest
import torch

from tests.test_hardening import agree


def _mask(lib, kind: str):
    rows = torch.Generator().manual_seed(3)
    keep = torch.rand(3, 5, generator=rows) > 0.3
    keep[:, 0] = True
    if kind == "bool":
        return lib.tensor(keep.tolist())
    return lib.tensor((torch.randn(3, 5, generator=rows) * keep).tolist())


def _attention(lib, q, k, v, mask_kind, dropout_p=0.0):
    return lib.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=_mask(lib, mask_kind), is_causal=True, dropout_p=dropout_p
    )


def _qkv(*shapes):
    generator = torch.Generator().manual_seed(7)
    return [torch.randn(shape, generator=generator) for shape in shapes]


@pytest.mark.parametrize("mask_kind", ["bool", "float"])
@pytest.mark.parametrize(
    "case",
    ["flash_4d", "float64", "three_dims", "two_dims", "dropout", "broadcast_key", "value_width"],
)
def test_attention_with_mask_and_is_causal_as_torchs_cpu_paths(case, mask_kind):
    shapes = {
        "three_dims": [(2, 3, 4), (2, 5, 4), (2, 5, 4)],
        "two_dims": [(3, 4), (5, 4), (5, 4)],
        "broadcast_key": [(1, 2, 3, 4), (1, 1, 5, 4), (1, 1, 5, 4)],
        "value_width": [(1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 6)],
    }.get(case, [(1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)])
    inputs = _qkv(*shapes)
    if case == "float64":
        inputs = [t.double() for t in inputs]
    dropout_p = 0.5 if case == "dropout" else 0.0
    agree(case, lambda lib, q, k, v: _attention(lib, q, k, v, mask_kind, dropout_p), inputs)


def test_attention_mask_requiring_grad_with_is_causal_is_refused():
    def run(lib, q, k, v):
        mask = _mask(lib, "float").requires_grad_()
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True)

    agree("mask_requires_grad", run, _qkv((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)))


BROADCASTS = {
    "2d": lambda lib: lib.ones(2, 2) + lib.ones(3, 3),
    "3d_last_dim": lambda lib: lib.ones(2, 3, 4) * lib.ones(5, 3, 6),
    "where": lambda lib: lib.where(lib.ones(3, 3).bool(), lib.ones(2, 2), 0.0),
    "broadcast_tensors": lambda lib: lib.broadcast_tensors(lib.ones(2, 2), lib.ones(3, 3)),
    "masked_fill_context_too_long": lambda lib: lib.ones(2, 4, 4).masked_fill_(lib.ones(5, 5).bool(), 0),
}


@pytest.mark.parametrize("case", BROADCASTS, ids=list(BROADCASTS))
def test_broadcast_error_names_the_last_mismatching_dimension(case):
    agree(case, BROADCASTS[case], [])
