"""F.embedding: rows of a weight table picked by integer indices, and its gradient.

The forward is a gather through ``kernels.indexing`` (index offsets, then a row copy); the
backward is ``kernels.embedding``'s deterministic per-tile sum over the indices (no atomics, so
a repeated index's gradient is bit-identical from run to run). Under ``create_graph=True`` that
sum is itself a recorded node (EmbeddingDenseBackward), whose own gradient is the gather again:
gradients of any order.
"""

from __future__ import annotations

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled, no_grad
from tritongrad.dtypes import dtype_word
from tritongrad.kernels import embedding as embedding_kernels
from tritongrad.kernels import histogram as histogram_kernels
from tritongrad.kernels import indexing as indexing_kernels
from tritongrad.kernels.device_checks import check_on_device
from tritongrad.kernels.elementwise import launch_unary
from tritongrad.tensor import Tensor

__all__ = ["embedding", "check_bags", "check_bag_weight"]


def _flattenable(data: torch.Tensor, dims: int) -> torch.Tensor:
    """``data`` if its first ``dims`` dims merge into one as a view, else a dense copy (a copy kernel)."""
    try:
        data.view(-1, *data.shape[dims:])
        return data
    except RuntimeError:
        return launch_unary("copy", data, out=torch.empty(tuple(data.shape), dtype=data.dtype, device=data.device))


def _gather_rows(weight: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """weight[indices] as a new contiguous (*indices.shape, D) tensor; IndexError for indices outside
    [0, V), checked on the device (kernels/device_checks.py: no host sync on a GPU)."""
    offsets, _ = indexing_kernels.launch_index_offsets(
        [indices], [weight.shape[0]], [weight.stride(0)], wrap=False,
        on_bad=lambda k, value: IndexError("index out of range in self"),
    )  # fmt: skip
    shape = (*indices.shape, weight.shape[1])
    offsets_strides = (*indexing_kernels.contiguous_strides(indices.shape), 0)
    src_strides = (0,) * indices.dim() + (weight.stride(1),)
    return indexing_kernels.launch_gather(weight, src_strides, offsets, offsets_strides, shape)


class Embedding(Function):
    """``weight[input]`` with torch's embedding gradient (padding row and optional frequency scaling)."""

    _backward_name = "EmbeddingBackward0"
    _tensor_options = (0,)  # the indices

    @staticmethod
    def forward(ctx, input, weight, padding_idx, scale_grad_by_freq):
        ctx.save_for_backward(input)
        ctx.num_weights = weight.shape[0]
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return Tensor._wrap(_gather_rows(weight._data, input._data))

    @staticmethod
    def backward(ctx, grad):
        (input,) = ctx.saved_tensors
        options = (ctx.num_weights, ctx.padding_idx, ctx.scale_grad_by_freq)
        if is_grad_enabled():  # create_graph=True: the sum recorded, so that it is differentiated too
            return None, EmbeddingDenseBackward.apply(grad, input, options), None, None
        return None, Tensor._wrap(_embedding_backward(grad, input, options)), None, None


def _embedding_backward(grad: Tensor, input: Tensor, options: tuple) -> torch.Tensor:
    """The (V, D) weight gradient: grad's rows summed per index (the padding row zero, each row
    divided by its index's count with scale_grad_by_freq)."""
    num_weights, padding_idx, scale_grad_by_freq = options
    return embedding_kernels.launch_embedding_backward(
        _flattenable(grad._data, input.dim()),
        _flattenable(input._data, input.dim()),
        num_weights,
        padding_idx=padding_idx,
        scale_grad_by_freq=scale_grad_by_freq,
    )


class EmbeddingDenseBackward(Function):
    """The embedding's weight gradient as a node (recorded under create_graph=True).

    It is linear in ``grad``: W = S·P·Gᵀ·grad, with Gᵀ the sum of rows per index, P zeroing the
    padding row and S dividing by the counts; its own gradient is the adjoint G·P·S: each index's
    row of the incoming (V, D) gradient (Embedding again, so differentiable in turn), times that
    index's factor (0 at the padding index, 1 / count with scale_grad_by_freq).

    Deliberately unlike torch with ``scale_grad_by_freq``: torch's double backward
    (embedding_dense_double_backward) leaves out the 1 / count, so it is not the derivative of its
    own first gradient; this node's is (gradcheck holds for it).
    """

    _backward_name = "EmbeddingDenseBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, input, options):
        ctx.save_for_backward(input)
        ctx.options = options
        return Tensor._wrap(_embedding_backward(grad, input, options))

    @staticmethod
    def backward(ctx, grad_weight):
        (input,) = ctx.saved_tensors
        num_weights, padding_idx, scale_grad_by_freq = ctx.options
        rows = Embedding.apply(input, grad_weight, -1, False)
        if padding_idx < 0 and not scale_grad_by_freq:
            return rows, None, None
        factor = creation.ones(tuple(input.shape), dtype=rows.dtype, device=rows.device)
        if scale_grad_by_freq:
            counts = histogram_kernels.launch_bincount(_flattenable(input._data, input.dim()).view(-1), num_weights)
            factor = factor / Tensor._wrap(_gather_rows(counts.view(num_weights, 1), input._data)).squeeze(-1)
        if padding_idx >= 0:
            factor = factor.masked_fill(input == padding_idx, 0.0)
        return rows * factor.unsqueeze(-1), None, None


# The dtypes with a legacy tensor type name (torch.LongTensor); torch's checkScalarTypes calls the others
# CPUBoolType, CUDAComplexFloatType, ...
_LEGACY_TYPE_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.float16, torch.float32,
                       torch.float64, torch.bfloat16)  # fmt: skip


