"""Layout ops (tritongrad/ops/layout.py) against torch: select, ravel, h/v/dsplit, rot90,
split_with_sizes, narrow_copy, diagflat, block_diag, kron, tensordot, tril/triu_indices,
combinations — values, dtypes, shapes, whether the result shares the input's memory (as torch's
does), strided inputs, edge shapes, gradients (float32 and float64) and errors.
"""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, random_values

LAYOUTS = {
    "contiguous": lambda t: t,
    # last two dims swapped (strides (1, n))
    "transposed": lambda t: t.transpose(-1, -2).contiguous().transpose(-1, -2) if t.dim() >= 2 else t,
    # every other element of a longer last dim, with a storage offset
    "stepped": lambda t: torch.stack([t, t + 1], -1).select(-1, 0) if t.dim() else t,
}


def _inputs(shapes, dtype, layout="contiguous"):
    """Random torch inputs (never all zeros) laid out per ``layout``, and tritongrad copies."""
    expected = [LAYOUTS[layout](random_values(shape, dtype)) for shape in shapes]
    if layout != "contiguous":
        assert any(not t.is_contiguous() for t in expected if t.dim() >= 1 and t.numel() > 1)
    return expected, [from_torch(t) for t in expected]


def _outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _storage(t) -> int:
    data = t._data if isinstance(t, tritongrad.Tensor) else t
    return data.untyped_storage().data_ptr()


def _check_forward(fn, expected_in, got_in, what: str):
    expected = _outputs(fn(torch, *expected_in))
    got = _outputs(fn(tritongrad, *got_in))
    assert len(got) == len(expected), f"{what}: {len(got)} outputs, torch {len(expected)}"
    for number, (g, e) in enumerate(zip(got, expected)):
        assert isinstance(g, tritongrad.Tensor), f"{what}[{number}]: got {type(g).__name__}"
        assert_close(g, e, what=f"{what}[{number}]")
        if e.numel():  # a view when torch's is one (empty tensors share no storage to speak of)
            torch_view = any(_storage(e) == _storage(x) for x in expected_in)
            our_view = any(_storage(g) == _storage(x) for x in got_in)
            assert our_view == torch_view, f"{what}[{number}]: view {our_view}, torch's view {torch_view}"
            if e.dim() and e.is_contiguous():
                assert g.is_contiguous(), f"{what}[{number}]: torch's result is contiguous, ours {g.stride()}"


def _dense(lib, *tensors):
    """torch's kron fails on a transposed operand when the ranks differ (its _unsafe_view: "view size is
    not compatible ..."): torch is given contiguous copies there, tritongrad the strided inputs."""
    return [t.contiguous() for t in tensors] if lib is torch else list(tensors)


