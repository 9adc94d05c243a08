"""The tape and its engine against torch.autograd: accumulation, retain_graph, hooks,
retain_grad, graph structure, detach/.data, in-place rules, custom Functions, autograd.grad.

Most tests run one scenario with ``lib=torch`` and ``lib=tritongrad`` and compare
what it returns (``run_both``); error tests check both libraries raise alike.
"""

from __future__ import annotations

import gc
import importlib
import math
import sys
import warnings
import weakref

import pytest
import torch

import tritongrad
from tests.autograd_utils import FLOAT_DTYPES, TOLERANCES, assert_close, leaf_pair, run_both, to_tg

LIBS = [torch, tritongrad]
lib_ids = ["torch", "tritongrad"]


def both_raise(scenario, error, match: str) -> None:
    """``scenario(lib)`` raises ``error`` matching ``match`` with torch and with tritongrad."""
    for lib in LIBS:
        with pytest.raises(error, match=match):
            scenario(lib)


# ----------------------------------------------------------------------------- the engine


def deep_chain(lib, length: int):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(length):
        y = y * 1.0001
    y.sum().backward()
    return x.grad


@pytest.mark.slow
def test_ten_thousand_multiplications_backward_iteratively():
    # 10,000 kernel launches each way (~60 s in the interpreter): the engine must not recurse.
    limit = sys.getrecursionlimit()
    got, want = run_both(deep_chain, 10_000)
    assert sys.getrecursionlimit() == limit
    assert abs(got.tolist()[0] - math.e) < 1e-3


def test_ten_thousand_node_chain_without_kernels():
    # The same depth with view nodes (no kernel launches): backward and freeing the graph are iterative.
    x = tritongrad.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for index in range(10_000):
        y = y.view(2) if index % 2 else y.view(1, 2)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    z = x
    for _ in range(10_000):
        z = z.view(2)
    del z, y  # dropping a 10,000-deep graph must not overflow the stack either
    gc.collect()


def accumulate_two_backwards(lib):
    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    first = x.grad.clone()
    (x.exp()).sum().backward()
    return first, x.grad


def test_gradients_accumulate_across_backward_calls():
    run_both(accumulate_two_backwards)


def reset_between_steps(lib):
    x = lib.tensor([1.5, -0.5], requires_grad=True)
    (x * 3).sum().backward()
    x.grad.zero_()
    zeroed = x.grad.clone()
    (x * x).sum().backward()
    after_zero = x.grad.clone()
    x.grad = None
    (x * 5).sum().backward()
    return zeroed, after_zero, x.grad


def test_grad_zero_and_grad_none_between_steps():
    run_both(reset_between_steps)


def test_grad_buffer_is_reused_in_place_after_zero():
    x = tritongrad.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    grad = x.grad
    grad.zero_()
    (x * 3).sum().backward()
    assert x.grad is grad and grad.tolist() == [3.0, 3.0]


def test_implicit_gradient_only_for_scalar_outputs():
    both_raise(
        lambda lib: (lib.tensor([1.0, 2.0], requires_grad=True) * 2).backward(),
        RuntimeError,
        "grad can be implicitly created only for scalar outputs",
    )


def test_backward_of_one_element_non_scalar_works():
    got, _ = run_both(lambda lib: _one_element(lib))
    assert got.tolist() == [[3.0]]


def _one_element(lib):
    x = lib.tensor([[1.0]], requires_grad=True)
    (x * 3).backward()
    return x.grad


def second_backward(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, 4.0], requires_grad=True)
    z = (x * y).sum()
    z.backward()
    z.backward()


def test_second_backward_without_retain_graph_raises():
    both_raise(
        second_backward,
        RuntimeError,
        r"Trying to backward through the graph a second time.*retain_graph=True",
    )


def retained_twice(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, 4.0], requires_grad=True)
    z = (x * y.exp()).sum()
    z.backward(retain_graph=True)
    first = x.grad.clone()
    z.backward()
    return first, x.grad, y.grad


def test_retain_graph_allows_a_second_backward():
    got, _ = run_both(retained_twice)
    assert_close(got[1], 2 * torch.tensor([3.0, 4.0]).exp(), "accumulated twice")


def graph_without_saved_tensors(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    z = (x + x).sum()
    z.backward()
    z.backward()  # nothing was saved, so nothing was freed: torch allows this
    return x.grad


def test_graph_without_saved_tensors_can_be_walked_twice():
    run_both(graph_without_saved_tensors)


def test_saved_tensors_are_released_after_backward():
    x = tritongrad.tensor([0.5, 1.5], requires_grad=True)
    middle = x.exp()
    probe = weakref.ref(middle)
    out = (middle * x).sum()  # MulBackward0 saves middle and x
    del middle
    gc.collect()
    assert probe() is not None, "the graph should keep the saved intermediate alive before backward"
    out.backward()
    gc.collect()
    assert probe() is None, "backward without retain_graph must free saved tensors"
    node = out.grad_fn.next_functions[0][0]
    with pytest.raises(RuntimeError, match="after they have already been freed"):
        _ = node.saved_tensors


def test_retain_graph_keeps_saved_tensors():
    x = tritongrad.tensor([0.5, 1.5], requires_grad=True)
    middle = x.exp()
    probe = weakref.ref(middle)
    out = (middle * x).sum()
    del middle
    out.backward(retain_graph=True)
    gc.collect()
    assert probe() is not None


def backward_inputs(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, 4.0], requires_grad=True)
    w = lib.tensor([0.5, -1.0], requires_grad=True)
    hidden = x * y
    hidden.retain_grad()
    out = (hidden * w).sum()
    out.backward(inputs=[y], retain_graph=True)
    only_y = (x.grad, y.grad, w.grad)
    out.backward(inputs=[x, w])
    return only_y, x.grad, y.grad, w.grad


