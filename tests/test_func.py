"""tritongrad.func against torch.func: grad (nested, argnums, has_aux, trees), vjp, jvp, jacrev/jacfwd,
hessian, vmap (in_dims/out_dims trees, randomness, errors), functional_call and stack_module_state,
including the per-sample-gradient and model-ensembling recipes of torch.func's tutorials."""

from __future__ import annotations

import pytest
import torch
import torch.func

import tritongrad
import tritongrad.func
from tests.utils import assert_close, from_torch


def _both(function):
    """function(lib, F) evaluated with torch and with tritongrad."""
    return function(torch, torch.nn.functional), function(tritongrad, tritongrad.nn.functional)


def _check(expected, actual, rtol=1e-5, atol=1e-6):
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)) and len(actual) == len(expected)
        for e, a in zip(expected, actual, strict=True):
            _check(e, a, rtol, atol)
    elif isinstance(expected, dict):
        assert set(actual) == set(expected)
        for key in expected:
            _check(expected[key], actual[key], rtol, atol)
    else:
        assert_close(actual, expected, rtol=rtol, atol=atol)


X = torch.randn(3, 4, dtype=torch.float64)
Y = torch.randn(4, dtype=torch.float64)


def _inputs(lib):
    return (X, Y) if lib is torch else (from_torch(X), from_torch(Y))


