"""nn.MultiheadAttention, the Transformer encoder and decoder layers and stacks, and nn.Transformer,
as torch's.

MultiheadAttention follows ``torch.nn.functional.multi_head_attention_forward``: project,
split into heads, attend, merge heads, project out. The heads are never copied apart: the
projected (L, N, E) tensor is viewed as (N, H, L, head_dim) and the fused attention kernel reads
those strides in place. With ``need_weights=True`` (torch's default) the weights must exist as a
tensor, so that path composes matmul, softmax and dropout ops (``ops.attention.attention_weights``)
instead of the fused kernel; ``need_weights=False`` runs the flash-attention kernels.

Masks follow torch's conventions, which are the opposite of scaled_dot_product_attention's for
bool masks: in ``attn_mask`` and ``key_padding_mask`` True means "do not attend". Both are turned
into additive float masks (-inf where True) and summed, as torch does (``_canonical_mask``, with
its deprecation warning when the two masks' dtypes differ).

torch takes fused "fast paths" in inference (eval mode, and no gradient needed) whose results differ
from the composed path's in two ways users see, so tritongrad decides as torch does (the same
conditions, in torch's order) and reproduces the results, not the kernels:

- MultiheadAttention (``_native_multi_head_attention``) and TransformerEncoderLayer
  (``_transformer_encoder_layer_fwd``): a query row whose keys are all masked is NaN (a softmax over
  nothing), where the composed path's ``scaled_dot_product_attention`` gives 0; ``is_causal`` is
  ignored there (no "Need attn_mask" error).
- TransformerEncoder with a ``src_key_padding_mask`` (the "sparsity" path): torch packs the
  unpadded tokens into a nested tensor and pads back with zeros, so padded positions come out as
  exactly 0 (before the final ``norm``). Only the count of unpadded tokens per sequence matters
  there: they are taken as the first ones (torch's ``mask_check`` otherwise refuses a mask that
  is not left-aligned).
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable

import torch

from tritongrad import backends, caller_warnings, creation
from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.dtypes import c_type_name
from tritongrad.nn import functional as F
from tritongrad.nn import init
from tritongrad.nn.module import Module
from tritongrad.nn.modules.activation import GELU, ReLU
from tritongrad.nn.modules.container import ModuleList
from tritongrad.nn.modules.dropout import Dropout
from tritongrad.nn.modules.linear import Linear
from tritongrad.nn.modules.normalization import LayerNorm
from tritongrad.nn.parameter import Parameter
from tritongrad.ops import cat
from tritongrad.ops.attention import attention_weights, scaled_dot_product_attention
from tritongrad.ops.autocast import is_autocast_enabled
from tritongrad.tensor import Tensor

__all__ = [
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
    "TransformerDecoder", "Transformer",
]  # fmt: skip


class NonDynamicallyQuantizableLinear(Linear):
    """torch's name for MultiheadAttention's output projection (a plain Linear)."""


def _canonical_mask(mask: Tensor | None, mask_name: str, other_type, other_name: str, target_type,
                    check_other: bool = True) -> Tensor | None:  # fmt: skip
    """torch's ``F._canonical_mask``: a bool mask becomes 0 / -inf (True = masked) in ``target_type``;
    a float mask is kept as it is. Warns (torch's deprecation) when the other mask's dtype differs."""
    if mask is None:
        return None
    is_float = mask.dtype.is_floating_point
    if mask.dtype != torch.bool and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(
            f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both instead.",
            stacklevel=3,
        )
    if not is_float:
        return creation.zeros(tuple(mask.shape), dtype=target_type, device=mask.device).masked_fill(mask, -math.inf)
    return mask


def _none_or_dtype(mask: Tensor | None):
    return None if mask is None else mask.dtype


def _fastpath_enabled() -> bool:
    """torch.backends.mha.get_fastpath_enabled() (True, torch's default, where tritongrad has no switch)."""
    mha = getattr(backends, "mha", None)
    return mha is None or bool(mha.get_fastpath_enabled())


_GRAD_NEEDED = (
    "grad is enabled and at least one of query or the input/output projection weights or biases requires_grad"
)


def _grad_needed(tensors) -> bool:
    """torch's fast-path refusal: grad mode is on and one of the tensors requires grad."""
    return is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al. 2017) with torch's parameters and forward.

    Args:
        embed_dim: model width E (query's last dim); num_heads divides it.
        dropout: dropout probability on the attention weights (training only).
        bias: biases on the input and output projections.
        add_bias_kv: learnable key/value rows appended to the sequence.
        add_zero_attn: a zero key/value row appended after the projection.
        kdim, vdim: key/value widths (default E; otherwise separate q/k/v projection weights).
        batch_first: inputs and outputs are (N, L, E) instead of (L, N, E).

    Example::

        >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
        >>> x = tritongrad.randn(2, 5, 16)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        (torch.Size([2, 5, 16]), torch.Size([2, 5, 5]))
    """

    def __init__(
        self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True, add_bias_kv: bool = False,
        add_zero_attn: bool = False, kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
        device=None, dtype=None,
    ) -> None:  # fmt: skip
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and num_heads={num_heads} "
                "instead"
            )
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.empty(3 * embed_dim, embed_dim, **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(creation.empty(embed_dim, embed_dim, **factory))
            self.k_proj_weight = Parameter(creation.empty(embed_dim, self.kdim, **factory))
            self.v_proj_weight = Parameter(creation.empty(embed_dim, self.vdim, **factory))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty(1, 1, embed_dim, **factory))
            self.bias_v = Parameter(creation.empty(1, 1, embed_dim, **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(
        self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
        need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:  # fmt: skip
        """Attention of ``query`` (L, N, E) over ``key`` (S, N, kdim) / ``value`` (S, N, vdim)
        ((N, L, E) etc. with batch_first; (L, E) unbatched).

        ``key_padding_mask`` (N, S): True (or -inf) marks padding keys. ``attn_mask`` (L, S) or
        (N * num_heads, L, S): True (or -inf) forbids a pair. ``is_causal`` is a hint that
        ``attn_mask`` is the causal mask (required with it, as in torch).

        In inference (eval, batch-first self-attention with an even head count, bool or no masks,
        nothing needing a gradient) torch's fused path answers: a fully masked row is NaN and
        ``is_causal`` is ignored; so it is here.

        Returns (output (L, N, E), weights (N, L, S) averaged over heads, or (N, num_heads, L, S),
        or None when ``need_weights`` is False).
        """
        floating_masks = (attn_mask is not None and attn_mask.dtype.is_floating_point) or (
            key_padding_mask is not None and key_padding_mask.dtype.is_floating_point
        )
        key_padding_mask = _canonical_mask(
            key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask", query.dtype
        )
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if not floating_masks and not self._why_not_fast_path(query, key, value) and self.in_proj_bias is not None:
            return self._fast_path(query, attn_mask, key_padding_mask, need_weights, average_attn_weights)
        batched = query.dim() == 3
        _check_shapes(query, key, value, key_padding_mask, attn_mask, self.num_heads, batched)
        if self.batch_first and batched:
            query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        output, weights = self._attend(query, key, value, key_padding_mask, need_weights, attn_mask, is_causal)
        if weights is not None:
            if average_attn_weights:
                weights = weights.mean(dim=1)
            if not batched:
                weights = weights.squeeze(0)
        if not batched:
            output = output.squeeze(1)
        elif self.batch_first:
            output = output.transpose(1, 0)
        return output, weights

    def _why_not_fast_path(self, query, key, value) -> str:
        """Why torch's MultiheadAttention.forward would not take ``_native_multi_head_attention``
        ("" if it would), in torch's order (the floating-mask refusal comes before it)."""
        if not _fastpath_enabled():
            return "torch.backends.mha.get_fastpath_enabled() was not True"
        if query.dim() != 3:
            return f"input not batched; expected query.dim() of 3 but got {query.dim()}"
        if query is not key or key is not value:
            return "non-self attention was used (query, key, and value are not the same Tensor)"
        if self.in_proj_bias is not None and query.dtype != self.in_proj_bias.dtype:
            return f"dtypes of query ({query.dtype}) and self.in_proj_bias ({self.in_proj_bias.dtype}) don't match"
        if self.in_proj_weight is None:
            return "in_proj_weight was None"
        if query.dtype != self.in_proj_weight.dtype:
            return f"dtypes of query ({query.dtype}) and self.in_proj_weight ({self.in_proj_weight.dtype}) don't match"
        if self.training:
            return "training is enabled"
        if self.num_heads % 2:
            return "self.num_heads is not even"
        if not self.batch_first:
            return "batch_first was not True"
        if self.bias_k is not None or self.bias_v is not None:
            return "self.bias_k was not None"
        if self.add_zero_attn:
            return "add_zero_attn was enabled"
        if not self._qkv_same_embed_dim:
            return "_qkv_same_embed_dim was not True"
        if is_autocast_enabled():
            return "autocast is enabled"
        weights = (self.in_proj_weight, self.in_proj_bias, self.out_proj.weight, self.out_proj.bias)
        if _grad_needed((query, key, value, *weights)):
            return _GRAD_NEEDED
        return ""

    def merge_masks(self, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                    query: Tensor) -> tuple[Tensor | None, int | None]:  # fmt: skip
        """torch's: the fast path's one mask and its type: ``key_padding_mask`` (N, S) alone (type 1),
        or ``attn_mask`` expanded to (N, num_heads, L, L) plus the padding mask if given (type 2);
        (None, None) without masks. Both masks are additive floats here (``_canonical_mask``)."""
        mask_type, merged = None, None
        if key_padding_mask is not None:
            mask_type, merged = 1, key_padding_mask
        if attn_mask is not None:
            batch_size, seq_len, _ = query.shape
            mask_type = 2
            if attn_mask.dim() == 3:
                merged = attn_mask.view(batch_size, -1, seq_len, seq_len)
            else:
                merged = attn_mask.view(1, 1, seq_len, seq_len).expand(batch_size, self.num_heads, -1, -1)
            if key_padding_mask is not None:
                padding = key_padding_mask.view(batch_size, 1, 1, seq_len).expand(-1, self.num_heads, -1, -1)
                merged = merged + padding
        return merged, mask_type

    def _fast_path(self, x, attn_mask, key_padding_mask, need_weights: bool, average_attn_weights: bool):
        """What torch's ``_native_multi_head_attention`` returns for batch-first self-attention ``x``
        (N, L, E) in inference: the attention itself, but a row whose keys are all masked is NaN."""
        merged, mask_type = self.merge_masks(attn_mask, key_padding_mask, x)
        if mask_type == 1:
            merged = merged.view(merged.shape[0], 1, 1, merged.shape[-1])
        return self._native_attention(x, merged, need_weights, average_attn_weights)

    def _native_attention(self, x, mask, need_weights: bool = False, average_attn_weights: bool = True):
        """Self-attention of batch-first ``x`` (N, L, E) under an additive ``mask`` broadcastable to
        (N, H, L, L), without dropout: a softmax of the masked scores (NaN over a fully masked row,
        as torch's fused inference kernels give), the flash kernel where there is no mask."""
        N, L, E = x.shape
        packed = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = (
            packed[..., i * E : (i + 1) * E].view(N, L, self.num_heads, self.head_dim).transpose(1, 2)
            for i in range(3)
        )  # fmt: skip
        weights = None
        if mask is None and not need_weights:
            heads = scaled_dot_product_attention(q, k, v)
        else:
            weights = attention_weights(q, k, mask)
            heads = weights @ v
        output = F.linear(heads.transpose(1, 2).reshape(N, L, E), self.out_proj.weight, self.out_proj.bias)
        if not need_weights:
            return output, None
        return output, weights.mean(dim=1) if average_attn_weights else weights

    def _attend(self, query, key, value, key_padding_mask, need_weights, attn_mask, is_causal):
        """The batched, sequence-first core (torch's ``multi_head_attention_forward``): query (L, N, E)
        -> ((L, N, E), (N, H, L, S) or None)."""
        L, N, E = query.shape
        # torch's functional form canonicalizes again: a float mask of another dtype warns twice
        key_padding_mask = _canonical_mask(
            key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask", query.dtype
        )
        if is_causal and attn_mask is None:
            raise RuntimeError(
                "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
                "`generate_square_subsequent_mask` to create this mask."
            )
        if is_causal and key_padding_mask is None and not need_weights:
            attn_mask = None  # the kernel's own causal mask replaces it
        else:
            attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
            if key_padding_mask is not None:
                is_causal = False
        if E != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but got {E}")
        if self._qkv_same_embed_dim and key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        if not self._qkv_same_embed_dim and key.shape[:2] != value.shape[:2]:
            raise AssertionError(
                f"key's sequence and batch dims {key.shape[:2]} do not match value's {value.shape[:2]}"
            )
        q, k, v = self._project(query, key, value)
        S = k.shape[0]
        if attn_mask is not None:
            attn_mask = _mask_as_4d(attn_mask, N, self.num_heads, L, S)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(1, N, E)], 0)
            v = cat([v, self.bias_v.expand(1, N, E)], 0)
            attn_mask = _pad_key(attn_mask)
            key_padding_mask = _pad_key(key_padding_mask)
        for t in (k, v):
            if t.shape[1] != N:  # (torch's view to (S, N * H, head_dim) fails there)
                raise RuntimeError(
                    f"shape '[{t.shape[0]}, {N * self.num_heads}, {self.head_dim}]' is invalid for input of size "
                    f"{t.numel()}"
                )
        # (S, N, E) -> (N, H, S, head_dim): a view, read in place by the attention.
        q, k, v = (t.view(t.shape[0], N, self.num_heads, self.head_dim).permute(1, 2, 0, 3) for t in (q, k, v))
        if self.add_zero_attn:
            zeros = creation.zeros(N, self.num_heads, 1, self.head_dim, dtype=k.dtype, device=k.device)
            k, v = cat([k, zeros], 2), cat([v, zeros], 2)
            attn_mask = _pad_key(attn_mask)
            key_padding_mask = _pad_key(key_padding_mask)
        if key_padding_mask is not None:
            _check_key_padding_mask(key_padding_mask, k.shape[2], N)
            padding = key_padding_mask.view(N, 1, 1, key_padding_mask.shape[-1])
            attn_mask = padding if attn_mask is None else attn_mask + padding
        dropout_p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            if attn_mask is not None and attn_mask.dtype != q.dtype:
                # (torch adds the mask with baddbmm, which takes one dtype)
                raise RuntimeError(
                    f"Input dtypes must be the same, got: input {c_type_name(attn_mask.dtype)}, batch1: "
                    f"{c_type_name(q.dtype)}, batch2: {c_type_name(q.dtype)}"
                )
            weights = attention_weights(q, k, attn_mask)
            if dropout_p > 0.0:
                weights = F.dropout(weights, p=dropout_p)
            heads = weights @ v
        else:
            heads = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
        merged = heads.permute(2, 0, 1, 3).reshape(L, N, E)
        return F.linear(merged, self.out_proj.weight, self.out_proj.bias), weights

    def _project(self, query, key, value):
        E = self.embed_dim
        bias = self.in_proj_bias
        b_q, b_k, b_v = (None, None, None) if bias is None else (bias[:E], bias[E : 2 * E], bias[2 * E :])
        if self._qkv_same_embed_dim:
            weight = self.in_proj_weight
            if query is key and key is value:
                # Self-attention: one product with the packed weight, split by views.
                packed = F.linear(query, weight, bias)
                return packed[..., :E], packed[..., E : 2 * E], packed[..., 2 * E :]
            w_q, w_k, w_v = weight[:E], weight[E : 2 * E], weight[2 * E :]
        else:
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
            for name, x, w in (("query", query, w_q), ("key", key, w_k), ("value", value, w_v)):
                if tuple(w.shape) != (E, x.shape[-1]):  # (torch's _in_projection asserts each)
                    raise AssertionError(f"expecting {name} weights shape of {(E, x.shape[-1])}, but got {w.shape}")
        return F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)


