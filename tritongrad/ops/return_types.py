"""torch.return_types look-alikes: the named tuples that max(dim), sort, topk, ... return.

Each is a tuple subclass (so ``values, indices = x.max(1)`` unpacks) with named fields
(``.values``, ``.indices``), the type name torch uses (``type(r).__name__ == "max"``) and
torch's repr (``torch.return_types.max(\\nvalues=...,\\nindices=...)``).
"""

from __future__ import annotations

from collections import namedtuple

__all__ = [
    "max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "mode", "aminmax", "cummax", "cummin",
    "histogram",
]  # fmt: skip


def _return_type(name: str, fields: tuple[str, ...]) -> type:
    base = namedtuple(name, fields)

    def __repr__(self) -> str:
        body = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"torch.return_types.{name}(\n{body})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": "tritongrad.return_types"})


_VALUES_INDICES = ("values", "indices")
max = _return_type("max", _VALUES_INDICES)  # noqa: A001 (torch's name)
min = _return_type("min", _VALUES_INDICES)  # noqa: A001
sort = _return_type("sort", _VALUES_INDICES)
topk = _return_type("topk", _VALUES_INDICES)
kthvalue = _return_type("kthvalue", _VALUES_INDICES)
median = _return_type("median", _VALUES_INDICES)
nanmedian = _return_type("nanmedian", _VALUES_INDICES)
mode = _return_type("mode", _VALUES_INDICES)
cummax = _return_type("cummax", _VALUES_INDICES)
cummin = _return_type("cummin", _VALUES_INDICES)
aminmax = _return_type("aminmax", ("min", "max"))
histogram = _return_type("histogram", ("hist", "bin_edges"))
