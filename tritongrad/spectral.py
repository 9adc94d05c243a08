"""torch's short-time Fourier transform and its window functions: ``hann_window``, ``hamming_window``,
``blackman_window``, ``bartlett_window``, ``kaiser_window``, ``stft`` and ``istft`` (also as Tensor
methods), with torch 2.13's arguments, dtypes and errors.

The windows follow ATen's formulas step by step in the requested dtype (an ``arange`` scaled, its cosine,
...), so float32 windows round as torch's do. ``stft`` frames the (centre-padded) signal with ``unfold``,
multiplies by the window (zero-padded to ``n_fft`` in the centre) and transforms each frame with
``tritongrad.fft``; ``istft`` inverts each frame, overlap-adds the windowed frames and the squared window
with ``F.fold`` and divides by that envelope (torch's NOLA check refuses a vanishing one). Every step is a
tritongrad op, so gradients flow to the signal and the window.
"""

from __future__ import annotations

import math

import torch

from tritongrad import caller_warnings, creation, fft, ops
from tritongrad.dtypes import DTYPE_WORDS, as_dtype, dtype_word, get_default_dtype, type_meta_name
from tritongrad.nn import functional as F
from tritongrad.tensor import Tensor, attach_methods

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window", "stft", "istft"]


# ------------------------------------------------------------------------------------------------ windows
def _options_text(dtype: torch.dtype, device, layout, requires_grad: bool) -> str:
    """A TensorOptions as torch's window errors print it."""
    device = creation._device(device)
    layout_text = "Strided (default)" if layout is None else ("Strided" if layout == torch.strided else "Sparse")
    grad_text = "true" if requires_grad else "false (default)"
    return (
        f"TensorOptions(dtype={type_meta_name(dtype)}, device={device}, layout={layout_text}, "
        f"requires_grad={grad_text}, pinned_memory=false, memory_format=(nullopt))"
    )


def _window_dtype(name: str, window_length, dtype, layout, device, requires_grad: bool) -> torch.dtype:
    """The dtype a window is made in, after torch's argument and TensorOptions checks."""
    if not isinstance(window_length, int) or isinstance(window_length, bool):
        raise TypeError(
            f"{name}(): argument 'window_length' (position 1) must be int, not {type(window_length).__name__}"
        )
    dtype = as_dtype(dtype, name) or get_default_dtype()
    if layout is not None and layout != torch.strided:
        raise RuntimeError(
            f"{name} is not implemented for sparse types, got: {_options_text(dtype, device, layout, requires_grad)}"
        )
    if not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(
            f"{name} expects floating point dtypes, got: {_options_text(dtype, device, layout, requires_grad)}"
        )
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if dtype.is_complex:  # (torch's windows start from an arange, which takes no complex dtype)
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{DTYPE_WORDS[dtype]}'")
    return dtype


def _window(name, window_length, periodic, formula, dtype, layout, device, requires_grad) -> Tensor:
    """``formula(positions, length)`` over ``arange(length)`` for a symmetric window of ``length`` points
    (one more, then dropped, when ``periodic``), as ATen builds each window; the empty and one-point
    windows are torch's special cases."""
    dtype = _window_dtype(name, window_length, dtype, layout, device, requires_grad)
    if window_length <= 1:
        made = creation.ones(window_length, dtype=dtype, device=device)
        return made.requires_grad_(requires_grad)
    length = window_length + 1 if periodic else window_length
    values = formula(creation.arange(length, dtype=dtype, device=device), length)
    if periodic:
        values = values[: length - 1]
    return values.contiguous().requires_grad_(requires_grad)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype=None, layout=None, device=None, pin_memory: bool = False,
                   requires_grad: bool = False) -> Tensor:  # fmt: skip
    """alpha - beta * cos(2 pi n / (N - 1))."""
    return _window(
        "hamming_window", window_length, periodic,
        lambda n, length: (n * (math.pi * 2.0 / (length - 1))).cos() * -beta + alpha,
        dtype, layout, device, requires_grad,
    )  # fmt: skip


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                pin_memory: bool = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """0.5 - 0.5 * cos(2 pi n / (N - 1)): the Hamming window with alpha = beta = 1/2, as torch's."""
    return _window(
        "hann_window", window_length, periodic,
        lambda n, length: (n * (math.pi * 2.0 / (length - 1))).cos() * -0.5 + 0.5,
        dtype, layout, device, requires_grad,
    )  # fmt: skip


def _blackman(n: Tensor, length: int) -> Tensor:
    first = (n * (math.pi * 2.0 / (length - 1))).cos() * -0.5
    return first + (n * (math.pi * 4.0 / (length - 1))).cos() * 0.08 + 0.42


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                    pin_memory: bool = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _window("blackman_window", window_length, periodic, _blackman, dtype, layout, device, requires_grad)


