"""Elementwise losses, forward and backward, as one family: a table row per loss.

A row (``ElementwiseLoss``) names torch's function and two ``@triton.jit``
expressions of one element — the loss ``f(x, t, p, a)`` and its gradient
``(df/dx, df/dt)`` — where x is the input, t the target, p the loss's scalar
parameter (smooth_l1's beta, huber's delta) and a an optional auxiliary
operand (binary_cross_entropy_with_logits' pos_weight; 1 where absent). Two
template kernels do everything else for every row: strided (and broadcast,
stride-0) operands, an optional per-element ``weight`` multiplying the loss,
the reductions, and the gradients. Each row's kernels are the templates under
the row's own name (``l1_loss_fwd_kernel``), so launch counts and GPU profiles
say which loss ran. Adding a loss takes its two expressions and one row.

Reduced losses: each program writes the sum of its own losses to a partials
buffer finished by ``loss_reduction.finish``; a loss that fits one block is
summed (and divided) by its one program instead, a single launch. ``count``,
the mean's denominator, is the number of elements except for kl_div's
"batchmean" (the batch size), which callers pass as a mean over that count.

The forward can also write the gradients that ``loss.backward()``'s implicit
seed (grad_loss = 1) will need, with the very operations of the backward
kernel, so that backward launches nothing (see ops/nn_ops.ElementwiseLoss).

A row may also name the domain of its operands (binary_cross_entropy: input and target in
[0, 1]). Its forward kernel then flags, per program, whether it saw an input or a target outside
it (NaN included), and the launcher raises torch's error from those flags as
kernels/device_checks.py says: at the call in the interpreter, at the next readback on a GPU, so
the check costs a training step no host sync. Meanwhile such an element's loss and gradients are
NaN, never a plausible number.

Math is in fp32 (fp64 for fp64 operands). A difference from torch's CPU kernels, on purpose:
soft_margin_loss uses the overflow-free log(1 + exp(-t x)), finite where torch's CPU formula
gives inf.
"""

from __future__ import annotations

import dataclasses
import inspect
import linecache

import torch
import triton
import triton.language as tl

from tritongrad.kernels.common import (
    bits_to_float,
    check_floating,
    check_same_device,
    compute_dtype,
    float_bits,
    needs_int64_indexing,
)
from tritongrad.kernels.device_checks import check_on_device
from tritongrad.kernels.elementwise import linear_index
from tritongrad.kernels.loss_reduction import BY_COUNT, SUM, accumulator_dtype, check_grad_loss, check_reduction, finish
from tritongrad.kernels.strided import MAX_RANK, coalesce, strided_offset
from tritongrad.runtime import cdiv, elementwise_launch_config, reduction_block

__all__ = ["ElementwiseLoss", "LOSSES", "launch_elementwise_loss_fwd", "launch_elementwise_loss_bwd"]

# torch clamps BCE's logarithms at -100 (so a 0 or 1 probability gives a finite loss) and
# divides its input gradient by max(x (1 - x), 1e-12), a float32 1e-12 even for float64.
_BCE_LOG_FLOOR = tl.constexpr(-100.0)
_BCE_GRAD_EPS = tl.constexpr(1e-12)


# --------------------------------------------------------------------------- per-element expressions


@triton.jit
def _sign(d):
    """-1, 0 or 1; NaN stays NaN (the gradient of |d| at NaN is NaN in torch)."""
    return tl.where(d != d, d, tl.where(d > 0, 1.0, tl.where(d < 0, -1.0, 0.0)))


@triton.jit
def _log1p(u):
    """log(1 + u), accurate for tiny |u| (no libdevice in the interpreter): log(w) * u / (w - 1), w = 1 + u."""
    w = 1.0 + u
    return tl.where(w == 1.0, u, tl.log(w) * u / tl.where(w == 1.0, 1.0, w - 1.0))


@triton.jit
def _softplus_of_negative(x):
    """log(1 + exp(-x)) without overflow: max(-x, 0) + log(1 + exp(-|x|))."""
    return tl.maximum(-x, 0.0) + _log1p(tl.exp(-tl.abs(x)))


@triton.jit
def _sigmoid_of_negative(x):
    """sigmoid(-x) from exp(-|x|), which cannot overflow."""
    decay = tl.exp(-tl.abs(x))
    return tl.where(x >= 0, decay, 1.0) / (1.0 + decay)


