"""A deep tanh MLP built from hand-written layer classes with batch norm, makemore style.

    python tests/replays/r09_batchnorm_layers.py [--backend=torch]

Linear, BatchNorm1d and Tanh are plain Python classes with ``__call__`` and ``parameters()``,
weights scaled by hand (kaiming gain for tanh, a smaller last layer), running statistics
updated under no_grad, and the usual health diagnostics printed while training: activation
saturation, gradient spread, and update-to-data ratios on a log10 scale.
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
]  # fmt: skip
chars = sorted(set("abcdefghijklmnopqrstuvwxyz"))
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
Xtr = torch.tensor(X)
Ytr = torch.tensor(Y)
rng = np.random.default_rng(2147483647)


def randn(*shape):
    return torch.tensor(rng.standard_normal(shape), dtype=torch.float32)


class Linear:
    def __init__(self, fan_in, fan_out, bias=True):
        self.weight = randn(fan_in, fan_out) / fan_in**0.5
        self.bias = torch.zeros(fan_out) if bias else None

    def __call__(self, x):
        self.out = x @ self.weight
        if self.bias is not None:
            self.out += self.bias
        return self.out

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


class BatchNorm1d:
    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps = eps
        self.momentum = momentum
        self.training = True
        # parameters (trained with backprop)
        self.gamma = torch.ones(dim)
        self.beta = torch.zeros(dim)
        # buffers (trained with a running 'momentum update')
        self.running_mean = torch.zeros(dim)
        self.running_var = torch.ones(dim)

    def __call__(self, x):
        if self.training:
            xmean = x.mean(0, keepdim=True)  # batch mean
            xvar = x.var(0, keepdim=True)  # batch variance
        else:
            xmean = self.running_mean
            xvar = self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)  # normalize to unit variance
        self.out = self.gamma * xhat + self.beta
        if self.training:
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
        return self.out

    def parameters(self):
        return [self.gamma, self.beta]


class Tanh:
    def __call__(self, x):
        self.out = torch.tanh(x)
        return self.out

    def parameters(self):
        return []


n_embd = 6
n_hidden = 24
C = randn(vocab_size, n_embd)
layers = [
    Linear(n_embd * block_size, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
    Linear(n_hidden, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
    Linear(n_hidden, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
    Linear(n_hidden, vocab_size, bias=False), BatchNorm1d(vocab_size),
]  # fmt: skip

with torch.no_grad():
    # last layer: make it less confident
    layers[-1].gamma *= 0.1
    # all other layers: apply the tanh gain
    for layer in layers[:-1]:
        if isinstance(layer, Linear):
            layer.weight *= 5 / 3

parameters = [C] + [p for layer in layers for p in layer.parameters()]
print("parameters:", sum(p.nelement() for p in parameters))
for p in parameters:
    p.requires_grad = True

max_steps = 9
batch_size = 32
lossi, ud = [], []
for i in range(max_steps):
    ix = torch.from_numpy(rng.integers(0, Xtr.shape[0], (batch_size,)))
    Xb, Yb = Xtr[ix], Ytr[ix]

    emb = C[Xb]
    x = emb.view(emb.shape[0], -1)
    for layer in layers:
        x = layer(x)
    loss = F.cross_entropy(x, Yb)

    for layer in layers:
        layer.out.retain_grad()  # only for the diagnostics below
    for p in parameters:
        p.grad = None
    loss.backward()

    lr = 0.1 if i < 6 else 0.01
    for p in parameters:
        p.data += -lr * p.grad

    if i % 3 == 0:
        print(f"{i:7d}/{max_steps:7d}: {loss.item():.4f}")
    lossi.append(loss.log10().item())
    with torch.no_grad():
        ud.append([((lr * p.grad).std() / p.data.std()).log10().item() for p in parameters])

print(f"mean log10 loss {sum(lossi) / len(lossi):.4f}")

# activation and gradient statistics of the tanh layers, as printed next to their histograms
for i, layer in enumerate(layers[:-1]):
    if isinstance(layer, Tanh):
        t = layer.out
        print(
            f"layer {i} ({layer.__class__.__name__}): mean {t.mean():+.3f}, std {t.std():.3f}, "
            f"saturated: {(t.abs() > 0.97).float().mean() * 100:.2f}%"
        )
        hy, hx = torch.histogram(t.detach(), bins=10, range=(-1.0, 1.0), density=True)
        print(
            f"  histogram: {tuple(hx.shape)} edges, density integrates to {(hy * (hx[1:] - hx[:-1])).sum().item():.3f}"
        )
for i, layer in enumerate(layers[:-1]):
    if isinstance(layer, Tanh):
        t = layer.out.grad
        print(f"layer {i} ({layer.__class__.__name__}): grad mean {t.mean():.6f}, std {t.std():.4e}")

for p in parameters:
    if p.ndim == 2:
        t = p.grad
        print(
            f"weight {str(tuple(p.shape)):10s} | mean {t.mean():.6f} | std {t.std():.4e} | "
            f"grad:data ratio {t.std() / p.std():.4e}"
        )
print("update ratios of the last step (log10):", [round(r, 2) for r in ud[-1] if r == r][:4])


@torch.no_grad()  # this decorator disables gradient tracking
def split_loss(Xs, Ys):
    emb = C[Xs]
    x = emb.view(emb.shape[0], -1)
    for layer in layers:
        x = layer(x)
    return F.cross_entropy(x, Ys).item()


for layer in layers:
    layer.training = False
print(f"train loss in eval mode {split_loss(Xtr, Ytr):.4f}")
bn = layers[1]
print(f"running mean {bn.running_mean.mean().item():+.4f}, running var {bn.running_var.mean().item():.4f}")
