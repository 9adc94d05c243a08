"""torch's ``*_copy`` functions (view_copy, permute_copy, ..., unbind_copy): the view op followed by a
contiguous copy, as torch defines them, and torch.as_strided_scatter.

A copy's graph node is one node named as torch names it (``ViewBackward0_copy``); its gradient is the
view op's own, obtained by running the view again on an alias of the input inside backward and
differentiating that (so it is the same formula, differentiable again under ``create_graph``).
detach_copy records torch's ``NotImplemented`` node, whose backward raises torch's error.
``out=`` must have the result's dtype (resized as torch resizes it) and must not require grad;
split_copy / unbind_copy take a list of them.

as_strided_scatter(input, src, size, stride, storage_offset) is a copy of ``input`` (in a new storage at
input's strides and storage offset, torch's clone_preserve_strides) with ``src`` written into the strided
view of that copy. Its gradient differs from torch's on purpose: torch 2.13's AsStridedScatterBackward0
gives ``input`` the incoming gradient *at* the overwritten positions (and zeros elsewhere), the reverse
of the derivative; here ``input`` gets the gradient everywhere except the overwritten positions (``src``
gets those, as in torch). Like torch's, the backward reads the gradient as a row-major tensor.
"""

from __future__ import annotations

import torch

from tritongrad import creation
from tritongrad.autograd.engine import grad as _autograd_grad
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import enable_grad, is_grad_enabled
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.ops.complex import view_as_complex, view_as_real
from tritongrad.ops.out_argument import write_out
from tritongrad.ops.views import contiguous_copy
from tritongrad.tensor import Tensor

__all__ = [
    "view_copy", "permute_copy", "expand_copy", "t_copy", "unfold_copy", "alias_copy", "as_strided_copy",
    "detach_copy", "diagonal_copy", "select_copy", "slice_copy", "split_copy", "split_with_sizes_copy",
    "squeeze_copy", "unsqueeze_copy", "transpose_copy", "unbind_copy", "view_as_real_copy", "view_as_complex_copy",
    "as_strided_scatter",
]  # fmt: skip


class _ViewCopy(Function):
    """view(x, *arguments) copied contiguous; one subclass per op carries torch's node name."""

    @staticmethod
    def forward(ctx, x, view, arguments):
        ctx.source, ctx.view, ctx.arguments = x.detach(), view, arguments
        result = view(ctx.source, *arguments)
        if isinstance(result, (tuple, list)):
            ctx.multiple = True
            return tuple(contiguous_copy(part) for part in result)
        ctx.multiple = False
        return contiguous_copy(result)

    @staticmethod
    def backward(ctx, *grads):
        alias = ctx.source.detach().requires_grad_(True)  # (the input's geometry: as_strided reads it)
        with enable_grad():
            views = ctx.view(alias, *ctx.arguments)
        views = list(views) if ctx.multiple else [views]
        pairs = [(view, grad) for view, grad in zip(views, grads, strict=True) if grad is not None]
        if not pairs:
            return None, None, None
        (gradient,) = _autograd_grad(
            [view for view, _ in pairs],
            [alias],
            [grad for _, grad in pairs],
            create_graph=is_grad_enabled(),
            allow_unused=True,
        )
        return gradient, None, None


_NODES: dict[str, type[Function]] = {}


def _node(name: str) -> type[Function]:
    if name not in _NODES:
        _NODES[name] = type(name.replace("Backward0_copy", "Copy"), (_ViewCopy,), {"_backward_name": name})
    return _NODES[name]


def _check_out_grad(op: str, out) -> None:
    outs = out if isinstance(out, (tuple, list)) else [out]
    if is_grad_enabled() and any(isinstance(o, Tensor) and o.requires_grad for o in outs):
        raise RuntimeError(
            f"aten::{op}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad."
        )


def _copy_of(op: str, node: str, view, input, arguments: tuple, out):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if out is not None:
        _check_out_grad(op, out)
    if input.requires_grad and is_grad_enabled() and out is None:
        result = _node(node).apply(input, view, arguments)
    else:
        result = view(input.detach(), *arguments)
        result = (
            tuple(contiguous_copy(part) for part in result)
            if isinstance(result, (tuple, list))
            else contiguous_copy(result)
        )
    if out is None:
        return result
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise RuntimeError(f"{op}: expected out to be a list of {len(result)} tensors")
        for part, target in zip(result, out, strict=True):
            write_out(op, target, part, input, rule="exact", differentiable=False)
        return None
    return write_out(op, out, result, input, rule="exact", differentiable=False)


def _view(input, size):
    return input.view(size)


