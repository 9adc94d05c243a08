"""The fourth red-team round's findings (session 13), each compared with torch by ``agree``: the value,
the dtype, or the exception type and the head of its message."""

from __future__ import annotations

import pytest
import torch

from tests.test_hardening import agree

F64 = torch.float64


def _spd(lib):
    generator = torch.Generator().manual_seed(3)
    a = torch.randn(3, 3, dtype=F64, generator=generator)
    a = a @ a.T + torch.eye(3, dtype=F64)
    return a if lib is torch else lib.tensor(a.tolist(), dtype=F64)


def _filled(lib, *shape, dtype=F64):
    return lib.full(shape, -7.0, dtype=dtype)


def _into(call, out):
    """call(out) then the out tensor(s) themselves: what the caller sees through ``out=``."""
    call(out)
    return out


LINALG_OUT = {
    "eigvalsh": lambda lib: _into(lambda o: lib.linalg.eigvalsh(_spd(lib), out=o), _filled(lib, 3)),
    "eigh": lambda lib: _into(lambda o: lib.linalg.eigh(_spd(lib), out=o), (_filled(lib, 3), _filled(lib, 3, 3)))[0],
    "qr R": lambda lib: _into(lambda o: lib.linalg.qr(_spd(lib), out=o), (_filled(lib, 3, 3), _filled(lib, 3, 3)))[1],
    "svd S": lambda lib: _into(
        lambda o: lib.linalg.svd(_spd(lib), out=o), (_filled(lib, 3, 3), _filled(lib, 3), _filled(lib, 3, 3))
    )[1],
    "svdvals": lambda lib: _into(lambda o: lib.linalg.svdvals(_spd(lib), out=o), _filled(lib, 3)),
    "matrix_norm": lambda lib: _into(lambda o: lib.linalg.matrix_norm(_spd(lib), out=o), _filled(lib)),
    "norm": lambda lib: _into(lambda o: lib.linalg.norm(_spd(lib), out=o), _filled(lib)),
    "cond": lambda lib: _into(lambda o: lib.linalg.cond(_spd(lib), out=o), _filled(lib)),
    "slogdet": lambda lib: _into(lambda o: lib.linalg.slogdet(_spd(lib), out=o), (_filled(lib), _filled(lib)))[1],
    "pinv": lambda lib: _into(lambda o: lib.linalg.pinv(_spd(lib), out=o), _filled(lib, 3, 3)),
    "matrix_power": lambda lib: _into(lambda o: lib.linalg.matrix_power(_spd(lib), 2, out=o), _filled(lib, 3, 3)),
    "multi_dot": lambda lib: _into(lambda o: lib.linalg.multi_dot([_spd(lib), _spd(lib)], out=o), _filled(lib, 3, 3)),
    "vector_norm": lambda lib: _into(lambda o: lib.linalg.vector_norm(_spd(lib), out=o), _filled(lib)),
    "matrix_rank": lambda lib: _into(
        lambda o: lib.linalg.matrix_rank(_spd(lib), out=o), lib.full((), -7, dtype=torch.int64)
    ),
    "resized": lambda lib: _into(lambda o: lib.linalg.eigvalsh(_spd(lib), out=o), _filled(lib, 2)),
    "of another dtype": lambda lib: lib.linalg.eigvalsh(_spd(lib), out=_filled(lib, 3, dtype=torch.float32)),
    "a tuple of the wrong length": lambda lib: lib.linalg.eigh(_spd(lib), out=(_filled(lib, 3),)),
}

