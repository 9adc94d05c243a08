"""The seventh red-team round's autograd findings, each compared with torch by ``agree``: the value, or
the exception type and the head of its message."""

from __future__ import annotations

import warnings

import pytest

from tests.test_hardening import agree


def _x(lib):
    return lib.tensor([1.0, 2.0, 3.0], requires_grad=True)


def _function(lib, forward, backward=None, **extra):
    """A Function subclass named Fn with these staticmethods (backward None: none defined)."""
    members = {"forward": staticmethod(forward), **{k: staticmethod(v) for k, v in extra.items()}}
    if backward is not None:
        members["backward"] = staticmethod(backward)
    return type("Fn", (lib.autograd.Function,), members)


def _identity_backward(ctx, grad):
    return grad


# ---------------------------------------------------------------------------------------------
# A custom Function's forward runs under no_grad, whatever its inputs
# ---------------------------------------------------------------------------------------------


def _closure_output(lib, inputs):
    w = lib.ones(3, requires_grad=True)
    fn = _function(lib, lambda ctx, a: (a[0] if isinstance(a, list) else a) * w, _identity_backward)
    y = fn.apply(inputs(lib))
    return y.requires_grad, y.grad_fn is None


def _grad_mode_inside(lib, requires_grad):
    seen = []
    fn = _function(lib, lambda ctx, a: seen.append(lib.is_grad_enabled()) or a * 2, _identity_backward)
    fn.apply(lib.ones(3, requires_grad=requires_grad))
    return seen


NO_GRAD_FORWARD = {
    "a closure parameter, no input needing grad": lambda lib: _closure_output(lib, lambda lib: lib.ones(3)),
    "a tensor inside a list": lambda lib: _closure_output(lib, lambda lib: [lib.ones(3, requires_grad=True)]),
    "grad mode inside forward, no input needing grad": lambda lib: _grad_mode_inside(lib, False),
    "grad mode inside forward, an input needing grad": lambda lib: _grad_mode_inside(lib, True),
}


@pytest.mark.parametrize("case", list(NO_GRAD_FORWARD))
def test_custom_function_forward_runs_without_grad(case):
    agree(case, NO_GRAD_FORWARD[case], [])


# ---------------------------------------------------------------------------------------------
# utils.checkpoint: double backward (non-reentrant), .grad() refused (reentrant)
# ---------------------------------------------------------------------------------------------