def check_bag_weight(weight: Tensor) -> None:
    """torch's embedding_bag refusal of a table that is not of a floating dtype (its kernels sum,
    average or compare rows in the table's dtype)."""
    if weight.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        return
    raise RuntimeError(
        "Expected tensor for argument #1 'weight' to have one of the following scalar types: Half, BFloat16, Float, "
        f"Double; but got {_checked_type_name(weight)} instead (while checking arguments for embedding_bag)"
    )


def _checked_type_name(tensor: Tensor) -> str:
    """How torch's checkScalarTypes names a tensor's type: ``torch.FloatTensor``, or ``CPUComplexFloatType``
    for a dtype without a legacy tensor type."""
    word, cuda = dtype_word(tensor.dtype), tensor.device.type == "cuda"
    if tensor.dtype in _LEGACY_TYPE_DTYPES:
        return f"torch.cuda.{word}Tensor" if cuda else f"torch.{word}Tensor"
    return f"{'CUDA' if cuda else 'CPU'}{word}Type"


def check_bags(indices: Tensor, offsets: Tensor, num_weights: int) -> None:
    """torch's embedding_bag checks of the values in ``offsets`` (B >= 1) and the 1-D ``indices``,
    made on the device (kernels/device_checks.py): offsets start at 0, never pass the input's end,
    never decrease (torch's CPU kernels only trip over that in some paths, with an assertion
    message), and every index names a row of the table. RuntimeError, as torch's."""
    n = indices.shape[0]

    def check(values: list[int]) -> None:
        found = dict(zip(embedding_kernels.BAG_CHECK_FIELDS, values))
        if found["first_offset"] != 0:
            raise RuntimeError(
                "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. "
                f"However, got {found['first_offset']}"
            )
        if found["last_offset"] > n:
            raise RuntimeError(
                f"offsets[-1] can not be greater than input's length {n} but got offsets[-1] of {found['last_offset']}"
            )
        if found["decreasing_at"] < offsets.shape[0]:
            at = found["decreasing_at"]
            raise RuntimeError(
                f"embedding_bag: offsets must be non-decreasing, but offsets[{at}] = {found['offset_there']} is less "
                f"than offsets[{at - 1}] = {found['offset_before']}"
            )
        if found["bad_index_at"] < n:
            raise RuntimeError(
                f"Index {found['bad_index_at']} of input takes value {found['bad_index']} which is not in the valid "
                f"range [0, {num_weights})"
            )

    check_on_device(embedding_kernels.launch_bag_check(indices._data, offsets._data, num_weights), check)


def renormalize_rows(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """torch's embedding_renorm_: the rows ``input`` names, each scaled by max_norm / (norm + 1e-7)
    where its norm exceeds max_norm, written into ``weight`` in place, outside the graph."""
    with no_grad():
        rows = input.flatten().unique()
        selected = weight[rows]
        norms = selected.norm(p=norm_type, dim=1, keepdim=True)
        scale = (max_norm / (norms + 1e-7)).where(norms > max_norm, 1.0)
        weight[rows] = selected * scale


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """torch.nn.functional.embedding: ``weight[input]``.

    Args:
        input: integer indices (int64 or int32) of any shape, each in [0, V).
        weight: (V, D) table.
        padding_idx: that row (negative counts from the end) gets no gradient.
        max_norm, norm_type: each looked-up row whose norm exceeds max_norm is scaled down to it,
            in place in ``weight`` (not recorded, as torch's); norm_type alone is ignored.
        scale_grad_by_freq: divide each row's gradient by its index's count in ``input``.
        sparse: sparse gradients are not supported (NotImplementedError).

    Returns:
        (*input.shape, D), weight's dtype.

    Example::

        >>> w = tritongrad.randn(10, 3, requires_grad=True)
        >>> F.embedding(tritongrad.tensor([[1, 2], [4, 1]]), w).shape
        torch.Size([2, 2, 3])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"embedding(): argument 'indices' (position 2) must be Tensor, not {type(input).__name__}")
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    if weight.shape[0] == 0 and input.numel():  # (torch's lookup is an index_select of the rows)
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    if input.dtype not in embedding_kernels.INDEX_DTYPES:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
            f"but got {_checked_type_name(input)} instead (while checking arguments for embedding)"
        )
    if input.device != weight.device:
        raise RuntimeError(f"embedding: indices on {input.device} and weight on {weight.device}")
    if max_norm is not None:
        renormalize_rows(weight, input, float(max_norm), float(norm_type))
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported; use sparse=False")
    if padding_idx is not None:
        if not -weight.shape[0] <= padding_idx < weight.shape[0]:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % weight.shape[0]
    else:
        padding_idx = -1
    return Embedding.apply(input, weight, padding_idx, bool(scale_grad_by_freq))
