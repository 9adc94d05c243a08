"""Normalization ops: batch_norm, layer_norm, rms_norm, group_norm, instance_norm.

Each is a Function whose forward and backward call the fused launchers of
kernels/batch_norm.py (per-channel statistics over (N, *spatial)) and kernels/layer_norm.py
(per-row statistics). Arguments, defaults, errors and grad_fn names follow torch (CPU):
NativeBatchNormBackward0, NativeLayerNormBackward0, NativeGroupNormBackward0, MulBackward0 for
rms_norm (ToCopyBackward0 for a half-precision input without weight, where torch's composite
ends in a cast) and ViewBackward0 for instance_norm.

Statistics are float32 (float64 for float64 inputs), whatever the input's precision. Running
statistics are updated in place by the kernels, never read back to the host; with
``momentum=None`` the cumulative average 1 / ``num_batches_tracked`` is read on the device.

A first-order backward runs the fused kernels, unrecorded. Under ``create_graph=True`` (grad
mode on inside the backward: gradient penalties, Hessian-vector products) the same gradients are
composed of recorded tritongrad ops instead (mean, rsqrt, mul, sum), the statistics recomputed
from the input so that they are differentiated too; sync_batch_norm's backward (an all-reduce)
still refuses.
"""

from __future__ import annotations

import torch

from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import dtype_word
from tritongrad.kernels import batch_norm as channel_kernels
from tritongrad.kernels import layer_norm as row_kernels
from tritongrad.kernels.common import check_same_device
from tritongrad.kernels.creation import launch_fill_
from tritongrad.kernels.elementwise import launch_unary
from tritongrad.ops.autocast import autocast_op
from tritongrad.tensor import Tensor

__all__ = ["batch_norm", "sync_batch_norm", "layer_norm", "rms_norm", "group_norm", "instance_norm"]

_HALF_TYPES = (torch.float16, torch.bfloat16)


def _data(tensor: Tensor | None) -> torch.Tensor | None:
    return None if tensor is None else tensor._data


def _wrap(data: torch.Tensor | None) -> Tensor | None:
    return None if data is None else Tensor._wrap(data)


def _no_double_backward(name: str) -> None:
    """sync_batch_norm's backward all-reduces partial sums: not composed of recorded ops."""
    if is_grad_enabled():
        raise RuntimeError(
            f"{name}: double backward (create_graph=True through this op) is not supported by tritongrad"
        )


# ---------------------------------------------------------------------------------------------
# Argument checks shared by the ops
# ---------------------------------------------------------------------------------------------


def _check_input(name: str, kernel_name: str, input, *params) -> None:
    """An input torch's kernel takes: a floating tensor (an integer one beside floating parameters is
    torch's mixed-dtype error, raised before its dispatch refuses the dtype)."""
    _check_is_tensor(name, input)
    if not input.dtype.is_floating_point:
        if any(isinstance(p, Tensor) and p.dtype != input.dtype for p in params):
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        raise NotImplementedError(f"\"{kernel_name}\" not implemented for '{dtype_word(input.dtype)}'")


def _check_is_tensor(name: str, input) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _check_params(name: str, input: Tensor, params: dict) -> None:
    """torch's CPU mixed-dtype rule: parameters share the input's dtype, or, for a half-precision
    input, are all float32; and all live on the input's device."""
    given = {key: value for key, value in params.items() if value is not None}
    for key, value in given.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{key}' must be Tensor, not {type(value).__name__}")
    check_same_device(name, input._data, *(value._data for value in given.values()))
    dtypes = {value.dtype for value in given.values()}
    if not dtypes or dtypes == {input.dtype}:
        return
    if input.dtype in _HALF_TYPES:
        if dtypes != {torch.float32}:
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        return
    raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def _param_dtype(input: Tensor, *params: Tensor | None) -> torch.dtype:
    for param in params:
        if param is not None:
            return param.dtype
    return input.dtype


# ---------------------------------------------------------------------------------------------
# Batch norm
# ---------------------------------------------------------------------------------------------


def _bump_versions(*buffers: Tensor) -> None:
    """The running statistics a training batch norm updates in place: their versions move on, as
    torch's kernel bumps them (they are no outputs, so not ``mark_dirty``: torch's rule for that is
    that a dirty input is returned)."""
    for buffer in buffers:
        buffer._version_counter.bump()


