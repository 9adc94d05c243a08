"""nn.utils.parametrize and nn.utils.parametrizations (orthogonal, weight_norm, spectral_norm) against
torch: state-dict keys and layout, the parametrized values and their gradients (torch's modules and
ours loaded with the same state dict, then given the same random originals), right_inverse on
assignment, cached(), removal, unsafe=, the composed matrix functions (matrix_exp,
householder_product, geqrf) and torch's errors."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
import torch.nn.utils.parametrizations as torch_parametrizations
import torch.nn.utils.parametrize as torch_parametrize

import tritongrad
from tests.utils import assert_close, from_torch, random_values, to_torch
from tritongrad import nn
from tritongrad.nn.utils import parametrizations, parametrize
from tritongrad.nn.utils.parametrizations import _geqrf, _householder_product


def _load_torch_state(ours, theirs) -> None:
    """ours takes theirs' state dict (same keys required, so the layouts agree)."""
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state), (list(ours.state_dict()), list(state))
    ours.load_state_dict({key: from_torch(value) for key, value in state.items()})


def _compare_gradients(ours, theirs, what: str, kind: str = "default") -> None:
    """Backpropagates the same random weights of ``weight`` through both and compares every parameter's grad."""
    theirs_weight, ours_weight = theirs.weight, ours.weight  # (each access is a forward: once each)
    assert_close(ours_weight, theirs_weight, kind=kind, what=f"{what}: weight")
    grad = random_values(tuple(theirs_weight.shape), theirs_weight.dtype)
    (theirs_weight * grad).sum().backward()
    (ours_weight * from_torch(grad)).sum().backward()
    theirs_grads = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        if theirs_grads[name].grad is None:
            assert parameter.grad is None, f"{what}: {name} has a gradient, torch's none"
        else:
            assert_close(parameter.grad, theirs_grads[name].grad, kind=kind, what=f"{what}: grad of {name}")


def original_of(module):
    return module.parametrizations.weight.original


def _outcomes(call) -> list:
    """(type, message) of what ``call(torch_modules)`` and ``call(our_modules)`` raise (None: nothing)."""
    outcomes = []
    for library in ((torch.nn, torch_parametrize, torch_parametrizations), (nn, parametrize, parametrizations)):
        try:
            call(*library)
        except Exception as error:  # noqa: BLE001 (what each library raises is the point)
            outcomes.append((type(error), str(error).replace("tritongrad.", "torch.")))
        else:
            outcomes.append(None)
    return outcomes


class _Symmetric:
    """X -> triu(X) + triu(X, 1)^T (a parametrization without right_inverse), in either library."""

    @staticmethod
    def of(library):
        class Symmetric(library.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).mT

        return Symmetric()


def _scaled(library, scale: float):
    """X -> scale * X with its right_inverse."""

    class Scale(library.Module):
        def forward(self, X):
            return X * scale

        def right_inverse(self, Y):
            return Y / scale

    return Scale()


