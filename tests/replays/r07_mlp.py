"""A character-level MLP language model (embedding table, tanh layer, softmax), makemore style.

    python tests/replays/r07_mlp.py [--backend=torch]

Three characters of context are embedded through a table C (``C[X]`` with a 2-D index tensor),
concatenated, passed through a tanh layer and a softmax. Weights and minibatch indices come from
numpy; the learning-rate sweep uses torch.linspace and ``10**lre``; evaluation is decorated with
``@torch.no_grad()``.
"""

import random
import sys

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

F = torch.nn.functional

words = [
    "avarin", "belqo", "corvyn", "dalixa", "emberly", "fenwick", "galeno", "hazuri", "ilvane", "jorvik",
    "kestra", "lumio", "maxwen", "nerida", "orbelle", "pyxie", "quillon", "rasmi", "selwyn", "tavish",
    "ulrika", "vexley", "wrenna", "xandor", "yavelle", "zephra", "amadi", "brisco", "celyne", "dorrin",
    "esque", "fjola", "gwyndel", "harlo", "izzet", "jupiter", "kaelum", "lorcan", "mirabel", "nyx",
]  # fmt: skip
chars = sorted(list(set("".join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}

block_size = 3  # context length: how many characters we take to predict the next one


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]  # crop and append
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    print(tuple(X.shape), tuple(Y.shape), X.dtype)
    return X, Y


X, Y = build_dataset(words)

rng = np.random.default_rng(42)


def randn(*shape):
    return torch.tensor(rng.standard_normal(shape), dtype=torch.float32)


C = randn(27, 2)
print(f"C[5] == row 5 of one_hot @ C: {torch.allclose(C[5], F.one_hot(torch.tensor(5), num_classes=27).float() @ C)}")
emb = C[X]
print(f"emb {tuple(emb.shape)}, C[X][13, 2] is C[X[13, 2]]: {torch.equal(emb[13, 2], C[X[13, 2]])}")

W1 = randn(6, 50)
b1 = randn(50)
joined = torch.cat([emb[:, 0, :], emb[:, 1, :], emb[:, 2, :]], 1)
unbound = torch.cat(torch.unbind(emb, 1), 1)
print(
    f"cat of slices == cat of unbind == view: {torch.equal(joined, unbound) and torch.equal(joined, emb.view(-1, 6))}"
)
a = torch.arange(18)
print(f"a.view(3, 3, 2) shape {tuple(a.view(3, 3, 2).shape)}, is_contiguous {a.is_contiguous()}")

h = torch.tanh(emb.view(-1, 6) @ W1 + b1)
print(f"h {tuple(h.shape)}, in [-1, 1]: {bool((h.abs() <= 1).all())}")
W2 = randn(50, 27)
b2 = randn(27)
logits = h @ W2 + b2
counts = logits.exp()
prob = counts / counts.sum(1, keepdims=True)
loss = -prob[torch.arange(X.shape[0]), Y].log().mean()
print(f"hand-written loss {loss.item():.4f}, F.cross_entropy {F.cross_entropy(logits, Y).item():.4f}")

# --- the training setup --------------------------------------------------------------------
rng = np.random.default_rng(2147483647)
C = randn(27, 2)
W1 = randn(6, 32) * 0.3
b1 = randn(32) * 0.1
W2 = randn(32, 27) * 0.1
b2 = randn(27) * 0.0
parameters = [C, W1, b1, W2, b2]
print("number of parameters in total:", sum(p.nelement() for p in parameters))
for p in parameters:
    p.requires_grad = True

lre = torch.linspace(-3, 0, 1000)
lrs = 10**lre
print(f"learning rates from {lrs[0].item():.4g} to {lrs[-1].item():.4g}, lrs[500] = {lrs[500].item():.4g}")

lri, lossi = [], []
for i in range(20):
    # minibatch construct
    ix = torch.from_numpy(rng.integers(0, X.shape[0], (32,)))

    # forward pass
    emb = C[X[ix]]  # (32, 3, 2)
    h = torch.tanh(emb.view(-1, 6) @ W1 + b1)  # (32, 32)
    logits = h @ W2 + b2  # (32, 27)
    loss = F.cross_entropy(logits, Y[ix])

    # backward pass
    for p in parameters:
        p.grad = None
    loss.backward()

    # update
    lr = lrs[600 + 20 * i].item()
    for p in parameters:
        p.data += -lr * p.grad

    lri.append(lre[600 + 20 * i].item())
    lossi.append(loss.log10().item())
print(f"swept exponents {lri[0]:.4f}..{lri[-1]:.4f}, log10 loss first {lossi[0]:.4f} last {lossi[-1]:.4f}")


@torch.no_grad()  # this decorator disables gradient tracking
def split_loss(Xs, Ys):
    emb = C[Xs]
    h = torch.tanh(emb.view(-1, 6) @ W1 + b1)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Ys)
    return loss.item(), loss.requires_grad


# --- train / dev split, sampling ----------------------------------------------------------------
random.seed(42)
shuffled = words[:]
random.shuffle(shuffled)
n1 = int(0.8 * len(shuffled))
Xtr, Ytr = build_dataset(shuffled[:n1])
Xdev, Ydev = build_dataset(shuffled[n1:])
for _ in range(15):
    ix = torch.from_numpy(rng.integers(0, Xtr.shape[0], (32,)))
    emb = C[Xtr[ix]]
    h = torch.tanh(emb.view(-1, 6) @ W1 + b1)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Ytr[ix])
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1
    for p in parameters:
        p.data += -lr * p.grad
train_loss, tracked = split_loss(Xtr, Ytr)
dev_loss, _ = split_loss(Xdev, Ydev)
print(f"train {train_loss:.4f} dev {dev_loss:.4f}, tracked under no_grad: {tracked}")

g = torch.Generator().manual_seed(2147483647 + 10)
names = []
for _ in range(3):
    out = []
    context = [0] * block_size
    while True:
        emb = C[torch.tensor([context])]  # (1, block_size, 2)
        h = torch.tanh(emb.view(1, -1) @ W1 + b1)
        logits = h @ W2 + b2
        probs = F.softmax(logits, dim=1)
        ix = torch.multinomial(probs, num_samples=1, generator=g).item()
        context = context[1:] + [ix]
        out.append(ix)
        if ix == 0 or len(out) >= 20:
            break
    names.append("".join(itos[i] for i in out))
print(f"sampled {len(names)} names of known characters: {all(set(n) <= set(stoi) for n in names)}")
