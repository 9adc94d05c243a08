"""Counting ops: ``histc``, ``histogram`` and ``bincount`` on kernels/histogram.py.

None is differentiable (torch's are not either). The size or range of a result that depends on
the data (``bincount``'s length, a histogram's range when none is given) is read back once per
call, as torch computes it on the host too.
"""

from __future__ import annotations

import math

import torch

from tritongrad import creation
from tritongrad.dtypes import dtype_word, type_meta_name
from tritongrad.kernels import histogram as kernels
from tritongrad.ops import return_types
from tritongrad.ops.out_argument import out_variant, write_pair_out
from tritongrad.shapes import as_int
from tritongrad.tensor import Tensor, attach_methods

__all__ = ["histc", "histogram", "bincount"]


def _check_floating(name: str, input: Tensor) -> None:
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}\" not implemented for '{dtype_word(input.dtype)}'")


def _data_range(input: Tensor) -> tuple[float, float]:
    """[min, max] of the data (read back), or [0, 0] for no data; histc refuses a range that is not
    finite (an infinity or NaN in the data)."""
    if input.numel() == 0:
        return 0.0, 0.0
    low, high = input.detach().min().item(), input.detach().max().item()
    if not (math.isfinite(low) and math.isfinite(high)):
        # (histc's own search of the data prints its NaN as -nan, whatever the data's sign)
        shown = ", ".join("-nan" if math.isnan(value) else _c_number(value) for value in (low, high))
        raise RuntimeError(f"torch.histc: range of [{shown}] is not finite")
    return low, high


def _c_number(value: float) -> str:
    """A float as torch's message prints it (a C++ stream: 6 significant digits, 1, 1e+20, inf, nan
    or -nan by the NaN's sign bit)."""
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    return f"{value:g}"


def _widened(low: float, high: float) -> tuple[float, float]:
    """torch widens an empty range by 0.5 each way."""
    return (float(low) - 0.5, float(high) + 0.5) if low == high else (float(low), float(high))


def _histogram_outer_edges(input: Tensor, range) -> tuple[float, float]:  # noqa: A002
    """torch's select_outer_bin_edges: the range given, else the data's, else [0, 1] for no data;
    finite, min not above max, and widened when empty."""
    if range is not None:
        low, high = float(range[0]), float(range[1])
    elif input.numel():
        low, high = input.detach().min().item(), input.detach().max().item()  # (a NaN in the data: its own)
    else:
        low, high = 0.0, 1.0
    if not (math.isfinite(low) and math.isfinite(high)):
        shown = f"[{_c_number(low)}, {_c_number(high)}]"
        raise RuntimeError(f"torch.histogramdd: dimension 0's range {shown} is not finite")
    if low > high:
        raise RuntimeError(
            f"torch.histogramdd: min should not exceed max, but got min {_c_number(low)} max {_c_number(high)} "
            "for dimension 0"
        )
    return _widened(low, high)


def _check_histogram_bins(input: Tensor, bins: Tensor) -> None:
    """torch's histogramdd_check_inputs for a bins tensor (before the weight's checks)."""
    if bins.dtype != input.dtype:
        raise RuntimeError(
            "torch.histogramdd: input tensor and bins tensors should have the same dtype, but got input with dtype "
            f"{type_meta_name(input.dtype)} and bins for dimension 0 with dtype {type_meta_name(bins.dtype)}"
        )
    if bins.dim() != 1:
        raise RuntimeError(
            f"torch.histogramdd: bins tensor should have one dimension, but got {bins.dim()} dimensions in the bins "
            "tensor for dimension 0"
        )
    if bins.numel() == 0:
        raise RuntimeError(
            "torch.histogramdd: bins tensor should have at least 1 element, but got 0 elements in the bins tensor "
            "for dimension 0"
        )


def _check_histogram_weight(input: Tensor, weight: Tensor | None) -> None:
    """torch's weight checks: input's dtype, and as many elements (torch flattens both: the input to
    [N, 1], the weight to [N])."""
    if weight is None:
        return
    if weight.dtype != input.dtype:
        raise RuntimeError(
            "torch.histogramdd: if weight tensor is provided, input tensor and weight tensor should have the same "
            f"dtype, but got input({type_meta_name(input.dtype)}), and weight({type_meta_name(weight.dtype)})"
        )
    if weight.numel() != input.numel():
        raise RuntimeError(
            "torch.histogramdd: if weight tensor is provided it should have the same shape as the input tensor "
            f"excluding its innermost dimension, but got input with shape [{input.numel()}, 1] and weight with "
            f"shape [{weight.numel()}]"
        )


def _histogram_out_dtype_error(wanted: torch.dtype, given: torch.dtype) -> str:
    return (
        "torch.histogram: input tensor and hist tensor should have the same dtype, but got input "
        f"{type_meta_name(wanted)} and hist {type_meta_name(given)}"
    )


