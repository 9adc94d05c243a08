"""One flat vector from many parameters and back, as torch.nn.utils' ``parameters_to_vector``."""

from __future__ import annotations

from tritongrad.autograd import no_grad
from tritongrad.ops import cat
from tritongrad.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """The parameters' values, flattened and concatenated in order (differentiable)."""
    return cat([p.view(-1) for p in parameters])  # (view, as torch's: a non-contiguous parameter is an error)


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copies consecutive slices of the 1-D ``vec`` into ``parameters`` (the inverse of the above)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    if vec.dim() != 1:
        raise RuntimeError(f"expected a 1-D vector, got shape {list(vec.shape)}")
    offset = 0
    with no_grad():
        for parameter in parameters:
            count = parameter.numel()
            parameter.copy_(vec[offset : offset + count].view_as(parameter))
            offset += count
