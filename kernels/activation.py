"""Activations: GELU (exact and tanh), leaky ReLU and SiLU forward and backward. (ReLU, sigmoid
and tanh, forward and backward from the output, are ops of kernels/elementwise.py.)

Every kernel is one pass: the forward reads x and writes y; the backward reads
grad_out and the saved input x and writes grad_in. The operation is a string constexpr, so each
op compiles to its own kernel. Half types compute in float32, float64 in
float64 (kernels/common.compute_dtype).

The module also holds device functions other kernel files import: ``tanh``,
``erf``, ``erfc`` and ``sigmoid_pair`` built from ``tl.exp`` (libdevice is not
available in the interpreter).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import (
    bits_to_float,
    check_floating,
    check_same_device,
    compute_dtype,
    float_bits,
)
from tritongrad.runtime import cdiv, elementwise_launch_config

__all__ = [
    "launch_gelu_fwd",
    "launch_gelu_bwd",
    "launch_leaky_relu_fwd",
    "launch_leaky_relu_bwd",
    "launch_silu_fwd",
    "launch_silu_bwd",
    "tanh",
    "erf",
    "erfc",
    "sigmoid_pair",
]


# ----------------------------------------------------------------------------------------------
# Exact float scalars
# ----------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------
# Special functions (float32 or float64 in, same type out)
# ----------------------------------------------------------------------------------------------


@triton.jit
def tanh(x):
    """tanh(x) to ~2e-7 relative in float32 and ~1e-15 in float64, without libdevice.

    (1 - e^(-2|x|)) / (1 + e^(-2|x|)) cancels for small |x|, so there the odd Taylor series
    x - x^3/3 + 2x^5/15 - ... through x^17 is used instead: below 0.625 its truncation error is
    < 6e-8 relative (float32), below 0.2 < 1e-16 (float64).
    """
    if x.dtype == tl.float64:
        near_zero = 0.2
    else:
        near_zero = 0.625
    magnitude = tl.abs(x)
    decay = tl.exp(-2.0 * magnitude)
    far = (1.0 - decay) / (1.0 + decay)
    far = tl.where(x < 0, -far, far)
    # Taylor coefficients of tanh(x) / x - 1 in z = x^2: -1/3, 2/15, -17/315, 62/2835, ...
    # (Each Horner chain starts from a product: a float literal assigned to a variable on its
    # own becomes a float32 value in the interpreter, which would cost float64 its accuracy.)
    z = x * x
    series = z * (6404582.0 / 10854718875.0) - 929569.0 / 638512875.0
    series = series * z + 21844.0 / 6081075.0
    series = series * z - 1382.0 / 155925.0
    series = series * z + 62.0 / 2835.0
    series = series * z - 17.0 / 315.0
    series = series * z + 2.0 / 15.0
    series = series * z - 1.0 / 3.0
    near = x + x * z * series
    return tl.where(magnitude < near_zero, near, far)


# erf and erfc follow fdlibm's s_erf.c (Sun Microsystems, 1993): four rational approximations
# on [0, 0.84375), [0.84375, 1.25), [1.25, 1/0.35), [1/0.35, 28), each with an approximation
# error below 2**-56 (the file's own bounds), so float64 results are within a few ulp and float32
# evaluation of the same formulas is within a few float32 ulp. The coefficients are fdlibm's,
# evaluated by Horner's rule from the highest power down. Measured against mpmath over [-10, 10]
# (interpreter, numpy's exp): erf within 1 ulp, erfc and tanh within ~2 ulp, in float32 and
# float64. On a GPU float32 tl.exp is ex2.approx of x * log2(e), whose error grows like
# |x| * eps: erfc(8) there is good to ~1e-5.


# erf(1) to 21 bits (exact in float32): the middle interval approximates erf(a) - _ERX.
_ERX = tl.constexpr(8.45062911510467529297e-01)


@triton.jit
def _erf_near_zero(a):
    """P(a^2) / Q(a^2) on [0, 0.84375), where erf(a) = a + a * P/Q."""
    z = a * a
    p = z * -2.37630166566501626084e-05 - 5.77027029648944159157e-03
    p = p * z - 2.84817495755985104766e-02
    p = p * z - 3.25042107247001499370e-01
    p = p * z + 1.28379167095512558561e-01
    q = z * -3.96022827877536812320e-06 + 1.32494738004321644526e-04
    q = q * z + 5.08130628187576562776e-03
    q = q * z + 6.50222499887672944485e-02
    q = q * z + 3.97917223959155352819e-01
    q = q * z + 1.0
    return p / q


@triton.jit
def _erf_near_one(a):
    """P(a - 1) / Q(a - 1) on [0.84375, 1.25), where erf(a) = erx + P/Q."""
    s = a - 1.0
    p = s * -2.16637559486879084300e-03 + 3.54783043256182359371e-02
    p = p * s - 1.10894694282396677476e-01
    p = p * s + 3.18346619901161753674e-01
    p = p * s - 3.72207876035701323847e-01
    p = p * s + 4.14856118683748331666e-01
    p = p * s - 2.36211856075265944077e-03
    q = s * 1.19844998467991074170e-02 + 1.36370839120290507362e-02
    q = q * s + 1.26171219808761642112e-01
    q = q * s + 7.18286544141962662868e-02
    q = q * s + 5.40397917702171048937e-01
    q = q * s + 1.06420880400844228286e-01
    q = q * s + 1.0
    return p / q


@triton.jit
def _erfc_tail(a):
    """erfc(a) for a in [1.25, 28]: exp(-a^2 - 0.5625 + R(1/a^2) / S(1/a^2)) / a."""
    s = 1.0 / (a * a)
    # [1.25, 1/0.35)
    r_low = s * -9.81432934416914548592e00 - 8.12874355063065934246e01
    r_low = r_low * s - 1.84605092906711035994e02
    r_low = r_low * s - 1.62396669462573470355e02
    r_low = r_low * s - 6.23753324503260060396e01
    r_low = r_low * s - 1.05586262253232909814e01
    r_low = r_low * s - 6.93858572707181764372e-01
    r_low = r_low * s - 9.86494403484714822705e-03
    s_low = s * -6.04244152148580987438e-02 + 6.57024977031928170135e00
    s_low = s_low * s + 1.08635005541779435134e02
    s_low = s_low * s + 4.29008140027567833386e02
    s_low = s_low * s + 6.45387271733267880336e02
    s_low = s_low * s + 4.34565877475229228821e02
    s_low = s_low * s + 1.37657754143519042600e02
    s_low = s_low * s + 1.96512716674392571292e01
    s_low = s_low * s + 1.0
    # [1/0.35, 28]
    r_high = s * -4.83519191608651397019e02 - 1.02509513161107724954e03
    r_high = r_high * s - 6.37566443368389627722e02
    r_high = r_high * s - 1.60636384855821916062e02
    r_high = r_high * s - 1.77579549177547519889e01
    r_high = r_high * s - 7.99283237680523006574e-01
    r_high = r_high * s - 9.86494292470009928597e-03
    s_high = s * -2.24409524465858183362e01 + 4.74528541206955367215e02
    s_high = s_high * s + 2.55305040643316442583e03
    s_high = s_high * s + 3.19985821950859553908e03
    s_high = s_high * s + 1.53672958608443695994e03
    s_high = s_high * s + 3.25792512996573918826e02
    s_high = s_high * s + 3.03380607434824582924e01
    s_high = s_high * s + 1.0
    correction = tl.where(a < 2.857142857142857, r_low / s_low, r_high / s_high)
    # exp(-a^2) directly would inherit the rounding of a*a (relative error ~ a^2 * eps). fdlibm's
    # remedy: a = head + (a - head) with head's low mantissa bits cleared, so head*head and
    # -head*head - 0.5625 are exact, and the small remainder term rounds harmlessly.
    if a.dtype == tl.float64:
        head = (a.to(tl.int64, bitcast=True) & -4294967296).to(tl.float64, bitcast=True)  # 21 bits
    else:
        head = (a.to(tl.int32, bitcast=True) & -16384).to(tl.float32, bitcast=True)  # 10 bits
    return tl.exp(-head * head - 0.5625) * tl.exp((head - a) * (head + a) + correction) / a


@triton.jit
def _erf_and_erfc_of_magnitude(a):
    """(erf(a), erfc(a)) for a >= 0 (NaN maps to the tail; callers restore NaN)."""
    # Each piece sees its input clamped to its own interval, so unselected lanes stay finite.
    small = tl.minimum(a, 0.84375)
    small_y = small * _erf_near_zero(small)
    erf_small = small + small_y
    # Below 1/4 erfc = 1 - erf loses nothing; above it fdlibm regroups to keep the last bits.
    erfc_small = tl.where(small < 0.25, 1.0 - erf_small, 0.5 - (small_y + (small - 0.5)))
    middle_ratio = _erf_near_one(tl.minimum(tl.maximum(a, 0.84375), 1.25))
    erfc_tail = _erfc_tail(tl.minimum(tl.maximum(a, 1.25), 28.0))
    erf_value = tl.where(a < 0.84375, erf_small, tl.where(a < 1.25, _ERX + middle_ratio, 1.0 - erfc_tail))
    erfc_value = tl.where(
        a < 0.84375,
        erfc_small,
        tl.where(a < 1.25, (1.0 - _ERX) - middle_ratio, tl.where(a < 28.0, erfc_tail, 0.0)),
    )
    return erf_value, erfc_value


@triton.jit
def erf_pair_of_magnitude(a):
    """(erf(a), erfc(a)) for a >= 0 from one evaluation (erfinv's Newton steps need both)."""
    return _erf_and_erfc_of_magnitude(a)


@triton.jit
def erf(x):
    """The error function (float32 or float64), fdlibm's method (see above)."""
    erf_magnitude, _ = _erf_and_erfc_of_magnitude(tl.abs(x))
    result = tl.where(x < 0, -erf_magnitude, erf_magnitude)
    return tl.where(x != x, x, result)


@triton.jit
def erfc(x):
    """1 - erf(x) without cancellation for large positive x (float32 or float64)."""
    erf_magnitude, erfc_magnitude = _erf_and_erfc_of_magnitude(tl.abs(x))
    result = tl.where(x < 0, 1.0 + erf_magnitude, erfc_magnitude)
    return tl.where(x != x, x, result)


@triton.jit
def sigmoid_pair(z):
    """(sigmoid(z), sigmoid(-z)) from one exp of -|z|: neither overflows, and 1 - sigmoid(z) is
    never formed by subtraction (it would cancel for large z)."""
    decay = tl.exp(-tl.abs(z))
    larger = 1.0 / (1.0 + decay)
    smaller = decay / (1.0 + decay)
    positive = z >= 0
    return tl.where(positive, larger, smaller), tl.where(positive, smaller, larger)


# ----------------------------------------------------------------------------------------------
# Kernels
# ----------------------------------------------------------------------------------------------

# Globals read inside @triton.jit functions must be constexpr.
_SQRT_HALF = tl.constexpr(0.7071067811865476)
_INV_SQRT_2PI = tl.constexpr(0.3989422804014327)
_SQRT_2_OVER_PI = tl.constexpr(0.7978845608028654)
_GELU_TANH_CUBIC = tl.constexpr(0.044715)


@triton.jit
def gelu_tanh_inner(x):
    """2u and d(2u)/dx for the tanh approximation, u = sqrt(2/pi) * (x + 0.044715 x^3)."""
    twice_inner = 2.0 * _SQRT_2_OVER_PI * (x + _GELU_TANH_CUBIC * x * x * x)
    twice_inner_slope = 2.0 * _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_TANH_CUBIC * x * x)
    return twice_inner, twice_inner_slope


