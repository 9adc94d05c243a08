"""Autocast: inside an enabled ``autocast`` region, chosen ops cast their floating inputs first.

torch's automatic mixed precision keeps a per-thread, per-device-type state (enabled, target
dtype) and gives each listed op a cast policy. tritongrad keeps the same state here and marks
each op by the name torch lists it under (``@autocast_op("mm")``); the policy table below is
torch 2.13's (aten/src/ATen/autocast_mode.cpp: one list for CPU, the shared lists for CUDA):

- ``LOWER``: floating inputs (float16/bfloat16/float32; never float64) go to the region's dtype
  (matmuls, convolutions, linear, attention), so the op runs and returns in half precision;
- ``FP32``: half-precision inputs go to float32 (losses, exp/log on CUDA, linear algebra);
- ``FP32_OPT``: float32 unless the call names a ``dtype`` (sum, softmax, cumsum on CUDA);
- ``PROMOTE``: mixed floating inputs go to their widest dtype (cat and stack on CPU; addcmul,
  dot, cross on CUDA), so mixing a half-precision result with a float32 tensor is allowed;
- ``BANNED``: refused with torch's message (binary_cross_entropy on CUDA).

A cast is an ordinary differentiable ``Tensor.to``, so gradients flow back to float32 weights
in float32. Within one region (outermost enter to exit) a float32 leaf that requires grad —
a weight — is cast once and the cast reused, as torch caches it. The wrappers cost one global
read when no thread has a region enabled.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

import torch

from tritongrad.autograd.grad_mode import is_grad_enabled
from tritongrad.tensor import Tensor

__all__ = [
    "autocast_op", "is_autocast_enabled", "is_any_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype",
    "set_autocast_dtype", "is_autocast_cache_enabled", "set_autocast_cache_enabled", "enter_region", "exit_region",
    "clear_autocast_cache",
]  # fmt: skip

LOWER, FP32, FP32_OPT, PROMOTE, BANNED = "lower", "fp32", "fp32_opt", "promote", "banned"

_BOTH_LOWER = (
    "linear matmul mm bmm addmm baddbmm addbmm einsum conv1d conv2d conv3d conv_transpose1d conv_transpose2d "
    "conv_transpose3d prelu scaled_dot_product_attention multi_dot chain_matmul"
)
_CPU = {
    LOWER: _BOTH_LOWER + " lstm rnn_tanh rnn_relu",
    FP32: (
        "avg_pool3d binary_cross_entropy grid_sample prod quantile nanquantile cdist trace cholesky "
        "cholesky_inverse cholesky_solve inverse lu_solve pinverse max_pool3d max_unpool2d max_unpool3d "
        "adaptive_avg_pool3d adaptive_max_pool3d reflection_pad1d reflection_pad2d replication_pad1d "
        "replication_pad2d replication_pad3d mse_loss cosine_embedding_loss nll_loss hinge_embedding_loss "
        "poisson_nll_loss smooth_l1_loss cross_entropy l1_loss huber_loss margin_ranking_loss soft_margin_loss "
        "triplet_margin_loss multi_margin_loss ctc_loss kl_div multilabel_margin_loss "
        "binary_cross_entropy_with_logits cond matrix_rank solve svdvals eigvals eigvalsh inv householder_product "
        "tensorinv tensorsolve qr svd eig eigh lstsq inv_ex cholesky_ex triangular_solve solve_triangular"
    ),
    PROMOTE: "cat stack index_copy",
}
_CUDA = {
    LOWER: _BOTH_LOWER
    + " mv addmv addr vecdot lstm_cell gru_cell rnn_tanh_cell rnn_relu_cell lstm gru rnn_tanh rnn_relu",
    FP32: (
        "acos asin cosh erfinv exp expm1 log log10 log2 log1p reciprocal rsqrt sinh tan pow softplus layer_norm "
        "group_norm norm cosine_similarity poisson_nll_loss cosine_embedding_loss nll_loss hinge_embedding_loss "
        "kl_div l1_loss smooth_l1_loss huber_loss mse_loss margin_ranking_loss multilabel_margin_loss "
        "soft_margin_loss triplet_margin_loss multi_margin_loss binary_cross_entropy_with_logits cross_entropy dist "
        "pdist cdist renorm logsumexp interpolate"
    ),
    FP32_OPT: "prod softmax log_softmax cumprod cumsum vector_norm matrix_norm sum",
    PROMOTE: "addcdiv addcmul atan2 bilinear cross dot vdot grid_sample index_put tensordot scatter_add",
    BANNED: "binary_cross_entropy",
}
# op name -> {device type: policy}
POLICIES: dict[str, dict[str, str]] = {}
for _device, _lists in (("cpu", _CPU), ("cuda", _CUDA)):
    for _policy, _names in _lists.items():
        for _name in _names.split():
            POLICIES.setdefault(_name, {})[_device] = _policy

_DEFAULT_DTYPES = {"cpu": torch.bfloat16, "cuda": torch.float16}
_ELIGIBLE = (torch.float16, torch.bfloat16, torch.float32)
_HALF = (torch.float16, torch.bfloat16)
_BANNED_MESSAGE = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast."
)

# How many threads hold an enabled device type: the wrappers' one test when it is 0.
_enabled_threads = 0
_count_lock = threading.Lock()


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.enabled: dict[str, bool] = {}
        self.dtypes: dict[str, torch.dtype] = dict(_DEFAULT_DTYPES)
        self.cache_enabled = True
        self.nesting = 0
        self.cache: dict[int, tuple[Tensor, int, Tensor]] = {}  # id(weight) -> (weight, its version, cast)


_state = _ThreadState()


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether autocast is on for ``device_type`` in this thread (torch's default: ``"cuda"``)."""
    return _state.enabled.get(device_type, False)


