"""``torch.multiprocessing``: torch's own (Python's multiprocessing with torch's pickling rules),
since processes and shared memory are torch's to own. A tritongrad tensor pickles its torch buffer
(``Tensor.__reduce_ex__``), so a buffer moved to shared memory (``share_memory_()``,
``Module.share_memory()``) reaches another process as the same memory: Hogwild training updates
one set of parameters, as with torch."""

from __future__ import annotations

from torch.multiprocessing import *  # noqa: F403
from torch.multiprocessing import (  # noqa: F401
    get_all_sharing_strategies,
    get_sharing_strategy,
    set_sharing_strategy,
)
