"""F.interpolate: 'nearest', 'nearest-exact' (3-d, 4-d and 5-d input), 'linear' (3-d), 'bilinear'
and 'bicubic' (4-d), 'trilinear' (5-d) on kernels/resample.py, 'area' as torch computes it:
adaptive average pooling (ops/pooling.py, ops/pooling3d.py), and the antialiased 4-d resizes
(ops/antialias.py).

A 1-d resize of (N, C, L) runs the 2-d kernels on an (N, C, 1, L) view. A 3-d resize of
(N, C, D, H, W) is separable: the 2-d kernels resize (H, W) on an (N, C * D, H, W) view, then D on
an (N, C, D, OH * OW) view (unit scale along the flattened plane, which the kernels copy exactly);
its graph is those two nodes, the last one named as torch names the 3-d node. (For half types the
intermediate is rounded once more than in torch's single pass.) Output sizes, source
scales and errors follow torch: with ``scale_factor`` (and ``recompute_scale_factor`` not True)
the output is ``floor(size * scale_factor)`` and sources use ``1 / scale_factor``.

The resize is linear, so its backward (two 1-d gather kernels) is itself a Function whose
backward resizes again: gradients of any order stay on the kernels.
"""

from __future__ import annotations

import math
import numbers

import torch

from tritongrad.autograd.function import Function
from tritongrad.dtypes import dtype_word
from tritongrad.kernels import resample as kernels
from tritongrad.kernels.common import FLOATING_DTYPES
from tritongrad.kernels.pool import prefers_channels_last
from tritongrad.ops import pooling, pooling3d
from tritongrad.ops.antialias import antialiased_resize
from tritongrad.ops.autocast import autocast_op
from tritongrad.tensor import Tensor

__all__ = ["interpolate", "upsample"]

_ALL_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"  # torch 2.13's list
_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_NAMES = {
    ("nearest", 1): "UpsampleNearest1DBackward0",
    ("nearest", 2): "UpsampleNearest2DBackward0",
    ("nearest-exact", 1): "UpsampleNearestExact1DBackward0",
    ("nearest-exact", 2): "UpsampleNearestExact2DBackward0",
    ("linear", 1): "UpsampleLinear1DBackward0",
    ("bilinear", 2): "UpsampleBilinear2DBackward0",
    ("bicubic", 2): "UpsampleBicubic2DBackward0",
    ("nearest", 3): "UpsampleNearest3DBackward0",
    ("nearest-exact", 3): "UpsampleNearestExact3DBackward0",
    ("trilinear", 3): "UpsampleTrilinear3DBackward0",
}


def _as_4d(data):
    return data if data.dim() == 4 else data.unsqueeze(-2)


class Resample(Function):
    """The resize node: ``plan`` = (output size, scales, linear, align_corners, exact, cubic) over the
    4-d view."""

    @staticmethod
    def forward(ctx, x, plan):
        output_size, scales, linear, align_corners, exact, cubic = plan
        data = _as_4d(x._data)
        ctx.plan, ctx.input_shape = plan, tuple(x.shape)
        ctx.channels_last = prefers_channels_last(data)  # the gradient's layout, as torch's
        out = kernels.launch_resample2d_fwd(
            data, output_size, scales, linear=linear, align_corners=align_corners, exact=exact, cubic=cubic
        )
        return Tensor._wrap(out if x.dim() == 4 else out.squeeze(-2))

    @staticmethod
    def backward(ctx, grad):
        return ResampleBackward.apply(grad, ctx.input_shape, ctx.plan, ctx.channels_last, ctx.name()), None


class ResampleBackward(Function):
    """The gradient of Resample (a gather-sum); its own gradient is the resize again."""

    @staticmethod
    def forward(ctx, grad, input_shape, plan, channels_last, name):
        output_size, scales, linear, align_corners, exact, cubic = plan
        ctx.plan, ctx.name = plan, name
        grad_x = kernels.launch_resample2d_bwd(
            _as_4d(grad._data),
            tuple(_as_4d_shape(input_shape)[2:]),
            scales,
            linear=linear,
            align_corners=align_corners,
            exact=exact,
            channels_last=channels_last,
            cubic=cubic,
        )
        return Tensor._wrap(grad_x.view(input_shape))

    @staticmethod
    def backward(ctx, grad_grad):
        return _node(ctx.name).apply(grad_grad, ctx.plan), None, None, None, None


