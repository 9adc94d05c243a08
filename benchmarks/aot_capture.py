"""Recording the kernel launches that tritongrad's launchers make, as a GPU would make them.

The kernel report does not describe kernels by hand: it calls every public
launcher of ``kernels/`` on small representative inputs (the ``CASES`` below)
in Triton's interpreter and records each ``kernel[grid](...)`` call, with every
argument bound (tensors reduced to their dtype and address alignment, which is
all that compilation looks at). A new kernel reached by an existing launcher
is picked up by itself; a kernel no case reaches is listed by
``uncaptured_kernels`` so the gap shows in the report.

Launchers size blocks from ``tritongrad.runtime``, which answers differently
in the interpreter (huge blocks) and on a GPU (tuned ones). ``gpu_launch_policy``
makes the runtime answer as on a given GPU for the duration of a capture, so
the recorded block sizes and warp counts are the GPU's. The kernels themselves
are only run (in the interpreter) for cases whose launcher reads a result back
(a target-range check, say); elsewhere recording the launch is enough.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import math
import os
import pkgutil
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterator
from typing import Any

import torch

import tritongrad
from benchmarks import (
    bench_attention,
    bench_conv,
    bench_elementwise,
    bench_fused,
    bench_fused_ce,
    bench_gpt_step,
    bench_matmul,
    bench_norm,
    bench_pool,
    bench_reduction,
    bench_softmax,
    bench_training,
)
from benchmarks.aot import GPU_MODELS, GpuModel
from benchmarks.common import as_tritongrad
from benchmarks.roofline import Work
from tritongrad import runtime
from tritongrad.kernels.device_checks import deferred_checks

# triton is imported inside functions: tritongrad (imported above) must come first, since it
# switches on the interpreter before triton is loaded.

KERNELS_PACKAGE = "tritongrad.kernels"

# ----------------------------------------------------------------------------------------------
# Recording launches
# ----------------------------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """A kernel argument as JSON: what the JIT's specialisation and the compiler look at."""
    import triton.language as tl

    if isinstance(value, torch.Tensor):
        return {"tensor": str(value.dtype).removeprefix("torch."), "address_mod_16": value.data_ptr() % 16}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, tl.constexpr):
        return encode(value.value)
    if isinstance(value, tl.dtype):
        return {"tl_dtype": value.name}
    function = getattr(value, "fn", None)
    if callable(function) and hasattr(function, "__module__"):
        return {"jit": [function.__module__, function.__name__]}
    raise TypeError(f"cannot record a kernel argument of type {type(value).__name__}: {value!r}")


# Kernels whose results their launcher reads back on the host to decide what comes next (an index
# bounds check, a count that sizes the next output), and arange, whose output becomes the positions
# such a check reads: run even where a case's kernels are not, so a launcher never acts on an
# unwritten buffer. Each is cheap: one pass over the indices or the mask.
READBACK_KERNELS = frozenset(
    {"index_offsets_kernel", "target_scan_kernel", "mask_count_kernel", "exclusive_scan_kernel", "cdf_kernel",
     "_zero_count_kernel", "count_outside_kernel", "arange_kernel"}
)  # fmt: skip


def _feeds_a_readback(kernel: str, grid: Any) -> bool:
    """A READBACK_KERNELS launch, or a one-program fill: the initial value ("no bad index") of the
    small buffer such a kernel updates."""
    return kernel in READBACK_KERNELS or (kernel == "fill_kernel" and not callable(grid) and math.prod(grid) == 1)


@contextlib.contextmanager
def recording_launches(execute: bool) -> Iterator[list[dict[str, Any]]]:
    """Records every interpreted launch as {module, kernel, args, kwargs} (kwargs include num_warps).

    ``InterpretedFunction.run`` is the one entry every launch goes through
    (autotuned and heuristic kernels included, with their config applied), and
    the last place where launch options like ``num_warps`` are still present.
    With ``execute=False`` the kernels are not run: the interpreter would spend
    seconds on each GPU-sized grid, and a launch's arguments do not depend on
    earlier results unless the launcher reads one back (see ``Case.execute``).
    """
    from triton.runtime import interpreter

    launches: list[dict[str, Any]] = []
    function_class = interpreter.InterpretedFunction
    original = function_class.run

    def run(self, *args, grid, warmup, **kwargs):
        launch = {
            "module": self.fn.__module__,
            "kernel": self.fn.__name__,
            "args": [encode(a) for a in args],
            "kwargs": {k: encode(v) for k, v in kwargs.items()},
        }
        if callable(grid):
            # Evaluated later, with the GPU config's block sizes (see Capture.programs); the
            # launch's scalar arguments are all a grid function reads besides them.
            named = dict(zip(self.arg_names, args), **kwargs)
            scalars = {k: v for k, v in named.items() if isinstance(v, (bool, int, float))}
            launch["grid_function"] = functools.partial(_call_grid, grid, scalars)
        else:
            launch["grid"] = list(grid)
        launches.append(launch)
        if execute or _feeds_a_readback(self.fn.__name__, grid):
            return original(self, *args, grid=grid, warmup=warmup, **kwargs)
        return None

    function_class.run = run
    try:
        yield launches
    finally:
        function_class.run = original


def _call_grid(grid: Callable[[dict[str, Any]], tuple[int, ...]], scalars: dict[str, Any],
               constexprs: dict[str, Any]) -> list[int]:  # fmt: skip
    return list(grid({**scalars, **constexprs}))


def _clear_launch_policy_caches() -> None:
    """Forgets memoised launch decisions (e.g. a program count taken from the SM count)."""
    for name, module in list(sys.modules.items()):
        if not name.startswith(KERNELS_PACKAGE + "."):
            continue
        for value in vars(module).values():
            if hasattr(value, "cache_info") and hasattr(value, "cache_clear"):  # functools.cache
                value.cache_clear()


@contextlib.contextmanager
def gpu_launch_policy(model: GpuModel) -> Iterator[None]:
    """Launchers choose blocks, warps and splits as on ``model`` while kernels still run interpreted.

    tritongrad's runtime decides "interpreter or GPU" once, at import; its policy
    functions read that decision from ``runtime._DEVICE_TYPE``, so flipping it
    (and answering device-property queries for ``model``) switches every
    launcher to its GPU choices without touching the kernels' own import-time
    choices (autotune config lists), which the AOT compiler re-reads itself.
    """
    saved_device_type = runtime._DEVICE_TYPE
    saved_properties = torch.cuda.get_device_properties
    runtime._DEVICE_TYPE = "cuda"
    torch.cuda.get_device_properties = lambda device=None: model.device_properties()
    _clear_launch_policy_caches()
    try:
        yield
    finally:
        runtime._DEVICE_TYPE = saved_device_type
        torch.cuda.get_device_properties = saved_properties
        _clear_launch_policy_caches()


# ----------------------------------------------------------------------------------------------
# The cases: every public launcher on representative inputs
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    name: str  # "add fp32 1M", ...
    family: str  # the kernels/ module it exercises ("benchmark" / "example" for the suites below)
    run: Callable[[], Any]
    execute: bool  # run the kernels: the launcher reads a result back (e.g. a target-range check)
    suite: str = "kernels"  # "kernels" (a launcher each), "benchmarks" or "examples" (see SUITES)
    work: Work | None = None  # a benchmark case's least bytes and FLOPs (the roofline estimate)
    # Every tensor contiguous, 16-byte aligned, sizes multiples of 16: each kernel it launches must
    # issue 128-bit global accesses (checked by the report).
    aligned_elementwise: bool = False


# What each suite covers; the report runs them all unless told otherwise.
SUITES = {
    "kernels": "every public launcher of kernels/ on representative inputs",
    "benchmarks": "every tritongrad call of benchmarks/bench_*.py at the suite's full sizes",
    "examples": "one training step (and the evaluation) of each example at its default and GPU sizes",
}


CASES: dict[str, Case] = {}

# Elementwise sizes: 2**20 elements takes the runtime's large-tensor GPU config, 2**16 its small one.
LARGE = 1 << 20
SMALL = 1 << 16
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16, "fp64": torch.float64}


