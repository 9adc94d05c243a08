"""nn.BatchNorm1d/2d/3d: batch normalization with running statistics, as torch's layers."""

from __future__ import annotations

import torch

from tritongrad import creation
from tritongrad.nn import init
from tritongrad.nn.module import Module
from tritongrad.nn.parameter import Parameter
from tritongrad.ops import normalization

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


class _NormBase(Module):
    """What batch and instance norm share: the affine parameters (weight = 1, bias = 0) and the
    running statistics buffers (running_mean = 0, running_var = 1, num_batches_tracked = 0 as
    int64), with torch's names, so state_dict keys match torch's."""

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

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        counter = None
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            # In place on the device, as torch's num_batches_tracked.add_(1); the cumulative
            # average (momentum=None) reads the count in the kernel, not on the host.
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                momentum, counter = None, self.num_batches_tracked
        # Batch statistics in training, and in eval when there are no running buffers.
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        # Buffers are passed when they are updated (training, tracked) or used (eval).
        tracked = not self.training or self.track_running_stats
        return normalization.batch_norm(
            input,
            self.running_mean if tracked else None,
            self.running_var if tracked else None,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
            num_batches_tracked=counter,
        )


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
