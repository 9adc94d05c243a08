"""The seeds' TransparentNet (Linear 3->2 as w @ x + b, then Softmax(dim=-1)), one backward
pass and one SGD step, printing the loss and every gradient the way the notebook does.

    python examples/transparent_net.py                    # with tritongrad
    python examples/transparent_net.py --backend torch    # the same code on PyTorch

The code below is the notebook's, unchanged but for the import line; tests run it with
both backends and compare the printed numbers.
"""

import argparse
import importlib

parser = argparse.ArgumentParser(description="TransparentNet forward/backward and one SGD step")
parser.add_argument("--backend", choices=["tritongrad", "torch"], default="tritongrad")
torch = importlib.import_module(parser.parse_args().backend)
nn = torch.nn


class TransparentNet(nn.Module):
    def __init__(self, w, b):
        super().__init__()
        self.w = nn.Parameter(w)
        self.b = nn.Parameter(b)
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x):
        self.z1 = self.w @ x + self.b
        self.z1.retain_grad()

        self.z2 = self.softmax(self.z1)
        self.z2.retain_grad()

        return self.z2


w = torch.tensor([[0.2, 0.4, 0.9], [0.1, -0.2, -0.5]])
b = torch.tensor([0.0, 0.2]).T
x = torch.tensor([0.3, 0.3, 0.9]).T
y = torch.tensor([0.0, 1.0])

net = TransparentNet(w=w, b=b)

print("Forward")
y_p = net(x)
dy = y - y_p
y_p.retain_grad()

loss = torch.pow(dy, 2).sum()
loss.retain_grad()

print("Backward")
loss.backward()

print(f"Loss: {loss}")
print(f"loss_grad: {loss.grad}")
print(f"y_p_grad: {y_p.grad}")
print(f"z2_grad: {net.z2.grad}")
print(f"z1_grad: {net.z1.grad}")
print(f"w_grad: {net.w.grad}")
print(f"b_grad: {net.b.grad}")

optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
optimizer.step()
print(f"w after one SGD step (lr=0.1): {net.w.data}")
print(f"b after one SGD step (lr=0.1): {net.b.data}")
print(f"loss after the step: {torch.pow(y - net(x), 2).sum().item()}")
