"""Samplers of the gamma family with torch's signatures: ``_standard_gamma``, ``poisson``,
``binomial``, ``_sample_dirichlet`` and ``_standard_gamma_grad`` (kernels/random_gamma.py).

Each sampler draws from ``generator`` (a ``tritongrad.Generator``) or the default generator; the
numbers differ from torch's for the same seed, the distributions, dtypes, shapes, gradients and
errors are torch's. ``_standard_gamma`` is differentiable through the reparameterization gradient
(``_standard_gamma_grad``: dx/dalpha at a fixed CDF value, computed to float64 accuracy where
torch's CPU kernel uses approximations good to about 1e-3 relative in places); ``poisson``'s
gradient is zeros, and ``binomial``/``_sample_dirichlet`` have none (torch's NotImplemented node).

Deliberate differences: the output is always contiguous; ``poisson`` of an infinite rate is inf
(torch's casts give -2**63), rates above ~1e10 lose accuracy in the acceptance test (float64
log-factorials); ``binomial`` with an infinite or NaN count gives NaN (torch loops forever);
mismatched shapes broadcast without torch's resize warning.
"""

from __future__ import annotations

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import dtype_word
from tritongrad.kernels import random as random_kernels
from tritongrad.kernels import random_gamma as kernels
from tritongrad.kernels.strided import broadcast_shapes
from tritongrad.ops.views import contiguous_copy
from tritongrad.random import Generator, resolve_generator
from tritongrad.tensor import Tensor

__all__ = ["_sample_dirichlet", "_standard_gamma", "_standard_gamma_grad", "binomial", "poisson"]

_wrap = Tensor._wrap
_GAMMA_DTYPES = (torch.float32, torch.float64)


def _buffer(tensor: Tensor) -> torch.Tensor:
    """A contiguous buffer of ``tensor``'s values (a kernel copy when it is strided)."""
    return tensor._data if tensor._data.is_contiguous() else contiguous_copy(tensor.detach())._data


def _check_tensor(name: str, argument: str, position: int, value) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{name}(): argument '{argument}' (position {position}) must be Tensor, not {type(value).__name__}"
        )


def _generator(name: str, generator) -> Generator:
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{name}(): argument 'generator' must be tritongrad.Generator, not {type(generator).__name__}")
    return resolve_generator(generator)


def _check_dtype(kernel_name: str, tensor: Tensor, allowed=_GAMMA_DTYPES) -> None:
    if tensor.dtype not in allowed:
        raise NotImplementedError(f"\"{kernel_name}\" not implemented for '{dtype_word(tensor.dtype)}'")


