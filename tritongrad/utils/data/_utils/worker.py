"""torch.utils.data._utils.worker: information about the loader worker the code runs in.

tritongrad loads in the calling process (see ``DataLoader``), so code never runs in a worker and
``get_worker_info()`` is always None, torch's answer in the main process.
"""

from __future__ import annotations

__all__ = ["get_worker_info"]


def get_worker_info() -> None:
    """Information about the current loader worker process: always None, since tritongrad loads in
    the main process (as torch's answer outside a worker)."""
    return None
