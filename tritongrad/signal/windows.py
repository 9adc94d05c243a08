"""torch.signal.windows: scipy-style window functions (``M`` points, ``sym=`` symmetric or periodic), each
following torch's own Python definition step by step (a ``linspace`` of the window's argument, then its
function) on tritongrad's ops. As torch's, they take float32 or float64 only, raise ValueError for bad
arguments, and with ``requires_grad=True`` return the result of ops on a leaf ``linspace``."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from tritongrad import creation, ops
from tritongrad.dtypes import get_default_dtype
from tritongrad.tensor import Tensor

__all__ = [
    "bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming", "hamming",
    "hann", "kaiser", "nuttall",
]  # fmt: skip


def _checked_dtype(name: str, M: int, dtype, layout) -> torch.dtype:
    """The window's dtype after torch's checks (its ValueErrors, in its order)."""
    dtype = get_default_dtype() if dtype is None else dtype
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not torch.strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _filled(M: int, dtype, device, requires_grad: bool) -> Tensor:
    """torch's answer for the empty and one-point windows: empty or a one."""
    return creation.ones(M, dtype=dtype, device=device, requires_grad=requires_grad)


def _points(start: float, step: float, M: int, dtype, device, requires_grad: bool) -> Tensor:
    """linspace(start, start + (M - 1) * step, M), the argument every window takes."""
    return creation.linspace(start, start + (M - 1) * step, M, dtype=dtype, device=device, requires_grad=requires_grad)


def exponential(M: int, *, center=None, tau: float = 1.0, sym: bool = True, dtype=None, layout=torch.strided,
                device=None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """exp(-|n - center| / tau)."""
    dtype = _checked_dtype("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M == 0:
        return creation.empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / tau
    return (-_points(-center * constant, constant, M, dtype, device, requires_grad).abs()).exp()


def cosine(M: int, *, sym: bool = True, dtype=None, layout=torch.strided, device=None,
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    """sin(pi (n + 1/2) / M)."""
    dtype = _checked_dtype("cosine", M, dtype, layout)
    if M == 0:
        return creation.empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    constant = math.pi / (M + 1 if not sym and M > 1 else M)
    return _points(0.5 * constant, constant, M, dtype, device, requires_grad).sin()


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None, layout=torch.strided, device=None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """exp(-(n - (M - 1) / 2)^2 / (2 std^2))."""
    dtype = _checked_dtype("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if M == 0:
        return creation.empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / (std * math.sqrt(2))
    return (-(_points(start * constant, constant, M, dtype, device, requires_grad) ** 2)).exp()


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None, layout=torch.strided, device=None,
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    """I0(sqrt(beta^2 - k^2)) / I0(beta) for k from -beta to beta."""
    dtype = _checked_dtype("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M <= 1:
        return _filled(M, dtype, device, requires_grad)
    beta = creation.tensor(beta, dtype=dtype, device=device)  # (the bounds are rounded to dtype, as torch's)
    start = -beta
    end = ops.minimum(beta, start + (M - 1) * (2.0 * beta / (M if not sym else M - 1)))
    k = creation.linspace(start, end, M, dtype=dtype, device=device, requires_grad=requires_grad)
    return ops.i0((beta * beta - k.pow(2)).sqrt()) / ops.i0(beta)


def general_cosine(M, *, a: Iterable, sym: bool = True, dtype=None, layout=torch.strided, device=None,
                   requires_grad: bool = False) -> Tensor:  # fmt: skip
    """sum_i (-1)^i a_i cos(2 pi i n / (M - 1))."""
    dtype = _checked_dtype("general_cosine", M, dtype, layout)
    if M <= 1:
        return _filled(M, dtype, device, requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    constant = 2 * math.pi / (M if not sym else M - 1)
    k = _points(0, constant, M, dtype, device, requires_grad)
    coefficients = creation.tensor(
        [(-1) ** i * w for i, w in enumerate(a)], dtype=dtype, device=device, requires_grad=requires_grad
    )
    orders = creation.arange(coefficients.shape[0], dtype=dtype, device=device, requires_grad=requires_grad)
    return (coefficients.unsqueeze(-1) * (orders.unsqueeze(-1) * k).cos()).sum(0)


def general_hamming(M, *, alpha: float = 0.54, sym: bool = True, dtype=None, layout=torch.strided, device=None,
                    requires_grad: bool = False) -> Tensor:  # fmt: skip
    """alpha - (1 - alpha) cos(2 pi n / (M - 1))."""
    return general_cosine(
        M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad
    )


def hamming(M: int, *, sym: bool = True, dtype=None, layout=torch.strided, device=None,
            requires_grad: bool = False) -> Tensor:  # fmt: skip
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype=None, layout=torch.strided, device=None,
         requires_grad: bool = False) -> Tensor:  # fmt: skip
    return general_hamming(
        M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad
    )


def blackman(M: int, *, sym: bool = True, dtype=None, layout=torch.strided, device=None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    _checked_dtype("blackman", M, dtype, layout)
    return general_cosine(
        M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad
    )


def bartlett(M: int, *, sym: bool = True, dtype=None, layout=torch.strided, device=None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """1 - |k| for k from -1 to 1."""
    dtype = _checked_dtype("bartlett", M, dtype, layout)
    if M <= 1:
        return _filled(M, dtype, device, requires_grad)
    return 1 - _points(-1, 2 / (M if not sym else M - 1), M, dtype, device, requires_grad).abs()


def nuttall(M: int, *, sym: bool = True, dtype=None, layout=torch.strided, device=None,
            requires_grad: bool = False) -> Tensor:  # fmt: skip
    return general_cosine(
        M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype, layout=layout, device=device,
        requires_grad=requires_grad,
    )  # fmt: skip
