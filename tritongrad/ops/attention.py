"""scaled_dot_product_attention on the flash-attention kernels of kernels/attention.py.

torch's shape rules: query (*batch, L, E), key (*batch_k, S, E), value (*batch_v, S, Ev), the
batch dims broadcast (3-D (N, L, E) and 2-D (L, E) inputs included); with ``enable_gqa`` the
key/value heads (dim -3) may divide the query heads. The batch dims are viewed as (B, H) for
the kernels without copying (a copy kernel runs only when the broadcast view cannot be
flattened), and the gradients are viewed back and summed over broadcast dims.

One Function node per call, the fused kernels forward and backward. Under ``create_graph=True``
the node's backward is composed of recorded matmul/softmax ops instead, so the gradients are
differentiable again (without dropout: its mask lives only inside the fused kernels). An
``attn_mask`` that requires grad takes the composed path in the forward too (matmul, softmax,
dropout ops), which differentiates the mask. ``attention_weights`` is that composition's first
half, for ``nn.MultiheadAttention(need_weights=True)``.
"""

from __future__ import annotations

import functools
import math

import torch

from tritongrad import backends, creation
from tritongrad.autograd.function import Function
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import dtype_word, type_meta_name
from tritongrad.kernels import attention as attention_kernels
from tritongrad.kernels.strided import broadcast_shapes
from tritongrad.ops.autocast import autocast_op
from tritongrad.ops.dropout import dropout
from tritongrad.ops.table import reduce_grad
from tritongrad.ops.views import contiguous_copy
from tritongrad.random import philox_seed_and_offset
from tritongrad.tensor import Tensor

__all__ = ["scaled_dot_product_attention", "attention_weights"]

# torch 2.13's CPU node names: its fused CPU kernel serves 4-D inputs of one batch shape with
# E == Ev and no dropout; everything else runs its math path, whose last node depends on rank
# and dtype (half types are computed in fp32 there and cast back).
_FLASH_NODE = "ScaledDotProductFlashAttentionForCpuBackward0"


class _Plan:
    """How query/key/value (and the mask) are viewed as the kernels' (B, H, L, E) operands."""

    __slots__ = ("batch", "key_batch", "group", "B", "H", "Hk")

    def __init__(self, batch: tuple, key_batch: tuple, group: int) -> None:
        self.batch, self.key_batch, self.group = batch, key_batch, group
        self.H = batch[-1] if batch else 1
        self.Hk = key_batch[-1] if key_batch else 1
        self.B = math.prod(batch[:-1]) if batch else 1


def _as_4d(data: torch.Tensor, batch: tuple, B: int, H: int, tail: tuple | None = None) -> torch.Tensor:
    """``data`` (*b, R, C), broadcast to (*batch, R, C) (or to (*batch, *tail)), as a (B, H, R, C)
    view (a copy if the broadcast dims cannot be merged into two)."""
    tail = tuple(data.shape[-2:]) if tail is None else tail
    expanded = data.expand(*batch, *tail)
    shape = (B, H, *tail)
    try:
        return expanded.view(shape)
    except RuntimeError:
        return contiguous_copy(Tensor._wrap(expanded))._data.view(shape)


def _check_arguments(query, key, value, attn_mask, dropout_p, is_causal, scale) -> None:
    name = "scaled_dot_product_attention"
    for argument, tensor in (("query", query), ("key", key), ("value", value)):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{name}(): argument '{argument}' must be Tensor, not {type(tensor).__name__}")
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        raise TypeError(f"{name}(): argument 'attn_mask' must be Tensor, not {type(attn_mask).__name__}")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
            f"{query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} instead."
        )
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{type_meta_name(query.dtype)} key.dtype: {type_meta_name(key.dtype)} and value.dtype: "
            f"{type_meta_name(value.dtype)} instead."
        )
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"expected scalar type Float but found {dtype_word(query.dtype)}")
    devices = {query.device, key.device, value.device} | ({attn_mask.device} if attn_mask is not None else set())
    if len(devices) > 1:
        raise RuntimeError(
            "Expected query, key, value and attn_mask to be on the same device, but got "
            + ", ".join(str(d) for d in sorted(devices, key=str))
        )
    if key.shape[-1] != query.shape[-1]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query's embedding size {query.shape[-1]} differs from key's "
            f"{key.shape[-1]} (query {tuple(query.shape)}, key {tuple(key.shape)})"
        )
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: key has {key.shape[-2]} positions but value has {value.shape[-2]} "
            f"(key {tuple(key.shape)}, value {tuple(value.shape)})"
        )
    if attn_mask is not None:
        if attn_mask.dtype not in (torch.bool, torch.float32, query.dtype):
            raise RuntimeError(
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: "
                f"{type_meta_name(attn_mask.dtype)} and  query.dtype: {type_meta_name(query.dtype)} instead."
            )
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if scale is not None and not isinstance(scale, (int, float)):
        raise TypeError(f"{name}(): argument 'scale' must be float, not {type(scale).__name__}")