@triton.jit
def _mse_loss(x, t, p, a):
    d = x - t
    return d * d


@triton.jit
def _mse_grads(x, t, p, a):
    g = 2.0 * (x - t)
    return g, -g


@triton.jit
def _l1_loss(x, t, p, a):
    return tl.abs(x - t)


@triton.jit
def _l1_grads(x, t, p, a):
    # torch differentiates |x - t| with sign(), which is 0 at NaN (smooth_l1 and huber give NaN there)
    d = x - t
    g = tl.where(d > 0, 1.0, tl.where(d < 0, -1.0, 0.0))
    return g, -g


@triton.jit
def _smooth_l1_loss(x, t, beta, a):
    # torch: 0.5 z^2 / beta below beta, z - beta / 2 above; beta = 0 is the L1 loss.
    z = tl.abs(x - t)
    return tl.where(z < beta, 0.5 * z * z / tl.where(beta > 0, beta, 1.0), z - 0.5 * beta)


@triton.jit
def _smooth_l1_grads(x, t, beta, a):
    d = x - t
    g = tl.where(tl.abs(d) < beta, d / tl.where(beta > 0, beta, 1.0), _sign(d))
    return g, -g


@triton.jit
def _huber_loss(x, t, delta, a):
    z = tl.abs(x - t)
    return tl.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))


@triton.jit
def _huber_grads(x, t, delta, a):
    d = x - t
    g = tl.where(tl.abs(d) < delta, d, delta * _sign(d))
    return g, -g


@triton.jit
def _outside_unit_interval(x, t):
    """NaN where the probability x or the target t lies outside [0, 1] (or is NaN), else 0."""
    bad = ~((x >= 0) & (x <= 1) & (t >= 0) & (t <= 1))
    return tl.where(bad, float("nan"), 0.0)


@triton.jit
def _unit_interval(x, t):
    """(x in [0, 1], t in [0, 1]) per element; NaN is outside."""
    return (x >= 0) & (x <= 1), (t >= 0) & (t <= 1)


@triton.jit
def _no_domain(x, t):
    return x == x, t == t  # (never called: the rows without a domain launch with CHECK off)


@triton.jit
def _bce_loss(x, t, p, a):
    # torch's CPU formula: (t - 1) max(log1p(-x), -100) - t max(log(x), -100).
    log_x = tl.maximum(tl.log(x), _BCE_LOG_FLOOR)
    log_not_x = tl.maximum(_log1p(-x), _BCE_LOG_FLOOR)
    return (t - 1.0) * log_not_x - t * log_x + _outside_unit_interval(x, t)


@triton.jit
def _bce_grads(x, t, p, a):
    # d/dx = (x - t) / max(x (1 - x), eps); d/dt = -logit(x) = log(1 - x) - log(x), unclamped as in torch.
    invalid = _outside_unit_interval(x, t)
    floor = tl.full((), _BCE_GRAD_EPS, tl.float32).to(x.dtype)
    grad_x = (x - t) / tl.maximum((1.0 - x) * x, floor) + invalid
    grad_t = _log1p(-x) - tl.log(x) + invalid
    return grad_x, grad_t


@triton.jit
def _bce_with_logits_loss(x, t, p, pos_weight):
    # (1 - t) x + (1 + (pos_weight - 1) t) log(1 + exp(-x)), stable for any x.
    return (1.0 - t) * x + _softplus_of_negative(x) * (1.0 + (pos_weight - 1.0) * t)


@triton.jit
def _bce_with_logits_grads(x, t, p, pos_weight):
    grad_x = (1.0 - t) - (1.0 + (pos_weight - 1.0) * t) * _sigmoid_of_negative(x)
    grad_t = -x + (pos_weight - 1.0) * _softplus_of_negative(x)
    return grad_x, grad_t


@triton.jit
def _xlogx(t):
    """t log(t), 0 at t = 0 (torch's xlogy(t, t))."""
    return tl.where(t == 0, 0.0, t * tl.log(t))


@triton.jit
def _kl_div_loss(x, t, p, a):
    return _xlogx(t) - t * x


@triton.jit
def _kl_div_grads(x, t, p, a):
    # torch differentiates xlogy(t, t) as log(t) (0 at t = 0) + t / t (NaN at t = 0).
    return -t, tl.where(t == 0, 0.0, tl.log(t)) + t / t - x