def _checkpoint_double(lib):
    x = _x(lib)
    y = lib.utils.checkpoint.checkpoint(lambda a: a**3, x, use_reentrant=False)
    (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    return g, g.requires_grad, lib.autograd.grad(g.sum(), x)[0]


def _checkpoint_double_with_parameter(lib):
    x, w = _x(lib), lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = lib.utils.checkpoint.checkpoint(lambda a: a * w * a, x, use_reentrant=False)
    gx, gw = lib.autograd.grad(y.sum(), (x, w), create_graph=True)
    return gx, gw, lib.autograd.grad((gx * gw).sum(), (x, w)), w.grad is None


def _checkpoint_grad_of_parameter(lib):
    x, w = _x(lib), lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = lib.utils.checkpoint.checkpoint(lambda a: a * w, x, use_reentrant=False)
    return lib.autograd.grad(y.sum(), w), w.grad is None, x.grad is None


def _checkpoint_backward_inputs(lib):
    x, w = _x(lib), lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = lib.utils.checkpoint.checkpoint(lambda a: a * w, x, use_reentrant=False)
    y.sum().backward(inputs=[x])
    return x.grad, w.grad is None


def _checkpoint_backward_create_graph(lib):
    x, w = _x(lib), lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = lib.utils.checkpoint.checkpoint(lambda a: (a * w).exp(), x * 2, use_reentrant=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y.sum().backward(create_graph=True)
    return x.grad, x.grad.requires_grad, w.grad.requires_grad


def _reentrant(lib, how):
    x = _x(lib)
    y = lib.utils.checkpoint.checkpoint(lambda a: a**3, x, use_reentrant=True)
    if how == "grad":
        return lib.autograd.grad(y.sum(), x)
    y.sum().backward(inputs=[x] if how == "inputs" else None)
    return x.grad


CHECKPOINT = {
    "double backward": _checkpoint_double,
    "double backward with a parameter": _checkpoint_double_with_parameter,
    "grad of a parameter only": _checkpoint_grad_of_parameter,
    "backward(inputs=) leaves the parameter alone": _checkpoint_backward_inputs,
    "backward(create_graph=True)": _checkpoint_backward_create_graph,
    "reentrant: autograd.grad": lambda lib: _reentrant(lib, "grad"),
    "reentrant: backward(inputs=)": lambda lib: _reentrant(lib, "inputs"),
    "reentrant: backward()": lambda lib: _reentrant(lib, "plain"),
}


@pytest.mark.parametrize("case", list(CHECKPOINT))
def test_checkpoint_as_torch(case):
    agree(case, CHECKPOINT[case], [])


# ---------------------------------------------------------------------------------------------
# What node hooks and post-accumulate hooks return
# ---------------------------------------------------------------------------------------------


def _node_hook(lib, op, returned):
    x = _x(lib)
    y = op(x)
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: returned(lib, grad_inputs))
    y.sum().backward()
    return x.grad, len(y.grad_fn.next_functions)


def _post_accumulate(lib, returned):
    x = _x(lib)
    x.register_post_accumulate_grad_hook(lambda p: returned(p))
    (x * 2).sum().backward()
    return x.grad


HOOK_RESULTS = {
    "x * 2, one value for two inputs": lambda lib: _node_hook(lib, lambda x: x * 2, lambda lib, gi: (gi[0] * 5,)),
    "x * 2, two values": lambda lib: _node_hook(lib, lambda x: x * 2, lambda lib, gi: (gi[0] * 5, None)),
    "x + 1, two values": lambda lib: _node_hook(lib, lambda x: x + 1, lambda lib, gi: (gi[0] * 5, None)),
    "exp, two values for one input": lambda lib: _node_hook(lib, lambda x: x.exp(), lambda lib, gi: (gi[0], gi[0])),
    "exp, a list": lambda lib: _node_hook(lib, lambda x: x.exp(), lambda lib, gi: [gi[0]]),
    "exp, a tensor": lambda lib: _node_hook(lib, lambda x: x.exp(), lambda lib, gi: gi[0]),
    "exp, a number inside": lambda lib: _node_hook(lib, lambda x: x.exp(), lambda lib, gi: (3,)),
    "exp, another size": lambda lib: _node_hook(lib, lambda x: x.exp(), lambda lib, gi: (gi[0][:2],)),
    "exp, another dtype": lambda lib: _node_hook(lib, lambda x: x.exp(), lambda lib, gi: (gi[0].double(),)),
    "x * t, a tensor for the None": lambda lib: _node_hook(
        lib, lambda x: x * lib.ones(3), lambda lib, gi: (gi[0], lib.ones(3))
    ),
    "sum(dim), doubled": lambda lib: _node_hook(lib, lambda x: x.sum(0, keepdim=True), lambda lib, gi: (gi[0] * 2,)),
    "post accumulate: None": lambda lib: _post_accumulate(lib, lambda p: None),
    "post accumulate: a tensor": lambda lib: _post_accumulate(lib, lambda p: p.grad * 100),
    "post accumulate: zero_()": lambda lib: _post_accumulate(lib, lambda p: p.grad.zero_()),
    "post accumulate: a number": lambda lib: _post_accumulate(lib, lambda p: 0),
}


@pytest.mark.parametrize("case", list(HOOK_RESULTS))
def test_hook_results_checked_as_torch(case):
    agree(case, HOOK_RESULTS[case], [])


# ---------------------------------------------------------------------------------------------
# autograd.grad / backward arguments
# ---------------------------------------------------------------------------------------------


def _backward_inputs_not_requiring_grad(lib):
    x = _x(lib)
    (x * 2).sum().backward(inputs=[x, lib.ones(1)])


def _grad_variables(lib, both):
    x = _x(lib)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lib.autograd.backward([x * 2], [lib.ones(3)] if both else None, grad_variables=[lib.ones(3)])
    return x.grad


def _backward_inputs_retains(lib):
    x = _x(lib)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward(inputs=[h])
    return h.retains_grad, h.grad, x.grad is None


def _grad_dict(lib):
    x, z = _x(lib), _x(lib)
    result = lib.autograd.grad((x * 2).sum(), {"a": x, "b": z}, allow_unused=True)
    return sorted(result), result["a"], result["b"] is None


ARGUMENTS = {
    "more grad_outputs than outputs": lambda lib: lib.autograd.grad(
        [(_x(lib) * 2).sum()], [lib.ones(1)], grad_outputs=[lib.tensor(1.0), lib.tensor(1.0)]
    ),
    "more grad_outputs than outputs (used)": lambda lib: (
        lambda x: lib.autograd.grad([(x * 2).sum()], [x], grad_outputs=[lib.tensor(1.0), lib.tensor(1.0)])
    )(_x(lib)),
    "fewer grad_outputs than outputs": lambda lib: (
        lambda x: lib.autograd.grad([(x * 2).sum(), (x * 3).sum()], [x], grad_outputs=[lib.tensor(1.0)])
    )(_x(lib)),
    "backward with more gradients": lambda lib: lib.autograd.backward([_x(lib) * 2], [lib.ones(3), lib.ones(3)]),
    "materialize_grads without allow_unused": lambda lib: lib.autograd.grad(
        (_x(lib) * 2).sum(), [_x(lib)], allow_unused=False, materialize_grads=True
    ),
    "materialize_grads under create_graph": lambda lib: (
        lambda x, z: [
            g.requires_grad for g in lib.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True, create_graph=True)
        ]  # fmt: skip
    )(_x(lib), _x(lib)),
    "backward(inputs=) a tensor not requiring grad": _backward_inputs_not_requiring_grad,
    "backward(inputs=[]) ": lambda lib: (_x(lib) * 2).sum().backward(inputs=[]),
    "backward(inputs=) makes a non-leaf retain": _backward_inputs_retains,
    "grad_variables=": lambda lib: _grad_variables(lib, False),
    "grad_variables= and grad_tensors": lambda lib: _grad_variables(lib, True),
    "grad(None, x)": lambda lib: lib.autograd.grad(None, _x(lib)),
    "grad(y, None)": lambda lib: lib.autograd.grad((_x(lib) * 2).sum(), None),
    "grad([y, None], [x])": lambda lib: (lambda x: lib.autograd.grad([(x * 2).sum(), None], [x]))(_x(lib)),
    "backward(None)": lambda lib: lib.autograd.backward(None),
    "grad of inputs given as a dict": _grad_dict,
    "an output and an input not requiring grad": lambda lib: lib.autograd.grad(lib.ones(3).sum(), [lib.ones(3)]),
    "an input not requiring grad": lambda lib: lib.autograd.grad((_x(lib) * 2).sum(), [lib.ones(3)]),
}