def _broadcast_pair(first: Tensor, second: Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both operands' values, broadcast to one shape and contiguous."""
    shape = broadcast_shapes(tuple(first.shape), tuple(second.shape))
    return (_buffer(first.detach().expand(shape)), _buffer(second.detach().expand(shape)))


def _check_same_dtype(expected: Tensor, other: Tensor) -> None:
    if other.dtype != expected.dtype:
        raise RuntimeError(f"Found dtype {dtype_word(other.dtype)} but expected {dtype_word(expected.dtype)}")


def _sample_gamma(alpha: Tensor, generator: Generator) -> torch.Tensor:
    buffer = _buffer(alpha.detach())
    seed, offset = generator.philox_seed_and_offset(kernels.stream_numbers(buffer.numel(), kernels.GAMMA_ROUNDS))
    return kernels.launch_standard_gamma(buffer, seed, offset)


class _StandardGamma(Function):
    """A Gamma(alpha) sample, reparameterized: d sample / d alpha = _standard_gamma_grad(alpha, sample)."""

    _backward_name = "StandardGammaBackward0"

    @staticmethod
    def forward(ctx, alpha, sample):
        ctx.save_for_backward(alpha, sample)
        return sample

    @staticmethod
    def backward(ctx, grad):
        alpha, sample = ctx.saved_tensors
        return grad * _standard_gamma_grad(alpha, sample), None


def _standard_gamma(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Samples of Gamma(input, 1), one per element (float32 or float64, any shape); differentiable
    in ``input`` by the reparameterization gradient.

    Example::

        >>> tritongrad._standard_gamma(tritongrad.tensor([0.5, 2.0, 40.0]))
        tensor([ 0.2117,  1.5861, 41.2043])
    """
    _check_tensor("_standard_gamma", "input", 1, input)
    generator = _generator("_standard_gamma", generator)
    _check_dtype("gamma_cpu", input)
    sample = _wrap(_sample_gamma(input, generator))
    if input.requires_grad and is_grad_enabled():
        return _StandardGamma.apply(input, sample)
    return sample


class _StandardGammaGrad(Function):
    """_standard_gamma_grad's result in a graph: torch has no derivative for it."""

    _backward_name = "StandardGammaGradBackward0"

    @staticmethod
    def forward(ctx, alpha, x, result):
        return result

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("the derivative for '_standard_gamma_grad' is not implemented.")


def _standard_gamma_grad(input: Tensor, output: Tensor) -> Tensor:
    """d output / d input for standard gamma samples ``output`` of concentrations ``input`` at a
    fixed CDF value: -(dP/dalpha) / pdf with P the regularized lower incomplete gamma (broadcast;
    one floating dtype)."""
    _check_tensor("_standard_gamma_grad", "input", 1, input)
    _check_tensor("_standard_gamma_grad", "output", 2, output)
    _check_same_dtype(input, output)
    _check_dtype("_standard_gamma_grad_cpu", input)
    alpha, x = _broadcast_pair(input, output)
    result = _wrap(kernels.launch_standard_gamma_grad(alpha, x))
    if (input.requires_grad or output.requires_grad) and is_grad_enabled():
        return _StandardGammaGrad.apply(input, output, result)
    return result


class _Poisson(Function):
    """A Poisson sample in the graph: its gradient to the rate is zeros (torch's PoissonBackward0)."""

    _backward_name = "PoissonBackward0"

    @staticmethod
    def forward(ctx, rate, sample):
        ctx.meta = (tuple(rate.shape), rate.dtype, rate.device)
        return sample

    @staticmethod
    def backward(ctx, grad):
        shape, dtype, device = ctx.meta
        return creation.zeros(*shape, dtype=dtype, device=device), None


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Poisson(input) samples, one per element (any floating dtype, rates >= 0): inversion below
    rate 10, Hormann's PTRS above.

    Example::

        >>> tritongrad.poisson(tritongrad.tensor([0.5, 5.0, 100.0]))
        tensor([ 0.,  4., 97.])
    """
    _check_tensor("poisson", "input", 1, input)
    generator = _generator("poisson", generator)
    _check_dtype("poisson_cpu", input, (torch.float16, torch.bfloat16, torch.float32, torch.float64))
    buffer = _buffer(input.detach())
    if buffer.numel() and random_kernels.launch_count_outside(buffer, 0.0, float("inf")).item():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    seed, offset = generator.philox_seed_and_offset(kernels.stream_numbers(buffer.numel(), kernels.POISSON_ROUNDS))
    sample = _wrap(kernels.launch_poisson(buffer, seed, offset))
    return _Poisson.apply(input, sample) if input.requires_grad and is_grad_enabled() else sample


class _NotDifferentiable(Function):
    """A sample that requires grad but has no derivative (torch's NotImplemented node)."""

    _backward_name = "torch::autograd::NotImplemented"

    @staticmethod
    def forward(ctx, op_name, sample, *inputs):
        ctx.op_name = op_name
        return sample

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(f"derivative for aten::{ctx.op_name} is not implemented")


def binomial(count: Tensor, prob: Tensor, generator: Generator | None = None) -> Tensor:
    """Binomial(count, prob) samples (broadcast; float32 or float64, one dtype): inversion where
    count * min(prob, 1 - prob) < 10, Hormann's BTRS elsewhere.

    Example::

        >>> tritongrad.binomial(tritongrad.tensor([10.0, 500.0]), tritongrad.tensor([0.5, 0.1]))
        tensor([ 6., 47.])
    """
    _check_tensor("binomial", "count", 1, count)
    _check_tensor("binomial", "prob", 2, prob)
    generator = _generator("binomial", generator)
    if not count.dtype.is_floating_point:
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: {dtype_word(count.dtype)}")
    if not prob.dtype.is_floating_point:
        raise ValueError(f"binomial only supports floating-point dtypes for prob, got: {dtype_word(prob.dtype)}")
    _check_same_dtype(count, prob)
    _check_dtype("binomial_cpu", count)
    counts, probs = _broadcast_pair(count, prob)
    seed, offset = generator.philox_seed_and_offset(kernels.stream_numbers(counts.numel(), kernels.BINOMIAL_ROUNDS))
    sample = _wrap(kernels.launch_binomial(counts, probs, seed, offset))
    if (count.requires_grad or prob.requires_grad) and is_grad_enabled():
        return _NotDifferentiable.apply("binomial", sample, count, prob)
    return sample


def _sample_dirichlet(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Dirichlet(input) samples along the last dim: standard gammas divided by their sum, clamped
    below at the type's smallest normal number (as torch's)."""
    _check_tensor("_sample_dirichlet", "input", 1, input)
    generator = _generator("_sample_dirichlet", generator)
    _check_dtype("dirichlet", input)
    gammas = _wrap(_sample_gamma(input, generator))
    sample = (gammas / gammas.sum(-1, keepdim=True)).clamp(min=torch.finfo(input.dtype).tiny)
    if input.requires_grad and is_grad_enabled():
        return _NotDifferentiable.apply("_sample_dirichlet", sample, input)
    return sample