@triton.jit
def _kl_div_log_target_loss(x, t, p, a):
    return tl.exp(t) * (t - x)


@triton.jit
def _kl_div_log_target_grads(x, t, p, a):
    e = tl.exp(t)
    return -e, e * (t - x + 1.0)


@triton.jit
def _soft_margin_loss(x, t, p, a):
    return _softplus_of_negative(t * x)


@triton.jit
def _soft_margin_grads(x, t, p, a):
    return -t * _sigmoid_of_negative(t * x), 0.0 * x  # torch gives the target no gradient


# --------------------------------------------------------------------------- the template kernels


@triton.jit
def _load(ptr, index, mask, shape, strides, other, RANK: tl.constexpr, COMPUTE: tl.constexpr):
    return tl.load(ptr + strided_offset(index, shape, strides, RANK), mask=mask, other=other).to(COMPUTE)


@triton.jit
def _operands(
    input_ptr, target_ptr, weight_ptr, aux_ptr, index, mask, shape,
    input_strides, target_strides, weight_strides, aux_strides, parameter_bits,
    HAS_WEIGHT: tl.constexpr, HAS_AUX: tl.constexpr, RANK: tl.constexpr, COMPUTE: tl.constexpr,
):  # fmt: skip
    """x, t, weight, aux and the scalar parameter of this program's elements, in COMPUTE.

    Masked lanes read 0.5 (inside every loss's domain, so no lane computes log(0)); absent
    weight and aux are 1.
    """
    x = _load(input_ptr, index, mask, shape, input_strides, 0.5, RANK, COMPUTE)
    t = _load(target_ptr, index, mask, shape, target_strides, 0.5, RANK, COMPUTE)
    weight = tl.full((), 1.0, COMPUTE)
    if HAS_WEIGHT:
        weight = _load(weight_ptr, index, mask, shape, weight_strides, 1.0, RANK, COMPUTE)
    aux = tl.full((), 1.0, COMPUTE)
    if HAS_AUX:
        aux = _load(aux_ptr, index, mask, shape, aux_strides, 1.0, RANK, COMPUTE)
    parameter = bits_to_float(parameter_bits).to(COMPUTE)
    return x, t, weight, aux, parameter


@triton.jit
def _scalar_loss_gradient(grad_loss, count, MEAN: tl.constexpr):
    """What each element gets of a reduced loss's gradient: all of it for "sum", / count for "mean"."""
    if MEAN:
        grad_loss = grad_loss / count
    return grad_loss


@triton.jit
def _store_gradients(
    grad, x, t, weight, aux, parameter, index, mask, shape,
    grad_input_ptr, grad_target_ptr, grad_input_strides, grad_target_strides,
    GRADS: tl.constexpr, INPUT_GRAD: tl.constexpr, TARGET_GRAD: tl.constexpr, RANK: tl.constexpr,
):  # fmt: skip
    """grad * weight * (df/dx, df/dt): the one gradient formula of the forward and the backward kernel."""
    grad = grad * weight
    grad_x, grad_t = GRADS(x, t, parameter, aux)
    if INPUT_GRAD:
        offsets = strided_offset(index, shape, grad_input_strides, RANK)
        tl.store(grad_input_ptr + offsets, (grad_x * grad).to(grad_input_ptr.dtype.element_ty), mask=mask)
    if TARGET_GRAD:
        offsets = strided_offset(index, shape, grad_target_strides, RANK)
        tl.store(grad_target_ptr + offsets, (grad_t * grad).to(grad_target_ptr.dtype.element_ty), mask=mask)


