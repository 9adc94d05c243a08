"""Complex kernels: complex64 / complex128 arithmetic on the float view of the buffers.

torch owns a complex tensor's memory; ``torch.view_as_real`` of it is a float32 (float64) view
with a last dim of 2 (real part, imaginary part), and that view is what these kernels read and
write. A complex operand is passed as two strided float views of its shape, the real parts and
the imaginary parts (``parts``): the elementwise launch plan (coalescing, broadcasting, the offset
width) is then the real one's, applied to each part, and every access stays inside the view the
bounds checker knows.

What is a real op on the float view is not written again here: a copy or cast into or out of a
complex dtype, a sum of two complex tensors, a scaling by a real number, a fill and the sum or mean
of a complex tensor are the real kernels on the ``(..., 2)`` view (kernels/elementwise.py,
kernels/creation.py and kernels/reduce.py do that rewrite in their general paths). This file has
what mixes the two parts or the two kinds of operand: products and quotients, sums with a real
tensor or a complex number, neg and conj, exp, reciprocal, abs, angle, sgn, polar/complex and the
gradients of the non-holomorphic ones, and the complex matrix product composed from four real ones.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import check_same_device
from tritongrad.kernels.elementwise import (
    _launch_strided,
    atan2,
    binary_math,
    constant_like,
    launch_binary,
    launch_unary,
    linear_index,
    sign_bit,
    store_as,
)
from tritongrad.kernels.matmul import launch_matmul
from tritongrad.kernels.strided import broadcast_shapes, elementwise_output_strides, strided_offset

__all__ = ["COMPLEX_DTYPES", "UNARY_OPS", "BINARY_OPS", "parts", "launch_complex", "launch_complex_matmul"]

COMPLEX_DTYPES = (torch.complex64, torch.complex128)

# ops of one operand, and of two, that the kernel below computes; the result is complex unless
# the op is in REAL_RESULT_OPS. (Copies and casts are the real copy kernel on the float views:
# kernels/elementwise.py.)
UNARY_OPS = frozenset(("neg", "conj", "exp", "reciprocal", "sgn", "abs", "angle"))
BINARY_OPS = frozenset(
    ("add", "sub", "mul", "div", "polar", "complex", "angle_backward", "polar_backward_abs", "polar_backward_angle")
)
REAL_RESULT_OPS = frozenset(("abs", "angle", "polar_backward_abs", "polar_backward_angle"))


def parts(tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(real parts, imaginary parts) of a complex tensor as two strided float views of its shape;
    (tensor, None) for a real tensor."""
    if not tensor.dtype.is_complex:
        return tensor, None
    pairs = torch.view_as_real(tensor)
    return pairs.select(-1, 0), pairs.select(-1, 1)


@triton.jit
def _smith_divide(ar, ai, br, bi):
    """(ar + i ai) / (br + i bi) as c10::complex divides (numpy's algorithm, Smith's method): the
    divisor's larger part is divided out first, so |b|^2 is never formed (no overflow or underflow
    for large or tiny divisors); a zero divisor gives a / 0 part by part (inf or NaN)."""
    wide = tl.abs(br) >= tl.abs(bi)
    ratio = tl.where(wide, bi / br, br / bi)
    scale = 1.0 / tl.where(wide, br + bi * ratio, bi + br * ratio)
    re = tl.where(wide, (ar + ai * ratio) * scale, (ar * ratio + ai) * scale)
    im = tl.where(wide, (ai - ar * ratio) * scale, (ai * ratio - ar) * scale)
    zero = (br == 0.0) & (bi == 0.0)
    re = tl.where(zero, ar / tl.abs(br), re)
    im = tl.where(zero, ai / tl.abs(bi), im)
    return re, im


