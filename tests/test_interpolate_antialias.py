"""F.interpolate(antialias=True) compared with torch: every weight of the resampling matrices (one-hot
inputs), values and gradients on random inputs (down- and upscaling, sizes and scale factors,
align_corners, odd shapes, 1-pixel outputs), double backward, and the refusals."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tests.utils import from_torch, to_torch
from tritongrad.nn import functional as F

MODES = ["bilinear", "bicubic", "lanczos"]
RESIZES = [(8, 3), (7, 5), (5, 9), (16, 4), (3, 3), (10, 1), (2, 7)]


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("size_in", "size_out"), RESIZES)
def test_weights_are_torchs(size_in, size_out, mode, align):
    """Batch b holds the one-hot row b (width 3, kept): the output's rows are the weight matrix."""
    if mode == "lanczos" and align:
        pytest.skip("torch refuses align_corners with lanczos (tested below)")
    eye = torch.eye(size_in, dtype=torch.float64)[:, None, :, None].expand(size_in, 1, size_in, 3).contiguous()
    expected = torch.nn.functional.interpolate(eye, size=(size_out, 3), mode=mode, align_corners=align, antialias=True)
    actual = to_torch(
        F.interpolate(from_torch(eye), size=(size_out, 3), mode=mode, align_corners=align, antialias=True)
    )
    error = (actual - expected).abs().max().item()
    assert error < 1e-12, f"{mode} {size_in}->{size_out} align={align}: max error {error}"


CASES = {
    "bilinear down": dict(size=(3, 4), mode="bilinear"),
    "bilinear up": dict(size=(9, 11), mode="bilinear"),
    "bicubic down, align_corners": dict(size=(2, 3), mode="bicubic", align_corners=True),
    "bicubic by factors": dict(scale_factor=(0.37, 0.5), mode="bicubic"),
    "bilinear by a recomputed factor": dict(scale_factor=0.5, mode="bilinear", recompute_scale_factor=True),
    "lanczos down": dict(size=(3, 2), mode="lanczos"),
    "to one pixel": dict(size=(1, 1), mode="bilinear"),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients(name, dtype):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 7, 6, generator=generator, dtype=dtype).requires_grad_()

    def run(lib, x):
        y = lib.nn.functional.interpolate(x, antialias=True, **CASES[name])
        y.backward(lib.ones_like(y) * 0.5 + y.detach())
        return y.detach(), y.grad_fn.name()

    agree(name, run, [x])


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_and_gradgradcheck(mode):
    x = tritongrad.randn(1, 2, 5, 4, dtype=tritongrad.float64, requires_grad=True)

    def resize(x):
        return F.interpolate(x, size=(3, 6), mode=mode, antialias=True)

    assert tritongrad.autograd.gradcheck(resize, (x,))
    assert tritongrad.autograd.gradgradcheck(resize, (x,))


REFUSALS = {
    "half": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4, 4).half(), size=(2, 2), mode="bilinear",
                                                      antialias=True),
    "int64": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4, 4, dtype=lib.int64), size=(2, 2),
                                                       mode="bilinear", antialias=True),
    "nearest": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4, 4), size=(2, 2), antialias=True),
    "3-d input": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4), size=2, mode="linear",
                                                           antialias=True),
    "lanczos without antialias": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4, 4), size=(2, 2),
                                                                           mode="lanczos"),
    "lanczos with align_corners": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4, 4), size=(2, 2),
                                                                            mode="lanczos", align_corners=True,
                                                                            antialias=True),
    "empty output": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 4, 4), size=(0, 2), mode="bilinear",
                                                              antialias=True),
}  # fmt: skip


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refusals(name):
    agree(name, REFUSALS[name], [])
