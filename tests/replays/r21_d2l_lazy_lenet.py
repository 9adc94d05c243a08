"""D2L's current-edition style: lazy layers, a concise MLP with weight decay on the weights only,
dropout from scratch, and LeNet built from nn.LazyConv2d / nn.LazyLinear.

    python tests/replays/r21_d2l_lazy_lenet.py [--backend=torch]

Layers are declared with output sizes only (nn.LazyLinear, nn.LazyConv2d) and take their input
sizes from a dry run, after which ``net.apply(init)`` sets their weights (from numpy here, where
the book draws them). The concise weight-decay model puts ``weight_decay`` in a parameter group
of its own; dropout is written by hand (``(torch.rand(X.shape) > p).float()``, whose draw differs
between backends, so only its structure is printed); LeNet's ``layer_summary`` prints each
layer's output shape and two epochs of SGD train it on 12x12 numpy "digits".
"""

import sys

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

nn = torch.nn
F = torch.nn.functional
rng = np.random.default_rng(2023)


def init_from_numpy(module):
    """The book's init_cnn is xavier_uniform_ on every Linear/Conv2d; numpy's uniform draw here."""
    if type(module) is nn.Linear or type(module) is nn.Conv2d:
        fan_in = module.weight[0].numel()
        bound = (3.0 / fan_in) ** 0.5
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(module.weight.shape))).float())
            module.bias.zero_()


# --- high-dimensional linear regression with weight decay, concisely ---------------------------
n_train, num_inputs = 20, 80
true_w, true_b = 0.01, 0.05
X = torch.from_numpy(rng.normal(0, 1, (n_train + 40, num_inputs)).astype(np.float32))
noise = torch.from_numpy(rng.normal(0, 0.01, (n_train + 40, 1)).astype(np.float32))
y = torch.matmul(X, torch.ones((num_inputs, 1)) * true_w) + true_b + noise


def l2_penalty(w):
    return (w**2).sum() / 2


for wd in (0, 3):
    net = nn.Sequential(nn.LazyLinear(1))
    net(X[:1])  # dry run: in_features is now num_inputs
    net.apply(init_from_numpy)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD([{"params": net[0].weight, "weight_decay": wd}, {"params": net[0].bias}], lr=0.01)
    for _epoch in range(10):
        for i in range(0, n_train, 5):
            loss = loss_fn(net(X[i : i + 5]), y[i : i + 5])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        val = loss_fn(net(X[n_train:]), y[n_train:]).item()
    print(f"wd {wd}: L2 norm of w {l2_penalty(net[0].weight).item():.6f}, validation loss {val:.6f}")
    groups = optimizer.param_groups
    print(f"  group weight decays {[g['weight_decay'] for g in groups]}, sizes {[len(g['params']) for g in groups]}")

# --- dropout from scratch ------------------------------------------------------------------------


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
print("dropout_p = 0:", dropout_layer(X, 0))
out = dropout_layer(X, 0.5)
kept = out != 0
print("dropout_p = 0.5: survivors doubled:", bool((out[kept] == 2 * X[kept]).all()))
print("dropout_p = 1:", dropout_layer(X, 1))


class DropoutMLP(nn.Module):
    def __init__(self, num_outputs, num_hiddens_1, num_hiddens_2, dropout_1, dropout_2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.LazyLinear(num_hiddens_1),
            nn.ReLU(),
            nn.Dropout(dropout_1),
            nn.LazyLinear(num_hiddens_2),
            nn.ReLU(),
            nn.Dropout(dropout_2),
            nn.LazyLinear(num_outputs),
        )

    def forward(self, X):
        return self.net(X)


model = DropoutMLP(10, 32, 16, 0.5, 0.5)
model.eval()  # no dropout at evaluation: deterministic
print(model(torch.from_numpy(rng.uniform(0, 1, (3, 1, 12, 12)).astype(np.float32))).shape)
print(model)

# --- LeNet with lazy layers ---------------------------------------------------------------------


class LeNet(nn.Module):
    """The LeNet-5 model (sized for 12x12 inputs)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.net = nn.Sequential(
            nn.LazyConv2d(6, kernel_size=5, padding=2),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.LazyConv2d(16, kernel_size=3),
            nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.LazyLinear(120),
            nn.Sigmoid(),
            nn.LazyLinear(84),
            nn.Sigmoid(),
            nn.LazyLinear(num_classes),
        )

    def forward(self, X):
        return self.net(X)

    def layer_summary(self, X_shape):
        X = torch.from_numpy(rng.normal(0, 1, X_shape).astype(np.float32))
        for layer in self.net:
            X = layer(X)
            print(layer.__class__.__name__, "output shape:\t", X.shape)


model = LeNet()
model.layer_summary((1, 1, 12, 12))
model.apply(init_from_numpy)
print(f"parameters after the dry run: {sum(p.numel() for p in model.parameters())}")

digits = rng.uniform(0, 1, (10, 12, 12)) > 0.6


def make_digits(n):
    labels = rng.integers(0, 10, n)
    images = digits[labels] * 0.8 + rng.uniform(0, 0.2, (n, 12, 12))
    return torch.from_numpy(images[:, None].astype(np.float32)), torch.from_numpy(labels)


X_train, y_train = make_digits(32)
X_val, y_val = make_digits(16)
train_iter = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_train, y_train), batch_size=16)
optimizer = torch.optim.SGD(model.parameters(), lr=0.9)
loss = nn.CrossEntropyLoss()
for epoch in range(2):
    model.train()
    total, count = 0.0, 0
    for Xb, yb in train_iter:
        optimizer.zero_grad()
        ls = loss(model(Xb), yb)
        ls.backward()
        optimizer.step()
        total += ls.item() * len(yb)
        count += len(yb)
    model.eval()
    with torch.no_grad():
        acc = (model(X_val).argmax(axis=1) == y_val).float().mean().item()
    print(f"epoch {epoch + 1}: train loss {total / count:.4f}, val acc {acc:.3f}")
