"""tritongrad's tape: ``backward``, ``grad``, ``Function``, grad mode, ``gradcheck``.

``autograd.functional`` (jacobian, hessian, ...) and ``autograd.forward_ad`` are built on the ops, a
layer above this package's core; the top package imports them, which makes them
``tritongrad.autograd.functional`` and ``tritongrad.autograd.forward_ad`` as in torch.
"""

from __future__ import annotations

from tritongrad.autograd import (
    graph,  # noqa: F401
    profiler,  # noqa: F401 (torch.autograd.profiler: tritongrad.profiler under its old name)
)
from tritongrad.autograd.anomaly_mode import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from tritongrad.autograd.engine import _is_checkpoint_valid, backward, grad  # noqa: F401
from tritongrad.autograd.function import Function, FunctionCtx
from tritongrad.autograd.grad_mode import (  # noqa: F401
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    is_multithreading_enabled,
    no_grad,
    set_grad_enabled,
)
from tritongrad.autograd.gradcheck import gradcheck, gradgradcheck  # noqa: F401
from tritongrad.autograd.variable import Variable

__all__ = ["backward", "grad", "Function", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "gradcheck", "gradgradcheck", "inference_mode", "FunctionCtx", "Variable", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
           "is_multithreading_enabled"]  # fmt: skip
