"""Backpropagation by hand through an MLP with batch norm, checked against autograd, makemore style.

    python tests/replays/r08_manual_backprop.py [--backend=torch]

The forward pass is broken into small steps (a hand-written batch norm, a numerically stable
softmax built from max/exp/sum/reciprocal/log), every intermediate keeps its gradient
(``retain_grad``), and then every gradient is derived by hand and compared with ``.grad``.
"""

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
]  # fmt: skip
chars = sorted(set("".join(words)) | set("abcdefghijklmnopqrstuvwxyz"))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
vocab_size = len(stoi)
block_size = 3

X, Y = [], []
for w in words:
    context = [0] * block_size
    for ch in w + ".":
        X.append(context)
        Y.append(stoi[ch])
        context = context[1:] + [stoi[ch]]
X = torch.tensor(X)
Y = torch.tensor(Y)


def cmp(name, dt, t):
    """Compares a hand-derived gradient with autograd's."""
    app = torch.allclose(dt, t.grad, rtol=1e-4, atol=1e-6)
    maxdiff = (dt - t.grad).abs().max().item()
    print(f"{name:15s} | approximate: {str(app):5s} | maxdiff below 1e-6: {maxdiff < 1e-6}")


n_embd = 4  # dimensionality of the character embedding vectors
n_hidden = 16  # neurons in the hidden layer
rng = np.random.default_rng(1)


def randn(*shape):
    return torch.tensor(rng.standard_normal(shape), dtype=torch.float32)


C = randn(vocab_size, n_embd)
# Layer 1
W1 = randn(n_embd * block_size, n_hidden) * (5 / 3) / ((n_embd * block_size) ** 0.5)
b1 = randn(n_hidden) * 0.1  # useless because of batch norm, but it makes the check complete
# Layer 2
W2 = randn(n_hidden, vocab_size) * 0.1
b2 = randn(vocab_size) * 0.1
# BatchNorm parameters, not at their usual ones/zeros so that the check is not trivial
bngain = randn(1, n_hidden) * 0.1 + 1.0
bnbias = randn(1, n_hidden) * 0.1

parameters = [C, W1, b1, W2, b2, bngain, bnbias]
print("parameters:", sum(p.nelement() for p in parameters))
for p in parameters:
    p.requires_grad = True

batch_size = 16
n = batch_size
ix = torch.from_numpy(rng.integers(0, X.shape[0], (batch_size,)))
Xb, Yb = X[ix], Y[ix]

# forward pass, chunked into steps that are each easy to differentiate by hand
emb = C[Xb]  # embed the characters into vectors
embcat = emb.view(emb.shape[0], -1)  # concatenate the vectors
# Linear layer 1
hprebn = embcat @ W1 + b1  # hidden layer pre-activation
# BatchNorm layer
bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
bndiff = hprebn - bnmeani
bndiff2 = bndiff**2
bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)  # Bessel's correction (n-1, not n)
bnvar_inv = (bnvar + 1e-5) ** -0.5
bnraw = bndiff * bnvar_inv
hpreact = bngain * bnraw + bnbias
# Non-linearity
h = torch.tanh(hpreact)
# Linear layer 2
logits = h @ W2 + b2
# cross entropy loss (the same as F.cross_entropy(logits, Yb))
logit_maxes = logits.max(1, keepdim=True).values
norm_logits = logits - logit_maxes  # subtract the max for numerical stability
counts = norm_logits.exp()
counts_sum = counts.sum(1, keepdims=True)
counts_sum_inv = counts_sum**-1
probs = counts * counts_sum_inv
logprobs = probs.log()
loss = -logprobs[range(n), Yb].mean()

for p in parameters:
    p.grad = None
for t in [logprobs, probs, counts, counts_sum, counts_sum_inv, norm_logits, logit_maxes, logits, h, hpreact,
          bnraw, bnvar_inv, bnvar, bndiff2, bndiff, hprebn, bnmeani, embcat, emb]:  # fmt: skip
    t.retain_grad()
