"""Backend switches that mirror torch.backends (``tritongrad.backends.cuda.matmul.allow_tf32``)."""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["cuda"]

# Like torch, float32 matmuls are exact (IEEE) unless the user opts into TF32 here.
cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False))
