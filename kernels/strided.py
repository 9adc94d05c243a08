"""N-d strided addressing shared by the elementwise, copy and creation kernels.

Elementwise kernels read every operand in place, whatever its layout: a
transposed view, a slice with a step, or a broadcast operand whose expanded
dims have stride 0. The host side turns the operands into one iteration space:

1. broadcast the shapes (torch's rule and error message);
2. give every operand a stride per output dim (0 where it is broadcast);
3. coalesce: drop size-1 dims and merge neighbouring dims that are contiguous
   with each other in *every* operand, so a contiguous tensor is rank 1 and a
   row-broadcast matrix is rank 2.

In the kernel, ``strided_offset`` turns a linear index into an operand's
element offset with one div/mod per remaining dim. The div/mod chain is the
same for all operands of a launch, so the compiler computes it once; with
rank 1 and unit strides it vanishes and loads become contiguous vectors.

Ranks above MAX_RANK after coalescing (rare: six or more non-mergeable dims) are
handled by the caller looping over the leading dim (``split_leading_dim``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
import triton
import triton.language as tl

MAX_RANK = 6


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    """Broadcast shapes like torch; raises RuntimeError with torch's message when they don't."""
    result: tuple[int, ...] = ()
    for shape in shapes:
        result = _broadcast_pair(result, tuple(shape))
    return result


def _broadcast_pair(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    ndim = max(len(a), len(b))
    a = (1,) * (ndim - len(a)) + a
    b = (1,) * (ndim - len(b)) + b
    # (torch's infer_size walks from the last dim, so its error names the last mismatching one)
    for d in range(ndim - 1, -1, -1):
        if a[d] != b[d] and a[d] != 1 and b[d] != 1:
            raise RuntimeError(
                f"The size of tensor a ({a[d]}) must match the size of tensor b ({b[d]}) at non-singleton dimension {d}"
            )
    return tuple(size_b if size_a == 1 else size_a for size_a, size_b in zip(a, b))


def contiguous_strides(shape: Sequence[int]) -> list[int]:
    """Row-major strides of a dense tensor of ``shape``."""
    strides, step = [], 1
    for size in reversed(tuple(shape)):
        strides.append(step)
        step *= max(size, 1)
    return strides[::-1]


def broadcast_strides(tensor: torch.Tensor, shape: Sequence[int]) -> list[int]:
    """The strides of ``tensor`` viewed as broadcast to ``shape`` (0 on broadcast dims)."""
    offset = len(shape) - tensor.dim()
    strides = [0] * offset
    for size, stride, target in zip(tensor.shape, tensor.stride(), shape[offset:]):
        strides.append(stride if size == target and size != 1 else 0)
    return strides


def coalesce(shape: Sequence[int], strides: Sequence[Sequence[int]]) -> tuple[list[int], list[list[int]]]:
    """Drops size-1 dims and merges dims contiguous with each other in every operand.

    Returns (shape, strides per operand), both at least rank 1.
    """
    kept = [d for d, size in enumerate(shape) if size != 1]
    new_shape: list[int] = []
    new_strides: list[list[int]] = [[] for _ in strides]
    for d in kept:
        size = shape[d]
        if new_shape and all(s[-1] == op[d] * size for s, op in zip(new_strides, strides)):
            new_shape[-1] *= size
            for s, op in zip(new_strides, strides):
                s[-1] = op[d]
            continue
        new_shape.append(size)
        for s, op in zip(new_strides, strides):
            s.append(op[d])
    if not new_shape:
        return [1], [[0] for _ in strides]
    return new_shape, new_strides


def elementwise_output_strides(shape: Sequence[int], inputs: Sequence[torch.Tensor]) -> tuple[int, ...] | None:
    """The strides torch gives a new elementwise result of ``shape`` computed from ``inputs``, or
    None when it is contiguous.

    torch's TensorIterator keeps its operands' layout: inputs of one shape and one dense layout
    (a transposed or channels-last tensor) give a result laid out the same way; otherwise the
    dims are ordered by the inputs' strides (the first input with an opinion decides, broadcast
    dims have none, equal strides put the smaller dim first) and the result is contiguous in
    that order. So ``x.t() + 1`` is transposed like ``x.t()``, and ``.view`` on it fails as in torch.
    """
    ndim = len(shape)
    if ndim < 2 or not inputs:
        return None
    if all(tuple(t.shape) == tuple(shape) for t in inputs):
        if all(t.is_contiguous() for t in inputs):
            return None
        if ndim == 4 and all(t.is_contiguous(memory_format=torch.channels_last) for t in inputs):
            n, c, h, w = shape
            return (h * w * c, 1, w * c, c)
        first = tuple(inputs[0].stride())
        if all(is_non_overlapping_and_dense(t) and tuple(t.stride()) == first for t in inputs):
            return first
    # TensorIterator's per-operand strides: 0 where a size-1 dim is broadcast, the tensor's own
    # stride on a dim of size 1 everywhere (unlike broadcast_strides: it matters for the order)
    strides = []
    for t in inputs:
        offset = ndim - t.dim()
        own = [
            0 if size == 1 and target != 1 else stride
            for size, stride, target in zip(t.shape, t.stride(), shape[offset:])
        ]
        strides.append([0] * offset + own)

    def should_swap(dim0: int, dim1: int) -> int:
        for operand in strides:
            stride0, stride1 = operand[dim0], operand[dim1]
            if stride0 == 0 or stride1 == 0:
                continue
            if stride0 != stride1:
                return 1 if stride0 > stride1 else -1
            if shape[dim0] > shape[dim1]:
                return 1
        return 0

    # perm[0] is the fastest-moving dim; an insertion sort that leaves ambiguous pairs in place
    perm = list(range(ndim - 1, -1, -1))
    for i in range(1, ndim):
        dim1 = i
        for dim0 in range(i - 1, -1, -1):
            comparison = should_swap(perm[dim0], perm[dim1])
            if comparison > 0:
                perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
                dim1 = dim0
            elif comparison < 0:
                break
    if perm == list(range(ndim - 1, -1, -1)):
        return None
    result = [0] * ndim
    next_stride = 1
    for dim in perm:
        result[dim] = next_stride
        next_stride *= shape[dim]
    return tuple(result)


def has_internal_overlap(tensor: torch.Tensor) -> bool:
    """True if two elements of ``tensor`` share memory (a zero stride on a dim of size > 1). A tensor
    without elements has none to share (``zeros(0).expand(3, 0)``): writing it, cloning it, filling it
    are no-ops that torch accepts without a word."""
    if tensor.numel() == 0:
        return False
    return any(stride == 0 and size > 1 for size, stride in zip(tensor.shape, tensor.stride()))


def check_writable(tensor: torch.Tensor) -> None:
    """In-place writes into an expanded view would race; torch refuses them, so do we."""
    if has_internal_overlap(tensor):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location. Please clone() the tensor before performing the operation."
        )


def is_non_overlapping_and_dense(tensor: torch.Tensor) -> bool:
    """True if ``tensor``'s elements fill a gap-free block of memory, each exactly once (torch's
    notion: some permutation of its dims is contiguous)."""
    expected = 1
    for stride, size in sorted((stride, size) for size, stride in zip(tensor.shape, tensor.stride()) if size != 1):
        if stride != expected:
            return False
        expected *= size
    return True


_OVERLAP_MESSAGE = (
    "unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
    "single memory location. Please clone() the tensor before performing the operation."
)


def check_no_partial_overlap(out: torch.Tensor, *inputs: torch.Tensor | None, alias: bool = True) -> None:
    """torch's rule for writing ``out`` while reading ``inputs``: an input may be ``out`` itself (same
    memory, same strides) or memory disjoint from it, but not a part of it (``x[1:].add_(x[:-1])``:
    the result would depend on the order in which blocks run). With ``alias=False`` (torch's rule for
    the gathers: take, index_select, masked_select, the values of max(dim)/topk/...) ``out`` may not
    be an input either. As in torch, tensors that are not dense and free of internal overlap are not
    checked (too hard to decide cheaply)."""
    check = overlap_check(out, inputs, alias=alias)
    if check is not None:
        check(out, *inputs)


def overlap_check(out: torch.Tensor, inputs: Sequence[torch.Tensor | None], alias: bool = True) -> Callable | None:
    """``check_no_partial_overlap`` for tensors laid out as ``out`` and ``inputs``, with the part that
    depends on layouts alone (density, sizes in bytes, equal strides) decided now: a function of
    ``(out, *inputs)`` left with address arithmetic, or None when there is nothing to check."""
    if out.numel() == 0 or out.is_meta or not is_non_overlapping_and_dense(out):
        return None  # (meta tensors have no memory to share)
    out_bytes = out.numel() * out.element_size()
    facts = []  # (input position, its size in bytes, whether it may alias out exactly)
    for position, tensor in enumerate(inputs):
        if tensor is None or tensor.numel() == 0 or not is_non_overlapping_and_dense(tensor):
            continue
        nbytes = tensor.numel() * tensor.element_size()
        facts.append((position, nbytes, alias and nbytes == out_bytes and tensor.stride() == out.stride()))
    if not facts:
        return None

    def check(out: torch.Tensor, *inputs: torch.Tensor | None) -> None:
        out_begin = out.data_ptr()
        out_end = out_begin + out_bytes
        for position, nbytes, may_alias in facts:
            tensor = inputs[position]
            if tensor is out and may_alias:
                continue
            begin = tensor.data_ptr()
            if begin == out_begin and may_alias:
                continue  # full aliasing: x.add_(x) reads each element before writing it
            if begin < out_end and out_begin < begin + nbytes:
                raise RuntimeError(_OVERLAP_MESSAGE)

    return check


def split_leading_dim(tensors: Sequence[torch.Tensor | None], shape: Sequence[int]) -> Iterator[list]:
    """Yields, for each index of the leading dim, the operands sliced there (broadcast dims stay)."""
    for i in range(shape[0]):
        sliced = []
        for t in tensors:
            if t is None or t.dim() < len(shape) or t.shape[0] == 1:
                sliced.append(t if t is None or t.dim() < len(shape) else t[0])
            else:
                sliced.append(t[i])
        yield sliced


@triton.jit
def strided_offset(index, shape, strides, RANK: tl.constexpr):
    """Element offset of linear ``index`` (row-major over ``shape``) in an operand with ``strides``."""
    if RANK == 1:  # (the launchers collapse contiguous operands to one dim: one multiply, no running sum)
        return index * strides[0]
    offset = index * 0
    remaining = index
    for d in tl.static_range(RANK - 1, 0, -1):
        offset += (remaining % shape[d]) * strides[d]
        remaining = remaining // shape[d]
    return offset + remaining * strides[0]
