"""Backend switches that mirror ``torch.backends`` (``tritongrad.backends.cuda.matmul.allow_tf32``).

Real training scripts set these flags without computing anything with them; each is accepted as
torch accepts it. Only ``cuda.matmul.allow_tf32`` (and ``cudnn.allow_tf32``, which tritongrad's
convolutions will read) changes what tritongrad computes: float32 matmuls on a GPU may then use
tf32 tensor cores. Like torch, they are exact (IEEE) unless the user opts in.
``set_float32_matmul_precision`` ("highest" / "high" / "medium") sets the same switch, and torch 2.13's
``fp32_precision`` attributes (``backends``, ``cuda.matmul``, ``cudnn`` and its ``conv``/``rnn``,
``mkldnn`` and its ``matmul``/``conv``/``rnn``) read and write the same state, with torch's checks.
"""

from __future__ import annotations

import contextlib
import sys
import types
import warnings
from types import SimpleNamespace

from tritongrad import runtime

__all__ = ["cuda", "cudnn", "mps", "mkldnn", "openmp", "set_float32_matmul_precision",
           "get_float32_matmul_precision"]  # fmt: skip


# Which of torch's attention kernels scaled_dot_product_attention may use: recorded and read back
# (tritongrad has one attention kernel of its own, which they do not choose).
_SDP_BACKENDS = ("flash", "mem_efficient", "math", "cudnn")
_sdp_enabled = dict.fromkeys(_SDP_BACKENDS, True)


def _sdp_flags(backend: str):
    return (lambda: _sdp_enabled[backend]), (lambda enabled: _sdp_enabled.__setitem__(backend, bool(enabled)))


@contextlib.contextmanager
def _sdp_choice(**enabled: bool):
    """Sets the backends' flags for a block, restoring them after (nn.attention.sdpa_kernel uses it)."""
    previous = dict(_sdp_enabled)
    _sdp_enabled.update({backend: bool(value) for backend, value in enabled.items()})
    try:
        yield
    finally:
        _sdp_enabled.update(previous)


def _sdp_kernel(enable_flash: bool = True, enable_math: bool = True, enable_mem_efficient: bool = True,
                enable_cudnn: bool = True):  # fmt: skip
    warnings.warn(
        "`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be removed. "
        "Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with updated signature.",
        FutureWarning,
        stacklevel=2,
    )
    return _sdp_choice(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient, cudnn=enable_cudnn)


# torch 2.13's two precision APIs share one state. The new one is a precision per (backend, op): "none"
# reads through to the backend's "all", then to the generic one. The legacy one is the matmul precision
# string plus the allow_tf32 booleans, which write the new one's flags as they change. Only
# cuda.matmul's and cudnn.conv's tf32 choice changes what tritongrad computes (tf32 tensor cores).
_GENERIC = ("generic", "all")
_fp32 = {
    _GENERIC: "none", ("cuda", "all"): "none", ("cuda", "matmul"): "none", ("cuda", "conv"): "tf32",
    ("cuda", "rnn"): "tf32", ("mkldnn", "all"): "none", ("mkldnn", "matmul"): "none", ("mkldnn", "conv"): "none",
    ("mkldnn", "rnn"): "none",
}  # fmt: skip
_SUPPORTED = {"generic": ("ieee", "tf32", "bf16", "none"), "cuda": ("ieee", "tf32", "none"),
              "mkldnn": ("ieee", "tf32", "bf16", "none")}  # fmt: skip
_matmul_precision = ["highest"]  # the legacy setting, a list so the functions below can rebind it
_MIXED_MATMUL = (
    "PyTorch is checking the matmul precision without a specific backend name,Current status indicate that you "
    "have used mix of the legacy and new APIs to set the matmul precision. We suggest only using the new API for "
    "matmul precision. See also: https://pytorch.org/docs/main/notes/cuda.html#tensorfloat-32-tf32-on-ampere-and-"
    "later-devices"
)


def _resolved(backend: str, op: str) -> str:
    """The precision (backend, op) runs at: its own, else its backend's, else the generic one; "none"
    where that one is not the backend's (a generic "bf16" read by cuda)."""
    for key in ((backend, op), (backend, "all"), _GENERIC):
        if _fp32.get(key, "none") != "none":
            return _fp32[key] if _fp32[key] in _SUPPORTED[backend] else "none"
    return "none"


def _set_fp32(backend: str, op: str, precision) -> None:
    if not isinstance(precision, str):
        raise TypeError(
            f"_set_fp32_precision_setter(): incompatible function arguments. Invoked with: '{backend}', '{op}', "
            f"{precision!r}"
        )
    if precision not in _SUPPORTED["generic"]:
        raise RuntimeError(f"Unknown precision: {precision}")
    if precision not in _SUPPORTED[backend]:
        raise RuntimeError(f"backend '{backend}' does not support precision '{precision}'")
    _fp32[(backend, op)] = precision
    _refresh_tf32()


class _Fp32Precision:
    """A class's ``fp32_precision`` attribute for the whole of a backend (cudnn's, mkldnn's, this module's):
    reading resolves ``read``'s precision, writing checks and sets ``written`` (mkldnn and the module
    write the generic one, as torch's)."""

    def __init__(self, read: tuple[str, str], written: tuple[str, str]) -> None:
        self._read, self._written = read, written

    def __get__(self, owner, owner_type=None) -> str:
        return _resolved(*self._read)

    def __set__(self, owner, precision: str) -> None:
        _set_fp32(*self._written, precision)


