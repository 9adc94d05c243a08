"""The seed notebooks' autograd scenarios (examples/seeds/*.py), run through torch and tritongrad.

Each section of a walkthrough is a function whose parameter ``torch`` is the library: it runs
once with the real torch and once with tritongrad in its place, and what it prints and
returns must agree at float32 tolerance (``compare_scenario``). Where a notebook drew random
numbers, the walkthrough uses the values the notebook printed (or a test passes its own),
since the two libraries' generators differ. The notebooks' own printed numbers are checked
too. Seed 003 (TransparentNet) is tests/test_transparent_net.py.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
import torch as real_torch

from tests.autograd_utils import DEVICE, compare_scenario

SEEDS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "seeds")


def load_walkthrough(name: str):
    """examples/seeds/<name>.py as a module (its sections run only when called)."""
    spec = importlib.util.spec_from_file_location(f"seed_walkthrough_{name}", os.path.join(SEEDS, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


seed000 = load_walkthrough("gradients_ru")
seed001 = load_walkthrough("autograd_basics_ru")
seed002 = load_walkthrough("second_derivatives_zh")
seed004 = load_walkthrough("derivatives_ja")


def test_every_section_is_tested():
    """Each walkthrough section has a ``test_seedNNN__<section>`` below."""
    walkthroughs = {"seed000": seed000, "seed001": seed001, "seed002": seed002, "seed004": seed004}
    sections = {(seed, section.__name__) for seed, module in walkthroughs.items() for section in module.SECTIONS}
    tested = {tuple(name[len("test_") :].split("__", 1)) for name in globals() if name.startswith("test_seed")}
    assert sections <= tested, f"sections without a test: {sorted(sections - tested)}"


# ----------------------------------------------------------------------------- seed 000


def test_seed000__polynomial_gradients():
    (f, x_grad, y_grad, z_grad, *_), _ = compare_scenario(seed000.polynomial_gradients)
    assert x_grad.tolist() == [52.0, 76.0] and y_grad.tolist() == [32.0, 52.0] and z_grad.tolist() == [28.0, 44.0]


def test_seed000__mse_gradient():
    (mse, w_grad, b_grad), text = compare_scenario(seed000.mse_gradient)
    assert mse.item() == 4.0 and w_grad.item() == -58.0
    assert abs(b_grad.item() + 4.0) < 1e-5
    assert "MSE: 4.0" in text


def test_seed000__chain_rule():
    # x**2 reaches ~7000, so sin(x**2 + 1) is sensitive to the last bit of x**2: compare loosely.
    (_, (ag,)), _ = compare_scenario(seed000.chain_rule, rtol=1e-3)
    expected = [21.2127, -83.7273, 77.7941, 82.6556]
    assert np.allclose(ag.tolist(), expected, atol=2e-3), ag.tolist()


# ----------------------------------------------------------------------------- seed 001


def test_seed001__arithmetic():
    _, text = compare_scenario(seed001.arithmetic)
    assert "a==b\ttensor([False, False, False, False, False])" in text


def test_seed001__log_gradient():
    (f, x_grad), text = compare_scenario(seed001.log_gradient)
    assert "grad_fn=<LogBackward0>" in text and "None" in text
    assert abs(f.item() - 6.6859) < 1e-4 and abs(x_grad.item() - 0.0375) < 1e-4


def test_seed001__tan_gradient():
    (y, x_grad), text = compare_scenario(seed001.tan_gradient)
    assert "grad_fn=<TanBackward0>" in text
    assert abs(y.item() + 2.1850) < 1e-4 and abs(x_grad.item() - 11.5488) < 1e-3


def test_seed001__matmul_relu_and_sgd():
    (w_grad, x_grad, _), _ = compare_scenario(seed001.matmul_relu_and_sgd)
    assert x_grad is None
    # The notebook printed W rounded to 4 decimals, so its own numbers agree to ~1e-3 only.
    assert np.allclose(w_grad.tolist()[0], [0.0, 6.4615, 12.9230, 19.3845], atol=5e-3)
    assert str(w_grad.tolist()[2][0]) == "-0.0"  # the sign of zero as the notebook printed it


def test_seed001_matmul_relu_and_sgd_from_other_weights():
    # The notebook's torch.rand(3, 4): any values in [0, 1) show the same dynamics.
    w_values = real_torch.rand(3, 4, generator=real_torch.Generator().manual_seed(1)).tolist()
    compare_scenario(seed001.matmul_relu_and_sgd, w_values)


def test_seed001__descent_by_hand():
    x, text = compare_scenario(seed001.descent_by_hand)
    assert "iteration 0, x 4.0, loss 6.25, grad 5.0" in text
    assert "iteration 1, x 3.5, loss 4.0, grad 4.0" in text
    assert abs(x.item() - 1.5) < 1e-5


def test_seed001__descent_with_sgd():
    (x, _), text = compare_scenario(seed001.descent_with_sgd)
    assert "iteration 0, x tensor([3.5000], requires_grad=True), loss tensor([6.2500], grad_fn=<PowBackward0>)" in text


def test_seed001__update_without_no_grad():
    (x, is_leaf, name), text = compare_scenario(seed001.update_without_no_grad)
    assert (is_leaf, name) == (False, "SubBackward0")
    assert "tensor(3.5000, grad_fn=<SubBackward0>)" in text


# ----------------------------------------------------------------------------- seed 002


def test_seed002__numerical_derivatives():
    _, text = compare_scenario(seed002.numerical_derivatives)
    assert text.splitlines()[0].startswith("7.99999")


def test_seed002__grad_and_retain_graph():
    results, text = compare_scenario(seed002.grad_and_retain_graph)
    assert "Trying to backward through the graph a second time" in text
    assert "Specify retain_graph=True" in text
    assert [r.item() for r in results] == [9.0, 42.0, 9.0, 42.0]


def test_seed002__second_derivatives():
    (unused, d11, d21, d22), text = compare_scenario(seed002.second_derivatives)
    assert unused is None
    assert (d11.item(), d21.item(), d22.item()) == (6.0, 6.0, 14.0)


def test_seed002__descent_by_hand():
    x, text = compare_scenario(seed002.descent_by_hand)
    assert text.strip() == "tensor(-0.3333, requires_grad=True)"


def test_seed002__descent_with_sgd():
    x, text = compare_scenario(seed002.descent_with_sgd)
    assert text.strip() == "tensor(-0.3333, requires_grad=True)"


# ----------------------------------------------------------------------------- seed 004


@pytest.mark.skipif(DEVICE.type != "cpu", reason="the notebook's x.grad.numpy() needs CPU tensors")
def test_seed004__simple_derivatives():
    _, text = compare_scenario(seed004.simple_derivatives)
    expected = ["2.0", "14.0", "14.0", "27.0", "20.085537", "0.25", "-0.0014648438", "0.3779645", "1.25"]
    printed_values = [line.split("=")[1].split()[0] for line in text.strip().splitlines()]
    assert printed_values == expected


def test_seed004__requires_grad_later():
    (a, b, name), text = compare_scenario(seed004.requires_grad_later)
    assert name == "SumBackward0" and text.strip().endswith("SumBackward0")
    assert a.is_leaf and a.requires_grad


def test_seed004_requires_grad_later_from_other_values():
    a_values = real_torch.randn(2, 2, generator=real_torch.Generator().manual_seed(4)).tolist()
    compare_scenario(seed004.requires_grad_later, a_values)


def test_seed004__vector_backward():
    grad, text = compare_scenario(seed004.vector_backward)
    assert "grad_fn=<MulBackward0>" in text and "grad_fn=<SqrtBackward0>" in text
    assert text.strip().splitlines()[-3:] == ["True", "True", "False"]
    assert np.allclose(grad.tolist(), [51.2, 512.0, 0.0512])
