"""tritongrad.nn.init: in-place parameter initialisers with torch's names, formulas and errors.

Every function fills its tensor under ``no_grad`` with tritongrad's random/fill
kernels and returns it. Values come from tritongrad's Philox generator, so they
differ from torch's for the same seed; the distributions are the same.

Example::

    >>> w = creation.empty(4, 3)
    >>> nn.init.kaiming_uniform_(w, a=math.sqrt(5))  # nn.Linear's default weight init
"""

from __future__ import annotations

import math
import warnings

import torch

from tritongrad import creation
from tritongrad.autograd.grad_mode import no_grad
from tritongrad.ops import where
from tritongrad.ops.complex import view_as_real

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "constant_",
    "ones_",
    "zeros_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "trunc_normal_",
    "orthogonal_",
    "eye_",
    "dirac_",
    "sparse_",
]

_LINEAR_GAIN = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (torch's table).

    >>> calculate_gain("relu")
    1.4142135623730951
    """
    if nonlinearity in _LINEAR_GAIN:
        return 1  # (torch's int)
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight laid out (out, in, *kernel) like torch's layers."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field = 1
    for size in tensor.shape[2:]:
        receptive_field *= size
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fills ``tensor`` with U(a, b) (a complex one: its real and imaginary parts each, as torch's)."""
    with no_grad():
        if tensor.is_complex():
            view_as_real(tensor).uniform_(a, b, generator=generator)
            return tensor
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fills ``tensor`` with N(mean, std**2) (a complex one: its real and imaginary parts each with
    N(mean, std**2 / 2), so the complex values have variance std**2, as torch's)."""
    with no_grad():
        if tensor.is_complex():
            view_as_real(tensor).normal_(mean, std / math.sqrt(2), generator=generator)
            return tensor
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor, val: float):
    """Fills ``tensor`` with ``val``."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    """Fills ``tensor`` with ones."""
    return constant_(tensor, 1.0)


def zeros_(tensor):
    """Fills ``tensor`` with zeros."""
    return constant_(tensor, 0.0)


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a: float, mode: str, nonlinearity: str) -> float:
    fan = _calculate_correct_fan(tensor, mode)
    if fan == 0:
        return 0.0
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None):
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan); a zero-sized tensor is left as it is."""
    if 0 in tuple(tensor.shape):
        _warn_zero_element()
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None):
    """He normal: N(0, std**2) with std = gain / sqrt(fan)."""
    if 0 in tuple(tensor.shape):
        _warn_zero_element()
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def _warn_zero_element() -> None:
    warnings.warn("Initializing zero-element tensors is a no-op", UserWarning, stacklevel=3)


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, generator=None):
    """Fills ``tensor`` with N(mean, std**2) truncated to [a, b], by torch's rejection sampling.

    When [a, b] holds more than 30% of the normal's mass, values outside it are redrawn from the
    normal until none is left; otherwise candidates are drawn from U(a, b) and each is kept with
    probability pdf(x) / pdf(mode), the rest drawn again. Both are exact truncated normals.
    """

    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    with no_grad():
        p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
        if p > 0.3:
            # The bounds rounded to the tensor's dtype, so the rejection test agrees with the stored values.
            lo = creation.tensor(a, dtype=tensor.dtype, device=tensor.device).item()
            hi = creation.tensor(b, dtype=tensor.dtype, device=tensor.device).item()
            result = tensor.normal_(mean, std, generator=generator)
            while True:
                mask = (result < lo) | (result > hi)
                if not bool(mask.any()):
                    break
                redrawn = creation.empty_like(result).normal_(mean, std, generator=generator)
                result = where(mask, redrawn, result)
            if result is not tensor:
                tensor.copy_(result)
            return tensor
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2
        candidates = creation.empty_like(tensor)
        accept_buf = creation.empty_like(tensor)
        tensor.uniform_(a, b, generator=generator)
        candidates.copy_(tensor)
        # log(pdf(x) / pdf(mode)) = -0.5 * ((x - mean) / std) ** 2 - log_peak
        candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
        pending = accept_buf.uniform_(generator=generator).log_().gt(candidates)
        if not bool(pending.any()):
            return tensor
        result = tensor
        while True:
            candidates.uniform_(a, b, generator=generator)
            result = where(pending, candidates, result)
            candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
            rejected = accept_buf.uniform_(generator=generator).log_().gt(candidates)
            pending = where(pending, rejected, pending)
            if not bool(pending.any()):
                break
        tensor.copy_(result)
        return tensor


