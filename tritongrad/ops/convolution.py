"""Convolutions: conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d and their gradients
(also as functions of their own, torch.nn.grad's), on kernels/conv.py; the 3-D ones composed of the 2-D ones.

Every convolution is computed on 4-D (N, C, H, W) buffers: a 1-D one is the 2-D one with H = 1
(``unsqueeze`` views of the input, the weight and the gradients, no copies), and an unbatched
input is a batch of one (a view). Two Functions carry the tape:

* ``Convolution``: a convolution or a transposed convolution (node ``ConvolutionBackward0``, as
  torch names all of them). Its backward is two more convolutions -- the input gradient of a
  convolution is a transposed convolution of the output gradient with the same weight, and the
  other way round -- and a weight gradient;
* ``ConvolutionWeightGrad``: the weight gradient as a Function of (grad_out, input), whose own
  backward is again a convolution and a transposed convolution.

Both backwards are built from these Functions, so ``create_graph=True`` gives gradients of any
order on the same kernels.

An input with 0 channels (and a (OC, 0, KH, KW) weight) gives torch's answer, a (N, 0, OH, OW)
result with no elements (``EmptyChannelConvolution``), not the empty sum's (N, OC, OH, OW) bias.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from tritongrad import backends, caller_warnings
from tritongrad.autograd.function import Function
from tritongrad.dtypes import dtype_word, type_meta_name
from tritongrad.kernels import conv as kernels
from tritongrad.kernels.creation import launch_fill_
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.indexing import cat
from tritongrad.ops.padding import pad
from tritongrad.tensor import Tensor

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "convolution_input_grad", "convolution_weight_grad",
]  # fmt: skip

Pair = tuple[int, int]


@dataclass(frozen=True)
class ConvGeometry:
    """What a convolution does besides its operands, for its 4-D buffers.

    ``padding`` is the padding before the first row/column (after the last one it is implied by
    ``output_size``, which allows 'same' padding with an even kernel); ``output_size`` is the
    (H, W) of this op's result; ``one_d`` says the user's tensors are 3-D (N, C, L), viewed as
    (N, C, 1, L).
    """

    stride: Pair
    padding: Pair
    dilation: Pair
    groups: int
    transposed: bool
    output_size: Pair
    one_d: bool

    @classmethod
    def of(cls, stride, padding, dilation, groups: int, output_size, dims: int, *, transposed: bool) -> ConvGeometry:
        """The geometry from the user's per-dim tuples (one entry each for 1-D, viewed as (1, L))."""
        one_d = dims == 1
        return cls(
            stride=_as_pair(stride, one_d, 1),
            padding=_as_pair(padding, one_d, 0),
            dilation=_as_pair(dilation, one_d, 1),
            groups=groups,
            transposed=transposed,
            output_size=_as_pair(output_size, one_d, 1),
            one_d=one_d,
        )


def _as_pair(values: tuple[int, ...], one_d: bool, fill: int) -> Pair:
    return (fill, values[0]) if one_d else (values[0], values[1])


def _as_4d(data: torch.Tensor, one_d: bool) -> torch.Tensor:
    return data.unsqueeze(-2) if one_d else data


def _from_4d(data: torch.Tensor, one_d: bool) -> torch.Tensor:
    return data.squeeze(-2) if one_d else data


def _spatial(tensor: Tensor, one_d: bool) -> Pair:
    return (1, tensor.shape[-1]) if one_d else (tensor.shape[-2], tensor.shape[-1])


def _allow_tf32() -> bool:
    return backends.cudnn.allow_tf32


