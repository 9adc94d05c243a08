"""The ninth red-team round's torch.func findings (scripts3b items 1, 7 and 8), each compared with torch by
``agree``: the value (dtype included), or the exception type and the head of its message.

- argnums must be unique; ``has_aux``'s aux may hold only tensors; ``chunk_size`` (jacrev, vmap) and
  jacfwd's ``randomness`` are checked; an ``out_dims=None`` output that depends on the mapped inputs is
  refused; vjp's cotangents must have the outputs' tree structure;
- a differentiated argument that is not a tensor is refused (ValueError; jvp's own RuntimeError), and
  jvp's tangents must have their primals' shapes and differentiable dtypes;
- jvp's output tangent takes torch's forward-mode dtype (promoted with the tangents' dtypes).
"""

from __future__ import annotations

import math

import pytest
import torch

from tests.test_hardening import agree


def _x(n: int = 3, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(n, generator=generator, dtype=torch.float64) * 2 - 1).to(dtype)


# ----------------------------------------------------------------------------------------------
# item 1: argnums
# ----------------------------------------------------------------------------------------------

TRANSFORMS = {
    "grad": lambda lib, f, argnums: lib.func.grad(f, argnums=argnums),
    "grad_and_value": lambda lib, f, argnums: lib.func.grad_and_value(f, argnums=argnums),
    "jacrev": lambda lib, f, argnums: lib.func.jacrev(f, argnums=argnums),
    "jacfwd": lambda lib, f, argnums: lib.func.jacfwd(f, argnums=argnums),
    "hessian": lambda lib, f, argnums: lib.func.hessian(f, argnums=argnums),
}


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("argnums", [(0, 0), (0, -2), (1, 0, 1), (0, "a"), [0], "a", (), (0, 5), (0, 1)])
def test_argnums_are_checked_like_torch(transform, argnums):
    def run(lib, x, y):
        return TRANSFORMS[transform](lib, lambda a, b: (a * b).sum(), argnums)(x, y)

    agree(f"{transform} argnums={argnums!r}", run, [_x(2), _x(2, seed=1)])


# ----------------------------------------------------------------------------------------------
# item 1: has_aux's aux holds tensors only
# ----------------------------------------------------------------------------------------------

AUX_CALLS = {
    "grad": lambda lib, aux, x: lib.func.grad(lambda a: ((a * 2).sum(), aux(lib, a)), has_aux=True)(x)[1],
    "grad_and_value": lambda lib, aux, x: lib.func.grad_and_value(lambda a: ((a * 2).sum(), aux(lib, a)), has_aux=True)(
        x
    )[1][1],
    "vjp": lambda lib, aux, x: lib.func.vjp(lambda a: (a * 2, aux(lib, a)), x, has_aux=True)[2],
    "jvp": lambda lib, aux, x: lib.func.jvp(lambda a: (a * 2, aux(lib, a)), (x,), (x,), has_aux=True)[2],
    "jacrev": lambda lib, aux, x: lib.func.jacrev(lambda a: (a * 2, aux(lib, a)), has_aux=True)(x)[1],
    "jacfwd": lambda lib, aux, x: lib.func.jacfwd(lambda a: (a * 2, aux(lib, a)), has_aux=True)(x)[1],
}
AUXES = {
    "int": lambda lib, a: 1,
    "float": lambda lib, a: 2.5,
    "str": lambda lib, a: "s",
    "bool": lambda lib, a: True,
    "None": lambda lib, a: None,
    "dtype": lambda lib, a: lib.float32,
    "list with an int": lambda lib, a: [a, 1],
    "tuple with None": lambda lib, a: (a, None),
    "dict of a tensor": lambda lib, a: {"k": a * 3},
    "tuple of tensors": lambda lib, a: (a.sum(), [a + 1]),
    "empty tuple": lambda lib, a: (),
}


def _plain(value):
    """A dict result as a list of its values (the harness compares tensors in lists and tuples)."""
    return list(value.values()) if isinstance(value, dict) else value