class BatchNormFunction(Function):
    """Batch norm over (N, *spatial) per channel; forward and backward are two launches each."""

    _backward_name = "NativeBatchNormBackward0"
    _optional_tensors = (1, 2)  # (weight and bias: inputs of torch's node even when None)
    _tensor_options = (3, 4, 8)  # (the running statistics are no inputs of it)

    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, training, momentum, eps, num_batches_tracked):
        out, mean, invstd = channel_kernels.launch_batch_norm_fwd(
            input._data, _data(weight), _data(bias), _data(running_mean), _data(running_var),
            training, momentum, eps, _data(num_batches_tracked),
        )  # fmt: skip
        if training and running_mean is not None and input.numel() > 0:
            _bump_versions(running_mean, running_var)  # (written in place, not outputs)
        ctx.save_for_backward(input, weight)
        ctx.stats = (mean, invstd)
        ctx.training, ctx.eps = training, eps
        ctx.param_dtype = _param_dtype(input, weight, bias)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        input, weight = ctx.saved_tensors
        mean, invstd = ctx.stats
        if is_grad_enabled():
            return (*_composed_channel_grads(ctx, grad, input, weight), None, None, None, None, None, None)
        grads = channel_kernels.launch_batch_norm_bwd(
            grad._data, input._data, _data(weight), mean, invstd, ctx.training,
            tuple(ctx.needs_input_grad[:3]), weight_dtype=ctx.param_dtype,
        )  # fmt: skip
        return (*(_wrap(g) for g in grads), None, None, None, None, None, None)


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float | None = 0.1,
    eps: float = 1e-5,
    *,
    num_batches_tracked: Tensor | None = None,
) -> Tensor:
    """Batch normalization of ``input`` (N, C, *spatial) per channel, as torch.nn.functional.batch_norm.

    ``training``: normalize with the batch's mean and biased variance and, if ``running_mean``/
    ``running_var`` (C,) are given, update them in place with ``momentum`` (the unbiased
    variance, as torch). Otherwise normalize with the running statistics. ``weight``/``bias``
    (C,) are the affine map. Beyond torch's signature, ``momentum=None`` with the 0-d int64
    ``num_batches_tracked`` (already incremented) takes the cumulative average 1 / count on the
    device, as nn.BatchNorm does with ``momentum=None`` (without a host read).

    Example::

        >>> x = tritongrad.randn(8, 3)
        >>> F.batch_norm(x, None, None, training=True).shape
        torch.Size([8, 3])
    """
    _check_input("batch_norm", "batch_norm", input)
    if input.dim() < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got 1) "
                         f"(batch_norm needs an input of shape (N, C, *), got {list(input.shape)})")  # fmt: skip
    if momentum is None and num_batches_tracked is None:
        raise TypeError("batch_norm(): argument 'momentum' (position 7) must be float, not NoneType")
    if training:
        values = input.shape[0]
        for size in input.shape[2:]:
            values *= size
        if values == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
    if eps < 0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if not training:
        for key, value in (("running_mean", running_mean), ("running_var", running_var)):
            if value is None:
                raise RuntimeError(f"{key} must be defined in evaluation mode")
    if (running_mean is None) != (running_var is None):
        raise RuntimeError("batch_norm: running_mean and running_var must be given together")
    channels = input.shape[1]
    params = {"weight": weight, "bias": bias, "running_mean": running_mean, "running_var": running_var}
    _check_params("batch_norm", input, params)
    for key in ("running_mean", "running_var", "weight", "bias"):  # (torch's order of the size checks)
        value = params[key]
        if value is not None and value.numel() != channels:
            raise RuntimeError(f"{key} should contain {channels} elements not {value.numel()}")
    for key, value in (("running_mean", running_mean), ("running_var", running_var)):
        if value is not None and not value.is_contiguous():
            raise RuntimeError(f"batch_norm: {key} must be contiguous to be updated in place")
    return BatchNormFunction.apply(
        input, _flat(weight), _flat(bias), running_mean, running_var, bool(training), momentum, float(eps),
        num_batches_tracked,
    )  # fmt: skip


