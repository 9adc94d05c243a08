"""In-place random fills (``uniform_``, ``normal_``) on the Philox kernels of kernels/random.py."""

from __future__ import annotations

import torch

from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels import random as kernels
from tritongrad.random import philox_seed_and_offset


def _fill_random(tensor, launch, *parameters):
    """Runs a random kernel on a contiguous buffer (a scratch one if ``tensor`` is a strided view)."""
    tensor._check_inplace()
    target = tensor._data
    scratch = target if target.is_contiguous() else torch.empty(tuple(target.shape), dtype=target.dtype,
                                                                 device=target.device)  # fmt: skip
    seed, offset = philox_seed_and_offset(scratch.numel())
    launch(scratch, *parameters, seed, offset)
    if scratch is not target:
        elementwise_kernels.launch_unary("copy", scratch, out=target)
    tensor._version_counter.bump()
    return tensor


def uniform_(tensor, a: float = 0.0, b: float = 1.0):
    """Fills ``tensor`` with U[a, b) samples."""
    if not tensor.dtype.is_floating_point:
        raise RuntimeError(f"uniform_ expects a floating tensor, got {tensor.dtype}")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    return _fill_random(tensor, kernels.launch_uniform_, float(a), float(b))


def normal_(tensor, mean: float = 0.0, std: float = 1.0):
    """Fills ``tensor`` with N(mean, std²) samples."""
    if not tensor.dtype.is_floating_point:
        raise RuntimeError(f"normal_ expects a floating tensor, got {tensor.dtype}")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill_random(tensor, kernels.launch_normal_, float(mean), float(std))


def randint_(tensor, low: int, high: int):
    """Fills an integer ``tensor`` with integers uniform in [low, high)."""
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return _fill_random(tensor, kernels.launch_randint_, int(low), int(high))


def bernoulli_(tensor, p: float = 0.5):
    """Fills ``tensor`` with 1 (probability p) or 0."""
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return _fill_random(tensor, kernels.launch_bernoulli_, float(p))