@pytest.mark.parametrize("case", list(ARGUMENTS))
def test_grad_and_backward_arguments_as_torch(case):
    agree(case, ARGUMENTS[case], [])


# ---------------------------------------------------------------------------------------------
# func transforms' aux, and .grad after create_graph
# ---------------------------------------------------------------------------------------------


def _aux(lib, transform):
    x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
    aux = transform(lib, x)
    return aux, aux.requires_grad


def _accumulated_after_create_graph(lib, second_create_graph):
    x = _x(lib)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (x**3).sum().backward(create_graph=True)
        first = x.grad
        (x**2).sum().backward(create_graph=second_create_graph)
    return x.grad, x.grad.requires_grad, x.grad is first, x.grad.grad_fn is not None


FUNC_AND_GRAPH = {
    "grad(has_aux) aux": lambda lib: _aux(
        lib, lambda lib, x: lib.func.grad(lambda a: ((a**2).sum(), a * 3), has_aux=True)(x)[1]
    ),
    "vjp(has_aux) aux": lambda lib: _aux(lib, lambda lib, x: lib.func.vjp(lambda a: (a**2, a * 3), x, has_aux=True)[2]),
    "jacrev(has_aux) aux": lambda lib: _aux(
        lib, lambda lib, x: lib.func.jacrev(lambda a: (a**2, a * 3), has_aux=True)(x)[1]
    ),
    ".grad after create_graph then a plain backward": lambda lib: _accumulated_after_create_graph(lib, False),
    ".grad after two create_graph backwards": lambda lib: _accumulated_after_create_graph(lib, True),
}


@pytest.mark.parametrize("case", list(FUNC_AND_GRAPH))
def test_func_aux_and_create_graph_accumulation_as_torch(case):
    agree(case, FUNC_AND_GRAPH[case], [])


