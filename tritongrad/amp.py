"""Mixed-precision entry points as torch has them: ``autocast`` and ``GradScaler``.

tritongrad does not autocast: every op runs in the dtypes of its inputs (bf16/fp16 models train
by holding bf16/fp16 parameters and data). So that training scripts written for torch's AMP run
unchanged, ``autocast`` is accepted as a context manager and decorator; disabled, it is exactly
torch's no-op, and enabled it warns once and leaves dtypes alone (torch does the same for a
device type it cannot autocast).

``GradScaler`` is torch's loss scaler: ``scale(loss)`` multiplies by the scale, ``step(optimizer)``
unscales the gradients, skips the step when any is inf/NaN, and ``update()`` grows or backs off
the scale. As in torch, it disables itself (with a warning) when no GPU is in use, and then every
method passes through.

Example::

    >>> scaler = tritongrad.amp.GradScaler("cuda", enabled=use_amp)
    >>> with tritongrad.autocast(device_type="cuda", dtype=tritongrad.float16, enabled=use_amp):
    ...     loss = loss_fn(model(x), y)
    >>> scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

from tritongrad import runtime
from tritongrad.autograd import no_grad
from tritongrad.ops import isfinite, stack

__all__ = ["autocast", "GradScaler", "is_autocast_available"]

_warned_enabled_autocast = False


def is_autocast_available(device_type: str) -> bool:
    """False: tritongrad runs every op in its inputs' dtypes."""
    return False


class autocast:  # noqa: N801 (torch's name)
    """``with autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: accepted; no dtype
    changes (see the module docstring). Usable as a decorator too."""

    def __init__(self, device_type: str = "cuda", dtype=None, enabled: bool = True, cache_enabled=None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = device_type
        self.fast_dtype = dtype
        self._enabled = bool(enabled)

    def __enter__(self) -> autocast:
        global _warned_enabled_autocast
        if self._enabled and not _warned_enabled_autocast:
            _warned_enabled_autocast = True
            warnings.warn(
                "tritongrad does not autocast: ops inside autocast() run in their inputs' dtypes "
                "(keep the model and data in bf16/fp16 to train in half precision)",
                UserWarning,
                stacklevel=2,
            )
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def __call__(self, function):
        @functools.wraps(function)
        def wrapped(*args, **kwargs):
            with self:
                return function(*args, **kwargs)

        return wrapped


class GradScaler:
    """torch.amp.GradScaler: dynamic loss scaling (see the module docstring)."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:  # fmt: skip
        if enabled and runtime.device_type() != "cuda":
            warnings.warn(
                "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                UserWarning,
                stacklevel=2,
            )
            enabled = False
        if growth_factor <= 1.0:
            raise ValueError("The growth factor must be > 1.0.")
        if backoff_factor >= 1.0:
            raise ValueError("The backoff factor must be < 1.0.")
        self._device = device
        self._enabled = enabled
        self._scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._unscaled: dict[int, bool] = {}  # id(optimizer) -> found inf/NaN while unscaling

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def scale(self, outputs):
        """``outputs`` (a tensor or nested lists/tuples of them) times the current scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(output) for output in outputs)
        return outputs * self._scale

    def unscale_(self, optimizer) -> None:
        """Divides ``optimizer``'s gradients by the scale, once per step, noting any inf/NaN."""
        if not self._enabled:
            return
        if id(optimizer) in self._unscaled:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        with no_grad():
            for grad in grads:
                grad.mul_(1.0 / self._scale)
            # One read back per step, as torch's step() does to decide whether to skip.
            found_inf = bool(grads) and not bool(stack([isfinite(grad).all() for grad in grads]).all().item())
        self._unscaled[id(optimizer)] = found_inf

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` unless the unscaled gradients hold an inf or NaN (then skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if id(optimizer) not in self._unscaled:
            self.unscale_(optimizer)
        if self._unscaled[id(optimizer)]:
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale: float | None = None) -> None:
        """Backs off the scale after a skipped step; grows it after ``growth_interval`` clean steps."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if hasattr(new_scale, "item") else new_scale)
        elif any(self._unscaled.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                self._scale *= self._growth_factor
                self._growth_tracker = 0
        self._unscaled.clear()

    def state_dict(self) -> dict[str, Any]:
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}  # fmt: skip

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a disabled instance of GradScaler."
            )
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
