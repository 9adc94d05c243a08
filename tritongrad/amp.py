"""Mixed-precision entry points as torch has them: ``autocast`` and ``GradScaler``.

``autocast(device_type, dtype)`` turns on, for its thread and device type, the cast policies
of ops/autocast.py: matmuls, convolutions and linear layers run in ``dtype`` (bfloat16 by
default on the CPU, float16 on CUDA) while losses, reductions and the ops torch lists stay in
float32. As in torch, CPU autocast takes only bfloat16 and float16, and CUDA autocast without a
GPU warns and disables itself.

``GradScaler`` is torch's loss scaler: ``scale(loss)`` multiplies by the scale, ``step(optimizer)``
unscales the gradients, skips the step when any is inf/NaN, and ``update()`` grows or backs off
the scale. As in torch, a CUDA scaler disables itself (with a warning) when no GPU is in use, and
then every method passes through; a ``"cpu"`` one scales.

Example::

    >>> scaler = tritongrad.amp.GradScaler("cuda", enabled=use_amp)
    >>> with tritongrad.autocast(device_type="cuda", dtype=tritongrad.float16, enabled=use_amp):
    ...     loss = loss_fn(model(x), y)
    >>> scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()
"""

from __future__ import annotations

import functools
import math
import struct
import warnings
from collections import abc
from typing import Any

import torch

from tritongrad import runtime
from tritongrad.autograd import no_grad
from tritongrad.ops import autocast as _state
from tritongrad.ops import isfinite, stack
from tritongrad.tensor import Tensor

__all__ = ["autocast", "GradScaler", "is_autocast_available", "custom_fwd", "custom_bwd", "STATE_FUNCTIONS"]

# Device types torch's autocast accepts; tritongrad's tensors live on "cpu" or "cuda", so a region
# for another type changes no op (as in torch, where no tensor is on that device).
_DEVICE_TYPES = ("cpu", "cuda", "xpu", "hpu", "mps", "xla", "mtia", "maia", "ipu", "privateuseone")


def is_autocast_available(device_type: str) -> bool:
    """Whether ``autocast`` can be used with ``device_type`` ("cpu", or "cuda" with a GPU)."""
    return device_type == "cpu" or (device_type == "cuda" and runtime.device_type() == "cuda")


class autocast:  # noqa: N801 (torch's name)
    """``with autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: inside, ops on
    ``device_type`` tensors cast their inputs by torch's policies (see the module docstring).
    Usable as a decorator too; regions nest and restore the state they found."""

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled=None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        device_type = torch.device(device_type).type  # (torch's parse and its error for a misspelt type)
        if device_type not in _DEVICE_TYPES:
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = _state.get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = _state.is_autocast_cache_enabled() if cache_enabled is None else bool(cache_enabled)
        if enabled and device_type == "cpu" and self.fast_dtype not in (torch.bfloat16, torch.float16):
            warnings.warn(
                "In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                UserWarning,
                stacklevel=2,
            )
            enabled = False
        elif enabled and device_type == "cuda" and runtime.device_type() != "cuda":
            warnings.warn(
                "CUDA is not available or torch_xla is imported. Disabling autocast.", UserWarning, stacklevel=2
            )
            enabled = False
        elif enabled and device_type == "cuda" and self.fast_dtype not in (torch.bfloat16, torch.float16):
            warnings.warn(
                "In CUDA autocast, but the target dtype is not supported. Disabling autocast.\n"
                "CUDA Autocast only supports dtypes of torch.float16, torch.bfloat16 currently.",
                UserWarning,
                stacklevel=2,
            )
            enabled = False
        self._enabled = bool(enabled)

    def __enter__(self) -> autocast:
        self._previous = (
            _state.is_autocast_enabled(self.device),
            _state.get_autocast_dtype(self.device),
            _state.is_autocast_cache_enabled(),
        )
        _state.set_autocast_enabled(self.device, self._enabled)
        _state.set_autocast_dtype(self.device, self.fast_dtype)
        _state.set_autocast_cache_enabled(self._cache_enabled)
        _state.enter_region()
        return self

    def __exit__(self, *exc_info) -> bool:
        _state.exit_region()
        enabled, dtype, cache_enabled = self._previous
        _state.set_autocast_enabled(self.device, enabled)
        _state.set_autocast_dtype(self.device, dtype)
        _state.set_autocast_cache_enabled(cache_enabled)
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapped(*args, **kwargs):
            with self:
                return function(*args, **kwargs)

        return wrapped


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """torch.amp.custom_fwd: a custom Function's ``forward`` runs, inside an enabled region, with its
    floating tensor arguments cast to ``cast_inputs`` and autocast off (or, without ``cast_inputs``,
    in the region's state, which ``custom_bwd`` then restores for the backward)."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._fwd_used_autocast = _state.is_autocast_enabled(device_type)
        args[0]._dtype = _state.get_autocast_dtype(device_type)
        if cast_inputs is None or not args[0]._fwd_used_autocast:
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast_floating(args, cast_inputs), **_cast_floating(kwargs, cast_inputs))

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """torch.amp.custom_bwd: a custom Function's ``backward`` runs in the autocast state its forward saw."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast, dtype=args[0]._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd


def _cast_floating(value, dtype):
    """Floating tensors (also inside lists, tuples and dicts) cast to ``dtype``; anything else as is."""
    if hasattr(value, "is_floating_point") and hasattr(value, "to"):
        return value.to(dtype) if value.is_floating_point() else value
    if isinstance(value, dict):
        return {key: _cast_floating(item, dtype) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_floating(item, dtype) for item in value)
    return value


def _float32(value: float) -> float:
    """``value`` rounded to float32: torch keeps the scale in a float32 tensor."""
    return struct.unpack("f", struct.pack("f", value))[0]


_FIX = "This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration."
# An optimizer's stage between two update() calls, as torch's OptState.
_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """torch.amp.GradScaler: dynamic loss scaling (see the module docstring). As in torch, the scale
    (and growth tracker) start at the first ``scale()``, so ``unscale_``/``step``/``update`` before it
    fail torch's assertions; each optimizer goes ready -> unscaled -> stepped until ``update()``."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:  # fmt: skip
        self._device = device
        self._enabled = enabled
        if enabled and device == "cuda" and runtime.device_type() != "cuda":
            warnings.warn(
                "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                UserWarning,
                stacklevel=2,
            )
            self._enabled = False
        if self._enabled:  # (torch checks the factors of an enabled scaler only)
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale: float | None = None  # set by the first scale()
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker: int | None = None
            # id(optimizer) -> [stage, found inf/NaN (None: no gradient was checked)]
            self._per_optimizer_states: dict[int, list] = {}

    def _state(self, optimizer) -> list:
        return self._per_optimizer_states.setdefault(id(optimizer), [_READY, None])

    def _check_scale_growth_tracker(self, funcname: str) -> None:
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + _FIX)
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  " + _FIX)

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_factor(self) -> float:
        """The factor the scale grows by after ``growth_interval`` steps without inf/NaN gradients."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Sets the growth factor (unchecked, as torch's setter)."""
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        """The factor the scale shrinks by after a step with inf/NaN gradients."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Sets the backoff factor (unchecked, as torch's setter)."""
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        """How many consecutive finite steps grow the scale."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Sets the growth interval (unchecked, as torch's setter)."""
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker

    def scale(self, outputs):
        """``outputs`` times the current scale: a tensor, or (as torch maps them) an iterable of tensors,
        a list or tuple keeping its type and any other iterable giving a lazy ``map``."""
        if not self._enabled:
            return outputs

        def apply_scale(value):
            if isinstance(value, Tensor):
                if self._scale is None:
                    self._scale = _float32(self._init_scale)
                    self._growth_tracker = self._init_growth_tracker
                return value * self._scale
            if isinstance(value, abc.Iterable):
                mapped = map(apply_scale, value)
                return type(value)(mapped) if isinstance(value, (list, tuple)) else mapped
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply_scale(outputs)

    def unscale_(self, optimizer) -> None:
        """Divides ``optimizer``'s gradients by the scale, once per step, noting any inf/NaN."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._state(optimizer)
        if state[0] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state[0] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        grads = []
        for group in optimizer.param_groups:
            for param in group["params"]:
                if not isinstance(param, Tensor):
                    raise AssertionError(f"expected param to be torch.Tensor, got {type(param).__name__}")
                if param.grad is None:
                    continue
                if param.grad.dtype == torch.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                grads.append(param.grad)
        inverse = _float32(1.0 / self._scale)  # torch: the float32 of the float64 reciprocal
        with no_grad():
            for grad in grads:
                grad.mul_(inverse)
            # One read back per step, as torch's step() does to decide whether to skip.
            found_inf = bool(grads) and not bool(stack([isfinite(grad).all() for grad in grads]).all().item())
        state[:] = [_UNSCALED, found_inf if grads else None]

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` unless the unscaled gradients hold an inf or NaN (then skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        state = self._state(optimizer)
        if state[0] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state[0] == _READY:
            self.unscale_(optimizer)
        if state[1] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None if state[1] else optimizer.step(*args, **kwargs)
        state[0] = _STEPPED
        return result

    def update(self, new_scale: float | None = None) -> None:
        """Backs off the scale after a skipped step; grows it after ``growth_interval`` clean steps
        (torch's _amp_update_scale_, in float32)."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                self._scale = _float32(new_scale)
            else:
                reason = (
                    "new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                    "torch.FloatTensor with requires_grad=False."
                )
                if new_scale.device.type != self._device or new_scale.numel() != 1 or new_scale.requires_grad:
                    raise AssertionError(reason)
                if new_scale.dim():  # (torch copies it into its 0-d scale tensor)
                    raise RuntimeError(
                        f"output with shape [] doesn't match the broadcast shape {list(new_scale.shape)}"
                    )
                self._scale = _float32(float(new_scale.item()))
        else:
            found = [state[1] for state in self._per_optimizer_states.values() if state[1] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found):
                self._scale = _float32(self._scale * self._backoff_factor)
                self._growth_tracker = 0
            else:
                successful = self._growth_tracker + 1
                if successful == self._growth_interval:
                    grown = _float32(self._scale * self._growth_factor)
                    if math.isfinite(grown):
                        self._scale = grown
                    successful = 0
                self._growth_tracker = successful
        self._per_optimizer_states = {}

    def state_dict(self) -> dict[str, Any]:
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}  # fmt: skip

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a disabled instance of GradScaler."
            )
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale = _float32(float(state_dict["scale"]))
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker = int(state_dict["_growth_tracker"])