def test_register_parametrization_layout_values_and_removal():
    torch_layer, layer = torch.nn.Linear(4, 4).double(), nn.Linear(4, 4).double()
    _load_torch_state(layer, torch_layer)
    for lib_parametrize, module, library in ((torch_parametrize, torch_layer, torch.nn), (parametrize, layer, nn)):
        lib_parametrize.register_parametrization(module, "weight", _Symmetric.of(library))
        lib_parametrize.register_parametrization(module, "weight", _scaled(library, 3.0))
    assert type(layer).__name__ == "ParametrizedLinear"
    assert parametrize.type_before_parametrizations(layer) is nn.Linear
    assert repr(layer) == repr(torch_layer)
    assert parametrize.is_parametrized(layer) and parametrize.is_parametrized(layer, "weight")
    assert not parametrize.is_parametrized(layer, "bias")
    _load_torch_state(layer, torch_layer)  # parametrizations.weight.original, bias
    assert_close(layer.weight, torch_layer.weight, what="symmetric * 3")
    x = random_values((2, 4), torch.float64)
    assert_close(layer(from_torch(x)), torch_layer(x), what="forward of the parametrized layer")
    _compare_gradients(layer, torch_layer, "symmetric * 3")
    replica = copy.deepcopy(layer)  # (pickling is refused, as torch's; deepcopy is not)
    assert type(replica) is type(layer) and replica.parametrizations.weight.original is not original_of(layer)
    assert_close(replica.weight, torch_layer.weight, what="deepcopy of the parametrized layer")
    with pytest.raises(RuntimeError, match="Serialization of parametrized modules is only supported through"):
        pickle.dumps(layer)
    # assigning runs right_inverse (Scale's; Symmetric has none, so torch raises and so must we)
    value = random_values((4, 4), torch.float64)
    outcomes = []
    for module, wrap in ((torch_layer, lambda t: t), (layer, from_torch)):
        try:
            module.weight = wrap(value)
        except RuntimeError as error:
            outcomes.append(str(error))
    assert outcomes == ["parametrization Symmetric does not implement right_inverse."] * 2
    # removal keeps the parametrized value (or the original), and gives the class back
    parametrize.remove_parametrizations(layer, "weight")
    torch_parametrize.remove_parametrizations(torch_layer, "weight")
    assert type(layer) is nn.Linear and isinstance(layer.weight, nn.Parameter)
    assert list(layer.state_dict()) == list(torch_layer.state_dict()) == ["bias", "weight"]
    assert_close(layer.weight, torch_layer.weight, what="weight after removal")


def test_right_inverse_on_assignment_and_buffers():
    torch_module, module = torch.nn.Module(), nn.Module()
    buffer = random_values((3, 5), torch.float32)
    torch_module.register_buffer("table", buffer.clone())
    module.register_buffer("table", from_torch(buffer))
    original = module.table
    torch_parametrize.register_parametrization(torch_module, "table", _scaled(torch.nn, 2.0))
    parametrize.register_parametrization(module, "table", _scaled(nn, 2.0))
    assert list(module.state_dict()) == list(torch_module.state_dict()) == ["parametrizations.table.original"]
    assert list(module.parameters()) == [] and module.parametrizations.table.original is original
    assert_close(module.parametrizations.table.original, torch_module.parametrizations.table.original,
                 what="original = right_inverse(buffer)")  # fmt: skip
    value = random_values((3, 5), torch.float32)
    torch_module.table = value
    module.table = from_torch(value)
    assert_close(module.parametrizations.table.original, torch_module.parametrizations.table.original,
                 what="original after assignment")  # fmt: skip
    assert_close(module.table, value, what="table after assignment")
    parametrize.remove_parametrizations(module, "table", leave_parametrized=False)
    assert type(module) is nn.Module and "table" in module._buffers
    assert_close(module.table, torch_module.parametrizations.table.original, what="original kept")


def test_right_inverse_with_several_originals():
    def split(library):
        class Sum(library.Module):
            def forward(self, a, b):
                return a + b

            def right_inverse(self, X):
                return X * 0.25, X * 0.75

        return Sum()

    torch_layer, layer = torch.nn.Linear(3, 2), nn.Linear(3, 2)
    _load_torch_state(layer, torch_layer)
    torch_parametrize.register_parametrization(torch_layer, "weight", split(torch.nn))
    parametrize.register_parametrization(layer, "weight", split(nn))
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    assert "parametrizations.weight.original1" in layer.state_dict()
    assert isinstance(layer.parametrizations.weight.original0, nn.Parameter)
    for name in ("original0", "original1"):
        assert_close(getattr(layer.parametrizations.weight, name),
                     getattr(torch_layer.parametrizations.weight, name), what=name)  # fmt: skip
    _compare_gradients(layer, torch_layer, "two originals")
    outcomes = _outcomes(lambda lib, p, _: p.remove_parametrizations(lib.Linear(2, 2), "weight"))
    assert outcomes[0][0] is outcomes[1][0] is ValueError


