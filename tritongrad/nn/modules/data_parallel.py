"""nn.DataParallel on one device: a wrapper that calls its module.

torch's DataParallel splits each batch over ``device_ids``, replicates the module on every device
and gathers the outputs on ``output_device``. tritongrad runs on one chip, so here the wrapper keeps
torch's interface and what scripts rely on (``.module``, state_dict keys prefixed ``module.``,
torch's checks that the module sits on ``device_ids[0]``) and runs the module once on the whole
batch: inputs go to ``device_ids[0]``, outputs to ``output_device``. Asking for more than one device
runs on the first one, with a warning saying so.
"""

from __future__ import annotations

import torch

from tritongrad import caller_warnings, runtime
from tritongrad.nn.module import Module
from tritongrad.tensor import Tensor

__all__ = ["DataParallel"]


def _device(value) -> torch.device:
    if isinstance(value, torch.device):
        return value
    if isinstance(value, int):
        return torch.device("cuda", value)
    return torch.device(value)


def _to(value, device: torch.device):
    """Tensors in (nested tuples, lists and dicts of) ``value`` moved to ``device``."""
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, (tuple, list)):
        moved = [_to(v, device) for v in value]
        return type(value)(moved) if not hasattr(value, "_fields") else type(value)(*moved)
    if isinstance(value, dict):
        return type(value)((k, _to(v, device)) for k, v in value.items())
    return value


class DataParallel(Module):
    """Wraps ``module`` as torch.nn.DataParallel does, on a single device (see the module docstring).

    Example::

        >>> model = nn.DataParallel(nn.Linear(3, 2))
        >>> model(tritongrad.randn(4, 3)).shape, list(model.state_dict())
        (torch.Size([4, 2]), ['module.weight', 'module.bias'])
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.dim = dim
        if runtime.device_type() != "cuda":  # (torch: no GPU, no devices; forward just calls the module)
            self.device_ids, self.output_device, self.src_device_obj = [], None, None
            return
        if device_ids is None:
            device_ids = list(range(torch.cuda.device_count()))
        self.device_ids = [_device(d).index if _device(d).index is not None else 0 for d in device_ids]
        if not self.device_ids:
            self.output_device, self.src_device_obj = None, None
            return
        if output_device is None:
            output_device = self.device_ids[0]
        self.output_device = _device(output_device)
        self.src_device_obj = torch.device("cuda", self.device_ids[0])
        if len(set(self.device_ids)) > 1:
            caller_warnings.warn(
                f"tritongrad's DataParallel runs the module on one device: device_ids={self.device_ids} asked for "
                f"{len(set(self.device_ids))}, it uses {self.src_device_obj} alone",
                UserWarning,
            )

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for tensor in (*self.module.parameters(), *self.module.buffers()):
            if tensor.device != self.src_device_obj:
                raise RuntimeError(
                    f"module must have its parameters and buffers on device {self.src_device_obj} (device_ids[0]) "
                    f"but found one of them on device: {tensor.device}"
                )
        outputs = self.module(*_to(inputs, self.src_device_obj), **_to(kwargs, self.src_device_obj))
        return _to(outputs, self.output_device)