def case(
    name: str, family: str, execute: bool = False, **fields: Any
) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Registers a case (``fields``: Case's suite, work, aligned_elementwise)."""

    def register(function: Callable[[], Any]) -> Callable[[], Any]:
        if name in CASES:
            raise ValueError(f"duplicate kernel-report case {name!r}")
        CASES[name] = Case(name, family, function, execute, **fields)
        return function

    return register


def _kernels(family: str) -> Any:
    return importlib.import_module(f"{KERNELS_PACKAGE}.{family}")


def _randn(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape, dtype=dtype)


def _register_elementwise_cases() -> None:
    def binary(op, dtype, a_shape, b_shape=None, transpose=False):
        def run():
            a = _randn(*a_shape, dtype=dtype)
            b = _randn(*(b_shape or a_shape), dtype=dtype)
            if transpose:
                a = a.t()
                b = b.t()
            compute = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
            _kernels("elementwise").launch_binary(op, a, b, out_dtype=dtype, compute=compute)

        return run

    def unary(op, dtype, out_dtype=None):
        return lambda: _kernels("elementwise").launch_unary(op, _randn(LARGE, dtype=dtype), out_dtype=out_dtype)

    # Contiguous, sizes multiples of 16: held to 128-bit accesses (the transposed and broadcast cases are not).
    aligned = {"aligned_elementwise": True}
    for label, dtype in DTYPES.items():
        case(f"add {label} 1M", "elementwise", **aligned)(binary("add", dtype, (LARGE,)))
    case("add fp32 64K", "elementwise", **aligned)(binary("add", torch.float32, (SMALL,)))
    case("mul fp32 row-broadcast 1024x1024", "elementwise")(binary("mul", torch.float32, (1024, 1024), (1024,)))
    case("add fp32 transposed 1024x1024", "elementwise")(binary("add", torch.float32, (1024, 1024), transpose=True))
    case("div fp32 1M", "elementwise", **aligned)(binary("div", torch.float32, (LARGE,)))
    for op in ("relu", "exp", "tanh", "sigmoid"):
        case(f"{op} fp32 1M", "elementwise", **aligned)(unary(op, torch.float32))
    # The gamma family: float64 series inside, and zeta's loop bound read from the block's data.
    # Not held to 128-bit-only accesses: libdevice's float64 sin/log read coefficient tables from
    # global memory (the 64-bit load among them belongs to sin's large-argument reduction).
    case("lgamma fp32 1M", "elementwise")(unary("lgamma", torch.float32))
    case("digamma fp32 1M", "elementwise")(unary("polygamma", torch.float32))
    case("zeta fp32 1M", "elementwise")(binary("zeta", torch.float32, (LARGE,)))
    # torch.special's kernels (kernels/special_functions.py): float64 Chebyshev sums, rational fits,
    # and igamma's loops bounded by the block's slowest lane
    for op in ("erfcx", "log_ndtr", "ndtri", "i0", "i1e", "spherical_bessel_j0", "entr", "logit", "erfinv"):
        case(f"{op} fp32 1M", "elementwise")(unary(op, torch.float32))
    case("erfinv fp64 1M", "elementwise")(unary("erfinv", torch.float64))
    # the trigonometric ops: float32 reduces the angle in float64 first, float64 calls libdevice's
    for op in ("sin", "cos", "tan"):
        for label, dtype in (("fp32", torch.float32), ("fp64", torch.float64)):
            case(f"{op} {label} 1M", "elementwise")(unary(op, dtype))
    # pow: float64 takes integer powers by repeated squaring (a loop bounded by the block's largest one)
    for label, dtype in (("fp32", torch.float32), ("fp64", torch.float64)):
        case(f"pow {label} 1M", "elementwise")(binary("pow", dtype, (LARGE,)))
    for op in ("igamma", "igammac", "xlog1py"):
        case(f"{op} fp32 1M", "elementwise")(binary(op, torch.float32, (LARGE,)))
    case("relu bf16 1M", "elementwise", **aligned)(unary("relu", torch.bfloat16))
    case("copy fp32->fp16 1M", "elementwise", **aligned)(unary("copy", torch.float32, out_dtype=torch.float16))
    case("frexp fp32 1M", "elementwise", **aligned)(lambda: _kernels("float_bits").launch_frexp(_randn(LARGE)))

    @case("where fp32 1M", "elementwise")
    def _where():
        condition = _randn(LARGE) > 0
        _kernels("elementwise").launch_where(condition, _randn(LARGE), _randn(LARGE), out_dtype=torch.float32)


def _register_activation_cases() -> None:
    activation = lambda: _kernels("activation")  # noqa: E731

    def aligned_case(name: str):
        """Every case is contiguous with 2**20 elements: each is held to 128-bit accesses."""
        return case(name, "activation", aligned_elementwise=True)

    x, grad = (lambda: _randn(LARGE)), (lambda: _randn(LARGE))
    aligned_case("gelu fwd fp32 1M")(lambda: activation().launch_gelu_fwd(x()))
    aligned_case("gelu(tanh) fwd fp32 1M")(lambda: activation().launch_gelu_fwd(x(), "tanh"))
    aligned_case("gelu bwd fp32 1M")(lambda: activation().launch_gelu_bwd(grad(), x()))
    aligned_case("silu fwd fp32 1M")(lambda: activation().launch_silu_fwd(x()))
    aligned_case("silu bwd fp32 1M")(lambda: activation().launch_silu_bwd(grad(), x()))
    aligned_case("leaky_relu fwd fp32 1M")(lambda: activation().launch_leaky_relu_fwd(x()))
    aligned_case("leaky_relu bwd fp32 1M")(lambda: activation().launch_leaky_relu_bwd(grad(), x()))
    aligned_case("gelu fwd bf16 1M")(lambda: activation().launch_gelu_fwd(_randn(LARGE, dtype=torch.bfloat16)))


def _register_matmul_cases() -> None:
    matmul = lambda: _kernels("matmul")  # noqa: E731

    def product(dtype, allow_tf32=False, size=256):
        return lambda: matmul().launch_matmul(
            _randn(size, size, dtype=dtype), _randn(size, size, dtype=dtype), allow_tf32=allow_tf32
        )

    for label in ("fp16", "bf16", "fp32"):
        case(f"matmul {label} 256x256x256", "matmul")(product(DTYPES[label]))
    case("matmul fp32 tf32 256x256x256", "matmul")(product(torch.float32, allow_tf32=True))
    case("matmul fp64 64x64x64", "matmul")(product(torch.float64, size=64))

    # fp64 products of unaligned operands (an odd width) and the fp64 linear backward take the
    # unpipelined tile (_prune_matmul, _prune_linear_backward); complex128's four products too.
    @case("matmul fp64 unaligned 67x61x59", "matmul")
    def _fp64_unaligned():
        matmul().launch_matmul(_randn(67, 61, dtype=torch.float64), _randn(61, 59, dtype=torch.float64))

    @case("linear backward fp64 64x61->10", "matmul")
    def _fp64_linear_backward():
        x, weight = _randn(64, 61, dtype=torch.float64), _randn(10, 61, dtype=torch.float64)
        matmul().launch_linear_backward(_randn(64, 10, dtype=torch.float64), x, weight)

    @case("matmul fp16 batched 4x128x128x128", "matmul")
    def _batched():
        matmul().launch_matmul(_randn(4, 128, 128, dtype=torch.float16), _randn(4, 128, 128, dtype=torch.float16))

    @case("matmul int64 batched 2x64x64x64", "matmul")
    def _integer():
        a, b = (torch.randint(-99, 99, (2, 64, 64)) for _ in range(2))
        matmul().launch_integer_matmul(a, b)

    @case("linear+bias+relu fp16 256x512->256", "matmul")
    def _linear():
        weight, bias = _randn(256, 512, dtype=torch.float16), _randn(256, dtype=torch.float16)
        matmul().launch_linear(_randn(256, 512, dtype=torch.float16), weight, bias, activation="relu")

    @case("linear backward fp16 256x512->256", "matmul")
    def _linear_backward():
        x, weight = _randn(256, 512, dtype=torch.float16), _randn(256, 512, dtype=torch.float16)
        matmul().launch_linear_backward(_randn(256, 256, dtype=torch.float16), x, weight)

    @case("linear+relu backward fp32 256x784->512", "matmul")
    def _linear_relu_backward():
        x, weight = _randn(256, 784), _randn(512, 784)
        relu_out = _randn(256, 512)
        matmul().launch_linear_backward(_randn(256, 512), x, weight, relu_out=relu_out)

    # The digits MLP (784-512-512-10 at batch 256, and a 784-128 layer) and the tiny GPT (8192 tokens of
    # width 384: the 384->1536 MLP layer and the 384->65 vocabulary head), forward and backward, fp32
    # exact and tf32: skinny products whose tile count alone does not fill the GPU (split-K).
    def linear(rows, in_features, out_features, backward, allow_tf32=False, relu=False):
        def run():
            x, weight = _randn(rows, in_features), _randn(out_features, in_features)
            if not backward:
                matmul().launch_linear(x, weight, _randn(out_features), "relu" if relu else None, allow_tf32)
                return
            grad, relu_out = _randn(rows, out_features), _randn(rows, out_features) if relu else None
            matmul().launch_linear_backward(grad, x, weight, relu_out=relu_out, allow_tf32=allow_tf32)

        return run

    mlp_and_gpt = [(256, 784, 512, True), (256, 512, 10, False), (256, 784, 128, True), (8192, 384, 1536, False),
                   (8192, 384, 65, False)]  # fmt: skip
    for rows, in_features, out_features, relu in mlp_and_gpt:
        for tf32 in (False, True):
            precision = "fp32 tf32" if tf32 else "fp32"
            shape = f"{rows}x{in_features}->{out_features}"
            for backward in (False, True):
                name = f"linear{'+relu' if relu else ''}{' backward' if backward else ''} {precision} {shape}"
                if name != "linear+relu backward fp32 256x784->512":  # registered above
                    case(name, "matmul")(linear(rows, in_features, out_features, backward, tf32, relu))


def _register_matmul_tma_cases() -> None:
    """The persistent TMA kernel at the layouts launch_matmul sends it: row-major operands, a
    transposed A, and B stored transposed with a bias and ReLU (a linear layer). sm_90 only: TMA
    is Hopper's, so under the sm_80 policy the cases launch nothing."""
    tma = lambda: _kernels("matmul_tma")  # noqa: E731
    side = 4096

    def product(dtype, a_transposed=False, b_transposed=False, epilogue=False):
        def run():
            if torch.cuda.get_device_properties(None).major < 9:  # the capture's stand-in for the device
                return
            a = _empty(side, side, dtype=dtype)
            b = _empty(side, side, dtype=dtype)
            a, b = (a.t() if a_transposed else a), (b.t() if b_transposed else b)
            bias = _empty(side, dtype=dtype) if epilogue else None
            tma().launch_matmul_tma(a, b, bias=bias, activation="relu" if epilogue else None)

        return run

    shape = f"{side}x{side}x{side}"
    for label in ("fp16", "bf16"):
        case(f"matmul_tma {label} {shape}", "matmul_tma")(product(DTYPES[label]))
        case(f"matmul_tma {label} A transposed {shape}", "matmul_tma")(product(DTYPES[label], a_transposed=True))
        case(f"linear_tma+bias+relu {label} {shape}", "matmul_tma")(
            product(DTYPES[label], b_transposed=True, epilogue=True)
        )


def _register_conv_cases() -> None:
    conv = lambda: _kernels("conv")  # noqa: E731

    def layer(dtype, which, in_c, out_c, size, kernel, stride=1, groups=1, batch=8, allow_tf32=False, nhwc=False):
        """One convolution pass at a ResNet-50-like layer shape (N=8), padding kernel // 2."""

        def run():
            pad = kernel // 2
            out_size = (size + 2 * pad - kernel) // stride + 1
            layout = torch.channels_last if nhwc else torch.contiguous_format
            x = _randn(batch, in_c, size, size, dtype=dtype).contiguous(memory_format=layout)
            w = _randn(out_c, in_c // groups, kernel, kernel, dtype=dtype).contiguous(memory_format=layout)
            grad = _randn(batch, out_c, out_size, out_size, dtype=dtype).contiguous(memory_format=layout)
            geometry = ((stride, stride), (pad, pad), (1, 1), groups)
            if which == "forward":
                conv().launch_conv2d(x, w, _randn(out_c, dtype=dtype), *geometry, allow_tf32=allow_tf32)
            elif which == "input grad":
                conv().launch_conv2d_input_grad(grad, w, (size, size), *geometry, allow_tf32=allow_tf32)
            else:
                conv().launch_conv2d_weight_grad(grad, x, (kernel, kernel), *geometry, allow_tf32=allow_tf32)

        return run

    for label in ("fp16", "bf16"):
        for which in ("forward", "input grad", "weight grad"):
            case(f"conv2d {which} {label} 3x3 64->64 56x56", "conv")(layer(DTYPES[label], which, 64, 64, 56, 3))
        # Strided: the input gradient's per-phase tap skipping.
        case(f"conv2d input grad {label} 3x3/2 128->128 56x56", "conv")(
            layer(DTYPES[label], "input grad", 128, 128, 56, 3, stride=2)
        )
    for which in ("forward", "input grad", "weight grad"):
        case(f"conv2d {which} fp16 channels_last 3x3 64->64 56x56", "conv")(
            layer(torch.float16, which, 64, 64, 56, 3, nhwc=True)
        )
    # 3 input channels: the "flat" K order (each element decodes its own tap).
    case("conv2d forward fp16 7x7/2 3->64 224x224 stem", "conv")(layer(torch.float16, "forward", 3, 64, 224, 7, 2))
    case("conv2d forward fp32 3x3 64->64 56x56", "conv")(layer(torch.float32, "forward", 64, 64, 56, 3))
    case("conv2d forward fp32 tf32 3x3 64->64 56x56", "conv")(
        layer(torch.float32, "forward", 64, 64, 56, 3, allow_tf32=True)
    )
    case("conv2d weight grad fp32 3x3 64->64 56x56", "conv")(layer(torch.float32, "weight grad", 64, 64, 56, 3))
    case("conv2d forward fp64 3x3 32->32 14x14", "conv")(layer(torch.float64, "forward", 32, 32, 14, 3))


def _register_reduce_cases() -> None:
    reduce = lambda: _kernels("reduce")  # noqa: E731
    x = lambda dtype=torch.float32: _randn(1024, 1024, dtype=dtype)  # noqa: E731
    case("sum fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_sum(x(), [1], False))
    case("sum fp32 columns 1024x1024", "reduce")(lambda: reduce().launch_sum(x(), [0], False))
    case("sum fp32 all 1M", "reduce")(lambda: reduce().launch_sum(_randn(LARGE), [], False))
    case("sum bf16 rows 1024x1024", "reduce")(lambda: reduce().launch_sum(x(torch.bfloat16), [1], False))
    case("mean fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_mean(x(), [1], False))
    case("amax fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_amax(x(), [1], False))
    case("argmax fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_argmax(x(), 1, False))
    case("max+indices fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_max_with_indices(x(), 1, False))
    case("var fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_var(x(), [1], 1.0, False))
    case("norm(2) fp32 rows 1024x1024", "reduce")(lambda: reduce().launch_norm(x(), 2.0, [1], False))


def _register_softmax_cases() -> None:
    softmax = lambda: _kernels("softmax")  # noqa: E731
    for label in ("fp32", "fp16"):
        dtype = DTYPES[label]
        case(f"softmax fwd {label} 1024x1024", "softmax")(
            lambda dtype=dtype: softmax().launch_softmax_fwd(_randn(1024, 1024, dtype=dtype), 1)
        )
        case(f"softmax bwd {label} 1024x1024", "softmax")(
            lambda dtype=dtype: softmax().launch_softmax_bwd(
                _randn(1024, 1024, dtype=dtype), _randn(1024, 1024, dtype=dtype), 1
            )
        )
    case("log_softmax fwd fp32 1024x1024", "softmax")(
        lambda: softmax().launch_softmax_fwd(_randn(1024, 1024), 1, log=True)
    )
    case("softmax fwd fp32 long rows 4x131072", "softmax")(lambda: softmax().launch_softmax_fwd(_randn(4, 131072), 1))
    case("softmax fwd fp32 columns 1024x1024", "softmax")(lambda: softmax().launch_softmax_fwd(_randn(1024, 1024), 0))

    def both(shape, dtype=torch.float32, log=False):
        def run():
            out = softmax().launch_softmax_fwd(_randn(*shape, dtype=dtype), 1, log=log)
            softmax().launch_softmax_bwd(_randn(*shape, dtype=dtype), out, 1, log=log)

        return run

    # GPU rows of up to 64 KiB in registers take one block; longer ones are streamed (online).
    case("log_softmax fwd+bwd fp32 1024x1000 (16-byte aligned rows)", "softmax")(both((1024, 1000), log=True))
    case("softmax fwd+bwd fp32 4x8192 (one block)", "softmax")(both((4, 8192)))
    case("softmax fwd+bwd fp32 4x16384 (one block)", "softmax")(both((4, 16384)))
    case("log_softmax fwd+bwd bf16 4x16384 (one block)", "softmax")(both((4, 16384), torch.bfloat16, log=True))
    case("softmax fwd+bwd fp64 4x8192 (one block)", "softmax")(both((4, 8192), torch.float64))
    case("softmax fwd+bwd fp32 4x32768 (online)", "softmax")(both((4, 32768)))


def _register_pool_cases() -> None:
    pool = lambda: _kernels("pool")  # noqa: E731
    pad = lambda: _kernels("pad")  # noqa: E731
    resample = lambda: _kernels("resample")  # noqa: E731
    x = lambda dtype=torch.float32: _randn(32, 64, 56, 56, dtype=dtype)  # noqa: E731

    def pooling(kind, adaptive=False, dtype=torch.float32):
        def run():
            window_of = pool().PoolWindow
            if adaptive:
                window = window_of((7, 7), adaptive=True)
            else:
                window = window_of((28, 28), (3, 3), (2, 2), (1, 1), (1, 1))
            _, indices = pool().launch_pool2d_fwd(x(dtype), window, kind=kind)
            grad = _randn(32, 64, *window.output_size, dtype=dtype)
            pool().launch_pool2d_bwd(grad, indices, (56, 56), window, kind=kind)
            if kind == "max":
                pool().launch_pool2d_gather(x(dtype), indices)  # the backward's backward

        return run

    # ResNet's stem pooling (3x3/2, padding 1) and its global average pooling.
    case("max_pool2d fwd+bwd fp32 3x3/2 32x64x56x56", "pool")(pooling("max"))
    case("max_pool2d fwd+bwd bf16 3x3/2 32x64x56x56", "pool")(pooling("max", dtype=torch.bfloat16))
    case("avg_pool2d fwd+bwd fp16 3x3/2 32x64x56x56", "pool")(pooling("avg", dtype=torch.float16))
    case("adaptive_avg_pool2d fwd+bwd fp32 56x56->7x7", "pool")(pooling("avg", adaptive=True))

    def padding(mode):
        def run():
            pad().launch_pad_fwd(x(), [(1, 2), (2, 1)], mode, 0.0)
            pad().launch_pad_bwd(_randn(32, 64, 59, 59), (32, 64, 56, 56), [(1, 2), (2, 1)], mode)

        return run

    case("pad constant fwd+bwd fp32 32x64x56x56", "pad")(padding("constant"))
    case("pad reflect fwd+bwd fp32 32x64x56x56", "pad")(padding("reflect"))

    def resize(linear, dtype=torch.float32):
        def run():
            scales = (0.5, 0.5)
            resample().launch_resample2d_fwd(x(dtype), (112, 112), scales, linear=linear)
            resample().launch_resample2d_bwd(_randn(32, 64, 112, 112, dtype=dtype), (56, 56), scales, linear=linear)

        return run

    case("interpolate nearest x2 fwd+bwd fp32 32x64x56x56", "resample")(resize(False))
    case("interpolate bilinear x2 fwd+bwd fp16 32x64x56x56", "resample")(resize(True, torch.float16))

    def bicubic():
        scales = (0.5, 0.5)
        resample().launch_resample2d_fwd(x(), (112, 112), scales, linear=True, cubic=True)
        resample().launch_resample2d_bwd(_randn(32, 64, 112, 112), (56, 56), scales, linear=True, cubic=True)

    case("interpolate bicubic x2 fwd+bwd fp32 32x64x56x56", "resample")(bicubic)

    # uint8 images (torch's CPU resizes them in integer arithmetic): a torchvision-style 3-channel batch
    def uint8_resize(cubic):
        return lambda: resample().launch_resample2d_uint8(
            torch.randint(0, 256, (32, 3, 56, 56), dtype=torch.uint8), (112, 112), (None, None),
            align_corners=False, cubic=cubic,
        )  # fmt: skip

    case("interpolate bilinear uint8 x2 fwd 32x3x56x56", "resample")(uint8_resize(False))
    case("interpolate bicubic uint8 x2 fwd 32x3x56x56", "resample")(uint8_resize(True))

    def sampling(mode, padding_mode):
        def run():
            # the Spatial Transformer tutorial's sampler, at a batch of 64 28x28 images with 32 channels
            image, grid = _randn(64, 32, 28, 28), torch.rand(64, 28, 28, 2) * 2 - 1
            out = _kernels("grid_sample").launch_grid_sample2d_fwd(image, grid, mode, padding_mode, False)
            _kernels("grid_sample").launch_grid_sample2d_bwd(out, image, grid, mode, padding_mode, False)

        return run

    case("grid_sample bilinear zeros fwd+bwd fp32 64x32x28x28", "grid_sample")(sampling("bilinear", "zeros"))
    case("grid_sample bicubic reflection fwd+bwd fp32 64x32x28x28", "grid_sample")(sampling("bicubic", "reflection"))


def _register_norm_cases() -> None:
    batch_norm = lambda: _kernels("batch_norm")  # noqa: E731
    layer_norm = lambda: _kernels("layer_norm")  # noqa: E731

    def batch(shape, dtype):
        def run():
            channels = shape[1]
            x, grad = _randn(*shape, dtype=dtype), _randn(*shape, dtype=dtype)
            weight, bias = _randn(channels), _randn(channels)
            running_mean, running_var = torch.empty(channels), torch.empty(channels)
            _, mean, invstd = batch_norm().launch_batch_norm_fwd(
                x, weight, bias, running_mean, running_var, True, 0.1, 1e-5
            )
            batch_norm().launch_batch_norm_fwd(x, weight, bias, running_mean, running_var, False, 0.1, 1e-5)
            batch_norm().launch_batch_norm_bwd(grad, x, weight, mean, invstd, True, (True, True, True))
            # SyncBatchNorm: per-rank moments, their merge, and the backward's per-channel sums.
            moments = torch.empty(2, 3, channels)
            batch_norm().launch_channel_moments(x, moments[0])
            batch_norm().launch_channel_moments(x, moments[1])
            merged_mean, merged_invstd, count = batch_norm().launch_merge_moments(
                moments, running_mean, running_var, 0.1, 1e-5
            )
            sums = torch.empty(2, channels)
            batch_norm().launch_batch_norm_bwd(grad, x, None, merged_mean, merged_invstd, True, (False, True, True),
                                               sums_out=sums)  # fmt: skip
            batch_norm().launch_batch_norm_bwd(grad, x, weight, merged_mean, merged_invstd, True, (True, False, False),
                                               sums=(sums[0], sums[1]), count=count)  # fmt: skip

        return run

    case("batch_norm fwd+bwd fp32 8x64x28x28", "batch_norm")(batch((8, 64, 28, 28), torch.float32))
    case("batch_norm fwd+bwd bf16 8x64x28x28", "batch_norm")(batch((8, 64, 28, 28), torch.bfloat16))
    case("batch_norm fwd+bwd fp32 256x512", "batch_norm")(batch((256, 512), torch.float32))

    def rows(shape, dtype, rms=False, groups=0):
        def run():
            x, grad = _randn(*shape, dtype=dtype), _randn(*shape, dtype=dtype)
            row_dims = x.dim() - 2 if groups else 1
            view = x.view(shape[0], groups, shape[1] // groups, *shape[2:]) if groups else x
            grad_view = grad.view(view.shape) if groups else grad
            params = shape[1] if groups else shape[-1]
            weight, bias = _randn(params), None if rms else _randn(params)
            _, mean, rstd, var = layer_norm().launch_row_norm_fwd(
                view, row_dims, weight, bias, 1e-5, rms=rms, groups=groups, store_var=bool(groups)
            )
            layer_norm().launch_row_norm_bwd(grad_view, view, row_dims, weight, mean, rstd, (True, True, not rms),
                                             rms=rms, groups=groups)  # fmt: skip
            if groups:
                batch_norm().launch_channel_grad_sums(grad, x, mean, rstd, groups=groups)
                running_mean, running_var = torch.empty(shape[1]), torch.empty(shape[1])
                stats_shape = (shape[0], shape[1])
                batch_norm().launch_instance_running_stats(
                    torch.empty(stats_shape), torch.empty(stats_shape), running_mean, running_var, 64, 0.1
                )

        return run

    case("layer_norm fwd+bwd fp32 64x768", "layer_norm")(rows((64, 768), torch.float32))
    case("layer_norm fwd+bwd bf16 8x4096", "layer_norm")(rows((8, 4096), torch.bfloat16))
    case("layer_norm fwd+bwd fp32 2x8192 (looped)", "layer_norm")(rows((2, 8192), torch.float32))
    case("rms_norm fwd+bwd bf16 64x768", "layer_norm")(rows((64, 768), torch.bfloat16, rms=True))
    case("group_norm fwd+bwd fp32 4x32x8x8", "layer_norm")(rows((4, 32, 8, 8), torch.float32, groups=8))


def _register_loss_cases() -> None:
    loss = lambda: _kernels("loss_classes")  # noqa: E731
    elementwise = lambda: _kernels("loss_elementwise")  # noqa: E731
    # 64 rows take the same GPU row config as thousands would, and keep the interpreter run
    # of the executed cases (below) short.
    n, classes = 64, 1000
    target = lambda: torch.randint(0, classes, (n,))  # noqa: E731

    def cross_entropy(dtype):
        def run():
            logits, labels = _randn(n, classes, dtype=dtype), target()
            value, logsumexp = loss().launch_cross_entropy_fwd(logits, labels)
            loss().launch_cross_entropy_bwd(_randn(1, dtype=dtype).view(()), logits, labels, logsumexp)

        return run

    # Class-index losses check the targets' range in the forward and read the verdict back.
    case("cross_entropy fwd+bwd fp32 64x1000", "loss", execute=True)(cross_entropy(torch.float32))
    case("cross_entropy fwd+bwd bf16 64x1000", "loss", execute=True)(cross_entropy(torch.bfloat16))

    def cross_entropy_options(rows, classes, dtype=torch.float32, probabilities=False, reduction="mean"):
        def run():
            logits = _randn(rows, classes, dtype=dtype)
            labels = torch.rand(rows, classes, dtype=dtype) if probabilities else torch.randint(0, classes, (rows,))
            options = dict(weight=torch.rand(classes, dtype=dtype), label_smoothing=0.1, reduction=reduction)
            value, saved = loss().launch_cross_entropy_fwd(logits, labels, **options)
            grad = _randn(*value.shape, dtype=dtype) if reduction == "none" else None  # None: loss.backward()'s 1
            loss().launch_cross_entropy_bwd(grad, logits, labels, saved, **options)

        return run

    case("cross_entropy fwd+bwd weighted smoothed fp64 64x1000", "loss", execute=True)(
        cross_entropy_options(n, classes, torch.float64)
    )
    case("cross_entropy fwd+bwd probabilities none fp32 64x1000", "loss")(
        cross_entropy_options(n, classes, probabilities=True, reduction="none")
    )
    # More classes than a GPU block: rows streamed in 4096-class blocks, still 1 + 1 launches.
    case("cross_entropy fwd+bwd weighted smoothed fp32 8x32768", "loss", execute=True)(cross_entropy_options(8, 32768))

    @case("nll_loss fwd+bwd fp32 64x1000", "loss", execute=True)
    def _nll():
        log_probs, labels = _randn(n, classes), target()
        loss().launch_nll_loss_fwd(log_probs, labels)
        loss().launch_nll_loss_bwd(_randn(1).view(()), log_probs, labels)

    # Every row of the elementwise loss table, forward and backward (probabilities in [0, 1] suit them all).
    def elementwise_loss(row):
        def run():
            x, y = torch.rand(LARGE), torch.rand(LARGE)
            options = {"parameter": 0.5, "reduction": "sum"}
            elementwise().launch_elementwise_loss_fwd(row.name, x, y, **options)
            needs = (True, row.target_grad)
            elementwise().launch_elementwise_loss_bwd(row.name, _randn(1).view(()), x, y, needs=needs, **options)

        return run

    for row in elementwise().LOSSES.values():
        case(f"{row.name} fwd+bwd fp32 1M", "loss")(elementwise_loss(row))

    @case("mse_loss one-program fwd with unit gradient fp32 256x10", "loss")
    def _mse_small():
        x, y = _randn(256, 10), _randn(256, 10)
        elementwise().launch_elementwise_loss_fwd("mse_loss", x, y, unit_grads=(True, False))


def _register_ctc_loss_cases() -> None:
    ctc = lambda: _kernels("ctc_loss")  # noqa: E731

    def ctc_loss(steps, batch, classes, length, dtype=torch.float32, concatenated=False, reduction="mean"):
        def run():
            log_probs = _randn(steps, batch, classes, dtype=dtype)
            targets = torch.randint(1, classes, (batch, length))
            targets = targets.view(-1) if concatenated else targets
            options = dict(reduction=reduction)
            # Lengths as ints: checked on the host, nothing to read back.
            loss, saved = ctc().launch_ctc_loss_fwd(log_probs, targets, [steps] * batch, [length] * batch, **options)
            grad = _randn(*loss.shape, dtype=dtype) if reduction == "none" else None
            ctc().launch_ctc_loss_bwd(grad, log_probs, targets, saved, **options)

        return run

    # One program per batch element holds 2 min(S, T) + 1 lanes in registers: 128 lanes here.
    case("ctc_loss fwd+bwd fp32 T=100 N=16 C=32 S=40", "ctc_loss")(ctc_loss(100, 16, 32, 40))
    case("ctc_loss fwd+bwd fp64 T=100 N=16 C=32 S=40", "ctc_loss")(ctc_loss(100, 16, 32, 40, torch.float64))
    case("ctc_loss fwd+bwd concatenated none fp32 T=100 N=16 C=32 S=40", "ctc_loss")(
        ctc_loss(100, 16, 32, 40, concatenated=True, reduction="none")
    )
    # Long targets (512 lanes, 8 warps) and a class row wider than the gradient's 1024-class tile.
    case("ctc_loss fwd+bwd sum fp32 T=400 N=4 C=2000 S=200", "ctc_loss")(ctc_loss(400, 4, 2000, 200, reduction="sum"))
    case("ctc_loss fwd+bwd fp64 T=400 N=4 C=2000 S=200", "ctc_loss")(ctc_loss(400, 4, 2000, 200, torch.float64))
    # 2048 lanes over 16 warps, the widest row the launcher plans for without spilling.
    case("ctc_loss fwd+bwd fp32 T=1000 N=2 C=64 S=600", "ctc_loss")(ctc_loss(1000, 2, 64, 600))
    case("ctc_loss fwd+bwd fp64 T=500 N=2 C=64 S=400", "ctc_loss")(ctc_loss(500, 2, 64, 400, torch.float64))


def _register_optim_cases() -> None:
    optim = lambda: _kernels("optim")  # noqa: E731
    shapes = [(1024, 1024), (1024,), (10, 1024)]  # a weight, its bias, a small odd one

    def group(dtype=torch.float32):
        return [_randn(*s, dtype=dtype) for s in shapes]

    @case("sgd momentum step fp32", "optim")
    def _sgd():
        params = group()
        optim().launch_sgd_step(
            params, group(), group(), lr=0.1, momentum=0.9, dampening=0.0, weight_decay=1e-4,
            nesterov=False, maximize=False, first_step=False,
        )  # fmt: skip

    def adam(dtype, decoupled, capturable=False):
        def run():
            states = [torch.rand(*s, dtype=dtype) for s in shapes]
            step = [torch.empty((), dtype=torch.float32) for _ in shapes] if capturable else 3
            optim().launch_adam_step(
                group(dtype), group(dtype), group(dtype), states, None, step=step, lr=1e-3, beta1=0.9,
                beta2=0.999, eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False,
                decoupled_weight_decay=decoupled,
            )  # fmt: skip

        return run

    case("adam step fp32", "optim")(adam(torch.float32, decoupled=False))
    case("adamw step fp32", "optim")(adam(torch.float32, decoupled=True))
    case("adamw step bf16", "optim")(adam(torch.bfloat16, decoupled=True))
    case("adamw capturable step fp32", "optim")(adam(torch.float32, decoupled=True, capturable=True))
    case("zero_ fp32", "optim")(lambda: optim().launch_zero_(group()))

    def clip_grad_norm(dtype, norm_type):
        def run():
            grads = group(dtype)
            total = optim().launch_total_norm(grads, norm_type, dtype=dtype)
            optim().launch_clip_by_total_norm_(grads, 1.0, total)

        return run

    case("clip_grad_norm_ fp32", "optim")(clip_grad_norm(torch.float32, 2.0))
    case("clip_grad_norm_ inf bf16", "optim")(clip_grad_norm(torch.bfloat16, float("inf")))
    case("clip_grad_norm_ p=3 fp64", "optim")(clip_grad_norm(torch.float64, 3.0))
    case("clip_grad_value_ fp32", "optim")(lambda: optim().launch_clamp_(group(), -0.5, 0.5))

    @case("rmsprop centered momentum step fp32", "optim")
    def _rmsprop():
        square_avgs = [torch.rand(*s) for s in shapes]
        optim().launch_rmsprop_step(
            group(), group(), square_avgs, group(), group(), lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=1e-4,
            momentum=0.9, centered=True, maximize=False,
        )  # fmt: skip

    @case("adagrad step fp32", "optim")
    def _adagrad():
        sums = [torch.rand(*s) for s in shapes]
        optim().launch_adagrad_step(
            group(), group(), sums, step=3, lr=1e-2, lr_decay=1e-3, weight_decay=1e-4, eps=1e-10, maximize=False
        )

    @case("adadelta step bf16", "optim")
    def _adadelta():
        square_avgs, acc_deltas = ([torch.rand(*s, dtype=torch.bfloat16) for s in shapes] for _ in range(2))
        optim().launch_adadelta_step(
            group(torch.bfloat16), group(torch.bfloat16), square_avgs, acc_deltas, lr=1.0, rho=0.9, eps=1e-6,
            weight_decay=1e-4, maximize=False,
        )  # fmt: skip

    @case("adamax step fp64", "optim")
    def _adamax():
        exp_infs = [torch.rand(*s, dtype=torch.float64) for s in shapes]
        optim().launch_adamax_step(
            group(torch.float64), group(torch.float64), group(torch.float64), exp_infs, step=3, lr=2e-3,
            beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-4, maximize=False,
        )  # fmt: skip

    @case("nadam step fp32", "optim")
    def _nadam():
        exp_avg_sqs = [torch.rand(*s) for s in shapes]
        optim().launch_nadam_step(
            group(), group(), group(), exp_avg_sqs, step=3, mu=0.85, mu_next=0.86, mu_product=0.6, lr=2e-3,
            beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, decoupled_weight_decay=True, maximize=False,
        )  # fmt: skip

    @case("rprop step fp32", "optim")
    def _rprop():
        step_sizes = [torch.rand(*s) for s in shapes]
        optim().launch_rprop_step(
            group(), group(), group(), step_sizes, etaminus=0.5, etaplus=1.2, step_size_min=1e-6,
            step_size_max=50.0, maximize=False,
        )  # fmt: skip

    @case("asgd averaging step fp32", "optim")
    def _asgd():
        optim().launch_asgd_step(
            group(), group(), group(), eta=0.01, mu=0.5, lambd=1e-4, weight_decay=1e-4, maximize=False
        )

    @case("radam rectified step fp32", "optim")
    def _radam():
        exp_avg_sqs = [torch.rand(*s) for s in shapes]
        optim().launch_radam_step(
            group(), group(), group(), exp_avg_sqs, step=10, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
            weight_decay=1e-4, decoupled_weight_decay=False, maximize=False,
        )  # fmt: skip


def _register_random_cases() -> None:
    random = lambda: _kernels("random")  # noqa: E731
    empty = lambda dtype=torch.float32: torch.empty(LARGE, dtype=dtype)  # noqa: E731
    case("uniform_ fp32 1M", "random")(lambda: random().launch_uniform_(empty(), 0.0, 1.0, 1234, 0))
    case("normal_ fp32 1M", "random")(lambda: random().launch_normal_(empty(), 0.0, 1.0, 1234, 0))
    case("randint_ int64 1M", "random")(lambda: random().launch_randint_(empty(torch.int64), 0, 100, 1234, 0))
    case("bernoulli_ fp32 1M", "random")(lambda: random().launch_bernoulli_(empty(), 0.5, 1234, 0))
    case("dropout fwd fp32 1M", "random")(lambda: random().launch_dropout_fwd(_randn(LARGE), 0.1, 1234, 0))
    case("dropout bwd fp32 1M", "random")(lambda: random().launch_dropout_bwd(_randn(LARGE), 0.1, 1234, 0))
    case("uniform_ fp64 1M", "random")(lambda: random().launch_uniform_(empty(torch.float64), 0.0, 1.0, 1234, 0))
    case("normal_ fp64 1M", "random")(lambda: random().launch_normal_(empty(torch.float64), 0.0, 1.0, 1234, 0))
    case("exponential_ fp32 1M", "random")(lambda: random().launch_exponential_(empty(), 1.0, 1234, 0))
    case("count_outside fp32 1M", "random")(lambda: random().launch_count_outside(_randn(LARGE), 0.0, 1.0))
    # The gamma family: rejection / search loops (float64 inside for Poisson, binomial and the gradient).
    gamma = lambda: _kernels("random_gamma")  # noqa: E731
    positive = lambda dtype=torch.float32: torch.rand(LARGE, dtype=dtype) * 10 + 0.1  # noqa: E731
    case("standard_gamma fp32 1M", "random_gamma")(lambda: gamma().launch_standard_gamma(positive(), 1234, 0))
    case("standard_gamma fp64 1M", "random_gamma")(
        lambda: gamma().launch_standard_gamma(positive(torch.float64), 1234, 0)
    )
    case("poisson fp32 1M", "random_gamma")(lambda: gamma().launch_poisson(positive(), 1234, 0))
    case("binomial fp32 1M", "random_gamma")(
        lambda: gamma().launch_binomial(positive() * 10, torch.rand(LARGE), 1234, 0)
    )
    case("standard_gamma_grad fp32 1M", "random_gamma")(
        lambda: gamma().launch_standard_gamma_grad(positive(), positive())
    )
    sampling = lambda: _kernels("sampling")  # noqa: E731
    case("randperm 1M", "sampling")(lambda: sampling().launch_randperm(empty(torch.int64), 1234, 0))
    weights = lambda: torch.rand(64, 1000)  # noqa: E731
    case("multinomial 64x1000 with replacement", "sampling")(
        lambda: sampling().launch_multinomial(weights(), 16, True, 1234, 0, *_row_stats(sampling(), weights()))
    )
    case("multinomial 64x1000 without replacement", "sampling")(
        lambda: sampling().launch_multinomial(weights(), 16, False, 1234, 0)
    )


def _row_stats(sampling: Any, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    stats, cdf = sampling.multinomial_row_stats(weights, with_cdf=True)
    return cdf, stats


def _register_creation_cases() -> None:
    creation = lambda: _kernels("creation")  # noqa: E731
    case("fill_ fp32 1M", "creation")(lambda: creation().launch_fill_(torch.empty(LARGE), 0.0))
    case("arange fp32 1M", "creation")(
        lambda: creation().launch_arange(0.0, float(LARGE), 1.0, dtype=torch.float32, device="cpu")
    )
    case("linspace fp32 1M", "creation")(
        lambda: creation().launch_linspace(0.0, 1.0, LARGE, dtype=torch.float32, device="cpu")
    )
    case("eye fp32 1024x1024", "creation")(lambda: creation().launch_eye(1024, 1024, dtype=torch.float32, device="cpu"))


def _register_indexing_cases() -> None:
    indexing = lambda: _kernels("indexing")  # noqa: E731
    rows = lambda: torch.randint(0, 1000, (512,))  # noqa: E731
    # executed: the bounds check and the mask counts are read back between launches
    case("gather_rows fp32 1000x1024[512]", "indexing", execute=True)(
        lambda: indexing().launch_gather_rows(_randn(1000, 1024), rows())
    )
    case("scatter_add_rows fp32 512x1024->1000", "indexing", execute=True)(
        lambda: indexing().launch_scatter_add_rows(_randn(512, 1024), rows(), 1000)
    )
    mask = lambda: torch.rand(256, 1024) > 0.5  # noqa: E731
    case("nonzero 256x1024", "indexing", execute=True)(lambda: indexing().launch_nonzero(mask()))
    case("masked_select fp32 256x1024", "indexing", execute=True)(
        lambda: indexing().launch_masked_select(_randn(256, 1024), mask())
    )
    case("masked_scatter fp32 256x1024", "indexing", execute=True)(
        lambda: indexing().launch_masked_scatter(mask(), _randn(256 * 1024), _randn(256, 1024), torch.empty(256, 1024))
    )

    def scatter_multiply():
        # Through the op, which builds the offsets plan; executed, as the index bounds are checked.
        target = tritongrad.rand(256, 256) + 0.5
        index = tritongrad.randint(0, 256, (256, 256))
        target.scatter_(0, index, tritongrad.rand(256, 256) + 0.5, reduce="multiply")

    case("scatter_ reduce=multiply fp32 256x256", "indexing", execute=True)(scatter_multiply)


def _register_ordering_cases() -> None:
    scan, sort, shape = (lambda name=name: _kernels(name) for name in ("scan", "sort", "shape"))
    rows = lambda: _randn(1024, 1024)  # noqa: E731
    case("cumsum fp32 rows 1024x1024", "ordering")(lambda: scan().launch_scan(rows(), 1, "sum"))
    case("cummax+indices fp32 rows 1024x1024", "ordering")(
        lambda: scan().launch_scan(rows(), 1, "max", with_indices=True)
    )
    case("cumprod backward fp32 rows 1024x1024", "ordering")(
        lambda: scan().launch_affine_reverse_scan(rows(), rows(), 1)
    )
    case("sort fp32 rows 1024x1024", "ordering")(lambda: sort().launch_sort(rows(), 1))
    # A row longer than one register tile: sorted tiles, then merge passes.
    case("sort fp32 rows 64x8192 (merge)", "ordering")(lambda: sort().launch_sort(_randn(64, 8192), 1))
    case("gather along dim fp32 1024x1024", "ordering")(
        lambda: sort().launch_gather_along_dim(rows(), torch.randint(0, 1024, (1024, 1024)), 1)
    )
    case("flip+roll fp32 1024x1024", "ordering")(
        lambda: shape().launch_rearrange(rows(), flips=(True, False), shifts=(0, 3))
    )


def _register_counting_cases() -> None:
    histogram = lambda: _kernels("histogram")  # noqa: E731
    case("histc fp32 1M into 100 bins", "counting")(lambda: histogram().launch_histogram(_randn(LARGE), 100, -3.0, 3.0))
    case("histogram fp32 1M, 64 searched edges", "counting")(
        lambda: histogram().launch_histogram(_randn(LARGE), 64, -3.0, 3.0, edges=torch.linspace(-3.0, 3.0, 65))
    )
    case("bincount int64 1M into 1000", "counting")(
        lambda: histogram().launch_bincount(torch.randint(0, 1000, (LARGE,)), 1000)
    )


def _register_attention_cases() -> None:
    attention = lambda: _kernels("attention")  # noqa: E731
    mask = lambda: torch.rand(2048, 2048) > 0.1  # noqa: E731
    dropout = {"dropout_p": 0.1, "seed": 1, "offset": 0}

    def forward(dtype, d, causal=False, masked=False, **options):
        q, k, v = (torch.empty(1, 4, 2048, d, dtype=dtype) for _ in range(3))
        return lambda: attention().launch_attention_fwd(q, k, v, mask() if masked else None, causal=causal, **options)

    def backward(dtype, d, causal=False, masked=False, **options):
        # (grad_out, q, k, v, out, lse): the kernels are compiled, not run, so values are never read.
        q, k, v = (torch.empty(1, 4, 2048, d, dtype=dtype) for _ in range(3))
        lse = torch.empty(1, 4, 2048, dtype=torch.float64 if dtype == torch.float64 else torch.float32)
        return lambda: attention().launch_attention_bwd(
            q, q, k, v, q, lse, mask() if masked else None, causal=causal, **options
        )

    for label, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
        for d in (64, 128):
            case(f"attention fwd {label} d{d} causal 4x2048", "attention")(forward(dtype, d, causal=True))
            case(f"attention bwd {label} d{d} causal 4x2048", "attention")(backward(dtype, d, causal=True))
    for label, dtype in (("fp32", torch.float32), ("fp64", torch.float64)):
        case(f"attention fwd {label} d64 4x2048", "attention")(forward(dtype, 64))
        case(f"attention bwd {label} d64 4x2048", "attention")(backward(dtype, 64))
    # A mask tile and per-score Philox state take registers: these launch smaller tiles.
    for label, dtype, d in (("fp16", torch.float16, 64), ("bf16", torch.bfloat16, 128), ("fp32", torch.float32, 64),
                            ("fp64", torch.float64, 64)):  # fmt: skip
        case(f"attention fwd {label} d{d} bool mask + dropout 4x2048", "attention")(
            forward(dtype, d, masked=True, **dropout)
        )
        case(f"attention bwd {label} d{d} bool mask + dropout 4x2048", "attention")(
            backward(dtype, d, masked=True, **dropout)
        )
    case("attention dropout keep mask 4x2048x2048", "attention")(
        lambda: attention().launch_attention_dropout_keep(1, 4, 2048, 2048, 0.1, 1, 0, torch.device("cpu"))
    )


def _register_embedding_cases() -> None:
    embedding = lambda: _kernels("embedding")  # noqa: E731
    # embedding_bag's one-program scan of its indices and offsets (the bounds and order checks)
    case("embedding_bag check 4096 indices 64 bags", "embedding")(
        lambda: embedding().launch_bag_check(torch.randint(0, 1000, (4096,)), torch.arange(0, 4096, 64), 1000)
    )
    fused = lambda: _kernels("fused_linear_ce")  # noqa: E731
    for label, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        case(f"embedding backward {label} 4096x768 -> 32000 rows", "embedding")(
            lambda dtype=dtype: embedding().launch_embedding_backward(
                _randn(4096, 768, dtype=dtype), torch.randint(0, 32000, (4096,)), 32000
            )
        )
        # executed: the target check reads back; small, since the interpreter runs it
        case(f"linear cross-entropy {label} 64x64 V=320", "fused_linear_ce", execute=True)(
            lambda dtype=dtype: fused().launch_linear_cross_entropy(
                _randn(64, 64, dtype=dtype),
                _randn(320, 64, dtype=dtype),
                torch.randint(0, 320, (64,)),
                _randn(320, dtype=dtype),
                needs=(True, True, True),
            )
        )


def _register_rnn_cases() -> None:
    rnn = lambda: _kernels("rnn")  # noqa: E731
    for label, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp64", torch.float64)):
        # an LSTM step at char-RNN size (batch 64, hidden 512): the gate arithmetic both ways
        def step(dtype=dtype):
            gi, gh, c = _randn(64, 2048, dtype=dtype), _randn(64, 2048, dtype=dtype), _randn(64, 512, dtype=dtype)
            h_new, c_new, gates = rnn().launch_lstm_cell_fwd(gi, gh, c)
            rnn().launch_lstm_cell_bwd(h_new, c_new, gates, c, c_new, copies=2)

        case(f"lstm cell gates fwd+bwd {label} 64x512", "rnn")(step)


# Each binary op of kernels/complex.py with the operand kinds it is called with (c: complex, r: real).
_COMPLEX_BINARY_OPERANDS = {
    "add": "cc", "sub": "cc", "mul": "cc", "div": "cc", "polar": "rr", "complex": "rr",
    "angle_backward": "rc", "polar_backward_abs": "cr", "polar_backward_angle": "cc",
}  # fmt: skip


def _register_complex_cases() -> None:
    complex_kernels = lambda: _kernels("complex")  # noqa: E731
    for label, dtype, real in (("c64", torch.complex64, torch.float32), ("c128", torch.complex128, torch.float64)):

        def values(kind: str, dtype=dtype, real=real) -> torch.Tensor:
            return torch.empty(1 << 16, dtype=dtype if kind == "c" else real)

        for op in sorted(complex_kernels().UNARY_OPS):
            case(f"complex {op} {label} 2^16", "complex")(
                lambda op=op, dtype=dtype, values=values: complex_kernels().launch_complex(op, values("c"), dtype=dtype)
            )
        for op, kinds in _COMPLEX_BINARY_OPERANDS.items():
            case(f"complex {op} {label} 2^16", "complex")(
                lambda op=op, kinds=kinds, dtype=dtype, values=values: complex_kernels().launch_complex(
                    op, values(kinds[0]), values(kinds[1]), dtype=dtype
                )
            )
    for label, dtype in (("c64", torch.complex64), ("c128", torch.complex128)):
        case(f"complex matmul {label} 256^3", "complex")(
            lambda dtype=dtype: complex_kernels().launch_complex_matmul(
                torch.empty(256, 256, dtype=dtype), torch.empty(256, 256, dtype=dtype)
            )
        )


# ----------------------------------------------------------------------------------------------
# The benchmark suite's calls at its full sizes (shapes read from the benchmark modules)
# ----------------------------------------------------------------------------------------------
#
# These cases never execute their kernels, so inputs are ``torch.empty`` (the 1 GiB inputs of the
# largest elementwise sizes are never touched) and each case declares the least HBM traffic and
# FLOPs of what its benchmark times (``Work``), counted as the benchmark's docstring counts them.

PRECISION_OF = {torch.float64: "fp64", torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}


def _empty(*shape: int, dtype: torch.dtype = torch.float32, layout: torch.memory_format | None = None) -> torch.Tensor:
    tensor = torch.empty(*shape, dtype=dtype)
    return tensor if layout is None else tensor.contiguous(memory_format=layout)


def _bench(name: str, work: Work, aligned_elementwise: bool = False):
    return case(f"bench {name}", "benchmark", suite="benchmarks", work=work, aligned_elementwise=aligned_elementwise)


def _register_benchmark_elementwise_cases() -> None:
    elementwise = lambda: _kernels("elementwise")  # noqa: E731
    calls = {
        "add": (2, lambda a, b: elementwise().launch_binary("add", a, b, out_dtype=a.dtype, compute=a.dtype)),
        "mul": (2, lambda a, b: elementwise().launch_binary("mul", a, b, out_dtype=a.dtype, compute=a.dtype)),
        "relu fwd": (1, lambda a, b: elementwise().launch_unary("relu", a)),
        "relu bwd": (
            2,
            lambda a, b: elementwise().launch_binary("threshold_backward", a, b, out_dtype=a.dtype, compute=a.dtype),
        ),
    }
    for n in bench_elementwise.SIZES:
        for op, (inputs, call) in calls.items():
            work = Work(bytes=(inputs + 1) * n * 4, flops=n, precision="fp32")
            # Every size is a power of two >= 4096: the 128-bit case.
            _bench(f"elementwise {op} fp32 ({n},)", work, aligned_elementwise=True)(
                lambda call=call, n=n: call(_empty(n), _empty(n))
            )
    for n in bench_reduction.SIZES:
        _bench(f"reduction sum fp32 ({n},)", Work((n + 1) * 4, n, "fp32"))(
            lambda n=n: _kernels("reduce").launch_sum(_empty(n), (), False)
        )


def _register_benchmark_matmul_cases() -> None:
    precisions = {"float32": "fp32", "tf32": "tf32", "float16": "fp16", "bfloat16": "bf16"}
    shapes = [(side, side, side) for side in bench_matmul.SQUARE] + list(bench_matmul.MLP_SHAPES)
    for label, dtype, tf32 in bench_matmul.PRECISIONS:
        size = dtype.itemsize
        for m, k, n in shapes:
            work = Work((m * k + k * n + m * n) * size, 2 * m * n * k, precisions[label])
            _bench(f"matmul {label} {m}x{k}x{n}", work)(
                lambda m=m, k=k, n=n, dtype=dtype, tf32=tf32: _kernels("matmul").launch_matmul(
                    _empty(m, k, dtype=dtype), _empty(k, n, dtype=dtype), allow_tf32=tf32
                )
            )
    # The "tma" case's persistent kernel (its "tiled" rows are the square cases above). TMA is sm_90+:
    # under the sm_80 policy the cases launch nothing.
    for label, dtype in bench_matmul.TMA_PRECISIONS:
        for side in bench_matmul.TMA_SQUARE:

            def tma(side=side, dtype=dtype):
                if torch.cuda.get_device_properties(None).major >= 9:  # the capture's stand-in for the device
                    a, b = _empty(side, side, dtype=dtype), _empty(side, side, dtype=dtype)
                    _kernels("matmul_tma").launch_matmul_tma(a, b)

            work = Work(3 * side * side * dtype.itemsize, 2 * side**3, precisions[label])
            _bench(f"matmul_tma {label} {side}x{side}x{side}", work)(tma)


def _register_linalg_cases() -> None:
    factor = lambda: _kernels("linalg_factor")  # noqa: E731
    spectral = lambda: _kernels("linalg_spectral")  # noqa: E731
    # One program per matrix holding it in registers: the largest side (64) is the spill risk.
    for label in ("fp32", "fp64"):
        dtype = DTYPES[label]
        case(f"lu_factor+det {label} 8x64x64", "linalg")(
            lambda dtype=dtype: factor().launch_lu_factor(_randn(8, 64, 64, dtype=dtype), with_det=True)
        )
        case(f"inverse (lu solve) {label} 8x64x64", "linalg")(
            lambda dtype=dtype: factor().launch_lu_solve(_randn(8, 64, 64, dtype=dtype), None)
        )
        case(f"cholesky {label} 8x64x64", "linalg")(
            lambda dtype=dtype: factor().launch_cholesky(_randn(8, 64, 64, dtype=dtype))
        )
        case(f"qr {label} 8x64x64", "linalg")(lambda dtype=dtype: spectral().launch_qr(_randn(8, 64, 64, dtype=dtype)))
        case(f"eigh {label} 8x64x64", "linalg")(
            lambda dtype=dtype: spectral().launch_eigh(_randn(8, 64, 64, dtype=dtype))
        )
        case(f"svd {label} 8x64x64", "linalg")(
            lambda dtype=dtype: _kernels("linalg_svd").launch_svd(_randn(8, 64, 64, dtype=dtype), full_matrices=True)
        )
    # In float32 within a side of 32 the register-block kernels must not spill (kernel_report's
    # REGISTER_BLOCK_SIDE); float64 spills are listed
    case("eigh fp64 8x16x16", "linalg")(lambda: spectral().launch_eigh(_randn(8, 16, 16, dtype=torch.float64)))
    case("svd fp64 8x16x16", "linalg")(
        lambda: _kernels("linalg_svd").launch_svd(_randn(8, 16, 16, dtype=torch.float64), full_matrices=True)
    )
    for label in ("fp32", "fp64"):
        dtype = DTYPES[label]
        case(f"eigh {label} 8x32x32", "linalg")(
            lambda dtype=dtype: spectral().launch_eigh(_randn(8, 32, 32, dtype=dtype))
        )
        case(f"svd {label} 8x32x32", "linalg")(
            lambda dtype=dtype: _kernels("linalg_svd").launch_svd(_randn(8, 32, 32, dtype=dtype), full_matrices=True)
        )
        case(f"inverse (lu solve) {label} 8x32x32", "linalg")(
            lambda dtype=dtype: factor().launch_lu_solve(_randn(8, 32, 32, dtype=dtype), None)
        )
    case("svd fp32 8x40x24", "linalg")(lambda: _kernels("linalg_svd").launch_svd(_randn(8, 40, 24)))
    case("svd fp32 8x24x12", "linalg")(lambda: _kernels("linalg_svd").launch_svd(_randn(8, 24, 12)))
    case("solve_triangular fp32 8x32x32 @ 100 rhs", "linalg")(
        lambda: factor().launch_triangular_solve(_randn(8, 32, 32), _randn(8, 32, 100), upper=False)
    )
    case("solve fp32 8x17x17 @ 3 rhs", "linalg")(lambda: factor().launch_lu_solve(_randn(8, 17, 17), _randn(8, 17, 3)))
    # The small helpers: an empty system's zero info, an empty A's complete Q, LU pivots to a permutation.
    case("solve fp32 8x0x0 (info only)", "linalg")(lambda: factor().launch_lu_solve(_randn(8, 0, 0), _randn(8, 0, 3)))
    case("qr complete fp32 8x16x0 (Q = I)", "linalg")(lambda: spectral().launch_qr(_randn(8, 16, 0), complete=True))
    case("lu pivots to permutation 8x64", "linalg")(
        lambda: _kernels("linalg_lu").launch_pivots_to_permutation(torch.randint(1, 65, (8, 64), dtype=torch.int32), 64)
    )


def _register_benchmark_softmax_cases() -> None:
    softmax = lambda: _kernels("softmax")  # noqa: E731
    rows = bench_softmax.ROWS
    for dtype in bench_softmax.DTYPES:
        label, size = PRECISION_OF[dtype], dtype.itemsize
        for n in bench_softmax.COLUMNS:
            # max, subtract, exp, sum, divide (forward); multiply, sum, subtract, multiply (backward)
            _bench(f"softmax fwd {label} ({rows}, {n})", Work(2 * rows * n * size, 5 * rows * n, "fp32"))(
                lambda n=n, dtype=dtype: softmax().launch_softmax_fwd(_empty(rows, n, dtype=dtype), -1)
            )
            _bench(f"softmax bwd {label} ({rows}, {n})", Work(3 * rows * n * size, 4 * rows * n, "fp32"))(
                lambda n=n, dtype=dtype: softmax().launch_softmax_bwd(
                    _empty(rows, n, dtype=dtype), _empty(rows, n, dtype=dtype), -1
                )
            )


def _register_benchmark_fused_cases() -> None:
    functional = tritongrad.nn.functional
    for dtype in bench_fused.DTYPES:
        label, size, precision = PRECISION_OF[dtype], dtype.itemsize, PRECISION_OF[dtype]
        for m, k, n in bench_fused.LINEAR_SHAPES:
            forward_bytes = (m * k + n * k + n + m * n) * size  # x, W, b read; y written
            _bench(f"fused linear+relu fwd {label} {m}x{k}x{n}", Work(forward_bytes, 2 * m * k * n, precision))(
                lambda m=m, k=k, n=n, dtype=dtype: _kernels("matmul").launch_linear(
                    _empty(m, k, dtype=dtype), _empty(n, k, dtype=dtype), _empty(n, dtype=dtype), activation="relu"
                )
            )

            def linear_fwd_bwd(m=m, k=k, n=n, dtype=dtype):
                inputs = [as_tritongrad(_empty(*s, dtype=dtype), requires_grad=True) for s in ((m, k), (n, k), (n,))]
                y = functional.linear(*inputs)
                tritongrad.autograd.grad(y, inputs, as_tritongrad(_empty(m, n, dtype=dtype)))

            # backward: grad_y, x, W read; grad_x, grad_W, grad_b written
            backward_bytes = (m * n + 2 * m * k + 2 * n * k + n) * size
            _bench(f"fused linear fwd+bwd {label} {m}x{k}x{n}",
                   Work(forward_bytes + backward_bytes, 3 * 2 * m * k * n, precision))(linear_fwd_bwd)  # fmt: skip
        for batch, classes in bench_fused.CROSS_ENTROPY_SHAPES:

            def cross_entropy(batch=batch, classes=classes, dtype=dtype):
                logits = as_tritongrad(_empty(batch, classes, dtype=dtype), requires_grad=True)
                target = as_tritongrad(torch.randint(0, classes, (batch,)))
                tritongrad.autograd.grad(functional.cross_entropy(logits, target), logits)

            # logits read twice, their gradient written once, the targets read (the benchmark's count);
            # ~8 FLOPs per logit (max, exp, sum; softmax minus one-hot)
            work = Work(3 * batch * classes * size + 8 * batch, 8 * batch * classes, "fp32")
            _bench(f"fused cross-entropy fwd+bwd {label} ({batch}, {classes})", work)(cross_entropy)


def _register_benchmark_norm_cases() -> None:
    batch_norm, layer_norm = _kernels("batch_norm"), _kernels("layer_norm")
    eps = bench_norm.EPS
    for dtype in bench_norm.DTYPES:
        label, size = PRECISION_OF[dtype], dtype.itemsize
        shape = bench_norm.BATCH_SHAPE
        numel, channels = math.prod(shape), shape[1]

        def batch_forward(shape=shape, dtype=dtype, channels=channels):
            batch_norm.launch_batch_norm_fwd(_empty(*shape, dtype=dtype), _empty(channels), _empty(channels), None,
                                             None, True, 0.1, eps)  # fmt: skip

        def batch_backward(shape=shape, dtype=dtype, channels=channels):
            batch_norm.launch_batch_norm_bwd(_empty(*shape, dtype=dtype), _empty(*shape, dtype=dtype), _empty(channels),
                                             _empty(channels), _empty(channels), True, (True, True, True))  # fmt: skip

        # one read of each input and one write of each output; ~8 FLOPs per element
        _bench(f"norm batch_norm fwd {label} {shape}", Work(2 * numel * size, 8 * numel, "fp32"))(batch_forward)
        _bench(f"norm batch_norm bwd {label} {shape}", Work(3 * numel * size, 8 * numel, "fp32"))(batch_backward)
        rows, width = bench_norm.ROW_SHAPE
        numel = rows * width
        for rms in (False, True):
            name = "rms_norm" if rms else "layer_norm"

            def row_forward(rms=rms, dtype=dtype, rows=rows, width=width):
                bias = None if rms else _empty(width, dtype=dtype)
                layer_norm.launch_row_norm_fwd(_empty(rows, width, dtype=dtype), 1, _empty(width, dtype=dtype), bias,
                                               eps, rms=rms)  # fmt: skip

            def row_backward(rms=rms, dtype=dtype, rows=rows, width=width):
                mean = None if rms else _empty(rows)
                layer_norm.launch_row_norm_bwd(_empty(rows, width, dtype=dtype), _empty(rows, width, dtype=dtype), 1,
                                               _empty(width, dtype=dtype), mean, _empty(rows), (True, True, not rms),
                                               rms=rms)  # fmt: skip

            shape_text = str((rows, width))
            _bench(f"norm {name} fwd {label} {shape_text}", Work(2 * numel * size, 8 * numel, "fp32"))(row_forward)
            _bench(f"norm {name} bwd {label} {shape_text}", Work(3 * numel * size, 8 * numel, "fp32"))(row_backward)


def _register_benchmark_pool_cases() -> None:
    pool = _kernels("pool")
    for dtype in bench_pool.DTYPES:
        label, size = PRECISION_OF[dtype], dtype.itemsize
        for name, shape, kind in bench_pool.SHAPES:
            window = bench_pool._window(shape, kind)
            pool_kind = "max" if kind == "max" else "avg"
            out_shape = (*shape[:2], *window.output_size)
            numel, out_numel = math.prod(shape), math.prod(out_shape)
            moved = numel * size + out_numel * size + (8 * out_numel if kind == "max" else 0)

            def forward(shape=shape, window=window, pool_kind=pool_kind, dtype=dtype):
                pool.launch_pool2d_fwd(_empty(*shape, dtype=dtype), window, kind=pool_kind)

            def backward(shape=shape, out_shape=out_shape, window=window, pool_kind=pool_kind, dtype=dtype):
                indices = torch.empty(out_shape, dtype=torch.int64) if pool_kind == "max" else None
                pool.launch_pool2d_bwd(_empty(*out_shape, dtype=dtype), indices, shape[2:], window, kind=pool_kind)

            # ~one FLOP per window element read: the input once per overlapping window (~numel)
            _bench(f"pool {name} fwd {label} {shape}", Work(moved, numel, "fp32"))(forward)
            _bench(f"pool {name} bwd {label} {shape}", Work(moved, numel, "fp32"))(backward)


def _register_benchmark_conv_cases() -> None:
    conv = _kernels("conv")
    for precision, dtype, allow_tf32 in bench_conv.PRECISIONS:
        size = dtype.itemsize
        for label, n, c, h, w, oc, k, stride, padding in bench_conv.SHAPES:
            oh, ow = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
            flops = 2 * n * oc * oh * ow * c * k * k
            moved = (n * c * h * w + oc * c * k * k + n * oc * oh * ow) * size  # x, weight, out (or their grads)
            pair, pad = (stride, stride), (padding, padding)
            for layout, memory_format in bench_conv.LAYOUTS.items():
                x = lambda n=n, c=c, h=h, w=w, dtype=dtype, f=memory_format: _empty(n, c, h, w, dtype=dtype, layout=f)  # noqa: E731
                weight = lambda oc=oc, c=c, k=k, dtype=dtype, f=memory_format: _empty(oc, c, k, k, dtype=dtype,  # noqa: E731
                                                                                      layout=f)  # fmt: skip
                grad = lambda n=n, oc=oc, oh=oh, ow=ow, dtype=dtype, f=memory_format: _empty(n, oc, oh, ow, dtype=dtype,  # noqa: E731
                                                                                             layout=f)  # fmt: skip
                passes = {
                    "fwd": lambda x=x, weight=weight, pair=pair, pad=pad, tf32=allow_tf32: conv.launch_conv2d(
                        x(), weight(), None, pair, pad, allow_tf32=tf32),
                    "input grad": lambda grad=grad, weight=weight, hw=(h, w), pair=pair, pad=pad, tf32=allow_tf32:
                        conv.launch_conv2d_input_grad(grad(), weight(), hw, pair, pad, allow_tf32=tf32),
                    "weight grad": lambda grad=grad, x=x, kk=(k, k), pair=pair, pad=pad, tf32=allow_tf32:
                        conv.launch_conv2d_weight_grad(grad(), x(), kk, pair, pad, allow_tf32=tf32),
                }  # fmt: skip
                for which, run in passes.items():
                    _bench(f"conv {which} {precision} {label} N={n} {layout}", Work(moved, flops, precision))(run)


def _register_benchmark_attention_cases() -> None:
    attention = _kernels("attention")
    for dtype in bench_attention.DTYPES:
        label, size = PRECISION_OF[dtype], dtype.itemsize
        for d in bench_attention.HEAD_DIMS:
            for causal in (False, True):
                for n in bench_attention.SEQUENCES:
                    batch, heads = max(1, bench_attention.TOKENS // n), bench_attention.WIDTH // d
                    shape = (batch, heads, n, d)
                    elements, rows = math.prod(shape), batch * heads * n
                    flops = 4.0 * batch * heads * n * n * d * (0.5 if causal else 1.0)
                    mask = "causal" if causal else "full"
                    name = f"attention {{}} {label} B{batch} H{heads} N{n} d{d} {mask}"

                    def forward(shape=shape, dtype=dtype, causal=causal):
                        q, k, v = (_empty(*shape, dtype=dtype) for _ in range(3))
                        attention.launch_attention_fwd(q, k, v, causal=causal)

                    def forward_backward(shape=shape, dtype=dtype, causal=causal):
                        q, k, v, grad = (_empty(*shape, dtype=dtype) for _ in range(4))
                        out, lse = attention.launch_attention_fwd(q, k, v, causal=causal)
                        attention.launch_attention_bwd(grad, q, k, v, out, lse, causal=causal)

                    # forward: q, k, v read, out and the fp32 log-sum-exp written; the backward adds
                    # q, k, v, out, grad_out and lse read, dq, dk, dv written
                    forward_bytes = 4 * elements * size + 4 * rows
                    backward_bytes = 8 * elements * size + 4 * rows
                    factor = 1.0 + bench_attention.BACKWARD_FACTOR
                    _bench(name.format("fwd"), Work(forward_bytes, flops, label))(forward)
                    _bench(name.format("fwd+bwd"), Work(forward_bytes + backward_bytes, flops * factor, label))(
                        forward_backward
                    )


def _register_benchmark_training_cases() -> None:
    dims, batch = bench_training.DIMS, bench_training.BATCH
    parameters = sum(i * o + o for i, o in zip(dims, dims[1:]))
    activations = batch * sum(dims)
    for optimizer, states in (("sgd", 1), ("adam", 2)):
        # Weights read by the forward and the input gradients, gradients written, then the step reads
        # parameters, gradients and states and writes parameters and states; activations written
        # once and read back by the backward; fp32 throughout.
        moved = 4 * (parameters * (3 + 3 + 2 * states) + 2 * activations)

        def step(optimizer=optimizer):
            for set_to_none in (True, False):  # a plain step, and the CUDA-graph variant's
                side = bench_training.make_side("tritongrad", dims, batch, optimizer=optimizer,
                                                set_to_none=set_to_none)  # fmt: skip
                side.step()  # the first step creates the optimizer state
                side.step()

        shape = "-".join(map(str, dims))
        _bench(f"training mlp step ({optimizer}) fp32 batch {batch} {shape}",
               Work(moved, bench_training.step_flops(dims, batch), "fp32"))(step)  # fmt: skip


def _register_benchmark_fused_ce_cases() -> None:
    for dtype in bench_fused_ce.DTYPES:
        label, size = PRECISION_OF[dtype], dtype.itemsize
        for n in bench_fused_ce.TOKENS:
            for h in bench_fused_ce.HIDDEN:
                for v in bench_fused_ce.VOCABULARIES:

                    def fused(n=n, h=h, v=v, dtype=dtype):
                        shapes = ((n, h), (v, h), (v,))
                        inputs = [as_tritongrad(_empty(*s, dtype=dtype), requires_grad=True) for s in shapes]
                        target = as_tritongrad(torch.randint(0, v, (n,)))
                        loss = tritongrad.nn.functional.linear_cross_entropy(inputs[0], inputs[1], target, inputs[2])
                        tritongrad.autograd.grad(loss, inputs)

                    # x, W, b read and their gradients written, the targets read; three N x H x V products
                    work = Work((2 * n * h + 2 * v * h + 2 * v) * size + 8 * n, 3 * 2 * n * h * v, label)
                    _bench(f"fused_ce linear+CE fwd+bwd {label} N{n} H{h} V{v}", work)(fused)


def _register_benchmark_gpt_step_cases() -> None:
    for shape in bench_gpt_step.SHAPES:
        for dtype in bench_gpt_step.DTYPES:
            label, size = PRECISION_OF[dtype], dtype.itemsize

            def step(shape=shape, dtype=dtype):
                gpt = example_module("tiny_gpt")
                model = gpt.TinyGPT(shape.vocab, shape.context, shape.width, shape.heads, shape.layers).to(dtype)
                optimizer = tritongrad.optim.AdamW(model.parameters(), lr=bench_gpt_step.LR, betas=bench_gpt_step.BETAS,
                                                   weight_decay=bench_gpt_step.WEIGHT_DECAY)  # fmt: skip
                tokens = _data(shape.batch, shape.context, integers=shape.vocab)
                targets = _data(shape.batch, shape.context, integers=shape.vocab)
                for _ in range(2):  # the first step creates the optimizer state
                    model.loss(tokens, targets).backward()
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)

            # FLOPs: 6 per parameter per token (forward and backward of every product) plus the causal
            # attention's 3.5 x 2 x T x context x width per layer. Bytes (an estimate): AdamW reads and writes
            # parameters and both moments and reads the gradient, the passes read the weights twice and write
            # the gradient (10 passes over the parameters), and ~14 activations of width per layer and token
            # are written by the forward and read back by the backward.
            tokens = shape.batch * shape.context
            width, layers = shape.width, shape.layers
            parameters = shape.vocab * width + shape.context * width + layers * (12 * width * width + 13 * width)
            flops = 6 * parameters * tokens + layers * 3.5 * 2 * tokens * shape.context * width
            moved = 10 * parameters * size + 2 * 14 * layers * tokens * width * size
            _bench(f"gpt_step AdamW step {label} {shape}", Work(moved, flops, label))(step)


# ----------------------------------------------------------------------------------------------
# The examples: one training step and the evaluation, at their default sizes and their GPU sizes
# ----------------------------------------------------------------------------------------------
#
# The models come from the example scripts themselves, so the report follows them when they change.
# Inputs are uninitialised and the kernels are not executed: only shapes, dtypes and layouts reach
# the compiler.

EXAMPLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
# Libraries the examples use only in main() (data, plots, progress bars). A venv without them (the
# oldest-triton CI venv) still builds the models: the missing ones are stood in for while loading.
EXAMPLE_ONLY_LIBRARIES = ("matplotlib", "sklearn", "tqdm")
# scikit-learn's digits: 1,797 images, split 80/20 (train_test_split rounds the test share up).
DIGITS_TRAIN, DIGITS_TEST = 1437, 360


class _AbsentLibrary(types.ModuleType):
    """Any attribute, call or submodule of a library that is not installed: never used by a model."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _AbsentLibrary(f"{self.__name__}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self


class _AbsentLibraryFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in self.names:  # a package, so that its submodules import too
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return _AbsentLibrary(spec.name)

    def exec_module(self, module) -> None:
        pass


@functools.cache
def example_module(name: str) -> types.ModuleType:
    """``examples/<name>.py`` as a module (its ``main()`` is not run)."""
    missing = {library for library in EXAMPLE_ONLY_LIBRARIES if importlib.util.find_spec(library) is None}
    finder = _AbsentLibraryFinder(missing)
    path = os.path.join(EXAMPLES_DIR, f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"tritongrad_example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.meta_path.append(finder)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.meta_path.remove(finder)
        for loaded in [m for m in sys.modules if m.split(".")[0] in missing]:
            del sys.modules[loaded]
    return module


def _data(*shape: int, integers: int | None = None) -> Any:
    """A tritongrad tensor of uninitialised fp32 data, or of class indices below ``integers``."""
    data = torch.randint(0, integers, shape) if integers else torch.empty(*shape)
    return as_tritongrad(data)


def _example(name: str):
    return case(f"example {name}", "example", suite="examples")


def _register_example_cases() -> None:
    nn, functional = tritongrad.nn, tritongrad.nn.functional

    def classifier_step(model, optimizer, x) -> None:
        """The digits examples' step: forward, cross-entropy, backward, AdamW; and the running
        training accuracy (argmax == labels, summed)."""
        y = _data(x.shape[0], integers=10)
        logits = model(x)
        loss = functional.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        (logits.argmax(dim=1) == y).float().sum()

    def evaluate(model, image_shape: tuple[int, ...]) -> None:
        """The digits examples' accuracy: argmax == labels, averaged, on the training and test sets."""
        model.eval()
        with tritongrad.no_grad():
            for count in (DIGITS_TRAIN, DIGITS_TEST):
                (model(_data(count, *image_shape)).argmax(dim=1) == _data(count, integers=10)).float().mean()
        model.train()

    @_example("mlp_digits 64-128-10 batch 64 (AdamW)")
    def _mlp_digits():
        # mlp_digits.py builds this model in main(); its batches are 64 rows of a shuffled (1437, 64)
        # tensor, gathered by index, and a last one of 1437 % 64.
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
        optimizer = tritongrad.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=1e-4)
        features = _data(DIGITS_TRAIN, 64)
        for batch in (64, DIGITS_TRAIN % 64):
            classifier_step(model, optimizer, features[_data(batch, integers=DIGITS_TRAIN)])
        evaluate(model, (64,))

    @_example("cnn_digits DigitsResNet(24) batch 64 (AdamW)")
    def _cnn_digits():
        model = example_module("cnn_digits").DigitsResNet(24)
        optimizer = tritongrad.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
        for batch in (64, DIGITS_TRAIN % 64):
            classifier_step(model, optimizer, _data(batch, 1, 8, 8))
        evaluate(model, (1, 8, 8))

    def tiny_gpt(task: str, digits: int, batch: int, width: int, heads: int, layers: int):
        def run():
            gpt = example_module("tiny_gpt")
            train, test = gpt.make_split(task, digits, 0.1, 50_000, 0)
            prompt, context = gpt.prompt_length(task, digits), train.shape[1] - 1
            model = gpt.TinyGPT(len(gpt.VOCAB), context, width, heads, layers, pack=1)  # pack is 1 on a GPU
            decay = [p for p in model.parameters() if p.dim() >= 2]
            no_decay = [p for p in model.parameters() if p.dim() < 2]
            optimizer = tritongrad.optim.AdamW(
                [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3,
                betas=(0.9, 0.98),
            )  # fmt: skip
            inputs, targets = gpt.inputs_and_targets(train[:batch], prompt)
            loss = model.loss(inputs, targets)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            # exact_match's teacher-forced evaluation, in chunks of 512 problems
            model.eval()
            with tritongrad.no_grad():
                for start in range(0, min(len(test), 1024), 512):
                    chunk = tritongrad.tensor(test[start : start + 512, :-1])
                    functional.linear(model.hidden(chunk)[:, prompt - 1 :], model.tok_emb.weight).argmax(dim=-1)
                # one step of greedy decoding on a few prompts
                prompts = tritongrad.tensor(test[:4, :prompt])
                tritongrad.cat([prompts, model.next_logits(prompts).argmax(dim=-1, keepdim=True)], dim=1)
            model.train()

        return run

    _example("tiny_gpt reverse 4 digits, batch 32, width 32, 2 heads, 1 layer (default)")(
        tiny_gpt("reverse", 4, 32, 32, 2, 1)
    )
    # tiny_gpt.py's documented GPU run: --task add --digits 2 --batch-size 256 --width 128 --heads 4 --layers 2
    _example("tiny_gpt add 2 digits, batch 256, width 128, 4 heads, 2 layers (GPU size)")(
        tiny_gpt("add", 2, 256, 128, 4, 2)
    )


for _register in (
    _register_elementwise_cases,
    _register_activation_cases,
    _register_matmul_cases,
    _register_matmul_tma_cases,
    _register_conv_cases,
    _register_reduce_cases,
    _register_softmax_cases,
    _register_attention_cases,
    _register_pool_cases,
    _register_norm_cases,
    _register_loss_cases,
    _register_ctc_loss_cases,
    _register_rnn_cases,
    _register_complex_cases,
    _register_optim_cases,
    _register_random_cases,
    _register_creation_cases,
    _register_indexing_cases,
    _register_ordering_cases,
    _register_counting_cases,
    _register_embedding_cases,
    _register_linalg_cases,
    _register_benchmark_elementwise_cases,
    _register_benchmark_matmul_cases,
    _register_benchmark_softmax_cases,
    _register_benchmark_fused_cases,
    _register_benchmark_norm_cases,
    _register_benchmark_pool_cases,
    _register_benchmark_conv_cases,
    _register_benchmark_attention_cases,
    _register_benchmark_training_cases,
    _register_benchmark_fused_ce_cases,
    _register_benchmark_gpt_step_cases,
    _register_example_cases,
):
    _register()


def select_cases(patterns: list[str] | None, suites: list[str] | None = None) -> list[Case]:
    """The cases of ``suites`` (all when None) named by ``patterns`` (all when None): each pattern is
    a case name, a family (``matmul``), or else a substring of case names (``fp16``)."""
    for suite in suites or []:
        if suite not in SUITES:
            raise ValueError(f"unknown kernel-report suite {suite!r}; the suites are {', '.join(SUITES)}")
    available = [c for c in CASES.values() if suites is None or c.suite in suites]
    if not patterns:
        return available
    chosen: dict[str, Case] = {}
    for pattern in patterns:
        matches = [c for c in available if pattern == c.name]
        matches = matches or [c for c in available if pattern == c.family]
        matches = matches or [c for c in available if pattern in c.name]
        if not matches:
            raise ValueError(f"no kernel-report case matches {pattern!r}; see --list")
        chosen.update((c.name, c) for c in matches)
    return list(chosen.values())


# ----------------------------------------------------------------------------------------------
# Capturing
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Capture:
    launches: list[dict[str, Any]]  # unique (case, arch, kernel, arguments); launch["index"] is its position
    failures: list[dict[str, str]]  # cases whose launcher raised
    seconds: dict[str, float]  # interpreter time per case, all archs together
    grid_functions: dict[int, Callable[[dict[str, Any]], list[int]]]  # launch index -> grid of constexprs

    def programs(self, index: int, constexprs: dict[str, Any]) -> int | None:
        """Program instances of launch ``index`` compiled with ``constexprs`` (None when unknown:
        a grid function that needs more than the launch's scalars and block sizes)."""
        launch = self.launches[index]
        if "grid" in launch:
            grid = launch["grid"]
        else:
            try:
                grid = self.grid_functions[index](constexprs)
            except (KeyError, TypeError):
                return None
        return math.prod(int(n) for n in grid)


def capture(cases: list[Case], archs: list[int]) -> Capture:
    """Runs every case under each arch's GPU launch policy and records the launches.

    Cases whose kernels are not executed discard the launchers' device-side input checks: the
    buffers those checks would read back were never written."""
    if not runtime.is_interpreter():
        raise RuntimeError(
            "recording launches needs Triton's interpreter: set TRITONGRAD_DEVICE=cpu before tritongrad is imported"
        )
    launches: list[dict[str, Any]] = []
    grid_functions: dict[int, Callable[[dict[str, Any]], list[int]]] = {}
    failures: list[dict[str, str]] = []
    seconds: dict[str, float] = {}
    seen: set[str] = set()
    for arch in archs:
        with gpu_launch_policy(GPU_MODELS[arch]):
            for item in cases:
                torch.manual_seed(0)
                start = time.perf_counter()
                checks = contextlib.nullcontext() if item.execute else deferred_checks(True, discard=True)
                with recording_launches(item.execute) as recorded, checks:
                    try:
                        item.run()
                    except Exception as error:  # noqa: BLE001  (reported, the other cases go on)
                        message = "".join(traceback.format_exception_only(type(error), error)).strip()
                        failures.append({"case": item.name, "arch": f"sm_{arch}", "error": message[-1000:]})
                seconds[item.name] = seconds.get(item.name, 0.0) + time.perf_counter() - start
                for launch in recorded:
                    grid_function = launch.pop("grid_function", None)
                    launch.update(case=item.name, family=item.family, arch=arch)
                    key = json.dumps(launch, sort_keys=True)
                    if key not in seen:
                        seen.add(key)
                        launch["index"] = len(launches)
                        if grid_function is not None:
                            grid_functions[launch["index"]] = grid_function
                        launches.append(launch)
    return Capture(launches, failures, seconds, grid_functions)


@functools.cache
def all_kernels() -> list[tuple[str, str]]:
    """(module, name) of every module-level kernel in kernels/ (objects named ``*_kernel``)."""
    package = importlib.import_module(KERNELS_PACKAGE)
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module_name = f"{KERNELS_PACKAGE}.{info.name}"
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            function = value
            while hasattr(function, "fn"):
                function = function.fn
            if (
                name.endswith("_kernel")
                and function is not value
                and getattr(function, "__module__", None) == module_name
            ):
                found.append((module_name, name))
    return sorted(found)


def uncaptured_kernels(launches: list[dict[str, Any]]) -> list[str]:
    """Kernels of kernels/ that no recorded launch reached."""
    reached = {(launch["module"], launch["kernel"]) for launch in launches}
    return [f"{module.rsplit('.', 1)[-1]}.{name}" for module, name in all_kernels() if (module, name) not in reached]
