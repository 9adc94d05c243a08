"""tritongrad.nn.functional: the torch.nn.functional subset tritongrad has.

Argument names, defaults, shapes and error conditions follow torch. Each
function checks its arguments and applies a Function of tritongrad/ops/ (linear.py,
activation.py, softmax.py, dropout.py, loss_elementwise.py, loss_classes.py, ...) or an
elementwise op, whose kernels do the arithmetic.

Example::

    >>> import tritongrad.nn.functional as F
    >>> F.softmax(tritongrad.tensor([[0.0, 0.0]]), dim=-1)
    tensor([[0.5000, 0.5000]])
"""

from __future__ import annotations

import math
import warnings

import torch

from tritongrad import caller_warnings, creation, ops
from tritongrad.autograd import is_grad_enabled, no_grad
from tritongrad.dtypes import dtype_word as _dtype_word
from tritongrad.dtypes import promote_types as _promote_types
from tritongrad.dtypes import result_type as _result_type
from tritongrad.dtypes import tensor_type_name, typeid_name
from tritongrad.kernels.device_checks import check_on_device
from tritongrad.ops import linear as linear_ops
from tritongrad.ops.activation import (  # noqa: F401 (public API: __all__ below)
    Gelu,
    LeakyRelu,
    LeakyReluInPlace,
    Silu,
    celu,
    celu_,
    elu,
    elu_,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    logsigmoid,
    mish,
    relu6,
    rrelu,
    rrelu_,
    selu,
    selu_,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from tritongrad.ops.attention import scaled_dot_product_attention
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.channel_shuffle import channel_shuffle
from tritongrad.ops.convolution import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from tritongrad.ops.ctc_loss import ctc_loss
from tritongrad.ops.dropout import dropout as _dropout
from tritongrad.ops.elementwise import unary_forward
from tritongrad.ops.embedding import check_bag_weight, check_bags, embedding, renormalize_rows
from tritongrad.ops.fold import fold, unfold
from tritongrad.ops.fused_linear_ce import linear_cross_entropy
from tritongrad.ops.grid_sample import affine_grid, grid_sample
from tritongrad.ops.inplace import apply_inplace
from tritongrad.ops.loss_classes import CrossEntropy, MultiMarginLoss, NllLoss
from tritongrad.ops.loss_elementwise import elementwise_loss
from tritongrad.ops.normalization import batch_norm, group_norm, instance_norm, layer_norm, rms_norm
from tritongrad.ops.out_argument import check_no_grad as _check_no_grad_out
from tritongrad.ops.out_argument import write_out as _write_out
from tritongrad.ops.padding import pad
from tritongrad.ops.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from tritongrad.ops.pooling3d import adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, max_pool3d
from tritongrad.ops.softmax import log_softmax, softmax
from tritongrad.ops.unpooling import max_unpool1d, max_unpool2d
from tritongrad.ops.upsampling import interpolate
from tritongrad.tensor import Tensor

__all__ = [
    "linear",
    "bilinear",
    "alpha_dropout",
    "feature_alpha_dropout",
    "pixel_shuffle",
    "pixel_unshuffle",
    "lp_pool1d",
    "lp_pool2d",
    "relu",
    "relu_",
    "sigmoid",
    "tanh",
    "gelu",
    "leaky_relu",
    "leaky_relu_",
    "silu",
    "relu6",
    "elu",
    "elu_",
    "selu",
    "selu_",
    "celu",
    "celu_",
    "mish",
    "softplus",
    "hardtanh",
    "hardtanh_",
    "hardsigmoid",
    "hardswish",
    "logsigmoid",
    "softsign",
    "softshrink",
    "hardshrink",
    "threshold",
    "threshold_",
    "tanhshrink",
    "glu",
    "rrelu",
    "rrelu_",
    "softmax",
    "log_softmax",
    "dropout",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "cross_entropy",
    "nll_loss",
    "ctc_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "soft_margin_loss",
    "one_hot",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "gumbel_softmax",
    "avg_pool3d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "pad",
    "interpolate",
    "upsample",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "scaled_dot_product_attention",
    "embedding",
    "embedding_bag",
    "prelu",
    "softmin",
    "dropout1d",
    "dropout2d",
    "normalize",
    "cosine_similarity",
    "pairwise_distance",
    "triplet_margin_loss",
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "cosine_embedding_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "triplet_margin_with_distance_loss",
    "linear_cross_entropy",
    "batch_norm",
    "layer_norm",
    "rms_norm",
    "group_norm",
    "instance_norm",
    "local_response_norm",
    "unfold",
    "fold",
    "max_unpool1d",
    "max_unpool2d",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "channel_shuffle",
    "native_channel_shuffle",
    "dropout3d",
    "grid_sample",
    "affine_grid",
]

native_channel_shuffle = channel_shuffle

_REDUCTIONS = ("none", "mean", "sum")


def _type_repr(value) -> str:
    """``str(type(value))`` as torch's Python code prints it (tritongrad's Tensor as torch's)."""
    return "<class 'torch.Tensor'>" if isinstance(value, Tensor) else str(type(value))


def _check_tensor(name: str, argument: str, value) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{argument}' must be Tensor, not {type(value).__name__}")


# ------------------------------------------------------------------------------ linear
@autocast_op("linear")
def linear(input, weight, bias=None):
    """y = input @ weight.T + bias, one fused kernel (torch's layout: weight is (out, in)); a 1-D
    weight (in,) gives one dot product per row, as torch's."""
    form = _check_linear(input, weight, bias)
    if form == "composed":  # (integers: matmul has integer kernels; a bias of another shape broadcasts)
        product = input.matmul(weight.t())
        return product if bias is None else product + bias
    if form:
        if bias is not None:  # (torch's addmm then refuses the vector)
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
        return input.matmul(weight)
    return linear_ops.linear(input, weight, bias)


@autocast_op("linear")
def _linear_relu(input, weight, bias=None):
    """relu(linear(input, weight, bias)) in one fused kernel; nn.Sequential's Linear-ReLU pairs."""
    if _check_linear(input, weight, bias):
        return relu(linear(input, weight, bias))  # (a 1-D or integer weight)
    return linear_ops.linear_relu(input, weight, bias)


def _check_linear(input, weight, bias) -> bool | str | None:
    """torch's checks of a linear call; True for torch's other form, a 1-D weight (one dot product per
    row), and "composed" for integer tensors or a bias that is not (out_features,) (broadcast to the
    output as torch's addmm broadcasts it), which ``linear`` computes as a matmul and an add."""
    # (Written for speed: one test for the usual valid call, reading each shape and dtype once; then
    # the errors in torch's order.)
    if isinstance(input, Tensor) and isinstance(weight, Tensor):
        x, w = input._data, weight._data
        x_shape, w_shape, dtype = x.shape, w.shape, x.dtype
        if len(w_shape) == 2 and x_shape and x_shape[-1] == w_shape[1] and dtype == w.dtype and dtype.is_floating_point:
            if bias is None:
                return
            if isinstance(bias, Tensor):
                b = bias._data
                b_shape = b.shape
                if len(b_shape) == 1 and b_shape[0] == w_shape[0] and b.dtype == dtype:
                    return
    _check_tensor("linear", "input", input)
    _check_tensor("linear", "weight", weight)
    x, w = input._data, weight._data
    if bias is not None:
        _check_tensor("linear", "bias", bias)
        b = bias._data
    if w.dim() == 1 and x.dim() > 0:
        return True
    if w.dim() != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape {list(w.shape)}")
    if x.dim() == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D and 2D")
    if x.shape[-1] != w.shape[1]:
        rows = x.numel() // x.shape[-1] if x.shape[-1] else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} and {w.shape[1]}x{w.shape[0]})"
        )
    if x.dtype != w.dtype:
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got {_dtype_word(x.dtype)} and {_dtype_word(w.dtype)}"
        )
    if bias is None or b.dtype == x.dtype:
        return "composed"
    raise RuntimeError(f"linear: bias has dtype {_dtype_word(b.dtype)} but input has {_dtype_word(x.dtype)}")


# ------------------------------------------------------------------------------ activations
def relu(input, inplace: bool = False):
    """max(input, 0)."""
    return relu_(input) if inplace else ops.relu(input)


def relu_(input):
    """relu in place; returns ``input``."""
    return apply_inplace(input, ops.relu, lambda: unary_forward("relu", input, floating=False, out=input))