def view_copy(input, size, *, out=None):
    """input.view(size) (or a dtype) copied contiguous (torch.view_copy)."""
    return _copy_of("view_copy", "ViewBackward0_copy", _view, input, (size,), out)


def permute_copy(input, dims, *, out=None):
    """input.permute(dims) copied contiguous."""
    return _copy_of("permute_copy", "PermuteBackward0_copy", lambda x, d: x.permute(d), input, (tuple(dims),), out)


def expand_copy(input, size, *, implicit: bool = False, out=None):
    """input.expand(size) copied contiguous (``implicit`` changes nothing, as in torch)."""
    return _copy_of("expand_copy", "ExpandBackward0_copy", lambda x, s: x.expand(s), input, (tuple(size),), out)


def t_copy(input, *, out=None):
    """input.t() copied contiguous."""
    return _copy_of("t_copy", "TBackward0_copy", lambda x: x.t(), input, (), out)


def unfold_copy(input, dimension: int, size: int, step: int, *, out=None):
    """input.unfold(dimension, size, step) copied contiguous."""
    return _copy_of(
        "unfold_copy", "UnfoldBackward0_copy", lambda x, *a: x.unfold(*a), input, (dimension, size, step), out
    )


def alias_copy(input, *, out=None):
    """A contiguous copy of input (torch.alias_copy)."""
    return _copy_of("alias_copy", "AliasBackward0_copy", lambda x: x, input, (), out)


def as_strided_copy(input, size, stride, storage_offset=None, *, out=None):
    """input.as_strided(size, stride, storage_offset) copied contiguous."""
    return _copy_of(
        "as_strided_copy",
        "AsStridedBackward0_copy",
        lambda x, *a: x.as_strided(*a),
        input,
        (tuple(size), tuple(stride), storage_offset),
        out,
    )


class _DetachCopy(Function):
    """detach_copy's node when the input requires grad: torch records NotImplemented."""

    _backward_name = "torch::autograd::NotImplemented"

    @staticmethod
    def forward(ctx, x):
        return contiguous_copy(x)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::detach_copy is not implemented")