@pytest.mark.parametrize("call", sorted(AUX_CALLS))
@pytest.mark.parametrize("aux", sorted(AUXES))
def test_aux_may_hold_only_tensors(call, aux):
    agree(f"{call} aux={aux}", lambda lib, x: _plain(AUX_CALLS[call](lib, AUXES[aux], x)), [_x(2)])


def test_grad_checks_the_output_before_the_aux():
    agree("grad aux after output", lambda lib, x: lib.func.grad(lambda a: (a * 2, 1), has_aux=True)(x), [_x(2)])


def test_vjp_checks_the_aux_before_the_output():
    agree("vjp aux before output", lambda lib, x: lib.func.vjp(lambda a: ((a, 3), 1), x, has_aux=True), [_x(2)])


# ----------------------------------------------------------------------------------------------
# item 1: chunk_size, jacfwd's randomness
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [0, -1, 1, 2, None])
def test_jacrev_chunk_size(chunk_size):
    agree(f"jacrev chunk_size={chunk_size}", lambda lib, x: lib.func.jacrev(lambda a: a * a, chunk_size=chunk_size)(x),
          [_x(3)])  # fmt: skip


@pytest.mark.parametrize("chunk_size", [0, -2, 1, 2, None])
def test_vmap_chunk_size(chunk_size):
    agree(f"vmap chunk_size={chunk_size}", lambda lib, x: lib.func.vmap(lambda a: a.sum(), chunk_size=chunk_size)(x),
          [_x(6).reshape(3, 2)])  # fmt: skip


def test_jacrev_chunk_size_is_checked_when_the_transform_is_made():
    agree("jacrev chunk_size=0 made", lambda lib: (lib.func.jacrev(lambda a: a, chunk_size=0), None)[1], [])


@pytest.mark.parametrize("randomness", ["foo", "error", "same", "different"])
def test_jacfwd_checks_randomness_when_called(randomness):
    def run(lib, x):
        transform = lib.func.jacfwd(lambda a: a * 2, randomness=randomness)  # (made: no error yet)
        return transform(x)

    agree(f"jacfwd randomness={randomness}", run, [_x(2)])


@pytest.mark.parametrize("transform", ["jacfwd", "hessian"])
def test_jacfwd_refuses_random_ops_by_default(transform):
    def run(lib, x):
        return getattr(lib.func, transform)(lambda a: (a * lib.rand(2)).sum())(x)

    agree(f"{transform} with rand", run, [_x(2)])


def test_jacrev_allows_random_ops():
    def run(lib, x):
        return lib.func.jacrev(lambda a: a * lib.rand(2).mul(0).add(1))(x)

    agree("jacrev with rand", run, [_x(2)])


# ----------------------------------------------------------------------------------------------
# item 1: vmap out_dims=None
# ----------------------------------------------------------------------------------------------

OUT_NONE = {
    "the slice's sum": lambda lib, x, y: lib.func.vmap(lambda a: (a, a.sum()), out_dims=(0, None))(x),
    "the slice itself": lambda lib, x, y: lib.func.vmap(lambda a: (a * 2, a), out_dims=(0, None))(x),
    "a view of the slice": lambda lib, x, y: lib.func.vmap(lambda a: (a * 2, a[:1]), out_dims=(0, None))(x),
    "everything batched": lambda lib, x, y: lib.func.vmap(lambda a: a.exp(), out_dims=None)(x),
    "a constant": lambda lib, x, y: lib.func.vmap(lambda a: (a, lib.ones(2)), out_dims=(0, None))(x),
    "a number": lambda lib, x, y: lib.func.vmap(lambda a: (a, 3), out_dims=(0, None))(x),
    "an unmapped input": lambda lib, x, y: lib.func.vmap(
        lambda a, b: (a * b, b * 2), in_dims=(0, None), out_dims=(0, None)
    )(x, y),
    "an unmapped input as is": lambda lib, x, y: lib.func.vmap(
        lambda a, b: (a * b, b), in_dims=(0, None), out_dims=(0, None)
    )(x, y),
}