class Convolution(Function):
    """y = conv(input, weight) + bias, or the transposed convolution, per ``geometry``.

    input (N, C_in, *spatial), weight (C_out, C_in / groups, *kernel) for a convolution and
    (C_in, C_out / groups, *kernel) for a transposed one, bias (C_out,) or None.
    """

    _optional_tensors = (2,)  # (the bias: an input of torch's node even when None)

    _backward_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, input, weight, bias, geometry: ConvGeometry):
        g = geometry
        # The input gradient needs only the weight, the weight gradient only the input.
        ctx.save_for_backward(input if ctx.needs_input_grad[1] else None, weight if ctx.needs_input_grad[0] else None)
        ctx.geometry = geometry
        ctx.has_bias = bias is not None
        ctx.input_size = _spatial(input, g.one_d)
        ctx.kernel_size = _spatial(weight, g.one_d)
        ctx.dtype = input.dtype
        x = _as_4d(input._data, g.one_d)
        w = _as_4d(weight._data, g.one_d)
        b = None if bias is None else bias._data
        if g.transposed:
            out = kernels.launch_conv2d_input_grad(
                x, w, g.output_size, g.stride, g.padding, g.dilation, g.groups, bias=b, allow_tf32=_allow_tf32()
            )
        else:
            out = kernels.launch_conv2d(
                x, w, b, g.stride, g.padding, g.dilation, g.groups, output_size=g.output_size, allow_tf32=_allow_tf32()
            )
        return Tensor._wrap(_from_4d(out, g.one_d))

    @staticmethod
    def backward(ctx, grad):
        input, weight = ctx.saved_tensors
        g = ctx.geometry
        need_input, need_weight, need_bias = ctx.needs_input_grad[:3]
        if grad.dtype != ctx.dtype:
            grad = grad.to(ctx.dtype)
        input_size = ctx.input_size
        # The input gradient is the opposite kind of convolution of grad with the same weight.
        grad_input = (
            Convolution.apply(grad, weight, None, replace(g, transposed=not g.transposed, output_size=input_size))
            if need_input
            else None
        )
        grad_weight = None
        if need_weight:
            kernel_size = ctx.kernel_size
            if g.transposed:  # y = T(x, w) is the input gradient of a convolution mapping y's space to x's
                forward = replace(g, transposed=False, output_size=input_size)
                grad_weight = ConvolutionWeightGrad.apply(input, grad, forward, kernel_size)
            else:
                grad_weight = ConvolutionWeightGrad.apply(grad, input, g, kernel_size)
        grad_bias = grad.sum(dim=[0, 2] if g.one_d else [0, 2, 3]) if need_bias and ctx.has_bias else None
        return grad_input, grad_weight, grad_bias, None


class EmptyChannelConvolution(Function):
    """A (non-transposed) convolution of an input with 0 channels: torch's "empty" backend returns
    (N, 0, *output_size), the input's channel count, never touching the weight or the bias; their
    gradients are zeros (all of the weight's, whose dim 1 is 0, and the bias's OC entries)."""

    _optional_tensors = (2,)  # (the bias: an input of torch's node even when None)

    _backward_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, input, weight, bias, output_size: tuple[int, ...]):
        ctx.shapes = (input.shape, weight.shape, None if bias is None else bias.shape)
        x = input._data
        return Tensor._wrap(torch.empty((x.shape[0], 0, *output_size), dtype=x.dtype, device=x.device))

    @staticmethod
    def backward(ctx, grad):
        input_shape, weight_shape, bias_shape = ctx.shapes
        need_input, need_weight, need_bias = ctx.needs_input_grad[:3]
        g = grad._data
        grad_input = Tensor._wrap(g.new_empty(input_shape)) if need_input else None  # (no elements)
        grad_weight = Tensor._wrap(g.new_empty(weight_shape)) if need_weight else None  # (no elements)
        grad_bias = Tensor._wrap(launch_fill_(g.new_empty(bias_shape), 0)) if need_bias and bias_shape else None
        return grad_input, grad_weight, grad_bias, None