class SyncBatchNormFunction(Function):
    """Batch norm whose statistics cover every rank's batch (torch.nn.SyncBatchNorm's op).

    Forward: each rank writes its (count, mean, M2) per channel into its own slot of a zeroed
    (world_size, 3, C) buffer; one all-reduce (a sum) gathers them all; a kernel merges them with
    Chan's formula (stable for any mean) into the global mean/invstd and updates the running
    statistics; the normalize kernel applies them. Backward: the local per-channel sums of grad
    and grad * xhat give grad_weight/grad_bias (local, as torch's: DDP averages them later), and,
    all-reduced in one (2, C) buffer, the input gradient over the global count.
    """

    _backward_name = "SyncBatchNormBackward"

    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, momentum, eps, num_batches_tracked, rank,
                world_size, all_reduce):  # fmt: skip
        x = input._data
        stats = channel_kernels.stats_dtype(x.dtype)
        moments = torch.empty((world_size, 3, x.shape[1]), dtype=stats, device=x.device)
        launch_fill_(moments, 0)
        channel_kernels.launch_channel_moments(x, moments[rank])
        all_reduce(Tensor._wrap(moments))  # every rank's slot filled in: an all-gather by summation
        mean, invstd, count = channel_kernels.launch_merge_moments(
            moments, _data(running_mean), _data(running_var), momentum, eps, _data(num_batches_tracked)
        )
        if running_mean is not None:
            _bump_versions(running_mean, running_var)  # (written in place, not outputs)
        out, _, _ = channel_kernels.launch_batch_norm_fwd(
            x, _data(weight), _data(bias), None, None, True, momentum, eps, stats=(mean, invstd)
        )
        ctx.save_for_backward(input, weight)
        ctx.stats = (mean, invstd, count)
        ctx.all_reduce = all_reduce
        ctx.param_dtype = _param_dtype(input, weight, bias)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("sync_batch_norm")
        input, weight = ctx.saved_tensors
        mean, invstd, count = ctx.stats
        need_input, need_weight, need_bias = ctx.needs_input_grad[:3]
        x, g = input._data, grad._data
        sums = torch.empty((2, x.shape[1]), dtype=mean.dtype, device=x.device)  # (grad * xhat, grad)
        channel_kernels.launch_batch_norm_bwd(g, x, None, mean, invstd, True, (False, True, True), sums_out=sums)
        grad_weight = _cast_copy(sums[0], ctx.param_dtype) if need_weight else None
        grad_bias = _cast_copy(sums[1], ctx.param_dtype) if need_bias else None
        grad_input = None
        if need_input:
            ctx.all_reduce(Tensor._wrap(sums))
            grad_input, _, _ = channel_kernels.launch_batch_norm_bwd(
                g, x, _data(weight), mean, invstd, True, (True, False, False), sums=(sums[0], sums[1]), count=count
            )
        return _wrap(grad_input), _wrap(grad_weight), _wrap(grad_bias), *(None,) * 8


def _cast_copy(source: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    out = torch.empty(source.shape, dtype=dtype, device=source.device)
    launch_unary("copy", source, out=out)
    return out


def sync_batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    momentum: float | None,
    eps: float,
    *,
    rank: int,
    world_size: int,
    all_reduce,
    num_batches_tracked: Tensor | None = None,
) -> Tensor:
    """Training-mode batch norm over the union of ``world_size`` ranks' batches (nn.SyncBatchNorm).

    ``all_reduce(tensor)`` sums a tritongrad tensor over the ranks in place (the module passes
    tritongrad.distributed.all_reduce on its process group); ``rank`` is this process's index.
    Arguments are checked as batch_norm's; ``momentum=None`` takes 1 / ``num_batches_tracked``.
    """
    _check_input("sync_batch_norm", "batch_norm", input)
    if input.dim() < 2:
        raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")
    if input.shape[1] == 0:
        raise ValueError("SyncBatchNorm number of input channels should be non-zero")
    if momentum is None and num_batches_tracked is None:
        raise TypeError("sync_batch_norm: momentum=None needs num_batches_tracked")
    channels = input.shape[1]
    params = {"weight": weight, "bias": bias, "running_mean": running_mean, "running_var": running_var}
    _check_params("sync_batch_norm", input, params)
    for key, value in params.items():
        if value is not None and value.numel() != channels:
            raise RuntimeError(f"{key} should contain {channels} elements not {value.numel()}")
    return SyncBatchNormFunction.apply(
        input, _flat(weight), _flat(bias), running_mean, running_var, momentum, float(eps), num_batches_tracked,
        rank, world_size, all_reduce,
    )  # fmt: skip


