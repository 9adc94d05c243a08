"""torch.onnx's names. ONNX export traces torch's own operators through a torch module, and a
tritongrad model is made of tritongrad's, so ``export`` refuses; ``is_in_onnx_export`` (which
model code reads to pick an export-friendly path) is always False."""

from __future__ import annotations

from typing import Any

__all__ = ["export", "is_in_onnx_export"]


def export(model: Any, args: Any = (), f: Any = None, *more: Any, **options: Any) -> None:
    raise NotImplementedError(
        "torch.onnx.export: a tritongrad model cannot be exported to ONNX (the exporter traces torch's own "
        f"operators; {type(model).__name__} runs tritongrad's kernels)"
    )


def is_in_onnx_export() -> bool:
    return False