def sigmoid(input):
    """1 / (1 + exp(-input))."""
    return ops.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent."""
    return ops.tanh(input)


def gelu(input, approximate: str = "none"):
    """x * Phi(x) (``approximate="none"``) or torch's tanh approximation (``"tanh"``)."""
    _check_tensor("gelu", "input", input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return Gelu.apply(input, approximate)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """input where input > 0, else input * negative_slope."""
    _check_tensor("leaky_relu", "input", input)
    if inplace:
        return leaky_relu_(input, negative_slope)
    return LeakyRelu.apply(input, float(negative_slope))


def leaky_relu_(input, negative_slope: float = 0.01):
    """leaky_relu in place; returns ``input``."""
    return _inplace(input, lambda x: LeakyReluInPlace.apply(x, float(negative_slope)))


def silu(input, inplace: bool = False):
    """input * sigmoid(input)."""
    _check_tensor("silu", "input", input)
    if inplace:
        return _inplace(input, Silu.apply)
    return Silu.apply(input)


def _inplace(input, function):
    """Runs ``function`` out of place and writes the result back into ``input`` (kernel copy; the
    version is bumped once, by apply_inplace)."""
    return apply_inplace(input, function, lambda: unary_forward("copy", function(input), out=input, floating=False))


def _check_dropout_probability(p: float) -> None:
    """torch's checks of a dropout probability: Python's ValueError outside [0, 1], and its native
    RuntimeError for NaN (which passes the Python comparison), training or not."""
    if p != p:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zeroes each element with probability ``p`` and scales the rest by 1 / (1 - p) when training.

    tritongrad's masks come from its own Philox generator (``tritongrad.manual_seed``), so they
    differ from torch's for the same seed.
    """
    _check_tensor("dropout", "input", input)
    _check_dropout_probability(p)
    if not training or p == 0.0:
        return input
    if not input.dtype.is_floating_point:
        # torch's p == 1 multiplies by a zero of input's dtype (any dtype); otherwise the scaled mask is float.
        if p == 1.0:
            zero = creation.zeros((), dtype=input.dtype, device=input.device)
            return input.mul_(zero) if inplace else input * zero
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_dtype_word(input.dtype)}")
    if inplace:
        return _inplace(input, lambda x: _dropout(x, float(p)))
    return _dropout(input, float(p))


_SELU_ALPHA = 1.7580993408473766  # -scale * alpha of SELU: the value dropped units take in alpha dropout


def _alpha_dropout(input, p: float, training: bool, inplace: bool, name: str, feature: bool):
    """SELU's dropout (Klambauer et al. 2017): dropped units take SELU's negative saturation and the
    result is scaled and shifted so that mean and variance are kept; ``feature``: whole channels."""
    _check_tensor(name, "input", input)
    _check_dropout_probability(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        zero = creation.zeros((), dtype=input.dtype, device=input.device)
        return input.mul_(zero) if inplace else input * zero
    if feature and input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2) if feature else tuple(input.shape)
    keep = creation.empty(shape, dtype=input.dtype, device=input.device).bernoulli_(1.0 - p)
    a = 1.0 / math.sqrt((_SELU_ALPHA * _SELU_ALPHA * p + 1) * (1 - p))
    shift = (keep - 1) * (_SELU_ALPHA * a) + _SELU_ALPHA * a * p
    scale = keep * a
    if inplace:
        return input.mul_(scale).add_(shift)
    return input * scale + shift


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Dropout for SELU networks: dropped elements take SELU's negative saturation, and the result
    keeps the input's mean and variance (torch.nn.functional.alpha_dropout)."""
    return _alpha_dropout(input, p, training, inplace, "alpha_dropout", feature=False)


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """``alpha_dropout`` of whole channels (dim 1)."""
    return _alpha_dropout(input, p, training, inplace, "feature_alpha_dropout", feature=True)


@autocast_op("bilinear")
def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]: one matmul of input1
    with weight (out * in2 columns), then a product with input2 summed over j."""
    for argument, value in (("input1", input1), ("input2", input2), ("weight", weight)):
        _check_tensor("bilinear", argument, value)
    # torch checks the bias with the others (and names it only when there is one)
    operands = [("input1", input1), ("input2", input2), ("weight", weight)] + ([] if bias is None else [("bias", bias)])
    if len({value.dtype for _, value in operands}) > 1:
        listed = ", ".join(f"{argument}: {typeid_name(value.dtype)}" for argument, value in operands)
        raise RuntimeError(f"All tensors must have the same dtype, got {listed}")
    if weight.dim() != 3:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [-{weight.dim()}, {weight.dim() - 1}], but got 2)"
        )
    out_features, in1, in2 = weight.shape
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    for d in range(input1.dim() - 1):
        if input1.shape[d] != input2.shape[d]:
            raise RuntimeError(
                f"bilinear(): input batch dimensions do not match at dim {d}: got {input1.shape[d]} and "
                f"{input2.shape[d]}"
            )
    for name, size, expected in (("input1", input1.shape[-1], in1), ("input2", input2.shape[-1], in2)):
        if size != expected:
            raise RuntimeError(
                f"bilinear(): {name} size does not match weight size: got {size} but expected {expected}"
            )
    leading = tuple(input1.shape[:-1])
    first = input1.reshape(-1, in1) @ weight.permute(1, 0, 2).reshape(in1, out_features * in2)
    products = first.view(-1, out_features, in2) * input2.reshape(-1, 1, in2)
    # (an integer sum would widen to int64: torch's bilinear keeps the inputs' dtype)
    out = products.sum(-1) if products.dtype.is_floating_point else products.sum(-1, dtype=products.dtype)
    if bias is not None:
        out = out + bias
    return out.reshape(leading + (out_features,))


def pixel_shuffle(input, upscale_factor: int):
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r): sub-pixel rearrangement (Shi et al. 2016)."""
    return _shuffle_pixels("pixel_shuffle", input, upscale_factor, up=True)


def pixel_unshuffle(input, downscale_factor: int):
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W), the inverse of ``pixel_shuffle``."""
    return _shuffle_pixels("pixel_unshuffle", input, downscale_factor, up=False)


def _shuffle_pixels(name: str, input, factor: int, *, up: bool):
    _check_tensor(name, "input", input)
    if input.dim() < 3:
        raise RuntimeError(
            f"{name} expects input to have at least 3 dimensions, but got input with {input.dim()} dimension(s)"
        )
    word = "upscale_factor" if up else "downscale_factor"
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {word}, but got {factor}")
    *batch, channels, height, width = input.shape
    r = factor
    if up:
        if channels % (r * r):
            raise RuntimeError(
                f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                f"upscale_factor, but input.size(-3)={channels} is not divisible by {r * r}"
            )
        c = channels // (r * r)
        split = input.reshape(*batch, c, r, r, height, width)
        b = len(batch)
        order = (*range(b), b, b + 3, b + 1, b + 4, b + 2)
        return split.permute(order).reshape(*batch, c, height * r, width * r)
    for size, dim_name in ((height, "height"), (width, "width")):
        if size % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {dim_name} to be divisible by downscale_factor, but input.size("
                f"{-2 if dim_name == 'height' else -1})={size} is not divisible by {r}"
            )
    split = input.reshape(*batch, channels, height // r, r, width // r, r)
    b = len(batch)
    order = (*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return split.permute(order).reshape(*batch, channels * r * r, height // r, width // r)


def lp_pool1d(input, norm_type: float, kernel_size: int, stride=None, ceil_mode: bool = False):
    """(sum over each window of x ** p) ** (1 / p), as torch's: an average pool of x ** p times the
    window size (and max_pool of |x| for p = inf)."""
    return _lp_pool(avg_pool1d, max_pool1d, input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """``lp_pool1d`` over (H, W) windows."""
    return _lp_pool(avg_pool2d, max_pool2d, input, norm_type, kernel_size, stride, ceil_mode, 2)


def _lp_pool(average, maximum, input, norm_type, kernel_size, stride, ceil_mode, spatial: int):
    window = (kernel_size,) * spatial if isinstance(kernel_size, int) else tuple(kernel_size)
    if norm_type == math.inf:
        return maximum(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -maximum(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    pooled = average(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (pooled.sign() * relu(pooled.abs())).mul(math.prod(window)).pow(1.0 / norm_type)


# ------------------------------------------------------------------------------ losses
def _reduction(size_average, reduce, reduction: str) -> str:
    """torch's legacy ``size_average``/``reduce`` flags, if given, decide the reduction."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else ("sum" if reduce else "none")
        caller_warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.", UserWarning
        )
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _elementwise_operands(
    name: str, input, target, *, warn: bool = True, dtype_rule: str = "promote", integers: bool = False
):
    """Checks an elementwise loss's operands and casts both to the dtype the loss computes in.

    They broadcast together; like torch, ``warn`` says when their sizes differ (likely a mistake).
    ``dtype_rule`` is torch's for the loss: "promote" (both to their promoted dtype), "input" (the
    target to the input's dtype: huber_loss, soft_margin_loss) or "no_integers" (kl_div: promote,
    but integer operands are an error). ``integers``: the loss takes integer operands (l1_loss
    composes them), else they are torch's dispatch error.
    """
    _check_tensor(name, "input", input)
    _check_tensor(name, "target", target)
    if warn and tuple(target.shape) != tuple(input.shape):
        caller_warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
        )
    if dtype_rule == "no_integers" and not (input.dtype.is_floating_point and target.dtype.is_floating_point):
        raise RuntimeError(f"{name}: Integral inputs not supported.")
    promoted = _promote_types(input.dtype, target.dtype)
    dtype = input.dtype if dtype_rule == "input" else promoted
    if not dtype.is_floating_point and not integers:
        if promoted.is_floating_point:
            raise RuntimeError(
                f"result type {_dtype_word(promoted)} can't be cast to the desired output type {_dtype_word(dtype)}"
            )
        raise NotImplementedError(f"\"{name}\" not implemented for '{_dtype_word(dtype)}'")
    return input.to(dtype), target.to(dtype)