# ---------------------------------------------------------------------------------------------
# The ctx API of custom Functions
# ---------------------------------------------------------------------------------------------


def _run_function(lib, function, x=None):
    x = _x(lib) if x is None else x
    y = function.apply(x)
    y.sum().backward()
    return x.grad


def _inplace_subclass(lib):
    class Doubler(lib.autograd.function.InplaceFunction):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    return issubclass(Doubler, lib.autograd.Function), _run_function(lib, Doubler)


def _saved_inside_forward(ctx, a):
    ctx.save_for_backward(a)
    return a * len(ctx.saved_tensors)


def _mark_dirty_returned_copy(ctx, a):
    ctx.mark_dirty(a)
    return a * 1


CTX = {
    "save_for_forward": lambda lib: _run_function(
        lib, _function(lib, lambda ctx, a: ctx.save_for_forward(a) or a * 2, _identity_backward)
    ),
    "save_for_forward of a number": lambda lib: _run_function(
        lib, _function(lib, lambda ctx, a: ctx.save_for_forward(3) or a * 2, _identity_backward)
    ),
    "saved_tensors inside forward": lambda lib: (
        _function(lib, _saved_inside_forward, _identity_backward).apply(_x(lib)).tolist()
    ),
    "saved_tensors when nothing was saved": lambda lib: _run_function(
        lib, _function(lib, lambda ctx, a: a * 2, lambda ctx, g: g * len(ctx.saved_tensors))
    ),
    "mark_non_differentiable of a number": lambda lib: _function(
        lib, lambda ctx, a: ctx.mark_non_differentiable(3) or a * 2, _identity_backward
    ).apply(_x(lib)),
    "mark_dirty of a number": lambda lib: _function(
        lib, lambda ctx, a: ctx.mark_dirty(3) or a * 2, _identity_backward
    ).apply(_x(lib) * 1),
    "mark_dirty of a tensor not returned": lambda lib: _function(
        lib, _mark_dirty_returned_copy, _identity_backward
    ).apply(_x(lib) * 1),
    "mark_dirty of a tensor not returned, no grad": lambda lib: _function(
        lib, _mark_dirty_returned_copy, _identity_backward
    ).apply(lib.ones(3)),
    "mark_dirty of a leaf": lambda lib: _function(
        lib, lambda ctx, a: ctx.mark_dirty(a) or a.mul_(2), _identity_backward
    ).apply(_x(lib)),
    "vjp instead of backward": lambda lib: _run_function(
        lib, _function(lib, lambda ctx, a: a * 5, vjp=lambda ctx, g: g * 5)
    ),
    "vjp and backward": lambda lib: _run_function(
        lib, _function(lib, lambda ctx, a: a * 5, _identity_backward, vjp=lambda ctx, g: g * 5)
    ),
    "no backward": lambda lib: _run_function(lib, _function(lib, lambda ctx, a: a * 5)),
    "no forward": lambda lib: type("Fn", (lib.autograd.Function,), {}).apply(_x(lib)),
    "legacy call of an instance": lambda lib: _function(lib, lambda ctx, a: a * 5, _identity_backward)()(_x(lib)),
    "InplaceFunction": _inplace_subclass,
    "a gradient for a non-tensor argument": lambda lib: (
        _function(lib, lambda ctx, a, k: a * k, lambda ctx, g: (g, 3.0)).apply(_x(lib), 2).sum().backward()
    ),
}


@pytest.mark.parametrize("case", list(CTX))
def test_function_ctx_api_as_torch(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # (instantiating a Function warns, as torch's)
        agree(case, CTX[case], [])


# ---------------------------------------------------------------------------------------------
# autograd.functional's argument checks
# ---------------------------------------------------------------------------------------------


def _xy(lib):
    return lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])


