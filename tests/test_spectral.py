"""The window functions (torch.hann_window and kin, torch.signal.windows) and torch.stft / torch.istft,
each compared with torch by ``agree``: the value, or the exception type and the head of its message;
gradients through stft and istft in float64."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
from tests.test_hardening import agree
from tests.utils import assert_close, from_torch, to_torch

WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("length", [0, 1, 7])
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_window_values(name, length, periodic, dtype):
    agree(f"{name}({length}, {periodic})", lambda lib: getattr(lib, name)(length, periodic, dtype=dtype), [])


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.hamming_window(6, False, 0.6, 0.3),
        lambda lib: lib.kaiser_window(6, True, 3.5),
        lambda lib: lib.kaiser_window(5, False, 0.0),
        lambda lib: lib.hann_window(5),
        lambda lib: lib.hann_window(4, dtype=lib.long),
        lambda lib: lib.blackman_window(-1),
        lambda lib: lib.bartlett_window(4.0),
        lambda lib: lib.hann_window(3, dtype=lib.complex64),
    ],
    ids=["hamming-alpha-beta", "kaiser-beta", "kaiser-0", "default", "int-dtype", "negative", "float", "complex"],
)
def test_window_arguments_and_errors(call):
    agree("window", call, [])


def test_window_requires_grad_makes_a_leaf():
    window = tritongrad.hann_window(4, requires_grad=True, dtype=torch.float64)
    assert window.requires_grad and window.is_leaf and window.dtype == torch.float64


SIGNAL_WINDOWS = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_hamming", "hamming", "hann",
                  "kaiser", "nuttall"]  # fmt: skip


@pytest.mark.parametrize("name", SIGNAL_WINDOWS)
@pytest.mark.parametrize("M", [0, 1, 6])
@pytest.mark.parametrize("sym", [True, False])
def test_signal_windows(name, M, sym):
    agree(f"signal.windows.{name}", lambda lib: getattr(lib.signal.windows, name)(M, sym=sym), [])


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.signal.windows.general_cosine(5, a=[0.5, 0.3, 0.2], dtype=lib.float64),
        lambda lib: lib.signal.windows.exponential(5, center=1.0, tau=2.0, sym=False),
        lambda lib: lib.signal.windows.gaussian(5, std=0.7, dtype=lib.float64),
        lambda lib: lib.signal.windows.kaiser(5, beta=4.0, sym=False, dtype=lib.float64),
        lambda lib: lib.signal.windows.hann(-1),
        lambda lib: lib.signal.windows.hann(3, dtype=lib.float16),
        lambda lib: lib.signal.windows.exponential(3, center=1.0),
        lambda lib: lib.signal.windows.gaussian(3, std=0.0),
        lambda lib: lib.signal.windows.general_cosine(3, a=[]),
    ],
)
def test_signal_window_arguments_and_errors(call):
    agree("signal window", call, [])


# ---------------------------------------------------------------------------------------------- stft


def _parts(lib, result):
    """A complex result as (..., 2) real pairs: agree compares complex tensors exactly, pairs with tolerance."""
    return lib.view_as_real(result) if result.dtype.is_complex else result


def _signal(shape=(2, 20), dtype=torch.float64, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)


STFT_CASES = {
    "default": {},
    "no-center": {"center": False, "window": "ones"},
    "constant": {"pad_mode": "constant"},
    "replicate": {"pad_mode": "replicate"},
    "circular": {"pad_mode": "circular"},
    "normalized": {"normalized": True},
    "two-sided": {"onesided": False},
    "short-window": {"win_length": 5},
    "hop-3": {"hop_length": 3},
    "aligned": {"center": False, "align_to_window": True, "win_length": 4},
    "rectangular": {"window": None},
    "real-pairs": {"return_complex": False},
}


def _stft_arguments(lib, case: dict) -> dict:
    arguments = {"n_fft": 8, "return_complex": True, **case}
    window = arguments.get("window", "hann")
    size = arguments.get("win_length", arguments["n_fft"])
    if window == "hann":
        arguments["window"] = lib.hann_window(size, dtype=lib.float64)
    elif window == "ones":
        arguments["window"] = lib.ones(size, dtype=lib.float64)
    return arguments


@pytest.mark.parametrize(
    ("case", "batched"), [(case, True) for case in STFT_CASES] + [("default", False), ("real-pairs", False)]
)
def test_stft_and_istft(case, batched):
    signal = _signal() if batched else _signal((20,))

    def transform(lib, x):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _parts(lib, lib.stft(x, **_stft_arguments(lib, STFT_CASES[case])))

    def round_trip(lib, x):
        arguments = _stft_arguments(lib, STFT_CASES[case])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spectrum = lib.stft(x, **arguments)
            for stft_only in ("pad_mode", "return_complex", "align_to_window"):
                arguments.pop(stft_only, None)
            if not spectrum.dtype.is_complex:
                spectrum = lib.view_as_complex(spectrum.contiguous())
            return lib.istft(spectrum, **arguments)

    agree(f"stft {case}", transform, [signal])
    agree(f"istft {case}", round_trip, [signal])


@pytest.mark.parametrize("dtype", [torch.float32, torch.complex128])
def test_stft_dtypes_and_the_tensor_method(dtype):
    signal = _signal((20,), dtype=dtype)
    agree(
        "x.stft",
        lambda lib, x: _parts(lib, x.stft(8, window=lib.hann_window(8, dtype=x.real.dtype), return_complex=True)),
        [signal],
    )


def test_istft_of_a_complex_signal():
    def run(lib, x):
        window = lib.hann_window(8, dtype=lib.float64)
        spectrum = lib.stft(x, 8, window=window)
        return _parts(lib, lib.istft(spectrum, 8, window=window, onesided=False, return_complex=True))

    agree("istft complex", run, [_signal((20,), dtype=torch.complex128)])


@pytest.mark.parametrize("length", [13, 25])
def test_istft_length_trims_or_pads(length):
    def run(lib, x):
        window = lib.hann_window(8, dtype=lib.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.istft(lib.stft(x, 8, window=window, return_complex=True), 8, window=window, length=length)

    agree("istft length", run, [_signal((20,))])


STFT_ERRORS = {
    "no-return-complex": lambda lib, x: lib.stft(x, 8, window=lib.ones(8, dtype=x.dtype)),
    "hop-0": lambda lib, x: lib.stft(x, 8, 0, window=lib.ones(8, dtype=x.dtype), return_complex=True),
    "win-9": lambda lib, x: lib.stft(x, 8, win_length=9, return_complex=True),
    "window-size": lambda lib, x: lib.stft(x, 8, window=lib.ones(7, dtype=x.dtype), return_complex=True),
    "n_fft-long": lambda lib, x: lib.stft(x, 30, window=lib.ones(30, dtype=x.dtype), center=False, return_complex=True),
    "3-d": lambda lib, x: lib.stft(x.reshape(1, 2, 20), 8, window=lib.ones(8, dtype=x.dtype), return_complex=True),
    "integer": lambda lib, x: lib.stft(lib.arange(20), 8, return_complex=True),
    "align-centred": lambda lib, x: lib.stft(x, 8, return_complex=True, align_to_window=True),
    "pad-mode": lambda lib, x: lib.stft(x, 8, window=lib.ones(8, dtype=x.dtype), pad_mode="foo", return_complex=True),
    "complex-onesided": lambda lib, x: lib.stft(x.to(lib.complex128), 8, window=lib.ones(8), onesided=True),
}


@pytest.mark.parametrize("case", list(STFT_ERRORS), ids=list(STFT_ERRORS))
def test_stft_errors(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agree(f"stft {case}", STFT_ERRORS[case], [_signal()])


def _spectrum():
    window = torch.hann_window(8, dtype=torch.float64)
    return torch.stft(_signal(), 8, window=window, return_complex=True)


ISTFT_ERRORS = {
    "real-input": lambda lib, s: lib.istft(s.real, 8, window=lib.hann_window(8, dtype=lib.float64)),
    "nola": lambda lib, s: lib.istft(s, 8, window=lib.hann_window(8, dtype=lib.float64), center=False),
    "hop-9": lambda lib, s: lib.istft(s, 8, hop_length=9, window=lib.ones(8, dtype=lib.float64)),
    "win-9": lambda lib, s: lib.istft(s, 8, win_length=9, window=lib.ones(8, dtype=lib.float64)),
    "window-size": lambda lib, s: lib.istft(s, 8, window=lib.ones(7, dtype=lib.float64)),
    "n_fft-10": lambda lib, s: lib.istft(s, 10, window=lib.ones(10, dtype=lib.float64)),
    "two-sided": lambda lib, s: lib.istft(s, 8, window=lib.ones(8, dtype=lib.float64), onesided=False),
    "complex-onesided": lambda lib, s: lib.istft(s, 8, window=lib.ones(8, dtype=lib.float64), return_complex=True),
    "empty": lambda lib, s: lib.istft(s[:0], 8, window=lib.ones(8, dtype=lib.float64)),
    "1-d": lambda lib, s: lib.istft(s[0, 0], 8, window=lib.ones(8, dtype=lib.float64)),
}


@pytest.mark.parametrize("case", list(ISTFT_ERRORS), ids=list(ISTFT_ERRORS))
def test_istft_errors(case):
    agree(f"istft {case}", ISTFT_ERRORS[case], [_spectrum()])


def test_stft_and_istft_gradients_match_torchs():
    """d/dx and d/dwindow of a loss through stft, and through stft then istft, in float64."""
    signal, window = _signal((2, 16)), torch.rand(8, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    weights = torch.arange(16.0, dtype=torch.float64)

    def losses(lib, x, w):
        spectrum = lib.stft(x, 8, hop_length=2, window=w, return_complex=True)
        power = (spectrum.abs() ** 2).sum()
        rebuilt = lib.istft(spectrum * 2, 8, hop_length=2, window=w)
        return power, (rebuilt * (weights if lib is torch else from_torch(weights))).sum()

    for which in range(2):
        theirs = [signal.clone().requires_grad_(), window.clone().requires_grad_()]
        ours = [from_torch(t, requires_grad=True) for t in (signal, window)]
        losses(torch, *theirs)[which].backward()
        losses(tritongrad, *ours)[which].backward()
        for mine, reference in zip(ours, theirs):
            assert_close(to_torch(mine.grad), reference.grad, rtol=1e-10, atol=1e-10)


def test_warnings_once_per_process_unless_warn_always():
    """stft without a window warns as torch's TORCH_WARN_ONCE: once, and every time under set_warn_always."""
    x = tritongrad.ones(20)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tritongrad.stft(x, 8, return_complex=True)
        tritongrad.stft(x, 8, return_complex=True)
    first = [w for w in caught if "A window was not provided" in str(w.message)]
    assert len(first) <= 1
    tritongrad.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tritongrad.stft(x, 8, return_complex=True)
            tritongrad.stft(x, 8, return_complex=True)
    finally:
        tritongrad.set_warn_always(False)
    assert len([w for w in caught if "A window was not provided" in str(w.message)]) == 2
    assert caught[0].filename == __file__
