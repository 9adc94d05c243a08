"""A small tabular regression: Module subclass, DataLoader, robust losses, Adam, StepLR, checkpoints.

    python tests/replays/r11_regression_checkpoint.py [--backend=torch]

Predicts a noisy nonlinear function of 4 features; trains with SmoothL1Loss, reports L1 and
MSE, steps the learning rate down with StepLR, saves the state_dict to a temporary file, loads
it into a fresh model and checks that it predicts the same.
"""

import os
import sys
import tempfile

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

nn = torch.nn
F = torch.nn.functional
DataLoader = torch.utils.data.DataLoader
TensorDataset = torch.utils.data.TensorDataset

rng = np.random.default_rng(123)
features = rng.uniform(-1, 1, (160, 4)).astype(np.float32)
target = (np.sin(2 * features[:, 0]) + features[:, 1] ** 2 - 0.5 * features[:, 2] * features[:, 3]).astype(np.float32)
target += rng.normal(0, 0.05, target.shape).astype(np.float32)
# a few outliers, which is what the robust losses are for
target[::37] += 3.0

X = torch.from_numpy(features)
y = torch.from_numpy(target).unsqueeze(1)
X_train, y_train, X_test, y_test = X[:128], y[:128], X[128:], y[128:]
print(f"train {tuple(X_train.shape)}, test {tuple(X_test.shape)}, target mean {y.mean().item():.4f}")

train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=16)
test_loader = DataLoader(TensorDataset(X_test, y_test), batch_size=16)
print(f"{len(train_loader)} training batches, {len(test_loader)} test batches")


class Regressor(nn.Module):
    def __init__(self, n_features, hidden=32):
        super().__init__()
        self.fc1 = nn.Linear(n_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = self.dropout(F.relu(self.fc2(x)))
        return self.out(x)


def init_from_numpy(model, seed):
    """Same starting weights on both backends (Dropout is only active in train mode, see below)."""
    g = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            bound = 1.0 / np.sqrt(p.shape[-1]) if p.ndim == 2 else 0.1
            p.copy_(torch.tensor(g.uniform(-bound, bound, tuple(p.shape)), dtype=torch.float32))


model = Regressor(4)
init_from_numpy(model, 0)
print(model)
print("parameters:", sum(p.numel() for p in model.parameters() if p.requires_grad))

criterion = nn.SmoothL1Loss()
l1 = nn.L1Loss()
mse = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)


def evaluate(model, loader):
    model.eval()
    total_l1, total_mse, count = 0.0, 0.0, 0
    with torch.no_grad():
        for xb, yb in loader:
            pred = model(xb)
            total_l1 += l1(pred, yb).item() * len(xb)
            total_mse += F.mse_loss(pred, yb, reduction="sum").item()
            count += len(xb)
    return total_l1 / count, total_mse / count


for epoch in range(4):
    # Dropout draws random masks, which differ between backends: train with it switched off
    # (p=0 keeps the module in the graph), as a deterministic fine-tuning run would.
    model.dropout.p = 0.0
    model.train()
    running = 0.0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        running += loss.item() * xb.size(0)
    scheduler.step()
    test_l1, test_mse = evaluate(model, test_loader)
    print(
        f"epoch {epoch + 1}: train smooth-l1 {running / len(train_loader.dataset):.4f}, "
        f"test l1 {test_l1:.4f}, test mse {test_mse:.4f}, lr {scheduler.get_last_lr()[0]:.5f}"
    )
print(f"optimizer lr now {optimizer.param_groups[0]['lr']:.5f}")

with torch.no_grad():
    pred = model(X_test)
print(f"huber-like vs l1 vs mse on test: {F.smooth_l1_loss(pred, y_test).item():.4f} "
      f"{F.l1_loss(pred, y_test).item():.4f} {mse(pred, y_test).item():.4f}")  # fmt: skip
print(f"smooth l1 with beta=0.5: {F.smooth_l1_loss(pred, y_test, beta=0.5).item():.4f}")

state = model.state_dict()
print("state_dict keys:", list(state.keys()))
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "regressor.pt")
    torch.save(state, path)
    restored = Regressor(4)
    restored.load_state_dict(torch.load(path))
    restored.eval()
    model.eval()
    with torch.no_grad():
        same = torch.equal(restored(X_test), model(X_test))
    print(f"restored model predicts the same: {same}")
    torch.save({"epoch": 4, "model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    checkpoint = torch.load(path)
    print(f"checkpoint epoch {checkpoint['epoch']}, optimizer groups {len(checkpoint['optimizer']['param_groups'])}")
    fresh = Regressor(4)
    fresh_opt = torch.optim.Adam(fresh.parameters(), lr=0.01)
    fresh.load_state_dict(checkpoint["model"])
    fresh_opt.load_state_dict(checkpoint["optimizer"])
    print(f"resumed lr {fresh_opt.param_groups[0]['lr']:.5f}")
