"""Fused multi-tensor optimizer-side kernels: SGD, Adam/AdamW (optionally capturable), RMSprop, Rprop, ASGD,
a multi-tensor zero fill, and gradient clipping (total norm, scaling by the clip coefficient, clamp).

An optimizer step touches every parameter of a group, and the parameters have
different shapes and live at unrelated addresses. Launching one kernel per
parameter (let alone per arithmetic op) costs a launch each; here ONE launch
updates the whole group:

- a *pointer table* per buffer role (params, grads, exp_avgs, ...) is an int64
  tensor holding the address of every tensor of that role, tensor i at entry i;
- a numel table holds each tensor's element count;
- a chunk table cuts every tensor into BLOCK-sized chunks and lists them as
  (tensor index, first element) pairs, so the grid is one program per chunk.

A program reads its chunk's tensor index, loads that tensor's addresses from
the tables, casts them to typed pointers and runs the update on its chunk. Each
element of each buffer is read once and written at most once per step.

128-bit accesses: Triton vectorizes only what it can prove 16-byte aligned, and an
address loaded from a table proves nothing. So each kernel checks at run time
whether its chunk is aligned (every base address of the tensor a multiple of 16
bytes and the chunk ending at a multiple of 16 elements; chunks start at
multiples of BLOCK >= 16) and then runs its update with the alignment spelled
out (``tl.multiple_of`` on the pointers, ``aligned16`` on the bounds); other
chunks (views at odd offsets, the tail of an odd-sized tensor) run the same
update on the general path. The kernel report shows both paths' accesses.

The tables are built on the host from Python lists and cached, keyed on the
addresses, dtypes and sizes they describe, so a steady-state step ingests only
its hyperparameters (and, for float64 groups, one tiny tensor holding them).

Dtypes: params and grads share one floating dtype per launch; optimizer state
has the params' dtype (as torch.optim keeps it) or, for float16/bfloat16
params, may be float32 (mixed-precision master state). Arithmetic is float32
for half and float32 params and float64 for float64 params. Triton passes
Python floats to kernels as float32, which rounds them exactly as torch rounds
a Python scalar for a float32 op; float64 groups read their hyperparameters
from a float64 tensor instead, so they keep full precision.

All tensors must be dense, and grads and state laid out like their params (an
elementwise step needs param, grad and state to share a layout, and a dense
range per tensor is what a table entry describes): contiguous, or a permutation
of contiguous dims such as a transposed weight.

``POINTER_TABLE_EXTENTS`` records which memory every live pointer table refers
to, for tools that check a kernel's addresses against its arguments (the test
suite's interpreter bounds checker), once such a tool has set
``RECORD_TABLE_EXTENTS`` (off otherwise: a training step makes a table for its
new gradients, and nothing else reads the record).
"""

from __future__ import annotations

import array
import math
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import (
    bits_to_float,
    check_same_device,
    compute_dtype,
    float_bits,
    remember,
    to_bfloat16_rne,
    triton_dtype,
)
from tritongrad.kernels.strided import is_non_overlapping_and_dense
from tritongrad.runtime import cdiv, elementwise_launch_config, reduction_block

__all__ = [
    "POINTER_TABLE_EXTENTS",
    "RECORD_TABLE_EXTENTS",
    "launch_adadelta_step",
    "launch_adagrad_step",
    "launch_adam_step",
    "launch_adamax_step",
    "launch_asgd_step",
    "launch_clamp_",
    "launch_clip_by_total_norm_",
    "launch_nadam_step",
    "launch_radam_step",
    "launch_rmsprop_step",
    "launch_rprop_step",
    "launch_sgd_step",
    "launch_total_norm",
    "launch_zero_",
]

# ----------------------------------------------------------------------------------------------
# Pointer tables and the registry of the memory they refer to
# ----------------------------------------------------------------------------------------------

#: The memory a pointer table refers to, keyed by the table's ``data_ptr()``: a list of
#: ``(start_address, end_address)`` byte ranges (end exclusive), one per tensor in the table.
#: Keyed by address rather than by tensor object because Triton's interpreter hands kernels
#: new tensor objects that share the arguments' storage. An entry lives exactly as long as
#: its table: it is removed when the table is garbage collected (before its memory is freed).
POINTER_TABLE_EXTENTS: dict[int, list[tuple[int, int]]] = {}
RECORD_TABLE_EXTENTS = False


# The weak references that remove a table's POINTER_TABLE_EXTENTS entry when the table is freed,
# keyed like the registry (a weakref with a callback costs a tenth of a weakref.finalize).
_TABLE_WATCHERS: dict[int, weakref.ref] = {}


def _forget_table(address: int, watcher: weakref.ref) -> None:
    if _TABLE_WATCHERS.get(address) is watcher:
        del _TABLE_WATCHERS[address]
        POINTER_TABLE_EXTENTS.pop(address, None)


def _pointer_table(
    tensors: Sequence[torch.Tensor], device: torch.device, addresses: list[int] | None = None
) -> torch.Tensor:
    """An int64 tensor of the tensors' addresses, registered in POINTER_TABLE_EXTENTS.

    Gradients move between steps (each backward allocates them anew), so a step often makes its
    gradient table: the addresses are ingested with ``frombuffer`` (a third of the host cost of
    ``torch.tensor`` on a list), and on a GPU copied from pinned memory in stream order, so that
    making a table never waits for the queued work. ``addresses``: the tensors' ``data_ptr()``s,
    when the caller has them already.
    """
    if addresses is None:
        addresses = [t.data_ptr() for t in tensors]
    if not tensors:
        table = torch.empty(0, dtype=torch.int64, device=device)
    else:
        host = torch.frombuffer(array.array("q", addresses), dtype=torch.int64)
        if device.type in ("cpu", "meta"):  # (a meta step launches nothing: the table only needs a shape)
            table = host if device.type == "cpu" else host.to(device)
        else:
            table = host.pin_memory().to(device, non_blocking=True)
    if RECORD_TABLE_EXTENTS:
        address = table.data_ptr()
        POINTER_TABLE_EXTENTS[address] = [(start, start + t.nbytes) for start, t in zip(addresses, tensors)]
        _TABLE_WATCHERS[address] = weakref.ref(table, lambda watcher, address=address: _forget_table(address, watcher))
    return table


def _kept(tensors: Sequence[torch.Tensor], kept: list[int]) -> Sequence[torch.Tensor]:
    """The entries of a group's list at the ``kept`` (non-empty) parameters' indices."""
    return tensors if len(kept) == len(tensors) else [tensors[i] for i in kept]


class _ChunkLayout(NamedTuple):
    numels: torch.Tensor  # int64 [tensors]: units (elements or words) per tensor
    chunks: torch.Tensor  # int64 [num_chunks * 2]: (tensor index, first unit) per chunk
    num_chunks: int


def _chunk_layout(numels: Sequence[int], block: int, device: torch.device) -> _ChunkLayout:
    chunks: list[int] = []
    for index, numel in enumerate(numels):
        for start in range(0, numel, block):
            chunks += [index, start]
    return _ChunkLayout(
        numels=torch.tensor(list(numels), dtype=torch.int64, device=device),
        chunks=torch.tensor(chunks, dtype=torch.int64, device=device),
        num_chunks=len(chunks) // 2,
    )


# Tables are cached each on its own key, so a step whose gradients moved (freed and
# reallocated by the last backward) rebuilds only the grad table. The bound holds every
# table of a few optimizer groups; the least recently used are dropped (and freed) first.
_TABLE_CACHE_SIZE = 128
_TABLE_CACHE: OrderedDict[tuple, torch.Tensor | _ChunkLayout] = OrderedDict()


def _cached(key: tuple, build):
    value = _TABLE_CACHE.get(key)
    if value is None:
        value = _TABLE_CACHE[key] = build()
        if len(_TABLE_CACHE) > _TABLE_CACHE_SIZE:
            _TABLE_CACHE.popitem(last=False)
    _TABLE_CACHE.move_to_end(key)
    return value


def _launch_tables(
    roles: Sequence[Sequence[torch.Tensor]], numels: Sequence[int], block: int
) -> tuple[list[torch.Tensor], _ChunkLayout]:
    """(one pointer table per role, the chunk layout) for index-aligned lists of tensors.

    ``numels`` counts the units a kernel iterates over (elements, or words for the zero fill).
    """
    device = roles[0][0].device
    layout = _cached(("chunks", device, block, tuple(numels)), lambda: _chunk_layout(numels, block, device))
    tables = []
    for role in roles:
        # A table holds addresses only; recorded, its extents too, so then their sizes are in the key.
        addresses = [t.data_ptr() for t in role]
        key = ("pointers", device, *addresses, *([t.nbytes for t in role] if RECORD_TABLE_EXTENTS else ()))
        tables.append(_cached(key, lambda role=role, addresses=addresses: _pointer_table(role, device, addresses)))
    return tables, layout


# ----------------------------------------------------------------------------------------------
# Device functions
# ----------------------------------------------------------------------------------------------


@triton.jit
def chunk_of_this_program(numel_table, chunk_table, BLOCK: tl.constexpr):
    """(tensor index, first element, end element) of the chunk this program updates."""
    chunk = tl.program_id(0)
    tensor_index = tl.load(chunk_table + 2 * chunk)
    first = tl.load(chunk_table + 2 * chunk + 1)
    end = tl.minimum(first + BLOCK, tl.load(numel_table + tensor_index))
    return tensor_index, first, end


@triton.jit
def is_aligned_chunk(end, addresses):
    """Whether a chunk may take the 128-bit path: ``addresses`` (its tensors' base addresses OR-ed
    together) 16-byte aligned and the chunk ending at a multiple of 16 elements. Chunks start at
    multiples of BLOCK (>= 16), so then every access of the chunk is in whole aligned 16-byte
    groups; a tensor at an odd offset (a view into a larger buffer) or the tail of an odd-sized
    one takes the general path."""
    return ((addresses % 16) == 0) & ((end % 16) == 0)


