"""torch.utils.data._utils: the helper modules torch's DataLoader is built from, at torch's import
paths (``from torch.utils.data._utils.collate import default_collate_fn_map`` works with tritongrad
in torch's place). Loading runs in the calling process, so only ``collate`` and ``worker`` exist."""

import sys

from tritongrad.utils.data._utils import collate, worker

__all__ = ["HAS_NUMPY", "IS_WINDOWS", "MP_STATUS_CHECK_INTERVAL", "collate", "worker"]

IS_WINDOWS = sys.platform == "win32"

# torch's poll interval (seconds) for worker processes; kept for code that reads it (no process polls here).
MP_STATUS_CHECK_INTERVAL = 5.0

HAS_NUMPY = True  # tritongrad depends on numpy