# name: (function of (lib, *inputs), input shapes, differentiable)
CASES = {
    "select": (lambda L, x: L.select(x, 1, -2), [(3, 5)], True),
    "select_3d_last": (lambda L, x: L.select(x, -1, 0), [(2, 3, 4)], True),
    "ravel": (lambda L, x: L.ravel(x), [(3, 5)], True),
    "ravel_method_3d": (lambda L, x: x.ravel(), [(2, 3, 4)], True),
    "hsplit_sections": (lambda L, x: L.hsplit(x, 3), [(4, 6)], True),
    "hsplit_1d_indices": (lambda L, x: L.hsplit(x, [2, 5]), [(7,)], True),
    "hsplit_method_past_end": (lambda L, x: x.hsplit([1, 9]), [(3, 6)], True),
    "vsplit_sections": (lambda L, x: L.vsplit(x, 2), [(4, 3)], True),
    "vsplit_method_indices": (lambda L, x: x.vsplit((3,)), [(5, 2)], True),
    "dsplit_sections": (lambda L, x: L.dsplit(x, 2), [(2, 3, 4)], True),
    "dsplit_method_indices": (lambda L, x: x.dsplit([1, 1, 3]), [(2, 3, 5)], True),
    "rot90_default": (lambda L, x: L.rot90(x), [(3, 5)], True),
    "rot90_k2": (lambda L, x: L.rot90(x, 2), [(3, 5)], True),
    "rot90_k3_reversed_dims": (lambda L, x: L.rot90(x, 3, [1, 0]), [(3, 5)], True),
    "rot90_k_negative_3d": (lambda L, x: L.rot90(x, -1, (-1, 0)), [(2, 3, 4)], True),
    "rot90_k0": (lambda L, x: x.rot90(0), [(3, 5)], True),
    "rot90_k5_method": (lambda L, x: x.rot90(5, (1, 2)), [(2, 3, 4)], True),
    "split_with_sizes": (lambda L, x: L.split_with_sizes(x, [2, 0, 3], 1), [(3, 5)], True),
    "split_with_sizes_method": (lambda L, x: x.split_with_sizes((1, 2)), [(3, 4)], True),
    "narrow_copy": (lambda L, x: L.narrow_copy(x, 1, -3, 2), [(3, 5)], True),
    "narrow_copy_method": (lambda L, x: x.narrow_copy(0, 1, 2), [(3, 4)], True),
    "diagflat": (lambda L, x: L.diagflat(x), [(2, 3)], True),
    "diagflat_negative": (lambda L, x: x.diagflat(-2), [(5,)], True),
    "diagflat_positive": (lambda L, x: L.diagflat(x, 3), [(2, 2)], True),
    "block_diag": (lambda L, a, b, c: L.block_diag(a, b, c), [(2, 3), (4,), (3, 1)], True),
    "block_diag_one": (lambda L, a: L.block_diag(a), [(2, 3)], True),
    "kron": (lambda L, a, b: L.kron(a, b), [(2, 3), (3, 2)], True),
    "kron_ranks_differ": (lambda L, a, b: L.kron(*_dense(L, a, b)), [(3,), (2, 3, 2)], True),
    "kron_method": (lambda L, a, b: _dense(L, a)[0].kron(_dense(L, b)[0]), [(2, 2), (5,)], True),
    "tensordot_2": (lambda L, a, b: L.tensordot(a, b), [(3, 4, 5), (4, 5, 2)], True),
    "tensordot_lists": (lambda L, a, b: L.tensordot(a, b, ([0, 2], [1, 0])), [(3, 4, 5), (5, 3, 2)], True),
    "tensordot_outer": (lambda L, a, b: L.tensordot(a, b, 0), [(2, 3), (3,)], True),
    "tensordot_tensor_dims": (
        lambda L, a, b: L.tensordot(a, b, L.tensor([[1], [0]])), [(2, 3), (3, 4)], True),
    "tensordot_broadcast_dim": (lambda L, a, b: L.tensordot(a, b, ([1], [0])), [(3, 4), (1, 5)], True),
    "combinations": (lambda L, x: L.combinations(x), [(5,)], True),
    "combinations_3_replacement": (lambda L, x: L.combinations(x, 3, True), [(4,)], True),
    "combinations_1": (lambda L, x: L.combinations(x, r=1), [(3,)], True),
}  # fmt: skip


@pytest.mark.parametrize(
    "name,layout",
    [
        (name, layout)
        for name, (_, shapes, _) in CASES.items()
        for layout in LAYOUTS
        if layout != "transposed" or any(len(shape) >= 2 for shape in shapes)  # (1-D inputs have no transpose)
    ],
)
def test_forward_layouts(name, layout):
    fn, shapes, _ = CASES[name]
    expected_in, got_in = _inputs(shapes, torch.float32, layout)
    _check_forward(fn, expected_in, got_in, f"{name} {layout}")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case[2]])
def test_gradients(name, dtype):
    fn, shapes, _ = CASES[name]
    expected_in, got_in = _inputs(shapes, dtype, "stepped" if name.startswith("kron") else "contiguous")
    expected_in = [t.detach().requires_grad_(True) for t in expected_in]
    for t in got_in:
        t.requires_grad_(True)
    expected_out, got_out = _outputs(fn(torch, *expected_in)), _outputs(fn(tritongrad, *got_in))
    weights = [random_values(tuple(e.shape), dtype) for e in expected_out]
    expected_loss = sum((e * w).sum() for e, w in zip(expected_out, weights))
    got_loss = None
    for g, w in zip(got_out, weights):
        term = (g * from_torch(w)).sum()
        got_loss = term if got_loss is None else got_loss + term
    expected_loss.backward()
    got_loss.backward()
    for number, (g, e) in enumerate(zip(got_in, expected_in)):
        assert g.grad is not None, f"{name}: input {number} got no gradient"
        assert_close(g.grad, e.grad, kind="autograd", what=f"{name} grad of input {number}")


