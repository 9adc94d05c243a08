"""Adam and AdamW (optionally AMSGrad): one fused launch per bucket of parameters."""

from __future__ import annotations

from tritongrad.kernels import optim as kernels
from tritongrad.optim.optimizer import Optimizer, grad_like_param, state_like

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam, torch.optim.Adam's semantics (L2 weight decay added to the gradient).

    Example::

        >>> optimizer = tritongrad.optim.Adam(model.parameters(), lr=1e-3)
    """

    _decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, maximize: bool = False) -> None:  # fmt: skip
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize)  # fmt: skip
        super().__init__(params, defaults)

    def _validate_group(self, group) -> None:
        beta1, beta2 = group["betas"]
        if group["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if group["eps"] < 0.0:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not 0.0 <= beta1 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
        if not 0.0 <= beta2 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def _update_bucket(self, group, bucket) -> None:
        self._initialise_state(bucket, group["amsgrad"])
        # Parameters in one launch share a step count (they differ only if one joined later).
        by_step: dict[int, list] = {}
        for p in bucket:
            self.state[p]["step"] += 1
            by_step.setdefault(self.state[p]["step"], []).append(p)
        for step, params in by_step.items():
            self._update(group, params, step)

    def _initialise_state(self, bucket, amsgrad: bool) -> None:
        fresh = [p for p in bucket if not self.state[p]]
        if not fresh:
            return
        buffers = []
        for p in fresh:
            state = self.state[p]
            state["step"] = 0
            state["exp_avg"] = state_like(p)
            state["exp_avg_sq"] = state_like(p)
            buffers += [state["exp_avg"]._data, state["exp_avg_sq"]._data]
            if amsgrad:
                state["max_exp_avg_sq"] = state_like(p)
                buffers.append(state["max_exp_avg_sq"]._data)
        kernels.launch_zero_(buffers)

    def _update(self, group, params, step: int) -> None:
        beta1, beta2 = group["betas"]
        states = [self.state[p] for p in params]
        kernels.launch_adam_step(
            [p._data for p in params],
            [grad_like_param(p) for p in params],
            [s["exp_avg"]._data for s in states],
            [s["exp_avg_sq"]._data for s in states],
            [s["max_exp_avg_sq"]._data for s in states] if group["amsgrad"] else None,
            step=step, lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], amsgrad=group["amsgrad"], maximize=group["maximize"],
            decoupled_weight_decay=self._decoupled_weight_decay,
        )  # fmt: skip
        for p in params:
            p._version_counter.bump()


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (p *= 1 - lr * weight_decay), torch's default 1e-2."""

    _decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False) -> None:  # fmt: skip
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