@pytest.mark.parametrize("case", sorted(OUT_NONE))
def test_vmap_out_dims_none_refuses_a_batched_output(case):
    agree(f"vmap out_dims None: {case}", OUT_NONE[case], [_x(6).reshape(2, 3), _x(3, seed=2)])


# ----------------------------------------------------------------------------------------------
# item 1: vjp's cotangents have the outputs' structure
# ----------------------------------------------------------------------------------------------

COTANGENTS = {
    "tensor output, tuple": (lambda lib, a: a * 2, lambda c: (c,)),
    "tensor output, list": (lambda lib, a: a * 2, lambda c: [c]),
    "tensor output, tensor": (lambda lib, a: a * 2, lambda c: c),
    "tuple output, list": (lambda lib, a: (a * 2, a.sin()), lambda c: [c, c]),
    "tuple output, tensor": (lambda lib, a: (a * 2, a.sin()), lambda c: c),
    "tuple output, tuple": (lambda lib, a: (a * 2, a.sin()), lambda c: (c, c)),
    "tuple output, nested": (lambda lib, a: (a * 2, a.sin()), lambda c: (c, (c,))),
    "list output, list": (lambda lib, a: [a * 2], lambda c: [c]),
    "dict output, other key": (lambda lib, a: {"k": a * 2}, lambda c: {"j": c}),
    "dict output, same key": (lambda lib, a: {"k": a * 2}, lambda c: {"k": c}),
}


@pytest.mark.parametrize("case", sorted(COTANGENTS))
def test_vjp_cotangents_need_the_outputs_structure(case):
    function, cotangent = COTANGENTS[case]

    def run(lib, x, c):
        _, vjp_fn = lib.func.vjp(lambda a: function(lib, a), x)
        return vjp_fn(cotangent(c))

    agree(f"vjp cotangents {case}", run, [_x(2), _x(2, seed=3)])


# ----------------------------------------------------------------------------------------------
# item 7: a differentiated argument that is not a tensor; jvp's tangents' shapes and dtypes
# ----------------------------------------------------------------------------------------------

NON_TENSORS = {
    "jacrev float": lambda lib, x: lib.func.jacrev(lambda a: a.sum())(3.0),
    "jacrev float, argnums=1": lambda lib, x: lib.func.jacrev(lambda a, b: a.sum() * b, argnums=1)(x, 3.0),
    "jacrev float not differentiated": lambda lib, x: lib.func.jacrev(lambda a, b: a.sum() * b)(x, 3.0),
    "grad float": lambda lib, x: lib.func.grad(lambda a: a.sum())(3.0),
    "grad int": lambda lib, x: lib.func.grad(lambda a: a.sum())(3),
    "grad None": lambda lib, x: lib.func.grad(lambda a: a.sum())(None),
    "grad tuple with a float": lambda lib, x: lib.func.grad(lambda a: a[0].sum())((x, 3.0)),
    "grad_and_value float": lambda lib, x: lib.func.grad_and_value(lambda a: a.sum())(3.0),
    "vjp float": lambda lib, x: lib.func.vjp(lambda a: a * 2, 3.0),
    "vjp float second": lambda lib, x: lib.func.vjp(lambda a, b: a * 2, x, 3.0),
    "jvp float primal": lambda lib, x: lib.func.jvp(lambda a: a * 2, (3.0,), (3.0,)),
    "jvp float tangent": lambda lib, x: lib.func.jvp(lambda a: a * 2, (x,), (3.0,)),
    "jvp no primals": lambda lib, x: lib.func.jvp(lambda: x * 2, (), ()),
    "jvp list tangents": lambda lib, x: lib.func.jvp(lambda a: a * 2, (x,), [x]),
    "jvp fewer tangents": lambda lib, x: lib.func.jvp(lambda a, b: a * b, (x, x), (x,)),
    "jvp nested primals": lambda lib, x: lib.func.jvp(lambda a: a[0] * a[1], ([x, x],), ([x, x * 2],)),
    "jacfwd float": lambda lib, x: lib.func.jacfwd(lambda a: a.sum())(3.0),
    "hessian float": lambda lib, x: lib.func.hessian(lambda a: a.sum())(3.0),
}


