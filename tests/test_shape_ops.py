"""Shape ops against torch: flip/roll/tril/triu, repeat/tile/repeat_interleave, diagonals, einsum,
view helpers (movedim, narrow, meshgrid, broadcast_*, atleast_nd, split/chunk) — values, dtypes,
strided inputs, errors, gradients (vs torch.autograd in float64) and float64 gradcheck.

These ops move elements without arithmetic (einsum and trace excepted), so results must match
torch exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, make_pair, random_values
from tritongrad.autograd import gradcheck

DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.int32, torch.int64, torch.bool]
LAYOUTS = ["contiguous", "transposed", "sliced", "expanded"]


def both(fn, x: torch.Tensor, got_x=None):
    """fn applied by torch to x and by tritongrad to a copy of it (or to ``got_x``)."""
    return fn(got_x if got_x is not None else from_torch(x), tritongrad), fn(x, torch)


# name: (function of (x, lib), input shape); every one runs on every dtype and layout
MOVES = {
    "flip_0": (lambda x, lib: lib.flip(x, [0]), (4, 5)),
    "flip_both_negative": (lambda x, lib: x.flip((-1, -2)), (4, 5)),
    "flip_3d_middle": (lambda x, lib: lib.flip(x, (1,)), (2, 3, 4)),
    "fliplr": (lambda x, lib: lib.fliplr(x), (3, 4)),
    "flipud": (lambda x, lib: x.flipud(), (3, 4)),
    "roll_1_dim1": (lambda x, lib: lib.roll(x, 1, 1), (4, 5)),
    "roll_negative_dim0": (lambda x, lib: x.roll(-3, 0), (4, 5)),
    "roll_two_dims": (lambda x, lib: lib.roll(x, (2, -1), (0, 1)), (4, 5)),
    "roll_flat": (lambda x, lib: lib.roll(x, 7), (4, 5)),
    "roll_more_than_size": (lambda x, lib: lib.roll(x, 13, -1), (4, 5)),
    "tril": (lambda x, lib: lib.tril(x), (4, 5)),
    "tril_diag_neg": (lambda x, lib: x.tril(-1), (5, 4)),
    "triu_diag_2": (lambda x, lib: lib.triu(x, 2), (4, 5)),
    "triu_batched": (lambda x, lib: x.triu(), (2, 3, 4)),
    "repeat": (lambda x, lib: x.repeat(2, 3), (3, 4)),
    "repeat_new_dims": (lambda x, lib: x.repeat(2, 1, 1), (3, 4)),
    "repeat_zero": (lambda x, lib: x.repeat(0, 2), (3, 4)),
    "tile": (lambda x, lib: lib.tile(x, (2,)), (3, 4)),
    "repeat_interleave_int": (lambda x, lib: lib.repeat_interleave(x, 2, dim=1), (3, 4)),
    "repeat_interleave_flat": (lambda x, lib: x.repeat_interleave(3), (3, 4)),
    "diagonal": (lambda x, lib: lib.diagonal(x), (4, 5)),
    "diagonal_offset": (lambda x, lib: x.diagonal(1, 1, 0), (4, 5)),
    "diagonal_3d": (lambda x, lib: lib.diagonal(x, -1, 0, 2), (4, 3, 5)),
    "diag_of_matrix": (lambda x, lib: lib.diag(x, 1), (4, 5)),
    "diag_of_vector": (lambda x, lib: lib.diag(x[0], -2), (4, 5)),
    "diag_embed": (lambda x, lib: lib.diag_embed(x), (3, 4)),
    "diag_embed_offset_dims": (lambda x, lib: lib.diag_embed(x, 1, 0, 2), (3, 4)),
    "movedim": (lambda x, lib: lib.movedim(x, 0, -1), (2, 3, 4)),
    "movedim_tuple": (lambda x, lib: lib.movedim(x, (0, 1), (2, 0)), (2, 3, 4)),
    "swapaxes": (lambda x, lib: lib.swapaxes(x, 0, 2), (2, 3, 4)),
    "unflatten": (lambda x, lib: lib.unflatten(x, 1, (2, -1)), (3, 4)),
    "narrow": (lambda x, lib: lib.narrow(x, 1, 1, 2), (3, 4)),
    "narrow_negative_start": (lambda x, lib: x.narrow(0, -2, 2), (3, 4)),
    "broadcast_to": (lambda x, lib: lib.broadcast_to(x, (2, 3, 4)), (3, 4)),
    "atleast_3d": (lambda x, lib: lib.atleast_3d(x), (3, 4)),
    "split_sizes": (lambda x, lib: lib.split(x, [1, 3], 1)[1], (3, 4)),
    "chunk": (lambda x, lib: lib.chunk(x, 3, 1)[-1], (3, 4)),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", list(MOVES))
def test_moves_float32_layouts(name, layout):
    fn, shape = MOVES[name]
    expected_in, got_in = make_pair(shape, torch.float32, layout)
    got, expected = both(fn, expected_in, got_in)
    assert_close(got, expected, what=f"{name} {layout}")


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", ["flip_0", "roll_two_dims", "tril", "triu_diag_2", "repeat", "diag_embed",
                                  "diag_of_vector", "repeat_interleave_int"])  # fmt: skip
def test_moves_dtypes(name, dtype):
    fn, shape = MOVES[name]
    got, expected = both(fn, random_values(shape, dtype))
    assert_close(got, expected, what=f"{name} {dtype}")


@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (0, 3), (1, 1), (2, 0, 3)])
def test_edge_shapes(shape):
    x = random_values(shape, torch.float32)
    for name, fn in {
        "flip": lambda t, lib: lib.flip(t, (0,)),
        "roll": lambda t, lib: lib.roll(t, 2, 0),
        "repeat": lambda t, lib: t.repeat(*([2] * t.dim())),
        "repeat_interleave": lambda t, lib: lib.repeat_interleave(t, 2, 0),
    }.items():
        got, expected = both(fn, x)
        assert_close(got, expected, what=f"{name} of {shape}")
    if len(shape) >= 2:
        got, expected = both(lambda t, lib: lib.tril(t, 1), x)
        assert_close(got, expected, what=f"tril of {shape}")


def test_zero_dim_inputs():
    x = torch.tensor(1.5)
    for fn in (lambda t, lib: lib.flip(t, ()), lambda t, lib: t.repeat(2), lambda t, lib: lib.atleast_1d(t),
               lambda t, lib: lib.atleast_2d(t), lambda t, lib: lib.roll(t, 1)):  # fmt: skip
        got, expected = both(fn, x)
        assert_close(got, expected)


def test_large_roll_and_flip_cross_blocks():
    x = random_values((3, 5000), torch.float32)  # many programs per launch on a GPU, large blocks here
    for fn in (lambda t, lib: lib.flip(t, (0, 1)), lambda t, lib: lib.roll(t, (1, 4321), (0, 1))):
        got, expected = both(fn, x)
        assert_close(got, expected)


def test_repeat_interleave_with_tensor_counts():
    x = random_values((3, 4), torch.float32)
    counts = torch.tensor([1, 0, 3])
    got = tritongrad.repeat_interleave(from_torch(x), from_torch(counts), dim=0)
    assert_close(got, torch.repeat_interleave(x, counts, dim=0))
    assert_close(tritongrad.repeat_interleave(from_torch(counts)), torch.repeat_interleave(counts))


def test_trace():
    for shape, dtype in (((4, 4), torch.float32), ((3, 5), torch.float64), ((5, 3), torch.int32)):
        x = random_values(shape, dtype)
        assert_close(tritongrad.trace(from_torch(x)), torch.trace(x), what=f"trace {shape} {dtype}")


EINSUMS = {
    "ij,jk->ik": [(3, 4), (4, 5)],  # matmul
    "bij,bjk->bik": [(2, 3, 4), (2, 4, 5)],  # bmm
    "i,j->ij": [(3,), (4,)],  # outer
    "ii->": [(4, 4)],  # trace
    "ii->i": [(4, 4)],  # diagonal
    "ij->ji": [(3, 4)],  # transpose
    "ij->": [(3, 4)],  # sum
    "ij->j": [(3, 4)],  # column sums
    "ij,ij->ij": [(3, 4), (3, 4)],  # elementwise product
    "ij,ij->": [(3, 4), (3, 4)],  # Frobenius inner product
    "i,i->": [(5,), (5,)],  # dot
    "ij,j->i": [(3, 4), (4,)],  # matrix-vector
    "...ij,...jk->...ik": [(2, 3, 4), (2, 4, 5)],  # batched with ellipsis
    "bhqd,bhkd->bhqk": [(2, 3, 4, 5), (2, 3, 6, 5)],  # attention scores
    "ij,jk,kl->il": [(2, 3), (3, 4), (4, 5)],  # chain of three
    "ij,jk": [(3, 4), (4, 5)],  # implicit output
    "i,j,k->ijk": [(2,), (3,), (2,)],
    "bij->bj": [(2, 3, 4)],
}


@pytest.mark.parametrize("equation", list(EINSUMS))
def test_einsum_forward_and_gradient(equation):
    shapes = EINSUMS[equation]
    values = [torch.randn(s, dtype=torch.float64) for s in shapes]
    leaves = [v.clone().requires_grad_() for v in values]
    expected = torch.einsum(equation, *leaves)
    upstream = torch.randn(tuple(expected.shape), dtype=torch.float64)
    expected.backward(upstream)
    mine = [from_torch(v, requires_grad=True) for v in values]
    got = tritongrad.einsum(equation, *mine)
    got.backward(from_torch(upstream))
    assert_close(got, expected.detach(), what=f"einsum {equation}")
    for i, (leaf, want) in enumerate(zip(mine, leaves)):
        assert_close(leaf.grad, want.grad, what=f"einsum {equation} grad of operand {i}")


def test_einsum_float32_and_list_operands():
    a, b = torch.randn(3, 4), torch.randn(4, 2)
    assert_close(tritongrad.einsum("ij,jk->ik", [from_torch(a), from_torch(b)]), torch.einsum("ij,jk->ik", a, b))


@pytest.mark.parametrize("equation, shapes", [("ij,jk->ik", [(3, 4)]), ("ijk->ij", [(3, 4)]), ("ij->k", [(3, 4)])])
def test_einsum_errors(equation, shapes):
    with pytest.raises(RuntimeError):
        tritongrad.einsum(equation, *[from_torch(torch.randn(s)) for s in shapes])


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_and_cartesian_prod(indexing):
    a, b, c = torch.arange(3), torch.arange(4) * 10, torch.arange(2) * 100
    got = tritongrad.meshgrid(from_torch(a), from_torch(b), from_torch(c), indexing=indexing)
    expected = torch.meshgrid(a, b, c, indexing=indexing)
    for g, e in zip(got, expected):
        assert_close(g, e, what=f"meshgrid {indexing}")
    assert_close(tritongrad.cartesian_prod(from_torch(a), from_torch(b)), torch.cartesian_prod(a, b))
    with pytest.warns(UserWarning, match="indexing"):
        tritongrad.meshgrid(from_torch(a), from_torch(b))


def test_broadcast_tensors_and_shapes():
    a, b = torch.randn(3, 1), torch.randn(1, 4)
    got = tritongrad.broadcast_tensors(from_torch(a), from_torch(b))
    for g, e in zip(got, torch.broadcast_tensors(a, b)):
        assert_close(g, e)
    assert tritongrad.broadcast_shapes((3, 1), (4,), 1) == torch.broadcast_shapes((3, 1), (4,), 1)
    with pytest.raises(RuntimeError):
        tritongrad.broadcast_tensors(from_torch(torch.randn(3)), from_torch(torch.randn(4)))


def test_atleast_nd():
    for x in (torch.tensor(2.0), torch.randn(3), torch.randn(2, 3), torch.randn(2, 3, 4)):
        for name in ("atleast_1d", "atleast_2d", "atleast_3d"):
            got, expected = getattr(tritongrad, name)(from_torch(x)), getattr(torch, name)(x)
            assert_close(got, expected, what=f"{name} of {tuple(x.shape)}")
    got = tritongrad.atleast_2d(from_torch(torch.randn(3)), from_torch(torch.tensor(1.0)))
    assert [tuple(g.shape) for g in got] == [(1, 3), (1, 1)]


def test_squeeze_with_tuple_dims():
    x = torch.randn(1, 3, 1, 2)
    assert_close(tritongrad.squeeze(from_torch(x), (0, 2)), torch.squeeze(x, (0, 2)))
    assert_close(from_torch(x).squeeze((0, -1)), x.squeeze((0, -1)))


# ----------------------------------------------------------------------------------- errors


def test_narrow_past_the_end_raises():
    x = from_torch(torch.randn(3, 4))
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        x.narrow(1, 2, 3)
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        tritongrad.narrow(x, 0, 0, 4)
    with pytest.raises(IndexError, match="start out of range"):
        x.narrow(1, 5, 0)
    with pytest.raises(RuntimeError, match="non-negative"):
        x.narrow(1, 0, -1)
    with pytest.raises(RuntimeError, match="0-dim"):
        from_torch(torch.tensor(1.0)).narrow(0, 0, 1)
    assert tuple(x.narrow(1, 4, 0).shape) == (3, 0)


@pytest.mark.parametrize("args", [(1, 1.0, 2), (1, 1, 2.0), (1.0, 1, 2)])
def test_narrow_refuses_float_arguments_like_torch(args):
    x = torch.randn(3, 4)
    with pytest.raises(TypeError):
        x.narrow(*args)
    with pytest.raises(TypeError, match="narrow"):
        from_torch(x).narrow(*args)
    assert tuple(from_torch(x).narrow(1, np.int64(1), 2).shape) == tuple(x.narrow(1, 1, 2).shape)


def test_shape_op_errors_match_torch_types():
    x = from_torch(torch.randn(3, 4))
    cases = [
        (RuntimeError, lambda: tritongrad.flip(x, (0, 0))),
        (IndexError, lambda: tritongrad.flip(x, (2,))),
        (RuntimeError, lambda: tritongrad.tril(from_torch(torch.randn(3)))),
        (RuntimeError, lambda: x.repeat(2)),
        (RuntimeError, lambda: tritongrad.roll(x, (1, 2), (0,))),
        (RuntimeError, lambda: tritongrad.diagonal(x, 0, 1, 1)),
        (RuntimeError, lambda: tritongrad.diag(from_torch(torch.randn(2, 2, 2)))),
        (RuntimeError, lambda: tritongrad.trace(from_torch(torch.randn(3)))),
        (RuntimeError, lambda: tritongrad.fliplr(from_torch(torch.randn(3)))),
        (RuntimeError, lambda: tritongrad.movedim(x, (0, 1), (0,))),
        (RuntimeError, lambda: tritongrad.meshgrid(from_torch(torch.arange(3)), indexing="yx")),
        (RuntimeError, lambda: tritongrad.repeat_interleave(x, from_torch(torch.tensor([1, 2])), dim=0)),
    ]
    for error, call in cases:
        with pytest.raises(error):
            call()


# ----------------------------------------------------------------------------------- gradients

GRADS = {
    "flip": (lambda x, lib: lib.flip(x, (0, 1)), "FlipBackward0"),
    "roll": (lambda x, lib: lib.roll(x, (1, -2), (0, 1)), "RollBackward0"),
    "tril": (lambda x, lib: lib.tril(x, 1), "TrilBackward0"),
    "triu": (lambda x, lib: x.triu(-1), "TriuBackward0"),
    "repeat": (lambda x, lib: x.repeat(2, 1, 3), "RepeatBackward0"),
    "tile": (lambda x, lib: lib.tile(x, (2, 2)), "RepeatBackward0"),
    "repeat_interleave": (lambda x, lib: x.repeat_interleave(2, dim=0), None),
    "diagonal": (lambda x, lib: lib.diagonal(x, 1), "DiagonalBackward0"),
    "diag_embed": (lambda x, lib: lib.diag_embed(x, -1), "DiagEmbedBackward0"),
    "diag_vector": (lambda x, lib: lib.diag(x[1], 1), "DiagEmbedBackward0"),
    "diag_matrix": (lambda x, lib: lib.diag(x), None),
    "trace": (lambda x, lib: lib.trace(x), "TraceBackward0"),
    "movedim": (lambda x, lib: lib.movedim(x, 1, 0) * 1, None),
    "narrow": (lambda x, lib: x.narrow(1, 1, 3) * 1, None),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", list(GRADS))
def test_gradients(name, dtype):
    fn, node = GRADS[name]
    values = random_values((4, 5), dtype)
    leaf = values.double().requires_grad_()
    expected = fn(leaf, torch)
    upstream = torch.randn(tuple(expected.shape), dtype=torch.float64)
    expected.backward(upstream)
    mine = from_torch(values, requires_grad=True)
    got = fn(mine, tritongrad)
    if node:
        assert got.grad_fn.name() == node
    got.backward(from_torch(upstream.to(dtype)))
    assert_close(got, expected.detach().to(dtype), what=f"{name} forward")
    assert_close(mine.grad, leaf.grad.to(dtype), what=f"{name} grad")


@pytest.mark.parametrize("name", ["flip", "roll", "tril", "repeat", "diagonal", "diag_embed", "trace"])
def test_gradcheck_float64(name):
    x = from_torch(torch.randn(3, 4, dtype=torch.float64), requires_grad=True)
    assert gradcheck(lambda t: GRADS[name][0](t, tritongrad), (x,))


def test_diagonal_second_derivative():
    values = torch.randn(3, 3, dtype=torch.float64)
    x = from_torch(values, requires_grad=True)
    (first,) = tritongrad.autograd.grad((x.diagonal() ** 3).sum(), x, create_graph=True)
    (second,) = tritongrad.autograd.grad(first.sum(), x)
    t = values.clone().requires_grad_()
    (want_first,) = torch.autograd.grad((t.diagonal() ** 3).sum(), t, create_graph=True)
    (want_second,) = torch.autograd.grad(want_first.sum(), t)
    assert_close(second, want_second)


# ------------------------------------------------------------------------------------------------
# tensor_split and the in-place triangles
# ------------------------------------------------------------------------------------------------
SPLITS = {
    "sections_uneven": (3, 0),  # 7 rows into 3: sizes 3, 2, 2
    "sections_more_than_rows": (9, 0),  # trailing empty pieces
    "indices": ([1, 5], 0),
    "indices_decreasing": ([5, 1], 0),  # an empty middle piece
    "indices_negative_and_past_end": ([-2, 9], 0),
    "no_indices": ([], 0),
    "dim_1": ((1, 2), 1),
    "tensor_sections": ("tensor", 0),  # a 0-d int64 tensor: sections
    "tensor_indices": ("tensor1d", -1),  # a 1-D int64 tensor: indices
}


@pytest.mark.parametrize("case", list(SPLITS))
def test_tensor_split_matches_torch(case):
    argument, dim = SPLITS[case]
    values = random_values((7, 3), torch.float64)
    for layout in ("contiguous", "transposed"):
        base = values if layout == "contiguous" else values.T.contiguous().T
        leaf = base.clone().requires_grad_()
        mine = from_torch(base, requires_grad=True)
        want_arg = (
            {"tensor": torch.tensor(2), "tensor1d": torch.tensor([2])}.get(argument, argument)
            if isinstance(argument, str)
            else argument
        )
        got_arg = from_torch(want_arg) if isinstance(want_arg, torch.Tensor) else want_arg
        want, got = torch.tensor_split(leaf, want_arg, dim), mine.tensor_split(got_arg, dim)
        assert isinstance(got, tuple) and len(got) == len(want), f"{case}: {len(got)} pieces, torch {len(want)}"
        for index, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, what=f"{case} {layout} piece {index}")
            assert g.grad_fn.name() == w.grad_fn.name()
        weights = [torch.randn(w.shape, dtype=torch.float64) for w in want]
        sum((w * u).sum() for w, u in zip(want, weights)).backward()
        sum((g * from_torch(u)).sum() for g, u in zip(got, weights)).backward()
        assert_close(mine.grad, leaf.grad, what=f"{case} {layout} grad")


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.tensor_split(x, 0),
        lambda lib, x: lib.tensor_split(x, lib.tensor([1.0])),
        lambda lib, x: lib.tensor_split(x, lib.tensor([[1]])),
        lambda lib, x: lib.tensor_split(x[0, 0], 2),
        lambda lib, x: lib.tensor_split(x, 2, 2),
        lambda lib, x: lib.tensor_split(x, 2.0),
    ],
)
def test_tensor_split_errors_match_torch(call):
    values = random_values((4, 3), torch.float32)
    with pytest.raises(Exception) as want:
        call(torch, values)
    with pytest.raises(type(want.value)) as got:
        call(tritongrad, from_torch(values))
    if not isinstance(want.value, TypeError):  # (torch's TypeError lists its overloads)
        assert str(got.value) == str(want.value)


@pytest.mark.parametrize("op, diagonal, shape", [("tril_", 0, (4, 5)), ("triu_", 1, (2, 3, 4)), ("triu_", -7, (5, 2))])
def test_triangles_in_place(op, diagonal, shape):
    values = random_values(shape, torch.float64)
    leaf, mine = values.clone().requires_grad_(), from_torch(values, requires_grad=True)
    want = getattr(leaf * 2, op)(diagonal)
    got = getattr(mine * 2, op)(diagonal)
    assert_close(got, want)
    assert got.grad_fn.name() == want.grad_fn.name()
    upstream = torch.randn(shape, dtype=torch.float64)
    want.backward(upstream)
    got.backward(from_torch(upstream))
    assert_close(mine.grad, leaf.grad)
    plain = from_torch(values.mT.contiguous().mT)  # strided, nothing recorded: written straight in
    assert getattr(plain, op)(diagonal) is plain
    assert_close(plain, getattr(values.clone(), op)(diagonal))
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        getattr(mine, op)(diagonal)
