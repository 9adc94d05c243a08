"""Linear regression from scratch and then concisely, in the style of the Dive-into-Deep-Learning chapter.

    python tests/replays/r04_linear_regression.py [--backend=torch]

The synthetic data (y = Xw + b + noise) is drawn with numpy so both backends see the same
numbers; minibatches come from a Python generator shuffled by Python's ``random``; the concise
version uses TensorDataset, DataLoader, nn.Sequential(nn.Linear(2, 1)), nn.MSELoss and SGD.
"""

import random
import sys

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

nn = torch.nn
data = torch.utils.data

rng = np.random.default_rng(11)


def synthetic_data(w, b, num_examples):
    """Generate y = Xw + b + noise."""
    X = torch.tensor(rng.normal(0, 1, (num_examples, len(w))), dtype=torch.float32)
    y = torch.matmul(X, w) + b
    y += torch.tensor(rng.normal(0, 0.01, tuple(y.shape)), dtype=torch.float32)
    return X, y.reshape((-1, 1))


true_w = torch.tensor([2, -3.4])
true_b = 4.2
features, labels = synthetic_data(true_w, true_b, 200)
print("features:", features[0], "\nlabel:", labels[0])
print(f"features {tuple(features.shape)}, labels {tuple(labels.shape)}")


def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = list(range(num_examples))
    # The examples are read at random, in no particular order
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i : min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


random.seed(5)
batch_size = 20
for X, y in data_iter(batch_size, features, labels):
    print(f"first minibatch {tuple(X.shape)} {tuple(y.shape)}")
    break

w = torch.tensor(rng.normal(0, 0.01, (2, 1)), dtype=torch.float32, requires_grad=True)
b = torch.zeros(1, requires_grad=True)


def linreg(X, w, b):
    """The linear regression model."""
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    """Squared loss."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """Minibatch stochastic gradient descent."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


lr = 0.1
num_epochs = 3
net = linreg
loss = squared_loss

for epoch in range(num_epochs):
    for X, y in data_iter(batch_size, features, labels):
        l = loss(net(X, w, b), y)  # noqa: E741 (the book's name)
        # l has shape (batch_size, 1): sum it to a scalar before computing gradients
        l.sum().backward()
        sgd([w, b], lr, batch_size)
    with torch.no_grad():
        train_l = loss(net(features, w, b), labels)
        print(f"epoch {epoch + 1}, loss {float(train_l.mean()):f}")

print(f"error in estimating w: {true_w - w.reshape(true_w.shape)}")
print(f"error in estimating b: {true_b - b}")


# --- concise implementation ----------------------------------------------------------------
def load_array(data_arrays, batch_size, is_train=True):
    """Construct a data iterator (not shuffled here, so that both backends see the same batches)."""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


data_iter = load_array((features, labels), batch_size, is_train=False)
X, y = next(iter(data_iter))
print(f"next(iter(data_iter)): {tuple(X.shape)} {tuple(y.shape)} {X.dtype}")

net = nn.Sequential(nn.Linear(2, 1))
net[0].weight.data.copy_(torch.tensor(rng.normal(0, 0.01, (1, 2)), dtype=torch.float32))
net[0].bias.data.fill_(0)
loss = nn.MSELoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.1)

num_epochs = 3
for epoch in range(num_epochs):
    for X, y in data_iter:
        l = loss(net(X), y)  # noqa: E741
        trainer.zero_grad()
        l.backward()
        trainer.step()
    l = loss(net(features), labels)  # noqa: E741
    print(f"epoch {epoch + 1}, loss {l:f}")

w = net[0].weight.data
print("error in estimating w:", true_w - w.reshape(true_w.shape))
b = net[0].bias.data
print("error in estimating b:", true_b - b)

with torch.no_grad():
    net[0].weight[:] = torch.tensor([[2.0, -3.4]])
    net[0].bias[:] = 4.2
print(f"loss at the true parameters {loss(net(features), labels).item():.3g}")
print("weight grad shape", tuple(net[0].weight.grad.shape))
