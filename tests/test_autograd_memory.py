"""The tape does not leak: 1,000 training steps keep the number of live tritongrad Tensors and
graph nodes, and the process's resident memory, flat; graphs are freed by reference counting
alone (no cycles left for the garbage collector); saved tensors go when backward is done.
"""

from __future__ import annotations

import gc
import weakref

import torch

import tritongrad
from tritongrad.autograd.function import Node

STEPS = 1_000


def count_objects(kind) -> int:
    # type() rather than isinstance(): isinstance() on some lazy torch module objects warns.
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), kind))


def live_objects(kind) -> int:
    gc.collect()
    return count_objects(kind)


def resident_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("VmRSS not found in /proc/self/status")


def make_model():
    w = tritongrad.tensor([[0.5, -0.25], [0.1, 0.3]], requires_grad=True)
    b = tritongrad.tensor([0.05, -0.1], requires_grad=True)
    x = tritongrad.tensor([[1.0, 2.0], [-1.0, 0.5], [0.25, -0.75]])
    return w, b, x


def train_step(w, b, x, lr: float = 0.01):
    """A richer step: broadcasting, a shared intermediate, exp, mean, an SGD update under no_grad."""
    hidden = x.unsqueeze(2) * w + b  # (3, 2, 2), used twice below
    loss = (hidden * hidden).mean() + hidden.exp().sum() * 0.01
    loss.backward()
    with tritongrad.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad.zero_()
    b.grad = None
    return loss


def small_step(w, x, step: int):
    """The cheapest real step (~5 kernel launches, so 1,000 of them fit the interpreter's time):
    a saved-tensor op, a reduction, backward with accumulation, and every 10th step an
    update under no_grad followed by ``grad = None``."""
    loss = (w * x).sum()  # MulBackward0 saves w and x
    loss.backward()
    if step % 10 == 9:
        with tritongrad.no_grad():
            w.sub_(w.grad, alpha=0.001)
        w.grad = None
    return loss


def test_thousand_steps_keep_tensor_count_and_memory_flat():
    w = tritongrad.tensor([0.5, -0.25, 0.1], requires_grad=True)
    x = tritongrad.tensor([1.0, 2.0, -1.0])
    for step in range(20):  # warm up caches (kernels, the interpreter's staging buffers)
        small_step(w, x, step)
    tensors_before, nodes_before = live_objects(tritongrad.Tensor), live_objects(Node)
    rss_before = resident_kib()
    losses = []
    for step in range(STEPS):
        loss = small_step(w, x, step)
        if step % 100 == 0:
            losses.append(loss.item())
    del loss
    tensors_after, nodes_after = live_objects(tritongrad.Tensor), live_objects(Node)
    rss_growth_kib = resident_kib() - rss_before
    assert tensors_after - tensors_before <= 2, (
        f"live tritongrad Tensors grew from {tensors_before} to {tensors_after} over {STEPS} steps"
    )
    assert nodes_after - nodes_before <= 2, f"graph nodes grew from {nodes_before} to {nodes_after}"
    assert rss_growth_kib < 16 * 1024, f"resident memory grew by {rss_growth_kib} KiB over {STEPS} steps"
    assert losses[-1] < losses[0], "the updates should lower the loss"


def test_graphs_are_freed_without_the_cycle_collector():
    w, b, x = make_model()
    train_step(w, b, x)
    gc.collect()
    gc.disable()
    try:
        before = count_objects((tritongrad.Tensor, Node))
        for _ in range(20):
            train_step(w, b, x)
            # retain_grad and a hook on an intermediate must not create cycles either
            hidden = (x.unsqueeze(2) * w).exp()
            hidden.retain_grad()
            hidden.register_hook(lambda grad: grad * 2)
            hidden.sum().backward()
            w.grad = None
        after = count_objects((tritongrad.Tensor, Node))
    finally:
        gc.enable()
    assert after - before <= 8, f"{after - before} Tensors/nodes survived only as garbage cycles"


def test_create_graph_results_are_released_once_dropped():
    x = tritongrad.tensor([0.5, 1.5], requires_grad=True)
    baseline = live_objects(Node)
    for _ in range(20):
        (first,) = tritongrad.autograd.grad((x**3).sum(), x, create_graph=True)
        (second,) = tritongrad.autograd.grad(first.sum(), x)
    del first, second
    assert live_objects(Node) - baseline <= 2


def test_saved_tensors_are_dropped_by_backward_and_kept_with_retain_graph():
    x = tritongrad.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    for retain, expect_alive in ((False, False), (True, True)):
        intermediate = x.exp()
        probe = weakref.ref(intermediate)
        loss = (intermediate * x).sum()  # MulBackward0 saves the intermediate
        del intermediate
        loss.backward(retain_graph=retain)
        gc.collect()
        assert (probe() is not None) == expect_alive, f"retain_graph={retain}"
        del loss
        gc.collect()
        assert probe() is None, "dropping the loss must free the whole graph"


def test_a_graph_keeps_its_leaves_alive_and_a_dropped_leaf_goes_at_once():
    """As torch's: a leaf used by a live graph stays alive (its gradient still lands, hooks still
    run), and a leaf nobody holds is freed by reference counting, its AccumulateGrad node with it."""

    for lib in (torch, tritongrad):
        seen = []
        leaf = lib.tensor([1.0, 2.0], requires_grad=True)
        leaf.register_hook(lambda grad, seen=seen: seen.append(grad.tolist()))
        loss = (leaf * 3).sum()
        leaf_ref = weakref.ref(leaf)
        node = loss.grad_fn.next_functions[0][0].next_functions[0][0]
        assert type(node).__name__ == "AccumulateGrad", f"{lib.__name__}: {type(node).__name__}"
        del leaf, node
        assert leaf_ref() is not None, f"{lib.__name__}: the graph did not keep its leaf alive"
        loss.backward()
        assert seen == [[3.0, 3.0]], f"{lib.__name__}: the leaf's hook saw {seen}"
        assert leaf_ref().grad.tolist() == [3.0, 3.0], f"{lib.__name__}: grad {leaf_ref().grad}"
        gc.disable()
        try:
            del loss
            assert leaf_ref() is None, f"{lib.__name__}: the leaf outlived its last graph and holder"
        finally:
            gc.enable()


def test_backward_frees_what_linear_and_cross_entropy_kept_while_the_graph_lives():
    """Linear and cross-entropy keep their forward's buffers for the backward (the saved tensors and
    the launcher's operands); backward frees them, as torch frees its saved tensors, even while the
    loss (and so the graph) is still referenced."""
    first, second = tritongrad.nn.Linear(4, 6), tritongrad.nn.Linear(6, 3)
    x, target = tritongrad.randn(5, 4), tritongrad.tensor([0, 2, 1, 1, 0])
    for _ in range(2):  # the second step runs with the launchers made by the first
        hidden = first(x).relu()
        logits = second(hidden)
        loss = tritongrad.nn.functional.cross_entropy(logits, target)
        buffers = [weakref.ref(hidden._data), weakref.ref(logits._data)]
        del hidden, logits
        gc.disable()
        try:
            assert all(ref() is not None for ref in buffers), "the graph should keep its saved buffers until backward"
            loss.backward()
            alive = [index for index, ref in enumerate(buffers) if ref() is not None]
        finally:
            gc.enable()
        assert not alive, f"buffers {alive} (0: hidden, 1: logits) outlived backward while the loss is referenced"
        first.zero_grad(), second.zero_grad()