class ResampleDepth(Resample):
    """The last step of a 3-d resize: Resample along D of (N, C, D, OH * OW), returned as
    (N, C, OD, OH, OW) (one node, named as torch's 3-d node)."""

    @staticmethod
    def forward(ctx, x, plan, shape):
        out = Resample.forward(ctx, x, plan)
        ctx.columns = tuple(out.shape)
        return Tensor._wrap(out._data.view(shape))

    @staticmethod
    def backward(ctx, grad):
        return (*Resample.backward(ctx, grad.reshape(ctx.columns)), None)


def _as_4d_shape(shape) -> tuple[int, ...]:
    return tuple(shape) if len(shape) == 4 else (*shape[:-1], 1, shape[-1])


_NODES: dict[tuple[str, type], type[Resample]] = {}


def _node(name: str, base: type[Resample] = Resample) -> type[Resample]:
    """The ``base`` node class named as torch names ``name``'s node."""
    if (name, base) not in _NODES:
        _NODES[name, base] = type(f"{base.__name__}_{name}", (base,), {"_backward_name": name})
    return _NODES[name, base]


def _spatial_sizes(input, size, scale_factor, recompute_scale_factor):
    """(output sizes, scale factors to use or None, the argument torch's op parser would refuse or
    None) per spatial dim, with torch's Python-level checks. With a refused argument the sizes are
    left as given (None for a refused scale factor); ``interpolate`` raises where torch's op would."""
    spatial = input.dim() - 2
    in_sizes = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != spatial:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got input with spatial "
                    f"dimensions of {in_sizes} and output size of {size}. Please provide input tensor in (N, C, "
                    "d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format."
                )
            if not all(_is_integer(s) for s in size):
                types = ", ".join(_type_repr(s) for s in size)
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, int], but got "
                    f"size with types [{types}]"
                )
            sizes = list(size)
        else:
            sizes = [size] * spatial
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        refused = None if all(_is_integer(s) and not isinstance(s, bool) for s in sizes) else "size"
        return sizes if refused else [int(s) for s in sizes], [None] * spatial, refused
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    factors = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * spatial
    if len(factors) != spatial:
        raise ValueError(
            "Input and scale_factor must have the same number of spatial dimensions, but got input with spatial "
            f"dimensions of {in_sizes} and scale_factor of shape {scale_factor}. Please provide input tensor in "
            "(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format."
        )
    # Recomputed sizes are torch's Python arithmetic (a tensor factor works); otherwise the factors
    # go to its op, whose parser takes Python numbers only ("tuple of floats").
    if not recompute_scale_factor and not all(isinstance(f, numbers.Real) for f in factors):
        return None, None, "scale_factor"
    sizes = [math.floor(float(n) * float(f)) for n, f in zip(in_sizes, factors)]
    return sizes, [None] * spatial if recompute_scale_factor else [float(f) for f in factors], None


def _is_integer(value) -> bool:
    """torch's F.interpolate ``_is_integer``: a Python or numpy integer, or a tensor of an integer type."""
    return isinstance(value, numbers.Integral) or (isinstance(value, Tensor) and not value.is_floating_point())


def _type_repr(value) -> str:
    return "<class 'torch.Tensor'>" if isinstance(value, Tensor) else repr(type(value))


