"""Seed 003 (shared/seeds/003_*.txt): the TransparentNet forward and backward, run with torch and with
tritongrad on the same weights. Loss, the retained non-leaf gradients and the parameter gradients
must agree, and so must everything the notebook printed (words exactly, numbers to float32
tolerance and the printed digits).
"""

from __future__ import annotations

import warnings

from tests.autograd_utils import assert_close, compare_scenario

EXPECTED_LOSS = 1.2191184759140015


def seed003_transparent_net(torch):
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
    print(net)
    return loss, loss.grad, y_p.grad, net.z2.grad, net.z1.grad, net.w.grad, net.b.grad


def test_transparent_net_matches_torch():
    (loss, loss_grad, y_p_grad, z2_grad, z1_grad, w_grad, b_grad), text = compare_scenario(seed003_transparent_net)
    assert abs(loss.item() - EXPECTED_LOSS) < 1e-6, loss.item()
    # The notebook's printed values (4 decimals).
    assert loss_grad.item() == 1.0
    assert_close(y_p_grad, [1.5615, -1.5615], "y_p.grad", tolerances=(0, 1e-4))
    assert_close(z2_grad, [1.5615, -1.5615], "z2.grad", tolerances=(0, 1e-4))
    assert_close(z1_grad, [0.5346, -0.5346], "z1.grad", tolerances=(0, 1e-4))
    assert_close(w_grad, [[0.1604, 0.1604, 0.4811], [-0.1604, -0.1604, -0.4811]], "w.grad", tolerances=(0, 1e-4))
    assert_close(b_grad, [0.5346, -0.5346], "b.grad", tolerances=(0, 1e-4))
    assert "(softmax): Softmax(dim=-1)" in text
