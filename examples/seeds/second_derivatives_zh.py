"""Seed 002 (Chinese tutorial): numerical vs autograd derivatives, autograd.grad, retain_graph,
second derivatives with create_graph, and gradient descent by hand and with SGD.

    python examples/seeds/second_derivatives_zh.py [--backend=torch]

Each section of the notebook is a function of the library module, named ``torch`` as in the
notebook, so the same code runs on tritongrad and on PyTorch (tests/test_seeds.py runs both).
"""

import importlib
import sys


def f(x):
    return 3.0 * x**2 + 2.0 * x - 1


def g(x1, x2):
    return (x1 + 5) * (x2**2)


def approximate_derivative(f, x, eps=1e-4):
    return (f(x + eps) - f(x - eps)) / (2.0 * eps)


def approximate_gradient(g, x1, x2, eps=1e-3):
    dg_x1 = approximate_derivative(lambda x: g(x, x2), x1, eps)
    dg_x2 = approximate_derivative(lambda x: g(x1, x), x2, eps)
    return dg_x1, dg_x2


def numerical_derivatives(torch):
    """Central differences in plain Python (no tensors)."""
    print(approximate_derivative(f, 1.0))
    print(approximate_gradient(g, 2.0, 3.0))


def grad_and_retain_graph(torch):
    """autograd.grad frees the graph: a second call needs retain_graph=True."""
    x1 = torch.tensor([2.0], requires_grad=True)
    x2 = torch.tensor([3.0], requires_grad=True)
    y = g(x1, x2)
    (dy_dx1,) = torch.autograd.grad(y, x1)
    print(dy_dx1)
    try:
        (dy_dx2,) = torch.autograd.grad(y, x2)
        print(dy_dx2)
    except Exception as e:
        print(e)

    x1 = torch.tensor([2.0], requires_grad=True)
    x2 = torch.tensor([3.0], requires_grad=True)
    y = g(x1, x2)
    dy_dx1, dy_dx2 = torch.autograd.grad(y, [x1, x2])
    print(dy_dx1, dy_dx2)

    x1 = torch.tensor([2.0], requires_grad=True)
    x2 = torch.tensor([3.0], requires_grad=True)
    y = g(x1, x2)
    y.backward()
    print(x1.grad, x2.grad)
    return dy_dx1, dy_dx2, x1.grad, x2.grad


def second_derivatives(torch):
    """create_graph=True makes the first derivatives differentiable."""
    x1 = torch.tensor([2.0], requires_grad=True)
    x2 = torch.tensor([3.0], requires_grad=True)
    y = g(x1, x2)
    dy_dx1, dy_dx2 = torch.autograd.grad(y, [x1, x2], create_graph=True)
    _, dy_dx1_dx1 = torch.autograd.grad(dy_dx1, [x1, x2], allow_unused=True)
    dy_dx2_dx1, dy_dx2_dx2 = torch.autograd.grad(dy_dx2, [x1, x2], allow_unused=True)
    print(dy_dx1_dx1, dy_dx2_dx1, dy_dx2_dx2)
    return _, dy_dx1_dx1, dy_dx2_dx1, dy_dx2_dx2


def descent_by_hand(torch):
    """Gradient descent on f through x.data."""
    learning_rate = 0.1
    x = torch.tensor(-1.0, requires_grad=True)
    for _ in range(100):
        z = f(x)
        z.backward()
        x.data.sub_(learning_rate * x.grad)
        x.grad.zero_()
    print(x)
    return x


def descent_with_sgd(torch):
    """The same descent with torch.optim.SGD."""
    learning_rate = 0.1
    x = torch.tensor(2.0, requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=learning_rate)
    for _ in range(100):
        z = f(x)
        z.backward()
        optimizer.step()
        optimizer.zero_grad()
    print(x)
    return x


SECTIONS = [numerical_derivatives, grad_and_retain_graph, second_derivatives, descent_by_hand, descent_with_sgd]

if __name__ == "__main__":
    library = importlib.import_module("torch" if "--backend=torch" in sys.argv else "tritongrad")
    for section in SECTIONS:
        section(library)