@pytest.mark.parametrize("case", sorted(NON_TENSORS))
def test_a_differentiated_argument_must_be_a_tensor(case):
    agree(case, NON_TENSORS[case], [_x(2)])


@pytest.mark.parametrize(
    ("primal", "tangent"),
    [((2,), (3,)), ((2, 3), (3, 2)), ((), (1,)), ((2,), (1,)), ((2,), (2,))],
)
def test_jvp_tangent_shape_must_match(primal, tangent):
    def run(lib, p, t):
        return lib.func.jvp(lambda a: a * 2, (p,), (t,))

    agree(f"jvp {primal} {tangent}", run, [_x(math.prod(primal)).reshape(primal), torch.ones(tangent)])


@pytest.mark.parametrize(
    ("primal_dtype", "tangent_dtype"),
    [(torch.int64, torch.float32), (torch.float32, torch.int64), (torch.float32, torch.bool)],
)
def test_jvp_needs_differentiable_dtypes(primal_dtype, tangent_dtype):
    def run(lib, p, t):
        return lib.func.jvp(lambda a: a * 2, (p,), (t,))

    agree(f"jvp {primal_dtype} {tangent_dtype}", run, [torch.ones(2, dtype=primal_dtype),
                                                       torch.ones(2, dtype=tangent_dtype)])  # fmt: skip


# ----------------------------------------------------------------------------------------------
# item 8: the output tangent's dtype
# ----------------------------------------------------------------------------------------------

JVP_FUNCTIONS = {
    "mul": lambda lib, a: a * 2,
    "sin": lambda lib, a: a.sin(),
    "sum": lambda lib, a: (a * a).sum(),
    "identity": lambda lib, a: a,
    "view": lambda lib, a: a[1:],
    "reshape view": lambda lib, a: a.view(2, 2),
    "constant": lambda lib, a: lib.ones(2),
    "to float64": lambda lib, a: a.double() * 3,
    "tuple": lambda lib, a: (a * 2, a, lib.ones(1)),
}
DTYPE_PAIRS = [
    (torch.float32, torch.float64),
    (torch.float64, torch.float32),
    (torch.float32, torch.float16),
    (torch.float16, torch.float32),
    (torch.float32, torch.bfloat16),
    (torch.float32, torch.float32),
]


@pytest.mark.parametrize("function", sorted(JVP_FUNCTIONS))
@pytest.mark.parametrize(("primal_dtype", "tangent_dtype"), DTYPE_PAIRS)
def test_jvp_tangent_output_dtype(function, primal_dtype, tangent_dtype):
    def run(lib, p, t):
        return lib.func.jvp(lambda a: JVP_FUNCTIONS[function](lib, a), (p,), (t,))

    # (power-of-two tangents keep every product exact: tritongrad computes the tangent at the output's
    # precision, then casts it)
    primal = torch.tensor([0.5, -0.25, 0.75, 1.0], dtype=primal_dtype)
    tangent = torch.tensor([0.125, -0.5, 0.25, 2.0], dtype=tangent_dtype)
    agree(f"jvp {function} {primal_dtype} {tangent_dtype}", run, [primal, tangent])


@pytest.mark.parametrize("function", ["mul", "add"])
def test_jvp_tangent_dtype_with_two_primals(function):
    def run(lib, x, y, tx, ty):
        return lib.func.jvp(lambda a, b: a * b if function == "mul" else a + b, (x, y), (tx, ty))

    agree(f"jvp two primals {function}", run,
          [_x(2), _x(2, seed=1), _x(2, seed=2), _x(2, seed=3, dtype=torch.float64)])  # fmt: skip
