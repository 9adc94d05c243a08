"""Adam and AdamW (optionally AMSGrad, optionally capturable): one fused launch per bucket of parameters.

State per parameter, in torch's format: ``step`` (a float32 0-d tensor), ``exp_avg``,
``exp_avg_sq`` and, with amsgrad, ``max_exp_avg_sq``.

- ``capturable=False`` (torch's default): ``step`` lives on the CPU and the bias corrections
  are computed on the host each step, as torch does; the update is one launch per bucket.
- ``capturable=True``: ``step`` lives on the parameter's device; a step adds 1 to the counts on
  the device and the update computes the bias corrections from them, so a step passes nothing
  from the host that changes between steps (a CUDA graph can capture and replay it). Two
  launches per bucket (the increment, then the update), as torch's capturable Adam.
"""

from __future__ import annotations

import torch

from tritongrad.kernels import optim as kernels
from tritongrad.optim.optimizer import (
    Optimizer,
    check_implementation_flags,
    check_tensor_lr,
    grad_like_param,
    state_like,
)
from tritongrad.tensor import Tensor

__all__ = ["Adam", "AdamW"]


def _host_step(count: float) -> Tensor:
    """A float32 0-d step count on the CPU (torch's non-capturable state['step'])."""
    return Tensor._wrap(torch.tensor(float(count), dtype=torch.float32))


def _check_betas(betas, *, foreach, capturable: bool) -> None:
    """torch's checks of Adam's betas: both floats or both tensors (one number each)."""
    beta1, beta2 = betas[0], betas[1]
    if not (
        (isinstance(beta1, float) and isinstance(beta2, float))
        or (isinstance(beta1, Tensor) and isinstance(beta2, Tensor))
    ):
        raise ValueError("betas must be either both floats or both Tensors")
    for index, beta in enumerate((beta1, beta2)):
        if isinstance(beta, Tensor):
            if not capturable and foreach:
                raise ValueError(f"betas[{index}] as a Tensor is not supported for capturable=False and foreach=True")
            if beta.numel() != 1:
                raise ValueError(f"Tensor betas[{index}] must be 1-element")


class Adam(Optimizer):
    """Adam, torch.optim.Adam's semantics (L2 weight decay added to the gradient).

    Example::

        >>> optimizer = tritongrad.optim.Adam(model.parameters(), lr=1e-3)
        >>> graphable = tritongrad.optim.Adam(model.parameters(), lr=1e-3, capturable=True)
    """

    _steps_capturable = True  # (step counts on the parameter's device: see the module docstring)
    _defaults_on_load = {
        "amsgrad": False,
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "differentiable": False,
        "fused": None,
    }

    _decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:  # fmt: skip
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
            check_tensor_lr(lr)
        check_implementation_flags(type(self).__name__, foreach=foreach, fused=fused, differentiable=differentiable)
        # torch's keys and order, so state_dict() and repr match torch's.
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)  # fmt: skip
        self._validate_group(defaults)  # (torch's order: the values' checks, then the betas' types)
        _check_betas(betas, foreach=foreach, capturable=capturable)
        super().__init__(params, defaults)

    def _validate_group(self, group) -> None:
        beta1, beta2 = group["betas"][0], group["betas"][1]  # (torch reads two: a third is kept, one is IndexError)
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
        self._initialise_state(bucket, group["amsgrad"], group["capturable"])
        if group["capturable"]:
            self._update(group, bucket, [self.state[p]["step"]._data for p in bucket])
        else:
            # Parameters in one launch share a step count (they differ only if one joined later).
            by_step: dict[int, list] = {}
            for p in bucket:
                step = int(self.state[p]["step"]._data.item()) + 1  # a CPU tensor: no device sync
                self.state[p]["step"] = _host_step(step)
                by_step.setdefault(step, []).append(p)
            for step, params in by_step.items():
                self._update(group, params, step)
        for p in bucket:
            p._version_counter.bump()

    def _initialise_state(self, bucket, amsgrad: bool, capturable: bool) -> None:
        fresh = [p for p in bucket if not self.state[p]]
        if not fresh:
            return
        buffers = []
        for p in fresh:
            state = self.state[p]
            if capturable:
                state["step"] = Tensor._wrap(torch.empty((), dtype=torch.float32, device=p._data.device))
                buffers.append(state["step"]._data)
            else:
                state["step"] = _host_step(0)
            state["exp_avg"] = state_like(p)
            state["exp_avg_sq"] = state_like(p)
            buffers += [state["exp_avg"]._data, state["exp_avg_sq"]._data]
            if amsgrad:
                state["max_exp_avg_sq"] = state_like(p)
                buffers.append(state["max_exp_avg_sq"]._data)
        kernels.launch_zero_(buffers)

    def _update(self, group, params, step) -> None:
        """One launch over ``params``; ``step`` is the host step number or the device step counts."""
        beta1, beta2 = group["betas"][0], group["betas"][1]
        states = [self.state[p] for p in params]
        kernels.launch_adam_step(
            [p._data for p in params],
            [grad_like_param(p) for p in params],
            [s["exp_avg"]._data for s in states],
            [s["exp_avg_sq"]._data for s in states],
            [s["max_exp_avg_sq"]._data for s in states] if group["amsgrad"] else None,
            step=step, lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
            weight_decay=group["weight_decay"], amsgrad=group["amsgrad"], maximize=group["maximize"],
            decoupled_weight_decay=group["decoupled_weight_decay"],
        )  # fmt: skip

    def _restore_state(self) -> None:
        """After load_state_dict (ours or torch's); each ``step`` becomes a float32 0-d tensor on the
        parameter's device if the group is capturable, else on the CPU (as torch keeps it)."""
        for group in self.param_groups:
            group.setdefault("capturable", False)
            # A state dict from before torch 2.6 (or ours before these keys) lacks them.
            group.setdefault("decoupled_weight_decay", self._decoupled_weight_decay)
            for key, default in (("foreach", None), ("differentiable", False), ("fused", None)):
                group.setdefault(key, default)
            for p in group["params"]:
                state = self.state.get(p)
                if not state or "step" not in state:
                    continue
                step = state["step"]
                count = float(step._data.item() if isinstance(step, Tensor) else step)
                if group["capturable"]:
                    device_step = torch.tensor(count, dtype=torch.float32).to(p._data.device)
                    state["step"] = Tensor._wrap(device_step)
                else:
                    state["step"] = _host_step(count)


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (p *= 1 - lr * weight_decay), torch's default 1e-2."""

    _decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False, foreach: bool | None = None,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:  # fmt: skip
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)  # fmt: skip
