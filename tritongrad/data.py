"""The former home of ``DistributedSampler``, kept as an alias: it now lives in
``tritongrad.utils.data`` (``tritongrad.utils.data.distributed.DistributedSampler``), torch's place."""

from tritongrad.utils.data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]
