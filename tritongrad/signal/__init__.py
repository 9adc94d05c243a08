"""torch.signal: the window functions of ``torch.signal.windows``."""

from tritongrad.signal import windows

__all__ = ["windows"]