def _check_no_grad(name: str, argument: str, value) -> None:
    """torch's refusal of an argument its op has no derivative for, when it requires grad (and grad mode
    is on: torch's check is its autograd dispatch)."""
    if value is not None and value.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"The function '{name}' is not differentiable with respect to argument '{argument}'. "
            "This input cannot have requires_grad True."
        )


@autocast_op("mse_loss")
def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """Mean (or sum, or elementwise) squared error; input and target broadcast like torch's.

    With ``weight`` (the input's size) each squared error is weighted and the mean divides by
    the sum of the weights, as torch's does.

    Example::

        >>> F.mse_loss(tritongrad.tensor([1.0, 2.0]), tritongrad.tensor([1.0, 4.0]))
        tensor(2.)
    """
    reduction = _reduction(size_average, reduce, reduction)
    input, target = _elementwise_operands("mse_loss", input, target)
    return _weighted_loss("mse_loss", input, target, weight, reduction, mean_by_weight=True)


@autocast_op("l1_loss")
def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """Mean (or sum, or elementwise) absolute error |input - target|; broadcasts like torch's.

    ``weight`` as in ``mse_loss``.
    """
    reduction = _reduction(size_average, reduce, reduction)
    input, target = _elementwise_operands("l1_loss", input, target, integers=weight is None)
    if weight is None and not (input.dtype.is_floating_point or input.dtype.is_complex):
        # torch's l1_loss of integers is |input - target| in their dtype; only the mean has no dtype
        difference = (input - target).abs()
        if reduction == "mean":
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
                f"Got: {_dtype_word(input.dtype)}"
            )
        return difference.sum() if reduction == "sum" else difference
    return _weighted_loss("l1_loss", input, target, weight, reduction, mean_by_weight=True)


def _weighted_loss(name: str, input, target, weight, reduction: str, *, mean_by_weight: bool, parameter=0.0):
    """The elementwise loss ``name``, each element's loss times ``weight`` (the input's size) if given.

    torch's weighted "mean" divides by the sum of the weights for mse/l1 (``mean_by_weight``) and
    by the number of elements for huber.
    """
    if weight is None:
        return elementwise_loss(name, input, target, parameter=parameter, reduction=reduction)
    _check_tensor(name, "weight", weight)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    if mean_by_weight and reduction == "mean":
        total = elementwise_loss(name, input, target, weight=weight, parameter=parameter, reduction="sum")
        return total / weight.sum()
    return elementwise_loss(name, input, target, weight=weight, parameter=parameter, reduction=reduction)


@autocast_op("smooth_l1_loss")
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, for d = input - target (beta = 0: L1)."""
    reduction = _reduction(size_average, reduce, reduction)
    input, target = _elementwise_operands("smooth_l1_loss", input, target)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:  # (torch's smooth L1 with beta 0 is l1_loss, gradient sign(d) included)
        return l1_loss(input, target, reduction=reduction)
    return elementwise_loss("smooth_l1_loss", input, target, parameter=beta, reduction=reduction)


@autocast_op("huber_loss")
def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), for d = input - target."""
    reduction = _reduction(None, None, reduction)
    input, target = _elementwise_operands("huber_loss", input, target, dtype_rule="input")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _weighted_loss("huber_loss", input, target, weight, reduction, mean_by_weight=False, parameter=delta)


@autocast_op("binary_cross_entropy")
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
    """-w [t log(x) + (1 - t) log(1 - x)] of probabilities ``input``, each log clamped at -100 like torch.

    ``weight`` broadcasts to the input's shape. An input or target outside [0, 1] (or NaN) raises
    torch's RuntimeError, found by the loss kernel itself: at the call in the interpreter, at the next
    readback on a GPU (no host sync per call; until then such an element's loss is NaN).
    """
    reduction = _reduction(size_average, reduce, reduction)
    _check_tensor("binary_cross_entropy", "input", input)
    _check_tensor("binary_cross_entropy", "target", target)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) is "
            "deprecated. Please ensure they have the same size."
        )
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {_dtype_word(target.dtype)} but expected {_dtype_word(input.dtype)}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"binary_cross_entropy\" not implemented for '{_dtype_word(input.dtype)}'")
    weight = _checked_loss_weight("binary_cross_entropy", "weight", weight, input)
    return elementwise_loss("binary_cross_entropy", input, target, weight=weight, reduction=reduction)


def _checked_loss_weight(name: str, argument: str, weight, input):
    """A per-element weight: a tensor without grad that broadcasts to the input's shape, returned in
    the input's dtype (torch multiplies the loss by it in place: an integer or float64 weight of a
    float32 loss gives a float32 loss)."""
    if weight is None:
        return None
    _check_tensor(name, argument, weight)
    _check_no_grad(name, argument, weight)
    if not _broadcasts_to(tuple(weight.shape), tuple(input.shape)):
        raise RuntimeError(
            f"{name}: {argument} of shape {list(weight.shape)} does not broadcast to the input shape "
            f"{list(input.shape)}"
        )
    return weight if weight.dtype == input.dtype else weight.to(input.dtype)


def _check_class_weight(name: str, weight, classes: int, input) -> None:
    if weight is None:
        return
    _check_tensor(name, "weight", weight)
    if tuple(weight.shape) != (classes,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {classes} classes or no classes but got weight "
            f"tensor of shape: {list(weight.shape)}"
        )
    if weight.dtype != input.dtype:
        raise RuntimeError(f"{name}: weight has dtype {weight.dtype} but input has {input.dtype}")


def _as_rows(input, target, probabilities: bool = False):
    """input (C,), (N, C) or (N, C, d1, ...) and its target as (rows, C) and (rows,) (or (rows, C)).

    For extra dims, C is moved last by a permute view and the rest flattened into rows (a
    kernel copy when the permuted strides do not merge).
    """
    if input.dim() == 1:  # (a class-index target of a (C,) input is () or (1,))
        return input.unsqueeze(0), target.unsqueeze(0) if probabilities else target.reshape(1)
    if input.dim() == 2:
        return input, target
    classes = input.shape[1]
    order = (0, *range(2, input.dim()), 1)
    rows = input.permute(order).reshape(-1, classes)
    return rows, target.permute(order).reshape(-1, classes) if probabilities else target.reshape(-1)


