"""``out=`` for the ops that are not table rows (gather, sum, cumsum, sort, cat, mm, softmax, ...).

The op computes its result as usual; ``write_out`` then applies torch's rules and copies the result
into ``out`` with the copy kernel (which also casts where the rule allows another dtype):

- an argument (or ``out``) that requires grad under grad mode is refused (torch's "functions with
  out=... arguments don't support automatic differentiation");
- the dtype: ``"exact"`` (mm, gather, sort, softmax: out must have the result dtype), ``"castable"``
  (addcmul: any dtype of the same or a higher category), ``"cat"`` (the same with the TypeError
  torch's cat and stack raise), or
  ``"any"`` (sum, cumsum: the op has computed from the input cast to out's dtype);
- a wrong shape resizes ``out``, with torch's deprecation warning when it held elements
  (``check_out`` in ops/table.py, shared with the elementwise rows).

Elementwise rows write straight into ``out`` (ops/table.py); these ops pay one extra copy, which
is what makes one helper serve every shape of op.
"""

from __future__ import annotations

import torch

from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import category, dtype_word
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.ops.table import check_castable, check_out, finish_out
from tritongrad.tensor import Tensor

__all__ = ["check_out_tensor", "check_no_grad", "prepare_out", "write_out", "out_dtype_word"]

# torch's C++ type names, as its "Expected out tensor to have dtype ..." message spells them.
_C_TYPE_NAMES = {
    torch.float32: "float", torch.float64: "double", torch.float16: "c10::Half", torch.bfloat16: "c10::BFloat16",
    torch.int64: "long int", torch.int32: "int", torch.int16: "short int", torch.int8: "signed char",
    torch.uint8: "unsigned char", torch.bool: "bool",
}  # fmt: skip


def out_dtype_word(dtype: torch.dtype) -> str:
    return _C_TYPE_NAMES.get(dtype, str(dtype))


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


def _check_dtype(op: str, result_dtype: torch.dtype, out: Tensor, rule: str) -> None:
    if rule == "exact" and out.dtype != result_dtype:
        raise RuntimeError(
            f"Expected out tensor to have dtype {out_dtype_word(result_dtype)}, but got "
            f"{out_dtype_word(out.dtype)} instead"
        )
    if rule == "castable":
        check_castable(result_dtype, out.dtype)
    if rule == "cat" and category(result_dtype) > category(out.dtype):
        raise TypeError(f"torch.{op}(): input types can't be cast to the desired output type {dtype_word(out.dtype)}")


def prepare_out(
    op: str, out, result_dtype: torch.dtype, shape: tuple, *inputs, rule: str = "exact", differentiable: bool = True
) -> torch.Tensor:
    """Validates ``out`` for a result of ``result_dtype`` and ``shape`` and returns its buffer (resized
    if needed), for ops that write into it themselves (cat). ``differentiable=False``: torch does not
    refuse inputs that require grad for this op (softmax)."""
    check_out_tensor(op, out)
    if differentiable:
        check_no_grad(op, out, *inputs)
    _check_dtype(op, result_dtype, out, rule)
    # (dtype checked above by this op's own rule: check_out's is the loosest, any castable dtype)
    return check_out(op, out, out.dtype, tuple(shape))


def write_out(op: str, out, result: Tensor, *inputs, rule: str = "exact", differentiable: bool = True) -> Tensor:
    """Copies ``result`` into ``out`` after torch's checks (see the module docstring); returns ``out``."""
    buffer = prepare_out(op, out, result.dtype, tuple(result.shape), *inputs, rule=rule, differentiable=differentiable)
    if buffer.numel():
        elementwise_kernels.launch_unary("copy", result._data, out=buffer)
    return finish_out(out)
