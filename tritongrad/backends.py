"""Backend switches that mirror ``torch.backends`` (``tritongrad.backends.cuda.matmul.allow_tf32``).

Real training scripts set these flags without computing anything with them; each is accepted as
torch accepts it. Only ``cuda.matmul.allow_tf32`` (and ``cudnn.allow_tf32``, which tritongrad's
convolutions will read) changes what tritongrad computes: float32 matmuls on a GPU may then use
tf32 tensor cores. Like torch, they are exact (IEEE) unless the user opts in.
``set_float32_matmul_precision`` ("highest" / "high" / "medium") sets the same switch.
"""

from __future__ import annotations

import contextlib
import warnings
from types import SimpleNamespace

from tritongrad import runtime

__all__ = ["cuda", "cudnn", "mps", "mkldnn", "openmp", "set_float32_matmul_precision",
           "get_float32_matmul_precision"]  # fmt: skip


class _CudnnFlags(SimpleNamespace):
    """torch.backends.cudnn's flags. tritongrad has no cuDNN: its kernels are its own, so
    ``benchmark`` and ``deterministic`` are recorded and read back but choose nothing."""

    def is_available(self) -> bool:
        return False

    def version(self) -> None:
        return None


# Which of torch's attention kernels scaled_dot_product_attention may use: recorded and read back
# (tritongrad has one attention kernel of its own, which they do not choose).
_SDP_BACKENDS = ("flash", "mem_efficient", "math", "cudnn")
_sdp_enabled = dict.fromkeys(_SDP_BACKENDS, True)


def _sdp_flags(backend: str):
    return (lambda: _sdp_enabled[backend]), (lambda enabled: _sdp_enabled.__setitem__(backend, bool(enabled)))


@contextlib.contextmanager
def _sdp_choice(**enabled: bool):
    """Sets the backends' flags for a block, restoring them after (nn.attention.sdpa_kernel uses it)."""
    previous = dict(_sdp_enabled)
    _sdp_enabled.update({backend: bool(value) for backend, value in enabled.items()})
    try:
        yield
    finally:
        _sdp_enabled.update(previous)


def _sdp_kernel(enable_flash: bool = True, enable_math: bool = True, enable_mem_efficient: bool = True,
                enable_cudnn: bool = True):  # fmt: skip
    warnings.warn(
        "`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be removed. "
        "Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with updated signature.",
        FutureWarning,
        stacklevel=2,
    )
    return _sdp_choice(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient, cudnn=enable_cudnn)


cuda = SimpleNamespace(
    matmul=SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                           allow_bf16_reduced_precision_reduction=True),
    is_built=lambda: runtime.device_type() == "cuda",
    sdp_kernel=_sdp_kernel,
)  # fmt: skip
for _backend in _SDP_BACKENDS:
    _read, _write = _sdp_flags(_backend)
    setattr(cuda, f"{_backend}_sdp_enabled", _read)
    setattr(cuda, f"enable_{_backend}_sdp", _write)
cudnn = _CudnnFlags(enabled=True, benchmark=False, deterministic=False, allow_tf32=True)
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
mkldnn = SimpleNamespace(is_available=lambda: False, enabled=False)
openmp = SimpleNamespace(is_available=lambda: False)

_PRECISIONS = ("highest", "high", "medium")


def set_float32_matmul_precision(precision: str) -> None:
    """torch's switch for float32 matmuls: "highest" keeps them exact, "high" and "medium" allow tf32."""
    if precision not in _PRECISIONS:
        raise RuntimeError(f"Invalid precision {precision!r}: expected one of {', '.join(_PRECISIONS)}")
    cuda.matmul.allow_tf32 = precision != "highest"


def get_float32_matmul_precision() -> str:
    return "high" if cuda.matmul.allow_tf32 else "highest"
