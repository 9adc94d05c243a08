"""A character-level bigram model, counted and then trained, in the style of the makemore lectures.

    python tests/replays/r06_bigram.py [--backend=torch]

A built-in list of made-up names (covering all 26 letters) replaces the names file. Sampling
uses a seeded torch.Generator, whose stream differs between backends, so only facts that hold
for any draw are printed; everything else (counts, likelihoods, the trained net) is deterministic.
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
    "ulrika", "vexley", "wrenna", "xandor", "yavelle", "zephra", "amadi", "brisco", "celyne", "dorrin",
    "esque", "fjola", "gwyndel", "harlo", "izzet", "jupiter", "kaelum", "lorcan", "mirabel", "nyx",
]  # fmt: skip
print(f"{len(words)} words, shortest {min(len(w) for w in words)}, longest {max(len(w) for w in words)}")

chars = sorted(list(set("".join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
print(f"vocabulary of {len(stoi)} characters")

N = torch.zeros((27, 27), dtype=torch.int32)
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        ix1 = stoi[ch1]
        ix2 = stoi[ch2]
        N[ix1, ix2] += 1

print(f"N: {N.dtype}, total {N.sum().item()}, largest count {N.max().item()}")
print(f"the three largest first-letter counts: {torch.topk(N[0], 3).values.tolist()}")
print("count of 'a' after '.':", N[0, stoi["a"]].item(), " '.' after 'n':", N[stoi["n"], 0].item())

p = N[0].float()
p = p / p.sum()
print(f"p(first letter) sums to {p.sum().item():.4f}, p('a') = {p[stoi['a']].item():.4f}")

g = torch.Generator().manual_seed(2147483647)
ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
print(f"a first letter was drawn: {0 < ix < 27 and p[ix].item() > 0}")

P = (N + 1).float()
P /= P.sum(1, keepdims=True)
print(f"rows of P sum to one: {torch.allclose(P.sum(1), torch.ones(27))}")

g = torch.Generator().manual_seed(2147483647)
samples = []
for _ in range(5):
    out = []
    ix = 0
    while True:
        p = P[ix]
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        out.append(itos[ix])
        if ix == 0 or len(out) > 30:
            break
    samples.append("".join(out))
print(f"5 samples drawn, each a string of known characters: {all(set(s) <= set(stoi) for s in samples)}")

log_likelihood = 0.0
n = 0
for w in words[:3]:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        ix1 = stoi[ch1]
        ix2 = stoi[ch2]
        prob = P[ix1, ix2]
        logprob = torch.log(prob)
        log_likelihood += logprob
        n += 1
        if n <= 4:
            print(f"{ch1}{ch2}: {prob:.4f} {logprob:.4f}")
print(f"log_likelihood={log_likelihood:.4f}")
nll = -log_likelihood
print(f"nll={nll:.4f}")
print(f"{nll / n:.4f}")

# --- the same model as a one-layer net trained by gradient descent -----------------------------
xs, ys = [], []
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        xs.append(stoi[ch1])
        ys.append(stoi[ch2])
xs = torch.tensor(xs)
ys = torch.tensor(ys)
num = xs.nelement()
print("number of examples:", num)

xenc = F.one_hot(xs, num_classes=27).float()
print(f"one-hot: {tuple(xenc.shape)} {xenc.dtype}, ones {xenc.sum().item()}")

rng = np.random.default_rng(2147483647)
W = torch.tensor(rng.standard_normal((27, 27)), dtype=torch.float32, requires_grad=True)

for k in range(25):
    # forward pass
    xenc = F.one_hot(xs, num_classes=27).float()  # input to the network: one-hot encoding
    logits = xenc @ W  # predict log-counts
    counts = logits.exp()  # counts, equivalent to N
    probs = counts / counts.sum(1, keepdims=True)  # probabilities for next character
    loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W**2).mean()
    if k % 5 == 0:
        print(f"step {k} loss {loss.item():.4f}")

    # backward pass
    W.grad = None  # set to zero the gradient
    loss.backward()

    # update
    W.data += -50 * W.grad
print(f"final loss {loss.item():.4f}")

# the trained net and the counts now agree on the most likely letter after '.' often
logits = F.one_hot(torch.tensor([0]), num_classes=27).float() @ W
p_net = logits.exp() / logits.exp().sum(1, keepdims=True)
print(f"net p('a' after '.') = {p_net[0, stoi['a']].item():.4f}, counts say {P[0, stoi['a']].item():.4f}")
