"""torch.nn.utils.weight_norm / remove_weight_norm: the classic hook-based weight normalization
(Salimans & Kingma 2016), ``w = g * v / ||v||`` with the norm over every dim but ``dim``.

The parameter ``name`` is replaced by ``name_g`` (the magnitude) and ``name_v`` (the direction);
a forward pre-hook recomputes ``name`` from them before every forward, so gradients reach g and v
through tritongrad's ops. torch deprecates this form in favour of
``torch.nn.utils.parametrizations.weight_norm`` (nn/utils/parametrizations.py, on this file's math)
and warns with a FutureWarning; so does this one.
"""

from __future__ import annotations

import warnings

from tritongrad.nn.module import Module
from tritongrad.nn.modules.lazy import UninitializedParameter
from tritongrad.nn.parameter import Parameter
from tritongrad.tensor import Tensor

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm", "norm_except_dim"]


def norm_except_dim(v, pow: float = 2, dim: int = 0):
    """The ``pow``-norm of ``v`` over every dim but ``dim``, kept as size-1 dims (torch.norm_except_dim);
    ``dim=-1`` is the norm of the whole tensor (a 0-d tensor)."""
    if not isinstance(v, Tensor):
        raise TypeError(f"norm_except_dim(): argument 'v' (position 1) must be Tensor, not {type(v).__name__}")
    if dim == -1:
        return v.norm(pow)
    ndim = v.dim()
    if not -ndim <= dim < ndim:  # (torch's transpose(0, dim) refuses it)
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    dim = dim % ndim
    others = [d for d in range(v.dim()) if d != dim]
    return v.norm(pow, dim=others, keepdim=True) if others else v.abs()


def _weight_norm(v, g, dim: int):
    """torch._weight_norm: v * (g / ||v||), the norm over every dim but ``dim``."""
    return v * (g / norm_except_dim(v, 2, dim))


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    name: str
    dim: int

    def __init__(self, name: str, dim: int) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module):
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"), self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int) -> WeightNorm:
        warnings.warn(
            "`torch.nn.utils.weight_norm` is deprecated in favor of `torch.nn.utils.parametrizations.weight_norm`.",
            FutureWarning,
            stacklevel=3,
        )
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):
            raise ValueError(
                "The module passed to `WeightNorm` can't have uninitialized parameters. Make sure to run the dummy "
                "forward before applying weight normalization"
            )
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, fn.dim).data))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Splits ``module.<name>`` into ``<name>_g`` (the norms, kept dims) and ``<name>_v`` and
    recomputes it before every forward; ``dim=None`` normalizes the whole tensor.

    >>> m = weight_norm(tritongrad.nn.Linear(20, 40))
    >>> m.weight_g.shape, m.weight_v.shape
    (tritongrad.Size([40, 1]), tritongrad.Size([40, 20]))
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undoes ``weight_norm``: ``module.<name>`` becomes a plain Parameter with the current weight."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
