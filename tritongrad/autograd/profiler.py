"""torch.autograd.profiler: the older spelling of tritongrad.profiler's ``profile`` (``enabled``,
``use_cuda``) and ``record_function``."""

from tritongrad.profiler import EventList, profile, record_function

__all__ = ["profile", "record_function", "EventList"]
