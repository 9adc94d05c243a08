"""A physics-informed network for u''(x) = -pi^2 sin(pi x) on [0, 1] with u(0) = u(1) = 0.

    python tests/replays/r10_pinn.py [--backend=torch]

The residual needs u_x and u_xx with respect to the input, taken with torch.autograd.grad and
create_graph=True so that the loss can itself be differentiated; the loss weights come from a
numpy array (numpy scalars on the left of a tensor), and the result is compared with the exact
solution sin(pi x) in numpy.
"""

import sys

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

nn = torch.nn

rng = np.random.default_rng(0)


class PINN(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(1, width),
            nn.Tanh(),
            nn.Linear(width, width),
            nn.Tanh(),
            nn.Linear(width, 1),
        )
        # Xavier-style initial weights from numpy, so that both backends start alike
        with torch.no_grad():
            for layer in self.net:
                if isinstance(layer, nn.Linear):
                    fan_out, fan_in = layer.weight.shape
                    bound = np.sqrt(6.0 / (fan_in + fan_out))
                    layer.weight.copy_(torch.tensor(rng.uniform(-bound, bound, (fan_out, fan_in)), dtype=torch.float32))
                    layer.bias.zero_()

    def forward(self, x):
        return self.net(x)


def residual(model, x):
    u = model(x)
    u_x = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True)[0]
    u_xx = torch.autograd.grad(u_x, x, grad_outputs=torch.ones_like(u_x), create_graph=True)[0]
    f = u_xx + (np.pi**2) * torch.sin(np.pi * x)
    return u, u_x, u_xx, f


model = PINN()
x = torch.linspace(0, 1, 50).view(-1, 1).requires_grad_(True)
x_bc = torch.tensor([[0.0], [1.0]])
u_bc = torch.zeros(2, 1)
loss_weights = np.array([1.0, 10.0])  # PDE residual, boundary conditions

u, u_x, u_xx, f = residual(model, x)
print(f"u {tuple(u.shape)}, u_x {tuple(u_x.shape)} requires_grad={u_x.requires_grad}, u_xx {tuple(u_xx.shape)}")
print(f"initial residual mean square {torch.mean(f**2).item():.5g}")

# check the derivatives against finite differences of the network itself
with torch.no_grad():
    h = 5e-2
    x0 = torch.tensor([[0.3]])
    fd = (model(x0 + h) - 2 * model(x0) + model(x0 - h)) / h**2
x0 = x0.clone().requires_grad_(True)
_, _, u_xx0, _ = residual(model, x0)
print(f"u_xx(0.3) autograd {u_xx0.item():.4f}, finite difference {fd.item():.3f}")

optimizer = torch.optim.Adam(model.parameters(), lr=5e-2)
for epoch in range(8):
    optimizer.zero_grad()
    _, _, _, f = residual(model, x)
    loss_pde = torch.mean(f**2)
    loss_bc = torch.mean((model(x_bc) - u_bc) ** 2)
    loss = loss_weights[0] * loss_pde + loss_weights[1] * loss_bc
    loss.backward()
    optimizer.step()
    if epoch % 4 == 0 or epoch == 7:
        print(f"epoch {epoch:3d}: loss {loss.item():.5g} (pde {loss_pde.item():.5g}, bc {loss_bc.item():.5g})")

print(f"loss is a tensor: {isinstance(loss, torch.Tensor)}, type {type(loss).__name__}")
x_np = x.detach().numpy()
u_pred = model(x).detach().numpy()
u_exact = np.sin(np.pi * x_np)
print(f"prediction {u_pred.shape} {u_pred.dtype}, max abs error {np.abs(u_pred - u_exact).max():.4f}")
print(f"u(0.5) = {u_pred[24, 0]:.4f} (exact {u_exact[24, 0]:.4f})")