LINALG_ARGUMENTS = {
    "multi_dot of a 3-D first tensor": lambda lib: lib.linalg.multi_dot([lib.ones(2, 2, 2), lib.ones(2, 2)]),
    "multi_dot of a 1-D middle tensor": lambda lib: lib.linalg.multi_dot([lib.ones(2, 3), lib.ones(3), lib.ones(2)]),
    "multi_dot of a 3-D last tensor": lambda lib: lib.linalg.multi_dot([lib.ones(3), lib.ones(3, 2, 2)]),
    "vector_norm of ord 'fro'": lambda lib: lib.linalg.vector_norm(lib.ones(3), ord="fro"),
    "vander of bools": lambda lib: lib.linalg.vander(lib.tensor([True, False])),
    "cholesky_solve of a 1-D b": lambda lib: lib.cholesky_solve(lib.tensor([1.0, 2.0, 3.0]), lib.eye(3)),
    "matrix_power of a float n": lambda lib: lib.linalg.matrix_power(lib.eye(2), 2.0),
    "matrix_norm 2 of an empty matrix": lambda lib: lib.linalg.matrix_norm(lib.zeros(0, 3), ord=2),
    "matrix_norm inf of an empty matrix": lambda lib: lib.linalg.matrix_norm(lib.zeros(0, 3), ord=float("inf")),
    "matrix_norm -2 of an empty matrix": lambda lib: lib.linalg.matrix_norm(lib.zeros(0, 3), ord=-2),
    "matrix_rank with a tensor atol": lambda lib: lib.linalg.matrix_rank(
        lib.stack([lib.diag(lib.tensor([1.0, 1e-3], dtype=F64))] * 2), atol=lib.tensor([1e-2, 1e-4], dtype=F64)
    ),
}


@pytest.mark.parametrize("name", list(LINALG_OUT))
def test_linalg_out_writes_as_torchs(name):
    agree(name, LINALG_OUT[name], [], message=True)


@pytest.mark.parametrize("name", list(LINALG_ARGUMENTS))
def test_linalg_arguments_checked_as_torchs(name):
    agree(name, LINALG_ARGUMENTS[name], [], message=True)


def _checkpoint_module(lib):
    module = __import__(("torch" if lib is torch else "tritongrad") + ".utils.checkpoint", fromlist=["checkpoint"])
    return module


def _linear(lib):
    layer = lib.nn.Linear(2, 2)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
        layer.bias.copy_(lib.tensor([0.5, -0.5]))
    return layer


def _grads_through_checkpoint(lib, extra_path: bool):
    layer = _linear(lib)
    out = _checkpoint_module(lib).checkpoint(layer, lib.ones(1, 2), use_reentrant=False)
    requires = out.requires_grad
    if extra_path:
        out = out + layer.bias.sum()
    out.sum().backward()
    return [requires, layer.weight.grad, layer.bias.grad]


def _sequential_grads(lib):
    model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 1))
    with lib.no_grad():
        for parameter in model.parameters():
            parameter.copy_(lib.arange(parameter.numel()).reshape(parameter.shape).float() * 0.1 - 0.2)
    _checkpoint_module(lib).checkpoint_sequential(model, 2, lib.ones(3, 2), use_reentrant=False).sum().backward()
    return [parameter.grad for parameter in model.parameters()]


CHECKPOINT = {
    "non-reentrant, no input requiring grad": lambda lib: _grads_through_checkpoint(lib, extra_path=False),
    "non-reentrant, with another path to the bias": lambda lib: _grads_through_checkpoint(lib, extra_path=True),
    "checkpoint_sequential non-reentrant": _sequential_grads,
    "non-reentrant of a detached result": lambda lib: (
        _checkpoint_module(lib)
        .checkpoint(lambda t: t.detach() * 2, lib.ones(2, requires_grad=True), use_reentrant=False)
        .requires_grad
    ),
    "determinism_check must be known": lambda lib: _checkpoint_module(lib).checkpoint(
        lambda t: t * 2, lib.ones(2), use_reentrant=False, determinism_check="strict"
    ),
}


@pytest.mark.parametrize("name", list(CHECKPOINT))
def test_checkpoint_as_torchs(name):
    agree(name, CHECKPOINT[name], [], message=True)


