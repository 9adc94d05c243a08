"""addcmul / addcdiv: ``input + value * tensor1 * tensor2`` (``/ tensor2``), one graph node each.

torch records them as one node (AddcmulBackward0, AddcdivBackward0) with torch's type promotion of
the three operands; here the forward is the elementwise kernels for the product (or quotient), the
scaling and the sum, and the backward is written with tritongrad ops so that it is itself
differentiable.
"""

from __future__ import annotations

import torch

from tritongrad.autograd.function import Function
from tritongrad.dtypes import REDUCED_FLOATS, as_python_scalar, dtype_word, result_type, scalar_as
from tritongrad.kernels import elementwise as elementwise_kernels
from tritongrad.kernels.strided import broadcast_shapes, check_no_partial_overlap
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.inplace import apply_inplace
from tritongrad.ops.out_argument import check_castable, check_no_grad, write_out
from tritongrad.ops.table import _Meta, reduce_grad
from tritongrad.tensor import Tensor, attach_methods

__all__ = ["addcmul", "addcdiv"]


class Addcmul(Function):
    divide = False

    @staticmethod
    def forward(ctx, input, tensor1, tensor2, value, dtype):
        ctx.value = value
        # (input only by shape and dtype, as torch saves it: writing it in place after the forward is fine)
        ctx.input_meta = _Meta.of(input)
        needs, divide = ctx.needs_input_grad, ctx._function.divide
        if divide or needs[1] or needs[2]:
            # Each factor only for the other's gradient, as torch saves them (addcdiv's divisor always, as
            # torch's node keeps it even for input's gradient alone): a write into one, or a second
            # backward, is an error only where torch's is.
            ctx.metas = _Meta.of(tensor1), _Meta.of(tensor2)
            ctx.save_for_backward(tensor1 if needs[2] else None, tensor2 if divide or needs[1] else None)
        # torch's kernel computes the half types in float32 and rounds once, at the end.
        compute = torch.float32 if dtype in REDUCED_FLOATS else dtype
        tensor1, tensor2 = tensor1.to(compute), tensor2.to(compute)
        scaled = tensor1 if value == 1 else tensor1 * value
        combined = scaled / tensor2 if ctx._function.divide else scaled * tensor2
        result = input.to(compute) + combined
        return result.to(dtype) if compute != dtype else result

    @staticmethod
    def backward(ctx, grad):
        value = ctx.value
        grad_input = reduce_grad(grad, ctx.input_meta) if ctx.needs_input_grad[0] else None
        grad_1 = grad_2 = None
        if ctx._function.divide or ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            tensor1, tensor2 = ctx.saved_tensors  # (read for addcdiv's input alone too: torch's checks)
            meta1, meta2 = ctx.metas
            if ctx._function.divide:
                if ctx.needs_input_grad[1]:
                    grad_1 = reduce_grad(grad * value / tensor2, meta1)
                if ctx.needs_input_grad[2]:
                    grad_2 = reduce_grad(-grad * value * tensor1 / (tensor2 * tensor2), meta2)
            else:
                if ctx.needs_input_grad[1]:
                    grad_1 = reduce_grad(grad * value * tensor2, meta1)
                if ctx.needs_input_grad[2]:
                    grad_2 = reduce_grad(grad * value * tensor1, meta2)
        return grad_input, grad_1, grad_2, None, None


class Addcdiv(Addcmul):
    divide = True


def _checked(name: str, input, tensor1, tensor2, value):
    """The operands checked as torch checks them; returns (result dtype, value as that dtype takes it)."""
    for argument, t in (("input", input), ("tensor1", tensor1), ("tensor2", tensor2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument '{argument}' must be Tensor, not {type(t).__name__}")
    broadcast_shapes(input.shape, tensor1.shape, tensor2.shape)
    dtype = result_type(input, tensor1, tensor2)
    if name == "addcdiv" and not tensor1.dtype.is_floating_point and not tensor2.dtype.is_floating_point:
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform "
            "a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as "
            "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
            "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes."
        )
    if dtype == torch.bool:
        raise NotImplementedError(f"\"{name}_cpu_out\" not implemented for '{dtype_word(dtype)}'")
    # value as torch's kernels take it (Scalar.to<opmath_t>()): float32 for the half types, with the
    # overflow check ("value cannot be converted to type float without overflow").
    value = as_python_scalar(value)
    if not isinstance(value, (bool, int, float)):
        raise TypeError(f"{name}(): argument 'value' must be Number, not {type(value).__name__}")
    return dtype, scalar_as(value, torch.float32 if dtype in REDUCED_FLOATS else dtype, checked=True)


def _function(name: str):
    return Addcdiv if name == "addcdiv" else Addcmul


def _compound(name: str, input, tensor1, tensor2, value, out):
    dtype, value = _checked(name, input, tensor1, tensor2, value)
    if out is not None:
        check_no_grad(name, out, input, tensor1, tensor2)
        result = _function(name).apply(input, tensor1, tensor2, value, dtype)
        return write_out(name, out, result, input, tensor1, tensor2, rule="castable", overlap=True)
    return _function(name).apply(input, tensor1, tensor2, value, dtype)


def _compound_(name: str, self, tensor1, tensor2, value):
    dtype, value = _checked(name, self, tensor1, tensor2, value)
    check_castable(dtype, self.dtype)
    check_no_partial_overlap(self._data, tensor1._data, tensor2._data)
    function = _function(name)
    needs_grad = [t for t in (tensor1, tensor2) if t.requires_grad]

    def into_self() -> None:
        result = function.apply(self, tensor1, tensor2, value, dtype)
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(
                f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(result.shape)}"
            )
        elementwise_kernels.launch_unary("copy", result._data, out=self._data)

    return apply_inplace(
        self,
        lambda s: function.apply(s, tensor1, tensor2, value, dtype),
        into_self,
        needs_grad[0] if needs_grad else None,
    )


@autocast_op("addcmul")
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2, broadcast together (AddcmulBackward0)."""
    return _compound("addcmul", input, tensor1, tensor2, value, out)


@autocast_op("addcdiv")
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2, broadcast together (AddcdivBackward0); integer
    tensor1 and tensor2 are refused, as torch refuses them."""
    return _compound("addcdiv", input, tensor1, tensor2, value, out)


def addcmul_(self, tensor1, tensor2, *, value=1):
    return _compound_("addcmul", self, tensor1, tensor2, value)


def addcdiv_(self, tensor1, tensor2, *, value=1):
    return _compound_("addcdiv", self, tensor1, tensor2, value)


attach_methods({"addcmul": addcmul, "addcdiv": addcdiv, "addcmul_": addcmul_, "addcdiv_": addcdiv_})
