"""Pooling ops: max/average pooling with fixed or adaptive windows, in 1-d and 2-d.

Every form runs the 2-d kernels of kernels/pool.py on an (N, C, H, W) view of the input buffer:
an unbatched (C, H, W) input gets a leading dim of 1, a 1-d (N, C, L) input a height of 1; the
result is viewed back. The argument checks and their messages follow torch's (aten Pool.h), so
bad input fails here with torch's exception type rather than inside a kernel.

The backward is itself a Function (linear in the output gradient) whose backward is the
pooling again (average) or a gather at the argmax (max), so gradients of any order work.
"""

from __future__ import annotations

from collections.abc import Sequence

from tritongrad.autograd.function import Function
from tritongrad.dtypes import dtype_word
from tritongrad.kernels import pool as kernels
from tritongrad.kernels.pool import PoolWindow
from tritongrad.tensor import Tensor

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "pooling_output_size",
]


# The pools' positions of their int-tuple arguments in torch's signatures (input is 1), for its TypeErrors.
_POSITIONS = {"kernel_size": 2, "stride": 3, "padding": 4, "dilation": 5}


def _ints(value, count: int, name: str, argument: str, *, allow_empty: bool = False) -> tuple[int, ...]:
    """An int or a sequence of ``count`` ints as a tuple (torch's ``kernel_size must either be ...``);
    anything else is torch's parser TypeError (a bool, a float, a float element)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * count
    where = f"{name}(): argument '{argument}' (position {_POSITIONS[argument]}) must be tuple of ints"
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(f"{where}, not {type(value).__name__}")
    for position, element in enumerate(value):
        if not isinstance(element, int) or isinstance(element, bool):
            raise TypeError(f"{where}, but found element of type {type(element).__name__} at pos {position}")
    if len(value) == 1:
        return (value[0],) * count
    if len(value) == count:
        return tuple(value)
    if allow_empty and len(value) == 0:
        return ()
    words = "a single int, or a tuple of two ints" if count == 2 else "a single int"
    raise RuntimeError(f"{name}: {argument} must either be {words}")


def pooling_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape: windows that start inside the input or its left padding."""
    extent = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = extent // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _as_4d(data, spatial: int):
    """A buffer of a ``spatial``-d pooling's input or output as (N, C, H, W) (a view)."""
    batched = data.dim() == spatial + 2
    if spatial == 1:
        data = data.unsqueeze(-2)
    return data if batched else data.unsqueeze(0)


def _check_input(x, name: str, spatial: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    batched = spatial + 2
    if x.dim() not in (batched - 1, batched):
        if spatial == 2:
            raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {x.dim()}-dimensional tensor for argument #1 'self' "
            f"(while checking arguments for {name})"
        )
    non_batch = x.shape[1:] if x.dim() == batched else x.shape
    if any(size == 0 for size in non_batch):
        raise RuntimeError(
            f"Expected {batched - 1}D or {batched}D (batch mode) tensor with optional 0 dim batch size for input, "
            f"but got:{list(x.shape)}"
        )


class _Geometry:
    """What a pooling's backward (and its backward) needs: the window, the options, the argmax."""

    __slots__ = (
        "window",
        "kind",
        "spatial",
        "count_include_pad",
        "divisor_override",
        "indices",
        "input_shape",
        "channels_last",
    )

    def __init__(self, window, kind, spatial, count_include_pad, divisor_override, indices, input_shape):
        self.window, self.kind, self.spatial = window, kind, spatial
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override
        self.indices, self.input_shape = indices, input_shape
        self.channels_last = False  # the layout of the input's gradient (torch's: the input's)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return _pooled_shape(self.input_shape, self.window.output_size, self.spatial)