class ConvolutionWeightGrad(Function):
    """The weight gradient of the convolution ``geometry`` (not transposed) that maps ``input``
    (N, C, *spatial) to ``grad_out``'s space (N, OC, *output_size): (OC, C / groups, *kernel).

    ``kernel_size`` is the weight's (KH, KW) ((1, K) for 1-D): the sizes alone fix it only up to
    the stride.
    """

    _backward_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, grad_out, input, geometry: ConvGeometry, kernel_size: Pair):
        # d/d grad_out needs the input, d/d input needs grad_out (the product is bilinear).
        ctx.save_for_backward(grad_out if ctx.needs_input_grad[1] else None, input if ctx.needs_input_grad[0] else None)
        ctx.geometry = geometry
        g = geometry
        ctx.input_size = _spatial(input, g.one_d)
        out = kernels.launch_conv2d_weight_grad(
            _as_4d(grad_out._data, g.one_d),
            _as_4d(input._data, g.one_d),
            kernel_size,
            g.stride,
            g.padding,
            g.dilation,
            g.groups,
            allow_tf32=_allow_tf32(),
        )
        return Tensor._wrap(_from_4d(out, g.one_d))

    @staticmethod
    def backward(ctx, grad_weight_grad):
        grad_out, input = ctx.saved_tensors
        g = ctx.geometry
        need_grad_out, need_input = ctx.needs_input_grad[:2]
        # <G, dW(go, x)> is bilinear: d/d go = conv(x, G), d/d x = conv_transpose(go, G).
        grad_of_grad_out = Convolution.apply(input, grad_weight_grad, None, g) if need_grad_out else None
        grad_of_input = (
            Convolution.apply(grad_out, grad_weight_grad, None, replace(g, transposed=True, output_size=ctx.input_size))
            if need_input
            else None
        )
        return grad_of_grad_out, grad_of_input, None, None


# ---------------------------------------------------------------------------------------------
# Functional API: torch's argument handling and errors, then one Convolution node
# ---------------------------------------------------------------------------------------------


def _tuple(name: str, value, dims: int) -> tuple[int, ...]:
    """An int or a sequence of ``dims`` ints as a tuple (torch's message for the wrong length)."""
    if isinstance(value, int):
        return (value,) * dims
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * dims
    if len(values) != dims:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {dims} values to match the "
            f"convolution dimensions, but got {name}={list(values)}"
        )
    return values


def _size_list(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _check_tensors(name: str, input, weight, bias) -> None:
    for argument, value in (("input", input), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{argument}' must be Tensor, not {type(value).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{name}(): argument 'bias' must be Tensor, not {type(bias).__name__}")


def _batched(name: str, input, dims: int):
    """input with a batch dim (a view for unbatched input), and whether one was added."""
    if input.dim() not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {name}, but got input of size: "
            f"{_size_list(input.shape)}"
        )
    unbatched = input.dim() == dims + 1
    return (input.unsqueeze(0) if unbatched else input), unbatched


def _check_common(
    name: str, input, weight, bias, stride, dilation, groups: int, dims: int, transposed: bool = False
) -> None:
    if weight.dim() != dims + 2:
        raise RuntimeError(
            f"Expected {dims + 2}D weight for {name} (out_channels, in_channels / groups, *kernel_size), but got "
            f"weight of size: {_size_list(weight.shape)}"
        )
    # (torch's order: the bias's dtype, the weight's, then whether a kernel exists for the dtype)
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(
            f"Input type ({type_meta_name(input.dtype)}) and bias type ({type_meta_name(bias.dtype)}) should be "
            "the same"
        )
    if input.dtype != weight.dtype:
        raise RuntimeError(f"expected scalar type {dtype_word(input.dtype)} but found {dtype_word(weight.dtype)}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}\" not implemented for '{dtype_word(input.dtype)}'")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        # torch runs a 1-d convolution as a 2-d one (height 1); its transposed ones name each dim
        shown = (1, *dilation) if dims == 1 else tuple(dilation)
        if transposed:
            got = ", ".join(f"dilation_{axis}: {d}" for axis, d in zip(_axes(len(shown)), shown))
        else:
            got = str(list(shown))
        raise RuntimeError(f"dilation should be greater than zero, but got {got}")
    _check_groups(tuple(weight.shape), groups)


def _axes(count: int) -> tuple[str, ...]:
    return ("depth", "height", "width")[3 - count :]


def _check_groups(weight_size: tuple[int, ...], groups: int) -> None:
    """groups is positive and the weight's dim 0 (out channels; in channels when transposed) a multiple of it."""
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if weight_size[0] < groups or weight_size[0] % groups:
        # (torch's own message prints the size in double brackets when it is not divisible)
        what, size = (
            (f"at least {groups}", _size_list(weight_size))
            if weight_size[0] < groups
            else (f"divisible by {groups}", f"[{_size_list(weight_size)}]")
        )
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be {what} at dimension 0, but got weight of size {size} instead"
        )


