"""Triton's CPU interpreter made to work with every numpy that tritongrad supports.

The interpreter holds each scalar of a kernel (an int argument, ``tl.program_id``,
``pid // tiles``) as a one-element numpy array, and turns it into a Python int
through ``tensor.__index__`` whenever a kernel uses it as a ``range`` bound. Up
to triton 3.6 that is ``int(array)``, which numpy 2.4 made a TypeError for
arrays with ndim > 0 ("only 0-dimensional arrays can be converted to Python
scalars"); so with triton 3.6 and numpy >= 2.4 every kernel that loops to a
runtime bound failed. triton 3.8 converts with ``int(array.squeeze())``.

Up to triton 3.8 the interpreter's ``tl.fma`` is ``x * y + z`` in the operands'
dtype: two roundings where a GPU's fma has one. The optimizer kernels fuse
their updates with ``tl.fma`` to round as torch does, and the difference shows
(an update like ``fma(-m, m, v)`` cancels, leaving the product's rounding error
as a relative error of 1e-4). triton 3.9 rounds once.

The interpreter's float32 -> bfloat16 cast (``x.to(tl.bfloat16)``, and every store of a
float32 value through a bfloat16 pointer) drops the low 16 bits: it truncates, where the GPU's
``cvt.rn.bf16.f32`` and torch round to nearest even. Every bfloat16 result then came out up to
one ulp low (toward zero) in the interpreter: reductions, matmul, layer_norm, gelu, losses.
Its bfloat16 -> float32 widening renormalises subnormals (below 2**-126) as if the exponent had
more range than float32's, so such values were read as other numbers (1.0e-39 as 4.4e-39).

The interpreter computes with numpy, which warns (RuntimeWarning: divide by zero, invalid value,
overflow) where a GPU computes IEEE results silently: ``0.0 / 0`` in a mean over an empty batch,
``log(0)`` in a loss, and in the masked-off lanes of a block, which the interpreter evaluates too
(``log`` of the padding). The warnings leaked to the user (torch is silent there), and under
``warnings.simplefilter("error")`` or ``pytest -W error`` they became an InterpreterError instead
of torch's NaN or inf.

The interpreter re-patches ``triton.language`` (every builtin of tl, tl.tensor and tl.math,
found with ``inspect.getmembers``) at each call of a ``@triton.jit`` device function, inside a
launch that patched the same modules already: for a small kernel that was two thirds of a
launch's time (1.4 of 2.1 s over 300 tiny adds, measured with cProfile), which is what made deep
autograd graphs and the test suite slow. Within a launch a device function whose ``tl`` modules
are patched skips the repeat; the launch's own patch and its undoing are unchanged.

The interpreter's ``tl.dot`` is ``np.matmul`` on the block's tiles (at most 128 on a side), and
numpy's OpenBLAS runs it on as many threads as there are cores: for tiles that small waking the
threads costs more than it saves, and when the cores are busy (two test workers, a data loader)
the threads wait for each other; a 128^3 float32 product took 6-40 ms instead of 0.3 ms.

``install`` runs numpy's BLAS on one thread (unless OPENBLAS_NUM_THREADS or OMP_NUM_THREADS
chooses), runs each interpreted launch with numpy's floating-point warnings off and makes the
interpreter convert scalars with ``.item()``, right for a
one-element array on every numpy and the answer the newer triton gives; where its
float32/float16 fma rounds twice, computes that fma in float64 (the product of two
float32 values is exact there) and rounds once to the operand dtype; and rounds
float32 -> bfloat16 casts to nearest even (and widens bfloat16 subnormals exactly).
Nothing then depends on which triton or numpy is installed. Only the interpreter is
touched: compiled GPU kernels never see it.
"""

from __future__ import annotations

import ctypes
import inspect
import os
import threading
from typing import Any

import numpy as np
import torch
import triton.language as tl
import triton.runtime.interpreter as interpreter

from tritongrad.kernels.common import complex_refusal

__all__ = ["install"]


def _scalar_index(self: Any) -> int:
    # handle.data is a one-element array for a scalar; .item() reads it on any numpy
    # (and raises for a block, as int() of it should).
    return int(self.handle.data.item())


def install() -> None:
    """The fixes above; idempotent."""
    _single_threaded_blas()
    _install_scalar_index()
    _install_quiet_float_errors()
    _install_patch_once_per_launch()
    if _fma_rounds_twice():
        _install_fma_rounding_once()
    _install_bfloat16_rounding()


# The OpenBLAS entry points numpy's wheels export: numpy 2's scipy-openblas64 prefixes its symbols,
# numpy 1's openblas64_ suffixes them, a system OpenBLAS has neither.
_OPENBLAS_SET_THREADS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                         "openblas_set_num_threads64_", "openblas_set_num_threads")  # fmt: skip


