"""The ninth red-team round's findings from real LLM-style scripts (Raschka's chapters, nanoGPT, minGPT):
attention with an explicit mask and is_causal, and broadcast errors naming torch's dimension, each
compared with torch by ``agree`` (the value, or the exception type and message)."""

from __future__ import annotations

import numpy
import pytest
import torch

from tests.test_hardening import agree


def _mask(lib, kind: str):
    rows = torch.Generator().manual_seed(3)
    keep = torch.rand(3, 5, generator=rows) > 0.3
    keep[:, 0] = True
    if kind == "bool":
        return lib.tensor(keep.tolist())
    return lib.tensor((torch.randn(3, 5, generator=rows) * keep).tolist())


def _attention(lib, q, k, v, mask_kind, dropout_p=0.0):
    return lib.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=_mask(lib, mask_kind), is_causal=True, dropout_p=dropout_p
    )


def _qkv(*shapes):
    generator = torch.Generator().manual_seed(7)
    return [torch.randn(shape, generator=generator) for shape in shapes]


@pytest.mark.parametrize("mask_kind", ["bool", "float"])
@pytest.mark.parametrize(
    "case",
    ["flash_4d", "float64", "three_dims", "two_dims", "dropout", "broadcast_key", "value_width"],
)
def test_attention_with_mask_and_is_causal_as_torchs_cpu_paths(case, mask_kind):
    shapes = {
        "three_dims": [(2, 3, 4), (2, 5, 4), (2, 5, 4)],
        "two_dims": [(3, 4), (5, 4), (5, 4)],
        "broadcast_key": [(1, 2, 3, 4), (1, 1, 5, 4), (1, 1, 5, 4)],
        "value_width": [(1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 6)],
    }.get(case, [(1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)])
    inputs = _qkv(*shapes)
    if case == "float64":
        inputs = [t.double() for t in inputs]
    dropout_p = 0.5 if case == "dropout" else 0.0
    agree(case, lambda lib, q, k, v: _attention(lib, q, k, v, mask_kind, dropout_p), inputs)


def test_attention_mask_requiring_grad_with_is_causal_is_refused():
    def run(lib, q, k, v):
        mask = _mask(lib, "float").requires_grad_()
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True)

    agree("mask_requires_grad", run, _qkv((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)))


BROADCASTS = {
    "2d": lambda lib: lib.ones(2, 2) + lib.ones(3, 3),
    "3d_last_dim": lambda lib: lib.ones(2, 3, 4) * lib.ones(5, 3, 6),
    "where": lambda lib: lib.where(lib.ones(3, 3).bool(), lib.ones(2, 2), 0.0),
    "broadcast_tensors": lambda lib: lib.broadcast_tensors(lib.ones(2, 2), lib.ones(3, 3)),
    "masked_fill_context_too_long": lambda lib: lib.ones(2, 4, 4).masked_fill_(lib.ones(5, 5).bool(), 0),
}


@pytest.mark.parametrize("case", BROADCASTS, ids=list(BROADCASTS))
def test_broadcast_error_names_the_last_mismatching_dimension(case):
    agree(case, BROADCASTS[case], [])


# torch.* functions given a Python number, list or array where a tensor goes (tensor_arguments.py): torch's
# TypeError, where tritongrad's code once failed with an AttributeError (Karpathy's ``cmp`` helper calls
# ``torch.all(dt == t.grad)``, which is ``torch.all(False)`` when the grad is None)
NON_TENSOR_CALLS = {
    "all_bool": lambda lib: lib.all(False),
    "sum_int": lambda lib: lib.sum(3),
    "sum_ndarray": lambda lib: lib.sum(__import__("numpy").ones(2)),
    "mean_list": lambda lib: lib.mean([1.0, 2.0]),
    "argmax_int": lambda lib: lib.argmax(3),
    "max_list": lambda lib: lib.max([1, 2]),
    "where_bool": lambda lib: lib.where(True, 1, 0),
    "clamp_int": lambda lib: lib.clamp(3, min=0),
    "std_float": lambda lib: lib.std(2.0),
    "sort_int": lambda lib: lib.sort(3),
    "unique_list": lambda lib: lib.unique([1, 2]),
    "tril_int": lambda lib: lib.tril(3),
    "meshgrid_int": lambda lib: lib.meshgrid(lib.ones(2), 3),
    "hstack_float_element": lambda lib: lib.hstack([lib.ones(1), 2.0]),
    "vstack_not_a_sequence": lambda lib: lib.vstack(3),
    "broadcast_tensors_int": lambda lib: lib.broadcast_tensors(lib.ones(1), 2),
    "chain_matmul_int": lambda lib: lib.chain_matmul(lib.ones(2, 2), 3),
    "sum_tensor_still_works": lambda lib: lib.sum(lib.arange(4.0), 0),
    "where_tensor_still_works": lambda lib: lib.where(lib.arange(3) > 0, 1.0, 0.0),
    "meshgrid_tensors_still_work": lambda lib: lib.meshgrid(lib.arange(2.0), lib.arange(3.0), indexing="ij")[1],
    "hstack_tensors_still_work": lambda lib: lib.hstack((lib.ones(1), lib.zeros(2))),
}