def test_backward_inputs_limits_which_leaves_get_gradients():
    got, _ = run_both(backward_inputs)
    assert got[0][0] is None and got[0][2] is None


def backward_inputs_non_leaf(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    hidden = x.exp()
    out = (hidden * 2).sum()
    out.backward(inputs=[hidden])
    return x.grad, hidden.grad


def test_backward_inputs_may_name_an_intermediate():
    got, _ = run_both(backward_inputs_non_leaf)
    assert got[0] is None


def test_backward_with_empty_inputs_raises():
    both_raise(
        lambda lib: (lib.tensor([1.0], requires_grad=True) * 2).sum().backward(inputs=[]),
        RuntimeError,
        "cannot be empty",
    )


def test_backward_of_a_tensor_without_grad_raises():
    both_raise(
        lambda lib: lib.tensor([1.0, 2.0]).sum().backward(),
        RuntimeError,
        "does not require grad and does not have a grad_fn",
    )


def test_backward_gradient_of_wrong_shape_raises():
    both_raise(
        lambda lib: (lib.tensor([1.0, 2.0], requires_grad=True) * 2).backward(lib.tensor([1.0, 2.0, 3.0])),
        RuntimeError,
        "Mismatch in shape",
    )


def vector_gradient(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    gradient = lib.tensor([0.1, 1.0, 0.0001])
    y.backward(gradient)
    return x.grad, gradient


def test_backward_with_gradient_argument_does_not_alias_it():
    got, _ = run_both(vector_gradient)
    grad, gradient = got
    assert gradient.tolist() == pytest.approx([0.1, 1.0, 0.0001])


def leaf_gradient_is_a_copy(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    seed = lib.tensor([5.0, 6.0])
    x.backward(seed)
    seed.mul_(0)  # x.grad must not share memory with the gradient the user passed
    return x.grad


def test_leaf_gradient_does_not_share_the_users_gradient():
    run_both(leaf_gradient_is_a_copy)


def fan_out(lib):
    x = lib.tensor([0.3, -1.2, 2.0], requires_grad=True)
    a = x * 2
    b = a + a * a  # a used three times
    c = (b * x).sum() + a.sum()
    c.backward()
    return c, x.grad


def test_a_tensor_used_many_times_sums_its_gradients():
    run_both(fan_out)


def create_graph_backward(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    if lib is torch:  # (torch warns once per process: an earlier test in the worker may have had it)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x**3).sum().backward(create_graph=True)
    else:
        with pytest.warns(UserWarning, match="reference cycle"):
            (x**3).sum().backward(create_graph=True)
    first = x.grad
    x.grad = None
    first.sum().backward()
    return first.requires_grad, first.detach(), x.grad


def test_the_same_root_given_twice_sums_its_seeds():
    def same_root_twice(lib, values):
        x = lib.tensor(values, requires_grad=True)
        loss = (x * x).sum()
        lib.autograd.backward([loss, loss])
        return x.grad

    run_both(same_root_twice, torch.randn(3, 2).tolist())


def test_custom_functions_receive_the_implicit_seed_as_a_tensor():
    # The engine's lazy ones seed (engine.UnitGradient) reaches only Functions that opt in.
    seen = []

    class Square(tritongrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            seen.append(grad)
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = to_tg(torch.tensor(3.0), requires_grad=True)
    Square.apply(x).backward()
    assert isinstance(seen[0], tritongrad.Tensor) and seen[0].item() == 1.0, seen
    assert x.grad.item() == 6.0
    leaf = to_tg(torch.tensor(2.0), requires_grad=True)
    leaf.backward()
    assert isinstance(leaf.grad, tritongrad.Tensor) and leaf.grad.item() == 1.0, "a leaf root gets a ones .grad"


def test_backward_with_create_graph_gives_a_differentiable_grad():
    got, _ = run_both(create_graph_backward)
    assert got[0] is True


def expanded_first_gradient(lib):
    x = lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    y = x + x
    z = (y + y).sum()  # SumBackward0 hands back an expanded (zero-stride) gradient
    z.backward(retain_graph=True)
    first = x.grad.clone()
    z.backward()  # accumulates in place: x.grad must own its memory
    return first, x.grad, x.grad.is_contiguous()


def test_leaf_gradient_owns_its_memory_after_an_expanded_first_gradient():
    run_both(expanded_first_gradient)


def noncontiguous_leaf_grad(lib):
    base = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    w = base.t().requires_grad_()  # a leaf with transposed strides
    (w * w).sum().backward()
    (w * 3).sum().backward()
    return w.grad, w.grad.stride()


def test_leaf_gradient_takes_the_leafs_strides():
    got, _ = run_both(noncontiguous_leaf_grad)
    assert got[1] == (1, 2)


# ----------------------------------------------------------------------------- hooks, retain_grad, graph


def hooks(lib):
    calls = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 3

    def double(grad):
        calls.append("hidden")
        return grad * 2

    def observe(grad):
        calls.append("x")

    hidden.register_hook(double)
    handle = x.register_hook(observe)
    (hidden * hidden).sum().backward()
    first = x.grad.clone()
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    return first, x.grad, calls


def test_register_hook_can_replace_a_gradient_and_be_removed():
    got, _ = run_both(hooks)
    assert got[2] == ["hidden", "x"]


def test_register_hook_on_a_tensor_without_grad_raises():
    both_raise(lambda lib: lib.tensor([1.0]).register_hook(lambda g: g), RuntimeError, "doesn't require gradient")


def retained(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    hidden = x.exp()
    other = x * 2
    hidden.retain_grad()
    (hidden * other).sum().backward()
    return hidden.retains_grad, other.retains_grad, x.retains_grad, hidden.grad, x.grad


def test_retain_grad_keeps_gradients_of_intermediates():
    run_both(retained)


def test_grad_of_a_non_leaf_warns_and_is_none():
    for lib in LIBS:
        x = lib.tensor([1.0], requires_grad=True)
        hidden = x * 2
        hidden.sum().backward()
        with pytest.warns(UserWarning, match="retain_grad"):
            assert hidden.grad is None


def describe(node, depth: int = 4):
    """A grad_fn's name and, recursively, its next_functions (AccumulateGrad names its leaf's values)."""
    if node is None:
        return None
    if node.name() == "torch::autograd::AccumulateGrad" or node.name() == "AccumulateGrad":
        return ("AccumulateGrad", node.variable.tolist())
    if depth == 0:
        return node.name()
    return (node.name(), [(describe(child, depth - 1), nr) for child, nr in node.next_functions])


def graph_structure(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, 4.0], requires_grad=True)
    constant = lib.tensor([5.0, 6.0])
    z = (x * y + x.exp() * constant).sum()
    return describe(z.grad_fn), x.is_leaf, z.is_leaf, constant.is_leaf, (constant * 2).is_leaf


def test_next_functions_structure_and_names():
    got, _ = run_both(graph_structure)
    assert got[0][0] == "SumBackward0"


def test_accumulate_grad_node_is_shared_by_uses_of_a_leaf():
    for lib in LIBS:
        x = lib.tensor([1.0], requires_grad=True)
        a, b = x * 2, x * 3
        assert a.grad_fn.next_functions[0][0] is b.grad_fn.next_functions[0][0]


def node_hook(lib):
    seen = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append((grad_inputs[0], grad_outputs[0])))
    y.sum().backward()
    return seen


def test_node_hook_sees_input_and_output_gradients():
    run_both(node_hook)


# ----------------------------------------------------------------------------- detach, .data, requires_grad


def detach_semantics(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    flags = (d.requires_grad, d.is_leaf, d.grad_fn is None)
    d.add_(1)  # shares memory with y
    z = x.exp()
    z.detach_()
    return flags, y, (z.requires_grad, z.is_leaf, z.grad_fn is None)


def test_detach_and_detach_in_place():
    run_both(detach_semantics)


def detached_then_modified(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # ExpBackward0 saves its output
    y.detach().mul_(2)  # same version counter as y
    y.sum().backward()


def test_in_place_through_detach_is_caught_at_backward():
    both_raise(detached_then_modified, RuntimeError, "modified by an inplace operation")


def data_bypasses_the_tape(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = x * x  # saves x
    x.data.add_(1)  # not tracked: no version error, backward reads the new values
    w.sum().backward()
    data = x.data
    return x.grad, data.requires_grad, data.is_leaf, x.requires_grad


def test_data_bypasses_the_tape():
    got, _ = run_both(data_bypasses_the_tape)
    assert got[0].tolist() == [4.0, 6.0]


def test_integer_tensors_cannot_require_grad():
    match = "(?i)only Tensors of floating point"
    both_raise(lambda lib: lib.tensor([1, 2], requires_grad=True), RuntimeError, match)
    both_raise(lambda lib: lib.arange(3).requires_grad_(), RuntimeError, match)


def test_requires_grad_of_a_non_leaf_cannot_be_switched_off():
    def switch_off(lib):
        (lib.tensor([1.0], requires_grad=True) * 2).requires_grad_(False)

    both_raise(switch_off, RuntimeError, "you can only change requires_grad flags of leaf variables")


def requires_grad_propagation(lib):
    a = lib.tensor([1.0], requires_grad=True)
    b = lib.tensor([2.0])
    return (a * b).requires_grad, (b * 2).requires_grad, (b * 2).grad_fn is None, a.detach().requires_grad


def test_requires_grad_propagates_from_inputs():
    run_both(requires_grad_propagation)


# ----------------------------------------------------------------------------- in-place rules


def test_in_place_on_a_leaf_that_requires_grad_raises():
    match = "a leaf Variable that requires grad is being used in an in-place operation"
    both_raise(lambda lib: lib.tensor([1.0], requires_grad=True).add_(1), RuntimeError, match)
    both_raise(lambda lib: lib.tensor([1.0], requires_grad=True).mul_(2), RuntimeError, match)
    both_raise(lambda lib: lib.tensor([1.0], requires_grad=True).zero_(), RuntimeError, match)


def modified_saved_tensor(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a * a  # saves a at version 0
    a.add_(1)
    b.sum().backward()


def test_saved_tensor_modified_in_place_raises_version_error():
    both_raise(
        modified_saved_tensor,
        RuntimeError,
        r"modified by an inplace operation.*is at version 1; expected version 0",
    )


def in_place_non_leaf(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, -4.0], requires_grad=True)
    a = x * 2
    a.mul_(y)
    name = a.grad_fn.name()
    a.add_(x.exp())
    a.sum().backward()
    return a, name, a.grad_fn.name(), x.grad, y.grad, a._version


def test_in_place_on_a_non_leaf_is_recorded():
    got, _ = run_both(in_place_non_leaf)
    assert got[1] == "MulBackward0"


# ----- writes through views: the base's history becomes torch's CopySlices


def write_through_views(lib, values):
    x = lib.tensor(values, requires_grad=True)
    y = x * 2
    first, rest = y[0], y[1:]  # rest is made before the write and must see it
    first.mul_(3)
    names = (first.grad_fn.name(), y.grad_fn.name(), rest.grad_fn.name())
    (y.sum() + (rest * rest).sum()).backward()
    return names, y, x.grad


def write_into_a_buffer(lib, values):
    # A buffer that did not require grad takes a value that does: torch's buf[i] = f(w) pattern.
    x = lib.tensor(values, requires_grad=True)
    buffer = lib.zeros(3)
    buffer[0] = x[0] * 2
    buffer[2] = x[1] ** 2
    state = (buffer.requires_grad, buffer.is_leaf, buffer.grad_fn.name())
    (buffer * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
    return state, buffer, x.grad


def overlapping_views(lib, values):
    x = lib.tensor(values, requires_grad=True)
    y = x * 1.5
    y[:2].add_(1.0)
    y[1:].mul_(x[0])  # overlaps the first write
    matrix = y.view(3, 1)
    matrix.t()[0, 2] += x[1]  # a view of a view, transposed
    (y * lib.tensor([1.0, -2.0, 3.0])).sum().backward()
    return y, x.grad


def write_into_the_base_after_a_view(lib, values):
    x = lib.tensor(values, requires_grad=True)
    y = x * 2
    head = y[0:2]
    y.mul_(3)
    name = head.grad_fn.name()
    (head * lib.tensor([1.0, 10.0])).sum().backward()
    return name, head, x.grad


@pytest.mark.parametrize(
    "scenario", [write_through_views, write_into_a_buffer, overlapping_views, write_into_the_base_after_a_view]
)
def test_in_place_writes_through_views_match_torch(scenario):
    run_both(scenario, torch.randn(3).tolist())


def test_write_through_a_view_of_a_saved_tensor_raises_version_error():
    def saved_then_written(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.exp()  # saves its output
        y[:2].add_(1.0)
        y.sum().backward()

    both_raise(saved_then_written, RuntimeError, "modified by an inplace operation")


def test_write_through_a_view_of_a_leaf_raises():
    def view_of_leaf(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x[0] = 5.0

    both_raise(view_of_leaf, RuntimeError, "a view of a leaf Variable that requires grad")


def test_write_through_a_view_made_under_no_grad_raises():
    def view_made_without_grad(lib):
        y = lib.tensor([1.0, 2.0], requires_grad=True) * 2
        with lib.no_grad():
            head = y[0]
        head.mul_(2)

    both_raise(view_made_without_grad, RuntimeError, "A view was created in no_grad mode")


def test_in_place_allowed_on_leaf_under_no_grad():
    for lib in LIBS:
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.no_grad():
            w -= 0.5
            w.mul_(2)
        assert w.is_leaf and w.requires_grad and w.tolist() == [1.0, 3.0]


# ----------------------------------------------------------------------------- custom Functions


def custom_functions(lib):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

    class ScaledProduct(lib.autograd.Function):
        """a * b * scale; records needs_input_grad; the mask output is not differentiable."""

        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            ctx.seen_needs = ctx.needs_input_grad
            mask = a > 0
            ctx.mark_non_differentiable(mask)
            return a * b * scale, mask

        @staticmethod
        def backward(ctx, grad, grad_mask):
            a, b = ctx.saved_tensors
            grad_a = grad * b * ctx.scale if ctx.needs_input_grad[0] else None
            grad_b = grad * a * ctx.scale if ctx.needs_input_grad[1] else None
            return grad_a, grad_b, None

    x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = Exp.apply(x)
    name = y.grad_fn.name()
    y.sum().backward()
    exp_grad = x.grad

    a = lib.tensor([1.0, -2.0], requires_grad=True)
    b = lib.tensor([3.0, 4.0])
    product, mask = ScaledProduct.apply(a, b, 0.5)
    product.sum().backward()
    ctx = product.grad_fn
    return y, name, exp_grad, product, mask, mask.requires_grad, a.grad, tuple(ctx.seen_needs)


def test_custom_functions_like_torch_docs():
    got, _ = run_both(custom_functions)
    assert got[1] == "ExpBackward"
    assert got[-1] == (True, False, False)


def test_custom_function_gradcheck_and_second_derivative():
    class Cube(tritongrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * grad * x * x

    x = tritongrad.tensor([0.7, -1.3], dtype=tritongrad.float64, requires_grad=True)
    assert tritongrad.autograd.gradcheck(Cube.apply, (x,))
    (first,) = tritongrad.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (second,) = tritongrad.autograd.grad(first.sum(), x)
    assert second.tolist() == pytest.approx([6 * 0.7, -6 * 1.3])


def test_custom_function_backward_returning_wrong_shape_raises():
    class Bad(tritongrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.sum()

    x = tritongrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="returned an invalid gradient at index 0"):
        Bad.apply(x).sum().backward()


def test_saved_tensors_without_save_for_backward_is_empty():
    """torch's saved_tensors is () when forward saved nothing: unpacking one tensor is Python's ValueError."""

    class Forgetful(tritongrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad

    with pytest.raises(ValueError, match="not enough values to unpack"):
        Forgetful.apply(tritongrad.tensor([1.0], requires_grad=True)).sum().backward()


def test_function_without_backward_raises_when_differentiated():
    class ForwardOnly(tritongrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with pytest.raises(NotImplementedError, match="backward"):
        ForwardOnly.apply(tritongrad.tensor([1.0], requires_grad=True)).sum().backward()


def custom_function_edge_cases(lib):
    class Cut(lib.autograd.Function):
        """Passes values through but sends no gradient back."""

        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, grad):
            return None

    class TwoOutputs(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1, a * 2

        @staticmethod
        def backward(ctx, grad_first, grad_second):
            ctx.seen_second = grad_second  # materialized as zeros when the output was not used
            return grad_first + 2 * grad_second

    class Identity(lib.autograd.Function):
        """Returns its input object itself: the output must still be a new node's tensor."""

        @staticmethod
        def forward(ctx, a):
            return a

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    class BroadcastGrad(lib.autograd.Function):
        """Returns a gradient that broadcasts to the input's shape: the engine sums it down."""

        @staticmethod
        def forward(ctx, a):
            return a.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad.expand(2, 3)

    x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
    Cut.apply((x * 2).exp()).sum().backward()
    cut_grad = x.grad

    first, _ = TwoOutputs.apply(x)
    first.sum().backward()
    seen_second = first.grad_fn.seen_second

    y = lib.tensor([1.0, 2.0], requires_grad=True)
    same = Identity.apply(y)
    identity_flags = (same is y, y.is_leaf, y.grad_fn is None, same.grad_fn.name())
    same.sum().backward()

    z = lib.tensor([5.0, 6.0, 7.0], requires_grad=True)
    BroadcastGrad.apply(z).backward()
    return cut_grad, x.grad, seen_second, identity_flags, y.grad, z.grad


def test_custom_function_edge_cases_like_torch():
    got, _ = run_both(custom_function_edge_cases)
    assert got[0] is None and got[3][:3] == (False, True, True)


def bad_gradient_count(lib):
    class TooFew(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = lib.tensor([1.0], requires_grad=True)
    TooFew.apply(a, lib.tensor([2.0], requires_grad=True)).sum().backward()


def gradient_for_a_number(lib):
    class Scaled(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, scale):
            return a * scale

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, grad

    Scaled.apply(lib.tensor([1.0], requires_grad=True), 2.0).sum().backward()


def saves_a_number(lib):
    """A Function whose forward passes a Python number to save_for_backward."""

    class SavesNumber(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a, 2.0)
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    return SavesNumber


def saving_a_number(lib):
    saves_a_number(lib).apply(lib.tensor([1.0], requires_grad=True))


def test_custom_function_errors_like_torch():
    both_raise(bad_gradient_count, RuntimeError, "returned an incorrect number of gradients")
    both_raise(gradient_for_a_number, RuntimeError, "the corresponding forward input was not a Variable")
    both_raise(saving_a_number, TypeError, "save_for_backward can only save variables")


@pytest.mark.parametrize("why", ["no_grad", "no input requires grad"])
def test_saving_a_number_is_accepted_when_nothing_records(why):
    """torch checks what save_for_backward was given only when the call records a node."""
    results = []
    for lib in (torch, tritongrad):
        function = saves_a_number(lib)
        if why == "no_grad":
            with lib.no_grad():
                out = function.apply(lib.tensor([1.5], requires_grad=True))
        else:
            out = function.apply(lib.tensor([1.5]))
        results.append(out.tolist())
    assert results[0] == results[1], f"torch {results[0]}, tritongrad {results[1]}"


def node_hook_replaces_gradients(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    handle = y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 10, None))
    y.sum().backward(retain_graph=True)
    first = x.grad.clone()
    handle.remove()
    y.sum().backward()
    return first, x.grad


def test_node_hook_may_replace_gradients_and_be_removed():
    run_both(node_hook_replaces_gradients)


# ----------------------------------------------------------------------------- autograd.grad


def grad_tuple(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([0.5, -0.5], requires_grad=True)
    out = (x * x * y).sum()
    grads = lib.autograd.grad(out, [x, y])
    return type(grads).__name__, grads, x.grad, y.grad, grads[0].requires_grad


def test_autograd_grad_returns_a_tuple_and_leaves_grad_alone():
    got, _ = run_both(grad_tuple)
    assert got[0] == "tuple" and got[2] is None


def higher_derivatives(lib):
    x = lib.tensor([0.5, -1.5, 2.0], dtype=lib.float64, requires_grad=True)
    results = []
    for function in (lambda t: t**4, lambda t: t.sin()):
        (first,) = lib.autograd.grad(function(x).sum(), x, create_graph=True)
        (second,) = lib.autograd.grad(first.sum(), x, create_graph=True)
        (third,) = lib.autograd.grad(second.sum(), x)
        results.append((first.detach(), second.detach(), third))
    return results


def test_second_and_third_derivatives():
    got, _ = run_both(higher_derivatives)
    (_, second, third), (_, _, sin_third) = got
    assert_close(third, 24 * torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64), "d3/dx3 x**4")
    assert_close(sin_third, -torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64).cos(), "d3/dx3 sin")


def grad_allow_unused(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    unused = lib.tensor([3.0], requires_grad=True)
    out = (x * x).sum()
    gx, gu = lib.autograd.grad(out, [x, unused], allow_unused=True, retain_graph=True)
    materialized = lib.autograd.grad(out, [x, unused], materialize_grads=True)
    return gx, gu, materialized


def test_autograd_grad_allow_unused_and_materialize():
    got, _ = run_both(grad_allow_unused)
    assert got[1] is None and got[2][1].tolist() == [0.0]


def grad_with_grad_outputs(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    (g,) = lib.autograd.grad(y, x, grad_outputs=lib.tensor([1.0, 0.5, -1.0]), retain_graph=True)
    (g2,) = lib.autograd.grad([y.sum(), (y * 2).sum()], x)
    return g, g2


def test_autograd_grad_with_grad_outputs_and_several_outputs():
    run_both(grad_with_grad_outputs)


def grad_of_intermediate(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 3
    out = (hidden * hidden).sum()
    return lib.autograd.grad(out, hidden)


def test_autograd_grad_with_respect_to_an_intermediate():
    run_both(grad_of_intermediate)


@pytest.mark.parametrize(
    "scenario, match",
    [
        (
            lambda lib: lib.autograd.grad(
                (lib.tensor([1.0], requires_grad=True) * 2).sum(), [lib.tensor([1.0], requires_grad=True)]
            ),
            "The differentiated Tensor at index 0 appears to not have been used in the graph",
        ),
        (
            lambda lib: lib.autograd.grad((lib.tensor([1.0], requires_grad=True) * 2).sum(), [lib.tensor([1.0])]),
            "does not require grad",
        ),
        (
            lambda lib: lib.autograd.grad(lib.tensor([1.0, 2.0], requires_grad=True) * 2, lib.tensor([1.0])),
            "does not require grad|implicitly created only for scalar outputs",
        ),
    ],
    ids=["unused", "input-without-grad", "non-scalar"],
)
def test_autograd_grad_errors(scenario, match):
    both_raise(scenario, RuntimeError, match)


def test_autograd_grad_non_scalar_output_needs_grad_outputs():
    both_raise(
        lambda lib: _non_scalar_grad(lib),
        RuntimeError,
        "grad can be implicitly created only for scalar outputs",
    )


def _non_scalar_grad(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    lib.autograd.grad(x * 2, x)


def backward_function(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0], requires_grad=True)
    lib.autograd.backward([(x * x).sum(), (x * y).sum()], [lib.tensor(1.0), lib.tensor(2.0)])
    return x.grad, y.grad


def test_autograd_backward_with_several_roots():
    run_both(backward_function)


def test_functional_jacobian_matches_torch():
    values = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    other = torch.tensor([1.5, 0.25], dtype=torch.float64)
    function = lambda a, b: (a.exp() * b.sum(), a * a)  # noqa: E731
    want = torch.autograd.functional.jacobian(function, (values, other))
    got = tritongrad.autograd.functional.jacobian(function, (to_tg(values), to_tg(other)))
    for i in range(2):
        for k in range(2):
            assert_close(got[i][k], want[i][k], f"d output {i} / d input {k}")
    single = tritongrad.autograd.functional.jacobian(lambda a: a.sin(), to_tg(values))
    assert_close(single, torch.autograd.functional.jacobian(torch.sin, values), "jacobian of sin")


def _function_products(lib, x, y, v):
    """Every functional derivative of a few small functions, in ``lib`` (torch or tritongrad)."""
    functional = lib.autograd.functional
    scalar = lambda a: (a**3).sum() + a[0] * a[1]  # noqa: E731
    pair = lambda a, b: (a * b.exp()).sum() + (a**2 * b).sum()  # noqa: E731
    vector = lambda a: a.sin() * a  # noqa: E731
    two_outputs = lambda a, b: (a * b, a + b)  # noqa: E731
    return [
        functional.hessian(scalar, x),
        functional.hessian(pair, (x, y)),
        functional.vjp(vector, x, v),
        functional.vjp(scalar, x),  # v may be omitted for a one-element output
        functional.jvp(vector, x, v),
        functional.jvp(two_outputs, (x, y), (v, v)),
        functional.vhp(pair, (x, y), (v, v)),
        functional.hvp(scalar, x, v),
    ]


def test_functional_hessian_and_vector_products_match_torch():
    values = [torch.tensor(v, dtype=torch.float64) for v in ([1.0, 2.0, 0.5], [0.3, -1.2, 2.0], [1.0, -2.0, 0.5])]
    want = _function_products(torch, *values)
    got = _function_products(tritongrad, *[to_tg(v) for v in values])

    def flatten(value):
        if isinstance(value, (tuple, list)):
            return [leaf for item in value for leaf in flatten(item)]
        return [value]

    for index, (g, w) in enumerate(zip(got, want)):
        g, w = flatten(g), flatten(w)
        assert len(g) == len(w), f"product {index}: {len(g)} tensors, torch returns {len(w)}"
        for k, (mine, theirs) in enumerate(zip(g, w)):
            assert not mine.requires_grad, f"product {index}[{k}] should be detached without create_graph"
            assert_close(mine, theirs, f"product {index}[{k}]")


def test_functional_products_check_their_vectors_like_torch():
    x = tritongrad.tensor([1.0, 2.0])
    functional = tritongrad.autograd.functional
    with pytest.raises(RuntimeError, match="v can only be None if the user-provided function returns a single"):
        functional.vjp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="The Tensor returned by the function given to hvp should contain a single"):
        functional.hvp(lambda a: a * 2, x, x)
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be torch.Size\(\[2\]\) but got torch.Size"):
        functional.jvp(lambda a: a * 2, x, tritongrad.ones(3))


# ----------------------------------------------------------------------------- low-precision gradients


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_gradient_dtype_matches_the_input_dtype(dtype):
    def scenario(lib, values, other):
        x = lib.tensor(values, dtype=dtype, requires_grad=True)
        w = lib.tensor(other, dtype=torch.float32, requires_grad=True)
        mixed = x * w  # promotes to float32 (or float64): x's gradient is cast back to its dtype
        loss = (mixed.exp() + (x * x).sum() * x).mean()
        loss.backward()
        return x.grad, w.grad, mixed.dtype

    values = torch.randn(2, 3).to(dtype).tolist()
    other = torch.randn(3).tolist()
    got, _ = run_both(scenario, values, other, tolerances=TOLERANCES[dtype])
    assert got[0].dtype == dtype and got[1].dtype == torch.float32


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_low_precision_reduction_gradients(dtype):
    x_torch, x_tg = leaf_pair((3, 4), dtype=dtype)
    x_torch.sum(1).mean().backward()
    x_tg.sum(1).mean().backward()
    assert x_tg.grad.dtype == dtype
    assert_close(x_tg.grad, x_torch.grad, f"sum/mean grad {dtype}")


def _double(grad):
    return grad.double()


@pytest.mark.parametrize(
    "hook, error, message",
    [
        (_double, RuntimeError, r"hook '_double' has changed the type of value \(was torch.FloatTensor got "
                                r"torch.DoubleTensor\)"),
        (lambda g: g.sum(), RuntimeError, "hook '<lambda>' has changed the size of value"),
        (lambda g: 3, TypeError, "expected Variable, but hook returned 'int'"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("on_leaf", [False, True])
def test_a_hook_must_return_a_gradient_like_the_one_it_got(hook, error, message, on_leaf):
    """torch refuses a hook's replacement gradient of another type or size, for leaves and non-leaves."""
    for lib in (torch, tritongrad):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        (x if on_leaf else y).register_hook(hook)
        with pytest.raises(error, match=message):
            (y * y).sum().backward()


def test_type_names_are_torchs():
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32,
                  torch.int16, torch.int8, torch.uint8, torch.bool):  # fmt: skip
        ours, theirs = tritongrad.ones(2, dtype=dtype), torch.ones(2, dtype=dtype)
        if ours.device.type == "cpu":
            assert ours.type() == theirs.type()
        assert ours.type(theirs.type()).dtype == dtype
        assert ours.float().type(dtype).dtype == dtype


def _failing_function(lib, case: str):
    """A Function of ``lib`` whose backward returns a good gradient for input 0 and a bad one after."""

    class Failing(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y if case == "wrong shape" else x * y

        @staticmethod
        def backward(ctx, grad):
            # "wrong shape": input 1 has 2 elements; "a number": input 1 is a number, so no gradient
            return grad * 2, grad.new_ones(5) if case == "wrong shape" else grad

    return Failing


@pytest.mark.parametrize("case", ["wrong shape", "a number"])
def test_a_backward_that_raises_leaves_every_grad_untouched(case):
    """torch checks all of a node's gradients before passing any on, so a leaf that is the node's
    first input keeps grad None when a later one is wrong (the engine's direct leaf writes happen
    after the checks; found by review of that change)."""
    results = {}
    for lib in (torch, tritongrad):
        a, w = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0, 4.0], requires_grad=True)
        out = _failing_function(lib, case).apply(a, w if case == "wrong shape" else 2.0)
        with pytest.raises(RuntimeError):
            out.sum().backward()
        results[lib.__name__] = (a.grad is None, w.grad is None)
    assert results["tritongrad"] == results["torch"] == (True, True), results


def node_hooks_in_torch_order(lib):
    """Tensor hooks, retained gradients, node pre-hooks, the node, node hooks; on a leaf's
    AccumulateGrad node the same, around the accumulation and the post-accumulate hook."""
    seen = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.register_hook(lambda g: seen.append(("tensor hook", g.tolist())) or g * 2)
    y.grad_fn.register_prehook(lambda go: seen.append(("node prehook", [g.tolist() for g in go])))

    def listed(grads):
        return [None if g is None else g.tolist() for g in grads]

    y.grad_fn.register_hook(lambda gi, go: seen.append(("node hook", listed(gi), listed(go))))
    y.retain_grad()
    y.sum().backward()
    seen.append(("grads", x.grad.tolist(), y.grad.tolist()))
    node = y.grad_fn.next_functions[0][0]
    x.register_hook(lambda g: seen.append(("leaf tensor hook", g.tolist())))
    node.register_prehook(lambda go: seen.append(("leaf node prehook", [g.tolist() for g in go])))
    x.register_post_accumulate_grad_hook(lambda t: seen.append(("post accumulate", t.grad.tolist())))
    node.register_hook(lambda gi, go: seen.append(("leaf node hook", list(gi), [g.tolist() for g in go])))
    x.grad = None
    (x * 3).sum().backward()
    node.register_prehook(lambda go: (go[0] * 10,))  # a replacement for what is accumulated
    (x * 3).sum().backward()
    seen.append(("grad", x.grad.tolist()))
    return seen


def test_node_hooks_run_in_torch_order_on_every_node():
    got, want = run_both(node_hooks_in_torch_order)
    assert got == want, f"tritongrad {got}\ntorch      {want}"


def prehook_returning(result):
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.grad_fn.register_prehook(lambda go: result(go))
        y.sum().backward()

    return scenario


@pytest.mark.parametrize(
    "result, error, match",
    [
        (lambda go: 5, TypeError, "expected tuple, but hook returned 'int'"),
        (lambda go: (go[0], go[0]), RuntimeError, "returned an incorrect number of values \\(got 2, but expected 1\\)"),
        (lambda go: (go[0].double(),), RuntimeError, "has changed the type of value"),
    ],
    ids=["not a tuple", "wrong count", "wrong dtype"],
)
def test_node_prehook_results_are_checked_like_torch(result, error, match):
    both_raise(prehook_returning(result), error, match)


def _functions_in_both_styles(lib):
    """A Function written in torch's newer style (forward without ctx, then setup_context), and a
    backward marked once_differentiable (its gradients have no history)."""
    once_differentiable = importlib.import_module(f"{lib.__name__}.autograd.function").once_differentiable

    class Mul(lib.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x * y

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * y, grad * x

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0, 4.0], requires_grad=True)
    product = Mul.apply(a, b)
    product.sum().backward()
    (grad,) = lib.autograd.grad(Square.apply(a).sum(), a, create_graph=True)
    return [product.tolist(), type(product.grad_fn).__name__, a.grad.tolist(), b.grad.tolist(), grad.tolist(),
            grad.requires_grad]  # fmt: skip


def test_setup_context_and_once_differentiable_match_torch():
    assert _functions_in_both_styles(tritongrad) == _functions_in_both_styles(torch)


def _misuse_outcomes(lib):
    """The exception type of each autograd misuse (and inference_mode(False)'s grad mode), as torch's."""

    class ReturnsANumber(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return 2.0

    x = lib.ones(2, requires_grad=True)
    attempts = {
        "backward(a float)": lambda: (x * 2).sum().backward(2.0),
        "grad of no inputs": lambda: lib.autograd.grad((x * 2).sum(), []),
        "grad of a number": lambda: lib.autograd.grad((x * 2).sum(), [x, 3.0]),
        "fewer grad_outputs than outputs": lambda: lib.autograd.grad(
            [(x * 2).sum(), x.sum()], [x], grad_outputs=[lib.tensor(1.0)]
        ),
        "a backward returning a number": lambda: ReturnsANumber.apply(x).sum().backward(),
        "set_grad_enabled(a string)": lambda: lib.set_grad_enabled("no"),
    }
    outcomes = {}
    for name, attempt in attempts.items():
        try:
            attempt()
            outcomes[name] = None
        except Exception as error:  # noqa: BLE001 - the type (and message head) is what is compared
            outcomes[name] = (type(error).__name__, str(error)[:24])
    with lib.inference_mode():
        with lib.inference_mode(False):
            outcomes["inference_mode(False) records"] = (x * 2).requires_grad
        outcomes["inference_mode records"] = (x * 2).requires_grad
    return outcomes


def test_autograd_misuse_and_inference_mode_match_torch():
    assert _misuse_outcomes(tritongrad) == _misuse_outcomes(torch)
