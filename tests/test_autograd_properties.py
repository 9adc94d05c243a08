"""Hypothesis property tests of the tape: random expression graphs built identically in torch
and tritongrad must give the same gradients for every leaf.

A graph starts from 3-4 float64 leaves whose shapes all broadcast to (2, 3) ((), (3,),
(1, 3), (2, 1), (2, 3)); each step applies an op (add, sub, mul, exp of a small value,
sum, expand) to nodes drawn from everything built so far, so sub-expressions are shared
and leaves are reused (fan-out), up to depth 6. The loss is the sum of the last node
plus a weighted sum of a few others.
"""

from __future__ import annotations

import math

import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import tritongrad
from tests.autograd_utils import assert_close, to_tg, to_torch

LEAF_SHAPES = [(), (3,), (1, 3), (2, 1), (2, 3)]
# Each example launches dozens of interpreter kernels: no shrinking (a failure prints its draws).
PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Node:
    """One value of the graph in both libraries, with a bound on its magnitude and its depth."""

    def __init__(self, torch_value, tg_value, bound: float, depth: int) -> None:
        self.torch_value, self.tg_value, self.bound, self.depth = torch_value, tg_value, bound, depth


def apply_op(op: str, lib, a, b=None):
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "exp":
        return lib.exp(a)
    if op == "sum_all":
        return a.sum()
    if op == "sum_last_keepdim":
        return a.sum(-1, keepdim=True)
    if op == "sum_first_keepdim":
        return a.sum(0, keepdim=True)
    if op == "expand":
        return a.expand(2, 3)
    raise ValueError(op)


BINARY = ("add", "sub", "mul")
UNARY = ("exp", "sum_all", "sum_last_keepdim", "sum_first_keepdim", "expand")


def build_graph(data):
    """Draws a graph; returns (leaves in both libraries, nodes, loss in both libraries)."""
    leaf_count = data.draw(st.integers(3, 4), label="leaves")
    nodes, torch_leaves, tg_leaves = [], [], []
    for index in range(leaf_count):
        shape = data.draw(st.sampled_from(LEAF_SHAPES), label=f"leaf {index} shape")
        values = torch.rand(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(index)) * 2 - 1
        torch_leaf, tg_leaf = values.clone().requires_grad_(), to_tg(values, requires_grad=True)
        torch_leaves.append(torch_leaf)
        tg_leaves.append(tg_leaf)
        nodes.append(Node(torch_leaf, tg_leaf, 1.0, 0))

    steps = data.draw(st.integers(1, 8), label="steps")
    for step in range(steps):
        candidates = [n for n in nodes if n.depth < 6]
        op = data.draw(st.sampled_from(BINARY + UNARY), label=f"op {step}")
        a = data.draw(st.sampled_from(candidates), label=f"operand a {step}")
        if op in BINARY:
            b = data.draw(st.sampled_from(candidates), label=f"operand b {step}")  # may be a itself
            bound = a.bound * b.bound if op == "mul" else a.bound + b.bound
            result = Node(
                apply_op(op, torch, a.torch_value, b.torch_value),
                apply_op(op, tritongrad, a.tg_value, b.tg_value),
                bound,
                max(a.depth, b.depth) + 1,
            )
        else:
            if op == "exp" and a.bound > 3.0:
                op = "sum_all"  # exp only of small values: keep the graph finite
            if op in ("sum_last_keepdim", "sum_first_keepdim") and a.torch_value.dim() == 0:
                op = "expand"
            if op == "sum_first_keepdim" and a.torch_value.dim() == 1:
                op = "sum_last_keepdim"
            bound = {"exp": math.exp(a.bound), "expand": a.bound}.get(op, a.bound * 6)
            result = Node(apply_op(op, torch, a.torch_value), apply_op(op, tritongrad, a.tg_value), bound, a.depth + 1)
        nodes.append(result)

    extras = data.draw(st.lists(st.sampled_from(nodes), max_size=2), label="extra loss terms")
    torch_loss, tg_loss = nodes[-1].torch_value.sum(), nodes[-1].tg_value.sum()
    for weight, node in enumerate(extras, start=2):
        torch_loss = torch_loss + weight * node.torch_value.sum()
        tg_loss = tg_loss + weight * node.tg_value.sum()
    return torch_leaves, tg_leaves, nodes, torch_loss, tg_loss