def _check_class_target(name: str, input, target, weight):
    """torch's nll_loss_nd checks of class-index ``target`` (and ``weight``) against ``input``, in
    its order: shapes first (batch size, the (N, C, d1, ...) target size, then the per-rank rule of
    nll_loss / nll_loss2d), then the target's dtype, then the weight. Returns the target as int64
    (torch also takes uint8 targets for (C) and (N, C) inputs)."""
    rank = input.dim()
    if rank == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if rank != 1:
        target_batch = target.shape[0] if target.dim() else 0  # (torch reads a 0-d target's size as 0)
        if input.shape[0] != target_batch:
            raise ValueError(
                f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target_batch})."
            )
    if rank not in (1, 2, 4) and target.dim() == 0:  # (a 0-d target of an empty batch: torch slices its sizes)
        raise RuntimeError("ArrayRef: invalid slice, N = 1; size = 0")
    if rank not in (1, 2, 4) and tuple(target.shape[1:]) != tuple(input.shape[2:]):
        expected = [input.shape[0], *input.shape[2:]]
        raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")
    _check_no_grad(_nll_name(input), "weight", weight)  # (torch's autograd kernel of nll_loss_forward / 2d)
    if rank <= 2 and target.dim() > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if rank == 4 and target.dim() != 3:  # (torch's nll_loss2d; every other rank reaches it as (N, C, 1, -1))
        raise RuntimeError(
            f"only batches of spatial targets supported (3D tensors) but got targets of dimension: {target.dim()}"
        )
    if target.dtype not in (torch.int64, torch.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_dtype_word(target.dtype)}")
    if rank == 2 and target.dim() == 0:  # (a 0-d target of an empty batch)
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if rank == 1 and target.dim() == 1 and target.shape[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
    classes = input.shape[0 if rank == 1 else 1]
    if weight is not None:
        _check_tensor(name, "weight", weight)
        if rank <= 2 and tuple(weight.shape) != (classes,):
            raise RuntimeError(
                f"weight tensor should be defined either for all {classes} classes or no classes but got weight "
                f"tensor of shape: {list(weight.shape)}"
            )
        if rank > 2 and weight.numel() != classes:  # (nll_loss2d's check: the element count only)
            raise RuntimeError("weight tensor should be defined either for all or no classes")
    if rank == 4 and tuple(target.shape[1:]) != tuple(input.shape[2:]):  # (torch's text, parenthesis unclosed)
        raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: {list(target.shape)}")
    if weight is not None and weight.dtype != input.dtype:  # (torch's kernel: after the shape checks)
        raise RuntimeError(f"expected scalar type {_dtype_word(input.dtype)} but found {_dtype_word(weight.dtype)}")
    if target.dtype == torch.uint8:
        if rank > 2:
            raise RuntimeError("expected scalar type Long but found Byte")
        target = target.long()
    return target


@autocast_op("cross_entropy")
def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
):
    """Cross entropy of logits ``input`` (C), (N, C) or (N, C, d1, ...) against class indices.

    Fused: one kernel computes log-softmax, the picked log-probability, label smoothing and
    class weights, another the gradient, without materialising the log-probabilities.
    Class-probability targets (a floating ``target`` shaped like ``input``) are composed from
    log_softmax.
    """
    # (Written for speed: the usual call, (N, C) logits and (N,) int64 class indices with no weight,
    # label smoothing or legacy flags, passes one test and goes straight to the fused Function.)
    if isinstance(input, Tensor) and isinstance(target, Tensor):
        logits_shape, target_data = input._data.shape, target._data
        target_shape = target_data.shape
        if (
            len(logits_shape) == 2 and len(target_shape) == 1 and target_data.dtype == torch.int64
            and target_shape[0] == logits_shape[0] and weight is None and label_smoothing == 0.0
            and size_average is None and reduce is None and reduction in _REDUCTIONS
        ):  # fmt: skip
            return CrossEntropy.apply(input, target, None, (int(ignore_index), 0.0, reduction))
    _check_tensor("cross_entropy", "input", input)
    _check_tensor("cross_entropy", "target", target)
    reduction = _reduction(size_average, reduce, reduction)
    # torch's rule: a target shaped like the input holds class probabilities (and must be floating);
    # any other target holds class indices (a floating one is then refused by nll_loss's dtype check).
    probabilities = tuple(target.shape) == tuple(input.shape)
    if probabilities and not target.dtype.is_floating_point:
        raise RuntimeError(
            f"Expected floating point type for target with class probabilities, got {_dtype_word(target.dtype)}"
        )
    if label_smoothing > 1.0:  # (torch checks the upper end only: a negative smoothing is computed)
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing:g}")
    if input.dim() == 0:  # (torch's log_softmax over dim 1, or its probabilities' size(1))
        if probabilities:
            raise IndexError("Dimension specified as 1 but tensor has no dimensions")
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    class_dim = 0 if input.dim() == 1 else 1
    classes = input.shape[class_dim]
    if probabilities:
        _check_class_weight("cross_entropy", weight, classes, input)
        # Logits and probabilities of two floating dtypes compute in their promoted dtype, as torch's.
        common = _promote_types(input.dtype, target.dtype)
        input, target = input.to(common), target.to(common)
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if target.requires_grad or (weight is not None and weight.requires_grad):  # (the fused kernel: logits only)
            return _cross_entropy_composed(input, target, weight, reduction, label_smoothing, class_dim)
    else:
        index_dtype = target.dtype
        target = _check_class_target("cross_entropy", input, target, weight)
        if label_smoothing > 0.0:
            _check_smoothing_quirks(input, target, index_dtype, weight, reduction)
        if weight is not None and weight.dim() != 1:  # (for (N, C, d1, ...) any weight of C elements)
            weight = weight.reshape(-1)
    rows, row_targets = _as_rows(input, target, probabilities)
    loss = CrossEntropy.apply(rows, row_targets, weight, (int(ignore_index), float(label_smoothing), reduction))
    return _unflatten_loss(loss, input, reduction)


def _check_smoothing_quirks(input, target, index_dtype: torch.dtype, weight, reduction: str) -> None:
    """The errors torch's label-smoothing composition raises where its nll_loss would compute."""
    if target.dim() > input.dim() - 1:  # a (C,) input's (1,) target: the (1,) loss added in place into ()
        raise RuntimeError("output with shape [] doesn't match the broadcast shape [1]")
    if weight is None:
        return
    if weight.dim() != 1:  # (nll_loss2d takes any weight of C elements; the smoothing term views it (1, C, 1, ...))
        shape = [1] * input.dim()
        shape[1] = weight.shape[0]
        raise RuntimeError(f"shape '{shape}' is invalid for input of size {weight.numel()}")
    if index_dtype == torch.uint8 and reduction == "mean":  # (its weighted mean gathers the weights by target)
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")


def _nll_name(input) -> str:
    """torch's kernel name for an NLL of this input: the 2-d one for (N, C, d1, ...)."""
    return "nll_loss_forward" if input.dim() <= 2 else "nll_loss2d_forward"


def _unflatten_loss(loss, input, reduction: str):
    if reduction != "none" or input.dim() == 2:
        return loss
    if input.dim() == 1:
        return loss.reshape(())
    return loss.reshape((input.shape[0],) + tuple(input.shape[2:]))


def _cross_entropy_composed(input, target, weight, reduction: str, label_smoothing: float, class_dim: int):
    """-sum_c w_c q_c log p_c with q the (smoothed) target distribution, composed from ops so the
    target gets a gradient too (the fused kernel gives the logits' gradient only)."""
    classes = input.shape[class_dim]
    log_probabilities = log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    terms = log_probabilities * target
    if weight is not None:
        weight_shape = [1] * input.dim()
        weight_shape[class_dim] = classes
        terms = terms * weight.reshape(weight_shape)
    loss = -terms.sum(class_dim)
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    return loss


@autocast_op("nll_loss")
def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean"):  # fmt: skip
    """Negative log-likelihood of log-probabilities ``input`` (C), (N, C) or (N, C, d1, ...)."""
    _check_tensor("nll_loss", "input", input)
    _check_tensor("nll_loss", "target", target)
    reduction = _reduction(size_average, reduce, reduction)
    target = _check_class_target("nll_loss", input, target, weight)
    if weight is not None and weight.dim() != 1:  # (for (N, C, d1, ...) any weight of C elements)
        weight = weight.reshape(-1)
    rows, row_targets = _as_rows(input, target)
    loss = NllLoss.apply(rows, row_targets, weight, int(ignore_index), reduction)
    return _unflatten_loss(loss, input, reduction)