class _Precision:
    """One (backend, op)'s ``fp32_precision`` (torch.backends.mkldnn.matmul, cudnn.conv, ...): reading
    gives the precision it resolves to ("none" when nothing above it is set), writing checks the name."""

    def __init__(self, backend: str, op: str) -> None:
        self._key = (backend, op)

    @property
    def fp32_precision(self) -> str:
        return _resolved(*self._key)

    @fp32_precision.setter
    def fp32_precision(self, precision: str) -> None:
        _set_fp32(*self._key, precision)


class _CublasFlags(_Precision):
    """torch.backends.cuda.matmul: fp32_precision, the legacy allow_tf32 (which writes the matmul
    precision and the new flag, as torch's setAllowTF32CuBLAS does) and the reduced-precision flags."""

    def __init__(self) -> None:
        super().__init__("cuda", "matmul")
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    # ``allow_tf32`` is a plain attribute, read by every float32 matmul launch (a property would cost each
    # launch a call): _refresh_tf32 keeps it equal to the resolved precision, and writing it goes through
    # __setattr__. It never raises when read, where torch raises when the legacy and new settings disagree
    # (a mix of the two APIs): tritongrad follows the new one.
    def __setattr__(self, name: str, value) -> None:
        if name != "allow_tf32":
            return super().__setattr__(name, value)
        _matmul_precision[0] = "high" if value else "highest"
        _fp32[("cuda", "matmul")] = "tf32" if value else "ieee"
        _refresh_tf32()


class _CudnnFlags(SimpleNamespace):
    """torch.backends.cudnn's flags. tritongrad has no cuDNN: its kernels are its own, so
    ``benchmark`` and ``deterministic`` are recorded and read back but choose nothing. ``allow_tf32``
    and ``fp32_precision``/``conv``/``rnn`` share torch's precision state (``_fp32``)."""

    conv = _Precision("cuda", "conv")
    rnn = _Precision("cuda", "rnn")
    fp32_precision = _Fp32Precision(("cuda", "all"), ("cuda", "all"))

    # ``allow_tf32``: a plain attribute as cuda.matmul's (read by the convolutions; never raises, where
    # torch does when conv and rnn differ).
    def __setattr__(self, name: str, value) -> None:
        if name != "allow_tf32":
            return super().__setattr__(name, value)
        _fp32[("cuda", "conv")] = _fp32[("cuda", "rnn")] = "tf32" if value else "none"
        _refresh_tf32()

    def is_available(self) -> bool:
        """False: tritongrad's kernels are its own (no cuDNN or oneDNN)."""
        return False

    def version(self) -> None:
        return None


class _MkldnnFlags(SimpleNamespace):
    """torch.backends.mkldnn: tritongrad does not use oneDNN, so it is not available; its precision
    settings are recorded as torch records them (setting ``mkldnn.fp32_precision`` writes the generic
    one, as in torch)."""

    matmul = _Precision("mkldnn", "matmul")
    conv = _Precision("mkldnn", "conv")
    rnn = _Precision("mkldnn", "rnn")
    fp32_precision = _Fp32Precision(("mkldnn", "all"), _GENERIC)

    def is_available(self) -> bool:
        """False: tritongrad's kernels are its own (no cuDNN or oneDNN)."""
        return False


class _BackendsModule(types.ModuleType):
    """This module, with torch.backends' generic ``fp32_precision`` as a module attribute."""

    fp32_precision = _Fp32Precision(_GENERIC, _GENERIC)


sys.modules[__name__].__class__ = _BackendsModule

cuda = SimpleNamespace(
    matmul=_CublasFlags(),
    is_built=lambda: runtime.device_type() == "cuda",
    sdp_kernel=_sdp_kernel,
)  # fmt: skip
for _backend in _SDP_BACKENDS:
    _read, _write = _sdp_flags(_backend)
    setattr(cuda, f"{_backend}_sdp_enabled", _read)
    setattr(cuda, f"enable_{_backend}_sdp", _write)
cudnn = _CudnnFlags(enabled=True, benchmark=False, deterministic=False)
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
mkldnn = _MkldnnFlags(enabled=False)
openmp = SimpleNamespace(is_available=lambda: False)

# What each legacy matmul precision writes into the new flags (torch's setFloat32MatmulPrecision).
_PRECISION_FLAGS = {"highest": ("ieee", "ieee"), "high": ("tf32", "tf32"), "medium": ("tf32", "bf16")}


def set_float32_matmul_precision(precision: str) -> None:
    """torch's switch for float32 matmuls: "highest" keeps them exact, "high" and "medium" allow tf32
    (on oneDNN "medium" would allow bf16). Any other string only warns, as torch does."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in _PRECISION_FLAGS:
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the currentsetFloat32MatmulPrecision call "
            "has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _matmul_precision[0] = precision
    _fp32[("cuda", "matmul")], _fp32[("mkldnn", "matmul")] = _PRECISION_FLAGS[precision]
    _refresh_tf32()


def get_float32_matmul_precision() -> str:
    """The legacy setting; torch's RuntimeError where the new flags contradict it (a mix of the APIs)."""
    legacy = _matmul_precision[0]
    mkldnn_matmul = _resolved("mkldnn", "matmul")
    if (
        (_resolved("cuda", "matmul") == "tf32" and legacy == "highest")
        or (mkldnn_matmul == "bf16" and legacy != "medium")
        or (mkldnn_matmul == "tf32" and legacy != "high")
    ):
        raise RuntimeError(_MIXED_MATMUL)
    return legacy


def _refresh_tf32() -> None:
    """The two ``allow_tf32`` attributes the kernels read, from the precision state (after every write)."""
    object.__setattr__(cuda.matmul, "allow_tf32", _resolved("cuda", "matmul") == "tf32")
    object.__setattr__(cudnn, "allow_tf32", _resolved("cuda", "conv") == "tf32")


_refresh_tf32()