def _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads: int, batched: bool) -> None:
    """torch's ``_mha_shape_check``: 3-D (batched) or 2-D (unbatched) inputs and matching masks."""
    if query.dim() not in (2, 3):
        raise AssertionError(
            f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query tensor"
        )
    rank = 3 if batched else 2
    if key.dim() != rank or value.dim() != rank:
        raise AssertionError(
            f"For {'batched' if batched else 'unbatched'} ({rank}-D) `query`, expected `key` and `value` to be "
            f"{rank}-D but found {key.dim()}-D and {value.dim()}-D tensors respectively"
        )
    if key_padding_mask is not None and key_padding_mask.dim() != rank - 1:
        raise AssertionError(
            f"For {'batched' if batched else 'unbatched'} ({rank}-D) `query`, expected `key_padding_mask` to be "
            f"`None` or {rank - 1}-D but found {key_padding_mask.dim()}-D tensor instead"
        )
    if attn_mask is not None and attn_mask.dim() not in (2, 3):
        raise AssertionError(
            f"For {'batched' if batched else 'unbatched'} ({rank}-D) `query`, expected `attn_mask` to be `None`, "
            f"2-D or 3-D but found {attn_mask.dim()}-D tensor instead"
        )
    if not batched and attn_mask is not None and attn_mask.dim() == 3:
        expected = (num_heads, query.shape[0], key.shape[0])
        if tuple(attn_mask.shape) != expected:
            raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")


def _check_key_padding_mask(mask: Tensor, source_length: int, batch: int) -> None:
    """torch's check of a (N, S) key_padding_mask against the batch and the keys."""
    if mask.shape[0] != batch:
        raise AssertionError(f"Expected key_padded_mask.shape[0] to be {batch}, but got {mask.shape[0]}")
    if mask.shape[1] != source_length:
        raise AssertionError(f"Expected key_padded_mask.shape[1] to be {source_length}, but got {mask.shape[1]}")


def _mask_as_4d(mask: Tensor, N: int, heads: int, L: int, S: int) -> Tensor:
    """An (L, S) or (N * heads, L, S) attention mask as a (1 or N, 1 or heads, L, S) view."""
    if mask.dim() == 2:
        if tuple(mask.shape) != (L, S):
            raise RuntimeError(f"The shape of the 2D attn_mask is {mask.shape}, but should be {(L, S)}.")
        return mask.view(1, 1, L, S)
    if tuple(mask.shape) != (N * heads, L, S):
        raise RuntimeError(f"The shape of the 3D attn_mask is {mask.shape}, but should be {(N * heads, L, S)}.")
    return mask.view(N, heads, L, S)


def _pad_key(mask: Tensor | None) -> Tensor | None:
    """One more key column (the added bias or zero key) that every query may attend."""
    return None if mask is None else F.pad(mask, (0, 1))


