"""Layers, modules, parameters, initialisation, custom layers and file I/O, in the style of D2L's builders' guide.

    python tests/replays/r20_builders_guide.py [--backend=torch]

Blocks as classes (an MLP, a hand-made Sequential over ``_modules``, a block with a constant
weight and Python control flow, nested blocks); parameter access (``state_dict()``,
``named_parameters()``, ``.data``, ``.grad is None``) and tied layers whose gradients add up;
``net.apply`` with nn.init (normal_, constant_, zeros_, xavier_uniform_, uniform_ and a custom
rule), direct edits of ``.data``; custom layers with and without parameters; saving a tensor, a
list and a dict of tensors and a state_dict and loading them back; device queries. Random
initialisations print only facts that hold for any draw; inputs and weights that are printed
come from numpy.
"""

import os
import sys
import tempfile

import numpy as np

if "--backend=torch" in sys.argv:
    import torch
else:
    import tritongrad as torch

nn = torch.nn
F = torch.nn.functional
rng = np.random.default_rng(5)


def numpy_tensor(*shape):
    return torch.from_numpy(rng.uniform(-1, 1, shape).astype(np.float32))


def numpy_weights(net):
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(numpy_tensor(*p.shape) * 0.5)
    return net


# --- layers and modules -----------------------------------------------------------------------
X = numpy_tensor(2, 20)
net = numpy_weights(nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10)))
print(net(X).shape)


class MLP(nn.Module):
    def __init__(self):
        # Call the constructor of the parent class nn.Module to perform the necessary initialization
        super().__init__()
        self.hidden = nn.Linear(20, 256)
        self.out = nn.Linear(256, 10)

    # Define the forward propagation of the model, that is, how to return the required model output
    # based on the input X
    def forward(self, X):
        return self.out(F.relu(self.hidden(X)))


mlp = numpy_weights(MLP())
print(mlp(X).shape, f"{mlp(X).sum().item():.4f}")


class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        for idx, module in enumerate(args):
            self.add_module(str(idx), module)

    def forward(self, X):
        for module in self.children():
            X = module(X)
        return X


my_net = MySequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))
my_net.load_state_dict(net.state_dict())
print(f"MySequential agrees with nn.Sequential: {torch.equal(my_net(X), net(X))}, modules {list(my_net._modules)}")


class FixedHiddenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        # Random weight parameters that will not compute gradients and therefore keep constant during training
        self.rand_weight = numpy_tensor(20, 20).requires_grad_(False)
        self.linear = nn.Linear(20, 20)

    def forward(self, X):
        X = self.linear(X)
        X = F.relu(X @ self.rand_weight + 1)
        # Reuse the fully connected layer. This is equivalent to sharing parameters with two fully
        # connected layers
        X = self.linear(X)
        # Control flow
        while X.abs().sum() > 1:
            X /= 2
        return X.sum()


fixed = numpy_weights(FixedHiddenMLP())
print(f"FixedHiddenMLP {fixed(X).item():.6f}")


class NestMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())
        self.linear = nn.Linear(32, 16)

    def forward(self, X):
        return self.linear(self.net(X))


chimera = numpy_weights(nn.Sequential(NestMLP(), nn.Linear(16, 20), FixedHiddenMLP()))
print(f"chimera {chimera(X).item():.6f}")

# --- parameter management ---------------------------------------------------------------------
net = numpy_weights(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)))
X = numpy_tensor(2, 4)
print(net(X).shape)
print({name: tuple(t.shape) for name, t in net[2].state_dict().items()})
print(type(net[2].bias).__name__, net[2].bias.data.shape, f"{net[2].bias.data.item():.4f}")
print(net[2].weight.grad is None)
print([(name, param.shape) for name, param in net.named_parameters()])

# We need to give the shared layer a name so that we can refer to its parameters
shared = nn.Linear(8, 8)
net = numpy_weights(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(), nn.Linear(8, 1)))
net(X).sum().backward()
# Check whether the parameters are the same
print(net[2].weight.data[0] == net[4].weight.data[0])
net[2].weight.data[0, 0] = 100
# Make sure that they are actually the same object rather than just having the same value
print(net[2].weight.data[0] == net[4].weight.data[0])
print(f"tied layer listed once: {len(list(net.parameters()))} parameters, grad norm {net[2].weight.grad.norm():.4f}")

# --- parameter initialization -----------------------------------------------------------------
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))


