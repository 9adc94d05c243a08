"""RAdam (rectified Adam): one fused launch per bucket of parameters (per step count, see below)."""

from __future__ import annotations

from tritongrad.kernels import optim as kernels
from tritongrad.optim.adagrad import _restore_loaded_state
from tritongrad.optim.adam import _host_step
from tritongrad.optim.optimizer import Optimizer, check_tensor_lr, grad_like_param, state_like

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam with torch.optim.RAdam's semantics, defaults and state format.

    State per parameter, created on its first step: ``step`` (a float32 0-d CPU tensor),
    ``exp_avg`` and ``exp_avg_sq`` (zeros, laid out like the parameter). The bias corrections and
    the variance rectification are computed on the host as torch computes them (the first steps,
    while the rectification is undefined, are plain momentum steps); parameters at different step
    counts get one launch per count. ``foreach`` is accepted and ignored; ``capturable`` and
    ``differentiable`` as ``Optimizer.step`` says.

    Example::

        >>> optimizer = tritongrad.optim.RAdam(model.parameters(), lr=1e-3, decoupled_weight_decay=True)
    """

    _defaults_on_load = {
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
        "capturable": False,
    }

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:  # fmt: skip
        check_tensor_lr(lr)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)  # fmt: skip
        super().__init__(params, defaults)

    def _validate_group(self, group) -> None:
        beta1, beta2 = group["betas"][0], group["betas"][1]
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not 0.0 <= beta1 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
        if not 0.0 <= beta2 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def _update_bucket(self, group, bucket) -> None:
        new_buffers = []
        by_step: dict[int, list] = {}
        for p in bucket:
            state = self.state[p]
            if not state:
                state["step"] = _host_step(0)
                state["exp_avg"], state["exp_avg_sq"] = state_like(p), state_like(p)
                new_buffers += [state["exp_avg"]._data, state["exp_avg_sq"]._data]
            step = int(state["step"]._data.item()) + 1  # a CPU tensor: no device sync
            state["step"] = _host_step(step)
            by_step.setdefault(step, []).append(p)
        if new_buffers:
            kernels.launch_zero_(new_buffers)
        beta1, beta2 = group["betas"][0], group["betas"][1]
        for step, params in by_step.items():
            kernels.launch_radam_step(
                [p._data for p in params],
                [grad_like_param(p) for p in params],
                [self.state[p]["exp_avg"]._data for p in params],
                [self.state[p]["exp_avg_sq"]._data for p in params],
                step=step, lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                weight_decay=group["weight_decay"], decoupled_weight_decay=group["decoupled_weight_decay"],
                maximize=group["maximize"],
            )  # fmt: skip
        for p in bucket:
            p._version_counter.bump()

    def _restore_state(self) -> None:
        """After load_state_dict (ours or torch's); each ``step`` becomes a float32 0-d CPU tensor."""
        _restore_loaded_state(self)
