"""tritongrad.nn: Module, Parameter, layers, losses, ``functional`` and ``init``, shaped like torch.nn."""

from tritongrad.nn import attention, functional, grad, init, parallel, utils
from tritongrad.nn.module import Module
from tritongrad.nn.modules import *  # noqa: F403
from tritongrad.nn.modules import __all__ as _modules_all
from tritongrad.nn.parameter import Buffer, Parameter

__all__ = [
    "Module", "Parameter", "Buffer", "attention", "functional", "grad", "init", "parallel", "utils", *_modules_all
]  # fmt: skip
