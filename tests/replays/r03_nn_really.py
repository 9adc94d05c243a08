"""Logistic regression built up step by step, in the style of the "what is torch.nn really?" tutorial.

    python tests/replays/r03_nn_really.py [--backend=torch]

The data is a small numpy stand-in for flattened digit images (192 training and 128 validation
samples of 64 features, 10 classes around random class centres). The model is written first
from scratch (hand-made log_softmax and negative log-likelihood, a manual update under
no_grad), then refactored step by step onto F.cross_entropy, nn.Module, nn.Parameter, nn.Linear,
optim, TensorDataset and DataLoader.
"""

import math
import sys

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

nn = torch.nn
F = torch.nn.functional
optim = torch.optim
TensorDataset = torch.utils.data.TensorDataset
DataLoader = torch.utils.data.DataLoader

rng = np.random.default_rng(2024)
centres = rng.normal(0.0, 1.0, (10, 64))


def make_split(n):
    labels = rng.integers(0, 10, n)
    images = centres[labels] + rng.normal(0.0, 1.5, (n, 64))
    return images.astype(np.float32), labels.astype(np.int64)


x_train, y_train = make_split(192)
x_valid, y_valid = make_split(128)
x_train, y_train, x_valid, y_valid = map(torch.tensor, (x_train, y_train, x_valid, y_valid))
n, c = x_train.shape
print(x_train.shape, y_train.shape, x_train.dtype, y_train.dtype)
print(f"labels from {y_train.min().item()} to {y_train.max().item()}")

init_weights = rng.standard_normal((64, 10)).astype(np.float32)

# --- from scratch -------------------------------------------------------------------------
weights = torch.from_numpy(init_weights.copy()) / math.sqrt(64)
weights.requires_grad_()
bias = torch.zeros(10, requires_grad=True)


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


bs = 64
xb = x_train[0:bs]
preds = model(xb)
print(f"first prediction row sums to {preds[0].exp().sum().item():.4f}, shape {tuple(preds.shape)}")


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


loss_func = nll
yb = y_train[0:bs]
print(f"scratch initial loss {loss_func(preds, yb).item():.4f}")


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


print(f"scratch initial accuracy {accuracy(preds, yb).item():.4f}")

lr = 0.5  # learning rate
epochs = 2
for _epoch in range(epochs):
    for i in range((n - 1) // bs + 1):
        start_i = i * bs
        end_i = start_i + bs
        xb = x_train[start_i:end_i]
        yb = y_train[start_i:end_i]
        pred = model(xb)
        loss = loss_func(pred, yb)
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
print(f"scratch trained loss {loss_func(model(xb), yb).item():.4f} accuracy {accuracy(model(xb), yb).item():.4f}")

# --- F.cross_entropy ------------------------------------------------------------------------
loss_func = F.cross_entropy


def model(xb):  # noqa: F811 (the tutorial redefines the model as it refactors)
    return xb @ weights + bias


print(f"cross_entropy loss {loss_func(model(xb), yb).item():.4f} accuracy {accuracy(model(xb), yb).item():.4f}")


# --- nn.Module and nn.Parameter -------------------------------------------------------------
class MnistLogistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.from_numpy(init_weights.copy()) / math.sqrt(64))
        self.bias = nn.Parameter(torch.zeros(10))

    def forward(self, xb):
        return xb @ self.weights + self.bias


def fit_by_hand(model):
    for _epoch in range(epochs):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            loss = loss_func(model(xb), yb)
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= p.grad * lr
                model.zero_grad()


model = MnistLogistic()
print(f"module initial loss {loss_func(model(xb), yb).item():.4f}")
fit_by_hand(model)
print(f"module trained loss {loss_func(model(xb), yb).item():.4f}")


# --- nn.Linear --------------------------------------------------------------------------------
class MnistLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(64, 10)
        with torch.no_grad():
            self.lin.weight.copy_(torch.from_numpy(init_weights.T.copy()) / math.sqrt(64))
            self.lin.bias.zero_()

    def forward(self, xb):
        return self.lin(xb)


model = MnistLinear()
fit_by_hand(model)
print(f"linear trained loss {loss_func(model(xb), yb).item():.4f}")


# --- optim, Dataset, DataLoader -------------------------------------------------------------
def get_model():
    model = MnistLinear()
    return model, optim.SGD(model.parameters(), lr=lr)


train_ds = TensorDataset(x_train, y_train)
valid_ds = TensorDataset(x_valid, y_valid)
xb, yb = train_ds[0:bs]
print(f"dataset: {len(train_ds)} samples, a slice gives {tuple(xb.shape)} and {tuple(yb.shape)}")

model, opt = get_model()
train_dl = DataLoader(train_ds, batch_size=bs)
for _epoch in range(epochs):
    for xb, yb in train_dl:
        pred = model(xb)
        loss = loss_func(pred, yb)
        loss.backward()
        opt.step()
        opt.zero_grad()
print(f"dataloader trained loss {loss_func(model(xb), yb).item():.4f}")


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
        print(f"epoch {epoch} validation loss {val_loss:.4f}")


def get_data(train_ds, valid_ds, bs):
    return DataLoader(train_ds, batch_size=bs), DataLoader(valid_ds, batch_size=bs * 2)


train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
model, opt = get_model()
fit(epochs, model, loss_func, opt, train_dl, valid_dl)


# --- nn.Sequential with a Lambda layer, and a shuffled loader ---------------------------------
class Lambda(nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


hidden_init = rng.uniform(-0.2, 0.2, (32, 64)).astype(np.float32)
out_init = rng.uniform(-0.2, 0.2, (10, 32)).astype(np.float32)
model = nn.Sequential(
    Lambda(lambda x: x.view(-1, 64)),
    nn.Linear(64, 32),
    nn.ReLU(),
    nn.Linear(32, 10),
)
with torch.no_grad():
    model[1].weight.copy_(torch.from_numpy(hidden_init))
    model[1].bias.fill_(0.0)
    model[3].weight.copy_(torch.from_numpy(out_init))
    model[3].bias.fill_(0.0)
opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
fit(1, model, loss_func, opt, *get_data(train_ds, valid_ds, bs))
with torch.no_grad():
    print(f"sequential validation accuracy {accuracy(model(x_valid), y_valid).item():.4f}")

# A shuffled loader visits every sample once per epoch, in some order.
shuffled = DataLoader(train_ds, batch_size=bs, shuffle=True)
seen, label_total, sizes = 0, 0, []
for xb, yb in shuffled:
    seen += len(xb)
    label_total += yb.sum().item()
    sizes.append(len(yb))
print(f"shuffled epoch: {seen} samples in batches {sizes}, label sum {label_total} (expected {y_train.sum().item()})")