# (counts have no gradient: torch writes into out even when the input requires grad)
@out_variant("histc", differentiable=False, dtype_error=_histogram_out_dtype_error)
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Counts of ``input``'s values in ``bins`` equal bins over [min, max] (the data's range if both are
    equal); values outside are not counted. A tensor of ``input``'s dtype."""
    _check_floating("histogram_cpu", input)
    bins = as_int(bins, "histc(): argument 'bins' must be int, not {}")
    if bins <= 0:  # (torch's histc says it in histogram's words)
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    if not (math.isfinite(min) and math.isfinite(max)):
        shown = ", ".join("nan" if math.isnan(v) else _c_number(float(v)) for v in (min, max))  # (a given NaN: nan)
        raise RuntimeError(f"torch.histc: range of [{shown}] is not finite")
    low, high = _widened(*(_data_range(input) if min == max else (min, max)))
    return Tensor._wrap(kernels.launch_histogram(input._data, int(bins), low, high))


def histogram(input: Tensor, bins=100, *, range=None, weight=None, density: bool = False, out=None):  # noqa: A002
    """(hist, bin_edges): counts (or summed ``weight``) of ``input`` in ``bins`` equal bins over ``range``
    (default: the data's), or in the bins between the increasing edges of a tensor ``bins``;
    ``density`` divides by the total and the bin widths. ``out=(hist, bin_edges)``: of input's dtype."""
    if out is not None:
        _check_floating("histogram_cpu", input)
        if isinstance(out, (tuple, list)) and len(out) == 2:
            for name, target in zip(("hist", "bin_edges"), out):
                if isinstance(target, Tensor) and target.dtype != input.dtype:
                    raise RuntimeError(
                        f"torch.histogram: input tensor and {name} tensor should have the same dtype, but got input "
                        f"{type_meta_name(input.dtype)} and {name} {type_meta_name(target.dtype)}"
                        + (" for dimension 0" if name == "bin_edges" else "")
                    )
        result = histogram(input, bins, range=range, weight=weight, density=density)
        return write_pair_out("histogram", out, result)  # (counts: no refusal of inputs that require grad)
    if isinstance(bins, Tensor):
        _check_histogram_bins(input, bins)
        _check_histogram_weight(input, weight)
        if bins.numel() < 2:
            raise RuntimeError("torch.histogram(): bins must be > 0, but got 0 for dimension 0")
        # Any edges, in the order given: torch searches them as if sorted (its binary search), so
        # edges that are not increasing still count as its search places the values.
        edges = bins.contiguous()
        low, high = edges[0].item(), edges[-1].item()
    else:
        if int(bins) <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        if range is None and input.numel() and input.dtype not in (torch.float32, torch.float64):
            # (torch's search of the data for the range has no kernel for other dtypes)
            raise NotImplementedError(f"\"histogramdd\" not implemented for '{dtype_word(input.dtype)}'")
        low, high = _histogram_outer_edges(input, range)
        edges = creation.linspace(low, high, int(bins) + 1, dtype=input.dtype, device=input.device)
        _check_histogram_weight(input, weight)
    _check_floating("histogram_cpu", input)
    hist = Tensor._wrap(kernels.launch_histogram(
        input._data, edges.numel() - 1, low, high, weight=None if weight is None else weight.reshape(input.shape)._data,
        edges=edges._data, out_dtype=input.dtype,
    ))  # fmt: skip
    if density:
        hist = hist / (hist.sum() * (edges[1:] - edges[:-1]))
    return return_types.histogram(hist, edges)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """out[v] = how often the value v occurs in the 1-D non-negative integer ``input`` (or the sum of
    the ``weights`` where it occurs), for v up to max(input) and at least ``minlength`` values."""
    if input.dtype.is_floating_point or input.dtype == torch.bool:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{dtype_word(input.dtype)}'")
    if input.dim() != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.dim() != 1 or weights.shape[0] != input.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input.numel() == 0:  # torch's early answer, whatever the weights: int64 zeros
        return Tensor._wrap(kernels.launch_bincount(input._data, minlength))
    length = minlength
    if input.numel() > 0:
        smallest, largest = input.min().item(), input.max().item()
        if smallest < 0:
            raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
        length = max(minlength, largest + 1)
    if weights is not None:
        # torch sums float32 weights in float32 and every other dtype in float64 (a complex weight's real
        # part, with torch's warning that the imaginary part is discarded)
        weights = weights.detach()
        weights = weights if weights.dtype in (torch.float32, torch.float64) else weights.to(torch.float64)
    data = kernels.launch_bincount(input._data, length, None if weights is None else weights._data)
    return Tensor._wrap(data)


attach_methods({"histc": histc, "histogram": histogram, "bincount": bincount})
