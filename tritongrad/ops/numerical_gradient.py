"""torch.gradient: the derivative of sampled values along each requested dim, by second-order
central differences inside and one-sided differences of order ``edge_order`` at the two ends
(Fornberg 1988; numpy.gradient's method, which torch follows), with uniform spacing (a number per
dim) or at given coordinates (a 1-D tensor per dim; the nonuniform three-point weights).

Composed of tritongrad ops (narrow, arithmetic, cat), so the results are differentiable and each
ends in a ``CatBackward0`` node, as torch's does; the argument checks use torch's messages.
"""

from __future__ import annotations

from tritongrad.ops.indexing import cat
from tritongrad.shapes import normalize_dim
from tritongrad.tensor import Tensor

__all__ = ["gradient"]


def _dims(input: Tensor, dim) -> list[int]:
    if dim is None:
        return list(range(input.ndim))
    dims = [dim] if isinstance(dim, int) else list(dim)
    normalized = [normalize_dim(d, input.ndim) for d in dims]
    for index, d in enumerate(normalized):
        if d in normalized[:index]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return normalized


def _spacings(input: Tensor, spacing, dims: list[int], dim_kind: str) -> list:
    """One number or coordinate tensor per dim in ``dims``; ``dim_kind``: the type name of the dim argument
    ("" when it was not given), which torch's messages name."""
    if spacing is None:
        return [1.0] * len(dims)
    if isinstance(spacing, Tensor) and spacing.ndim == 0:
        spacing = spacing.item()  # (torch's argument parser reads a 0-dim tensor as a number)
    if isinstance(spacing, (int, float)) and not isinstance(spacing, bool):
        return [spacing] * len(dims)
    if isinstance(spacing, Tensor):
        raise TypeError(
            "gradient() received an invalid combination of arguments - got (Tensor, "
            f"{'dim=' + dim_kind + ', ' if dim_kind else ''}spacing=Tensor), but expected one of:"
        )
    spacing = list(spacing)
    if spacing and isinstance(spacing[0], Tensor):  # (a list of coordinate tensors, or of numbers: not mixed)
        for index, value in enumerate(spacing):
            if not isinstance(value, Tensor):
                raise TypeError(f"expected Tensor as element {index} in argument 1, but got {type(value).__name__}")
    elif any(isinstance(value, Tensor) for value in spacing):
        raise TypeError("gradient(): argument 'spacing' must be a tuple of numbers or a tuple of tensors")
    if len(spacing) != len(dims):
        if dim_kind:
            raise RuntimeError(
                "torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim arguments to "
                f"have the same length, but got a spacing argument of length {len(spacing)} and a dim argument of "
                f"length {len(dims)}."
            )
        raise RuntimeError(
            "torch.gradient expected spacing to be unspecified, a scalar, or a list of length equal to "
            f"'self.dim() = {input.ndim}', since dim argument was not given, but got a list of length {len(spacing)}"
        )
    for value in spacing:
        if isinstance(value, Tensor) and value.ndim != 1:
            raise RuntimeError(
                "torch.gradient expected each element of spacing to have one dimension, but got an element with "
                f"{value.ndim} dimensions!"
            )
    return spacing


def _along(values: Tensor, dim: int, ndim: int) -> Tensor:
    """A 1-D tensor of per-position weights shaped to broadcast along ``dim`` of an ``ndim``-D tensor."""
    return values.reshape([-1 if d == dim else 1 for d in range(ndim)])


def _uniform(input: Tensor, dim: int, step, edge_order: int) -> Tensor:
    size = input.shape[dim]

    def part(start: int, length: int = 1) -> Tensor:
        return input.narrow(dim, start, length)

    center = (part(2, size - 2) - part(0, size - 2)) / (2 * step)
    if edge_order == 1:
        first = (part(1) - part(0)) / step
        last = (part(size - 1) - part(size - 2)) / step
    else:
        first = (part(0) * -1.5 + part(1) * 2 - part(2) * 0.5) / step
        last = (part(size - 3) * 0.5 - part(size - 2) * 2 + part(size - 1) * 1.5) / step
    return cat([first, center, last], dim)


def _coordinates(input: Tensor, dim: int, coordinates: Tensor, edge_order: int) -> Tensor:
    size = input.shape[dim]
    ndim = input.ndim

    def part(start: int, length: int = 1) -> Tensor:
        return input.narrow(dim, start, length)

    steps = coordinates[1:] - coordinates[:-1]
    before, after = steps[:-1], steps[1:]
    weight_before = _along(-after / (before * (before + after)), dim, ndim)
    weight_here = _along((after - before) / (before * after), dim, ndim)
    weight_after = _along(before / (after * (before + after)), dim, ndim)
    center = weight_before * part(0, size - 2) + weight_here * part(1, size - 2) + weight_after * part(2, size - 2)
    if edge_order == 1:
        first = (part(1) - part(0)) / steps[0]
        last = (part(size - 1) - part(size - 2)) / steps[-1]
    else:
        h0, h1 = steps[0], steps[1]
        first = (
            part(0) * (-(2.0 * h0 + h1) / (h0 * (h0 + h1)))
            + part(1) * ((h0 + h1) / (h0 * h1))
            + part(2) * (-h0 / (h1 * (h0 + h1)))
        )
        h0, h1 = steps[-2], steps[-1]  # (the last two steps: h0 before h1)
        last = (
            part(size - 3) * (h1 / (h0 * (h1 + h0)))
            + part(size - 2) * (-(h1 + h0) / (h1 * h0))
            + part(size - 1) * ((2.0 * h1 + h0) / (h1 * (h1 + h0)))
        )
    return cat([first, center, last], dim)


def gradient(input: Tensor, *, spacing=None, dim=None, edge_order: int = 1) -> tuple[Tensor, ...]:
    """torch.gradient(input, *, spacing=1, dim=None, edge_order=1): one derivative per dim (all dims
    when ``dim`` is None); ``spacing`` a number, a list of numbers or a list of 1-D coordinate tensors."""
    dims = _dims(input, dim)
    spacings = _spacings(input, spacing, dims, "" if dim is None else type(dim).__name__)
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    results = []
    for d, step in zip(dims, spacings, strict=True):
        if isinstance(step, Tensor):
            results.append(_coordinates(input, d, step, edge_order))
        else:
            results.append(_uniform(input, d, step, edge_order))
    return tuple(results)