@autocast_op("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None):  # fmt: skip
    """-w [p t log s(x) + (1 - t) log(1 - s(x))] with s the sigmoid, computed stably from the logits x.

    ``weight`` and ``pos_weight`` (p, typically one per class: the last dim) broadcast to the
    input's shape; like torch's, neither may require grad.
    """
    _check_tensor("binary_cross_entropy_with_logits", "input", input)
    _check_tensor("binary_cross_entropy_with_logits", "target", target)
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    # torch computes in the promoted dtype and returns the target's.
    result_dtype = target.dtype
    if not input.dtype.is_floating_point:
        word = _dtype_word(input.dtype)
        raise NotImplementedError(f"\"binary_cross_entropy_with_logits\" not implemented for '{word}'")
    input, target = _elementwise_operands("binary_cross_entropy_with_logits", input, target)
    if not result_dtype.is_floating_point:
        raise RuntimeError(
            f"result type {_dtype_word(input.dtype)} can't be cast to the desired output type "
            f"{_dtype_word(result_dtype)}"
        )
    weight = _checked_loss_weight("binary_cross_entropy_with_logits", "weight", weight, input)
    pos_weight = _checked_loss_weight("binary_cross_entropy_with_logits", "pos_weight", pos_weight, input)
    loss = elementwise_loss(
        "binary_cross_entropy_with_logits", input, target, weight=weight, aux=pos_weight, reduction=reduction
    )
    return loss.to(result_dtype)


@autocast_op("kl_div")
def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
    """Pointwise KL divergence target * (log(target) - input) of log-probabilities ``input``.

    ``log_target=True`` takes the target as log-probabilities too: exp(target) * (target - input).
    ``reduction="batchmean"`` divides the sum by the batch size (the input's first dim), the
    mathematical KL divergence; ``"mean"`` divides by the number of elements (torch warns).
    """
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        caller_warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            UserWarning,
        )
    elif reduction != "batchmean":
        reduction = _reduction(None, None, reduction)
    input, target = _elementwise_operands("kl_div", input, target, warn=False, dtype_rule="no_integers")
    loss = "kl_div_log_target" if log_target else "kl_div"
    return elementwise_loss(loss, input, target, reduction=reduction)


@autocast_op("soft_margin_loss")
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """log(1 + exp(-target * input)) for targets of +-1; the target gets no gradient (as in torch)."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_tensor("soft_margin_loss", "input", input)
    _check_tensor("soft_margin_loss", "target", target)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        _refuse_integer_soft_margin(input, target)
    input, target = _elementwise_operands("soft_margin_loss", input, target, warn=False, dtype_rule="input")
    _check_no_grad("soft_margin_loss", "target", target)
    return elementwise_loss("soft_margin_loss", input, target, reduction=reduction)


def _refuse_integer_soft_margin(input, target) -> None:
    """torch's errors for an integer or bool input: its loss is computed in place in the input's dtype,
    -input (no negation of bools), times target, then exp (a floating result it cannot store)."""
    if input.dtype == torch.bool:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    promoted = _promote_types(input.dtype, target.dtype)
    result = promoted if promoted.is_floating_point or promoted.is_complex else torch.float32
    raise RuntimeError(
        f"result type {_dtype_word(result)} can't be cast to the desired output type {_dtype_word(input.dtype)}"
    )


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    if len(shape) > len(target):
        return False
    return all(size in (1, full) for size, full in zip(reversed(shape), reversed(target)))


# ------------------------------------------------------------------------------ prelu, softmin, channel dropout
@autocast_op("prelu")
def prelu(input, weight):
    """x where x > 0, weight * x elsewhere; ``weight`` has 1 or C (= input.shape[1]) entries. Composed
    from ``where`` (its grad_fn is WhereBackward0 where torch's is PreluKernelBackward0)."""
    _check_tensor("prelu", "input", input)
    _check_tensor("prelu", "weight", weight)
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"prelu_cpu\" not implemented for '{_dtype_word(input.dtype)}'")
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"prelu: Type promoting not supported. Got {_dtype_word(input.dtype)} and {_dtype_word(weight.dtype)}"
        )
    channels = input.shape[1] if input.dim() >= 2 else 1
    if weight.numel() not in (1, channels):
        raise RuntimeError(
            f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {weight.numel()} "
            f"and channel size = {channels}."
        )
    if weight.numel() > 1:  # one slope per channel (dim 1), broadcast over the rest
        weight = weight.reshape((channels,) + (1,) * (input.dim() - 2))
    else:  # (one slope keeps input's shape, a 0-d input's too)
        weight = weight.reshape(())
    return ops.where(input > 0, input, weight * input)


def gumbel_softmax(logits, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1):
    """A sample of the Gumbel-softmax (concrete) distribution over ``dim``: softmax((logits + g) / tau)
    with g Gumbel noise; ``hard`` returns the one-hot of its argmax with the soft sample's gradient
    (straight-through), as torch's."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", UserWarning, stacklevel=2)
    gumbels = -logits.new_empty(logits.shape).exponential_().log()  # Gumbel(0, 1) noise
    soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return soft
    index = soft.max(dim, keepdim=True)[1]
    one_hot = creation.zeros_like(logits).scatter_(dim, index, 1.0)
    return one_hot - soft.detach() + soft


def softmin(input, dim: int | None = None, _stacklevel: int = 3, dtype=None):
    """softmax(-input) along ``dim`` (the implicit choice of dim warns, as torch's)."""
    _check_tensor("softmin", "input", input)
    if dim is None:
        warnings.warn(
            "Implicit dimension choice for softmin has been deprecated. Change the call to include dim=X as an "
            "argument.",
            UserWarning,
            stacklevel=_stacklevel,
        )
        dim = 0 if input.dim() in (0, 1, 3) else 1
    return softmax(-input, dim, dtype=dtype)


def _channel_dropout(
    name: str, input, p: float, training: bool, inplace: bool, feature_dims: int, checked: bool = False
):
    """Zeroes whole channels (all ``feature_dims`` trailing dims of one (n, c)) with probability ``p``;
    ``checked``: the caller has checked the input and its rank."""
    if not checked:
        _check_tensor(name, "input", input)
        _check_dropout_probability(p)
    if not checked and input.dim() not in (feature_dims + 1, feature_dims + 2):
        raise RuntimeError(
            f"{name}: Expected {feature_dims + 1}D or {feature_dims + 2}D input, but received a {input.dim()}D "
            f"input. Note that {name} exists to provide channel-wise dropout on inputs with {feature_dims} spatial "
            f"dimension{'s' if feature_dims > 1 else ''}, a channel dimension, and an optional batch dimension "
            f"(i.e. {feature_dims + 1}D or {feature_dims + 2}D inputs)."
        )
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape[: input.dim() - feature_dims]) + (1,) * feature_dims
    keep = creation.rand(*shape, dtype=input.dtype, device=input.device) >= p
    scale = keep.to(input.dtype) / (1.0 - p) if p < 1.0 else keep.to(input.dtype)
    return input.mul_(scale) if inplace else input * scale


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout for (N, C, L) or (C, L): whole channels are zeroed, the rest scaled by 1 / (1 - p)."""
    return _channel_dropout("dropout1d", input, p, training, inplace, 1)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout for (N, C, H, W): whole feature maps are zeroed, the rest scaled. Other ranks
    warn, as torch's, and drop along dims (0, 1) of the input as they are: a 3-D input is read as
    (N, C, L), not as an unbatched (C, H, W) (torch's deprecated behaviour)."""
    _check_tensor("dropout2d", "input", input)
    _check_dropout_probability(p)
    dims = input.dim()
    if dims == 4:
        return _channel_dropout("dropout2d", input, p, training, inplace, 2)
    if dims != 3:
        warnings.warn(
            f"dropout2d: Received a {dims}-D input to dropout2d, which is deprecated and will result in an error in a "
            "future release. To retain the behavior and silence this warning, please use dropout instead. Note that "
            "dropout2d exists to provide channel-wise dropout on inputs with 2 spatial dimensions, a channel "
            "dimension, and an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    else:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    if dims < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _channel_dropout("dropout2d", input, p, training, inplace, dims - 2, checked=True)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout for (N, C, D, H, W) or (C, D, H, W): whole 3-d feature maps are zeroed, the rest
    scaled. Other ranks warn, as torch's, and drop along dim 1 of the input with a batch dim added
    when it is not 5-d (torch's deprecated behaviour)."""
    _check_tensor("dropout3d", "input", input)
    _check_dropout_probability(p)
    dims = input.dim()
    if dims in (4, 5):
        return _channel_dropout("dropout3d", input, p, training, inplace, 3)
    warnings.warn(
        f"dropout3d: Received a {dims}-D input to dropout3d, which is deprecated and will result in an error in a "
        "future release. To retain the behavior and silence this warning, please use dropout instead. Note that "
        "dropout3d exists to provide channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, "
        "and an optional batch dimension (i.e. 4D or 5D inputs).",
        stacklevel=2,
    )
    if not training or p == 0.0:
        return input
    shape = (1, *input.shape)[:2] + (1,) * (dims - 1) if dims else (1,)
    keep = creation.rand(*shape, dtype=input.dtype, device=input.device) >= p
    scale = keep.to(input.dtype) / (1.0 - p) if p < 1.0 else keep.to(input.dtype)
    scale = scale.squeeze(0) if dims else scale.reshape(())
    return input.mul_(scale) if inplace else input * scale


def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
    """input / (k + alpha / size * sum of input ** 2 over ``size`` neighbouring channels) ** beta,
    torch's composition (AlexNet): an average pool over the channel dim of the zero-padded squares,
    for (N, C, *) input of 3 or more dims."""
    _check_tensor("local_response_norm", "input", input)
    dims = input.dim()
    if dims < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dims} dimensions)")
    if input.numel() == 0:
        return input
    if dims > 3 and input.dtype not in (torch.float32, torch.float64, torch.int64):
        # torch pools 4-d and 5-d input with avg_pool3d, whose CPU kernel takes fewer types than
        # avg_pool2d's (the same sums here): its refusal, e.g. of float16.
        raise NotImplementedError(f"\"avg_pool3d_out_frame\" not implemented for '{_dtype_word(input.dtype)}'")
    div = input.mul(input)
    sizes = tuple(input.shape)
    # (N, 1, C, rest): a (size, 1) window walks the channels (torch pools 5-d input in 3-d with
    # a (size, 1, 1) window, the same sums)
    div = div.unsqueeze(1) if dims == 3 else div.view(sizes[0], 1, sizes[1], -1)
    div = pad(div, (0, 0, size // 2, (size - 1) // 2))
    div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    if dims > 3:
        div = div.view(sizes)
    div = div.mul(alpha).add(k).pow(beta)
    return input / div


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):  # fmt: skip
    """``max_pool1d`` returning (output, indices) whatever ``return_indices`` says, as torch's."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):  # fmt: skip
    """``max_pool2d`` returning (output, indices) whatever ``return_indices`` says, as torch's."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool1d`` returning (output, indices), as torch's."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool2d`` returning (output, indices), as torch's."""
    return adaptive_max_pool2d(input, output_size, True)


# ------------------------------------------------------------------------------ distances and metric losses
# Composed from norms, clamps and elementwise ops (their kernels do the arithmetic); the formulas
# and eps placements are torch's, so values and gradients match it.
def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):
    """input / max(||input||_p along ``dim``, eps): unit vectors along ``dim``."""
    _check_tensor("normalize", "input", input)
    result = input / input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return result
    _check_no_grad_out("div", out, input)  # (torch's refusal names the division it writes out)
    return _write_out("normalize", out, result, rule="castable")