def _plan(query, key, value, attn_mask, enable_gqa: bool) -> _Plan:
    q_batch, k_batch, v_batch = tuple(query.shape[:-2]), tuple(key.shape[:-2]), tuple(value.shape[:-2])
    grouped = enable_gqa and query.dim() >= 3 and key.dim() >= 3 and q_batch[-1] != k_batch[-1]
    if grouped:
        heads, key_heads = q_batch[-1], k_batch[-1]
        if value.dim() < 3 or v_batch[-1] != key_heads or key_heads == 0 or heads % key_heads:
            raise RuntimeError(
                "scaled_dot_product_attention with enable_gqa=True: the number of query heads "
                f"({heads}) must be a multiple of the number of key/value heads (key {key_heads}, value "
                f"{v_batch[-1] if value.dim() >= 3 else None}), and key and value must have the same number"
            )
        outer = broadcast_shapes(q_batch[:-1], k_batch[:-1], v_batch[:-1])
        plan = _Plan((*outer, heads), (*outer, key_heads), heads // key_heads)
    else:
        batch = broadcast_shapes(q_batch, k_batch, v_batch)
        plan = _Plan(batch, batch, 1)
    if attn_mask is not None:
        target = (*plan.batch, query.shape[-2], key.shape[-2])
        if attn_mask.dim() > len(target) or broadcast_shapes(target, attn_mask.shape) != target:
            raise RuntimeError(
                f"scaled_dot_product_attention: attn_mask of shape {tuple(attn_mask.shape)} does not broadcast "
                f"to the attention weights' shape {target}"
            )
    return plan


def _node_name(query, key, value, dropout_p: float, plan: _Plan) -> str:
    flash = (
        query.dim() == key.dim() == value.dim() == 4
        and tuple(query.shape[:-2]) == plan.batch
        and tuple(key.shape[:-2]) == tuple(value.shape[:-2]) == plan.key_batch
        and dropout_p == 0.0
        and key.shape[-1] == value.shape[-1]
    )
    if flash:
        return _FLASH_NODE
    if query.dtype in (torch.float16, torch.bfloat16):
        return "ToCopyBackward0"
    return "MmBackward0" if query.dim() == key.dim() == value.dim() == 2 else "UnsafeViewBackward0"


def _mask_4d(attn_mask, plan: _Plan, q: torch.Tensor, k: torch.Tensor):
    """The mask as a (B, H, L, S) view (zero strides where it broadcasts), or None."""
    if attn_mask is None:
        return None
    return _as_4d(attn_mask._data, plan.batch, plan.B, plan.H, (q.shape[2], k.shape[2]))


class ScaledDotProductAttention(Function):
    """The fused attention node: its backward is the fused kernel, or, under create_graph=True,
    the same gradients from recorded ops (see _composed_backward)."""

    @staticmethod
    def forward(ctx, query, key, value, attn_mask, dropout_p, is_causal, scale, plan):
        q = _as_4d(query._data, plan.batch, plan.B, plan.H)
        k = _as_4d(key._data, plan.key_batch, plan.B, plan.Hk)
        v = _as_4d(value._data, plan.key_batch, plan.B, plan.Hk)
        mask = _mask_4d(attn_mask, plan, q, k)
        seed = offset = 0
        if dropout_p > 0.0:
            seed, offset = philox_seed_and_offset(attention_kernels.dropout_numbers(q, k.shape[2]))
        options = {
            "causal": is_causal,
            "scale": scale,
            "dropout_p": dropout_p,
            "seed": seed,
            "offset": offset,
            "allow_tf32": backends.cuda.matmul.allow_tf32,
        }
        out, lse = attention_kernels.launch_attention_fwd(q, k, v, mask, **options)
        result = Tensor._wrap(out.view(*plan.batch, *out.shape[-2:]))
        ctx.plan, ctx.options, ctx.lse = plan, options, lse
        ctx.save_for_backward(query, key, value, attn_mask, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        query, key, value, attn_mask, result = ctx.saved_tensors
        if is_grad_enabled():
            return (*_composed_backward(ctx, grad, query, key, value, attn_mask), None, None, None, None, None)
        plan = ctx.plan
        q = _as_4d(query._data, plan.batch, plan.B, plan.H)
        k = _as_4d(key._data, plan.key_batch, plan.B, plan.Hk)
        v = _as_4d(value._data, plan.key_batch, plan.B, plan.Hk)
        mask = _mask_4d(attn_mask, plan, q, k)
        out = _as_4d(result._data, plan.batch, plan.B, plan.H)
        grad_data = grad._data if grad.dtype == query.dtype else grad.to(query.dtype)._data
        grad_out = _as_4d(grad_data, plan.batch, plan.B, plan.H)
        dq, dk, dv = attention_kernels.launch_attention_bwd(grad_out, q, k, v, out, ctx.lse, mask, **ctx.options)
        grads = []
        for tensor, gradient, batch in (
            (query, dq, plan.batch),
            (key, dk, plan.key_batch),
            (value, dv, plan.key_batch),
        ):
            wrapped = Tensor._wrap(gradient.view(*batch, *gradient.shape[-2:]))
            grads.append(reduce_grad(wrapped, tensor))
        return (*grads, None, None, None, None, None)


@functools.cache
def _named_function(name: str) -> type[ScaledDotProductAttention]:
    return type(f"ScaledDotProductAttention_{name}", (ScaledDotProductAttention,), {"_backward_name": name})


def _causal_keep(L: int, S: int, device) -> Tensor:
    """(L, S) bool, True where key j <= query i (torch's top-left aligned causal mask)."""
    return creation.ones(L, S, dtype=torch.bool, device=device).tril()


def _softmax_scale(query, scale: float | None) -> float:
    """``scale``, or torch's default 1 / sqrt(E)."""
    if scale is None:
        return 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    return scale


def attention_weights(query, key, attn_mask=None, is_causal: bool = False, scale: float | None = None) -> Tensor:
    """softmax(query @ key.mT * scale + mask) composed from tritongrad ops (every step recorded,
    so the mask is differentiated too): (*batch, L, S). A row with no visible key is NaN, as
    torch's softmax gives (the fused kernel gives 0 there, as torch's SDPA does)."""
    return _masked_scores(query, key, attn_mask, is_causal, _softmax_scale(query, scale)).softmax(-1)


def _masked_scores(query, key, attn_mask, is_causal: bool, scale: float) -> Tensor:
    """query @ key.mT * scale with the causal / boolean mask as -inf and a float mask added, recorded."""
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        scores = scores.masked_fill(_causal_keep(query.shape[-2], key.shape[-2], query.device).logical_not(), -math.inf)
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(attn_mask.logical_not(), -math.inf)
        else:
            scores = scores + attn_mask
    return scores


def _composed_backward(ctx, grad, query, key, value, attn_mask) -> tuple:
    """The fused backward's (grad_query, grad_key, grad_value) from recorded tritongrad ops, for
    create_graph=True. With P = softmax(S), S = query @ key.mT * scale (+ mask) recomputed:

        dV = P.mT @ g,  dP = g @ V.mT,  dS = P * (dP - rowsum(dP * P)),
        dQ = dS @ K * scale,  dK = dS.mT @ Q * scale,

    then summed over the key heads a group shares (GQA) and over broadcast batch dims. A query
    row with no visible key has P = 0 (the fused kernel's zeros), so it passes no gradient."""
    options, plan = ctx.options, ctx.plan
    if options["dropout_p"] > 0.0:
        raise RuntimeError(
            "scaled_dot_product_attention: double backward (create_graph=True) with dropout_p > 0 is not "
            f"supported (dropout_p={options['dropout_p']}): the dropout mask exists only inside the fused kernels; "
            "use dropout_p=0 or apply F.dropout to the attention weights of a composed attention"
        )
    scale = _softmax_scale(query, options["scale"])
    keys, values = key, value
    if plan.group > 1:
        keys = key.repeat_interleave(plan.group, dim=-3)
        values = value.repeat_interleave(plan.group, dim=-3)
    scores = _masked_scores(query, keys, attn_mask, options["causal"], scale)
    if attn_mask is None:
        probabilities = scores.softmax(-1)
    else:  # (the causal mask always shows key 0: only a given mask can hide a whole row)
        hidden = (scores == -math.inf).all(-1, keepdim=True)
        probabilities = scores.masked_fill(hidden, 0.0).softmax(-1).masked_fill(hidden, 0.0)
    probabilities = probabilities.to(query.dtype)
    grad = grad.to(query.dtype)
    grad_value = probabilities.transpose(-2, -1) @ grad
    grad_probabilities = grad @ values.transpose(-2, -1)
    grad_scores = probabilities * (grad_probabilities - (grad_probabilities * probabilities).sum(-1, keepdim=True))
    grad_query = (grad_scores @ keys) * scale
    grad_key = (grad_scores.transpose(-2, -1) @ query) * scale
    if plan.group > 1:
        grad_key = grad_key.unflatten(-3, (plan.Hk, plan.group)).sum(-3)
        grad_value = grad_value.unflatten(-3, (plan.Hk, plan.group)).sum(-3)
    return reduce_grad(grad_query, query), reduce_grad(grad_key, key), reduce_grad(grad_value, value)


@autocast_op("scaled_dot_product_attention")
def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:  # fmt: skip
    """softmax(query @ key.mT * scale + attn_mask) @ value, with dropout on the probabilities.

    Args:
        query: (*batch, L, E); key: (*batch, S, E); value: (*batch, S, Ev); batch dims broadcast.
        attn_mask: bool (True = take part) or additive float (float32 or query's dtype),
            broadcastable to (*batch, L, S).
        dropout_p: probability of dropping an attention weight (tritongrad's Philox stream).
        is_causal: query i sees keys j <= i (top-left aligned); with attn_mask only where torch's CPU
            flash path takes both (4-D inputs, no broadcast, no dropout).
        scale: defaults to 1 / sqrt(E).
        enable_gqa: key/value may have fewer heads (dim -3) than query, dividing them.

    Returns:
        (*batch, L, Ev) in query's dtype. A query row whose keys are all masked gives zeros
        (torch 2.13's CPU result). Gradients of any order without dropout (create_graph=True
        composes the backward of matmul/softmax ops); with dropout_p > 0, first order only.

    Example::

        >>> q = tritongrad.randn(2, 4, 16, 32)
        >>> scaled_dot_product_attention(q, q, q, is_causal=True).shape
        torch.Size([2, 4, 16, 32])
    """
    dropout_p = float(dropout_p)
    _check_arguments(query, key, value, attn_mask, dropout_p, is_causal, scale)
    plan = _plan(query, key, value, attn_mask, enable_gqa)
    if attn_mask is not None and is_causal:
        attn_mask = _mask_and_causal(query, key, value, attn_mask, dropout_p, plan)
        is_causal = False
    if attn_mask is not None and attn_mask.requires_grad and is_grad_enabled():
        return _composed(query, key, value, attn_mask, dropout_p, is_causal, scale, plan)
    function = _named_function(_node_name(query, key, value, dropout_p, plan))
    return function.apply(query, key, value, attn_mask, dropout_p, bool(is_causal), scale, plan)


def _mask_and_causal(query, key, value, attn_mask, dropout_p: float, plan: _Plan):
    """An explicit mask with is_causal=True: torch 2.13's CPU flash path (4-D inputs without broadcast
    or dropout, a mask that needs no gradient) applies both, the mask and the top-left causal one;
    every other path refuses."""
    mask_records = attn_mask.requires_grad and is_grad_enabled()
    if mask_records or _node_name(query, key, value, dropout_p, plan) != _FLASH_NODE:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    causal = attn_mask.new_ones((query.shape[-2], key.shape[-2]), dtype=torch.bool).tril()
    if attn_mask.dtype == torch.bool:
        return attn_mask & causal
    return attn_mask.masked_fill(~causal, float("-inf"))


def _composed(query, key, value, attn_mask, dropout_p, is_causal, scale, plan: _Plan) -> Tensor:
    """The attention as recorded tritongrad ops (used when the mask itself needs a gradient)."""
    if plan.group > 1:
        key = key.repeat_interleave(plan.group, dim=-3)
        value = value.repeat_interleave(plan.group, dim=-3)
    weights = attention_weights(query, key, attn_mask, is_causal, scale)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ value