def _check_bias_size(bias, weight, channels: int, transposed: bool) -> None:
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != channels):
        prefix = "Given transposed=1, weight" if transposed else "Given weight"
        raise RuntimeError(
            f"{prefix} of size {_size_list(weight.shape)}, expected bias to be 1-dimensional with {channels} "
            f"elements, but got bias of size {_size_list(bias.shape)} instead"
        )


def _convolution(name: str, input, weight, bias, stride, padding, dilation, groups: int, dims: int):
    _check_tensors(name, input, weight, bias)
    batched, unbatched = _batched(name, input, dims)
    stride = _tuple("stride", stride, dims)
    dilation = _tuple("dilation", dilation, dims)
    _check_common(name, batched, weight, bias, stride, dilation, groups, dims)
    begin, end, output = _resolve_padding(padding, stride, dilation, groups, batched, weight, bias, dims)
    if batched.shape[1] == 0:
        result = EmptyChannelConvolution.apply(batched, weight, bias, output)
    else:
        geometry = ConvGeometry.of(stride, begin, dilation, groups, output, dims, transposed=False)
        result = Convolution.apply(batched, weight, bias, geometry)
    return result.squeeze(0) if unbatched else result


def _resolve_padding(padding, stride, dilation, groups, batched, weight, bias, dims):
    """(padding before, padding after, output size) per spatial dim, with torch's checks."""
    kernel = tuple(weight.shape[2:])
    spatial = tuple(batched.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            begin = end = (0,) * dims
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            # torch pads the odd one out after the end; the kernel only needs the start.
            total = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
            begin = tuple(t // 2 for t in total)
            end = tuple(t - b for t, b in zip(total, begin))
            if begin != end:
                # (torch's kernel pads the input asymmetrically then; this one only offsets the
                # window, but the warning is torch's, once per process)
                caller_warnings.warn_once(
                    "conv_same_padding",
                    "Using padding='same' with even kernel lengths and odd dilation may require a zero-padded copy "
                    "of the input be created",
                )
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        begin = end = _tuple("padding", padding, dims)
        if any(p < 0 for p in begin):
            raise RuntimeError("negative padding is not supported")
    channels = batched.shape[1]
    if channels != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {_size_list(weight.shape)}, expected input"
            f"{_size_list(batched.shape)} to have {weight.shape[1] * groups} channels, but got {channels} "
            "channels instead"
        )
    _check_bias_size(bias, weight, weight.shape[0], transposed=False)
    padded = tuple(s + b + e for s, b, e in zip(spatial, begin, end))
    extent = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(p < k for p, k in zip(padded, extent)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
            f"({' x '.join(map(str, extent))}). Kernel size can't be greater than actual input size"
        )
    output = tuple((p - k) // s + 1 for p, k, s in zip(padded, extent, stride))
    return begin, end, output


def _transposed_arguments(
    name: str, input, weight, bias, stride, padding, output_padding, groups: int, dilation, dims: int
):
    """torch's argument handling and checks of a transposed convolution: (batched input, whether it
    was unbatched, stride, padding, dilation, output size) per spatial dim."""
    _check_tensors(name, input, weight, bias)
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    batched, unbatched = _batched(name, input, dims)
    stride = _tuple("stride", stride, dims)
    dilation = _tuple("dilation", dilation, dims)
    padding = _tuple("padding", padding, dims)
    output_padding = _tuple("output_padding", output_padding, dims)
    _check_common(name, batched, weight, bias, stride, dilation, groups, dims, transposed=True)
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(p >= s and p >= d for p, s, d in zip(output_padding, stride, dilation)):
        # (a 1-d one as torch's 2-d one: output_padding 0, stride 1 and dilation 1 along the height)
        shown = (
            [(0, *output_padding), (1, *stride), (1, *dilation)] if dims == 1 else [output_padding, stride, dilation]
        )
        axes = _axes(len(shown[0]))
        described = " ".join(
            f"{what}_{a}: {v}" for what, values in zip(("output_padding", "stride", "dilation"), shown)
            for a, v in zip(axes, values)
        )  # fmt: skip
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got {described}")
    channels = batched.shape[1]
    if channels != weight.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {_size_list(weight.shape)}, expected input"
            f"{_size_list(batched.shape)} to have {weight.shape[0]} channels, but got {channels} channels instead"
        )
    _check_bias_size(bias, weight, weight.shape[1] * groups, transposed=True)
    kernel = tuple(weight.shape[2:])
    spatial = tuple(batched.shape[2:])
    output = tuple(
        (size - 1) * s - 2 * p + d * (k - 1) + op + 1
        for size, s, p, d, k, op in zip(spatial, stride, padding, dilation, kernel, output_padding)
    )
    if any(o <= 0 for o in output):
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(map(str, spatial))}). Calculated output size per "
            f"channel: ({' x '.join(map(str, output))}). Output size is too small"
        )
    return batched, unbatched, stride, padding, dilation, output


