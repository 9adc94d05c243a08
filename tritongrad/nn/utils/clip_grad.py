"""Gradient clipping as torch.nn.utils has it: multi-tensor kernels, no read back to the host.

``clip_grad_norm_`` is ``get_total_norm`` then ``clip_grads_with_norm_``, as in torch:

- the total norm is one partials launch per (device, dtype) group of gradients (every chunk of
  every gradient reduced once) and one finishing launch that combines the partials into a 0-d
  tensor on the device;
- the gradients are then scaled in place by ``min(max_norm / (total + 1e-6), 1)``, one launch
  per group, each program computing that coefficient from the total on the device.

So a training step that clips launches the same few kernels whatever the number of parameters,
and never waits for the GPU (torch's default behaves the same way). Only
``error_if_nonfinite=True`` reads the total back, as torch does, to raise. ``clip_grad_value_``
is one clamp launch per group. ``foreach`` is accepted for torch's signature: every path here is
the multi-tensor one.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

import torch

from tritongrad.autograd import no_grad
from tritongrad.dtypes import promote_types
from tritongrad.kernels.optim import launch_clamp_, launch_clip_by_total_norm_, launch_total_norm
from tritongrad.kernels.strided import is_non_overlapping_and_dense
from tritongrad.ops import stack
from tritongrad.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]


def _as_list(tensors) -> list[Tensor]:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _gradients(parameters) -> list[Tensor]:
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def _dense_buffers(tensors: list[Tensor]) -> tuple[list[torch.Tensor], list[tuple[Tensor, Tensor]]]:
    """The kernels' buffers for ``tensors``, and (tensor, dense copy) pairs to write back.

    A table entry is one dense range of memory, so a gradient that is a strided view (rare:
    autograd makes dense gradients) goes through a dense copy.
    """
    buffers, copies = [], []
    for tensor in tensors:
        if tensor.numel() <= 1 or is_non_overlapping_and_dense(tensor._data):
            buffers.append(tensor._data)
        else:
            dense = tensor.contiguous()
            copies.append((tensor, dense))
            buffers.append(dense._data)
    return buffers, copies


def _write_back(copies: list[tuple[Tensor, Tensor]], tensors: list[Tensor]) -> None:
    for tensor, dense in copies:
        tensor.copy_(dense)
    for tensor in tensors:
        tensor._version_counter.bump()


def get_total_norm(tensors: Iterable[Tensor] | Tensor, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:  # fmt: skip
    """The ``norm_type``-norm of all ``tensors`` together (as if concatenated into one vector), as a
    0-d tensor on the first tensor's device, in the promoted dtype of them all.

    ``norm_type`` may be ``inf``/``-inf`` or any float (0: torch's count of the tensors that have a
    non-zero element). Example::

        >>> total = tritongrad.nn.utils.get_total_norm([p.grad for p in model.parameters()])
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._wrap(torch.tensor(0.0))
    with no_grad():
        # torch's dtype: vector_norm of the stacked per-tensor norms, i.e. the promoted dtype.
        dtype = functools.reduce(promote_types, [t.dtype for t in tensors])
        if norm_type == 0:
            # torch's order-0 norm of the per-tensor order-0 norms (their counts of non-zero
            # elements): how many tensors have a non-zero element.
            total = stack([(t != 0).any() for t in tensors]).sum().to(dtype)
        else:
            buffers, _ = _dense_buffers(tensors)
            total = Tensor._wrap(launch_total_norm(buffers, norm_type, dtype=dtype))
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return total


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor, foreach=None) -> None:
    """Scales the gradients of ``parameters`` in place by ``min(max_norm / (total_norm + 1e-6), 1)``.

    ``total_norm``: a 0-d tensor, e.g. ``get_total_norm``'s result. Example::

        >>> clip_grads_with_norm_(model.parameters(), 1.0, get_total_norm(grads))
    """
    if not isinstance(total_norm, Tensor):
        raise TypeError(f"clip_grads_with_norm_: total_norm must be a Tensor, got {type(total_norm).__name__}")
    grads = _gradients(parameters)
    if not grads:
        return
    with no_grad():
        buffers, copies = _dense_buffers(grads)
        launch_clip_by_total_norm_(buffers, float(max_norm), total_norm._data)
        _write_back(copies, grads)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:  # fmt: skip
    """Scales the gradients of ``parameters`` in place so that their total norm is at most ``max_norm``;
    returns the total norm before clipping (a 0-d tensor). Example::

        >>> loss.backward()
        >>> tritongrad.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> optimizer.step()
    """
    parameters = _as_list(parameters)
    grads = _gradients(parameters)
    if not grads:
        return Tensor._wrap(torch.tensor(0.0))
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamps every gradient of ``parameters`` into ``[-clip_value, clip_value]`` in place. Example::

    >>> tritongrad.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
    """
    clip_value = float(clip_value)
    grads = _gradients(parameters)
    if not grads:
        return
    with no_grad():
        buffers, copies = _dense_buffers(grads)
        launch_clamp_(buffers, -clip_value, clip_value)
        _write_back(copies, grads)
