"""Printing tensors exactly as torch prints them, from host values.

torch's own ``repr`` computes with torch (masked_select, abs, min, max, ...),
which tritongrad may not ask it to do, so this module redoes the layout in
plain Python from the values ``.tolist()`` returns. The rules, all torch's:

* One style and one width serve every element. Floating tensors look only at
  their nonzero finite values: if all are whole numbers they print as ``3.``
  ("int mode"); scientific notation (``1.0000e+09``) is chosen when the
  largest magnitude is over 1000 times the smallest, over 1e8, or the
  smallest is under 1e-4 (``set_printoptions(sci_mode=...)`` overrides);
  otherwise fixed point with ``precision`` digits. Zeros, nan and inf do not
  widen the columns. Integer and bool tensors print ``str(value)``.
* Tensors with more than ``threshold`` elements are summarised: along every
  dimension longer than ``2 * edgeitems`` only the first and last
  ``edgeitems`` entries are shown, with ``...`` between them, and only the
  shown values decide the style and width.
* Rows wrap so that an element slot (width + ", ") fits ``linewidth`` after
  the indentation; nested dimensions are separated by ``ndim - 1`` newlines.
* Trailing parts (``device=``, ``size=``, ``dtype=``, then the caller's
  ``requires_grad=True`` / ``grad_fn=<...>``) go on the last line while it
  stays within ``linewidth``, else on a new line under the opening bracket.

>>> format_tensor([1.0, 2.0], (2,), torch.float32, "cpu", suffixes=["requires_grad=True"])
'tensor([1., 2.], requires_grad=True)'
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from tritongrad.dtypes import get_default_dtype


@dataclasses.dataclass
class PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_options = PrintOptions()

_PROFILES = {
    "default": PrintOptions(),
    "short": PrintOptions(precision=2, edgeitems=2),
    "full": PrintOptions(threshold=math.inf),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Sets how tensors print, like ``torch.set_printoptions``.

    ``profile`` ("default", "short" or "full") resets the four numeric options
    first; the others then override it. An unknown profile is ignored, as torch
    ignores it. As in torch, ``sci_mode`` is always assigned, so a call that
    leaves it out returns it to automatic (None).

    >>> set_printoptions(precision=2)
    >>> format_tensor([1.12345], (1,), torch.float32, "cpu", suffixes=[])
    'tensor([1.12])'
    >>> set_printoptions(profile="default")
    """
    base = _PROFILES.get(profile) if isinstance(profile, str) else None
    if base is not None:
        _options.precision, _options.threshold = base.precision, base.threshold
        _options.edgeitems, _options.linewidth = base.edgeitems, base.linewidth
    if precision is not None:
        _options.precision = precision
    if threshold is not None:
        _options.threshold = threshold
    if edgeitems is not None:
        _options.edgeitems = edgeitems
    if linewidth is not None:
        _options.linewidth = linewidth
    _options.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options, as keyword arguments for ``set_printoptions``."""
    return dataclasses.asdict(_options)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Changes the print options inside a ``with`` block only."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


class ElementFormatter:
    """One style and one width for every element of a tensor, decided from the values it will show."""

    def __init__(self, shown_values: list, is_floating: bool, options: PrintOptions) -> None:
        self.is_floating = is_floating
        self.precision = options.precision
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not is_floating:
            self.width = max([1] + [len(str(value)) for value in shown_values])
            return

        # nan, inf and zeros say nothing about the scale of the data, so they are left out.
        telling = [float(value) for value in shown_values if math.isfinite(value) and value != 0]
        if not telling:
            return
        largest = max(abs(value) for value in telling)
        smallest = min(abs(value) for value in telling)
        self.int_mode = all(value.is_integer() for value in telling)
        if options.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = options.sci_mode
        # In int mode without exponents every value gains a trailing "." (see format).
        extra = 1 if self.int_mode and not self.sci_mode else 0
        self.width = max(len(self._bare(value)) + extra for value in telling)

    def _bare(self, value: float) -> str:
        if self.sci_mode:
            return f"{value:.{self.precision}e}"
        if self.int_mode:
            return f"{value:.0f}"
        return f"{value:.{self.precision}f}"

    def format(self, value: Any) -> str:
        """``value`` as text, right-aligned to the common width."""
        if not self.is_floating:
            text = str(value)
        else:
            value = float(value)
            text = self._bare(value)
            # The dot marks a floating tensor whose values happen to be whole; nan/inf need no mark.
            if self.int_mode and not self.sci_mode and math.isfinite(value):
                text += "."
        return text.rjust(self.width)


class ComplexFormatter:
    """torch's complex elements: the real parts and the imaginary parts each have an
    ``ElementFormatter`` of their own (style and width from their shown values); an element is
    ``real`` then ``imag`` with its sign and a ``j`` (``1.+2.j``, ``3.-1.j``)."""

    def __init__(self, shown_values: list, options: PrintOptions) -> None:
        self.real = ElementFormatter([value.real for value in shown_values], True, options)
        self.imag = ElementFormatter([value.imag for value in shown_values], True, options)
        # (a row's slot is this plus ", ", as for real elements: torch counts the "j" too)
        self.width = self.real.width + self.imag.width + 1

    def format(self, value: Any) -> str:
        value = complex(value)
        real_text = self.real.format(value.real)
        imag_text = (self.imag.format(value.imag) + "j").lstrip()
        return real_text + imag_text if imag_text[0] in "+-" else real_text + "+" + imag_text


def format_meta_tensor(
    shape: Sequence[int],
    dtype: torch.dtype,
    *,
    suffixes: Sequence[str] = (),
    prefix: str = "tensor(",
    contents: str | None = None,
) -> str:
    """``repr`` of a meta tensor as torch gives it: no values, the size always, the dtype unless default.
    ``contents`` replaces the ``...`` (torch's ``tensor_contents``).

    >>> format_meta_tensor((2, 3), torch.int64)
    "tensor(..., device='meta', size=(2, 3), dtype=torch.int64)"
    """
    parts = ["...", "device='meta'", f"size={tuple(int(size) for size in shape)}"]
    if contents is not None:
        parts[0] = contents
    if dtype != get_default_dtype():
        parts.append(f"dtype={dtype}")
    return prefix + ", ".join([*parts, *suffixes]) + ")"


def host_values(data: torch.Tensor) -> tuple[Any, bool]:
    """What ``format_tensor`` needs of a tensor's values, copied to the host: ``(values, summarized)``.

    A tensor past the print threshold shows only ``edgeitems`` entries at each end of every long
    dimension, so only those are read (narrow views of ``data``, then ``tolist`` of each small piece:
    torch's ``get_summarized_data``); an expanded 10**5 x 10**5 tensor prints without touching the
    other values. ``summarized`` says the nested lists hold just those entries along each dimension
    longer than ``2 * edgeitems``. An empty tensor gives ``[]`` whatever its shape (nothing is shown).
    Odd ``edgeitems`` (negative, not a whole number) read everything, as the slicing rules for them
    are those of the full lists.
    """
    shape = tuple(data.shape)
    numel = math.prod(shape)
    if numel == 0:
        return [], False
    edgeitems = _options.edgeitems
    if not numel > _options.threshold or not isinstance(edgeitems, int) or edgeitems < 0 or data.dim() == 0:
        return data.tolist(), False
    if edgeitems == 0:  # (torch prints "[...]" for every dimension: no value is shown)
        return [], True
    return _edge_values(data, edgeitems), True


def _edge_values(data: torch.Tensor, edgeitems: int) -> list:
    length = data.shape[0]
    if data.dim() == 1:
        if length > 2 * edgeitems:
            return data[:edgeitems].tolist() + data[length - edgeitems :].tolist()
        return data.tolist()
    rows = range(length)
    if length > 2 * edgeitems:
        rows = [*range(edgeitems), *range(length - edgeitems, length)]
    return [_edge_values(data[row], edgeitems) for row in rows]


def format_tensor(
    values: Any,
    shape: Sequence[int],
    dtype: torch.dtype,
    device: str | torch.device,
    *,
    suffixes: Sequence[str] = (),
    prefix: str = "tensor(",
    summarized: bool = False,
    contents: str | None = None,
) -> str:
    """The text ``repr(tensor)`` gives in torch, built from the tensor's host values.

    Args:
        values: ``tensor.tolist()``: a nested list, a Python scalar for a 0-dim
            tensor, or a flat list of all the elements in row-major order; or
            what ``host_values`` reads (with ``summarized`` as it says). Not
            looked at for an empty tensor.
        shape: the tensor's shape.
        dtype: the tensor's dtype (a torch dtype). fp16/bf16 values are
            Python floats already rounded to that dtype.
        device: the tensor's device; anything but the CPU is printed.
        suffixes: formatted trailing parts such as ``"requires_grad=True"``
            or ``"grad_fn=<MulBackward0>"``, printed after the ``device=``,
            ``size=`` and ``dtype=`` parts this function adds itself.
        prefix: the opening text; its last line sets the indentation, so
            ``"Parameter containing:\\ntensor("`` lines up as torch's does.
        summarized: ``values`` (nested lists) hold only the first and last
            ``edgeitems`` entries along each dimension longer than
            ``2 * edgeitems`` (``host_values`` of a tensor past the threshold).
        contents: text printed instead of the values (torch's
            ``__repr__(tensor_contents=...)``); ``values`` is then not read.

    >>> print(format_tensor([[1, 2], [3, 40]], (2, 2), torch.int32, "cuda:0", suffixes=[]))
    tensor([[ 1,  2],
            [ 3, 40]], device='cuda:0', dtype=torch.int32)
    """
    shape = tuple(int(size) for size in shape)
    options = _options
    leading_lines, newline, opening = prefix.rpartition("\n")
    indent = len(opening)

    parts = []
    device = torch.device(device)
    if device.type != "cpu":
        parts.append(f"device='{device}'")

    if math.prod(shape) == 0:
        body = "[]"
        # Only (0,) is implied by "[]"; and with no values to look at, even int64 needs naming.
        if len(shape) != 1:
            parts.append(f"size={shape}")
        if dtype != get_default_dtype():
            parts.append(f"dtype={dtype}")
    else:
        if not options.edgeitems:
            parts.append(f"size={shape}")
        default_complex = torch.complex128 if get_default_dtype() == torch.float64 else torch.complex64
        if dtype not in (get_default_dtype(), default_complex, torch.int64, torch.bool):
            parts.append(f"dtype={dtype}")
        if contents is None:
            body = _format_values(values, shape, dtype, indent, summarized, options)
    if contents is not None:
        body = contents

    text = _append_suffixes(opening + body, [*parts, *suffixes], indent, options.linewidth)
    return leading_lines + newline + text


def _format_values(
    values: Any, shape: tuple[int, ...], dtype: torch.dtype, indent: int, summarized: bool, options: PrintOptions
) -> str:
    """The bracketed values of a non-empty tensor, its opening bracket at column ``indent``."""
    data = _as_nested(values, shape, summarized, options.edgeitems)
    summarize = math.prod(shape) > options.threshold
    if summarize:
        shown = _shown_values(data, shape, options.edgeitems)
    else:
        shown = _all_values(data, len(shape))
    if dtype.is_complex:
        formatter = ComplexFormatter(shown, options)
    else:
        formatter = ElementFormatter(shown, dtype.is_floating_point, options)
    return _render(data, shape, indent, summarize, formatter, options)


def _as_nested(values: Any, shape: tuple[int, ...], summarized: bool = False, edgeitems: int = 0) -> Any:
    """``values`` as nested lists matching ``shape`` (a flat list is split up; a 0-dim value unwrapped)."""
    if len(shape) == 0:
        if isinstance(values, (list, tuple)):
            if len(values) != 1:
                raise ValueError(f"a 0-dim tensor has one value, got a list of {len(values)}")
            return values[0]
        return values
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"values for shape {shape} must be a list, got {type(values).__name__}")
    if summarized:  # (host_values' lists: only the shown entries, nothing to check them against cheaply)
        return values
    is_flat = len(shape) > 1 and len(values) > 0 and not isinstance(values[0], (list, tuple))
    if is_flat:
        if len(values) != math.prod(shape):
            raise ValueError(f"a flat list of {len(values)} values does not fill shape {shape}")
        return _split(list(values), shape)
    if len(values) != shape[0]:
        raise ValueError(f"values have {len(values)} entries along dim 0, but shape is {shape}")
    return values


def _split(flat: list, shape: tuple[int, ...]) -> list:
    if len(shape) == 1:
        return flat
    step = math.prod(shape[1:])
    return [_split(flat[start : start + step], shape[1:]) for start in range(0, len(flat), step)]


def _all_values(data: Any, ndim: int) -> list:
    if ndim == 0:
        return [data]
    if ndim == 1:
        return list(data)
    return [value for row in data for value in _all_values(row, ndim - 1)]


# The summarising helpers below decide whether a dimension is elided from its true length (``shape``),
# never from ``len(data)``: the data may be host_values' edge entries only. Their slices pick the same
# entries from full lists and from those.


def _shown_values(data: Any, shape: tuple[int, ...], edgeitems: int) -> list:
    """The values a summarised print shows, which alone decide the element style and width."""
    if not shape:
        return [data]
    if len(shape) == 1:
        if shape[0] > 2 * edgeitems:
            # With edgeitems == 0 this is every value (data[-0:] is all of data), as in torch.
            return data[:edgeitems] + data[-edgeitems:]
        return list(data)
    if edgeitems == 0:
        return []
    rows = data[:edgeitems] + data[-edgeitems:] if shape[0] > 2 * edgeitems else data
    return [value for row in rows for value in _shown_values(row, shape[1:], edgeitems)]


def _render(
    data: Any,
    shape: tuple[int, ...],
    indent: int,
    summarize: bool,
    formatter: ElementFormatter | ComplexFormatter,
    options: PrintOptions,
) -> str:
    """The bracketed text of ``data``; ``indent`` is the column of its opening bracket."""
    ndim = len(shape)
    if ndim == 0:
        return formatter.format(data)
    if ndim == 1:
        return _render_row(data, shape[0], indent, summarize, formatter, options)

    edgeitems = options.edgeitems
    inner = shape[1:]
    if summarize and shape[0] > 2 * edgeitems:
        head, tail = data[:edgeitems], data[len(data) - edgeitems :]
        blocks = [_render(row, inner, indent + 1, summarize, formatter, options) for row in head]
        blocks.append("...")
        blocks += [_render(row, inner, indent + 1, summarize, formatter, options) for row in tail]
    else:
        blocks = [_render(row, inner, indent + 1, summarize, formatter, options) for row in data]
    # A blank line between the blocks of each dimension above the last two.
    separator = "," + "\n" * (ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(blocks) + "]"


def _render_row(
    row: list,
    length: int,
    indent: int,
    summarize: bool,
    formatter: ElementFormatter | ComplexFormatter,
    options: PrintOptions,
) -> str:
    edgeitems = options.edgeitems
    if summarize and not edgeitems:
        cells = ["..."]
    elif summarize and length > 2 * edgeitems:
        cells = [formatter.format(value) for value in row[:edgeitems]]
        cells.append(" ...")
        cells += [formatter.format(value) for value in row[-edgeitems:]]
    else:
        cells = [formatter.format(value) for value in row]

    slot = formatter.width + 2  # the element and its ", "
    per_line = max(1, math.floor((options.linewidth - indent) / slot))
    lines = [", ".join(cells[start : start + per_line]) for start in range(0, len(cells), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _append_suffixes(text: str, suffixes: list[str], indent: int, linewidth: int) -> str:
    """Closes ``text`` with its trailing parts, each on the current line if it fits, else on a new one."""
    pieces = [text]
    # torch measures the first line as two characters longer than it is; kept so line breaks match.
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            line_length += len(suffix) + 2
    pieces.append(")")
    return "".join(pieces)
