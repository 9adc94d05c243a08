"""Train an MLP on scikit-learn's bundled 8x8 digits (1,797 images, no download) with tritongrad.

    python examples/mlp_digits.py [--epochs 12] [--output examples/output]

Prints a tqdm progress bar per epoch, the test accuracy, and saves a PNG of the
loss and accuracy curves. Every forward, backward and optimizer step runs as
tritongrad Triton kernels (through the interpreter on a CPU-only machine).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import tritongrad as torch
import tritongrad.nn as nn


def load_data(seed: int):
    """Standardised features (host-side preprocessing of the input data) split 80/20."""
    digits = load_digits()
    features = digits.data.astype(np.float32)
    features = (features - features.mean(axis=0)) / (features.std(axis=0) + 1e-6)
    return train_test_split(features, digits.target.astype(np.int64), test_size=0.2, random_state=seed,
                            stratify=digits.target)  # fmt: skip


def evaluate(model: nn.Module, features, labels) -> float:
    model.eval()
    with torch.no_grad():
        predictions = model(features).argmax(dim=1)
        accuracy = (predictions == labels).float().mean().item()
    model.train()
    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "output"))
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_x, test_x, train_y, test_y = load_data(args.seed)
    train_x, train_y = torch.tensor(train_x), torch.tensor(train_y)
    test_x, test_y = torch.tensor(test_x), torch.tensor(test_y)

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
    loss_function = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    print(model)

    history = {"loss": [], "train_accuracy": [], "test_accuracy": []}
    count = train_x.shape[0]
    started = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = torch.tensor(rng.permutation(count))
        running_loss = 0.0
        batches = range(0, count, args.batch_size)
        progress = tqdm(batches, desc=f"epoch {epoch:2d}/{args.epochs}", leave=False, unit="batch")
        for start in progress:
            index = order[start : start + args.batch_size]
            loss = loss_function(model(train_x[index]), train_y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running_loss += loss.item() * index.shape[0]
            progress.set_postfix(loss=f"{loss.item():.4f}")
        history["loss"].append(running_loss / count)
        history["train_accuracy"].append(evaluate(model, train_x, train_y))
        history["test_accuracy"].append(evaluate(model, test_x, test_y))
        print(
            f"epoch {epoch:2d}  loss {history['loss'][-1]:.4f}  train acc {history['train_accuracy'][-1]:.3f}  "
            f"test acc {history['test_accuracy'][-1]:.3f}"
        )
    elapsed = time.perf_counter() - started
    print(f"test accuracy {history['test_accuracy'][-1]:.4f} after {args.epochs} epochs ({elapsed:.1f} s, "
          f"device {torch.runtime.device()})")  # fmt: skip
    save_plot(history, args.output)


def save_plot(history: dict, output: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(output, exist_ok=True)
    epochs = range(1, len(history["loss"]) + 1)
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axis.plot(epochs, history["loss"], marker="o")
    loss_axis.set(title="training loss (cross-entropy)", xlabel="epoch", ylabel="loss")
    accuracy_axis.plot(epochs, history["train_accuracy"], marker="o", label="train")
    accuracy_axis.plot(epochs, history["test_accuracy"], marker="o", label="test")
    accuracy_axis.set(title="accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0.8, 1.0))
    accuracy_axis.legend()
    figure.suptitle("tritongrad MLP 64-128-10 on scikit-learn digits")
    figure.tight_layout()
    path = os.path.join(output, "mlp_digits.png")
    figure.savefig(path, dpi=100)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
