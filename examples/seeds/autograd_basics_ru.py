"""Seed 001 (Russian tutorial): tensor arithmetic, autograd, manual SGD and torch.optim.SGD.

    python examples/seeds/autograd_basics_ru.py [--backend=torch]

Each section of the notebook is a function of the library module, named ``torch`` as in the
notebook, so the same code runs on tritongrad and on PyTorch (tests/test_seeds.py runs both).
The notebook draws W with torch.rand; here W is the matrix it printed, so both backends start
equal.
"""

import importlib
import sys

NOTEBOOK_W = [[0.6904, 0.7417, 0.6027, 0.7612], [0.3263, 0.9509, 0.6202, 0.9371], [0.1982, 0.1809, 0.3788, 0.1230]]


def f(x):
    return (x - 1.5) ** 2


def arithmetic(torch):
    """Tensors, dtypes, elementwise operators and their function forms."""
    a = torch.tensor([1, 2, 3.0, 4, 5], dtype=torch.float32)
    b = torch.arange(5, 10, dtype=torch.float32)
    c = torch.ones(5, 4, dtype=torch.float32)
    print(a, b, c)
    print(a.dtype)

    operation_names = ["a", "b", "a * b", "a + b", "a - b", "a / b", "a//b", "a**b", "a > b", "a==b"]
    operations = [a, b, a * b, a + b, a - b, a / b, a // b, a**b, a > b, a == b]
    for name, result in zip(operation_names, operations):
        print(name, result, sep="\t")

    x = torch.tensor(1.0)
    y = torch.tensor(2.0)
    print(torch.add(x, y), torch.mul(x, y), torch.sub(x, y))
    print(x + y, x * y, x - y)


def log_gradient(torch):
    """d/dx log(x^2 + y^2); y does not require grad, so its grad stays None."""
    x = torch.tensor(15.0, requires_grad=True)
    y = torch.tensor(24.0)
    f = torch.log(x**2 + y**2)
    print(f)
    f.backward()
    print(x, x.grad, y, y.grad)
    return f, x.grad


def tan_gradient(torch):
    x = torch.tensor(1, dtype=torch.float32, requires_grad=True)
    y = torch.tan(1 + x**2)
    print(y)
    y.backward()
    print(x.grad)
    return y, x.grad


def matmul_relu_and_sgd(torch, w_values=NOTEBOOK_W):
    """A squared error through W @ x and ReLU, then ten steps of gradient descent by hand."""
    W = torch.tensor(w_values)
    x = torch.arange(4, dtype=torch.float32)
    print(W, x)
    print(W.requires_grad_(True))
    z = W.matmul(x)
    y = torch.relu(z)
    target = torch.tensor([1.0, 1.2, 1.4])
    loss = torch.sum((y - target) ** 2)
    print(loss)
    loss.backward()
    first_grad = W.grad.clone()
    print(W.grad)
    print(x.grad)

    for i in range(10):
        z = W.matmul(x)
        y = torch.relu(z)
        loss = torch.sum((y - target) ** 2)
        loss.backward()
        with torch.no_grad():
            W -= 0.1 * W.grad
        W.grad.zero_()
        print(f"iteration {i}, loss {loss}")
    return first_grad, x.grad, W


def descent_by_hand(torch):
    """Minimising (x - 1.5)^2 with x -= 0.1 * x.grad under no_grad."""
    x = torch.tensor(4, dtype=torch.float32, requires_grad=True)
    for i in range(100):
        y = f(x)
        y.backward()
        print(f"iteration {i}, x {x}, loss {y}, grad {x.grad}")
        with torch.no_grad():
            x -= 0.1 * x.grad
        x.grad.zero_()
    return x


def descent_with_sgd(torch):
    """The same with torch.optim.SGD."""
    x = torch.tensor([4], dtype=torch.float32, requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=0.1)
    for i in range(100):
        y = f(x)
        optimizer.zero_grad()
        y.backward()
        optimizer.step()
        print(f"iteration {i}, x {x}, loss {y}, grad {x.grad}")
    return x, x.grad


def update_without_no_grad(torch):
    """x = x - 0.1 * x.grad outside no_grad makes x a non-leaf (SubBackward0)."""
    i = 99
    x = torch.tensor(4, dtype=torch.float32, requires_grad=True)
    y = f(x)
    y.backward()
    print(f"iteration {i}, x {x}, loss {y}, grad {x.grad}")
    x = x - 0.1 * x.grad
    print(x.requires_grad_(True))
    print(x)
    return x, x.is_leaf, x.grad_fn.name()


SECTIONS = [
    arithmetic, log_gradient, tan_gradient, matmul_relu_and_sgd, descent_by_hand, descent_with_sgd,
    update_without_no_grad,
]  # fmt: skip

if __name__ == "__main__":
    library = importlib.import_module("torch" if "--backend=torch" in sys.argv else "tritongrad")
    for section in SECTIONS:
        section(library)