TRANSFORMS = {
    "grad": lambda L, F: L.func.grad(lambda a: (a.sin() * a).sum())(_inputs(L)[0]),
    "grad_of_grad": lambda L, F: L.func.grad(L.func.grad(lambda a: a.pow(3).sum()))(_inputs(L)[1][0]),
    "grad_argnums": lambda L, F: L.func.grad(lambda a, b: (a @ b).exp().sum(), argnums=(0, 1))(*_inputs(L)),
    "grad_unused": lambda L, F: L.func.grad(lambda a, b: b.sum(), argnums=0)(*_inputs(L)),
    "grad_has_aux": lambda L, F: L.func.grad(lambda a: (a.sum() ** 2, a.mean()), has_aux=True)(_inputs(L)[0]),
    "grad_dict": lambda L, F: L.func.grad(lambda p: (p["w"] * p["b"]).sum())({"w": _inputs(L)[1], "b": _inputs(L)[1]}),
    "grad_and_value": lambda L, F: L.func.grad_and_value(lambda a: a.tanh().sum())(_inputs(L)[0]),
    "vjp": lambda L, F: L.func.vjp(lambda a: a.exp() * 2, _inputs(L)[0])[1](_inputs(L)[0]),
    "jvp": lambda L, F: L.func.jvp(lambda a: a.sin() * a, (_inputs(L)[1],), (_inputs(L)[1] * 0.5,)),
    "jacrev": lambda L, F: L.func.jacrev(lambda a: a.sin() @ a.cos().T)(_inputs(L)[0][:2, :3]),
    "jacrev_argnums": lambda L, F: L.func.jacrev(lambda a, b: a @ b, argnums=(0, 1))(*_inputs(L)),
    "jacfwd": lambda L, F: L.func.jacfwd(lambda a: a.exp().cumsum(0))(_inputs(L)[1]),
    "hessian": lambda L, F: L.func.hessian(lambda a: (a.pow(3) * a.sin()).sum())(_inputs(L)[1]),
    "vmap": lambda L, F: L.func.vmap(lambda a: a.softmax(0) * a.sum())(_inputs(L)[0]),
    "vmap_in_dims": lambda L, F: L.func.vmap(lambda a, b: a * b, in_dims=(1, None))(_inputs(L)[0], _inputs(L)[1][:3]),
    "vmap_out_dims": lambda L, F: L.func.vmap(lambda a: (a * 2, a.sum()), out_dims=(1, 0))(_inputs(L)[0]),
    "vmap_nested": lambda L, F: L.vmap(L.vmap(lambda a, b: a * b, in_dims=(0, None)), in_dims=(None, 0))(
        _inputs(L)[1], _inputs(L)[0]
    ),
    "vmap_dict_in_dims": lambda L, F: L.func.vmap(lambda d: d["a"] * 2, in_dims=({"a": 0},))({"a": _inputs(L)[0]}),
    "vmap_of_grad": lambda L, F: L.func.vmap(L.func.grad(lambda a, b: (a * b).sin().sum()), in_dims=(0, None))(
        _inputs(L)[0], _inputs(L)[1]
    ),
    "jacrev_of_vmap": lambda L, F: L.func.jacrev(L.func.vmap(lambda a: a.sin().sum()))(_inputs(L)[0]),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_matches_torch_func(name):
    expected, actual = _both(TRANSFORMS[name])
    _check(expected, actual)


def test_grad_result_is_differentiable_by_the_tape():
    x = from_torch(Y).requires_grad_(True)
    first = tritongrad.func.grad(lambda a: a.pow(3).sum())(x)
    (second,) = tritongrad.autograd.grad(first.sum(), x)
    assert_close(second, 6 * Y)


ERRORS = {
    "grad_non_scalar": lambda L: L.func.grad(lambda a: a)(_inputs(L)[0]),
    "grad_tuple_output": lambda L: L.func.grad(lambda a: (a.sum(), 1))(_inputs(L)[0]),
    "grad_aux_not_pair": lambda L: L.func.grad(lambda a: a.sum(), has_aux=True)(_inputs(L)[0]),
    "grad_argnum_range": lambda L: L.func.grad(lambda a: a.sum(), argnums=2)(_inputs(L)[0]),
    "vmap_no_batched": lambda L: L.func.vmap(lambda a, b: a + b, in_dims=(None, None))(*_inputs(L)),
    "vmap_sizes": lambda L: L.func.vmap(lambda a, b: a)(_inputs(L)[0], _inputs(L)[1]),
    "vmap_non_tensor_out": lambda L: L.func.vmap(lambda a: 3)(_inputs(L)[0]),
    "vmap_bad_in_dim": lambda L: L.func.vmap(lambda a: a, in_dims=2)(_inputs(L)[0]),
    "vmap_in_dims_structure": lambda L: L.func.vmap(lambda a, b: a, in_dims=(0,))(*_inputs(L)),
    "vmap_in_dims_none": lambda L: L.func.vmap(lambda a: a, in_dims=None)(_inputs(L)[0]),
    "vmap_random": lambda L: L.func.vmap(lambda a: L.rand(2))(_inputs(L)[0]),
    "jvp_primals_not_tuple": lambda L: L.func.jvp(lambda a: a, _inputs(L)[1], _inputs(L)[1]),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_misuse_raises_torchs_error(name):
    outcomes = []
    for lib in (torch, tritongrad):
        with pytest.raises(Exception) as caught:
            ERRORS[name](lib)
        outcomes.append((type(caught.value), str(caught.value).split(".")[0][:40]))
    assert outcomes[0][0] is outcomes[1][0], outcomes
    assert outcomes[0][1][:25] == outcomes[1][1][:25], outcomes


def test_vmap_randomness_same_and_different():
    x = tritongrad.zeros(4, 3)
    same = tritongrad.func.vmap(lambda a: a + tritongrad.rand(3), randomness="same")(x)
    different = tritongrad.func.vmap(lambda a: a + tritongrad.rand(3), randomness="different")(x)
    assert all(bool((same[i] == same[0]).all()) for i in range(4))
    assert not bool((different[1] == different[0]).all())


def _models(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2))


def test_per_sample_gradients_recipe_matches_torch():
    """vmap(grad(loss of functional_call)) over a batch: torch.func's per-sample-gradient tutorial."""
    reference = _models(torch)
    ours = _models(tritongrad)
    ours.load_state_dict({key: from_torch(value) for key, value in reference.state_dict().items()})
    data, targets = torch.randn(6, 4), torch.randint(0, 2, (6,))

    def run(lib, model, x, y):
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}

        def loss(p, b, sample, target):
            out = lib.func.functional_call(model, (p, b), (sample.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, target.unsqueeze(0))

        return lib.func.vmap(lib.func.grad(loss), in_dims=(None, None, 0, 0))(params, buffers, x, y)

    expected = run(torch, reference, data, targets)
    actual = run(tritongrad, ours, from_torch(data), from_torch(targets))
    _check(expected, actual, rtol=1e-4, atol=1e-5)
    # the module keeps its own parameters after the calls
    for (name, p), (_, q) in zip(ours.named_parameters(), reference.named_parameters(), strict=True):
        assert isinstance(p, tritongrad.nn.Parameter), name
        assert_close(p, q)


def test_model_ensembling_recipe_matches_torch():
    references = [_models(torch) for _ in range(3)]
    ours = [_models(tritongrad) for _ in range(3)]
    for mine, theirs in zip(ours, references, strict=True):
        mine.load_state_dict({key: from_torch(value) for key, value in theirs.state_dict().items()})
    data = torch.randn(5, 4)

    def run(lib, models, x):
        params, buffers = lib.func.stack_module_state(models)
        base = models[0]
        return lib.func.vmap(lambda p, b, v: lib.func.functional_call(base, (p, b), (v,)), in_dims=(0, 0, None))(
            params, buffers, x
        )

    _check(run(torch, references, data), run(tritongrad, ours, from_torch(data)), rtol=1e-5, atol=1e-6)
    params, _ = tritongrad.func.stack_module_state(ours)
    assert params["0.weight"].shape == (3, 5, 4) and params["0.weight"].requires_grad


def test_functional_call_restores_the_module_when_the_call_raises():
    model = tritongrad.nn.Linear(3, 2)
    weight = model.weight
    with pytest.raises(RuntimeError):
        tritongrad.func.functional_call(model, {"weight": tritongrad.randn(5, 5)}, (tritongrad.randn(4, 3),))
    assert model.weight is weight


def test_functional_call_ties_shared_weights_and_checks_strict_keys():
    for lib in (torch, tritongrad):
        model = lib.nn.Sequential(lib.nn.Linear(3, 3, bias=False), lib.nn.Linear(3, 3, bias=False))
        model[1].weight = model[0].weight
        replacement = lib.eye(3)
        out = lib.func.functional_call(model, {"0.weight": replacement}, (lib.ones(1, 3),))
        assert out.tolist() == [[1.0, 1.0, 1.0]]
        with pytest.raises(RuntimeError, match="Missing key"):
            lib.func.functional_call(lib.nn.Linear(2, 2), {"weight": lib.eye(2)}, (lib.ones(1, 2),), strict=True)
