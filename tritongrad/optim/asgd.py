"""ASGD (averaged SGD): one fused launch per bucket of parameters (per eta and mu, see below)."""

from __future__ import annotations

import torch

from tritongrad.kernels import optim as kernels
from tritongrad.optim.adagrad import _restore_loaded_state
from tritongrad.optim.adam import _host_step
from tritongrad.optim.optimizer import Optimizer, check_tensor_lr, grad_like_param, state_like
from tritongrad.tensor import Tensor

__all__ = ["ASGD"]


def _host_scalar(value: float) -> Tensor:
    """A float32 0-d CPU tensor holding ``value`` rounded to float32 (torch's eta and mu)."""
    return Tensor._wrap(torch.tensor(float(value), dtype=torch.float32))


class ASGD(Optimizer):
    """Averaged SGD with torch.optim.ASGD's semantics, defaults and state format.

    State per parameter, created on its first step: ``step``, ``eta`` (the rate, ``lr`` at first) and
    ``mu`` (the averaging weight, 1 at first), float32 0-d tensors, and ``ax`` (the running average of
    the parameter, zeros at first). tritongrad keeps ``eta`` and ``mu`` on the CPU even for a GPU
    parameter (torch keeps them on its device and reads them back each step): the next step's values
    are computed on the host as torch's non-capturable step does, so parameters whose (eta, mu) differ
    (one joined later) get one launch each. ``foreach`` is accepted and ignored; ``capturable`` and
    ``differentiable`` as ``Optimizer.step`` says.

    Example::

        >>> optimizer = tritongrad.optim.ASGD(model.parameters(), lr=1e-2, t0=100)
    """

    _capturable_tensors = "params, mus, etas,"  # (torch's words, its trailing comma too)
    _defaults_on_load = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:  # fmt: skip
        check_tensor_lr(lr)
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        # torch's keys and order, so state_dict() and repr match torch's.
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)  # fmt: skip
        super().__init__(params, defaults)

    def _update_bucket(self, group, bucket) -> None:
        lr, lambd, alpha, t0 = float(group["lr"]), group["lambd"], group["alpha"], group["t0"]
        fresh = []
        by_rates: dict[tuple[float, float], list] = {}
        for p in bucket:
            state = self.state[p]
            if not state:
                state["step"], state["eta"], state["mu"] = _host_step(0), _host_scalar(lr), _host_scalar(1.0)
                state["ax"] = state_like(p)
                fresh.append(state["ax"]._data)
            rates = (state["eta"]._data.item(), state["mu"]._data.item())  # CPU tensors: no device sync
            by_rates.setdefault(rates, []).append(p)
            step = state["step"]._data.item() + 1
            state["step"] = _host_step(step)
            state["eta"] = _host_scalar(lr / ((1 + lambd * lr * step) ** alpha))
            state["mu"] = _host_scalar(1 / max(1, step - t0))
        if fresh:
            kernels.launch_zero_(fresh)
        for (eta, mu), params in by_rates.items():
            kernels.launch_asgd_step(
                [p._data for p in params],
                [grad_like_param(p) for p in params],
                [self.state[p]["ax"]._data for p in params],
                eta=eta, mu=mu, lambd=lambd, weight_decay=group["weight_decay"], maximize=group["maximize"],
            )  # fmt: skip
        for p in bucket:
            p._version_counter.bump()

    def _restore_state(self) -> None:
        """After load_state_dict (ours or torch's); ``step``, ``eta`` and ``mu`` become float32 0-d CPU
        tensors."""
        _restore_loaded_state(self)
        for state in self.state.values():
            for name in ("eta", "mu"):
                value = state.get(name)
                if value is not None:
                    state[name] = _host_scalar(value._data.item() if isinstance(value, Tensor) else value)
