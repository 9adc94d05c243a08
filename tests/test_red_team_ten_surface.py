"""The tenth red-team round's surface findings (scripts4b #3; scripts4a #5, #6, #7, #10), each compared
with torch by ``agree`` (the value, or the exception type and the head of its message) and, where the
finding is a warning, by the warnings both libraries give."""

from __future__ import annotations

import warnings

import pytest
import torch

import tritongrad
from tests.test_hardening import agree

# ----------------------------------------------------------------------------------------------
# scripts4b #3: the bins torch's FFT gives as exact zeros are exact zeros (angle() and imag == 0)
# ----------------------------------------------------------------------------------------------


def _signal(kind: str, n: int, dtype: torch.dtype) -> torch.Tensor:
    if kind == "ones":
        return torch.ones(n, dtype=dtype)
    if kind == "alternating":
        return torch.tensor([1.0, -1.0] * (n // 2), dtype=dtype)
    return torch.tensor([1.0, 0.0] * (n // 2), dtype=dtype)  # "comb"


def _zero_pattern(lib, transform: str, x):
    result = getattr(lib.fft, transform)(x)
    return result.real == 0, result.imag == 0, result.angle()


@pytest.mark.parametrize("transform", ["fft", "rfft", "ifft", "ihfft"])
@pytest.mark.parametrize(("kind", "n", "dtype"), [("ones", 8, torch.float32), ("alternating", 16, torch.float32),
                                                  ("comb", 12, torch.float32), ("ones", 4, torch.float64),
                                                  ("alternating", 2, torch.float64)])  # fmt: skip
def test_fft_exact_zero_bins_as_torch(transform, kind, n, dtype):
    agree(f"{transform} {kind} {n} {dtype}", lambda lib, x: _zero_pattern(lib, transform, x), [_signal(kind, n, dtype)])


@pytest.mark.parametrize("n", [4, 8])
def test_fft_of_a_complex_constant_has_exact_zero_bins(n):
    x = torch.ones(n, dtype=torch.complex64) * (1 + 2j)
    agree(f"complex fft {n}", lambda lib, x: _zero_pattern(lib, "fft", x), [x])


def test_stft_of_a_constant_has_zero_phase():
    def run(lib, x):
        spectrum = lib.stft(x, 8, window=lib.ones(8), center=False, return_complex=True)
        return spectrum.angle()[:, 0], (spectrum.imag == 0).all()

    agree("stft angle", run, [torch.ones(32)])


@pytest.mark.parametrize("transform", ["fft", "rfft", "ifft", "irfft", "hfft", "ihfft", "fft2", "rfftn"])
@pytest.mark.parametrize("n", [5, 16])
def test_fft_float64_values_still_match_torch(transform, n):
    x = torch.randn(3, n, dtype=torch.float64, generator=torch.Generator().manual_seed(n))
    expected = getattr(torch.fft, transform)(x)
    actual = torch.from_numpy(getattr(tritongrad.fft, transform)(tritongrad.from_numpy(x.numpy().copy())).numpy())
    assert actual.dtype == expected.dtype
    assert (actual - expected).abs().max().item() <= 1e-15 * max(1.0, expected.abs().max().item())


def test_fft_float32_gradient_flows_through_the_wider_products():
    def run(lib, x):
        spectrum = lib.fft.rfft(x)
        (spectrum.real.sum() + spectrum.imag.pow(2).sum()).backward()
        return spectrum.real, spectrum.imag

    agree("rfft grad", run, [torch.linspace(-1, 1, 8).requires_grad_()])


# ----------------------------------------------------------------------------------------------
# scripts4a #6: set_float32_matmul_precision and torch 2.13's fp32_precision attributes
# ----------------------------------------------------------------------------------------------


def _reset_precision(lib) -> None:
    """The defaults of a fresh process (the state is global; tests run in any order)."""
    lib.set_float32_matmul_precision("highest")
    backends = lib.backends
    backends.fp32_precision = "none"
    backends.cuda.matmul.fp32_precision = "none"
    backends.cudnn.fp32_precision = "none"
    backends.cudnn.allow_tf32 = True  # (torch keeps a legacy flag beside conv's and rnn's precisions)
    for op in ("matmul", "conv", "rnn"):
        getattr(backends.mkldnn, op).fp32_precision = "none"


@pytest.fixture(autouse=False)
def fresh_precision():
    for lib in (torch, tritongrad):
        _reset_precision(lib)
    yield
    for lib in (torch, tritongrad):
        _reset_precision(lib)


def _all_precisions(lib):
    b = lib.backends
    return (b.fp32_precision, b.cuda.matmul.fp32_precision, b.cudnn.fp32_precision, b.cudnn.conv.fp32_precision,
            b.cudnn.rnn.fp32_precision, b.mkldnn.fp32_precision, b.mkldnn.matmul.fp32_precision,
            b.mkldnn.conv.fp32_precision, b.mkldnn.rnn.fp32_precision)  # fmt: skip


PRECISION_CASES = {
    "defaults": lambda lib: (_all_precisions(lib), lib.get_float32_matmul_precision()),
    "medium": lambda lib: (
        lib.set_float32_matmul_precision("medium"),
        lib.get_float32_matmul_precision(),
        _all_precisions(lib),
    ),  # fmt: skip
    "high": lambda lib: (
        lib.set_float32_matmul_precision("high"),
        lib.get_float32_matmul_precision(),
        _all_precisions(lib),
        lib.backends.cuda.matmul.allow_tf32,
    ),  # fmt: skip
    "highest": lambda lib: (
        lib.set_float32_matmul_precision("highest"),
        lib.get_float32_matmul_precision(),
        _all_precisions(lib),
        lib.backends.cuda.matmul.allow_tf32,
    ),  # fmt: skip
    "mkldnn bf16": lambda lib: (
        setattr(lib.backends.mkldnn.matmul, "fp32_precision", "bf16"),
        lib.backends.mkldnn.matmul.fp32_precision,
    ),  # fmt: skip
    "mkldnn bf16 then legacy getter": lambda lib: (
        setattr(lib.backends.mkldnn.matmul, "fp32_precision", "bf16"),
        lib.get_float32_matmul_precision(),
    ),  # fmt: skip
    "cuda tf32 then legacy getter": lambda lib: (
        setattr(lib.backends.cuda.matmul, "fp32_precision", "tf32"),
        lib.get_float32_matmul_precision(),
    ),  # fmt: skip
    "cuda ieee then legacy getter": lambda lib: (
        setattr(lib.backends.cuda.matmul, "fp32_precision", "ieee"),
        lib.get_float32_matmul_precision(),
    ),  # fmt: skip
    "medium then allow_tf32": lambda lib: (
        lib.set_float32_matmul_precision("medium"),
        setattr(lib.backends.cuda.matmul, "allow_tf32", True),
        lib.get_float32_matmul_precision(),
    ),  # fmt: skip
    "allow_tf32 alone": lambda lib: (
        setattr(lib.backends.cuda.matmul, "allow_tf32", True),
        lib.get_float32_matmul_precision(),
        _all_precisions(lib),
    ),  # fmt: skip
    "allow_tf32 on and off": lambda lib: (
        setattr(lib.backends.cuda.matmul, "allow_tf32", True),
        setattr(lib.backends.cuda.matmul, "allow_tf32", False),
        lib.get_float32_matmul_precision(),
        _all_precisions(lib),
    ),  # fmt: skip
    "generic tf32": lambda lib: (setattr(lib.backends, "fp32_precision", "tf32"), _all_precisions(lib)),
    "generic tf32 then legacy getter": lambda lib: (
        setattr(lib.backends, "fp32_precision", "tf32"),
        lib.get_float32_matmul_precision(),
    ),  # fmt: skip
    "generic ieee": lambda lib: (
        setattr(lib.backends, "fp32_precision", "ieee"),
        lib.get_float32_matmul_precision(),
        lib.backends.cuda.matmul.allow_tf32,
    ),  # fmt: skip
    "mkldnn writes generic": lambda lib: (
        setattr(lib.backends.mkldnn, "fp32_precision", "bf16"),
        _all_precisions(lib),
    ),  # fmt: skip
    "cudnn allow_tf32 off": lambda lib: (
        setattr(lib.backends.cudnn, "allow_tf32", False),
        _all_precisions(lib),
        lib.backends.cudnn.allow_tf32,
    ),  # fmt: skip
    "cudnn tf32": lambda lib: (
        setattr(lib.backends.cudnn, "fp32_precision", "tf32"),
        lib.backends.cudnn.allow_tf32,
        _all_precisions(lib),
    ),  # fmt: skip
    "cuda bf16": lambda lib: setattr(lib.backends.cuda.matmul, "fp32_precision", "bf16"),
    "cudnn conv bf16": lambda lib: setattr(lib.backends.cudnn.conv, "fp32_precision", "bf16"),
    "generic bogus": lambda lib: setattr(lib.backends, "fp32_precision", "bogus"),
    "set none after tf32": lambda lib: (
        setattr(lib.backends.cuda.matmul, "fp32_precision", "tf32"),
        setattr(lib.backends.cuda.matmul, "fp32_precision", "none"),
        lib.get_float32_matmul_precision(),
    ),  # fmt: skip
    "precision of an int": lambda lib: lib.set_float32_matmul_precision(5),
    "no cuda.fp32_precision": lambda lib: lib.backends.cuda.fp32_precision,
}


@pytest.mark.parametrize("case", list(PRECISION_CASES))
def test_fp32_precision_as_torch(case, fresh_precision):
    agree(case, PRECISION_CASES[case], [], message=case != "no cuda.fp32_precision")


def _warnings_of(lib, function):
    """(the result or the exception's type, the warnings' (category, message)) of ``function(lib)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = function(lib)
        except Exception as error:  # noqa: BLE001 - compared with torch's
            result = type(error)
    # (torch's C++ warnings end with where they were raised: " (Triggered internally at ...)")
    return result, sorted(
        {(w.category.__name__, str(w.message).split(" (Triggered internally at ")[0]) for w in caught}
    )


@pytest.mark.parametrize("precision", ["bogus", "HIGH", "medium", "high"])
def test_bad_matmul_precision_warns_and_leaves_the_setting(precision, fresh_precision):
    def run(lib):
        lib.set_float32_matmul_precision("medium")
        lib.set_float32_matmul_precision(precision)
        return lib.get_float32_matmul_precision()

    assert _warnings_of(tritongrad, run) == _warnings_of(torch, run)


# ----------------------------------------------------------------------------------------------
# scripts4a #5: GradScaler's assertions, stages and errors
# ----------------------------------------------------------------------------------------------


def _model(lib):
    parameter = lib.nn.Parameter(lib.ones(2))
    return parameter, lib.optim.SGD([parameter], lr=0.1)


def _scaled_step(lib, loss_factor=1.0, steps=1, **scaler_kwargs):
    scaler = lib.amp.GradScaler("cpu", **scaler_kwargs)
    parameter, optimizer = _model(lib)
    scales = []
    for _ in range(steps):
        optimizer.zero_grad()
        scaler.scale((parameter * loss_factor).sum()).backward()
        scaler.step(optimizer)
        scaler.update()
        scales.append(scaler.get_scale())
    return parameter.detach(), scales, scaler.state_dict()


def _twice(first, second):
    def run(lib):
        scaler = lib.amp.GradScaler("cpu")
        parameter, optimizer = _model(lib)
        scaler.scale(parameter.sum()).backward()
        getattr(scaler, first)(optimizer)
        getattr(scaler, second)(optimizer)

    return run


GRAD_SCALER_CASES = {
    "step before scale": lambda lib: lib.amp.GradScaler("cpu").step(_model(lib)[1]),
    "update before scale": lambda lib: lib.amp.GradScaler("cpu").update(),
    "unscale_ before scale": lambda lib: lib.amp.GradScaler("cpu").unscale_(_model(lib)[1]),
    "scale of a float": lambda lib: lib.amp.GradScaler("cpu").scale(5.0),
    "scale of a list": lambda lib: lib.amp.GradScaler("cpu").scale([lib.ones(2), (lib.ones(1) * 3,)]),
    "scale of a dict is a map": lambda lib: type(lib.amp.GradScaler("cpu").scale({"a": lib.ones(2)})).__name__,
    "growth factor": lambda lib: lib.amp.GradScaler("cpu", growth_factor=0.5),
    "backoff factor": lambda lib: lib.amp.GradScaler("cpu", backoff_factor=1.5),
    "disabled skips the checks": lambda lib: lib.amp.GradScaler("cpu", growth_factor=0.5, enabled=False).get_scale(),
    "get_scale before scale": lambda lib: lib.amp.GradScaler("cpu", init_scale=3.3).get_scale(),
    "scale rounds to float32": lambda lib: (lib.amp.GradScaler("cpu", init_scale=3.3).scale(lib.ones(1)),),
    "one step": lambda lib: _scaled_step(lib),
    "inf backs off": lambda lib: _scaled_step(lib, loss_factor=float("inf"), steps=2),
    "growth": lambda lib: _scaled_step(lib, steps=3, growth_interval=2, init_scale=4.0),
    "step twice": _twice("step", "step"),
    "unscale_ twice": _twice("unscale_", "unscale_"),
    "unscale_ after step": _twice("step", "unscale_"),
    "unscale_ then step": _twice("unscale_", "step"),
    "update without step": lambda lib: _update_without_step(lib),
    "step without grads": lambda lib: _step_without_grads(lib),
    "closure": lambda lib: _closure(lib),
    "update with a float": lambda lib: _update_with(lib, 8.0),
    "update with a tensor": lambda lib: _update_with(lib, lib.tensor(8.0)),
    "update with a 1-element tensor": lambda lib: _update_with(lib, lib.tensor([8.0])),
    "update with an int": lambda lib: _update_with(lib, 8),
    "update with two elements": lambda lib: _update_with(lib, lib.tensor([8.0, 2.0])),
    "fp16 gradients": lambda lib: _fp16_gradients(lib),
    "factor accessors": lambda lib: _accessors(lib),
    "load_state_dict before scale": lambda lib: _load_before_scale(lib),
}


def _update_without_step(lib):
    scaler = lib.amp.GradScaler("cpu")
    scaler.scale(lib.ones(1))
    scaler.update()


def _step_without_grads(lib):
    scaler = lib.amp.GradScaler("cpu")
    scaler.scale(lib.ones(1))
    scaler.step(_model(lib)[1])


def _closure(lib):
    scaler = lib.amp.GradScaler("cpu")
    parameter, optimizer = _model(lib)
    scaler.scale(parameter.sum()).backward()
    scaler.step(optimizer, closure=lambda: None)


def _update_with(lib, new_scale):
    scaler = lib.amp.GradScaler("cpu")
    scaler.scale(lib.ones(1))
    scaler.update(new_scale)
    return scaler.get_scale()


def _fp16_gradients(lib):
    scaler = lib.amp.GradScaler("cpu")
    parameter = lib.nn.Parameter(lib.ones(2, dtype=lib.float16))
    optimizer = lib.optim.SGD([parameter], lr=0.1)
    parameter.grad = lib.ones(2, dtype=lib.float16)
    scaler.scale(lib.ones(1))
    scaler.step(optimizer)


def _accessors(lib):
    scaler = lib.amp.GradScaler("cpu", growth_factor=3.0, backoff_factor=0.25, growth_interval=7)
    scaler.set_growth_factor(4.0)
    return scaler.get_growth_factor(), scaler.get_backoff_factor(), scaler.get_growth_interval()


def _load_before_scale(lib):
    scaler = lib.amp.GradScaler("cpu")
    scaler.load_state_dict({"scale": 8.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 3,
                            "_growth_tracker": 1})  # fmt: skip
    first = scaler.state_dict()
    return first, scaler.scale(lib.ones(1))


@pytest.mark.parametrize("case", list(GRAD_SCALER_CASES))
def test_grad_scaler_as_torch(case):
    agree(case, GRAD_SCALER_CASES[case], [])


# ----------------------------------------------------------------------------------------------
# scripts4a #7: torch.compile's argument checks
# ----------------------------------------------------------------------------------------------

COMPILE_CASES = {
    "bad mode": lambda lib: lib.compile(lib.nn.Linear(2, 2), mode="bogus"),
    "bad mode with disable": lambda lib: lib.compile(lib.nn.Linear(2, 2), mode="bogus", disable=True),
    "int mode": lambda lib: lib.compile(len, mode=5),
    "mode and options": lambda lib: lib.compile(lib.nn.Linear(2, 2), mode="max-autotune", options={"a": 1}),
    "an int": lambda lib: lib.compile(5),
    "a str, disabled": lambda lib: lib.compile("abc", disable=True),
    "decorator of None": lambda lib: lib.compile()(None),
    "decorator with a bad mode": lambda lib: lib.compile(mode="bogus")(len),
    "eager ignores the mode": lambda lib: lib.compile(len, backend="eager", mode="bogus") is not None,
    "lite mode": lambda lib: type(lib.compile(lib.nn.Linear(2, 2), mode="lite")).__name__,
    "empty mode": lambda lib: type(lib.compile(lib.nn.Linear(2, 2), mode="")).__name__,
    "aot_eager": lambda lib: type(lib.compile(lib.nn.Linear(2, 2), backend="aot_eager")).__name__,
    "callable backend": lambda lib: lib.compile(len, backend=lambda gm, inputs: gm) is not None,
    "list_backends": lambda lib: lib._dynamo.list_backends(),
}


@pytest.mark.parametrize("case", list(COMPILE_CASES))
def test_compile_arguments_as_torch(case):
    agree(case, COMPILE_CASES[case], [])


@pytest.mark.parametrize("backend", ["bogus", "Inductor"])
def test_invalid_backend_is_dynamos_runtime_error(backend):
    """(agree cannot compare the type: torch's is torch._dynamo.exc.InvalidBackend, a RuntimeError.)"""
    with pytest.raises(torch._dynamo.exc.InvalidBackend) as theirs:
        torch.compile(torch.nn.Linear(2, 2), backend=backend)
    with pytest.raises(tritongrad._dynamo.exc.InvalidBackend) as mine:
        tritongrad.compile(tritongrad.nn.Linear(2, 2), backend=backend)
    assert str(mine.value) == str(theirs.value)
    assert isinstance(mine.value, RuntimeError) and isinstance(theirs.value, RuntimeError)


# ----------------------------------------------------------------------------------------------
# scripts4a #10: warnings torch gives (reentrant checkpoint, checkpoint_sequential, torch.cpu.amp)
# ----------------------------------------------------------------------------------------------


def _checkpoint_inputs_without_grad(lib):
    linear = lib.nn.Linear(2, 2)
    return lib.utils.checkpoint.checkpoint(linear, lib.ones(1, 2), use_reentrant=True).shape


def _checkpoint_inputs_with_grad(lib):
    return lib.utils.checkpoint.checkpoint(lib.sin, lib.ones(2, requires_grad=True), use_reentrant=True).shape


def _checkpoint_non_reentrant_without_grad(lib):
    return lib.utils.checkpoint.checkpoint(lib.sin, lib.ones(2), use_reentrant=False).shape


def _checkpoint_sequential_default(lib):
    model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU(), lib.nn.Linear(2, 1))
    return lib.utils.checkpoint.checkpoint_sequential(model, 2, lib.ones(1, 2, requires_grad=True)).shape


def _cpu_autocast(lib):
    with lib.cpu.amp.autocast():
        pass


WARNING_CASES = {
    "reentrant checkpoint, no input requires grad": _checkpoint_inputs_without_grad,
    "reentrant checkpoint, an input requires grad": _checkpoint_inputs_with_grad,
    "non-reentrant checkpoint, no input requires grad": _checkpoint_non_reentrant_without_grad,
    "checkpoint_sequential without use_reentrant": _checkpoint_sequential_default,
    "cpu.amp.autocast": _cpu_autocast,
    "cpu.amp.GradScaler": lambda lib: lib.cpu.amp.GradScaler().is_enabled(),
    "amp.GradScaler cpu": lambda lib: lib.amp.GradScaler("cpu").is_enabled(),
}


@pytest.mark.parametrize("case", list(WARNING_CASES))
def test_warnings_as_torch(case):
    function = WARNING_CASES[case]
    mine, theirs = _warnings_of(tritongrad, function), _warnings_of(torch, function)
    assert mine[1] == theirs[1], f"{case}: warnings {mine[1]}, torch {theirs[1]}"
    assert mine[0] == theirs[0], f"{case}: {mine[0]!r}, torch {theirs[0]!r}"