def _single_threaded_blas() -> None:
    """Runs numpy's BLAS (the interpreter's ``tl.dot`` is ``np.matmul``) on one thread, unless the
    user chose a count (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS). A kernel's dots are small (at
    most 128 x 128 x 128 tiles): OpenBLAS's threads cost more to wake than they save, and with the
    cores busy they wait for each other. Measured on the 2-core CI machine under load: a 128^3
    float32 np.matmul took 0.3 ms on one thread, 6-40 ms on two; a small CNN's training step
    4.3 s against 9-13 s. Linux only (the library is found in /proc/self/maps); elsewhere a no-op."""
    if "OPENBLAS_NUM_THREADS" in os.environ or "OMP_NUM_THREADS" in os.environ:
        return
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _OPENBLAS_SET_THREADS:
            set_threads = getattr(library, name, None)
            if set_threads is not None:
                set_threads(ctypes.c_int(1))
                break


def _install_scalar_index() -> None:
    """Wraps the interpreter's per-launch patching of ``tl.tensor`` so ``__index__`` uses ``.item()``.

    A triton without that hook (none of the supported ones) is left alone.
    """
    patch_lang_tensor = getattr(interpreter, "_patch_lang_tensor", None)
    if patch_lang_tensor is None or getattr(patch_lang_tensor, "scalar_index_installed", False):
        return

    def patch_with_scalar_index(tensor: Any, scope: Any) -> None:
        patch_lang_tensor(tensor, scope)
        # Set through the launch's patch scope, so it is undone with the interpreter's own patches.
        scope.set_attr(tensor, "__index__", _scalar_index)

    patch_with_scalar_index.scalar_index_installed = True
    interpreter._patch_lang_tensor = patch_with_scalar_index


