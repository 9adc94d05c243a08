"""Rprop (resilient backpropagation): one fused launch per bucket of parameters."""

from __future__ import annotations

from tritongrad.kernels import optim as kernels
from tritongrad.optim.adagrad import _restore_loaded_state
from tritongrad.optim.adam import _host_step
from tritongrad.optim.optimizer import Optimizer, check_tensor_lr, grad_like_param, state_like
from tritongrad.tensor import Tensor

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop with torch.optim.Rprop's semantics, defaults and state format.

    Each element has its own step size, multiplied by ``etaplus`` while its gradient keeps its sign and
    by ``etaminus`` when the sign flips (then that element rests a step), clamped to ``step_sizes``.
    State per parameter, created on its first step: ``step`` (a float32 0-d CPU tensor), ``prev`` (the
    last masked gradient, zeros at first) and ``step_size`` (``lr`` everywhere at first). As torch, only
    the constructor's ``lr`` and ``etas`` are checked. ``foreach`` is accepted and ignored; ``capturable``
    and ``differentiable`` as ``Optimizer.step`` says.

    Example::

        >>> optimizer = tritongrad.optim.Rprop(model.parameters(), lr=1e-2, etas=(0.5, 1.2))
    """

    _defaults_on_load = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params, lr: float = 1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:  # fmt: skip
        check_tensor_lr(lr)
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        # torch's keys and order, so state_dict() and repr match torch's.
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)  # fmt: skip
        super().__init__(params, defaults)

    def _update_bucket(self, group, bucket) -> None:
        lr = float(group["lr"])
        for p in bucket:
            state = self.state[p]
            if not state:
                state["step"] = _host_step(0)
                state["prev"] = state_like(p)
                kernels.launch_zero_([state["prev"]._data])
                # (a complex parameter steps as its real view, each part from lr: torch's complex(lr, lr))
                state["step_size"] = state_like(p).fill_(complex(lr, lr) if p.is_complex() else lr)
            state["step"] = _host_step(state["step"]._data.item() + 1)  # a CPU tensor: no device sync
        states = [self.state[p] for p in bucket]
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        kernels.launch_rprop_step(
            [p._data for p in bucket],
            [grad_like_param(p) for p in bucket],
            [s["prev"]._data for s in states],
            [s["step_size"]._data for s in states],
            etaminus=etaminus, etaplus=etaplus, step_size_min=step_size_min, step_size_max=step_size_max,
            maximize=group["maximize"],
        )  # fmt: skip
        for p in bucket:
            p._version_counter.bump()

    def _restore_state(self) -> None:
        """After load_state_dict (ours or torch's); each ``step`` becomes a float32 0-d CPU tensor."""
        _restore_loaded_state(self)
