"""Adadelta: one fused launch per bucket of parameters."""

from __future__ import annotations

from tritongrad.kernels import optim as kernels
from tritongrad.optim.adagrad import _restore_loaded_state
from tritongrad.optim.adam import _host_step
from tritongrad.optim.optimizer import Optimizer, check_tensor_lr, grad_like_param, state_like

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta with torch.optim.Adadelta's semantics, defaults and state format.

    State per parameter, created on its first step: ``step`` (a float32 0-d CPU tensor),
    ``square_avg`` and ``acc_delta`` (zeros, laid out like the parameter). ``foreach`` is accepted
    and ignored (every step is fused); ``capturable`` and ``differentiable`` as ``Optimizer.step`` says.

    Example::

        >>> optimizer = tritongrad.optim.Adadelta(model.parameters(), lr=1.0)
        >>> scheduler = tritongrad.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    """

    _capturable_devices = ["cuda", "xpu", "hpu", "privateuseone"]  # (torch's Adadelta lists no xla)
    _defaults_on_load = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: bool | None = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:  # fmt: skip
        check_tensor_lr(lr)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)  # fmt: skip
        super().__init__(params, defaults)

    def _validate_group(self, group) -> None:
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def _update_bucket(self, group, bucket) -> None:
        new_buffers = []
        for p in bucket:
            state = self.state[p]
            if not state:
                state["step"] = _host_step(0)
                state["square_avg"], state["acc_delta"] = state_like(p), state_like(p)
                new_buffers += [state["square_avg"]._data, state["acc_delta"]._data]
        if new_buffers:
            kernels.launch_zero_(new_buffers)
        states = [self.state[p] for p in bucket]
        for state in states:
            state["step"] = _host_step(state["step"]._data.item() + 1)  # a CPU tensor: no device sync
        kernels.launch_adadelta_step(
            [p._data for p in bucket],
            [grad_like_param(p) for p in bucket],
            [s["square_avg"]._data for s in states],
            [s["acc_delta"]._data for s in states],
            lr=group["lr"], rho=group["rho"], eps=group["eps"], weight_decay=group["weight_decay"],
            maximize=group["maximize"],
        )  # fmt: skip
        for p in bucket:
            p._version_counter.bump()

    def _restore_state(self) -> None:
        """After load_state_dict (ours or torch's); each ``step`` becomes a float32 0-d CPU tensor."""
        _restore_loaded_state(self)
