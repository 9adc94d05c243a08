"""NAdam (Adam with Nesterov momentum): one fused launch per bucket of parameters (per step, see below)."""

from __future__ import annotations

import struct

from tritongrad.kernels import optim as kernels
from tritongrad.optim.adagrad import _restore_loaded_state
from tritongrad.optim.adam import _host_step
from tritongrad.optim.optimizer import Optimizer, check_tensor_lr, grad_like_param, state_like
from tritongrad.tensor import Tensor

__all__ = ["NAdam"]


def _float32(value: float) -> float:
    """``value`` rounded to the nearest float32 (to nearest even), as a Python float."""
    return struct.unpack("f", struct.pack("f", value))[0]


class NAdam(Optimizer):
    """NAdam with torch.optim.NAdam's semantics, defaults and state format.

    State per parameter, created on its first step: ``step`` and ``mu_product`` (float32 0-d CPU
    tensors, the step count and the product of the momentum schedule so far), ``exp_avg`` and
    ``exp_avg_sq`` (zeros, laid out like the parameter). The schedule and the two update
    coefficients are computed on the host as torch computes them (``mu_product`` rounded to float32
    each step, as torch's float32 tensor is); parameters at different steps get one launch per step.
    ``foreach`` is accepted and ignored; ``capturable`` and ``differentiable`` as ``Optimizer.step`` says.

    Example::

        >>> optimizer = tritongrad.optim.NAdam(model.parameters(), lr=2e-3, momentum_decay=4e-3)
    """

    _capturable_tensors = "params, mu_products"
    _defaults_on_load = {
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
    }

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:  # fmt: skip
        check_tensor_lr(lr)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)  # fmt: skip
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
        if not 0.0 <= group["momentum_decay"]:
            raise ValueError(f"Invalid momentum_decay value: {group['momentum_decay']}")

    def _update_bucket(self, group, bucket) -> None:
        beta1, beta2 = group["betas"][0], group["betas"][1]
        new_buffers = []
        launches: dict[tuple, list] = {}
        for p in bucket:
            state = self.state[p]
            if not state:
                state["step"], state["mu_product"] = _host_step(0), _host_step(1.0)
                state["exp_avg"], state["exp_avg_sq"] = state_like(p), state_like(p)
                new_buffers += [state["exp_avg"]._data, state["exp_avg_sq"]._data]
            step = int(state["step"]._data.item()) + 1  # CPU tensors: no device sync
            mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * group["momentum_decay"])))
            mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * group["momentum_decay"])))
            # torch multiplies its float32 mu_product by mu in float32 (mu rounded first); the product of
            # two float32 values is exact in a Python float, so one rounding gives torch's result.
            mu_product = _float32(state["mu_product"]._data.item() * _float32(mu))
            state["step"], state["mu_product"] = _host_step(step), _host_step(mu_product)
            launches.setdefault((step, mu, mu_next, mu_product), []).append(p)
        if new_buffers:
            kernels.launch_zero_(new_buffers)
        for (step, mu, mu_next, mu_product), params in launches.items():
            kernels.launch_nadam_step(
                [p._data for p in params],
                [grad_like_param(p) for p in params],
                [self.state[p]["exp_avg"]._data for p in params],
                [self.state[p]["exp_avg_sq"]._data for p in params],
                step=step, mu=mu, mu_next=mu_next, mu_product=mu_product, lr=group["lr"], beta1=beta1, beta2=beta2,
                eps=group["eps"], weight_decay=group["weight_decay"],
                decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"],
            )  # fmt: skip
        for p in bucket:
            p._version_counter.bump()

    def _restore_state(self) -> None:
        """After load_state_dict (ours or torch's); ``step`` and ``mu_product`` become float32 0-d CPU tensors."""
        _restore_loaded_state(self)
        for state in self.state.values():
            if "mu_product" in state:
                value = state["mu_product"]
                state["mu_product"] = _host_step(float(value._data.item() if isinstance(value, Tensor) else value))