def _grid_only(lib, mode):
    grid = lib.tensor([[[[0.2, -0.3], [0.7, 0.1]]]], requires_grad=True)
    image = lib.arange(9.0).view(1, 1, 3, 3)
    lib.nn.functional.grid_sample(image, grid, mode=mode, align_corners=False).sum().backward()
    return grid.grad


GRID_SAMPLE = {
    "grid gradient alone, bilinear": lambda lib: _grid_only(lib, "bilinear"),
    "grid gradient alone, bicubic": lambda lib: _grid_only(lib, "bicubic"),
    "grid gradient alone, nearest": lambda lib: _grid_only(lib, "nearest"),
}


@pytest.mark.parametrize("name", list(GRID_SAMPLE))
def test_grid_sample_as_torchs(name):
    agree(name, GRID_SAMPLE[name], [], message=True)


def _det_grad(lib, rows):
    a = lib.tensor(rows, dtype=F64, requires_grad=True)
    lib.linalg.det(a).sum().backward()
    return a.grad


DETERMINANTS = {
    "det gradient at a singular matrix": lambda lib: _det_grad(lib, [[1.0, 2.0], [2.0, 4.0]]),
    "det gradient, a batch with one singular member": lambda lib: _det_grad(
        lib, [[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [1.0, 3.0]]]
    ),
    "slogdet gradient at a singular matrix raises nothing": lambda lib: (
        lambda a: (lib.linalg.slogdet(a)[1].backward(), bool(lib.isinf(a.grad).any()))[1]
    )(lib.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=F64, requires_grad=True)),
}


@pytest.mark.parametrize("name", list(DETERMINANTS))
def test_determinant_gradients_as_torchs(name):
    agree(name, DETERMINANTS[name], [], message=True)


def _blitz_chain(lib):
    """The 60-minute blitz prints loss.grad_fn, then two steps along next_functions[0][0]."""
    lib.manual_seed(0)
    layer = lib.nn.Linear(3, 2)
    loss = lib.nn.MSELoss()(layer(lib.ones(4, 3)), lib.zeros(4, 2))
    first = loss.grad_fn.next_functions[0][0]
    second = first.next_functions[0][0]
    return [type(node).__name__ for node in (loss.grad_fn, first, second)] + [
        (type(node).__name__ if node is not None else None) for node, _ in first.next_functions[:2]
    ]


def test_linear_next_functions_start_with_the_bias_as_torchs():
    agree("blitz next_functions chain", _blitz_chain, [], message=True)


def _set_views(lib):
    target, source = lib.zeros(3), lib.arange(6.0)
    target.set_(source, 1, (2, 2), (2, 1))
    source[1] = 100.0
    return [target, lib.empty(0).set_(lib.arange(3.0)), lib.ones(2).set_().shape]


def _batched_vjp(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    return lib.autograd.grad(x**2, x, lib.eye(3), is_grads_batched=True)[0]


SCRIPT_SURFACE = {
    "set_ onto another tensor's memory": _set_views,
    "autograd.grad is_grads_batched": _batched_vjp,
    "LongTensor of a range": lambda lib: lib.LongTensor(range(4)),
    "Tensor of a range": lambda lib: lib.Tensor(range(3)),
    "to(memory_format=channels_last) strides": lambda lib: list(
        lib.ones(2, 3, 4, 5).to(memory_format=lib.channels_last).stride()
    ),
    "layout and real": lambda lib: [str(lib.ones(2).layout), lib.ones(2).real],
    "imag of a real tensor": lambda lib: lib.ones(2).imag,
    "saved self of pow": lambda lib: (lambda x: x.pow(2).grad_fn._saved_self)(lib.ones(3, requires_grad=True)),
    "saved result of exp": lambda lib: (lambda y: y.grad_fn._saved_result)(lib.ones(3, requires_grad=True).exp()),
}


@pytest.mark.parametrize("name", list(SCRIPT_SURFACE))
def test_script_surface_as_torchs(name):
    agree(name, SCRIPT_SURFACE[name], [], message=True)
