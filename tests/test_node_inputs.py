"""A node's inputs as torch counts them: ``next_functions`` and the ``grad_inputs`` a node hook sees
list the tensor arguments but the op's tensor options (masks, indices, conditions, class targets) and
include a number operand (``x * 2``'s 2, an input without a gradient). Compared with torch: the node
names reached and the output numbers, and the hook's ``grad_inputs`` (None or a gradient's shape)."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.test_hardening import agree

# (name, expression of x, a (3,) leaf requiring grad, and lib)
EXPRESSIONS = {
    "x * 2": lambda x, lib: x * 2,
    "2 * x": lambda x, lib: 2 * x,
    "x + 2": lambda x, lib: x + 2,
    "x - 2": lambda x, lib: x - 2,
    "x / 2": lambda x, lib: x / 2,
    "2 / x": lambda x, lib: 2 / x,
    "add(x, 2, alpha=3)": lambda x, lib: lib.add(x, 2, alpha=3),
    "mul_ of a clone": lambda x, lib: x.clone().mul_(3),
    "div floor": lambda x, lib: x.div(2, rounding_mode="floor"),
    "where(c, x, 2.)": lambda x, lib: lib.where(x > 0.7, x, 2.0),
    "where(c, 2., x)": lambda x, lib: lib.where(x > 0.7, 2.0, x),
    "where(c, x, y)": lambda x, lib: lib.where(x > 0.7, x, x.detach()),
    "masked_fill number": lambda x, lib: x.masked_fill(x > 0.7, 2.0),
    "masked_fill tensor": lambda x, lib: x.masked_fill(x > 0.7, lib.tensor(2.0)),
    "masked_fill_ of a clone": lambda x, lib: x.clone().masked_fill_(x > 0.7, 2.0),
    "masked_fill of a requiring value": lambda x, lib: lib.zeros(3).masked_fill(x > 0.7, x.sum()),
    "masked_select": lambda x, lib: x.masked_select(x > 0.7),
    "masked_scatter": lambda x, lib: x.masked_scatter(x > 0.7, x.detach()),
    "scatter number": lambda x, lib: x.scatter(0, lib.tensor([0, 2]), 5.0),
    "scatter_reduce": lambda x, lib: x.scatter_reduce(0, lib.tensor([0, 2]), x[:2], "sum"),
    "index_fill number": lambda x, lib: x.index_fill(0, lib.tensor([0, 2]), 2.0),
    "index_fill tensor": lambda x, lib: x.index_fill(0, lib.tensor([0, 2]), lib.tensor(2.0)),
    "index_select": lambda x, lib: x.index_select(0, lib.tensor([0, 2])),
    "embedding": lambda x, lib: lib.nn.functional.embedding(lib.tensor([0, 2]), x.view(3, 1)),
    "nll_loss with weights": lambda x, lib: lib.nn.functional.nll_loss(
        x.view(1, 3), lib.tensor([1]), weight=lib.tensor([0.2, 0.3, 0.5])
    ),
    "cross_entropy, weights requiring grad": lambda x, lib: lib.nn.functional.cross_entropy(
        x.view(1, 3), lib.tensor([1]), weight=lib.tensor([0.2, 0.3, 0.5], requires_grad=True)
    ),
    "lerp tensor weight": lambda x, lib: x.lerp(x.detach(), lib.tensor(0.5)),
    "addcmul": lambda x, lib: x.addcmul(x, x, value=2),
}


def _inputs_of(lib, build):
    """The node's inputs as (node name or None, output number) and the grad_inputs its hook sees."""
    lib.manual_seed(0)
    x = (lib.rand(3) + 0.5).requires_grad_()
    y = build(x, lib)
    node = y.grad_fn
    seen = []
    node.register_hook(lambda grad_inputs, grad_outputs: seen.append(grad_inputs))
    y.sum().backward()
    inputs = [(None if n is None else n.name(), number) for n, number in node.next_functions]
    hooked = [None if g is None else tuple(g.shape) for g in seen[0]]
    return node.name(), inputs, hooked


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_node_inputs_as_torch(name):
    build = EXPRESSIONS[name]
    agree(name, lambda lib: _inputs_of(lib, build), [])


# Optional tensor inputs count in torch's node when None (a conv's bias, a norm's weight and bias), and a
# batch norm's running statistics are no inputs of it
OPTIONAL_INPUT_CASES = {
    "conv2d_no_bias": lambda lib, x, w: lib.nn.functional.conv2d(x, w),
    "conv2d_bias": lambda lib, x, w: lib.nn.functional.conv2d(x, w, lib.zeros(3, requires_grad=True)),
    "conv_module_no_bias": lambda lib, x, w: lib.nn.Conv2d(2, 3, 3, bias=False)(x),
    "layer_norm_no_affine": lambda lib, x, w: lib.nn.functional.layer_norm(x, (5,)),
    "layer_norm_weight_only": lambda lib, x, w: lib.nn.functional.layer_norm(x, (5,), lib.ones(5, requires_grad=True)),
    "group_norm_no_affine": lambda lib, x, w: lib.nn.functional.group_norm(x, 1),
    "batch_norm_module": lambda lib, x, w: lib.nn.BatchNorm2d(2)(x),
    "batch_norm_no_affine": lambda lib, x, w: lib.nn.functional.batch_norm(x, lib.zeros(2), lib.ones(2), training=True),
}


@pytest.mark.parametrize("case", OPTIONAL_INPUT_CASES, ids=list(OPTIONAL_INPUT_CASES))
def test_optional_tensor_inputs_in_next_functions(case):
    def edges(lib):
        x = lib.ones(1, 2, 5, 5, requires_grad=True)
        w = lib.ones(3, 2, 3, 3, requires_grad=True)
        node = OPTIONAL_INPUT_CASES[case](lib, x, w).grad_fn
        return type(node).__name__, [None if n is None else type(n).__name__ for n, _ in node.next_functions]

    assert edges(tritongrad) == edges(torch)
