"""torch._foreach_*: every one of torch 2.13's 91 functions compared with torch on a list of two tensors of
different shapes (values, the in-place forms' results and their returned list, the out-of-place forms'
gradients), over each operand overload, and the errors of bad lists."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tritongrad import foreach

UNARY_DOMAIN_01 = {"acos", "asin"}  # (inputs in (0, 1) for these; (0.5, 2) for the rest)


def _tensors(lib, low=0.5, high=2.0, requires_grad=False, dtype="float64"):
    generator = torch.Generator().manual_seed(0)
    values = [
        torch.rand(shape, generator=generator, dtype=torch.float64) * (high - low) + low for shape in ((2,), (3,))
    ]
    return [lib.tensor(v.tolist(), dtype=getattr(lib, dtype), requires_grad=requires_grad) for v in values]


def test_the_census_is_torchs():
    theirs = sorted(name for name in dir(torch) if name.startswith("_foreach"))
    assert theirs == sorted(foreach.__all__), set(theirs) ^ set(foreach.__all__)
    assert all(hasattr(tritongrad, name) for name in theirs)


@pytest.mark.parametrize("method", foreach.UNARY)
def test_unary(method):
    low, high = (0.1, 0.9) if method in UNARY_DOMAIN_01 else (0.5, 2.0)

    def run(lib):
        tensors = _tensors(lib, low, high, requires_grad=method not in {"sign", "round", "floor", "ceil", "trunc"})
        results = getattr(lib, f"_foreach_{method}")(tensors)
        if results[0].requires_grad:
            sum(r.sum() for r in results).backward()
        copies = [t.detach().clone() for t in tensors]
        returned = getattr(lib, f"_foreach_{method}_")(copies)
        return (*results, *[t.grad for t in tensors if t.requires_grad], *copies, returned is copies)

    agree(f"_foreach_{method}", run, [])


OPERANDS = {
    "number": lambda lib: 1.5,
    "scalar list": lambda lib: [1.5, 0.25],
    "tensor list": lambda lib: _tensors(lib, 0.5, 1.5),
    "0-d tensor": lambda lib: lib.tensor(0.75, dtype=lib.float64),
}


@pytest.mark.parametrize("operand", list(OPERANDS))
@pytest.mark.parametrize("method", list(foreach.BINARY))
def test_binary(method, operand):
    def run(lib):
        tensors = _tensors(lib, requires_grad=True)
        other = OPERANDS[operand](lib)
        results = getattr(lib, f"_foreach_{method}")(tensors, other)
        sum(r.sum() for r in results).backward()
        copies = [t.detach().clone() for t in tensors]
        returned = getattr(lib, f"_foreach_{method}_")(copies, other)
        return (*results, *[t.grad for t in tensors], *copies, returned is copies)

    agree(f"_foreach_{method}({operand})", run, [])


@pytest.mark.parametrize("method", ["add", "sub"])
@pytest.mark.parametrize("operand", ["tensor list", "0-d tensor", "number"])
def test_alpha(method, operand):
    agree(
        f"_foreach_{method}({operand}, alpha=2)",
        lambda lib: getattr(lib, f"_foreach_{method}")(_tensors(lib), OPERANDS[operand](lib), alpha=2),
        [],
        message=False,
    )


SCALES = {
    "number": lambda lib: 0.5,
    "scalar list": lambda lib: [0.5, -2.0],
    "tensor": lambda lib: lib.tensor([0.5, -2.0]),
}


@pytest.mark.parametrize("scale", list(SCALES))
@pytest.mark.parametrize("method", list(foreach.TERNARY))
def test_ternary(method, scale):
    def run(lib):
        tensors, first, second = _tensors(lib, requires_grad=True), _tensors(lib, 0.1, 0.4), _tensors(lib, 1.0, 3.0)
        results = getattr(lib, f"_foreach_{method}")(tensors, first, second, SCALES[scale](lib))
        if scale != "tensor":  # (torch 2.13 has no derivative for the tensor-of-scales overload; tritongrad's is
            sum(r.sum() for r in results).backward()  # the per-tensor op's)
        copies = [t.detach().clone() for t in tensors]
        returned = getattr(lib, f"_foreach_{method}_")(copies, first, second, SCALES[scale](lib))
        return (*[r.detach() for r in results], *[t.grad for t in tensors], *copies, returned is copies)

    agree(f"_foreach_{method}({scale})", run, [])


WEIGHTS = {
    "number": lambda lib: 0.3,
    "scalar list": lambda lib: [0.3, 0.8],
    "tensor list": lambda lib: _tensors(lib, 0, 1),
}


@pytest.mark.parametrize("weight", list(WEIGHTS))
def test_lerp(weight):
    def run(lib):
        tensors, ends = _tensors(lib, requires_grad=True), _tensors(lib, -1.0, 0.0)
        results = lib._foreach_lerp(tensors, ends, WEIGHTS[weight](lib))
        sum(r.sum() for r in results).backward()
        copies = [t.detach().clone() for t in tensors]
        returned = lib._foreach_lerp_(copies, ends, WEIGHTS[weight](lib))
        return (*results, *[t.grad for t in tensors], *copies, returned is copies)

    agree(f"_foreach_lerp({weight})", run, [])


OTHERS = {
    "pow of a number": lambda lib: lib._foreach_pow(2.0, _tensors(lib)),
    "norm": lambda lib: lib._foreach_norm(_tensors(lib, -1.0, 1.0)),
    "norm 1": lambda lib: lib._foreach_norm(_tensors(lib, -1.0, 1.0), 1),
    "norm inf": lambda lib: lib._foreach_norm(_tensors(lib, -1.0, 1.0), float("inf")),
    "norm dtype": lambda lib: lib._foreach_norm(_tensors(lib, dtype="float32"), dtype=lib.float64),
    "norm of integers": lambda lib: lib._foreach_norm([lib.ones(2, dtype=lib.int64)]),
    "max": lambda lib: lib._foreach_max(_tensors(lib, -1.0, 1.0)),
    "max of an empty tensor": lambda lib: lib._foreach_max([lib.ones(2), lib.ones(0)]),
    "powsum 3": lambda lib: lib._foreach_powsum(_tensors(lib, -1.0, 1.0), 3),
    "clone": lambda lib: lib._foreach_clone(_tensors(lib)),
    "copy_": lambda lib: lib._foreach_copy_(_tensors(lib), _tensors(lib, -2.0, -1.0)),
    "zero_": lambda lib: lib._foreach_zero_(_tensors(lib)),
    "mm": lambda lib: lib._foreach_mm([lib.ones(2, 3), lib.ones(1, 2)], [lib.ones(3, 2), lib.ones(2, 4)]),
    "mm of vectors": lambda lib: lib._foreach_mm(_tensors(lib), _tensors(lib)),
    "integers promote": lambda lib: lib._foreach_add([lib.ones(2, dtype=lib.int64)], 1.5),
    "per-tensor promotion": lambda lib: lib._foreach_div(_tensors(lib, dtype="float32"), _tensors(lib)),
    "maximum of nan": lambda lib: lib._foreach_maximum([lib.tensor([float("nan"), 1.0])], 0.5),
    "bool subtraction": lambda lib: lib._foreach_sub([lib.ones(2, dtype=lib.bool)], True),
    "bool negation": lambda lib: lib._foreach_neg([lib.ones(2, dtype=lib.bool)]),
    "a tuple of tensors": lambda lib: lib._foreach_add(tuple(_tensors(lib)), 1),
    "an empty list": lambda lib: lib._foreach_add([], 1),
    "scalar list length": lambda lib: lib._foreach_add(_tensors(lib), [1.0]),
    "tensor list length": lambda lib: lib._foreach_add(_tensors(lib), [lib.ones(2)]),
    "shapes that do not broadcast": lambda lib: lib._foreach_add(_tensors(lib), [lib.ones(2), lib.ones(2)]),
    "a 1-d operand": lambda lib: lib._foreach_add(_tensors(lib), lib.ones(2)),
    "alpha with a number": lambda lib: lib._foreach_add(_tensors(lib), 1, alpha=2),
    "None operand": lambda lib: lib._foreach_add(_tensors(lib), None),
    "a tensor, not a list": lambda lib: lib._foreach_add(lib.ones(1), 1),
    "in place on a leaf requiring grad": lambda lib: lib._foreach_mul_(_tensors(lib, requires_grad=True), 3),
}


@pytest.mark.parametrize("name", list(OTHERS))
def test_other_functions_and_errors(name):
    agree(name, OTHERS[name], [], message=name not in {"alpha with a number", "None operand", "a tensor, not a list"})
