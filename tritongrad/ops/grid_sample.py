"""F.grid_sample (4-d input: bilinear, nearest, bicubic; zeros, border, reflection padding) on
kernels/grid_sample.py, and F.affine_grid (4-d and 5-d sizes) composed of tritongrad ops.

``affine_grid`` is torch's affine_grid_generator: a base grid of pixel centres (x, y[, z], 1) in
[-1, 1] (``linspace``, scaled by (size - 1) / size without align_corners; 0 along a unit dim)
times theta transposed, one batched matmul. Its node (``AffineGridGeneratorBackward0``) takes the
gradient of theta as grad^T @ base, itself a matmul, so gradients of any order work.

``grid_sample``'s node (``GridSampler2DBackward0``) runs one backward kernel for the input and
grid gradients. Difference from torch: that backward is not differentiable again here (a
gradient of a gradient through grid_sample raises), where torch's is.
"""

from __future__ import annotations

import functools

import torch

from tritongrad import caller_warnings, creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import dtype_word
from tritongrad.kernels import grid_sample as kernels
from tritongrad.ops.autocast import autocast_op
from tritongrad.tensor import Tensor

__all__ = ["grid_sample", "affine_grid"]

_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please specify "
    "align_corners=True if the old behavior is desired. See the documentation of grid_sample for details."
)


def _sizes(tensor) -> str:
    return "[" + ", ".join(str(s) for s in tensor.shape) + "]"


class GridSampler2D(Function):
    """out = x sampled at grid; ``options`` = (mode, padding_mode, align_corners)."""

    _backward_name = "GridSampler2DBackward0"

    @staticmethod
    def forward(ctx, input, grid, options):
        ctx.save_for_backward(input, grid)
        ctx.options = options
        return Tensor._wrap(kernels.launch_grid_sample2d_fwd(input._data, grid._data, *options))

    @staticmethod
    def backward(ctx, grad):
        input, grid = ctx.saved_tensors
        if is_grad_enabled():  # create_graph=True: a node that refuses to be differentiated again
            return (*GridSampler2DGrad.apply(grad, input, grid, ctx.options), None)
        return (*_input_and_grid_grads(grad, input, grid, ctx.options, *ctx.needs_input_grad[:2]), None)


def _input_and_grid_grads(grad, input, grid, options, input_grad: bool, grid_grad: bool):
    grad_x, grad_grid = kernels.launch_grid_sample2d_bwd(
        grad._data, input._data, grid._data, *options, input_grad=input_grad, grid_grad=grid_grad
    )
    if grad_x is not None:
        grad_x = Tensor._wrap(grad_x)
        if grad_x.dtype != input.dtype:  # half types accumulate in float32
            grad_x = grad_x.to(input.dtype)
    return grad_x, None if grad_grid is None else Tensor._wrap(grad_grid)


class GridSampler2DGrad(Function):
    """The two gradients of GridSampler2D as a node, recorded under create_graph=True."""

    _backward_name = "GridSampler2DBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, input, grid, options):
        return _input_and_grid_grads(grad, input, grid, options, True, True)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("derivative for grid_sampler_2d_backward is not implemented in tritongrad")


@autocast_op("grid_sample")
def grid_sample(input, grid, mode: str = "bilinear", padding_mode: str = "zeros", align_corners=None):
    """Samples (N, C, H, W) ``input`` at the (N, OH, OW, 2) ``grid`` of (x, y) points in [-1, 1]
    (torch.nn.functional.grid_sample): an (N, C, OH, OW) result.

    ``mode``: 'bilinear', 'nearest' (ties to even) or 'bicubic'; ``padding_mode``: 'zeros',
    'border' or 'reflection'; ``align_corners`` (default False, with torch's warning): -1 and 1
    are the centres (True) or the outer edges (False) of the corner pixels. Gradients flow to both
    ``input`` and ``grid``. 5-d (volumetric) input is not supported.

    >>> grid_sample(tritongrad.ones(1, 1, 2, 2), tritongrad.zeros(1, 1, 1, 2), align_corners=False).shape
    tritongrad.Size([1, 1, 1, 1])
    """
    if mode not in kernels.MODES:
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '{mode}'"
        )
    if padding_mode not in kernels.PADDING_MODES:
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', but got: "
            f"'{padding_mode}'"
        )
    if align_corners is None:
        caller_warnings.warn(_ALIGN_WARNING)
        align_corners = False
    for position, (name, value) in enumerate((("input", input), ("grid", grid)), start=1):
        if not isinstance(value, Tensor):
            raise TypeError(
                f"grid_sampler(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__}"
            )
    if input.device != grid.device:
        raise RuntimeError(
            "grid_sampler(): expected input and grid to be on same device, but input is on "
            f"{input.device} and grid is on {grid.device}"
        )
    if input.dim() == 0 or grid.dim() == 0 or input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            "grid_sampler(): expected grid and input to have same batch size, but got input with sizes "
            f"{_sizes(input)} and grid with sizes {_sizes(grid)}"
        )
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but got grid with "
            f"sizes {_sizes(grid)}"
        )
    for dim in range(2, input.dim()):
        if input.shape[dim] <= 0:
            raise RuntimeError(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but input has sizes "
                f"{_sizes(input)} with dimension {dim} being empty"
            )
    if input.dim() == 5 and grid.dim() == 5:
        raise NotImplementedError(
            "tritongrad's grid_sample samples 4-D (N, C, H, W) input; 5-D (volumetric) input is not implemented"
        )
    if input.dim() != 4 or grid.dim() != 4:
        ranks = "4D" if input.dim() == 4 else "5D"
        raise RuntimeError(
            f"grid_sampler(): expected {ranks} input and grid with same number of dimensions, but got input with "
            f"sizes {_sizes(input)} and grid with sizes {_sizes(grid)}"
        )
    if grid.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {dtype_word(input.dtype)} but found {dtype_word(grid.dtype)}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"grid_sampler_2d_cpu_kernel_impl\" not implemented for '{dtype_word(input.dtype)}'"
        )
    return GridSampler2D.apply(input, grid, (mode, padding_mode, bool(align_corners)))