@triton.jit
def _c99_exp(x, y, COMPUTE: tl.constexpr):
    """exp(x + iy) as C99's cexp (glibc's, which torch's std::exp of a complex number calls):
    e^x (cos y + i sin y), where e^x may overflow while the product does not (exp(710 + 1j) is
    finite in float64): a real part above the step T is brought down by T up to twice, e^T going into
    cos y and sin y (one factor at a time, as glibc), and what is still above T overflows as the
    format's largest value times them. The special values follow (C99 G.6.3.1): x = +inf gives
    +-inf by the signs of cos y and sin y, x = -inf gives +-0 the same way, and an imaginary part of
    +-0 stays itself (exp(710 + 0j) = inf + 0j, exp(nan + 0j) = nan + 0j); for an infinite or NaN y,
    x = +inf gives inf + nan i, x = -inf gives 0 +- 0i (the sign of y) and a finite x nan + nan i."""
    # T is glibc's int((MAX_EXP - 1) * ln 2) of the part's format; e^T is rounded to that format
    if COMPUTE == tl.float64:
        STEP: tl.constexpr = 709.0
        EXP_STEP: tl.constexpr = 8.218407461554972e307
        LARGEST: tl.constexpr = 1.7976931348623157e308
    else:
        STEP: tl.constexpr = 88.0
        EXP_STEP: tl.constexpr = 1.6516362549940018e38
        LARGEST: tl.constexpr = 3.4028234663852886e38
    one = constant_like(x, 1.0)
    first = tl.where(x > STEP, constant_like(x, EXP_STEP), one)
    reduced = tl.where(x > STEP, x - STEP, x)
    second = tl.where(reduced > STEP, constant_like(x, EXP_STEP), one)
    reduced = tl.where(reduced > STEP, reduced - STEP, reduced)
    scale = tl.where(reduced > STEP, constant_like(x, LARGEST), tl.exp(reduced))
    # (x = +inf: LARGEST times cos y e^2T, +-inf; x = -inf: 0 times cos y, +-0; both exact for a finite y)
    re = scale * (tl.cos(y) * first * second)
    im = scale * (tl.sin(y) * first * second)
    y_not_finite = (y != y) | (tl.abs(y) == float("inf"))
    x_infinite = tl.abs(x) == float("inf")
    re = tl.where(y_not_finite & x_infinite, tl.where(x > 0, constant_like(x, float("inf")), tl.zeros_like(x)), re)
    zero_signed_as_y = tl.where(sign_bit(y), -tl.zeros_like(x), tl.zeros_like(x))
    im = tl.where(y_not_finite & (x == -float("inf")), zero_signed_as_y, im)
    return re, tl.where(y == 0.0, y, im)


