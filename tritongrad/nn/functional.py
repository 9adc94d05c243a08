"""tritongrad.nn.functional: the torch.nn.functional subset tritongrad has.

Argument names, defaults, shapes and error conditions follow torch. Each
function checks its arguments and applies a Function of tritongrad/ops/nn_ops.py
(or an elementwise op), whose kernels do the arithmetic.

Example::

    >>> import tritongrad.nn.functional as F
    >>> F.softmax(tritongrad.tensor([[0.0, 0.0]]), dim=-1)
    tensor([[0.5000, 0.5000]])
"""

from __future__ import annotations

import warnings

import torch

from tritongrad import ops
from tritongrad.dtypes import dtype_word as _dtype_word
from tritongrad.ops import nn_ops
from tritongrad.ops.views import normalize_dim
from tritongrad.tensor import Tensor

__all__ = [
    "linear",
    "relu",
    "relu_",
    "sigmoid",
    "tanh",
    "gelu",
    "leaky_relu",
    "leaky_relu_",
    "silu",
    "softmax",
    "log_softmax",
    "dropout",
    "mse_loss",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy_with_logits",
    "one_hot",
]

_REDUCTIONS = ("none", "mean", "sum")


def _check_tensor(name: str, argument: str, value) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{argument}' must be Tensor, not {type(value).__name__}")


# ------------------------------------------------------------------------------ linear
def linear(input, weight, bias=None):
    """y = input @ weight.T + bias, one fused kernel (torch's layout: weight is (out, in))."""
    _check_linear(input, weight, bias)
    return nn_ops.linear(input, weight, bias)


def _linear_relu(input, weight, bias=None):
    """relu(linear(input, weight, bias)) in one fused kernel; nn.Sequential's Linear-ReLU pairs."""
    _check_linear(input, weight, bias)
    return nn_ops.linear_relu(input, weight, bias)


def _check_linear(input, weight, bias) -> None:
    _check_tensor("linear", "input", input)
    _check_tensor("linear", "weight", weight)
    if weight.dim() != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape {list(weight.shape)}")
    if input.dim() == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D and 2D")
    if input.shape[-1] != weight.shape[1]:
        rows = input.numel() // input.shape[-1] if input.shape[-1] else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} and "
            f"{weight.shape[1]}x{weight.shape[0]})"
        )
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got {_dtype_word(input.dtype)} and "
            f"{_dtype_word(weight.dtype)}"
        )
    if bias is not None:
        _check_tensor("linear", "bias", bias)
        if tuple(bias.shape) != (weight.shape[0],):
            raise RuntimeError(
                f"linear: bias must have shape [{weight.shape[0]}] (out_features), got {list(bias.shape)}"
            )
        if bias.dtype != input.dtype:
            raise RuntimeError(
                f"linear: bias has dtype {_dtype_word(bias.dtype)} but input has {_dtype_word(input.dtype)}"
            )


# ------------------------------------------------------------------------------ activations
def relu(input, inplace: bool = False):
    """max(input, 0)."""
    return relu_(input) if inplace else ops.relu(input)


def relu_(input):
    """relu in place; returns ``input``."""
    from tritongrad.ops.elementwise import unary_forward

    return input._apply_inplace(ops.relu, lambda: unary_forward("relu", input, floating=False, out=input))


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
    return nn_ops.Gelu.apply(input, approximate)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """input where input > 0, else input * negative_slope."""
    _check_tensor("leaky_relu", "input", input)
    if inplace:
        return leaky_relu_(input, negative_slope)
    return nn_ops.LeakyRelu.apply(input, float(negative_slope))


def leaky_relu_(input, negative_slope: float = 0.01):
    """leaky_relu in place; returns ``input``."""
    return _inplace(input, lambda x: nn_ops.LeakyRelu.apply(x, float(negative_slope)))


def silu(input, inplace: bool = False):
    """input * sigmoid(input)."""
    _check_tensor("silu", "input", input)
    if inplace:
        return _inplace(input, nn_ops.Silu.apply)
    return nn_ops.Silu.apply(input)


def _inplace(input, function):
    """Runs ``function`` out of place and writes the result back into ``input`` (kernel copy)."""
    return input._apply_inplace(function, lambda: input.copy_(function(input)))


def _softmax_dim(name: str, input, dim) -> int:
    if dim is None:
        dim = 0 if input.dim() in (0, 1, 3) else 1
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. "
            "Change the call to include dim=X as an argument.",
            UserWarning,
            stacklevel=3,
        )
    return normalize_dim(dim, max(input.dim(), 1))


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``; with ``dtype`` the input is cast first (like torch)."""
    _check_tensor("softmax", "input", input)
    dim = _softmax_dim("softmax", input, dim)
    if dtype is not None:
        input = input.to(dtype)
    return nn_ops.Softmax.apply(input, dim)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """x - logsumexp(x) along ``dim``, in one kernel (stable for large |x|)."""
    _check_tensor("log_softmax", "input", input)
    dim = _softmax_dim("log_softmax", input, dim)
    if dtype is not None:
        input = input.to(dtype)
    return nn_ops.LogSoftmax.apply(input, dim)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zeroes each element with probability ``p`` and scales the rest by 1 / (1 - p) when training.

    tritongrad's masks come from its own Philox generator (``tritongrad.manual_seed``), so they
    differ from torch's for the same seed.
    """
    _check_tensor("dropout", "input", input)
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if inplace:
        return _inplace(input, lambda x: nn_ops.Dropout.apply(x, float(p)))
    return nn_ops.Dropout.apply(input, float(p))


