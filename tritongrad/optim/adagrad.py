"""Adagrad: one fused launch per bucket of parameters (per step count, see below)."""

from __future__ import annotations

import torch

from tritongrad.autograd.grad_mode import no_grad
from tritongrad.kernels import optim as kernels
from tritongrad.optim.adam import _host_step
from tritongrad.optim.optimizer import (
    Optimizer,
    check_implementation_flags,
    check_tensor_lr,
    grad_like_param,
    state_like,
)
from tritongrad.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad with torch.optim.Adagrad's semantics, defaults and state format.

    State per parameter, created for every parameter at construction as torch does: ``step`` (a
    float32 0-d CPU tensor) and ``sum`` (``initial_accumulator_value`` everywhere, laid out like
    the parameter). The decayed rate ``lr / (1 + (step - 1) * lr_decay)`` is computed on the host,
    so parameters at different step counts (one skipped a step without a gradient) get one launch
    per count. ``foreach`` is accepted and ignored (every step is fused); ``fused`` is
    accepted (the same step); ``differentiable`` as ``Optimizer.step`` says.

    Example::

        >>> optimizer = tritongrad.optim.Adagrad(model.parameters(), lr=1e-2, lr_decay=1e-4)
    """

    _defaults_on_load = {"foreach": None, "maximize": False, "differentiable": False, "fused": None}

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:  # fmt: skip
        check_tensor_lr(lr)
        check_implementation_flags("Adagrad", foreach=foreach, fused=fused, differentiable=differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)  # fmt: skip
        super().__init__(params, defaults)
        for group in self.param_groups:
            self._initialise_state(group, group["params"])

    def _validate_group(self, group) -> None:
        for name, label in (("lr", "learning rate"), ("lr_decay", "lr_decay value"),
                            ("weight_decay", "weight_decay value"),
                            ("initial_accumulator_value", "initial_accumulator_value value"),
                            ("eps", "epsilon value")):  # fmt: skip
            if not 0.0 <= group[name]:
                raise ValueError(f"Invalid {label}: {group[name]}")

    def _initialise_state(self, group, params) -> None:
        """``step`` 0 and ``sum`` filled with the group's initial_accumulator_value, for ``params`` without state."""
        fresh = [p for p in params if not self.state[p]]
        for p in fresh:
            self.state[p]["step"] = _host_step(0)
            self.state[p]["sum"] = state_like(p)
        sums = [self.state[p]["sum"] for p in fresh]
        value = group["initial_accumulator_value"]
        if value == 0:
            kernels.launch_zero_([s._data for s in sums])
        else:
            with no_grad():
                for state_sum in sums:
                    state_sum.fill_(value)

    def _update_bucket(self, group, bucket) -> None:
        self._initialise_state(group, bucket)  # parameters added later, or missing from a loaded state dict
        by_step: dict[int, list] = {}
        for p in bucket:
            step = int(self.state[p]["step"]._data.item()) + 1  # a CPU tensor: no device sync
            self.state[p]["step"] = _host_step(step)
            by_step.setdefault(step, []).append(p)
        for step, params in by_step.items():
            kernels.launch_adagrad_step(
                [p._data for p in params],
                [grad_like_param(p) for p in params],
                [self.state[p]["sum"]._data for p in params],
                step=step, lr=group["lr"], lr_decay=group["lr_decay"], weight_decay=group["weight_decay"],
                eps=group["eps"], maximize=group["maximize"],
            )  # fmt: skip
        for p in bucket:
            p._version_counter.bump()

    def _restore_state(self) -> None:
        """After load_state_dict (ours or torch's); each ``step`` becomes a float32 0-d CPU tensor."""
        _restore_loaded_state(self)


def _restore_loaded_state(optimizer: Optimizer) -> None:
    """After Optimizer.load_state_dict: every ``step`` (a tensor anywhere, or a number) becomes torch's
    float32 0-d CPU tensor, and every state buffer is laid out like its parameter (the fused steps
    need param, grad and state to share strides; a loaded copy of a transposed parameter's state
    may have come back contiguous)."""
    for param, state in optimizer.state.items():
        for name, value in state.items():
            if name == "step":
                if isinstance(value, Tensor) and value.dtype == torch.float32 and value.dim() == 0 and value.is_cpu:
                    continue  # (already torch's form: kept, shared with the loaded dict as torch's)
                state[name] = _host_step(float(value._data.item() if isinstance(value, Tensor) else value))
            elif (
                isinstance(value, Tensor)
                and value.shape == param.shape
                and value._data.stride() != param._data.stride()
            ):
                with no_grad():
                    state[name] = state_like(param).copy_(value)
