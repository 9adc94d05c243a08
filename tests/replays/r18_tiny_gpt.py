"""A character-level GPT written from scratch, in the style of the "let's build GPT" lecture, then nn's own layers.

    python tests/replays/r18_tiny_gpt.py [--backend=torch]

A short built-in text replaces the Shakespeare file. The model is the lecture's: token and
position embeddings (``torch.arange(T)``), self-attention heads with a ``tril`` buffer
(``register_buffer``), ``masked_fill(self.tril[:T, :T] == 0, float('-inf'))`` and F.softmax,
heads in an nn.ModuleList concatenated with torch.cat, a feed-forward block, pre-LayerNorm
residual blocks, ``logits.view(B*T, C)`` into F.cross_entropy, AdamW and an ``estimate_loss``
under ``@torch.no_grad()``. Batches come from numpy; generation samples with torch.multinomial
(a stream that differs between backends, so only its shape and vocabulary are printed).
Then the same attention through nn.MultiheadAttention (its in_proj weights copied from the
hand-written heads) and an nn.TransformerEncoderLayer with a causal float mask.
"""

import sys

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

nn = torch.nn
F = torch.nn.functional

# hyperparameters
batch_size = 4  # how many independent sequences will we process in parallel?
block_size = 6  # what is the maximum context length for predictions?
max_iters = 3
eval_interval = 2
learning_rate = 3e-3
eval_iters = 1
n_embd = 16
n_head = 2
n_layer = 1
dropout = 0.0
# ------------

rng = np.random.default_rng(1337)
text = (
    "First Citizen: Before we proceed any further, hear me speak. "
    "All: Speak, speak. First Citizen: You are all resolved rather to die than to famish? "
    "All: Resolved. resolved. First Citizen: First, you know Caius Marcius is chief enemy to the people. "
)

# here are all the unique characters that occur in this text
chars = sorted(list(set(text)))
vocab_size = len(chars)
# create a mapping from characters to integers
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for i, ch in enumerate(chars)}
encode = lambda s: [stoi[c] for c in s]  # noqa: E731 (the lecture's one-liners)
decode = lambda l: "".join([itos[i] for i in l])  # noqa: E731, E741
print(f"vocab {vocab_size}: {''.join(chars)!r}")
print(encode("hii there"), decode(encode("hii there")))

# Train and test splits
data = torch.tensor(encode(text), dtype=torch.long)
n = int(0.9 * len(data))  # first 90% will be train, rest val
train_data = data[:n]
val_data = data[n:]
print(data.shape, data.dtype, data[:10])


# data loading
def get_batch(split):
    # generate a small batch of data of inputs x and targets y
    data = train_data if split == "train" else val_data
    ix = torch.from_numpy(rng.integers(0, len(data) - block_size, (batch_size,)))  # torch.randint in the lecture
    x = torch.stack([data[i : i + block_size] for i in ix])
    y = torch.stack([data[i + 1 : i + block_size + 1] for i in ix])
    return x, y


@torch.no_grad()
def estimate_loss():
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split)
            logits, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out


class Head(nn.Module):
    """one head of self-attention"""

    def __init__(self, head_size):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))

        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        B, T, C = x.shape
        k = self.key(x)  # (B,T,C)
        q = self.query(x)  # (B,T,C)
        # compute attention scores ("affinities")
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, C) @ (B, C, T) -> (B, T, T)
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))  # (B, T, T)
        wei = F.softmax(wei, dim=-1)  # (B, T, T)
        wei = self.dropout(wei)
        # perform the weighted aggregation of the values
        v = self.value(x)  # (B,T,C)
        out = wei @ v  # (B, T, T) @ (B, T, C) -> (B, T, C)
        return out


class MultiHeadAttention(nn.Module):
    """multiple heads of self-attention in parallel"""

    def __init__(self, num_heads, head_size):
        super().__init__()
        self.heads = nn.ModuleList([Head(head_size) for _ in range(num_heads)])
        self.proj = nn.Linear(n_embd, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        out = torch.cat([h(x) for h in self.heads], dim=-1)
        out = self.dropout(self.proj(out))
        return out


class FeedFoward(nn.Module):
    """a simple linear layer followed by a non-linearity"""

    def __init__(self, n_embd):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),
            nn.ReLU(),
            nn.Linear(4 * n_embd, n_embd),
            nn.Dropout(dropout),
        )

    def forward(self, x):
        return self.net(x)


class Block(nn.Module):
    """Transformer block: communication followed by computation"""

    def __init__(self, n_embd, n_head):
        # n_embd: embedding dimension, n_head: the number of heads we'd like
        super().__init__()
        head_size = n_embd // n_head
        self.sa = MultiHeadAttention(n_head, head_size)
        self.ffwd = FeedFoward(n_embd)
        self.ln1 = nn.LayerNorm(n_embd)
        self.ln2 = nn.LayerNorm(n_embd)

    def forward(self, x):
        x = x + self.sa(self.ln1(x))
        x = x + self.ffwd(self.ln2(x))
        return x


class GPTLanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        # each token directly reads off the logits for the next token from a lookup table
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head=n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)  # final layer norm
        self.lm_head = nn.Linear(n_embd, vocab_size)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        # the lecture draws normal(0, 0.02) with torch's generator; numpy's numbers here
        if isinstance(module, (nn.Linear, nn.Embedding)):
            with torch.no_grad():
                module.weight.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(module.weight.shape)).astype(np.float32)))
            if getattr(module, "bias", None) is not None:
                torch.nn.init.zeros_(module.bias)

    def forward(self, idx, targets=None):
        B, T = idx.shape

        # idx and targets are both (B,T) tensor of integers
        tok_emb = self.token_embedding_table(idx)  # (B,T,C)
        pos_emb = self.position_embedding_table(torch.arange(T))  # (T,C)
        x = tok_emb + pos_emb  # (B,T,C)
        x = self.blocks(x)  # (B,T,C)
        x = self.ln_f(x)  # (B,T,C)
        logits = self.lm_head(x)  # (B,T,vocab_size)

        if targets is None:
            loss = None
        else:
            B, T, C = logits.shape
            logits = logits.view(B * T, C)
            targets = targets.view(B * T)
            loss = F.cross_entropy(logits, targets)

        return logits, loss

    def generate(self, idx, max_new_tokens):
        # idx is (B, T) array of indices in the current context
        for _ in range(max_new_tokens):
            # crop idx to the last block_size tokens
            idx_cond = idx[:, -block_size:]
            # get the predictions
            logits, loss = self(idx_cond)
            # focus only on the last time step
            logits = logits[:, -1, :]  # becomes (B, C)
            # apply softmax to get probabilities
            probs = F.softmax(logits, dim=-1)  # (B, C)
            # sample from the distribution
            idx_next = torch.multinomial(probs, num_samples=1)  # (B, 1)
            # append sampled index to the running sequence
            idx = torch.cat((idx, idx_next), dim=1)  # (B, T+1)
        return idx


model = GPTLanguageModel()
m = model.to("cpu")
# print the number of parameters in the model
print(sum(p.numel() for p in m.parameters()) / 1e3, "K parameters")
print(f"buffers: {[name for name, _ in m.named_buffers()]}")

# create a PyTorch optimizer
optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)

for iter in range(max_iters):
    # every once in a while evaluate the loss on train and val sets
    if iter % eval_interval == 0 or iter == max_iters - 1:
        losses = estimate_loss()
        print(f"step {iter}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")

    # sample a batch of data
    xb, yb = get_batch("train")

    # evaluate the loss
    logits, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()

# generate from the model
context = torch.zeros((1, 1), dtype=torch.long)
torch.manual_seed(1337)
out = m.generate(context, max_new_tokens=4)[0].tolist()
print(f"generated {len(out)} tokens, all in the vocabulary: {all(0 <= t < vocab_size for t in out)}")
print(f"decodes to {len(decode(out))} characters")

# --- the same attention through nn.MultiheadAttention ---------------------------------------
block = model.blocks[0]
mha = nn.MultiheadAttention(n_embd, n_head, bias=False, batch_first=True)
with torch.no_grad():
    heads = block.sa.heads
    wq = torch.cat([h.query.weight for h in heads], dim=0)
    wk = torch.cat([h.key.weight for h in heads], dim=0)
    wv = torch.cat([h.value.weight for h in heads], dim=0)
    mha.in_proj_weight.copy_(torch.cat([wq, wk, wv], dim=0))
    mha.out_proj.weight.copy_(block.sa.proj.weight)
    xb, _ = get_batch("val")
    h = block.ln1(model.token_embedding_table(xb) + model.position_embedding_table(torch.arange(block_size)))
    causal = torch.triu(torch.ones(block_size, block_size, dtype=torch.bool), diagonal=1)  # True = masked
    ours = block.sa(h) - block.sa.proj.bias
    theirs, weights = mha(h, h, h, attn_mask=causal)
    print(f"MultiheadAttention output {tuple(theirs.shape)}, weights {tuple(weights.shape)}")
    print(f"agrees with the hand-written heads: {torch.allclose(ours, theirs, atol=1e-5)}")
    print(f"attention rows sum to one: {torch.allclose(weights.sum(-1), torch.ones(batch_size, block_size))}")
    print(f"no weight above the diagonal: {weights.triu(1).abs().max().item()}")

# --- nn.TransformerEncoderLayer with a causal float mask -----------------------------------
layer = nn.TransformerEncoderLayer(d_model=n_embd, nhead=n_head, dim_feedforward=32, dropout=0.0, batch_first=True)
encoder = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)
with torch.no_grad():
    for name, p in encoder.named_parameters():
        if "norm" not in name:  # layer norms start at ones and zeros; the rest is random in torch
            p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
mask = torch.triu(torch.full((block_size, block_size), float("-inf")), diagonal=1)
print(f"encoder parameters: {sum(p.numel() for p in encoder.parameters())}")
enc_opt = torch.optim.Adam(encoder.parameters(), lr=1e-2)
head = model.lm_head
for step in range(2):
    xb, yb = get_batch("train")
    z = encoder(model.token_embedding_table(xb).detach(), mask=mask, is_causal=True)
    loss = F.cross_entropy(head(z).view(-1, vocab_size), yb.view(-1))
    enc_opt.zero_grad()
    loss.backward()
    enc_opt.step()
    print(f"encoder step {step}: loss {loss.item():.4f}, output std {z.std().item():.4f}")
