"""Complex tensors' own ops: the views between complex and real (``view_as_real``,
``view_as_complex``, ``.real``, ``.imag``), ``complex`` and ``polar``, ``conj`` and ``angle``.

The rest of complex arithmetic is the ordinary ops given complex operands: add, sub, mul, div,
neg, exp, reciprocal, abs, sum, mean, matmul, outer, the views, cat/stack and casts reach
kernels/complex.py (or the real kernels on the float view) from their own modules, and record
with their own Functions, which autograd conjugates around for complex outputs
(autograd/function.py, ``_conjugating``). The Functions here are not holomorphic, so each is
written in torch's convention for complex gradients directly (``complex_aware``): the gradient
passed around is the conjugate Wirtinger one, and a real input's gradient is real.
"""

from __future__ import annotations

import torch

from tritongrad import creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import complex_of, dtype_word, real_of, refuse_complex32
from tritongrad.kernels import complex as kernels
from tritongrad.ops.out_argument import out_variant
from tritongrad.ops.views import _view_of
from tritongrad.tensor import Tensor, attach_methods

__all__ = [
    "view_as_real", "view_as_complex", "real", "imag", "complex", "polar", "conj", "conj_physical",
    "resolve_conj", "angle", "is_conj", "isreal",
]  # fmt: skip


def _check_tensor(op: str, value, position: int = 1, name: str = "input") -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__}")


def _records(*tensors: Tensor) -> bool:
    return is_grad_enabled() and any(t.requires_grad for t in tensors)


def _wrap(data: torch.Tensor) -> Tensor:
    return Tensor._wrap(data)


# ---------------------------------------------------------------------------------------------
# Views between complex and real
# ---------------------------------------------------------------------------------------------


class ViewAsReal(Function):
    complex_aware = True

    @staticmethod
    def forward(ctx, x):
        return _view_of(x, torch.view_as_real(x._data))

    @staticmethod
    def backward(ctx, grad):
        # (x, y) pairs back as x + iy: the gradient of the parts is the complex one
        return view_as_complex(grad if _pairs_viewable(grad) else grad.contiguous())


class ViewAsComplex(Function):
    complex_aware = True

    @staticmethod
    def forward(ctx, x):
        return _view_of(x, torch.view_as_complex(x._data))

    @staticmethod
    def backward(ctx, grad):
        return view_as_real(resolve_conj(grad))


def _pairs_viewable(tensor: Tensor) -> bool:
    """Whether ``torch.view_as_complex`` can view this float tensor: unit stride over the pairs,
    even strides and offset elsewhere."""
    data = tensor._data
    return (
        data.stride(-1) == 1
        and data.storage_offset() % 2 == 0
        and all(stride % 2 == 0 for size, stride in zip(data.shape[:-1], data.stride()[:-1]) if size > 1)
    )


def view_as_real(input: Tensor) -> Tensor:
    """The complex tensor as real (..., 2) pairs, a view of the same memory (torch.view_as_real)."""
    _check_tensor("view_as_real", input)
    if not input.dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    if input.is_conj():
        raise RuntimeError(
            "view_as_real doesn't work on unresolved conjugated tensors.  To resolve the conjugate tensor so you can "
            "view it as real, use self.resolve_conj()"
        )
    if _records(input):
        return ViewAsReal.apply(input)
    return _view_of(input, torch.view_as_real(input._data))


def view_as_complex(input: Tensor) -> Tensor:
    """A float32/float64 tensor of (..., 2) pairs as complex, a view of the same memory (torch's
    checks of the last dim and the strides, and its messages)."""
    _check_tensor("view_as_complex", input)
    if _records(input):
        return ViewAsComplex.apply(input)
    return _view_of(input, torch.view_as_complex(input._data))


class Real(Function):
    complex_aware = True

    @staticmethod
    def forward(ctx, x):
        ctx.dtype = x.dtype
        return _view_of(x, torch.view_as_real(x._data).select(-1, 0))

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.dtype)  # (g + 0i)


class Imag(Function):
    complex_aware = True

    @staticmethod
    def forward(ctx, x):
        return _view_of(x, torch.view_as_real(x._data).select(-1, 1))

    @staticmethod
    def backward(ctx, grad):
        return complex(creation.zeros_like(grad), grad)  # (0 + ig)


def real(input: Tensor) -> Tensor:
    """The real parts, a writable view of a complex tensor (a real tensor is its own real part)."""
    _check_tensor("real", input)
    if not input.dtype.is_complex:
        return input
    if _records(input):
        return Real.apply(input)
    return _view_of(input, torch.view_as_real(input._data).select(-1, 0))