def _clones(module: Module, count: int) -> ModuleList:
    """``count`` independent deep copies of ``module`` (torch's ``_get_clones``). Parameters and
    buffers are copied by a kernel first (tritongrad tensors do not deep-copy themselves)."""
    clones = []
    for _ in range(count):
        memo = {}
        for tensor in (*module.parameters(), *module.buffers()):
            copied = tensor.detach().clone()
            memo[id(tensor)] = Parameter(copied, tensor.requires_grad) if isinstance(tensor, Parameter) else copied
        clones.append(copy.deepcopy(module, memo))
    return ModuleList(clones)


def _activation(activation: str | Callable) -> Callable:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if isinstance(activation, str):
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


def _add_sublayers(layer: Module, attentions: tuple[str, ...], d_model: int, nhead: int, dim_feedforward: int,
                   dropout: float, activation, layer_norm_eps: float, batch_first: bool, norm_first: bool,
                   bias: bool, factory: dict) -> None:  # fmt: skip
    """The parts of an encoder (one attention) or decoder (two) layer, registered in torch's order so
    that the state dict keys are torch's: the attentions, linear1, dropout, linear2, then one norm
    and one dropout per residual block (norm1.., dropout1..)."""
    for name in attentions:
        setattr(layer, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                                **factory))  # fmt: skip
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
    layer.norm_first = norm_first
    blocks = range(1, len(attentions) + 2)  # (each attention and the feed-forward block)
    for block in blocks:
        setattr(layer, f"norm{block}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
    for block in blocks:
        setattr(layer, f"dropout{block}", Dropout(dropout))
    layer.activation = _activation(activation)


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and LayerNorm
    (after them, or before them with ``norm_first``), as torch's.

    Example::

        >>> layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True)
        >>> layer(tritongrad.randn(2, 5, 16)).shape
        torch.Size([2, 5, 16])
    """

    def __init__(
        self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
        activation: str | Callable = F.relu, layer_norm_eps: float = 1e-5, batch_first: bool = False,
        norm_first: bool = False, bias: bool = True, device=None, dtype=None,
    ) -> None:  # fmt: skip
        super().__init__()
        _add_sublayers(self, ("self_attn",), d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                       batch_first, norm_first, bias, {"device": device, "dtype": dtype})  # fmt: skip
        # torch's note of the activation for its fused inference path: 1 relu, 2 gelu, 0 another
        activation = self.activation
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False) -> Tensor:  # fmt: skip
        """src (L, N, E) ((N, L, E) with batch_first); masks as MultiheadAttention's."""
        src_key_padding_mask = _canonical_mask(
            src_key_padding_mask, "src_key_padding_mask", _none_or_dtype(src_mask), "src_mask", src.dtype
        )
        src_mask = _canonical_mask(src_mask, "src_mask", None, "", src.dtype, check_other=False)
        if not self._why_not_fast_path(src):
            # torch's _transformer_encoder_layer_fwd: its attention gives NaN over fully masked rows
            # and ignores is_causal
            mask, mask_type = self.self_attn.merge_masks(src_mask, src_key_padding_mask, src)
            if mask_type == 1:
                mask = mask.view(mask.shape[0], 1, 1, mask.shape[-1])

            def attend(x, attn_mask, key_padding_mask, is_causal):
                return self.self_attn._native_attention(x, mask)[0]

        else:
            attend = self._sa_block
        x = src
        if self.norm_first:
            x = x + attend(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + attend(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _why_not_fast_path(self, src) -> str:
        """Why torch's TransformerEncoderLayer.forward would not take its fused inference path ("" if
        it would), in torch's order."""
        attention = self.self_attn
        if not _fastpath_enabled():
            return "torch.backends.mha.get_fastpath_enabled() was not True"
        if src.dim() != 3:
            return f"input not batched; expected src.dim() of 3 but got {src.dim()}"
        if self.training:
            return "training is enabled"
        if not attention.batch_first:
            return "self_attn.batch_first was not True"
        if attention.in_proj_bias is None:
            return "self_attn was passed bias=False"
        if not attention._qkv_same_embed_dim:
            return "self_attn._qkv_same_embed_dim was not True"
        if not self.activation_relu_or_gelu:
            return "activation_relu_or_gelu was not True"
        if self.norm1.eps != self.norm2.eps:
            return "norm1.eps is not equal to norm2.eps"
        if attention.num_heads % 2:
            return "num_head is odd"
        if is_autocast_enabled():
            return "autocast is enabled"
        if any(
            len(getattr(m, "_forward_hooks", {})) + len(getattr(m, "_forward_pre_hooks", {})) for m in self.modules()
        ):
            return "forward pre-/hooks are attached to the module"
        if _grad_needed((src, *_fast_path_weights(self))):
            return _GRAD_NEEDED
        return ""

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        attended = self.self_attn(
            x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False, is_causal=is_causal
        )[0]
        return self.dropout1(attended)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _fast_path_weights(layer) -> tuple:
    """The parameters torch's fused encoder-layer paths check for requires_grad."""
    attention = layer.self_attn
    return (
        attention.in_proj_weight, attention.in_proj_bias, attention.out_proj.weight, attention.out_proj.bias,
        layer.norm1.weight, layer.norm1.bias, layer.norm2.weight, layer.norm2.bias,
        layer.linear1.weight, layer.linear1.bias, layer.linear2.weight, layer.linear2.bias,
    )  # fmt: skip


def _why_not_sparsity_fast_path(encoder_layer) -> str:
    """Why torch's TransformerEncoder would not use nested tensors with ``encoder_layer`` ("" if it would)."""
    if not isinstance(encoder_layer, TransformerEncoderLayer):
        return "encoder_layer was not TransformerEncoderLayer"
    attention = encoder_layer.self_attn
    if encoder_layer.norm_first:
        return "encoder_layer.norm_first was True"
    if not attention.batch_first:
        return "encoder_layer.self_attn.batch_first was not True(use batch_first for better inference performance)"
    if not attention._qkv_same_embed_dim:
        return "encoder_layer.self_attn._qkv_same_embed_dim was not True"
    if attention.in_proj_bias is None:
        return "encoder_layer.self_attn was passed bias=False"
    if not encoder_layer.activation_relu_or_gelu:
        return "encoder_layer.activation_relu_or_gelu was not True"
    if encoder_layer.norm1.eps != encoder_layer.norm2.eps:
        return "encoder_layer.norm1.eps was not equal to encoder_layer.norm2.eps"
    if attention.num_heads % 2 == 1:
        return "encoder_layer.self_attn.num_heads is odd"
    return ""


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied in turn, then ``norm`` if given.

    tritongrad has no nested tensors, but ``enable_nested_tensor`` and ``mask_check`` decide what
    they decide in torch: in inference with a ``src_key_padding_mask``, torch's nested-tensor round
    trip gives exactly 0 at the padded positions, and so does tritongrad (see the module docstring).
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:  # fmt: skip
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        # torch turns its nested-tensor fast path off for these layers and says why, in these words
        reason = _why_not_sparsity_fast_path(encoder_layer)
        if enable_nested_tensor and reason:
            warnings.warn(
                f"enable_nested_tensor is True, but self.use_nested_tensor is False because {reason}", stacklevel=2
            )
            self.use_nested_tensor = False

    def forward(self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:  # fmt: skip
        src_key_padding_mask = _canonical_mask(
            src_key_padding_mask, "src_key_padding_mask", _none_or_dtype(mask), "mask", src.dtype
        )
        mask = _canonical_mask(mask, "mask", None, "", src.dtype, check_other=False)
        first_layer = self.layers[0]
        padded = None
        if not self._why_not_sparsity_fast_path(src, mask, src_key_padding_mask, first_layer):
            padded = _nested_padding(src_key_padding_mask)
            # the layers attend over each sequence's first tokens only; the rest become zeros below
            src_key_padding_mask = _canonical_mask(padded, "src_key_padding_mask", None, "", src.dtype)
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        if padded is not None:
            output = output.masked_fill(padded.view(*padded.shape, 1), 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output

    def _why_not_sparsity_fast_path(self, src, mask, src_key_padding_mask, first_layer) -> str:
        """Why torch's TransformerEncoder.forward would not pack ``src`` into a nested tensor ("" if it
        would), in torch's order."""
        if not _fastpath_enabled():
            return "torch.backends.mha.get_fastpath_enabled() was not True"
        if not getattr(self, "use_nested_tensor", False):
            return "self.use_nested_tensor (set in init) was not True"
        if first_layer.training:
            return "self.layers[0] was in training mode"
        if src.dim() != 3:
            return f"input not batched; expected src.dim() of 3 but got {src.dim()}"
        if src_key_padding_mask is None:
            return "src_key_padding_mask was None"
        if getattr(self, "mask_check", True) and not _left_aligned(src_key_padding_mask.logical_not()):
            return "mask_check enabled, and src and src_key_padding_mask was not left aligned"
        if mask is not None:
            return "src_key_padding_mask and mask were both supplied"
        if is_autocast_enabled():
            return "autocast is enabled"
        if _grad_needed((src, *_fast_path_weights(first_layer))):
            return _GRAD_NEEDED
        return ""


def _left_aligned(keep: Tensor) -> bool:
    """torch's ``_nested_tensor_from_mask_left_aligned``: every row of the (N, S) bool ``keep`` is
    True up to some point and False after it (read back, as torch's check is)."""
    if keep.shape[-1] < 2:
        return True
    return not bool((keep[:, 1:] & keep[:, :-1].logical_not()).any())


def _nested_padding(src_key_padding_mask: Tensor) -> Tensor:
    """The (N, S) bool padding of torch's nested-tensor round trip: each sequence keeps as many
    leading tokens as its mask leaves unpadded (any nonzero float counts as padding, as torch's
    ``logical_not`` reads it). Warns torch's once-per-process prototype note."""
    caller_warnings.warn_once("nested tensor prototype", _NESTED_PROTOTYPE_WARNING)
    lengths = src_key_padding_mask.logical_not().sum(1)
    positions = creation.arange(src_key_padding_mask.shape[1], device=src_key_padding_mask.device)
    return positions.view(1, -1) >= lengths.view(-1, 1)


_NESTED_PROTOTYPE_WARNING = (
    "The PyTorch API of nested tensors is in prototype stage and will change in the near future. We recommend "
    "specifying layout=torch.jagged when constructing a nested tensor, as this layout receives active development, "
    "has better operator coverage, and works with torch.compile. (Triggered internally at "
    "/__w/pytorch/pytorch/aten/src/ATen/NestedTensorImpl.cpp:177.)"
)


class TransformerDecoderLayer(Module):
    """Self-attention over the target, attention from the target to ``memory`` (the encoder's
    output), and a feed-forward block, each with a residual connection and LayerNorm (after, or
    before with ``norm_first``), as torch's.

    Example::

        >>> layer = nn.TransformerDecoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True)
        >>> layer(tritongrad.randn(2, 5, 16), tritongrad.randn(2, 7, 16)).shape
        torch.Size([2, 5, 16])
    """

    def __init__(
        self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
        activation: str | Callable = F.relu, layer_norm_eps: float = 1e-5, batch_first: bool = False,
        norm_first: bool = False, bias: bool = True, device=None, dtype=None,
    ) -> None:  # fmt: skip
        super().__init__()
        _add_sublayers(self, ("self_attn", "multihead_attn"), d_model, nhead, dim_feedforward, dropout, activation,
                       layer_norm_eps, batch_first, norm_first, bias, {"device": device, "dtype": dtype})  # fmt: skip

    def forward(
        self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False, memory_is_causal: bool = False,
    ) -> Tensor:  # fmt: skip
        """tgt (T, N, E) and memory (S, N, E) ((N, T, E), (N, S, E) with batch_first)."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        attended = self.self_attn(
            x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False, is_causal=is_causal
        )[0]
        return self.dropout1(attended)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        attended = self.multihead_attn(
            x, memory, memory, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
            is_causal=is_causal,
        )[0]  # fmt: skip
        return self.dropout2(attended)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` applied in turn to the target (each attending to
    ``memory``), then ``norm`` if given."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None, memory_is_causal: bool = False,
    ) -> Tensor:  # fmt: skip
        output = tgt
        for layer in self.layers:
            output = layer(
                output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal,
            )  # fmt: skip
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need", as torch's ``nn.Transformer``:
    an encoder stack over ``src``, a decoder stack over ``tgt`` attending to the encoder's output,
    each ending in LayerNorm; matrices initialised with xavier_uniform_.

    Example::

        >>> model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
        ...                        dim_feedforward=32, batch_first=True)
        >>> mask = nn.Transformer.generate_square_subsequent_mask(5)
        >>> model(tritongrad.randn(2, 7, 16), tritongrad.randn(2, 5, 16), tgt_mask=mask).shape
        torch.Size([2, 5, 16])
    """

    def __init__(
        self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
        dim_feedforward: int = 2048, dropout: float = 0.1, activation: str | Callable = F.relu,
        custom_encoder: Module | None = None, custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5,
        batch_first: bool = False, norm_first: bool = False, bias: bool = True, device=None, dtype=None,
    ) -> None:  # fmt: skip
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        layer = {
            "dim_feedforward": dim_feedforward, "dropout": dropout, "activation": activation,
            "layer_norm_eps": layer_norm_eps, "batch_first": batch_first, "norm_first": norm_first, "bias": bias,
            **factory,
        }  # fmt: skip
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            encoder_layer = TransformerEncoderLayer(d_model, nhead, **layer)
            self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, encoder_norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            decoder_layer = TransformerDecoderLayer(d_model, nhead, **layer)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, decoder_norm)
        for parameter in self.parameters():
            if parameter.dim() > 1:
                init.xavier_uniform_(parameter)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(
        self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None, tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None, tgt_is_causal: bool | None = None, memory_is_causal: bool = False,
    ) -> Tensor:  # fmt: skip
        """src (S, N, E) and tgt (T, N, E) ((N, S, E), (N, T, E) with batch_first) -> (T, N, E)."""
        batch_dim = 0 if self.batch_first else 1
        if src.dim() == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(
            tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )  # fmt: skip

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """An (sz, sz) float mask: -inf above the diagonal (a position may not attend to later ones), 0
        elsewhere."""
        return creation.full((sz, sz), -math.inf, dtype=dtype, device=device).triu(diagonal=1)