# out = OP(a[, b]) for complex (or real) a and b: one program maps BLOCK consecutive output
# elements. Each operand arrives as its real-part and imaginary-part views (A_COMPLEX / B_COMPLEX
# say whether the imaginary view is there; a real operand's imaginary part is 0); the result is
# written as its two part views, or as one real view (REAL_OUT). Traffic: each part read once,
# each part written once, arithmetic in COMPUTE (float32 for complex64, float64 for complex128).
@triton.jit
def complex_kernel(
    a_re_ptr, a_im_ptr, b_re_ptr, b_im_ptr, out_im_ptr, out_re_ptr,
    numel, shape, a_re_strides, a_im_strides, b_re_strides, b_im_strides, out_im_strides, out_re_strides,
    OP: tl.constexpr, COMPUTE: tl.constexpr, A_COMPLEX: tl.constexpr, HAS_B: tl.constexpr,
    B_COMPLEX: tl.constexpr, REAL_OUT: tl.constexpr, RANK: tl.constexpr, BLOCK: tl.constexpr,
    INT64_INDEX: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INT64_INDEX)
    mask = index < numel
    ar = tl.load(a_re_ptr + strided_offset(index, shape, a_re_strides, RANK), mask=mask, other=1).to(COMPUTE)
    if A_COMPLEX:
        ai = tl.load(a_im_ptr + strided_offset(index, shape, a_im_strides, RANK), mask=mask, other=0).to(COMPUTE)
    else:
        ai = tl.zeros_like(ar)
    br = tl.zeros_like(ar)
    bi = tl.zeros_like(ar)
    if HAS_B:
        br = tl.load(b_re_ptr + strided_offset(index, shape, b_re_strides, RANK), mask=mask, other=1).to(COMPUTE)
        if B_COMPLEX:
            bi = tl.load(b_im_ptr + strided_offset(index, shape, b_im_strides, RANK), mask=mask, other=0)
            bi = bi.to(COMPUTE)
    re = ar
    im = ai
    if OP == "neg":
        re = -ar
        im = -ai
    elif OP == "conj":
        im = -ai
    elif OP == "exp":
        re, im = _c99_exp(ar, ai, COMPUTE)
    elif OP == "reciprocal":
        re, im = _smith_divide(tl.zeros_like(ar) + 1.0, tl.zeros_like(ar), ar, ai)
    elif OP == "abs":
        re = binary_math(ar, ai, "hypot", COMPUTE)
    elif OP == "angle":
        if A_COMPLEX:
            re = atan2(ai, ar)
        else:  # (a real number's: pi below zero, else 0; -0.0 is 0 and NaN stays, as torch's)
            re = tl.where(ar < 0, tl.zeros_like(ar) + 3.141592653589793, tl.where(ar != ar, ar, tl.zeros_like(ar)))
    elif OP == "sgn":
        magnitude = binary_math(ar, ai, "hypot", COMPUTE)
        re = tl.where(magnitude == 0.0, tl.zeros_like(ar), ar / magnitude)
        im = tl.where(magnitude == 0.0, tl.zeros_like(ar), ai / magnitude)
    elif OP == "add":
        re = ar + br
        im = ai + bi
    elif OP == "sub":
        re = ar - br
        im = ai - bi
    elif OP == "mul":
        re = ar * br - ai * bi
        im = ar * bi + ai * br
    elif OP == "div":
        re, im = _smith_divide(ar, ai, br, bi)
    elif OP == "polar":  # a: the magnitude, b: the angle
        re = ar * tl.cos(br)
        im = ar * tl.sin(br)
    elif OP == "complex":  # a: the real part, b: the imaginary part
        re = ar
        im = br
    elif OP == "angle_backward":  # a: the gradient of angle(z) (real), b: z -> grad * i z / |z|^2
        squared = br * br + bi * bi
        re = tl.where(squared == 0.0, tl.zeros_like(ar), -ar * bi / squared)
        im = tl.where(squared == 0.0, tl.zeros_like(ar), ar * br / squared)
    elif OP == "polar_backward_abs":  # a: the gradient of z = polar(r, theta), b: theta -> Re(a e^-i theta)
        re = ar * tl.cos(br) + ai * tl.sin(br)
    elif OP == "polar_backward_angle":  # a: the gradient of z, b: z itself -> Re(a conj(i z))
        re = ai * br - ar * bi
    else:
        tl.static_assert(False, "unknown complex op")
    store_as(out_re_ptr + strided_offset(index, shape, out_re_strides, RANK), re, mask)
    if not REAL_OUT:
        store_as(out_im_ptr + strided_offset(index, shape, out_im_strides, RANK), im, mask)


_COMPUTE = {torch.complex64: tl.float32, torch.complex128: tl.float64}
_REAL_PARTS = {torch.complex64: torch.float32, torch.complex128: torch.float64}


