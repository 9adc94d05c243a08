"""One GPT training step, tritongrad against torch eager, from identical weights and data.

A step is ``loss = model.loss(tokens, targets); loss.backward(); optimizer.step();
optimizer.zero_grad()`` with AdamW (lr 1e-3, betas (0.9, 0.95), weight decay 0.1) on every
parameter. tritongrad's model is ``TinyGPT`` of examples/tiny_gpt.py itself: token and position
embeddings, pre-norm blocks of causal flash attention and a GELU MLP, a final LayerNorm, the head
tied to the token embedding, and the loss through the fused ``F.linear_cross_entropy``. The example
is written against tritongrad (``import tritongrad as torch``), so it cannot be instantiated with
torch: ``TorchGPT`` below mirrors it module for module (same parameter names; ``load_state_dict``
with strict keys proves it), with torch's SDPA and the unfused ``F.cross_entropy(F.linear(...))``.

Sizes: 6 layers, d_model 384, 6 heads, context 256, batch 32 (8192 tokens a step), with a
character vocabulary (65) and a 32K one, in fp32 and bf16 (bf16 parameters and activations, no
autocast). Before timing, the losses of two steps must agree (the second one after an AdamW
update). Reported per step: time, tokens/s (in the note; the speed ratio is the torch ms / ms
column) and, on a GPU, the peak memory a step allocates above what was allocated before it
(parameters, optimizer state, data): activations, logits or their chunks, gradients.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
from types import ModuleType
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

import tritongrad
from benchmarks.bench_fused_ce import peak_extra_mb
from benchmarks.common import Benchmark, Context, Row, as_tritongrad, check_close, device, dtype_name, on_gpu


@dataclasses.dataclass(frozen=True)
class GPTShape:
    vocab: int
    context: int
    width: int
    heads: int
    layers: int
    batch: int

    def __str__(self) -> str:
        return f"V{self.vocab} L{self.layers} d{self.width} h{self.heads} T{self.context} B{self.batch}"


SHAPES = [GPTShape(65, 256, 384, 6, 6, 32), GPTShape(32768, 256, 384, 6, 6, 32)]
DTYPES = [torch.float32, torch.bfloat16]
# Smoke: one layer of a tiny model in fp32; a step is ~60 interpreter launches (1-3 s on a CPU), and
# a bf16 run would double the time for what is the same code with one more .to(dtype).
SMOKE_SHAPES = [GPTShape(65, 8, 32, 2, 1, 4)]
SMOKE_DTYPES = [torch.float32]
LR, BETAS, WEIGHT_DECAY = 1e-3, (0.9, 0.95), 0.1
CHECKED_STEPS = 2
# Losses of two steps, relative to max(1, |loss|): fp32 leaves room for the first AdamW step turning
# the rounding noise of near-zero gradients into +-lr steps; a bf16 loss near 4 is spaced by 1/32.
TOLERANCE = {torch.float32: 1e-3, torch.bfloat16: 4e-2}


def tiny_gpt_example() -> ModuleType:
    """examples/tiny_gpt.py as a module.

    Imported when the benchmark runs, not with the suite: the example needs the "examples" extra
    (matplotlib, tqdm), which the other benchmarks do not.
    """
    try:
        return importlib.import_module("examples.tiny_gpt")
    except ImportError as error:
        raise RuntimeError(
            f"the gpt_step benchmark builds examples/tiny_gpt.py's model, which needs the examples extra "
            f"(pip install -e '.[examples]') and the repository root on sys.path: {error}"
        ) from error


# ----------------------------------------------------------------------------------------------
# The torch mirror of examples/tiny_gpt.py's TinyGPT (pack = 1: plain is_causal attention)
# ----------------------------------------------------------------------------------------------


class TorchCausalSelfAttention(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        qkv = self.qkv(x).view(batch, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(batch, length, width))


class TorchBlock(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = TorchCausalSelfAttention(width, heads)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TorchGPT(nn.Module):
    """TinyGPT in torch; its weights are loaded from a TinyGPT (no initialisation of its own matters)."""

    def __init__(self, shape: GPTShape, ignore_index: int) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.tok_emb = nn.Embedding(shape.vocab, shape.width)
        self.pos_emb = nn.Embedding(shape.context, shape.width)
        self.blocks = nn.Sequential(*[TorchBlock(shape.width, shape.heads) for _ in range(shape.layers)])
        self.ln_f = nn.LayerNorm(shape.width)

    def loss(self, tokens: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        hidden = self.ln_f(self.blocks(self.tok_emb(tokens) + self.pos_emb(positions)))
        logits = F.linear(hidden, self.tok_emb.weight)
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=self.ignore_index)


# ----------------------------------------------------------------------------------------------
# Both sides and the benchmark
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Side:
    """One framework's model, optimizer and batch."""

    model: Any
    optimizer: Any
    tokens: Any
    targets: Any

    def step(self):
        """One training step; returns the loss (computed before the update)."""
        loss = self.model.loss(self.tokens, self.targets)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss


def make_sides(shape: GPTShape, dtype: torch.dtype, seed: int = 0) -> dict[str, Side]:
    """{"tritongrad": the example's TinyGPT, "torch": TorchGPT with its weights}, on one random batch."""
    example = tiny_gpt_example()
    tritongrad.manual_seed(seed)
    ours = example.TinyGPT(shape.vocab, shape.context, shape.width, shape.heads, shape.layers).to(dtype)
    theirs = TorchGPT(shape, example.IGNORE).to(device=device(), dtype=dtype)
    theirs.load_state_dict({name: value._data for name, value in ours.state_dict().items()})
    generator = torch.Generator().manual_seed(seed)
    text = torch.randint(0, shape.vocab, (shape.batch, shape.context + 1), generator=generator).to(device())
    tokens, targets = text[:, :-1].contiguous(), text[:, 1:].contiguous()
    options = {"lr": LR, "betas": BETAS, "weight_decay": WEIGHT_DECAY}
    return {
        "tritongrad": Side(ours, tritongrad.optim.AdamW(ours.parameters(), **options), as_tritongrad(tokens),
                           as_tritongrad(targets)),
        "torch": Side(theirs, torch.optim.AdamW(theirs.parameters(), **options), tokens, targets),
    }  # fmt: skip


def check_sides_agree(sides: dict[str, Side], dtype: torch.dtype, label: str) -> None:
    """Raises AssertionError if the losses of the first CHECKED_STEPS steps differ."""
    for step in range(CHECKED_STEPS):
        ours, theirs = sides["tritongrad"].step(), sides["torch"].step()
        check_close(f"{label} loss at step {step}", ours._data, theirs.detach(), TOLERANCE[dtype])


def _free_memory() -> None:
    gc.collect()
    if on_gpu():
        torch.cuda.synchronize()
        torch.cuda.empty_cache()


def _measure(context: Context, shape: GPTShape, dtype: torch.dtype) -> list[Row]:
    sides = make_sides(shape, dtype)
    check_sides_agree(sides, dtype, f"GPT {shape} {dtype_name(dtype)}")  # also the warm-up
    tokens = shape.batch * shape.context
    rows = []
    for impl, side in sides.items():
        peak = peak_extra_mb(side.step)[1] if on_gpu() else None
        timing = context.time(side.step, warmup_calls=0)
        row = Row("gpt_step", "GPT training step", impl, dtype_name(dtype), str(shape), shape.vocab, timing.ms,
                  timing.ms_p20, timing.ms_p80, peak_mem_mb=peak)  # fmt: skip
        row.note = f"{tokens / (timing.ms * 1e-3):.4g} tokens/s"
        rows.append(row)
    sides.clear()
    _free_memory()
    return rows


def run(context: Context) -> list[Row]:
    rows = []
    for dtype in SMOKE_DTYPES if context.smoke else DTYPES:
        for shape in SMOKE_SHAPES if context.smoke else SHAPES:
            rows += _measure(context, shape, dtype)
    return rows


BENCHMARK = Benchmark(
    name="gpt_step",
    title="GPT training step (tiny_gpt.py's model, AdamW) vs torch",
    description=__doc__.split("\n\n", 1)[1].strip(),
    run=run,
    metric="ms",
    x_label="V (vocabulary)",
)