def imag(input: Tensor) -> Tensor:
    """The imaginary parts, a writable view of a complex tensor (torch's error for a real one)."""
    _check_tensor("imag", input)
    if not input.dtype.is_complex:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    if _records(input):
        return Imag.apply(input)
    return _view_of(input, torch.view_as_real(input._data).select(-1, 1))


# ---------------------------------------------------------------------------------------------
# complex(real, imag) and polar(abs, angle)
# ---------------------------------------------------------------------------------------------


def _check_parts(op: str, first: Tensor, second: Tensor) -> None:
    """torch's checks of complex()'s and polar()'s two real operands."""
    _check_tensor(op, first, 1, "real" if op == "complex" else "abs")
    _check_tensor(op, second, 2, "imag" if op == "complex" else "angle")
    floating = (torch.float32, torch.float64)
    if first.dtype == second.dtype == torch.float16:  # torch makes complex32 (complex) or refuses Half (polar)
        if op == "complex":
            raise refuse_complex32("complex")
        raise NotImplementedError("\"polar_cpu\" not implemented for 'Half'")
    if first.dtype not in floating or second.dtype not in floating:
        if first.dtype == second.dtype or not (first.dtype.is_floating_point and second.dtype.is_floating_point):
            raise RuntimeError(
                f"Expected both inputs to be Half, Float or Double tensors but got {dtype_word(first.dtype)} and "
                f"{dtype_word(second.dtype)}"
            )
    if first.dtype != second.dtype:
        raise RuntimeError(
            f"Expected object of scalar type {dtype_word(first.dtype)} but got scalar type "
            f"{dtype_word(second.dtype)} for second argument"
        )
    if first.device != second.device:
        raise RuntimeError(
            f"Expected all tensors to be on the same device, but found at least two devices, {first.device} and "
            f"{second.device}!"
        )


class Complex(Function):
    complex_aware = True

    @staticmethod
    def forward(ctx, real_part, imag_part):
        ctx.shapes = tuple(real_part.shape), tuple(imag_part.shape)
        dtype = complex_of(real_part.dtype)
        return _wrap(kernels.launch_complex("complex", real_part._data, imag_part._data, dtype=dtype))

    @staticmethod
    def backward(ctx, grad):
        real_shape, imag_shape = ctx.shapes
        grad_real = real(grad).sum_to_size(real_shape) if ctx.needs_input_grad[0] else None
        grad_imag = imag(grad).sum_to_size(imag_shape) if ctx.needs_input_grad[1] else None
        return grad_real, grad_imag


