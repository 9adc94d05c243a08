"""A host-side profiler with torch.profiler's interface: ``profile``, ``record_function``,
``ProfilerActivity``, ``schedule``, ``tensorboard_trace_handler``.

While a ``profile`` records, every kernel launch is an event named after its kernel
(``binary_kernel``, ``matmul_kernel``, ...) and every ``record_function(name)`` block an event
around the launches inside it. ``key_averages().table()`` prints torch's columns (self and total
CPU time, calls); ``export_chrome_trace`` writes the events as a Chrome trace. The times are host
wall-clock times: in the interpreter a launch is the kernel's whole execution, on a GPU it is the
launch's host cost (the kernels run asynchronously; ``torch.cuda.synchronize()`` inside a
``record_function`` block brings their time into it). Shapes, memory, stacks and FLOPs are not
recorded (the arguments are accepted as torch's).
"""

from __future__ import annotations

import enum
import json
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tritongrad import runtime

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "supported_activities"]  # fmt: skip


class ProfilerActivity(enum.Enum):
    """torch's activity kinds; tritongrad records host (CPU) events for any of them."""

    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities() -> set[ProfilerActivity]:
    return {ProfilerActivity.CPU, ProfilerActivity.CUDA} if runtime.device_type() == "cuda" else {ProfilerActivity.CPU}


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:  # fmt: skip
    """torch.profiler.schedule: after ``skip_first`` steps, cycles of ``wait`` idle, ``warmup`` and
    ``active`` recorded steps (the last one saves), ``repeat`` times (0: forever)."""
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", UserWarning, stacklevel=2)

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        within = step % cycle
        if within < wait:
            return ProfilerAction.NONE
        if within < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if within < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False) -> Callable[[profile], None]:  # fmt: skip
    """An ``on_trace_ready`` that writes each trace as ``<worker>.<time>.pt.trace.json`` under ``dir_name``."""
    worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"

    def handler(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        prof.export_chrome_trace(os.path.join(dir_name, f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json"))

    return handler


@dataclass
class _Event:
    name: str
    start: float  # seconds (perf_counter)
    end: float = 0.0
    children: list[_Event] = field(default_factory=list)

    @property
    def total(self) -> float:
        return self.end - self.start

    @property
    def self_time(self) -> float:
        return self.total - sum(child.total for child in self.children)


@dataclass
class FunctionEventAvg:
    """The events of one name, summed (torch's ``FunctionEventAvg``); times in microseconds."""

    key: str
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0
    device_time_total: float = 0.0
    self_device_time_total: float = 0.0
    cuda_time_total: float = 0.0
    self_cuda_time_total: float = 0.0

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / max(self.count, 1)

    @property
    def self_cpu_time(self) -> float:
        return self.self_cpu_time_total / max(self.count, 1)


class EventList(list):
    """A list of ``FunctionEventAvg`` with torch's ``table``."""

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_name_column_width: int = 55,
              header: str | None = None, top_level_events_only: bool = False, **kwargs: Any) -> str:  # fmt: skip
        rows = sorted(self, key=lambda e: getattr(e, sort_by, 0), reverse=True) if sort_by else list(self)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        self_total = sum(e.self_cpu_time_total for e in self) or 1.0
        name_width = min(max([len("Name")] + [len(e.key) for e in rows]) + 4, max_name_column_width)
        columns = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
        rule = "-" * name_width + "  " + "  ".join("-" * 12 for _ in columns) + "  "
        lines = [header] if header else []
        lines += [rule, "Name".rjust(name_width) + "  " + "  ".join(c.rjust(12) for c in columns) + "  ", rule]
        for e in rows:
            name = e.key if len(e.key) <= name_width else e.key[: name_width - 3] + "..."
            cells = [f"{100 * e.self_cpu_time_total / self_total:.2f}%", _time(e.self_cpu_time_total),
                     f"{100 * e.cpu_time_total / self_total:.2f}%", _time(e.cpu_time_total), _time(e.cpu_time),
                     str(e.count)]  # fmt: skip
            lines.append(name.rjust(name_width) + "  " + "  ".join(c.rjust(12) for c in cells) + "  ")
        lines += [rule, f"Self CPU time total: {_time(sum(e.self_cpu_time_total for e in self))}", ""]
        return "\n".join(lines)

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for e in self:
            total.count += e.count
            total.cpu_time_total += e.cpu_time_total
            total.self_cpu_time_total += e.self_cpu_time_total
        return total


def _time(microseconds: float) -> str:
    """A duration as torch's tables print it."""
    if microseconds >= 1e6:
        return f"{microseconds / 1e6:.3f}s"
    if microseconds >= 1e3:
        return f"{microseconds / 1e3:.3f}ms"
    return f"{microseconds:.3f}us"


class _Recorder(threading.local):
    stack: list[_Event] | None = None  # the open events of this thread while a profile records


_recording: list[profile] = []  # the profiles recording now (innermost last)
_thread = _Recorder()


def _open(name: str) -> _Event | None:
    if not _recording:
        return None
    if _thread.stack is None:
        _thread.stack = []
    event = _Event(name, time.perf_counter())
    (_thread.stack[-1].children if _thread.stack else _recording[-1]._roots).append(event)
    _thread.stack.append(event)
    return event


def _close(event: _Event | None) -> None:
    if event is None:
        return
    event.end = time.perf_counter()
    stack = _thread.stack
    if stack and stack[-1] is event:
        stack.pop()


class _LaunchTimer:
    """The launch observer (runtime.observe_launches): one event per kernel launch."""

    def __call__(self, kernel_name: str) -> _Event | None:
        return _open(kernel_name)

    close = staticmethod(_close)


class profile:
    """``with profile(...) as prof:`` records the kernel launches and ``record_function`` blocks
    inside it (the module docstring); torch.profiler.profile's arguments are accepted, and also
    torch.autograd.profiler.profile's (``enabled``, ``use_cuda``)."""

    def __init__(self, *args: Any, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None, on_trace_ready: Callable | None = None,
                 enabled: bool = True, **kwargs: Any) -> None:  # fmt: skip
        if args:  # (torch.autograd.profiler.profile's positional ``enabled``)
            enabled = bool(args[0])
        self.enabled = enabled
        self.activities = set(activities) if activities is not None else supported_activities()
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self._roots: list[_Event] = []
        self._active = False

    # ------------------------------------------------------------------ recording
    def _action(self) -> ProfilerAction:
        return self.schedule(self.step_num) if self.schedule is not None else ProfilerAction.RECORD

    def _set_recording(self, on: bool) -> None:
        if on and not self._active:
            runtime.observe_launches(_LaunchTimer())
            _recording.append(self)
        elif not on and self._active:
            _recording.remove(self)
            if not _recording:
                runtime.observe_launches(None)
        self._active = on

    def start(self) -> None:
        if self.enabled:
            self._set_recording(self._action() != ProfilerAction.NONE)

    def stop(self) -> None:
        self._set_recording(False)
        if self.schedule is None and self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def step(self) -> None:
        """Ends a step of ``schedule``: a finished active cycle goes to ``on_trace_ready``."""
        action = self._action()
        self.step_num += 1
        if action == ProfilerAction.RECORD_AND_SAVE and self.on_trace_ready is not None:
            self._set_recording(False)
            self.on_trace_ready(self)
            self._roots = []
        if self.enabled:
            self._set_recording(self._action() != ProfilerAction.NONE)

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ results
    def _all_events(self) -> list[_Event]:
        events, pending = [], list(self._roots)
        while pending:
            event = pending.pop()
            events.append(event)
            pending.extend(event.children)
        return events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0) -> EventList:
        averages: dict[str, FunctionEventAvg] = {}
        for event in sorted(self._all_events(), key=lambda e: e.start):
            average = averages.setdefault(event.name, FunctionEventAvg(event.name))
            average.count += 1
            average.cpu_time_total += event.total * 1e6
            average.self_cpu_time_total += event.self_time * 1e6
        return EventList(averages.values())

    def events(self) -> EventList:
        return self.key_averages()

    def table(self, *args: Any, **kwargs: Any) -> str:
        return self.key_averages().table(*args, **kwargs)

    def export_chrome_trace(self, path: str) -> None:
        events = sorted(self._all_events(), key=lambda e: e.start)
        origin = events[0].start if events else 0.0
        trace = [{"name": e.name, "ph": "X", "cat": "cpu_op", "ts": (e.start - origin) * 1e6, "dur": e.total * 1e6,
                  "pid": os.getpid(), "tid": threading.get_ident()} for e in events]  # fmt: skip
        with open(path, "w") as file:
            json.dump({"traceEvents": trace}, file)


class record_function:
    """``with record_function("name"):`` (or as a decorator) marks a range in the running profile."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self._event: _Event | None = None

    def __enter__(self) -> record_function:
        self._event = _open(self.name)
        return self

    def __exit__(self, *exc: Any) -> None:
        _close(self._event)
        self._event = None

    def __call__(self, function: Callable) -> Callable:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name):
                return function(*args, **kwargs)

        return recorded
