"""The seeds' TransparentNet (Linear 3->2 as w @ x + b, then Softmax(dim=-1)), one backward
pass and one SGD step, printing the loss and every gradient the way the notebook does.

    python examples/transparent_net.py                    # with tritongrad
    python examples/transparent_net.py --backend torch    # the same code on PyTorch

``forward_backward`` and ``sgd_step`` take the library module as ``torch``: the notebook's
code, unchanged but for that, runs on either backend; tests compare the printed numbers.
"""

import argparse
import importlib
import warnings


def make_transparent_net(torch):
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

    return TransparentNet


def forward_backward(torch):
    """The notebook's forward and backward; returns the net, its input and target, and the gradients."""
    TransparentNet = make_transparent_net(torch)
    w = torch.tensor([[0.2, 0.4, 0.9], [0.1, -0.2, -0.5]])
    with warnings.catch_warnings():
        # x.T on a 1-D tensor is deprecated (and a no-op) in both libraries.
        warnings.simplefilter("ignore", UserWarning)
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
    gradients = (loss, loss.grad, y_p.grad, net.z2.grad, net.z1.grad, net.w.grad, net.b.grad)
    return net, x, y, gradients


def sgd_step(torch, net, x, y):
    """One SGD step (lr 0.1) on the gradients of forward_backward."""
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    optimizer.step()
    print(f"w after one SGD step (lr=0.1): {net.w.data}")
    print(f"b after one SGD step (lr=0.1): {net.b.data}")
    loss = torch.pow(y - net(x), 2).sum().item()
    print(f"loss after the step: {loss}")
    return net.w.data, net.b.data, loss


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="TransparentNet forward/backward and one SGD step")
    parser.add_argument("--backend", choices=["tritongrad", "torch"], default="tritongrad")
    library = importlib.import_module(parser.parse_args().backend)
    net, x, y, _ = forward_backward(library)
    sgd_step(library, net, x, y)