def detach_copy(input, *, out=None):
    """A contiguous copy of input; torch records a node whose backward raises."""
    if not isinstance(input, Tensor):
        raise TypeError(f"detach_copy(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if out is not None:
        _check_out_grad("detach_copy", out)
        return write_out("detach_copy", out, contiguous_copy(input), input, rule="exact", differentiable=False)
    if input.requires_grad and is_grad_enabled():
        return _DetachCopy.apply(input)
    return contiguous_copy(input)


def diagonal_copy(input, offset: int = 0, dim1: int = 0, dim2: int = 1, *, out=None):
    """input.diagonal(offset, dim1, dim2) copied contiguous."""
    return _copy_of(
        "diagonal_copy", "DiagonalBackward0_copy", lambda x, *a: x.diagonal(*a), input, (offset, dim1, dim2), out
    )


def select_copy(input, dim: int, index: int, *, out=None):
    """input.select(dim, index) copied contiguous."""
    return _copy_of("select_copy", "SelectBackward0_copy", lambda x, *a: x.select(*a), input, (dim, index), out)


def _slice(x, dim, start, end, step):
    dim = dim + x.ndim if dim < 0 else dim
    return x[(slice(None),) * dim + (slice(start, end, step),)]


def slice_copy(input, dim: int = 0, start=None, end=None, step: int = 1, *, out=None):
    """input[..., start:end:step, ...] along ``dim``, copied contiguous."""
    return _copy_of("slice_copy", "SliceBackward0_copy", _slice, input, (dim, start, end, step), out)


def split_copy(input, split_size: int, dim: int = 0, *, out=None):
    """input.split(split_size, dim), each part copied contiguous."""
    return _copy_of(
        "split_copy", "SplitBackward0_copy", lambda x, *a: x.split(*a), input, (split_size, dim), out
    )  # fmt: skip


def split_with_sizes_copy(input, split_sizes, dim: int = 0, *, out=None):
    """input.split(split_sizes, dim) for a list of sizes, each part copied contiguous."""
    return _copy_of(
        "split_with_sizes_copy",
        "SplitWithSizesBackward0_copy",
        lambda x, *a: x.split(*a),
        input,
        (list(split_sizes), dim),
        out,
    )


def squeeze_copy(input, dim=None, *, out=None):
    """input.squeeze(dim) (all size-1 dims when dim is None) copied contiguous."""
    if dim is None:
        return _copy_of("squeeze_copy", "SqueezeBackward0_copy", lambda x: x.squeeze(), input, (), out)
    dim = tuple(dim) if isinstance(dim, (tuple, list)) else dim
    node = "SqueezeBackward2_copy" if isinstance(dim, tuple) else "SqueezeBackward1_copy"
    return _copy_of("squeeze_copy", node, lambda x, d: x.squeeze(d), input, (dim,), out)


def unsqueeze_copy(input, dim: int, *, out=None):
    """input.unsqueeze(dim) copied contiguous."""
    return _copy_of("unsqueeze_copy", "UnsqueezeBackward0_copy", lambda x, d: x.unsqueeze(d), input, (dim,), out)


def transpose_copy(input, dim0: int, dim1: int, *, out=None):
    """input.transpose(dim0, dim1) copied contiguous."""
    return _copy_of(
        "transpose_copy", "TransposeBackward0_copy", lambda x, *a: x.transpose(*a), input, (dim0, dim1), out
    )


def unbind_copy(input, dim: int = 0, *, out=None):
    """input.unbind(dim), each slice copied contiguous."""
    return _copy_of("unbind_copy", "UnbindBackward0_copy", lambda x, d: x.unbind(d), input, (dim,), out)


def view_as_real_copy(input, *, out=None):
    """view_as_real(input) copied contiguous."""
    return _copy_of("view_as_real_copy", "ViewAsRealBackward0_copy", view_as_real, input, (), out)


def view_as_complex_copy(input, *, out=None):
    """view_as_complex(input) copied contiguous; torch does not differentiate it (a real input, a complex result)."""
    if isinstance(input, Tensor) and input.requires_grad and is_grad_enabled():
        raise RuntimeError(
            "view_as_complex_copy does not support automatic differentiation for outputs with complex dtype."
        )
    return _copy_of("view_as_complex_copy", "ViewAsComplexBackward0_copy", view_as_complex, input, (), out)


# ---------------------------------------------------------------------------------------------
# as_strided_scatter
# ---------------------------------------------------------------------------------------------


def _clone_preserving_strides(input: torch.Tensor) -> torch.Tensor:
    """input's copy in a new storage of its storage's size, at its strides and storage offset (torch's
    clone_preserve_strides, so that the scatter's offset and strides mean the same positions); an input
    whose elements share memory (a stride 0) is copied row-major instead, as torch's does."""
    if any(stride == 0 and size > 1 for size, stride in zip(input.shape, input.stride())):
        result = torch.empty(input.shape, dtype=input.dtype, device=input.device)
    else:
        elements = input.untyped_storage().nbytes() // input.element_size()
        storage = torch.empty((elements,), dtype=input.dtype, device=input.device)
        result = storage.as_strided(input.shape, input.stride(), input.storage_offset())
    elementwise_kernels.launch_unary("copy", input, out=result)
    return result


def _scatter(input: torch.Tensor, src: torch.Tensor, size, stride, storage_offset) -> torch.Tensor:
    """input's copy with src written into its as_strided(size, stride, storage_offset) view."""
    result = _clone_preserving_strides(input)
    view = result.as_strided(size, stride, storage_offset)  # (torch's own bounds check and message)
    if tuple(src.shape) != tuple(view.shape):
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
            f"slice size = {list(view.shape)}"
        )
    if view.numel():
        elementwise_kernels.launch_unary("copy", src, out=view)
    return result


class AsStridedScatter(Function):
    _backward_name = "AsStridedScatterBackward0"

    @staticmethod
    def forward(ctx, input, src, size, stride, storage_offset):
        ctx.geometry = (size, stride, storage_offset)
        ctx.src_dtype = src.dtype
        return Tensor._wrap(_scatter(input._data, src._data, size, stride, storage_offset))

    @staticmethod
    def backward(ctx, grad):
        size, stride, storage_offset = ctx.geometry
        # (torch assumes a contiguous input here too: the gradient is read in row-major order)
        dense = grad.contiguous()
        zeros = creation.zeros(tuple(size), dtype=grad.dtype, device=grad.device)
        grad_input = as_strided_scatter(dense, zeros, size, stride, storage_offset)
        grad_src = dense.as_strided(size, stride, storage_offset).contiguous().to(ctx.src_dtype)
        return grad_input, grad_src, None, None, None


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of input with src written at input.as_strided(size, stride, storage_offset)'s positions."""
    for position, (name, value) in enumerate((("input", input), ("src", src)), start=1):
        if not isinstance(value, Tensor):
            raise TypeError(
                f"as_strided_scatter(): argument '{name}' (position {position}) must be Tensor, "
                f"not {type(value).__name__}"
            )
    size, stride = tuple(size), tuple(stride)
    if (input.requires_grad or src.requires_grad) and is_grad_enabled():
        return AsStridedScatter.apply(input, src, size, stride, storage_offset)
    return Tensor._wrap(_scatter(input._data, src._data, size, stride, storage_offset))
