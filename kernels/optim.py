"""Fused multi-tensor optimizer steps: SGD, Adam/AdamW, RMSprop and a multi-tensor zero fill.

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
suite's interpreter bounds checker).
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import check_same_device, compute_dtype, to_bfloat16_rne, triton_dtype
from tritongrad.kernels.strided import is_non_overlapping_and_dense
from tritongrad.runtime import elementwise_launch_config

__all__ = ["POINTER_TABLE_EXTENTS", "launch_adam_step", "launch_rmsprop_step", "launch_sgd_step", "launch_zero_"]

# ----------------------------------------------------------------------------------------------
# Pointer tables and the registry of the memory they refer to
# ----------------------------------------------------------------------------------------------

#: The memory a pointer table refers to, keyed by the table's ``data_ptr()``: a list of
#: ``(start_address, end_address)`` byte ranges (end exclusive), one per tensor in the table.
#: Keyed by address rather than by tensor object because Triton's interpreter hands kernels
#: new tensor objects that share the arguments' storage. An entry lives exactly as long as
#: its table: it is removed when the table is garbage collected (before its memory is freed).
POINTER_TABLE_EXTENTS: dict[int, list[tuple[int, int]]] = {}


def _byte_extent(tensor: torch.Tensor) -> tuple[int, int]:
    start = tensor.data_ptr()
    return start, start + tensor.numel() * tensor.element_size()


def _pointer_table(tensors: Sequence[torch.Tensor], device: torch.device) -> torch.Tensor:
    """An int64 tensor of the tensors' addresses, registered in POINTER_TABLE_EXTENTS."""
    table = torch.tensor([t.data_ptr() for t in tensors], dtype=torch.int64, device=device)
    POINTER_TABLE_EXTENTS[table.data_ptr()] = [_byte_extent(t) for t in tensors]
    weakref.finalize(table, POINTER_TABLE_EXTENTS.pop, table.data_ptr(), None)
    return table


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
        key = ("pointers", device, tuple((t.data_ptr(), t.dtype, t.numel()) for t in role))
        tables.append(_cached(key, lambda role=role: _pointer_table(role, device)))
    return tables, layout


# ----------------------------------------------------------------------------------------------
# Device functions
# ----------------------------------------------------------------------------------------------


@triton.jit
def chunk_of_this_program(numel_table, chunk_table, BLOCK: tl.constexpr):
    """(tensor index, element offsets, mask) of the chunk this program updates."""
    chunk = tl.program_id(0)
    tensor_index = tl.load(chunk_table + 2 * chunk)
    first = tl.load(chunk_table + 2 * chunk + 1)
    numel = tl.load(numel_table + tensor_index)
    offsets = first + tl.arange(0, BLOCK).to(tl.int64)
    return tensor_index, offsets, offsets < numel