@PROPERTY_SETTINGS
@given(st.data())
def test_random_graphs_give_torch_gradients(data):
    torch_leaves, tg_leaves, nodes, torch_loss, tg_loss = build_graph(data)
    assert_close(tg_loss, torch_loss.detach(), "loss", kind="autograd_graph")

    torch_loss.backward(retain_graph=True)
    tg_loss.backward(retain_graph=True)
    for index, (got, want) in enumerate(zip(tg_leaves, torch_leaves)):
        if want.grad is None:
            assert got.grad is None, f"leaf {index} got a gradient but torch gave none"
            continue
        assert got.grad is not None, f"leaf {index}: no gradient, torch's is {want.grad}"
        assert_close(got.grad, want.grad, f"leaf {index} {tuple(want.shape)} grad", kind="autograd_graph")

    # A second backward through the retained graph accumulates: every gradient doubles.
    first = [leaf.grad.clone() if leaf.grad is not None else None for leaf in tg_leaves]
    tg_loss.backward()
    for index, (leaf, before) in enumerate(zip(tg_leaves, first)):
        if before is not None:
            assert_close(leaf.grad, 2 * to_torch(before), f"leaf {index} accumulated", kind="autograd_graph")


@PROPERTY_SETTINGS
@given(st.data())
def test_autograd_grad_of_intermediates_matches_torch(data):
    torch_leaves, tg_leaves, nodes, torch_loss, tg_loss = build_graph(data)
    inner = [n for n in nodes if n.torch_value.requires_grad]
    chosen = data.draw(st.lists(st.sampled_from(inner), min_size=1, max_size=3, unique_by=id), label="wrt")
    want = torch.autograd.grad(torch_loss, [n.torch_value for n in chosen], allow_unused=True)
    got = tritongrad.autograd.grad(tg_loss, [n.tg_value for n in chosen], allow_unused=True)
    for index, (g, w) in enumerate(zip(got, want)):
        if w is None:
            assert g is None, f"d loss / d node {index}: tritongrad gave a gradient, torch None"
            continue
        assert g is not None, f"d loss / d node {index}: tritongrad gave None"
        assert_close(g, w, f"d loss / d node {index}", kind="autograd_graph")
    for leaf in tg_leaves:
        assert leaf.grad is None, "autograd.grad must not accumulate into .grad"


@settings(max_examples=20, deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate])
@given(
    a_shape=st.sampled_from(LEAF_SHAPES),
    b_shape=st.sampled_from(LEAF_SHAPES),
    op=st.sampled_from(["add", "sub", "mul", "div", "maximum"]),
)
def test_broadcast_binary_ops_reduce_gradients_to_each_shape(a_shape, b_shape, op):
    a = torch.rand(a_shape, dtype=torch.float64) + 0.5
    b = -torch.rand(b_shape, dtype=torch.float64) - 0.5  # no ties with a for maximum, no zero for div
    grads = []
    for lib in (torch, tritongrad):
        la = a.clone().requires_grad_() if lib is torch else to_tg(a, True)
        lb = b.clone().requires_grad_() if lib is torch else to_tg(b, True)
        function = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
                    "div": lambda x, y: x / y, "maximum": lib.maximum}[op]  # fmt: skip
        out = function(la, lb)
        (out * out).sum().backward()
        grads.append((la.grad, lb.grad))
    for index in range(2):
        got, want = grads[1][index], grads[0][index]
        assert tuple(got.shape) == tuple(want.shape), f"{op} {a_shape} {b_shape}: grad {index} shape"
        assert_close(got, want, f"{op} {a_shape} {b_shape} grad {index}", kind="autograd_graph")
