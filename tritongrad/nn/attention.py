"""``torch.nn.attention``: the choice among torch's attention kernels (``sdpa_kernel``). The choice
is recorded in tritongrad.backends.cuda's flags, as torch records it, and chooses nothing:
scaled_dot_product_attention always runs tritongrad's own attention kernel."""

from __future__ import annotations

import enum

from tritongrad.backends import _sdp_choice

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.IntEnum):
    """torch's names for its attention kernels."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_FLAGS = {SDPBackend.MATH: "math", SDPBackend.FLASH_ATTENTION: "flash",
          SDPBackend.EFFICIENT_ATTENTION: "mem_efficient", SDPBackend.CUDNN_ATTENTION: "cudnn"}  # fmt: skip


def sdpa_kernel(backends, set_priority: bool = False):
    """A context manager enabling only ``backends`` (one SDPBackend or a list) inside it."""
    chosen = {backends} if isinstance(backends, SDPBackend) else set(backends)
    return _sdp_choice(**{flag: backend in chosen for backend, flag in _FLAGS.items()})
