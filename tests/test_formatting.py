"""tritongrad.formatting against torch's own repr, character for character.

Each case builds a torch tensor, prints it with torch, and prints its host
values (``.tolist()``) with ``format_tensor``; the two strings must be equal.
"""

from __future__ import annotations

import math

import pytest
import torch

import tritongrad.dtypes
from tritongrad import formatting
from tritongrad.formatting import format_tensor

NAN, INF = math.nan, math.inf


def autograd_suffixes(tensor: torch.Tensor) -> list[str]:
    """The parts torch prints for autograd, which the caller of format_tensor supplies."""
    if tensor.grad_fn is not None:
        return [f"grad_fn=<{type(tensor.grad_fn).__name__}>"]
    if tensor.requires_grad:
        return ["requires_grad=True"]
    return []


def ours(tensor: torch.Tensor, **kwargs) -> str:
    values = tensor.detach().tolist()
    return format_tensor(
        values, tuple(tensor.shape), tensor.dtype, tensor.device, suffixes=autograd_suffixes(tensor), **kwargs
    )


def assert_same_repr(tensor: torch.Tensor) -> None:
    expected, got = repr(tensor), ours(tensor)
    assert got == expected, (
        f"shape={tuple(tensor.shape)} dtype={tensor.dtype}\n--- torch:\n{expected}\n--- tritongrad:\n{got}"
    )


