"""Seed 001 (Russian tutorial): tensor arithmetic, autograd, manual SGD and torch.optim.SGD.

    python examples/seeds/autograd_basics_ru.py [--backend=torch]

The notebook draws W with torch.rand; here W is fixed so both backends start equal.
"""

import importlib
import sys

torch = importlib.import_module("torch" if "--backend=torch" in sys.argv else "tritongrad")

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

x = torch.tensor(15.0, requires_grad=True)
y = torch.tensor(24.0)
f = torch.log(x**2 + y**2)
print(f)
f.backward()
print(x, x.grad, y, y.grad)

x = torch.tensor(1, dtype=torch.float32, requires_grad=True)
y = torch.tan(1 + x**2)
print(y)
y.backward()
print(x.grad)

W = torch.tensor([[0.6904, 0.7417, 0.6027, 0.7612], [0.3263, 0.9509, 0.6202, 0.9371], [0.1982, 0.1809, 0.3788, 0.1230]])
x = torch.arange(4, dtype=torch.float32)
print(W, x)
print(W.requires_grad_(True))
z = W.matmul(x)
y = torch.relu(z)
target = torch.tensor([1.0, 1.2, 1.4])
loss = torch.sum((y - target) ** 2)
print(loss)
loss.backward()
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


def f(x):
    return (x - 1.5) ** 2


x = torch.tensor(4, dtype=torch.float32, requires_grad=True)
for i in range(100):
    y = f(x)
    y.backward()
    print(f"iteration {i}, x {x}, loss {y}, grad {x.grad}")
    with torch.no_grad():
        x -= 0.1 * x.grad
    x.grad.zero_()

x = torch.tensor([4], dtype=torch.float32, requires_grad=True)
optimizer = torch.optim.SGD([x], lr=0.1)
for i in range(100):
    y = f(x)
    optimizer.zero_grad()
    y.backward()
    optimizer.step()
    print(f"iteration {i}, x {x}, loss {y}, grad {x.grad}")

x = torch.tensor(4, dtype=torch.float32, requires_grad=True)
y = f(x)
y.backward()
print(f"iteration {i}, x {x}, loss {y}, grad {x.grad}")
x = x - 0.1 * x.grad
print(x.requires_grad_(True))
print(x)