# ---------------------------------------------------------------------------------------------
# torch's top-level autocast state functions, with its deprecated per-device spellings
# ---------------------------------------------------------------------------------------------


def _deprecated(old: str, new: str, function):
    @functools.wraps(function)
    def warned(*args, **kwargs):
        warnings.warn(f"torch.{old} is deprecated. Please use torch.{new} instead.", DeprecationWarning, stacklevel=2)
        return function(*args, **kwargs)

    return warned


def _is_enabled(device_type: str = "cuda") -> bool:
    return _state.is_autocast_enabled(device_type)


STATE_FUNCTIONS = {
    "is_autocast_enabled": _is_enabled,
    "set_autocast_enabled": _state.set_autocast_enabled,
    "get_autocast_dtype": _state.get_autocast_dtype,
    "set_autocast_dtype": _state.set_autocast_dtype,
    "is_autocast_cache_enabled": _state.is_autocast_cache_enabled,
    "set_autocast_cache_enabled": _state.set_autocast_cache_enabled,
    "clear_autocast_cache": _state.clear_autocast_cache,
    "is_autocast_cpu_enabled": _deprecated(
        "is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')", lambda: _state.is_autocast_enabled("cpu")
    ),
    "set_autocast_cpu_enabled": _deprecated(
        "set_autocast_cpu_enabled(enabled)",
        "set_autocast_enabled('cpu', enabled)",
        lambda enabled: _state.set_autocast_enabled("cpu", enabled),
    ),
    "get_autocast_cpu_dtype": _deprecated(
        "get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')", lambda: _state.get_autocast_dtype("cpu")
    ),
    "set_autocast_cpu_dtype": _deprecated(
        "set_autocast_cpu_dtype(dtype)",
        "set_autocast_dtype('cpu', dtype)",
        lambda dtype: _state.set_autocast_dtype("cpu", dtype),
    ),
    "get_autocast_gpu_dtype": _deprecated(
        "get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')", lambda: _state.get_autocast_dtype("cuda")
    ),
    "set_autocast_gpu_dtype": _deprecated(
        "set_autocast_gpu_dtype(dtype)",
        "set_autocast_dtype('cuda', dtype)",
        lambda dtype: _state.set_autocast_dtype("cuda", dtype),
    ),
}


def _cpu_autocast(enabled: bool = True, dtype=torch.bfloat16, cache_enabled: bool = True) -> autocast:
    """torch.cpu.amp.autocast: the older spelling of ``autocast("cpu", ...)``, deprecated as in torch."""
    warnings.warn(
        "`torch.cpu.amp.autocast(args...)` is deprecated. Please use `torch.amp.autocast('cpu', args...)` instead.",
        FutureWarning,
        stacklevel=2,
    )
    return autocast("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


def _cpu_grad_scaler(init_scale: float = 2.0**16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                     growth_interval: int = 2000, enabled: bool = True) -> GradScaler:  # fmt: skip
    """torch.cpu.amp.GradScaler: ``GradScaler("cpu", ...)``, deprecated as in torch."""
    warnings.warn(
        "`torch.cpu.amp.GradScaler(args...)` is deprecated. Please use `torch.amp.GradScaler('cpu', args...)` instead.",
        FutureWarning,
        stacklevel=2,
    )
    return GradScaler("cpu", init_scale, growth_factor, backoff_factor, growth_interval, enabled)