def complex(real: Tensor, imag: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: F811 (torch's names)
    """real + i imag, broadcasting, from two float32 (complex64) or float64 (complex128) tensors."""
    _check_parts("complex", real, imag)
    if out is not None:
        raise NotImplementedError("tritongrad: complex(..., out=) is not implemented")
    if _records(real, imag):
        return Complex.apply(real, imag)
    return _wrap(kernels.launch_complex("complex", real._data, imag._data, dtype=complex_of(real.dtype)))


class Polar(Function):
    complex_aware = True

    @staticmethod
    def forward(ctx, magnitude, angle):
        ctx.shapes = tuple(magnitude.shape), tuple(angle.shape)
        result = _wrap(kernels.launch_complex("polar", magnitude._data, angle._data, dtype=complex_of(magnitude.dtype)))
        ctx.save_for_backward(angle, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        angle, result = ctx.saved_tensors
        magnitude_shape, angle_shape = ctx.shapes
        grad_magnitude = grad_angle = None
        if ctx.needs_input_grad[0]:  # Re(grad * e^{-i angle})
            grad_magnitude = _wrap(
                kernels.launch_complex("polar_backward_abs", grad._data, angle._data, dtype=grad.dtype)
            ).sum_to_size(magnitude_shape)
        if ctx.needs_input_grad[1]:  # Re(grad * conj(i z))
            grad_angle = _wrap(
                kernels.launch_complex("polar_backward_angle", grad._data, result._data, dtype=grad.dtype)
            ).sum_to_size(angle_shape)
        return grad_magnitude, grad_angle


def polar(abs: Tensor, angle: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A002 (torch's names)
    """abs * (cos(angle) + i sin(angle)), broadcasting, from two float32 or float64 tensors."""
    _check_parts("polar", abs, angle)
    if out is not None:
        raise NotImplementedError("tritongrad: polar(..., out=) is not implemented")
    if _records(abs, angle):
        return Polar.apply(abs, angle)
    return _wrap(kernels.launch_complex("polar", abs._data, angle._data, dtype=complex_of(abs.dtype)))


# ---------------------------------------------------------------------------------------------
# conj, angle
# ---------------------------------------------------------------------------------------------


class Conj(Function):
    complex_aware = True

    @staticmethod
    def forward(ctx, x):
        return _wrap(kernels.launch_complex("conj", x._data, dtype=x.dtype))

    @staticmethod
    def backward(ctx, grad):
        return conj_physical(grad)


class ConjPhysical(Conj):
    pass


def _conjugate(function: type[Function], input: Tensor) -> Tensor:
    if _records(input):
        return function.apply(input)
    return _wrap(kernels.launch_complex("conj", input._data, dtype=input.dtype))


def conj(input: Tensor) -> Tensor:
    """The complex conjugate; a real tensor is returned as it is.

    torch's conj is a lazy view (its ``is_conj()`` is True until ``resolve_conj()``); tritongrad
    writes the conjugated values into new memory, and marks the result so that ``is_conj()``,
    ``resolve_conj()`` and ``view_as_real``'s refusal read as torch's. Writing into the result does
    not write into ``input`` (torch's view would).
    """
    _check_tensor("conj", input)
    if not input.dtype.is_complex:
        return input
    result = _conjugate(Conj, input)
    result._is_conj = not input._is_conj
    return result


def _conj_physical_out_dtype_error(wanted: torch.dtype, given: torch.dtype) -> str:
    return f"Found dtype {dtype_word(given)} but expected {dtype_word(wanted)}"


# (torch writes into out even when the input requires grad)
@out_variant("conj_physical", differentiable=False, dtype_error=_conj_physical_out_dtype_error)
def conj_physical(input: Tensor) -> Tensor:
    """The complex conjugate in new memory (a real tensor is returned as it is)."""
    _check_tensor("conj_physical", input)
    if not input.dtype.is_complex:
        return input
    result = _conjugate(ConjPhysical, input)
    result._is_conj = input._is_conj
    return result


def resolve_conj(input: Tensor) -> Tensor:
    """``input`` with ``is_conj()`` False: the values are already conjugated in memory (see
    ``conj``), so a tensor marked conjugated is copied unmarked, and any other is returned as it is."""
    _check_tensor("resolve_conj", input)
    if not input._is_conj:
        return input
    result = input.clone()
    result._is_conj = False
    return result


class Angle(Function):
    complex_aware = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _wrap(_launch_angle(x._data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if not x.dtype.is_complex:
            return creation.zeros_like(x)  # (0 or pi: flat)
        return _wrap(kernels.launch_complex("angle_backward", grad._data, x._data, dtype=x.dtype))


def _launch_angle(data: torch.Tensor) -> torch.Tensor:
    if data.dtype.is_complex:
        return kernels.launch_complex("angle", data, dtype=data.dtype)
    # a real tensor's angle: 0 or pi (NaN stays), in its floating dtype or the default one
    dtype = complex_of(data.dtype)
    return kernels.launch_complex("angle", data, dtype=dtype, out_dtype=real_of(dtype))


def angle(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The argument of each element, atan2(imag, real), in (-pi, pi]; for real tensors 0 or pi."""
    _check_tensor("angle", input)
    if out is not None:
        raise NotImplementedError("tritongrad: angle(..., out=) is not implemented")
    if input.dtype in (torch.float16, torch.bfloat16):  # (no complex32: taken in float32, given back in its dtype)
        return angle(input.float()).to(input.dtype)
    if _records(input):
        return Angle.apply(input)
    return _wrap(_launch_angle(input._data))


def isreal(input: Tensor) -> Tensor:
    """True where the imaginary part is 0 (everywhere for a real tensor)."""
    _check_tensor("isreal", input)
    if not input.dtype.is_complex:
        return creation.ones(tuple(input.shape), dtype=torch.bool, device=input.device)
    return imag(input) == 0


def is_conj(input: Tensor) -> bool:
    """Whether ``input`` is marked conjugated (what ``conj()`` returns; see ``conj``)."""
    _check_tensor("is_conj", input)
    return input._is_conj


class ComplexMethods:
    """The Tensor methods and properties of this module (attached below)."""

    real = property(real)
    imag = property(imag)
    conj = conj
    conj_physical = conj_physical
    resolve_conj = resolve_conj
    angle = angle
    isreal = isreal

    def cfloat(self) -> Tensor:
        return self.to(torch.complex64)

    def cdouble(self) -> Tensor:
        return self.to(torch.complex128)


attach_methods(ComplexMethods)