loss.backward()
print(f"loss {loss.item():.5f}")

# --- every gradient by hand ----------------------------------------------------------------------
dlogprobs = torch.zeros_like(logprobs)
dlogprobs[range(n), Yb] = -1.0 / n
dprobs = (1.0 / probs) * dlogprobs
dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
dcounts = counts_sum_inv * dprobs
dcounts_sum = (-(counts_sum**-2)) * dcounts_sum_inv
dcounts += torch.ones_like(counts) * dcounts_sum
dnorm_logits = counts * dcounts
dlogits = dnorm_logits.clone()
dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
dh = dlogits @ W2.T
dW2 = h.T @ dlogits
db2 = dlogits.sum(0)
dhpreact = (1.0 - h**2) * dh
dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
dbnraw = bngain * dhpreact
dbnbias = dhpreact.sum(0, keepdim=True)
dbndiff = bnvar_inv * dbnraw
dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
dbnvar = (-0.5 * (bnvar + 1e-5) ** -1.5) * dbnvar_inv
dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(bndiff2) * dbnvar
dbndiff += (2 * bndiff) * dbndiff2
dhprebn = dbndiff.clone()
dbnmeani = (-dbndiff).sum(0)
dhprebn += 1.0 / n * (torch.ones_like(hprebn) * dbnmeani)
dembcat = dhprebn @ W1.T
dW1 = embcat.T @ dhprebn
db1 = dhprebn.sum(0)
demb = dembcat.view(emb.shape)
dC = torch.zeros_like(C)
for k in range(Xb.shape[0]):
    for j in range(Xb.shape[1]):
        ix = Xb[k, j]
        dC[ix] += demb[k, j]

for name, dt, t in [
    ("logprobs", dlogprobs, logprobs), ("probs", dprobs, probs), ("counts_sum_inv", dcounts_sum_inv, counts_sum_inv),
    ("counts_sum", dcounts_sum, counts_sum), ("counts", dcounts, counts), ("norm_logits", dnorm_logits, norm_logits),
    ("logit_maxes", dlogit_maxes, logit_maxes), ("logits", dlogits, logits), ("h", dh, h), ("W2", dW2, W2),
    ("b2", db2, b2), ("hpreact", dhpreact, hpreact), ("bngain", dbngain, bngain), ("bnbias", dbnbias, bnbias),
    ("bnraw", dbnraw, bnraw), ("bnvar_inv", dbnvar_inv, bnvar_inv), ("bnvar", dbnvar, bnvar),
    ("bndiff2", dbndiff2, bndiff2), ("bndiff", dbndiff, bndiff), ("bnmeani", dbnmeani, bnmeani),
    ("hprebn", dhprebn, hprebn), ("embcat", dembcat, embcat), ("W1", dW1, W1), ("b1", db1, b1),
    ("emb", demb, emb), ("C", dC, C),
]:  # fmt: skip
    cmp(name, dt, t)
print(f"logit_maxes gradient is tiny: {logit_maxes.grad.abs().max().item() < 1e-6}")

# --- the cross entropy in one step, forward and backward ------------------------------------------
loss_fast = F.cross_entropy(logits, Yb)
print(f"{loss_fast.item():.5f} diff below 1e-6: {abs(loss_fast.item() - loss.item()) < 1e-6}")
dlogits = F.softmax(logits, 1)
dlogits[range(n), Yb] -= 1
dlogits /= n
cmp("logits (fast)", dlogits, logits)
print(f"each row of dlogits sums to ~0: {bool((dlogits.sum(1).abs() < 1e-6).all())}")

# --- the batch norm in one step -------------------------------------------------------------------
hpreact_fast = (
    bngain * (hprebn - hprebn.mean(0, keepdim=True)) / torch.sqrt(hprebn.var(0, keepdim=True) + 1e-5) + bnbias
)
print(f"batch norm max diff below 1e-5: {(hpreact_fast - hpreact).abs().max().item() < 1e-5}")
dhprebn = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
cmp("hprebn (fast)", dhprebn, hprebn)
