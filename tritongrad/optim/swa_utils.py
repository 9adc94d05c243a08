"""Stochastic weight averaging and exponential moving averages of a model's weights
(torch.optim.swa_utils): AveragedModel, SWALR, update_bn and the averaging functions, composed of
tritongrad ops (``lerp_``, arithmetic, ``copy_``).

The averaging follows torch's choice of formula per device: a multi-tensor ``lerp_`` with weight
``1 / (n_averaged + 1)`` (a float32 0-d tensor, as torch computes it) where torch has foreach kernels
(CUDA), ``averaged + (current - averaged) / (n_averaged + 1)`` elsewhere (the CPU).
"""

from __future__ import annotations

import itertools
import math
import warnings
from copy import deepcopy
from typing import Any

import torch

from tritongrad import creation
from tritongrad.autograd.grad_mode import no_grad
from tritongrad.nn.module import Module
from tritongrad.nn.modules.batchnorm import _BatchNorm
from tritongrad.optim.lr_scheduler import LRScheduler, _format_param
from tritongrad.tensor import Tensor

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]  # fmt: skip

# The device types torch runs the multi-tensor (foreach) average on.
_FOREACH_DEVICE_TYPES = ("cuda", "xpu", "mtia")


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999):
    """An in-place exponential moving average of lists of tensors: ``ema = lerp(ema, current, 1 - decay)``."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _) -> None:
        with no_grad():
            if ema_param_list[0].is_floating_point():
                for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                    p_ema.lerp_(p_model, 1 - decay)
            else:
                for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """An in-place running mean of lists of tensors over ``num_averaged`` earlier values."""

    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        with no_grad():
            if averaged_param_list[0].is_floating_point():
                weight = 1 / (num_averaged + 1)
                if isinstance(weight, Tensor):
                    weight = weight.item()  # torch's foreach lerp takes a 0-d weight as its (float32) value
                for p_averaged, p_model in zip(averaged_param_list, current_param_list, strict=True):
                    p_averaged.lerp_(p_model, weight)
            else:
                for p_averaged, p_model in zip(averaged_param_list, current_param_list, strict=True):
                    difference = p_model - p_averaged
                    if isinstance(num_averaged, Tensor):
                        p_averaged.addcdiv_(difference, num_averaged + 1)
                    else:
                        p_averaged.add_(difference, alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999):
    """The exponential moving average of one tensor: returns ``decay * ema + (1 - decay) * current``."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """The running mean of one tensor: returns ``averaged + (current - averaged) / (num_averaged + 1)``."""

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters (and, with ``use_buffers``, buffers) are averages of the
    model's over the calls to ``update_parameters``: the running mean by default (SWA), or what
    ``avg_fn`` (one tensor at a time) or ``multi_avg_fn`` (lists of tensors, in place) compute, such as
    ``get_ema_multi_avg_fn(0.999)``. ``n_averaged`` (an int64 buffer) counts the updates.

    Example::

        >>> swa_model = tritongrad.optim.swa_utils.AveragedModel(model)
        >>> ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999))
        >>> swa_model.update_parameters(model)
    """

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", creation.tensor(0, dtype=torch.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Averages ``model``'s current parameters (and buffers, see ``use_buffers``) into this copy."""
        if self.use_buffers:
            own = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            own, theirs = self.parameters(), model.parameters()
        averaged_list, current_list = [], []
        first = bool(self.n_averaged == 0)
        with no_grad():
            for p_averaged, p_model in zip(own, theirs):
                current = p_model.detach().to(p_averaged.device)
                averaged_list.append(p_averaged.detach())
                current_list.append(current)
                if first:
                    p_averaged.detach().copy_(current)
            if self.n_averaged > 0:
                if self.multi_avg_fn is not None or self.avg_fn is None:
                    groups: dict[tuple, tuple[list, list]] = {}
                    for averaged, current in zip(averaged_list, current_list):
                        pair = groups.setdefault((averaged.device, averaged.dtype), ([], []))
                        pair[0].append(averaged)
                        pair[1].append(current)
                    for (device, _), (averaged, current) in groups.items():
                        n_averaged = self.n_averaged.to(device)
                        if self.multi_avg_fn is not None:
                            self.multi_avg_fn(averaged, current, n_averaged)
                        elif device.type in _FOREACH_DEVICE_TYPES:
                            get_swa_multi_avg_fn()(averaged, current, n_averaged)
                        else:
                            average = get_swa_avg_fn()
                            for p_averaged, p_model in zip(averaged, current, strict=True):
                                p_averaged.copy_(average(p_averaged, p_model, n_averaged))
                else:
                    for p_averaged, p_model in zip(averaged_list, current_list, strict=True):
                        n_averaged = self.n_averaged.to(p_averaged.device)
                        p_averaged.detach().copy_(self.avg_fn(p_averaged.detach(), p_model, n_averaged))
            if not self.use_buffers:
                # the buffers (batch norm's running statistics) follow the model's
                for b_swa, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                    b_swa.detach().copy_(b_model.detach().to(b_swa.device))
            self.n_averaged += 1


def update_bn(loader, model: Module, device=None) -> None:
    """Recomputes the batch-norm running statistics of ``model`` with one pass over ``loader``: each
    batch-norm layer is reset and averages all batches equally (``momentum=None``) for the pass."""
    with no_grad():
        momenta = {}
        for module in model.modules():
            if isinstance(module, _BatchNorm):
                module.reset_running_stats()
                momenta[module] = module.momentum
        if not momenta:
            return
        was_training = model.training
        model.train()
        for module in momenta:
            module.momentum = None
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            if device is not None:
                input = input.to(device)
            model(input)
        for bn_module in momenta:
            bn_module.momentum = momenta[bn_module]
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's lr to ``swa_lr`` over ``anneal_epochs`` epochs ("cos" or "linear"), then
    holds it (torch.optim.swa_utils.SWALR).

    Example::

        >>> swa_scheduler = SWALR(optimizer, swa_lr=0.05, anneal_epochs=5, anneal_strategy="linear")
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:  # fmt: skip
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)  # (a tensor swa_lr copied, as torch's)
        for lr, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        self._get_lr_called_within_step = False
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _advance(self, epoch) -> None:
        self._get_lr_called_within_step = True
        try:
            super()._advance(epoch)
        finally:
            self._get_lr_called_within_step = False

    def get_lr(self) -> list[float]:
        """The lrs of the next epoch, from the current ones (torch's chained form)."""
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                UserWarning,
                stacklevel=2,
            )
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]  # fmt: skip
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs, strict=True)]  # fmt: skip

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