def init_normal(module):
    if type(module) is nn.Linear:
        nn.init.normal_(module.weight, mean=0, std=0.01)
        nn.init.zeros_(module.bias)


net.apply(init_normal)
print(f"normal_: std below 0.05 {net[0].weight.data.std().item() < 0.05}, bias {net[0].bias.data[0].item()}")


def init_constant(module):
    if type(module) is nn.Linear:
        nn.init.constant_(module.weight, 1)
        nn.init.zeros_(module.bias)


net.apply(init_constant)
print(net[0].weight.data[0], net[0].bias.data[0])


def init_xavier(module):
    if type(module) is nn.Linear:
        nn.init.xavier_uniform_(module.weight)


def init_42(module):
    if type(module) is nn.Linear:
        nn.init.constant_(module.weight, 42)


net[0].apply(init_xavier)
net[2].apply(init_42)
bound = (6 / (4 + 8)) ** 0.5
print(f"xavier within its bound: {net[0].weight.data.abs().max().item() <= bound}")
print(net[2].weight.data)


def my_init(module):
    if type(module) is nn.Linear:
        print("Init", *[(name, param.shape) for name, param in module.named_parameters()][0])
        nn.init.uniform_(module.weight, -10, 10)
        module.weight.data *= module.weight.data.abs() >= 5


net.apply(my_init)
w = net[0].weight
print(f"kept only |w| >= 5: {bool(((w == 0) | (w.abs() >= 5)).all())}")
net[0].weight.data[:] += 1
net[0].weight.data[0, 0] = 42
print(net[0].weight.data[0, 0].item())

# --- custom layers ----------------------------------------------------------------------------


class CenteredLayer(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, X):
        return X - X.mean()


layer = CenteredLayer()
print(layer(torch.tensor([1.0, 2, 3, 4, 5])))
net = nn.Sequential(nn.Linear(8, 128), CenteredLayer())
Y = net(numpy_tensor(4, 8))
print(f"centered mean is ~0: {abs(Y.mean().item()) < 1e-6}")


class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units))

    def forward(self, X):
        linear = torch.matmul(X, self.weight.data) + self.bias.data
        return F.relu(linear)


linear = MyLinear(5, 3)
print(linear.weight.shape, linear.weight.requires_grad)
with torch.no_grad():
    linear.weight.copy_(numpy_tensor(5, 3))
    linear.bias.copy_(numpy_tensor(3))
print(linear(numpy_tensor(2, 5)))
net = nn.Sequential(MyLinear(64, 8), MyLinear(8, 1))
print(f"two MyLinear layers: {net(torch.rand(2, 64)).shape}, non-negative {bool((net(torch.rand(2, 64)) >= 0).all())}")

# --- file I/O ---------------------------------------------------------------------------------
with tempfile.TemporaryDirectory() as tmp:
    x = torch.arange(4)
    torch.save(x, os.path.join(tmp, "x-file"))
    x2 = torch.load(os.path.join(tmp, "x-file"))
    print(x2)

    y = torch.zeros(4)
    torch.save([x, y], os.path.join(tmp, "x-files"))
    x2, y2 = torch.load(os.path.join(tmp, "x-files"))
    print(x2, y2)

    mydict = {"x": x, "y": y}
    torch.save(mydict, os.path.join(tmp, "mydict"))
    mydict2 = torch.load(os.path.join(tmp, "mydict"))
    print(mydict2)

    net = numpy_weights(MLP())
    X = numpy_tensor(2, 20)
    Y = net(X)
    torch.save(net.state_dict(), os.path.join(tmp, "mlp.params"))
    clone = MLP()
    clone.load_state_dict(torch.load(os.path.join(tmp, "mlp.params")))
    print(clone.eval())
    Y_clone = clone(X)
    print(f"clone agrees: {bool((Y_clone == Y).all())}")

# --- devices ----------------------------------------------------------------------------------


def try_gpu(i=0):
    """Return gpu(i) if exists, otherwise return cpu()."""
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")


def try_all_gpus():
    """Return all available GPUs, or [cpu(),] if no GPU exists."""
    return [torch.device(f"cuda:{i}") for i in range(torch.cuda.device_count())] or [torch.device("cpu")]


print(torch.device("cpu"), try_gpu().type == ("cuda" if torch.cuda.is_available() else "cpu"), len(try_all_gpus()) >= 1)
X = torch.ones(2, 3, device=try_gpu())
print(X.device.type == try_gpu().type, X.sum().item())