def _bartlett(n: Tensor, length: int) -> Tensor:
    """2n / (N - 1) rising over the first half, 2 - 2n / (N - 1) falling over the rest."""
    rising = n * (2.0 / (length - 1))
    first_half = ((length - 1) >> 1) + 1
    return ops.cat([rising[:first_half], rising[first_half:] * -1 + 2])


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
                    pin_memory: bool = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The triangular window."""
    return _window("bartlett_window", window_length, periodic, _bartlett, dtype, layout, device, requires_grad)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None, layout=None,
                  device=None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """I0(beta * sqrt(1 - ((n - (N - 1) / 2) / ((N - 1) / 2)) ** 2)) / I0(beta)."""

    def kaiser(n: Tensor, length: int) -> Tensor:
        alpha = (length - 1) / 2.0
        ratio = (n - alpha) / alpha
        peak = ops.i0(creation.full((), float(beta), dtype=n.dtype, device=n.device))
        return ops.i0(((1 - ratio.pow(2)).abs().sqrt()) * float(beta)) / peak

    return _window("kaiser_window", window_length, periodic, kaiser, dtype, layout, device, requires_grad)


# ------------------------------------------------------------------------------------------------ stft
def _check_window(name: str, signal: Tensor, window, missing_text: str) -> None:
    """stft's and istft's window checks: on the signal's device; a missing one warned about once (torch's
    TORCH_WARN_ONCE, the text of each op, torch's missing spaces kept)."""
    if window is not None and window.device != signal.device:
        raise RuntimeError(
            f"{name} input and window must be on the same device but got self on {signal.device} and window on "
            f"{window.device}"
        )
    if window is None:
        caller_warnings.warn_once(
            f"{name} window",
            missing_text + "To suppress this warning and use a rectangular window, explicitly set "
            "`window=torch.ones(n_fft, device=<device>)`.",
        )


def _type_text(tensor: Tensor) -> str:
    """A tensor's type as ATen's ``toString`` prints it in the stft errors: the legacy name
    (torch.FloatTensor) where one exists, else the backend's (CPUComplexFloatType)."""
    on_cuda = tensor.device.type == "cuda"
    if tensor.dtype.is_complex or tensor.dtype == torch.bfloat16:
        return f"{'CUDA' if on_cuda else 'CPU'}{dtype_word(tensor.dtype)}Type"
    return f"torch.{'cuda.' if on_cuda else ''}{dtype_word(tensor.dtype)}Tensor"


def _optional_text(value) -> str:
    return "None" if value is None else str(int(value))


def _window_text(window) -> str:
    return "None" if window is None else f"{_type_text(window)}{{{list(window.shape)}}}"


def _complex_pad(input: Tensor, amount: int, mode: str) -> Tensor:
    """F.pad of the last dim, a complex input by its parts (the pad kernels are real)."""
    if not input.dtype.is_complex:
        return F.pad(input, [amount, amount], mode)
    parts = (F.pad(part, [amount, amount], mode) for part in (input.real, input.imag))
    return ops.complex(*parts)


def _centered_window(window, n_fft: int, win_length: int, like: Tensor):
    """The window (ones when None) zero-padded on both sides to ``n_fft``, ``left`` = (n_fft - win_length) // 2."""
    if window is None:
        if win_length == n_fft:
            return None
        window = creation.ones(win_length, dtype=like.dtype, device=like.device)
    if win_length == n_fft:
        return window
    left = (n_fft - win_length) // 2
    return _pad_sides(window, left, n_fft - win_length - left)


def _pad_sides(values: Tensor, left: int, right: int) -> Tensor:
    """Zeros before and after a 1-d tensor (complex ones too)."""
    pieces = [creation.zeros(left, dtype=values.dtype, device=values.device), values]
    pieces.append(creation.zeros(right, dtype=values.dtype, device=values.device))
    return ops.cat(pieces)