@autocast_op("cosine_similarity")
def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along ``dim``; x1 and x2 broadcast.

    As torch's, each norm is clamped in place under no_grad: a norm below ``eps`` is used as
    ``eps``, and the gradient still flows through the norm (at the clamped value), not only
    through the numerator as a differentiable clamp would have it.
    """
    _check_tensor("cosine_similarity", "x1", x1)
    _check_tensor("cosine_similarity", "x2", x2)
    common = _result_type(x1, x2)
    if not common.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {_dtype_word(common)}")
    if eps < 0:
        raise RuntimeError(f"eps must be non-negative, got: {eps:g}")
    # (integer and bool inputs are cast to the common dtype; floating ones keep theirs, as torch's)
    x1, x2 = (x if x.dtype.is_floating_point else x.to(common) for x in (x1, x2))
    x1, x2 = ops.broadcast_tensors(x1, x2)
    norm1 = x1.norm(2, dim, keepdim=True).clone()
    norm2 = x2.norm(2, dim, keepdim=True).clone()
    with no_grad():
        norm1.clamp_min_(eps)
        norm2.clamp_min_(eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """||x1 - x2 + eps||_p along the last dim (torch adds eps to the difference)."""
    _check_tensor("pairwise_distance", "x1", x1)
    _check_tensor("pairwise_distance", "x2", x2)
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


def _reduce(loss, reduction: str):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


@autocast_op("triplet_margin_loss")
def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None, reduction: str = "mean"):  # fmt: skip
    """max(d(a, p) - d(a, n) + margin, 0) with pairwise_distance d; ``swap`` uses min(d(a, n), d(p, n))."""
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    # Any number of dims, the same for all three (torch's only check): the distance is over the last.
    if not anchor.dim() == positive.dim() == negative.dim():
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {anchor.dim()}D, positive {positive.dim()}D, and negative {negative.dim()}D inputs"
        )
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_an = ops.minimum(d_an, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_ap - d_an).clamp_min(0), reduction)


@autocast_op("margin_ranking_loss")
def margin_ranking_loss(input1, input2, target, margin: float = 0, size_average=None, reduce=None,
                        reduction: str = "mean"):  # fmt: skip
    """max(0, -target * (input1 - input2) + margin) for targets of +-1."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} "
        )
    difference = input1 - input2  # (first, as torch's: two bool inputs are its subtraction error)
    # (torch's margin is a double: integer inputs give a float loss)
    return _reduce((-target * difference + float(margin)).clamp_min(0), reduction)


@autocast_op("hinge_embedding_loss")
def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean"):  # fmt: skip
    """input where target is 1, max(0, margin - input) where target is -1 (both terms where neither)."""
    reduction = _reduction(size_average, reduce, reduction)
    zero = creation.zeros((), dtype=input.dtype, device=input.device)
    # torch's margin - input is the input's dtype filled with the margin, minus the input: an integer input
    # truncates the margin and keeps its dtype (so its mean is refused), a bool one is a bool subtraction
    margins = creation.full_like(input, margin)
    margin_term = ops.where(target != 1, (margins - input).clamp_min(0), zero)
    self_term = ops.where(target != -1, input, zero)
    return _reduce(margin_term + self_term, reduction)


@autocast_op("cosine_embedding_loss")
def cosine_embedding_loss(input1, input2, target, margin: float = 0, size_average=None, reduce=None,
                          reduction: str = "mean"):  # fmt: skip
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where target is -1; cos along the
    last dim with torch's eps of 1e-12 added to each squared norm."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_cosine_embedding_dims(input1, input2, target)
    dim = target.dim()  # the inputs' last dim, after the check
    products = (input1 * input2).sum(dim)
    squares1 = (input1 * input1).sum(dim) + 1e-12
    squares2 = (input2 * input2).sum(dim) + 1e-12
    cos = products / (squares1 * squares2).sqrt()
    zero = creation.zeros((), dtype=cos.dtype, device=cos.device)
    positive = ops.where(target == 1, 1 - cos, zero)
    negative = ops.where(target == -1, (cos - margin).clamp_min(0), zero)
    return _reduce(positive + negative, reduction)


def _check_cosine_embedding_dims(input1, input2, target) -> None:
    """torch's: a 0-D target goes with 1-D inputs, a 1-D target with 2-D ones (a batch)."""
    if target.dim() not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    expected = target.dim() + 1
    if input1.dim() != expected or input2.dim() != expected:
        raise RuntimeError(
            f"{target.dim()}D target tensor expects {expected}D input tensors, but found inputs with sizes "
            f"{list(input1.shape)} and {list(input2.shape)}."
        )


# ------------------------------------------------------------------------------ more losses
# poisson_nll_loss, gaussian_nll_loss, the multi-class/multi-label margin losses and
# triplet_margin_with_distance_loss, composed from tritongrad ops in torch's order of operations
# (the kernels of those ops do the arithmetic), with torch's checks and messages. Checks of values
# only the device knows (a negative variance, a class index out of range) go through
# kernels/device_checks: no host sync per call on a GPU.
def _legacy_enum_reduction(size_average, reduce, reduction: str) -> str:
    """torch's ``_Reduction.get_enum`` (the C++-backed losses): also takes the deprecated
    "elementwise_mean" as "mean", with torch's warning."""
    if size_average is None and reduce is None and reduction == "elementwise_mean":
        caller_warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.")
        return "mean"
    return _reduction(size_average, reduce, reduction)


def _check_operand(name: str, argument: str, position: int, value) -> None:
    """torch's TypeError for a non-tensor argument of an op with a C++ signature."""
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{name}(): argument '{argument}' (position {position}) must be Tensor, not {type(value).__name__}"
        )