def _flat(param: Tensor | None) -> Tensor | None:
    """A dense (C,) parameter with C elements (torch accepts any shape of that size); kernels index
    it as an array, so a strided one is copied by a kernel first."""
    if param is None or (param.dim() == 1 and param.is_contiguous()):
        return param
    return _contiguous_param(param.reshape(-1))


# ---------------------------------------------------------------------------------------------
# Layer norm and RMS norm
# ---------------------------------------------------------------------------------------------


class LayerNormFunction(Function):
    """Layer norm over the trailing ``row_dims`` dims; saves the per-row mean and rstd (fp32)."""

    _backward_name = "NativeLayerNormBackward0"
    _optional_tensors = (1, 2)  # (weight and bias: inputs of torch's node even when None)

    @staticmethod
    def forward(ctx, input, weight, bias, row_dims, eps):
        out, mean, rstd, _ = row_kernels.launch_row_norm_fwd(input._data, row_dims, _data(weight), _data(bias), eps)
        ctx.save_for_backward(input, weight)
        ctx.stats = (mean, rstd)
        ctx.row_dims, ctx.eps = row_dims, eps
        ctx.param_dtype = _param_dtype(input, weight, bias)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        input, weight = ctx.saved_tensors
        if is_grad_enabled():
            dims = tuple(range(input.dim() - ctx.row_dims, input.dim()))
            return (*_composed_grads(ctx, grad, input, weight, dims, ctx.needs_input_grad[:3]), None, None)
        mean, rstd = ctx.stats
        grads = row_kernels.launch_row_norm_bwd(
            grad._data, input._data, ctx.row_dims, _data(weight), mean, rstd, tuple(ctx.needs_input_grad[:3]),
            param_dtype=ctx.param_dtype,
        )  # fmt: skip
        return (*(_wrap(g) for g in grads), None, None)


class RMSNormFunction(Function):
    """RMS norm over the trailing ``row_dims`` dims; saves the per-row rstd (fp32)."""

    _backward_name = "MulBackward0"

    @staticmethod
    def forward(ctx, input, weight, row_dims, eps):
        out, _, rstd, _ = row_kernels.launch_row_norm_fwd(input._data, row_dims, _data(weight), None, eps, rms=True)
        ctx.save_for_backward(input, weight)
        ctx.rstd = rstd
        ctx.row_dims, ctx.eps = row_dims, eps
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        input, weight = ctx.saved_tensors
        need_input, need_weight = ctx.needs_input_grad[:2]
        if is_grad_enabled():
            dims = tuple(range(input.dim() - ctx.row_dims, input.dim()))
            needs = (need_input, need_weight, False)
            grad_input, grad_weight, _ = _composed_grads(ctx, grad, input, weight, dims, needs, rms=True)
            return grad_input, grad_weight, None, None
        grad_input, grad_weight, _ = row_kernels.launch_row_norm_bwd(
            grad._data, input._data, ctx.row_dims, _data(weight), None, ctx.rstd, (need_input, need_weight, False),
            rms=True,
        )  # fmt: skip
        return _wrap(grad_input), _wrap(grad_weight), None, None


class RMSNormCast(RMSNormFunction):
    """torch's composite rms_norm of a half-precision input without weight ends in a cast."""

    _backward_name = "ToCopyBackward0"


def _normalized_dims(name: str, input: Tensor, normalized_shape, rms: bool) -> tuple[int, ...]:
    if isinstance(normalized_shape, int) or not all(isinstance(s, int) for s in normalized_shape):
        raise TypeError(
            f"{name}(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
            f"{type(normalized_shape).__name__}"
        )
    shape = tuple(normalized_shape)
    if not shape:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got "
            "normalized_shape = []"
        )
    if input.dim() < len(shape) or tuple(input.shape[input.dim() - len(shape) :]) != shape:
        star = "*" if rms else "*, "
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [{star}{', '.join(map(str, shape))}], "
            f"but got input of size{list(input.shape)}"
        )
    return shape


