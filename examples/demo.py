"""tritongrad in one minute: tensors, autograd, a tiny net trained with SGD.

Every number below is computed by tritongrad's Triton kernels (on the GPU, or
through Triton's interpreter on a CPU-only machine).
"""

import tritongrad as torch
import tritongrad.nn as nn

print(f"device: {torch.runtime.device()} (interpreter: {torch.runtime.is_interpreter()})")

# Tensors and broadcasting.
a = torch.tensor([1, 2, 3.0, 4, 5])
b = torch.arange(5, 10, dtype=torch.float32)
print("a * b  =", a * b)
print("a ** b =", a**b)
print("ones + row =", torch.ones(2, 3) + torch.tensor([10.0, 20.0, 30.0]))

# Autograd: d/dx log(x^2 + y^2) at (15, 24).
x = torch.tensor(15.0, requires_grad=True)
y = torch.tensor(24.0)
f = torch.log(x**2 + y**2)
f.backward()
print("f =", f, " df/dx =", x.grad)

# Second derivative through autograd.grad(create_graph=True).
x = torch.tensor(2.0, requires_grad=True)
(first,) = torch.autograd.grad(x**4, x, create_graph=True)
(second,) = torch.autograd.grad(first, x)
print("d/dx x^4 =", first.item(), " d2/dx2 x^4 =", second.item())

# A two-layer net and a few SGD steps on f(x) = (x - 1.5)^2.
net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Softmax(dim=-1))
print(net)
print("net(x) =", net(torch.tensor([[0.3, 0.3, 0.9]])))

x = torch.tensor([4.0], requires_grad=True)
optimizer = torch.optim.SGD([x], lr=0.1)
for _ in range(25):
    optimizer.zero_grad()
    ((x - 1.5) ** 2).sum().backward()
    optimizer.step()
print("SGD on (x - 1.5)^2 from 4.0 after 25 steps:", x)