def test_cached_computes_once():
    calls = []

    class Counted(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 2.0

    layer = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Counted())
    calls.clear()
    with parametrize.cached():
        first, second = layer.weight, layer.weight
        assert first is second
    assert len(calls) == 1
    assert layer.weight is not first and len(calls) == 2


def test_unsafe_and_shape_errors_like_torch():
    def shrink(library):
        class Shrink(library.Module):
            def forward(self, X):
                return X[:1]

        return Shrink()

    outcomes = _outcomes(lambda lib, p, _: p.register_parametrization(lib.Linear(3, 2), "weight", shrink(lib)))
    assert outcomes[0] is not None and outcomes[1] == outcomes[0]
    layer = parametrize.register_parametrization(nn.Linear(3, 2), "weight", shrink(nn), unsafe=True)
    assert tuple(layer.weight.shape) == (1, 3)
    outcomes = _outcomes(lambda lib, p, _: p.register_parametrization(lib.Linear(3, 2), "scale", shrink(lib)))
    assert outcomes[0][0] is outcomes[1][0] is ValueError
    assert "does not have a parameter, a buffer, or a parametrized element with name 'scale'" in outcomes[1][1]


# -------------------------------------------------------------------------------- weight_norm


@pytest.mark.parametrize("dim", [0, 1, None])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_weight_norm_matches_torch(dim, dtype):
    torch_conv, conv = torch.nn.Conv2d(3, 4, (2, 3)).to(dtype), nn.Conv2d(3, 4, (2, 3)).to(dtype)
    torch_parametrizations.weight_norm(torch_conv, dim=dim)
    parametrizations.weight_norm(conv, dim=dim)
    assert repr(conv) == repr(torch_conv)
    _load_torch_state(conv, torch_conv)  # parametrizations.weight.original0 (g) / original1 (v)
    with torch.no_grad():  # g away from ||v||, so the normalization shows
        torch_conv.parametrizations.weight.original0.mul_(1.7)
    conv.parametrizations.weight.original0.data = from_torch(torch_conv.parametrizations.weight.original0)
    what = f"weight_norm dim={dim} {dtype}"
    assert_close(conv.weight, torch_conv.weight, what=what)
    _compare_gradients(conv, torch_conv, what)


def test_weight_norm_loads_hook_based_state_dict():
    old = torch.nn.Linear(5, 3)
    old_state = torch.nn.utils.weight_norm(old).state_dict()  # weight_g / weight_v (a FutureWarning in torch)
    assert "weight_g" in old_state
    layer = parametrizations.weight_norm(nn.Linear(5, 3))
    layer.load_state_dict({key: from_torch(value) for key, value in old_state.items()})
    assert_close(layer.parametrizations.weight.original0, old_state["weight_g"], what="g from weight_g")
    assert_close(layer.weight, old.weight, what="weight from the hook-based state dict")


# -------------------------------------------------------------------------------- spectral_norm


def test_spectral_norm_matches_torch():
    for make in (lambda lib: lib.Conv2d(3, 4, 2), lambda lib: lib.ConvTranspose3d(3, 2, (2, 1, 2))):
        torch_layer, layer = make(torch.nn).double(), make(nn).double()
        torch_parametrizations.spectral_norm(torch_layer, n_power_iterations=2)
        parametrizations.spectral_norm(layer, n_power_iterations=2)
        # (ConvTranspose3d: the default dim is 1, the output channels: u has 2 entries)
        _load_torch_state(layer, torch_layer)  # original, and torch's u, v estimates
        for training in (True, False):
            torch_layer.train(training)
            layer.train(training)
            what = f"spectral_norm {type(torch_layer).__name__} training={training}"
            _compare_gradients(layer, torch_layer, what)  # (the weight too, with the graph)
            for name in ("_u", "_v"):  # the power iteration (training) updated both alike
                assert_close(getattr(layer.parametrizations.weight[0], name),
                             getattr(torch_layer.parametrizations.weight[0], name), what=f"{what} {name}")  # fmt: skip