def _transposed_convolution(
    name: str, input, weight, bias, stride, padding, output_padding, groups: int, dilation, dims: int
):
    batched, unbatched, stride, padding, dilation, output = _transposed_arguments(
        name, input, weight, bias, stride, padding, output_padding, groups, dilation, dims
    )
    geometry = ConvGeometry.of(stride, padding, dilation, groups, output, dims, transposed=True)
    result = Convolution.apply(batched, weight, bias, geometry)
    return result.squeeze(0) if unbatched else result


@autocast_op("conv2d")
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv2d: a 2-D cross-correlation, as an implicit GEMM in Triton.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W), any strides.
        weight: (OC, C / groups, KH, KW).
        bias: optional (OC,).
        stride, dilation: int or (h, w).
        padding: int, (h, w), ``'valid'`` (none) or ``'same'`` (output size = input size; stride 1).
        groups: C and OC split into this many independent convolutions (``groups == C``: depthwise).

    Returns:
        (N, OC, OH, OW) (or (OC, OH, OW)) with OH = (H + 2 * ph - dh * (KH - 1) - 1) // sh + 1.

    Example::

        >>> x, w = tritongrad.randn(1, 3, 8, 8), tritongrad.randn(4, 3, 3, 3)
        >>> conv2d(x, w, padding=1).shape
        torch.Size([1, 4, 8, 8])
    """
    return _convolution("conv2d", input, weight, bias, stride, padding, dilation, groups, dims=2)


@autocast_op("conv1d")
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv1d: conv2d on (N, C, 1, L) views of the (N, C, L) input (no copies).

    input (N, C, L) or (C, L), weight (OC, C / groups, K), bias (OC,); the arguments are conv2d's, each
    an int or a 1-tuple.
    """
    return _convolution("conv1d", input, weight, bias, stride, padding, dilation, groups, dims=1)


