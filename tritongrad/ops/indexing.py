"""Indexing with tensors (gather along dim 0) and joining (cat), with their backwards."""

from __future__ import annotations

import torch

from tritongrad.autograd.function import Function
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels import indexing as kernels
from tritongrad.ops.views import normalize_dim


def _wrap(data):
    from tritongrad.tensor import Tensor

    return Tensor._wrap(data)


class IndexRows(Function):
    """x[indices] for an integer tensor of any shape: rows of x gathered along dim 0."""

    _backward_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, indices):
        flat_indices = indices.contiguous()._data.view(-1)
        ctx.save_for_backward(indices)
        ctx.rows, ctx.dtype, ctx.row_shape = x.shape[0], x.dtype, tuple(x.shape[1:])
        source = x.contiguous()
        rows = kernels.launch_gather_rows(source._data, flat_indices)
        return _wrap(rows.view(tuple(indices.shape) + ctx.row_shape))

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        # Atomic adds accumulate in float32/float64 whatever the gradient's dtype.
        wide = grad.to(torch.float64 if grad.dtype == torch.float64 else torch.float32).contiguous()
        grad_rows = wide._data.view((indices.numel(),) + ctx.row_shape)
        flat_indices = indices.contiguous()._data.view(-1)
        grad_x = _wrap(kernels.launch_scatter_add_rows(grad_rows, flat_indices, ctx.rows))
        return grad_x.to(ctx.dtype), None


def index_select_by_tensor(x, key):
    """x[key] for an integer tensor (any shape) or a bool mask over x's leading dims."""
    from tritongrad import creation

    if x.dim() == 0:
        raise IndexError("tensor indexing of a 0-d tensor is not supported")
    if key.dtype == torch.bool:
        if tuple(key.shape) != tuple(x.shape[: key.dim()]):
            raise IndexError(
                f"The shape of the mask {list(key.shape)} at index 0 does not match the shape of the indexed "
                f"tensor {list(x.shape)} at index 0"
            )
        positions = [i for i, keep in enumerate(key.reshape(-1).tolist()) if keep]
        flat = x.reshape((-1,) + tuple(x.shape[key.dim() :]))
        indices = creation.tensor(positions, dtype=torch.int64, device=x.device)
        return IndexRows.apply(flat, indices)
    if key.dim() == 0 and key.dtype in (torch.int64, torch.int32):
        return x[int(key.item())]  # a 0-dim integer tensor indexes like an int (a view), as in torch
    return IndexRows.apply(x, key)


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim = dim
        ctx.sizes = [t.shape[dim] for t in tensors]
        shape = list(tensors[0].shape)
        shape[dim] = sum(ctx.sizes)
        out = torch.empty(shape, dtype=tensors[0].dtype, device=tensors[0].device)
        start = 0
        for tensor, size in zip(tensors, ctx.sizes):
            if size:
                elementwise_kernels.launch_unary("copy", tensor._data, out=out.narrow(dim, start, size))
            start += size
        return _wrap(out)

    @staticmethod
    def backward(ctx, grad):
        return (None,) + grad.split(ctx.sizes, ctx.dim)


class Stack(Cat):
    """cat of tensors unsqueezed at ``dim`` (their views cost nothing), named like torch's stack."""

    _backward_name = "StackBackward0"


def cat(tensors, dim: int = 0, *, stacking: bool = False):
    """Concatenates along ``dim``; tensors must agree in the other dims (empty 1-D tensors are skipped)."""
    from tritongrad.dtypes import result_type

    tensors = [t for t in tensors if not (t.dim() == 1 and t.shape[0] == 0)] or list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    reference = tensors[0]
    dim = normalize_dim(dim, reference.dim())
    for index, tensor in enumerate(tensors):
        if tensor.dim() != reference.dim():
            raise RuntimeError(f"Tensors must have same number of dimensions: got {reference.dim()} and {tensor.dim()}")
        for d in range(reference.dim()):
            if d != dim and tensor.shape[d] != reference.shape[d]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{reference.shape[d]} but got size {tensor.shape[d]} for tensor number {index} "
                    "in the list."
                )
    dtype = result_type(*tensors)
    return (Stack if stacking else Cat).apply(dim, *[t.to(dtype) for t in tensors])
