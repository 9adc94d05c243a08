"""The ninth red-team round's findings in torch's top-level spellings (tritongrad/namespace_aliases.py):
the ``*_scatter`` functions' exact-shape rule and checks, and ``addr``'s factor rules for integer and
bool operands, each compared with torch by ``agree`` (the value, or the exception type and message)."""

from __future__ import annotations

import pytest
import torch

from tests.test_hardening import agree

SCATTERS = {
    "slice_dim_out_of_range": lambda lib, x: lib.slice_scatter(x, lib.ones(1, 4), 2),
    "slice_negative_dim": lambda lib, x: lib.slice_scatter(x, lib.ones(3, 2), -1, 0, 4, 2),
    "slice_src_broadcast": lambda lib, x: lib.slice_scatter(x, lib.ones(4), 0, 0, 1),
    "slice_empty_slice": lambda lib, x: lib.slice_scatter(x, lib.ones(1, 4), 0, 2, 1),
    "slice_step_zero": lambda lib, x: lib.slice_scatter(x, lib.ones(1, 4), 0, 0, 1, 0),
    "slice_step_negative": lambda lib, x: lib.slice_scatter(x, lib.ones(1, 4), 0, 0, 1, -1),
    "slice_0d": lambda lib, x: lib.slice_scatter(lib.tensor(0.0), lib.tensor(1.0)),
    "slice_strided": lambda lib, x: lib.slice_scatter(x, lib.arange(6.0).reshape(3, 2), 1, 0, 4, 2),
    "select_0d_src": lambda lib, x: lib.select_scatter(x, lib.tensor(1.0), 0, 0),
    "select_extra_dim": lambda lib, x: lib.select_scatter(x, lib.ones(4, 1), 0, 0),
    "select_index_out_of_range": lambda lib, x: lib.select_scatter(x, lib.ones(4), 0, 5),
    "select_other_dtype": lambda lib, x: lib.select_scatter(x, lib.arange(4, dtype=lib.int64), 0, 1),
    "select_float64": lambda lib, x: lib.select_scatter(x, lib.arange(3, dtype=lib.float64), 1, -1),
    "diagonal_0d_src": lambda lib, x: lib.diagonal_scatter(x, lib.tensor(1.0), 2, 0, 1),
    "diagonal_wrong_length": lambda lib, x: lib.diagonal_scatter(x, lib.ones(2), 0, 0, 1),
    "diagonal_dim_out_of_range": lambda lib, x: lib.diagonal_scatter(x, lib.ones(3), 0, 0, 5),
    "diagonal_offset": lambda lib, x: lib.diagonal_scatter(x, lib.arange(2.0), 2),
}


@pytest.mark.parametrize("case", SCATTERS, ids=list(SCATTERS))
def test_scatter_functions_take_src_of_the_slice_shape_only(case):
    agree(case, lambda lib: SCATTERS[case](lib, lib.zeros(3, 4)), [])


ADDR = {
    "int_float_alpha": lambda lib: lib.addr(lib.tensor([[1]]), lib.tensor([1]), lib.tensor([1]), alpha=2.5),
    "int_float_beta": lambda lib: lib.addr(lib.tensor([[1]]), lib.tensor([1]), lib.tensor([1]), beta=2.5),
    "int_both_float": lambda lib: lib.addr(lib.tensor([[1]]), lib.tensor([1]), lib.tensor([1]), alpha=2.5, beta=1.5),
    "int_complex_alpha": lambda lib: lib.addr(lib.tensor([[1]]), lib.tensor([1]), lib.tensor([1]), alpha=1j),
    "int_factors": lambda lib: lib.addr(lib.tensor([[1]]), lib.tensor([2]), lib.tensor([3]), alpha=2, beta=3),
    "promoted_float_alpha": lambda lib: lib.addr(lib.tensor([[1]]), lib.tensor([1.0]), lib.tensor([1]), alpha=2.5),
    "float_complex_alpha": lambda lib: lib.addr(lib.tensor([[1.0]]), lib.tensor([1]), lib.tensor([1]), alpha=1j),
    "bool_int_alpha": lambda lib: lib.addr(lib.tensor([[True]]), lib.tensor([True]), lib.tensor([True]), alpha=2),
    "bool_beta_zero": lambda lib: lib.addr(
        lib.tensor([[False, True]]), lib.tensor([True]), lib.tensor([False, True]), alpha=2, beta=0
    ),
    "bool_alpha_zero": lambda lib: lib.addr(lib.tensor([[True]]), lib.tensor([True]), lib.tensor([False]), alpha=0),
    "bool_float_alpha": lambda lib: lib.addr(lib.tensor([[True]]), lib.tensor([True]), lib.tensor([True]), alpha=2.5),
    "bool_input_int_vectors": lambda lib: lib.addr(lib.tensor([[True]]), lib.tensor([2]), lib.tensor([2])),
    "uint8_bool_vectors": lambda lib: lib.addr(
        lib.tensor([[1]], dtype=lib.uint8), lib.tensor([True]), lib.tensor([True])
    ),
}


@pytest.mark.parametrize("case", ADDR, ids=list(ADDR))
def test_addr_factor_rules_and_dtypes(case):
    agree(case, ADDR[case], [])


UNIQUES = {
    "unique": lambda lib, x: lib.unique(x),
    "unique_inverse_counts": lambda lib, x: lib.unique(x, return_inverse=True, return_counts=True)[0],
    "unique_dim": lambda lib, x: lib.unique(x, dim=0),
    "unique_consecutive": lambda lib, x: lib.unique_consecutive(x),
    "unique_consecutive_dim": lambda lib, x: lib.unique_consecutive(x, dim=0, return_counts=True)[0],
    "method_unsorted": lambda lib, x: x.unique(sorted=False),
}


@pytest.mark.parametrize("case", UNIQUES, ids=list(UNIQUES))
def test_unique_values_record_a_node_whose_backward_refuses(case):
    def run(lib, x):
        values = UNIQUES[case](lib, x)
        assert values.requires_grad and values.grad_fn is not None
        name = type(values.grad_fn).__name__
        values.sum().backward()  # (torch: NotImplementedError naming the op's derivative)
        return name

    agree(case, run, [torch.tensor([1.0, 2.0, 2.0, 5.0], requires_grad=True)])


def test_unique_of_a_tensor_without_grad_stays_outside_the_graph():
    agree("no_grad_input", lambda lib, x: lib.unique(x).requires_grad, [torch.tensor([3.0, 1.0, 3.0])])
