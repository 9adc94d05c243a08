"""torch.return_types look-alikes: the named tuples that max(dim), sort, topk, ... return.

Each is a tuple subclass (so ``values, indices = x.max(1)`` unpacks) with named fields
(``.values``, ``.indices``), the type name torch uses (``type(r).__name__ == "max"``), torch's
repr (``torch.return_types.max(\\nvalues=...,\\nindices=...)``) and torch's structseq API:
``n_fields``/``n_sequence_fields``/``n_unnamed_fields``, and construction from one sequence
(``tritongrad.return_types.max((values, indices))``). Every type is an attribute of this module
(``tritongrad.return_types``), which is where pickle finds it again.
"""

from __future__ import annotations

from collections import namedtuple

__all__ = [
    "max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "mode", "aminmax", "cummax", "cummin",
    "histogram",
]  # fmt: skip


def _return_type(name: str, fields: tuple[str, ...]) -> type:
    """The return type ``name`` with ``fields``, registered in this module (pickle's way back to it)."""
    base = namedtuple(name, fields)
    base_new = base.__new__

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs:  # torch's structseq constructor: one sequence of all the fields
            try:
                values = tuple(args[0])
            except TypeError:
                raise TypeError("constructor requires a sequence") from None
            if len(values) != len(fields):
                raise TypeError(
                    f"torch.return_types.{name}() takes a {len(fields)}-sequence ({len(values)}-sequence given)"
                )
            return base_new(cls, *values)
        return base_new(cls, *args, **kwargs)  # (tritongrad's own ops build them field by field)

    def __repr__(self) -> str:
        body = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"torch.return_types.{name}(\n{body})"

    def __reduce__(self):
        return type(self), (tuple(self),)

    namespace = {
        "__slots__": (),
        "__new__": __new__,
        "__repr__": __repr__,
        "__reduce__": __reduce__,
        "__module__": __name__,
        "__qualname__": name,
        "n_fields": len(fields),
        "n_sequence_fields": len(fields),
        "n_unnamed_fields": 0,
    }
    result_type = type(name, (base,), namespace)
    globals().setdefault(name, result_type)
    return result_type


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