@pytest.mark.parametrize("case", NON_TENSOR_CALLS, ids=list(NON_TENSOR_CALLS))
def test_functions_refuse_non_tensors_with_torchs_type_error(case):
    # (the type only: torch's text depends on which of its overloads the arguments' count leaves, e.g.
    # where(True) names 'condition' and where(True, 1, 0) lists the overloads)
    agree(case, NON_TENSOR_CALLS[case], [], message=False)


# tensor(ndarray) keeps the array's memory order, as torch's copy does (Raschka's load_weights_into_gpt
# assigns torch.tensor(weights.T): a transposed parameter, whose products round as torch's do)
ARRAYS = {
    "transposed": lambda np: np.arange(12, dtype=np.float32).reshape(3, 4).T,
    "fortran": lambda np: np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    "permuted_3d": lambda np: np.arange(24, dtype=np.float32).reshape(2, 3, 4).transpose(2, 0, 1),
    "sliced_permuted": lambda np: np.arange(24, dtype=np.float32).reshape(2, 3, 4)[:, :, :2].transpose(1, 0, 2),
    "row_slices": lambda np: np.arange(12.0).reshape(3, 4)[::2],
    "broadcast": lambda np: np.broadcast_to(np.arange(3.0), (2, 3)),
    "size_one_dims": lambda np: np.ones((3, 1, 4)).transpose(2, 1, 0),
}


@pytest.mark.parametrize("case", ARRAYS, ids=list(ARRAYS))
@pytest.mark.parametrize("make", ["tensor", "tensor_float64", "as_tensor_float64", "asarray_copy"])
def test_tensor_from_ndarray_keeps_the_memory_order(case, make):

    def run(lib):
        array = ARRAYS[case](numpy)
        made = {
            "tensor": lambda: lib.tensor(array),
            "tensor_float64": lambda: lib.tensor(array, dtype=lib.float64),
            "as_tensor_float64": lambda: lib.as_tensor(array, dtype=lib.float64),
            "asarray_copy": lambda: lib.asarray(array, copy=True),
        }[make]()
        return made, made.stride(), made.is_contiguous()

    agree(f"{case}-{make}", run, [])


@pytest.mark.parametrize("dtype", [None, "float64", "python_float", "float32"])
def test_as_tensor_shares_an_array_that_needs_no_cast(dtype):
    def run(lib):
        array = numpy.arange(3.0)
        given = {None: None, "float64": lib.float64, "python_float": float, "float32": lib.float32}[dtype]
        made = lib.as_tensor(array, dtype=given)
        array[0] = 7.0  # (seen through a shared tensor only)
        return made

    agree(str(dtype), run, [])


# A Python number first: torch accepts it where it declares a (Number self, Tensor other) overload
# (add, sub, mul, div, remainder, pow, bitwise and shift ops, xlogy) and refuses it elsewhere
NUMBER_FIRST_OPS = ["add", "sub", "mul", "div", "floor_divide", "remainder", "fmod", "pow", "float_power", "atan2",
                    "maximum", "hypot", "copysign", "xlogy", "eq", "ne", "lt", "le", "gt", "ge", "greater",
                    "not_equal", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "rsub", "dist",
                    "logical_and"]  # fmt: skip


@pytest.mark.parametrize("first", [5, 2.5, "two_numbers"])
@pytest.mark.parametrize("op", NUMBER_FIRST_OPS)
def test_number_first_accepted_where_torch_declares_it(op, first):
    def run(lib):
        if first == "two_numbers":
            return getattr(lib, op)(5, 2)
        return getattr(lib, op)(first, lib.tensor([3, 4]))

    agree(f"{op}({first})", run, [], message=False)