def set_autocast_enabled(device_type, enabled: bool | None = None) -> None:
    """Turns autocast on or off for a device type in this thread; ``set_autocast_enabled(bool)``
    is torch's older spelling for CUDA."""
    global _enabled_threads
    if enabled is None:
        device_type, enabled = "cuda", device_type
    before = any(_state.enabled.values())
    _state.enabled[device_type] = bool(enabled)
    after = any(_state.enabled.values())
    if before != after:
        with _count_lock:
            _enabled_threads += 1 if after else -1


def is_any_autocast_enabled() -> bool:
    """Whether autocast is on for any device type in this thread."""
    return any(_state.enabled.values())


def get_autocast_dtype(device_type: str) -> torch.dtype:
    """The dtype ``LOWER`` ops cast to on ``device_type`` in this thread."""
    return _state.dtypes.get(device_type, torch.bfloat16)


def set_autocast_dtype(device_type: str, dtype: torch.dtype) -> None:
    _state.dtypes[device_type] = dtype


def is_autocast_cache_enabled() -> bool:
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    _state.cache.clear()


def enter_region() -> int:
    """An autocast context was entered: the nesting depth after it."""
    _state.nesting += 1
    return _state.nesting


def exit_region() -> int:
    """An autocast context was left; leaving the outermost one drops the cached weight casts."""
    _state.nesting -= 1
    if _state.nesting == 0:
        _state.cache.clear()
    return _state.nesting


# ---------------------------------------------------------------------------------------------
# The op wrapper
# ---------------------------------------------------------------------------------------------


def autocast_op(name: str) -> Callable[[Callable], Callable]:
    """Marks a public op by torch's name for it: inside an enabled region the op's tensor arguments
    (also inside lists and tuples) are cast by the op's policy for their device type. An op with no
    policy on any device is returned unchanged."""
    policies = POLICIES.get(name)

    def decorate(function: Callable) -> Callable:
        if policies is None:
            return function

        @functools.wraps(function)
        def autocasting(*args, **kwargs):
            if _enabled_threads:
                return _call(function, name, policies, args, kwargs)
            return function(*args, **kwargs)

        return autocasting

    return decorate


def _first_tensor(values):
    for value in values:
        if isinstance(value, Tensor):
            return value
        if isinstance(value, (list, tuple)):
            found = _first_tensor(value)
            if found is not None:
                return found
    return None


def _call(function: Callable, name: str, policies: dict[str, str], args: tuple, kwargs: dict):
    first = _first_tensor((*args, *kwargs.values()))
    if first is None:
        return function(*args, **kwargs)
    device = first._data.device.type
    policy = policies.get(device)
    if policy is None or not _state.enabled.get(device, False):
        return function(*args, **kwargs)
    if policy == BANNED:
        raise RuntimeError(_BANNED_MESSAGE)
    if policy == LOWER:
        target = _state.dtypes.get(device, _DEFAULT_DTYPES.get(device))
    elif policy == FP32_OPT and (kwargs.get("dtype") is not None or any(isinstance(a, torch.dtype) for a in args)):
        return function(*args, **kwargs)  # (a dtype the caller chose wins)
    elif policy == PROMOTE:
        target = _widest(args, kwargs, device)
        if target is None:
            return function(*args, **kwargs)
    else:
        target = torch.float32
    cast = functools.partial(_cast, device=device, target=target, policy=policy)
    kwargs = {
        key: value if key == "out" else cast(value) for key, value in kwargs.items()
    }  # (out is written, not read)
    return function(*(cast(a) for a in args), **kwargs)


def _widest(args: tuple, kwargs: dict, device: str) -> torch.dtype | None:
    dtypes = set()

    def visit(value) -> None:
        if isinstance(value, Tensor):
            data = value._data
            if data.device.type == device and data.dtype in _ELIGIBLE:
                dtypes.add(data.dtype)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)

    for value in (*args, *kwargs.values()):
        visit(value)
    return torch.float32 if len(dtypes) > 1 else None  # (any two of float16, bfloat16, float32 promote to float32)


def _cast(value, device: str, target: torch.dtype, policy: str):
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(item, device, target, policy) for item in value)
    if not isinstance(value, Tensor):
        return value
    dtype = value._data.dtype
    if dtype == target or dtype not in _ELIGIBLE or value._data.device.type != device:
        return value
    if policy in (FP32, FP32_OPT) and dtype not in _HALF:
        return value
    if policy == LOWER and value.requires_grad and value.is_leaf and _state.nesting and _state.cache_enabled:
        if not is_grad_enabled():
            return value.to(target)  # (a cast made without grad must not serve a later call with it)
        cached = _state.cache.get(id(value))
        version = value._version_counter.value  # (an inference tensor has no public _version)
        if cached is not None and cached[0] is value and cached[1] == version and cached[2].dtype == target:
            return cached[2]
        result = value.to(target)
        _state.cache[id(value)] = (value, version, result)
        return result
    return value.to(target)