def _refused_arguments(mode: str, spatial: int, antialias: bool, size, scale_factor, align_corners) -> TypeError:
    """torch's op parser's TypeError for a size or scale factor that is not a tuple of ints (floats)."""
    if mode == "area":  # (only a size reaches its parser: adaptive average pooling's)
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * spatial
        at = next(i for i, s in enumerate(sizes) if not _is_integer(s) or isinstance(s, bool))
        return TypeError(
            f"adaptive_avg_pool{spatial}d(): argument 'output_size' (position 2) must be tuple of ints, but found "
            f"element of type {type(sizes[at]).__name__} at pos {at}"
        )
    if antialias:
        op = f"_upsample_{mode}2d_aa"
    else:
        op = {"nearest": "upsample_nearest", "nearest-exact": "_upsample_nearest_exact"}.get(mode, f"upsample_{mode}")
        op += f"{spatial}d"
    if size is not None:
        arguments = [type(size).__name__ if isinstance(size, (list, tuple)) else "list", "NoneType"]
    else:
        arguments = ["NoneType", type(scale_factor).__name__ if isinstance(scale_factor, (list, tuple)) else "list"]
    if align_corners is not None:  # the interpolating modes take it between the two
        arguments.insert(1, "bool")
    return TypeError(
        f"{op}() received an invalid combination of arguments - got (Tensor, {', '.join(arguments)}), but expected "
        "one of:\n * (Tensor input, tuple of ints output_size, ..., tuple of floats scale_factors)"
    )


# torch 2.13 CPU kernel names in its "... not implemented for 'Long'" messages, per (mode, spatial dims).
_KERNEL_NAMES = {
    ("nearest", 1): "compute_indices_weights_nearest",
    ("nearest", 2): "upsample_nearest2d_channels_last",
    ("nearest", 3): "compute_indices_weights_nearest",
    ("linear", 1): "compute_indices_weights_linear",
    ("bilinear", 2): "upsample_bilinear2d_channels_last",
    ("bicubic", 2): "compute_indices_weights_cubic",
    ("trilinear", 3): "compute_indices_weights_linear",
    ("area", 1): "adaptive_avg_pool2d",
    ("area", 2): "adaptive_avg_pool2d",
    ("area", 3): "adaptive_avg_pool3d_cpu",
}


def _check_dtype(input, mode: str, spatial: int) -> None:
    """torch's CPU kernels take floating types, and uint8 for 'nearest', 'nearest-exact',
    'bilinear' and 'bicubic' (images, masks); other types raise NotImplementedError naming the
    kernel, as torch's dispatch does."""
    if input.dtype in FLOATING_DTYPES:
        return
    if input.dtype == torch.uint8 and mode in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        return
    kernel = _KERNEL_NAMES["nearest" if mode == "nearest-exact" else mode, spatial]
    if mode == "area" and spatial == 2 and prefers_channels_last(input._data):
        kernel = "adaptive_avg_pool2d_channels_last"
    raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtype_word(input.dtype)}'")


