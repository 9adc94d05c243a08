"""Train a small ResNet-style CNN on scikit-learn's bundled 8x8 digits (1,797 images, no download) with tritongrad.

    python examples/cnn_digits.py [--epochs 8] [--width 24] [--batch-size 64] [--output examples/output]

The images go in as (N, 1, 8, 8). The net: a conv-BN-ReLU stem at 8x8, a 2x2 max pooling to
4x4, one residual block (conv-BN-ReLU, conv-BN, plus the block's input, ReLU) and a linear head
on the flattened 4x4 maps. Prints a tqdm progress bar per epoch, the test accuracy (same 80/20
stratified split as mlp_digits.py), and saves a PNG of the loss and accuracy curves. Every
forward, backward and optimizer step runs as tritongrad Triton kernels (through the interpreter
on a CPU-only machine). --train-subset trains on the first N training images (the CI test's
sized-down run); the test set is always the full 20%.
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
import tritongrad.nn.functional as F


def load_data(seed: int):
    """Images scaled to zero mean and unit variance (host-side preprocessing), split 80/20 as mlp_digits.py."""
    digits = load_digits()
    images = digits.images.astype(np.float32)[:, None]  # (N, 1, 8, 8), pixel values 0..16
    images = (images - images.mean()) / images.std()
    return train_test_split(images, digits.target.astype(np.int64), test_size=0.2, random_state=seed,
                            stratify=digits.target)  # fmt: skip


def shift_augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Moves each (1, 8, 8) image by -1, 0 or +1 pixels along each axis, the border filled with the background.

    Host-side numpy on the input data, as a DataLoader's transform would do."""
    background = images.min()
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=background)
    shifted = np.empty_like(images)
    offsets = rng.integers(0, 3, size=(len(images), 2))
    for dy in range(3):
        for dx in range(3):
            chosen = (offsets[:, 0] == dy) & (offsets[:, 1] == dx)
            shifted[chosen] = padded[chosen, :, dy : dy + 8, dx : dx + 8]
    return shifted


class ResidualBlock(nn.Module):
    """conv-BN-ReLU, conv-BN, plus the input, ReLU: (N, C, H, W) -> (N, C, H, W)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + x)


class DigitsResNet(nn.Module):
    """(N, 1, 8, 8) images -> (N, 10) logits.

    The residual block works at 4x4 after the pooling: a 3x3 convolution's cost in the interpreter
    grows with pixels x channels, and a quarter of the pixels makes the training step 4x cheaper."""

    def __init__(self, width: int = 24) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.block = ResidualBlock(width)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(width * 4 * 4, 10))

    def forward(self, x):
        return self.head(self.block(self.pool(self.stem(x))))


def evaluate(model: nn.Module, images, labels) -> float:
    model.eval()
    with torch.no_grad():
        predictions = model(images).argmax(dim=1)
        accuracy = (predictions == labels).float().mean().item()
    model.train()
    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--width", type=int, default=24, help="channels of the stem and the residual block")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2, help="OneCycleLR's peak learning rate")
    parser.add_argument("--train-subset", type=int, default=None, help="train on the first N training images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "output"))
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_images, test_images, train_labels, test_labels = load_data(args.seed)
    if args.train_subset is not None:
        train_images, train_labels = train_images[: args.train_subset], train_labels[: args.train_subset]
    test_x, test_y = torch.tensor(test_images), torch.tensor(test_labels)

    model = DigitsResNet(args.width)
    loss_function = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    count = len(train_images)
    steps_per_epoch = -(-count // args.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                                    steps_per_epoch=steps_per_epoch, pct_start=0.25)  # fmt: skip
    print(model)

    history = {"loss": [], "train_accuracy": [], "test_accuracy": []}
    started = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(count)
        images, labels = shift_augment(train_images[order], rng), train_labels[order]
        running_loss, running_correct = 0.0, 0.0
        batches = range(0, count, args.batch_size)
        progress = tqdm(batches, desc=f"epoch {epoch:2d}/{args.epochs}", leave=False, unit="batch")
        for start in progress:
            x = torch.tensor(images[start : start + args.batch_size])
            y = torch.tensor(labels[start : start + args.batch_size])
            logits = model(x)
            loss = loss_function(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            running_loss += loss.item() * y.shape[0]
            # The training accuracy is counted on the augmented batches as they are trained on (no
            # second pass over the training set: each forward costs as much as a training step's third).
            running_correct += (logits.argmax(dim=1) == y).float().sum().item()
            progress.set_postfix(loss=f"{loss.item():.4f}")
        history["loss"].append(running_loss / count)
        history["train_accuracy"].append(running_correct / count)
        history["test_accuracy"].append(evaluate(model, test_x, test_y))
        print(
            f"epoch {epoch:2d}  loss {history['loss'][-1]:.4f}  train acc {history['train_accuracy'][-1]:.3f}  "
            f"test acc {history['test_accuracy'][-1]:.3f}"
        )
    elapsed = time.perf_counter() - started
    print(f"test accuracy {history['test_accuracy'][-1]:.4f} after {args.epochs} epochs ({elapsed:.1f} s, "
          f"device {torch.runtime.device()})")  # fmt: skip
    save_plot(history, args.output, args.width)


def save_plot(history: dict, output: str, width: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(output, exist_ok=True)
    epochs = range(1, len(history["loss"]) + 1)
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axis.plot(epochs, history["loss"], marker="o")
    loss_axis.set(title="training loss (cross-entropy)", xlabel="epoch", ylabel="loss")
    accuracy_axis.plot(epochs, history["train_accuracy"], marker="o", label="train (augmented, running)")
    accuracy_axis.plot(epochs, history["test_accuracy"], marker="o", label="test")
    accuracy_axis.axhline(0.985, color="gray", linestyle="--", linewidth=1, label="98.5%")
    accuracy_axis.set(title="accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0.8, 1.0))
    accuracy_axis.legend()
    figure.suptitle(f"tritongrad ResNet-style CNN (width {width}) on scikit-learn digits")
    figure.tight_layout()
    path = os.path.join(output, "cnn_digits.png")
    figure.savefig(path, dpi=100)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