def _as_operand(value, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A Python number as a 0-dim tensor of the computation's complex ``dtype`` (one host-to-device
    copy: every digit of a float64 part survives, which a kernel argument's fp32 would not)."""
    return torch.tensor(complex(value), dtype=dtype, device=device)


def launch_complex(
    op: str,
    a,
    b=None,
    *,
    dtype: torch.dtype,
    out_dtype: torch.dtype | None = None,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """out = op(a[, b]) elementwise with broadcasting, computed in the complex ``dtype``'s parts.

    Args:
        op: one of ``UNARY_OPS`` (b is None) or ``BINARY_OPS``.
        a, b: torch tensors (complex or real, any strides) or Python numbers.
        dtype: the complex dtype the arithmetic is done in (complex64: float32 parts).
        out_dtype: the result's dtype (default ``dtype``; the real one for ``REAL_RESULT_OPS``).
        out: a tensor to write into instead (its shape must be the broadcast shape).

    Returns:
        The result, a new tensor laid out as the inputs are (or ``out``).
    """
    if dtype not in _COMPUTE:
        raise NotImplementedError(f"tritongrad: {op} in {dtype} is not implemented (complex64 and complex128 are)")
    if op not in UNARY_OPS and op not in BINARY_OPS:
        raise NotImplementedError(f"tritongrad: {op} of complex tensors is not implemented")
    tensors = [t for t in (a, b) if isinstance(t, torch.Tensor)]
    check_same_device(op, *tensors, *([out] if out is not None else []))
    device = tensors[0].device if tensors else (out.device if out is not None else torch.device("cpu"))
    a = a if isinstance(a, torch.Tensor) else _as_operand(a, dtype, device)
    if b is not None and not isinstance(b, torch.Tensor):
        b = _as_operand(b, dtype, device)
    operands = [a] if b is None else [a, b]
    shape = broadcast_shapes(*[tuple(t.shape) for t in operands])
    if out is None:
        if out_dtype is None:
            out_dtype = _REAL_PARTS[dtype] if op in REAL_RESULT_OPS else dtype
        strides = elementwise_output_strides(shape, operands)
        out = (
            torch.empty(shape, dtype=out_dtype, device=device)
            if strides is None
            else torch.empty_strided(shape, strides, dtype=out_dtype, device=device)
        )
    elif tuple(out.shape) != shape:
        raise RuntimeError(f"output with shape {list(out.shape)} doesn't match the broadcast shape {list(shape)}")
    if out.numel() == 0:
        return out
    a_re, a_im = parts(a)
    b_re, b_im = parts(b) if b is not None else (None, None)
    out_re, out_im = parts(out)
    real_out = out_im is None
    constexprs = dict(
        OP=op, COMPUTE=_COMPUTE[dtype], A_COMPLEX=a_im is not None, HAS_B=b is not None,
        B_COMPLEX=b_im is not None, REAL_OUT=real_out,
    )  # fmt: skip
    _launch_strided(complex_kernel, [a_re, a_im, b_re, b_im, out_im], out_re, (), constexprs)
    return out


def launch_complex_matmul(a: torch.Tensor, b: torch.Tensor, *, allow_tf32: bool = False) -> torch.Tensor:
    """a @ b for complex a and b of one dtype, with launch_matmul's shapes and batch broadcasting.

    Four real products of the parts, then the two sums written straight into the result's part
    views: (ar br - ai bi) + i (ar bi + ai br). Four products instead of Gauss's three: each part
    keeps the accuracy of a real matmul. The parts are copied out of the interleaved storage first
    (one copy kernel each): as strided views (element stride 2) they are not 16-byte aligned, so the
    products would take the unpipelined tile, slower on a GPU and, in float64 with triton 3.6, 24 B
    of spill on sm_90 (AOT report).
    """
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}")
    (ar, ai), (br, bi) = (
        [launch_unary("copy", part, out=torch.empty(tuple(part.shape), dtype=part.dtype, device=part.device))
         for part in parts(operand)]
        for operand in (a, b)
    )  # fmt: skip
    real_real = launch_matmul(ar, br, allow_tf32=allow_tf32)
    imag_imag = launch_matmul(ai, bi, allow_tf32=allow_tf32)
    real_imag = launch_matmul(ar, bi, allow_tf32=allow_tf32)
    imag_real = launch_matmul(ai, br, allow_tf32=allow_tf32)
    out = torch.empty(tuple(real_real.shape), dtype=a.dtype, device=a.device)
    out_re, out_im = parts(out)
    part_dtype = real_real.dtype
    launch_binary("sub", real_real, imag_imag, out=out_re, out_dtype=part_dtype, compute=part_dtype)
    launch_binary("add", real_imag, imag_real, out=out_im, out_dtype=part_dtype, compute=part_dtype)
    return out
