"""Train a tiny decoder-only GPT to add numbers, written as characters, with tritongrad.

    python examples/tiny_gpt.py [--task reverse|add] [--digits 4] [--steps 80] [--output examples/output]

The script makes its own data. ``--task reverse`` (the default, sized for the CPU interpreter):
strings of ``--digits`` digits, "1234=", answered with the digits reversed, "4321".
``--task add`` (a GPU-sized run, e.g. ``--task add --digits 2 --steps 3000 --batch-size 256
--width 128 --heads 4 --layers 2 --lr 1e-3``): "a+b=" with zero-padded operands, answered with the
sum's digits reversed (least significant first, so each digit follows the carry it needs). A share
of all problems is held out; the model is scored by exact match of its greedy answers on them, then
a few answers are sampled with temperature and top-k.

The model: token + position embeddings, pre-norm blocks of causal self-attention
(F.scaled_dot_product_attention, is_causal=True) and a GELU MLP, a final LayerNorm, and an output
head tied to the token embedding. The loss is tritongrad's fused linear + cross-entropy
(F.linear_cross_entropy: the logits are never materialised) over the answer positions only; AdamW
with a linear warmup then cosine decay (LinearLR + CosineAnnealingLR in SequentialLR) and
gradient clipping. A tqdm bar shows progress; the loss curve is saved as a PNG. Every forward,
backward and optimizer step runs as tritongrad Triton kernels (the interpreter on a CPU).
"""

from __future__ import annotations

import argparse
import math
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

import tritongrad as torch  # noqa: E402
import tritongrad.nn as nn  # noqa: E402
import tritongrad.nn.functional as F  # noqa: E402
from tritongrad import runtime  # noqa: E402
from tritongrad.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR  # noqa: E402

VOCAB = "0123456789+="
PLUS, EQUALS = VOCAB.index("+"), VOCAB.index("=")
IGNORE = -100


# ------------------------------------------------------------------------------------------ data