@autocast_op("interpolate")
def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False):  # fmt: skip
    """Resizes (N, C, L), (N, C, H, W) or (N, C, D, H, W) ``input`` to ``size`` or by ``scale_factor``.

    Modes: 'nearest' and 'nearest-exact' (3-d, 4-d or 5-d input), 'area' (adaptive average
    pooling, 3-d to 5-d), 'linear' (3-d), 'bilinear' and 'bicubic' (4-d), 'trilinear' (5-d), with
    torch's ``align_corners`` (default False). Floating types, and uint8 where torch's CPU takes
    it ('nearest', 'nearest-exact', 'bilinear', 'bicubic'; the last two round as torch's int16
    fixed-point kernels do). With ``scale_factor`` the source positions use 1 / scale_factor, and
    a dim whose size does not change is copied only where torch's kernel copies it
    (kernels/resample.py ``source_scale``). ``antialias=True`` (4-d 'bilinear', 'bicubic' and
    'lanczos', float32/float64): ops/antialias.py.

    >>> interpolate(tritongrad.tensor([[[1.0, 2.0]]]), scale_factor=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not {type(input).__name__}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | "
                "trilinear"
            )
    elif align_corners is None:
        align_corners = False
    if input.dim() not in (3, 4, 5):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the modes: "
            f"{_ALL_MODES} (got {mode})"
        )
    # (torch's 'area' resizes to sizes computed in Python: its scale factors are never parsed)
    recompute = recompute_scale_factor or (mode == "area" and size is None)
    sizes, factors, refused = _spatial_sizes(input, size, scale_factor, recompute)
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D tensor as input"
        )
    ranks = {"linear": 3, "bilinear": 4, "trilinear": 5}
    if mode in ranks and input.dim() != ranks[mode]:  # torch's own message for these three
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {ranks[mode]}D input")
    if mode == "lanczos" and input.dim() == 4:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if (mode not in _MODES and not (mode == "lanczos" and antialias)) or (mode == "bicubic" and input.dim() != 4):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the modes: "
            f"{_ALL_MODES} (got {mode})"
        )
    if refused is not None:
        raise _refused_arguments(mode, len(input.shape) - 2, antialias, size, scale_factor, align_corners)
    in_sizes = list(input.shape[2:])
    if any(s <= 0 for s in sizes) or any(s <= 0 for s in in_sizes):
        names = ["D", "H", "W"][-len(sizes) :]
        given = ", ".join(f"{n}: {s}" for n, s in zip(names, in_sizes))
        wanted = ", ".join(f"{n}: {s}" for n, s in zip(names, sizes))
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input ({given}) output ({wanted})"
        )
    if antialias:
        return antialiased_resize(input, mode, sizes, factors, bool(align_corners))
    _check_dtype(input, mode, len(sizes))
    if mode == "area":
        area = (pooling.adaptive_avg_pool1d, pooling.adaptive_avg_pool2d, pooling3d.adaptive_avg_pool3d)[len(sizes) - 1]
        return area(input, sizes[0] if len(sizes) == 1 else tuple(sizes))
    linear, exact, cubic = (
        mode in ("linear", "bilinear", "trilinear", "bicubic"),
        mode == "nearest-exact",
        mode == "bicubic",
    )
    align = bool(align_corners)
    # Where torch's kernel copies an unchanged dim (kernels/resample.py source_scale).
    shortcuts = (mode == "nearest" and len(sizes) == 2) or (linear and (not cubic or align))
    scales = [kernels.source_scale(i, o, linear, align, f, shortcuts) for i, o, f in zip(in_sizes, sizes, factors)]
    if input.dtype == torch.uint8 and linear:
        return Tensor._wrap(
            kernels.launch_resample2d_uint8(input._data, tuple(sizes), tuple(factors), align_corners=align, cubic=cubic)
        )
    name = _NAMES[mode if mode not in ("linear", "bilinear") else ("linear", "bilinear")[len(sizes) - 1], len(sizes)]
    if len(sizes) == 3:
        return _resize_3d(input, sizes, scales, (linear, align, exact), name)
    if len(sizes) == 1:
        sizes, scales = [1, *sizes], [1.0, *scales]
    plan = (tuple(sizes), tuple(scales), linear, align, exact, cubic)
    return _node(name).apply(input, plan)


def _resize_3d(input, sizes, scales, options, name):
    """(N, C, D, H, W) resized in (H, W) on an (N, C * D, H, W) view, then in D (module docstring)."""
    batch, channels, depth = input.shape[:3]
    (out_d, out_h, out_w), (scale_d, scale_h, scale_w) = sizes, scales
    plane = input
    if (out_h, out_w) != tuple(input.shape[3:]) or (scale_h, scale_w) != (1.0, 1.0):
        planes = input.reshape(batch, channels * depth, *input.shape[3:])
        plane_name = _NAMES["bilinear" if options[0] else "nearest-exact" if options[2] else "nearest", 2]
        plan = ((out_h, out_w), (scale_h, scale_w), *options, False)
        plane = _node(plane_name).apply(planes, plan)
    columns = plane.reshape(batch, channels, depth, out_h * out_w)
    plan = ((out_d, out_h * out_w), (scale_d, 1.0), *options, False)
    return _node(name, ResampleDepth).apply(columns, plan, (batch, channels, out_d, out_h, out_w))


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None):
    """The deprecated name of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)