@autocast_op("conv_transpose2d")
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch.nn.functional.conv_transpose2d: the gradient of conv2d with respect to its input.

    Args:
        input: (N, C_in, H, W) or (C_in, H, W).
        weight: (C_in, C_out / groups, KH, KW) (torch's layout for transposed convolutions).
        bias: optional (C_out,).
        stride, padding, output_padding, dilation: int or (h, w); ``output_padding`` (smaller than the
            stride or the dilation) adds rows/columns at the end of the output.

    Returns:
        (N, C_out, OH, OW) with OH = (H - 1) * sh - 2 * ph + dh * (KH - 1) + output_padding + 1.
    """
    return _transposed_convolution(
        "conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups, dilation, dims=2
    )


@autocast_op("conv_transpose1d")
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch.nn.functional.conv_transpose1d: conv_transpose2d on (N, C, 1, L) views."""
    return _transposed_convolution(
        "conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups, dilation, dims=1
    )


@autocast_op("conv3d")
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv3d: a 3-D cross-correlation, composed of conv2d (no kernel of its own).

    input (N, C, D, H, W) or (C, D, H, W), weight (OC, C / groups, KD, KH, KW), bias (OC,); stride,
    padding (int, triple, 'valid' or 'same'), dilation and groups as conv2d's, per (d, h, w).

    Composition: the input is zero-padded along D (``pad``); for each depth tap kd, the output
    depths' input planes (a strided slice along D) are folded into the batch, ((N * OD), C, H, W),
    and convolved with weight[:, :, kd] by the 2-D kernels (with the H/W padding, stride and
    dilation); the KD results are summed. Gradients come from those ops' own nodes, so the graph is
    theirs (not one ``ConvolutionBackward0`` node as in torch).

    >>> conv3d(tritongrad.randn(1, 2, 4, 5, 5), tritongrad.randn(3, 2, 3, 3, 3), padding=1).shape
    tritongrad.Size([1, 3, 4, 5, 5])
    """
    name, dims = "conv3d", 3
    _check_tensors(name, input, weight, bias)
    batched, unbatched = _batched(name, input, dims)
    stride = _tuple("stride", stride, dims)
    dilation = _tuple("dilation", dilation, dims)
    _check_common(name, batched, weight, bias, stride, dilation, groups, dims)
    begin, end, output = _resolve_padding(padding, stride, dilation, groups, batched, weight, bias, dims)
    if batched.shape[1] == 0:
        result = EmptyChannelConvolution.apply(batched, weight, bias, output)
        return result.squeeze(0) if unbatched else result
    batch = batched.shape[0]
    out_channels = weight.shape[0]
    (out_d, out_h, out_w), (sd, dd) = output, (stride[0], dilation[0])
    x = batched
    if begin[0] or end[0]:
        x = pad(x, (0, 0, 0, 0, begin[0], end[0]))
    geometry = ConvGeometry(stride=stride[1:], padding=begin[1:], dilation=dilation[1:], groups=groups,
                            transposed=False, output_size=(out_h, out_w), one_d=False)  # fmt: skip
    total = None
    for kd in range(weight.shape[2]):
        planes = _depth_planes(x, kd * dd, out_d, sd)
        tap = weight[:, :, kd].contiguous()
        result = Convolution.apply(planes, tap, None, geometry)
        total = result if total is None else total + result
    result = total.view(batch, out_d, out_channels, out_h, out_w).transpose(1, 2).contiguous()
    if bias is not None:
        result = result + bias.view(1, out_channels, 1, 1, 1)
    return result.squeeze(0) if unbatched else result


def _depth_planes(x, first: int, count: int, step: int):
    """Planes ``first, first + step, ...`` (``count`` of them) of x (N, C, D, H, W) along D, folded into
    the batch: (N * count, C, H, W), plane-major within each sample (a copy unless already laid out so)."""
    batch, channels, _, height, width = x.shape
    planes = x[:, :, first : first + step * (count - 1) + 1 : step]
    return planes.transpose(1, 2).reshape(batch * count, channels, height, width)


def _conv_transpose3d_taps(input, weight, stride, padding, dilation, groups: int, output_size):
    """The transposed 3-D convolution of batched ``input`` (N, C_in, D, H, W) with ``weight`` (C_in,
    C_out / groups, KD, KH, KW) into (N, C_out, *output_size), without bias; checked arguments.

    The adjoint of conv3d's composition: conv3d makes output plane d from padded-input planes
    d * sd + kd * dd, one 2-D convolution per depth tap kd; so here input plane d goes, through the
    2-D transposed convolution with weight[:, :, kd], to output plane d * sd + kd * dd - pd. Per tap:
    one 2-D transposed convolution of the input planes that land inside the output (folded into the
    batch), those planes spread sd apart (a zero plane padded after each) and placed at their depth
    (``pad``, negative at the end to crop the spreading's trailing zeros); the KD results are summed.
    ``output_size`` (OD, OH, OW) may exceed what the taps reach (output_padding): those planes stay 0.
    """
    batch, _, depth, _, _ = input.shape
    out_d, out_h, out_w = output_size
    (sd, pd, dd), out_channels = (stride[0], padding[0], dilation[0]), weight.shape[1] * groups
    geometry = ConvGeometry(stride=tuple(stride[1:]), padding=tuple(padding[1:]), dilation=tuple(dilation[1:]),
                            groups=groups, transposed=True, output_size=(out_h, out_w), one_d=False)  # fmt: skip
    every_plane = None
    total = None
    for kd in range(weight.shape[2]):
        offset = kd * dd - pd  # where input plane 0 lands through this tap
        first, last = max(0, -(offset // sd)), min(depth - 1, (out_d - 1 - offset) // sd)
        if last < first and (total is not None or kd < weight.shape[2] - 1):
            continue  # every plane lands in the padding
        # (if no tap reaches the output, the last one is computed and cropped away: the output is
        # zeros, and input and weight get zero gradients, as torch's)
        count = max(last - first + 1, 0)
        if count in (0, depth):
            every_plane = _depth_planes(input, 0, depth, 1) if every_plane is None else every_plane
            planes, computed = every_plane, depth
        else:
            planes, computed = _depth_planes(input, first, count, 1), count
        tap = Convolution.apply(planes, weight[:, :, kd].contiguous(), None, geometry)
        tap = tap.view(batch, computed, out_channels, out_h, out_w)[:, :count]
        if sd > 1:
            tap = pad(tap.unsqueeze(2), (0, 0) * 3 + (0, sd - 1)).view(batch, count * sd, out_channels, out_h, out_w)
        start = offset + first * sd if count else out_d
        placed = pad(tap, (0, 0) * 3 + (start, out_d - start - tap.shape[1]))
        total = placed if total is None else total + placed
    return total.transpose(1, 2).contiguous()


def _conv3d_weight_taps(grad_output, input, kernel_size, stride, padding, dilation, groups: int):
    """The weight gradient of conv3d mapping ``input`` (N, C, D, H, W) to ``grad_output``'s space (N, OC, OD,
    OH, OW): (OC, C / groups, *kernel_size). Per depth tap kd, the 2-D weight gradient of the folded
    grad_output planes against the input planes that tap reads (as conv3d folds them), stacked along D."""
    pd = padding[0]
    x = pad(input, (0, 0, 0, 0, pd, pd)) if pd else input
    out_d = grad_output.shape[2]
    geometry = ConvGeometry(stride=tuple(stride[1:]), padding=tuple(padding[1:]), dilation=tuple(dilation[1:]),
                            groups=groups, transposed=False, output_size=tuple(grad_output.shape[3:]),
                            one_d=False)  # fmt: skip
    folded = _depth_planes(grad_output, 0, out_d, 1)
    taps = [
        ConvolutionWeightGrad.apply(
            folded, _depth_planes(x, kd * dilation[0], out_d, stride[0]), geometry, tuple(kernel_size[1:])
        ).unsqueeze(2)
        for kd in range(kernel_size[0])
    ]
    return taps[0] if len(taps) == 1 else cat(taps, 2)


@autocast_op("conv_transpose3d")
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch.nn.functional.conv_transpose3d: the gradient of conv3d with respect to its input, composed
    of conv_transpose2d (no kernel of its own; see ``_conv_transpose3d_taps``).

    input (N, C_in, D, H, W) or (C_in, D, H, W), weight (C_in, C_out / groups, KD, KH, KW), bias
    (C_out,); stride, padding, output_padding and dilation an int or a (d, h, w) triple, as
    conv_transpose2d's. Gradients come from the composing ops' own nodes (not one
    ``ConvolutionBackward0`` node as in torch).

    >>> conv_transpose3d(tritongrad.randn(1, 4, 3, 3, 3), tritongrad.randn(4, 2, 2, 2, 2), stride=2).shape
    torch.Size([1, 2, 6, 6, 6])
    """
    batched, unbatched, stride, padding, dilation, output = _transposed_arguments(
        "conv_transpose3d", input, weight, bias, stride, padding, output_padding, groups, dilation, dims=3
    )
    result = _conv_transpose3d_taps(batched, weight, stride, padding, dilation, groups, output)
    if bias is not None:
        result = result + bias.view(1, -1, 1, 1, 1)
    return result.squeeze(0) if unbatched else result


# ---------------------------------------------------------------------------------------------
# torch.nn.grad: a convolution's input and weight gradients as functions of their own
# ---------------------------------------------------------------------------------------------


def _gradient_geometry(name: str, input_size, weight_size, grad_output, stride, padding, dilation, groups: int,
                       dims: int):  # fmt: skip
    """torch's argument handling and checks for nn.grad: (stride, padding, dilation) tuples, after checking
    that the convolution of an (input_size) input with a (weight_size) weight gives grad_output's size."""
    stride = _tuple("stride", stride, dims)
    padding = _tuple("padding", padding, dims)
    dilation = _tuple("dilation", dilation, dims)
    input_size, weight_size = tuple(input_size), tuple(weight_size)
    for what, size in (("input", input_size), ("grad_output", tuple(grad_output.shape))):
        if len(size) != dims + 2 or len(weight_size) != dims + 2:
            raise RuntimeError(
                f"Expected {len(weight_size)}-dimensional {what} for {len(weight_size)}-dimensional weight "
                f"{_size_list(weight_size)}, but got {len(size)}-dimensional {what} of size {_size_list(size)} instead"
            )
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    _check_groups(weight_size, groups)
    if input_size[1] != weight_size[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {_size_list(weight_size)}, expected input"
            f"{_size_list(input_size)} to have {weight_size[1] * groups} channels, but got {input_size[1]} "
            "channels instead"
        )
    output = tuple(
        (size + 2 * p - d * (k - 1) - 1) // s + 1
        for size, p, d, k, s in zip(input_size[2:], padding, dilation, weight_size[2:], stride)
    )
    expected = (input_size[0], weight_size[0], *output)
    if tuple(grad_output.shape) != expected:
        raise RuntimeError(
            f"{name}: grad_output of size {_size_list(grad_output.shape)} is not the size of the convolution's "
            f"output, {_size_list(expected)}, for an input of size {_size_list(input_size)} and a weight of size "
            f"{_size_list(weight_size)}"
        )
    return stride, padding, dilation


def convolution_input_grad(name: str, input_size, weight, grad_output, stride, padding, dilation, groups: int,
                           dims: int):  # fmt: skip
    """The gradient of conv{dims}d(input, weight) (zero padding, no bias) with respect to an input of
    ``input_size`` (N, C, *spatial), given ``grad_output``: the transposed convolution of grad_output with
    the same weight, to exactly that size (torch.nn.grad.conv{dims}d_input)."""
    _check_tensors(name, grad_output, weight, None)
    input_size = tuple(input_size)
    stride, padding, dilation = _gradient_geometry(
        name, input_size, weight.shape, grad_output, stride, padding, dilation, groups, dims
    )
    _check_gradient_dtypes(name, grad_output, weight)
    if dims == 3:
        return _conv_transpose3d_taps(grad_output, weight, stride, padding, dilation, groups, input_size[2:])
    geometry = ConvGeometry.of(stride, padding, dilation, groups, input_size[2:], dims, transposed=True)
    return Convolution.apply(grad_output, weight, None, geometry)


def convolution_weight_grad(name: str, input, weight_size, grad_output, stride, padding, dilation, groups: int,
                            dims: int):  # fmt: skip
    """The gradient of conv{dims}d(input, weight) (zero padding, no bias) with respect to a weight of
    ``weight_size`` (OC, C / groups, *kernel), given ``grad_output`` (torch.nn.grad.conv{dims}d_weight)."""
    _check_tensors(name, input, grad_output, None)
    weight_size = tuple(weight_size)
    stride, padding, dilation = _gradient_geometry(
        name, input.shape, weight_size, grad_output, stride, padding, dilation, groups, dims
    )
    _check_gradient_dtypes(name, input, grad_output)
    if dims == 3:
        return _conv3d_weight_taps(grad_output, input, weight_size[2:], stride, padding, dilation, groups)
    geometry = ConvGeometry.of(stride, padding, dilation, groups, tuple(grad_output.shape[2:]), dims, transposed=False)
    return ConvolutionWeightGrad.apply(grad_output, input, geometry, _as_pair(weight_size[2:], dims == 1, 1))


def _check_gradient_dtypes(name: str, first, second) -> None:
    if not first.dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}\" not implemented for '{dtype_word(first.dtype)}'")
    if first.dtype != second.dtype:
        raise RuntimeError(f"expected scalar type {dtype_word(first.dtype)} but found {dtype_word(second.dtype)}")
