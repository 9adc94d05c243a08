"""Anomaly detection: ``detect_anomaly`` / ``set_detect_anomaly`` make a backward refuse a node's NaN
gradient, naming the node (torch's check of each node's outputs, which its tutorials turn on to
find where a NaN starts). Forward tracebacks are not recorded."""

from __future__ import annotations

import warnings

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]


class _AnomalyState:
    """The mode, process-wide as torch's (a static flag of its AnomalyMode, not a thread-local one): a
    backward in a worker thread checks for NaN when the main thread turned detection on."""

    enabled = False
    check_nan = True


state = _AnomalyState()


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks the gradients for NaN."""
    return state.check_nan


class set_detect_anomaly:  # noqa: N801 (torch's name: a function-like context manager)
    """Turns anomaly detection on or off; as a context manager, restores the previous mode on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.previous = (state.enabled, state.check_nan)
        state.enabled, state.check_nan = bool(mode), bool(check_nan)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info) -> None:
        state.enabled, state.check_nan = self.previous


class detect_anomaly:  # noqa: N801
    """Context manager that turns anomaly detection on inside it (torch warns that it slows everything
    down, and so does this one). Not a decorator: torch's instance is not callable."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should only be enabled "
            "for debugging.",
            UserWarning,
            stacklevel=2,
        )

    def __enter__(self) -> None:
        self.previous = (state.enabled, state.check_nan)
        state.enabled, state.check_nan = True, self.check_nan

    def __exit__(self, *exc_info) -> None:
        state.enabled, state.check_nan = self.previous
