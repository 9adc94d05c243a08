"""``out=``: torch's rules, in one home for every op.

Ops that write into ``out`` themselves (the elementwise rows of ops/table.py, clamp, where, lerp,
cat) take its buffer from ``check_out``/``prepare_out``. The others (gather, sum, cumsum, sort, mm,
softmax, ...) compute their result as usual; ``write_out`` then applies torch's rules and copies
the result into ``out`` with the copy kernel (which also casts where the rule allows another dtype):

- an argument (or ``out``) that requires grad under grad mode is refused (torch's "functions with
  out=... arguments don't support automatic differentiation");
- the dtype: ``"exact"`` (mm, gather, sort, softmax: out must have the result dtype), ``"castable"``
  (addcmul: any dtype of the same or a higher category), ``"cat"`` (the same with the TypeError
  torch's cat and stack raise), or
  ``"any"`` (sum, cumsum: the op has computed from the input cast to out's dtype);
- ``overlap=True`` (the ops torch runs through its TensorIterator: pow, cumprod, take, outer, ...):
  an out that partially overlaps an input is refused, as torch does (out being the input is fine);
- a wrong shape resizes ``out`` as torch's ``resize_`` does (``resize_out``), with torch's
  deprecation warning when it held elements: in place, on its own storage, when the storage has
  room from out's offset (so views of out, or the tensor out is a view of, still see the result);
  a new allocation for a tensor whose storage is too small.

The copying ops pay one extra copy, which is what makes one helper serve every shape of op.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch

from tritongrad import caller_warnings
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import category, dtype_word, type_meta_name
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels.strided import check_no_partial_overlap, contiguous_strides
from tritongrad.ops import return_types
from tritongrad.tensor import Tensor

__all__ = [
    "check_castable", "check_out", "check_out_tensor", "check_no_grad", "finish_out", "prepare_out", "resize_out",
    "write_out", "write_pair_out", "out_variant",
]  # fmt: skip


def check_out_tensor(op: str, out) -> None:
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")


def check_no_grad(op: str, out, *inputs) -> None:
    """torch's refusal of ``out=`` when autograd would have to follow the write (out must be a Tensor)."""
    check_out_tensor(op, out)
    if is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad for t in (*inputs, out)):
        raise RuntimeError(
            f"{op}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad."
        )


def check_castable(result: torch.dtype, target: torch.dtype, exact: bool = False) -> None:
    """torch's rule for out= and in-place results: no cast to a lower category (float -> int -> bool)."""
    if exact and result != target:
        raise RuntimeError(f"Found dtype {dtype_word(target)} but expected {dtype_word(result)}")
    if category(result) > category(target):
        raise RuntimeError(
            f"result type {dtype_word(result)} can't be cast to the desired output type {dtype_word(target)}"
        )


def cast_into_out(compute: Callable[[], torch.Tensor], out: torch.Tensor, *inputs: torch.Tensor | None) -> torch.Tensor:
    """torch's out= of another dtype than the op's, for the ops that write into out themselves: an out
    partially overlapping an input is refused, then ``compute()`` gives the result in the op's dtype and
    the copy kernel casts it into ``out`` (whose buffer it returns)."""
    check_no_partial_overlap(out, *inputs)
    return elementwise_kernels.launch_unary("copy", compute(), out=out)


def finish_out(out: Tensor) -> Tensor:
    """``out`` after an op wrote into it: its version moves on (views and saved tensors see the write)."""
    out._version_counter.bump()
    return out


def check_out(
    op: str, out, result_dtype: torch.dtype, shape: tuple, *inputs, exact: bool = False, differentiable: bool = True
) -> torch.Tensor:
    """``out=`` of an op that writes into it directly (the elementwise rows of ops/table.py, clamp,
    where, lerp): torch's checks, then its buffer, resized as ``resize_out`` does. ``exact``: out
    must have the result dtype itself (else any dtype of the same or a higher category).
    ``differentiable=False``: torch does not refuse inputs that require grad (comparisons)."""
    check_out_tensor(op, out)
    if differentiable:
        check_no_grad(op, out, *inputs)
    check_castable(result_dtype, out.dtype, exact)
    return resize_out(op, out, tuple(shape))