# Integer and bool inputs: exact values, torch's dtypes (block_diag promotes, kron multiplies).
DTYPE_CASES = {
    "rot90_int64": (lambda L, x: L.rot90(x, 1, (1, 0)), [((3, 4), torch.int64)]),
    "rot90_bool": (lambda L, x: L.rot90(x, 2), [((3, 4), torch.bool)]),
    "hsplit_int32": (lambda L, x: L.hsplit(x, 2), [((3, 4), torch.int32)]),
    "narrow_copy_bool": (lambda L, x: L.narrow_copy(x, 0, 1, 2), [((3, 4), torch.bool)]),
    "diagflat_int32": (lambda L, x: L.diagflat(x, 1), [((2, 2), torch.int32)]),
    "ravel_int64": (lambda L, x: L.ravel(x), [((2, 3), torch.int64)]),
    "select_bool": (lambda L, x: L.select(x, 0, 2), [((3, 4), torch.bool)]),
    "split_with_sizes_int64": (lambda L, x: L.split_with_sizes(x, [1, 3], -1), [((3, 4), torch.int64)]),
    "kron_int64": (lambda L, a, b: L.kron(a, b), [((2, 3), torch.int64), ((3,), torch.int64)]),
    "kron_int_float": (lambda L, a, b: L.kron(a, b), [((2,), torch.int32), ((3,), torch.float64)]),
    "kron_scalars": (lambda L, a, b: L.kron(a, b), [((), torch.float32), ((), torch.float32)]),
    "tensordot_int32": (lambda L, a, b: L.tensordot(a, b, 1), [((3, 4), torch.int32), ((4, 2), torch.int32)]),
    "tensordot_float64": (lambda L, a, b: L.tensordot(a, b, 1), [((3, 4), torch.float64), ((4,), torch.float64)]),
    "block_diag_promotes": (
        lambda L, a, b, c: L.block_diag(a, b, c),
        [((), torch.float32), ((2,), torch.int32), ((2, 3), torch.float64)]),
    "block_diag_zero_dim_lower_priority": (
        lambda L, a, b: L.block_diag(a, b), [((), torch.float64), ((2,), torch.float32)]),
    "block_diag_int_uint8": (lambda L, a, b: L.block_diag(a, b), [((2,), torch.int32), ((1, 2), torch.uint8)]),
    "block_diag_bool": (lambda L, a, b: L.block_diag(a, b), [((2, 2), torch.bool), ((1,), torch.bool)]),
    "combinations_bool": (lambda L, x: L.combinations(x, 2), [((4,), torch.bool)]),
    "combinations_int64": (lambda L, x: L.combinations(x, 2, with_replacement=True), [((3,), torch.int64)]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(DTYPE_CASES))
def test_dtypes(name):
    fn, specs = DTYPE_CASES[name]
    expected_in = [random_values(shape, dtype, low=1 if dtype == torch.uint8 else -3) for shape, dtype in specs]
    _check_forward(fn, expected_in, [from_torch(t) for t in expected_in], name)


# Edge shapes: empty, single-element and prime-sized dims.
EDGE_CASES = {
    "select_size_1": (lambda L, x: L.select(x, 0, 0), [(1, 7)]),
    "ravel_empty": (lambda L, x: L.ravel(x), [(0, 3)]),
    "ravel_0d": (lambda L, x: L.ravel(x), [()]),
    "ravel_size_1_column": (lambda L, x: L.ravel(x[:, :1]), [(5, 3)]),
    "ravel_expanded": (lambda L, x: L.ravel(x.expand(3, 5)), [(1, 5)]),
    "hsplit_empty": (lambda L, x: L.hsplit(x, 3), [(0, 6)]),
    "hsplit_prime": (lambda L, x: L.hsplit(x, 7), [(7,)]),
    "hsplit_zero_width": (lambda L, x: L.hsplit(x, 2), [(3, 0)]),
    "hsplit_no_indices": (lambda L, x: L.hsplit(x, []), [(3, 5)]),
    "vsplit_single_row": (lambda L, x: L.vsplit(x, 1), [(1, 5)]),
    "dsplit_negative_indices": (lambda L, x: L.dsplit(x, [-2]), [(2, 1, 5)]),
    "rot90_row": (lambda L, x: L.rot90(x), [(1, 7)]),
    "rot90_empty": (lambda L, x: L.rot90(x, 3), [(0, 3)]),
    "split_with_sizes_empty": (lambda L, x: L.split_with_sizes(x, [0, 0]), [(0, 3)]),
    "split_with_sizes_prime": (lambda L, x: L.split_with_sizes(x, [7]), [(7,)]),
    "narrow_copy_zero_length_at_end": (lambda L, x: L.narrow_copy(x, 0, 4, 0), [(4, 3)]),
    "narrow_copy_transposed": (lambda L, x: L.narrow_copy(x.t(), 0, 1, 2), [(5, 3)]),
    "diagflat_empty": (lambda L, x: L.diagflat(x), [(0,)]),
    "diagflat_0d": (lambda L, x: L.diagflat(x, -1), [()]),
    "block_diag_empty_blocks": (lambda L, a, b, c: L.block_diag(a, b, c), [(0, 3), (2, 0), (0,)]),
    "kron_empty": (lambda L, a, b: L.kron(a, b), [(0, 3), (2, 2)]),
    "kron_primes": (lambda L, a, b: L.kron(a, b), [(1, 7), (5, 1)]),
    "tensordot_empty_contraction": (lambda L, a, b: L.tensordot(a, b, 1), [(3, 0), (0, 5)]),
    "tensordot_both_size_1": (lambda L, a, b: L.tensordot(a, b, ([0], [1])), [(1, 2), (3, 1)]),
    "tensordot_0d": (lambda L, a, b: L.tensordot(a, b, 0), [(), (3,)]),
    "tensordot_0d_both": (lambda L, a, b: L.tensordot(a, b, 0), [(), ()]),
    "tensordot_no_dims": (lambda L, a, b: L.tensordot(a, b, ([], [])), [(2,), (3,)]),
    "tensordot_all_dims": (lambda L, a, b: L.tensordot(a, b, 2), [(2, 3), (2, 3)]),
    "combinations_empty": (lambda L, x: L.combinations(x), [(0,)]),
    "combinations_r0": (lambda L, x: L.combinations(x, 0), [(4,)]),
    "combinations_r_above_n": (lambda L, x: L.combinations(x, 4), [(3,)]),
    "combinations_single": (lambda L, x: L.combinations(x, 2, True), [(1,)]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_shapes(name):
    fn, shapes = EDGE_CASES[name]
    expected_in, got_in = _inputs(shapes, torch.float32)
    _check_forward(fn, expected_in, got_in, name)


def test_block_diag_no_tensors():
    got, expected = tritongrad.block_diag(), torch.block_diag()
    assert_close(got, expected)


def test_views_write_through():
    """The view results are views of the input: a write through them is seen by the input."""
    x = tritongrad.zeros(4, 6)
    tritongrad.select(x, 1, 2).fill_(1.0)
    tritongrad.hsplit(x, 3)[2].fill_(2.0)
    x.vsplit([3])[1].fill_(3.0)
    tritongrad.split_with_sizes(x, [1, 5], 1)[0].fill_(4.0)
    tritongrad.ravel(x)[0].fill_(5.0)
    expected = torch.zeros(4, 6)
    expected[:, 2] = 1.0
    expected[:, 4:] = 2.0
    expected[3:] = 3.0
    expected[:, :1] = 4.0
    expected.view(-1)[0] = 5.0
    assert_close(x, expected)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32], ids=str)
@pytest.mark.parametrize(
    "row,col,offset", [(4, 5, 0), (5, 3, -1), (3, 7, 2), (4, 4, -10), (3, 4, 10), (0, 0, 0), (1, 1, 0), (0, 3, 1)]
)
def test_triangle_indices(row, col, offset, dtype):
    for name in ("tril_indices", "triu_indices"):
        got = getattr(tritongrad, name)(row, col, offset, dtype=dtype)
        assert_close(got, getattr(torch, name)(row, col, offset, dtype=dtype), what=f"{name}({row}, {col}, {offset})")


def test_triangle_indices_defaults():
    assert_close(tritongrad.tril_indices(3, 3), torch.tril_indices(3, 3))
    assert_close(tritongrad.triu_indices(row=4, col=2, offset=-1), torch.triu_indices(row=4, col=2, offset=-1))


def test_tensordot_out():
    a, b = random_values((3, 4), torch.float32), random_values((4, 2), torch.float32)
    out = tritongrad.empty(3, 2)
    result = tritongrad.tensordot(from_torch(a), from_torch(b), 1, out=out)
    assert result is out
    assert_close(out, torch.tensordot(a, b, 1))


FUNCTIONS = ("select", "ravel", "hsplit", "vsplit", "dsplit", "rot90", "split_with_sizes", "narrow_copy", "diagflat",
             "block_diag", "kron", "tensordot", "tril_indices", "triu_indices", "combinations")  # fmt: skip
METHODS = ("ravel", "hsplit", "vsplit", "dsplit", "rot90", "split_with_sizes", "narrow_copy", "diagflat", "kron",
           "select")  # fmt: skip


def test_names():
    for name in FUNCTIONS:
        assert callable(getattr(tritongrad, name)), name
    for name in METHODS:
        assert callable(getattr(tritongrad.Tensor, name)), name


def _t(shape, dtype=torch.float32):
    return lambda L: L.ones(shape, dtype=dtype)


# name: function of lib (torch or tritongrad) that must raise as torch does
ERRORS = {
    "select_0d": lambda L: L.select(_t(())(L), 0, 0),
    "select_bad_dim": lambda L: L.select(_t((4, 6))(L), 2, 0),
    "select_index_past_end": lambda L: L.select(_t((4, 6))(L), 0, 4),
    "select_index_before_start": lambda L: L.select(_t((4, 6))(L), 0, -5),
    "select_float_index": lambda L: L.select(_t((4, 6))(L), 0, 1.0),
    "hsplit_0d": lambda L: L.hsplit(_t(())(L), 2),
    "hsplit_not_divisible": lambda L: L.hsplit(_t((4, 6))(L), 4),
    "hsplit_zero_sections": lambda L: L.hsplit(_t((4, 6))(L), 0),
    "hsplit_negative_sections": lambda L: L.hsplit(_t((4, 6))(L), -1),
    "hsplit_1d_not_divisible": lambda L: L.hsplit(_t((5,))(L), 2),
    "hsplit_float": lambda L: L.hsplit(_t((4, 6))(L), 2.0),
    "hsplit_bool": lambda L: L.hsplit(_t((4, 6))(L), True),
    "hsplit_tensor": lambda L: L.hsplit(_t((4, 6))(L), L.tensor([1, 2])),
    "vsplit_1d": lambda L: L.vsplit(_t((5,))(L), 5),
    "vsplit_not_divisible": lambda L: _t((4, 6))(L).vsplit(3),
    "dsplit_2d": lambda L: L.dsplit(_t((4, 6))(L), 2),
    "dsplit_not_divisible": lambda L: L.dsplit(_t((2, 3, 5))(L), 2),
    "rot90_one_dim": lambda L: L.rot90(_t((4, 6))(L), 1, (0,)),
    "rot90_three_dims": lambda L: L.rot90(_t((4, 6))(L), 1, (0, 1, 1)),
    "rot90_1d": lambda L: L.rot90(_t((3,))(L)),
    "rot90_same_dims": lambda L: L.rot90(_t((4, 6))(L), 1, (1, 1)),
    "rot90_same_dims_wrapped": lambda L: L.rot90(_t((4, 6))(L), 1, (0, -2)),
    "rot90_dim_out_of_range": lambda L: L.rot90(_t((4, 6))(L), 1, (0, 2)),
    "rot90_float_k": lambda L: L.rot90(_t((4, 6))(L), 1.5),
    "rot90_int_dims": lambda L: L.rot90(_t((4, 6))(L), 1, 0),
    "split_with_sizes_int": lambda L: L.split_with_sizes(_t((4, 6))(L), 2),
    "split_with_sizes_wrong_sum": lambda L: L.split_with_sizes(_t((4, 6))(L), [1, 2]),
    "split_with_sizes_negative": lambda L: L.split_with_sizes(_t((4, 6))(L), [1, -1, 4]),
    "split_with_sizes_float_entry": lambda L: L.split_with_sizes(_t((4, 6))(L), [1.0, 3]),
    "split_with_sizes_0d": lambda L: L.split_with_sizes(_t(())(L), [1]),
    "narrow_copy_0d": lambda L: L.narrow_copy(_t(())(L), 0, 0, 1),
    "narrow_copy_dim_past_end": lambda L: L.narrow_copy(_t((4, 6))(L), 2, 0, 1),
    "narrow_copy_dim_before_start": lambda L: L.narrow_copy(_t((4, 6))(L), -3, 0, 1),
    "narrow_copy_start_out_of_range": lambda L: L.narrow_copy(_t((4, 6))(L), 0, 5, 0),
    "narrow_copy_past_end": lambda L: L.narrow_copy(_t((4, 6))(L), 0, -1, 2),
    "narrow_copy_negative_length": lambda L: L.narrow_copy(_t((4, 6))(L), 0, 2, -1),
    "narrow_copy_float_start": lambda L: L.narrow_copy(_t((4, 6))(L), 0, 1.0, 1),
    "block_diag_3d": lambda L: L.block_diag(_t((2, 2))(L), _t((2, 2, 2))(L)),
    "block_diag_list": lambda L: L.block_diag([_t((2, 2))(L)]),
    "tensordot_negative": lambda L: L.tensordot(_t((4, 6))(L), _t((6, 4))(L), -1),
    "tensordot_too_many": lambda L: L.tensordot(_t((4, 6))(L), _t((6, 4))(L), 3),
    "tensordot_size_mismatch": lambda L: L.tensordot(_t((4, 6))(L), _t((4, 6))(L), 1),
    "tensordot_size_mismatch_lists": lambda L: L.tensordot(_t((4, 6))(L), _t((4, 6))(L), ([0], [1])),
    "tensordot_dtype_mismatch": lambda L: L.tensordot(_t((4, 6))(L), _t((6, 4), torch.float64)(L), 1),
    "tensordot_lengths_differ": lambda L: L.tensordot(_t((4, 6))(L), _t((4, 6))(L), ([0], [0, 1])),
    "tensordot_repeated_dim": lambda L: L.tensordot(_t((4, 4))(L), _t((4, 4))(L), [[1, 1], [0, 1]]),
    "tensordot_float_dims": lambda L: L.tensordot(_t((4, 6))(L), _t((6, 4))(L), 1.5),
    "tensordot_int_pair": lambda L: L.tensordot(_t((4, 6))(L), _t((6, 4))(L), (1, 0)),
    "tensordot_int_second": lambda L: L.tensordot(_t((4, 6))(L), _t((6, 4))(L), [[1], 0]),
    "tensordot_float_entry": lambda L: L.tensordot(_t((4, 6))(L), _t((6, 4))(L), [[1.0], [0]]),
    "tensordot_dim_out_of_range": lambda L: L.tensordot(_t((4, 6))(L), _t((6, 4))(L), ([1], [-3])),
    "tensordot_one_list": lambda L: L.tensordot(_t((4, 6))(L), _t((6, 4))(L), [[0, 1]]),
    "tensordot_tensor_three_rows": lambda L: L.tensordot(_t((4, 6))(L), _t((6, 4))(L), L.tensor([[1], [0], [0]])),
    "tensordot_tensor_negative": lambda L: L.tensordot(_t((4, 6))(L), _t((6, 4))(L), L.tensor(-1)),
    "tril_indices_negative_row": lambda L: L.tril_indices(-1, 3),
    "triu_indices_negative_col": lambda L: L.triu_indices(3, -1),
    "tril_indices_float_dtype": lambda L: L.tril_indices(3, 3, dtype=torch.float32),
    "triu_indices_bool_dtype": lambda L: L.triu_indices(3, 3, dtype=torch.bool),
    "tril_indices_int16_dtype": lambda L: L.tril_indices(3, 3, dtype=torch.int16),
    "tril_indices_float_row": lambda L: L.tril_indices(3.0, 3),
    "combinations_2d": lambda L: L.combinations(_t((4, 6))(L)),
    "combinations_0d": lambda L: L.combinations(_t(())(L)),
    "combinations_negative_r": lambda L: L.combinations(_t((4,))(L), -1),
}  # fmt: skip


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name):
    fn = ERRORS[name]
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(Exception) as got:
        fn(tritongrad)
    assert got.type is expected.type, f"{name}: {got.type.__name__}: {got.value}; torch: {expected.value}"
    head = str(expected.value).split("\n")[0]
    assert str(got.value).split("\n")[0] == head, f"{name}: {got.value!s}; torch: {head}"