class Pool2d(Function):
    """Fixed-window max or average pooling of an (N, C, H, W) view; see ``max_pool2d``/``avg_pool2d``.

    Returns the output and, for max pooling with ``return_indices``, the int64 argmax indices.
    """

    _backward_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, window, kind, spatial, return_indices, count_include_pad, divisor_override):
        data = _as_4d(x._data, spatial)
        out, indices = kernels.launch_pool2d_fwd(
            data,
            window,
            kind=kind,
            count_include_pad=count_include_pad,
            divisor_override=divisor_override,
        )
        geometry = _Geometry(window, kind, spatial, count_include_pad, divisor_override, indices, tuple(x.shape))
        geometry.channels_last = kernels.prefers_channels_last(data)
        ctx.geometry = geometry
        # The input is saved as torch's pooling saves it (its backward reads the input): an in-place
        # write into it after the forward is then torch's version error, though the indices suffice here.
        ctx.save_for_backward(x)
        result = Tensor._wrap(out.view(geometry.output_shape))
        if not return_indices:
            return result
        index_tensor = Tensor._wrap(indices.view(geometry.output_shape))
        ctx.mark_non_differentiable(index_tensor)
        return result, index_tensor

    @staticmethod
    def backward(ctx, grad, *unused):
        ctx.saved_tensors  # noqa: B018 - the version check of the saved input (see forward)
        return Pool2dBackward.apply(grad, ctx.geometry), None, None, None, None, None, None


class Pool2dBackward(Function):
    """The gradient of Pool2d w.r.t. its input (a gather-sum kernel). It is linear in the output
    gradient; its own gradient is the average pooling again, or for max pooling a gather at the
    argmax (MaxPoolGather), so gradients of any order stay on the kernels."""

    @staticmethod
    def forward(ctx, grad, geometry):
        ctx.geometry = geometry
        grad_x = kernels.launch_pool2d_bwd(
            _as_4d(grad._data, geometry.spatial),
            geometry.indices,
            _as_4d_shape(geometry.input_shape, geometry.spatial)[2:],
            geometry.window,
            kind=geometry.kind,
            count_include_pad=geometry.count_include_pad,
            divisor_override=geometry.divisor_override,
            channels_last=geometry.channels_last,
        )
        return Tensor._wrap(grad_x.view(geometry.input_shape))

    @staticmethod
    def backward(ctx, grad_grad):
        g = ctx.geometry
        if g.kind == "max":
            return MaxPoolGather.apply(grad_grad, g), None
        node = _ADAPTIVE_AVG_2D if g.window.adaptive else _AVG_POOL_2D
        pooled = node.apply(grad_grad, g.window, "avg", g.spatial, False, g.count_include_pad, g.divisor_override)
        return pooled, None


class MaxPoolGather(Function):
    """Values of a tensor of the pooling's input shape at its argmax (the output's shape); its
    gradient is the max pooling's backward."""

    @staticmethod
    def forward(ctx, x, geometry):
        ctx.geometry = geometry
        out = kernels.launch_pool2d_gather(_as_4d(x._data, geometry.spatial), geometry.indices)
        return Tensor._wrap(out.view(geometry.output_shape))

    @staticmethod
    def backward(ctx, grad):
        return Pool2dBackward.apply(grad, ctx.geometry), None


def _as_4d_shape(shape, spatial: int) -> tuple[int, ...]:
    """The (N, C, H, W) shape ``_as_4d`` gives a buffer of ``shape``."""
    shape = tuple(shape)
    if spatial == 1:
        shape = (*shape[:-1], 1, shape[-1])
    return shape if len(shape) == 4 else (1, *shape)


def _pooled_shape(shape, output_size, spatial: int) -> tuple[int, ...]:
    return tuple(shape[:-spatial]) + tuple(output_size[-spatial:])


def _named(name: str) -> type[Pool2d]:
    return type(f"Pool2d_{name}", (Pool2d,), {"_backward_name": name})


# torch's grad_fn names: the 2-d kernels' own nodes, a squeeze for the 1-d forms (views of the
# 2-d ones in torch too), a mean for adaptive average pooling to 1x1.
_MAX_POOL_2D = Pool2d
_AVG_POOL_2D = _named("AvgPool2DBackward0")
_ADAPTIVE_AVG_2D = _named("AdaptiveAvgPool2DBackward0")
_ADAPTIVE_MAX_2D = _named("AdaptiveMaxPool2DBackward0")
_GLOBAL_AVG = _named("MeanBackward1")
_POOL_1D = _named("SqueezeBackward1")


