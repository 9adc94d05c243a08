"""torch._tensor_str's public face: the print options (``PRINT_OPTS``, ``printoptions``,
``set_printoptions``, ``get_printoptions``), as some code reaches for them there.

``PRINT_OPTS`` is tritongrad's live options object (formatting.py), so it reads what
``set_printoptions`` last set, as torch's does.

>>> with printoptions(precision=2):
...     PRINT_OPTS.precision
2
"""

from __future__ import annotations

from tritongrad.formatting import _options as PRINT_OPTS  # noqa: N811 (torch's name)
from tritongrad.formatting import get_printoptions, printoptions, set_printoptions

__all__ = ["PRINT_OPTS", "get_printoptions", "printoptions", "set_printoptions"]