def stft(input, n_fft: int, hop_length=None, win_length=None, window=None, center: bool = True,
         pad_mode: str = "reflect", normalized: bool = False, onesided=None, return_complex=None,
         align_to_window=None) -> Tensor:  # fmt: skip
    """The short-time Fourier transform of a 1-d signal or a batch of them (rows): (batch?, freq, frames)."""
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    signal = input
    if center:  # (torch.functional pads before ATen's checks, so they see the padded length)
        signal_dim = signal.dim()
        extended = signal.reshape([1] * (3 - signal_dim) + list(signal.shape)) if signal_dim <= 3 else signal
        pad = n_fft // 2
        signal = _complex_pad(extended, pad, pad_mode)
        signal = signal.reshape(tuple(signal.shape[-signal_dim:]))
    hop = n_fft >> 2 if hop_length is None else hop_length
    width = n_fft if win_length is None else win_length

    def fail(problem: str) -> RuntimeError:
        return RuntimeError(
            f"stft({_type_text(signal)}{list(signal.shape)}, n_fft={n_fft}, hop_length={hop}, win_length={width}, "
            f"window={_window_text(window)}, normalized={int(normalized)}, onesided={_optional_text(onesided)}, "
            f"return_complex={_optional_text(return_complex)}, align_to_window={_optional_text(align_to_window)}) "
            f": {problem}"
        )

    _check_window(
        "stft",
        signal,
        window,
        "A window was not provided. A rectangular window will be applied,which is known to cause spectral "
        "leakage. Other windows such as torch.hann_window or torch.hamming_window are recommended to reduce "
        "spectral leakage.",
    )
    complex_result = signal.dtype.is_complex or (window is not None and window.dtype.is_complex)
    wants_complex = complex_result if return_complex is None else bool(return_complex)
    if not wants_complex:
        if return_complex is None:
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and will further require "
                "that return_complex=True in a future PyTorch release."
            )
        caller_warnings.warn_once(
            "stft real",
            "stft with return_complex=False is deprecated. In a future pytorch release, stft will return complex "
            "tensors for all inputs, and return_complex=False will raise an error.\nNote: you can still call "
            "torch.view_as_real on the complex output to recover the old return format.",
        )
    if not (signal.dtype.is_floating_point or signal.dtype.is_complex):
        raise fail("expected a tensor of floating point or complex values")
    if signal.dim() not in (1, 2):
        raise fail("expected a 1D or 2D tensor")
    frames_of = signal.unsqueeze(0) if signal.dim() == 1 else signal
    length = frames_of.shape[1]
    if n_fft <= 0 or n_fft > length:
        raise fail(f"expected 0 < n_fft < {length}, but got n_fft={width}")
    if hop <= 0:
        raise fail(f"expected hop_length > 0, but got hop_length={hop}")
    if width <= 0 or width > n_fft:
        raise fail(f"expected 0 < win_length <= n_fft, but got win_length={width}")
    if window is not None and (window.dim() != 1 or window.shape[0] != width):
        raise fail(
            f"expected a 1D window tensor of size equal to win_length={width}, but got window with size "
            f"{list(window.shape)}"
        )
    if align_to_window and width < n_fft:
        # each window starts at a frame's start and sits in the centre of its n_fft transform
        left = (n_fft - width) // 2
        frames = frames_of.unfold(1, width, hop)
        if window is not None:
            frames = frames * window
        frames = _pad_frames(frames, left, n_fft - width - left)
    else:
        frames = frames_of.unfold(1, n_fft, hop)  # (batch, frames, n_fft)
        padded_window = _centered_window(window, n_fft, width, signal)
        if padded_window is not None:
            frames = frames * padded_window
    if onesided is None:
        onesided = not frames.dtype.is_complex
    norm = "ortho" if normalized else "backward"
    if frames.dtype.is_complex:
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        spectrum = fft.fft(frames, dim=-1, norm=norm)
    else:
        spectrum = fft.rfft(frames, dim=-1, norm=norm) if onesided else fft.fft(frames, dim=-1, norm=norm)
    spectrum = spectrum.transpose(1, 2)
    if signal.dim() == 1:
        spectrum = spectrum.squeeze(0)
    return spectrum if wants_complex else ops.view_as_real(spectrum)


def _pad_frames(frames: Tensor, left: int, right: int) -> Tensor:
    """Zeros before and after the last dim of (batch, frames, width) frames."""
    batch, count = frames.shape[0], frames.shape[1]
    zeros = [creation.zeros(batch, count, size, dtype=frames.dtype, device=frames.device) for size in (left, right)]
    return ops.cat([zeros[0], frames, zeros[1]], dim=-1)


def _overlap_add(frames: Tensor, hop: int, total: int) -> Tensor:
    """Sum of (batch, frames, n_fft) frames placed ``hop`` apart: (batch, total); complex ones by their parts."""
    if frames.dtype.is_complex:
        return ops.complex(_overlap_add(frames.real, hop, total), _overlap_add(frames.imag, hop, total))
    n_fft = frames.shape[-1]
    columns = frames.transpose(1, 2)  # (batch, n_fft, frames): fold's (N, C * kernel, L)
    added = F.fold(columns, output_size=(1, total), kernel_size=(1, n_fft), stride=(1, hop))
    return added.reshape(frames.shape[0], total)