def _orthonormal_columns(matrix):
    """Q of the QR factorisation of a full-column-rank (m, n) matrix, m >= n, with R's diagonal
    positive: classical Gram-Schmidt with one reorthogonalisation pass per column (CGS2), which keeps
    Q orthonormal to working precision. Torch's sign-corrected Householder Q is this same matrix."""
    rows, cols = matrix.shape
    q = creation.empty((rows, cols), dtype=matrix.dtype, device=matrix.device)
    for j in range(cols):
        column = matrix.select(1, j)
        if j:
            basis = q[:, :j]
            for _ in range(2):
                column = column - basis @ (basis.t() @ column)
        column = column / (column * column).sum().sqrt()
        q.select(1, j).copy_(column)
    return q


def orthogonal_(tensor, gain: float = 1, generator=None):
    """Fills ``tensor`` (trailing dims flattened) with a (semi-)orthogonal matrix times ``gain``:
    the Q factor of a standard normal matrix (transposed when rows < cols), R's diagonal made
    positive, as in Saxe et al. (2013). Half types are orthonormalised in float32."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    work_dtype = torch.float32 if tensor.dtype in (torch.float16, torch.bfloat16) else tensor.dtype
    with no_grad():
        flattened = tensor.new_empty((rows, cols), dtype=work_dtype).normal_(0, 1, generator=generator)
        if rows < cols:
            q = _orthonormal_columns(flattened.t()).t()
        else:
            q = _orthonormal_columns(flattened)
        tensor.copy_(q.reshape(tensor.shape))
        tensor.mul_(gain)
    return tensor


def eye_(tensor):
    """Fills the 2-D ``tensor`` with the identity matrix (ones on the main diagonal)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        if tensor.is_complex():  # (ones on the real part's diagonal, zeros elsewhere)
            parts = view_as_real(tensor)
            parts.zero_()
            parts[..., 0].copy_(creation.eye(*tensor.shape, dtype=parts.dtype, device=tensor.device))
        else:
            tensor.copy_(creation.eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device))
    return tensor


def dirac_(tensor, groups: int = 1):
    """Fills the {3, 4, 5}-D ``tensor`` with the Dirac delta: in each of ``groups`` blocks of output
    channels, output channel d takes input channel d at the kernel's centre (identity convolution)."""
    dimensions = tensor.dim()
    if dimensions not in [3, 4, 5]:
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    with no_grad():
        tensor.zero_()
        count = groups * min_dim
        if count == 0:
            return tensor
        out_channels = [g * out_chans_per_grp + d for g in range(groups) for d in range(min_dim)]
        in_channels = [d for _ in range(groups) for d in range(min_dim)]
        centres = [[size // 2] * count for size in sizes[2:]]
        index = tuple(
            creation.tensor(values, dtype=torch.int64, device=tensor.device)
            for values in (out_channels, in_channels, *centres)
        )
        tensor.index_put_(index, creation.ones((), dtype=tensor.dtype, device=tensor.device))
    return tensor


def sparse_(tensor, sparsity: float, std: float = 0.01, generator=None):
    """Fills the 2-D ``tensor`` with N(0, std**2) values, then zeroes ceil(sparsity * rows) of each
    column at rows drawn without replacement (a random permutation per column, as torch's randperm)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    # torch takes randperm(rows)[:num_zeros]: Python slicing, so a negative count keeps rows + count.
    num_zeros = len(range(rows)[:num_zeros])
    with no_grad():
        normal_(tensor, 0, std, generator)
        if num_zeros and cols:
            # Sorting independent uniform keys down each column gives an independent random
            # permutation of the rows per column; its first num_zeros entries are zeroed.
            keys = creation.empty((rows, cols), device=tensor.device).uniform_(generator=generator)
            zero_rows = keys.argsort(dim=0)[:num_zeros]
            if tensor.is_complex():  # (both parts of the chosen entries, through the real view)
                view_as_real(tensor).scatter_(0, zero_rows.unsqueeze(-1).expand(num_zeros, cols, 2), 0.0)
            else:
                tensor.scatter_(0, zero_rows, 0.0)
    return tensor


def _deprecated(method):
    """torch's old names without the underscore (``nn.init.normal``): the method, with its warning."""

    def deprecated(*args, **kwargs):
        old, new = method.__name__[:-1], method.__name__
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new}`.", FutureWarning, stacklevel=2)
        return method(*args, **kwargs)

    deprecated.__name__ = deprecated.__qualname__ = method.__name__[:-1]
    deprecated.__doc__ = f"Deprecated: ``{method.__name__}``."
    return deprecated


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