@triton.jit
def tensor_pointer(address_table, tensor_index, ELEMENT: tl.constexpr):
    """Base pointer (to ELEMENT) of tensor ``tensor_index`` of a pointer table."""
    return tl.load(address_table + tensor_index).to(tl.pointer_type(ELEMENT))


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
def zero_kernel(
    address_table,
    numel_table, chunk_table,
    WORD: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, offsets, mask = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    words = tensor_pointer(address_table, tensor_index, WORD)
    tl.store(words + offsets, tl.zeros([BLOCK], WORD), mask=mask)


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
def sgd_step_kernel(
    param_table, grad_table, momentum_table,
    numel_table, chunk_table, float64_hyperparameters,
    lr, momentum, one_minus_dampening, weight_decay,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, HAS_MOMENTUM: tl.constexpr, FIRST_STEP: tl.constexpr,
    NESTEROV: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, offsets, mask = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    param_ptrs = tensor_pointer(param_table, tensor_index, PARAM) + offsets
    grad_ptrs = tensor_pointer(grad_table, tensor_index, PARAM) + offsets
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
        buffer_ptrs = tensor_pointer(momentum_table, tensor_index, STATE) + offsets
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
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")
    if has_momentum and momentum_buffers is None:
        raise ValueError(f"launch_sgd_step: momentum={momentum} needs momentum_buffers, got None")
    states = {"momentum_buffers": momentum_buffers if has_momentum else None}
    group = _check_group("launch_sgd_step", params, grads, states)
    if group is None:
        return
    param_dtype, state_dtype, kept = group
    in_memory = param_dtype == torch.float64
    scalars = [lr, momentum, 1 - dampening, weight_decay]
    roles = [[params[i] for i in kept], [grads[i] for i in kept]]
    if has_momentum:
        roles.append([momentum_buffers[i] for i in kept])
    numels = [params[i].numel() for i in kept]
    block, num_warps = elementwise_launch_config(max(numels))
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

# Index of each Adam hyperparameter in the float64 table of float64 groups (constexpr: kernels read them).
(
    _ADAM_ONE_MINUS_BETA1, _ADAM_BETA2, _ADAM_ONE_MINUS_BETA2, _ADAM_EPS, _ADAM_WEIGHT_DECAY,
    _ADAM_DECAY_FACTOR, _ADAM_NEG_STEP_SIZE, _ADAM_BIAS_CORRECTION2_SQRT,
) = (tl.constexpr(i) for i in range(8))  # fmt: skip


# torch.optim.Adam / AdamW (torch's single-tensor formula, same operation order) for one chunk:
#   g = ±grad (+ weight_decay * p for Adam's L2 decay);  p *= 1 - lr * weight_decay for AdamW
#   m = lerp(m, g, 1 - beta1);  v = v * beta2 + (1 - beta2) * g * g;  v_max = max(v_max, v)
#   p += (-(lr / bias_correction1) * m) / (sqrt(v or v_max) / sqrt(bias_correction2) + eps)
# Fused multiply-adds where torch fuses (add with alpha, lerp, addcmul), so m and v match torch
# bit for bit; p matches to an ulp (torch's CPU sqrt is not correctly rounded; ours is).
# WEIGHT_DECAY is "none", "l2" (Adam) or "decoupled" (AdamW).
# Traffic per element: read p, grad, m, v (and v_max); write p, m, v (and v_max).
@triton.jit
def adam_step_kernel(
    param_table, grad_table, exp_avg_table, exp_avg_sq_table, max_exp_avg_sq_table,
    numel_table, chunk_table, float64_hyperparameters,
    one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay, decay_factor, neg_step_size,
    bias_correction2_sqrt,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    WEIGHT_DECAY: tl.constexpr, AMSGRAD: tl.constexpr, MAXIMIZE: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, offsets, mask = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    param_ptrs = tensor_pointer(param_table, tensor_index, PARAM) + offsets
    grad_ptrs = tensor_pointer(grad_table, tensor_index, PARAM) + offsets
    exp_avg_ptrs = tensor_pointer(exp_avg_table, tensor_index, STATE) + offsets
    exp_avg_sq_ptrs = tensor_pointer(exp_avg_sq_table, tensor_index, STATE) + offsets
    table = float64_hyperparameters
    in_memory = HYPERPARAMETERS_IN_MEMORY
    one_minus_beta1 = hyperparameter(one_minus_beta1, table, _ADAM_ONE_MINUS_BETA1, in_memory, COMPUTE)
    beta2 = hyperparameter(beta2, table, _ADAM_BETA2, in_memory, COMPUTE)
    one_minus_beta2 = hyperparameter(one_minus_beta2, table, _ADAM_ONE_MINUS_BETA2, in_memory, COMPUTE)
    eps = hyperparameter(eps, table, _ADAM_EPS, in_memory, COMPUTE)
    neg_step_size = hyperparameter(neg_step_size, table, _ADAM_NEG_STEP_SIZE, in_memory, COMPUTE)
    bias_correction2_sqrt = hyperparameter(
        bias_correction2_sqrt, table, _ADAM_BIAS_CORRECTION2_SQRT, in_memory, COMPUTE
    )

    param = tl.load(param_ptrs, mask=mask).to(COMPUTE)
    grad = tl.load(grad_ptrs, mask=mask).to(COMPUTE)
    if MAXIMIZE:
        grad = -grad
    if WEIGHT_DECAY == "l2":
        grad = tl.fma(param, hyperparameter(weight_decay, table, _ADAM_WEIGHT_DECAY, in_memory, COMPUTE), grad)
    elif WEIGHT_DECAY == "decoupled":
        param = param * hyperparameter(decay_factor, table, _ADAM_DECAY_FACTOR, in_memory, COMPUTE)

    exp_avg = lerp(tl.load(exp_avg_ptrs, mask=mask).to(COMPUTE), grad, one_minus_beta1)
    exp_avg_sq = tl.fma(one_minus_beta2 * grad, grad, tl.load(exp_avg_sq_ptrs, mask=mask).to(COMPUTE) * beta2)
    tl.store(exp_avg_ptrs, to_storage(exp_avg, STATE), mask=mask)
    tl.store(exp_avg_sq_ptrs, to_storage(exp_avg_sq, STATE), mask=mask)
    second_moment = exp_avg_sq
    if AMSGRAD:
        max_exp_avg_sq_ptrs = tensor_pointer(max_exp_avg_sq_table, tensor_index, STATE) + offsets
        max_exp_avg_sq = tl.load(max_exp_avg_sq_ptrs, mask=mask).to(COMPUTE)
        second_moment = tl.maximum(max_exp_avg_sq, exp_avg_sq, propagate_nan=tl.PropagateNan.ALL)
        tl.store(max_exp_avg_sq_ptrs, to_storage(second_moment, STATE), mask=mask)
    denom = rounded_div(rounded_sqrt(second_moment), bias_correction2_sqrt) + eps
    tl.store(param_ptrs, to_storage(param + rounded_div(neg_step_size * exp_avg, denom), PARAM), mask=mask)


def launch_adam_step(
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    exp_avgs: Sequence[torch.Tensor],
    exp_avg_sqs: Sequence[torch.Tensor],
    max_exp_avg_sqs: Sequence[torch.Tensor] | None,
    *,
    step: int,
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

    ``step`` is the step number after this update (1 on the first step); the state
    tensors must hold the previous step's values (zeros before the first step, see
    ``launch_zero_``). ``max_exp_avg_sqs`` may be None unless ``amsgrad``.

    >>> p, g = [torch.randn(3)], [torch.randn(3)]
    >>> m, v = [torch.empty(3)], [torch.empty(3)]
    >>> launch_zero_(m + v)
    >>> launch_adam_step(p, g, m, v, None, step=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
    ...                  weight_decay=0.0, amsgrad=False, maximize=False, decoupled_weight_decay=False)
    """
    if not isinstance(step, int) or step < 1:
        raise ValueError(f"launch_adam_step: step must be a Python int >= 1, got {step!r}")
    if amsgrad and max_exp_avg_sqs is None:
        raise ValueError("launch_adam_step: amsgrad=True needs max_exp_avg_sqs, got None")
    states = {
        "exp_avgs": exp_avgs,
        "exp_avg_sqs": exp_avg_sqs,
        "max_exp_avg_sqs": max_exp_avg_sqs if amsgrad else None,
    }
    group = _check_group("launch_adam_step", params, grads, states)
    if group is None:
        return
    param_dtype, state_dtype, kept = group
    in_memory = param_dtype == torch.float64
    # Host-side scalars exactly as torch's single-tensor Adam computes them (Python floats).
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    scalars = [
        1 - beta1, beta2, 1 - beta2, eps, weight_decay, 1 - lr * weight_decay,
        -(lr / bias_correction1), bias_correction2**0.5,
    ]  # fmt: skip
    if weight_decay == 0:
        decay_mode = "none"
    else:
        decay_mode = "decoupled" if decoupled_weight_decay else "l2"
    roles = [[params[i] for i in kept], [grads[i] for i in kept], [exp_avgs[i] for i in kept]]
    roles.append([exp_avg_sqs[i] for i in kept])
    if amsgrad:
        roles.append([max_exp_avg_sqs[i] for i in kept])
    numels = [params[i].numel() for i in kept]
    block, num_warps = elementwise_launch_config(max(numels))
    tables, layout = _launch_tables(roles, numels, block)
    # Without amsgrad the max table slot points at the param table; AMSGRAD=False never reads it.
    tables += [tables[0]] * (5 - len(tables))
    # One program updates one BLOCK-element chunk of one parameter and of its state.
    adam_step_kernel[(layout.num_chunks,)](
        *tables,
        layout.numels, layout.chunks, _hyperparameter_table(scalars, in_memory, layout.numels),
        *_hyperparameter_arguments(scalars, in_memory),
        PARAM=triton_dtype(param_dtype), STATE=triton_dtype(state_dtype), COMPUTE=compute_dtype(param_dtype),
        HYPERPARAMETERS_IN_MEMORY=in_memory, WEIGHT_DECAY=decay_mode, AMSGRAD=bool(amsgrad),
        MAXIMIZE=bool(maximize), BLOCK=block, num_warps=num_warps,
    )  # fmt: skip


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
def rmsprop_step_kernel(
    param_table, grad_table, square_avg_table, momentum_table, grad_avg_table,
    numel_table, chunk_table, float64_hyperparameters,
    alpha, one_minus_alpha, eps, weight_decay, momentum, neg_lr,
    PARAM: tl.constexpr, STATE: tl.constexpr, COMPUTE: tl.constexpr, HYPERPARAMETERS_IN_MEMORY: tl.constexpr,
    HAS_WEIGHT_DECAY: tl.constexpr, HAS_MOMENTUM: tl.constexpr, CENTERED: tl.constexpr, MAXIMIZE: tl.constexpr,
    BLOCK: tl.constexpr,
):  # fmt: skip
    tensor_index, offsets, mask = chunk_of_this_program(numel_table, chunk_table, BLOCK)
    param_ptrs = tensor_pointer(param_table, tensor_index, PARAM) + offsets
    grad_ptrs = tensor_pointer(grad_table, tensor_index, PARAM) + offsets
    square_avg_ptrs = tensor_pointer(square_avg_table, tensor_index, STATE) + offsets
    table = float64_hyperparameters
    in_memory = HYPERPARAMETERS_IN_MEMORY
    alpha = hyperparameter(alpha, table, _RMSPROP_ALPHA, in_memory, COMPUTE)
    one_minus_alpha = hyperparameter(one_minus_alpha, table, _RMSPROP_ONE_MINUS_ALPHA, in_memory, COMPUTE)
    eps = hyperparameter(eps, table, _RMSPROP_EPS, in_memory, COMPUTE)
    neg_lr = hyperparameter(neg_lr, table, _RMSPROP_NEG_LR, in_memory, COMPUTE)

    param = tl.load(param_ptrs, mask=mask).to(COMPUTE)
    grad = tl.load(grad_ptrs, mask=mask).to(COMPUTE)
    if MAXIMIZE:
        grad = -grad
    if HAS_WEIGHT_DECAY:
        grad = tl.fma(param, hyperparameter(weight_decay, table, _RMSPROP_WEIGHT_DECAY, in_memory, COMPUTE), grad)
    square_avg = tl.fma(one_minus_alpha * grad, grad, tl.load(square_avg_ptrs, mask=mask).to(COMPUTE) * alpha)
    tl.store(square_avg_ptrs, to_storage(square_avg, STATE), mask=mask)
    if CENTERED:
        grad_avg_ptrs = tensor_pointer(grad_avg_table, tensor_index, STATE) + offsets
        grad_avg = lerp(tl.load(grad_avg_ptrs, mask=mask).to(COMPUTE), grad, one_minus_alpha)
        tl.store(grad_avg_ptrs, to_storage(grad_avg, STATE), mask=mask)
        avg = rounded_sqrt(tl.fma(-grad_avg, grad_avg, square_avg)) + eps
    else:
        avg = rounded_sqrt(square_avg) + eps
    if HAS_MOMENTUM:
        momentum = hyperparameter(momentum, table, _RMSPROP_MOMENTUM, in_memory, COMPUTE)
        buffer_ptrs = tensor_pointer(momentum_table, tensor_index, STATE) + offsets
        buffer = tl.load(buffer_ptrs, mask=mask).to(COMPUTE) * momentum + rounded_div(grad, avg)
        tl.store(buffer_ptrs, to_storage(buffer, STATE), mask=mask)
        param = tl.fma(buffer, neg_lr, param)
    else:
        param = param + rounded_div(neg_lr * grad, avg)
    tl.store(param_ptrs, to_storage(param, PARAM), mask=mask)


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
    param_dtype, state_dtype, kept = group
    in_memory = param_dtype == torch.float64
    scalars = [alpha, 1 - alpha, eps, weight_decay, momentum, -lr]
    roles = [[params[i] for i in kept], [grads[i] for i in kept], [square_avgs[i] for i in kept]]
    numels = [params[i].numel() for i in kept]
    block, num_warps = elementwise_launch_config(max(numels))
    for used, tensors in ((has_momentum, momentum_buffers), (centered, grad_avgs)):
        if used:
            roles.append([tensors[i] for i in kept])
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


def _check_group(
    name: str,
    params: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    states: dict[str, Sequence[torch.Tensor] | None],
) -> tuple[torch.dtype, torch.dtype, list[int]] | None:
    """Validates a parameter group; returns (param dtype, state dtype, indices of non-empty params).

    Returns None when there is nothing to update (no params, or only empty ones).
    """
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
            if tensor.shape != params[index].shape:
                raise ValueError(
                    f"{name}: {what} has shape {tuple(tensor.shape)} but params[{index}] has "
                    f"shape {tuple(params[index].shape)}"
                )
            _check_dense(name, what, tensor, params[index])
    kept = [i for i, p in enumerate(params) if p.numel() > 0]
    if not kept:
        return None
    return param_dtype, state_dtype, kept