def _install_quiet_float_errors() -> None:
    """Wraps a launch's run over the grid in ``np.errstate(all="ignore")`` (IEEE results, no warnings).

    The same wrapper turns the interpreter's KeyError for a tensor argument of a dtype Triton has
    no type for (complex64, complex128: a kernel of tritongrad's that has no complex form, reached by
    an op without a complex rule of its own) into torch's NotImplementedError naming the kernel's op
    and the dtype: the last line of tritongrad's refusal of complex tensors (dtypes.refuse_complex).
    """
    executor = interpreter.GridExecutor
    run_grid = executor.__call__
    if getattr(run_grid, "quiet_float_errors_installed", False):
        return

    def run_grid_quietly(self: Any, *args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            try:
                return run_grid(self, *args, **kwargs)
            except KeyError as error:
                raise _untyped_argument_error(self, args, kwargs) or error from None

    run_grid_quietly.quiet_float_errors_installed = True
    executor.__call__ = run_grid_quietly


def _untyped_argument_error(executor: Any, args: tuple, kwargs: dict) -> NotImplementedError | None:
    """torch's error for a launch given a complex tensor (None if no argument is one): the op is
    the kernel's OP constexpr where it has one (``"sin"`` for unary_kernel), else the kernel's name."""
    for arg in (*args, *kwargs.values()):
        if isinstance(arg, torch.Tensor) and arg.dtype.is_complex:
            kernel = getattr(getattr(executor, "fn", None), "__name__", "kernel")
            op = kwargs.get("OP")
            return complex_refusal(op if isinstance(op, str) else kernel, arg.dtype)
    return None


class _PatchedLanguages(threading.local):
    # ids of the language modules (tl, tl.core) the running launch has patched; None between launches
    during_launch: set[int] | None = None


_patched_languages = _PatchedLanguages()


class _NothingToUndo:
    def restore(self) -> None:
        return None


def _install_patch_once_per_launch() -> None:
    """Wraps ``_patch_lang`` so that, inside a launch, functions whose language modules the launch
    has patched do not patch them again (see the module docstring); outside one it patches as ever."""
    patch_lang = interpreter._patch_lang
    if getattr(patch_lang, "patch_once_installed", False):
        return
    languages = (tl, tl.core)

    languages_of: dict[Any, frozenset[int]] = {}  # function -> ids of the language modules it sees

    def patch_lang_once(fn: Any) -> Any:
        patched = _patched_languages.during_launch
        if patched is None:
            return patch_lang(fn)
        wanted = languages_of.get(fn)
        if wanted is None:
            seen = fn.__globals__.values()
            wanted = languages_of[fn] = frozenset(id(lang) for lang in languages if any(v is lang for v in seen))
        if wanted and wanted <= patched:
            return _NothingToUndo()
        scope = patch_lang(fn)
        patched |= wanted
        return scope

    patch_lang_once.patch_once_installed = True
    interpreter._patch_lang = patch_lang_once

    # A launch's own patch finds each package's builtins with inspect.getmembers; they never change,
    # so they are listed once (from the unpatched package) and re-patched from the list.
    patch_attr = interpreter._patch_attr
    builtins_of: dict[int, list[tuple[str, Any]]] = {}

    def patch_builtin_listed(package: Any, builder: Any, scope: Any) -> None:
        members = builtins_of.get(id(package))
        if members is None:
            members = [(name, m) for name, m in inspect.getmembers(package) if tl.core.is_builtin(m)]
            builtins_of[id(package)] = members
        for name, member in members:
            if getattr(package, name, None) is member:  # (not patched already: the original's test)
                patch_attr(package, name, member, builder, scope)

    interpreter._patch_builtin = patch_builtin_listed

    executor = interpreter.GridExecutor
    run_grid = executor.__call__

    def run_grid_tracking_patches(self: Any, *args: Any, **kwargs: Any) -> Any:
        outer = _patched_languages.during_launch
        _patched_languages.during_launch = set()
        try:
            return run_grid(self, *args, **kwargs)
        finally:
            _patched_languages.during_launch = outer

    run_grid_tracking_patches.quiet_float_errors_installed = getattr(run_grid, "quiet_float_errors_installed", False)
    executor.__call__ = run_grid_tracking_patches


def _fma_rounds_twice() -> bool:
    """Probes the interpreter: (1 + 2**-12)**2 - (1 + 2**-11) is 2**-24, but 0 when the
    float32 product is rounded first (the 2**-24 term is a tie, rounded to even)."""
    x = interpreter.TensorHandle(np.array([1 + 2**-12], dtype=np.float32), tl.float32)
    z = interpreter.TensorHandle(np.array([-(1 + 2**-11)], dtype=np.float32), tl.float32)
    return interpreter.interpreter_builder.create_fma(x, x, z).data[0] == 0


def _install_fma_rounding_once() -> None:
    builder_class = interpreter.InterpreterBuilder
    create_fma = builder_class.create_fma

    def create_fma_rounding_once(self: Any, x: Any, y: Any, z: Any) -> Any:
        dtype = z.data.dtype
        if dtype not in (np.float32, np.float16):
            return create_fma(self, x, y, z)  # float64 keeps the interpreter's own rounding
        # Exact product (24 + 24 bits < 53), one rounding of the sum to float64, then to the dtype:
        # the second rounding can differ from a true fma only when the float64 sum is a tie.
        wide = np.multiply(x.data, y.data, dtype=np.float64) + z.data.astype(np.float64)
        return interpreter.TensorHandle(wide.astype(dtype), z.dtype.scalar)

    builder_class.create_fma = create_fma_rounding_once


def float32_to_bfloat16_bits(values: np.ndarray) -> np.ndarray:
    """float32 values -> their bfloat16 bit patterns (uint16), rounded to nearest even: add half an
    ulp (minus one when the kept bit is even, so ties go to even) and keep the upper 16 bits; a
    NaN stays a quiet NaN of the same sign (the same rule as kernels/common.to_bfloat16_rne)."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32)
    with np.errstate(over="ignore"):
        rounded = ((bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)).astype(
            np.uint16
        )
    quiet_nan = ((bits >> np.uint32(16)) | np.uint32(0x40)).astype(np.uint16)
    return np.where(np.isnan(values), quiet_nan, rounded)


def bfloat16_bits_to_float32(bits: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns -> their float32 values, exactly: the upper half of a float32. (The
    interpreter's own widening renormalises subnormals as if float32's exponent were wider, so a
    bfloat16 below 2**-126 came out as another number: 1.0e-39 read as 4.4e-39.)"""
    return (np.asarray(bits).view(np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def _install_bfloat16_rounding() -> None:
    builder_class = interpreter.InterpreterBuilder
    cast_impl = builder_class.cast_impl
    if getattr(cast_impl, "bfloat16_rounding_installed", False):
        return

    def cast_rounding_bfloat16(self: Any, src: Any, dst_type: Any) -> Any:
        if src.dtype.scalar == tl.float32 and dst_type.scalar == tl.bfloat16:
            return interpreter.TensorHandle(float32_to_bfloat16_bits(src.data), tl.bfloat16)
        if src.dtype.scalar == tl.bfloat16 and dst_type.scalar == tl.float32:
            return interpreter.TensorHandle(bfloat16_bits_to_float32(src.data), tl.float32)
        return cast_impl(self, src, dst_type)

    cast_rounding_bfloat16.bfloat16_rounding_installed = True
    builder_class.cast_impl = cast_rounding_bfloat16
