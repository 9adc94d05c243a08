"""Fitting sin(x) with a cubic five ways, in the style of the official "learning by examples" tutorial.

    python tests/replays/r02_polynomial_fit.py [--backend=torch]

Raw tensors with hand-written gradients; autograd; a custom autograd Function (a Legendre
polynomial); the nn package with a hand-written update and then an optimizer; and a dynamic
net whose depth is drawn by Python's own ``random`` and which reuses one weight many times.
Starting weights come from numpy so both backends start from the same numbers.
"""

import math
import random
import sys

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

nn = torch.nn

dtype = torch.float
device = torch.device("cpu")
rng = np.random.default_rng(7)

x = torch.linspace(-math.pi, math.pi, 200, device=device, dtype=dtype)
y = torch.sin(x)


def start(n, scale=1.0, requires_grad=False):
    """n scalar tensors holding numpy draws (the tutorial uses torch.randn(()))."""
    values = rng.standard_normal(n) * scale
    return [torch.tensor(float(v), device=device, dtype=dtype, requires_grad=requires_grad) for v in values]


def manual_gradients():
    a, b, c, d = start(4)
    learning_rate = 1e-5
    for t in range(16):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum().item()
        if t % 8 == 7:
            print(f"manual  t={t} loss={loss:.5g}")
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x**2).sum()
        grad_d = (grad_y_pred * x**3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    print(f"manual  y = {a.item():.4f} + {b.item():.4f} x + {c.item():.4f} x^2 + {d.item():.4f} x^3")


def with_autograd():
    a, b, c, d = start(4, requires_grad=True)
    learning_rate = 1e-5
    for t in range(16):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum()
        if t % 8 == 7:
            print(f"autograd t={t} loss={loss.item():.5g}")
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    print(f"autograd y = {a.item():.4f} + {b.item():.4f} x + {c.item():.4f} x^2 + {d.item():.4f} x^3")


class Legendre3(torch.autograd.Function):
    """P3(t) = (5 t^3 - 3 t) / 2 with its derivative 1.5 (5 t^2 - 1) written by hand."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


def with_custom_function():
    a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)
    learning_rate = 2e-5
    for t in range(16):
        P3 = Legendre3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if t % 8 == 7:
            print(f"function t={t} loss={loss.item():.5g}")
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None
    print(f"function y = {a.item():.4f} + {b.item():.4f} * P3({c.item():.4f} + {d.item():.4f} x)")


def polynomial_model():
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, (1, 3)).astype(np.float32)))
        model[0].bias.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, (1,)).astype(np.float32)))
    return xx, model


def with_nn():
    xx, model = polynomial_model()
    print(f"nn input {tuple(xx.shape)} {xx.dtype}, output {tuple(model(xx).shape)}")
    loss_fn = nn.MSELoss(reduction="sum")
    learning_rate = 1e-5
    for t in range(16):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 8 == 7:
            print(f"nn t={t} loss={loss.item():.5g}")
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    linear_layer = model[0]
    print(
        f"nn y = {linear_layer.bias.item():.4f} + {linear_layer.weight[:, 0].item():.4f} x + "
        f"{linear_layer.weight[:, 1].item():.4f} x^2 + {linear_layer.weight[:, 2].item():.4f} x^3"
    )


def with_optim(name, make_optimizer, steps):
    xx, model = polynomial_model()
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = make_optimizer(model.parameters())
    for t in range(steps):
        loss = loss_fn(model(xx), y)
        if t % 8 == 7:
            print(f"{name} t={t} loss={loss.item():.5g}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    w = model[0].weight
    print(f"{name} y = {model[0].bias.item():.4f} + {w[:, 0].item():.4f} x + {w[:, 1].item():.4f} x^2 + ...")


class DynamicNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        a, b, c, d, e = rng.standard_normal(5) * 0.1
        self.a = torch.nn.Parameter(torch.tensor(a, dtype=dtype))
        self.b = torch.nn.Parameter(torch.tensor(b, dtype=dtype))
        self.c = torch.nn.Parameter(torch.tensor(c, dtype=dtype))
        self.d = torch.nn.Parameter(torch.tensor(d, dtype=dtype))
        self.e = torch.nn.Parameter(torch.tensor(e, dtype=dtype))

    def forward(self, x):
        y = self.a + self.b * x + self.c * x**2 + self.d * x**3
        for exp in range(4, random.randint(4, 6)):
            y = y + self.e * x**exp
        return y

    def string(self):
        return (
            f"y = {self.a.item():.4f} + {self.b.item():.4f} x + {self.c.item():.4f} x^2 + "
            f"{self.d.item():.4f} x^3 + {self.e.item():.4f} x^4 ? + {self.e.item():.4f} x^5 ?"
        )


def dynamic_net():
    random.seed(3)
    model = DynamicNet()
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    for t in range(16):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        if t % 8 == 7:
            print(f"dynamic t={t} loss={loss.item():.5g}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"dynamic {model.string()}")
    print(f"dynamic parameters: {[tuple(p.shape) for p in model.parameters()]}")


if __name__ == "__main__":
    manual_gradients()
    with_autograd()
    with_custom_function()
    with_nn()
    with_optim("rmsprop", lambda params: torch.optim.RMSprop(params, lr=1e-2), 16)
    with_optim("sgd", lambda params: torch.optim.SGD(params, lr=1e-5, momentum=0.5), 16)
    dynamic_net()