def test_spectral_norm_estimate_and_vectors():
    layer = parametrizations.spectral_norm(nn.Linear(6, 5))
    assert tuple(layer.parametrizations.weight[0]._u.shape) == (5,)
    # after the 15 registration steps and a forward's, sigma(weight) is close to 1
    assert abs(torch.linalg.matrix_norm(to_torch(layer.weight), 2).item() - 1.0) < 1e-2
    vector = nn.Module()
    vector.weight = nn.Parameter(from_torch(random_values((7,), torch.float32)))
    parametrizations.spectral_norm(vector)
    assert_close(vector.weight, torch.nn.functional.normalize(to_torch(vector.parametrizations.weight.original), dim=0),
                 what="spectral_norm of a vector")  # fmt: skip


# -------------------------------------------------------------------------------- orthogonal


def _orthogonal_pair(shape, orthogonal_map, use_trivialization: bool, dtype=torch.float64):
    """torch's and our module with the same random matrix, then orthogonal() on both."""
    weight = random_values(shape, dtype)
    theirs, ours = torch.nn.Module(), nn.Module()
    theirs.weight = torch.nn.Parameter(weight.clone())
    ours.weight = nn.Parameter(from_torch(weight))
    torch_parametrizations.orthogonal(theirs, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    parametrizations.orthogonal(ours, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    return ours, theirs


ORTHOGONAL_CASES = [
    ((4, 4), None, True),  # matrix_exp, the default for square matrices
    ((5, 3), None, True),  # householder, the default otherwise (tall)
    ((3, 5), None, True),  # wide: parametrized transposed
    ((2, 4, 3), "matrix_exp", True),  # a batch, embedded into a square
    ((4, 4), "cayley", True),
    ((5, 3), "householder", False),  # no base: the originals are geqrf's reflectors (square: test_composed...)
    ((4, 4), "matrix_exp", False),
]


@pytest.mark.parametrize("shape, orthogonal_map, trivialization", ORTHOGONAL_CASES, ids=str)
def test_orthogonal_matches_torch(shape, orthogonal_map, trivialization):
    what = f"orthogonal {shape} {orthogonal_map} trivialization={trivialization}"
    ours, theirs = _orthogonal_pair(shape, orthogonal_map, trivialization)
    weight = to_torch(ours.weight)
    rows, columns = shape[-2:]
    gram = weight.mT @ weight if rows >= columns else weight @ weight.mT
    assert_close(gram, torch.eye(min(rows, columns), dtype=torch.float64).expand_as(gram), atol=1e-12,
                 what=f"{what}: orthogonal at registration")  # fmt: skip
    if rows == columns or not trivialization:  # (no random completion: registration is deterministic)
        assert_close(ours.weight, theirs.weight, what=f"{what}: at registration")
        assert_close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original,
                     what=f"{what}: original at registration")  # fmt: skip
    _load_torch_state(ours, theirs)  # original (and base)
    # random originals (with a +-1 diagonal: the householder map's column signs)
    original = random_values(shape, torch.float64, low=-1.0, high=1.0)
    original.diagonal(dim1=-2, dim2=-1).copy_(torch.tensor([1.0, -1.0] * 3)[: min(shape[-2:])])
    with torch.no_grad():
        theirs.parametrizations.weight.original.copy_(original)
    ours.parametrizations.weight.original.data = from_torch(original)
    assert_close(ours.weight, theirs.weight, what=f"{what}: random original")
    _compare_gradients(ours, theirs, what)


def test_orthogonal_assignment_and_float32():
    ours, theirs = _orthogonal_pair((5, 3), None, True, dtype=torch.float32)
    target = torch.linalg.qr(random_values((5, 3), torch.float32))[0]
    theirs.weight = target
    ours.weight = from_torch(target)  # right_inverse: base = target, original = -I
    assert_close(ours.weight, target, atol=1e-6, what="assigned orthogonal matrix")
    assert_close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original, what="-I")
    outcomes = _outcomes(lambda lib, _, p: p.orthogonal(lib.Linear(3, 3), orthogonal_map="matrix_exp",
                                                        use_trivialization=False).__setattr__(
                                                            "weight", lib.Linear(3, 3).weight.detach()))  # fmt: skip
    assert outcomes[0][0] is outcomes[1][0] is NotImplementedError


