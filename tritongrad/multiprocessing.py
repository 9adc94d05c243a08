"""``torch.multiprocessing``: torch's own (Python's multiprocessing with torch's pickling rules),
since processes and shared memory are torch's to own. A tritongrad tensor pickles its torch buffer
(``Tensor.__reduce_ex__``), so a buffer moved to shared memory (``share_memory_()``,
``Module.share_memory()``) reaches another process as the same memory: Hogwild training updates
one set of parameters, as with torch. ``spawn(fn, args, nprocs)`` (and ``start_processes``, with
their ``ProcessContext`` and exceptions) is torch's too: ``fn(rank, *args)`` in each new process.

Example::

    >>> def work(rank, shared):
    ...     shared[rank] = rank + 1
    >>> shared = tritongrad.zeros(2).share_memory_()
    >>> tritongrad.multiprocessing.spawn(work, args=(shared,), nprocs=2)
"""

from __future__ import annotations

from torch.multiprocessing import *  # noqa: F403
from torch.multiprocessing import (  # noqa: F401
    ProcessContext,
    ProcessExitedException,
    ProcessRaisedException,
    SpawnContext,
    get_all_sharing_strategies,
    get_sharing_strategy,
    set_sharing_strategy,
    spawn,
    start_processes,
)