def _fixed_window(name, x, kernel_size, stride, padding, dilation, ceil_mode, spatial):
    """The PoolWindow of a fixed-window pooling, after torch's argument and shape checks."""
    count = 2 if spatial == 2 else 1
    kernel = _ints(kernel_size, count, name, "kernel_size")
    stride = _ints(stride, count, name, "stride", allow_empty=True) if stride is not None else ()
    stride = stride or kernel
    padding = _ints(padding, count, name, "padding")
    dilation = _ints(dilation, count, name, "dilation")
    if spatial == 1:
        kernel, stride, padding, dilation = (1, *kernel), (1, *stride), (0, *padding), (1, *dilation)
    if any(s == 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"pad must be non-negative, but got pad: {padding[-1] if padding[-1] < 0 else padding[0]}")
    for k, p, d in zip(kernel, padding, dilation):
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} "
                f"and dilation={d}"
            )
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} kW: {kernel[1]}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"stride should be greater than zero, but got dH: {stride[0]} dW: {stride[1]}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilationH: {dilation[0]} dilationW: {dilation[1]}"
        )
    _check_input(x, name, spatial)
    if any(k // 2 < p for k, p in zip(kernel, padding)):
        raise RuntimeError(
            f"pad should be smaller than or equal to half of kernel size, but got padW = {padding[1]}, "
            f"padH = {padding[0]}, kW = {kernel[1]}, kH = {kernel[0]}"
        )
    height, width = (1, x.shape[-1]) if spatial == 1 else tuple(x.shape[-2:])
    output = tuple(
        pooling_output_size(size, k, s, p, d, ceil_mode)
        for size, k, s, p, d in zip((height, width), kernel, stride, padding, dilation)
    )
    if output[0] < 1 or output[1] < 1:
        planes = x.shape[-spatial - 1]
        raise RuntimeError(
            f"Given input size: ({planes}x{height}x{width}). Calculated output size: "
            f"({planes}x{output[0]}x{output[1]}). Output size is too small"
        )
    return PoolWindow(output, kernel, stride, padding, dilation)


def _check_avg_dtype(x) -> None:
    """torch's CPU average pooling takes floating types and int64 (NotImplementedError, naming its kernel, else)."""
    if isinstance(x, Tensor) and x.dtype not in kernels.AVG_POOL_DTYPES:
        raise NotImplementedError(f"\"avg_pool2d\" not implemented for '{dtype_word(x.dtype)}'")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-d max pooling of (N, C, H, W) or (C, H, W) ``input`` as torch.nn.functional.max_pool2d.

    A NaN in a window is its maximum. With ``return_indices`` also returns the int64 argmax of
    each window as a flat index ``h * W + w`` into its input plane.

    >>> max_pool2d(tritongrad.arange(16.0).reshape(1, 4, 4), 2)
    tensor([[[ 5.,  7.],
             [13., 15.]]])
    """
    window = _fixed_window("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, 2)
    return _MAX_POOL_2D.apply(input, window, "max", 2, return_indices, True, None)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-d max pooling of (N, C, L) or (C, L) ``input`` (a height-1 view of ``max_pool2d``)."""
    if not return_indices and not (input.is_floating_point() or input.is_complex()) and input.device.type == "cpu":
        # (torch's CPU max_pool1d kernel, taken without indices, has no integer types; max_pool2d has)
        raise NotImplementedError(f"\"max_pool1d_impl\" not implemented for '{dtype_word(input.dtype)}'")
    window = _fixed_window("max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, 1)
    return _POOL_1D.apply(input, window, "max", 1, return_indices, True, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):  # fmt: skip
    """2-d average pooling of (N, C, H, W) or (C, H, W) ``input`` as torch's avg_pool2d.

    Each window is divided by ``divisor_override`` if given, else by its size clipped to the
    padded input (``count_include_pad=True``) or by the number of real elements in it. Floating
    types and int64 (the window's sum divided with truncation toward zero, as torch's CPU kernel;
    other integer types raise NotImplementedError as torch's).
    """
    _check_avg_dtype(input)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    window = _fixed_window("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode, 2)
    return _AVG_POOL_2D.apply(input, window, "avg", 2, False, bool(count_include_pad), divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-d average pooling of (N, C, L) or (C, L) ``input`` (a height-1 view of ``avg_pool2d``)."""
    _check_avg_dtype(input)
    window = _fixed_window("avg_pool1d", input, kernel_size, stride, padding, 1, ceil_mode, 1)
    return _POOL_1D.apply(input, window, "avg", 1, False, bool(count_include_pad), None)


def _adaptive_window(name: str, x, output_size, spatial: int) -> PoolWindow:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if not x.dtype.is_floating_point:  # (torch's 1-d pools run its 2-d kernels, named so in its error)
        raise NotImplementedError(f"\"{name.replace('1d', '2d')}\" not implemented for '{dtype_word(x.dtype)}'")
    if spatial > 1:
        check_rank_for_output_size(x, output_size)
    if x.dim() not in (spatial + 1, spatial + 2):
        if spatial == 1:
            raise RuntimeError(
                f"Expected 2 to 3 dimensions, but got {x.dim()}-dimensional tensor for argument #1 'self' "
                f"(while checking arguments for {name})"
            )
        raise RuntimeError(f"{name}(): Expected 3D or 4D tensor, but got {list(x.shape)}")
    if output_size is None and spatial == 1:  # (a None size keeps the input's: 2-d pooling only)
        raise TypeError(f"{name}(): argument 'output_size' (position 2) must be tuple of ints, not NoneType")
    sizes = [output_size] * spatial if isinstance(output_size, int) or output_size is None else list(output_size)
    if len(sizes) != spatial:
        if spatial == 1:
            raise RuntimeError(f"{name}() argument 'output_size' should contain one int (got {len(sizes)})")
        raise RuntimeError(f"{name}: output_size must be 2")
    sizes = [x.shape[-spatial + d] if s is None else int(s) for d, s in enumerate(sizes)]
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but received {sizes}")
    for dim in range(1, x.dim()):
        if x.shape[dim] == 0:
            raise RuntimeError(
                f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes "
                f"{list(x.shape)} with dimension {dim} being empty"
            )
    return PoolWindow((1, *sizes) if spatial == 1 else sizes, adaptive=True)


def check_rank_for_output_size(x: Tensor, output_size) -> None:
    """torch's 2-d and 3-d adaptive pools read a tuple ``output_size``'s None entries from the input's
    trailing sizes before any other check: an input with no more dims than the tuple is a ValueError."""
    if isinstance(output_size, (list, tuple)) and x.dim() <= len(output_size):
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")


def adaptive_avg_pool2d(input, output_size):
    """Average over torch's adaptive windows ``[floor(i * H / OH), ceil((i + 1) * H / OH))``.

    ``output_size`` is an int or a pair whose None entries keep the input's size. An output size
    of 0 gives an empty result whose gradient w.r.t. the input is zero (torch's backward raises).
    """
    window = _adaptive_window("adaptive_avg_pool2d", input, output_size, 2)
    function = _GLOBAL_AVG if window.output_size == (1, 1) else _ADAPTIVE_AVG_2D
    return function.apply(input, window, "avg", 2, False, True, None)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over torch's adaptive windows (see ``adaptive_avg_pool2d``), optionally with indices."""
    window = _adaptive_window("adaptive_max_pool2d", input, output_size, 2)
    return _ADAPTIVE_MAX_2D.apply(input, window, "max", 2, return_indices, True, None)


def adaptive_avg_pool1d(input, output_size):
    """1-d adaptive average pooling of (N, C, L) or (C, L) ``input``."""
    window = _adaptive_window("adaptive_avg_pool1d", input, output_size, 1)
    return _POOL_1D.apply(input, window, "avg", 1, False, True, None)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """1-d adaptive max pooling of (N, C, L) or (C, L) ``input``, optionally with indices."""
    window = _adaptive_window("adaptive_max_pool1d", input, output_size, 1)
    return _POOL_1D.apply(input, window, "max", 1, return_indices, True, None)
