"""Seed 004 (Japanese tutorial): derivatives of elementary functions, requires_grad_, grad_fn,
backward with a gradient vector, and no_grad.

    python examples/seeds/derivatives_ja.py [--backend=torch]

Each section of the notebook is a function of the library module, named ``torch`` as in the
notebook, so the same code runs on tritongrad and on PyTorch (tests/test_seeds.py runs both).
The notebook draws `a` with torch.randn; here it is the matrix it printed.
"""

import importlib
import sys

import numpy as np

NOTEBOOK_A = [[0.6729, 0.6130], [0.0005, 0.2800]]


def simple_derivatives(torch):
    """Eight derivatives of scalar functions, read back with .numpy() (a CPU tensor)."""
    x = torch.tensor(5.0, requires_grad=True)
    y = 2 * x
    y.backward()
    print("dy/dx = ", x.grad.numpy())

    x = torch.tensor(7.0, requires_grad=True)
    y = x**2
    y.backward()
    print("dy/dx = ", x.grad.item())

    x = torch.tensor(7.0, requires_grad=True)
    y = torch.tensor(3.0, requires_grad=True)
    z = x**2 + y**3
    z.backward()
    print("dz/dx = ", x.grad.numpy())
    print("dz/dy = ", y.grad.numpy())

    x = torch.tensor(3.0, requires_grad=True)
    y = torch.exp(x)
    y.backward()
    print("dy/dx = ", x.grad.numpy(), " ans = ", np.exp(3.0))

    x = torch.tensor(2.0, requires_grad=True)
    y = -1 / x
    y.backward()
    print("dy/dx = ", x.grad.numpy())

    x = torch.tensor(2.0, requires_grad=True)
    y = (x**3) ** (-4)
    y.backward()
    print("dy/dx = ", x.grad.numpy())

    x = torch.tensor(2.0, requires_grad=True)
    y = torch.sqrt(2 * x + 3)
    y.backward()
    print("dy/dx = ", x.grad.numpy())

    x = torch.tensor(2.0, requires_grad=True)
    y = torch.log(2 * (x**2) - 3 * x + 2)
    y.backward()
    print("dy/dx = ", x.grad.numpy())


def requires_grad_later(torch, a_values=NOTEBOOK_A):
    """requires_grad_ on a computed tensor makes it a leaf that records from then on."""
    a = torch.tensor(a_values, requires_grad=False)
    a = (a * 3) / (a - 1)
    print(a.requires_grad, a)
    a.requires_grad_(True)
    print(a.requires_grad, a)
    b = (a * a).sum()
    print(b.grad_fn.name())
    return a, b, b.grad_fn.name()


def vector_backward(torch):
    """backward(v) of a non-scalar output, and no_grad."""
    x = torch.tensor([1, 2, 3], dtype=torch.float32, requires_grad=True)
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    print(y)
    print(y.data.norm())
    print(torch.sqrt(torch.sum(torch.pow(y, 2))))

    v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
    y.backward(v)
    print(x.grad)

    print(x.requires_grad)
    print((x**2).requires_grad)
    with torch.no_grad():
        print((x**2).requires_grad)
    return x.grad


SECTIONS = [simple_derivatives, requires_grad_later, vector_backward]

if __name__ == "__main__":
    library = importlib.import_module("torch" if "--backend=torch" in sys.argv else "tritongrad")
    for section in SECTIONS:
        section(library)
