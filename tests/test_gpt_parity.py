"""The same tiny GPT in torch and in tritongrad, with identical weights: the loss and every
parameter's gradient after one forward/backward agree at fp32 tolerance, and ten AdamW steps follow
torch's loss curve.

The model code is written once against the torch API and instantiated with either library
(``import tritongrad as torch`` is the point of tritongrad). tritongrad's loss is its fused
``F.linear_cross_entropy``; torch's is ``F.cross_entropy(F.linear(...))`` on the full logits.
"""

from __future__ import annotations

import types

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch

VOCAB, CONTEXT, WIDTH, HEADS, LAYERS, BATCH = 12, 8, 32, 2, 2, 8


def gpt(lib: types.ModuleType):
    """A pre-norm decoder-only GPT class (tied head) built from ``lib``'s nn and functional."""
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
            self.qkv, self.proj = nn.Linear(WIDTH, 3 * WIDTH), nn.Linear(WIDTH, WIDTH)
            self.mlp = nn.Sequential(nn.Linear(WIDTH, 4 * WIDTH), nn.GELU(), nn.Linear(4 * WIDTH, WIDTH))

        def forward(self, x):
            batch, length, _ = x.shape
            qkv = self.qkv(self.ln1(x)).view(batch, length, 3, HEADS, WIDTH // HEADS).permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(batch, length, WIDTH))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok_emb, self.pos_emb = nn.Embedding(VOCAB, WIDTH), nn.Embedding(CONTEXT, WIDTH)
            self.blocks = nn.Sequential(*[Block() for _ in range(LAYERS)])
            self.ln_f = nn.LayerNorm(WIDTH)

        def loss(self, tokens, targets):
            positions = lib.arange(tokens.shape[1])
            hidden = self.ln_f(self.blocks(self.tok_emb(tokens) + self.pos_emb(positions)))
            if lib is tritongrad:
                return F.linear_cross_entropy(hidden, self.tok_emb.weight, targets, chunk_size=24)
            logits = F.linear(hidden, self.tok_emb.weight)
            return F.cross_entropy(logits.flatten(0, 1), targets.flatten())

    return GPT


def _pair():
    torch.manual_seed(0)
    reference = gpt(torch)()
    with torch.no_grad():  # nonzero biases and LayerNorm affines, so their gradients are exercised
        for parameter in reference.parameters():
            if parameter.dim() == 1:
                parameter.add_(0.1 * torch.randn_like(parameter))
    mine = gpt(tritongrad)()
    mine.load_state_dict({name: from_torch(value) for name, value in reference.state_dict().items()})
    tokens = torch.randint(0, VOCAB, (BATCH, CONTEXT))
    targets = torch.randint(0, VOCAB, (BATCH, CONTEXT))
    targets[:, :3] = -100  # the prompt positions, as in examples/tiny_gpt.py
    return reference, mine, tokens, targets


def test_loss_and_every_gradient_match_torch():
    reference, mine, tokens, targets = _pair()
    expected = reference.loss(tokens, targets)
    expected.backward()
    got = mine.loss(from_torch(tokens), from_torch(targets))
    got.backward()
    assert_close(got, expected.detach(), rtol=1e-5, atol=1e-6, what="GPT loss")
    theirs = dict(reference.named_parameters())
    names = [name for name, _ in mine.named_parameters()]
    assert names == list(theirs), "parameter names and order as torch's"
    for name, parameter in mine.named_parameters():
        assert_close(parameter.grad, theirs[name].grad, rtol=1e-4, atol=2e-6, what=f"grad of {name}")


@pytest.mark.slow
def test_ten_adamw_steps_follow_torch():
    reference, mine, tokens, targets = _pair()
    tokens_mine, targets_mine = from_torch(tokens), from_torch(targets)
    optimizers = (
        torch.optim.AdamW(reference.parameters(), lr=1e-2, weight_decay=0.1),
        tritongrad.optim.AdamW(mine.parameters(), lr=1e-2, weight_decay=0.1),
    )
    curves = ([], [])
    for _ in range(10):
        for model, optimizer, curve, batch in zip(
            (reference, mine), optimizers, curves, ((tokens, targets), (tokens_mine, targets_mine))
        ):
            loss = model.loss(*batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            curve.append(loss.item())
    assert curves[0][-1] < curves[0][0] - 0.3, (
        f"torch's loss must drop for the comparison to mean anything: {curves[0]}"
    )
    # The losses, not the parameters: the key bias's gradient is 0 up to rounding (softmax ignores
    # a per-query constant), and Adam turns that rounding noise into full-size steps.
    assert_close(torch.tensor(curves[1]), torch.tensor(curves[0]), rtol=1e-4, atol=1e-4, what="loss curve")