def encode_problems(a: np.ndarray, b: np.ndarray, digits: int) -> np.ndarray:
    """(P, 2 * digits + 2 + digits + 1) token ids: a, '+', b, '=', then the sum's digits reversed."""

    def digits_of(values: np.ndarray, width: int, reverse: bool) -> np.ndarray:
        columns = [(values // 10**i) % 10 for i in range(width)]  # least significant first
        return np.stack(columns if reverse else columns[::-1], axis=1)

    count = a.shape[0]
    return np.concatenate(
        [
            digits_of(a, digits, reverse=False),
            np.full((count, 1), PLUS),
            digits_of(b, digits, reverse=False),
            np.full((count, 1), EQUALS),
            digits_of(a + b, digits + 1, reverse=True),
        ],
        axis=1,
    ).astype(np.int64)


def encode_reversals(strings: np.ndarray) -> np.ndarray:
    """(P, 2 * n + 1) token ids: n digits, '=', the same digits in reverse order."""
    count = strings.shape[0]
    return np.concatenate([strings, np.full((count, 1), EQUALS), strings[:, ::-1]], axis=1).astype(np.int64)


def make_split(task: str, digits: int, held_out: float, max_train: int, seed: int):
    """(train, held_out) problems of ``task``: all of them (or a random sample when there are too
    many), split at random, so held-out problems are never trained on."""
    rng = np.random.default_rng(seed)
    total = 10 ** (2 * digits if task == "add" else digits)
    wanted = int(max_train / (1 - held_out))
    ids = rng.permutation(total) if total <= 4 * max_train else rng.choice(total, size=wanted, replace=False)
    if task == "add":
        base = 10**digits
        problems = encode_problems(ids // base, ids % base, digits)
    else:
        problems = encode_reversals(np.stack([(ids // 10**i) % 10 for i in range(digits)], axis=1))
    n_test = int(len(problems) * held_out)
    return problems[n_test:][:max_train], problems[:n_test]


def prompt_length(task: str, digits: int) -> int:
    """Tokens up to and including '=': the given part of a problem."""
    return 2 * digits + 2 if task == "add" else digits + 1


def inputs_and_targets(problems: np.ndarray, prompt: int):
    """Next-token pairs; targets only on the answer digits (the prompt is given, not predicted)."""
    inputs, targets = problems[:, :-1], problems[:, 1:].copy()
    targets[:, : prompt - 1] = IGNORE
    return torch.tensor(inputs), torch.tensor(targets)


# ----------------------------------------------------------------------------------------- model


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention through the fused flash-attention kernel.

    ``pack`` > 1 lays ``pack`` consecutive sequences of the batch end to end in one attention row
    with a block-diagonal causal mask: each token still sees exactly its own sequence's prefix
    (the same result as ``is_causal=True`` per sequence), but the kernel runs pack times fewer
    (batch, head) programs. That matters only in the CPU interpreter, where each program costs
    ~20 ms forward and ~50 ms backward whatever its tile holds; on a GPU pack is 1.
    """

    def __init__(self, width: int, heads: int, pack: int = 1) -> None:
        super().__init__()
        self.heads, self.pack = heads, pack
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.masks = {}

    def packed_mask(self, length: int):
        """(pack * length, pack * length) bool: True where a query may attend to a key."""
        if length not in self.masks:
            sequence, position = np.divmod(np.arange(self.pack * length), length)
            keep = (sequence[:, None] == sequence[None, :]) & (position[:, None] >= position[None, :])
            self.masks[length] = torch.tensor(keep)
        return self.masks[length]

    def forward(self, x):
        batch, length, width = x.shape
        pack = self.pack if batch % self.pack == 0 else 1
        rows, span = batch // pack, pack * length
        qkv = self.qkv(x).view(rows, span, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        if pack == 1:
            y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=True)
        else:
            y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=self.packed_mask(length))
        return self.proj(y.transpose(1, 2).reshape(batch, length, width))


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(norm(x)), then x + MLP(norm(x))."""

    def __init__(self, width: int, heads: int, pack: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads, pack)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab: int, context: int, width: int, heads: int, layers: int, pack: int = 1) -> None:
        super().__init__()
        self.tok_emb = nn.Embedding(vocab, width)
        self.pos_emb = nn.Embedding(context, width)
        self.blocks = nn.Sequential(*[Block(width, heads, pack) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(width)
        # GPT-2's initialisation: N(0, 0.02) weights, zero biases (the head is tok_emb.weight, tied).
        for name, parameter in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(parameter)
            elif parameter.dim() == 2:
                nn.init.normal_(parameter, std=0.02)

    def hidden(self, tokens):
        """(B, T) token ids -> (B, T, width) final hidden states."""
        positions = torch.arange(tokens.shape[1])
        return self.ln_f(self.blocks(self.tok_emb(tokens) + self.pos_emb(positions)))

    def loss(self, tokens, targets):
        """Mean next-token cross-entropy over the non-ignored targets, fused with the tied head."""
        return F.linear_cross_entropy(self.hidden(tokens), self.tok_emb.weight, targets, ignore_index=IGNORE)

    def next_logits(self, tokens):
        """(B, vocab) logits of the token after the last one."""
        return F.linear(self.hidden(tokens)[:, -1], self.tok_emb.weight)


# ------------------------------------------------------------------------------------- decoding


def greedy_answers(model: TinyGPT, prompts, steps: int):
    """Appends ``steps`` argmax tokens to every prompt (B, P): (B, steps)."""
    tokens = prompts
    for _ in range(steps):
        tokens = torch.cat([tokens, model.next_logits(tokens).argmax(dim=-1, keepdim=True)], dim=1)
    return tokens[:, prompts.shape[1] :]


def sample_answers(model: TinyGPT, prompts, steps: int, temperature: float, top_k: int):
    """Like greedy_answers, drawing each token from softmax(logits / temperature) over the top k."""
    tokens = prompts
    for _ in range(steps):
        logits = model.next_logits(tokens) / temperature
        values, indices = logits.topk(top_k, dim=-1)
        choice = F.softmax(values, dim=-1).multinomial(1)
        tokens = torch.cat([tokens, indices.gather(1, choice)], dim=1)
    return tokens[:, prompts.shape[1] :]


def exact_match(model: TinyGPT, problems: np.ndarray, prompt: int, batch: int = 512) -> float:
    """Share of problems whose greedy answer is right. Teacher forcing gives the same verdict in one
    forward pass: if every answer digit is the argmax given the true digits before it, greedy
    decoding reproduces them one by one; at the first wrong argmax it goes wrong too."""
    correct = 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(problems), batch):
            chunk = problems[start : start + batch]
            hidden = model.hidden(torch.tensor(chunk[:, :-1]))[:, prompt - 1 :]
            predicted = F.linear(hidden, model.tok_emb.weight).argmax(dim=-1).numpy()
            correct += int((predicted == chunk[:, prompt:]).all(axis=1).sum())
    model.train()
    return correct / max(len(problems), 1)


def render(tokens) -> str:
    return "".join(VOCAB[int(t)] for t in tokens)


# ----------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["reverse", "add"], default="reverse")
    parser.add_argument("--digits", type=int, default=4, help="digits of the string (reverse) or per operand (add)")
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--warmup", type=int, default=10, help="linear warmup steps")
    parser.add_argument("--held-out", type=float, default=0.1, help="share of problems never trained on")
    parser.add_argument("--max-train", type=int, default=50_000, help="cap on training problems")
    parser.add_argument("--samples", type=int, default=4, help="answers sampled at the end")
    parser.add_argument(
        "--pack",
        type=int,
        default=None,
        help="sequences per attention row (default: 64 // context in the interpreter, else 1)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "output"))
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train, test = make_split(args.task, args.digits, args.held_out, args.max_train, args.seed)
    prompt = prompt_length(args.task, args.digits)
    context = train.shape[1] - 1
    # The largest pack that fills at most one 64-row interpreter tile and divides the batch.
    fits = max(1, 64 // context) if runtime.is_interpreter() else 1
    pack = args.pack or max(p for p in range(1, fits + 1) if args.batch_size % p == 0)
    model = TinyGPT(len(VOCAB), context, args.width, args.heads, args.layers, pack)
    print(f"{len(train)} training problems, {len(test)} held out, e.g. {render(train[0])}")
    print(f"TinyGPT: {sum(p.numel() for p in model.parameters())} parameters, context {context}")

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.98),
    )
    warmup = min(args.warmup, max(args.steps - 1, 1))
    scheduler = SequentialLR(
        optimizer,
        [
            LinearLR(optimizer, start_factor=0.05, total_iters=warmup),
            CosineAnnealingLR(optimizer, T_max=max(args.steps - warmup, 1), eta_min=args.lr * 0.02),
        ],
        milestones=[warmup],
    )

    losses = []
    started = time.perf_counter()
    progress = tqdm(range(args.steps), desc="training", unit="step")
    for _ in progress:
        batch = train[rng.integers(0, len(train), size=args.batch_size)]
        inputs, targets = inputs_and_targets(batch, prompt)
        loss = model.loss(inputs, targets)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        progress.set_postfix(loss=f"{losses[-1]:.4f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
    train_seconds = time.perf_counter() - started

    accuracy = exact_match(model, test, prompt)
    tail = max(1, min(10, args.steps // 4))
    print(f"first loss {losses[0]:.4f}, last loss {np.mean(losses[-tail:]):.4f} (mean of the last {tail} steps)")
    print(
        f"held-out exact match {accuracy:.4f} on {len(test)} problems after {args.steps} steps ({train_seconds:.0f} s)"
    )

    picks = test[rng.integers(0, len(test), size=args.samples)] if args.samples else test[:0]
    if len(picks):
        with torch.no_grad():
            answer_length = picks.shape[1] - prompt
            sampled = sample_answers(model, torch.tensor(picks[:, :prompt]), answer_length, 0.8, 3).numpy()
        for problem, answer in zip(picks, sampled):
            verdict = "ok" if (answer == problem[prompt:]).all() else f"wrong, expected {render(problem[prompt:])}"
            print(f"sampled (T=0.8, top-3): {render(problem[:prompt])}{render(answer)} ({verdict})")

    os.makedirs(args.output, exist_ok=True)
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(losses, linewidth=1)
    axis.set_yscale("log")
    axis.set_xlabel("step")
    axis.set_ylabel("cross-entropy (answer digits)")
    axis.set_title(f"tiny GPT, {args.task} {args.digits} digits: {accuracy:.1%} held-out exact match")
    figure.tight_layout()
    path = os.path.join(args.output, "tiny_gpt_loss.png")
    figure.savefig(path, dpi=100)
    print(f"loss curve saved to {path}")
    if not math.isfinite(losses[-1]):
        raise SystemExit("training diverged")


if __name__ == "__main__":
    main()