def istft(input, n_fft: int, hop_length=None, win_length=None, window=None, center: bool = True,
          normalized: bool = False, onesided=None, length=None, return_complex: bool = False) -> Tensor:  # fmt: skip
    """The inverse of ``stft``: each frame's inverse transform, windowed, overlap-added and divided by the
    overlap-added squared window."""
    hop = n_fft >> 2 if hop_length is None else hop_length
    width = n_fft if win_length is None else win_length
    _check_window(
        "istft",
        input,
        window,
        "A window was not provided. A rectangular window will be applied.Please provide the same window used "
        "by stft to make the inversion lossless.",
    )
    if not input.dtype.is_complex:
        raise RuntimeError(
            "istft requires a complex-valued input tensor matching the output from stft with return_complex=True."
        )

    def fail(problem: str, separator: str = " : ") -> RuntimeError:
        return RuntimeError(
            f"istft({_type_text(input)}{list(input.shape)}, n_fft={n_fft}, hop_length={hop}, win_length={width}, "
            f"window={_window_text(window)}, center={int(center)}, normalized={int(normalized)}, "
            f"onesided={_optional_text(onesided)}, length={_optional_text(length)}, "
            f"return_complex={int(return_complex)}){separator}{problem}"
        )

    if input.dim() < 2:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-input.dim() - 1}, {input.dim()}], but got -3)"
        )
    n_frames, fft_size = input.shape[-1], input.shape[-2]
    total = n_fft + hop * (n_frames - 1)
    if input.numel() == 0:
        raise fail("input tensor cannot be empty.")
    if input.dim() not in (2, 3):
        raise fail(f"expected a tensor with 3 or 4 dimensions, but got {input.dim() + 1}")
    is_onesided = fft_size != n_fft if onesided is None else onesided
    if is_onesided and n_fft // 2 + 1 != fft_size:
        raise fail(
            "expected the frequency dimension (3rd to the last) of the input tensor to match n_fft / 2 + 1 when "
            f"onesided=True, but got {fft_size}"
        )
    if not is_onesided and n_fft != fft_size:
        raise fail(
            "expected the frequency dimension (3rd to the last) of the input tensor to match n_fft when "
            f"onesided=False, but got {fft_size}"
        )
    if not 0 < hop <= width:
        raise fail("expected 0 < hop_length <= win_length")
    if not 0 < width <= n_fft:
        raise fail("expected 0 < win_length <= n_fft")
    if window is not None and (window.dim() != 1 or window.shape[0] != width):
        raise fail("Invalid window shape. window has to be 1D and length of `win_length`")
    real_dtype = torch.float64 if input.dtype == torch.complex128 else torch.float32
    full_window = creation.ones(width, dtype=real_dtype, device=input.device) if window is None else window
    if width != n_fft:
        left = (n_fft - width) // 2
        full_window = _pad_sides(full_window, left, n_fft - width - left)
    batched = input if input.dim() == 3 else input.unsqueeze(0)
    spectra = batched.transpose(1, 2)  # (batch, frames, freq)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        if is_onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        frames = fft.ifft(spectra, dim=-1, norm=norm)
    else:
        if window is not None and window.dtype.is_complex:
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not is_onesided:
            spectra = spectra[..., : n_fft // 2 + 1]
        frames = fft.irfft(spectra, n=n_fft, dim=-1, norm=norm)
    frames = frames * full_window
    signal = _overlap_add(frames, hop, total)
    squared = full_window * full_window
    envelope = _overlap_add(squared.expand(1, n_frames, n_fft), hop, total)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = total - n_fft // 2 if center else total
    signal, envelope = signal[:, start:end], envelope[:, start:end]
    if bool((envelope.abs().min() < 1e-11).item()):
        raise fail("window overlap add min: 1\n[ CPUBoolType{} ]", separator=" ")
    signal = signal / envelope
    if input.dim() == 2:
        signal = signal.squeeze(0)
    if end > total:
        caller_warnings.warn_once(
            "istft length",
            "The length of signal is shorter than the length parameter. Result is being padded with zeros in the "
            "tail. Please check your center and hop_length settings.",
        )
        signal = _zero_tail(signal, end - total)
    return signal


def _zero_tail(signal: Tensor, amount: int) -> Tensor:
    """``amount`` zeros after the last dim (complex signals by their parts)."""
    if not signal.dtype.is_complex:
        return F.pad(signal, [0, amount])
    return ops.complex(_zero_tail(signal.real, amount), _zero_tail(signal.imag, amount))


class _SpectralMethods:
    """``x.stft(...)`` and ``x.istft(...)``."""

    stft, istft = stft, istft


attach_methods(_SpectralMethods)
