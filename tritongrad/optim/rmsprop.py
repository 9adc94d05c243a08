"""RMSprop (optionally centered, with momentum): one fused launch per bucket of parameters."""

from __future__ import annotations

from tritongrad.kernels import optim as kernels
from tritongrad.optim.adagrad import _restore_loaded_state
from tritongrad.optim.adam import _host_step
from tritongrad.optim.optimizer import (
    Optimizer,
    check_implementation_flags,
    check_tensor_lr,
    grad_like_param,
    state_like,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop with torch.optim.RMSprop's semantics and defaults.

    State per parameter: ``step`` (a float32 0-d CPU tensor, as torch's), ``square_avg``, and
    ``momentum_buffer`` (momentum > 0) and ``grad_avg`` (centered), created as zeros on the
    parameter's first step.

    Example::

        >>> optimizer = tritongrad.optim.RMSprop(model.parameters(), lr=1e-3)
    """

    _defaults_on_load = {
        "momentum": 0,
        "centered": False,
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "capturable": False,
    }

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:  # fmt: skip
        check_tensor_lr(lr)
        check_implementation_flags("RMSprop", foreach=foreach, differentiable=differentiable, capturable=capturable)
        # torch's keys and order, so state_dict() and repr match torch's.
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)  # fmt: skip
        super().__init__(params, defaults)

    def _validate_group(self, group) -> None:
        for name, label in (("lr", "learning rate"), ("eps", "epsilon value"), ("momentum", "momentum value"),
                            ("weight_decay", "weight_decay value"), ("alpha", "alpha value")):  # fmt: skip
            if not 0.0 <= group[name]:
                raise ValueError(f"Invalid {label}: {group[name]}")

    def _update_bucket(self, group, bucket) -> None:
        fresh = [p for p in bucket if not self.state[p]]
        new_buffers = []
        for p in fresh:
            state = self.state[p]
            state["step"] = _host_step(0)
            names = ["square_avg"] + ["momentum_buffer"] * (group["momentum"] > 0) + ["grad_avg"] * group["centered"]
            for name in names:
                state[name] = state_like(p)
                new_buffers.append(state[name]._data)
        if new_buffers:
            kernels.launch_zero_(new_buffers)
        states = [self.state[p] for p in bucket]
        for state in states:
            state["step"] = _host_step(state["step"]._data.item() + 1)  # a CPU tensor: no device sync
        kernels.launch_rmsprop_step(
            [p._data for p in bucket],
            [grad_like_param(p) for p in bucket],
            [s["square_avg"]._data for s in states],
            [s["momentum_buffer"]._data for s in states] if group["momentum"] > 0 else None,
            [s["grad_avg"]._data for s in states] if group["centered"] else None,
            lr=group["lr"], alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
            momentum=group["momentum"], centered=group["centered"], maximize=group["maximize"],
        )  # fmt: skip
        for p in bucket:
            p._version_counter.bump()

    def _restore_state(self) -> None:
        """After load_state_dict (ours or torch's); each ``step`` becomes a float32 0-d CPU tensor."""
        _restore_loaded_state(self)
