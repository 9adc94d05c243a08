"""Seed 000 (Russian tutorial): gradients of a polynomial, of an MSE loss, and of sin(x^2 + 1).

    python examples/seeds/gradients_ru.py [--backend=torch]

Each section of the notebook is a function of the library module, named ``torch`` as in the
notebook, so the same code runs on tritongrad and on PyTorch (tests/test_seeds.py runs both
and compares what they print and return).
"""

import importlib
import sys


def polynomial_gradients(torch):
    """2.1 Simple gradients: f = sum(x^2 + y^2 + z^2 + 2xyz)."""
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    y = torch.tensor([4.0, 5.0], requires_grad=True)
    z = torch.tensor([6.0, 7.0], requires_grad=True)
    print(f"Исходные векторы \nx:\n{x.detach()}, \ny:\n{y.detach()}, \nz:\n{z.detach()}")
    print(f"\nГрадиенты: [ {x.grad}, {y.grad}, {z.grad} ]")

    f = (x**2 + y**2 + z**2 + 2 * x * y * z).sum()
    f.backward()
    print(f"df/dx = {x.grad}")
    print(f"df/dy = {y.grad}")
    print(f"df/dz = {z.grad}")

    x_grad = 2 * x + 2 * y * z
    y_grad = 2 * y + 2 * x * z
    z_grad = 2 * z + 2 * x * y
    print(f"\ndf/dx = {x_grad.detach()}")
    print(f"df/dy = {y_grad.detach()}")
    print(f"df/dz = {z_grad.detach()}")
    return f, x.grad, y.grad, z.grad, x_grad, y_grad, z_grad


def mse_gradient(torch):
    """2.2 Gradient of a loss function: MSE = (1/n) * sum((y_pred - y_true)^2)."""

    def my_mse(y_pred, y_true):
        if not isinstance(y_pred, torch.Tensor) and not isinstance(y_true, torch.Tensor):
            raise TypeError("Invalid type")
        return ((y_pred - y_true) ** 2).sum() / y_true.size()[0]

    x = torch.arange(10.0, 20.0)
    y_true = torch.arange(12.0, 22.0)
    print(x)
    print(y_true)

    w = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    y_pred = w * x + b
    mse = my_mse(y_pred, y_true)
    mse.backward()
    print(f"\nMSE: {mse.detach()}")
    print(f"Градиент w: {w.grad}")
    print(f"Градиент b: {b.grad}")
    return mse, w.grad, b.grad


def chain_rule(torch):
    """2.3 Chain rule: f(x) = sin(x^2 + 1), df/dx = 2x cos(x^2 + 1)."""
    x = torch.tensor([12.0, 53.2, 41.4, 84.1], requires_grad=True)
    f = torch.sin(x**2 + 1).sum()
    test = 2 * x * torch.cos(x**2 + 1)
    print(f"Аналитическое решение: \n{test.detach()}")
    f.backward()
    print(f"\nАвтоградиент: \n{x.grad}")

    x = torch.tensor([12.0, 53.2, 41.4, 84.1], requires_grad=True)
    f = torch.sin(x**2 + 1).sum()
    ag = torch.autograd.grad(outputs=f, inputs=x)
    print(f"\ntorch.autograd.grad: \n{ag}")
    return test.detach(), ag


SECTIONS = [polynomial_gradients, mse_gradient, chain_rule]

if __name__ == "__main__":
    library = importlib.import_module("torch" if "--backend=torch" in sys.argv else "tritongrad")
    for section in SECTIONS:
        section(library)
