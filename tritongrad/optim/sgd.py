"""SGD with momentum, dampening, Nesterov, weight decay and maximize: one fused launch per bucket."""

from __future__ import annotations

from tritongrad.kernels import optim as kernels
from tritongrad.optim.optimizer import (
    Optimizer,
    check_implementation_flags,
    check_tensor_lr,
    grad_like_param,
    required,
    state_like,
)

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, torch.optim.SGD's semantics.

    Example::

        >>> optimizer = tritongrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> optimizer.zero_grad(); loss.backward(); optimizer.step()
    """

    _defaults_on_load = {"nesterov": False, "maximize": False, "foreach": None, "differentiable": False, "fused": False}

    def __init__(self, params, lr=1e-3, momentum: float = 0, dampening: float = 0, weight_decay: float = 0,
                 nesterov: bool = False, *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:  # fmt: skip
        check_tensor_lr(lr)
        check_implementation_flags("SGD", foreach=foreach, fused=fused, differentiable=differentiable)
        if nesterov and (momentum <= 0 or dampening != 0):  # (torch checks the defaults only, not each group)
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        # torch's keys and order, so state_dict() and repr match torch's.
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)  # fmt: skip
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss if given."""
        self._buffers_made_this_step: set[int] = set()
        try:
            return super().step(closure)
        finally:
            self._buffers_made_this_step = set()

    def _recorded_update(self, group) -> None:
        """torch's single-tensor SGD step in recorded tensor ops (a differentiable group whose tensors
        require grad: meta-learning steps a non-leaf copy of the weights and differentiates through it)."""
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        for param in group["params"]:
            grad = param._grad
            if grad is None:
                continue
            grad = -grad if group["maximize"] else grad
            if group["weight_decay"] != 0:
                grad = grad.add(param, alpha=group["weight_decay"])
            if momentum != 0:
                buffer = self.state[param].get("momentum_buffer")
                if buffer is None:
                    buffer = self.state[param]["momentum_buffer"] = grad.clone().detach()
                else:
                    buffer.mul_(momentum).add_(grad, alpha=1 - dampening)
                grad = grad.add(buffer, alpha=momentum) if group["nesterov"] else buffer
            param.add_(grad, alpha=-lr)

    def _validate_group(self, group) -> None:
        if group["lr"] is not required and group["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if group["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def _update_bucket(self, group, bucket) -> None:
        hyper = dict(
            lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
            weight_decay=group["weight_decay"], nesterov=group["nesterov"] and group["momentum"] != 0,
            maximize=group["maximize"],
        )  # fmt: skip
        if group["momentum"] == 0:
            grads = [grad_like_param(p) for p in bucket]
            kernels.launch_sgd_step([p._data for p in bucket], grads, None, first_step=False, **hyper)
            return
        # Parameters seen for the first time get their momentum buffer initialised from the
        # gradient by the kernel (first_step); the rest update theirs. Usually one launch. A
        # parameter listed twice in a group whose buffer its first listing made in this step is
        # fresh again, as in torch's loop (which reads every buffer before updating any).
        created = self._buffers_made_this_step
        fresh = [p for p in bucket if self.state[p].get("momentum_buffer") is None or id(p) in created]
        seen = [p for p in bucket if self.state[p].get("momentum_buffer") is not None and id(p) not in created]
        for params, first_step in ((fresh, True), (seen, False)):
            if not params:
                continue
            if first_step:
                for p in params:
                    if self.state[p].get("momentum_buffer") is None:
                        self.state[p]["momentum_buffer"] = state_like(p)
                    created.add(id(p))
            buffers = [self.state[p]["momentum_buffer"]._data for p in params]
            kernels.launch_sgd_step([p._data for p in params], [grad_like_param(p) for p in params], buffers,
                                    first_step=first_step, **hyper)  # fmt: skip
        for p in bucket:
            p._version_counter.bump()