def _check_affine_shape(key: str, param: Tensor | None, shape: tuple[int, ...]) -> None:
    if param is not None and tuple(param.shape) != shape:
        raise RuntimeError(
            f"Expected {key} to be of same shape as normalized_shape, but got {key} of shape {list(param.shape)} "
            f"and normalized_shape = {list(shape)}"
        )


def _contiguous_param(param: Tensor | None) -> Tensor | None:
    """Kernels index parameters as dense arrays; a strided parameter is copied by a kernel first."""
    return param if param is None or param.is_contiguous() else param.contiguous()


@autocast_op("layer_norm")
def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalization over the trailing dims ``normalized_shape`` (a tuple or list of ints), as
    torch.nn.functional.layer_norm; ``weight``/``bias`` have shape ``normalized_shape``.

    Example::

        >>> F.layer_norm(tritongrad.randn(2, 5), (5,)).shape
        torch.Size([2, 5])
    """
    _check_input("layer_norm", "LayerNormKernelImpl", input, weight, bias)
    # (torch's CPU kernel checks the dtypes before the shapes)
    _check_params("layer_norm", input, {"weight": weight, "bias": bias})
    shape = _normalized_dims("layer_norm", input, normalized_shape, rms=False)
    _check_affine_shape("weight", weight, shape)
    _check_affine_shape("bias", bias, shape)
    return LayerNormFunction.apply(input, _contiguous_param(weight), _contiguous_param(bias), len(shape), float(eps))


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """RMS normalization, ``input * rsqrt(mean(input**2) + eps) * weight`` over the trailing dims
    ``normalized_shape``, as torch.nn.functional.rms_norm (``eps=None``: the machine epsilon of the
    dtype it computes in, float32 for float16/bfloat16 input). The result has the input's dtype;
    ``weight`` may be of any float dtype.

    Example::

        >>> F.rms_norm(tritongrad.randn(2, 5), (5,)).shape
        torch.Size([2, 5])
    """
    _check_input("rms_norm", "rms_norm", input)
    shape = _normalized_dims("rms_norm", input, normalized_shape, rms=True)
    _check_affine_shape("weight", weight, shape)
    if weight is not None:
        if not isinstance(weight, Tensor):
            raise TypeError(f"rms_norm(): argument 'weight' must be Tensor, not {type(weight).__name__}")
        check_same_device("rms_norm", input._data, weight._data)
    if eps is None:
        # torch takes the epsilon of its opmath type: half inputs are normalized in float32, and
        # float16's own 9.8e-4 would swamp any row whose mean square is below about 1e-2.
        eps = torch.finfo(torch.float32 if input.dtype in _HALF_TYPES else input.dtype).eps
    function = RMSNormCast if input.dtype in _HALF_TYPES and weight is None else RMSNormFunction
    return function.apply(input, _contiguous_param(weight), len(shape), float(eps))


# ---------------------------------------------------------------------------------------------
# Group norm and instance norm (rows of one (sample, group) each)
# ---------------------------------------------------------------------------------------------


class GroupNormFunction(Function):
    """Group norm: the row kernels on the (N, G, C/G, *spatial) view, per-channel affine; the
    weight gradients are per-channel sums (kernels/batch_norm.py, statistics per group)."""

    _backward_name = "NativeGroupNormBackward0"
    _optional_tensors = (1, 2)  # (weight and bias: inputs of torch's node even when None)

    @staticmethod
    def forward(ctx, input, weight, bias, groups, eps):
        out, mean, rstd = _grouped_forward(input, weight, bias, groups, eps, store_var=False)[:3]
        ctx.save_for_backward(input, weight)
        ctx.stats = (mean, rstd)
        ctx.groups, ctx.eps = groups, eps
        ctx.param_dtype = _param_dtype(input, weight, bias)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        input, weight = ctx.saved_tensors
        return (*_grouped_backward(ctx, grad, input, weight), None, None)


def _grouped_forward(input: Tensor, weight, bias, groups: int, eps: float, store_var: bool):
    x = input._data
    grouped = x.unflatten(1, (groups, x.shape[1] // groups))
    out, mean, rstd, var = row_kernels.launch_row_norm_fwd(
        grouped, grouped.dim() - 2, _data(weight), _data(bias), eps, groups=groups, store_var=store_var
    )
    # ``out`` has the grouped view's strides (or is contiguous): merging (G, C/G) back is a view.
    return out.flatten(1, 2), mean, rstd, var


def _grouped_backward(ctx, grad: Tensor, input: Tensor, weight: Tensor | None) -> tuple:
    """(grad_input, grad_weight, grad_bias) of the grouped forward, None where not needed."""
    if is_grad_enabled():
        return _composed_grouped_grads(ctx, grad, input, weight)
    need_input, need_weight, need_bias = ctx.needs_input_grad[:3]
    mean, rstd = ctx.stats
    x, g = input._data, grad._data
    groups = ctx.groups
    grad_input = None
    if need_input:
        split = (groups, x.shape[1] // groups)
        grouped_x, grouped_grad = x.unflatten(1, split), g.unflatten(1, split)
        grad_input, _, _ = row_kernels.launch_row_norm_bwd(
            grouped_grad, grouped_x, grouped_x.dim() - 2, _data(weight), mean, rstd, (True, False, False),
            groups=groups,
        )  # fmt: skip
        grad_input = grad_input.flatten(1, 2)
    grad_weight = grad_bias = None
    if need_weight or need_bias:
        _, grad_weight, grad_bias = channel_kernels.launch_batch_norm_bwd(
            g, x, None, mean, rstd, True, (False, need_weight, need_bias), groups=groups,
            weight_dtype=ctx.param_dtype,
        )  # fmt: skip
    return _wrap(grad_input), _wrap(grad_weight), _wrap(grad_bias)


@autocast_op("group_norm")
def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Group normalization of ``input`` (N, C, *spatial): each sample's C channels in
    ``num_groups`` groups, each group normalized over its channels and positions, then the
    per-channel affine map ``weight``/``bias`` (C,), as torch.nn.functional.group_norm.

    Example::

        >>> F.group_norm(tritongrad.randn(2, 4, 3), 2).shape
        torch.Size([2, 4, 3])
    """
    _check_is_tensor("group_norm", input)
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    size = [input.shape[0] * input.shape[1] // num_groups, num_groups, *input.shape[2:]]
    values = size[0]
    for extent in size[2:]:
        values *= extent
    if values == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
    channels = input.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(input.shape)} and num_groups={num_groups}"
        )
    for key, value in (("weight", weight), ("bias", bias)):
        if value is not None and (value.dim() != 1 or value.numel() != channels):
            raise RuntimeError(
                f"Expected {key} to be a vector of size equal to the number of channels in input, but got {key} of "
                f"shape {list(value.shape)} and input of shape {list(input.shape)}"
            )
    # (torch checks the dtypes after the sizes)
    _check_input("group_norm", "GroupNormKernelImpl", input, weight, bias)
    _check_params("group_norm", input, {"weight": weight, "bias": bias})
    return GroupNormFunction.apply(input, _contiguous_param(weight), _contiguous_param(bias), num_groups, float(eps))