def _raise_on_device(found, error: Exception) -> None:
    """Raises ``error`` if the boolean tensor ``found`` (one element, computed by a kernel) is true."""

    def check(value) -> None:
        if value:
            raise error

    check_on_device(found._data, check)


@autocast_op("poisson_nll_loss")
def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False, size_average=None,
                     eps: float = 1e-8, reduce=None, reduction: str = "mean"):  # fmt: skip
    """Negative log-likelihood of a Poisson(lambda) ``target``: exp(input) - target * input for
    ``log_input`` (input = log lambda), else input - target * log(input + eps). ``full`` adds the
    Stirling term target * log(target) - target + 0.5 log(2 pi target) where target > 1. Like torch's,
    the target gets a gradient too."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_operand("poisson_nll_loss", "input", 1, input)
    _check_operand("poisson_nll_loss", "target", 2, target)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
    """0.5 (log(var) + (input - target)^2 / var) (+ 0.5 log(2 pi) when ``full``).

    ``var`` (a tensor or a float) has the input's shape, or its shape without the last dim, or its
    shape with one dim of size 1 (homoscedastic). It is clamped at ``eps`` without a gradient through
    the clamp, as torch's: the gradient reaching var is the loss's at the clamped value.
    """
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * creation.ones_like(input)
    elif isinstance(var, Tensor):
        if var.numel():
            _raise_on_device((var < 0).any(), ValueError("var has negative entry/entries"))
    else:
        negative = var < 0  # (torch.any of what a number or a list compares to; a list raises here)
        raise TypeError(
            f"any() received an invalid combination of arguments - got ({type(negative).__name__}), but expected "
            "one of:\n * (Tensor input, *, Tensor out = None)"
        )
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):  # homoscedastic: one variance per row
            var = var.unsqueeze(-1)
        elif not (
            input.dim() == var.dim() and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1
        ):  # (else: one dim of size 1 broadcasts)
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def _check_margin_input(input) -> tuple[int, int]:
    """(rows, classes) of a multi_margin_loss / multilabel_margin_loss input: (C), (N, C) or a scalar."""
    ndims = input.dim()
    if not ((ndims == 2 and input.shape[1] != 0) or (ndims == 1 and input.shape[0] != 0) or ndims == 0):
        raise RuntimeError(
            f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(input.shape)}"
        )
    if ndims <= 1:
        return 1, 1 if ndims == 0 else input.shape[0]
    return input.shape[0], input.shape[1]


def _check_margin_dtypes(kernel: str, input, target, weight=None) -> None:
    """torch's dtype errors: a floating input (on the CPU not the half types), int64 targets and a
    weight of the input's dtype."""
    cpu_half = input.dtype in (torch.float16, torch.bfloat16) and input.device.type == "cpu"
    if not input.dtype.is_floating_point or cpu_half:  # (torch's CUDA kernels take the half types)
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype_word(input.dtype)}'")
    for other in (target, weight):
        expected = torch.int64 if other is target else input.dtype
        if other is not None and other.dtype != expected:
            raise RuntimeError(f"expected scalar type {_dtype_word(expected)} but found {_dtype_word(other.dtype)}")


@autocast_op("multi_margin_loss")
def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None, size_average=None,
                      reduce=None, reduction: str = "mean"):  # fmt: skip
    """Multi-class hinge loss: for each row x with class y, sum over i != y of
    max(0, margin - x[y] + x[i])^p (times weight[y]) / C, for ``p`` 1 or 2. ``input`` is (N, C), (C)
    or a scalar; ``target`` holds N int64 class indices. ``weight`` (C) gets no gradient (torch refuses
    one that requires grad)."""
    reduction = _legacy_enum_reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _check_operand("multi_margin_loss", "input", 1, input)
    _check_operand("multi_margin_loss", "target", 2, target)
    _check_no_grad("multi_margin_loss", "weight", weight)
    rows, classes = _check_margin_input(input)
    if not (target.dim() <= 1 and target.numel() == rows):
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples (batch "
            f"size). Expected target size [{rows}], but got {list(target.shape)}. Input has shape {list(input.shape)}."
        )
    if weight is not None and weight.numel() != classes:
        raise RuntimeError(f"inconsistent weight size, expected {classes} but got {list(weight.shape)}")
    shape = (rows,) if reduction == "none" and target.dim() > 0 else ()
    if input.numel() == 0 and not input.dtype.is_floating_point:
        return input.new_zeros(shape if reduction == "none" else ())  # (torch checks no dtype here)
    if input.numel():
        _check_margin_dtypes("multi_margin_loss_cpu_kernel", input, target, weight)
        _raise_on_device(((target < 0) | (target >= classes)).any(), RuntimeError("target out of range"))
    return MultiMarginLoss.apply(input, target, weight, (p, margin, reduction, shape, rows, classes))


@autocast_op("multilabel_margin_loss")
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Multi-label hinge loss: for each row x with target classes y (the entries of its ``target`` row
    up to the first -1), sum over y in the targets and i not a target of max(0, 1 - x[y] + x[i]) / C.
    ``input`` is (N, C), (C) or a scalar; ``target`` int64 of the input's shape."""
    reduction = _legacy_enum_reduction(size_average, reduce, reduction)
    _check_operand("multilabel_margin_loss", "input", 1, input)
    _check_operand("multilabel_margin_loss", "target", 2, target)
    rows, classes = _check_margin_input(input)
    if input.dim() <= 1:
        fits = target.dim() <= 1 and target.numel() == classes
    else:
        fits = target.dim() == 2 and tuple(target.shape) == (rows, classes)
    if not fits:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    shape = (rows,) if reduction == "none" and target.dim() > 1 else ()
    if input.numel() == 0 and not input.dtype.is_floating_point:
        return input.new_zeros(shape if reduction == "none" else ())
    if input.numel():
        out_of_range = ((target < -1) | (target >= classes)).any()
        _raise_on_device(out_of_range, RuntimeError("argument #2 'target' is out of range"))
        _check_margin_dtypes("multilabel_margin_loss_forward_out_frame", input, target)
    x = input.reshape(rows, classes)
    y = target.reshape(rows, classes)
    listed = (y < 0).cumsum(1) == 0  # the entries before the first -1
    y = ops.where(listed, y, 0)
    is_target = ((y.unsqueeze(2) == creation.arange(classes, device=input.device)) & listed.unsqueeze(2)).any(1)
    z = (1 - x.gather(1, y)).unsqueeze(2) + x.unsqueeze(1)  # z[n, j, i] = 1 - x[n, y[n, j]] + x[n, i]
    keep = listed.unsqueeze(2) & ~is_target.unsqueeze(1) & (z > 0)
    loss = ops.where(keep, z, 0.0).sum((1, 2)) / classes
    return loss.reshape(shape) if reduction == "none" else _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean"):  # fmt: skip
    """-(t log s(x) + (1 - t) log s(-x)) (times ``weight``) averaged over the classes (the last dim),
    with s the sigmoid; target and weight get gradients too, as in torch."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    if input.dim() == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not valid")
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean"):  # fmt: skip
    """max(d(a, p) - d(a, n) + margin, 0) for any distance ``d`` (default: pairwise_distance);
    ``swap`` uses min(d(a, n), d(p, n))."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a_dim, p_dim, n_dim = anchor.ndim, positive.ndim, negative.ndim
    if not (a_dim == p_dim and p_dim == n_dim):
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number of dimensions, but "
            f"got: anchor {a_dim}D, positive {p_dim}D, and negative {n_dim}D inputs"
        )
    if distance_function is None:
        distance_function = pairwise_distance
    dist_pos = distance_function(anchor, positive)
    dist_neg = distance_function(anchor, negative)
    if swap:
        dist_neg = ops.minimum(dist_neg, distance_function(positive, negative))
    return _reduce((margin + dist_pos - dist_neg).clamp_min(0), reduction)