@functools.lru_cache(maxsize=32)
def _base_grid(spatial: tuple[int, ...], align_corners: bool, dtype: torch.dtype, device) -> Tensor:
    """The (prod(spatial), len(spatial) + 1) rows (x, y[, z], 1) of torch's affine base grid,
    x varying fastest."""
    dims = len(spatial)
    base = None
    for axis, steps in enumerate(reversed(spatial)):  # x along the last dim, then y, then z
        if steps <= 1:
            line = creation.zeros(max(steps, 1), dtype=dtype, device=device)
        else:
            line = creation.linspace(-1, 1, steps, dtype=dtype, device=device)
            if not align_corners:
                line = line * (steps - 1) / steps
        shape = [1] * dims
        shape[dims - 1 - axis] = steps
        unit = [0.0] * (dims + 1)
        unit[axis] = 1.0
        term = line.view(*shape, 1) * creation.tensor(unit, dtype=dtype, device=device)
        base = term if base is None else base + term
    last = [0.0] * dims + [1.0]
    base = base + creation.tensor(last, dtype=dtype, device=device)
    return base.reshape(-1, dims + 1)


class AffineGridGenerator(Function):
    """grid (N, *spatial, k) = base (prod(spatial), k + 1) @ theta^T, theta (N, k, k + 1)."""

    _backward_name = "AffineGridGeneratorBackward0"

    @staticmethod
    def forward(ctx, theta, spatial, align_corners):
        base = _base_grid(spatial, align_corners, theta.dtype, theta.device)
        ctx.base, ctx.spatial = base, spatial
        grid = base.unsqueeze(0) @ theta.transpose(1, 2)
        return Tensor._wrap(grid._data.view(theta.shape[0], *spatial, len(spatial)))

    @staticmethod
    def backward(ctx, grad):
        batch, dims = grad.shape[0], len(ctx.spatial)
        rows = grad.reshape(batch, -1, dims).transpose(1, 2)
        return rows @ ctx.base.unsqueeze(0), None, None


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of the affine maps ``theta`` (torch.nn.functional.affine_grid): theta
    (N, 2, 3) for a 4-d ``size`` (N, C, H, W) gives an (N, H, W, 2) grid of (x, y) points, theta
    (N, 3, 4) for a 5-d size an (N, D, H, W, 3) grid; for ``grid_sample``.

    >>> affine_grid(tritongrad.eye(2, 3).unsqueeze(0), (1, 1, 2, 2), align_corners=True)[0, 0].tolist()
    [[-1.0, -1.0], [1.0, -1.0]]
    """
    if align_corners is None:
        caller_warnings.warn(_ALIGN_WARNING)
        align_corners = False
    if not isinstance(theta, Tensor):
        raise TypeError(f"affine_grid(): argument 'theta' must be Tensor, not {type(theta).__name__}")
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    shown, size = size, tuple(int(s) for s in size)
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(
                f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {shown}. Got {theta.shape}."
            )
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(
                f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {shown}. Got {theta.shape}."
            )
        spatial = size[-3:]
    else:
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. "
            f"Got size {shown}."
        )
    if align_corners and min(spatial) == 1:
        caller_warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when align_corners=True. "
            "This is not an intended use case of affine_grid. See the documentation of affine_grid for details."
        )
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {shown}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{size[0]}, {len(spatial) + 1}] but "
            f"got: [{theta.shape[0]}, {theta.shape[2]}]."
        )
    return AffineGridGenerator.apply(theta, tuple(spatial), bool(align_corners))
