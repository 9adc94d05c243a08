"""nn.BatchNorm1d/2d/3d and nn.SyncBatchNorm: batch normalization with running statistics, as torch's."""

from __future__ import annotations

import functools

import torch

from tritongrad import creation, distributed
from tritongrad.nn import init
from tritongrad.nn.module import Module
from tritongrad.nn.parameter import Parameter
from tritongrad.ops import normalization

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"]


class _NormBase(Module):
    """What batch and instance norm share: the affine parameters (weight = 1, bias = 0) and the
    running statistics buffers (running_mean = 0, running_var = 1, num_batches_tracked = 0 as
    int64), with torch's names, so state_dict keys match torch's."""

    _version = 2  # (torch's: num_batches_tracked was added in version 2)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(creation.empty(num_features, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(creation.empty(num_features, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", creation.ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", creation.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0 (in place, by kernels)."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input) -> None:
        raise NotImplementedError

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ) -> None:
        """A checkpoint from before num_batches_tracked existed (no saved version, or version < 2)
        loads as torch's: the module keeps its own count."""
        version = local_metadata.get("version", None)
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats and key not in state_dict:
            state_dict[key] = self.num_batches_tracked
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        momentum, counter = self._count_batch()
        # Batch statistics in training, and in eval when there are no running buffers.
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        running_mean, running_var = self._buffers_to_pass()
        return normalization.batch_norm(
            input,
            running_mean,
            running_var,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
            num_batches_tracked=counter,
        )

    def _count_batch(self):
        """(momentum, counter): counts a training batch in num_batches_tracked, in place on the device
        as torch's ``add_(1)``; with ``momentum=None`` the kernel reads the count (no host read)."""
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                return None, self.num_batches_tracked
        return momentum, None

    def _buffers_to_pass(self):
        """The running buffers when they are updated (training, tracked) or used (eval), else None."""
        if not self.training or self.track_running_stats:
            return self.running_mean, self.running_var
        return None, None


class BatchNorm1d(_BatchNorm):
    """Batch norm over a (N, C) or (N, C, L) input, per channel C.

    Example::

        >>> bn = nn.BatchNorm1d(3)
        >>> bn(tritongrad.randn(8, 3)).shape
        torch.Size([8, 3])
    """

    def _check_input_dim(self, input) -> None:
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch norm over a (N, C, H, W) input, per channel C.

    Example::

        >>> bn = nn.BatchNorm2d(3)
        >>> bn(tritongrad.randn(2, 3, 4, 4)).shape
        torch.Size([2, 3, 4, 4])
    """

    def _check_input_dim(self, input) -> None:
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch norm over a (N, C, D, H, W) input, per channel C."""

    def _check_input_dim(self, input) -> None:
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")


class SyncBatchNorm(_BatchNorm):
    """Batch norm whose training statistics cover the batches of every process of
    ``process_group`` (default: the whole group), as torch.nn.SyncBatchNorm, for data-parallel
    training. Outside training, without an initialized process group, or with one process, it is
    plain batch norm. Unlike torch's, it also runs on the CPU (the interpreter, over gloo).

    Example::

        >>> model = nn.SyncBatchNorm.convert_sync_batchnorm(model)   # every BatchNorm*d replaced
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group=None, device=None, dtype=None, *,
                 bias: bool = True) -> None:  # fmt: skip
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, input):
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        sync = self.training and use_batch_stats and distributed.is_initialized()
        world_size = distributed.get_world_size(self.process_group) if sync else 1
        if world_size == 1:
            return super().forward(input)
        self._check_input_dim(input)
        momentum, counter = self._count_batch()
        running_mean, running_var = self._buffers_to_pass()
        return normalization.sync_batch_norm(
            input,
            running_mean,
            running_var,
            self.weight,
            self.bias,
            momentum,
            self.eps,
            rank=distributed.get_rank(self.process_group),
            world_size=world_size,
            all_reduce=functools.partial(distributed.all_reduce, group=self.process_group),
            num_batches_tracked=counter,
        )

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with every BatchNorm1d/2d/3d (itself or nested) replaced by a SyncBatchNorm that
        shares its parameters and running buffers."""
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group, bias=module.bias is not None)  # fmt: skip
            if module.affine:
                converted.weight = module.weight
                if module.bias is not None:
                    converted.bias = module.bias
            if module.track_running_stats:
                converted.running_mean = module.running_mean
                converted.running_var = module.running_var
                converted.num_batches_tracked = module.num_batches_tracked
            converted.training = module.training
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted
