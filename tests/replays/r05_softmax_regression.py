"""Softmax regression from scratch, in the style of the Dive-into-Deep-Learning chapter.

    python tests/replays/r05_softmax_regression.py [--backend=torch]

A small numpy stand-in for the clothing images (4x4 single-channel "images", 5 classes, 200
training and 100 test samples) replaces the downloaded dataset; the model, the hand-written
softmax and cross-entropy, the Accumulator and the training loop are written as in the book.
"""

import sys

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

rng = np.random.default_rng(3)
num_inputs, num_outputs = 16, 5
prototypes = rng.normal(0, 1, (num_outputs, 1, 4, 4))


def make_images(n):
    y = rng.integers(0, num_outputs, n)
    X = prototypes[y] + rng.normal(0, 2.0, (n, 1, 4, 4))
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)


train_X, train_y = make_images(200)
test_X, test_y = make_images(100)


def batches(X, y, batch_size):
    for i in range(0, len(X), batch_size):
        yield X[i : i + batch_size], y[i : i + batch_size]


W = torch.tensor(rng.normal(0, 0.01, (num_inputs, num_outputs)), dtype=torch.float32, requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)

X = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print(X.sum(0, keepdim=True), X.sum(1, keepdim=True))


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition  # broadcasting happens here


X = torch.normal(0, 1, (2, 5))
X_prob = softmax(X)
print(X_prob.shape, torch.allclose(X_prob.sum(1), torch.ones(2)), bool((X_prob > 0).all()))


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


y = torch.tensor([0, 2])
y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
print(y_hat[[0, 1], y])


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


print(cross_entropy(y_hat, y))


def accuracy(y_hat, y):
    """Count the correct predictions."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


print(accuracy(y_hat, y) / len(y))


class Accumulator:
    """Sums n running totals."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def evaluate_accuracy(net, data_iter):
    """Accuracy of a model on a dataset."""
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)  # correct predictions, predictions
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


print(f"untrained test accuracy {evaluate_accuracy(net, batches(test_X, test_y, 50)):.4f}")


def train_epoch(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)  # total loss, correct predictions, examples
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)  # noqa: E741 (the book's name)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


lr = 0.1


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def updater(batch_size):
    return sgd([W, b], lr, batch_size)


num_epochs = 4
for epoch in range(num_epochs):
    train_loss, train_acc = train_epoch(net, batches(train_X, train_y, 25), cross_entropy, updater)
    test_acc = evaluate_accuracy(net, batches(test_X, test_y, 50))
    print(f"epoch {epoch + 1}: loss {train_loss:.4f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}")

X, y = test_X[:6], test_y[:6]
preds = net(X).argmax(axis=1)
print("true:", y.tolist())
print("pred:", preds.tolist())