# ------------------------------------------------------------------------------ losses
def _reduction(size_average, reduce, reduction: str) -> str:
    """torch's legacy ``size_average``/``reduce`` flags, if given, decide the reduction."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else ("sum" if reduce else "none")
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
            UserWarning,
            stacklevel=3,
        )
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """Mean (or sum, or elementwise) squared error; input and target broadcast like torch's."""
    _check_tensor("mse_loss", "input", input)
    _check_tensor("mse_loss", "target", target)
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None:
        raise NotImplementedError("tritongrad's mse_loss does not support weight")
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=2,
        )
    if input.dtype != target.dtype:
        raise RuntimeError(f"mse_loss: input and target must have the same dtype, got {input.dtype} and {target.dtype}")
    return nn_ops.MseLoss.apply(input, target, reduction)


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
    if input.dim() == 1:
        return input.unsqueeze(0), target.unsqueeze(0)
    if input.dim() == 2:
        return input, target
    classes = input.shape[1]
    order = (0, *range(2, input.dim()), 1)
    rows = input.permute(order).reshape(-1, classes)
    return rows, target.permute(order).reshape(-1, classes) if probabilities else target.reshape(-1)


def _check_class_target(name: str, input, target) -> None:
    if target.dtype.is_floating_point or target.dtype == torch.bool:
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
    if input.dim() == 1:
        expected = ()
    else:
        expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        if input.dim() <= 2:
            raise ValueError(
                f"Expected input batch_size ({input.shape[0] if input.dim() else 1}) to match target "
                f"batch_size ({target.shape[0] if target.dim() else 1})."
            )
        raise RuntimeError(f"{name}: expected target of shape {list(expected)}, got {list(target.shape)}")


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
    _check_tensor("cross_entropy", "input", input)
    _check_tensor("cross_entropy", "target", target)
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.dim() == 0:
        raise ValueError("Expected input to have at least 1 dimension (got 0)")
    class_dim = 0 if input.dim() == 1 else 1
    classes = input.shape[class_dim]
    _check_class_weight("cross_entropy", weight, classes, input)
    probabilities = target.dtype.is_floating_point
    if probabilities:
        _check_probability_target(input, target)
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if target.requires_grad:
            return _cross_entropy_composed(input, target, weight, reduction, label_smoothing, class_dim)
    else:
        _check_class_target("cross_entropy", input, target)
    rows, row_targets = _as_rows(input, target, probabilities)
    loss = nn_ops.CrossEntropy.apply(rows, row_targets, weight, int(ignore_index), float(label_smoothing), reduction)
    return _unflatten_loss(loss, input, reduction)


def _unflatten_loss(loss, input, reduction: str):
    if reduction != "none" or input.dim() == 2:
        return loss
    if input.dim() == 1:
        return loss.reshape(())
    return loss.reshape((input.shape[0],) + tuple(input.shape[2:]))


def _check_probability_target(input, target) -> None:
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(
            f"cross_entropy: a floating target holds class probabilities and must have the input's shape "
            f"{list(input.shape)}, got {list(target.shape)}"
        )
    if target.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {_dtype_word(input.dtype)} but found {_dtype_word(target.dtype)}")


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


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean"):  # fmt: skip
    """Negative log-likelihood of log-probabilities ``input`` (C), (N, C) or (N, C, d1, ...)."""
    _check_tensor("nll_loss", "input", input)
    _check_tensor("nll_loss", "target", target)
    reduction = _reduction(size_average, reduce, reduction)
    if input.dim() == 0:
        raise ValueError("Expected input to have at least 1 dimension (got 0)")
    classes = input.shape[0 if input.dim() == 1 else 1]
    _check_class_weight("nll_loss", weight, classes, input)
    _check_class_target("nll_loss", input, target)
    rows, row_targets = _as_rows(input, target)
    loss = nn_ops.NllLoss.apply(rows, row_targets, weight, int(ignore_index), reduction)
    return _unflatten_loss(loss, input, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None):  # fmt: skip
    """-[p t log s(x) + (1 - t) log(1 - s(x))] with s the sigmoid, computed stably from the logits x."""
    _check_tensor("binary_cross_entropy_with_logits", "input", input)
    _check_tensor("binary_cross_entropy_with_logits", "target", target)
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    if not input.dtype.is_floating_point or target.dtype != input.dtype:
        raise RuntimeError(
            f"binary_cross_entropy_with_logits: input and target must share one floating dtype, got "
            f"{input.dtype} and {target.dtype}"
        )
    for name, extra in (("weight", weight), ("pos_weight", pos_weight)):
        if extra is not None:
            _check_tensor("binary_cross_entropy_with_logits", name, extra)
            if not _broadcasts_to(tuple(extra.shape), tuple(input.shape)):
                raise RuntimeError(
                    f"binary_cross_entropy_with_logits: {name} of shape {list(extra.shape)} does not "
                    f"broadcast to the input shape {list(input.shape)}"
                )
    return nn_ops.BceWithLogits.apply(input, target, weight, pos_weight, reduction)


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    if len(shape) > len(target):
        return False
    return all(size in (1, full) for size, full in zip(reversed(shape), reversed(target)))


# ------------------------------------------------------------------------------ utilities
def one_hot(tensor, num_classes: int = -1):
    """int64 one-hot rows for the class indices in ``tensor`` (a new last dim of ``num_classes``)."""
    from tritongrad import creation

    _check_tensor("one_hot", "tensor", tensor)
    if tensor.dtype != torch.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
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