def test_composed_matrix_functions():
    for dtype, scale in ((torch.float64, 0.1), (torch.float64, 4.0), (torch.float32, 2.0)):
        A = random_values((2, 5, 5), dtype, low=-scale, high=scale)
        expected = torch.linalg.matrix_exp(A)
        # (float32: the squarings amplify the rounding, as in torch's own float32 result)
        double = dtype == torch.float64
        assert_close(tritongrad.linalg.matrix_exp(from_torch(A)), expected, rtol=1e-12 if double else 1e-4,
                     atol=1e-12 * expected.abs().max().item() if double else 1e-4,
                     what=f"matrix_exp, entries up to {scale}")  # fmt: skip
    A, tau = random_values((3, 6, 4), torch.float64), random_values((3, 4), torch.float64)
    assert_close(_householder_product(from_torch(A), from_torch(tau)), torch.linalg.householder_product(A, tau),
                 what="householder_product")  # fmt: skip
    for shape in [(6, 4), (2, 3, 3)]:
        A = random_values(shape, torch.float64)
        reflectors, tau = _geqrf(from_torch(A))
        expected_reflectors, expected_tau = torch.geqrf(A)
        assert_close(reflectors, expected_reflectors, what=f"geqrf {shape}")
        assert_close(tau, expected_tau, what=f"geqrf tau {shape}")


ORTHOGONAL_ERRORS = {
    "vector": lambda lib, _, p: p.orthogonal(lib.Linear(3, 3), "bias"),
    "unknown map": lambda lib, _, p: p.orthogonal(lib.Linear(3, 3), orthogonal_map="qr"),
    "no such tensor": lambda lib, _, p: p.orthogonal(lib.Linear(3, 3), "scale"),
    "spectral dim": lambda lib, _, p: p.spectral_norm(lib.Linear(3, 3), dim=2),
    "power iterations": lambda lib, _, p: p.spectral_norm(lib.Linear(3, 3), n_power_iterations=0),
    "wrong shape assigned": lambda lib, _, p: p.orthogonal(lib.Linear(3, 3)).__setattr__(
        "weight", lib.Linear(2, 3).weight.detach()),
}  # fmt: skip


@pytest.mark.parametrize("name", list(ORTHOGONAL_ERRORS))
def test_errors_like_torch(name):
    theirs, ours = _outcomes(ORTHOGONAL_ERRORS[name])
    assert theirs is not None and ours is not None, (theirs, ours)
    assert ours[0] is theirs[0], (theirs, ours)
    if name != "no such tensor":  # (that message prints the module)
        assert ours[1] == theirs[1], (theirs, ours)


def test_parametrized_module_trains():
    """An optimizer step on an orthogonal parametrization keeps the weight orthogonal (the step moves
    the original) -- the use the real scripts make of it."""
    layer = parametrizations.orthogonal(nn.Linear(4, 4))
    optimizer = tritongrad.optim.SGD(layer.parameters(), lr=0.1)
    x = from_torch(random_values((8, 4), torch.float32))
    before = to_torch(layer.weight).clone()
    layer(x).square().sum().backward()
    optimizer.step()
    weight = to_torch(layer.weight)
    assert (weight - before).abs().max() > 1e-4, "the step did not move the weight"
    assert_close(weight.T @ weight, torch.eye(4), atol=1e-5, what="orthogonal after an SGD step")
    assert layer.parametrizations.weight.original.grad is not None