# y = f(x) elementwise. Traffic: one load of x and one store of y per element.
# Formulas avoid the cancellations of the textbook forms:
#   gelu:      x * Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2 (not (1 + erf) / 2, which cancels for x << 0);
#   gelu_tanh: x * sigmoid(2u), the same as x * (1 + tanh u) / 2 without its cancellation for x << 0.
# Grid: one program handles BLOCK consecutive elements.
@triton.jit(do_not_specialize=["parameter_bits"])
def activation_fwd_kernel(
    out_ptr, x_ptr,
    numel, parameter_bits,
    OP: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    if INT64_INDEX:
        index = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    else:
        index = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = index < numel
    x = tl.load(x_ptr + index, mask=mask, other=0.0).to(COMPUTE)
    if OP == "gelu":
        y = x * 0.5 * erfc(-x * _SQRT_HALF)
    elif OP == "gelu_tanh":
        twice_inner, _ = gelu_tanh_inner(x)
        gate, _ = sigmoid_pair(twice_inner)
        y = x * gate
    elif OP == "leaky_relu":
        y = tl.where(x > 0, x, x * bits_to_float(parameter_bits).to(COMPUTE))
    else:  # silu
        gate, _ = sigmoid_pair(x)
        y = x * gate
    tl.store(out_ptr + index, y.to(out_ptr.dtype.element_ty), mask=mask)


# grad_in = grad_out * f'(x) elementwise, with `saved` the forward's input x. Traffic: two loads
# and one store per element.
# Grid: one program handles BLOCK consecutive elements.
@triton.jit(do_not_specialize=["parameter_bits"])
def activation_bwd_kernel(
    grad_in_ptr, grad_out_ptr, saved_ptr,
    numel, parameter_bits,
    OP: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INT64_INDEX: tl.constexpr,
):  # fmt: skip
    if INT64_INDEX:
        index = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    else:
        index = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = index < numel
    grad = tl.load(grad_out_ptr + index, mask=mask, other=0.0).to(COMPUTE)
    saved = tl.load(saved_ptr + index, mask=mask, other=0.0).to(COMPUTE)
    if OP == "gelu":
        # d/dx x Phi(x) = Phi(x) + x phi(x)
        cdf = 0.5 * erfc(-saved * _SQRT_HALF)
        density = tl.exp(-0.5 * saved * saved) * _INV_SQRT_2PI
        grad_in = grad * (cdf + saved * density)
    elif OP == "gelu_tanh":
        # d/dx x s(2u) = s(2u) + x s(2u) s(-2u) d(2u)/dx, s the sigmoid
        twice_inner, twice_inner_slope = gelu_tanh_inner(saved)
        gate, gate_complement = sigmoid_pair(twice_inner)
        grad_in = grad * (gate + saved * gate * gate_complement * twice_inner_slope)
    elif OP == "leaky_relu":
        grad_in = tl.where(saved > 0, grad, grad * bits_to_float(parameter_bits).to(COMPUTE))
    else:  # silu: d/dx x s(x) = s(x) (1 + x s(-x))
        gate, gate_complement = sigmoid_pair(saved)
        grad_in = grad * gate * (1.0 + saved * gate_complement)
    tl.store(grad_in_ptr + index, grad_in.to(grad_in_ptr.dtype.element_ty), mask=mask)


# ----------------------------------------------------------------------------------------------
# Launchers
# ----------------------------------------------------------------------------------------------

_GELU_APPROXIMATIONS = {"none": "gelu", "tanh": "gelu_tanh"}


def _check_operand(name: str, what: str, tensor: torch.Tensor) -> None:
    check_floating(name, tensor)
    if not tensor.is_contiguous():
        raise ValueError(
            f"{name}: {what} must be contiguous (shape {tuple(tensor.shape)}, strides {tensor.stride()}); "
            "the caller makes it contiguous first"
        )


def _needs_int64_index(numel: int, block: int) -> bool:
    # The last program's indices run up to a block past numel.
    return numel + block >= 2**31


def _launch_fwd(name: str, op: str, x: torch.Tensor, parameter: float = 0.0) -> torch.Tensor:
    _check_operand(name, "input", x)
    out = torch.empty_like(x)
    numel = x.numel()
    if numel == 0:
        return out
    block, num_warps = elementwise_launch_config(numel)
    activation_fwd_kernel[(cdiv(numel, block),)](
        out, x, numel, float_bits(parameter),
        OP=op, COMPUTE=compute_dtype(x.dtype), BLOCK=block,
        INT64_INDEX=_needs_int64_index(numel, block), num_warps=num_warps,
    )  # fmt: skip
    return out


def _launch_bwd(name: str, op: str, grad_out: torch.Tensor, saved: torch.Tensor, parameter: float = 0.0):
    _check_operand(name, "grad_output", grad_out)
    _check_operand(name, "saved tensor", saved)
    check_same_device(name, grad_out, saved)
    if grad_out.shape != saved.shape or grad_out.dtype != saved.dtype:
        raise ValueError(
            f"{name}: grad_output {tuple(grad_out.shape)} {grad_out.dtype} does not match the saved tensor "
            f"{tuple(saved.shape)} {saved.dtype}"
        )
    grad_in = torch.empty_like(grad_out)
    numel = grad_out.numel()
    if numel == 0:
        return grad_in
    block, num_warps = elementwise_launch_config(numel)
    activation_bwd_kernel[(cdiv(numel, block),)](
        grad_in, grad_out, saved, numel, float_bits(parameter),
        OP=op, COMPUTE=compute_dtype(grad_out.dtype), BLOCK=block,
        INT64_INDEX=_needs_int64_index(numel, block), num_warps=num_warps,
    )  # fmt: skip
    return grad_in


def _gelu_op(name: str, approximate: str) -> str:
    try:
        return _GELU_APPROXIMATIONS[approximate]
    except KeyError:
        raise ValueError(f"{name}: approximate must be 'none' or 'tanh', got {approximate!r}") from None


def launch_gelu_fwd(x: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    """GELU: x * Phi(x) (``approximate="none"``) or torch's tanh approximation (``"tanh"``)."""
    return _launch_fwd("gelu", _gelu_op("gelu", approximate), x)


def launch_gelu_bwd(grad_out: torch.Tensor, x: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    """GELU's backward from its input ``x``: grad_out * d gelu(x) / dx."""
    return _launch_bwd("gelu_backward", _gelu_op("gelu_backward", approximate), grad_out, x)


def launch_leaky_relu_fwd(x: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """x where x > 0, else x * negative_slope (the slope is applied at float64 precision for float64)."""
    return _launch_fwd("leaky_relu", "leaky_relu", x, float(negative_slope))


def launch_leaky_relu_bwd(grad_out: torch.Tensor, x: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """Leaky ReLU's backward from its input ``x``: grad_out where x > 0, else grad_out * negative_slope."""
    return _launch_bwd("leaky_relu_backward", "leaky_relu", grad_out, x, float(negative_slope))


def launch_silu_fwd(x: torch.Tensor) -> torch.Tensor:
    """SiLU: x * sigmoid(x)."""
    return _launch_fwd("silu", "silu", x)


def launch_silu_bwd(grad_out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """SiLU's backward from its input ``x``: grad_out * s(x) * (1 + x * (1 - s(x)))."""
    return _launch_bwd("silu_backward", "silu", grad_out, x)