FUNCTIONAL = {
    "jacobian of a number input": lambda lib: lib.autograd.functional.jacobian(lambda a: a, 3.0),
    "jacobian of a number output": lambda lib: lib.autograd.functional.jacobian(lambda a: 3.0, _xy(lib)[0]),
    "jacobian of a list of inputs": lambda lib: lib.autograd.functional.jacobian(lambda a, b: a * b, list(_xy(lib))),
    "jacobian of a list output": lambda lib: lib.autograd.functional.jacobian(lambda a: [a, a], _xy(lib)[0]),
    "jacobian of a number in the tuple": lambda lib: lib.autograd.functional.jacobian(lambda a, b: a, (_xy(lib)[0], 3)),
    "jacobian strategy foo": lambda lib: lib.autograd.functional.jacobian(lambda a: a, _xy(lib)[0], strategy="foo"),
    "jacobian forward-mode": lambda lib: lib.autograd.functional.jacobian(
        lambda a: a * 2, _xy(lib)[0], strategy="forward-mode"
    ),
    "jacobian forward-mode vectorized": lambda lib: lib.autograd.functional.jacobian(
        lambda a: a * 2, _xy(lib)[0], strategy="forward-mode", vectorize=True
    ),
    "jacobian strict, an unused input": lambda lib: lib.autograd.functional.jacobian(
        lambda a, b: a * 2, _xy(lib), strict=True
    ),
    "jacobian strict, an output without grad": lambda lib: lib.autograd.functional.jacobian(
        lambda a: lib.ones(2), _xy(lib)[0], strict=True
    ),
    "hessian strategy foo": lambda lib: lib.autograd.functional.hessian(
        lambda a: a.sum(), _xy(lib)[0], outer_jacobian_strategy="foo"
    ),
    "hessian of a vector function": lambda lib: lib.autograd.functional.hessian(lambda a: a * 2, _xy(lib)[0]),
    "hessian of a tuple output": lambda lib: lib.autograd.functional.hessian(lambda a: (a.sum(),), _xy(lib)[0]),
    "hessian strict of a linear function": lambda lib: lib.autograd.functional.hessian(
        lambda a: a.sum(), _xy(lib)[0], strict=True
    ),
    "hessian of two inputs": lambda lib: lib.autograd.functional.hessian(lambda a, b: (a * b * a).sum(), _xy(lib)),
    "vjp with v of another size": lambda lib: lib.autograd.functional.vjp(lambda a: a * 2, _xy(lib)[0], lib.ones(3)),
    "vjp with a short v tuple": lambda lib: lib.autograd.functional.vjp(lambda a: (a, a), _xy(lib)[0], (lib.ones(2),)),
    "vjp with two v for one output": lambda lib: lib.autograd.functional.vjp(
        lambda a: a, _xy(lib)[0], (lib.ones(2), lib.ones(2))
    ),
    "vjp with v a list": lambda lib: lib.autograd.functional.vjp(lambda a: a, _xy(lib)[0], [lib.ones(2)]),
    "vjp strict": lambda lib: lib.autograd.functional.vjp(lambda a, b: a * 2, _xy(lib), lib.ones(2), strict=True),
    "jvp strict": lambda lib: lib.autograd.functional.jvp(
        lambda a, b: a * 2, _xy(lib), (lib.ones(2), lib.ones(2)), strict=True
    ),
    "hvp of a vector function": lambda lib: lib.autograd.functional.hvp(lambda a: a * 2, _xy(lib)[0], lib.ones(2)),
    "vhp of a tuple output": lambda lib: lib.autograd.functional.vhp(lambda a: (a.sum(),), _xy(lib)[0], lib.ones(2)),
    "hvp strict of a linear function": lambda lib: lib.autograd.functional.hvp(
        lambda a: a.sum(), _xy(lib)[0], lib.ones(2), strict=True
    ),
}


@pytest.mark.parametrize("case", list(FUNCTIONAL))
def test_functional_arguments_as_torch(case):
    agree(case, FUNCTIONAL[case], [])


# ---------------------------------------------------------------------------------------------
# Anomaly mode, saved-tensor hooks, grad-mode objects
# ---------------------------------------------------------------------------------------------


def _anomaly_decorator(lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        @lib.autograd.detect_anomaly()
        def nothing():
            return None

    return nothing()


def _unpack_to_number(lib):
    x = _x(lib)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda s: 3):
        y = x.exp()
    y.sum().backward()


def _set_grad_enabled_repr(lib):
    switch = lib.set_grad_enabled(False)
    text = repr(switch)
    lib.set_grad_enabled(True)
    return text


MODES = {
    "detect_anomaly as a decorator": _anomaly_decorator,
    "unpack hook returning a number": _unpack_to_number,
    "set_grad_enabled repr": _set_grad_enabled_repr,
}


@pytest.mark.parametrize("case", list(MODES))
def test_modes_and_hooks_as_torch(case):
    agree(case, MODES[case], [])
