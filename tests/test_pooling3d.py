"""3-D pooling (ops/pooling3d.py) against torch: values, indices, gradients, module reprs, errors."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.utils import assert_close, from_torch, random_values
from tritongrad.autograd import gradcheck

MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0), dilation=(1, 1, 2), ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1),
]
AVG_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(3, 2, 3), stride=1, padding=(1, 0, 1)),
    dict(kernel_size=3, padding=1, divisor_override=5),
]


def _pair(shape, dtype, transposed=False):
    x = random_values(shape, dtype)
    if transposed:  # a non-contiguous input: W and H swapped in memory
        x = x.transpose(-1, -2).contiguous().transpose(-1, -2)
    return x, from_torch(x)


@pytest.mark.parametrize("case", range(len(MAX_CASES)))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_max_pool3d_values_indices_and_gradient(case, dtype):
    kwargs = MAX_CASES[case]
    x, tg_x = _pair((2, 3, 5, 6, 7), dtype, transposed=case == 1)
    x.requires_grad_(True)
    tg_x.requires_grad_(True)
    values, indices = torch.nn.functional.max_pool3d(x, return_indices=True, **kwargs)
    tg_values, tg_indices = tritongrad.nn.functional.max_pool3d(tg_x, return_indices=True, **kwargs)
    assert_close(tg_values, values, what=f"max_pool3d {kwargs}")
    assert_close(tg_indices, indices, what=f"max_pool3d indices {kwargs}")
    weight = random_values(values.shape, dtype)
    (values * weight).sum().backward()
    (tg_values * from_torch(weight)).sum().backward()
    assert_close(tg_x.grad, x.grad, what=f"d max_pool3d {kwargs}")


@pytest.mark.parametrize("case", range(len(AVG_CASES)))
def test_avg_pool3d_values_and_gradient(case):
    kwargs = AVG_CASES[case]
    x, tg_x = _pair((2, 2, 6, 5, 7), torch.float64)
    x.requires_grad_(True)
    tg_x.requires_grad_(True)
    expected = torch.nn.functional.avg_pool3d(x, **kwargs)
    got = tritongrad.nn.functional.avg_pool3d(tg_x, **kwargs)
    assert_close(got, expected, what=f"avg_pool3d {kwargs}")
    expected.sum().backward()
    got.sum().backward()
    assert_close(tg_x.grad, x.grad, what=f"d avg_pool3d {kwargs}")


@pytest.mark.parametrize("output_size", [1, (2, None, 3), (3, 2, 4)])
def test_adaptive_pools3d(output_size):
    x, tg_x = _pair((3, 5, 6, 7), torch.float64)  # unbatched
    x.requires_grad_(True)
    tg_x.requires_grad_(True)
    assert_close(
        tritongrad.nn.functional.adaptive_avg_pool3d(tg_x, output_size),
        torch.nn.functional.adaptive_avg_pool3d(x, output_size),
        what=f"adaptive_avg_pool3d {output_size}",
    )
    values, indices = torch.nn.functional.adaptive_max_pool3d(x, output_size, return_indices=True)
    tg_values, tg_indices = tritongrad.nn.functional.adaptive_max_pool3d(tg_x, output_size, return_indices=True)
    assert_close(tg_values, values, what="adaptive_max_pool3d")
    assert_close(tg_indices, indices, what="adaptive_max_pool3d indices")
    values.sum().backward()
    tg_values.sum().backward()
    assert_close(tg_x.grad, x.grad, what="d adaptive_max_pool3d")


def test_ties_go_to_the_first_element_in_scan_order():
    x = torch.zeros(1, 1, 2, 2, 2)
    _, indices = torch.nn.functional.max_pool3d(x, 2, return_indices=True)
    _, tg_indices = tritongrad.nn.functional.max_pool3d(from_torch(x), 2, return_indices=True)
    assert tg_indices.tolist() == indices.tolist()


def test_gradcheck_float64():
    x = from_torch(random_values((1, 2, 3, 4, 3), torch.float64), requires_grad=True)
    assert gradcheck(lambda t: tritongrad.nn.functional.avg_pool3d(t, 2, stride=1, padding=1), (x,))
    assert gradcheck(lambda t: tritongrad.nn.functional.max_pool3d(t, 2, stride=1), (x,))


def test_modules_and_errors_match_torch():
    for name, args, kwargs in (
        ("MaxPool3d", (2,), {"stride": 1}),
        ("AvgPool3d", (3,), {"padding": 1, "count_include_pad": False}),
        ("AdaptiveAvgPool3d", ((1, 2, 3),), {}),
        ("AdaptiveMaxPool3d", (2,), {"return_indices": True}),
    ):
        assert repr(getattr(tritongrad.nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))
    x = random_values((1, 2, 4, 4, 4), torch.float32)
    assert_close(tritongrad.nn.MaxPool3d(2)(from_torch(x)), torch.nn.MaxPool3d(2)(x), what="MaxPool3d module")
    for lib, tensor in ((torch, torch.ones(2, 4, 4)), (tritongrad, tritongrad.ones(2, 4, 4))):
        with pytest.raises(RuntimeError):
            lib.nn.functional.max_pool3d(tensor, 2)
