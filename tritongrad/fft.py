"""torch.fft: discrete Fourier transforms (fft, ifft, rfft, irfft, hfft, ihfft and their 2-d and n-d
forms), fftfreq/rfftfreq and fftshift/ifftshift, with torch's arguments (``n``/``s`` padding or
trimming, ``dim``, ``norm`` = "backward" | "ortho" | "forward") and dtypes (real float32/float64 input
gives complex64/complex128; integers and bools are promoted to the default float dtype).

Each 1-d transform is a matrix product along the transformed dim: ``x @ M`` with M the (L, n_out) DFT
matrix for an input of length L (rows past the transform length ``n`` are zeros: trimming; an input
shorter than ``n`` simply has no rows for the zero padding). A real input takes two real products (the
cosine and sine matrices) and a complex one a complex product, on tritongrad's matmul kernels, so
gradients of every order come from the products. The matrices are host-built constants (angles reduced
exactly, ``(j * k) mod n``, in float64, with exact 0 and +-1 at the multiples of pi/2 so that the bins torch
gives as exact zeros are exact zeros here too) cached per shape, dtype and device. This is O(n^2) work per
transformed row where torch's pocketfft is O(n log n): right for the sizes tutorials transform, not a
fast FFT.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import torch

from tritongrad import creation, ops
from tritongrad.dtypes import get_default_dtype
from tritongrad.ops.linalg import matmul
from tritongrad.shapes import normalize_dim
from tritongrad.tensor import Tensor

__all__ = [
    "fft", "ifft", "rfft", "irfft", "hfft", "ihfft",
    "fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2",
    "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn",
    "fftfreq", "rfftfreq", "fftshift", "ifftshift",
]  # fmt: skip

_NORMS = (None, "backward", "ortho", "forward")
_COMPLEX_OF = {torch.float32: torch.complex64, torch.float64: torch.complex128}


def _scale(norm: str | None, n: int, forward: bool) -> float:
    """The factor a transform of length ``n`` applies under ``norm`` (torch's three conventions)."""
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    if norm == "ortho":
        return 1.0 / math.sqrt(n)
    divides = norm == "forward" if forward else norm in (None, "backward")
    return 1.0 / n if divides else 1.0


def _twiddles(rows: int, n: int, outputs: int) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of 2*pi*(j*k mod n)/n for j < min(rows, n), k < outputs: float64, (min(rows, n), outputs).

    At the multiples of pi/2 (4 * (j*k mod n) divisible by n) the values are set to their exact 0 and +-1:
    np.cos(pi/2) is 6e-17 and np.sin(pi) 1.2e-16, and that leftover would turn the bins torch's pocketfft
    gives as exact zeros (an all-ones signal's empty bins, say) into 1e-16 noise, whose angle() is then
    +-pi/2 or pi instead of 0 and whose ``imag == 0`` is False."""
    j = np.arange(min(rows, n), dtype=np.int64)[:, None]
    k = np.arange(outputs, dtype=np.int64)[None, :]
    reduced = (j * k) % n
    angles = 2.0 * np.pi * reduced.astype(np.float64) / n
    cos, sin = np.cos(angles), np.sin(angles)
    quarter_point = (4 * reduced) % n == 0
    quarter = (4 * reduced) // n  # 0..3 where quarter_point
    cos = np.where(quarter_point, np.array([1.0, 0.0, -1.0, 0.0])[quarter % 4], cos)
    sin = np.where(quarter_point, np.array([0.0, 1.0, 0.0, -1.0])[quarter % 4], sin)
    return cos, sin


def _matrix(values: np.ndarray, length: int, dtype: torch.dtype, device) -> Tensor:
    """``values`` (rows for the first min(length, n) inputs) as an (length, outputs) tensor, zero rows
    for inputs past the transform length (trimming): rounded to ``dtype``, stored in its wider dtype (the
    products run there, see ``_ACCUMULATE_IN``)."""
    full = np.zeros((length, values.shape[1]), dtype=_NUMPY_DTYPES[dtype])
    full[: values.shape[0]] = values
    return Tensor._wrap(
        torch.from_numpy(full.astype(_NUMPY_DTYPES[_ACCUMULATE_IN.get(dtype, dtype)])).to(device=device)
    )


# Single-precision transforms multiply and sum in double precision, by the single-precision twiddles, and
# round once at the end: each product of two float32 values is exact in float64 and the sums of a few of
# them are too, so the bins whose exact value is 0 (an all-ones frame's, say) come out as exact zeros, as
# torch's pocketfft butterflies give them, instead of float32 summation noise (-6e-8j: angle() -pi/2).
_ACCUMULATE_IN = {torch.float32: torch.float64, torch.complex64: torch.complex128}

_NUMPY_DTYPES = {
    torch.float32: np.float32, torch.float64: np.float64, torch.complex64: np.complex64, torch.complex128: np.complex128
}  # fmt: skip


@functools.lru_cache(maxsize=64)
def _dft_matrices(kind: str, length: int, n: int, sign: float, scale: float, dtype: torch.dtype, device) -> tuple:
    """The matrices of one transform of a last dim of ``length`` at ``n`` points, built once per shape,
    dtype and device: for "complex" one complex matrix (length, n); for "real" (an input that is real)
    the cosine and sine matrices (length, n); for "half" the same for n // 2 + 1 outputs; for "c2r" the
    cosine and sine matrices of the inverse of a half spectrum (length bins, n outputs; each bin counted
    twice for its mirror but 0 and n / 2). The tensors are constants, never written."""
    if kind == "c2r":
        bins = np.arange(min(length, n // 2 + 1))
        weights = np.where((bins == 0) | ((n % 2 == 0) & (bins == n // 2)), 1.0, 2.0)[:, None] * scale
        cos, sin = (values[: len(bins)] for values in _twiddles(length, n, n))
        return _matrix(weights * cos, length, dtype, device), _matrix(-weights * sin, length, dtype, device)
    cos, sin = _twiddles(length, n, n // 2 + 1 if kind == "half" else n)
    if kind == "complex":
        return (_matrix((cos + 1j * sign * sin) * scale, length, dtype, device),)
    return _matrix(cos * scale, length, dtype, device), _matrix(sign * sin * scale, length, dtype, device)


def _floating(input: Tensor, name: str) -> Tensor:
    """The input as a float32/float64 or complex64/complex128 tensor, as torch's fft promotes it."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fft_{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    dtype = input.dtype
    if dtype.is_complex or dtype in _COMPLEX_OF:
        if dtype == torch.complex32:
            raise RuntimeError("Unsupported dtype ComplexHalf")
        return input
    if dtype.is_floating_point:  # half types: torch's CPU refuses them
        raise RuntimeError(f"Unsupported dtype {'Half' if dtype == torch.float16 else 'BFloat16'}")
    return input.to(get_default_dtype())


def _length(n, size: int, name: str) -> int:
    n = size if n is None else int(n)
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return n


def _along(input: Tensor, dim: int, transform) -> Tensor:
    """``transform`` (of a tensor whose last dim is the transformed one) applied along ``dim``."""
    dim = normalize_dim(dim, input.dim())
    last = input.dim() - 1
    moved = input if dim == last else input.movedim(dim, -1)
    result = transform(moved)
    return result if dim == last else result.movedim(-1, dim)


def _real_dft(input: Tensor, kind: str, n: int, sign: float, scale: float) -> Tensor:
    """The DFT of a real last dim: two real products, joined into a complex result."""
    dtype = input.dtype
    cos, sin = _dft_matrices(kind, input.shape[-1], n, sign, scale, dtype, input.device)
    wide = _widened(input)
    return ops.complex(matmul(wide, cos).to(dtype), matmul(wide, sin).to(dtype))


def _widened(input: Tensor) -> Tensor:
    """``input`` in the dtype its transform's products run in (``_ACCUMULATE_IN``)."""
    wider = _ACCUMULATE_IN.get(input.dtype)
    return input if wider is None else input.to(wider)


def _c2c(input: Tensor, n: int, sign: float, scale: float) -> Tensor:
    """The complex DFT (exponent sign ``sign``) of the last dim (length L) at ``n`` points: (..., n)."""
    if not input.dtype.is_complex:
        return _real_dft(input, "real", n, sign, scale)
    (twiddles,) = _dft_matrices("complex", input.shape[-1], n, sign, scale, input.dtype, input.device)
    return matmul(_widened(input), twiddles).to(input.dtype)


def _r2c(input: Tensor, n: int, sign: float, scale: float) -> Tensor:
    """The first n // 2 + 1 points of the DFT (exponent sign ``sign``) of a real last dim (complex)."""
    return _real_dft(input, "half", n, sign, scale)


def _c2r(input: Tensor, n: int, scale: float) -> Tensor:
    """The real signal of n points whose half spectrum (the first n // 2 + 1 of the last dim) is given,
    by the inverse DFT's exponent; the imaginary parts of bins 0 and n / 2 are ignored (their sines
    vanish)."""
    real_dtype = torch.float64 if input.dtype == torch.complex128 else torch.float32
    cos, sin = _dft_matrices("c2r", input.shape[-1], n, 1.0, scale, real_dtype, input.device)
    return (matmul(_widened(input.real), cos) + matmul(_widened(input.imag), sin)).to(real_dtype)


def _complex_input(input: Tensor) -> Tensor:
    if input.dtype.is_complex:
        return input
    return ops.complex(input, creation.zeros_like(input))


def _transform(input, n, dim, norm, name: str, kind: str, sign: float, forward: bool) -> Tensor:
    """One 1-d transform: ``kind`` c2c, r2c or c2r, exponent sign ``sign``, normalized as a forward
    (``forward``) or inverse transform under ``norm``."""
    input = _floating(input, name)
    if kind == "r2c" and input.dtype.is_complex:
        raise RuntimeError(f"{name} expects a real input tensor, but got {_word(input.dtype)}")
    if input.dim() == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    size = input.shape[normalize_dim(dim, input.dim())]
    if kind == "c2r":
        points = _length(n, 2 * (size - 1), name)
        scale = _scale(norm, points, forward)
        return _along(_complex_input(input), dim, lambda x: _c2r(x, points, scale))
    points = _length(n, size, name)
    scale = _scale(norm, points, forward)
    if kind == "r2c":
        return _along(input, dim, lambda x: _r2c(x, points, sign, scale))
    return _along(input, dim, lambda x: _c2c(x, points, sign, scale))


def _word(dtype: torch.dtype) -> str:
    return {torch.complex64: "ComplexFloat", torch.complex128: "ComplexDouble"}.get(dtype, str(dtype))


def fft(input, n=None, dim: int = -1, norm=None) -> Tensor:
    """The 1-d discrete Fourier transform along ``dim`` (complex output)."""
    return _transform(input, n, dim, norm, "fft_fft", "c2c", -1.0, True)


def ifft(input, n=None, dim: int = -1, norm=None) -> Tensor:
    """The 1-d inverse discrete Fourier transform along ``dim``."""
    return _transform(input, n, dim, norm, "fft_ifft", "c2c", 1.0, False)


def rfft(input, n=None, dim: int = -1, norm=None) -> Tensor:
    """The DFT of a real signal: its n // 2 + 1 non-negative frequencies."""
    return _transform(input, n, dim, norm, "rfft", "r2c", -1.0, True)


def irfft(input, n=None, dim: int = -1, norm=None) -> Tensor:
    """The inverse of rfft: a real signal of ``n`` points (default 2 * (size - 1))."""
    return _transform(input, n, dim, norm, "irfft", "c2r", 1.0, False)


def hfft(input, n=None, dim: int = -1, norm=None) -> Tensor:
    """The DFT of a Hermitian-symmetric signal given by its first half: a real spectrum of ``n`` points."""
    input = _floating(input, "hfft")
    return _transform(_complex_input(input).conj_physical(), n, dim, norm, "hfft", "c2r", 1.0, True)


def ihfft(input, n=None, dim: int = -1, norm=None) -> Tensor:
    """The inverse of hfft: the first n // 2 + 1 points of the inverse DFT of a real signal."""
    input = _floating(input, "ihfft")
    if input.dtype.is_complex:
        raise RuntimeError(f"ihfft expects a real input tensor, but got {_word(input.dtype)}")
    return _transform(input, n, dim, norm, "ihfft", "r2c", 1.0, False)


def _dims_and_sizes(input: Tensor, s, dim, name: str) -> tuple[list[int], list[int | None]]:
    """torch's n-d argument rules: ``dim`` defaults to the last len(s) dims (or all), ``s`` to None each."""
    if dim is None:
        dims = list(range(input.dim())) if s is None else list(range(input.dim() - len(s), input.dim()))
    else:
        dims = [normalize_dim(d, input.dim()) for d in ([dim] if isinstance(dim, int) else dim)]
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
    sizes: list[int | None] = [None] * len(dims) if s is None else list(s)
    if len(sizes) != len(dims):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    return dims, sizes


def _transform_n(input, s, dim, norm, name: str, kind: str, sign: float, forward: bool) -> Tensor:
    """The n-d transform as 1-d ones: a real-to-complex one on the last dim first, a complex-to-real one
    on it last, complex ones on the others."""
    input = _floating(input, name)
    dims, sizes = _dims_and_sizes(input, s, dim, name)
    if not dims:
        return input
    if kind == "r2c":
        input = _transform(input, sizes[-1], dims[-1], norm, name, "r2c", sign, forward)
        dims, sizes = dims[:-1], sizes[:-1]
    last = None
    if kind == "c2r":
        last, dims, sizes = (dims[-1], sizes[-1]), dims[:-1], sizes[:-1]
    for d, n in zip(dims, sizes):
        input = _transform(input, n, d, norm, name, "c2c", sign, forward)
    if last is not None:
        input = _transform(input, last[1], last[0], norm, name, "c2r", sign, forward)
    return input


def fftn(input, s=None, dim=None, norm=None) -> Tensor:
    """The n-d DFT over ``dim`` (all dims by default)."""
    return _transform_n(input, s, dim, norm, "fftn", "c2c", -1.0, True)


def ifftn(input, s=None, dim=None, norm=None) -> Tensor:
    """The n-d inverse DFT over ``dim``."""
    return _transform_n(input, s, dim, norm, "ifftn", "c2c", 1.0, False)


def rfftn(input, s=None, dim=None, norm=None) -> Tensor:
    """The n-d DFT of a real input, halved along the last transformed dim."""
    input = _floating(input, "rfftn")
    if input.dtype.is_complex:
        raise RuntimeError(f"rfftn expects a real-valued input tensor, but got {_word(input.dtype)}")
    return _transform_n(input, s, dim, norm, "rfftn", "r2c", -1.0, True)


def irfftn(input, s=None, dim=None, norm=None) -> Tensor:
    """The inverse of rfftn (a real output)."""
    return _transform_n(_complex_input(_floating(input, "irfftn")), s, dim, norm, "irfftn", "c2r", 1.0, False)


def hfftn(input, s=None, dim=None, norm=None) -> Tensor:
    """The n-d hfft: the DFT of a Hermitian-symmetric input given by its half (a real output)."""
    conjugate = _complex_input(_floating(input, "hfftn")).conj_physical()
    return _transform_n(conjugate, s, dim, norm, "hfftn", "c2r", 1.0, True)


def ihfftn(input, s=None, dim=None, norm=None) -> Tensor:
    """The inverse of hfftn."""
    input = _floating(input, "ihfftn")
    return _transform_n(input, s, dim, norm, "ihfftn", "r2c", 1.0, False)


def fft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:
    """fftn over the last two dims."""
    return fftn(input, s, dim, norm)


def ifft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:
    """ifftn over the last two dims."""
    return ifftn(input, s, dim, norm)


def rfft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:
    """rfftn over the last two dims."""
    return rfftn(input, s, dim, norm)


def irfft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:
    """irfftn over the last two dims."""
    return irfftn(input, s, dim, norm)


def hfft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:
    """hfftn over the last two dims."""
    return hfftn(input, s, dim, norm)


def ihfft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:
    """ihfftn over the last two dims."""
    return ihfftn(input, s, dim, norm)


def fftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an n-point DFT: [0, 1, ..., ceil(n/2) - 1, -floor(n/2), ..., -1] / (d n)."""
    positive = creation.arange((n + 1) // 2, dtype=dtype, device=device)
    negative = creation.arange(-(n // 2), 0, dtype=dtype, device=device)
    result = ops.cat([positive, negative]) / (d * n)
    return result.requires_grad_(requires_grad) if requires_grad else result


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """The sample frequencies of rfft's output: [0, 1, ..., n // 2] / (d n)."""
    result = creation.arange(n // 2 + 1, dtype=dtype, device=device) / (d * n)
    return result.requires_grad_(requires_grad) if requires_grad else result


def _shift(input: Tensor, dim, sign: int) -> Tensor:
    dims = list(range(input.dim())) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    if not dims:
        return input
    shifts = [sign * (input.shape[d] // 2) for d in dims]
    return input.roll(shifts, dims)


def fftshift(input, dim: int | Sequence[int] | None = None) -> Tensor:
    """The zero frequency moved to the centre (a roll by half of each dim)."""
    return _shift(input, dim, 1)


def ifftshift(input, dim: int | Sequence[int] | None = None) -> Tensor:
    """The inverse of fftshift."""
    return _shift(input, dim, -1)
