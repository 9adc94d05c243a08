"""Seed 003 (shared/seeds/003_*.txt): examples/transparent_net.py's TransparentNet forward, backward
and SGD step, run with torch and with tritongrad on the same weights. Loss, the retained non-leaf
gradients and the parameter gradients must agree, and so must everything the notebook printed
(words exactly, numbers to float32 tolerance and the printed digits).
"""

from __future__ import annotations

import importlib.util
import os

from tests.autograd_utils import assert_close, compare_scenario

EXPECTED_LOSS = 1.2191184759140015
EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "transparent_net.py")
_spec = importlib.util.spec_from_file_location("transparent_net_example", EXAMPLE)
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)


def forward_backward_and_step(torch):
    net, x, y, gradients = example.forward_backward(torch)
    print(net)
    return gradients, example.sgd_step(torch, net, x, y)


def test_transparent_net_matches_torch():
    (gradients, (w, b, loss_after)), text = compare_scenario(forward_backward_and_step)
    loss, loss_grad, y_p_grad, z2_grad, z1_grad, w_grad, b_grad = gradients
    assert abs(loss.item() - EXPECTED_LOSS) < 1e-6, loss.item()
    # The notebook's printed values (4 decimals).
    assert loss_grad.item() == 1.0
    assert_close(y_p_grad, [1.5615, -1.5615], "y_p.grad", tolerances=(0, 1e-4))
    assert_close(z2_grad, [1.5615, -1.5615], "z2.grad", tolerances=(0, 1e-4))
    assert_close(z1_grad, [0.5346, -0.5346], "z1.grad", tolerances=(0, 1e-4))
    assert_close(w_grad, [[0.1604, 0.1604, 0.4811], [-0.1604, -0.1604, -0.4811]], "w.grad", tolerances=(0, 1e-4))
    assert_close(b_grad, [0.5346, -0.5346], "b.grad", tolerances=(0, 1e-4))
    assert "(softmax): Softmax(dim=-1)" in text
    assert loss_after < loss.item(), "one SGD step lowers the loss"