def _check_dtype(op: str, result_dtype: torch.dtype, out: Tensor, rule: str) -> None:
    if rule == "exact" and out.dtype != result_dtype:
        raise RuntimeError(
            f"Expected out tensor to have dtype {type_meta_name(result_dtype)}, but got "
            f"{type_meta_name(out.dtype)} instead"
        )
    if rule == "castable":
        check_castable(result_dtype, out.dtype)
    if rule == "cat" and category(result_dtype) > category(out.dtype):
        raise TypeError(f"torch.{op}(): input types can't be cast to the desired output type {dtype_word(out.dtype)}")


def resize_out(op: str, out: Tensor, shape: tuple, *, warn: bool = True) -> torch.Tensor:
    """torch's resize of an ``out=`` tensor of another shape; returns its (new) buffer.

    out keeps its storage and storage offset and takes the contiguous strides of ``shape`` when the
    storage holds enough elements from there (torch's ``resize_`` never moves data it need not), so
    every other tensor on that storage still sees what the op writes. A storage that is too small
    is replaced by a new allocation (torch grows it in place; for a view of another tensor that
    would detach the two, so it is refused instead). torch warns when out held elements (``warn``; a few ops
    resize silently).
    """
    shape = tuple(int(size) for size in shape)
    buffer = out._data
    if tuple(buffer.shape) == shape:
        return buffer
    if buffer.numel() != 0 and warn:
        caller_warnings.warn(
            f"An output with one or more elements was resized since it had shape {list(buffer.shape)}, which does "
            f"not match the required output shape {list(shape)}. This behavior is deprecated, and in a future "
            "PyTorch release outputs will not be resized unless they have zero elements. You can explicitly reuse "
            "an out tensor t by resizing it, inplace, to zero elements with t.resize_(0).",
            UserWarning,
        )
    needed = (buffer.storage_offset() + math.prod(shape)) * buffer.element_size()
    if needed <= buffer.untyped_storage().nbytes():
        out._data = buffer.as_strided(shape, tuple(contiguous_strides(shape)), buffer.storage_offset())
    elif out._base is not None:
        size, held = needed // buffer.element_size(), buffer.untyped_storage().nbytes() // buffer.element_size()
        raise RuntimeError(
            f"{op}(): cannot resize the out= view of shape {list(buffer.shape)} to {list(shape)}: its storage "
            f"holds {held} elements, {size} are needed up to its end (tritongrad does not grow the storage of a view)"
        )
    else:
        out._data = torch.empty(shape, dtype=buffer.dtype, device=buffer.device)
    return out._data


def prepare_out(
    op: str,
    out,
    result_dtype: torch.dtype,
    shape: tuple,
    *inputs,
    rule: str = "exact",
    differentiable: bool = True,
    warn_resize: bool = True,
) -> torch.Tensor:
    """Validates ``out`` for a result of ``result_dtype`` and ``shape`` and returns its buffer (resized
    if needed), for ops that write into it themselves (cat). ``differentiable=False``: torch does not
    refuse inputs that require grad for this op (softmax)."""
    check_out_tensor(op, out)
    if differentiable:
        check_no_grad(op, out, *inputs)
    _check_dtype(op, result_dtype, out, rule)
    return resize_out(op, out, tuple(shape), warn=warn_resize)


def write_out(
    op: str,
    out,
    result: Tensor,
    *inputs,
    rule: str = "exact",
    differentiable: bool = True,
    overlap: bool = False,
    alias: bool = True,
    warn_resize: bool = True,
) -> Tensor:
    """Copies ``result`` into ``out`` after torch's checks (see the module docstring); returns ``out``.
    ``overlap``: torch refuses an ``out`` that partially overlaps an input for this op (gather,
    cumsum, addmm, ...; not for sum, softmax or mm, whose results it computes through the overlap);
    ``alias=False``: nor may ``out`` be an input itself (the gathers: take, index_select, ...);
    ``warn_resize=False``: out is resized without torch's deprecation warning (narrow_copy)."""
    buffer = prepare_out(op, out, result.dtype, tuple(result.shape), *inputs, rule=rule,
                         differentiable=differentiable, warn_resize=warn_resize)  # fmt: skip
    if overlap:
        check_no_partial_overlap(buffer, *(t._data for t in inputs if isinstance(t, Tensor)), alias=alias)
    if buffer.numel():
        elementwise_kernels.launch_unary("copy", result._data, out=buffer)
    return finish_out(out)


