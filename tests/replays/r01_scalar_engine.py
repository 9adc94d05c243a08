"""A scalar-autograd engine's test file, in its style: a tiny Value class checked against torch.

    python tests/replays/r01_scalar_engine.py [--backend=torch]

Each check builds the same expression with the engine below and with torch in double precision
(``torch.Tensor([..]).double()`` with ``requires_grad = True``), then compares ``.data.item()``
and ``.grad.item()`` with the engine's numbers.
"""

import sys

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch


class Value:
    """A scalar that remembers how it was made, so that it can send gradients back."""

    def __init__(self, data, parents=(), op=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._parents = set(parents)
        self._op = op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k):
        assert isinstance(k, (int, float)), "only constant exponents"
        out = Value(self.data**k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()

        def visit(v):
            if v not in seen:
                seen.add(v)
                for p in v._parents:
                    visit(p)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1


def build(a, b):
    """The expression under test; works for Values and for torch tensors alike."""
    c = a * b + a**2
    d = (c - b).relu() + c / 4
    d += 1 + d + a
    e = (a + b) ** 3 - d.relu()
    f = e / 2.0 + 10.0 / (a + 1)
    f += (-b).relu() * 0.5
    f = f - 3 * a / b
    return f**2 / 100.0


def check_expression(a0, b0):
    a, b = Value(a0), Value(b0)
    out = build(a, b)
    out.backward()
    amine, bmine, omine = a, b, out

    a = torch.Tensor([a0]).double()
    b = torch.Tensor([b0]).double()
    a.requires_grad = True
    b.requires_grad = True
    out = build(a, b)
    out.backward()
    apt, bpt, opt = a, b, out

    tol = 1e-6
    print(f"a={a0:+.2f} b={b0:+.2f}  out engine {omine.data:.6g} torch {opt.data.item():.6g}")
    print(f"  d/da engine {amine.grad:.6f} torch {apt.grad.item():.6f}")
    print(f"  d/db engine {bmine.grad:.6f} torch {bpt.grad.item():.6f}")
    same = (
        abs(omine.data - opt.data.item()) < tol
        and abs(amine.grad - apt.grad.item()) < tol
        and abs(bmine.grad - bpt.grad.item()) < tol
    )
    print(f"  agree: {same}")


def check_sanity():
    x = Value(-3.0)
    z = 3 * x + 1 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xmine, ymine = x, y

    x = torch.Tensor([-3.0]).double()
    x.requires_grad = True
    z = 3 * x + 1 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xpt, ypt = x, y
    print(f"sanity: y {ymine.data} vs {ypt.data.item()}, dy/dx {xmine.grad} vs {xpt.grad.item()}")
    print(f"sanity agree: {ymine.data == ypt.data.item() and xmine.grad == xpt.grad.item()}")
    print(f"dtypes: {xpt.dtype} {ypt.dtype} {xpt.grad.dtype}, shape {tuple(ypt.shape)}")


if __name__ == "__main__":
    check_sanity()
    for a0, b0 in [(3.0, -1.5), (-2.0, 4.0), (0.5, 0.25), (1.5, -3.0)]:
        check_expression(a0, b0)
