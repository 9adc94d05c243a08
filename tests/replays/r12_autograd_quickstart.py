"""The autograd basics of a quickstart tutorial: a one-layer net, grad_fn, no_grad, detach, Jacobian products.

python tests/replays/r12_autograd_quickstart.py [--backend=torch]
"""

import sys

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

F = torch.nn.functional
rng = np.random.default_rng(5)

x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.tensor(rng.standard_normal((5, 3)), dtype=torch.float32, requires_grad=True)
b = torch.tensor(rng.standard_normal(3), dtype=torch.float32, requires_grad=True)
z = torch.matmul(x, w) + b
loss = F.binary_cross_entropy_with_logits(z, y)

print(f"z has a grad_fn: {z.grad_fn is not None}, loss has a grad_fn: {loss.grad_fn is not None}")
print(f"leaves: w {w.is_leaf}, z {z.is_leaf}; x requires grad: {x.requires_grad}")
loss.backward()
print(f"loss {loss.item():.5f}")
print("w.grad", w.grad)
print("b.grad", b.grad)

z = torch.matmul(x, w) + b
print("requires_grad:", z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print("requires_grad under no_grad:", z.requires_grad)
z = torch.matmul(x, w) + b
z_det = z.detach()
print("requires_grad after detach:", z_det.requires_grad)

# binary cross entropy on probabilities agrees with the logits version
p = torch.sigmoid(torch.matmul(x, w) + b)
print(f"bce on sigmoid {F.binary_cross_entropy(p, y).item():.5f} vs with logits {loss.item():.5f}")

# Jacobian-vector products of a non-scalar output
inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")

# turning requires_grad on and off, and freezing part of a model
a = torch.tensor([2.0, 3.0])
a.requires_grad_(True)
q = (a**3).sum()
(ga,) = torch.autograd.grad(q, a)
print("d(sum a^3)/da =", ga)
layer = torch.nn.Linear(3, 2)
for param in layer.parameters():
    param.requires_grad = False
print("trainable after freezing:", [p.requires_grad for p in layer.parameters()])