# torch's own words, op by op, for a values out= of another dtype (the others: "Expected out tensor ...")
_VALUES_DTYPE_MESSAGES = {
    "kthvalue": "output values must be of same type as input",
    "mode": "expected scalar type '{wanted}' but got '{given}' for values output",
    "cummax": "expected scalar_type {wanted} but found {given}",
    "cummin": "expected scalar_type {wanted} but found {given}",
}

# torch.return_types.sort_out, max_out, ...: what an op given out=(a, b) returns instead of its own pair
_OUT_TYPES: dict[str, type] = {}


def _out_type(result_type: type) -> type:
    name = f"{result_type.__name__}_out"
    if name not in _OUT_TYPES:
        _OUT_TYPES[name] = return_types._return_type(name, result_type._fields)
    return _OUT_TYPES[name]


# The named-tuple ops whose outputs torch lets overlap their input (the scans); the others refuse an
# output that partly overlaps it (the selections: max(dim), topk, kthvalue, mode, median, aminmax, sort).
_PAIR_OUTS_THROUGH_OVERLAP = frozenset({"cummax", "cummin"})


def write_pair_out(op: str, out, result: tuple, *inputs, rules: tuple[str, ...] | None = None):
    """``out=(first, second, ...)`` for the ops returning a named tuple (max(dim), sort, topk, qr, svd, ...):
    all are checked (no grad, dtype, shape, overlap with the inputs) before any is written; returns
    torch's ``<op>_out`` tuple."""
    if not isinstance(out, (tuple, list)):
        raise TypeError(f"{op}(): argument 'out' must be tuple of Tensors, not {type(out).__name__}")
    if len(out) != len(result):
        raise TypeError(f"expected tuple of {len(result)} elements but got {len(out)}")
    rules = rules or ("exact",) * len(result)
    for target in out:
        check_no_grad(op, target, *inputs, *out)
    wanted, given = result[0].dtype, out[0].dtype
    if wanted != given and op in _VALUES_DTYPE_MESSAGES:
        raise RuntimeError(_VALUES_DTYPE_MESSAGES[op].format(wanted=dtype_word(wanted), given=dtype_word(given)))
    buffers = [
        prepare_out(op, target, value.dtype, tuple(value.shape), *inputs, rule=rule)
        for target, value, rule in zip(out, result, rules)
    ]
    if op not in _PAIR_OUTS_THROUGH_OVERLAP:
        operands = [t._data for t in inputs if isinstance(t, Tensor)]
        for buffer in buffers:
            check_no_partial_overlap(buffer, *operands)
    for buffer, value in zip(buffers, result):
        if buffer.numel():
            elementwise_kernels.launch_unary("copy", value._data, out=buffer)
    return _out_type(type(result))(*(finish_out(target) for target in out))


def out_variant(
    op: str,
    *,
    rule: str = "exact",
    grad_name: str | None = None,
    differentiable: bool = True,
    dtype_error: Callable[[torch.dtype, torch.dtype], str | None] | None = None,
    warn_resize: bool = True,
) -> Callable[[Callable], Callable]:
    """Gives an op that computes its result (a tensor or a named tuple) torch's ``out=``: the result is
    written into ``out`` by ``write_out``/``write_pair_out`` after the checks.

    ``rule``: out's dtype rule (see ``write_out``); ``grad_name``: torch's op name in its autograd
    refusal where it is not ``op`` (argsort's is "sort"); ``differentiable=False``: torch writes even
    when an input requires grad (results without a gradient: bucketize, isin); ``dtype_error``: the
    op's own dtype check where out's dtype is not the result's: its message from (result dtype, out
    dtype), or None where the op accepts that dtype (under ``rule``); ``warn_resize=False``: torch
    resizes this op's out without its deprecation warning.
    """

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def with_out(*args, out=None, **kwargs):
            result = function(*args, **kwargs)
            if out is None:
                return result
            if isinstance(result, tuple):
                detached = type(result)(*(value.detach() for value in result))
                return write_pair_out(op, out, detached, *args, *result)
            check_out_tensor(op, out)
            if differentiable:
                check_no_grad(grad_name or op, out, *args, *kwargs.values(), result)
            message = dtype_error(result.dtype, out.dtype) if dtype_error and out.dtype != result.dtype else None
            if message is not None:
                raise RuntimeError(message)
            return write_out(op, out, result.detach(), rule=rule, differentiable=False, warn_resize=warn_resize)

        return with_out

    return decorate