class InstanceNormFunction(Function):
    """Instance norm: group norm with one channel per group (optionally folding the batch's
    statistics into running buffers), or, without input statistics, batch norm in eval mode."""

    _backward_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps):
        ctx.save_for_backward(input, weight)
        ctx.use_input_stats = use_input_stats
        ctx.param_dtype = _param_dtype(input, weight, bias)
        ctx.training, ctx.eps = False, eps  # (training: for the running-statistics path's batch norm)
        if not use_input_stats:
            out, mean, invstd = channel_kernels.launch_batch_norm_fwd(
                input._data, _data(weight), _data(bias), running_mean._data, running_var._data, False, momentum, eps
            )
            ctx.stats = (mean, invstd)
            return Tensor._wrap(out)
        channels = input.shape[1]
        track = running_mean is not None
        out, mean, rstd, var = _grouped_forward(input, weight, bias, channels, eps, store_var=track)
        if track and input.numel() > 0:
            spatial = input.numel() // (input.shape[0] * channels)
            channel_kernels.launch_instance_running_stats(
                mean, var, running_mean._data, running_var._data, spatial, momentum
            )
            _bump_versions(running_mean, running_var)  # (written in place, not outputs)
        ctx.stats = (mean, rstd)
        ctx.groups = channels
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx, grad):
        input, weight = ctx.saved_tensors
        if ctx.use_input_stats:
            grads = _grouped_backward(ctx, grad, input, weight)
        elif is_grad_enabled():
            grads = _composed_channel_grads(ctx, grad, input, weight)
        else:
            mean, invstd = ctx.stats
            grads = tuple(
                _wrap(g)
                for g in channel_kernels.launch_batch_norm_bwd(
                    grad._data,
                    input._data,
                    _data(weight),
                    mean,
                    invstd,
                    False,
                    tuple(ctx.needs_input_grad[:3]),
                    weight_dtype=ctx.param_dtype,
                )
            )
        return (*grads, None, None, None, None, None)


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Instance normalization of ``input`` (N, C, *spatial): each (sample, channel) normalized
    over its positions, as torch.nn.functional.instance_norm. With ``running_mean``/
    ``running_var`` (C,) and ``use_input_stats``, the batch average of the instance statistics
    is folded into them with ``momentum``; ``use_input_stats=False`` normalizes with them.

    Example::

        >>> F.instance_norm(tritongrad.randn(2, 3, 5)).shape
        torch.Size([2, 3, 5])
    """
    _check_input("instance_norm", "instance_norm", input)
    if input.dim() < 2:
        raise RuntimeError(f"instance_norm: expected an input of shape (N, C, *), got {list(input.shape)}")
    if use_input_stats:
        spatial = 1
        for size in input.shape[2:]:
            spatial *= size
        if spatial == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    if (running_mean is None) != (running_var is None):
        raise RuntimeError("instance_norm: running_mean and running_var must be given together")
    batch, channels = input.shape[0], input.shape[1]
    params = {"weight": weight, "bias": bias, "running_mean": running_mean, "running_var": running_var}
    _check_params("instance_norm", input, params)
    for key, value in params.items():
        # torch repeats the (C,) parameters over the batch first, hence its sizes in the message.
        if value is not None and value.numel() != channels:
            raise RuntimeError(f"{key} should contain {batch * channels} elements not {batch * value.numel()}")
    if channels == 0:  # nothing to normalize (and no instance to group by)
        return input.clone()
    return InstanceNormFunction.apply(
        input, _flat(weight), _flat(bias), running_mean, running_var, bool(use_input_stats), float(momentum),
        float(eps),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# create_graph=True: the same gradients composed of recorded ops
# ---------------------------------------------------------------------------------------------
#
# y = xhat * w + b, xhat = (x - mean(x)) * rstd (rms_norm: x * rstd), statistics over ``dims``:
#   grad_w = sum(g * xhat) and grad_b = sum(g) over the other dims;
#   grad_x = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)) with gw = g * w
#   (rms_norm drops the mean(gw) term; eval-mode batch norm's statistics are constants: gw * rstd).
# The statistics are recomputed from x by tritongrad ops, so that the second derivative sees
# their dependence on x. Only a create_graph backward pays for these ~15 launches; half-precision
# inputs are computed in float32, as the kernels do.


def _upcast(tensor: Tensor) -> Tensor:
    return tensor.float() if tensor.dtype in _HALF_TYPES else tensor


def _normalize(x: Tensor, dims: tuple[int, ...], eps: float, rms: bool) -> tuple[Tensor, Tensor]:
    """(xhat, rstd) over ``dims`` (rstd keeps them as size 1), recorded."""
    if rms:
        rstd = ((x * x).mean(dims, keepdim=True) + eps).rsqrt()
        return x * rstd, rstd
    centered = x - x.mean(dims, keepdim=True)
    rstd = ((centered * centered).mean(dims, keepdim=True) + eps).rsqrt()
    return centered * rstd, rstd


def _normalized_input_grad(scaled: Tensor, xhat: Tensor, rstd: Tensor, dims: tuple[int, ...], rms: bool) -> Tensor:
    """The gradient through xhat = normalize(x) over ``dims`` of ``scaled`` = grad * weight."""
    projection = xhat * (scaled * xhat).mean(dims, keepdim=True)
    if rms:
        return rstd * (scaled - projection)
    return rstd * (scaled - scaled.mean(dims, keepdim=True) - projection)


def _sum_over(tensor: Tensor, dims: tuple[int, ...]) -> Tensor:
    return tensor.sum(dims) if dims else tensor


def _composed_grads(ctx, grad: Tensor, input: Tensor, weight, dims: tuple[int, ...], needs, rms: bool = False):
    """(grad_input, grad_weight, grad_bias) of layer_norm / rms_norm over the trailing ``dims``
    (parameters of their shape), recorded; None where not needed."""
    x, g = _upcast(input), _upcast(grad)
    xhat, rstd = _normalize(x, dims, ctx.eps, rms)
    outer = tuple(range(input.dim() - len(dims)))
    grad_input = grad_weight = grad_bias = None
    if needs[0]:
        scaled = g if weight is None else g * weight
        grad_input = _normalized_input_grad(scaled, xhat, rstd, dims, rms).to(input.dtype)
    if needs[1]:
        grad_weight = _sum_over(g * xhat, outer).to(weight.dtype)
    if needs[2]:
        grad_bias = _sum_over(g, outer).to(ctx.param_dtype)
    return grad_input, grad_weight, grad_bias


def _composed_channel_grads(ctx, grad: Tensor, input: Tensor, weight) -> tuple:
    """batch_norm's (grad_input, grad_weight, grad_bias), recorded: per-channel statistics over
    (N, *spatial), recomputed in training, the saved running ones (constants) in eval mode."""
    need_input, need_weight, need_bias = ctx.needs_input_grad[:3]
    x, g = _upcast(input), _upcast(grad)
    dims = (0, *range(2, input.dim()))
    per_channel = (input.shape[1], *(1,) * (input.dim() - 2))
    if ctx.training:
        xhat, rstd = _normalize(x, dims, ctx.eps, rms=False)
    else:
        mean, rstd = (Tensor._wrap(stat).reshape(per_channel) for stat in ctx.stats)
        xhat = (x - mean) * rstd
    grad_input = grad_weight = grad_bias = None
    if need_input:
        scaled = g if weight is None else g * weight.reshape(per_channel)
        grad_input = _normalized_input_grad(scaled, xhat, rstd, dims, rms=False) if ctx.training else scaled * rstd
        grad_input = grad_input.to(input.dtype)
    if need_weight:
        grad_weight = (g * xhat).sum(dims).to(ctx.param_dtype)
    if need_bias:
        grad_bias = g.sum(dims).to(ctx.param_dtype)
    return grad_input, grad_weight, grad_bias


def _composed_grouped_grads(ctx, grad: Tensor, input: Tensor, weight) -> tuple:
    """group_norm's (and instance_norm's) (grad_input, grad_weight, grad_bias), recorded: the
    statistics per (sample, group) on the (N, G, C/G, *spatial) view, the affine map per channel."""
    need_input, need_weight, need_bias = ctx.needs_input_grad[:3]
    batch, channels, groups = input.shape[0], input.shape[1], ctx.groups
    grouped = (batch, groups, channels // groups, *input.shape[2:])
    x, g = _upcast(input).reshape(grouped), _upcast(grad).reshape(grouped)
    dims = tuple(range(2, len(grouped)))
    xhat, rstd = _normalize(x, dims, ctx.eps, rms=False)
    per_channel_dims = (0, *range(3, len(grouped)))
    grad_input = grad_weight = grad_bias = None
    if need_input:
        scaled = g if weight is None else g * weight.reshape(groups, channels // groups, *(1,) * (input.dim() - 2))
        grad_input = _normalized_input_grad(scaled, xhat, rstd, dims, rms=False).reshape(tuple(input.shape))
        grad_input = grad_input.to(input.dtype)
    if need_weight:
        grad_weight = (g * xhat).sum(per_channel_dims).reshape(channels).to(ctx.param_dtype)
    if need_bias:
        grad_bias = g.sum(per_channel_dims).reshape(channels).to(ctx.param_dtype)
    return grad_input, grad_weight, grad_bias