# ------------------------------------------------------------------------------ embedding bags
def embedding_bag(
    input,
    weight,
    offsets=None,
    max_norm=None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights=None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
):
    """Sum, mean or max of bags of ``weight`` rows -> (bags, embedding_dim).

    ``input`` is (B, L) (each row one bag, ``offsets`` None) or 1-D and cut into bags starting at
    ``offsets`` (B,) (B + 1 with ``include_last_offset``, whose last entry ends the last bag);
    an empty bag gives zeros. Entries equal to ``padding_idx`` are left out of their bag (and of
    its mean's count). ``per_sample_weights`` (like input) scales each row, ``mode="sum"`` only.
    ``scale_grad_by_freq`` divides each row's gradient by its index's count in the whole input
    (as F.embedding and torch's CUDA kernel do; torch 2.13's CPU kernel divides some rows by
    another index's count, pytorch#190063).

    With ``include_last_offset`` and a last offset short of the input's end, torch's CPU result
    depends on its kernel path, and this follows it: floating types other than float64 in
    "sum"/"mean" with no ``padding_idx`` (a unit-stride weight row, contiguous
    ``per_sample_weights``) sum only up to the last offset, a mean still dividing by the count up
    to the input's end; every other case (float64, ``padding_idx``, "max", strided rows) runs the
    last bag to the input's end (pytorch#191965).

    Offsets and indices are checked on the device (kernels/device_checks.py).
    Composed from embedding, index_add and scatter_reduce (their kernels do the arithmetic);
    ``max_norm`` renormalises the looked-up rows in place as ``embedding`` does; ``sparse=True`` is
    not supported (NotImplementedError)."""
    _check_tensor("embedding_bag", "input", input)
    _check_tensor("embedding_bag", "weight", weight)
    if weight.dtype == torch.long and input.is_floating_point():
        # torch's backward compatibility with the old embedding_bag(weight, input, ...) order
        caller_warnings.warn(
            "Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, input, ...)` "
            "is deprecated, and should now be `embedding_bag(input, weight, ...)`."
        )
        weight, input = input, weight
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights (torch.Size({list(per_sample_weights.shape)})) is not None, "
            f"then it must have the same shape as the input (torch.Size({list(input.shape)}))"
        )
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed "
                f"length sequences. However, found offsets of type {_type_repr(offsets)}"
            )
        offsets = creation.arange(input.shape[0], dtype=torch.int64, device=input.device) * input.shape[1]
        include_last_offset = False
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if max_norm is not None:
        renormalize_rows(weight, input, float(max_norm), float(norm_type))
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only supported "
            f"for mode='sum' (got mode='{mode}'). Please open a feature request on GitHub."
        )
    if sparse:
        raise NotImplementedError("embedding_bag: sparse gradients are not supported; use sparse=False")
    # torch promotes the indices and offsets to their common type (a 2-D input's offsets are built
    # in its dtype), checks that, then the table's: int16 indices pass beside int64 offsets.
    index_dtype = _promote_types(input.dtype, input.dtype if input.dim() == 2 else offsets.dtype)
    if index_dtype not in (torch.int32, torch.int64):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but "
            f"got {tensor_type_name(index_dtype, input.device)} instead (while checking arguments for embedding_bag)"
        )
    check_bag_weight(weight)
    num_weights, dim = weight.shape
    if padding_idx is not None:
        if not -num_weights <= padding_idx < num_weights:
            raise RuntimeError(
                f"padding_idx must be within the number of embeddings, -{num_weights} through {num_weights - 1}, "
                f"but got {padding_idx}"
            )
        padding_idx %= num_weights
    if include_last_offset and offsets.shape[0] < 1:
        raise RuntimeError("include_last_offset: number of offset should be at least 1")
    flat = input.reshape(-1)
    n = flat.shape[0]
    bags = offsets.shape[0] - 1 if include_last_offset else offsets.shape[0]
    if offsets.shape[0]:
        check_bags(flat, offsets, num_weights)
    # torch's CPU fast path (see the docstring) ends the last bag at the last offset: using every
    # offset as a bag start sends the entries after it to bag ``bags``, the discarded row below.
    stops_at_last_offset = (
        include_last_offset and bags > 0 and mode != "max" and padding_idx is None
        and weight.dtype in (torch.float32, torch.float16, torch.bfloat16) and weight.stride(1) == 1
        and (per_sample_weights is None or per_sample_weights.reshape(-1).stride(0) == 1)
    )  # fmt: skip
    starts = offsets if stops_at_last_offset else offsets[:bags]
    # Bag of each entry: one mark at each bag's start, counted by a running sum (offsets[0] is 0).
    marks = creation.zeros(n + 1, dtype=torch.int64, device=input.device)
    marks = marks.index_add(0, starts.long(), creation.ones(starts.shape[0], dtype=torch.int64, device=input.device))
    bag_of = marks[:n].cumsum(0) - 1
    if bags == 0:  # no bag at all: every entry goes to the discarded row
        bag_of = creation.zeros(n, dtype=torch.int64, device=input.device)
    # The rows, with F.embedding's gradient: no gradient into padding_idx's row, and
    # scale_grad_by_freq counting each index over the whole input.
    rows = embedding(flat, weight, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1)
    if padding_idx is not None:
        bag_of = ops.where(flat == padding_idx, bags, bag_of)  # left out: into the discarded row
    out = creation.zeros(bags + 1, dim, dtype=weight.dtype, device=weight.device)
    if mode == "max":
        return _bag_max(rows, bag_of, out)[:bags]
    out = out.index_add(0, bag_of, rows)[:bags]
    if mode == "mean":
        counted = bag_of.clamp(max=bags - 1) if stops_at_last_offset else bag_of
        ones = creation.ones(n, dtype=weight.dtype, device=weight.device)
        counts = creation.zeros(bags + 1, dtype=weight.dtype, device=weight.device).index_add(0, counted, ones)
        out = out / counts[:bags].clamp(min=1).unsqueeze(1)
    return out


def _bag_max(rows, bag_of, zeros):
    """Each bag's elementwise max of its rows (``zeros``, shaped (bags, dim): an empty bag's result),
    read from the first row that holds it, as torch's: the gradient goes to that row alone (a
    scatter_reduce amax would share it among tied rows). A NaN never wins (torch keeps a value
    only when a later one is greater)."""
    count, dim = rows.shape
    index = bag_of.unsqueeze(1).expand(count, dim)
    values = rows.detach().nan_to_num(nan=-math.inf, posinf=math.inf, neginf=-math.inf)
    best = zeros.scatter_reduce(0, index, values, "amax", include_self=False).gather(0, index)
    holds_best = values == best
    positions = creation.arange(count, device=rows.device).unsqueeze(1).expand(count, dim)
    candidates = ops.where(holds_best, positions, count)
    first = creation.full(tuple(zeros.shape), count, dtype=torch.int64, device=rows.device)
    first = first.scatter_reduce(0, index, candidates, "amin")
    padded = ops.cat([rows, creation.zeros(1, dim, dtype=rows.dtype, device=rows.device)])  # row ``count``: empty bags
    return padded.gather(0, first)


# ------------------------------------------------------------------------------ utilities
def one_hot(tensor, num_classes: int = -1):
    """int64 one-hot rows for the class indices in ``tensor`` (a new last dim of ``num_classes``)."""
    _check_tensor("one_hot", "tensor", tensor)
    if tensor.dtype != torch.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1 or (num_classes <= 0 and tensor.numel() == 0):
        if tensor.numel() == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(tensor.max().item()) + 1
    if tensor.numel():
        if int(tensor.min().item()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(tensor.max().item()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    classes = creation.arange(num_classes, dtype=torch.int64, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()


# ------------------------------------------------------------------------------ extras
# pdist, the deprecated upsample_* spellings, and the 3-d pooling forms torch has (ops/extras.py,
# ops/unpooling.py, ops/pooling3d.py do the work).
from tritongrad.ops.extras import pdist  # noqa: E402
from tritongrad.ops.unpooling import max_unpool3d  # noqa: E402

__all__ += [  # noqa: PLE0604
    "pdist", "upsample_nearest", "upsample_bilinear", "max_unpool3d", "lp_pool3d", "max_pool3d_with_indices",
    "adaptive_max_pool3d_with_indices",
]  # fmt: skip


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None):
    """Deprecated: ``interpolate`` under its old name, with torch's warning."""
    caller_warnings.warn(
        "`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", UserWarning
    )
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode="nearest")``, with torch's warning."""
    caller_warnings.warn(
        "`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.", UserWarning
    )
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)``, with
    torch's warning."""
    caller_warnings.warn(
        "`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.", UserWarning
    )
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def lp_pool3d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """``lp_pool1d`` over (D, H, W) windows."""
    return _lp_pool(avg_pool3d, max_pool3d, input, norm_type, kernel_size, stride, ceil_mode, 3)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):  # fmt: skip
    """``max_pool3d`` returning (output, indices) whatever ``return_indices`` says, as torch's."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool3d`` returning (output, indices), as torch's."""
    return adaptive_max_pool3d(input, output_size, True)
