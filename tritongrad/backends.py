"""Backend switches that mirror ``torch.backends`` (``tritongrad.backends.cuda.matmul.allow_tf32``).

Real training scripts set these flags without computing anything with them; each is accepted as
torch accepts it. Only ``cuda.matmul.allow_tf32`` (and ``cudnn.allow_tf32``, which tritongrad's
convolutions will read) changes what tritongrad computes: float32 matmuls on a GPU may then use
tf32 tensor cores. Like torch, they are exact (IEEE) unless the user opts in.
``set_float32_matmul_precision`` ("highest" / "high" / "medium") sets the same switch.
"""

from __future__ import annotations

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


cuda = SimpleNamespace(
    matmul=SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                           allow_bf16_reduced_precision_reduction=True),
    is_built=lambda: runtime.device_type() == "cuda",
)  # fmt: skip
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