# name -> a function building the tensor (called inside the test, after the seed is fixed).
CASES = {
    # the examples from torch's docs and tutorials
    "requires_grad": lambda: torch.tensor([1.0, 2.0], requires_grad=True),
    "0dim_grad_fn": lambda: torch.tensor(801.0, requires_grad=True).log(),
    "fixed_point_widths": lambda: torch.tensor([0.0, 6.4615, 12.923]),
    "sci_whole_numbers": lambda: torch.tensor([1.0, 64.0, 2187.0]),
    "bool_pair": lambda: torch.tensor([False, True]),
    "int32_dtype_suffix": lambda: torch.tensor([1, 2], dtype=torch.int32),
    "float64_dtype_suffix": lambda: torch.tensor([1.0], dtype=torch.float64),
    # empty tensors: size= for ndim != 1, dtype= for anything but the default float
    "empty_1d": lambda: torch.empty(0),
    "empty_2d": lambda: torch.empty(0, 3),
    "empty_int64": lambda: torch.empty(0, dtype=torch.int64),
    "empty_bool_3d": lambda: torch.empty(2, 0, 3, dtype=torch.bool),
    "empty_fp16": lambda: torch.empty(4, 0, dtype=torch.float16),
    # random floats of each rank
    "normal_1": lambda: torch.randn(1),
    "normal_5": lambda: torch.randn(5),
    "normal_3x4": lambda: torch.randn(3, 4),
    "normal_2x3x4": lambda: torch.randn(2, 3, 4),  # blank line between 2-D blocks
    "normal_2x2x2x3": lambda: torch.randn(2, 2, 2, 3),  # two blank lines between 3-D blocks
    "normal_1x1": lambda: torch.randn(1, 1),
    "uniform_7": lambda: torch.rand(7),
    "normal_30_wraps": lambda: torch.randn(30),  # several lines for one row
    "transposed_4x3": lambda: torch.randn(3, 4).t(),  # non-contiguous source
    # summarised (> 1000 elements)
    "summarised_1001": lambda: torch.randn(1001),
    "summarised_40x40": lambda: torch.randn(40, 40),
    "summarised_2x2000": lambda: torch.randn(2, 2000),  # only the rows are cut
    "summarised_10x10x20": lambda: torch.randn(10, 10, 20),  # every dim cut
    # the hidden middle would force scientific notation; only shown values count
    "summarised_outlier_hidden": lambda: torch.cat([torch.randn(3), torch.full((999,), 1e9), torch.randn(3)]),
    # scales that switch to scientific notation, or not
    "scaled_1e-6": lambda: torch.randn(5) * 1e-6,
    "scaled_1e5": lambda: torch.randn(3, 4) * 1e5,
    "scaled_1e9": lambda: torch.randn(3, 4) * 1e9,
    "scaled_1e5_wide_2d": lambda: torch.randn(2, 9) * 1e5,
    "ratio_over_1000": lambda: torch.tensor([0.5, 501.0]),
    "whole_ratio_20": lambda: torch.tensor([100.0, 2000.0, -300.0]),
    "whole_over_1e8": lambda: torch.tensor([1.0, 2e8]),
    "huge_exponent_fp64": lambda: torch.tensor([1e300, -1e-300], dtype=torch.float64),
    # non-finite values and negative zero
    "nan_inf_mix": lambda: torch.tensor([NAN, -0.0, INF, 1.5]),
    "whole_with_nonfinite": lambda: torch.tensor([NAN, 1.0, -INF, 2.0]),
    "sci_with_nonfinite": lambda: torch.tensor([INF, 1e-6, NAN, -3.0]),
    "all_nan": lambda: torch.tensor([NAN, NAN]),
    "zeros_and_negative_zero": lambda: torch.tensor([0.0, -0.0, 0.0]),
    "negative_zero_whole": lambda: torch.tensor([-0.0, 1.0]),
    "0dim_nan": lambda: torch.tensor(NAN),
    "0dim_negative_zero": lambda: torch.tensor(-0.0),
    "0dim_float": lambda: torch.tensor(3.14159),
    # integers and bools
    "int32_negative": lambda: torch.randint(-1000, 1000, (3, 5), dtype=torch.int32),
    "int64_large": lambda: torch.tensor([2**62, -(2**63), 7]),
    "int64_summarised": lambda: torch.randint(-50, 50000, (1200,)),
    "int8": lambda: torch.tensor([-128, 0, 127], dtype=torch.int8),
    "uint8_2d": lambda: torch.randint(0, 256, (4, 6), dtype=torch.uint8),
    "int16_0dim": lambda: torch.tensor(-7, dtype=torch.int16),
    "int64_0dim": lambda: torch.tensor(12345),
    "bool_3x4": lambda: torch.rand(3, 4) > 0.5,
    "bool_summarised": lambda: torch.rand(1001) > 0.5,
    "bool_0dim": lambda: torch.tensor(True),
    # half types and double
    "fp16_3x4": lambda: torch.randn(3, 4).half(),
    "fp16_large": lambda: (torch.randn(6) * 1e4).half(),
    "fp16_0dim": lambda: torch.tensor(0.1, dtype=torch.float16),
    "bf16_5": lambda: torch.randn(5).bfloat16(),
    "bf16_2x3x4": lambda: torch.randn(2, 3, 4).bfloat16(),
    "bf16_scaled_1e9_wraps": lambda: torch.randn(30).bfloat16() * 1e9,  # dtype= on its own line
    "fp64_3x4": lambda: torch.randn(3, 4, dtype=torch.float64),
    "fp64_tiny": lambda: torch.randn(4, dtype=torch.float64) * 1e-6,
    # autograd suffixes, including one that no longer fits on the last line
    "requires_grad_3x4": lambda: torch.randn(3, 4, requires_grad=True),
    "grad_fn_mul_wraps": lambda: torch.randn(9, requires_grad=True) * 1e5,
    "grad_fn_sum_0dim": lambda: torch.randn(4, requires_grad=True).sum(),
    "fp64_requires_grad": lambda: torch.randn(2, 2, dtype=torch.float64, requires_grad=True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_repr(name):
    assert_same_repr(CASES[name]())


def test_flat_values_with_shape():
    tensor = torch.randn(2, 3, 4)
    flat = tensor.reshape(-1).tolist()
    assert format_tensor(flat, (2, 3, 4), tensor.dtype, "cpu") == repr(tensor)
    assert format_tensor([2.5], (), torch.float32, "cpu") == repr(torch.tensor(2.5))


def test_parameter_prefix():
    parameter = torch.nn.Parameter(torch.randn(3, 2))
    got = ours(parameter, prefix="Parameter containing:\ntensor(")
    assert got == repr(parameter), f"\n--- torch:\n{parameter!r}\n--- tritongrad:\n{got}"


# What torch prints for CUDA tensors (checked against real ones by the GPU test below).
DEVICE_CASES = [
    ([1.0, 2.0], (2,), torch.float32, [], "tensor([1., 2.], device='cuda:0')"),
    ([1, 2], (2,), torch.int32, [], "tensor([1, 2], device='cuda:0', dtype=torch.int32)"),
    ([], (0, 3), torch.float16, [], "tensor([], device='cuda:0', size=(0, 3), dtype=torch.float16)"),
    (1.5, (), torch.float32, ["requires_grad=True"], "tensor(1.5000, device='cuda:0', requires_grad=True)"),
]


@pytest.mark.parametrize("values, shape, dtype, suffixes, expected", DEVICE_CASES)
def test_device_suffix(values, shape, dtype, suffixes, expected):
    assert format_tensor(values, shape, dtype, torch.device("cuda", 0), suffixes=suffixes) == expected


@pytest.mark.gpu
@pytest.mark.parametrize("values, shape, dtype, suffixes, expected", DEVICE_CASES)
def test_device_suffix_matches_cuda_tensor(values, shape, dtype, suffixes, expected):
    tensor = torch.tensor(values, dtype=dtype, device="cuda").reshape(shape)
    tensor.requires_grad_("requires_grad=True" in suffixes)
    assert repr(tensor) == expected
    assert_same_repr(tensor)


OPTION_CASES = [
    ("precision_2", dict(precision=2), lambda: torch.randn(3, 4)),
    ("precision_8_sci", dict(precision=8), lambda: torch.randn(5) * 1e-6),
    ("threshold_5", dict(threshold=5), lambda: torch.arange(10)),
    ("threshold_5_2d", dict(threshold=5), lambda: torch.randn(8, 9)),
    ("edgeitems_1", dict(edgeitems=1), lambda: torch.randn(40, 40)),
    ("edgeitems_0_summarised", dict(edgeitems=0), lambda: torch.randn(40, 40)),
    ("edgeitems_0_small", dict(edgeitems=0), lambda: torch.randn(3, requires_grad=True)),
    ("linewidth_40", dict(linewidth=40), lambda: torch.randn(20, requires_grad=True)),
    ("sci_mode_on", dict(sci_mode=True), lambda: torch.randn(2, 3)),
    ("sci_mode_off", dict(sci_mode=False), lambda: torch.randn(5) * 1e9),
    ("profile_short", dict(profile="short"), lambda: torch.randn(1001)),
    ("profile_full", dict(profile="full"), lambda: torch.randn(1001)),
]


@pytest.mark.parametrize("options, build", [case[1:] for case in OPTION_CASES], ids=[case[0] for case in OPTION_CASES])
def test_matches_torch_under_printoptions(options, build):
    tensor = build()
    torch.set_printoptions(**options)
    formatting.set_printoptions(**options)
    try:
        assert_same_repr(tensor)
    finally:
        torch.set_printoptions(profile="default")
        formatting.set_printoptions(profile="default")


def test_printoptions_context_restores():
    before = formatting.get_printoptions()
    with formatting.printoptions(precision=1, linewidth=20):
        assert format_tensor([1.25], (1,), torch.float32, "cpu") == "tensor([1.2])"
    assert formatting.get_printoptions() == before


def test_float64_default_dtype():
    """With float64 the default, float32 tensors name their dtype and float64 ones do not."""
    torch.set_default_dtype(torch.float64)
    tritongrad.dtypes.set_default_dtype(torch.float64)
    try:
        assert_same_repr(torch.randn(3, dtype=torch.float32))
        assert_same_repr(torch.randn(3, dtype=torch.float64))
        assert_same_repr(torch.empty(0, dtype=torch.float32))
    finally:
        torch.set_default_dtype(torch.float32)
        tritongrad.dtypes.set_default_dtype(torch.float32)


@pytest.mark.parametrize(
    "values, shape, error",
    [
        ([1.0, 2.0, 3.0], (2, 2), ValueError),  # flat list too short for the shape
        ([[1.0], [2.0]], (3, 1), ValueError),  # nested list with the wrong length
        ([1.0, 2.0], (), ValueError),  # two values for a 0-dim tensor
        (1.0, (1,), TypeError),  # a scalar for a 1-D tensor
    ],
)
def test_bad_values_raise(values, shape, error):
    with pytest.raises(error, match="shape|0-dim|values"):
        format_tensor(values, shape, torch.float32, "cpu")


def test_unknown_profile_is_ignored_as_torch_ignores_it():
    before = formatting.get_printoptions()
    try:
        torch.set_printoptions(profile="tiny", precision=2)  # (torch applies the other options)
        formatting.set_printoptions(profile="tiny", precision=2)
        assert formatting.get_printoptions() == {**before, "precision": 2}
        assert torch._tensor_str.PRINT_OPTS.precision == 2
    finally:
        torch.set_printoptions(profile="default")
        formatting.set_printoptions(**before)
