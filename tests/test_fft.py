"""torch.fft compared with torch: every transform over lengths (even, odd, prime, one), n/s padding and
trimming, dims, the three norms, real and complex inputs of both precisions, integer promotion,
gradients (float64, of a real loss), gradcheck, fftfreq/fftshift, and the errors."""

from __future__ import annotations

import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tests.utils import from_torch, to_torch


def _input(shape, dtype, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _close(name, actual, expected, tolerance):
    assert actual.shape == expected.shape and actual.dtype == expected.dtype, (
        f"{name}: {actual.shape} {actual.dtype}, torch {expected.shape} {expected.dtype}"
    )
    error = (actual - expected).abs().max().item() if expected.numel() else 0.0
    assert error <= tolerance * max(1.0, expected.abs().max().item()), f"{name}: max error {error}"


ONE_D = {
    "fft": (torch.float32, None), "fft of complex": (torch.complex64, "fft"), "ifft": (torch.complex128, None),
    "ifft of real": (torch.float64, "ifft"), "rfft": (torch.float64, None), "irfft": (torch.complex64, None),
    "hfft": (torch.complex128, None), "ihfft": (torch.float32, None),
}  # fmt: skip


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("n", [None, 1, 5, 12])
@pytest.mark.parametrize("length", [1, 7, 8])
@pytest.mark.parametrize("name", list(ONE_D))
def test_one_dimensional(name, length, n, norm):
    dtype, function = ONE_D[name]
    function = function or name
    x = _input((2, length), dtype)
    if function in ("irfft", "hfft") and n is None and length == 1:
        pytest.skip("2 * (1 - 1) points: torch's error, tested below")
    expected = getattr(torch.fft, function)(x, n=n, norm=norm)
    actual = to_torch(getattr(tritongrad.fft, function)(from_torch(x), n=n, norm=norm))
    tolerance = 1e-12 if dtype in (torch.float64, torch.complex128) else 2e-6
    _close(f"{function}(length {length}, n={n}, norm={norm})", actual, expected, tolerance)


N_D = ["fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"]
COMPLEX_INPUT = {"irfft2", "hfft2", "irfftn", "hfftn"}


@pytest.mark.parametrize("s", [None, (4, 3)])
@pytest.mark.parametrize("name", N_D)
def test_n_dimensional(name, s):
    x = _input((2, 5, 6), torch.complex128 if name in COMPLEX_INPUT else torch.float64)
    expected = getattr(torch.fft, name)(x, s=s, norm="ortho")
    actual = to_torch(getattr(tritongrad.fft, name)(from_torch(x), s=s, norm="ortho"))
    _close(f"{name}(s={s})", actual, expected, 1e-12)


def test_dims_in_any_order():
    x = _input((3, 4, 5), torch.float64)
    expected = torch.fft.fftn(x, dim=(2, 0))
    _close("fftn(dim=(2, 0))", to_torch(tritongrad.fft.fftn(from_torch(x), dim=(2, 0))), expected, 1e-12)


GRADIENTS = {
    "fft": lambda L, a: L.fft.fft(a, n=5, norm="ortho"),
    "fft of complex": lambda L, a: L.fft.fft(L.complex(a, a * 0.5)),
    "ifft": lambda L, a: L.fft.ifft(L.complex(a, -a), n=11),
    "rfft": lambda L, a: L.fft.rfft(a),
    "irfft": lambda L, a: L.fft.irfft(L.complex(a, a.flip(-1)), n=9),
    "hfft": lambda L, a: L.fft.hfft(L.complex(a, a.flip(-1))),
    "ihfft": lambda L, a: L.fft.ihfft(a),
    "fft2": lambda L, a: L.fft.fft2(a),
    "rfftn": lambda L, a: L.fft.rfftn(a),
    "irfftn": lambda L, a: L.fft.irfftn(L.complex(a, a * 2)),
}


@pytest.mark.parametrize("name", list(GRADIENTS))
def test_gradients(name):
    def run(lib, x):
        y = GRADIENTS[name](lib, x)
        loss = (y.abs() ** 2).sum() if y.dtype.is_complex else (y**3).sum()
        loss.backward()
        return loss.detach()

    agree(name, run, [_input((3, 8), torch.float64).requires_grad_()])


@pytest.mark.parametrize("name", ["fft", "rfft", "irfft", "fft2"])
def test_gradcheck(name):
    x = tritongrad.randn(2, 6, dtype=tritongrad.float64, requires_grad=True)

    def real_view(a):
        y = GRADIENTS[name](tritongrad, a)
        return tritongrad.view_as_real(y) if y.dtype.is_complex else y

    assert tritongrad.autograd.gradcheck(real_view, (x,))


OTHERS = {
    "fftfreq": lambda lib: lib.fft.fftfreq(7, 0.5),
    "fftfreq even": lambda lib: lib.fft.fftfreq(8, dtype=lib.float64),
    "rfftfreq": lambda lib: lib.fft.rfftfreq(7, 0.5),
    "fftshift": lambda lib: lib.fft.fftshift(lib.arange(15.0).reshape(3, 5)),
    "fftshift one dim": lambda lib: lib.fft.fftshift(lib.arange(15.0).reshape(3, 5), dim=1),
    "ifftshift": lambda lib: lib.fft.ifftshift(lib.arange(15.0).reshape(3, 5), dim=(0, 1)),
    "integers promote": lambda lib: lib.fft.fft(lib.arange(6)).dtype,
    "n of 0": lambda lib: lib.fft.fft(lib.ones(4), n=0),
    "bad norm": lambda lib: lib.fft.fft(lib.ones(4), norm="bad"),
    "half input": lambda lib: lib.fft.fft(lib.ones(4).half()),
    "rfft of complex": lambda lib: lib.fft.rfft(lib.ones(4, dtype=lib.complex64)),
    "ihfft of complex": lambda lib: lib.fft.ihfft(lib.ones(4, dtype=lib.complex64)),
    "rfftn of complex": lambda lib: lib.fft.rfftn(lib.ones(4, dtype=lib.complex64)),
    "0-d input": lambda lib: lib.fft.fft(lib.tensor(1.0)),
    "dim out of range": lambda lib: lib.fft.fft(lib.ones(3, 4), dim=-3),
    "s and dim lengths": lambda lib: lib.fft.fftn(lib.ones(2, 3), s=(2,), dim=(0, 1)),
    "repeated dims": lambda lib: lib.fft.fftn(lib.ones(2, 3), dim=(0, 0)),
    "irfft of one bin": lambda lib: lib.fft.irfft(lib.ones(1, dtype=lib.complex64)),
    "empty input": lambda lib: lib.fft.fft(lib.ones(0)),
}


@pytest.mark.parametrize("name", list(OTHERS))
def test_other_functions_and_errors(name):
    agree(name, OTHERS[name], [])