@triton.jit
def aligned16(value):
    """``value``, a multiple of 16 at run time, in a form Triton's alignment analysis proves to be one
    (a product with the constant 16), so that offsets and masks built from it vectorize.

    Pointers take ``tl.multiple_of(address.to(pointer type), 16)`` instead, written in the kernel
    itself: the analysis does not carry divisibility through an int-to-pointer cast, and a hint
    on the result of a helper call is lost when the helper is inlined."""
    return (value // 16) * 16


@triton.jit
def chunk_offsets(first, end, BLOCK: tl.constexpr):
    """(element offsets, mask) of the chunk [first, end) of one tensor."""
    offsets = first + tl.arange(0, BLOCK).to(tl.int64)
    return offsets, offsets < end


@triton.jit
def tensor_address(address_table, tensor_index):
    """Base address (int64) of tensor ``tensor_index`` of a pointer table."""
    return tl.load(address_table + tensor_index)


@triton.jit
def hyperparameter(value, float64_table, INDEX: tl.constexpr, IN_MEMORY: tl.constexpr, COMPUTE: tl.constexpr):
    """A scalar in the compute dtype: entry INDEX of the float64 table, or the float32 argument."""
    if IN_MEMORY:
        result = tl.load(float64_table + INDEX).to(COMPUTE)
    else:
        result = tl.cast(value, COMPUTE)
    return result


@triton.jit
def lerp(start, end, weight):
    """torch.lerp's formula: from ``start`` for small weights, from ``end`` otherwise (exact at 0 and 1)."""
    difference = end - start
    return tl.where(tl.abs(weight) < 0.5, tl.fma(weight, difference, start), tl.fma(weight - 1.0, difference, end))


@triton.jit
def to_storage(value, ELEMENT: tl.constexpr):
    """``value`` converted to the stored type ELEMENT, rounding to nearest even.

    Triton's interpreter truncates float32 -> bfloat16 casts (a GPU rounds to nearest).
    Parameter updates are often below one bfloat16 ulp, so truncation would bias every
    step toward zero; rounding on the bits gives the GPU's (and torch's) result everywhere.
    """
    if ELEMENT == tl.bfloat16:
        result = to_bfloat16_rne(value.to(tl.float32))
    else:
        result = value.to(ELEMENT)
    return result


@triton.jit
def rounded_sqrt(x):
    """Correctly rounded sqrt, as torch computes it (a GPU's float32 default is approximate)."""
    if x.dtype == tl.float64:
        result = tl.sqrt(x)  # float64 sqrt is IEEE-rounded everywhere; sqrt_rn takes float32 only
    else:
        result = tl.sqrt_rn(x)
    return result


@triton.jit
def rounded_div(x, y):
    """Correctly rounded x / y, as torch computes it (a GPU's float32 default is approximate)."""
    if x.dtype == tl.float64:
        result = x / y
    else:
        result = tl.div_rn(x, y)
    return result


# ----------------------------------------------------------------------------------------------
# Zero fill
# ----------------------------------------------------------------------------------------------


# tensors[i][:] = 0 for every tensor of the table. Zero is all-zero bits in every dtype, so the
# tensors are written as machine words (the widest that divides every address and size): one
# store per word, no loads, whatever mix of dtypes the list holds.
@triton.jit
def zero_words(words, first, end, WORD: tl.constexpr, BLOCK: tl.constexpr):
    offsets, mask = chunk_offsets(first, end, BLOCK)
    tl.store(words + offsets, tl.zeros([BLOCK], WORD), mask=mask)


@triton.jit
def zero_kernel(
    address_table,
    numel_table, chunk_table,
    WORD: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    address = tensor_address(address_table, tensor_index)
    words = address.to(tl.pointer_type(WORD))
    if is_aligned_chunk(end, address):
        zero_words(tl.multiple_of(words, 16), aligned16(first), aligned16(end), WORD, BLOCK)
    else:
        zero_words(words, first, end, WORD, BLOCK)


_WORDS = ((8, tl.int64), (4, tl.int32), (2, tl.int16), (1, tl.int8))


def launch_zero_(tensors: Sequence[torch.Tensor]) -> None:
    """Fills every tensor of ``tensors`` (contiguous, any dtypes, one device) with zeros, in one launch.

    >>> state = [torch.empty(3, 4), torch.empty(5, dtype=torch.float64)]
    >>> launch_zero_(state)
    """
    tensors = list(tensors)
    for index, tensor in enumerate(tensors):
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"launch_zero_: tensors[{index}] is a {type(tensor).__name__}, not a torch.Tensor")
        _check_dense("launch_zero_", f"tensors[{index}]", tensor)
    check_same_device("launch_zero_", *tensors)
    tensors = [t for t in tensors if t.numel() > 0]
    if not tensors:
        return
    extents = [(t.data_ptr(), t.numel() * t.element_size()) for t in tensors]
    word_bytes, word = next((size, w) for size, w in _WORDS if all(a % size == 0 and n % size == 0 for a, n in extents))
    word_counts = [nbytes // word_bytes for _, nbytes in extents]
    block, num_warps = elementwise_launch_config(max(word_counts))
    (words,), layout = _launch_tables([tensors], word_counts, block)
    # One program zeroes one BLOCK-word chunk of one tensor.
    zero_kernel[(layout.num_chunks,)](words, layout.numels, layout.chunks, WORD=word, BLOCK=block, num_warps=num_warps)


# ----------------------------------------------------------------------------------------------
# SGD
# ----------------------------------------------------------------------------------------------

# Index of each SGD hyperparameter in the float64 table of float64 groups (constexpr: kernels read them).
_SGD_LR, _SGD_MOMENTUM, _SGD_ONE_MINUS_DAMPENING, _SGD_WEIGHT_DECAY = (tl.constexpr(i) for i in range(4))


# torch.optim.SGD for one chunk of one parameter:
#   g = ±grad + weight_decay * p
#   buf = g (first step) | buf * momentum + (1 - dampening) * g
#   p -= lr * (g + momentum * buf if nesterov else buf)
# Each `a + alpha * b` is one fused multiply-add, as torch rounds it (its vectorised CPU loops
# and CUDA kernels fuse it), which makes the float32 and float64 results match torch bit for bit.
# Traffic per element: read p, grad (and buf after the first step); write p (and buf).
@triton.jit
def sgd_chunk(
    param, grad, momentum_buffer, first, end, float64_hyperparameters,
    lr, momentum, one_minus_dampening, weight_decay,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, HAS_MOMENTUM: tl.constexpr, FIRST_STEP: tl.constexpr,
    NESTEROV: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    offsets, mask = chunk_offsets(first, end, BLOCK)
    param_ptrs = param + offsets
    grad_ptrs = grad + offsets
    table = float64_hyperparameters
    in_memory = HYPERPARAMETERS_IN_MEMORY
    lr = hyperparameter(lr, table, _SGD_LR, in_memory, COMPUTE)

    param = tl.load(param_ptrs, mask=mask).to(COMPUTE)
    grad = tl.load(grad_ptrs, mask=mask).to(COMPUTE)
    if MAXIMIZE:
        grad = -grad
    if HAS_WEIGHT_DECAY:
        grad = tl.fma(param, hyperparameter(weight_decay, table, _SGD_WEIGHT_DECAY, in_memory, COMPUTE), grad)
    if HAS_MOMENTUM:
        momentum = hyperparameter(momentum, table, _SGD_MOMENTUM, in_memory, COMPUTE)
        buffer_ptrs = momentum_buffer + offsets
        if FIRST_STEP:
            buffer = grad
        else:
            keep = hyperparameter(one_minus_dampening, table, _SGD_ONE_MINUS_DAMPENING, in_memory, COMPUTE)
            buffer = tl.fma(grad, keep, tl.load(buffer_ptrs, mask=mask).to(COMPUTE) * momentum)
        tl.store(buffer_ptrs, to_storage(buffer, STATE), mask=mask)
        if NESTEROV:
            grad = tl.fma(buffer, momentum, grad)
        else:
            grad = buffer
    tl.store(param_ptrs, to_storage(tl.fma(grad, -lr, param), PARAM), mask=mask)


@triton.jit
def sgd_step_kernel(
    param_table, grad_table, momentum_table,
    numel_table, chunk_table, float64_hyperparameters,
    lr, momentum, one_minus_dampening, weight_decay,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, HAS_MOMENTUM: tl.constexpr, FIRST_STEP: tl.constexpr,
    NESTEROV: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    param_address = tensor_address(param_table, tensor_index)
    grad_address = tensor_address(grad_table, tensor_index)
    buffer_address = param_address  # never read without momentum
    if HAS_MOMENTUM:
        buffer_address = tensor_address(momentum_table, tensor_index)
    param = param_address.to(tl.pointer_type(PARAM))
    grad = grad_address.to(tl.pointer_type(PARAM))
    buffer = buffer_address.to(tl.pointer_type(STATE))
    # The same update twice: on the 128-bit path with alignment Triton can see, or the general one.
    if is_aligned_chunk(end, param_address | grad_address | buffer_address):
        sgd_chunk(
            tl.multiple_of(param, 16), tl.multiple_of(grad, 16), tl.multiple_of(buffer, 16),
            aligned16(first), aligned16(end),
            float64_hyperparameters, lr, momentum, one_minus_dampening, weight_decay, PARAM, STATE, COMPUTE,
            HYPERPARAMETERS_IN_MEMORY, HAS_WEIGHT_DECAY, HAS_MOMENTUM, FIRST_STEP, NESTEROV, MAXIMIZE, BLOCK,
        )  # fmt: skip
    else:
        sgd_chunk(
            param, grad, buffer, first, end,
            float64_hyperparameters, lr, momentum, one_minus_dampening, weight_decay, PARAM, STATE, COMPUTE,
            HYPERPARAMETERS_IN_MEMORY, HAS_WEIGHT_DECAY, HAS_MOMENTUM, FIRST_STEP, NESTEROV, MAXIMIZE, BLOCK,
        )  # fmt: skip


def launch_sgd_step(
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    momentum_buffers: Sequence[torch.Tensor] | None,
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
    first_step: bool,
) -> None:
    """One torch.optim.SGD step over a group of parameters, in place, in one launch.

    ``first_step`` means the momentum buffers hold nothing yet: they are set to the
    (decayed, sign-adjusted) gradient, with no dampening, as torch does when a buffer
    is created. ``momentum_buffers`` may be None when ``momentum == 0``.

    >>> p, g, buf = [torch.randn(3)], [torch.randn(3)], [torch.empty(3)]
    >>> launch_sgd_step(p, g, buf, lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0,
    ...                 nesterov=False, maximize=False, first_step=True)
    """
    has_momentum = momentum != 0
    if nesterov and momentum <= 0:  # (SGD passes nesterov only with momentum: a group may set it without)
        raise ValueError("Nesterov momentum requires a momentum")
    if has_momentum and momentum_buffers is None:
        raise ValueError(f"launch_sgd_step: momentum={momentum} needs momentum_buffers, got None")
    states = {"momentum_buffers": momentum_buffers if has_momentum else None}
    group = _check_group("launch_sgd_step", params, grads, states)
    if group is None:
        return
    param_dtype, state_dtype, kept, numels, block, num_warps = group
    in_memory = param_dtype == torch.float64
    scalars = [lr, momentum, 1 - dampening, weight_decay]
    roles = [_kept(params, kept), _kept(grads, kept)]
    if has_momentum:
        roles.append(_kept(momentum_buffers, kept))
    tables, layout = _launch_tables(roles, numels, block)
    # Absent roles point at the param table: their constexpr flag is off, so it is never read.
    tables += [tables[0]] * (3 - len(tables))
    # One program updates one BLOCK-element chunk of one parameter (and its momentum buffer).
    sgd_step_kernel[(layout.num_chunks,)](
        *tables,
        layout.numels, layout.chunks, _hyperparameter_table(scalars, in_memory, layout.numels),
        *_hyperparameter_arguments(scalars, in_memory),
        PARAM=triton_dtype(param_dtype), STATE=triton_dtype(state_dtype), COMPUTE=compute_dtype(param_dtype),
        HYPERPARAMETERS_IN_MEMORY=in_memory, HAS_WEIGHT_DECAY=weight_decay != 0, HAS_MOMENTUM=has_momentum,
        FIRST_STEP=bool(first_step), NESTEROV=bool(nesterov), MAXIMIZE=bool(maximize),
        BLOCK=block, num_warps=num_warps,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Adam / AdamW
# ----------------------------------------------------------------------------------------------

# Index of each Adam hyperparameter in the float64 table (float64 groups, capturable steps).
(
    _ADAM_ONE_MINUS_BETA1, _ADAM_BETA2, _ADAM_ONE_MINUS_BETA2, _ADAM_EPS, _ADAM_WEIGHT_DECAY,
    _ADAM_DECAY_FACTOR, _ADAM_NEG_STEP_SIZE, _ADAM_BIAS_CORRECTION2_SQRT, _ADAM_LR, _ADAM_BETA1,
) = (tl.constexpr(i) for i in range(10))  # fmt: skip


@triton.jit
def power_of_beta(beta, step):
    """beta ** step in float64 for 0 <= beta < 1 and step >= 1 (exp2/log2, with 0 ** step = 0 apart)."""
    positive = beta > 0
    return tl.where(positive, tl.exp2(step * tl.log2(tl.where(positive, beta, 1.0))), 0.0)


@triton.jit
def bias_corrections_on_device(step_table, tensor_index, table, COMPUTE: tl.constexpr):
    """(-(lr / bias_correction1), sqrt(bias_correction2)) from tensor ``tensor_index``'s step count.

    The count is a float32 0-d tensor on the device (torch's capturable state['step'], already
    incremented for this step); the corrections are computed in float64, as torch's
    non-capturable Adam computes them on the host in Python floats, then rounded to COMPUTE.
    """
    step = tl.load(tl.load(step_table + tensor_index).to(tl.pointer_type(tl.float32))).to(tl.float64)
    bias_correction1 = 1.0 - power_of_beta(tl.load(table + _ADAM_BETA1), step)
    bias_correction2 = 1.0 - power_of_beta(tl.load(table + _ADAM_BETA2), step)
    neg_step_size = -(tl.load(table + _ADAM_LR) / bias_correction1)
    return neg_step_size.to(COMPUTE), tl.sqrt(bias_correction2).to(COMPUTE)


# torch.optim.Adam / AdamW (torch's single-tensor formula, same operation order) for one chunk:
#   g = ±grad (+ weight_decay * p for Adam's L2 decay);  p *= 1 - lr * weight_decay for AdamW
#   m = lerp(m, g, 1 - beta1);  v = v * beta2 + (1 - beta2) * g * g;  v_max = max(v_max, v)
#   p += (-(lr / bias_correction1) * m) / (sqrt(v or v_max) / sqrt(bias_correction2) + eps)
# Fused multiply-adds where torch fuses (add with alpha, lerp, addcmul), so m and v match torch
# bit for bit; p matches to an ulp (torch's CPU sqrt is not correctly rounded; ours is).
# WEIGHT_DECAY is "none", "l2" (Adam; ``decay`` = weight_decay) or "decoupled" (AdamW; ``decay``
# = 1 - lr * weight_decay). Traffic per element: read p, grad, m, v (and v_max); write p, m, v
# (and v_max).
@triton.jit
def adam_chunk(
    param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, first, end,
    one_minus_beta1, beta2, one_minus_beta2, eps, decay, neg_step_size, bias_correction2_sqrt,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, WEIGHT_DECAY: tl.constexpr,
    AMSGRAD: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    offsets, mask = chunk_offsets(first, end, BLOCK)
    param_ptrs, grad_ptrs = param + offsets, grad + offsets
    exp_avg_ptrs, exp_avg_sq_ptrs = exp_avg + offsets, exp_avg_sq + offsets

    param = tl.load(param_ptrs, mask=mask).to(COMPUTE)
    grad = tl.load(grad_ptrs, mask=mask).to(COMPUTE)
    if MAXIMIZE:
        grad = -grad
    if WEIGHT_DECAY == "l2":
        grad = tl.fma(param, decay, grad)
    elif WEIGHT_DECAY == "decoupled":
        param = param * decay

    exp_avg = lerp(tl.load(exp_avg_ptrs, mask=mask).to(COMPUTE), grad, one_minus_beta1)
    exp_avg_sq = tl.fma(one_minus_beta2 * grad, grad, tl.load(exp_avg_sq_ptrs, mask=mask).to(COMPUTE) * beta2)
    tl.store(exp_avg_ptrs, to_storage(exp_avg, STATE), mask=mask)
    tl.store(exp_avg_sq_ptrs, to_storage(exp_avg_sq, STATE), mask=mask)
    second_moment = exp_avg_sq
    if AMSGRAD:
        max_exp_avg_sq_ptrs = max_exp_avg_sq + offsets
        max_exp_avg_sq = tl.load(max_exp_avg_sq_ptrs, mask=mask).to(COMPUTE)
        second_moment = tl.maximum(max_exp_avg_sq, exp_avg_sq, propagate_nan=tl.PropagateNan.ALL)
        tl.store(max_exp_avg_sq_ptrs, to_storage(second_moment, STATE), mask=mask)
    denom = rounded_div(rounded_sqrt(second_moment), bias_correction2_sqrt) + eps
    tl.store(param_ptrs, to_storage(param + rounded_div(neg_step_size * exp_avg, denom), PARAM), mask=mask)


# One program updates one chunk of one parameter and its state. CAPTURABLE: the bias corrections
# come from each parameter's step count on the device (``step_table``), not from the arguments.
@triton.jit
def adam_step_kernel(
    param_table, grad_table, exp_avg_table, exp_avg_sq_table, max_exp_avg_sq_table, step_table,
    numel_table, chunk_table, float64_hyperparameters,
    one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay, decay_factor, neg_step_size,
    bias_correction2_sqrt,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    CAPTURABLE: tl.constexpr, WEIGHT_DECAY: tl.constexpr, AMSGRAD: tl.constexpr, MAXIMIZE: tl.constexpr,
    BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    table = float64_hyperparameters
    in_memory = HYPERPARAMETERS_IN_MEMORY
    one_minus_beta1 = hyperparameter(one_minus_beta1, table, _ADAM_ONE_MINUS_BETA1, in_memory, COMPUTE)
    beta2 = hyperparameter(beta2, table, _ADAM_BETA2, in_memory, COMPUTE)
    one_minus_beta2 = hyperparameter(one_minus_beta2, table, _ADAM_ONE_MINUS_BETA2, in_memory, COMPUTE)
    eps = hyperparameter(eps, table, _ADAM_EPS, in_memory, COMPUTE)
    if CAPTURABLE:
        neg_step_size, bias_correction2_sqrt = bias_corrections_on_device(step_table, tensor_index, table, COMPUTE)
    else:
        neg_step_size = hyperparameter(neg_step_size, table, _ADAM_NEG_STEP_SIZE, in_memory, COMPUTE)
        bias_correction2_sqrt = hyperparameter(
            bias_correction2_sqrt, table, _ADAM_BIAS_CORRECTION2_SQRT, in_memory, COMPUTE
        )
    if WEIGHT_DECAY == "l2":
        decay = hyperparameter(weight_decay, table, _ADAM_WEIGHT_DECAY, in_memory, COMPUTE)
    elif WEIGHT_DECAY == "decoupled":
        decay = hyperparameter(decay_factor, table, _ADAM_DECAY_FACTOR, in_memory, COMPUTE)
    else:
        decay = tl.cast(0.0, COMPUTE)

    param_address = tensor_address(param_table, tensor_index)
    grad_address = tensor_address(grad_table, tensor_index)
    exp_avg_address = tensor_address(exp_avg_table, tensor_index)
    exp_avg_sq_address = tensor_address(exp_avg_sq_table, tensor_index)
    max_address = exp_avg_address  # never read without amsgrad
    if AMSGRAD:
        max_address = tensor_address(max_exp_avg_sq_table, tensor_index)
    param = param_address.to(tl.pointer_type(PARAM))
    grad = grad_address.to(tl.pointer_type(PARAM))
    exp_avg = exp_avg_address.to(tl.pointer_type(STATE))
    exp_avg_sq = exp_avg_sq_address.to(tl.pointer_type(STATE))
    max_exp_avg_sq = max_address.to(tl.pointer_type(STATE))
    addresses = param_address | grad_address | exp_avg_address | exp_avg_sq_address | max_address
    # The same update twice: on the 128-bit path with alignment Triton can see, or the general one.
    if is_aligned_chunk(end, addresses):
        adam_chunk(
            tl.multiple_of(param, 16), tl.multiple_of(grad, 16), tl.multiple_of(exp_avg, 16),
            tl.multiple_of(exp_avg_sq, 16), tl.multiple_of(max_exp_avg_sq, 16), aligned16(first), aligned16(end),
            one_minus_beta1, beta2, one_minus_beta2, eps, decay, neg_step_size, bias_correction2_sqrt,
            PARAM, STATE, COMPUTE, WEIGHT_DECAY, AMSGRAD, MAXIMIZE, BLOCK,
        )  # fmt: skip
    else:
        adam_chunk(
            param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, first, end,
            one_minus_beta1, beta2, one_minus_beta2, eps, decay, neg_step_size, bias_correction2_sqrt,
            PARAM, STATE, COMPUTE, WEIGHT_DECAY, AMSGRAD, MAXIMIZE, BLOCK,
        )  # fmt: skip


# counters[i] += 1 for every float32 0-d tensor of the table (the step counts of capturable Adam):
# one program per BLOCK counters.
@triton.jit
def increment_kernel(address_table, count, BLOCK: tl.constexpr):
    indices = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = indices < count
    counters = tl.load(address_table + indices, mask=mask, other=0).to(tl.pointer_type(tl.float32))
    tl.store(counters, tl.load(counters, mask=mask) + 1.0, mask=mask)


_INCREMENT_BLOCK = 128


def launch_adam_step(
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    exp_avgs: Sequence[torch.Tensor],
    exp_avg_sqs: Sequence[torch.Tensor],
    max_exp_avg_sqs: Sequence[torch.Tensor] | None,
    *,
    step: int | Sequence[torch.Tensor],
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
    decoupled_weight_decay: bool,
) -> None:
    """One torch.optim.Adam (or AdamW, ``decoupled_weight_decay=True``) step over a group, in one launch.

    ``step`` is either the step number after this update (a Python int, 1 on the first step;
    the bias corrections are then computed on the host), or, for torch's ``capturable=True``,
    one 0-d float32 tensor per parameter on the parameters' device holding its step count
    before this update: one more launch adds 1 to each on the device and the update computes
    the bias corrections from them, so the step passes no per-step scalar from the host (a CUDA
    graph can replay it). The state tensors must hold the previous step's values (zeros before
    the first step, see ``launch_zero_``). ``max_exp_avg_sqs`` may be None unless ``amsgrad``.

    >>> p, g = [torch.randn(3)], [torch.randn(3)]
    >>> m, v = [torch.empty(3)], [torch.empty(3)]
    >>> launch_zero_(m + v)
    >>> launch_adam_step(p, g, m, v, None, step=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
    ...                  weight_decay=0.0, amsgrad=False, maximize=False, decoupled_weight_decay=False)
    """
    capturable = isinstance(step, Sequence)
    if capturable:
        step_counts = list(step)
        _check_step_counts("launch_adam_step", step_counts, params)
    elif not isinstance(step, int) or step < 1:
        raise ValueError(f"launch_adam_step: step must be a Python int >= 1 or step-count tensors, got {step!r}")
    if amsgrad and max_exp_avg_sqs is None:
        raise ValueError("launch_adam_step: amsgrad=True needs max_exp_avg_sqs, got None")
    states = {
        "exp_avgs": exp_avgs,
        "exp_avg_sqs": exp_avg_sqs,
        "max_exp_avg_sqs": max_exp_avg_sqs if amsgrad else None,
    }
    group = _check_group("launch_adam_step", params, grads, states)
    if capturable and step_counts:
        _launch_increment(step_counts)
    if group is None:
        return
    param_dtype, state_dtype, kept, numels, block, num_warps = group
    if capturable:
        # Constant hyperparameters in a cached float64 table: nothing is ingested per step.
        in_memory = True
        bias_correction1 = bias_correction2 = 1.0  # unused: the kernel computes them from the counts
    else:
        in_memory = param_dtype == torch.float64
        # Host-side scalars exactly as torch's single-tensor Adam computes them (Python floats).
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
    scalars = [
        1 - beta1, beta2, 1 - beta2, eps, weight_decay, 1 - lr * weight_decay,
        -(lr / bias_correction1), bias_correction2**0.5, lr, beta1,
    ]  # fmt: skip
    if weight_decay == 0:
        decay_mode = "none"
    else:
        decay_mode = "decoupled" if decoupled_weight_decay else "l2"
    roles = [_kept(params, kept), _kept(grads, kept), _kept(exp_avgs, kept), _kept(exp_avg_sqs, kept)]
    if amsgrad:
        roles.append(_kept(max_exp_avg_sqs, kept))
    if capturable:
        roles.append(_kept(step_counts, kept))
    tables, layout = _launch_tables(roles, numels, block)
    # Absent roles point at the param table: their constexpr flag is off, so it is never read.
    max_table = tables[4] if amsgrad else tables[0]
    step_table = tables[-1] if capturable else tables[0]
    if capturable:
        hyperparameters = _cached(
            ("hyperparameters", layout.numels.device, tuple(scalars)),
            lambda: _hyperparameter_table(scalars, True, layout.numels),
        )
    else:
        hyperparameters = _hyperparameter_table(scalars, in_memory, layout.numels)
    # One program updates one BLOCK-element chunk of one parameter and of its state.
    adam_step_kernel[(layout.num_chunks,)](
        *tables[:4], max_table, step_table,
        layout.numels, layout.chunks, hyperparameters,
        *_hyperparameter_arguments(scalars[:8], in_memory),
        PARAM=triton_dtype(param_dtype), STATE=triton_dtype(state_dtype), COMPUTE=compute_dtype(param_dtype),
        HYPERPARAMETERS_IN_MEMORY=in_memory, CAPTURABLE=capturable, WEIGHT_DECAY=decay_mode,
        AMSGRAD=bool(amsgrad), MAXIMIZE=bool(maximize), BLOCK=block, num_warps=num_warps,
    )  # fmt: skip


def _check_step_counts(name: str, step_counts: list, params: Sequence[torch.Tensor]) -> None:
    if len(step_counts) != len(params):
        raise ValueError(f"{name}: {len(step_counts)} step counts for {len(params)} parameters")
    for index, count in enumerate(step_counts):
        if not isinstance(count, torch.Tensor) or count.dtype != torch.float32 or count.numel() != 1:
            raise TypeError(
                f"{name}: step counts must be one-element float32 tensors (torch's capturable state['step']), "
                f"got {count!r} at index {index}"
            )
        if count.device != params[index].device:
            raise RuntimeError(
                f"{name}: step count {index} is on {count.device} but its parameter on {params[index].device}; "
                "capturable steps keep the count on the parameter's device"
            )


def _launch_increment(counters: list[torch.Tensor]) -> None:
    """Adds 1 to every float32 one-element tensor of ``counters`` (one device), in one launch."""
    device = counters[0].device
    table = _cached(
        ("pointers", device, tuple((t.data_ptr(), t.dtype, t.numel()) for t in counters)),
        lambda: _pointer_table(counters, device),
    )
    # One program increments BLOCK counters.
    grid = (cdiv(len(counters), _INCREMENT_BLOCK),)
    increment_kernel[grid](table, len(counters), BLOCK=_INCREMENT_BLOCK, num_warps=4)


# ----------------------------------------------------------------------------------------------
# RMSprop
# ----------------------------------------------------------------------------------------------

# Index of each RMSprop hyperparameter in the float64 table of float64 groups.
(
    _RMSPROP_ALPHA, _RMSPROP_ONE_MINUS_ALPHA, _RMSPROP_EPS, _RMSPROP_WEIGHT_DECAY, _RMSPROP_MOMENTUM,
    _RMSPROP_NEG_LR,
) = (tl.constexpr(i) for i in range(6))  # fmt: skip


# torch.optim.RMSprop (torch's single-tensor formula, same operation order) for one chunk:
#   g = ±grad (+ weight_decay * p);  v = v * alpha + (1 - alpha) * g * g
#   centered: m = lerp(m, g, 1 - alpha);  avg = sqrt(v - m * m) + eps,  else avg = sqrt(v) + eps
#   momentum: buf = buf * momentum + g / avg;  p -= lr * buf,   else p += (-lr * g) / avg
# Fused multiply-adds where torch fuses (add with alpha, addcmul, lerp).
# Traffic per element: read p, grad, v (and buf, m); write p, v (and buf, m).
@triton.jit
def rmsprop_chunk(
    param, grad, square_avg, momentum_buffer, grad_avg, first, end,
    alpha, one_minus_alpha, eps, weight_decay, momentum, neg_lr,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, HAS_MOMENTUM: tl.constexpr, CENTERED: tl.constexpr, MAXIMIZE: tl.constexpr,
    BLOCK: tl.constexpr,
):  # fmt: skip
    offsets, mask = chunk_offsets(first, end, BLOCK)
    param_ptrs, grad_ptrs, square_avg_ptrs = param + offsets, grad + offsets, square_avg + offsets
    param = tl.load(param_ptrs, mask=mask).to(COMPUTE)
    grad = tl.load(grad_ptrs, mask=mask).to(COMPUTE)
    if MAXIMIZE:
        grad = -grad
    if HAS_WEIGHT_DECAY:
        grad = tl.fma(param, weight_decay, grad)
    square_avg = tl.fma(one_minus_alpha * grad, grad, tl.load(square_avg_ptrs, mask=mask).to(COMPUTE) * alpha)
    tl.store(square_avg_ptrs, to_storage(square_avg, STATE), mask=mask)
    if CENTERED:
        grad_avg_ptrs = grad_avg + offsets
        grad_avg = lerp(tl.load(grad_avg_ptrs, mask=mask).to(COMPUTE), grad, one_minus_alpha)
        tl.store(grad_avg_ptrs, to_storage(grad_avg, STATE), mask=mask)
        avg = rounded_sqrt(tl.fma(-grad_avg, grad_avg, square_avg)) + eps
    else:
        avg = rounded_sqrt(square_avg) + eps
    if HAS_MOMENTUM:
        buffer_ptrs = momentum_buffer + offsets
        buffer = tl.load(buffer_ptrs, mask=mask).to(COMPUTE) * momentum + rounded_div(grad, avg)
        tl.store(buffer_ptrs, to_storage(buffer, STATE), mask=mask)
        param = tl.fma(buffer, neg_lr, param)
    else:
        param = param + rounded_div(neg_lr * grad, avg)
    tl.store(param_ptrs, to_storage(param, PARAM), mask=mask)


@triton.jit
def rmsprop_step_kernel(
    param_table, grad_table, square_avg_table, momentum_table, grad_avg_table,
    numel_table, chunk_table, float64_hyperparameters,
    alpha, one_minus_alpha, eps, weight_decay, momentum, neg_lr,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, HAS_MOMENTUM: tl.constexpr, CENTERED: tl.constexpr, MAXIMIZE: tl.constexpr,
    BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    table = float64_hyperparameters
    in_memory = HYPERPARAMETERS_IN_MEMORY
    alpha = hyperparameter(alpha, table, _RMSPROP_ALPHA, in_memory, COMPUTE)
    one_minus_alpha = hyperparameter(one_minus_alpha, table, _RMSPROP_ONE_MINUS_ALPHA, in_memory, COMPUTE)
    eps = hyperparameter(eps, table, _RMSPROP_EPS, in_memory, COMPUTE)
    neg_lr = hyperparameter(neg_lr, table, _RMSPROP_NEG_LR, in_memory, COMPUTE)
    weight_decay = hyperparameter(weight_decay, table, _RMSPROP_WEIGHT_DECAY, in_memory, COMPUTE)
    momentum = hyperparameter(momentum, table, _RMSPROP_MOMENTUM, in_memory, COMPUTE)

    param_address = tensor_address(param_table, tensor_index)
    grad_address = tensor_address(grad_table, tensor_index)
    square_avg_address = tensor_address(square_avg_table, tensor_index)
    buffer_address = param_address  # never read without momentum
    if HAS_MOMENTUM:
        buffer_address = tensor_address(momentum_table, tensor_index)
    grad_avg_address = param_address  # never read unless centered
    if CENTERED:
        grad_avg_address = tensor_address(grad_avg_table, tensor_index)
    param = param_address.to(tl.pointer_type(PARAM))
    grad = grad_address.to(tl.pointer_type(PARAM))
    square_avg = square_avg_address.to(tl.pointer_type(STATE))
    buffer = buffer_address.to(tl.pointer_type(STATE))
    grad_avg = grad_avg_address.to(tl.pointer_type(STATE))
    addresses = param_address | grad_address | square_avg_address | buffer_address | grad_avg_address
    # The same update twice: on the 128-bit path with alignment Triton can see, or the general one.
    if is_aligned_chunk(end, addresses):
        rmsprop_chunk(
            tl.multiple_of(param, 16), tl.multiple_of(grad, 16), tl.multiple_of(square_avg, 16),
            tl.multiple_of(buffer, 16), tl.multiple_of(grad_avg, 16), aligned16(first), aligned16(end),
            alpha, one_minus_alpha, eps, weight_decay, momentum, neg_lr,
            PARAM, STATE, COMPUTE, HAS_WEIGHT_DECAY, HAS_MOMENTUM, CENTERED, MAXIMIZE, BLOCK,
        )  # fmt: skip
    else:
        rmsprop_chunk(
            param, grad, square_avg, buffer, grad_avg, first, end,
            alpha, one_minus_alpha, eps, weight_decay, momentum, neg_lr,
            PARAM, STATE, COMPUTE, HAS_WEIGHT_DECAY, HAS_MOMENTUM, CENTERED, MAXIMIZE, BLOCK,
        )  # fmt: skip


def launch_rmsprop_step(
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    square_avgs: Sequence[torch.Tensor],
    momentum_buffers: Sequence[torch.Tensor] | None,
    grad_avgs: Sequence[torch.Tensor] | None,
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
) -> None:
    """One torch.optim.RMSprop step over a group of parameters, in place, in one launch.

    The state tensors hold the previous step's values (zeros before the first step, see
    ``launch_zero_``). ``momentum_buffers`` may be None when ``momentum == 0`` and
    ``grad_avgs`` unless ``centered``.

    >>> p, g, v = [torch.randn(3)], [torch.randn(3)], [torch.empty(3)]
    >>> launch_zero_(v)
    >>> launch_rmsprop_step(p, g, v, None, None, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
    ...                     momentum=0.0, centered=False, maximize=False)
    """
    has_momentum = momentum != 0
    if has_momentum and momentum_buffers is None:
        raise ValueError(f"launch_rmsprop_step: momentum={momentum} needs momentum_buffers, got None")
    if centered and grad_avgs is None:
        raise ValueError("launch_rmsprop_step: centered=True needs grad_avgs, got None")
    states = {
        "square_avgs": square_avgs,
        "momentum_buffers": momentum_buffers if has_momentum else None,
        "grad_avgs": grad_avgs if centered else None,
    }
    group = _check_group("launch_rmsprop_step", params, grads, states)
    if group is None:
        return
    param_dtype, state_dtype, kept, numels, block, num_warps = group
    in_memory = param_dtype == torch.float64
    scalars = [alpha, 1 - alpha, eps, weight_decay, momentum, -lr]
    roles = [_kept(params, kept), _kept(grads, kept), _kept(square_avgs, kept)]
    for used, tensors in ((has_momentum, momentum_buffers), (centered, grad_avgs)):
        if used:
            roles.append(_kept(tensors, kept))
    tables, layout = _launch_tables(roles, numels, block)
    # Absent roles point at the param table: their constexpr flag is off, so it is never read.
    momentum_table = tables[3] if has_momentum else tables[0]
    grad_avg_table = tables[-1] if centered else tables[0]
    # One program updates one BLOCK-element chunk of one parameter and of its state.
    rmsprop_step_kernel[(layout.num_chunks,)](
        *tables[:3], momentum_table, grad_avg_table,
        layout.numels, layout.chunks, _hyperparameter_table(scalars, in_memory, layout.numels),
        *_hyperparameter_arguments(scalars, in_memory),
        PARAM=triton_dtype(param_dtype), STATE=triton_dtype(state_dtype), COMPUTE=compute_dtype(param_dtype),
        HYPERPARAMETERS_IN_MEMORY=in_memory, HAS_WEIGHT_DECAY=weight_decay != 0, HAS_MOMENTUM=has_momentum,
        CENTERED=bool(centered), MAXIMIZE=bool(maximize), BLOCK=block, num_warps=num_warps,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Adagrad, Adadelta, Adamax
# ----------------------------------------------------------------------------------------------
# Laid out as RMSprop: a `<name>_chunk` update of one chunk, a `<name>_step_kernel` that finds its
# chunk's tensors and picks the 128-bit or general path, and a `launch_<name>_step` (through
# _launch_step below). Host-side scalars that depend on the step count (Adagrad's decayed rate,
# Adamax's bias-corrected rate) are Python floats, as torch's single-tensor implementations
# compute them; parameters at different step counts therefore go to different launches.

# Index of each Adagrad hyperparameter in the float64 table of float64 groups.
_ADAGRAD_EPS, _ADAGRAD_WEIGHT_DECAY, _ADAGRAD_NEG_CLR = (tl.constexpr(i) for i in range(3))


# torch.optim.Adagrad (single-tensor formula, same operation order) for one chunk:
#   g = ±grad (+ weight_decay * p);  sum += g * g;  p += (-clr * g) / (sqrt(sum) + eps)
# with clr = lr / (1 + (step - 1) * lr_decay) computed on the host.
# Traffic per element: read p, grad, sum; write p, sum.
@triton.jit
def adagrad_chunk(
    param, grad, state_sum, first, end,
    eps, weight_decay, neg_clr,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    offsets, mask = chunk_offsets(first, end, BLOCK)
    param_ptrs, grad_ptrs, sum_ptrs = param + offsets, grad + offsets, state_sum + offsets
    param = tl.load(param_ptrs, mask=mask).to(COMPUTE)
    grad = tl.load(grad_ptrs, mask=mask).to(COMPUTE)
    if MAXIMIZE:
        grad = -grad
    if HAS_WEIGHT_DECAY:
        grad = tl.fma(param, weight_decay, grad)
    state_sum = tl.fma(grad, grad, tl.load(sum_ptrs, mask=mask).to(COMPUTE))
    tl.store(sum_ptrs, to_storage(state_sum, STATE), mask=mask)
    std = rounded_sqrt(state_sum) + eps
    param = param + rounded_div(neg_clr * grad, std)
    tl.store(param_ptrs, to_storage(param, PARAM), mask=mask)


@triton.jit
def adagrad_step_kernel(
    param_table, grad_table, sum_table,
    numel_table, chunk_table, float64_hyperparameters,
    eps, weight_decay, neg_clr,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    table = float64_hyperparameters
    in_memory = HYPERPARAMETERS_IN_MEMORY
    eps = hyperparameter(eps, table, _ADAGRAD_EPS, in_memory, COMPUTE)
    weight_decay = hyperparameter(weight_decay, table, _ADAGRAD_WEIGHT_DECAY, in_memory, COMPUTE)
    neg_clr = hyperparameter(neg_clr, table, _ADAGRAD_NEG_CLR, in_memory, COMPUTE)

    param_address = tensor_address(param_table, tensor_index)
    grad_address = tensor_address(grad_table, tensor_index)
    sum_address = tensor_address(sum_table, tensor_index)
    param = param_address.to(tl.pointer_type(PARAM))
    grad = grad_address.to(tl.pointer_type(PARAM))
    state_sum = sum_address.to(tl.pointer_type(STATE))
    # The same update twice: on the 128-bit path with alignment Triton can see, or the general one.
    if is_aligned_chunk(end, param_address | grad_address | sum_address):
        adagrad_chunk(
            tl.multiple_of(param, 16), tl.multiple_of(grad, 16), tl.multiple_of(state_sum, 16),
            aligned16(first), aligned16(end), eps, weight_decay, neg_clr,
            PARAM, STATE, COMPUTE, HAS_WEIGHT_DECAY, MAXIMIZE, BLOCK,
        )  # fmt: skip
    else:
        adagrad_chunk(
            param, grad, state_sum, first, end, eps, weight_decay, neg_clr,
            PARAM, STATE, COMPUTE, HAS_WEIGHT_DECAY, MAXIMIZE, BLOCK,
        )  # fmt: skip


def launch_adagrad_step(
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    state_sums: Sequence[torch.Tensor],
    *,
    step: int,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """One torch.optim.Adagrad step over parameters that all reach step number ``step`` (>= 1), in place,
    in one launch. ``state_sums`` hold the previous sums (``initial_accumulator_value`` before the first step).

    >>> p, g, s = [torch.randn(3)], [torch.randn(3)], [torch.empty(3)]
    >>> launch_zero_(s)
    >>> launch_adagrad_step(p, g, s, step=1, lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10, maximize=False)
    """
    clr = lr / (1 + (step - 1) * lr_decay)
    _launch_step(
        adagrad_step_kernel, "launch_adagrad_step", params, grads, {"state_sums": state_sums},
        [eps, weight_decay, -clr], HAS_WEIGHT_DECAY=weight_decay != 0, MAXIMIZE=bool(maximize),
    )  # fmt: skip


# Index of each Adadelta hyperparameter in the float64 table of float64 groups.
_ADADELTA_RHO, _ADADELTA_ONE_MINUS_RHO, _ADADELTA_EPS, _ADADELTA_WEIGHT_DECAY, _ADADELTA_NEG_LR = (
    tl.constexpr(i) for i in range(5)
)


# torch.optim.Adadelta (single-tensor formula, same operation order) for one chunk:
#   g = ±grad (+ weight_decay * p);  v = v * rho + (1 - rho) * g * g
#   delta = sqrt(u + eps) / sqrt(v + eps) * g;  u = u * rho + (1 - rho) * delta * delta;  p -= lr * delta
# Traffic per element: read p, grad, v, u; write p, v, u.
@triton.jit
def adadelta_chunk(
    param, grad, square_avg, acc_delta, first, end,
    rho, one_minus_rho, eps, weight_decay, neg_lr,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    offsets, mask = chunk_offsets(first, end, BLOCK)
    param_ptrs, grad_ptrs = param + offsets, grad + offsets
    square_avg_ptrs, acc_delta_ptrs = square_avg + offsets, acc_delta + offsets
    param = tl.load(param_ptrs, mask=mask).to(COMPUTE)
    grad = tl.load(grad_ptrs, mask=mask).to(COMPUTE)
    if MAXIMIZE:
        grad = -grad
    if HAS_WEIGHT_DECAY:
        grad = tl.fma(param, weight_decay, grad)
    square_avg = tl.fma(one_minus_rho * grad, grad, tl.load(square_avg_ptrs, mask=mask).to(COMPUTE) * rho)
    tl.store(square_avg_ptrs, to_storage(square_avg, STATE), mask=mask)
    acc_delta = tl.load(acc_delta_ptrs, mask=mask).to(COMPUTE)
    std = rounded_sqrt(square_avg + eps)
    delta = rounded_div(rounded_sqrt(acc_delta + eps), std) * grad
    acc_delta = tl.fma(one_minus_rho * delta, delta, acc_delta * rho)
    tl.store(acc_delta_ptrs, to_storage(acc_delta, STATE), mask=mask)
    param = tl.fma(delta, neg_lr, param)
    tl.store(param_ptrs, to_storage(param, PARAM), mask=mask)


@triton.jit
def adadelta_step_kernel(
    param_table, grad_table, square_avg_table, acc_delta_table,
    numel_table, chunk_table, float64_hyperparameters,
    rho, one_minus_rho, eps, weight_decay, neg_lr,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    table = float64_hyperparameters
    in_memory = HYPERPARAMETERS_IN_MEMORY
    rho = hyperparameter(rho, table, _ADADELTA_RHO, in_memory, COMPUTE)
    one_minus_rho = hyperparameter(one_minus_rho, table, _ADADELTA_ONE_MINUS_RHO, in_memory, COMPUTE)
    eps = hyperparameter(eps, table, _ADADELTA_EPS, in_memory, COMPUTE)
    weight_decay = hyperparameter(weight_decay, table, _ADADELTA_WEIGHT_DECAY, in_memory, COMPUTE)
    neg_lr = hyperparameter(neg_lr, table, _ADADELTA_NEG_LR, in_memory, COMPUTE)

    param_address = tensor_address(param_table, tensor_index)
    grad_address = tensor_address(grad_table, tensor_index)
    square_avg_address = tensor_address(square_avg_table, tensor_index)
    acc_delta_address = tensor_address(acc_delta_table, tensor_index)
    param = param_address.to(tl.pointer_type(PARAM))
    grad = grad_address.to(tl.pointer_type(PARAM))
    square_avg = square_avg_address.to(tl.pointer_type(STATE))
    acc_delta = acc_delta_address.to(tl.pointer_type(STATE))
    addresses = param_address | grad_address | square_avg_address | acc_delta_address
    # The same update twice: on the 128-bit path with alignment Triton can see, or the general one.
    if is_aligned_chunk(end, addresses):
        adadelta_chunk(
            tl.multiple_of(param, 16), tl.multiple_of(grad, 16), tl.multiple_of(square_avg, 16),
            tl.multiple_of(acc_delta, 16), aligned16(first), aligned16(end),
            rho, one_minus_rho, eps, weight_decay, neg_lr,
            PARAM, STATE, COMPUTE, HAS_WEIGHT_DECAY, MAXIMIZE, BLOCK,
        )  # fmt: skip
    else:
        adadelta_chunk(
            param, grad, square_avg, acc_delta, first, end, rho, one_minus_rho, eps, weight_decay, neg_lr,
            PARAM, STATE, COMPUTE, HAS_WEIGHT_DECAY, MAXIMIZE, BLOCK,
        )  # fmt: skip


def launch_adadelta_step(
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    square_avgs: Sequence[torch.Tensor],
    acc_deltas: Sequence[torch.Tensor],
    *,
    lr: float,
    rho: float,
    eps: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    """One torch.optim.Adadelta step over a group of parameters, in place, in one launch. The state
    tensors hold the previous step's values (zeros before the first step, see ``launch_zero_``).

    >>> p, g, v, u = [torch.randn(3)], [torch.randn(3)], [torch.empty(3)], [torch.empty(3)]
    >>> launch_zero_(v + u)
    >>> launch_adadelta_step(p, g, v, u, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False)
    """
    _launch_step(
        adadelta_step_kernel, "launch_adadelta_step", params, grads,
        {"square_avgs": square_avgs, "acc_deltas": acc_deltas}, [rho, 1 - rho, eps, weight_decay, -lr],
        HAS_WEIGHT_DECAY=weight_decay != 0, MAXIMIZE=bool(maximize),
    )  # fmt: skip


# Index of each Adamax hyperparameter in the float64 table of float64 groups.
_ADAMAX_ONE_MINUS_BETA1, _ADAMAX_BETA2, _ADAMAX_EPS, _ADAMAX_WEIGHT_DECAY, _ADAMAX_NEG_CLR = (
    tl.constexpr(i) for i in range(5)
)


# torch.optim.Adamax (single-tensor formula, same operation order) for one chunk:
#   g = ±grad (+ weight_decay * p);  m = lerp(m, g, 1 - beta1);  u = max(u * beta2, |g| + eps)
#   p += (-clr * m) / u,  with clr = lr / (1 - beta1 ** step) computed on the host.
# The max propagates NaN as torch.maximum does. Traffic per element: read p, grad, m, u; write p, m, u.
@triton.jit
def adamax_chunk(
    param, grad, exp_avg, exp_inf, first, end,
    one_minus_beta1, beta2, eps, weight_decay, neg_clr,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    offsets, mask = chunk_offsets(first, end, BLOCK)
    param_ptrs, grad_ptrs = param + offsets, grad + offsets
    exp_avg_ptrs, exp_inf_ptrs = exp_avg + offsets, exp_inf + offsets
    param = tl.load(param_ptrs, mask=mask).to(COMPUTE)
    grad = tl.load(grad_ptrs, mask=mask).to(COMPUTE)
    if MAXIMIZE:
        grad = -grad
    if HAS_WEIGHT_DECAY:
        grad = tl.fma(param, weight_decay, grad)
    exp_avg = lerp(tl.load(exp_avg_ptrs, mask=mask).to(COMPUTE), grad, one_minus_beta1)
    tl.store(exp_avg_ptrs, to_storage(exp_avg, STATE), mask=mask)
    exp_inf = maximum_with_nan(tl.load(exp_inf_ptrs, mask=mask).to(COMPUTE) * beta2, tl.abs(grad) + eps)
    tl.store(exp_inf_ptrs, to_storage(exp_inf, STATE), mask=mask)
    param = param + rounded_div(neg_clr * exp_avg, exp_inf)
    tl.store(param_ptrs, to_storage(param, PARAM), mask=mask)


@triton.jit
def adamax_step_kernel(
    param_table, grad_table, exp_avg_table, exp_inf_table,
    numel_table, chunk_table, float64_hyperparameters,
    one_minus_beta1, beta2, eps, weight_decay, neg_clr,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    table = float64_hyperparameters
    in_memory = HYPERPARAMETERS_IN_MEMORY
    one_minus_beta1 = hyperparameter(one_minus_beta1, table, _ADAMAX_ONE_MINUS_BETA1, in_memory, COMPUTE)
    beta2 = hyperparameter(beta2, table, _ADAMAX_BETA2, in_memory, COMPUTE)
    eps = hyperparameter(eps, table, _ADAMAX_EPS, in_memory, COMPUTE)
    weight_decay = hyperparameter(weight_decay, table, _ADAMAX_WEIGHT_DECAY, in_memory, COMPUTE)
    neg_clr = hyperparameter(neg_clr, table, _ADAMAX_NEG_CLR, in_memory, COMPUTE)

    param_address = tensor_address(param_table, tensor_index)
    grad_address = tensor_address(grad_table, tensor_index)
    exp_avg_address = tensor_address(exp_avg_table, tensor_index)
    exp_inf_address = tensor_address(exp_inf_table, tensor_index)
    param = param_address.to(tl.pointer_type(PARAM))
    grad = grad_address.to(tl.pointer_type(PARAM))
    exp_avg = exp_avg_address.to(tl.pointer_type(STATE))
    exp_inf = exp_inf_address.to(tl.pointer_type(STATE))
    addresses = param_address | grad_address | exp_avg_address | exp_inf_address
    # The same update twice: on the 128-bit path with alignment Triton can see, or the general one.
    if is_aligned_chunk(end, addresses):
        adamax_chunk(
            tl.multiple_of(param, 16), tl.multiple_of(grad, 16), tl.multiple_of(exp_avg, 16),
            tl.multiple_of(exp_inf, 16), aligned16(first), aligned16(end),
            one_minus_beta1, beta2, eps, weight_decay, neg_clr,
            PARAM, STATE, COMPUTE, HAS_WEIGHT_DECAY, MAXIMIZE, BLOCK,
        )  # fmt: skip
    else:
        adamax_chunk(
            param, grad, exp_avg, exp_inf, first, end, one_minus_beta1, beta2, eps, weight_decay, neg_clr,
            PARAM, STATE, COMPUTE, HAS_WEIGHT_DECAY, MAXIMIZE, BLOCK,
        )  # fmt: skip


def launch_adamax_step(
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    exp_avgs: Sequence[torch.Tensor],
    exp_infs: Sequence[torch.Tensor],
    *,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    """One torch.optim.Adamax step over parameters that all reach step number ``step`` (>= 1), in place,
    in one launch. The state tensors hold the previous step's values (zeros before the first step).

    >>> p, g, m, u = [torch.randn(3)], [torch.randn(3)], [torch.empty(3)], [torch.empty(3)]
    >>> launch_zero_(m + u)
    >>> launch_adamax_step(p, g, m, u, step=1, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
    ...                    maximize=False)
    """
    clr = lr / (1 - beta1**step)
    _launch_step(
        adamax_step_kernel, "launch_adamax_step", params, grads, {"exp_avgs": exp_avgs, "exp_infs": exp_infs},
        [1 - beta1, beta2, eps, weight_decay, -clr], HAS_WEIGHT_DECAY=weight_decay != 0, MAXIMIZE=bool(maximize),
    )  # fmt: skip


def _launch_step(
    kernel,
    name: str,
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    states: dict[str, Sequence[torch.Tensor]],
    scalars: list[float],
    **flags: bool,
) -> None:
    """Validates a group and launches ``kernel`` over it: one program per BLOCK-element chunk of a
    parameter. The kernel takes the pointer tables (params, grads, then ``states`` in order), the chunk
    layout, the float64 table and ``scalars`` (read from the table for float64 groups), then ``flags``."""
    group = _check_group(name, params, grads, states)
    if group is None:
        return
    param_dtype, state_dtype, kept, numels, block, num_warps = group
    in_memory = param_dtype == torch.float64
    roles = [_kept(params, kept), _kept(grads, kept)]
    roles += [_kept(tensors, kept) for tensors in states.values()]
    tables, layout = _launch_tables(roles, numels, block)
    kernel[(layout.num_chunks,)](
        *tables, layout.numels, layout.chunks, _hyperparameter_table(scalars, in_memory, layout.numels),
        *_hyperparameter_arguments(scalars, in_memory),
        PARAM=triton_dtype(param_dtype), STATE=triton_dtype(state_dtype), COMPUTE=compute_dtype(param_dtype),
        HYPERPARAMETERS_IN_MEMORY=in_memory, BLOCK=block, num_warps=num_warps, **flags,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# NAdam, RAdam
# ----------------------------------------------------------------------------------------------
# As Adam's kernel: WEIGHT_DECAY is "none", "l2" (``decay`` = weight_decay, added to the gradient)
# or "decoupled" (``decay`` = 1 - lr * weight_decay, multiplied into the parameter first). Every
# step-dependent scalar is a Python float computed on the host, as torch's single-tensor code does.

# Index of each NAdam hyperparameter in the float64 table of float64 groups.
(
    _NADAM_ONE_MINUS_BETA1, _NADAM_BETA2, _NADAM_ONE_MINUS_BETA2, _NADAM_EPS, _NADAM_DECAY,
    _NADAM_BIAS_CORRECTION2, _NADAM_GRAD_COEF, _NADAM_EXP_AVG_COEF,
) = (tl.constexpr(i) for i in range(8))  # fmt: skip


# torch.optim.NAdam (single-tensor, non-capturable formula, same operation order) for one chunk:
#   g = ±grad (+ weight_decay * p | p *= 1 - lr * weight_decay);  m = lerp(m, g, 1 - beta1)
#   v = v * beta2 + (1 - beta2) * g * g;  denom = sqrt(v / bias_correction2) + eps
#   p += (grad_coef * g) / denom;  p += (exp_avg_coef * m) / denom
# with grad_coef = -lr (1 - mu) / (1 - mu_product), exp_avg_coef = -lr mu_next / (1 - mu_product mu_next).
# Traffic per element: read p, grad, m, v; write p, m, v.
@triton.jit
def nadam_chunk(
    param, grad, exp_avg, exp_avg_sq, first, end,
    one_minus_beta1, beta2, one_minus_beta2, eps, decay, bias_correction2, grad_coef, exp_avg_coef,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, WEIGHT_DECAY: tl.constexpr,
    MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    offsets, mask = chunk_offsets(first, end, BLOCK)
    param_ptrs, grad_ptrs = param + offsets, grad + offsets
    exp_avg_ptrs, exp_avg_sq_ptrs = exp_avg + offsets, exp_avg_sq + offsets
    param = tl.load(param_ptrs, mask=mask).to(COMPUTE)
    grad = tl.load(grad_ptrs, mask=mask).to(COMPUTE)
    if MAXIMIZE:
        grad = -grad
    if WEIGHT_DECAY == "l2":
        grad = tl.fma(param, decay, grad)
    elif WEIGHT_DECAY == "decoupled":
        param = param * decay
    exp_avg = lerp(tl.load(exp_avg_ptrs, mask=mask).to(COMPUTE), grad, one_minus_beta1)
    exp_avg_sq = tl.fma(one_minus_beta2 * grad, grad, tl.load(exp_avg_sq_ptrs, mask=mask).to(COMPUTE) * beta2)
    tl.store(exp_avg_ptrs, to_storage(exp_avg, STATE), mask=mask)
    tl.store(exp_avg_sq_ptrs, to_storage(exp_avg_sq, STATE), mask=mask)
    denom = rounded_sqrt(rounded_div(exp_avg_sq, bias_correction2)) + eps
    param = param + rounded_div(grad_coef * grad, denom)
    param = param + rounded_div(exp_avg_coef * exp_avg, denom)
    tl.store(param_ptrs, to_storage(param, PARAM), mask=mask)


@triton.jit
def nadam_step_kernel(
    param_table, grad_table, exp_avg_table, exp_avg_sq_table,
    numel_table, chunk_table, float64_hyperparameters,
    one_minus_beta1, beta2, one_minus_beta2, eps, decay, bias_correction2, grad_coef, exp_avg_coef,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    WEIGHT_DECAY: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    table = float64_hyperparameters
    in_memory = HYPERPARAMETERS_IN_MEMORY
    one_minus_beta1 = hyperparameter(one_minus_beta1, table, _NADAM_ONE_MINUS_BETA1, in_memory, COMPUTE)
    beta2 = hyperparameter(beta2, table, _NADAM_BETA2, in_memory, COMPUTE)
    one_minus_beta2 = hyperparameter(one_minus_beta2, table, _NADAM_ONE_MINUS_BETA2, in_memory, COMPUTE)
    eps = hyperparameter(eps, table, _NADAM_EPS, in_memory, COMPUTE)
    decay = hyperparameter(decay, table, _NADAM_DECAY, in_memory, COMPUTE)
    bias_correction2 = hyperparameter(bias_correction2, table, _NADAM_BIAS_CORRECTION2, in_memory, COMPUTE)
    grad_coef = hyperparameter(grad_coef, table, _NADAM_GRAD_COEF, in_memory, COMPUTE)
    exp_avg_coef = hyperparameter(exp_avg_coef, table, _NADAM_EXP_AVG_COEF, in_memory, COMPUTE)

    param_address = tensor_address(param_table, tensor_index)
    grad_address = tensor_address(grad_table, tensor_index)
    exp_avg_address = tensor_address(exp_avg_table, tensor_index)
    exp_avg_sq_address = tensor_address(exp_avg_sq_table, tensor_index)
    param = param_address.to(tl.pointer_type(PARAM))
    grad = grad_address.to(tl.pointer_type(PARAM))
    exp_avg = exp_avg_address.to(tl.pointer_type(STATE))
    exp_avg_sq = exp_avg_sq_address.to(tl.pointer_type(STATE))
    addresses = param_address | grad_address | exp_avg_address | exp_avg_sq_address
    # The same update twice: on the 128-bit path with alignment Triton can see, or the general one.
    if is_aligned_chunk(end, addresses):
        nadam_chunk(
            tl.multiple_of(param, 16), tl.multiple_of(grad, 16), tl.multiple_of(exp_avg, 16),
            tl.multiple_of(exp_avg_sq, 16), aligned16(first), aligned16(end),
            one_minus_beta1, beta2, one_minus_beta2, eps, decay, bias_correction2, grad_coef, exp_avg_coef,
            PARAM, STATE, COMPUTE, WEIGHT_DECAY, MAXIMIZE, BLOCK,
        )  # fmt: skip
    else:
        nadam_chunk(
            param, grad, exp_avg, exp_avg_sq, first, end,
            one_minus_beta1, beta2, one_minus_beta2, eps, decay, bias_correction2, grad_coef, exp_avg_coef,
            PARAM, STATE, COMPUTE, WEIGHT_DECAY, MAXIMIZE, BLOCK,
        )  # fmt: skip


def _weight_decay_mode(lr: float, weight_decay: float, decoupled: bool) -> tuple[str, float]:
    """(WEIGHT_DECAY, decay) as Adam's kernel takes them."""
    if weight_decay == 0:
        return "none", 0.0
    return ("decoupled", 1 - lr * weight_decay) if decoupled else ("l2", weight_decay)


def launch_nadam_step(
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    exp_avgs: Sequence[torch.Tensor],
    exp_avg_sqs: Sequence[torch.Tensor],
    *,
    step: int,
    mu: float,
    mu_next: float,
    mu_product: float,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled_weight_decay: bool,
    maximize: bool,
) -> None:
    """One torch.optim.NAdam step over parameters that all reach step number ``step`` (>= 1), in place, in
    one launch. ``mu``, ``mu_next`` and ``mu_product`` (the product of every mu so far, this step's
    included, as the float32 value torch keeps) are the host-side momentum schedule torch computes.

    >>> p, g, m, v = [torch.randn(3)], [torch.randn(3)], [torch.empty(3)], [torch.empty(3)]
    >>> launch_zero_(m + v)
    >>> launch_nadam_step(p, g, m, v, step=1, mu=0.8, mu_next=0.81, mu_product=0.8, lr=2e-3, beta1=0.9,
    ...                   beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False, maximize=False)
    """
    mode, decay = _weight_decay_mode(lr, weight_decay, decoupled_weight_decay)
    grad_coef = -lr * (1.0 - mu) / (1.0 - mu_product)
    exp_avg_coef = (-lr * mu_next) / (1.0 - mu_product * mu_next)
    scalars = [1 - beta1, beta2, 1 - beta2, eps, decay, 1 - beta2**step, grad_coef, exp_avg_coef]
    _launch_step(
        nadam_step_kernel, "launch_nadam_step", params, grads, {"exp_avgs": exp_avgs, "exp_avg_sqs": exp_avg_sqs},
        scalars, WEIGHT_DECAY=mode, MAXIMIZE=bool(maximize),
    )  # fmt: skip


# Index of each RAdam hyperparameter in the float64 table of float64 groups.
(
    _RADAM_ONE_MINUS_BETA1, _RADAM_BETA2, _RADAM_ONE_MINUS_BETA2, _RADAM_EPS, _RADAM_DECAY,
    _RADAM_BIAS_CORRECTION1, _RADAM_BIAS_CORRECTION2_SQRT, _RADAM_LR, _RADAM_RECT,
) = (tl.constexpr(i) for i in range(9))  # fmt: skip


# torch.optim.RAdam (single-tensor, non-capturable formula, same operation order) for one chunk:
#   g, m, v as NAdam;  m_hat = m / bias_correction1
#   RECTIFIED (rho_t > 5): p -= m_hat * lr * (sqrt(bias_correction2) / (sqrt(v) + eps)) * rect
#   else:                  p -= m_hat * lr
# Traffic per element: read p, grad, m, v; write p, m, v.
@triton.jit
def radam_chunk(
    param, grad, exp_avg, exp_avg_sq, first, end,
    one_minus_beta1, beta2, one_minus_beta2, eps, decay, bias_correction1, bias_correction2_sqrt, lr, rect,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, WEIGHT_DECAY: tl.constexpr,
    MAXIMIZE: tl.constexpr, RECTIFIED: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    offsets, mask = chunk_offsets(first, end, BLOCK)
    param_ptrs, grad_ptrs = param + offsets, grad + offsets
    exp_avg_ptrs, exp_avg_sq_ptrs = exp_avg + offsets, exp_avg_sq + offsets
    param = tl.load(param_ptrs, mask=mask).to(COMPUTE)
    grad = tl.load(grad_ptrs, mask=mask).to(COMPUTE)
    if MAXIMIZE:
        grad = -grad
    if WEIGHT_DECAY == "l2":
        grad = tl.fma(param, decay, grad)
    elif WEIGHT_DECAY == "decoupled":
        param = param * decay
    exp_avg = lerp(tl.load(exp_avg_ptrs, mask=mask).to(COMPUTE), grad, one_minus_beta1)
    exp_avg_sq = tl.fma(one_minus_beta2 * grad, grad, tl.load(exp_avg_sq_ptrs, mask=mask).to(COMPUTE) * beta2)
    tl.store(exp_avg_ptrs, to_storage(exp_avg, STATE), mask=mask)
    update = rounded_div(exp_avg, bias_correction1) * lr
    if RECTIFIED:
        update = update * rounded_div(bias_correction2_sqrt, rounded_sqrt(exp_avg_sq) + eps) * rect
    tl.store(exp_avg_sq_ptrs, to_storage(exp_avg_sq, STATE), mask=mask)
    tl.store(param_ptrs, to_storage(param - update, PARAM), mask=mask)


@triton.jit
def radam_step_kernel(
    param_table, grad_table, exp_avg_table, exp_avg_sq_table,
    numel_table, chunk_table, float64_hyperparameters,
    one_minus_beta1, beta2, one_minus_beta2, eps, decay, bias_correction1, bias_correction2_sqrt, lr, rect,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    WEIGHT_DECAY: tl.constexpr, MAXIMIZE: tl.constexpr, RECTIFIED: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    table = float64_hyperparameters
    in_memory = HYPERPARAMETERS_IN_MEMORY
    one_minus_beta1 = hyperparameter(one_minus_beta1, table, _RADAM_ONE_MINUS_BETA1, in_memory, COMPUTE)
    beta2 = hyperparameter(beta2, table, _RADAM_BETA2, in_memory, COMPUTE)
    one_minus_beta2 = hyperparameter(one_minus_beta2, table, _RADAM_ONE_MINUS_BETA2, in_memory, COMPUTE)
    eps = hyperparameter(eps, table, _RADAM_EPS, in_memory, COMPUTE)
    decay = hyperparameter(decay, table, _RADAM_DECAY, in_memory, COMPUTE)
    bias_correction1 = hyperparameter(bias_correction1, table, _RADAM_BIAS_CORRECTION1, in_memory, COMPUTE)
    bias_correction2_sqrt = hyperparameter(
        bias_correction2_sqrt, table, _RADAM_BIAS_CORRECTION2_SQRT, in_memory, COMPUTE
    )
    lr = hyperparameter(lr, table, _RADAM_LR, in_memory, COMPUTE)
    rect = hyperparameter(rect, table, _RADAM_RECT, in_memory, COMPUTE)

    param_address = tensor_address(param_table, tensor_index)
    grad_address = tensor_address(grad_table, tensor_index)
    exp_avg_address = tensor_address(exp_avg_table, tensor_index)
    exp_avg_sq_address = tensor_address(exp_avg_sq_table, tensor_index)
    param = param_address.to(tl.pointer_type(PARAM))
    grad = grad_address.to(tl.pointer_type(PARAM))
    exp_avg = exp_avg_address.to(tl.pointer_type(STATE))
    exp_avg_sq = exp_avg_sq_address.to(tl.pointer_type(STATE))
    addresses = param_address | grad_address | exp_avg_address | exp_avg_sq_address
    # The same update twice: on the 128-bit path with alignment Triton can see, or the general one.
    if is_aligned_chunk(end, addresses):
        radam_chunk(
            tl.multiple_of(param, 16), tl.multiple_of(grad, 16), tl.multiple_of(exp_avg, 16),
            tl.multiple_of(exp_avg_sq, 16), aligned16(first), aligned16(end),
            one_minus_beta1, beta2, one_minus_beta2, eps, decay, bias_correction1, bias_correction2_sqrt, lr, rect,
            PARAM, STATE, COMPUTE, WEIGHT_DECAY, MAXIMIZE, RECTIFIED, BLOCK,
        )  # fmt: skip
    else:
        radam_chunk(
            param, grad, exp_avg, exp_avg_sq, first, end,
            one_minus_beta1, beta2, one_minus_beta2, eps, decay, bias_correction1, bias_correction2_sqrt, lr, rect,
            PARAM, STATE, COMPUTE, WEIGHT_DECAY, MAXIMIZE, RECTIFIED, BLOCK,
        )  # fmt: skip


def launch_radam_step(
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    exp_avgs: Sequence[torch.Tensor],
    exp_avg_sqs: Sequence[torch.Tensor],
    *,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled_weight_decay: bool,
    maximize: bool,
) -> None:
    """One torch.optim.RAdam step over parameters that all reach step number ``step`` (>= 1), in place,
    in one launch. The state tensors hold the previous step's values (zeros before the first step).

    >>> p, g, m, v = [torch.randn(3)], [torch.randn(3)], [torch.empty(3)], [torch.empty(3)]
    >>> launch_zero_(m + v)
    >>> launch_radam_step(p, g, m, v, step=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
    ...                   decoupled_weight_decay=False, maximize=False)
    """
    mode, decay = _weight_decay_mode(lr, weight_decay, decoupled_weight_decay)
    bias_correction1, bias_correction2 = 1 - beta1**step, 1 - beta2**step
    # The variance rectification term, as torch computes it on the host.
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
    rectified = rho_t > 5.0
    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5 if rectified else 0.0
    scalars = [1 - beta1, beta2, 1 - beta2, eps, decay, bias_correction1, bias_correction2**0.5, lr, rect]
    _launch_step(
        radam_step_kernel, "launch_radam_step", params, grads, {"exp_avgs": exp_avgs, "exp_avg_sqs": exp_avg_sqs},
        scalars, WEIGHT_DECAY=mode, MAXIMIZE=bool(maximize), RECTIFIED=rectified,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Rprop, ASGD
# ----------------------------------------------------------------------------------------------

# Index of each Rprop hyperparameter in the float64 table of float64 groups.
_RPROP_ETAMINUS, _RPROP_ETAPLUS, _RPROP_STEP_SIZE_MIN, _RPROP_STEP_SIZE_MAX = (tl.constexpr(i) for i in range(4))


@triton.jit
def sign_or_zero(x):
    """torch.sign's value on the CPU: 1, -1 or 0, and 0 for NaN."""
    return (x > 0).to(x.dtype) - (x < 0).to(x.dtype)


# torch.optim.Rprop (single-tensor formula) for one chunk:
#   g = ±grad;  s = g * prev;  factor = etaplus (s > 0) | etaminus (s < 0) | 1 (s == 0, or NaN: torch's
#   sign of NaN is 0);  step_size = clamp(step_size * factor, step_size_min, step_size_max)
#   g = 0 where factor == etaminus;  p -= sign(g) * step_size;  prev = g
# The clamp propagates NaN as torch.clamp does. Traffic per element: read p, grad, prev, step_size;
# write p, prev, step_size.
@triton.jit
def rprop_chunk(
    param, grad, prev, step_size, first, end,
    etaminus, etaplus, step_size_min, step_size_max,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    offsets, mask = chunk_offsets(first, end, BLOCK)
    param_ptrs, grad_ptrs = param + offsets, grad + offsets
    prev_ptrs, step_size_ptrs = prev + offsets, step_size + offsets
    param = tl.load(param_ptrs, mask=mask).to(COMPUTE)
    grad = tl.load(grad_ptrs, mask=mask).to(COMPUTE)
    if MAXIMIZE:
        grad = -grad
    agreement = sign_or_zero(grad * tl.load(prev_ptrs, mask=mask).to(COMPUTE))
    factor = tl.where(agreement > 0, etaplus, tl.where(agreement < 0, etaminus, 1.0)).to(COMPUTE)
    step_size = tl.load(step_size_ptrs, mask=mask).to(COMPUTE) * factor
    step_size = tl.where(step_size < step_size_min, step_size_min, step_size)
    step_size = tl.where(step_size > step_size_max, step_size_max, step_size)
    tl.store(step_size_ptrs, to_storage(step_size, STATE), mask=mask)
    grad = tl.where(factor == etaminus, 0.0, grad).to(COMPUTE)
    tl.store(prev_ptrs, to_storage(grad, STATE), mask=mask)
    param = param - sign_or_zero(grad) * step_size
    tl.store(param_ptrs, to_storage(param, PARAM), mask=mask)


@triton.jit
def rprop_step_kernel(
    param_table, grad_table, prev_table, step_size_table,
    numel_table, chunk_table, float64_hyperparameters,
    etaminus, etaplus, step_size_min, step_size_max,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    table = float64_hyperparameters
    in_memory = HYPERPARAMETERS_IN_MEMORY
    etaminus = hyperparameter(etaminus, table, _RPROP_ETAMINUS, in_memory, COMPUTE)
    etaplus = hyperparameter(etaplus, table, _RPROP_ETAPLUS, in_memory, COMPUTE)
    step_size_min = hyperparameter(step_size_min, table, _RPROP_STEP_SIZE_MIN, in_memory, COMPUTE)
    step_size_max = hyperparameter(step_size_max, table, _RPROP_STEP_SIZE_MAX, in_memory, COMPUTE)

    param_address = tensor_address(param_table, tensor_index)
    grad_address = tensor_address(grad_table, tensor_index)
    prev_address = tensor_address(prev_table, tensor_index)
    step_size_address = tensor_address(step_size_table, tensor_index)
    param = param_address.to(tl.pointer_type(PARAM))
    grad = grad_address.to(tl.pointer_type(PARAM))
    prev = prev_address.to(tl.pointer_type(STATE))
    step_size = step_size_address.to(tl.pointer_type(STATE))
    addresses = param_address | grad_address | prev_address | step_size_address
    # The same update twice: on the 128-bit path with alignment Triton can see, or the general one.
    if is_aligned_chunk(end, addresses):
        rprop_chunk(
            tl.multiple_of(param, 16), tl.multiple_of(grad, 16), tl.multiple_of(prev, 16),
            tl.multiple_of(step_size, 16), aligned16(first), aligned16(end),
            etaminus, etaplus, step_size_min, step_size_max, PARAM, STATE, COMPUTE, MAXIMIZE, BLOCK,
        )  # fmt: skip
    else:
        rprop_chunk(
            param, grad, prev, step_size, first, end,
            etaminus, etaplus, step_size_min, step_size_max, PARAM, STATE, COMPUTE, MAXIMIZE, BLOCK,
        )  # fmt: skip


def launch_rprop_step(
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    prevs: Sequence[torch.Tensor],
    step_sizes: Sequence[torch.Tensor],
    *,
    etaminus: float,
    etaplus: float,
    step_size_min: float,
    step_size_max: float,
    maximize: bool,
) -> None:
    """One torch.optim.Rprop step over a group of parameters, in place, in one launch. ``prevs`` hold the
    previous (masked) gradients (zeros before the first step), ``step_sizes`` the per-element step sizes
    (``lr`` before the first step).

    >>> p, g, prev, size = [torch.randn(3)], [torch.randn(3)], [torch.empty(3)], [torch.empty(3)]
    >>> launch_zero_(prev + size)  # (Rprop fills the step sizes with lr)
    >>> launch_rprop_step(p, g, prev, size, etaminus=0.5, etaplus=1.2, step_size_min=1e-6, step_size_max=50.0,
    ...                   maximize=False)
    """
    _launch_step(
        rprop_step_kernel, "launch_rprop_step", params, grads, {"prevs": prevs, "step_sizes": step_sizes},
        [etaminus, etaplus, step_size_min, step_size_max], MAXIMIZE=bool(maximize),
    )  # fmt: skip


# Index of each ASGD hyperparameter in the float64 table of float64 groups.
_ASGD_WEIGHT_DECAY, _ASGD_DECAY, _ASGD_NEG_ETA, _ASGD_MU = (tl.constexpr(i) for i in range(4))


# torch.optim.ASGD (single-tensor, non-capturable formula, same operation order) for one chunk:
#   g = ±grad (+ weight_decay * p);  p *= 1 - lambd * eta;  p += -eta * g
#   ax += (p - ax) * mu  (AVERAGE: mu != 1)  |  ax = p
# with eta and mu the state's values before this step, read on the host as torch reads them.
# Traffic per element: read p, grad (and ax when averaging); write p, ax.
@triton.jit
def asgd_chunk(
    param, grad, ax, first, end,
    weight_decay, decay, neg_eta, mu,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, AVERAGE: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    offsets, mask = chunk_offsets(first, end, BLOCK)
    param_ptrs, grad_ptrs, ax_ptrs = param + offsets, grad + offsets, ax + offsets
    param = tl.load(param_ptrs, mask=mask).to(COMPUTE)
    grad = tl.load(grad_ptrs, mask=mask).to(COMPUTE)
    if MAXIMIZE:
        grad = -grad
    if HAS_WEIGHT_DECAY:
        grad = tl.fma(param, weight_decay, grad)
    param = tl.fma(grad, neg_eta, param * decay)
    param = to_storage(param, PARAM)
    tl.store(param_ptrs, param, mask=mask)
    param = param.to(COMPUTE)
    if AVERAGE:
        ax = tl.load(ax_ptrs, mask=mask).to(COMPUTE)
        ax = ax + (param - ax) * mu
    else:
        ax = param
    tl.store(ax_ptrs, to_storage(ax, STATE), mask=mask)


@triton.jit
def asgd_step_kernel(
    param_table, grad_table, ax_table,
    numel_table, chunk_table, float64_hyperparameters,
    weight_decay, decay, neg_eta, mu,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, AVERAGE: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    table = float64_hyperparameters
    in_memory = HYPERPARAMETERS_IN_MEMORY
    weight_decay = hyperparameter(weight_decay, table, _ASGD_WEIGHT_DECAY, in_memory, COMPUTE)
    decay = hyperparameter(decay, table, _ASGD_DECAY, in_memory, COMPUTE)
    neg_eta = hyperparameter(neg_eta, table, _ASGD_NEG_ETA, in_memory, COMPUTE)
    mu = hyperparameter(mu, table, _ASGD_MU, in_memory, COMPUTE)

    param_address = tensor_address(param_table, tensor_index)
    grad_address = tensor_address(grad_table, tensor_index)
    ax_address = tensor_address(ax_table, tensor_index)
    param = param_address.to(tl.pointer_type(PARAM))
    grad = grad_address.to(tl.pointer_type(PARAM))
    ax = ax_address.to(tl.pointer_type(STATE))
    # The same update twice: on the 128-bit path with alignment Triton can see, or the general one.
    if is_aligned_chunk(end, param_address | grad_address | ax_address):
        asgd_chunk(
            tl.multiple_of(param, 16), tl.multiple_of(grad, 16), tl.multiple_of(ax, 16),
            aligned16(first), aligned16(end), weight_decay, decay, neg_eta, mu,
            PARAM, STATE, COMPUTE, HAS_WEIGHT_DECAY, AVERAGE, MAXIMIZE, BLOCK,
        )  # fmt: skip
    else:
        asgd_chunk(
            param, grad, ax, first, end, weight_decay, decay, neg_eta, mu,
            PARAM, STATE, COMPUTE, HAS_WEIGHT_DECAY, AVERAGE, MAXIMIZE, BLOCK,
        )  # fmt: skip


def launch_asgd_step(
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    axs: Sequence[torch.Tensor],
    *,
    eta: float,
    mu: float,
    lambd: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    """One torch.optim.ASGD step over parameters whose states hold the same ``eta`` and ``mu`` (the values
    before this step), in place, in one launch. ``axs`` hold the running averages (zeros before the first step).

    >>> p, g, ax = [torch.randn(3)], [torch.randn(3)], [torch.empty(3)]
    >>> launch_asgd_step(p, g, ax, eta=0.01, mu=1.0, lambd=1e-4, weight_decay=0.0, maximize=False)
    """
    _launch_step(
        asgd_step_kernel, "launch_asgd_step", params, grads, {"axs": axs},
        [weight_decay, 1 - lambd * eta, -eta, mu], HAS_WEIGHT_DECAY=weight_decay != 0, AVERAGE=mu != 1,
        MAXIMIZE=bool(maximize),
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Host helpers: validation and hyperparameter passing
# ----------------------------------------------------------------------------------------------


def _hyperparameter_table(scalars: list[float], in_memory: bool, placeholder: torch.Tensor) -> torch.Tensor:
    """The float64 hyperparameter tensor of a float64 group; otherwise ``placeholder`` (never read).

    Only float64 groups pay for this ingest: on a GPU a host-to-device copy from pageable
    memory waits for the queued work, which float32 steps should not.
    """
    if not in_memory:
        return placeholder
    return torch.tensor([float(s) for s in scalars], dtype=torch.float64, device=placeholder.device)


def _hyperparameter_arguments(scalars: list[float], in_memory: bool) -> list[float]:
    # float64 groups read the table; zeros keep the (unused) float32 arguments well defined.
    return [0.0] * len(scalars) if in_memory else [float(s) for s in scalars]


def _check_dense(name: str, what: str, tensor: torch.Tensor, like: torch.Tensor | None = None) -> None:
    """A table entry describes one dense range of memory, so each tensor must fill its range (contiguous,
    or a permutation of contiguous dims such as a transposed weight), laid out like its parameter
    (``like``) so that element i of the range is the same element in param, grad and state."""
    if tensor.numel() <= 1 or (tensor.is_contiguous() and (like is None or like.is_contiguous())):
        return
    if not is_non_overlapping_and_dense(tensor) or (like is not None and tensor.stride() != like.stride()):
        layout = "" if like is None else f", expected the strides {like.stride()} of its parameter"
        raise ValueError(
            f"{name}: {what} must be dense (shape {tuple(tensor.shape)}, strides {tensor.stride()}{layout})"
        )


_HALF_DTYPES = (torch.float16, torch.bfloat16)
_FLOATING = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


class _StepPlan(NamedTuple):
    """What a step launch needs from a valid group, derived from its layout alone."""

    param_dtype: torch.dtype
    state_dtype: torch.dtype
    kept: list[int]  # indices of the non-empty parameters, the ones updated
    numels: list[int]  # their element counts
    block: int
    num_warps: int


# What _check_group found per group: (name, state roles, the ids of the params and state tensors)
# -> (weak references to those tensors, each param's layout, the plan). Params and optimizer
# state live across steps, and a torch tensor's dtype, shape, strides and device never change
# (tritongrad makes new views, it never restrides one in place), so while the same tensors are
# alive their check stands; only the gradients, new in every step, are compared with their
# params' layouts. A training loop thus validates its group once.
_CHECKED_GROUPS: dict[tuple, tuple] = {}


def _check_group(
    name: str,
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    states: dict[str, Sequence[torch.Tensor] | None],
) -> _StepPlan | None:
    """Validates a parameter group; returns its launch plan (dtypes, the non-empty parameters,
    their sizes and the launch config), or None when there is nothing to update (no params, or
    only empty ones)."""
    # (Written for speed: it runs in every optimizer step.)
    lasting = [*params]
    for tensors in states.values():
        if tensors is not None:
            lasting += tensors
    key = (name, *[role for role, tensors in states.items() if tensors is not None], len(grads), *map(id, lasting))
    entry = _CHECKED_GROUPS.get(key)
    if entry is not None and len(grads) == len(params):
        references, layouts, plan = entry
        valid = True
        for reference, tensor in zip(references, lasting):
            if reference() is not tensor:
                valid = False
                break
        if valid:
            for grad, (shape, strides, dtype, device) in zip(grads, layouts):
                if not (
                    type(grad) is torch.Tensor and grad.dtype == dtype and grad.shape == shape
                    and grad.stride() == strides and grad.device == device
                ):  # fmt: skip
                    valid = False
                    break
        if valid:
            return plan
    plan = _check_group_layout(name, params, grads, states)
    references = [weakref.ref(tensor) for tensor in lasting]
    layouts = [(p.shape, p.stride(), p.dtype, p.device) for p in params]
    remember(_CHECKED_GROUPS, key, (references, layouts, plan))
    return plan


def _step_as_real(name: str, lists: dict[str, Sequence[torch.Tensor]]) -> None:
    """A group of complex parameters steps as torch's does: each complex tensor of the lists (params,
    grads, states) is replaced, in its list, by its ``view_as_real``, so each real and imaginary part is
    one element (Adam's second moment is per part, as torch's)."""
    for role, tensors in lists.items():
        if not isinstance(tensors, list):
            raise TypeError(f"{name}: complex parameters need {role} as a list (each is replaced by its real view)")
        tensors[:] = [torch.view_as_real(t) if t.is_complex() else t for t in tensors]


def _check_group_layout(
    name: str,
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    states: dict[str, Sequence[torch.Tensor] | None],
) -> _StepPlan | None:
    """_check_group's checks (each tensor a torch.Tensor of the right dtype, shape, layout, device)."""
    lists = {"params": params, "grads": grads, **{k: v for k, v in states.items() if v is not None}}
    lengths = {role: len(tensors) for role, tensors in lists.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{name}: every list needs one tensor per parameter, got lengths {lengths}")
    for role, tensors in lists.items():
        for index, tensor in enumerate(tensors):
            if not isinstance(tensor, torch.Tensor):
                raise TypeError(f"{name}: {role}[{index}] is a {type(tensor).__name__}, not a torch.Tensor")
    if not params:
        return None
    check_same_device(name, *[t for tensors in lists.values() for t in tensors])
    param_dtype = params[0].dtype
    if param_dtype.is_complex:  # (kept off the cached path: a training loop's groups are real)
        _step_as_real(name, lists)
        return _check_group_layout(name, params, grads, states)
    if param_dtype not in _FLOATING:
        raise TypeError(
            f"{name}: parameters must be floating point (float16/bfloat16/float32/float64), got {param_dtype}"
        )
    state_roles = [role for role in lists if role not in ("params", "grads")]
    state_dtype = lists[state_roles[0]][0].dtype if state_roles else param_dtype
    allowed_state = (param_dtype, torch.float32) if param_dtype in _HALF_DTYPES else (param_dtype,)
    if state_dtype not in allowed_state:
        raise TypeError(
            f"{name}: optimizer state for {param_dtype} parameters must be "
            f"{' or '.join(str(d) for d in allowed_state)}, got {state_dtype}"
        )
    for role, tensors in lists.items():
        expected = state_dtype if role in state_roles else param_dtype
        for index, tensor in enumerate(tensors):
            what = f"{role}[{index}]"
            if tensor.dtype != expected:
                raise TypeError(f"{name}: {what} has dtype {tensor.dtype}, expected {expected} like the rest")
            if tensor.shape != params[index].shape:  # (a state loaded for another model: torch's size error)
                raise RuntimeError(
                    f"{name}: {what} has shape {tuple(tensor.shape)} but params[{index}] has "
                    f"shape {tuple(params[index].shape)}"
                )
            _check_dense(name, what, tensor, params[index])
    kept = [i for i, p in enumerate(params) if p.numel() > 0]
    if not kept:
        return None
    numels = [params[i].numel() for i in kept]
    block, num_warps = elementwise_launch_config(max(numels))
    return _StepPlan(param_dtype, state_dtype, kept, numels, block, num_warps)


# ----------------------------------------------------------------------------------------------
# Gradient norms and clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_)
# ----------------------------------------------------------------------------------------------

# How a norm accumulates |x|: "two" sums squares, "one" sums, "inf"/"-inf" take the max/min,
# "p" sums |x|**p; the finishing step turns the accumulator into the norm.
_NORM_KINDS = {2.0: "two", 1.0: "one", math.inf: "inf", -math.inf: "-inf"}


@triton.jit
def maximum_with_nan(a, b):
    """max(a, b), NaN if either is (torch's max; a plain tl.maximum drops NaNs on a GPU)."""
    return tl.maximum(a, b, propagate_nan=tl.PropagateNan.ALL)


@triton.jit
def minimum_with_nan(a, b):
    """min(a, b), NaN if either is."""
    return tl.minimum(a, b, propagate_nan=tl.PropagateNan.ALL)


@triton.jit
def extreme_with_nan(values, LARGEST: tl.constexpr):
    """The max (LARGEST) or min of a block, NaN if any value is: tl.max/tl.min drop NaNs on a GPU."""
    if LARGEST:
        extreme = tl.max(values, axis=0)
    else:
        extreme = tl.min(values, axis=0)
    has_nan = tl.max((values != values).to(tl.int32), axis=0) > 0
    return tl.where(has_nan, float("nan"), extreme).to(values.dtype)


@triton.jit
def norm_identity(NORM: tl.constexpr, ACC: tl.constexpr):
    """The accumulator of no elements: 0, or +inf for the min of "-inf"."""
    if NORM == "-inf":
        result = float("inf")
    else:
        result = 0.0
    return tl.cast(result, ACC)


@triton.jit
def norm_accumulate(magnitudes, mask, power, NORM: tl.constexpr):
    """Reduces the |x| of a block's unmasked lanes to one accumulator value."""
    if NORM == "two":
        result = tl.sum(tl.where(mask, magnitudes * magnitudes, 0.0), axis=0)
    elif NORM == "one":
        result = tl.sum(tl.where(mask, magnitudes, 0.0), axis=0)
    elif NORM == "inf":
        result = extreme_with_nan(tl.where(mask, magnitudes, 0.0), True)
    elif NORM == "-inf":
        result = extreme_with_nan(tl.where(mask, magnitudes, float("inf")), False)
    else:
        # |x|**p as exp2(p * log2|x|), with 0**p (0, or inf for p < 0) set apart so log2 never sees 0.
        positive = magnitudes > 0
        powered = tl.exp2(power * tl.log2(tl.where(positive, magnitudes, 1.0)))
        zero_power = tl.where(power > 0, 0.0, float("inf")).to(magnitudes.dtype)
        powered = tl.where(positive, powered, tl.where(magnitudes == 0, zero_power, magnitudes))
        result = tl.sum(tl.where(mask, powered, 0.0), axis=0)
    return result


@triton.jit
def norm_partial(values, first, end, power, COMPUTE: tl.constexpr, NORM: tl.constexpr, BLOCK: tl.constexpr):
    offsets, mask = chunk_offsets(first, end, BLOCK)
    magnitudes = tl.abs(tl.load(values + offsets, mask=mask).to(COMPUTE))
    return norm_accumulate(magnitudes, mask, power, NORM)


# One program reduces one BLOCK-element chunk of one tensor of the table to one partial
# accumulator; the finishing kernel combines the partials (deterministically, no atomics).
# Traffic: read every element once; write one value per chunk.
@triton.jit(do_not_specialize=["power_bits"])
def norm_partials_kernel(
    tensor_table, numel_table, chunk_table,
    partials, first_partial, power_bits,
    ELEMENT: tl.constexpr, COMPUTE: tl.constexpr, ACC: tl.constexpr, NORM: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    power = bits_to_float(power_bits).to(COMPUTE)
    address = tensor_address(tensor_table, tensor_index)
    values = address.to(tl.pointer_type(ELEMENT))
    # The same reduction on the 128-bit path with alignment Triton can see, or the general one.
    if is_aligned_chunk(end, address):
        partial = norm_partial(tl.multiple_of(values, 16), aligned16(first), aligned16(end), power, COMPUTE, NORM,
                               BLOCK)  # fmt: skip
    else:
        partial = norm_partial(values, first, end, power, COMPUTE, NORM, BLOCK)
    tl.store(partials + first_partial + tl.program_id(0), partial.to(ACC))


@triton.jit
def round_to(value, DTYPE: tl.constexpr):
    """``value`` rounded to DTYPE (nearest even) and widened back: one op of torch in DTYPE."""
    return to_storage(value, DTYPE).to(value.dtype)


@triton.jit
def segmented_sum(value_a, starts_a, value_b, starts_b):
    """Combine of a segmented inclusive scan: sums restart where a segment starts."""
    return tl.where(starts_b != 0, value_b, value_a + value_b), starts_a | starts_b


@triton.jit
def segmented_max(value_a, starts_a, value_b, starts_b):
    return tl.where(starts_b != 0, value_b, maximum_with_nan(value_a, value_b)), starts_a | starts_b


@triton.jit
def segmented_min(value_a, starts_a, value_b, starts_b):
    return tl.where(starts_b != 0, value_b, minimum_with_nan(value_a, value_b)), starts_a | starts_b


@triton.jit
def combine_accumulators(a, b, NORM: tl.constexpr):
    if NORM == "inf":
        result = maximum_with_nan(a, b)
    elif NORM == "-inf":
        result = minimum_with_nan(a, b)
    else:
        result = a + b
    return result


@triton.jit
def norm_of_accumulator(acc, power, NORM: tl.constexpr):
    """The norm whose accumulator (sum of squares, of |x|, of |x|**p; or the max/min) is ``acc``."""
    if NORM == "two":
        result = rounded_sqrt(acc)
    elif NORM == "p":
        # acc**(1/p) as exp2(log2(acc) / p), with 0**(1/p) (0, or inf for p < 0) set apart.
        positive = acc > 0
        result = tl.exp2(rounded_div(tl.log2(tl.where(positive, acc, 1.0)), power))
        zero_root = tl.where(power > 0, 0.0, float("inf")).to(acc.dtype)
        result = tl.where(positive, result, tl.where(acc == 0, zero_root, acc))
    else:
        result = acc
    return result


@triton.jit
def accumulator_of_norm(norm, power, NORM: tl.constexpr):
    """The inverse of ``norm_of_accumulator``: a norm as its contribution to the next norm."""
    if NORM == "two":
        result = norm * norm
    elif NORM == "p":
        positive = norm > 0
        result = tl.exp2(power * tl.log2(tl.where(positive, norm, 1.0)))
        zero_power = tl.where(power > 0, 0.0, float("inf")).to(norm.dtype)
        result = tl.where(positive, result, tl.where(norm == 0, zero_power, norm))
    else:
        result = norm
    return result


# The finishing program's partials per iteration and warps: two per thread keeps the segmented
# scan (float64 with exp2/log2 for general p) clear of spills on sm_80/sm_90.
_FINISH_BLOCK, _FINISH_WARPS = 512, 8

# The rounding codes of ``launch_total_norm``'s segment table: the dtype a tensor's norm is
# rounded to (torch returns each tensor's norm in the tensor's dtype before combining them).
_ROUND_NONE, _ROUND_FLOAT32, _ROUND_BFLOAT16, _ROUND_FLOAT16 = 0, 1, 2, 3


@triton.jit
def round_by_code(value, code):
    """``value`` rounded to the dtype that ``code`` names (0: left as it is)."""
    # Each rounding sees only its own lanes (0 elsewhere), so no lane overflows a narrower type.
    result = tl.where(code == 1, round_to(tl.where(code == 1, value, 0.0), tl.float32), value)
    result = tl.where(code == 2, round_to(tl.where(code == 2, value, 0.0), tl.bfloat16), result)
    return tl.where(code == 3, round_to(tl.where(code == 3, value, 0.0), tl.float16), result)


# One program: combines every partial of every buffer of the table (one buffer per device) as
# torch combines per-tensor norms. Each partial's segment entry is (rounding code << 1) | (1 if it
# is its tensor's last chunk); a segmented scan sums each tensor's partials, whose norm is
# rounded to the tensor's dtype and folded into the total, which is rounded to TOTAL.
@triton.jit(do_not_specialize=["power_bits"])
def norm_finish_kernel(
    partial_table, segment_table, partial_counts, num_buffers, total, power_bits,
    ACC: tl.constexpr, TOTAL: tl.constexpr, NORM: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    identity = norm_identity(NORM, ACC)
    power = bits_to_float(power_bits).to(ACC)
    acc = tl.full([BLOCK], identity, ACC)
    for buffer in range(num_buffers):
        partials = tensor_address(partial_table, buffer).to(tl.pointer_type(ACC))
        segments = tensor_address(segment_table, buffer).to(tl.pointer_type(tl.int64))
        count = tl.load(partial_counts + buffer)
        carry = identity  # the running accumulator of a tensor whose chunks continue past a block
        for start in range(0, count, BLOCK):
            offsets = start + tl.arange(0, BLOCK)
            mask = offsets < count
            values = tl.load(partials + offsets, mask=mask, other=identity)
            info = tl.load(segments + offsets, mask=mask, other=1)
            after_last = tl.load(segments + offsets - 1, mask=mask & (offsets > 0), other=1) & 1
            starts = (after_last != 0).to(tl.int32)
            if NORM == "inf":
                scanned, started = tl.associative_scan((values, starts), 0, segmented_max)
            elif NORM == "-inf":
                scanned, started = tl.associative_scan((values, starts), 0, segmented_min)
            else:
                scanned, started = tl.associative_scan((values, starts), 0, segmented_sum)
            tensor_acc = tl.where(started != 0, scanned, combine_accumulators(carry, scanned, NORM))
            is_last = (info & 1) != 0
            norm = round_by_code(norm_of_accumulator(tensor_acc, power, NORM), info >> 1)
            contribution = tl.where(mask & is_last, accumulator_of_norm(norm, power, NORM), identity)
            acc = combine_accumulators(acc, contribution, NORM)
            final = offsets == tl.minimum(count, start + BLOCK) - 1
            carry = tl.sum(tl.where(final & ~is_last, tensor_acc, 0.0), axis=0).to(ACC)
            carry = tl.where(tl.sum((final & ~is_last).to(tl.int32), axis=0) > 0, carry, identity)
    if NORM == "inf":
        accumulated = extreme_with_nan(acc, True)
    elif NORM == "-inf":
        accumulated = extreme_with_nan(acc, False)
    else:
        accumulated = tl.sum(acc, axis=0)
    tl.store(total, to_storage(norm_of_accumulator(accumulated, power, NORM), TOTAL))


@triton.jit
def scale_chunk(values, first, end, coef, ELEMENT: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr):
    offsets, mask = chunk_offsets(first, end, BLOCK)
    pointers = values + offsets
    tl.store(pointers, to_storage(tl.load(pointers, mask=mask).to(COMPUTE) * coef, ELEMENT), mask=mask)


# grads *= min(max_norm / (total + 1e-6), 1) for one chunk of one gradient. Every program
# computes the coefficient from the total on the device (a few scalar ops) rather than a host
# read-back; each op is rounded to the total's dtype as torch's ops on a 0-d tensor of that
# dtype round it (torch computes max_norm / t as reciprocal(t) * max_norm).
# Traffic per element: read and write the gradient once.
@triton.jit(do_not_specialize=["max_norm_bits", "eps_bits"])
def scale_by_clip_coef_kernel(
    tensor_table, numel_table, chunk_table, total, max_norm_bits, eps_bits,
    ELEMENT: tl.constexpr, COMPUTE: tl.constexpr, TOTAL: tl.constexpr, TOTAL_COMPUTE: tl.constexpr,
    BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    shifted = round_to(tl.load(total).to(TOTAL_COMPUTE) + bits_to_float(eps_bits).to(TOTAL_COMPUTE), TOTAL)
    reciprocal = round_to(rounded_div(tl.full([], 1.0, TOTAL_COMPUTE), shifted), TOTAL)
    coef = round_to(reciprocal * bits_to_float(max_norm_bits).to(TOTAL_COMPUTE), TOTAL)
    coef = tl.where(coef > 1.0, 1.0, coef).to(COMPUTE)  # torch.clamp(max=1): NaN stays NaN
    address = tensor_address(tensor_table, tensor_index)
    values = address.to(tl.pointer_type(ELEMENT))
    # The same update on the 128-bit path with alignment Triton can see, or the general one.
    if is_aligned_chunk(end, address):
        scale_chunk(tl.multiple_of(values, 16), aligned16(first), aligned16(end), coef, ELEMENT, COMPUTE, BLOCK)
    else:
        scale_chunk(values, first, end, coef, ELEMENT, COMPUTE, BLOCK)


@triton.jit
def clamp_chunk(values, first, end, low, high, ELEMENT: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr):
    offsets, mask = chunk_offsets(first, end, BLOCK)
    pointers = values + offsets
    loaded = tl.load(pointers, mask=mask).to(COMPUTE)
    # min(max(x, low), high), as torch's clamp: with low > high every value becomes high; NaN stays
    raised = tl.where(loaded < low, low, loaded)
    clamped = tl.where(raised > high, high, raised)
    tl.store(pointers, to_storage(clamped, ELEMENT), mask=mask)


# tensors = clamp(tensors, low, high) for one chunk of one tensor; the bounds are first rounded
# to the tensors' dtype as torch's clamp rounds its scalar bounds. NaN stays NaN; low > high gives high.
@triton.jit(do_not_specialize=["low_bits", "high_bits"])
def clamp_kernel(
    tensor_table, numel_table, chunk_table, low_bits, high_bits,
    ELEMENT: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, first, end = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    low = round_to(bits_to_float(low_bits).to(COMPUTE), ELEMENT)
    high = round_to(bits_to_float(high_bits).to(COMPUTE), ELEMENT)
    address = tensor_address(tensor_table, tensor_index)
    values = address.to(tl.pointer_type(ELEMENT))
    # The same update on the 128-bit path with alignment Triton can see, or the general one.
    if is_aligned_chunk(end, address):
        clamp_chunk(tl.multiple_of(values, 16), aligned16(first), aligned16(end), low, high, ELEMENT, COMPUTE, BLOCK)
    else:
        clamp_chunk(values, first, end, low, high, ELEMENT, COMPUTE, BLOCK)


def _groups_by_device_and_dtype(name: str, tensors: Sequence[torch.Tensor]) -> dict[tuple, list[torch.Tensor]]:
    """The tensors bucketed by (device, dtype) in first-seen order (torch's foreach grouping); empty
    tensors count for the group's dtype but are left out of its list."""
    groups: dict[tuple, list[torch.Tensor]] = {}
    for index, tensor in enumerate(tensors):
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{name}: tensors[{index}] is a {type(tensor).__name__}, not a torch.Tensor")
        if tensor.dtype not in _FLOATING:
            raise TypeError(f"{name}: tensors[{index}] has dtype {tensor.dtype}; expected a floating dtype")
        _check_dense(name, f"tensors[{index}]", tensor)
        members = groups.setdefault((tensor.device, tensor.dtype), [])
        if tensor.numel() > 0:
            members.append(tensor)
    return groups


class _GroupPlan(NamedTuple):
    """The tables and launch settings of one (device, dtype) group of non-empty tensors."""

    table: torch.Tensor
    layout: _ChunkLayout
    block: int
    num_warps: int
    dtype: torch.dtype


def _group_plan(tensors: list[torch.Tensor]) -> _GroupPlan:
    numels = [t.numel() for t in tensors]
    block, num_warps = elementwise_launch_config(max(numels))
    (table,), layout = _launch_tables([tensors], numels, block)
    return _GroupPlan(table, layout, block, num_warps, tensors[0].dtype)


def _launch_over_group(kernel, plan: _GroupPlan, *args, **constexprs) -> None:
    # One program per BLOCK-element chunk of one tensor of the group.
    kernel[(plan.layout.num_chunks,)](
        plan.table, plan.layout.numels, plan.layout.chunks, *args,
        ELEMENT=triton_dtype(plan.dtype), COMPUTE=compute_dtype(plan.dtype), **constexprs,
        BLOCK=plan.block, num_warps=plan.num_warps,
    )  # fmt: skip


def launch_total_norm(tensors: Sequence[torch.Tensor], norm_type: float, *, dtype: torch.dtype) -> torch.Tensor:
    """The ``norm_type``-norm of all ``tensors`` together (torch.nn.utils.get_total_norm), as a 0-d tensor.

    tensors: dense floating tensors of any shapes, dtypes and devices (at least one). The
    result lives on ``tensors[0]``'s device, with ``dtype`` (torch's: the promoted dtype of
    them all, the dtype of ``vector_norm`` of the stacked per-tensor norms). One partials launch per (device, dtype)
    group (each chunk of each tensor reduced once, in float32 for half and float32 tensors
    and float64 for float64 ones) and one finishing launch: the count does not depend on the
    number of tensors, and nothing is read back to the host. As in torch, each tensor's norm
    is rounded to the tensor's dtype before the norms are combined (the finishing launch
    finds each tensor's partials with a segmented scan). ``norm_type`` 0 (torch's count of
    non-zero per-tensor norms) is not supported.

    >>> launch_total_norm([torch.randn(3, 4), torch.randn(5)], 2.0, dtype=torch.float32).shape
    torch.Size([])
    """
    norm_type = float(norm_type)
    tensors = list(tensors)
    if not tensors:
        raise ValueError("launch_total_norm: expected at least one tensor")
    if norm_type == 0 or math.isnan(norm_type):
        raise NotImplementedError(f"launch_total_norm: norm_type={norm_type} is not supported")
    kind = _NORM_KINDS.get(norm_type, "p")
    groups = _groups_by_device_and_dtype("launch_total_norm", tensors)
    if (norm_type < 0 or math.isinf(norm_type)) and any(t.numel() == 0 for t in tensors):
        raise RuntimeError(
            f"launch_total_norm: cannot compute the {norm_type} norm on an empty tensor because the operation "
            "does not have an identity"
        )
    first_device = tensors[0].device
    if dtype not in _FLOATING:
        raise TypeError(f"launch_total_norm: dtype must be a floating dtype, got {dtype}")
    total_dtype = dtype
    acc_dtype = torch.float64 if torch.float64 in [member for _, member in groups] + [dtype] else torch.float32
    power_bits = float_bits(norm_type)
    buffers, segment_tables, counts = [], [], []
    for device in dict.fromkeys(device for device, _ in groups):
        members_of = [members for (where, _), members in groups.items() if where == device and members]
        plans = [_group_plan(members) for members in members_of]
        count = sum(plan.layout.num_chunks for plan in plans)
        shapes = tuple(
            (plan.dtype, plan.block, tuple(t.numel() for t in members)) for plan, members in zip(plans, members_of)
        )
        segments = _cached(
            ("norm segments", device, acc_dtype, shapes),
            lambda shapes=shapes, device=device: _segment_table(shapes, acc_dtype, device),
        )
        segment_tables.append(segments)
        # Cached, as the tables are: a steady-state call allocates nothing but the result.
        partials = _cached(
            ("norm partials", device, acc_dtype, count),
            lambda count=count, device=device: torch.empty(max(count, 1), dtype=acc_dtype, device=device),
        )
        first = 0
        for plan in plans:
            _launch_over_group(norm_partials_kernel, plan, partials, first, power_bits, ACC=triton_dtype(acc_dtype),
                               NORM=kind)  # fmt: skip
            first += plan.layout.num_chunks
        buffers.append(partials if device == first_device else partials.to(first_device))
        counts.append(count)
    if any(t.device != first_device for t in segment_tables):
        segment_tables = [t.to(first_device) for t in segment_tables]
    table, segment_table = (
        _cached(
            ("pointers", first_device, tuple((b.data_ptr(), b.dtype, b.numel()) for b in role)),
            lambda role=role: _pointer_table(role, first_device),
        )
        for role in (buffers, segment_tables)
    )
    count_table = _cached(
        ("norm partial counts", first_device, tuple(counts)),
        lambda: torch.tensor(counts, dtype=torch.int64, device=first_device),
    )
    total = torch.empty((), dtype=total_dtype, device=first_device)
    # One program combines the partials of every group on every device.
    norm_finish_kernel[(1,)](
        table, segment_table, count_table, len(buffers), total, power_bits,
        ACC=triton_dtype(acc_dtype), TOTAL=triton_dtype(total_dtype), NORM=kind,
        BLOCK=reduction_block(max(counts), max_block=_FINISH_BLOCK), num_warps=_FINISH_WARPS,
    )  # fmt: skip
    return total


def _segment_table(shapes: tuple, acc_dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """One int64 per partial of a device's buffer: (rounding code << 1) | (1 on a tensor's last chunk).

    ``shapes``: (dtype, BLOCK, numels) per group, in the order their partials were written.
    """
    entries: list[int] = []
    for dtype, block, numels in shapes:
        if dtype == acc_dtype:
            code = _ROUND_NONE
        else:
            code = {torch.float32: _ROUND_FLOAT32, torch.bfloat16: _ROUND_BFLOAT16, torch.float16: _ROUND_FLOAT16}[
                dtype
            ]
        for numel in numels:
            chunks = cdiv(numel, block)
            entries += [code << 1] * (chunks - 1) + [(code << 1) | 1]
    return torch.tensor(entries or [1], dtype=torch.int64, device=device)


def launch_clip_by_total_norm_(tensors: Sequence[torch.Tensor], max_norm: float, total: torch.Tensor) -> None:
    """tensors *= min(max_norm / (total + 1e-6), 1), in place (torch.nn.utils.clip_grads_with_norm_).

    tensors: dense floating tensors of any shapes, dtypes and devices; total: a 0-d floating
    tensor (``launch_total_norm``'s result). The coefficient is computed on the device, in
    ``total``'s dtype as torch computes it; one launch per (device, dtype) group of tensors.

    >>> grads = [torch.randn(3, 4), torch.randn(5)]
    >>> launch_clip_by_total_norm_(grads, 1.0, launch_total_norm(grads, 2.0, dtype=torch.float32))
    """
    if not isinstance(total, torch.Tensor) or total.dim() != 0 or total.dtype not in _FLOATING:
        raise TypeError(f"launch_clip_by_total_norm_: total must be a 0-d floating tensor, got {total!r}")
    max_norm_bits, eps_bits = float_bits(max_norm), float_bits(1e-6)
    for (device, _), members in _groups_by_device_and_dtype("launch_clip_by_total_norm_", tensors).items():
        if members:
            coef_total = total if total.device == device else total.to(device)
            _launch_over_group(
                scale_by_clip_coef_kernel, _group_plan(members), coef_total, max_norm_bits, eps_bits,
                TOTAL=triton_dtype(total.dtype), TOTAL_COMPUTE=compute_dtype(total.dtype),
            )  # fmt: skip


def launch_clamp_(tensors: Sequence[torch.Tensor], low: float, high: float) -> None:
    """tensors = clamp(tensors, low, high), in place; one launch per (device, dtype) group.

    >>> grads = [torch.randn(3, 4), torch.randn(5, dtype=torch.float64)]
    >>> launch_clamp_(grads, -0.5, 0.5)
    """
    low_bits, high_bits = float_bits(low), float_bits(high)
    for members in _groups_by_device_and_dtype("launch_clamp_", tensors).values():
        if members:
            _launch_over_group(clamp_kernel, _group_plan(members), low_bits, high_bits)