# loss = weight * LOSS(x, t, p, aux) per element. One program reads BLOCK elements of each
# operand and writes BLOCK losses or one partial sum (or, alone, the finished loss). With
# INPUT_GRAD / TARGET_GRAD it also writes the gradients for a backward seeded with 1.
def _elementwise_loss_fwd(
    input_ptr, target_ptr, weight_ptr, aux_ptr, grad_input_ptr, grad_target_ptr, out_ptr, partials_ptr, flags_ptr,
    numel, shape, input_strides, target_strides, weight_strides, aux_strides,
    grad_input_strides, grad_target_strides, out_strides, count, parameter_bits,
    LOSS: tl.constexpr, GRADS: tl.constexpr, DOMAIN: tl.constexpr, CHECK: tl.constexpr,
    HAS_WEIGHT: tl.constexpr, HAS_AUX: tl.constexpr,
    REDUCE: tl.constexpr, DIVIDE_BY_COUNT: tl.constexpr, INPUT_GRAD: tl.constexpr, TARGET_GRAD: tl.constexpr,
    MEAN: tl.constexpr, RANK: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < numel
    x, t, weight, aux, parameter = _operands(
        input_ptr, target_ptr, weight_ptr, aux_ptr, index, mask, shape,
        input_strides, target_strides, weight_strides, aux_strides, parameter_bits,
        HAS_WEIGHT, HAS_AUX, RANK, COMPUTE,
    )  # fmt: skip
    loss = LOSS(x, t, parameter, aux) * weight
    if CHECK:  # flags[2 pid] / flags[2 pid + 1]: an input / a target of this program outside DOMAIN
        input_ok, target_ok = DOMAIN(x, t)
        tl.store(flags_ptr + 2 * tl.program_id(0), tl.max(tl.where(mask & ~input_ok, 1, 0), axis=0))
        tl.store(flags_ptr + 2 * tl.program_id(0) + 1, tl.max(tl.where(mask & ~target_ok, 1, 0), axis=0))
    if INPUT_GRAD or TARGET_GRAD:
        unit = _scalar_loss_gradient(tl.full((), 1.0, COMPUTE), count, MEAN)
        _store_gradients(
            unit, x, t, weight, aux, parameter, index, mask, shape,
            grad_input_ptr, grad_target_ptr, grad_input_strides, grad_target_strides,
            GRADS, INPUT_GRAD, TARGET_GRAD, RANK,
        )  # fmt: skip
    if REDUCE:
        total = tl.sum(tl.where(mask, loss, 0.0), axis=0)
        if DIVIDE_BY_COUNT:  # the only program of a one-block loss finishes it
            total = total / count
        tl.store(partials_ptr + tl.program_id(0), total.to(partials_ptr.dtype.element_ty))
    else:
        out_offsets = strided_offset(index, shape, out_strides, RANK)
        tl.store(out_ptr + out_offsets, loss.to(out_ptr.dtype.element_ty), mask=mask)


# grad_input = grad * weight * df/dx, grad_target = grad * weight * df/dt, grad being the
# loss's own entry for "none" or the scalar (/ count for a mean). One program reads BLOCK
# elements of each operand and writes BLOCK elements of each requested gradient.
def _elementwise_loss_bwd(
    input_ptr, target_ptr, weight_ptr, aux_ptr, grad_loss_ptr, grad_input_ptr, grad_target_ptr,
    numel, shape, input_strides, target_strides, weight_strides, aux_strides, grad_loss_strides,
    grad_input_strides, grad_target_strides, count, parameter_bits,
    GRADS: tl.constexpr, HAS_WEIGHT: tl.constexpr, HAS_AUX: tl.constexpr, INPUT_GRAD: tl.constexpr,
    TARGET_GRAD: tl.constexpr, PER_ELEMENT: tl.constexpr, MEAN: tl.constexpr,
    RANK: tl.constexpr, COMPUTE: tl.constexpr, BLOCK: tl.constexpr, INDEX_64: tl.constexpr,
):  # fmt: skip
    index = linear_index(BLOCK, INDEX_64)
    mask = index < numel
    x, t, weight, aux, parameter = _operands(
        input_ptr, target_ptr, weight_ptr, aux_ptr, index, mask, shape,
        input_strides, target_strides, weight_strides, aux_strides, parameter_bits,
        HAS_WEIGHT, HAS_AUX, RANK, COMPUTE,
    )  # fmt: skip
    if PER_ELEMENT:
        grad = _load(grad_loss_ptr, index, mask, shape, grad_loss_strides, 0.0, RANK, COMPUTE)
    else:
        grad = _scalar_loss_gradient(tl.load(grad_loss_ptr).to(COMPUTE), count, MEAN)
    _store_gradients(
        grad, x, t, weight, aux, parameter, index, mask, shape,
        grad_input_ptr, grad_target_ptr, grad_input_strides, grad_target_strides,
        GRADS, INPUT_GRAD, TARGET_GRAD, RANK,
    )  # fmt: skip


def _named_kernel(template, name: str):
    """``template`` jitted under ``name``: the same code, its own name in launch counts and profiles.

    Triton reads a kernel's source (and the interpreter looks the kernel up by the name its
    ``def`` line gives), so the copy is compiled from the template's source with the name
    replaced, registered in ``linecache`` as generated code is (dataclasses, attrs) so that
    ``inspect`` finds it.
    """
    source = inspect.getsource(template).replace(f"def {template.__name__}(", f"def {name}(", 1)
    filename = f"<{__name__}.{name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace: dict = {}
    exec(compile(source, filename, "exec"), globals(), namespace)
    return triton.jit(namespace[name], do_not_specialize=["parameter_bits"])


# --------------------------------------------------------------------------- the table


@dataclasses.dataclass(frozen=True)
class ElementwiseLoss:
    """One elementwise loss: torch's name and its per-element expressions (see the module docstring).

    ``target_grad``: whether torch differentiates the loss w.r.t. the target;
    ``aux``: the name of the auxiliary operand, if the loss has one;
    ``domain``: @triton.jit (x, t) -> (x valid, t valid) per element, checked by the forward
    (``domain_error`` formats torch's message with "input" or "target").
    """

    name: str
    loss: object  # @triton.jit (x, t, p, a) -> loss
    grads: object  # @triton.jit (x, t, p, a) -> (d/dx, d/dt)
    target_grad: bool = True
    aux: str | None = None
    domain: object = None
    domain_error: str = ""
    fwd_kernel: object = dataclasses.field(init=False, repr=False)
    bwd_kernel: object = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fwd_kernel", _named_kernel(_elementwise_loss_fwd, f"{self.name}_fwd_kernel"))
        object.__setattr__(self, "bwd_kernel", _named_kernel(_elementwise_loss_bwd, f"{self.name}_bwd_kernel"))


LOSSES: dict[str, ElementwiseLoss] = {
    row.name: row
    for row in [
        ElementwiseLoss("mse_loss", _mse_loss, _mse_grads),
        ElementwiseLoss("l1_loss", _l1_loss, _l1_grads),
        ElementwiseLoss("smooth_l1_loss", _smooth_l1_loss, _smooth_l1_grads),
        ElementwiseLoss("huber_loss", _huber_loss, _huber_grads),
        ElementwiseLoss(
            "binary_cross_entropy",
            _bce_loss,
            _bce_grads,
            domain=_unit_interval,
            domain_error="all elements of {} should be between 0 and 1",
        ),
        ElementwiseLoss(
            "binary_cross_entropy_with_logits", _bce_with_logits_loss, _bce_with_logits_grads, aux="pos_weight"
        ),
        ElementwiseLoss("kl_div", _kl_div_loss, _kl_div_grads),
        ElementwiseLoss("kl_div_log_target", _kl_div_log_target_loss, _kl_div_log_target_grads),
        ElementwiseLoss("soft_margin_loss", _soft_margin_loss, _soft_margin_grads, target_grad=False),
    ]
}

# Every row's kernels as module attributes (mse_loss_fwd_kernel, ...): tools that find kernels
# by module and name (the AOT kernel report) see them like any other kernel.
globals().update({kernel.__name__: kernel for row in LOSSES.values() for kernel in (row.fwd_kernel, row.bwd_kernel)})


# --------------------------------------------------------------------------- launchers


def _groups(tensors: list[torch.Tensor]):
    """Yields (tensors, shape, strides per tensor) with at most MAX_RANK coalesced dims.

    All tensors have the same shape (broadcast operands are expanded views with
    stride 0). In the rare case of more than MAX_RANK dims after coalescing, the
    leading dim is split off by a host loop.
    """
    shape, strides = coalesce(tuple(tensors[0].shape), [list(t.stride()) for t in tensors])
    if len(shape) <= MAX_RANK:
        yield tensors, shape, strides
        return
    for i in range(tensors[0].shape[0]):
        yield from _groups([t.select(0, i) for t in tensors])


def _check_operands(name: str, input, target, weight, aux, aux_name) -> list[torch.Tensor]:
    """[input, target, weight, aux], all of the input's shape; absent ones are the input (never read)."""
    check_floating(name, input)
    check_same_device(name, input, target, weight, aux)
    if target.shape != input.shape:
        raise ValueError(
            f"{name}: target shape {tuple(target.shape)} must equal input shape {tuple(input.shape)} "
            "(broadcast before calling)"
        )
    if target.dtype != input.dtype:
        raise TypeError(f"{name}: target has dtype {target.dtype} but input has dtype {input.dtype}")
    operands = [input, target]
    for label, extra in (("weight", weight), (aux_name, aux)):
        if extra is None:
            operands.append(input)
            continue
        check_floating(f"{name} ({label})", extra)
        try:
            operands.append(extra.expand(input.shape))
        except RuntimeError:
            raise ValueError(
                f"{name}: {label} of shape {tuple(extra.shape)} does not broadcast to input shape {tuple(input.shape)}"
            ) from None
    return operands


def _row(name: str, aux) -> ElementwiseLoss:
    try:
        row = LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown elementwise loss {name!r} (one of {', '.join(LOSSES)})") from None
    if aux is not None and row.aux is None:
        raise ValueError(f"{name} takes no auxiliary operand")
    return row


def _check_domain(row: ElementwiseLoss, found: list) -> None:
    """Raises torch's error if a program flagged an input (even entries) or a target (odd) outside the domain."""
    if any(found[0::2]):
        raise RuntimeError(row.domain_error.format("input"))
    if any(found[1::2]):
        raise RuntimeError(row.domain_error.format("target"))


def _fits_one_program(tensors) -> bool:
    """True when one program can reduce all elements in one block: then the loss kernel finishes the
    sum itself and ``loss_sum_kernel`` is not launched (losses of a batch's outputs are small)."""
    numel = tensors[0].numel()
    return 0 < numel <= reduction_block(numel) and len(list(_groups(tensors))) == 1


def _single_program_config(numel: int) -> tuple[int, int]:
    block = reduction_block(numel)
    return block, (4 if block <= 1024 else 8)


def launch_elementwise_loss_fwd(
    name: str,
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    aux: torch.Tensor | None = None,
    parameter: float = 0.0,
    reduction: str = "mean",
    count: int | None = None,
    unit_grads: tuple[bool, bool] = (False, False),
):
    """The elementwise loss ``name`` (a key of LOSSES) of same-shape, same-dtype ``input`` and ``target``.

    ``weight`` and ``aux`` broadcast to the input's shape; any operand may have any
    strides. ``parameter`` is the row's scalar (beta, delta). The loss has the input's
    dtype: the input's shape for "none", else 0-d; a "mean" divides by ``count``
    (default: the number of elements).

    With ``unit_grads=(input?, target?)`` not both False (reduction "mean" or "sum"),
    returns ``(loss, grad_input, grad_target)``: the gradients (None where not asked)
    of the loss for a backward seeded with 1, written by the same launch.
    """
    check_reduction(name, reduction)
    row = _row(name, aux)
    operands = _check_operands(name, input, target, weight, aux, row.aux)
    want_input, want_target = unit_grads
    if (want_input or want_target) and reduction == "none":
        raise ValueError(f"{name}: unit_grads needs a scalar loss (reduction 'mean' or 'sum'), got 'none'")
    if want_target and not row.target_grad:
        raise ValueError(f"{name} is not differentiable with respect to its target")
    numel = input.numel()
    count = numel if count is None else count
    grads = [torch.empty(input.shape, dtype=input.dtype, device=input.device) if want else None
             for want in unit_grads]  # fmt: skip
    check = row.domain is not None
    constexprs = {
        "LOSS": row.loss, "GRADS": row.grads, "DOMAIN": row.domain or _no_domain, "CHECK": check,
        "HAS_WEIGHT": weight is not None, "HAS_AUX": aux is not None,
        "INPUT_GRAD": want_input, "TARGET_GRAD": want_target, "MEAN": reduction == "mean",
        "COMPUTE": compute_dtype(input.dtype),
    }  # fmt: skip
    # Slots of gradients not asked for, and of the per-element output when reducing, get the input:
    # never written.
    out = torch.empty(input.shape, dtype=input.dtype, device=input.device) if reduction == "none" else input
    tensors = [*operands, *(input if g is None else g for g in grads), out]
    single, partials = False, out
    if reduction != "none":
        single = _fits_one_program(tensors)
        if single:
            out = partials = torch.empty((), dtype=input.dtype, device=input.device)
        else:
            block, _ = elementwise_launch_config(numel)
            n_partials = sum(cdiv(group[0].numel(), block) for group, _, _ in _groups(tensors))
            partials = torch.empty(n_partials, dtype=accumulator_dtype(input.dtype), device=input.device)
    if numel > 0:
        block, num_warps = _single_program_config(numel) if single else elementwise_launch_config(numel)
        n_programs = sum(cdiv(group[0].numel(), block) for group, _, _ in _groups(tensors))
        # Two flags per program (see the kernel), each written by its program: no fill needed.
        flags = torch.empty(2 * n_programs, dtype=torch.int32, device=input.device) if check else input
        offset = 0
        for group, shape, strides in _groups(tensors):
            group_numel = group[0].numel()
            # One program instance handles BLOCK consecutive elements of the group.
            grid = (cdiv(group_numel, block),)
            row.fwd_kernel[grid](
                *group, partials[offset:] if partials.dim() == 1 and reduction != "none" else partials,
                flags[2 * offset :] if check else flags,
                group_numel, tuple(shape), *(tuple(s) for s in strides), count, float_bits(parameter),
                REDUCE=reduction != "none", DIVIDE_BY_COUNT=single and reduction == "mean",
                RANK=len(shape), BLOCK=block, INDEX_64=needs_int64_indexing(*group), num_warps=num_warps,
                **constexprs,
            )  # fmt: skip
            offset += grid[0]
        if check:  # (torch's error: now in the interpreter, at the next readback on a GPU)
            check_on_device(flags, lambda found: _check_domain(row, found))
    if reduction != "none" and not single:
        out = finish(partials, input.dtype, BY_COUNT if reduction == "mean" else SUM, count=count)
    if want_input or want_target:
        return out, grads[0], grads[1]
    return out


def launch_elementwise_loss_bwd(
    name: str,
    grad_loss: torch.Tensor,
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    aux: torch.Tensor | None = None,
    parameter: float = 0.0,
    reduction: str = "mean",
    count: int | None = None,
    needs: tuple[bool, bool] = (True, True),
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Gradients of the loss ``name`` w.r.t. ``input`` and ``target``: (grad_input, grad_target).

    ``grad_loss`` has the loss's shape (the input's for "none", else one element).
    Each gradient asked for in ``needs`` is a new contiguous tensor of the input's
    shape and dtype; the other is None.
    """
    check_reduction(f"{name}_backward", reduction)
    row = _row(name, aux)
    operands = _check_operands(f"{name}_backward", input, target, weight, aux, row.aux)
    check_grad_loss(f"{name}_backward", grad_loss, reduction, input.shape)
    check_same_device(f"{name}_backward", input, grad_loss)
    if needs[1] and not row.target_grad:
        raise ValueError(f"{name} is not differentiable with respect to its target")
    grads = [torch.empty(input.shape, dtype=input.dtype, device=input.device) if need else None for need in needs]
    if input.numel() == 0 or not any(needs):
        return grads[0], grads[1]
    per_element = reduction == "none"
    # A one-element grad_loss is not part of the iteration space: the input stands in for its strides.
    tensors = [*operands, grad_loss if per_element else input, *(input if g is None else g for g in grads)]
    grad_index = len(operands)
    block, num_warps = elementwise_launch_config(input.numel())
    for group, shape, strides in _groups(tensors):
        pointers = list(group)
        if not per_element:
            pointers[grad_index] = grad_loss
        # One program instance handles BLOCK consecutive elements of the group.
        row.bwd_kernel[(cdiv(group[0].numel(), block),)](
            *pointers,
            group[0].numel(), tuple(shape), *(tuple(s) for s in strides),
            input.numel() if count is None else count, float_bits(parameter),
            GRADS=row.grads, HAS_WEIGHT=weight is not None, HAS_AUX=aux is not None,
            INPUT_GRAD=needs[0], TARGET_GRAD=needs[1], PER_ELEMENT=per_element, MEAN=reduction == "mean",
            RANK=len(shape), COMPUTE=compute_dtype(input.dtype), BLOCK=block,
            INDEX_64=needs_int64_indexing(*group), num_warps=num_warps,
        )  # fmt: skip
    return grads[0], grads[1]
